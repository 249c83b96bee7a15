/* emulate.c: the supervisor performs permitted calls whose decision read pointer memory.
 *
 * Paths: translation resolved the path once, in the caller's view (its root, cwd, dirfd,
 * /proc/self). Here the parent directory of that resolved path is opened with
 * RESOLVE_NO_SYMLINKS, inside the caller's root, and read back: a component swapped for a
 * symlink after the check fails with ELOOP, a directory moved in between is decided again on
 * where it now is. The last component is then acted on through the parent's fd without
 * following symlinks (the path was resolved already), or through an O_PATH fd of the object
 * itself (/proc/self/fd/N) for calls that have no *at form without following. All of it with
 * the caller's fsuid, fsgid and groups (per-thread, raw syscalls) and umask. */
#include "emulate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <linux/limits.h>
#include <utime.h>

#include "notify.h"
#include "syscalls.h"
#include "util.h"

#define MAX_SEND (16u << 20) /* the most a sendto is copied at once */
/* The kernel's VALID_OPEN_FLAGS (its O_LARGEFILE, which glibc spells 0 on 64-bit). */
#define KERNEL_OPEN_FLAGS                                                                          \
    ((uint64_t)(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |        \
                O_DSYNC | FASYNC | O_DIRECT | 0100000 | O_DIRECTORY | O_NOFOLLOW | O_NOATIME |     \
                O_CLOEXEC | O_PATH | O_TMPFILE | O_SYNC))
#define CAP_NET_BIND_SERVICE_BIT 10

/* What become() changed, for unbecome_if. */
enum { BECAME_IDS = 1, BECAME_CAPS = 2 };

static struct __user_cap_data_struct own_caps[2]; /* effective, permitted, inheritable */
static uint64_t own_effective, own_permitted;
static gid_t own_groups[256];
static int n_own_groups;
static bool privileged;   /* root: can take another identity */
static int own_root = -1; /* our "/", for targets that share it */
static uid_t own_fsuid;
static gid_t own_fsgid;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* The host process's own identity, read once: it is the same for every session. */
static void init_identity(void)
{
    n_own_groups = getgroups((int)ARRAY_SIZE(own_groups), own_groups);
    if (n_own_groups < 0)
        n_own_groups = 0;
    privileged = geteuid() == 0;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capget, &hdr, own_caps) == 0) {
        own_effective = own_caps[0].effective | (uint64_t)own_caps[1].effective << 32;
        own_permitted = own_caps[0].permitted | (uint64_t)own_caps[1].permitted << 32;
    }
    own_fsuid = geteuid();
    own_fsgid = getegid();
    if (own_root < 0)
        own_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void emu_init(void)
{
    pthread_once(&init_once, init_identity);
}

/* ---- credentials ------------------------------------------------------------------------- */

static bool same_groups(const struct proc_info *p)
{
    if (p->n_groups != n_own_groups)
        return false;
    for (int i = 0; i < p->n_groups; i++)
        if (p->groups[i] != own_groups[i])
            return false;
    return true;
}

/* This thread's effective capabilities (raw capset: it changes the calling thread only). */
static int set_effective(uint64_t effective)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {own_caps[0], own_caps[1]};
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static void unbecome_if(int became)
{
    if (became <= 0)
        return;
    /* Capabilities first: restoring the ids needs CAP_SETUID and CAP_SETGID back. */
    if (became & BECAME_CAPS)
        set_effective(own_effective);
    if (became & BECAME_IDS) {
        syscall(SYS_setfsuid, own_fsuid);
        syscall(SYS_setfsgid, own_fsgid);
        syscall(SYS_setgroups, (size_t)n_own_groups, own_groups);
        /* Back to fsuid 0 gives the file-system capabilities back from the permitted set: our
         * effective set is made exact again if it differs from that. */
        if (!(became & BECAME_CAPS) && own_effective != own_permitted)
            set_effective(own_effective);
    }
}

/* Takes the caller's file-system identity on this thread only (raw syscalls: glibc's wrappers
 * would change every thread): its fsuid, fsgid and groups, and its effective capabilities where
 * they are fewer than ours (a root target that dropped CAP_DAC_OVERRIDE must not open through
 * ours). REAL: its real ids, as access(2) checks. Returns what unbecome_if must undo: 0 when the
 * identity is ours already (a root target of a root supervisor with the same capabilities, or
 * any target of an unprivileged one, which runs as the target's own user). */
static int become(const struct proc_info *p, bool real)
{
    uid_t uid = real ? p->ruid : p->fsuid;
    gid_t gid = real ? p->rgid : p->fsgid;
    if (!privileged)
        return 0;
    int became = 0;
    int r = 0;
    /* The ids first: changing them needs CAP_SETUID and CAP_SETGID, which the target may lack. */
    if (uid != own_fsuid || gid != own_fsgid || !same_groups(p)) {
        became |= BECAME_IDS;
        r = syscall(SYS_setgroups, (size_t)p->n_groups, p->groups) < 0 ? -errno : 0;
        if (r == 0) {
            syscall(SYS_setfsgid, gid);
            syscall(SYS_setfsuid, uid);
            if ((uid_t)syscall(SYS_setfsuid, -1) != uid || (gid_t)syscall(SYS_setfsgid, -1) != gid)
                r = -EPERM;
        }
    }
    /* Every capability is the caller's for the call: one it lacks (CAP_DAC_OVERRIDE, but also
     * CAP_SYS_PTRACE, which would open another process's /proc/PID/mem) is not lent. */
    uint64_t caps = p->cap_effective & own_permitted;
    if (r == 0 && caps != own_effective) {
        r = set_effective(caps);
        became |= r == 0 ? BECAME_CAPS : 0;
    }
    if (r < 0) {
        unbecome_if(became);
        return r;
    }
    return became;
}

int emu_become_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
    emu_init();
    struct proc_info p = {.ruid = uid, .fsuid = uid, .rgid = gid, .fsgid = gid};
    if (n_groups > PROC_MAX_GROUPS)
        return -E2BIG;
    memcpy(p.groups, groups, n_groups * sizeof(gid_t));
    p.n_groups = (int)n_groups;
    p.cap_effective = uid == 0 ? own_effective : 0;
    return become(&p, false);
}

void emu_unbecome(int became)
{
    unbecome_if(became);
}

/* ---- paths ------------------------------------------------------------------------------- */

static char *fd_path(int fd, const struct proc_info *p)
{
    return tr_fd_path(fd, p->root_prefix);
}

static char *join(const char *dir, const char *last)
{
    return xasprintf("%s%s%s", dir, streq(dir, "/") ? "" : "/", last);
}

static int openat2_fd(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

/* The caller's root: ours, or its own (a chroot, another mount namespace), which emu_perform
 * opened before taking the caller's identity. Not to be closed. */
static int open_root(const struct emu_ctx *c)
{
    if (!c->proc->root_prefix[0])
        return own_root;
    return c->rootfd >= 0 ? c->rootfd : -EACCES;
}

static void close_root(int fd)
{
    (void)fd;
}

/* Opens PATH (absolute in the caller's root) without following any symlink: translation resolved
 * them all, so one met now was swapped in (ELOOP). With CHECKED, the object reached is read back
 * and, when it is not at PATH any more (a directory renamed in between), decided on again where
 * it is; PATH_INDEX names the path for that. */
static int open_resolved(const struct emu_ctx *c, size_t path_index, const char *path,
                         uint64_t flags, uint64_t mode, bool checked)
{
    int rootfd = open_root(c);
    if (rootfd < 0)
        return rootfd;
    int fd = openat2_fd(rootfd, streq(path, "/") ? "." : path + 1, flags | O_CLOEXEC, mode,
                        RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    close_root(rootfd);
    if (fd < 0 || !checked)
        return fd;
    _cleanup_free_ char *actual = fd_path(fd, c->proc);
    if (!streq(actual, path)) {
        int err = c->recheck(c->data, path_index, actual);
        if (err) {
            close(fd);
            return -err;
        }
    }
    return fd;
}

/* Opens the directory holding path I's last component, checked to be the one decided on (unless
 * the caller checks what it reaches itself, CHECKED false). */
static int open_parent_checked(const struct emu_ctx *c, size_t i, char **ret_last, bool checked)
{
    const char *path = c->call->paths[i].resolved;
    const char *slash = strrchr(path, '/');
    if (!slash || path[0] != '/')
        return -ENOENT;
    _cleanup_free_ char *dir =
        slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    const char *last = slash[1] ? slash + 1 : ".";
    int rootfd = open_root(c);
    if (rootfd < 0)
        return rootfd;
    int fd = openat2_fd(rootfd, streq(dir, "/") ? "." : dir + 1, O_PATH | O_DIRECTORY | O_CLOEXEC,
                        0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    close_root(rootfd);
    if (fd < 0)
        return fd;
    _cleanup_free_ char *actual = checked ? fd_path(fd, c->proc) : NULL;
    if (checked && !streq(actual, dir)) {
        /* Moved since it was checked: decide on where the object now is. */
        _cleanup_free_ char *now = join(actual, last);
        int err = c->recheck(c->data, i, now);
        if (err) {
            close(fd);
            return -err;
        }
    }
    *ret_last = xstrdup(last);
    return fd;
}

static int open_parent(const struct emu_ctx *c, size_t i, char **ret_last)
{
    return open_parent_checked(c, i, ret_last, true);
}

/* An O_PATH fd of the object path I names, the final component not followed again, checked to be
 * the object decided on. */
static int open_object(const struct emu_ctx *c, size_t i)
{
    const struct tr_path *p = &c->call->paths[i];
    if (p->via) {
        int fd = open(p->via, O_PATH | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
    }
    int fd = open_resolved(c, i, p->resolved, O_PATH | O_NOFOLLOW, 0, true);
    /* A call that follows symlinks was resolved past them: one here now was swapped in. */
    struct stat st;
    if (fd >= 0 && p->follow && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
        close(fd);
        return -ELOOP;
    }
    return fd;
}

/* ---- answers ----------------------------------------------------------------------------- */

static int answer(const struct emu_ctx *c, long val)
{
    return val < 0 ? notify_return(c->listener, c->n->id, 0, (int)-val)
                   : notify_return(c->listener, c->n->id, val, 0);
}

/* Writes the result into the caller's buffer. The call may have waited (a slow file system):
 * its tid may be another process's by now unless the notification is still valid. */
static int write_back(const struct emu_ctx *c, uint64_t addr, const void *buf, size_t n)
{
    if (!notify_id_valid(c->listener, c->n->id))
        return -ESRCH;
    struct iovec local = {(void *)buf, n};
    struct iovec remote = {(void *)(uintptr_t)addr, n};
    ssize_t w = process_vm_writev(c->n->pid, &local, 1, &remote, 1, 0);
    return w == (ssize_t)n ? 0 : -EFAULT;
}

static uint64_t arg(const struct emu_ctx *c, int i)
{
    return c->n->data.args[i];
}

static enum sys_id id(const struct emu_ctx *c)
{
    return sys_id_of(c->n->data.nr);
}

/* ---- opens ------------------------------------------------------------------------------- */

/* The open itself, with the semantics of the call the target made: openat2 is strict about
 * flags and honours RESOLVE_*, the older calls ignore unknown flags. Never a controlling terminal
 * for the supervisor, never an fd that survives an exec of ours. */
static int open_as(const struct emu_ctx *c, int dirfd, const char *path, uint64_t flags,
                   uint64_t mode)
{
    if ((id(c) == SYS_ID_openat2))
        return openat2_fd(dirfd, path, flags | O_CLOEXEC, mode,
                          c->call->open_resolve & ~(uint64_t)RESOLVE_IN_ROOT);
    int fd = openat(dirfd, path, (int)flags | O_CLOEXEC | O_NOCTTY, (mode_t)mode);
    return fd < 0 ? -errno : fd;
}

static int emu_open(const struct emu_ctx *c)
{
    uint64_t flags = c->call->oflags;
    uint64_t mode = (id(c) == SYS_ID_open)     ? arg(c, 2)
                    : (id(c) == SYS_ID_openat) ? arg(c, 3)
                    : (id(c) == SYS_ID_creat)  ? arg(c, 1)
                                               : c->call->open_mode;
    bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    mode = creates ? (mode & 07777 & ~(uint64_t)c->proc->umask) : 0;
    const struct tr_path *p = &c->call->paths[0];
    /* An open that changes nothing by itself is checked on the object it reached (below); one
     * that creates or truncates must be checked before. */
    bool changes = (flags & (O_CREAT | O_TRUNC)) || (flags & O_TMPFILE) == O_TMPFILE;
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    int fd;
    if (r < 0) {
        fd = r;
    } else if (p->via) {
        fd = open_as(c, AT_FDCWD, p->via, flags, mode);
    } else if (!changes && !(id(c) == SYS_ID_openat2)) {
        /* Checked on the object it reached (below), in one openat2 (which refuses flags that
         * open and openat ignore: those are dropped as the kernel drops them). */
        fd = open_resolved(c, 0, p->resolved, (flags & KERNEL_OPEN_FLAGS) | O_NOFOLLOW | O_NOCTTY,
                           0, false);
    } else {
        _cleanup_free_ char *last = NULL;
        /* One that creates or truncates must be checked before. */
        _cleanup_close_ int parent = open_parent_checked(c, 0, &last, changes);
        /* O_TMPFILE names the directory itself, which may be reached by following. */
        uint64_t nofollow = (flags & O_TMPFILE) == O_TMPFILE ? 0 : O_NOFOLLOW;
        fd = parent < 0 ? parent : open_as(c, parent, last, flags | nofollow, mode);
    }
    unbecome_if(became);
    if (fd < 0)
        return answer(c, fd);
    if (!p->via) {
        _cleanup_free_ char *actual = fd_path(fd, c->proc);
        char *expected = p->resolved;
        bool tmp = (flags & O_TMPFILE) == O_TMPFILE;
        char *slash = tmp ? strrchr(actual, '/') : NULL;
        if (slash)
            *(slash == actual ? slash + 1 : slash) = '\0';
        if (!streq(actual, expected)) {
            int err = c->recheck(c->data, 0, actual);
            if (err) {
                close(fd);
                return answer(c, -err);
            }
        }
    }
    c->answering(c->data);
    r = notify_addfd_send(c->listener, c->n->id, fd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0);
    close(fd);
    if (r == -ENOENT)
        return r; /* the target is gone */
    /* Never leave the call unanswered: if the fd could not be installed (EMFILE…), say so. */
    return r < 0 ? answer(c, r) : 0;
}

/* ---- queries ----------------------------------------------------------------------------- */

/* stat, lstat, newfstatat and statx: the object's metadata, written into the caller's buffer. */
static int emu_stat(const struct emu_ctx *c)
{
    bool x = (id(c) == SYS_ID_statx);
    int buf_arg = (id(c) == SYS_ID_newfstatat) ? 2 : x ? 4 : 1;
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    int fd = r < 0 ? r : open_object(c, 0);
    struct stat st;
    struct statx stx;
    if (fd >= 0) {
        if (x)
            r = statx(fd, "",
                      AT_EMPTY_PATH | ((int)arg(c, 2) & (AT_STATX_SYNC_TYPE | AT_NO_AUTOMOUNT)),
                      (unsigned)arg(c, 3), &stx) < 0
                    ? -errno
                    : 0;
        else
            r = fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 ? -errno : 0;
        close(fd);
    } else {
        r = fd;
    }
    unbecome_if(became);
    if (r == 0)
        r = x ? write_back(c, arg(c, buf_arg), &stx, sizeof(stx))
              : write_back(c, arg(c, buf_arg), &st, sizeof(st));
    return answer(c, r);
}

static int emu_access(const struct emu_ctx *c)
{
    bool plain = (id(c) == SYS_ID_access);
    int mode = (int)arg(c, plain ? 1 : 2);
    int flags = (id(c) == SYS_ID_faccessat2) ? (int)arg(c, 3) : 0;
    if (mode & ~(R_OK | W_OK | X_OK))
        return answer(c, -EINVAL);
    int became = become(c->proc, !(flags & AT_EACCESS));
    int r = became < 0 ? became : 0;
    int fd = r < 0 ? r : open_object(c, 0);
    if (fd >= 0) {
        r = syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0 ? -errno : 0;
        close(fd);
    } else {
        r = fd;
    }
    unbecome_if(became);
    return answer(c, r);
}

static int emu_readlink(const struct emu_ctx *c)
{
    bool at = (id(c) == SYS_ID_readlinkat);
    int size = (int)arg(c, at ? 3 : 2);
    if (size <= 0)
        return answer(c, -EINVAL);
    size_t n = (size_t)size < PATH_MAX ? (size_t)size : PATH_MAX;
    char buf[PATH_MAX];
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    ssize_t len = r;
    if (r == 0) {
        const struct tr_path *p = &c->call->paths[0];
        if (p->via) {
            len = readlink(p->via, buf, n);
            if (len < 0)
                len = -errno;
        } else {
            _cleanup_free_ char *last = NULL;
            _cleanup_close_ int parent = open_parent(c, 0, &last);
            len = parent < 0 ? parent : readlinkat(parent, last, buf, n);
            if (parent >= 0 && len < 0)
                len = -errno;
        }
    }
    unbecome_if(became);
    if (len >= 0 && write_back(c, arg(c, at ? 2 : 1), buf, (size_t)len) < 0)
        len = -EFAULT;
    return answer(c, (long)len);
}

static int emu_statfs(const struct emu_ctx *c)
{
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    int fd = r < 0 ? r : open_object(c, 0);
    struct statfs sf;
    if (fd >= 0) {
        r = fstatfs(fd, &sf) < 0 ? -errno : 0;
        close(fd);
    } else {
        r = fd;
    }
    unbecome_if(became);
    if (r == 0)
        r = write_back(c, arg(c, 1), &sf, sizeof(sf));
    return answer(c, r);
}

/* ---- changes ----------------------------------------------------------------------------- */

/* Runs OP on the parent fd and last component of path 0 (and of path 1 for two-path calls). */
struct change {
    int parent[2];
    char *last[2];
};

static int open_parents(const struct emu_ctx *c, size_t n, struct change *ch)
{
    *ch = (struct change){{-1, -1}, {NULL, NULL}};
    for (size_t i = 0; i < n; i++) {
        ch->parent[i] = open_parent(c, i, &ch->last[i]);
        if (ch->parent[i] < 0)
            return ch->parent[i];
    }
    return 0;
}

static void close_parents(struct change *ch)
{
    for (int i = 0; i < 2; i++) {
        if (ch->parent[i] >= 0)
            close(ch->parent[i]);
        free(ch->last[i]);
    }
}

static long do_change(const struct emu_ctx *c)
{
    struct change ch;
    bool two = c->call->n_paths == 2 && !(id(c) == SYS_ID_symlink) && !(id(c) == SYS_ID_symlinkat);
    long r = open_parents(c, two ? 2 : 1, &ch);
    mode_t umask_ = c->proc->umask;
    if (r == 0) {
        if ((id(c) == SYS_ID_unlink) || (id(c) == SYS_ID_rmdir))
            r = unlinkat(ch.parent[0], ch.last[0], (id(c) == SYS_ID_rmdir) ? AT_REMOVEDIR : 0);
        else if ((id(c) == SYS_ID_unlinkat))
            r = unlinkat(ch.parent[0], ch.last[0], (int)arg(c, 2) & AT_REMOVEDIR);
        else if ((id(c) == SYS_ID_mkdir) || (id(c) == SYS_ID_mkdirat))
            r = mkdirat(ch.parent[0], ch.last[0],
                        (mode_t)arg(c, (id(c) == SYS_ID_mkdir) ? 1 : 2) & 07777 & ~umask_);
        else if ((id(c) == SYS_ID_mknod) || (id(c) == SYS_ID_mknodat)) {
            int a = (id(c) == SYS_ID_mknod) ? 1 : 2;
            mode_t mode = (mode_t)arg(c, a);
            r = mknodat(ch.parent[0], ch.last[0], (mode & S_IFMT) | (mode & 07777 & ~umask_),
                        (dev_t)arg(c, a + 1));
        } else if ((id(c) == SYS_ID_rename) || (id(c) == SYS_ID_renameat) ||
                   (id(c) == SYS_ID_renameat2))
            r = renameat2(ch.parent[0], ch.last[0], ch.parent[1], ch.last[1],
                          (id(c) == SYS_ID_renameat2) ? (unsigned)arg(c, 4) : 0);
        else if ((id(c) == SYS_ID_link) || (id(c) == SYS_ID_linkat))
            r = linkat(ch.parent[0], ch.last[0], ch.parent[1], ch.last[1], 0);
        else if ((id(c) == SYS_ID_symlink) || (id(c) == SYS_ID_symlinkat))
            r = symlinkat(c->call->linkname ? c->call->linkname : "", ch.parent[0], ch.last[0]);
        else
            r = -ENOSYS;
        if (r < 0 && r != -ENOSYS)
            r = -errno;
    }
    close_parents(&ch);
    return r;
}

/* chmod, chown, truncate, utimes: on the object itself, through an O_PATH fd of it. */
static int read_times(const struct emu_ctx *c, struct timespec ts[2], bool *ret_null)
{
    uint64_t addr =
        (id(c) == SYS_ID_utimensat) || (id(c) == SYS_ID_futimesat) ? arg(c, 2) : arg(c, 1);
    *ret_null = addr == 0;
    if (!addr)
        return 0;
    if ((id(c) == SYS_ID_utimensat))
        return tr_read_mem(c->n->pid, addr, ts, 2 * sizeof(*ts)) < 0 ? -EFAULT : 0;
    if ((id(c) == SYS_ID_utime)) {
        struct utimbuf u;
        if (tr_read_mem(c->n->pid, addr, &u, sizeof(u)) < 0)
            return -EFAULT;
        ts[0] = (struct timespec){u.actime, 0};
        ts[1] = (struct timespec){u.modtime, 0};
        return 0;
    }
    struct timeval tv[2];
    if (tr_read_mem(c->n->pid, addr, tv, sizeof(tv)) < 0)
        return -EFAULT;
    for (int i = 0; i < 2; i++) {
        if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
            return -EINVAL;
        ts[i] = (struct timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
    }
    return 0;
}

/* TS: the times read from the caller (before taking its identity), NULL_TIMES for "now". */
static long do_on_object(const struct emu_ctx *c, const struct timespec ts[2], bool null_times)
{
    int fd = open_object(c, 0);
    if (fd < 0)
        return fd;
    char self[48];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    long r;
    if ((id(c) == SYS_ID_chmod) || (id(c) == SYS_ID_fchmodat))
        r = chmod(self, (mode_t)arg(c, (id(c) == SYS_ID_chmod) ? 1 : 2) & 07777);
    else if ((id(c) == SYS_ID_chown) || (id(c) == SYS_ID_lchown))
        r = fchownat(fd, "", (uid_t)arg(c, 1), (gid_t)arg(c, 2), AT_EMPTY_PATH);
    else if ((id(c) == SYS_ID_fchownat))
        r = fchownat(fd, "", (uid_t)arg(c, 2), (gid_t)arg(c, 3), AT_EMPTY_PATH);
    else if ((id(c) == SYS_ID_truncate))
        r = truncate(self, (off_t)arg(c, 1));
    else
        r = utimensat(fd, "", null_times ? NULL : ts, AT_EMPTY_PATH);
    if (r < 0)
        r = -errno;
    close(fd);
    return r;
}

static int emu_change(const struct emu_ctx *c)
{
    enum sys_id i = id(c);
    bool times =
        i == SYS_ID_utime || i == SYS_ID_utimes || i == SYS_ID_utimensat || i == SYS_ID_futimesat;
    struct timespec ts[2];
    bool null_times = false;
    /* The caller's memory is read as the supervisor, before taking the caller's identity. */
    if (times) {
        int t = read_times(c, ts, &null_times);
        if (t < 0)
            return answer(c, t);
    }
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    long res = r;
    if (r == 0) {
        bool object = times || i == SYS_ID_chmod || i == SYS_ID_fchmodat || i == SYS_ID_chown ||
                      i == SYS_ID_lchown || i == SYS_ID_fchownat || i == SYS_ID_truncate;
        res = object ? do_on_object(c, ts, null_times) : do_change(c);
    }
    unbecome_if(became);
    return answer(c, res < 0 ? res : 0);
}

/* ---- extended attributes ----------------------------------------------------------------- */

/* getxattr, listxattr, setxattr, removexattr and their l forms: on the last component through
 * the checked parent directory (/proc/self/fd/PARENT/LAST, never following it: the path was
 * resolved already), or through the magic link that alone reaches the object. The name and the
 * value are copied once. */
static int emu_xattr(const struct emu_ctx *c)
{
    const char *name_ = sys_name(c->n->data.nr);
    enum sys_id i = id(c);
    /* lgetxattr -> getxattr, llistxattr -> listxattr (but listxattr stays) */
    bool l_form = i == SYS_ID_lgetxattr || i == SYS_ID_lsetxattr || i == SYS_ID_lremovexattr ||
                  i == SYS_ID_llistxattr;
    const char *op = l_form ? name_ + 1 : name_;
    bool list = streq(op, "listxattr");
    char attr[XATTR_NAME_MAX + 1];
    if (!list) {
        char *name = NULL;
        int r = tr_read_string(c->n->pid, arg(c, 1), sizeof(attr), &name);
        if (r < 0)
            return answer(c, r == -ENAMETOOLONG ? -ERANGE : -EFAULT);
        snprintf(attr, sizeof(attr), "%s", name);
        free(name);
    }
    int size_arg = list ? 2 : streq(op, "removexattr") ? -1 : 3;
    size_t size = size_arg >= 0 ? (size_t)arg(c, size_arg) : 0;
    if (size > XATTR_SIZE_MAX && !streq(op, "setxattr"))
        size = XATTR_SIZE_MAX;
    if (streq(op, "setxattr") && size > XATTR_SIZE_MAX)
        return answer(c, -E2BIG);
    char *buf = xmalloc(size ? size : 1);
    if (streq(op, "setxattr") && tr_read_mem(c->n->pid, arg(c, 2), buf, size) < 0) {
        free(buf);
        return answer(c, -EFAULT);
    }
    int became = become(c->proc, false);
    int r = became < 0 ? became : 0;
    long res = r;
    if (r == 0) {
        const struct tr_path *p = &c->call->paths[0];
        _cleanup_free_ char *last = NULL;
        _cleanup_close_ int parent = p->via ? -1 : open_parent(c, 0, &last);
        _cleanup_free_ char *path =
            p->via ? xstrdup(p->via) : xasprintf("/proc/self/fd/%d/%s", parent, last);
        bool follow = p->via != NULL; /* only the magic link itself is followed */
        if (!p->via && parent < 0)
            res = parent;
        else if (list)
            res = follow ? listxattr(path, buf, size) : llistxattr(path, buf, size);
        else if (streq(op, "getxattr"))
            res = follow ? getxattr(path, attr, buf, size) : lgetxattr(path, attr, buf, size);
        else if (streq(op, "setxattr"))
            res = follow ? setxattr(path, attr, buf, size, (int)arg(c, 4))
                         : lsetxattr(path, attr, buf, size, (int)arg(c, 4));
        else
            res = follow ? removexattr(path, attr) : lremovexattr(path, attr);
        if (res < 0 && (p->via || parent >= 0))
            res = -errno;
    }
    unbecome_if(became);
    if (res > 0 && (list || streq(op, "getxattr")) && size > 0 &&
        write_back(c, arg(c, list ? 1 : 2), buf, (size_t)res) < 0)
        res = -EFAULT;
    free(buf);
    return answer(c, res);
}

/* ---- sockets ----------------------------------------------------------------------------- */

static bool may_bind_port(const struct emu_ctx *c, const struct sockaddr_storage *ss)
{
    unsigned port = 0;
    if (ss->ss_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    else if (ss->ss_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    unsigned start = 1024;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
    if (f) {
        if (fscanf(f, "%u", &start) != 1)
            start = 1024;
        fclose(f);
    }
    return port == 0 || port >= start || (c->proc->cap_effective >> CAP_NET_BIND_SERVICE_BIT) & 1;
}

/* LEN bytes at ADDR of the caller's memory (at most MAX_SEND) appended to OUT; an errno. */
static int read_data(const struct emu_ctx *c, uint64_t addr, uint64_t len, struct buf *out)
{
    size_t n = len < MAX_SEND - out->len ? (size_t)len : MAX_SEND - out->len;
    char *tmp = xmalloc(n ? n : 1);
    int r = tr_read_mem(c->n->pid, addr, tmp, n) < 0 ? EFAULT : 0;
    if (r == 0)
        buf_append(out, tmp, n);
    free(tmp);
    return r;
}

/* sendmsg's data, gathered from its iovecs (read once, from the msghdr read at translation). */
static int gather_iov(const struct emu_ctx *c, struct buf *out)
{
    const struct tr_call *call = c->call;
    if (call->msg_iovlen > 1024)
        return EMSGSIZE;
    struct iovec *iov = xcalloc(call->msg_iovlen + 1, sizeof(*iov));
    int r = tr_read_mem(c->n->pid, call->msg_iov, iov, call->msg_iovlen * sizeof(*iov)) < 0 ? EFAULT
                                                                                            : 0;
    for (uint64_t i = 0; r == 0 && i < call->msg_iovlen && out->len < MAX_SEND; i++)
        r = read_data(c, (uint64_t)(uintptr_t)iov[i].iov_base, iov[i].iov_len, out);
    free(iov);
    return r;
}

/* connect, bind and sendto on a copy of the caller's socket (pidfd_getfd), with the address that
 * was checked. The copy shares the open file description: O_NONBLOCK and the result are the
 * caller's. */
static int emu_socket(const struct emu_ctx *c)
{
    const struct tr_call *call = c->call;
    /* The process's own pidfd: its descriptor table, not that of whoever has its pid now. */
    long sock = tr_copy_fd(c->proc->pidfd, c->n->pid, c->listener, c->n->id, (int)arg(c, 0));
    if (sock < 0)
        return answer(c, (int)sock);
    long r;
    if ((id(c) == SYS_ID_connect)) {
        r = connect((int)sock, (const struct sockaddr *)&call->addr, call->addr_len);
    } else if ((id(c) == SYS_ID_bind)) {
        r = may_bind_port(c, &call->addr)
                ? bind((int)sock, (const struct sockaddr *)&call->addr, call->addr_len)
                : (errno = EACCES, -1);
    } else {
        struct buf data = {0};
        int err = (id(c) == SYS_ID_sendmsg) ? gather_iov(c, &data)
                                            : read_data(c, arg(c, 1), arg(c, 2), &data);
        int flags = (int)arg(c, (id(c) == SYS_ID_sendmsg) ? 2 : 3);
        if (err) {
            errno = err;
            r = -1;
        } else {
            r = sendto((int)sock, data.data ? data.data : "", data.len, flags,
                       (const struct sockaddr *)&call->addr, call->addr_len);
        }
        buf_free(&data);
    }
    if (r < 0)
        r = -errno;
    close((int)sock);
    return answer(c, r);
}

/* An O_PATH descriptor cannot be injected (ADDFD refuses it), and it reads and writes nothing:
 * every use that reaches an object through it (openat relative to it, a reopen through
 * /proc/self/fd, execveat) is checked on that object's resolved path. */
static const char o_path_reason[] =
    "an O_PATH open grants no access to the object's contents; every later use of the "
    "descriptor that reaches an object is checked on that object's resolved path (it can "
    "reveal the object's metadata through fstat)";

/* ---- the table --------------------------------------------------------------------------- */

typedef int (*emu_fn)(const struct emu_ctx *c);

static const struct {
    const char *syscall;
    enum emu_kind kind;
    emu_fn fn;
    const char *reason; /* for EMU_CONTINUE and EMU_VERIFY */
} table[] = {
    {"open", EMU_PERFORM, emu_open, NULL},
    {"openat", EMU_PERFORM, emu_open, NULL},
    {"openat2", EMU_PERFORM, emu_open, NULL},
    {"creat", EMU_PERFORM, emu_open, NULL},
    {"stat", EMU_PERFORM, emu_stat, NULL},
    {"lstat", EMU_PERFORM, emu_stat, NULL},
    {"newfstatat", EMU_PERFORM, emu_stat, NULL},
    {"statx", EMU_PERFORM, emu_stat, NULL},
    {"access", EMU_PERFORM, emu_access, NULL},
    {"faccessat", EMU_PERFORM, emu_access, NULL},
    {"faccessat2", EMU_PERFORM, emu_access, NULL},
    {"readlink", EMU_PERFORM, emu_readlink, NULL},
    {"readlinkat", EMU_PERFORM, emu_readlink, NULL},
    {"statfs", EMU_PERFORM, emu_statfs, NULL},
    {"unlink", EMU_PERFORM, emu_change, NULL},
    {"unlinkat", EMU_PERFORM, emu_change, NULL},
    {"rmdir", EMU_PERFORM, emu_change, NULL},
    {"mkdir", EMU_PERFORM, emu_change, NULL},
    {"mkdirat", EMU_PERFORM, emu_change, NULL},
    {"mknod", EMU_PERFORM, emu_change, NULL},
    {"mknodat", EMU_PERFORM, emu_change, NULL},
    {"rename", EMU_PERFORM, emu_change, NULL},
    {"renameat", EMU_PERFORM, emu_change, NULL},
    {"renameat2", EMU_PERFORM, emu_change, NULL},
    {"link", EMU_PERFORM, emu_change, NULL},
    {"linkat", EMU_PERFORM, emu_change, NULL},
    {"symlink", EMU_PERFORM, emu_change, NULL},
    {"symlinkat", EMU_PERFORM, emu_change, NULL},
    {"chmod", EMU_PERFORM, emu_change, NULL},
    {"fchmodat", EMU_PERFORM, emu_change, NULL},
    {"chown", EMU_PERFORM, emu_change, NULL},
    {"lchown", EMU_PERFORM, emu_change, NULL},
    {"fchownat", EMU_PERFORM, emu_change, NULL},
    {"truncate", EMU_PERFORM, emu_change, NULL},
    {"utime", EMU_PERFORM, emu_change, NULL},
    {"utimes", EMU_PERFORM, emu_change, NULL},
    {"utimensat", EMU_PERFORM, emu_change, NULL},
    {"futimesat", EMU_PERFORM, emu_change, NULL},
    {"getxattr", EMU_PERFORM, emu_xattr, NULL},
    {"lgetxattr", EMU_PERFORM, emu_xattr, NULL},
    {"listxattr", EMU_PERFORM, emu_xattr, NULL},
    {"llistxattr", EMU_PERFORM, emu_xattr, NULL},
    {"setxattr", EMU_PERFORM, emu_xattr, NULL},
    {"lsetxattr", EMU_PERFORM, emu_xattr, NULL},
    {"removexattr", EMU_PERFORM, emu_xattr, NULL},
    {"lremovexattr", EMU_PERFORM, emu_xattr, NULL},
    {"connect", EMU_PERFORM, emu_socket, NULL},
    {"bind", EMU_PERFORM, emu_socket, NULL},
    {"sendto", EMU_PERFORM, emu_socket, NULL},
    {"sendmsg", EMU_PERFORM, emu_socket, NULL},
    {"open(O_PATH), openat(O_PATH), openat2(O_PATH)", EMU_CONTINUE, NULL, o_path_reason},
    {"chdir", EMU_VERIFY, NULL,
     "a working directory cannot be set for another process: the chdir runs, and at the "
     "process's next request its working directory must be the one checked (or the one before, "
     "had the call failed), or it is killed"},
    {"execve", EMU_VERIFY, NULL,
     "a new program cannot be started by another process: the exec runs, then the process's "
     "executable (device and inode) is compared with the file permitted before it is served "
     "again, and killed if they differ"},
    {"execveat", EMU_VERIFY, NULL,
     "as execve: the exec runs, then the executable is compared with the file permitted"},
};

static short row_of[SYS_NR_LIMIT]; /* row + 1 of call NR in TABLE, 0 for none */
static pthread_once_t rows_once = PTHREAD_ONCE_INIT;

static void index_rows(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
        int nr = sys_number(table[i].syscall);
        if (nr >= 0)
            row_of[nr] = (short)(i + 1);
    }
}

static int find(int nr)
{
    pthread_once(&rows_once, index_rows);
    return nr >= 0 && nr < SYS_NR_LIMIT ? row_of[nr] - 1 : -1;
}

enum emu_kind emu_kind_of(int nr, const char **ret_reason)
{
    int i = find(nr);
    if (ret_reason)
        *ret_reason = i >= 0 ? table[i].reason : NULL;
    return i >= 0 ? table[i].kind : EMU_NONE;
}

const char *emu_continue_reason(int nr, const struct tr_call *call)
{
    int i = find(nr);
    if (i >= 0 && table[i].fn == emu_open && (call->oflags & O_PATH))
        return o_path_reason;
    return NULL;
}

bool emu_can_perform(int nr, const struct tr_call *call)
{
    int i = find(nr);
    if (i < 0 || table[i].kind != EMU_PERFORM || emu_continue_reason(nr, call))
        return false;
    /* Control messages (passed descriptors, credentials) are not carried over: unsafe. */
    if (table[i].fn == emu_socket)
        return call->addr_len > 0 && call->msg_controllen == 0 &&
               (call->addr.ss_family == AF_INET || call->addr.ss_family == AF_INET6);
    if (call->n_paths == 0 || !call->paths[0].resolved)
        return false;
    /* Two-path calls need both; a link through a magic link has no race-free form here. */
    bool two = sys_flags_of(nr) & SYS_F_TWO_PATHS;
    if (two && (call->n_paths < 2 || call->paths[0].via || call->paths[1].via))
        return false;
    return true;
}

bool emu_may_block(int nr)
{
    int i = find(nr);
    return i >= 0 && table[i].fn == emu_socket;
}

int emu_perform(const struct emu_ctx *ctx)
{
    int i = find(ctx->n->data.nr);
    if (i < 0 || !table[i].fn)
        return -ENOSYS;
    /* The caller's root is reached through its /proc entry, which is the supervisor's right to
     * open, not the caller's: opened before the call takes the caller's identity. */
    struct emu_ctx c = *ctx;
    c.rootfd =
        c.proc->root_prefix[0] ? open(c.proc->root_prefix, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    int r = table[i].fn(&c);
    if (c.rootfd >= 0)
        close(c.rootfd);
    return r;
}

const struct emu_continue_row *emu_continue_table(unsigned *ret_n)
{
    static struct emu_continue_row rows[ARRAY_SIZE(table)];
    unsigned n = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
        if (table[i].kind == EMU_CONTINUE || table[i].kind == EMU_VERIFY)
            rows[n++] = (struct emu_continue_row){table[i].syscall, table[i].kind, table[i].reason};
    *ret_n = n;
    return rows;
}
