/*  cmd_members: `meridian members`, Consul's `consul members` over
    /v1/agent/members[?wan=1]. */
#ifndef MRD_CLI_CMD_MEMBERS_H
#define MRD_CLI_CMD_MEMBERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

//  Returns the exit code: 0, 1 on an error, 2 when no member matches.
int cmd_members_run (int argc, char **argv);

//  Renders members ([{Name,Addr,Port,Tags,Status,...}]) whose status name
//  (alive, leaving, left, failed, none) matches the POSIX extended regular
//  expression status_regex, servers (role=consul) first, then by segment
//  and name, as Consul's columns "Node Address Status Type Build Protocol
//  DC Segment", or with detailed "Node Address Status Tags". Sets *output
//  (caller owns it; NULL when nothing matched) and returns the number of
//  members shown, or -1 with the reason in err (bad regex, members not a
//  list, out of memory).
int members_render (const cJSON *members, const char *status_regex,
                    bool detailed, char **output, char *err,
                    size_t err_size);

#endif
