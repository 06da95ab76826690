/*  daemon: catalogd's loop and request dispatch (see daemon.h), serving
    docs/protocol/catalog-rpc.md over docs/protocol/local-rpc.md.

    One libuv loop, no threads of ours. The ROUTER's ZMQ_FD is
    edge-triggered: it is drained until empty on every readiness and again
    before every poll (a uv_prepare handle), because sending a reply can
    consume the edge of a request that arrived meanwhile.

    A request becomes a pending item that lives until it is answered:
    - a write is validated, encoded as an FSM command and proposed to raft;
      it is answered from the apply callback with the entry's raft index;
    - a read runs at once, or waits for a leader (held, up to 4 s), or is
      parked in the watch set until a table it reads changes or its
      deadline passes;
    - status.leader / status.peers answer from raft's view. */
#include "daemon.h"
#include "fsm.h"
#include "query.h"
#include "raftnode.h"
#include "store.h"
#include "watch.h"

#include "log.h"
#include "rpc_server.h"
#include "signals.h"

#include <czmq.h>
#include <uv.h>

//  How long a request waits for a leader before "No cluster leader"
//  (below the 5 s default deadline of callers).
#define LEADER_HOLD_MS   4000
#define CACHE_ENTRIES    4096
#define CACHE_BYTES      (64 * 1024 * 1024)

struct _catalogd_t {
    const config_t *cfg;
    uv_loop_t loop;
    rpc_server_t *rpc;
    catalog_store_t *store;
    catalog_fsm_t *fsm;
    catalog_cache_t *cache;
    catalog_watch_t *watch;
    catalog_raft_t *raft;
    uv_poll_t rpc_poll;
    uv_poll_t signal_poll;
    uv_timer_t heartbeat;
    uv_timer_t deadline;
    uv_prepare_t prepare;
    bool handles_ready;
    bool signal_polled;
    int handles_open;
    bool raft_started;
    bool raft_closed;
    zlistx_t *held;             //  pending items waiting for a leader
    unsigned changed;           //  tables changed since watchers last woke
    uint64_t ready_term;        //  term whose leadership barrier completed
    uint64_t barrier_term;
    bool barrier_pending;
    bool was_leader;
    uint64_t start_ms;
    bool stopping;
    int exit_code;
    uint64_t random;
    catalogd_reload_fn *reload_fn;
    void *reload_arg;
};

typedef struct {
    catalogd_t *owner;
    rpc_request_t *request;
    catalog_query_t *query;     //  reads
    char *entry;                //  writes waiting for a leader
    size_t entry_size;
    int64_t deadline;           //  blocking read deadline, 0 until parked
    int64_t hold_until;         //  end of the wait for a leader
    void *held_handle;
    bool expired;
} s_pending_t;

static void s_read_run (s_pending_t *pending);
static void s_on_deadline (uv_timer_t *timer);

//  ---------------------------------------------------------------------
//  Pending items and replies

static s_pending_t *
s_pending_new (catalogd_t *self, rpc_request_t **request_p)
{
    s_pending_t *pending = (s_pending_t *) calloc (1, sizeof *pending);
    assert (pending);
    pending->owner = self;
    pending->request = *request_p;
    *request_p = NULL;
    return pending;
}

static void
s_pending_free (s_pending_t **pending_p)
{
    s_pending_t *pending = *pending_p;
    if (pending) {
        catalog_query_destroy (&pending->query);
        free (pending->entry);
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
//  with the already rendered Result text.
static void
s_reply_read (catalogd_t *self, rpc_request_t **request_p, uint64_t index,
              cJSON *result)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", (double) index);
    cJSON_AddBoolToObject (body, "KnownLeader",
                           catalog_raft_leader_known (self->raft));
    cJSON_AddNumberToObject (body, "LastContact", 0);
    cJSON_AddItemToObject (body, "Result", result);
    rpc_server_reply (self->rpc, request_p, &body);
}

static uint64_t
s_random (catalogd_t *self)
{
    //  xorshift64*: jitter needs spread, not secrecy.
    self->random ^= self->random >> 12;
    self->random ^= self->random << 25;
    self->random ^= self->random >> 27;
    return self->random * 2685821657736338717ULL;
}

//  ---------------------------------------------------------------------
//  Waiting for a leader

static void
s_hold (s_pending_t *pending)
{
    catalogd_t *self = pending->owner;
    pending->hold_until = (int64_t) uv_now (&self->loop) + LEADER_HOLD_MS;
    pending->held_handle = zlistx_add_end (self->held, pending);
}

static void
s_unhold (s_pending_t *pending)
{
    zlistx_delete (pending->owner->held, pending->held_handle);
    pending->held_handle = NULL;
}

//  Reads are served once this server leads and has applied everything of
//  earlier terms (its leadership barrier), or as a follower that knows a
//  leader (its own replica; forwarding to the leader comes later).
static bool
s_reads_ready (catalogd_t *self)
{
    if (catalog_raft_is_leader (self->raft))
        return self->ready_term == catalog_raft_term (self->raft);
    return catalog_raft_leader_known (self->raft);
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

static void
s_propose (s_pending_t *pending)
{
    catalogd_t *self = pending->owner;
    int rc = catalog_raft_apply (self->raft, pending->entry,
                                 pending->entry_size, s_write_done, pending);
    free (pending->entry);
    pending->entry = NULL;
    if (rc)
        s_fail (pending, catalog_raft_error_code (rc),
                catalog_raft_error_text (rc));
}

//  Leads, or has no leader to point at: then the write waits for one.
static void
s_write_route (s_pending_t *pending)
{
    catalogd_t *self = pending->owner;
    if (catalog_raft_is_leader (self->raft))
        s_propose (pending);
    else
    if (catalog_raft_leader_known (self->raft))
        s_fail (pending, 500, "not the raft leader: write forwarding to the "
                "leader is not available yet");
    else
        s_hold (pending);
}

static void
s_write_start (catalogd_t *self, rpc_request_t **request_p, bool is_register)
{
    char err[512] = "";
    const char *reason = NULL;
    cJSON *normal = NULL;
    const cJSON *body = rpc_request_body (*request_p);
    if (is_register) {
        catalog_reg_t *reg = catalog_reg_from_json (body, err, sizeof err);
        if (reg && catalog_store_register_validate (self->store, reg, &reason)
                       == 0)
            normal = catalog_reg_to_json (reg);
        catalog_reg_destroy (&reg);
    }
    else {
        catalog_dereg_t *dereg = catalog_dereg_from_json (body, err, sizeof err);
        if (dereg)
            normal = catalog_dereg_to_json (dereg);
        catalog_dereg_destroy (&dereg);
    }
    if (!normal) {
        rpc_server_error (self->rpc, request_p, 400, "%s", reason ? reason : err);
        return;
    }
    s_pending_t *pending = s_pending_new (self, request_p);
    pending->entry = catalog_fsm_encode (
        is_register ? CATALOG_OP_REGISTER : CATALOG_OP_DEREGISTER, normal,
        &pending->entry_size);
    cJSON_Delete (normal);
    s_write_route (pending);
}

//  ---------------------------------------------------------------------
//  Reads

static void
s_read_run (s_pending_t *pending)
{
    catalogd_t *self = pending->owner;
    uint64_t index = 0;
    const char *text = catalog_query_run (pending->query, self->store,
                                          self->cache, self->cfg->datacenter,
                                          &index);
    uint64_t min_index = catalog_query_min_index (pending->query);
    if (min_index > 0 && index <= min_index && !pending->expired
        && !self->stopping) {
        int64_t now = (int64_t) uv_now (&self->loop);
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

static void
s_consistent_done (void *arg, int status)
{
    s_pending_t *pending = (s_pending_t *) arg;
    if (status)
        s_fail (pending, catalog_raft_error_code (status),
                catalog_raft_error_text (status));
    else
        s_read_run (pending);
}

static void
s_read_go (s_pending_t *pending)
{
    catalogd_t *self = pending->owner;
    if (catalog_query_require_consistent (pending->query)) {
        //  A barrier commits only with a quorum: leadership is verified
        //  and everything before it is applied.
        int rc = catalog_raft_barrier (self->raft, s_consistent_done, pending);
        if (rc)
            s_fail (pending, catalog_raft_error_code (rc),
                catalog_raft_error_text (rc));
        return;
    }
    s_read_run (pending);
}

static void
s_read_start (catalogd_t *self, rpc_request_t **request_p)
{
    char err[512];
    catalog_query_t *query = catalog_query_new (
        rpc_request_command (*request_p), rpc_request_body (*request_p), err,
        sizeof err);
    if (!query) {
        rpc_server_error (self->rpc, request_p, 400, "%s", err);
        return;
    }
    s_pending_t *pending = s_pending_new (self, request_p);
    pending->query = query;
    if (!catalog_query_allow_stale (query) && !s_reads_ready (self))
        s_hold (pending);
    else
        s_read_go (pending);
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

static void
s_status (catalogd_t *self, rpc_request_t **request_p, bool leader)
{
    cJSON *result;
    if (leader) {
        char address[CONFIG_ADDR_MAX + 16];
        catalog_raft_leader (self->raft, address, sizeof address);
        result = cJSON_CreateString (address);
    }
    else
        result = catalog_raft_peers (self->raft);
    uint64_t index = catalog_store_index (self->store, CATALOG_TABLES_ALL);
    s_reply_read (self, request_p, index < 1 ? 1 : index, result);
}

//  ---------------------------------------------------------------------
//  Dispatch

static void
s_dispatch (catalogd_t *self, rpc_request_t *request)
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
    if (strcmp (command, "status.leader") == 0)
        s_status (self, &request, true);
    else
    if (strcmp (command, "status.peers") == 0)
        s_status (self, &request, false);
    else
    if (catalog_query_known (command))
        s_read_start (self, &request);
    else
        rpc_server_error (self->rpc, &request, 404, "unknown command \"%s\"",
                          command);
}

static void
s_drain (catalogd_t *self)
{
    rpc_request_t *request;
    while ((request = rpc_server_recv (self->rpc)))
        s_dispatch (self, request);
}

//  ---------------------------------------------------------------------
//  Raft state and FSM changes

static void
s_on_change (void *arg, uint64_t index, unsigned tables)
{
    catalogd_t *self = (catalogd_t *) arg;
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
    catalogd_t *self = (catalogd_t *) arg;
    self->barrier_pending = false;
    if (status == 0 && catalog_raft_is_leader (self->raft)
        && catalog_raft_term (self->raft) == self->barrier_term) {
        self->ready_term = self->barrier_term;
        log_info ("catalog ready term=%llu last_applied=%llu elapsed_ms=%llu",
                  (unsigned long long) self->ready_term,
                  (unsigned long long) catalog_raft_last_applied (self->raft),
                  (unsigned long long) (uv_now (&self->loop) - self->start_ms));
    }
}

static void
s_release_held (catalogd_t *self)
{
    bool leader = catalog_raft_is_leader (self->raft);
    bool reads = s_reads_ready (self);
    bool known = catalog_raft_leader_known (self->raft);
    s_pending_t *pending = (s_pending_t *) zlistx_first (self->held);
    while (pending) {
        s_pending_t *next = (s_pending_t *) zlistx_next (self->held);
        bool is_write = pending->entry != NULL;
        if ((is_write && (leader || known)) || (!is_write && reads)) {
            s_unhold (pending);
            if (is_write)
                s_write_route (pending);
            else
                s_read_go (pending);
        }
        pending = next;
    }
}

static void
s_check_leadership (catalogd_t *self)
{
    bool leader = catalog_raft_is_leader (self->raft);
    uint64_t term = catalog_raft_term (self->raft);
    if (leader != self->was_leader) {
        if (leader)
            log_info ("raft leadership acquired term=%llu elapsed_ms=%llu",
                      (unsigned long long) term,
                      (unsigned long long) (uv_now (&self->loop) - self->start_ms));
        else
            log_warn ("raft leadership lost term=%llu state=%s",
                      (unsigned long long) term,
                      catalog_raft_state_name (self->raft));
        self->was_leader = leader;
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
//  Loop handles

static void
s_on_handle_closed (uv_handle_t *handle)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    self->handles_open--;
}

static void
s_close_handle (catalogd_t *self, uv_handle_t *handle)
{
    if (!uv_is_closing (handle)) {
        handle->data = self;
        self->handles_open++;
        uv_close (handle, s_on_handle_closed);
    }
}

static void
s_on_raft_closed (void *arg)
{
    catalogd_t *self = (catalogd_t *) arg;
    self->raft_closed = true;
    if (self->handles_ready) {
        s_close_handle (self, (uv_handle_t *) &self->rpc_poll);
        if (self->signal_polled)
            s_close_handle (self, (uv_handle_t *) &self->signal_poll);
        s_close_handle (self, (uv_handle_t *) &self->heartbeat);
        s_close_handle (self, (uv_handle_t *) &self->deadline);
        s_close_handle (self, (uv_handle_t *) &self->prepare);
    }
}

static void
s_shutdown (catalogd_t *self)
{
    if (self->stopping)
        return;
    self->stopping = true;
    log_info ("shutting down parked=%zu held=%zu",
              catalog_watch_size (self->watch), zlistx_size (self->held));
    //  Parked reads get their current result; reads and writes waiting for
    //  a leader get an error. Writes in flight fail from raft_close.
    catalog_watch_drain (self->watch, s_on_expire, self);
    s_pending_t *pending;
    while ((pending = (s_pending_t *) zlistx_first (self->held))) {
        s_unhold (pending);
        s_fail (pending, 503, "catalogd is shutting down");
    }
    catalog_raft_close (self->raft, s_on_raft_closed, self);
}

static void
s_handle_signals (catalogd_t *self)
{
    if (signals_reload_take ()) {
        if (self->reload_fn && self->reload_fn (self->reload_arg) == 0)
            log_info ("configuration reloaded");
        else
            log_warn ("configuration reload failed, keeping the old settings");
    }
    if (signals_terminate_requested ())
        s_shutdown (self);
}

static void
s_arm_deadline (catalogd_t *self)
{
    int64_t next = catalog_watch_next_deadline (self->watch);
    s_pending_t *first = (s_pending_t *) zlistx_first (self->held);
    if (first && (next < 0 || first->hold_until < next))
        next = first->hold_until;
    if (next < 0) {
        uv_timer_stop (&self->deadline);
        return;
    }
    int64_t now = (int64_t) uv_now (&self->loop);
    uv_timer_start (&self->deadline, s_on_deadline,
                    (uint64_t) (next > now ? next - now : 0), 0);
}

static void
s_on_deadline (uv_timer_t *timer)
{
    catalogd_t *self = (catalogd_t *) timer->data;
    int64_t now = (int64_t) uv_now (&self->loop);
    catalog_watch_expire (self->watch, now, s_on_expire, self);
    s_pending_t *pending = (s_pending_t *) zlistx_first (self->held);
    while (pending && pending->hold_until <= now) {
        s_unhold (pending);
        s_fail (pending, 500, "No cluster leader");
        pending = (s_pending_t *) zlistx_first (self->held);
    }
}

static void
s_on_prepare (uv_prepare_t *handle)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    if (!self->stopping)
        s_handle_signals (self);
    if (!self->stopping) {
        s_check_leadership (self);
        if (self->changed) {
            unsigned tables = self->changed;
            self->changed = 0;
            catalog_watch_fire (self->watch, tables, s_on_wake, self);
        }
    }
    s_drain (self);
    if (!self->stopping)
        s_arm_deadline (self);
}

static void
s_on_rpc (uv_poll_t *handle, int status, int events)
{
    s_drain ((catalogd_t *) handle->data);
}

static void
s_on_signal (uv_poll_t *handle, int status, int events)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    signals_drain ();
    if (!self->stopping)
        s_handle_signals (self);
}

static void
s_on_heartbeat (uv_timer_t *timer)
{
    catalogd_t *self = (catalogd_t *) timer->data;
    int64_t next = rpc_server_tick (self->rpc);
    uv_timer_start (&self->heartbeat, s_on_heartbeat,
                    (uint64_t) (next > 0 ? next : 1), 0);
}

//  ---------------------------------------------------------------------
//  Construction

catalogd_t *
catalogd_new (const config_t *cfg)
{
    assert (cfg);
    catalogd_t *self = (catalogd_t *) calloc (1, sizeof *self);
    assert (self);
    self->cfg = cfg;
    if (uv_loop_init (&self->loop)) {
        log_error ("cannot create the event loop");
        free (self);
        return NULL;
    }
    self->random = ((uint64_t) getpid () << 32) ^ (uint64_t) zclock_usecs ();
    if (!self->random)
        self->random = 88172645463325252ULL;
    self->store = catalog_store_new ();
    self->fsm = catalog_fsm_new (self->store);
    catalog_fsm_set_change_fn (self->fsm, s_on_change, self);
    self->cache = catalog_cache_new (CACHE_ENTRIES, CACHE_BYTES);
    self->watch = catalog_watch_new ();
    self->held = zlistx_new ();
    self->rpc = rpc_server_new (cfg->data_dir, "catalogd");
    if (self->rpc)
        self->raft = catalog_raft_new (&self->loop, cfg, self->fsm);
    if (!self->raft) {
        catalogd_destroy (&self);
        return NULL;
    }
    return self;
}

void
catalogd_destroy (catalogd_t **self_p)
{
    assert (self_p);
    catalogd_t *self = *self_p;
    if (!self)
        return;
    //  A raft that never ran still closes through the loop.
    if (self->raft && !self->raft_closed) {
        if (!self->stopping)
            catalog_raft_close (self->raft, s_on_raft_closed, self);
        self->stopping = true;
        uv_run (&self->loop, UV_RUN_DEFAULT);
    }
    catalog_raft_destroy (&self->raft);
    if (uv_loop_close (&self->loop) != 0)
        log_warn ("event loop closed with handles still open");
    zlistx_destroy (&self->held);
    catalog_watch_destroy (&self->watch);
    catalog_cache_destroy (&self->cache);
    catalog_fsm_destroy (&self->fsm);
    catalog_store_destroy (&self->store);
    rpc_server_destroy (&self->rpc);
    free (self);
    *self_p = NULL;
}

void
catalogd_set_reload_fn (catalogd_t *self, catalogd_reload_fn *fn, void *arg)
{
    self->reload_fn = fn;
    self->reload_arg = arg;
}

int
catalogd_run (catalogd_t *self)
{
    self->start_ms = uv_now (&self->loop);
    uv_poll_init (&self->loop, &self->rpc_poll, rpc_server_fd (self->rpc));
    self->rpc_poll.data = self;
    uv_poll_start (&self->rpc_poll, UV_READABLE, s_on_rpc);
    if (signals_fd () >= 0) {
        uv_poll_init (&self->loop, &self->signal_poll, signals_fd ());
        self->signal_poll.data = self;
        uv_poll_start (&self->signal_poll, UV_READABLE, s_on_signal);
        self->signal_polled = true;
    }
    uv_timer_init (&self->loop, &self->heartbeat);
    self->heartbeat.data = self;
    uv_timer_start (&self->heartbeat, s_on_heartbeat, 0, 0);
    uv_timer_init (&self->loop, &self->deadline);
    self->deadline.data = self;
    uv_prepare_init (&self->loop, &self->prepare);
    self->prepare.data = self;
    uv_prepare_start (&self->prepare, s_on_prepare);
    self->handles_ready = true;

    if (catalog_raft_start (self->raft) == 0) {
        self->raft_started = true;
        log_info ("catalogd serving datacenter=%s node=%s raft_state=%s",
                  self->cfg->datacenter, self->cfg->node_name,
                  catalog_raft_state_name (self->raft));
    }
    else {
        self->exit_code = 1;
        s_shutdown (self);
    }
    uv_run (&self->loop, UV_RUN_DEFAULT);
    log_info ("stopped exit_code=%d applied=%llu malformed=%llu",
              self->exit_code,
              (unsigned long long) catalog_fsm_applied (self->fsm),
              (unsigned long long) catalog_fsm_malformed (self->fsm));
    return self->exit_code;
}
