/*  record: the catalog's records (node, service, check) and the two write
    bodies of docs/protocol/catalog-rpc.md (Consul's /v1/catalog/register and
    /v1/catalog/deregister), parsed, validated and defaulted from JSON and
    written back as normalized JSON.

    One parser serves every way into the store: a client's request body, a
    raft log entry (docs/catalogd.md, "FSM commands") and a snapshot. Field
    names match Consul's case-insensitively, unknown fields are ignored, a
    JSON null counts as absent, and every present field is type-checked.

    Records are plain read-only structs once parsed; the store owns those it
    holds. Names and IDs compare case-insensitively, as in Consul. */
#ifndef CATALOGD_RECORD_H
#define CATALOGD_RECORD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Health status; the order is the aggregation order (worst wins).
typedef enum {
    CATALOG_PASSING = 0,
    CATALOG_WARNING = 1,
    CATALOG_CRITICAL = 2
} catalog_status_t;

typedef struct {
    char *name;                 //  Node
    char *id;                   //  ID: a UUID or ""
    char *address;              //  Address
    cJSON *tagged_addresses;    //  {"lan":"addr",...}, never NULL
    cJSON *meta;                //  NodeMeta {"k":"v"}, never NULL
    uint64_t create_index;
    uint64_t modify_index;
} catalog_node_t;

typedef struct {
    char *node;                 //  owning node's name
    char *id;                   //  ID, defaults to name
    char *name;                 //  Service
    char *kind;                 //  "" or connect-proxy, mesh-gateway, ...
    cJSON *tags;                //  ["tag",...], never NULL
    char *address;
    cJSON *tagged_addresses;    //  {"lan":{"Address":..,"Port":..}}, never NULL
    cJSON *meta;                //  {"k":"v"}, never NULL
    int port;
    int weight_passing;         //  Weights, default {1, 1}
    int weight_warning;
    bool enable_tag_override;
    cJSON *proxy;               //  object or NULL
    cJSON *connect;             //  object or NULL
    uint64_t create_index;
    uint64_t modify_index;
} catalog_service_t;

typedef struct {
    char *node;
    char *check_id;             //  CheckID, defaults to Name
    char *name;
    catalog_status_t status;    //  defaults to critical
    char *notes;
    char *output;
    char *service_id;           //  "" for a node-level check
    char *type;
    cJSON *definition;          //  object, never NULL
    uint64_t create_index;
    uint64_t modify_index;
} catalog_check_t;

//  A catalog.register body: the node, optionally one service, any checks.
typedef struct {
    catalog_node_t *node;
    bool skip_node_update;
    catalog_service_t *service;     //  or NULL
    catalog_check_t **checks;       //  Check and Checks, in order
    size_t check_count;
} catalog_reg_t;

//  A catalog.deregister body.
typedef struct {
    char *node;
    char *service_id;               //  "" when absent
    char *check_id;                 //  "" when absent
} catalog_dereg_t;

//  Status names: "passing", "warning", "critical".
const char *catalog_status_name (catalog_status_t status);
//  Parses a status name (exact, lower case). Returns 0/-1.
int catalog_status_parse (const char *text, catalog_status_t *status);
//  The aggregate of two statuses: the worse one.
catalog_status_t catalog_status_worst (catalog_status_t a, catalog_status_t b);

//  Parses Consul's register body: Node and Address required (Address may
//  be omitted with SkipNodeUpdate), ID a UUID, defaults applied (service ID
//  = Service, Weights {1,1}, CheckID = Name, check Status critical, check
//  Node = Node). Returns NULL with the reason in err.
//  Caller owns return value.
catalog_reg_t *catalog_reg_from_json (const cJSON *body, char *err,
                                      size_t err_size);
//  The normalized body (defaults filled in); parses back to an equal
//  registration. Caller owns return value.
cJSON *catalog_reg_to_json (const catalog_reg_t *self);
void catalog_reg_destroy (catalog_reg_t **self_p);

//  Parses Consul's deregister body: Node required, ServiceID and CheckID
//  optional strings. Caller owns return value.
catalog_dereg_t *catalog_dereg_from_json (const cJSON *body, char *err,
                                          size_t err_size);
//  Caller owns return value.
cJSON *catalog_dereg_to_json (const catalog_dereg_t *self);
void catalog_dereg_destroy (catalog_dereg_t **self_p);

//  Single records in the same JSON form, with CreateIndex and ModifyIndex
//  when with_indexes is true (the snapshot form). A service or check takes
//  its node name from node (a check's own Node field must match it).
//  Caller owns return values.
catalog_node_t *catalog_node_from_json (const cJSON *obj, bool with_indexes,
                                        char *err, size_t err_size);
cJSON *catalog_node_to_json (const catalog_node_t *self, bool with_indexes);
catalog_service_t *catalog_service_from_json (const cJSON *obj,
                                              const char *node,
                                              bool with_indexes,
                                              char *err, size_t err_size);
cJSON *catalog_service_to_json (const catalog_service_t *self,
                                bool with_indexes);
catalog_check_t *catalog_check_from_json (const cJSON *obj, const char *node,
                                          bool with_indexes,
                                          char *err, size_t err_size);
cJSON *catalog_check_to_json (const catalog_check_t *self, bool with_indexes);

void catalog_node_destroy (catalog_node_t **self_p);
void catalog_service_destroy (catalog_service_t **self_p);
void catalog_check_destroy (catalog_check_t **self_p);

//  True when two records hold the same content (indexes not compared).
bool catalog_node_same (const catalog_node_t *a, const catalog_node_t *b);
bool catalog_service_same (const catalog_service_t *a,
                           const catalog_service_t *b);
bool catalog_check_same (const catalog_check_t *a, const catalog_check_t *b);

//  True when the service carries tag (case-insensitive, as Consul's filter).
bool catalog_service_has_tag (const catalog_service_t *self, const char *tag);
//  True when every key/value of filter (an object of strings, may be NULL)
//  is in the node's meta.
bool catalog_node_meta_match (const catalog_node_t *self, const cJSON *filter);

#endif
