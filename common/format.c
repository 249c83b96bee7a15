/* format.c: symbolic names for integer arguments, each kind one table. */
#include "format.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/random.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include "names.h"
#include "util.h"

struct flag_name {
    uint64_t value;
    const char *name;
};

/* clang-format off */
#define F(x) {x, #x}

static const struct flag_name open_flags[] = {
    F(O_CREAT), F(O_EXCL), F(O_NOCTTY), F(O_TRUNC), F(O_APPEND), F(O_NONBLOCK),
    F(O_SYNC), F(O_DSYNC), F(O_ASYNC), F(O_DIRECT), {0100000, "O_LARGEFILE"}, F(O_TMPFILE),
    F(O_DIRECTORY), F(O_NOFOLLOW), F(O_NOATIME), F(O_CLOEXEC), F(O_PATH),
};

static const struct flag_name prot_flags[] = {
    F(PROT_READ), F(PROT_WRITE), F(PROT_EXEC), F(PROT_GROWSDOWN), F(PROT_GROWSUP),
};

static const struct flag_name mmap_flags[] = {
    F(MAP_FIXED), F(MAP_ANONYMOUS), F(MAP_GROWSDOWN), F(MAP_DENYWRITE), F(MAP_EXECUTABLE),
    F(MAP_LOCKED), F(MAP_NORESERVE), F(MAP_POPULATE), F(MAP_NONBLOCK), F(MAP_STACK),
    F(MAP_HUGETLB), F(MAP_SYNC), F(MAP_FIXED_NOREPLACE),
};

static const struct flag_name access_flags[] = {F(R_OK), F(W_OK), F(X_OK)};

static const struct flag_name socktype_flags[] = {F(SOCK_NONBLOCK), F(SOCK_CLOEXEC)};

static const struct flag_name persona_flags[] = {
    {0x0020000, "UNAME26"}, {0x0040000, "ADDR_NO_RANDOMIZE"}, {0x0080000, "FDPIC_FUNCPTRS"},
    {0x0100000, "MMAP_PAGE_ZERO"}, {0x0200000, "ADDR_COMPAT_LAYOUT"},
    {0x0400000, "READ_IMPLIES_EXEC"}, {0x0800000, "ADDR_LIMIT_32BIT"},
    {0x1000000, "SHORT_INODE"}, {0x2000000, "WHOLE_SECONDS"}, {0x4000000, "STICKY_TIMEOUTS"},
    {0x8000000, "ADDR_LIMIT_3GB"},
};

static const struct flag_name fcntl_cmds[] = {
    F(F_DUPFD), F(F_GETFD), F(F_SETFD), F(F_GETFL), F(F_SETFL), F(F_GETLK), F(F_SETLK),
    F(F_SETLKW), F(F_SETOWN), F(F_GETOWN), F(F_SETSIG), F(F_GETSIG), F(F_SETOWN_EX),
    F(F_GETOWN_EX), F(F_OFD_GETLK), F(F_OFD_SETLK), F(F_OFD_SETLKW), F(F_SETLEASE),
    F(F_GETLEASE), F(F_NOTIFY), F(F_DUPFD_CLOEXEC), F(F_SETPIPE_SZ), F(F_GETPIPE_SZ),
    F(F_ADD_SEALS), F(F_GET_SEALS),
};

/* ioctl requests a policy is likely to name: terminals, files and sockets. Where two names share
 * a number (TIOCINQ is FIONREAD), the first is the one printed. */
static const struct flag_name ioctl_cmds[] = {
    F(TCGETS), F(TCSETS), F(TCSETSW), F(TCSETSF), F(TCGETA), F(TCSETA), F(TCSETAW), F(TCSETAF),
    F(TCSBRK), F(TCXONC), F(TCFLSH), F(TIOCEXCL), F(TIOCNXCL), F(TIOCSCTTY), F(TIOCGPGRP),
    F(TIOCSPGRP), F(TIOCOUTQ), F(TIOCSTI), F(TIOCGWINSZ), F(TIOCSWINSZ), F(TIOCMGET),
    F(TIOCMBIS), F(TIOCMBIC), F(TIOCMSET), F(TIOCGSOFTCAR), F(TIOCSSOFTCAR), F(FIONREAD),
    F(TIOCLINUX), F(TIOCCONS), F(TIOCGSERIAL), F(TIOCSSERIAL), F(TIOCPKT), F(FIONBIO),
    F(TIOCNOTTY), F(TIOCSETD), F(TIOCGETD), F(TCSBRKP), F(TIOCSBRK), F(TIOCCBRK), F(TIOCGSID),
    F(TIOCGPTN), F(TIOCSPTLCK), F(TIOCGDEV), F(TIOCSIG), F(TIOCVHANGUP), F(TIOCGPKT),
    F(TIOCGPTLCK), F(TIOCGEXCL), F(TIOCGPTPEER), F(FIONCLEX), F(FIOCLEX), F(FIOASYNC),
    F(TIOCSERGETLSR), F(TIOCMIWAIT), F(TIOCGICOUNT), F(FIOQSIZE), F(FIOGETOWN), F(FIOSETOWN),
    F(SIOCGPGRP), F(SIOCSPGRP), F(SIOCATMARK), F(SIOCGSTAMP),
    F(FIBMAP), F(FIGETBSZ), F(FIFREEZE), F(FITHAW), F(FITRIM), F(FICLONE), F(FICLONERANGE),
    F(FIDEDUPERANGE), F(FS_IOC_GETFLAGS), F(FS_IOC_SETFLAGS), F(FS_IOC_GETVERSION),
    F(FS_IOC_SETVERSION), F(FS_IOC_FIEMAP), F(FS_IOC_FSGETXATTR), F(FS_IOC_FSSETXATTR),
    F(BLKGETSIZE), F(BLKGETSIZE64), F(BLKSSZGET), F(BLKROGET), F(BLKFLSBUF),
    F(SIOCGIFNAME), F(SIOCGIFCONF), F(SIOCGIFFLAGS), F(SIOCSIFFLAGS), F(SIOCGIFADDR),
    F(SIOCGIFNETMASK), F(SIOCGIFMTU), F(SIOCGIFHWADDR), F(SIOCGIFINDEX), F(SIOCETHTOOL),
    F(RNDGETENTCNT),
};

static const struct flag_name socket_types[] = {
    F(SOCK_STREAM), F(SOCK_DGRAM), F(SOCK_RAW), F(SOCK_RDM), F(SOCK_SEQPACKET), F(SOCK_DCCP),
    F(SOCK_PACKET),
};

static const struct flag_name families[] = {
    F(AF_UNSPEC), F(AF_UNIX), F(AF_INET), F(AF_INET6), F(AF_NETLINK), F(AF_PACKET),
    F(AF_BLUETOOTH), F(AF_VSOCK), F(AF_ALG), F(AF_KEY), F(AF_CAN), F(AF_TIPC), F(AF_XDP),
    F(AF_APPLETALK), F(AF_AX25), F(AF_IPX), F(AF_X25), F(AF_RDS), F(AF_LLC), F(AF_IB),
    F(AF_MPLS), F(AF_NFC), F(AF_KCM), F(AF_QIPCRTR), F(AF_SMC),
};
/* clang-format on */

/* Names of the bits of VALUE from TABLE ("A|B"), the rest in hex; "0" when nothing is set. */
static void flags_into(struct buf *b, uint64_t value, const struct flag_name *table, size_t n)
{
    bool any = b->len > 0;
    for (size_t i = 0; i < n; i++)
        if (table[i].value && (value & table[i].value) == table[i].value) {
            buf_printf(b, "%s%s", any ? "|" : "", table[i].name);
            value &= ~table[i].value;
            any = true;
        }
    if (value)
        buf_printf(b, "%s0x%llx", any ? "|" : "", (unsigned long long)value);
    else if (!any)
        buf_puts(b, "0");
}

static const char *enum_name(uint64_t value, const struct flag_name *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return NULL;
}

static char *format_open_flags(uint32_t v)
{
    static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    struct buf b = {0};
    buf_puts(&b, acc[v & O_ACCMODE]);
    flags_into(&b, v & ~(uint32_t)O_ACCMODE, open_flags, ARRAY_SIZE(open_flags));
    return buf_steal(&b);
}

static char *format_flags(uint64_t v, const struct flag_name *table, size_t n, const char *zero)
{
    if (v == 0 && zero)
        return xstrdup(zero);
    struct buf b = {0};
    flags_into(&b, v, table, n);
    return buf_steal(&b);
}

static char *format_mmap_flags(uint32_t v)
{
    static const char *const types[] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};
    struct buf b = {0};
    uint32_t type = v & 0xf;
    if (type < ARRAY_SIZE(types))
        buf_puts(&b, types[type]);
    else
        buf_printf(&b, "0x%x", type);
    flags_into(&b, v & ~0xfu, mmap_flags, ARRAY_SIZE(mmap_flags));
    return buf_steal(&b);
}

/* The name of V in TABLE, else PREFIX V SUFFIX. */
static char *format_enum(uint64_t v, const struct flag_name *table, size_t n, const char *prefix,
                         const char *suffix)
{
    const char *name = enum_name(v, table, n);
    return name ? xstrdup(name) : xasprintf("%s%llu%s", prefix, (unsigned long long)v, suffix);
}

/* The name of V in TABLE, else V in hex. */
static char *format_enum_hex(uint64_t v, const struct flag_name *table, size_t n)
{
    const char *name = enum_name(v, table, n);
    return name ? xstrdup(name) : xasprintf("0x%llx", (unsigned long long)v);
}

static char *format_socktype(uint32_t v)
{
    struct buf b = {0};
    const char *name = enum_name(v & 0xf, socket_types, ARRAY_SIZE(socket_types));
    if (name)
        buf_puts(&b, name);
    else
        buf_printf(&b, "%u", v & 0xf);
    flags_into(&b, v & ~0xfu, socktype_flags, ARRAY_SIZE(socktype_flags));
    return buf_steal(&b);
}

char *format_signal(int sig)
{
    if (sig == 0)
        return xstrdup("0");
    if (sig >= 32 && sig <= 64) /* the kernel's real-time range */
        return xasprintf("SIGRTMIN+%d", sig - 32);
    const char *abbrev = sigabbrev_np(sig);
    return abbrev ? xasprintf("SIG%s", abbrev) : xasprintf("%d", sig);
}

/* An id as the kernel reads it (a 32-bit unsigned), -1 meaning "unchanged". */
static char *format_id(uint32_t id)
{
    return id == UINT32_MAX ? xstrdup("-1") : xasprintf("%u", id);
}

static char *format_user(uint32_t uid)
{
    char *name = uid != UINT32_MAX ? names_user(uid, NULL) : NULL;
    return name ? name : format_id(uid);
}

static char *format_group(uint32_t gid)
{
    char *name = gid != UINT32_MAX ? names_group(gid) : NULL;
    return name ? name : format_id(gid);
}

char *format_int(enum sys_arg_kind kind, uint64_t value)
{
    uint32_t v32 = (uint32_t)value; /* int arguments: the kernel ignores the upper half */
    switch (kind) {
    case SYS_ARG_OFLAGS:
        return format_open_flags(v32);
    case SYS_ARG_MODE:
        return xasprintf("%04o", v32);
    case SYS_ARG_ACCESS_MODE:
        return format_flags(v32, access_flags, ARRAY_SIZE(access_flags), "F_OK");
    case SYS_ARG_PROT:
        return format_flags(value, prot_flags, ARRAY_SIZE(prot_flags), "PROT_NONE");
    case SYS_ARG_MMAP_FLAGS:
        return format_mmap_flags(v32);
    case SYS_ARG_FCNTL_CMD:
        return format_enum(v32, fcntl_cmds, ARRAY_SIZE(fcntl_cmds), "", "");
    case SYS_ARG_IOCTL_CMD:
        return format_enum_hex(v32, ioctl_cmds, ARRAY_SIZE(ioctl_cmds));
    case SYS_ARG_UID:
    case SYS_ARG_UNAME:
        return format_user(v32);
    case SYS_ARG_GID:
    case SYS_ARG_GNAME:
        return format_group(v32);
    case SYS_ARG_SIGNAL:
        return format_signal((int)v32);
    case SYS_ARG_SOCKDOM:
        return format_enum(v32, families, ARRAY_SIZE(families), "family(", ")");
    case SYS_ARG_SOCKTYPE:
        return format_socktype(v32);
    case SYS_ARG_FD:
        return xasprintf("%d", (int)v32);
    case SYS_ARG_PERSONA:
        /* The execution domain is the low byte, 0 (PER_LINUX) for Linux programs; 0xffffffff
         * only asks. */
        if (v32 == UINT32_MAX)
            return xstrdup("query");
        return v32 & 0xff
                   ? xasprintf("0x%x", v32)
                   : format_flags(v32, persona_flags, ARRAY_SIZE(persona_flags), "PER_LINUX");
    default:
        return xasprintf("0x%llx", (unsigned long long)value);
    }
}

/* Bytes of an abstract socket name, printable ones as they are, others as \xHH. */
static void bytes_into(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "\\x%02x", c);
    }
}

char *format_sockaddr(const void *addr, size_t len, const char *cwd)
{
    sa_family_t family;
    if (len < sizeof(family))
        return xstrdup("family(truncated)");
    memcpy(&family, addr, sizeof(family));
    char text[INET6_ADDRSTRLEN];
    if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, addr, sizeof(in));
        inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
        return xasprintf("inet-[%s]:%u", text, ntohs(in.sin_port));
    }
    if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, addr, sizeof(in6));
        inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
        return xasprintf("inet6-[%s]:%u", text, ntohs(in6.sin6_port));
    }
    if (family == AF_UNIX) {
        const char *path = (const char *)addr + offsetof(struct sockaddr_un, sun_path);
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n == 0)
            return xstrdup("unix:unnamed");
        struct buf b = {0};
        if (path[0] == '\0') {
            buf_puts(&b, "abstract:");
            bytes_into(&b, path + 1, n - 1);
            return buf_steal(&b);
        }
        size_t plen = strnlen(path, n);
        if (path[0] != '/' && cwd)
            buf_printf(&b, "%s%s", cwd, streq(cwd, "/") ? "" : "/");
        buf_append(&b, path, plen);
        return buf_steal(&b);
    }
    return xasprintf("family(%u)", family);
}
