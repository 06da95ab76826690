/*  render: the catalog's records in Consul's exact JSON shapes, as listed
    in docs/protocol/catalog-rpc.md (PascalCase, [] never null, {} for empty
    maps). Pure functions; every return value is owned by the caller. */
#ifndef CATALOGD_RENDER_H
#define CATALOGD_RENDER_H

#include "record.h"

//  {ID,Node,Address,Datacenter,TaggedAddresses,Meta,CreateIndex,ModifyIndex}
cJSON *catalog_render_node (const catalog_node_t *node,
                            const char *datacenter);

//  One element of catalog.service: the node's fields, then the service's
//  as ServiceX fields, with the service's CreateIndex/ModifyIndex.
cJSON *catalog_render_service_node (const catalog_node_t *node,
                                    const catalog_service_t *service,
                                    const char *datacenter);

//  A node's service as in catalog.node and health.service:
//  {ID,Service,Tags,Address,TaggedAddresses,Meta,Port,Weights,
//   EnableTagOverride,Proxy,Connect,CreateIndex,ModifyIndex}
//  (Kind first when the service has one, as Consul omits it when empty).
cJSON *catalog_render_service (const catalog_service_t *service);

//  {Node,CheckID,Name,Status,Notes,Output,ServiceID,ServiceName,
//   ServiceTags,Type,Definition,CreateIndex,ModifyIndex}; service is the
//  check's service (NULL for a node-level check).
cJSON *catalog_render_check (const catalog_check_t *check,
                             const catalog_service_t *service);

#endif
