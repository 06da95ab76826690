/*  rpc_client: DEALER side of the local RPC protocol
    (docs/protocol/local-rpc.md): request ids, deadlines, late replies
    dropped. Pending requests live in an open-addressing table keyed by id;
    deadlines in a binary min-heap with lazy deletion, so thousands of parked
    blocking queries cost O(log n) per operation. */
#include "rpc_client.h"
#include "deadline_heap.h"
#include "log.h"
#include "rundir.h"
#include "timeutil.h"

typedef struct {
    uint64_t id;            //  0 = empty slot
    int64_t deadline;
    int64_t sent_ms;
    rpc_client_fn *fn;
    void *arg;
    zmsg_t *unsent;         //  held: not accepted by the socket yet
    int64_t hold_until;
} pending_t;

#define HOLD_RETRY_MS 10

struct _rpc_client_t {
    zsock_t *dealer;
    bool raw_replies;           //  envelope_decode_raw
    uint64_t next_id;
    pending_t *slots;
    size_t capacity;        //  power of two
    size_t count;
    deadline_heap_t *deadlines;
    int64_t hold_ms;
    size_t held;            //  pending entries with unsent != NULL
};

static size_t
s_hash (uint64_t id, size_t capacity)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t) id & (capacity - 1);
}

static pending_t *
s_find (rpc_client_t *self, uint64_t id)
{
    size_t slot = s_hash (id, self->capacity);
    while (self->slots[slot].id) {
        if (self->slots[slot].id == id)
            return &self->slots[slot];
        slot = (slot + 1) & (self->capacity - 1);
    }
    return NULL;
}

static void s_insert_slot (rpc_client_t *self, const pending_t *entry);

static int
s_grow (rpc_client_t *self)
{
    size_t old_capacity = self->capacity;
    pending_t *old = self->slots;
    pending_t *slots = (pending_t *) calloc (old_capacity * 2, sizeof (pending_t));
    if (!slots)
        return -1;
    self->slots = slots;
    self->capacity = old_capacity * 2;
    self->count = 0;
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].id)
            s_insert_slot (self, &old[i]);
    free (old);
    return 0;
}

static void
s_insert_slot (rpc_client_t *self, const pending_t *entry)
{
    size_t slot = s_hash (entry->id, self->capacity);
    while (self->slots[slot].id)
        slot = (slot + 1) & (self->capacity - 1);
    self->slots[slot] = *entry;
    self->count++;
}

//  Backward-shift deletion keeps probe chains intact without tombstones.
static void
s_remove (rpc_client_t *self, pending_t *entry)
{
    if (entry->unsent) {
        zmsg_destroy (&entry->unsent);
        self->held--;
    }
    size_t mask = self->capacity - 1;
    size_t hole = (size_t) (entry - self->slots);
    size_t next = (hole + 1) & mask;
    self->slots[hole].id = 0;
    while (self->slots[next].id) {
        size_t home = s_hash (self->slots[next].id, self->capacity);
        //  Move next into the hole if its home is not in (hole, next].
        if (((next - home) & mask) >= ((next - hole) & mask)) {
            self->slots[hole] = self->slots[next];
            self->slots[next].id = 0;
            hole = next;
        }
        next = (next + 1) & mask;
    }
    self->count--;
}

//  Drops heap tops whose request is gone (answered or cancelled).
static void
s_heap_prune (rpc_client_t *self)
{
    int64_t deadline;
    uint64_t id;
    while (deadline_heap_peek (self->deadlines, &deadline, &id)) {
        pending_t *entry = s_find (self, id);
        if (entry && entry->deadline == deadline)
            return;
        deadline_heap_pop (self->deadlines);
    }
}

rpc_client_t *
rpc_client_new_endpoint (const char *endpoint)
{
    rpc_client_t *self = (rpc_client_t *) calloc (1, sizeof (rpc_client_t));
    if (!self)
        return NULL;
    self->capacity = 64;
    self->slots = (pending_t *) calloc (self->capacity, sizeof (pending_t));
    self->deadlines = deadline_heap_new ();
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->slots || !self->deadlines || !self->dealer) {
        rpc_client_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->dealer, 0);
    zsock_set_immediate (self->dealer, 1);
    zsock_set_reconnect_ivl (self->dealer, 100);
    zsock_set_reconnect_ivl_max (self->dealer, 250);
    zsock_set_sndhwm (self->dealer, 100000);
    zsock_set_rcvhwm (self->dealer, 100000);
    if (zsock_connect (self->dealer, "%s", endpoint) != 0) {
        log_error ("cannot connect endpoint=%s", endpoint);
        rpc_client_destroy (&self);
        return NULL;
    }
    //  Ids start at a random point so replies meant for an earlier
    //  incarnation of this caller are never mistaken for ours.
    self->next_id = ((uint64_t) time_wall_ms () << 16) | (uint64_t) (getpid () & 0xffff);
    return self;
}

rpc_client_t *
rpc_client_new (const char *data_dir, const char *daemon)
{
    char endpoint[256];
    if (rundir_endpoint (data_dir, daemon, "rpc", endpoint, sizeof endpoint)) {
        log_error ("ipc endpoint path too long data_dir=%s", data_dir);
        return NULL;
    }
    return rpc_client_new_endpoint (endpoint);
}

void
rpc_client_destroy (rpc_client_t **self_p)
{
    assert (self_p);
    rpc_client_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->dealer);
        for (size_t i = 0; self->slots && i < self->capacity; i++)
            zmsg_destroy (&self->slots[i].unsent);
        free (self->slots);
        deadline_heap_destroy (&self->deadlines);
        free (self);
        *self_p = NULL;
    }
}

int
rpc_client_fd (rpc_client_t *self)
{
    return zsock_fd (self->dealer);
}

bool
rpc_client_readable (rpc_client_t *self)
{
    return (zsock_events (self->dealer) & ZMQ_POLLIN) != 0;
}

size_t
rpc_client_pending (rpc_client_t *self)
{
    return self->count;
}

//  Offers msg to the socket without blocking. With ZMQ_IMMEDIATE a
//  multipart message is accepted whole or refused on its first frame, so a
//  refusal leaves msg intact for a later retry. Returns 0/-1.
static int
s_try_send (rpc_client_t *self, zmsg_t *msg)
{
    void *handle = zsock_resolve (self->dealer);
    size_t frames = zmsg_size (msg);
    zframe_t *frame = zmsg_first (msg);
    for (size_t i = 0; i < frames; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < frames ? ZMQ_SNDMORE : 0);
        if (zmq_send (handle, zframe_data (frame), zframe_size (frame), flags) < 0) {
            assert (i == 0);
            return -1;
        }
        frame = zmsg_next (msg);
    }
    return 0;
}

void
rpc_client_set_raw_replies (rpc_client_t *self, bool raw)
{
    self->raw_replies = raw;
}

void
rpc_client_set_hold (rpc_client_t *self, int64_t hold_ms)
{
    self->hold_ms = hold_ms > 0 ? hold_ms : 0;
}

uint64_t
rpc_client_send (rpc_client_t *self, const char *command, cJSON **body_p,
                 int64_t timeout_ms, rpc_client_fn *fn, void *arg)
{
    uint64_t id = ++self->next_id;
    if (id == 0)
        id = ++self->next_id;
    envelope_t *request = envelope_new (ENVELOPE_REQ, command, id, body_p);
    assert (request);       //  commands are compiled in: misuse otherwise
    zmsg_t *msg = envelope_encode (request);
    envelope_destroy (&request);
    bool sent = msg && s_try_send (self, msg) == 0;
    if ((!sent && (!msg || self->hold_ms == 0))
        || (self->count * 2 >= self->capacity && s_grow (self) != 0)) {
        zmsg_destroy (&msg);
        if (fn)
            fn (arg, RPC_UNAVAILABLE, NULL);
        return id;
    }
    int64_t now = time_mono_ms ();
    pending_t entry = { id, now + timeout_ms, now, fn, arg, NULL, 0 };
    if (sent)
        zmsg_destroy (&msg);
    else {
        entry.unsent = msg;
        entry.hold_until = now + self->hold_ms;
        self->held++;
    }
    s_insert_slot (self, &entry);
    //  Out of memory here leaves the request without a local deadline.
    deadline_heap_push (self->deadlines, entry.deadline, id);
    return id;
}

void
rpc_client_cancel (rpc_client_t *self, uint64_t id)
{
    pending_t *entry = s_find (self, id);
    if (entry)
        s_remove (self, entry);
}

//  Reads one reply if one is waiting: 1 read (dispatched or dropped),
//  0 nothing waiting. If want_id matches, the reply is handed back instead.
static int
s_read_one (rpc_client_t *self, uint64_t want_id, envelope_t **wanted)
{
    if (!(zsock_events (self->dealer) & ZMQ_POLLIN))
        return 0;
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return 0;
    const char *reason = NULL;
    envelope_t *reply = self->raw_replies ? envelope_decode_raw (msg, &reason)
                                          : envelope_decode (msg, &reason);
    zmsg_destroy (&msg);
    if (!reply) {
        log_warn ("dropped malformed rpc reply reason=\"%s\"", reason);
        return 1;
    }
    if (reply->type != ENVELOPE_REP && reply->type != ENVELOPE_ERR) {
        envelope_destroy (&reply);
        return 1;
    }
    if (want_id && reply->id == want_id) {
        *wanted = reply;
        return 1;
    }
    pending_t *entry = s_find (self, reply->id);
    if (entry) {
        rpc_client_fn *fn = entry->fn;
        void *arg = entry->arg;
        s_remove (self, entry);
        if (fn)
            fn (arg, RPC_OK, reply);
    }
    envelope_destroy (&reply);
    return 1;
}

void
rpc_client_process (rpc_client_t *self)
{
    while (s_read_one (self, 0, NULL))
        ;
}

//  Offers held requests to the socket again, in id order within the table;
//  those whose hold ran out fail as unavailable.
static void
s_retry_held (rpc_client_t *self, int64_t now)
{
    if (!self->held)
        return;
    uint64_t *expired = (uint64_t *) malloc (self->held * sizeof (uint64_t));
    size_t n_expired = 0;
    for (size_t i = 0; i < self->capacity; i++) {
        pending_t *entry = &self->slots[i];
        if (!entry->id || !entry->unsent)
            continue;
        if (s_try_send (self, entry->unsent) == 0) {
            zmsg_destroy (&entry->unsent);
            self->held--;
        }
        else
        if (now >= entry->hold_until && expired)
            expired[n_expired++] = entry->id;
    }
    for (size_t i = 0; i < n_expired; i++) {
        pending_t *entry = s_find (self, expired[i]);
        rpc_client_fn *fn = entry->fn;
        void *arg = entry->arg;
        s_remove (self, entry);
        if (fn)
            fn (arg, RPC_UNAVAILABLE, NULL);
    }
    free (expired);
}

void
rpc_client_expire (rpc_client_t *self)
{
    int64_t now = time_mono_ms ();
    s_retry_held (self, now);
    for (;;) {
        s_heap_prune (self);
        int64_t deadline;
        uint64_t id;
        if (!deadline_heap_peek (self->deadlines, &deadline, &id) || deadline > now)
            return;
        pending_t *entry = s_find (self, id);
        deadline_heap_pop (self->deadlines);
        rpc_client_fn *fn = entry->fn;
        void *arg = entry->arg;
        s_remove (self, entry);
        if (fn)
            fn (arg, RPC_TIMEOUT, NULL);
    }
}

int64_t
rpc_client_next_timeout (rpc_client_t *self)
{
    s_heap_prune (self);
    int64_t deadline;
    if (!deadline_heap_peek (self->deadlines, &deadline, NULL))
        return -1;
    int64_t left = deadline - time_mono_ms ();
    if (left < 0)
        left = 0;
    if (self->held && left > HOLD_RETRY_MS)
        left = HOLD_RETRY_MS;
    return left;
}

void
rpc_client_fail_sent_before (rpc_client_t *self, int64_t mono_ms, int status)
{
    //  Callbacks may send new requests: take the matching ones out first.
    size_t count = self->count;
    if (!count)
        return;
    pending_t *taken = (pending_t *) malloc (count * sizeof (pending_t));
    if (!taken)
        return;
    size_t n = 0;
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots[i].id && self->slots[i].sent_ms < mono_ms)
            taken[n++] = self->slots[i];
    for (size_t i = 0; i < n; i++)
        s_remove (self, s_find (self, taken[i].id));    //  frees unsent
    if (!self->count)
        deadline_heap_clear (self->deadlines);  //  else pruned lazily
    for (size_t i = 0; i < n; i++)
        if (taken[i].fn)
            taken[i].fn (taken[i].arg, status, NULL);
    free (taken);
}

void
rpc_client_fail_all (rpc_client_t *self, int status)
{
    rpc_client_fail_sent_before (self, INT64_MAX, status);
}

envelope_t *
rpc_client_call (rpc_client_t *self, const char *command, cJSON **body_p,
                 int64_t timeout_ms, int *status)
{
    int unavailable = 0;
    uint64_t id = ++self->next_id;
    envelope_t *request = envelope_new (ENVELOPE_REQ, command, id, body_p);
    assert (request);
    zmsg_t *msg = envelope_encode (request);
    envelope_destroy (&request);
    //  A freshly made DEALER may not have finished connecting: retry the
    //  send briefly before calling the daemon unavailable.
    int64_t deadline = time_mono_ms () + timeout_ms;
    int64_t connect_until = time_mono_ms () + (timeout_ms < 300 ? timeout_ms : 300);
    void *handle = zsock_resolve (self->dealer);
    for (;;) {
        zframe_t *frame = zmsg_first (msg);
        size_t frames = zmsg_size (msg);
        int rc = 0;
        for (size_t i = 0; i < frames; i++) {
            int flags = ZMQ_DONTWAIT | (i + 1 < frames ? ZMQ_SNDMORE : 0);
            if (zmq_send (handle, zframe_data (frame), zframe_size (frame), flags) < 0) {
                rc = -1;
                break;
            }
            frame = zmsg_next (msg);
        }
        if (rc == 0)
            break;
        if (time_mono_ms () >= connect_until) {
            unavailable = 1;
            break;
        }
        zmq_poll (NULL, 0, 10);
    }
    zmsg_destroy (&msg);
    if (unavailable) {
        if (status)
            *status = RPC_UNAVAILABLE;
        return NULL;
    }
    for (;;) {
        envelope_t *reply = NULL;
        while (s_read_one (self, id, &reply))
            if (reply) {
                if (status)
                    *status = RPC_OK;
                return reply;
            }
        int64_t left = deadline - time_mono_ms ();
        if (left <= 0)
            break;
        zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, (long) left);
    }
    if (status)
        *status = RPC_TIMEOUT;
    return NULL;
}
