/*
 * hp_check.h — what every Check suite's main does, once.
 *
 *     int main(void) { return hp_check_run(my_suite()); }
 *
 * Runs the suite (CK_FORK from the environment: ctest sets CK_FORK=no for
 * suites that start nng or processes), prints Check's summary, and turns
 * the result into an exit status for ctest.
 */
#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <check.h>
#include <stdlib.h>

static inline int hp_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
