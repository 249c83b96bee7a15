/* test-suggest.c: suggestions from exact to broad. */
#include "suggest.h"
#include "testutil.h"

static struct pol_request request(const struct pol_value *args, size_t n)
{
    return (struct pol_request){.nr = sys_number("openat"),
                                .alias = SYS_ALIAS_FSREAD,
                                .args = args,
                                .n_args = n,
                                .user = "alice",
                                .home = "/home/alice",
                                .cwd = "/"};
}

static void check(const char *name, const struct pol_request *req, const char *const *want,
                  size_t n_want)
{
    char **got;
    size_t n = suggest_rules(name, req, "permit", &got);
    for (size_t i = 0; i < n && i < n_want; i++)
        g_assert_cmpstr(got[i], ==, want[i]);
    g_assert_cmpuint(n, ==, n_want);
    /* Every suggestion parses and matches the call it was made for. */
    for (size_t i = 0; i < n; i++) {
        struct pol_rule *r = rule_ok(got[i]);
        if (!pol_rule_matches(r, req, NULL))
            g_error("suggestion does not match its call: %s", got[i]);
        pol_rule_free(r);
    }
    suggest_free(got, n);
}

static void test_ladder(void)
{
    struct pol_value v[] = {{"filename", "/usr/share/icons/a.png", true},
                            {"oflags", "O_RDONLY", false}};
    struct pol_request req = request(v, 2);
    const char *want[] = {
        "native-fsread: filename eq \"/usr/share/icons/a.png\" then permit",
        "native-fsread: filename match \"/usr/share/icons/*\" then permit",
        "native-fsread: filename match \"/usr/share/*\" then permit",
        "native-fsread: filename match \"/usr/*\" then permit",
        "native-fsread: filename match \"/usr/share/icons/*.png\" then permit",
        "native-fsread: true then permit",
    };
    check("fsread", &req, want, G_N_ELEMENTS(want));
}

static void test_home(void)
{
    struct pol_value v[] = {{"filename", "/home/alice/docs/alice/x", true}};
    struct pol_request req = request(v, 1);
    const char *want[] = {
        "native-fsread: filename eq \"$HOME/docs/$USER/x\" then permit",
        "native-fsread: filename eq \"$HOME/docs/alice/x\" then permit", /* what -A writes */
        "native-fsread: filename eq \"/home/alice/docs/alice/x\" then permit",
        "native-fsread: filename match \"$HOME/docs/$USER/*\" then permit",
        "native-fsread: filename match \"$HOME/docs/*\" then permit",
        "native-fsread: filename match \"$HOME/*\" then permit",
        "native-fsread: true then permit",
    };
    check("fsread", &req, want, G_N_ELEMENTS(want));
}

static void test_nonexistent(void)
{
    struct pol_value v[] = {{"filename", "/etc/nope", true, true}};
    struct pol_request req = request(v, 1);
    const char *want[] = {
        "native-fsread: filename sub \"<non-existent filename>\" then deny[enoent]",
        "native-fsread: filename eq \"/etc/nope\" then permit",
        "native-fsread: filename match \"/etc/*\" then permit",
        "native-fsread: true then permit",
    };
    check("fsread", &req, want, G_N_ELEMENTS(want));
}

static void test_sockaddr_and_plain(void)
{
    struct pol_value v[] = {{"fd", "3", false}, {"sockaddr", "inet-[127.0.0.1]:53", true}};
    struct pol_request req = request(v, 2);
    req.nr = sys_number("connect");
    req.alias = SYS_ALIAS_NONE;
    const char *want[] = {
        "native-connect: sockaddr eq \"inet-[127.0.0.1]:53\" then permit",
        "native-connect: sockaddr match \"inet-\\\\[127.0.0.1\\\\]:*\" then permit",
        "native-connect: true then permit",
    };
    check("connect", &req, want, G_N_ELEMENTS(want));
    g_autofree char *exact = suggest_exact("connect", &req, "deny[eacces]");
    g_assert_cmpstr(exact, ==,
                    "native-connect: sockaddr eq \"inet-[127.0.0.1]:53\" then "
                    "deny[eacces]");
    req.n_args = 1; /* only an fd: nothing identifies the call */
    g_autofree char *bare = suggest_exact("connect", &req, "permit");
    g_assert_cmpstr(bare, ==, "native-connect: permit");
}

static void test_glob_characters(void)
{
    struct pol_value v[] = {{"filename", "/srv/[x]/a*b.txt", true}};
    struct pol_request req = request(v, 1);
    const char *want[] = {
        "native-fsread: filename eq \"/srv/[x]/a*b.txt\" then permit",
        "native-fsread: filename match \"/srv/\\\\[x\\\\]/*\" then permit",
        "native-fsread: filename match \"/srv/*\" then permit",
        "native-fsread: filename match \"/srv/\\\\[x\\\\]/*.txt\" then permit",
        "native-fsread: true then permit",
    };
    check("fsread", &req, want, G_N_ELEMENTS(want));
    /* The escaped ladder does not match a sibling that the bracket would have. */
    struct pol_rule *r = rule_ok(want[1]);
    struct pol_value sibling = {"filename", "/srv/x/a", true};
    req = request(&sibling, 1);
    g_assert_false(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
}

/* Values that change from run to run: the learned rule must match the next run's. */
static const struct {
    const char *value, *rule, *next_run;
} volatiles[] = {
    {"pipe:[22070]", "native-fsread: filename match \"pipe:*\" then permit", "pipe:[99]"},
    {"socket:[1]", "native-fsread: filename match \"socket:*\" then permit", "socket:[2]"},
    {"anon_inode:[eventfd]", "native-fsread: filename match \"anon_inode:*\" then permit",
     "anon_inode:[eventfd]"},
    {"/proc/1234/status", "native-fsread: filename match \"/proc/[0-9]*/status\" then permit",
     "/proc/77/status"},
    {"/proc/12/task/13/stat",
     "native-fsread: filename match \"/proc/[0-9]*/task/[0-9]*/stat\" then permit",
     "/proc/5/task/6/stat"},
    {"/dev/pts/3", "native-fsread: filename match \"/dev/pts/[0-9]*\" then permit", "/dev/pts/0"},
    {"/proc/sys/kernel/x", "native-fsread: filename eq \"/proc/sys/kernel/x\" then permit", NULL},
    {"/srv/1234/x", "native-fsread: filename eq \"/srv/1234/x\" then permit", NULL},
};

static void test_volatile_values(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(volatiles); i++) {
        struct pol_value v = {"filename", volatiles[i].value, true};
        struct pol_request req = request(&v, 1);
        g_autofree char *exact = suggest_exact("fsread", &req, "permit");
        g_assert_cmpstr(exact, ==, volatiles[i].rule);
        struct pol_rule *r = rule_ok(exact);
        g_assert_true(pol_rule_matches(r, &req, NULL));
        if (volatiles[i].next_run) {
            struct pol_value next = {"filename", volatiles[i].next_run, true};
            req = request(&next, 1);
            g_assert_true(pol_rule_matches(r, &req, NULL));
        }
        pol_rule_free(r);
    }
    /* Not /proc/PID: a pid in another process's path is not volatile for us. */
    struct pol_value v = {"filename", "/proc/1234/status", true};
    struct pol_value other = {"filename", "/proc/1234/statm", true};
    struct pol_request req = request(&v, 1);
    g_autofree char *exact = suggest_exact("fsread", &req, "permit");
    struct pol_rule *r = rule_ok(exact);
    req = request(&other, 1);
    g_assert_false(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
}

static void test_two_paths_and_quotes(void)
{
    struct pol_value v[] = {{"filename", "/a/\"q\"", true}, {"filename", "/b/c", true}};
    struct pol_request req = request(v, 2);
    req.nr = sys_number("rename");
    req.alias = SYS_ALIAS_FSWRITE;
    g_autofree char *exact = suggest_exact("fswrite", &req, "permit");
    g_assert_cmpstr(exact, ==,
                    "native-fswrite: filename eq \"/a/\\\"q\\\"\" and filename[1] eq "
                    "\"/b/c\" then permit");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/suggest/ladder", test_ladder);
    g_test_add_func("/suggest/home", test_home);
    g_test_add_func("/suggest/nonexistent", test_nonexistent);
    g_test_add_func("/suggest/sockaddr", test_sockaddr_and_plain);
    g_test_add_func("/suggest/glob-characters", test_glob_characters);
    g_test_add_func("/suggest/volatile-values", test_volatile_values);
    g_test_add_func("/suggest/two-paths", test_two_paths_and_quotes);
    return g_test_run();
}
