/* st-storm: a signal storm against system calls, as timers, profilers and preempting runtimes
 * make one. Each round arms a one-shot timer of 1 to 11 microseconds (SIGALRM), then signals
 * itself with kill(getpid(), SIGUSR1), then waits for both signals. Both handlers are installed
 * without SA_RESTART, as Python installs its own. Natively kill never fails and no signal is
 * lost; the last line counts what went otherwise:
 *
 *   st-storm ROUNDS [CALL]    CALL: kill (default), getppid, or open (of /dev/null)
 *   -> "storm rounds=N errors=N esrch=N eintr=N other=N lost=N ms=N" */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_alarm, got_usr1;

static void on_alarm(int sig)
{
    (void)sig;
    got_alarm = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The call under the storm; for kill, it also sends the second signal. */
static long call(const char *what)
{
    if (!strcmp(what, "getppid"))
        return syscall(SYS_getppid);
    if (!strcmp(what, "open")) {
        long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            close((int)fd);
        return fd;
    }
    return kill(getpid(), SIGUSR1);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    const char *what = argc > 2 ? argv[2] : "kill";
    bool sends = !strcmp(what, "kill");
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int errors = 0, esrch = 0, eintr = 0, other = 0, lost = 0;
    long start = now_ms();
    for (int r = 0; r < rounds; r++) {
        got_alarm = got_usr1 = 0;
        struct itimerval it = {{0, 0}, {0, 1 + r % 11}};
        setitimer(ITIMER_REAL, &it, NULL);
        if (call(what) < 0) {
            errors++;
            if (errno == ESRCH)
                esrch++;
            else if (errno == EINTR)
                eintr++;
            else
                other++;
        }
        /* Both signals, or 50 ms: one that has not come by then never will (a sent signal
         * comes within microseconds). */
        long deadline = now_ms() + 50;
        while (!(got_alarm && (got_usr1 || !sends)) && now_ms() < deadline) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        if (!got_alarm || (sends && !got_usr1))
            lost++;
    }
    printf("storm rounds=%d errors=%d esrch=%d eintr=%d other=%d lost=%d ms=%ld\n", rounds, errors,
           esrch, eintr, other, lost, now_ms() - start);
    return 0;
}
