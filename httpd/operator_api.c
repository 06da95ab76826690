/*  operator_api: /v1/operator/raft/... (docs/http-api.md, "Operator"):
    Consul's raft configuration read and peer removal, turned into the
    catalogd commands operator.raft.configuration and
    operator.raft.remove_peer (docs/protocol/catalog-rpc.md, "Raft and
    operator commands") and sent through the catalog link like catalog
    reads and writes: catalogd for the local datacenter on a server,
    forwarderd with "Datacenter" for another one or from a client agent.
    (The keyring routes under /v1/operator/ are gossip_api's.) */
#include "api.h"

#include <string.h>

cJSON *
operator_peer_body (http_request_t *request)
{
    //  Consul tests presence: a bare ?id or ?id= names the empty ID.
    bool has_id = request_query_has (request, "id");
    bool has_address = request_query_has (request, "address");
    if (!has_id && !has_address) {
        request_reply_text (request, 400, "Must specify either ?id with the "
                            "server's ID or ?address with IP:port of peer to "
                            "remove");
        return NULL;
    }
    if (has_id && has_address) {
        request_reply_text (request, 400,
                            "Must specify only one of ?id or ?address");
        return NULL;
    }
    cJSON *body = cJSON_CreateObject ();
    if (body && !(has_id
        ? cJSON_AddStringToObject (body, "ID", request_query (request, "id"))
        : cJSON_AddStringToObject (body, "Address",
                                   request_query (request, "address")))) {
        cJSON_Delete (body);
        body = NULL;
    }
    if (!body)
        request_reply_text (request, 500, "out of memory");
    return body;
}

int
operator_configuration_options (http_request_t *request, query_opts_t *opts)
{
    if (request_query_opts (request, opts) != 0)
        return -1;
    //  Consul parses ?index and ?wait here but never blocks on them.
    opts->min_index = 0;
    opts->wait_ms = 0;
    return 0;
}

//  GET /v1/operator/raft/configuration[?stale][&dc=]: the Result is
//  Consul's body as catalogd renders it. Never cached: no state.changed
//  event tells when the raft configuration changes.
static void
s_raft_configuration (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (operator_configuration_options (request, &opts) != 0)
        return;
    cJSON *body = cJSON_CreateObject ();
    catalog_link_read (api->link, request, "operator.raft.configuration",
                       &body, &opts, 0, true);
}

//  Consul answers a removal with 200 and no body.
static void
s_peer_removed (void *arg, http_request_t *request, cJSON *body)
{
    cJSON_Delete (body);
    if (request)
        request_reply_empty (request, 200);
}

//  DELETE /v1/operator/raft/peer?id=<ID>|?address=<IP:port>[&dc=]
static void
s_raft_peer (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = operator_peer_body (request);
    if (!body)
        return;
    const char *dc = request_query (request, "dc");
    catalog_link_write_then (api->link, request, "operator.raft.remove_peer",
                             &body, (dc && *dc) ? dc : NULL, s_peer_removed,
                             NULL);
}

int
operator_api_register (router_t *router)
{
    int rc = 0;
    rc |= router_add (router, "GET", "/v1/operator/raft/configuration",
                      s_raft_configuration);
    rc |= router_add (router, "DELETE", "/v1/operator/raft/peer", s_raft_peer);
    return rc ? -1 : 0;
}
