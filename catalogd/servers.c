/*  servers: this datacenter's servers from gossipd's LAN member list (see
    servers.h; member shape in docs/protocol/gossip.md, "Local RPC"). */
#include "servers.h"
#include "raftnode.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _catalog_servers_t {
    char datacenter[CONFIG_NAME_MAX];
    int raft_port;
    catalog_server_t *list;
    size_t size;
    bool known;
    uint64_t malformed;
};

catalog_servers_t *
catalog_servers_new (const char *datacenter, int raft_port)
{
    assert (datacenter);
    catalog_servers_t *self = (catalog_servers_t *) calloc (1, sizeof *self);
    assert (self);
    snprintf (self->datacenter, sizeof self->datacenter, "%s", datacenter);
    self->raft_port = raft_port;
    return self;
}

void
catalog_servers_destroy (catalog_servers_t **self_p)
{
    assert (self_p);
    catalog_servers_t *self = *self_p;
    if (self) {
        free (self->list);
        free (self);
        *self_p = NULL;
    }
}

int
catalog_member_status_parse (const cJSON *status)
{
    static const char *names[] = { "none", "alive", "leaving", "left", "failed" };
    if (cJSON_IsNumber (status)) {
        double value = status->valuedouble;
        if (value >= 0 && value <= 4 && value == (double) (int) value)
            return (int) value;
        return -1;
    }
    if (cJSON_IsString (status) && status->valuestring)
        for (int i = 0; i < 5; i++)
            if (strcmp (status->valuestring, names[i]) == 0)
                return i;
    return -1;
}

//  A string field that fits in size; NULL otherwise.
static const char *
s_string (const cJSON *object, const char *name, size_t size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, name);
    if (!cJSON_IsString (item) || !item->valuestring
        || strlen (item->valuestring) >= size)
        return NULL;
    return item->valuestring;
}

//  A port in a tag: 1..65535, else 0.
static int
s_port (const char *text)
{
    if (!text || !*text)
        return 0;
    char *end = NULL;
    long value = strtol (text, &end, 10);
    return *end == 0 && value > 0 && value <= 65535 ? (int) value : 0;
}

static void
s_join_address (const char *host, int port, char *buf, size_t size)
{
    if (strchr (host, ':'))
        snprintf (buf, size, "[%s]:%d", host, port);
    else
        snprintf (buf, size, "%s:%d", host, port);
}

//  Fills server from a member; 1 when it is a server of our DC, 0 when it
//  is not a server of ours, -1 when malformed.
static int
s_parse (catalog_servers_t *self, const cJSON *member, catalog_server_t *server)
{
    if (!cJSON_IsObject (member))
        return -1;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive (member, "Tags");
    if (!cJSON_IsObject (tags))
        return -1;
    const char *role = s_string (tags, "role", 64);
    const char *dc = s_string (tags, "dc", sizeof self->datacenter);
    if (!role || strcmp (role, "consul") != 0 || !dc
        || strcmp (dc, self->datacenter) != 0)
        return 0;
    const char *name = s_string (member, "Name", sizeof server->name);
    const char *addr = s_string (member, "Addr", sizeof server->addr);
    const char *id = s_string (tags, "id", sizeof server->node_id);
    int status = catalog_member_status_parse (
        cJSON_GetObjectItemCaseSensitive (member, "Status"));
    if (!name || !*name || !addr || !*addr || !id || !*id || status < 0)
        return -1;
    memset (server, 0, sizeof *server);
    snprintf (server->name, sizeof server->name, "%s", name);
    snprintf (server->addr, sizeof server->addr, "%s", addr);
    snprintf (server->node_id, sizeof server->node_id, "%s", id);
    server->raft_id = catalog_raft_id_from_uuid (id);
    server->status = (catalog_member_status_t) status;
    int raft_port = s_port (s_string (tags, "raft_port", 16));
    s_join_address (addr, raft_port ? raft_port : self->raft_port,
                    server->raft_address, sizeof server->raft_address);
    int port = s_port (s_string (tags, "port", 16));
    if (port)
        s_join_address (addr, port, server->server_address,
                        sizeof server->server_address);
    const char *expect = s_string (tags, "expect", 16);
    if (expect && *expect) {
        char *end = NULL;
        long value = strtol (expect, &end, 10);
        server->expect = *end == 0 && value > 0 && value < 1000 ? (int) value : -1;
    }
    const char *bootstrap = s_string (tags, "bootstrap", 16);
    server->bootstrap = bootstrap && strcmp (bootstrap, "1") == 0;
    const char *raft_vsn = s_string (tags, "raft_vsn", sizeof server->raft_vsn);
    snprintf (server->raft_vsn, sizeof server->raft_vsn, "%s", raft_vsn ? raft_vsn : "");
    return 1;
}

int
catalog_servers_update (catalog_servers_t *self, const cJSON *members)
{
    if (cJSON_IsObject (members)) {
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive (members, "Members");
        members = inner ? inner : cJSON_GetObjectItemCaseSensitive (members, "Result");
    }
    if (!cJSON_IsArray (members))
        return -1;
    int count = cJSON_GetArraySize (members);
    catalog_server_t *list
        = (catalog_server_t *) calloc (count ? (size_t) count : 1, sizeof *list);
    assert (list);
    size_t size = 0;
    const cJSON *member;
    cJSON_ArrayForEach (member, members) {
        int rc = s_parse (self, member, &list[size]);
        if (rc < 0)
            self->malformed++;
        else
        if (rc > 0) {
            //  A name listed twice keeps its first entry.
            bool duplicate = false;
            for (size_t i = 0; i < size && !duplicate; i++)
                duplicate = strcmp (list[i].name, list[size].name) == 0;
            if (!duplicate)
                size++;
        }
    }
    free (self->list);
    self->list = list;
    self->size = size;
    self->known = true;
    return (int) size;
}

bool
catalog_servers_known (catalog_servers_t *self)
{
    return self->known;
}

size_t
catalog_servers_size (catalog_servers_t *self)
{
    return self->size;
}

const catalog_server_t *
catalog_servers_at (catalog_servers_t *self, size_t i)
{
    return i < self->size ? &self->list[i] : NULL;
}

const catalog_server_t *
catalog_servers_by_id (catalog_servers_t *self, uint64_t raft_id)
{
    //  A node that rejoined under a new name keeps its ID: prefer the
    //  alive entry.
    const catalog_server_t *found = NULL;
    for (size_t i = 0; i < self->size; i++)
        if (self->list[i].raft_id == raft_id
            && (!found || self->list[i].status == CATALOG_MEMBER_ALIVE))
            found = &self->list[i];
    return found;
}

const catalog_server_t *
catalog_servers_by_address (catalog_servers_t *self, const char *address)
{
    const catalog_server_t *found = NULL;
    for (size_t i = 0; i < self->size; i++)
        if ((strcmp (self->list[i].raft_address, address) == 0
             || strcmp (self->list[i].server_address, address) == 0)
            && (!found || self->list[i].status == CATALOG_MEMBER_ALIVE))
            found = &self->list[i];
    return found;
}

uint64_t
catalog_servers_malformed (catalog_servers_t *self)
{
    return self->malformed;
}
