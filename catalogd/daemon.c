/*  daemon: catalogd's core, one libuv loop that drives everything (see
    daemon.h): the RPC ROUTER through uv_poll on its ZMQ_FD, libraft's I/O,
    the cluster's sockets (cluster.h), the heartbeat, one deadline timer
    for held and parked requests (serve.h), and the signal pipe.

    No threads of ours. The ROUTER's ZMQ_FD is edge-triggered: it is
    drained until empty on every readiness and again before every poll (a
    uv_prepare handle), because sending a reply can consume the edge of a
    request that arrived meanwhile. The prepare hook is also where the
    cluster and the request server do their periodic work. */
#include "daemon.h"
#include "cluster.h"
#include "fsm.h"
#include "raftnode.h"
#include "serve.h"
#include "store.h"

#include "log.h"
#include "rpc_server.h"
#include "signals.h"

#include <czmq.h>
#include <uv.h>

struct _catalogd_t {
    const config_t *cfg;
    uv_loop_t loop;
    rpc_server_t *rpc;
    catalog_store_t *store;
    catalog_fsm_t *fsm;
    catalog_raft_t *raft;
    catalog_cluster_t *cluster;
    catalog_serve_t *serve;
    uv_poll_t rpc_poll;
    uv_poll_t signal_poll;
    uv_timer_t heartbeat;
    uv_timer_t deadline;
    uv_prepare_t prepare;
    bool handles_ready;
    bool signal_polled;
    int handles_open;
    bool raft_closed;
    bool stopping;
    int exit_code;
    catalogd_reload_fn *reload_fn;
    void *reload_arg;
};

static void s_on_deadline (uv_timer_t *timer);

static void
s_drain (catalogd_t *self)
{
    rpc_request_t *request;
    while ((request = rpc_server_recv (self->rpc))) {
        if (self->stopping)
            rpc_server_error (self->rpc, &request, 503, "catalogd is shutting down");
        else
            catalog_serve_dispatch (self->serve, request);
    }
}

//  ---------------------------------------------------------------------
//  Loop handles

static void
s_on_handle_closed (uv_handle_t *handle)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    self->handles_open--;
}

static void
s_close_handle (catalogd_t *self, uv_handle_t *handle)
{
    if (!uv_is_closing (handle)) {
        handle->data = self;
        self->handles_open++;
        uv_close (handle, s_on_handle_closed);
    }
}

static void
s_on_raft_closed (void *arg)
{
    catalogd_t *self = (catalogd_t *) arg;
    self->raft_closed = true;
    if (self->handles_ready) {
        s_close_handle (self, (uv_handle_t *) &self->rpc_poll);
        if (self->signal_polled)
            s_close_handle (self, (uv_handle_t *) &self->signal_poll);
        s_close_handle (self, (uv_handle_t *) &self->heartbeat);
        s_close_handle (self, (uv_handle_t *) &self->deadline);
        s_close_handle (self, (uv_handle_t *) &self->prepare);
    }
    catalog_cluster_close (self->cluster);
}

static void
s_shutdown (catalogd_t *self)
{
    if (self->stopping)
        return;
    self->stopping = true;
    catalog_serve_shutdown (self->serve);
    catalog_raft_close (self->raft, s_on_raft_closed, self);
}

static void
s_handle_signals (catalogd_t *self)
{
    if (signals_reload_take ()) {
        //  The reload function logs what it applied or why it failed.
        if (self->reload_fn)
            self->reload_fn (self->reload_arg);
    }
    if (signals_terminate_requested ())
        s_shutdown (self);
}

static void
s_arm_deadline (catalogd_t *self)
{
    int64_t next = catalog_serve_next_deadline (self->serve);
    if (next < 0) {
        uv_timer_stop (&self->deadline);
        return;
    }
    int64_t now = (int64_t) uv_now (&self->loop);
    uv_timer_start (&self->deadline, s_on_deadline,
                    (uint64_t) (next > now ? next - now : 0), 0);
}

static void
s_on_deadline (uv_timer_t *timer)
{
    catalogd_t *self = (catalogd_t *) timer->data;
    catalog_serve_expire (self->serve);
}

static void
s_on_prepare (uv_prepare_t *handle)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    if (!self->stopping)
        s_handle_signals (self);
    if (!self->stopping
        && catalog_cluster_process (self->cluster,
                                    catalog_serve_leader_ready (self->serve)) != 0) {
        self->exit_code = 1;
        s_shutdown (self);
    }
    catalog_serve_tick (self->serve);
    s_drain (self);
    if (!self->stopping)
        s_arm_deadline (self);
}

static void
s_on_rpc (uv_poll_t *handle, int status, int events)
{
    s_drain ((catalogd_t *) handle->data);
}

static void
s_on_signal (uv_poll_t *handle, int status, int events)
{
    catalogd_t *self = (catalogd_t *) handle->data;
    signals_drain ();
    if (!self->stopping)
        s_handle_signals (self);
}

static void
s_on_heartbeat (uv_timer_t *timer)
{
    catalogd_t *self = (catalogd_t *) timer->data;
    int64_t next = rpc_server_tick (self->rpc);
    uv_timer_start (&self->heartbeat, s_on_heartbeat,
                    (uint64_t) (next > 0 ? next : 1), 0);
}

//  ---------------------------------------------------------------------
//  Construction

catalogd_t *
catalogd_new (const config_t *cfg)
{
    assert (cfg);
    catalogd_t *self = (catalogd_t *) calloc (1, sizeof *self);
    assert (self);
    self->cfg = cfg;
    if (uv_loop_init (&self->loop)) {
        log_error ("cannot create the event loop");
        free (self);
        return NULL;
    }
    self->store = catalog_store_new ();
    self->fsm = catalog_fsm_new (self->store);
    self->rpc = rpc_server_new (cfg->data_dir, "catalogd");
    if (self->rpc)
        self->raft = catalog_raft_new (&self->loop, cfg, self->fsm);
    if (self->raft)
        self->cluster = catalog_cluster_new (&self->loop, cfg, self->raft);
    if (!self->cluster) {
        catalogd_destroy (&self);
        return NULL;
    }
    self->serve = catalog_serve_new (&self->loop, cfg, self->rpc, self->store,
                                     self->raft, self->cluster);
    catalog_fsm_set_change_fn (self->fsm, catalog_serve_on_change, self->serve);
    return self;
}

void
catalogd_destroy (catalogd_t **self_p)
{
    assert (self_p);
    catalogd_t *self = *self_p;
    if (!self)
        return;
    //  A raft that never ran still closes through the loop.
    if (self->raft && !self->raft_closed) {
        if (!self->stopping)
            catalog_raft_close (self->raft, s_on_raft_closed, self);
        self->stopping = true;
        uv_run (&self->loop, UV_RUN_DEFAULT);
    }
    catalog_serve_destroy (&self->serve);
    catalog_cluster_destroy (&self->cluster);
    catalog_raft_destroy (&self->raft);
    if (uv_loop_close (&self->loop) != 0)
        log_warn ("event loop closed with handles still open");
    catalog_fsm_destroy (&self->fsm);
    catalog_store_destroy (&self->store);
    rpc_server_destroy (&self->rpc);
    free (self);
    *self_p = NULL;
}

void
catalogd_set_reload_fn (catalogd_t *self, catalogd_reload_fn *fn, void *arg)
{
    self->reload_fn = fn;
    self->reload_arg = arg;
}

int
catalogd_run (catalogd_t *self)
{
    uv_poll_init (&self->loop, &self->rpc_poll, rpc_server_fd (self->rpc));
    self->rpc_poll.data = self;
    uv_poll_start (&self->rpc_poll, UV_READABLE, s_on_rpc);
    if (signals_fd () >= 0) {
        uv_poll_init (&self->loop, &self->signal_poll, signals_fd ());
        self->signal_poll.data = self;
        uv_poll_start (&self->signal_poll, UV_READABLE, s_on_signal);
        self->signal_polled = true;
    }
    uv_timer_init (&self->loop, &self->heartbeat);
    self->heartbeat.data = self;
    uv_timer_start (&self->heartbeat, s_on_heartbeat, 0, 0);
    uv_timer_init (&self->loop, &self->deadline);
    self->deadline.data = self;
    uv_prepare_init (&self->loop, &self->prepare);
    self->prepare.data = self;
    uv_prepare_start (&self->prepare, s_on_prepare);
    self->handles_ready = true;

    if (catalog_cluster_start (self->cluster) != 0) {
        self->exit_code = 1;
        s_shutdown (self);
    }
    uv_run (&self->loop, UV_RUN_DEFAULT);
    log_info ("stopped exit_code=%d applied=%llu malformed=%llu forwarded=%llu",
              self->exit_code,
              (unsigned long long) catalog_fsm_applied (self->fsm),
              (unsigned long long) catalog_fsm_malformed (self->fsm),
              (unsigned long long) catalog_serve_forwarded (self->serve));
    return self->exit_code;
}
