/*  Unit tests of forwarderd/fwd_pool and fwd_endpoint over TCP on
    127.0.9.x: pipelining, connections keyed by (datacenter, address),
    refused / lost / silent servers, close and prune, malformed replies
    (docs/protocol/server-rpc.md, "Endpoints", "Failures and retries"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../forwarderd/fwd_endpoint.h"
#include "../../forwarderd/fwd_pool.h"
#include "timeutil.h"

#define ADDR_A   "127.0.9.1:18301"
#define ADDR_OFF "127.0.9.2:18302"      //  nothing listens there
#define ADDR_RAW "127.0.9.1:18305"      //  a raw ROUTER
#define ADDR_BAD "127.0.9.1:18306"      //  malformed requests

typedef struct {
    int calls;
    int status;
    uint64_t id;
    char text[128];
    int order[256];
    int count;
} result_t;

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    result_t *result = (result_t *) arg;
    result->calls++;
    result->status = status;
    result->text[0] = 0;
    if (reply) {
        cJSON *n = cJSON_GetObjectItem (reply->body, "n");
        if (cJSON_IsNumber (n) && result->count < 256)
            result->order[result->count++] = n->valueint;
        char *text = cJSON_PrintUnformatted (reply->body);
        snprintf (result->text, sizeof result->text, "%s", text);
        free (text);
    }
}

//  Polls the pool (and the endpoint, if any) for up to ms or until done.
static void
s_pump (fwd_pool_t *pool, fwd_endpoint_t *endpoint, zlistx_t *inbox,
        int64_t ms, bool (*done) (void *), void *arg)
{
    int64_t deadline = time_mono_ms () + ms;
    while (time_mono_ms () < deadline) {
        zmq_pollitem_t items[64];
        size_t n = fwd_pool_pollitems (pool, items, 60);
        if (endpoint)
            n += fwd_endpoint_pollitems (endpoint, items + n);
        zmq_poll (items, (int) n, 5);
        fwd_pool_process (pool);
        fwd_pool_expire (pool);
        if (endpoint) {
            fwd_endpoint_process_zap (endpoint);
            fwd_inbound_t *inbound;
            while ((inbound = fwd_endpoint_recv (endpoint)))
                zlistx_add_end (inbox, inbound);
        }
        if (done && done (arg))
            return;
    }
}

typedef struct { result_t *result; int want; } wait_t;

static bool
s_result_calls (void *arg)
{
    wait_t *wait = (wait_t *) arg;
    return wait->result->calls >= wait->want;
}

static bool
s_inbox_size (void *arg)
{
    wait_t *wait = (wait_t *) arg;
    return zlistx_size ((zlistx_t *) wait->result) >= (size_t) wait->want;
}

START_TEST (test_pipelined_requests)
{
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_A, NULL);
    ck_assert_ptr_nonnull (endpoint);
    fwd_pool_t *pool = fwd_pool_new (NULL);
    zlistx_t *inbox = zlistx_new ();
    result_t result = { 0 };
    for (int i = 0; i < 100; i++) {
        char body[32];
        snprintf (body, sizeof body, "{\"n\":%d}", i);
        ck_assert_uint_gt (fwd_pool_send (pool, "dc2", ADDR_A, "catalog.nodes", body,
                                          5000, s_on_reply, &result), 0);
    }
    ck_assert_uint_eq (fwd_pool_pending (pool), 100);
    ck_assert_uint_eq (fwd_pool_size (pool), 1);
    wait_t wait = { (result_t *) inbox, 100 };
    s_pump (pool, endpoint, inbox, 5000, s_inbox_size, &wait);
    ck_assert_uint_eq (zlistx_size (inbox), 100);
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_A), FWD_CONN_UP);
    //  All 100 were in flight at once; answer them in reverse order.
    fwd_inbound_t *inbound;
    while ((inbound = (fwd_inbound_t *) zlistx_last (inbox))) {
        zlistx_delete (inbox, zlistx_cursor (inbox));
        ck_assert_str_eq (fwd_inbound_command (inbound), "catalog.nodes");
        cJSON *echo = cJSON_Duplicate (fwd_inbound_body (inbound), 1);
        ck_assert_int_eq (fwd_endpoint_reply (endpoint, &inbound, ENVELOPE_REP, &echo), 0);
        ck_assert_ptr_null (inbound);
    }
    wait = (wait_t) { &result, 100 };
    s_pump (pool, endpoint, inbox, 5000, s_result_calls, &wait);
    ck_assert_int_eq (result.calls, 100);
    ck_assert_int_eq (result.status, FWD_POOL_OK);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq (result.order[i], 99 - i);
    ck_assert_uint_eq (fwd_pool_pending (pool), 0);
    zlistx_destroy (&inbox);
    fwd_pool_destroy (&pool);
    ck_assert_ptr_null (pool);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

START_TEST (test_keyed_by_dc_and_address)
{
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_A, NULL);
    fwd_pool_t *pool = fwd_pool_new (NULL);
    zlistx_t *inbox = zlistx_new ();
    result_t r1 = { 0 }, r2 = { 0 };
    fwd_pool_send (pool, "dc1", ADDR_A, "status.leader", "{\"n\":1}", 5000, s_on_reply, &r1);
    fwd_pool_send (pool, "dc2", ADDR_A, "status.leader", "{\"n\":2}", 5000, s_on_reply, &r2);
    //  The same address for two DCs is two connections (consul#19503).
    ck_assert_uint_eq (fwd_pool_size (pool), 2);
    wait_t wait = { (result_t *) inbox, 2 };
    s_pump (pool, endpoint, inbox, 5000, s_inbox_size, &wait);
    ck_assert_uint_eq (zlistx_size (inbox), 2);
    fwd_inbound_t *inbound;
    while ((inbound = (fwd_inbound_t *) zlistx_first (inbox))) {
        zlistx_delete (inbox, zlistx_cursor (inbox));
        cJSON *echo = cJSON_Duplicate (fwd_inbound_body (inbound), 1);
        fwd_endpoint_reply (endpoint, &inbound, ENVELOPE_REP, &echo);
    }
    wait = (wait_t) { &r1, 1 };
    s_pump (pool, endpoint, inbox, 5000, s_result_calls, &wait);
    wait = (wait_t) { &r2, 1 };
    s_pump (pool, endpoint, inbox, 5000, s_result_calls, &wait);
    //  Each reply came back on its own connection.
    ck_assert_int_eq (r1.order[0], 1);
    ck_assert_int_eq (r2.order[0], 2);
    cJSON *dump = fwd_pool_dump (pool);
    ck_assert_int_eq (cJSON_GetArraySize (dump), 2);
    ck_assert_str_ne (cJSON_GetObjectItem (cJSON_GetArrayItem (dump, 0), "Datacenter")->valuestring,
                      cJSON_GetObjectItem (cJSON_GetArrayItem (dump, 1), "Datacenter")->valuestring);
    cJSON_Delete (dump);
    //  Closing one leaves the other.
    fwd_pool_close (pool, "dc1", ADDR_A);
    ck_assert_uint_eq (fwd_pool_size (pool), 1);
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_A), FWD_CONN_UP);
    zlistx_destroy (&inbox);
    fwd_pool_destroy (&pool);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

START_TEST (test_refused_fails_fast)
{
    fwd_pool_t *pool = fwd_pool_new (NULL);
    result_t result = { 0 };
    int64_t start = time_mono_ms ();
    ck_assert_uint_gt (fwd_pool_send (pool, "dc2", ADDR_OFF, "catalog.nodes", "{}", 30000,
                                      s_on_reply, &result), 0);
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_OFF), FWD_CONN_CONNECTING);
    wait_t wait = { &result, 1 };
    s_pump (pool, NULL, NULL, 5000, s_result_calls, &wait);
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, FWD_POOL_UNSENT);
    ck_assert_int_lt (time_mono_ms () - start, 3000);      //  not the 30 s deadline
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_OFF), FWD_CONN_DOWN);
    //  Known down: refused at once, callback not called.
    ck_assert_uint_eq (fwd_pool_send (pool, "dc2", ADDR_OFF, "catalog.nodes", "{}", 30000,
                                      s_on_reply, &result), 0);
    ck_assert_int_eq (result.calls, 1);
    //  Once a server listens there, zmq's reconnect brings it up.
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_OFF, NULL);
    ck_assert_ptr_nonnull (endpoint);
    int64_t until = time_mono_ms () + 5000;
    while (fwd_pool_state (pool, "dc2", ADDR_OFF) != FWD_CONN_UP && time_mono_ms () < until)
        s_pump (pool, NULL, NULL, 20, NULL, NULL);
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_OFF), FWD_CONN_UP);
    fwd_pool_destroy (&pool);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

START_TEST (test_timeout_lost_cancel)
{
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_A, NULL);
    fwd_pool_t *pool = fwd_pool_new (NULL);
    zlistx_t *inbox = zlistx_new ();
    zlistx_set_destructor (inbox, (zlistx_destructor_fn *) fwd_inbound_destroy);
    //  A silent server: the request times out.
    result_t slow = { 0 };
    int64_t start = time_mono_ms ();
    fwd_pool_send (pool, "dc2", ADDR_A, "catalog.nodes", "{\"n\":1}", 300, s_on_reply, &slow);
    wait_t wait = { &slow, 1 };
    s_pump (pool, endpoint, inbox, 3000, s_result_calls, &wait);
    ck_assert_int_eq (slow.calls, 1);
    ck_assert_int_eq (slow.status, FWD_POOL_TIMEOUT);
    ck_assert_int_ge (time_mono_ms () - start, 290);
    ck_assert_uint_eq (zlistx_size (inbox), 1);
    //  Its late reply is dropped.
    fwd_inbound_t *late = (fwd_inbound_t *) zlistx_detach (inbox, NULL);
    cJSON *body = cJSON_CreateObject ();
    fwd_endpoint_reply (endpoint, &late, ENVELOPE_REP, &body);
    s_pump (pool, endpoint, inbox, 200, NULL, NULL);
    ck_assert_int_eq (slow.calls, 1);

    //  Cancelled: never called back.
    result_t cancelled = { 0 };
    uint64_t id = fwd_pool_send (pool, "dc2", ADDR_A, "catalog.nodes", "{}", 200, s_on_reply, &cancelled);
    fwd_pool_cancel (pool, id);
    fwd_pool_cancel (pool, 12345);
    ck_assert_uint_eq (fwd_pool_pending (pool), 0);

    //  Sent, then the server goes away: lost, long before the deadline.
    result_t lost = { 0 };
    fwd_pool_send (pool, "dc2", ADDR_A, "catalog.register", "{}", 30000, s_on_reply, &lost);
    wait = (wait_t) { (result_t *) inbox, 2 };
    s_pump (pool, endpoint, inbox, 3000, s_inbox_size, &wait);
    s_pump (pool, endpoint, inbox, 3000, s_inbox_size, &wait);
    start = time_mono_ms ();
    zlistx_purge (inbox);
    fwd_endpoint_destroy (&endpoint);
    wait = (wait_t) { &lost, 1 };
    s_pump (pool, NULL, NULL, 10000, s_result_calls, &wait);
    ck_assert_int_eq (cancelled.calls, 0);
    ck_assert_int_eq (lost.calls, 1);
    ck_assert_int_eq (lost.status, FWD_POOL_LOST);
    ck_assert_int_lt (time_mono_ms () - start, 9000);
    ck_assert_int_eq (fwd_pool_state (pool, "dc2", ADDR_A), FWD_CONN_DOWN);
    zlistx_destroy (&inbox);
    fwd_pool_destroy (&pool);
}
END_TEST

static bool
s_keep_none (void *arg, const char *dc, const char *address)
{
    return strcmp (dc, (const char *) arg) != 0;
}

START_TEST (test_close_and_prune)
{
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_A, NULL);
    fwd_pool_t *pool = fwd_pool_new (NULL);
    zlistx_t *inbox = zlistx_new ();
    zlistx_set_destructor (inbox, (zlistx_destructor_fn *) fwd_inbound_destroy);
    result_t r1 = { 0 }, r2 = { 0 };
    fwd_pool_send (pool, "dc1", ADDR_A, "catalog.nodes", "{}", 30000, s_on_reply, &r1);
    fwd_pool_send (pool, "dc2", ADDR_A, "catalog.nodes", "{}", 30000, s_on_reply, &r2);
    wait_t wait = { (result_t *) inbox, 2 };
    s_pump (pool, endpoint, inbox, 3000, s_inbox_size, &wait);
    //  close: the sent request is lost, at once.
    fwd_pool_close (pool, "dc1", ADDR_A);
    ck_assert_int_eq (r1.calls, 1);
    ck_assert_int_eq (r1.status, FWD_POOL_LOST);
    fwd_pool_close (pool, "dc9", ADDR_A);      //  unknown: nothing
    //  prune: connections the keeper rejects go, pending or not.
    fwd_pool_prune (pool, INT64_MAX, s_keep_none, "dc2");
    ck_assert_int_eq (r2.calls, 1);
    ck_assert_int_eq (r2.status, FWD_POOL_LOST);
    ck_assert_uint_eq (fwd_pool_size (pool), 0);
    //  prune: idle connections with nothing pending go.
    result_t r3 = { 0 };
    fwd_pool_send (pool, "dc3", ADDR_A, "catalog.nodes", "{}", 30000, s_on_reply, &r3);
    fwd_pool_prune (pool, 0, NULL, NULL);
    ck_assert_uint_eq (fwd_pool_size (pool), 1);       //  pending: kept
    fwd_pool_cancel (pool, 0);
    wait = (wait_t) { (result_t *) inbox, 3 };
    s_pump (pool, endpoint, inbox, 3000, s_inbox_size, &wait);
    fwd_inbound_t *inbound = (fwd_inbound_t *) zlistx_detach (inbox, zlistx_last (inbox) ? zlistx_cursor (inbox) : NULL);
    cJSON *body = cJSON_CreateObject ();
    fwd_endpoint_reply (endpoint, &inbound, ENVELOPE_ERR, &body);
    wait = (wait_t) { &r3, 1 };
    s_pump (pool, endpoint, inbox, 3000, s_result_calls, &wait);
    ck_assert_int_eq (r3.status, FWD_POOL_OK);
    fwd_pool_prune (pool, 0, NULL, NULL);
    ck_assert_uint_eq (fwd_pool_size (pool), 0);
    zlistx_destroy (&inbox);
    fwd_pool_destroy (&pool);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

START_TEST (test_malformed_dropped)
{
    //  A raw ROUTER plays a broken server.
    zsock_t *router = zsock_new_router ("tcp://" ADDR_RAW);
    ck_assert_ptr_nonnull (router);
    fwd_pool_t *pool = fwd_pool_new (NULL);
    result_t result = { 0 };
    uint64_t id = fwd_pool_send (pool, "dc2", ADDR_RAW, "catalog.nodes", "{}", 2000, s_on_reply, &result);
    zmsg_t *request = NULL;
    int64_t until = time_mono_ms () + 3000;
    while (!request && time_mono_ms () < until) {
        s_pump (pool, NULL, NULL, 10, NULL, NULL);
        if (zsock_events (router) & ZMQ_POLLIN)
            request = zmsg_recv (router);
    }
    ck_assert_ptr_nonnull (request);
    ck_assert_int_eq (zmsg_size (request), 6);
    zframe_t *identity = zmsg_pop (request);
    char *tag = zmsg_popstr (request);
    ck_assert_str_eq (tag, "MRD1");
    free (tag);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%llu", (unsigned long long) id);
    //  Wrong tag, wrong type, bad JSON, a REQ: all dropped.
    const char *bad[][5] = {
        { "MRD2", "REP", "catalog.nodes", id_text, "{}" },
        { "MRD1", "XXX", "catalog.nodes", id_text, "{}" },
        { "MRD1", "REP", "catalog.nodes", id_text, "{nope" },
        { "MRD1", "REQ", "catalog.nodes", id_text, "{}" },
    };
    for (size_t i = 0; i < 4; i++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addmem (msg, zframe_data (identity), zframe_size (identity));
        for (int j = 0; j < 5; j++)
            zmsg_addstr (msg, bad[i][j]);
        zmsg_send (&msg, router);
    }
    zmsg_t *truncated = zmsg_new ();
    zmsg_addmem (truncated, zframe_data (identity), zframe_size (identity));
    zmsg_addstr (truncated, "MRD1");
    zmsg_send (&truncated, router);
    s_pump (pool, NULL, NULL, 300, NULL, NULL);
    ck_assert_int_eq (result.calls, 0);
    //  The well-formed reply still lands.
    zmsg_t *good = zmsg_new ();
    zmsg_addmem (good, zframe_data (identity), zframe_size (identity));
    zmsg_addstr (good, "MRD1");
    zmsg_addstr (good, "ERR");
    zmsg_addstr (good, "catalog.nodes");
    zmsg_addstr (good, id_text);
    zmsg_addstr (good, "{\"Code\":500,\"Error\":\"No cluster leader\"}");
    zmsg_send (&good, router);
    wait_t wait = { &result, 1 };
    s_pump (pool, NULL, NULL, 3000, s_result_calls, &wait);
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, FWD_POOL_OK);
    ck_assert (strstr (result.text, "No cluster leader") != NULL);
    zframe_destroy (&identity);
    zmsg_destroy (&request);
    fwd_pool_destroy (&pool);
    zsock_destroy (&router);
}
END_TEST

START_TEST (test_endpoint_drops_malformed)
{
    fwd_endpoint_t *endpoint = fwd_endpoint_new ("tcp://" ADDR_BAD, NULL);
    ck_assert_ptr_nonnull (endpoint);
    //  A second bind on the same address fails cleanly.
    ck_assert_ptr_null (fwd_endpoint_new ("tcp://" ADDR_BAD, NULL));
    zsock_t *dealer = zsock_new_dealer ("tcp://" ADDR_BAD);
    const char *frames[][5] = {
        { "MRD1", "REQ", "Bad Command", "1", "{}" },
        { "MRD1", "REQ", "catalog.nodes", "01", "{}" },
        { "MRD1", "REP", "catalog.nodes", "1", "{}" },
        { "MRD1", "REQ", "catalog.nodes", "1", "{} x" },
        { "MRD1", "REQ", "catalog.nodes", "7", "{\"ok\":1}" },
    };
    for (size_t i = 0; i < 5; i++) {
        zmsg_t *msg = zmsg_new ();
        for (int j = 0; j < 5; j++)
            zmsg_addstr (msg, frames[i][j]);
        zmsg_send (&msg, dealer);
    }
    fwd_inbound_t *inbound = NULL;
    int64_t until = time_mono_ms () + 3000;
    while (!inbound && time_mono_ms () < until) {
        zmq_pollitem_t items[2];
        size_t n = fwd_endpoint_pollitems (endpoint, items);
        zmq_poll (items, (int) n, 10);
        inbound = fwd_endpoint_recv (endpoint);
    }
    ck_assert_ptr_nonnull (inbound);
    ck_assert_uint_eq (fwd_inbound_id (inbound), 7);
    ck_assert_uint_eq (fwd_endpoint_malformed (endpoint), 4);
    fwd_inbound_destroy (&inbound);
    fwd_inbound_destroy (&inbound);
    zsock_destroy (&dealer);
    fwd_endpoint_destroy (&endpoint);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_pool");
    TCase *tc = tcase_create ("requests");
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_pipelined_requests);
    tcase_add_test (tc, test_keyed_by_dc_and_address);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("failures");
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_refused_fails_fast);
    tcase_add_test (tc, test_timeout_lost_cancel);
    tcase_add_test (tc, test_close_and_prune);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("malformed");
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_malformed_dropped);
    tcase_add_test (tc, test_endpoint_drops_malformed);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
