/*  near: distance-ordered results for ?near (see near.h). */
#include "near.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_number (const cJSON *json, const char *name, double *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    *value = 0;
    if (!item)
        return 0;
    if (!cJSON_IsNumber (item) || !isfinite (item->valuedouble))
        return -1;
    *value = item->valuedouble;
    return 0;
}

int
near_coord_parse (const cJSON *json, near_coord_t *coord)
{
    memset (coord, 0, sizeof *coord);
    if (!cJSON_IsObject (json))
        return -1;
    const cJSON *vec = cJSON_GetObjectItemCaseSensitive (json, "Vec");
    int size = cJSON_IsArray (vec) ? cJSON_GetArraySize (vec) : 0;
    if (size < 1 || size > NEAR_DIMENSIONS_MAX)
        return -1;
    const cJSON *item;
    cJSON_ArrayForEach (item, vec) {
        if (!cJSON_IsNumber (item) || !isfinite (item->valuedouble))
            return -1;
        coord->vec [coord->dimensions++] = item->valuedouble;
    }
    if (s_number (json, "Error", &coord->error)
    ||  s_number (json, "Adjustment", &coord->adjustment)
    ||  s_number (json, "Height", &coord->height))
        return -1;
    return 0;
}

int64_t
near_distance_ns (const near_coord_t *a, const near_coord_t *b)
{
    if (a->dimensions != b->dimensions)
        return -1;
    double sum = 0;
    for (size_t i = 0; i < a->dimensions; i++) {
        double diff = a->vec [i] - b->vec [i];
        sum += diff * diff;
    }
    double dist = sqrt (sum) + a->height + b->height;
    double adjusted = dist + a->adjustment + b->adjustment;
    if (adjusted > 0.0)
        dist = adjusted;
    //  time.Duration(dist * 1e9) truncates toward zero; stay in range.
    double ns = dist * 1e9;
    if (!(ns < 9.2e18))
        return INT64_MAX;
    if (ns < 0)
        return 0;
    return (int64_t) ns;
}

//  The node a result names, NULL when none.
static const char *
s_result_node (const cJSON *result, near_key_t key)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive (result, "Node");
    if (key == NEAR_KEY_NODE_NODE)
        node = cJSON_GetObjectItemCaseSensitive (node, "Node");
    return cJSON_GetStringValue (node);
}

//  coordinate.nodes entries sorted by node name, for lookups.
typedef struct {
    const char *node;
    const cJSON *coord;
} s_entry_t;

static int
s_compare_entries (const void *a, const void *b)
{
    return strcmp (((const s_entry_t *) a)->node, ((const s_entry_t *) b)->node);
}

//  The coordinate of node; false when it has none (or a malformed one).
static bool
s_find_coord (const s_entry_t *entries, size_t count, const char *node,
              near_coord_t *coord)
{
    if (!node || !count)
        return false;
    s_entry_t key = { node, NULL };
    const s_entry_t *found = bsearch (&key, entries, count, sizeof (s_entry_t),
                                      s_compare_entries);
    return found && near_coord_parse (found->coord, coord) == 0;
}

typedef struct {
    cJSON *item;
    size_t position;
    bool known;
    int64_t distance;
} s_ranked_t;

static int
s_compare (const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    if (x->known != y->known)
        return x->known ? -1 : 1;
    if (x->known && x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

bool
near_sort (cJSON *results, near_key_t key, const cJSON *coordinates,
           const char *source)
{
    if (!cJSON_IsArray (results) || !cJSON_IsArray (coordinates))
        return false;
    size_t total = (size_t) cJSON_GetArraySize (coordinates);
    s_entry_t *entries = calloc (total + 1, sizeof (s_entry_t));
    if (!entries)
        return false;
    size_t known = 0;
    const cJSON *entry;
    cJSON_ArrayForEach (entry, coordinates) {
        const char *name = cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (entry, "Node"));
        if (name && known < total) {
            entries [known].node = name;
            entries [known++].coord = cJSON_GetObjectItemCaseSensitive (entry, "Coord");
        }
    }
    qsort (entries, known, sizeof (s_entry_t), s_compare_entries);
    near_coord_t from;
    size_t count = (size_t) cJSON_GetArraySize (results);
    s_ranked_t *ranked = calloc (count + 1, sizeof (s_ranked_t));
    if (!ranked || !s_find_coord (entries, known, source, &from)) {
        free (ranked);
        free (entries);
        return false;
    }
    size_t n = 0;
    for (cJSON *item = results->child; item && n < count; item = item->next) {
        s_ranked_t *rank = &ranked [n];
        rank->item = item;
        rank->position = n++;
        near_coord_t to;
        if (s_find_coord (entries, known, s_result_node (item, key), &to)) {
            rank->distance = near_distance_ns (&from, &to);
            rank->known = rank->distance >= 0;
        }
    }
    free (entries);
    if (n < 2) {
        free (ranked);
        return true;
    }
    qsort (ranked, n, sizeof (s_ranked_t), s_compare);
    //  Relink the items in their new order.
    for (size_t i = 0; i < n; i++) {
        ranked [i].item->prev = i > 0 ? ranked [i - 1].item : ranked [n - 1].item;
        ranked [i].item->next = i + 1 < n ? ranked [i + 1].item : NULL;
    }
    results->child = ranked [0].item;
    free (ranked);
    return true;
}
