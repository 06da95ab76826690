/*  membership: the SWIM/Lifeguard state machine of one pool: what alive,
    suspect, dead and force-leave messages and push-pull states do to the
    member table, refutation, suspicion expiry and reaping. No I/O: updates
    to disseminate go to the pool's broadcast queue and changes are told
    through hooks. Spec: docs/protocol/gossip.md, "Message rules",
    "Suspicion (Lifeguard)", "Leave, force-leave, reaping". */
#ifndef GOSSIPD_MEMBERSHIP_H
#define GOSSIPD_MEMBERSHIP_H

#include "broadcast.h"
#include "member.h"
#include "packet.h"

typedef enum {
    MEMBER_EVENT_JOIN,
    MEMBER_EVENT_UPDATE,
    MEMBER_EVENT_LEAVE,
    MEMBER_EVENT_FAILED,
    MEMBER_EVENT_REAP,
    MEMBER_EVENT_COUNT
} member_event_t;

//  "member.join", "member.update", ...
const char *member_event_name (member_event_t event);

typedef struct {
    //  A member changed (for REAP: just before it is removed).
    void (*event) (void *arg, member_event_t event, const member_t *member);
    //  Acceptance rules of the pool (merge delegate): 0, or -1 with the
    //  reason in err.
    int (*accept) (void *arg, const char *name, const uint8_t *tags,
                   size_t tags_len, char *err, size_t err_size);
    //  We had to refute a suspicion of ourselves (Lifeguard: awareness+1).
    void (*refuted) (void *arg);
    void *arg;
} membership_hooks_t;

typedef struct {
    const char *pool;           //  "lan" / "wan", for logs
    const char *name;           //  our member name
    packet_addr_t addr;         //  our advertised address
    const uint8_t *tags;        //  our encoded tags
    size_t tags_len;
    uint32_t incarnation;       //  starting incarnation
    int suspicion_mult;
    int64_t probe_interval_ms;
    int64_t reap_failed_ms;     //  reconnect_timeout
    int64_t reap_left_ms;       //  tombstone timeout (24 h)
    int64_t tombstone_ms;       //  how long a removed name blocks stale alives
    int64_t dead_window_ms;     //  gossip-to-the-dead time: failed and left
                                //  members still count in N this long
} membership_config_t;

typedef struct _membership_t membership_t;

//  Creates the table with ourselves alive and queues our alive message.
//  queue is borrowed. Caller owns return value.
membership_t *membership_new (const membership_config_t *config,
                              broadcast_queue_t *queue,
                              const membership_hooks_t *hooks, int64_t now_ms);
void membership_destroy (membership_t **self_p);

members_t *membership_members (membership_t *self);
member_t *membership_self (membership_t *self);
uint32_t membership_incarnation (membership_t *self);
//  Serf status of a member, "leaving" for ourselves while leaving.
int membership_status (membership_t *self, const member_t *member);
//  Members that are neither failed nor left (memberlist NumMembers).
size_t membership_alive_count (membership_t *self);
//  N of the protocol's formulas (memberlist's estimate): members alive or
//  suspect, and failed or left ones for dead_window_ms after they became
//  so (memberlist drops them from its list then); ourselves included.
size_t membership_estimate (membership_t *self, int64_t now_ms);
uint64_t membership_refutations (membership_t *self);
//  True when an urgent update (suspect, confirmation, dead, left,
//  force-leave, refuting alive) was queued since the last call; clears it.
//  The pool then relays at once (docs/protocol/gossip.md, "Dissemination").
bool membership_urgent_take (membership_t *self);

//  Message handlers (the message was decoded by the codec). Each returns 1
//  when it changed the table (and queued the update), 0 when ignored.
int membership_on_alive (membership_t *self, const packet_msg_t *msg, int64_t now_ms);
int membership_on_suspect (membership_t *self, uint32_t incarnation,
                           const char *node, const char *from, int64_t now_ms);
int membership_on_dead (membership_t *self, uint32_t incarnation,
                        const char *node, const char *from, int64_t now_ms);
//  force-leave: returns -1 when the node is unknown.
int membership_on_force_leave (membership_t *self, uint32_t incarnation,
                               const char *node, bool prune, int64_t now_ms);
//  A local force-leave (RPC): uses the member's own incarnation.
int membership_force_leave (membership_t *self, const char *node, bool prune,
                            int64_t now_ms);

//  Checks one member of a remote push-pull state against the acceptance
//  rules. Returns 0, or -1 with the reason in err.
int membership_check (membership_t *self, const packet_msg_t *state,
                      char *err, size_t err_size);
//  Merges one member of a remote push-pull state (memberlist mergeState).
void membership_merge (membership_t *self, const packet_msg_t *state, int64_t now_ms);

//  Our whole state as a push-pull body (push-pull header, one state per
//  member). Caller owns return value (malloc'd); NULL when out of memory.
uint8_t *membership_state_body (membership_t *self, bool join, size_t *len);
//  Applies the acceptance rules to every member of a remote push-pull body
//  (checked by the codec); with unique_ids (LAN), two members may not share
//  a node id. Returns 0, or -1 with the first reason in err.
int membership_check_remote (membership_t *self, const uint8_t *body, size_t len,
                             bool unique_ids, char *err, size_t err_size);
//  Merges every member of a remote push-pull body (checked).
void membership_merge_remote (membership_t *self, const uint8_t *body, size_t len,
                              int64_t now_ms);

//  Our probe of node failed: suspect it (from ourselves).
void membership_suspect_local (membership_t *self, const char *node, int64_t now_ms);

//  Expires suspicions (member declared failed), reaps old failed and left
//  members, forgets old tombstones. Returns the next monotonic time (ms)
//  it has work to do, INT64_MAX when none.
int64_t membership_tick (membership_t *self, int64_t now_ms);

//  Starts a graceful leave: queues a dead message about ourselves from
//  ourselves. Returns its broadcast id.
uint64_t membership_leave (membership_t *self);
bool membership_leaving (membership_t *self);
//  Ends the leave: we are left and ignore every update from now on.
void membership_set_left (membership_t *self, int64_t now_ms);
bool membership_left (membership_t *self);

#endif
