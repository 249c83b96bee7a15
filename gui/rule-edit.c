/* rule-edit.c: a typed rule, checked as the daemon will parse it; the daemon still checks that
 * it matches the call (it alone has the call's arguments). */
#include "rule-edit.h"

#include <glib.h>
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "errnames.h"
#include "policy.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The rule line TEXT stands for: a condition gets "native-NAME: " and, without an action, a
 * placeholder one (the button pressed decides it). */
static char *complete(const char *rule_name, const char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (has_prefix(text, "native-") || has_prefix(text, "linux64-"))
        return g_strdup(text);
    bool has_action = strstr(text, " then ") || strstr(text, "->") || !strcmp(text, "permit") ||
                      has_prefix(text, "deny");
    return has_action ? g_strdup_printf("native-%s: %s", rule_name, text)
                      : g_strdup_printf("native-%s: %s then permit", rule_name, text);
}

char *rule_edit_check(const char *rule_name, const char *text, char **ret_error)
{
    g_autofree char *line = complete(rule_name, text ? text : "");
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0 || !rule) {
        *ret_error = g_strdup(err ? err : _("not a rule"));
        free(err);
        return NULL;
    }
    bool same_call = !strcmp(rule->name, rule_name);
    bool is_include = rule->include != NULL;
    pol_rule_free(rule);
    if (is_include) {
        *ret_error = g_strdup(_("an include is not an answer"));
        return NULL;
    }
    if (!same_call) {
        *ret_error = g_strdup_printf(_("the rule is not about this call (native-%s)"), rule_name);
        return NULL;
    }
    return g_steal_pointer(&line);
}

bool rule_edit_permits(const char *line)
{
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0 || !rule) {
        free(err);
        return false;
    }
    bool permits = rule->action == POL_PERMIT;
    pol_rule_free(rule);
    return permits;
}

char *rule_edit_with_action(const char *line, bool permit, const char *errno_name)
{
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0 || !rule) {
        free(err);
        return NULL;
    }
    rule->action = permit ? POL_PERMIT : POL_DENY;
    int e = !permit && errno_name ? errname_to_errno(errno_name) : 0;
    rule->err = e > 0 && e != 1 /* EPERM is plain deny */ ? e : 0;
    char *printed = pol_rule_print(rule);
    pol_rule_free(rule);
    char *out = g_strdup(printed);
    free(printed);
    return out;
}
