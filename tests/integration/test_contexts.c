/* More idle worker slots than the daemon has worker contexts. Found by
 * tests/bench/scale_bench.py (issue 15): 300 workers × 4 slots on the
 * default 1,024 contexts held every context with idle GET_TRIALs, so the
 * last 39 workers' HELLOs were never received and every worker's
 * heartbeats stopped getting in — all 261 that had joined were marked lost
 * after one lease, and the log said nothing about why. Now a share of the
 * contexts is never held: a surplus idle slot is told to ask again, and the
 * log says to raise worker-contexts. */
#include "hp_it.h"

static char *daemon_log(hp_harness_t *h)
{
    return child_log(h, "hpsearchd", h->daemon);
}

START_TEST(test_more_idle_slots_than_contexts)
{
    hp_harness_t h;
    hp_harness_init(&h, "contexts");
    /* 8 contexts, of which 6 may be held; two workers of 4 slots want 8 */
    hp_harness_start_daemon(&h, "--worker-contexts", "8", "--lease-ms", "3000",
                            "--heartbeat-ms", "300", NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "4", NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "4", NULL);
    wait_db(h.db, "SELECT count(*) FROM workers WHERE state = 'alive'", 2);
    char *log = NULL;
    for (int i = 0; i < HP_IT_GUARD_S * 20; i++) {
        free(log);
        log = daemon_log(&h);
        if (strstr(log, "raise worker-contexts"))
            break;
        nap_ms(50);
    }
    HAS(log, "idle worker slots hold 6 of the 8 worker contexts");
    free(log);
    /* a worker that comes later still gets in: its HELLO finds a context */
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    wait_db(h.db, "SELECT count(*) FROM workers WHERE state = 'alive'", 3);
    /* and heartbeats get in: a study runs on all three, nobody lost */
    hp_harness_submit(&h, "name: contexts\nobjective: {metric: value}\n"
                          "search: {algorithm: random, max_trials: 60, parallelism: 9, seed: 2}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin}\n");
    const char *st = hp_harness_wait_study(&h, "contexts", HP_IT_GUARD_S);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");
    check_exactly_once(h.db, "contexts", 60);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM events WHERE kind = 'worker_lost'"), 0);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_contexts");
    TCase *tc = tcase_create("contexts");
    tcase_add_test(tc, test_more_idle_slots_than_contexts);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
