/*  resolver: host name lookups for join addresses, off the event loop. One
    worker thread runs getaddrinfo for the lookups queued, in order, and
    wakes the loop through a pipe when a result is ready. Spec:
    docs/protocol/gossip.md, "Join addresses". */
#ifndef GOSSIPD_RESOLVER_H
#define GOSSIPD_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netdb.h>

#include "packet.h"

#define RESOLVER_HOST_MAX 253

typedef struct _resolver_t resolver_t;

//  One finished lookup: ok, addr holds the first address of the family
//  asked for; otherwise error says why.
typedef struct {
    uint64_t cookie;
    bool ok;
    packet_addr_t addr;
    char error[RESOLVER_HOST_MAX + 128];
} resolver_result_t;

//  Splits "host" or "host:port" (default_port when none). Returns 0, or -1
//  when text is not a host name (config_host_name_valid) with an optional
//  port.
int resolver_split (const char *text, uint16_t default_port, char *host, size_t host_size,
                    uint16_t *port);

//  The lookup the worker runs: getaddrinfo, or a test's stand-in.
typedef int (resolver_getaddrinfo_fn) (const char *node, const char *service,
                                       const struct addrinfo *hints, struct addrinfo **res);

//  family: 4 or 6, the family of the addresses wanted. Starts the worker
//  thread. Caller owns return value; NULL when out of memory or threads.
resolver_t *resolver_new (int family);
//  The same with another lookup function (tests).
resolver_t *resolver_new_with (int family, resolver_getaddrinfo_fn *lookup);
//  Stops the worker. A lookup in progress gets 200 ms to end; after that
//  the worker is left to free what it shares when the lookup returns.
void resolver_destroy (resolver_t **self_p);

//  Readable while results wait for resolver_take.
int resolver_fd (resolver_t *self);
//  Queues a lookup of host (a name resolver_split accepted). Returns 0/-1
//  (out of memory).
int resolver_lookup (resolver_t *self, const char *host, uint16_t port, uint64_t cookie);
//  Takes the oldest finished lookup. Returns true when there was one.
bool resolver_take (resolver_t *self, resolver_result_t *result);

#endif
