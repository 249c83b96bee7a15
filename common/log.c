/* log.c: where decisions are written. A program that loops on a denied call must not fill the
 * disk: the same line is written at most BURST times a second, then counted, and the count is
 * written when that second is over (at the line's next occurrence or another's in its slot, or
 * at the close). A program that makes a different denied call each time is held to a volume:
 * VOLUME_BURST lines at once, then VOLUME_RATE a second; what is held back is counted and the
 * count written with the next line let through (or at the close). Each view of a log (one a
 * daemon session) has its own limits and shares the sink. */
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

#define VOLUME_BURST 1000
#define VOLUME_RATE  100

/* The lines seen lately, by hash. */
struct recent {
    char *text;
    uint64_t window_start;
    unsigned count;      /* in this window */
    unsigned suppressed; /* not written in this window */
};

struct log {
    struct log *sink; /* where lines go: itself, or the log this is a view of */
    char *name;       /* a view's, at the start of its own lines ("session 3") */
    enum log_target target;
    int fd;
    pthread_mutex_t lock; /* the fields below, and the sink's writes */
    struct recent recent[SLOTS];
    double tokens;      /* lines that may be written now (up to VOLUME_BURST) */
    uint64_t refill_ns; /* when TOKENS was last topped up */
    unsigned long held; /* lines not written for the volume since the last one written */
    uint64_t closed_ns; /* the volume ran out then: nothing for a second (one count a second) */
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
    l->sink = l;
    l->target = target;
    l->fd = -1;
    l->tokens = VOLUME_BURST;
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

struct log *log_view(struct log *log, const char *name)
{
    struct log *v = xcalloc(1, sizeof(*v));
    v->sink = log->sink;
    v->name = xstrdup(name);
    v->target = log->target;
    v->fd = -1;
    v->tokens = VOLUME_BURST;
    pthread_mutex_init(&v->lock, NULL);
    return v;
}

/* Writes how many lines the volume held back, if any; LOG->lock held. */
static void flush_held(struct log *log)
{
    if (!log->held)
        return;
    _cleanup_free_ char *line =
        xasprintf("%s%s%lu lines held back, not written: more than %u lines a second",
                  log->name ? log->name : "", log->name ? ": " : "", log->held, VOLUME_RATE);
    log->held = 0;
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
    flush_held(log);
    pthread_mutex_unlock(&log->lock);
    if (log->sink == log) {
        if (log->fd >= 0)
            close(log->fd);
        if (log->target == LOG_TO_SYSLOG)
            closelog();
    }
    pthread_mutex_destroy(&log->lock);
    free(log->name);
    free(log);
}

/* One line, with the target's prefix, to LOG's sink; LOG->lock held. */
static void write_line(struct log *view, const char *text)
{
    struct log *log = view->sink;
    if (log != view)
        pthread_mutex_lock(&log->lock);
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
    if (log != view)
        pthread_mutex_unlock(&log->lock);
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
    if (++r->count > BURST) {
        r->suppressed++;
        return false;
    }
    log->tokens += (double)(now - log->refill_ns) * VOLUME_RATE / WINDOW_NS;
    if (log->tokens > VOLUME_BURST)
        log->tokens = VOLUME_BURST;
    log->refill_ns = now;
    if (log->tokens < 1 && !log->closed_ns)
        log->closed_ns = now;
    if (log->closed_ns && now - log->closed_ns < WINDOW_NS) {
        log->held++;
        return false;
    }
    log->closed_ns = 0;
    log->tokens -= 1;
    flush_held(log);
    return true;
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
