/* Worker sessions across a coordinator restart, with the real hpsearchd
 * and hpworker: trials finish while the daemon is down (SIGKILL), and the
 * daemon started again on the same database records every finished
 * result once, from the attempt that produced it — the workers go on
 * under the sessions they had (restored from the database), without
 * saying HELLO again. Every wait is for a condition (a file, a row, a log
 * line), with a generous guard. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD_S 120

static char spec[4096];

/* Trials that leave DIR/started-N (the worker has them: a `running` row
 * is committed before the TRIAL reply leaves), wait for DIR/gate, then
 * leave DIR/done-N and report loss = x. */
static const char *gated_spec(hp_harness_t *h, const char *name, int trials)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 9}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, ': > %s/started-$HPSEARCH_TRIAL_NUMBER; "
             "while [ ! -e %s/gate ]; do sleep 0.05; done; "
             "touch %s/done-$HPSEARCH_TRIAL_NUMBER; echo loss={x}']\n  timeout: 300\n",
             name, trials, trials, h->dir, h->dir, h->dir);
    return spec;
}

static void wait_file(hp_harness_t *h, const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", h->dir, name);
    for (int i = 0; i < GUARD_S * 20 && access(path, F_OK) != 0; i++)
        nap_ms(50);
    ck_assert_msg(access(path, F_OK) == 0, "no %s after %d s", path, GUARD_S);
}

START_TEST(test_results_finished_while_the_daemon_is_down_are_kept)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "sessions-restart");
    const char *lease[] = {"--lease-ms", "3000", "--heartbeat-ms", "200", NULL};
    hp_harness_start_daemon(&h, lease[0], lease[1], lease[2], lease[3], NULL);
    pid_t w[2];
    for (int i = 0; i < 2; i++)
        w[i] = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, gated_spec(&h, "down", 2));
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 2);
    wait_file(&h, "started-0");
    wait_file(&h, "started-1");
    long hellos = db_int(h.db, "SELECT count(*) FROM events WHERE kind = 'worker_hello'");
    ck_assert_int_eq(hellos, 2);

    /* the coordinator dies; the trials finish while nothing listens */
    hp_harness_kill(&h, h.daemon, SIGKILL);
    h.daemon = 0;
    hp_harness_write_file(&h, "gate", "open\n");
    wait_file(&h, "done-0");
    wait_file(&h, "done-1");
    /* down long enough that the workers' wait between dials (100 ms,
     * doubling, at most 5 s) has grown past the 3-s lease: the restart
     * grace must cover their next dial, or they are taken for lost and
     * their trials re-run (it did not, and CI saw a third attempt) */
    nap_ms(7000);

    /* started again: both finished results arrive under the old sessions */
    pid_t d = hp_harness_start_daemon(&h, lease[0], lease[1], lease[2], lease[3], NULL);
    const char *state = hp_harness_wait_study(&h, "down", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    check_exactly_once(h.db, "down", 2);
    /* each from its first attempt: nothing was re-run, nothing lost */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts"), 2);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE attempts = 1 AND "
                                  "abs(value - json_extract(params, '$.x')) < 1e-9"),
                     2);
    /* no worker needed a HELLO: their sessions were restored */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM events WHERE kind = 'worker_hello'"),
                     hellos);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM workers"), 2);
    char *log = child_log(&h, "hpsearchd", d);
    HAS(log, "restored the sessions of 2 workers");
    HAS(log, "went on under its session from before the restart");
    LACKS(log, "refused a result");
    free(log);
    for (int i = 0; i < 2; i++) {
        log = child_log(&h, "hpworker", w[i]);
        LACKS(log, "saying HELLO again");
        LACKS(log, "refused the result");
        free(log);
    }
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_sessions");
    TCase *tc = tcase_create("sessions");
    tcase_add_test(tc, test_results_finished_while_the_daemon_is_down_are_kept);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
