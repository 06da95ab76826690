/*  Unit tests of forwarderd/fwd_keys and of CURVE on the server RPC
    endpoint: keys derived from the gossip key, a pool member gets in, a
    peer with another key or without CURVE is refused
    (docs/protocol/server-rpc.md, "Security"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../forwarderd/fwd_endpoint.h"
#include "../../forwarderd/fwd_keys.h"
#include "../../forwarderd/fwd_pool.h"
#include "timeutil.h"

#define KEY_A "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="   //  32 bytes
#define KEY_B "4U4sMFbKX2NjEzzNiUz8XQ=="                       //  16 bytes
#define ADDR  "127.0.9.3:18303"

START_TEST (test_derivation)
{
    fwd_keys_t a, a2, b;
    char err[128];
    ck_assert_int_eq (fwd_keys_derive (&a, KEY_A, err, sizeof err), 0);
    ck_assert (a.enabled);
    ck_assert_int_eq (strlen (a.server_public), 40);
    ck_assert_int_eq (strlen (a.client_secret), 40);
    //  Deterministic: every node derives the same keys.
    ck_assert_int_eq (fwd_keys_derive (&a2, KEY_A, err, sizeof err), 0);
    ck_assert_str_eq (a.server_public, a2.server_public);
    ck_assert_str_eq (a.server_secret, a2.server_secret);
    ck_assert_str_eq (a.client_public, a2.client_public);
    ck_assert_str_eq (a.client_secret, a2.client_secret);
    //  Server and client pairs differ; another gossip key gives others.
    ck_assert_str_ne (a.server_public, a.client_public);
    ck_assert_int_eq (fwd_keys_derive (&b, KEY_B, err, sizeof err), 0);
    ck_assert_str_ne (a.server_public, b.server_public);
    ck_assert_str_ne (a.client_public, b.client_public);
    //  The public halves are Curve25519 of the secrets.
    char public_z85[41];
    ck_assert_int_eq (zmq_curve_public (public_z85, a.server_secret), 0);
    ck_assert_str_eq (public_z85, a.server_public);
    ck_assert_int_eq (zmq_curve_public (public_z85, a.client_secret), 0);
    ck_assert_str_eq (public_z85, a.client_public);
    uint8_t raw[32];
    zmq_z85_decode (raw, a.client_public);
    ck_assert_int_eq (memcmp (raw, a.client_public_bin, 32), 0);
    //  No key: plain TCP.
    ck_assert_int_eq (fwd_keys_derive (&b, "", err, sizeof err), 0);
    ck_assert (!b.enabled);
    ck_assert_int_eq (fwd_keys_derive (&b, NULL, err, sizeof err), 0);
    ck_assert (!b.enabled);
}
END_TEST

START_TEST (test_bad_keys)
{
    fwd_keys_t keys;
    char err[128];
    ck_assert_int_eq (fwd_keys_derive (&keys, "not base64!!", err, sizeof err), -1);
    ck_assert_str_eq (err, "encrypt: must be base64 of a 16, 24 or 32 byte key");
    ck_assert (!keys.enabled);
    //  Valid base64 of a wrong length (10 bytes).
    ck_assert_int_eq (fwd_keys_derive (&keys, "AAAAAAAAAAAAAA==", err, sizeof err), -1);
    ck_assert_int_eq (fwd_keys_derive (&keys, "AAAA", err, sizeof err), -1);
    //  Longer than any key.
    char longer[200];
    memset (longer, 'A', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    ck_assert_int_eq (fwd_keys_derive (&keys, longer, err, sizeof err), -1);
}
END_TEST

typedef struct { int calls; int status; } result_t;

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    result_t *result = (result_t *) arg;
    result->calls++;
    result->status = status;
}

//  Pumps one pool and the endpoint, answering every request with {}.
static void
s_pump (fwd_pool_t *pool, fwd_endpoint_t *endpoint, result_t *result, int64_t ms)
{
    int64_t deadline = time_mono_ms () + ms;
    while (time_mono_ms () < deadline && result->calls == 0) {
        zmq_pollitem_t items[8];
        size_t n = fwd_pool_pollitems (pool, items, 6);
        n += fwd_endpoint_pollitems (endpoint, items + n);
        zmq_poll (items, (int) n, 5);
        fwd_endpoint_process_zap (endpoint);
        fwd_inbound_t *inbound;
        while ((inbound = fwd_endpoint_recv (endpoint))) {
            cJSON *body = cJSON_CreateObject ();
            fwd_endpoint_reply (endpoint, &inbound, ENVELOPE_REP, &body);
        }
        fwd_pool_process (pool);
        fwd_pool_expire (pool);
    }
}

START_TEST (test_curve_members_only)
{
    fwd_keys_t keys, other, plain;
    char err[128];
    fwd_keys_derive (&keys, KEY_A, err, sizeof err);
    fwd_keys_derive (&other, KEY_B, err, sizeof err);
    fwd_keys_derive (&plain, "", err, sizeof err);
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR, &keys);
    ck_assert_ptr_nonnull (endpoint);
    //  The ZAP handler is per process: a second endpoint with keys fails.
    ck_assert_ptr_null (fwd_endpoint_new ("tcp://127.0.9.4:18304", &keys));

    //  A member (same gossip key) is served.
    fwd_pool_t *member = fwd_pool_new (&keys);
    result_t ok = { 0 };
    ck_assert_uint_gt (fwd_pool_send (member, "dc1", ADDR, "status.leader", "{}", 5000,
                                      s_on_reply, &ok), 0);
    s_pump (member, endpoint, &ok, 5000);
    ck_assert_int_eq (ok.calls, 1);
    ck_assert_int_eq (ok.status, FWD_POOL_OK);
    ck_assert_uint_eq (fwd_endpoint_denied (endpoint), 0);

    //  Another gossip key: the handshake fails, nothing is served.
    fwd_pool_t *stranger = fwd_pool_new (&other);
    result_t refused = { 0 };
    fwd_pool_send (stranger, "dc1", ADDR, "status.leader", "{}", 5000, s_on_reply, &refused);
    s_pump (stranger, endpoint, &refused, 5000);
    ck_assert_int_eq (refused.calls, 1);
    ck_assert_int_eq (refused.status, FWD_POOL_UNSENT);
    ck_assert_int_eq (fwd_pool_state (stranger, "dc1", ADDR), FWD_CONN_DOWN);

    //  The right server key but a client key not derived from the gossip
    //  key: the ZAP handler refuses it.
    fwd_keys_t forged = keys;
    zcert_t *cert = zcert_new ();
    snprintf (forged.client_public, sizeof forged.client_public, "%s", zcert_public_txt (cert));
    snprintf (forged.client_secret, sizeof forged.client_secret, "%s", zcert_secret_txt (cert));
    zcert_destroy (&cert);
    fwd_pool_t *forger = fwd_pool_new (&forged);
    result_t denied = { 0 };
    fwd_pool_send (forger, "dc1", ADDR, "status.leader", "{}", 5000, s_on_reply, &denied);
    s_pump (forger, endpoint, &denied, 5000);
    ck_assert_int_eq (denied.calls, 1);
    ck_assert_int_ne (denied.status, FWD_POOL_OK);
    ck_assert_uint_ge (fwd_endpoint_denied (endpoint), 1);

    //  No CURVE at all: refused.
    fwd_pool_t *naked = fwd_pool_new (&plain);
    result_t none = { 0 };
    fwd_pool_send (naked, "dc1", ADDR, "status.leader", "{}", 1500, s_on_reply, &none);
    s_pump (naked, endpoint, &none, 5000);
    ck_assert_int_eq (none.calls, 1);
    ck_assert_int_ne (none.status, FWD_POOL_OK);

    //  The member still works afterwards.
    ok.calls = 0;
    fwd_pool_send (member, "dc1", ADDR, "status.leader", "{}", 5000, s_on_reply, &ok);
    s_pump (member, endpoint, &ok, 5000);
    ck_assert_int_eq (ok.status, FWD_POOL_OK);

    fwd_pool_destroy (&naked);
    fwd_pool_destroy (&forger);
    fwd_pool_destroy (&stranger);
    fwd_pool_destroy (&member);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_keys");
    TCase *tc = tcase_create ("derivation");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_derivation);
    tcase_add_test (tc, test_bad_keys);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("curve");
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_curve_members_only);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
