/*  cmd_version: `meridian version [-format=pretty|json]`, as Consul's
    `consul version`. The version comes from common/version.h. */
#ifndef MRD_CLI_CMD_VERSION_H
#define MRD_CLI_CMD_VERSION_H

//  Returns the exit code.
int cmd_version_run (int argc, char **argv);

#endif
