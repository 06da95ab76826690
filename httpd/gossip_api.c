/*  gossip_api: the HTTP endpoints the node's gossipd answers
    (docs/protocol/gossip.md, "Local RPC"): /v1/agent/members, join,
    leave and force-leave, /v1/coordinate/{datacenters,nodes,node/:node}
    and /v1/operator/keyring, with Consul's parameters, shapes and error
    texts (docs/http-api.md, "Gossip"). Coordinates this node's gossipd
    does not know (another datacenter's, the WAN pool's on a client agent)
    are asked of a server through forwarderd (docs/protocol/server-rpc.md,
    "Use from httpd"). Every call is asynchronous: the request is
    suspended until the answer. */
#include "api.h"
#include "json_render.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Longest node name gossipd accepts (gossip.md, "Field types").
#define NODE_NAME_MAX       192
//  Members a keyring query may have to wait for, as log10 rounded up
//  (gossip.md: the query timeout grows with ceil(log10(N+1))).
#define KEYRING_LOG_NODES   5

static int64_t
s_clamp (int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : value > high ? high : value;
}

//  The deadline of a join: the pool's TCP timeout (20 x probe timeout,
//  1..30 s) plus the default.
static int64_t
s_join_timeout (const config_t *cfg, bool wan)
{
    const config_gossip_t *pool = wan ? &cfg->gossip_wan : &cfg->gossip_lan;
    return s_clamp (20 * pool->probe_timeout_ms, 1000, 30000) + LINK_TIMEOUT_MS;
}

//  A leave ends after at most 10 gossip intervals of the slower pool.
static int64_t
s_leave_timeout (const config_t *cfg)
{
    int64_t interval = cfg->gossip_lan.gossip_interval_ms;
    if (cfg->server && cfg->gossip_wan.gossip_interval_ms > interval)
        interval = cfg->gossip_wan.gossip_interval_ms;
    return 10 * interval + LINK_TIMEOUT_MS;
}

//  A keyring operation queries the WAN pool, then the LAN pool, each for
//  at most gossip_interval x 16 x ceil(log10(N+1)).
static int64_t
s_keyring_timeout (const config_t *cfg)
{
    int64_t intervals = cfg->gossip_lan.gossip_interval_ms;
    if (cfg->server)
        intervals += cfg->gossip_wan.gossip_interval_ms;
    return intervals * 16 * KEYRING_LOG_NODES + LINK_TIMEOUT_MS;
}

//  Refuses ?filter, which Meridian does not evaluate. Returns 0/-1.
static int
s_no_filter (http_request_t *request)
{
    const char *filter = request_query (request, "filter");
    if (filter && *filter) {
        request_reply_text (request, 400,
            "Filter expressions (?filter) are not supported by Meridian");
        return -1;
    }
    return 0;
}

//  A JSON array from a gossipd REP, else NULL after answering the error.
static cJSON *
s_reply_array (api_t *api, http_request_t *request, const char *command,
               int status, envelope_t *reply, int64_t timeout_ms)
{
    if (status == RPC_OK && reply->type == ENVELOPE_REP && cJSON_IsArray (reply->body))
        return reply->body;
    peer_reply_error (api->gossip, request, command, status, reply, timeout_ms);
    return NULL;
}

//  Go renders maps sorted by key.
static void
s_sort_member (cJSON *member)
{
    json_sort_object (cJSON_GetObjectItemCaseSensitive (member, "Tags"));
}

//  A reply that is 200 with an empty body on success.
static void
s_empty_reply (api_t *api, http_request_t *request, const char *command,
               int status, envelope_t *reply, int64_t timeout_ms)
{
    if (status == RPC_OK && reply->type == ENVELOPE_REP)
        request_reply_empty (request, 200);
    else
        peer_reply_error (api->gossip, request, command, status, reply, timeout_ms);
}

//  -- members, join, leave, force-leave ---------------------------------------

static void
s_members_reply (void *arg, http_request_t *request, int status, envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    cJSON *members = s_reply_array (api, request, "members", status, reply,
                                    LINK_TIMEOUT_MS);
    if (!members)
        return;
    cJSON *member;
    cJSON_ArrayForEach (member, members)
        s_sort_member (member);
    request_reply_json (request, 200, members);
}

//  GET /v1/agent/members[?wan=1][&segment=]: ?wan counts when it has a
//  value, as Consul reads it (Query().Get("wan") != "").
static void
s_agent_members (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *wan = request_query (request, "wan");
    bool is_wan = wan && *wan;
    const char *segment = request_query (request, "segment");
    if (is_wan && segment && *segment && strcmp (segment, "_all") != 0) {
        request_reply_text (request, 400, "Cannot provide a segment with wan=true");
        return;
    }
    if (s_no_filter (request))
        return;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddBoolToObject (body, "WAN", is_wan);
    peer_request (api->gossip, request, "members", &body, LINK_TIMEOUT_MS,
                  s_members_reply, api);
}

static void
s_join_reply (void *arg, http_request_t *request, int status, envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    const char *wan = request_query (request, "wan");
    s_empty_reply (api, request, "join", status, reply,
                   s_join_timeout (api->cfg, wan && *wan));
}

//  PUT /v1/agent/join/<address>[?wan=1]
static void
s_agent_join (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *address = request_tail (request);
    const char *wan = request_query (request, "wan");
    bool is_wan = wan && *wan;
    if (!*address) {
        request_reply_text (request, 400, "Missing address to join");
        return;
    }
    cJSON *body = cJSON_CreateObject ();
    cJSON *addresses = cJSON_AddArrayToObject (body, "Addresses");
    cJSON_AddItemToArray (addresses, cJSON_CreateString (address));
    cJSON_AddBoolToObject (body, "WAN", is_wan);
    peer_request (api->gossip, request, "join", &body,
                  s_join_timeout (api->cfg, is_wan), s_join_reply, api);
}

//  After a leave, the `meridian agent` that started this httpd (its parent,
//  named by MERIDIAN_AGENT_PID) is asked to shut down, as Consul's agent
//  exits. The reply is already queued: this loop turn sends it before
//  httpd looks at its own SIGTERM. Daemons run by other supervisors
//  (systemd units) keep running, out of the pools.
static void
s_stop_agent (void)
{
    const char *text = getenv ("MERIDIAN_AGENT_PID");
    long pid = text ? strtol (text, NULL, 10) : 0;
    if (pid > 1 && pid == (long) getppid ()) {
        log_info ("left the cluster: stopping the agent pid=%ld", pid);
        kill ((pid_t) pid, SIGTERM);
    }
}

static void
s_leave_reply (void *arg, http_request_t *request, int status, envelope_t *reply)
{
    api_t *api = arg;
    if (request)
        s_empty_reply (api, request, "leave", status, reply,
                       s_leave_timeout (api->cfg));
    if (status == RPC_OK && reply && reply->type == ENVELOPE_REP)
        s_stop_agent ();
}

//  PUT /v1/agent/leave: a graceful leave of every pool.
static void
s_agent_leave (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = cJSON_CreateObject ();
    peer_request (api->gossip, request, "leave", &body, s_leave_timeout (api->cfg),
                  s_leave_reply, api);
}

static void
s_force_leave_reply (void *arg, http_request_t *request, int status,
                     envelope_t *reply)
{
    api_t *api = arg;
    if (request)
        s_empty_reply (api, request, "force-leave", status, reply, LINK_TIMEOUT_MS);
}

//  PUT /v1/agent/force-leave/<node>[?prune][&wan]: both flags count when
//  present, with or without a value (Consul's `_, ok := Query()[...]`).
static void
s_agent_force_leave (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *node = request_tail (request);
    bool wan = request_query_has (request, "wan");
    if (wan && !api->cfg->server) {
        request_reply_text (request, 500,
                            "Must be a server to force-leave a node from the WAN cluster");
        return;
    }
    //  No member has an empty or overlong name: Consul's "not found".
    if (!*node || strlen (node) > NODE_NAME_MAX) {
        request_reply_text (request, 500, "agent: No node found with name '%s'", node);
        return;
    }
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Node", node);
    cJSON_AddBoolToObject (body, "Prune", request_query_has (request, "prune"));
    cJSON_AddBoolToObject (body, "WAN", wan);
    peer_request (api->gossip, request, "force-leave", &body, LINK_TIMEOUT_MS,
                  s_force_leave_reply, api);
}

//  -- coordinates -----------------------------------------------------------

static void
s_coordinate_datacenters_reply (void *arg, http_request_t *request, int status,
                                envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    cJSON *areas = s_reply_array (api, request, "coordinate.datacenters", status,
                                  reply, LINK_TIMEOUT_MS);
    if (areas)
        request_reply_json (request, 200, areas);
}

//  GET /v1/coordinate/datacenters: the WAN coordinates of every server.
static void
s_coordinate_datacenters (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = cJSON_CreateObject ();
    //  Only servers are in the WAN pool: a client agent asks a server of
    //  its datacenter, as Consul's does.
    if (!api->cfg->server) {
        catalog_link_read (api->link, request, "coordinate.datacenters", &body,
                           NULL, 0, false);
        return;
    }
    peer_request (api->gossip, request, "coordinate.datacenters", &body,
                  LINK_TIMEOUT_MS, s_coordinate_datacenters_reply, api);
}

//  /v1/coordinate/node/<node>: the node's entries of a coordinate list,
//  404 with an empty body when it has none.
static void
s_reply_node_entries (http_request_t *request, const cJSON *nodes)
{
    const char *node = request_tail (request);
    cJSON *mine = cJSON_CreateArray ();
    const cJSON *entry;
    cJSON_ArrayForEach (entry, nodes) {
        const char *name = cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (entry, "Node"));
        if (name && strcmp (name, node) == 0)
            cJSON_AddItemReferenceToArray (mine, (cJSON *) entry);
    }
    if (cJSON_GetArraySize (mine) > 0)
        request_reply_json (request, 200, mine);
    else
        request_reply_empty (request, 404);
    cJSON_Delete (mine);
}

static void
s_coordinate_nodes_reply (void *arg, http_request_t *request, int status,
                          envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    cJSON *nodes = s_reply_array (api, request, "coordinate.nodes", status, reply,
                                  LINK_TIMEOUT_MS);
    if (!nodes)
        return;
    if (!*request_tail (request))
        request_reply_json (request, 200, nodes);
    else
        s_reply_node_entries (request, nodes);
}

//  Another datacenter's coordinate list, as one of its servers' read
//  reply: answers /v1/coordinate/node/<node> from it.
static void
s_coordinate_node_fetched (void *arg, http_request_t *request, cJSON *body)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive (body, "Result");
    if (request && cJSON_IsArray (nodes))
        s_reply_node_entries (request, nodes);
    else
    if (request)
        request_reply_text (request, 500,
                            "forwarderd sent a malformed reply to coordinate.nodes");
    cJSON_Delete (body);
}

//  The LAN coordinates of a datacenter: this one's from the node's
//  gossipd, another one's from a server of that datacenter, through
//  forwarderd (errors as for any forwarded read: No path to datacenter).
//  Neither blocks: gossip coordinates have no index to wait on.
static void
s_coordinate_lan (api_t *api, http_request_t *request)
{
    if (s_no_filter (request))
        return;
    const char *dc = request_query (request, "dc");
    cJSON *body = cJSON_CreateObject ();
    if (dc && *dc && strcmp (dc, api->cfg->datacenter) != 0) {
        query_opts_t opts = { .dc = dc };
        if (*request_tail (request))
            catalog_link_read_then (api->link, request, "coordinate.nodes", &body,
                                    &opts, s_coordinate_node_fetched, api);
        else
            catalog_link_read (api->link, request, "coordinate.nodes", &body,
                               &opts, 0, false);
        return;
    }
    peer_request (api->gossip, request, "coordinate.nodes", &body, LINK_TIMEOUT_MS,
                  s_coordinate_nodes_reply, api);
}

//  GET /v1/coordinate/nodes[?dc=]
static void
s_coordinate_nodes (void *ctx, http_request_t *request)
{
    s_coordinate_lan (ctx, request);
}

//  GET /v1/coordinate/node/<node>[?dc=]
static void
s_coordinate_node (void *ctx, http_request_t *request)
{
    if (!*request_tail (request)) {
        request_reply_text (request, 400, "Missing node name");
        return;
    }
    s_coordinate_lan (ctx, request);
}

//  -- keyring ---------------------------------------------------------------

//  The keyring list as Consul renders structs.KeyringResponse: maps
//  sorted, Messages only when some node sent one.
static void
s_keyring_render (cJSON *responses)
{
    cJSON *response;
    cJSON_ArrayForEach (response, responses) {
        cJSON *messages = cJSON_GetObjectItemCaseSensitive (response, "Messages");
        if (messages && (!cJSON_IsObject (messages) || !messages->child))
            cJSON_DeleteItemFromObjectCaseSensitive (response, "Messages");
        json_sort_object (cJSON_GetObjectItemCaseSensitive (response, "Messages"));
        json_sort_object (cJSON_GetObjectItemCaseSensitive (response, "Keys"));
        json_sort_object (cJSON_GetObjectItemCaseSensitive (response, "PrimaryKeys"));
    }
}

static void
s_keyring_reply (void *arg, http_request_t *request, int status, envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    int64_t timeout = s_keyring_timeout (api->cfg);
    if (strcmp (request_method (request), "GET") != 0) {
        s_empty_reply (api, request, "keyring", status, reply, timeout);
        return;
    }
    cJSON *responses = s_reply_array (api, request, "keyring", status, reply, timeout);
    if (responses) {
        s_keyring_render (responses);
        request_reply_json (request, 200, responses);
    }
}

//  Go's strconv.Atoi for ?relay-factor. Returns 0/-1.
static int
s_parse_int (const char *text, long *value)
{
    if (!*text || strchr (" \t\n", *text))
        return -1;
    char *end = NULL;
    errno = 0;
    *value = strtol (text, &end, 10);
    return errno || *end ? -1 : 0;
}

//  ?relay-factor and ?local-only as Consul validates them (Meridian's
//  keyring operations reach every member directly, so neither changes
//  the result). Returns 0, or -1 after a 400.
static int
s_keyring_options (http_request_t *request, bool list)
{
    const char *relay = request_query (request, "relay-factor");
    if (relay && *relay) {
        long factor;
        if (s_parse_int (relay, &factor) != 0) {
            request_reply_text (request, 400, "Error parsing relay factor: "
                                "strconv.Atoi: parsing \"%s\": invalid syntax", relay);
            return -1;
        }
        if (factor < 0 || factor > 5) {
            request_reply_text (request, 400, "Invalid relay-factor: relay factor "
                                "must be in range: [0, 5]");
            return -1;
        }
    }
    const char *local = request_query (request, "local-only");
    if (local && *local) {
        bool local_only;
        if (request_parse_bool (local, &local_only) != 0) {
            request_reply_text (request, 400, "Error parsing local-only: "
                                "strconv.ParseBool: parsing \"%s\": invalid syntax",
                                local);
            return -1;
        }
        if (local_only && !list) {
            request_reply_text (request, 400, "Invalid use of local-only: "
                                "local-only can only be set for list requests");
            return -1;
        }
    }
    return 0;
}

//  The Key of an install/use/remove body. Returns a new string (caller
//  frees), or NULL after a 400.
static char *
s_keyring_key (http_request_t *request)
{
    cJSON *body = request_body_json (request);
    if (!body)
        return NULL;
    char *key = NULL;
    static const char *const names [] = { "Key", NULL };
    if (cJSON_IsObject (body)) {
        request_canonical_keys (body, names);
        cJSON *item = cJSON_GetObjectItemCaseSensitive (body, "Key");
        if (item && !cJSON_IsString (item) && !cJSON_IsNull (item))
            request_reply_text (request, 400, "Request decode failed: json: cannot "
                                "unmarshal %s into Go struct field keyringArgs.Key "
                                "of type string",
                                cJSON_IsNumber (item) ? "number"
                                : cJSON_IsBool (item) ? "bool"
                                : cJSON_IsArray (item) ? "array" : "object");
        else
            key = strdup (cJSON_IsString (item) ? item->valuestring : "");
    }
    else
    if (cJSON_IsNull (body))
        key = strdup ("");
    else
        request_reply_text (request, 400, "Request decode failed: json: cannot "
                            "unmarshal %s into Go value of type agent.keyringArgs",
                            cJSON_IsArray (body) ? "array"
                            : cJSON_IsString (body) ? "string"
                            : cJSON_IsNumber (body) ? "number" : "bool");
    cJSON_Delete (body);
    if (!key && !request_has_reply (request))
        request_reply_text (request, 500, "out of memory");
    return key;
}

//  /v1/operator/keyring: GET lists, POST installs, PUT uses, DELETE removes.
static void
s_operator_keyring (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *method = request_method (request);
    bool list = strcmp (method, "GET") == 0;
    const char *op = list ? "list"
                   : strcmp (method, "POST") == 0 ? "install"
                   : strcmp (method, "PUT") == 0 ? "use" : "remove";
    char *key = NULL;
    if (!list && !(key = s_keyring_key (request)))
        return;
    if (s_keyring_options (request, list) != 0) {
        free (key);
        return;
    }
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Op", op);
    if (key)
        cJSON_AddStringToObject (body, "Key", key);
    free (key);
    peer_request (api->gossip, request, "keyring", &body,
                  s_keyring_timeout (api->cfg), s_keyring_reply, api);
}

int
gossip_api_register (router_t *router)
{
    int rc = 0;
    rc |= router_add (router, "GET", "/v1/agent/members", s_agent_members);
    rc |= router_add (router, "PUT", "/v1/agent/join/", s_agent_join);
    rc |= router_add (router, "PUT", "/v1/agent/leave", s_agent_leave);
    rc |= router_add (router, "PUT", "/v1/agent/force-leave/", s_agent_force_leave);
    rc |= router_add (router, "GET", "/v1/coordinate/datacenters",
                      s_coordinate_datacenters);
    rc |= router_add (router, "GET", "/v1/coordinate/nodes", s_coordinate_nodes);
    rc |= router_add (router, "GET", "/v1/coordinate/node/", s_coordinate_node);
    rc |= router_add (router, "GET", "/v1/operator/keyring", s_operator_keyring);
    rc |= router_add (router, "POST", "/v1/operator/keyring", s_operator_keyring);
    rc |= router_add (router, "PUT", "/v1/operator/keyring", s_operator_keyring);
    rc |= router_add (router, "DELETE", "/v1/operator/keyring", s_operator_keyring);
    return rc ? -1 : 0;
}
