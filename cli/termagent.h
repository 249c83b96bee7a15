/* termagent.h: an org.systrace.Agent1 on a terminal, for `systracectl attach` and
 * `systracectl monitor --answer`: questions from systraced are shown one at a time, in the order
 * they came, answered at an "Answer:" prompt with the answers of `systrace -t`, and sent back
 * with Daemon1.Answer. Run from a struct loop with the connection attached to it. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>

#include "loop.h"

struct termagent;

struct termagent_options {
    DBusConnection *conn;
    struct loop *loop;
    int in_fd, out_fd;   /* the person's terminal (or a pipe, for scripts) */
    const char *path;    /* the agent's object path */
    const char *daemon;  /* the daemon's unique name: only it may ask */
    const char *session; /* the session attached to, or NULL */
};

int termagent_new(const struct termagent_options *o, struct termagent **ret);
void termagent_free(struct termagent *ta);
/* Writes S to the terminal with every control character shown as \xHH (S is hostile). */
void term_write_safe(int fd, const char *s);
