/*  operator: the raft operator commands of docs/protocol/catalog-rpc.md
    ("Raft and operator commands"): the configuration in Consul's
    /v1/operator/raft/configuration shape, finding the peer a
    remove_peer request names, and this server's raft.status; and the
    offline recovery of a lost quorum (catalogd -recover-peers). Node names
    and protocol versions come from the LAN pool (servers.h). */
#ifndef CATALOGD_OPERATOR_H
#define CATALOGD_OPERATOR_H

#include "raftnode.h"
#include "servers.h"

//  {"Servers":[{"ID","Node","Address","Leader","Voter","ProtocolVersion"}],
//  "Index":N}: ID is the node UUID when the pool knows the server (else
//  the 16 hex digits of its raft ID), Address its server RPC address.
//  *index gets the configuration's raft index. Caller owns return value.
cJSON *catalog_operator_configuration (catalog_raft_t *raft,
                                       catalog_servers_t *servers,
                                       uint64_t *index);

//  Finds the server a remove_peer body names: {"ID":"uuid|hex"} or
//  {"Address":"host:port"} (server RPC or raft address). Returns 0 with
//  *id set, or the error code (400 bad body, 500 not in the configuration,
//  Consul's texts) with the text in err.
int catalog_operator_peer (catalog_raft_t *raft, const cJSON *body,
                           uint64_t *id, char *err, size_t err_size);

//  This server's raft status, for the bootstrap agreement and operators:
//  {"ID","Address","ServerAddress","Started","State","Term","LastIndex",
//  "LastApplied","Voters","Configured","Leader","Proposal","Bootstrap"}
//  (Bootstrap: [{"ID","Address"}] of the bootstrap configuration while it
//  is the current one, else null).
//  Caller owns return value.
cJSON *catalog_operator_status (catalog_raft_t *raft, const char *proposal);

//  Parses a peers file (Consul's raft/peers.json, version 3):
//  [{"id":"<node UUID or 16 hex raft ID>","address":"host:port",
//  "non_voter":false}, ...]. The raft address of each is its host with
//  raft_port (every server uses the same ports). Returns the number of
//  servers (and *servers_p, caller frees), or -1 with the reason in err.
int catalog_operator_peers_parse (const char *text, int raft_port,
                                  catalog_raft_server_t **servers_p,
                                  char *err, size_t err_size);

//  catalogd -recover-peers FILE: rewrites the raft configuration of this
//  stopped server's data dir to the servers of FILE (docs/catalogd.md,
//  "Recovering from a lost quorum"). Returns the process exit code.
int catalog_operator_recover (const config_t *cfg, const char *path);

#endif
