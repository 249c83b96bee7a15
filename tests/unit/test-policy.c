/* test-policy.c: the policy grammar, printer, evaluation and lint, table-driven. */
#include <string.h>

#include "errnames.h"
#include "filter.h"
#include "policy.h"
#include "format.h"
#include "testutil.h"
#include "util.h"

/* Every grammar feature: input rule -> canonical text. */
static const struct {
    const char *in, *out;
} canonical[] = {
    {"native-read: permit", NULL},
    {"native-read: deny", NULL},
    {"native-read: ask", NULL},
    {"native-read:permit", "native-read: permit"},
    {"  native-read:   deny[EACCES]  ", "native-read: deny[eacces]"},
    {"native-read: deny [enoent]", "native-read: deny[enoent]"},
    {"native-read: deny[eperm] log", NULL},
    {"native-read: ask[enoent]", NULL},
    {"native-fsread: filename eq \"/etc/passwd\" then permit", NULL},
    {"native-fsread: filename eq \"/etc/passwd\" -> permit",
     "native-fsread: filename eq \"/etc/passwd\" then permit"},
    {"native-fsread: filename neq \"/x\" then deny", NULL},
    {"native-fsread: filename match \"/tmp/*\" then permit", NULL},
    {"native-fsread: filename sub \"ssh\" then deny[eacces] log", NULL},
    {"native-fsread: filename nsub \"ssh\" then permit", NULL},
    {"native-fsread: filename inpath \"/usr/lib\" then permit", NULL},
    {"native-fsread: filename re \"^/usr/(lib|share)/\" then permit", NULL},
    {"native-fsread: true then permit", NULL},
    {"native-fsread: not filename eq \"/a\" then permit", NULL},
    {"native-fsread: not not true then permit", NULL},
    {"native-fsread: (filename eq \"/a\") then permit",
     "native-fsread: filename eq \"/a\" then permit"},
    {"native-fsread: filename eq \"/a\" or filename eq \"/b\" and filename eq \"/c\" then permit",
     NULL},
    {"native-fsread: (filename eq \"/a\" or filename eq \"/b\") and filename eq \"/c\" then permit",
     NULL},
    {"native-fsread: filename eq \"/a\" and (filename eq \"/b\" and filename eq \"/c\") then "
     "permit",
     NULL},
    {"native-fsread: not (filename eq \"/a\" or true) then permit", NULL},
    {"native-rename: filename[0] eq \"/a\" and filename[1] eq \"/b\" then permit", NULL},
    {"native-fsread: filename eq \"a\\\"b\\\\c\\n\\r\\t\" then permit", NULL},
    {"native-fsread: filename eq \"\\x01\\xff\" then permit", NULL},
    /* Bytes that look like a lead byte but cannot start UTF-8 (found by the fuzzer). */
    {"native-fsread: filename eq \"\\xf5\\x96\\x9a\\xf0\" then permit", NULL},
    {"native-fsread: filename eq \"\\xc0\\xaf\\xed\\xa0\\x80\" then permit", NULL},
    {"native-fsread: filename eq \"\\x41\" then permit",
     "native-fsread: filename eq \"A\" then permit"},
    {"native-fsread: filename eq \"caf\xc3\xa9\" then permit", NULL},
    {"native-fsread: filename eq \"\" then permit", NULL},
    {"native-bind: sockaddr match \"inet-*:113\" then permit as root", NULL},
    {"native-bind: sockaddr match \"inet-*:113\" then permit as root:wheel", NULL},
    {"native-bind: sockaddr match \"inet-*:113\" then permit as :wheel", NULL},
    {"native-kill: signame eq \"SIGHUP\" then permit, if user = root", NULL},
    {"native-kill: signame eq \"SIGHUP\" then permit,if user=root",
     "native-kill: signame eq \"SIGHUP\" then permit, if user = root"},
    {"native-kill: permit, if group != wheel", NULL},
    {"native-kill: permit, if user < 1000", NULL},
    {"native-kill: permit, if user > 999", NULL},
    {"native-kill: permit, if user = \"odd name\"", NULL},
    {"native-kill: deny[eperm] log as nobody, if user = 0", NULL},
    {"native-fsread: filename eq \"/a\" then permit # a comment",
     "native-fsread: filename eq \"/a\" then permit"},
    {"native-fsread: filename eq \"/a#b\" then permit", NULL},
    {"linux64-read: permit", "native-read: permit"},
    {"native-fsread: filename eq \"$HOME/.profile\" then permit", NULL},
    {"native-setuid: uid eq \"70\" and uname eq \"named\" then permit", NULL},
};

static void test_canonical(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(canonical); i++) {
        const char *want = canonical[i].out ? canonical[i].out : canonical[i].in;
        struct pol_rule *r = rule_ok(canonical[i].in);
        g_autofree char *text = pol_rule_print(r);
        g_assert_cmpstr(text, ==, want);
        /* The printed text is a fixed point. */
        struct pol_rule *again = rule_ok(text);
        g_autofree char *text2 = pol_rule_print(again);
        g_assert_cmpstr(text2, ==, text);
        pol_rule_free(r);
        pol_rule_free(again);
    }
}

/* Malformed input: line, column, and words the message must contain. */
static const struct {
    const char *text;
    unsigned line, col;
    const char *msg;
} errors[] = {
    {"native-read: permit\n", 1, 1, "rule outside a policy"},
    {"Policy: bin/ls, Emulation: native\n", 1, 9, "not absolute"},
    {"Policy: /bin/ls\n", 1, 16, "Emulation"},
    {"Policy: /bin/ls, Emulation: vax\n", 1, 29, "unknown emulation"},
    {"Policy: , Emulation: native\n", 1, 8, "absolute path"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"/a then permit\n", 2, 27,
     "unterminated string"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"/a\\q\" then permit\n", 2,
     30, "unknown escape"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"\\x00\" then permit\n", 2,
     28, "NUL"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"\\x4\" then permit\n", 2, 28,
     "hexadecimal"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-read: deny[enosuch]\n", 2, 20,
     "unknown errno 'enosuch'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-read: permit[eperm]\n", 2, 21, "not 'permit'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-read: allow\n", 2, 15, "unknown argument"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename is \"/a\" then permit\n", 2, 24,
     "expected an operator"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq /a then permit\n", 2, 27,
     "expected a quoted string"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"/a\" permit\n", 2, 32,
     "expected 'then'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"/a\" then\n", 2, 36,
     "expected an action"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: (filename eq \"/a\" then permit\n", 2, 33,
     "expected ')'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename re \"(\" then permit\n", 2, 27,
     "invalid regular expression"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: permit extra\n", 2, 22,
     "expected end of rule"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: permit, if uid = 0\n", 2, 26,
     "'user' or 'group'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: permit, if user < root\n", 2, 33,
     "numeric"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: permit as\n", 2, 24, "after 'as'"},
    {"Policy: /bin/ls, Emulation: native\n\topen: permit\n", 2, 2, "native-NAME:"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: permit \"x\n", 2, 22,
     "unterminated string"},
    {"Policy: /bin/ls, Emulation: native\n\tbsd-open: permit\n", 2, 2, "unknown emulation"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-op en: permit\n", 2, 11, "unexpected character"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename[x] eq \"a\" then permit\n", 2, 24,
     "argument number"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"a\" then permit ;\n", 2, 43,
     "expected end of rule, found ';'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"a\" & true then permit\n", 2,
     31, "expected 'then', 'and' or 'or' after the expression, found '&'"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"\xff\" then permit\n", 2, 28,
     "invalid UTF-8"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"\xc0\xaf\" then permit\n", 2,
     28, "invalid UTF-8"},
    {"Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"\xed\xa0\x80\" then "
     "permit\n",
     2, 28, "invalid UTF-8"},
};

static void test_errors(void)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(errors); i++) {
        struct pol_file *f = NULL;
        struct pol_diags d = {0};
        int r = pol_parse(errors[i].text, strlen(errors[i].text), &f, &d);
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_nonnull(f);
        g_assert_cmpuint(d.n_errors, ==, 1);
        const struct pol_diag *e = NULL;
        for (size_t k = 0; k < d.n; k++)
            if (d.v[k].severity == POL_ERROR)
                e = &d.v[k];
        g_assert_nonnull(e);
        if (e->line != errors[i].line || e->col != errors[i].col ||
            !strstr(e->msg, errors[i].msg)) {
            g_test_message("case %u: got %u:%u: %s; want %u:%u: …%s…", i, e->line, e->col, e->msg,
                           errors[i].line, errors[i].col, errors[i].msg);
            bad++;
        }
        pol_diags_clear(&d);
        pol_file_free(f);
    }
    g_assert_cmpuint(bad, ==, 0);
}

static void test_nul_byte(void)
{
    static const char text[] = "Policy: /bin/ls, Emulation: native\n\tnative-read: per\0mit\n"
                               "\tnative-write: permit\n";
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(text, sizeof(text) - 1, &f, &d), ==, -EINVAL);
    g_assert_cmpuint(d.n_errors, ==, 1);
    g_assert_cmpuint(d.v[0].line, ==, 2);
    g_assert_cmpuint(d.v[0].col, ==, 18);
    g_assert_nonnull(strstr(d.v[0].msg, "NUL"));
    /* The bad line is reported, the good ones still load. */
    g_assert_cmpuint(f->policies[0].n_rules, ==, 1);
    g_assert_cmpstr(f->policies[0].rules[0].name, ==, "write");
    pol_diags_clear(&d);
    pol_file_free(f);
}

static void test_huge_line(void)
{
    size_t n = 1u << 20;
    GString *s = g_string_new("Policy: /bin/ls, Emulation: native\n\tnative-open: filename eq \"");
    for (size_t i = 0; i < n; i++)
        g_string_append_c(s, 'a');
    g_string_append(s, "\" then permit\n");
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(s->str, s->len, &f, &d), ==, 0);
    g_assert_cmpuint(strlen(f->policies[0].rules[0].expr->value), ==, n);
    pol_file_free(f);
    /* The same line without a closing quote: one clear error. */
    g_string_truncate(s, s->len - strlen("\" then permit\n"));
    g_assert_cmpint(pol_parse(s->str, s->len, &f, &d), ==, -EINVAL);
    g_assert_nonnull(strstr(d.v[0].msg, "unterminated"));
    pol_diags_clear(&d);
    pol_file_free(f);
    g_string_free(s, TRUE);
}

static void test_deep_nesting(void)
{
    GString *s = g_string_new("Policy: /bin/ls, Emulation: native\n\tnative-open: ");
    for (int i = 0; i < 10000; i++)
        g_string_append_c(s, '(');
    g_string_append(s, "true");
    for (int i = 0; i < 10000; i++)
        g_string_append_c(s, ')');
    g_string_append(s, " then permit\n");
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(s->str, s->len, &f, &d), ==, -EINVAL);
    g_assert_nonnull(strstr(d.v[0].msg, "nested too deeply"));
    pol_diags_clear(&d);
    pol_file_free(f);
    g_string_free(s, TRUE);

    /* not not not … and a long chain of and: bounded too. */
    s = g_string_new("Policy: /bin/ls, Emulation: native\n\tnative-open: ");
    for (int i = 0; i < 10000; i++)
        g_string_append(s, "not ");
    g_string_append(s, "true then permit\n");
    g_assert_cmpint(pol_parse(s->str, s->len, &f, &d), ==, -EINVAL);
    pol_diags_clear(&d);
    pol_file_free(f);
    g_string_free(s, TRUE);
    s = g_string_new("Policy: /bin/ls, Emulation: native\n\tnative-open: true");
    for (int i = 0; i < 100000; i++)
        g_string_append(s, " and true");
    g_string_append(s, " then permit\n");
    g_assert_cmpint(pol_parse(s->str, s->len, &f, &d), ==, -EINVAL);
    g_assert_nonnull(strstr(d.v[0].msg, "too long"));
    pol_diags_clear(&d);
    pol_file_free(f);
    g_string_free(s, TRUE);
}

/* The real policies of OpenBSD, including an OpenBSD-only call (a warning). */
static const char real_policies[] =
    "Policy: /bin/ls, Emulation: native\n"
    "\tnative-fsread: filename eq \"$HOME\" then permit\n"
    "\tnative-fchdir: permit\n"
    "\tnative-fsread: filename match \"$HOME/*\" then permit\n"
    "\tnative-fsread: filename eq \"/etc\" then deny[eperm], if group != wheel\n"
    "\n"
    "Policy: /usr/sbin/named, Emulation: native\n"
    "\tnative-__sysctl: permit\n"
    "\tnative-bind: sockaddr match \"inet-*:53\" then permit\n"
    "\tnative-connect: sockaddr eq \"/dev/log\" then permit\n"
    "\tnative-fsread: filename sub \"<non-existent filename>\" then deny[enoent]\n"
    "\tnative-rename: filename match \"/slave/*\" and filename[1] match \"/slave/*\" then permit\n"
    "\tnative-setuid: uid eq \"70\" and uname eq \"named\" then permit\n"
    "\tnative-sendto: true then permit\n";

static void test_real_policies(void)
{
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(real_policies, strlen(real_policies), &f, &d), ==, 0);
    g_assert_cmpuint(d.n, ==, 1);
    g_assert_cmpuint(d.v[0].severity, ==, POL_WARNING);
    g_assert_cmpuint(d.v[0].line, ==, 8);
    g_assert_nonnull(strstr(d.v[0].msg, "__sysctl"));
    g_assert_cmpuint(f->n_policies, ==, 2);
    g_assert_cmpstr(f->policies[0].path, ==, "/bin/ls");
    g_assert_cmpuint(f->policies[0].n_rules, ==, 4);
    g_assert_cmpuint(f->policies[1].n_rules, ==, 7);
    g_assert_cmpuint(f->policies[0].rules[3].line, ==, 5);
    g_assert_cmpint(f->policies[0].rules[3].err, ==, EPERM);
    /* print(parse(print(p))) == print(p) */
    for (size_t i = 0; i < f->n_policies; i++) {
        g_autofree char *text = pol_print(&f->policies[i]);
        struct pol_file *again;
        g_assert_cmpint(pol_parse(text, strlen(text), &again, NULL), ==, 0);
        g_autofree char *text2 = pol_print(&again->policies[0]);
        g_assert_cmpstr(text, ==, text2);
        pol_file_free(again);
    }
    pol_diags_clear(&d);
    pol_file_free(f);
}

static void test_linux64(void)
{
    struct pol_file *f =
        parse_ok("Policy: /usr/bin/id, Emulation: linux64\n\tlinux64-getuid: permit\n"
                 "\tlinux64-fsread: filename eq \"/etc/passwd\" then permit\n");
    g_assert_cmpuint(f->policies[0].rules[0].n_calls, ==, 1);
    g_assert_cmpint(f->policies[0].rules[0].calls[0], ==, sys_number("getuid"));
    g_assert_cmpint(f->policies[0].rules[1].alias, ==, SYS_ALIAS_FSREAD);
    g_autofree char *text = pol_print(&f->policies[0]);
    g_assert_cmpstr(text, ==,
                    "Policy: /usr/bin/id, Emulation: native\n\tnative-getuid: permit\n"
                    "\tnative-fsread: filename eq \"/etc/passwd\" then permit\n");
    pol_file_free(f);
}

/* Operators on edge cases: op, pattern, argument, expected. */
static const struct {
    const char *op, *pattern, *arg;
    bool want;
} ops[] = {
    {"eq", "", "", true},
    {"eq", "/", "/", true},
    {"eq", "/tmp", "/tmp/", false},
    {"eq", "/TMP", "/tmp", false}, /* case-sensitive, unlike OpenBSD */
    {"neq", "/a", "/a", false},
    {"neq", "/a", "/b", true},
    {"neq", "", "x", true},
    {"match", "/tmp", "/tmp/a/b", true}, /* FNM_LEADING_DIR */
    {"match", "/tmp", "/tmpx", false},
    {"match", "/tmp/*", "/tmp/a", true},
    {"match", "/tmp/*", "/tmp/a/b", true},
    {"match", "/tmp/*", "/tmp", false},
    {"match", "/tmp/*/c", "/tmp/a/b/c", false}, /* FNM_PATHNAME: * stops at / */
    {"match", "/*", "/", true},                 /* * matches the empty name */
    {"match", "*", "", true},
    {"match", "/tmp/", "/tmp/", true},
    {"match", "/tmp/", "/tmp", false},
    {"match", "inet-*:53", "inet-[127.0.0.1]:53", true},
    {"match", "inet-*:53", "inet-[127.0.0.1]:530", false},
    {"match", "/a/[bc]", "/a/c", true},
    {"sub", "", "", true},
    {"sub", "ssh", "/home/u/.ssh/id", true},
    {"sub", "ssh", "/etc/passwd", false},
    {"nsub", "ssh", "/etc/passwd", true},
    {"nsub", "", "x", false},
    {"inpath", "/usr/local/bin", "/usr", true},
    {"inpath", "/usr/local/bin", "/usr/local/bin", true},
    {"inpath", "/usr/local/bin", "/", true},
    {"inpath", "/usr/local/bin", "/usr/lo", false},
    {"inpath", "/usr/local/bin", "/usr/local/bin/ls", false},
    {"inpath", "/usr", "", false},
    {"re", "^/usr/(lib|share)/", "/usr/share/x", true},
    {"re", "^/usr/(lib|share)/", "/usr/bin/x", false},
    {"re", "", "anything", true},
    {"re", "a+b", "xaab", true},
};

static struct pol_request req_with(const struct pol_value *args, size_t n)
{
    return (struct pol_request){.nr = sys_number("open"),
                                .alias = SYS_ALIAS_FSREAD,
                                .args = args,
                                .n_args = n,
                                .uid = 1000,
                                .gid = 100,
                                .user = "alice",
                                .group = "users",
                                .home = "/home/alice",
                                .cwd = "/srv"};
}

static void test_operators(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_autofree char *q = pol_quote(ops[i].pattern);
        g_autofree char *line =
            g_strdup_printf("native-open: filename %s %s then permit", ops[i].op, q);
        struct pol_rule *r = rule_ok(line);
        struct pol_value v = {"filename", ops[i].arg, true};
        struct pol_request req = req_with(&v, 1);
        bool read_memory = false;
        if (pol_rule_matches(r, &req, &read_memory) != ops[i].want)
            g_error("'%s' %s '%s': want %d", ops[i].arg, ops[i].op, ops[i].pattern, ops[i].want);
        g_assert_true(read_memory);
        pol_rule_free(r);
    }
}

/* A path is its resolved name whether or not the object exists; the OpenBSD spelling
 * "<non-existent filename>: PATH" is seen only by comparisons that name it, so such rules hold only
 * while the object is missing. Rule -> whether it holds for /tmp/a missing, and existing. */
static const struct {
    const char *rule;
    bool missing, existing;
} existence[] = {
    {"filename eq \"/tmp/a\"", true, true},
    {"filename match \"/tmp/*\"", true, true},
    {"filename eq \"<non-existent filename>: /tmp/a\"", true, false},
    {"filename sub \"<non-existent filename>\"", true, false},
    {"filename nsub \"<non-existent filename>\"", false, true},
    {"filename match \"<non-existent filename>: /tmp/*\"", true, false},
    {"filename neq \"<non-existent filename>: /tmp/a\"", false, true},
    /* OpenBSD's later spelling, with a leading slash, as in the ports tree's filter */
    {"filename match \"/<non-existent filename>: *\"", true, false},
    {"filename eq \"/<non-existent filename>: /tmp/a\"", true, false},
    {"filename sub \"/<non-existent filename>\"", true, false},
    {"filename match \"<non-existent filename>: *\"", true, false},
    {"filename eq \"<non-existent filename>: /tmp/a\" or filename match \"/<non-existent "
     "filename>: *\"",
     true, false},
};

static void test_existence_is_not_identity(void)
{
    const char *text = "Policy: /bin/x, Emulation: native\n"
                       "\tnative-fsread: filename eq \"<non-existent filename>: /tmp/a\" then "
                       "deny[enoent]\n"
                       "\tnative-fsread: filename eq \"/tmp/a\" then permit\n";
    struct pol_file *f = parse_ok(text);
    for (unsigned i = 0; i < G_N_ELEMENTS(existence); i++) {
        g_autofree char *line = g_strdup_printf("native-open: %s then permit", existence[i].rule);
        struct pol_rule *r = rule_ok(line);
        for (int exists = 0; exists <= 1; exists++) {
            struct pol_value v = {"filename", "/tmp/a", true, !exists};
            struct pol_request req = req_with(&v, 1);
            bool want = exists ? existence[i].existing : existence[i].missing;
            if (pol_rule_matches(r, &req, NULL) != want)
                g_error("%s, %s: want %d", existence[i].rule, exists ? "existing" : "missing",
                        want);
        }
        pol_rule_free(r);
    }
    /* The same through a policy and its index: the prefixed rule decides only while missing. */
    for (int exists = 0; exists <= 1; exists++) {
        struct pol_value v = {"filename", "/tmp/a", true, !exists};
        struct pol_request req = req_with(&v, 1);
        const struct pol_rule *r = pol_evaluate(&f->policies[0], &req, NULL);
        g_assert_nonnull(r);
        g_assert_cmpint(r->action, ==, exists ? POL_PERMIT : POL_DENY);
    }
    pol_file_free(f);
}

/* Expression -> whether it holds for filename "/x". */
static const struct {
    const char *expr;
    bool want;
} precedence[] = {
    {"filename eq \"/x\" or filename eq \"/y\" and filename eq \"/z\"", true},
    {"(filename eq \"/x\" or filename eq \"/y\") and filename eq \"/z\"", false},
    {"not filename eq \"/y\" and filename eq \"/x\"", true},
    {"not (filename eq \"/y\" or filename eq \"/x\")", false},
    {"not filename eq \"/x\" or true", true},
    {"true and not true", false},
    {"filename eq \"/y\" or filename eq \"/z\" or filename eq \"/x\"", true},
    {"filename[1] eq \"/x\"", false}, /* no second filename */
    {"sockaddr neq \"/x\"", false},   /* an absent argument never compares */
    {"not sockaddr eq \"/x\"", true},
};

static void test_precedence(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(precedence); i++) {
        g_autofree char *line = g_strdup_printf("native-open: %s then permit", precedence[i].expr);
        struct pol_rule *r = rule_ok(line);
        struct pol_value v = {"filename", "/x", true};
        struct pol_request req = req_with(&v, 1);
        if (pol_rule_matches(r, &req, NULL) != precedence[i].want)
            g_error("%s: want %d", precedence[i].expr, precedence[i].want);
        /* and through the printer: same meaning */
        g_autofree char *text = pol_rule_print(r);
        struct pol_rule *again = rule_ok(text);
        g_assert_cmpint(pol_rule_matches(again, &req, NULL), ==, precedence[i].want);
        pol_rule_free(again);
        pol_rule_free(r);
    }
}

static const struct {
    const char *pred;
    bool want; /* for uid 1000 "alice", gid 100 "users" */
} predicates[] = {
    {"if user = alice", true},  {"if user = bob", false},    {"if user = 1000", true},
    {"if user != 1000", false}, {"if user != root", true},   {"if user < 1000", false},
    {"if user < 1001", true},   {"if user > 999", true},     {"if group = users", true},
    {"if group = 100", true},   {"if group != wheel", true}, {"if group > 100", false},
};

static void test_predicates(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(predicates); i++) {
        g_autofree char *line = g_strdup_printf("native-open: permit, %s", predicates[i].pred);
        struct pol_rule *r = rule_ok(line);
        struct pol_request req = req_with(NULL, 0);
        if (pol_rule_matches(r, &req, NULL) != predicates[i].want)
            g_error("%s: want %d", predicates[i].pred, predicates[i].want);
        pol_rule_free(r);
    }
}

static const struct {
    const char *expr, *arg;
    bool want;
} variables[] = {
    {"filename eq \"$HOME\"", "/home/alice", true},
    {"filename match \"$HOME/*\"", "/home/alice/x", true},
    {"filename match \"$HOME/*\"", "/home/bob/x", false},
    {"filename eq \"/var/mail/$USER\"", "/var/mail/alice", true},
    {"filename eq \"$CWD/out\"", "/srv/out", true},
    {"filename re \"^$HOME/[a-z]+$\"", "/home/alice/abc", true},
    {"filename re \"^$HOME/[a-z]+$\"", "/home/alice/ABC", false},
    {"filename eq \"$OTHER\"", "$OTHER", true}, /* unknown variables stay literal */
    {"filename eq \"a$\"", "a$", true},
};

static void test_variables(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(variables); i++) {
        g_autofree char *line = g_strdup_printf("native-open: %s then permit", variables[i].expr);
        struct pol_rule *r = rule_ok(line);
        struct pol_value v = {"filename", variables[i].arg, true};
        struct pol_request req = req_with(&v, 1);
        if (pol_rule_matches(r, &req, NULL) != variables[i].want)
            g_error("%s on %s: want %d", variables[i].expr, variables[i].arg, variables[i].want);
        /* Without a home directory, $HOME never matches. */
        req.home = NULL;
        if (strstr(variables[i].expr, "$HOME"))
            g_assert_false(pol_rule_matches(r, &req, NULL));
        pol_rule_free(r);
    }
    /* An unknown variable is a warning, not an error. */
    struct pol_file *f;
    struct pol_diags d = {0};
    const char *text = "Policy: /a, Emulation: native\n\tnative-open: filename eq \"$NOPE/x\" "
                       "then permit\n";
    g_assert_cmpint(pol_parse(text, strlen(text), &f, &d), ==, 0);
    g_assert_cmpuint(d.n, ==, 1);
    g_assert_nonnull(strstr(d.v[0].msg, "$NOPE"));
    pol_diags_clear(&d);
    pol_file_free(f);
}

static void test_evaluate(void)
{
    struct pol_file *f = parse_ok("Policy: /bin/x, Emulation: native\n"
                                  "\tnative-getpid: permit\n"
                                  "\tnative-fsread: filename eq \"/etc/shadow\" then deny[eacces]\n"
                                  "\tnative-open: filename match \"/etc/*\" then permit log\n"
                                  "\tnative-fswrite: filename match \"/tmp/*\" then permit\n"
                                  "\tnative-fsread: true then ask\n");
    const struct policy *p = &f->policies[0];
    struct pol_value shadow = {"filename", "/etc/shadow", true};
    struct pol_value passwd = {"filename", "/etc/passwd", true};
    struct pol_value tmp = {"filename", "/tmp/a", true};
    struct pol_value home = {"filename", "/home/x", true};
    struct pol_request req = req_with(&shadow, 1);
    bool mem;
    const struct pol_rule *r = pol_evaluate(p, &req, &mem);
    g_assert_nonnull(r);
    g_assert_cmpuint(r->line, ==, 3);
    g_assert_cmpint(r->action, ==, POL_DENY);
    g_assert_cmpint(r->err, ==, EACCES);
    g_assert_true(mem);
    /* The earlier non-matching filename rule counts as reading memory. */
    req = req_with(&passwd, 1);
    r = pol_evaluate(p, &req, &mem);
    g_assert_cmpuint(r->line, ==, 4);
    g_assert_true(r->log);
    g_assert_true(mem);
    /* open for writing is fswrite, not fsread */
    req = req_with(&tmp, 1);
    req.alias = SYS_ALIAS_FSWRITE;
    r = pol_evaluate(p, &req, &mem);
    g_assert_cmpuint(r->line, ==, 5);
    req = req_with(&home, 1);
    req.alias = SYS_ALIAS_FSWRITE;
    g_assert_null(pol_evaluate(p, &req, &mem));
    req.alias = SYS_ALIAS_FSREAD;
    r = pol_evaluate(p, &req, &mem);
    g_assert_cmpint(r->action, ==, POL_ASK);
    /* A call decided before any memory is compared does not read memory. */
    req = req_with(NULL, 0);
    req.nr = sys_number("getpid");
    req.alias = SYS_ALIAS_NONE;
    r = pol_evaluate(p, &req, &mem);
    g_assert_cmpuint(r->line, ==, 2);
    g_assert_false(mem);
    req.nr = sys_number("getppid");
    g_assert_null(pol_evaluate(p, &req, &mem));
    pol_file_free(f);
}

static void test_lint(void)
{
    static const char text[] = "Policy: /bin/x, Emulation: native\n"
                               "\tnative-fsread: permit\n"
                               "\tnative-stat: filename eq \"/a\" then deny\n" /* shadowed */
                               "\tnative-open: filename eq \"/a\" then deny\n" /* may write */
                               "\tnative-read: permit\n"
                               "\tnative-read:   permit\n"                        /* duplicate */
                               "\tnative-write: filename eq \"/a\" then permit\n" /* no arg */
                               "\tnative-getpid: true then permit\n"
                               "\tnative-getpid: deny\n"; /* shadowed */
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(text, strlen(text), &f, &d), ==, 0);
    pol_lint(f, &d);
    pol_diags_sort(&d);
    g_autofree char *out = pol_diags_format(&d, "p");
    g_assert_cmpstr(out, ==,
                    "p:3:1: warning: rule can never match: the rule on line 2 already decides "
                    "every 'stat' call\n"
                    "p:6:1: warning: duplicate of the rule on line 5\n"
                    "p:7:1: warning: 'write' has no argument 'filename': the comparison is never "
                    "true\n"
                    "p:9:1: warning: rule can never match: the rule on line 8 already decides "
                    "every 'getpid' call\n");
    pol_diags_clear(&d);
    pol_file_free(f);
}

static void test_lint_unsafe(void)
{
    static const char text[] = "Policy: /bin/x, Emulation: native\n"
                               "\tnative-mount: filename eq \"/mnt\" then permit\n"
                               "\tnative-mount: filename eq \"/srv\" then deny\n"
                               "\tnative-umount2: permit\n"
                               "\tnative-fsread: filename eq \"/etc/a\" then permit\n"
                               "\tnative-connect: sockaddr eq \"/run/x.sock\" then permit\n"
                               "\tnative-connect: sockaddr eq \"inet-[127.0.0.1]:53\" then permit\n"
                               "\tnative-sendmsg: sockaddr match \"inet-*\" then ask\n"
                               "\tnative-inotify_add_watch: filename eq \"/a\" then permit\n";
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(text, strlen(text), &f, &d), ==, 0);
    pol_lint(f, &d);
    pol_diags_sort(&d);
    unsigned lines[8] = {0};
    size_t n = 0;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].msg, "unsafe:"))
            lines[n++] = d.v[i].line;
    /* mount's permit (not its deny), the unix address, inotify_add_watch; not the emulated
     * ones, and not an umount2 permit that reads nothing from memory. */
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpuint(lines[0], ==, 2);
    g_assert_cmpuint(lines[1], ==, 6);
    g_assert_cmpuint(lines[2], ==, 9);
    pol_diags_clear(&d);
    pol_file_free(f);
}

/* Abstractions for the tests of includes: name -> text. */
static const struct {
    const char *name, *text;
} fragments[] = {
    {"mem", "native-brk: permit\nnative-mmap: prot eq \"PROT_READ\" then permit\n"},
    {"files", "include \"mem\"\nnative-fsread: filename eq \"/etc/ld.so.cache\" then permit\n"},
    {"self", "include \"self\"\n"},
    {"a", "include \"b\"\n"},
    {"b", "include \"a\"\n"},
    {"broken", "native-read: bogus\n"},
    {"header", "Policy: /x, Emulation: native\n"},
};

static int test_fragment(void *userdata, const char *name, char **ret_text, size_t *ret_len,
                         char **ret_path, char **ret_error)
{
    unsigned *calls = userdata;
    (*calls)++;
    for (unsigned i = 0; i < G_N_ELEMENTS(fragments); i++)
        if (streq(fragments[i].name, name)) {
            *ret_text = g_strdup(fragments[i].text);
            *ret_len = strlen(fragments[i].text);
            *ret_path = g_strdup_printf("/abs/%s", name);
            return 0;
        }
    *ret_error = g_strdup("none in /abs");
    return -ENOENT;
}

static void test_includes(void)
{
    /* Parsed, printed canonically, and nothing else on the line. */
    struct pol_rule *r = rule_ok("include \"base\"");
    g_assert_cmpstr(r->include, ==, "base");
    g_assert_cmpint(r->n_calls, ==, 0);
    g_autofree char *text = pol_rule_print(r);
    g_assert_cmpstr(text, ==, "include \"base\"");
    pol_rule_free(r);
    static const char *const bad[] = {
        "include base",        "include \"../etc/passwd\"", "include \"\"",
        "include \"a\" extra", "include \"base~\"",         "include \"a.b\"",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *err = NULL;
        g_assert_cmpint(pol_parse_rule(bad[i], &r, &err), ==, -EINVAL);
        g_free(err);
    }

    /* Evaluated in place: first match in file order, the included rules where the include is. */
    struct pol_file *f = parse_ok("Policy: /bin/x, Emulation: native\n"
                                  "\tnative-brk: deny[enomem]\n"
                                  "\tinclude \"files\"\n"
                                  "\tnative-mmap: deny\n"
                                  "\tnative-fsread: filename eq \"/etc/ld.so.cache\" then deny\n");
    g_assert_true(pol_file_has_includes(f));
    unsigned calls = 0;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_expand_includes(f, test_fragment, &calls, &d), ==, 0);
    g_assert_cmpuint(d.n, ==, 0);
    const struct policy *p = &f->policies[0];
    g_assert_cmpuint(p->n_rules, ==, 8); /* 4 + include "mem" and its 2 + 1 */
    struct pol_request req = {.nr = sys_number("brk")};
    const struct pol_rule *m = pol_evaluate(p, &req, NULL);
    g_assert_cmpint(m->action, ==, POL_DENY); /* the rule before the include */
    struct pol_value prot = {"prot", "PROT_READ", false};
    req = (struct pol_request){.nr = sys_number("mmap"), .args = &prot, .n_args = 1};
    m = pol_evaluate(p, &req, NULL);
    g_assert_cmpint(m->action, ==, POL_PERMIT); /* from "mem", through "files" */
    g_assert_cmpstr(m->origin, ==, "mem");
    g_assert_cmpuint(m->line, ==, 3); /* the include's line in the policy's file */
    g_assert_cmpuint(m->origin_line, ==, 2);
    struct pol_value cache = {"filename", "/etc/ld.so.cache", true};
    req = req_with(&cache, 1);
    req.nr = sys_number("openat");
    m = pol_evaluate(p, &req, NULL);
    g_assert_cmpint(m->action, ==, POL_PERMIT);
    g_assert_cmpstr(m->origin, ==, "files");
    /* The printer writes the include, not what it brought in. */
    g_autofree char *printed = pol_print(p);
    g_assert_cmpstr(printed, ==,
                    "Policy: /bin/x, Emulation: native\n"
                    "\tnative-brk: deny[enomem]\n"
                    "\tinclude \"files\"\n"
                    "\tnative-mmap: deny\n"
                    "\tnative-fsread: filename eq \"/etc/ld.so.cache\" then deny\n");
    /* Expanding again (an edited abstraction) gives the same rules, not twice as many. */
    g_assert_cmpint(pol_expand_includes(f, test_fragment, &calls, &d), ==, 0);
    g_assert_cmpuint(f->policies[0].n_rules, ==, 8);
    pol_file_free(f);

    /* Errors are reported at the include line and column; the include brings nothing. */
    static const struct {
        const char *name, *msg;
    } include_errors[] = {
        {"nosuch", "unknown abstraction 'nosuch': none in /abs"},
        {"self", "include cycle: self -> self"},
        {"a", "include cycle: a -> b -> a"},
        {"broken", "abstraction 'broken' does not parse: /abs/broken:1:14:"},
        {"header", "an abstraction holds rules only"},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(include_errors); i++) {
        g_autofree char *t = g_strdup_printf("Policy: /bin/x, Emulation: native\n"
                                             "\tnative-read: permit\n"
                                             "  include \"%s\"\n",
                                             include_errors[i].name);
        f = parse_ok(t);
        g_assert_cmpint(pol_expand_includes(f, test_fragment, &calls, &d), ==, -EINVAL);
        g_assert_cmpuint(d.n, ==, 1);
        g_assert_cmpuint(d.v[0].line, ==, 3);
        g_assert_cmpuint(d.v[0].col, ==, 3);
        if (!strstr(d.v[0].msg, include_errors[i].msg))
            g_error("include \"%s\": %s", include_errors[i].name, d.v[0].msg);
        g_assert_cmpuint(f->policies[0].n_rules, ==, 2);
        pol_diags_clear(&d);
        pol_file_free(f);
    }

    /* A fragment is rules without a header. */
    g_assert_cmpint(pol_parse_fragment("x", "native-read: permit\n", 20, &f, &d), ==, 0);
    g_assert_cmpuint(f->n_policies, ==, 1);
    g_assert_cmpstr(f->policies[0].path, ==, "x");
    g_assert_cmpuint(f->policies[0].n_rules, ==, 1);
    pol_file_free(f);
}

/* $PID and $TID: the caller's own process and thread. */
static void test_pid_variables(void)
{
    struct pol_rule *r = rule_ok("native-fsread: filename match \"/proc/$PID/*\" then permit");
    struct pol_rule *t = rule_ok("native-fsread: filename eq \"/proc/$PID/task/$TID/comm\" then "
                                 "permit");
    struct pol_value own = {"filename", "/proc/42/environ", true};
    struct pol_value other = {"filename", "/proc/43/environ", true};
    struct pol_value task = {"filename", "/proc/42/task/44/comm", true};
    struct pol_request req = req_with(&own, 1);
    req.pid = 42;
    req.tid = 44;
    g_assert_true(pol_rule_matches(r, &req, NULL));
    req.args = &other;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    req.args = &task;
    g_assert_true(pol_rule_matches(t, &req, NULL));
    req.tid = 45;
    g_assert_false(pol_rule_matches(t, &req, NULL));
    /* Unknown (0): never a match on a guess. */
    req.args = &own;
    req.pid = 0;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
    pol_rule_free(t);
    /* A variable's value is no pattern: a home with a '*' matches only itself. */
    r = rule_ok("native-fsread: filename match \"$HOME/*\" then permit");
    struct pol_value mine = {"filename", "/home/a*/x", true};
    struct pol_value theirs = {"filename", "/home/ab/x", true};
    req = req_with(&mine, 1);
    req.home = "/home/a*";
    g_assert_true(pol_rule_matches(r, &req, NULL));
    req.args = &theirs;
    g_assert_false(pol_rule_matches(r, &req, NULL));
    pol_rule_free(r);
}

/* Values printed with names (TCGETS, root, SIGHUP) are matched by the name and the number. */
static void test_named_values(void)
{
    static const struct {
        const char *call, *arg, *value, *rule;
        bool want;
    } cases[] = {
        {"ioctl", "cmd", "TCGETS", "cmd eq \"TCGETS\"", true},
        {"ioctl", "cmd", "TCGETS", "cmd eq \"0x5401\"", true},
        {"ioctl", "cmd", "TCGETS", "cmd eq \"21505\"", true},
        {"ioctl", "cmd", "TCGETS", "cmd neq \"0x5401\"", false},
        {"ioctl", "cmd", "TCGETS", "cmd eq \"0x5402\"", false},
        {"ioctl", "cmd", "0x1234", "cmd eq \"0x1234\"", true},
        {"fcntl", "cmd", "F_GETFD", "cmd eq \"1\"", true},
        {"setuid", "uid", "root", "uid eq \"0\"", true},
        {"setuid", "uid", "root", "uid eq \"root\"", true},
        {"setuid", "uid", "root", "uid neq \"0\"", false},
        {"setuid", "uid", "4000000", "uid eq \"4000000\"", true},
        {"kill", "signame", "SIGHUP", "signame eq \"1\"", true},
        {"open", "mode", "0644", "mode eq \"0644\"", true}, /* not a named kind: as written */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *line =
            g_strdup_printf("native-%s: %s then permit", cases[i].call, cases[i].rule);
        struct pol_rule *r = rule_ok(line);
        struct pol_value v = {cases[i].arg, cases[i].value, false};
        struct pol_request req = {.nr = sys_number(cases[i].call), .args = &v, .n_args = 1};
        if (pol_rule_matches(r, &req, NULL) != cases[i].want)
            g_error("%s on %s: want %d", line, cases[i].value, cases[i].want);
        pol_rule_free(r);
    }
}

static void test_lint_shadowing(void)
{
    static const char text[] =
        "Policy: /bin/x, Emulation: native\n"
        "\tnative-fsread: filename eq \"/etc/shadow\" then permit\n"
        "\tnative-fsread: filename eq \"/etc/shadow\" then deny\n" /* 3: by 2 */
        "\tnative-fsread: filename match \"/srv/*\" then permit\n"
        "\tnative-fsread: filename eq \"/srv/a/b\" then deny\n"      /* 5: by 4 */
        "\tnative-stat: filename eq \"/srv/x\" and true then deny\n" /* 6: by 4 */
        "\tnative-openat: filename eq \"/srv/x\" then deny\n"        /* not all fsread */
        "\tnative-fsread: filename eq \"/etc/a\" or filename eq \"/srv/y\" then deny\n"
        "\tnative-fsread: filename eq \"/srv/q\" or filename eq \"/srv/r\" then deny\n" /* 9 */
        "\tnative-fsread: filename match \"<non-existent filename>: /*\" then deny[enoent]\n"
        "\tnative-fsread: filename eq \"/opt/new\" then permit\n" /* may exist later */
        "\tnative-fsread: filename eq \"<non-existent filename>: /opt/z\" then permit\n" /* 12 */
        "\tnative-kill: signame eq \"SIGHUP\" then permit, if user = root\n"
        "\tnative-kill: signame eq \"SIGHUP\" then deny\n"                  /* other users */
        "\tnative-kill: signame eq \"SIGHUP\" then deny, if user = root\n"; /* 15: by 13 */
    struct pol_file *f = parse_ok(text);
    struct pol_diags d = {0};
    pol_lint_shadowing(&f->policies[0], &d);
    unsigned want[][2] = {{3, 2}, {5, 4}, {6, 4}, {9, 4}, {12, 10}, {15, 13}};
    g_assert_cmpuint(d.n, ==, G_N_ELEMENTS(want));
    for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpuint(d.v[i].line, ==, want[i][0]);
        g_autofree char *by = g_strdup_printf("line %u ", want[i][1]);
        g_assert_nonnull(strstr(d.v[i].msg, by));
        g_assert_nonnull(strstr(d.v[i].msg, "first matching rule wins"));
    }
    pol_diags_clear(&d);
    pol_file_free(f);

    /* Thousands of learned rules: the check stays about linear. */
    GString *t = g_string_new("Policy: /bin/x, Emulation: native\n");
    for (int i = 0; i < 40000; i++)
        g_string_append_printf(t, "\tnative-fsread: filename eq \"/usr/share/f%d\" then permit\n",
                               i);
    g_string_append(t, "\tnative-fsread: filename eq \"/usr/share/f7\" then deny\n");
    f = parse_ok(t->str);
    gint64 start = g_get_monotonic_time();
    pol_lint(f, &d);
    gint64 took = g_get_monotonic_time() - start;
    g_assert_cmpuint(d.n, ==, 1);
    g_assert_cmpuint(d.v[0].line, ==, 40002);
    g_assert_cmpint(took, <, 5 * G_USEC_PER_SEC);
    pol_diags_clear(&d);
    pol_file_free(f);
    g_string_free(t, TRUE);
}

/* The index keeps first-match order: the same answers as a walk of every rule in order. */
static void test_index_keeps_first_match(void)
{
    GString *t = g_string_new("Policy: /bin/x, Emulation: native\n");
    for (int i = 0; i < 3000; i++) {
        if (i % 7 == 0)
            g_string_append_printf(t, "\tnative-fsread: filename match \"/d/%d*\" then deny\n",
                                   i % 50);
        if (i % 11 == 0)
            g_string_append_printf(t, "\tnative-fswrite: filename eq \"/d/%d\" then deny[eacces]\n",
                                   i);
        if (i % 13 == 0)
            g_string_append_printf(
                t, "\tnative-fsread: filename eq \"/d/%d\" then ask, if user = root\n", i);
        g_string_append_printf(t, "\tnative-fsread: filename eq \"/d/%d\" then permit\n", i);
        g_string_append_printf(t, "\tnative-fsread: filename eq \"/d/%d\" then deny\n", i);
    }
    g_string_append(t, "\tnative-fsread: true then ask\n");
    struct pol_file *f = parse_ok(t->str);
    const struct policy *p = &f->policies[0];
    g_assert_nonnull(p->index.others);
    for (int i = -5; i < 3100; i += 1) {
        char path[64];
        snprintf(path, sizeof(path), "/d/%d", i);
        struct pol_value v = {"filename", path, true};
        for (int alias = SYS_ALIAS_FSREAD; alias <= SYS_ALIAS_FSWRITE; alias++) {
            for (int root = 0; root <= 1; root++) {
                struct pol_request req = req_with(&v, 1);
                req.alias = alias;
                req.user = root ? "root" : "alice";
                const struct pol_rule *want = NULL;
                for (size_t k = 0; k < p->n_rules && !want; k++)
                    if (pol_rule_matches(&p->rules[k], &req, NULL))
                        want = &p->rules[k];
                bool mem = false;
                const struct pol_rule *got = pol_evaluate(p, &req, &mem);
                if (got != want)
                    g_error("%s alias %d root %d: index gave line %u, the walk line %u", path,
                            alias, root, got ? got->line : 0, want ? want->line : 0);
                g_assert_true(mem);
            }
        }
    }
    pol_file_free(f);
    g_string_free(t, TRUE);
}

/* An OpenBSD policy: its calls' Linux counterparts, with notes; names without one, warned. */
static const char openbsd_policy[] = "Policy: /usr/bin/make, Emulation: native\n"
                                     "\tnative-sigaction: permit\n"
                                     "\tnative-fork: permit\n"
                                     "\tnative-kqueue: permit\n"
                                     "\tnative-symlink: string eq \"/t\" then deny[eexist]\n"
                                     "\tnative-setegid: gid eq \"5\" then permit\n"
                                     "\tnative-read: permit\n"
                                     "\tnative-__thrsleep: permit\n"
                                     "\tnative-__thrwakeup: permit\n"
                                     "\tnative-getthrid: permit\n"
                                     "\tnative-gettid: deny\n";

static void test_openbsd_names(void)
{
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(openbsd_policy, strlen(openbsd_policy), &f, &d), ==, 0);
    pol_lint(f, &d);
    pol_diags_sort(&d);
    g_autofree char *out = pol_diags_format(&d, "p");
    g_assert_cmpstr(
        out, ==,
        "p:2:9: note: OpenBSD's 'sigaction' is rt_sigaction on Linux\n"
        "p:3:9: note: 'fork' covers clone, clone3 too on Linux (glibc forks with clone; clone "
        "also starts threads)\n"
        "p:4:9: warning: OpenBSD's 'kqueue' has no Linux counterpart (Linux: epoll_create1, with "
        "other semantics): the rule never matches\n"
        "p:5:18: note: OpenBSD's argument 'string' is read as 'linkname' here\n"
        "p:6:9: note: OpenBSD's 'setegid' is setresgid on Linux (setresgid(-1, gid, -1): gid is "
        "gid[1])\n"
        "p:6:18: note: OpenBSD's argument 'gid' is read as 'gid[1]' here\n"
        "p:8:9: note: OpenBSD's '__thrsleep' is futex on Linux\n"
        "p:9:1: note: the rule on line 8 already decides every '__thrwakeup' call here, alike\n"
        "p:9:9: note: OpenBSD's '__thrwakeup' is futex on Linux\n"
        "p:10:9: note: OpenBSD's 'getthrid' is gettid on Linux\n"
        "p:11:1: warning: rule can never match: the rule on line 10 already decides every "
        "'gettid' call\n");
    g_assert_cmpuint(d.n_notes, ==, 9);
    const struct policy *p = &f->policies[0];
    /* Each rule applies to every Linux call its name maps to, and only to those. */
    static const struct {
        const char *call;
        unsigned line; /* 0: no rule */
    } decides[] = {
        {"rt_sigaction", 2}, {"fork", 3},  {"clone", 3},   {"clone3", 3},        {"vfork", 0},
        {"read", 7},         {"futex", 8}, {"gettid", 10}, {"epoll_create1", 0},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(decides); i++) {
        struct pol_request req = {.nr = sys_number(decides[i].call)};
        const struct pol_rule *r = pol_evaluate(p, &req, NULL);
        if ((r ? r->line : 0) != decides[i].line)
            g_error("%s: decided by line %u, want %u", decides[i].call, r ? r->line : 0,
                    decides[i].line);
    }
    /* symlink's "string" is its linkname; setegid's gid is setresgid's second. */
    struct pol_value link[] = {{"linkname", "/t", true}, {"filename", "/l", true}};
    struct pol_request req = {.nr = sys_number("symlink"), .args = link, .n_args = 2};
    g_assert_cmpuint(pol_evaluate(p, &req, NULL)->line, ==, 5);
    /* The values as the translator gives them: an id with a name reads as the name. */
    g_autofree char *five = format_int(SYS_ARG_GID, 5);
    struct pol_value gids[] = {{"gid", "4294967295"}, {"gid", five}, {"gid", "4294967295"}};
    req = (struct pol_request){.nr = sys_number("setresgid"), .args = gids, .n_args = 3};
    g_assert_nonnull(pol_evaluate(p, &req, NULL));
    gids[0].value = five;
    gids[1].value = "4294967295";
    g_assert_null(pol_evaluate(p, &req, NULL));
    /* The printer keeps the names as written, and its text parses to the same. */
    g_autofree char *text = pol_print(p);
    g_assert_nonnull(strstr(text, "\tnative-sigaction: permit\n"));
    g_assert_nonnull(strstr(text, "native-symlink: string eq \"/t\" then deny[eexist]\n"));
    g_assert_nonnull(strstr(text, "native-setegid: gid eq \"5\" then permit\n"));
    struct pol_file *again = parse_ok(text);
    g_autofree char *text2 = pol_print(&again->policies[0]);
    g_assert_cmpstr(text, ==, text2);
    pol_file_free(again);
    /* The kernel filter decides each mapped call as the rule says. */
    int err = 0;
    g_assert_cmpint(filter_policy_decision(p, sys_number("clone3"), &err), ==, FILTER_ALLOW);
    g_assert_cmpint(filter_policy_decision(p, sys_number("rt_sigaction"), &err), ==, FILTER_ALLOW);
    g_assert_cmpint(filter_policy_decision(p, sys_number("setresgid"), &err), ==, FILTER_NOTIFY);
    g_assert_cmpint(filter_policy_decision(p, sys_number("gettid"), &err), ==, FILTER_ALLOW);
    pol_diags_clear(&d);
    pol_file_free(f);
    /* A typed rule on a name without a counterpart is refused, saying so. */
    struct pol_rule *r = NULL;
    char *msg = NULL;
    g_assert_cmpint(pol_parse_rule("native-kqueue: permit", &r, &msg), ==, -EINVAL);
    g_assert_cmpstr(msg, ==, "OpenBSD's 'kqueue' has no Linux counterpart");
    free(msg);
    r = rule_ok("native-__tfork: deny[eagain]");
    g_assert_cmpuint(r->n_calls, ==, 2);
    g_assert_true(pol_rule_names_call(r, sys_number("clone")));
    g_assert_false(pol_rule_names_call(r, sys_number("fork")));
    pol_rule_free(r);
}

/* Names merged into one Linux call that decide differently: the later one is lost, a warning. */
static void test_openbsd_merged(void)
{
    static const char text[] = "Policy: /bin/x, Emulation: native\n"
                               "\tnative-__thrsleep: permit\n"
                               "\tnative-__thrwakeup: deny\n";
    struct pol_file *f;
    struct pol_diags d = {0};
    g_assert_cmpint(pol_parse(text, strlen(text), &f, &d), ==, 0);
    pol_diags_clear(&d);
    pol_lint(f, &d);
    g_assert_cmpuint(d.n, ==, 1);
    g_assert_cmpint(d.v[0].severity, ==, POL_WARNING);
    g_assert_nonnull(strstr(d.v[0].msg, "can never match"));
    pol_diags_clear(&d);
    pol_file_free(f);
}

static void test_errnames(void)
{
    g_assert_cmpint(errname_to_errno("enoent"), ==, ENOENT);
    g_assert_cmpint(errname_to_errno("EACCES"), ==, EACCES);
    g_assert_cmpint(errname_to_errno("eHWpoison"), ==, EHWPOISON);
    g_assert_cmpint(errname_to_errno("enosuch"), ==, -1);
    g_assert_cmpint(errname_to_errno(""), ==, -1);
    /* The full Linux set: every errno the C library names round-trips. */
    int max = errname_max();
    g_assert_cmpint(max, >, EHWPOISON);
    for (int e = 1; e < max; e++) {
        const char *n = errname_from_errno(e);
        if (n && e != EWOULDBLOCK && e != EDEADLOCK)
            g_assert_cmpint(errname_to_errno(n), ==, e);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/canonical", test_canonical);
    g_test_add_func("/policy/errors", test_errors);
    g_test_add_func("/policy/nul-byte", test_nul_byte);
    g_test_add_func("/policy/huge-line", test_huge_line);
    g_test_add_func("/policy/deep-nesting", test_deep_nesting);
    g_test_add_func("/policy/real-policies", test_real_policies);
    g_test_add_func("/policy/linux64", test_linux64);
    g_test_add_func("/policy/operators", test_operators);
    g_test_add_func("/policy/precedence", test_precedence);
    g_test_add_func("/policy/existence", test_existence_is_not_identity);
    g_test_add_func("/policy/predicates", test_predicates);
    g_test_add_func("/policy/variables", test_variables);
    g_test_add_func("/policy/evaluate", test_evaluate);
    g_test_add_func("/policy/lint", test_lint);
    g_test_add_func("/policy/lint-unsafe", test_lint_unsafe);
    g_test_add_func("/policy/index", test_index_keeps_first_match);
    g_test_add_func("/policy/includes", test_includes);
    g_test_add_func("/policy/pid-variables", test_pid_variables);
    g_test_add_func("/policy/named-values", test_named_values);
    g_test_add_func("/policy/lint-shadowing", test_lint_shadowing);
    g_test_add_func("/policy/openbsd-names", test_openbsd_names);
    g_test_add_func("/policy/openbsd-merged", test_openbsd_merged);
    g_test_add_func("/policy/errnames", test_errnames);
    return g_test_run();
}
