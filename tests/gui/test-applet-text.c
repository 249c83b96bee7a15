/* test-applet-text.c: what the applet shows and sends, without a display: strings of a traced
 * program made visible, a question read from its a{sv} and put in words, a typed rule checked
 * and given the action of the button pressed. */
#include <glib.h>
#include <string.h>

#include "rule-edit.h"
#include "st-question.h"
#include "visible.h"

static const struct {
    const char *in, *want;
} visibles[] = {
    {"/usr/bin/ls", "/usr/bin/ls"},
    {"a\nb\tc\x1b[31m", "a\\nb\\tc\\x1b[31m"},
    {"<b>bold</b> %n%s", "<b>bold</b> %n%s"},                  /* plain text: nothing to escape */
    {"evil\xe2\x80\xaetxt.exe", "evil\\xe2\\x80\\xaetxt.exe"}, /* U+202E RIGHT-TO-LEFT OVERRIDE */
    {"zero\xe2\x80\x8bwidth", "zero\\xe2\\x80\\x8bwidth"},     /* U+200B */
    {"c1\xc2\x9b", "c1\\xc2\\x9b"},                            /* U+009B, a C1 control */
    {"caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5"},  /* letters stay letters */
    {"bad\xff", "bad\\xff"},
    {"back\\slash \"q\"", "back\\\\slash \\\"q\\\""},
};

static void test_visible(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(visibles); i++) {
        g_autofree char *got = visible_text(visibles[i].in, 1000);
        g_assert_cmpstr(got, ==, visibles[i].want);
    }
    g_autofree char *line = visible_line("a=\"x\\y\" b=\x1b\xe2\x80\xae", 100);
    g_assert_cmpstr(line, ==, "a=\"x\\y\" b=\\x1b\\xe2\\x80\\xae");
    g_autofree char *base = visible_basename("/usr/sbin/in\x01"
                                             "etd",
                                             100);
    g_assert_cmpstr(base, ==, "in\\x01etd");
}

static void test_visible_cut(void)
{
    g_autofree char *big = g_strnfill(10240, 'A');
    g_autofree char *got = visible_text(big, 300);
    g_assert_true(g_str_has_prefix(got, "AAAA"));
    g_assert_nonnull(strstr(got, "10240 bytes in all"));
    g_assert_cmpuint(strlen(got), <, 400);
    /* Never in the middle of a character. */
    g_autofree char *wide = g_strjoinv("", (char *[]){"\xc3\xa9\xc3\xa9\xc3\xa9", NULL});
    g_autofree char *cut = visible_text(wide, 3);
    g_assert_true(g_str_has_prefix(cut, "\xc3\xa9"));
    g_assert_true(g_utf8_validate(cut, -1, NULL));
}

static GVariant *request(const char *program, const char *rule_name, const char *value)
{
    GVariantBuilder b, args;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "program", g_variant_new_string(program));
    g_variant_builder_add(&b, "{sv}", "rule-name", g_variant_new_string(rule_name));
    g_variant_builder_add(&b, "{sv}", "syscall", g_variant_new_string(rule_name));
    g_variant_builder_add(&b, "{sv}", "pid", g_variant_new_int32(42));
    g_variant_builder_add(&b, "{sv}", "uid", g_variant_new_string("not a u")); /* wrong type */
    g_variant_builder_init(&args, G_VARIANT_TYPE("a(ss)"));
    if (value)
        g_variant_builder_add(&args, "(ss)", "filename", value);
    g_variant_builder_add(&b, "{sv}", "arguments", g_variant_builder_end(&args));
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void test_question_words(void)
{
    g_autoptr(GVariant) r1 = request("/usr/sbin/inetd", "execve", "/usr/sbin/ident2");
    g_autoptr(StQuestion) q1 = st_question_new("1", r1);
    g_autofree char *w1 = st_question_describe(q1);
    g_assert_cmpstr(w1, ==, "“inetd” wants to run “/usr/sbin/ident2”");
    g_autofree char *p1 = st_question_policy_text(q1);
    g_assert_cmpstr(p1, ==, "native-execve: filename eq \"/usr/sbin/ident2\"");
    g_assert_cmpint(q1->pid, ==, 42);
    g_assert_cmpuint(q1->uid, ==, 0); /* the wrong type is ignored */

    /* A placeholder inside the program's strings is text, not a placeholder. */
    g_autoptr(GVariant) r2 = request("/tmp/{object}%s", "fsread", "/etc/{program}\n");
    g_autoptr(StQuestion) q2 = st_question_new("2", r2);
    g_autofree char *w2 = st_question_describe(q2);
    g_assert_cmpstr(w2, ==, "“{object}%s” wants to read “/etc/{program}\\n”");

    g_autoptr(GVariant) r3 = request("/bin/x", "getppid", NULL);
    g_autoptr(StQuestion) q3 = st_question_new("3", r3);
    g_autofree char *w3 = st_question_describe(q3);
    g_assert_cmpstr(w3, ==, "“x” wants to make the system call “getppid”");
    g_autofree char *p3 = st_question_policy_text(q3);
    g_assert_cmpstr(p3, ==, "native-getppid");
}

static const struct {
    const char *typed, *want; /* want NULL: refused */
} checks[] = {
    {"filename eq \"/a\"", "native-fsread: filename eq \"/a\" then permit"},
    {"  filename match \"/a/*\" then deny[enoent]",
     "native-fsread: filename match \"/a/*\" then deny[enoent]"},
    {"native-fsread: filename eq \"/a\" then permit",
     "native-fsread: filename eq \"/a\" then permit"},
    {"permit", "native-fsread: permit"},
    {"filename eq", NULL},
    {"filename eq \"/a\" then", NULL},
    {"native-fswrite: filename eq \"/a\" then permit", NULL}, /* another call */
    {"", NULL},
    {"\x01\xff", NULL},
};

static void test_rule_check(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(checks); i++) {
        g_autofree char *error = NULL;
        g_autofree char *got = rule_edit_check("fsread", checks[i].typed, &error);
        g_assert_cmpstr(got, ==, checks[i].want);
        if (!checks[i].want)
            g_assert_nonnull(error);
    }
}

static void test_rule_action(void)
{
    const char *line = "native-fsread: filename eq \"/a\" then permit";
    g_autofree char *deny = rule_edit_with_action(line, FALSE, "enoent");
    g_assert_cmpstr(deny, ==, "native-fsread: filename eq \"/a\" then deny[enoent]");
    g_autofree char *plain = rule_edit_with_action(line, FALSE, "eperm");
    g_assert_cmpstr(plain, ==, "native-fsread: filename eq \"/a\" then deny");
    g_autofree char *permit = rule_edit_with_action(deny, TRUE, NULL);
    g_assert_cmpstr(permit, ==, line);
    g_assert_null(rule_edit_with_action("nonsense", TRUE, NULL));
    g_assert_true(rule_edit_permits(line));
    g_assert_false(rule_edit_permits(deny));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/applet/visible", test_visible);
    g_test_add_func("/applet/visible-cut", test_visible_cut);
    g_test_add_func("/applet/question-words", test_question_words);
    g_test_add_func("/applet/rule-check", test_rule_check);
    g_test_add_func("/applet/rule-action", test_rule_action);
    return g_test_run();
}
