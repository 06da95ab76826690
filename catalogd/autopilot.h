/*  autopilot: the leader's reconciliation of the raft configuration with
    the LAN pool (docs/catalogd.md, "Membership"), one change at a time:
    - a server of the DC that is alive in the pool but not in the
      configuration is added (as a spare), then promoted to voter (libraft
      catches it up first);
    - a server that left the pool gracefully is removed;
    - a server that is failed (or no longer listed) for longer than the
      dead-server grace is removed (Consul's autopilot dead-server
      cleanup), as is an entry whose address now belongs to a server with
      another ID (a node that came back with a new node ID);
    - a leader that is leaving the pool hands leadership over first.
    A removal never takes a voter away when fewer than a quorum of the
    current configuration would remain, or (for a failed server) when the
    healthy voters left would be fewer than that quorum. Pure logic: the
    caller applies the action through raftnode. */
#ifndef CATALOGD_AUTOPILOT_H
#define CATALOGD_AUTOPILOT_H

#include "raftnode.h"
#include "servers.h"

//  How long a server may be failed before it is removed.
#define CATALOG_DEAD_SERVER_GRACE_MS 30000

typedef enum {
    CATALOG_AP_NONE,
    CATALOG_AP_ADD,
    CATALOG_AP_PROMOTE,
    CATALOG_AP_REMOVE,
    CATALOG_AP_TRANSFER
} catalog_ap_kind_t;

typedef struct {
    catalog_ap_kind_t kind;
    uint64_t id;
    char address[CATALOG_RAFT_ADDRESS_MAX];     //  raft address (ADD)
    char name[CONFIG_NAME_MAX * 2];             //  node name, if known
    char reason[160];
} catalog_ap_action_t;

typedef struct _catalog_autopilot_t catalog_autopilot_t;

//  self_id: this (leading) server. grace_ms: dead-server grace.
//  Caller owns return value.
catalog_autopilot_t *catalog_autopilot_new (uint64_t self_id, int64_t grace_ms);
void catalog_autopilot_destroy (catalog_autopilot_t **self_p);

//  Forgets how long servers have been failed (a new leadership starts
//  its own clock).
void catalog_autopilot_reset (catalog_autopilot_t *self);

//  Decides the next change from the configuration and the servers of the
//  pool at time now (ms, any monotonic clock). Sets action (kind NONE when
//  nothing is to be done).
void catalog_autopilot_next (catalog_autopilot_t *self,
                             const catalog_raft_server_t *config, size_t n,
                             catalog_servers_t *servers, int64_t now,
                             catalog_ap_action_t *action);

//  Quorum of a configuration with voters voters.
size_t catalog_autopilot_quorum (size_t voters);

#endif
