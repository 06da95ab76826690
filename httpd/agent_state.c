/*  agent_state: the agent's local services and checks, TTL timers, the
    critical-service reaper, persistence through agent_store and the
    anti-entropy bookkeeping (see agent_state.h). */
#include "agent_state.h"
#include "agent_store.h"
#include "json_render.h"
#include "log.h"
#include "timeutil.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_SERVICES "services"
#define KIND_CHECKS   "checks"
#define NO_DEADLINE   INT64_MAX

typedef struct {
    char *id;
    cJSON *service;             //  canonical NodeService
    uint64_t version;
    uint64_t synced;
} s_service_t;

typedef struct {
    char *id;
    char *name;
    char *notes;
    char *service_id;           //  "" for a node check
    char *initial_status;       //  status at registration
    char *status;
    char *output;
    char *last_output;          //  last output set by an update
    int64_t ttl_ms;
    int64_t reap_ms;
    int64_t deadline;           //  monotonic ms when the TTL expires, 0 = off
    int64_t critical_since;     //  monotonic ms, 0 = not critical
    int64_t expires_wall;       //  wall-clock ms of deadline (persisted)
    uint64_t version;
    uint64_t synced;
} s_check_t;

struct _agent_state_t {
    char *node_name;
    agent_store_t *store;       //  NULL: memory only
    zhashx_t *services;         //  id -> s_service_t
    zhashx_t *checks;           //  id -> s_check_t
    zhashx_t *dirty_services;   //  ids that may need a register
    zhashx_t *dirty_checks;
    zhashx_t *dropped_services; //  tombstones: ids to deregister
    zhashx_t *dropped_checks;
    uint64_t clock;             //  version source
    int64_t next_due;           //  lower bound of the next timer
    bool sync_hint;
};

static void
s_service_free (void **item_p)
{
    s_service_t *service = *item_p;
    if (!service)
        return;
    free (service->id);
    cJSON_Delete (service->service);
    free (service);
    *item_p = NULL;
}

static void
s_check_free (void **item_p)
{
    s_check_t *check = *item_p;
    if (!check)
        return;
    free (check->id);
    free (check->name);
    free (check->notes);
    free (check->service_id);
    free (check->initial_status);
    free (check->status);
    free (check->output);
    free (check->last_output);
    free (check);
    *item_p = NULL;
}

static void
s_set (char **field, const char *value)
{
    char *copy = strdup (value ? value : "");
    if (copy) {
        free (*field);
        *field = copy;
    }
}

agent_state_t *
agent_state_new (const char *data_dir, const char *node_name)
{
    agent_state_t *self = calloc (1, sizeof (agent_state_t));
    if (!self)
        return NULL;
    self->node_name = strdup (node_name ? node_name : "");
    self->services = zhashx_new ();
    self->checks = zhashx_new ();
    self->dirty_services = zhashx_new ();
    self->dirty_checks = zhashx_new ();
    self->dropped_services = zhashx_new ();
    self->dropped_checks = zhashx_new ();
    if (data_dir)
        self->store = agent_store_new (data_dir);
    if (!self->node_name || !self->services || !self->checks
    ||  !self->dirty_services || !self->dirty_checks || !self->dropped_services
    ||  !self->dropped_checks || (data_dir && !self->store)) {
        agent_state_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->services, s_service_free);
    zhashx_set_destructor (self->checks, s_check_free);
    self->next_due = NO_DEADLINE;
    return self;
}

void
agent_state_destroy (agent_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agent_state_t *self = *self_p;
    zhashx_destroy (&self->services);
    zhashx_destroy (&self->checks);
    zhashx_destroy (&self->dirty_services);
    zhashx_destroy (&self->dirty_checks);
    zhashx_destroy (&self->dropped_services);
    zhashx_destroy (&self->dropped_checks);
    agent_store_destroy (&self->store);
    free (self->node_name);
    free (self);
    *self_p = NULL;
}

//  Marks a key in one of the id sets (the value is unused but non-NULL).
static void
s_mark (agent_state_t *self, zhashx_t *set, const char *id)
{
    zhashx_update (set, id, self);
    self->sync_hint = true;
}

static void
s_due (agent_state_t *self, int64_t when)
{
    if (when > 0 && when < self->next_due)
        self->next_due = when;
}

//  -- persistence ------------------------------------------------------------

static void
s_persist_service (agent_state_t *self, s_service_t *service)
{
    if (!self->store)
        return;
    cJSON *doc = cJSON_CreateObject ();
    cJSON_AddItemToObject (doc, "Service", cJSON_Duplicate (service->service, true));
    agent_store_put (self->store, KIND_SERVICES, service->id, doc);
    cJSON_Delete (doc);
}

static void
s_persist_check (agent_state_t *self, s_check_t *check)
{
    if (!self->store)
        return;
    cJSON *doc = cJSON_CreateObject ();
    cJSON *def = cJSON_AddObjectToObject (doc, "Check");
    cJSON_AddStringToObject (def, "CheckID", check->id);
    cJSON_AddStringToObject (def, "Name", check->name);
    cJSON_AddStringToObject (def, "Notes", check->notes);
    cJSON_AddStringToObject (def, "ServiceID", check->service_id);
    cJSON_AddStringToObject (def, "Status", check->initial_status);
    cJSON_AddNumberToObject (def, "TTL", (double) check->ttl_ms);
    cJSON_AddNumberToObject (def, "DeregisterCriticalServiceAfter",
                             (double) check->reap_ms);
    cJSON *state = cJSON_AddObjectToObject (doc, "State");
    cJSON_AddStringToObject (state, "Status", check->status);
    cJSON_AddStringToObject (state, "Output", check->output);
    cJSON_AddStringToObject (state, "LastOutput",
                             check->last_output ? check->last_output : "");
    cJSON_AddNumberToObject (state, "Expires", (double) check->expires_wall);
    agent_store_put (self->store, KIND_CHECKS, check->id, doc);
    cJSON_Delete (doc);
}

//  -- items ------------------------------------------------------------------

static void
s_check_set_status (agent_state_t *self, s_check_t *check, const char *status,
                    const char *output, int64_t now_ms)
{
    bool changed = strcmp (check->status, status) != 0
                || strcmp (check->output, output) != 0;
    s_set (&check->status, status);
    s_set (&check->output, output);
    if (strcmp (status, "critical") == 0) {
        if (!check->critical_since)
            check->critical_since = now_ms ? now_ms : 1;
        if (check->reap_ms > 0 && *check->service_id)
            s_due (self, check->critical_since
                   + (check->reap_ms > AGENT_REAP_MIN_MS ? check->reap_ms
                                                         : AGENT_REAP_MIN_MS));
    }
    else
        check->critical_since = 0;
    if (changed) {
        check->version = ++self->clock;
        s_mark (self, self->dirty_checks, check->id);
    }
}

static void
s_check_arm (agent_state_t *self, s_check_t *check, int64_t now_ms)
{
    check->deadline = now_ms + check->ttl_ms;
    check->expires_wall = time_wall_ms () + check->ttl_ms;
    s_due (self, check->deadline);
}

//  Creates or replaces a check from a definition; an existing check keeps
//  its status and output (Consul avoids flapping on re-registration).
static s_check_t *
s_check_put (agent_state_t *self, const agent_check_def_t *def, int64_t now_ms)
{
    s_check_t *check = calloc (1, sizeof (s_check_t));
    if (!check)
        return NULL;
    s_check_t *old = zhashx_lookup (self->checks, def->check_id);
    const char *status = *def->status ? def->status : "critical";
    s_set (&check->id, def->check_id);
    s_set (&check->name, def->name);
    s_set (&check->notes, def->notes);
    s_set (&check->service_id, def->service_id);
    s_set (&check->initial_status, status);
    s_set (&check->status, "");
    s_set (&check->output, "");
    check->ttl_ms = def->ttl_ms;
    check->reap_ms = def->reap_ms;
    if (!check->id || !check->name || !check->notes || !check->service_id
    ||  !check->initial_status || !check->status || !check->output) {
        s_check_free ((void **) &check);
        return NULL;
    }
    if (old) {
        check->critical_since = old->critical_since;
        s_set (&check->last_output, old->last_output);
        s_check_set_status (self, check, old->status, old->output, now_ms);
    }
    else
        s_check_set_status (self, check, status, "", now_ms);
    check->version = ++self->clock;
    s_check_arm (self, check, now_ms);
    zhashx_update (self->checks, check->id, check);
    zhashx_delete (self->dropped_checks, check->id);
    s_mark (self, self->dirty_checks, check->id);
    s_persist_check (self, check);
    return check;
}

static void
s_check_remove (agent_state_t *self, const char *id, bool tombstone)
{
    char *key = strdup (id);
    if (!key)
        return;
    zhashx_delete (self->checks, key);
    zhashx_delete (self->dirty_checks, key);
    if (tombstone)
        s_mark (self, self->dropped_checks, key);
    if (self->store)
        agent_store_remove (self->store, KIND_CHECKS, key);
    free (key);
}

//  Ids of the checks that belong to service_id. Caller destroys the list.
static zlistx_t *
s_service_check_ids (agent_state_t *self, const char *service_id)
{
    zlistx_t *ids = zlistx_new ();
    zlistx_set_destructor (ids, (czmq_destructor *) zstr_free);
    for (s_check_t *check = zhashx_first (self->checks); check;
         check = zhashx_next (self->checks))
        if (strcmp (check->service_id, service_id) == 0)
            zlistx_add_end (ids, strdup (check->id));
    return ids;
}

static s_service_t *
s_service_put (agent_state_t *self, cJSON **service_p)
{
    s_service_t *service = calloc (1, sizeof (s_service_t));
    const char *id = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (*service_p, "ID"));
    if (!service || !id || !(service->id = strdup (id))) {
        free (service);
        return NULL;
    }
    service->service = *service_p;
    *service_p = NULL;
    service->version = ++self->clock;
    zhashx_update (self->services, service->id, service);
    zhashx_delete (self->dropped_services, service->id);
    s_mark (self, self->dirty_services, service->id);
    s_persist_service (self, service);
    return service;
}

//  -- HTTP-facing operations --------------------------------------------------

int
agent_state_register_service (agent_state_t *self, const cJSON *definition,
                              bool replace_checks, int64_t now_ms,
                              agent_error_t *error)
{
    agent_service_def_t def;
    if (agent_def_parse_service (definition, &def, error) != 0)
        return -1;
    char *service_id = strdup (cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (def.service, "ID")));
    if (!service_id || !s_service_put (self, &def.service)) {
        free (service_id);
        agent_service_def_clear (&def);
        agent_error_set (error, 500, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < def.check_count; i++)
        s_check_put (self, &def.checks [i], now_ms);
    if (replace_checks) {
        //  ?replace-existing-checks: drop the checks the definition lacks.
        zlistx_t *ids = s_service_check_ids (self, service_id);
        for (char *check_id = zlistx_first (ids); check_id;
             check_id = zlistx_next (ids)) {
            bool keep = false;
            for (size_t i = 0; i < def.check_count; i++)
                if (strcmp (def.checks [i].check_id, check_id) == 0)
                    keep = true;
            if (!keep)
                s_check_remove (self, check_id, true);
        }
        zlistx_destroy (&ids);
    }
    log_info ("registered service id=%s checks=%zu", service_id, def.check_count);
    free (service_id);
    agent_service_def_clear (&def);
    return 0;
}

int
agent_state_deregister_service (agent_state_t *self, const char *id)
{
    if (!zhashx_lookup (self->services, id))
        return 0;
    char *key = strdup (id);
    if (!key)
        return 0;
    //  The catalog drops a service's checks with it: no check tombstones.
    zlistx_t *ids = s_service_check_ids (self, key);
    for (char *check_id = zlistx_first (ids); check_id; check_id = zlistx_next (ids))
        s_check_remove (self, check_id, false);
    zlistx_destroy (&ids);
    zhashx_delete (self->services, key);
    zhashx_delete (self->dirty_services, key);
    s_mark (self, self->dropped_services, key);
    if (self->store)
        agent_store_remove (self->store, KIND_SERVICES, key);
    log_info ("deregistered service id=%s", key);
    free (key);
    return 0;
}

int
agent_state_register_check (agent_state_t *self, const cJSON *definition,
                            int64_t now_ms, agent_error_t *error)
{
    agent_check_def_t def;
    if (agent_def_parse_check (definition, &def, error) != 0)
        return -1;
    if (*def.service_id && !zhashx_lookup (self->services, def.service_id)) {
        agent_error_set (error, 500, "ServiceID \"%s\" does not exist",
                         def.service_id);
        agent_check_def_clear (&def);
        return -1;
    }
    s_check_t *check = s_check_put (self, &def, now_ms);
    agent_check_def_clear (&def);
    if (!check) {
        agent_error_set (error, 500, "out of memory");
        return -1;
    }
    return 0;
}

int
agent_state_deregister_check (agent_state_t *self, const char *id)
{
    if (zhashx_lookup (self->checks, id)) {
        s_check_remove (self, id, true);
        log_info ("deregistered check id=%s", id);
    }
    return 0;
}

int
agent_state_update_ttl (agent_state_t *self, const char *id, const char *status,
                        const char *output, int64_t now_ms, agent_error_t *error)
{
    s_check_t *check = zhashx_lookup (self->checks, id);
    if (!check || check->ttl_ms <= 0) {
        agent_error_set (error, 500, "CheckID \"%s\" does not have associated TTL",
                         id);
        return -1;
    }
    char *text = NULL;
    size_t total = strlen (output ? output : "");
    if (total > AGENT_OUTPUT_MAX) {
        if (asprintf (&text, "%.*s ... (captured %d of %zu bytes)",
                      AGENT_OUTPUT_MAX, output, AGENT_OUTPUT_MAX, total) < 0)
            text = NULL;
    }
    else
        text = strdup (output ? output : "");
    if (!text) {
        agent_error_set (error, 500, "out of memory");
        return -1;
    }
    s_check_set_status (self, check, status, text, now_ms);
    s_set (&check->last_output, text);
    free (text);
    s_check_arm (self, check, now_ms);
    s_persist_check (self, check);
    return 0;
}

//  -- views -------------------------------------------------------------------

//  Keys of a hash sorted, as Go renders maps. Caller destroys the list.
static zlistx_t *
s_sorted_keys (zhashx_t *hash)
{
    zlistx_t *keys = zhashx_keys (hash);
    zlistx_set_comparator (keys, (czmq_comparator *) strcmp);
    zlistx_sort (keys);
    return keys;
}

static void
s_copy_item (cJSON *to, const cJSON *from, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (from, name);
    if (item)
        cJSON_AddItemToObject (to, name, cJSON_Duplicate (item, true));
}

cJSON *
agent_state_services_json (agent_state_t *self)
{
    cJSON *result = cJSON_CreateObject ();
    zlistx_t *keys = s_sorted_keys (self->services);
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys)) {
        s_service_t *service = zhashx_lookup (self->services, key);
        const cJSON *from = service->service;
        cJSON *view = cJSON_CreateObject ();
        s_copy_item (view, from, "Kind");
        s_copy_item (view, from, "ID");
        s_copy_item (view, from, "Service");
        s_copy_item (view, from, "Tags");
        s_copy_item (view, from, "Meta");
        s_copy_item (view, from, "Port");
        s_copy_item (view, from, "Address");
        const cJSON *tagged = cJSON_GetObjectItemCaseSensitive (from, "TaggedAddresses");
        if (tagged && tagged->child)
            cJSON_AddItemToObject (view, "TaggedAddresses",
                                   cJSON_Duplicate (tagged, true));
        s_copy_item (view, from, "Weights");
        s_copy_item (view, from, "EnableTagOverride");
        s_copy_item (view, from, "Proxy");
        s_copy_item (view, from, "Connect");
        cJSON_AddItemToObject (result, key, view);
    }
    zlistx_destroy (&keys);
    return result;
}

//  One check in Consul's HealthCheck shape; with_indexes adds the zero
//  CreateIndex/ModifyIndex the agent endpoint shows.
static cJSON *
s_check_json (agent_state_t *self, s_check_t *check, bool with_indexes)
{
    cJSON *view = cJSON_CreateObject ();
    cJSON_AddStringToObject (view, "Node", self->node_name);
    cJSON_AddStringToObject (view, "CheckID", check->id);
    cJSON_AddStringToObject (view, "Name", check->name);
    cJSON_AddStringToObject (view, "Status", check->status);
    cJSON_AddStringToObject (view, "Notes", check->notes);
    cJSON_AddStringToObject (view, "Output", check->output);
    cJSON_AddStringToObject (view, "ServiceID", check->service_id);
    s_service_t *service = *check->service_id
        ? zhashx_lookup (self->services, check->service_id) : NULL;
    cJSON_AddStringToObject (view, "ServiceName", service
        ? cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (service->service,
                                                                  "Service"))
        : "");
    const cJSON *tags = service
        ? cJSON_GetObjectItemCaseSensitive (service->service, "Tags") : NULL;
    cJSON_AddItemToObject (view, "ServiceTags", tags ? cJSON_Duplicate (tags, true)
                                                     : cJSON_CreateArray ());
    cJSON_AddStringToObject (view, "Type", "ttl");
    cJSON_AddObjectToObject (view, "Definition");
    if (with_indexes) {
        cJSON_AddNumberToObject (view, "CreateIndex", 0);
        cJSON_AddNumberToObject (view, "ModifyIndex", 0);
    }
    return view;
}

cJSON *
agent_state_checks_json (agent_state_t *self)
{
    cJSON *result = cJSON_CreateObject ();
    zlistx_t *keys = s_sorted_keys (self->checks);
    for (const char *key = zlistx_first (keys); key; key = zlistx_next (keys))
        cJSON_AddItemToObject (result, key,
            s_check_json (self, zhashx_lookup (self->checks, key), true));
    zlistx_destroy (&keys);
    return result;
}

cJSON *
agent_state_check_json (agent_state_t *self, const char *id)
{
    s_check_t *check = zhashx_lookup (self->checks, id);
    return check ? s_check_json (self, check, true) : NULL;
}

size_t
agent_state_service_count (agent_state_t *self)
{
    return zhashx_size (self->services);
}

size_t
agent_state_check_count (agent_state_t *self)
{
    return zhashx_size (self->checks);
}

//  -- timers ------------------------------------------------------------------

int64_t
agent_state_next_timeout (agent_state_t *self, int64_t now_ms)
{
    if (self->next_due == NO_DEADLINE)
        return -1;
    return self->next_due > now_ms ? self->next_due - now_ms : 0;
}

void
agent_state_expire (agent_state_t *self, int64_t now_ms)
{
    if (now_ms < self->next_due)
        return;
    self->next_due = NO_DEADLINE;
    zlistx_t *reap = zlistx_new ();
    zlistx_set_destructor (reap, (czmq_destructor *) zstr_free);
    for (s_check_t *check = zhashx_first (self->checks); check;
         check = zhashx_next (self->checks)) {
        if (check->deadline && now_ms >= check->deadline) {
            check->deadline = 0;
            char *output = NULL;
            if (check->last_output && *check->last_output) {
                if (asprintf (&output, "TTL expired (last output before timeout "
                              "follows): %s", check->last_output) < 0)
                    output = NULL;
            }
            log_warn ("check missed TTL, is now critical check=%s", check->id);
            s_check_set_status (self, check, "critical",
                                output ? output : "TTL expired", now_ms);
            free (output);
        }
        if (check->deadline)
            s_due (self, check->deadline);
        if (check->critical_since && check->reap_ms > 0 && *check->service_id) {
            int64_t after = check->reap_ms > AGENT_REAP_MIN_MS
                          ? check->reap_ms : AGENT_REAP_MIN_MS;
            if (now_ms >= check->critical_since + after) {
                log_warn ("check has been critical for too long, "
                          "deregistering its service check=%s service=%s",
                          check->id, check->service_id);
                zlistx_add_end (reap, strdup (check->service_id));
            }
            else
                s_due (self, check->critical_since + after);
        }
    }
    for (char *id = zlistx_first (reap); id; id = zlistx_next (reap))
        agent_state_deregister_service (self, id);
    zlistx_destroy (&reap);
}

//  -- loading -----------------------------------------------------------------

typedef struct {
    agent_state_t *self;
    int64_t now_ms;
    int count;
} s_load_t;

static void
s_load_service (void *arg, const char *path, const cJSON *doc)
{
    s_load_t *load = arg;
    const cJSON *service = cJSON_GetObjectItemCaseSensitive (doc, "Service");
    const char *id = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (service, "ID"));
    const char *name = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (service, "Service"));
    if (!cJSON_IsObject (service) || !id || !*id || !name || !*name) {
        log_warn ("skipping malformed agent service file path=%s", path);
        return;
    }
    cJSON *copy = cJSON_Duplicate (service, true);
    //  Fill fields an older file may lack.
    if (!cJSON_IsArray (cJSON_GetObjectItemCaseSensitive (copy, "Tags")))
        cJSON_AddItemToObject (copy, "Tags", cJSON_CreateArray ());
    if (!cJSON_IsObject (cJSON_GetObjectItemCaseSensitive (copy, "Meta")))
        cJSON_AddItemToObject (copy, "Meta", cJSON_CreateObject ());
    s_service_t *item = s_service_put (load->self, &copy);
    cJSON_Delete (copy);
    if (item)
        load->count++;
}

static void
s_load_check (void *arg, const char *path, const cJSON *doc)
{
    s_load_t *load = arg;
    agent_state_t *self = load->self;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive (doc, "Check");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive (doc, "State");
    agent_check_def_t check_def = {
        .check_id = (char *) cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (def, "CheckID")),
        .name = (char *) cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (def, "Name")),
        .notes = (char *) cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (def, "Notes")),
        .status = (char *) cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (def, "Status")),
        .service_id = (char *) cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (def, "ServiceID")),
    };
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive (def, "TTL");
    const cJSON *reap = cJSON_GetObjectItemCaseSensitive (
        def, "DeregisterCriticalServiceAfter");
    if (!check_def.check_id || !*check_def.check_id || !check_def.name
    ||  !check_def.notes || !check_def.service_id
    ||  !agent_def_status_valid (check_def.status)
    ||  !cJSON_IsNumber (ttl) || ttl->valuedouble <= 0) {
        log_warn ("skipping malformed agent check file path=%s", path);
        return;
    }
    if (*check_def.service_id
    &&  !zhashx_lookup (self->services, check_def.service_id)) {
        log_warn ("skipping agent check of unknown service check=%s service=%s",
                  check_def.check_id, check_def.service_id);
        return;
    }
    check_def.ttl_ms = (int64_t) ttl->valuedouble;
    check_def.reap_ms = cJSON_IsNumber (reap) ? (int64_t) reap->valuedouble : 0;
    s_check_t *check = s_check_put (self, &check_def, load->now_ms);
    if (!check)
        return;
    //  An unexpired state survives the restart (Consul's check state files).
    const cJSON *expires = cJSON_GetObjectItemCaseSensitive (state, "Expires");
    const char *status = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (state, "Status"));
    const char *output = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (state, "Output"));
    const char *last = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (state, "LastOutput"));
    if (cJSON_IsNumber (expires) && expires->valuedouble > (double) time_wall_ms ()
    &&  agent_def_status_valid (status) && output) {
        s_check_set_status (self, check, status, output, load->now_ms);
        s_set (&check->last_output, last);
    }
    load->count++;
}

int
agent_state_load (agent_state_t *self, int64_t now_ms)
{
    if (!self->store)
        return 0;
    s_load_t load = { self, now_ms, 0 };
    agent_store_load (self->store, KIND_SERVICES, s_load_service, &load);
    agent_store_load (self->store, KIND_CHECKS, s_load_check, &load);
    return load.count;
}

//  -- anti-entropy ------------------------------------------------------------

bool
agent_state_sync_pending (agent_state_t *self)
{
    return self->sync_hint;
}

void
agent_sync_item_clear (agent_sync_item_t *item)
{
    free (item->id);
    cJSON_Delete (item->service);
    cJSON_Delete (item->checks);
    for (size_t i = 0; i < item->check_count; i++)
        free (item->check_ids [i]);
    free (item->check_ids);
    free (item->check_versions);
    memset (item, 0, sizeof *item);
}

//  Adds a check to the item's carried checks.
static void
s_item_add_check (agent_state_t *self, agent_sync_item_t *item, s_check_t *check)
{
    char **ids = realloc (item->check_ids, (item->check_count + 1) * sizeof (char *));
    if (!ids)
        return;
    item->check_ids = ids;
    uint64_t *versions = realloc (item->check_versions,
                                  (item->check_count + 1) * sizeof (uint64_t));
    if (!versions)
        return;
    item->check_versions = versions;
    item->check_ids [item->check_count] = strdup (check->id);
    item->check_versions [item->check_count] = check->version;
    item->check_count++;
    cJSON_AddItemToArray (item->checks, s_check_json (self, check, false));
}

//  First key of a set, copied. Caller frees.
static char *
s_first_key (zhashx_t *set)
{
    if (!zhashx_first (set))
        return NULL;
    return strdup ((const char *) zhashx_cursor (set));
}

int
agent_state_sync_next (agent_state_t *self, agent_sync_item_t *item)
{
    memset (item, 0, sizeof *item);
    char *id;
    if ((id = s_first_key (self->dropped_checks))) {
        item->kind = AGENT_SYNC_DROP_CHECK;
        item->id = id;
        return 0;
    }
    if ((id = s_first_key (self->dropped_services))) {
        item->kind = AGENT_SYNC_DROP_SERVICE;
        item->id = id;
        return 0;
    }
    while ((id = s_first_key (self->dirty_services))) {
        s_service_t *service = zhashx_lookup (self->services, id);
        if (!service || service->version == service->synced) {
            zhashx_delete (self->dirty_services, id);
            free (id);
            continue;
        }
        item->kind = AGENT_SYNC_SERVICE;
        item->id = id;
        item->version = service->version;
        item->service = cJSON_Duplicate (service->service, true);
        item->checks = cJSON_CreateArray ();
        for (s_check_t *check = zhashx_first (self->checks); check;
             check = zhashx_next (self->checks))
            if (strcmp (check->service_id, id) == 0)
                s_item_add_check (self, item, check);
        return 0;
    }
    while ((id = s_first_key (self->dirty_checks))) {
        s_check_t *check = zhashx_lookup (self->checks, id);
        if (!check || check->version == check->synced) {
            zhashx_delete (self->dirty_checks, id);
            free (id);
            continue;
        }
        item->kind = AGENT_SYNC_CHECK;
        item->id = id;
        item->version = check->version;
        item->checks = cJSON_CreateArray ();
        s_item_add_check (self, item, check);
        return 0;
    }
    self->sync_hint = false;
    return -1;
}

static void
s_check_synced (agent_state_t *self, const char *id, uint64_t version)
{
    s_check_t *check = zhashx_lookup (self->checks, id);
    if (check && check->version == version) {
        check->synced = version;
        zhashx_delete (self->dirty_checks, id);
    }
}

void
agent_state_sync_done (agent_state_t *self, const agent_sync_item_t *item)
{
    switch (item->kind) {
        case AGENT_SYNC_DROP_CHECK:
            zhashx_delete (self->dropped_checks, item->id);
            break;
        case AGENT_SYNC_DROP_SERVICE:
            zhashx_delete (self->dropped_services, item->id);
            break;
        case AGENT_SYNC_SERVICE: {
            s_service_t *service = zhashx_lookup (self->services, item->id);
            if (service && service->version == item->version) {
                service->synced = item->version;
                zhashx_delete (self->dirty_services, item->id);
            }
            for (size_t i = 0; i < item->check_count; i++)
                s_check_synced (self, item->check_ids [i], item->check_versions [i]);
            break;
        }
        case AGENT_SYNC_CHECK:
            for (size_t i = 0; i < item->check_count; i++)
                s_check_synced (self, item->check_ids [i], item->check_versions [i]);
            break;
    }
}

//  A JSON member with a default when missing or null. Caller owns.
static cJSON *
s_normal (const cJSON *object, const char *name, const char *fallback)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, name);
    if (item && !cJSON_IsNull (item))
        return cJSON_Duplicate (item, true);
    return cJSON_Parse (fallback);
}

static bool
s_same_fields (const cJSON *a, const cJSON *b, const char *const fields [],
               const char *const fallbacks [])
{
    for (size_t i = 0; fields [i]; i++) {
        cJSON *left = s_normal (a, fields [i], fallbacks [i]);
        cJSON *right = s_normal (b, fields [i], fallbacks [i]);
        bool same = cJSON_Compare (left, right, true);
        cJSON_Delete (left);
        cJSON_Delete (right);
        if (!same)
            return false;
    }
    return true;
}

static bool
s_service_same (const cJSON *local, const cJSON *remote)
{
    static const char *const fields [] = {
        "Service", "Tags", "Address", "Port", "Meta", "Weights",
        "EnableTagOverride", "TaggedAddresses", "Kind", NULL };
    static const char *const fallbacks [] = {
        "\"\"", "[]", "\"\"", "0", "{}", "{\"Passing\":1,\"Warning\":1}",
        "false", "{}", "\"\"", NULL };
    return s_same_fields (local, remote, fields, fallbacks);
}

static bool
s_check_same (const cJSON *local, const cJSON *remote)
{
    static const char *const fields [] = {
        "Name", "Status", "Notes", "Output", "ServiceID", NULL };
    static const char *const fallbacks [] = {
        "\"\"", "\"\"", "\"\"", "\"\"", "\"\"", NULL };
    return s_same_fields (local, remote, fields, fallbacks);
}

void
agent_state_sync_compare (agent_state_t *self, const cJSON *services,
                          const cJSON *checks)
{
    for (s_service_t *service = zhashx_first (self->services); service;
         service = zhashx_next (self->services)) {
        const cJSON *remote = cJSON_IsObject (services)
            ? cJSON_GetObjectItemCaseSensitive (services, service->id) : NULL;
        if (remote && s_service_same (service->service, remote))
            service->synced = service->version;
        else {
            service->synced = 0;
            s_mark (self, self->dirty_services, service->id);
        }
    }
    const cJSON *remote;
    if (cJSON_IsObject (services))
        cJSON_ArrayForEach (remote, services) {
            const char *id = remote->string;
            if (id && strcmp (id, "consul") != 0
            &&  !zhashx_lookup (self->services, id))
                s_mark (self, self->dropped_services, id);
        }
    for (s_check_t *check = zhashx_first (self->checks); check;
         check = zhashx_next (self->checks)) {
        const cJSON *match = NULL;
        if (cJSON_IsArray (checks))
            cJSON_ArrayForEach (remote, checks) {
                const char *id = cJSON_GetStringValue (
                    cJSON_GetObjectItemCaseSensitive (remote, "CheckID"));
                if (id && strcmp (id, check->id) == 0)
                    match = remote;
            }
        cJSON *local = s_check_json (self, check, false);
        if (match && s_check_same (local, match))
            check->synced = check->version;
        else {
            check->synced = 0;
            s_mark (self, self->dirty_checks, check->id);
        }
        cJSON_Delete (local);
    }
    if (cJSON_IsArray (checks))
        cJSON_ArrayForEach (remote, checks) {
            const char *id = cJSON_GetStringValue (
                cJSON_GetObjectItemCaseSensitive (remote, "CheckID"));
            const char *service_id = cJSON_GetStringValue (
                cJSON_GetObjectItemCaseSensitive (remote, "ServiceID"));
            if (!id || strcmp (id, "serfHealth") == 0
            ||  zhashx_lookup (self->checks, id))
                continue;
            //  Checks of a service being dropped go with it.
            if (service_id && *service_id
            &&  zhashx_lookup (self->dropped_services, service_id))
                continue;
            s_mark (self, self->dropped_checks, id);
        }
}
