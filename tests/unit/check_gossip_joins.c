/*  Unit tests of the join requests of a pool (gossipd/joins.c), spec
    docs/protocol/gossip.md "Push-pull", "Local RPC" (join): every address
    ends once, the requester hears the outcome once all have ended, from
    joins_report only. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "../../gossipd/joins.h"

typedef struct {
    int calls;
    int joined;
    char error[1024];
} outcome_t;

static void
s_done (void *arg, int joined, const char *error)
{
    outcome_t *outcome = (outcome_t *) arg;
    outcome->calls++;
    outcome->joined = joined;
    snprintf (outcome->error, sizeof outcome->error, "%s", error);
}

START_TEST (test_outcome)
{
    joins_t *joins = joins_new ("lan");
    ck_assert_ptr_nonnull (joins);
    const char *addresses[] = { "10.0.0.1", "10.0.0.2:8301", "bad" };
    outcome_t outcome = { 0 };
    uint64_t id = joins_start (joins, addresses, 3, s_done, &outcome);
    ck_assert_uint_gt (id, 0);
    ck_assert_uint_eq (joins_count (joins, id), 3);
    ck_assert_uint_eq (joins_count (joins, id + 1), 0);
    ck_assert_str_eq (joins_end (joins, joins_cookie (id, 2), "address must be ip"), "bad");
    ck_assert_str_eq (joins_end (joins, joins_cookie (id, 0), NULL), "10.0.0.1");
    //  An address ends once; a cookie of no join (periodic push-pull) or
    //  out of range names nothing.
    ck_assert_ptr_null (joins_end (joins, joins_cookie (id, 0), "late"));
    ck_assert_ptr_null (joins_end (joins, 0, "x"));
    ck_assert_ptr_null (joins_end (joins, joins_cookie (id + 7, 0), "x"));
    ck_assert_ptr_null (joins_end (joins, joins_cookie (id, 3), "x"));
    ck_assert (!joins_due (joins));
    joins_report (joins);
    ck_assert_int_eq (outcome.calls, 0);
    ck_assert_str_eq (joins_end (joins, joins_cookie (id, 1), "connection refused"),
                      "10.0.0.2:8301");
    //  Reported from joins_report, not from the call that ended it.
    ck_assert_int_eq (outcome.calls, 0);
    ck_assert (joins_due (joins));
    joins_report (joins);
    ck_assert_int_eq (outcome.calls, 1);
    ck_assert_int_eq (outcome.joined, 1);
    ck_assert_str_eq (outcome.error, "Failed to join bad: address must be ip\n"
                                     "Failed to join 10.0.0.2:8301: connection refused");
    ck_assert (!joins_due (joins));
    ck_assert_uint_eq (joins_count (joins, id), 0);     //  gone
    joins_report (joins);
    ck_assert_int_eq (outcome.calls, 1);
    joins_destroy (&joins);
    joins_destroy (&joins);
    ck_assert_ptr_null (joins);
}
END_TEST

START_TEST (test_concurrent_and_limits)
{
    joins_t *joins = joins_new ("wan");
    const char *one[] = { "10.0.0.1" };
    outcome_t first = { 0 }, second = { 0 }, empty = { 0 };
    uint64_t a = joins_start (joins, one, 1, s_done, &first);
    uint64_t b = joins_start (joins, one, 1, s_done, &second);
    ck_assert_uint_ne (a, b);
    ck_assert_uint_ne (joins_cookie (a, 0), joins_cookie (b, 0));
    joins_end (joins, joins_cookie (b, 0), NULL);
    joins_report (joins);
    ck_assert_int_eq (first.calls, 0);
    ck_assert_int_eq (second.calls, 1);
    ck_assert_int_eq (second.joined, 1);
    ck_assert_str_eq (second.error, "");
    //  No address: done at once (on the next report).
    joins_start (joins, one, 0, s_done, &empty);
    ck_assert (joins_due (joins));
    joins_report (joins);
    ck_assert_int_eq (empty.calls, 1);
    ck_assert_int_eq (empty.joined, 0);
    //  At most JOINS_ADDRESSES_MAX addresses are kept.
    static const char *many[JOINS_ADDRESSES_MAX + 10];
    for (size_t i = 0; i < JOINS_ADDRESSES_MAX + 10; i++)
        many[i] = "10.0.0.9";
    outcome_t big = { 0 };
    uint64_t c = joins_start (joins, many, JOINS_ADDRESSES_MAX + 10, s_done, &big);
    ck_assert_uint_eq (joins_count (joins, c), JOINS_ADDRESSES_MAX);
    //  Destroyed with joins in progress: nobody is called back.
    joins_destroy (&joins);
    ck_assert_int_eq (first.calls, 0);
    ck_assert_int_eq (big.calls, 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_joins");
    TCase *tc = tcase_create ("joins");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_outcome);
    tcase_add_test (tc, test_concurrent_and_limits);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
