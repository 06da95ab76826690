/*  agent_def: Consul's service and check definition decoding and
    validation for the agent endpoints (see agent_def.h). */
#include "agent_def.h"
#include "json_render.h"
#include "request.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX_PAIRS   64
#define META_KEY_MAX     128
#define META_VALUE_MAX   512
#define WEIGHT_MAX       65535

void
agent_error_set (agent_error_t *error, unsigned status, const char *fmt, ...)
{
    error->status = status;
    va_list args;
    va_start (args, fmt);
    vsnprintf (error->text, sizeof error->text, fmt, args);
    va_end (args);
}

const cJSON *
agent_def_field (const cJSON *object, const char *canonical)
{
    const cJSON *found = NULL;
    const cJSON *child;
    if (!cJSON_IsObject (object))
        return NULL;
    cJSON_ArrayForEach (child, object)
        if (child->string && request_key_matches (child->string, canonical))
            found = child;
    //  JSON null leaves a Go field untouched: same as absent.
    return cJSON_IsNull (found) ? NULL : found;
}

static const char *
s_json_type (const cJSON *value)
{
    if (cJSON_IsString (value))
        return "string";
    if (cJSON_IsNumber (value))
        return "number";
    if (cJSON_IsBool (value))
        return "bool";
    if (cJSON_IsArray (value))
        return "array";
    if (cJSON_IsObject (value))
        return "object";
    return "null";
}

static int
s_type_error (agent_error_t *error, const cJSON *value, const char *where,
              const char *field, const char *type)
{
    agent_error_set (error, 400,
        "Request decode failed: json: cannot unmarshal %s into Go struct "
        "field %s.%s of type %s", s_json_type (value), where, field, type);
    return -1;
}

//  Optional string field: *out is NULL when absent.
static int
s_string (const cJSON *object, const char *field, const char *where,
          const char **out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (object, field);
    *out = NULL;
    if (!value)
        return 0;
    if (!cJSON_IsString (value))
        return s_type_error (error, value, where, field, "string");
    *out = value->valuestring;
    return 0;
}

static int
s_int (const cJSON *object, const char *field, const char *where,
       int64_t *out, bool *present, agent_error_t *error)
{
    const cJSON *value = agent_def_field (object, field);
    if (present)
        *present = value != NULL;
    if (!value)
        return 0;
    if (!cJSON_IsNumber (value)) 
        return s_type_error (error, value, where, field, "int");
    double number = value->valuedouble;
    if (number != trunc (number) || fabs (number) > 9007199254740992.0) {
        agent_error_set (error, 400,
            "Request decode failed: json: cannot unmarshal number %g into Go "
            "struct field %s.%s of type int", number, where, field);
        return -1;
    }
    *out = (int64_t) number;
    return 0;
}

static int
s_bool (const cJSON *object, const char *field, const char *where,
        bool *out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (object, field);
    if (!value)
        return 0;
    if (!cJSON_IsBool (value))
        return s_type_error (error, value, where, field, "bool");
    *out = cJSON_IsTrue (value);
    return 0;
}

//  []string field; *out gets a copy (empty array when absent).
static int
s_string_array (const cJSON *object, const char *field, const char *where,
                cJSON **out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (object, field);
    *out = cJSON_CreateArray ();
    if (!value)
        return 0;
    if (!cJSON_IsArray (value)) {
        cJSON_Delete (*out);
        *out = NULL;
        return s_type_error (error, value, where, field, "[]string");
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, value) {
        if (cJSON_IsNull (item)) {
            cJSON_AddItemToArray (*out, cJSON_CreateString (""));
            continue;
        }
        if (!cJSON_IsString (item)) {
            cJSON_Delete (*out);
            *out = NULL;
            return s_type_error (error, item, where, field, "string");
        }
        cJSON_AddItemToArray (*out, cJSON_CreateString (item->valuestring));
    }
    return 0;
}

//  map[string]string field; *out gets a sorted copy ({} when absent).
static int
s_string_map (const cJSON *object, const char *field, const char *where,
              cJSON **out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (object, field);
    *out = cJSON_CreateObject ();
    if (!value)
        return 0;
    if (!cJSON_IsObject (value)) {
        cJSON_Delete (*out);
        *out = NULL;
        return s_type_error (error, value, where, field, "map[string]string");
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, value) {
        if (!cJSON_IsString (item) && !cJSON_IsNull (item)) {
            cJSON_Delete (*out);
            *out = NULL;
            return s_type_error (error, item, where, field, "string");
        }
        cJSON_DeleteItemFromObjectCaseSensitive (*out, item->string);
        cJSON_AddStringToObject (*out, item->string,
                                 cJSON_IsString (item) ? item->valuestring : "");
    }
    json_sort_object (*out);
    return 0;
}

int
agent_def_duration (const cJSON *value, int64_t *ms, agent_error_t *error)
{
    *ms = 0;
    if (!value)
        return 0;
    if (cJSON_IsNumber (value)) {
        *ms = (int64_t) (value->valuedouble / 1e6);
        return 0;
    }
    if (cJSON_IsString (value)) {
        const char *text = value->valuestring;
        bool negative = text [0] == '-';
        int64_t parsed = 0;
        if (request_parse_wait (text, &parsed) != 0) {
            agent_error_set (error, 400,
                "Request decode failed: time: invalid duration \"%s\"", text);
            return -1;
        }
        *ms = negative ? -1 : parsed;
        return 0;
    }
    agent_error_set (error, 400,
        "Request decode failed: json: cannot unmarshal %s into Go value of "
        "type time.Duration", s_json_type (value));
    return -1;
}

bool
agent_def_status_valid (const char *status)
{
    return status && (strcmp (status, "passing") == 0
                   || strcmp (status, "warning") == 0
                   || strcmp (status, "critical") == 0);
}

static char *
s_dup (const char *text)
{
    return strdup (text ? text : "");
}

void
agent_check_def_clear (agent_check_def_t *def)
{
    free (def->check_id);
    free (def->name);
    free (def->notes);
    free (def->status);
    free (def->service_id);
    memset (def, 0, sizeof *def);
}

void
agent_service_def_clear (agent_service_def_t *def)
{
    cJSON_Delete (def->service);
    for (size_t i = 0; i < def->check_count; i++)
        agent_check_def_clear (&def->checks [i]);
    free (def->checks);
    memset (def, 0, sizeof *def);
}

//  Fields that make a check something other than a TTL check.
static const char *s_interval_fields [] = {
    "Script", "ScriptArgs", "Args", "HTTP", "TCP", "GRPC", "DockerContainerID",
    "H2PING", "UDP", "OSService", NULL
};

//  Decodes the fields shared by CheckType and CheckDefinition and runs
//  Consul's CheckType.Validate. Returns 0/-1.
static int
s_parse_check_common (const cJSON *body, const char *where,
                      agent_check_def_t *def, agent_error_t *error)
{
    const char *check_id = NULL, *id = NULL, *name = NULL, *notes = NULL;
    const char *status = NULL;
    if (s_string (body, "CheckID", where, &check_id, error)
    ||  s_string (body, "ID", where, &id, error)
    ||  s_string (body, "Name", where, &name, error)
    ||  s_string (body, "Notes", where, &notes, error)
    ||  s_string (body, "Status", where, &status, error))
        return -1;
    int64_t interval = 0, timeout = 0;
    if (agent_def_duration (agent_def_field (body, "TTL"), &def->ttl_ms, error)
    ||  agent_def_duration (agent_def_field (body, "Interval"), &interval, error)
    ||  agent_def_duration (agent_def_field (body, "Timeout"), &timeout, error)
    ||  agent_def_duration (agent_def_field (body, "DeregisterCriticalServiceAfter"),
                            &def->reap_ms, error))
        return -1;
    def->check_id = s_dup (check_id && *check_id ? check_id : id);
    def->name = s_dup (name);
    def->notes = s_dup (notes);
    def->status = s_dup (status);
    def->service_id = s_dup (NULL);

    bool interval_check = false;
    for (size_t i = 0; s_interval_fields [i]; i++) {
        const cJSON *field = agent_def_field (body, s_interval_fields [i]);
        if (field && !(cJSON_IsString (field) && !field->valuestring [0])
        &&  !(cJSON_IsArray (field) && cJSON_GetArraySize (field) == 0)
        &&  !cJSON_IsFalse (field))
            interval_check = true;
    }
    const cJSON *alias_node = agent_def_field (body, "AliasNode");
    const cJSON *alias_service = agent_def_field (body, "AliasService");
    bool alias = (cJSON_IsString (alias_node) && alias_node->valuestring [0])
              || (cJSON_IsString (alias_service) && alias_service->valuestring [0]);
    if (interval > 0 && def->ttl_ms > 0) {
        agent_error_set (error, 400,
            "Invalid check: Interval and TTL cannot both be specified");
        return -1;
    }
    if (interval_check && interval <= 0) {
        agent_error_set (error, 400,
            "Invalid check: Interval must be > 0 for Script, HTTP, or TCP checks");
        return -1;
    }
    if (!interval_check && !alias && def->ttl_ms <= 0) {
        agent_error_set (error, 400,
            "Invalid check: TTL must be > 0 for TTL checks");
        return -1;
    }
    if (interval_check || alias) {
        agent_error_set (error, 400,
            "Invalid check: only TTL checks are supported by this agent");
        return -1;
    }
    if (def->reap_ms < 0)
        def->reap_ms = 0;
    return 0;
}

int
agent_def_parse_check (const cJSON *body, agent_check_def_t *def,
                       agent_error_t *error)
{
    memset (def, 0, sizeof *def);
    if (!cJSON_IsObject (body)) {
        agent_error_set (error, 400,
            "Request decode failed: json: cannot unmarshal %s into Go value "
            "of type structs.CheckDefinition", s_json_type (body));
        return -1;
    }
    const char *service_id = NULL, *name = NULL, *status = NULL;
    if (s_string (body, "ServiceID", "CheckDefinition", &service_id, error)
    ||  s_string (body, "Name", "CheckDefinition", &name, error)
    ||  s_string (body, "Status", "CheckDefinition", &status, error))
        return -1;
    //  Duration decode errors come first, as in Consul's decode step.
    int64_t ignored;
    static const char *durations [] = {
        "TTL", "Interval", "Timeout", "DeregisterCriticalServiceAfter", NULL };
    for (size_t i = 0; durations [i]; i++)
        if (agent_def_duration (agent_def_field (body, durations [i]),
                                &ignored, error))
            return -1;
    if (!name || !*name) {
        agent_error_set (error, 400, "Missing check name");
        return -1;
    }
    if (status && *status && !agent_def_status_valid (status)) {
        agent_error_set (error, 400, "Bad check status");
        return -1;
    }
    if (s_parse_check_common (body, "CheckDefinition", def, error)) {
        agent_check_def_clear (def);
        return -1;
    }
    free (def->service_id);
    def->service_id = s_dup (service_id);
    if (!*def->check_id) {
        free (def->check_id);
        def->check_id = s_dup (def->name);
    }
    return 0;
}

static bool
s_address_is_any (const char *address)
{
    return address && (strcmp (address, "0.0.0.0") == 0
                    || strcmp (address, "::") == 0
                    || strcmp (address, "[::]") == 0);
}

static bool
s_meta_key_valid (const char *key)
{
    for (const char *p = key; *p; p++)
        if (!isalnum ((unsigned char) *p) && *p != '_' && *p != '-')
            return false;
    return *key != 0;
}

//  Consul's ValidateServiceMetadata. Returns 0/-1.
static int
s_validate_meta (const cJSON *meta, agent_error_t *error)
{
    if (cJSON_GetArraySize (meta) > META_MAX_PAIRS) {
        agent_error_set (error, 400, "Invalid Service Meta: Node metadata "
                         "cannot contain more than %d key/value pairs",
                         META_MAX_PAIRS);
        return -1;
    }
    const cJSON *pair;
    cJSON_ArrayForEach (pair, meta) {
        const char *key = pair->string, *value = pair->valuestring;
        const char *reason = NULL;
        char buf [64];
        if (!*key)
            reason = "Key cannot be blank";
        else
        if (!s_meta_key_valid (key))
            reason = "Key contains invalid characters";
        else
        if (strlen (key) > META_KEY_MAX) {
            snprintf (buf, sizeof buf, "Key is too long (limit: %d characters)",
                      META_KEY_MAX);
            reason = buf;
        }
        else
        if (strncmp (key, "consul-", 7) == 0)
            reason = "Key prefix 'consul-' is reserved for internal use";
        else
        if (strlen (value) > META_VALUE_MAX) {
            snprintf (buf, sizeof buf, "Value is too long (limit: %d characters)",
                      META_VALUE_MAX);
            reason = buf;
        }
        if (reason) {
            agent_error_set (error, 400, "Invalid Service Meta: Couldn't load "
                             "metadata pair ('%.128s', '%.64s'): %s",
                             key, value, reason);
            return -1;
        }
    }
    return 0;
}

//  TaggedAddresses: map[string]{Address string, Port int}, canonical copy.
static int
s_tagged_addresses (const cJSON *body, cJSON **out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (body, "TaggedAddresses");
    *out = cJSON_CreateObject ();
    if (!value)
        return 0;
    if (!cJSON_IsObject (value))
        return s_type_error (error, value, "ServiceDefinition", "TaggedAddresses",
                             "map[string]structs.ServiceAddress");
    const cJSON *entry;
    cJSON_ArrayForEach (entry, value) {
        if (cJSON_IsNull (entry))
            continue;
        if (!cJSON_IsObject (entry))
            return s_type_error (error, entry, "ServiceDefinition",
                                 "TaggedAddresses", "structs.ServiceAddress");
        const char *address = NULL;
        int64_t port = 0;
        if (s_string (entry, "Address", "ServiceAddress", &address, error)
        ||  s_int (entry, "Port", "ServiceAddress", &port, NULL, error))
            return -1;
        cJSON *canonical = cJSON_CreateObject ();
        cJSON_AddStringToObject (canonical, "Address", address ? address : "");
        cJSON_AddNumberToObject (canonical, "Port", (double) port);
        cJSON_DeleteItemFromObjectCaseSensitive (*out, entry->string);
        cJSON_AddItemToObject (*out, entry->string, canonical);
    }
    json_sort_object (*out);
    return 0;
}

static int
s_weights (const cJSON *body, cJSON **out, agent_error_t *error)
{
    const cJSON *value = agent_def_field (body, "Weights");
    int64_t passing = 1, warning = 1;
    *out = NULL;
    if (value) {
        if (!cJSON_IsObject (value))
            return s_type_error (error, value, "ServiceDefinition", "Weights",
                                 "structs.Weights");
        passing = 0;
        warning = 0;
        if (s_int (value, "Passing", "Weights", &passing, NULL, error)
        ||  s_int (value, "Warning", "Weights", &warning, NULL, error))
            return -1;
        const char *reason = NULL;
        if (passing < 1)
            reason = "Passing must be greater than 0";
        else
        if (warning < 0)
            reason = "Warning must be greater or equal than 0";
        else
        if (passing > WEIGHT_MAX || warning > WEIGHT_MAX)
            reason = "Weight must be smaller than 65536";
        if (reason) {
            agent_error_set (error, 400, "Invalid Weights: %s", reason);
            return -1;
        }
    }
    *out = cJSON_CreateObject ();
    cJSON_AddNumberToObject (*out, "Passing", (double) passing);
    cJSON_AddNumberToObject (*out, "Warning", (double) warning);
    return 0;
}

//  Collects Check and Checks, skipping an empty Check like Consul.
static int
s_service_checks (const cJSON *body, const char *service_id,
                  const char *service_name, agent_service_def_t *def,
                  agent_error_t *error)
{
    const cJSON *check = agent_def_field (body, "Check");
    const cJSON *checks = agent_def_field (body, "Checks");
    if (check && !cJSON_IsObject (check))
        return s_type_error (error, check, "ServiceDefinition", "Check",
                             "structs.CheckType");
    if (checks && !cJSON_IsArray (checks))
        return s_type_error (error, checks, "ServiceDefinition", "Checks",
                             "structs.CheckTypes");
    size_t capacity = (checks ? (size_t) cJSON_GetArraySize (checks) : 0) + 1;
    def->checks = calloc (capacity, sizeof (agent_check_def_t));
    if (!def->checks) {
        agent_error_set (error, 500, "out of memory");
        return -1;
    }
    const cJSON **list = calloc (capacity, sizeof (cJSON *));
    if (!list) {
        agent_error_set (error, 500, "out of memory");
        return -1;
    }
    int rc = -1;
    size_t count = 0;
    if (check && check->child)
        list [count++] = check;
    const cJSON *item;
    if (checks)
        cJSON_ArrayForEach (item, checks) {
            if (cJSON_IsNull (item))
                continue;
            if (!cJSON_IsObject (item)) {
                s_type_error (error, item, "ServiceDefinition", "Checks",
                              "structs.CheckType");
                goto done;
            }
            list [count++] = item;
        }
    for (size_t i = 0; i < count; i++) {
        agent_check_def_t *check_def = &def->checks [def->check_count];
        if (s_parse_check_common (list [i], "CheckType", check_def, error)) {
            agent_check_def_clear (check_def);
            goto done;
        }
        def->check_count++;
        if (*check_def->status && !agent_def_status_valid (check_def->status)) {
            agent_error_set (error, 400, "Status for checks must 'passing', "
                             "'warning', 'critical'");
            goto done;
        }
        free (check_def->service_id);
        check_def->service_id = s_dup (service_id);
        if (!*check_def->check_id) {
            free (check_def->check_id);
            if (count > 1) {
                if (asprintf (&check_def->check_id, "service:%s:%zu",
                              service_id, i + 1) < 0)
                    check_def->check_id = NULL;
            }
            else
            if (asprintf (&check_def->check_id, "service:%s", service_id) < 0)
                check_def->check_id = NULL;
        }
        if (!*check_def->name) {
            free (check_def->name);
            if (asprintf (&check_def->name, "Service '%s' check", service_name) < 0)
                check_def->name = NULL;
        }
        if (!check_def->check_id || !check_def->name) {
            agent_error_set (error, 500, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free (list);
    return rc;
}

int
agent_def_parse_service (const cJSON *body, agent_service_def_t *def,
                         agent_error_t *error)
{
    memset (def, 0, sizeof *def);
    if (!cJSON_IsObject (body)) {
        agent_error_set (error, 400,
            "Request decode failed: json: cannot unmarshal %s into Go value "
            "of type structs.ServiceDefinition", s_json_type (body));
        return -1;
    }
    const char *where = "ServiceDefinition";
    const char *id = NULL, *name = NULL, *address = NULL, *kind = NULL;
    int64_t port = 0;
    bool tag_override = false;
    cJSON *tags = NULL, *meta = NULL, *tagged = NULL, *weights = NULL;
    const cJSON *proxy = agent_def_field (body, "Proxy");
    const cJSON *connect = agent_def_field (body, "Connect");
    if (s_string (body, "ID", where, &id, error)
    ||  s_string (body, "Name", where, &name, error)
    ||  s_string (body, "Address", where, &address, error)
    ||  s_string (body, "Kind", where, &kind, error)
    ||  s_int (body, "Port", where, &port, NULL, error)
    ||  s_bool (body, "EnableTagOverride", where, &tag_override, error)
    ||  s_string_array (body, "Tags", where, &tags, error)
    ||  s_string_map (body, "Meta", where, &meta, error)
    ||  s_tagged_addresses (body, &tagged, error))
        goto failed;
    if (proxy && !cJSON_IsObject (proxy)) {
        s_type_error (error, proxy, where, "Proxy", "structs.ConnectProxyConfig");
        goto failed;
    }
    if (connect && !cJSON_IsObject (connect)) {
        s_type_error (error, connect, where, "Connect", "structs.ServiceConnect");
        goto failed;
    }
    if (!name || !*name) {
        agent_error_set (error, 400, "Missing service name");
        goto failed;
    }
    if (s_address_is_any (address)) {
        agent_error_set (error, 400, "Invalid service address");
        goto failed;
    }
    if (s_weights (body, &weights, error) || s_validate_meta (meta, error))
        goto failed;
    const char *service_id = (id && *id) ? id : name;
    if (s_service_checks (body, service_id, name, def, error))
        goto failed;

    def->service = cJSON_CreateObject ();
    if (kind && *kind)
        cJSON_AddStringToObject (def->service, "Kind", kind);
    cJSON_AddStringToObject (def->service, "ID", service_id);
    cJSON_AddStringToObject (def->service, "Service", name);
    cJSON_AddItemToObject (def->service, "Tags", tags);
    cJSON_AddStringToObject (def->service, "Address", address ? address : "");
    cJSON_AddItemToObject (def->service, "TaggedAddresses", tagged);
    cJSON_AddItemToObject (def->service, "Meta", meta);
    cJSON_AddNumberToObject (def->service, "Port", (double) port);
    cJSON_AddItemToObject (def->service, "Weights", weights);
    cJSON_AddBoolToObject (def->service, "EnableTagOverride", tag_override);
    if (proxy)
        cJSON_AddItemToObject (def->service, "Proxy", cJSON_Duplicate (proxy, true));
    if (connect)
        cJSON_AddItemToObject (def->service, "Connect",
                               cJSON_Duplicate (connect, true));
    return 0;

failed:
    cJSON_Delete (tags);
    cJSON_Delete (meta);
    cJSON_Delete (tagged);
    cJSON_Delete (weights);
    agent_service_def_clear (def);
    return -1;
}
