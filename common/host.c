/* host.c: the host process's shared part: the wake signal's handler, the monitor of stalled
 * requests, and the pids that are the supervisor's own. */
#include "host.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "util.h"

#define MONITOR_TICK_NS (20 * 1000 * 1000)
#define MAX_OWN_PIDS    8

struct host {
    struct loop *loop;
    pid_t pid;
    pthread_mutex_t lock; /* the fields below */
    pthread_cond_t wake;
    struct host_client *clients;
    bool monitor_sleeping; /* also read without the lock, to wake it cheaply */
    bool stopping;
    bool has_monitor;
    pthread_t monitor;
    pid_t own[MAX_OWN_PIDS];
    unsigned n_own;
};

static void wake_handler(int sig)
{
    (void)sig;
}

/* Sleeps until the deadline NS (CLOCK_MONOTONIC), or until woken; LOCK held. */
static void wait_until(struct host *h, uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    pthread_cond_timedwait(&h->wake, &h->lock, &ts);
}

/* The monitor: every MONITOR_TICK_NS while some request is in flight, else asleep until
 * host_busy. It says it sleeps before it looks, and a request is marked in flight before
 * host_busy looks at that: one of the two always sees the other. */
static void *monitor_main(void *arg)
{
    struct host *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        __atomic_store_n(&h->monitor_sleeping, true, __ATOMIC_SEQ_CST);
        uint64_t now = loop_now_ns();
        bool busy = false;
        /* Clients may not be added or removed while their tick runs: the lock is held. */
        for (struct host_client *c = h->clients; c; c = c->next)
            busy |= c->tick(c->data, now);
        if (busy) {
            __atomic_store_n(&h->monitor_sleeping, false, __ATOMIC_SEQ_CST);
            wait_until(h, now + MONITOR_TICK_NS);
            continue;
        }
        while (__atomic_load_n(&h->monitor_sleeping, __ATOMIC_SEQ_CST) && !h->stopping)
            pthread_cond_wait(&h->wake, &h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int host_new(const struct host_options *opts, struct host **ret)
{
    struct host *h = xcalloc(1, sizeof(*h));
    h->loop = opts->loop;
    h->pid = getpid();
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* Without SA_RESTART: the signal's only purpose is to make a blocking call return EINTR. */
    struct sigaction sa = {.sa_handler = wake_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(HOST_WAKE_SIGNAL, &sa, NULL);
    /* A pidfd per supervised process and thread: raise the soft limit to what is allowed. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int r = pthread_create(&h->monitor, NULL, monitor_main, h);
    if (r != 0) {
        host_free(h);
        return -r;
    }
    h->has_monitor = true;
    *ret = h;
    return 0;
}

void host_free(struct host *h)
{
    if (!h)
        return;
    if (h->has_monitor) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_broadcast(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->monitor, NULL);
    }
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct loop *host_loop(struct host *h)
{
    return h->loop;
}

void host_add_client(struct host *h, struct host_client *c)
{
    pthread_mutex_lock(&h->lock);
    c->next = h->clients;
    h->clients = c;
    pthread_mutex_unlock(&h->lock);
}

void host_remove_client(struct host *h, struct host_client *c)
{
    pthread_mutex_lock(&h->lock);
    for (struct host_client **p = &h->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&h->lock);
}

void host_busy(struct host *h)
{
    if (!__atomic_load_n(&h->monitor_sleeping, __ATOMIC_SEQ_CST))
        return;
    pthread_mutex_lock(&h->lock);
    __atomic_store_n(&h->monitor_sleeping, false, __ATOMIC_SEQ_CST);
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

bool host_owns_pid(const struct host *h, long pid)
{
    if (pid <= 0)
        return false;
    if (pid == h->pid)
        return true;
    for (unsigned i = 0; i < h->n_own; i++)
        if (h->own[i] == pid)
            return true;
    char task[48];
    snprintf(task, sizeof(task), "/proc/self/task/%ld", pid);
    return access(task, F_OK) == 0;
}

void host_add_own_pid(struct host *h, pid_t pid)
{
    pthread_mutex_lock(&h->lock);
    if (h->n_own < MAX_OWN_PIDS)
        h->own[h->n_own++] = pid;
    pthread_mutex_unlock(&h->lock);
}

pid_t host_pid(const struct host *h)
{
    return h->pid;
}
