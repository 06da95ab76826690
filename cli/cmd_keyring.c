/*  cmd_keyring: gossip encryption keys (Consul's command/keygen and
    command/keyring). Keys are 32 random bytes, base64 encoded, as the
    `encrypt` config key takes them. */
#include "cmd_keyring.h"

#include <errno.h>
#include <mbedtls/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "agent_api.h"
#include "flags.h"

int
keyring_key_new (char *buf, size_t size)
{
    unsigned char key [KEYRING_KEY_BYTES];
    size_t got = 0;
    while (got < sizeof (key)) {
        ssize_t rc = getrandom (key + got, sizeof (key) - got, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        got += rc;
    }
    size_t len = 0;
    int rc = mbedtls_base64_encode ((unsigned char *) buf, size, &len, key,
                                    sizeof (key));
    memset (key, 0, sizeof (key));
    return rc == 0 ? 0 : -1;
}

bool
keyring_key_valid (const char *key)
{
    unsigned char raw [64];
    size_t len = 0;
    size_t text_len = strlen (key);
    if (text_len == 0 || text_len > 88)
        return false;
    if (mbedtls_base64_decode (raw, sizeof (raw), &len,
                               (const unsigned char *) key, text_len) != 0)
        return false;
    memset (raw, 0, sizeof (raw));
    return len == 16 || len == 24 || len == 32;
}

int
cmd_keygen_run (int argc, char **argv)
{
    flags_t *flags = flags_new (
        "Usage: meridian keygen\n\n"
        "  Generates a new encryption key for the gossip pools (the\n"
        "  `encrypt` config key or -encrypt flag).");
    int first = flags_parse (flags, argc, argv);
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    if (first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n",
                 argc - first);
        return 1;
    }
    char key [64];
    if (keyring_key_new (key, sizeof (key))) {
        fprintf (stderr, "Error reading random data: %s\n", strerror (errno));
        return 1;
    }
    printf ("%s\n", key);
    return 0;
}

static int
s_string_compare (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  Appends formatted text to a growing buffer. Returns 0/-1.
static int
s_append (char **text, size_t *len, size_t *capacity, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_append (char **text, size_t *len, size_t *capacity, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int need = vsnprintf (NULL, 0, fmt, args);
    va_end (args);
    if (need < 0)
        return -1;
    if (*len + need + 1 > *capacity) {
        size_t grown = *capacity ? *capacity : 256;
        while (grown < *len + need + 1)
            grown *= 2;
        char *bigger = realloc (*text, grown);
        if (!bigger)
            return -1;
        *text = bigger;
        *capacity = grown;
    }
    va_start (args, fmt);
    vsnprintf (*text + *len, *capacity - *len, fmt, args);
    va_end (args);
    *len += need;
    return 0;
}

char *
keyring_list_render (const cJSON *responses)
{
    if (!cJSON_IsArray (responses))
        return NULL;
    char *text = NULL;
    size_t len = 0, capacity = 0;
    if (s_append (&text, &len, &capacity, "%s", ""))
        return NULL;
    const cJSON *response;
    cJSON_ArrayForEach (response, responses) {
        const char *segment = agent_api_field (response, "Segment");
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive (response,
                                                               "NumNodes");
        int node_count = cJSON_IsNumber (nodes) ? (int) nodes->valuedouble : 0;
        int rc;
        if (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (response, "WAN")))
            rc = s_append (&text, &len, &capacity, "\nWAN:\n");
        else
            rc = s_append (&text, &len, &capacity, "\n%s (LAN)%s%s%s:\n",
                           agent_api_field (response, "Datacenter"),
                           *segment ? " [" : "", segment, *segment ? "]" : "");
        const cJSON *keys = cJSON_GetObjectItemCaseSensitive (response, "Keys");
        int count = cJSON_IsObject (keys) ? cJSON_GetArraySize (keys) : 0;
        const char **names = calloc (count ? count : 1, sizeof (char *));
        if (rc || !names) {
            free (names);
            free (text);
            return NULL;
        }
        int size = 0;
        const cJSON *key;
        if (count == 0)
            keys = NULL;
        cJSON_ArrayForEach (key, keys)
            names [size++] = key->string;
        qsort (names, size, sizeof (char *), s_string_compare);
        for (int i = 0; i < size && rc == 0; i++) {
            const cJSON *number = cJSON_GetObjectItemCaseSensitive (keys,
                                                                    names [i]);
            rc = s_append (&text, &len, &capacity, "  %s [%d/%d]\n", names [i],
                           cJSON_IsNumber (number) ? (int) number->valuedouble
                                                   : 0, node_count);
        }
        free (names);
        if (rc) {
            free (text);
            return NULL;
        }
    }
    return text;
}

int
cmd_keyring_run (int argc, char **argv)
{
    const char *http_addr = NULL, *token = NULL;
    const char *install = NULL, *use = NULL, *remove_key = NULL;
    bool list = false;
    int relay = 0;
    flags_t *flags = flags_new (
        "Usage: meridian keyring [options]\n\n"
        "  Manages the encryption keys of the gossip pools: lists the keys\n"
        "  in use, installs a new key, makes an installed key the primary\n"
        "  one, removes an old key. Exactly one action per call; exits 1\n"
        "  when a node fails to reply or reports a failure.");
    flags_http (flags, &http_addr, &token);
    flags_bool (flags, "list", &list,
                "List all keys currently in use within the cluster.");
    flags_string (flags, "install", &install,
                  "Install a new encryption key. This will broadcast the new "
                  "key to all members in the cluster.");
    flags_string (flags, "use", &use,
                  "Change the primary encryption key, which is used to "
                  "encrypt messages. The key must already be installed.");
    flags_string (flags, "remove", &remove_key,
                  "Remove the given key from the cluster. Only a key that is "
                  "not the primary key can be removed.");
    flags_int (flags, "relay-factor", &relay,
               "Relay each node's reply through this many other nodes "
               "(0..5).");
    int first = flags_parse (flags, argc, argv);
    if (first < 0) {
        flags_destroy (&flags);
        return first == -2 ? 0 : 1;
    }
    int actions = list + (install && *install) + (use && *use)
                + (remove_key && *remove_key);
    if (actions != 1 || first < argc) {
        if (actions > 1)
            fprintf (stderr, "Only a single action is allowed\n");
        else
            flags_usage (flags, stderr);
        flags_destroy (&flags);
        return 1;
    }
    flags_destroy (&flags);
    if (relay < 0 || relay > 5) {
        fprintf (stderr, "Error parsing relay factor: relay factor must be "
                 "in range: [0, 5]\n");
        return 1;
    }
    const char *key = list ? NULL : install && *install ? install
                    : use && *use ? use : remove_key;
    if (key && !keyring_key_valid (key)) {
        fprintf (stderr, "Error: invalid key \"%s\": must be base64 of 16, "
                 "24 or 32 bytes (see `meridian keygen`)\n", key);
        return 1;
    }
    char path [64] = "/v1/operator/keyring";
    if (relay > 0) {
        char number [16];
        snprintf (number, sizeof (number), "%d", relay);
        agent_api_query (path, sizeof (path), "relay-factor", number);
    }
    agent_api_t *api = agent_api_new (http_addr, token);
    if (!api)
        return 1;
    int rc = 1;
    if (list) {
        printf ("==> Gathering installed encryption keys...\n");
        fflush (stdout);
        cJSON *responses = agent_api_get (api, path, "listing keys");
        char *text = responses ? keyring_list_render (responses) : NULL;
        if (responses && !text)
            fprintf (stderr, "Error listing keys: unexpected response (not "
                     "a list)\n");
        if (text) {
            fputs (text, stdout);
            rc = 0;
        }
        free (text);
        cJSON_Delete (responses);
    }
    else {
        const char *method = install && *install ? "POST"
                           : use && *use ? "PUT" : "DELETE";
        printf ("==> %s\n", install && *install
                ? "Installing new gossip encryption key..."
                : use && *use ? "Changing primary gossip encryption key..."
                              : "Removing gossip encryption key...");
        fflush (stdout);
        cJSON *body = cJSON_CreateObject ();
        cJSON_AddStringToObject (body, "Key", key);
        const char *what = install && *install ? "installing key"
                         : use && *use ? "changing primary key"
                                       : "removing key";
        rc = agent_api_write (api, method, path, body, what, NULL) ? 1 : 0;
        cJSON_Delete (body);
    }
    agent_api_destroy (&api);
    return rc;
}
