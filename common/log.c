/* log.c: where decisions are written. A program that loops on a denied call must not fill the
 * disk: the same line is written at most BURST times a second, then counted, and the count is
 * written when that second is over (at the line's next occurrence or another's in its slot, or
 * at the close). */
#include "log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdarg.h>
#include <syslog.h>
#include <time.h>

#define BURST     10
#define WINDOW_NS 1000000000ull
#define SLOTS     64

/* The lines seen lately, by hash. */
struct recent {
    char *text;
    uint64_t window_start;
    unsigned count;      /* in this window */
    unsigned suppressed; /* not written in this window */
};

struct log {
    enum log_target target;
    int fd;
    pthread_mutex_t lock; /* the fields below, and the writes */
    struct recent recent[SLOTS];
};

/* 0 when the syslog socket accepts a connection (as syslog(3) makes one), or the errno. */
static int syslog_reachable(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", _PATH_LOG);
    int e = 0;
    for (int type = SOCK_DGRAM;; type = SOCK_STREAM) {
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return errno;
        e = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
        close(fd);
        if (e != EPROTOTYPE || type == SOCK_STREAM)
            return e;
    }
}

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
        int e = syslog_reachable();
        if (e) {
            /* Minimal and container systems run no syslog daemon: a denial must not go unseen. */
            l->target = LOG_TO_STDERR;
            _cleanup_free_ char *note =
                xasprintf("systrace: syslog cannot be reached (%s: %s): the log goes to standard "
                          "error\n",
                          _PATH_LOG, strerror(e));
            write_all(STDERR_FILENO, note, strlen(note));
        } else {
            openlog("systrace", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
        }
    }
    *ret = l;
    return 0;
}

static void write_line(struct log *log, const char *text);

/* Writes how many copies of R's line were held back, if any; LOG->lock held. */
static void flush_suppressed(struct log *log, struct recent *r)
{
    if (!r->suppressed)
        return;
    _cleanup_free_ char *line = xasprintf("repeated %u more times within a second, not written: %s",
                                          r->suppressed, r->text);
    r->suppressed = 0;
    write_line(log, line);
}

void log_close(struct log *log)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < SLOTS; i++) {
        flush_suppressed(log, &log->recent[i]);
        free(log->recent[i].text);
    }
    pthread_mutex_unlock(&log->lock);
    if (log->fd >= 0)
        close(log->fd);
    if (log->target == LOG_TO_SYSLOG)
        closelog();
    pthread_mutex_destroy(&log->lock);
    free(log);
}

/* One line, with the target's prefix; LOG->lock held. */
static void write_line(struct log *log, const char *text)
{
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
    if (log->target == LOG_TO_SYSLOG) {
        syslog(LOG_NOTICE, "%s", text);
    } else {
        buf_printf(&b, "%s\n", text);
        write_all(log->fd >= 0 ? log->fd : STDERR_FILENO, b.data, b.len);
    }
    buf_free(&b);
}

/* Whether TEXT may be written now (BURST a second at most); LOG->lock held. */
static bool admit(struct log *log, const char *text)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    struct recent *r = &log->recent[hash_string(text) % SLOTS];
    if (!r->text || !streq(r->text, text) || now - r->window_start >= WINDOW_NS) {
        flush_suppressed(log, r);
        free(r->text);
        *r = (struct recent){xstrdup(text), now, 0, 0};
    }
    if (++r->count <= BURST)
        return true;
    r->suppressed++;
    return false;
}

void log_event(struct log *log, const char *fmt, ...)
{
    if (!log)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pthread_mutex_lock(&log->lock);
    if (admit(log, msg))
        write_line(log, msg);
    pthread_mutex_unlock(&log->lock);
    free(msg);
}
