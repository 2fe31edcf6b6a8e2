/* hpsearch status: every study (or one) with its trial counts and best value,
 * from the coordinator (STATUS) or, with --db, from the database file. */
#include "cli.h"
#include "client.h"
#include "output.h"
#include "query.h"

#include "err.h"
#include "store.h"
#include "vec.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_status(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_status = {
    .name = "status",
    .usage = "status [--format table|csv|json] [--db PATH] [STUDY]",
    .summary = "show studies: state, trial counts, best value so far",
    .help = "STUDY is a study's name or id; without it every study is listed.\n"
            "`done` counts trials that reached a final state (completed, failed,\n"
            "pruned, cancelled) out of the study's max_trials.\n"
            "A study that ended other than completed (failed, cancelled, stopped)\n"
            "is followed by why, e.g. the first error of the trials that made it\n"
            "give up (search.max_failures).\n"
            "csv and json carry every field: id, name, state, metric, goal,\n"
            "max_trials, the count per trial state, best_value, best_number and\n"
            "best_params (null when no trial completed yet), and reason (null\n"
            "when there is none).\n"
            "\n"
            "Options:\n"
            "  --db PATH      read the database file directly (read-only) instead of\n"
            "                 asking the coordinator; the output is the same\n"
            "\n"
            "Example:\n"
            "  hpsearch status\n"
            "  hpsearch status --format json mnist-lr\n",
    .exec = cmd_status,
};

static void table_row(hp_table_t *t, const Hpsearch__StudyStatus *s)
{
    char done[64];
    unsigned fin = s->completed + s->failed + s->pruned + s->cancelled;
    snprintf(done, sizeof done, "%u/%u", fin, s->max_trials);
    hp_table_add_int(t, (long long)s->study_id);
    hp_table_add_str(t, s->name);
    hp_table_add_str(t, s->state);
    hp_table_add_str(t, done);
    hp_table_add_int(t, s->running);
    hp_table_add_int(t, s->pending);
    hp_table_add_int(t, s->completed);
    hp_table_add_int(t, s->failed);
    hp_table_add_int(t, s->pruned);
    hp_table_add_int(t, s->cancelled);
    if (s->has_best)
        hp_table_add_num(t, s->best_value);
    else
        hp_table_add_null(t);
    if (s->has_best)
        hp_table_add_int(t, s->best_number);
    else
        hp_table_add_null(t);
    char obj[300];
    snprintf(obj, sizeof obj, "%s %s", s->goal, s->metric);
    hp_table_add_str(t, obj);
}

static void full_row(hp_table_t *t, const Hpsearch__StudyStatus *s)
{
    hp_table_add_int(t, (long long)s->study_id);
    hp_table_add_str(t, s->name);
    hp_table_add_str(t, s->state);
    hp_table_add_str(t, s->metric);
    hp_table_add_str(t, s->goal);
    hp_table_add_int(t, s->max_trials);
    hp_table_add_int(t, s->pending);
    hp_table_add_int(t, s->running);
    hp_table_add_int(t, s->completed);
    hp_table_add_int(t, s->failed);
    hp_table_add_int(t, s->pruned);
    hp_table_add_int(t, s->cancelled);
    if (s->has_best) {
        hp_table_add_num(t, s->best_value);
        hp_table_add_int(t, s->best_number);
        hp_table_add_str(t, s->best_params_json);
    } else {
        hp_table_add_null(t);
        hp_table_add_null(t);
        hp_table_add_null(t);
    }
    if (s->reason && *s->reason)
        hp_table_add_str(t, s->reason);
    else
        hp_table_add_null(t);
}

/* Under the table: why each study that ended otherwise than completed
 * ended so (a reason is long; a column would swamp the table). */
static void print_reasons(FILE *out, Hpsearch__StudyStatus *const *studies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Hpsearch__StudyStatus *s = studies[i];
        if (s->reason && *s->reason && strcmp(s->state, "completed") != 0)
            fprintf(out, "study '%s' %s: %s\n", s->name, s->state, s->reason);
    }
}

/* What STATUS answers, read from the database file the way the daemon
 * reads it (the same store calls as control.c's on_status), so --db and
 * the coordinator print the same. */
typedef struct local_status {
    HP_VEC(Hpsearch__StudyStatus *) list;
    hp_store_t *store;
    int rc;
    char *err;
    size_t errlen;
} local_status_t;

static int local_add(void *data, const hp_study_t *st)
{
    local_status_t *l = data;
    Hpsearch__StudyStatus *o = calloc(1, sizeof *o);
    HP_ASSERT(o != NULL);
    hpsearch__study_status__init(o);
    o->study_id = (uint64_t)st->id;
    o->name = strdup(st->name);
    o->state = strdup(hp_study_state_name(st->state));
    o->max_trials = (uint32_t)st->max_trials;
    o->goal = strdup(hp_goal_name(st->goal));
    o->metric = strdup(st->metric);
    o->reason = strdup(st->reason ? st->reason : "");
    int64_t counts[HP_TRIAL_STATE_COUNT_] = {0};
    int rc = hp_store_trial_count(l->store, st->id, counts, l->err, l->errlen);
    if (rc == 0) {
        o->pending = (uint32_t)counts[HP_TRIAL_PENDING];
        o->running = (uint32_t)counts[HP_TRIAL_RUNNING];
        o->completed = (uint32_t)counts[HP_TRIAL_COMPLETED];
        o->failed = (uint32_t)counts[HP_TRIAL_FAILED];
        o->pruned = (uint32_t)counts[HP_TRIAL_PRUNED];
        o->cancelled = (uint32_t)counts[HP_TRIAL_CANCELLED];
    }
    hp_trial_t best;
    int brc = rc == 0 ? hp_store_trial_best(l->store, st->id, &best, l->err, l->errlen) : rc;
    if (brc == 0) {
        o->has_best = 1;
        o->best_value = best.value;
        o->best_number = (uint32_t)best.number;
        o->best_params_json = strdup(best.params);
        hp_trial_fini(&best);
    } else {
        o->best_params_json = strdup("");
        if (brc != HP_ENOENT)
            rc = brc;
    }
    HP_VEC_PUSH(l->list, o);
    if (rc < 0)
        l->rc = rc;
    return rc < 0 ? 1 : 0;
}

static void local_free(local_status_t *l)
{
    for (size_t i = 0; i < l->list.n; i++) {
        Hpsearch__StudyStatus *o = l->list.v[i];
        free(o->name);
        free(o->state);
        free(o->goal);
        free(o->metric);
        free(o->reason);
        free(o->best_params_json);
        free(o);
    }
    free(l->list.v);
    hp_store_close(l->store);
}

/* the study the daemon's STATUS would find: an all-digit argument is an
 * id, anything else a name */
static int local_read(const hp_cli_t *cli, const char *db, const char *study, local_status_t *l,
                      char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->err = err;
    l->errlen = errlen;
    int rc = hp_store_open(&l->store, db, HP_STORE_READONLY, err, errlen);
    if (rc < 0)
        return rc;
    if (!*study)
        return (rc = hp_store_study_list(l->store, local_add, l, err, errlen)) < 0 ? rc : l->rc;
    char *end;
    long long id = strtoll(study, &end, 10);
    hp_study_t st;
    rc = *end == '\0' ? hp_store_study_get(l->store, id, &st, err, errlen)
                      : hp_store_study_get_by_name(l->store, study, &st, err, errlen);
    if (rc == HP_ENOENT) {
        hp_query_src_t src = {.cli = cli, .db = db};
        return hp_query_no_study(&src, study, err, errlen);
    }
    if (rc == 0) {
        local_add(l, &st);
        hp_study_fini(&st);
        rc = l->rc;
    }
    return rc;
}

static int cmd_status(hp_cli_t *cli, int argc, char **argv)
{
    hp_cli_format_t fmt;
    const char *db;
    int code = hp_cli_parse_format_db(cli, &hp_cmd_status, argc, argv, HP_FORMATS_ALL, &fmt, &db);
    if (code)
        return code;
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_status, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = optind < argc ? argv[optind] : "";

    char err[1024];
    Hpsearch__Envelope *rep = NULL;
    local_status_t local = {0};
    Hpsearch__StudyStatus *const *studies;
    size_t n_studies;
    if (db) {
        if (local_read(cli, db, study, &local, err, sizeof err) < 0) {
            local_free(&local);
            return hp_cli_fail(cli, &hp_cmd_status, "%s", err);
        }
        studies = local.list.v;
        n_studies = local.list.n;
    } else {
        hp_client_t *cl;
        if (hp_client_open(&cl, cli, err, sizeof err) < 0)
            return hp_cli_fail(cli, &hp_cmd_status, "%s", err);
        Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__StatusRequest q = HPSEARCH__STATUS_REQUEST__INIT;
        q.study = (char *)study;
        hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__STATUS, &q);
        int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__STATUS_REPLY, &rep, err, sizeof err);
        hp_client_close(cl);
        if (rc < 0)
            return hp_cli_fail(cli, &hp_cmd_status, "%s", err);
        studies = rep->status_reply->studies;
        n_studies = rep->status_reply->n_studies;
    }

    hp_table_t t;
    if (fmt == HP_FORMAT_TABLE) {
        /* every state that counts toward done, so the columns add up */
        static const char *const cols[] = {"id",        "name",      "state",     "done",
                                           "running",   "pending",   "completed", "failed",
                                           "pruned",    "cancelled", "best",      "best_trial",
                                           "objective"};
        hp_table_init(&t, sizeof cols / sizeof cols[0], cols);
    } else {
        static const char *const cols[] = {
            "id",      "name",      "state",     "metric",    "goal",
            "max_trials", "pending", "running",  "completed", "failed",
            "pruned",  "cancelled", "best_value", "best_number", "best_params", "reason"};
        hp_table_init(&t, sizeof cols / sizeof cols[0], cols);
        hp_table_set_raw(&t, 14);
    }
    for (size_t i = 0; i < n_studies; i++)
        (fmt == HP_FORMAT_TABLE ? table_row : full_row)(&t, studies[i]);
    if (fmt == HP_FORMAT_TABLE && n_studies == 0)
        fputs("no studies yet (submit one with `hpsearch submit SPEC`)\n", cli->out);
    else
        hp_table_print(&t, fmt, cli->out);
    if (fmt == HP_FORMAT_TABLE)
        print_reasons(cli->out, studies, n_studies);
    hp_table_fini(&t);
    hp_proto_free(rep);
    local_free(&local);
    return HP_EXIT_OK;
}
