/*  Unit tests of httpd's links to the node's daemons, against fake
    daemons (rpc_server) in a temporary run dir: peer calls made for HTTP
    requests (reply, ERR passthrough, timeout, unavailable, a request that
    goes away, shutdown, a daemon that restarts or goes silent), and the
    catalog link's routing (docs/protocol/server-rpc.md, "Use from httpd"):
    local reads to catalogd, other datacenters and a client agent's
    requests to forwarderd with "Datacenter", forwarded reads never cached,
    writes, datacenters, errors passed through. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "rpc_server.h"
#include "rundir.h"
#include "timeutil.h"
#include "../../httpd/catalog_link.h"
#include "../../httpd/peer.h"

static char s_dir [64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-link-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
    ck_assert_int_eq (rundir_prepare (s_dir), 0);
}

static void
s_teardown (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

//  Runs the client side once: link and peer may be NULL.
static void
s_pump (catalog_link_t *link, peer_t *peer)
{
    zmq_poll (NULL, 0, 5);
    if (link)
        catalog_link_process (link);
    if (peer)
        peer_process (peer);
}

//  The next request the fake daemon gets, within 3 s.
static rpc_request_t *
s_next (rpc_server_t *server, catalog_link_t *link, peer_t *peer)
{
    int64_t deadline = time_mono_ms () + 3000;
    while (time_mono_ms () < deadline) {
        rpc_request_t *request = rpc_server_recv (server);
        if (request)
            return request;
        s_pump (link, peer);
    }
    ck_abort_msg ("no request reached the fake daemon");
    return NULL;
}

//  Waits until the HTTP request has its response and nothing pending.
static void
s_answered (http_request_t *request, catalog_link_t *link, peer_t *peer)
{
    int64_t deadline = time_mono_ms () + 3000;
    while (time_mono_ms () < deadline
       && (!request_has_reply (request) || request_op_pending (request)))
        s_pump (link, peer);
    ck_assert (request_has_reply (request));
    ck_assert (!request_op_pending (request));
}

static const char *
s_body (http_request_t *request)
{
    size_t len;
    const char *body = request_reply_body (request, &len);
    static char copy [1024];
    snprintf (copy, sizeof copy, "%.*s", (int) len, body ? body : "");
    return copy;
}

static const char *
s_header (http_request_t *request, const char *name)
{
    struct MHD_Response *response = request_response (request);
    return response ? MHD_get_response_header (response, name) : NULL;
}

//  -- peer -----------------------------------------------------------------

typedef struct {
    peer_t *peer;
    int calls;
    int status;
    bool had_request;
} s_result_t;

//  Answers like a handler: the REP body rendered, else the error.
static void
s_on_reply (void *arg, http_request_t *request, int status, envelope_t *reply)
{
    s_result_t *result = arg;
    result->calls++;
    result->status = status;
    result->had_request = request != NULL;
    if (!request)
        return;
    if (status == RPC_OK && reply->type == ENVELOPE_REP)
        request_reply_json (request, 200, reply->body);
    else
        peer_reply_error (result->peer, request, "leave", status, reply, 100);
}

START_TEST (test_peer_calls)
{
    //  nobody bound, no hold: answered at once
    peer_t *absent = peer_new (s_dir, "gossipd", "gossip", 0);
    ck_assert_ptr_nonnull (absent);
    s_result_t result = { .peer = absent };
    http_request_t *request = request_new ("/v1/agent/leave");
    peer_request (absent, request, "leave", NULL, 100, s_on_reply, &result);
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, RPC_UNAVAILABLE);
    ck_assert_uint_eq (request_reply_status (request), 503);
    ck_assert_str_eq (s_body (request),
                      "gossipd unavailable: the node's gossip daemon is not running");
    request_destroy (&request);
    peer_destroy (&absent);
    ck_assert_ptr_null (absent);

    rpc_server_t *server = rpc_server_new (s_dir, "gossipd");
    ck_assert_ptr_nonnull (server);
    peer_t *peer = peer_new (s_dir, "gossipd", "gossip", 2000);
    ck_assert_str_eq (peer_name (peer), "gossipd");

    //  a reply: the callback renders it, the request is free again
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/members");
    cJSON *body = cJSON_Parse ("{\"WAN\":true}");
    peer_request (peer, request, "members", &body, 2000, s_on_reply, &result);
    ck_assert_ptr_null (body);
    ck_assert (request_op_pending (request));
    rpc_request_t *call = s_next (server, NULL, peer);
    ck_assert_str_eq (rpc_request_command (call), "members");
    ck_assert (cJSON_IsTrue (cJSON_GetObjectItem (rpc_request_body (call), "WAN")));
    cJSON *members = cJSON_Parse ("[{\"Name\":\"n1\"}]");
    rpc_server_reply (server, &call, &members);
    s_answered (request, NULL, peer);
    ck_assert_int_eq (result.status, RPC_OK);
    ck_assert_uint_eq (request_reply_status (request), 200);
    ck_assert_str_eq (s_body (request), "[{\"Name\":\"n1\"}]");
    request_destroy (&request);

    //  an ERR keeps its code and text
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 2000, s_on_reply, &result);
    call = s_next (server, NULL, peer);
    rpc_server_error (server, &call, 409, "A leave is already in progress");
    s_answered (request, NULL, peer);
    ck_assert_uint_eq (request_reply_status (request), 409);
    ck_assert_str_eq (s_body (request), "A leave is already in progress");
    request_destroy (&request);

    //  no reply before the deadline
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 100, s_on_reply, &result);
    rpc_request_t *mute = s_next (server, NULL, peer);
    s_answered (request, NULL, peer);
    ck_assert_int_eq (result.status, RPC_TIMEOUT);
    ck_assert_uint_eq (request_reply_status (request), 500);
    ck_assert_str_eq (s_body (request), "gossipd timeout: no reply to leave within 100 ms");
    request_destroy (&request);
    //  the late reply is dropped
    rpc_server_reply (server, &mute, NULL);
    for (int i = 0; i < 10; i++)
        s_pump (NULL, peer);
    ck_assert_int_eq (result.calls, 1);

    //  the HTTP request goes away first: the callback only releases
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 2000, s_on_reply, &result);
    call = s_next (server, NULL, peer);
    request_destroy (&request);
    ck_assert_int_eq (result.calls, 1);
    ck_assert (!result.had_request);
    rpc_server_reply (server, &call, NULL);
    for (int i = 0; i < 10; i++)
        s_pump (NULL, peer);
    ck_assert_int_eq (result.calls, 1);

    //  shutdown answers what is pending
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 2000, s_on_reply, &result);
    peer_abort_requests (peer);
    ck_assert_int_eq (result.status, PEER_ABORTED);
    ck_assert_uint_eq (request_reply_status (request), 503);
    ck_assert_str_eq (s_body (request), "httpd is shutting down");
    request_destroy (&request);

    peer_destroy (&peer);
    rpc_server_destroy (&server);
}
END_TEST

typedef struct {
    int seen;
    int restarted;
    int silent;
    int events;
} s_signals_t;

static void
s_on_signal (void *arg, peer_signal_t signal, envelope_t *event, int64_t heard_ms)
{
    s_signals_t *signals = arg;
    if (signal == PEER_SEEN)
        signals->seen++;
    else
    if (signal == PEER_RESTARTED)
        signals->restarted++;
    else
    if (signal == PEER_SILENT)
        signals->silent++;
    else
    if (signal == PEER_EVENT)
        signals->events++;
}

//  Ticks the fake daemon until the peer counts to *counter > before.
static void
s_until_signal (rpc_server_t *server, peer_t *peer, int *counter, int before,
                bool publish)
{
    int64_t deadline = time_mono_ms () + 3000;
    while (*counter <= before && time_mono_ms () < deadline) {
        if (publish) {
            cJSON *body = cJSON_CreateObject ();
            rpc_server_publish (server, "state.changed", &body);
        }
        else
            rpc_server_tick (server);
        s_pump (NULL, peer);
    }
    ck_assert_int_gt (*counter, before);
}

START_TEST (test_peer_restart_and_silence)
{
    s_signals_t signals = { 0 };
    rpc_server_t *server = rpc_server_new (s_dir, "gossipd");
    peer_t *peer = peer_new (s_dir, "gossipd", "gossip", 2000);
    peer_set_handler (peer, s_on_signal, &signals);
    ck_assert (!peer_live (peer));
    s_until_signal (server, peer, &signals.seen, 0, false);
    ck_assert (peer_live (peer));

    //  a call that reached the old instance fails when it is replaced
    s_result_t result = { .peer = peer };
    http_request_t *request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 10000, s_on_reply, &result);
    rpc_request_t *call = s_next (server, NULL, peer);
    rpc_request_destroy (&call);
    s_until_signal (server, peer, &signals.events, signals.events, true);
    rpc_server_destroy (&server);
    server = rpc_server_new (s_dir, "gossipd");
    ck_assert_ptr_nonnull (server);
    s_until_signal (server, peer, &signals.restarted, 0, false);
    ck_assert_int_eq (result.status, PEER_LOST);
    ck_assert_uint_eq (request_reply_status (request), 503);
    ck_assert_str_eq (s_body (request),
                      "gossipd unavailable: it stopped before answering leave");
    request_destroy (&request);

    //  silence fails what is pending without waiting for its deadline
    result = (s_result_t) { .peer = peer };
    request = request_new ("/v1/agent/leave");
    peer_request (peer, request, "leave", NULL, 60000, s_on_reply, &result);
    call = s_next (server, NULL, peer);
    int64_t deadline = time_mono_ms () + PEER_SILENCE_MS + 2000;
    while (!signals.silent && time_mono_ms () < deadline) {
        int64_t timeout = peer_next_timeout (peer);
        ck_assert (timeout >= 0 && timeout <= PEER_SILENCE_MS);
        s_pump (NULL, peer);
    }
    ck_assert_int_eq (signals.silent, 1);
    ck_assert (!peer_live (peer));
    ck_assert_int_eq (result.status, PEER_LOST);
    request_destroy (&request);
    rpc_request_destroy (&call);
    peer_destroy (&peer);
    rpc_server_destroy (&server);
}
END_TEST

//  -- catalog link ---------------------------------------------------------

static void
s_config (config_t *cfg, bool server)
{
    config_defaults (cfg);
    snprintf (cfg->data_dir, sizeof cfg->data_dir, "%s", s_dir);
    snprintf (cfg->datacenter, sizeof cfg->datacenter, "dc1");
    cfg->server = server;
}

static const char *
s_field (rpc_request_t *call, const char *name)
{
    return cJSON_GetStringValue (cJSON_GetObjectItem (rpc_request_body (call), name));
}

//  Replies a read result {"Index":index,...,"Result":result}.
static void
s_reply_read (rpc_server_t *server, rpc_request_t **call, uint64_t index,
              const char *result)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", (double) index);
    cJSON_AddBoolToObject (body, "KnownLeader", true);
    cJSON_AddNumberToObject (body, "LastContact", 0);
    cJSON_AddItemToObject (body, "Result", cJSON_Parse (result));
    rpc_server_reply (server, call, &body);
}

//  Starts a catalog.nodes read for uri (its ?dc= and blocking options).
static http_request_t *
s_read (catalog_link_t *link, const char *uri)
{
    http_request_t *request = request_new (uri);
    query_opts_t opts;
    ck_assert_int_eq (request_query_opts (request, &opts), 0);
    cJSON *body = cJSON_CreateObject ();
    catalog_link_read (link, request, "catalog.nodes", &body, &opts,
                       LINK_TABLE_NODES, true);
    return request;
}

START_TEST (test_link_server_routing)
{
    config_t cfg;
    s_config (&cfg, true);
    rpc_server_t *catalogd = rpc_server_new (s_dir, "catalogd");
    rpc_server_t *forwarderd = rpc_server_new (s_dir, "forwarderd");
    catalog_link_t *link = catalog_link_new (&cfg);
    ck_assert_ptr_nonnull (link);
    int fds [LINK_FDS_MAX];
    ck_assert_uint_eq (catalog_link_fds (link, fds), 4);
    ck_assert (!catalog_link_forwards (link, NULL));
    ck_assert (!catalog_link_forwards (link, "dc1"));
    ck_assert (catalog_link_forwards (link, "dc2"));

    //  the local DC: catalogd, as before, no Datacenter added
    http_request_t *request = s_read (link, "/v1/catalog/nodes?dc=dc1");
    rpc_request_t *call = s_next (catalogd, link, NULL);
    ck_assert_str_eq (rpc_request_command (call), "catalog.nodes");
    ck_assert_ptr_null (s_field (call, "Datacenter"));
    s_reply_read (catalogd, &call, 5, "[]");
    s_answered (request, link, NULL);
    ck_assert_str_eq (s_body (request), "[]");
    ck_assert_str_eq (s_header (request, "X-Consul-Index"), "5");
    request_destroy (&request);

    //  another DC: forwarderd, Datacenter set, blocking options passed on;
    //  the X-Consul-* headers come from the remote reply
    for (int round = 0; round < 2; round++) {
        request = s_read (link, "/v1/catalog/nodes?dc=dc2&index=7&wait=2s");
        call = s_next (forwarderd, link, NULL);
        ck_assert_str_eq (rpc_request_command (call), "catalog.nodes");
        ck_assert_str_eq (s_field (call, "Datacenter"), "dc2");
        cJSON *body = rpc_request_body (call);
        ck_assert_int_eq (cJSON_GetObjectItem (body, "MinQueryIndex")->valueint, 7);
        ck_assert_int_eq (cJSON_GetObjectItem (body, "MaxQueryTime")->valueint, 2000);
        s_reply_read (forwarderd, &call, 9, "[{\"Node\":\"s2\"}]");
        s_answered (request, link, NULL);
        ck_assert_uint_eq (request_reply_status (request), 200);
        ck_assert_str_eq (s_body (request), "[{\"Node\":\"s2\"}]");
        ck_assert_str_eq (s_header (request, "X-Consul-Index"), "9");
        ck_assert_str_eq (s_header (request, "X-Consul-KnownLeader"), "true");
        request_destroy (&request);
        //  the second round reaches forwarderd again: never cached
    }

    //  forwarderd's errors pass through
    request = s_read (link, "/v1/catalog/nodes?dc=dc9");
    call = s_next (forwarderd, link, NULL);
    rpc_server_error (forwarderd, &call, 500, "No path to datacenter");
    s_answered (request, link, NULL);
    ck_assert_uint_eq (request_reply_status (request), 500);
    ck_assert_str_eq (s_body (request), "No path to datacenter");
    request_destroy (&request);

    //  a write for another DC
    request = request_new ("/v1/catalog/register?dc=dc2");
    cJSON *body = cJSON_Parse ("{\"Node\":\"ext\",\"Datacenter\":\"dc2\"}");
    catalog_link_write (link, request, "catalog.register", &body, "dc2");
    call = s_next (forwarderd, link, NULL);
    ck_assert_str_eq (rpc_request_command (call), "catalog.register");
    ck_assert_str_eq (s_field (call, "Datacenter"), "dc2");
    ck_assert_str_eq (s_field (call, "Node"), "ext");
    cJSON *reply = cJSON_Parse ("{\"Index\":12,\"Result\":true}");
    rpc_server_reply (forwarderd, &call, &reply);
    s_answered (request, link, NULL);
    ck_assert_str_eq (s_body (request), "true");
    ck_assert_str_eq (s_header (request, "X-Consul-Index"), "12");
    request_destroy (&request);

    //  the list of datacenters is forwarderd's
    request = request_new ("/v1/catalog/datacenters");
    catalog_link_datacenters (link, request);
    call = s_next (forwarderd, link, NULL);
    ck_assert_str_eq (rpc_request_command (call), "datacenters");
    reply = cJSON_Parse ("{\"Result\":[\"dc1\",\"dc2\"]}");
    rpc_server_reply (forwarderd, &call, &reply);
    s_answered (request, link, NULL);
    ck_assert_str_eq (s_body (request), "[\"dc1\",\"dc2\"]");
    request_destroy (&request);
    //  ... and an unusable answer is an error, not a guess
    request = request_new ("/v1/catalog/datacenters");
    catalog_link_datacenters (link, request);
    call = s_next (forwarderd, link, NULL);
    reply = cJSON_Parse ("{\"Result\":\"dc1\"}");
    rpc_server_reply (forwarderd, &call, &reply);
    s_answered (request, link, NULL);
    ck_assert_uint_eq (request_reply_status (request), 500);
    request_destroy (&request);

    catalog_link_destroy (&link);
    ck_assert_ptr_null (link);
    rpc_server_destroy (&catalogd);
    rpc_server_destroy (&forwarderd);
}
END_TEST

typedef struct {
    int calls;
    cJSON *body;
} s_then_t;

static void
s_on_then (void *arg, http_request_t *request, cJSON *body)
{
    s_then_t *then = arg;
    then->calls++;
    if (!request)
        return;
    then->body = body;
    catalog_link_reply_read (request, body, true);
}

static void
s_on_call (void *arg, int status, envelope_t *reply)
{
    *(int *) arg = status == RPC_OK && reply->type == ENVELOPE_REP ? 1 : -1;
}

START_TEST (test_link_client_routing)
{
    config_t cfg;
    s_config (&cfg, false);
    rpc_server_t *forwarderd = rpc_server_new (s_dir, "forwarderd");
    catalog_link_t *link = catalog_link_new (&cfg);
    int fds [LINK_FDS_MAX];
    ck_assert_uint_eq (catalog_link_fds (link, fds), 2);
    ck_assert (catalog_link_forwards (link, NULL));

    //  a client agent's local read goes to forwarderd, naming our DC
    s_then_t then = { 0 };
    http_request_t *request = request_new ("/v1/health/service/web");
    cJSON *body = cJSON_Parse ("{\"ServiceName\":\"web\"}");
    catalog_link_read_then (link, request, "health.service", &body, NULL,
                            s_on_then, &then);
    rpc_request_t *call = s_next (forwarderd, link, NULL);
    ck_assert_str_eq (rpc_request_command (call), "health.service");
    ck_assert_str_eq (s_field (call, "Datacenter"), "dc1");
    ck_assert_str_eq (s_field (call, "ServiceName"), "web");
    s_reply_read (forwarderd, &call, 3, "[{\"Node\":{\"Node\":\"a\"}}]");
    s_answered (request, link, NULL);
    ck_assert_int_eq (then.calls, 1);
    ck_assert_ptr_nonnull (then.body);
    ck_assert_str_eq (s_header (request, "X-Consul-Index"), "3");
    cJSON_Delete (then.body);
    request_destroy (&request);

    //  an error is answered by the link; the finisher only releases
    then = (s_then_t) { 0 };
    request = request_new ("/v1/health/service/web");
    body = cJSON_CreateObject ();
    catalog_link_read_then (link, request, "health.service", &body, NULL,
                            s_on_then, &then);
    call = s_next (forwarderd, link, NULL);
    rpc_server_error (forwarderd, &call, 500, "No known Consul servers");
    s_answered (request, link, NULL);
    ck_assert_int_eq (then.calls, 1);
    ck_assert_ptr_null (then.body);
    ck_assert_str_eq (s_body (request), "No known Consul servers");
    request_destroy (&request);
    //  ... or when the HTTP request goes away first
    then = (s_then_t) { 0 };
    request = request_new ("/v1/health/service/web");
    body = cJSON_CreateObject ();
    catalog_link_read_then (link, request, "health.service", &body, NULL,
                            s_on_then, &then);
    call = s_next (forwarderd, link, NULL);
    request_destroy (&request);
    ck_assert_int_eq (then.calls, 1);
    rpc_request_destroy (&call);

    //  anti-entropy's calls too
    int done = 0;
    body = cJSON_Parse ("{\"Node\":\"c1\"}");
    ck_assert (catalog_link_call (link, "catalog.node", &body, false, s_on_call, &done) > 0);
    call = s_next (forwarderd, link, NULL);
    ck_assert_str_eq (s_field (call, "Datacenter"), "dc1");
    s_reply_read (forwarderd, &call, 3, "null");
    int64_t deadline = time_mono_ms () + 3000;
    while (!done && time_mono_ms () < deadline)
        s_pump (link, NULL);
    ck_assert_int_eq (done, 1);

    catalog_link_destroy (&link);
    rpc_server_destroy (&forwarderd);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_link");
    struct {
        const char *name;
        const TTest *test;
    } cases [] = {
        { "peer_calls", test_peer_calls },
        { "peer_restart_and_silence", test_peer_restart_and_silence },
        { "link_server_routing", test_link_server_routing },
        { "link_client_routing", test_link_client_routing },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        TCase *tc = tcase_create (cases [i].name);
        tcase_add_checked_fixture (tc, s_setup, s_teardown);
        tcase_add_test (tc, cases [i].test);
        tcase_set_timeout (tc, 20);
        suite_add_tcase (suite, tc);
    }
    return suite;
}

int
main (void)
{
    SRunner *runner = srunner_create (s_suite ());
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
