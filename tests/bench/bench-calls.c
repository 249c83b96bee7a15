/* bench-calls: times one kind of system call in a loop and prints "ns=<nanoseconds per call>".
 *
 *   getppid N       a call the policy permits unconditionally (decided in the kernel)
 *   fcntl-getfd N   a call the supervisor decides on an integer argument (CONTINUE)
 *   open N          openat + close of a permitted file (the open performed by the supervisor)
 *   fcntl-getfl N   a call the supervisor denies on an integer argument */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n = atol(argv[2]);
    const char *op = argv[1];
    const char *file = getenv("BENCH_FILE") ? getenv("BENCH_FILE") : "/etc/hostname";
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (!strcmp(op, "getppid"))
            syscall(SYS_getppid);
        else if (!strcmp(op, "fcntl-getfd"))
            fcntl(0, F_GETFD);
        else if (!strcmp(op, "fcntl-getfl"))
            fcntl(0, F_GETFL);
        else if (!strcmp(op, "open")) {
            int fd = open(file, O_RDONLY);
            if (fd >= 0)
                close(fd);
        } else
            return 2;
    }
    printf("ns=%.0f\n", (now() - t0) / (double)n);
    return 0;
}
