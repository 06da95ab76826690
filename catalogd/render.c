/*  render: Consul's JSON shapes of nodes, services and checks (see
    render.h; docs/protocol/catalog-rpc.md). */
#include "render.h"

#include <assert.h>

static cJSON *
s_copy (const cJSON *item)
{
    cJSON *copy = item ? cJSON_Duplicate (item, true) : cJSON_CreateObject ();
    assert (copy);
    return copy;
}

static void
s_add_indexes (cJSON *obj, uint64_t create_index, uint64_t modify_index)
{
    cJSON_AddNumberToObject (obj, "CreateIndex", (double) create_index);
    cJSON_AddNumberToObject (obj, "ModifyIndex", (double) modify_index);
}

static cJSON *
s_weights (const catalog_service_t *service)
{
    cJSON *weights = cJSON_CreateObject ();
    assert (weights);
    cJSON_AddNumberToObject (weights, "Passing", service->weight_passing);
    cJSON_AddNumberToObject (weights, "Warning", service->weight_warning);
    return weights;
}

cJSON *
catalog_render_node (const catalog_node_t *node, const char *datacenter)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "ID", node->id);
    cJSON_AddStringToObject (obj, "Node", node->name);
    cJSON_AddStringToObject (obj, "Address", node->address);
    cJSON_AddStringToObject (obj, "Datacenter", datacenter);
    cJSON_AddItemToObject (obj, "TaggedAddresses",
                           s_copy (node->tagged_addresses));
    cJSON_AddItemToObject (obj, "Meta", s_copy (node->meta));
    s_add_indexes (obj, node->create_index, node->modify_index);
    return obj;
}

cJSON *
catalog_render_service_node (const catalog_node_t *node,
                             const catalog_service_t *service,
                             const char *datacenter)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "ID", node->id);
    cJSON_AddStringToObject (obj, "Node", node->name);
    cJSON_AddStringToObject (obj, "Address", node->address);
    cJSON_AddStringToObject (obj, "Datacenter", datacenter);
    cJSON_AddItemToObject (obj, "TaggedAddresses",
                           s_copy (node->tagged_addresses));
    cJSON_AddItemToObject (obj, "NodeMeta", s_copy (node->meta));
    cJSON_AddStringToObject (obj, "ServiceKind", service->kind);
    cJSON_AddStringToObject (obj, "ServiceID", service->id);
    cJSON_AddStringToObject (obj, "ServiceName", service->name);
    cJSON_AddItemToObject (obj, "ServiceTags", s_copy (service->tags));
    cJSON_AddStringToObject (obj, "ServiceAddress", service->address);
    cJSON_AddItemToObject (obj, "ServiceTaggedAddresses",
                           s_copy (service->tagged_addresses));
    cJSON_AddItemToObject (obj, "ServiceWeights", s_weights (service));
    cJSON_AddItemToObject (obj, "ServiceMeta", s_copy (service->meta));
    cJSON_AddNumberToObject (obj, "ServicePort", service->port);
    cJSON_AddBoolToObject (obj, "ServiceEnableTagOverride",
                           service->enable_tag_override);
    cJSON_AddItemToObject (obj, "ServiceProxy", s_copy (service->proxy));
    cJSON_AddItemToObject (obj, "ServiceConnect", s_copy (service->connect));
    s_add_indexes (obj, service->create_index, service->modify_index);
    return obj;
}

cJSON *
catalog_render_service (const catalog_service_t *service)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    if (*service->kind)
        cJSON_AddStringToObject (obj, "Kind", service->kind);
    cJSON_AddStringToObject (obj, "ID", service->id);
    cJSON_AddStringToObject (obj, "Service", service->name);
    cJSON_AddItemToObject (obj, "Tags", s_copy (service->tags));
    cJSON_AddStringToObject (obj, "Address", service->address);
    cJSON_AddItemToObject (obj, "TaggedAddresses",
                           s_copy (service->tagged_addresses));
    cJSON_AddItemToObject (obj, "Meta", s_copy (service->meta));
    cJSON_AddNumberToObject (obj, "Port", service->port);
    cJSON_AddItemToObject (obj, "Weights", s_weights (service));
    cJSON_AddBoolToObject (obj, "EnableTagOverride",
                           service->enable_tag_override);
    cJSON_AddItemToObject (obj, "Proxy", s_copy (service->proxy));
    cJSON_AddItemToObject (obj, "Connect", s_copy (service->connect));
    s_add_indexes (obj, service->create_index, service->modify_index);
    return obj;
}

cJSON *
catalog_render_check (const catalog_check_t *check,
                      const catalog_service_t *service)
{
    cJSON *obj = cJSON_CreateObject ();
    assert (obj);
    cJSON_AddStringToObject (obj, "Node", check->node);
    cJSON_AddStringToObject (obj, "CheckID", check->check_id);
    cJSON_AddStringToObject (obj, "Name", check->name);
    cJSON_AddStringToObject (obj, "Status", catalog_status_name (check->status));
    cJSON_AddStringToObject (obj, "Notes", check->notes);
    cJSON_AddStringToObject (obj, "Output", check->output);
    cJSON_AddStringToObject (obj, "ServiceID", check->service_id);
    cJSON_AddStringToObject (obj, "ServiceName", service ? service->name : "");
    cJSON *tags = service ? cJSON_Duplicate (service->tags, true)
                          : cJSON_CreateArray ();
    assert (tags);
    cJSON_AddItemToObject (obj, "ServiceTags", tags);
    cJSON_AddStringToObject (obj, "Type", check->type);
    cJSON_AddItemToObject (obj, "Definition", s_copy (check->definition));
    s_add_indexes (obj, check->create_index, check->modify_index);
    return obj;
}
