/*  probe: SWIM probing with Lifeguard local health. Spec:
    docs/protocol/gossip.md, "Probing (SWIM + Lifeguard)". */
#include "probe.h"
#include "crypto.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t seq;               //  our ping to the target
    uint32_t requester_seq;
    packet_addr_t requester;
    bool want_nack;
    int64_t nack_at_ms;
} relay_t;

struct _probe_t {
    probe_config_t config;
    char self_name[PACKET_NAME_MAX + 1];
    probe_hooks_t hooks;
    uint32_t next_seq;
    int awareness;
    bool stopped;
    uint64_t probes;
    uint64_t failures;

    //  Randomized round-robin order of member names.
    char **order;
    size_t order_count;
    size_t order_capacity;
    size_t order_index;

    int64_t next_probe_ms;      //  the next tick of the probe clock
    bool tick_pending;          //  a tick came while a probe was running
    //  The probe in progress.
    bool active;
    char target[PACKET_NAME_MAX + 1];
    uint32_t seq;
    int64_t sent_us;
    int64_t timeout_at_ms;
    int64_t end_at_ms;
    bool indirect_sent;
    int expected_nacks;
    int nacks;

    relay_t relays[PROBE_RELAYS_MAX];
    size_t relay_count;
};

probe_t *
probe_new (const probe_config_t *config, const probe_hooks_t *hooks)
{
    probe_t *self = (probe_t *) calloc (1, sizeof (probe_t));
    if (!self)
        return NULL;
    self->config = *config;
    snprintf (self->self_name, sizeof self->self_name, "%s", config->self_name);
    self->config.self_name = self->self_name;
    self->hooks = *hooks;
    crypto_random (&self->next_seq, sizeof self->next_seq);
    return self;
}

static void
s_order_clear (probe_t *self)
{
    for (size_t i = 0; i < self->order_count; i++)
        free (self->order[i]);
    self->order_count = 0;
    self->order_index = 0;
}

void
probe_destroy (probe_t **self_p)
{
    if (self_p && *self_p) {
        s_order_clear (*self_p);
        free ((*self_p)->order);
        free (*self_p);
        *self_p = NULL;
    }
}

static int64_t
s_scale (probe_t *self, int64_t ms)
{
    return ms * (self->awareness + 1);
}

void
probe_start_at (probe_t *self, int64_t at_ms)
{
    if (self->probes == 0)
        self->next_probe_ms = at_ms;
}

int
probe_awareness (probe_t *self)
{
    return self->awareness;
}

void
probe_awareness_add (probe_t *self, int delta)
{
    self->awareness += delta;
    if (self->awareness < 0)
        self->awareness = 0;
    if (self->awareness > PROBE_AWARENESS_MAX - 1)
        self->awareness = PROBE_AWARENESS_MAX - 1;
}

uint64_t
probe_count (probe_t *self)
{
    return self->probes;
}

uint64_t
probe_failures (probe_t *self)
{
    return self->failures;
}

void
probe_stop (probe_t *self)
{
    self->stopped = true;
    self->active = false;
}

static int
s_order_insert (probe_t *self, const char *name, size_t position)
{
    if (self->order_count == self->order_capacity) {
        size_t capacity = self->order_capacity ? self->order_capacity * 2 : 16;
        char **order = (char **) realloc (self->order, capacity * sizeof (char *));
        if (!order)
            return -1;
        self->order = order;
        self->order_capacity = capacity;
    }
    char *copy = strdup (name);
    if (!copy)
        return -1;
    memmove (&self->order[position + 1], &self->order[position],
             (self->order_count - position) * sizeof (char *));
    self->order[position] = copy;
    self->order_count++;
    return 0;
}

void
probe_add (probe_t *self, const char *name)
{
    //  Between the next member to probe and the end of the pass.
    size_t span = self->order_count - self->order_index + 1;
    size_t position = self->order_index + crypto_random_below ((uint32_t) span);
    s_order_insert (self, name, position);
}

//  Starts a new pass: every member but us, shuffled.
static void
s_order_rebuild (probe_t *self, members_t *members)
{
    s_order_clear (self);
    for (size_t i = 0; i < members_size (members); i++) {
        member_t *member = members_at (members, i);
        if (strcmp (member->name, self->self_name) != 0)
            s_order_insert (self, member->name, self->order_count);
    }
    for (size_t i = self->order_count; i > 1; i--) {
        size_t j = crypto_random_below ((uint32_t) i);
        char *swap = self->order[i - 1];
        self->order[i - 1] = self->order[j];
        self->order[j] = swap;
    }
}

static member_t *
s_next_target (probe_t *self, members_t *members)
{
    //  At most two passes: the rest of this one and a fresh one.
    for (int pass = 0; pass < 2; pass++) {
        while (self->order_index < self->order_count) {
            const char *name = self->order[self->order_index++];
            member_t *member = members_lookup (members, name);
            if (member && strcmp (member->name, self->self_name) != 0
                && (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT))
                return member;
        }
        s_order_rebuild (self, members);
    }
    return NULL;
}

typedef struct {
    const char *self_name;
    const char *target;
} indirect_filter_t;

static bool
s_indirect_filter (void *arg, const member_t *member)
{
    indirect_filter_t *filter = (indirect_filter_t *) arg;
    return member->state == MEMBER_ALIVE && strcmp (member->name, filter->self_name) != 0
           && strcmp (member->name, filter->target) != 0;
}

static void
s_finish_failed (probe_t *self, members_t *members)
{
    self->active = false;
    //  Declared failed or gone meanwhile: nothing to learn about us.
    member_t *target = members_lookup (members, self->target);
    if (!target || (target->state != MEMBER_ALIVE && target->state != MEMBER_SUSPECT))
        return;
    //  Lifeguard: missing nacks mean we may be the slow one.
    if (self->expected_nacks > 0)
        probe_awareness_add (self, self->expected_nacks - self->nacks);
    else
        probe_awareness_add (self, 1);
    self->failures++;
    self->hooks.failed (self->hooks.arg, self->target);
}

//  Probes the next member. As memberlist, bad health stretches only the
//  time given to a probe that gets no ack (waiting longer does not get UDP
//  through; it leaves more time for indirect acks and nacks): a probe
//  acked in time lets the next one start at the next tick.
static void
s_start (probe_t *self, members_t *members, int64_t now_ms)
{
    member_t *target = s_next_target (self, members);
    if (!target)
        return;
    self->active = true;
    snprintf (self->target, sizeof self->target, "%s", target->name);
    self->seq = ++self->next_seq;
    self->sent_us = time_mono_us ();
    self->timeout_at_ms = now_ms + self->config.timeout_ms;
    self->end_at_ms = now_ms + s_scale (self, self->config.interval_ms);
    self->indirect_sent = false;
    self->expected_nacks = 0;
    self->nacks = 0;
    self->probes++;
    self->hooks.ping (self->hooks.arg, target, self->seq);
}

int64_t
probe_tick (probe_t *self, members_t *members, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    if (!self->stopped) {
        if (self->active && !self->indirect_sent && now_ms >= self->timeout_at_ms) {
            member_t *target = members_lookup (members, self->target);
            member_t *via[PROBE_INDIRECT_CHECKS];
            size_t count = 0;
            if (target) {
                indirect_filter_t filter = { self->self_name, self->target };
                count = members_random (members, via, PROBE_INDIRECT_CHECKS,
                                        s_indirect_filter, &filter);
                for (size_t i = 0; i < count; i++)
                    self->hooks.indirect (self->hooks.arg, via[i], target, self->seq);
            }
            self->indirect_sent = true;
            self->expected_nacks = (int) count;
        }
        if (self->active && now_ms >= self->end_at_ms)
            s_finish_failed (self, members);
        //  memberlist's ticker: the clock ticks every interval; a tick
        //  that comes while a probe runs waits for its end, further ones
        //  are dropped.
        if (now_ms >= self->next_probe_ms) {
            int64_t interval = self->config.interval_ms > 0 ? self->config.interval_ms : 1;
            int64_t missed = (now_ms - self->next_probe_ms) / interval;
            self->next_probe_ms += (missed + 1) * interval;
            self->tick_pending = true;
        }
        if (self->tick_pending && !self->active) {
            self->tick_pending = false;
            s_start (self, members, now_ms);
        }
        next = self->next_probe_ms;
        if (self->active) {
            if (!self->indirect_sent && self->timeout_at_ms < next)
                next = self->timeout_at_ms;
            if (self->end_at_ms < next)
                next = self->end_at_ms;
        }
    }
    for (size_t i = 0; i < self->relay_count;) {
        relay_t *relay = &self->relays[i];
        if (relay->nack_at_ms <= now_ms) {
            if (relay->want_nack)
                self->hooks.nack (self->hooks.arg, &relay->requester, relay->requester_seq);
            self->relays[i] = self->relays[--self->relay_count];
            continue;
        }
        if (relay->nack_at_ms < next)
            next = relay->nack_at_ms;
        i++;
    }
    return next;
}

void
probe_on_ack (probe_t *self, const packet_msg_t *ack, int64_t now_ms)
{
    if (self->active && ack->seq == self->seq) {
        //  Any ack, direct or relayed, is a probe that worked (memberlist).
        self->active = false;
        probe_awareness_add (self, -1);
        bool direct = (ack->flags & PACKET_FLAG_HAS_COORD) && !self->indirect_sent;
        if (direct)
            self->hooks.acked (self->hooks.arg, self->target,
                               time_mono_us () - self->sent_us, &ack->coord);
        return;
    }
    for (size_t i = 0; i < self->relay_count; i++)
        if (self->relays[i].seq == ack->seq) {
            self->hooks.ack (self->hooks.arg, &self->relays[i].requester,
                             self->relays[i].requester_seq);
            self->relays[i] = self->relays[--self->relay_count];
            return;
        }
}

void
probe_on_nack (probe_t *self, uint32_t seq)
{
    if (self->active && seq == self->seq && self->nacks < self->expected_nacks)
        self->nacks++;
}

void
probe_on_indirect (probe_t *self, const packet_msg_t *request,
                   const packet_addr_t *requester, int64_t now_ms)
{
    if (self->relay_count == PROBE_RELAYS_MAX)
        return;
    relay_t *relay = &self->relays[self->relay_count++];
    relay->seq = ++self->next_seq;
    relay->requester = *requester;
    relay->requester_seq = request->seq;
    relay->want_nack = request->flags & PACKET_FLAG_WANT_NACK;
    relay->nack_at_ms = now_ms + self->config.timeout_ms;
    self->hooks.relay_ping (self->hooks.arg, &request->addr, request->node, relay->seq);
}
