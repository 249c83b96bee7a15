/* launch.c: fork, credentials, no_new_privs, filter, listener hand-off, exec.
 *
 * The listener cannot be sent over a socket by the child: once the filter is loaded, its every
 * call (sendmsg included) waits for a supervisor that does not yet hold the listener. So the child
 * tells the parent, before loading the filter, which descriptor number the listener will get (the
 * lowest free one), and the parent takes it with pidfd_getfd(2). The child's execve waits until the
 * parent holds the listener and answers; the exec then closes the child's copy. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "guardian.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What the child reports on its pipe before exec; the pipe closes on a successful exec. */
struct child_report {
    int stage; /* 0: the listener fd number follows; otherwise a failed step */
    int value; /* the fd number, or the errno of the failed step */
};

enum {
    STAGE_LISTENER_FD = 0,
    STAGE_CREDENTIALS,
    STAGE_NO_NEW_PRIVS,
    STAGE_FILTER,
    STAGE_EXEC,
};

static const char *const stage_names[] = {
    [STAGE_CREDENTIALS] = "changing user and group",
    [STAGE_NO_NEW_PRIVS] = "setting no_new_privs",
    [STAGE_FILTER] = "loading the seccomp filter",
    [STAGE_EXEC] = "executing the program",
};

static bool has_cap_sys_admin(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0}};
    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

static void report(int fd, int stage, int value)
{
    struct child_report rep = {stage, value};
    if (write(fd, &rep, sizeof(rep)) < 0) {
    }
}

/* The child, between fork and exec. Only async-signal-safe calls. */
static _Noreturn void child(const struct launch_options *o, int fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    /* A session and process group of its own: kill(0, …) and its process group's signals reach
     * the program's tree, never the launcher; the terminal is no longer its controlling one, so
     * it cannot push input into the caller's shell (TIOCSTI). */
    setsid();
    /* Inherited descriptors end at the exec, but those the caller asked to keep. */
    syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
    for (size_t i = 0; i < o->n_keep_fds; i++)
        fcntl(o->keep_fds[i], F_SETFD, 0);
    if (o->set_creds) {
        if (setgroups(o->n_groups, o->groups) < 0 || setresgid(o->gid, o->gid, o->gid) < 0 ||
            setresuid(o->uid, o->uid, o->uid) < 0) {
            report(fd, STAGE_CREDENTIALS, errno);
            _exit(126);
        }
    }
    /* The parent takes the listener with pidfd_getfd, which needs the child to be dumpable;
     * exec sets dumpability anew for the program. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (!has_cap_sys_admin() && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        report(fd, STAGE_NO_NEW_PRIVS, errno);
        _exit(126);
    }
    /* The listener takes the lowest free descriptor: find it and tell the parent first. */
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe < 0) {
        report(fd, STAGE_FILTER, errno);
        _exit(126);
    }
    close(probe);
    report(fd, STAGE_LISTENER_FD, probe);
    int listener = filter_load(o->filter);
    if (listener < 0) {
        report(fd, STAGE_FILTER, -listener);
        _exit(126);
    }
    /* From here every call not decided in the kernel waits for the supervisor. The listener is
     * close-on-exec, and execve always waits for the supervisor, so the parent holds its copy
     * before this one goes; closing it here instead could lose the only copy. */
    fcntl(listener, F_SETFD, FD_CLOEXEC);
    execv(o->path, o->argv);
    report(fd, STAGE_EXEC, errno);
    _exit(errno == ENOENT ? 127 : 126);
}

static bool read_report(int fd, struct child_report *rep)
{
    for (;;) {
        ssize_t n = read(fd, rep, sizeof(*rep));
        if (n < 0 && errno == EINTR)
            continue;
        return n == (ssize_t)sizeof(*rep);
    }
}

static int take_listener(int pidfd, int number)
{
    /* The child loads the filter right after telling us the number: wait for it to appear. */
    for (int attempt = 0; attempt < 100000; attempt++) {
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, number, 0);
        if (fd >= 0)
            return fd;
        if (errno != EBADF)
            return -errno;
        struct pollfd p = {pidfd, POLLIN, 0};
        if (poll(&p, 1, 0) > 0)
            return -ECHILD; /* the child died before loading the filter */
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    return -ETIMEDOUT;
}

struct child_args {
    const struct launch_options *o;
    int report_fd;
};

static void start_child(void *data)
{
    struct child_args *a = data;
    child(a->o, a->report_fd);
}

static bool read_int(int fd, int *value)
{
    ssize_t n;
    do
        n = read(fd, value, sizeof(*value));
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*value);
}

int launch_spawn(const struct launch_options *o, struct launch_child *ret, char **ret_error)
{
    int pipefd[2], guard[2];
    *ret = (struct launch_child){
        .pid = -1, .pidfd = -1, .listener = -1, .report_fd = -1, .guardian = -1, .guard_fd = -1};
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, guard) < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -e;
    }
    pid_t guardian = fork();
    if (guardian < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        close(guard[0]);
        close(guard[1]);
        return -e;
    }
    if (guardian == 0) {
        close(pipefd[0]);
        close(guard[0]);
        struct child_args a = {o, pipefd[1]};
        guardian_main(guard[1], start_child, &a);
    }
    close(pipefd[1]);
    close(guard[1]);
    ret->guardian = guardian;
    ret->guard_fd = guard[0];
    int pid;
    if (!read_int(guard[0], &pid) || pid <= 0) {
        close(pipefd[0]);
        *ret_error = xstrdup("the guardian could not fork the program");
        return pid < 0 ? pid : -ECHILD;
    }
    ret->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (ret->pidfd < 0) {
        int e = errno;
        kill(pid, SIGKILL);
        close(pipefd[0]);
        *ret_error = xasprintf("pidfd_open: %s", strerror(e));
        return -e;
    }
    /* The guardian may reap the program from now on: its pid cannot name another process. */
    if (write(guard[0], "", 1) != 1) {
        int e = errno;
        kill(pid, SIGKILL);
        close(pipefd[0]);
        *ret_error = xasprintf("the guardian is gone: %s", strerror(e));
        return -e;
    }
    struct child_report rep;
    if (!read_report(pipefd[0], &rep) || rep.stage != STAGE_LISTENER_FD) {
        bool got = rep.stage > 0 && rep.stage <= STAGE_EXEC;
        *ret_error = got ? xasprintf("%s: %s", stage_names[rep.stage], strerror(rep.value))
                         : xstrdup("the child exited before loading the filter");
        close(pipefd[0]);
        return got ? -rep.value : -ECHILD;
    }
    int listener = take_listener(ret->pidfd, rep.value);
    if (listener < 0) {
        /* Maybe the filter failed to load: the child says so on the pipe. */
        if (read_report(pipefd[0], &rep) && rep.stage > 0 && rep.stage <= STAGE_EXEC)
            *ret_error = xasprintf("%s: %s", stage_names[rep.stage], strerror(rep.value));
        else
            *ret_error = xasprintf("taking the listener from the child: %s", strerror(-listener));
        kill(pid, SIGKILL);
        close(pipefd[0]);
        return listener;
    }
    ret->listener = listener;
    /* Kept to learn whether the exec worked: launch_exec_result reads it. */
    ret->pid = pid;
    ret->report_fd = pipefd[0];
    return 0;
}

int launch_exec_result(struct launch_child *c)
{
    struct child_report rep;
    int e = 0;
    if (c->report_fd >= 0 && read_report(c->report_fd, &rep) && rep.stage == STAGE_EXEC)
        e = rep.value;
    if (c->report_fd >= 0)
        close(c->report_fd);
    c->report_fd = -1;
    return e;
}

void launch_child_close(struct launch_child *c)
{
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->listener >= 0)
        close(c->listener);
    if (c->report_fd >= 0)
        close(c->report_fd);
    if (c->guard_fd >= 0)
        close(c->guard_fd);
    c->pidfd = c->listener = c->report_fd = c->guard_fd = -1;
}
