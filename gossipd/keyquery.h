/*  keyquery: cluster-wide keyring operations of one pool, like serf's
    internal key queries: applying an operation to the local keyring, the
    ids already seen, and the queries this node started with their replies
    counted into Consul's KeyringResponse. The pool carries the messages.
    Spec: docs/protocol/gossip.md, "Encryption and keyring". */
#ifndef GOSSIPD_KEYQUERY_H
#define GOSSIPD_KEYQUERY_H

#include "keyring.h"
#include "packet.h"

#include <cjson/cJSON.h>

#define KEYQUERY_SEEN_MAX 256

//  Called once a query ended; takes *result_p (NULL when out of memory):
//  {"WAN","Datacenter","Segment","Keys","PrimaryKeys","NumNodes","NumResp",
//  "NumErr","Messages","Error"}, Error "" when every node succeeded.
typedef void (keyquery_fn) (void *arg, cJSON **result_p);

typedef struct _keyquery_t keyquery_t;

//  Caller owns return value.
keyquery_t *keyquery_new (bool wan, const char *datacenter);
//  Queries still running are dropped without callback.
void keyquery_destroy (keyquery_t **self_p);

//  True when this operation id was seen already; records it otherwise.
bool keyquery_seen (keyquery_t *self, uint64_t id);

//  Applies an operation (PACKET_OP_*) to keyring and describes the outcome
//  as node's key-reply in reply (keys listed for list). Returns 1 when the
//  keyring changed, 0 when not, -1 when the operation failed.
int keyquery_apply (keyring_t *keyring, int op, const uint8_t *key, size_t key_len,
                    uint64_t id, const char *node, packet_msg_t *reply);

//  Tracks a query we started: num_nodes replies expected (ours included)
//  until deadline_ms; msg is the encoded key-op (kept for the resend).
//  Returns 0/-1 (out of memory: fn is not kept).
int keyquery_start (keyquery_t *self, uint64_t id, size_t num_nodes,
                    int64_t now_ms, int64_t deadline_ms, const uint8_t *msg,
                    size_t msg_len, keyquery_fn *fn, void *arg);
//  True when node already answered the query with this id.
bool keyquery_responded (keyquery_t *self, uint64_t id, const char *node);
//  Counts a key-reply (once per node) for the query with its id.
void keyquery_reply (keyquery_t *self, const packet_msg_t *reply);
//  Sends the key-op again to the members that did not answer.
typedef void (keyquery_resend_fn) (void *arg, uint64_t id, const uint8_t *msg,
                                   size_t len);

//  Halfway to its deadline a query's key-op is resent once through
//  resend; queries that have every reply or are past their deadline are
//  finished. Returns the next due time (ms) or INT64_MAX.
int64_t keyquery_tick (keyquery_t *self, int64_t now_ms, keyquery_resend_fn *resend,
                       void *arg);

#endif
