/* host.h: what a host process gives every session it runs, beyond the public struct host of
 * supervise.h: the signal that wakes a thread blocked in the kernel, the supervisor's own pids
 * (which no target may reach), and one monitor thread for stalled requests of all sessions. The
 * monitor sleeps until a request is in flight, so that an idle host makes no wake-ups. */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervise.h"

/* The real-time signal that interrupts a blocked receive or a blocked emulated call. */
#define HOST_WAKE_SIGNAL (SIGRTMIN + 1)

/* A session's part in monitoring: TICK looks at its requests in flight at NOW and returns whether
 * any was in flight. */
struct host_client {
    bool (*tick)(void *data, uint64_t now_ns);
    void *data;
    struct host_client *next;
};

void host_add_client(struct host *host, struct host_client *client);
void host_remove_client(struct host *host, struct host_client *client);
/* A request started: the monitor must look again if it went to sleep. Cheap when it is awake. */
void host_busy(struct host *host);

/* Whether PID is the host process, one of its threads, or a process it declared its own. */
bool host_owns_pid(const struct host *host, long pid);
/* Declares PID (a helper process of the host, e.g. the launcher's guardian) as the host's own. */
void host_add_own_pid(struct host *host, pid_t pid);
pid_t host_pid(const struct host *host);
