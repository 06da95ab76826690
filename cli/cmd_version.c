/*  cmd_version: prints Meridian's version and the gossip protocol versions
    it speaks, in Consul's `consul version` layout (pretty) or as JSON. */
#include "cmd_version.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "version.h"

static int
s_json_print (void)
{
    cJSON *info = cJSON_CreateObject ();
    cJSON_AddStringToObject (info, "Version", MERIDIAN_VERSION);
    cJSON_AddStringToObject (info, "Revision", MERIDIAN_REVISION);
    cJSON_AddStringToObject (info, "Prerelease", "");
    cJSON *rpc = cJSON_AddObjectToObject (info, "RPC");
    cJSON_AddNumberToObject (rpc, "Default", MERIDIAN_PROTOCOL);
    cJSON_AddNumberToObject (rpc, "Min", MERIDIAN_PROTOCOL_MIN);
    cJSON_AddNumberToObject (rpc, "Max", MERIDIAN_PROTOCOL_MAX);
    char *text = cJSON_Print (info);
    cJSON_Delete (info);
    if (!text) {
        fprintf (stderr, "Error: out of memory\n");
        return 1;
    }
    printf ("%s\n", text);
    free (text);
    return 0;
}

int
cmd_version_run (int argc, char **argv)
{
    const char *format = "pretty";
    flags_t *flags = flags_new ("Usage: meridian version [options]\n\n"
                                "  Prints the Meridian version.");
    flags_string (flags, "format", &format, "Output format {pretty|json}");
    int first = flags_parse (flags, argc, argv);
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    if (first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n",
                 argc - first);
        return 1;
    }
    if (strcmp (format, "json") == 0)
        return s_json_print ();
    if (strcmp (format, "pretty") != 0) {
        fprintf (stderr, "Invalid format: %s (expected pretty or json)\n",
                 format);
        return 1;
    }
    printf ("Meridian v%s\n", MERIDIAN_VERSION);
    if (*MERIDIAN_REVISION)
        printf ("Revision %s\n", MERIDIAN_REVISION);
    printf ("Protocol %d spoken by default, understands %d to %d",
            MERIDIAN_PROTOCOL, MERIDIAN_PROTOCOL_MIN, MERIDIAN_PROTOCOL_MAX);
    if (MERIDIAN_PROTOCOL < MERIDIAN_PROTOCOL_MAX)
        printf (" (agent will automatically use protocol >%d when speaking "
                "to compatible agents)", MERIDIAN_PROTOCOL);
    printf ("\n");
    return 0;
}
