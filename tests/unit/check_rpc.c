/*  Unit tests of the local RPC sockets: rpc_server, rpc_client, rpc_sub
    over ipc in a temporary run dir. */
#include <check.h>
#include <stdlib.h>
#include <unistd.h>
#include "rpc_client.h"
#include "rpc_server.h"
#include "rpc_sub.h"
#include "rundir.h"
#include "signals.h"
#include "timeutil.h"

static char s_dir[64];

static void
s_setup (void)
{
    signals_install ();
    strcpy (s_dir, "/tmp/mrd-rpc-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
    ck_assert_int_eq (rundir_prepare (s_dir), 0);
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

//  Serves requests until one arrives; echoes the body, or errors on "fail".
static void
s_serve_one (rpc_server_t *server, int64_t timeout_ms)
{
    int64_t deadline = time_mono_ms () + timeout_ms;
    while (time_mono_ms () < deadline) {
        rpc_request_t *request = rpc_server_recv (server);
        if (request) {
            if (strcmp (rpc_request_command (request), "fail") == 0)
                rpc_server_error (server, &request, 404, "Not %s", "found");
            else {
                cJSON *echo = cJSON_Duplicate (rpc_request_body (request), 1);
                rpc_server_reply (server, &request, &echo);
            }
            ck_assert_ptr_null (request);
            return;
        }
        zmq_pollitem_t item = { NULL, rpc_server_fd (server), ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 10);
    }
}

typedef struct { int calls; int status; char error[64]; } result_t;

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    result_t *result = (result_t *) arg;
    result->calls++;
    result->status = status;
    if (reply && reply->type == ENVELOPE_ERR)
        snprintf (result->error, sizeof result->error, "%s",
                  cJSON_GetObjectItem (reply->body, "Error")->valuestring);
}

START_TEST (test_call_reply_and_error)
{
    struct stat st;
    char run[100];
    snprintf (run, sizeof run, "%s/run", s_dir);
    ck_assert_int_eq (stat (run, &st), 0);
    ck_assert_int_eq (st.st_mode & 0777, 0700);

    rpc_server_t *server = rpc_server_new (s_dir, "unit");
    ck_assert_ptr_nonnull (server);
    rpc_client_t *client = rpc_client_new (s_dir, "unit");
    ck_assert_ptr_nonnull (client);
    //  async: send, serve, process
    result_t result = { 0 };
    cJSON *body = cJSON_Parse ("{\"x\":1}");
    int64_t waited = time_mono_ms ();
    while (time_mono_ms () - waited < 2000) {
        result.calls = 0;
        cJSON *copy = cJSON_Duplicate (body, 1);
        rpc_client_send (client, "echo", &copy, 2000, s_on_reply, &result);
        if (result.calls == 0)
            break;      //  connected and queued
        zmq_poll (NULL, 0, 20);
    }
    cJSON_Delete (body);
    ck_assert_int_eq (result.calls, 0);
    ck_assert_uint_eq (rpc_client_pending (client), 1);
    s_serve_one (server, 2000);
    int64_t deadline = time_mono_ms () + 2000;
    while (result.calls == 0 && time_mono_ms () < deadline) {
        zmq_pollitem_t item = { NULL, rpc_client_fd (client), ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 10);
        rpc_client_process (client);
    }
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, RPC_OK);
    ck_assert_uint_eq (rpc_client_pending (client), 0);

    //  error reply through the async path
    result.calls = 0;
    rpc_client_send (client, "fail", NULL, 2000, s_on_reply, &result);
    s_serve_one (server, 2000);
    deadline = time_mono_ms () + 2000;
    while (result.calls == 0 && time_mono_ms () < deadline) {
        zmq_poll (NULL, 0, 10);
        rpc_client_process (client);
    }
    ck_assert_str_eq (result.error, "Not found");

    rpc_client_destroy (&client);
    rpc_server_destroy (&server);
    ck_assert_ptr_null (server);
}
END_TEST

START_TEST (test_timeout_unavailable_and_cancel)
{
    //  nobody bound: sends fail at once
    rpc_client_t *client = rpc_client_new (s_dir, "absent");
    result_t result = { 0 };
    rpc_client_send (client, "x", NULL, 1000, s_on_reply, &result);
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, RPC_UNAVAILABLE);
    int status = 0;
    ck_assert_ptr_null (rpc_client_call (client, "x", NULL, 200, &status));
    ck_assert_int_eq (status, RPC_UNAVAILABLE);
    rpc_client_destroy (&client);

    //  bound but never answering: deadline fires, in deadline order
    rpc_server_t *server = rpc_server_new (s_dir, "mute");
    client = rpc_client_new (s_dir, "mute");
    ck_assert_ptr_null (rpc_client_call (client, "x", NULL, 300, &status));
    ck_assert_int_eq (status, RPC_TIMEOUT);
    result_t slow = { 0 }, fast = { 0 }, cancelled = { 0 };
    rpc_client_send (client, "x", NULL, 400, s_on_reply, &slow);
    rpc_client_send (client, "x", NULL, 100, s_on_reply, &fast);
    uint64_t id = rpc_client_send (client, "x", NULL, 50, s_on_reply, &cancelled);
    rpc_client_cancel (client, id);
    ck_assert_uint_eq (rpc_client_pending (client), 2);
    int64_t next = rpc_client_next_timeout (client);
    ck_assert (next >= 0 && next <= 100);
    int64_t deadline = time_mono_ms () + 2000;
    while (rpc_client_pending (client) && time_mono_ms () < deadline) {
        zmq_poll (NULL, 0, 20);
        rpc_client_expire (client);
        if (fast.calls)
            ck_assert (slow.calls == 0 || time_mono_ms () >= 0);
    }
    ck_assert_int_eq (fast.status, RPC_TIMEOUT);
    ck_assert_int_eq (slow.status, RPC_TIMEOUT);
    ck_assert_int_eq (cancelled.calls, 0);
    ck_assert_int_eq (rpc_client_next_timeout (client), -1);
    //  fail_sent_before answers only what was sent before the given time
    result_t old = { 0 }, young = { 0 };
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &old);
    zmq_poll (NULL, 0, 20);
    int64_t restart = time_mono_ms ();
    zmq_poll (NULL, 0, 20);
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &young);
    rpc_client_fail_sent_before (client, restart, RPC_UNAVAILABLE);
    ck_assert_int_eq (old.calls, 1);
    ck_assert_int_eq (old.status, RPC_UNAVAILABLE);
    ck_assert_int_eq (young.calls, 0);
    ck_assert_uint_eq (rpc_client_pending (client), 1);
    rpc_client_cancel (client, 0);
    //  fail_all answers everything pending
    result_t a = { 0 };
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &a);
    rpc_client_fail_all (client, RPC_UNAVAILABLE);
    ck_assert_int_eq (a.status, RPC_UNAVAILABLE);
    ck_assert_uint_eq (rpc_client_pending (client), 0);
    rpc_client_destroy (&client);
    rpc_server_destroy (&server);
}
END_TEST

START_TEST (test_hold_while_restarting)
{
    //  held requests wait for the daemon instead of failing at once
    rpc_client_t *client = rpc_client_new (s_dir, "late");
    rpc_client_set_hold (client, 3000);
    result_t held = { 0 };
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &held);
    ck_assert_int_eq (held.calls, 0);
    ck_assert_int_eq (rpc_client_next_timeout (client), 10);
    rpc_server_t *server = rpc_server_new (s_dir, "late");
    int64_t deadline = time_mono_ms () + 3000;
    bool served = false;
    while (held.calls == 0 && time_mono_ms () < deadline) {
        zmq_poll (NULL, 0, 10);
        rpc_client_expire (client);
        rpc_request_t *request = rpc_server_recv (server);
        if (request) {
            rpc_server_reply (server, &request, NULL);
            served = true;
        }
        rpc_client_process (client);
    }
    ck_assert (served);
    ck_assert_int_eq (held.calls, 1);
    ck_assert_int_eq (held.status, RPC_OK);
    rpc_server_destroy (&server);
    rpc_client_destroy (&client);

    //  with nobody there, the hold runs out as unavailable; destroy with
    //  held requests frees them
    client = rpc_client_new (s_dir, "never");
    rpc_client_set_hold (client, 100);
    result_t lost = { 0 }, dropped = { 0 };
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &lost);
    int64_t started = time_mono_ms ();
    while (lost.calls == 0 && time_mono_ms () - started < 2000) {
        zmq_poll (NULL, 0, 10);
        rpc_client_expire (client);
    }
    ck_assert_int_eq (lost.status, RPC_UNAVAILABLE);
    ck_assert (time_mono_ms () - started >= 100);
    rpc_client_send (client, "x", NULL, 5000, s_on_reply, &dropped);
    rpc_client_destroy (&client);
    ck_assert_int_eq (dropped.calls, 0);
}
END_TEST

START_TEST (test_many_pending)
{
    rpc_server_t *server = rpc_server_new (s_dir, "many");
    rpc_client_t *client = rpc_client_new (s_dir, "many");
    int status;
    //  wait until connected
    int64_t deadline = time_mono_ms () + 2000;
    envelope_t *reply = NULL;
    while (!reply && time_mono_ms () < deadline) {
        cJSON *body = NULL;
        uint64_t unused = 0;
        (void) unused;
        rpc_client_send (client, "probe", &body, 1000, NULL, NULL);
        s_serve_one (server, 50);
        rpc_client_process (client);
        reply = (envelope_t *) (uintptr_t) (rpc_client_pending (client) == 0);
    }
    static result_t results[3000];
    for (int i = 0; i < 3000; i++)
        rpc_client_send (client, "x", NULL, 60000, s_on_reply, &results[i]);
    ck_assert_uint_eq (rpc_client_pending (client), 3000);
    for (int i = 0; i < 3000; i++)
        s_serve_one (server, 1000);
    deadline = time_mono_ms () + 5000;
    while (rpc_client_pending (client) && time_mono_ms () < deadline) {
        zmq_poll (NULL, 0, 5);
        rpc_client_process (client);
    }
    ck_assert_uint_eq (rpc_client_pending (client), 0);
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq (results[i].calls, 1);
    (void) status;
    rpc_client_destroy (&client);
    rpc_server_destroy (&server);
}
END_TEST

START_TEST (test_malformed_dropped_and_restart_seen)
{
    rpc_server_t *server = rpc_server_new (s_dir, "strict");
    rpc_sub_t *sub = rpc_sub_new (s_dir, "strict");
    char endpoint[200];
    rundir_endpoint (s_dir, "strict", "rpc", endpoint, sizeof endpoint);
    zsock_t *raw = zsock_new_dealer (endpoint);
    zstr_sendx (raw, "MRD1", "REQ", "x", "01", "{}", NULL);
    zstr_sendx (raw, "garbage", NULL);
    zstr_sendx (raw, "MRD1", "REQ", "x", "7", "{}", NULL);
    int64_t deadline = time_mono_ms () + 2000;
    rpc_request_t *request = NULL;
    while (!request && time_mono_ms () < deadline) {
        request = rpc_server_recv (server);
        zmq_poll (NULL, 0, 5);
    }
    ck_assert_ptr_nonnull (request);
    ck_assert_uint_eq (rpc_request_id (request), 7);
    ck_assert_uint_eq (rpc_server_malformed (server), 2);
    rpc_request_destroy (&request);
    zsock_destroy (&raw);
    //  the subscriber sees heartbeats; a new server boot counts as restart
    char first_boot[32];
    snprintf (first_boot, sizeof first_boot, "%s", rpc_server_boot_id (server));
    deadline = time_mono_ms () + 3000;
    bool seen = false;
    while (!seen && time_mono_ms () < deadline) {
        rpc_server_tick (server);
        envelope_t *event = rpc_sub_recv (sub);
        if (event)
            seen = rpc_sub_restarted_take (sub);
        envelope_destroy (&event);
        zmq_poll (NULL, 0, 20);
    }
    ck_assert (seen);
    ck_assert (rpc_sub_silence_ms (sub) < 3000);
    int64_t first_started = rpc_sub_started_ms (sub);
    ck_assert (first_started > 0 && first_started <= time_mono_ms ());
    rpc_server_destroy (&server);
    server = rpc_server_new (s_dir, "strict");
    ck_assert_str_ne (rpc_server_boot_id (server), first_boot);
    deadline = time_mono_ms () + 4000;
    seen = false;
    while (!seen && time_mono_ms () < deadline) {
        rpc_server_tick (server);
        envelope_t *event = rpc_sub_recv (sub);
        if (event)
            seen = rpc_sub_restarted_take (sub);
        envelope_destroy (&event);
        zmq_poll (NULL, 0, 20);
    }
    ck_assert (seen);
    ck_assert (rpc_sub_started_ms (sub) >= first_started);
    rpc_sub_destroy (&sub);
    rpc_server_destroy (&server);
}
END_TEST

START_TEST (test_endpoint_length)
{
    char buf[300];
    char long_dir[200];
    memset (long_dir, 'a', 150);
    long_dir[0] = '/';
    long_dir[150] = 0;
    ck_assert_int_eq (rundir_endpoint (long_dir, "catalogd", "rpc", buf, sizeof buf), -1);
    ck_assert_int_eq (rundir_endpoint ("/tmp/x", "catalogd", "rpc", buf, sizeof buf), 0);
    ck_assert_str_eq (buf, "ipc:///tmp/x/run/catalogd.rpc");
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("rpc");
    TCase *tc = tcase_create ("rpc");
    tcase_add_checked_fixture (tc, s_setup, s_teardown);
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_call_reply_and_error);
    tcase_add_test (tc, test_timeout_unavailable_and_cancel);
    tcase_add_test (tc, test_many_pending);
    tcase_add_test (tc, test_hold_while_restarting);
    tcase_add_test (tc, test_malformed_dropped_and_restart_seen);
    tcase_add_test (tc, test_endpoint_length);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
