/* guardian.c: the tree's subreaper, which kills it when the supervisor is gone (guardian.h).
 * Forked from a process with threads: only async-signal-safe calls, no allocation. */
#include "guardian.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static bool write_int(int fd, int value)
{
    ssize_t n;
    do
        n = write(fd, &value, sizeof(value));
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(value);
}

/* Sends SIGKILL to each child of the guardian (single-threaded: its thread's children). */
static void kill_children(void)
{
    int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    long pid = 0;
    bool in_number = false;
    for (ssize_t got; (got = read(fd, buf, sizeof(buf))) > 0;)
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = pid * 10 + (buf[i] - '0');
                in_number = true;
            } else if (in_number) {
                kill((pid_t)pid, SIGKILL);
                pid = 0;
                in_number = false;
            }
        }
    if (in_number)
        kill((pid_t)pid, SIGKILL);
    close(fd);
}

/* The supervisor is gone: every process of the tree dies. Killing the children makes their
 * children the guardian's (it is the subreaper), killed in the next round, until none is left. */
static _Noreturn void kill_tree(void)
{
    for (;;) {
        kill_children();
        int status;
        if (waitpid(-1, &status, __WALL) < 0 && errno == ECHILD)
            _exit(128 + SIGKILL);
    }
}

static int status_of(int wstatus)
{
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

_Noreturn void guardian_main(int launcher_fd, void (*start)(void *data), void *data)
{
    /* No signal of the terminal's or the tree's: only the launcher ends it, by going away. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_NAME, (unsigned long)"systrace-guard", 0, 0, 0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t child = fork();
    if (child == 0) {
        close(launcher_fd);
        start(data);
        _exit(126);
    }
    if (!write_int(launcher_fd, child < 0 ? -errno : child) || child < 0)
        _exit(126);
    /* Nothing of the launcher's stays open here (its terminal, its pipes, the program's report
     * pipe, whose end of file says the exec worked): only the socket, as 0, and the signalfd. */
    dup2(launcher_fd, 0);
    launcher_fd = 0;
    if (sfd >= 0) {
        dup2(sfd, 1);
        sfd = 1;
    }
    syscall(SYS_close_range, 2, ~0u, 0);
    char ack;
    ssize_t got;
    do
        got = read(launcher_fd, &ack, 1);
    while (got < 0 && errno == EINTR);
    if (got != 1)
        kill_tree();
    int status = -1;
    for (;;) {
        struct pollfd p[2] = {{launcher_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(p, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
            kill_tree();
        if (p[0].revents) /* the launcher never writes again: end of file, it is gone */
            kill_tree();
        struct signalfd_siginfo si;
        while (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        }
        for (;;) {
            int ws;
            pid_t pid = waitpid(-1, &ws, WNOHANG | __WALL);
            if (pid > 0) {
                if (pid == child)
                    status = status_of(ws);
                continue;
            }
            if (pid < 0 && errno == ECHILD && status >= 0) {
                write_int(launcher_fd, status);
                _exit(status);
            }
            break;
        }
    }
}
