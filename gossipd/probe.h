/*  probe: SWIM failure detection of one pool with Lifeguard's local health
    (awareness): randomized round-robin probe order, direct ping, indirect
    pings through k members with nacks, relaying of others' indirect pings.
    It decides; the pool sends through the hooks.
    Spec: docs/protocol/gossip.md, "Probing (SWIM + Lifeguard)". */
#ifndef GOSSIPD_PROBE_H
#define GOSSIPD_PROBE_H

#include "member.h"
#include "packet.h"

#define PROBE_INDIRECT_CHECKS  3
#define PROBE_AWARENESS_MAX    8       //  multiplier 1..8, score 0..7
#define PROBE_RELAYS_MAX       256

typedef struct {
    //  Direct ping to a member we probe (the pool piggybacks a suspect
    //  about it first when it is suspect).
    void (*ping) (void *arg, const member_t *target, uint32_t seq);
    //  Ping on behalf of a requester (indirect probe relay).
    void (*relay_ping) (void *arg, const packet_addr_t *addr, const char *name,
                        uint32_t seq);
    void (*indirect) (void *arg, const member_t *via, const member_t *target,
                      uint32_t seq);
    void (*ack) (void *arg, const packet_addr_t *to, uint32_t seq);
    void (*nack) (void *arg, const packet_addr_t *to, uint32_t seq);
    //  No ack by the end of the probe period: suspect the target.
    void (*failed) (void *arg, const char *target);
    //  A direct ack with the target's coordinate arrived in time.
    void (*acked) (void *arg, const char *target, int64_t rtt_us,
                   const vivaldi_coord_t *coord);
    void *arg;
} probe_hooks_t;

typedef struct {
    const char *self_name;
    int64_t interval_ms;
    int64_t timeout_ms;
} probe_config_t;

typedef struct _probe_t probe_t;

//  Caller owns return value.
probe_t *probe_new (const probe_config_t *config, const probe_hooks_t *hooks);
void probe_destroy (probe_t **self_p);

//  Runs due work: the next probe, indirect probes, the end of the probe
//  period, relays' nacks. members is the pool's table. Returns the next
//  monotonic time (ms) something is due.
int64_t probe_tick (probe_t *self, members_t *members, int64_t now_ms);

//  An ack or nack came in.
void probe_on_ack (probe_t *self, const packet_msg_t *ack, int64_t now_ms);
void probe_on_nack (probe_t *self, uint32_t seq);
//  An indirect-ping came in from requester: relay it.
void probe_on_indirect (probe_t *self, const packet_msg_t *request,
                        const packet_addr_t *requester, int64_t now_ms);

//  A member joined: probe it at a random place of the current pass.
void probe_add (probe_t *self, const char *name);

//  The first probe is due at at_ms (the pool staggers it at random within
//  one interval, so that agents started together do not probe in step).
void probe_start_at (probe_t *self, int64_t at_ms);

//  Lifeguard local health score (0..7); the multiplier is score + 1.
int probe_awareness (probe_t *self);
void probe_awareness_add (probe_t *self, int delta);

//  Stops probing (leave); relays still answer.
void probe_stop (probe_t *self);

uint64_t probe_count (probe_t *self);
uint64_t probe_failures (probe_t *self);

#endif
