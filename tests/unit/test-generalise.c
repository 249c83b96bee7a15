/* test-generalise.c: learned paths as patterns: what is generalised, what is kept, and that each
 * pattern matches this run's value and the next run's. */
#include <string.h>
#include <time.h>

#include "generalise.h"
#include "suggest.h"
#include "testutil.h"
#include "util.h"

/* 2024-05-01 12:30:00 UTC: the "now" of these tests. */
#define NOW ((time_t)1714566600)

static const char *const created_paths[] = {"/tmp/backup.aaaaaa", "/srv/out/sedabcdef",
                                            "/tmp/ccabcdef.s"};

static bool created(void *userdata, const char *path)
{
    (void)userdata;
    for (size_t i = 0; i < G_N_ELEMENTS(created_paths); i++)
        if (streq(created_paths[i], path))
            return true;
    return false;
}

static bool pid_seen(void *userdata, long pid)
{
    (void)userdata;
    return pid == 4242;
}

static const struct gen_context ctx = {
    .home = "/home/alice",
    .cwd = "/home/alice/proj",
    .pid = 1234,
    .tid = 1240,
    .now = NOW,
    .created = created,
    .pid_seen = pid_seen,
};

/* A path this run saw -> what learning writes; NEXT: another run's value it must match too, or
 * NULL; OTHER: a value it must not match, or NULL. */
static const struct {
    const char *path, *want, *next, *other;
} cases[] = {
    /* Kept as they are. */
    {"/etc/hostname", "/etc/hostname", NULL, NULL},
    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, NULL},
    {"/usr/bin/python3.11", "/usr/bin/python3.11", NULL, NULL},
    {"/tmp/proj/Makefile", "/tmp/proj/Makefile", NULL, NULL}, /* a word, not random */
    {"/srv/sedabcdeg", "/srv/sedabcdeg", NULL, NULL},         /* outside /tmp, not created */
    {"/etc/ssl/certs/1001acf7.0", "/etc/ssl/certs/1001acf7.0", NULL, NULL},
    {"/var/log/app-2019-01-01.log", "/var/log/app-2019-01-01.log", NULL, NULL}, /* long ago */
    {"/srv/x.999", "/srv/x.999", NULL, NULL}, /* a number that is no pid of the run */
    /* The learning user's home and the working directory. */
    {"/home/alice/.profile", "$HOME/.profile", NULL, NULL},
    {"/home/alice/proj/a.c", "$CWD/a.c", NULL, NULL},
    {"/home/alice/proj", "$CWD", NULL, NULL},
    {"/home/alicex/a", "/home/alicex/a", NULL, NULL},
    /* The caller's own /proc entries, and others'. */
    {"/proc/1234/environ", "/proc/$PID/environ", NULL, NULL},
    {"/proc/1234/task/1240/comm", "/proc/$PID/task/$TID/comm", NULL, NULL},
    {"/proc/1234/task/1241/comm", "/proc/$PID/task/[0-9]*/comm", "/proc/1234/task/7/comm",
     "/proc/999/task/7/comm"},
    {"/proc/999/status", "/proc/[0-9]*/status", "/proc/1/status", NULL},
    {"/dev/pts/3", "/dev/pts/[0-9]*", "/dev/pts/12", NULL},
    {"pipe:[22070]", "pipe:*", "pipe:[1]", NULL},
    /* Temporary names. */
    {"/tmp/tmp.Ab3dE6gH9k", "/tmp/tmp.??????????", "/tmp/tmp.zzzzzzzzzz", "/tmp/tmp.short"},
    {"/tmp/tmp.Ab3dE6gH9k/data.tar", "/tmp/tmp.?????????\?/data.tar", /* \?: not a trigraph */
     "/tmp/tmp.0123456789/data.tar", NULL},
    {"/tmp/cc22b2x0.s", "/tmp/cc??????.s", "/tmp/ccQWERTY.s", "/tmp/cc22b2x0.o"},
    {"/tmp/ccBX4SuJ.cdtor.c", "/tmp/cc??????.cdtor.c", NULL, NULL},
    {"/tmp/ccabcdef.s", "/tmp/cc??????.s", NULL, NULL}, /* all lower case, but created */
    {"/tmp/backup.aaaaaa", "/tmp/backup.??????", NULL, NULL},
    {"/srv/out/sedabcdef", "/srv/out/sed??????", "/srv/out/sedXy12Zq", NULL},
    {"/tmp/tmpk3j_x9a2", "/tmp/tmp????????", NULL, NULL}, /* Python's tempfile */
    {"/tmp/test-7ktpwn1z/f", "/tmp/test-?????\?\?\?/f", "/tmp/test-abcdefgh/f", NULL},
    {"/tmp/python3.11", "/tmp/python3.11", NULL, NULL},
    {"/tmp/x86_64-linux", "/tmp/x86_64-linux", NULL, NULL},
    /* Pids and timestamps in names. */
    {"/srv/backup.1234.tar", "/srv/backup.[0-9]*.tar", "/srv/backup.77.tar", "/srv/backup.tar"},
    {"/srv/lock.4242", "/srv/lock.[0-9]*", NULL, NULL},
    {"/srv/backup-20240501-123456.tar.gz", "/srv/backup-[0-9]*-[0-9]*.tar.gz",
     "/srv/backup-20240502-000001.tar.gz", NULL},
    {"/srv/log-2024-04-30.txt", "/srv/log-[0-9]*-[0-9]*-[0-9]*.txt", NULL, NULL},
    {"/srv/log-2024-05-01T12:30:00.txt", "/srv/log-[0-9]*-[0-9]*-[0-9]*T[0-9]*:[0-9]*:[0-9]*.txt",
     NULL, NULL},
    {"/srv/run.1714566000.json", "/srv/run.[0-9]*.json", NULL, NULL},
    /* Versioned libraries: the next upgrade's file still matches. */
    {"/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "/usr/lib/x86_64-linux-gnu/libz.so.1*",
     "/usr/lib/x86_64-linux-gnu/libz.so.1.3", "/usr/lib/x86_64-linux-gnu/libzz.so.1.2.13"},
    {"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
     "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1*", NULL, NULL},
    /* Literal characters of a pattern are escaped. */
    {"/tmp/[x]/tmp.Ab3dE6gH9k", "/tmp/\\[x\\]/tmp.??????????", NULL, "/tmp/x/tmp.Ab3dE6gH9k"},
    {"/", "/", NULL, NULL},
};

static struct pol_request request(const struct pol_value *v)
{
    return (struct pol_request){.nr = sys_number("openat"),
                                .alias = SYS_ALIAS_FSREAD,
                                .args = v,
                                .n_args = 1,
                                .home = ctx.home,
                                .cwd = ctx.cwd,
                                .pid = ctx.pid,
                                .tid = ctx.tid};
}

/* Whether the rule learning writes for PATH matches VALUE (a run with the same pid, home, cwd). */
static bool learned_matches(const char *path, const char *value)
{
    struct pol_value v = {"filename", path, true};
    struct pol_request req = request(&v);
    g_autofree char *line = suggest_learned("fsread", &req, &ctx);
    struct pol_rule *r = rule_ok(line);
    struct pol_value other = {"filename", value, true};
    req = request(&other);
    bool m = pol_rule_matches(r, &req, NULL);
    pol_rule_free(r);
    return m;
}

static void test_paths(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = NULL;
        bool pattern;
        gen_path(&ctx, cases[i].path, &got, &pattern);
        if (!streq(got, cases[i].want))
            g_error("%s: got %s, want %s", cases[i].path, got, cases[i].want);
        if (!learned_matches(cases[i].path, cases[i].path))
            g_error("the rule learned for %s does not match it", cases[i].path);
        if (cases[i].next && !learned_matches(cases[i].path, cases[i].next))
            g_error("the rule learned for %s does not match %s", cases[i].path, cases[i].next);
        if (cases[i].other && learned_matches(cases[i].path, cases[i].other))
            g_error("the rule learned for %s matches %s", cases[i].path, cases[i].other);
    }
}

/* A policy learned from /proc/self/environ does not let the program read another's. */
static void test_own_proc_only(void)
{
    struct pol_value v = {"filename", "/proc/1234/environ", true};
    struct pol_request req = request(&v);
    g_autofree char *line = suggest_learned("fsread", &req, &ctx);
    g_assert_cmpstr(line, ==, "native-fsread: filename eq \"/proc/$PID/environ\" then permit");
    struct pol_rule *r = rule_ok(line);
    struct pol_value other = {"filename", "/proc/1/environ", true};
    req = request(&other);
    g_assert_false(pol_rule_matches(r, &req, NULL));
    /* The next run, another pid: its own environ is matched. */
    struct pol_value next = {"filename", "/proc/777/environ", true};
    req = request(&next);
    req.pid = 777;
    g_assert_true(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
    /* A prompt's exact answer is no broader. */
    req = request(&v);
    g_autofree char *exact = suggest_exact("fsread", &req, "permit");
    g_assert_cmpstr(exact, ==, "native-fsread: filename eq \"/proc/$PID/environ\" then permit");
}

/* A connect to a port the kernel picked (a listener bound to port 0) is any port of that host
 * shaped like the kernel's range (ip_local_port_range, 32768 60999 by default), never a
 * well-known one; a fixed port stays exact, and a prompt's exact answer keeps the port. */
static void test_ephemeral_ports(void)
{
    struct pol_value v[] = {{"fd", "3", false}, {"sockaddr", "inet-[127.0.0.1]:40001", true}};
    struct pol_request req = {.nr = sys_number("connect"), .args = v, .n_args = 2};
    g_autofree char *line = suggest_learned("connect", &req, &ctx);
    g_assert_cmpstr(line, ==,
                    "native-connect: sockaddr match "
                    "\"inet-\\\\[127.0.0.1\\\\]:[3-6][0-9][0-9][0-9][0-9]\" then permit");
    struct pol_rule *r = rule_ok(line);
    struct pol_value next_run[] = {{"fd", "5", false},
                                   {"sockaddr", "inet-[127.0.0.1]:52713", true}};
    req.args = next_run;
    g_assert_true(pol_rule_matches(r, &req, NULL));
    struct pol_value other_host[] = {{"fd", "5", false},
                                     {"sockaddr", "inet-[10.0.0.1]:52713", true}};
    req.args = other_host;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    struct pol_value ssh[] = {{"fd", "5", false}, {"sockaddr", "inet-[127.0.0.1]:22", true}};
    req.args = ssh;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    struct pol_value postgres[] = {{"fd", "5", false}, {"sockaddr", "inet-[127.0.0.1]:5432", true}};
    req.args = postgres;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
    struct pol_value fixed[] = {{"fd", "3", false}, {"sockaddr", "inet-[127.0.0.1]:5432", true}};
    req.args = fixed;
    g_autofree char *exact = suggest_learned("connect", &req, &ctx);
    g_assert_cmpstr(exact, ==, "native-connect: sockaddr eq \"inet-[127.0.0.1]:5432\" then permit");
    req.args = v;
    g_autofree char *answer = suggest_exact("connect", &req, "permit");
    g_assert_cmpstr(answer, ==,
                    "native-connect: sockaddr eq \"inet-[127.0.0.1]:40001\" then permit");
}

/* A read or an exec of a missing file fails with ENOENT anyway: one rule says so for all. */
static void test_misses(void)
{
    struct pol_value v[] = {{"filename", "/usr/local/bin/tar", true, true}};
    struct pol_request req = request(v);
    req.nr = sys_number("execve");
    req.alias = SYS_ALIAS_NONE;
    g_autofree char *line = suggest_learned("execve", &req, &ctx);
    g_assert_cmpstr(line, ==,
                    "native-execve: filename match \"<non-existent filename>: /*\" then "
                    "deny[enoent]");
    struct pol_rule *r = rule_ok(line);
    g_assert_true(pol_rule_matches(r, &req, NULL));
    struct pol_value other = {"filename", "/usr/bin/tar", true, false};
    req.args = &other;
    g_assert_false(pol_rule_matches(r, &req, NULL)); /* it exists: not this rule's business */
    struct pol_value elsewhere = {"filename", "/snap/bin/tar", true, true};
    req.args = &elsewhere;
    g_assert_true(pol_rule_matches(r, &req, NULL)); /* another $PATH: the same rule */
    pol_rule_free(r);
    /* The program an exec runs is kept exact, even in a temporary directory. */
    struct pol_value prog = {"filename", "/tmp/tmp.Ab3dE6gH9k/prog", true};
    req = request(&prog);
    req.nr = sys_number("execve");
    req.alias = SYS_ALIAS_NONE;
    g_autofree char *x = suggest_learned("execve", &req, &ctx);
    g_assert_cmpstr(x, ==, "native-execve: filename eq \"/tmp/tmp.Ab3dE6gH9k/prog\" then permit");
    /* Creating a missing file is not a miss. */
    struct pol_value create[] = {{"filename", "/srv/new", true, true},
                                 {"oflags", "O_WRONLY|O_CREAT|O_TRUNC", false}};
    req = request(create);
    req.n_args = 2;
    req.alias = SYS_ALIAS_FSWRITE;
    g_autofree char *w = suggest_learned("fswrite", &req, &ctx);
    g_assert_cmpstr(w, ==, "native-fswrite: filename eq \"/srv/new\" then permit");
}

static void test_exclusive_creation(void)
{
    static const struct {
        const char *call, *oflags, *mode;
        bool want;
    } calls[] = {
        {"openat", "O_RDWR|O_CREAT|O_EXCL", "0600", true},
        {"openat", "O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC", "0600", true},
        {"openat", "O_WRONLY|O_CREAT|O_TRUNC", "0600", false},
        {"openat", "O_RDWR|O_CREAT|O_EXCL", "0644", false},
        {"mkdir", NULL, "0700", true},
        {"mkdirat", NULL, "0700", true},
        {"mkdir", NULL, "0777", false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(calls); i++) {
        struct pol_value v[3] = {{"filename", "/tmp/x", true}};
        size_t n = 1;
        if (calls[i].oflags)
            v[n++] = (struct pol_value){"oflags", calls[i].oflags, false};
        v[n++] = (struct pol_value){"mode", calls[i].mode, false};
        struct pol_request req = {.nr = sys_number(calls[i].call), .args = v, .n_args = n};
        g_assert_cmpint(gen_is_exclusive_creation(&req), ==, calls[i].want);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/generalise/paths", test_paths);
    g_test_add_func("/generalise/own-proc-only", test_own_proc_only);
    g_test_add_func("/generalise/misses", test_misses);
    g_test_add_func("/generalise/ephemeral-ports", test_ephemeral_ports);
    g_test_add_func("/generalise/exclusive-creation", test_exclusive_creation);
    return g_test_run();
}
