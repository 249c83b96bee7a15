/* policy-print.c: the canonical text of a policy. The output parses back to the same policy, so
 * print(parse(print(p))) == print(p). */
#include "policy.h"

#include <ctype.h>

#include "errnames.h"
#include "util.h"

const struct pol_escape pol_escapes[5] = {
    {'"', '"'}, {'\\', '\\'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};

/* Whether the UTF-8 sequence at S (LEN bytes) is a character that must not reach a terminal or a
 * log reader as itself: a C1 control (U+0080-U+009F, which some terminals obey) or an invisible
 * formatting or direction character (the bidirectional overrides make text read backwards). */
static bool invisible(const unsigned char *s, size_t len)
{
    uint32_t cp = len == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)
                  : len == 3
                      ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
                      : 0;
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static void quote_into(struct buf *b, const char *str)
{
    buf_putc(b, '"');
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    for (size_t i = 0; i < n;) {
        const struct pol_escape *esc = NULL;
        for (unsigned k = 0; k < ARRAY_SIZE(pol_escapes); k++)
            if (s[i] == (unsigned char)pol_escapes[k].c)
                esc = &pol_escapes[k];
        if (esc) {
            buf_putc(b, '\\');
            buf_putc(b, esc->letter);
            i++;
        } else if (s[i] >= 0x20 && s[i] < 0x7f) {
            buf_putc(b, (char)s[i]);
            i++;
        } else if (s[i] >= 0x80 && utf8_sequence(s + i, n - i) &&
                   !invisible(s + i, utf8_sequence(s + i, n - i))) {
            size_t len = utf8_sequence(s + i, n - i);
            buf_append(b, (const char *)s + i, len);
            i += len;
        } else {
            buf_printf(b, "\\x%02x", s[i]);
            i++;
        }
    }
    buf_putc(b, '"');
}

char *pol_quote(const char *str)
{
    struct buf b = {0};
    quote_into(&b, str);
    return buf_steal(&b);
}

enum { PREC_OR = 1, PREC_AND = 2, PREC_UNARY = 3 };

static void expr_into(struct buf *b, const struct pol_expr *e, int parent_prec, bool right)
{
    switch (e->type) {
    case POL_EXPR_TRUE:
        buf_puts(b, "true");
        return;
    case POL_EXPR_CMP:
        if (e->written)
            buf_puts(b, e->written);
        else if (e->has_ordinal)
            buf_printf(b, "%s[%u]", e->arg, e->ordinal);
        else
            buf_puts(b, e->arg);
        buf_printf(b, " %s ", pol_op_name(e->op));
        quote_into(b, e->value);
        return;
    case POL_EXPR_NOT:
        buf_puts(b, "not ");
        expr_into(b, e->left, PREC_UNARY, false);
        return;
    case POL_EXPR_AND:
    case POL_EXPR_OR: {
        int prec = e->type == POL_EXPR_AND ? PREC_AND : PREC_OR;
        /* Both operators group to the left, so a right operand of the same kind needs parens. */
        bool parens = parent_prec > prec || (parent_prec == prec && right);
        if (parens)
            buf_putc(b, '(');
        expr_into(b, e->left, prec, false);
        buf_puts(b, e->type == POL_EXPR_AND ? " and " : " or ");
        expr_into(b, e->right, prec, true);
        if (parens)
            buf_putc(b, ')');
        return;
    }
    }
}

char *pol_expr_print(const struct pol_expr *expr)
{
    struct buf b = {0};
    expr_into(&b, expr, 0, false);
    return buf_steal(&b);
}

static bool is_plain_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
            return false;
    return true;
}

static void rule_into(struct buf *b, const struct pol_rule *r)
{
    if (r->include) {
        buf_puts(b, "include ");
        quote_into(b, r->include);
        return;
    }
    buf_printf(b, "native-%s: ", r->name);
    if (r->expr) {
        expr_into(b, r->expr, 0, false);
        buf_puts(b, " then ");
    }
    buf_puts(b, pol_action_name(r->action));
    if (r->err > 0) {
        const char *name = errname_from_errno(r->err);
        buf_putc(b, '[');
        for (const char *c = name; c && *c; c++)
            buf_putc(b, (char)tolower((unsigned char)*c));
        buf_putc(b, ']');
    }
    if (r->log)
        buf_puts(b, " log");
    if (r->as_user || r->as_group) {
        buf_puts(b, " as ");
        if (r->as_user)
            buf_puts(b, r->as_user);
        if (r->as_group)
            buf_printf(b, ":%s", r->as_group);
    }
    if (r->pred.subject != POL_PRED_NONE) {
        static const char *const ops[] = {
            [POL_PRED_EQ] = "=", [POL_PRED_NE] = "!=", [POL_PRED_LT] = "<", [POL_PRED_GT] = ">"};
        buf_printf(b, ", if %s %s ", r->pred.subject == POL_PRED_USER ? "user" : "group",
                   ops[r->pred.op]);
        if (is_plain_word(r->pred.value))
            buf_puts(b, r->pred.value);
        else
            quote_into(b, r->pred.value);
    }
}

char *pol_rule_print(const struct pol_rule *rule)
{
    struct buf b = {0};
    rule_into(&b, rule);
    return buf_steal(&b);
}

char *pol_print(const struct policy *policy)
{
    struct buf b = {0};
    buf_printf(&b, "Policy: %s, Emulation: native\n", policy->path);
    for (size_t i = 0; i < policy->n_rules; i++) {
        if (policy->rules[i].origin)
            continue; /* brought in by an include line, which is printed instead */
        buf_putc(&b, '\t');
        rule_into(&b, &policy->rules[i]);
        buf_putc(&b, '\n');
    }
    return buf_steal(&b);
}
