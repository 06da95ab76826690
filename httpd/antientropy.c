/*  antientropy: syncs the agent's node, services and checks into the
    catalog (see antientropy.h). One RPC is in flight at a time; callbacks
    only record results and tick sends the next request. */
#include "antientropy.h"
#include "log.h"
#include "rpc_client.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    AE_IDLE,
    AE_FETCH_NODE,              //  catalog.node in flight
    AE_FETCH_CHECKS,            //  health.node in flight
    AE_PUSH_NODE,               //  node registration in flight
    AE_PUSH_ITEM                //  a service/check write in flight
} s_phase_t;

struct _antientropy_t {
    const config_t *cfg;
    agent_state_t *state;
    catalog_link_t *link;
    s_phase_t phase;
    uint64_t call_id;
    bool node_in_sync;
    bool synced_once;
    bool resync;                //  a full sync was asked for
    int64_t resync_at;          //  ... for this time (0: none)
    int64_t full_due;           //  monotonic ms of the next full sync
    int64_t retry_at;           //  pushes wait until then after a failure
    int64_t backoff;
    bool failing;               //  in a streak of failures (warned)
    bool no_server;             //  the last failure: no server known yet
    cJSON *remote_services;     //  catalog.node Services between fetches
    agent_sync_item_t item;     //  the item in flight
    bool have_item;
    //  results recorded by callbacks, handled by tick
    bool done;
    int status;
    cJSON *reply_body;
    bool reply_error;
};

antientropy_t *
antientropy_new (const config_t *cfg, agent_state_t *state, catalog_link_t *link)
{
    antientropy_t *self = calloc (1, sizeof (antientropy_t));
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->state = state;
    self->link = link;
    self->backoff = ANTIENTROPY_RETRY_MIN_MS;
    //  The first sync starts at once: its requests wait for the daemon
    //  while it starts (and catalogd holds them until it has a leader).
    self->full_due = time_mono_ms ();
    return self;
}

void
antientropy_destroy (antientropy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    antientropy_t *self = *self_p;
    if (self->call_id)
        catalog_link_cancel (self->link, self->call_id);
    if (self->have_item)
        agent_sync_item_clear (&self->item);
    cJSON_Delete (self->remote_services);
    cJSON_Delete (self->reply_body);
    free (self);
    *self_p = NULL;
}

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    antientropy_t *self = arg;
    self->call_id = 0;
    self->done = true;
    self->status = status;
    self->reply_error = reply && reply->type == ENVELOPE_ERR;
    cJSON_Delete (self->reply_body);
    self->reply_body = NULL;
    if (reply) {
        self->reply_body = reply->body;
        reply->body = NULL;
    }
}

//  Common node fields of every registration.
static cJSON *
s_node_body (antientropy_t *self)
{
    const config_t *cfg = self->cfg;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Datacenter", cfg->datacenter);
    cJSON_AddStringToObject (body, "ID", cfg->node_id);
    cJSON_AddStringToObject (body, "Node", cfg->node_name);
    cJSON_AddStringToObject (body, "Address", cfg->advertise_addr);
    cJSON *tagged = cJSON_AddObjectToObject (body, "TaggedAddresses");
    cJSON_AddStringToObject (tagged, "lan", cfg->advertise_addr);
    cJSON_AddStringToObject (tagged, "wan", cfg->advertise_addr_wan [0]
                             ? cfg->advertise_addr_wan : cfg->advertise_addr);
    cJSON_AddObjectToObject (body, "NodeMeta");
    return body;
}

static bool
s_send (antientropy_t *self, const char *command, cJSON *body, bool write,
        s_phase_t phase)
{
    self->done = false;
    self->call_id = catalog_link_call (self->link, command, &body, write,
                                       s_on_reply, self);
    if (!self->call_id)
        return false;
    self->phase = phase;
    return true;
}

//  A failure: retried with backoff, or soon when forwarderd only said it
//  knows no server yet (a local answer, cheap to ask again, and the sync
//  should land as soon as the client agent has joined).
static void
s_failed (antientropy_t *self, int64_t now_ms, const char *what)
{
    int64_t delay = self->no_server ? ANTIENTROPY_RETRY_NO_SERVER_MS : self->backoff;
    //  One warning per streak of failures, then debug; waiting for a
    //  server while joining is expected.
    if (!self->failing && !self->no_server) {
        log_warn ("anti-entropy %s failed, retrying with backoff", what);
        self->failing = true;
    }
    else
        log_debug ("anti-entropy %s failed, retrying in %lld ms", what,
                   (long long) delay);
    self->retry_at = now_ms + delay;
    if (self->phase == AE_FETCH_NODE || self->phase == AE_FETCH_CHECKS
    ||  now_ms >= self->full_due)
        self->full_due = self->retry_at;
    if (!self->no_server) {
        self->backoff *= 2;
        if (self->backoff > ANTIENTROPY_RETRY_MAX_MS)
            self->backoff = ANTIENTROPY_RETRY_MAX_MS;
    }
    self->no_server = false;
    self->phase = AE_IDLE;
    if (self->have_item) {
        agent_sync_item_clear (&self->item);
        self->have_item = false;
    }
}

static bool
s_start_full (antientropy_t *self)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Node", self->cfg->node_name);
    return s_send (self, "catalog.node", body, false, AE_FETCH_NODE);
}

//  Whether the catalog's node record matches ours.
static bool
s_node_same (antientropy_t *self, const cJSON *node)
{
    const config_t *cfg = self->cfg;
    const char *id = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (node, "ID"));
    const char *address = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (node, "Address"));
    const cJSON *tagged = cJSON_GetObjectItemCaseSensitive (node, "TaggedAddresses");
    const char *lan = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (tagged, "lan"));
    const char *wan = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (tagged, "wan"));
    const char *our_wan = cfg->advertise_addr_wan [0] ? cfg->advertise_addr_wan
                                                      : cfg->advertise_addr;
    return id && strcasecmp (id, cfg->node_id) == 0
        && address && strcmp (address, cfg->advertise_addr) == 0
        && lan && strcmp (lan, cfg->advertise_addr) == 0
        && wan && strcmp (wan, our_wan) == 0;
}

//  Sends the next write, or goes idle when everything is in sync.
static void
s_push (antientropy_t *self, int64_t now_ms)
{
    if (!self->node_in_sync) {
        if (!s_send (self, "catalog.register", s_node_body (self), true,
                     AE_PUSH_NODE))
            s_failed (self, now_ms, "node registration");
        return;
    }
    if (agent_state_sync_next (self->state, &self->item) != 0) {
        self->phase = AE_IDLE;
        return;
    }
    self->have_item = true;
    cJSON *body;
    const char *command = "catalog.register";
    agent_sync_item_t *item = &self->item;
    if (item->kind == AGENT_SYNC_DROP_SERVICE || item->kind == AGENT_SYNC_DROP_CHECK) {
        command = "catalog.deregister";
        body = cJSON_CreateObject ();
        cJSON_AddStringToObject (body, "Datacenter", self->cfg->datacenter);
        cJSON_AddStringToObject (body, "Node", self->cfg->node_name);
        cJSON_AddStringToObject (body, item->kind == AGENT_SYNC_DROP_SERVICE
                                 ? "ServiceID" : "CheckID", item->id);
    }
    else {
        body = s_node_body (self);
        if (item->kind == AGENT_SYNC_SERVICE) {
            cJSON_AddItemToObject (body, "Service", item->service);
            item->service = NULL;
            if (cJSON_GetArraySize (item->checks) > 0) {
                cJSON_AddItemToObject (body, "Checks", item->checks);
                item->checks = NULL;
            }
        }
        else
            cJSON_AddItemToObject (body, "Check",
                cJSON_DetachItemFromArray (item->checks, 0));
        cJSON_AddBoolToObject (body, "SkipNodeUpdate", true);
    }
    if (!s_send (self, command, body, true, AE_PUSH_ITEM))
        s_failed (self, now_ms, "push");
}

//  Handles the reply recorded by s_on_reply.
static void
s_handle_reply (antientropy_t *self, int64_t now_ms)
{
    self->done = false;
    cJSON *body = self->reply_body;
    self->reply_body = NULL;
    bool ok = self->status == RPC_OK && !self->reply_error;
    unsigned code = 0;
    if (self->reply_error) {
        cJSON *code_item = cJSON_GetObjectItemCaseSensitive (body, "Code");
        code = cJSON_IsNumber (code_item) ? (unsigned) code_item->valuedouble : 500;
    }
    const char *error = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (body, "Error"));
    self->no_server = error && strcmp (error, "No known Consul servers") == 0;

    switch (self->phase) {
        case AE_FETCH_NODE:
            if (!ok) {
                s_failed (self, now_ms, "catalog.node read");
                break;
            }
            {
                cJSON *result = cJSON_GetObjectItemCaseSensitive (body, "Result");
                cJSON *node = cJSON_GetObjectItemCaseSensitive (result, "Node");
                self->node_in_sync = cJSON_IsObject (node) && s_node_same (self, node);
                cJSON_Delete (self->remote_services);
                self->remote_services = cJSON_DetachItemFromObjectCaseSensitive (
                    result, "Services");
            }
            {
                cJSON *request = cJSON_CreateObject ();
                cJSON_AddStringToObject (request, "Node", self->cfg->node_name);
                if (!s_send (self, "health.node", request, false, AE_FETCH_CHECKS))
                    s_failed (self, now_ms, "health.node read");
            }
            break;
        case AE_FETCH_CHECKS:
            if (!ok) {
                s_failed (self, now_ms, "health.node read");
                break;
            }
            agent_state_sync_compare (self->state, self->remote_services,
                cJSON_GetObjectItemCaseSensitive (body, "Result"));
            cJSON_Delete (self->remote_services);
            self->remote_services = NULL;
            self->full_due = now_ms + ANTIENTROPY_INTERVAL_MS
                           + random () % ANTIENTROPY_JITTER_MS;
            self->synced_once = true;
            self->backoff = ANTIENTROPY_RETRY_MIN_MS;
            self->failing = false;
            self->phase = AE_IDLE;
            s_push (self, now_ms);
            break;
        case AE_PUSH_NODE:
            if (!ok) {
                s_failed (self, now_ms, "node registration");
                if (error)
                    log_warn ("node registration rejected code=%u error=%s",
                              code, error);
                break;
            }
            log_info ("node synced to the catalog node=%s", self->cfg->node_name);
            self->node_in_sync = true;
            self->backoff = ANTIENTROPY_RETRY_MIN_MS;
            self->failing = false;
            self->phase = AE_IDLE;
            s_push (self, now_ms);
            break;
        case AE_PUSH_ITEM: {
            agent_sync_item_t *item = &self->item;
            bool drop = item->kind == AGENT_SYNC_DROP_SERVICE
                     || item->kind == AGENT_SYNC_DROP_CHECK;
            if (ok || (self->reply_error && code == 404 && drop)) {
                log_debug ("anti-entropy synced kind=%d id=%s", item->kind, item->id);
                agent_state_sync_done (self->state, item);
                self->backoff = ANTIENTROPY_RETRY_MIN_MS;
                self->failing = false;
            }
            else
            if (self->reply_error && code >= 400 && code < 500) {
                //  Rejected for good: not retried until it changes or the
                //  next full sync finds it different again.
                log_warn ("catalog rejected a sync kind=%d id=%s code=%u error=%s",
                          item->kind, item->id, code, error ? error : "");
                agent_state_sync_done (self->state, item);
            }
            else {
                s_failed (self, now_ms, "push");
                break;
            }
            agent_sync_item_clear (item);
            self->have_item = false;
            self->phase = AE_IDLE;
            s_push (self, now_ms);
            break;
        }
        case AE_IDLE:
            break;
    }
    cJSON_Delete (body);
}

void
antientropy_tick (antientropy_t *self, int64_t now_ms)
{
    if (self->done)
        s_handle_reply (self, now_ms);
    if (self->resync_at && now_ms >= self->resync_at) {
        self->resync_at = 0;
        self->resync = true;
    }
    if (self->resync) {
        self->resync = false;
        self->full_due = 0;
        self->retry_at = 0;
        self->backoff = ANTIENTROPY_RETRY_MIN_MS;
    }
    if (self->phase != AE_IDLE)
        return;
    if (now_ms >= self->full_due) {
        if (!s_start_full (self))
            s_failed (self, now_ms, "full sync");
        return;
    }
    if (now_ms >= self->retry_at && self->synced_once
    &&  (!self->node_in_sync || agent_state_sync_pending (self->state)))
        s_push (self, now_ms);
}

int64_t
antientropy_next_timeout (antientropy_t *self, int64_t now_ms)
{
    if (self->done || self->resync)
        return 0;
    if (self->phase != AE_IDLE)
        return self->resync_at ? (self->resync_at > now_ms ? self->resync_at - now_ms : 0)
                               : -1;
    int64_t next = self->full_due;
    if (self->synced_once
    &&  (!self->node_in_sync || agent_state_sync_pending (self->state))
    &&  self->retry_at < next)
        next = self->retry_at;
    return next > now_ms ? next - now_ms : 0;
}

void
antientropy_resync (antientropy_t *self)
{
    self->resync = true;
}

void
antientropy_first_contact (antientropy_t *self)
{
    if (!self->synced_once)
        self->resync = true;
}

void
antientropy_resync_after (antientropy_t *self, int64_t now_ms, int64_t delay_ms)
{
    int64_t at = now_ms + delay_ms;
    if (!self->resync_at || at < self->resync_at)
        self->resync_at = at;
}
