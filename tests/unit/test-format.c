/* test-format.c: translation of canned integer and address arguments. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "format.h"
#include "names.h"
#include "testutil.h"

static const struct {
    enum sys_arg_kind kind;
    uint64_t value;
    const char *want;
} ints[] = {
    {SYS_ARG_OFLAGS, O_RDONLY, "O_RDONLY"},
    {SYS_ARG_OFLAGS, O_WRONLY | O_CREAT | O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC"},
    {SYS_ARG_OFLAGS, O_RDWR | O_CLOEXEC | O_NOFOLLOW, "O_RDWR|O_NOFOLLOW|O_CLOEXEC"},
    {SYS_ARG_OFLAGS, O_RDONLY | O_DIRECTORY, "O_RDONLY|O_DIRECTORY"},
    {SYS_ARG_OFLAGS, O_WRONLY | O_TMPFILE, "O_WRONLY|O_TMPFILE"},
    {SYS_ARG_OFLAGS, O_PATH, "O_RDONLY|O_PATH"},
    {SYS_ARG_OFLAGS, O_WRONLY | O_SYNC, "O_WRONLY|O_SYNC"},
    {SYS_ARG_OFLAGS, (1ull << 32) | O_RDONLY, "O_RDONLY"}, /* the kernel ignores the upper half */
    {SYS_ARG_OFLAGS, 0x40000000, "O_RDONLY|0x40000000"},
    {SYS_ARG_MODE, 0644, "0644"},
    {SYS_ARG_MODE, 04755, "4755"},
    {SYS_ARG_MODE, 0, "0000"},
    {SYS_ARG_ACCESS_MODE, F_OK, "F_OK"},
    {SYS_ARG_ACCESS_MODE, R_OK | X_OK, "R_OK|X_OK"},
    {SYS_ARG_PROT, PROT_NONE, "PROT_NONE"},
    {SYS_ARG_PROT, PROT_READ | PROT_EXEC, "PROT_READ|PROT_EXEC"},
    {SYS_ARG_MMAP_FLAGS, MAP_PRIVATE | MAP_ANONYMOUS, "MAP_PRIVATE|MAP_ANONYMOUS"},
    {SYS_ARG_MMAP_FLAGS, MAP_SHARED_VALIDATE | MAP_SYNC, "MAP_SHARED_VALIDATE|MAP_SYNC"},
    {SYS_ARG_FCNTL_CMD, F_SETFD, "F_SETFD"},
    {SYS_ARG_FCNTL_CMD, F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
    {SYS_ARG_FCNTL_CMD, 9999, "9999"},
    {SYS_ARG_IOCTL_CMD, 0x5401, "TCGETS"},
    {SYS_ARG_IOCTL_CMD, 0x541b, "FIONREAD"},
    {SYS_ARG_IOCTL_CMD, 0x5413, "TIOCGWINSZ"},
    {SYS_ARG_IOCTL_CMD, 0x40049409, "FICLONE"},
    {SYS_ARG_IOCTL_CMD, 0x1234, "0x1234"}, /* no name: the number, in hex */
    {SYS_ARG_UID, 0, "root"},
    {SYS_ARG_UID, 4000000, "4000000"}, /* no user of that id: the number */
    {SYS_ARG_UID, 0xffffffff, "-1"},
    {SYS_ARG_GID, 0, "root"},
    {SYS_ARG_UNAME, 0, "root"},
    {SYS_ARG_GNAME, 0, "root"},
    {SYS_ARG_UNAME, 4000000, "4000000"},
    {SYS_ARG_SIGNAL, SIGTERM, "SIGTERM"},
    {SYS_ARG_SIGNAL, SIGKILL, "SIGKILL"},
    {SYS_ARG_SIGNAL, 0, "0"},
    {SYS_ARG_SIGNAL, 34, "SIGRTMIN+2"},
    {SYS_ARG_SOCKDOM, AF_INET6, "AF_INET6"},
    {SYS_ARG_SOCKDOM, AF_UNIX, "AF_UNIX"},
    {SYS_ARG_SOCKDOM, (1ull << 32) | AF_INET, "AF_INET"},
    {SYS_ARG_SOCKDOM, 200, "family(200)"},
    {SYS_ARG_SOCKTYPE, SOCK_STREAM | SOCK_CLOEXEC, "SOCK_STREAM|SOCK_CLOEXEC"},
    {SYS_ARG_SOCKTYPE, SOCK_DGRAM | SOCK_NONBLOCK, "SOCK_DGRAM|SOCK_NONBLOCK"},
    {SYS_ARG_FD, (uint64_t)-100, "-100"},
    {SYS_ARG_FD, 3, "3"},
};

static void test_ints(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(ints); i++) {
        g_autofree char *got = format_int(ints[i].kind, ints[i].value);
        if (!g_str_equal(got, ints[i].want))
            g_error("case %u: got %s, want %s", i, got, ints[i].want);
    }
}

/* Names come from the databases, the same on a second (cached) lookup; unknown ids have none. */
static void test_names(void)
{
    for (int round = 0; round < 2; round++) {
        char *home = NULL;
        g_autofree char *root = names_user(0, &home);
        g_assert_cmpstr(root, ==, "root");
        g_assert_cmpstr(home, ==, "/root");
        free(home);
        g_autofree char *group = names_group(0);
        g_assert_cmpstr(group, ==, "root");
        home = (char *)"untouched";
        g_assert_null(names_user(3999999999u, &home));
        g_assert_null(home);
        g_assert_null(names_group(3999999999u));
    }
    g_autofree char *formatted = format_int(SYS_ARG_UID, 3999999999u);
    g_assert_cmpstr(formatted, ==, "3999999999");
}

static void test_sockaddrs(void)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    g_autofree char *a = format_sockaddr(&in, sizeof(in), "/");
    g_assert_cmpstr(a, ==, "inet-[127.0.0.1]:53");
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    g_autofree char *b = format_sockaddr(&in6, sizeof(in6), "/");
    g_assert_cmpstr(b, ==, "inet6-[::1]:443");
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, "/run/x.sock");
    g_autofree char *c = format_sockaddr(&un, sizeof(un), "/");
    g_assert_cmpstr(c, ==, "/run/x.sock");
    strcpy(un.sun_path, "rel.sock");
    g_autofree char *d = format_sockaddr(&un, offsetof(struct sockaddr_un, sun_path) + 9, "/srv");
    g_assert_cmpstr(d, ==, "/srv/rel.sock");
    memcpy(un.sun_path, "\0name\x01", 6);
    g_autofree char *e = format_sockaddr(&un, offsetof(struct sockaddr_un, sun_path) + 6, "/");
    g_assert_cmpstr(e, ==, "abstract:name\\x01");
    g_autofree char *f = format_sockaddr(&un, offsetof(struct sockaddr_un, sun_path), "/");
    g_assert_cmpstr(f, ==, "unix:unnamed");
    struct sockaddr sa = {.sa_family = 16};
    g_autofree char *g = format_sockaddr(&sa, sizeof(sa), "/");
    g_assert_cmpstr(g, ==, "family(16)");
    /* Truncated structures are named by family, never read past their length. */
    g_autofree char *h = format_sockaddr(&in, 4, "/");
    g_assert_cmpstr(h, ==, "family(2)");
    g_autofree char *k = format_sockaddr(&in, 1, "/");
    g_assert_cmpstr(k, ==, "family(truncated)");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/format/ints", test_ints);
    g_test_add_func("/format/sockaddrs", test_sockaddrs);
    g_test_add_func("/format/names", test_names);
    return g_test_run();
}
