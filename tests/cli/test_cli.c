/*
 * The real hpsearch binary ($HP_BIN_DIR/hpsearch) run as a child process:
 * global options, `validate` on valid and invalid specs, and hostile files
 * (empty, random bytes, deep nesting, an alias bomb, 5 MB) that must end in
 * a clean refusal. Each run has a generous alarm() guard: a hang fails the
 * test instead of stalling the suite; nothing asserts on timing.
 */
#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUARD_SECONDS 60

typedef struct run {
    int status; /* exit code, or 128 + signal */
    char *out, *err;
} run_t;

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hp_test_cli.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path) { return hp_check_slurp(path, 0); }

static char *tmp_path(const char *name)
{
    static char p[4][512];
    static int k;
    char *r = p[k++ % 4];
    snprintf(r, sizeof p[0], "%s/%s", tmpdir, name);
    return r;
}

static void write_file(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(tmp_path(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* hpsearch runs the binary with args (NULL-terminated), stdin from
 * stdin_path (or /dev/null), and collects exit status and output. */
static run_t hpsearch(const char *stdin_path, const char *const *args)
{
    const char *bin = getenv("HP_BIN_DIR");
    ck_assert_ptr_nonnull(bin);
    char exe[512];
    snprintf(exe, sizeof exe, "%s/hpsearch", bin);
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/stdout", tmpdir);
    snprintf(errp, sizeof errp, "%s/stderr", tmpdir);

    hp_spawn_opts_t o = {.in = stdin_path ? stdin_path : "/dev/null", .out = outp, .err = errp};
    pid_t pid = hp_spawn(exe, args, &o);
    alarm(GUARD_SECONDS); /* a hang kills this test process, failing it */
    int st = hp_spawn_wait(pid);
    alarm(0);
    run_t r = {
        .status = st,
        .out = slurp(outp),
        .err = slurp(errp),
    };
    return r;
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* every stderr line of a failed validate names the file */
static void assert_lines_start_with(const char *text, const char *prefix)
{
    ck_assert_int_gt((int)strlen(text), 0);
    const char *p = text;
    while (*p) {
        ck_assert_msg(strncmp(p, prefix, strlen(prefix)) == 0, "line '%.80s' lacks '%s'", p,
                      prefix);
        const char *nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        p = nl + 1;
    }
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char valid_spec[] = "name: cli-test\n"
                                 "objective: {metric: value}\n"
                                 "search: {algorithm: random, max_trials: 5}\n"
                                 "space:\n"
                                 "  x1: {type: float, low: -5, high: 10}\n"
                                 "  x2: {type: float, low: 0, high: 15}\n"
                                 "trial: {function: branin}\n";

START_TEST(test_help_and_version)
{
    run_t r = hpsearch(NULL, (const char *[]){"--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: hpsearch"));
    ck_assert_ptr_nonnull(strstr(r.out, "validate"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"--version", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(strncmp(r.out, "hpsearch ", 9), 0);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: hpsearch validate"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"help", "validate", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: hpsearch validate"));
    run_free(&r);
}
END_TEST

START_TEST(test_usage_errors)
{
    run_t r = hpsearch(NULL, (const char *[]){NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "usage:"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"frobnicate", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "hpsearch: unknown command 'frobnicate' (try hpsearch --help)\n");
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validat", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "did you mean 'validate'?"));
    ck_assert_int_eq(count_lines(r.err), 1);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"--bogus", "validate", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"--coordinator", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "missing SPEC"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--format", "xml", "x.yaml", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    /* a near miss of one of the verb's options is named */
    r = hpsearch(NULL, (const char *[]){"report", "--erors", "s", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "unknown option '--erors' (did you mean '--errors'?)\n") != NULL,
                  "%s", r.err);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"examples", "s", "0", "--ot=d", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "(did you mean '--out'?)") != NULL, "%s", r.err);
    run_free(&r);
    /* a wrong --format lists the choices as the usage line under it does */
    r = hpsearch(NULL, (const char *[]){"report", "--format", "yaml", "s", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "unknown format 'yaml' (text|json)\n") != NULL, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "[--format text|json]"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"trials", "--format", "yaml", "s", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "unknown format 'yaml' (table|csv|json)\n") != NULL, "%s", r.err);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--nope", "x.yaml", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--nope'"));
    run_free(&r);
    /* a global option after the verb: say where it goes */
    r = hpsearch(NULL, (const char *[]){"status", "--coordinator", "tcp://127.0.0.1:1", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--coordinator is a global option: give it before the "
                                        "command (hpsearch --coordinator URL status ...)"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--token-file=tok", "x.yaml", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--token-file is a global option"));
    run_free(&r);
    /* a known option without its value is not an unknown one */
    r = hpsearch(NULL, (const char *[]){"validate", "--format", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "option '--format' needs a value"));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"check", "--steps", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "option '--steps' needs a value"));
    run_free(&r);
}
END_TEST

START_TEST(test_validate_ok)
{
    write_file("ok.yaml", valid_spec, sizeof valid_spec - 1);
    run_t r = hpsearch(NULL, (const char *[]){"--coordinator", "tcp://127.0.0.1:1", "validate",
                                              tmp_path("ok.yaml"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "ok\n");
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    /* from stdin, and as JSON */
    r = hpsearch(tmp_path("ok.yaml"), (const char *[]){"validate", "-", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "ok\n");
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--print", tmp_path("ok.yaml"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\":\"cli-test\""));
    write_file("ok.json", r.out, strlen(r.out));
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", tmp_path("ok.json"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "ok\n");
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--format", "json", tmp_path("ok.yaml"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "{\"ok\":true,\"errors\":[]}\n");
    run_free(&r);
}
END_TEST

START_TEST(test_validate_examples)
{
    static const char *const ex[] = {"fashion-mnist-mlp.yaml", "branin-bayes.yaml",
                                     "toy-command.yaml", "branin.yaml"};
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/examples/%s", src, ex[i]);
        run_t r = hpsearch(NULL, (const char *[]){"validate", p, NULL});
        ck_assert_msg(r.status == 0, "%s: %s", ex[i], r.err);
        ck_assert_str_eq(r.out, "ok\n");
        run_free(&r);
    }
}
END_TEST

/* valid but likely not meant: a warning on stderr, and the spec passes;
 * an out-of-range timeout names its bound */
START_TEST(test_validate_warnings)
{
    static const char warned[] = "name: cli-test\n"
                                 "objective: {metric: value}\n"
                                 "search: {algorithm: random, max_trials: 5}\n"
                                 "space:\n"
                                 "  x1: {type: float, low: -5, high: 10}\n"
                                 "  x2: {type: float, low: 0, high: 15}\n"
                                 "trial: {function: branin, noise: 1.0e-400}\n";
    write_file("w.yaml", warned, strlen(warned));
    run_t r = hpsearch(NULL, (const char *[]){"validate", tmp_path("w.yaml"), NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "ok\n");
    char want[1024];
    snprintf(want, sizeof want,
             "%s:7: trial.noise: warning: 1.0e-400 is too small for a number (the smallest is "
             "about 4.9e-324) and reads as 0; write 0 if that is meant\n",
             tmp_path("w.yaml"));
    ck_assert_str_eq(r.err, want);
    run_free(&r);
    r = hpsearch(NULL, (const char *[]){"validate", "--format", "json", tmp_path("w.yaml"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "{\"ok\":true,\"errors\":[],\"warnings\":[{\"file\":"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"line\":7,\"path\":\"trial.noise\",\"message\":"
                                        "\"1.0e-400 is too small"));
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    /* check (like submit and run) prints it and goes on */
    r = hpsearch(NULL, (const char *[]){"check", tmp_path("w.yaml"), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "trial.noise: warning: 1.0e-400 is too small"));
    run_free(&r);

    /* with an error, the warning that explains it comes along, uncounted */
    static const char bad[] = "name: cli-test\n"
                              "objective: {metric: value}\n"
                              "search: {algorithm: random, max_trials: 5}\n"
                              "space:\n"
                              "  x1: {type: float, low: -5, high: 10}\n"
                              "  x2: {type: float, low: 1.0e-400, high: 15, log: true}\n"
                              "trial: {function: branin}\n";
    write_file("b.yaml", bad, strlen(bad));
    r = hpsearch(NULL, (const char *[]){"check", tmp_path("b.yaml"), NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, ":6: space.x2.low: must be > 0 for a log-scaled"));
    ck_assert_ptr_nonnull(strstr(r.err, ":6: space.x2.low: warning: 1.0e-400 is too small"));
    /* x2 counts once: not also "missing" from branin's inputs */
    ck_assert_ptr_nonnull(strstr(r.err, "is not a valid study spec (1 problem)"));
    run_free(&r);

    static const char tmo[] = "name: cli-test\n"
                              "objective: {metric: loss}\n"
                              "search: {algorithm: random, max_trials: 5}\n"
                              "space:\n"
                              "  x: {type: float, low: 0, high: 1}\n"
                              "trial: {command: [prog, '{x}'], timeout: 1e300}\n";
    write_file("t.yaml", tmo, strlen(tmo));
    r = hpsearch(NULL, (const char *[]){"validate", tmp_path("t.yaml"), NULL});
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof want,
             "%s:6: trial.timeout: must be at most 1000000000 seconds (about 31 years; 0 = no "
             "limit), got 1e300\n",
             tmp_path("t.yaml"));
    ck_assert_str_eq(r.err, want);
    run_free(&r);
}
END_TEST

START_TEST(test_validate_errors_one_per_line)
{
    static const char bad[] = "name: cli-test\n"
                              "objective: {metric: value, goal: up}\n"
                              "search: {algorithm: random, max_trials: 0, parallelism: 0}\n"
                              "space:\n"
                              "  lr: {type: float, low: -1, high: 1, log: true}\n"
                              "trial: {command: [prog, \"{nope}\"]}\n";
    write_file("bad.yaml", bad, sizeof bad - 1);
    const char *p = tmp_path("bad.yaml");
    run_t r = hpsearch(NULL, (const char *[]){"validate", p, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(count_lines(r.err), 5);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:", p);
    assert_lines_start_with(r.err, prefix);
    char want[700];
    snprintf(want, sizeof want,
             "%s:5: space.lr.low: must be > 0 for a log-scaled parameter (got -1)\n", p);
    ck_assert_ptr_nonnull(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:3: search.parallelism: must be >= 1 (got 0)\n", p);
    ck_assert_ptr_nonnull(strstr(r.err, want));
    run_free(&r);

    r = hpsearch(NULL, (const char *[]){"validate", "--format", "json", p, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(strncmp(r.out, "{\"ok\":false,\"errors\":[{\"file\":", 30), 0);
    ck_assert_ptr_nonnull(strstr(r.out, "\"line\":6,\"path\":\"trial.command[1]\""));
    run_free(&r);

    r = hpsearch(NULL, (const char *[]){"validate", tmp_path("missing.yaml"), NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot open"));
    ck_assert_int_eq(count_lines(r.err), 1);
    run_free(&r);
}
END_TEST

/* a spec whose trials can never report the objective: every trial would
 * fail, so validate (and submit, and run) refuse it, naming the field */
START_TEST(test_validate_refuses_unreportable_objective)
{
    static const char fn[] = "name: cli-test\n"
                             "objective: {metric: loss}\n"
                             "search: {algorithm: random, max_trials: 5}\n"
                             "space:\n"
                             "  x1: {type: float, low: -5, high: 10}\n"
                             "  x2: {type: float, low: 0, high: 15}\n"
                             "trial: {function: branin}\n";
    write_file("fn.yaml", fn, sizeof fn - 1);
    const char *p = tmp_path("fn.yaml");
    char want[700];
    snprintf(want, sizeof want,
             "%s:2: objective.metric: objective.metric is 'loss' but function branin reports "
             "only 'value'\n",
             p);
    static const char *const verbs[] = {"validate", "run", "submit"};
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        run_t r = hpsearch(NULL, (const char *[]){"--coordinator", "tcp://127.0.0.1:1", verbs[i],
                                                  p, NULL});
        ck_assert_msg(r.status == 1, "%s: exit %d", verbs[i], r.status);
        ck_assert_msg(strstr(r.err, want) != NULL, "%s: %s", verbs[i], r.err);
        run_free(&r);
    }
    static const char model[] = "name: cli-test\n"
                                "objective: {metric: accuracy, goal: maximize}\n"
                                "search: {algorithm: random, max_trials: 5}\n"
                                "space:\n"
                                "  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}\n"
                                "trial: {model: mlp, dataset: fashion-mnist}\n";
    write_file("model.yaml", model, sizeof model - 1);
    p = tmp_path("model.yaml");
    run_t r = hpsearch(NULL, (const char *[]){"validate", p, NULL});
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof want,
             "%s:2: objective.metric: objective.metric is 'accuracy' but model mlp reports "
             "train_loss, train_error, val_loss, val_error, test_loss, test_error (and "
             "shift_val_loss, shift_val_error with a dataset shift)\n",
             p);
    ck_assert_str_eq(r.err, want);
    run_free(&r);
}
END_TEST

/* hostile inputs: each is refused with exit 1 and positioned lines only
 * (libfyaml prints nothing of its own), never a crash or a hang */
static void assert_refused(const char *name, const char *msg)
{
    const char *p = tmp_path(name);
    run_t r = hpsearch(NULL, (const char *[]){"validate", p, NULL});
    ck_assert_msg(r.status == 1, "%s: status %d, stderr %.200s", name, r.status, r.err);
    ck_assert_str_eq(r.out, "");
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:", p);
    assert_lines_start_with(r.err, prefix);
    if (msg)
        ck_assert_msg(strstr(r.err, msg) != NULL, "%s: want '%s' in %.300s", name, msg, r.err);
    run_free(&r);
}

START_TEST(test_hostile_empty)
{
    write_file("empty.yaml", "", 0);
    assert_refused("empty.yaml", "empty");
}
END_TEST

START_TEST(test_hostile_random_bytes)
{
    int fd = open("/dev/urandom", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    char buf[65536];
    for (int round = 0; round < 5; round++) {
        size_t n = sizeof buf >> round;
        ck_assert_int_eq(read(fd, buf, n), (ssize_t)n);
        write_file("random.yaml", buf, n);
        assert_refused("random.yaml", NULL);
        /* and without NUL bytes, so libfyaml itself must reject it */
        for (size_t i = 0; i < n; i++)
            if (!buf[i])
                buf[i] = '\x01';
        write_file("random.yaml", buf, n);
        assert_refused("random.yaml", NULL);
    }
    close(fd);
}
END_TEST

START_TEST(test_hostile_deep_nesting)
{
    const size_t depth = 10000;
    char *t = malloc(4 * depth + 16);
    size_t n = (size_t)sprintf(t, "name: ");
    for (size_t i = 0; i < depth; i++)
        t[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        t[n++] = ']';
    t[n++] = '\n';
    write_file("deep.yaml", t, n);
    assert_refused("deep.yaml", "depth");
    /* nested flow mappings, unterminated */
    n = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy(t + n, "{a: ", 4);
        n += 4;
    }
    write_file("deep2.yaml", t, n);
    assert_refused("deep2.yaml", "YAML syntax error");
    free(t);
}
END_TEST

START_TEST(test_hostile_alias_bomb)
{
    FILE *f = fopen(tmp_path("bomb.yaml"), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char c = 'b'; c <= 'z'; c++) {
        fprintf(f, "%c: &%c [", c, c);
        for (int i = 0; i < 9; i++)
            fprintf(f, "%s*%c", i ? "," : "", c - 1);
        fprintf(f, "]\n");
    }
    /* a real spec whose values use the bomb */
    fprintf(f, "name: *z\nobjective: {metric: *z}\n");
    ck_assert_int_eq(fclose(f), 0);
    assert_refused("bomb.yaml", "aliases");
}
END_TEST

START_TEST(test_hostile_huge)
{
    /* 5 MB of plausible YAML: refused by size before parsing */
    FILE *f = fopen(tmp_path("huge.yaml"), "w");
    ck_assert_ptr_nonnull(f);
    fputs(valid_spec, f);
    for (int i = 0; i < 5 * 1024 * 1024 / 32; i++)
        fprintf(f, "# padding padding padding %05d\n", i % 100000);
    ck_assert_int_eq(fclose(f), 0);
    assert_refused("huge.yaml", "too large");
    /* the same through a pipe (no size to trust): read up to the limit only */
    run_t r = hpsearch(tmp_path("huge.yaml"), (const char *[]){"validate", "-", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "<stdin>: the spec is too large"));
    run_free(&r);
    /* a sparse 100 MB file is refused without being read */
    int fd = open(tmp_path("sparse.yaml"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 100L * 1024 * 1024), 0);
    close(fd);
    assert_refused("sparse.yaml", "too large (104857600 bytes");
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("hpsearch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_help_and_version);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_validate_ok);
    tcase_add_test(tc, test_validate_examples);
    tcase_add_test(tc, test_validate_errors_one_per_line);
    tcase_add_test(tc, test_validate_refuses_unreportable_objective);
    tcase_add_test(tc, test_hostile_empty);
    tcase_add_test(tc, test_hostile_random_bytes);
    tcase_add_test(tc, test_hostile_deep_nesting);
    tcase_add_test(tc, test_hostile_alias_bomb);
    tcase_add_test(tc, test_hostile_huge);
    tcase_add_test(tc, test_validate_warnings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(cli_suite());
}
