/*  member: one pool's member table (name -> member record) and the JSON
    shape of a member (Consul's /v1/agent/members entry).
    Spec: docs/protocol/gossip.md, "Message rules" and "Local RPC". */
#ifndef GOSSIPD_MEMBER_H
#define GOSSIPD_MEMBER_H

#include "packet.h"
#include "suspicion.h"
#include "vivaldi.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

//  Same values as the wire's state field.
typedef enum {
    MEMBER_ALIVE = PACKET_STATE_ALIVE,
    MEMBER_SUSPECT = PACKET_STATE_SUSPECT,
    MEMBER_DEAD = PACKET_STATE_DEAD,
    MEMBER_LEFT = PACKET_STATE_LEFT
} member_state_t;

//  Serf's MemberStatus, as /v1/agent/members reports it.
#define MEMBER_STATUS_NONE    0
#define MEMBER_STATUS_ALIVE   1
#define MEMBER_STATUS_LEAVING 2
#define MEMBER_STATUS_LEFT    3
#define MEMBER_STATUS_FAILED  4

//  A member record; owned by the table.
typedef struct {
    char name[PACKET_NAME_MAX + 1];
    packet_addr_t addr;
    uint32_t incarnation;
    member_state_t state;
    int64_t state_at_ms;        //  monotonic time of the last state change
    uint8_t tags[PACKET_TAGS_MAX];
    size_t tags_len;
    suspicion_t *suspicion;     //  while suspect
    bool has_coord;             //  coord is the last one seen in its ack
    vivaldi_coord_t coord;
} member_t;

const char *member_state_name (member_state_t state);
//  Serf status of a member record (suspect counts as alive).
int member_status (const member_t *member);
//  Consul's member JSON with the given status. Caller owns return value.
cJSON *member_json (const member_t *member, int status);
//  The value of a tag (empty string when absent) into buf.
const char *member_tag (const member_t *member, const char *key, char *buf,
                        size_t size);

typedef struct _members_t members_t;

//  Caller owns return value.
members_t *members_new (void);
void members_destroy (members_t **self_p);

member_t *members_lookup (members_t *self, const char *name);
//  Adds an empty record with this name (state alive). NULL when the name is
//  there already or memory ran out.
member_t *members_insert (members_t *self, const char *name);
//  Removes and frees a record.
void members_remove (members_t *self, const char *name);
size_t members_size (members_t *self);
//  Record i in table order (changes when members are removed).
member_t *members_at (members_t *self, size_t index);

typedef bool (members_filter_fn) (void *arg, const member_t *member);
#define MEMBERS_RANDOM_MAX 64

//  Picks up to k (at most MEMBERS_RANDOM_MAX) distinct random members that
//  pass filter into out, in random order. Returns how many were picked.
size_t members_random (members_t *self, member_t **out, size_t k,
                       members_filter_fn *filter, void *arg);

#endif
