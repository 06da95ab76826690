/*  fwd_pool: outgoing server RPC connections keyed by (datacenter,
    address), pipelined requests with deadlines, connection state from a
    socket monitor (docs/protocol/server-rpc.md, "Endpoints", "Failures
    and retries"). Pending requests live in a zhashx keyed by id and their
    deadlines in a binary min-heap with lazy deletion. */
#include "fwd_pool.h"
#include "deadline_heap.h"
#include "fwd_msg.h"
#include "fwd_routes.h"
#include "log.h"
#include "timeutil.h"

#include <inttypes.h>

#define RECONNECT_MS        100
#define RECONNECT_MAX_MS    2000
#define CONNECT_TIMEOUT_MS  2000
#define HANDSHAKE_MS        5000
#define HEARTBEAT_MS        2000
#define HEARTBEAT_DEAD_MS   6000
#define HWM                 100000
#define MAX_MSG_SIZE        ((int64_t) ENVELOPE_BODY_MAX + 1024)
#define RESEND_POLL_MS      5

typedef struct _entry_t entry_t;

typedef struct {
    uint64_t id;
    int64_t deadline;
    fwd_pool_fn *fn;
    void *arg;
    entry_t *entry;
    zmsg_t *msg;            //  frames not sent yet (queued), NULL once sent
    void *held_handle;      //  place in entry->held while queued
} pending_t;

struct _entry_t {
    char dc[FWD_DC_MAX];
    char address[FWD_ADDRESS_MAX];
    zsock_t *dealer;
    zsock_t *monitor;
    fwd_conn_state_t state;
    zlistx_t *held;         //  pending_t * waiting to be sent, in order
    size_t pending;         //  held + sent
    int64_t last_used;
};

struct _fwd_pool_t {
    fwd_keys_t keys;
    bool raw_replies;       //  envelope_decode_raw
    entry_t **entries;
    size_t count;
    size_t capacity;
    zhashx_t *pending;      //  &pending->id -> pending_t *
    deadline_heap_t *deadlines;
    uint64_t next_id;
    uint64_t monitor_seq;
};

static size_t
s_id_hash (const void *key)
{
    uint64_t id = *(const uint64_t *) key;
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t) id;
}

static int
s_id_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

const char *
fwd_pool_state_name (fwd_conn_state_t state)
{
    switch (state) {
        case FWD_CONN_CONNECTING: return "connecting";
        case FWD_CONN_UP: return "up";
        case FWD_CONN_DOWN: return "down";
    }
    return "?";
}

void
fwd_pool_set_raw_replies (fwd_pool_t *self, bool raw)
{
    self->raw_replies = raw;
}

fwd_pool_t *
fwd_pool_new (const fwd_keys_t *keys)
{
    fwd_pool_t *self = (fwd_pool_t *) calloc (1, sizeof (fwd_pool_t));
    if (!self)
        return NULL;
    if (keys)
        self->keys = *keys;
    self->pending = zhashx_new ();
    self->deadlines = deadline_heap_new ();
    if (!self->pending || !self->deadlines) {
        zhashx_destroy (&self->pending);
        deadline_heap_destroy (&self->deadlines);
        free (self);
        return NULL;
    }
    zhashx_set_key_hasher (self->pending, s_id_hash);
    zhashx_set_key_comparator (self->pending, s_id_compare);
    zhashx_set_key_duplicator (self->pending, NULL);
    zhashx_set_key_destructor (self->pending, NULL);
    //  Ids start at a random point so that replies meant for an earlier
    //  incarnation are never taken for ours.
    self->next_id = ((uint64_t) time_wall_ms () << 16) ^ (uint64_t) getpid ();
    return self;
}

static void
s_entry_destroy (entry_t **entry_p)
{
    entry_t *entry = *entry_p;
    if (!entry)
        return;
    if (entry->dealer)
        zmq_socket_monitor (zsock_resolve (entry->dealer), NULL, 0);
    zsock_destroy (&entry->monitor);
    zsock_destroy (&entry->dealer);
    zlistx_destroy (&entry->held);
    free (entry);
    *entry_p = NULL;
}

static void
s_pending_free (pending_t **pending_p)
{
    pending_t *pending = *pending_p;
    if (pending) {
        zmsg_destroy (&pending->msg);
        free (pending);
        *pending_p = NULL;
    }
}

void
fwd_pool_destroy (fwd_pool_t **self_p)
{
    assert (self_p);
    fwd_pool_t *self = *self_p;
    if (!self)
        return;
    pending_t *pending = (pending_t *) zhashx_first (self->pending);
    while (pending) {
        s_pending_free (&pending);
        pending = (pending_t *) zhashx_next (self->pending);
    }
    zhashx_destroy (&self->pending);
    for (size_t i = 0; i < self->count; i++)
        s_entry_destroy (&self->entries[i]);
    free (self->entries);
    deadline_heap_destroy (&self->deadlines);
    free (self);
    *self_p = NULL;
}

static entry_t *
s_entry_find (fwd_pool_t *self, const char *dc, const char *address)
{
    for (size_t i = 0; i < self->count; i++) {
        entry_t *entry = self->entries[i];
        if (strcmp (entry->address, address) == 0 && strcmp (entry->dc, dc) == 0)
            return entry;
    }
    return NULL;
}

static entry_t *
s_entry_new (fwd_pool_t *self, const char *dc, const char *address)
{
    if (strlen (dc) >= FWD_DC_MAX || strlen (address) >= FWD_ADDRESS_MAX)
        return NULL;
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        entry_t **entries = (entry_t **) realloc (self->entries, capacity * sizeof (entry_t *));
        if (!entries)
            return NULL;
        self->entries = entries;
        self->capacity = capacity;
    }
    entry_t *entry = (entry_t *) calloc (1, sizeof (entry_t));
    if (!entry)
        return NULL;
    strcpy (entry->dc, dc);
    strcpy (entry->address, address);
    entry->state = FWD_CONN_CONNECTING;
    entry->last_used = time_mono_ms ();
    entry->held = zlistx_new ();
    entry->dealer = zsock_new (ZMQ_DEALER);
    entry->monitor = zsock_new (ZMQ_PAIR);
    if (!entry->held || !entry->dealer || !entry->monitor)
        goto failed;
    zsock_set_linger (entry->dealer, 0);
    zsock_set_immediate (entry->dealer, 1);
    zsock_set_reconnect_ivl (entry->dealer, RECONNECT_MS);
    zsock_set_reconnect_ivl_max (entry->dealer, RECONNECT_MAX_MS);
    zsock_set_sndhwm (entry->dealer, HWM);
    zsock_set_rcvhwm (entry->dealer, HWM);
    zsock_set_maxmsgsize (entry->dealer, (int) MAX_MSG_SIZE);
    zsock_set_handshake_ivl (entry->dealer, HANDSHAKE_MS);
    zsock_set_heartbeat_ivl (entry->dealer, HEARTBEAT_MS);
    zsock_set_heartbeat_timeout (entry->dealer, HEARTBEAT_DEAD_MS);
    zsock_set_heartbeat_ttl (entry->dealer, HEARTBEAT_DEAD_MS);
    zsock_set_connect_timeout (entry->dealer, CONNECT_TIMEOUT_MS);
    zsock_set_linger (entry->monitor, 0);
    if (address[0] == '[')
        zsock_set_ipv6 (entry->dealer, 1);
    if (self->keys.enabled) {
        zsock_set_curve_serverkey (entry->dealer, self->keys.server_public);
        zsock_set_curve_publickey (entry->dealer, self->keys.client_public);
        zsock_set_curve_secretkey (entry->dealer, self->keys.client_secret);
    }
    //  The monitor's PAIR must be connected before the DEALER connects, or
    //  the first events (a refused connect) would be lost.
    char monitor_endpoint[96];
    snprintf (monitor_endpoint, sizeof monitor_endpoint,
              "inproc://fwd-pool-monitor-%p-%" PRIu64, (void *) self,
              ++self->monitor_seq);
    int events = ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED
               | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
               | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor (zsock_resolve (entry->dealer), monitor_endpoint, events) != 0
        || zsock_connect (entry->monitor, "%s", monitor_endpoint) < 0) {
        log_error ("cannot monitor server connection address=%s", address);
        goto failed;
    }
    if (zsock_connect (entry->dealer, "tcp://%s", address) < 0) {
        log_warn ("cannot connect to server datacenter=%s address=%s error=\"%s\"",
                  dc, address, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    log_debug ("server connection made datacenter=%s address=%s", dc, address);
    self->entries[self->count++] = entry;
    return entry;
failed:
    s_entry_destroy (&entry);
    return NULL;
}

//  Drops heap tops whose request is gone (answered or cancelled).
static void
s_heap_prune (fwd_pool_t *self)
{
    uint64_t id;
    while (deadline_heap_peek (self->deadlines, NULL, &id)
           && !zhashx_lookup (self->pending, &id))
        deadline_heap_pop (self->deadlines);
}

//  Removes a pending request from every index; the caller then frees it.
static void
s_pending_unlink (fwd_pool_t *self, pending_t *pending)
{
    zhashx_delete (self->pending, &pending->id);
    if (pending->held_handle) {
        zlistx_delete (pending->entry->held, pending->held_handle);
        pending->held_handle = NULL;
    }
    if (pending->entry->pending)
        pending->entry->pending--;
}

//  Unlinks, frees, then calls the callback (which may send again).
static void
s_pending_finish (fwd_pool_t *self, pending_t *pending, int status,
                  envelope_t *reply)
{
    fwd_pool_fn *fn = pending->fn;
    void *arg = pending->arg;
    s_pending_unlink (self, pending);
    s_pending_free (&pending);
    if (fn)
        fn (arg, status, reply);
}

//  Sends the frames without blocking: 0 sent, -1 not accepted (no
//  connection yet, or the queue is full).
static int
s_send_frames (entry_t *entry, zmsg_t *msg)
{
    void *handle = zsock_resolve (entry->dealer);
    size_t frames = zmsg_size (msg);
    zframe_t *frame = zmsg_first (msg);
    for (size_t i = 0; i < frames; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < frames ? ZMQ_SNDMORE : 0);
        //  A multipart message is accepted whole or refused on its first
        //  frame, so a failure can only happen at i == 0.
        if (zmq_send (handle, zframe_data (frame), zframe_size (frame), flags) < 0)
            return -1;
        frame = zmsg_next (msg);
    }
    return 0;
}

//  Sends queued requests in order while the connection takes them.
static void
s_entry_flush (entry_t *entry)
{
    pending_t *pending = (pending_t *) zlistx_first (entry->held);
    while (pending) {
        if (s_send_frames (entry, pending->msg) != 0)
            return;
        zmsg_destroy (&pending->msg);
        zlistx_delete (entry->held, pending->held_handle);
        pending->held_handle = NULL;
        pending = (pending_t *) zlistx_first (entry->held);
    }
}

uint64_t
fwd_pool_send (fwd_pool_t *self, const char *dc, const char *address,
               const char *command, const char *body_json, int64_t timeout_ms,
               fwd_pool_fn *fn, void *arg)
{
    assert (dc && address && command && body_json);
    entry_t *entry = s_entry_find (self, dc, address);
    if (!entry)
        entry = s_entry_new (self, dc, address);
    if (!entry || entry->state == FWD_CONN_DOWN)
        return 0;
    pending_t *pending = (pending_t *) calloc (1, sizeof (pending_t));
    zmsg_t *msg = zmsg_new ();
    if (!pending || !msg) {
        free (pending);
        zmsg_destroy (&msg);
        return 0;
    }
    pending->id = ++self->next_id;
    if (!pending->id)
        pending->id = ++self->next_id;
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRIu64, pending->id);
    zmsg_addstr (msg, ENVELOPE_TAG);
    zmsg_addstr (msg, envelope_type_name (ENVELOPE_REQ));
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, id_text);
    zmsg_addstr (msg, body_json);
    pending->msg = msg;
    pending->deadline = time_mono_ms () + timeout_ms;
    pending->fn = fn;
    pending->arg = arg;
    pending->entry = entry;
    zhashx_insert (self->pending, &pending->id, pending);
    int rc = deadline_heap_push (self->deadlines, pending->deadline, pending->id);
    assert (rc == 0);       //  out of memory: nothing sensible to do
    entry->pending++;
    entry->last_used = time_mono_ms ();
    if (entry->state == FWD_CONN_UP && zlistx_size (entry->held) == 0
        && s_send_frames (entry, pending->msg) == 0)
        zmsg_destroy (&pending->msg);
    else
        pending->held_handle = zlistx_add_end (entry->held, pending);
    return pending->id;
}

void
fwd_pool_cancel (fwd_pool_t *self, uint64_t id)
{
    pending_t *pending = (pending_t *) zhashx_lookup (self->pending, &id);
    if (pending) {
        s_pending_unlink (self, pending);
        s_pending_free (&pending);
    }
}

fwd_conn_state_t
fwd_pool_state (fwd_pool_t *self, const char *dc, const char *address)
{
    entry_t *entry = s_entry_find (self, dc, address);
    return entry ? entry->state : FWD_CONN_CONNECTING;
}

//  Fails the requests of one connection: queued ones as never sent, sent
//  ones (only when sent_too) as lost.
static void
s_entry_fail (fwd_pool_t *self, entry_t *entry, bool sent_too)
{
    size_t count = 0;
    uint64_t *ids = (uint64_t *) malloc ((entry->pending + 1) * sizeof (uint64_t));
    if (!ids)
        return;
    pending_t *pending = (pending_t *) zhashx_first (self->pending);
    while (pending && count < entry->pending) {
        if (pending->entry == entry && (pending->msg || sent_too))
            ids[count++] = pending->id;
        pending = (pending_t *) zhashx_next (self->pending);
    }
    //  Callbacks may send or cancel: each victim is looked up again.
    for (size_t i = 0; i < count; i++) {
        pending = (pending_t *) zhashx_lookup (self->pending, &ids[i]);
        if (pending)
            s_pending_finish (self, pending,
                              pending->msg ? FWD_POOL_UNSENT : FWD_POOL_LOST, NULL);
    }
    free (ids);
}

static void
s_entry_event (fwd_pool_t *self, entry_t *entry, uint16_t event)
{
    switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            if (entry->state != FWD_CONN_UP)
                log_debug ("server connection up datacenter=%s address=%s",
                           entry->dc, entry->address);
            entry->state = FWD_CONN_UP;
            //  Let the socket take in its new pipe before sending.
            zsock_events (entry->dealer);
            s_entry_flush (entry);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (entry->state == FWD_CONN_UP)
                log_info ("server connection lost datacenter=%s address=%s",
                          entry->dc, entry->address);
            entry->state = FWD_CONN_DOWN;
            s_entry_fail (self, entry, true);
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            if (entry->state != FWD_CONN_UP) {
                if (entry->state != FWD_CONN_DOWN)
                    log_info ("server unreachable datacenter=%s address=%s",
                              entry->dc, entry->address);
                entry->state = FWD_CONN_DOWN;
                s_entry_fail (self, entry, false);
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            //  zmq retries every couple of seconds: log the first failure.
            if (entry->state != FWD_CONN_DOWN)
                log_warn ("server handshake failed (is encrypt the same on every node?) "
                          "datacenter=%s address=%s reason=%s",
                          entry->dc, entry->address,
                          event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "auth"
                          : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol"
                                                                         : "other");
            entry->state = FWD_CONN_DOWN;
            s_entry_fail (self, entry, false);
            break;
        default:
            break;
    }
}

static void
s_entry_read_monitor (fwd_pool_t *self, entry_t *entry)
{
    while (zsock_events (entry->monitor) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (entry->monitor);
        if (!msg)
            return;
        zframe_t *frame = zmsg_first (msg);
        uint16_t event = 0;
        if (frame && zframe_size (frame) >= 6)
            memcpy (&event, zframe_data (frame), sizeof event);
        zmsg_destroy (&msg);
        if (event)
            s_entry_event (self, entry, event);
    }
}

static void
s_entry_read_replies (fwd_pool_t *self, entry_t *entry)
{
    while (zsock_events (entry->dealer) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (entry->dealer);
        if (!msg)
            return;
        const char *reason = NULL;
        envelope_t *reply = self->raw_replies ? envelope_decode_raw (msg, &reason)
                                              : envelope_decode (msg, &reason);
        zmsg_destroy (&msg);
        if (!reply || (reply->type != ENVELOPE_REP && reply->type != ENVELOPE_ERR)) {
            log_warn ("dropped malformed server reply datacenter=%s address=%s reason=\"%s\"",
                      entry->dc, entry->address, reason ? reason : "not a reply");
            envelope_destroy (&reply);
            continue;
        }
        pending_t *pending = (pending_t *) zhashx_lookup (self->pending, &reply->id);
        //  Only the server the request went to may answer it.
        if (pending && pending->entry == entry && !pending->msg)
            s_pending_finish (self, pending, FWD_POOL_OK, reply);
        envelope_destroy (&reply);
    }
}

size_t
fwd_pool_pollitems (fwd_pool_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (n < max)
            items[n] = (zmq_pollitem_t) { zsock_resolve (self->entries[i]->dealer), 0, ZMQ_POLLIN, 0 };
        n++;
        if (n < max)
            items[n] = (zmq_pollitem_t) { zsock_resolve (self->entries[i]->monitor), 0, ZMQ_POLLIN, 0 };
        n++;
    }
    return n;
}

void
fwd_pool_process (fwd_pool_t *self)
{
    //  Callbacks may add connections (never remove them): index anew.
    for (size_t i = 0; i < self->count; i++) {
        s_entry_read_monitor (self, self->entries[i]);
        s_entry_read_replies (self, self->entries[i]);
        entry_t *entry = self->entries[i];
        if (entry->state == FWD_CONN_UP && zlistx_size (entry->held))
            s_entry_flush (entry);
    }
}

void
fwd_pool_expire (fwd_pool_t *self)
{
    int64_t now = time_mono_ms ();
    for (;;) {
        s_heap_prune (self);
        int64_t deadline;
        uint64_t id;
        if (!deadline_heap_peek (self->deadlines, &deadline, &id) || deadline > now)
            return;
        deadline_heap_pop (self->deadlines);
        pending_t *pending = (pending_t *) zhashx_lookup (self->pending, &id);
        if (pending)
            s_pending_finish (self, pending, FWD_POOL_TIMEOUT, NULL);
    }
}

int64_t
fwd_pool_next_timeout (fwd_pool_t *self)
{
    int64_t timeout = -1;
    s_heap_prune (self);
    int64_t deadline;
    if (deadline_heap_peek (self->deadlines, &deadline, NULL)) {
        timeout = deadline - time_mono_ms ();
        if (timeout < 0)
            timeout = 0;
    }
    //  A queue refused by a full or just-connected socket is retried soon.
    for (size_t i = 0; i < self->count; i++)
        if (self->entries[i]->state == FWD_CONN_UP && zlistx_size (self->entries[i]->held)
            && (timeout < 0 || timeout > RESEND_POLL_MS))
            timeout = RESEND_POLL_MS;
    return timeout;
}

//  Takes entry i out of the table, fails its requests, destroys it.
static void
s_entry_remove (fwd_pool_t *self, size_t i)
{
    entry_t *entry = self->entries[i];
    self->entries[i] = self->entries[--self->count];
    log_debug ("server connection closed datacenter=%s address=%s",
               entry->dc, entry->address);
    s_entry_fail (self, entry, true);
    s_entry_destroy (&entry);
}

void
fwd_pool_close (fwd_pool_t *self, const char *dc, const char *address)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->entries[i]->address, address) == 0
            && strcmp (self->entries[i]->dc, dc) == 0) {
            s_entry_remove (self, i);
            return;
        }
}

void
fwd_pool_prune (fwd_pool_t *self, int64_t idle_ms, fwd_pool_keep_fn *keep,
                void *arg)
{
    int64_t now = time_mono_ms ();
    size_t i = 0;
    while (i < self->count) {
        entry_t *entry = self->entries[i];
        bool drop = (keep && !keep (arg, entry->dc, entry->address))
                 || (entry->pending == 0 && now - entry->last_used >= idle_ms);
        if (drop)
            s_entry_remove (self, i);   //  the last entry moved to i
        else
            i++;
    }
}

size_t
fwd_pool_pending (fwd_pool_t *self)
{
    return zhashx_size (self->pending);
}

size_t
fwd_pool_size (fwd_pool_t *self)
{
    return self->count;
}

cJSON *
fwd_pool_dump (fwd_pool_t *self)
{
    cJSON *list = cJSON_CreateArray ();
    for (size_t i = 0; list && i < self->count; i++) {
        entry_t *entry = self->entries[i];
        cJSON *item = cJSON_CreateObject ();
        cJSON_AddStringToObject (item, "Datacenter", entry->dc);
        cJSON_AddStringToObject (item, "Address", entry->address);
        cJSON_AddStringToObject (item, "State", fwd_pool_state_name (entry->state));
        cJSON_AddNumberToObject (item, "Pending", (double) entry->pending);
        cJSON_AddItemToArray (list, item);
    }
    return list;
}
