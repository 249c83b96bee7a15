/* syscalls.h: system-call names and numbers for the native architecture (from libseccomp), the
 * fsread/fswrite aliases, and the schema of which argument of which call a policy can test. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Native x86-64 call numbers stay below this; libseccomp reports larger pseudo numbers for calls
 * that do not exist on the architecture. */
#define SYS_NR_LIMIT 1024

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

/* How a raw argument becomes the string a rule compares (DESIGN.md 3.6). */
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
