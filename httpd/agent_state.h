/*  agent_state: the agent's own services and checks (Consul's "local
    state"), registered through /v1/agent/.... Applies Consul's definition
    rules (ID defaults to Name, service check ids "service:<id>[:N]",
    snake_case keys, Weights default {1,1}, TTL checks), runs TTL timers
    (expiry turns a check critical with "TTL expired") and the
    DeregisterCriticalServiceAfter reaper, persists everything under
    <data_dir>/agent/ so it survives a restart, and keeps the bookkeeping
    anti-entropy needs to push changes into the catalog: a version per
    item, the version last synced, dirty sets and tombstones.
    Spec: docs/http-api.md ("Agent"). */
#ifndef HTTPD_AGENT_STATE_H
#define HTTPD_AGENT_STATE_H

#include "agent_def.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Consul's CheckBufSize: longer outputs are truncated with a note.
#define AGENT_OUTPUT_MAX  4096
//  Consul's minimum DeregisterCriticalServiceAfter.
#define AGENT_REAP_MIN_MS 60000

typedef struct _agent_state_t agent_state_t;

//  data_dir NULL keeps everything in memory only (tests). node_name is the
//  agent's node, set on every check. Caller owns return value.
agent_state_t *agent_state_new (const char *data_dir, const char *node_name);
void agent_state_destroy (agent_state_t **self_p);

//  Loads what <data_dir>/agent/ holds; malformed files are logged and
//  skipped. now_ms is the monotonic clock. Returns the number loaded.
int agent_state_load (agent_state_t *self, int64_t now_ms);

//  PUT /v1/agent/service/register body. replace_checks drops the
//  service's checks that the definition no longer has. Returns 0/-1.
int agent_state_register_service (agent_state_t *self, const cJSON *definition,
                                  bool replace_checks, int64_t now_ms,
                                  agent_error_t *error);
//  Removes a service and its checks; unknown ids are a no-op. Returns 0.
int agent_state_deregister_service (agent_state_t *self, const char *id);
//  PUT /v1/agent/check/register body. Returns 0/-1.
int agent_state_register_check (agent_state_t *self, const cJSON *definition,
                                int64_t now_ms, agent_error_t *error);
//  Removes a check; unknown ids are a no-op. Returns 0.
int agent_state_deregister_check (agent_state_t *self, const char *id);
//  pass/warn/fail/update of a TTL check: sets status and output (truncated
//  like Consul) and restarts the TTL. Returns -1 with 500
//  `CheckID "<id>" does not have associated TTL` for unknown or non-TTL ids.
int agent_state_update_ttl (agent_state_t *self, const char *id,
                            const char *status, const char *output,
                            int64_t now_ms, agent_error_t *error);

//  GET /v1/agent/services and /v1/agent/checks bodies (maps sorted by id).
//  Caller owns return value.
cJSON *agent_state_services_json (agent_state_t *self);
cJSON *agent_state_checks_json (agent_state_t *self);
//  One check as /v1/agent/checks shows it, NULL when unknown.
//  Caller owns return value.
cJSON *agent_state_check_json (agent_state_t *self, const char *id);
size_t agent_state_service_count (agent_state_t *self);
size_t agent_state_check_count (agent_state_t *self);

//  Milliseconds until the next TTL expiry or reap, -1 when none.
int64_t agent_state_next_timeout (agent_state_t *self, int64_t now_ms);
//  Expires TTL checks and reaps services whose check has been critical
//  longer than DeregisterCriticalServiceAfter.
void agent_state_expire (agent_state_t *self, int64_t now_ms);

//  -- anti-entropy ---------------------------------------------------------
typedef enum {
    AGENT_SYNC_SERVICE = 1,     //  register Service with its Checks
    AGENT_SYNC_CHECK,           //  register Check
    AGENT_SYNC_DROP_SERVICE,    //  deregister ServiceID
    AGENT_SYNC_DROP_CHECK       //  deregister CheckID
} agent_sync_kind_t;

typedef struct {
    agent_sync_kind_t kind;
    char *id;
    cJSON *service;             //  SERVICE: the NodeService
    cJSON *checks;              //  SERVICE: its checks; CHECK: [the check]
    uint64_t version;
    size_t check_count;
    char **check_ids;           //  checks carried, with their versions
    uint64_t *check_versions;
} agent_sync_item_t;

//  True when something may be out of sync (cheap).
bool agent_state_sync_pending (agent_state_t *self);
//  Fills item with the next change to push (drops first, then services,
//  then checks). Returns 0, or -1 when everything is in sync.
int agent_state_sync_next (agent_state_t *self, agent_sync_item_t *item);
//  Records that item reached the catalog (or was rejected and must not be
//  retried until it changes or the next full sync).
void agent_state_sync_done (agent_state_t *self, const agent_sync_item_t *item);
void agent_sync_item_clear (agent_sync_item_t *item);
//  Full sync: compares with the catalog's view of this node (the
//  catalog.node "Services" map and the health.node check list, either may
//  be NULL): differing items become dirty, catalog-only items (except the
//  "consul" service and the "serfHealth" check) get tombstones.
void agent_state_sync_compare (agent_state_t *self, const cJSON *services,
                               const cJSON *checks);

#endif
