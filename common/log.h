/* log.h: the decision log: syslog (facility authpriv, identity systrace), stderr (-e), or a file
 * (-E FILE), one line per event. Thread-safe. */
#pragma once

#include "util.h"

enum log_target {
    LOG_TO_SYSLOG,
    LOG_TO_STDERR,
    LOG_TO_FILE,
};

struct log;

/* PATH is the file for LOG_TO_FILE (appended to, created 0600). */
int log_open(enum log_target target, const char *path, struct log **ret);
/* A view of LOG with limits of its own (a session's), writing to LOG's sink; closed before LOG.
 * NAME starts the lines the view writes itself (the count of those it held back). */
struct log *log_view(struct log *log, const char *name);
void log_close(struct log *log);
/* One event; the text must not contain a newline (callers quote values from targets). */
void log_event(struct log *log, const char *fmt, ...) _printf_(2, 3);
