/*  cmd_leave: `meridian leave` and `meridian force-leave`, Consul's
    commands over PUT /v1/agent/leave and /v1/agent/force-leave/:node. */
#ifndef MRD_CLI_CMD_LEAVE_H
#define MRD_CLI_CMD_LEAVE_H

//  Each returns the exit code.
int cmd_leave_run (int argc, char **argv);
int cmd_force_leave_run (int argc, char **argv);

#endif
