/*  vivaldi: network coordinates as serf computes them (hierarchical
    Vivaldi with height, adjustment window, latency filter and gravity; serf
    coordinate package constants). Spec: docs/protocol/gossip.md,
    "Network coordinates". Units are seconds. */
#ifndef GOSSIPD_VIVALDI_H
#define GOSSIPD_VIVALDI_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#define VIVALDI_DIMS            8
#define VIVALDI_ERROR_MAX       1.5
#define VIVALDI_CE              0.25
#define VIVALDI_CC              0.25
#define VIVALDI_ADJUST_WINDOW   20
#define VIVALDI_HEIGHT_MIN      10.0e-6
#define VIVALDI_FILTER_SIZE     3
#define VIVALDI_GRAVITY_RHO     150.0
#define VIVALDI_RTT_MAX         10.0

typedef struct {
    double vec[VIVALDI_DIMS];
    double error;
    double adjustment;
    double height;
} vivaldi_coord_t;

//  The origin coordinate of a node with no observation yet.
void vivaldi_coord_init (vivaldi_coord_t *coord);
//  True when every component is finite.
bool vivaldi_coord_valid (const vivaldi_coord_t *coord);
//  Estimated RTT in seconds between two coordinates (serf DistanceTo).
double vivaldi_distance (const vivaldi_coord_t *a, const vivaldi_coord_t *b);
//  {"Adjustment","Error","Height","Vec":[...]}. Caller owns return value.
cJSON *vivaldi_coord_json (const vivaldi_coord_t *coord);

typedef struct _vivaldi_t vivaldi_t;

//  Caller owns return value.
vivaldi_t *vivaldi_new (void);
void vivaldi_destroy (vivaldi_t **self_p);

//  Our current coordinate (borrowed).
const vivaldi_coord_t *vivaldi_coord (vivaldi_t *self);

//  Folds in one RTT observation to node whose coordinate is other.
//  Returns 0, or -1 (nothing changed) when other is not valid or the RTT
//  is outside 0..10 s.
int vivaldi_update (vivaldi_t *self, const char *node,
                    const vivaldi_coord_t *other, double rtt_seconds);

//  Drops the latency samples kept for node (when it leaves the pool).
void vivaldi_forget (vivaldi_t *self, const char *node);

//  How many times the coordinate became invalid and was reset.
unsigned vivaldi_resets (vivaldi_t *self);

#endif
