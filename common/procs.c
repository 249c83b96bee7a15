/* procs.c: the table of traced threads and processes.
 *
 * Each thread maps to its process (thread group). A process's program is checked on every request
 * by the identity (device, inode) of /proc/TID/exe: a change means an exec happened, and the
 * program is then the path the supervisor let execve run, or what exe names. For a script, exe is
 * the interpreter whatever happens, so a permitted exec of a script is recognised by the
 * interpreter's argv naming the script. A new process inherits its parent's program (a forked
 * script is still the script). */
#include "procs.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#include "names.h"
#include "util.h"

#define BUCKETS  1024
#define SWEEP_AT 4096

struct status {
    pid_t tgid, ppid;
    uid_t ruid, euid, fsuid;
    gid_t rgid, egid, fsgid;
    gid_t groups[PROC_MAX_GROUPS];
    int n_groups;
    mode_t umask;
    unsigned long long cap_effective;
};

struct proc {
    int refs; /* threads that point here */
    pid_t tgid;
    dev_t dev;
    ino_t ino;
    char *binary;
    bool launching;
    char *pending; /* path of a permitted execve, until the next request */
    char *pending_raw;
    bool pending_script;
    pid_t pending_tid;      /* the thread that called execve */
    bool pending_known;     /* the identity below was read when the exec was permitted */
    struct stat pending_id; /* the file permitted */
    bool has_interp;
    struct stat interp_id; /* its #! interpreter, for a script */
    bool mismatch;         /* an exec ran something else than what was permitted */
    unsigned creds_gen;    /* bumped by an exec or an identity change of any of its threads */
    char root_prefix[48];
    bool root_moves; /* it called chroot or setns: its root is looked up on every request */
};

/* Credentials are per thread (a raw setuid changes one thread only); the umask is shared. */
struct creds {
    unsigned gen; /* valid while equal to its process's creds_gen */
    bool loaded;
    uid_t uid;
    gid_t gid;
    char *user, *group, *home;
    struct status st;
};

struct thread {
    pid_t tid;
    struct proc *proc;
    struct creds creds;
    struct thread *next;
};

static void free_thread(struct thread *t)
{
    free(t->creds.user);
    free(t->creds.group);
    free(t->creds.home);
    free(t);
}

struct procs {
    pthread_mutex_t lock;
    struct thread *buckets[BUCKETS];
    size_t n_threads;
    pid_t launch_pid;
    struct stat own_root;   /* the supervisor's "/", which it never leaves */
    bool all_roots_move;    /* a pivot_root was permitted: every root is looked up every time */
    struct stat own_userns; /* the supervisor's user namespace */
};

int procs_new(pid_t launch_pid, struct procs **ret)
{
    struct procs *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->launch_pid = launch_pid;
    if (stat("/", &p->own_root) < 0)
        p->own_root = (struct stat){0};
    if (stat("/proc/self/ns/user", &p->own_userns) < 0)
        p->own_userns = (struct stat){0};
    *ret = p;
    return 0;
}

static void proc_unref(struct proc *pr)
{
    if (--pr->refs > 0)
        return;
    free(pr->binary);
    free(pr->pending);
    free(pr->pending_raw);
    free(pr);
}

void procs_free(struct procs *procs)
{
    if (!procs)
        return;
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct thread *t = procs->buckets[b], *next; t; t = next) {
            next = t->next;
            proc_unref(t->proc);
            free_thread(t);
        }
    pthread_mutex_destroy(&procs->lock);
    free(procs);
}

static struct thread **slot(struct procs *p, pid_t tid)
{
    struct thread **t = &p->buckets[(unsigned)tid % BUCKETS];
    while (*t && (*t)->tid != tid)
        t = &(*t)->next;
    return t;
}

static void forget(struct procs *p, struct thread **t)
{
    struct thread *dead = *t;
    *t = dead->next;
    proc_unref(dead->proc);
    free_thread(dead);
    p->n_threads--;
}

/* Drops threads that no longer exist, so that short-lived processes do not pile up. */
static void sweep(struct procs *p)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct thread **t = &p->buckets[b]; *t;) {
            char path[32];
            snprintf(path, sizeof(path), "/proc/%d", (*t)->tid);
            if (access(path, F_OK) < 0)
                forget(p, t);
            else
                t = &(*t)->next;
        }
}

static int read_status(pid_t tid, struct status *st)
{
    char path[32];
    snprintf(path, sizeof(path), "/proc/%d/status", tid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -ESRCH;
    _cleanup_free_ char *text = NULL;
    if (read_fd_all(fd, 1u << 16, &text, NULL) < 0)
        return -ESRCH;
    *st = (struct status){.umask = 022};
    unsigned long real, eff, saved, fs;
    unsigned int mask;
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (sscanf(line, "Tgid: %d", &st->tgid) == 1 || sscanf(line, "PPid: %d", &st->ppid) == 1)
            continue;
        if (sscanf(line, "Umask: %o", &mask) == 1)
            st->umask = (mode_t)mask;
        else if (sscanf(line, "CapEff: %llx", &st->cap_effective) == 1)
            continue;
        else if (sscanf(line, "Uid: %lu %lu %lu %lu", &real, &eff, &saved, &fs) == 4)
            st->ruid = (uid_t)real, st->euid = (uid_t)eff, st->fsuid = (uid_t)fs;
        else if (sscanf(line, "Gid: %lu %lu %lu %lu", &real, &eff, &saved, &fs) == 4)
            st->rgid = (gid_t)real, st->egid = (gid_t)eff, st->fsgid = (gid_t)fs;
        else if (strncmp(line, "Groups:", 7) == 0) {
            char *p = line + 7, *end;
            for (;;) {
                unsigned long g = strtoul(p, &end, 10);
                if (end == p || st->n_groups == PROC_MAX_GROUPS)
                    break;
                st->groups[st->n_groups++] = (gid_t)g;
                p = end;
            }
        }
    }
    return st->tgid > 0 ? 0 : -ESRCH;
}

static int exe_identity(pid_t tid, struct stat *st)
{
    char path[32];
    snprintf(path, sizeof(path), "/proc/%d/exe", tid);
    return stat(path, st) < 0 ? -ESRCH : 0;
}

static char *exe_path(pid_t tid)
{
    char path[32], buf[4097];
    snprintf(path, sizeof(path), "/proc/%d/exe", tid);
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    return n < 0 ? xstrdup("<unknown>") : xstrndup(buf, (size_t)n);
}

/* Whether TID is in the supervisor's user namespace: capabilities in /proc status are relative to
 * the thread's own namespace, and one created by an unprivileged user shows them all. */
static bool in_own_userns(const struct procs *p, pid_t tid)
{
    char path[48];
    struct stat ns;
    snprintf(path, sizeof(path), "/proc/%d/ns/user", tid);
    return stat(path, &ns) == 0 && ns.st_dev == p->own_userns.st_dev &&
           ns.st_ino == p->own_userns.st_ino;
}

static void load_creds(const struct procs *p, struct thread *t, const struct status *st)
{
    struct creds *c = &t->creds;
    free(c->user);
    free(c->group);
    free(c->home);
    c->uid = st->euid;
    c->gid = st->egid;
    c->st = *st;
    if (!in_own_userns(p, t->tid))
        c->st.cap_effective = 0; /* none in ours, whatever it has in its own */
    c->user = names_user(c->uid, &c->home);
    if (!c->user)
        c->user = xasprintf("%u", c->uid);
    c->group = names_group(c->gid);
    if (!c->group)
        c->group = xasprintf("%u", c->gid);
    c->gen = t->proc->creds_gen;
    c->loaded = true;
}

/* PR's root: "" when it is ours, else the /proc link through which the supervisor reaches it. */
static void find_root(const struct procs *p, struct proc *pr)
{
    struct stat root;
    char rp[48];
    snprintf(rp, sizeof(rp), "/proc/%d/root", pr->tgid);
    bool ours = stat(rp, &root) < 0 ||
                (root.st_dev == p->own_root.st_dev && root.st_ino == p->own_root.st_ino);
    snprintf(pr->root_prefix, sizeof(pr->root_prefix), "%s", ours ? "" : rp);
}

static struct proc *new_proc(struct procs *p, pid_t tgid, pid_t ppid, const struct stat *exe)
{
    struct proc *pr = xcalloc(1, sizeof(*pr));
    pr->tgid = tgid;
    pr->dev = exe->st_dev;
    pr->ino = exe->st_ino;
    pr->launching = tgid == p->launch_pid;
    /* A fork runs what its parent runs (a script stays the script). */
    struct thread *parent = *slot(p, ppid);
    if (parent && parent->proc->dev == exe->st_dev && parent->proc->ino == exe->st_ino)
        pr->binary = xstrdup(parent->proc->binary);
    else
        pr->binary = exe_path(tgid);
    /* A child may share its parent's root (CLONE_FS): it moves when the parent's does. */
    pr->root_moves = parent && parent->proc->root_moves;
    struct stat root;
    char rp[48];
    snprintf(rp, sizeof(rp), "/proc/%d/root", tgid);
    if (stat(rp, &root) == 0 &&
        (root.st_dev != p->own_root.st_dev || root.st_ino != p->own_root.st_ino))
        snprintf(pr->root_prefix, sizeof(pr->root_prefix), "%s", rp);
    return pr;
}

/* Whether the interpreter now running TGID was started for the script RAW. */
static bool runs_script(pid_t tgid, const char *raw)
{
    char path[32];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", tgid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd < 0 || read_fd_all(fd, 1u << 16, &text, &len) < 0)
        return false;
    /* argv: interpreter [one optional argument] script … */
    const char *a = text, *end = text + len;
    for (int i = 0; i < 3 && a < end; i++, a += strlen(a) + 1)
        if (i > 0 && streq(a, raw))
            return true;
    return false;
}

static void clear_pending(struct proc *pr)
{
    free(pr->pending);
    free(pr->pending_raw);
    pr->pending = pr->pending_raw = NULL;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Brings PR up to date with what TID runs now. An exec that replaced the program with anything
 * but the file permitted (or its interpreter) is reported as a mismatch. */
static void refresh(struct proc *pr, pid_t tid, const struct stat *exe)
{
    bool changed = pr->dev != exe->st_dev || pr->ino != exe->st_ino;
    if (!changed && !pr->pending)
        return;
    /* Another thread's call while the exec is under way says nothing of the exec: only the
     * calling thread's next call (the exec failed) or a new program (changed) settles it. */
    if (!changed && tid != pr->pending_tid)
        return;
    bool expected = pr->pending_known && (same_inode(exe, &pr->pending_id) ||
                                          (pr->has_interp && same_inode(exe, &pr->interp_id)));
    if (pr->pending && changed && !expected) {
        pr->mismatch = true;
        free(pr->binary);
        pr->binary = exe_path(tid);
        pr->launching = false;
        pr->creds_gen++;
    } else if (pr->pending &&
               (changed || (pr->pending_script && runs_script(pr->tgid, pr->pending_raw)))) {
        free(pr->binary);
        pr->binary = steal_pointer(&pr->pending);
        pr->launching = false;
        pr->creds_gen++;
    } else if (changed) {
        free(pr->binary);
        pr->binary = exe_path(tid);
        pr->launching = false;
        pr->creds_gen++;
    }
    pr->dev = exe->st_dev;
    pr->ino = exe->st_ino;
    clear_pending(pr);
}

int procs_get(struct procs *p, pid_t tid, struct proc_info *ret)
{
    struct stat exe;
    if (tid <= 0 || exe_identity(tid, &exe) < 0)
        return -ESRCH;
    pthread_mutex_lock(&p->lock);
    struct thread **t = slot(p, tid);
    struct status st = {0};
    bool have_status = false;
    if (!*t) {
        if (read_status(tid, &st) < 0) {
            pthread_mutex_unlock(&p->lock);
            return -ESRCH;
        }
        have_status = true;
        if (p->n_threads >= SWEEP_AT) {
            sweep(p);
            t = slot(p, tid);
        }
        struct thread *leader = st.tgid != tid ? *slot(p, st.tgid) : NULL;
        struct proc *pr = leader ? leader->proc : new_proc(p, st.tgid, st.ppid, &exe);
        pr->refs++;
        *t = xcalloc(1, sizeof(**t));
        (*t)->tid = tid;
        (*t)->proc = pr;
        p->n_threads++;
    }
    struct proc *pr = (*t)->proc;
    refresh(pr, tid, &exe);
    if (pr->root_moves || p->all_roots_move)
        find_root(p, pr);
    struct creds *c = &(*t)->creds;
    if (!c->loaded || c->gen != pr->creds_gen) {
        if (!have_status && read_status(tid, &st) < 0) {
            pthread_mutex_unlock(&p->lock);
            return -ESRCH;
        }
        load_creds(p, *t, &st);
    }
    *ret = (struct proc_info){
        .tgid = pr->tgid,
        .binary = xstrdup(pr->binary),
        .launching = pr->launching,
        .uid = c->uid,
        .gid = c->gid,
        .user = xstrdup(c->user),
        .group = xstrdup(c->group),
        .home = c->home ? xstrdup(c->home) : NULL,
        .ruid = c->st.ruid,
        .fsuid = c->st.fsuid,
        .rgid = c->st.rgid,
        .fsgid = c->st.fsgid,
        .n_groups = c->st.n_groups,
        .umask = c->st.umask,
        .cap_effective = c->st.cap_effective,
    };
    memcpy(ret->groups, c->st.groups, sizeof(ret->groups));
    ret->exec_mismatch = pr->mismatch;
    pr->mismatch = false;
    memcpy(ret->root_prefix, pr->root_prefix, sizeof(ret->root_prefix));
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void proc_info_clear(struct proc_info *info)
{
    free(info->binary);
    free(info->user);
    free(info->group);
    free(info->home);
    *info = (struct proc_info){0};
}

/* The interpreter a "#!" line names, or NULL when PATH is not a script. */
static char *script_interpreter(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char line[256];
    ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return NULL;
    line[n] = '\0';
    char *s = line + 2;
    s += strspn(s, " \t");
    size_t len = strcspn(s, " \t\n");
    return len ? xstrndup(s, len) : NULL;
}

void procs_exec_permitted(struct procs *p, pid_t tid, const char *path, const char *raw)
{
    char prefix[48] = "";
    pthread_mutex_lock(&p->lock);
    struct thread *t = *slot(p, tid);
    if (t)
        memcpy(prefix, t->proc->root_prefix, sizeof(prefix));
    pthread_mutex_unlock(&p->lock);
    /* What the kernel must load: the file, or the interpreter its #! line names. */
    _cleanup_free_ char *full = xasprintf("%s%s", prefix, path);
    struct stat id, interp_id;
    bool known = stat(full, &id) == 0;
    _cleanup_free_ char *interp = script_interpreter(full);
    _cleanup_free_ char *interp_full = interp ? xasprintf("%s%s", prefix, interp) : NULL;
    bool has_interp = interp_full && stat(interp_full, &interp_id) == 0;
    pthread_mutex_lock(&p->lock);
    t = *slot(p, tid);
    if (t) {
        struct proc *pr = t->proc;
        clear_pending(pr);
        pr->pending = xstrdup(path);
        pr->pending_raw = xstrdup(raw);
        pr->pending_script = interp != NULL;
        pr->pending_tid = tid;
        pr->pending_known = known;
        pr->pending_id = id;
        pr->has_interp = has_interp;
        if (has_interp)
            pr->interp_id = interp_id;
    }
    pthread_mutex_unlock(&p->lock);
}

void procs_root_may_move(struct procs *p, pid_t tid, bool every_process)
{
    pthread_mutex_lock(&p->lock);
    struct thread *t = *slot(p, tid);
    if (t)
        t->proc->root_moves = true;
    p->all_roots_move |= every_process;
    pthread_mutex_unlock(&p->lock);
}

void procs_creds_changed(struct procs *p, pid_t tid)
{
    pthread_mutex_lock(&p->lock);
    struct thread *t = *slot(p, tid);
    if (t)
        t->proc->creds_gen++;
    pthread_mutex_unlock(&p->lock);
}
