/*  Unit tests of httpd's remote views (httpd/remote_views.c; spec:
    docs/protocol/server-rpc.md, "Remote views (httpd)"), with a raw
    ZeroMQ ROUTER on an ipc endpoint in a temporary dir standing in for
    forwarderd: offer and lookup (blocking reads served only above the
    view's index), the watch each view sends (its body and index), watch
    answers that replace or keep the view, watch errors, timeouts and an
    unavailable forwarderd ending it, drops by datacenter and generations,
    answers for dropped views discarded, and the least recently read view
    evicted first. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "rpc_client.h"
#include "timeutil.h"
#include "../../httpd/remote_views.h"

#define WAIT_MS 3000        //  deadline of every wait in these tests

static char s_dir [64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-views-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

//  -- the fake forwarderd ----------------------------------------------------

typedef struct {
    zsock_t *router;            //  plays forwarderd; NULL once it is gone
    rpc_client_t *client;       //  httpd's client to it
} s_forwarderd_t;

//  One request the fake forwarderd read: the peer's identity and the
//  decoded envelope.
typedef struct {
    zframe_t *identity;
    envelope_t *request;
} s_call_t;

typedef struct {
    int calls;
    int status;
} s_result_t;

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    s_result_t *result = arg;
    result->calls++;
    result->status = status;
}

//  Runs the client side once, waiting at most 5 ms for either socket.
static void
s_pump (s_forwarderd_t *fwd)
{
    zmq_pollitem_t items [2] = {
        { NULL, rpc_client_fd (fwd->client), ZMQ_POLLIN, 0 },
        { fwd->router ? zsock_resolve (fwd->router) : NULL, 0, ZMQ_POLLIN, 0 },
    };
    zmq_poll (items, fwd->router ? 2 : 1, rpc_client_readable (fwd->client) ? 0 : 5);
    rpc_client_process (fwd->client);
}

static void
s_call_destroy (s_call_t **call_p)
{
    s_call_t *call = *call_p;
    if (!call)
        return;
    zframe_destroy (&call->identity);
    envelope_destroy (&call->request);
    free (call);
    *call_p = NULL;
}

//  The next request forwarderd gets, pumping the client meanwhile (a watch
//  is re-sent from the callback of the previous one's answer).
static s_call_t *
s_next_call (s_forwarderd_t *fwd)
{
    int64_t deadline = time_mono_ms () + WAIT_MS;
    while (!(zsock_events (fwd->router) & ZMQ_POLLIN)) {
        ck_assert_msg (time_mono_ms () < deadline, "no request reached forwarderd");
        s_pump (fwd);
    }
    zmsg_t *msg = zmsg_recv (fwd->router);
    ck_assert_ptr_nonnull (msg);
    s_call_t *call = calloc (1, sizeof (s_call_t));
    ck_assert_ptr_nonnull (call);
    call->identity = zmsg_pop (msg);
    const char *reason = NULL;
    call->request = envelope_decode (msg, &reason);
    zmsg_destroy (&msg);
    ck_assert_msg (call->request != NULL, "bad request: %s", reason);
    ck_assert_int_eq (call->request->type, ENVELOPE_REQ);
    return call;
}

//  Answers call (type REP or ERR, body as JSON text) and destroys it.
static void
s_answer (s_forwarderd_t *fwd, s_call_t **call_p, envelope_type_t type,
          const char *json)
{
    s_call_t *call = *call_p;
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    envelope_t *reply = envelope_new (type, call->request->command,
                                      call->request->id, &body);
    ck_assert_ptr_nonnull (reply);
    zmsg_t *msg = envelope_encode (reply);
    envelope_destroy (&reply);
    ck_assert_ptr_nonnull (msg);
    zmsg_pushmem (msg, zframe_data (call->identity), zframe_size (call->identity));
    ck_assert_int_eq (zmsg_send (&msg, fwd->router), 0);
    s_call_destroy (call_p);
}

//  A round trip of a "ping" through forwarderd: every answer sent before it
//  has been processed by the client when this returns, and the ping is the
//  next request read, so the views sent nothing since the last one read.
static void
s_sync (s_forwarderd_t *fwd)
{
    s_result_t result = { 0 };
    rpc_client_send (fwd->client, "ping", NULL, WAIT_MS, s_on_reply, &result);
    ck_assert_int_eq (result.calls, 0);
    s_call_t *call = s_next_call (fwd);
    ck_assert_str_eq (call->request->command, "ping");
    s_answer (fwd, &call, ENVELOPE_REP, "{}");
    int64_t deadline = time_mono_ms () + WAIT_MS;
    while (result.calls == 0 && time_mono_ms () < deadline)
        s_pump (fwd);
    ck_assert_int_eq (result.calls, 1);
    ck_assert_int_eq (result.status, RPC_OK);
}

//  Binds forwarderd's ROUTER in the temp dir and connects a client to it;
//  returns once a request went through.
static void
s_forwarderd_start (s_forwarderd_t *fwd)
{
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/forwarderd.rpc", s_dir);
    fwd->router = zsock_new_router (endpoint);
    ck_assert_ptr_nonnull (fwd->router);
    fwd->client = rpc_client_new_endpoint (endpoint);
    ck_assert_ptr_nonnull (fwd->client);
    //  ZMQ_IMMEDIATE: sends fail until the connection is up
    int64_t deadline = time_mono_ms () + WAIT_MS;
    for (;;) {
        s_result_t result = { 0 };
        uint64_t id = rpc_client_send (fwd->client, "ping", NULL, WAIT_MS,
                                       s_on_reply, &result);
        if (result.calls == 0) {
            rpc_client_cancel (fwd->client, id);
            s_call_t *call = s_next_call (fwd);
            s_call_destroy (&call);
            break;
        }
        ck_assert_msg (time_mono_ms () < deadline, "client never connected");
        zmq_poll (NULL, 0, 10);
    }
}

//  Closes forwarderd's socket if still there, and the client.
static void
s_forwarderd_stop (s_forwarderd_t *fwd)
{
    zsock_destroy (&fwd->router);
    rpc_client_destroy (&fwd->client);
}

//  -- helpers ----------------------------------------------------------------

//  A rendered read response as httpd's catalog link makes it. Caller owns
//  the reference.
static cache_entry_t *
s_entry (const char *text, uint64_t index)
{
    size_t len = strlen (text);
    char *copy = strdup (text);
    ck_assert_ptr_nonnull (copy);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, copy, MHD_RESPMEM_MUST_FREE);
    ck_assert_ptr_nonnull (response);
    cache_entry_t *entry = cache_entry_new (response, copy, len, index);
    ck_assert_ptr_nonnull (entry);
    return entry;
}

//  Offers a view of a read answered with text at index (the view takes its
//  own reference).
static void
s_offer (remote_views_t *views, const char *key, uint64_t generation,
         const char *command, const char *body_json, bool pretty, bool meta,
         const char *text, uint64_t index)
{
    cJSON *body = cJSON_Parse (body_json);
    ck_assert_ptr_nonnull (body);
    cache_entry_t *entry = s_entry (text, index);
    remote_views_offer (views, key, generation, command, body, pretty, meta,
                        entry, index);
    cache_entry_unref (entry);
    cJSON_Delete (body);
}

//  Same with the current generation, a catalog.node read, and metadata.
static void
s_offer_now (remote_views_t *views, const char *key, const char *body_json,
             const char *text, uint64_t index)
{
    s_offer (views, key, remote_views_generation (views), "catalog.node",
             body_json, false, true, text, index);
}

//  The next request must be the watch of a view offered with command and
//  body_json: the read's body with its query options replaced by
//  MinQueryIndex = index, MaxQueryTime = 60000, AllowStale as the read had
//  it and RequireConsistent false.
static s_call_t *
s_expect_watch (s_forwarderd_t *fwd, const char *command, const char *body_json,
                uint64_t index)
{
    s_call_t *call = s_next_call (fwd);
    ck_assert_str_eq (call->request->command, command);
    cJSON *expected = cJSON_Parse (body_json);
    ck_assert_ptr_nonnull (expected);
    bool stale = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (expected, "AllowStale"));
    cJSON_DeleteItemFromObjectCaseSensitive (expected, "MinQueryIndex");
    cJSON_DeleteItemFromObjectCaseSensitive (expected, "MaxQueryTime");
    cJSON_DeleteItemFromObjectCaseSensitive (expected, "AllowStale");
    cJSON_DeleteItemFromObjectCaseSensitive (expected, "RequireConsistent");
    cJSON_AddNumberToObject (expected, "MinQueryIndex", (double) index);
    cJSON_AddNumberToObject (expected, "MaxQueryTime", 60000);
    cJSON_AddBoolToObject (expected, "AllowStale", stale);
    cJSON_AddBoolToObject (expected, "RequireConsistent", false);
    if (!cJSON_Compare (expected, call->request->body, true)) {
        char *want = cJSON_PrintUnformatted (expected);
        char *got = cJSON_PrintUnformatted (call->request->body);
        ck_abort_msg ("watch body %s, expected %s", got, want);
    }
    cJSON_Delete (expected);
    return call;
}

//  The body of an entry as a string (static buffer).
static const char *
s_text (cache_entry_t *entry)
{
    static char text [256];
    size_t len = 0;
    const char *body = cache_entry_body (entry, &len);
    snprintf (text, sizeof text, "%.*s", (int) len, body ? body : "");
    return text;
}

static const char *
s_header (cache_entry_t *entry, const char *name)
{
    return MHD_get_response_header (cache_entry_response (entry), name);
}

//  Pumps the client until the view under key is gone.
static void
s_wait_gone (s_forwarderd_t *fwd, remote_views_t *views, const char *key)
{
    int64_t deadline = time_mono_ms () + WAIT_MS;
    while (remote_views_lookup (views, key, 0) && time_mono_ms () < deadline)
        s_pump (fwd);
    ck_assert_msg (remote_views_lookup (views, key, 0) == NULL,
                   "view %s still there", key);
}

#define DC2_NODE    "{\"Datacenter\":\"dc2\",\"Node\":\"n1\"}"
#define DC2_STALE   "{\"Datacenter\":\"dc2\",\"Node\":\"n1\",\"AllowStale\":true," \
                    "\"MinQueryIndex\":3,\"MaxQueryTime\":1000," \
                    "\"RequireConsistent\":false}"
#define N1          "{\"Node\":\"n1\"}"

//  -- cases ------------------------------------------------------------------

START_TEST (test_offer_lookup)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 8);
    ck_assert_ptr_nonnull (views);
    ck_assert_uint_eq (remote_views_size (views), 0);
    ck_assert_ptr_null (remote_views_lookup (views, "k1", 0));

    //  A stale read with its own blocking options: the view keeps its
    //  staleness, its watch replaces the rest.
    s_offer_now (views, "k1", DC2_STALE, N1, 5);
    ck_assert_uint_eq (remote_views_size (views), 1);
    cache_entry_t *entry = remote_views_lookup (views, "k1", 0);
    ck_assert_ptr_nonnull (entry);
    ck_assert_uint_eq (cache_entry_index (entry), 5);
    ck_assert_str_eq (s_text (entry), N1);
    ck_assert_ptr_eq (remote_views_lookup (views, "k1", 4), entry);
    ck_assert_ptr_eq (remote_views_lookup (views, "k1", 1), entry);
    ck_assert_ptr_null (remote_views_lookup (views, "k1", 5));
    ck_assert_ptr_null (remote_views_lookup (views, "k1", 6));
    ck_assert_ptr_null (remote_views_lookup (views, "k2", 0));
    s_call_t *watch = s_expect_watch (&fwd, "catalog.node", DC2_STALE, 5);

    //  The same read answered again while watched: a newer response is
    //  taken, an older one ignored, and no second watch goes out.
    s_offer_now (views, "k1", DC2_STALE, "{\"Node\":\"n1\",\"v\":6}", 6);
    entry = remote_views_lookup (views, "k1", 0);
    ck_assert_uint_eq (cache_entry_index (entry), 6);
    ck_assert_str_eq (s_text (entry), "{\"Node\":\"n1\",\"v\":6}");
    s_offer_now (views, "k1", DC2_STALE, "{\"Node\":\"n1\",\"v\":4}", 4);
    ck_assert_ptr_eq (remote_views_lookup (views, "k1", 0), entry);
    ck_assert_uint_eq (remote_views_size (views), 1);
    s_sync (&fwd);

    //  A borrowed entry kept by reference outlives the views.
    cache_entry_ref (entry);
    remote_views_destroy (&views);
    ck_assert_ptr_null (views);
    remote_views_destroy (&views);
    ck_assert_uint_eq (cache_entry_index (entry), 6);
    cache_entry_unref (entry);
    //  Destroy cancelled the watch: its late answer finds nobody.
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 0);
    s_answer (&fwd, &watch, ENVELOPE_REP,
              "{\"Index\":9,\"KnownLeader\":true,\"LastContact\":0,\"Result\":{}}");
    s_sync (&fwd);
    s_forwarderd_stop (&fwd);
}
END_TEST

START_TEST (test_watch_answers)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 8);
    const char *read = "{\"Datacenter\":\"dc2\",\"ServiceName\":\"web\"}";
    s_offer (views, "k1", remote_views_generation (views), "health.service",
             read, false, true, "[{\"Node\":\"n1\"}]", 5);
    s_call_t *watch = s_expect_watch (&fwd, "health.service", read, 5);

    //  A higher index: the view takes the new body, rendered with its
    //  headers, and watches again from there.
    s_answer (&fwd, &watch, ENVELOPE_REP,
              "{\"Index\":9,\"KnownLeader\":true,\"LastContact\":0,"
              "\"Result\":[{\"Node\":\"n2\"}]}");
    watch = s_expect_watch (&fwd, "health.service", read, 9);
    cache_entry_t *entry = remote_views_lookup (views, "k1", 0);
    ck_assert_ptr_nonnull (entry);
    ck_assert_uint_eq (cache_entry_index (entry), 9);
    ck_assert_str_eq (s_text (entry), "[{\"Node\":\"n2\"}]");
    ck_assert_str_eq (s_header (entry, "X-Consul-Index"), "9");
    ck_assert_str_eq (s_header (entry, "X-Consul-KnownLeader"), "true");
    ck_assert_str_eq (s_header (entry, "X-Consul-LastContact"), "0");
    ck_assert_ptr_null (remote_views_lookup (views, "k1", 9));
    ck_assert_ptr_eq (remote_views_lookup (views, "k1", 8), entry);

    //  The same index (the watch's wait ran out): the entry stays as it
    //  was and the watch is sent again with the same index.
    s_answer (&fwd, &watch, ENVELOPE_REP,
              "{\"Index\":9,\"KnownLeader\":true,\"LastContact\":0,"
              "\"Result\":[{\"Node\":\"n3\"}]}");
    watch = s_expect_watch (&fwd, "health.service", read, 9);
    ck_assert_ptr_eq (remote_views_lookup (views, "k1", 0), entry);
    ck_assert_str_eq (s_text (entry), "[{\"Node\":\"n2\"}]");

    //  A view of a ?pretty read without metadata renders its updates the
    //  same way.
    const char *nodes = "{\"Datacenter\":\"dc3\"}";
    s_offer (views, "k2", remote_views_generation (views), "catalog.nodes",
             nodes, true, false, "[]\n", 3);
    s_call_t *other = s_expect_watch (&fwd, "catalog.nodes", nodes, 3);
    s_answer (&fwd, &other, ENVELOPE_REP,
              "{\"Index\":12,\"KnownLeader\":true,\"LastContact\":0,"
              "\"Result\":[{\"Node\":\"n4\"}]}");
    other = s_expect_watch (&fwd, "catalog.nodes", nodes, 12);
    cache_entry_t *pretty = remote_views_lookup (views, "k2", 0);
    ck_assert_ptr_nonnull (pretty);
    ck_assert_uint_eq (cache_entry_index (pretty), 12);
    const char *text = s_text (pretty);
    ck_assert (strlen (text) > 0 && text [strlen (text) - 1] == '\n');
    ck_assert_ptr_nonnull (strstr (text, "\"n4\""));
    ck_assert_ptr_null (s_header (pretty, "X-Consul-Index"));
    ck_assert_uint_eq (remote_views_size (views), 2);

    remote_views_destroy (&views);
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 0);
    s_call_destroy (&watch);
    s_call_destroy (&other);
    s_forwarderd_stop (&fwd);
}
END_TEST

START_TEST (test_watch_failures)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 8);
    const char *keys [] = { "err", "no-result", "index-0", "timeout" };
    s_call_t *watches [4];
    for (size_t i = 0; i < 4; i++) {
        s_offer_now (views, keys [i], DC2_NODE, N1, 5);
        watches [i] = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    }
    ck_assert_uint_eq (remote_views_size (views), 4);

    //  An ERR ends the view.
    s_answer (&fwd, &watches [0], ENVELOPE_ERR,
              "{\"Code\":500,\"Error\":"
              "\"rpc error making call: No path to datacenter\"}");
    s_wait_gone (&fwd, views, "err");
    //  So does a REP that is not a read reply, or has no index.
    s_answer (&fwd, &watches [1], ENVELOPE_REP, "{\"Index\":9}");
    s_wait_gone (&fwd, views, "no-result");
    s_answer (&fwd, &watches [2], ENVELOPE_REP,
              "{\"Index\":0,\"KnownLeader\":true,\"LastContact\":0,\"Result\":[]}");
    s_wait_gone (&fwd, views, "index-0");
    //  None of them was watched again.
    s_sync (&fwd);
    ck_assert_uint_eq (remote_views_size (views), 1);
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 1);

    //  A watch that times out (the client fails it as its deadline would).
    ck_assert_ptr_nonnull (remote_views_lookup (views, "timeout", 0));
    rpc_client_fail_all (fwd.client, RPC_TIMEOUT);
    ck_assert_ptr_null (remote_views_lookup (views, "timeout", 0));
    ck_assert_uint_eq (remote_views_size (views), 0);
    s_call_destroy (&watches [3]);

    //  forwarderd goes away with a watch out (an answer it had sent would
    //  be lost with the connection): its owner fails the watch as
    //  unavailable, which ends the view.
    s_offer_now (views, "gone", DC2_NODE, N1, 5);
    s_call_t *watch = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    s_call_destroy (&watch);
    zsock_destroy (&fwd.router);
    int64_t deadline = time_mono_ms () + WAIT_MS;
    for (;;) {      //  until the client sees it gone: sends fail at once
        s_result_t probe = { 0 };
        uint64_t id = rpc_client_send (fwd.client, "ping", NULL, WAIT_MS,
                                       s_on_reply, &probe);
        if (probe.calls) {
            ck_assert_int_eq (probe.status, RPC_UNAVAILABLE);
            break;
        }
        rpc_client_cancel (fwd.client, id);
        ck_assert_msg (time_mono_ms () < deadline, "forwarderd never went away");
        zmq_poll (NULL, 0, 10);
    }
    ck_assert_ptr_nonnull (remote_views_lookup (views, "gone", 0));
    rpc_client_fail_all (fwd.client, RPC_UNAVAILABLE);
    ck_assert_ptr_null (remote_views_lookup (views, "gone", 0));
    ck_assert_uint_eq (remote_views_size (views), 0);
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 0);

    //  With forwarderd away, an offer's watch cannot go out: no view.
    s_offer_now (views, "away", DC2_NODE, N1, 5);
    ck_assert_uint_eq (remote_views_size (views), 0);
    ck_assert_ptr_null (remote_views_lookup (views, "away", 0));

    remote_views_destroy (&views);
    s_forwarderd_stop (&fwd);
}
END_TEST

START_TEST (test_drop)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 8);
    uint64_t generation = remote_views_generation (views);
    const char *bodies [] = {
        "{\"Datacenter\":\"dc2\",\"Node\":\"a\"}",
        "{\"Datacenter\":\"dc2\",\"Node\":\"b\"}",
        "{\"Datacenter\":\"dc3\",\"Node\":\"c\"}",
        "{\"Node\":\"d\"}",
    };
    const char *keys [] = { "a", "b", "c", "d" };
    s_call_t *watches [4];
    for (size_t i = 0; i < 4; i++) {
        s_offer_now (views, keys [i], bodies [i], N1, 5);
        watches [i] = s_expect_watch (&fwd, "catalog.node", bodies [i], 5);
    }
    ck_assert_uint_eq (remote_views_size (views), 4);

    //  A write to dc2 drops dc2's views only, and cancels their watches.
    remote_views_drop (views, "dc2");
    ck_assert_uint_eq (remote_views_generation (views), generation + 1);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "a", 0));
    ck_assert_ptr_null (remote_views_lookup (views, "b", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "c", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "d", 0));
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 2);

    //  A read sent before the drop creates no view and sends no watch.
    s_offer (views, "e", generation, "catalog.node",
             "{\"Datacenter\":\"dc2\",\"Node\":\"e\"}", false, true, N1, 7);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "e", 0));
    s_sync (&fwd);

    //  The answer of a dropped view's watch is discarded.
    s_answer (&fwd, &watches [0], ENVELOPE_REP,
              "{\"Index\":20,\"KnownLeader\":true,\"LastContact\":0,\"Result\":[]}");
    s_answer (&fwd, &watches [1], ENVELOPE_ERR, "{\"Code\":500,\"Error\":\"gone\"}");
    s_sync (&fwd);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "a", 0));

    //  A restart of forwarderd drops all of them.
    remote_views_drop (views, NULL);
    ck_assert_uint_eq (remote_views_generation (views), generation + 2);
    ck_assert_uint_eq (remote_views_size (views), 0);
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 0);
    s_answer (&fwd, &watches [2], ENVELOPE_REP,
              "{\"Index\":21,\"KnownLeader\":true,\"LastContact\":0,\"Result\":[]}");
    s_answer (&fwd, &watches [3], ENVELOPE_ERR, "{\"Code\":500,\"Error\":\"gone\"}");
    s_sync (&fwd);
    ck_assert_uint_eq (remote_views_size (views), 0);
    //  Dropping nothing still moves the generation on.
    remote_views_drop (views, "dc9");
    ck_assert_uint_eq (remote_views_generation (views), generation + 3);

    //  A read sent after the drops makes a view again.
    s_offer_now (views, "c", bodies [2], N1, 8);
    ck_assert_ptr_nonnull (remote_views_lookup (views, "c", 0));
    s_call_t *watch = s_expect_watch (&fwd, "catalog.node", bodies [2], 8);
    remote_views_destroy (&views);
    s_call_destroy (&watch);
    s_forwarderd_stop (&fwd);
}
END_TEST

START_TEST (test_lru)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 2);
    s_offer_now (views, "a", DC2_NODE, N1, 5);
    s_call_t *watch_a = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    s_offer_now (views, "b", DC2_NODE, N1, 5);
    s_call_t *watch_b = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);

    //  a was read after b was made: b goes for c.
    ck_assert_ptr_nonnull (remote_views_lookup (views, "a", 0));
    s_offer_now (views, "c", DC2_NODE, N1, 5);
    s_call_t *watch_c = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "b", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "c", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "a", 0));
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 2);

    //  Now c is the least recently read: d replaces it.
    s_offer_now (views, "d", DC2_NODE, N1, 5);
    s_call_t *watch_d = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "c", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "a", 0));
    ck_assert_ptr_nonnull (remote_views_lookup (views, "d", 0));

    //  The evicted views' watches answer into nothing.
    s_answer (&fwd, &watch_b, ENVELOPE_REP,
              "{\"Index\":9,\"KnownLeader\":true,\"LastContact\":0,\"Result\":[]}");
    s_answer (&fwd, &watch_c, ENVELOPE_ERR, "{\"Code\":500,\"Error\":\"late\"}");
    s_sync (&fwd);
    ck_assert_uint_eq (remote_views_size (views), 2);
    ck_assert_ptr_null (remote_views_lookup (views, "b", 0));
    remote_views_destroy (&views);

    //  No room asked for still holds one view.
    views = remote_views_new (fwd.client, 0);
    s_offer_now (views, "x", DC2_NODE, N1, 5);
    s_call_t *watch_x = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    s_offer_now (views, "y", DC2_NODE, N1, 5);
    s_call_t *watch_y = s_expect_watch (&fwd, "catalog.node", DC2_NODE, 5);
    ck_assert_uint_eq (remote_views_size (views), 1);
    ck_assert_ptr_nonnull (remote_views_lookup (views, "y", 0));
    remote_views_destroy (&views);

    s_call_destroy (&watch_a);
    s_call_destroy (&watch_d);
    s_call_destroy (&watch_x);
    s_call_destroy (&watch_y);
    s_forwarderd_stop (&fwd);
}
END_TEST

START_TEST (test_nothing_offered)
{
    s_forwarderd_t fwd = { 0 };
    s_forwarderd_start (&fwd);
    remote_views_t *views = remote_views_new (fwd.client, 8);
    //  A reply without an index cannot be watched.
    s_offer_now (views, "k1", DC2_NODE, N1, 0);
    ck_assert_uint_eq (remote_views_size (views), 0);
    //  No response, no view.
    cJSON *body = cJSON_Parse (DC2_NODE);
    remote_views_offer (views, "k1", remote_views_generation (views),
                        "catalog.node", body, false, true, NULL, 5);
    cJSON_Delete (body);
    ck_assert_uint_eq (remote_views_size (views), 0);
    ck_assert_ptr_null (remote_views_lookup (views, "k1", 0));
    //  And no watch went out.
    s_sync (&fwd);
    ck_assert_uint_eq (rpc_client_pending (fwd.client), 0);
    remote_views_destroy (&views);
    s_forwarderd_stop (&fwd);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("remote_views");
    struct {
        const char *name;
        const TTest *test;
    } cases [] = {
        { "offer_lookup", test_offer_lookup },
        { "watch_answers", test_watch_answers },
        { "watch_failures", test_watch_failures },
        { "drop", test_drop },
        { "lru", test_lru },
        { "nothing_offered", test_nothing_offered },
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
