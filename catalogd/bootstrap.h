/*  bootstrap: how bootstrap_expect = N servers agree on their first raft
    configuration, exactly once (docs/catalogd.md, "Forming a cluster").

    A server whose raft holds no state runs rounds. A round takes the
    alive servers of its DC from the LAN pool; with at least N of them
    (itself included, no conflicting expect or bootstrap tag) it sets its
    *proposal* to that set joined with every server it proposed before
    (sorted by raft ID, "id@raft_address,...") and asks every other one for
    its raft status (command raft.status). Only if every answer says "no
    raft state, same proposal", and the set has not grown meanwhile, does
    it bootstrap with exactly that set. Any peer with raft state means a
    cluster exists: it starts without bootstrapping and waits for the
    leader to add it.

    Why never two configurations: a proposal changes only when a round
    begins and only grows, and a server answers raft.status with its
    current proposal. Let X bootstrap S1 and Z bootstrap S2, and p be in
    both (two sets of at least N servers out of at most 2N-1 intersect).
    p answered S1 to X and S2 to Z, so one contains the other, say
    S1 < S2. Then X is in S2 and Z asked X too, and X answered S2 with no
    raft state: after X's round (X's proposal was S1 then, and grows
    later) - but after its round X had bootstrapped. So S1 = S2, and every
    server that bootstraps writes the identical configuration; raft's log
    matching makes them one cluster. The cost: a server that dies during
    the agreement stays in the proposals of those that saw it, which wait
    (or adopt) until it is back or they are restarted.

    A server answers raft.status with the configuration it bootstrapped
    (while that is still its configuration). A server that finds itself in
    a peer's bootstrapped configuration bootstraps that same configuration
    (it adopts it): libraft servers without a configuration do not vote,
    so the first server to decide would otherwise wait forever for the
    votes of peers that saw it "already configured". Adopting copies a
    configuration that exists, so it never makes a second one. A peer with
    raft state and no configuration naming us means a running cluster:
    start without bootstrapping and wait for its leader to add us. Pure
    logic: the caller does the I/O. */
#ifndef CATALOGD_BOOTSTRAP_H
#define CATALOGD_BOOTSTRAP_H

#include "raftnode.h"
#include "servers.h"

typedef struct _catalog_bootstrap_t catalog_bootstrap_t;

typedef enum {
    CATALOG_BOOT_PENDING,   //  answers still missing
    CATALOG_BOOT_RETRY,     //  no agreement this round: try again later
    CATALOG_BOOT_EXISTS,    //  a peer has raft state: join, never bootstrap
    CATALOG_BOOT_GO,        //  bootstrap with catalog_bootstrap_configuration
    CATALOG_BOOT_ADOPT      //  same, a peer's bootstrapped configuration
} catalog_boot_outcome_t;

//  A peer to ask in the current round.
typedef struct {
    uint64_t raft_id;
    char name[CONFIG_NAME_MAX * 2];
    char server_address[CATALOG_SERVER_ADDRESS_MAX];   //  its server RPC
} catalog_boot_peer_t;

//  expect: bootstrap_expect (> 1); self: this server's raft ID and raft
//  address. Caller owns return value.
catalog_bootstrap_t *catalog_bootstrap_new (int expect, uint64_t self_id,
                                            const char *self_raft_address);
void catalog_bootstrap_destroy (catalog_bootstrap_t **self_p);

//  Begins a round from the current servers. Returns the number of peers to
//  ask (> 0), or -1 with why no round can start in reason (too few
//  servers, a conflicting expect tag, ...). A round in progress is
//  abandoned.
int catalog_bootstrap_begin (catalog_bootstrap_t *self,
                             catalog_servers_t *servers, char *reason,
                             size_t reason_size);
size_t catalog_bootstrap_peer_count (catalog_bootstrap_t *self);
const catalog_boot_peer_t *catalog_bootstrap_peer (catalog_bootstrap_t *self,
                                                   size_t i);

//  Records peer i's raft.status result (the REP's Result object), or NULL
//  when asking it failed.
void catalog_bootstrap_answer (catalog_bootstrap_t *self, size_t i,
                               const cJSON *status);

//  The round's outcome; servers is the current list (the set must not
//  have changed since the round began). Logs its reason for RETRY.
catalog_boot_outcome_t catalog_bootstrap_outcome (catalog_bootstrap_t *self,
                                                  catalog_servers_t *servers);

//  The configuration to bootstrap once the outcome is GO or ADOPT.
size_t catalog_bootstrap_configuration (catalog_bootstrap_t *self,
                                        const catalog_raft_server_t **servers_p);

//  This server's proposal, "" before its first round.
const char *catalog_bootstrap_proposal (catalog_bootstrap_t *self);

//  The proposal text of a configuration (servers sorted by ID, voters
//  only, "id@address,..."). Caller owns return value.
char *catalog_bootstrap_text (const catalog_raft_server_t *servers, size_t n);

#endif
