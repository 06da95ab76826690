/*  cmd_leave: `meridian leave` (the agent leaves its pools gracefully and
    shuts down) and `meridian force-leave [-prune] [-wan] NODE` (a failed
    member is marked left), as Consul's command/leave and
    command/forceleave. */
#include "cmd_leave.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent_api.h"
#include "flags.h"
#include "http_client.h"

int
cmd_leave_run (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL;
    flags_t *flags = flags_new (
        "Usage: meridian leave [options]\n\n"
        "  Causes the agent to gracefully leave the cluster and shut down.");
    flags_http (flags, &http_addr, &token);
    int first = flags_parse (flags, argc, argv);
    if (first >= 0 && first < argc) {
        fprintf (stderr, "Error found unexpected args:");
        for (int i = first; i < argc; i++)
            fprintf (stderr, " %s", argv [i]);
        fprintf (stderr, "\n");
        flags_usage (flags, stderr);
        first = -1;
    }
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    int rc = agent_api_write (api, "PUT", "/v1/agent/leave", NULL, "leaving",
                              NULL);
    agent_api_destroy (&api);
    if (rc)
        return 1;
    printf ("Graceful leave complete\n");
    return 0;
}

int
cmd_force_leave_run (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL;
    bool prune = false, wan = false;
    flags_t *flags = flags_new (
        "Usage: meridian force-leave [options] name\n\n"
        "  Forces a member of the cluster to enter the \"left\" state. A\n"
        "  member that is actually alive will rejoin; this is for cleaning\n"
        "  out failed nodes that are never coming back.");
    flags_http (flags, &http_addr, &token);
    flags_bool (flags, "prune", &prune,
                "Remove agent forcibly from list of members.");
    flags_bool (flags, "wan", &wan,
                "Exclusively leave the agent from the WAN pool (the name is "
                "<node>.<datacenter>).");
    int first = flags_parse (flags, argc, argv);
    if (first >= 0 && argc - first != 1) {
        fprintf (stderr, "A single node name must be specified to force "
                 "leave.\n\n");
        flags_usage (flags, stderr);
        first = -1;
    }
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    char *escaped = http_escape (argv [first]);
    if (!escaped)
        return 1;
    char path [1024];
    int len = snprintf (path, sizeof (path), "/v1/agent/force-leave/%s",
                        escaped);
    free (escaped);
    if (len < 0 || (size_t) len >= sizeof (path) - 32) {
        fprintf (stderr, "Error force leaving: node name too long\n");
        return 1;
    }
    if (prune)
        agent_api_query (path, sizeof (path), "prune", "1");
    if (wan)
        agent_api_query (path, sizeof (path), "wan", "1");
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    int rc = agent_api_write (api, "PUT", path, NULL, "force leaving", NULL);
    agent_api_destroy (&api);
    return rc ? 1 : 0;
}
