/*  gossipd: the daemon object and its loop. Spec: docs/protocol/gossip.md
    ("Pools and transport", "Pool rules", "Events", "Local RPC"). */
#include "gossipd.h"
#include "crypto.h"
#include "keyring.h"
#include "log.h"
#include "pool.h"
#include "reconcile.h"
#include "rpc_server.h"
#include "service.h"
#include "signals.h"
#include "timeutil.h"
#include "version.h"

#include <czmq.h>
#include <malloc.h>

#define POLL_TIMEOUT_MAX_MS 1000
//  Memory freed after a reply or a push-pull (a members list of a large
//  pool, say) goes back to the system once requests have paused this long,
//  and every TRIM_INTERVAL_MS in any case (docs/build.md, "Memory").
#define TRIM_QUIET_MS       2000
#define TRIM_INTERVAL_MS    30000
#define TAGS_MAX            16

typedef struct {
    gossipd_t *owner;
    pool_t *pool;
    const char *label;                  //  "LAN" / "WAN"
    const char *const *addresses;
    size_t count;
    int64_t interval_ms;
    int64_t next_ms;
    bool running;
    bool done;
} retry_t;

typedef struct {
    gossipd_t *owner;
    char wan_name[PACKET_NAME_MAX + CONFIG_NAME_MAX + 2];
} flood_t;

struct _gossipd_t {
    config_t config;
    char keyring_path[CONFIG_PATH_MAX + 32];
    rpc_server_t *server;
    keyring_t *lan_keys;
    keyring_t *wan_keys;
    pool_t *lan;
    pool_t *wan;
    service_t *service;
    reconcile_t *reconcile;
    retry_t retry_lan;
    retry_t retry_wan;
    const char *retry_lan_list[CONFIG_JOIN_MAX];
    const char *retry_wan_list[CONFIG_JOIN_MAX];
    zhashx_t *flooding;                 //  WAN name -> flood_t (owned)
    int64_t next_flood_ms;
    int64_t last_trim_ms;
    int64_t last_request_ms;            //  since the last trim; 0 when none
    zmq_pollitem_t *items;
    size_t items_capacity;
};

//  --------------------------------------------------------------------
//  Tags and addresses

static void
s_tag (packet_tag_t *tags, size_t *count, const char *key, const char *value)
{
    snprintf (tags[*count].key, sizeof tags[*count].key, "%s", key);
    snprintf (tags[*count].value, sizeof tags[*count].value, "%s", value);
    (*count)++;
}

//  Our member tags (Consul's server_serf.go / client_serf.go).
static size_t
s_build_tags (const config_t *config, bool wan_pool, bool wan_enabled, packet_tag_t *tags)
{
    size_t count = 0;
    char number[32];
    s_tag (tags, &count, "role", config->server ? "consul" : "node");
    s_tag (tags, &count, "dc", config->datacenter);
    s_tag (tags, &count, "segment", "");
    s_tag (tags, &count, "id", config->node_id);
    snprintf (number, sizeof number, "%d", MERIDIAN_PROTOCOL);
    s_tag (tags, &count, "vsn", number);
    snprintf (number, sizeof number, "%d", MERIDIAN_PROTOCOL_MIN);
    s_tag (tags, &count, "vsn_min", number);
    snprintf (number, sizeof number, "%d", MERIDIAN_PROTOCOL_MAX);
    s_tag (tags, &count, "vsn_max", number);
    s_tag (tags, &count, "build", MERIDIAN_VERSION ":" MERIDIAN_REVISION);
    if (config->server) {
        snprintf (number, sizeof number, "%d", config->ports.server);
        s_tag (tags, &count, "port", number);
        s_tag (tags, &count, "raft_vsn", "3");
        if (config->bootstrap_expect > 0) {
            snprintf (number, sizeof number, "%d", config->bootstrap_expect);
            s_tag (tags, &count, "expect", number);
        }
        if (config->dev)
            s_tag (tags, &count, "bootstrap", "1");
        if (!wan_pool && wan_enabled) {
            snprintf (number, sizeof number, "%d", config->ports.serf_wan);
            s_tag (tags, &count, "wan_join_port", number);
        }
    }
    return count;
}

//  --------------------------------------------------------------------
//  Hooks

static void
s_flood_consider (gossipd_t *self, const member_t *member);

static void
s_on_event (void *arg, pool_t *pool, member_event_t event, const member_t *member)
{
    gossipd_t *self = (gossipd_t *) arg;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Pool", pool_name (pool));
    cJSON_AddItemToObject (body, "Member",
                           member_json (member, membership_status (pool_membership (pool), member)));
    rpc_server_publish (self->server, member_event_name (event), &body);
    if (pool == self->lan) {
        if (self->reconcile)
            reconcile_member (self->reconcile, event, member);
        if (event == MEMBER_EVENT_JOIN || event == MEMBER_EVENT_UPDATE)
            s_flood_consider (self, member);
    }
}

static void
s_on_keyring_changed (void *arg, pool_t *pool)
{
    gossipd_t *self = (gossipd_t *) arg;
    keyring_file_save (self->keyring_path, self->lan_keys, self->wan_keys);
}

//  --------------------------------------------------------------------
//  Flood join: a server WAN-joins the servers of its datacenter it learns
//  from the LAN pool (Consul agent/consul/flood.go).

static void
s_flood_done (void *arg, int joined, const char *error)
{
    flood_t *flood = (flood_t *) arg;
    gossipd_t *self = flood->owner;
    if (joined > 0)
        log_info ("flood join done node=%s", flood->wan_name);
    else
        log_debug ("flood join failed node=%s error=\"%s\"", flood->wan_name, error);
    zhashx_delete (self->flooding, flood->wan_name);       //  frees flood
}

static void
s_flood_consider (gossipd_t *self, const member_t *member)
{
    if (!self->wan || service_left (self->service) || member->state != MEMBER_ALIVE
        || member == membership_self (pool_membership (self->lan)))
        return;
    char role[32], dc[PACKET_TAG_VALUE_MAX + 1], port[16];
    if (strcmp (member_tag (member, "role", role, sizeof role), "consul") != 0
        || strcmp (member_tag (member, "dc", dc, sizeof dc), self->config.datacenter) != 0
        || !*member_tag (member, "wan_join_port", port, sizeof port))
        return;
    char *end = NULL;
    long port_number = strtol (port, &end, 10);
    if (*end || port_number <= 0 || port_number > 65535)
        return;
    flood_t *flood = (flood_t *) calloc (1, sizeof (flood_t));
    if (!flood)
        return;
    flood->owner = self;
    snprintf (flood->wan_name, sizeof flood->wan_name, "%s.%s", member->name,
              self->config.datacenter);
    if (strlen (flood->wan_name) > PACKET_NAME_MAX) {
        free (flood);
        return;
    }
    member_t *known = members_lookup (membership_members (pool_membership (self->wan)),
                                      flood->wan_name);
    if ((known && (known->state == MEMBER_ALIVE || known->state == MEMBER_SUSPECT))
        || zhashx_lookup (self->flooding, flood->wan_name)) {
        free (flood);
        return;
    }
    packet_addr_t addr = member->addr;
    addr.port = (uint16_t) port_number;
    char text[80];
    packet_addr_format (&addr, text, sizeof text);
    const char *addresses[1] = { text };
    zhashx_insert (self->flooding, flood->wan_name, flood);
    log_info ("flood joining a server of our datacenter to the WAN node=%s addr=%s",
              flood->wan_name, text);
    pool_join (self->wan, addresses, 1, s_flood_done, flood);
}

static int64_t
s_flood_tick (gossipd_t *self, int64_t now_ms)
{
    if (!self->wan)
        return INT64_MAX;
    if (now_ms >= self->next_flood_ms) {
        members_t *members = membership_members (pool_membership (self->lan));
        for (size_t i = 0; i < members_size (members); i++)
            s_flood_consider (self, members_at (members, i));
        self->next_flood_ms = now_ms + self->config.gossip_wan.push_pull_interval_ms;
    }
    return self->next_flood_ms;
}

//  --------------------------------------------------------------------
//  retry_join / retry_join_wan

static void
s_retry_done (void *arg, int joined, const char *error)
{
    retry_t *retry = (retry_t *) arg;
    retry->running = false;
    if (joined > 0) {
        retry->done = true;
        log_info ("(%s) retry join completed number_of_nodes=%d", retry->label, joined);
        return;
    }
    char interval[32];
    duration_format (retry->interval_ms, interval, sizeof interval);
    log_warn ("(%s) retry join failed, retrying in %s error=\"%s\"", retry->label, interval,
              error);
    retry->next_ms = time_mono_ms () + retry->interval_ms;
}

static int64_t
s_retry_tick (retry_t *retry, int64_t now_ms)
{
    if (!retry->pool || retry->count == 0 || retry->done)
        return INT64_MAX;
    if (service_left (retry->owner->service)) {
        retry->done = true;
        return INT64_MAX;
    }
    if (!retry->running && now_ms >= retry->next_ms) {
        retry->running = true;
        log_info ("(%s) retry join attempt addresses=%zu", retry->label, retry->count);
        pool_join (retry->pool, retry->addresses, retry->count, s_retry_done, retry);
    }
    return retry->running ? INT64_MAX : retry->next_ms;
}

//  --------------------------------------------------------------------
//  Lifecycle

static int
s_keyring_setup (gossipd_t *self)
{
    char err[256];
    snprintf (self->keyring_path, sizeof self->keyring_path, "%s/gossip/keyring",
              self->config.data_dir);
    int loaded = keyring_file_load (self->keyring_path, self->lan_keys, self->wan_keys,
                                    err, sizeof err);
    if (loaded < 0) {
        log_error ("bad keyring file path=%s error=\"%s\"", self->keyring_path, err);
        return -1;
    }
    uint8_t key[CRYPTO_KEY_MAX];
    size_t key_len = 0;
    bool have_encrypt = *self->config.encrypt
                        && crypto_key_decode (self->config.encrypt, key, &key_len) == 0;
    if (loaded == 1) {
        if (have_encrypt)
            log_warn ("keyring file exists; using it and ignoring the encrypt key path=%s",
                      self->keyring_path);
        return 0;
    }
    if (!have_encrypt)
        return 0;
    const char *error = NULL;
    if (keyring_install (self->lan_keys, key, key_len, &error) != 0
        || keyring_install (self->wan_keys, key, key_len, &error) != 0) {
        log_error ("bad encrypt key error=\"%s\"", error);
        return -1;
    }
    memset (key, 0, sizeof key);
    return keyring_file_save (self->keyring_path, self->lan_keys, self->wan_keys);
}

static pool_t *
s_pool_new (gossipd_t *self, bool wan)
{
    const config_t *config = &self->config;
    int port = wan ? config->ports.serf_wan : config->ports.serf_lan;
    pool_config_t pool_config;
    memset (&pool_config, 0, sizeof pool_config);
    char wan_name[PACKET_NAME_MAX + 1];
    snprintf (wan_name, sizeof wan_name, "%s.%s", config->node_name, config->datacenter);
    pool_config.pool = wan ? "wan" : "lan";
    pool_config.wan = wan;
    pool_config.name = wan ? wan_name : config->node_name;
    pool_config.datacenter = config->datacenter;
    pool_config.node_id = config->node_id;
    const char *advertise = wan ? config->advertise_addr_wan : config->advertise_addr;
    if (packet_addr_parse (config->bind_addr, (uint16_t) port, &pool_config.bind) != 0
        || packet_addr_parse (advertise, (uint16_t) port, &pool_config.advertise) != 0) {
        log_error ("bind and advertise addresses must be IPs bind=%s advertise=%s",
                   config->bind_addr, advertise);
        return NULL;
    }
    pool_config.bind.port = pool_config.advertise.port = (uint16_t) port;
    packet_tag_t tags[TAGS_MAX];
    pool_config.tags = tags;
    pool_config.tag_count = s_build_tags (config, wan, self->config.server
                                                       && config->ports.serf_wan > 0, tags);
    pool_config.timers = wan ? config->gossip_wan : config->gossip_lan;
    pool_config.reconnect_timeout_ms = wan ? config->reconnect_timeout_wan_ms
                                           : config->reconnect_timeout_ms;
    pool_hooks_t hooks = { s_on_event, s_on_keyring_changed, self };
    return pool_new (&pool_config, wan ? self->wan_keys : self->lan_keys, &hooks);
}

static void
s_flood_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

gossipd_t *
gossipd_new (const config_t *config)
{
    gossipd_t *self = (gossipd_t *) calloc (1, sizeof (gossipd_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->lan_keys = keyring_new ();
    self->wan_keys = keyring_new ();
    self->flooding = zhashx_new ();
    if (!self->lan_keys || !self->wan_keys || !self->flooding || s_keyring_setup (self) != 0) {
        gossipd_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->flooding, s_flood_free);
    self->server = rpc_server_new (config->data_dir, "gossipd");
    self->lan = self->server ? s_pool_new (self, false) : NULL;
    if (self->lan && config->server && config->ports.serf_wan > 0)
        self->wan = s_pool_new (self, true);
    if (!self->lan || (config->server && config->ports.serf_wan > 0 && !self->wan)) {
        gossipd_destroy (&self);
        return NULL;
    }
    self->service = service_new (&self->config, self->server, self->lan, self->wan);
    if (config->server)
        self->reconcile = reconcile_new (config->data_dir, config->datacenter,
                                         config->advertise_addr, self->lan);
    if (!self->service || (config->server && !self->reconcile)) {
        gossipd_destroy (&self);
        return NULL;
    }
    int64_t now = time_mono_ms ();
    for (int i = 0; i < self->config.retry_join_count; i++)
        self->retry_lan_list[i] = self->config.retry_join[i];
    for (int i = 0; i < self->config.retry_join_wan_count; i++)
        self->retry_wan_list[i] = self->config.retry_join_wan[i];
    self->retry_lan = (retry_t) { self, self->lan, "LAN", self->retry_lan_list,
                                  (size_t) self->config.retry_join_count,
                                  config->retry_interval_ms, now, false, false };
    self->retry_wan = (retry_t) { self, self->wan, "WAN", self->retry_wan_list,
                                  (size_t) self->config.retry_join_wan_count,
                                  config->retry_interval_wan_ms, now, false, false };
    if (self->config.retry_join_wan_count && !self->wan)
        log_warn ("retry_join_wan ignored: no WAN pool on this agent");
    self->next_flood_ms = now + config->gossip_wan.push_pull_interval_ms;
    return self;
}

void
gossipd_destroy (gossipd_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gossipd_t *self = *self_p;
    service_destroy (&self->service);
    reconcile_destroy (&self->reconcile);
    pool_destroy (&self->wan);
    pool_destroy (&self->lan);
    zhashx_destroy (&self->flooding);
    rpc_server_destroy (&self->server);
    keyring_destroy (&self->lan_keys);
    keyring_destroy (&self->wan_keys);
    free (self->items);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Loop

static zmq_pollitem_t *
s_items (gossipd_t *self, size_t needed)
{
    if (needed > self->items_capacity) {
        zmq_pollitem_t *items = (zmq_pollitem_t *) realloc (self->items,
                                                            needed * sizeof (zmq_pollitem_t));
        if (!items)
            return NULL;
        self->items = items;
        self->items_capacity = needed;
    }
    return self->items;
}

static int64_t
s_min (int64_t a, int64_t b)
{
    return a < b ? a : b;
}

//  Returns the free pages of the heap to the system (glibc keeps them
//  otherwise, below its trim threshold or between live chunks).
static int64_t
s_trim_tick (gossipd_t *self, int64_t now_ms)
{
    int64_t due = self->last_trim_ms + TRIM_INTERVAL_MS;
    if (self->last_request_ms)
        due = s_min (due, self->last_request_ms + TRIM_QUIET_MS);
    if (now_ms < due)
        return due;
    malloc_trim (0);
    self->last_trim_ms = now_ms;
    self->last_request_ms = 0;
    return now_ms + TRIM_INTERVAL_MS;
}

int
gossipd_run (gossipd_t *self)
{
    self->last_trim_ms = time_mono_ms ();
    log_info ("gossipd running node=%s datacenter=%s server=%s wan=%s", self->config.node_name,
              self->config.datacenter, self->config.server ? "true" : "false",
              self->wan ? "true" : "false");
    while (!signals_terminate_requested ()) {
        int64_t now = time_mono_ms ();
        int64_t next = now + rpc_server_tick (self->server);
        next = s_min (next, pool_tick (self->lan, now));
        if (self->wan)
            next = s_min (next, pool_tick (self->wan, now));
        if (self->reconcile)
            next = s_min (next, reconcile_tick (self->reconcile, now));
        next = s_min (next, s_retry_tick (&self->retry_lan, now));
        next = s_min (next, s_retry_tick (&self->retry_wan, now));
        next = s_min (next, s_flood_tick (self, now));
        next = s_min (next, s_trim_tick (self, now));

        size_t needed = 2 + pool_poll_size (self->lan) + (self->wan ? pool_poll_size (self->wan) : 0)
                        + (self->reconcile ? 2 : 0);
        zmq_pollitem_t *items = s_items (self, needed);
        if (!items) {
            log_error ("out of memory for poll items");
            return 1;
        }
        size_t count = 0;
        items[count++] = (zmq_pollitem_t) { NULL, signals_fd (), ZMQ_POLLIN, 0 };
        items[count++] = (zmq_pollitem_t) { NULL, rpc_server_fd (self->server), ZMQ_POLLIN, 0 };
        size_t lan_at = count;
        size_t lan_count = pool_poll_fill (self->lan, items + count, needed - count);
        count += lan_count;
        size_t wan_at = count, wan_count = 0;
        if (self->wan) {
            wan_count = pool_poll_fill (self->wan, items + count, needed - count);
            count += wan_count;
        }
        if (self->reconcile)
            count += reconcile_poll_fill (self->reconcile, items + count, needed - count);

        int64_t timeout = next - time_mono_ms ();
        if (timeout < 0)
            timeout = 0;
        if (timeout > POLL_TIMEOUT_MAX_MS)
            timeout = POLL_TIMEOUT_MAX_MS;
        if (zmq_poll (items, (int) count, (long) timeout) < 0 && zmq_errno () != EINTR) {
            log_error ("poll failed error=\"%s\"", zmq_strerror (zmq_errno ()));
            return 1;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            signals_drain ();
            if (signals_reload_take ())
                log_info ("SIGHUP received: gossipd has nothing to reload");
        }
        //  Network input first, so an ack that arrived is seen before the
        //  timer that would give up on it.
        pool_process (self->lan, items + lan_at, lan_count);
        if (self->wan)
            pool_process (self->wan, items + wan_at, wan_count);
        if (self->reconcile)
            reconcile_process (self->reconcile);
        rpc_request_t *request;
        bool handled = false;
        while ((request = rpc_server_recv (self->server))) {
            service_handle (self->service, &request);
            handled = true;
        }
        if (handled)
            self->last_request_ms = time_mono_ms ();
    }
    log_info ("terminating without leaving the pools (leave_on_terminate=false)");
    return 0;
}
