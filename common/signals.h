/*  signals: SIGTERM/SIGINT ask for a clean exit, SIGHUP for a reload.
    Handlers only set flags (the only globals in Meridian); loops poll them. */
#ifndef MRD_SIGNALS_H
#define MRD_SIGNALS_H

#include <stdbool.h>

//  Installs the handlers and ignores SIGPIPE. Also tells czmq not to install
//  its own handlers (call before the first zsock is created).
void signals_install (void);
bool signals_terminate_requested (void);
//  True once per SIGHUP received.
bool signals_reload_take (void);
//  The write end of a self-pipe made readable by every handled signal, so a
//  poll loop wakes at once; -1 before signals_install.
int signals_fd (void);
void signals_drain (void);

#endif
