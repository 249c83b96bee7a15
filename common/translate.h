/* translate.h: turning a notification's raw arguments into the strings rules compare, reading
 * the target's memory with process_vm_readv (never /proc/PID/mem) and resolving paths against
 * the caller's dirfd, cwd and root, with /proc/self meaning the caller. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "policy.h"

#define TR_MAX_VALUES 12

/* The target of a translation. */
struct tr_target {
    pid_t tid;               /* the calling thread (the notification's pid) */
    pid_t tgid;              /* its process */
    const char *root_prefix; /* "" when its root is ours, else "/proc/TGID/root" */
    int pidfd;               /* the process's pidfd: its descriptors are copied through it */
    int listener;            /* where the call waits, as ID */
    uint64_t id;
    uid_t fsuid; /* the caller's, for the kernel's symlink protection */
};

/* A path argument as the supervisor performs it: the object it names, resolved once. */
struct tr_path {
    char *resolved; /* absolute in the caller's root, symlinks resolved; NULL if none */
    char *via;      /* when the object is one of the caller's descriptors (a pipe behind
                     * /dev/stdin, the object of an AT_EMPTY_PATH descriptor): a link to the
                     * supervisor's own copy of it, taken when the path was translated, so that
                     * what is decided on is what is acted on, whatever the caller dup2s meanwhile */
    char *raw;      /* the path as the caller wrote it */
    bool missing;   /* the last component (or more) does not exist */
    bool follow;    /* the call follows a final symlink */
    bool has_pin;   /* PINNED is that copy (closed with the path) */
    int pinned;
};

struct tr_call {
    struct pol_value values[TR_MAX_VALUES];
    size_t n_values;
    char *owned[TR_MAX_VALUES];
    uint64_t oflags;       /* open flags (also from struct open_how), for the alias split */
    uint64_t open_mode;    /* openat2's how.mode */
    uint64_t open_resolve; /* openat2's how.resolve */
    bool reads_memory;     /* some value came from the target's memory */
    int err;               /* > 0: the errno the kernel itself would give for these arguments */
    const char *err_arg;   /* the argument that caused err */
    /* Copies of what was read from memory, for performing the call on them (never re-read). */
    struct tr_path paths[2];
    size_t n_paths;
    char *linkname;               /* symlink's target, as written */
    struct sockaddr_storage addr; /* the address of connect, bind, sendto, sendmsg */
    unsigned addr_len;            /* 0 when the call has none */
    uint64_t msg_iov, msg_iovlen, msg_controllen; /* sendmsg's struct msghdr, as read once */
    bool fd_form;      /* a stat of the descriptor itself (AT_EMPTY_PATH and ""): fstat's */
    bool must_perform; /* a permit must be performed on the pinned object, never continued */
    char *argv_blob;   /* execve's arguments as read once, each ending in NUL */
    size_t argv_blob_len;
};

/* Translates the arguments of N. On a malformed argument, ret->err is set (EFAULT, EINVAL,
 * ENAMETOOLONG, …) and the values read so far are kept. Returns -errno only when the target
 * itself could not be inspected: -ESRCH (it died), -EPERM (its memory is closed to the
 * supervisor: it made itself undumpable). */
/* A copy of the calling thread TID's descriptor FD (pidfd_getfd), through the process's PIDFD, or,
 * once its group leader has exited (the leader's pidfd reaches no descriptor table then), through
 * a pidfd of the thread itself, trusted because LISTENER still holds the call ID after it was
 * opened. The copy, or -errno. */
int tr_copy_fd(int pidfd, pid_t tid, int listener, uint64_t id, int fd);

int tr_translate(const struct seccomp_notif *n, const struct tr_target *t, struct tr_call *ret);
void tr_call_free(struct tr_call *c);
void tr_path_clear(struct tr_path *p);
/* The path of what the supervisor's FD refers to, inside the root ROOT_PREFIX names ("" for
 * ours). Never NULL ("" when unknown). Caller frees. */
char *tr_fd_path(int fd, const char *root_prefix);

/* Copies exactly LEN bytes at ADDR from TID's memory; -EFAULT if any byte is unreadable, -EPERM
 * when the supervisor may not read it at all. */
int tr_read_mem(pid_t tid, uint64_t addr, void *buf, size_t len);
/* Reads a NUL-terminated string at ADDR, of at most MAX bytes with its NUL: -EFAULT for an
 * unreadable byte before the NUL, -ENAMETOOLONG when no NUL comes within MAX. */
int tr_read_string(pid_t tid, uint64_t addr, size_t max, char **ret);
/* PATH as the kernel would resolve it for T, relative to DIRFD (AT_FDCWD for the cwd), following
 * a final symlink when FOLLOW, whether it exists or not (ret_path->missing says). RET_PATH
 * (may be NULL) gets what the supervisor needs to act on it. */
int tr_resolve_path(const struct tr_target *t, int dirfd, const char *path, bool follow,
                    bool empty_ok, char **ret, struct tr_path *ret_path);
