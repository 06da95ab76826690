/*  fwd_routes: per-DC server lists built from gossipd member lists
    (docs/protocol/server-rpc.md, "Routing", "Membership"). */
#include "fwd_routes.h"
#include "fwd_msg.h"
#include "config.h"
#include "log.h"
#include "timeutil.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NAME_MAX_LEN 160

typedef struct {
    char name[NAME_MAX_LEN];
    char address[FWD_ADDRESS_MAX];
    fwd_member_status_t status;
    bool seen;
} server_t;

typedef struct {
    char name[FWD_DC_MAX];
    server_t *servers;
    size_t count;
    size_t capacity;
} dc_list_t;

struct _fwd_routes_t {
    char local_dc[FWD_DC_MAX];
    bool lan;
    dc_list_t *dcs;
    size_t dc_count;
    size_t dc_capacity;
    uint64_t rng;
    uint64_t malformed;
};

static uint64_t
s_random (fwd_routes_t *self)
{
    //  xorshift64*: enough to spread load, reproducible with a seed.
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 2685821657736338717ULL;
}

fwd_routes_t *
fwd_routes_new (const char *local_dc, bool lan, uint64_t seed)
{
    assert (local_dc);
    fwd_routes_t *self = (fwd_routes_t *) calloc (1, sizeof (fwd_routes_t));
    if (!self)
        return NULL;
    snprintf (self->local_dc, sizeof self->local_dc, "%s", local_dc);
    self->lan = lan;
    self->rng = seed ? seed
                     : ((uint64_t) time_mono_us () << 20) ^ (uint64_t) getpid () ^ 0x9e3779b97f4a7c15ULL;
    if (!self->rng)
        self->rng = 1;
    return self;
}

void
fwd_routes_destroy (fwd_routes_t **self_p)
{
    assert (self_p);
    fwd_routes_t *self = *self_p;
    if (self) {
        for (size_t i = 0; i < self->dc_count; i++)
            free (self->dcs[i].servers);
        free (self->dcs);
        free (self);
        *self_p = NULL;
    }
}

static dc_list_t *
s_dc_find (fwd_routes_t *self, const char *dc)
{
    if (!dc)
        return NULL;
    for (size_t i = 0; i < self->dc_count; i++)
        if (strcmp (self->dcs[i].name, dc) == 0)
            return &self->dcs[i];
    return NULL;
}

static dc_list_t *
s_dc_add (fwd_routes_t *self, const char *dc)
{
    if (self->dc_count == self->dc_capacity) {
        size_t capacity = self->dc_capacity ? self->dc_capacity * 2 : 8;
        dc_list_t *dcs = (dc_list_t *) realloc (self->dcs, capacity * sizeof (dc_list_t));
        if (!dcs)
            return NULL;
        self->dcs = dcs;
        self->dc_capacity = capacity;
    }
    dc_list_t *list = &self->dcs[self->dc_count++];
    memset (list, 0, sizeof *list);
    snprintf (list->name, sizeof list->name, "%s", dc);
    return list;
}

static server_t *
s_server_find (dc_list_t *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp (list->servers[i].name, name) == 0)
            return &list->servers[i];
    return NULL;
}

//  Inserts a server at a random place of the list.
static int
s_server_insert (fwd_routes_t *self, dc_list_t *list, const server_t *server)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 4;
        server_t *servers = (server_t *) realloc (list->servers, capacity * sizeof (server_t));
        if (!servers)
            return -1;
        list->servers = servers;
        list->capacity = capacity;
    }
    size_t at = (size_t) (s_random (self) % (list->count + 1));
    memmove (&list->servers[at + 1], &list->servers[at],
             (list->count - at) * sizeof (server_t));
    list->servers[at] = *server;
    list->count++;
    return 0;
}

static int
s_status_parse (const cJSON *item, fwd_member_status_t *status)
{
    if (cJSON_IsNumber (item)) {
        double value = item->valuedouble;
        if (value < 0 || value > 4 || (double) (int) value != value)
            return -1;
        *status = (fwd_member_status_t) (int) value;
        return 0;
    }
    if (cJSON_IsString (item) && item->valuestring) {
        static const char *names[] = { "none", "alive", "leaving", "left", "failed" };
        for (int i = 0; i < 5; i++)
            if (strcasecmp (item->valuestring, names[i]) == 0) {
                *status = (fwd_member_status_t) i;
                return 0;
            }
    }
    return -1;
}

static const char *
s_tag (const cJSON *tags, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (tags, name);
    return cJSON_IsString (item) && item->valuestring ? item->valuestring : NULL;
}

//  Parses one member. Returns 1 for a server to list, 0 for a member to
//  ignore (not a server, left), -1 when malformed.
static int
s_member_parse (fwd_routes_t *self, const cJSON *member, server_t *server,
                char *dc, size_t dc_size)
{
    if (!cJSON_IsObject (member))
        return -1;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive (member, "Tags");
    if (!cJSON_IsObject (tags))
        return -1;
    const char *role = s_tag (tags, "role");
    if (!role || strcmp (role, "consul") != 0)
        return 0;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive (member, "Name");
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive (member, "Addr");
    const char *tag_dc = s_tag (tags, "dc");
    const char *tag_port = s_tag (tags, "port");
    if (!cJSON_IsString (name) || !name->valuestring || !*name->valuestring
        || strlen (name->valuestring) >= sizeof server->name
        || !cJSON_IsString (addr) || !addr->valuestring || !*addr->valuestring
        || strlen (addr->valuestring) > 64 || strpbrk (addr->valuestring, " /[]")
        || !tag_dc || !config_dc_name_valid (tag_dc) || strlen (tag_dc) >= dc_size
        || !tag_port)
        return -1;
    char *end = NULL;
    long port = strtol (tag_port, &end, 10);
    if (!*tag_port || *end || port < 1 || port > 65535)
        return -1;
    if (s_status_parse (cJSON_GetObjectItemCaseSensitive (member, "Status"),
                        &server->status))
        return -1;
    if (server->status == FWD_MEMBER_LEFT || server->status == FWD_MEMBER_NONE)
        return 0;
    if (self->lan && strcmp (tag_dc, self->local_dc) != 0)
        return 0;
    snprintf (server->name, sizeof server->name, "%s", name->valuestring);
    if (strchr (addr->valuestring, ':'))
        snprintf (server->address, sizeof server->address, "[%s]:%ld",
                  addr->valuestring, port);
    else
        snprintf (server->address, sizeof server->address, "%s:%ld",
                  addr->valuestring, port);
    snprintf (dc, dc_size, "%s", tag_dc);
    server->seen = true;
    return 1;
}

int
fwd_routes_update (fwd_routes_t *self, const cJSON *members)
{
    if (!cJSON_IsArray (members))
        return -1;
    for (size_t i = 0; i < self->dc_count; i++)
        for (size_t j = 0; j < self->dcs[i].count; j++)
            self->dcs[i].servers[j].seen = false;

    int listed = 0;
    const cJSON *member;
    cJSON_ArrayForEach (member, members) {
        server_t parsed;
        char dc[FWD_DC_MAX];
        memset (&parsed, 0, sizeof parsed);
        int rc = s_member_parse (self, member, &parsed, dc, sizeof dc);
        if (rc < 0) {
            self->malformed++;
            log_debug ("skipped malformed member skipped=%llu",
                       (unsigned long long) self->malformed);
            continue;
        }
        if (rc == 0)
            continue;
        dc_list_t *list = s_dc_find (self, dc);
        if (!list)
            list = s_dc_add (self, dc);
        if (!list)
            continue;
        server_t *known = s_server_find (list, parsed.name);
        if (known) {
            if (known->seen)
                continue;       //  a duplicate name in one answer
            *known = parsed;
        }
        else if (s_server_insert (self, list, &parsed) != 0)
            continue;
        listed++;
    }
    //  Drop servers that are gone, then DCs left without servers.
    size_t kept_dcs = 0;
    for (size_t i = 0; i < self->dc_count; i++) {
        dc_list_t *list = &self->dcs[i];
        size_t kept = 0;
        for (size_t j = 0; j < list->count; j++)
            if (list->servers[j].seen)
                list->servers[kept++] = list->servers[j];
        list->count = kept;
        if (kept)
            self->dcs[kept_dcs++] = *list;
        else
            free (list->servers);
    }
    self->dc_count = kept_dcs;
    return listed;
}

fwd_route_status_t
fwd_routes_pick (fwd_routes_t *self, const char *dc, const char *exclude,
                 fwd_routes_usable_fn *usable, void *arg, char *address,
                 size_t size)
{
    dc_list_t *list = s_dc_find (self, dc);
    if (!list)
        return FWD_ROUTE_NO_PATH;
    for (size_t i = 0; i < list->count; i++) {
        server_t *server = &list->servers[i];
        if (server->status != FWD_MEMBER_ALIVE)
            continue;
        if (exclude && strcmp (exclude, server->address) == 0)
            continue;
        if (usable && !usable (arg, list->name, server->address))
            continue;
        snprintf (address, size, "%s", server->address);
        return FWD_ROUTE_OK;
    }
    return FWD_ROUTE_NO_SERVER;
}

void
fwd_routes_fail (fwd_routes_t *self, const char *dc, const char *address)
{
    dc_list_t *list = s_dc_find (self, dc);
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        if (strcmp (list->servers[i].address, address) == 0) {
            server_t failed = list->servers[i];
            memmove (&list->servers[i], &list->servers[i + 1],
                     (list->count - i - 1) * sizeof (server_t));
            list->servers[list->count - 1] = failed;
            return;
        }
}

void
fwd_routes_rebalance (fwd_routes_t *self)
{
    for (size_t i = 0; i < self->dc_count; i++) {
        dc_list_t *list = &self->dcs[i];
        for (size_t j = list->count; j > 1; j--) {
            size_t k = (size_t) (s_random (self) % j);
            server_t swap = list->servers[j - 1];
            list->servers[j - 1] = list->servers[k];
            list->servers[k] = swap;
        }
    }
}

bool
fwd_routes_known (fwd_routes_t *self, const char *dc)
{
    return s_dc_find (self, dc) != NULL;
}

bool
fwd_routes_has (fwd_routes_t *self, const char *dc, const char *address)
{
    dc_list_t *list = s_dc_find (self, dc);
    if (!list)
        return false;
    for (size_t i = 0; i < list->count; i++)
        if (strcmp (list->servers[i].address, address) == 0)
            return true;
    return false;
}

size_t
fwd_routes_server_count (fwd_routes_t *self, const char *dc)
{
    dc_list_t *list = s_dc_find (self, dc);
    return list ? list->count : 0;
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

cJSON *
fwd_routes_datacenters (fwd_routes_t *self)
{
    cJSON *names = cJSON_CreateArray ();
    if (!names)
        return NULL;
    cJSON_AddItemToArray (names, cJSON_CreateString (self->local_dc));
    const char **others = (const char **) calloc (self->dc_count + 1, sizeof (char *));
    if (!others)
        return names;
    size_t count = 0;
    for (size_t i = 0; i < self->dc_count; i++)
        if (strcmp (self->dcs[i].name, self->local_dc) != 0)
            others[count++] = self->dcs[i].name;
    qsort (others, count, sizeof (char *), s_compare_names);
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray (names, cJSON_CreateString (others[i]));
    free (others);
    return names;
}

cJSON *
fwd_routes_dump (fwd_routes_t *self)
{
    static const char *names[] = { "none", "alive", "leaving", "left", "failed" };
    cJSON *dump = cJSON_CreateObject ();
    for (size_t i = 0; dump && i < self->dc_count; i++) {
        cJSON *servers = cJSON_AddArrayToObject (dump, self->dcs[i].name);
        for (size_t j = 0; servers && j < self->dcs[i].count; j++) {
            server_t *server = &self->dcs[i].servers[j];
            cJSON *item = cJSON_CreateObject ();
            cJSON_AddStringToObject (item, "Name", server->name);
            cJSON_AddStringToObject (item, "Address", server->address);
            cJSON_AddStringToObject (item, "Status", names[server->status]);
            cJSON_AddItemToArray (servers, item);
        }
    }
    return dump;
}

uint64_t
fwd_routes_malformed (fwd_routes_t *self)
{
    return self->malformed;
}
