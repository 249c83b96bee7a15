/* loop.h: a host's event loop. One thread runs it (the launcher's main thread, the daemon's);
 * any thread may add and remove what it watches: file descriptors (epoll), deadlines (one timerfd
 * for all of them) and jobs to run on the loop's thread. An idle loop makes no wake-ups. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_watch;
struct loop_timer;

typedef void (*loop_fd_fn)(void *data, uint32_t events);
typedef void (*loop_fn)(void *data);

int loop_new(struct loop **ret);
/* Frees the loop; nothing it watches is closed. */
void loop_free(struct loop *loop);

/* Calls FN(DATA, events) on the loop's thread whenever FD is ready for EVENTS (EPOLLIN…). The fd
 * stays the caller's, who unwatches it before closing it. */
int loop_watch_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *data,
                  struct loop_watch **ret);
/* Stops watching. Once it returns, FN is not running and will not run again: from another
 * thread it waits for a call in progress, so the caller must not hold a lock FN takes. */
void loop_unwatch(struct loop *loop, struct loop_watch *watch);

/* Calls FN(DATA) on the loop's thread once CLOCK_MONOTONIC reaches WHEN_NS. The caller owns the
 * timer and cancels it exactly once, whether it fired or not (from FN itself too). */
struct loop_timer *loop_timer_add(struct loop *loop, uint64_t when_ns, loop_fn fn, void *data);
/* Releases TIMER; if it has not fired it never will. As loop_unwatch, it waits for FN when FN
 * runs on another thread. NULL is ignored. */
void loop_timer_cancel(struct loop *loop, struct loop_timer *timer);

/* Runs FN(DATA) on the loop's thread soon. */
void loop_post(struct loop *loop, loop_fn fn, void *data);

/* Runs until loop_quit; returns 0, or -errno if waiting failed. */
int loop_run(struct loop *loop);
/* Makes loop_run return after the events at hand; any thread. */
void loop_quit(struct loop *loop);
/* Whether the caller is the thread running LOOP. */
bool loop_is_current(const struct loop *loop);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t loop_now_ns(void);
