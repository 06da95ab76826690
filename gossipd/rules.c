/*  rules: Consul's merge delegates for the LAN and WAN pools. Spec:
    docs/protocol/gossip.md, "Pool rules". */
#include "rules.h"
#include "packet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _rules_t {
    bool wan;
    char name[PACKET_NAME_MAX + 1];
    char node_id[PACKET_TAG_VALUE_MAX + 1];
    char datacenter[PACKET_TAG_VALUE_MAX + 1];
};

rules_t *
rules_new (bool wan, const char *name, const char *node_id, const char *datacenter)
{
    rules_t *self = (rules_t *) calloc (1, sizeof (rules_t));
    if (!self)
        return NULL;
    self->wan = wan;
    snprintf (self->name, sizeof self->name, "%s", name ? name : "");
    snprintf (self->node_id, sizeof self->node_id, "%s", node_id ? node_id : "");
    snprintf (self->datacenter, sizeof self->datacenter, "%s", datacenter ? datacenter : "");
    return self;
}

void
rules_destroy (rules_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static bool
s_numeric (const char *text)
{
    return *text && strspn (text, "0123456789") == strlen (text);
}

//  Consul's WAN merge delegate: role consul, a dc, numeric port and vsn.
static bool
s_is_server (const uint8_t *tags, size_t tags_len)
{
    char role[PACKET_TAG_VALUE_MAX + 1], dc[PACKET_TAG_VALUE_MAX + 1];
    char port[PACKET_TAG_VALUE_MAX + 1], vsn[PACKET_TAG_VALUE_MAX + 1];
    return packet_tags_get (tags, tags_len, "role", role, sizeof role) == 0
           && strcmp (role, "consul") == 0
           && packet_tags_get (tags, tags_len, "dc", dc, sizeof dc) == 0 && *dc
           && packet_tags_get (tags, tags_len, "port", port, sizeof port) == 0
           && s_numeric (port)
           && packet_tags_get (tags, tags_len, "vsn", vsn, sizeof vsn) == 0
           && s_numeric (vsn);
}

int
rules_accept (rules_t *self, const char *name, const uint8_t *tags, size_t tags_len,
              char *err, size_t err_size)
{
    if (self->wan) {
        if (s_is_server (tags, tags_len))
            return 0;
        snprintf (err, err_size, "Member '%s' is not a server", name);
        return -1;
    }
    char value[PACKET_TAG_VALUE_MAX + 1];
    if (packet_tags_get (tags, tags_len, "id", value, sizeof value) == 0 && *value
        && strcasecmp (value, self->node_id) == 0 && strcasecmp (name, self->name) != 0) {
        snprintf (err, err_size,
                  "Member '%s' has conflicting node ID '%s' with this agent's ID", name, value);
        return -1;
    }
    if (packet_tags_get (tags, tags_len, "dc", value, sizeof value) == 0
        && strcmp (value, self->datacenter) != 0) {
        snprintf (err, err_size, "Member '%s' part of wrong datacenter '%s'", name, value);
        return -1;
    }
    return 0;
}
