/* translate.h: turning a notification's raw arguments into the strings rules compare, reading
 * the target's memory with process_vm_readv (never /proc/PID/mem) and resolving paths against
 * the caller's dirfd, cwd and root, with /proc/self meaning the caller. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define TR_MAX_VALUES 12

/* The target of a translation. */
struct tr_target {
    pid_t tid;               /* the calling thread (the notification's pid) */
    pid_t tgid;              /* its process */
    const char *root_prefix; /* "" when its root is ours, else "/proc/TGID/root" */
};

struct tr_call {
    struct pol_value values[TR_MAX_VALUES];
    size_t n_values;
    char *owned[TR_MAX_VALUES];
    uint64_t oflags;   /* open flags (also from struct open_how), for the alias split */
    bool reads_memory; /* some value came from the target's memory */
    int err;           /* > 0: the errno the kernel itself would give for these arguments */
    const char *err_arg; /* the argument that caused err */
};

/* Translates the arguments of N. On a malformed argument, ret->err is set (EFAULT, EINVAL,
 * ENAMETOOLONG, …) and the values read so far are kept. Returns -errno only when the target
 * itself could not be inspected (it died). */
int tr_translate(const struct seccomp_notif *n, const struct tr_target *t, struct tr_call *ret);
void tr_call_free(struct tr_call *c);

/* Copies exactly LEN bytes at ADDR from TID's memory; -EFAULT if any byte is unreadable. */
int tr_read_mem(pid_t tid, uint64_t addr, void *buf, size_t len);
/* Reads a NUL-terminated string at ADDR, of at most MAX bytes with its NUL: -EFAULT for an
 * unreadable byte before the NUL, -ENAMETOOLONG when no NUL comes within MAX. */
int tr_read_string(pid_t tid, uint64_t addr, size_t max, char **ret);
/* PATH as the kernel would resolve it for T, relative to DIRFD (AT_FDCWD for the cwd), following
 * a final symlink when FOLLOW. "<non-existent filename>: /a/b" when it does not exist. */
int tr_resolve_path(const struct tr_target *t, int dirfd, const char *path, bool follow,
                    bool empty_ok, char **ret);
