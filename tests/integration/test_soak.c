/* Soak (issue 15): a long study on many worker slots while workers are
 * killed with SIGKILL over and over and the coordinator is killed with
 * SIGKILL twice, each fault driven by the study's progress in the
 * database (never by the clock). At the end every trial completed exactly
 * once, PRAGMA integrity_check is ok, the WAL stayed bounded, and neither
 * the daemon nor a worker crashed.
 *
 * Sized by the environment, so the full run is one command:
 *   HP_SOAK_TRIALS   trials (default 2000, the figure)
 *   HP_SOAK_WORKERS  hpworker processes of 2 slots each (default 10: 20 slots)
 *   HP_SOAK_KILL_EVERY  completed trials between two worker kills (default 20)
 * It prints the figures docs/benchmarks.md reports. */
#include "hp_it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS "2"
#define MAX_WORKERS 64
#define LEASE_MS "1000"
#define HEARTBEAT_MS "200"
#define WAL_LIMIT (64L << 20) /* docs/daemon.md's bound */

static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    ck_assert_msg(*end == '\0' && n >= lo && n <= hi, "%s=%s: want an integer in %ld..%ld",
                  name, v, lo, hi);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static pid_t start_worker(hp_harness_t *h)
{
    return hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", SLOTS, NULL);
}

static void start_daemon(hp_harness_t *h)
{
    hp_harness_start_daemon(h, "--lease-ms", LEASE_MS, "--heartbeat-ms", HEARTBEAT_MS,
                            "--log-level", "warn", NULL);
}

/* Fails at once, quoting its log, if the daemon died under the test. */
static void daemon_alive(hp_harness_t *h)
{
    int st;
    if (h->daemon > 0 && waitpid(h->daemon, &st, WNOHANG) == h->daemon) {
        char *log = child_log(h, "hpsearchd", h->daemon);
        size_t n = strlen(log);
        ck_abort_msg("hpsearchd died (wait status %d); its log ends:\n%s", st,
                     log + (n > 2000 ? n - 2000 : 0));
    }
}

START_TEST(test_soak)
{
    long trials = env_long("HP_SOAK_TRIALS", 2000, 10, 1000000);
    long nworkers = env_long("HP_SOAK_WORKERS", 10, 1, MAX_WORKERS);
    long kill_every = env_long("HP_SOAK_KILL_EVERY", 20, 1, 1000000);
    hp_harness_t h;
    hp_harness_init(&h, "soak");
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", h.db);
    start_daemon(&h);
    pid_t w[MAX_WORKERS];
    for (int i = 0; i < nworkers; i++)
        w[i] = start_worker(&h);
    /* a short external program: a kill lands mid-trial */
    char script[800], spec[2048];
    snprintf(script, sizeof script, "%s",
             hp_harness_write_file(&h, "trial.sh", "#!/bin/sh\nsleep 0.05\necho \"loss=$1\"\n"));
    snprintf(spec, sizeof spec,
             "name: soak\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %ld, parallelism: %ld, seed: 11}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}']\n  retries: 20\n  timeout: 60\n",
             trials, nworkers * 2, script);
    double t0 = now_s();
    hp_harness_submit(&h, spec);

    const char *done_sql = "SELECT count(*) FROM trials WHERE state = 'completed'";
    long next_kill = kill_every, worker_kills = 0, coord_kills = 0, wal_max = 0, done = 0;
    long coord_kill_at[2] = {trials / 3, 2 * trials / 3};
    int victim = 0;
    for (long i = 0; done < trials; i++) {
        /* a guard on the elapsed time, below ctest's timeout, so a stuck
         * run says where it stuck (and what the daemon last logged) */
        if (now_s() - t0 > HP_IT_GUARD_S) {
            char *log = child_log(&h, "hpsearchd", h.daemon);
            size_t n = strlen(log);
            ck_abort_msg("soak: %ld of %ld completed after %d s (loop %ld); hpsearchd's log "
                         "ends:\n%s",
                         done, trials, HP_IT_GUARD_S, i, log + (n > 3000 ? n - 3000 : 0));
        }
        daemon_alive(&h);
        long size = file_size(wal);
        if (size > wal_max)
            wal_max = size;
        long d = db_int(h.db, done_sql);
        if (d >= 0)
            done = d;
        if (coord_kills < 2 && done >= coord_kill_at[coord_kills] && done < trials) {
            hp_harness_kill(&h, h.daemon, SIGKILL);
            h.daemon = 0;
            coord_kills++;
            start_daemon(&h);
            continue;
        }
        if (done >= next_kill && done < trials) {
            hp_harness_kill(&h, w[victim], SIGKILL);
            worker_kills++;
            w[victim] = start_worker(&h);
            victim = (victim + 1) % (int)nworkers;
            next_kill += kill_every;
            continue;
        }
        nap_ms(20);
    }
    double dt = now_s() - t0;
    ck_assert_str_eq(hp_harness_db_text(h.db, "SELECT state FROM studies WHERE name = 'soak'",
                                        (char[32]){0}, 32),
                     "completed");
    check_exactly_once(h.db, "soak", trials);
    long lost = db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = 'lost'");
    long interrupted = db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = "
                                    "'interrupted'");
    ck_assert_int_ge(lost, 1); /* the kills did land mid-trial */
    /* nothing crashed: the surviving workers run, and the daemon stops
     * cleanly when asked */
    for (int i = 0; i < nworkers; i++)
        ck_assert_msg(waitpid(w[i], NULL, WNOHANG) == 0, "worker %d (pid %d) exited", i,
                      (int)w[i]);
    pid_t daemon = h.daemon;
    int st = hp_harness_kill(&h, daemon, SIGTERM);
    h.daemon = 0;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        char *log = child_log(&h, "hpsearchd", daemon);
        size_t n = strlen(log);
        ck_abort_msg("hpsearchd ended with wait status %d; its log ends:\n%s", st,
                     log + (n > 3000 ? n - 3000 : 0));
    }
    fprintf(stderr,
            "soak: %ld trials on %ld workers x %s slots in %.1f s; %ld worker SIGKILLs, %ld "
            "coordinator SIGKILLs; %ld attempts lost, %ld interrupted, re-run; 0 lost, 0 "
            "doubled; integrity ok; WAL max %.1f MiB; db %.1f MiB\n",
            trials, nworkers, SLOTS, dt, worker_kills, coord_kills, lost, interrupted,
            wal_max / 1048576.0, file_size(h.db) / 1048576.0);
    /* last, so a run that fails it has checked everything else */
    ck_assert_msg(wal_max < WAL_LIMIT, "the WAL reached %ld bytes (%.1f MiB; the bound is %ld MiB)",
                  wal_max, wal_max / 1048576.0, WAL_LIMIT >> 20);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_soak");
    TCase *tc = tcase_create("soak");
    tcase_add_test(tc, test_soak);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
