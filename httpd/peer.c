/*  peer: RPC client and event subscription of one local daemon, its boot
    id and heartbeat tracking, and calls made for HTTP requests (see
    peer.h; protocol in docs/protocol/local-rpc.md). */
#include "peer.h"
#include "log.h"
#include "rpc_client.h"
#include "rpc_sub.h"
#include "timeutil.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One call made for an HTTP request.
typedef struct {
    peer_t *peer;
    http_request_t *request;
    char command [ENVELOPE_COMMAND_MAX + 1];
    peer_reply_fn *fn;
    void *arg;
    int64_t timeout_ms;
    int64_t sent_ms;
    uint64_t rpc_id;
    void *handle;               //  position in peer->calls
    bool sending;               //  inside rpc_client_send
    bool sync_done;
    int sync_status;
} s_call_t;

struct _peer_t {
    char name [32];
    char what [32];
    rpc_client_t *client;
    rpc_sub_t *sub;
    peer_signal_fn *handler;
    void *handler_arg;
    char boot [40];
    bool have_boot;
    uint64_t last_seq;
    bool have_seq;
    int64_t last_event_ms;
    bool silent;
    zlistx_t *calls;            //  s_call_t
};

peer_t *
peer_new (const char *data_dir, const char *daemon, const char *what,
          int64_t hold_ms)
{
    peer_t *self = calloc (1, sizeof (peer_t));
    if (!self)
        return NULL;
    snprintf (self->name, sizeof self->name, "%s", daemon);
    snprintf (self->what, sizeof self->what, "%s", what);
    self->client = rpc_client_new (data_dir, daemon);
    if (self->client && hold_ms > 0)
        rpc_client_set_hold (self->client, hold_ms);
    self->sub = rpc_sub_new (data_dir, daemon);
    self->calls = zlistx_new ();
    if (!self->client || !self->sub || !self->calls) {
        peer_destroy (&self);
        return NULL;
    }
    return self;
}

void
peer_destroy (peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    peer_t *self = *self_p;
    if (self->calls) {
        peer_abort_requests (self);
        zlistx_destroy (&self->calls);
    }
    rpc_client_destroy (&self->client);
    rpc_sub_destroy (&self->sub);
    free (self);
    *self_p = NULL;
}

const char *
peer_name (peer_t *self)
{
    return self->name;
}

int
peer_rpc_fd (peer_t *self)
{
    return rpc_client_fd (self->client);
}

int
peer_sub_fd (peer_t *self)
{
    return rpc_sub_fd (self->sub);
}

bool
peer_readable (peer_t *self)
{
    return rpc_client_readable (self->client) || rpc_sub_readable (self->sub);
}

rpc_client_t *
peer_client (peer_t *self)
{
    return self->client;
}

void
peer_set_handler (peer_t *self, peer_signal_fn *fn, void *arg)
{
    self->handler = fn;
    self->handler_arg = arg;
}

bool
peer_live (peer_t *self)
{
    return self->have_boot && !self->silent
        && time_mono_ms () - self->last_event_ms < PEER_SILENCE_MS;
}

static void
s_signal (peer_t *self, peer_signal_t signal, envelope_t *event, int64_t heard_ms)
{
    if (self->handler)
        self->handler (self->handler_arg, signal, event, heard_ms);
}

//  -- calls for HTTP requests ----------------------------------------------

static void
s_call_finish (s_call_t *call, int status, envelope_t *reply)
{
    peer_t *self = call->peer;
    if (call->handle)
        zlistx_detach (self->calls, call->handle);
    http_request_t *request = call->request;
    if (request)
        request_clear_op (request);
    call->fn (call->arg, request, status, reply);
    if (request)
        request_settle (request, call->command);
    free (call);
}

static void
s_call_reply (void *arg, int status, envelope_t *reply)
{
    s_call_t *call = arg;
    if (call->sending) {
        call->sync_done = true;
        call->sync_status = status;
        return;
    }
    s_call_finish (call, status, reply);
}

//  The HTTP request went away: forget the call, let the owner release arg.
static void
s_call_cancel (void *arg)
{
    s_call_t *call = arg;
    peer_t *self = call->peer;
    if (call->rpc_id)
        rpc_client_cancel (self->client, call->rpc_id);
    if (call->handle)
        zlistx_detach (self->calls, call->handle);
    call->fn (call->arg, NULL, PEER_ABORTED, NULL);
    free (call);
}

void
peer_request (peer_t *self, http_request_t *request, const char *command,
              cJSON **body_p, int64_t timeout_ms, peer_reply_fn *fn, void *arg)
{
    cJSON *body = body_p && *body_p ? *body_p : NULL;
    if (body_p)
        *body_p = NULL;
    s_call_t *call = calloc (1, sizeof (s_call_t));
    if (!call) {
        cJSON_Delete (body);
        request_reply_text (request, 500, "out of memory");
        fn (arg, NULL, PEER_ABORTED, NULL);
        request_settle (request, command);
        return;
    }
    call->peer = self;
    call->request = request;
    snprintf (call->command, sizeof call->command, "%s", command);
    call->fn = fn;
    call->arg = arg;
    call->timeout_ms = timeout_ms;
    call->handle = zlistx_add_end (self->calls, call);
    request_set_op (request, call, s_call_cancel);
    call->sending = true;
    call->sent_ms = time_mono_ms ();
    if (!body)
        body = cJSON_CreateObject ();
    uint64_t id = rpc_client_send (self->client, command, &body, timeout_ms,
                                   s_call_reply, call);
    cJSON_Delete (body);
    call->sending = false;
    if (call->sync_done) {
        s_call_finish (call, call->sync_status, NULL);
        return;
    }
    call->rpc_id = id;
    request_suspend (request);
}

unsigned
peer_error_status (const cJSON *body)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive (body, "Code");
    if (cJSON_IsNumber (code) && code->valuedouble >= 400 && code->valuedouble < 600)
        return (unsigned) code->valuedouble;
    return 500;
}

void
peer_reply_error (peer_t *self, http_request_t *request, const char *command,
                  int status, envelope_t *reply, int64_t timeout_ms)
{
    if (status == RPC_OK && reply && reply->type == ENVELOPE_ERR) {
        const char *error = cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (reply->body, "Error"));
        request_reply_text (request, peer_error_status (reply->body), "%s",
                            error ? error : "error without a message");
    }
    else
    if (status == RPC_OK)
        request_reply_text (request, 500, "%s sent an unusable reply to %s",
                            self->name, command);
    else
    if (status == RPC_TIMEOUT)
        request_reply_text (request, 500,
                            "%s timeout: no reply to %s within %" PRId64 " ms",
                            self->name, command, timeout_ms);
    else
    if (status == PEER_ABORTED)
        request_reply_text (request, 503, "httpd is shutting down");
    else
    if (status == PEER_LOST)
        request_reply_text (request, 503, "%s unavailable: it stopped before "
                            "answering %s", self->name, command);
    else
        request_reply_text (request, 503,
                            "%s unavailable: the node's %s daemon is not running",
                            self->name, self->what);
}

//  Fails the calls sent up to sent_before (they went to an instance that
//  is gone).
static void
s_fail_calls (peer_t *self, int64_t sent_before, int status)
{
    size_t count = zlistx_size (self->calls);
    if (!count)
        return;
    s_call_t **calls = calloc (count, sizeof (s_call_t *));
    if (!calls)
        return;
    size_t n = 0;
    for (s_call_t *call = zlistx_first (self->calls); call;
         call = zlistx_next (self->calls))
        if (call->sent_ms <= sent_before)
            calls [n++] = call;
    //  A callback may start calls: only those listed here are failed.
    for (size_t i = 0; i < n; i++) {
        rpc_client_cancel (self->client, calls [i]->rpc_id);
        s_call_finish (calls [i], status, NULL);
    }
    free (calls);
}

void
peer_abort_requests (peer_t *self)
{
    s_call_t *call;
    while ((call = zlistx_first (self->calls))) {
        rpc_client_cancel (self->client, call->rpc_id);
        s_call_finish (call, PEER_ABORTED, NULL);
    }
}

//  -- events ----------------------------------------------------------------

static void
s_handle_event (peer_t *self, envelope_t *event)
{
    if (event->type != ENVELOPE_EVT)
        return;
    bool beat = strcmp (event->command, "hello") == 0
             || strcmp (event->command, "heartbeat") == 0;
    const char *boot = beat ? cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (event->body, "Boot")) : NULL;
    if (boot && *boot && (!self->have_boot || strcmp (boot, self->boot) != 0)) {
        bool was_known = self->have_boot;
        //  When the old instance was last heard from; events without a
        //  boot id (state.changed) may already come from the new one, so
        //  never later than the new instance's start.
        int64_t heard_ms = self->last_event_ms;
        const cJSON *started = cJSON_GetObjectItemCaseSensitive (event->body, "Started");
        if (cJSON_IsNumber (started) && (int64_t) started->valuedouble - 1 < heard_ms)
            heard_ms = (int64_t) started->valuedouble - 1;
        snprintf (self->boot, sizeof self->boot, "%s", boot);
        self->have_boot = true;
        self->have_seq = false;
        if (was_known) {
            log_warn ("%s restarted boot=%s pending=%zu", self->name, self->boot,
                      rpc_client_pending (self->client));
            s_fail_calls (self, heard_ms, PEER_LOST);
            s_signal (self, PEER_RESTARTED, NULL, heard_ms);
        }
        else {
            log_info ("%s seen boot=%s", self->name, self->boot);
            s_signal (self, PEER_SEEN, NULL, 0);
        }
    }
    if (self->have_seq && event->id != self->last_seq + 1)
        s_signal (self, PEER_GAP, NULL, 0);
    self->last_seq = event->id;
    self->have_seq = true;
    s_signal (self, PEER_EVENT, event, 0);
    if (self->silent) {
        self->silent = false;
        log_info ("%s heard again boot=%s", self->name, self->boot);
        s_signal (self, PEER_HEARD_AGAIN, NULL, 0);
    }
    self->last_event_ms = time_mono_ms ();
}

void
peer_process (peer_t *self)
{
    rpc_client_process (self->client);
    envelope_t *event;
    while ((event = rpc_sub_recv (self->sub))) {
        s_handle_event (self, event);
        envelope_destroy (&event);
    }
    (void) rpc_sub_restarted_take (self->sub);
    rpc_client_expire (self->client);
    if (self->have_boot && !self->silent
    &&  time_mono_ms () - self->last_event_ms >= PEER_SILENCE_MS) {
        self->silent = true;
        log_warn ("%s silent for %d ms, failing %zu pending requests", self->name,
                  PEER_SILENCE_MS, rpc_client_pending (self->client));
        s_fail_calls (self, INT64_MAX, PEER_LOST);
        s_signal (self, PEER_SILENT, NULL, 0);
    }
}

int64_t
peer_next_timeout (peer_t *self)
{
    int64_t timeout = rpc_client_next_timeout (self->client);
    if (self->have_boot && !self->silent) {
        int64_t silence = self->last_event_ms + PEER_SILENCE_MS - time_mono_ms ();
        if (silence < 0)
            silence = 0;
        if (timeout < 0 || silence < timeout)
            timeout = silence;
    }
    return timeout;
}
