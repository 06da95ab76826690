/*  rpc_server: ROUTER for requests and PUB for events of one daemon
    (docs/protocol/local-rpc.md). */
#include "rpc_server.h"
#include "rpc_router.h"
#include "log.h"
#include "rundir.h"
#include "timeutil.h"

#include <stdarg.h>
#include <unistd.h>

#define HEARTBEAT_MS 1000
#define HEARTBEAT_FIRST_MS 50   //  doubled after each beat up to HEARTBEAT_MS

struct _rpc_server_t {
    zsock_t *router;
    zsock_t *pub;
    char daemon[32];
    char boot_id[17];
    uint64_t event_seq;
    uint64_t malformed;
    int64_t heartbeat_at;
    int64_t heartbeat_ivl;      //  grows to HEARTBEAT_MS after the start
    int64_t started_ms;
};

struct _rpc_request_t {
    zframe_t *identity;
    envelope_t *envelope;
    void *data;
};

static void
s_publish_presence (rpc_server_t *self, const char *event)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Daemon", self->daemon);
    cJSON_AddStringToObject (body, "Boot", self->boot_id);
    cJSON_AddNumberToObject (body, "Pid", (double) getpid ());
    cJSON_AddNumberToObject (body, "Started", (double) self->started_ms);
    rpc_server_publish (self, event, &body);
}

static zsock_t *
s_bind (int type, const char *data_dir, const char *daemon, const char *kind)
{
    char endpoint[256];
    if (rundir_endpoint (data_dir, daemon, kind, endpoint, sizeof endpoint)) {
        log_error ("ipc endpoint path too long data_dir=%s", data_dir);
        return NULL;
    }
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, 100000);
    zsock_set_rcvhwm (sock, 100000);
    if (type == ZMQ_ROUTER)
        zsock_set_router_mandatory (sock, 0);
    //  A socket file left by a killed predecessor is replaced by bind.
    if (zsock_bind (sock, "%s", endpoint) != 0) {
        log_error ("cannot bind endpoint=%s error=\"%s\"", endpoint,
                   zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    return sock;
}

rpc_server_t *
rpc_server_new (const char *data_dir, const char *daemon)
{
    rpc_server_t *self = (rpc_server_t *) calloc (1, sizeof (rpc_server_t));
    if (!self)
        return NULL;
    snprintf (self->daemon, sizeof self->daemon, "%s", daemon);
    self->started_ms = time_mono_ms ();
    unsigned char random[8];
    FILE *urandom = fopen ("/dev/urandom", "rb");
    if (!urandom || fread (random, 1, sizeof random, urandom) != sizeof random) {
        uint64_t fallback = (uint64_t) time_mono_us () ^ ((uint64_t) getpid () << 32);
        memcpy (random, &fallback, sizeof random);
    }
    if (urandom)
        fclose (urandom);
    for (int i = 0; i < 8; i++)
        snprintf (self->boot_id + i * 2, 3, "%02x", random[i]);
    self->router = s_bind (ZMQ_ROUTER, data_dir, daemon, "rpc");
    self->pub = self->router ? s_bind (ZMQ_PUB, data_dir, daemon, "pub") : NULL;
    if (!self->pub) {
        rpc_server_destroy (&self);
        return NULL;
    }
    s_publish_presence (self, "hello");
    self->heartbeat_ivl = HEARTBEAT_FIRST_MS;
    self->heartbeat_at = time_mono_ms () + self->heartbeat_ivl;
    return self;
}

void
rpc_server_destroy (rpc_server_t **self_p)
{
    assert (self_p);
    rpc_server_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->router);
        zsock_destroy (&self->pub);
        free (self);
        *self_p = NULL;
    }
}

int
rpc_server_fd (rpc_server_t *self)
{
    return zsock_fd (self->router);
}

uint64_t
rpc_server_malformed (rpc_server_t *self)
{
    return self->malformed;
}

const char *
rpc_server_boot_id (rpc_server_t *self)
{
    return self->boot_id;
}

rpc_request_t *
rpc_server_recv (rpc_server_t *self)
{
    zframe_t *identity = NULL;
    envelope_t *envelope = NULL;
    if (rpc_router_recv (self->router, &identity, &envelope, &self->malformed, "rpc") != 0)
        return NULL;
    rpc_request_t *request = (rpc_request_t *) calloc (1, sizeof (rpc_request_t));
    if (!request) {
        envelope_destroy (&envelope);
        zframe_destroy (&identity);
        return NULL;
    }
    request->identity = identity;
    request->envelope = envelope;
    return request;
}

const char *
rpc_request_command (rpc_request_t *request)
{
    return request->envelope->command;
}

uint64_t
rpc_request_id (rpc_request_t *request)
{
    return request->envelope->id;
}

cJSON *
rpc_request_body (rpc_request_t *request)
{
    return request->envelope->body;
}

void
rpc_request_set_data (rpc_request_t *request, void *data)
{
    request->data = data;
}

void *
rpc_request_data (rpc_request_t *request)
{
    return request->data;
}

void
rpc_request_destroy (rpc_request_t **request_p)
{
    assert (request_p);
    rpc_request_t *request = *request_p;
    if (request) {
        zframe_destroy (&request->identity);
        envelope_destroy (&request->envelope);
        free (request);
        *request_p = NULL;
    }
}

//  Sends reply (taken; NULL: nothing to send) and destroys the request.
static int
s_send_envelope (rpc_server_t *self, rpc_request_t **request_p, envelope_t *reply)
{
    int rc = rpc_router_send (self->router, &(*request_p)->identity, &reply);
    rpc_request_destroy (request_p);
    return rc;
}

static int
s_send (rpc_server_t *self, rpc_request_t **request_p, envelope_type_t type,
        cJSON **body_p)
{
    rpc_request_t *request = *request_p;
    envelope_t *reply = envelope_new (type, request->envelope->command,
                                      request->envelope->id, body_p);
    return s_send_envelope (self, request_p, reply);
}

int
rpc_server_reply_raw (rpc_server_t *self, rpc_request_t **request_p, char **raw_p,
                      size_t len)
{
    assert (request_p && *request_p);
    rpc_request_t *request = *request_p;
    envelope_t *reply = envelope_new_raw (ENVELOPE_REP, request->envelope->command,
                                          request->envelope->id, raw_p, len);
    return s_send_envelope (self, request_p, reply);
}

int
rpc_server_reply (rpc_server_t *self, rpc_request_t **request_p, cJSON **result_p)
{
    assert (request_p && *request_p);
    return s_send (self, request_p, ENVELOPE_REP, result_p);
}

int
rpc_server_error (rpc_server_t *self, rpc_request_t **request_p, int code,
                  const char *fmt, ...)
{
    assert (request_p && *request_p);
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    cJSON *body = envelope_error_body (code, "%s", text);
    return s_send (self, request_p, ENVELOPE_ERR, &body);
}

int
rpc_server_publish (rpc_server_t *self, const char *event, cJSON **body_p)
{
    envelope_t *envelope = envelope_new (ENVELOPE_EVT, event, ++self->event_seq, body_p);
    if (!envelope) {
        if (body_p) {
            cJSON_Delete (*body_p);
            *body_p = NULL;
        }
        return -1;
    }
    zmsg_t *msg = envelope_encode (envelope);
    envelope_destroy (&envelope);
    if (!msg)
        return -1;
    int rc = zmsg_send (&msg, self->pub);
    if (rc != 0)
        zmsg_destroy (&msg);
    return rc;
}

int64_t
rpc_server_tick (rpc_server_t *self)
{
    int64_t now = time_mono_ms ();
    if (now >= self->heartbeat_at) {
        s_publish_presence (self, "heartbeat");
        if (self->heartbeat_ivl < HEARTBEAT_MS)
            self->heartbeat_ivl *= 2;
        if (self->heartbeat_ivl > HEARTBEAT_MS)
            self->heartbeat_ivl = HEARTBEAT_MS;
        self->heartbeat_at = now + self->heartbeat_ivl;
    }
    return self->heartbeat_at - now;
}
