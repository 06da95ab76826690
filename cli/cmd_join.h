/*  cmd_join: `meridian join [-wan] ADDR...`, Consul's `consul join` over
    PUT /v1/agent/join/:address[?wan=1]. */
#ifndef MRD_CLI_CMD_JOIN_H
#define MRD_CLI_CMD_JOIN_H

//  Returns the exit code: 0 when at least one address was joined.
int cmd_join_run (int argc, char **argv);

#endif
