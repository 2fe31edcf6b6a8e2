/* hpsearch submit: validate a study spec locally, then hand it to the daemon. */
#include "cli.h"
#include "client.h"

#include "buf.h"
#include "diag.h"
#include "err.h"
#include "spec.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static int cmd_submit(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_submit = {
    .name = "submit",
    .usage = "submit [--format table|json] SPEC",
    .summary = "validate a study spec and submit it to the coordinator",
    .help = "Checks SPEC locally first (every problem is printed, one per line, and\n"
            "nothing is sent), then stores the study on the coordinator, which starts\n"
            "giving its trials to workers. Submitting the same spec again is not an\n"
            "error: the existing study continues. Submitting it with only\n"
            "search.max_trials, search.parallelism or trial.timeout changed grows or\n"
            "steers the study: it goes on with the new values (a completed study runs\n"
            "again when max_trials grew), and each change is printed. max_trials may\n"
            "not go below the trials the study has. Any other difference under an\n"
            "existing name is refused, naming the keys. SPEC `-` reads standard input.\n"
            "\n"
            "Options:\n"
            "  --format json  print {\"study_id\":N,\"name\":\"...\",\"existed\":false,\"notes\":[]}\n"
            "\n"
            "Example:\n"
            "  hpsearch --coordinator tcp://head:7522 submit study.yaml\n",
    .exec = cmd_submit,
};

static int cmd_submit(hp_cli_t *cli, int argc, char **argv)
{
    hp_cli_format_t fmt;
    int rc_opt = hp_cli_parse_format_only(cli, &hp_cmd_submit, argc, argv, 1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON, &fmt);
    if (rc_opt)
        return rc_opt;
    hp_spec_t spec;
    const char *path;
    int rc0 = hp_cli_load_spec(cli, &hp_cmd_submit, argc, argv, optind, &spec, &path,
                               "nothing was submitted");
    if (rc0)
        return rc0;

    char err[4608];
    hp_client_t *cl;
    int rc = hp_client_open(&cl, cli, err, sizeof err);
    if (rc < 0) {
        hp_spec_fini(&spec);
        return hp_cli_fail(cli, &hp_cmd_submit, "%s", err);
    }
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = spec.raw;
    sub.filename = (char *)(strcmp(path, "-") == 0 ? "<stdin>" : path);
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &rep, err, sizeof err);
    hp_client_close(cl);
    hp_spec_fini(&spec);
    if (rc < 0)
        return hp_cli_fail_lines(cli, &hp_cmd_submit, err);
    const Hpsearch__SubmitReply *r = rep->submit_reply;
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_t b = {0};
        hp_buf_printf(&b, "{\"study_id\":%" PRIu64 ",\"name\":", r->study_id);
        hp_buf_json_string(&b, r->name);
        hp_buf_printf(&b, ",\"existed\":%s,\"notes\":[", r->existed ? "true" : "false");
        for (size_t i = 0; i < r->n_notes; i++) {
            if (i)
                hp_buf_putc(&b, ',');
            hp_buf_json_string(&b, r->notes[i]);
        }
        hp_buf_puts(&b, "]}\n");
        fputs(b.data, cli->out);
        hp_buf_fini(&b);
    } else {
        if (r->existed && r->n_notes)
            fprintf(cli->out, "study '%s' (id %" PRIu64 ") already exists; it continues\n",
                    r->name, r->study_id);
        else if (r->existed)
            fprintf(cli->out,
                    "study '%s' (id %" PRIu64 ") already exists with this spec; it continues\n",
                    r->name, r->study_id);
        else
            fprintf(cli->out, "submitted study '%s' (id %" PRIu64 ")\n", r->name, r->study_id);
        for (size_t i = 0; i < r->n_notes; i++)
            fprintf(cli->out, "  %s\n", r->notes[i]);
    }
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
