/* Error analysis end to end with real processes: a built-in classifier's
 * worker sends its test confusion matrix and worst examples with the
 * result, the coordinator stores them (trial_errors, trial_worst), and the
 * CLI shows them: `report --errors` (text and JSON, errors.confusion and
 * errors.worst) and `examples` (PNG files a person can look at, checked
 * here by decoding them). A tabular study has no pictures and says so. */
#include "harness.h"

#include "hp_check.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536];

/* runs cmd, returns its exit status and keeps its stdout (and stderr) */
static int run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void start(hp_harness_t *h, const char *name)
{
    hp_harness_init(h, name);
    hp_harness_start_daemon(h, NULL);
    hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1", NULL);
}

START_TEST(test_report_errors_and_examples)
{
    hp_harness_t h;
    start(&h, "errors");
    hp_harness_submit(&h, "name: fm\nobjective: {metric: val_error}\n"
                          "search: {algorithm: random, max_trials: 2, parallelism: 1, seed: 4,"
                          " sanity_check: false}\n"
                          "space:\n  lr: {type: float, low: 1e-3, high: 3e-3, log: true}\n"
                          "trial:\n  model: mlp\n"
                          "  dataset: {name: fashion-mnist, train_subset: 2000}\n"
                          "  epochs: 1\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "fm", 300), "completed");
    /* stored: one analysis per trial, 16 worst examples with 28x28 images */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_errors WHERE classes = 10"
                                              " AND examples = 10000 AND image_h = 28"),
                     2);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_worst"
                                              " WHERE length(pixels) = 784"),
                     32);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT sum(value) FROM json_each((SELECT "
                                              "confusion FROM trial_errors LIMIT 1), '$[3]')") > 0,
                     1);

    /* the JSON: confusion rows are true classes and add up to the test
     * error; worst is by loss; checked with python3's json */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s/hpsearch report --errors --format json --db %s fm | python3 -c '"
             "import json,sys\n"
             "d=json.load(sys.stdin); e=d[\"errors\"]; c=e[\"confusion\"]\n"
             "assert len(c)==10 and all(len(r)==10 for r in c)\n"
             "n=sum(map(sum,c)); assert n==e[\"examples\"]==10000, n\n"
             "wrong=n-sum(c[i][i] for i in range(10))\n"
             "assert abs(wrong/n-d[\"trial\"][\"errors\"][\"test_error\"])<1e-9\n"
             "w=e[\"worst\"]; assert len(w)==16\n"
             "assert all(a[\"loss\"]>=b[\"loss\"] for a,b in zip(w,w[1:]))\n"
             "assert all(set(x)>={\"index\",\"label\",\"predicted\",\"loss\"} for x in w)\n"
             "p=e[\"confused_pairs\"][0]; assert c[p[\"label\"]][p[\"predicted\"]]==p[\"count\"]\n"
             "assert e[\"trial\"]==d[\"trial\"][\"number\"]\n"
             "print(\"ok\")'",
             h.bin, h.db);
    ck_assert_msg(run(cmd) == 0 && strstr(out, "ok"), "report --errors JSON: %s", out);
    /* --trial picks another trial; the text lists pairs and examples */
    snprintf(cmd, sizeof cmd, "%s/hpsearch report --errors --trial 1 --db %s fm", h.bin, h.db);
    ck_assert_int_eq(run(cmd), 0);
    ck_assert_ptr_nonnull(strstr(out, "error analysis (trial 1, test set)"));
    ck_assert_ptr_nonnull(strstr(out, "most confused (true -> predicted"));
    ck_assert_ptr_nonnull(strstr(out, "worst examples"));
    /* the hint is a command to copy: this study, this trial, this --db */
    char hint[1024];
    snprintf(hint, sizeof hint, "see them: hpsearch examples --db %s fm 1 --out DIR\n", h.db);
    ck_assert_msg(strstr(out, hint) != NULL, "no '%s' in: %s", hint, out);
    /* without --errors the report is as before */
    snprintf(cmd, sizeof cmd, "%s/hpsearch report --format json --db %s fm", h.bin, h.db);
    ck_assert_int_eq(run(cmd), 0);
    ck_assert_ptr_null(strstr(out, "\"confusion\""));

    /* examples: 16 PNGs named by rank, label and prediction, through the
     * coordinator this time */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/worst", h.dir);
    snprintf(cmd, sizeof cmd, "%s/hpsearch --coordinator %s examples fm 0 --out %s --scale 2",
             h.bin, h.control, dir);
    ck_assert_msg(run(cmd) == 0, "examples: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "/rank01_index"));
    snprintf(cmd, sizeof cmd,
             "python3 -c '"
             "import glob,struct,sys,zlib\n"
             "fs=sorted(glob.glob(sys.argv[1]+\"/*.png\")); assert len(fs)==16, fs\n"
             "assert \"_label\" in fs[0] and \"_pred\" in fs[0]\n"
             "for f in fs:\n"
             "  b=open(f,\"rb\").read(); assert b[:8]==b\"\\x89PNG\\r\\n\\x1a\\n\"\n"
             "  p=8; z=b\"\"\n"
             "  while p<len(b):\n"
             "    n,=struct.unpack(\">I\",b[p:p+4]); t=b[p+4:p+8]; d=b[p+8:p+8+n]\n"
             "    assert zlib.crc32(t+d)==struct.unpack(\">I\",b[p+8+n:p+12+n])[0], t\n"
             "    if t==b\"IHDR\": w,h,bd,ct=struct.unpack(\">IIBB\",d[:10])\n"
             "    if t==b\"IDAT\": z+=d\n"
             "    p+=12+n\n"
             "  assert (w,h,bd,ct)==(56,56,8,0)\n"
             "  raw=zlib.decompress(z); assert len(raw)==56*57\n"
             "print(\"ok\")' %s",
             dir);
    ck_assert_msg(run(cmd) == 0 && strstr(out, "ok"), "the PNGs: %s", out);
    /* `--out DIR/` names DIR/rank01_..., not DIR//rank01_... */
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s fm 0 --out %s/ 2>&1", h.bin, h.db, dir);
    ck_assert_msg(run(cmd) == 0, "examples --out DIR/: %s", out);
    ck_assert_msg(strstr(out, "/worst/rank01_index") && !strstr(out, "/worst//"), "%s", out);
    /* mistakes name the problem */
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s fm 7 --out %s 2>&1", h.bin, h.db, dir);
    ck_assert_int_eq(run(cmd), 1);
    ck_assert_ptr_nonnull(strstr(out, "study 'fm' has no trial 7"));
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s fm 0 2>&1", h.bin, h.db);
    ck_assert_int_eq(run(cmd), 2);
    ck_assert_ptr_nonnull(strstr(out, "missing --out DIR"));
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s fm 0 --out '' 2>&1", h.bin, h.db);
    ck_assert_int_eq(run(cmd), 2);
    ck_assert_ptr_nonnull(strstr(out, "--out: the directory name is empty"));
    /* a file where the directory should be is named as such, before any
     * PNG is tried */
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s fm 0 --out %s 2>&1", h.bin, h.db,
             h.db);
    ck_assert_int_eq(run(cmd), 1);
    ck_assert_msg(strstr(out, "exists and is not a directory") && !strstr(out, "rank01"), "%s",
                  out);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_tabular_has_no_pictures)
{
    hp_harness_t h;
    start(&h, "errors-csv");
    /* two separable blobs in two columns */
    char csv[20000] = "x,y,label\n";
    for (int i = 0; i < 400; i++) {
        char row[64];
        int k = i % 2;
        snprintf(row, sizeof row, "%d.%d,%d.%d,%d\n", k * 4 + i % 3, i % 10, k * 4 - i % 3, i % 7,
                 k);
        strcat(csv, row);
    }
    const char *path = hp_harness_write_file(&h, "blobs.csv", csv);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: tab\nobjective: {metric: val_error}\n"
             "search: {algorithm: random, max_trials: 1, parallelism: 1, seed: 1,"
             " sanity_check: false}\n"
             "space:\n  lr: {type: float, low: 1e-3, high: 3e-3, log: true}\n"
             "trial:\n  model: mlp\n  dataset: {path: %s, label: label}\n  epochs: 3\n",
             path);
    hp_harness_submit(&h, spec);
    ck_assert_str_eq(hp_harness_wait_study(&h, "tab", 300), "completed");
    /* analysed all the same (rows of the CSV), without pixels */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_errors WHERE classes = 2"
                                              " AND examples = 80 AND image_c = 0"),
                     1);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s tab 0 --out %s/x 2>&1", h.bin, h.db,
             h.dir);
    ck_assert_int_eq(run(cmd), 1);
    ck_assert_msg(strstr(out, "which is not an image dataset") && strstr(out, "report --errors"),
                  "%s", out);
    /* the report says what a CSV's index is (docs/errors.md) */
    snprintf(cmd, sizeof cmd, "%s/hpsearch report --errors --db %s tab 2>&1", h.bin, h.db);
    ck_assert_int_eq(run(cmd), 0);
    ck_assert_msg(strstr(out, "(highest loss first; index: the CSV's data row, 0-based, header "
                              "not counted)"),
                  "%s", out);
    hp_harness_fini(&h);
}
END_TEST

/* the worked example of several modalities through the service: the CSV's
 * image columns come back as pictures */
START_TEST(test_multimodal_csv_images)
{
    hp_harness_t h;
    start(&h, "errors-mm");
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "python3 %s/examples/multimodal/make_data.py %s/mm.csv --rows 1500",
             src, h.dir);
    ck_assert_int_eq(run(cmd), 0);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: mm\nobjective: {metric: val_error}\n"
             "search: {algorithm: random, max_trials: 1, parallelism: 1, seed: 1,"
             " sanity_check: false}\n"
             "space:\n  lr: {type: float, low: 3e-3, high: 4e-3, log: true}\n"
             "trial:\n  model: multimodal\n"
             "  dataset: {path: %s/mm.csv, label: label, image_columns: \"px*\","
             " image_shape: [1, 8, 8], feature_columns: [f0, f1, f2, f3]}\n"
             "  epochs: 8\n",
             h.dir);
    hp_harness_submit(&h, spec);
    ck_assert_str_eq(hp_harness_wait_study(&h, "mm", 300), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_errors WHERE classes = 4"
                                              " AND examples = 300 AND image_h = 8"),
                     1);
    /* it learned from both modalities: well below one modality's 50% */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM metrics WHERE step = -1 AND "
                                              "name = 'test_error' AND value < 0.25"),
                     1);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/mmx", h.dir);
    snprintf(cmd, sizeof cmd, "%s/hpsearch examples --db %s mm 0 --out %s --scale 1", h.bin, h.db,
             dir);
    ck_assert_msg(run(cmd) == 0, "examples: %s", out);
    ck_assert_msg(strstr(out, "_label") && strstr(out, "_pred"), "%s", out);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import glob,struct,sys\n"
             "fs=glob.glob(sys.argv[1]+\"/*.png\"); assert fs\n"
             "for f in fs:\n"
             "  b=open(f,\"rb\").read(); assert struct.unpack(\">II\",b[16:24])==(8,8)\n"
             "print(len(fs))' %s",
             dir);
    ck_assert_int_eq(run(cmd), 0);
    ck_assert_int_ge(atoi(out), 1);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_report_errors_and_examples);
    tcase_add_test(tc, test_tabular_has_no_pictures);
    tcase_add_test(tc, test_multimodal_csv_images);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
