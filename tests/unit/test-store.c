/* test-store.c: naming, lookup order, atomic append (also under concurrent writers), the
 * watcher. Each test works in its own temporary directory. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store.h"
#include "testutil.h"
#include "util.h"

static const struct {
    const char *binary, *name;
} names[] = {
    {"/usr/sbin/inetd", "usr_sbin_inetd"},
    {"/usr/sbin/named", "usr_sbin_named"},
    {"/bin/ls", "bin_ls"},
    {"/usr/lib/x86_64-linux-gnu/ld.so", "usr_lib_x86_64_linux_gnu_ld_so"},
    {"/opt/caf\xc3\xa9/a b", "opt_caf___a_b"},
    {"/", ""},
};

static void test_naming(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *n = NULL;
        g_assert_cmpint(store_file_name(names[i].binary, &n), ==, 0);
        g_assert_cmpstr(n, ==, names[i].name);
    }
    char *n = NULL;
    g_assert_cmpint(store_file_name("bin/ls", &n), ==, -EINVAL);
    g_assert_cmpint(store_file_name("", &n), ==, -EINVAL);
    /* Over-long paths are cut to a valid file name that still tells them apart. */
    GString *a = g_string_new("/");
    for (int i = 0; i < 400; i++)
        g_string_append_c(a, 'x');
    g_autofree char *na = NULL, *nb = NULL;
    g_assert_cmpint(store_file_name(a->str, &na), ==, 0);
    g_string_append_c(a, 'y');
    g_assert_cmpint(store_file_name(a->str, &nb), ==, 0);
    g_assert_cmpuint(strlen(na), <=, 255);
    g_assert_cmpstr(na, !=, nb);
    g_string_free(a, TRUE);
}

static char *make_tmpdir(void)
{
    char *d = g_dir_make_tmp("systrace-store-XXXXXX", NULL);
    g_assert_nonnull(d);
    return d;
}

static void write_text(const char *path, const char *text)
{
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *read_text(const char *path)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void rm_rf(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_lookup_order(void)
{
    g_autofree char *top = make_tmpdir();
    g_autofree char *user = g_build_filename(top, "user", NULL);
    g_autofree char *global = g_build_filename(top, "global", NULL);
    g_autofree char *extra = g_build_filename(top, "extra.policy", NULL);
    g_assert_cmpint(store_ensure_dir(user), ==, 0);
    g_assert_cmpint(store_ensure_dir(global), ==, 0);
    struct stat st;
    g_assert_cmpint(stat(user, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(store_ensure_dir(user), ==, 0);      /* existing: fine */
    g_assert_cmpint(store_ensure_dir(extra), ==, 0 - 0); /* created as a dir here… */
    g_assert_cmpint(rmdir(extra), ==, 0);

    g_autofree char *u = g_build_filename(user, "bin_a", NULL);
    g_autofree char *g1 = g_build_filename(global, "bin_a", NULL);
    g_autofree char *g2 = g_build_filename(global, "bin_b", NULL);
    write_text(u, "Policy: /bin/a, Emulation: native\n\tnative-read: permit\n");
    write_text(g1, "Policy: /bin/a, Emulation: native\n\tnative-write: permit\n");
    write_text(g2, "Policy: /bin/b, Emulation: native\n\tnative-close: permit\n");
    write_text(extra, "Policy: */c, Emulation: native\n\tnative-getpid: permit\n"
                      "Policy: /usr/bin/c, Emulation: native\n\tnative-getppid: permit\n");

    struct store_options o = {.user_dir = user, .global_dir = global};
    struct store *s;
    g_assert_cmpint(store_new(&o, &s), ==, 0);
    struct store_policy p;
    g_assert_cmpint(store_get(s, "/bin/a", &p), ==, 0);
    g_assert_cmpint(p.origin, ==, STORE_ORIGIN_USER);
    g_assert_cmpstr(p.policy->rules[0].name, ==, "read");
    store_policy_release(&p);
    g_assert_cmpint(store_get(s, "/bin/b", &p), ==, 0);
    g_assert_cmpint(p.origin, ==, STORE_ORIGIN_GLOBAL);
    store_policy_release(&p);
    g_assert_cmpint(store_get(s, "/bin/c", &p), ==, -ENOENT);
    g_assert_null(p.policy);
    g_autofree char *where = NULL;
    enum store_origin origin;
    g_assert_cmpint(store_locate(s, "/bin/zz", &where, &origin), ==, -ENOENT);
    g_autofree char *want_where = g_build_filename(user, "bin_zz", NULL);
    g_assert_cmpstr(where, ==, want_where);
    store_free(s);

    /* -U: user policies are skipped */
    o.user_dir = NULL;
    g_assert_cmpint(store_new(&o, &s), ==, 0);
    g_assert_cmpint(store_get(s, "/bin/a", &p), ==, 0);
    g_assert_cmpint(p.origin, ==, STORE_ORIGIN_GLOBAL);
    g_assert_cmpstr(p.policy->rules[0].name, ==, "write");
    store_policy_release(&p);
    store_free(s);

    /* -f: searched first; an exact path beats a wildcard anywhere in the files */
    const char *files[] = {extra};
    o = (struct store_options){
        .user_dir = user, .global_dir = global, .files = files, .n_files = 1};
    g_assert_cmpint(store_new(&o, &s), ==, 0);
    g_assert_cmpint(store_get(s, "/opt/x/c", &p), ==, 0);
    g_assert_cmpint(p.origin, ==, STORE_ORIGIN_FILE);
    g_assert_cmpstr(p.policy->rules[0].name, ==, "getpid");
    store_policy_release(&p);
    g_assert_cmpint(store_get(s, "/usr/bin/c", &p), ==, 0);
    g_assert_cmpstr(p.policy->rules[0].name, ==, "getppid");
    store_policy_release(&p);
    g_assert_cmpint(store_get(s, "/bin/a", &p), ==, 0);
    g_assert_cmpint(p.origin, ==, STORE_ORIGIN_USER);
    store_policy_release(&p);
    store_free(s);

    const char *missing[] = {"/nonexistent/policy"};
    o.files = missing;
    g_assert_cmpint(store_new(&o, &s), ==, -ENOENT);
    rm_rf(top);
}

static void test_append(void)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "usr_bin_x", NULL);
    const char *rules[] = {"native-read: permit",
                           "native-fsread: filename eq \"/etc/a\" then permit"};
    size_t added;
    char *err = NULL;
    /* A new file gets a header. */
    g_assert_cmpint(store_append(dir, "/usr/bin/x", rules, 2, &added, &err), ==, 0);
    g_assert_cmpuint(added, ==, 2);
    g_autofree char *t1 = read_text(path);
    g_assert_cmpstr(t1, ==,
                    "Policy: /usr/bin/x, Emulation: native\n\tnative-read: permit\n"
                    "\tnative-fsread: filename eq \"/etc/a\" then permit\n");
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    /* Again: nothing new (written differently, same rule). */
    const char *same[] = {"native-read:permit", "native-read: permit"};
    g_assert_cmpint(store_append(dir, "/usr/bin/x", same, 2, &added, &err), ==, 0);
    g_assert_cmpuint(added, ==, 0);

    /* A person's edits are kept byte for byte; new rules go after the policy's last rule. */
    const char *edited = "# my notes\nPolicy: /usr/bin/x, Emulation: native\n"
                         "    native-read:permit   # keep this spacing\n"
                         "\n# trailing comment\n"
                         "Policy: /usr/bin/other, Emulation: native\n\tnative-write: permit";
    write_text(path, edited);
    chmod(path, 0640);
    const char *more[] = {"native-write: permit", "native-read: permit", "native-write: permit"};
    g_assert_cmpint(store_append(dir, "/usr/bin/x", more, 3, &added, &err), ==, 0);
    g_assert_cmpuint(added, ==, 1);
    g_autofree char *t2 = read_text(path);
    g_assert_cmpstr(t2, ==,
                    "# my notes\nPolicy: /usr/bin/x, Emulation: native\n"
                    "    native-read:permit   # keep this spacing\n"
                    "\tnative-write: permit\n"
                    "\n# trailing comment\n"
                    "Policy: /usr/bin/other, Emulation: native\n\tnative-write: permit");
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0640);

    /* A rule that does not parse is refused, and nothing is written. */
    const char *bad[] = {"native-read: permit", "native-read: filename eq"};
    g_assert_cmpint(store_append(dir, "/usr/bin/x", bad, 2, &added, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "expected a quoted string"));
    g_clear_pointer(&err, free);
    g_autofree char *t3 = read_text(path);
    g_assert_cmpstr(t3, ==, t2);

    /* A file that no longer parses is never rewritten. */
    write_text(path, "Policy: /usr/bin/x, Emulation: native\n\tnative-read: permit[\n");
    g_assert_cmpint(store_append(dir, "/usr/bin/x", rules, 1, &added, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "usr_bin_x:2:"));
    g_clear_pointer(&err, free);

    /* A program path that would break out of the header line is refused. */
    const char *evil = "/tmp/x, Emulation: native\n\tnative-execve: permit\nPolicy: /tmp/y";
    g_assert_cmpint(store_append(dir, evil, rules, 1, &added, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "control character"));
    g_clear_pointer(&err, free);

    /* A symlink planted in place of the policy is not followed. */
    g_autofree char *target = g_build_filename(dir, "target", NULL);
    write_text(target, "untouched");
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    g_assert_cmpint(store_append(dir, "/usr/bin/x", rules, 1, &added, &err), ==, -ELOOP);
    g_assert_nonnull(strstr(err, "symbolic link"));
    g_clear_pointer(&err, free);
    g_autofree char *t4 = read_text(target);
    g_assert_cmpstr(t4, ==, "untouched");
    /* Nor a FIFO (which would block a reader). */
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    g_assert_cmpint(store_append(dir, "/usr/bin/x", rules, 1, &added, &err), ==, -EINVAL);
    g_clear_pointer(&err, free);
    /* No temporary files are left behind. */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while ((e = g_dir_read_name(d)))
        g_assert_false(e[0] == '.');
    rm_rf(dir);
}

static void test_concurrent_append(void)
{
    g_autofree char *dir = make_tmpdir();
    enum { WRITERS = 4, RULES = 60 };
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        g_assert_cmpint(pids[w], >=, 0);
        if (pids[w] == 0) {
            for (int i = 0; i < RULES; i++) {
                char rule[128];
                snprintf(rule, sizeof(rule), "native-fsread: filename eq \"/w%d/%d\" then permit",
                         w, i);
                const char *one[] = {rule};
                if (store_append(dir, "/usr/bin/race", one, 1, NULL, NULL) < 0)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        g_assert_cmpint(waitpid(pids[w], &status, 0), ==, pids[w]);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    g_autofree char *path = g_build_filename(dir, "usr_bin_race", NULL);
    g_autofree char *text = read_text(path);
    struct pol_file *f = parse_ok(text);
    g_assert_cmpuint(f->n_policies, ==, 1);
    /* No writer lost another's rules. */
    g_assert_cmpuint(f->policies[0].n_rules, ==, WRITERS * RULES);
    pol_file_free(f);
    rm_rf(dir);
}

struct reports {
    GPtrArray *msgs;
};

static void collect(void *userdata, const char *msg)
{
    struct reports *r = userdata;
    g_ptr_array_add(r->msgs, g_strdup(msg));
}

static size_t rule_count(struct store *s, const char *binary)
{
    struct store_policy p;
    if (store_get(s, binary, &p) < 0)
        return (size_t)-1;
    size_t n = p.policy->n_rules;
    store_policy_release(&p);
    return n;
}

static void test_watcher(void)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *global = make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "usr_bin_w", NULL);
    struct store_options o = {.user_dir = dir, .global_dir = global};
    struct store *s;
    g_assert_cmpint(store_new(&o, &s), ==, 0);
    struct reports rep = {g_ptr_array_new_with_free_func(g_free)};
    store_set_reporter(s, collect, &rep);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, (size_t)-1);

    /* Created after the store was opened: seen on the next lookup. */
    const char *r1[] = {"native-read: permit"};
    g_assert_cmpint(store_append(dir, "/usr/bin/w", r1, 1, NULL, NULL), ==, 0);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 1);
    g_assert_cmpint(store_watch_fd(s), >=, 0);

    /* A snapshot survives later edits. */
    struct store_policy snap;
    g_assert_cmpint(store_get(s, "/usr/bin/w", &snap), ==, 0);

    /* An edit (written in place, as an editor may) is seen at once. */
    write_text(path, "Policy: /usr/bin/w, Emulation: native\n\tnative-read: permit\n"
                     "\tnative-write: permit\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 2);
    g_assert_cmpuint(snap.policy->n_rules, ==, 1);
    store_policy_release(&snap);

    /* A broken edit keeps the last good version, and says why. */
    write_text(path, "Policy: /usr/bin/w, Emulation: native\n\tnative-read: permit\n"
                     "\tnative-write: permit\n\tnative-close: bogus\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 2);
    g_assert_cmpuint(rep.msgs->len, ==, 1);
    const char *msg = g_ptr_array_index(rep.msgs, 0);
    g_assert_nonnull(strstr(msg, "usr_bin_w:4:16: error"));
    g_assert_nonnull(strstr(msg, "keeping the last good version"));
    g_assert_null(strchr(msg, '\n')); /* one log line */
    /* Asking again does not report again until the file changes. */
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 2);
    g_assert_cmpuint(rep.msgs->len, ==, 1);

    /* Mended: the new text is in force. */
    write_text(path, "Policy: /usr/bin/w, Emulation: native\n\tnative-read: permit\n"
                     "\tnative-write: permit\n\tnative-close: permit\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 3);

    /* Removed: falls back to the system directory. */
    g_autofree char *gpath = g_build_filename(global, "usr_bin_w", NULL);
    write_text(gpath, "Policy: /usr/bin/w, Emulation: native\n\tnative-exit: permit\n");
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 1);

    store_free(s);
    g_ptr_array_free(rep.msgs, TRUE);
    rm_rf(dir);
    rm_rf(global);
}

/* Includes: expanded when a policy is loaded, from the administrator's abstractions first, then
 * the shipped ones; an edited abstraction takes effect on the next lookup. */
static void test_abstractions(void)
{
    g_autofree char *top = make_tmpdir();
    g_autofree char *user = g_build_filename(top, "user", NULL);
    g_autofree char *global = g_build_filename(top, "global", NULL);
    g_autofree char *data = g_build_filename(top, "data", NULL);
    g_autofree char *shipped = g_build_filename(data, "abstractions", NULL);
    g_autofree char *admin = g_build_filename(global, "abstractions", NULL);
    g_assert_cmpint(g_mkdir_with_parents(user, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(shipped, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(global, 0700), ==, 0);
    g_autofree char *mini = g_build_filename(shipped, "mini", NULL);
    write_text(mini, "native-brk: permit\nnative-getpid: permit\n");
    g_autofree char *leftover = g_build_filename(shipped, "mini.dpkg-old", NULL);
    write_text(leftover, "native-brk: permit\n");
    g_autofree char *path = g_build_filename(user, "usr_bin_w", NULL);
    write_text(path, "Policy: /usr/bin/w, Emulation: native\n\tinclude \"mini\"\n"
                     "\tnative-read: permit\n");

    struct store_options o = {.user_dir = user, .global_dir = global, .data_dir = data};
    struct store *s;
    g_assert_cmpint(store_new(&o, &s), ==, 0);
    struct reports rep = {g_ptr_array_new_with_free_func(g_free)};
    store_set_reporter(s, collect, &rep);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 4); /* include, 2 brought in, read */

    /* The shipped abstraction edited: the next lookup sees it. */
    write_text(mini, "native-brk: permit\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 3);
    /* The administrator's overrides it, even in a directory created after the store. */
    g_assert_cmpint(g_mkdir_with_parents(admin, 0755), ==, 0);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 3);
    g_autofree char *override = g_build_filename(admin, "mini", NULL);
    write_text(override, "native-brk: permit\nnative-close: permit\nnative-dup: permit\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 5);
    /* Removed again: the shipped one is back in force. */
    g_assert_cmpint(unlink(override), ==, 0);
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 3);
    /* A broken abstraction keeps the last good version of the policies that include it. */
    write_text(mini, "native-brk: bogus\n");
    g_assert_cmpuint(rule_count(s, "/usr/bin/w"), ==, 3);
    g_assert_cmpuint(rep.msgs->len, ==, 1);
    const char *msg = g_ptr_array_index(rep.msgs, 0);
    g_assert_nonnull(strstr(msg, "usr_bin_w:2:2: error: abstraction 'mini' does not parse"));
    g_assert_nonnull(strstr(msg, "keeping the last good version"));
    write_text(mini, "native-brk: permit\n");

    /* For learning: the names (leftovers beside them are not abstractions), and the rules. */
    char **found;
    size_t n = store_abstraction_names(s, &found);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(found[0], ==, "mini");
    for (size_t i = 0; i < n; i++)
        free(found[i]);
    free(found);
    struct store_policy a;
    g_assert_cmpint(store_get_abstraction(s, "mini", &a), ==, 0);
    g_assert_cmpuint(a.policy->n_rules, ==, 1);
    store_policy_release(&a);
    write_text(mini, "native-brk: permit\nnative-exit: permit\n");
    g_assert_cmpint(store_get_abstraction(s, "mini", &a), ==, 0);
    g_assert_cmpuint(a.policy->n_rules, ==, 2);
    store_policy_release(&a);
    g_assert_cmpint(store_get_abstraction(s, "nosuch", &a), ==, -ENOENT);
    g_assert_cmpint(store_get_abstraction(s, "../x", &a), ==, -EINVAL);

    /* systracectl's way: without a store. */
    struct pol_file *f = parse_ok("Policy: /x, Emulation: native\n\tinclude \"mini\"\n");
    struct pol_diags d = {0};
    g_assert_cmpint(store_expand_includes(f, global, data, &d), ==, 0);
    g_assert_cmpuint(f->policies[0].n_rules, ==, 3);
    pol_file_free(f);

    store_free(s);
    g_ptr_array_free(rep.msgs, TRUE);
    rm_rf(top);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/naming", test_naming);
    g_test_add_func("/store/lookup-order", test_lookup_order);
    g_test_add_func("/store/append", test_append);
    g_test_add_func("/store/concurrent-append", test_concurrent_append);
    g_test_add_func("/store/watcher", test_watcher);
    g_test_add_func("/store/abstractions", test_abstractions);
    return g_test_run();
}
