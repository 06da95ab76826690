/*  fwd_gossip: forwarderd's link to its node's gossipd: server lists from
    `members`, DC names from `datacenters`, and the calls of commands
    gossipd serves (docs/protocol/server-rpc.md, "Membership",
    "Commands", "Failures and retries"). */
#include "fwd_gossip.h"
#include "log.h"
#include "rpc_sub.h"
#include "timeutil.h"

#define REFRESH_MS          1000    //  members poll
#define REFRESH_RETRY_MS    200     //  gossipd not reachable yet
#define GOSSIP_TIMEOUT_MS   2000

typedef enum { DCS_UNKNOWN, DCS_OFFERED, DCS_ABSENT } gossip_dcs_t;

struct _fwd_gossip_t {
    bool server;
    fwd_routes_t *routes;       //  borrowed
    fwd_gossip_fn *changed;
    void *changed_arg;
    rpc_client_t *client;
    rpc_sub_t *sub;
    bool boot_seen;             //  the first boot id is no restart
    bool restarting;            //  set while failing the pending calls
    bool members_pending;
    bool dcs_pending;
    gossip_dcs_t dcs;
    cJSON *dc_names;            //  gossipd's `datacenters` answer
    int64_t refresh_at;
    size_t ops;                 //  replies and events handled
};

fwd_gossip_t *
fwd_gossip_new (const config_t *cfg, fwd_routes_t *routes,
                fwd_gossip_fn *changed, void *arg)
{
    assert (cfg);
    assert (routes);
    fwd_gossip_t *self = (fwd_gossip_t *) calloc (1, sizeof (fwd_gossip_t));
    if (!self)
        return NULL;
    self->server = cfg->server;
    self->routes = routes;
    self->changed = changed;
    self->changed_arg = arg;
    self->client = rpc_client_new (cfg->data_dir, "gossipd");
    self->sub = rpc_sub_new (cfg->data_dir, "gossipd");
    if (!self->client || !self->sub) {
        fwd_gossip_destroy (&self);
        return NULL;
    }
    rpc_client_set_hold (self->client, FWD_GOSSIP_HOLD_MS);
    self->refresh_at = time_mono_ms ();
    return self;
}

void
fwd_gossip_destroy (fwd_gossip_t **self_p)
{
    assert (self_p);
    fwd_gossip_t *self = *self_p;
    if (!self)
        return;
    rpc_client_destroy (&self->client);
    rpc_sub_destroy (&self->sub);
    cJSON_Delete (self->dc_names);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Polls of members and datacenters

static void
s_on_members (void *arg, int status, envelope_t *reply)
{
    fwd_gossip_t *self = (fwd_gossip_t *) arg;
    self->ops++;
    self->members_pending = false;
    if (status != RPC_OK || reply->type != ENVELOPE_REP) {
        if (status == RPC_OK) {
            const char *text = cJSON_GetStringValue (cJSON_GetObjectItem (reply->body, "Error"));
            log_warn ("gossipd refused members error=\"%s\"", text ? text : "?");
        }
        self->refresh_at = time_mono_ms () + REFRESH_RETRY_MS;
        return;
    }
    const cJSON *members = reply->body;
    if (cJSON_IsObject (members)) {
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive (members, "Members");
        members = inner ? inner : cJSON_GetObjectItemCaseSensitive (members, "Result");
    }
    int listed = fwd_routes_update (self->routes, members);
    if (listed < 0) {
        log_warn ("gossipd members answer is not a member list");
        return;
    }
    log_trace ("server lists updated servers=%d", listed);
    if (self->changed)
        self->changed (self->changed_arg);
}

static void
s_on_datacenters (void *arg, int status, envelope_t *reply)
{
    fwd_gossip_t *self = (fwd_gossip_t *) arg;
    self->ops++;
    self->dcs_pending = false;
    if (status != RPC_OK)
        return;
    if (reply->type == ENVELOPE_ERR) {
        self->dcs = DCS_ABSENT;         //  not offered: compute ours
        return;
    }
    const cJSON *list = reply->body;
    if (cJSON_IsObject (list))
        list = cJSON_GetObjectItemCaseSensitive (list, "Result");
    if (!cJSON_IsArray (list)) {
        self->dcs = DCS_ABSENT;
        return;
    }
    cJSON *names = cJSON_CreateArray ();
    const cJSON *item;
    cJSON_ArrayForEach (item, list) {
        //  Names, or Consul's /v1/coordinate/datacenters objects.
        const char *name = cJSON_IsString (item) ? item->valuestring
                         : cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (item, "Datacenter"));
        if (name && config_dc_name_valid (name))
            cJSON_AddItemToArray (names, cJSON_CreateString (name));
    }
    cJSON_Delete (self->dc_names);
    self->dc_names = names;
    self->dcs = DCS_OFFERED;
}

static void
s_refresh (fwd_gossip_t *self)
{
    self->refresh_at = time_mono_ms () + REFRESH_MS;
    if (!self->members_pending) {
        self->members_pending = true;
        cJSON *body = cJSON_CreateObject ();
        cJSON_AddBoolToObject (body, "WAN", self->server);
        self->ops++;
        rpc_client_send (self->client, "members", &body, GOSSIP_TIMEOUT_MS,
                         s_on_members, self);
    }
    if (self->server && self->dcs != DCS_ABSENT && !self->dcs_pending) {
        self->dcs_pending = true;
        cJSON *body = cJSON_CreateObject ();
        self->ops++;
        rpc_client_send (self->client, "datacenters", &body, GOSSIP_TIMEOUT_MS,
                         s_on_datacenters, self);
    }
}

//  --------------------------------------------------------------------
//  Loop

size_t
fwd_gossip_pollitems (fwd_gossip_t *self, zmq_pollitem_t *items)
{
    items[0] = (zmq_pollitem_t) { NULL, rpc_client_fd (self->client), ZMQ_POLLIN, 0 };
    items[1] = (zmq_pollitem_t) { NULL, rpc_sub_fd (self->sub), ZMQ_POLLIN, 0 };
    return FWD_GOSSIP_ITEMS;
}

size_t
fwd_gossip_process (fwd_gossip_t *self)
{
    size_t before = self->ops;
    rpc_client_process (self->client);
    envelope_t *event;
    while ((event = rpc_sub_recv (self->sub))) {
        self->ops++;
        if (strncmp (event->command, "member.", 7) == 0)
            self->refresh_at = 0;
        envelope_destroy (&event);
    }
    if (rpc_sub_restarted_take (self->sub)) {
        if (self->boot_seen) {
            log_info ("gossipd restarted: refreshing the server lists pending=%zu",
                      rpc_client_pending (self->client));
            self->members_pending = self->dcs_pending = false;
            self->dcs = DCS_UNKNOWN;
            //  The old gossipd will never answer what it was sent.
            self->restarting = true;
            rpc_client_fail_all (self->client, RPC_UNAVAILABLE);
            self->restarting = false;
            self->refresh_at = 0;
        }
        self->boot_seen = true;
    }
    return self->ops - before;
}

void
fwd_gossip_expire (fwd_gossip_t *self)
{
    rpc_client_expire (self->client);
    if (time_mono_ms () >= self->refresh_at)
        s_refresh (self);
}

int64_t
fwd_gossip_next_timeout (fwd_gossip_t *self)
{
    int64_t now = time_mono_ms ();
    int64_t timeout = self->refresh_at > now ? self->refresh_at - now : 0;
    int64_t client = rpc_client_next_timeout (self->client);
    return client >= 0 && client < timeout ? client : timeout;
}

//  --------------------------------------------------------------------
//  Serving

cJSON *
fwd_gossip_datacenters (fwd_gossip_t *self)
{
    if (self->dcs == DCS_OFFERED && cJSON_GetArraySize (self->dc_names) > 0)
        return cJSON_Duplicate (self->dc_names, true);
    return fwd_routes_datacenters (self->routes);
}

uint64_t
fwd_gossip_send (fwd_gossip_t *self, const char *command, cJSON **body_p,
                 int64_t timeout_ms, rpc_client_fn *fn, void *arg)
{
    return rpc_client_send (self->client, command, body_p, timeout_ms, fn, arg);
}

void
fwd_gossip_cancel (fwd_gossip_t *self, uint64_t id)
{
    rpc_client_cancel (self->client, id);
}

bool
fwd_gossip_restarting (fwd_gossip_t *self)
{
    return self->restarting;
}
