/*  cmd_agent: `meridian agent [flags]`, Consul's agent flags. Loads and
    checks the configuration (-t: only that), writes the effective config
    to <data_dir>/run/agent.json and runs the node's daemons under the
    supervisor until SIGTERM/SIGINT. */
#ifndef MRD_CLI_CMD_AGENT_H
#define MRD_CLI_CMD_AGENT_H

#include <stdbool.h>
#include <stddef.h>

//  Returns the exit code.
int cmd_agent_run (int argc, char **argv);

//  The daemons a node runs, in start order, NULL-terminated: on a server
//  catalogd, gossipd, httpd; on a client gossipd, httpd.
const char **agent_daemons (bool server);

#endif
