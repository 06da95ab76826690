/*  cmd_catalog: `meridian catalog datacenters|nodes|services`, Consul's
    `consul catalog` commands over the /v1/catalog routes. */
#ifndef MRD_CLI_CMD_CATALOG_H
#define MRD_CLI_CMD_CATALOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

//  argv[0] is the subcommand. Returns the exit code.
int cmd_catalog_run (int argc, char **argv);

//  Renders nodes ([{ID,Node,Address,Datacenter,TaggedAddresses,Meta}]) as
//  Consul's table: "Node ID Address DC" with the ID cut at its first '-',
//  or with -detailed the full ID plus "TaggedAddresses Meta" as sorted
//  k=v lists. Fields of the wrong type render empty. Caller owns return
//  value; NULL when out of memory or nodes is not an array.
char *catalog_nodes_render (const cJSON *nodes, bool detailed);

//  Renders a {"name":["tag",...]} map as Consul does: names sorted, one a
//  line, or with tags "name      tag1,tag2" (tags sorted). Caller owns
//  return value; NULL when out of memory or services is not an object.
char *catalog_services_render (const cJSON *services, bool tags);

#endif
