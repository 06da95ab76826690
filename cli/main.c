/*  meridian: the command-line tool of Meridian (docs/cli.md). A table of
    commands, each run by its cmd_*.c module; `meridian agent` runs a node,
    the others talk to an agent's HTTP API like Consul's CLI. */
#include <stdio.h>
#include <string.h>

#include "cmd_agent.h"
#include "cmd_catalog.h"
#include "cmd_join.h"
#include "cmd_keyring.h"
#include "cmd_leave.h"
#include "cmd_members.h"
#include "cmd_operator.h"
#include "cmd_services.h"
#include "cmd_version.h"

typedef struct {
    const char *name;
    int (*run) (int argc, char **argv);     //  argv after the command word
    const char *synopsis;
} command_t;

static const command_t s_commands [] = {
    { "agent", cmd_agent_run, "Runs a Meridian agent" },
    { "catalog", cmd_catalog_run,
      "Interact with the catalog (datacenters, nodes, services)" },
    { "force-leave", cmd_force_leave_run,
      "Forces a member of the cluster to enter the \"left\" state" },
    { "join", cmd_join_run, "Tell Meridian agent to join cluster" },
    { "keygen", cmd_keygen_run, "Generates a new encryption key" },
    { "keyring", cmd_keyring_run, "Manages gossip layer encryption keys" },
    { "leave", cmd_leave_run,
      "Gracefully leaves the Meridian cluster and shuts down" },
    { "members", cmd_members_run, "Lists the members of a Meridian cluster" },
    { "operator", cmd_operator_run,
      "Provides cluster-level tools for Meridian operators" },
    { "services", cmd_services_run,
      "Interact with services (register, deregister)" },
    { "version", cmd_version_run, "Prints the Meridian version" },
};
#define COMMAND_COUNT (sizeof (s_commands) / sizeof (s_commands [0]))

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: meridian [--version] [--help] <command> [<args>]\n\n"
                  "Available commands are:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf (out, "    %-14s%s\n", s_commands [i].name,
                 s_commands [i].synopsis);
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        s_usage (stderr);
        return 1;
    }
    const char *name = argv [1];
    if (strcmp (name, "-h") == 0 || strcmp (name, "-help") == 0
    ||  strcmp (name, "--help") == 0 || strcmp (name, "help") == 0) {
        s_usage (stdout);
        return 0;
    }
    if (strcmp (name, "-v") == 0 || strcmp (name, "-version") == 0
    ||  strcmp (name, "--version") == 0)
        name = "version";
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp (name, s_commands [i].name) == 0)
            return s_commands [i].run (argc - 2, argv + 2);
    fprintf (stderr, "Unknown command: %s\n\n", name);
    s_usage (stderr);
    return 1;
}
