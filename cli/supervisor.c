/*  supervisor: child processes of `meridian agent` (see supervisor.h and
    docs/architecture.md, "meridian agent ... starts, watches and stops the
    daemons"). Owns the children table, their restart timers and the stop
    sequence. */
#include "supervisor.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"
#include "timeutil.h"

#define SUPERVISOR_PATH_MAX     512
//  After SIGKILL, how long to wait for the kernel to hand the child back.
#define SUPERVISOR_REAP_GRACE_MS 5000

typedef struct {
    char name [64];
    char path [SUPERVISOR_PATH_MAX];
    pid_t pid;                  //  0 when not running
    int64_t started_ms;         //  monotonic, of the running process
    int64_t backoff_ms;         //  last restart delay, 0 for none yet
    int64_t restart_at_ms;      //  0 when no restart is due
    unsigned restarts;
    bool killed;                //  SIGKILL sent while stopping
} daemon_t;

struct _supervisor_t {
    char bin_dir [SUPERVISOR_PATH_MAX];
    char config_path [SUPERVISOR_PATH_MAX];
    daemon_t daemon [SUPERVISOR_DAEMONS_MAX];
    int size;
    int child_fd;               //  signalfd for SIGCHLD
    sigset_t saved_mask;
    pid_t self_pid;
    char env_pid [48];          //  MERIDIAN_AGENT_PID=<self_pid>
    char **envp;                //  the agent's environment plus env_pid
    bool stopping;
    int64_t stop_deadline_ms;   //  SIGKILL what is left at this time
    int64_t reap_deadline_ms;   //  give up waiting at this time
};

supervisor_t *
supervisor_new (const char *bin_dir, const char *config_path)
{
    assert (bin_dir && config_path);
    supervisor_t *self = calloc (1, sizeof (supervisor_t));
    if (!self)
        return NULL;
    snprintf (self->bin_dir, sizeof (self->bin_dir), "%s", bin_dir);
    snprintf (self->config_path, sizeof (self->config_path), "%s",
              config_path);
    self->self_pid = getpid ();
    //  Daemons learn who supervises them (httpd stops the agent after
    //  PUT /v1/agent/leave, as Consul's agent exits).
    snprintf (self->env_pid, sizeof (self->env_pid), "MERIDIAN_AGENT_PID=%d",
              (int) self->self_pid);
    size_t count = 0;
    while (environ [count])
        count++;
    self->envp = calloc (count + 2, sizeof (char *));
    if (!self->envp) {
        free (self);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp (environ [i], "MERIDIAN_AGENT_PID=", 19) != 0)
            self->envp [n++] = environ [i];
    self->envp [n] = self->env_pid;
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGCHLD);
    if (sigprocmask (SIG_BLOCK, &mask, &self->saved_mask) != 0) {
        free (self->envp);
        free (self);
        return NULL;
    }
    self->child_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->child_fd < 0) {
        int saved = errno;
        sigprocmask (SIG_SETMASK, &self->saved_mask, NULL);
        free (self->envp);
        free (self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
supervisor_destroy (supervisor_t **self_p)
{
    assert (self_p);
    supervisor_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->size; i++)
        if (self->daemon [i].pid > 0) {
            kill (self->daemon [i].pid, SIGKILL);
            waitpid (self->daemon [i].pid, NULL, 0);
        }
    close (self->child_fd);
    sigprocmask (SIG_SETMASK, &self->saved_mask, NULL);
    free (self->envp);
    free (self);
    *self_p = NULL;
}

int
supervisor_add (supervisor_t *self, const char *name, char *err,
                size_t err_size)
{
    assert (self && name);
    if (self->size == SUPERVISOR_DAEMONS_MAX) {
        snprintf (err, err_size, "too many daemons (at most %d)",
                  SUPERVISOR_DAEMONS_MAX);
        return -1;
    }
    daemon_t *daemon = &self->daemon [self->size];
    size_t dir_len = strlen (self->bin_dir);
    size_t name_len = strlen (name);
    if (name_len == 0 || name_len >= sizeof (daemon->name)
    ||  dir_len + 1 + name_len >= sizeof (daemon->path)) {
        snprintf (err, err_size, "daemon %s: invalid name or path too long",
                  name);
        return -1;
    }
    memset (daemon, 0, sizeof (*daemon));
    memcpy (daemon->path, self->bin_dir, dir_len);
    daemon->path [dir_len] = '/';
    memcpy (daemon->path + dir_len + 1, name, name_len + 1);
    if (access (daemon->path, X_OK) != 0) {
        snprintf (err, err_size, "daemon %s: cannot run %s: %s (build it "
                  "with `make`)", name, daemon->path, strerror (errno));
        return -1;
    }
    memcpy (daemon->name, name, name_len + 1);
    self->size++;
    return 0;
}

int64_t
supervisor_backoff_next (int64_t previous_ms, int64_t uptime_ms)
{
    if (previous_ms <= 0 || uptime_ms >= SUPERVISOR_STABLE_MS)
        return SUPERVISOR_BACKOFF_MIN_MS;
    int64_t next = previous_ms * 2;
    return next > SUPERVISOR_BACKOFF_MAX_MS ? SUPERVISOR_BACKOFF_MAX_MS : next;
}

//  In the forked child: a clean signal state, SIGTERM if the agent dies,
//  stdin from /dev/null, then exec. Never returns.
static void
s_child_exec (supervisor_t *self, daemon_t *daemon)
{
    sigset_t empty;
    sigemptyset (&empty);
    sigprocmask (SIG_SETMASK, &empty, NULL);
    signal (SIGPIPE, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGINT, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != self->self_pid)
        _exit (1);              //  the agent died before prctl took effect
    int null_fd = open ("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2 (null_fd, STDIN_FILENO);
        if (null_fd != STDIN_FILENO)
            close (null_fd);
    }
    char *argv [] = { daemon->name, "-config-file", self->config_path, NULL };
    execve (daemon->path, argv, self->envp);
    //  Only async-signal-safe calls here.
    const char *text = "agent: exec failed: ";
    ssize_t rc = write (STDERR_FILENO, text, strlen (text));
    rc = write (STDERR_FILENO, daemon->path, strlen (daemon->path));
    rc = write (STDERR_FILENO, "\n", 1);
    (void) rc;
    _exit (127);
}

static void
s_daemon_start (supervisor_t *self, daemon_t *daemon)
{
    daemon->restart_at_ms = 0;
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0)
        s_child_exec (self, daemon);
    int64_t now = time_mono_ms ();
    if (pid < 0) {
        daemon->backoff_ms = supervisor_backoff_next (daemon->backoff_ms, 0);
        daemon->restart_at_ms = now + daemon->backoff_ms;
        log_error ("cannot start daemon name=%s error=\"%s\" retry_in=%lldms",
                   daemon->name, strerror (errno),
                   (long long) daemon->backoff_ms);
        return;
    }
    daemon->pid = pid;
    daemon->started_ms = now;
    log_info ("started daemon name=%s pid=%d", daemon->name, (int) pid);
}

static daemon_t *
s_daemon_by_pid (supervisor_t *self, pid_t pid)
{
    for (int i = 0; i < self->size; i++)
        if (self->daemon [i].pid == pid)
            return &self->daemon [i];
    return NULL;
}

static int
s_running_count (supervisor_t *self)
{
    int count = 0;
    for (int i = 0; i < self->size; i++)
        count += self->daemon [i].pid > 0;
    return count;
}

static void
s_daemon_exited (supervisor_t *self, daemon_t *daemon, int status)
{
    int64_t now = time_mono_ms ();
    int64_t uptime = now - daemon->started_ms;
    char how [64];
    if (WIFEXITED (status))
        snprintf (how, sizeof (how), "code=%d", WEXITSTATUS (status));
    else {
        const char *abbrev = sigabbrev_np (WTERMSIG (status));
        if (abbrev)
            snprintf (how, sizeof (how), "signal=SIG%s", abbrev);
        else
            snprintf (how, sizeof (how), "signal=%d", WTERMSIG (status));
    }
    pid_t pid = daemon->pid;
    daemon->pid = 0;
    if (self->stopping) {
        bool clean = WIFEXITED (status) && WEXITSTATUS (status) == 0;
        log_msg (clean ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
                 "daemon stopped name=%s pid=%d %s", daemon->name, (int) pid,
                 how);
        return;
    }
    daemon->backoff_ms = supervisor_backoff_next (daemon->backoff_ms, uptime);
    daemon->restart_at_ms = now + daemon->backoff_ms;
    daemon->restarts++;
    log_error ("daemon exited name=%s pid=%d %s uptime=%lldms "
               "restart_in=%lldms restarts=%u", daemon->name, (int) pid, how,
               (long long) uptime, (long long) daemon->backoff_ms,
               daemon->restarts);
}

//  Reaps every child that has exited.
static void
s_reap (supervisor_t *self)
{
    struct signalfd_siginfo info;
    while (read (self->child_fd, &info, sizeof (info)) == sizeof (info))
        ;                       //  SIGCHLDs coalesce: waitpid tells all
    while (true) {
        int status;
        pid_t pid = waitpid (-1, &status, WNOHANG);
        if (pid <= 0)
            break;
        daemon_t *daemon = s_daemon_by_pid (self, pid);
        if (daemon)
            s_daemon_exited (self, daemon, status);
    }
}

static void
s_signal_all (supervisor_t *self, int signum)
{
    for (int i = 0; i < self->size; i++)
        if (self->daemon [i].pid > 0)
            kill (self->daemon [i].pid, signum);
}

static void
s_stop_begin (supervisor_t *self)
{
    self->stopping = true;
    int64_t now = time_mono_ms ();
    self->stop_deadline_ms = now + SUPERVISOR_STOP_TIMEOUT_MS;
    self->reap_deadline_ms = 0;
    for (int i = 0; i < self->size; i++)
        self->daemon [i].restart_at_ms = 0;
    log_info ("stopping daemons count=%d", s_running_count (self));
    s_signal_all (self, SIGTERM);
}

//  Fires due timers: restarts, and while stopping the SIGKILL deadline.
//  Returns the poll timeout until the next timer (-1 for none).
static int
s_timers (supervisor_t *self)
{
    int64_t now = time_mono_ms ();
    int64_t next = -1;
    if (self->stopping) {
        if (self->reap_deadline_ms == 0 && now >= self->stop_deadline_ms) {
            for (int i = 0; i < self->size; i++) {
                daemon_t *daemon = &self->daemon [i];
                if (daemon->pid > 0) {
                    log_warn ("daemon did not stop in time, killing "
                              "name=%s pid=%d", daemon->name,
                              (int) daemon->pid);
                    kill (daemon->pid, SIGKILL);
                    daemon->killed = true;
                }
            }
            self->reap_deadline_ms = now + SUPERVISOR_REAP_GRACE_MS;
        }
        next = self->reap_deadline_ms ? self->reap_deadline_ms
                                      : self->stop_deadline_ms;
    }
    else
        for (int i = 0; i < self->size; i++) {
            daemon_t *daemon = &self->daemon [i];
            if (daemon->restart_at_ms && now >= daemon->restart_at_ms) {
                log_info ("restarting daemon name=%s", daemon->name);
                s_daemon_start (self, daemon);
            }
            if (daemon->restart_at_ms
            &&  (next < 0 || daemon->restart_at_ms < next))
                next = daemon->restart_at_ms;
        }
    if (next < 0)
        return -1;
    int64_t wait = next - time_mono_ms ();
    return wait < 0 ? 0 : wait > 60000 ? 60000 : (int) wait;
}

int
supervisor_run (supervisor_t *self)
{
    assert (self);
    //  A stop asked for during start-up: nothing to start.
    if (!signals_terminate_requested ())
        for (int i = 0; i < self->size; i++)
            s_daemon_start (self, &self->daemon [i]);
    while (true) {
        if (!self->stopping && signals_terminate_requested ())
            s_stop_begin (self);
        if (signals_reload_take () && !self->stopping) {
            log_info ("forwarding SIGHUP to daemons");
            s_signal_all (self, SIGHUP);
        }
        if (self->stopping && s_running_count (self) == 0)
            break;
        int timeout = s_timers (self);
        if (self->stopping && self->reap_deadline_ms
        &&  time_mono_ms () >= self->reap_deadline_ms) {
            log_error ("daemons could not be reaped count=%d",
                       s_running_count (self));
            return -1;
        }
        struct pollfd items [2] = {
            { .fd = signals_fd (), .events = POLLIN },
            { .fd = self->child_fd, .events = POLLIN }
        };
        int rc = poll (items, 2, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error ("poll failed error=\"%s\"", strerror (errno));
            if (!self->stopping)
                s_stop_begin (self);
            continue;
        }
        if (rc > 0 && (items [0].revents & POLLIN))
            signals_drain ();
        if (rc > 0 && (items [1].revents & POLLIN))
            s_reap (self);
    }
    log_info ("all daemons stopped");
    return 0;
}
