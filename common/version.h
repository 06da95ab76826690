/*  version: the one place Meridian's version lives. */
#ifndef MRD_VERSION_H
#define MRD_VERSION_H

#define MERIDIAN_VERSION "0.1.0"
#define MERIDIAN_REVISION "meridian"
//  Gossip protocol versions carried in member tags (vsn, vsn_min, vsn_max).
#define MERIDIAN_PROTOCOL 2
#define MERIDIAN_PROTOCOL_MIN 1
#define MERIDIAN_PROTOCOL_MAX 3

#endif
