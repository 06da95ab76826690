/*  query: the read commands of docs/protocol/catalog-rpc.md and the cache
    of their rendered results (see query.h). Orders follow Consul's state
    store: nodes by name, service instances by (node, service ID), checks
    by (node, check ID); a health.service entry lists the node's checks
    before the service's. */
#include "query.h"
#include "render.h"

#include <czmq.h>
#include <math.h>
#include <strings.h>

typedef enum {
    Q_NODES,
    Q_SERVICES,
    Q_SERVICE,
    Q_NODE,
    Q_HEALTH_NODE,
    Q_HEALTH_CHECKS,
    Q_HEALTH_SERVICE,
    Q_HEALTH_STATE
} s_kind_t;

#define T_CATALOG (CATALOG_TABLE_NODES | CATALOG_TABLE_SERVICES)

static const struct {
    const char *command;
    s_kind_t kind;
    unsigned tables;
} s_commands[] = {
    { "catalog.nodes", Q_NODES, CATALOG_TABLE_NODES },
    { "catalog.services", Q_SERVICES, T_CATALOG },
    { "catalog.service", Q_SERVICE, T_CATALOG },
    { "catalog.node", Q_NODE, T_CATALOG },
    { "health.node", Q_HEALTH_NODE, CATALOG_TABLES_ALL },
    { "health.checks", Q_HEALTH_CHECKS, CATALOG_TABLES_ALL },
    { "health.service", Q_HEALTH_SERVICE, CATALOG_TABLES_ALL },
    { "health.state", Q_HEALTH_STATE, CATALOG_TABLES_ALL },
};
#define COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

struct _catalog_query_t {
    const char *command;
    s_kind_t kind;
    unsigned tables;
    char *node;
    char *service;
    cJSON *tags;                //  array of strings or NULL
    cJSON *node_meta;           //  object of strings or NULL
    bool passing_only;
    char *state;
    uint64_t min_index;
    int64_t wait_ms;
    bool allow_stale;
    bool require_consistent;
    char *key;                  //  cache key: command and arguments
    char *result;               //  last uncached result
};

typedef struct {
    char *text;
    size_t size;
    uint64_t epoch;
    uint64_t index[CATALOG_TABLE_COUNT];
} s_entry_t;

struct _catalog_cache_t {
    zhashx_t *entries;          //  key -> s_entry_t
    size_t max_entries;
    size_t max_bytes;
    size_t bytes;
    uint64_t hits;
    uint64_t misses;
};

bool
catalog_query_known (const char *command)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp (command, s_commands[i].command) == 0)
            return true;
    return false;
}

//  ---------------------------------------------------------------------
//  Parsing

static int
s_fail (char *err, size_t err_size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
    return -1;
}

static const cJSON *
s_field (const cJSON *body, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem (body, key);
    return cJSON_IsNull (item) ? NULL : item;
}

//  A required string argument; missing gets Consul's message.
static int
s_required_string (const cJSON *body, const char *key, const char *missing,
                   char **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (body, key);
    if (item && !cJSON_IsString (item))
        return s_fail (err, err_size, "%s: must be a string", key);
    if (!item || !*item->valuestring)
        return s_fail (err, err_size, "%s", missing);
    *out = strdup (item->valuestring);
    assert (*out);
    return 0;
}

static int
s_optional_bool (const cJSON *body, const char *key, bool *out, char *err,
                 size_t err_size)
{
    const cJSON *item = s_field (body, key);
    if (item && !cJSON_IsBool (item))
        return s_fail (err, err_size, "%s: must be true or false", key);
    *out = cJSON_IsTrue (item);
    return 0;
}

static int
s_node_meta (const cJSON *body, cJSON **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (body, "NodeMeta");
    if (!item)
        return 0;
    const cJSON *child;
    bool strings = cJSON_IsObject (item);
    cJSON_ArrayForEach (child, item)
        if (!cJSON_IsString (child))
            strings = false;
    if (!strings)
        return s_fail (err, err_size, "NodeMeta: must be an object of strings");
    if (cJSON_GetArraySize (item) > 0)
        *out = cJSON_Duplicate (item, true);
    return 0;
}

static int
s_tags (const cJSON *body, cJSON **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (body, "ServiceTags");
    if (!item)
        return 0;
    const cJSON *child;
    bool strings = cJSON_IsArray (item);
    cJSON_ArrayForEach (child, item)
        if (!cJSON_IsString (child))
            strings = false;
    if (!strings)
        return s_fail (err, err_size, "ServiceTags: must be an array of strings");
    if (cJSON_GetArraySize (item) > 0)
        *out = cJSON_Duplicate (item, true);
    return 0;
}

static int
s_options (catalog_query_t *self, const cJSON *body, char *err,
           size_t err_size)
{
    const cJSON *min_index = s_field (body, "MinQueryIndex");
    const cJSON *wait = s_field (body, "MaxQueryTime");
    if (min_index) {
        double value = cJSON_IsNumber (min_index) ? min_index->valuedouble : -1;
        if (!isfinite (value) || value < 0 || value != floor (value)
            || value > 9007199254740992.0)
            return s_fail (err, err_size, "Invalid index");
        self->min_index = (uint64_t) value;
    }
    self->wait_ms = CATALOG_QUERY_WAIT_DEFAULT_MS;
    if (wait) {
        double value = cJSON_IsNumber (wait) ? wait->valuedouble : NAN;
        if (!isfinite (value))
            return s_fail (err, err_size, "Invalid wait time");
        //  Consul: a wait above the maximum is clamped, none uses the default.
        if (value > CATALOG_QUERY_WAIT_MAX_MS)
            self->wait_ms = CATALOG_QUERY_WAIT_MAX_MS;
        else
        if (value >= 1)
            self->wait_ms = (int64_t) value;
    }
    if (s_optional_bool (body, "AllowStale", &self->allow_stale, err, err_size)
        || s_optional_bool (body, "RequireConsistent",
                            &self->require_consistent, err, err_size))
        return -1;
    if (self->allow_stale && self->require_consistent)
        return s_fail (err, err_size, "Cannot specify ?stale with ?consistent, "
                       "conflicting semantics.");
    return 0;
}

//  Appends "<len>:<text>" so no argument can run into the next.
static void
s_key_add (char **key, size_t *size, const char *text)
{
    size_t len = strlen (text);
    char *grown = (char *) realloc (*key, *size + len + 24);
    assert (grown);
    *key = grown;
    *size += (size_t) sprintf (grown + *size, "%zu:", len);
    memcpy (grown + *size, text, len + 1);
    *size += len;
}

static void
s_build_key (catalog_query_t *self)
{
    char *key = NULL;
    size_t size = 0;
    s_key_add (&key, &size, self->command);
    s_key_add (&key, &size, self->node ? self->node : "");
    s_key_add (&key, &size, self->service ? self->service : "");
    s_key_add (&key, &size, self->state ? self->state : "");
    s_key_add (&key, &size, self->passing_only ? "P" : "-");
    const cJSON *item;
    cJSON_ArrayForEach (item, self->tags)
        s_key_add (&key, &size, item->valuestring);
    s_key_add (&key, &size, "|");
    cJSON_ArrayForEach (item, self->node_meta) {
        s_key_add (&key, &size, item->string);
        s_key_add (&key, &size, item->valuestring);
    }
    self->key = key;
}

catalog_query_t *
catalog_query_new (const char *command, const cJSON *body, char *err,
                   size_t err_size)
{
    size_t which = COMMAND_COUNT;
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp (command, s_commands[i].command) == 0)
            which = i;
    if (which == COMMAND_COUNT) {
        s_fail (err, err_size, "unknown command \"%s\"", command);
        return NULL;
    }
    if (body && !cJSON_IsObject (body)) {
        s_fail (err, err_size, "body must be a JSON object");
        return NULL;
    }
    catalog_query_t *self = (catalog_query_t *) calloc (1, sizeof *self);
    assert (self);
    self->command = s_commands[which].command;
    self->kind = s_commands[which].kind;
    self->tables = s_commands[which].tables;
    if (s_options (self, body, err, err_size))
        goto fail;
    int rc = 0;
    switch (self->kind) {
        case Q_NODES:
        case Q_SERVICES:
            rc = s_node_meta (body, &self->node_meta, err, err_size);
            break;
        case Q_NODE:
        case Q_HEALTH_NODE:
            rc = s_required_string (body, "Node", "Must provide node",
                                    &self->node, err, err_size);
            break;
        case Q_HEALTH_CHECKS:
            rc = s_required_string (body, "ServiceName",
                                    "Must provide service name",
                                    &self->service, err, err_size)
                 || s_node_meta (body, &self->node_meta, err, err_size);
            break;
        case Q_SERVICE:
        case Q_HEALTH_SERVICE:
            rc = s_required_string (body, "ServiceName",
                                    "Must provide service name",
                                    &self->service, err, err_size)
                 || s_tags (body, &self->tags, err, err_size)
                 || s_node_meta (body, &self->node_meta, err, err_size)
                 || (self->kind == Q_HEALTH_SERVICE
                     && s_optional_bool (body, "PassingOnly",
                                         &self->passing_only, err, err_size));
            break;
        case Q_HEALTH_STATE:
            rc = s_required_string (body, "State", "Missing check state",
                                    &self->state, err, err_size)
                 || s_node_meta (body, &self->node_meta, err, err_size);
            break;
    }
    if (rc)
        goto fail;
    s_build_key (self);
    return self;
fail:
    catalog_query_destroy (&self);
    return NULL;
}

void
catalog_query_destroy (catalog_query_t **self_p)
{
    assert (self_p);
    catalog_query_t *self = *self_p;
    if (self) {
        free (self->node);
        free (self->service);
        free (self->state);
        cJSON_Delete (self->tags);
        cJSON_Delete (self->node_meta);
        free (self->key);
        free (self->result);
        free (self);
        *self_p = NULL;
    }
}

const char *
catalog_query_command (catalog_query_t *self)
{
    return self->command;
}

unsigned
catalog_query_tables (catalog_query_t *self)
{
    return self->tables;
}

uint64_t
catalog_query_min_index (catalog_query_t *self)
{
    return self->min_index;
}

int64_t
catalog_query_wait_ms (catalog_query_t *self)
{
    return self->wait_ms;
}

bool
catalog_query_allow_stale (catalog_query_t *self)
{
    return self->allow_stale;
}

bool
catalog_query_require_consistent (catalog_query_t *self)
{
    return self->require_consistent;
}

//  ---------------------------------------------------------------------
//  Execution

static int
s_name_order (const char *a, const char *b)
{
    int order = strcasecmp (a, b);
    return order ? order : strcmp (a, b);
}

static int
s_node_cmp (const void *a, const void *b)
{
    const catalog_node_t *x = *(const catalog_node_t *const *) a;
    const catalog_node_t *y = *(const catalog_node_t *const *) b;
    return s_name_order (x->name, y->name);
}

static int
s_service_cmp (const void *a, const void *b)
{
    const catalog_service_t *x = *(const catalog_service_t *const *) a;
    const catalog_service_t *y = *(const catalog_service_t *const *) b;
    int order = s_name_order (x->node, y->node);
    return order ? order : s_name_order (x->id, y->id);
}

static int
s_service_name_cmp (const void *a, const void *b)
{
    const catalog_service_t *x = *(const catalog_service_t *const *) a;
    const catalog_service_t *y = *(const catalog_service_t *const *) b;
    return strcmp (x->name, y->name);
}

static int
s_check_cmp (const void *a, const void *b)
{
    const catalog_check_t *x = *(const catalog_check_t *const *) a;
    const catalog_check_t *y = *(const catalog_check_t *const *) b;
    int order = s_name_order (x->node, y->node);
    return order ? order : s_name_order (x->check_id, y->check_id);
}

static int
s_service_id_cmp (const void *a, const void *b)
{
    const catalog_service_t *x = *(const catalog_service_t *const *) a;
    const catalog_service_t *y = *(const catalog_service_t *const *) b;
    return strcmp (x->id, y->id);
}

static int
s_string_cmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
s_sort (catalog_list_t *list, int (*cmp) (const void *, const void *))
{
    if (list->size > 1)
        qsort ((void *) list->items, list->size, sizeof (void *), cmp);
}

//  True when the instance passes the query's tag and node meta filters;
//  *node_p gets its node.
static bool
s_instance_selected (catalog_query_t *self, catalog_store_t *store,
                     const catalog_service_t *service,
                     const catalog_node_t **node_p)
{
    const catalog_node_t *node = catalog_store_node (store, service->node);
    if (!node)
        return false;
    const cJSON *tag;
    cJSON_ArrayForEach (tag, self->tags)
        if (!catalog_service_has_tag (service, tag->valuestring))
            return false;
    if (self->node_meta && !catalog_node_meta_match (node, self->node_meta))
        return false;
    *node_p = node;
    return true;
}

static const catalog_service_t *
s_check_service (catalog_store_t *store, const catalog_check_t *check)
{
    return *check->service_id
        ? catalog_store_service (store, check->node, check->service_id)
        : NULL;
}

static cJSON *
s_render_checks (catalog_store_t *store, catalog_list_t *checks)
{
    cJSON *array = cJSON_CreateArray ();
    s_sort (checks, s_check_cmp);
    for (size_t i = 0; i < checks->size; i++) {
        const catalog_check_t *check = (const catalog_check_t *) checks->items[i];
        cJSON_AddItemToArray (array, catalog_render_check (
                                  check, s_check_service (store, check)));
    }
    return array;
}

static cJSON *
s_catalog_nodes (catalog_query_t *self, catalog_store_t *store,
                 const char *datacenter)
{
    catalog_list_t nodes = { 0 };
    catalog_store_nodes (store, &nodes);
    s_sort (&nodes, s_node_cmp);
    cJSON *array = cJSON_CreateArray ();
    for (size_t i = 0; i < nodes.size; i++) {
        const catalog_node_t *node = (const catalog_node_t *) nodes.items[i];
        if (!self->node_meta || catalog_node_meta_match (node, self->node_meta))
            cJSON_AddItemToArray (array, catalog_render_node (node, datacenter));
    }
    catalog_list_free (&nodes);
    return array;
}

static cJSON *
s_catalog_services (catalog_query_t *self, catalog_store_t *store)
{
    catalog_list_t names = { 0 }, instances = { 0 }, tags = { 0 };
    catalog_store_service_names (store, &names);
    s_sort (&names, s_service_name_cmp);
    cJSON *object = cJSON_CreateObject ();
    for (size_t i = 0; i < names.size; i++) {
        const char *name = ((const catalog_service_t *) names.items[i])->name;
        catalog_list_clear (&instances);
        catalog_list_clear (&tags);
        catalog_store_service_instances (store, name, &instances);
        bool selected = false;
        for (size_t j = 0; j < instances.size; j++) {
            const catalog_service_t *service
                = (const catalog_service_t *) instances.items[j];
            const catalog_node_t *node = NULL;
            if (!s_instance_selected (self, store, service, &node))
                continue;
            selected = true;
            const cJSON *tag;
            cJSON_ArrayForEach (tag, service->tags)
                catalog_list_push (&tags, tag->valuestring);
        }
        if (!selected)
            continue;
        s_sort (&tags, s_string_cmp);
        cJSON *array = cJSON_AddArrayToObject (object, name);
        for (size_t j = 0; j < tags.size; j++)
            if (j == 0 || strcmp ((const char *) tags.items[j],
                                  (const char *) tags.items[j - 1]) != 0)
                cJSON_AddItemToArray (array, cJSON_CreateString (
                                          (const char *) tags.items[j]));
    }
    catalog_list_free (&names);
    catalog_list_free (&instances);
    catalog_list_free (&tags);
    return object;
}

//  The selected instances of the query's service, sorted.
static void
s_selected_instances (catalog_query_t *self, catalog_store_t *store,
                      catalog_list_t *out)
{
    catalog_list_t all = { 0 };
    catalog_store_service_instances (store, self->service, &all);
    for (size_t i = 0; i < all.size; i++) {
        const catalog_node_t *node = NULL;
        if (s_instance_selected (self, store,
                                 (const catalog_service_t *) all.items[i],
                                 &node))
            catalog_list_push (out, all.items[i]);
    }
    catalog_list_free (&all);
    s_sort (out, s_service_cmp);
}

static cJSON *
s_catalog_service (catalog_query_t *self, catalog_store_t *store,
                   const char *datacenter)
{
    catalog_list_t instances = { 0 };
    s_selected_instances (self, store, &instances);
    cJSON *array = cJSON_CreateArray ();
    for (size_t i = 0; i < instances.size; i++) {
        const catalog_service_t *service
            = (const catalog_service_t *) instances.items[i];
        cJSON_AddItemToArray (array, catalog_render_service_node (
                                  catalog_store_node (store, service->node),
                                  service, datacenter));
    }
    catalog_list_free (&instances);
    return array;
}

static cJSON *
s_catalog_node (catalog_query_t *self, catalog_store_t *store,
                const char *datacenter)
{
    const catalog_node_t *node = catalog_store_node (store, self->node);
    if (!node)
        return cJSON_CreateNull ();
    cJSON *object = cJSON_CreateObject ();
    cJSON_AddItemToObject (object, "Node", catalog_render_node (node, datacenter));
    cJSON *services = cJSON_AddObjectToObject (object, "Services");
    catalog_list_t list = { 0 };
    catalog_store_node_services (store, node->name, &list);
    //  Go writes map keys in byte order.
    s_sort (&list, s_service_id_cmp);
    for (size_t i = 0; i < list.size; i++) {
        const catalog_service_t *service
            = (const catalog_service_t *) list.items[i];
        cJSON_AddItemToObject (services, service->id,
                               catalog_render_service (service));
    }
    catalog_list_free (&list);
    return object;
}

static cJSON *
s_health_node (catalog_query_t *self, catalog_store_t *store)
{
    catalog_list_t checks = { 0 };
    catalog_store_node_checks (store, self->node, &checks);
    cJSON *array = s_render_checks (store, &checks);
    catalog_list_free (&checks);
    return array;
}

//  Appends the checks of node whose ServiceID is service_id ("" for the
//  node-level checks).
static void
s_node_checks_of (catalog_store_t *store, const char *node,
                  const char *service_id, catalog_list_t *out)
{
    catalog_list_t all = { 0 };
    catalog_store_node_checks (store, node, &all);
    for (size_t i = 0; i < all.size; i++) {
        const catalog_check_t *check = (const catalog_check_t *) all.items[i];
        if (strcasecmp (check->service_id, service_id) == 0)
            catalog_list_push (out, check);
    }
    catalog_list_free (&all);
}

static cJSON *
s_health_checks (catalog_query_t *self, catalog_store_t *store)
{
    catalog_list_t instances = { 0 }, checks = { 0 };
    s_selected_instances (self, store, &instances);
    for (size_t i = 0; i < instances.size; i++) {
        const catalog_service_t *service
            = (const catalog_service_t *) instances.items[i];
        s_node_checks_of (store, service->node, service->id, &checks);
    }
    cJSON *array = s_render_checks (store, &checks);
    catalog_list_free (&instances);
    catalog_list_free (&checks);
    return array;
}

static cJSON *
s_health_service (catalog_query_t *self, catalog_store_t *store,
                  const char *datacenter)
{
    catalog_list_t instances = { 0 }, node_checks = { 0 }, own_checks = { 0 };
    s_selected_instances (self, store, &instances);
    cJSON *array = cJSON_CreateArray ();
    for (size_t i = 0; i < instances.size; i++) {
        const catalog_service_t *service
            = (const catalog_service_t *) instances.items[i];
        catalog_list_clear (&node_checks);
        catalog_list_clear (&own_checks);
        s_node_checks_of (store, service->node, "", &node_checks);
        s_node_checks_of (store, service->node, service->id, &own_checks);
        catalog_status_t worst = CATALOG_PASSING;
        for (size_t j = 0; j < node_checks.size; j++)
            worst = catalog_status_worst (
                worst, ((const catalog_check_t *) node_checks.items[j])->status);
        for (size_t j = 0; j < own_checks.size; j++)
            worst = catalog_status_worst (
                worst, ((const catalog_check_t *) own_checks.items[j])->status);
        if (self->passing_only && worst != CATALOG_PASSING)
            continue;
        cJSON *entry = cJSON_CreateObject ();
        cJSON_AddItemToObject (entry, "Node", catalog_render_node (
                                   catalog_store_node (store, service->node),
                                   datacenter));
        cJSON_AddItemToObject (entry, "Service", catalog_render_service (service));
        cJSON *checks = s_render_checks (store, &node_checks);
        cJSON *own = s_render_checks (store, &own_checks);
        while (cJSON_GetArraySize (own) > 0)
            cJSON_AddItemToArray (checks, cJSON_DetachItemFromArray (own, 0));
        cJSON_Delete (own);
        cJSON_AddItemToObject (entry, "Checks", checks);
        cJSON_AddItemToArray (array, entry);
    }
    catalog_list_free (&instances);
    catalog_list_free (&node_checks);
    catalog_list_free (&own_checks);
    return array;
}

static cJSON *
s_health_state (catalog_query_t *self, catalog_store_t *store)
{
    catalog_list_t all = { 0 }, checks = { 0 };
    bool any = strcmp (self->state, "any") == 0;
    catalog_status_t status = CATALOG_CRITICAL;
    bool known = catalog_status_parse (self->state, &status) == 0;
    //  An unknown state matches nothing, as in Consul's state store.
    if (any || known)
        catalog_store_checks (store, &all);
    for (size_t i = 0; i < all.size; i++) {
        const catalog_check_t *check = (const catalog_check_t *) all.items[i];
        if (!any && check->status != status)
            continue;
        if (self->node_meta) {
            const catalog_node_t *node = catalog_store_node (store, check->node);
            if (!node || !catalog_node_meta_match (node, self->node_meta))
                continue;
        }
        catalog_list_push (&checks, check);
    }
    cJSON *array = s_render_checks (store, &checks);
    catalog_list_free (&all);
    catalog_list_free (&checks);
    return array;
}

static cJSON *
s_execute (catalog_query_t *self, catalog_store_t *store,
           const char *datacenter)
{
    switch (self->kind) {
        case Q_NODES:
            return s_catalog_nodes (self, store, datacenter);
        case Q_SERVICES:
            return s_catalog_services (self, store);
        case Q_SERVICE:
            return s_catalog_service (self, store, datacenter);
        case Q_NODE:
            return s_catalog_node (self, store, datacenter);
        case Q_HEALTH_NODE:
            return s_health_node (self, store);
        case Q_HEALTH_CHECKS:
            return s_health_checks (self, store);
        case Q_HEALTH_SERVICE:
            return s_health_service (self, store, datacenter);
        case Q_HEALTH_STATE:
            return s_health_state (self, store);
    }
    return cJSON_CreateNull ();
}

//  ---------------------------------------------------------------------
//  Cache

static void
s_entry_free (void **item)
{
    s_entry_t *entry = (s_entry_t *) *item;
    if (entry) {
        free (entry->text);
        free (entry);
        *item = NULL;
    }
}

catalog_cache_t *
catalog_cache_new (size_t max_entries, size_t max_bytes)
{
    catalog_cache_t *self = (catalog_cache_t *) calloc (1, sizeof *self);
    assert (self);
    self->entries = zhashx_new ();
    assert (self->entries);
    zhashx_set_destructor (self->entries, s_entry_free);
    self->max_entries = max_entries ? max_entries : 1;
    self->max_bytes = max_bytes;
    return self;
}

void
catalog_cache_destroy (catalog_cache_t **self_p)
{
    assert (self_p);
    catalog_cache_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->entries);
        free (self);
        *self_p = NULL;
    }
}

uint64_t
catalog_cache_hits (catalog_cache_t *self)
{
    return self->hits;
}

uint64_t
catalog_cache_misses (catalog_cache_t *self)
{
    return self->misses;
}

size_t
catalog_cache_size (catalog_cache_t *self)
{
    return zhashx_size (self->entries);
}

static bool
s_entry_fresh (const s_entry_t *entry, catalog_store_t *store,
               unsigned tables)
{
    if (entry->epoch != catalog_store_epoch (store))
        return false;
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        if ((tables & (1u << i))
            && entry->index[i] != catalog_store_index (store, 1u << i))
            return false;
    return true;
}

//  Keeps text as the cached result of query; returns the cached copy, or
//  NULL when it does not fit (the caller keeps text then).
static const char *
s_cache_put (catalog_cache_t *self, catalog_query_t *query,
             catalog_store_t *store, char **text_p)
{
    size_t size = strlen (*text_p);
    if (size > self->max_bytes)
        return NULL;
    s_entry_t *old = (s_entry_t *) zhashx_lookup (self->entries, query->key);
    if (old) {
        self->bytes -= old->size;
        zhashx_delete (self->entries, query->key);
    }
    //  Simple bound: when full, start over (stale entries go with it).
    if (zhashx_size (self->entries) >= self->max_entries
        || self->bytes + size > self->max_bytes) {
        zhashx_purge (self->entries);
        self->bytes = 0;
    }
    s_entry_t *entry = (s_entry_t *) calloc (1, sizeof *entry);
    assert (entry);
    entry->text = *text_p;
    *text_p = NULL;
    entry->size = size;
    entry->epoch = catalog_store_epoch (store);
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        entry->index[i] = catalog_store_index (store, 1u << i);
    zhashx_insert (self->entries, query->key, entry);
    self->bytes += size;
    return entry->text;
}

const char *
catalog_query_run (catalog_query_t *self, catalog_store_t *store,
                   catalog_cache_t *cache, const char *datacenter,
                   uint64_t *index)
{
    uint64_t max = catalog_store_index (store, self->tables);
    *index = max < 1 ? 1 : max;
    if (cache) {
        s_entry_t *entry = (s_entry_t *) zhashx_lookup (cache->entries,
                                                        self->key);
        if (entry && s_entry_fresh (entry, store, self->tables)) {
            cache->hits++;
            return entry->text;
        }
        cache->misses++;
    }
    cJSON *result = s_execute (self, store, datacenter);
    char *text = cJSON_PrintUnformatted (result);
    cJSON_Delete (result);
    assert (text);
    if (cache) {
        const char *cached = s_cache_put (cache, self, store, &text);
        if (cached)
            return cached;
    }
    free (self->result);
    self->result = text;
    return text;
}
