/* notify.h: the seccomp user-notification ioctls on a listener fd (seccomp_unotify(2)), raw,
 * because libseccomp 2.5.4 wraps them incompletely. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Waits for the next notification (blocking). -EINTR when a signal interrupted the wait,
 * -ENOENT when the target died before it was read. */
int notify_recv(int listener, struct seccomp_notif *ret);
/* Whether request ID is still pending: the task is alive and still in that call. */
bool notify_id_valid(int listener, uint64_t id);
/* Lets the call run in the kernel as the target asked. Only for decisions that did not depend on
 * pointer memory. */
int notify_continue(int listener, uint64_t id);
/* Fails the call with -ERR (ERR > 0), or returns VAL (ERR == 0) without running it. */
int notify_return(int listener, uint64_t id, int64_t val, int err);
/* Installs FD in the target and makes the call return its number (ADDFD with SEND). */
int notify_addfd_send(int listener, uint64_t id, int fd, uint32_t newfd_flags);
/* Whether no process uses the filter any more (the listener polls as hung up with nothing to
 * receive): NOTIF_RECV then fails at once with ENOENT, forever. */
bool notify_listener_idle_forever(int listener);
/* Asks the kernel to wake the supervisor on the same CPU (6.6+); -EINVAL where unsupported. */
int notify_set_sync_wakeup(int listener);
