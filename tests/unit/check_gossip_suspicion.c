/*  Unit tests of Lifeguard's suspicion timeouts (gossipd/suspicion.c),
    spec docs/protocol/gossip.md "Suspicion (Lifeguard)". */
#include <check.h>
#include <stdlib.h>
#include "../../gossipd/suspicion.h"

START_TEST (test_min_formula)
{
    //  min = mult x max(1, log10 n) x probe interval (memberlist values).
    ck_assert_int_eq (suspicion_min_ms (4, 1, 1000), 4000);
    ck_assert_int_eq (suspicion_min_ms (4, 10, 1000), 4000);
    ck_assert_int_eq (suspicion_min_ms (4, 20, 1000), 5204);     //  5.2 s (perf anchors)
    ck_assert_int_eq (suspicion_min_ms (4, 100, 1000), 8000);
    ck_assert_int_eq (suspicion_min_ms (4, 1000, 1000), 12000);
    ck_assert_int_eq (suspicion_min_ms (6, 10, 5000), 30000);    //  WAN, 10 servers
    ck_assert_int_eq (suspicion_min_ms (3, 20, 100), 390);       //  -dev, N=20
    ck_assert_int_eq (suspicion_min_ms (4, 0, 1000), 4000);
}
END_TEST

START_TEST (test_wanted_confirmations)
{
    ck_assert_int_eq (suspicion_wanted (4, 20), 2);
    ck_assert_int_eq (suspicion_wanted (6, 20), 4);
    ck_assert_int_eq (suspicion_wanted (3, 20), 1);
    ck_assert_int_eq (suspicion_wanted (4, 3), 0);      //  n - 2 < k
    ck_assert_int_eq (suspicion_wanted (4, 4), 2);
    ck_assert_int_eq (suspicion_wanted (1, 50), 0);
}
END_TEST

START_TEST (test_timeout_shrinks_logarithmically)
{
    int64_t min = 5204, max = 6 * 5204;
    ck_assert_int_eq (suspicion_timeout_ms (min, max, 2, 0), max);
    int64_t one = suspicion_timeout_ms (min, max, 2, 1);
    //  max - log(2)/log(3) x (max - min)
    ck_assert_int_eq (one, 14807);
    ck_assert_int_lt (one, max);
    ck_assert_int_gt (one, min);
    ck_assert_int_eq (suspicion_timeout_ms (min, max, 2, 2), min);
    ck_assert_int_eq (suspicion_timeout_ms (min, max, 2, 5), min);   //  floored at min
    ck_assert_int_eq (suspicion_timeout_ms (min, max, 0, 0), min);   //  k = 0: min at once
}
END_TEST

START_TEST (test_confirmations)
{
    suspicion_t *s = suspicion_new ("n1", 2, 1000, 6000, 50000);
    ck_assert_int_eq (suspicion_deadline (s), 56000);
    ck_assert (!suspicion_confirm (s, "n1"));        //  the first accuser does not count
    ck_assert (suspicion_confirm (s, "n2"));
    ck_assert_int_eq (suspicion_confirmations (s), 1);
    ck_assert_int_lt (suspicion_deadline (s), 56000);
    ck_assert (!suspicion_confirm (s, "n2"));        //  once per accuser
    ck_assert (suspicion_confirm (s, "n3"));
    ck_assert_int_eq (suspicion_deadline (s), 51000);
    ck_assert (!suspicion_confirm (s, "n4"));        //  nothing counts past k
    ck_assert_int_eq (suspicion_confirmations (s), 2);
    suspicion_destroy (&s);
    ck_assert_ptr_null (s);
    suspicion_destroy (&s);

    s = suspicion_new ("n1", 0, 300, 1800, 0);
    ck_assert_int_eq (suspicion_deadline (s), 300);
    ck_assert (!suspicion_confirm (s, "n2"));
    suspicion_destroy (&s);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_suspicion");
    TCase *math = tcase_create ("math");
    tcase_set_timeout (math, 10);
    tcase_add_test (math, test_min_formula);
    tcase_add_test (math, test_wanted_confirmations);
    tcase_add_test (math, test_timeout_shrinks_logarithmically);
    suite_add_tcase (suite, math);
    TCase *timer = tcase_create ("timer");
    tcase_set_timeout (timer, 10);
    tcase_add_test (timer, test_confirmations);
    suite_add_tcase (suite, timer);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
