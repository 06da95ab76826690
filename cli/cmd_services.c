/*  cmd_services: `meridian services register|deregister` (Consul's
    command/services). Services come from flags or from Consul JSON config
    files; they are sent to the agent as /v1/agent/service/register bodies
    and removed with /v1/agent/service/deregister/:id. */
#include "cmd_services.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_api.h"
#include "flags.h"
#include "http_client.h"

#define SERVICES_FILE_MAX (1024 * 1024)
#define KEY_MAX 128

//  Keys whose Consul config spelling is not plain snake_case of the API's
//  PascalCase (initialisms).
static const struct {
    const char *config;
    const char *api;
} s_key_names [] = {
    { "id", "ID" },
    { "ttl", "TTL" },
    { "http", "HTTP" },
    { "tcp", "TCP" },
    { "udp", "UDP" },
    { "grpc", "GRPC" },
    { "grpc_use_tls", "GRPCUseTLS" },
    { "h2ping", "H2PING" },
    { "h2ping_use_tls", "H2PingUseTLS" },
    { "tls_skip_verify", "TLSSkipVerify" },
    { "tls_server_name", "TLSServerName" },
    { "check_id", "CheckID" },
    { "service_id", "ServiceID" },
    { "docker_container_id", "DockerContainerID" },
    { "destination_service_id", "DestinationServiceID" },
    { "os_service", "OSService" },
};

//  API keys whose value is a map of user-chosen keys, copied verbatim.
static const char *s_opaque [] = { "Meta", "Header", "Config", "NodeMeta" };

typedef enum { CONTEXT_PLAIN, CONTEXT_CHECK } key_context_t;

static void
s_key_translate (const char *key, key_context_t context, char *out,
                 size_t size)
{
    if (context == CONTEXT_CHECK && strcmp (key, "id") == 0) {
        snprintf (out, size, "CheckID");
        return;
    }
    for (size_t i = 0; i < sizeof (s_key_names) / sizeof (s_key_names [0]);
         i++)
        if (strcmp (key, s_key_names [i].config) == 0) {
            snprintf (out, size, "%s", s_key_names [i].api);
            return;
        }
    if (!islower ((unsigned char) *key)) {
        snprintf (out, size, "%s", key);    //  already the API's spelling
        return;
    }
    size_t len = 0;
    bool upper = true;
    for (const char *p = key; *p && len + 1 < size; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        out [len++] = upper ? (char) toupper ((unsigned char) *p) : *p;
        upper = false;
    }
    out [len] = '\0';
}

static bool
s_is_opaque (const char *api_key)
{
    for (size_t i = 0; i < sizeof (s_opaque) / sizeof (s_opaque [0]); i++)
        if (strcmp (api_key, s_opaque [i]) == 0)
            return true;
    return false;
}

static cJSON *s_object_translate (const cJSON *object, key_context_t context,
                                  char *err, size_t err_size);

//  Translates a value found under api_key.
static cJSON *
s_value_translate (const char *api_key, const cJSON *value, char *err,
                   size_t err_size)
{
    if (s_is_opaque (api_key))
        return cJSON_Duplicate (value, true);
    key_context_t context = strcmp (api_key, "Check") == 0
                         || strcmp (api_key, "Checks") == 0
                          ? CONTEXT_CHECK : CONTEXT_PLAIN;
    if (cJSON_IsObject (value)) {
        if (strcmp (api_key, "TaggedAddresses") != 0)
            return s_object_translate (value, context, err, err_size);
        //  Names of tagged addresses are the user's; their values are not.
        cJSON *copy = cJSON_CreateObject ();
        const cJSON *item;
        cJSON_ArrayForEach (item, value) {
            cJSON *translated = s_value_translate ("", item, err, err_size);
            if (!translated) {
                cJSON_Delete (copy);
                return NULL;
            }
            cJSON_AddItemToObject (copy, item->string, translated);
        }
        return copy;
    }
    if (cJSON_IsArray (value)) {
        cJSON *copy = cJSON_CreateArray ();
        const cJSON *item;
        cJSON_ArrayForEach (item, value) {
            cJSON *translated = cJSON_IsObject (item)
                ? s_object_translate (item, context, err, err_size)
                : cJSON_Duplicate (item, true);
            if (!translated) {
                cJSON_Delete (copy);
                return NULL;
            }
            cJSON_AddItemToArray (copy, translated);
        }
        return copy;
    }
    return cJSON_Duplicate (value, true);
}

static cJSON *
s_object_translate (const cJSON *object, key_context_t context, char *err,
                    size_t err_size)
{
    cJSON *copy = cJSON_CreateObject ();
    const cJSON *item;
    cJSON_ArrayForEach (item, object) {
        char key [KEY_MAX];
        s_key_translate (item->string, context, key, sizeof (key));
        if (cJSON_GetObjectItemCaseSensitive (copy, key)) {
            snprintf (err, err_size, "key \"%s\" given twice (as \"%s\")",
                      key, item->string);
            cJSON_Delete (copy);
            return NULL;
        }
        cJSON *value = s_value_translate (key, item, err, err_size);
        if (!value) {
            cJSON_Delete (copy);
            return NULL;
        }
        cJSON_AddItemToObject (copy, key, value);
    }
    return copy;
}

//  Appends the translated definition to list. Returns 0/-1.
static int
s_definition_add (cJSON *list, const cJSON *definition, const char *path,
                  char *err, size_t err_size)
{
    char why [256] = "";
    if (!cJSON_IsObject (definition)) {
        snprintf (err, err_size, "%s: a service definition must be an "
                  "object", path);
        return -1;
    }
    cJSON *service = s_object_translate (definition, CONTEXT_PLAIN, why,
                                         sizeof (why));
    if (!service) {
        snprintf (err, err_size, "%s: %s", path, why);
        return -1;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive (service, "Name");
    if (!cJSON_IsString (name) || !*name->valuestring) {
        snprintf (err, err_size, "%s: service %d: name is required", path,
                  cJSON_GetArraySize (list) + 1);
        cJSON_Delete (service);
        return -1;
    }
    cJSON_AddItemToArray (list, service);
    return 0;
}

cJSON *
services_from_file (const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = malloc (SERVICES_FILE_MAX + 1);
    size_t size = text ? fread (text, 1, SERVICES_FILE_MAX + 1, file) : 0;
    bool read_error = ferror (file);
    fclose (file);
    if (!text || read_error || size > SERVICES_FILE_MAX) {
        snprintf (err, err_size, "%s: %s", path, !text ? "out of memory"
                  : read_error ? "read error" : "file larger than 1 MiB");
        free (text);
        return NULL;
    }
    text [size] = '\0';
    cJSON *root = strlen (text) == size
                ? cJSON_ParseWithOpts (text, NULL, true) : NULL;
    free (text);
    if (!cJSON_IsObject (root)) {
        snprintf (err, err_size, "%s: %s", path, root
                  ? "top level must be a JSON object" : "invalid JSON");
        cJSON_Delete (root);
        return NULL;
    }
    cJSON *list = cJSON_CreateArray ();
    const cJSON *item;
    int rc = 0;
    cJSON_ArrayForEach (item, root) {
        if (strcmp (item->string, "service") != 0
        &&  strcmp (item->string, "services") != 0)
            continue;           //  other agent configuration keys
        if (cJSON_IsArray (item)) {
            const cJSON *definition;
            cJSON_ArrayForEach (definition, item)
                if ((rc = s_definition_add (list, definition, path, err,
                                            err_size)))
                    break;
        }
        else
            rc = s_definition_add (list, item, path, err, err_size);
        if (rc)
            break;
    }
    cJSON_Delete (root);
    if (rc == 0 && cJSON_GetArraySize (list) == 0) {
        snprintf (err, err_size, "%s: no \"service\" or \"services\" "
                  "definition", path);
        rc = -1;
    }
    if (rc) {
        cJSON_Delete (list);
        return NULL;
    }
    return list;
}

//  Reads every file into one list; prints the error and returns NULL.
static cJSON *
s_files_load (int count, char **paths)
{
    cJSON *all = cJSON_CreateArray ();
    for (int i = 0; i < count; i++) {
        char err [512];
        cJSON *list = services_from_file (paths [i], err, sizeof (err));
        if (!list) {
            fprintf (stderr, "Error: %s\n", err);
            cJSON_Delete (all);
            return NULL;
        }
        while (cJSON_GetArraySize (list) > 0)
            cJSON_AddItemToArray (all, cJSON_DetachItemFromArray (list, 0));
        cJSON_Delete (list);
    }
    return all;
}

typedef struct {
    const char *http_addr;
    const char *token;
    const char *name;
    const char *id;
    const char *address;
    const char *kind;
    int port;
    const char **tags;
    int tag_count;
    const char **meta;
    int meta_count;
} register_flags_t;

//  Sets a string field from a flag unless the definition has it.
static void
s_field_default (cJSON *service, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    const cJSON *current = cJSON_GetObjectItemCaseSensitive (service, key);
    if (cJSON_IsString (current) && *current->valuestring)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive (service, key);
    cJSON_AddStringToObject (service, key, value);
}

//  Applies the flags to a service definition the way Consul's CombineArgs
//  does: flags fill what the file leaves empty, meta is merged, tags are
//  appended. Returns 0, or -1 after printing why.
static int
s_flags_apply (const register_flags_t *flags, cJSON *service)
{
    s_field_default (service, "Name", flags->name);
    s_field_default (service, "ID", flags->id);
    s_field_default (service, "Address", flags->address);
    s_field_default (service, "Kind", flags->kind);
    if (flags->port) {
        const cJSON *port = cJSON_GetObjectItemCaseSensitive (service, "Port");
        if (!cJSON_IsNumber (port) || port->valuedouble == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive (service, "Port");
            cJSON_AddNumberToObject (service, "Port", flags->port);
        }
    }
    if (flags->meta_count) {
        cJSON *meta = cJSON_GetObjectItemCaseSensitive (service, "Meta");
        if (!cJSON_IsObject (meta)) {
            cJSON_DeleteItemFromObjectCaseSensitive (service, "Meta");
            meta = cJSON_AddObjectToObject (service, "Meta");
        }
        for (int i = 0; i < flags->meta_count; i++) {
            const char *pair = flags->meta [i];
            const char *equals = strchr (pair, '=');
            if (!equals || equals == pair) {
                fprintf (stderr, "invalid value \"%s\" for -meta: expected "
                         "key=value\n", pair);
                return -1;
            }
            char key [KEY_MAX];
            snprintf (key, sizeof (key), "%.*s", (int) (equals - pair), pair);
            cJSON_DeleteItemFromObjectCaseSensitive (meta, key);
            cJSON_AddStringToObject (meta, key, equals + 1);
        }
    }
    if (flags->tag_count) {
        cJSON *tags = cJSON_GetObjectItemCaseSensitive (service, "Tags");
        if (!cJSON_IsArray (tags)) {
            cJSON_DeleteItemFromObjectCaseSensitive (service, "Tags");
            tags = cJSON_AddArrayToObject (service, "Tags");
        }
        for (int i = 0; i < flags->tag_count; i++)
            cJSON_AddItemToArray (tags, cJSON_CreateString (flags->tags [i]));
    }
    return 0;
}

static int
s_register (int argc, char **argv)
{
    register_flags_t opts = { 0 };
    flags_t *flags = flags_new (
        "Usage: meridian services register [options] [FILE...]\n\n"
        "  Registers one or more services with the local agent, from JSON\n"
        "  config files ({\"service\": {...}} or {\"services\": [...]}) or\n"
        "  from flags:\n\n"
        "      $ meridian services register -name=web -port=80 -tag=v1");
    flags_http (flags, &opts.http_addr, &opts.token);
    flags_string (flags, "name", &opts.name,
                  "Name of the service to register for arg-based "
                  "registration.");
    flags_string (flags, "id", &opts.id,
                  "ID of the service to register for arg-based registration. "
                  "If this isn't set, it will default to the -name value.");
    flags_string (flags, "address", &opts.address,
                  "Address of the service to register for arg-based "
                  "registration.");
    flags_int (flags, "port", &opts.port,
               "Port of the service to register for arg-based registration.");
    flags_string (flags, "kind", &opts.kind, "The service's kind.");
    flags_list (flags, "tag", &opts.tags, &opts.tag_count,
                "Tag to add to the service. Repeatable.");
    flags_list (flags, "meta", &opts.meta, &opts.meta_count,
                "Metadata to set on the service, key=value. Repeatable.");
    int first = flags_parse (flags, argc, argv);
    int rc = 1;
    cJSON *services = NULL;
    agent_api_t *api = NULL;
    if (first < 0) {
        rc = first == -2 ? 0 : 1;
        goto cleanup;
    }
    int files = argc - first;
    bool named = opts.name && *opts.name;
    if (files == 0 && !named) {
        fprintf (stderr, "Service registration requires at least one "
                 "argument or flags.\n");
        goto cleanup;
    }
    if (files > 0 && named) {
        fprintf (stderr, "Service registration requires arguments or -id, "
                 "not both.\n");
        goto cleanup;
    }
    if (opts.port < 0 || opts.port > 65535) {
        fprintf (stderr, "invalid value \"%d\" for flag -port: must be "
                 "0..65535\n", opts.port);
        goto cleanup;
    }
    if (files > 0)
        services = s_files_load (files, argv + first);
    else {
        services = cJSON_CreateArray ();
        cJSON_AddItemToArray (services, cJSON_CreateObject ());
    }
    if (!services)
        goto cleanup;
    cJSON *service;
    cJSON_ArrayForEach (service, services)
        if (s_flags_apply (&opts, service))
            goto cleanup;
    api = agent_api_new (opts.http_addr, opts.token);
    if (!api)
        goto cleanup;
    cJSON_ArrayForEach (service, services) {
        const char *name = agent_api_field (service, "Name");
        char what [300];
        snprintf (what, sizeof (what), "registering service \"%s\"", name);
        if (agent_api_write (api, "PUT", "/v1/agent/service/register",
                             service, what, NULL))
            goto cleanup;
        printf ("Registered service: %s\n", name);
    }
    rc = 0;
cleanup:
    agent_api_destroy (&api);
    cJSON_Delete (services);
    flags_destroy (&flags);
    return rc;
}

static int
s_deregister (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL, *id = NULL;
    flags_t *flags = flags_new (
        "Usage: meridian services deregister [options] [FILE...]\n\n"
        "  Deregisters services from the local agent, by -id or as\n"
        "  defined in the given files (by ID, or name when no ID).");
    flags_http (flags, &http_addr, &token);
    flags_string (flags, "id", &id,
                  "ID to delete. This must not be set if arguments are "
                  "given.");
    int first = flags_parse (flags, argc, argv);
    int rc = 1;
    cJSON *services = NULL;
    agent_api_t *api = NULL;
    if (first < 0) {
        rc = first == -2 ? 0 : 1;
        goto cleanup;
    }
    int files = argc - first;
    bool by_id = id && *id;
    if (files == 0 && !by_id) {
        fprintf (stderr, "Service deregistration requires at least one "
                 "argument or -id.\n");
        goto cleanup;
    }
    if (files > 0 && by_id) {
        fprintf (stderr, "Service deregistration requires arguments or -id, "
                 "not both.\n");
        goto cleanup;
    }
    if (files > 0)
        services = s_files_load (files, argv + first);
    else {
        services = cJSON_CreateArray ();
        cJSON *service = cJSON_CreateObject ();
        cJSON_AddStringToObject (service, "ID", id);
        cJSON_AddItemToArray (services, service);
    }
    if (!services)
        goto cleanup;
    api = agent_api_new (http_addr, token);
    if (!api)
        goto cleanup;
    const cJSON *service;
    cJSON_ArrayForEach (service, services) {
        const char *service_id = agent_api_field (service, "ID");
        if (!*service_id)
            service_id = agent_api_field (service, "Name");
        if (!*service_id)
            continue;
        char *escaped = http_escape (service_id);
        if (!escaped)
            goto cleanup;
        char path [2048];
        snprintf (path, sizeof (path), "/v1/agent/service/deregister/%.1900s",
                  escaped);
        free (escaped);
        char what [300];
        snprintf (what, sizeof (what), "deregistering service \"%s\"",
                  service_id);
        if (agent_api_write (api, "PUT", path, NULL, what, NULL))
            goto cleanup;
        printf ("Deregistered service: %s\n", service_id);
    }
    rc = 0;
cleanup:
    agent_api_destroy (&api);
    cJSON_Delete (services);
    flags_destroy (&flags);
    return rc;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: meridian services <subcommand> [options]\n\n"
             "  Registers and deregisters services with the local agent.\n\n"
             "Subcommands:\n"
             "    deregister    Deregister services with the local agent\n"
             "    register      Register services with the local agent\n");
}

int
cmd_services_run (int argc, char **argv)
{
    if (argc < 1) {
        s_usage (stderr);
        return 1;
    }
    if (strcmp (argv [0], "register") == 0)
        return s_register (argc - 1, argv + 1);
    if (strcmp (argv [0], "deregister") == 0)
        return s_deregister (argc - 1, argv + 1);
    if (strcmp (argv [0], "-h") == 0 || strcmp (argv [0], "-help") == 0
    ||  strcmp (argv [0], "--help") == 0) {
        s_usage (stdout);
        return 0;
    }
    fprintf (stderr, "Unknown services subcommand: %s\n\n", argv [0]);
    s_usage (stderr);
    return 1;
}
