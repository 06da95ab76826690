/*  cmd_operator: `meridian operator raft list-peers|remove-peer` (see
    cmd_operator.h), with Consul's output and messages. */
#include "cmd_operator.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_api.h"
#include "flags.h"
#include "table.h"

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: meridian operator <subcommand> [options]\n\n"
                  "  Provides cluster-level tools for Meridian operators.\n\n"
                  "Subcommands:\n"
                  "    raft list-peers     Display the current Raft peer configuration\n"
                  "    raft remove-peer    Remove a Meridian server from the Raft "
                  "configuration\n");
}

char *
operator_raft_peers_render (const cJSON *configuration, char *err, size_t err_size)
{
    const cJSON *servers = cJSON_GetObjectItemCaseSensitive (configuration, "Servers");
    if (!cJSON_IsArray (servers)) {
        snprintf (err, err_size, "unexpected response (no Servers list)");
        return NULL;
    }
    table_t *table = table_new (6);
    if (!table || table_addv (table, "Node", "ID", "Address", "State", "Voter",
                              "RaftProtocol")) {
        table_destroy (&table);
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    const cJSON *server;
    cJSON_ArrayForEach (server, servers) {
        const char *protocol = agent_api_field (server, "ProtocolVersion");
        bool leader = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (server, "Leader"));
        bool voter = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (server, "Voter"));
        if (table_addv (table, agent_api_field (server, "Node"),
                        agent_api_field (server, "ID"),
                        agent_api_field (server, "Address"),
                        leader ? "leader" : "follower", voter ? "true" : "false",
                        *protocol ? protocol : "<=1")) {
            table_destroy (&table);
            snprintf (err, err_size, "out of memory");
            return NULL;
        }
    }
    char *text = table_render (table);
    table_destroy (&table);
    if (!text)
        snprintf (err, err_size, "out of memory");
    return text;
}

static int
s_list_peers (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL, *datacenter = NULL;
    bool stale = false;
    flags_t *flags = flags_new (
        "Usage: meridian operator raft list-peers [options]\n\n"
        "  Displays the current Raft peer configuration.");
    flags_http (flags, &http_addr, &token);
    flags_string (flags, "datacenter", &datacenter,
                  "Name of the datacenter to query. If unspecified, this will "
                  "default to the datacenter of the queried agent.");
    flags_bool (flags, "stale", &stale,
                "Permit any Meridian server (non-leader) to respond to this "
                "request. This allows for lower latency and higher throughput, "
                "but can result in stale data. This option has no effect on "
                "non-read operations. The default value is false.");
    int first = flags_parse (flags, argc, argv);
    if (first >= 0 && first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n", argc - first);
        first = -1;
    }
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    char path[512] = "/v1/operator/raft/configuration";
    if ((datacenter && *datacenter
         && agent_api_query (path, sizeof path, "dc", datacenter))
        || (stale && agent_api_query (path, sizeof path, "stale", NULL))) {
        fprintf (stderr, "Error getting peers: datacenter name too long\n");
        return 1;
    }
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    cJSON *configuration = agent_api_get (
        api, path, "getting peers: Failed to retrieve raft configuration");
    agent_api_destroy (&api);
    if (!configuration)
        return 1;
    char err[256];
    char *text = operator_raft_peers_render (configuration, err, sizeof err);
    cJSON_Delete (configuration);
    if (!text) {
        fprintf (stderr, "Error getting peers: %s\n", err);
        return 1;
    }
    fputs (text, stdout);
    free (text);
    return 0;
}

static int
s_remove_peer (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL, *datacenter = NULL;
    const char *address = "", *id = "";
    flags_t *flags = flags_new (
        "Usage: meridian operator raft remove-peer [options]\n\n"
        "  Remove the Meridian server with given -address (or -id) from the\n"
        "  Raft configuration.\n\n"
        "  There are rare cases where a peer may be left behind in the Raft\n"
        "  quorum even though the server is no longer present and known to the\n"
        "  cluster. This command can be used to remove the failed server so\n"
        "  that it no longer affects the Raft quorum. If the server still\n"
        "  shows in the output of the \"meridian members\" command, it is\n"
        "  preferable to clean up by running \"meridian force-leave\" instead\n"
        "  of this command.");
    flags_http (flags, &http_addr, &token);
    flags_string (flags, "datacenter", &datacenter,
                  "Name of the datacenter to query. If unspecified, this will "
                  "default to the datacenter of the queried agent.");
    flags_string (flags, "address", &address,
                  "The address to remove from the Raft configuration.");
    flags_string (flags, "id", &id, "The ID to remove from the Raft configuration.");
    int first = flags_parse (flags, argc, argv);
    if (first >= 0 && first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n", argc - first);
        first = -1;
    }
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    if (!*address && !*id) {
        fprintf (stderr, "Error removing peer: an address or id is required for the "
                 "peer to remove\n");
        return 1;
    }
    if (*address && *id) {
        fprintf (stderr, "Error removing peer: cannot give both an address and id\n");
        return 1;
    }
    char path[1024] = "/v1/operator/raft/peer";
    if (agent_api_query (path, sizeof path, *id ? "id" : "address", *id ? id : address)
        || (datacenter && *datacenter
            && agent_api_query (path, sizeof path, "dc", datacenter))) {
        fprintf (stderr, "Error removing peer: argument too long\n");
        return 1;
    }
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    int rc = agent_api_write (api, "DELETE", path, NULL, "removing peer", NULL);
    agent_api_destroy (&api);
    if (rc)
        return 1;
    if (*address)
        printf ("Removed peer with address \"%s\"\n", address);
    else
        printf ("Removed peer with id \"%s\"\n", id);
    return 0;
}

int
cmd_operator_run (int argc, char **argv)
{
    if (argc >= 1 && (strcmp (argv[0], "-h") == 0 || strcmp (argv[0], "-help") == 0
                      || strcmp (argv[0], "--help") == 0)) {
        s_usage (stdout);
        return 0;
    }
    if (argc < 2 || strcmp (argv[0], "raft") != 0) {
        s_usage (stderr);
        return 1;
    }
    if (strcmp (argv[1], "list-peers") == 0)
        return s_list_peers (argc - 2, argv + 2);
    if (strcmp (argv[1], "remove-peer") == 0)
        return s_remove_peer (argc - 2, argv + 2);
    fprintf (stderr, "Unknown command: operator raft %s\n\n", argv[1]);
    s_usage (stderr);
    return 1;
}
