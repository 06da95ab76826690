/*  Unit tests of forwarderd/forwarder: whole forwarders in one thread, each
    with its own data dir, fake gossipd (members) and fake catalogd, talking
    server RPC over TCP on 127.0.9.x. Covers routing (server local, server
    to another DC, client agent to its servers), Consul's error words,
    error relaying, isolation of a DC that does not answer, nested hop
    deadlines, the loop guard, read retry versus write, catalogd restart,
    coordinate commands served by the target DC's gossipd (and its
    restart) and CURVE (docs/protocol/server-rpc.md). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../forwarderd/forwarder.h"
#include "../../forwarderd/fwd_keys.h"
#include "../../forwarderd/fwd_pool.h"
#include "rpc_client.h"
#include "rpc_server.h"
#include "rundir.h"
#include "signals.h"
#include "timeutil.h"

#define KEY_A   "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
#define PORT    "18300"
#define IP_S1   "127.0.9.11"
#define IP_S2   "127.0.9.12"
#define IP_DC3  "127.0.9.13"    //  accepts and never answers
#define IP_DC5  "127.0.9.15"    //  nothing listens
#define IP_BAD  "127.0.9.19"    //  a dc2 server that will vanish

typedef struct {
    char dir[128];
    char dc[16];
    forwarder_t *forwarder;
    rpc_server_t *gossipd;      //  fake
    rpc_server_t *catalogd;     //  fake, servers only
    cJSON *members;             //  what the fake gossipd answers
    zlistx_t *parked;           //  catalogd requests kept unanswered
    bool no_park;
    int served;
    zlistx_t *gossip_parked;    //  gossipd requests kept unanswered
    int gossip_served;          //  coordinate.* answered
    rpc_client_t *httpd;        //  the caller of forwarderd
} node_t;

#define NODES_MAX 4
static char s_top[64];
static node_t s_nodes[NODES_MAX];
static int s_node_count;
static zsock_t *s_blackhole;    //  dc3's "server"

static cJSON *
s_member (const char *name, const char *addr, const char *dc, const char *role,
          int status)
{
    cJSON *member = cJSON_CreateObject ();
    cJSON_AddStringToObject (member, "Name", name);
    cJSON_AddStringToObject (member, "Addr", addr);
    cJSON_AddNumberToObject (member, "Port", 8302);
    cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
    cJSON_AddStringToObject (tags, "role", role);
    cJSON_AddStringToObject (tags, "dc", dc);
    cJSON_AddStringToObject (tags, "port", PORT);
    cJSON_AddNumberToObject (member, "Status", status);
    return member;
}

static cJSON *
s_wan (int s2_status, bool with_bad)
{
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member ("s1.dc1", IP_S1, "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s2.dc2", IP_S2, "dc2", "consul", s2_status));
    cJSON_AddItemToArray (list, s_member ("s3.dc3", IP_DC3, "dc3", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s4.dc4", "127.0.9.14", "dc4", "consul", 4));
    cJSON_AddItemToArray (list, s_member ("s5.dc5", IP_DC5, "dc5", "consul", 1));
    if (with_bad)
        cJSON_AddItemToArray (list, s_member ("s9.dc2", IP_BAD, "dc2", "consul", 1));
    return list;
}

static cJSON *
s_lan (const char *server_ip, const char *dc)
{
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member ("server", server_ip, dc, "consul", 1));
    cJSON_AddItemToArray (list, s_member ("client", "127.0.9.30", dc, "node", 1));
    return list;
}

static node_t *
s_node_add (const char *name, const char *dc, bool server, const char *ip,
            const char *encrypt, cJSON *members)
{
    node_t *node = &s_nodes[s_node_count++];
    memset (node, 0, sizeof *node);
    snprintf (node->dir, sizeof node->dir, "%s/%s", s_top, name);
    snprintf (node->dc, sizeof node->dc, "%s", dc);
    ck_assert_int_eq (rundir_prepare (node->dir), 0);
    node->members = members;
    node->parked = zlistx_new ();
    zlistx_set_destructor (node->parked, (zlistx_destructor_fn *) rpc_request_destroy);
    node->gossip_parked = zlistx_new ();
    zlistx_set_destructor (node->gossip_parked, (zlistx_destructor_fn *) rpc_request_destroy);
    node->gossipd = rpc_server_new (node->dir, "gossipd");
    ck_assert_ptr_nonnull (node->gossipd);
    if (server) {
        node->catalogd = rpc_server_new (node->dir, "catalogd");
        ck_assert_ptr_nonnull (node->catalogd);
    }
    config_t cfg;
    config_defaults (&cfg);
    snprintf (cfg.datacenter, sizeof cfg.datacenter, "%s", dc);
    snprintf (cfg.data_dir, sizeof cfg.data_dir, "%s", node->dir);
    snprintf (cfg.bind_addr, sizeof cfg.bind_addr, "%s", ip);
    snprintf (cfg.encrypt, sizeof cfg.encrypt, "%s", encrypt);
    cfg.server = server;
    cfg.ports.server = atoi (PORT);
    node->forwarder = forwarder_new (&cfg);
    ck_assert_ptr_nonnull (node->forwarder);
    node->httpd = rpc_client_new (node->dir, "forwarderd");
    return node;
}

//  The fake catalogd: echoes what it got, or fails / parks on demand.
static void
s_serve_catalogd (node_t *node)
{
    rpc_request_t *request;
    while ((request = rpc_server_recv (node->catalogd))) {
        node->served++;
        cJSON *body = rpc_request_body (request);
        const char *fake = cJSON_GetStringValue (cJSON_GetObjectItem (body, "Fake"));
        if (fake && strcmp (fake, "err500") == 0)
            rpc_server_error (node->catalogd, &request, 500, "No cluster leader");
        else if (fake && strcmp (fake, "err404") == 0)
            rpc_server_error (node->catalogd, &request, 404, "Unknown node");
        else if (fake && strcmp (fake, "park") == 0 && !node->no_park)
            zlistx_add_end (node->parked, request);
        else {
            cJSON *reply = cJSON_CreateObject ();
            cJSON_AddNumberToObject (reply, "Index", 7);
            cJSON_AddBoolToObject (reply, "KnownLeader", 1);
            cJSON_AddNumberToObject (reply, "LastContact", 0);
            cJSON *result = cJSON_AddObjectToObject (reply, "Result");
            cJSON_AddStringToObject (result, "Datacenter", node->dc);
            cJSON_AddStringToObject (result, "Command", rpc_request_command (request));
            cJSON_AddItemToObject (result, "Body", cJSON_Duplicate (body, 1));
            rpc_server_reply (node->catalogd, &request, &reply);
        }
    }
}

//  The fake gossipd's coordinate.nodes: one entry naming its DC, with
//  the body it got.
static cJSON *
s_coordinates (node_t *node, const cJSON *body)
{
    cJSON *list = cJSON_CreateArray ();
    cJSON *entry = cJSON_CreateObject ();
    char name[32];
    snprintf (name, sizeof name, "node-%s", node->dc);
    cJSON_AddStringToObject (entry, "Node", name);
    cJSON_AddStringToObject (entry, "Segment", "");
    cJSON_AddItemToObject (entry, "Body", cJSON_Duplicate (body, 1));
    cJSON_AddItemToArray (list, entry);
    return list;
}

static void
s_serve_gossipd (node_t *node)
{
    rpc_request_t *request;
    while (node->gossipd && (request = rpc_server_recv (node->gossipd))) {
        const char *command = rpc_request_command (request);
        cJSON *body = rpc_request_body (request);
        const char *fake = cJSON_GetStringValue (cJSON_GetObjectItem (body, "Fake"));
        if (strcmp (command, "members") == 0) {
            cJSON *members = cJSON_Duplicate (node->members, 1);
            rpc_server_reply (node->gossipd, &request, &members);
        }
        else
        if (strncmp (command, "coordinate.", 11) == 0 && fake && strcmp (fake, "park") == 0
            && !node->no_park)
            zlistx_add_end (node->gossip_parked, request);
        else
        if (strncmp (command, "coordinate.", 11) == 0 && fake && strcmp (fake, "err500") == 0)
            rpc_server_error (node->gossipd, &request, 500, "coordinates unavailable");
        else
        if (strcmp (command, "coordinate.nodes") == 0) {
            node->gossip_served++;
            cJSON *list = s_coordinates (node, body);
            rpc_server_reply (node->gossipd, &request, &list);
        }
        else
        if (strcmp (command, "coordinate.datacenters") == 0) {
            node->gossip_served++;
            cJSON *list = cJSON_CreateArray ();
            cJSON *area = cJSON_CreateObject ();
            cJSON_AddStringToObject (area, "Datacenter", node->dc);
            cJSON_AddStringToObject (area, "AreaID", "wan");
            cJSON_AddItemToObject (area, "Coordinates", cJSON_CreateArray ());
            cJSON_AddItemToArray (list, area);
            rpc_server_reply (node->gossipd, &request, &list);
        }
        else
            rpc_server_error (node->gossipd, &request, 400, "unknown command \"%s\"",
                              rpc_request_command (request));
    }
    if (node->gossipd)
        rpc_server_tick (node->gossipd);
    if (node->catalogd)
        rpc_server_tick (node->catalogd);
}

//  Runs every forwarder and fake until done says so or ms pass.
static void
s_pump (int64_t ms, bool (*done) (void *), void *arg)
{
    int64_t deadline = time_mono_ms () + ms;
    do {
        for (int i = 0; i < s_node_count; i++) {
            node_t *node = &s_nodes[i];
            forwarder_poll_once (node->forwarder, 0);
            s_serve_gossipd (node);
            if (node->catalogd)
                s_serve_catalogd (node);
            rpc_client_process (node->httpd);
            rpc_client_expire (node->httpd);
        }
        if (s_blackhole)
            while (zsock_events (s_blackhole) & ZMQ_POLLIN) {
                zmsg_t *msg = zmsg_recv (s_blackhole);
                zmsg_destroy (&msg);
            }
        if (done && done (arg))
            return;
        zmq_poll (NULL, 0, 1);
    } while (time_mono_ms () < deadline);
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

static bool
s_is_done (void *arg)
{
    return ((reply_t *) arg)->done;
}

static void
s_send (node_t *node, const char *command, const char *json, reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    rpc_client_send (node->httpd, command, &body, 20000, s_on_reply, reply);
}

//  Sends and waits; the reply must have come (REP or ERR).
static void
s_call (node_t *node, const char *command, const char *json, reply_t *reply)
{
    s_send (node, command, json, reply);
    s_pump (15000, s_is_done, reply);
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

static const char *
s_result_string (reply_t *reply, const char *field)
{
    ck_assert_int_eq (reply->type, ENVELOPE_REP);
    cJSON *result = cJSON_GetObjectItem (reply->body, "Result");
    return cJSON_GetStringValue (cJSON_GetObjectItem (result, field));
}

static void
s_free (reply_t *reply)
{
    cJSON_Delete (reply->body);
    reply->body = NULL;
}

//  Waits until a node's forwarder lists a DC (gossipd was asked).
static bool
s_knows_dcs (void *arg)
{
    node_t *node = (node_t *) arg;
    static reply_t probe;
    static bool sent = false;
    if (!sent) {
        s_send (node, "datacenters", "{}", &probe);
        sent = true;
        return false;
    }
    if (!probe.done)
        return false;
    sent = false;
    bool ok = probe.type == ENVELOPE_REP
           && cJSON_GetArraySize (cJSON_GetObjectItem (probe.body, "Result")) >= 5;
    s_free (&probe);
    return ok;
}

static void
s_wait_ready (node_t *node)
{
    s_pump (10000, s_knows_dcs, node);
    //  Drain a probe that may still be in flight.
    s_pump (50, NULL, NULL);
}

static void
s_setup (void)
{
    signals_install ();
    strcpy (s_top, "/tmp/mrd-fwd-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_top));
    s_node_count = 0;
    s_blackhole = zsock_new_router ("tcp://" IP_DC3 ":" PORT);
    ck_assert_ptr_nonnull (s_blackhole);
}

static void
s_teardown (void)
{
    for (int i = 0; i < s_node_count; i++) {
        node_t *node = &s_nodes[i];
        rpc_client_destroy (&node->httpd);
        forwarder_destroy (&node->forwarder);
        zlistx_destroy (&node->parked);
        zlistx_destroy (&node->gossip_parked);
        rpc_server_destroy (&node->catalogd);
        rpc_server_destroy (&node->gossipd);
        cJSON_Delete (node->members);
    }
    zsock_destroy (&s_blackhole);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_top);
    ck_assert_int_eq (system (cmd), 0);
}

//  The plain world: dc1 server S1, dc2 server S2, dc1 client C1.
static void
s_world (node_t **s1, node_t **s2, node_t **c1)
{
    *s1 = s_node_add ("s1", "dc1", true, IP_S1, "", s_wan (1, false));
    *s2 = s_node_add ("s2", "dc2", true, IP_S2, "", s_wan (1, false));
    *c1 = s_node_add ("c1", "dc1", false, "127.0.9.30", "", s_lan (IP_S1, "dc1"));
    s_wait_ready (*s1);
    s_wait_ready (*s2);
    s_wait_ready (*c1);
}

START_TEST (test_server_routes)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t reply;
    //  Another DC: one hop to its server, served by its catalogd, with the
    //  blocking fields untouched and the loop guard removed.
    s_call (s1, "catalog.nodes",
            "{\"Datacenter\":\"dc2\",\"MinQueryIndex\":3,\"MaxQueryTime\":5000,\"NodeMeta\":{\"a\":\"b\"}}",
            &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc2");
    ck_assert_str_eq (s_result_string (&reply, "Command"), "catalog.nodes");
    ck_assert_int_eq (cJSON_GetObjectItem (reply.body, "Index")->valueint, 7);
    cJSON *seen = cJSON_GetObjectItem (cJSON_GetObjectItem (reply.body, "Result"), "Body");
    ck_assert_int_eq (cJSON_GetObjectItem (seen, "MinQueryIndex")->valueint, 3);
    ck_assert_int_eq (cJSON_GetObjectItem (seen, "MaxQueryTime")->valueint, 5000);
    ck_assert_str_eq (cJSON_GetObjectItem (seen, "Datacenter")->valuestring, "dc2");
    ck_assert_str_eq (cJSON_GetObjectItem (cJSON_GetObjectItem (seen, "NodeMeta"), "a")->valuestring, "b");
    ck_assert_ptr_null (cJSON_GetObjectItem (seen, "ViaDatacenter"));
    s_free (&reply);
    ck_assert_int_eq (s2->served, 1);
    ck_assert_int_eq (s1->served, 0);
    //  The local DC: its own catalogd, explicit or implied.
    s_call (s1, "health.state", "{\"State\":\"any\"}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc1");
    s_free (&reply);
    s_call (s1, "catalog.register", "{\"Datacenter\":\"dc1\",\"Node\":\"n1\",\"Address\":\"1.2.3.4\"}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Command"), "catalog.register");
    s_free (&reply);
    ck_assert_int_eq (s1->served, 2);
    //  Writes cross DCs too.
    s_call (s1, "catalog.deregister", "{\"Datacenter\":\"dc2\",\"Node\":\"n1\"}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc2");
    s_free (&reply);
    //  datacenters: local first, then by name.
    s_call (s2, "datacenters", "{}", &reply);
    char *text = cJSON_PrintUnformatted (cJSON_GetObjectItem (reply.body, "Result"));
    ck_assert_str_eq (text, "[\"dc2\",\"dc1\",\"dc3\",\"dc4\",\"dc5\"]");
    free (text);
    s_free (&reply);
    //  stats
    s_call (s1, "stats", "{}", &reply);
    ck_assert (cJSON_IsTrue (cJSON_GetObjectItem (reply.body, "Server")));
    ck_assert_int_ge (cJSON_GetObjectItem (reply.body, "Forwarded")->valueint, 2);
    ck_assert_int_ge (cJSON_GetArraySize (cJSON_GetObjectItem (reply.body, "Connections")), 1);
    s_free (&reply);
}
END_TEST

START_TEST (test_error_words)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t reply;
    s_call (s1, "catalog.nodes", "{\"Datacenter\":\"nope\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "No path to datacenter");
    s_free (&reply);
    s_call (s1, "catalog.nodes", "{\"Datacenter\":\"Not A DC\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "No path to datacenter");
    s_free (&reply);
    s_call (c1, "catalog.nodes", "{\"Datacenter\":\"nope\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: No path to datacenter");
    s_free (&reply);
    //  Known DC, its only server failed / refusing connections.
    s_call (s1, "catalog.nodes", "{\"Datacenter\":\"dc4\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "Remote DC has no server currently reachable");
    s_free (&reply);
    int64_t start = time_mono_ms ();
    s_call (s1, "catalog.nodes", "{\"Datacenter\":\"dc5\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "Remote DC has no server currently reachable");
    ck_assert_int_lt (time_mono_ms () - start, 3000);
    s_free (&reply);
    s_call (s1, "catalog.register", "{\"Datacenter\":\"dc5\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "Remote DC has no server currently reachable");
    s_free (&reply);
    //  Errors of the remote catalogd: 5xx wrapped per hop, 4xx unchanged.
    s_call (s1, "status.leader", "{\"Datacenter\":\"dc2\",\"Fake\":\"err500\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: No cluster leader");
    s_free (&reply);
    s_call (s1, "status.leader", "{\"Fake\":\"err500\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "No cluster leader");
    s_free (&reply);
    s_call (c1, "status.leader", "{\"Datacenter\":\"dc2\",\"Fake\":\"err500\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500),
                      "rpc error making call: rpc error making call: No cluster leader");
    s_free (&reply);
    s_call (c1, "catalog.node", "{\"Datacenter\":\"dc2\",\"Fake\":\"err404\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 404), "Unknown node");
    s_free (&reply);
    //  Malformed requests.
    s_call (s1, "catalog.nodes", "{\"MinQueryIndex\":\"x\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 400), "MinQueryIndex must be a non-negative integer");
    s_free (&reply);
    s_call (s1, "catalog.nodes", "[]", &reply);
    ck_assert_str_eq (s_error (&reply, 400), "request body must be a JSON object");
    s_free (&reply);
    s_call (s1, "kv.get", "{}", &reply);
    ck_assert_str_eq (s_error (&reply, 400), "unknown command \"kv.get\"");
    s_free (&reply);
    //  Nothing of that reached a catalogd.
    ck_assert_int_eq (s1->served, 1);
}
END_TEST

START_TEST (test_client_agent)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t reply;
    //  Local DC: a server of the DC serves it.
    s_call (c1, "catalog.services", "{}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc1");
    s_free (&reply);
    ck_assert_int_eq (s1->served, 1);
    //  Another DC: client -> dc1 server -> dc2 server.
    s_call (c1, "health.service", "{\"Datacenter\":\"dc2\",\"ServiceName\":\"web\"}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc2");
    s_free (&reply);
    ck_assert_int_eq (s2->served, 1);
    //  datacenters come from the server.
    s_call (c1, "datacenters", "{}", &reply);
    char *text = cJSON_PrintUnformatted (cJSON_GetObjectItem (reply.body, "Result"));
    ck_assert_str_eq (text, "[\"dc1\",\"dc2\",\"dc3\",\"dc4\",\"dc5\"]");
    free (text);
    s_free (&reply);
    s_call (c1, "stats", "{}", &reply);
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (reply.body, "Server")));
    s_free (&reply);
    //  No server in the LAN pool: Consul's words.
    cJSON_Delete (c1->members);
    c1->members = cJSON_CreateArray ();
    cJSON *event = cJSON_CreateObject ();
    rpc_server_publish (c1->gossipd, "member.leave", &event);
    int64_t until = time_mono_ms () + 5000;
    const char *text_seen = "";
    do {
        s_pump (100, NULL, NULL);
        s_call (c1, "catalog.services", "{}", &reply);
        text_seen = reply.type == ENVELOPE_ERR ? s_error (&reply, 500) : "";
        bool done = strcmp (text_seen, "No known Consul servers") == 0;
        s_free (&reply);
        if (done)
            break;
    } while (time_mono_ms () < until);
    ck_assert_int_lt (time_mono_ms (), until);
}
END_TEST

START_TEST (test_isolation)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    //  dc3's server takes requests and never answers.
    reply_t stuck;
    int64_t start = time_mono_ms ();
    s_send (s1, "catalog.nodes", "{\"Datacenter\":\"dc3\"}", &stuck);
    //  Meanwhile dc2 and dc1 answer at once.
    for (int i = 0; i < 20; i++) {
        reply_t reply;
        s_call (s1, "catalog.nodes", i % 2 ? "{\"Datacenter\":\"dc2\"}" : "{}", &reply);
        ck_assert_int_eq (reply.type, ENVELOPE_REP);
        s_free (&reply);
    }
    ck_assert (!stuck.done);
    ck_assert_int_lt (time_mono_ms () - start, 3000);
    s_pump (10000, s_is_done, &stuck);
    ck_assert (stuck.done);
    ck_assert_str_eq (s_error (&stuck, 500),
                      "rpc error making call: timeout after 3500ms waiting for "
                      IP_DC3 ":" PORT " (dc3)");
    ck_assert_int_ge (stuck.at - start, 3400);
    s_free (&stuck);
}
END_TEST

START_TEST (test_blocking_deadlines_nest)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    //  The remote catalogd never answers: the innermost hop (its
    //  forwarderd -> catalogd, wait + wait/16 + 3 s) gives up first and
    //  the error travels back, before the WAN hop's own deadline.
    reply_t reply;
    int64_t start = time_mono_ms ();
    s_send (s1, "catalog.nodes",
            "{\"Datacenter\":\"dc2\",\"MinQueryIndex\":5,\"MaxQueryTime\":1600,\"Fake\":\"park\"}",
            &reply);
    s_pump (15000, s_is_done, &reply);
    ck_assert (reply.done);
    int64_t took = reply.at - start;
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: timeout waiting for catalogd");
    ck_assert_int_ge (took, 1700 + 3000 - 100);
    ck_assert_int_lt (took, 1700 + 3500);
    s_free (&reply);
    ck_assert_int_eq (zlistx_size (s2->parked), 1);
}
END_TEST

typedef struct { int calls; int status; char error[256]; } pool_reply_t;

static void
s_on_pool_reply (void *arg, int status, envelope_t *reply)
{
    pool_reply_t *result = (pool_reply_t *) arg;
    result->calls++;
    result->status = status;
    if (reply && reply->type == ENVELOPE_ERR)
        snprintf (result->error, sizeof result->error, "%s",
                  cJSON_GetObjectItem (reply->body, "Error")->valuestring);
}

static bool
s_pool_done (void *arg)
{
    void **pair = (void **) arg;
    fwd_pool_process ((fwd_pool_t *) pair[0]);
    fwd_pool_expire ((fwd_pool_t *) pair[0]);
    return ((pool_reply_t *) pair[1])->calls > 0;
}

START_TEST (test_loop_guard)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    //  A request that already crossed a DC and names yet another DC is a
    //  routing bug: refused, never forwarded again.
    fwd_pool_t *pool = fwd_pool_new (NULL);
    pool_reply_t result = { 0 };
    void *pair[2] = { pool, &result };
    fwd_pool_send (pool, "dc2", IP_S2 ":" PORT, "catalog.nodes",
                   "{\"Datacenter\":\"dc1\",\"ViaDatacenter\":\"dc9\"}", 5000,
                   s_on_pool_reply, &result);
    s_pump (5000, s_pool_done, pair);
    ck_assert_int_eq (result.status, FWD_POOL_OK);
    ck_assert_str_eq (result.error,
                      "Forwarding loop: request for datacenter \"dc1\" from \"dc9\" arrived in \"dc2\"");
    ck_assert_int_eq (s1->served + s2->served, 0);
    //  Naming the receiving DC it is served.
    memset (&result, 0, sizeof result);
    fwd_pool_send (pool, "dc2", IP_S2 ":" PORT, "catalog.nodes",
                   "{\"Datacenter\":\"dc2\",\"ViaDatacenter\":\"dc9\"}", 5000,
                   s_on_pool_reply, &result);
    s_pump (5000, s_pool_done, pair);
    ck_assert_int_eq (result.status, FWD_POOL_OK);
    ck_assert_str_eq (result.error, "");
    ck_assert_int_eq (s2->served, 1);
    //  stats is not served over TCP.
    memset (&result, 0, sizeof result);
    fwd_pool_send (pool, "dc2", IP_S2 ":" PORT, "stats", "{}", 5000, s_on_pool_reply, &result);
    s_pump (5000, s_pool_done, pair);
    ck_assert_str_eq (result.error, "unknown command \"stats\"");
    fwd_pool_destroy (&pool);
}
END_TEST

static bool
s_two_dc2_alive (void *arg)
{
    node_t *node = (node_t *) arg;
    static reply_t probe;
    static bool sent = false;
    if (!sent) {
        s_send (node, "stats", "{}", &probe);
        sent = true;
        return false;
    }
    if (!probe.done)
        return false;
    sent = false;
    cJSON *dc2 = cJSON_GetObjectItem (cJSON_GetObjectItem (probe.body, "Routes"), "dc2");
    int alive = 0;
    cJSON *server;
    cJSON_ArrayForEach (server, dc2)
        alive += strcmp (cJSON_GetObjectItem (server, "Status")->valuestring, "alive") == 0;
    s_free (&probe);
    return alive == 2;
}

START_TEST (test_read_retried_write_not)
{
    //  dc2 is served by a server that will vanish, S2 failed for now.
    zsock_t *bad = zsock_new_router ("tcp://" IP_BAD ":" PORT);
    ck_assert_ptr_nonnull (bad);
    node_t *s1 = s_node_add ("s1", "dc1", true, IP_S1, "", s_wan (4, true));
    node_t *s2 = s_node_add ("s2", "dc2", true, IP_S2, "", s_wan (4, true));
    s_wait_ready (s1);
    reply_t read, write;
    s_send (s1, "catalog.nodes", "{\"Datacenter\":\"dc2\"}", &read);
    s_send (s1, "catalog.register", "{\"Datacenter\":\"dc2\"}", &write);
    int got = 0;
    int64_t until = time_mono_ms () + 5000;
    while (got < 2 && time_mono_ms () < until) {
        s_pump (10, NULL, NULL);
        while (zsock_events (bad) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (bad);
            zmsg_destroy (&msg);
            got++;
        }
    }
    ck_assert_int_eq (got, 2);
    //  S2 comes back (a member event makes forwarderd look at once).
    cJSON_Delete (s1->members);
    s1->members = s_wan (1, true);
    cJSON *event = cJSON_CreateObject ();
    rpc_server_publish (s1->gossipd, "member.update", &event);
    s_pump (5000, s_two_dc2_alive, s1);
    s_pump (50, NULL, NULL);
    //  The vanishing server drops both: the read goes to S2, the write
    //  fails (it may have been applied).
    zsock_destroy (&bad);
    s_pump (10000, s_is_done, &read);
    s_pump (10000, s_is_done, &write);
    ck_assert (read.done && write.done);
    ck_assert_int_eq (read.type, ENVELOPE_REP);
    ck_assert_str_eq (s_result_string (&read, "Datacenter"), "dc2");
    ck_assert_str_eq (s_error (&write, 500),
                      "rpc error making call: connection to " IP_BAD ":" PORT " (dc2) lost");
    ck_assert_int_eq (s2->served, 1);
    s_free (&read);
    s_free (&write);
    //  The vanished server went to the back: the next requests go to S2.
    s_call (s1, "catalog.register", "{\"Datacenter\":\"dc2\"}", &write);
    ck_assert_int_eq (write.type, ENVELOPE_REP);
    s_free (&write);
}
END_TEST

START_TEST (test_catalogd_restart)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t read, write;
    s_send (s1, "catalog.nodes", "{\"Fake\":\"park\"}", &read);
    s_send (s1, "catalog.register", "{\"Fake\":\"park\"}", &write);
    int64_t until = time_mono_ms () + 5000;
    while (zlistx_size (s1->parked) < 2 && time_mono_ms () < until)
        s_pump (10, NULL, NULL);
    ck_assert_int_eq (zlistx_size (s1->parked), 2);
    //  Let forwarderd see a heartbeat of this catalogd (its boot id).
    s_pump (1200, NULL, NULL);
    //  catalogd restarts: its parked requests are gone for good.
    zlistx_purge (s1->parked);
    rpc_server_destroy (&s1->catalogd);
    s1->catalogd = rpc_server_new (s1->dir, "catalogd");
    s1->no_park = true;
    s_pump (5000, s_is_done, &write);
    s_pump (5000, s_is_done, &read);
    ck_assert (read.done && write.done);
    //  The read was asked again, the write was not.
    ck_assert_int_eq (read.type, ENVELOPE_REP);
    ck_assert_str_eq (s_error (&write, 503), "catalogd restarted");
    s_free (&read);
    s_free (&write);
    //  catalogd gone altogether: at once.
    rpc_server_destroy (&s1->catalogd);
    s_pump (300, NULL, NULL);
    s_call (s1, "catalog.nodes", "{}", &read);
    ck_assert_str_eq (s_error (&read, 503), "catalogd is not available");
    s_free (&read);
}
END_TEST

//  The Node of the first entry of a coordinate.nodes Result, and the body
//  the serving gossipd got.
static const char *
s_coordinate_node (reply_t *reply, cJSON **body)
{
    ck_assert_int_eq (reply->type, ENVELOPE_REP);
    cJSON *result = cJSON_GetObjectItem (reply->body, "Result");
    ck_assert (cJSON_IsArray (result));
    cJSON *entry = cJSON_GetArrayItem (result, 0);
    if (body)
        *body = cJSON_GetObjectItem (entry, "Body");
    return cJSON_GetStringValue (cJSON_GetObjectItem (entry, "Node"));
}

START_TEST (test_coordinates)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t reply;
    //  Another DC: served by its server's gossipd, wrapped as a read
    //  without an index, the forwarding fields removed.
    cJSON *seen;
    s_call (s1, "coordinate.nodes", "{\"Datacenter\":\"dc2\"}", &reply);
    ck_assert_str_eq (s_coordinate_node (&reply, &seen), "node-dc2");
    ck_assert_ptr_null (cJSON_GetObjectItem (reply.body, "Index"));
    ck_assert_str_eq (cJSON_GetObjectItem (seen, "Datacenter")->valuestring, "dc2");
    ck_assert_ptr_null (cJSON_GetObjectItem (seen, "ViaDatacenter"));
    ck_assert_ptr_null (cJSON_GetObjectItem (seen, "RequestTimeout"));
    s_free (&reply);
    ck_assert_int_eq (s2->gossip_served, 1);
    //  The local DC: this server's gossipd.
    s_call (s1, "coordinate.nodes", "{}", &reply);
    ck_assert_str_eq (s_coordinate_node (&reply, NULL), "node-dc1");
    s_free (&reply);
    //  From a client agent: a server of its DC, then one DC hop.
    s_call (c1, "coordinate.nodes", "{\"Datacenter\":\"dc2\"}", &reply);
    ck_assert_str_eq (s_coordinate_node (&reply, NULL), "node-dc2");
    s_free (&reply);
    s_call (c1, "coordinate.datacenters", "{}", &reply);
    cJSON *area = cJSON_GetArrayItem (cJSON_GetObjectItem (reply.body, "Result"), 0);
    ck_assert_str_eq (cJSON_GetObjectItem (area, "Datacenter")->valuestring, "dc1");
    ck_assert_str_eq (cJSON_GetObjectItem (area, "AreaID")->valuestring, "wan");
    s_free (&reply);
    ck_assert_int_eq (s1->gossip_served, 2);
    ck_assert_int_eq (c1->gossip_served, 0);
    ck_assert_int_eq (s1->served + s2->served, 0);
    //  Never blocking: an index in the request changes nothing.
    int64_t start = time_mono_ms ();
    s_call (s1, "coordinate.nodes",
            "{\"Datacenter\":\"dc2\",\"MinQueryIndex\":5,\"MaxQueryTime\":60000}", &reply);
    ck_assert_str_eq (s_coordinate_node (&reply, NULL), "node-dc2");
    ck_assert_int_lt (time_mono_ms () - start, 2000);
    s_free (&reply);
    //  Consul's error words, and gossipd's errors relayed per hop.
    s_call (s1, "coordinate.nodes", "{\"Datacenter\":\"nope\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "No path to datacenter");
    s_free (&reply);
    s_call (c1, "coordinate.nodes", "{\"Datacenter\":\"nope\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: No path to datacenter");
    s_free (&reply);
    s_call (s1, "coordinate.nodes", "{\"Datacenter\":\"dc4\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "Remote DC has no server currently reachable");
    s_free (&reply);
    s_call (s1, "coordinate.nodes", "{\"Datacenter\":\"dc2\",\"Fake\":\"err500\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "rpc error making call: coordinates unavailable");
    s_free (&reply);
    s_call (s1, "coordinate.nodes", "{\"Fake\":\"err500\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "coordinates unavailable");
    s_free (&reply);
}
END_TEST

START_TEST (test_gossipd_restart)
{
    node_t *s1, *s2, *c1;
    s_world (&s1, &s2, &c1);
    reply_t read;
    s_send (s1, "coordinate.nodes", "{\"Fake\":\"park\"}", &read);
    int64_t until = time_mono_ms () + 5000;
    while (zlistx_size (s1->gossip_parked) < 1 && time_mono_ms () < until)
        s_pump (10, NULL, NULL);
    ck_assert_int_eq (zlistx_size (s1->gossip_parked), 1);
    //  Let forwarderd see a heartbeat of this gossipd (its boot id).
    s_pump (1200, NULL, NULL);
    //  gossipd restarts: the parked read is asked again, of the new one.
    zlistx_purge (s1->gossip_parked);
    rpc_server_destroy (&s1->gossipd);
    s1->gossipd = rpc_server_new (s1->dir, "gossipd");
    s1->no_park = true;
    s_pump (5000, s_is_done, &read);
    ck_assert (read.done);
    ck_assert_str_eq (s_coordinate_node (&read, NULL), "node-dc1");
    s_free (&read);
    //  gossipd gone: after the hold, a clear error (and no hang).
    rpc_server_destroy (&s1->gossipd);
    s1->gossipd = NULL;
    s_pump (300, NULL, NULL);
    int64_t start = time_mono_ms ();
    s_call (s1, "coordinate.nodes", "{}", &read);
    ck_assert_str_eq (s_error (&read, 503), "gossipd is not available");
    ck_assert_int_lt (time_mono_ms () - start, 3000);
    s_free (&read);
}
END_TEST

START_TEST (test_curve)
{
    //  dc2's server and client share the gossip key; dc1's server has none.
    node_t *s1 = s_node_add ("s1", "dc1", true, IP_S1, "", s_wan (1, false));
    node_t *s2 = s_node_add ("s2", "dc2", true, IP_S2, KEY_A, s_wan (1, false));
    node_t *c2 = s_node_add ("c2", "dc2", false, "127.0.9.31", KEY_A, s_lan (IP_S2, "dc2"));
    s_wait_ready (s1);
    s_wait_ready (c2);
    reply_t reply;
    s_call (c2, "catalog.nodes", "{}", &reply);
    ck_assert_str_eq (s_result_string (&reply, "Datacenter"), "dc2");
    s_free (&reply);
    //  Without the key, dc2 cannot be reached.
    s_call (s1, "catalog.nodes", "{\"Datacenter\":\"dc2\"}", &reply);
    ck_assert_str_eq (s_error (&reply, 500), "Remote DC has no server currently reachable");
    s_free (&reply);
    ck_assert_int_eq (s2->served, 1);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_daemon");
    struct { const char *name; const TTest *test; } cases[] = {
        { "server_routes", test_server_routes },
        { "error_words", test_error_words },
        { "client_agent", test_client_agent },
        { "isolation", test_isolation },
        { "blocking_deadlines", test_blocking_deadlines_nest },
        { "loop_guard", test_loop_guard },
        { "read_retry", test_read_retried_write_not },
        { "catalogd_restart", test_catalogd_restart },
        { "coordinates", test_coordinates },
        { "gossipd_restart", test_gossipd_restart },
        { "curve", test_curve },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_add_checked_fixture (tc, s_setup, s_teardown);
        tcase_set_timeout (tc, 60);
        tcase_add_test (tc, cases[i].test);
        suite_add_tcase (suite, tc);
    }
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
