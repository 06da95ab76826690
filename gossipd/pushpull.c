/*  pushpull: non-blocking TCP exchanges of a pool. Spec:
    docs/protocol/gossip.md, "Push-pull (anti-entropy and join)". */
#include "pushpull.h"
#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum { CONN_CONNECTING, CONN_WRITING, CONN_READING, CONN_FINISHED } conn_state_t;

typedef struct _conn_t {
    struct _conn_t *next;
    int fd;
    bool outbound;
    conn_state_t state;
    uint8_t *out;
    size_t out_len;
    size_t out_pos;
    uint8_t header[4];
    size_t header_pos;
    uint8_t *in;
    size_t in_len;
    size_t in_pos;
    int64_t deadline_ms;
    uint64_t cookie;
    packet_addr_t peer;
    int status;                 //  outbound result once finished
    char error[160];
    int item;                   //  index in the poll items, -1 if none
} conn_t;

struct _pushpull_t {
    keyring_t *keyring;
    int64_t timeout_ms;
    pushpull_hooks_t hooks;
    int listen_fd;
    int listen_item;
    conn_t *conns;
    size_t inbound;
};

pushpull_t *
pushpull_new (keyring_t *keyring, int64_t timeout_ms, const pushpull_hooks_t *hooks)
{
    pushpull_t *self = (pushpull_t *) calloc (1, sizeof (pushpull_t));
    if (!self)
        return NULL;
    self->keyring = keyring;
    self->timeout_ms = timeout_ms;
    self->hooks = *hooks;
    self->listen_fd = -1;
    self->listen_item = -1;
    return self;
}

static void
s_conn_free (conn_t *conn)
{
    if (conn->fd >= 0)
        close (conn->fd);
    free (conn->out);
    free (conn->in);
    free (conn);
}

void
pushpull_destroy (pushpull_t **self_p)
{
    if (self_p && *self_p) {
        pushpull_t *self = *self_p;
        while (self->conns) {
            conn_t *next = self->conns->next;
            s_conn_free (self->conns);
            self->conns = next;
        }
        if (self->listen_fd >= 0)
            close (self->listen_fd);
        free (self);
        *self_p = NULL;
    }
}

size_t
pushpull_active (pushpull_t *self)
{
    size_t count = 0;
    for (conn_t *conn = self->conns; conn; conn = conn->next)
        count++;
    return count;
}

static int
s_nonblocking (int fd)
{
    int flags = fcntl (fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

int
pushpull_listen (pushpull_t *self, const packet_addr_t *addr)
{
    struct sockaddr_storage sa;
    socklen_t sa_len;
    char text[64];
    packet_addr_format (addr, text, sizeof text);
    if (packet_addr_to_sockaddr (addr, &sa, &sa_len) != 0)
        return -1;
    int fd = socket (sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error ("cannot create tcp socket error=\"%s\"", strerror (errno));
        return -1;
    }
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind (fd, (struct sockaddr *) &sa, sa_len) != 0 || listen (fd, 128) != 0
        || s_nonblocking (fd) != 0) {
        log_error ("cannot listen tcp addr=%s error=\"%s\"", text, strerror (errno));
        close (fd);
        return -1;
    }
    self->listen_fd = fd;
    return 0;
}

//  Frames body: length(u32) + wrapped (maybe sealed) datagram.
static int
s_frame (pushpull_t *self, const uint8_t *body, size_t len, uint8_t **out, size_t *out_len)
{
    size_t room = 4 + PACKET_HEADER_SIZE + CRYPTO_OVERHEAD + len;
    if (room - 4 > PACKET_TCP_MAX)
        return -1;
    uint8_t *frame = (uint8_t *) malloc (room);
    if (!frame)
        return -1;
    int wrapped = packet_wrap (self->keyring, body, len, frame + 4, room - 4);
    if (wrapped < 0) {
        free (frame);
        return -1;
    }
    frame[0] = (uint8_t) ((uint32_t) wrapped >> 24);
    frame[1] = (uint8_t) ((uint32_t) wrapped >> 16);
    frame[2] = (uint8_t) ((uint32_t) wrapped >> 8);
    frame[3] = (uint8_t) wrapped;
    *out = frame;
    *out_len = (size_t) wrapped + 4;
    return 0;
}

static void
s_fail (conn_t *conn, const char *error)
{
    conn->state = CONN_FINISHED;
    conn->status = -1;
    snprintf (conn->error, sizeof conn->error, "%s", error);
}

int
pushpull_connect (pushpull_t *self, const packet_addr_t *addr, const uint8_t *body,
                  size_t len, uint64_t cookie)
{
    conn_t *conn = (conn_t *) calloc (1, sizeof (conn_t));
    if (!conn)
        return -1;
    if (s_frame (self, body, len, &conn->out, &conn->out_len) != 0) {
        free (conn);
        return -1;
    }
    conn->outbound = true;
    conn->cookie = cookie;
    conn->peer = *addr;
    conn->item = -1;
    conn->deadline_ms = time_mono_ms () + self->timeout_ms;
    conn->state = CONN_CONNECTING;
    conn->next = self->conns;
    self->conns = conn;

    struct sockaddr_storage sa;
    socklen_t sa_len;
    packet_addr_to_sockaddr (addr, &sa, &sa_len);
    conn->fd = socket (sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (conn->fd < 0) {
        s_fail (conn, strerror (errno));
        return 0;
    }
    int one = 1;
    setsockopt (conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect (conn->fd, (struct sockaddr *) &sa, sa_len) != 0 && errno != EINPROGRESS)
        s_fail (conn, strerror (errno));
    return 0;
}

static void
s_accept (pushpull_t *self)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sa_len = sizeof sa;
        int fd = accept4 (self->listen_fd, (struct sockaddr *) &sa, &sa_len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (self->inbound >= PUSHPULL_INBOUND_MAX) {
            log_warn ("too many push-pull exchanges, closing a connection max=%d",
                      PUSHPULL_INBOUND_MAX);
            close (fd);
            continue;
        }
        conn_t *conn = (conn_t *) calloc (1, sizeof (conn_t));
        if (!conn) {
            close (fd);
            return;
        }
        conn->fd = fd;
        conn->item = -1;
        conn->state = CONN_READING;
        conn->deadline_ms = time_mono_ms () + self->timeout_ms;
        packet_addr_from_sockaddr ((struct sockaddr *) &sa, sa_len, &conn->peer);
        conn->next = self->conns;
        self->conns = conn;
        self->inbound++;
    }
}

//  A whole frame arrived: unwrap it, then serve it (inbound) or hand the
//  reply over (outbound).
static void
s_frame_done (pushpull_t *self, conn_t *conn)
{
    packet_drop_t drop = PACKET_DROP_HEADER;
    uint8_t *body = (uint8_t *) malloc (conn->in_len ? conn->in_len : 1);
    int body_len = body ? packet_unwrap (self->keyring, conn->in, conn->in_len,
                                         PACKET_TCP_MAX, body, conn->in_len, &drop)
                        : -1;
    if (body_len >= 0
        && packet_stream_check (body, (size_t) body_len, conn->outbound, &drop) != 0)
        body_len = -1;
    if (body_len < 0) {
        if (self->hooks.dropped)
            self->hooks.dropped (self->hooks.arg, drop, &conn->peer);
        free (body);
        if (drop == PACKET_DROP_AUTH || drop == PACKET_DROP_PLAINTEXT
            || drop == PACKET_DROP_NO_KEYRING)
            s_fail (conn, "remote state is not sealed with a key we hold (encryption mismatch)");
        else {
            char reason[80];
            snprintf (reason, sizeof reason, "malformed remote state (%s)",
                      packet_drop_name (drop));
            s_fail (conn, reason);
        }
        return;
    }
    if (conn->outbound) {
        conn->state = CONN_FINISHED;
        conn->status = 0;
        free (conn->in);
        conn->in = body;
        conn->in_len = (size_t) body_len;
        return;
    }
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = self->hooks.serve (self->hooks.arg, body, (size_t) body_len, &conn->peer,
                                &reply, &reply_len);
    free (body);
    if (rc != 0 || !reply || s_frame (self, reply, reply_len, &conn->out, &conn->out_len) != 0) {
        free (reply);
        s_fail (conn, "not served");
        return;
    }
    free (reply);
    conn->out_pos = 0;
    conn->state = CONN_WRITING;
}

static void
s_read (pushpull_t *self, conn_t *conn)
{
    while (conn->state == CONN_READING) {
        ssize_t got;
        if (conn->header_pos < 4) {
            got = read (conn->fd, conn->header + conn->header_pos, 4 - conn->header_pos);
            if (got > 0) {
                conn->header_pos += (size_t) got;
                if (conn->header_pos == 4) {
                    uint32_t len = ((uint32_t) conn->header[0] << 24)
                                   | ((uint32_t) conn->header[1] << 16)
                                   | ((uint32_t) conn->header[2] << 8) | conn->header[3];
                    if (len > PACKET_TCP_MAX || len < PACKET_HEADER_SIZE) {
                        if (self->hooks.dropped)
                            self->hooks.dropped (self->hooks.arg,
                                                 len > PACKET_TCP_MAX ? PACKET_DROP_OVERSIZE
                                                                      : PACKET_DROP_TRUNCATED,
                                                 &conn->peer);
                        s_fail (conn, "bad frame length");
                        return;
                    }
                    conn->in = (uint8_t *) malloc (len);
                    if (!conn->in) {
                        s_fail (conn, "out of memory");
                        return;
                    }
                    conn->in_len = len;
                    conn->in_pos = 0;
                }
                continue;
            }
        }
        else {
            got = read (conn->fd, conn->in + conn->in_pos, conn->in_len - conn->in_pos);
            if (got > 0) {
                conn->in_pos += (size_t) got;
                if (conn->in_pos == conn->in_len)
                    s_frame_done (self, conn);
                continue;
            }
        }
        if (got == 0) {
            if (self->hooks.dropped && (conn->header_pos > 0 || conn->in_pos > 0))
                self->hooks.dropped (self->hooks.arg, PACKET_DROP_TRUNCATED, &conn->peer);
            s_fail (conn, conn->outbound ? "connection closed by the remote (refused or wrong key)"
                                         : "connection closed early");
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        s_fail (conn, strerror (errno));
        return;
    }
}

static void
s_write (conn_t *conn)
{
    while (conn->out_pos < conn->out_len) {
        ssize_t sent = send (conn->fd, conn->out + conn->out_pos,
                             conn->out_len - conn->out_pos, MSG_NOSIGNAL);
        if (sent > 0) {
            conn->out_pos += (size_t) sent;
            continue;
        }
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (sent < 0 && errno == EINTR)
            continue;
        s_fail (conn, sent < 0 ? strerror (errno) : "write failed");
        return;
    }
    free (conn->out);
    conn->out = NULL;
    if (conn->outbound)
        conn->state = CONN_READING;
    else {
        //  Reply written: the exchange is over for the server.
        conn->state = CONN_FINISHED;
        conn->status = 0;
    }
}

size_t
pushpull_poll_fill (pushpull_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t count = 0;
    self->listen_item = -1;
    if (self->listen_fd >= 0 && count < max) {
        items[count] = (zmq_pollitem_t) { NULL, self->listen_fd, ZMQ_POLLIN, 0 };
        self->listen_item = (int) count++;
    }
    for (conn_t *conn = self->conns; conn; conn = conn->next) {
        conn->item = -1;
        if (conn->state == CONN_FINISHED || conn->fd < 0 || count >= max)
            continue;
        short events = conn->state == CONN_READING ? ZMQ_POLLIN : ZMQ_POLLOUT;
        items[count] = (zmq_pollitem_t) { NULL, conn->fd, events, 0 };
        conn->item = (int) count++;
    }
    return count;
}

void
pushpull_process (pushpull_t *self, zmq_pollitem_t *items, size_t count)
{
    for (conn_t *conn = self->conns; conn; conn = conn->next) {
        if (conn->item < 0 || (size_t) conn->item >= count || !items[conn->item].revents)
            continue;
        if (conn->state == CONN_CONNECTING) {
            int error = 0;
            socklen_t len = sizeof error;
            getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &error, &len);
            if (error) {
                s_fail (conn, strerror (error));
                continue;
            }
            conn->state = CONN_WRITING;
        }
        if (conn->state == CONN_WRITING)
            s_write (conn);
        else if (conn->state == CONN_READING)
            s_read (self, conn);
    }
    if (self->listen_item >= 0 && (size_t) self->listen_item < count
        && items[self->listen_item].revents)
        s_accept (self);
}

int64_t
pushpull_tick (pushpull_t *self, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    conn_t **link = &self->conns;
    while (*link) {
        conn_t *conn = *link;
        if (conn->state != CONN_FINISHED && now_ms >= conn->deadline_ms)
            s_fail (conn, "i/o timeout");
        if (conn->state != CONN_FINISHED) {
            if (conn->deadline_ms < next)
                next = conn->deadline_ms;
            link = &conn->next;
            continue;
        }
        *link = conn->next;
        if (conn->outbound)
            self->hooks.done (self->hooks.arg, conn->cookie, &conn->peer, conn->status,
                              conn->in, conn->in_len, conn->error);
        else
            self->inbound--;
        s_conn_free (conn);
    }
    return next;
}
