/*  membership: SWIM/Lifeguard member state machine (memberlist state.go
    rules). Spec: docs/protocol/gossip.md, "Message rules", "Suspicion",
    "Leave, force-leave, reaping". */
#include "membership.h"
#include "log.h"

#include <czmq.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[PACKET_NAME_MAX + 1];
    uint32_t incarnation;
    int64_t until_ms;
} tombstone_t;

struct _membership_t {
    membership_config_t config;
    char name[PACKET_NAME_MAX + 1];
    char pool[8];
    broadcast_queue_t *queue;
    membership_hooks_t hooks;
    members_t *members;
    member_t *self_member;
    bool leaving;
    bool left;
    uint64_t refutations;
    bool urgent;                //  an urgent update was queued
    size_t estimate;            //  membership_estimate's last result,
    int64_t estimate_until_ms;  //  good until then or a change (0)
    int64_t next_due_ms;        //  0 = recompute on the next tick
    tombstone_t *tombstones;
    size_t tombstone_count;
    size_t tombstone_capacity;
};

const char *
member_event_name (member_event_t event)
{
    static const char *names[MEMBER_EVENT_COUNT] = {
        "member.join", "member.update", "member.leave", "member.failed", "member.reap"
    };
    return event < MEMBER_EVENT_COUNT ? names[event] : "member.unknown";
}

static void
s_event (membership_t *self, member_event_t event, const member_t *member)
{
    char addr[64];
    packet_addr_format (&member->addr, addr, sizeof addr);
    log_info ("%s pool=%s node=%s addr=%s incarnation=%u", member_event_name (event),
              self->pool, member->name, addr, member->incarnation);
    if (self->hooks.event)
        self->hooks.event (self->hooks.arg, event, member);
}

//  Queues msg for dissemination, keyed by the node it is about.
static void
s_queue (membership_t *self, const packet_msg_t *msg)
{
    uint8_t buf[PACKET_UDP_BODY_MAX];
    int len = packet_msg_encode (msg, buf, sizeof buf);
    if (len > 0)
        broadcast_queue_push (self->queue, msg->node, buf, (size_t) len);
    else
        log_warn ("cannot encode update pool=%s node=%s type=%d", self->pool,
                  msg->node, (int) msg->type);
}

static void
s_queue_alive (membership_t *self, const member_t *member)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    if (!msg)
        return;
    msg->type = PACKET_ALIVE;
    msg->incarnation = member->incarnation;
    snprintf (msg->node, sizeof msg->node, "%s", member->name);
    msg->addr = member->addr;
    memcpy (msg->tags, member->tags, member->tags_len);
    msg->tags_len = member->tags_len;
    s_queue (self, msg);
    free (msg);
}

static void
s_queue_about (membership_t *self, packet_type_t type, uint32_t incarnation,
               const char *node, const char *from, uint8_t flags)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    if (!msg)
        return;
    msg->type = type;
    msg->incarnation = incarnation;
    msg->flags = flags;
    snprintf (msg->node, sizeof msg->node, "%s", node);
    snprintf (msg->from, sizeof msg->from, "%s", from);
    s_queue (self, msg);
    free (msg);
    //  suspect, dead and force-leave all spread at once (immediate relay).
    self->urgent = true;
}

membership_t *
membership_new (const membership_config_t *config, broadcast_queue_t *queue,
                const membership_hooks_t *hooks, int64_t now_ms)
{
    membership_t *self = (membership_t *) calloc (1, sizeof (membership_t));
    if (!self)
        return NULL;
    self->config = *config;
    snprintf (self->name, sizeof self->name, "%s", config->name);
    snprintf (self->pool, sizeof self->pool, "%s", config->pool);
    self->config.name = self->name;
    self->config.pool = self->pool;
    self->config.tags = NULL;
    self->queue = queue;
    if (hooks)
        self->hooks = *hooks;
    self->members = members_new ();
    self->self_member = self->members ? members_insert (self->members, self->name) : NULL;
    if (!self->self_member || config->tags_len > PACKET_TAGS_MAX) {
        membership_destroy (&self);
        return NULL;
    }
    member_t *me = self->self_member;
    me->addr = config->addr;
    me->incarnation = config->incarnation;
    me->state = MEMBER_ALIVE;
    me->state_at_ms = now_ms;
    memcpy (me->tags, config->tags, config->tags_len);
    me->tags_len = config->tags_len;
    s_queue_alive (self, me);
    return self;
}

void
membership_destroy (membership_t **self_p)
{
    if (self_p && *self_p) {
        membership_t *self = *self_p;
        members_destroy (&self->members);
        free (self->tombstones);
        free (self);
        *self_p = NULL;
    }
}

members_t *
membership_members (membership_t *self)
{
    return self->members;
}

member_t *
membership_self (membership_t *self)
{
    return self->self_member;
}

uint32_t
membership_incarnation (membership_t *self)
{
    return self->self_member->incarnation;
}

int
membership_status (membership_t *self, const member_t *member)
{
    if (member == self->self_member && self->leaving && !self->left)
        return MEMBER_STATUS_LEAVING;
    return member_status (member);
}

size_t
membership_alive_count (membership_t *self)
{
    size_t count = 0;
    for (size_t i = 0; i < members_size (self->members); i++) {
        member_state_t state = members_at (self->members, i)->state;
        if (state == MEMBER_ALIVE || state == MEMBER_SUSPECT)
            count++;
    }
    return count;
}

size_t
membership_estimate (membership_t *self, int64_t now_ms)
{
    //  Asked for every packet sent: counted again only after a change of
    //  the table or once a failed or left member stops counting.
    if (now_ms < self->estimate_until_ms)
        return self->estimate;
    size_t count = 0;
    int64_t until = INT64_MAX;
    for (size_t i = 0; i < members_size (self->members); i++) {
        const member_t *member = members_at (self->members, i);
        int64_t expires = member->state_at_ms + self->config.dead_window_ms;
        if (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT)
            count++;
        else if (now_ms < expires) {
            count++;
            if (expires < until)
                until = expires;
        }
    }
    self->estimate = count;
    self->estimate_until_ms = until;
    return count;
}

uint64_t
membership_refutations (membership_t *self)
{
    return self->refutations;
}

bool
membership_urgent_take (membership_t *self)
{
    bool urgent = self->urgent;
    self->urgent = false;
    return urgent;
}

bool
membership_leaving (membership_t *self)
{
    return self->leaving;
}

bool
membership_left (membership_t *self)
{
    return self->left;
}

//  Someone said we are suspect, dead, or alive with other data: take an
//  incarnation above theirs and tell everyone we are alive.
static void
s_refute (membership_t *self, uint32_t accused)
{
    member_t *me = self->self_member;
    uint32_t next = me->incarnation + 1;
    if (accused >= next)
        next = accused + 1;
    me->incarnation = next;
    self->refutations++;
    log_info ("refuting a suspicion of ourselves pool=%s incarnation=%u", self->pool, next);
    s_queue_alive (self, me);
    self->urgent = true;
    if (self->hooks.refuted)
        self->hooks.refuted (self->hooks.arg);
}

static tombstone_t *
s_tombstone_find (membership_t *self, const char *name)
{
    for (size_t i = 0; i < self->tombstone_count; i++)
        if (strcmp (self->tombstones[i].name, name) == 0)
            return &self->tombstones[i];
    return NULL;
}

static void
s_tombstone_add (membership_t *self, const member_t *member, int64_t now_ms)
{
    tombstone_t *stone = s_tombstone_find (self, member->name);
    if (!stone) {
        if (self->tombstone_count == self->tombstone_capacity) {
            size_t capacity = self->tombstone_capacity ? self->tombstone_capacity * 2 : 8;
            tombstone_t *stones = (tombstone_t *) realloc (self->tombstones,
                                                           capacity * sizeof (tombstone_t));
            if (!stones)
                return;
            self->tombstones = stones;
            self->tombstone_capacity = capacity;
        }
        stone = &self->tombstones[self->tombstone_count++];
        snprintf (stone->name, sizeof stone->name, "%s", member->name);
    }
    stone->incarnation = member->incarnation;
    stone->until_ms = now_ms + self->config.tombstone_ms;
}

static void
s_remove (membership_t *self, member_t *member, int64_t now_ms)
{
    s_event (self, MEMBER_EVENT_REAP, member);
    s_tombstone_add (self, member, now_ms);
    members_remove (self->members, member->name);
    self->next_due_ms = 0;
    self->estimate_until_ms = 0;
}

static void
s_set_state (membership_t *self, member_t *member, member_state_t state, int64_t now_ms)
{
    if (state != MEMBER_SUSPECT)
        suspicion_destroy (&member->suspicion);
    if (member->state != state)
        member->state_at_ms = now_ms;
    member->state = state;
    self->next_due_ms = 0;
    self->estimate_until_ms = 0;
}

static bool
s_accept (membership_t *self, const char *name, const uint8_t *tags, size_t tags_len)
{
    if (!self->hooks.accept)
        return true;
    char err[256];
    if (self->hooks.accept (self->hooks.arg, name, tags, tags_len, err, sizeof err) == 0)
        return true;
    log_warn ("member refused pool=%s node=%s reason=\"%s\"", self->pool, name, err);
    return false;
}

int
membership_on_alive (membership_t *self, const packet_msg_t *msg, int64_t now_ms)
{
    if (self->leaving || self->left)
        return 0;
    member_t *me = self->self_member;
    if (strcmp (msg->node, self->name) == 0) {
        bool differs = !packet_addr_equal (&msg->addr, &me->addr)
                       || msg->tags_len != me->tags_len
                       || memcmp (msg->tags, me->tags, me->tags_len) != 0;
        if (msg->incarnation > me->incarnation
            || (msg->incarnation == me->incarnation && differs)) {
            s_refute (self, msg->incarnation);
            return 1;
        }
        return 0;
    }
    member_t *member = members_lookup (self->members, msg->node);
    if (!member) {
        tombstone_t *stone = s_tombstone_find (self, msg->node);
        if (stone && msg->incarnation <= stone->incarnation)
            return 0;
        if (!s_accept (self, msg->node, msg->tags, msg->tags_len))
            return 0;
        member = members_insert (self->members, msg->node);
        if (!member)
            return 0;
        member->addr = msg->addr;
        member->incarnation = msg->incarnation;
        memcpy (member->tags, msg->tags, msg->tags_len);
        member->tags_len = msg->tags_len;
        member->state = MEMBER_ALIVE;
        member->state_at_ms = now_ms;
        self->next_due_ms = 0;
        self->estimate_until_ms = 0;
        s_event (self, MEMBER_EVENT_JOIN, member);
        s_queue (self, msg);
        return 1;
    }
    if (msg->incarnation <= member->incarnation)
        return 0;
    bool addr_changed = !packet_addr_equal (&msg->addr, &member->addr);
    if (addr_changed && (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT)) {
        char have[64], claim[64];
        packet_addr_format (&member->addr, have, sizeof have);
        packet_addr_format (&msg->addr, claim, sizeof claim);
        log_warn ("name conflict pool=%s node=%s addr=%s claimed_by=%s", self->pool,
                  msg->node, have, claim);
        return 0;
    }
    bool tags_changed = msg->tags_len != member->tags_len
                        || memcmp (msg->tags, member->tags, msg->tags_len) != 0;
    if (tags_changed && !s_accept (self, msg->node, msg->tags, msg->tags_len))
        return 0;
    member_state_t old = member->state;
    member->incarnation = msg->incarnation;
    member->addr = msg->addr;
    memcpy (member->tags, msg->tags, msg->tags_len);
    member->tags_len = msg->tags_len;
    s_set_state (self, member, MEMBER_ALIVE, now_ms);
    if (old == MEMBER_DEAD || old == MEMBER_LEFT)
        s_event (self, MEMBER_EVENT_JOIN, member);
    else if (addr_changed || tags_changed)
        s_event (self, MEMBER_EVENT_UPDATE, member);
    s_queue (self, msg);
    return 1;
}

int
membership_on_suspect (membership_t *self, uint32_t incarnation, const char *node,
                       const char *from, int64_t now_ms)
{
    if (self->left)
        return 0;
    member_t *member = members_lookup (self->members, node);
    if (!member || incarnation < member->incarnation)
        return 0;
    if (member == self->self_member) {
        if (self->leaving)
            return 0;
        s_refute (self, incarnation);
        return 1;
    }
    if (self->leaving)
        return 0;
    if (member->state == MEMBER_SUSPECT) {
        if (member->suspicion && suspicion_confirm (member->suspicion, from)) {
            self->next_due_ms = 0;
            s_queue_about (self, PACKET_SUSPECT, incarnation, node, from, 0);
            return 1;
        }
        return 0;
    }
    if (member->state != MEMBER_ALIVE)
        return 0;
    size_t n = membership_estimate (self, now_ms);
    int k = suspicion_wanted (self->config.suspicion_mult, n);
    int64_t min_ms = suspicion_min_ms (self->config.suspicion_mult, n,
                                       self->config.probe_interval_ms);
    int64_t max_ms = SUSPICION_MAX_MULT * min_ms;
    member->incarnation = incarnation;
    s_set_state (self, member, MEMBER_SUSPECT, now_ms);
    suspicion_destroy (&member->suspicion);
    member->suspicion = suspicion_new (from, k, min_ms, max_ms, now_ms);
    log_info ("suspect pool=%s node=%s from=%s timeout_ms=%lld", self->pool, node, from,
              member->suspicion ? (long long) (suspicion_deadline (member->suspicion) - now_ms)
                                : (long long) min_ms);
    s_queue_about (self, PACKET_SUSPECT, incarnation, node, from, 0);
    return 1;
}

int
membership_on_dead (membership_t *self, uint32_t incarnation, const char *node,
                    const char *from, int64_t now_ms)
{
    if (self->left)
        return 0;
    member_t *member = members_lookup (self->members, node);
    if (!member || incarnation < member->incarnation)
        return 0;
    bool left = strcmp (node, from) == 0;
    if (member == self->self_member) {
        if (self->leaving)
            return 0;
        s_refute (self, incarnation);
        return 1;
    }
    if (self->leaving || member->state == MEMBER_LEFT)
        return 0;
    if (member->state == MEMBER_DEAD && !left)
        return 0;
    member->incarnation = incarnation;
    s_set_state (self, member, left ? MEMBER_LEFT : MEMBER_DEAD, now_ms);
    s_event (self, left ? MEMBER_EVENT_LEAVE : MEMBER_EVENT_FAILED, member);
    s_queue_about (self, PACKET_DEAD, incarnation, node, from, 0);
    return 1;
}

int
membership_on_force_leave (membership_t *self, uint32_t incarnation, const char *node,
                           bool prune, int64_t now_ms)
{
    if (self->left)
        return 0;
    member_t *member = members_lookup (self->members, node);
    if (!member)
        return -1;
    if (member == self->self_member) {
        if (self->leaving)
            return 0;
        s_refute (self, incarnation);
        return 1;
    }
    if (incarnation < member->incarnation || self->leaving)
        return 0;
    bool changed = false;
    if (member->state != MEMBER_LEFT) {
        s_set_state (self, member, MEMBER_LEFT, now_ms);
        s_event (self, MEMBER_EVENT_LEAVE, member);
        changed = true;
    }
    uint32_t known = member->incarnation;
    if (prune) {
        s_remove (self, member, now_ms);
        changed = true;
    }
    if (changed)
        s_queue_about (self, PACKET_FORCE_LEAVE, known, node, self->name,
                       prune ? PACKET_FLAG_PRUNE : 0);
    return changed ? 1 : 0;
}

int
membership_force_leave (membership_t *self, const char *node, bool prune, int64_t now_ms)
{
    member_t *member = members_lookup (self->members, node);
    if (!member)
        return -1;
    if (member == self->self_member)
        return 0;
    return membership_on_force_leave (self, member->incarnation, node, prune, now_ms);
}

int
membership_check (membership_t *self, const packet_msg_t *state, char *err, size_t err_size)
{
    if (strcmp (state->node, self->name) == 0 || !self->hooks.accept)
        return 0;
    return self->hooks.accept (self->hooks.arg, state->node, state->tags, state->tags_len,
                               err, err_size);
}

void
membership_merge (membership_t *self, const packet_msg_t *state, int64_t now_ms)
{
    switch (state->state) {
        case PACKET_STATE_ALIVE: {
            packet_msg_t *alive = (packet_msg_t *) malloc (sizeof (packet_msg_t));
            if (!alive)
                return;
            memcpy (alive, state, sizeof *alive);
            alive->type = PACKET_ALIVE;
            membership_on_alive (self, alive, now_ms);
            free (alive);
            break;
        }
        case PACKET_STATE_SUSPECT:
        case PACKET_STATE_DEAD:
            //  memberlist prefers to suspect a node another believes dead.
            membership_on_suspect (self, state->incarnation, state->node, self->name, now_ms);
            break;
        case PACKET_STATE_LEFT:
            membership_on_dead (self, state->incarnation, state->node, state->node, now_ms);
            break;
    }
}

void
membership_suspect_local (membership_t *self, const char *node, int64_t now_ms)
{
    member_t *member = members_lookup (self->members, node);
    if (member && member != self->self_member)
        membership_on_suspect (self, member->incarnation, node, self->name, now_ms);
}

int64_t
membership_tick (membership_t *self, int64_t now_ms)
{
    if (self->next_due_ms && now_ms < self->next_due_ms)
        return self->next_due_ms;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < members_size (self->members);) {
        member_t *member = members_at (self->members, i);
        if (member == self->self_member) {
            i++;
            continue;
        }
        if (member->state == MEMBER_SUSPECT && member->suspicion) {
            int64_t deadline = suspicion_deadline (member->suspicion);
            if (deadline <= now_ms) {
                log_info ("suspect timeout reached pool=%s node=%s confirmations=%d",
                          self->pool, member->name,
                          suspicion_confirmations (member->suspicion));
                membership_on_dead (self, member->incarnation, member->name, self->name,
                                    now_ms);
            }
            else if (deadline < next)
                next = deadline;
        }
        int64_t reap_after = member->state == MEMBER_DEAD ? self->config.reap_failed_ms
                           : member->state == MEMBER_LEFT ? self->config.reap_left_ms
                           : -1;
        if (reap_after >= 0) {
            int64_t due = member->state_at_ms + reap_after;
            if (due <= now_ms) {
                s_remove (self, member, now_ms);
                continue;       //  slot i now holds another member
            }
            if (due < next)
                next = due;
        }
        i++;
    }
    for (size_t i = 0; i < self->tombstone_count;) {
        if (self->tombstones[i].until_ms <= now_ms)
            self->tombstones[i] = self->tombstones[--self->tombstone_count];
        else {
            if (self->tombstones[i].until_ms < next)
                next = self->tombstones[i].until_ms;
            i++;
        }
    }
    self->next_due_ms = next;
    return next;
}

uint64_t
membership_leave (membership_t *self)
{
    member_t *me = self->self_member;
    self->leaving = true;
    uint8_t buf[PACKET_UDP_BODY_MAX];
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    if (!msg)
        return 0;
    msg->type = PACKET_DEAD;
    msg->incarnation = me->incarnation;
    snprintf (msg->node, sizeof msg->node, "%s", self->name);
    snprintf (msg->from, sizeof msg->from, "%s", self->name);
    int len = packet_msg_encode (msg, buf, sizeof buf);
    free (msg);
    log_info ("leaving pool=%s incarnation=%u", self->pool, me->incarnation);
    self->urgent = true;
    return len > 0 ? broadcast_queue_push (self->queue, self->name, buf, (size_t) len) : 0;
}

void
membership_set_left (membership_t *self, int64_t now_ms)
{
    self->leaving = true;
    self->left = true;
    s_set_state (self, self->self_member, MEMBER_LEFT, now_ms);
    log_info ("left pool=%s", self->pool);
}

//  --------------------------------------------------------------------
//  Push-pull state

static packet_msg_t *
s_msg_new (packet_type_t type)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    if (msg)
        msg->type = type;
    return msg;
}

//  Our whole state: push-pull header and one state per member.
uint8_t *
membership_state_body (membership_t *self, bool join, size_t *len)
{
    members_t *members = self->members;
    size_t count = members_size (members);
    if (count > PACKET_PUSH_MAX)
        count = PACKET_PUSH_MAX;
    size_t size = 16 + count * (PACKET_MSG_HEADER + 8 + PACKET_NAME_MAX + 20 + PACKET_TAGS_MAX);
    uint8_t *body = (uint8_t *) malloc (size);
    packet_msg_t *msg = s_msg_new (PACKET_PUSH_PULL);
    if (!body || !msg) {
        free (body);
        free (msg);
        return NULL;
    }
    msg->flags = join ? PACKET_FLAG_JOIN : 0;
    msg->count = (uint32_t) count;
    size_t used = (size_t) packet_msg_encode (msg, body, size);
    msg->type = PACKET_STATE;
    for (size_t i = 0; i < count; i++) {
        member_t *member = members_at (members, i);
        msg->incarnation = member->incarnation;
        msg->state = (uint8_t) member->state;
        snprintf (msg->node, sizeof msg->node, "%s", member->name);
        msg->addr = member->addr;
        memcpy (msg->tags, member->tags, member->tags_len);
        msg->tags_len = member->tags_len;
        int wrote = packet_msg_encode (msg, body + used, size - used);
        if (wrote < 0) {
            free (msg);
            free (body);
            return NULL;
        }
        used += (size_t) wrote;
    }
    free (msg);
    *len = used;
    return body;
}

//  Applies the acceptance rules to a remote state (body checked). Returns
//  0, or -1 with the first reason in err.
int
membership_check_remote (membership_t *self, const uint8_t *body, size_t len, bool unique_ids,
                         char *err, size_t err_size)
{
    packet_msg_t *msg = s_msg_new (PACKET_STATE);
    zhashx_t *ids = zhashx_new ();
    if (!msg || !ids) {
        free (msg);
        zhashx_destroy (&ids);
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    zhashx_set_destructor (ids, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_duplicator (ids, (zhashx_duplicator_fn *) strdup);
    packet_reader_t reader;
    packet_drop_t drop;
    packet_reader_init (&reader, body, len, PACKET_TCP);
    int rc = 0;
    while (rc == 0 && packet_reader_next (&reader, msg, &drop) == 1) {
        if (msg->type != PACKET_STATE)
            continue;
        if (membership_check (self, msg, err, err_size) != 0) {
            rc = -1;
            break;
        }
        char id[PACKET_TAG_VALUE_MAX + 1];
        if (unique_ids
            && packet_tags_get (msg->tags, msg->tags_len, "id", id, sizeof id) == 0 && *id) {
            const char *other = (const char *) zhashx_lookup (ids, id);
            if (other && strcmp (other, msg->node) != 0) {
                snprintf (err, err_size, "Member '%s' has conflicting node ID '%s' with member '%s'",
                          msg->node, id, other);
                rc = -1;
            }
            else
                zhashx_update (ids, id, msg->node);
        }
    }
    free (msg);
    zhashx_destroy (&ids);
    return rc;
}

void
membership_merge_remote (membership_t *self, const uint8_t *body, size_t len, int64_t now_ms)
{
    packet_msg_t *msg = s_msg_new (PACKET_STATE);
    if (!msg)
        return;
    packet_reader_t reader;
    packet_drop_t drop;
    packet_reader_init (&reader, body, len, PACKET_TCP);
    while (packet_reader_next (&reader, msg, &drop) == 1)
        if (msg->type == PACKET_STATE)
            membership_merge (self, msg, now_ms);
    free (msg);
}

