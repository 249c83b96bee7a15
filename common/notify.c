/* notify.c: thin wrappers over the listener ioctls, returning -errno. */
#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>

int notify_recv(int listener, struct seccomp_notif *ret)
{
    memset(ret, 0, sizeof(*ret)); /* the kernel insists on a zeroed buffer */
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, ret) < 0 ? -errno : 0;
}

bool notify_id_valid(int listener, uint64_t id)
{
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static int send_resp(int listener, struct seccomp_notif_resp *resp)
{
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 ? -errno : 0;
}

int notify_continue(int listener, uint64_t id)
{
    struct seccomp_notif_resp resp = {.id = id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
    return send_resp(listener, &resp);
}

int notify_return(int listener, uint64_t id, int64_t val, int err)
{
    struct seccomp_notif_resp resp = {.id = id, .val = err ? 0 : val, .error = err ? -err : 0};
    return send_resp(listener, &resp);
}

int notify_addfd_send(int listener, uint64_t id, int fd, uint32_t newfd_flags)
{
    struct seccomp_notif_addfd addfd = {
        .id = id,
        .flags = SECCOMP_ADDFD_FLAG_SEND,
        .srcfd = (uint32_t)fd,
        .newfd_flags = newfd_flags,
    };
    int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
    return r < 0 ? -errno : r;
}

bool notify_listener_idle_forever(int listener)
{
    struct pollfd p = {listener, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

int notify_set_sync_wakeup(int listener)
{
    uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) < 0 ? -errno : 0;
}
