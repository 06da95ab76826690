/*  cmd_join: `meridian join` (Consul's command/join): asks the agent to
    join each address; fails only when every address fails. */
#include "cmd_join.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent_api.h"
#include "flags.h"
#include "http_client.h"

int
cmd_join_run (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL;
    bool wan = false;
    flags_t *flags = flags_new (
        "Usage: meridian join [options] address ...\n\n"
        "  Tells a running agent to join the cluster by contacting at\n"
        "  least one existing member (host or host:port, default port\n"
        "  8301, or 8302 with -wan).");
    flags_http (flags, &http_addr, &token);
    flags_bool (flags, "wan", &wan,
                "Joins a server to another server in the WAN pool.");
    int first = flags_parse (flags, argc, argv);
    if (first < 0) {
        flags_destroy (&flags);
        return first == -2 ? 0 : 1;
    }
    if (first == argc) {
        fprintf (stderr, "At least one address to join must be "
                 "specified.\n\n");
        flags_usage (flags, stderr);
        flags_destroy (&flags);
        return 1;
    }
    flags_destroy (&flags);
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    int joined = 0;
    for (int i = first; i < argc; i++) {
        char *escaped = http_escape (argv [i]);
        if (!escaped) {
            fprintf (stderr, "Error joining address '%s': out of memory\n",
                     argv [i]);
            continue;
        }
        char path [1024];
        int len = snprintf (path, sizeof (path), "/v1/agent/join/%s%s",
                            escaped, wan ? "?wan=1" : "");
        free (escaped);
        if (len < 0 || (size_t) len >= sizeof (path)) {
            fprintf (stderr, "Error joining address '%s': address too "
                     "long\n", argv [i]);
            continue;
        }
        char what [1100];
        snprintf (what, sizeof (what), "joining address '%.1000s'", argv [i]);
        if (agent_api_write (api, "PUT", path, NULL, what, NULL) == 0)
            joined++;
    }
    agent_api_destroy (&api);
    if (joined == 0) {
        fprintf (stderr, "Failed to join any nodes.\n");
        return 1;
    }
    printf ("Successfully joined cluster by contacting %d nodes.\n", joined);
    return 0;
}
