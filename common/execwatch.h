/* execwatch.h: settling a permitted exec at the moment it succeeds. An exec cannot be performed
 * by another process, so the supervisor lets the call run, as a tracer that asked only for the
 * exec event (PTRACE_O_TRACEEXEC: no system-call stops): the kernel stops the process once the
 * new program is loaded and before it runs one instruction, and the supervisor checks what was
 * loaded on facts the process cannot have changed yet — the executable's inode, the file name the
 * kernel used (AT_EXECFN, which tells a script exec'd by name from its interpreter exec'd with the
 * script as an argument) and, when the decision read it, the argument vector the kernel built.
 * A mismatch is killed there. A failed exec ends the watch (an interrupt trap the kernel takes
 * when the call returns); so does the process's death. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* What a permitted exec may load. */
struct exec_plan {
    char *path;        /* the resolved path permitted (in the caller's root) */
    char *kernel_name; /* the file name the kernel will use (AT_EXECFN): the path as written */
    bool known;        /* FILE_ID is the file's identity (the path existed when checked) */
    struct stat file_id;
    bool script; /* the file starts with "#!" */
    bool has_interp;
    struct stat interp_id; /* the interpreter its #! line names */
    char *argv;            /* NUL-separated arguments as checked, or NULL: not checked */
    size_t argv_len;
};

/* Fills PLAN for an exec of PATH (resolved, inside the caller's root ROOT_PREFIX) that the caller
 * wrote as RAW relative to DIRFD (AT_FDCWD, or a descriptor number for execveat, EMPTY for
 * AT_EMPTY_PATH); ARGV (NUL-separated, ARGV_LEN bytes) when a rule read the arguments. */
void exec_plan_init(struct exec_plan *plan, const char *path, const char *root_prefix,
                    const char *raw, int dirfd, bool empty, const char *argv, size_t argv_len);
void exec_plan_clear(struct exec_plan *plan);

/* Attaches to thread TID (which waits in its execve notification) for the exec event only.
 * -EPERM when it cannot be traced (another tracer, not dumpable). The calling thread becomes
 * its tracer and must be the one to call exec_watch. */
int exec_seize(pid_t tid);

enum exec_outcome {
    EXEC_RAN,    /* the exec succeeded and loaded what was permitted (ret->program) */
    EXEC_OTHER,  /* it loaded something else (ret->program, ret->why); killed if VERIFY */
    EXEC_FAILED, /* the call failed: the process goes on with its old program */
    EXEC_GONE,   /* the process ended */
};

struct exec_result {
    enum exec_outcome outcome;
    pid_t tgid;    /* the process, led by the thread that called exec after success */
    pid_t old_tid; /* the thread that called exec */
    char *program; /* for RAN and OTHER: what it runs now */
    char *why;     /* for OTHER: what differed */
};

/* Called at the exec stop for an exec that is let run (RAN, or OTHER without VERIFY), before the
 * detach: the process runs nothing of its new program until SETTLE returns. */
typedef void (*exec_settle_fn)(void *data, const struct exec_result *r);

/* After the notification was answered CONTINUE: waits for the outcome of the exec of TID (seized
 * by this thread), checks it against PLAN, kills a mismatch when VERIFY, calls SETTLE (may be
 * NULL) and detaches. */
void exec_watch(pid_t tid, const struct exec_plan *plan, bool verify, exec_settle_fn settle,
                void *settle_data, struct exec_result *ret);
void exec_result_clear(struct exec_result *r);
