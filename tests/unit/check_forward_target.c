/*  Unit tests of forwarderd's targeted requests (docs/protocol/server-rpc.md,
    "Server" and "RequestTimeout"): the request rules of the new fields and
    commands, and two dc1 servers (127.0.9.41/.42) whose forwarders carry a
    request with Server set from one node's catalogd to the other's: the
    field is dropped on the way, RequestTimeout bounds every hop, a server
    that cannot be reached answers 421 (try again), remote errors keep
    Consul's prefix, and only the local DC can be targeted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../forwarderd/forwarder.h"
#include "../../forwarderd/fwd_msg.h"
#include "rpc_client.h"
#include "rpc_server.h"
#include "rundir.h"
#include "signals.h"
#include "timeutil.h"

#define PORT  "18310"
#define IP_A  "127.0.9.41"
#define IP_B  "127.0.9.42"
#define IP_X  "127.0.9.49"      //  nothing listens

typedef struct {
    char dir[128];
    forwarder_t *forwarder;
    rpc_server_t *gossipd;      //  fake
    rpc_server_t *catalogd;     //  fake
    cJSON *last_body;           //  what the fake catalogd got last
    const char *mode;           //  "ok", "421", "500", "park"
    rpc_request_t *parked;
    rpc_client_t *local;        //  the node's catalogd, as a caller
} node_t;

static char s_top[64];
static node_t s_a, s_b;

START_TEST (test_request_rules)
{
    fwd_request_t info;
    char err[256];
    cJSON *body = cJSON_Parse ("{\"Server\":\"10.0.0.1:8300\",\"RequestTimeout\":900,"
                               "\"MinQueryIndex\":5,\"MaxQueryTime\":16000}");
    ck_assert_int_eq (fwd_request_parse ("catalog.nodes", body, "dc1", &info, err,
                                         sizeof err), 0);
    ck_assert_str_eq (info.server, "10.0.0.1:8300");
    ck_assert_int_eq (info.request_timeout_ms, 900);
    ck_assert_int_eq (info.budget_ms, 17000);
    //  The caller's deadline caps every hop (less a margin).
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_LOCAL), 800);
    info.request_timeout_ms = 150;
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_LOCAL), FWD_HOP_MIN);
    info.request_timeout_ms = 0;
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_LOCAL), 20000);
    cJSON_Delete (body);
    const char *bad[] = {
        "{\"Server\":7}", "{\"Server\":\"10.0.0.1\"}", "{\"Server\":\"10.0.0.1:0\"}",
        "{\"Server\":\":8300\"}", "{\"Server\":\"10.0.0.1:8300x\"}",
        "{\"Server\":\"[::1:8300\"}", "{\"RequestTimeout\":-1}",
        "{\"RequestTimeout\":\"5s\"}", "{\"RequestTimeout\":1.5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        body = cJSON_Parse (bad[i]);
        ck_assert_msg (fwd_request_parse ("catalog.nodes", body, "dc1", &info, err,
                                          sizeof err) == -1, "%s", bad[i]);
        cJSON_Delete (body);
    }
    body = cJSON_Parse ("{\"Server\":\"[::1]:8300\"}");
    ck_assert_int_eq (fwd_request_parse ("raft.status", body, "dc1", &info, err,
                                         sizeof err), 0);
    cJSON_Delete (body);
    fwd_kind_t kind;
    ck_assert_int_eq (fwd_command_kind ("raft.status", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("operator.raft.configuration", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("operator.raft.remove_peer", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_WRITE);
}
END_TEST

static cJSON *
s_members (void)
{
    cJSON *list = cJSON_CreateArray ();
    const char *ips[] = { IP_A, IP_B };
    for (int i = 0; i < 2; i++) {
        cJSON *member = cJSON_CreateObject ();
        cJSON_AddStringToObject (member, "Name", i ? "b.dc1" : "a.dc1");
        cJSON_AddStringToObject (member, "Addr", ips[i]);
        cJSON_AddNumberToObject (member, "Port", 8302);
        cJSON_AddNumberToObject (member, "Status", 1);
        cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
        cJSON_AddStringToObject (tags, "role", "consul");
        cJSON_AddStringToObject (tags, "dc", "dc1");
        cJSON_AddStringToObject (tags, "port", PORT);
        cJSON_AddItemToArray (list, member);
    }
    return list;
}

static void
s_node_start (node_t *node, const char *name, const char *ip)
{
    memset (node, 0, sizeof *node);
    snprintf (node->dir, sizeof node->dir, "%s/%s", s_top, name);
    ck_assert_int_eq (rundir_prepare (node->dir), 0);
    node->gossipd = rpc_server_new (node->dir, "gossipd");
    node->catalogd = rpc_server_new (node->dir, "catalogd");
    ck_assert (node->gossipd && node->catalogd);
    node->mode = "ok";
    config_t cfg;
    config_defaults (&cfg);
    snprintf (cfg.data_dir, sizeof cfg.data_dir, "%s", node->dir);
    snprintf (cfg.bind_addr, sizeof cfg.bind_addr, "%s", ip);
    cfg.server = true;
    cfg.ports.server = atoi (PORT);
    node->forwarder = forwarder_new (&cfg);
    ck_assert_ptr_nonnull (node->forwarder);
    node->local = rpc_client_new (node->dir, "forwarderd");
}

static void
s_node_stop (node_t *node)
{
    rpc_client_destroy (&node->local);
    forwarder_destroy (&node->forwarder);
    rpc_request_destroy (&node->parked);
    rpc_server_destroy (&node->catalogd);
    rpc_server_destroy (&node->gossipd);
    cJSON_Delete (node->last_body);
}

static void
s_serve (node_t *node)
{
    rpc_request_t *request;
    while ((request = rpc_server_recv (node->gossipd))) {
        cJSON *members = s_members ();
        rpc_server_reply (node->gossipd, &request, &members);
    }
    while ((request = rpc_server_recv (node->catalogd))) {
        cJSON_Delete (node->last_body);
        node->last_body = cJSON_Duplicate (rpc_request_body (request), 1);
        if (strcmp (node->mode, "421") == 0)
            rpc_server_error (node->catalogd, &request, 421, "not the raft leader");
        else if (strcmp (node->mode, "500") == 0)
            rpc_server_error (node->catalogd, &request, 500, "leadership lost while "
                              "committing log");
        else if (strcmp (node->mode, "park") == 0 && !node->parked)
            node->parked = request;
        else {
            cJSON *reply = cJSON_Parse ("{\"Index\":12,\"Result\":true}");
            rpc_server_reply (node->catalogd, &request, &reply);
        }
    }
    rpc_server_tick (node->gossipd);
    rpc_server_tick (node->catalogd);
}

typedef struct {
    bool done;
    int status;
    envelope_type_t type;
    cJSON *body;
    int64_t at;
} reply_t;

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    reply_t *result = (reply_t *) arg;
    result->done = true;
    result->status = status;
    result->at = time_mono_ms ();
    if (reply) {
        result->type = reply->type;
        result->body = reply->body;
        reply->body = NULL;
    }
}

static void
s_pump (int64_t ms, reply_t *reply)
{
    int64_t deadline = time_mono_ms () + ms;
    do {
        node_t *nodes[] = { &s_a, &s_b };
        for (int i = 0; i < 2; i++) {
            forwarder_poll_once (nodes[i]->forwarder, 0);
            s_serve (nodes[i]);
            rpc_client_process (nodes[i]->local);
            rpc_client_expire (nodes[i]->local);
        }
        if (reply && reply->done)
            return;
        zmq_poll (NULL, 0, 1);
    } while (time_mono_ms () < deadline);
}

//  A's catalogd asks B (or another server) through A's forwarderd.
static void
s_call (const char *command, const char *json, reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    rpc_client_send (s_a.local, command, &body, 20000, s_on_reply, reply);
    s_pump (15000, reply);
    ck_assert (reply->done);
    ck_assert_int_eq (reply->status, RPC_OK);
}

static const char *
s_error (reply_t *reply, int code)
{
    ck_assert_int_eq (reply->type, ENVELOPE_ERR);
    ck_assert_int_eq (cJSON_GetObjectItem (reply->body, "Code")->valueint, code);
    return cJSON_GetObjectItem (reply->body, "Error")->valuestring;
}

static void
s_setup (void)
{
    signals_install ();
    strcpy (s_top, "/tmp/mrd-fwdt-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_top));
    s_node_start (&s_a, "a", IP_A);
    s_node_start (&s_b, "b", IP_B);
    s_pump (300, NULL);
}

static void
s_teardown (void)
{
    s_node_stop (&s_a);
    s_node_stop (&s_b);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_top);
    ck_assert_int_eq (system (cmd), 0);
}

START_TEST (test_targeted_write)
{
    s_setup ();
    reply_t reply;
    s_call ("catalog.register",
            "{\"Node\":\"n1\",\"Address\":\"10.1.1.1\",\"ViaServer\":\"" IP_A ":8300\","
            "\"Server\":\"" IP_B ":" PORT "\",\"RequestTimeout\":4700}", &reply);
    ck_assert_int_eq (reply.type, ENVELOPE_REP);
    ck_assert_int_eq (cJSON_GetObjectItem (reply.body, "Index")->valueint, 12);
    cJSON_Delete (reply.body);
    //  B's catalogd got the request as a local one: no Server, no
    //  ViaDatacenter, the hop's deadline as RequestTimeout, the rest as is.
    cJSON *got = s_b.last_body;
    ck_assert_ptr_nonnull (got);
    ck_assert_ptr_null (cJSON_GetObjectItem (got, "Server"));
    ck_assert_ptr_null (cJSON_GetObjectItem (got, "ViaDatacenter"));
    ck_assert_str_eq (cJSON_GetObjectItem (got, "ViaServer")->valuestring, IP_A ":8300");
    ck_assert_str_eq (cJSON_GetObjectItem (got, "Node")->valuestring, "n1");
    double timeout = cJSON_GetObjectItem (got, "RequestTimeout")->valuedouble;
    ck_assert_msg (timeout > 0 && timeout <= 3000, "RequestTimeout %f", timeout);
    ck_assert_ptr_null (s_a.last_body);

    //  "Not the leader" travels back as it is: the caller asks again.
    s_b.mode = "421";
    s_call ("catalog.register", "{\"Node\":\"n1\",\"Address\":\"10.1.1.1\","
            "\"Server\":\"" IP_B ":" PORT "\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 421), "not the raft leader");
    cJSON_Delete (reply.body);
    //  Other errors of another node get Consul's prefix.
    s_b.mode = "500";
    s_call ("catalog.register", "{\"Node\":\"n1\",\"Address\":\"10.1.1.1\","
            "\"Server\":\"" IP_B ":" PORT "\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: leadership lost "
                      "while committing log");
    cJSON_Delete (reply.body);
    s_teardown ();
}
END_TEST

START_TEST (test_targeted_failures)
{
    s_setup ();
    reply_t reply;
    //  Nobody at that address: nothing sent, try again later.
    s_call ("catalog.register", "{\"Node\":\"n1\",\"Address\":\"10.1.1.1\","
            "\"Server\":\"" IP_X ":" PORT "\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 421), "server " IP_X ":" PORT " is not reachable");
    cJSON_Delete (reply.body);
    //  Another DC cannot be targeted.
    s_call ("catalog.nodes", "{\"Datacenter\":\"dc2\",\"Server\":\"" IP_B ":" PORT "\"}",
            &reply);
    ck_assert_str_eq (s_error (&reply, 400), "Server names a server of the local "
                      "datacenter only");
    cJSON_Delete (reply.body);
    s_call ("catalog.nodes", "{\"Server\":\"nowhere\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 400), "Server must be \"host:port\"");
    cJSON_Delete (reply.body);
    //  The caller's deadline bounds every hop, the innermost answering
    //  first: B's catalogd never answers, B's forwarderd gives up on it
    //  within what A's hop left (700 - 100 - 100 ms) and A relays that.
    s_b.mode = "park";
    int64_t start = time_mono_ms ();
    s_call ("catalog.nodes", "{\"Server\":\"" IP_B ":" PORT "\",\"RequestTimeout\":700}",
            &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: timeout waiting "
                      "for catalogd");
    ck_assert_int_lt (reply.at - start, 1000);
    ck_assert_int_eq (cJSON_GetObjectItem (s_b.last_body, "RequestTimeout")->valueint, 500);
    cJSON_Delete (reply.body);
    s_teardown ();
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_target");
    struct { const char *name; const TTest *test; } cases[] = {
        { "request rules", test_request_rules },
        { "targeted write", test_targeted_write },
        { "targeted failures", test_targeted_failures },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_set_timeout (tc, 30);
        tcase_add_test (tc, cases[i].test);
        suite_add_tcase (suite, tc);
    }
    SRunner *runner = srunner_create (suite);
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
