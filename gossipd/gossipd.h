/*  gossipd: the gossip daemon: the LAN pool (and the WAN pool on servers),
    the keyrings and their file, member events on the PUB, flood join,
    retry_join, catalog reflection on servers, and the one-thread zmq_poll
    loop over all of it. Spec: docs/protocol/gossip.md. */
#ifndef GOSSIPD_GOSSIPD_H
#define GOSSIPD_GOSSIPD_H

#include "config.h"

typedef struct _gossipd_t gossipd_t;

//  Loads the keyring, binds the pools and the RPC sockets (the run dir
//  must exist). NULL (logged) on failure. Caller owns return value.
gossipd_t *gossipd_new (const config_t *config);
void gossipd_destroy (gossipd_t **self_p);

//  Runs until SIGTERM/SIGINT; does not leave the pools (Consul's
//  leave_on_terminate=false). Returns 0.
int gossipd_run (gossipd_t *self);

#endif
