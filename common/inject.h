/* inject.h: putting a process that is already running under a seccomp listener, by making it
 * install the filter itself while it is stopped with ptrace (the kernel only lets a process
 * create a listener for its own filter). The process is left exactly as it was, except that it
 * now has the filter and, unless it holds CAP_SYS_ADMIN, no_new_privs, both for the rest of its
 * life. x86-64 only. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

struct inject_result {
    int listener;          /* the supervisor's listener fd (O_CLOEXEC); the target keeps none */
    unsigned threads;      /* threads stopped, and covered by the filter (TSYNC) */
    bool no_new_privs_set; /* the process had to be given no_new_privs */
};

/* Refusals known before anything is changed: -EPERM (Yama ptrace_scope 3, already traced),
 * -ENOEXEC (not a native 64-bit process), -EXDEV (a user namespace outside the caller's),
 * -EAGAIN (stopped by job control), -ESRCH (gone, or a kernel thread). *ret_error says why,
 * in a sentence for a person. */
int inject_check(pid_t pid, char **ret_error);
/* Whether thread TID of PID holds CAP_SYS_ADMIN: then the filter needs no no_new_privs. */
bool inject_has_cap_sys_admin(pid_t pid, pid_t tid);

/* Stops every thread of PID, makes one of them load PROG with a new listener on all of them
 * (TSYNC), takes the listener, and restores and resumes the process. Besides inject_check's:
 * -EBUSY (a listener is already installed in its filters), -ETIMEDOUT (a thread did not stop),
 * -ESRCH (the process ended during the attach). On failure the process is left as it was; the
 * one exception, said in *ret_error, is no_new_privs when the filter then failed to load.
 * The calling thread becomes the tracer for the duration: call it from one thread. */
int inject_filter(pid_t pid, const struct sock_fprog *prog, struct inject_result *ret,
                  char **ret_error);
