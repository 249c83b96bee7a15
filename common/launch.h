/* launch.h: starting a program under a seccomp listener. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

struct launch_options {
    const char *path; /* the resolved program to execute */
    char *const *argv;
    bool set_creds; /* -c user:group */
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* supplementary groups for -c */
    size_t n_groups;
    const struct sock_fprog *filter;
    /* Descriptors above stderr that the program inherits (-k); every other one is closed, so
     * that nothing the launcher's caller held (an io_uring, a socket) reaches the program. */
    const int *keep_fds;
    size_t n_keep_fds;
};

struct launch_child {
    pid_t pid;
    int pidfd;
    int listener;   /* the supervisor's copy; the child keeps none past exec */
    int report_fd;  /* the child's report pipe, until launch_exec_result */
    pid_t guardian; /* the launcher's child, the program's parent (guardian.h) */
    int guard_fd;   /* its socket: the tree's exit status comes on it */
};

/* Forks a guardian (guardian.h), which forks the child; puts the child under FILTER and lets it
 * exec PATH once the listener is held here. The child's own calls before the exec (closing its
 * listener copy, the execve itself, and, if the exec fails, reporting why) reach the listener like
 * any other: the caller must answer them, for instance by treating process ret->pid as the
 * launcher's until its first execve succeeds. On failure returns -errno with *ret_error saying
 * which step failed. */
int launch_spawn(const struct launch_options *o, struct launch_child *ret, char **ret_error);
/* After the child's exec: 0 if it succeeded, else the errno the exec failed with (read from the
 * child's report pipe; blocks until one or the other). */
int launch_exec_result(struct launch_child *c);
void launch_child_close(struct launch_child *c);
