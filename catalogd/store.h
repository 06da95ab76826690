/*  store: catalogd's in-memory state store, the state machine that raft
    drives (docs/protocol/catalog-rpc.md, docs/catalogd.md).

    Tables: nodes, services, checks, each with its own index (the raft index
    of the last entry that changed it), so a blocking read wakes only when a
    table it reads changes. Later issues add tables (intentions, CA state,
    prepared queries) as more bits of the same mask.

    Consul's rules: a service ID is unique per node; a check may name a
    service of its own node; deregistering a node removes its services and
    checks; deregistering a service removes its checks; a write that changes
    nothing leaves the tables (and their indexes) alone. Names and IDs are
    case-insensitive keys. Services are indexed by name, so reading one
    service never scans the catalog. */
#ifndef CATALOGD_STORE_H
#define CATALOGD_STORE_H

#include "record.h"

//  Table bits; a mask says which tables a read uses or a write changed.
#define CATALOG_TABLE_NODES     (1u << 0)
#define CATALOG_TABLE_SERVICES  (1u << 1)
#define CATALOG_TABLE_CHECKS    (1u << 2)
#define CATALOG_TABLE_COUNT     3
#define CATALOG_TABLES_ALL      ((1u << CATALOG_TABLE_COUNT) - 1)

typedef struct _catalog_store_t catalog_store_t;

//  A growable array of borrowed record pointers, filled by the readers.
typedef struct {
    const void **items;
    size_t size;
    size_t capacity;
} catalog_list_t;

void catalog_list_push (catalog_list_t *self, const void *item);
void catalog_list_clear (catalog_list_t *self);
void catalog_list_free (catalog_list_t *self);

//  Table name of one bit ("nodes", "services", "checks").
const char *catalog_table_name (unsigned table);

//  Caller owns return value.
catalog_store_t *catalog_store_new (void);
void catalog_store_destroy (catalog_store_t **self_p);

//  Checks a registration against the current state without changing it.
//  Returns 0, or -1 with *error set to a static text.
int catalog_store_register_validate (catalog_store_t *self,
                                     const catalog_reg_t *reg,
                                     const char **error);
//  Applies a registration at raft index: validates as above, then moves
//  the records out of reg into the store (reg keeps what was not needed).
//  *tables gets the mask of tables changed (0 when nothing changed).
//  Returns 0, or -1 with *error (static text) and nothing changed.
int catalog_store_register (catalog_store_t *self, catalog_reg_t *reg,
                            uint64_t index, unsigned *tables,
                            const char **error);
//  Applies a deregistration at raft index (removing what is absent is a
//  no-op). *tables gets the mask of tables changed. Returns 0.
int catalog_store_deregister (catalog_store_t *self,
                              const catalog_dereg_t *dereg, uint64_t index,
                              unsigned *tables);

//  The max index of the tables in mask (0 when never written).
uint64_t catalog_store_index (catalog_store_t *self, unsigned tables);
//  Bumped whenever the whole state is replaced (restore): cached results
//  of an older epoch are stale whatever their table indexes say.
uint64_t catalog_store_epoch (catalog_store_t *self);

//  Readers. Records are borrowed until the next write.
size_t catalog_store_node_count (catalog_store_t *self);
const catalog_node_t *catalog_store_node (catalog_store_t *self,
                                          const char *name);
void catalog_store_nodes (catalog_store_t *self, catalog_list_t *out);
void catalog_store_node_services (catalog_store_t *self, const char *node,
                                  catalog_list_t *out);
void catalog_store_node_checks (catalog_store_t *self, const char *node,
                                catalog_list_t *out);
const catalog_service_t *catalog_store_service (catalog_store_t *self,
                                                const char *node,
                                                const char *service_id);
//  Every instance of the service named name (any node).
void catalog_store_service_instances (catalog_store_t *self,
                                      const char *name, catalog_list_t *out);
//  One instance per distinct service name (as a handle on the name).
void catalog_store_service_names (catalog_store_t *self, catalog_list_t *out);
void catalog_store_checks (catalog_store_t *self, catalog_list_t *out);

//  The whole state as JSON text (the snapshot format of docs/catalogd.md).
//  Caller owns return value (free).
char *catalog_store_snapshot (catalog_store_t *self, size_t *size);
//  Replaces the whole state from snapshot text. Returns 0, or -1 with the
//  reason in err and the state unchanged.
int catalog_store_restore (catalog_store_t *self, const char *data,
                           size_t size, char *err, size_t err_size);

#endif
