/* policy-include.c: expanding `include "NAME"` lines. The fragment's rules are put right after the
 * include line, so that first-match order, the index and the kernel filter need to know nothing
 * about includes; the printer leaves the brought-in rules out again. */
#include "policy.h"

#include <errno.h>

#include "i18n.h"
#include "util.h"

struct rules {
    struct pol_rule *v;
    size_t n;
};

struct expand {
    pol_fragment_fn fn;
    void *userdata;
    const char *stack[POL_MAX_INCLUDE_DEPTH]; /* the abstractions being expanded, outermost first */
    size_t depth;
    bool uses_cwd;
};

static void push(struct rules *out, const struct pol_rule *r)
{
    out->v = xgrowarray(out->v, out->n, sizeof(*out->v));
    out->v[out->n++] = *r;
}

/* "a -> b -> a" for the message about a cycle or a chain too deep. */
static char *chain(const struct expand *x, const char *last)
{
    struct buf b = {0};
    for (size_t i = 0; i < x->depth; i++)
        buf_printf(&b, "%s -> ", x->stack[i]);
    buf_puts(&b, last);
    return buf_steal(&b);
}

/* The first error of a fragment's diagnostics, as one line. */
static char *first_error(const struct pol_diags *d, const char *path)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].severity == POL_ERROR)
            return xasprintf("%s:%u:%u: %s%s", path, d->v[i].line, d->v[i].col, d->v[i].msg,
                             d->n_errors > 1 ? _(" (and more errors)") : "");
    return xstrdup("?");
}

/* Appends to OUT the rules of abstraction NAME, expanded, each taking LINE (the include line in
 * the policy's own file). On error, nothing is appended and *ret_error says why. */
static int splice(struct expand *x, const char *name, unsigned line, struct rules *out,
                  char **ret_error)
{
    for (size_t i = 0; i < x->depth; i++)
        if (streq(x->stack[i], name)) {
            _cleanup_free_ char *c = chain(x, name);
            *ret_error = xasprintf(_("include cycle: %s"), c);
            return -ELOOP;
        }
    if (x->depth == POL_MAX_INCLUDE_DEPTH) {
        _cleanup_free_ char *c = chain(x, name);
        *ret_error =
            xasprintf(_("includes nested more than %d deep: %s"), POL_MAX_INCLUDE_DEPTH, c);
        return -ELOOP;
    }
    _cleanup_free_ char *text = NULL, *path = NULL, *why = NULL;
    size_t len = 0;
    int r = x->fn(x->userdata, name, &text, &len, &path, &why);
    if (r < 0) {
        *ret_error = r == -ENOENT
                         ? xasprintf(_("unknown abstraction '%s'%s%s"), name, why ? ": " : "",
                                     why ? why : "")
                         : xasprintf(_("abstraction '%s': %s"), name, why ? why : strerror(-r));
        return r;
    }
    struct pol_file *frag = NULL;
    struct pol_diags diags = {0};
    r = pol_parse_fragment(name, text, len, &frag, &diags);
    if (r < 0) {
        _cleanup_free_ char *e = first_error(&diags, path);
        *ret_error = xasprintf(_("abstraction '%s' does not parse: %s"), name, e);
        pol_diags_clear(&diags);
        pol_file_free(frag);
        return r;
    }
    pol_diags_clear(&diags);
    struct policy *p = &frag->policies[0];
    x->uses_cwd |= p->uses_cwd;
    x->stack[x->depth++] = name;
    struct rules mine = {0};
    for (size_t i = 0; i < p->n_rules && r == 0; i++) {
        struct pol_rule rule = p->rules[i];
        p->rules[i] = (struct pol_rule){0}; /* moved */
        rule.origin = xstrdup(name);
        rule.origin_line = rule.line;
        rule.line = line;
        push(&mine, &rule);
        if (rule.include)
            r = splice(x, rule.include, line, &mine, ret_error);
    }
    x->depth--;
    pol_file_free(frag); /* its rules were moved out, or are cleared ones */
    if (r < 0) {
        for (size_t i = 0; i < mine.n; i++)
            pol_rule_clear(&mine.v[i]);
        free(mine.v);
        return r;
    }
    for (size_t i = 0; i < mine.n; i++)
        push(out, &mine.v[i]);
    free(mine.v);
    return 0;
}

bool pol_file_has_includes(const struct pol_file *file)
{
    for (size_t i = 0; file && i < file->n_policies; i++)
        for (size_t k = 0; k < file->policies[i].n_rules; k++)
            if (file->policies[i].rules[k].include)
                return true;
    return false;
}

int pol_expand_includes(struct pol_file *file, pol_fragment_fn fn, void *userdata,
                        struct pol_diags *diags)
{
    int result = 0;
    for (size_t i = 0; i < file->n_policies; i++) {
        struct policy *pol = &file->policies[i];
        if (!pol_file_has_includes(&(struct pol_file){pol, 1}))
            continue;
        struct rules out = {0};
        struct expand x = {.fn = fn, .userdata = userdata};
        for (size_t k = 0; k < pol->n_rules; k++) {
            struct pol_rule *r = &pol->rules[k];
            if (r->origin) {
                pol_rule_clear(r); /* from an earlier expansion: brought in again below */
                continue;
            }
            push(&out, r);
            if (!r->include)
                continue;
            char *err = NULL;
            if (splice(&x, r->include, r->line, &out, &err) < 0) {
                pol_diags_add(diags, POL_ERROR, r->line, r->col ? r->col : 1, "%s", err);
                result = -EINVAL;
            }
            free(err);
        }
        free(pol->rules);
        pol->rules = out.v;
        pol->n_rules = out.n;
        pol->uses_cwd |= x.uses_cwd;
        pol_index_build(pol);
    }
    return result;
}
