/*  resolver: host name lookups for join addresses on one worker thread.
    Spec: docs/protocol/gossip.md, "Join addresses".

    The owner and the worker share one state under a mutex. A lookup in
    progress cannot be interrupted (getaddrinfo has no cancel), so
    resolver_destroy gives a busy worker RESOLVER_JOIN_WAIT_MS to finish,
    then leaves it to free the state itself when its lookup returns. */
#include "resolver.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESOLVER_JOIN_WAIT_MS 200

typedef struct _item_t {
    struct _item_t *next;
    char host[RESOLVER_HOST_MAX + 1];
    uint16_t port;
    resolver_result_t result;
} item_t;

typedef struct {
    item_t *head, *tail;
} queue_t;

struct _resolver_t {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    resolver_getaddrinfo_fn *lookup;
    int family;
    int pipe_rd, pipe_wr;
    queue_t queued, done;
    bool busy;          //  the worker is in getaddrinfo
    bool stop;          //  the owner is gone
    bool orphaned;      //  ... while the worker was busy: it frees the state
};

static void
s_push (queue_t *queue, item_t *item)
{
    item->next = NULL;
    if (queue->tail)
        queue->tail->next = item;
    else
        queue->head = item;
    queue->tail = item;
}

static item_t *
s_pop (queue_t *queue)
{
    item_t *item = queue->head;
    if (item) {
        queue->head = item->next;
        if (!queue->head)
            queue->tail = NULL;
    }
    return item;
}

static void
s_free_all (resolver_t *self)
{
    item_t *item;
    while ((item = s_pop (&self->queued)))
        free (item);
    while ((item = s_pop (&self->done)))
        free (item);
    close (self->pipe_rd);
    close (self->pipe_wr);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

//  Fills item->result from a lookup of item->host.
static void
s_resolve (resolver_getaddrinfo_fn *lookup, int family, item_t *item)
{
    resolver_result_t *result = &item->result;
    struct addrinfo hints, *list = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = family == 6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = lookup (item->host, NULL, &hints, &list);
    if (rc == 0 && list) {
        result->ok = packet_addr_from_sockaddr (list->ai_addr, list->ai_addrlen,
                                                &result->addr) == 0;
        result->addr.port = item->port;
        if (!result->ok)
            snprintf (result->error, sizeof result->error, "no usable address for %s",
                      item->host);
    }
    else if (rc == EAI_NODATA || rc == EAI_ADDRFAMILY)
        snprintf (result->error, sizeof result->error, "no IPv%d address for %s: %s",
                  family, item->host, gai_strerror (rc));
    else
        snprintf (result->error, sizeof result->error, "cannot resolve %s: %s", item->host,
                  rc == EAI_SYSTEM ? strerror (errno) : gai_strerror (rc));
    if (list)
        freeaddrinfo (list);
}

static void *
s_worker (void *arg)
{
    resolver_t *self = (resolver_t *) arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stop) {
        item_t *item = s_pop (&self->queued);
        if (!item) {
            pthread_cond_wait (&self->wake, &self->lock);
            continue;
        }
        self->busy = true;
        int family = self->family;
        resolver_getaddrinfo_fn *lookup = self->lookup;
        pthread_mutex_unlock (&self->lock);
        s_resolve (lookup, family, item);
        pthread_mutex_lock (&self->lock);
        self->busy = false;
        if (self->stop) {
            free (item);
            break;
        }
        s_push (&self->done, item);
        ssize_t n = write (self->pipe_wr, "r", 1);
        (void) n;       //  a full pipe is already readable
    }
    bool orphaned = self->orphaned;
    pthread_mutex_unlock (&self->lock);
    if (orphaned)
        s_free_all (self);
    return NULL;
}

resolver_t *
resolver_new (int family)
{
    return resolver_new_with (family, getaddrinfo);
}

resolver_t *
resolver_new_with (int family, resolver_getaddrinfo_fn *lookup)
{
    resolver_t *self = (resolver_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    int fds[2];
    if (pipe2 (fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        free (self);
        return NULL;
    }
    self->pipe_rd = fds[0];
    self->pipe_wr = fds[1];
    self->family = family == 6 ? 6 : 4;
    self->lookup = lookup;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    //  getaddrinfo needs little stack; 256 KiB leaves room for NSS modules.
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, 256 * 1024);
    //  Signals stay with the event loop's thread (self-pipe in signals.c).
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    int rc = pthread_create (&self->thread, &attr, s_worker, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    pthread_attr_destroy (&attr);
    if (rc != 0) {
        s_free_all (self);
        return NULL;
    }
    return self;
}

void
resolver_destroy (resolver_t **self_p)
{
    resolver_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    pthread_mutex_lock (&self->lock);
    self->stop = true;
    bool busy = self->busy;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    if (busy) {
        //  The worker exits at its next look at stop; it frees the state
        //  only once orphaned, which happens under the lock here.
        struct timespec deadline;
        clock_gettime (CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += RESOLVER_JOIN_WAIT_MS * 1000000L;
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        if (pthread_timedjoin_np (self->thread, NULL, &deadline) == 0) {
            s_free_all (self);
            return;
        }
        pthread_mutex_lock (&self->lock);
        busy = self->busy;
        if (busy) {
            self->orphaned = true;
            pthread_detach (self->thread);
        }
        pthread_mutex_unlock (&self->lock);
        if (busy)
            return;
    }
    pthread_join (self->thread, NULL);
    s_free_all (self);
}

int
resolver_fd (resolver_t *self)
{
    return self->pipe_rd;
}

int
resolver_lookup (resolver_t *self, const char *host, uint16_t port, uint64_t cookie)
{
    if (strlen (host) > RESOLVER_HOST_MAX)
        return -1;
    item_t *item = (item_t *) calloc (1, sizeof *item);
    if (!item)
        return -1;
    strcpy (item->host, host);
    item->port = port;
    item->result.cookie = cookie;
    pthread_mutex_lock (&self->lock);
    s_push (&self->queued, item);
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

bool
resolver_take (resolver_t *self, resolver_result_t *result)
{
    pthread_mutex_lock (&self->lock);
    item_t *item = s_pop (&self->done);
    if (!self->done.head) {
        char drain[64];
        while (read (self->pipe_rd, drain, sizeof drain) > 0)
            ;
    }
    pthread_mutex_unlock (&self->lock);
    if (!item)
        return false;
    *result = item->result;
    free (item);
    return true;
}

int
resolver_split (const char *text, uint16_t default_port, char *host, size_t host_size,
                uint16_t *port)
{
    bool bracketed;
    if (!text || config_addr_split (text, default_port, host, host_size, port, &bracketed) != 0
        || bracketed || !config_host_name_valid (host, strlen (host)))
        return -1;
    return 0;
}
