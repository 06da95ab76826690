/*  api: what the HTTP handlers share. Each *_api module registers its
    routes in the router; handlers get the api_t as their context.
    The routes and their behaviour are documented in docs/http-api.md. */
#ifndef HTTPD_API_H
#define HTTPD_API_H

#include "agent_state.h"
#include "catalog_link.h"
#include "config.h"
#include "request.h"
#include "router.h"
#include "version.h"

typedef struct {
    const config_t *cfg;
    catalog_link_t *link;
    agent_state_t *agent;
} api_t;

//  Route tables of each API group. Return 0/-1.
int catalog_api_register (router_t *router);     //  catalog + status
int health_api_register (router_t *router);
int agent_api_register (router_t *router);

//  Parses the read options of a catalog/health request (and refuses
//  ?filter, which Meridian does not evaluate). Replies 400 and returns -1
//  on bad input.
int api_read_options (http_request_t *request, query_opts_t *opts);
//  Checks a requested datacenter (NULL = local). Replies 500
//  "No path to datacenter" and returns -1 for any other DC.
int api_check_dc (api_t *api, http_request_t *request, const char *dc);

#endif
