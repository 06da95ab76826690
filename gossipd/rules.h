/*  rules: the acceptance rules of one pool (Consul's merge delegates),
    applied to every member learnt by gossip or push-pull. LAN: the
    member's datacenter must be ours and its node id must not be ours
    under another name; WAN: the member must be a server.
    Spec: docs/protocol/gossip.md, "Pool rules". */
#ifndef GOSSIPD_RULES_H
#define GOSSIPD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rules_t rules_t;

//  name, node_id and datacenter are ours (copied). Caller owns return
//  value.
rules_t *rules_new (bool wan, const char *name, const char *node_id,
                    const char *datacenter);
void rules_destroy (rules_t **self_p);

//  Checks member name with its encoded tags. Returns 0, or -1 with
//  Consul's reason in err.
int rules_accept (rules_t *self, const char *name, const uint8_t *tags,
                  size_t tags_len, char *err, size_t err_size);

#endif
