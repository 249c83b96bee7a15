/* st-threads: a program with threads each waiting in a different blocking call (read on a pipe,
 * nanosleep, accept, futex), for the attach tests. It prints "ready port=N" once every thread
 * runs, "tick N" from the sleeper, and answers stdin lines: "mkdir PATH" (prints its result),
 * "connect" (makes the acceptor accept a connection), "futex" (wakes the futex waiter), "quit".
 * Any call that fails with EINTR, which none of these would natively, prints "ERROR". */
#include <errno.h>
#include <stdarg.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int listen_fd;
static atomic_uint futex_word;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_lock);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (unsigned n = 1;; n++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        /* clock_nanosleep restarts with the time left (ERESTART_RESTARTBLOCK) */
        int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
        if (r != 0)
            say("ERROR nanosleep %s", strerror(r));
        say("tick %u", n);
    }
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            say("ERROR accept %s", strerror(errno));
            continue;
        }
        say("accepted");
        close(fd);
    }
    return NULL;
}

static void *futex_waiter(void *arg)
{
    (void)arg;
    for (unsigned seen = 0;;) {
        long r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        if (r < 0 && errno == EINTR)
            say("ERROR futex EINTR");
        else if (r < 0 && errno != EAGAIN)
            say("ERROR futex %s", strerror(errno));
        if (atomic_load(&futex_word) != seen) {
            seen = atomic_load(&futex_word);
            say("futex woke %u", seen);
        }
    }
    return NULL;
}

static void connect_once(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        say("ERROR connect %s", strerror(errno));
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(listen_fd, 8) < 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("listen");
        return 1;
    }
    int port = ntohs(sa.sin_port);
    pthread_t t;
    void *(*threads[])(void *) = {sleeper, acceptor, futex_waiter};
    int extra = getenv("ST_THREADS") ? atoi(getenv("ST_THREADS")) : 0;
    for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
        pthread_create(&t, NULL, threads[i], NULL);
    for (int i = 0; i < extra; i++) /* more of each kind */
        pthread_create(&t, NULL, threads[i % 3], NULL);
    say("ready port=%d pid=%d", port, (int)getpid());
    char line[4096];
    for (;;) {
        /* read(2) on the pipe, so that an attach interrupts a read that must go on */
        ssize_t n = 0, r;
        while (n < (ssize_t)sizeof(line) - 1 && (r = read(0, line + n, 1)) == 1 && line[n] != '\n')
            n++;
        if (r < 0 && errno == EINTR)
            say("ERROR read EINTR");
        if (r <= 0 && n == 0)
            return 0;
        line[n] = '\0';
        if (strncmp(line, "mkdir ", 6) == 0) {
            int m = mkdir(line + 6, 0700);
            say("mkdir %s: %s", line + 6, m == 0 ? "ok" : strerror(errno));
        } else if (strcmp(line, "connect") == 0) {
            connect_once(port);
        } else if (strcmp(line, "futex") == 0) {
            atomic_fetch_add(&futex_word, 1);
            syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        } else if (strcmp(line, "quit") == 0) {
            return 0;
        } else {
            say("read: %s", line);
        }
    }
}
