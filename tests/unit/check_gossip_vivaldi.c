/*  Unit tests of serf's network coordinates (gossipd/vivaldi.c), spec
    docs/protocol/gossip.md "Network coordinates". */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/vivaldi.h"

START_TEST (test_origin)
{
    vivaldi_coord_t a, b;
    vivaldi_coord_init (&a);
    vivaldi_coord_init (&b);
    ck_assert (a.error == VIVALDI_ERROR_MAX);
    ck_assert (a.height == VIVALDI_HEIGHT_MIN);
    ck_assert (vivaldi_coord_valid (&a));
    ck_assert (fabs (vivaldi_distance (&a, &b) - 2 * VIVALDI_HEIGHT_MIN) < 1e-12);
    //  A negative adjusted distance falls back to the raw one.
    a.adjustment = -1.0;
    ck_assert (fabs (vivaldi_distance (&a, &b) - 2 * VIVALDI_HEIGHT_MIN) < 1e-12);
    b.vec[0] = 0.5;
    a.adjustment = 0.1;
    ck_assert (fabs (vivaldi_distance (&a, &b) - (0.5 + 2 * VIVALDI_HEIGHT_MIN + 0.1)) < 1e-12);
    a.vec[7] = NAN;
    ck_assert (!vivaldi_coord_valid (&a));
    cJSON *json = vivaldi_coord_json (&b);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (json, "Vec")), VIVALDI_DIMS);
    ck_assert (cJSON_GetObjectItem (json, "Error")->valuedouble == VIVALDI_ERROR_MAX);
    cJSON_Delete (json);
}
END_TEST

START_TEST (test_converges_to_rtt)
{
    //  Two nodes 10 ms apart observing each other, as probes would.
    vivaldi_t *a = vivaldi_new ();
    vivaldi_t *b = vivaldi_new ();
    const double rtt = 0.010;
    for (int i = 0; i < 200; i++) {
        vivaldi_coord_t b_coord = *vivaldi_coord (b);
        ck_assert_int_eq (vivaldi_update (a, "b", &b_coord, rtt), 0);
        vivaldi_coord_t a_coord = *vivaldi_coord (a);
        ck_assert_int_eq (vivaldi_update (b, "a", &a_coord, rtt), 0);
    }
    double estimate = vivaldi_distance (vivaldi_coord (a), vivaldi_coord (b));
    ck_assert_msg (fabs (estimate - rtt) < 0.001, "estimate %f", estimate);
    ck_assert (vivaldi_coord (a)->error < 0.5);
    ck_assert (vivaldi_coord (a)->height >= VIVALDI_HEIGHT_MIN);
    ck_assert_uint_eq (vivaldi_resets (a), 0);
    vivaldi_destroy (&a);
    vivaldi_destroy (&b);
    ck_assert_ptr_null (a);
}
END_TEST

START_TEST (test_rejects_bad_input)
{
    vivaldi_t *a = vivaldi_new ();
    vivaldi_coord_t other, before = *vivaldi_coord (a);
    vivaldi_coord_init (&other);
    ck_assert_int_eq (vivaldi_update (a, "x", &other, -0.001), -1);
    ck_assert_int_eq (vivaldi_update (a, "x", &other, 10.5), -1);
    ck_assert_int_eq (vivaldi_update (a, "x", &other, NAN), -1);
    other.error = INFINITY;
    ck_assert_int_eq (vivaldi_update (a, "x", &other, 0.01), -1);
    ck_assert_int_eq (memcmp (&before, vivaldi_coord (a), sizeof before), 0);
    //  A zero RTT (coarse clocks) is accepted, as serf does.
    vivaldi_coord_init (&other);
    ck_assert_int_eq (vivaldi_update (a, "x", &other, 0.0), 0);
    vivaldi_forget (a, "x");
    vivaldi_forget (a, "never-seen");
    vivaldi_destroy (&a);
}
END_TEST

START_TEST (test_latency_filter)
{
    //  One outlier among three samples is filtered by the median: the
    //  result equals feeding the normal value twice.
    vivaldi_t *filtered = vivaldi_new ();
    vivaldi_t *steady = vivaldi_new ();
    vivaldi_coord_t other;
    vivaldi_coord_init (&other);
    other.vec[0] = 0.01;
    vivaldi_update (filtered, "p", &other, 0.010);
    vivaldi_update (steady, "p", &other, 0.010);
    vivaldi_update (filtered, "p", &other, 0.010);
    vivaldi_update (steady, "p", &other, 0.010);
    vivaldi_update (filtered, "p", &other, 5.0);      //  median of {10ms,10ms,5s} = 10ms
    vivaldi_update (steady, "p", &other, 0.010);
    ck_assert (fabs (vivaldi_coord (filtered)->vec[0] - vivaldi_coord (steady)->vec[0]) < 1e-12);
    vivaldi_destroy (&filtered);
    vivaldi_destroy (&steady);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_vivaldi");
    TCase *tc = tcase_create ("coordinates");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_origin);
    tcase_add_test (tc, test_converges_to_rtt);
    tcase_add_test (tc, test_rejects_bad_input);
    tcase_add_test (tc, test_latency_filter);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
