/*  config: Consul-compatible configuration (docs/configuration.md).
    One table describes every key: its JSON path, type, where it lives in
    config_t, its default and bounds, and its command-line flag. Files are
    loaded in order, then flags override; -dev applies dev defaults first. */
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <mbedtls/base64.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"

typedef enum { T_STRING, T_BOOL, T_INT, T_DURATION, T_LIST, T_ADDR } key_type_t;

typedef struct {
    const char *path;       //  JSON path, nested objects joined by '.'
    key_type_t type;
    size_t offset;
    size_t size;            //  string buffer size / list element size
    int64_t min, max;       //  T_INT, T_DURATION (ms)
    const char *flag;       //  command-line flag, NULL if none
    size_t count_offset;    //  T_LIST: offset of the int count
} key_t_;

#define OFF(field) offsetof (config_t, field)
#define SZ(field)  sizeof (((config_t *) 0)->field)
#define STR(path, field, flag) { path, T_STRING, OFF (field), SZ (field), 0, 0, flag, 0 }
#define ADDR(path, field, flag) { path, T_ADDR, OFF (field), SZ (field), 0, 0, flag, 0 }
#define BOOL(path, field, flag) { path, T_BOOL, OFF (field), 0, 0, 0, flag, 0 }
#define INT(path, field, lo, hi, flag) { path, T_INT, OFF (field), 0, lo, hi, flag, 0 }
#define DUR(path, field, lo, hi, flag) { path, T_DURATION, OFF (field), 0, lo, hi, flag, 0 }
#define LIST(path, field, flag) \
    { path, T_LIST, OFF (field), SZ (field[0]), 0, 0, flag, OFF (field##_count) }
#define GOSSIP(pool, name) \
    INT (#pool ".gossip_nodes", pool.gossip_nodes, 1, 64, NULL), \
    DUR (#pool ".gossip_interval", pool.gossip_interval_ms, 1, 600000, NULL), \
    DUR (#pool ".probe_interval", pool.probe_interval_ms, 1, 600000, NULL), \
    DUR (#pool ".probe_timeout", pool.probe_timeout_ms, 1, 600000, NULL), \
    INT (#pool ".suspicion_mult", pool.suspicion_mult, 1, 100, NULL), \
    INT (#pool ".retransmit_mult", pool.retransmit_mult, 1, 100, NULL), \
    DUR (#pool ".push_pull_interval", pool.push_pull_interval_ms, 100, 86400000, NULL)

#define HOUR_MS (3600LL * 1000)

static const key_t_ s_keys[] = {
    STR ("datacenter", datacenter, "datacenter"),
    STR ("primary_datacenter", primary_datacenter, "primary-datacenter"),
    STR ("node_name", node_name, "node"),
    STR ("node_id", node_id, "node-id"),
    BOOL ("server", server, "server"),
    INT ("bootstrap_expect", bootstrap_expect, 0, 99, "bootstrap-expect"),
    BOOL ("dev_mode", dev, NULL),
    STR ("data_dir", data_dir, "data-dir"),
    ADDR ("bind_addr", bind_addr, "bind"),
    ADDR ("advertise_addr", advertise_addr, "advertise"),
    ADDR ("advertise_addr_wan", advertise_addr_wan, "advertise-wan"),
    ADDR ("client_addr", client_addr, "client"),
    INT ("ports.http", ports.http, 1, 65535, "http-port"),
    INT ("ports.serf_lan", ports.serf_lan, 1, 65535, "serf-lan-port"),
    INT ("ports.serf_wan", ports.serf_wan, -1, 65535, "serf-wan-port"),
    INT ("ports.server", ports.server, 1, 65535, "server-port"),
    INT ("ports.raft", ports.raft, 1, 65535, "raft-port"),
    LIST ("retry_join", retry_join, "retry-join"),
    LIST ("retry_join_wan", retry_join_wan, "retry-join-wan"),
    DUR ("retry_interval", retry_interval_ms, 100, 86400000, "retry-interval"),
    DUR ("retry_interval_wan", retry_interval_wan_ms, 100, 86400000, "retry-interval-wan"),
    STR ("encrypt", encrypt, "encrypt"),
    BOOL ("connect.enabled", connect_enabled, NULL),
    STR ("log_level", log_level, "log-level"),
    INT ("performance.raft_multiplier", raft_multiplier, 1, 10, NULL),
    DUR ("reconnect_timeout", reconnect_timeout_ms, 1000, 10000 * HOUR_MS, NULL),
    DUR ("reconnect_timeout_wan", reconnect_timeout_wan_ms, 1000, 10000 * HOUR_MS, NULL),
    GOSSIP (gossip_lan, "lan"),
    GOSSIP (gossip_wan, "wan"),
};
#define KEY_COUNT (sizeof s_keys / sizeof s_keys[0])

static const config_gossip_t s_gossip_lan = { 3, 200, 1000, 500, 4, 4, 30000 };
static const config_gossip_t s_gossip_wan = { 4, 500, 5000, 3000, 6, 4, 60000 };
static const config_gossip_t s_gossip_dev = { 3, 100, 100, 100, 3, 2, 5000 };

static int
s_fail (char *err, size_t err_size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
    return -1;
}

void
config_defaults (config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    strcpy (cfg->datacenter, "dc1");
    char host[HOST_NAME_MAX + 1] = "";
    if (gethostname (host, sizeof host) != 0 || !*host)
        strcpy (host, "meridian");
    snprintf (cfg->node_name, sizeof cfg->node_name, "%s", host);
    strcpy (cfg->bind_addr, "0.0.0.0");
    strcpy (cfg->client_addr, "127.0.0.1");
    cfg->ports.http = 8500;
    cfg->ports.serf_lan = 8301;
    cfg->ports.serf_wan = 8302;
    cfg->ports.server = 8300;
    cfg->ports.raft = 8303;
    cfg->retry_interval_ms = 30000;
    cfg->retry_interval_wan_ms = 30000;
    strcpy (cfg->log_level, "info");
    cfg->raft_multiplier = 5;
    cfg->reconnect_timeout_ms = 72 * HOUR_MS;
    cfg->reconnect_timeout_wan_ms = 72 * HOUR_MS;
    cfg->gossip_lan = s_gossip_lan;
    cfg->gossip_wan = s_gossip_wan;
}

static const key_t_ *
s_key_by_path (const char *path)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp (s_keys[i].path, path) == 0)
            return &s_keys[i];
    return NULL;
}

static const key_t_ *
s_key_by_flag (const char *flag)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (s_keys[i].flag && strcmp (s_keys[i].flag, flag) == 0)
            return &s_keys[i];
    return NULL;
}

static bool
s_is_prefix_object (const char *path)
{
    size_t len = strlen (path);
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strncmp (s_keys[i].path, path, len) == 0 && s_keys[i].path[len] == '.')
            return true;
    return false;
}

//  Sets one key from text (flags) or JSON (files). Exactly one of the two
//  sources is non-NULL. Returns 0, or -1 with the reason in why.
static int
s_set (config_t *cfg, const key_t_ *key, const char *text, const cJSON *json,
       char *why, size_t why_size)
{
    char *base = (char *) cfg;
    switch (key->type) {
        case T_STRING:
        case T_ADDR: {
            if (json && !cJSON_IsString (json))
                return s_fail (why, why_size, "must be a string");
            const char *value = json ? json->valuestring : text;
            if (strlen (value) >= key->size)
                return s_fail (why, why_size, "too long (at most %zu bytes)", key->size - 1);
            if (key->type == T_ADDR && *value) {
                unsigned char buf[sizeof (struct in6_addr)];
                if (inet_pton (AF_INET, value, buf) != 1 && inet_pton (AF_INET6, value, buf) != 1)
                    return s_fail (why, why_size, "\"%s\" is not an IP address", value);
            }
            snprintf (base + key->offset, key->size, "%s", value);
            return 0;
        }
        case T_BOOL: {
            bool value;
            if (json) {
                if (!cJSON_IsBool (json))
                    return s_fail (why, why_size, "must be true or false");
                value = cJSON_IsTrue (json);
            }
            else
            if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
                value = true;
            else
            if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
                value = false;
            else
                return s_fail (why, why_size, "must be true or false");
            *(bool *) (base + key->offset) = value;
            return 0;
        }
        case T_INT: {
            long long value;
            if (json) {
                if (!cJSON_IsNumber (json) || json->valuedouble != (double) (long long) json->valuedouble)
                    return s_fail (why, why_size, "must be an integer");
                value = (long long) json->valuedouble;
            }
            else {
                char *end = NULL;
                errno = 0;
                value = strtoll (text, &end, 10);
                if (errno || end == text || *end)
                    return s_fail (why, why_size, "\"%s\" is not an integer", text);
            }
            if (value < key->min || value > key->max)
                return s_fail (why, why_size, "must be %lld..%lld",
                               (long long) key->min, (long long) key->max);
            *(int *) (base + key->offset) = (int) value;
            return 0;
        }
        case T_DURATION: {
            if (json && !cJSON_IsString (json))
                return s_fail (why, why_size, "must be a duration string such as \"30s\"");
            const char *value = json ? json->valuestring : text;
            int64_t ms;
            if (duration_parse_ms (value, &ms) != 0)
                return s_fail (why, why_size, "\"%s\" is not a duration", value);
            if (ms < key->min || ms > key->max) {
                char lo[32], hi[32];
                duration_format (key->min, lo, sizeof lo);
                duration_format (key->max, hi, sizeof hi);
                return s_fail (why, why_size, "must be between %s and %s", lo, hi);
            }
            *(int64_t *) (base + key->offset) = ms;
            return 0;
        }
        case T_LIST: {
            int *count = (int *) (base + key->count_offset);
            char *items = base + key->offset;
            if (json) {
                if (!cJSON_IsArray (json))
                    return s_fail (why, why_size, "must be a list of strings");
                *count = 0;
                const cJSON *item;
                cJSON_ArrayForEach (item, json) {
                    if (!cJSON_IsString (item) || !*item->valuestring)
                        return s_fail (why, why_size, "must be a list of non-empty strings");
                    if (*count >= CONFIG_JOIN_MAX)
                        return s_fail (why, why_size, "at most %d entries", CONFIG_JOIN_MAX);
                    if (strlen (item->valuestring) >= key->size)
                        return s_fail (why, why_size, "entry too long");
                    snprintf (items + key->size * (*count)++, key->size, "%s", item->valuestring);
                }
                return 0;
            }
            if (!*text)
                return s_fail (why, why_size, "must not be empty");
            if (*count >= CONFIG_JOIN_MAX)
                return s_fail (why, why_size, "at most %d entries", CONFIG_JOIN_MAX);
            if (strlen (text) >= key->size)
                return s_fail (why, why_size, "entry too long");
            snprintf (items + key->size * (*count)++, key->size, "%s", text);
            return 0;
        }
    }
    return s_fail (why, why_size, "unsupported key type");
}

static int
s_load_object (config_t *cfg, const cJSON *object, const char *prefix,
               const char *file, char *err, size_t err_size)
{
    const cJSON *item;
    cJSON_ArrayForEach (item, object) {
        char path[128];
        if (snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                      item->string) >= (int) sizeof path)
            return s_fail (err, err_size, "%s: %s...: key too long", file, path);
        const key_t_ *key = s_key_by_path (path);
        if (!key && s_is_prefix_object (path)) {
            if (!cJSON_IsObject (item))
                return s_fail (err, err_size, "%s: %s: must be an object", file, path);
            if (s_load_object (cfg, item, path, file, err, err_size) != 0)
                return -1;
            continue;
        }
        if (!key)
            return s_fail (err, err_size, "%s: %s: unknown configuration key", file, path);
        char why[256];
        if (s_set (cfg, key, NULL, item, why, sizeof why) != 0)
            return s_fail (err, err_size, "%s: %s: %s", file, path, why);
    }
    return 0;
}

int
config_load_file (config_t *cfg, const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return s_fail (err, err_size, "%s: cannot read: %s", path, strerror (errno));
    char *text = NULL;
    size_t size = 0, capacity = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0) {
        if (size + got > 1024 * 1024) {
            fclose (file);
            free (text);
            return s_fail (err, err_size, "%s: file larger than 1 MiB", path);
        }
        if (size + got + 1 > capacity) {
            capacity = (size + got + 1) * 2;
            char *bigger = (char *) realloc (text, capacity);
            if (!bigger) {
                fclose (file);
                free (text);
                return s_fail (err, err_size, "%s: out of memory", path);
            }
            text = bigger;
        }
        memcpy (text + size, chunk, got);
        size += got;
    }
    fclose (file);
    if (!text)
        return s_fail (err, err_size, "%s: empty file: expected a JSON object", path);
    text[size] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts (text, &end, true);
    if (!root) {
        int line = 1;
        for (const char *c = text; end && c < end; c++)
            line += *c == '\n';
        free (text);
        return s_fail (err, err_size, "%s: invalid JSON near line %d", path, line);
    }
    free (text);
    int rc = 0;
    if (!cJSON_IsObject (root))
        rc = s_fail (err, err_size, "%s: top level must be a JSON object", path);
    else
        rc = s_load_object (cfg, root, "", path, err, err_size);
    cJSON_Delete (root);
    return rc;
}

//  The first non-loopback IPv4 address, as Consul picks a private one.
static void
s_default_advertise (char *buf, size_t size)
{
    snprintf (buf, size, "127.0.0.1");
    struct ifaddrs *list = NULL;
    if (getifaddrs (&list) != 0)
        return;
    for (struct ifaddrs *each = list; each; each = each->ifa_next) {
        if (!each->ifa_addr || each->ifa_addr->sa_family != AF_INET)
            continue;
        if (each->ifa_flags & IFF_LOOPBACK)
            continue;
        inet_ntop (AF_INET, &((struct sockaddr_in *) each->ifa_addr)->sin_addr, buf, size);
        break;
    }
    freeifaddrs (list);
}

static int
s_uuid_new (char *buf, size_t size)
{
    unsigned char bytes[16];
    FILE *urandom = fopen ("/dev/urandom", "rb");
    if (!urandom)
        return -1;
    size_t got = fread (bytes, 1, sizeof bytes, urandom);
    fclose (urandom);
    if (got != sizeof bytes)
        return -1;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    snprintf (buf, size,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6],
              bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13],
              bytes[14], bytes[15]);
    return 0;
}

static bool
s_uuid_valid (const char *id)
{
    if (strlen (id) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !strchr ("0123456789abcdefABCDEF", id[i]))
            return false;
    }
    return true;
}

//  Reads <data_dir>/node-id, creating it once (atomically, so daemons that
//  start together agree on one id).
static int
s_node_id_load (config_t *cfg, char *err, size_t err_size)
{
    char path[CONFIG_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/node-id", cfg->data_dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        FILE *file = fopen (path, "r");
        if (file) {
            char id[64] = "";
            if (!fgets (id, sizeof id, file))
                id[0] = 0;
            fclose (file);
            id[strcspn (id, "\r\n")] = 0;
            if (!s_uuid_valid (id))
                return s_fail (err, err_size, "%s: not a UUID", path);
            memcpy (cfg->node_id, id, 37);     //  36 chars checked above + NUL
            return 0;
        }
        char id[40], tmp[CONFIG_PATH_MAX + 32];
        if (s_uuid_new (id, sizeof id) != 0)
            return s_fail (err, err_size, "node_id: cannot read /dev/urandom");
        if (mkdir (cfg->data_dir, 0700) != 0 && errno != EEXIST)
            return s_fail (err, err_size, "data_dir: cannot create %s: %s",
                           cfg->data_dir, strerror (errno));
        snprintf (tmp, sizeof tmp, "%s/node-id.%d", cfg->data_dir, (int) getpid ());
        FILE *out = fopen (tmp, "w");
        if (!out)
            return s_fail (err, err_size, "%s: cannot write: %s", tmp, strerror (errno));
        fprintf (out, "%s\n", id);
        fflush (out);
        fsync (fileno (out));
        fclose (out);
        //  link() fails if another process created the file first.
        int rc = link (tmp, path);
        unlink (tmp);
        if (rc != 0 && errno != EEXIST)
            return s_fail (err, err_size, "%s: cannot create: %s", path, strerror (errno));
    }
    return s_fail (err, err_size, "%s: cannot create", path);
}

int
config_addr_split (const char *text, uint16_t default_port, char *host, size_t host_size,
                   uint16_t *port, bool *bracketed)
{
    const char *port_text = NULL;
    const char *start = text;
    size_t len;
    *bracketed = text[0] == '[';
    if (*bracketed) {
        const char *close = strchr (text, ']');
        if (!close || (close[1] && close[1] != ':'))
            return -1;
        start = text + 1;
        len = (size_t) (close - start);
        port_text = close[1] ? close + 2 : NULL;
    }
    else {
        const char *colon = strchr (text, ':');
        if (colon && strchr (colon + 1, ':'))
            colon = NULL;       //  a bare IPv6 address
        len = colon ? (size_t) (colon - text) : strlen (text);
        port_text = colon ? colon + 1 : NULL;
    }
    if (len == 0 || len >= host_size)
        return -1;
    memcpy (host, start, len);
    host[len] = '\0';
    *port = default_port;
    if ((port_text && config_port_parse (port_text, port) != 0) || *port == 0)
        return -1;
    return 0;
}

bool
config_join_addr_valid (const char *text)
{
    char host[CONFIG_JOIN_ADDR_MAX];
    uint16_t port;
    bool bracketed;
    if (config_addr_split (text, 1, host, sizeof host, &port, &bracketed) != 0)
        return false;
    unsigned char addr[sizeof (struct in6_addr)];
    return inet_pton (AF_INET, host, addr) == 1 || inet_pton (AF_INET6, host, addr) == 1
           || (!bracketed && config_host_name_valid (host, strlen (host)));
}

int
config_port_parse (const char *text, uint16_t *port)
{
    size_t len = strlen (text);
    if (len == 0 || len > 5 || strspn (text, "0123456789") != len)
        return -1;
    unsigned long value = strtoul (text, NULL, 10);
    if (value == 0 || value > 65535)
        return -1;
    *port = (uint16_t) value;
    return 0;
}

bool
config_host_name_valid (const char *name, size_t len)
{
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    bool numeric = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if ((!isalnum (c) && c != '-' && c != '_') || (c == '-' && label == 0) || ++label > 63)
            return false;
        numeric = numeric && isdigit (c);
    }
    if (name[len - 1] == '-' || numeric)
        return false;
    char copy[254];
    memcpy (copy, name, len);
    copy[len] = '\0';
    struct in_addr ignored;
    return inet_aton (copy, &ignored) == 0;
}

bool
config_dc_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > 63)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyz0123456789_-", name[i]))
            return false;
    return true;
}

static void
s_apply_dev (config_t *cfg)
{
    cfg->dev = true;
    cfg->server = true;
    cfg->bootstrap_expect = 1;
    strcpy (cfg->bind_addr, "127.0.0.1");
    strcpy (cfg->client_addr, "127.0.0.1");
    strcpy (cfg->log_level, "debug");
    cfg->raft_multiplier = 1;
    cfg->connect_enabled = true;
    cfg->gossip_lan = s_gossip_dev;
    cfg->gossip_wan = s_gossip_dev;
}

int
config_finish (config_t *cfg, char *err, size_t err_size)
{
    if (!config_dc_name_valid (cfg->datacenter))
        return s_fail (err, err_size, "datacenter: \"%s\" must be 1..63 of [a-z0-9_-]",
                       cfg->datacenter);
    if (*cfg->primary_datacenter && !config_dc_name_valid (cfg->primary_datacenter))
        return s_fail (err, err_size, "primary_datacenter: \"%s\" must be 1..63 of [a-z0-9_-]",
                       cfg->primary_datacenter);
    if (!*cfg->node_name)
        return s_fail (err, err_size, "node_name: must not be empty");
    for (const char *c = cfg->node_name; *c; c++)
        if ((unsigned char) *c <= ' ' || *c == '/' || *c == '"' || *c == '\\')
            return s_fail (err, err_size, "node_name: \"%s\" has an invalid character",
                           cfg->node_name);
    if (*cfg->node_id && !s_uuid_valid (cfg->node_id))
        return s_fail (err, err_size, "node_id: \"%s\" is not a UUID", cfg->node_id);
    if (cfg->bootstrap_expect > 0 && !cfg->server)
        return s_fail (err, err_size, "bootstrap_expect: only a server can bootstrap (set server)");
    log_level_t level;
    if (log_level_parse (cfg->log_level, &level) != 0)
        return s_fail (err, err_size, "log_level: \"%s\" must be trace, debug, info, warn or error",
                       cfg->log_level);
    if (*cfg->encrypt) {
        unsigned char key[64];
        size_t len = 0;
        if (mbedtls_base64_decode (key, sizeof key, &len, (const unsigned char *) cfg->encrypt,
                                   strlen (cfg->encrypt)) != 0
            || (len != 16 && len != 24 && len != 32))
            return s_fail (err, err_size,
                           "encrypt: must be base64 of a 16, 24 or 32 byte key");
    }
    for (int i = 0; i < cfg->retry_join_count + cfg->retry_join_wan_count; i++) {
        const char *entry = i < cfg->retry_join_count ? cfg->retry_join[i]
                          : cfg->retry_join_wan[i - cfg->retry_join_count];
        if (!config_join_addr_valid (entry))
            return s_fail (err, err_size, "%s: \"%s\" must be ip, ip:port, [ipv6]:port, "
                           "host or host:port",
                           i < cfg->retry_join_count ? "retry_join" : "retry_join_wan", entry);
    }
    if (cfg->gossip_lan.probe_timeout_ms > cfg->gossip_lan.probe_interval_ms)
        return s_fail (err, err_size, "gossip_lan.probe_timeout: must not exceed probe_interval");
    if (cfg->gossip_wan.probe_timeout_ms > cfg->gossip_wan.probe_interval_ms)
        return s_fail (err, err_size, "gossip_wan.probe_timeout: must not exceed probe_interval");
    if (!*cfg->advertise_addr) {
        if (strcmp (cfg->bind_addr, "0.0.0.0") == 0 || strcmp (cfg->bind_addr, "::") == 0)
            s_default_advertise (cfg->advertise_addr, sizeof cfg->advertise_addr);
        else
            snprintf (cfg->advertise_addr, sizeof cfg->advertise_addr, "%s", cfg->bind_addr);
    }
    if (!*cfg->advertise_addr_wan)
        snprintf (cfg->advertise_addr_wan, sizeof cfg->advertise_addr_wan, "%s",
                  cfg->advertise_addr);
    if (!*cfg->data_dir) {
        if (!cfg->dev)
            return s_fail (err, err_size, "data_dir: must be set (or use -dev)");
        if (!cfg->validate_only) {
            char tmpl[] = "/tmp/meridian-dev-XXXXXX";
            if (!mkdtemp (tmpl))
                return s_fail (err, err_size, "data_dir: cannot create a temporary dir: %s",
                               strerror (errno));
            snprintf (cfg->data_dir, sizeof cfg->data_dir, "%s", tmpl);
            cfg->data_dir_temporary = true;
        }
    }
    if (*cfg->data_dir && cfg->data_dir[0] != '/') {
        char cwd[PATH_MAX], absolute[PATH_MAX + CONFIG_PATH_MAX + 2];
        if (!getcwd (cwd, sizeof cwd))
            return s_fail (err, err_size, "data_dir: cannot resolve relative path");
        snprintf (absolute, sizeof absolute, "%s/%s", cwd, cfg->data_dir);
        size_t len = strlen (absolute);
        if (len >= sizeof cfg->data_dir)
            return s_fail (err, err_size, "data_dir: path too long");
        memcpy (cfg->data_dir, absolute, len + 1);
    }
    //  ipc socket paths must fit sun_path: "<data_dir>/run/<daemon>.rpc".
    if (strlen (cfg->data_dir) + strlen ("/run/replicatord.rpc") >= 108)
        return s_fail (err, err_size, "data_dir: \"%s\" is too long for ipc socket paths "
                       "(at most %zu bytes)", cfg->data_dir, 107 - strlen ("/run/replicatord.rpc"));
    if (!*cfg->node_id && *cfg->data_dir && !cfg->validate_only)
        return s_node_id_load (cfg, err, err_size);
    return 0;
}

int
config_load_args (config_t *cfg, int argc, char **argv, char *err, size_t err_size)
{
    config_defaults (cfg);
    //  Pass 1: -dev first (its defaults sit under files and flags), then
    //  the config files in order.
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *name = arg + (arg[0] == '-' ? 1 : 0) + (arg[1] == '-' ? 1 : 0);
        if (strcmp (name, "dev") == 0 || strcmp (name, "dev=true") == 0)
            s_apply_dev (cfg);
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-')
            continue;
        const char *name = arg + 1 + (arg[1] == '-');
        const char *value = NULL;
        if (strncmp (name, "config-file", 11) == 0 && (name[11] == 0 || name[11] == '=')) {
            value = name[11] == '=' ? name + 12 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value)
                return s_fail (err, err_size, "flag -config-file: needs a value");
            if (config_load_file (cfg, value, err, err_size) != 0)
                return -1;
            snprintf (cfg->config_file, sizeof cfg->config_file, "%s", value);
        }
    }
    //  Pass 2: every other flag overrides the files.
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == 0)
            return s_fail (err, err_size, "unexpected argument \"%s\"", arg);
        char name[64];
        const char *start = arg + 1 + (arg[1] == '-');
        const char *equals = strchr (start, '=');
        size_t len = equals ? (size_t) (equals - start) : strlen (start);
        if (len >= sizeof name)
            return s_fail (err, err_size, "unknown flag \"%s\"", arg);
        memcpy (name, start, len);
        name[len] = 0;
        const char *value = equals ? equals + 1 : NULL;
        if (strcmp (name, "config-file") == 0) {
            if (!value)
                i++;
            continue;
        }
        if (strcmp (name, "dev") == 0)
            continue;
        if (strcmp (name, "t") == 0) {
            cfg->validate_only = true;
            continue;
        }
        if (strcmp (name, "bootstrap") == 0 && !value) {
            cfg->bootstrap_expect = 1;
            continue;
        }
        const key_t_ *key = s_key_by_flag (name);
        if (!key)
            return s_fail (err, err_size, "unknown flag -%s", name);
        if (!value && key->type == T_BOOL)
            value = "true";
        if (!value) {
            if (i + 1 >= argc)
                return s_fail (err, err_size, "flag -%s: needs a value", name);
            value = argv[++i];
        }
        char why[256];
        if (s_set (cfg, key, value, NULL, why, sizeof why) != 0)
            return s_fail (err, err_size, "flag -%s: %s", name, why);
    }
    return config_finish (cfg, err, err_size);
}

static void
s_add_value (cJSON *object, const char *path, const key_t_ *key, const config_t *cfg)
{
    const char *dot = strchr (path, '.');
    if (dot) {
        char head[64];
        snprintf (head, sizeof head, "%.*s", (int) (dot - path), path);
        cJSON *child = cJSON_GetObjectItemCaseSensitive (object, head);
        if (!child)
            child = cJSON_AddObjectToObject (object, head);
        s_add_value (child, dot + 1, key, cfg);
        return;
    }
    const char *base = (const char *) cfg;
    char text[64];
    switch (key->type) {
        case T_STRING:
        case T_ADDR:
            if (*(base + key->offset))
                cJSON_AddStringToObject (object, path, base + key->offset);
            break;
        case T_BOOL:
            cJSON_AddBoolToObject (object, path, *(const bool *) (base + key->offset));
            break;
        case T_INT:
            cJSON_AddNumberToObject (object, path, *(const int *) (base + key->offset));
            break;
        case T_DURATION:
            snprintf (text, sizeof text, "%lldms",
                      (long long) *(const int64_t *) (base + key->offset));
            cJSON_AddStringToObject (object, path, text);
            break;
        case T_LIST: {
            cJSON *list = cJSON_AddArrayToObject (object, path);
            int count = *(const int *) (base + key->count_offset);
            for (int i = 0; i < count; i++)
                cJSON_AddItemToArray (list, cJSON_CreateString (base + key->offset + key->size * i));
            break;
        }
    }
}

int
config_write_file (const config_t *cfg, const char *path)
{
    cJSON *root = cJSON_CreateObject ();
    for (size_t i = 0; i < KEY_COUNT; i++)
        s_add_value (root, s_keys[i].path, &s_keys[i], cfg);
    char *text = cJSON_Print (root);
    cJSON_Delete (root);
    if (!text)
        return -1;
    char tmp[CONFIG_PATH_MAX + 64];
    snprintf (tmp, sizeof tmp, "%s.tmp%d", path, (int) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0) {
        size_t len = strlen (text);
        if (write (fd, text, len) == (ssize_t) len && write (fd, "\n", 1) == 1 && fsync (fd) == 0)
            rc = 0;
        close (fd);
        if (rc == 0)
            rc = rename (tmp, path);
        else
            unlink (tmp);
    }
    free (text);
    return rc;
}

int
config_reload_log_level (int argc, char **argv)
{
    char **args = (char **) calloc ((size_t) argc + 1, sizeof *args);
    if (!args)
        return -1;
    for (int i = 0; i < argc; i++)
        args[i] = argv[i];
    args[argc] = (char *) "-t";
    config_t fresh;
    char err[CONFIG_ERROR_MAX];
    int rc = config_load_args (&fresh, argc + 1, args, err, sizeof err);
    free (args);
    log_level_t level;
    if (rc == 0 && log_level_parse (fresh.log_level, &level) == 0) {
        log_set_level (level);
        log_info ("configuration reloaded log_level=%s", fresh.log_level);
        return 0;
    }
    log_warn ("cannot reload configuration reason=\"%s\"", rc ? err : "bad log_level");
    return -1;
}

void
config_print_flags_usage (void)
{
    fprintf (stderr, "Configuration flags (Consul's names; flags override -config-file):\n"
             "  -config-file FILE (repeatable)  -dev  -t (validate only)\n");
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (s_keys[i].flag)
            fprintf (stderr, "  -%-22s %s\n", s_keys[i].flag, s_keys[i].path);
}
