/* The dashboard's HTTP API: any request target a browser or an attacker
 * sends (hp_dash_req_parse), answered from a real study database
 * (hp_dash_api) — a study with completed, failed, pruned and pending
 * trials, their metrics and a worker, made once per process. Every reply
 * must be one of the API's statuses with a JSON body. */
#include "api.h"
#include "fuzz.h"
#include "url.h"

#include "buf.h"
#include "diag.h"
#include "spec.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SPEC[] =
    "name: fz\n"
    "objective: {metric: loss, goal: minimize}\n"
    "search: {algorithm: random, max_trials: 8}\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}\n"
    "  opt: {type: categorical, values: [adam, sgd]}\n"
    "trial: {command: [prog, '{lr}', '{opt}']}\n"
    "pruning: {rule: asha, min_resource: 1, max_resource: 9}\n";

static void must(int rc, const char *what, const char *err)
{
    if (rc < 0) {
        fprintf(stderr, "fuzz_http: cannot make the database: %s: %s\n", what, err);
        abort();
    }
}

static hp_store_t *ro;
static char path[] = "/tmp/hp-fuzz-http-XXXXXX", file[64];

static void cleanup(void)
{
    hp_store_close(ro);
    static const char *const ext[] = {"", "-wal", "-shm", ".lock"};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s%s", file, ext[i]);
        unlink(p);
    }
    rmdir(path);
}

/* the database, read only; made on the first call, removed at exit */
static hp_store_t *db(void)
{
    if (ro)
        return ro;
    char err[512] = "";
    if (!mkdtemp(path))
        abort();
    snprintf(file, sizeof file, "%s/study.db", path);
    atexit(cleanup);
    hp_store_t *st;
    must(hp_store_open(&st, file, HP_STORE_CREATE | HP_STORE_SYNC_NORMAL, err, sizeof err), "open", err);
    hp_spec_t spec;
    hp_diag_t d = {0};
    must(hp_spec_parse(&spec, SPEC, sizeof SPEC - 1, "fz.yaml", &d), "spec", "invalid");
    hp_buf_t js = {0};
    hp_spec_to_json(&spec, &js);
    hp_study_def_t def = {.name = "fz", .spec = SPEC, .spec_json = js.data, .metric = "loss",
                          .goal = HP_GOAL_MINIMIZE, .max_trials = 8};
    int64_t sid;
    must(hp_store_study_create(st, &def, &sid, err, sizeof err), "study", err);
    hp_worker_def_t w = {.id = "w1", .host = "node-1", .cores = 2, .slots = 2};
    must(hp_store_worker_upsert(st, &w, err, sizeof err), "worker", err);
    for (int i = 0; i < 4; i++) {
        char params[96];
        snprintf(params, sizeof params, "{\"lr\": %g, \"opt\": \"%s\"}", 0.001 * (i + 1),
                 i % 2 ? "sgd" : "adam");
        int64_t tid;
        must(hp_store_trial_create(st, sid, params, &tid, NULL, err, sizeof err), "trial", err);
        if (i == 3)
            break; /* left pending */
        must(hp_store_trial_start(st, tid, "w1", 100 + i, 1e12, NULL, err, sizeof err), "start",
             err);
        for (int step = 0; step < 3; step++) {
            hp_metric_t m = {tid, 1, step, "loss", 1.0 / (step + 1 + i)};
            must(hp_store_metric_append(st, &m, err, sizeof err), "metric", err);
        }
        if (i == 0)
            must(hp_store_trial_complete(st, tid, 100, 0.25, err, sizeof err), "complete", err);
        else if (i == 1)
            must(hp_store_trial_fail(st, tid, 101, "exit status 1", err, sizeof err), "fail", err);
        else
            must(hp_store_trial_prune(st, tid, 102, "pruned at step 2 by asha", err, sizeof err),
                 "prune", err);
    }
    hp_buf_fini(&js);
    hp_spec_fini(&spec);
    hp_diag_fini(&d);
    hp_store_close(st);
    must(hp_store_open(&ro, file, HP_STORE_READONLY, err, sizeof err), "open read-only", err);
    return ro;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HP_DASH_MAX_URI + 64)
        return 0;
    char uri[HP_DASH_MAX_URI + 65], err[512];
    memcpy(uri, data, size);
    uri[size] = '\0';
    hp_dash_req_t req;
    if (hp_dash_req_parse(&req, uri, err, sizeof err) < 0 || req.nseg == 0 ||
        strcmp(req.seg[0], "api") != 0)
        return 0;
    hp_dash_reply_t rep;
    hp_dash_reply_init(&rep);
    hp_dash_api(db(), &req, &rep);
    if (rep.status != 200 && rep.status != 400 && rep.status != 404 && rep.status != 503)
        abort();
    if (!rep.body.len || rep.body.data[0] != '{')
        abort(); /* every reply, errors too, is a JSON object */
    hp_dash_reply_fini(&rep);
    return 0;
}
