/*  store: the catalog tables and their indexes (see store.h); implements
    the state rules of docs/protocol/catalog-rpc.md and the snapshot format
    of docs/catalogd.md.

    Layout: nodes by name; each node holds its services and checks by ID;
    a second map finds every instance of a service name. All keys compare
    case-insensitively. */
#include "store.h"

#include <czmq.h>
#include <ctype.h>
#include <strings.h>

#define SNAPSHOT_VERSION 1

typedef struct {
    catalog_node_t *record;
    zhashx_t *services;         //  ID -> catalog_service_t (owned)
    zhashx_t *checks;           //  CheckID -> catalog_check_t (owned)
} s_node_t;

struct _catalog_store_t {
    zhashx_t *nodes;            //  name -> s_node_t (owned)
    zhashx_t *node_ids;         //  node ID -> s_node_t (borrowed)
    zhashx_t *by_name;          //  service name -> zhashx_t of
                                //  "node\x1fid" -> catalog_service_t
    uint64_t index[CATALOG_TABLE_COUNT];
    uint64_t epoch;
};

static const char *s_table_names[CATALOG_TABLE_COUNT]
    = { "nodes", "services", "checks" };

static const char *s_missing_service
    = "failed inserting check: Missing service registration";
static const char *s_wrong_node
    = "failed inserting check: check node does not match the registration";

//  ---------------------------------------------------------------------
//  catalog_list_t

void
catalog_list_push (catalog_list_t *self, const void *item)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        const void **items = (const void **) realloc (
            (void *) self->items, capacity * sizeof *items);
        assert (items);
        self->items = items;
        self->capacity = capacity;
    }
    self->items[self->size++] = item;
}

void
catalog_list_clear (catalog_list_t *self)
{
    self->size = 0;
}

void
catalog_list_free (catalog_list_t *self)
{
    free ((void *) self->items);
    self->items = NULL;
    self->size = self->capacity = 0;
}

const char *
catalog_table_name (unsigned table)
{
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        if (table == (1u << i))
            return s_table_names[i];
    return "?";
}

//  ---------------------------------------------------------------------
//  Case-insensitive keyed maps

static size_t
s_key_hash (const void *key)
{
    size_t hash = 14695981039346656037ULL;
    for (const unsigned char *c = (const unsigned char *) key; *c; c++) {
        hash ^= (size_t) tolower (*c);
        hash *= 1099511628211ULL;
    }
    return hash;
}

static int
s_key_compare (const void *a, const void *b)
{
    return strcasecmp ((const char *) a, (const char *) b);
}

static zhashx_t *
s_map_new (zhashx_destructor_fn *destructor)
{
    zhashx_t *map = zhashx_new ();
    assert (map);
    zhashx_set_key_hasher (map, s_key_hash);
    zhashx_set_key_comparator (map, s_key_compare);
    if (destructor)
        zhashx_set_destructor (map, destructor);
    return map;
}

static void
s_service_free (void **item)
{
    catalog_service_destroy ((catalog_service_t **) item);
}

static void
s_check_free (void **item)
{
    catalog_check_destroy ((catalog_check_t **) item);
}

static void
s_map_free (void **item)
{
    zhashx_destroy ((zhashx_t **) item);
}

static s_node_t *
s_node_new (catalog_node_t *record)
{
    s_node_t *node = (s_node_t *) calloc (1, sizeof *node);
    assert (node);
    node->record = record;
    node->services = s_map_new (s_service_free);
    node->checks = s_map_new (s_check_free);
    return node;
}

static void
s_node_free (void **item)
{
    s_node_t *node = (s_node_t *) *item;
    if (node) {
        zhashx_destroy (&node->checks);
        zhashx_destroy (&node->services);
        catalog_node_destroy (&node->record);
        free (node);
        *item = NULL;
    }
}

catalog_store_t *
catalog_store_new (void)
{
    catalog_store_t *self = (catalog_store_t *) calloc (1, sizeof *self);
    assert (self);
    self->nodes = s_map_new (s_node_free);
    self->node_ids = s_map_new (NULL);
    self->by_name = s_map_new (s_map_free);
    return self;
}

void
catalog_store_destroy (catalog_store_t **self_p)
{
    assert (self_p);
    catalog_store_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->by_name);
        zhashx_destroy (&self->node_ids);
        zhashx_destroy (&self->nodes);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Index of services by name

static void
s_instance_key (const catalog_service_t *service, char *key, size_t size)
{
    snprintf (key, size, "%s\x1f%s", service->node, service->id);
}

static void
s_by_name_add (catalog_store_t *self, catalog_service_t *service)
{
    zhashx_t *instances = (zhashx_t *) zhashx_lookup (self->by_name,
                                                      service->name);
    if (!instances) {
        instances = s_map_new (NULL);
        zhashx_insert (self->by_name, service->name, instances);
    }
    size_t size = strlen (service->node) + strlen (service->id) + 2;
    char *key = (char *) malloc (size);
    assert (key);
    s_instance_key (service, key, size);
    zhashx_update (instances, key, service);
    free (key);
}

static void
s_by_name_remove (catalog_store_t *self, const catalog_service_t *service)
{
    zhashx_t *instances = (zhashx_t *) zhashx_lookup (self->by_name,
                                                      service->name);
    if (!instances)
        return;
    size_t size = strlen (service->node) + strlen (service->id) + 2;
    char *key = (char *) malloc (size);
    assert (key);
    s_instance_key (service, key, size);
    zhashx_delete (instances, key);
    free (key);
    if (zhashx_size (instances) == 0)
        zhashx_delete (self->by_name, service->name);
}

//  ---------------------------------------------------------------------
//  Writes

static void
s_touch (catalog_store_t *self, unsigned tables, uint64_t index)
{
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        if (tables & (1u << i))
            self->index[i] = index;
}

static void
s_node_ids_add (catalog_store_t *self, s_node_t *node)
{
    if (*node->record->id)
        zhashx_update (self->node_ids, node->record->id, node);
}

static void
s_node_ids_remove (catalog_store_t *self, s_node_t *node)
{
    if (*node->record->id
        && zhashx_lookup (self->node_ids, node->record->id) == node)
        zhashx_delete (self->node_ids, node->record->id);
}

static unsigned
s_delete_node (catalog_store_t *self, s_node_t *node)
{
    unsigned tables = CATALOG_TABLE_NODES;
    if (zhashx_size (node->services))
        tables |= CATALOG_TABLE_SERVICES;
    if (zhashx_size (node->checks))
        tables |= CATALOG_TABLE_CHECKS;
    catalog_service_t *service
        = (catalog_service_t *) zhashx_first (node->services);
    while (service) {
        s_by_name_remove (self, service);
        service = (catalog_service_t *) zhashx_next (node->services);
    }
    s_node_ids_remove (self, node);
    char *name = strdup (node->record->name);
    assert (name);
    zhashx_delete (self->nodes, name);
    free (name);
    return tables;
}

int
catalog_store_register_validate (catalog_store_t *self,
                                 const catalog_reg_t *reg,
                                 const char **error)
{
    assert (self && reg && reg->node);
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, reg->node->name);
    for (size_t i = 0; i < reg->check_count; i++) {
        const catalog_check_t *check = reg->checks[i];
        if (strcasecmp (check->node, reg->node->name) != 0) {
            *error = s_wrong_node;
            return -1;
        }
        if (!*check->service_id)
            continue;
        if (reg->service
            && strcasecmp (reg->service->id, check->service_id) == 0)
            continue;
        if (node && zhashx_lookup (node->services, check->service_id))
            continue;
        *error = s_missing_service;
        return -1;
    }
    return 0;
}

static unsigned
s_register_node (catalog_store_t *self, catalog_reg_t *reg, uint64_t index,
                 s_node_t **node_p)
{
    unsigned tables = 0;
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, reg->node->name);
    bool update = !node || !reg->skip_node_update;
    if (update && *reg->node->id) {
        //  A node ID held by a node of another name: Consul treats this as
        //  a rename and removes the old node first.
        s_node_t *holder
            = (s_node_t *) zhashx_lookup (self->node_ids, reg->node->id);
        if (holder && holder != node)
            tables |= s_delete_node (self, holder);
    }
    if (!node) {
        catalog_node_t *record = reg->node;
        reg->node = NULL;
        record->create_index = record->modify_index = index;
        node = s_node_new (record);
        zhashx_insert (self->nodes, record->name, node);
        s_node_ids_add (self, node);
        tables |= CATALOG_TABLE_NODES;
    }
    else
    if (update && !catalog_node_same (node->record, reg->node)) {
        s_node_ids_remove (self, node);
        reg->node->create_index = node->record->create_index;
        reg->node->modify_index = index;
        catalog_node_destroy (&node->record);
        node->record = reg->node;
        reg->node = NULL;
        s_node_ids_add (self, node);
        tables |= CATALOG_TABLE_NODES;
    }
    *node_p = node;
    return tables;
}

int
catalog_store_register (catalog_store_t *self, catalog_reg_t *reg,
                        uint64_t index, unsigned *tables, const char **error)
{
    assert (self && reg && reg->node && tables);
    *tables = 0;
    if (catalog_store_register_validate (self, reg, error))
        return -1;
    s_node_t *node = NULL;
    unsigned changed = s_register_node (self, reg, index, &node);

    if (reg->service) {
        catalog_service_t *service = reg->service;
        catalog_service_t *existing = (catalog_service_t *) zhashx_lookup (
            node->services, service->id);
        if (!existing || !catalog_service_same (existing, service)) {
            reg->service = NULL;
            service->create_index = existing ? existing->create_index : index;
            service->modify_index = index;
            if (existing)
                s_by_name_remove (self, existing);
            //  zhashx_update destroys the replaced record.
            zhashx_update (node->services, service->id, service);
            s_by_name_add (self, service);
            changed |= CATALOG_TABLE_SERVICES;
        }
    }
    for (size_t i = 0; i < reg->check_count; i++) {
        catalog_check_t *check = reg->checks[i];
        catalog_check_t *existing = (catalog_check_t *) zhashx_lookup (
            node->checks, check->check_id);
        if (existing && catalog_check_same (existing, check))
            continue;
        reg->checks[i] = NULL;
        check->create_index = existing ? existing->create_index : index;
        check->modify_index = index;
        zhashx_update (node->checks, check->check_id, check);
        changed |= CATALOG_TABLE_CHECKS;
    }
    s_touch (self, changed, index);
    *tables = changed;
    return 0;
}

int
catalog_store_deregister (catalog_store_t *self, const catalog_dereg_t *dereg,
                          uint64_t index, unsigned *tables)
{
    assert (self && dereg && tables);
    *tables = 0;
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, dereg->node);
    if (!node)
        return 0;
    unsigned changed = 0;
    if (!*dereg->service_id && !*dereg->check_id)
        changed = s_delete_node (self, node);
    else {
        if (*dereg->service_id) {
            catalog_service_t *service = (catalog_service_t *) zhashx_lookup (
                node->services, dereg->service_id);
            if (service) {
                zlist_t *doomed = zlist_new ();
                catalog_check_t *check
                    = (catalog_check_t *) zhashx_first (node->checks);
                while (check) {
                    if (strcasecmp (check->service_id, service->id) == 0)
                        zlist_append (doomed, (void *) zhashx_cursor (node->checks));
                    check = (catalog_check_t *) zhashx_next (node->checks);
                }
                //  Keys are copied before deleting: they live in the map.
                char *key;
                while ((key = (char *) zlist_pop (doomed))) {
                    char *copy = strdup (key);
                    zhashx_delete (node->checks, copy);
                    free (copy);
                    changed |= CATALOG_TABLE_CHECKS;
                }
                zlist_destroy (&doomed);
                s_by_name_remove (self, service);
                char *id = strdup (service->id);
                zhashx_delete (node->services, id);
                free (id);
                changed |= CATALOG_TABLE_SERVICES;
            }
        }
        if (*dereg->check_id
            && zhashx_lookup (node->checks, dereg->check_id)) {
            zhashx_delete (node->checks, dereg->check_id);
            changed |= CATALOG_TABLE_CHECKS;
        }
    }
    s_touch (self, changed, index);
    *tables = changed;
    return 0;
}

//  ---------------------------------------------------------------------
//  Reads

uint64_t
catalog_store_index (catalog_store_t *self, unsigned tables)
{
    uint64_t max = 0;
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        if ((tables & (1u << i)) && self->index[i] > max)
            max = self->index[i];
    return max;
}

uint64_t
catalog_store_epoch (catalog_store_t *self)
{
    return self->epoch;
}

size_t
catalog_store_node_count (catalog_store_t *self)
{
    return zhashx_size (self->nodes);
}

const catalog_node_t *
catalog_store_node (catalog_store_t *self, const char *name)
{
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, name);
    return node ? node->record : NULL;
}

void
catalog_store_nodes (catalog_store_t *self, catalog_list_t *out)
{
    for (s_node_t *node = (s_node_t *) zhashx_first (self->nodes); node;
         node = (s_node_t *) zhashx_next (self->nodes))
        catalog_list_push (out, node->record);
}

static void
s_push_all (zhashx_t *map, catalog_list_t *out)
{
    for (void *item = zhashx_first (map); item; item = zhashx_next (map))
        catalog_list_push (out, item);
}

void
catalog_store_node_services (catalog_store_t *self, const char *node_name,
                             catalog_list_t *out)
{
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, node_name);
    if (node)
        s_push_all (node->services, out);
}

void
catalog_store_node_checks (catalog_store_t *self, const char *node_name,
                           catalog_list_t *out)
{
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, node_name);
    if (node)
        s_push_all (node->checks, out);
}

const catalog_service_t *
catalog_store_service (catalog_store_t *self, const char *node_name,
                       const char *service_id)
{
    s_node_t *node = (s_node_t *) zhashx_lookup (self->nodes, node_name);
    return node ? (const catalog_service_t *) zhashx_lookup (node->services,
                                                             service_id)
                : NULL;
}

void
catalog_store_service_instances (catalog_store_t *self, const char *name,
                                 catalog_list_t *out)
{
    zhashx_t *instances = (zhashx_t *) zhashx_lookup (self->by_name, name);
    if (instances)
        s_push_all (instances, out);
}

void
catalog_store_service_names (catalog_store_t *self, catalog_list_t *out)
{
    for (zhashx_t *instances = (zhashx_t *) zhashx_first (self->by_name);
         instances; instances = (zhashx_t *) zhashx_next (self->by_name)) {
        void *first = zhashx_first (instances);
        if (first)
            catalog_list_push (out, first);
    }
}

void
catalog_store_checks (catalog_store_t *self, catalog_list_t *out)
{
    for (s_node_t *node = (s_node_t *) zhashx_first (self->nodes); node;
         node = (s_node_t *) zhashx_next (self->nodes))
        s_push_all (node->checks, out);
}

//  ---------------------------------------------------------------------
//  Snapshot and restore

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} s_text_t;

static void
s_text_add (s_text_t *text, const char *data, size_t size)
{
    if (text->size + size + 1 > text->capacity) {
        size_t capacity = text->capacity ? text->capacity : 4096;
        while (capacity < text->size + size + 1)
            capacity *= 2;
        char *grown = (char *) realloc (text->data, capacity);
        assert (grown);
        text->data = grown;
        text->capacity = capacity;
    }
    memcpy (text->data + text->size, data, size);
    text->size += size;
    text->data[text->size] = 0;
}

static void
s_text_add_json (s_text_t *text, const cJSON *item)
{
    char *printed = cJSON_PrintUnformatted (item);
    assert (printed);
    s_text_add (text, printed, strlen (printed));
    free (printed);
}

char *
catalog_store_snapshot (catalog_store_t *self, size_t *size)
{
    //  Written node by node so a large catalog never exists twice as a
    //  JSON tree.
    s_text_t text = { NULL, 0, 0 };
    cJSON *head = cJSON_CreateObject ();
    cJSON_AddNumberToObject (head, "Version", SNAPSHOT_VERSION);
    cJSON *tables = cJSON_AddObjectToObject (head, "Tables");
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++)
        cJSON_AddNumberToObject (tables, s_table_names[i],
                                 (double) self->index[i]);
    s_text_add_json (&text, head);
    cJSON_Delete (head);
    text.size--;                //  reopen the object
    s_text_add (&text, ",\"Nodes\":[", 10);
    bool first = true;
    for (s_node_t *node = (s_node_t *) zhashx_first (self->nodes); node;
         node = (s_node_t *) zhashx_next (self->nodes)) {
        cJSON *obj = catalog_node_to_json (node->record, true);
        cJSON *services = cJSON_AddArrayToObject (obj, "Services");
        for (catalog_service_t *service
             = (catalog_service_t *) zhashx_first (node->services);
             service;
             service = (catalog_service_t *) zhashx_next (node->services))
            cJSON_AddItemToArray (services,
                                  catalog_service_to_json (service, true));
        cJSON *checks = cJSON_AddArrayToObject (obj, "Checks");
        for (catalog_check_t *check
             = (catalog_check_t *) zhashx_first (node->checks);
             check; check = (catalog_check_t *) zhashx_next (node->checks))
            cJSON_AddItemToArray (checks, catalog_check_to_json (check, true));
        if (!first)
            s_text_add (&text, ",", 1);
        first = false;
        s_text_add_json (&text, obj);
        cJSON_Delete (obj);
    }
    s_text_add (&text, "]}", 2);
    *size = text.size;
    return text.data;
}

static int
s_fail (char *err, size_t err_size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
    return -1;
}

//  Loads one node object of a snapshot into fresh.
static int
s_restore_node (catalog_store_t *fresh, const cJSON *obj, char *err,
                size_t err_size)
{
    catalog_node_t *record = catalog_node_from_json (obj, true, err, err_size);
    if (!record)
        return -1;
    if (zhashx_lookup (fresh->nodes, record->name)) {
        s_fail (err, err_size, "node \"%s\" appears twice", record->name);
        catalog_node_destroy (&record);
        return -1;
    }
    s_node_t *node = s_node_new (record);
    zhashx_insert (fresh->nodes, record->name, node);
    s_node_ids_add (fresh, node);
    const cJSON *services = cJSON_GetObjectItem (obj, "Services");
    const cJSON *checks = cJSON_GetObjectItem (obj, "Checks");
    if ((services && !cJSON_IsArray (services))
        || (checks && !cJSON_IsArray (checks)))
        return s_fail (err, err_size, "node \"%s\": Services and Checks must "
                       "be arrays", record->name);
    const cJSON *item;
    cJSON_ArrayForEach (item, services) {
        catalog_service_t *service = catalog_service_from_json (
            item, record->name, true, err, err_size);
        if (!service)
            return -1;
        if (zhashx_lookup (node->services, service->id)) {
            catalog_service_destroy (&service);
            return s_fail (err, err_size, "node \"%s\": service ID appears "
                           "twice", record->name);
        }
        zhashx_insert (node->services, service->id, service);
        s_by_name_add (fresh, service);
    }
    cJSON_ArrayForEach (item, checks) {
        catalog_check_t *check = catalog_check_from_json (
            item, record->name, true, err, err_size);
        if (!check)
            return -1;
        if (zhashx_lookup (node->checks, check->check_id)
            || (*check->service_id
                && !zhashx_lookup (node->services, check->service_id))) {
            catalog_check_destroy (&check);
            return s_fail (err, err_size, "node \"%s\": duplicate check or "
                           "check of a missing service", record->name);
        }
        zhashx_insert (node->checks, check->check_id, check);
    }
    return 0;
}

int
catalog_store_restore (catalog_store_t *self, const char *data, size_t size,
                       char *err, size_t err_size)
{
    cJSON *root = cJSON_ParseWithLength (data, size);
    if (!cJSON_IsObject (root)) {
        cJSON_Delete (root);
        return s_fail (err, err_size, "snapshot is not a JSON object");
    }
    catalog_store_t *fresh = catalog_store_new ();
    int rc = -1;
    const cJSON *version = cJSON_GetObjectItem (root, "Version");
    const cJSON *tables = cJSON_GetObjectItem (root, "Tables");
    const cJSON *nodes = cJSON_GetObjectItem (root, "Nodes");
    if (!cJSON_IsNumber (version) || version->valuedouble != SNAPSHOT_VERSION) {
        s_fail (err, err_size, "unknown snapshot version");
        goto cleanup;
    }
    if (!cJSON_IsObject (tables) || !cJSON_IsArray (nodes)) {
        s_fail (err, err_size, "snapshot lacks Tables or Nodes");
        goto cleanup;
    }
    for (int i = 0; i < CATALOG_TABLE_COUNT; i++) {
        const cJSON *index = cJSON_GetObjectItem (tables, s_table_names[i]);
        if (!cJSON_IsNumber (index) || index->valuedouble < 0) {
            s_fail (err, err_size, "snapshot index of %s is missing",
                    s_table_names[i]);
            goto cleanup;
        }
        fresh->index[i] = (uint64_t) index->valuedouble;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, nodes)
        if (s_restore_node (fresh, item, err, err_size))
            goto cleanup;
    //  Swap the contents; fresh leaves with the old state.
    catalog_store_t old = *self;
    *self = *fresh;
    *fresh = old;
    self->epoch = old.epoch + 1;
    rc = 0;
cleanup:
    catalog_store_destroy (&fresh);
    cJSON_Delete (root);
    return rc;
}
