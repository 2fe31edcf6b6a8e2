/* hpsearch workers: the workers the coordinator knows. */
#include "cli.h"
#include "client.h"
#include "output.h"

#include <getopt.h>

static int cmd_workers(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_workers = {
    .name = "workers",
    .usage = "workers [--format table|csv|json]",
    .summary = "list connected workers: host, pid, slots, running trials, last seen",
    .help = "Columns: id, host, pid, slots, running (trials now), last_seen_s\n"
            "(seconds since its last message) and state (alive, or lost when its\n"
            "heartbeats stopped).\n"
            "\n"
            "Example:\n"
            "  hpsearch workers --format csv\n",
    .exec = cmd_workers,
};

static int cmd_workers(hp_cli_t *cli, int argc, char **argv)
{
    hp_cli_format_t fmt;
    int rc_opt = hp_cli_parse_format_only(cli, &hp_cmd_workers, argc, argv, HP_FORMATS_ALL, &fmt);
    if (rc_opt)
        return rc_opt;
    if (optind < argc)
        return hp_cli_usage_error(cli, &hp_cmd_workers, "unexpected argument '%s'", argv[optind]);
    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_workers, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__ListWorkers q = HPSEARCH__LIST_WORKERS__INIT;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__LIST_WORKERS, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__WORKERS_REPLY, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_workers, "%s", err);
    static const char *const cols[] = {"id",      "host",        "pid",  "slots",
                                       "running", "last_seen_s", "state"};
    hp_table_t t;
    hp_table_init(&t, sizeof cols / sizeof cols[0], cols);
    const Hpsearch__WorkersReply *r = rep->workers_reply;
    for (size_t i = 0; i < r->n_workers; i++) {
        const Hpsearch__WorkerInfo *w = r->workers[i];
        hp_table_add_int(&t, (long long)w->worker_id);
        hp_table_add_str(&t, w->hostname);
        hp_table_add_int(&t, w->pid);
        hp_table_add_int(&t, w->slots);
        hp_table_add_int(&t, w->running);
        hp_table_add_num(&t, (double)(long long)(w->last_seen_s * 10 + 0.5) / 10);
        hp_table_add_str(&t, w->state);
    }
    if (fmt == HP_FORMAT_TABLE && r->n_workers == 0)
        fputs("no workers connected\n", cli->out);
    else
        hp_table_print(&t, fmt, cli->out);
    hp_table_fini(&t);
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
