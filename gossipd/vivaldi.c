/*  vivaldi: serf's network coordinate client. Spec: docs/protocol/gossip.md,
    "Network coordinates" (serf coordinate/client.go and coordinate.go). */
#include "vivaldi.h"
#include "crypto.h"

#include <czmq.h>
#include <math.h>

#define ZERO_THRESHOLD 1.0e-6

typedef struct {
    double samples[VIVALDI_FILTER_SIZE];
    size_t count;
} filter_t;

struct _vivaldi_t {
    vivaldi_coord_t coord;
    vivaldi_coord_t origin;
    double adjustment_samples[VIVALDI_ADJUST_WINDOW];
    size_t adjustment_index;
    zhashx_t *filters;          //  node name -> filter_t
    unsigned resets;
};

void
vivaldi_coord_init (vivaldi_coord_t *coord)
{
    memset (coord, 0, sizeof *coord);
    coord->error = VIVALDI_ERROR_MAX;
    coord->height = VIVALDI_HEIGHT_MIN;
}

bool
vivaldi_coord_valid (const vivaldi_coord_t *coord)
{
    for (int i = 0; i < VIVALDI_DIMS; i++)
        if (!isfinite (coord->vec[i]))
            return false;
    return isfinite (coord->error) && isfinite (coord->adjustment)
           && isfinite (coord->height);
}

static double
s_raw_distance (const vivaldi_coord_t *a, const vivaldi_coord_t *b)
{
    double sum = 0;
    for (int i = 0; i < VIVALDI_DIMS; i++) {
        double d = a->vec[i] - b->vec[i];
        sum += d * d;
    }
    return sqrt (sum) + a->height + b->height;
}

double
vivaldi_distance (const vivaldi_coord_t *a, const vivaldi_coord_t *b)
{
    double dist = s_raw_distance (a, b);
    double adjusted = dist + a->adjustment + b->adjustment;
    return adjusted > 0.0 ? adjusted : dist;
}

cJSON *
vivaldi_coord_json (const vivaldi_coord_t *coord)
{
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddNumberToObject (json, "Adjustment", coord->adjustment);
    cJSON_AddNumberToObject (json, "Error", coord->error);
    cJSON_AddNumberToObject (json, "Height", coord->height);
    cJSON *vec = cJSON_AddArrayToObject (json, "Vec");
    for (int i = 0; i < VIVALDI_DIMS; i++)
        cJSON_AddItemToArray (vec, cJSON_CreateNumber (coord->vec[i]));
    return json;
}

//  The unit vector from b towards a and the distance between them; a
//  random direction when they coincide (serf unitVectorAt).
static double
s_unit_vector (const vivaldi_coord_t *a, const vivaldi_coord_t *b,
               double unit[VIVALDI_DIMS])
{
    double mag = 0;
    for (int i = 0; i < VIVALDI_DIMS; i++) {
        unit[i] = a->vec[i] - b->vec[i];
        mag += unit[i] * unit[i];
    }
    mag = sqrt (mag);
    if (mag > ZERO_THRESHOLD) {
        for (int i = 0; i < VIVALDI_DIMS; i++)
            unit[i] /= mag;
        return mag;
    }
    double random_mag = 0;
    for (int i = 0; i < VIVALDI_DIMS; i++) {
        unit[i] = (double) crypto_random_below (1u << 30) / (double) (1u << 30) - 0.5;
        random_mag += unit[i] * unit[i];
    }
    random_mag = sqrt (random_mag);
    if (random_mag > ZERO_THRESHOLD) {
        for (int i = 0; i < VIVALDI_DIMS; i++)
            unit[i] /= random_mag;
    }
    else {
        memset (unit, 0, VIVALDI_DIMS * sizeof (double));
        unit[0] = 1.0;
    }
    return 0.0;
}

static void
s_apply_force (vivaldi_coord_t *coord, double force, const vivaldi_coord_t *other)
{
    double unit[VIVALDI_DIMS];
    double mag = s_unit_vector (coord, other, unit);
    for (int i = 0; i < VIVALDI_DIMS; i++)
        coord->vec[i] += unit[i] * force;
    if (mag > ZERO_THRESHOLD) {
        coord->height = (coord->height + other->height) * force / mag + coord->height;
        if (coord->height < VIVALDI_HEIGHT_MIN)
            coord->height = VIVALDI_HEIGHT_MIN;
    }
}

static void
s_filter_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

vivaldi_t *
vivaldi_new (void)
{
    vivaldi_t *self = (vivaldi_t *) calloc (1, sizeof (vivaldi_t));
    if (!self)
        return NULL;
    vivaldi_coord_init (&self->coord);
    vivaldi_coord_init (&self->origin);
    self->filters = zhashx_new ();
    if (!self->filters) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->filters, s_filter_free);
    return self;
}

void
vivaldi_destroy (vivaldi_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->filters);
        free (*self_p);
        *self_p = NULL;
    }
}

const vivaldi_coord_t *
vivaldi_coord (vivaldi_t *self)
{
    return &self->coord;
}

unsigned
vivaldi_resets (vivaldi_t *self)
{
    return self->resets;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

//  Median of the last three samples for this node (serf latencyFilter).
static double
s_latency_filter (vivaldi_t *self, const char *node, double rtt)
{
    filter_t *filter = (filter_t *) zhashx_lookup (self->filters, node);
    if (!filter) {
        filter = (filter_t *) calloc (1, sizeof (filter_t));
        if (!filter || zhashx_insert (self->filters, node, filter) != 0) {
            free (filter);
            return rtt;
        }
    }
    if (filter->count == VIVALDI_FILTER_SIZE) {
        memmove (&filter->samples[0], &filter->samples[1],
                 (VIVALDI_FILTER_SIZE - 1) * sizeof (double));
        filter->count--;
    }
    filter->samples[filter->count++] = rtt;
    double sorted[VIVALDI_FILTER_SIZE];
    memcpy (sorted, filter->samples, filter->count * sizeof (double));
    qsort (sorted, filter->count, sizeof (double), s_compare_double);
    return sorted[filter->count / 2];
}

int
vivaldi_update (vivaldi_t *self, const char *node,
                const vivaldi_coord_t *other, double rtt_seconds)
{
    if (!vivaldi_coord_valid (other) || !isfinite (rtt_seconds)
        || rtt_seconds < 0 || rtt_seconds > VIVALDI_RTT_MAX)
        return -1;
    double rtt = s_latency_filter (self, node, rtt_seconds);

    //  Vivaldi step: move along the error-weighted spring force.
    double dist = vivaldi_distance (&self->coord, other);
    if (rtt < ZERO_THRESHOLD)
        rtt = ZERO_THRESHOLD;
    double wrongness = fabs (dist - rtt) / rtt;
    double total_error = self->coord.error + other->error;
    if (total_error < ZERO_THRESHOLD)
        total_error = ZERO_THRESHOLD;
    double weight = self->coord.error / total_error;
    self->coord.error = VIVALDI_CE * weight * wrongness
                        + self->coord.error * (1.0 - VIVALDI_CE * weight);
    if (self->coord.error > VIVALDI_ERROR_MAX)
        self->coord.error = VIVALDI_ERROR_MAX;
    double force = VIVALDI_CC * weight * (rtt - dist);
    s_apply_force (&self->coord, force, other);

    //  Adjustment: mean of recent (rtt - raw distance), halved.
    double raw = s_raw_distance (&self->coord, other);
    self->adjustment_samples[self->adjustment_index] = rtt - raw;
    self->adjustment_index = (self->adjustment_index + 1) % VIVALDI_ADJUST_WINDOW;
    double sum = 0;
    for (int i = 0; i < VIVALDI_ADJUST_WINDOW; i++)
        sum += self->adjustment_samples[i];
    self->coord.adjustment = sum / (2.0 * VIVALDI_ADJUST_WINDOW);

    //  Gravity towards the origin keeps the system from drifting.
    double origin_dist = vivaldi_distance (&self->origin, &self->coord);
    double gravity = -1.0 * pow (origin_dist / VIVALDI_GRAVITY_RHO, 2.0);
    s_apply_force (&self->coord, gravity, &self->origin);

    if (!vivaldi_coord_valid (&self->coord)) {
        self->resets++;
        vivaldi_coord_init (&self->coord);
    }
    return 0;
}

void
vivaldi_forget (vivaldi_t *self, const char *node)
{
    zhashx_delete (self->filters, node);
}
