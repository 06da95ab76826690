/*  cmd_services: `meridian services register|deregister`, Consul's
    `consul services` commands over /v1/agent/service/(de)register. */
#ifndef MRD_CLI_CMD_SERVICES_H
#define MRD_CLI_CMD_SERVICES_H

#include <cjson/cJSON.h>
#include <stddef.h>

//  argv[0] is the subcommand. Returns the exit code.
int cmd_services_run (int argc, char **argv);

//  Reads the service definitions of a Consul JSON config file: {"service":
//  {...}} or {"services": [{...}, ...]} with Consul's snake_case keys or
//  the API's PascalCase, and returns them as an array of
//  /v1/agent/service/register bodies (PascalCase keys; Meta and tagged
//  address names kept as written). Caller owns return value; NULL with the
//  reason in err.
cJSON *services_from_file (const char *path, char *err, size_t err_size);

#endif
