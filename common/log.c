/* log.c: where decisions are written. */
#include "log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <syslog.h>
#include <time.h>

struct log {
    enum log_target target;
    int fd;
    pthread_mutex_t lock;
};

int log_open(enum log_target target, const char *path, struct log **ret)
{
    struct log *l = xcalloc(1, sizeof(*l));
    l->target = target;
    l->fd = -1;
    pthread_mutex_init(&l->lock, NULL);
    if (target == LOG_TO_FILE) {
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (l->fd < 0) {
            int e = errno;
            free(l);
            return -e;
        }
    } else if (target == LOG_TO_SYSLOG) {
        openlog("systrace", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
    }
    *ret = l;
    return 0;
}

void log_close(struct log *log)
{
    if (!log)
        return;
    if (log->fd >= 0)
        close(log->fd);
    if (log->target == LOG_TO_SYSLOG)
        closelog();
    pthread_mutex_destroy(&log->lock);
    free(log);
}

void log_event(struct log *log, const char *fmt, ...)
{
    if (!log)
        return;
    struct buf b = {0};
    if (log->target == LOG_TO_FILE) {
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
        buf_printf(&b, "%s systrace[%d]: ", stamp, getpid());
    } else if (log->target == LOG_TO_STDERR) {
        buf_puts(&b, "systrace: ");
    }
    size_t head = b.len;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) >= 0) {
        buf_puts(&b, msg);
        free(msg);
    }
    va_end(ap);
    if (log->target == LOG_TO_SYSLOG) {
        syslog(LOG_NOTICE, "%s", b.data + head);
    } else {
        buf_putc(&b, '\n');
        pthread_mutex_lock(&log->lock);
        write_all(log->fd >= 0 ? log->fd : STDERR_FILENO, b.data, b.len);
        pthread_mutex_unlock(&log->lock);
    }
    buf_free(&b);
}
