/*  record: parsing, validation, defaults and JSON of the catalog's records
    (see record.h). Validation follows Consul's catalog endpoint: the same
    required fields, defaults and error texts where Consul has them. */
#include "record.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define META_MAX_PAIRS   64
#define META_KEY_MAX     128
#define META_VALUE_MAX   512

static const char *s_status_names[] = { "passing", "warning", "critical" };

static const char *s_kinds[] = {
    "", "connect-proxy", "mesh-gateway", "terminating-gateway",
    "ingress-gateway", NULL
};

const char *
catalog_status_name (catalog_status_t status)
{
    if (status < CATALOG_PASSING || status > CATALOG_CRITICAL)
        return "critical";
    return s_status_names[status];
}

int
catalog_status_parse (const char *text, catalog_status_t *status)
{
    for (int i = CATALOG_PASSING; i <= CATALOG_CRITICAL; i++)
        if (text && strcmp (text, s_status_names[i]) == 0) {
            *status = (catalog_status_t) i;
            return 0;
        }
    return -1;
}

catalog_status_t
catalog_status_worst (catalog_status_t a, catalog_status_t b)
{
    return a > b ? a : b;
}

//  ---------------------------------------------------------------------
//  Field readers. Each returns 0, or -1 with a message naming the field.

static int
s_fail (char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, err_size, fmt, args);
        va_end (args);
    }
    return -1;
}

static char *
s_dup (const char *text)
{
    char *copy = strdup (text ? text : "");
    assert (copy);
    return copy;
}

//  The field of obj named key, or NULL when absent or JSON null.
static const cJSON *
s_field (const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem (obj, key);
    return cJSON_IsNull (item) ? NULL : item;
}

static int
s_read_string (const cJSON *obj, const char *key, const char *prefix,
               char **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    if (item && !cJSON_IsString (item))
        return s_fail (err, err_size, "%s%s: must be a string", prefix, key);
    *out = s_dup (item ? item->valuestring : "");
    return 0;
}

static int
s_read_bool (const cJSON *obj, const char *key, const char *prefix,
             bool *out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    if (item && !cJSON_IsBool (item))
        return s_fail (err, err_size, "%s%s: must be true or false", prefix, key);
    *out = cJSON_IsTrue (item);
    return 0;
}

static bool
s_integral (const cJSON *item, double min, double max)
{
    if (!cJSON_IsNumber (item))
        return false;
    double value = item->valuedouble;
    return isfinite (value) && value == floor (value) && value >= min
           && value <= max;
}

static int
s_read_int (const cJSON *obj, const char *key, const char *prefix, int min,
            int max, int fallback, int *out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    if (!item) {
        *out = fallback;
        return 0;
    }
    if (!s_integral (item, min, max))
        return s_fail (err, err_size, "%s%s: must be an integer %d..%d",
                       prefix, key, min, max);
    *out = (int) item->valuedouble;
    return 0;
}

static int
s_read_index (const cJSON *obj, const char *key, uint64_t *out,
              char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    if (!item) {
        *out = 0;
        return 0;
    }
    //  2^53: the largest integer a JSON double carries exactly.
    if (!s_integral (item, 0, 9007199254740992.0))
        return s_fail (err, err_size, "%s: must be an unsigned integer", key);
    *out = (uint64_t) item->valuedouble;
    return 0;
}

//  An optional object kept as given (Proxy, Connect): NULL when absent.
static int
s_read_object (const cJSON *obj, const char *key, const char *prefix,
               cJSON **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    *out = NULL;
    if (!item)
        return 0;
    if (!cJSON_IsObject (item))
        return s_fail (err, err_size, "%s%s: must be an object", prefix, key);
    *out = cJSON_Duplicate (item, true);
    assert (*out);
    return 0;
}

static bool
s_meta_key_valid (const char *key)
{
    if (!*key)
        return false;
    for (const char *c = key; *c; c++)
        if (!isalnum ((unsigned char) *c) && *c != '_' && *c != '-')
            return false;
    return true;
}

//  An object of string values; always returns an object (maybe empty).
//  With meta_rules, Consul's metadata limits apply (pairs, key format and
//  sizes). The "consul-" prefix is not refused: Consul reserves it only
//  for agent-side registrations.
static int
s_read_string_map (const cJSON *obj, const char *key, const char *prefix,
                   bool meta_rules, cJSON **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    *out = NULL;
    if (item && !cJSON_IsObject (item))
        return s_fail (err, err_size, "%s%s: must be an object of strings",
                       prefix, key);
    cJSON *map = cJSON_CreateObject ();
    assert (map);
    int pairs = 0;
    const cJSON *child;
    cJSON_ArrayForEach (child, item) {
        if (!cJSON_IsString (child)) {
            cJSON_Delete (map);
            return s_fail (err, err_size, "%s%s.%s: must be a string",
                           prefix, key, child->string);
        }
        if (meta_rules) {
            const char *reason = NULL;
            if (++pairs > META_MAX_PAIRS)
                reason = "cannot contain more than 64 key/value pairs";
            else if (strlen (child->string) > META_KEY_MAX)
                reason = "key is too long (limit: 128 characters)";
            else if (!s_meta_key_valid (child->string))
                reason = "key contains invalid characters";
            else if (strlen (child->valuestring) > META_VALUE_MAX)
                reason = "value is too long (limit: 512 characters)";
            if (reason) {
                cJSON_Delete (map);
                return s_fail (err, err_size, "%s%s: \"%s\": %s", prefix,
                               key, child->string, reason);
            }
        }
        //  A repeated key keeps its last value, as a Go map would.
        cJSON_DeleteItemFromObjectCaseSensitive (map, child->string);
        cJSON_AddStringToObject (map, child->string, child->valuestring);
    }
    *out = map;
    return 0;
}

static int
s_read_string_array (const cJSON *obj, const char *key, const char *prefix,
                     cJSON **out, char *err, size_t err_size)
{
    const cJSON *item = s_field (obj, key);
    *out = NULL;
    if (item && !cJSON_IsArray (item))
        return s_fail (err, err_size, "%s%s: must be an array of strings",
                       prefix, key);
    cJSON *array = cJSON_CreateArray ();
    assert (array);
    const cJSON *child;
    cJSON_ArrayForEach (child, item) {
        if (!cJSON_IsString (child)) {
            cJSON_Delete (array);
            return s_fail (err, err_size, "%s%s: must be an array of strings",
                           prefix, key);
        }
        cJSON_AddItemToArray (array, cJSON_CreateString (child->valuestring));
    }
    *out = array;
    return 0;
}

//  A service's TaggedAddresses: {"name":{"Address":"..","Port":n}}.
static int
s_read_service_addresses (const cJSON *obj, cJSON **out, char *err,
                          size_t err_size)
{
    const cJSON *item = s_field (obj, "TaggedAddresses");
    *out = NULL;
    if (item && !cJSON_IsObject (item))
        return s_fail (err, err_size,
                       "Service.TaggedAddresses: must be an object");
    cJSON *map = cJSON_CreateObject ();
    assert (map);
    const cJSON *child;
    cJSON_ArrayForEach (child, item) {
        char *address = NULL;
        int port = 0;
        char prefix[160];
        snprintf (prefix, sizeof prefix, "Service.TaggedAddresses.%.100s.",
                  child->string);
        if (!cJSON_IsObject (child)) {
            cJSON_Delete (map);
            return s_fail (err, err_size, "%.*s: must be an object",
                           (int) strlen (prefix) - 1, prefix);
        }
        if (s_read_string (child, "Address", prefix, &address, err, err_size)
            || s_read_int (child, "Port", prefix, 0, 65535, 0, &port, err,
                           err_size)) {
            free (address);
            cJSON_Delete (map);
            return -1;
        }
        cJSON *entry = cJSON_CreateObject ();
        cJSON_AddStringToObject (entry, "Address", address);
        cJSON_AddNumberToObject (entry, "Port", port);
        cJSON_DeleteItemFromObjectCaseSensitive (map, child->string);
        cJSON_AddItemToObject (map, child->string, entry);
        free (address);
    }
    *out = map;
    return 0;
}

static bool
s_uuid_valid (const char *text)
{
    if (strlen (text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
        }
        else
        if (!isxdigit ((unsigned char) text[i]))
            return false;
    }
    return true;
}

static bool
s_address_is_any (const char *address)
{
    return strcmp (address, "0.0.0.0") == 0 || strcmp (address, "::") == 0
           || strcmp (address, "[::]") == 0;
}

//  ---------------------------------------------------------------------
//  Nodes

catalog_node_t *
catalog_node_from_json (const cJSON *obj, bool with_indexes, char *err,
                        size_t err_size)
{
    if (!cJSON_IsObject (obj)) {
        s_fail (err, err_size, "body must be a JSON object");
        return NULL;
    }
    catalog_node_t *self = (catalog_node_t *) calloc (1, sizeof *self);
    assert (self);
    if (s_read_string (obj, "Node", "", &self->name, err, err_size)
        || s_read_string (obj, "ID", "", &self->id, err, err_size)
        || s_read_string (obj, "Address", "", &self->address, err, err_size)
        || s_read_string_map (obj, "TaggedAddresses", "", false,
                              &self->tagged_addresses, err, err_size)
        || s_read_string_map (obj, "NodeMeta", "", true, &self->meta,
                              err, err_size))
        goto fail;
    if (!*self->name) {
        s_fail (err, err_size, "Must provide node");
        goto fail;
    }
    if (*self->id && !s_uuid_valid (self->id)) {
        s_fail (err, err_size, "Bad node ID: \"%s\" is not a UUID", self->id);
        goto fail;
    }
    if (with_indexes
        && (s_read_index (obj, "CreateIndex", &self->create_index, err,
                          err_size)
            || s_read_index (obj, "ModifyIndex", &self->modify_index, err,
                             err_size)))
        goto fail;
    return self;
fail:
    catalog_node_destroy (&self);
    return NULL;
}

static void
s_add_indexes (cJSON *obj, uint64_t create_index, uint64_t modify_index)
{
    cJSON_AddNumberToObject (obj, "CreateIndex", (double) create_index);
    cJSON_AddNumberToObject (obj, "ModifyIndex", (double) modify_index);
}

static cJSON *
s_dup_json (const cJSON *item)
{
    cJSON *copy = cJSON_Duplicate (item, true);
    assert (copy);
    return copy;
}

cJSON *
catalog_node_to_json (const catalog_node_t *self, bool with_indexes)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "Node", self->name);
    cJSON_AddStringToObject (obj, "ID", self->id);
    cJSON_AddStringToObject (obj, "Address", self->address);
    cJSON_AddItemToObject (obj, "TaggedAddresses",
                           s_dup_json (self->tagged_addresses));
    cJSON_AddItemToObject (obj, "NodeMeta", s_dup_json (self->meta));
    if (with_indexes)
        s_add_indexes (obj, self->create_index, self->modify_index);
    return obj;
}

void
catalog_node_destroy (catalog_node_t **self_p)
{
    assert (self_p);
    catalog_node_t *self = *self_p;
    if (self) {
        free (self->name);
        free (self->id);
        free (self->address);
        cJSON_Delete (self->tagged_addresses);
        cJSON_Delete (self->meta);
        free (self);
        *self_p = NULL;
    }
}

bool
catalog_node_same (const catalog_node_t *a, const catalog_node_t *b)
{
    return strcmp (a->name, b->name) == 0 && strcmp (a->id, b->id) == 0
           && strcmp (a->address, b->address) == 0
           && cJSON_Compare (a->tagged_addresses, b->tagged_addresses, true)
           && cJSON_Compare (a->meta, b->meta, true);
}

bool
catalog_node_meta_match (const catalog_node_t *self, const cJSON *filter)
{
    const cJSON *want;
    cJSON_ArrayForEach (want, filter) {
        const cJSON *have
            = cJSON_GetObjectItemCaseSensitive (self->meta, want->string);
        if (!cJSON_IsString (have) || !cJSON_IsString (want)
            || strcmp (have->valuestring, want->valuestring) != 0)
            return false;
    }
    return true;
}

//  ---------------------------------------------------------------------
//  Services

static int
s_service_validate (catalog_service_t *self, char *err, size_t err_size)
{
    bool kind_known = false;
    for (int i = 0; s_kinds[i]; i++)
        if (strcmp (self->kind, s_kinds[i]) == 0)
            kind_known = true;
    if (!kind_known)
        return s_fail (err, err_size, "Invalid service kind: \"%s\"",
                       self->kind);
    if (s_address_is_any (self->address))
        return s_fail (err, err_size, "Invalid service address");
    if (strcmp (self->kind, "connect-proxy") == 0) {
        const cJSON *dest = self->proxy
            ? cJSON_GetObjectItem (self->proxy, "DestinationServiceName")
            : NULL;
        if (!cJSON_IsString (dest) || !*dest->valuestring)
            return s_fail (err, err_size,
                           "Proxy.DestinationServiceName must be non-empty "
                           "for Connect proxy services");
        if (self->port == 0)
            return s_fail (err, err_size,
                           "Port must be non-zero for a Connect proxy "
                           "service");
    }
    return 0;
}

catalog_service_t *
catalog_service_from_json (const cJSON *obj, const char *node,
                           bool with_indexes, char *err, size_t err_size)
{
    const char *prefix = "Service.";
    if (!cJSON_IsObject (obj)) {
        s_fail (err, err_size, "Service: must be an object");
        return NULL;
    }
    catalog_service_t *self = (catalog_service_t *) calloc (1, sizeof *self);
    assert (self);
    self->node = s_dup (node);
    self->weight_passing = self->weight_warning = 1;
    const cJSON *weights = s_field (obj, "Weights");
    if (s_read_string (obj, "ID", prefix, &self->id, err, err_size)
        || s_read_string (obj, "Service", prefix, &self->name, err, err_size)
        || s_read_string (obj, "Kind", prefix, &self->kind, err, err_size)
        || s_read_string_array (obj, "Tags", prefix, &self->tags, err,
                                err_size)
        || s_read_string (obj, "Address", prefix, &self->address, err,
                          err_size)
        || s_read_service_addresses (obj, &self->tagged_addresses, err,
                                     err_size)
        || s_read_string_map (obj, "Meta", prefix, true, &self->meta,
                              err, err_size)
        || s_read_int (obj, "Port", prefix, 0, 65535, 0, &self->port, err,
                       err_size)
        || s_read_bool (obj, "EnableTagOverride", prefix,
                        &self->enable_tag_override, err, err_size)
        || s_read_object (obj, "Proxy", prefix, &self->proxy, err, err_size)
        || s_read_object (obj, "Connect", prefix, &self->connect, err,
                          err_size))
        goto fail;
    if (weights) {
        if (!cJSON_IsObject (weights)) {
            s_fail (err, err_size, "Service.Weights: must be an object");
            goto fail;
        }
        if (s_read_int (weights, "Passing", "Service.Weights.", 0, 65535, 0,
                        &self->weight_passing, err, err_size)
            || s_read_int (weights, "Warning", "Service.Weights.", 0, 65535,
                           0, &self->weight_warning, err, err_size))
            goto fail;
    }
    if (!*self->name) {
        s_fail (err, err_size, *self->id ? "Must provide service name with ID"
                                         : "Must provide service name");
        goto fail;
    }
    if (!*self->id) {
        free (self->id);
        self->id = s_dup (self->name);
    }
    if (s_service_validate (self, err, err_size))
        goto fail;
    if (with_indexes
        && (s_read_index (obj, "CreateIndex", &self->create_index, err,
                          err_size)
            || s_read_index (obj, "ModifyIndex", &self->modify_index, err,
                             err_size)))
        goto fail;
    return self;
fail:
    catalog_service_destroy (&self);
    return NULL;
}

cJSON *
catalog_service_to_json (const catalog_service_t *self, bool with_indexes)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "ID", self->id);
    cJSON_AddStringToObject (obj, "Service", self->name);
    cJSON_AddStringToObject (obj, "Kind", self->kind);
    cJSON_AddItemToObject (obj, "Tags", s_dup_json (self->tags));
    cJSON_AddStringToObject (obj, "Address", self->address);
    cJSON_AddItemToObject (obj, "TaggedAddresses",
                           s_dup_json (self->tagged_addresses));
    cJSON_AddItemToObject (obj, "Meta", s_dup_json (self->meta));
    cJSON_AddNumberToObject (obj, "Port", self->port);
    cJSON *weights = cJSON_AddObjectToObject (obj, "Weights");
    cJSON_AddNumberToObject (weights, "Passing", self->weight_passing);
    cJSON_AddNumberToObject (weights, "Warning", self->weight_warning);
    cJSON_AddBoolToObject (obj, "EnableTagOverride", self->enable_tag_override);
    if (self->proxy)
        cJSON_AddItemToObject (obj, "Proxy", s_dup_json (self->proxy));
    if (self->connect)
        cJSON_AddItemToObject (obj, "Connect", s_dup_json (self->connect));
    if (with_indexes)
        s_add_indexes (obj, self->create_index, self->modify_index);
    return obj;
}

void
catalog_service_destroy (catalog_service_t **self_p)
{
    assert (self_p);
    catalog_service_t *self = *self_p;
    if (self) {
        free (self->node);
        free (self->id);
        free (self->name);
        free (self->kind);
        cJSON_Delete (self->tags);
        free (self->address);
        cJSON_Delete (self->tagged_addresses);
        cJSON_Delete (self->meta);
        cJSON_Delete (self->proxy);
        cJSON_Delete (self->connect);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_json_same (const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    return cJSON_Compare (a, b, true);
}

bool
catalog_service_same (const catalog_service_t *a, const catalog_service_t *b)
{
    return strcmp (a->node, b->node) == 0 && strcmp (a->id, b->id) == 0
           && strcmp (a->name, b->name) == 0
           && strcmp (a->kind, b->kind) == 0
           && strcmp (a->address, b->address) == 0 && a->port == b->port
           && a->weight_passing == b->weight_passing
           && a->weight_warning == b->weight_warning
           && a->enable_tag_override == b->enable_tag_override
           && s_json_same (a->tags, b->tags)
           && s_json_same (a->tagged_addresses, b->tagged_addresses)
           && s_json_same (a->meta, b->meta)
           && s_json_same (a->proxy, b->proxy)
           && s_json_same (a->connect, b->connect);
}

bool
catalog_service_has_tag (const catalog_service_t *self, const char *tag)
{
    const cJSON *item;
    cJSON_ArrayForEach (item, self->tags)
        if (cJSON_IsString (item) && strcasecmp (item->valuestring, tag) == 0)
            return true;
    return false;
}

//  ---------------------------------------------------------------------
//  Checks

catalog_check_t *
catalog_check_from_json (const cJSON *obj, const char *node,
                         bool with_indexes, char *err, size_t err_size)
{
    const char *prefix = "Check.";
    if (!cJSON_IsObject (obj)) {
        s_fail (err, err_size, "Check: must be an object");
        return NULL;
    }
    catalog_check_t *self = (catalog_check_t *) calloc (1, sizeof *self);
    assert (self);
    char *status = NULL;
    const cJSON *definition = s_field (obj, "Definition");
    if (s_read_string (obj, "Node", prefix, &self->node, err, err_size)
        || s_read_string (obj, "CheckID", prefix, &self->check_id, err,
                          err_size)
        || s_read_string (obj, "Name", prefix, &self->name, err, err_size)
        || s_read_string (obj, "Status", prefix, &status, err, err_size)
        || s_read_string (obj, "Notes", prefix, &self->notes, err, err_size)
        || s_read_string (obj, "Output", prefix, &self->output, err, err_size)
        || s_read_string (obj, "ServiceID", prefix, &self->service_id, err,
                          err_size)
        || s_read_string (obj, "Type", prefix, &self->type, err, err_size))
        goto fail;
    if (definition && !cJSON_IsObject (definition)) {
        s_fail (err, err_size, "Check.Definition: must be an object");
        goto fail;
    }
    self->definition = definition ? s_dup_json (definition)
                                  : cJSON_CreateObject ();
    if (!*self->node) {
        free (self->node);
        self->node = s_dup (node);
    }
    else
    if (strcasecmp (self->node, node) != 0) {
        s_fail (err, err_size,
                "Check node \"%s\" does not match registration node \"%s\"",
                self->node, node);
        goto fail;
    }
    if (!*self->check_id) {
        free (self->check_id);
        self->check_id = s_dup (self->name);
    }
    if (!*self->check_id) {
        s_fail (err, err_size, "Missing check ID (give CheckID or Name)");
        goto fail;
    }
    if (!*status)
        self->status = CATALOG_CRITICAL;
    else
    if (catalog_status_parse (status, &self->status)) {
        s_fail (err, err_size, "Invalid check status: \"%s\"", status);
        goto fail;
    }
    if (with_indexes
        && (s_read_index (obj, "CreateIndex", &self->create_index, err,
                          err_size)
            || s_read_index (obj, "ModifyIndex", &self->modify_index, err,
                             err_size)))
        goto fail;
    free (status);
    return self;
fail:
    free (status);
    catalog_check_destroy (&self);
    return NULL;
}

cJSON *
catalog_check_to_json (const catalog_check_t *self, bool with_indexes)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "Node", self->node);
    cJSON_AddStringToObject (obj, "CheckID", self->check_id);
    cJSON_AddStringToObject (obj, "Name", self->name);
    cJSON_AddStringToObject (obj, "Status", catalog_status_name (self->status));
    cJSON_AddStringToObject (obj, "Notes", self->notes);
    cJSON_AddStringToObject (obj, "Output", self->output);
    cJSON_AddStringToObject (obj, "ServiceID", self->service_id);
    cJSON_AddStringToObject (obj, "Type", self->type);
    cJSON_AddItemToObject (obj, "Definition", s_dup_json (self->definition));
    if (with_indexes)
        s_add_indexes (obj, self->create_index, self->modify_index);
    return obj;
}

void
catalog_check_destroy (catalog_check_t **self_p)
{
    assert (self_p);
    catalog_check_t *self = *self_p;
    if (self) {
        free (self->node);
        free (self->check_id);
        free (self->name);
        free (self->notes);
        free (self->output);
        free (self->service_id);
        free (self->type);
        cJSON_Delete (self->definition);
        free (self);
        *self_p = NULL;
    }
}

bool
catalog_check_same (const catalog_check_t *a, const catalog_check_t *b)
{
    return strcmp (a->node, b->node) == 0
           && strcmp (a->check_id, b->check_id) == 0
           && strcmp (a->name, b->name) == 0 && a->status == b->status
           && strcmp (a->notes, b->notes) == 0
           && strcmp (a->output, b->output) == 0
           && strcmp (a->service_id, b->service_id) == 0
           && strcmp (a->type, b->type) == 0
           && s_json_same (a->definition, b->definition);
}

//  ---------------------------------------------------------------------
//  Register and deregister bodies

static int
s_reg_add_check (catalog_reg_t *self, const cJSON *obj, char *err,
                 size_t err_size)
{
    catalog_check_t *check
        = catalog_check_from_json (obj, self->node->name, false, err, err_size);
    if (!check)
        return -1;
    catalog_check_t **checks = (catalog_check_t **) realloc (
        self->checks, (self->check_count + 1) * sizeof *checks);
    assert (checks);
    self->checks = checks;
    self->checks[self->check_count++] = check;
    return 0;
}

catalog_reg_t *
catalog_reg_from_json (const cJSON *body, char *err, size_t err_size)
{
    if (!cJSON_IsObject (body)) {
        s_fail (err, err_size, "body must be a JSON object");
        return NULL;
    }
    catalog_reg_t *self = (catalog_reg_t *) calloc (1, sizeof *self);
    assert (self);
    char *datacenter = NULL;
    if (s_read_string (body, "Datacenter", "", &datacenter, err, err_size)
        || s_read_bool (body, "SkipNodeUpdate", "", &self->skip_node_update,
                        err, err_size))
        goto fail;
    self->node = catalog_node_from_json (body, false, err, err_size);
    if (!self->node)
        goto fail;
    if (!*self->node->address && !self->skip_node_update) {
        s_fail (err, err_size,
                "Must provide address if SkipNodeUpdate is not set");
        goto fail;
    }
    const cJSON *service = s_field (body, "Service");
    if (service) {
        self->service = catalog_service_from_json (service, self->node->name,
                                                   false, err, err_size);
        if (!self->service)
            goto fail;
    }
    const cJSON *check = s_field (body, "Check");
    if (check && s_reg_add_check (self, check, err, err_size))
        goto fail;
    const cJSON *checks = s_field (body, "Checks");
    if (checks && !cJSON_IsArray (checks)) {
        s_fail (err, err_size, "Checks: must be an array of objects");
        goto fail;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, checks)
        if (s_reg_add_check (self, item, err, err_size))
            goto fail;
    free (datacenter);
    return self;
fail:
    free (datacenter);
    catalog_reg_destroy (&self);
    return NULL;
}

cJSON *
catalog_reg_to_json (const catalog_reg_t *self)
{
    cJSON *obj = catalog_node_to_json (self->node, false);
    cJSON_AddBoolToObject (obj, "SkipNodeUpdate", self->skip_node_update);
    if (self->service)
        cJSON_AddItemToObject (obj, "Service",
                               catalog_service_to_json (self->service, false));
    cJSON *checks = cJSON_AddArrayToObject (obj, "Checks");
    for (size_t i = 0; i < self->check_count; i++)
        cJSON_AddItemToArray (checks,
                              catalog_check_to_json (self->checks[i], false));
    return obj;
}

void
catalog_reg_destroy (catalog_reg_t **self_p)
{
    assert (self_p);
    catalog_reg_t *self = *self_p;
    if (self) {
        catalog_node_destroy (&self->node);
        catalog_service_destroy (&self->service);
        for (size_t i = 0; i < self->check_count; i++)
            catalog_check_destroy (&self->checks[i]);
        free (self->checks);
        free (self);
        *self_p = NULL;
    }
}

catalog_dereg_t *
catalog_dereg_from_json (const cJSON *body, char *err, size_t err_size)
{
    if (!cJSON_IsObject (body)) {
        s_fail (err, err_size, "body must be a JSON object");
        return NULL;
    }
    catalog_dereg_t *self = (catalog_dereg_t *) calloc (1, sizeof *self);
    assert (self);
    char *datacenter = NULL;
    if (s_read_string (body, "Datacenter", "", &datacenter, err, err_size)
        || s_read_string (body, "Node", "", &self->node, err, err_size)
        || s_read_string (body, "ServiceID", "", &self->service_id, err,
                          err_size)
        || s_read_string (body, "CheckID", "", &self->check_id, err,
                          err_size))
        goto fail;
    if (!*self->node) {
        s_fail (err, err_size, "Must provide node");
        goto fail;
    }
    free (datacenter);
    return self;
fail:
    free (datacenter);
    catalog_dereg_destroy (&self);
    return NULL;
}

cJSON *
catalog_dereg_to_json (const catalog_dereg_t *self)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "Node", self->node);
    cJSON_AddStringToObject (obj, "ServiceID", self->service_id);
    cJSON_AddStringToObject (obj, "CheckID", self->check_id);
    return obj;
}

void
catalog_dereg_destroy (catalog_dereg_t **self_p)
{
    assert (self_p);
    catalog_dereg_t *self = *self_p;
    if (self) {
        free (self->node);
        free (self->service_id);
        free (self->check_id);
        free (self);
        *self_p = NULL;
    }
}
