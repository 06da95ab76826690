/*  serve: how catalogd serves its requests (see serve.h), the commands of
    docs/protocol/catalog-rpc.md.

    A request becomes a pending item that lives until it is answered. It
    is served here when this server leads (reads: once its leadership
    barrier is applied), forwarded to the leader through the local
    forwarderd when another server leads (docs/catalogd.md, "Forwarding to
    the leader"), or held while no leader is known, until one is or the
    hold ends ("No cluster leader"). Stale reads are served by any server.
    - a write is validated, encoded as an FSM command and proposed to raft;
      it is answered from the apply callback with the entry's raft index;
    - a read runs at once, or is parked in the watch set until a table it
      reads changes or its deadline passes;
    - status, raft.status and the operator commands answer from raft. */
#include "serve.h"
#include "fsm.h"
#include "operator.h"
#include "query.h"
#include "watch.h"

#include "log.h"
#include "rpc_client.h"

#include <czmq.h>
#include <math.h>

//  How long a request waits for a leader before "No cluster leader"; the
//  caller's deadline (RequestTimeout) may shorten it.
#define LEADER_HOLD_MS      4000
//  How long a request forwarded to this leader waits for its leadership
//  barrier before the forwarding server is told to try again.
#define FORWARDED_HOLD_MS   2000
//  A request is answered this long before its caller's deadline.
#define REPLY_MARGIN_MS     200
//  Less time than this left: not worth forwarding.
#define FORWARD_MIN_MS      300
//  Each hop gives the next one this much less time.
#define HOP_MARGIN_MS       100
//  Next try after the leader refused (not the leader after all, or not
//  reachable) or forwarderd was not running.
#define RETRY_MS            100
//  Callers' default deadline (docs/protocol/local-rpc.md).
#define CALLER_TIMEOUT_MS   5000
//  "Try another server or later": never reaches an HTTP client.
#define CODE_MISDIRECTED    421
#define CACHE_ENTRIES       4096
#define CACHE_BYTES         (64 * 1024 * 1024)

typedef enum {
    OP_READ,                //  catalog.*, health.* reads
    OP_WRITE,               //  catalog.register, catalog.deregister
    OP_CONFIG,              //  operator.raft.configuration
    OP_REMOVE_PEER          //  operator.raft.remove_peer
} op_t;

struct _catalog_serve_t {
    const config_t *cfg;
    uv_loop_t *loop;
    rpc_server_t *rpc;
    catalog_store_t *store;
    catalog_raft_t *raft;
    catalog_cluster_t *cluster;
    catalog_cache_t *cache;
    catalog_watch_t *watch;
    zlistx_t *held;             //  pending items waiting for a leader
    zlistx_t *forwarding;       //  pending items forwarded to the leader
    zlistx_t *consistent_now;   //  consistent reads: the barrier in flight
    zlistx_t *consistent_next;  //  ... those that arrived after it started
    bool consistent_barrier;
    unsigned changed;           //  tables changed since watchers last woke
    uint64_t ready_term;        //  term whose leadership barrier completed
    uint64_t barrier_term;
    bool barrier_pending;
    bool was_leader;
    bool was_started;
    char leader_seen[CATALOG_RAFT_ADDRESS_MAX + 16];   //  last leader.changed
    uint64_t start_ms;
    bool stopping;
    uint64_t random;
    char server_address[CATALOG_RAFT_ADDRESS_MAX + 16];
    uint64_t forwarded;
};

typedef struct {
    catalog_serve_t *owner;
    rpc_request_t *request;
    op_t op;
    catalog_query_t *query;     //  OP_READ
    catalog_reg_t *reg;         //  OP_WRITE: a register ...
    catalog_dereg_t *dereg;     //  ... or a deregister
    bool allow_stale;
    bool via_server;            //  forwarded here by another server
    int64_t arrival;
    int64_t budget;             //  blocking time of a blocking read
    int64_t answer_by;          //  caller's deadline minus a margin
    int64_t deadline;           //  blocking read deadline, 0 until parked
    int64_t hold_until;         //  end of the wait for a leader, 0 unset
    int64_t retry_at;           //  not forwarded (or retried) before this
    void *held_handle;
    void *forward_handle;
    uint64_t forward_id;
    int hold_code;              //  the error when the hold ends (0: none
    const char *hold_error;     //  set: 500 No cluster leader)
    bool expired;
} s_pending_t;

static void s_read_run (s_pending_t *pending);
static void s_route (s_pending_t *pending);

//  ---------------------------------------------------------------------
//  Pending items and replies

static int64_t
s_now (catalog_serve_t *self)
{
    return (int64_t) uv_now (self->loop);
}

static void
s_pending_free (s_pending_t **pending_p)
{
    s_pending_t *pending = *pending_p;
    if (pending) {
        catalog_query_destroy (&pending->query);
        catalog_reg_destroy (&pending->reg);
        catalog_dereg_destroy (&pending->dereg);
        rpc_request_destroy (&pending->request);
        free (pending);
        *pending_p = NULL;
    }
}

static void
s_fail (s_pending_t *pending, int code, const char *text)
{
    rpc_server_error (pending->owner->rpc, &pending->request, code, "%s", text);
    s_pending_free (&pending);
}

//  The reply of every read: {"Index","KnownLeader","LastContact","Result"}
//  with the already rendered Result.
static void
s_reply_read (catalog_serve_t *self, rpc_request_t **request_p, uint64_t index,
              cJSON *result)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", (double) index);
    cJSON_AddBoolToObject (body, "KnownLeader",
                           catalog_raft_leader_known (self->raft));
    cJSON_AddNumberToObject (body, "LastContact",
                             (double) catalog_raft_last_contact_ms (self->raft));
    cJSON_AddItemToObject (body, "Result", result);
    rpc_server_reply (self->rpc, request_p, &body);
}

static uint64_t
s_random (catalog_serve_t *self)
{
    //  xorshift64*: jitter needs spread, not secrecy.
    self->random ^= self->random >> 12;
    self->random ^= self->random << 25;
    self->random ^= self->random >> 27;
    return self->random * 2685821657736338717ULL;
}

//  Reads the request's routing fields: RequestTimeout (the caller's
//  deadline, ms) and ViaServer (set when another server forwarded it).
//  Returns the pending item, or NULL after answering ERR 400.
static s_pending_t *
s_pending_new (catalog_serve_t *self, rpc_request_t **request_p, op_t op,
               int64_t budget)
{
    const cJSON *body = rpc_request_body (*request_p);
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive (body, "RequestTimeout");
    const cJSON *via = cJSON_GetObjectItemCaseSensitive (body, "ViaServer");
    double timeout_ms = 0;
    if (timeout && !cJSON_IsNull (timeout)) {
        timeout_ms = cJSON_IsNumber (timeout) ? timeout->valuedouble : -1;
        if (!(timeout_ms >= 0 && timeout_ms <= 4e9) || floor (timeout_ms) != timeout_ms) {
            rpc_server_error (self->rpc, request_p, 400,
                              "RequestTimeout must be a non-negative integer (ms)");
            return NULL;
        }
    }
    if (via && !cJSON_IsNull (via) && !cJSON_IsString (via)) {
        rpc_server_error (self->rpc, request_p, 400, "ViaServer must be a string");
        return NULL;
    }
    s_pending_t *pending = (s_pending_t *) calloc (1, sizeof *pending);
    assert (pending);
    pending->owner = self;
    pending->request = *request_p;
    *request_p = NULL;
    pending->op = op;
    pending->via_server = cJSON_IsString (via);
    pending->arrival = s_now (self);
    pending->budget = budget;
    int64_t caller = timeout_ms > 0 ? (int64_t) timeout_ms : budget + CALLER_TIMEOUT_MS;
    pending->answer_by = pending->arrival + caller - REPLY_MARGIN_MS;
    return pending;
}

//  ---------------------------------------------------------------------
//  Holding: waiting for a leader (or for this leader to be ready)

static void
s_hold (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    if (pending->hold_until == 0) {
        int64_t limit = pending->arrival
                      + (pending->via_server ? FORWARDED_HOLD_MS : LEADER_HOLD_MS);
        int64_t room = pending->answer_by - pending->budget - FORWARD_MIN_MS;
        pending->hold_until = limit < room ? limit : room;
    }
    assert (!pending->held_handle);
    pending->held_handle = zlistx_add_end (self->held, pending);
}

static void
s_unhold (s_pending_t *pending)
{
    zlistx_delete (pending->owner->held, pending->held_handle);
    pending->held_handle = NULL;
}

//  The hold ended without a way forward.
static void
s_hold_expired (s_pending_t *pending)
{
    if (pending->via_server)
        s_fail (pending, CODE_MISDIRECTED, "this server cannot serve the request "
                "yet: its leadership is not ready");
    else
    if (pending->hold_code)
        s_fail (pending, pending->hold_code, pending->hold_error);
    else
        s_fail (pending, 500, "No cluster leader");
}

static bool
s_leader_ready (catalog_serve_t *self)
{
    return catalog_raft_is_leader (self->raft)
           && self->ready_term == catalog_raft_term (self->raft);
}

//  Can the request be served here now? Writes once this server leads,
//  reads once its leadership barrier is applied.
static bool
s_local_ok (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    if (pending->op == OP_WRITE || pending->op == OP_REMOVE_PEER)
        return catalog_raft_is_leader (self->raft)
               && s_now (self) >= pending->retry_at;
    return s_leader_ready (self);
}

//  Another server leads and may be asked now.
static bool
s_forward_ok (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    uint64_t leader = catalog_raft_leader_id (self->raft);
    return !pending->via_server && leader != 0 && leader != catalog_raft_id (self->raft)
           && s_now (self) >= pending->retry_at;
}

static bool
s_can_progress (s_pending_t *pending)
{
    return s_local_ok (pending) || s_forward_ok (pending)
           || (pending->via_server && !catalog_raft_is_leader (pending->owner->raft));
}

//  ---------------------------------------------------------------------
//  Forwarding to the leader

static void
s_on_forwarded (void *arg, int status, envelope_t *reply)
{
    s_pending_t *pending = (s_pending_t *) arg;
    catalog_serve_t *self = pending->owner;
    zlistx_delete (self->forwarding, pending->forward_handle);
    pending->forward_handle = NULL;
    pending->forward_id = 0;
    bool read = pending->op == OP_READ || pending->op == OP_CONFIG;
    if (status == RPC_OK && reply->type == ENVELOPE_REP) {
        cJSON *body = reply->body;
        reply->body = NULL;
        if (read && cJSON_IsObject (body)) {
            //  Served by the leader: httpd must not cache it against this
            //  server's (lagging) state.changed events.
            cJSON_DeleteItemFromObjectCaseSensitive (body, "Forwarded");
            cJSON_AddBoolToObject (body, "Forwarded", true);
        }
        rpc_server_reply (self->rpc, &pending->request, &body);
        s_pending_free (&pending);
        return;
    }
    if (self->stopping) {
        s_fail (pending, 503, "catalogd is shutting down");
        return;
    }
    if (status == RPC_OK) {
        const cJSON *code_item = cJSON_GetObjectItemCaseSensitive (reply->body, "Code");
        const cJSON *text_item = cJSON_GetObjectItemCaseSensitive (reply->body, "Error");
        int code = cJSON_IsNumber (code_item) && code_item->valuedouble >= 400
                   && code_item->valuedouble < 600 ? (int) code_item->valuedouble : 500;
        const char *text = cJSON_GetStringValue (text_item);
        if (code == CODE_MISDIRECTED) {
            //  Nothing was applied: not the leader after all, or not
            //  reachable. Ask again once raft knows better.
            log_debug ("forward refused: retrying reason=\"%s\"", text ? text : "?");
            pending->retry_at = s_now (self) + RETRY_MS;
            s_hold (pending);
            return;
        }
        s_fail (pending, code, text ? text : "unknown error");
        return;
    }
    if (status == RPC_TIMEOUT) {
        s_fail (pending, 500, "timeout waiting for the leader's answer");
        return;
    }
    //  forwarderd restarted after taking the request: a read may be asked
    //  again, a write may have been applied.
    if (read) {
        pending->retry_at = s_now (self);
        s_hold (pending);
    }
    else
        s_fail (pending, 503, "forwarderd restarted while the request was "
                "forwarded to the leader");
}

static void
s_forward (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    int64_t now = s_now (self);
    int64_t timeout = pending->answer_by - now;
    char leader[CATALOG_RAFT_ADDRESS_MAX + 16];
    catalog_raft_leader (self->raft, leader, sizeof leader);
    if (timeout < FORWARD_MIN_MS + pending->budget || !*leader) {
        if (timeout < FORWARD_MIN_MS + pending->budget)
            s_hold_expired (pending);
        else
            s_hold (pending);
        return;
    }
    cJSON *body = cJSON_Duplicate (rpc_request_body (pending->request), true);
    if (!cJSON_IsObject (body)) {
        cJSON_Delete (body);
        s_fail (pending, 500, "out of memory");
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive (body, "ViaServer");
    cJSON_DeleteItemFromObjectCaseSensitive (body, "RequestTimeout");
    cJSON_AddStringToObject (body, "ViaServer", self->server_address);
    cJSON_AddNumberToObject (body, "RequestTimeout", (double) (timeout - HOP_MARGIN_MS));
    uint64_t id = catalog_cluster_forward (self->cluster,
                                           rpc_request_command (pending->request),
                                           &body, leader, timeout, s_on_forwarded,
                                           pending);
    if (!id) {
        //  Nothing sent: forwarderd is not running (yet).
        pending->retry_at = now + RETRY_MS;
        pending->hold_code = 503;
        pending->hold_error = "forwarderd is not available: cannot reach the leader";
        s_hold (pending);
        return;
    }
    self->forwarded++;
    pending->forward_id = id;
    pending->forward_handle = zlistx_add_end (self->forwarding, pending);
}

//  ---------------------------------------------------------------------
//  Writes

static void
s_write_done (void *arg, int status, uint64_t index, const char *error)
{
    s_pending_t *pending = (s_pending_t *) arg;
    if (status) {
        s_fail (pending, catalog_raft_error_code (status),
                catalog_raft_error_text (status));
        return;
    }
    if (error) {
        s_fail (pending, 400, error);
        return;
    }
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", (double) index);
    cJSON_AddBoolToObject (body, "Result", true);
    rpc_server_reply (pending->owner->rpc, &pending->request, &body);
    s_pending_free (&pending);
}

//  On the leader: checks the write against the current state, encodes it
//  and proposes it.
static void
s_write_local (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    const char *reason = NULL;
    cJSON *normal;
    catalog_op_t op;
    if (pending->reg) {
        if (catalog_store_register_validate (self->store, pending->reg, &reason)) {
            s_fail (pending, 400, reason);
            return;
        }
        normal = catalog_reg_to_json (pending->reg);
        op = CATALOG_OP_REGISTER;
    }
    else {
        normal = catalog_dereg_to_json (pending->dereg);
        op = CATALOG_OP_DEREGISTER;
    }
    size_t size = 0;
    char *entry = catalog_fsm_encode (op, normal, &size);
    cJSON_Delete (normal);
    int rc = catalog_raft_apply (self->raft, entry, size, s_write_done, pending);
    free (entry);
    if (rc == 0)
        return;
    if (catalog_raft_error_not_leader (rc) && !catalog_raft_is_leader (self->raft))
        s_route (pending);          //  leadership just went elsewhere
    else
        s_fail (pending, catalog_raft_error_code (rc), catalog_raft_error_text (rc));
}

static void
s_write_start (catalog_serve_t *self, rpc_request_t **request_p, bool is_register)
{
    //  Malformed bodies are refused here; rules that depend on the state
    //  are checked by the leader when it proposes.
    char err[512] = "";
    const cJSON *body = rpc_request_body (*request_p);
    catalog_reg_t *reg = NULL;
    catalog_dereg_t *dereg = NULL;
    if (is_register)
        reg = catalog_reg_from_json (body, err, sizeof err);
    else
        dereg = catalog_dereg_from_json (body, err, sizeof err);
    if (!reg && !dereg) {
        rpc_server_error (self->rpc, request_p, 400, "%s", err);
        return;
    }
    s_pending_t *pending = s_pending_new (self, request_p, OP_WRITE, 0);
    if (!pending) {
        catalog_reg_destroy (&reg);
        catalog_dereg_destroy (&dereg);
        return;
    }
    pending->reg = reg;
    pending->dereg = dereg;
    s_route (pending);
}

//  ---------------------------------------------------------------------
//  Reads

static void
s_read_run (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    uint64_t index = 0;
    const char *text = catalog_query_run (pending->query, self->store,
                                          self->cache, self->cfg->datacenter,
                                          &index);
    uint64_t min_index = catalog_query_min_index (pending->query);
    if (min_index > 0 && index <= min_index && !pending->expired
        && !self->stopping) {
        int64_t now = s_now (self);
        if (pending->deadline == 0) {
            int64_t wait = catalog_query_wait_ms (pending->query);
            int64_t jitter = (int64_t) (s_random (self) % (uint64_t) (wait / 16 + 1));
            pending->deadline = now + wait + jitter;
        }
        if (now < pending->deadline) {
            catalog_watch_park (self->watch, pending,
                                catalog_query_tables (pending->query),
                                pending->deadline);
            return;
        }
    }
    cJSON *result = cJSON_CreateRaw (text);
    assert (result);
    s_reply_read (self, &pending->request, index, result);
    s_pending_free (&pending);
}

//  Consistent reads share barriers: a read waits for a barrier started
//  after it arrived (so leadership was verified after the read began);
//  those arriving while one is in flight take the next one. At most one
//  barrier of theirs is in flight, whatever the load.
static void s_consistent_start (catalog_serve_t *self);

static void
s_consistent_done (void *arg, int status)
{
    catalog_serve_t *self = (catalog_serve_t *) arg;
    self->consistent_barrier = false;
    s_pending_t *pending;
    while ((pending = (s_pending_t *) zlistx_detach (self->consistent_now, NULL))) {
        if (status)
            s_fail (pending, catalog_raft_error_code (status),
                    catalog_raft_error_text (status));
        else
            s_read_run (pending);
    }
    if (zlistx_size (self->consistent_next) && !self->stopping)
        s_consistent_start (self);
}

static void
s_consistent_start (catalog_serve_t *self)
{
    zlistx_t *swap = self->consistent_now;
    self->consistent_now = self->consistent_next;
    self->consistent_next = swap;
    int rc = catalog_raft_barrier (self->raft, s_consistent_done, self);
    if (rc == 0) {
        self->consistent_barrier = true;
        return;
    }
    s_pending_t *pending;
    while ((pending = (s_pending_t *) zlistx_detach (self->consistent_now, NULL)))
        s_fail (pending, catalog_raft_error_code (rc), catalog_raft_error_text (rc));
}

static void
s_config_reply (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    uint64_t index = 0;
    cJSON *result = catalog_operator_configuration (
        self->raft, catalog_cluster_servers (self->cluster), &index);
    if (!result) {
        s_fail (pending, 500, "out of memory");
        return;
    }
    s_reply_read (self, &pending->request, index ? index : 1, result);
    s_pending_free (&pending);
}

static void
s_read_go (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    if (pending->op == OP_CONFIG) {
        s_config_reply (pending);
        return;
    }
    if (catalog_query_require_consistent (pending->query)) {
        //  A barrier commits only with a quorum: leadership is verified
        //  and everything before it is applied.
        zlistx_add_end (self->consistent_next, pending);
        if (!self->consistent_barrier)
            s_consistent_start (self);
        return;
    }
    s_read_run (pending);
}

static void
s_read_start (catalog_serve_t *self, rpc_request_t **request_p)
{
    char err[512];
    catalog_query_t *query = catalog_query_new (
        rpc_request_command (*request_p), rpc_request_body (*request_p), err,
        sizeof err);
    if (!query) {
        rpc_server_error (self->rpc, request_p, 400, "%s", err);
        return;
    }
    int64_t budget = 0;
    if (catalog_query_min_index (query) > 0) {
        int64_t wait = catalog_query_wait_ms (query);
        budget = wait + wait / 16;
    }
    s_pending_t *pending = s_pending_new (self, request_p, OP_READ, budget);
    if (!pending) {
        catalog_query_destroy (&query);
        return;
    }
    pending->query = query;
    //  Both flags (httpd refuses that combination): the safer one wins.
    pending->allow_stale = catalog_query_allow_stale (query)
                           && !catalog_query_require_consistent (query);
    //  ?stale: any server answers from its own replica.
    if (pending->allow_stale)
        s_read_go (pending);
    else
        s_route (pending);
}

static void
s_on_wake (void *arg, void *item)
{
    s_read_run ((s_pending_t *) item);
}

static void
s_on_expire (void *arg, void *item)
{
    s_pending_t *pending = (s_pending_t *) item;
    pending->expired = true;
    s_read_run (pending);
}

//  ---------------------------------------------------------------------
//  Status and operator commands

static void
s_status (catalog_serve_t *self, rpc_request_t **request_p, const char *command)
{
    cJSON *result;
    if (strcmp (command, "status.leader") == 0) {
        char address[CATALOG_RAFT_ADDRESS_MAX + 16];
        catalog_raft_leader (self->raft, address, sizeof address);
        result = cJSON_CreateString (address);
    }
    else
    if (strcmp (command, "status.peers") == 0)
        result = catalog_raft_peers (self->raft);
    else
        result = catalog_operator_status (self->raft,
                                          catalog_cluster_proposal (self->cluster));
    uint64_t index = catalog_store_index (self->store, CATALOG_TABLES_ALL);
    s_reply_read (self, request_p, index < 1 ? 1 : index, result);
}

static void
s_config_start (catalog_serve_t *self, rpc_request_t **request_p)
{
    const cJSON *body = rpc_request_body (*request_p);
    const cJSON *stale = cJSON_GetObjectItemCaseSensitive (body, "AllowStale");
    if (!cJSON_IsObject (body) || (stale && !cJSON_IsNull (stale) && !cJSON_IsBool (stale))) {
        rpc_server_error (self->rpc, request_p, 400, cJSON_IsObject (body)
                          ? "AllowStale must be a boolean"
                          : "request body must be a JSON object");
        return;
    }
    s_pending_t *pending = s_pending_new (self, request_p, OP_CONFIG, 0);
    if (!pending)
        return;
    pending->allow_stale = cJSON_IsTrue (stale);
    if (pending->allow_stale)
        s_config_reply (pending);
    else
        s_route (pending);
}

static void
s_remove_done (void *arg, int status)
{
    s_pending_t *pending = (s_pending_t *) arg;
    if (status) {
        s_fail (pending, catalog_raft_error_code (status),
                catalog_raft_error_text (status));
        return;
    }
    log_warn ("removed raft peer by operator request");
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddBoolToObject (body, "Result", true);
    rpc_server_reply (pending->owner->rpc, &pending->request, &body);
    s_pending_free (&pending);
}

//  On the leader: removes the peer the request names.
static void
s_remove_local (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    char err[512];
    uint64_t id = 0;
    int code = catalog_operator_peer (self->raft, rpc_request_body (pending->request),
                                      &id, err, sizeof err);
    if (code) {
        s_fail (pending, code, err);
        return;
    }
    catalog_raft_server_t *config = NULL;
    int n = catalog_raft_configuration (self->raft, &config, NULL);
    int voters = 0;
    bool voter = false;
    for (int i = 0; i < n; i++)
        if (config[i].role == CATALOG_RAFT_VOTER) {
            voters++;
            voter |= config[i].id == id;
        }
    free (config);
    if (voter && voters == 1) {
        s_fail (pending, 500, "cannot remove the last voter of the Raft configuration");
        return;
    }
    int rc = catalog_raft_change (self->raft, CATALOG_RAFT_REMOVE, id, NULL,
                                  s_remove_done, pending);
    if (catalog_raft_error_busy (rc)) {
        //  Another change (autopilot's) is being committed: wait for it.
        pending->retry_at = s_now (self) + RETRY_MS;
        pending->hold_code = 500;
        pending->hold_error = "a raft configuration change is in progress; try again";
        s_hold (pending);
    }
    else
    if (catalog_raft_error_not_leader (rc) && !catalog_raft_is_leader (self->raft))
        s_route (pending);
    else
    if (rc)
        s_fail (pending, catalog_raft_error_code (rc), catalog_raft_error_text (rc));
}

static void
s_remove_start (catalog_serve_t *self, rpc_request_t **request_p)
{
    if (!cJSON_IsObject (rpc_request_body (*request_p))) {
        rpc_server_error (self->rpc, request_p, 400, "request body must be a JSON object");
        return;
    }
    s_pending_t *pending = s_pending_new (self, request_p, OP_REMOVE_PEER, 0);
    if (pending)
        s_route (pending);
}

//  ---------------------------------------------------------------------
//  Routing

//  Serves here, forwards to the leader, or holds until one of them can be
//  done.
static void
s_route (s_pending_t *pending)
{
    catalog_serve_t *self = pending->owner;
    if (s_local_ok (pending)) {
        if (pending->op == OP_WRITE)
            s_write_local (pending);
        else
        if (pending->op == OP_REMOVE_PEER)
            s_remove_local (pending);
        else
            s_read_go (pending);
        return;
    }
    if (pending->via_server) {
        //  Forwarded here because this server was the leader: a leader not
        //  ready yet holds it; otherwise the sender asks again.
        if (catalog_raft_is_leader (self->raft))
            s_hold (pending);
        else
            s_fail (pending, CODE_MISDIRECTED, "not the raft leader");
        return;
    }
    if (s_forward_ok (pending))
        s_forward (pending);
    else
        s_hold (pending);
}

//  ---------------------------------------------------------------------
//  Dispatch

void
catalog_serve_dispatch (catalog_serve_t *self, rpc_request_t *request)
{
    const char *command = rpc_request_command (request);
    log_trace ("request command=%s id=%llu", command,
               (unsigned long long) rpc_request_id (request));
    if (self->stopping)
        rpc_server_error (self->rpc, &request, 503, "catalogd is shutting down");
    else
    if (strcmp (command, "catalog.register") == 0)
        s_write_start (self, &request, true);
    else
    if (strcmp (command, "catalog.deregister") == 0)
        s_write_start (self, &request, false);
    else
    if (strcmp (command, "status.leader") == 0 || strcmp (command, "status.peers") == 0
        || strcmp (command, "raft.status") == 0)
        s_status (self, &request, command);
    else
    if (strcmp (command, "operator.raft.configuration") == 0)
        s_config_start (self, &request);
    else
    if (strcmp (command, "operator.raft.remove_peer") == 0)
        s_remove_start (self, &request);
    else
    if (catalog_query_known (command))
        s_read_start (self, &request);
    else
        rpc_server_error (self->rpc, &request, 404, "unknown command \"%s\"",
                          command);
}


//  ---------------------------------------------------------------------
//  Raft state and FSM changes

void
catalog_serve_on_change (void *arg, uint64_t index, unsigned tables)
{
    catalog_serve_t *self = (catalog_serve_t *) arg;
    self->changed |= tables;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", (double) index);
    cJSON *names = cJSON_AddArrayToObject (body, "Tables");
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        if (tables & (1u << i))
            cJSON_AddItemToArray (names,
                                  cJSON_CreateString (catalog_table_name (1u << i)));
    rpc_server_publish (self->rpc, "state.changed", &body);
}

static void
s_ready_done (void *arg, int status)
{
    catalog_serve_t *self = (catalog_serve_t *) arg;
    self->barrier_pending = false;
    if (status == 0 && catalog_raft_is_leader (self->raft)
        && catalog_raft_term (self->raft) == self->barrier_term) {
        self->ready_term = self->barrier_term;
        log_info ("catalog ready term=%llu last_applied=%llu elapsed_ms=%llu",
                  (unsigned long long) self->ready_term,
                  (unsigned long long) catalog_raft_last_applied (self->raft),
                  (unsigned long long) (uv_now (self->loop) - self->start_ms));
    }
}

static void
s_release_held (catalog_serve_t *self)
{
    s_pending_t *pending = (s_pending_t *) zlistx_first (self->held);
    while (pending) {
        s_pending_t *next = (s_pending_t *) zlistx_next (self->held);
        if (s_can_progress (pending)) {
            s_unhold (pending);
            s_route (pending);
            //  Routing may have changed the list: start over from the
            //  items not yet seen (re-held ones are at the end).
            next = (s_pending_t *) zlistx_first (self->held);
            while (next && !s_can_progress (next))
                next = (s_pending_t *) zlistx_next (self->held);
        }
        pending = next;
    }
}

static void
s_check_leadership (catalog_serve_t *self)
{
    bool started = catalog_raft_started (self->raft);
    if (started && !self->was_started) {
        self->was_started = true;
        log_info ("catalogd serving datacenter=%s node=%s raft_state=%s",
                  self->cfg->datacenter, self->cfg->node_name,
                  catalog_raft_state_name (self->raft));
    }
    bool leader = catalog_raft_is_leader (self->raft);
    uint64_t term = catalog_raft_term (self->raft);
    //  Keeps the time of the last leader contact current.
    catalog_raft_last_contact_ms (self->raft);
    if (leader != self->was_leader) {
        if (leader)
            log_info ("raft leadership acquired term=%llu elapsed_ms=%llu",
                      (unsigned long long) term,
                      (unsigned long long) (uv_now (self->loop) - self->start_ms));
        else
            log_warn ("raft leadership lost term=%llu state=%s",
                      (unsigned long long) term,
                      catalog_raft_state_name (self->raft));
        self->was_leader = leader;
    }
    //  Subscribers (gossipd's catalog reflection) learn of a new leader
    //  at once instead of polling status.leader.
    char address[CATALOG_RAFT_ADDRESS_MAX + 16];
    catalog_raft_leader (self->raft, address, sizeof address);
    if (strcmp (address, self->leader_seen) != 0) {
        snprintf (self->leader_seen, sizeof self->leader_seen, "%s", address);
        cJSON *body = cJSON_CreateObject ();
        cJSON_AddStringToObject (body, "Leader", address);
        cJSON_AddBoolToObject (body, "IsLeader", leader);
        cJSON_AddNumberToObject (body, "Term", (double) term);
        rpc_server_publish (self->rpc, "leader.changed", &body);
    }
    //  A new leader serves reads once a barrier of its term is applied:
    //  then every entry of earlier terms is in the store.
    if (leader && self->ready_term != term && !self->barrier_pending
        && catalog_raft_barrier (self->raft, s_ready_done, self) == 0) {
        self->barrier_pending = true;
        self->barrier_term = term;
    }
    if (zlistx_size (self->held))
        s_release_held (self);
}


//  ---------------------------------------------------------------------
//  The daemon's side

void
catalog_serve_tick (catalog_serve_t *self)
{
    if (self->stopping)
        return;
    s_check_leadership (self);
    if (self->changed) {
        unsigned tables = self->changed;
        self->changed = 0;
        catalog_watch_fire (self->watch, tables, s_on_wake, self);
    }
}

bool
catalog_serve_leader_ready (catalog_serve_t *self)
{
    return s_leader_ready (self);
}

int64_t
catalog_serve_next_deadline (catalog_serve_t *self)
{
    int64_t now = s_now (self);
    int64_t next = catalog_watch_next_deadline (self->watch);
    s_pending_t *pending = (s_pending_t *) zlistx_first (self->held);
    while (pending) {
        int64_t due = pending->hold_until;
        if (pending->retry_at > now && pending->retry_at < due)
            due = pending->retry_at;
        if (next < 0 || due < next)
            next = due;
        pending = (s_pending_t *) zlistx_next (self->held);
    }
    return next;
}

void
catalog_serve_expire (catalog_serve_t *self)
{
    int64_t now = s_now (self);
    catalog_watch_expire (self->watch, now, s_on_expire, self);
    s_pending_t *pending = (s_pending_t *) zlistx_first (self->held);
    while (pending) {
        s_pending_t *next = (s_pending_t *) zlistx_next (self->held);
        if (pending->hold_until <= now && !s_can_progress (pending)) {
            s_unhold (pending);
            s_hold_expired (pending);
        }
        pending = next;
    }
    //  Items whose retry time came are routed by the next tick.
}

void
catalog_serve_shutdown (catalog_serve_t *self)
{
    if (self->stopping)
        return;
    self->stopping = true;
    log_info ("shutting down parked=%zu held=%zu forwarded=%zu",
              catalog_watch_size (self->watch), zlistx_size (self->held),
              zlistx_size (self->forwarding));
    //  Parked reads get their current result; requests waiting for a
    //  leader or for the leader's answer get an error. Writes in flight,
    //  and reads waiting for a barrier in flight, fail from raft_close.
    catalog_watch_drain (self->watch, s_on_expire, self);
    s_pending_t *pending;
    while ((pending = (s_pending_t *) zlistx_first (self->held))) {
        s_unhold (pending);
        s_fail (pending, 503, "catalogd is shutting down");
    }
    while ((pending = (s_pending_t *) zlistx_first (self->forwarding))) {
        catalog_cluster_cancel (self->cluster, pending->forward_id);
        zlistx_delete (self->forwarding, pending->forward_handle);
        s_fail (pending, 503, "catalogd is shutting down");
    }
    while ((pending = (s_pending_t *) zlistx_detach (self->consistent_next, NULL)))
        s_fail (pending, 503, "catalogd is shutting down");
}

uint64_t
catalog_serve_forwarded (catalog_serve_t *self)
{
    return self->forwarded;
}

//  ---------------------------------------------------------------------
//  Construction

catalog_serve_t *
catalog_serve_new (uv_loop_t *loop, const config_t *cfg, rpc_server_t *rpc,
                   catalog_store_t *store, catalog_raft_t *raft,
                   catalog_cluster_t *cluster)
{
    assert (loop && cfg && rpc && store && raft && cluster);
    catalog_serve_t *self = (catalog_serve_t *) calloc (1, sizeof *self);
    assert (self);
    self->loop = loop;
    self->cfg = cfg;
    self->rpc = rpc;
    self->store = store;
    self->raft = raft;
    self->cluster = cluster;
    self->cache = catalog_cache_new (CACHE_ENTRIES, CACHE_BYTES);
    self->watch = catalog_watch_new ();
    self->held = zlistx_new ();
    self->forwarding = zlistx_new ();
    self->consistent_now = zlistx_new ();
    self->consistent_next = zlistx_new ();
    self->start_ms = uv_now (loop);
    self->random = ((uint64_t) getpid () << 32) ^ (uint64_t) zclock_usecs ();
    if (!self->random)
        self->random = 88172645463325252ULL;
    catalog_raft_server_address (raft, catalog_raft_address (raft),
                                 self->server_address, sizeof self->server_address);
    return self;
}

void
catalog_serve_destroy (catalog_serve_t **self_p)
{
    assert (self_p);
    catalog_serve_t *self = *self_p;
    if (!self)
        return;
    //  Whatever is left was answered at shutdown or died with raft.
    zlistx_destroy (&self->held);
    zlistx_destroy (&self->forwarding);
    zlistx_destroy (&self->consistent_now);
    zlistx_destroy (&self->consistent_next);
    catalog_watch_destroy (&self->watch);
    catalog_cache_destroy (&self->cache);
    free (self);
    *self_p = NULL;
}
