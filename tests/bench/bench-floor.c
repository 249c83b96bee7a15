/* bench-floor: the mechanism's floor on this machine. Runs PROG under a filter that sends every
 * fcntl and openat to a user-notification listener, answered by the simplest loop there is: one
 * thread blocked in NOTIF_RECV, SYNC_WAKE_UP set, no inspection at all. What systrace adds per
 * call is measured against this, in the same run.
 *
 *   bench-floor [--addfd] PROG [ARG…]
 *
 * Every call is answered CONTINUE; with --addfd, an openat is instead performed here and its
 * descriptor injected (ADDFD with SEND), the least a race-free supervisor does for an open: the
 * path is read once and nothing is checked. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif

static int child(char **argv, int sock)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 126;
    /* The number is announced before any notified call; the parent takes the listener. */
    int fd =
        (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0 || write(sock, &fd, sizeof(fd)) != sizeof(fd))
        return 126;
    char go;
    if (read(sock, &go, 1) != 1)
        return 126;
    close(fd);
    execvp(argv[0], argv);
    return 127;
}

/* Opens what N's openat names and injects it; 0, or -1 to answer CONTINUE instead. */
static int open_and_inject(int listener, const struct seccomp_notif *n)
{
    char path[4096];
    struct iovec local = {path, sizeof(path) - 1},
                 remote = {(void *)n->data.args[1], sizeof(path) - 1};
    ssize_t len = process_vm_readv(n->pid, &local, 1, &remote, 1, 0);
    if (len <= 0 || !memchr(path, '\0', (size_t)len))
        return -1;
    int fd = openat(AT_FDCWD, path, (int)n->data.args[2] | O_CLOEXEC, (mode_t)n->data.args[3]);
    if (fd < 0) {
        struct seccomp_notif_resp r = {.id = n->id, .error = -errno};
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
        return 0;
    }
    struct seccomp_notif_addfd a = {
        .id = n->id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (unsigned)fd};
    ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    bool addfd = argc > 1 && !strcmp(argv[1], "--addfd");
    argv += addfd;
    argc -= addfd;
    if (argc < 2)
        return 2;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(argv + 1, sv[1]));
    int number;
    if (read(sv[0], &number, sizeof(number)) != sizeof(number))
        return 1;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int listener = (int)syscall(SYS_pidfd_getfd, pidfd, number, 0);
    if (listener < 0)
        return 1;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    if (write(sv[0], "g", 1) != 1)
        return 1;
    for (;;) {
        struct seccomp_notif n;
        memset(&n, 0, sizeof(n));
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
            if (errno == EINTR)
                continue;
            break; /* ENOENT: the child and its filter are gone */
        }
        if (addfd && n.data.nr == SYS_openat && open_and_inject(listener, &n) == 0)
            continue;
        struct seccomp_notif_resp r = {.id = n.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
