/*  server: httpd's one thread. libmicrohttpd runs in external-epoll mode
    (no thread of its own) and its epoll fd is polled together with the
    RPC and event sockets of catalogd, forwarderd and gossipd and the
    signal pipe in one zmq_poll; every timer (libmicrohttpd's, RPC
    deadlines, TTL expiry, anti-entropy) becomes the poll timeout. A
    request that needs another daemon suspends its connection; the RPC
    reply resumes it and the response is queued on the next access-handler
    call, so a blocking query holds no thread. The
    response is never queued on a request's first handler call, which keeps
    keep-alive working with libmicrohttpd 0.9.75. */
#ifndef HTTPD_SERVER_H
#define HTTPD_SERVER_H

#include "config.h"

//  Connections served at once (each blocking query holds one).
#define SERVER_CONNECTION_LIMIT   16000
//  Memory pool per connection: request line, headers, response headers.
#define SERVER_CONNECTION_MEMORY  (8 * 1024)
//  Idle keep-alive connections are closed after this (a suspended blocking
//  query does not count as idle).
#define SERVER_IDLE_TIMEOUT_S     900

//  An oversized body is read and dropped up to this much so the client
//  gets its 413; beyond, the connection is closed early.
#define SERVER_DRAIN_MAX          (8 * 1024 * 1024)

typedef struct _server_t server_t;

//  Binds client_addr:ports.http, connects to catalogd (servers only),
//  forwarderd and gossipd (which need not be up) and loads the agent's
//  local state. Returns NULL (logged) on failure.
//  cfg must outlive the server. Caller owns return value.
server_t *server_new (const config_t *cfg);
void server_destroy (server_t **self_p);

//  What to do on SIGHUP (re-read what can change at run time).
typedef int (server_reload_fn) (void *arg);
void server_set_reload (server_t *self, server_reload_fn *fn, void *arg);

//  Runs until SIGTERM/SIGINT. Returns 0, or -1 on a fatal poll error.
int server_run (server_t *self);

#endif
