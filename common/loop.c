/* loop.c: epoll, one timerfd armed at the earliest deadline, and an eventfd for posted jobs.
 *
 * Watches and timers removed while events that name them may still be in hand are not freed at
 * once: they are marked dead (so they are skipped) and freed by the loop's thread at the end of
 * the batch, when no harvested event can refer to them any more. */
#include "loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

#include "util.h"

#define BATCH 64

struct loop_watch {
    int fd;
    loop_fd_fn fn;
    void *data;
    bool dead;
    struct loop_watch *next_dead;
};

struct loop_timer {
    uint64_t when;
    loop_fn fn;
    void *data;
    int refs;    /* the owner's until it cancels, the loop's until it fired or was cancelled */
    bool linked; /* on the pending list */
    struct loop_timer *prev, *next; /* the pending list, earliest first */
};

struct job {
    loop_fn fn;
    void *data;
    struct job *next;
};

struct loop {
    int epoll_fd, timer_fd, wake_fd;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t idle;  /* a callback finished */
    pthread_t thread;
    bool running, quit;
    const void *dispatching; /* the watch or timer whose callback runs now, or NULL */
    struct loop_timer *timers;
    uint64_t armed; /* the deadline the timerfd is set to, 0 for none */
    struct loop_watch *dead_watches;
    struct job *jobs, **jobs_tail;
};

/* Markers in epoll_data for the loop's own descriptors. */
static char timer_marker, wake_marker;

uint64_t loop_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int loop_new(struct loop **ret)
{
    struct loop *l = xcalloc(1, sizeof(*l));
    l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int r = 0;
    if (l->epoll_fd < 0 || l->timer_fd < 0 || l->wake_fd < 0)
        r = -errno;
    struct epoll_event te = {.events = EPOLLIN, .data.ptr = &timer_marker};
    struct epoll_event we = {.events = EPOLLIN, .data.ptr = &wake_marker};
    if (r == 0 && (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->timer_fd, &te) < 0 ||
                   epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &we) < 0))
        r = -errno;
    if (r < 0) {
        loop_free(l);
        return r;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->idle, NULL);
    l->jobs_tail = &l->jobs;
    *ret = l;
    return 0;
}

static void free_dead(struct loop *l)
{
    while (l->dead_watches) {
        struct loop_watch *w = l->dead_watches;
        l->dead_watches = w->next_dead;
        free(w);
    }
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->jobs_tail) { /* initialised */
        free_dead(l);
        for (struct loop_timer *t = l->timers, *next; t; t = next) {
            next = t->next;
            free(t); /* a timer still pending at the end is nobody's any more */
        }
        for (struct job *j = l->jobs, *next; j; j = next) {
            next = j->next;
            free(j);
        }
        pthread_cond_destroy(&l->idle);
        pthread_mutex_destroy(&l->lock);
    }
    if (l->epoll_fd >= 0)
        close(l->epoll_fd);
    if (l->timer_fd >= 0)
        close(l->timer_fd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    free(l);
}

bool loop_is_current(const struct loop *l)
{
    return l->running && pthread_equal(l->thread, pthread_self());
}

static void wake(struct loop *l)
{
    eventfd_write(l->wake_fd, 1);
}

int loop_watch_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *data,
                  struct loop_watch **ret)
{
    struct loop_watch *w = xcalloc(1, sizeof(*w));
    w->fd = fd;
    w->fn = fn;
    w->data = data;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        free(w);
        return -e;
    }
    *ret = w;
    return 0;
}

/* Waits until OBJ's callback is not running; LOOP->lock held. */
static void wait_not_dispatching(struct loop *l, const void *obj)
{
    if (loop_is_current(l))
        return;
    while (l->dispatching == obj)
        pthread_cond_wait(&l->idle, &l->lock);
}

void loop_unwatch(struct loop *l, struct loop_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&l->lock);
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
    w->dead = true;
    wait_not_dispatching(l, w);
    w->next_dead = l->dead_watches;
    l->dead_watches = w;
    if (!l->running)
        free_dead(l);
    pthread_mutex_unlock(&l->lock);
}

/* Sets the timerfd to the earliest pending deadline; LOOP->lock held. */
static void arm(struct loop *l)
{
    uint64_t when = l->timers ? l->timers->when : 0;
    if (when == l->armed)
        return;
    l->armed = when;
    struct itimerspec its = {{0, 0}, {(time_t)(when / 1000000000u), (long)(when % 1000000000u)}};
    if (when == 0)
        its.it_value = (struct timespec){0, 0};
    else if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

struct loop_timer *loop_timer_add(struct loop *l, uint64_t when_ns, loop_fn fn, void *data)
{
    struct loop_timer *t = xcalloc(1, sizeof(*t));
    t->when = when_ns ? when_ns : 1;
    t->fn = fn;
    t->data = data;
    t->refs = 2;
    t->linked = true;
    pthread_mutex_lock(&l->lock);
    struct loop_timer **at = &l->timers, *prev = NULL;
    while (*at && (*at)->when <= t->when) {
        prev = *at;
        at = &(*at)->next;
    }
    t->next = *at;
    t->prev = prev;
    if (*at)
        (*at)->prev = t;
    *at = t;
    arm(l);
    pthread_mutex_unlock(&l->lock);
    return t;
}

/* Takes T off the pending list; LOOP->lock held. */
static void unlink_timer(struct loop *l, struct loop_timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        l->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    t->linked = false;
}

/* Drops a reference to T; LOOP->lock held. */
static void timer_unref(struct loop_timer *t)
{
    if (--t->refs == 0)
        free(t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&l->lock);
    wait_not_dispatching(l, t);
    int drop = 1; /* the owner's reference, and the loop's if it has not fired */
    if (t->linked) {
        unlink_timer(l, t);
        arm(l);
        drop++;
    }
    t->refs -= drop;
    if (t->refs == 0)
        free(t);
    pthread_mutex_unlock(&l->lock);
}

void loop_post(struct loop *l, loop_fn fn, void *data)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->fn = fn;
    j->data = data;
    pthread_mutex_lock(&l->lock);
    *l->jobs_tail = j;
    l->jobs_tail = &j->next;
    pthread_mutex_unlock(&l->lock);
    wake(l);
}

void loop_quit(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    l->quit = true;
    pthread_mutex_unlock(&l->lock);
    wake(l);
}

/* Runs CALL(OBJ) with the lock dropped, marked as dispatching OBJ; LOOP->lock held. */
static void dispatch(struct loop *l, const void *obj, void (*call)(const void *obj, uint32_t ev),
                     uint32_t ev)
{
    l->dispatching = obj;
    pthread_mutex_unlock(&l->lock);
    call(obj, ev);
    pthread_mutex_lock(&l->lock);
    l->dispatching = NULL;
    pthread_cond_broadcast(&l->idle);
}

static void call_watch(const void *obj, uint32_t ev)
{
    const struct loop_watch *w = obj;
    w->fn(w->data, ev);
}

static void call_timer(const void *obj, uint32_t ev)
{
    (void)ev;
    const struct loop_timer *t = obj;
    t->fn(t->data);
}

/* Fires every timer that is due; LOOP->lock held. */
static void run_timers(struct loop *l)
{
    uint64_t expirations;
    if (read(l->timer_fd, &expirations, sizeof(expirations)) < 0) {
    }
    l->armed = 0;
    uint64_t now = loop_now_ns();
    while (l->timers && l->timers->when <= now) {
        struct loop_timer *t = l->timers;
        unlink_timer(l, t);
        dispatch(l, t, call_timer, 0);
        timer_unref(t); /* the loop's: only the owner's is left */
    }
    arm(l);
}

static void run_jobs(struct loop *l)
{
    eventfd_t v;
    eventfd_read(l->wake_fd, &v);
    struct job *jobs = l->jobs;
    l->jobs = NULL;
    l->jobs_tail = &l->jobs;
    while (jobs) {
        struct job *j = jobs;
        jobs = j->next;
        pthread_mutex_unlock(&l->lock);
        j->fn(j->data);
        free(j);
        pthread_mutex_lock(&l->lock);
    }
}

int loop_run(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    l->thread = pthread_self();
    l->running = true;
    int r = 0;
    while (!l->quit) {
        pthread_mutex_unlock(&l->lock);
        struct epoll_event evs[BATCH];
        int n = epoll_wait(l->epoll_fd, evs, BATCH, -1);
        int e = errno;
        pthread_mutex_lock(&l->lock);
        if (n < 0 && e != EINTR) {
            r = -e;
            break;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &timer_marker)
                run_timers(l);
            else if (p == &wake_marker)
                run_jobs(l);
            else if (!((struct loop_watch *)p)->dead)
                dispatch(l, p, call_watch, evs[i].events);
        }
        free_dead(l);
    }
    l->quit = false;
    l->running = false;
    free_dead(l);
    pthread_mutex_unlock(&l->lock);
    return r;
}
