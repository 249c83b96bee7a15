/* syscalls.h: system-call names and numbers for the native architecture (from libseccomp), the
 * fsread/fswrite aliases, the schema of which argument of which call a policy can test, and
 * OpenBSD's names for calls and arguments. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Native x86-64 call numbers stay below this; libseccomp reports larger pseudo numbers for calls
 * that do not exist on the architecture. */
#define SYS_NR_LIMIT 1024

/* clang-format off */
/* The calls the engine treats by name, each with an id, so that code compares ids rather than
 * strings on the hot path. The list is the single place such names are spelled. */
#define SYS_KNOWN_CALLS(X) \
    /* opens and queries */ \
    X(open) X(openat) X(openat2) X(creat) X(stat) X(lstat) X(newfstatat) X(statx) X(access) \
    X(faccessat) X(faccessat2) X(readlink) X(readlinkat) X(statfs) X(fstat) X(fstatfs) \
    /* changes to files */ \
    X(truncate) X(unlink) X(unlinkat) X(rmdir) X(mkdir) X(mkdirat) X(mknod) X(mknodat) X(rename) \
    X(renameat) X(renameat2) X(link) X(linkat) X(symlink) X(symlinkat) X(chmod) X(fchmodat) \
    X(chown) X(lchown) X(fchownat) X(utime) X(utimes) X(utimensat) X(futimesat) \
    /* extended attributes */ \
    X(getxattr) X(lgetxattr) X(listxattr) X(llistxattr) X(setxattr) X(lsetxattr) X(removexattr) \
    X(lremovexattr) X(fgetxattr) X(fsetxattr) X(flistxattr) X(fremovexattr) \
    /* where the process stands: working directory, root, mounts */ \
    X(chdir) X(fchdir) X(chroot) X(pivot_root) X(setns) X(unshare) X(mount) X(umount2) \
    X(execve) X(execveat) X(exit) X(exit_group) \
    /* sockets */ \
    X(connect) X(bind) X(sendto) X(sendmsg) \
    /* credentials */ \
    X(setuid) X(setgid) X(setreuid) X(setregid) X(setresuid) X(setresgid) X(setfsuid) X(setfsgid) \
    X(setgroups) X(capset) X(umask) X(prctl) \
    /* calls that can reach another process */ \
    X(ptrace) X(process_vm_readv) X(process_vm_writev) X(kcmp) X(pidfd_open) X(kill) X(tkill) \
    X(tgkill) X(rt_sigqueueinfo) X(rt_tgsigqueueinfo) X(prlimit64) X(get_robust_list) \
    X(setpriority) X(sched_setaffinity) X(sched_setscheduler) X(sched_setparam) X(sched_setattr) \
    X(ioprio_set) X(perf_event_open) X(migrate_pages) X(move_pages) X(fcntl) X(personality) \
    X(mmap) X(io_uring_setup) X(io_uring_enter) X(io_uring_register) \
    /* calls that touch only the caller's own memory, descriptors and scheduling */ \
    X(read) X(write) X(readv) X(writev) X(pread64) X(pwrite64) X(preadv) X(pwritev) X(close) \
    X(lseek) X(brk) X(munmap) X(mremap) X(mprotect) X(madvise) X(rt_sigaction) X(rt_sigprocmask) \
    X(rt_sigreturn) X(sigaltstack) X(futex) X(set_robust_list) X(set_tid_address) X(rseq) \
    X(arch_prctl) X(getpid) X(gettid) X(getppid) X(getuid) X(geteuid) X(getgid) X(getegid) \
    X(getgroups) X(getresuid) X(getresgid) X(getpgrp) X(getpgid) X(getsid) X(clock_gettime) \
    X(clock_getres) X(gettimeofday) X(time) X(nanosleep) X(clock_nanosleep) X(sched_yield) \
    X(getrandom) X(poll) X(ppoll) X(select) X(pselect6) X(epoll_wait) X(epoll_pwait) \
    X(epoll_pwait2) X(dup) X(dup2) X(dup3) X(pipe) X(pipe2) X(uname) X(getcwd) X(getdents64) \
    X(sysinfo) X(times) X(getrusage) X(wait4) X(waitid) X(pause) X(alarm) X(restart_syscall)

enum sys_id {
    SYS_ID_NONE = 0,
#define SYS_ID_ENUM(name) SYS_ID_##name,
    SYS_KNOWN_CALLS(SYS_ID_ENUM)
#undef SYS_ID_ENUM
    SYS_ID_MAX,
};
/* clang-format on */

/* What a known call does that the engine must know; each call's row is in syscalls.c. */
enum sys_flag {
    SYS_F_REFUSED = 1u << 0,    /* fails with ENOSYS in the kernel whatever the policy says */
    SYS_F_NOTIFY = 1u << 1,     /* always reaches the supervisor, whatever the policy says */
    SYS_F_HARMLESS = 1u << 2,   /* touches only the caller's memory, descriptors, scheduling */
    SYS_F_CREDS = 1u << 3,      /* may change the calling thread's credentials or umask */
    SYS_F_ROOT = 1u << 4,       /* may give the process another root or mount namespace */
    SYS_F_ALL_ROOTS = 1u << 5,  /* may move the root of every process of its namespace */
    SYS_F_EXEC = 1u << 6,       /* starts another program */
    SYS_F_EXIT = 1u << 7,       /* ends the thread or the process */
    SYS_F_TWO_PATHS = 1u << 8,  /* acts on two paths (both are checked and performed) */
    SYS_F_OTHER_PROC = 1u << 9, /* may act on another process named by pid (pid_args) */
};

struct sys_call {
    const char *name;
    unsigned flags;
    int8_t pid_args[2]; /* SYS_F_OTHER_PROC: the arguments holding a pid, -1 for none */
};

/* The id of native call NR (SYS_ID_NONE for calls the engine does not treat by name). */
enum sys_id sys_id_of(int nr);
/* The native number of ID, or -1 where the architecture has no such call. */
int sys_nr_of(enum sys_id id);
/* The row of ID (never NULL for ID < SYS_ID_MAX), and of call NR (NULL when it has none). */
const struct sys_call *sys_call_by_id(enum sys_id id);
const struct sys_call *sys_call_of(int nr);
/* The flags of call NR, 0 for calls without a row. */
unsigned sys_flags_of(int nr);

/* Number of the native call named NAME, or -1 if libseccomp does not know it on this arch. */
int sys_number(const char *name);
/* Name of native call NR, or NULL. The string lives as long as the process. */
const char *sys_name(int nr);

enum sys_alias {
    SYS_ALIAS_NONE = 0,
    SYS_ALIAS_FSREAD,
    SYS_ALIAS_FSWRITE,
    SYS_ALIAS_MAX,
};

/* "fsread" -> SYS_ALIAS_FSREAD; SYS_ALIAS_NONE when NAME is not an alias. */
enum sys_alias sys_alias_from_name(const char *name);
const char *sys_alias_name(enum sys_alias alias);
/* The alias that call NR belongs to. For the open family the split depends on OFLAGS (the open
 * flags, already read from struct open_how for openat2); other calls ignore it. */
enum sys_alias sys_alias_for(int nr, uint64_t oflags);
/* Whether NR can ever belong to ALIAS, and whether it always does (independent of its flags). */
bool sys_alias_may_contain(enum sys_alias alias, int nr);
bool sys_alias_always_contains(enum sys_alias alias, int nr);

/* One row of the alias table, for documentation and tests. */
enum sys_alias_cond {
    SYS_COND_ALWAYS,
    SYS_COND_OPEN_READ_ONLY, /* no write access, no O_CREAT, O_TRUNC or O_TMPFILE */
    SYS_COND_OPEN_WRITES,    /* the complement of the above */
};
struct sys_alias_member {
    const char *syscall;
    enum sys_alias alias;
    enum sys_alias_cond cond;
};
const struct sys_alias_member *sys_alias_table(unsigned *ret_n);

/* How a raw argument becomes the string a rule compares. */
enum sys_arg_kind {
    SYS_ARG_PATH,         /* a path, resolved against dirfd/cwd/root: "filename" */
    SYS_ARG_PATH_LITERAL, /* a path stored as written (symlink's target): "linkname" */
    SYS_ARG_SOCKADDR,     /* struct sockaddr *, length in .aux: "sockaddr" */
    SYS_ARG_MSGHDR_ADDR,  /* the msg_name of a struct msghdr *: "sockaddr" */
    SYS_ARG_OFLAGS,       /* open flags: "oflags" */
    SYS_ARG_OPEN_HOW,     /* struct open_how *, its flags: "oflags" */
    SYS_ARG_MODE,         /* file mode bits, octal: "mode" */
    SYS_ARG_ACCESS_MODE,  /* R_OK|W_OK|X_OK|F_OK: "amode" */
    SYS_ARG_PROT,         /* PROT_*: "prot" */
    SYS_ARG_MMAP_FLAGS,   /* MAP_*: "flags" */
    SYS_ARG_FCNTL_CMD,    /* F_*: "cmd" */
    SYS_ARG_IOCTL_CMD,    /* request number, hex: "cmd" */
    SYS_ARG_UID,          /* "uid", number */
    SYS_ARG_UNAME,        /* the same argument, as a passwd name: "uname" */
    SYS_ARG_GID,          /* "gid" */
    SYS_ARG_GNAME,        /* "gname" */
    SYS_ARG_SIGNAL,       /* "signame" */
    SYS_ARG_PIDNAME,      /* a pid, as the binary that process runs: "pidname" */
    SYS_ARG_SOCKDOM,      /* AF_*: "sockdom" */
    SYS_ARG_SOCKTYPE,     /* SOCK_*: "socktype" */
    SYS_ARG_FD,           /* a file descriptor number: "fd" */
    SYS_ARG_ARGV,         /* char *const argv[], joined with spaces: "argv" */
    SYS_ARG_PERSONA,      /* personality(2)'s flags: "persona" */
    SYS_ARG_KIND_MAX,
};

/* How the last component of a path is resolved. */
enum sys_follow {
    SYS_FOLLOW,             /* symlinks followed, as stat(2) */
    SYS_NOFOLLOW,           /* the link itself, as lstat(2), unlink(2) */
    SYS_FOLLOW_UNLESS_AT,   /* followed unless AT_SYMLINK_NOFOLLOW is in argument .flags */
    SYS_NOFOLLOW_UNLESS_AT, /* not followed unless AT_SYMLINK_FOLLOW is in argument .flags */
    SYS_FOLLOW_OPEN, /* open flags in .flags: O_NOFOLLOW, or O_CREAT|O_EXCL, stop at the link */
};

struct sys_arg {
    const char *name; /* the policy's argument name */
    enum sys_arg_kind kind;
    int8_t index; /* which argument of the call (0-5) */
    int8_t aux;   /* PATH: argument holding the dirfd, -1 for the cwd; SOCKADDR: the length */
    enum sys_follow follow;
    int8_t flags; /* argument holding AT_ or O_ flags that decide following, -1 if none */
};

#define SYS_MAX_ARGS 6

struct sys_schema {
    const char *syscall;
    struct sys_arg args[SYS_MAX_ARGS]; /* ends at the first entry with name == NULL */
};

/* The schema of call NR, or NULL if it takes nothing a policy can test. */
const struct sys_schema *sys_schema_for(int nr);
const struct sys_schema *sys_schema_table(unsigned *ret_n);
/* Whether an argument of this kind is read from the target's memory (a pointer). */
bool sys_arg_kind_reads_memory(enum sys_arg_kind kind);
/* The policy argument name a kind produces ("filename" for SYS_ARG_PATH). */
const char *sys_arg_kind_name(enum sys_arg_kind kind);
/* Whether NAME is an argument name that some call produces. */
bool sys_arg_name_known(const char *name);

/* Whether an argument called NAME belongs in an exact (learned) rule: paths, addresses, ids,
 * signals and protections do; fd numbers, argv, open flags and modes do not. */
bool sys_arg_name_identifies(const char *name);

/* Emulation names accepted in policy headers and rule prefixes: "native", and "linux64" (the
 * portable systrace's name for x86-64), which load as native on x86-64. */
bool sys_emulation_known(const char *name);

/* OpenBSD's system calls, for policies written there: the x86-64 Linux calls that do the same
 * job (sigaction -> rt_sigaction), also for names that are Linux calls too but that glibc serves
 * with another one (fork -> clone). A row without calls has no Linux counterpart. */
#define SYS_COMPAT_MAX_CALLS 3

/* An argument that OpenBSD names or numbers differently: OpenBSD's NAME[n] is our AS[n + shift]. */
struct sys_compat_arg {
    const char *name;
    const char *as;
    uint8_t shift;
};

struct sys_compat {
    const char *openbsd;
    const char *calls[SYS_COMPAT_MAX_CALLS]; /* ends at the first NULL; none: no counterpart */
    const char *how;                         /* how Linux does the job, in a few words */
    struct sys_compat_arg args[2];           /* for these calls only; ends at name == NULL */
};

const struct sys_compat *sys_compat_table(unsigned *ret_n);
/* The row of OpenBSD call NAME, or NULL when NAME needs none (a Linux call doing the same job). */
const struct sys_compat *sys_compat_for(const char *name);
/* The native calls that a rule on NAME is about: NAME's row, else NAME itself. Fills RET_CALLS
 * (room for SYS_COMPAT_MAX_CALLS), *ret_n and *ret_row (NULL when NAME is a plain native call).
 * Returns 0; -ENOSYS when the row says NAME has no counterpart (*ret_row is set); -ENOENT when
 * NAME is neither a native call nor OpenBSD's. */
int sys_calls_for_name(const char *name, int *ret_calls, unsigned *ret_n,
                       const struct sys_compat **ret_row);

/* Argument names of OpenBSD's that every call takes as ours ("string", symlink's target, is our
 * "linkname"); shift is 0. */
const struct sys_compat_arg *sys_arg_alias_table(unsigned *ret_n);
/* How argument NAME[ORDINAL] of a rule on ROW's call (ROW may be NULL) reads in ours: *ret_name
 * and *ret_ordinal. Returns whether it was renamed or renumbered. */
bool sys_compat_arg(const struct sys_compat *row, const char *name, unsigned ordinal,
                    const char **ret_name, unsigned *ret_ordinal);
