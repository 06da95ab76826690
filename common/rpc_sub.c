/*  rpc_sub: SUB side of a daemon's event PUB, tracking its boot id. */
#include "rpc_sub.h"
#include "log.h"
#include "rundir.h"
#include "timeutil.h"

struct _rpc_sub_t {
    zsock_t *sub;
    char boot_id[32];
    bool restarted;
    int64_t last_event_ms;
    int64_t started_ms;
};

rpc_sub_t *
rpc_sub_new (const char *data_dir, const char *daemon)
{
    char endpoint[256];
    if (rundir_endpoint (data_dir, daemon, "pub", endpoint, sizeof endpoint)) {
        log_error ("ipc endpoint path too long data_dir=%s", data_dir);
        return NULL;
    }
    rpc_sub_t *self = (rpc_sub_t *) calloc (1, sizeof (rpc_sub_t));
    if (!self)
        return NULL;
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->sub) {
        free (self);
        return NULL;
    }
    zsock_set_linger (self->sub, 0);
    zsock_set_reconnect_ivl (self->sub, 100);
    zsock_set_reconnect_ivl_max (self->sub, 250);
    zsock_set_rcvhwm (self->sub, 100000);
    zsock_set_subscribe (self->sub, "");
    if (zsock_connect (self->sub, "%s", endpoint) != 0) {
        rpc_sub_destroy (&self);
        return NULL;
    }
    return self;
}

void
rpc_sub_destroy (rpc_sub_t **self_p)
{
    assert (self_p);
    rpc_sub_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->sub);
        free (self);
        *self_p = NULL;
    }
}

int
rpc_sub_fd (rpc_sub_t *self)
{
    return zsock_fd (self->sub);
}

bool
rpc_sub_readable (rpc_sub_t *self)
{
    return (zsock_events (self->sub) & ZMQ_POLLIN) != 0;
}

envelope_t *
rpc_sub_recv (rpc_sub_t *self)
{
    while (zsock_events (self->sub) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->sub);
        if (!msg)
            return NULL;
        const char *reason = NULL;
        envelope_t *event = envelope_decode (msg, &reason);
        zmsg_destroy (&msg);
        if (!event || event->type != ENVELOPE_EVT) {
            log_warn ("dropped malformed event reason=\"%s\"",
                      reason ? reason : "not an event");
            envelope_destroy (&event);
            continue;
        }
        self->last_event_ms = time_mono_ms ();
        if (strcmp (event->command, "hello") == 0
            || strcmp (event->command, "heartbeat") == 0) {
            cJSON *started = cJSON_GetObjectItemCaseSensitive (event->body, "Started");
            if (cJSON_IsNumber (started))
                self->started_ms = (int64_t) started->valuedouble;
            cJSON *boot = cJSON_GetObjectItemCaseSensitive (event->body, "Boot");
            if (cJSON_IsString (boot) && strcmp (boot->valuestring, self->boot_id) != 0) {
                snprintf (self->boot_id, sizeof self->boot_id, "%s", boot->valuestring);
                self->restarted = true;
            }
        }
        return event;
    }
    return NULL;
}

bool
rpc_sub_restarted_take (rpc_sub_t *self)
{
    bool restarted = self->restarted;
    self->restarted = false;
    return restarted;
}

int64_t
rpc_sub_started_ms (rpc_sub_t *self)
{
    return self->started_ms;
}

int64_t
rpc_sub_silence_ms (rpc_sub_t *self)
{
    if (!self->last_event_ms)
        return INT64_MAX;
    return time_mono_ms () - self->last_event_ms;
}
