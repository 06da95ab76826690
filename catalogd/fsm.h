/*  fsm: the catalog's state machine commands, i.e. what a raft log entry
    holds, and their application to the store. Format (docs/catalogd.md):

        {"V":1,"Op":"register","Body":{<normalized register body>}}
        {"V":1,"Op":"deregister","Body":{"Node":..,"ServiceID":..,"CheckID":..}}

    Applying never fails hard: raft stops applying forever if the FSM
    reports an error, so a malformed or rejected entry is logged, counted
    and applied as a no-op; its outcome goes back to the proposer as text.
    Later issues add operations (intentions, CA, prepared queries) as new Op
    values of the same version. */
#ifndef CATALOGD_FSM_H
#define CATALOGD_FSM_H

#include "store.h"

#define CATALOG_FSM_VERSION 1

typedef enum {
    CATALOG_OP_REGISTER = 1,
    CATALOG_OP_DEREGISTER
} catalog_op_t;

typedef struct _catalog_fsm_t catalog_fsm_t;

//  Called after an entry changed state: its raft index and the tables it
//  changed (a mask of CATALOG_TABLE_*).
typedef void (catalog_fsm_change_fn) (void *arg, uint64_t index,
                                      unsigned tables);

//  Encodes a command around body (already validated and normalized).
//  Caller owns return value (free); *size gets its length.
char *catalog_fsm_encode (catalog_op_t op, const cJSON *body, size_t *size);

//  Decodes an entry into op and body. Returns 0, or -1 with a static
//  reason. Caller owns *body_p.
int catalog_fsm_decode (const void *data, size_t size, catalog_op_t *op,
                        cJSON **body_p, const char **reason);

//  The store stays owned by the caller. Caller owns return value.
catalog_fsm_t *catalog_fsm_new (catalog_store_t *store);
void catalog_fsm_destroy (catalog_fsm_t **self_p);

void catalog_fsm_set_change_fn (catalog_fsm_t *self,
                                catalog_fsm_change_fn *fn, void *arg);

//  Applies one log entry at raft index. Returns NULL when applied (even if
//  nothing changed), or a static text saying why it was not: malformed
//  entry or rejected by the store's rules.
const char *catalog_fsm_apply (catalog_fsm_t *self, const void *data,
                               size_t size, uint64_t index);

//  Entries applied, and those dropped as malformed or rejected.
uint64_t catalog_fsm_applied (catalog_fsm_t *self);
uint64_t catalog_fsm_malformed (catalog_fsm_t *self);
uint64_t catalog_fsm_rejected (catalog_fsm_t *self);

//  The whole state as snapshot text. Caller owns return value (free).
char *catalog_fsm_snapshot (catalog_fsm_t *self, size_t *size);
//  Replaces the state from snapshot text; on success every table counts as
//  changed (the change callback gets the store's max index and all tables).
//  Returns 0, or -1 with the reason in err and the state unchanged.
int catalog_fsm_restore (catalog_fsm_t *self, const void *data, size_t size,
                         char *err, size_t err_size);

catalog_store_t *catalog_fsm_store (catalog_fsm_t *self);

#endif
