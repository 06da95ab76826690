/*  catalog_link: httpd's side of the catalogd RPC
    (docs/protocol/catalog-rpc.md over docs/protocol/local-rpc.md).
    Sends reads and writes for HTTP requests asynchronously (the request is
    suspended meanwhile) and turns the reply into the HTTP response: Result
    passed through, X-Consul-Index/KnownLeader/LastContact from the reply,
    ERR Code as the status and Error as the text body.
    Watches catalogd's events: a new boot id (restart) or heartbeat silence
    fails the requests pending on it (reads are re-sent once), and
    state.changed events drive the response cache: a cached read is served
    only while no table it read has changed since it was fetched, the
    event stream has no gap and catalogd is heard from. Every write this
    link carries invalidates the cache before its reply is passed on, so a
    client reads its own writes. */
#ifndef HTTPD_CATALOG_LINK_H
#define HTTPD_CATALOG_LINK_H

#include "envelope.h"
#include "request.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct _catalog_link_t catalog_link_t;

//  Tables a read depends on (catalog-rpc.md, "Tables and indexes").
#define LINK_TABLE_NODES     1u
#define LINK_TABLE_SERVICES  2u
#define LINK_TABLE_CHECKS    4u
#define LINK_TABLE_ALL       7u

//  Heartbeats missed for this long mean catalogd is gone.
#define LINK_SILENCE_MS      3500
//  Default RPC deadline (local-rpc.md).
#define LINK_TIMEOUT_MS      5000

//  Raw call callback: status RPC_OK with reply (REP or ERR, borrowed),
//  or RPC_TIMEOUT / RPC_UNAVAILABLE with reply NULL.
typedef void (catalog_link_fn) (void *arg, int status, envelope_t *reply);

//  Connects to <data_dir>/run/catalogd.rpc and .pub (catalogd need not be
//  up). Caller owns return value.
catalog_link_t *catalog_link_new (const char *data_dir);
void catalog_link_destroy (catalog_link_t **self_p);

int catalog_link_rpc_fd (catalog_link_t *self);
int catalog_link_sub_fd (catalog_link_t *self);

//  Handles replies, events, deadlines and heartbeat silence. Call on every
//  loop iteration (the ZeroMQ fds are edge-triggered).
void catalog_link_process (catalog_link_t *self);
//  Milliseconds until process must run again, -1 when nothing is timed.
int64_t catalog_link_next_timeout (catalog_link_t *self);

//  True once after catalogd was seen starting (a new boot id), including
//  the first contact: what was derived from it must be resynced.
bool catalog_link_restarted_take (catalog_link_t *self);

//  Runs a read for request: from the cache when tables is non-zero and a
//  valid entry answers it, else through catalogd (the request is suspended
//  until the reply). meta adds the X-Consul-* headers. Takes *body_p and
//  adds the query options from opts (may be NULL) to it.
void catalog_link_read (catalog_link_t *self, http_request_t *request,
                        const char *command, cJSON **body_p,
                        const query_opts_t *opts, unsigned tables, bool meta);
//  Runs a write for request; the reply's Result becomes the body.
void catalog_link_write (catalog_link_t *self, http_request_t *request,
                         const char *command, cJSON **body_p);

//  A call for httpd's own use (anti-entropy). Takes *body_p. A write
//  invalidates the cache on its reply. Returns the request id, or 0 when
//  catalogd is not connected (fn is then not called).
uint64_t catalog_link_call (catalog_link_t *self, const char *command,
                            cJSON **body_p, bool write,
                            catalog_link_fn *fn, void *arg);
//  Forgets a call; its callback will not run.
void catalog_link_cancel (catalog_link_t *self, uint64_t id);

//  Answers every pending HTTP request with 503 (shutdown).
void catalog_link_abort_all (catalog_link_t *self);

#endif
