/*  service: gossipd's local RPC commands. Spec: docs/protocol/gossip.md,
    "Local RPC". Every field is type-checked; a bad body gets ERR 400 and
    changes nothing. */
#include "service.h"
#include "crypto.h"
#include "log.h"

#include <math.h>

typedef enum { PENDING_JOIN, PENDING_LEAVE, PENDING_KEYRING } pending_kind_t;

typedef struct {
    service_t *service;
    pending_kind_t kind;
    rpc_request_t *request;
    bool wan;
    int waiting;                //  leave: pools still leaving
    int op;                     //  keyring
    uint8_t key[CRYPTO_KEY_MAX];
    size_t key_len;
    cJSON *results;             //  keyring: one response per pool
    pool_t *next_pool;          //  keyring: LAN after WAN
} pending_t;

struct _service_t {
    const config_t *config;
    rpc_server_t *server;
    pool_t *lan;
    pool_t *wan;
    zlist_t *pending;           //  pending_t * waiting for pools
    bool left;
};

service_t *
service_new (const config_t *config, rpc_server_t *server, pool_t *lan, pool_t *wan)
{
    service_t *self = (service_t *) calloc (1, sizeof (service_t));
    if (!self)
        return NULL;
    self->config = config;
    self->server = server;
    self->lan = lan;
    self->wan = wan;
    self->pending = zlist_new ();
    if (!self->pending) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_pending_free (pending_t **pending_p)
{
    pending_t *pending = *pending_p;
    rpc_request_destroy (&pending->request);
    cJSON_Delete (pending->results);
    memset (pending->key, 0, sizeof pending->key);
    free (pending);
    *pending_p = NULL;
}

void
service_destroy (service_t **self_p)
{
    if (self_p && *self_p) {
        service_t *self = *self_p;
        pending_t *pending;
        while ((pending = (pending_t *) zlist_pop (self->pending)))
            s_pending_free (&pending);
        zlist_destroy (&self->pending);
        free (self);
        *self_p = NULL;
    }
}

bool
service_left (service_t *self)
{
    return self->left;
}

static pending_t *
s_pending_new (service_t *self, pending_kind_t kind, rpc_request_t **request_p)
{
    pending_t *pending = (pending_t *) calloc (1, sizeof (pending_t));
    if (!pending)
        return NULL;
    pending->service = self;
    pending->kind = kind;
    pending->request = *request_p;
    *request_p = NULL;
    zlist_append (self->pending, pending);
    return pending;
}

static void
s_pending_done (pending_t *pending)
{
    zlist_remove (pending->service->pending, pending);
    s_pending_free (&pending);
}

//  --------------------------------------------------------------------
//  Body checks

//  Reads an optional boolean field. Returns 0, or -1 (400 sent).
static int
s_get_bool (service_t *self, rpc_request_t **request_p, const char *name, bool *value)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive (rpc_request_body (*request_p), name);
    *value = false;
    if (!item || cJSON_IsNull (item))
        return 0;
    if (!cJSON_IsBool (item)) {
        rpc_server_error (self->server, request_p, 400, "%s: must be a boolean", name);
        return -1;
    }
    *value = cJSON_IsTrue (item);
    return 0;
}

static pool_t *
s_pool (service_t *self, bool wan)
{
    return wan ? self->wan : self->lan;
}

//  --------------------------------------------------------------------
//  members, self, stats

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp ((*(member_t *const *) a)->name, (*(member_t *const *) b)->name);
}

//  Members sorted by name, left ones too when with_left. Caller frees.
static member_t **
s_sorted_members (pool_t *pool, bool with_left, size_t *count)
{
    members_t *members = membership_members (pool_membership (pool));
    size_t total = members_size (members);
    member_t **list = (member_t **) malloc ((total ? total : 1) * sizeof (member_t *));
    *count = 0;
    if (!list)
        return NULL;
    for (size_t i = 0; i < total; i++) {
        member_t *member = members_at (members, i);
        if (with_left || member->state != MEMBER_LEFT)
            list[(*count)++] = member;
    }
    qsort (list, *count, sizeof (member_t *), s_compare_names);
    return list;
}

static void
s_members (service_t *self, rpc_request_t **request_p)
{
    bool wan;
    if (s_get_bool (self, request_p, "WAN", &wan) != 0)
        return;
    pool_t *pool = s_pool (self, wan);
    cJSON *result = cJSON_CreateArray ();
    size_t count = 0;
    member_t **list = pool ? s_sorted_members (pool, true, &count) : NULL;
    for (size_t i = 0; list && i < count; i++)
        cJSON_AddItemToArray (result, member_json (list[i], membership_status (
                                                                pool_membership (pool), list[i])));
    free (list);
    rpc_server_reply (self->server, request_p, &result);
}

static cJSON *
s_coord_json (pool_t *pool, const member_t *member)
{
    if (member == membership_self (pool_membership (pool)))
        return vivaldi_coord_json (vivaldi_coord (pool_vivaldi (pool)));
    return member->has_coord ? vivaldi_coord_json (&member->coord) : NULL;
}

static void
s_self (service_t *self, rpc_request_t **request_p)
{
    membership_t *membership = pool_membership (self->lan);
    member_t *me = membership_self (membership);
    cJSON *result = cJSON_CreateObject ();
    cJSON_AddItemToObject (result, "Member", member_json (me, membership_status (membership, me)));
    cJSON_AddItemToObject (result, "Coord", s_coord_json (self->lan, me));
    rpc_server_reply (self->server, request_p, &result);
}

static void
s_stats (service_t *self, rpc_request_t **request_p)
{
    cJSON *result = cJSON_CreateObject ();
    cJSON_AddItemToObject (result, "lan", pool_stats_json (self->lan));
    if (self->wan)
        cJSON_AddItemToObject (result, "wan", pool_stats_json (self->wan));
    cJSON_AddNumberToObject (result, "RpcMalformed", (double) rpc_server_malformed (self->server));
    rpc_server_reply (self->server, request_p, &result);
}

//  --------------------------------------------------------------------
//  join, leave, force-leave

static void
s_join_done (void *arg, int joined, const char *error)
{
    pending_t *pending = (pending_t *) arg;
    service_t *self = pending->service;
    if (joined > 0) {
        log_info ("%sjoined number_of_nodes=%d", pending->wan ? "(WAN) " : "(LAN) ", joined);
        cJSON *result = cJSON_CreateObject ();
        cJSON_AddNumberToObject (result, "Joined", joined);
        rpc_server_reply (self->server, &pending->request, &result);
    }
    else
        rpc_server_error (self->server, &pending->request, 500, "%s",
                          *error ? error : "no address given");
    s_pending_done (pending);
}

static void
s_join (service_t *self, rpc_request_t **request_p)
{
    bool wan;
    if (s_get_bool (self, request_p, "WAN", &wan) != 0)
        return;
    cJSON *list = cJSON_GetObjectItemCaseSensitive (rpc_request_body (*request_p), "Addresses");
    int count = cJSON_IsArray (list) ? cJSON_GetArraySize (list) : 0;
    cJSON *item;
    bool valid = count > 0 && count <= 256;
    cJSON_ArrayForEach (item, list)
        if (!cJSON_IsString (item) || !*item->valuestring)
            valid = false;
    if (!valid) {
        rpc_server_error (self->server, request_p, 400,
                          "Addresses: must be a non-empty array of strings (at most 256)");
        return;
    }
    if (wan && !self->config->server) {
        rpc_server_error (self->server, request_p, 500, "Must be a server to join WAN cluster");
        return;
    }
    if (wan && !self->wan) {
        rpc_server_error (self->server, request_p, 500,
                          "WAN pool is disabled (ports.serf_wan is -1)");
        return;
    }
    if (self->left) {
        rpc_server_error (self->server, request_p, 500,
                          "Agent has left the cluster; restart it to join again");
        return;
    }
    const char *addresses[256];
    int n = 0;
    cJSON_ArrayForEach (item, list)
        addresses[n++] = item->valuestring;
    pending_t *pending = s_pending_new (self, PENDING_JOIN, request_p);
    if (!pending) {
        rpc_server_error (self->server, request_p, 500, "out of memory");
        return;
    }
    pending->wan = wan;
    log_info ("%sjoining addresses=%d", wan ? "(WAN) " : "(LAN) ", n);
    pool_join (s_pool (self, wan), addresses, (size_t) n, s_join_done, pending);
}

static void
s_leave_done (void *arg)
{
    pending_t *pending = (pending_t *) arg;
    if (--pending->waiting > 0)
        return;
    service_t *self = pending->service;
    self->left = true;
    log_info ("graceful leave complete; staying up in the left state until SIGTERM");
    cJSON *result = cJSON_CreateObject ();
    rpc_server_reply (self->server, &pending->request, &result);
    s_pending_done (pending);
}

static void
s_leave (service_t *self, rpc_request_t **request_p)
{
    if (self->left) {
        cJSON *result = cJSON_CreateObject ();
        rpc_server_reply (self->server, request_p, &result);
        return;
    }
    for (pending_t *other = (pending_t *) zlist_first (self->pending); other;
         other = (pending_t *) zlist_next (self->pending))
        if (other->kind == PENDING_LEAVE) {
            rpc_server_error (self->server, request_p, 409, "A leave is already in progress");
            return;
        }
    pending_t *pending = s_pending_new (self, PENDING_LEAVE, request_p);
    if (!pending) {
        rpc_server_error (self->server, request_p, 500, "out of memory");
        return;
    }
    log_info ("graceful leave requested");
    pending->waiting = self->wan ? 2 : 1;
    if (self->wan)
        pool_leave (self->wan, s_leave_done, pending);
    pool_leave (self->lan, s_leave_done, pending);
}

static void
s_force_leave (service_t *self, rpc_request_t **request_p)
{
    bool prune, wan;
    if (s_get_bool (self, request_p, "Prune", &prune) != 0
        || s_get_bool (self, request_p, "WAN", &wan) != 0)
        return;
    cJSON *node = cJSON_GetObjectItemCaseSensitive (rpc_request_body (*request_p), "Node");
    if (!cJSON_IsString (node) || !*node->valuestring
        || strlen (node->valuestring) > PACKET_NAME_MAX) {
        rpc_server_error (self->server, request_p, 400, "Node: must be a non-empty string");
        return;
    }
    pool_t *pool = s_pool (self, wan);
    if (!pool) {
        rpc_server_error (self->server, request_p, 500, "No WAN pool on this agent");
        return;
    }
    log_info ("force leaving node pool=%s node=%s prune=%s", pool_name (pool),
              node->valuestring, prune ? "true" : "false");
    if (pool_force_leave (pool, node->valuestring, prune) != 0) {
        rpc_server_error (self->server, request_p, 500, "agent: No node found with name '%s'",
                          node->valuestring);
        return;
    }
    cJSON *result = cJSON_CreateObject ();
    rpc_server_reply (self->server, request_p, &result);
}

//  --------------------------------------------------------------------
//  Coordinates and datacenters

static void
s_coordinate_nodes (service_t *self, rpc_request_t **request_p)
{
    size_t count = 0;
    member_t **list = s_sorted_members (self->lan, false, &count);
    cJSON *result = cJSON_CreateArray ();
    for (size_t i = 0; list && i < count; i++) {
        cJSON *coord = s_coord_json (self->lan, list[i]);
        if (!coord)
            continue;
        cJSON *entry = cJSON_CreateObject ();
        cJSON_AddStringToObject (entry, "Node", list[i]->name);
        cJSON_AddStringToObject (entry, "Segment", "");
        cJSON_AddItemToObject (entry, "Coord", coord);
        cJSON_AddItemToArray (result, entry);
    }
    free (list);
    rpc_server_reply (self->server, request_p, &result);
}

//  The datacenter of a WAN member (its dc tag) into buf.
static const char *
s_member_dc (const member_t *member, char *buf, size_t size)
{
    return member_tag (member, "dc", buf, size);
}

static void
s_coordinate_datacenters (service_t *self, rpc_request_t **request_p)
{
    cJSON *result = cJSON_CreateArray ();
    size_t count = 0;
    member_t **list = self->wan ? s_sorted_members (self->wan, false, &count) : NULL;
    //  One entry per datacenter, in name order.
    zlistx_t *names = zlistx_new ();
    zlistx_set_duplicator (names, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor (names, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    for (size_t i = 0; i < count; i++) {
        char dc[PACKET_TAG_VALUE_MAX + 1];
        s_member_dc (list[i], dc, sizeof dc);
        if (*dc && !zlistx_find (names, dc))
            zlistx_add_end (names, dc);
    }
    zlistx_sort (names);
    for (const char *dc = (const char *) zlistx_first (names); dc;
         dc = (const char *) zlistx_next (names)) {
        cJSON *entry = cJSON_CreateObject ();
        cJSON_AddStringToObject (entry, "Datacenter", dc);
        cJSON_AddStringToObject (entry, "AreaID", "wan");
        cJSON *coords = cJSON_AddArrayToObject (entry, "Coordinates");
        for (size_t i = 0; i < count; i++) {
            char member_dc[PACKET_TAG_VALUE_MAX + 1];
            cJSON *coord = strcmp (s_member_dc (list[i], member_dc, sizeof member_dc), dc) == 0
                           ? s_coord_json (self->wan, list[i]) : NULL;
            if (!coord)
                continue;
            cJSON *node = cJSON_CreateObject ();
            cJSON_AddStringToObject (node, "Node", list[i]->name);
            cJSON_AddItemToObject (node, "Coord", coord);
            cJSON_AddItemToArray (coords, node);
        }
        cJSON_AddItemToArray (result, entry);
    }
    zlistx_destroy (&names);
    free (list);
    rpc_server_reply (self->server, request_p, &result);
}

static int
s_compare_dc (const void *a, const void *b)
{
    const service_dc_t *x = (const service_dc_t *) a, *y = (const service_dc_t *) b;
    if (x->rtt != y->rtt) {
        if (isinf (x->rtt) != isinf (y->rtt))
            return isinf (x->rtt) ? 1 : -1;
        if (x->rtt < y->rtt)
            return -1;
        if (x->rtt > y->rtt)
            return 1;
    }
    return strcmp (x->name, y->name);
}

void
service_dc_sort (service_dc_t *dcs, size_t count, const char *local)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (dcs[i].name, local) == 0)
            dcs[i].rtt = 0.0;
    qsort (dcs, count, sizeof (service_dc_t), s_compare_dc);
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static void
s_datacenters (service_t *self, rpc_request_t **request_p)
{
    cJSON *result = cJSON_CreateArray ();
    if (!self->wan) {
        cJSON_AddItemToArray (result, cJSON_CreateString (self->config->datacenter));
        rpc_server_reply (self->server, request_p, &result);
        return;
    }
    size_t count = 0;
    member_t **list = s_sorted_members (self->wan, false, &count);
    service_dc_t *dcs = (service_dc_t *) calloc (count + 1, sizeof (service_dc_t));
    double *rtts = (double *) calloc (count + 1, sizeof (double));
    size_t dc_count = 0;
    const vivaldi_coord_t *mine = vivaldi_coord (pool_vivaldi (self->wan));
    for (size_t i = 0; list && dcs && rtts && i < count; i++) {
        char dc[PACKET_TAG_VALUE_MAX + 1];
        s_member_dc (list[i], dc, sizeof dc);
        bool known = !*dc;
        for (size_t j = 0; j < dc_count && !known; j++)
            known = strcmp (dcs[j].name, dc) == 0;
        if (known)
            continue;
        //  Median RTT from us to this datacenter's servers with coordinates.
        size_t samples = 0;
        for (size_t j = i; j < count; j++) {
            char other[PACKET_TAG_VALUE_MAX + 1];
            if (strcmp (s_member_dc (list[j], other, sizeof other), dc) != 0)
                continue;
            if (list[j] == membership_self (pool_membership (self->wan)))
                rtts[samples++] = 0.0;
            else if (list[j]->has_coord)
                rtts[samples++] = vivaldi_distance (mine, &list[j]->coord);
        }
        snprintf (dcs[dc_count].name, sizeof dcs[dc_count].name, "%s", dc);
        if (samples == 0)
            dcs[dc_count].rtt = INFINITY;
        else {
            qsort (rtts, samples, sizeof (double), s_compare_double);
            dcs[dc_count].rtt = samples % 2 ? rtts[samples / 2]
                                            : (rtts[samples / 2 - 1] + rtts[samples / 2]) / 2;
        }
        dc_count++;
    }
    bool have_local = false;
    for (size_t j = 0; j < dc_count; j++)
        have_local = have_local || strcmp (dcs[j].name, self->config->datacenter) == 0;
    if (dcs && !have_local)
        snprintf (dcs[dc_count++].name, sizeof dcs[0].name, "%s", self->config->datacenter);
    if (dcs)
        service_dc_sort (dcs, dc_count, self->config->datacenter);
    for (size_t j = 0; j < dc_count; j++)
        cJSON_AddItemToArray (result, cJSON_CreateString (dcs[j].name));
    free (dcs);
    free (rtts);
    free (list);
    rpc_server_reply (self->server, request_p, &result);
}

//  --------------------------------------------------------------------
//  keyring

static void s_keyring_next (pending_t *pending);

static void
s_keyring_done (void *arg, cJSON **result_p)
{
    pending_t *pending = (pending_t *) arg;
    if (*result_p) {
        cJSON_AddItemToArray (pending->results, *result_p);
        *result_p = NULL;
    }
    s_keyring_next (pending);
}

//  Runs the operation on the next pool, or answers once all are done.
static void
s_keyring_next (pending_t *pending)
{
    service_t *self = pending->service;
    pool_t *pool = pending->next_pool;
    if (pool) {
        pending->next_pool = pool == self->wan ? self->lan : NULL;
        pool_key_op (pool, pending->op, pending->key, pending->key_len, s_keyring_done, pending);
        return;
    }
    char errors[4096] = "";
    cJSON *response;
    cJSON_ArrayForEach (response, pending->results) {
        cJSON *error = cJSON_GetObjectItemCaseSensitive (response, "Error");
        bool wan = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (response, "WAN"));
        if (cJSON_IsString (error) && *error->valuestring) {
            //  Consul's keyringErrorsOrNil: the pool's error, then each
            //  node's message.
            size_t used = strlen (errors);
            if (wan)
                snprintf (errors + used, sizeof errors - used, "%sWAN error: %s",
                          used ? "\n" : "", error->valuestring);
            else
                snprintf (errors + used, sizeof errors - used, "%s%s (LAN) error: %s",
                          used ? "\n" : "", self->config->datacenter, error->valuestring);
            cJSON *message;
            cJSON_ArrayForEach (message, cJSON_GetObjectItemCaseSensitive (response, "Messages")) {
                used = strlen (errors);
                if (cJSON_IsString (message))
                    snprintf (errors + used, sizeof errors - used, "\n%s: %s", message->string,
                              message->valuestring);
            }
        }
        cJSON_DeleteItemFromObjectCaseSensitive (response, "Error");
    }
    if (*errors)
        rpc_server_error (self->server, &pending->request, 500, "%s", errors);
    else {
        cJSON *result = pending->results;
        pending->results = NULL;
        rpc_server_reply (self->server, &pending->request, &result);
    }
    s_pending_done (pending);
}

static void
s_keyring (service_t *self, rpc_request_t **request_p)
{
    cJSON *body = rpc_request_body (*request_p);
    cJSON *op_item = cJSON_GetObjectItemCaseSensitive (body, "Op");
    cJSON *key_item = cJSON_GetObjectItemCaseSensitive (body, "Key");
    static const char *ops[] = { "list", "install", "use", "remove" };
    int op = 0;
    for (int i = 0; i < 4 && cJSON_IsString (op_item); i++)
        if (strcmp (op_item->valuestring, ops[i]) == 0)
            op = PACKET_OP_LIST + i;
    if (!op) {
        rpc_server_error (self->server, request_p, 400,
                          "Op: must be list, install, use or remove");
        return;
    }
    uint8_t key[CRYPTO_KEY_MAX];
    size_t key_len = 0;
    if (op != PACKET_OP_LIST
        && (!cJSON_IsString (key_item)
            || crypto_key_decode (key_item->valuestring, key, &key_len) != 0)) {
        rpc_server_error (self->server, request_p, 400,
                          "Key: must be the base64 of a 16, 24 or 32 byte key");
        return;
    }
    if (keyring_size (pool_keyring (self->lan)) == 0) {
        rpc_server_error (self->server, request_p, 500, "Gossip encryption is not enabled");
        return;
    }
    if (self->left) {
        rpc_server_error (self->server, request_p, 500, "Agent has left the cluster");
        return;
    }
    pending_t *pending = s_pending_new (self, PENDING_KEYRING, request_p);
    if (pending)
        pending->results = cJSON_CreateArray ();
    if (!pending || !pending->results) {
        rpc_server_error (self->server, pending ? &pending->request : request_p, 500,
                          "out of memory");
        if (pending)
            s_pending_done (pending);
        return;
    }
    pending->op = op;
    memcpy (pending->key, key, key_len);
    pending->key_len = key_len;
    memset (key, 0, sizeof key);
    pending->next_pool = self->wan ? self->wan : self->lan;
    s_keyring_next (pending);
}

//  --------------------------------------------------------------------

void
service_handle (service_t *self, rpc_request_t **request_p)
{
    const char *command = rpc_request_command (*request_p);
    if (!cJSON_IsObject (rpc_request_body (*request_p))) {
        rpc_server_error (self->server, request_p, 400, "request body must be a JSON object");
        return;
    }
    if (strcmp (command, "members") == 0)
        s_members (self, request_p);
    else if (strcmp (command, "self") == 0)
        s_self (self, request_p);
    else if (strcmp (command, "join") == 0)
        s_join (self, request_p);
    else if (strcmp (command, "leave") == 0)
        s_leave (self, request_p);
    else if (strcmp (command, "force-leave") == 0)
        s_force_leave (self, request_p);
    else if (strcmp (command, "coordinate.nodes") == 0)
        s_coordinate_nodes (self, request_p);
    else if (strcmp (command, "coordinate.datacenters") == 0)
        s_coordinate_datacenters (self, request_p);
    else if (strcmp (command, "datacenters") == 0)
        s_datacenters (self, request_p);
    else if (strcmp (command, "keyring") == 0)
        s_keyring (self, request_p);
    else if (strcmp (command, "stats") == 0)
        s_stats (self, request_p);
    else
        rpc_server_error (self->server, request_p, 404, "unknown command '%s'", command);
}
