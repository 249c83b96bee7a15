/* execwatch.c: the exec event, as a tracer that sees nothing else.
 *
 * Right after seizing, the thread is also sent PTRACE_INTERRUPT. It waits in its notification
 * (killably: the interrupt does not wake it), and the trap stays pending: if the exec succeeds,
 * the exec event stop comes first and detaching clears the trap; if the exec fails, the trap stops
 * the thread as the call returns, which says so. Either way the watch ends at the first stop. */
#include "execwatch.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "util.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* The interpreter a "#!" line names, or NULL when the file is not a script (SCRIPT says). */
static char *script_interpreter(const char *path, bool *script)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char line[256];
    ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
    *script = n >= 2 && line[0] == '#' && line[1] == '!';
    if (!*script)
        return NULL;
    line[n] = '\0';
    char *s = line + 2;
    s += strspn(s, " \t");
    size_t len = strcspn(s, " \t\n");
    return len ? xstrndup(s, len) : NULL;
}

void exec_plan_init(struct exec_plan *plan, const char *path, const char *root_prefix,
                    const char *raw, int dirfd, bool empty, const char *argv, size_t argv_len)
{
    *plan = (struct exec_plan){0};
    plan->path = xstrdup(path);
    /* bprm->filename: the path as written, or /dev/fd/N[/path] for a descriptor-relative one. */
    if (dirfd == AT_FDCWD || raw[0] == '/')
        plan->kernel_name = xstrdup(raw);
    else if (empty)
        plan->kernel_name = xasprintf("/dev/fd/%d", dirfd);
    else
        plan->kernel_name = xasprintf("/dev/fd/%d/%s", dirfd, raw);
    _cleanup_free_ char *full = xasprintf("%s%s", root_prefix, path);
    plan->known = stat(full, &plan->file_id) == 0;
    _cleanup_free_ char *interp = script_interpreter(full, &plan->script);
    if (interp) {
        _cleanup_free_ char *ifull = xasprintf("%s%s", root_prefix, interp);
        plan->has_interp = stat(ifull, &plan->interp_id) == 0;
    }
    if (argv) {
        plan->argv = xmalloc(argv_len ? argv_len : 1);
        memcpy(plan->argv, argv, argv_len);
        plan->argv_len = argv_len;
    }
}

void exec_plan_clear(struct exec_plan *plan)
{
    free(plan->path);
    free(plan->kernel_name);
    free(plan->argv);
    *plan = (struct exec_plan){0};
}

void exec_result_clear(struct exec_result *r)
{
    free(r->program);
    free(r->why);
    *r = (struct exec_result){0};
}

int exec_seize(pid_t tid)
{
    if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0)
        return -errno;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
        int e = errno;
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return -e;
    }
    return 0;
}

/* AT_EXECFN of the stopped process PID: the kernel's copy of the auxiliary vector names where the
 * file name is, and at this stop the new program has not run to change it. */
static char *kernel_file_name(pid_t pid)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *aux = NULL;
    size_t len = 0;
    if (fd < 0 || read_fd_all(fd, 1u << 16, &aux, &len) < 0)
        return NULL;
    uint64_t where = 0;
    for (size_t off = 0; off + sizeof(Elf64_auxv_t) <= len; off += sizeof(Elf64_auxv_t)) {
        Elf64_auxv_t a;
        memcpy(&a, aux + off, sizeof(a));
        if (a.a_type == AT_EXECFN)
            where = a.a_un.a_val;
    }
    if (!where)
        return NULL;
    char name[4097];
    struct iovec local = {name, sizeof(name) - 1};
    struct iovec remote = {(void *)(uintptr_t)where, sizeof(name) - 1};
    /* The string may end before a page that is not mapped: read what can be read. */
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    while (n < 0 && remote.iov_len > 1) {
        remote.iov_len = local.iov_len = 4096 - (where % 4096);
        n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n < 0)
            break;
    }
    if (n <= 0)
        return NULL;
    name[n] = '\0';
    if (!memchr(name, '\0', (size_t)n))
        return NULL;
    return xstrdup(name);
}

/* The argument vector the kernel built for the stopped process PID (NUL-separated). */
static int kernel_argv(pid_t pid, char **ret, size_t *ret_len)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return read_fd_all(fd, 2u << 20, ret, ret_len);
}

/* Whether ARGV (as checked) is what the kernel built: the same vector for a binary; for a script,
 * the kernel's vector is the interpreter (and its one optional argument), the script's file name,
 * then the checked arguments after the first. */
static bool argv_matches(const struct exec_plan *plan, bool via_interp, const char *k, size_t kn)
{
    if (!via_interp)
        return kn == plan->argv_len && memcmp(k, plan->argv, kn) == 0;
    const char *rest = memchr(plan->argv, '\0', plan->argv_len);
    size_t rest_len = rest ? plan->argv_len - (size_t)(rest + 1 - plan->argv) : 0;
    rest = rest ? rest + 1 : plan->argv + plan->argv_len;
    size_t name_len = strlen(plan->kernel_name) + 1;
    if (kn < name_len + rest_len)
        return false;
    const char *tail = k + kn - rest_len - name_len;
    return memcmp(tail, plan->kernel_name, name_len) == 0 &&
           memcmp(tail + name_len, rest, rest_len) == 0;
}

/* Checks the stopped process PID against PLAN. Returns NULL when it loaded what was permitted,
 * else what differs. *RET_PROGRAM is what it runs. */
static char *check(pid_t pid, const struct exec_plan *plan, char **ret_program)
{
    char exe[48];
    snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
    char buf[4097];
    ssize_t n = readlink(exe, buf, sizeof(buf) - 1);
    *ret_program = n < 0 ? xstrdup("<unknown>") : xstrndup(buf, (size_t)n);
    struct stat id;
    if (stat(exe, &id) < 0)
        return xasprintf("its executable cannot be inspected: %s", strerror(errno));
    bool is_file =
        plan->known && id.st_dev == plan->file_id.st_dev && id.st_ino == plan->file_id.st_ino;
    bool is_interp = plan->script && plan->has_interp && id.st_dev == plan->interp_id.st_dev &&
                     id.st_ino == plan->interp_id.st_ino;
    if (!is_file && !is_interp)
        return xstrdup("its executable is not the file permitted");
    _cleanup_free_ char *name = kernel_file_name(pid);
    if (!name || !streq(name, plan->kernel_name))
        return xasprintf("the kernel loaded it as '%s', not as the file permitted",
                         name ? name : "?");
    if (plan->argv) {
        _cleanup_free_ char *k = NULL;
        size_t kn = 0;
        if (kernel_argv(pid, &k, &kn) < 0 || !argv_matches(plan, is_interp && !is_file, k, kn))
            return xstrdup("its arguments are not the ones checked");
    }
    free(*ret_program);
    *ret_program = xstrdup(plan->path);
    return NULL;
}

void exec_watch(pid_t tid, const struct exec_plan *plan, bool verify, exec_settle_fn settle,
                void *settle_data, struct exec_result *ret)
{
    *ret = (struct exec_result){.outcome = EXEC_GONE, .tgid = tid, .old_tid = tid};
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, __WALL | __WNOTHREAD);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return; /* nothing traced by this thread any more */
        }
        if (WIFEXITED(status) || WIFSIGNALED(status))
            return;
        if (!WIFSTOPPED(status))
            continue;
        int event = status >> 16;
        if (event == PTRACE_EVENT_EXEC) {
            unsigned long former = 0;
            if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &former) == 0 && former)
                ret->old_tid = (pid_t)former;
            ret->tgid = pid;
            ret->why = check(pid, plan, &ret->program);
            ret->outcome = ret->why ? EXEC_OTHER : EXEC_RAN;
            if (ret->why && verify) {
                /* It never runs an instruction of what it loaded. */
                kill(pid, SIGKILL);
                ptrace(PTRACE_DETACH, pid, 0, 0);
                while (waitpid(pid, &status, __WALL | __WNOTHREAD) < 0 && errno == EINTR) {
                }
                return;
            }
            /* Detached, it runs its new program at once, and its next call may reach another
             * worker before this one returns: whoever decides by the program learns it now. */
            if (settle)
                settle(settle_data, ret);
            ptrace(PTRACE_DETACH, pid, 0, 0);
            return;
        }
        if (event == PTRACE_EVENT_STOP) {
            /* The interrupt trap as the failed call returned, or a group stop, which detaching
             * leaves in place as it should. */
            ret->outcome = EXEC_FAILED;
            ptrace(PTRACE_DETACH, pid, 0, 0);
            return;
        }
        /* A signal on its way: delivered as it came. */
        ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status));
    }
}
