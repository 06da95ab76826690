/*  cmd_members: `meridian members [-wan] [-detailed] [-status=REGEX]`
    (Consul's command/members, columns of Consul before 1.11: no
    Partition). Reads /v1/agent/members, whose members carry serf tags:
    role (consul = server, node = client), dc, vsn, build, segment. */
#include "cmd_members.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_api.h"
#include "flags.h"
#include "table.h"

typedef struct {
    const cJSON *json;
    cJSON *tags;                //  a copy with the segment tag filled in
    const char *name;
    const char *role;
    const char *segment;
    size_t order;               //  position in the response (stable sort)
} member_t;

//  Serf's MemberStatus names.
static const char *
s_status_name (const cJSON *status)
{
    static const char *names [] = { "none", "alive", "leaving", "left",
                                    "failed" };
    if (!cJSON_IsNumber (status) || status->valuedouble < 0
    ||  status->valuedouble > 4
    ||  status->valuedouble != (double) (int) status->valuedouble)
        return "unknown";
    return names [(int) status->valuedouble];
}

static bool
s_is_server (const member_t *member)
{
    return strcmp (member->role, "consul") == 0;
}

static int
s_member_compare (const void *a, const void *b)
{
    const member_t *x = a, *y = b;
    if (s_is_server (x) != s_is_server (y))
        return s_is_server (x) ? -1 : 1;
    int rc = strcmp (x->segment, y->segment);
    if (rc == 0)
        rc = strcmp (x->name, y->name);
    if (rc == 0)
        rc = x->order < y->order ? -1 : x->order > y->order;
    return rc;
}

//  "ip:port" like Go's net.TCPAddr: brackets around IPv6.
static void
s_address (const cJSON *member, char *buf, size_t size)
{
    const char *addr = agent_api_field (member, "Addr");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive (member, "Port");
    int port_value = cJSON_IsNumber (port) ? (int) port->valuedouble : 0;
    bool v6 = strchr (addr, ':') != NULL;
    snprintf (buf, size, "%s%s%s:%d", v6 ? "[" : "", addr, v6 ? "]" : "",
              port_value);
}

static int
s_row_add (table_t *table, const member_t *member, bool detailed)
{
    char address [160];
    s_address (member->json, address, sizeof (address));
    const char *status = s_status_name (
        cJSON_GetObjectItemCaseSensitive (member->json, "Status"));
    if (detailed) {
        char *tags = table_kv_join (member->tags, ",");
        int rc = tags ? table_addv (table, member->name, address, status, tags)
                      : -1;
        free (tags);
        return rc;
    }
    const char *type = s_is_server (member) ? "server"
                     : strcmp (member->role, "node") == 0 ? "client"
                     : NULL;
    if (!type)
        return table_addv (table, member->name, address, status, "unknown",
                           "", "", "", "");
    char build [64];
    const char *build_tag = agent_api_field (member->tags, "build");
    if (*build_tag)
        snprintf (build, sizeof (build), "%.*s",
                  (int) strcspn (build_tag, ":"), build_tag);
    else
        snprintf (build, sizeof (build), "< 0.3");
    return table_addv (table, member->name, address, status, type, build,
                       agent_api_field (member->tags, "vsn"),
                       agent_api_field (member->tags, "dc"), member->segment);
}

int
members_render (const cJSON *members, const char *status_regex,
                bool detailed, char **output, char *err, size_t err_size)
{
    *output = NULL;
    regex_t regex;
    int rc = regcomp (&regex, status_regex, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char why [128];
        regerror (rc, &regex, why, sizeof (why));
        snprintf (err, err_size, "Failed to compile status regexp: %s", why);
        return -1;
    }
    if (!cJSON_IsArray (members)) {
        regfree (&regex);
        snprintf (err, err_size, "unexpected response (not a list)");
        return -1;
    }
    int count = cJSON_GetArraySize (members);
    member_t *list = calloc (count ? count : 1, sizeof (member_t));
    table_t *table = table_new (detailed ? 4 : 8);
    int size = 0;
    rc = -1;
    snprintf (err, err_size, "out of memory");
    if (!list || !table)
        goto cleanup;
    const cJSON *json;
    cJSON_ArrayForEach (json, members) {
        const char *status = s_status_name (
            cJSON_GetObjectItemCaseSensitive (json, "Status"));
        if (regexec (&regex, status, 0, NULL, 0) != 0)
            continue;
        member_t *member = &list [size];
        member->json = json;
        member->order = size++;
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive (json, "Tags");
        member->tags = cJSON_IsObject (tags) ? cJSON_Duplicate (tags, true)
                                             : cJSON_CreateObject ();
        if (!member->tags)
            goto cleanup;
        member->name = agent_api_field (json, "Name");
        member->role = agent_api_field (member->tags, "role");
        //  As Consul: an empty segment is <all> on servers, <default> on
        //  clients, in the Segment column and the detailed tags alike.
        if (!*agent_api_field (member->tags, "segment")) {
            cJSON_DeleteItemFromObjectCaseSensitive (member->tags, "segment");
            if (!cJSON_AddStringToObject (member->tags, "segment",
                                          s_is_server (member) ? "<all>"
                                                               : "<default>"))
                goto cleanup;
        }
        member->segment = agent_api_field (member->tags, "segment");
    }
    if (size == 0) {
        rc = 0;
        goto cleanup;
    }
    qsort (list, size, sizeof (member_t), s_member_compare);
    if (detailed ? table_addv (table, "Node", "Address", "Status", "Tags")
                 : table_addv (table, "Node", "Address", "Status", "Type",
                               "Build", "Protocol", "DC", "Segment"))
        goto cleanup;
    for (int i = 0; i < size; i++)
        if (s_row_add (table, &list [i], detailed))
            goto cleanup;
    *output = table_render (table);
    if (*output)
        rc = size;
cleanup:
    for (int i = 0; list && i < size; i++)
        cJSON_Delete (list [i].tags);
    free (list);
    table_destroy (&table);
    regfree (&regex);
    if (rc >= 0 && err && err_size)
        err [0] = '\0';
    return rc;
}

int
cmd_members_run (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL;
    bool wan = false, detailed = false;
    const char *status = ".*";
    flags_t *flags = flags_new (
        "Usage: meridian members [options]\n\n"
        "  Outputs the members of the cluster the agent knows about\n"
        "  (its LAN pool, or with -wan the WAN pool of the servers).\n"
        "  Exits 2 when no member matches.");
    flags_http (flags, &http_addr, &token);
    flags_bool (flags, "detailed", &detailed,
                "Provides detailed information about nodes.");
    flags_bool (flags, "wan", &wan,
                "If the agent is in server mode, this can be used to return "
                "the other peers in the WAN pool.");
    flags_string (flags, "status", &status,
                  "If provided, output is filtered to only nodes matching "
                  "the regular expression for status.");
    int first = flags_parse (flags, argc, argv);
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    if (first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n",
                 argc - first);
        return 1;
    }
    //  Check the regex before talking to the agent, as Consul does.
    regex_t regex;
    int rc = regcomp (&regex, status, REG_EXTENDED | REG_NOSUB);
    char err [256];
    if (rc) {
        regerror (rc, &regex, err, sizeof (err));
        fprintf (stderr, "Failed to compile status regexp: %s\n", err);
        return 1;
    }
    regfree (&regex);
    char *output = NULL;
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    cJSON *members = agent_api_get (api, wan ? "/v1/agent/members?wan=1"
                                             : "/v1/agent/members",
                                    "retrieving members");
    agent_api_destroy (&api);
    if (!members)
        return 1;
    int shown = members_render (members, status, detailed, &output, err,
                                sizeof (err));
    cJSON_Delete (members);
    if (shown < 0) {
        fprintf (stderr, "Error retrieving members: %s\n", err);
        return 1;
    }
    if (shown == 0)
        return 2;
    fputs (output, stdout);
    free (output);
    return 0;
}
