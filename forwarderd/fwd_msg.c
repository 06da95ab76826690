/*  fwd_msg: request rules and error words of the server RPC protocol
    (docs/protocol/server-rpc.md, "Commands", "Request body", "Hop
    deadlines"). */
#include "fwd_msg.h"
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *command;
    fwd_kind_t kind;
    fwd_daemon_t daemon;
} command_entry_t;

//  The commands forwarderd serves. A catalogd command added later is
//  forwarded once listed here.
static const command_entry_t s_commands[] = {
    { "catalog.nodes",      FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "catalog.services",   FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "catalog.service",    FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "catalog.node",       FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "health.node",        FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "health.checks",      FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "health.service",     FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "health.state",       FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "status.leader",      FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "status.peers",       FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "raft.status",        FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "operator.raft.configuration", FWD_KIND_READ, FWD_DAEMON_CATALOGD },
    { "catalog.register",   FWD_KIND_WRITE, FWD_DAEMON_CATALOGD },
    { "catalog.deregister", FWD_KIND_WRITE, FWD_DAEMON_CATALOGD },
    { "operator.raft.remove_peer",   FWD_KIND_WRITE, FWD_DAEMON_CATALOGD },
    { "coordinate.nodes",   FWD_KIND_READ, FWD_DAEMON_GOSSIPD },
    { "coordinate.datacenters", FWD_KIND_READ, FWD_DAEMON_GOSSIPD },
    { "datacenters",        FWD_KIND_DATACENTERS, FWD_DAEMON_FORWARDERD },
    { "stats",              FWD_KIND_STATS, FWD_DAEMON_FORWARDERD },
};

static const command_entry_t *
s_command_find (const char *command)
{
    if (!command)
        return NULL;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp (s_commands[i].command, command) == 0)
            return &s_commands[i];
    return NULL;
}

int
fwd_command_kind (const char *command, fwd_kind_t *kind)
{
    const command_entry_t *entry = s_command_find (command);
    if (!entry)
        return -1;
    if (kind)
        *kind = entry->kind;
    return 0;
}

fwd_daemon_t
fwd_command_daemon (const char *command)
{
    const command_entry_t *entry = s_command_find (command);
    return entry ? entry->daemon : FWD_DAEMON_CATALOGD;
}

static int
s_fail (char *err, size_t err_size, const char *text)
{
    if (err && err_size)
        snprintf (err, err_size, "%s", text);
    return -1;
}

//  A JSON number that is an integer in [0, 2^53]: absent counts as 0.
static int
s_uint_field (const cJSON *body, const char *name, double *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (body, name);
    *value = 0;
    if (!item || cJSON_IsNull (item))
        return 0;
    if (!cJSON_IsNumber (item))
        return -1;
    double number = item->valuedouble;
    if (!isfinite (number) || number < 0 || number > 9007199254740992.0
        || floor (number) != number)
        return -1;
    *value = number;
    return 0;
}

//  Reads an optional string field into buf; -1 when present but not a
//  string. Sets *fits to false when it is too long for buf.
static int
s_string_field (const cJSON *body, const char *name, char *buf, size_t size,
                bool *fits)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (body, name);
    buf[0] = 0;
    *fits = true;
    if (!item || cJSON_IsNull (item))
        return 0;
    if (!cJSON_IsString (item) || !item->valuestring)
        return -1;
    if (strlen (item->valuestring) >= size)
        *fits = false;
    else
        strcpy (buf, item->valuestring);
    return 0;
}

//  "host:port" or "[v6]:port" with a port 1..65535.
static bool
s_host_port (const char *text)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text || text[strlen (text) - 1] == ':')
        return false;
    if (text[0] == '[' && colon[-1] != ']')
        return false;
    char *end = NULL;
    long port = strtol (colon + 1, &end, 10);
    return *end == 0 && port > 0 && port <= 65535 && isdigit ((unsigned char) colon[1]);
}

int
fwd_request_parse (const char *command, const cJSON *body,
                   const char *local_dc, fwd_request_t *info,
                   char *err, size_t err_size)
{
    memset (info, 0, sizeof *info);
    if (fwd_command_kind (command, &info->kind) != 0) {
        if (err && err_size)
            snprintf (err, err_size, "unknown command \"%s\"",
                      command ? command : "");
        return -1;
    }
    info->daemon = fwd_command_daemon (command);
    if (!cJSON_IsObject (body))
        return s_fail (err, err_size, "request body must be a JSON object");

    bool fits;
    if (s_string_field (body, "Datacenter", info->datacenter,
                        sizeof info->datacenter, &fits))
        return s_fail (err, err_size, "Datacenter must be a string");
    if (!fits) {
        //  Too long to be a DC name: no DC can match it.
        info->datacenter[0] = 0;
        info->datacenter_valid = false;
    }
    else {
        if (!info->datacenter[0])
            snprintf (info->datacenter, sizeof info->datacenter, "%s", local_dc);
        info->datacenter_valid = config_dc_name_valid (info->datacenter);
    }
    if (s_string_field (body, "ViaDatacenter", info->via, sizeof info->via, &fits))
        return s_fail (err, err_size, "ViaDatacenter must be a string");
    if (!fits || (info->via[0] && !config_dc_name_valid (info->via)))
        return s_fail (err, err_size, "ViaDatacenter must be a datacenter name");

    if (s_string_field (body, "Server", info->server, sizeof info->server, &fits)
        || !fits || (info->server[0] && !s_host_port (info->server)))
        return s_fail (err, err_size, "Server must be \"host:port\"");
    double timeout;
    if (s_uint_field (body, "RequestTimeout", &timeout))
        return s_fail (err, err_size, "RequestTimeout must be a non-negative integer (ms)");
    info->request_timeout_ms = (int64_t) timeout;

    double min_index, wait;
    if (s_uint_field (body, "MinQueryIndex", &min_index))
        return s_fail (err, err_size, "MinQueryIndex must be a non-negative integer");
    if (s_uint_field (body, "MaxQueryTime", &wait))
        return s_fail (err, err_size, "MaxQueryTime must be a non-negative integer (ms)");
    //  Only catalogd blocks: gossipd answers at once.
    if (min_index > 0 && info->kind == FWD_KIND_READ
        && info->daemon == FWD_DAEMON_CATALOGD) {
        int64_t wait_ms = (int64_t) wait;
        if (wait_ms <= 0)
            wait_ms = FWD_WAIT_DEFAULT_MS;
        if (wait_ms > FWD_WAIT_MAX_MS)
            wait_ms = FWD_WAIT_MAX_MS;
        info->blocking = true;
        info->budget_ms = wait_ms + wait_ms / 16;
    }
    return 0;
}

int64_t
fwd_hop_timeout (const fwd_request_t *info, int64_t margin_ms)
{
    int64_t timeout = info->budget_ms + margin_ms;
    if (info->request_timeout_ms > 0) {
        int64_t cap = info->request_timeout_ms - FWD_HOP_MARGIN;
        if (cap < FWD_HOP_MIN)
            cap = FWD_HOP_MIN;
        if (cap < timeout)
            timeout = cap;
    }
    return timeout;
}

void
fwd_error_relay_text (int code, const char *text, char *buf, size_t size)
{
    if (!text)
        text = "";
    if (code >= 500)
        snprintf (buf, size, "%s%s", FWD_ERR_CALL_PREFIX, text);
    else
        snprintf (buf, size, "%s", text);
}
