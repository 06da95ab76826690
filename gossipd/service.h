/*  service: gossipd's local RPC commands on its ROUTER (members, self,
    join, leave, force-leave, coordinate.nodes, coordinate.datacenters,
    datacenters, keyring, stats). Long commands (join, leave, keyring) keep
    their request and answer when the pools are done.
    Spec: docs/protocol/gossip.md, "Local RPC". */
#ifndef GOSSIPD_SERVICE_H
#define GOSSIPD_SERVICE_H

#include "config.h"
#include "pool.h"
#include "rpc_server.h"

typedef struct _service_t service_t;

//  server, lan and wan (NULL without a WAN pool) are borrowed.
//  Caller owns return value.
service_t *service_new (const config_t *config, rpc_server_t *server,
                        pool_t *lan, pool_t *wan);
//  Requests still waiting are dropped unanswered (their callers time out).
void service_destroy (service_t **self_p);

//  Answers one request now or later; takes *request_p.
void service_handle (service_t *self, rpc_request_t **request_p);

//  True once a leave command completed.
bool service_left (service_t *self);

//  Sorts datacenter names by median RTT (seconds; INFINITY unknown), the
//  local one first, ties by name. Used by "datacenters"; exposed for tests.
typedef struct {
    char name[PACKET_TAG_VALUE_MAX + 1];
    double rtt;
} service_dc_t;
void service_dc_sort (service_dc_t *dcs, size_t count, const char *local);

#endif
