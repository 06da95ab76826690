/*  api: what the HTTP handlers share. Each *_api module registers its
    routes in the router; handlers get the api_t as their context.
    The routes and their behaviour are documented in docs/http-api.md. */
#ifndef HTTPD_API_H
#define HTTPD_API_H

#include "agent_state.h"
#include "catalog_link.h"
#include "config.h"
#include "near.h"
#include "peer.h"
#include "request.h"
#include "router.h"
#include "version.h"

typedef struct {
    const config_t *cfg;
    catalog_link_t *link;       //  the catalog of any DC (catalogd, forwarderd)
    peer_t *gossip;             //  the node's gossipd
    agent_state_t *agent;
} api_t;

//  Route tables of each API group. Return 0/-1.
int catalog_api_register (router_t *router);     //  catalog + status
int health_api_register (router_t *router);
int agent_api_register (router_t *router);
int gossip_api_register (router_t *router);      //  members, coordinates, keyring
int operator_api_register (router_t *router);    //  operator raft

//  Parses the read options of a catalog/health request (and refuses
//  ?filter, which Meridian does not evaluate). Replies 400 and returns -1
//  on bad input.
int api_read_options (http_request_t *request, query_opts_t *opts);

//  Runs a catalog/health read (catalog_link_read) with X-Consul-* headers.
//  near_key (0 when the endpoint takes no ?near) names where a result
//  holds its node: with ?near=<node> (or _agent, this node) on the local
//  datacenter the results are sorted by estimated RTT from that node,
//  with the LAN coordinates gossipd knows (near.h). Takes *body_p.
void api_read (api_t *api, http_request_t *request, const char *command,
               cJSON **body_p, const query_opts_t *opts, unsigned tables,
               near_key_t near_key);

//  The options of GET /v1/operator/raft/configuration: Consul's read
//  options (?stale, ?consistent, ?dc; ?wait and ?index are checked but,
//  as in Consul, never block: they are cleared). Replies 400 and returns
//  -1 on bad input.
int operator_configuration_options (http_request_t *request,
                                    query_opts_t *opts);

//  The operator.raft.remove_peer body of DELETE /v1/operator/raft/peer:
//  {"ID":<?id>} or {"Address":<?address>} (a parameter counts when present,
//  even empty). Replies 400 with Consul's text and returns NULL unless
//  exactly one of them is given. Caller owns return value.
cJSON *operator_peer_body (http_request_t *request);

#endif
