/*  agent_api: /v1/agent/... (docs/http-api.md, "Agent"): the agent's own
    description (self, completed by gossipd's view of its member) and its
    local services and checks, kept in agent_state and synced to the
    catalog by anti-entropy. The gossip endpoints are in gossip_api.c. */
#include "api.h"
#include "json_render.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

//  The LAN member this agent is, as serf describes it, from the
//  configuration: used while gossipd does not answer.
static cJSON *
s_config_member (const config_t *cfg)
{
    cJSON *member = cJSON_CreateObject ();
    cJSON_AddStringToObject (member, "Name", cfg->node_name);
    cJSON_AddStringToObject (member, "Addr", cfg->advertise_addr);
    cJSON_AddNumberToObject (member, "Port", cfg->ports.serf_lan);
    cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
    char text [64];
    cJSON_AddStringToObject (tags, "build", MERIDIAN_VERSION ":" MERIDIAN_REVISION);
    cJSON_AddStringToObject (tags, "dc", cfg->datacenter);
    cJSON_AddStringToObject (tags, "id", cfg->node_id);
    cJSON_AddStringToObject (tags, "role", cfg->server ? "consul" : "node");
    cJSON_AddStringToObject (tags, "segment", "");
    snprintf (text, sizeof text, "%d", MERIDIAN_PROTOCOL);
    cJSON_AddStringToObject (tags, "vsn", text);
    snprintf (text, sizeof text, "%d", MERIDIAN_PROTOCOL_MAX);
    cJSON_AddStringToObject (tags, "vsn_max", text);
    snprintf (text, sizeof text, "%d", MERIDIAN_PROTOCOL_MIN);
    cJSON_AddStringToObject (tags, "vsn_min", text);
    if (cfg->server) {
        snprintf (text, sizeof text, "%d", cfg->ports.server);
        cJSON_AddStringToObject (tags, "port", text);
        cJSON_AddStringToObject (tags, "raft_vsn", "3");
        if (cfg->bootstrap_expect > 0) {
            snprintf (text, sizeof text, "%d", cfg->bootstrap_expect);
            cJSON_AddStringToObject (tags, "expect", text);
        }
        if (cfg->ports.serf_wan > 0) {
            snprintf (text, sizeof text, "%d", cfg->ports.serf_wan);
            cJSON_AddStringToObject (tags, "wan_join_port", text);
        }
    }
    json_sort_object (tags);
    cJSON_AddNumberToObject (member, "Status", 1);
    cJSON_AddNumberToObject (member, "ProtocolMin", 1);
    cJSON_AddNumberToObject (member, "ProtocolMax", 5);
    cJSON_AddNumberToObject (member, "ProtocolCur", 2);
    cJSON_AddNumberToObject (member, "DelegateMin", 2);
    cJSON_AddNumberToObject (member, "DelegateMax", 5);
    cJSON_AddNumberToObject (member, "DelegateCur", 4);
    return member;
}

//  gossipd's `self` answer (or its absence) completes /v1/agent/self.
static void
s_agent_self_reply (void *arg, http_request_t *request, int status,
                    envelope_t *reply)
{
    api_t *api = arg;
    if (!request)
        return;
    const config_t *cfg = api->cfg;
    cJSON *member = NULL, *coord = NULL;
    if (status == RPC_OK && reply->type == ENVELOPE_REP) {
        member = cJSON_DetachItemFromObjectCaseSensitive (reply->body, "Member");
        coord = cJSON_DetachItemFromObjectCaseSensitive (reply->body, "Coord");
    }
    if (!cJSON_IsObject (member)) {
        cJSON_Delete (member);
        member = s_config_member (cfg);
    }
    else
        json_sort_object (cJSON_GetObjectItemCaseSensitive (member, "Tags"));
    if (!cJSON_IsObject (coord)) {
        cJSON_Delete (coord);
        coord = cJSON_CreateNull ();
    }
    cJSON *self = cJSON_CreateObject ();
    cJSON *config = cJSON_AddObjectToObject (self, "Config");
    cJSON_AddStringToObject (config, "Datacenter", cfg->datacenter);
    cJSON_AddStringToObject (config, "PrimaryDatacenter",
                             cfg->primary_datacenter [0] ? cfg->primary_datacenter
                                                         : cfg->datacenter);
    cJSON_AddStringToObject (config, "NodeName", cfg->node_name);
    cJSON_AddStringToObject (config, "NodeID", cfg->node_id);
    cJSON_AddBoolToObject (config, "Server", cfg->server);
    cJSON_AddStringToObject (config, "Revision", MERIDIAN_REVISION);
    cJSON_AddStringToObject (config, "Version", MERIDIAN_VERSION);
    cJSON_AddObjectToObject (self, "DebugConfig");
    cJSON_AddItemToObject (self, "Coord", coord);
    cJSON_AddItemToObject (self, "Member", member);
    cJSON_AddObjectToObject (self, "Meta");
    request_reply_json (request, 200, self);
    cJSON_Delete (self);
}

//  GET /v1/agent/self: the configuration, and the LAN member and network
//  coordinate of this agent as gossipd knows them.
static void
s_agent_self (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = cJSON_CreateObject ();
    peer_request (api->gossip, request, "self", &body, LINK_TIMEOUT_MS,
                  s_agent_self_reply, api);
}

static void
s_agent_services (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *services = agent_state_services_json (api->agent);
    request_reply_json (request, 200, services);
    cJSON_Delete (services);
}

static void
s_agent_checks (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *checks = agent_state_checks_json (api->agent);
    request_reply_json (request, 200, checks);
    cJSON_Delete (checks);
}

static void
s_reply_result (http_request_t *request, int rc, const agent_error_t *error)
{
    if (rc == 0)
        request_reply_empty (request, 200);
    else
        request_reply_text (request, error->status, "%s", error->text);
}

static void
s_service_register (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = request_body_json (request);
    if (!body)
        return;
    //  ?replace-existing-checks, bare or as a Go bool.
    bool replace = false;
    const char *flag = request_query (request, "replace-existing-checks");
    if (flag && (!*flag || request_parse_bool (flag, &replace) != 0))
        replace = true;
    agent_error_t error;
    int rc = agent_state_register_service (api->agent, body, replace,
                                           time_mono_ms (), &error);
    cJSON_Delete (body);
    s_reply_result (request, rc, &error);
}

static void
s_service_deregister (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *id = request_tail (request);
    if (!*id) {
        request_reply_text (request, 500, "ServiceID missing");
        return;
    }
    agent_state_deregister_service (api->agent, id);
    request_reply_empty (request, 200);
}

static void
s_check_register (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = request_body_json (request);
    if (!body)
        return;
    agent_error_t error;
    int rc = agent_state_register_check (api->agent, body, time_mono_ms (), &error);
    cJSON_Delete (body);
    s_reply_result (request, rc, &error);
}

static void
s_check_deregister (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    const char *id = request_tail (request);
    if (!*id) {
        request_reply_text (request, 500, "CheckID missing");
        return;
    }
    agent_state_deregister_check (api->agent, id);
    request_reply_empty (request, 200);
}

static void
s_check_ttl (api_t *api, http_request_t *request, const char *status)
{
    const char *note = request_query (request, "note");
    agent_error_t error;
    int rc = agent_state_update_ttl (api->agent, request_tail (request), status,
                                     note ? note : "", time_mono_ms (), &error);
    s_reply_result (request, rc, &error);
}

static void
s_check_pass (void *ctx, http_request_t *request)
{
    s_check_ttl (ctx, request, "passing");
}

static void
s_check_warn (void *ctx, http_request_t *request)
{
    s_check_ttl (ctx, request, "warning");
}

static void
s_check_fail (void *ctx, http_request_t *request)
{
    s_check_ttl (ctx, request, "critical");
}

static void
s_check_update (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = request_body_json (request);
    if (!body)
        return;
    if (!cJSON_IsObject (body) && !cJSON_IsNull (body)) {
        request_reply_text (request, 400, "Request decode failed: json: cannot "
                            "unmarshal %s into Go value of type agent.checkUpdate",
                            cJSON_IsArray (body) ? "array"
                            : cJSON_IsString (body) ? "string"
                            : cJSON_IsNumber (body) ? "number" : "bool");
        cJSON_Delete (body);
        return;
    }
    const cJSON *status = agent_def_field (body, "Status");
    const cJSON *output = agent_def_field (body, "Output");
    const char *bad = status && !cJSON_IsString (status) ? "Status"
                    : output && !cJSON_IsString (output) ? "Output" : NULL;
    if (bad) {
        request_reply_text (request, 400, "Request decode failed: json: cannot "
                            "unmarshal non-string into Go struct field "
                            "checkUpdate.%s of type string", bad);
        cJSON_Delete (body);
        return;
    }
    const char *status_text = status ? status->valuestring : "";
    if (!agent_def_status_valid (status_text)) {
        request_reply_text (request, 400, "Invalid check status: '%s'", status_text);
        cJSON_Delete (body);
        return;
    }
    agent_error_t error;
    int rc = agent_state_update_ttl (api->agent, request_tail (request), status_text,
                                     output ? output->valuestring : "",
                                     time_mono_ms (), &error);
    cJSON_Delete (body);
    s_reply_result (request, rc, &error);
}

int
agent_api_register (router_t *router)
{
    int rc = 0;
    rc |= router_add (router, "GET", "/v1/agent/self", s_agent_self);
    rc |= router_add (router, "GET", "/v1/agent/services", s_agent_services);
    rc |= router_add (router, "GET", "/v1/agent/checks", s_agent_checks);
    rc |= router_add (router, "PUT", "/v1/agent/service/register", s_service_register);
    rc |= router_add (router, "PUT", "/v1/agent/service/deregister/",
                      s_service_deregister);
    rc |= router_add (router, "PUT", "/v1/agent/check/register", s_check_register);
    rc |= router_add (router, "PUT", "/v1/agent/check/deregister/", s_check_deregister);
    rc |= router_add (router, "PUT", "/v1/agent/check/pass/", s_check_pass);
    rc |= router_add (router, "PUT", "/v1/agent/check/warn/", s_check_warn);
    rc |= router_add (router, "PUT", "/v1/agent/check/fail/", s_check_fail);
    rc |= router_add (router, "PUT", "/v1/agent/check/update/", s_check_update);
    return rc ? -1 : 0;
}
