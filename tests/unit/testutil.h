/* testutil.h: helpers shared by the unit tests (GLib's test framework, TAP output). */
#pragma once

#include <glib.h>

#include "policy.h"

/* Parses TEXT, which must hold no error, and returns its first policy's file. */
static inline struct pol_file *parse_ok(const char *text)
{
    struct pol_file *f = NULL;
    struct pol_diags d = {0};
    int r = pol_parse(text, strlen(text), &f, &d);
    if (r < 0) {
        g_autofree char *msg = pol_diags_format(&d, "<test>");
        g_test_message("unexpected errors:\n%s", msg);
    }
    g_assert_cmpint(r, ==, 0);
    pol_diags_clear(&d);
    return f;
}

static inline struct pol_rule *rule_ok(const char *line)
{
    struct pol_rule *r = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &r, &err) < 0)
        g_error("rule '%s' did not parse: %s", line, err);
    return r;
}
