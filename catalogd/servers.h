/*  servers: the servers of this datacenter as gossipd's LAN pool reports
    them (gossipd RPC `members {"WAN":false}`, docs/protocol/gossip.md):
    members with the tags role=consul and dc=<ours>. For each: its node
    name and UUID (tag id), raft ID, member status, the addresses of its
    raft transport (Addr and tag raft_port, else this node's ports.raft)
    and server RPC (Addr and tag port), and its bootstrap tags (expect,
    bootstrap). Used by the bootstrap agreement (bootstrap.h), the
    leader's membership reconciliation (autopilot.h) and the operator's
    view of the raft configuration. Pure data: no I/O. */
#ifndef CATALOGD_SERVERS_H
#define CATALOGD_SERVERS_H

#include "config.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CATALOG_SERVER_ADDRESS_MAX (CONFIG_ADDR_MAX + 8)

//  Serf's member status, as gossipd reports it.
typedef enum {
    CATALOG_MEMBER_NONE = 0,
    CATALOG_MEMBER_ALIVE = 1,
    CATALOG_MEMBER_LEAVING = 2,
    CATALOG_MEMBER_LEFT = 3,
    CATALOG_MEMBER_FAILED = 4
} catalog_member_status_t;

typedef struct {
    char name[CONFIG_NAME_MAX * 2];
    char node_id[40];                               //  tag id (a UUID)
    uint64_t raft_id;
    char addr[CONFIG_ADDR_MAX];                     //  member Addr
    char raft_address[CATALOG_SERVER_ADDRESS_MAX];  //  Addr:raft port
    char server_address[CATALOG_SERVER_ADDRESS_MAX];//  Addr:tag port
    catalog_member_status_t status;
    int expect;                                     //  tag expect, 0 absent
    bool bootstrap;                                 //  tag bootstrap=1
    char raft_vsn[8];                               //  tag raft_vsn
} catalog_server_t;

typedef struct _catalog_servers_t catalog_servers_t;

//  datacenter: ours; raft_port: the raft port assumed for members without
//  a raft_port tag (all servers use the same ports, as Consul's default).
//  Caller owns return value.
catalog_servers_t *catalog_servers_new (const char *datacenter, int raft_port);
void catalog_servers_destroy (catalog_servers_t **self_p);

//  Replaces the list from a members reply (an array of members, or an
//  object holding one under "Members" or "Result"). Members that are not
//  servers of our DC are skipped; malformed ones (no Name, Addr or id tag)
//  are skipped and counted. Returns the number of servers listed, or -1
//  (nothing changed) when members is not a member list.
int catalog_servers_update (catalog_servers_t *self, const cJSON *members);

//  True once a member list was taken.
bool catalog_servers_known (catalog_servers_t *self);
size_t catalog_servers_size (catalog_servers_t *self);
const catalog_server_t *catalog_servers_at (catalog_servers_t *self, size_t i);
const catalog_server_t *catalog_servers_by_id (catalog_servers_t *self,
                                               uint64_t raft_id);
//  The server whose raft address or server RPC address is address.
const catalog_server_t *catalog_servers_by_address (catalog_servers_t *self,
                                                    const char *address);
uint64_t catalog_servers_malformed (catalog_servers_t *self);

//  Status of a member: a number 0..4 or its name. -1 when neither.
int catalog_member_status_parse (const cJSON *status);

#endif
