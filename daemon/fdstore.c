/* fdstore.c: systemd's file descriptor store, spoken directly (sd_notify's datagram protocol;
 * no libsystemd). A process attached to the daemon has no launcher holding a copy of its
 * listener: the store keeps one across a restart of the daemon, and hands it back with the
 * session's state as LISTEN_FDS. */
#include "fdstore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util.h"

#define FIRST_FD 3

bool fdstore_available(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    return path && (path[0] == '/' || path[0] == '@');
}

/* One datagram to $NOTIFY_SOCKET: TEXT, with FDS attached. */
static int notify(const char *text, const int *fds, size_t n_fds)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return -ENOENT;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract */
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct iovec iov = {(void *)text, strlen(text)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * FDSTORE_MAX_FDS)];
    } control;
    struct msghdr m = {
        .msg_name = &sa,
        .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len),
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    if (n_fds > FDSTORE_MAX_FDS)
        return -E2BIG;
    if (n_fds) {
        memset(&control, 0, sizeof(control));
        m.msg_control = control.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
    }
    return sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int fdstore_put(const char *name, const int *fds, size_t n_fds)
{
    _cleanup_free_ char *text = xasprintf("FDSTORE=1\nFDNAME=%s", name);
    return notify(text, fds, n_fds);
}

void fdstore_remove(const char *name)
{
    _cleanup_free_ char *text = xasprintf("FDSTOREREMOVE=1\nFDNAME=%s", name);
    notify(text, NULL, 0);
}

size_t fdstore_take(struct fdstore_entry **ret)
{
    *ret = NULL;
    const char *pid = getenv("LISTEN_PID"), *count = getenv("LISTEN_FDS");
    const char *names = getenv("LISTEN_FDNAMES");
    char *end;
    long n = count ? strtol(count, &end, 10) : 0;
    bool ours =
        pid && strtol(pid, NULL, 10) == (long)getpid() && count && !*end && n > 0 && n <= 4096;
    /* Not to be seen again by anything this process runs. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!ours)
        return 0;
    struct fdstore_entry *v = xcalloc((size_t)n, sizeof(*v));
    const char *p = names ? names : "";
    for (long i = 0; i < n; i++) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        v[i].fd = FIRST_FD + (int)i;
        v[i].name = xstrndup(p, len);
        fcntl(v[i].fd, F_SETFD, FD_CLOEXEC);
        p += len + (colon ? 1 : 0);
    }
    *ret = v;
    return (size_t)n;
}

void fdstore_entries_free(struct fdstore_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}
