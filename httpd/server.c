/*  server: libmicrohttpd in external-epoll mode plus the sockets of the
    daemons httpd calls (catalogd, forwarderd, gossipd), signals and
    timers in one zmq_poll loop (see server.h). Owns the listener, the
    route table, the catalog link, the gossipd peer, the agent state and
    anti-entropy. */
#include "server.h"
#include "agent_state.h"
#include "antientropy.h"
#include "api.h"
#include "catalog_link.h"
#include "log.h"
#include "peer.h"
#include "request.h"
#include "router.h"
#include "signals.h"
#include "timeutil.h"

#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct _server_t {
    const config_t *cfg;
    int listen_fd;
    struct MHD_Daemon *daemon;
    int epoll_fd;
    router_t *router;
    catalog_link_t *link;
    peer_t *gossip;
    agent_state_t *agent;
    antientropy_t *antientropy;
    api_t api;
    server_reload_fn *reload;
    void *reload_arg;
};

//  Raises the open-file limit so thousands of waiting clients fit.
//  Returns the soft limit in force.
static rlim_t
s_raise_nofile (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    rlim_t wanted = limit.rlim_max;
    if (wanted == RLIM_INFINITY || wanted > 1048576)
        wanted = 1048576;
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = wanted;
        if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
            getrlimit (RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

static int
s_listen (const char *address, int port, bool *ipv6)
{
    char service [16];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints, *result = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo (*address ? address : NULL, service, &hints, &result);
    if (rc != 0) {
        log_error ("invalid HTTP listen address addr=%s error=%s", address,
                   gai_strerror (rc));
        return -1;
    }
    int fd = socket (result->ai_family,
                     result->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0
    ||  bind (fd, result->ai_addr, result->ai_addrlen) != 0
    ||  listen (fd, 4096) != 0) {
        log_error ("cannot listen for HTTP addr=%s port=%d error=%s", address,
                   port, strerror (errno));
        if (fd >= 0)
            close (fd);
        freeaddrinfo (result);
        return -1;
    }
    *ipv6 = result->ai_family == AF_INET6;
    freeaddrinfo (result);
    return fd;
}

static void
s_mhd_log (void *cls, const char *fmt, va_list args)
{
    char text [512];
    vsnprintf (text, sizeof text, fmt, args);
    size_t len = strlen (text);
    while (len && (text [len - 1] == '\n' || text [len - 1] == '\r'))
        text [--len] = 0;
    log_debug ("libmicrohttpd: %s", text);
}

//  Called with the raw URI before headers are parsed; the request object
//  made here travels as *con_cls.
static void *
s_uri_log (void *cls, const char *uri, struct MHD_Connection *connection)
{
    return request_new (uri);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    http_request_t *request = *con_cls;
    request_destroy (&request);
    *con_cls = NULL;
}

static enum MHD_Result
s_queue (http_request_t *request, struct MHD_Connection *connection)
{
    enum MHD_Result rc = MHD_queue_response (connection,
                                             request_reply_status (request),
                                             request_response (request));
    request_response_release (request);
    request_set_queued (request);
    return rc;
}

static void
s_reply_too_large (http_request_t *request)
{
    request_reply_text (request, 413, "Request body too large: the limit is %d bytes",
                        REQUEST_BODY_MAX);
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    server_t *self = cls;
    http_request_t *request = *con_cls;
    if (!request) {
        request = request_new (url);
        if (!request)
            return MHD_NO;
        *con_cls = request;
    }
    if (!request_started (request)) {
        //  Queuing now would make libmicrohttpd close the connection, which
        //  is only right for a body announced too large before it is sent.
        request_set_started (request);
        request_set_method (request, method);
        request_set_connection (request, connection);
        const char *length = MHD_lookup_connection_value (
            connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *expect = MHD_lookup_connection_value (
            connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if (length && expect && strtoull (length, NULL, 10) > REQUEST_BODY_MAX) {
            s_reply_too_large (request);
            return s_queue (request, connection);
        }
        return MHD_YES;
    }
    if (request_queued (request)) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        //  An oversized body is read and dropped so the client, which may
        //  not read before it has sent everything, gets the 413 intact;
        //  past SERVER_DRAIN_MAX the connection is cut short.
        if (request_body_append (request, upload_data, *upload_data_size) != 0) {
            size_t drained = request_body_drained (request, *upload_data_size);
            if (drained > SERVER_DRAIN_MAX) {
                *upload_data_size = 0;
                s_reply_too_large (request);
                return s_queue (request, connection);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (request_body_too_large (request) && !request_has_reply (request)) {
        request_set_dispatched (request);
        s_reply_too_large (request);
    }
    if (!request_dispatched (request)) {
        request_set_dispatched (request);
        router_dispatch (self->router, &self->api, request);
    }
    if (request_has_reply (request) && !request_suspended (request))
        return s_queue (request, connection);
    return MHD_YES;
}

//  A client agent syncs when it sees a server come up in its LAN pool
//  (Consul's ServerUp trigger): its anti-entropy had nowhere to go. The
//  short delay lets forwarderd, which learns of the server from the same
//  event, list it first.
#define SERVER_UP_SYNC_DELAY_MS 200

static void
s_gossip_signal (void *arg, peer_signal_t signal, envelope_t *event,
                 int64_t heard_ms)
{
    server_t *self = arg;
    if (signal != PEER_EVENT || self->cfg->server
    ||  strcmp (event->command, "member.join") != 0)
        return;
    const char *pool = cJSON_GetStringValue (
        cJSON_GetObjectItemCaseSensitive (event->body, "Pool"));
    const cJSON *member = cJSON_GetObjectItemCaseSensitive (event->body, "Member");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive (member, "Status");
    const char *role = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (
        cJSON_GetObjectItemCaseSensitive (member, "Tags"), "role"));
    if (pool && strcmp (pool, "lan") == 0 && role && strcmp (role, "consul") == 0
    &&  cJSON_IsNumber (status) && status->valueint == 1) {
        log_info ("server up, syncing the agent's state");
        antientropy_resync_after (self->antientropy, time_mono_ms (),
                                  SERVER_UP_SYNC_DELAY_MS);
    }
}

server_t *
server_new (const config_t *cfg)
{
    server_t *self = calloc (1, sizeof (server_t));
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->listen_fd = -1;
    self->router = router_new ();
    self->link = catalog_link_new (cfg);
    self->gossip = peer_new (cfg->data_dir, "gossipd", "gossip", LINK_HOLD_MS);
    self->agent = agent_state_new (cfg->data_dir, cfg->node_name);
    if (!self->router || !self->link || !self->gossip || !self->agent
    ||  catalog_api_register (self->router) || health_api_register (self->router)
    ||  agent_api_register (self->router) || gossip_api_register (self->router)
    ||  operator_api_register (self->router)) {
        log_error ("cannot set up httpd");
        server_destroy (&self);
        return NULL;
    }
    self->antientropy = antientropy_new (cfg, self->agent, self->link);
    if (!self->antientropy) {
        server_destroy (&self);
        return NULL;
    }
    self->api.cfg = cfg;
    peer_set_handler (self->gossip, s_gossip_signal, self);
    self->api.link = self->link;
    self->api.gossip = self->gossip;
    self->api.agent = self->agent;
    int loaded = agent_state_load (self->agent, time_mono_ms ());
    log_info ("loaded agent state services=%zu checks=%zu files=%d",
              agent_state_service_count (self->agent),
              agent_state_check_count (self->agent), loaded);

    rlim_t files = s_raise_nofile ();
    unsigned limit = SERVER_CONNECTION_LIMIT;
    if (files < (rlim_t) limit + 128)
        limit = files > 256 ? (unsigned) (files - 128) : 128;

    bool ipv6 = false;
    self->listen_fd = s_listen (cfg->client_addr, cfg->ports.http, &ipv6);
    if (self->listen_fd < 0) {
        server_destroy (&self);
        return NULL;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO
                   | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    self->daemon = MHD_start_daemon (
        flags, (uint16_t) cfg->ports.http, NULL, NULL, s_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_LISTEN_SOCKET, self->listen_fd,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, self,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) SERVER_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) SERVER_IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    const union MHD_DaemonInfo *info = self->daemon
        ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        log_error ("cannot start the HTTP server addr=%s port=%d",
                   cfg->client_addr, cfg->ports.http);
        server_destroy (&self);
        return NULL;
    }
    self->epoll_fd = info->epoll_fd;
    self->listen_fd = -1;       //  libmicrohttpd closes it when it stops
    log_info ("serving HTTP addr=%s port=%d connection_limit=%u",
              cfg->client_addr, cfg->ports.http, limit);
    return self;
}

void
server_destroy (server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    server_t *self = *self_p;
    if (self->daemon) {
        //  Suspended connections must be resumed before the daemon stops.
        catalog_link_abort_all (self->link);
        peer_abort_requests (self->gossip);
        MHD_run (self->daemon);
        MHD_stop_daemon (self->daemon);
        self->daemon = NULL;
    }
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    antientropy_destroy (&self->antientropy);
    catalog_link_destroy (&self->link);
    peer_destroy (&self->gossip);
    agent_state_destroy (&self->agent);
    router_destroy (&self->router);
    free (self);
    *self_p = NULL;
}

static int64_t
s_min_timeout (int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

//  The poll timeout: the nearest of every timer, -1 when none.
static long
s_poll_timeout (server_t *self)
{
    int64_t now = time_mono_ms ();
    int64_t timeout = -1;
    MHD_UNSIGNED_LONG_LONG mhd_timeout;
    if (MHD_get_timeout (self->daemon, &mhd_timeout) == MHD_YES)
        timeout = mhd_timeout > INT32_MAX ? INT32_MAX : (int64_t) mhd_timeout;
    timeout = s_min_timeout (timeout, catalog_link_next_timeout (self->link));
    timeout = s_min_timeout (timeout, peer_next_timeout (self->gossip));
    timeout = s_min_timeout (timeout, agent_state_next_timeout (self->agent, now));
    timeout = s_min_timeout (timeout,
                             antientropy_next_timeout (self->antientropy, now));
    if (timeout > INT32_MAX)
        timeout = INT32_MAX;
    return (long) timeout;
}

void
server_set_reload (server_t *self, server_reload_fn *fn, void *arg)
{
    self->reload = fn;
    self->reload_arg = arg;
}

int
server_run (server_t *self)
{
    //  libmicrohttpd's epoll fd, the daemons' sockets, the signal pipe.
    zmq_pollitem_t items [LINK_FDS_MAX + 4];
    memset (items, 0, sizeof items);
    int fds [LINK_FDS_MAX];
    size_t count = 0;
    items [count++].fd = self->epoll_fd;
    size_t link_fds = catalog_link_fds (self->link, fds);
    for (size_t i = 0; i < link_fds; i++)
        items [count++].fd = fds [i];
    items [count++].fd = peer_rpc_fd (self->gossip);
    items [count++].fd = peer_sub_fd (self->gossip);
    int signal_fd = signals_fd ();
    if (signal_fd >= 0)
        items [count++].fd = signal_fd;
    for (size_t i = 0; i < count; i++)
        items [i].events = ZMQ_POLLIN;

    while (!signals_terminate_requested ()) {
        //  Sends made by handlers inside MHD_run can consume the edge of a
        //  ZMQ_FD that became readable: never sleep on input already there.
        bool pending = catalog_link_readable (self->link)
                    || peer_readable (self->gossip);
        int rc = zmq_poll (items, (int) count, pending ? 0 : s_poll_timeout (self));
        if (rc < 0 && errno != EINTR) {
            log_error ("poll failed error=%s", zmq_strerror (errno));
            return -1;
        }
        if (signal_fd >= 0 && (items [count - 1].revents & ZMQ_POLLIN)) {
            signals_drain ();
            if (signals_reload_take () && self->reload)
                self->reload (self->reload_arg);
        }
        //  Events first: a read served from the cache below must see every
        //  state.changed that arrived before it (a write acknowledged to a
        //  client through another node was published before its reply).
        catalog_link_process (self->link);
        peer_process (self->gossip);
        MHD_run (self->daemon);
        int seen = catalog_link_restarted_take (self->link);
        if (seen == LINK_RESTARTED)
            antientropy_resync (self->antientropy);
        else
        if (seen == LINK_SEEN)
            antientropy_first_contact (self->antientropy);
        int64_t now = time_mono_ms ();
        agent_state_expire (self->agent, now);
        antientropy_tick (self->antientropy, now);
        //  Connections resumed while the first run was under way.
        MHD_run (self->daemon);
    }
    log_info ("terminating");
    return 0;
}
