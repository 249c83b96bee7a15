/* policy-lint.c: warnings that need the whole policy (rules that can never match, duplicates,
 * arguments a call does not have), for `systracectl policy check`. */
#include "policy.h"

#include "emulate.h"
#include "util.h"

static bool unconditional(const struct pol_rule *r)
{
    return (!r->expr || r->expr->type == POL_EXPR_TRUE) && r->pred.subject == POL_PRED_NONE;
}

/* Whether every call that LATER is about is also one that EARLIER is about. */
static bool covers(const struct pol_rule *earlier, const struct pol_rule *later)
{
    if (later->alias != SYS_ALIAS_NONE)
        return later->alias == earlier->alias;
    for (unsigned i = 0; i < later->n_calls; i++)
        if (earlier->alias != SYS_ALIAS_NONE
                ? !sys_alias_always_contains(earlier->alias, later->calls[i])
                : !pol_rule_has_call(earlier, later->calls[i]))
            return false;
    return later->n_calls > 0;
}

/* Whether EARLIER shadows LATER only because OpenBSD names that are apart there are one call
 * here (__thrsleep and __thrwakeup are futex), and both decide alike: then nothing is lost. */
static bool merged_alike(const struct pol_rule *earlier, const struct pol_rule *later)
{
    return (earlier->compat || later->compat) && earlier->action == later->action &&
           earlier->err == later->err && earlier->log == later->log;
}

static bool schema_has(int nr, const char *arg)
{
    const struct sys_schema *s = sys_schema_for(nr);
    for (unsigned i = 0; s && i < SYS_MAX_ARGS && s->args[i].name; i++)
        if (streq(s->args[i].name, arg))
            return true;
    return false;
}

/* Whether some call that R names, or of its alias, has an argument called ARG. */
static bool rule_has_arg(const struct pol_rule *r, const char *arg)
{
    for (unsigned i = 0; i < r->n_calls; i++)
        if (schema_has(r->calls[i], arg))
            return true;
    if (r->alias == SYS_ALIAS_NONE)
        return false;
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

/* Whether E compares an argument that call NR reads from the target's memory. */
static bool uses_memory(const struct pol_expr *e, int nr)
{
    if (!e)
        return false;
    if (e->type == POL_EXPR_CMP) {
        const struct sys_schema *s = sys_schema_for(nr);
        for (unsigned i = 0; s && i < SYS_MAX_ARGS && s->args[i].name; i++)
            if (streq(s->args[i].name, e->arg) && sys_arg_kind_reads_memory(s->args[i].kind))
                return true;
        return false;
    }
    return uses_memory(e->left, nr) || uses_memory(e->right, nr);
}

/* Whether E may permit a unix socket address, which the supervisor never connects for a target
 * (the peer would see the supervisor's credentials). */
static bool names_unix_address(const struct pol_expr *e)
{
    if (!e)
        return false;
    if (e->type == POL_EXPR_CMP && streq(e->arg, "sockaddr"))
        return e->op != POL_OP_EQ || e->value[0] == '/' || strncmp(e->value, "abstract:", 9) == 0 ||
               strncmp(e->value, "unix:", 5) == 0;
    return e->type != POL_EXPR_NOT && (names_unix_address(e->left) || names_unix_address(e->right));
}

/* The calls rule R may permit whose permit depends on pointer memory and cannot be performed by
 * the supervisor: such permits CONTINUE with an "unsafe" mark (DESIGN.md 3.5). */
static void check_unsafe(const struct policy *pol, size_t index, struct pol_diags *d)
{
    const struct pol_rule *r = &pol->rules[index];
    if (r->action == POL_DENY)
        return;
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++) {
        if (!sys_name(nr) || !pol_rule_names_call(r, nr))
            continue;
        bool memory = false;
        for (size_t k = 0; k <= index && !memory; k++)
            memory = pol_rule_names_call(&pol->rules[k], nr) && uses_memory(pol->rules[k].expr, nr);
        if (!memory)
            continue;
        enum emu_kind kind = emu_kind_of(nr, NULL);
        const char *name = sys_name(nr);
        bool socket = streq(name, "connect") || streq(name, "bind") || streq(name, "sendto");
        if (kind == EMU_NONE)
            pol_diags_add(d, POL_WARNING, r->line, 1,
                          "unsafe: '%s' has no race-free emulation yet: this rule's permit "
                          "depends on its pointer arguments and lets the call run as it is "
                          "(CONTINUE), which another thread can race",
                          name);
        else if (socket && names_unix_address(r->expr))
            pol_diags_add(d, POL_WARNING, r->line, 1,
                          "unsafe: '%s' to a unix socket address is let run as it is "
                          "(CONTINUE): the supervisor never connects one for the target",
                          name);
    }
}

static void lint_policy(const struct policy *pol, struct pol_diags *d)
{
    char **texts = xcalloc(pol->n_rules, sizeof(*texts));
    for (size_t i = 0; i < pol->n_rules; i++) {
        const struct pol_rule *r = &pol->rules[i];
        texts[i] = pol_rule_print(r);
        if (r->alias == SYS_ALIAS_NONE && r->n_calls == 0)
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
        else if (shadow && merged_alike(shadow, r))
            pol_diags_add(d, POL_NOTE, r->line, 1,
                          "the rule on line %u already decides every '%s' call here, alike",
                          shadow->line, r->name);
        else if (shadow)
            pol_diags_add(d, POL_WARNING, r->line, 1,
                          "rule can never match: the rule on line %u already decides every "
                          "'%s' call",
                          shadow->line, r->name);
        check_args(r, r->expr, d);
        check_unsafe(pol, i, d);
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
