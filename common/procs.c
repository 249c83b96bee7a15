/* procs.c: the table of traced threads and processes.
 *
 * A process's program only changes at an exec, and every exec is settled by the supervisor at the
 * moment it succeeds (common/execwatch.c), which calls procs_exec_done: a request therefore costs
 * no look at /proc/PID/exe. A new process runs what its parent runs (a forked script is still the
 * script), found up the chain of parents; one whose ancestors are all unknown runs what its
 * /proc/PID/exe names. Programs and credentials are immutable, reference-counted objects, so that
 * a request's view costs no copies. */
#include "procs.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "names.h"
#include "notify.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define BUCKETS       1024
#define MAX_ANCESTORS 32

struct status {
    pid_t tgid, ppid;
    uid_t ruid, euid, fsuid;
    gid_t rgid, egid, fsgid;
    gid_t groups[PROC_MAX_GROUPS];
    int n_groups;
    mode_t umask;
    unsigned long long cap_effective;
};

/* A reference-counted immutable string: a program's path. */
struct text {
    int refs;
    char s[];
};

/* A thread's credentials as read once; immutable. */
struct creds {
    int refs;
    uid_t uid;
    gid_t gid;
    char *user, *group, *home;
    struct status st;
};

struct thread {
    pid_t tid;
    struct proc *proc;
    struct creds *creds;
    unsigned creds_gen; /* valid while equal to its process's creds_gen */
    unsigned execs;     /* its process's execs when it was entered */
    int pidfd;          /* PIDFD_THREAD, for a thread other than the leader; -1 otherwise */
    struct loop_watch *watch;
    struct thread *next;    /* in the bucket */
    struct thread *sibling; /* in its process */
};

struct proc {
    int refs; /* the table's, and each proc_info's */
    struct procs *table;
    pid_t tgid;
    int pidfd;
    struct loop_watch *watch;
    struct text *binary;
    bool launching;
    bool dead;
    unsigned creds_gen; /* bumped by an exec or an identity change of any of its threads */
    unsigned execs;     /* successful execs: a thread entered before the last one is gone */
    char root_prefix[48];
    bool root_moves;  /* it called chroot, setns or unshare: its root is looked up every time */
    bool cwd_pending; /* a chdir was let run: where it went is checked at the next request */
    pid_t cwd_tid;
    struct stat cwd_want, cwd_before;
    struct thread *threads;
    struct proc *next; /* in the bucket */
};

struct procs {
    pthread_mutex_t lock;
    struct loop *loop;
    procs_exit_fn on_exit;
    void *on_exit_data;
    struct thread *threads[BUCKETS];
    struct proc *procs[BUCKETS];
    unsigned n_procs;
    pid_t first_pid;
    struct stat own_root;   /* the supervisor's "/", which it never leaves */
    struct stat own_mntns;  /* and its mount namespace */
    bool all_roots_move;    /* a pivot_root was permitted: every root is looked up every time */
    struct stat own_userns; /* the supervisor's user namespace */
};

/* ---- small objects ----------------------------------------------------------------------- */

static struct text *text_new(const char *s)
{
    size_t n = strlen(s);
    struct text *t = xmalloc(sizeof(*t) + n + 1);
    t->refs = 1;
    memcpy(t->s, s, n + 1);
    return t;
}

static struct text *text_ref(struct text *t)
{
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

static void text_unref(struct text *t)
{
    if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(t);
}

static struct creds *creds_ref(struct creds *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

static void creds_unref(struct creds *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free(c->user);
    free(c->group);
    free(c->home);
    free(c);
}

static void proc_unref(struct proc *pr)
{
    if (!pr || __atomic_sub_fetch(&pr->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    text_unref(pr->binary);
    if (pr->pidfd >= 0)
        close(pr->pidfd);
    free(pr);
}

/* ---- /proc ------------------------------------------------------------------------------- */

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

static char *exe_path(pid_t tid)
{
    char path[32], buf[4097];
    snprintf(path, sizeof(path), "/proc/%d/exe", tid);
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    return n < 0 ? xstrdup("<unknown>") : xstrndup(buf, (size_t)n);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether TID is in the supervisor's user namespace: capabilities in /proc status are relative to
 * the thread's own namespace, and one created by an unprivileged user shows them all. */
static bool in_own_userns(const struct procs *p, pid_t tid)
{
    char path[48];
    struct stat ns;
    snprintf(path, sizeof(path), "/proc/%d/ns/user", tid);
    return stat(path, &ns) == 0 && same_file(&ns, &p->own_userns);
}

static struct creds *load_creds(const struct procs *p, pid_t tid, const struct status *st)
{
    struct creds *c = xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->uid = st->euid;
    c->gid = st->egid;
    c->st = *st;
    if (!in_own_userns(p, tid))
        c->st.cap_effective = 0; /* none in ours, whatever it has in its own */
    c->user = names_user(c->uid, &c->home);
    if (!c->user)
        c->user = xasprintf("%u", c->uid);
    c->group = names_group(c->gid);
    if (!c->group)
        c->group = xasprintf("%u", c->gid);
    return c;
}

/* PR's root: "" when its root and mount namespace are ours, else the /proc link through which
 * the supervisor reaches its view (mounts it made or hid included). */
static void find_root(const struct procs *p, struct proc *pr)
{
    char rp[48], ns[48];
    struct stat root, mnt;
    snprintf(rp, sizeof(rp), "/proc/%d/root", pr->tgid);
    snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", pr->tgid);
    bool ours = stat(rp, &root) < 0 || (same_file(&root, &p->own_root) &&
                                        (stat(ns, &mnt) < 0 || same_file(&mnt, &p->own_mntns)));
    snprintf(pr->root_prefix, sizeof(pr->root_prefix), "%s", ours ? "" : rp);
}

/* ---- the table --------------------------------------------------------------------------- */

int procs_new(struct loop *loop, procs_exit_fn on_exit, void *data, struct procs **ret)
{
    struct procs *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->loop = loop;
    p->on_exit = on_exit;
    p->on_exit_data = data;
    if (stat("/", &p->own_root) < 0)
        p->own_root = (struct stat){0};
    if (stat("/proc/self/ns/mnt", &p->own_mntns) < 0)
        p->own_mntns = (struct stat){0};
    if (stat("/proc/self/ns/user", &p->own_userns) < 0)
        p->own_userns = (struct stat){0};
    *ret = p;
    return 0;
}

static struct thread **thread_slot(struct procs *p, pid_t tid)
{
    struct thread **t = &p->threads[(unsigned)tid % BUCKETS];
    while (*t && (*t)->tid != tid)
        t = &(*t)->next;
    return t;
}

static struct proc **proc_slot(struct procs *p, pid_t tgid)
{
    struct proc **pr = &p->procs[(unsigned)tgid % BUCKETS];
    while (*pr && (*pr)->tgid != tgid)
        pr = &(*pr)->next;
    return pr;
}

/* Takes T out of the tables and frees it; LOCK held. Its watch is removed by the caller first. */
static void drop_thread(struct procs *p, struct thread *t)
{
    struct thread **slot = thread_slot(p, t->tid);
    if (*slot == t)
        *slot = t->next;
    for (struct thread **s = &t->proc->threads; *s; s = &(*s)->sibling)
        if (*s == t) {
            *s = t->sibling;
            break;
        }
    if (t->pidfd >= 0)
        close(t->pidfd);
    creds_unref(t->creds);
    free(t);
}

/* Removes the watches of PR's threads; called without LOCK (unwatching may wait). */
static void unwatch_threads(struct procs *p, struct thread *threads)
{
    for (struct thread *t = threads; t; t = t->sibling)
        if (t->watch) {
            loop_unwatch(p->loop, t->watch);
            t->watch = NULL;
        }
}

/* Takes PR and its threads out of the tables; LOCK held. The table's reference is the caller's. */
static void drop_proc(struct procs *p, struct proc *pr)
{
    struct proc **slot = proc_slot(p, pr->tgid);
    if (*slot == pr)
        *slot = pr->next;
    pr->dead = true;
    p->n_procs--;
    while (pr->threads)
        drop_thread(p, pr->threads);
}

static void on_proc_exit(void *data, uint32_t events)
{
    (void)events;
    struct proc *pr = data;
    struct procs *p = pr->table;
    pthread_mutex_lock(&p->lock);
    bool was_alive = !pr->dead;
    struct thread *threads = pr->threads;
    pthread_mutex_unlock(&p->lock);
    if (!was_alive)
        return;
    unwatch_threads(p, threads);
    loop_unwatch(p->loop, pr->watch);
    pr->watch = NULL;
    pthread_mutex_lock(&p->lock);
    drop_proc(p, pr);
    pthread_mutex_unlock(&p->lock);
    if (p->on_exit)
        p->on_exit(p->on_exit_data, pr->tgid);
    proc_unref(pr);
}

static void on_thread_exit(void *data, uint32_t events)
{
    (void)events;
    struct thread *t = data;
    struct procs *p = t->proc->table;
    loop_unwatch(p->loop, t->watch);
    pthread_mutex_lock(&p->lock);
    t->watch = NULL;
    drop_thread(p, t);
    pthread_mutex_unlock(&p->lock);
}

void procs_free(struct procs *p)
{
    if (!p)
        return;
    for (size_t b = 0; b < BUCKETS; b++)
        while (p->procs[b]) {
            struct proc *pr = p->procs[b];
            unwatch_threads(p, pr->threads);
            if (pr->watch)
                loop_unwatch(p->loop, pr->watch);
            pr->watch = NULL;
            drop_proc(p, pr);
            proc_unref(pr);
        }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* A new process entry for TGID with its PIDFD (taken); LOCK held. */
static struct proc *insert_proc(struct procs *p, pid_t tgid, int pidfd, struct text *binary)
{
    struct proc *pr = xcalloc(1, sizeof(*pr));
    pr->refs = 1;
    pr->table = p;
    pr->tgid = tgid;
    pr->pidfd = pidfd;
    pr->binary = binary;
    struct proc **slot = proc_slot(p, tgid);
    pr->next = *slot;
    *slot = pr;
    p->n_procs++;
    if (!p->first_pid)
        p->first_pid = tgid;
    if (loop_watch_fd(p->loop, pidfd, EPOLLIN, on_proc_exit, pr, &pr->watch) < 0)
        pr->watch = NULL; /* its entry then stays until the session ends */
    return pr;
}

pid_t pidfd_pid(int pidfd)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *text = NULL;
    if (fd < 0 || read_fd_all(fd, 1u << 14, &text, NULL) < 0)
        return -EBADF;
    const char *line = strstr(text, "\nPid:");
    int pid;
    if (!line || sscanf(line + 5, "%d", &pid) != 1)
        return -EBADF;
    return pid > 0 ? pid : -ESRCH;
}

int procs_add_launch_child(struct procs *p, int pidfd)
{
    pid_t pid = pidfd_pid(pidfd);
    if (pid < 0)
        return pid;
    int dup = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0)
        return -errno;
    char *exe = exe_path(pid);
    pthread_mutex_lock(&p->lock);
    struct proc *pr = insert_proc(p, pid, dup, text_new(exe));
    pr->launching = true;
    find_root(p, pr);
    pthread_mutex_unlock(&p->lock);
    free(exe);
    return 0;
}

/* The program of a process seen for the first time: its nearest known ancestor's (no exec
 * happened since its fork, or the exec would have been settled), else what its exe names. */
static struct text *inherited_program(struct procs *p, pid_t tgid, pid_t ppid)
{
    for (int depth = 0; ppid > 1 && depth < MAX_ANCESTORS; depth++) {
        pthread_mutex_lock(&p->lock);
        struct proc *parent = *proc_slot(p, ppid);
        struct text *t = parent && !parent->dead ? text_ref(parent->binary) : NULL;
        pthread_mutex_unlock(&p->lock);
        if (t)
            return t;
        struct status st;
        if (read_status(ppid, &st) < 0)
            break;
        ppid = st.ppid;
    }
    _cleanup_free_ char *exe = exe_path(tgid);
    return text_new(exe);
}

/* Enters process TGID, bound to the notification (LISTENER, ID) of its thread. */
static int enter_proc(struct procs *p, pid_t tgid, pid_t ppid, int listener, uint64_t id)
{
    int pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
    if (pidfd < 0)
        return errno == EMFILE || errno == ENFILE ? -EMFILE : -ESRCH;
    /* The call still waits: TGID is the caller's process, not one that reused its pid. */
    if (!notify_id_valid(listener, id)) {
        close(pidfd);
        return -ESRCH;
    }
    struct text *binary = inherited_program(p, tgid, ppid);
    pthread_mutex_lock(&p->lock);
    if (*proc_slot(p, tgid)) { /* another worker entered it meanwhile */
        pthread_mutex_unlock(&p->lock);
        text_unref(binary);
        close(pidfd);
        return 0;
    }
    struct proc *pr = insert_proc(p, tgid, pidfd, binary);
    find_root(p, pr);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Enters thread TID of process PR; LOCK held. */
static struct thread *insert_thread(struct procs *p, pid_t tid, struct proc *pr)
{
    struct thread *t = xcalloc(1, sizeof(*t));
    t->tid = tid;
    t->proc = pr;
    t->execs = pr->execs;
    t->pidfd = -1;
    struct thread **slot = thread_slot(p, tid);
    t->next = *slot;
    *slot = t;
    t->sibling = pr->threads;
    pr->threads = t;
    if (tid != pr->tgid) {
        /* A thread's own end is reported by a PIDFD_THREAD pidfd (6.9+); without it the entry
         * lives as long as its process. */
        t->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
        if (t->pidfd >= 0 &&
            loop_watch_fd(p->loop, t->pidfd, EPOLLIN, on_thread_exit, t, &t->watch) < 0) {
            close(t->pidfd);
            t->pidfd = -1;
        }
    }
    return t;
}

int procs_get(struct procs *p, pid_t tid, int listener, uint64_t id, struct proc_info *ret)
{
    if (tid <= 0)
        return -ESRCH;
    struct status st;
    bool have_status = false;
    pthread_mutex_lock(&p->lock);
    struct thread *t = *thread_slot(p, tid);
    if (!t) {
        pthread_mutex_unlock(&p->lock);
        if (read_status(tid, &st) < 0)
            return -ESRCH;
        have_status = true;
        pthread_mutex_lock(&p->lock);
        bool known = *proc_slot(p, st.tgid) != NULL;
        pthread_mutex_unlock(&p->lock);
        if (!known) {
            int r = enter_proc(p, st.tgid, st.ppid, listener, id);
            if (r < 0)
                return r;
        }
        pthread_mutex_lock(&p->lock);
        t = *thread_slot(p, tid);
        struct proc *pr = *proc_slot(p, st.tgid);
        if (!t && pr)
            t = insert_thread(p, tid, pr);
        if (!t) {
            pthread_mutex_unlock(&p->lock);
            return -ESRCH;
        }
    }
    struct proc *pr = t->proc;
    if (t->tid != pr->tgid && t->execs != pr->execs) {
        /* A thread from before its process's last exec, not pruned yet: that tid is someone
         * else's now, which cannot be told apart until the entry is gone. */
        pthread_mutex_unlock(&p->lock);
        return -ESRCH;
    }
    if (pr->root_moves || p->all_roots_move)
        find_root(p, pr);
    if (!t->creds || t->creds_gen != pr->creds_gen) {
        unsigned gen = pr->creds_gen;
        pthread_mutex_unlock(&p->lock);
        if (!have_status && read_status(tid, &st) < 0)
            return -ESRCH;
        struct creds *c = load_creds(p, tid, &st);
        pthread_mutex_lock(&p->lock);
        t = *thread_slot(p, tid);
        if (!t) {
            pthread_mutex_unlock(&p->lock);
            creds_unref(c);
            return -ESRCH;
        }
        creds_unref(t->creds);
        t->creds = c;
        t->creds_gen = gen;
        pr = t->proc;
    }
    bool cwd_raced = false;
    if (pr->cwd_pending) {
        /* The working directory is shared by the threads: any thread's request may catch a
         * chdir that went astray, but only the next request of the thread that called it says
         * the call is over (another thread may ask while the chdir has not run yet). */
        char cwd[48];
        struct stat now;
        snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", tid);
        cwd_raced = stat(cwd, &now) == 0 && !same_file(&now, &pr->cwd_want) &&
                    !same_file(&now, &pr->cwd_before);
        if (tid == pr->cwd_tid || cwd_raced)
            pr->cwd_pending = false;
    }
    const struct creds *c = t->creds;
    __atomic_add_fetch(&pr->refs, 1, __ATOMIC_RELAXED);
    *ret = (struct proc_info){
        .proc = pr,
        .tgid = pr->tgid,
        .pidfd = pr->pidfd,
        .binary = text_ref(pr->binary)->s,
        .launching = pr->launching,
        .uid = c->uid,
        .gid = c->gid,
        .user = c->user,
        .group = c->group,
        .home = c->home,
        .ruid = c->st.ruid,
        .fsuid = c->st.fsuid,
        .rgid = c->st.rgid,
        .fsgid = c->st.fsgid,
        .n_groups = c->st.n_groups,
        .umask = c->st.umask,
        .cap_effective = c->st.cap_effective,
        .creds_ref = creds_ref(t->creds),
        .cwd_raced = cwd_raced,
    };
    memcpy(ret->groups, c->st.groups, sizeof(ret->groups));
    memcpy(ret->root_prefix, pr->root_prefix, sizeof(ret->root_prefix));
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void proc_info_clear(struct proc_info *info)
{
    if (info->binary)
        text_unref((struct text *)(info->binary - offsetof(struct text, s)));
    creds_unref(info->creds_ref);
    proc_unref(info->proc);
    *info = (struct proc_info){.pidfd = -1};
}

struct prune {
    struct procs *table;
    pid_t tgid;
};

/* On the loop's thread (where no thread's watch can fire meanwhile): removes the threads of a
 * process that were there before its last exec. */
static void prune_threads(void *data)
{
    struct prune *job = data;
    struct procs *p = job->table;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct proc *pr = *proc_slot(p, job->tgid);
        struct thread *stale = NULL;
        for (struct thread *t = pr ? pr->threads : NULL; t && !stale; t = t->sibling)
            if (t->tid != pr->tgid && t->execs != pr->execs)
                stale = t;
        struct loop_watch *w = stale ? stale->watch : NULL;
        if (stale)
            stale->watch = NULL;
        pthread_mutex_unlock(&p->lock);
        if (!stale)
            break;
        loop_unwatch(p->loop, w);
        pthread_mutex_lock(&p->lock);
        drop_thread(p, stale);
        pthread_mutex_unlock(&p->lock);
    }
    free(job);
}

void procs_exec_done(struct procs *p, pid_t tgid, pid_t old_tid, const char *program)
{
    (void)old_tid; /* gone with every other thread but the leader: pruned below */
    struct text *binary = text_new(program);
    pthread_mutex_lock(&p->lock);
    struct proc *pr = *proc_slot(p, tgid);
    if (pr) {
        text_unref(pr->binary);
        pr->binary = binary;
        binary = NULL;
        pr->launching = false;
        pr->creds_gen++;
        pr->execs++;
    }
    pthread_mutex_unlock(&p->lock);
    text_unref(binary);
    if (pr) {
        struct prune *job = xcalloc(1, sizeof(*job));
        *job = (struct prune){p, tgid};
        loop_post(p->loop, prune_threads, job);
    }
}

void procs_expect_cwd(struct procs *p, pid_t tid, const struct stat *want,
                      const struct stat *before)
{
    pthread_mutex_lock(&p->lock);
    struct thread *t = *thread_slot(p, tid);
    if (t) {
        t->proc->cwd_pending = true;
        t->proc->cwd_tid = tid;
        t->proc->cwd_want = *want;
        t->proc->cwd_before = *before;
    }
    pthread_mutex_unlock(&p->lock);
}

void procs_root_may_move(struct procs *p, pid_t tid, bool every_process)
{
    pthread_mutex_lock(&p->lock);
    struct thread *t = *thread_slot(p, tid);
    if (t)
        t->proc->root_moves = true;
    p->all_roots_move |= every_process;
    pthread_mutex_unlock(&p->lock);
}

void procs_creds_changed(struct procs *p, pid_t tid)
{
    pthread_mutex_lock(&p->lock);
    struct thread *t = *thread_slot(p, tid);
    if (t)
        t->proc->creds_gen++;
    pthread_mutex_unlock(&p->lock);
}

bool procs_has(struct procs *p, pid_t pid)
{
    for (int depth = 0; pid > 1 && depth < MAX_ANCESTORS; depth++) {
        pthread_mutex_lock(&p->lock);
        bool known = *proc_slot(p, pid) || *thread_slot(p, pid);
        pthread_mutex_unlock(&p->lock);
        if (known)
            return true;
        struct status st;
        if (read_status(pid, &st) < 0)
            return false;
        pid = st.ppid;
    }
    return false;
}

unsigned procs_count(struct procs *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->n_procs;
    pthread_mutex_unlock(&p->lock);
    return n;
}

unsigned procs_signal_all(struct procs *p, int sig)
{
    unsigned n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct proc *pr = p->procs[b]; pr; pr = pr->next)
            n += syscall(SYS_pidfd_send_signal, pr->pidfd, sig, NULL, 0) == 0;
    pthread_mutex_unlock(&p->lock);
    return n;
}

pid_t procs_first_pid(struct procs *p)
{
    pthread_mutex_lock(&p->lock);
    pid_t pid = p->first_pid;
    pthread_mutex_unlock(&p->lock);
    return pid;
}
