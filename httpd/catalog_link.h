/*  catalog_link: httpd's way to the catalog of any datacenter
    (docs/protocol/catalog-rpc.md over docs/protocol/local-rpc.md). On a
    server, requests for the local datacenter go to the node's catalogd
    and requests naming another one (?dc=) to forwarderd; on a client agent
    (no catalogd) everything goes to forwarderd, which sends it to a server
    (docs/protocol/server-rpc.md, "Use from httpd"). Sends reads and
    writes for HTTP requests asynchronously (the request is suspended
    meanwhile) and turns the reply into the HTTP response: Result passed
    through, X-Consul-Index/KnownLeader/LastContact from the reply, ERR
    Code as the status and Error as the text body.
    Watches both daemons' events: a new boot id (restart) or heartbeat
    silence fails the requests pending on that daemon (reads are re-sent
    once). catalogd's state.changed events drive the response cache: a
    cached read is served only while no table it read has changed since it
    was fetched, the event stream has no gap and catalogd is heard from.
    Every write this link carries invalidates the cache before its reply
    is passed on, so a client reads its own writes. Forwarded reads become
    remote views (remote_views.h), kept current by a blocking query on the
    remote DC and dropped by every write this link forwards. */
#ifndef HTTPD_CATALOG_LINK_H
#define HTTPD_CATALOG_LINK_H

#include "config.h"
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

//  Default RPC deadline (local-rpc.md).
#define LINK_TIMEOUT_MS      5000
//  How long a request waits for a daemon that is restarting.
#define LINK_HOLD_MS         3000
//  Sockets to poll at most (catalogd and forwarderd, RPC and events).
#define LINK_FDS_MAX         4

//  Raw call callback: status RPC_OK with reply (REP or ERR, borrowed),
//  or RPC_TIMEOUT / RPC_UNAVAILABLE with reply NULL.
typedef void (catalog_link_fn) (void *arg, int status, envelope_t *reply);

//  A REP's body (a read's {"Index","KnownLeader","LastContact","Result"},
//  a write's {"Index","Result"}; owned by the callee) for the caller to
//  finish: it must answer request (e.g. catalog_link_reply_read) or pass
//  it on to another asynchronous step.
//  request and body are NULL when the request was answered otherwise
//  (an error) or went away: only release arg then.
typedef void (catalog_link_then_fn) (void *arg, http_request_t *request,
                                     cJSON *body);

//  Connects to catalogd (servers only) and forwarderd under cfg's run
//  directory (they need not be up). cfg is borrowed and must outlive the
//  link. Caller owns return value.
catalog_link_t *catalog_link_new (const config_t *cfg);
void catalog_link_destroy (catalog_link_t **self_p);

//  The ZeroMQ fds to poll for input; returns how many (<= LINK_FDS_MAX).
size_t catalog_link_fds (catalog_link_t *self, int fds [LINK_FDS_MAX]);
//  True when a reply or event is waiting on one of the link's sockets.
bool
    catalog_link_readable (catalog_link_t *self);

//  Handles replies, events, deadlines and heartbeat silence. Call on every
//  loop iteration (the ZeroMQ fds are edge-triggered).
void catalog_link_process (catalog_link_t *self);
//  Milliseconds until process must run again, -1 when nothing is timed.
int64_t catalog_link_next_timeout (catalog_link_t *self);

//  Once after the daemon that serves the local catalog (catalogd on a
//  server, forwarderd on a client) was first heard from (LINK_SEEN) or
//  seen restarted (LINK_RESTARTED, a new boot id: what was derived from it
//  must be resynced); 0 otherwise.
#define LINK_SEEN            1
#define LINK_RESTARTED       2
int catalog_link_restarted_take (catalog_link_t *self);

//  Whether a request for dc (NULL or "" = the local one) goes through
//  forwarderd.
bool catalog_link_forwards (catalog_link_t *self, const char *dc);

//  Runs a read for request, for the datacenter opts->dc (opts may be NULL:
//  local): from the cache when tables is non-zero and a valid entry
//  answers it, else through catalogd or forwarderd (the request is
//  suspended until the reply). meta adds the X-Consul-* headers. Takes
//  *body_p and adds the query options from opts to it.
void catalog_link_read (catalog_link_t *self, http_request_t *request,
                        const char *command, cJSON **body_p,
                        const query_opts_t *opts, unsigned tables, bool meta);
//  Like catalog_link_read without the cache, handing the reply body to fn
//  instead of answering (errors are answered as usual).
void catalog_link_read_then (catalog_link_t *self, http_request_t *request,
                             const char *command, cJSON **body_p,
                             const query_opts_t *opts,
                             catalog_link_then_fn *fn, void *arg);
//  Answers request with a read reply body: its Result rendered, with the
//  X-Consul-* headers from it when meta.
void catalog_link_reply_read (http_request_t *request, const cJSON *body,
                              bool meta);
//  Runs a write for request in dc (NULL = local); the reply's Result
//  becomes the body.
void catalog_link_write (catalog_link_t *self, http_request_t *request,
                         const char *command, cJSON **body_p, const char *dc);
//  Like catalog_link_write, handing the reply body to fn instead of
//  answering (errors are answered as usual).
void catalog_link_write_then (catalog_link_t *self, http_request_t *request,
                              const char *command, cJSON **body_p,
                              const char *dc, catalog_link_then_fn *fn,
                              void *arg);
//  GET /v1/catalog/datacenters: forwarderd's `datacenters` list.
void catalog_link_datacenters (catalog_link_t *self, http_request_t *request);

//  A call to the local catalog for httpd's own use (anti-entropy). Takes
//  *body_p. A write invalidates the cache on its reply. Returns the
//  request id, or 0 when the daemon is not connected (fn is then not
//  called).
uint64_t catalog_link_call (catalog_link_t *self, const char *command,
                            cJSON **body_p, bool write,
                            catalog_link_fn *fn, void *arg);
//  Forgets a call; its callback will not run.
void catalog_link_cancel (catalog_link_t *self, uint64_t id);

//  Answers every pending HTTP request with 503 (shutdown).
void catalog_link_abort_all (catalog_link_t *self);

#endif
