/*  Unit tests of the immediate relay's rate bound (gossipd/relay.c), spec
    docs/protocol/gossip.md "Dissemination": an urgent update asks for an
    extra gossip round at once, rounds stay at least gap_ms apart, and a
    burst of requests costs one round per gap. */
#include <check.h>
#include <stdint.h>
#include "../../gossipd/relay.h"

START_TEST (test_gap)
{
    ck_assert_int_eq (relay_gap_ms (200), 10);          //  LAN
    ck_assert_int_eq (relay_gap_ms (500), 25);          //  WAN
    ck_assert_int_eq (relay_gap_ms (100), 5);           //  fast (-dev)
    ck_assert_int_eq (relay_gap_ms (10), 1);
    ck_assert_int_eq (relay_gap_ms (0), 1);
}
END_TEST

START_TEST (test_request_at_once)
{
    relay_t *relay = relay_new (10);
    ck_assert_ptr_nonnull (relay);
    //  Nothing asked: nothing due.
    ck_assert_int_eq (relay_next (relay), INT64_MAX);
    ck_assert (!relay_take (relay, 1000));
    //  The first request runs at once.
    relay_request (relay);
    ck_assert_int_le (relay_next (relay), 1000);
    ck_assert (relay_take (relay, 1000));
    ck_assert (!relay_take (relay, 1000));              //  satisfied
    ck_assert_int_eq (relay_next (relay), INT64_MAX);
    ck_assert_uint_eq (relay_rounds (relay), 1);
    //  Long after the last round: at once again.
    relay_request (relay);
    ck_assert (relay_take (relay, 2000));
    ck_assert_uint_eq (relay_rounds (relay), 2);
    relay_destroy (&relay);
    relay_destroy (&relay);                             //  idempotent
    ck_assert_ptr_null (relay);
}
END_TEST

START_TEST (test_burst_bounded)
{
    relay_t *relay = relay_new (10);
    relay_request (relay);
    ck_assert (relay_take (relay, 1000));
    //  A burst of requests within the gap: one round when the gap is up.
    for (int i = 1; i <= 9; i++) {
        relay_request (relay);
        ck_assert (!relay_take (relay, 1000 + i));
        ck_assert_int_eq (relay_next (relay), 1010);
    }
    ck_assert (relay_take (relay, 1010));
    ck_assert (!relay_take (relay, 1010));
    ck_assert_uint_eq (relay_rounds (relay), 2);
    //  Requests flooding every millisecond for a second: at most one round
    //  per gap (100), however many requests (1000).
    uint64_t before = relay_rounds (relay);
    for (int64_t now = 1011; now < 2011; now++) {
        relay_request (relay);
        relay_take (relay, now);
    }
    ck_assert_uint_le (relay_rounds (relay) - before, 100);
    ck_assert_uint_ge (relay_rounds (relay) - before, 99);
    relay_destroy (&relay);
}
END_TEST

START_TEST (test_periodic_round)
{
    relay_t *relay = relay_new (10);
    //  A periodic round carries what was pending: no extra round.
    relay_request (relay);
    relay_periodic (relay, 500);
    ck_assert_int_eq (relay_next (relay), INT64_MAX);
    ck_assert (!relay_take (relay, 500));
    ck_assert_uint_eq (relay_rounds (relay), 0);
    //  And it counts for the gap.
    relay_request (relay);
    ck_assert (!relay_take (relay, 505));
    ck_assert_int_eq (relay_next (relay), 510);
    ck_assert (relay_take (relay, 510));
    ck_assert_uint_eq (relay_rounds (relay), 1);
    relay_destroy (&relay);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_relay");
    TCase *gap = tcase_create ("gap");
    tcase_set_timeout (gap, 10);
    tcase_add_test (gap, test_gap);
    suite_add_tcase (suite, gap);
    TCase *rounds = tcase_create ("rounds");
    tcase_set_timeout (rounds, 10);
    tcase_add_test (rounds, test_request_at_once);
    tcase_add_test (rounds, test_burst_bounded);
    tcase_add_test (rounds, test_periodic_round);
    suite_add_tcase (suite, rounds);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
