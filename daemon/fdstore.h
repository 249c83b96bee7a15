/* fdstore.h: systemd's file descriptor store (FDSTORE=1 through $NOTIFY_SOCKET, given back as
 * LISTEN_FDS with LISTEN_FDNAMES), without libsystemd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define FDSTORE_MAX_FDS 8

/* Whether a service manager listens ($NOTIFY_SOCKET is set). */
bool fdstore_available(void);
/* Stores FDS (copies) under NAME; the service manager gives them back after a restart. */
int fdstore_put(const char *name, const int *fds, size_t n_fds);
/* Forgets every descriptor stored under NAME. */
void fdstore_remove(const char *name);

struct fdstore_entry {
    int fd;
    char *name;
};
/* The descriptors given to this process at start (LISTEN_PID is ours), close-on-exec from now
 * on, with their names; the LISTEN_ variables are removed. */
size_t fdstore_take(struct fdstore_entry **ret);
void fdstore_entries_free(struct fdstore_entry *v, size_t n);
