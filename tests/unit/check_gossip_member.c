/*  Unit tests of the member table's random picks (gossipd/member.c
    members_random) and of the random source under them
    (gossipd/crypto.c crypto_random_below), spec docs/protocol/gossip.md
    "Probing", "Dissemination": probe orders, gossip targets and indirect
    probe relays are random and independent in every agent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/crypto.h"
#include "../../gossipd/member.h"

static members_t *
s_members (int count)
{
    members_t *members = members_new ();
    for (int i = 0; i < count; i++) {
        char name[16];
        snprintf (name, sizeof name, "m%d", i);
        members_insert (members, name);
    }
    return members;
}

static bool
s_even_only (void *arg, const member_t *member)
{
    return atoi (member->name + 1) % 2 == 0;
}

START_TEST (test_distinct_and_filtered)
{
    members_t *members = s_members (20);
    member_t *out[MEMBERS_RANDOM_MAX];
    for (int round = 0; round < 200; round++) {
        size_t got = members_random (members, out, 3, s_even_only, NULL);
        ck_assert_uint_eq (got, 3);
        for (size_t i = 0; i < got; i++) {
            ck_assert (s_even_only (NULL, out[i]));
            for (size_t j = 0; j < i; j++)
                ck_assert_ptr_ne (out[i], out[j]);
        }
    }
    //  Fewer pass than asked: all of them.
    ck_assert_uint_eq (members_random (members, out, 15, s_even_only, NULL), 10);
    //  No filter; k is capped.
    members_t *many = s_members (100);
    ck_assert_uint_eq (members_random (many, out, 1000, NULL, NULL), MEMBERS_RANDOM_MAX);
    members_t *none = members_new ();
    ck_assert_uint_eq (members_random (none, out, 3, NULL, NULL), 0);
    ck_assert_uint_eq (members_random (members, out, 0, NULL, NULL), 0);
    members_destroy (&none);
    members_destroy (&many);
    members_destroy (&members);
}
END_TEST

START_TEST (test_uniform)
{
    //  Every member is picked about as often, and lands about as often in
    //  each output slot (the order is random too).
    members_t *members = s_members (10);
    int picked[10] = { 0 }, first[10] = { 0 };
    member_t *out[3];
    int rounds = 30000;
    for (int round = 0; round < rounds; round++) {
        ck_assert_uint_eq (members_random (members, out, 3, NULL, NULL), 3);
        first[atoi (out[0]->name + 1)]++;
        for (int i = 0; i < 3; i++)
            picked[atoi (out[i]->name + 1)]++;
    }
    for (int i = 0; i < 10; i++) {
        //  Expected 9000 and 3000; bounds at about 6 standard deviations.
        ck_assert_int_gt (picked[i], 8500);
        ck_assert_int_lt (picked[i], 9500);
        ck_assert_int_gt (first[i], 2700);
        ck_assert_int_lt (first[i], 3300);
    }
    members_destroy (&members);
}
END_TEST

START_TEST (test_random_below)
{
    ck_assert_uint_eq (crypto_random_below (0), 0);
    ck_assert_uint_eq (crypto_random_below (1), 0);
    int seen[7] = { 0 };
    for (int i = 0; i < 7000; i++) {
        uint32_t value = crypto_random_below (7);
        ck_assert_uint_lt (value, 7);
        seen[value]++;
    }
    for (int i = 0; i < 7; i++)
        ck_assert_int_gt (seen[i], 700);
    ck_assert_uint_lt (crypto_random_below (UINT32_MAX), UINT32_MAX);
    //  Not libc's random(): a library that reseeds it (czmq does, with the
    //  time in seconds, at its first socket) must not make two processes
    //  draw the same numbers.
    uint32_t a[16], b[16];
    srandom (42);
    for (int i = 0; i < 16; i++)
        a[i] = crypto_random_below (1u << 30);
    srandom (42);
    for (int i = 0; i < 16; i++)
        b[i] = crypto_random_below (1u << 30);
    ck_assert (memcmp (a, b, sizeof a) != 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_member");
    TCase *pick = tcase_create ("random_pick");
    tcase_set_timeout (pick, 20);
    tcase_add_test (pick, test_distinct_and_filtered);
    tcase_add_test (pick, test_uniform);
    suite_add_tcase (suite, pick);
    TCase *source = tcase_create ("random_source");
    tcase_set_timeout (source, 10);
    tcase_add_test (source, test_random_below);
    suite_add_tcase (suite, source);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
