/*  agent_def: decodes and validates the agent's service and check
    definitions (bodies of /v1/agent/service/register and
    /v1/agent/check/register) with Consul's rules: keys match
    case-insensitively and in snake_case, wrong JSON types are decode
    errors, ID defaults to Name, service check ids default to
    "service:<id>" ("service:<id>:N" for several), check names to
    "Service '<name>' check", Weights to {Passing:1,Warning:1}, durations are
    Go strings or nanosecond numbers. Only TTL checks are supported.
    Spec: docs/http-api.md ("Agent"). */
#ifndef HTTPD_AGENT_DEF_H
#define HTTPD_AGENT_DEF_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  An error for the HTTP reply: status and plain text.
typedef struct {
    unsigned status;
    char text [512];
} agent_error_t;

typedef struct {
    char *check_id;
    char *name;
    char *notes;
    char *status;               //  "" = default (critical)
    char *service_id;           //  "" = node check
    int64_t ttl_ms;
    int64_t reap_ms;            //  DeregisterCriticalServiceAfter, 0 = never
} agent_check_def_t;

typedef struct {
    //  The NodeService as the catalog takes it: ID, Service, Tags, Address,
    //  TaggedAddresses, Meta, Port, Weights, EnableTagOverride (and Kind,
    //  Proxy, Connect when given).
    cJSON *service;
    agent_check_def_t *checks;
    size_t check_count;
} agent_service_def_t;

//  Returns 0, or -1 with error set (400 and Consul's text).
int agent_def_parse_service (const cJSON *body, agent_service_def_t *def,
                             agent_error_t *error);
//  The check register body (CheckDefinition). Returns 0/-1 like above.
int agent_def_parse_check (const cJSON *body, agent_check_def_t *def,
                           agent_error_t *error);
void agent_service_def_clear (agent_service_def_t *def);
void agent_check_def_clear (agent_check_def_t *def);

//  The member of object matching canonical the way Consul decodes keys:
//  case-insensitive, underscores ignored ("enable_tag_override" matches
//  "EnableTagOverride"); the last match wins. NULL when absent.
const cJSON *agent_def_field (const cJSON *object, const char *canonical);
//  Parses a Go duration string or a nanosecond number into ms.
//  Returns 0, or -1 with Go's error text in error (400).
int agent_def_duration (const cJSON *value, int64_t *ms, agent_error_t *error);
//  True for "passing", "warning", "critical".
bool agent_def_status_valid (const char *status);

void agent_error_set (agent_error_t *error, unsigned status,
                      const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
