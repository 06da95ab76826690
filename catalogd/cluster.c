/*  cluster: the LAN pool's servers, raft's start and bootstrap, the
    leader's membership changes, and requests to other servers through the
    local forwarderd (see cluster.h; docs/catalogd.md). */
#include "cluster.h"
#include "autopilot.h"
#include "bootstrap.h"

#include "log.h"
#include "rpc_client.h"
#include "rpc_sub.h"
#include "timeutil.h"

#include <czmq.h>

#define MEMBERS_INTERVAL_MS   1000  //  members poll
#define MEMBERS_EVENT_MS      50    //  after a member.* event
#define MEMBERS_TIMEOUT_MS    2000
#define ROUND_INTERVAL_MS     1000  //  bootstrap rounds, plus jitter
#define ROUND_JITTER_MS       300
#define ROUND_TIMEOUT_MS      2000  //  raft.status answers
#define AUTOPILOT_INTERVAL_MS 1000
#define AUTOPILOT_BACKOFF_MS  5000  //  after a failed change of a server
#define POLL_COUNT            4

//  A request sent to another server through forwarderd.
typedef struct {
    catalog_cluster_t *owner;
    void *handle;               //  place in owner->forwards
    uint64_t id;
    catalog_forward_fn *fn;
    void *arg;
    bool sending;               //  inside rpc_client_send
    bool unsent;                //  ... which failed at once
} s_forward_t;

struct _catalog_cluster_t {
    uv_loop_t *loop;
    const config_t *cfg;
    catalog_raft_t *raft;
    catalog_servers_t *servers;
    catalog_bootstrap_t *bootstrap;     //  while the agreement runs
    catalog_autopilot_t *autopilot;
    rpc_client_t *gossipd;
    rpc_sub_t *gossipd_sub;
    rpc_client_t *forwarderd;
    rpc_sub_t *forwarderd_sub;
    uv_poll_t polls[POLL_COUNT];
    uv_timer_t timer;
    bool handles_ready;
    int handles_open;
    zlistx_t *forwards;
    bool members_pending;
    int64_t members_at;
    bool round_active;
    int64_t round_at;
    int64_t round_deadline;
    char wait_reason[256];              //  last reason logged
    bool start_failed;
    bool was_leader;
    int64_t autopilot_at;
    uint64_t failed_id;                 //  last change that failed ...
    int64_t failed_until;               //  ... not retried before this
    uint64_t random;
};

static void s_on_poll (uv_poll_t *handle, int status, int events);
static void s_on_timer (uv_timer_t *timer);

//  ---------------------------------------------------------------------
//  Forwards

static void
s_forward_done (void *arg, int status, envelope_t *reply)
{
    s_forward_t *forward = (s_forward_t *) arg;
    if (forward->sending) {
        forward->unsent = true;
        return;
    }
    catalog_cluster_t *self = forward->owner;
    zlistx_delete (self->forwards, forward->handle);
    catalog_forward_fn *fn = forward->fn;
    void *fn_arg = forward->arg;
    free (forward);
    fn (fn_arg, status, reply);
}

uint64_t
catalog_cluster_forward (catalog_cluster_t *self, const char *command,
                         cJSON **body_p, const char *server,
                         int64_t timeout_ms, catalog_forward_fn *fn, void *arg)
{
    assert (body_p && *body_p && server && fn);
    cJSON *body = *body_p;
    *body_p = NULL;
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Server");
    cJSON_AddStringToObject (body, "Server", server);
    s_forward_t *forward = (s_forward_t *) calloc (1, sizeof *forward);
    assert (forward);
    forward->owner = self;
    forward->fn = fn;
    forward->arg = arg;
    forward->sending = true;
    forward->id = rpc_client_send (self->forwarderd, command, &body, timeout_ms,
                                   s_forward_done, forward);
    forward->sending = false;
    cJSON_Delete (body);
    if (forward->unsent) {
        free (forward);
        return 0;
    }
    forward->handle = zlistx_add_end (self->forwards, forward);
    return forward->id;
}

void
catalog_cluster_cancel (catalog_cluster_t *self, uint64_t id)
{
    s_forward_t *forward = (s_forward_t *) zlistx_first (self->forwards);
    while (forward && forward->id != id)
        forward = (s_forward_t *) zlistx_next (self->forwards);
    if (forward) {
        rpc_client_cancel (self->forwarderd, id);
        zlistx_delete (self->forwards, forward->handle);
        free (forward);
    }
}

//  ---------------------------------------------------------------------
//  Members

static void
s_on_members (void *arg, int status, envelope_t *reply)
{
    catalog_cluster_t *self = (catalog_cluster_t *) arg;
    self->members_pending = false;
    if (status != RPC_OK || reply->type != ENVELOPE_REP) {
        if (status == RPC_OK)
            log_warn ("gossipd refused members error=\"%s\"",
                      cJSON_GetStringValue (cJSON_GetObjectItem (reply->body, "Error"))
                      ? cJSON_GetStringValue (cJSON_GetObjectItem (reply->body, "Error"))
                      : "?");
        return;
    }
    int count = catalog_servers_update (self->servers, reply->body);
    if (count < 0)
        log_warn ("gossipd members answer is not a member list");
    else
        log_trace ("servers of the datacenter updated servers=%d", count);
    //  A change may call for a membership change at once.
    self->autopilot_at = 0;
}

static void
s_members_poll (catalog_cluster_t *self, int64_t now)
{
    self->members_at = now + MEMBERS_INTERVAL_MS;
    if (self->members_pending)
        return;
    self->members_pending = true;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddBoolToObject (body, "WAN", false);
    rpc_client_send (self->gossipd, "members", &body, MEMBERS_TIMEOUT_MS,
                     s_on_members, self);
}

static void
s_read_events (catalog_cluster_t *self, int64_t now)
{
    envelope_t *event;
    while ((event = rpc_sub_recv (self->gossipd_sub))) {
        if (strncmp (event->command, "member.", 7) == 0
            && self->members_at > now + MEMBERS_EVENT_MS)
            self->members_at = now + MEMBERS_EVENT_MS;
        envelope_destroy (&event);
    }
    if (rpc_sub_restarted_take (self->gossipd_sub)) {
        self->members_pending = false;
        rpc_client_fail_all (self->gossipd, RPC_UNAVAILABLE);
        self->members_at = now;
    }
    while ((event = rpc_sub_recv (self->forwarderd_sub)))
        envelope_destroy (&event);
    //  Requests sent to a forwarderd that died will never be answered.
    if (rpc_sub_restarted_take (self->forwarderd_sub)
        && rpc_client_pending (self->forwarderd))
        rpc_client_fail_sent_before (self->forwarderd,
                                     rpc_sub_started_ms (self->forwarderd_sub),
                                     RPC_UNAVAILABLE);
}

//  ---------------------------------------------------------------------
//  Starting raft and the bootstrap agreement

static int
s_raft_start (catalog_cluster_t *self)
{
    if (catalog_raft_start (self->raft) != 0) {
        self->start_failed = true;
        return -1;
    }
    catalog_bootstrap_destroy (&self->bootstrap);
    return 0;
}

//  A raft.status question of a bootstrap round; answers of an older round
//  (identified by its round_at) are dropped.
typedef struct {
    catalog_cluster_t *owner;
    size_t peer;
    int64_t round_at;
} s_question_t;

static void s_round_finish (catalog_cluster_t *self);

static void
s_on_status (void *arg, int status, envelope_t *reply)
{
    s_question_t *question = (s_question_t *) arg;
    catalog_cluster_t *self = question->owner;
    bool current = self->bootstrap && self->round_active
                   && question->round_at == self->round_at;
    if (current) {
        const cJSON *result = status == RPC_OK && reply->type == ENVELOPE_REP
                            ? cJSON_GetObjectItemCaseSensitive (reply->body, "Result")
                            : NULL;
        catalog_bootstrap_answer (self->bootstrap, question->peer, result);
    }
    free (question);
    if (current)
        s_round_finish (self);
}

static void
s_round_finish (catalog_cluster_t *self)
{
    catalog_boot_outcome_t outcome
        = catalog_bootstrap_outcome (self->bootstrap, self->servers);
    if (outcome == CATALOG_BOOT_PENDING)
        return;
    self->round_active = false;
    if (outcome == CATALOG_BOOT_RETRY)
        return;
    if (outcome == CATALOG_BOOT_EXISTS) {
        log_info ("a server of the datacenter already has raft state: starting "
                  "without bootstrap, to be added by the leader");
        s_raft_start (self);
        return;
    }
    const catalog_raft_server_t *servers = NULL;
    size_t n = catalog_bootstrap_configuration (self->bootstrap, &servers);
    char *text = catalog_bootstrap_text (servers, n);
    if (outcome == CATALOG_BOOT_ADOPT)
        log_info ("bootstrap adopting the configuration a peer bootstrapped "
                  "servers=%zu configuration=\"%s\"", n, text);
    else
        log_info ("bootstrap agreed servers=%zu configuration=\"%s\"", n, text);
    free (text);
    int rc = catalog_raft_bootstrap (self->raft, servers, n);
    if (rc == 0 || catalog_raft_has_state (self->raft))
        s_raft_start (self);
    else
        self->start_failed = true;
}

static void
s_round_begin (catalog_cluster_t *self, int64_t now)
{
    self->random ^= self->random << 13;
    self->random ^= self->random >> 7;
    self->random ^= self->random << 17;
    self->round_at = now + ROUND_INTERVAL_MS + (int64_t) (self->random % ROUND_JITTER_MS);
    if (!catalog_servers_known (self->servers))
        return;
    char reason[256];
    int peers = catalog_bootstrap_begin (self->bootstrap, self->servers, reason,
                                         sizeof reason);
    if (peers < 0) {
        if (strcmp (reason, self->wait_reason) != 0) {
            log_info ("bootstrap waiting reason=\"%s\"", reason);
            snprintf (self->wait_reason, sizeof self->wait_reason, "%s", reason);
        }
        return;
    }
    self->wait_reason[0] = 0;
    self->round_active = true;
    //  Questions carry the round's start time, which identifies it.
    self->round_at = now + ROUND_INTERVAL_MS + (int64_t) (self->random % ROUND_JITTER_MS);
    self->round_deadline = now + ROUND_TIMEOUT_MS;
    int64_t round_id = self->round_at;
    for (size_t i = 0; i < (size_t) peers; i++) {
        const catalog_boot_peer_t *peer = catalog_bootstrap_peer (self->bootstrap, i);
        uint64_t id = 0;
        if (*peer->server_address) {
            s_question_t *question = (s_question_t *) calloc (1, sizeof *question);
            assert (question);
            question->owner = self;
            question->peer = i;
            question->round_at = round_id;
            cJSON *body = cJSON_CreateObject ();
            id = catalog_cluster_forward (self, "raft.status", &body,
                                          peer->server_address, ROUND_TIMEOUT_MS,
                                          s_on_status, question);
            if (!id)
                free (question);
        }
        if (!id)
            catalog_bootstrap_answer (self->bootstrap, i, NULL);
    }
    s_round_finish (self);
}

//  ---------------------------------------------------------------------
//  Autopilot (the leader)

typedef struct {
    catalog_cluster_t *owner;
    uint64_t id;
    char *what;
} s_change_t;

static void
s_on_change_done (void *arg, int status)
{
    s_change_t *change = (s_change_t *) arg;
    if (status) {
        //  E.g. a new server that cannot be caught up (not reachable):
        //  leave it alone for a while rather than retry every second.
        log_warn ("raft membership change failed change=\"%s\" error=\"%s\"",
                  change->what, catalog_raft_error_text (status));
        change->owner->failed_id = change->id;
        change->owner->failed_until = time_mono_ms () + AUTOPILOT_BACKOFF_MS;
    }
    else
        log_info ("raft membership change committed change=\"%s\"", change->what);
    free (change->what);
    free (change);
}

static void
s_autopilot (catalog_cluster_t *self, int64_t now)
{
    self->autopilot_at = now + AUTOPILOT_INTERVAL_MS;
    if (catalog_raft_changing (self->raft))
        return;
    catalog_raft_server_t *config = NULL;
    int n = catalog_raft_configuration (self->raft, &config, NULL);
    if (n < 0)
        return;
    catalog_ap_action_t action;
    catalog_autopilot_next (self->autopilot, config, (size_t) n, self->servers, now,
                            &action);
    free (config);
    if (action.kind == CATALOG_AP_NONE)
        return;
    if (action.kind == CATALOG_AP_TRANSFER) {
        int rc = catalog_raft_transfer (self->raft, 0);
        if (rc == 0)
            log_info ("raft leadership transfer started reason=\"%s\"", action.reason);
        return;
    }
    //  Two servers in bootstrap mode (-dev) never join one raft (Consul
    //  refuses the same way).
    const catalog_server_t *member = catalog_servers_by_id (self->servers, action.id);
    if (action.kind == CATALOG_AP_ADD && member && member->bootstrap) {
        log_trace ("not adding server node=%s: it is in bootstrap mode", member->name);
        return;
    }
    if (action.id == self->failed_id && now < self->failed_until)
        return;
    static const char *verbs[] = { "", "add", "promote", "remove", "" };
    s_change_t *change = (s_change_t *) calloc (1, sizeof *change);
    assert (change);
    change->owner = self;
    change->id = action.id;
    if (asprintf (&change->what, "%s %016llx (%s) %s: %s", verbs[action.kind],
                  (unsigned long long) action.id, action.name,
                  action.address, action.reason) < 0) {
        free (change);
        return;
    }
    catalog_raft_change_t kind = action.kind == CATALOG_AP_ADD ? CATALOG_RAFT_ADD
                               : action.kind == CATALOG_AP_PROMOTE ? CATALOG_RAFT_PROMOTE
                               : CATALOG_RAFT_REMOVE;
    int rc = catalog_raft_change (self->raft, kind, action.id, action.address,
                                  s_on_change_done, change);
    if (rc) {
        log_warn ("raft membership change refused change=\"%s\" error=\"%s\"",
                  change->what, catalog_raft_error_text (rc));
        self->failed_id = action.id;
        self->failed_until = now + AUTOPILOT_BACKOFF_MS;
        free (change->what);
        free (change);
    }
    else
        log_info ("raft membership change started change=\"%s\"", change->what);
}

//  ---------------------------------------------------------------------
//  Loop

static int64_t
s_min (int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static void
s_drain (catalog_cluster_t *self)
{
    rpc_client_process (self->gossipd);
    rpc_client_process (self->forwarderd);
    s_read_events (self, time_mono_ms ());
}

int
catalog_cluster_process (catalog_cluster_t *self, bool leader_ready)
{
    if (!self->handles_ready)
        return self->start_failed ? -1 : 0;
    s_drain (self);
    rpc_client_expire (self->gossipd);
    rpc_client_expire (self->forwarderd);
    int64_t now = time_mono_ms ();
    if (now >= self->members_at)
        s_members_poll (self, now);
    if (self->bootstrap && !catalog_raft_started (self->raft)) {
        if (self->round_active && now >= self->round_deadline) {
            //  Missing answers count as failed.
            for (size_t i = 0; i < catalog_bootstrap_peer_count (self->bootstrap); i++)
                catalog_bootstrap_answer (self->bootstrap, i, NULL);
            s_round_finish (self);
        }
        if (!self->round_active && now >= self->round_at && !self->start_failed)
            s_round_begin (self, now);
    }
    if (leader_ready != self->was_leader) {
        catalog_autopilot_reset (self->autopilot);
        self->was_leader = leader_ready;
        self->autopilot_at = now;
    }
    if (leader_ready && now >= self->autopilot_at)
        s_autopilot (self, now);
    //  The next wake-up.
    int64_t next = self->members_at - now;
    next = s_min (next, rpc_client_next_timeout (self->gossipd));
    next = s_min (next, rpc_client_next_timeout (self->forwarderd));
    if (self->bootstrap && !catalog_raft_started (self->raft))
        next = s_min (next, (self->round_active ? self->round_deadline : self->round_at) - now);
    if (leader_ready)
        next = s_min (next, self->autopilot_at - now);
    uv_timer_start (&self->timer, s_on_timer, (uint64_t) (next > 0 ? next : 0), 0);
    return self->start_failed ? -1 : 0;
}

static void
s_on_poll (uv_poll_t *handle, int status, int events)
{
    s_drain ((catalog_cluster_t *) handle->data);
}

static void
s_on_timer (uv_timer_t *timer)
{
    //  The work is done by the prepare hook that runs before the next
    //  poll; the timer only wakes the loop.
}

//  ---------------------------------------------------------------------
//  Construction

catalog_cluster_t *
catalog_cluster_new (uv_loop_t *loop, const config_t *cfg, catalog_raft_t *raft)
{
    assert (loop && cfg && raft);
    catalog_cluster_t *self = (catalog_cluster_t *) calloc (1, sizeof *self);
    assert (self);
    self->loop = loop;
    self->cfg = cfg;
    self->raft = raft;
    self->servers = catalog_servers_new (cfg->datacenter, cfg->ports.raft);
    self->autopilot = catalog_autopilot_new (catalog_raft_id (raft),
                                             CATALOG_DEAD_SERVER_GRACE_MS);
    self->forwards = zlistx_new ();
    self->gossipd = rpc_client_new (cfg->data_dir, "gossipd");
    self->gossipd_sub = rpc_sub_new (cfg->data_dir, "gossipd");
    self->forwarderd = rpc_client_new (cfg->data_dir, "forwarderd");
    self->forwarderd_sub = rpc_sub_new (cfg->data_dir, "forwarderd");
    self->random = ((uint64_t) getpid () << 32) ^ (uint64_t) time_mono_us () ^ catalog_raft_id (raft);
    if (!self->random)
        self->random = 2463534242ULL;
    if (!self->gossipd || !self->gossipd_sub || !self->forwarderd
        || !self->forwarderd_sub || !self->forwards) {
        log_error ("cannot create the sockets to gossipd and forwarderd");
        catalog_cluster_destroy (&self);
    }
    return self;
}

void
catalog_cluster_destroy (catalog_cluster_t **self_p)
{
    assert (self_p);
    catalog_cluster_t *self = *self_p;
    if (!self)
        return;
    assert (self->handles_open == 0);
    if (self->forwards) {
        s_forward_t *forward;
        while ((forward = (s_forward_t *) zlistx_detach (self->forwards, NULL))) {
            //  Our own questions die with us; the daemon's were answered.
            if (forward->fn == s_on_status)
                free (forward->arg);
            free (forward);
        }
        zlistx_destroy (&self->forwards);
    }
    //  Questions of a bootstrap round in flight are freed with nothing
    //  else to do: their callbacks never run once the client is gone.
    rpc_client_destroy (&self->gossipd);
    rpc_sub_destroy (&self->gossipd_sub);
    rpc_client_destroy (&self->forwarderd);
    rpc_sub_destroy (&self->forwarderd_sub);
    catalog_bootstrap_destroy (&self->bootstrap);
    catalog_autopilot_destroy (&self->autopilot);
    catalog_servers_destroy (&self->servers);
    free (self);
    *self_p = NULL;
}

int
catalog_cluster_start (catalog_cluster_t *self)
{
    int fds[POLL_COUNT] = {
        rpc_client_fd (self->gossipd), rpc_sub_fd (self->gossipd_sub),
        rpc_client_fd (self->forwarderd), rpc_sub_fd (self->forwarderd_sub)
    };
    for (int i = 0; i < POLL_COUNT; i++) {
        uv_poll_init (self->loop, &self->polls[i], fds[i]);
        self->polls[i].data = self;
        uv_poll_start (&self->polls[i], UV_READABLE, s_on_poll);
    }
    uv_timer_init (self->loop, &self->timer);
    self->timer.data = self;
    self->handles_ready = true;

    const config_t *cfg = self->cfg;
    if (cfg->dev || cfg->bootstrap_expect <= 1 || catalog_raft_has_state (self->raft))
        return s_raft_start (self);
    //  N servers: agree on the first configuration before starting.
    self->bootstrap = catalog_bootstrap_new (cfg->bootstrap_expect,
                                             catalog_raft_id (self->raft),
                                             catalog_raft_address (self->raft));
    log_info ("raft has no state: waiting for %d servers to bootstrap "
              "(bootstrap_expect)", cfg->bootstrap_expect);
    return 0;
}

static void
s_on_closed (uv_handle_t *handle)
{
    catalog_cluster_t *self = (catalog_cluster_t *) handle->data;
    self->handles_open--;
}

void
catalog_cluster_close (catalog_cluster_t *self)
{
    if (!self->handles_ready)
        return;
    self->handles_ready = false;
    for (int i = 0; i < POLL_COUNT; i++) {
        self->handles_open++;
        uv_close ((uv_handle_t *) &self->polls[i], s_on_closed);
    }
    self->handles_open++;
    uv_close ((uv_handle_t *) &self->timer, s_on_closed);
}

catalog_servers_t *
catalog_cluster_servers (catalog_cluster_t *self)
{
    return self->servers;
}

const char *
catalog_cluster_proposal (catalog_cluster_t *self)
{
    return self->bootstrap ? catalog_bootstrap_proposal (self->bootstrap) : "";
}
