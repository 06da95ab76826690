/*  cmd_operator: `meridian operator raft list-peers [-stale]` and
    `meridian operator raft remove-peer -id=ID | -address=IP:PORT`,
    Consul's command/operator/raft over GET /v1/operator/raft/configuration
    and DELETE /v1/operator/raft/peer?id=|address= (docs/cli.md). */
#ifndef MRD_CLI_CMD_OPERATOR_H
#define MRD_CLI_CMD_OPERATOR_H

#include <cjson/cJSON.h>
#include <stddef.h>

//  Returns the exit code.
int cmd_operator_run (int argc, char **argv);

//  Renders a /v1/operator/raft/configuration answer ({"Servers":[{ID,
//  Node,Address,Leader,Voter,ProtocolVersion}],"Index"}) as Consul's
//  list-peers table: "Node ID Address State Voter RaftProtocol", State
//  leader or follower, RaftProtocol "<=1" when none is known. Returns the
//  text (caller owns it), or NULL with the reason in err.
char *operator_raft_peers_render (const cJSON *configuration, char *err,
                                  size_t err_size);

#endif
