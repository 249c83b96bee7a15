/* test-learn.c: the rule learning writes for an uncovered call: an include of the abstraction
 * that covers it, a generalised rule with what the run has seen, a rule for a whole directory. */
#include <glib/gstdio.h>

#include "learn.h"
#include "testutil.h"
#include "util.h"

struct env {
    char *top, *policies, *data;
    struct store *store;
    struct learner *learner;
};

static void write_text(const char *path, const char *text)
{
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void env_init(struct env *e)
{
    e->top = g_dir_make_tmp("systrace-learn-XXXXXX", NULL);
    e->policies = g_build_filename(e->top, "policies", NULL);
    e->data = g_build_filename(e->top, "data", NULL);
    g_autofree char *abs = g_build_filename(e->data, "abstractions", NULL);
    g_autofree char *global = g_build_filename(e->top, "global", NULL);
    g_assert_cmpint(g_mkdir_with_parents(abs, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(e->policies, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(global, 0700), ==, 0);
    g_autofree char *base = g_build_filename(abs, "base", NULL);
    g_autofree char *zone = g_build_filename(abs, "timezone", NULL);
    g_autofree char *both = g_build_filename(abs, "aaa-both", NULL);
    write_text(base, "native-brk: permit\n"
                     "native-fsread: filename eq \"/etc/ld.so.cache\" then permit\n"
                     "native-fsread: filename eq \"/etc/secret\" then deny\n");
    write_text(zone, "native-fsread: filename eq \"/etc/localtime\" then permit\n");
    /* Sorts before "base" and covers brk too: base is still preferred. */
    write_text(both, "native-brk: permit\n"
                     "native-fsread: filename eq \"/etc/secret\" then permit\n"
                     "native-fsread: filename eq \"/etc/localtime\" then permit\n");
    struct store_options o = {.user_dir = e->policies, .global_dir = global, .data_dir = e->data};
    g_assert_cmpint(store_new(&o, &e->store), ==, 0);
    g_assert_cmpint(learner_new(e->policies, e->store, NULL, &e->learner), ==, 0);
}

static void env_free(struct env *e)
{
    learner_free(e->learner);
    store_free(e->store);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", e->top);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(e->top);
    g_free(e->policies);
    g_free(e->data);
}

static char *rule_for(struct env *e, const char *binary, const char *rule_name, const char *call,
                      const struct pol_value *args, size_t n)
{
    struct pol_request req = {
        .nr = sys_number(call),
        .alias = sys_alias_from_name(rule_name),
        .args = args,
        .n_args = n,
        .home = "/home/alice",
        .cwd = "/home/alice/proj",
        .pid = 500,
        .tid = 500,
    };
    return learner_rule(e->learner, binary, rule_name, &req);
}

static void test_includes(void)
{
    struct env e;
    env_init(&e);
    g_autofree char *brk = rule_for(&e, "/bin/a", "brk", "brk", NULL, 0);
    g_assert_cmpstr(brk, ==, "include \"base\"");
    struct pol_value cache = {"filename", "/etc/ld.so.cache", true};
    g_autofree char *c = rule_for(&e, "/bin/a", "fsread", "openat", &cache, 1);
    g_assert_cmpstr(c, ==, "include \"base\"");
    /* Only where the abstraction's first matching rule permits. */
    struct pol_value secret = {"filename", "/etc/secret", true};
    g_autofree char *sec = rule_for(&e, "/bin/a", "fsread", "openat", &secret, 1);
    g_assert_cmpstr(sec, ==, "include \"aaa-both\"");
    /* Once a policy includes one, it is preferred to others that cover the call too. */
    struct pol_value zone = {"filename", "/etc/localtime", true};
    g_autofree char *z = rule_for(&e, "/bin/a", "fsread", "openat", &zone, 1);
    g_assert_cmpstr(z, ==, "include \"aaa-both\"");
    g_autofree char *z2 = rule_for(&e, "/bin/b", "fsread", "openat", &zone, 1);
    g_assert_cmpstr(z2, ==, "include \"aaa-both\""); /* the first in name order after base */
    /* Nothing covers it: the learned rule itself. */
    struct pol_value host = {"filename", "/etc/hostname", true};
    g_autofree char *h = rule_for(&e, "/bin/a", "fsread", "openat", &host, 1);
    g_assert_cmpstr(h, ==, "native-fsread: filename eq \"/etc/hostname\" then permit");
    env_free(&e);
}

/* A name one program of the run created is generalised when another uses it. */
static void test_created_names(void)
{
    struct env e;
    env_init(&e);
    struct pol_value make[] = {{"filename", "/srv/spool/job.abcdef", true, true},
                               {"oflags", "O_RDWR|O_CREAT|O_EXCL", false},
                               {"mode", "0600", false}};
    g_autofree char *m = rule_for(&e, "/usr/bin/mktemp", "fswrite", "openat", make, 3);
    g_assert_cmpstr(m, ==, "native-fswrite: filename match \"/srv/spool/job.??????\" then permit");
    struct pol_value use = {"filename", "/srv/spool/job.abcdef/out.tar", true, true};
    struct pol_value more[] = {use, {"oflags", "O_WRONLY|O_CREAT|O_TRUNC", false}};
    g_autofree char *t = rule_for(&e, "/usr/bin/tar", "fswrite", "openat", more, 2);
    g_assert_cmpstr(
        t, ==, "native-fswrite: filename match \"/srv/spool/job.?????\?/out.tar\" then permit");
    /* Not created by the run, not in a temporary directory: kept. */
    struct pol_value other = {"filename", "/srv/spool/job.ghijkl", true};
    g_autofree char *o = rule_for(&e, "/usr/bin/tar", "fsread", "openat", &other, 1);
    g_assert_cmpstr(o, ==, "native-fsread: filename eq \"/srv/spool/job.ghijkl\" then permit");
    /* A pid of the run in a name. */
    struct pol_value lock = {"filename", "/srv/spool/lock.500", true};
    g_autofree char *l = rule_for(&e, "/usr/bin/tar", "fsread", "openat", &lock, 1);
    g_assert_cmpstr(l, ==, "native-fsread: filename match \"/srv/spool/lock.[0-9]*\" then permit");
    env_free(&e);
}

/* Three files read in one directory below the working directory: a rule for all of it. */
static void test_directory(void)
{
    struct env e;
    env_init(&e);
    const char *files[] = {"/home/alice/proj/a.txt", "/home/alice/proj/b.txt",
                           "/home/alice/proj/a.txt", "/home/alice/proj/index.html",
                           "/home/alice/proj/new.txt"};
    const char *want[] = {
        "native-fsread: filename eq \"$CWD/a.txt\" then permit",
        "native-fsread: filename eq \"$CWD/b.txt\" then permit",
        "native-fsread: filename eq \"$CWD/a.txt\" then permit", /* the same file again */
        "native-fsread: filename match \"$CWD/*\" then permit",
        "native-fsread: filename match \"$CWD/*\" then permit",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        struct pol_value v = {"filename", files[i], true};
        g_autofree char *r = rule_for(&e, "/usr/bin/python3.11", "fsread", "openat", &v, 1);
        g_assert_cmpstr(r, ==, want[i]);
    }
    /* Not for writes, nor outside the working directory. */
    struct pol_value w = {"filename", "/home/alice/proj/c.txt", true};
    g_autofree char *wr = rule_for(&e, "/usr/bin/python3.11", "fswrite", "openat", &w, 1);
    g_assert_cmpstr(wr, ==, "native-fswrite: filename eq \"$CWD/c.txt\" then permit");
    /* What a program creates it may look at: the read is recorded with the creation. */
    struct pol_value mk[] = {{"filename", "/home/alice/proj/out", true, true},
                             {"mode", "0777", false}};
    g_autofree char *mkr = rule_for(&e, "/usr/bin/mkdir", "fswrite", "mkdir", mk, 2);
    g_assert_cmpstr(mkr, ==, "native-fswrite: filename eq \"$CWD/out\" then permit");
    g_assert_true(learner_knows(e.learner, "/usr/bin/mkdir",
                                "native-fsread: filename eq \"$CWD/out\" then permit"));
    /* A miss is not a file read. */
    struct pol_value miss = {"filename", "/usr/local/bin/x", true, true};
    g_autofree char *mr = rule_for(&e, "/usr/bin/sh", "execve", "execve", &miss, 1);
    g_assert_cmpstr(mr, ==,
                    "native-execve: filename match \"<non-existent filename>: /*\" then "
                    "deny[enoent]");
    env_free(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/learn/includes", test_includes);
    g_test_add_func("/learn/created-names", test_created_names);
    g_test_add_func("/learn/directory", test_directory);
    return g_test_run();
}
