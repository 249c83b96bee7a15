/* test-syscalls.c: the call table, the alias table and the argument schema, walked whole. */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "syscalls.h"
#include "testutil.h"
#include "util.h"

static void test_names(void)
{
    g_assert_cmpint(sys_number("read"), ==, SYS_read);
    g_assert_cmpint(sys_number("openat"), ==, SYS_openat);
    g_assert_cmpint(sys_number("openat2"), ==, SYS_openat2);
    g_assert_cmpint(sys_number("nosuchcall"), ==, -1);
    g_assert_cmpint(sys_number("__sysctl"), ==, -1); /* OpenBSD only */
    g_assert_cmpstr(sys_name(SYS_execve), ==, "execve");
    g_assert_null(sys_name(-1));
    g_assert_null(sys_name(100000));
    /* Every number libseccomp names maps back to itself. */
    unsigned named = 0;
    for (int nr = 0; nr < 1024; nr++) {
        const char *n = sys_name(nr);
        if (n) {
            g_assert_cmpint(sys_number(n), ==, nr);
            named++;
        }
    }
    g_assert_cmpuint(named, >, 300);
}

static void test_alias_table(void)
{
    unsigned n;
    const struct sys_alias_member *m = sys_alias_table(&n);
    g_assert_cmpuint(n, >, 40);
    for (unsigned i = 0; i < n; i++) {
        int nr = sys_number(m[i].syscall);
        if (nr < 0)
            g_error("alias member %s is not a native call", m[i].syscall);
        g_assert_true(sys_alias_may_contain(m[i].alias, nr));
        /* Every member names a path that rules can test. */
        const struct sys_schema *s = sys_schema_for(nr);
        g_assert_nonnull(s);
        g_assert_cmpint(s->args[0].kind == SYS_ARG_PATH || s->args[1].kind == SYS_ARG_PATH, ==, 1);
    }
    g_assert_cmpint(sys_alias_from_name("fsread"), ==, SYS_ALIAS_FSREAD);
    g_assert_cmpint(sys_alias_from_name("fswrite"), ==, SYS_ALIAS_FSWRITE);
    g_assert_cmpint(sys_alias_from_name("open"), ==, SYS_ALIAS_NONE);
    g_assert_cmpstr(sys_alias_name(SYS_ALIAS_FSREAD), ==, "fsread");
}

/* The flag conditions that split the open family. */
static const struct {
    int flags;
    enum sys_alias want;
} open_split[] = {
    {O_RDONLY, SYS_ALIAS_FSREAD},
    {O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW, SYS_ALIAS_FSREAD},
    {O_PATH, SYS_ALIAS_FSREAD},
    {O_WRONLY, SYS_ALIAS_FSWRITE},
    {O_RDWR, SYS_ALIAS_FSWRITE},
    {O_RDONLY | O_CREAT, SYS_ALIAS_FSWRITE},
    {O_RDONLY | O_TRUNC, SYS_ALIAS_FSWRITE},
    {O_WRONLY | O_TMPFILE, SYS_ALIAS_FSWRITE},
    {O_WRONLY | O_APPEND, SYS_ALIAS_FSWRITE},
};

static void test_alias_open_split(void)
{
    const char *calls[] = {"open", "openat", "openat2"};
    for (unsigned c = 0; c < G_N_ELEMENTS(calls); c++)
        for (unsigned i = 0; i < G_N_ELEMENTS(open_split); i++)
            g_assert_cmpint(sys_alias_for(sys_number(calls[c]), (uint64_t)open_split[i].flags), ==,
                            open_split[i].want);
    g_assert_cmpint(sys_alias_for(SYS_creat, 0), ==, SYS_ALIAS_FSWRITE);
    g_assert_cmpint(sys_alias_for(SYS_stat, O_WRONLY), ==, SYS_ALIAS_FSREAD);
    g_assert_cmpint(sys_alias_for(SYS_unlink, 0), ==, SYS_ALIAS_FSWRITE);
    g_assert_cmpint(sys_alias_for(SYS_read, 0), ==, SYS_ALIAS_NONE);
    g_assert_false(sys_alias_always_contains(SYS_ALIAS_FSREAD, SYS_openat));
    g_assert_true(sys_alias_always_contains(SYS_ALIAS_FSREAD, SYS_newfstatat));
}

static void test_schema_table(void)
{
    unsigned n;
    const struct sys_schema *t = sys_schema_table(&n);
    for (unsigned i = 0; i < n; i++) {
        int nr = sys_number(t[i].syscall);
        if (nr < 0)
            g_error("schema names %s, not a native call", t[i].syscall);
        g_assert_true(sys_schema_for(nr) == &t[i]);
        unsigned count = 0;
        for (unsigned k = 0; k < SYS_MAX_ARGS && t[i].args[k].name; k++, count++) {
            const struct sys_arg *a = &t[i].args[k];
            g_assert_cmpint(a->index, >=, 0);
            g_assert_cmpint(a->index, <, 6);
            g_assert_cmpstr(a->name, ==, sys_arg_kind_name(a->kind));
            g_assert_true(sys_arg_name_known(a->name));
            g_assert_cmpint(a->aux, <, 6);
            g_assert_cmpint(a->flags, <, 6);
            if (a->kind == SYS_ARG_SOCKADDR)
                g_assert_cmpint(a->aux, ==, a->index + 1);
            if (a->follow == SYS_FOLLOW_UNLESS_AT || a->follow == SYS_NOFOLLOW_UNLESS_AT)
                g_assert_cmpint(a->flags, >=, 0);
        }
        g_assert_cmpuint(count, >, 0);
    }
}

/* Spot checks of the schema against the kernel's argument order. */
static const struct {
    const char *call, *arg;
    int index, aux;
    enum sys_follow follow;
} spots[] = {
    {"open", "filename", 0, -1, SYS_FOLLOW_OPEN},
    {"openat", "filename", 1, 0, SYS_FOLLOW_OPEN},
    {"openat", "oflags", 2, -1, SYS_FOLLOW},
    {"lstat", "filename", 0, -1, SYS_NOFOLLOW},
    {"newfstatat", "filename", 1, 0, SYS_FOLLOW_UNLESS_AT},
    {"renameat2", "filename", 1, 0, SYS_NOFOLLOW},
    {"linkat", "filename", 1, 0, SYS_NOFOLLOW_UNLESS_AT},
    {"symlinkat", "linkname", 0, -1, SYS_FOLLOW},
    {"symlinkat", "filename", 2, 1, SYS_NOFOLLOW},
    {"connect", "sockaddr", 1, 2, SYS_FOLLOW},
    {"sendto", "sockaddr", 4, 5, SYS_FOLLOW},
    {"execve", "argv", 1, -1, SYS_FOLLOW},
    {"execveat", "filename", 1, 0, SYS_FOLLOW_UNLESS_AT},
    {"kill", "signame", 1, -1, SYS_FOLLOW},
    {"tgkill", "signame", 2, -1, SYS_FOLLOW},
    {"setresuid", "uid", 0, -1, SYS_FOLLOW},
    {"fchownat", "gid", 3, -1, SYS_FOLLOW},
    {"mmap", "prot", 2, -1, SYS_FOLLOW},
    {"socket", "socktype", 1, -1, SYS_FOLLOW},
    {"fcntl", "cmd", 1, -1, SYS_FOLLOW},
};

static void test_schema_spots(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(spots); i++) {
        const struct sys_schema *s = sys_schema_for(sys_number(spots[i].call));
        g_assert_nonnull(s);
        const struct sys_arg *found = NULL;
        for (unsigned k = 0; k < SYS_MAX_ARGS && s->args[k].name && !found; k++)
            if (streq(s->args[k].name, spots[i].arg))
                found = &s->args[k];
        if (!found)
            g_error("%s has no %s", spots[i].call, spots[i].arg);
        g_assert_cmpint(found->index, ==, spots[i].index);
        g_assert_cmpint(found->aux, ==, spots[i].aux);
        g_assert_cmpint(found->follow, ==, spots[i].follow);
    }
    /* Two paths, in order, for the calls that take two. */
    const char *two[] = {"rename", "renameat",   "renameat2", "link",
                         "linkat", "pivot_root", "move_mount"};
    for (unsigned i = 0; i < G_N_ELEMENTS(two); i++) {
        const struct sys_schema *s = sys_schema_for(sys_number(two[i]));
        g_assert_cmpstr(s->args[0].name, ==, "filename");
        g_assert_cmpstr(s->args[1].name, ==, "filename");
        g_assert_cmpint(s->args[0].index, <, s->args[1].index);
    }
    g_assert_true(sys_arg_kind_reads_memory(SYS_ARG_PATH));
    g_assert_true(sys_arg_kind_reads_memory(SYS_ARG_OPEN_HOW));
    g_assert_false(sys_arg_kind_reads_memory(SYS_ARG_OFLAGS));
    g_assert_false(sys_arg_name_identifies("fd"));
    g_assert_true(sys_arg_name_identifies("filename"));
    g_assert_true(sys_emulation_known("native"));
    g_assert_true(sys_emulation_known("linux64"));
    g_assert_false(sys_emulation_known("linux"));
}

static bool takes_path(int nr)
{
    const struct sys_schema *s = sys_schema_for(nr);
    for (unsigned i = 0; s && i < SYS_MAX_ARGS && s->args[i].name; i++)
        if (s->args[i].kind == SYS_ARG_PATH)
            return true;
    return false;
}

/* OpenBSD's calls: sorted, resolvable, and each row what it says. */
static void test_compat_table(void)
{
    unsigned n;
    const struct sys_compat *t = sys_compat_table(&n);
    g_assert_cmpuint(n, >, 40);
    for (unsigned i = 0; i < n; i++) {
        const struct sys_compat *c = &t[i];
        if (i > 0 && strcmp(t[i - 1].openbsd, c->openbsd) >= 0)
            g_error("compat table not sorted at %s", c->openbsd);
        g_assert_true(sys_compat_for(c->openbsd) == c);
        g_assert_cmpint(sys_alias_from_name(c->openbsd), ==, SYS_ALIAS_NONE);
        unsigned k = 0;
        for (; k < SYS_COMPAT_MAX_CALLS && c->calls[k]; k++)
            if (sys_number(c->calls[k]) < 0)
                g_error("%s maps to %s, not a native call", c->openbsd, c->calls[k]);
        /* A name without a counterpart says how Linux does the job instead. */
        if (k == 0)
            g_assert_nonnull(c->how);
        g_assert_true(!c->how || !strchr(c->how, '|')); /* a README table cell */
        int nr = sys_number(c->openbsd);
        if (nr >= 0) {
            /* A Linux name keeps its own call first and adds glibc's, never on paths. */
            g_assert_cmpuint(k, >, 1);
            g_assert_cmpstr(c->calls[0], ==, c->openbsd);
            for (unsigned m = 0; m < k; m++)
                if (takes_path(sys_number(c->calls[m])))
                    g_error("%s, a Linux name, maps to %s, a call on paths", c->openbsd,
                            c->calls[m]);
        }
        /* A renamed argument is one that each call has, often enough for its shift. */
        for (unsigned a = 0; a < G_N_ELEMENTS(c->args) && c->args[a].name; a++)
            for (unsigned m = 0; m < k; m++) {
                const struct sys_schema *s = sys_schema_for(sys_number(c->calls[m]));
                unsigned have = 0;
                for (unsigned x = 0; s && x < SYS_MAX_ARGS && s->args[x].name; x++)
                    have += streq(s->args[x].name, c->args[a].as);
                if (have <= c->args[a].shift)
                    g_error("%s: %s has no %s[%u]", c->openbsd, c->calls[m], c->args[a].as,
                            c->args[a].shift);
            }
        int calls[SYS_COMPAT_MAX_CALLS];
        unsigned got = 99;
        const struct sys_compat *row = NULL;
        g_assert_cmpint(sys_calls_for_name(c->openbsd, calls, &got, &row), ==, k ? 0 : -ENOSYS);
        g_assert_true(row == c);
        g_assert_cmpuint(got, ==, k);
        for (unsigned m = 0; m < k; m++)
            g_assert_cmpint(calls[m], ==, sys_number(c->calls[m]));
    }
    unsigned na;
    const struct sys_compat_arg *aliases = sys_arg_alias_table(&na);
    for (unsigned i = 0; i < na; i++) {
        g_assert_false(sys_arg_name_known(aliases[i].name));
        g_assert_true(sys_arg_name_known(aliases[i].as));
        g_assert_cmpuint(aliases[i].shift, ==, 0);
    }
}

/* The examples, and a plain and an unknown name. */
static void test_compat_spots(void)
{
    static const struct {
        const char *name;
        int ret;
        const char *calls[SYS_COMPAT_MAX_CALLS];
    } names[] = {
        {"sigaction", 0, {"rt_sigaction"}},
        {"pread", 0, {"pread64"}},
        {"break", 0, {"brk"}},
        {"exit", 0, {"exit", "exit_group"}},
        {"getdirentries", 0, {"getdents64", "getdents"}},
        {"__tfork", 0, {"clone", "clone3"}},
        {"fork", 0, {"fork", "clone", "clone3"}},
        {"vfork", 0, {"vfork", "clone", "clone3"}},
        {"__getcwd", 0, {"getcwd"}},
        {"getthrid", 0, {"gettid"}},
        {"read", 0, {"read"}},
        {"open", 0, {"open"}},
        {"kqueue", -ENOSYS, {NULL}},
        {"mquery", -ENOSYS, {NULL}},
        {"frobnicate", -ENOENT, {NULL}},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        int calls[SYS_COMPAT_MAX_CALLS];
        unsigned n = 0;
        const struct sys_compat *row = NULL;
        g_assert_cmpint(sys_calls_for_name(names[i].name, calls, &n, &row), ==, names[i].ret);
        if (names[i].ret == -ENOENT)
            continue;
        unsigned want = 0;
        while (want < SYS_COMPAT_MAX_CALLS && names[i].calls[want])
            want++;
        g_assert_cmpuint(n, ==, want);
        for (unsigned k = 0; k < n; k++)
            g_assert_cmpstr(sys_name(calls[k]), ==, names[i].calls[k]);
    }
    /* Argument names: OpenBSD's "string" everywhere, setegid's gid as setresgid's second. */
    const char *name;
    unsigned ordinal;
    g_assert_true(sys_compat_arg(NULL, "string", 0, &name, &ordinal));
    g_assert_cmpstr(name, ==, "linkname");
    g_assert_cmpuint(ordinal, ==, 0);
    g_assert_false(sys_compat_arg(NULL, "filename", 1, &name, &ordinal));
    g_assert_cmpstr(name, ==, "filename");
    g_assert_cmpuint(ordinal, ==, 1);
    g_assert_true(sys_compat_arg(sys_compat_for("setegid"), "gid", 0, &name, &ordinal));
    g_assert_cmpstr(name, ==, "gid");
    g_assert_cmpuint(ordinal, ==, 1);
    g_assert_false(sys_compat_arg(sys_compat_for("sigaction"), "gid", 0, &name, &ordinal));
}

/* The README's compatibility tables, as the table makes them. */
static char *compat_markdown(void)
{
    unsigned n, na;
    const struct sys_compat *t = sys_compat_table(&n);
    const struct sys_compat_arg *aliases = sys_arg_alias_table(&na);
    GString *md = g_string_new("| OpenBSD | Linux (x86-64) | note |\n| --- | --- | --- |\n");
    for (unsigned i = 0; i < n; i++) {
        if (!t[i].calls[0])
            continue;
        g_string_append_printf(md, "| `%s` |", t[i].openbsd);
        for (unsigned k = 0; k < SYS_COMPAT_MAX_CALLS && t[i].calls[k]; k++)
            g_string_append_printf(md, "%s `%s`", k ? "," : "", t[i].calls[k]);
        g_string_append_printf(md, " |%s%s |\n", t[i].how ? " " : "", t[i].how ? t[i].how : "");
    }
    g_string_append(md, "\nNo Linux counterpart:\n\n| OpenBSD | how Linux does the job |\n"
                        "| --- | --- |\n");
    for (unsigned i = 0; i < n; i++)
        if (!t[i].calls[0])
            g_string_append_printf(md, "| `%s` | %s |\n", t[i].openbsd, t[i].how);
    g_string_append(md, "\nArgument names:\n\n| OpenBSD | here |\n| --- | --- |\n");
    for (unsigned i = 0; i < na; i++)
        g_string_append_printf(md, "| `%s` | `%s` |\n", aliases[i].name, aliases[i].as);
    return g_string_free(md, FALSE);
}

static void test_compat_readme(void)
{
    g_autofree char *path = g_build_filename(SOURCE_ROOT, "README.md", NULL);
    g_autofree char *readme = NULL;
    g_assert_true(g_file_get_contents(path, &readme, NULL, NULL));
    g_autofree char *want = compat_markdown();
    if (!strstr(readme, want))
        g_error("README.md's compatibility tables differ from common/syscalls.c; they should "
                "read:\n%s",
                want);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/syscalls/names", test_names);
    g_test_add_func("/syscalls/alias-table", test_alias_table);
    g_test_add_func("/syscalls/alias-open-split", test_alias_open_split);
    g_test_add_func("/syscalls/schema-table", test_schema_table);
    g_test_add_func("/syscalls/schema-spots", test_schema_spots);
    g_test_add_func("/syscalls/compat-table", test_compat_table);
    g_test_add_func("/syscalls/compat-spots", test_compat_spots);
    g_test_add_func("/syscalls/compat-readme", test_compat_readme);
    return g_test_run();
}
