/*  rpc_router: requests off a ROUTER socket and replies back to them (see
    rpc_router.h). */
#include "rpc_router.h"
#include "log.h"

int
rpc_router_recv (zsock_t *router, zframe_t **identity_p, envelope_t **envelope_p,
                 uint64_t *malformed, const char *what)
{
    while (zsock_events (router) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (router);
        if (!msg)
            return -1;
        zframe_t *identity = zmsg_pop (msg);
        const char *reason = "missing identity";
        envelope_t *envelope = identity ? envelope_decode (msg, &reason) : NULL;
        zmsg_destroy (&msg);
        if (envelope && envelope->type != ENVELOPE_REQ) {
            reason = "not a request";
            envelope_destroy (&envelope);
        }
        if (!envelope) {
            (*malformed)++;
            log_warn ("dropped malformed %s message reason=\"%s\" dropped=%llu", what,
                      reason, (unsigned long long) *malformed);
            zframe_destroy (&identity);
            continue;
        }
        *identity_p = identity;
        *envelope_p = envelope;
        return 0;
    }
    return -1;
}

int
rpc_router_send (zsock_t *router, zframe_t **identity_p, envelope_t **reply_p)
{
    envelope_t *reply = *reply_p;
    *reply_p = NULL;
    zmsg_t *msg = reply ? envelope_encode (reply) : NULL;
    int rc = -1;
    if (msg) {
        zmsg_prepend (msg, identity_p);
        rc = zmsg_send (&msg, router);
        if (rc != 0) {
            log_debug ("reply not sent (peer gone) command=%s", reply->command);
            zmsg_destroy (&msg);
        }
    }
    envelope_destroy (&reply);
    zframe_destroy (identity_p);
    return rc;
}
