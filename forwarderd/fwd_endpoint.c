/*  fwd_endpoint: the TCP ROUTER of the server RPC protocol and its ZAP
    handler (docs/protocol/server-rpc.md, "Endpoints", "Security"). The
    ZAP handler is a REP socket on inproc://zeromq.zap.01 answered from the
    daemon's own loop: no extra thread. */
#include "fwd_endpoint.h"
#include "rpc_router.h"
#include "log.h"

#define ZAP_ENDPOINT   "inproc://zeromq.zap.01"
#define HWM            100000
#define MAX_MSG_SIZE   ((int64_t) ENVELOPE_BODY_MAX + 1024)
#define HEARTBEAT_MS   2000
#define HEARTBEAT_DEAD_MS 6000
#define HANDSHAKE_MS   5000

struct _fwd_endpoint_t {
    zsock_t *router;
    zsock_t *zap;           //  NULL without keys
    fwd_keys_t keys;
    uint64_t malformed;
    uint64_t denied;
};

struct _fwd_inbound_t {
    zframe_t *identity;
    envelope_t *envelope;
};

fwd_endpoint_t *
fwd_endpoint_new (const char *endpoint, const fwd_keys_t *keys)
{
    fwd_endpoint_t *self = (fwd_endpoint_t *) calloc (1, sizeof (fwd_endpoint_t));
    if (!self)
        return NULL;
    if (keys)
        self->keys = *keys;
    if (self->keys.enabled) {
        //  The handler must be bound before the first handshake.
        self->zap = zsock_new (ZMQ_REP);
        if (!self->zap || zsock_bind (self->zap, ZAP_ENDPOINT) < 0) {
            log_error ("cannot bind the ZAP handler endpoint=%s error=\"%s\"",
                       ZAP_ENDPOINT, zmq_strerror (zmq_errno ()));
            fwd_endpoint_destroy (&self);
            return NULL;
        }
        zsock_set_linger (self->zap, 0);
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        fwd_endpoint_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->router, 0);
    zsock_set_sndhwm (self->router, HWM);
    zsock_set_rcvhwm (self->router, HWM);
    zsock_set_maxmsgsize (self->router, (int) MAX_MSG_SIZE);
    zsock_set_router_mandatory (self->router, 0);
    zsock_set_handshake_ivl (self->router, HANDSHAKE_MS);
    zsock_set_heartbeat_ivl (self->router, HEARTBEAT_MS);
    zsock_set_heartbeat_timeout (self->router, HEARTBEAT_DEAD_MS);
    if (strchr (endpoint, '['))
        zsock_set_ipv6 (self->router, 1);
    if (self->keys.enabled) {
        zsock_set_zap_domain (self->router, "meridian");
        zsock_set_curve_server (self->router, 1);
        zsock_set_curve_secretkey (self->router, self->keys.server_secret);
    }
    if (zsock_bind (self->router, "%s", endpoint) < 0) {
        log_error ("cannot bind server rpc endpoint=%s error=\"%s\"", endpoint,
                   zmq_strerror (zmq_errno ()));
        fwd_endpoint_destroy (&self);
        return NULL;
    }
    log_info ("server rpc listening endpoint=%s curve=%s", endpoint,
              self->keys.enabled ? "on" : "off");
    return self;
}

void
fwd_endpoint_destroy (fwd_endpoint_t **self_p)
{
    assert (self_p);
    fwd_endpoint_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->router);
        zsock_destroy (&self->zap);
        memset (&self->keys, 0, sizeof self->keys);
        free (self);
        *self_p = NULL;
    }
}

size_t
fwd_endpoint_pollitems (fwd_endpoint_t *self, zmq_pollitem_t *items)
{
    size_t n = 0;
    items[n++] = (zmq_pollitem_t) { zsock_resolve (self->router), 0, ZMQ_POLLIN, 0 };
    if (self->zap)
        items[n++] = (zmq_pollitem_t) { zsock_resolve (self->zap), 0, ZMQ_POLLIN, 0 };
    return n;
}

//  Answers one ZAP request (RFC 27): 200 for the client key, 400 else.
static void
s_zap_answer (fwd_endpoint_t *self, zmsg_t *request)
{
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    zframe_t *identity = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);
    bool allowed = version && strcmp (version, "1.0") == 0
                && mechanism && strcmp (mechanism, "CURVE") == 0
                && credential && zframe_size (credential) == 32
                && memcmp (zframe_data (credential), self->keys.client_public_bin, 32) == 0;
    if (!allowed) {
        //  A misconfigured peer retries every few seconds: log the first
        //  refusal and then every hundredth.
        self->denied++;
        log_msg (self->denied % 100 == 1 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
                 "refused server rpc peer (not a pool member) address=%s mechanism=%s denied=%llu",
                 address ? address : "?", mechanism ? mechanism : "?",
                 (unsigned long long) self->denied);
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, sequence ? sequence : "");
    zmsg_addstr (reply, allowed ? "200" : "400");
    zmsg_addstr (reply, allowed ? "OK" : "unknown key");
    zmsg_addstr (reply, allowed ? "member" : "");
    zmsg_addmem (reply, "", 0);
    if (zmsg_send (&reply, self->zap) != 0)
        zmsg_destroy (&reply);
    free (version);
    free (sequence);
    free (domain);
    free (address);
    zframe_destroy (&identity);
    free (mechanism);
    zframe_destroy (&credential);
}

void
fwd_endpoint_process_zap (fwd_endpoint_t *self)
{
    if (!self->zap)
        return;
    while (zsock_events (self->zap) & ZMQ_POLLIN) {
        zmsg_t *request = zmsg_recv (self->zap);
        if (!request)
            return;
        s_zap_answer (self, request);
        zmsg_destroy (&request);
    }
}

fwd_inbound_t *
fwd_endpoint_recv (fwd_endpoint_t *self)
{
    zframe_t *identity = NULL;
    envelope_t *envelope = NULL;
    if (rpc_router_recv (self->router, &identity, &envelope, &self->malformed,
                         "server rpc") != 0)
        return NULL;
    fwd_inbound_t *inbound = (fwd_inbound_t *) calloc (1, sizeof (fwd_inbound_t));
    if (!inbound) {
        envelope_destroy (&envelope);
        zframe_destroy (&identity);
        return NULL;
    }
    inbound->identity = identity;
    inbound->envelope = envelope;
    return inbound;
}

//  Sends reply (taken; NULL: nothing to send) and destroys the request.
static int
s_send (fwd_endpoint_t *self, fwd_inbound_t **inbound_p, envelope_t *reply)
{
    int rc = rpc_router_send (self->router, &(*inbound_p)->identity, &reply);
    fwd_inbound_destroy (inbound_p);
    return rc;
}

int
fwd_endpoint_reply (fwd_endpoint_t *self, fwd_inbound_t **inbound_p,
                    envelope_type_t type, cJSON **body_p)
{
    assert (inbound_p && *inbound_p);
    assert (type == ENVELOPE_REP || type == ENVELOPE_ERR);
    fwd_inbound_t *inbound = *inbound_p;
    envelope_t *reply = envelope_new (type, inbound->envelope->command,
                                      inbound->envelope->id, body_p);
    return s_send (self, inbound_p, reply);
}

int
fwd_endpoint_reply_raw (fwd_endpoint_t *self, fwd_inbound_t **inbound_p,
                        char **raw_p, size_t len)
{
    assert (inbound_p && *inbound_p);
    fwd_inbound_t *inbound = *inbound_p;
    envelope_t *reply = envelope_new_raw (ENVELOPE_REP, inbound->envelope->command,
                                          inbound->envelope->id, raw_p, len);
    return s_send (self, inbound_p, reply);
}

const char *
fwd_inbound_command (fwd_inbound_t *inbound)
{
    return inbound->envelope->command;
}

uint64_t
fwd_inbound_id (fwd_inbound_t *inbound)
{
    return inbound->envelope->id;
}

cJSON *
fwd_inbound_body (fwd_inbound_t *inbound)
{
    return inbound->envelope->body;
}

void
fwd_inbound_destroy (fwd_inbound_t **inbound_p)
{
    assert (inbound_p);
    fwd_inbound_t *inbound = *inbound_p;
    if (inbound) {
        zframe_destroy (&inbound->identity);
        envelope_destroy (&inbound->envelope);
        free (inbound);
        *inbound_p = NULL;
    }
}

uint64_t
fwd_endpoint_malformed (fwd_endpoint_t *self)
{
    return self->malformed;
}

uint64_t
fwd_endpoint_denied (fwd_endpoint_t *self)
{
    return self->denied;
}
