/*  signals: flags and a self-pipe set by the handlers; nothing else runs in
    signal context. The flags are the only globals Meridian has. */
#include "signals.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t s_terminate = 0;
static volatile sig_atomic_t s_reload = 0;
static int s_pipe[2] = { -1, -1 };

static void
s_handle (int signum)
{
    int saved = errno;
    if (signum == SIGHUP)
        s_reload = 1;
    else
        s_terminate = 1;
    if (s_pipe[1] >= 0) {
        char byte = (char) signum;
        ssize_t rc = write (s_pipe[1], &byte, 1);
        (void) rc;
    }
    errno = saved;
}

void
signals_install (void)
{
    //  czmq must not install its own SIGINT/SIGTERM handlers.
    zsys_handler_set (NULL);
    if (s_pipe[0] < 0 && pipe2 (s_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        s_pipe[0] = s_pipe[1] = -1;
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_handle;
    sigemptyset (&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGHUP, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

bool
signals_terminate_requested (void)
{
    return s_terminate != 0;
}

bool
signals_reload_take (void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}

int
signals_fd (void)
{
    return s_pipe[0];
}

void
signals_drain (void)
{
    char buf[64];
    if (s_pipe[0] >= 0)
        while (read (s_pipe[0], buf, sizeof buf) > 0)
            ;
}
