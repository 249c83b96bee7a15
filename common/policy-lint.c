/* policy-lint.c: warnings that need the whole policy (rules that can never match, duplicates,
 * arguments a call does not have), for `systracectl policy check`. */
#include "policy.h"

#include "util.h"

static bool unconditional(const struct pol_rule *r)
{
    return (!r->expr || r->expr->type == POL_EXPR_TRUE) && r->pred.subject == POL_PRED_NONE;
}

/* Whether every call that LATER is about is also one that EARLIER is about. */
static bool covers(const struct pol_rule *earlier, const struct pol_rule *later)
{
    if (earlier->alias != SYS_ALIAS_NONE)
        return later->alias == earlier->alias ||
               (later->nr >= 0 && sys_alias_always_contains(earlier->alias, later->nr));
    return later->alias == SYS_ALIAS_NONE && later->nr >= 0 && later->nr == earlier->nr;
}

static bool schema_has(int nr, const char *arg)
{
    const struct sys_schema *s = sys_schema_for(nr);
    for (unsigned i = 0; s && i < SYS_MAX_ARGS && s->args[i].name; i++)
        if (streq(s->args[i].name, arg))
            return true;
    return false;
}

/* Whether the call or some call of the alias that R names has an argument called ARG. */
static bool rule_has_arg(const struct pol_rule *r, const char *arg)
{
    if (r->alias == SYS_ALIAS_NONE)
        return schema_has(r->nr, arg);
    unsigned n;
    const struct sys_alias_member *m = sys_alias_table(&n);
    for (unsigned i = 0; i < n; i++)
        if (m[i].alias == r->alias && schema_has(sys_number(m[i].syscall), arg))
            return true;
    return false;
}

static void check_args(const struct pol_rule *r, const struct pol_expr *e, struct pol_diags *d)
{
    if (!e)
        return;
    if (e->type == POL_EXPR_CMP && !rule_has_arg(r, e->arg))
        pol_diags_add(d, POL_WARNING, r->line, 1,
                      "'%s' has no argument '%s': the comparison is never true", r->name, e->arg);
    check_args(r, e->left, d);
    check_args(r, e->right, d);
}

static void lint_policy(const struct policy *pol, struct pol_diags *d)
{
    char **texts = xcalloc(pol->n_rules, sizeof(*texts));
    for (size_t i = 0; i < pol->n_rules; i++) {
        const struct pol_rule *r = &pol->rules[i];
        texts[i] = pol_rule_print(r);
        if (r->alias == SYS_ALIAS_NONE && r->nr < 0)
            continue; /* already reported as an unknown call */
        const struct pol_rule *dup = NULL, *shadow = NULL;
        for (size_t j = 0; j < i; j++) {
            if (!dup && streq(texts[j], texts[i]))
                dup = &pol->rules[j];
            if (!shadow && unconditional(&pol->rules[j]) && covers(&pol->rules[j], r))
                shadow = &pol->rules[j];
        }
        if (dup)
            pol_diags_add(d, POL_WARNING, r->line, 1, "duplicate of the rule on line %u",
                          dup->line);
        else if (shadow)
            pol_diags_add(d, POL_WARNING, r->line, 1,
                          "rule can never match: the rule on line %u already decides every "
                          "'%s' call",
                          shadow->line, r->name);
        if (r->nr >= 0 || r->alias != SYS_ALIAS_NONE)
            check_args(r, r->expr, d);
    }
    for (size_t i = 0; i < pol->n_rules; i++)
        free(texts[i]);
    free(texts);
}

void pol_lint(const struct pol_file *file, struct pol_diags *d)
{
    if (file->n_policies == 0)
        pol_diags_add(d, POL_WARNING, 1, 1, "no 'Policy:' header: the file holds no policy");
    for (size_t i = 0; i < file->n_policies; i++) {
        for (size_t j = 0; j < i; j++)
            if (streq(file->policies[j].path, file->policies[i].path))
                pol_diags_add(d, POL_WARNING, file->policies[i].line, 1,
                              "second policy for %s (the first is on line %u)",
                              file->policies[i].path, file->policies[j].line);
        lint_policy(&file->policies[i], d);
    }
}
