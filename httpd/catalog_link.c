/*  catalog_link: async catalogd RPC for HTTP requests and anti-entropy,
    restart handling, and the event-driven response cache
    (docs/protocol/catalog-rpc.md; invariants in catalog_link.h). */
#include "catalog_link.h"
#include "json_render.h"
#include "log.h"
#include "response_cache.h"
#include "rpc_client.h"
#include "rpc_sub.h"
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

#define LINK_HOLD_MS 3000

#define TEXT_UNAVAILABLE \
    "catalogd unavailable: the node's catalog daemon is not running"

typedef struct {
    catalog_link_t *link;
    zlistx_t *waiters;          //  s_waiter_t: the requests answered by it
    char *group_key;            //  key in link->groups while others may join
    char command [ENVELOPE_COMMAND_MAX + 1];
    cJSON *body;                //  kept for a re-send (reads)
    bool write;
    bool meta;
    bool pretty;
    char *cache_key;            //  NULL when not cacheable
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
} s_op_t;

//  One HTTP request waiting for an op.
typedef struct {
    s_op_t *op;
    http_request_t *request;
    void *handle;               //  position in op->waiters
} s_waiter_t;

typedef struct {
    catalog_link_t *link;
    bool write;
    catalog_link_fn *fn;
    void *arg;
    uint64_t rpc_id;
    void *handle;               //  position in link->calls
    bool sending;
    bool sync_done;
} s_call_t;

struct _catalog_link_t {
    rpc_client_t *client;
    rpc_sub_t *sub;
    response_cache_t *cache;
    uint64_t epoch;             //  bumps whenever the event stream is reset
    uint64_t gens [3];          //  per table: nodes, services, checks
    char boot [40];
    bool have_boot;
    uint64_t last_seq;
    bool have_seq;
    int64_t last_event_ms;
    bool silent;
    bool restarted;
    zlistx_t *ops;              //  pending HTTP operations
    zhashx_t *groups;           //  group key -> joinable read op
    zlistx_t *calls;            //  pending raw calls
};

static void s_op_reply (void *arg, int status, envelope_t *reply);

catalog_link_t *
catalog_link_new (const char *data_dir)
{
    catalog_link_t *self = calloc (1, sizeof (catalog_link_t));
    if (!self)
        return NULL;
    self->client = rpc_client_new (data_dir, "catalogd");
    //  While catalogd restarts, hold requests briefly rather than answer 503
    //  during the moment the socket takes to reconnect.
    if (self->client)
        rpc_client_set_hold (self->client, LINK_HOLD_MS);
    self->sub = rpc_sub_new (data_dir, "catalogd");
    self->cache = response_cache_new (CACHE_MAX_ENTRIES, CACHE_MAX_BYTES);
    self->ops = zlistx_new ();
    self->calls = zlistx_new ();
    self->groups = zhashx_new ();
    if (!self->client || !self->sub || !self->cache || !self->ops
    ||  !self->calls || !self->groups) {
        catalog_link_destroy (&self);
        return NULL;
    }
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
    rpc_client_destroy (&self->client);
    rpc_sub_destroy (&self->sub);
    response_cache_destroy (&self->cache);
    free (self);
    *self_p = NULL;
}

int
catalog_link_rpc_fd (catalog_link_t *self)
{
    return rpc_client_fd (self->client);
}

int
catalog_link_sub_fd (catalog_link_t *self)
{
    return rpc_sub_fd (self->sub);
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

static bool
s_live (catalog_link_t *self)
{
    return self->have_boot && !self->silent
        && time_mono_ms () - self->last_event_ms < LINK_SILENCE_MS;
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

//  catalogd restarted or went silent: what was sent to the instance that is
//  gone will never be answered. Reads are sent again once; writes sent
//  before sent_before (while the old instance was known alive) fail, later
//  ones may have reached the new instance and keep their deadline. Raw
//  calls (anti-entropy, idempotent) all fail and are retried by their owner.
static void
s_fail_pending (catalog_link_t *self, int64_t sent_before)
{
    size_t count = zlistx_size (self->calls);
    s_call_t **calls = calloc (count + 1, sizeof (s_call_t *));
    size_t n = 0;
    for (s_call_t *call = zlistx_first (self->calls); call && calls;
         call = zlistx_next (self->calls))
        calls [n++] = call;
    for (size_t i = 0; i < n; i++) {
        s_call_t *call = calls [i];
        rpc_client_cancel (self->client, call->rpc_id);
        zlistx_detach (self->calls, call->handle);
        call->fn (call->arg, RPC_UNAVAILABLE, NULL);
        free (call);
    }
    free (calls);

    count = zlistx_size (self->ops);
    s_op_t **ops = calloc (count + 1, sizeof (s_op_t *));
    n = 0;
    for (s_op_t *op = zlistx_first (self->ops); op && ops; op = zlistx_next (self->ops))
        ops [n++] = op;
    for (size_t i = 0; i < n; i++) {
        s_op_t *op = ops [i];
        if (!op->write && !op->resent) {
            rpc_client_cancel (self->client, op->rpc_id);
            op->resent = true;
            (void) s_op_send (op);
        }
        else
        if (op->sent_ms <= sent_before) {
            rpc_client_cancel (self->client, op->rpc_id);
            s_op_finish (op, RPC_UNAVAILABLE, NULL);
        }
    }
    free (ops);
}

static void
s_handle_event (catalog_link_t *self, envelope_t *event)
{
    if (event->type != ENVELOPE_EVT)
        return;
    bool beat = strcmp (event->command, "hello") == 0
             || strcmp (event->command, "heartbeat") == 0;
    if (beat) {
        cJSON *boot = cJSON_GetObjectItemCaseSensitive (event->body, "Boot");
        if (cJSON_IsString (boot) && boot->valuestring [0]) {
            if (!self->have_boot || strcmp (boot->valuestring, self->boot) != 0) {
                bool was_known = self->have_boot;
                int64_t old_heard = self->last_event_ms;
                snprintf (self->boot, sizeof self->boot, "%s", boot->valuestring);
                self->have_boot = true;
                self->have_seq = false;
                self->restarted = true;
                s_invalidate (self);
                if (was_known) {
                    log_warn ("catalogd restarted boot=%s pending=%zu",
                              self->boot, rpc_client_pending (self->client));
                    s_fail_pending (self, old_heard);
                }
                else
                    log_info ("catalogd seen boot=%s", self->boot);
            }
        }
    }
    //  A gap in the publisher's sequence means lost state.changed events.
    if (self->have_seq && event->id != self->last_seq + 1)
        s_invalidate (self);
    self->last_seq = event->id;
    self->have_seq = true;

    if (strcmp (event->command, "state.changed") == 0) {
        cJSON *tables = cJSON_GetObjectItemCaseSensitive (event->body, "Tables");
        unsigned mask = 0;
        cJSON *table;
        if (cJSON_IsArray (tables)) {
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
        }
        else
            mask = LINK_TABLE_ALL;
        s_bump_tables (self, mask);
    }
    if (self->silent) {
        self->silent = false;
        s_invalidate (self);
        log_info ("catalogd heard again boot=%s", self->boot);
    }
    self->last_event_ms = time_mono_ms ();
}

void
catalog_link_process (catalog_link_t *self)
{
    rpc_client_process (self->client);
    envelope_t *event;
    while ((event = rpc_sub_recv (self->sub))) {
        s_handle_event (self, event);
        envelope_destroy (&event);
    }
    (void) rpc_sub_restarted_take (self->sub);
    rpc_client_expire (self->client);
    if (self->have_boot && !self->silent
    &&  time_mono_ms () - self->last_event_ms >= LINK_SILENCE_MS) {
        self->silent = true;
        s_invalidate (self);
        log_warn ("catalogd silent for %d ms, failing %zu pending requests",
                  LINK_SILENCE_MS, rpc_client_pending (self->client));
        s_fail_pending (self, INT64_MAX);
    }
}

int64_t
catalog_link_next_timeout (catalog_link_t *self)
{
    int64_t timeout = rpc_client_next_timeout (self->client);
    if (self->have_boot && !self->silent) {
        int64_t silence = self->last_event_ms + LINK_SILENCE_MS - time_mono_ms ();
        if (silence < 0)
            silence = 0;
        if (timeout < 0 || silence < timeout)
            timeout = silence;
    }
    return timeout;
}

bool
catalog_link_restarted_take (catalog_link_t *self)
{
    bool restarted = self->restarted;
    self->restarted = false;
    return restarted;
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
    s_op_ungroup (op);
    if (op->handle)
        zlistx_detach (op->link->ops, op->handle);
    zlistx_destroy (&op->waiters);
    cJSON_Delete (op->body);
    free (op->cache_key);
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
            rpc_client_cancel (op->link->client, op->rpc_id);
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

static unsigned
s_error_status (cJSON *body)
{
    cJSON *code = cJSON_GetObjectItemCaseSensitive (body, "Code");
    if (cJSON_IsNumber (code) && code->valuedouble >= 400 && code->valuedouble < 600)
        return (unsigned) code->valuedouble;
    return 500;
}

static void
s_add_index_header (struct MHD_Response *response, const char *name, uint64_t value)
{
    char text [32];
    snprintf (text, sizeof text, "%" PRIu64, value);
    MHD_add_response_header (response, name, text);
}

//  Builds the response of a REP. A read is answered by a cache entry
//  (returned, one reference for the caller) that all its waiters share: an
//  entry with the same key and index is reused, since the same query at the
//  same index has the same result, so a herd of woken blocking queries
//  renders once. A reply a follower relayed from the leader ("Forwarded")
//  is not this server's state: it is shared but never cached. Writes and
//  errors are set on request directly (NULL returned).
static cache_entry_t *
s_reply_result (s_op_t *op, cJSON *body, http_request_t *request)
{
    catalog_link_t *self = op->link;
    cJSON *result = cJSON_GetObjectItemCaseSensitive (body, "Result");
    if (!result) {
        log_warn ("catalogd reply without Result command=%s", op->command);
        request_reply_text (request, 500, "catalogd sent a malformed reply to %s",
                            op->command);
        return NULL;
    }
    cJSON *index_item = cJSON_GetObjectItemCaseSensitive (body, "Index");
    uint64_t index = cJSON_IsNumber (index_item) && index_item->valuedouble > 0
                   ? (uint64_t) index_item->valuedouble : 0;
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
    size_t len = 0;
    char *text = json_render (result, op->pretty, &len);
    struct MHD_Response *response = text
        ? MHD_create_response_from_buffer (len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!response) {
        free (text);
        request_reply_text (request, 500, "out of memory");
        return NULL;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "application/json");
    //  Not a Consul header on writes, but it tells a client which index to
    //  wait past to read its own write.
    if ((op->write || op->meta) && index > 0)
        s_add_index_header (response, "X-Consul-Index", index);
    if (op->meta) {
        cJSON *leader = cJSON_GetObjectItemCaseSensitive (body, "KnownLeader");
        cJSON *contact = cJSON_GetObjectItemCaseSensitive (body, "LastContact");
        MHD_add_response_header (response, "X-Consul-KnownLeader",
                                 cJSON_IsTrue (leader) ? "true" : "false");
        s_add_index_header (response, "X-Consul-LastContact",
                            cJSON_IsNumber (contact) && contact->valuedouble > 0
                            ? (uint64_t) contact->valuedouble : 0);
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
    return entry;
}

//  Answers one waiter from status/reply (or the shared entry) and resumes it.
static void
s_answer (s_op_t *op, http_request_t *request, int status, envelope_t *reply,
          cache_entry_t *entry)
{
    if (entry) {
        size_t len;
        const char *text = cache_entry_body (entry, &len);
        cache_entry_ref (entry);
        request_reply_shared (request, 200, cache_entry_response (entry),
                              text, len, cache_entry_unref, entry);
    }
    else
    if (status == RPC_OK && reply && reply->type == ENVELOPE_ERR) {
        cJSON *error = cJSON_GetObjectItemCaseSensitive (reply->body, "Error");
        request_reply_text (request, s_error_status (reply->body), "%s",
                            cJSON_IsString (error) ? error->valuestring
                                                   : "catalogd error");
    }
    else
    if (status == RPC_TIMEOUT)
        request_reply_text (request, 500,
                            "catalogd timeout: no reply to %s within %" PRId64 " ms",
                            op->command, op->timeout_ms);
    else
    if (status == S_ABORTED)
        request_reply_text (request, 503, "httpd is shutting down");
    else
    if (op->write && op->rpc_id)
        request_reply_text (request, 503,
                            "catalogd unavailable: it stopped before answering "
                            "(the write may or may not have been applied)");
    else
    if (status != RPC_OK)
        request_reply_text (request, 503, TEXT_UNAVAILABLE);
    else
        request_reply_text (request, 500, "catalogd sent an unusable reply to %s",
                            op->command);
    request_clear_op (request);
    request_resume (request);
}

//  Answers every waiter of the op and destroys it.
static void
s_op_finish (s_op_t *op, int status, envelope_t *reply)
{
    if (op->write)
        s_bump_tables (op->link, LINK_TABLE_ALL);
    s_op_ungroup (op);
    cache_entry_t *entry = NULL;
    s_waiter_t *waiter = zlistx_first (op->waiters);
    if (waiter && status == RPC_OK && reply && reply->type == ENVELOPE_REP)
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

//  Sends (or re-sends) the op's request. Returns 0, or -1 when catalogd is
//  not connected: the op was then answered and destroyed.
static int
s_op_send (s_op_t *op)
{
    cJSON *send_body = op->write ? op->body : cJSON_Duplicate (op->body, true);
    if (op->write)
        op->body = NULL;
    op->sending = true;
    op->sync_done = false;
    op->rpc_id = 0;
    uint64_t id = rpc_client_send (op->link->client, op->command, &send_body,
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

//  Creates the op, sends it and suspends the request, or answers at once.
//  group_key (taken) lets later identical reads join while it is pending.
static void
s_op_start (catalog_link_t *self, http_request_t *request, const char *command,
            cJSON *body, bool write, bool meta, char *cache_key,
            unsigned tables, const uint64_t *stamp, int64_t timeout_ms,
            char *group_key)
{
    s_op_t *op = calloc (1, sizeof (s_op_t));
    if (op)
        op->waiters = zlistx_new ();
    if (!op || !op->waiters) {
        free (op);
        cJSON_Delete (body);
        free (cache_key);
        free (group_key);
        request_reply_text (request, 500, "out of memory");
        return;
    }
    op->link = self;
    snprintf (op->command, sizeof op->command, "%s", command);
    op->write = write;
    op->meta = meta;
    op->pretty = request_pretty (request);
    op->cache_key = cache_key;
    op->tables = tables;
    if (stamp)
        memcpy (op->stamp, stamp, sizeof op->stamp);
    op->timeout_ms = timeout_ms;
    op->handle = zlistx_add_end (self->ops, op);
    if (s_op_add_waiter (op, request) != 0) {
        free (group_key);
        cJSON_Delete (body);
        s_op_destroy (&op);
        request_reply_text (request, 500, "out of memory");
        return;
    }

    //  Reads keep their body for a re-send after a catalogd restart.
    op->body = body;
    if (s_op_send (op) != 0) {
        free (group_key);
        return;         //  answered at once (catalogd not connected)
    }
    if (group_key && zhashx_insert (self->groups, group_key, op) == 0)
        op->group_key = group_key;
    else
        free (group_key);
    request_suspend (request);
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
    char *cache_key = NULL, *group_key = NULL;
    uint64_t stamp [CACHE_STAMP_WORDS];
    if (tables && !opts->consistent && s_live (self)) {
        char *printed = cJSON_PrintUnformatted (body);
        if (printed) {
            if (asprintf (&cache_key, "%s\n%s\n%d%d", command, printed,
                          request_pretty (request), opts->stale) < 0)
                cache_key = NULL;
            free (printed);
        }
        s_stamp (self, tables, stamp);
        cache_entry_t *entry = cache_key
            ? response_cache_lookup (self->cache, cache_key) : NULL;
        if (entry
        &&  memcmp (cache_entry_stamp (entry), stamp, sizeof stamp) == 0
        &&  (opts->min_index == 0 || cache_entry_index (entry) > opts->min_index)) {
            size_t len;
            const char *text = cache_entry_body (entry, &len);
            cache_entry_ref (entry);
            request_reply_shared (request, 200, cache_entry_response (entry),
                                  text, len, cache_entry_unref, entry);
            free (cache_key);
            cJSON_Delete (body);
            return;
        }
        //  The same read already on its way, sent since the last change
        //  we know of, answers this request too.
        if (cache_key && asprintf (&group_key, "%s\n%" PRIu64 "\n%" PRId64,
                                   cache_key, opts->min_index, opts->wait_ms) < 0)
            group_key = NULL;
        s_op_t *pending = group_key ? zhashx_lookup (self->groups, group_key) : NULL;
        if (pending && memcmp (pending->stamp, stamp, sizeof stamp) == 0
        &&  s_op_add_waiter (pending, request) == 0) {
            request_suspend (request);
            free (group_key);
            free (cache_key);
            cJSON_Delete (body);
            return;
        }
    }
    query_opts_to_body (opts, body);
    int64_t timeout = LINK_TIMEOUT_MS;
    if (opts->min_index > 0) {
        int64_t wait = opts->wait_ms > 0 ? opts->wait_ms : WAIT_DEFAULT_MS;
        if (wait > WAIT_MAX_MS)
            wait = WAIT_MAX_MS;
        timeout = wait + wait / 16 + LINK_TIMEOUT_MS;
    }
    s_op_start (self, request, command, body, false, meta, cache_key,
                tables, cache_key ? stamp : NULL, timeout, group_key);
}

void
catalog_link_write (catalog_link_t *self, http_request_t *request,
                    const char *command, cJSON **body_p)
{
    cJSON *body = *body_p ? *body_p : cJSON_CreateObject ();
    *body_p = NULL;
    s_op_start (self, request, command, body, true, false, NULL, 0, NULL,
                LINK_TIMEOUT_MS, NULL);
}

void
catalog_link_abort_all (catalog_link_t *self)
{
    s_op_t *op;
    while ((op = zlistx_first (self->ops))) {
        if (op->rpc_id)
            rpc_client_cancel (self->client, op->rpc_id);
        op->rpc_id = 0;
        op->write = false;
        s_op_finish (op, S_ABORTED, NULL);
    }
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
    if (call->write)
        s_bump_tables (call->link, LINK_TABLE_ALL);
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
    call->link = self;
    call->write = write;
    call->fn = fn;
    call->arg = arg;
    call->sending = true;
    uint64_t id = rpc_client_send (self->client, command, body_p,
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
            rpc_client_cancel (self->client, id);
            zlistx_detach (self->calls, call->handle);
            free (call);
            return;
        }
    }
}
