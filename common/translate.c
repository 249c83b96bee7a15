/* translate.c: reading and resolving a target's arguments. Memory is read once per argument with
 * process_vm_readv, page by page for strings, so a string that runs into an unmapped page faults
 * exactly where the kernel would. */
#include "translate.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "format.h"
#include "notify.h"
#include "syscalls.h"
#include "util.h"

#define PAGE           4096u
#define MAX_SYMLINKS   40
#define MAX_ARGV       4096
#define MAX_ARGV_BYTES (128u * 1024)

int tr_read_mem(pid_t tid, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return errno == ESRCH || errno == EPERM ? -errno : -EFAULT;
    return (size_t)n == len ? 0 : -EFAULT;
}

int tr_read_string(pid_t tid, uint64_t addr, size_t max, char **ret)
{
    if (addr == 0)
        return -EFAULT;
    struct buf b = {0};
    while (b.len < max) {
        size_t chunk = PAGE - (size_t)(addr % PAGE);
        if (chunk > max - b.len)
            chunk = max - b.len;
        char tmp[PAGE];
        int r = tr_read_mem(tid, addr, tmp, chunk);
        if (r < 0) {
            buf_free(&b);
            return r;
        }
        char *nul = memchr(tmp, '\0', chunk);
        buf_append(&b, tmp, nul ? (size_t)(nul - tmp) : chunk);
        if (nul) {
            if (!b.data)
                buf_append(&b, "", 0);
            *ret = buf_steal(&b);
            return 0;
        }
        addr += chunk;
    }
    buf_free(&b);
    return -ENAMETOOLONG;
}

/* readlink(2) into a new string; -errno. */
static int read_link(const char *path, char **ret)
{
    char buf[PATH_MAX + 1];
    ssize_t n = readlink(path, buf, PATH_MAX);
    if (n < 0)
        return -errno;
    *ret = xstrndup(buf, (size_t)n);
    return 0;
}

/* The magic link under /proc that names the caller's cwd (AT_FDCWD) or its DIRFD. */
static int dir_link(const struct tr_target *t, int dirfd, char *buf, size_t n)
{
    if (dirfd == AT_FDCWD)
        snprintf(buf, n, "/proc/%d/cwd", t->tid);
    else if (dirfd < 0)
        return -EBADF;
    else
        snprintf(buf, n, "/proc/%d/fd/%d", t->tid, dirfd);
    return 0;
}

/* The directory a relative path starts from: the cwd or DIRFD of the caller. */
static int base_dir(const struct tr_target *t, int dirfd, char **ret)
{
    char proc[64];
    int r = dir_link(t, dirfd, proc, sizeof(proc));
    if (r < 0)
        return r;
    r = read_link(proc, ret);
    if (r == -ENOENT && dirfd != AT_FDCWD)
        return -EBADF;
    if (r < 0)
        return r;
    if ((*ret)[0] != '/') { /* "pipe:[…]": not a directory */
        free(*ret);
        return -ENOTDIR;
    }
    /* A chrooted caller's directories read as host paths under its root. */
    size_t plen = strlen(t->root_prefix);
    if (plen) {
        _cleanup_free_ char *root = NULL;
        char rp[64];
        snprintf(rp, sizeof(rp), "/proc/%d/root", t->tgid);
        if (read_link(rp, &root) == 0 && strncmp(*ret, root, strlen(root)) == 0) {
            char *inside = xstrdup(*ret + strlen(root));
            free(*ret);
            *ret = *inside ? inside : (free(inside), xstrdup("/"));
        }
    }
    return 0;
}

static void drop_last(struct buf *res)
{
    char *slash = strrchr(res->data, '/');
    res->len = slash && slash != res->data ? (size_t)(slash - res->data) : 1;
    res->data[res->len] = '\0';
}

/* Rewrites /proc/self and /proc/thread-self in RES to the caller's own entries. */
static void rewrite_self(struct buf *res, const struct tr_target *t)
{
    char repl[64];
    if (streq(res->data, "/proc/self"))
        snprintf(repl, sizeof(repl), "/proc/%d", t->tgid);
    else if (streq(res->data, "/proc/thread-self"))
        snprintf(repl, sizeof(repl), "/proc/%d/task/%d", t->tgid, t->tid);
    else
        return;
    res->len = 0;
    buf_puts(res, repl);
}

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int tr_copy_fd(int pidfd, pid_t tid, int listener, uint64_t id, int fd)
{
    int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (copy >= 0 || errno != ESRCH)
        return copy < 0 ? -errno : copy;
    _cleanup_close_ int thread = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    if (thread < 0 || !notify_id_valid(listener, id))
        return -ESRCH;
    copy = (int)syscall(SYS_pidfd_getfd, thread, fd, 0);
    return copy < 0 ? -errno : copy;
}

/* Makes OUT the caller's descriptor FD (AT_FDCWD: its working directory), pinned: the supervisor's
 * own copy, through which the call will be performed. *RET is the object's path. */
static int pin(const struct tr_target *t, int fd, struct tr_path *out, char **ret)
{
    int copy;
    if (fd == AT_FDCWD) {
        char cwd[48];
        snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", t->tid);
        copy = open(cwd, O_PATH | O_CLOEXEC);
    } else if (fd < 0) {
        return -EBADF;
    } else {
        copy = tr_copy_fd(t->pidfd, t->tid, t->listener, t->id, fd);
        errno = -copy;
    }
    if (copy < 0)
        return errno == EPERM ? -EPERM : errno == ESRCH ? -ESRCH : -EBADF;
    out->pinned = copy;
    out->has_pin = true;
    free(out->via);
    out->via = xasprintf("/proc/self/fd/%d", copy);
    *ret = tr_fd_path(copy, t->root_prefix);
    return 0;
}

/* The descriptor number N when LINK (a resolved path) is /proc/<the caller>/fd/N or
 * /proc/<the caller>/task/<tid>/fd/N, else -1. */
static int own_fd_link(const struct tr_target *t, const char *link)
{
    char prefix[48];
    int n = snprintf(prefix, sizeof(prefix), "/proc/%d/", t->tgid);
    if (strncmp(link, prefix, (size_t)n) != 0)
        return -1;
    const char *s = link + n;
    if (strncmp(s, "task/", 5) == 0) {
        s += 5 + strspn(s + 5, "0123456789");
        if (*s++ != '/')
            return -1;
    }
    if (strncmp(s, "fd/", 3) != 0)
        return -1;
    char *end;
    long fd = strtol(s + 3, &end, 10);
    return end != s + 3 && !*end && fd >= 0 && fd < INT_MAX ? (int)fd : -1;
}

/* statfs(2)'s f_flags bit of a nosymfollow mount (ST_NOSYMFOLLOW in the kernel's statfs.h). */
#define MOUNT_NOSYMFOLLOW 0x2000

/* A file system setting of /proc/sys/fs: 0, 1 or 2. */
static int fs_protection(const char *name)
{
    char path[64], value[8] = "";
    snprintf(path, sizeof(path), "/proc/sys/fs/%s", name);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 && read(fd, value, sizeof(value) - 1) > 0 ? atoi(value) : 0;
}

/* Whether the kernel would follow the symlink LINK for T's caller: not on a nosymfollow mount
 * (ELOOP), nor, with fs.protected_symlinks, one in a sticky world-writable directory (/tmp)
 * that neither the caller nor the directory's owner owns (EACCES). The links are followed here,
 * as text, so the kernel never sees them; protected_regular and protected_fifos need nothing
 * of ours: the open of the object itself runs as the caller. */
static int may_follow(const struct tr_target *t, const char *link)
{
    _cleanup_free_ char *parent = xstrdup(link);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return 0;
    slash[slash == parent ? 1 : 0] = '\0';
    struct statfs sf;
    if (statfs(parent, &sf) == 0 && (sf.f_flags & MOUNT_NOSYMFOLLOW))
        return ELOOP;
    struct stat ls, ds;
    if (lstat(link, &ls) < 0 || ls.st_uid == t->fsuid)
        return 0;
    if (stat(parent, &ds) < 0 || (ds.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
        ds.st_uid == ls.st_uid)
        return 0;
    return fs_protection("protected_symlinks") ? EACCES : 0;
}

/* Resolves component by component, reading each symlink in the caller's view of /proc, so that
 * /proc/self and magic links such as /dev/stdin name the caller's objects, not ours. */
int tr_resolve_path(const struct tr_target *t, int dirfd, const char *path, bool follow,
                    bool empty_ok, char **ret, struct tr_path *ret_path)
{
    struct tr_path scratch;
    struct tr_path *out = ret_path ? ret_path : &scratch;
    *out = (struct tr_path){.follow = follow};
    struct buf res = {0};
    if (path[0] == '\0' && !empty_ok)
        return -ENOENT;
    if (path[0] == '\0') {
        /* AT_EMPTY_PATH: the object of the descriptor itself, whatever it is (fstat's way). */
        int r = pin(t, dirfd, out, ret);
        if (r == 0)
            out->resolved = xstrdup(*ret);
        if (!ret_path)
            tr_path_clear(&scratch);
        return r;
    }
    if (path[0] == '/') {
        buf_puts(&res, "/");
    } else {
        char *base;
        int r = base_dir(t, dirfd, &base);
        if (r < 0)
            return r;
        buf_puts(&res, base);
        free(base);
    }
    struct buf todo = {0};
    buf_puts(&todo, path);
    size_t pos = 0;
    unsigned links = 0;
    bool missing = false;
    int err = 0;
    while (pos < todo.len) {
        while (todo.data[pos] == '/')
            pos++;
        if (pos >= todo.len)
            break;
        size_t end = pos;
        while (end < todo.len && todo.data[end] != '/')
            end++;
        const char *comp = todo.data + pos;
        size_t clen = end - pos;
        size_t next = end;
        while (next < todo.len && todo.data[next] == '/')
            next++;
        bool last = next >= todo.len;
        pos = end;
        if (clen == 1 && comp[0] == '.')
            continue;
        if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
            drop_last(&res);
            continue;
        }
        if (res.len > 1)
            buf_putc(&res, '/');
        buf_append(&res, comp, clen);
        rewrite_self(&res, t);
        if (missing || (last && !follow && !(end < todo.len))) {
            if (!missing) {
                _cleanup_free_ char *full = xasprintf("%s%s", t->root_prefix, res.data);
                struct stat st;
                missing = lstat(full, &st) < 0 && errno == ENOENT;
            }
            continue;
        }
        _cleanup_free_ char *full = xasprintf("%s%s", t->root_prefix, res.data);
        _cleanup_free_ char *target = NULL;
        int r = read_link(full, &target);
        if (r == -EINVAL)
            continue; /* exists, not a symlink */
        if (r == -ENOENT || r == -ENOTDIR) {
            missing = true;
            continue;
        }
        if (r < 0)
            continue; /* unreadable: keep the name as written */
        if (++links > MAX_SYMLINKS) {
            err = ELOOP;
            break;
        }
        if ((err = may_follow(t, full)))
            break;
        if (target[0] != '/') {
            if (strstr(target, ":[") && last) {
                /* A magic link to a pipe, socket or anonymous inode: that is the object, which
                 * only the link itself reaches. One of the caller's descriptors is pinned. */
                int fd = own_fd_link(t, res.data);
                _cleanup_free_ char *object = NULL;
                if (fd >= 0 && pin(t, fd, out, &object) == 0) {
                    res.len = 0;
                    buf_puts(&res, object);
                    break;
                }
                free(out->via);
                out->via = xstrdup(full);
                res.len = 0;
                buf_puts(&res, target);
                break;
            }
            drop_last(&res);
        } else {
            res.len = 1;
            res.data[1] = '\0';
        }
        struct buf rest = {0};
        buf_puts(&rest, target);
        buf_putc(&rest, '/');
        buf_append(&rest, todo.data + pos, todo.len - pos);
        buf_free(&todo);
        todo = rest;
        pos = 0;
    }
    buf_free(&todo);
    if (err) {
        buf_free(&res);
        tr_path_clear(out);
        return -err;
    }
    if (!res.data)
        buf_puts(&res, "/");
    out->missing = missing;
    out->resolved = xstrdup(res.data);
    if (!ret_path)
        tr_path_clear(&scratch);
    *ret = buf_steal(&res);
    return 0;
}

void tr_path_clear(struct tr_path *p)
{
    if (p->has_pin)
        close(p->pinned);
    free(p->resolved);
    free(p->via);
    free(p->raw);
    *p = (struct tr_path){0};
}

static struct pol_value *add_value(struct tr_call *c, const char *name, char *value,
                                   bool from_memory)
{
    if (c->n_values >= TR_MAX_VALUES) {
        free(value);
        return NULL;
    }
    c->owned[c->n_values] = value;
    struct pol_value *v = &c->values[c->n_values++];
    *v = (struct pol_value){name, value, from_memory, false};
    if (from_memory)
        c->reads_memory = true;
    return v;
}

static int fail(struct tr_call *c, const char *arg, int err)
{
    if (!c->err) {
        c->err = err;
        c->err_arg = arg;
    }
    return -err;
}

static int read_sockaddr(struct tr_call *c, const struct tr_target *t, uint64_t addr,
                         uint64_t len64)
{
    int len = (int)(uint32_t)len64;
    if (addr == 0 || len == 0)
        return 0; /* no address (sendto on a connected socket) */
    if (len < 0 || (size_t)len > sizeof(struct sockaddr_storage))
        return fail(c, "sockaddr", EINVAL);
    struct sockaddr_storage ss;
    int r = tr_read_mem(t->tid, addr, &ss, (size_t)len);
    if (r < 0)
        return r == -ESRCH || r == -EPERM ? r : fail(c, "sockaddr", EFAULT);
    _cleanup_free_ char *cwd = NULL;
    base_dir(t, AT_FDCWD, &cwd);
    add_value(c, "sockaddr", format_sockaddr(&ss, (size_t)len, cwd), true);
    c->addr = ss;
    c->addr_len = (unsigned)len;
    return 0;
}

static int read_argv(struct tr_call *c, const struct tr_target *t, uint64_t addr)
{
    struct buf b = {0}, blob = {0};
    buf_append(&b, "", 0);
    buf_append(&blob, "", 0);
    for (unsigned i = 0; addr && i < MAX_ARGV; i++) {
        uint64_t p;
        if (tr_read_mem(t->tid, addr + i * sizeof(p), &p, sizeof(p)) < 0) {
            buf_free(&b);
            buf_free(&blob);
            return fail(c, "argv", EFAULT);
        }
        if (!p)
            break;
        char *s;
        int r = tr_read_string(t->tid, p, MAX_ARGV_BYTES, &s);
        if (r < 0) {
            buf_free(&b);
            buf_free(&blob);
            return fail(c, "argv", r == -ENAMETOOLONG ? E2BIG : EFAULT);
        }
        if (b.len + strlen(s) + 1 > MAX_ARGV_BYTES) {
            free(s);
            buf_free(&b);
            buf_free(&blob);
            return fail(c, "argv", E2BIG);
        }
        buf_printf(&b, "%s%s", i ? " " : "", s);
        buf_append(&blob, s, strlen(s) + 1);
        free(s);
    }
    add_value(c, "argv", buf_steal(&b), true);
    c->argv_blob_len = blob.len;
    c->argv_blob = buf_steal(&blob);
    return 0;
}

/* Whether a path argument's last component is followed, from the call's flags. */
static bool follows(const struct sys_arg *a, const uint64_t *args, uint64_t oflags)
{
    uint32_t flags = a->flags >= 0 ? (uint32_t)args[a->flags] : 0;
    switch (a->follow) {
    case SYS_FOLLOW:
        return true;
    case SYS_NOFOLLOW:
        return false;
    case SYS_FOLLOW_UNLESS_AT:
        return !(flags & AT_SYMLINK_NOFOLLOW);
    case SYS_NOFOLLOW_UNLESS_AT:
        return flags & AT_SYMLINK_FOLLOW;
    case SYS_FOLLOW_OPEN:
        return !(oflags & O_NOFOLLOW) && (oflags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
    }
    return true;
}

#define RESOLVE_RESTRICTING                                                                        \
    (RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |                 \
     RESOLVE_NO_SYMLINKS)

char *tr_fd_path(int fd, const char *root_prefix)
{
    char link[48];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    char *path = NULL;
    if (read_link(link, &path) < 0)
        return xstrdup("");
    if (root_prefix[0]) {
        _cleanup_free_ char *root = NULL;
        if (read_link(root_prefix, &root) == 0 && strcmp(root, "/") != 0 &&
            strncmp(path, root, strlen(root)) == 0) {
            char *inside = xstrdup(path[strlen(root)] ? path + strlen(root) : "/");
            free(path);
            path = inside;
        }
    }
    return path;
}

/* openat2 with RESOLVE_BENEATH, IN_ROOT, NO_XDEV, NO_MAGICLINKS or NO_SYMLINKS resolves differently
 * from a plain open: the kernel itself resolves RAW the caller's way (an O_PATH probe from the
 * caller's dirfd), so the decision is on what it reaches, and a path the flags refuse fails with
 * the kernel's own errno. For a creating open of a missing name, the parent is probed. */
static int resolve_restricted(struct tr_call *c, const struct tr_target *t, int dirfd,
                              const char *raw, char **ret, struct tr_path *path)
{
    char base_path[64];
    if (dir_link(t, dirfd, base_path, sizeof(base_path)) < 0)
        return -EBADF;
    _cleanup_close_ int base = open(base_path, O_PATH | O_CLOEXEC);
    if (base < 0)
        return -EBADF;
    struct open_how how = {.flags = O_PATH | O_CLOEXEC | (c->oflags & (O_NOFOLLOW | O_DIRECTORY)),
                           .resolve = c->open_resolve};
    long fd = syscall(SYS_openat2, base, raw, &how, sizeof(how));
    bool missing = false;
    _cleanup_free_ char *last = NULL;
    if (fd < 0 && errno == ENOENT && (c->oflags & O_CREAT)) {
        const char *slash = strrchr(raw, '/');
        _cleanup_free_ char *dir = slash ? xstrndup(raw, (size_t)(slash - raw) + 1) : xstrdup(".");
        last = xstrdup(slash ? slash + 1 : raw);
        how.flags = O_PATH | O_CLOEXEC | O_DIRECTORY;
        fd = syscall(SYS_openat2, base, dir, &how, sizeof(how));
        missing = true;
    }
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *reached = tr_fd_path((int)fd, t->root_prefix);
    close((int)fd);
    *path = (struct tr_path){.follow = !(c->oflags & O_NOFOLLOW), .missing = missing};
    path->resolved = missing ? xasprintf("%s%s%s", reached, streq(reached, "/") ? "" : "/", last)
                             : xstrdup(reached);
    *ret = xstrdup(path->resolved);
    return 0;
}

static int read_path(struct tr_call *c, const struct tr_target *t, const struct sys_arg *a,
                     const uint64_t *args, int nr)
{
    _cleanup_free_ char *raw = NULL;
    /* utimensat with a NULL path (futimens) acts on its descriptor, as an empty path does. */
    bool null_path = args[a->index] == 0 && a->kind == SYS_ARG_PATH && a->aux >= 0 &&
                     sys_id_of(nr) == SYS_ID_utimensat && (int)(uint32_t)args[a->aux] != AT_FDCWD;
    int r = 0;
    if (null_path)
        raw = xstrdup("");
    else
        r = tr_read_string(t->tid, args[a->index], PATH_MAX, &raw);
    if (r == -ESRCH || r == -EPERM)
        return r;
    if (r < 0)
        return fail(c, a->name, -r);
    if (a->kind == SYS_ARG_PATH_LITERAL) {
        c->linkname = xstrdup(raw);
        add_value(c, a->name, steal_pointer(&raw), true);
        return 0;
    }
    int dirfd = a->aux >= 0 ? (int)(uint32_t)args[a->aux] : AT_FDCWD;
    bool empty_ok = null_path || (a->flags >= 0 && ((uint32_t)args[a->flags] & AT_EMPTY_PATH));
    char *resolved;
    struct tr_path scratch = {0};
    bool kept = c->n_paths < 2;
    struct tr_path *path = kept ? &c->paths[c->n_paths] : &scratch;
    if (a->kind == SYS_ARG_PATH && (c->open_resolve & RESOLVE_RESTRICTING))
        r = resolve_restricted(c, t, dirfd, raw, &resolved, path);
    else
        r = tr_resolve_path(t, dirfd, raw, follows(a, args, c->oflags), empty_ok, &resolved, path);
    if (r == -ESRCH || r == -EPERM)
        return r; /* the caller's descriptor could not be copied: it is gone, or closed to us */
    if (r < 0)
        return fail(c, a->name, -r);
    /* A stat of the descriptor itself is fstat's: decided by the descriptor, not by the path of
     * whatever it is today (stdout a file in one run, a pipe in the next). */
    enum sys_id id = sys_id_of(nr);
    bool fd_form = !raw[0] && !null_path && (id == SYS_ID_newfstatat || id == SYS_ID_statx);
    if (fd_form) {
        free(resolved);
        resolved = format_int(SYS_ARG_FD, (uint32_t)dirfd);
    }
    struct pol_value *v = add_value(c, fd_form ? "fd" : a->name, resolved, !fd_form);
    c->fd_form |= fd_form;
    c->must_perform |= fd_form || path->has_pin;
    if (v)
        v->missing = path->missing;
    if (kept) {
        path->raw = xstrdup(raw);
        c->n_paths++;
    } else {
        tr_path_clear(&scratch);
    }
    return 0;
}

int tr_translate(const struct seccomp_notif *n, const struct tr_target *t, struct tr_call *ret)
{
    *ret = (struct tr_call){0};
    const struct sys_schema *s = sys_schema_for(n->data.nr);
    if (!s)
        return 0;
    uint64_t args[6];
    for (unsigned i = 0; i < 6; i++)
        args[i] = n->data.args[i];
    /* The open flags first: they decide how the path is followed. */
    for (unsigned i = 0; i < SYS_MAX_ARGS && s->args[i].name; i++) {
        const struct sys_arg *a = &s->args[i];
        if (a->kind == SYS_ARG_OFLAGS)
            ret->oflags = (uint32_t)args[a->index];
        if (a->kind == SYS_ARG_OPEN_HOW) {
            struct open_how how = {0};
            uint64_t size = args[3];
            if (size < sizeof(how))
                return fail(ret, a->name, EINVAL), 0;
            if (tr_read_mem(t->tid, args[a->index], &how, sizeof(how)) < 0)
                return fail(ret, a->name, EFAULT), 0;
            ret->oflags = how.flags;
            ret->open_mode = how.mode;
            ret->open_resolve = how.resolve;
        }
    }
    if (sys_id_of(n->data.nr) == SYS_ID_creat)
        ret->oflags = O_CREAT | O_WRONLY | O_TRUNC;
    for (unsigned i = 0; i < SYS_MAX_ARGS && s->args[i].name && !ret->err; i++) {
        const struct sys_arg *a = &s->args[i];
        int r = 0;
        switch (a->kind) {
        case SYS_ARG_PATH:
        case SYS_ARG_PATH_LITERAL:
            r = read_path(ret, t, a, args, n->data.nr);
            break;
        case SYS_ARG_SOCKADDR:
            r = read_sockaddr(ret, t, args[a->index], args[a->aux]);
            break;
        case SYS_ARG_MSGHDR_ADDR: {
            struct msghdr m;
            if (tr_read_mem(t->tid, args[a->index], &m, sizeof(m)) < 0) {
                r = fail(ret, a->name, EFAULT);
            } else {
                ret->msg_iov = (uint64_t)(uintptr_t)m.msg_iov;
                ret->msg_iovlen = m.msg_iovlen;
                ret->msg_controllen = m.msg_controllen;
                r = read_sockaddr(ret, t, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen);
            }
            break;
        }
        case SYS_ARG_ARGV:
            r = read_argv(ret, t, args[a->index]);
            break;
        case SYS_ARG_OPEN_HOW:
            add_value(ret, a->name, format_int(SYS_ARG_OFLAGS, ret->oflags), true);
            break;
        case SYS_ARG_PIDNAME: {
            int pid = (int)(uint32_t)args[a->index];
            char *exe = NULL;
            char proc[64];
            /* The caller's own process is named through the calling thread, which is alive
             * in this call: the group leader's link is gone once it has left exit_group. */
            snprintf(proc, sizeof(proc), "/proc/%d/exe", pid == t->tgid ? t->tid : pid);
            if (pid <= 0 || read_link(proc, &exe) < 0)
                exe = pid == 0    ? xstrdup("<process group>")
                      : pid == -1 ? xstrdup("<every process>")
                      : pid < 0   ? xasprintf("<process group %d>", -pid)
                                  : xstrdup("<unknown process>");
            add_value(ret, a->name, exe, false);
            break;
        }
        default:
            add_value(ret, a->name, format_int(a->kind, args[a->index]), false);
            break;
        }
        if (r == -ESRCH || r == -EPERM)
            return r;
    }
    return 0;
}

void tr_call_free(struct tr_call *c)
{
    for (size_t i = 0; i < c->n_values; i++)
        free(c->owned[i]);
    c->n_values = 0;
    for (size_t i = 0; i < c->n_paths; i++)
        tr_path_clear(&c->paths[i]);
    c->n_paths = 0;
    free(c->linkname);
    c->linkname = NULL;
    free(c->argv_blob);
    c->argv_blob = NULL;
    c->argv_blob_len = 0;
}
