/* st-supervise: a launcher for the D-Bus tests: starts COMMAND under a filter that notifies its
 * mkdir calls and its execs (everything else runs), hands the listener and a pidfd of the child to
 * systraced with Supervise, lets the child run, and exits with its status. It prints "session PATH"
 * once the daemon took the session, or "error NAME: MESSAGE" and exits 3 when it did not.
 *
 *   st-supervise [--mode M] [--policy-dir D] [--pidfd-of PID] [--not-listener] [--killable]
 *                [--bad-options wrong-type|huge-string|many-entries|unknown-key|duplicate]
 *                -- COMMAND [ARGS…]
 *
 * --killable loads the filter with WAIT_KILLABLE_RECV, as systrace's own launcher does: a call
 * whose notification was received waits for its answer through signals and ptrace interrupts.
 *
 * --pidfd-of hands over a pidfd of another process instead of the child's; --not-listener an fd
 * of /dev/null instead of the listener: the tests' forgeries. */
#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "st-supervise: %s: %s\n", what, strerror(errno));
    exit(4);
}

static void send_fd(int sock, int fd)
{
    char c = 'L';
    struct iovec iov = {&c, 1};
    char ctrl[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (sendmsg(sock, &mh, 0) < 0)
        die("sendmsg");
}

static int recv_fd(int sock)
{
    char c;
    struct iovec iov = {&c, 1};
    char ctrl[CMSG_SPACE(sizeof(int))];
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
        die("recvmsg");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* CTX loaded with seccomp(2) itself, for a flag libseccomp may not know; its listener. */
static int load_killable(scmp_filter_ctx ctx)
{
    int mfd = memfd_create("st-supervise-bpf", MFD_CLOEXEC);
    if (mfd < 0 || seccomp_export_bpf(ctx, mfd) < 0)
        return -1;
    off_t len = lseek(mfd, 0, SEEK_END);
    struct sock_filter *insns = malloc((size_t)len);
    if (!insns || pread(mfd, insns, (size_t)len, 0) != len)
        return -1;
    struct sock_fprog prog = {(unsigned short)(len / sizeof(*insns)), insns};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                        SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                        &prog);
}

static void add_string(DBusMessageIter *dict, const char *key, const char *value)
{
    DBusMessageIter e, v;
    dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
    dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "s", &v);
    dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &value);
    dbus_message_iter_close_container(&e, &v);
    dbus_message_iter_close_container(dict, &e);
}

static void add_int(DBusMessageIter *dict, const char *key, int value)
{
    DBusMessageIter e, v;
    dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
    dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "i", &v);
    dbus_message_iter_append_basic(&v, DBUS_TYPE_INT32, &value);
    dbus_message_iter_close_container(&e, &v);
    dbus_message_iter_close_container(dict, &e);
}

int main(int argc, char **argv)
{
    const char *mode = "ask", *policy_dir = NULL, *bad = NULL;
    long pidfd_of = 0;
    int not_listener = 0, killable = 0, i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--policy-dir") && i + 1 < argc)
            policy_dir = argv[++i];
        else if (!strcmp(argv[i], "--pidfd-of") && i + 1 < argc)
            pidfd_of = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--not-listener"))
            not_listener = 1;
        else if (!strcmp(argv[i], "--killable"))
            killable = 1;
        else if (!strcmp(argv[i], "--bad-options") && i + 1 < argc)
            bad = argv[++i];
        else {
            fprintf(stderr, "st-supervise: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: st-supervise [OPTIONS] -- COMMAND [ARGS…]\n");
        return 2;
    }
    char **command = argv + i + 1;
    char program[4096];
    if (!realpath(command[0], program))
        die(command[0]);

    int sv[2], go[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(go, O_CLOEXEC) < 0)
        die("socketpair");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mkdir), 0);
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mkdirat), 0);
        /* As every launcher's filter: the engine settles each exec (until the first, the child
         * runs the launcher's code and is let through). */
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
        int listener = -1;
        if (killable)
            listener = load_killable(ctx);
        else if (seccomp_load(ctx) == 0)
            listener = seccomp_notify_fd(ctx);
        if (listener < 0)
            _exit(120);
        send_fd(sv[1], listener);
        close(listener);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(121);
        execv(program, command);
        _exit(127);
    }
    close(go[0]);
    int listener = recv_fd(sv[0]);
    int pidfd = (int)syscall(SYS_pidfd_open, pidfd_of ? (pid_t)pidfd_of : child, 0);
    if (pidfd < 0)
        die("pidfd_open");
    if (not_listener) {
        close(listener);
        listener = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }

    DBusError err;
    dbus_error_init(&err);
    DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
    if (!conn) {
        printf("error %s: %s\n", err.name, err.message);
        kill(child, SIGKILL);
        return 3;
    }
    DBusMessage *m = dbus_message_new_method_call("org.systrace.Daemon1", "/org/systrace/Daemon1",
                                                  "org.systrace.Daemon1", "Supervise");
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    dbus_message_iter_append_basic(&it, DBUS_TYPE_UNIX_FD, &listener);
    dbus_message_iter_append_basic(&it, DBUS_TYPE_UNIX_FD, &pidfd);
    dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
    add_string(&dict, "mode", mode);
    add_string(&dict, "program", program);
    if (policy_dir)
        add_string(&dict, "policy-dir", policy_dir);
    if (bad && !strcmp(bad, "wrong-type"))
        add_int(&dict, "inherit", 1);
    if (bad && !strcmp(bad, "unknown-key"))
        add_string(&dict, "no-such-option", "x");
    if (bad && !strcmp(bad, "duplicate"))
        add_string(&dict, "mode", mode);
    if (bad && !strcmp(bad, "huge-string")) {
        size_t n = 1u << 20;
        char *huge = malloc(n + 1);
        memset(huge, 'a', n);
        huge[n] = '\0';
        add_string(&dict, "policy-dir", huge);
        free(huge);
    }
    if (bad && !strcmp(bad, "many-entries"))
        for (int k = 0; k < 10000; k++)
            add_string(&dict, "argv", "x");
    dbus_message_iter_close_container(&it, &dict);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, m, 30000, &err);
    dbus_message_unref(m);
    close(listener);
    close(pidfd);
    if (!reply) {
        printf("error %s: %s\n", err.name, err.message);
        fflush(stdout);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 3;
    }
    const char *path;
    dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    printf("session %s\n", path);
    fflush(stdout);
    if (write(go[1], "g", 1) != 1)
        die("write");
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
