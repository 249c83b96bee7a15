/* st-inject: the attach engine (common/inject.c) alone, for its live test: puts process PID under
 * a filter that notifies the calls named and allows every other, then answers each notification
 * (CONTINUE, or EACCES with --deny), printing "notified NAME TID", until no process uses the
 * filter. Prints "attached threads=N nnp=0|1" or "error ERRNO MESSAGE" (exit 1). */
#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "inject.h"
#include "notify.h"

int main(int argc, char **argv)
{
    int first = 1;
    bool deny = argc > 1 && strcmp(argv[1], "--deny") == 0;
    first += deny;
    if (argc < first + 1) {
        fprintf(stderr, "usage: st-inject [--deny] PID [SYSCALL...]\n");
        return 2;
    }
    pid_t pid = (pid_t)strtol(argv[first], NULL, 10);
    struct filter_plan plan;
    memset(&plan, 0, sizeof(plan));
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++)
        plan.action[nr] = FILTER_ALLOW;
    for (int i = first + 1; i < argc; i++) {
        int nr = seccomp_syscall_resolve_name(argv[i]);
        if (nr < 0 || nr >= SYS_NR_LIMIT) {
            fprintf(stderr, "unknown call %s\n", argv[i]);
            return 2;
        }
        plan.action[nr] = FILTER_NOTIFY;
    }
    struct sock_fprog prog;
    if (filter_compile(&plan, &prog) < 0)
        return 2;
    struct inject_result res;
    char *error = NULL;
    int r = inject_filter(pid, &prog, &res, &error);
    if (r < 0) {
        printf("error %s %s\n", strerrorname_np(-r), error);
        return 1;
    }
    printf("attached threads=%u nnp=%d\n", res.threads, res.no_new_privs_set);
    fflush(stdout);
    for (;;) {
        struct pollfd p = {.fd = res.listener, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 || !(p.revents & POLLIN))
            break;
        struct seccomp_notif n;
        if (notify_recv(res.listener, &n) < 0)
            continue;
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, n.data.nr);
        printf("notified %s %u\n", name ? name : "?", n.pid);
        fflush(stdout);
        free(name);
        if (deny)
            notify_return(res.listener, n.id, 0, EACCES);
        else
            notify_continue(res.listener, n.id);
    }
    return 0;
}
