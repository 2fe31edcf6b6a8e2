/* hpsearch resume: continue a cancelled or failed study, through the
 * coordinator, or (--db) on the database file when none runs on it. */
#include "cli.h"
#include "client.h"
#include "query.h"

#include "err.h"
#include "lockfile.h"
#include "store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_resume(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_resume = {
    .name = "resume",
    .usage = "resume [--db PATH] STUDY",
    .summary = "continue a cancelled or failed study",
    .help = "STUDY is the study's name or id. The study runs again: its state goes\n"
            "back to running and its reason is cleared; the trials that were\n"
            "cancelled with it (pending, or stopped while running) are pending again,\n"
            "with their numbers and parameters, and run before new ones. Completed\n"
            "and failed trials stay as they are. A completed study is continued by\n"
            "raising its max_trials instead (submit or run its spec again). Exits 1\n"
            "if the study does not exist, is running or completed, or still has\n"
            "trials stopping from the cancel (wait for them, then resume).\n"
            "\n"
            "Options:\n"
            "  --db PATH   resume it in the database file itself, for a study run with\n"
            "              `hpsearch run --db PATH` (no coordinator may have the file\n"
            "              open); then run its spec again to continue it\n"
            "\n"
            "Example:\n"
            "  hpsearch cancel mnist-lr && hpsearch resume mnist-lr\n"
            "  hpsearch resume --db studies.db mnist-lr && hpsearch run mnist.yaml --db studies.db\n",
    .exec = cmd_resume,
};

/* The study's id in st: by id when name_or_id is all digits and one has
 * it, else by name; HP_ENOENT with did-you-mean (query.h's words). */
static int find_study(hp_cli_t *cli, hp_store_t *st, const char *db, const char *name_or_id,
                      hp_study_t *out, char *err, size_t errlen)
{
    char *end;
    long long id = strtoll(name_or_id, &end, 10);
    int rc = HP_ENOENT;
    if (*name_or_id && *end == '\0')
        rc = hp_store_study_get(st, id, out, err, errlen);
    if (rc == HP_ENOENT)
        rc = hp_store_study_get_by_name(st, name_or_id, out, err, errlen);
    if (rc == HP_ENOENT) {
        hp_query_src_t src = {.cli = cli, .db = db};
        return hp_query_no_study(&src, name_or_id, err, errlen);
    }
    return rc;
}

/* resume --db: the writer's lock (no coordinator may have the file), then
 * the same change the coordinator makes (hp_store_study_resume). */
static int resume_file(hp_cli_t *cli, const char *db, const char *name)
{
    char err[2048];
    hp_lock_owner_t me;
    hp_lock_owner_self(&me, "hpsearch resume");
    hp_lockfile_t lk;
    int rc = hp_lockfile_acquire(&lk, db, &me, NULL, err, sizeof err);
    if (rc == HP_EBUSY)
        return hp_cli_fail(cli, &hp_cmd_resume,
                           "%s; resume the study through it: hpsearch resume %s (without --db)",
                           err, name);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    hp_store_t *st = NULL;
    rc = hp_store_open(&st, db, 0, err, sizeof err);
    hp_study_t study = {0};
    char note[300] = "";
    if (rc == 0 && (rc = find_study(cli, st, db, name, &study, err, sizeof err)) == 0)
        rc = hp_store_study_resume(st, study.id, NULL, note, sizeof note, err, sizeof err);
    if (st)
        hp_store_close(st);
    hp_lockfile_release(&lk);
    if (rc < 0) {
        hp_study_fini(&study);
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    }
    fprintf(cli->out,
            "study '%s' resumed: %s; run its spec again to continue it (hpsearch run SPEC --db "
            "%s)\n",
            study.name, note, db);
    hp_study_fini(&study);
    return HP_EXIT_OK;
}

static int cmd_resume(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, ":d:", opts, NULL)) != -1) {
        if (ch == 'd')
            db = optarg;
        else
            return hp_cli_bad_option(cli, &hp_cmd_resume, ch, argc, argv);
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_resume, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_resume, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = argv[optind];
    if (db)
        return resume_file(cli, db, study);
    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__ResumeStudy q = HPSEARCH__RESUME_STUDY__INIT;
    q.study = (char *)study;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__RESUME, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    const char *why = rep->ack->reason && *rep->ack->reason ? rep->ack->reason : "done";
    fprintf(cli->out, "study '%s' resumed: %s\n", study, why);
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
