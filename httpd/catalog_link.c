/*  catalog_link: async catalog RPC for HTTP requests and anti-entropy,
    routed to catalogd or forwarderd, restart handling, and the
    event-driven response cache (docs/protocol/catalog-rpc.md,
    docs/protocol/server-rpc.md; invariants in catalog_link.h). */
#include "catalog_link.h"
#include "read_reply.h"
#include "remote_views.h"
#include "log.h"
#include "peer.h"
#include "response_cache.h"
#include "rpc_client.h"
#include "timeutil.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX_ENTRIES   1024
#define CACHE_MAX_BYTES     (64 * 1024 * 1024)
#define WAIT_DEFAULT_MS     300000
#define WAIT_MAX_MS         600000

//  Status of operations ended by catalog_link_abort_all (not an RPC status).
#define S_ABORTED           -100

typedef struct {
    catalog_link_t *link;
    peer_t *peer;               //  catalogd or forwarderd
    zlistx_t *waiters;          //  s_waiter_t: the requests answered by it
    char *group_key;            //  key in link->groups while others may join
    char command [ENVELOPE_COMMAND_MAX + 1];
    cJSON *body;                //  kept for a re-send (reads)
    bool write;
    bool meta;
    bool pretty;
    char *cache_key;            //  NULL when not cacheable
    char *view_key;             //  a forwarded read that may become a view
    uint64_t view_gen;          //  the views' generation when it was sent
    char dc [64];               //  Datacenter of a request to forwarderd
    unsigned tables;            //  tables the read depends on
    uint64_t stamp [CACHE_STAMP_WORDS];
    int64_t timeout_ms;
    bool resent;
    int64_t sent_ms;            //  when the RPC (or its re-send) left
    uint64_t rpc_id;
    void *handle;               //  position in link->ops
    bool sending;               //  inside rpc_client_send
    bool sync_done;
    int sync_status;
    catalog_link_then_fn *then_fn;  //  read_then: who finishes the reply
    void *then_arg;
} s_op_t;

//  One HTTP request waiting for an op.
typedef struct {
    s_op_t *op;
    http_request_t *request;
    void *handle;               //  position in op->waiters
} s_waiter_t;

typedef struct {
    catalog_link_t *link;
    peer_t *peer;
    bool write;
    catalog_link_fn *fn;
    void *arg;
    uint64_t rpc_id;
    void *handle;               //  position in link->calls
    bool sending;
    bool sync_done;
} s_call_t;

struct _catalog_link_t {
    const config_t *cfg;
    peer_t *catalogd;           //  NULL on a client agent
    peer_t *forwarderd;
    response_cache_t *cache;
    remote_views_t *views;      //  forwarded reads (server-rpc.md)
    uint64_t epoch;             //  bumps whenever the event stream is reset
    uint64_t gens [3];          //  per table: nodes, services, checks
    int restarted;              //  LINK_SEEN, LINK_RESTARTED or 0
    zlistx_t *ops;              //  pending HTTP operations
    zhashx_t *groups;           //  group key -> joinable read op
    zlistx_t *calls;            //  pending raw calls
};

static void s_op_reply (void *arg, int status, envelope_t *reply);
static void s_catalogd_signal (void *arg, peer_signal_t signal,
                               envelope_t *event, int64_t heard_ms);
static void s_forwarderd_signal (void *arg, peer_signal_t signal,
                                 envelope_t *event, int64_t heard_ms);

catalog_link_t *
catalog_link_new (const config_t *cfg)
{
    catalog_link_t *self = calloc (1, sizeof (catalog_link_t));
    if (!self)
        return NULL;
    self->cfg = cfg;
    //  While a daemon restarts, hold requests briefly rather than answer
    //  503 during the moment the socket takes to reconnect.
    bool ok = true;
    if (cfg->server) {
        self->catalogd = peer_new (cfg->data_dir, "catalogd", "catalog", LINK_HOLD_MS);
        ok = self->catalogd != NULL;
    }
    self->forwarderd = peer_new (cfg->data_dir, "forwarderd", "forwarding",
                                 LINK_HOLD_MS);
    self->cache = response_cache_new (CACHE_MAX_ENTRIES, CACHE_MAX_BYTES);
    self->views = self->forwarderd
                ? remote_views_new (peer_client (self->forwarderd), REMOTE_VIEWS_MAX) : NULL;
    self->ops = zlistx_new ();
    self->calls = zlistx_new ();
    self->groups = zhashx_new ();
    if (!ok || !self->forwarderd || !self->cache || !self->views || !self->ops
    ||  !self->calls || !self->groups) {
        catalog_link_destroy (&self);
        return NULL;
    }
    if (self->catalogd)
        peer_set_handler (self->catalogd, s_catalogd_signal, self);
    peer_set_handler (self->forwarderd, s_forwarderd_signal, self);
    self->epoch = 1;
    return self;
}

static void s_op_destroy (s_op_t **op_p);

void
catalog_link_destroy (catalog_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalog_link_t *self = *self_p;
    if (self->ops) {
        catalog_link_abort_all (self);
        zlistx_destroy (&self->ops);
    }
    if (self->calls) {
        s_call_t *call;
        while ((call = zlistx_detach (self->calls, NULL)))
            free (call);
        zlistx_destroy (&self->calls);
    }
    zhashx_destroy (&self->groups);
    remote_views_destroy (&self->views);
    peer_destroy (&self->catalogd);
    peer_destroy (&self->forwarderd);
    response_cache_destroy (&self->cache);
    free (self);
    *self_p = NULL;
}

size_t
catalog_link_fds (catalog_link_t *self, int fds [LINK_FDS_MAX])
{
    size_t count = 0;
    if (self->catalogd) {
        fds [count++] = peer_rpc_fd (self->catalogd);
        fds [count++] = peer_sub_fd (self->catalogd);
    }
    fds [count++] = peer_rpc_fd (self->forwarderd);
    fds [count++] = peer_sub_fd (self->forwarderd);
    return count;
}

bool
catalog_link_readable (catalog_link_t *self)
{
    return (self->catalogd && peer_readable (self->catalogd))
        || peer_readable (self->forwarderd);
}

//  Everything cached so far becomes invalid.
static void
s_invalidate (catalog_link_t *self)
{
    self->epoch++;
    response_cache_clear (self->cache);
}

static void
s_bump_tables (catalog_link_t *self, unsigned tables)
{
    for (int t = 0; t < 3; t++)
        if (tables & (1u << t))
            self->gens [t]++;
}

//  Whether the cache may be used: catalogd is known and heard from.
static bool
s_live (catalog_link_t *self)
{
    return self->catalogd && peer_live (self->catalogd);
}

static void
s_stamp (catalog_link_t *self, unsigned tables, uint64_t stamp [CACHE_STAMP_WORDS])
{
    stamp [0] = self->epoch;
    for (int t = 0; t < 3; t++)
        stamp [t + 1] = (tables & (1u << t)) ? self->gens [t] : 0;
}

static void s_op_finish (s_op_t *op, int status, envelope_t *reply);
static int s_op_send (s_op_t *op);

//  A daemon restarted or went silent: what was sent to the instance that
//  is gone will never be answered. Reads are sent again once; writes sent
//  before sent_before (while the old instance was known alive) fail, later
//  ones may have reached the new instance and keep their deadline. Raw
//  calls (anti-entropy, idempotent) all fail and are retried by their owner.
static void
s_fail_pending (catalog_link_t *self, peer_t *peer, int64_t sent_before)
{
    rpc_client_t *client = peer_client (peer);
    size_t count = zlistx_size (self->calls);
    s_call_t **calls = calloc (count + 1, sizeof (s_call_t *));
    size_t n = 0;
    for (s_call_t *call = zlistx_first (self->calls); call && calls;
         call = zlistx_next (self->calls))
        if (call->peer == peer)
            calls [n++] = call;
    for (size_t i = 0; i < n; i++) {
        s_call_t *call = calls [i];
        rpc_client_cancel (client, call->rpc_id);
        zlistx_detach (self->calls, call->handle);
        call->fn (call->arg, RPC_UNAVAILABLE, NULL);
        free (call);
    }
    free (calls);

    count = zlistx_size (self->ops);
    s_op_t **ops = calloc (count + 1, sizeof (s_op_t *));
    n = 0;
    for (s_op_t *op = zlistx_first (self->ops); op && ops; op = zlistx_next (self->ops))
        if (op->peer == peer)
            ops [n++] = op;
    for (size_t i = 0; i < n; i++) {
        s_op_t *op = ops [i];
        if (!op->write && !op->resent) {
            rpc_client_cancel (client, op->rpc_id);
            op->resent = true;
            (void) s_op_send (op);
        }
        else
        if (op->sent_ms <= sent_before) {
            rpc_client_cancel (client, op->rpc_id);
            s_op_finish (op, RPC_UNAVAILABLE, NULL);
        }
    }
    free (ops);
}

//  Bumps the generations of the tables a state.changed event names.
static void
s_state_changed (catalog_link_t *self, envelope_t *event)
{
    cJSON *tables = cJSON_GetObjectItemCaseSensitive (event->body, "Tables");
    unsigned mask = 0;
    cJSON *table;
    if (!cJSON_IsArray (tables)) {
        s_bump_tables (self, LINK_TABLE_ALL);
        return;
    }
    cJSON_ArrayForEach (table, tables) {
        const char *name = cJSON_GetStringValue (table);
        if (name && strcmp (name, "nodes") == 0)
            mask |= LINK_TABLE_NODES;
        else
        if (name && strcmp (name, "services") == 0)
            mask |= LINK_TABLE_SERVICES;
        else
        if (name && strcmp (name, "checks") == 0)
            mask |= LINK_TABLE_CHECKS;
        else
            mask |= LINK_TABLE_ALL;     //  unknown: be safe
    }
    s_bump_tables (self, mask);
}

static void
s_catalogd_signal (void *arg, peer_signal_t signal, envelope_t *event,
                   int64_t heard_ms)
{
    catalog_link_t *self = arg;
    switch (signal) {
        case PEER_SEEN:
            if (!self->restarted)
                self->restarted = LINK_SEEN;
            s_invalidate (self);
            break;
        case PEER_RESTARTED:
            self->restarted = LINK_RESTARTED;
            s_invalidate (self);
            s_fail_pending (self, self->catalogd, heard_ms);
            break;
        case PEER_SILENT:
            s_invalidate (self);
            s_fail_pending (self, self->catalogd, INT64_MAX);
            break;
        case PEER_GAP:
        case PEER_HEARD_AGAIN:
            //  state.changed events may have been lost.
            s_invalidate (self);
            break;
        case PEER_EVENT:
            if (strcmp (event->command, "state.changed") == 0)
                s_state_changed (self, event);
            break;
    }
}

static void
s_forwarderd_signal (void *arg, peer_signal_t signal, envelope_t *event,
                     int64_t heard_ms)
{
    catalog_link_t *self = arg;
    //  On a client agent forwarderd is the way to the local catalog.
    if (signal == PEER_SEEN && !self->catalogd && !self->restarted)
        self->restarted = LINK_SEEN;
    if (signal == PEER_RESTARTED && !self->catalogd)
        self->restarted = LINK_RESTARTED;
    if (signal == PEER_RESTARTED || signal == PEER_SILENT)
        remote_views_drop (self->views, NULL);
    if (signal == PEER_RESTARTED)
        s_fail_pending (self, self->forwarderd, heard_ms);
    else
    if (signal == PEER_SILENT)
        s_fail_pending (self, self->forwarderd, INT64_MAX);
}

void
catalog_link_process (catalog_link_t *self)
{
    if (self->catalogd)
        peer_process (self->catalogd);
    peer_process (self->forwarderd);
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

int64_t
catalog_link_next_timeout (catalog_link_t *self)
{
    int64_t timeout = peer_next_timeout (self->forwarderd);
    if (self->catalogd)
        timeout = s_min_timeout (timeout, peer_next_timeout (self->catalogd));
    return timeout;
}

int
catalog_link_restarted_take (catalog_link_t *self)
{
    int restarted = self->restarted;
    self->restarted = 0;
    return restarted;
}

static bool
s_local_dc (catalog_link_t *self, const char *dc)
{
    return !dc || !*dc || strcmp (dc, self->cfg->datacenter) == 0;
}

bool
catalog_link_forwards (catalog_link_t *self, const char *dc)
{
    return !self->catalogd || !s_local_dc (self, dc);
}

//  The daemon that serves dc; a request for forwarderd names its
//  datacenter in the body (server-rpc.md, "Use from httpd").
static peer_t *
s_route (catalog_link_t *self, const char *dc, cJSON *body)
{
    bool local = s_local_dc (self, dc);
    if (local && self->catalogd)
        return self->catalogd;
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Datacenter");
    cJSON_AddStringToObject (body, "Datacenter", local ? self->cfg->datacenter : dc);
    return self->forwarderd;
}

//  -- HTTP operations ----------------------------------------------------

static void
s_op_ungroup (s_op_t *op)
{
    if (op->group_key) {
        zhashx_delete (op->link->groups, op->group_key);
        free (op->group_key);
        op->group_key = NULL;
    }
}

static void
s_op_destroy (s_op_t **op_p)
{
    s_op_t *op = *op_p;
    if (!op)
        return;
    if (op->then_fn) {
        //  The reply never reached its finisher: let it release its state.
        catalog_link_then_fn *fn = op->then_fn;
        op->then_fn = NULL;
        fn (op->then_arg, NULL, NULL);
    }
    s_op_ungroup (op);
    if (op->handle)
        zlistx_detach (op->link->ops, op->handle);
    zlistx_destroy (&op->waiters);
    cJSON_Delete (op->body);
    free (op->cache_key);
    free (op->view_key);
    free (op);
    *op_p = NULL;
}

//  A waiting request went away (connection closed): the RPC is forgotten
//  when nobody else waits for it.
static void
s_waiter_cancel (void *arg)
{
    s_waiter_t *waiter = arg;
    s_op_t *op = waiter->op;
    zlistx_detach (op->waiters, waiter->handle);
    free (waiter);
    if (zlistx_size (op->waiters) == 0) {
        if (op->rpc_id)
            rpc_client_cancel (peer_client (op->peer), op->rpc_id);
        s_op_destroy (&op);
    }
}

static int
s_op_add_waiter (s_op_t *op, http_request_t *request)
{
    s_waiter_t *waiter = calloc (1, sizeof (s_waiter_t));
    if (!waiter)
        return -1;
    waiter->op = op;
    waiter->request = request;
    waiter->handle = zlistx_add_end (op->waiters, waiter);
    request_set_op (request, waiter, s_waiter_cancel);
    return 0;
}

void
catalog_link_reply_read (http_request_t *request, const cJSON *body, bool meta)
{
    if (!cJSON_GetObjectItemCaseSensitive (body, "Result")) {
        request_reply_text (request, 500, "malformed reply: no Result");
        return;
    }
    char *text = NULL;
    size_t len = 0;
    struct MHD_Response *response = read_reply_render (body, request_pretty (request),
                                                       false, meta, &text, &len);
    if (response)
        request_reply_owned (request, 200, response, text, len);
    else
        request_reply_text (request, 500, "out of memory");
}

//  Builds the response of a REP. A read is answered by a cache entry
//  (returned, one reference for the caller) that all its waiters share: an
//  entry with the same key and index is reused, since the same query at the
//  same index has the same result, so a herd of woken blocking queries
//  renders once. A reply a follower relayed from the leader ("Forwarded")
//  is not this server's state: it is shared but never cached. A read
//  forwarderd answered is offered to the remote views. Writes and errors
//  are set on request directly (NULL returned).
static cache_entry_t *
s_reply_result (s_op_t *op, cJSON *body, http_request_t *request)
{
    catalog_link_t *self = op->link;
    if (!cJSON_GetObjectItemCaseSensitive (body, "Result")) {
        log_warn ("%s reply without Result command=%s", peer_name (op->peer),
                  op->command);
        request_reply_text (request, 500, "%s sent a malformed reply to %s",
                            peer_name (op->peer), op->command);
        return NULL;
    }
    uint64_t index = read_reply_index (body);
    bool forwarded = cJSON_IsTrue (
        cJSON_GetObjectItemCaseSensitive (body, "Forwarded"));
    bool cacheable = op->cache_key && op->meta && index > 0 && !forwarded;
    //  Servable later only if fetched with nothing changing meanwhile.
    uint64_t stamp [CACHE_STAMP_WORDS] = { 0 };
    if (cacheable && s_live (self)) {
        s_stamp (self, op->tables, stamp);
        if (memcmp (stamp, op->stamp, sizeof stamp) != 0)
            memset (stamp, 0, sizeof stamp);
    }
    if (cacheable) {
        cache_entry_t *entry = response_cache_lookup (self->cache, op->cache_key);
        if (entry && cache_entry_index (entry) == index) {
            if (stamp [0])
                cache_entry_set_stamp (entry, stamp);
            cache_entry_ref (entry);
            return entry;
        }
    }
    char *text = NULL;
    size_t len = 0;
    struct MHD_Response *response = read_reply_render (body, op->pretty, op->write,
                                                       op->meta, &text, &len);
    if (!response) {
        request_reply_text (request, 500, "out of memory");
        return NULL;
    }
    if (op->write) {
        request_reply_owned (request, 200, response, text, len);
        return NULL;
    }
    cache_entry_t *entry = cacheable
        ? response_cache_insert (self->cache, op->cache_key, response, text, len,
                                 index, stamp)
        : cache_entry_new (response, text, len, index);
    if (!entry)
        request_reply_text (request, 500, "out of memory");
    else
    if (cacheable)
        cache_entry_ref (entry);
    else
    if (op->view_key && op->meta && op->body)
        remote_views_offer (self->views, op->view_key, op->view_gen, op->command,
                            op->body, op->pretty, op->meta, entry, index);
    return entry;
}

//  Answers request with a shared response (takes a reference of entry).
static void
s_reply_entry (http_request_t *request, cache_entry_t *entry)
{
    size_t len;
    const char *text = cache_entry_body (entry, &len);
    cache_entry_ref (entry);
    request_reply_shared (request, 200, cache_entry_response (entry), text, len,
                          cache_entry_unref, entry);
}

//  Answers one waiter from status/reply (or the shared entry) and resumes it.
static void
s_answer (s_op_t *op, http_request_t *request, int status, envelope_t *reply,
          cache_entry_t *entry)
{
    if (entry)
        s_reply_entry (request, entry);
    else
    if (status == S_ABORTED)
        request_reply_text (request, 503, "httpd is shutting down");
    else
    if (status == RPC_UNAVAILABLE && op->write && op->rpc_id)
        request_reply_text (request, 503,
                            "%s unavailable: it stopped before answering "
                            "(the write may or may not have been applied)",
                            peer_name (op->peer));
    else
        peer_reply_error (op->peer, request, op->command, status, reply,
                          op->timeout_ms);
    request_clear_op (request);
    request_resume (request);
}

//  read_then: hands the reply body to its finisher.
static void
s_op_then (s_op_t *op, s_waiter_t *waiter, envelope_t *reply)
{
    http_request_t *request = waiter->request;
    catalog_link_then_fn *fn = op->then_fn;
    op->then_fn = NULL;
    cJSON *body = reply->body;
    reply->body = NULL;
    request_clear_op (request);
    fn (op->then_arg, request, body);
    request_settle (request, op->command);
}

//  Answers every waiter of the op and destroys it.
static void
s_op_finish (s_op_t *op, int status, envelope_t *reply)
{
    catalog_link_t *self = op->link;
    if (op->write && op->peer == self->catalogd)
        s_bump_tables (self, LINK_TABLE_ALL);
    if (op->write && op->peer == self->forwarderd)
        remote_views_drop (self->views, op->dc);
    s_op_ungroup (op);
    bool rep = status == RPC_OK && reply && reply->type == ENVELOPE_REP;
    s_waiter_t *waiter = zlistx_first (op->waiters);
    if (waiter && rep && op->then_fn) {
        zlistx_detach (op->waiters, waiter->handle);
        s_op_then (op, waiter, reply);
        free (waiter);
        s_op_destroy (&op);
        return;
    }
    cache_entry_t *entry = NULL;
    if (waiter && rep)
        entry = s_reply_result (op, reply->body, waiter->request);
    while ((waiter = zlistx_detach (op->waiters, NULL))) {
        //  The first waiter may already hold an unshared reply.
        if (!request_has_reply (waiter->request) || entry)
            s_answer (op, waiter->request, status, reply, entry);
        else {
            request_clear_op (waiter->request);
            request_resume (waiter->request);
        }
        free (waiter);
    }
    if (entry)
        cache_entry_unref (entry);
    s_op_destroy (&op);
}

static void
s_op_reply (void *arg, int status, envelope_t *reply)
{
    s_op_t *op = arg;
    if (op->sending) {
        op->sync_done = true;
        op->sync_status = status;
        return;
    }
    s_op_finish (op, status, reply);
}

//  Sends (or re-sends) the op's request. Returns 0, or -1 when the daemon
//  is not connected: the op was then answered and destroyed.
static int
s_op_send (s_op_t *op)
{
    cJSON *send_body = op->write ? op->body : cJSON_Duplicate (op->body, true);
    if (op->write)
        op->body = NULL;
    op->sending = true;
    op->sync_done = false;
    op->rpc_id = 0;
    uint64_t id = rpc_client_send (peer_client (op->peer), op->command, &send_body,
                                   op->timeout_ms, s_op_reply, op);
    op->sending = false;
    cJSON_Delete (send_body);
    if (op->sync_done) {
        //  Never sent: nothing can have been applied.
        s_op_finish (op, op->sync_status, NULL);
        return -1;
    }
    op->rpc_id = id;
    op->sent_ms = time_mono_ms ();
    return 0;
}

//  What s_op_start needs beyond the request.
typedef struct {
    peer_t *peer;
    const char *command;
    bool write;
    bool meta;
    char *cache_key;            //  taken
    char *view_key;             //  taken
    unsigned tables;
    const uint64_t *stamp;
    int64_t timeout_ms;
    char *group_key;            //  taken: later identical reads may join
    catalog_link_then_fn *then_fn;
    void *then_arg;
} s_op_args_t;

//  Creates the op, sends it and suspends the request, or answers at once.
static void
s_op_start (catalog_link_t *self, http_request_t *request, cJSON *body,
            s_op_args_t *args)
{
    s_op_t *op = calloc (1, sizeof (s_op_t));
    if (op)
        op->waiters = zlistx_new ();
    if (!op || !op->waiters) {
        free (op);
        cJSON_Delete (body);
        free (args->cache_key);
        free (args->view_key);
        free (args->group_key);
        if (args->then_fn)
            args->then_fn (args->then_arg, NULL, NULL);
        request_reply_text (request, 500, "out of memory");
        return;
    }
    op->link = self;
    op->peer = args->peer;
    snprintf (op->command, sizeof op->command, "%s", args->command);
    op->write = args->write;
    op->meta = args->meta;
    op->pretty = request_pretty (request);
    op->cache_key = args->cache_key;
    op->view_key = args->view_key;
    op->view_gen = remote_views_generation (self->views);
    const char *dc = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (body, "Datacenter"));
    snprintf (op->dc, sizeof op->dc, "%s", dc ? dc : self->cfg->datacenter);
    op->tables = args->tables;
    if (args->stamp)
        memcpy (op->stamp, args->stamp, sizeof op->stamp);
    op->timeout_ms = args->timeout_ms;
    op->then_fn = args->then_fn;
    op->then_arg = args->then_arg;
    op->handle = zlistx_add_end (self->ops, op);
    char *group_key = args->group_key;
    if (s_op_add_waiter (op, request) != 0) {
        free (group_key);
        cJSON_Delete (body);
        s_op_destroy (&op);
        request_reply_text (request, 500, "out of memory");
        return;
    }

    //  Reads keep their body for a re-send after a daemon restart.
    op->body = body;
    if (s_op_send (op) != 0) {
        free (group_key);
        return;         //  answered at once (the daemon is not connected)
    }
    if (group_key && zhashx_insert (self->groups, group_key, op) == 0)
        op->group_key = group_key;
    else
        free (group_key);
    request_suspend (request);
}

//  The deadline of a read: the default, plus the wait and its jitter for a
//  blocking query (local-rpc.md, server-rpc.md "Hop deadlines").
static int64_t
s_read_timeout (const query_opts_t *opts)
{
    if (opts->min_index == 0)
        return LINK_TIMEOUT_MS;
    int64_t wait = opts->wait_ms > 0 ? opts->wait_ms : WAIT_DEFAULT_MS;
    if (wait > WAIT_MAX_MS)
        wait = WAIT_MAX_MS;
    return wait + wait / 16 + LINK_TIMEOUT_MS;
}

//  The key of a read in the response cache and the remote views.
static char *
s_read_key (const char *command, const cJSON *body, bool pretty, bool stale)
{
    char *key = NULL;
    char *printed = cJSON_PrintUnformatted (body);
    if (printed && asprintf (&key, "%s\n%s\n%d%d", command, printed, pretty, stale) < 0)
        key = NULL;
    free (printed);
    return key;
}

void
catalog_link_read (catalog_link_t *self, http_request_t *request,
                   const char *command, cJSON **body_p,
                   const query_opts_t *opts, unsigned tables, bool meta)
{
    cJSON *body = *body_p ? *body_p : cJSON_CreateObject ();
    *body_p = NULL;
    query_opts_t none;
    if (!opts) {
        memset (&none, 0, sizeof none);
        opts = &none;
    }
    s_op_args_t args = { .command = command, .meta = meta, .tables = tables };
    args.peer = s_route (self, opts->dc, body);
    uint64_t stamp [CACHE_STAMP_WORDS];
    if (tables && args.peer == self->catalogd && !opts->consistent && s_live (self)) {
        args.cache_key = s_read_key (command, body, request_pretty (request),
                                     opts->stale);
        s_stamp (self, tables, stamp);
        cache_entry_t *entry = args.cache_key
            ? response_cache_lookup (self->cache, args.cache_key) : NULL;
        if (entry
        &&  memcmp (cache_entry_stamp (entry), stamp, sizeof stamp) == 0
        &&  (opts->min_index == 0 || cache_entry_index (entry) > opts->min_index)) {
            s_reply_entry (request, entry);
            free (args.cache_key);
            cJSON_Delete (body);
            return;
        }
        //  The same read already on its way, sent since the last change
        //  we know of, answers this request too.
        if (args.cache_key && asprintf (&args.group_key, "%s\n%" PRIu64 "\n%" PRId64,
                                        args.cache_key, opts->min_index,
                                        opts->wait_ms) < 0)
            args.group_key = NULL;
        s_op_t *pending = args.group_key
                        ? zhashx_lookup (self->groups, args.group_key) : NULL;
        if (pending && memcmp (pending->stamp, stamp, sizeof stamp) == 0
        &&  s_op_add_waiter (pending, request) == 0) {
            request_suspend (request);
            free (args.group_key);
            free (args.cache_key);
            cJSON_Delete (body);
            return;
        }
        args.stamp = args.cache_key ? stamp : NULL;
    }
    else
    if (tables && args.peer == self->forwarderd && !opts->consistent
    &&  peer_live (self->forwarderd)) {
        args.view_key = s_read_key (command, body, request_pretty (request),
                                    opts->stale);
        cache_entry_t *entry = args.view_key
            ? remote_views_lookup (self->views, args.view_key, opts->min_index) : NULL;
        if (entry) {
            s_reply_entry (request, entry);
            free (args.view_key);
            cJSON_Delete (body);
            return;
        }
    }
    query_opts_to_body (opts, body);
    args.timeout_ms = s_read_timeout (opts);
    s_op_start (self, request, body, &args);
}

void
catalog_link_read_then (catalog_link_t *self, http_request_t *request,
                        const char *command, cJSON **body_p,
                        const query_opts_t *opts, catalog_link_then_fn *fn,
                        void *arg)
{
    cJSON *body = *body_p ? *body_p : cJSON_CreateObject ();
    *body_p = NULL;
    query_opts_t none;
    if (!opts) {
        memset (&none, 0, sizeof none);
        opts = &none;
    }
    s_op_args_t args = { .command = command, .meta = true,
                         .then_fn = fn, .then_arg = arg };
    args.peer = s_route (self, opts->dc, body);
    query_opts_to_body (opts, body);
    args.timeout_ms = s_read_timeout (opts);
    s_op_start (self, request, body, &args);
}

void
catalog_link_write (catalog_link_t *self, http_request_t *request,
                    const char *command, cJSON **body_p, const char *dc)
{
    catalog_link_write_then (self, request, command, body_p, dc, NULL, NULL);
}

void
catalog_link_write_then (catalog_link_t *self, http_request_t *request,
                         const char *command, cJSON **body_p, const char *dc,
                         catalog_link_then_fn *fn, void *arg)
{
    cJSON *body = *body_p ? *body_p : cJSON_CreateObject ();
    *body_p = NULL;
    s_op_args_t args = { .command = command, .write = true,
                         .timeout_ms = LINK_TIMEOUT_MS,
                         .then_fn = fn, .then_arg = arg };
    args.peer = s_route (self, dc, body);
    s_op_start (self, request, body, &args);
}

static void
s_datacenters_reply (void *arg, http_request_t *request, int status,
                     envelope_t *reply)
{
    catalog_link_t *self = arg;
    if (!request)
        return;
    const cJSON *list = status == RPC_OK && reply->type == ENVELOPE_REP
        ? cJSON_GetObjectItemCaseSensitive (reply->body, "Result") : NULL;
    if (cJSON_IsArray (list))
        request_reply_json (request, 200, list);
    else
        peer_reply_error (self->forwarderd, request, "datacenters", status,
                          reply, LINK_TIMEOUT_MS);
}

void
catalog_link_datacenters (catalog_link_t *self, http_request_t *request)
{
    cJSON *body = cJSON_CreateObject ();
    peer_request (self->forwarderd, request, "datacenters", &body,
                  LINK_TIMEOUT_MS, s_datacenters_reply, self);
}

void
catalog_link_abort_all (catalog_link_t *self)
{
    s_op_t *op;
    while ((op = zlistx_first (self->ops))) {
        if (op->rpc_id)
            rpc_client_cancel (peer_client (op->peer), op->rpc_id);
        op->rpc_id = 0;
        op->write = false;
        s_op_finish (op, S_ABORTED, NULL);
    }
    if (self->catalogd)
        peer_abort_requests (self->catalogd);
    peer_abort_requests (self->forwarderd);
}

//  -- raw calls ------------------------------------------------------------

static void
s_call_reply (void *arg, int status, envelope_t *reply)
{
    s_call_t *call = arg;
    if (call->sending) {
        call->sync_done = true;
        return;
    }
    if (call->write && call->peer == call->link->catalogd)
        s_bump_tables (call->link, LINK_TABLE_ALL);
    if (call->write && call->peer == call->link->forwarderd)
        remote_views_drop (call->link->views, call->link->cfg->datacenter);
    zlistx_detach (call->link->calls, call->handle);
    catalog_link_fn *fn = call->fn;
    void *fn_arg = call->arg;
    free (call);
    fn (fn_arg, status, reply);
}

uint64_t
catalog_link_call (catalog_link_t *self, const char *command, cJSON **body_p,
                   bool write, catalog_link_fn *fn, void *arg)
{
    s_call_t *call = calloc (1, sizeof (s_call_t));
    if (!call) {
        cJSON_Delete (*body_p);
        *body_p = NULL;
        return 0;
    }
    if (!*body_p)
        *body_p = cJSON_CreateObject ();
    call->link = self;
    call->peer = s_route (self, NULL, *body_p);
    call->write = write;
    call->fn = fn;
    call->arg = arg;
    call->sending = true;
    uint64_t id = rpc_client_send (peer_client (call->peer), command, body_p,
                                   LINK_TIMEOUT_MS, s_call_reply, call);
    call->sending = false;
    cJSON_Delete (*body_p);
    *body_p = NULL;
    if (call->sync_done) {
        free (call);
        return 0;
    }
    call->rpc_id = id;
    call->handle = zlistx_add_end (self->calls, call);
    return id;
}

void
catalog_link_cancel (catalog_link_t *self, uint64_t id)
{
    for (s_call_t *call = zlistx_first (self->calls); call;
         call = zlistx_next (self->calls)) {
        if (call->rpc_id == id) {
            rpc_client_cancel (peer_client (call->peer), id);
            zlistx_detach (self->calls, call->handle);
            free (call);
            return;
        }
    }
}
