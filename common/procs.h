/* procs.h: what the engine knows of each traced process: the program it runs (DESIGN.md 3.2,
 * tracked across execve, scripts named as themselves), its credentials, its root. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct procs;

#define PROC_MAX_GROUPS 64

/* A consistent copy for one request. */
struct proc_info {
    pid_t tgid;
    char *binary;       /* the program the process runs now, absolute and resolved */
    bool launching;     /* still the launcher's child, before its exec */
    bool exec_mismatch; /* its last exec ran something else than the file permitted (once) */
    uid_t uid;
    gid_t gid;
    char *user; /* names, or the numbers as text */
    char *group;
    char *home; /* the passwd home of uid, NULL if none */
    /* What file access is checked against, for performing calls on the process's behalf. */
    uid_t ruid, fsuid;
    gid_t rgid, fsgid;
    gid_t groups[PROC_MAX_GROUPS];
    int n_groups;
    mode_t umask;
    uint64_t cap_effective;
    char root_prefix[48]; /* "" if its root is ours, else /proc/TGID/root */
};

int procs_new(pid_t launch_pid, struct procs **ret);
void procs_free(struct procs *procs);
/* The process of thread TID, refreshed after an exec. -ESRCH when it is gone. */
int procs_get(struct procs *procs, pid_t tid, struct proc_info *ret);
void proc_info_clear(struct proc_info *info);
/* The supervisor let TID's execve of PATH (resolved; RAW as the caller wrote it) run. */
void procs_exec_permitted(struct procs *procs, pid_t tid, const char *path, const char *raw);
/* TID's process is about to change its root (chroot, setns), or with EVERY_PROCESS every root
 * (pivot_root): from now on such roots are looked up on every request, not once per process. */
void procs_root_may_move(struct procs *procs, pid_t tid, bool every_process);
/* TID's credentials or umask may have changed (a set*id, setgroups or umask call ran): every
 * thread of its process reads its own again at its next request (credentials are per thread, a
 * raw setuid changes one; the umask is shared). */
void procs_creds_changed(struct procs *procs, pid_t tid);
