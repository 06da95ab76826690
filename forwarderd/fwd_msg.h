/*  fwd_msg: the request rules of the server RPC protocol
    (docs/protocol/server-rpc.md): which commands are forwarded, whether
    each is a read or a write and which daemon serves it, the type checks of the forwarding fields
    (Datacenter, ViaDatacenter, MinQueryIndex, MaxQueryTime), the deadline
    of every hop, and Consul's exact error words. Pure functions: no I/O. */
#ifndef FORWARDERD_FWD_MSG_H
#define FORWARDERD_FWD_MSG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Consul's sentinel errors (agent/structs/errors.go).
#define FWD_ERR_NO_PATH       "No path to datacenter"
#define FWD_ERR_NO_SERVER     "Remote DC has no server currently reachable"
#define FWD_ERR_NO_SERVERS    "No known Consul servers"
//  Consul's connection pool wraps every error a server returned with this.
#define FWD_ERR_CALL_PREFIX   "rpc error making call: "
#define FWD_ERR_CLIENT_PREFIX "rpc error getting client: "
//  A targeted request that never reached its server (or a read lost on
//  the way): the caller may try again. Never shown to HTTP clients.
#define FWD_CODE_MISDIRECTED  421

//  Hop margins added to the blocking budget (ms), outermost first.
#define FWD_MARGIN_CALLER  5000     //  httpd -> forwarderd
#define FWD_MARGIN_LAN     4000     //  client agent -> server
#define FWD_MARGIN_WAN     3500     //  server -> server of the target DC
#define FWD_MARGIN_LOCAL   3000     //  serving forwarderd -> catalogd
//  Under a caller's RequestTimeout: each hop answers this much earlier,
//  and gets at least FWD_HOP_MIN.
#define FWD_HOP_MARGIN     100
#define FWD_HOP_MIN        100

//  catalogd's blocking defaults (docs/protocol/catalog-rpc.md).
#define FWD_WAIT_DEFAULT_MS  300000
#define FWD_WAIT_MAX_MS      600000

#define FWD_DC_MAX 64
#define FWD_SERVER_MAX 96       //  "host:port" of the Server field

typedef enum {
    FWD_KIND_READ = 1,      //  forwarded; may be retried on another server
    FWD_KIND_WRITE,         //  forwarded; never re-sent once it may have arrived
    FWD_KIND_DATACENTERS,   //  answered by a server from its WAN pool
    FWD_KIND_STATS          //  answered by this forwarderd, never forwarded
} fwd_kind_t;

//  The daemon of the serving node that answers a forwarded command.
typedef enum {
    FWD_DAEMON_CATALOGD = 0,    //  catalog, health, status, operator, raft
    FWD_DAEMON_GOSSIPD,         //  coordinate.*: never blocks
    FWD_DAEMON_FORWARDERD       //  datacenters, stats
} fwd_daemon_t;

typedef struct {
    fwd_kind_t kind;
    fwd_daemon_t daemon;    //  who serves it in the target DC
    //  Target DC: the body's Datacenter, or the local DC when absent or "".
    char datacenter[FWD_DC_MAX];
    //  False when Datacenter is not a valid DC name (so no DC can match).
    bool datacenter_valid;
    //  ViaDatacenter, "" when absent.
    char via[FWD_DC_MAX];
    bool blocking;          //  MinQueryIndex > 0 on a catalogd read
    int64_t budget_ms;      //  0, or wait + wait/16 for a blocking read
    //  Server: "host:port" of the server of the local DC to send it to
    //  (honoured on requests from the node's own daemons), "" when absent.
    char server[FWD_SERVER_MAX];
    //  RequestTimeout: the caller's deadline in ms, 0 when absent.
    int64_t request_timeout_ms;
} fwd_request_t;

//  Kind of a command, or -1 when it is not one forwarderd serves.
int fwd_command_kind (const char *command, fwd_kind_t *kind);
//  The daemon that serves a command (FWD_DAEMON_CATALOGD when unknown).
fwd_daemon_t fwd_command_daemon (const char *command);

//  Checks the forwarding fields of a request body and fills info.
//  Returns 0, or -1 with the text of an ERR 400 in err.
int fwd_request_parse (const char *command, const cJSON *body,
                       const char *local_dc, fwd_request_t *info,
                       char *err, size_t err_size);

//  Deadline of a hop for this request: budget + margin, and never past
//  the caller's RequestTimeout (less a hop margin).
int64_t fwd_hop_timeout (const fwd_request_t *info, int64_t margin_ms);

//  Writes the text of an error relayed from another node: Consul's pool
//  prefix for Code >= 500, unchanged below.
void fwd_error_relay_text (int code, const char *text, char *buf,
                           size_t size);

#endif
