/* inject.c: running system calls inside a stopped process to make it install a seccomp filter
 * with a listener, the way CRIU's compel runs code in a process it checkpoints: seize and
 * interrupt every thread, save one thread's registers and signal mask and the bytes of an
 * executable page, write `syscall; int3` there, run one call per PTRACE_CONT, and undo it all.
 *
 * An interrupted system call needs no fix-up of our own: the process is always resumed from a
 * ptrace stop inside signal delivery with its registers as they were, so the kernel restarts
 * (-ERESTARTSYS, -ERESTARTNOHAND, -ERESTARTNOINTR) or continues (-ERESTART_RESTARTBLOCK, with the
 * restart block untouched by the calls injected) exactly as it would have without us. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "inject.h"
#include "loop.h"
#include "notify.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

#define MAX_THREADS   4096
#define STOP_TIMEOUT  (2 * 1000000000ull) /* for a thread to stop, or an injected call to end */
#define CAP_SYS_ADMIN 21

static const unsigned char code[] = {0x0f, 0x05, 0xcc}; /* syscall; int3 */

struct tracee {
    pid_t pid;
    pid_t tids[MAX_THREADS];
    size_t n;
    int mem; /* /proc/PID/mem, to write code over read-only pages */
    pid_t worker;
    struct user_regs_struct saved;
    uint64_t saved_mask;
    unsigned long site;
    unsigned char saved_code[sizeof(code)];
    bool code_written, mask_set;
    /* Signals that came while the worker ran the calls with its own mask (it was waiting in a
     * call that swaps masks): held back, delivered when it resumes. */
    siginfo_t held[8];
    size_t n_held;
    int listener; /* once the filter is in: notified injected calls are let through */
};

/* The value of "KEY:" in /proc/PID/status (or /proc/PID/task/TID/status), as text. */
static int status_field(const char *status_path, const char *key, char *buf, size_t size)
{
    _cleanup_close_ int fd = open(status_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_fd_all(fd, 65536, &text, &len);
    if (r < 0)
        return r;
    _cleanup_free_ char *needle = xasprintf("\n%s:", key);
    const char *p = strstr(text, needle);
    if (!p)
        return -ENOENT;
    p += strlen(needle);
    p += strspn(p, " \t");
    size_t n = strcspn(p, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

static bool native_binary(pid_t pid, int *ret_err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf64_Ehdr h;
    if (fd < 0 || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h)) {
        *ret_err = errno == ENOENT ? -ESRCH : -ENOEXEC;
        return false;
    }
    *ret_err = -ENOEXEC;
    return memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 && h.e_ident[EI_CLASS] == ELFCLASS64 &&
           h.e_machine == EM_X86_64;
}

/* Whether PID's user namespace is ours or below ours: walk up from its namespace. */
static bool userns_reachable(pid_t pid)
{
    struct stat mine, st;
    if (stat("/proc/self/ns/user", &mine) < 0)
        return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    for (int depth = 0; fd >= 0 && depth < 64; depth++) {
        if (fstat(fd, &st) < 0)
            break;
        if (st.st_ino == mine.st_ino && st.st_dev == mine.st_dev) {
            close(fd);
            return true;
        }
        int parent = ioctl(fd, NS_GET_PARENT);
        close(fd);
        fd = parent;
    }
    if (fd >= 0)
        close(fd);
    return false;
}

int inject_check(pid_t pid, char **ret_error)
{
    char path[64], value[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if (pid <= 0 || status_field(path, "State", value, sizeof(value)) < 0) {
        *ret_error = xasprintf("no process %d", pid);
        return -ESRCH;
    }
    if (value[0] == 'T' || value[0] == 't') {
        *ret_error = xasprintf("process %d is stopped (%s); continue it first", pid, value);
        return -EAGAIN;
    }
    _cleanup_free_ char *yama = NULL;
    size_t len;
    if (read_regular_file("/proc/sys/kernel/yama/ptrace_scope", 16, &yama, &len, NULL) == 0 &&
        yama[0] == '3') {
        *ret_error = xstrdup("Yama's ptrace_scope is 3 (kernel.yama.ptrace_scope): no process may "
                             "be attached to until the next boot");
        return -EPERM;
    }
    if (status_field(path, "TracerPid", value, sizeof(value)) == 0 && !streq(value, "0")) {
        *ret_error = xasprintf("process %d is already traced by process %s: is it under gdb or "
                               "strace?",
                               pid, value);
        return -EPERM;
    }
    /* Before anything else of the process is read: from below, its /proc entries are closed. */
    if (!userns_reachable(pid)) {
        *ret_error = xasprintf("process %d is in a user namespace outside this one", pid);
        return -EXDEV;
    }
    int err;
    if (!native_binary(pid, &err)) {
        *ret_error = err == -ESRCH ? xasprintf("process %d is a kernel thread or gone", pid)
                                   : xasprintf("process %d is not a native 64-bit program "
                                               "(a 32-bit or x32 process cannot be attached)",
                                               pid);
        return err;
    }
    return 0;
}

/* Waits for TID's next stop or end: 0 with *ret_status, -ETIMEDOUT, or -errno. While the filter
 * is in (t->listener), the injected call may be notified: let it through. */
static int wait_stop(struct tracee *t, pid_t tid, int *ret_status)
{
    uint64_t deadline = loop_now_ns() + STOP_TIMEOUT;
    for (;;) {
        pid_t r = waitpid(tid, ret_status, __WALL | WNOHANG);
        if (r == tid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
        if (loop_now_ns() > deadline)
            return -ETIMEDOUT;
        if (t->listener >= 0) {
            struct pollfd p = {.fd = t->listener, .events = POLLIN};
            struct seccomp_notif n;
            /* Every other thread is stopped: a notification is the injected call. */
            if (poll(&p, 1, 1) == 1 && (p.revents & POLLIN) && notify_recv(t->listener, &n) == 0)
                notify_continue(t->listener, n.id);
        } else {
            nanosleep(&(struct timespec){0, 200000}, NULL);
        }
    }
}

/* Waits until TID is in a ptrace event stop (PTRACE_INTERRUPT's), passing signals that arrive
 * first on to it as they would have been delivered. -ESRCH if it ended, -EAGAIN for a
 * job-control stop. */
static int wait_interrupted(struct tracee *t, pid_t tid)
{
    for (;;) {
        int status, r = wait_stop(t, tid, &status);
        if (r < 0)
            return r;
        if (WIFEXITED(status) || WIFSIGNALED(status))
            return -ESRCH;
        if (!WIFSTOPPED(status))
            continue;
        if (status >> 16 == PTRACE_EVENT_STOP)
            return WSTOPSIG(status) == SIGTRAP ? 0 : -EAGAIN;
        if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(status)) < 0)
            return -errno;
    }
}

static bool seized(const struct tracee *t, pid_t tid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->tids[i] == tid)
            return true;
    return false;
}

/* Seizes and stops every thread, again until no new one appeared (a thread may start another
 * before it stops). */
static int stop_all(struct tracee *t, char **ret_error)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
    for (bool grew = true; grew;) {
        grew = false;
        DIR *dir = opendir(path);
        if (!dir) {
            *ret_error = xasprintf("process %d ended during the attach", t->pid);
            return -ESRCH;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
            char *end;
            long tid = strtol(de->d_name, &end, 10);
            if (*end || tid <= 0 || seized(t, (pid_t)tid))
                continue;
            if (t->n == MAX_THREADS) {
                closedir(dir);
                *ret_error = xasprintf("process %d has more than %d threads", t->pid, MAX_THREADS);
                return -E2BIG;
            }
            if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, 0) < 0) {
                int e = errno;
                if (e == ESRCH)
                    continue; /* the thread ended */
                closedir(dir);
                *ret_error = e == EPERM
                                 ? xasprintf("cannot trace process %d (EPERM): is it "
                                             "under gdb or strace?",
                                             t->pid)
                                 : xasprintf("cannot trace thread %ld: %s", tid, strerror(e));
                return -e;
            }
            t->tids[t->n++] = (pid_t)tid;
            grew = true;
            int r = ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0) < 0 ? -errno : 0;
            if (r == 0)
                r = wait_interrupted(t, (pid_t)tid);
            if (r == -ESRCH && (pid_t)tid != t->pid) {
                t->n--; /* a thread that ended is no longer ours to release */
                continue;
            }
            if (r < 0) {
                closedir(dir);
                *ret_error = r == -EAGAIN  ? xasprintf("process %d was stopped by job control "
                                                        "during the attach; continue it first",
                                                       t->pid)
                             : r == -ESRCH ? xasprintf("process %d ended during the attach", t->pid)
                             : r == -ETIMEDOUT
                                 ? xasprintf("thread %ld of process %d does not "
                                             "stop (uninterruptible sleep?)",
                                             tid, t->pid)
                                 : xasprintf("cannot stop thread %ld: %s", tid, strerror(-r));
                return r;
            }
        }
        closedir(dir);
    }
    return 0;
}

/* Calls whose signal mask argument (index ARG, 6 for one that always has one) replaces the
 * thread's mask while they wait: a thread stopped in one must not have its mask set, which
 * would lose the mask the kernel restores when the call ends. */
static const struct {
    long nr;
    int arg;
} mask_swapping[] = {
    {SYS_ppoll, 3},        {SYS_pselect6, 5},      {SYS_epoll_pwait, 4},
    {SYS_epoll_pwait2, 4}, {SYS_rt_sigsuspend, 6}, {SYS_io_pgetevents, 5},
};

static bool swaps_mask(const struct user_regs_struct *r)
{
    unsigned long args[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
    for (size_t i = 0; i < ARRAY_SIZE(mask_swapping); i++)
        if ((long)r->orig_rax == mask_swapping[i].nr)
            return mask_swapping[i].arg == 6 || args[mask_swapping[i].arg] != 0;
    return false;
}

/* The thread that will make the calls: the first one not waiting with a swapped mask, whose
 * mask is then set to hold every signal back; else the first one, which keeps its mask
 * (*ret_keep_mask) and whose signals are held back by hand. */
static int pick_worker(struct tracee *t, bool *ret_keep_mask, char **ret_error)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->n; i++) {
            struct user_regs_struct regs;
            if (ptrace(PTRACE_GETREGS, t->tids[i], 0, &regs) < 0)
                continue;
            if (regs.cs != 0x33) /* running 32-bit code */
                continue;
            if (pass == 0 && swaps_mask(&regs))
                continue;
            t->worker = t->tids[i];
            t->saved = regs;
            *ret_keep_mask = pass == 1;
            return 0;
        }
    *ret_error = xasprintf("no thread of process %d runs 64-bit code", t->pid);
    return -ENOEXEC;
}

/* The start of the first executable mapping: where `syscall; int3` is written. */
static int find_site(struct tracee *t)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        unsigned long start, end;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && perms[2] == 'x' &&
            !strstr(line, "[vsyscall]") && !strstr(line, "[vdso]") && end - start >= 16) {
            t->site = start;
            return 0;
        }
    }
    return -ENOEXEC;
}

static int write_code(struct tracee *t, const void *bytes, size_t n)
{
    ssize_t w = pwrite(t->mem, bytes, n, (off_t)t->site);
    return w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
}

/* Runs call NR(ARGS) in the worker; *ret is its raw return value. */
static int run_call(struct tracee *t, long nr, const unsigned long args[6], long *ret)
{
    struct user_regs_struct regs = t->saved;
    regs.rax = (unsigned long)nr;
    regs.orig_rax = (unsigned long)-1; /* not in a call: nothing for the kernel to restart */
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
    regs.rip = t->site;
    if (ptrace(PTRACE_SETREGS, t->worker, 0, &regs) < 0 || ptrace(PTRACE_CONT, t->worker, 0, 0) < 0)
        return -errno;
    int status;
    for (;;) {
        int r = wait_stop(t, t->worker, &status);
        if (r < 0)
            return r;
        if (WIFEXITED(status) || WIFSIGNALED(status))
            return -ESRCH;
        if (!WIFSTOPPED(status) || status >> 16 != 0)
            return -EIO;
        int sig = WSTOPSIG(status);
        if (sig == SIGTRAP)
            break;
        if (t->mask_set || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE)
            return -EIO; /* a fault, or a signal that the mask should have held back */
        /* A signal for the program while it runs our call: hold it, let the call go on. */
        if (t->n_held < ARRAY_SIZE(t->held))
            ptrace(PTRACE_GETSIGINFO, t->worker, 0, &t->held[t->n_held++]);
        if (ptrace(PTRACE_CONT, t->worker, 0, 0) < 0)
            return -errno;
    }
    if (ptrace(PTRACE_GETREGS, t->worker, 0, &regs) < 0)
        return -errno;
    if (regs.rip != t->site + sizeof(code))
        return -EIO;
    *ret = (long)regs.rax;
    return 0;
}

static bool call_failed(long v)
{
    return v < 0 && v > -4096;
}

/* Puts back the code, mask and registers. The worker is in the int3's SIGTRAP stop (or still in
 * its first event stop), from which the detach resumes it as if nothing had happened. */
static void restore(struct tracee *t)
{
    if (t->code_written)
        write_code(t, t->saved_code, sizeof(code));
    if (t->mask_set)
        ptrace(PTRACE_SETSIGMASK, t->worker, sizeof(t->saved_mask), &t->saved_mask);
    if (t->worker)
        ptrace(PTRACE_SETREGS, t->worker, 0, &t->saved);
}

/* Resumes every thread. The worker gets the first signal held back as it would have (its
 * siginfo intact, from the stop the signal would have been delivered at); any further one is
 * sent again, as from the tracer (rare: they came within the microseconds of the calls). */
static void release_all(struct tracee *t)
{
    for (size_t i = 0; i < t->n; i++) {
        long sig = 0;
        if (t->tids[i] == t->worker && t->n_held > 0 &&
            ptrace(PTRACE_SETSIGINFO, t->worker, 0, &t->held[0]) == 0)
            sig = t->held[0].si_signo;
        ptrace(PTRACE_DETACH, t->tids[i], 0, (void *)sig);
    }
    for (size_t i = 1; i < t->n_held; i++)
        syscall(SYS_tgkill, t->pid, t->worker, t->held[i].si_signo);
}

bool inject_has_cap_sys_admin(pid_t pid, pid_t tid)
{
    char path[64], value[32];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
    if (status_field(path, "CapEff", value, sizeof(value)) < 0)
        return false;
    unsigned long long caps = strtoull(value, NULL, 16);
    return caps & (1ull << CAP_SYS_ADMIN);
}

static bool has_no_new_privs(const struct tracee *t)
{
    char path[64], value[32];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", t->pid, t->worker);
    return status_field(path, "NoNewPrivs", value, sizeof(value)) == 0 && streq(value, "1");
}

static const char *seccomp_failure(long err)
{
    switch (err) {
    case EBUSY:
        return "it already has a seccomp listener (is it supervised already?)";
    case ESRCH:
        return "its threads have different seccomp filters";
    case EACCES:
        return "it has neither no_new_privs nor CAP_SYS_ADMIN";
    default:
        return strerror((int)err);
    }
}

/* The calls, with the worker stopped and its state saved. */
static int install(struct tracee *t, const struct sock_fprog *prog, struct inject_result *ret,
                   char **ret_error)
{
    long v;
    size_t prog_bytes = prog->len * sizeof(struct sock_filter);
    size_t size = (16 + prog_bytes + 4095) & ~4095ul;
    unsigned long mmap_args[6] = {
        0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (unsigned long)-1, 0};
    int r = run_call(t, SYS_mmap, mmap_args, &v);
    if (r == 0 && call_failed(v))
        r = (int)v;
    if (r < 0) {
        *ret_error = xasprintf("cannot map a page in process %d: %s", t->pid, strerror(-r));
        return r;
    }
    unsigned long page = (unsigned long)v;
    struct sock_fprog remote = {prog->len, (struct sock_filter *)(page + 16)};
    struct iovec local[2] = {{&remote, sizeof(remote)}, {prog->filter, prog_bytes}};
    struct iovec target[2] = {{(void *)page, sizeof(remote)}, {(void *)(page + 16), prog_bytes}};
    if (process_vm_writev(t->pid, local, 2, target, 2, 0) != (ssize_t)(sizeof(remote) + prog_bytes))
        r = -errno ? -errno : -EIO;
    bool cap = inject_has_cap_sys_admin(t->pid, t->worker);
    if (r == 0 && !cap && !has_no_new_privs(t)) {
        unsigned long a[6] = {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0};
        r = run_call(t, SYS_prctl, a, &v);
        if (r == 0 && call_failed(v))
            r = (int)v;
        ret->no_new_privs_set = r == 0;
    }
    long fd = -1;
    if (r == 0) {
        unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
                              SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        unsigned long a[6] = {
            SECCOMP_SET_MODE_FILTER, flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, page, 0, 0, 0};
        r = run_call(t, SYS_seccomp, a, &fd);
        if (r == 0 && fd == -EINVAL) { /* a kernel before 5.19 */
            a[1] = flags;
            r = run_call(t, SYS_seccomp, a, &fd);
        }
        if (r == 0 && call_failed(fd)) {
            *ret_error =
                xasprintf("process %d cannot take the filter: %s%s", t->pid, seccomp_failure(-fd),
                          ret->no_new_privs_set ? " (it keeps the no_new_privs it was "
                                                  "given)"
                                                : "");
            r = (int)fd;
            fd = -1;
        }
    }
    if (fd >= 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
        t->listener = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
        if (t->listener < 0)
            r = -errno;
        if (pidfd >= 0)
            close(pidfd);
        unsigned long a[6] = {(unsigned long)fd, 0, 0, 0, 0, 0};
        int rc = run_call(t, SYS_close, a, &v);
        if (r == 0)
            r = rc;
    }
    unsigned long a[6] = {page, size, 0, 0, 0, 0};
    int rm = run_call(t, SYS_munmap, a, &v);
    if (r == 0)
        r = rm;
    if (r < 0 && !*ret_error)
        *ret_error = xasprintf("cannot install the filter in process %d: %s", t->pid, strerror(-r));
    return r;
}

/* The whole attach, in the tracer process. */
static int inject_here(pid_t pid, const struct sock_fprog *prog, struct inject_result *ret,
                       char **ret_error)
{
    *ret_error = NULL;
    *ret = (struct inject_result){.listener = -1};
    int r = inject_check(pid, ret_error);
    if (r < 0)
        return r;
    struct tracee *t = xcalloc(1, sizeof(*t));
    t->pid = pid;
    t->listener = -1;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", pid);
    t->mem = open(path, O_RDWR | O_CLOEXEC);
    if (t->mem < 0) {
        r = -errno;
        *ret_error = xasprintf("cannot open the memory of process %d: %s", pid, strerror(-r));
        free(t);
        return r;
    }
    bool keep_mask = false;
    r = stop_all(t, ret_error);
    if (r == 0)
        r = pick_worker(t, &keep_mask, ret_error);
    if (r == 0 && ptrace(PTRACE_GETSIGMASK, t->worker, sizeof(t->saved_mask), &t->saved_mask) < 0)
        r = -errno;
    if (r == 0 && (r = find_site(t)) == 0 &&
        pread(t->mem, t->saved_code, sizeof(code), (off_t)t->site) != (ssize_t)sizeof(code))
        r = -EIO;
    if (r == 0 && (r = write_code(t, code, sizeof(code))) == 0)
        t->code_written = true;
    uint64_t only_trap = ~(1ull << (SIGTRAP - 1));
    if (r == 0 && !keep_mask &&
        ptrace(PTRACE_SETSIGMASK, t->worker, sizeof(only_trap), &only_trap) < 0)
        r = -errno;
    else if (r == 0 && !keep_mask)
        t->mask_set = true;
    if (r < 0 && !*ret_error)
        *ret_error = xasprintf("cannot prepare process %d: %s", pid, strerror(-r));
    if (r == 0)
        r = install(t, prog, ret, ret_error);
    restore(t);
    release_all(t);
    close(t->mem);
    if (r == 0) {
        ret->listener = t->listener;
        ret->threads = (unsigned)t->n;
    } else if (t->listener >= 0) {
        close(t->listener);
    }
    free(t);
    return r;
}

/* What the tracer process sends back, with the listener as SCM_RIGHTS. */
struct inject_report {
    int r;
    unsigned threads;
    bool no_new_privs_set;
    char error[512];
};

static _Noreturn void tracer_main(int sock, pid_t pid, const struct sock_fprog *prog)
{
    struct inject_result res;
    char *error = NULL;
    struct inject_report rep = {.r = inject_here(pid, prog, &res, &error)};
    rep.threads = res.threads;
    rep.no_new_privs_set = res.no_new_privs_set;
    if (error)
        snprintf(rep.error, sizeof(rep.error), "%s", error);
    struct iovec iov = {&rep, sizeof(rep)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (rep.r == 0) {
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &res.listener, sizeof(int));
    }
    _exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(rep) ? 0 : 1);
}

/* A tracer of its own, a child process: ptrace ties a tracee to the tracing thread, and a
 * thread that will not stop (uninterruptible sleep) can only be let go by its tracer's exit, so
 * the child is killed if it does not report in time and the kernel detaches everything. */
int inject_filter(pid_t pid, const struct sock_fprog *prog, struct inject_result *ret,
                  char **ret_error)
{
    *ret_error = NULL;
    *ret = (struct inject_result){.listener = -1};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (child == 0) {
        close(sv[0]);
        tracer_main(sv[1], pid, prog);
    }
    close(sv[1]);
    struct inject_report rep = {.r = -EIO};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {&rep, sizeof(rep)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct pollfd p = {.fd = sv[0], .events = POLLIN};
    int got = poll(&p, 1, (int)(3 * STOP_TIMEOUT / 1000000));
    ssize_t n = got == 1 ? recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC) : -1;
    if (n != (ssize_t)sizeof(rep)) {
        kill(child, SIGKILL);
        rep.r = -ETIMEDOUT;
        snprintf(rep.error, sizeof(rep.error), "the attach to process %d did not finish", pid);
    }
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    close(sv[0]);
    struct cmsghdr *c = n == (ssize_t)sizeof(rep) ? CMSG_FIRSTHDR(&mh) : NULL;
    int listener = -1;
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&listener, CMSG_DATA(c), sizeof(int));
    if (rep.r == 0 && listener < 0) {
        rep.r = -EIO;
        snprintf(rep.error, sizeof(rep.error), "the listener of process %d was lost", pid);
    }
    if (rep.r < 0) {
        if (listener >= 0)
            close(listener);
        rep.error[sizeof(rep.error) - 1] = '\0';
        *ret_error = xstrdup(rep.error[0] ? rep.error : strerror(-rep.r));
        return rep.r;
    }
    *ret = (struct inject_result){listener, rep.threads, rep.no_new_privs_set};
    return 0;
}
