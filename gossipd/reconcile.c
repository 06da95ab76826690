/*  reconcile: serfHealth reflection of the LAN pool into the catalog.
    Spec: docs/protocol/gossip.md, "Catalog reflection". */
#include "reconcile.h"
#include "log.h"
#include "rpc_client.h"
#include "rpc_sub.h"
#include "timeutil.h"

#define WRITE_TIMEOUT_MS 10000
#define READ_TIMEOUT_MS  10000

typedef enum { RESYNC_IDLE, RESYNC_NODES, RESYNC_SERVERS, RESYNC_CHECKS } resync_state_t;

typedef struct {
    reconcile_t *owner;
    char node[PACKET_NAME_MAX + 1];
    bool deregister;
    cJSON *body;
} write_t;

struct _reconcile_t {
    pool_t *lan;
    char datacenter[CONFIG_NAME_MAX];
    char advertise[CONFIG_ADDR_MAX];
    rpc_client_t *client;
    rpc_sub_t *sub;
    bool leader;
    bool leader_query_pending;
    int64_t next_leader_check_ms;
    int64_t next_resync_ms;     //  0 = as soon as we are the leader
    resync_state_t resync;
    cJSON *catalog_nodes;       //  catalog.nodes Result during a resync
    cJSON *catalog_servers;     //  catalog.service consul Result, likewise
    zlist_t *queue;             //  write_t * to send
    zlist_t *in_flight;         //  write_t * sent
};

static void
s_write_free (write_t **write_p)
{
    cJSON_Delete ((*write_p)->body);
    free (*write_p);
    *write_p = NULL;
}

reconcile_t *
reconcile_new (const char *data_dir, const char *datacenter, const char *advertise_addr,
               pool_t *lan)
{
    reconcile_t *self = (reconcile_t *) calloc (1, sizeof (reconcile_t));
    if (!self)
        return NULL;
    self->lan = lan;
    snprintf (self->datacenter, sizeof self->datacenter, "%s", datacenter);
    snprintf (self->advertise, sizeof self->advertise, "%s", advertise_addr);
    self->client = rpc_client_new (data_dir, "catalogd");
    self->sub = rpc_sub_new (data_dir, "catalogd");
    self->queue = zlist_new ();
    self->in_flight = zlist_new ();
    if (!self->client || !self->sub || !self->queue || !self->in_flight) {
        reconcile_destroy (&self);
        return NULL;
    }
    return self;
}

static void
s_clear (zlist_t *list)
{
    write_t *write;
    while ((write = (write_t *) zlist_pop (list)))
        s_write_free (&write);
}

void
reconcile_destroy (reconcile_t **self_p)
{
    if (self_p && *self_p) {
        reconcile_t *self = *self_p;
        rpc_client_destroy (&self->client);
        rpc_sub_destroy (&self->sub);
        if (self->queue)
            s_clear (self->queue);
        if (self->in_flight)
            s_clear (self->in_flight);
        zlist_destroy (&self->queue);
        zlist_destroy (&self->in_flight);
        cJSON_Delete (self->catalog_nodes);
        cJSON_Delete (self->catalog_servers);
        free (self);
        *self_p = NULL;
    }
}

bool
reconcile_leader (reconcile_t *self)
{
    return self->leader;
}

size_t
reconcile_poll_fill (reconcile_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t count = 0;
    if (count < max)
        items[count++] = (zmq_pollitem_t) { NULL, rpc_client_fd (self->client), ZMQ_POLLIN, 0 };
    if (count < max)
        items[count++] = (zmq_pollitem_t) { NULL, rpc_sub_fd (self->sub), ZMQ_POLLIN, 0 };
    return count;
}

cJSON *
reconcile_register_body (const char *datacenter, const member_t *member, bool passing)
{
    char ip[64], id[PACKET_TAG_VALUE_MAX + 1];
    packet_addr_ip (&member->addr, ip, sizeof ip);
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Datacenter", datacenter);
    cJSON_AddStringToObject (body, "Node", member->name);
    if (*member_tag (member, "id", id, sizeof id))
        cJSON_AddStringToObject (body, "ID", id);
    cJSON_AddStringToObject (body, "Address", ip);
    //  An existing node keeps what its agent's anti-entropy wrote
    //  (TaggedAddresses, Meta, a changed address); a new one is created.
    cJSON_AddBoolToObject (body, "SkipNodeUpdate", true);
    cJSON *check = cJSON_AddObjectToObject (body, "Check");
    cJSON_AddStringToObject (check, "Node", member->name);
    cJSON_AddStringToObject (check, "CheckID", "serfHealth");
    cJSON_AddStringToObject (check, "Name", "Serf Health Status");
    cJSON_AddStringToObject (check, "Status", passing ? "passing" : "critical");
    cJSON_AddStringToObject (check, "Output", passing ? "Agent alive and reachable"
                                                      : "Agent not live or unreachable");
    //  Servers carry Consul's "consul" service (its leader registers it).
    char role[16], port[16], build[PACKET_TAG_VALUE_MAX + 1];
    if (strcmp (member_tag (member, "role", role, sizeof role), "consul") == 0
    &&  atoi (member_tag (member, "port", port, sizeof port)) > 0) {
        cJSON *service = cJSON_AddObjectToObject (body, "Service");
        cJSON_AddStringToObject (service, "ID", "consul");
        cJSON_AddStringToObject (service, "Service", "consul");
        cJSON_AddNumberToObject (service, "Port", atoi (port));
        cJSON *weights = cJSON_AddObjectToObject (service, "Weights");
        cJSON_AddNumberToObject (weights, "Passing", 1);
        cJSON_AddNumberToObject (weights, "Warning", 1);
        cJSON *meta = cJSON_AddObjectToObject (service, "Meta");
        cJSON_AddStringToObject (meta, "non_voter", "false");
        cJSON_AddStringToObject (meta, "read_replica", "false");
        cJSON_AddStringToObject (meta, "raft_version", "3");
        cJSON_AddStringToObject (meta, "serf_protocol_current", "2");
        cJSON_AddStringToObject (meta, "serf_protocol_min", "1");
        cJSON_AddStringToObject (meta, "serf_protocol_max", "5");
        member_tag (member, "build", build, sizeof build);
        char *colon = strchr (build, ':');
        if (colon)
            *colon = '\0';
        cJSON_AddStringToObject (meta, "version", build);
    }
    return body;
}

//  Queues a write, replacing one still queued for the same node.
static void
s_enqueue (reconcile_t *self, const char *node, bool deregister, cJSON *body)
{
    write_t *write = (write_t *) zlist_first (self->queue);
    while (write) {
        if (strcmp (write->node, node) == 0) {
            zlist_remove (self->queue, write);
            s_write_free (&write);
            break;
        }
        write = (write_t *) zlist_next (self->queue);
    }
    write = (write_t *) calloc (1, sizeof (write_t));
    if (!write) {
        cJSON_Delete (body);
        return;
    }
    write->owner = self;
    snprintf (write->node, sizeof write->node, "%s", node);
    write->deregister = deregister;
    write->body = body;
    zlist_append (self->queue, write);
}

static void
s_enqueue_deregister (reconcile_t *self, const char *node)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Datacenter", self->datacenter);
    cJSON_AddStringToObject (body, "Node", node);
    s_enqueue (self, node, true, body);
}

void
reconcile_member (reconcile_t *self, member_event_t event, const member_t *member)
{
    if (!self->leader)
        return;
    switch (event) {
        case MEMBER_EVENT_JOIN:
        case MEMBER_EVENT_UPDATE:
            if (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT)
                s_enqueue (self, member->name, false,
                           reconcile_register_body (self->datacenter, member, true));
            break;
        case MEMBER_EVENT_FAILED:
            s_enqueue (self, member->name, false,
                       reconcile_register_body (self->datacenter, member, false));
            break;
        case MEMBER_EVENT_LEAVE:
        case MEMBER_EVENT_REAP:
            s_enqueue_deregister (self, member->name);
            break;
        default:
            break;
    }
}

//  Something failed: resync soon (not at once, catalogd may be down).
static void
s_schedule_retry (reconcile_t *self)
{
    int64_t retry = time_mono_ms () + RECONCILE_RETRY_MS;
    if (self->next_resync_ms > retry)
        self->next_resync_ms = retry;
}

static void
s_on_write (void *arg, int status, envelope_t *reply)
{
    write_t *write = (write_t *) arg;
    reconcile_t *self = write->owner;
    zlist_remove (self->in_flight, write);
    if (status != RPC_OK || reply->type != ENVELOPE_REP) {
        cJSON *error = reply ? cJSON_GetObjectItemCaseSensitive (reply->body, "Error") : NULL;
        log_warn ("catalog write failed node=%s command=%s error=\"%s\"", write->node,
                  write->deregister ? "catalog.deregister" : "catalog.register",
                  cJSON_IsString (error) ? error->valuestring
                  : status == RPC_TIMEOUT ? "timeout" : "catalogd unavailable");
        s_schedule_retry (self);
    }
    else
        log_debug ("catalog write done node=%s deregister=%d", write->node, write->deregister);
    s_write_free (&write);
}

static void
s_send_writes (reconcile_t *self)
{
    while (zlist_size (self->in_flight) < RECONCILE_IN_FLIGHT && zlist_size (self->queue)) {
        write_t *write = (write_t *) zlist_pop (self->queue);
        cJSON *body = write->body;
        write->body = NULL;
        zlist_append (self->in_flight, write);
        rpc_client_send (self->client,
                         write->deregister ? "catalog.deregister" : "catalog.register",
                         &body, WRITE_TIMEOUT_MS, s_on_write, write);
    }
}

//  The host part of "addr:port" or "[v6]:port".
static void
s_host_of (const char *text, char *host, size_t size)
{
    snprintf (host, size, "%s", text[0] == '[' ? text + 1 : text);
    char *end = text[0] == '[' ? strchr (host, ']') : strrchr (host, ':');
    if (end)
        *end = '\0';
}

static void
s_on_leader (void *arg, int status, envelope_t *reply)
{
    reconcile_t *self = (reconcile_t *) arg;
    self->leader_query_pending = false;
    bool leader = false;
    if (status == RPC_OK && reply->type == ENVELOPE_REP) {
        cJSON *result = cJSON_GetObjectItemCaseSensitive (reply->body, "Result");
        if (cJSON_IsString (result) && *result->valuestring) {
            char host[CONFIG_ADDR_MAX + 8];
            s_host_of (result->valuestring, host, sizeof host);
            leader = strcmp (host, self->advertise) == 0;
        }
    }
    if (leader && !self->leader) {
        log_info ("catalog reflection active: this server is the raft leader");
        self->next_resync_ms = 0;
    }
    else if (!leader && self->leader) {
        log_info ("catalog reflection paused: this server is not the raft leader");
        s_clear (self->queue);
    }
    self->leader = leader;
}

static bool
s_same_ip (const char *text, const member_t *member)
{
    char ip[64];
    packet_addr_ip (&member->addr, ip, sizeof ip);
    return text && strcmp (text, ip) == 0;
}

//  A server member's consul service is in the catalog with its port; a
//  client member needs none.
static bool
s_server_same (const member_t *member, const cJSON *entry)
{
    char role[16], port[16];
    if (strcmp (member_tag (member, "role", role, sizeof role), "consul") != 0
    ||  atoi (member_tag (member, "port", port, sizeof port)) <= 0)
        return true;
    const cJSON *have = entry ? cJSON_GetObjectItemCaseSensitive (entry, "ServicePort") : NULL;
    return cJSON_IsNumber (have) && (int) have->valuedouble == atoi (port);
}

//  Compares the catalog (nodes and serfHealth checks) with the LAN pool
//  and queues the writes that make them agree.
static void
s_compute (reconcile_t *self, cJSON *checks)
{
    zhashx_t *status = zhashx_new ();       //  node -> serfHealth status
    zhashx_t *nodes = zhashx_new ();        //  node -> catalog node JSON
    zhashx_t *servers = zhashx_new ();      //  node -> its consul service entry
    cJSON *item;
    cJSON_ArrayForEach (item, checks) {
        cJSON *check_id = cJSON_GetObjectItemCaseSensitive (item, "CheckID");
        cJSON *node = cJSON_GetObjectItemCaseSensitive (item, "Node");
        cJSON *state = cJSON_GetObjectItemCaseSensitive (item, "Status");
        if (cJSON_IsString (check_id) && strcmp (check_id->valuestring, "serfHealth") == 0
            && cJSON_IsString (node) && cJSON_IsString (state))
            zhashx_update (status, node->valuestring, state->valuestring);
    }
    cJSON_ArrayForEach (item, self->catalog_nodes) {
        cJSON *node = cJSON_GetObjectItemCaseSensitive (item, "Node");
        if (cJSON_IsString (node))
            zhashx_update (nodes, node->valuestring, item);
    }
    cJSON_ArrayForEach (item, self->catalog_servers) {
        cJSON *node = cJSON_GetObjectItemCaseSensitive (item, "Node");
        if (cJSON_IsString (node))
            zhashx_update (servers, node->valuestring, item);
    }
    members_t *members = membership_members (pool_membership (self->lan));
    size_t writes = 0;
    for (size_t i = 0; i < members_size (members); i++) {
        member_t *member = members_at (members, i);
        cJSON *node = (cJSON *) zhashx_lookup (nodes, member->name);
        const char *have = (const char *) zhashx_lookup (status, member->name);
        if (member->state == MEMBER_LEFT) {
            if (node) {
                s_enqueue_deregister (self, member->name);
                writes++;
            }
            continue;
        }
        bool passing = member->state != MEMBER_DEAD;
        char id[PACKET_TAG_VALUE_MAX + 1];
        cJSON *address = node ? cJSON_GetObjectItemCaseSensitive (node, "Address") : NULL;
        cJSON *node_id = node ? cJSON_GetObjectItemCaseSensitive (node, "ID") : NULL;
        bool same = node && have && strcmp (have, passing ? "passing" : "critical") == 0
                    && cJSON_IsString (address) && s_same_ip (address->valuestring, member)
                    && (!*member_tag (member, "id", id, sizeof id)
                        || (cJSON_IsString (node_id) && strcasecmp (node_id->valuestring, id) == 0));
        if (same && !s_server_same (member, zhashx_lookup (servers, member->name)))
            same = false;
        if (!same) {
            s_enqueue (self, member->name, false,
                       reconcile_register_body (self->datacenter, member, passing));
            writes++;
        }
    }
    //  Catalog nodes with a serfHealth check that are no member any more
    //  were reaped while nobody reconciled.
    for (const char *state = (const char *) zhashx_first (status); state;
         state = (const char *) zhashx_next (status)) {
        const char *name = (const char *) zhashx_cursor (status);
        if (!members_lookup (members, name)) {
            s_enqueue_deregister (self, name);
            writes++;
        }
    }
    log_info ("catalog resync done writes=%zu members=%zu", writes, members_size (members));
    zhashx_destroy (&status);
    zhashx_destroy (&nodes);
    zhashx_destroy (&servers);
}

static void
s_on_checks (void *arg, int status, envelope_t *reply)
{
    reconcile_t *self = (reconcile_t *) arg;
    self->resync = RESYNC_IDLE;
    cJSON *result = status == RPC_OK && reply->type == ENVELOPE_REP
                    ? cJSON_GetObjectItemCaseSensitive (reply->body, "Result") : NULL;
    if (cJSON_IsArray (result) && self->leader)
        s_compute (self, result);
    else if (self->leader)
        s_schedule_retry (self);
    cJSON_Delete (self->catalog_nodes);
    self->catalog_nodes = NULL;
    cJSON_Delete (self->catalog_servers);
    self->catalog_servers = NULL;
}

static void
s_on_servers (void *arg, int status, envelope_t *reply)
{
    reconcile_t *self = (reconcile_t *) arg;
    cJSON *result = status == RPC_OK && reply->type == ENVELOPE_REP
                    ? cJSON_GetObjectItemCaseSensitive (reply->body, "Result") : NULL;
    if (!cJSON_IsArray (result)) {
        self->resync = RESYNC_IDLE;
        cJSON_Delete (self->catalog_nodes);
        self->catalog_nodes = NULL;
        s_schedule_retry (self);
        return;
    }
    cJSON_Delete (self->catalog_servers);
    self->catalog_servers = cJSON_DetachItemViaPointer (reply->body, result);
    self->resync = RESYNC_CHECKS;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "State", "any");
    rpc_client_send (self->client, "health.state", &body, READ_TIMEOUT_MS, s_on_checks, self);
}

static void
s_on_nodes (void *arg, int status, envelope_t *reply)
{
    reconcile_t *self = (reconcile_t *) arg;
    cJSON *result = status == RPC_OK && reply->type == ENVELOPE_REP
                    ? cJSON_GetObjectItemCaseSensitive (reply->body, "Result") : NULL;
    if (!cJSON_IsArray (result)) {
        self->resync = RESYNC_IDLE;
        s_schedule_retry (self);
        return;
    }
    cJSON_Delete (self->catalog_nodes);
    self->catalog_nodes = cJSON_DetachItemViaPointer (reply->body, result);
    self->resync = RESYNC_SERVERS;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "ServiceName", "consul");
    rpc_client_send (self->client, "catalog.service", &body, READ_TIMEOUT_MS, s_on_servers,
                     self);
}

void
reconcile_process (reconcile_t *self)
{
    rpc_client_process (self->client);
    envelope_t *event;
    while ((event = rpc_sub_recv (self->sub)))
        envelope_destroy (&event);
    if (rpc_sub_restarted_take (self->sub)) {
        log_info ("catalogd (re)started: checking leadership and resyncing the catalog");
        self->next_leader_check_ms = 0;
        self->next_resync_ms = 0;
    }
}

int64_t
reconcile_tick (reconcile_t *self, int64_t now_ms)
{
    rpc_client_expire (self->client);
    if (!self->leader_query_pending && now_ms >= self->next_leader_check_ms) {
        self->leader_query_pending = true;
        self->next_leader_check_ms = now_ms + RECONCILE_LEADER_CHECK_MS;
        cJSON *body = cJSON_CreateObject ();
        rpc_client_send (self->client, "status.leader", &body, READ_TIMEOUT_MS, s_on_leader, self);
    }
    if (self->leader && self->resync == RESYNC_IDLE && now_ms >= self->next_resync_ms) {
        self->next_resync_ms = now_ms + RECONCILE_INTERVAL_MS;
        self->resync = RESYNC_NODES;
        cJSON *body = cJSON_CreateObject ();
        rpc_client_send (self->client, "catalog.nodes", &body, READ_TIMEOUT_MS, s_on_nodes, self);
    }
    if (self->leader)
        s_send_writes (self);
    int64_t next = self->next_leader_check_ms;
    if (self->leader && self->next_resync_ms < next)
        next = self->next_resync_ms;
    int64_t client_next = rpc_client_next_timeout (self->client);
    if (client_next >= 0 && now_ms + client_next < next)
        next = now_ms + client_next;
    return next;
}
