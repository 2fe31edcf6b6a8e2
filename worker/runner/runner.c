/* hp_runner_run: pick the runner from trial_json; cancellation; outcomes. */
#define _GNU_SOURCE /* pipe2 */
#include "runner_int.h"

#include "err.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double hp_runner_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int hp_cancel_init(hp_cancel_t *c)
{
    memset(c, 0, sizeof *c);
    c->fd[0] = c->fd[1] = -1;
    if (pipe2(c->fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        c->fd[0] = c->fd[1] = -1;
        return HP_EIO;
    }
    return 0;
}

void hp_cancel_fini(hp_cancel_t *c)
{
    for (int i = 0; i < 2; i++)
        if (c->fd[i] > 2)
            close(c->fd[i]);
    c->fd[0] = c->fd[1] = -1;
}

void hp_cancel_request(hp_cancel_t *c)
{
    atomic_store(&c->requested, 1);
    if (c->fd[1] >= 0) {
        char b = 1;
        /* full pipe = already woken; nothing else can go wrong worth handling */
        ssize_t r = write(c->fd[1], &b, 1);
        (void)r;
    }
}

int hp_cancel_requested(const hp_cancel_t *c)
{
    return atomic_load(&c->requested);
}

void hp_cancel_reset(hp_cancel_t *c)
{
    atomic_store(&c->requested, 0);
    char buf[64];
    if (c->fd[0] >= 0)
        while (read(c->fd[0], buf, sizeof buf) > 0)
            ;
}

void hp_outcome_put(hp_runner_outcome_t *out, const char *name, double value)
{
    for (size_t i = 0; i < out->n_metrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0) {
            out->metrics[i].value = value;
            return;
        }
    if (out->n_metrics >= HP_RUNNER_MAX_METRICS || strlen(name) >= HP_METRIC_NAME_MAX)
        return;
    if (!out->metrics) {
        out->metrics = calloc(HP_RUNNER_MAX_METRICS, sizeof *out->metrics);
        HP_ASSERT(out->metrics);
    }
    hp_runner_metric_t *m = &out->metrics[out->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = value;
}

const hp_runner_metric_t *hp_outcome_find(const hp_runner_outcome_t *out, const char *name)
{
    for (size_t i = 0; i < out->n_metrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0)
            return &out->metrics[i];
    return NULL;
}

void hp_outcome_fail(hp_runner_outcome_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    out->status = HP_RUNNER_FAILED;
}

void hp_runner_outcome_fini(hp_runner_outcome_t *out)
{
    free(out->metrics);
    out->metrics = NULL;
    out->n_metrics = 0;
}

/* ---- trial_json ---- */

static void fy_quiet(struct fy_diag *d, void *user, const char *buf, size_t len) {}

struct fy_document *hp_tj_parse(const char *json, struct fy_diag **diag, char *err, size_t errlen)
{
    /* libfyaml's messages would go to stderr; the trial's error says it */
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = fy_quiet;
    dcfg.colorize = false;
    *diag = fy_diag_create(&dcfg);
    HP_ASSERT(*diag);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE, .diag = *diag};
    struct fy_document *d = fy_document_build_from_string(&cfg, json, strlen(json));
    if (!d || !fy_document_root(d) || !fy_node_is_mapping(fy_document_root(d))) {
        if (d)
            fy_document_destroy(d);
        fy_diag_destroy(*diag);
        *diag = NULL;
        hp_errf(err, errlen, HP_EINVAL, "trial_json is not a JSON object");
        return NULL;
    }
    return d;
}

struct fy_node *hp_tj_get(struct fy_node *n, const char *key)
{
    if (!n || !fy_node_is_mapping(n))
        return NULL;
    return fy_node_mapping_lookup_by_string(n, key, strlen(key));
}

char *hp_tj_text(struct fy_node *n)
{
    if (!n)
        return NULL;
    if (fy_node_is_scalar(n)) {
        size_t len;
        const char *s = fy_node_get_scalar(n, &len);
        char *r = malloc(len + 1);
        HP_ASSERT(r);
        memcpy(r, s ? s : "", s ? len : 0);
        r[s ? len : 0] = '\0';
        return r;
    }
    char *s = fy_emit_node_to_string(n, FYECF_MODE_JSON_ONELINE | FYECF_NO_ENDING_NEWLINE);
    HP_ASSERT(s);
    return s;
}

int hp_runner_is_quick(const hp_runner_trial_t *t)
{
    const char *p = t->trial_json;
    if (!p)
        return 0;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p++ != '{')
        return 0;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return strncmp(p, "\"function\"", 10) == 0;
}

int hp_runner_run(const hp_runner_trial_t *t, const hp_runner_opts_t *opts,
                  hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                  hp_runner_outcome_t *out)
{
    static const hp_runner_opts_t defaults = {0};
    memset(out, 0, sizeof *out);
    out->status = HP_RUNNER_FAILED;
    double t0 = hp_runner_now();
    if (!opts)
        opts = &defaults;

    char err[256];
    struct fy_diag *diag;
    struct fy_document *d = hp_tj_parse(t->trial_json ? t->trial_json : "", &diag, err, sizeof err);
    if (!d) {
        hp_outcome_fail(out, "%s", err);
        return 0;
    }
    struct fy_node *root = fy_document_root(d);
    if (hp_cancel_requested(cancel)) {
        out->status = HP_RUNNER_CANCELLED;
        snprintf(out->error, sizeof out->error, "cancelled before it started");
    } else if (hp_tj_get(root, "command"))
        hp_run_external(root, t, opts, cb, data, cancel, out);
    else if (hp_tj_get(root, "function"))
        hp_run_function(root, t, cb, data, out);
    else if (hp_tj_get(root, "model"))
        hp_run_model(root, t, opts, cb, data, cancel, out);
    else
        hp_outcome_fail(out, "trial_json names no command, function or model");
    fy_document_destroy(d);
    fy_diag_destroy(diag);
    if (out->status == HP_RUNNER_COMPLETED)
        out->error[0] = '\0';
    out->duration_s = hp_runner_now() - t0;
    return 0;
}
