/* attack: races the supervisor from inside a supervised program. Each mode makes many attempts
 * and prints "attempts=N ok=K escapes=E": an escape is a forbidden object reached.
 *
 *   open-flip GOOD BAD N        one thread opens a path another keeps flipping GOOD <-> BAD
 *   open-loop PATH N            opens PATH (whose directory another process swaps) N times
 * A forbidden file starts with the letter 'X', and the attacker tells by reading what it opened
 * (read needs no check; a stat of the forbidden file would be refused).
 *   swap DIR OTHER              (unsupervised) exchanges DIR and OTHER forever
 *   connect-flip GOOD BAD N     connects to 127.0.0.1 while the port flips GOOD <-> BAD
 *   exec-flip GOOD BAD MARK N   children exec a path flipping GOOD <-> BAD
 *   mark FILE                   (the forbidden program) appends to FILE
 *   exec-args GOOD BAD N ARGS…  children exec a path flipping GOOD <-> BAD with argv ARGS
 *   argv-flip PROG GOOD BAD N   children exec PROG say WORD, WORD flipping GOOD <-> BAD
 *   say WORD                    prints "SAID WORD"
 *   reopen-flip FILE N          reopens /proc/self/fd/10 for writing while another thread
 *                               dup2s a pipe or FILE (opened read-only) onto 10
 *   pid-reuse GOOD FILE         GOOD (which may read FILE) runs and exits; this program forks
 *                               until a child gets GOOD's pid, which tries to read FILE
 *   open-exit FILE              opens FILE, says whether it could
 *   chdir-flip GOOD BAD N       children chdir to a path flipping GOOD <-> BAD, then open "f"
 *                               there (a forbidden one starts with 'X')
 *   straddle N                  opens a path across a page that another thread unmaps
 *   alarm-storm DIR N           exclusive creates under a 1 ms SIGALRM
 *   kill-storm N                children killed in the middle of their calls */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;

static void report(long attempts, long ok, long escapes)
{
    printf("attempts=%ld ok=%ld escapes=%ld\n", attempts, ok, escapes);
}

struct flip {
    char *buf;
    const void *a, *b;
    size_t len;
};

static void *flipper(void *arg)
{
    struct flip *f = arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        memcpy(f->buf, f->b, f->len);
        memcpy(f->buf, f->a, f->len);
    }
    return NULL;
}

/* Whether FD is a forbidden file: its content starts with 'X'. */
static bool forbidden(int fd)
{
    char c = 0;
    return pread(fd, &c, 1, 0) == 1 && c == 'X';
}

/* Opens PATH N times, counting forbidden files reached and permitted ones opened. */
static void open_many(const char *path, long n, long *ok, long *escapes)
{
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        if (forbidden(fd))
            (*escapes)++;
        else
            (*ok)++;
        close(fd);
    }
}

static int open_flip(const char *good, const char *bad, long n)
{
    size_t len = strlen(good) + 1;
    if (strlen(bad) + 1 != len) {
        fprintf(stderr, "attack: GOOD and BAD must have the same length\n");
        return 2;
    }
    char *buf = malloc(len);
    memcpy(buf, good, len);
    struct flip f = {buf, good, bad, len};
    pthread_t t;
    pthread_create(&t, NULL, flipper, &f);
    long ok = 0, escapes = 0;
    open_many(buf, n, &ok, &escapes);
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    report(n, ok, escapes);
    return 0;
}

static int open_loop(const char *path, long n)
{
    long ok = 0, escapes = 0;
    open_many(path, n, &ok, &escapes);
    report(n, ok, escapes);
    return 0;
}

/* Opens PATH N times; every open must succeed and return PATH itself (same inode): "ok" counts
 * those, "wrong" the descriptors of anything else and the failures. */
static int open_exact(const char *path, long n)
{
    struct stat want;
    if (stat(path, &want) < 0)
        return 2;
    long ok = 0, wrong = 0;
    for (long i = 0; i < n; i++) {
        struct stat got;
        int fd = open(path, O_RDONLY);
        if (fd >= 0 && fstat(fd, &got) == 0 && got.st_dev == want.st_dev &&
            got.st_ino == want.st_ino)
            ok++;
        else
            wrong++;
        if (fd >= 0)
            close(fd);
    }
    printf("attempts=%ld ok=%ld escapes=0 wrong=%ld\n", n, ok, wrong);
    return 0;
}

static _Noreturn void swap(const char *a, const char *b)
{
    for (;;)
        syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
}

static int connect_flip(int good, int bad, long n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)good)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct sockaddr_in b = a;
    b.sin_port = htons((uint16_t)bad);
    struct sockaddr_in *buf = malloc(sizeof(*buf));
    *buf = a;
    struct flip f = {(char *)buf, &a, &b, sizeof(a)};
    pthread_t t;
    pthread_create(&t, NULL, flipper, &f);
    long ok = 0, escapes = 0;
    for (long i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            continue;
        if (connect(s, (struct sockaddr *)buf, sizeof(*buf)) == 0) {
            struct sockaddr_in peer;
            socklen_t len = sizeof(peer);
            if (getpeername(s, (struct sockaddr *)&peer, &len) == 0 && ntohs(peer.sin_port) == bad)
                escapes++;
            else
                ok++;
        }
        close(s);
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    report(n, ok, escapes);
    return 0;
}

static int exec_flip(const char *good, const char *bad, const char *mark, long n)
{
    size_t len = strlen(good) + 1;
    if (strlen(bad) + 1 != len)
        return 2;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *buf = malloc(len);
            memcpy(buf, good, len);
            struct flip f = {buf, good, bad, len};
            pthread_t t;
            pthread_create(&t, NULL, flipper, &f);
            char *argv[] = {buf, "mark", (char *)mark, NULL};
            execv(buf, argv);
            _exit(126);
        }
        int st;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
    }
    struct stat st;
    long escapes = stat(mark, &st) == 0 ? (long)st.st_size : 0;
    report(n, ok, escapes);
    return 0;
}

static int mark(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d\n", getpid());
    if (fd >= 0 && write(fd, pid, strlen(pid)) > 0)
        return 0;
    return 1;
}

/* Children exec BUF (flipping GOOD <-> BAD) with ARGS; what a forbidden program does shows in
 * the output it writes (the test counts it). */
static int exec_args(const char *good, const char *bad, long n, char **args, int n_args)
{
    size_t len = strlen(good) + 1;
    if (strlen(bad) + 1 != len)
        return 2;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *buf = malloc(len);
            memcpy(buf, good, len);
            struct flip f = {buf, good, bad, len};
            pthread_t t;
            pthread_create(&t, NULL, flipper, &f);
            char **argv = calloc((size_t)n_args + 2, sizeof(*argv));
            argv[0] = buf;
            for (int k = 0; k < n_args; k++)
                argv[k + 1] = args[k];
            execv(buf, argv);
            _exit(126);
        }
        int st;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
    }
    report(n, ok, 0);
    return 0;
}

/* Children exec PROG say WORD with WORD flipping GOOD <-> BAD in memory. */
static int argv_flip(const char *prog, const char *good, const char *bad, long n)
{
    size_t len = strlen(good) + 1;
    if (strlen(bad) + 1 != len)
        return 2;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *buf = malloc(len);
            memcpy(buf, good, len);
            struct flip f = {buf, good, bad, len};
            pthread_t t;
            pthread_create(&t, NULL, flipper, &f);
            char *argv[] = {(char *)prog, "say", buf, NULL};
            execv(prog, argv);
            _exit(126);
        }
        int st;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
    }
    report(n, ok, 0);
    return 0;
}

struct reopen {
    int pipe_w, file_ro;
};

static void *dup_flipper(void *arg)
{
    struct reopen *r = arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        dup2(r->file_ro, 10);
        dup2(r->pipe_w, 10);
    }
    return NULL;
}

/* Reopens /proc/self/fd/10 for writing while descriptor 10 flips between a pipe (whose writing
 * the policy permits) and FILE, which it may only read: reaching FILE for writing escapes. */
static int reopen_flip(const char *file, long n)
{
    int p[2];
    if (pipe(p) < 0)
        return 2;
    struct reopen r = {p[1], open(file, O_RDONLY)};
    if (r.file_ro < 0)
        return 2;
    struct stat target;
    fstat(r.file_ro, &target);
    dup2(p[1], 10);
    pthread_t t;
    pthread_create(&t, NULL, dup_flipper, &r);
    long ok = 0, escapes = 0;
    char drain[4096];
    for (long i = 0; i < n; i++) {
        int fd = open("/proc/self/fd/10", O_WRONLY | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_dev == target.st_dev && st.st_ino == target.st_ino)
            escapes++;
        else
            ok++;
        close(fd);
        if (read(p[0], drain, 0) < 0) {
        }
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    report(n, ok, escapes);
    return 0;
}

/* GOOD (another program, whose policy may read FILE) runs in a child and exits; then this program
 * (whose policy may not) forks until a child gets that pid, which tries to read FILE: a
 * supervisor that kept what it knew of a pid after the process ended would let it. */
static int pid_reuse(const char *good, const char *file)
{
    pid_t target = fork();
    if (target == 0) {
        execl(good, good, "open-exit", file, (char *)NULL);
        _exit(126);
    }
    int st;
    if (target < 0 || waitpid(target, &st, 0) != target)
        return 2;
    /* A root attacker need not wrap the pid space: the next pid can be set. */
    int last = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
    for (long i = 0; i < 200000; i++) {
        char next[32];
        int n = snprintf(next, sizeof(next), "%d", target - 1);
        if (last >= 0 && pwrite(last, next, (size_t)n, 0) < 0) {
        }
        pid_t pid = fork();
        if (pid == 0) {
            if (getpid() != target)
                _exit(0);
            int fd = open(file, O_RDONLY);
            /* ok: refused, as this program's policy says; an escape: read */
            report(i + 1, fd < 0 ? 1 : 0, fd >= 0 ? 1 : 0);
            _exit(0);
        }
        if (pid < 0 || waitpid(pid, &st, 0) < 0)
            break;
        if (pid == target)
            return 0;
    }
    printf("pid %d never came back\n", target);
    return 1;
}

/* Children chdir to a path flipping GOOD <-> BAD and open "f" relative to where they went:
 * exit 3 for a forbidden file reached, 0 for the permitted one. */
static int chdir_flip(const char *good, const char *bad, long n)
{
    size_t len = strlen(good) + 1;
    if (strlen(bad) + 1 != len)
        return 2;
    long ok = 0, escapes = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *buf = malloc(len);
            memcpy(buf, good, len);
            struct flip f = {buf, good, bad, len};
            pthread_t t;
            pthread_create(&t, NULL, flipper, &f);
            if (chdir(buf) < 0)
                _exit(1);
            int fd = open("f", O_RDONLY);
            _exit(fd < 0 ? 1 : forbidden(fd) ? 3 : 0);
        }
        int st;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) {
            ok += WEXITSTATUS(st) == 0;
            escapes += WEXITSTATUS(st) == 3;
        }
    }
    report(n, ok, escapes);
    return 0;
}

/* Opens FILE, says whether it could, and exits. */
static int open_exit(const char *file)
{
    int fd = open(file, O_RDONLY);
    printf("open-exit %s: %s\n", file, fd >= 0 ? "ok" : "refused");
    return 0;
}

struct straddle {
    char *page2;
    long size;
};

static void *unmapper(void *arg)
{
    struct straddle *s = arg;
    while (!atomic_load(&stop)) {
        munmap(s->page2, (size_t)s->size);
        void *p = mmap(s->page2, (size_t)s->size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == s->page2)
            strcpy(s->page2, "hostname");
    }
    return NULL;
}

static int straddle(long n)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p =
        mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *start = p + page - 5;
    memcpy(start, "/etc/", 5);
    strcpy(p + page, "hostname");
    struct straddle s = {p + page, page};
    pthread_t t;
    pthread_create(&t, NULL, unmapper, &s);
    long ok = 0, fault = 0;
    for (long i = 0; i < n; i++) {
        int fd = (int)syscall(SYS_openat, AT_FDCWD, start, O_RDONLY);
        if (fd >= 0) {
            ok++;
            close(fd);
        } else if (errno == EFAULT) {
            fault++;
        }
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    printf("faults=%ld ", fault);
    report(n, ok, 0);
    return 0;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static int alarm_storm(const char *dir, long n)
{
    int before = count_fds();
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    long ok = 0, escapes = 0;
    char name[4096];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s/f%ld", dir, i);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            ok++;
            close(fd);
        } else if (errno == EEXIST) {
            escapes++; /* the create ran twice: a duplicate side effect */
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    int leaked = count_fds() - before;
    printf("alarms=%d leaked=%d ", (int)alarms, leaked);
    report(n, ok, escapes + (leaked > 0 ? leaked : 0));
    return 0;
}

static int kill_storm(long n)
{
    srand((unsigned)getpid());
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) {
                int fd = open("/etc/hostname", O_RDONLY);
                if (fd >= 0)
                    close(fd);
            }
        }
        struct timespec ts = {0, (rand() % 2000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    int fd = open("/etc/hostname", O_RDONLY);
    report(n, fd >= 0 ? 1 : 0, 0);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && !strcmp(argv[1], "open-flip"))
        return open_flip(argv[2], argv[3], atol(argv[4]));
    if (argc >= 4 && !strcmp(argv[1], "open-loop"))
        return open_loop(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "open-exact"))
        return open_exact(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "swap"))
        swap(argv[2], argv[3]);
    if (argc >= 5 && !strcmp(argv[1], "connect-flip"))
        return connect_flip(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
    if (argc >= 6 && !strcmp(argv[1], "exec-flip"))
        return exec_flip(argv[2], argv[3], argv[4], atol(argv[5]));
    if (argc >= 3 && !strcmp(argv[1], "mark"))
        return mark(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "exec-args"))
        return exec_args(argv[2], argv[3], atol(argv[4]), argv + 5, argc - 5);
    if (argc >= 6 && !strcmp(argv[1], "argv-flip"))
        return argv_flip(argv[2], argv[3], argv[4], atol(argv[5]));
    if (argc >= 3 && !strcmp(argv[1], "say"))
        return printf("SAID %s\n", argv[2]) < 0;
    if (argc >= 4 && !strcmp(argv[1], "reopen-flip"))
        return reopen_flip(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "pid-reuse"))
        return pid_reuse(argv[2], argv[3]);
    if (argc >= 5 && !strcmp(argv[1], "chdir-flip"))
        return chdir_flip(argv[2], argv[3], atol(argv[4]));
    if (argc >= 3 && !strcmp(argv[1], "open-exit"))
        return open_exit(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "straddle"))
        return straddle(atol(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "alarm-storm"))
        return alarm_storm(argv[2], atol(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "kill-storm"))
        return kill_storm(atol(argv[2]));
    fprintf(stderr, "attack: bad arguments\n");
    return 2;
}
