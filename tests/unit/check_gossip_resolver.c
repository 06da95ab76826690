/*  Unit tests of join-address host name lookups (gossipd/resolver.c), spec
    docs/protocol/gossip.md "Join addresses": the host[:port] syntax, a
    lookup through /etc/hosts, a failed lookup, results in order, destroy
    with lookups queued, and destroy while a lookup hangs (the worker frees
    the state when it returns; the sanitizer build checks nothing leaks). */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../gossipd/resolver.h"

//  Waits up to timeout_ms for the resolver to have a result, then takes it.
static bool
s_wait_take (resolver_t *resolver, resolver_result_t *result, int timeout_ms)
{
    struct pollfd pfd = { resolver_fd (resolver), POLLIN, 0 };
    if (poll (&pfd, 1, timeout_ms) != 1)
        return false;
    return resolver_take (resolver, result);
}

START_TEST (test_split)
{
    char host[RESOLVER_HOST_MAX + 1];
    uint16_t port = 0;
    ck_assert_int_eq (resolver_split ("consul.example", 8301, host, sizeof host, &port), 0);
    ck_assert_str_eq (host, "consul.example");
    ck_assert_uint_eq (port, 8301);
    ck_assert_int_eq (resolver_split ("dc1_s1:8302", 8301, host, sizeof host, &port), 0);
    ck_assert_str_eq (host, "dc1_s1");
    ck_assert_uint_eq (port, 8302);
    ck_assert_int_eq (resolver_split ("fqdn.example.:1", 8301, host, sizeof host, &port), 0);
    ck_assert_str_eq (host, "fqdn.example.");
    const char *bad[] = { "", "host:", "host:0", "host:65536", "host:8a", "host:+1",
                          "host:123456", "a:b:c", "-a", "a-", "a..b", "10.1", "1.2.3.4.5",
                          "[::1]:80", "ho st", "h\xc3\xa9", "a.-b.c", ".", "host: 80",
                          "host:000080", "0x7f000001", "127.1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (resolver_split (bad[i], 8301, host, sizeof host, &port) != 0,
                       "accepted \"%s\"", bad[i]);
    char label[80];
    memset (label, 'a', 64);
    label[64] = '\0';
    ck_assert_int_ne (resolver_split (label, 1, host, sizeof host, &port), 0);
    label[63] = '\0';
    ck_assert_int_eq (resolver_split (label, 1, host, sizeof host, &port), 0);
    char small[4];
    ck_assert_int_ne (resolver_split ("abcd", 1, small, sizeof small, &port), 0);
}
END_TEST

START_TEST (test_lookups)
{
    //  A DNS server that does not answer fails the lookup within seconds.
    setenv ("RES_OPTIONS", "timeout:1 attempts:1", 1);
    resolver_t *resolver = resolver_new (4);
    ck_assert_ptr_nonnull (resolver);
    resolver_result_t result;
    ck_assert (!resolver_take (resolver, &result));
    ck_assert_int_eq (resolver_lookup (resolver, "localhost", 8301, 11), 0);
    //  Absolute, so that no search domain is tried.
    ck_assert_int_eq (resolver_lookup (resolver, "meridian-test.invalid.", 8302, 12), 0);
    ck_assert_int_eq (resolver_lookup (resolver, "localhost", 9, 13), 0);

    //  Results come in the order asked.
    ck_assert (s_wait_take (resolver, &result, 10000));
    ck_assert_uint_eq (result.cookie, 11);
    ck_assert (result.ok);
    char text[64];
    packet_addr_format (&result.addr, text, sizeof text);
    ck_assert_str_eq (text, "127.0.0.1:8301");

    memset (&result, 0, sizeof result);
    ck_assert (s_wait_take (resolver, &result, 10000));
    ck_assert_uint_eq (result.cookie, 12);
    ck_assert (!result.ok);
    ck_assert_ptr_nonnull (strstr (result.error, "meridian-test.invalid"));

    ck_assert (s_wait_take (resolver, &result, 10000));
    ck_assert_uint_eq (result.cookie, 13);
    ck_assert (result.ok);
    ck_assert_uint_eq (result.addr.port, 9);
    ck_assert (!resolver_take (resolver, &result));
    //  Drained: the descriptor is no longer readable.
    struct pollfd pfd = { resolver_fd (resolver), POLLIN, 0 };
    ck_assert_int_eq (poll (&pfd, 1, 0), 0);
    resolver_destroy (&resolver);
    ck_assert_ptr_null (resolver);
    resolver_destroy (&resolver);
}
END_TEST

//  A lookup that hangs until released, and counts its calls and returns.
static pthread_mutex_t s_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_gate_cond = PTHREAD_COND_INITIALIZER;
static int s_gate_open, s_gate_entered, s_gate_returned;

static int
s_hanging_lookup (const char *node, const char *service, const struct addrinfo *hints,
                  struct addrinfo **res)
{
    pthread_mutex_lock (&s_gate_lock);
    s_gate_entered++;
    pthread_cond_broadcast (&s_gate_cond);
    while (!s_gate_open)
        pthread_cond_wait (&s_gate_cond, &s_gate_lock);
    s_gate_returned++;
    pthread_cond_broadcast (&s_gate_cond);
    pthread_mutex_unlock (&s_gate_lock);
    return getaddrinfo (node, service, hints, res);
}

START_TEST (test_destroy_while_a_lookup_hangs)
{
    resolver_t *resolver = resolver_new_with (4, s_hanging_lookup);
    ck_assert_ptr_nonnull (resolver);
    ck_assert_int_eq (resolver_lookup (resolver, "localhost", 8301, 1), 0);
    ck_assert_int_eq (resolver_lookup (resolver, "localhost", 8301, 2), 0);
    pthread_mutex_lock (&s_gate_lock);
    while (s_gate_entered == 0)
        pthread_cond_wait (&s_gate_cond, &s_gate_lock);
    pthread_mutex_unlock (&s_gate_lock);
    //  Returns after its bounded wait although the lookup still hangs.
    resolver_destroy (&resolver);
    ck_assert_ptr_null (resolver);
    pthread_mutex_lock (&s_gate_lock);
    ck_assert_int_eq (s_gate_returned, 0);
    s_gate_open = 1;
    pthread_cond_broadcast (&s_gate_cond);
    while (s_gate_returned == 0)
        pthread_cond_wait (&s_gate_cond, &s_gate_lock);
    pthread_mutex_unlock (&s_gate_lock);
    //  The orphaned worker frees the state and exits without taking the
    //  second lookup; give it time before the leak check at exit.
    usleep (200 * 1000);
    ck_assert_int_eq (s_gate_entered, 1);
}
END_TEST

START_TEST (test_destroy_with_lookups_queued)
{
    resolver_t *resolver = resolver_new (4);
    ck_assert_ptr_nonnull (resolver);
    for (uint64_t i = 1; i <= 50; i++)
        ck_assert_int_eq (resolver_lookup (resolver, "localhost", 8301, i), 0);
    //  Whether the worker is between lookups or inside one, destroy returns
    //  and nothing leaks (the sanitizer build checks).
    resolver_destroy (&resolver);
    ck_assert_ptr_null (resolver);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_resolver");
    TCase *tc = tcase_create ("resolver");
    tcase_set_timeout (tc, 60);
    tcase_add_test (tc, test_split);
    tcase_add_test (tc, test_lookups);
    tcase_add_test (tc, test_destroy_with_lookups_queued);
    tcase_add_test (tc, test_destroy_while_a_lookup_hangs);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
