/* syscalls.c: the native call table (resolved through libseccomp), the alias table, the
 * argument schema and OpenBSD's names. Each is one table that tests walk. */
#include "syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *nr_names[SYS_NR_LIMIT];
static const struct sys_schema *nr_schema[SYS_NR_LIMIT];
static unsigned short nr_ids[SYS_NR_LIMIT];
static short id_nrs[SYS_ID_MAX];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* clang-format off */
/* The arguments a rule can test. dirfd -1 means relative to the cwd. */
#define ARG(n, k, i)         {n, k, i, -1, SYS_FOLLOW, -1}
#define PATH(i)              {"filename", SYS_ARG_PATH, i, -1, SYS_FOLLOW, -1}
#define PATH_NF(i)           {"filename", SYS_ARG_PATH, i, -1, SYS_NOFOLLOW, -1}
#define PATH_AT(d, i)        {"filename", SYS_ARG_PATH, i, d, SYS_FOLLOW, -1}
#define PATH_AT_NF(d, i)     {"filename", SYS_ARG_PATH, i, d, SYS_NOFOLLOW, -1}
#define PATH_AT_FL(d, i, f)  {"filename", SYS_ARG_PATH, i, d, SYS_FOLLOW_UNLESS_AT, f}
#define PATH_OPEN(d, i, f)   {"filename", SYS_ARG_PATH, i, d, SYS_FOLLOW_OPEN, f}
#define LINKNAME(i)          ARG("linkname", SYS_ARG_PATH_LITERAL, i)
#define SOCKADDR(i, len)     {"sockaddr", SYS_ARG_SOCKADDR, i, len, SYS_FOLLOW, -1}
#define MSGHDR(i)            ARG("sockaddr", SYS_ARG_MSGHDR_ADDR, i)
#define OFLAGS(i)            ARG("oflags", SYS_ARG_OFLAGS, i)
#define MODE(i)              ARG("mode", SYS_ARG_MODE, i)
#define AMODE(i)             ARG("amode", SYS_ARG_ACCESS_MODE, i)
#define PROT(i)              ARG("prot", SYS_ARG_PROT, i)
#define FD(i)                ARG("fd", SYS_ARG_FD, i)
#define UID(i)               ARG("uid", SYS_ARG_UID, i), ARG("uname", SYS_ARG_UNAME, i)
#define GID(i)               ARG("gid", SYS_ARG_GID, i), ARG("gname", SYS_ARG_GNAME, i)
#define SIG(i)               ARG("signame", SYS_ARG_SIGNAL, i)
#define PIDNAME(i)           ARG("pidname", SYS_ARG_PIDNAME, i)
#define ARGV(i)              ARG("argv", SYS_ARG_ARGV, i)

static const struct sys_schema schema[] = {
    /* opens */
    {"open", {PATH_OPEN(-1, 0, 1), OFLAGS(1), MODE(2)}},
    {"openat", {PATH_OPEN(0, 1, 2), OFLAGS(2), MODE(3)}},
    /* openat2's flags live in struct open_how: follow is decided from what was read there */
    {"openat2", {PATH_OPEN(0, 1, -1), ARG("oflags", SYS_ARG_OPEN_HOW, 2)}},
    {"creat", {PATH(0), MODE(1)}},
    /* queries */
    {"stat", {PATH(0)}},
    {"lstat", {PATH_NF(0)}},
    {"newfstatat", {PATH_AT_FL(0, 1, 3)}},
    {"statx", {PATH_AT_FL(0, 1, 2)}},
    {"access", {PATH(0), AMODE(1)}},
    {"faccessat", {PATH_AT(0, 1), AMODE(2)}},
    {"faccessat2", {PATH_AT_FL(0, 1, 3), AMODE(2)}},
    {"readlink", {PATH_NF(0)}},
    {"readlinkat", {PATH_AT_NF(0, 1)}},
    {"getxattr", {PATH(0)}},
    {"lgetxattr", {PATH_NF(0)}},
    {"listxattr", {PATH(0)}},
    {"llistxattr", {PATH_NF(0)}},
    {"statfs", {PATH(0)}},
    {"chdir", {PATH(0)}},
    {"chroot", {PATH(0)}},
    /* changes */
    {"truncate", {PATH(0)}},
    {"unlink", {PATH_NF(0)}},
    {"unlinkat", {PATH_AT_NF(0, 1)}},
    {"mkdir", {PATH_NF(0), MODE(1)}},
    {"mkdirat", {PATH_AT_NF(0, 1), MODE(2)}},
    {"rmdir", {PATH_NF(0)}},
    {"rename", {PATH_NF(0), PATH_NF(1)}},
    {"renameat", {PATH_AT_NF(0, 1), PATH_AT_NF(2, 3)}},
    {"renameat2", {PATH_AT_NF(0, 1), PATH_AT_NF(2, 3)}},
    {"link", {PATH_NF(0), PATH_NF(1)}},
    {"linkat",
     {{"filename", SYS_ARG_PATH, 1, 0, SYS_NOFOLLOW_UNLESS_AT, 4}, PATH_AT_NF(2, 3)}},
    {"symlink", {LINKNAME(0), PATH_NF(1)}},
    {"symlinkat", {LINKNAME(0), PATH_AT_NF(1, 2)}},
    {"chmod", {PATH(0), MODE(1)}},
    {"fchmodat", {PATH_AT(0, 1), MODE(2)}},
    {"chown", {PATH(0), UID(1), GID(2)}},
    {"lchown", {PATH_NF(0), UID(1), GID(2)}},
    {"fchownat", {PATH_AT_FL(0, 1, 4), UID(2), GID(3)}},
    {"utime", {PATH(0)}},
    {"utimes", {PATH(0)}},
    {"utimensat", {PATH_AT_FL(0, 1, 3)}},
    {"futimesat", {PATH_AT(0, 1)}},
    {"mknod", {PATH_NF(0), MODE(1)}},
    {"mknodat", {PATH_AT_NF(0, 1), MODE(2)}},
    {"setxattr", {PATH(0)}},
    {"lsetxattr", {PATH_NF(0)}},
    {"removexattr", {PATH(0)}},
    {"lremovexattr", {PATH_NF(0)}},
    /* programs */
    {"execve", {PATH(0), ARGV(1)}},
    {"execveat", {PATH_AT_FL(0, 1, 4), ARGV(2)}},
    /* file systems */
    {"mount", {PATH(1)}},
    {"umount2", {PATH_NF(0)}},
    {"swapon", {PATH(0)}},
    {"swapoff", {PATH(0)}},
    {"pivot_root", {PATH(0), PATH(1)}},
    {"acct", {PATH(0)}},
    {"uselib", {PATH(0)}},
    {"quotactl", {PATH(1)}},
    {"inotify_add_watch", {FD(0), PATH(1)}},
    {"fanotify_mark", {FD(0), PATH_AT(3, 4)}},
    {"name_to_handle_at", {PATH_AT_FL(0, 1, 4)}},
    {"open_tree", {PATH_AT_FL(0, 1, 2)}},
    {"mount_setattr", {PATH_AT_FL(0, 1, 2)}},
    {"move_mount", {PATH_AT(0, 1), PATH_AT(2, 3)}},
    /* sockets */
    {"socket", {ARG("sockdom", SYS_ARG_SOCKDOM, 0), ARG("socktype", SYS_ARG_SOCKTYPE, 1)}},
    {"socketpair", {ARG("sockdom", SYS_ARG_SOCKDOM, 0), ARG("socktype", SYS_ARG_SOCKTYPE, 1)}},
    {"connect", {FD(0), SOCKADDR(1, 2)}},
    {"bind", {FD(0), SOCKADDR(1, 2)}},
    {"sendto", {FD(0), SOCKADDR(4, 5)}},
    {"sendmsg", {FD(0), MSGHDR(1)}},
    /* credentials */
    {"setuid", {UID(0)}},
    {"setgid", {GID(0)}},
    {"setreuid", {UID(0), UID(1)}},
    {"setregid", {GID(0), GID(1)}},
    {"setresuid", {UID(0), UID(1), UID(2)}},
    {"setresgid", {GID(0), GID(1), GID(2)}},
    {"setfsuid", {UID(0)}},
    {"setfsgid", {GID(0)}},
    /* signals */
    {"kill", {PIDNAME(0), SIG(1)}},
    {"tkill", {PIDNAME(0), SIG(1)}},
    {"tgkill", {PIDNAME(0), SIG(2)}},
    {"rt_sigqueueinfo", {PIDNAME(0), SIG(1)}},
    {"rt_tgsigqueueinfo", {PIDNAME(0), SIG(2)}},
    {"pidfd_send_signal", {FD(0), SIG(1)}},
    /* memory: personality's flags can make readable memory executable */
    {"personality", {ARG("persona", SYS_ARG_PERSONA, 0)}},
    {"mmap", {PROT(2), ARG("flags", SYS_ARG_MMAP_FLAGS, 3), FD(4)}},
    {"mprotect", {PROT(2)}},
    {"pkey_mprotect", {PROT(2)}},
    /* file descriptors */
    {"fcntl", {FD(0), ARG("cmd", SYS_ARG_FCNTL_CMD, 1)}},
    {"ioctl", {FD(0), ARG("cmd", SYS_ARG_IOCTL_CMD, 1)}},
    {"read", {FD(0)}},
    {"write", {FD(0)}},
    {"close", {FD(0)}},
    {"pread64", {FD(0)}},
    {"pwrite64", {FD(0)}},
    {"readv", {FD(0)}},
    {"writev", {FD(0)}},
    {"preadv", {FD(0)}},
    {"pwritev", {FD(0)}},
    {"preadv2", {FD(0)}},
    {"pwritev2", {FD(0)}},
    {"fstat", {FD(0)}},
    {"lseek", {FD(0)}},
    {"dup", {FD(0)}},
    {"dup2", {FD(0), FD(1)}},
    {"dup3", {FD(0), FD(1)}},
    {"fsync", {FD(0)}},
    {"fdatasync", {FD(0)}},
    {"ftruncate", {FD(0)}},
    {"fallocate", {FD(0)}},
    {"getdents", {FD(0)}},
    {"getdents64", {FD(0)}},
    {"fchdir", {FD(0)}},
    {"fchmod", {FD(0), MODE(1)}},
    {"fchown", {FD(0), UID(1), GID(2)}},
    {"flock", {FD(0)}},
    {"fstatfs", {FD(0)}},
    {"fgetxattr", {FD(0)}},
    {"fsetxattr", {FD(0)}},
    {"flistxattr", {FD(0)}},
    {"fremovexattr", {FD(0)}},
    {"accept", {FD(0)}},
    {"accept4", {FD(0)}},
    {"listen", {FD(0)}},
    {"shutdown", {FD(0)}},
    {"getsockname", {FD(0)}},
    {"getpeername", {FD(0)}},
    {"setsockopt", {FD(0)}},
    {"getsockopt", {FD(0)}},
    {"recvfrom", {FD(0)}},
    {"recvmsg", {FD(0)}},
    {"sendfile", {FD(0), FD(1)}},
    {"splice", {FD(0), FD(2)}},
    {"tee", {FD(0), FD(1)}},
    {"copy_file_range", {FD(0), FD(2)}},
    {"sync_file_range", {FD(0)}},
    {"fadvise64", {FD(0)}},
    {"readahead", {FD(0)}},
    {"syncfs", {FD(0)}},
    {"epoll_ctl", {FD(0), FD(2)}},
};
/* clang-format on */

/* What each known call does that the engine must know. Calls the supervisor must see whatever
 * the policy says: those that change what it tracks of a process (its program, credentials,
 * umask, root and mount view) and those that can reach another process (so that none reaches the
 * supervisor). */
#define NOTIFY   SYS_F_NOTIFY
#define HARMLESS SYS_F_HARMLESS
static const struct sys_call calls[SYS_ID_MAX] = {
#define SYS_ROW(n) [SYS_ID_##n] = {#n, 0, {-1, -1}},
    SYS_KNOWN_CALLS(SYS_ROW)
#undef SYS_ROW
};

/* Flags and pid arguments, by call; rows not named here have none. */
static const struct {
    enum sys_id id;
    unsigned flags;
    int8_t pid_args[2];
} call_flags[] = {
    {SYS_ID_io_uring_setup, SYS_F_REFUSED, {-1, -1}},
    {SYS_ID_io_uring_enter, SYS_F_REFUSED, {-1, -1}},
    {SYS_ID_io_uring_register, SYS_F_REFUSED, {-1, -1}},
    {SYS_ID_execve, NOTIFY | SYS_F_EXEC, {-1, -1}},
    {SYS_ID_execveat, NOTIFY | SYS_F_EXEC, {-1, -1}},
    {SYS_ID_exit, HARMLESS | SYS_F_EXIT, {-1, -1}},
    {SYS_ID_exit_group, HARMLESS | SYS_F_EXIT, {-1, -1}},
    {SYS_ID_chroot, NOTIFY | SYS_F_ROOT, {-1, -1}},
    {SYS_ID_setns, NOTIFY | SYS_F_ROOT, {-1, -1}},
    {SYS_ID_unshare, NOTIFY | SYS_F_ROOT, {-1, -1}},
    {SYS_ID_mount, NOTIFY, {-1, -1}},
    {SYS_ID_pivot_root, NOTIFY | SYS_F_ROOT | SYS_F_ALL_ROOTS, {-1, -1}},
    {SYS_ID_personality, NOTIFY, {-1, -1}},
    {SYS_ID_setuid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setgid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setreuid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setregid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setresuid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setresgid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setfsuid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setfsgid, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_setgroups, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_capset, NOTIFY | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_umask, NOTIFY | HARMLESS | SYS_F_CREDS, {-1, -1}},
    {SYS_ID_ptrace, NOTIFY | SYS_F_OTHER_PROC, {1, -1}},
    {SYS_ID_process_vm_readv, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_process_vm_writev, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_kcmp, NOTIFY | SYS_F_OTHER_PROC, {0, 1}},
    {SYS_ID_pidfd_open, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_kill, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_tkill, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_tgkill, NOTIFY | SYS_F_OTHER_PROC, {0, 1}},
    {SYS_ID_rt_sigqueueinfo, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_rt_tgsigqueueinfo, NOTIFY | SYS_F_OTHER_PROC, {0, 1}},
    {SYS_ID_prlimit64, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_get_robust_list, NOTIFY | HARMLESS | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_sched_setaffinity, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_sched_setscheduler, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_sched_setparam, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_sched_setattr, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_perf_event_open, NOTIFY | SYS_F_OTHER_PROC, {1, -1}},
    {SYS_ID_migrate_pages, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    {SYS_ID_move_pages, NOTIFY | SYS_F_OTHER_PROC, {0, -1}},
    /* which/who pairs, checked by the supervisor itself */
    {SYS_ID_setpriority, NOTIFY, {-1, -1}},
    {SYS_ID_ioprio_set, NOTIFY, {-1, -1}},
    {SYS_ID_rename, SYS_F_TWO_PATHS, {-1, -1}},
    {SYS_ID_renameat, SYS_F_TWO_PATHS, {-1, -1}},
    {SYS_ID_renameat2, SYS_F_TWO_PATHS, {-1, -1}},
    {SYS_ID_link, SYS_F_TWO_PATHS, {-1, -1}},
    {SYS_ID_linkat, SYS_F_TWO_PATHS, {-1, -1}},
};

/* Calls that touch nothing outside the process's own memory, descriptors it already holds, or
 * its own scheduling: with an open set of programs, a first-policy permit of one of these may
 * still be decided in the kernel. */
static const enum sys_id harmless[] = {
    SYS_ID_read,
    SYS_ID_write,
    SYS_ID_readv,
    SYS_ID_writev,
    SYS_ID_pread64,
    SYS_ID_pwrite64,
    SYS_ID_preadv,
    SYS_ID_pwritev,
    SYS_ID_close,
    SYS_ID_fstat,
    SYS_ID_lseek,
    SYS_ID_brk,
    SYS_ID_mmap,
    SYS_ID_munmap,
    SYS_ID_mremap,
    SYS_ID_mprotect,
    SYS_ID_madvise,
    SYS_ID_rt_sigaction,
    SYS_ID_rt_sigprocmask,
    SYS_ID_rt_sigreturn,
    SYS_ID_sigaltstack,
    SYS_ID_futex,
    SYS_ID_set_robust_list,
    SYS_ID_set_tid_address,
    SYS_ID_rseq,
    SYS_ID_arch_prctl,
    SYS_ID_getpid,
    SYS_ID_gettid,
    SYS_ID_getppid,
    SYS_ID_getuid,
    SYS_ID_geteuid,
    SYS_ID_getgid,
    SYS_ID_getegid,
    SYS_ID_getgroups,
    SYS_ID_getresuid,
    SYS_ID_getresgid,
    SYS_ID_getpgrp,
    SYS_ID_getpgid,
    SYS_ID_getsid,
    SYS_ID_clock_gettime,
    SYS_ID_clock_getres,
    SYS_ID_gettimeofday,
    SYS_ID_time,
    SYS_ID_nanosleep,
    SYS_ID_clock_nanosleep,
    SYS_ID_sched_yield,
    SYS_ID_getrandom,
    SYS_ID_poll,
    SYS_ID_ppoll,
    SYS_ID_select,
    SYS_ID_pselect6,
    SYS_ID_epoll_wait,
    SYS_ID_epoll_pwait,
    SYS_ID_epoll_pwait2,
    SYS_ID_dup,
    SYS_ID_dup2,
    SYS_ID_dup3,
    SYS_ID_pipe,
    SYS_ID_pipe2,
    SYS_ID_uname,
    SYS_ID_getcwd,
    SYS_ID_getdents64,
    SYS_ID_sysinfo,
    SYS_ID_times,
    SYS_ID_getrusage,
    SYS_ID_wait4,
    SYS_ID_waitid,
    SYS_ID_pause,
    SYS_ID_alarm,
    SYS_ID_restart_syscall,
};

static struct sys_call call_rows[SYS_ID_MAX];

/* fsread and fswrite. The open family is split by its flags; the rest belongs always. Calls on
 * fds (fchmod, fgetxattr…) are not here: they name no path. */
static const struct sys_alias_member alias_table[] = {
    {"open", SYS_ALIAS_FSREAD, SYS_COND_OPEN_READ_ONLY},
    {"openat", SYS_ALIAS_FSREAD, SYS_COND_OPEN_READ_ONLY},
    {"openat2", SYS_ALIAS_FSREAD, SYS_COND_OPEN_READ_ONLY},
    {"stat", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"lstat", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"newfstatat", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"statx", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"access", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"faccessat", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"faccessat2", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"readlink", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"readlinkat", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"getxattr", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"lgetxattr", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"listxattr", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"llistxattr", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"statfs", SYS_ALIAS_FSREAD, SYS_COND_ALWAYS},
    {"open", SYS_ALIAS_FSWRITE, SYS_COND_OPEN_WRITES},
    {"openat", SYS_ALIAS_FSWRITE, SYS_COND_OPEN_WRITES},
    {"openat2", SYS_ALIAS_FSWRITE, SYS_COND_OPEN_WRITES},
    {"creat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"truncate", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"unlink", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"unlinkat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"mkdir", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"mkdirat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"rmdir", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"rename", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"renameat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"renameat2", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"link", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"linkat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"symlink", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"symlinkat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"chmod", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"fchmodat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"chown", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"lchown", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"fchownat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"utime", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"utimes", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"utimensat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"futimesat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"setxattr", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"lsetxattr", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"removexattr", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"lremovexattr", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"mknod", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
    {"mknodat", SYS_ALIAS_FSWRITE, SYS_COND_ALWAYS},
};

static const char *const alias_names[SYS_ALIAS_MAX] = {
    [SYS_ALIAS_FSREAD] = "fsread",
    [SYS_ALIAS_FSWRITE] = "fswrite",
};

/* Per kind: the policy's name for it, whether it is read from the target's memory, and whether it
 * goes into an exact (learned) rule. File descriptor numbers, argv, open flags and modes vary from
 * run to run; the alias already says read or write. */
static const struct {
    const char *name;
    bool reads_memory;
    bool identifies;
} kinds[SYS_ARG_KIND_MAX] = {
    [SYS_ARG_PATH] = {"filename", true, true},
    [SYS_ARG_PATH_LITERAL] = {"linkname", true, true},
    [SYS_ARG_SOCKADDR] = {"sockaddr", true, true},
    [SYS_ARG_MSGHDR_ADDR] = {"sockaddr", true, true},
    [SYS_ARG_OFLAGS] = {"oflags", false, false},
    [SYS_ARG_OPEN_HOW] = {"oflags", true, false},
    [SYS_ARG_MODE] = {"mode", false, false},
    [SYS_ARG_ACCESS_MODE] = {"amode", false, false},
    [SYS_ARG_PROT] = {"prot", false, true},
    [SYS_ARG_MMAP_FLAGS] = {"flags", false, true},
    [SYS_ARG_FCNTL_CMD] = {"cmd", false, true},
    [SYS_ARG_IOCTL_CMD] = {"cmd", false, true},
    [SYS_ARG_UID] = {"uid", false, true},
    [SYS_ARG_UNAME] = {"uname", false, false},
    [SYS_ARG_GID] = {"gid", false, true},
    [SYS_ARG_GNAME] = {"gname", false, false},
    [SYS_ARG_SIGNAL] = {"signame", false, true},
    [SYS_ARG_PIDNAME] = {"pidname", false, true},
    [SYS_ARG_SOCKDOM] = {"sockdom", false, true},
    [SYS_ARG_SOCKTYPE] = {"socktype", false, true},
    [SYS_ARG_FD] = {"fd", false, false},
    [SYS_ARG_ARGV] = {"argv", true, false},
    [SYS_ARG_PERSONA] = {"persona", false, true},
};

/* OpenBSD's calls, sorted by name, with the Linux calls that glibc (2.36, x86-64) makes for the
 * job. A name that is a Linux call too lists itself first, and gets more calls only outside the
 * calls on paths: open, stat, utimes, mknod… keep their Linux meaning although glibc makes openat,
 * newfstatat, utimensat, mknodat, since fsread and fswrite name both (OpenBSD policies name them
 * so too). fstat is not mapped to glibc's newfstatat, which also reaches paths. README.md shows
 * this table; a unit test keeps the two alike. */
static const struct sys_compat compat[] = {
    {"__get_tcb", {NULL}, "read from %fs, no call"},
    {"__getcwd", {"getcwd"}, NULL},
    {"__semctl", {"semctl"}, NULL},
    {"__set_tcb", {NULL}, "arch_prctl(ARCH_SET_FS), which does other jobs too"},
    {"__sysctl", {NULL}, "files in /proc and /sys (fsread), uname, sysinfo"},
    {"__tfork", {"clone", "clone3"}, "threads start with clone3"},
    {"__threxit", {"exit"}, "a thread ends with exit"},
    {"__thrsigdivert", {"rt_sigtimedwait"}, NULL},
    {"__thrsleep", {"futex"}, NULL},
    {"__thrwakeup", {"futex"}, NULL},
    {"break", {"brk"}, NULL},
    {"chflags", {NULL}, "ioctl(FS_IOC_SETFLAGS) on a descriptor, as chattr does"},
    {"closefrom", {"close_range"}, NULL},
    {"compat_43_ogetdtablesize", {"prlimit64"}, "getdtablesize(3) reads the limit"},
    {"compat_43_ogetpagesize", {NULL}, "AT_PAGESZ in the auxiliary vector, no call"},
    {"compat_43_olseek", {"lseek"}, NULL},
    {"exit", {"exit", "exit_group"}, "a process ends with exit_group"},
    {"fchflags", {NULL}, "ioctl(FS_IOC_SETFLAGS), as chattr does"},
    {"fork", {"fork", "clone", "clone3"}, "glibc forks with clone; clone also starts threads"},
    {"fpathconf", {"fstatfs"}, NULL},
    {"futimens", {"utimensat"}, "utimensat also reaches paths"},
    {"futimes", {"utimensat"}, "utimensat also reaches paths"},
    {"getdents", {"getdents", "getdents64"}, "readdir(3) uses getdents64"},
    {"getdirentries", {"getdents64", "getdents"}, NULL},
    {"getentropy", {"getrandom"}, NULL},
    {"getfsstat", {NULL}, "/proc/self/mounts (fsread), then statfs on each"},
    {"getlogin", {NULL}, "/proc/self/loginuid and utmp (fsread)"},
    {"getrlimit", {"getrlimit", "prlimit64"}, "glibc uses prlimit64, which also sets limits"},
    {"getthrid", {"gettid"}, NULL},
    {"issetugid", {NULL}, "AT_SECURE in the auxiliary vector, no call"},
    {"kevent", {NULL}, "epoll_ctl and epoll_wait, with other semantics"},
    {"kqueue", {NULL}, "epoll_create1, with other semantics"},
    {"minherit", {"madvise"}, "MADV_DONTFORK, MADV_WIPEONFORK"},
    {"mquery", {NULL}, "mmap with an address hint"},
    {"nanosleep", {"nanosleep", "clock_nanosleep"}, "glibc uses clock_nanosleep"},
    {"pathconf", {"statfs"}, NULL},
    {"pipe", {"pipe", "pipe2"}, "glibc uses pipe2"},
    {"pread", {"pread64"}, NULL},
    {"pselect", {"pselect6"}, NULL},
    {"pwrite", {"pwrite64"}, NULL},
    {"rfork", {"clone", "clone3"}, NULL},
    {"select", {"select", "pselect6"}, "glibc uses pselect6"},
    {"sendsyslog", {NULL}, "syslog(3) writes to /dev/log: socket, connect, sendto"},
    {"setegid", {"setresgid"}, "setresgid(-1, gid, -1): gid is gid[1]", {{"gid", "gid", 1}}},
    {"seteuid",
     {"setresuid"},
     "setresuid(-1, uid, -1): uid is uid[1]",
     {{"uid", "uid", 1}, {"uname", "uname", 1}}},
    {"setrlimit", {"setrlimit", "prlimit64"}, "glibc uses prlimit64, which also reads limits"},
    {"sigaction", {"rt_sigaction"}, NULL},
    {"sigpending", {"rt_sigpending"}, NULL},
    {"sigprocmask", {"rt_sigprocmask"}, NULL},
    {"sigreturn", {"rt_sigreturn"}, NULL},
    {"sigsuspend", {"rt_sigsuspend"}, NULL},
    {"thrkill", {"tgkill"}, "raise(3)"},
    {"vfork", {"vfork", "clone", "clone3"}, "posix_spawn(3) uses clone3"},
};

/* OpenBSD names the target of a symbolic link "string". */
static const struct sys_compat_arg arg_aliases[] = {
    {"string", "linkname", 0},
};

static void tables_init(void)
{
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++)
        nr_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    for (int id = 0; id < SYS_ID_MAX; id++) {
        call_rows[id] = calls[id];
        call_rows[id].pid_args[0] = call_rows[id].pid_args[1] = -1;
        id_nrs[id] = -1;
        int nr = id == SYS_ID_NONE ? -1 : sys_number(calls[id].name);
        if (nr >= 0) {
            id_nrs[id] = (short)nr;
            nr_ids[nr] = (unsigned short)id;
        }
    }
    for (unsigned i = 0; i < ARRAY_SIZE(call_flags); i++) {
        struct sys_call *c = &call_rows[call_flags[i].id];
        c->flags |= call_flags[i].flags;
        c->pid_args[0] = call_flags[i].pid_args[0];
        c->pid_args[1] = call_flags[i].pid_args[1];
    }
    for (unsigned i = 0; i < ARRAY_SIZE(harmless); i++)
        call_rows[harmless[i]].flags |= SYS_F_HARMLESS;
    for (unsigned i = 0; i < ARRAY_SIZE(schema); i++) {
        int nr = sys_number(schema[i].syscall);
        if (nr >= 0)
            nr_schema[nr] = &schema[i];
    }
}

enum sys_id sys_id_of(int nr)
{
    pthread_once(&tables_once, tables_init);
    return nr >= 0 && nr < SYS_NR_LIMIT ? (enum sys_id)nr_ids[nr] : SYS_ID_NONE;
}

int sys_nr_of(enum sys_id id)
{
    pthread_once(&tables_once, tables_init);
    return id > SYS_ID_NONE && id < SYS_ID_MAX ? id_nrs[id] : -1;
}

const struct sys_call *sys_call_by_id(enum sys_id id)
{
    pthread_once(&tables_once, tables_init);
    return id < SYS_ID_MAX ? &call_rows[id] : &call_rows[SYS_ID_NONE];
}

const struct sys_call *sys_call_of(int nr)
{
    enum sys_id id = sys_id_of(nr);
    return id == SYS_ID_NONE ? NULL : &call_rows[id];
}

unsigned sys_flags_of(int nr)
{
    const struct sys_call *c = sys_call_of(nr);
    return c ? c->flags : 0;
}

int sys_number(const char *name)
{
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
    return nr >= 0 && nr < SYS_NR_LIMIT ? nr : -1;
}

const char *sys_name(int nr)
{
    pthread_once(&tables_once, tables_init);
    return nr >= 0 && nr < SYS_NR_LIMIT ? nr_names[nr] : NULL;
}

enum sys_alias sys_alias_from_name(const char *name)
{
    for (int a = SYS_ALIAS_NONE + 1; a < SYS_ALIAS_MAX; a++)
        if (streq(alias_names[a], name))
            return a;
    return SYS_ALIAS_NONE;
}

const char *sys_alias_name(enum sys_alias alias)
{
    return alias > SYS_ALIAS_NONE && alias < SYS_ALIAS_MAX ? alias_names[alias] : NULL;
}

static bool open_is_read_only(uint64_t oflags)
{
    return (oflags & O_ACCMODE) == O_RDONLY && !(oflags & (O_CREAT | O_TRUNC)) &&
           (oflags & O_TMPFILE) != O_TMPFILE;
}

static bool cond_holds(enum sys_alias_cond cond, uint64_t oflags)
{
    switch (cond) {
    case SYS_COND_ALWAYS:
        return true;
    case SYS_COND_OPEN_READ_ONLY:
        return open_is_read_only(oflags);
    case SYS_COND_OPEN_WRITES:
        return !open_is_read_only(oflags);
    }
    return false;
}

enum sys_alias sys_alias_for(int nr, uint64_t oflags)
{
    const char *name = sys_name(nr);
    if (!name)
        return SYS_ALIAS_NONE;
    for (unsigned i = 0; i < ARRAY_SIZE(alias_table); i++)
        if (streq(alias_table[i].syscall, name) && cond_holds(alias_table[i].cond, oflags))
            return alias_table[i].alias;
    return SYS_ALIAS_NONE;
}

static const struct sys_alias_member *alias_member(enum sys_alias alias, int nr)
{
    const char *name = sys_name(nr);
    if (!name)
        return NULL;
    for (unsigned i = 0; i < ARRAY_SIZE(alias_table); i++)
        if (alias_table[i].alias == alias && streq(alias_table[i].syscall, name))
            return &alias_table[i];
    return NULL;
}

bool sys_alias_may_contain(enum sys_alias alias, int nr)
{
    return alias_member(alias, nr) != NULL;
}

bool sys_alias_always_contains(enum sys_alias alias, int nr)
{
    const struct sys_alias_member *m = alias_member(alias, nr);
    return m && m->cond == SYS_COND_ALWAYS;
}

const struct sys_alias_member *sys_alias_table(unsigned *ret_n)
{
    *ret_n = ARRAY_SIZE(alias_table);
    return alias_table;
}

const struct sys_schema *sys_schema_for(int nr)
{
    pthread_once(&tables_once, tables_init);
    return nr >= 0 && nr < SYS_NR_LIMIT ? nr_schema[nr] : NULL;
}

const struct sys_schema *sys_schema_table(unsigned *ret_n)
{
    *ret_n = ARRAY_SIZE(schema);
    return schema;
}

bool sys_arg_kind_reads_memory(enum sys_arg_kind kind)
{
    return kind < SYS_ARG_KIND_MAX && kinds[kind].reads_memory;
}

const char *sys_arg_kind_name(enum sys_arg_kind kind)
{
    return kind < SYS_ARG_KIND_MAX ? kinds[kind].name : NULL;
}

bool sys_arg_name_known(const char *name)
{
    for (int k = 0; k < SYS_ARG_KIND_MAX; k++)
        if (streq(kinds[k].name, name))
            return true;
    return false;
}

bool sys_arg_name_identifies(const char *name)
{
    for (int k = 0; k < SYS_ARG_KIND_MAX; k++)
        if (streq(kinds[k].name, name))
            return kinds[k].identifies;
    return false;
}

bool sys_emulation_known(const char *name)
{
#if defined(__x86_64__)
    return streq(name, "native") || streq(name, "linux64");
#else
    return streq(name, "native");
#endif
}

const struct sys_compat *sys_compat_table(unsigned *ret_n)
{
    *ret_n = ARRAY_SIZE(compat);
    return compat;
}

const struct sys_compat *sys_compat_for(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(compat); i++)
        if (streq(compat[i].openbsd, name))
            return &compat[i];
    return NULL;
}

int sys_calls_for_name(const char *name, int *ret_calls, unsigned *ret_n,
                       const struct sys_compat **ret_row)
{
    const struct sys_compat *row = sys_compat_for(name);
    unsigned n = 0;
    if (!row) {
        int nr = sys_number(name);
        if (nr < 0)
            return -ENOENT;
        ret_calls[n++] = nr;
    }
    for (unsigned i = 0; row && i < SYS_COMPAT_MAX_CALLS && row->calls[i]; i++) {
        int nr = sys_number(row->calls[i]);
        if (nr >= 0)
            ret_calls[n++] = nr;
    }
    *ret_n = n;
    *ret_row = row;
    return n > 0 ? 0 : -ENOSYS;
}

const struct sys_compat_arg *sys_arg_alias_table(unsigned *ret_n)
{
    *ret_n = ARRAY_SIZE(arg_aliases);
    return arg_aliases;
}

static const struct sys_compat_arg *find_compat_arg(const struct sys_compat_arg *v, size_t n,
                                                    const char *name)
{
    for (size_t i = 0; i < n && v[i].name; i++)
        if (streq(v[i].name, name))
            return &v[i];
    return NULL;
}

bool sys_compat_arg(const struct sys_compat *row, const char *name, unsigned ordinal,
                    const char **ret_name, unsigned *ret_ordinal)
{
    const struct sys_compat_arg *a =
        row ? find_compat_arg(row->args, ARRAY_SIZE(row->args), name) : NULL;
    if (!a)
        a = find_compat_arg(arg_aliases, ARRAY_SIZE(arg_aliases), name);
    *ret_name = a ? a->as : name;
    *ret_ordinal = ordinal + (a ? a->shift : 0);
    return a != NULL;
}
