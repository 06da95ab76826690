/*  forwarder: routing and relaying of server RPC requests
    (docs/protocol/server-rpc.md, "Routing", "Failures and retries", "Hop
    deadlines"). A request from httpd (ipc) or from another agent (TCP)
    becomes a call_t that lives until its one reply is sent; it has at most
    one hop outstanding: the local catalogd or gossipd, or a server picked
    from the server lists over the connection pool. */
#include "forwarder.h"
#include "fwd_endpoint.h"
#include "fwd_gossip.h"
#include "fwd_keys.h"
#include "fwd_msg.h"
#include "fwd_pool.h"
#include "fwd_routes.h"
#include "log.h"
#include "rpc_client.h"
#include "rpc_server.h"
#include "rpc_sub.h"
#include "signals.h"
#include "timeutil.h"

#include <inttypes.h>

#define PRUNE_MS            10000
#define IDLE_CONN_MS        60000
#define REBALANCE_MIN_MS    120000
#define REBALANCE_JITTER_MS 60000
#define CATALOGD_SILENCE_MS 5000    //  heartbeats stopped: catalogd is gone
#define CATALOGD_GRACE_MS   1000    //  wait for catalogd to (re)connect
#define CATALOGD_RETRY_MS   20
#define FIXED_ITEMS         8

typedef enum { HOP_NONE, HOP_CATALOGD, HOP_WAIT_CATALOGD, HOP_GOSSIPD, HOP_SERVER } hop_t;

typedef struct {
    forwarder_t *owner;
    void *handle;               //  place in owner->calls
    rpc_request_t *ipc;         //  the origin: one of ipc and tcp
    fwd_inbound_t *tcp;
    fwd_request_t info;
    char *body_json;            //  body as sent to servers (made once)
    hop_t hop;
    uint64_t hop_id;
    char server[FWD_ADDRESS_MAX];
    char hop_dc[FWD_DC_MAX];    //  pool key: target DC, local DC on a client
    bool retried;               //  a read gets one more try
    bool sending;               //  inside rpc_client_send
    bool unavailable_now;       //  ... which failed at once
    int64_t grace_until;        //  catalogd not connected: retry until then
    void *wait_handle;          //  place in owner->waiting
} call_t;

struct _forwarder_t {
    config_t cfg;
    fwd_keys_t keys;
    rpc_server_t *ipc;
    fwd_endpoint_t *tcp;        //  servers
    rpc_client_t *catalogd;     //  servers
    rpc_sub_t *catalogd_sub;
    char catalogd_boot[32];
    bool catalogd_restarted;    //  set while failing its pending requests
    fwd_gossip_t *gossipd;      //  server lists; serves coordinate.*
    fwd_routes_t *routes;       //  WAN pool on servers, LAN pool on clients
    fwd_pool_t *pool;
    zlistx_t *calls;
    zlistx_t *waiting;          //  calls waiting for catalogd to connect
    int64_t prune_at;
    int64_t rebalance_at;
    uint64_t ops;               //  socket operations, to drain to a fixpoint
    uint64_t forwarded;
    uint64_t errors;
    zmq_pollitem_t *items;
    size_t items_capacity;
};

static void s_call_start (call_t *call);
static void s_call_forward (call_t *call);
static void s_call_local (call_t *call);

//  --------------------------------------------------------------------
//  Calls: origin, replies

static const char *
s_call_command (call_t *call)
{
    return call->ipc ? rpc_request_command (call->ipc) : fwd_inbound_command (call->tcp);
}

static cJSON *
s_call_body (call_t *call)
{
    return call->ipc ? rpc_request_body (call->ipc) : fwd_inbound_body (call->tcp);
}

static call_t *
s_call_new (forwarder_t *self, rpc_request_t *ipc, fwd_inbound_t *tcp)
{
    call_t *call = (call_t *) calloc (1, sizeof (call_t));
    if (!call)
        return NULL;
    call->owner = self;
    call->ipc = ipc;
    call->tcp = tcp;
    call->handle = zlistx_add_end (self->calls, call);
    return call;
}

static void
s_call_destroy (call_t **call_p)
{
    call_t *call = *call_p;
    if (!call)
        return;
    if (call->handle)
        zlistx_delete (call->owner->calls, call->handle);
    if (call->wait_handle)
        zlistx_delete (call->owner->waiting, call->wait_handle);
    rpc_request_destroy (&call->ipc);
    fwd_inbound_destroy (&call->tcp);
    free (call->body_json);
    free (call);
    *call_p = NULL;
}

//  Sends a REP with *body_p to the origin and ends the call.
static void
s_call_reply (call_t *call, cJSON **body_p)
{
    forwarder_t *self = call->owner;
    self->ops++;
    if (call->ipc)
        rpc_server_reply (self->ipc, &call->ipc, body_p);
    else
        fwd_endpoint_reply (self->tcp, &call->tcp, ENVELOPE_REP, body_p);
    s_call_destroy (&call);
}

//  Sends an ERR to the origin and ends the call.
static void
s_call_error (call_t *call, int code, const char *text)
{
    forwarder_t *self = call->owner;
    self->ops++;
    self->errors++;
    log_debug ("request failed command=%s datacenter=%s code=%d",
               s_call_command (call),
               call->info.datacenter_valid ? call->info.datacenter : "(invalid)", code);
    if (call->ipc)
        rpc_server_error (self->ipc, &call->ipc, code, "%s", text);
    else {
        cJSON *body = envelope_error_body (code, "%s", text);
        fwd_endpoint_reply (self->tcp, &call->tcp, ENVELOPE_ERR, &body);
    }
    s_call_destroy (&call);
}

//  Sends a REP whose body is JSON text, as it came from the hop, and ends
//  the call.
static void
s_call_reply_raw (call_t *call, char **raw_p, size_t len)
{
    forwarder_t *self = call->owner;
    self->ops++;
    if (call->ipc)
        rpc_server_reply_raw (self->ipc, &call->ipc, raw_p, len);
    else
        fwd_endpoint_reply_raw (self->tcp, &call->tcp, raw_p, len);
    s_call_destroy (&call);
}

//  Relays a reply (REP or ERR) to the origin; remote says it came from
//  another node, whose errors get Consul's pool prefix. A REP body from
//  catalogd or a server is passed on as the text it came in (not parsed).
static void
s_call_relay (call_t *call, envelope_t *reply, bool remote)
{
    if (reply->type == ENVELOPE_REP && reply->raw) {
        char *raw = reply->raw;
        reply->raw = NULL;
        s_call_reply_raw (call, &raw, reply->raw_len);
        return;
    }
    if (reply->type == ENVELOPE_REP) {
        cJSON *body = reply->body;
        reply->body = NULL;
        s_call_reply (call, &body);
        return;
    }
    cJSON *parsed = reply->raw ? cJSON_ParseWithLength (reply->raw, reply->raw_len) : NULL;
    const cJSON *error = reply->raw ? parsed : reply->body;
    const cJSON *code_item = cJSON_GetObjectItemCaseSensitive (error, "Code");
    const cJSON *text_item = cJSON_GetObjectItemCaseSensitive (error, "Error");
    int code = 500;
    if (cJSON_IsNumber (code_item) && code_item->valuedouble >= 400
        && code_item->valuedouble < 600)
        code = (int) code_item->valuedouble;
    const char *text = cJSON_IsString (text_item) && text_item->valuestring
                     ? text_item->valuestring : "unknown error";
    char relayed[1024];
    if (remote)
        fwd_error_relay_text (code, text, relayed, sizeof relayed);
    else
        snprintf (relayed, sizeof relayed, "%s", text);
    cJSON_Delete (parsed);
    s_call_error (call, code, relayed);
}

//  --------------------------------------------------------------------
//  Local hop: this server's catalogd

static void
s_on_catalogd (void *arg, int status, envelope_t *reply)
{
    call_t *call = (call_t *) arg;
    forwarder_t *self = call->owner;
    self->ops++;
    call->hop = HOP_NONE;
    if (status == RPC_OK) {
        s_call_relay (call, reply, false);
        return;
    }
    if (status == RPC_UNAVAILABLE && call->sending) {
        call->unavailable_now = true;
        return;
    }
    if (status == RPC_TIMEOUT) {
        s_call_error (call, 500, "timeout waiting for catalogd");
        return;
    }
    //  Failed while pending: catalogd restarted or went silent. Its
    //  requests will never be answered; a read may be asked again.
    if (self->catalogd_restarted && call->info.kind == FWD_KIND_READ && !call->retried) {
        call->retried = true;
        call->grace_until = 0;      //  the new catalogd may not be connected yet
        s_call_local (call);
        return;
    }
    s_call_error (call, 503, self->catalogd_restarted ? "catalogd restarted"
                                                      : "catalogd is not available");
}

static void
s_call_local (call_t *call)
{
    forwarder_t *self = call->owner;
    cJSON *body = s_call_body (call);
    cJSON_DeleteItemFromObjectCaseSensitive (body, "ViaDatacenter");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Server");
    //  catalogd bounds its waits (for a leader, for the leader's answer)
    //  by the deadline of this hop.
    int64_t timeout = fwd_hop_timeout (&call->info, FWD_MARGIN_LOCAL);
    cJSON_DeleteItemFromObjectCaseSensitive (body, "RequestTimeout");
    cJSON_AddNumberToObject (body, "RequestTimeout", (double) timeout);
    cJSON *copy = cJSON_Duplicate (body, true);
    if (!copy) {
        s_call_error (call, 500, "out of memory");
        return;
    }
    call->hop = HOP_CATALOGD;
    call->sending = true;
    call->unavailable_now = false;
    self->ops++;
    call->hop_id = rpc_client_send (self->catalogd, s_call_command (call), &copy,
                                    timeout, s_on_catalogd, call);
    call->sending = false;
    if (!call->unavailable_now)
        return;
    //  Not connected (starting, or just restarted): try again shortly.
    int64_t now = time_mono_ms ();
    if (!call->grace_until)
        call->grace_until = now + CATALOGD_GRACE_MS;
    if (now < call->grace_until) {
        call->hop = HOP_WAIT_CATALOGD;
        call->wait_handle = zlistx_add_end (self->waiting, call);
        if (call->wait_handle)
            return;
    }
    call->hop = HOP_NONE;
    s_call_error (call, 503, "catalogd is not available");
}

//  Sends again the calls that found catalogd not connected.
static void
s_retry_waiting (forwarder_t *self)
{
    size_t count = zlistx_size (self->waiting);
    while (count--) {
        call_t *call = (call_t *) zlistx_first (self->waiting);
        zlistx_delete (self->waiting, call->wait_handle);
        call->wait_handle = NULL;
        s_call_local (call);
    }
}

//  --------------------------------------------------------------------
//  Local hop: this server's gossipd (coordinate.*)

static void s_call_gossip (call_t *call);

static void
s_on_gossipd (void *arg, int status, envelope_t *reply)
{
    call_t *call = (call_t *) arg;
    forwarder_t *self = call->owner;
    self->ops++;
    call->hop = HOP_NONE;
    if (status == RPC_OK && reply->type == ENVELOPE_REP) {
        //  A read reply like catalogd's, without an index.
        cJSON *body = cJSON_CreateObject ();
        if (!body) {
            s_call_error (call, 500, "out of memory");
            return;
        }
        cJSON_AddItemToObject (body, "Result", reply->body);
        reply->body = NULL;
        s_call_reply (call, &body);
        return;
    }
    if (status == RPC_OK) {
        s_call_relay (call, reply, false);
        return;
    }
    if (status == RPC_UNAVAILABLE && call->sending) {
        call->unavailable_now = true;
        return;
    }
    if (status == RPC_TIMEOUT) {
        s_call_error (call, 500, "timeout waiting for gossipd");
        return;
    }
    //  A restarted gossipd never got it: a read may be asked again.
    bool restarted = fwd_gossip_restarting (self->gossipd);
    if (restarted && call->info.kind == FWD_KIND_READ && !call->retried) {
        call->retried = true;
        s_call_gossip (call);
        return;
    }
    s_call_error (call, 503, restarted ? "gossipd restarted" : "gossipd is not available");
}

static void
s_call_gossip (call_t *call)
{
    forwarder_t *self = call->owner;
    cJSON *body = cJSON_Duplicate (s_call_body (call), true);
    if (!body) {
        s_call_error (call, 500, "out of memory");
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive (body, "ViaDatacenter");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Server");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "RequestTimeout");
    call->hop = HOP_GOSSIPD;
    call->sending = true;
    call->unavailable_now = false;
    self->ops++;
    call->hop_id = fwd_gossip_send (self->gossipd, s_call_command (call), &body,
                                    fwd_hop_timeout (&call->info, FWD_MARGIN_LOCAL),
                                    s_on_gossipd, call);
    call->sending = false;
    if (call->unavailable_now) {
        call->hop = HOP_NONE;
        s_call_error (call, 503, "gossipd is not available");
    }
}

//  --------------------------------------------------------------------
//  Server hop: a server of the target DC (WAN) or of this DC (LAN)

static bool
s_conn_usable (void *arg, const char *dc, const char *address)
{
    forwarder_t *self = (forwarder_t *) arg;
    //  On a client agent, connections are keyed by the local DC.
    return fwd_pool_state (self->pool, self->cfg.server ? dc : self->cfg.datacenter,
                           address) != FWD_CONN_DOWN;
}

static void
s_on_server (void *arg, int status, envelope_t *reply)
{
    call_t *call = (call_t *) arg;
    forwarder_t *self = call->owner;
    call->hop = HOP_NONE;
    if (status == FWD_POOL_OK) {
        self->forwarded++;
        s_call_relay (call, reply, true);
        return;
    }
    //  Consul's NotifyFailedServer: the head goes to the back.
    fwd_routes_fail (self->routes, call->hop_dc, call->server);
    char text[512];
    if (status == FWD_POOL_UNSENT) {
        s_call_forward (call);      //  nothing reached the server
        return;
    }
    if (status == FWD_POOL_LOST) {
        if (call->info.kind != FWD_KIND_WRITE && !call->retried) {
            call->retried = true;
            s_call_forward (call);
            return;
        }
        snprintf (text, sizeof text, "%sconnection to %s (%s) lost",
                  FWD_ERR_CALL_PREFIX, call->server, call->hop_dc);
    }
    else
        snprintf (text, sizeof text, "%stimeout after %" PRId64 "ms waiting for %s (%s)",
                  FWD_ERR_CALL_PREFIX,
                  fwd_hop_timeout (&call->info, self->cfg.server ? FWD_MARGIN_WAN
                                                                 : FWD_MARGIN_LAN),
                  call->server, call->hop_dc);
    log_warn ("forwarded request failed datacenter=%s server=%s command=%s error=\"%s\"",
              call->hop_dc, call->server, s_call_command (call), text);
    s_call_error (call, 500, text);
}

//  Makes the JSON text sent to servers, once per call.
static int
s_call_encode (call_t *call, int64_t timeout)
{
    if (call->body_json)
        return 0;
    forwarder_t *self = call->owner;
    cJSON *body = s_call_body (call);
    cJSON_DeleteItemFromObjectCaseSensitive (body, "ViaDatacenter");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Server");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "RequestTimeout");
    //  The next node bounds its own hops by what is left of ours.
    cJSON_AddNumberToObject (body, "RequestTimeout", (double) timeout);
    if (self->cfg.server && !call->info.server[0])
        cJSON_AddStringToObject (body, "ViaDatacenter", self->cfg.datacenter);
    call->body_json = cJSON_PrintUnformatted (body);
    return call->body_json ? 0 : -1;
}

//  Sends the call to the first usable server of its hop DC; a server whose
//  connection turns out down is rotated and the next one tried.
static void
s_call_forward (call_t *call)
{
    forwarder_t *self = call->owner;
    bool lan = !self->cfg.server;
    int64_t timeout = fwd_hop_timeout (&call->info, lan ? FWD_MARGIN_LAN : FWD_MARGIN_WAN);
    if (s_call_encode (call, timeout) != 0) {
        s_call_error (call, 500, "out of memory");
        return;
    }
    size_t tries = fwd_routes_server_count (self->routes, call->hop_dc) + 1;
    while (tries--) {
        char address[FWD_ADDRESS_MAX];
        fwd_route_status_t route = fwd_routes_pick (self->routes, call->hop_dc, NULL,
                                                    s_conn_usable, self,
                                                    address, sizeof address);
        if (route != FWD_ROUTE_OK)
            break;
        uint64_t id = fwd_pool_send (self->pool, call->hop_dc, address,
                                     s_call_command (call), call->body_json,
                                     timeout, s_on_server, call);
        if (id) {
            call->hop = HOP_SERVER;
            call->hop_id = id;
            snprintf (call->server, sizeof call->server, "%s", address);
            return;
        }
        fwd_routes_fail (self->routes, call->hop_dc, address);
    }
    char text[256];
    char address[FWD_ADDRESS_MAX];
    bool any_alive = fwd_routes_pick (self->routes, call->hop_dc, NULL, NULL, NULL,
                                      address, sizeof address) == FWD_ROUTE_OK;
    if (!lan)
        s_call_error (call, 500, FWD_ERR_NO_SERVER);
    else if (!any_alive)
        s_call_error (call, 500, FWD_ERR_NO_SERVERS);
    else {
        snprintf (text, sizeof text, "%sfailed to get conn: no server of %s is reachable",
                  FWD_ERR_CLIENT_PREFIX, call->hop_dc);
        s_call_error (call, 500, text);
    }
}

//  --------------------------------------------------------------------
//  Targeted hop: the server the request's Server field names (catalogd
//  forwarding to its raft leader, or asking a peer for its raft status)

static void
s_on_targeted (void *arg, int status, envelope_t *reply)
{
    call_t *call = (call_t *) arg;
    forwarder_t *self = call->owner;
    call->hop = HOP_NONE;
    char text[512];
    if (status == FWD_POOL_OK) {
        self->forwarded++;
        s_call_relay (call, reply, true);
        return;
    }
    //  Nothing reached the server (or a read that may be asked again was
    //  lost): the caller may try again, there or elsewhere.
    if (status == FWD_POOL_UNSENT
        || (status == FWD_POOL_LOST && call->info.kind != FWD_KIND_WRITE)) {
        snprintf (text, sizeof text, "server %s is not reachable", call->server);
        s_call_error (call, FWD_CODE_MISDIRECTED, text);
        return;
    }
    if (status == FWD_POOL_LOST)
        snprintf (text, sizeof text, "%sconnection to %s (%s) lost",
                  FWD_ERR_CALL_PREFIX, call->server, call->hop_dc);
    else
        snprintf (text, sizeof text, "%stimeout after %" PRId64 "ms waiting for %s (%s)",
                  FWD_ERR_CALL_PREFIX, fwd_hop_timeout (&call->info, FWD_MARGIN_WAN),
                  call->server, call->hop_dc);
    log_warn ("targeted request failed server=%s command=%s error=\"%s\"",
              call->server, s_call_command (call), text);
    s_call_error (call, 500, text);
}

static void
s_call_targeted (call_t *call)
{
    forwarder_t *self = call->owner;
    if (strcmp (call->info.datacenter, self->cfg.datacenter) != 0) {
        s_call_error (call, 400, "Server names a server of the local datacenter only");
        return;
    }
    snprintf (call->hop_dc, sizeof call->hop_dc, "%s", self->cfg.datacenter);
    snprintf (call->server, sizeof call->server, "%s", call->info.server);
    int64_t timeout = fwd_hop_timeout (&call->info, FWD_MARGIN_WAN);
    if (s_call_encode (call, timeout) != 0) {
        s_call_error (call, 500, "out of memory");
        return;
    }
    uint64_t id = fwd_pool_send (self->pool, call->hop_dc, call->server,
                                 s_call_command (call), call->body_json, timeout,
                                 s_on_targeted, call);
    if (!id) {
        char text[256];
        snprintf (text, sizeof text, "server %s is not reachable", call->server);
        s_call_error (call, FWD_CODE_MISDIRECTED, text);
        return;
    }
    call->hop = HOP_SERVER;
    call->hop_id = id;
}

//  --------------------------------------------------------------------
//  Dispatch

static cJSON *
s_stats (forwarder_t *self)
{
    cJSON *stats = cJSON_CreateObject ();
    cJSON_AddBoolToObject (stats, "Server", self->cfg.server);
    cJSON_AddStringToObject (stats, "Datacenter", self->cfg.datacenter);
    //  Requests in progress, this one excluded.
    cJSON_AddNumberToObject (stats, "Pending", (double) (zlistx_size (self->calls) - 1));
    cJSON_AddNumberToObject (stats, "Forwarded", (double) self->forwarded);
    cJSON_AddNumberToObject (stats, "Errors", (double) self->errors);
    cJSON_AddItemToObject (stats, "Connections", fwd_pool_dump (self->pool));
    cJSON_AddItemToObject (stats, "Routes", fwd_routes_dump (self->routes));
    return stats;
}

static void
s_call_start (call_t *call)
{
    forwarder_t *self = call->owner;
    char err[256];
    const char *command = s_call_command (call);
    if (fwd_request_parse (command, s_call_body (call), self->cfg.datacenter,
                           &call->info, err, sizeof err) != 0
        || (call->tcp && call->info.kind == FWD_KIND_STATS)) {
        if (call->tcp && call->info.kind == FWD_KIND_STATS)
            snprintf (err, sizeof err, "unknown command \"%s\"", command);
        s_call_error (call, 400, err);
        return;
    }
    if (call->info.kind == FWD_KIND_STATS) {
        cJSON *stats = s_stats (self);
        s_call_reply (call, &stats);
        return;
    }
    //  Only the node's own daemons choose the server; from the network
    //  the field is dropped and the request served here.
    if (call->ipc && call->info.server[0]) {
        s_call_targeted (call);
        return;
    }
    if (!self->cfg.server) {
        //  A client agent sends everything to a server of its DC.
        snprintf (call->hop_dc, sizeof call->hop_dc, "%s", self->cfg.datacenter);
        s_call_forward (call);
        return;
    }
    if (call->info.kind == FWD_KIND_DATACENTERS) {
        cJSON *body = cJSON_CreateObject ();
        cJSON_AddItemToObject (body, "Result", fwd_gossip_datacenters (self->gossipd));
        s_call_reply (call, &body);
        return;
    }
    if (strcmp (call->info.datacenter, self->cfg.datacenter) == 0) {
        if (call->info.daemon == FWD_DAEMON_GOSSIPD)
            s_call_gossip (call);
        else
            s_call_local (call);
        return;
    }
    if (call->info.via[0]) {
        snprintf (err, sizeof err,
                  "Forwarding loop: request for datacenter \"%s\" from \"%s\" arrived in \"%s\"",
                  call->info.datacenter, call->info.via, self->cfg.datacenter);
        log_warn ("refused forwarded request datacenter=%s via=%s method=%s",
                  call->info.datacenter, call->info.via, command);
        s_call_error (call, 500, err);
        return;
    }
    if (!call->info.datacenter_valid
        || !fwd_routes_known (self->routes, call->info.datacenter)) {
        //  The name came from outside: logged only when it is a DC name.
        log_warn ("RPC request for DC is currently failing as no path was found "
                  "datacenter=%s method=%s",
                  call->info.datacenter_valid ? call->info.datacenter : "(invalid)", command);
        s_call_error (call, 500, FWD_ERR_NO_PATH);
        return;
    }
    snprintf (call->hop_dc, sizeof call->hop_dc, "%s", call->info.datacenter);
    s_call_forward (call);
}

//  --------------------------------------------------------------------
//  Membership (fwd_gossip keeps the server lists) and catalogd events

static bool
s_keep_connection (void *arg, const char *dc, const char *address)
{
    forwarder_t *self = (forwarder_t *) arg;
    //  A server's connections to servers of its own DC serve targeted
    //  requests (raft leader forwarding): kept until idle.
    if (self->cfg.server && strcmp (dc, self->cfg.datacenter) == 0)
        return true;
    return fwd_routes_has (self->routes, dc, address);
}

//  The server lists changed: connections to servers that are gone are
//  closed at once.
static void
s_on_routes_changed (void *arg)
{
    forwarder_t *self = (forwarder_t *) arg;
    fwd_pool_prune (self->pool, INT64_MAX, s_keep_connection, self);
}

//  Reads a hello/heartbeat's boot id: true when it differs from a boot id
//  seen before (the daemon restarted; the first one seen is no restart).
static bool
s_boot_changed (envelope_t *event, char *boot, size_t size)
{
    if (strcmp (event->command, "hello") != 0 && strcmp (event->command, "heartbeat") != 0)
        return false;
    const char *seen = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (event->body, "Boot"));
    if (!seen || strcmp (seen, boot) == 0)
        return false;
    bool changed = boot[0] != 0;
    snprintf (boot, size, "%s", seen);
    return changed;
}

static void
s_read_events (forwarder_t *self)
{
    if (!self->catalogd_sub)
        return;
    envelope_t *event;
    while ((event = rpc_sub_recv (self->catalogd_sub))) {
        self->ops++;
        if (s_boot_changed (event, self->catalogd_boot, sizeof self->catalogd_boot)
            && rpc_client_pending (self->catalogd)) {
            //  Requests sent since the new instance started reached it.
            log_info ("catalogd restarted: failing the requests sent before pending=%zu",
                      rpc_client_pending (self->catalogd));
            self->catalogd_restarted = true;
            rpc_client_fail_sent_before (self->catalogd,
                                         rpc_sub_started_ms (self->catalogd_sub),
                                         RPC_UNAVAILABLE);
            self->catalogd_restarted = false;
        }
        envelope_destroy (&event);
    }
}

//  --------------------------------------------------------------------
//  Construction

forwarder_t *
forwarder_new (const config_t *cfg)
{
    forwarder_t *self = (forwarder_t *) calloc (1, sizeof (forwarder_t));
    if (!self)
        return NULL;
    self->cfg = *cfg;
    char err[CONFIG_ERROR_MAX];
    if (fwd_keys_derive (&self->keys, cfg->encrypt, err, sizeof err) != 0) {
        log_error ("%s", err);
        goto failed;
    }
    self->calls = zlistx_new ();
    self->waiting = zlistx_new ();
    self->pool = fwd_pool_new (&self->keys);
    if (self->pool)
        fwd_pool_set_raw_replies (self->pool, true);
    self->routes = fwd_routes_new (cfg->datacenter, !cfg->server, 0);
    if (self->routes)
        self->gossipd = fwd_gossip_new (cfg, self->routes, s_on_routes_changed, self);
    if (!self->calls || !self->waiting || !self->pool || !self->routes || !self->gossipd)
        goto failed;
    if (cfg->server) {
        self->catalogd = rpc_client_new (cfg->data_dir, "catalogd");
        if (self->catalogd)
            rpc_client_set_raw_replies (self->catalogd, true);
        self->catalogd_sub = rpc_sub_new (cfg->data_dir, "catalogd");
        if (!self->catalogd || !self->catalogd_sub)
            goto failed;
        char endpoint[CONFIG_ADDR_MAX + 32];
        if (strchr (cfg->bind_addr, ':'))
            snprintf (endpoint, sizeof endpoint, "tcp://[%s]:%d", cfg->bind_addr, cfg->ports.server);
        else
            snprintf (endpoint, sizeof endpoint, "tcp://%s:%d", cfg->bind_addr, cfg->ports.server);
        self->tcp = fwd_endpoint_new (endpoint, &self->keys);
        if (!self->tcp)
            goto failed;
    }
    self->ipc = rpc_server_new (cfg->data_dir, "forwarderd");
    if (!self->ipc)
        goto failed;
    int64_t now = time_mono_ms ();
    self->prune_at = now + PRUNE_MS;
    self->rebalance_at = now + REBALANCE_MIN_MS + (int64_t) (random () % REBALANCE_JITTER_MS);
    log_info ("forwarderd ready datacenter=%s server=%s curve=%s",
              cfg->datacenter, cfg->server ? "true" : "false",
              self->keys.enabled ? "on" : "off");
    return self;
failed:
    forwarder_destroy (&self);
    return NULL;
}

void
forwarder_destroy (forwarder_t **self_p)
{
    assert (self_p);
    forwarder_t *self = *self_p;
    if (!self)
        return;
    //  Callers get an answer rather than a timeout.
    call_t *call = self->calls ? (call_t *) zlistx_first (self->calls) : NULL;
    while (call) {
        if (call->hop == HOP_CATALOGD)
            rpc_client_cancel (self->catalogd, call->hop_id);
        else if (call->hop == HOP_GOSSIPD)
            fwd_gossip_cancel (self->gossipd, call->hop_id);
        else if (call->hop == HOP_SERVER)
            fwd_pool_cancel (self->pool, call->hop_id);
        call->hop = HOP_NONE;
        if (self->ipc || call->tcp)
            s_call_error (call, 503, "forwarderd is shutting down");
        else
            s_call_destroy (&call);
        call = (call_t *) zlistx_first (self->calls);
    }
    zlistx_destroy (&self->calls);
    zlistx_destroy (&self->waiting);
    rpc_server_destroy (&self->ipc);
    fwd_endpoint_destroy (&self->tcp);
    rpc_client_destroy (&self->catalogd);
    rpc_sub_destroy (&self->catalogd_sub);
    fwd_gossip_destroy (&self->gossipd);
    fwd_pool_destroy (&self->pool);
    fwd_routes_destroy (&self->routes);
    memset (&self->keys, 0, sizeof self->keys);
    free (self->items);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Loop

//  One pass over every socket; repeated until a pass does nothing, since
//  a send on a ZMQ_FD-polled socket may swallow its readable edge.
static void
s_drain (forwarder_t *self)
{
    uint64_t before;
    do {
        before = self->ops;
        if (self->tcp) {
            fwd_endpoint_process_zap (self->tcp);
            fwd_inbound_t *inbound;
            while ((inbound = fwd_endpoint_recv (self->tcp))) {
                self->ops++;
                call_t *call = s_call_new (self, NULL, inbound);
                if (call)
                    s_call_start (call);
                else
                    fwd_inbound_destroy (&inbound);
            }
        }
        rpc_request_t *request;
        while ((request = rpc_server_recv (self->ipc))) {
            self->ops++;
            call_t *call = s_call_new (self, request, NULL);
            if (call)
                s_call_start (call);
            else
                rpc_request_destroy (&request);
        }
        if (self->catalogd)
            rpc_client_process (self->catalogd);
        self->ops += fwd_gossip_process (self->gossipd);
        s_read_events (self);
        fwd_pool_process (self->pool);
    } while (self->ops != before);
}

static void
s_timers (forwarder_t *self)
{
    int64_t now = time_mono_ms ();
    if (self->catalogd) {
        rpc_client_expire (self->catalogd);
        if (rpc_client_pending (self->catalogd) && self->catalogd_boot[0]
            && rpc_sub_silence_ms (self->catalogd_sub) > CATALOGD_SILENCE_MS) {
            log_warn ("catalogd silent: failing its pending requests pending=%zu",
                      rpc_client_pending (self->catalogd));
            rpc_client_fail_all (self->catalogd, RPC_UNAVAILABLE);
        }
    }
    if (zlistx_size (self->waiting))
        s_retry_waiting (self);
    fwd_gossip_expire (self->gossipd);
    fwd_pool_expire (self->pool);
    if (now >= self->prune_at) {
        fwd_pool_prune (self->pool, IDLE_CONN_MS, s_keep_connection, self);
        self->prune_at = now + PRUNE_MS;
    }
    if (now >= self->rebalance_at) {
        fwd_routes_rebalance (self->routes);
        self->rebalance_at = now + REBALANCE_MIN_MS + (int64_t) (random () % REBALANCE_JITTER_MS);
    }
}

static int64_t
s_min_timeout (int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static int64_t
s_next_timeout (forwarder_t *self)
{
    int64_t now = time_mono_ms ();
    int64_t timeout = rpc_server_tick (self->ipc);
    timeout = s_min_timeout (timeout, self->prune_at > now ? self->prune_at - now : 0);
    timeout = s_min_timeout (timeout, self->rebalance_at > now ? self->rebalance_at - now : 0);
    timeout = s_min_timeout (timeout, fwd_pool_next_timeout (self->pool));
    timeout = s_min_timeout (timeout, fwd_gossip_next_timeout (self->gossipd));
    if (self->catalogd) {
        timeout = s_min_timeout (timeout, rpc_client_next_timeout (self->catalogd));
        if (rpc_client_pending (self->catalogd))
            timeout = s_min_timeout (timeout, 1000);    //  silence check
        if (zlistx_size (self->waiting))
            timeout = s_min_timeout (timeout, CATALOGD_RETRY_MS);
    }
    return timeout;
}

static size_t
s_pollitems (forwarder_t *self)
{
    size_t need = FIXED_ITEMS + fwd_pool_pollitems (self->pool, NULL, 0);
    if (need > self->items_capacity) {
        size_t capacity = need * 2;
        zmq_pollitem_t *items = (zmq_pollitem_t *) realloc (self->items, capacity * sizeof (zmq_pollitem_t));
        if (!items)
            return 0;
        self->items = items;
        self->items_capacity = capacity;
    }
    zmq_pollitem_t *items = self->items;
    size_t n = 0;
    items[n++] = (zmq_pollitem_t) { NULL, signals_fd (), ZMQ_POLLIN, 0 };
    items[n++] = (zmq_pollitem_t) { NULL, rpc_server_fd (self->ipc), ZMQ_POLLIN, 0 };
    n += fwd_gossip_pollitems (self->gossipd, items + n);
    if (self->catalogd) {
        items[n++] = (zmq_pollitem_t) { NULL, rpc_client_fd (self->catalogd), ZMQ_POLLIN, 0 };
        items[n++] = (zmq_pollitem_t) { NULL, rpc_sub_fd (self->catalogd_sub), ZMQ_POLLIN, 0 };
    }
    if (self->tcp)
        n += fwd_endpoint_pollitems (self->tcp, items + n);
    n += fwd_pool_pollitems (self->pool, items + n, self->items_capacity - n);
    if (signals_fd () < 0)      //  signals not installed (tests): skip it
        items[0].events = 0;
    return n;
}

int
forwarder_poll_once (forwarder_t *self, int64_t max_wait_ms)
{
    if (signals_terminate_requested ())
        return -1;
    int64_t timeout = s_min_timeout (s_next_timeout (self), max_wait_ms);
    size_t count = s_pollitems (self);
    if (count && zmq_poll (self->items, (int) count, (long) timeout) < 0
        && zmq_errno () != EINTR) {
        log_error ("poll failed error=\"%s\"", zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (signals_fd () >= 0)
        signals_drain ();
    if (signals_terminate_requested ())
        return -1;
    if (signals_reload_take ())
        log_info ("SIGHUP: nothing to reload");
    s_drain (self);
    s_timers (self);
    s_drain (self);
    return 0;
}

int
forwarder_run (forwarder_t *self)
{
    while (forwarder_poll_once (self, -1) == 0)
        ;
    log_info ("forwarderd stopping pending=%zu", zlistx_size (self->calls));
    return 0;
}
