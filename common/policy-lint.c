/* policy-lint.c: warnings that need the whole policy, for `systracectl policy check`: rules that
 * can never match, duplicates, arguments a call does not have, permits that are unsafe or that
 * bypass the path rules, privilege elevation, and a file that the store would never find. Each
 * check is linear or close to it in the number of rules: learned policies hold thousands. */
#include "policy.h"

#include <limits.h>
#include <stdlib.h>

#include "emulate.h"
#include "store.h"
#include "util.h"

/* Calls that reach a file without its path: a permit of one bypasses every path rule. */
static const char *const by_handle[] = {"open_by_handle_at", "name_to_handle_at"};

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

/* The calls rule R is about: its own, or its alias's members. Returns the count (at most MAX). */
static size_t rule_calls(const struct pol_rule *r, int *ret, size_t max)
{
    if (r->alias == SYS_ALIAS_NONE) {
        size_t k = 0;
        for (unsigned i = 0; i < r->n_calls && k < max; i++)
            ret[k++] = r->calls[i];
        return k;
    }
    unsigned n;
    const struct sys_alias_member *m = sys_alias_table(&n);
    size_t k = 0;
    for (unsigned i = 0; i < n && k < max; i++) {
        int nr = m[i].alias == r->alias ? sys_number(m[i].syscall) : -1;
        if (nr >= 0)
            ret[k++] = nr;
    }
    return k;
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
    if (e->type == POL_EXPR_CMP && streq(e->arg, "sockaddr")) {
        bool inet = strncmp(e->value, "inet-", 5) == 0 || strncmp(e->value, "inet6-", 6) == 0;
        if (e->op == POL_OP_MATCH && inet)
            return false; /* a pattern that starts so matches only inet addresses */
        return e->op != POL_OP_EQ || e->value[0] == '/' || strncmp(e->value, "abstract:", 9) == 0 ||
               strncmp(e->value, "unix:", 5) == 0;
    }
    return e->type != POL_EXPR_NOT && (names_unix_address(e->left) || names_unix_address(e->right));
}

/* The calls rule R may permit whose permit depends on pointer memory and cannot be performed by
 * the supervisor: such permits CONTINUE with an "unsafe" mark. FIRST_MEMORY[nr]: the first rule
 * about NR that compares memory (a permit after it depends on memory). */
static void check_unsafe(const struct pol_rule *r, size_t index, const size_t *first_memory,
                         struct pol_diags *d)
{
    if (r->action == POL_DENY)
        return;
    int calls[64];
    size_t n = rule_calls(r, calls, ARRAY_SIZE(calls));
    for (size_t i = 0; i < n; i++) {
        int nr = calls[i];
        if (first_memory[nr] > index)
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

/* Warnings about one rule of the file's own that need no other rule. */
static void check_alone(const struct pol_rule *r, struct pol_diags *d)
{
    if (r->as_user || r->as_group)
        pol_diags_add(d, POL_WARNING, r->line, r->col ? r->col : 1,
                      "privilege elevation ('as %s%s%s') is not supported in this version: the "
                      "rule denies every call it matches",
                      r->as_user ? r->as_user : "", r->as_group ? ":" : "",
                      r->as_group ? r->as_group : "");
    for (size_t i = 0; i < ARRAY_SIZE(by_handle); i++)
        if (r->action != POL_DENY && pol_rule_has_call(r, sys_number(by_handle[i])))
            pol_diags_add(d, POL_WARNING, r->line, r->col ? r->col : 1,
                          "'%s' reaches files by a handle, not a path: permitting it bypasses "
                          "every path rule of this policy (deny it)",
                          by_handle[i]);
}

/* Shadowing. */

static bool same_arg(const struct pol_expr *a, const struct pol_expr *b)
{
    return streq(a->arg, b->arg) && a->ordinal == b->ordinal;
}

/* Whether comparison L holding implies comparison E holds (sound, not complete). */
static bool cmp_implies(const struct pol_expr *l, const struct pol_expr *e)
{
    if (!same_arg(l, e))
        return false;
    if (l->op == e->op && streq(l->value, e->value))
        return true;
    if (l->op != POL_OP_EQ || l->has_vars || e->has_vars)
        return false;
    /* L: the argument reads exactly l->value. */
    static const char prefix[] = POL_NONEXISTENT ": ";
    bool l_missing = strncmp(l->value, prefix, strlen(prefix)) == 0;
    bool e_missing = strstr(e->value, POL_NONEXISTENT) != NULL;
    if (l_missing)
        return pol_cmp_holds(e, e_missing ? l->value : l->value + strlen(prefix));
    /* L holds whether the object exists or not; E, naming the prefix, only while it does not. */
    return !e_missing && pol_cmp_holds(e, l->value);
}

/* Whether every call for which expression L holds is one for which E holds. NULL: true. */
static bool implies(const struct pol_expr *l, const struct pol_expr *e)
{
    if (!e || e->type == POL_EXPR_TRUE)
        return true;
    if (!l)
        return false;
    if (l->type == POL_EXPR_OR)
        return implies(l->left, e) && implies(l->right, e);
    if (e->type == POL_EXPR_AND)
        return implies(l, e->left) && implies(l, e->right);
    if (e->type == POL_EXPR_OR && (implies(l, e->left) || implies(l, e->right)))
        return true;
    if (l->type == POL_EXPR_AND)
        return implies(l->left, e) || implies(l->right, e);
    if (l->type == POL_EXPR_CMP && e->type == POL_EXPR_CMP)
        return cmp_implies(l, e);
    if (l->type == POL_EXPR_NOT && e->type == POL_EXPR_NOT)
        return implies(e->left, l->left);
    return false;
}

static bool same_predicate(const struct pol_predicate *a, const struct pol_predicate *b)
{
    return a->subject == b->subject &&
           (a->subject == POL_PRED_NONE || (a->op == b->op && streq(a->value, b->value)));
}

bool pol_rule_shadows(const struct pol_rule *e, const struct pol_rule *l)
{
    return !e->include && !l->include && covers(e, l) &&
           (e->pred.subject == POL_PRED_NONE || same_predicate(&e->pred, &l->pred)) &&
           implies(l->expr, e->expr);
}

/* Rules are grouped by what they are about: a call (its number) or an alias (after them). */
#define N_KEYS (SYS_NR_LIMIT + SYS_ALIAS_MAX)

/* A rule about several calls (an OpenBSD name that maps to more than one) is filed under its
 * first: a rule that covers it must cover that one too. */
static int key_of(const struct pol_rule *r)
{
    if (r->include)
        return -1;
    if (r->alias != SYS_ALIAS_NONE)
        return SYS_NR_LIMIT + r->alias;
    return r->n_calls > 0 && r->calls[0] >= 0 && r->calls[0] < SYS_NR_LIMIT ? r->calls[0] : -1;
}

/* The keys whose rules may cover rule R: its own, and the aliases that always hold its call. */
static size_t candidate_keys(const struct pol_rule *r, int *ret)
{
    int own = key_of(r);
    if (own < 0)
        return 0;
    size_t n = 0;
    ret[n++] = own;
    for (int a = SYS_ALIAS_NONE + 1; a < SYS_ALIAS_MAX && r->alias == SYS_ALIAS_NONE; a++)
        if (r->n_calls > 0 && sys_alias_always_contains(a, r->calls[0]))
            ret[n++] = SYS_NR_LIMIT + a;
    return n;
}

/* `ARG eq "literal"`: found by a hash of key, argument and literal instead of a walk. */
static bool is_exact(const struct pol_expr *e)
{
    return e && e->type == POL_EXPR_CMP && e->op == POL_OP_EQ && !e->has_vars;
}

static uint32_t exact_hash(int key, const struct pol_expr *e)
{
    return hash_string(e->value) ^ hash_string(e->arg) * 31u ^ (uint32_t)key * 2654435761u ^
           e->ordinal;
}

struct shadow_index {
    uint32_t *general[N_KEYS]; /* per key, the rules that are not exact, in order */
    size_t n_general[N_KEYS];
    uint32_t *slots; /* exact rules: the first index + 1 per (key, argument, literal) */
    size_t mask;
    const struct policy *pol;
};

static void index_init(struct shadow_index *x, const struct policy *pol)
{
    *x = (struct shadow_index){.pol = pol};
    size_t cap = 64;
    while (cap < 2 * pol->n_rules)
        cap *= 2;
    x->slots = xcalloc(cap, sizeof(*x->slots));
    x->mask = cap - 1;
}

static void index_free(struct shadow_index *x)
{
    for (size_t k = 0; k < N_KEYS; k++)
        free(x->general[k]);
    free(x->slots);
}

/* The first exact rule with KEY comparing like E, or SIZE_MAX. */
static size_t exact_lookup(const struct shadow_index *x, int key, const struct pol_expr *e)
{
    for (size_t at = exact_hash(key, e) & x->mask; x->slots[at]; at = (at + 1) & x->mask) {
        const struct pol_rule *r = &x->pol->rules[x->slots[at] - 1];
        if (key_of(r) == key && same_arg(r->expr, e) && streq(r->expr->value, e->value))
            return x->slots[at] - 1;
    }
    return SIZE_MAX;
}

static void index_add(struct shadow_index *x, size_t i)
{
    const struct pol_rule *r = &x->pol->rules[i];
    int key = key_of(r);
    if (key < 0)
        return;
    if (is_exact(r->expr) && r->pred.subject == POL_PRED_NONE) {
        if (exact_lookup(x, key, r->expr) != SIZE_MAX)
            return; /* an earlier one shadows whatever this one would */
        size_t at = exact_hash(key, r->expr) & x->mask;
        while (x->slots[at])
            at = (at + 1) & x->mask;
        x->slots[at] = (uint32_t)i + 1;
        return;
    }
    x->general[key] = xgrowarray(x->general[key], x->n_general[key], sizeof(uint32_t));
    x->general[key][x->n_general[key]++] = (uint32_t)i;
}

/* The exact comparisons of E outside a `not`, each a chance that an exact rule implies it. */
static void exact_parts(const struct pol_expr *e, const struct pol_expr **out, size_t *n,
                        size_t max)
{
    if (!e || e->type == POL_EXPR_NOT)
        return;
    if (is_exact(e) && *n < max)
        out[(*n)++] = e;
    exact_parts(e->left, out, n, max);
    exact_parts(e->right, out, n, max);
}

/* The first earlier rule that shadows rule I, or SIZE_MAX. */
static size_t shadowing_rule(const struct shadow_index *x, size_t i)
{
    const struct pol_rule *l = &x->pol->rules[i];
    int keys[SYS_ALIAS_MAX + 1];
    size_t n_keys = candidate_keys(l, keys);
    const struct pol_expr *parts[32];
    size_t n_parts = 0;
    exact_parts(l->expr, parts, &n_parts, ARRAY_SIZE(parts));
    size_t best = SIZE_MAX;
    for (size_t k = 0; k < n_keys; k++) {
        for (size_t g = 0; g < x->n_general[keys[k]]; g++) {
            size_t j = x->general[keys[k]][g];
            if (j >= best)
                break;
            if (pol_rule_shadows(&x->pol->rules[j], l))
                best = j;
        }
        for (size_t p = 0; p < n_parts; p++) {
            size_t j = exact_lookup(x, keys[k], parts[p]);
            if (j < best && pol_rule_shadows(&x->pol->rules[j], l))
                best = j;
        }
    }
    return best;
}

static void report_shadow(const struct policy *pol, size_t i, size_t j, struct pol_diags *d)
{
    const struct pol_rule *r = &pol->rules[i], *by = &pol->rules[j];
    if (merged_alike(by, r))
        pol_diags_add(d, POL_NOTE, r->line, 1,
                      "the rule on line %u already decides every '%s' call here, alike", by->line,
                      r->name);
    else if (by->origin)
        pol_diags_add(d, POL_WARNING, r->line, 1,
                      "rule can never match: include \"%s\" on line %u brings in a rule (%s, line "
                      "%u) that matches every call this one matches, and the first matching rule "
                      "wins",
                      by->origin, by->line, by->origin, by->origin_line);
    else if ((!by->expr || by->expr->type == POL_EXPR_TRUE) && by->pred.subject == POL_PRED_NONE)
        pol_diags_add(d, POL_WARNING, r->line, 1,
                      "rule can never match: the rule on line %u already decides every '%s' call",
                      by->line, r->name);
    else
        pol_diags_add(d, POL_WARNING, r->line, 1,
                      "rule can never match: the rule on line %u matches every call this one "
                      "matches, and the first matching rule wins (put this one above it to make "
                      "it count)",
                      by->line);
}

/* Duplicates: the canonical texts of the rules seen, by hash. */
struct texts {
    char **v; /* per rule, NULL for those not kept */
    uint32_t *slots;
    size_t mask;
};

/* The earlier rule whose text is TEXT (rule I's), or SIZE_MAX; remembers rule I's. */
static size_t duplicate_of(struct texts *t, size_t i, char *text)
{
    size_t at = hash_string(text) & t->mask;
    for (; t->slots[at]; at = (at + 1) & t->mask)
        if (streq(t->v[t->slots[at] - 1], text)) {
            free(text);
            return t->slots[at] - 1;
        }
    t->v[i] = text;
    t->slots[at] = (uint32_t)i + 1;
    return SIZE_MAX;
}

/* ALL: every check; else only rules that can never match. */
static void lint_policy(const struct policy *pol, struct pol_diags *d, bool all)
{
    struct shadow_index x;
    index_init(&x, pol);
    struct texts t = {xcalloc(pol->n_rules + 1, sizeof(char *)),
                      xcalloc(x.mask + 1, sizeof(uint32_t)), x.mask};
    size_t *first_memory = xcalloc(SYS_NR_LIMIT, sizeof(*first_memory));
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++)
        first_memory[nr] = SIZE_MAX;
    for (size_t i = 0; i < pol->n_rules; i++) {
        const struct pol_rule *r = &pol->rules[i];
        int calls[64];
        size_t n = rule_calls(r, calls, ARRAY_SIZE(calls));
        for (size_t k = 0; k < n; k++)
            if (first_memory[calls[k]] == SIZE_MAX && uses_memory(r->expr, calls[k]))
                first_memory[calls[k]] = i;
        bool own = !r->origin && !r->include && (r->n_calls > 0 || r->alias != SYS_ALIAS_NONE);
        if (own) {
            size_t dup = all ? duplicate_of(&t, i, pol_rule_print(r)) : SIZE_MAX;
            size_t by = dup == SIZE_MAX ? shadowing_rule(&x, i) : SIZE_MAX;
            if (dup != SIZE_MAX)
                pol_diags_add(d, POL_WARNING, r->line, 1, "duplicate of the rule on line %u",
                              pol->rules[dup].line);
            else if (by != SIZE_MAX)
                report_shadow(pol, i, by, d);
            if (all) {
                check_args(r, r->expr, d);
                check_unsafe(r, i, first_memory, d);
                check_alone(r, d);
            }
        }
        index_add(&x, i);
    }
    for (size_t i = 0; i < pol->n_rules; i++)
        free(t.v[i]);
    free(t.v);
    free(t.slots);
    free(first_memory);
    index_free(&x);
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
        lint_policy(&file->policies[i], d, true);
    }
}

void pol_lint_shadowing(const struct policy *policy, struct pol_diags *d)
{
    lint_policy(policy, d, false);
}

void pol_lint_file_name(const struct pol_file *file, const char *path, struct pol_diags *d)
{
    if (file->n_policies != 1 || file->policies[0].path[0] != '/')
        return;
    const struct policy *pol = &file->policies[0];
    _cleanup_free_ char *resolved = realpath(pol->path, NULL);
    if (resolved && !streq(resolved, pol->path))
        pol_diags_add(d, POL_WARNING, pol->line, 1,
                      "%s resolves to %s, the path a policy is looked up by: this one never "
                      "governs it (write 'Policy: %s')",
                      pol->path, resolved, resolved);
    _cleanup_free_ char *want = NULL;
    if (store_file_name(resolved ? resolved : pol->path, &want) < 0)
        return;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!streq(base, want))
        pol_diags_add(d, POL_WARNING, pol->line, 1,
                      "the policy of %s is looked up in a file named '%s', not '%s' (only a "
                      "file given with -f may have another name)",
                      resolved ? resolved : pol->path, want, base);
}
