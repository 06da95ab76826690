/*  fwd_routes: the server lists forwarderd routes by, one per datacenter,
    built from gossipd's member lists (docs/protocol/server-rpc.md,
    "Routing" and "Membership"). A server holds one table for the WAN pool
    (every DC's servers); a client agent one for its LAN pool (the servers
    of its own DC). Lists are shuffles: a new server lands at a random
    place, known servers keep theirs across updates, a server that failed
    a request moves to the back, and rebalance reshuffles. */
#ifndef FORWARDERD_FWD_ROUTES_H
#define FORWARDERD_FWD_ROUTES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_ADDRESS_MAX 96      //  "ip:port" or "[ipv6]:port"

typedef struct _fwd_routes_t fwd_routes_t;

typedef enum {
    FWD_ROUTE_OK = 0,
    FWD_ROUTE_NO_PATH = -1,     //  the DC is not known
    FWD_ROUTE_NO_SERVER = -2    //  known, but no server is usable
} fwd_route_status_t;

//  Member status, as gossipd reports it (Consul's serf.MemberStatus).
typedef enum {
    FWD_MEMBER_NONE = 0,
    FWD_MEMBER_ALIVE = 1,
    FWD_MEMBER_LEAVING = 2,
    FWD_MEMBER_LEFT = 3,
    FWD_MEMBER_FAILED = 4
} fwd_member_status_t;

//  Tells whether a listed, alive server may be used now (e.g. its
//  connection is not known to be down).
typedef bool (fwd_routes_usable_fn) (void *arg, const char *dc,
                                     const char *address);

//  local_dc names this node's DC; with lan, update keeps only servers of
//  that DC. seed makes the shuffles reproducible (tests); 0 = random.
//  Caller owns return value.
fwd_routes_t *fwd_routes_new (const char *local_dc, bool lan, uint64_t seed);
void fwd_routes_destroy (fwd_routes_t **self_p);

//  Replaces the lists from a member list (the JSON array of gossipd's
//  `members`: Consul's /v1/agent/members shape). Members that are not
//  servers (Tags.role != "consul"), have left, or are malformed are
//  skipped. Returns the number of servers listed, or -1 (nothing changed)
//  when members is not an array.
int fwd_routes_update (fwd_routes_t *self, const cJSON *members);

//  Picks the first usable server of dc other than exclude (NULL: none),
//  writing "host:port" into address. usable may be NULL.
fwd_route_status_t fwd_routes_pick (fwd_routes_t *self, const char *dc,
                                    const char *exclude,
                                    fwd_routes_usable_fn *usable, void *arg,
                                    char *address, size_t size);

//  Moves a server to the back of its DC's list. Unknown ones are ignored.
void fwd_routes_fail (fwd_routes_t *self, const char *dc, const char *address);

//  Reshuffles every DC's list (Consul's periodic rebalance).
void fwd_routes_rebalance (fwd_routes_t *self);

bool fwd_routes_known (fwd_routes_t *self, const char *dc);
//  True when address is listed as a server of dc (any status).
bool fwd_routes_has (fwd_routes_t *self, const char *dc, const char *address);
size_t fwd_routes_server_count (fwd_routes_t *self, const char *dc);

//  DC names, the local DC first (always listed), then by name.
//  Caller owns return value.
cJSON *fwd_routes_datacenters (fwd_routes_t *self);

//  {"dc":[{"Name","Address","Status"}...]} in list order.
//  Caller owns return value.
cJSON *fwd_routes_dump (fwd_routes_t *self);

//  Members skipped as malformed since creation.
uint64_t fwd_routes_malformed (fwd_routes_t *self);

#endif
