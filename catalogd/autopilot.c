/*  autopilot: the leader's membership reconciliation (see autopilot.h;
    docs/catalogd.md, "Membership"). */
#include "autopilot.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t id;
    int64_t since;          //  first seen failed or missing
} s_failed_t;

struct _catalog_autopilot_t {
    uint64_t self_id;
    int64_t grace_ms;
    s_failed_t *failed;
    size_t failed_count;
    size_t failed_capacity;
};

catalog_autopilot_t *
catalog_autopilot_new (uint64_t self_id, int64_t grace_ms)
{
    catalog_autopilot_t *self = (catalog_autopilot_t *) calloc (1, sizeof *self);
    assert (self);
    self->self_id = self_id;
    self->grace_ms = grace_ms;
    return self;
}

void
catalog_autopilot_destroy (catalog_autopilot_t **self_p)
{
    assert (self_p);
    catalog_autopilot_t *self = *self_p;
    if (self) {
        free (self->failed);
        free (self);
        *self_p = NULL;
    }
}

void
catalog_autopilot_reset (catalog_autopilot_t *self)
{
    self->failed_count = 0;
}

size_t
catalog_autopilot_quorum (size_t voters)
{
    return voters / 2 + 1;
}

//  When the server was first seen unhealthy (recorded now if new).
static int64_t
s_failed_since (catalog_autopilot_t *self, uint64_t id, int64_t now)
{
    for (size_t i = 0; i < self->failed_count; i++)
        if (self->failed[i].id == id)
            return self->failed[i].since;
    if (self->failed_count == self->failed_capacity) {
        size_t capacity = self->failed_capacity ? self->failed_capacity * 2 : 8;
        s_failed_t *grown = (s_failed_t *) realloc (self->failed, capacity * sizeof *grown);
        assert (grown);
        self->failed = grown;
        self->failed_capacity = capacity;
    }
    self->failed[self->failed_count].id = id;
    self->failed[self->failed_count].since = now;
    self->failed_count++;
    return now;
}

static void
s_failed_clear (catalog_autopilot_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->failed_count; i++)
        if (self->failed[i].id == id) {
            self->failed[i] = self->failed[--self->failed_count];
            return;
        }
}

static bool
s_healthy (catalog_autopilot_t *self, catalog_servers_t *servers, uint64_t id)
{
    if (id == self->self_id)
        return true;
    const catalog_server_t *member = catalog_servers_by_id (servers, id);
    return member && member->status == CATALOG_MEMBER_ALIVE;
}

//  May voter `id` be removed? left: it left gracefully (only the size
//  rule applies).
static bool
s_removable (catalog_autopilot_t *self, const catalog_raft_server_t *config,
             size_t n, catalog_servers_t *servers, uint64_t id, bool left,
             char *why, size_t why_size)
{
    size_t voters = 0, healthy_left = 0;
    bool is_voter = false;
    for (size_t i = 0; i < n; i++) {
        if (config[i].role != CATALOG_RAFT_VOTER)
            continue;
        voters++;
        if (config[i].id == id)
            is_voter = true;
        else
        if (s_healthy (self, servers, config[i].id))
            healthy_left++;
    }
    if (!is_voter)
        return true;
    size_t quorum = catalog_autopilot_quorum (voters);
    if (left ? voters - 1 < 1 : voters - 1 < quorum) {
        snprintf (why, why_size, "would leave %zu voters of %zu (quorum %zu)",
                  voters - 1, voters, quorum);
        return false;
    }
    if (!left && healthy_left < quorum) {
        snprintf (why, why_size, "only %zu healthy voters would remain of %zu "
                  "(quorum %zu)", healthy_left, voters, quorum);
        return false;
    }
    return true;
}

static void
s_action (catalog_ap_action_t *action, catalog_ap_kind_t kind, uint64_t id,
          const char *address, const char *name, const char *reason)
{
    action->kind = kind;
    action->id = id;
    snprintf (action->address, sizeof action->address, "%s", address ? address : "");
    snprintf (action->name, sizeof action->name, "%s", name ? name : "(unknown)");
    snprintf (action->reason, sizeof action->reason, "%s", reason);
}

void
catalog_autopilot_next (catalog_autopilot_t *self,
                        const catalog_raft_server_t *config, size_t n,
                        catalog_servers_t *servers, int64_t now,
                        catalog_ap_action_t *action)
{
    memset (action, 0, sizeof *action);
    action->kind = CATALOG_AP_NONE;
    if (!catalog_servers_known (servers))
        return;
    char why[128];
    //  Forget the failure clocks of servers no longer in the
    //  configuration, and of those that are healthy again.
    for (size_t i = 0; i < self->failed_count;) {
        bool listed = false;
        for (size_t j = 0; j < n && !listed; j++)
            listed = config[j].id == self->failed[i].id;
        if (!listed || s_healthy (self, servers, self->failed[i].id))
            self->failed[i] = self->failed[--self->failed_count];
        else
            i++;
    }
    //  A leader leaving the pool hands over first (the next leader then
    //  removes it as left).
    const catalog_server_t *me = catalog_servers_by_id (servers, self->self_id);
    size_t voters = 0;
    for (size_t i = 0; i < n; i++)
        voters += config[i].role == CATALOG_RAFT_VOTER;
    if (me && (me->status == CATALOG_MEMBER_LEAVING || me->status == CATALOG_MEMBER_LEFT)
        && voters > 1) {
        s_action (action, CATALOG_AP_TRANSFER, 0, NULL, me->name,
                  "this server is leaving the pool");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const catalog_raft_server_t *entry = &config[i];
        if (entry->id == self->self_id)
            continue;
        const catalog_server_t *member = catalog_servers_by_id (servers, entry->id);
        //  Its address now belongs to an alive server with another ID.
        const catalog_server_t *holder = catalog_servers_by_address (servers, entry->address);
        if (holder && holder->raft_id != entry->id && holder->status == CATALOG_MEMBER_ALIVE) {
            if (s_removable (self, config, n, servers, entry->id, false, why, sizeof why)) {
                char reason[160];
                snprintf (reason, sizeof reason, "its address is now used by %.100s with "
                          "another node ID", holder->name);
                s_action (action, CATALOG_AP_REMOVE, entry->id, entry->address,
                          member ? member->name : NULL, reason);
                return;
            }
            continue;
        }
        if (member && member->status == CATALOG_MEMBER_LEFT) {
            if (s_removable (self, config, n, servers, entry->id, true, why, sizeof why)) {
                s_action (action, CATALOG_AP_REMOVE, entry->id, entry->address,
                          member->name, "it left the pool");
                return;
            }
            continue;
        }
        if (member && member->status != CATALOG_MEMBER_FAILED
            && member->status != CATALOG_MEMBER_NONE) {
            s_failed_clear (self, entry->id);
            continue;
        }
        //  Failed, or no longer a member at all.
        int64_t since = s_failed_since (self, entry->id, now);
        if (now - since < self->grace_ms)
            continue;
        if (s_removable (self, config, n, servers, entry->id, false, why, sizeof why)) {
            char reason[160];
            snprintf (reason, sizeof reason, "%s for %lld ms (dead server cleanup)",
                      member ? "failed" : "not a member", (long long) (now - since));
            s_action (action, CATALOG_AP_REMOVE, entry->id, entry->address,
                      member ? member->name : NULL, reason);
            return;
        }
    }
    //  Alive servers of the DC that are not in the configuration.
    for (size_t i = 0; i < catalog_servers_size (servers); i++) {
        const catalog_server_t *member = catalog_servers_at (servers, i);
        if (member->status != CATALOG_MEMBER_ALIVE)
            continue;
        bool listed = false, address_taken = false;
        for (size_t j = 0; j < n; j++) {
            if (config[j].id == member->raft_id)
                listed = true;
            else
            if (strcmp (config[j].address, member->raft_address) == 0)
                address_taken = true;
        }
        if (!listed && !address_taken) {
            s_action (action, CATALOG_AP_ADD, member->raft_id, member->raft_address,
                      member->name, "alive in the pool, not in the configuration");
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (config[i].role == CATALOG_RAFT_VOTER)
            continue;
        const catalog_server_t *member = catalog_servers_by_id (servers, config[i].id);
        if (member && member->status == CATALOG_MEMBER_ALIVE) {
            s_action (action, CATALOG_AP_PROMOTE, config[i].id, config[i].address,
                      member->name, "alive non-voter");
            return;
        }
    }
}
