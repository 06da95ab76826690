/*  pool: one gossip pool on its UDP and TCP sockets. Spec:
    docs/protocol/gossip.md ("Probing", "Dissemination", "Push-pull",
    "Leave, force-leave, reaping", "Encryption and keyring", "Pool rules"). */
#include "pool.h"
#include "broadcast.h"
#include "crypto.h"
#include "joins.h"
#include "keyquery.h"
#include "log.h"
#include "probe.h"
#include "pushpull.h"
#include "relay.h"
#include "resolver.h"
#include "rules.h"
#include "timeutil.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

#define TOMBSTONE_TIMEOUT_MS   (24LL * 3600 * 1000)
#define KEY_QUERY_MULT         16
#define PUSH_PULL_SCALE_AT     32
#define JOIN_RESYNC_GOSSIPS    10       //  push-pull this soon after a join
#define UDP_RECV_BUFFER        (2 * 1024 * 1024)

struct _pool_t {
    pool_config_t config;
    char pool[8];
    char name[PACKET_NAME_MAX + 1];
    char datacenter[CONFIG_NAME_MAX];
    pool_hooks_t hooks;
    keyring_t *keyring;
    int udp_fd;
    int udp_item;

    broadcast_queue_t *queue;
    membership_t *membership;
    probe_t *probe;
    pushpull_t *pushpull;
    vivaldi_t *vivaldi;
    rules_t *rules;
    relay_t *relay;
    packet_msg_t *out;          //  the message being sent
    int64_t tcp_timeout_ms;

    int64_t next_gossip_ms;
    int64_t next_pushpull_ms;
    int64_t next_reconnect_ms;

    joins_t *joins;
    resolver_t *resolver;       //  started at the first host name joined
    int resolver_item;

    pool_done_fn *leave_fn;
    void *leave_arg;
    uint64_t leave_broadcast;
    int64_t leave_deadline_ms;
    bool leave_requested;

    keyquery_t *keyquery;

    uint64_t rx_packets;
    uint64_t tx_packets;
    uint64_t tx_errors;
    uint64_t drops[PACKET_DROP_COUNT];
    uint64_t misdirected;
    uint64_t events[MEMBER_EVENT_COUNT];
    uint8_t buffer[PACKET_UDP_MAX + 1];
};

//  --------------------------------------------------------------------
//  Sending

static void
s_sendto (pool_t *self, const packet_addr_t *to, const uint8_t *body, size_t len)
{
    uint8_t datagram[PACKET_UDP_MAX];
    int size = packet_wrap (self->keyring, body, len, datagram, sizeof datagram);
    struct sockaddr_storage sa;
    socklen_t sa_len;
    if (size < 0 || packet_addr_to_sockaddr (to, &sa, &sa_len) != 0) {
        self->tx_errors++;
        return;
    }
    if (sendto (self->udp_fd, datagram, (size_t) size, 0, (struct sockaddr *) &sa, sa_len) < 0)
        self->tx_errors++;
    else
        self->tx_packets++;
}

//  Sends messages (already encoded, may be empty) to addr, filling the rest
//  of the datagram with queued updates. Nothing is sent when both are empty.
static void
s_send (pool_t *self, const packet_addr_t *to, const uint8_t *msgs, size_t len)
{
    uint8_t body[PACKET_UDP_BODY_MAX];
    if (len > sizeof body)
        return;
    if (len > 0)
        memcpy (body, msgs, len);
    if (!membership_left (self->membership)) {
        int limit = broadcast_retransmit_limit (self->config.timers.retransmit_mult,
                                                membership_estimate (self->membership,
                                                                     time_mono_ms ()));
        len += broadcast_queue_fill (self->queue, body + len, sizeof body - len, limit);
    }
    if (len > 0)
        s_sendto (self, to, body, len);
}

static packet_msg_t *
s_msg_new (packet_type_t type)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    if (msg)
        msg->type = type;
    return msg;
}

//  The outgoing message, cleared for a new one of this type (one per pool:
//  nothing is sent while another message is being built).
static packet_msg_t *
s_out (pool_t *self, packet_type_t type, uint32_t seq, const char *node)
{
    packet_msg_t *msg = self->out;
    memset (msg, 0, sizeof *msg);
    msg->type = type;
    msg->seq = seq;
    if (node)
        snprintf (msg->node, sizeof msg->node, "%s", node);
    snprintf (msg->from, sizeof msg->from, "%s", self->name);
    return msg;
}

//  Appends the outgoing message to buf (len bytes used so far).
static size_t
s_out_encode (pool_t *self, uint8_t *buf, size_t len)
{
    int wrote = packet_msg_encode (self->out, buf + len, PACKET_UDP_BODY_MAX - len);
    return wrote < 0 ? len : len + (size_t) wrote;
}

//  Sends the outgoing message (with queued updates) to addr.
static void
s_send_out (pool_t *self, const packet_addr_t *to)
{
    uint8_t buf[PACKET_UDP_BODY_MAX];
    size_t len = s_out_encode (self, buf, 0);
    if (len > 0)
        s_send (self, to, buf, len);
}

//  --------------------------------------------------------------------
//  Probe hooks

static void
s_probe_ping (void *arg, const member_t *target, uint32_t seq)
{
    pool_t *self = (pool_t *) arg;
    uint8_t buf[PACKET_UDP_BODY_MAX];
    size_t len = 0;
    //  Lifeguard buddy system: a suspect member hears it first.
    if (target->state == MEMBER_SUSPECT) {
        s_out (self, PACKET_SUSPECT, 0, target->name)->incarnation = target->incarnation;
        len = s_out_encode (self, buf, len);
    }
    s_out (self, PACKET_PING, seq, target->name);
    len = s_out_encode (self, buf, len);
    log_debug ("probe pool=%s node=%s seq=%u", self->pool, target->name, seq);
    s_send (self, &target->addr, buf, len);
}

static void
s_probe_relay_ping (void *arg, const packet_addr_t *addr, const char *name, uint32_t seq)
{
    pool_t *self = (pool_t *) arg;
    s_out (self, PACKET_PING, seq, name);
    s_send_out (self, addr);
}

static void
s_probe_indirect (void *arg, const member_t *via, const member_t *target, uint32_t seq)
{
    pool_t *self = (pool_t *) arg;
    packet_msg_t *msg = s_out (self, PACKET_INDIRECT_PING, seq, target->name);
    msg->flags = PACKET_FLAG_WANT_NACK;
    msg->addr = target->addr;
    s_send_out (self, &via->addr);
}

static void
s_send_ack (pool_t *self, const packet_addr_t *to, uint32_t seq, bool with_coord)
{
    packet_msg_t *msg = s_out (self, PACKET_ACK, seq, NULL);
    if (with_coord) {
        msg->flags = PACKET_FLAG_HAS_COORD;
        msg->coord = *vivaldi_coord (self->vivaldi);
    }
    s_send_out (self, to);
}

static void
s_probe_ack (void *arg, const packet_addr_t *to, uint32_t seq)
{
    s_send_ack ((pool_t *) arg, to, seq, false);
}

static void
s_probe_nack (void *arg, const packet_addr_t *to, uint32_t seq)
{
    pool_t *self = (pool_t *) arg;
    s_out (self, PACKET_NACK, seq, NULL);
    s_send_out (self, to);
}

static void
s_probe_failed (void *arg, const char *target)
{
    pool_t *self = (pool_t *) arg;
    log_info ("probe failed, no ack pool=%s node=%s health=%d", self->pool, target,
              probe_awareness (self->probe));
    membership_suspect_local (self->membership, target, time_mono_ms ());
}

static void
s_probe_acked (void *arg, const char *target, int64_t rtt_us, const vivaldi_coord_t *coord)
{
    pool_t *self = (pool_t *) arg;
    member_t *member = members_lookup (membership_members (self->membership), target);
    if (!member)
        return;
    if (vivaldi_update (self->vivaldi, target, coord, (double) rtt_us / 1e6) == 0) {
        member->coord = *coord;
        member->has_coord = true;
    }
}

//  --------------------------------------------------------------------
//  Membership hooks and acceptance rules (Consul's merge delegates)

static int
s_accept (void *arg, const char *name, const uint8_t *tags, size_t tags_len,
          char *err, size_t err_size)
{
    return rules_accept (((pool_t *) arg)->rules, name, tags, tags_len, err, err_size);
}

static void
s_member_event (void *arg, member_event_t event, const member_t *member)
{
    pool_t *self = (pool_t *) arg;
    self->events[event]++;
    if (event == MEMBER_EVENT_JOIN)
        probe_add (self->probe, member->name);
    if (event == MEMBER_EVENT_REAP)
        vivaldi_forget (self->vivaldi, member->name);
    if (self->hooks.event)
        self->hooks.event (self->hooks.arg, self, event, member);
}

static void
s_refuted (void *arg)
{
    probe_awareness_add (((pool_t *) arg)->probe, 1);
}

//  --------------------------------------------------------------------
//  Push-pull

static uint8_t *
s_error_body (pool_t *self, const char *text, size_t *len)
{
    uint8_t *body = (uint8_t *) malloc (PACKET_TEXT_MAX + 8);
    if (!body)
        return NULL;
    snprintf (s_out (self, PACKET_ERROR, 0, NULL)->text, PACKET_TEXT_MAX + 1, "%s", text);
    int wrote = packet_msg_encode (self->out, body, PACKET_TEXT_MAX + 8);
    *len = wrote < 0 ? 0 : (size_t) wrote;
    return body;
}

static int
s_serve (void *arg, const uint8_t *body, size_t len, const packet_addr_t *peer,
         uint8_t **reply, size_t *reply_len)
{
    pool_t *self = (pool_t *) arg;
    char err[512];
    char from[64];
    packet_addr_format (peer, from, sizeof from);
    if (membership_left (self->membership) || membership_leaving (self->membership)) {
        *reply = s_error_body (self, "Node is leaving or has left the cluster", reply_len);
        return 0;
    }
    if (membership_check_remote (self->membership, body, len, !self->config.wan, err,
                                 sizeof err) != 0) {
        log_warn ("refused remote state pool=%s from=%s reason=\"%s\"", self->pool, from, err);
        *reply = s_error_body (self, err, reply_len);
        return 0;
    }
    *reply = membership_state_body (self->membership, false, reply_len);
    if (!*reply)
        return -1;
    membership_merge_remote (self->membership, body, len, time_mono_ms ());
    log_debug ("push-pull served pool=%s from=%s", self->pool, from);
    return 0;
}

static void
s_exchange_done (void *arg, uint64_t cookie, const packet_addr_t *peer, int status,
                 const uint8_t *body, size_t len, const char *error)
{
    pool_t *self = (pool_t *) arg;
    char reason[PACKET_TEXT_MAX + 64] = "";
    if (status == 0) {
        packet_msg_t *msg = s_msg_new (PACKET_ERROR);
        packet_drop_t drop;
        if (msg && packet_msg_decode (body, len, PACKET_TCP, msg, &drop) > 0
            && msg->type == PACKET_ERROR)
            snprintf (reason, sizeof reason, "%s", msg->text);
        else if (membership_check_remote (self->membership, body, len, !self->config.wan,
                                          reason, sizeof reason) == 0)
            membership_merge_remote (self->membership, body, len, time_mono_ms ());
        free (msg);
    }
    else
        snprintf (reason, sizeof reason, "%s", error);
    const char *joined = joins_end (self->joins, cookie, reason);
    //  Joined: one exchange soon catches up with whoever joined right after.
    if (joined && !*reason) {
        int64_t soon = time_mono_ms ()
                     + JOIN_RESYNC_GOSSIPS * self->config.timers.gossip_interval_ms;
        if (soon < self->next_pushpull_ms)
            self->next_pushpull_ms = soon;
    }
    if (*reason && joined)
        log_warn ("join failed pool=%s addr=%s reason=\"%s\"", self->pool, joined, reason);
    else if (*reason) {
        char addr[64];
        packet_addr_format (peer, addr, sizeof addr);
        log_debug ("push-pull failed pool=%s addr=%s reason=\"%s\"", self->pool, addr, reason);
    }
}

static void
s_exchange_dropped (void *arg, packet_drop_t drop, const packet_addr_t *peer)
{
    pool_t *self = (pool_t *) arg;
    self->drops[drop]++;
    char from[64];
    packet_addr_format (peer, from, sizeof from);
    log_debug ("dropped tcp frame pool=%s from=%s reason=%s", self->pool, from,
               packet_drop_name (drop));
}

//  Starts one exchange with addr; cookie names the join (0: none).
static int
s_exchange (pool_t *self, const packet_addr_t *addr, bool join, uint64_t cookie)
{
    size_t len = 0;
    uint8_t *body = membership_state_body (self->membership, join, &len);
    if (!body)
        return -1;
    int rc = pushpull_connect (self->pushpull, addr, body, len, cookie);
    free (body);
    return rc;
}

//  --------------------------------------------------------------------
//  Cluster-wide keyring operations (serf's internal key queries)

static void
s_queue_key_op (pool_t *self, const packet_msg_t *msg)
{
    uint8_t buf[PACKET_UDP_BODY_MAX];
    char key[32];
    snprintf (key, sizeof key, "keyop:%016llx", (unsigned long long) msg->id);
    int len = packet_msg_encode (msg, buf, sizeof buf);
    if (len > 0)
        broadcast_queue_push (self->queue, key, buf, (size_t) len);
}

//  Applies an operation to our keyring; the reply describes the outcome.
static void
s_key_apply (pool_t *self, int op, const uint8_t *key, size_t key_len, uint64_t id,
             packet_msg_t *reply)
{
    if (keyquery_apply (self->keyring, op, key, key_len, id, self->name, reply) == 1
        && self->hooks.keyring_changed)
        self->hooks.keyring_changed (self->hooks.arg, self);
}

//  Sends a key-op straight to every alive member that has not answered:
//  an operation must reach every node, which transmit-limited gossip alone
//  does not promise (and push-pull does not repair).
static void
s_key_op_direct (void *arg, uint64_t id, const uint8_t *msg, size_t len)
{
    pool_t *self = (pool_t *) arg;
    members_t *members = membership_members (self->membership);
    member_t *me = membership_self (self->membership);
    for (size_t i = 0; i < members_size (members); i++) {
        member_t *member = members_at (members, i);
        if (member != me && (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT)
            && !keyquery_responded (self->keyquery, id, member->name))
            s_send (self, &member->addr, msg, len);
    }
}

void
pool_key_op (pool_t *self, int op, const uint8_t *key, size_t key_len, pool_key_fn *fn,
             void *arg)
{
    packet_msg_t *msg = s_msg_new (PACKET_KEY_OP);
    packet_msg_t *reply = s_msg_new (PACKET_KEY_REPLY);
    uint8_t buf[PACKET_UDP_BODY_MAX];
    int len = -1;
    uint64_t id = 0;
    while (id == 0)
        crypto_random (&id, sizeof id);
    if (msg) {
        msg->id = id;
        msg->op = (uint8_t) op;
        msg->key_len = op == PACKET_OP_LIST ? 0 : key_len;
        memcpy (msg->key, key, msg->key_len);
        msg->addr = self->config.advertise;
        snprintf (msg->from, sizeof msg->from, "%s", self->name);
        len = packet_msg_encode (msg, buf, sizeof buf);
    }
    free (msg);
    int64_t now = time_mono_ms ();
    size_t n = membership_estimate (self->membership, now);
    int64_t deadline = now + self->config.timers.gossip_interval_ms * KEY_QUERY_MULT
                                 * (int64_t) ceil (log10 ((double) n + 1.0));
    if (!reply || len < 0
        || keyquery_start (self->keyquery, id, membership_alive_count (self->membership), now,
                           deadline, buf, (size_t) len, fn, arg) != 0) {
        free (reply);
        cJSON *result = NULL;
        fn (arg, &result);
        return;
    }
    keyquery_seen (self->keyquery, id);
    //  Applied here first: for "use", the key-op then goes out sealed with
    //  the new primary, which every node has installed.
    s_key_apply (self, op, key, key_len, id, reply);
    keyquery_reply (self->keyquery, reply);
    free (reply);
    char queue_key[32];
    snprintf (queue_key, sizeof queue_key, "keyop:%016llx", (unsigned long long) id);
    broadcast_queue_push (self->queue, queue_key, buf, (size_t) len);
    s_key_op_direct (self, id, buf, (size_t) len);
}

static void
s_on_key_op (pool_t *self, const packet_msg_t *msg)
{
    if (membership_leaving (self->membership) || keyquery_seen (self->keyquery, msg->id))
        return;
    s_queue_key_op (self, msg);
    packet_msg_t *reply = s_msg_new (PACKET_KEY_REPLY);
    if (!reply)
        return;
    s_key_apply (self, msg->op, msg->key, msg->key_len, msg->id, reply);
    uint8_t buf[PACKET_UDP_BODY_MAX];
    int len = packet_msg_encode (reply, buf, sizeof buf);
    free (reply);
    if (len > 0)
        s_send (self, &msg->addr, buf, (size_t) len);
}

//  --------------------------------------------------------------------
//  Receiving

static void
s_dispatch (pool_t *self, const packet_msg_t *msg, const packet_addr_t *from, int64_t now)
{
    switch (msg->type) {
        case PACKET_PING:
            if (strcmp (msg->node, self->name) != 0) {
                self->misdirected++;
                log_debug ("ping for another node pool=%s target=%s", self->pool, msg->node);
                break;
            }
            s_send_ack (self, from, msg->seq, true);
            break;
        case PACKET_INDIRECT_PING:
            if (!membership_left (self->membership))
                probe_on_indirect (self->probe, msg, from, now);
            break;
        case PACKET_ACK:
            probe_on_ack (self->probe, msg, now);
            break;
        case PACKET_NACK:
            probe_on_nack (self->probe, msg->seq);
            break;
        case PACKET_SUSPECT:
            membership_on_suspect (self->membership, msg->incarnation, msg->node, msg->from, now);
            break;
        case PACKET_ALIVE:
            membership_on_alive (self->membership, msg, now);
            break;
        case PACKET_DEAD:
            membership_on_dead (self->membership, msg->incarnation, msg->node, msg->from, now);
            break;
        case PACKET_FORCE_LEAVE:
            membership_on_force_leave (self->membership, msg->incarnation, msg->node,
                                       msg->flags & PACKET_FLAG_PRUNE, now);
            break;
        case PACKET_KEY_OP:
            s_on_key_op (self, msg);
            break;
        case PACKET_KEY_REPLY:
            keyquery_reply (self->keyquery, msg);
            break;
        default:
            break;
    }
}

static void
s_drop (pool_t *self, packet_drop_t drop, const packet_addr_t *from)
{
    self->drops[drop]++;
    if (log_enabled (LOG_LEVEL_DEBUG)) {
        char text[64];
        packet_addr_format (from, text, sizeof text);
        log_debug ("dropped packet pool=%s from=%s reason=%s", self->pool, text,
                   packet_drop_name (drop));
    }
}

static void
s_udp_read (pool_t *self)
{
    packet_msg_t *msg = NULL;
    uint8_t body[PACKET_UDP_MAX];
    //  A bounded burst keeps the loop responsive; the fd stays readable.
    for (int burst = 0; burst < 256; burst++) {
        struct sockaddr_storage sa;
        socklen_t sa_len = sizeof sa;
        ssize_t got = recvfrom (self->udp_fd, self->buffer, sizeof self->buffer, MSG_TRUNC,
                                (struct sockaddr *) &sa, &sa_len);
        if (got < 0)
            break;
        self->rx_packets++;
        packet_addr_t from;
        if (packet_addr_from_sockaddr ((struct sockaddr *) &sa, sa_len, &from) != 0)
            continue;
        packet_drop_t drop = PACKET_DROP_HEADER;
        int len = packet_unwrap (self->keyring, self->buffer, (size_t) got, PACKET_UDP_MAX,
                                 body, sizeof body, &drop);
        if (len > PACKET_UDP_BODY_MAX) {
            drop = PACKET_DROP_OVERSIZE;
            len = -1;
        }
        if (len < 0 || packet_body_check (body, (size_t) len, &drop) < 0) {
            s_drop (self, drop, &from);
            continue;
        }
        if (!msg && !(msg = s_msg_new (PACKET_PING)))
            break;
        int64_t now = time_mono_ms ();
        packet_reader_t reader;
        packet_reader_init (&reader, body, (size_t) len, PACKET_UDP);
        while (packet_reader_next (&reader, msg, &drop) == 1)
            s_dispatch (self, msg, &from, now);
    }
    free (msg);
}

//  --------------------------------------------------------------------
//  Timers

typedef struct {
    const member_t *me;
    int64_t now_ms;
    int64_t dead_window_ms;
} gossip_filter_t;

static bool
s_gossip_filter (void *arg, const member_t *member)
{
    gossip_filter_t *filter = (gossip_filter_t *) arg;
    if (member == filter->me)
        return false;
    if (member->state == MEMBER_ALIVE || member->state == MEMBER_SUSPECT)
        return true;
    //  Gossip to the dead for a while, so they learn it and can refute.
    return filter->now_ms - member->state_at_ms < filter->dead_window_ms;
}

static void
s_gossip (pool_t *self, int64_t now_ms)
{
    if (membership_left (self->membership) || broadcast_queue_size (self->queue) == 0)
        return;
    member_t *targets[64];
    size_t k = (size_t) self->config.timers.gossip_nodes;
    if (k > 64)
        k = 64;
    gossip_filter_t filter = { membership_self (self->membership), now_ms,
                               self->config.timers.push_pull_interval_ms };
    size_t count = members_random (membership_members (self->membership), targets, k,
                                   s_gossip_filter, &filter);
    for (size_t i = 0; i < count && broadcast_queue_size (self->queue) > 0; i++)
        s_send (self, &targets[i]->addr, NULL, 0);
}

static bool
s_state_filter (void *arg, const member_t *member)
{
    const member_t *me = ((const member_t **) arg)[0];
    member_state_t wanted = (member_state_t) (uintptr_t) ((const void **) arg)[1];
    return member != me && member->state == wanted;
}

static member_t *
s_random_in_state (pool_t *self, member_state_t state)
{
    const void *filter[2] = { membership_self (self->membership), (void *) (uintptr_t) state };
    member_t *picked = NULL;
    members_random (membership_members (self->membership), &picked, 1, s_state_filter,
                    (void *) filter);
    return picked;
}

//  memberlist pushPullScale: slower push-pull in large pools.
static int64_t
s_pushpull_interval (pool_t *self)
{
    size_t n = membership_estimate (self->membership, time_mono_ms ());
    int64_t interval = self->config.timers.push_pull_interval_ms;
    if (n <= PUSH_PULL_SCALE_AT)
        return interval;
    double mult = ceil (log2 ((double) n) - log2 ((double) PUSH_PULL_SCALE_AT)) + 1.0;
    return (int64_t) (mult * (double) interval);
}

static int64_t
s_leave_tick (pool_t *self, int64_t now_ms)
{
    if (!self->leave_requested)
        return INT64_MAX;
    bool sent = !broadcast_queue_pending (self->queue, self->leave_broadcast);
    bool alone = membership_alive_count (self->membership) <= 1;
    if (!membership_left (self->membership) && !sent && !alone && now_ms < self->leave_deadline_ms)
        return self->leave_deadline_ms;
    if (!membership_left (self->membership))
        membership_set_left (self->membership, now_ms);
    self->leave_requested = false;
    if (self->leave_fn) {
        pool_done_fn *fn = self->leave_fn;
        self->leave_fn = NULL;
        fn (self->leave_arg);
    }
    return INT64_MAX;
}

static int64_t
s_min (int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int64_t
pool_tick (pool_t *self, int64_t now_ms)
{
    members_t *members = membership_members (self->membership);
    bool active = !membership_leaving (self->membership) && !membership_left (self->membership);
    int64_t next = probe_tick (self->probe, members, now_ms);
    next = s_min (next, membership_tick (self->membership, now_ms));
    if (membership_urgent_take (self->membership))
        relay_request (self->relay);
    if (now_ms >= self->next_gossip_ms) {
        s_gossip (self, now_ms);
        relay_periodic (self->relay, now_ms);
        self->next_gossip_ms = now_ms + self->config.timers.gossip_interval_ms;
    }
    next = s_min (next, self->next_gossip_ms);
    if (active && now_ms >= self->next_pushpull_ms) {
        member_t *peer = s_random_in_state (self, MEMBER_ALIVE);
        if (peer)
            s_exchange (self, &peer->addr, false, 0);
        self->next_pushpull_ms = now_ms + s_pushpull_interval (self);
    }
    if (active)
        next = s_min (next, self->next_pushpull_ms);
    if (active && now_ms >= self->next_reconnect_ms) {
        member_t *peer = s_random_in_state (self, MEMBER_DEAD);
        if (peer)
            s_exchange (self, &peer->addr, true, 0);
        self->next_reconnect_ms = now_ms + self->config.timers.push_pull_interval_ms;
    }
    if (active)
        next = s_min (next, self->next_reconnect_ms);
    next = s_min (next, pushpull_tick (self->pushpull, now_ms));
    joins_report (self->joins);
    next = s_min (next, s_leave_tick (self, now_ms));
    next = s_min (next, keyquery_tick (self->keyquery, now_ms, s_key_op_direct, self));
    if (joins_due (self->joins))
        next = now_ms;
    //  Last, so that it also relays what the steps above queued.
    if (membership_urgent_take (self->membership))
        relay_request (self->relay);
    if (relay_take (self->relay, now_ms))
        s_gossip (self, now_ms);
    return s_min (next, relay_next (self->relay));
}

//  --------------------------------------------------------------------
//  Commands

void
pool_join (pool_t *self, const char *const *addresses, size_t count, pool_join_fn *fn,
           void *arg)
{
    uint64_t id = joins_start (self->joins, addresses, count, fn, arg);
    if (id == 0)
        return;
    count = joins_count (self->joins, id);
    log_info ("joining pool=%s addresses=%zu", self->pool, count);
    bool left = membership_leaving (self->membership) || membership_left (self->membership);
    for (size_t i = 0; i < count; i++) {
        uint64_t cookie = joins_cookie (id, i);
        packet_addr_t addr;
        char host[RESOLVER_HOST_MAX + 1];
        uint16_t port;
        if (left)
            joins_end (self->joins, cookie, "this node has left the cluster");
        else if (packet_addr_parse (addresses[i], self->config.advertise.port, &addr) == 0) {
            if (s_exchange (self, &addr, true, cookie) != 0)
                joins_end (self->joins, cookie, "cannot start the exchange");
        }
        else if (resolver_split (addresses[i], self->config.advertise.port, host, sizeof host,
                                 &port) != 0)
            joins_end (self->joins, cookie,
                       "address must be ip, ip:port, [ipv6]:port, host or host:port");
        else if (!self->resolver
                 && !(self->resolver = resolver_new (self->config.bind.family)))
            joins_end (self->joins, cookie, "cannot start the resolver");
        else if (resolver_lookup (self->resolver, host, port, cookie) != 0)
            joins_end (self->joins, cookie, "out of memory");
    }
}

//  Joins the addresses the resolver found.
static void
s_resolved (pool_t *self)
{
    resolver_result_t result;
    while (resolver_take (self->resolver, &result)) {
        if (!result.ok)
            joins_end (self->joins, result.cookie, result.error);
        else if (membership_leaving (self->membership) || membership_left (self->membership))
            joins_end (self->joins, result.cookie, "this node has left the cluster");
        else if (s_exchange (self, &result.addr, true, result.cookie) != 0)
            joins_end (self->joins, result.cookie, "cannot start the exchange");
    }
}

void
pool_leave (pool_t *self, pool_done_fn *fn, void *arg)
{
    self->leave_fn = fn;
    self->leave_arg = arg;
    if (!self->leave_requested && !membership_left (self->membership)) {
        self->leave_broadcast = membership_leave (self->membership);
        probe_stop (self->probe);
        int64_t now = time_mono_ms ();
        self->leave_deadline_ms = now + 10 * self->config.timers.gossip_interval_ms;
        self->next_gossip_ms = now;     //  spread the news at once
    }
    self->leave_requested = true;
}

int
pool_force_leave (pool_t *self, const char *node, bool prune)
{
    int rc = membership_force_leave (self->membership, node, prune, time_mono_ms ());
    return rc < 0 ? -1 : 0;
}

cJSON *
pool_stats_json (pool_t *self)
{
    members_t *members = membership_members (self->membership);
    size_t by_state[5] = { 0 };
    for (size_t i = 0; i < members_size (members); i++)
        by_state[members_at (members, i)->state]++;
    cJSON *stats = cJSON_CreateObject ();
    cJSON_AddNumberToObject (stats, "Members", (double) members_size (members));
    cJSON_AddNumberToObject (stats, "Alive", (double) by_state[MEMBER_ALIVE]);
    cJSON_AddNumberToObject (stats, "Suspect", (double) by_state[MEMBER_SUSPECT]);
    cJSON_AddNumberToObject (stats, "Failed", (double) by_state[MEMBER_DEAD]);
    cJSON_AddNumberToObject (stats, "Left", (double) by_state[MEMBER_LEFT]);
    cJSON_AddNumberToObject (stats, "Incarnation", membership_incarnation (self->membership));
    cJSON_AddNumberToObject (stats, "Health", probe_awareness (self->probe));
    cJSON_AddNumberToObject (stats, "Refutations",
                             (double) membership_refutations (self->membership));
    cJSON_AddNumberToObject (stats, "Probes", (double) probe_count (self->probe));
    cJSON_AddNumberToObject (stats, "ProbeFailures", (double) probe_failures (self->probe));
    cJSON_AddNumberToObject (stats, "QueueDepth", (double) broadcast_queue_size (self->queue));
    cJSON_AddNumberToObject (stats, "Relays", (double) relay_rounds (self->relay));
    cJSON_AddBoolToObject (stats, "Encrypted", keyring_size (self->keyring) > 0);
    cJSON_AddNumberToObject (stats, "Keys", (double) keyring_size (self->keyring));
    cJSON_AddStringToObject (stats, "State", membership_left (self->membership) ? "left"
                             : membership_leaving (self->membership) ? "leaving" : "alive");
    cJSON *events = cJSON_AddObjectToObject (stats, "Events");
    for (int i = 0; i < MEMBER_EVENT_COUNT; i++)
        cJSON_AddNumberToObject (events, member_event_name ((member_event_t) i),
                                 (double) self->events[i]);
    cJSON *packets = cJSON_AddObjectToObject (stats, "Packets");
    cJSON_AddNumberToObject (packets, "Received", (double) self->rx_packets);
    cJSON_AddNumberToObject (packets, "Sent", (double) self->tx_packets);
    cJSON_AddNumberToObject (packets, "SendErrors", (double) self->tx_errors);
    cJSON_AddNumberToObject (packets, "Misdirected", (double) self->misdirected);
    cJSON *dropped = cJSON_AddObjectToObject (stats, "Dropped");
    uint64_t total = 0;
    for (int i = 0; i < PACKET_DROP_COUNT; i++) {
        cJSON_AddNumberToObject (dropped, packet_drop_name ((packet_drop_t) i),
                                 (double) self->drops[i]);
        total += self->drops[i];
    }
    cJSON_AddNumberToObject (dropped, "total", (double) total);
    return stats;
}

//  --------------------------------------------------------------------
//  Lifecycle and polling

pool_t *
pool_new (const pool_config_t *config, keyring_t *keyring, const pool_hooks_t *hooks)
{
    pool_t *self = (pool_t *) calloc (1, sizeof (pool_t));
    if (!self)
        return NULL;
    self->config = *config;
    snprintf (self->pool, sizeof self->pool, "%s", config->pool);
    snprintf (self->name, sizeof self->name, "%s", config->name);
    snprintf (self->datacenter, sizeof self->datacenter, "%s", config->datacenter);
    self->config.pool = self->pool;
    self->config.name = self->name;
    self->config.datacenter = self->datacenter;
    self->config.node_id = NULL;        //  held by the rules
    self->config.tags = NULL;
    if (hooks)
        self->hooks = *hooks;
    self->keyring = keyring;
    self->udp_fd = -1;

    uint8_t tags[PACKET_TAGS_MAX];
    int tags_len = packet_tags_encode (config->tags, config->tag_count, tags, sizeof tags);
    if (tags_len < 0) {
        log_error ("member tags do not fit 512 bytes pool=%s", self->pool);
        pool_destroy (&self);
        return NULL;
    }
    char bind_text[64];
    packet_addr_format (&config->bind, bind_text, sizeof bind_text);
    struct sockaddr_storage sa;
    socklen_t sa_len;
    packet_addr_to_sockaddr (&config->bind, &sa, &sa_len);
    self->udp_fd = socket (sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->udp_fd < 0 || bind (self->udp_fd, (struct sockaddr *) &sa, sa_len) != 0) {
        log_error ("cannot bind udp pool=%s addr=%s error=\"%s\"", self->pool, bind_text,
                   strerror (errno));
        pool_destroy (&self);
        return NULL;
    }
    int rcvbuf = UDP_RECV_BUFFER;
    setsockopt (self->udp_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

    int64_t now = time_mono_ms ();
    self->tcp_timeout_ms = 20 * config->timers.probe_timeout_ms;
    if (self->tcp_timeout_ms < 1000)
        self->tcp_timeout_ms = 1000;
    if (self->tcp_timeout_ms > 30000)
        self->tcp_timeout_ms = 30000;
    self->queue = broadcast_queue_new (BROADCAST_QUEUE_MAX);
    self->out = s_msg_new (PACKET_PING);
    self->keyquery = keyquery_new (config->wan, self->datacenter);
    self->vivaldi = vivaldi_new ();
    self->rules = rules_new (config->wan, self->name, config->node_id, self->datacenter);
    self->relay = relay_new (relay_gap_ms (config->timers.gossip_interval_ms));
    self->joins = joins_new (self->pool);
    membership_config_t membership_config = {
        .pool = self->pool,
        .name = self->name,
        .addr = config->advertise,
        .tags = tags,
        .tags_len = (size_t) tags_len,
        .incarnation = (uint32_t) (time_wall_ms () / 1000),
        .suspicion_mult = config->timers.suspicion_mult,
        .probe_interval_ms = config->timers.probe_interval_ms,
        .reap_failed_ms = config->reconnect_timeout_ms,
        .reap_left_ms = TOMBSTONE_TIMEOUT_MS,
        .tombstone_ms = 2 * config->timers.push_pull_interval_ms,
        .dead_window_ms = config->timers.push_pull_interval_ms
    };
    membership_hooks_t membership_hooks = { s_member_event, s_accept, s_refuted, self };
    probe_config_t probe_config = { self->name, config->timers.probe_interval_ms,
                                    config->timers.probe_timeout_ms };
    probe_hooks_t probe_hooks = { s_probe_ping, s_probe_relay_ping, s_probe_indirect,
                                  s_probe_ack, s_probe_nack, s_probe_failed, s_probe_acked,
                                  self };
    pushpull_hooks_t pushpull_hooks = { s_serve, s_exchange_done, s_exchange_dropped, self };
    if (self->queue && self->vivaldi)
        self->membership = membership_new (&membership_config, self->queue,
                                           &membership_hooks, now);
    self->probe = probe_new (&probe_config, &probe_hooks);
    self->pushpull = pushpull_new (keyring, self->tcp_timeout_ms, &pushpull_hooks);
    if (!self->membership || !self->probe || !self->pushpull || !self->keyquery || !self->out
        || !self->rules || !self->relay || !self->joins
        || pushpull_listen (self->pushpull, &config->bind) != 0) {
        pool_destroy (&self);
        return NULL;
    }
    //  Random phases (memberlist's stagger): agents started together
    //  neither probe nor gossip in step.
    probe_start_at (self->probe, now + (int64_t) crypto_random_below (
                                     (uint32_t) config->timers.probe_interval_ms));
    self->next_gossip_ms = now + (int64_t) crypto_random_below (
                               (uint32_t) config->timers.gossip_interval_ms);
    //  Stagger the first push-pull so a cluster started at once spreads out.
    self->next_pushpull_ms = now + (int64_t) crypto_random_below (
                                 (uint32_t) config->timers.push_pull_interval_ms + 1);
    self->next_reconnect_ms = now + config->timers.push_pull_interval_ms;
    char advertise[64];
    packet_addr_format (&config->advertise, advertise, sizeof advertise);
    log_info ("pool started pool=%s name=%s bind=%s advertise=%s encrypted=%s", self->pool,
              self->name, bind_text, advertise, keyring_size (keyring) ? "true" : "false");
    return self;
}

void
pool_destroy (pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pool_t *self = *self_p;
    joins_destroy (&self->joins);
    resolver_destroy (&self->resolver);
    keyquery_destroy (&self->keyquery);
    pushpull_destroy (&self->pushpull);
    probe_destroy (&self->probe);
    membership_destroy (&self->membership);
    broadcast_queue_destroy (&self->queue);
    vivaldi_destroy (&self->vivaldi);
    rules_destroy (&self->rules);
    relay_destroy (&self->relay);
    free (self->out);
    if (self->udp_fd >= 0)
        close (self->udp_fd);
    free (self);
    *self_p = NULL;
}

const char *
pool_name (pool_t *self)
{
    return self->pool;
}

bool
pool_is_wan (pool_t *self)
{
    return self->config.wan;
}

const char *
pool_datacenter (pool_t *self)
{
    return self->datacenter;
}

membership_t *
pool_membership (pool_t *self)
{
    return self->membership;
}

vivaldi_t *
pool_vivaldi (pool_t *self)
{
    return self->vivaldi;
}

keyring_t *
pool_keyring (pool_t *self)
{
    return self->keyring;
}

uint16_t
pool_port (pool_t *self)
{
    return self->config.advertise.port;
}

size_t
pool_poll_size (pool_t *self)
{
    return 3 + pushpull_active (self->pushpull);
}

size_t
pool_poll_fill (pool_t *self, zmq_pollitem_t *items, size_t max)
{
    //  [udp] [resolver] [push-pull...]
    size_t count = 0;
    self->udp_item = self->resolver_item = -1;
    if (count < max) {
        items[count] = (zmq_pollitem_t) { NULL, self->udp_fd, ZMQ_POLLIN, 0 };
        self->udp_item = (int) count++;
    }
    if (self->resolver && count < max) {
        items[count] = (zmq_pollitem_t) { NULL, resolver_fd (self->resolver), ZMQ_POLLIN, 0 };
        self->resolver_item = (int) count++;
    }
    return count + pushpull_poll_fill (self->pushpull, items + count, max - count);
}

void
pool_process (pool_t *self, zmq_pollitem_t *items, size_t count)
{
    size_t used = 0;
    if (self->udp_item >= 0 && (size_t) self->udp_item < count) {
        used++;
        if (items[self->udp_item].revents & ZMQ_POLLIN)
            s_udp_read (self);
    }
    if (self->resolver_item >= 0 && (size_t) self->resolver_item < count) {
        used++;
        if (items[self->resolver_item].revents & ZMQ_POLLIN)
            s_resolved (self);
    }
    if (count > used)
        pushpull_process (self->pushpull, items + used, count - used);
}
