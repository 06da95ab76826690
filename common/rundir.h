/*  rundir: the node's private directory of ipc sockets, <data_dir>/run
    (mode 0700), and the endpoint names of each daemon in it. */
#ifndef MRD_RUNDIR_H
#define MRD_RUNDIR_H

#include <stddef.h>

//  Creates <data_dir> (0700 if new) and <data_dir>/run with mode 0700,
//  fixing the mode if the directory exists. Returns 0/-1 (errno set).
int rundir_prepare (const char *data_dir);

//  Writes "ipc://<data_dir>/run/<daemon>.<kind>" to buf, kind being "rpc"
//  (the daemon's ROUTER) or "pub" (its PUB). Returns 0, or -1 when the path
//  does not fit a Unix socket path (108 bytes) or buf.
int rundir_endpoint (const char *data_dir, const char *daemon,
                     const char *kind, char *buf, size_t size);

#endif
