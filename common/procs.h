/* procs.h: what the engine knows of each traced process: the program it runs (settled at each exec,
 * scripts named as themselves), its credentials (per thread), its root.
 *
 * Identity is a pidfd, never a bare pid: a process is entered on its first request, with a pidfd
 * opened then and bound to it by the notification still being valid, and it leaves the table when
 * the host's loop sees that pidfd report its exit; a thread other than the leader leaves when its
 * own pidfd (PIDFD_THREAD) reports its end. A pid reused later is a new process. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "loop.h"

struct procs;
struct proc;

#define PROC_MAX_GROUPS 64

/* A consistent view for one request; holds references, released by proc_info_clear. */
struct proc_info {
    struct proc *proc; /* the reference the fields below live by */
    pid_t tgid;
    int pidfd;          /* the process's pidfd, valid until proc_info_clear */
    const char *binary; /* the program the process runs, absolute and resolved */
    bool launching;     /* still the launcher's child, before its first exec */
    uid_t uid;
    gid_t gid;
    const char *user; /* names, or the numbers as text */
    const char *group;
    const char *home; /* the passwd home of uid, NULL if none */
    /* What file access is checked against, for performing calls on the process's behalf. */
    uid_t ruid, fsuid;
    gid_t rgid, fsgid;
    gid_t groups[PROC_MAX_GROUPS];
    int n_groups;
    mode_t umask;
    uint64_t cap_effective;
    char root_prefix[48]; /* "" if its root and mounts are ours, else /proc/TGID/root */
    void *creds_ref;      /* the thread's credentials these fields were copied from */
    bool cwd_raced;       /* its last chdir reached a directory that was not the one checked */
};

/* Called on the loop's thread when process TGID has ended and left the table. */
typedef void (*procs_exit_fn)(void *data, pid_t tgid);

int procs_new(struct loop *loop, procs_exit_fn on_exit, void *data, struct procs **ret);
void procs_free(struct procs *procs);
/* PIDFD's process is the launcher's child (procs keeps a duplicate): "launching" until its first
 * exec settles or it ends. */
int procs_add_launch_child(struct procs *procs, int pidfd);
/* The process of thread TID, which made notification ID on LISTENER (a process seen for the
 * first time is bound to its pidfd only while that notification is valid). -ESRCH when it is
 * gone; -EMFILE when no pidfd could be opened for a new process. */
int procs_get(struct procs *procs, pid_t tid, int listener, uint64_t id, struct proc_info *ret);
void proc_info_clear(struct proc_info *info);

/* An exec of process TGID (now led by the thread that called it, formerly OLD_TID) succeeded and
 * runs PROGRAM: every thread reads its credentials again, other threads are gone. */
void procs_exec_done(struct procs *procs, pid_t tgid, pid_t old_tid, const char *program);
/* TID's process may have a new root or mount namespace (chroot, setns, unshare), or with
 * EVERY_PROCESS every root may have moved (pivot_root): from now on such roots are looked up on
 * every request, not once per process. */
void procs_root_may_move(struct procs *procs, pid_t tid, bool every_process);
/* TID's credentials or umask may have changed: every thread of its process reads its own again
 * at its next request (credentials are per thread, a raw setuid changes one; umask is shared). */
void procs_creds_changed(struct procs *procs, pid_t tid);

/* A chdir of thread TID to the directory WANT was let run; BEFORE is its working directory
 * then. At its process's next request, the working directory must be one of the two (the call
 * failed, or went where it was checked), else that request says cwd_raced. */
void procs_expect_cwd(struct procs *procs, pid_t tid, const struct stat *want,
                      const struct stat *before);

/* Whether PID is a process or thread of the table, or descends from one (by /proc PPid). */
bool procs_has(struct procs *procs, pid_t pid);
/* The number of processes in the table. */
unsigned procs_count(struct procs *procs);
/* Sends SIG to every process of the table (through its pidfd); returns how many. */
unsigned procs_signal_all(struct procs *procs, int sig);
/* The first process entered (the launch child, or the first seen), or 0. */
pid_t procs_first_pid(struct procs *procs);

/* The pid a pidfd refers to (from its fdinfo), or -errno. */
pid_t pidfd_pid(int pidfd);
