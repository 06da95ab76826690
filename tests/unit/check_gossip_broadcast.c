/*  Unit tests of the dissemination queue (gossipd/broadcast.c), spec
    docs/protocol/gossip.md "Dissemination". */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/broadcast.h"

//  A fake encoded message of len bytes whose payload starts with tag.
static size_t
s_msg (uint8_t *buf, size_t len, uint8_t tag)
{
    memset (buf, tag, len);
    buf[0] = 0x06;
    buf[1] = (uint8_t) ((len - 3) >> 8);
    buf[2] = (uint8_t) (len - 3);
    return len;
}

START_TEST (test_retransmit_limit)
{
    ck_assert_int_eq (broadcast_retransmit_limit (4, 1), 4);
    ck_assert_int_eq (broadcast_retransmit_limit (4, 9), 4);
    ck_assert_int_eq (broadcast_retransmit_limit (4, 10), 8);
    ck_assert_int_eq (broadcast_retransmit_limit (4, 99), 8);
    ck_assert_int_eq (broadcast_retransmit_limit (4, 100), 12);
    ck_assert_int_eq (broadcast_retransmit_limit (4, 9999), 16);
    ck_assert_int_eq (broadcast_retransmit_limit (2, 20), 4);
}
END_TEST

START_TEST (test_order_and_limit)
{
    broadcast_queue_t *q = broadcast_queue_new (0);
    uint8_t msg[32], out[256];
    uint64_t a = broadcast_queue_push (q, "a", msg, s_msg (msg, 10, 'a'));
    uint64_t b = broadcast_queue_push (q, "b", msg, s_msg (msg, 10, 'b'));
    ck_assert_uint_gt (b, a);
    ck_assert_uint_eq (broadcast_queue_size (q), 2);
    //  Newest first among equally transmitted; only what fits is taken.
    size_t used = broadcast_queue_fill (q, out, 12, 3);
    ck_assert_uint_eq (used, 10);
    ck_assert_int_eq (out[3], 'b');
    ck_assert_int_eq (broadcast_queue_transmits (q, b), 1);
    ck_assert_int_eq (broadcast_queue_transmits (q, a), 0);
    //  Now a has fewer transmits: it goes first.
    used = broadcast_queue_fill (q, out, sizeof out, 3);
    ck_assert_uint_eq (used, 20);
    ck_assert_int_eq (out[3], 'a');
    ck_assert_int_eq (out[13], 'b');
    //  b reaches the limit (3) and is dropped; a follows one fill later.
    used = broadcast_queue_fill (q, out, sizeof out, 3);
    ck_assert_uint_eq (used, 20);
    ck_assert (!broadcast_queue_pending (q, b));
    ck_assert (broadcast_queue_pending (q, a));
    used = broadcast_queue_fill (q, out, sizeof out, 3);
    ck_assert_uint_eq (used, 10);
    ck_assert_uint_eq (broadcast_queue_size (q), 0);
    ck_assert_uint_eq (broadcast_queue_fill (q, out, sizeof out, 3), 0);
    broadcast_queue_destroy (&q);
    ck_assert_ptr_null (q);
}
END_TEST

START_TEST (test_replace_same_key)
{
    broadcast_queue_t *q = broadcast_queue_new (0);
    uint8_t msg[32], out[256];
    uint64_t old = broadcast_queue_push (q, "n1", msg, s_msg (msg, 8, 'o'));
    broadcast_queue_fill (q, out, sizeof out, 10);
    uint64_t fresh = broadcast_queue_push (q, "n1", msg, s_msg (msg, 8, 'n'));
    ck_assert_uint_eq (broadcast_queue_size (q), 1);
    ck_assert (!broadcast_queue_pending (q, old));
    ck_assert_int_eq (broadcast_queue_transmits (q, fresh), 0);
    broadcast_queue_fill (q, out, sizeof out, 10);
    ck_assert_int_eq (out[3], 'n');
    broadcast_queue_reset (q);
    ck_assert_uint_eq (broadcast_queue_size (q), 0);
    broadcast_queue_destroy (&q);
}
END_TEST

START_TEST (test_skip_what_does_not_fit)
{
    broadcast_queue_t *q = broadcast_queue_new (0);
    uint8_t msg[600], out[1400];
    broadcast_queue_push (q, "small", msg, s_msg (msg, 20, 's'));
    broadcast_queue_push (q, "big", msg, s_msg (msg, 500, 'B'));
    //  The newest (big) does not fit 100 bytes; the small one still goes.
    size_t used = broadcast_queue_fill (q, out, 100, 5);
    ck_assert_uint_eq (used, 20);
    ck_assert_int_eq (out[3], 's');
    ck_assert_uint_eq (broadcast_queue_fill (q, out, 2, 5), 0);
    broadcast_queue_destroy (&q);
}
END_TEST

START_TEST (test_depth_limit)
{
    broadcast_queue_t *q = broadcast_queue_new (4);
    uint8_t msg[16], out[256];
    char key[16];
    for (int i = 0; i < 3; i++) {
        snprintf (key, sizeof key, "k%d", i);
        broadcast_queue_push (q, key, msg, s_msg (msg, 5, (uint8_t) ('0' + i)));
    }
    broadcast_queue_fill (q, out, sizeof out, 10);     //  all three sent once
    uint64_t fresh[3];
    for (int i = 3; i < 6; i++) {
        snprintf (key, sizeof key, "k%d", i);
        fresh[i - 3] = broadcast_queue_push (q, key, msg, s_msg (msg, 5, (uint8_t) ('0' + i)));
    }
    //  Over depth 4: the most transmitted go first.
    ck_assert_uint_eq (broadcast_queue_size (q), 4);
    for (int i = 0; i < 3; i++)
        ck_assert (broadcast_queue_pending (q, fresh[i]));
    broadcast_queue_destroy (&q);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_broadcast");
    TCase *tc = tcase_create ("queue");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_retransmit_limit);
    tcase_add_test (tc, test_order_and_limit);
    tcase_add_test (tc, test_replace_same_key);
    tcase_add_test (tc, test_skip_what_does_not_fit);
    tcase_add_test (tc, test_depth_limit);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
