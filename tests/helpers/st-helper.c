/* st-helper: makes exactly the system calls a test asks for, one command after another, and prints
 * one line per command: "NAME ARG: ok [detail]" or "NAME ARG: ERRNO". Exit status 0 unless a
 * command line is malformed.
 *
 *   open PATH | creat PATH | stat PATH | unlink PATH | mkdir PATH | getppid | getpid
 *   mkdir-many PREFIX N (mkdir PREFIX0 … PREFIX<N-1>; prints how many failed)
 *   uffd-stall N PATH (N threads each open a path in a page that a userfaultfd holds back,
 *     so that whoever reads it waits; then PATH is stat'ed, the page is filled with PATH and
 *     the threads' results are printed: "uffd-stall N: stat ok, N opened")
 *   connect IP PORT | bind IP PORT | socket inet|inet6|unix | sendmsg IP PORT (UDP "hello")
 *   exec PATH [ARGS… --] | spawn PATH [ARGS… --] (fork, exec, wait)
 *   fork N (N children that each call getppid and exit) | threads N (N threads calling getppid)
 *   signal SIG (raise it, with a handler) | sleep MS
 *   open-null | open-unmapped | open-protnone | open-unterminated | open-long N
 *   socket-highbits | x32 | int80 | io_uring
 *   ids (print uid and gid) | pause (read a line from standard input)
 *   chdir DIR | chroot DIR (then chdir /) | openat DIR NAME (relative to an fd of DIR)
 *   | drop-dac (clears CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the effective set)
 *   | thread-setuid UID PATH (a thread drops to UID with the raw syscall, opens PATH, ends;
 *     then the main thread opens PATH too)
 *   | symlink TARGET PATH
 *   poke-parent (ptrace, memory, kcmp, pidfd, /proc and signals against the parent)
 *   alarm-ms MS (a SIGALRM every MS milliseconds from now on, handled with SA_RESTART)
 *   undumpable (prctl(PR_SET_DUMPABLE, 0): its /proc entries close to its own user)
 *   personality FLAGS (personality(2), e.g. 0x0400000) | kill-group SIG (kill(0, SIG))
 *   leader-exits SIG (last command: the main thread exits alone; another thread, once the
 *     leader is a zombie, sends itself SIG with tgkill, prints and ends the process)
 *   openf PATH FLAGS MODE (flags: r w R(dwr) c x t d n p T e a, e.g. "wc"; the fd stays open and
 *   its number is printed) | lstat PATH | readlink PATH | access PATH r|w|x|f | rename A B
 *   | link A B | chmod PATH OCTAL | chown PATH UID GID | truncate PATH LEN | utimes PATH
 *   | rmdir PATH | statfs PATH | statx PATH | umask OCTAL
 *   | setxattr PATH NAME VALUE | getxattr PATH NAME | listxattr PATH | removexattr PATH NAME
 *   | openat2 DIR PATH RESOLVE (resolve letters: b BENEATH, r IN_ROOT, x NO_XDEV,
 *     m NO_MAGICLINKS, s NO_SYMLINKS, - none; the fd stays open) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static void result(const char *what, const char *arg, long r)
{
    if (r < 0)
        printf("%s %s: %s\n", what, arg, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    else
        printf("%s %s: ok\n", what, arg);
    fflush(stdout);
}

static int inet_addr_of(const char *ip, const char *port, struct sockaddr_storage *ss,
                        socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(port));
        *len = sizeof(*in);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)atoi(port));
        *len = sizeof(*in6);
        return AF_INET6;
    }
    return -1;
}

static void *thread_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        syscall(SYS_getppid);
    return NULL;
}

static volatile sig_atomic_t caught;
static void on_signal(int sig)
{
    caught = sig;
}

/* Runs argv[i..] up to "--" or the end; returns the index after it. */
/* leader-exits: the thread left behind once the group leader has exited. */
static void *after_the_leader(void *arg)
{
    int sig = *(int *)arg;
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
    for (;;) { /* wait until the leader is a zombie: its /proc/PID/exe is gone */
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
        if (f)
            fclose(f);
        stat[n] = '\0';
        char *end = strrchr(stat, ')');
        if (!end || end[2] == 'Z')
            break;
        usleep(1000);
    }
    signal(sig, on_signal);
    long r = syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    char what[32];
    snprintf(what, sizeof(what), "%d", sig);
    result("leader-exits", what, r);
    fflush(stdout);
    exit(caught == sig ? 0 : 3);
}

static int collect_argv(int argc, char **argv, int i, char ***ret)
{
    int start = i;
    while (i < argc && strcmp(argv[i], "--") != 0)
        i++;
    char **v = calloc((size_t)(i - start + 1), sizeof(*v));
    for (int k = start; k < i; k++)
        v[k - start] = argv[k];
    *ret = v;
    return i < argc ? i + 1 : i;
}

struct dropped {
    uid_t uid;
    const char *path;
    int result, err;
};

/* Drops this thread alone to D->uid (glibc's setuid would change every thread) and opens. */
static void *drop_and_open(void *arg)
{
    struct dropped *d = arg;
    if (syscall(SYS_setresuid, d->uid, d->uid, d->uid) < 0) {
        d->result = -1;
        d->err = errno;
        return NULL;
    }
    int fd = open(d->path, O_RDONLY);
    d->result = fd < 0 ? -1 : 0;
    d->err = errno;
    if (fd >= 0)
        close(fd);
    return NULL;
}

struct stalled {
    const char *path; /* in the held-back page */
    int result;
};

static void *stalled_open(void *data)
{
    struct stalled *st = data;
    int fd = open(st->path, O_RDONLY);
    st->result = fd >= 0 ? 0 : -errno;
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* uffd-stall N PATH: see the usage at the top. */
static void uffd_stall(int n, const char *path)
{
    long page = sysconf(_SC_PAGESIZE);
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    struct uffdio_api api = {.api = UFFD_API};
    char *held =
        mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {.range = {(unsigned long)held, (unsigned long)page},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
        printf("uffd-stall %d: %s\n", n, strerrorname_np(errno));
        return;
    }
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    struct stalled *st = calloc((size_t)n, sizeof(*st));
    for (int k = 0; k < n; k++) {
        st[k].path = held;
        pthread_create(&t[k], NULL, stalled_open, &st[k]);
    }
    usleep(300 * 1000); /* every thread's open waits on the page now */
    struct stat sb;
    int r = stat(path, &sb);
    /* Fill the page: the reads go on, and the opens with them. */
    char *fill = aligned_alloc((size_t)page, (size_t)page);
    memset(fill, 0, (size_t)page);
    snprintf(fill, (size_t)page, "%s", path);
    struct uffdio_copy copy = {(unsigned long)held, (unsigned long)fill, (unsigned long)page, 0, 0};
    ioctl(uffd, UFFDIO_COPY, &copy);
    int opened = 0;
    for (int k = 0; k < n; k++) {
        pthread_join(t[k], NULL);
        opened += st[k].result == 0;
    }
    printf("uffd-stall %d: stat %s, %d opened\n", n, r == 0 ? "ok" : strerrorname_np(errno),
           opened);
    free(t);
    free(st);
    free(fill);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 1; i < argc;) {
        const char *cmd = argv[i++];
        const char *a = i < argc ? argv[i] : "";
        if (!strcmp(cmd, "open")) {
            int fd = open(a, O_RDONLY);
            result(cmd, a, fd);
            if (fd >= 0)
                close(fd);
            i++;
        } else if (!strcmp(cmd, "creat")) {
            int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            result(cmd, a, fd);
            if (fd >= 0)
                close(fd);
            i++;
        } else if (!strcmp(cmd, "stat")) {
            struct stat st;
            result(cmd, a, stat(a, &st));
            i++;
        } else if (!strcmp(cmd, "unlink")) {
            result(cmd, a, unlink(a));
            i++;
        } else if (!strcmp(cmd, "mkdir")) {
            result(cmd, a, mkdir(a, 0755));
            i++;
        } else if (!strcmp(cmd, "mkdir-many")) {
            long n = atol(argv[i + 1]), failed = 0;
            char path[4096];
            for (long k = 0; k < n; k++) {
                snprintf(path, sizeof(path), "%s%ld", a, k);
                failed += mkdir(path, 0755) < 0;
            }
            printf("mkdir-many %s: %ld of %ld failed\n", a, failed, n);
            i += 2;
        } else if (!strcmp(cmd, "getppid") || !strcmp(cmd, "getpid")) {
            long r = syscall(!strcmp(cmd, "getppid") ? SYS_getppid : SYS_getpid);
            result(cmd, "", r);
        } else if (!strcmp(cmd, "connect") || !strcmp(cmd, "bind")) {
            struct sockaddr_storage ss;
            socklen_t len = 0;
            int family = inet_addr_of(a, argv[i + 1], &ss, &len);
            int fd = socket(family, SOCK_STREAM, 0);
            long r = fd < 0                    ? fd
                     : !strcmp(cmd, "connect") ? connect(fd, (struct sockaddr *)&ss, len)
                                               : bind(fd, (struct sockaddr *)&ss, len);
            char both[128];
            snprintf(both, sizeof(both), "%s:%s", a, argv[i + 1]);
            result(cmd, both, r);
            if (fd >= 0)
                close(fd);
            i += 2;
        } else if (!strcmp(cmd, "sendmsg")) {
            struct sockaddr_storage ss;
            socklen_t len = 0;
            int family = inet_addr_of(a, argv[i + 1], &ss, &len);
            int fd = socket(family, SOCK_DGRAM, 0);
            char hello[] = "hel", lo[] = "lo";
            struct iovec iov[2] = {{hello, 3}, {lo, 2}};
            struct msghdr m = {
                .msg_name = &ss, .msg_namelen = len, .msg_iov = iov, .msg_iovlen = 2};
            char both[128];
            snprintf(both, sizeof(both), "%s:%s", a, argv[i + 1]);
            result(cmd, both, fd < 0 ? fd : sendmsg(fd, &m, 0));
            if (fd >= 0)
                close(fd);
            i += 2;
        } else if (!strcmp(cmd, "socket")) {
            int dom = !strcmp(a, "inet6") ? AF_INET6 : !strcmp(a, "unix") ? AF_UNIX : AF_INET;
            int fd = socket(dom, SOCK_STREAM, 0);
            result(cmd, a, fd);
            if (fd >= 0)
                close(fd);
            i++;
        } else if (!strcmp(cmd, "socket-highbits")) {
            /* AF_INET with garbage in the upper half: the kernel sees AF_INET. */
            long fd = syscall(SYS_socket, (1L << 32) | AF_INET, SOCK_STREAM, 0);
            result(cmd, "", fd);
        } else if (!strcmp(cmd, "exec")) {
            char **v;
            i = collect_argv(argc, argv, i, &v);
            execv(v[0], v);
            result(cmd, v[0], -1);
        } else if (!strcmp(cmd, "spawn")) {
            char **v;
            i = collect_argv(argc, argv, i, &v);
            pid_t pid = fork();
            if (pid == 0) {
                execv(v[0], v);
                _exit(127);
            }
            int st = 0;
            waitpid(pid, &st, 0);
            printf("spawn %s: exit %d\n", v[0],
                   WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            free(v);
        } else if (!strcmp(cmd, "fork")) {
            int n = atoi(a);
            int ok = 0;
            for (int k = 0; k < n; k++) {
                pid_t pid = fork();
                if (pid == 0) {
                    syscall(SYS_getppid);
                    _exit(0);
                }
                int st;
                if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
                    ok++;
            }
            printf("fork %s: %d ok\n", a, ok);
            i++;
        } else if (!strcmp(cmd, "uffd-stall")) {
            uffd_stall(atoi(a), argv[i + 1]);
            i += 2;
        } else if (!strcmp(cmd, "threads")) {
            int n = atoi(a);
            pthread_t *t = calloc((size_t)n, sizeof(*t));
            int started = 0;
            for (int k = 0; k < n; k++)
                if (pthread_create(&t[k], NULL, thread_main, NULL) == 0)
                    started++;
            for (int k = 0; k < started; k++)
                pthread_join(t[k], NULL);
            printf("threads %s: %d ok\n", a, started);
            free(t);
            i++;
        } else if (!strcmp(cmd, "signal")) {
            int sig = atoi(a);
            signal(sig, on_signal);
            raise(sig);
            printf("signal %s: caught %d\n", a, (int)caught);
            i++;
        } else if (!strcmp(cmd, "leader-exits")) {
            static int sig;
            sig = atoi(a);
            pthread_t th;
            fflush(stdout);
            pthread_create(&th, NULL, after_the_leader, &sig);
            syscall(SYS_exit, 0);
        } else if (!strcmp(cmd, "sleep")) {
            struct timespec ts = {atoi(a) / 1000, (atoi(a) % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            printf("sleep %s: ok\n", a);
            i++;
        } else if (!strcmp(cmd, "open-null")) {
            result(cmd, "", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));
        } else if (!strcmp(cmd, "open-unmapped")) {
            char *p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(p, (size_t)page);
            result(cmd, "", syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        } else if (!strcmp(cmd, "open-protnone")) {
            char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            strcpy(p, "/etc/hostname");
            mprotect(p, (size_t)page, PROT_NONE);
            result(cmd, "", syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        } else if (!strcmp(cmd, "open-unterminated")) {
            /* A short path that runs without a NUL into an unmapped page. */
            char *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(p + page, (size_t)page);
            char *s = p + page - 100;
            memset(s, 'a', 100);
            s[0] = '/';
            result(cmd, "", syscall(SYS_openat, AT_FDCWD, s, O_RDONLY));
        } else if (!strcmp(cmd, "open-long")) {
            size_t n = (size_t)atoi(a);
            char *p = malloc(n + 1);
            memset(p, 'a', n);
            p[0] = '/';
            p[n] = '\0';
            result(cmd, a, syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
            free(p);
            i++;
        } else if (!strcmp(cmd, "chdir")) {
            result(cmd, a, chdir(a));
            i++;
        } else if (!strcmp(cmd, "drop-dac")) {
            struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
            struct __user_cap_data_struct data[2] = {{0}};
            long r = syscall(SYS_capget, &hdr, data);
            data[0].effective &= ~(1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH);
            result(cmd, "", r < 0 ? r : syscall(SYS_capset, &hdr, data));
        } else if (!strcmp(cmd, "thread-setuid")) {
            struct dropped d = {(uid_t)atoi(a), argv[i + 1], 0, 0};
            pthread_t th;
            pthread_create(&th, NULL, drop_and_open, &d);
            pthread_join(th, NULL);
            errno = d.err;
            result("thread-open", argv[i + 1], d.result);
            int fd = open(argv[i + 1], O_RDONLY);
            result("main-open", argv[i + 1], fd);
            if (fd >= 0)
                close(fd);
            i += 2;
        } else if (!strcmp(cmd, "chroot")) {
            int r = chroot(a);
            result(cmd, a, r == 0 ? chdir("/") : r);
            i++;
        } else if (!strcmp(cmd, "openat")) {
            int dfd = open(a, O_RDONLY | O_DIRECTORY);
            int fd = dfd < 0 ? dfd : openat(dfd, argv[i + 1], O_RDONLY);
            char both[512];
            snprintf(both, sizeof(both), "%s %s", a, argv[i + 1]);
            result(cmd, both, fd);
            if (fd >= 0)
                close(fd);
            if (dfd >= 0)
                close(dfd);
            i += 2;
        } else if (!strcmp(cmd, "symlink")) {
            char both[512];
            snprintf(both, sizeof(both), "%s %s", a, argv[i + 1]);
            result(cmd, both, symlink(a, argv[i + 1]));
            i += 2;
        } else if (!strcmp(cmd, "poke-parent")) {
            pid_t pp = getppid();
            char buf[16];
            struct iovec local = {buf, sizeof(buf)}, remote = {buf, sizeof(buf)};
            char path[64];
            result("ptrace-attach", "", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pp, 0, 0));
            result("vm-readv", "", syscall(SYS_process_vm_readv, pp, &local, 1, &remote, 1, 0));
            result("vm-writev", "", syscall(SYS_process_vm_writev, pp, &local, 1, &remote, 1, 0));
            result("kcmp", "", syscall(SYS_kcmp, getpid(), pp, 0 /* KCMP_FILE */, 0, 0));
            result("pidfd-open", "", syscall(SYS_pidfd_open, pp, 0));
            snprintf(path, sizeof(path), "/proc/%d/mem", (int)pp);
            result("open-mem", "", open(path, O_RDONLY));
            snprintf(path, sizeof(path), "/proc/%d/status", (int)pp);
            result("open-status", "", open(path, O_RDONLY));
            result("kill-0", "", kill(pp, 0));
            result("prlimit", "", syscall(SYS_prlimit64, pp, RLIMIT_NOFILE, NULL, NULL));
            result("setpriority", "", setpriority(PRIO_PROCESS, (id_t)pp, 5));
            result("setpriority-user", "", setpriority(PRIO_USER, 0, 5));
            result("ioprio", "", syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pp, 0));
            result("sched-setaffinity", "",
                   syscall(SYS_sched_setaffinity, pp, sizeof(unsigned long), &(unsigned long){1}));
            int p[2];
            if (pipe(p) == 0) {
                result("setown", "", fcntl(p[0], F_SETOWN, pp));
                struct f_owner_ex ex = {F_OWNER_PID, pp};
                result("setown-ex", "", fcntl(p[0], F_SETOWN_EX, &ex));
                result("setown-self", "", fcntl(p[0], F_SETOWN, getpid()));
                close(p[0]);
                close(p[1]);
            }
            result("kill-everyone", "", kill(-1, 0));
        } else if (!strcmp(cmd, "personality")) {
            result(cmd, a, syscall(SYS_personality, strtoul(a, NULL, 0)));
            i++;
        } else if (!strcmp(cmd, "kill-group")) {
            /* kill(0, SIG): the caller's own process group (the default action: it dies). */
            result(cmd, a, kill(0, atoi(a)));
            i++;
        } else if (!strcmp(cmd, "undumpable")) {
            result(cmd, "", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
        } else if (!strcmp(cmd, "alarm-ms")) {
            struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
            sigaction(SIGALRM, &sa, NULL);
            long us = atol(a) * 1000;
            struct itimerval it = {{us / 1000000, us % 1000000}, {us / 1000000, us % 1000000}};
            setitimer(ITIMER_REAL, &it, NULL);
            printf("alarm-ms %s: ok\n", a);
            i++;
        } else if (!strcmp(cmd, "openf")) {
            static const struct {
                char c;
                int flag;
            } letters[] = {{'w', O_WRONLY},  {'R', O_RDWR},      {'c', O_CREAT},    {'x', O_EXCL},
                           {'t', O_TRUNC},   {'d', O_DIRECTORY}, {'n', O_NOFOLLOW}, {'p', O_PATH},
                           {'T', O_TMPFILE}, {'e', O_CLOEXEC},   {'a', O_APPEND}};
            int flags = 0;
            for (const char *f = argv[i + 1]; *f; f++)
                for (size_t k = 0; k < sizeof(letters) / sizeof(letters[0]); k++)
                    if (letters[k].c == *f)
                        flags |= letters[k].flag;
            int fd = open(a, flags, (mode_t)strtol(argv[i + 2], NULL, 8));
            if (fd < 0)
                result(cmd, a, fd);
            else
                printf("openf %s %s: fd=%d cloexec=%d\n", a, argv[i + 1], fd,
                       (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
            i += 3;
        } else if (!strcmp(cmd, "lstat") || !strcmp(cmd, "statx")) {
            struct stat st;
            struct statx stx;
            int r = !strcmp(cmd, "lstat") ? lstat(a, &st)
                                          : statx(AT_FDCWD, a, 0, STATX_BASIC_STATS, &stx);
            if (r == 0 && !strcmp(cmd, "statx")) {
                st.st_mode = stx.stx_mode;
                st.st_size = (off_t)stx.stx_size;
                st.st_mtime = stx.stx_mtime.tv_sec;
                st.st_uid = stx.stx_uid;
            }
            if (r < 0)
                result(cmd, a, r);
            else
                printf("%s %s: type=%s mode=%04o size=%ld uid=%d mtime=%s\n", cmd, a,
                       S_ISREG(st.st_mode)   ? "reg"
                       : S_ISDIR(st.st_mode) ? "dir"
                       : S_ISLNK(st.st_mode) ? "lnk"
                                             : "other",
                       st.st_mode & 07777, S_ISDIR(st.st_mode) ? 0L : (long)st.st_size,
                       (int)st.st_uid, st.st_mtime == 1000000000 ? "set" : "other");
            i++;
        } else if (!strcmp(cmd, "readlink")) {
            char buf[4096];
            ssize_t n = readlink(a, buf, sizeof(buf) - 1);
            if (n < 0)
                result(cmd, a, n);
            else
                printf("readlink %s: %.*s\n", a, (int)n, buf);
            i++;
        } else if (!strcmp(cmd, "access")) {
            int mode = argv[i + 1][0] == 'r'   ? R_OK
                       : argv[i + 1][0] == 'w' ? W_OK
                       : argv[i + 1][0] == 'x' ? X_OK
                                               : F_OK;
            result(cmd, a, access(a, mode));
            i += 2;
        } else if (!strcmp(cmd, "rename") || !strcmp(cmd, "link")) {
            char both[512];
            snprintf(both, sizeof(both), "%s %s", a, argv[i + 1]);
            result(cmd, both,
                   !strcmp(cmd, "rename") ? rename(a, argv[i + 1]) : link(a, argv[i + 1]));
            i += 2;
        } else if (!strcmp(cmd, "chmod")) {
            result(cmd, a, chmod(a, (mode_t)strtol(argv[i + 1], NULL, 8)));
            i += 2;
        } else if (!strcmp(cmd, "chown")) {
            result(cmd, a, chown(a, (uid_t)atoi(argv[i + 1]), (gid_t)atoi(argv[i + 2])));
            i += 3;
        } else if (!strcmp(cmd, "truncate")) {
            result(cmd, a, truncate(a, atol(argv[i + 1])));
            i += 2;
        } else if (!strcmp(cmd, "utimes")) {
            struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
            result(cmd, a, utimes(a, tv));
            i++;
        } else if (!strcmp(cmd, "rmdir")) {
            result(cmd, a, rmdir(a));
            i++;
        } else if (!strcmp(cmd, "statfs")) {
            struct statfs sf;
            result(cmd, a, statfs(a, &sf));
            i++;
        } else if (!strcmp(cmd, "setxattr") || !strcmp(cmd, "removexattr")) {
            long r = !strcmp(cmd, "setxattr")
                         ? setxattr(a, argv[i + 1], argv[i + 2], strlen(argv[i + 2]), 0)
                         : removexattr(a, argv[i + 1]);
            result(cmd, a, r);
            i += !strcmp(cmd, "setxattr") ? 3 : 2;
        } else if (!strcmp(cmd, "getxattr") || !strcmp(cmd, "listxattr")) {
            char buf[256];
            ssize_t need = !strcmp(cmd, "getxattr") ? getxattr(a, argv[i + 1], NULL, 0)
                                                    : listxattr(a, NULL, 0);
            ssize_t n = !strcmp(cmd, "getxattr") ? getxattr(a, argv[i + 1], buf, sizeof(buf))
                                                 : listxattr(a, buf, sizeof(buf));
            if (n < 0)
                result(cmd, a, n);
            else {
                for (ssize_t k = 0; k < n; k++)
                    if (!buf[k])
                        buf[k] = ',';
                printf("%s %s: need=%zd %.*s\n", cmd, a, need, (int)n, buf);
            }
            i += !strcmp(cmd, "getxattr") ? 2 : 1;
        } else if (!strcmp(cmd, "openat2")) {
            static const struct {
                char c;
                unsigned long long flag;
            } res[] = {{'b', RESOLVE_BENEATH},
                       {'r', RESOLVE_IN_ROOT},
                       {'x', RESOLVE_NO_XDEV},
                       {'m', RESOLVE_NO_MAGICLINKS},
                       {'s', RESOLVE_NO_SYMLINKS}};
            struct open_how how = {.flags = O_RDONLY};
            for (const char *f = argv[i + 2]; *f; f++)
                for (size_t k = 0; k < sizeof(res) / sizeof(res[0]); k++)
                    if (res[k].c == *f)
                        how.resolve |= res[k].flag;
            int dfd = open(a, O_RDONLY | O_DIRECTORY);
            long fd = dfd < 0 ? dfd : syscall(SYS_openat2, dfd, argv[i + 1], &how, sizeof(how));
            char both[512];
            snprintf(both, sizeof(both), "%s %s %s", a, argv[i + 1], argv[i + 2]);
            if (fd < 0)
                result(cmd, both, fd);
            else
                printf("openat2 %s: fd=%ld\n", both, fd);
            i += 3;
        } else if (!strcmp(cmd, "umask")) {
            umask((mode_t)strtol(a, NULL, 8));
            printf("umask %s: ok\n", a);
            i++;
        } else if (!strcmp(cmd, "ids")) {
            printf("ids: uid=%d gid=%d\n", (int)getuid(), (int)getgid());
        } else if (!strcmp(cmd, "pause")) {
            char line[64];
            printf("pause: waiting\n");
            if (!fgets(line, sizeof(line), stdin))
                line[0] = '\0';
            printf("pause: ok\n");
        } else if (!strcmp(cmd, "io_uring")) {
            char params[120] = {0};
            result(cmd, "", syscall(425 /* io_uring_setup */, 1, params));
        } else if (!strcmp(cmd, "x32")) {
            /* getpid through the x32 ABI: must be killed, not served. */
            result(cmd, "", syscall(0x40000000 | 39));
        } else if (!strcmp(cmd, "int80")) {
            long r;
            __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* i386 getpid */
            result(cmd, "", r);
        } else {
            fprintf(stderr, "st-helper: unknown command %s\n", cmd);
            return 2;
        }
    }
    return 0;
}
