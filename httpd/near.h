/*  near: Consul's ?near=<node> ordering of catalog and health results
    (agent/consul/rtt.go): results sorted by the estimated round-trip time
    from the source node, computed from network coordinates (serf's
    Vivaldi DistanceTo: Euclidean distance of the vectors plus both
    heights, plus both adjustments when that stays positive, in whole
    nanoseconds). Results whose node has no coordinate go last; the sort
    is stable, so equal distances keep the catalog's order. Without a
    coordinate for the source node the order is left as it is. Pure
    functions over cJSON; the coordinates come from gossipd's
    coordinate.nodes (docs/protocol/gossip.md). */
#ifndef HTTPD_NEAR_H
#define HTTPD_NEAR_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Vivaldi dimensions at most (serf uses 8).
#define NEAR_DIMENSIONS_MAX 16

typedef struct {
    double vec [NEAR_DIMENSIONS_MAX];
    size_t dimensions;
    double error;
    double adjustment;
    double height;
} near_coord_t;

//  Where a result names its node.
typedef enum {
    NEAR_KEY_NODE = 1,      //  "Node": "n1" (catalog nodes/service, checks)
    NEAR_KEY_NODE_NODE      //  "Node": {"Node": "n1"} (health service)
} near_key_t;

//  Parses {"Vec":[...],"Error","Adjustment","Height"}: Vec of 1 to
//  NEAR_DIMENSIONS_MAX finite numbers, the others finite (missing ones are
//  0). Returns 0, or -1 when malformed.
int near_coord_parse (const cJSON *json, near_coord_t *coord);

//  The estimated RTT between two coordinates in nanoseconds, as serf's
//  DistanceTo turns it into a time.Duration. Returns -1 when the
//  coordinates have different dimensions (no estimate).
int64_t near_distance_ns (const near_coord_t *a, const near_coord_t *b);

//  Sorts results (a JSON array, reordered in place) by distance from the
//  node source, with the coordinates of coordinate.nodes
//  ([{"Node","Segment","Coord"}]). Returns true when it sorted, false when
//  it left the order unchanged (no coordinate for source, results not an
//  array, allocation failure).
bool near_sort (cJSON *results, near_key_t key, const cJSON *coordinates,
                const char *source);

#endif
