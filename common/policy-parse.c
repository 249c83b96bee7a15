/* policy-parse.c: the policy grammar as a line-oriented
 * recursive-descent parser. Every error names its line and column; a bad line is reported and
 * left out, never silently dropped. */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errnames.h"
#include "i18n.h"
#include "util.h"

/* Bounds that keep a hostile file from exhausting the stack or the CPU. */
#define MAX_NESTING 200
#define MAX_TERMS   1024

enum tok {
    T_END,
    T_WORD,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_COLON,
    T_EQ,
    T_NE,
    T_LT,
    T_GT,
    T_ARROW,
    T_OTHER, /* a character the grammar has no use for */
};

struct token {
    enum tok type;
    size_t start; /* offset in the line */
    char *text;   /* T_WORD: the word; T_STRING: the value with escapes resolved */
};

struct parser {
    const char *s; /* the line, without its newline */
    size_t len;
    size_t pos;
    struct token tok; /* the current token */
    unsigned terms;
    char *err; /* the first error, NULL while none */
    size_t err_pos;
};

static void fail_at(struct parser *p, size_t pos, const char *fmt, ...) _printf_(3, 4);

static void fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    /* Messages are translated here: their call sites are fail_at's (xgettext --keyword). */
    if (vasprintf(&p->err, gettext(fmt), ap) < 0)
        p->err = xstrdup("out of memory");
    va_end(ap);
    p->err_pos = pos;
}

static bool is_word_char(const struct parser *p, size_t i)
{
    unsigned char c = (unsigned char)p->s[i];
    if (c == '-')
        return !(i + 1 < p->len && p->s[i + 1] == '>');
    return isalnum(c) || c == '_' || c == '.' || c == '$' || c >= 0x80;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a quoted string starting at p->pos (the opening quote). */
static void lex_string(struct parser *p)
{
    size_t start = p->pos;
    struct buf b = {0};
    buf_append(&b, "", 0);
    p->pos++;
    for (;;) {
        if (p->pos >= p->len) {
            fail_at(p, start, "unterminated string: missing closing '\"'");
            break;
        }
        char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            p->tok.text = buf_steal(&b);
            return;
        }
        if (c != '\\') {
            buf_putc(&b, c);
            p->pos++;
            continue;
        }
        size_t esc = p->pos;
        if (esc + 1 >= p->len) {
            fail_at(p, start, "unterminated string: missing closing '\"'");
            break;
        }
        char e = p->s[esc + 1];
        p->pos += 2;
        const struct pol_escape *known = NULL;
        for (unsigned k = 0; k < ARRAY_SIZE(pol_escapes); k++)
            if (e == pol_escapes[k].letter)
                known = &pol_escapes[k];
        if (known) {
            buf_putc(&b, known->c);
            continue;
        }
        if (e != 'x') {
            fail_at(p, esc, "unknown escape '\\%c' (known: \\n \\r \\t \\\" \\\\ \\xHH)", e);
            break;
        }
        int hi = p->pos < p->len ? hex_digit(p->s[p->pos]) : -1;
        int lo = p->pos + 1 < p->len ? hex_digit(p->s[p->pos + 1]) : -1;
        if (hi < 0 || lo < 0) {
            fail_at(p, esc, "'\\x' must be followed by two hexadecimal digits");
            break;
        }
        if (hi == 0 && lo == 0) {
            fail_at(p, esc, "a string cannot hold a NUL byte ('\\x00')");
            break;
        }
        buf_putc(&b, (char)(hi * 16 + lo));
        p->pos += 2;
    }
    buf_free(&b);
    p->tok.type = T_END;
}

static void next(struct parser *p)
{
    free(p->tok.text);
    p->tok.text = NULL;
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
    p->tok.start = p->pos;
    if (p->err || p->pos >= p->len || p->s[p->pos] == '#') {
        p->tok.type = T_END;
        return;
    }
    static const struct {
        const char *text;
        enum tok type;
    } punct[] = {
        {"->", T_ARROW}, {"!=", T_NE},    {"(", T_LPAREN}, {")", T_RPAREN},
        {"[", T_LBRACK}, {"]", T_RBRACK}, {",", T_COMMA},  {":", T_COLON},
        {"=", T_EQ},     {"<", T_LT},     {">", T_GT},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(punct); i++) {
        size_t n = strlen(punct[i].text);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, punct[i].text, n) == 0) {
            p->tok.type = punct[i].type;
            p->pos += n;
            return;
        }
    }
    if (p->s[p->pos] == '"') {
        p->tok.type = T_STRING;
        lex_string(p);
        return;
    }
    if (!is_word_char(p, p->pos)) {
        p->tok.type = T_OTHER;
        p->pos++;
        return;
    }
    size_t start = p->pos;
    while (p->pos < p->len && is_word_char(p, p->pos))
        p->pos++;
    p->tok.type = T_WORD;
    p->tok.text = xstrndup(p->s + start, p->pos - start);
}

/* How the current token reads in an error message. */
static const char *describe(const struct parser *p, char *scratch, size_t n)
{
    switch (p->tok.type) {
    case T_END:
        return _("end of line");
    case T_STRING:
        return _("a string");
    case T_WORD:
        snprintf(scratch, n, "'%.40s'", p->tok.text);
        return scratch;
    default:
        snprintf(scratch, n, "'%.*s'", (int)(p->pos - p->tok.start), p->s + p->tok.start);
        return scratch;
    }
}

static void fail_expected(struct parser *p, const char *what)
{
    char scratch[64];
    fail_at(p, p->tok.start, "expected %s, found %s", gettext(what),
            describe(p, scratch, sizeof(scratch)));
}

static bool word_is(const struct parser *p, const char *w)
{
    return p->tok.type == T_WORD && streq(p->tok.text, w);
}

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static const char *const op_names[POL_OP_MAX] = {
    [POL_OP_EQ] = "eq",   [POL_OP_NEQ] = "neq",   [POL_OP_MATCH] = "match",
    [POL_OP_SUB] = "sub", [POL_OP_NSUB] = "nsub", [POL_OP_INPATH] = "inpath",
    [POL_OP_RE] = "re",
};

const char *pol_op_name(enum pol_op op)
{
    return op < POL_OP_MAX ? op_names[op] : "?";
}

static const char *const action_names[POL_ACTION_MAX] = {
    [POL_PERMIT] = "permit",
    [POL_DENY] = "deny",
    [POL_ASK] = "ask",
};

const char *pol_action_name(enum pol_action action)
{
    return action < POL_ACTION_MAX ? action_names[action] : "?";
}

static int action_from_word(const char *w)
{
    for (int a = 0; a < POL_ACTION_MAX; a++)
        if (streq(action_names[a], w))
            return a;
    return -1;
}

static void expr_free(struct pol_expr *e)
{
    if (!e)
        return;
    expr_free(e->left);
    expr_free(e->right);
    free(e->arg);
    free(e->written);
    free(e->value);
    if (e->re) {
        regfree(e->re);
        free(e->re);
    }
    free(e);
}

/* Whether S names a known variable; *ret_unknown gets the first $NAME that is not one. */
static bool scan_vars(const char *s, const char **ret_unknown, size_t *ret_unknown_len)
{
    bool any = false;
    *ret_unknown = NULL;
    for (const char *d = strchr(s, '$'); d; d = strchr(d + 1, '$')) {
        size_t n = 0;
        while (isalnum((unsigned char)d[1 + n]) || d[1 + n] == '_')
            n++;
        if (n == 0)
            continue;
        if (pol_var_known(d + 1, n))
            any = true;
        else if (!*ret_unknown) {
            *ret_unknown = d;
            *ret_unknown_len = n + 1;
        }
    }
    return any;
}

/* The first "${NAME}" in S, a make variable (OpenBSD's ports tree wrote its filter with them and
 * substituted them with sed); *ret_len gets its length. NULL when there is none. */
static const char *find_make_var(const char *s, size_t *ret_len)
{
    for (const char *d = strstr(s, "${"); d; d = strstr(d + 1, "${")) {
        size_t n = 2;
        while (isalnum((unsigned char)d[n]) || d[n] == '_')
            n++;
        if (n > 2 && d[n] == '}') {
            *ret_len = n + 1;
            return d;
        }
    }
    return NULL;
}

struct rule_ctx {
    struct parser *p;
    struct pol_diags *diags; /* for warnings; may be NULL */
    unsigned line;
    const struct sys_compat *compat; /* the OpenBSD row the rule's name maps through, or NULL */
};

static struct pol_expr *new_expr(struct parser *p, enum pol_expr_type type)
{
    if (++p->terms > MAX_TERMS) {
        fail_at(p, p->tok.start, "expression too long (more than %d terms)", MAX_TERMS);
        return NULL;
    }
    struct pol_expr *e = xcalloc(1, sizeof(*e));
    e->type = type;
    return e;
}

static struct pol_expr *parse_or(struct rule_ctx *c, unsigned depth);

/* An argument written with OpenBSD's name or numbering ("string", setegid's "gid") becomes ours;
 * E keeps what was written for the printer, and a note says what it was taken as. */
static void translate_arg(struct rule_ctx *c, struct pol_expr *e, size_t pos)
{
    const char *name;
    unsigned ordinal;
    if (!sys_compat_arg(c->compat, e->arg, e->ordinal, &name, &ordinal))
        return;
    e->written = e->has_ordinal ? xasprintf("%s[%u]", e->arg, e->ordinal) : xstrdup(e->arg);
    free(e->arg);
    e->arg = xstrdup(name);
    e->ordinal = ordinal;
    e->has_ordinal = ordinal > 0;
    char index[16] = "";
    if (ordinal)
        snprintf(index, sizeof(index), "[%u]", ordinal);
    if (c->diags)
        pol_diags_add(c->diags, POL_NOTE, c->line, (unsigned)pos + 1,
                      "OpenBSD's argument '%s' is read as '%s%s' here", e->written, e->arg, index);
}

static struct pol_expr *parse_cmp(struct rule_ctx *c)
{
    struct parser *p = c->p;
    const char *name;
    unsigned unused;
    sys_compat_arg(c->compat, p->tok.text, 0, &name, &unused);
    if (!sys_arg_name_known(name)) {
        fail_at(p, p->tok.start,
                "unknown argument '%.40s' (expected an argument such as "
                "filename, sockaddr, oflags, uid, signame, or 'true', 'not', '(')",
                p->tok.text);
        return NULL;
    }
    struct pol_expr *e = new_expr(p, POL_EXPR_CMP);
    if (!e)
        return NULL;
    size_t arg_pos = p->tok.start;
    e->arg = steal_pointer(&p->tok.text);
    next(p);
    if (p->tok.type == T_LBRACK) {
        next(p);
        if (p->tok.type != T_WORD || !is_number(p->tok.text) || strlen(p->tok.text) > 2) {
            fail_expected(p, "an argument number (0-99)");
            goto fail;
        }
        e->ordinal = (unsigned)strtoul(p->tok.text, NULL, 10);
        e->has_ordinal = true;
        next(p);
        if (p->tok.type != T_RBRACK) {
            fail_expected(p, "']'");
            goto fail;
        }
        next(p);
    }
    translate_arg(c, e, arg_pos);
    int op = -1;
    for (int i = 0; p->tok.type == T_WORD && i < POL_OP_MAX; i++)
        if (streq(op_names[i], p->tok.text))
            op = i;
    if (op < 0) {
        fail_expected(p, "an operator (eq, neq, match, sub, nsub, inpath, re)");
        goto fail;
    }
    e->op = op;
    next(p);
    if (p->tok.type != T_STRING) {
        fail_expected(p, "a quoted string");
        goto fail;
    }
    size_t value_pos = p->tok.start;
    e->value = steal_pointer(&p->tok.text);
    const char *unknown;
    size_t unknown_len = 0;
    e->has_vars = scan_vars(e->value, &unknown, &unknown_len);
    if (unknown && c->diags)
        pol_diags_add(c->diags, POL_WARNING, c->line, (unsigned)value_pos + 1,
                      "unknown variable '%.*s' is kept as written (known: $HOME, $USER, $CWD, "
                      "$PID, $TID)",
                      (int)unknown_len, unknown);
    const char *make_var = find_make_var(e->value, &unknown_len);
    if (make_var && c->diags)
        pol_diags_add(c->diags, POL_WARNING, c->line, (unsigned)value_pos + 1,
                      "'%.*s' is a make variable, kept as written: substitute it before use "
                      "(sed -e 's,%.*s,/path,g')",
                      (int)unknown_len, make_var, (int)unknown_len, make_var);
    if (e->op == POL_OP_RE && !e->has_vars) {
        e->re = xmalloc(sizeof(*e->re));
        int r = regcomp(e->re, e->value, REG_EXTENDED | REG_NOSUB);
        if (r != 0) {
            char msg[128];
            regerror(r, e->re, msg, sizeof(msg));
            free(e->re);
            e->re = NULL;
            fail_at(p, value_pos, "invalid regular expression: %s", msg);
            goto fail;
        }
    }
    next(p);
    return e;
fail:
    expr_free(e);
    return NULL;
}

static struct pol_expr *parse_unary(struct rule_ctx *c, unsigned depth)
{
    struct parser *p = c->p;
    if (depth > MAX_NESTING) {
        fail_at(p, p->tok.start, "expression nested too deeply (more than %d levels)", MAX_NESTING);
        return NULL;
    }
    if (p->tok.type == T_LPAREN) {
        next(p);
        struct pol_expr *e = parse_or(c, depth + 1);
        if (!e)
            return NULL;
        if (p->tok.type != T_RPAREN) {
            fail_expected(p, "')'");
            expr_free(e);
            return NULL;
        }
        next(p);
        return e;
    }
    if (p->tok.type != T_WORD) {
        fail_expected(p, "an expression");
        return NULL;
    }
    if (word_is(p, "not")) {
        struct pol_expr *e = new_expr(p, POL_EXPR_NOT);
        if (!e)
            return NULL;
        next(p);
        e->left = parse_unary(c, depth + 1);
        if (!e->left) {
            expr_free(e);
            return NULL;
        }
        return e;
    }
    if (word_is(p, "true")) {
        next(p);
        return new_expr(p, POL_EXPR_TRUE);
    }
    return parse_cmp(c);
}

static struct pol_expr *parse_binary(struct rule_ctx *c, unsigned depth, const char *word,
                                     enum pol_expr_type type)
{
    struct parser *p = c->p;
    struct pol_expr *l =
        type == POL_EXPR_OR ? parse_binary(c, depth, "and", POL_EXPR_AND) : parse_unary(c, depth);
    while (l && word_is(p, word)) {
        next(p);
        struct pol_expr *r = type == POL_EXPR_OR ? parse_binary(c, depth, "and", POL_EXPR_AND)
                                                 : parse_unary(c, depth);
        struct pol_expr *n = r ? new_expr(p, type) : NULL;
        if (!n) {
            expr_free(l);
            expr_free(r);
            return NULL;
        }
        n->left = l;
        n->right = r;
        l = n;
    }
    return l;
}

static struct pol_expr *parse_or(struct rule_ctx *c, unsigned depth)
{
    return parse_binary(c, depth, "or", POL_EXPR_OR);
}

/* action [ "[" errno "]" ] [log] [as user[:group] | as :group] [, if user|group OP value] */
static bool parse_action(struct rule_ctx *c, struct pol_rule *r)
{
    struct parser *p = c->p;
    int action = p->tok.type == T_WORD ? action_from_word(p->tok.text) : -1;
    if (action < 0) {
        fail_expected(p, "an action (permit, deny, ask)");
        return false;
    }
    r->action = action;
    next(p);
    if (p->tok.type == T_LBRACK) {
        if (r->action == POL_PERMIT) {
            fail_at(p, p->tok.start, "an errno follows 'deny' or 'ask', not 'permit'");
            return false;
        }
        next(p);
        if (p->tok.type != T_WORD) {
            fail_expected(p, "an errno name such as enoent");
            return false;
        }
        r->err = errname_to_errno(p->tok.text);
        if (r->err < 0) {
            fail_at(p, p->tok.start,
                    "unknown errno '%.40s' (expected a name such as eperm, "
                    "enoent, eacces)",
                    p->tok.text);
            return false;
        }
        next(p);
        if (p->tok.type != T_RBRACK) {
            fail_expected(p, "']'");
            return false;
        }
        next(p);
    }
    if (word_is(p, "log")) {
        r->log = true;
        next(p);
    }
    if (word_is(p, "as")) {
        next(p);
        if (p->tok.type == T_WORD) {
            r->as_user = steal_pointer(&p->tok.text);
            next(p);
        }
        if (p->tok.type == T_COLON) {
            next(p);
            if (p->tok.type != T_WORD) {
                fail_expected(p, "a group name after ':'");
                return false;
            }
            r->as_group = steal_pointer(&p->tok.text);
            next(p);
        }
        if (!r->as_user && !r->as_group) {
            fail_expected(p, "a user, user:group or :group after 'as'");
            return false;
        }
    }
    if (p->tok.type == T_COMMA) {
        next(p);
        if (!word_is(p, "if")) {
            fail_expected(p, "'if' after ','");
            return false;
        }
        next(p);
        if (word_is(p, "user"))
            r->pred.subject = POL_PRED_USER;
        else if (word_is(p, "group"))
            r->pred.subject = POL_PRED_GROUP;
        else {
            fail_expected(p, "'user' or 'group'");
            return false;
        }
        next(p);
        static const enum tok op_toks[] = {
            [POL_PRED_EQ] = T_EQ, [POL_PRED_NE] = T_NE, [POL_PRED_LT] = T_LT, [POL_PRED_GT] = T_GT};
        int op = -1;
        for (unsigned i = 0; i < ARRAY_SIZE(op_toks); i++)
            if (p->tok.type == op_toks[i])
                op = (int)i;
        if (op < 0) {
            fail_expected(p, "'=', '!=', '<' or '>'");
            return false;
        }
        r->pred.op = op;
        next(p);
        if (p->tok.type != T_WORD && p->tok.type != T_STRING) {
            fail_expected(p, "a name or a number");
            return false;
        }
        if ((op == POL_PRED_LT || op == POL_PRED_GT) && !is_number(p->tok.text)) {
            fail_at(p, p->tok.start, "'<' and '>' compare numeric ids; found '%.40s'", p->tok.text);
            return false;
        }
        r->pred.value = steal_pointer(&p->tok.text);
        next(p);
    }
    if (p->tok.type != T_END) {
        fail_expected(p, "end of rule");
        return false;
    }
    return true;
}

static void rule_clear(struct pol_rule *rule)
{
    free(rule->include);
    free(rule->origin);
    free(rule->name);
    expr_free(rule->expr);
    free(rule->as_user);
    free(rule->as_group);
    free(rule->pred.value);
}

void pol_rule_clear(struct pol_rule *rule)
{
    rule_clear(rule);
    *rule = (struct pol_rule){0};
}

void pol_rule_free(struct pol_rule *rule)
{
    if (!rule)
        return;
    rule_clear(rule);
    free(rule);
}

bool pol_include_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || !isalnum_ascii(name[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum_ascii(name[i]) && name[i] != '-' && name[i] != '_')
            return false;
    return true;
}

/* Whether the line in P, from its current position, is an include line. */
static bool is_include_line(const struct parser *p)
{
    static const char word[] = "include";
    size_t n = strlen(word);
    return p->len - p->pos > n && memcmp(p->s + p->pos, word, n) == 0 &&
           strchr(" \t\"", p->s[p->pos + n]);
}

/* `include "NAME"`: a rule that names no call; pol_expand_includes gives it its rules. */
static bool parse_include(struct parser *p, struct pol_rule *r)
{
    next(p); /* the word "include" */
    next(p);
    if (p->tok.type != T_STRING) {
        fail_expected(p, "the quoted name of an abstraction after 'include'");
        return false;
    }
    if (!pol_include_name_valid(p->tok.text)) {
        fail_at(p, p->tok.start,
                "'%.64s' cannot name an abstraction (letters, digits, '-' and '_', "
                "not a path)",
                p->tok.text);
        return false;
    }
    r->include = steal_pointer(&p->tok.text);
    r->name = xstrdup("include");
    r->alias = SYS_ALIAS_NONE;
    next(p);
    if (p->tok.type != T_END) {
        fail_expected(p, "end of line after the abstraction's name");
        return false;
    }
    return true;
}

/* The calls that rule R (not an alias) is about, with a note for each OpenBSD name mapped and a
 * warning for a name that has no call here. */
static void resolve_calls(struct rule_ctx *c, struct pol_rule *r, size_t name_pos)
{
    int err = sys_calls_for_name(r->name, r->calls, &r->n_calls, &r->compat);
    unsigned col = (unsigned)name_pos + 1;
    if (!c->diags || (err == 0 && !r->compat))
        return;
    if (err == -ENOENT) {
        pol_diags_add(c->diags, POL_WARNING, c->line, col,
                      "unknown system call '%s' on this architecture: the rule never matches",
                      r->name);
        return;
    }
    const char *how = r->compat->how;
    if (err < 0) {
        pol_diags_add(c->diags, POL_WARNING, c->line, col,
                      "OpenBSD's '%s' has no Linux counterpart%s%s%s: the rule never matches",
                      r->name, how ? " (Linux: " : "", how ? how : "", how ? ")" : "");
        return;
    }
    /* A name that is a Linux call too is listed first among its calls. */
    bool linux_too = streq(sys_name(r->calls[0]), r->name);
    struct buf calls = {0};
    for (unsigned i = linux_too; i < r->n_calls; i++)
        buf_printf(&calls, "%s%s", i > linux_too ? ", " : "", sys_name(r->calls[i]));
    pol_diags_add(c->diags, POL_NOTE, c->line, col,
                  linux_too ? "'%s' covers %s too on Linux%s%s%s"
                            : "OpenBSD's '%s' is %s on Linux%s%s%s",
                  r->name, calls.data, how ? " (" : "", how ? how : "", how ? ")" : "");
    buf_free(&calls);
}

/* Parses "PREFIX-NAME: BODY" from the line in P into R; false when it reported an error. */
static bool parse_rule_text(struct rule_ctx *c, struct pol_rule *r)
{
    struct parser *p = c->p;
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
    if (is_include_line(p))
        return parse_include(p, r);
    size_t start = p->pos;
    const char *dash = memchr(p->s + start, '-', p->len - start);
    const char *colon = memchr(p->s + start, ':', p->len - start);
    if (!dash || !colon || dash > colon) {
        fail_at(p, start, "expected 'native-NAME:' at the start of a rule");
        return false;
    }
    char *emulation = xstrndup(p->s + start, (size_t)(dash - (p->s + start)));
    bool known = sys_emulation_known(emulation);
    if (!known)
        fail_at(p, start, "unknown emulation '%.40s' in rule (expected native-NAME:)", emulation);
    free(emulation);
    if (!known)
        return false;
    size_t name_pos = (size_t)(dash + 1 - p->s);
    size_t name_len = (size_t)(colon - dash - 1);
    for (size_t i = 0; i < name_len; i++) {
        unsigned char ch = (unsigned char)p->s[name_pos + i];
        if (!isalnum(ch) && ch != '_') {
            fail_at(p, name_pos + i, "unexpected character '%c' in system call name", ch);
            return false;
        }
    }
    if (name_len == 0) {
        fail_at(p, name_pos, "expected a system call name after '-'");
        return false;
    }
    r->name = xstrndup(p->s + name_pos, name_len);
    r->alias = sys_alias_from_name(r->name);
    if (r->alias == SYS_ALIAS_NONE)
        resolve_calls(c, r, name_pos);
    c->compat = r->compat;
    p->pos = (size_t)(colon - p->s) + 1;
    next(p);
    if (p->tok.type == T_WORD && action_from_word(p->tok.text) >= 0)
        return parse_action(c, r);
    r->expr = parse_or(c, 0);
    if (!r->expr)
        return false;
    if (p->tok.type != T_ARROW && !word_is(p, "then")) {
        fail_expected(p, "'then', 'and' or 'or' after the expression");
        return false;
    }
    next(p);
    return parse_action(c, r);
}

/* A lexical error after the last token the grammar needed (an unterminated string after the
 * action) still fails the line. */
static bool parse_rule_line(struct rule_ctx *c, struct pol_rule *r)
{
    return parse_rule_text(c, r) && !c->p->err;
}

/* The offset of the first byte that is not valid UTF-8, or LEN. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (size_t n; i < len && (n = utf8_sequence(s + i, len - i)) > 0; i += n)
        ;
    return i;
}

void pol_diags_add(struct pol_diags *d, enum pol_severity sev, unsigned line, unsigned col,
                   const char *fmt, ...)
{
    if (!d)
        return;
    d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
    struct pol_diag *g = &d->v[d->n++];
    g->severity = sev;
    g->line = line;
    g->col = col;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&g->msg, gettext(fmt), ap) < 0)
        g->msg = xstrdup("out of memory");
    va_end(ap);
    if (sev == POL_ERROR)
        d->n_errors++;
    if (sev == POL_NOTE)
        d->n_notes++;
}

void pol_diags_clear(struct pol_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].msg);
    free(d->v);
    d->v = NULL;
    d->n = d->n_errors = d->n_notes = 0;
}

static int diag_cmp(const void *a, const void *b)
{
    const struct pol_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

void pol_diags_sort(struct pol_diags *d)
{
    /* An insertion sort: stable, and diagnostics come nearly sorted. */
    for (size_t i = 1; i < d->n; i++) {
        struct pol_diag v = d->v[i];
        size_t j = i;
        while (j > 0 && diag_cmp(&d->v[j - 1], &v) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = v;
    }
}

char *pol_diags_format(const struct pol_diags *d, const char *filename)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    static const char *const severities[] = {
        [POL_ERROR] = "error", [POL_WARNING] = "warning", [POL_NOTE] = "note"};
    for (size_t i = 0; i < d->n; i++)
        buf_printf(&b, "%s:%u:%u: %s: %s\n", filename, d->v[i].line, d->v[i].col,
                   severities[d->v[i].severity], d->v[i].msg);
    return buf_steal(&b);
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* "Policy: PATH, Emulation: NAME"; LINE starts at "Policy:". */
static bool parse_header(struct parser *p, struct policy *pol)
{
    const char *s = p->s + p->pos + strlen("Policy:");
    const char *end = p->s + p->len;
    const char *hash = memchr(s, '#', (size_t)(end - s));
    if (hash)
        end = hash;
    const char *comma = NULL;
    for (const char *q = s; q < end; q++)
        if (*q == ',')
            comma = q;
    if (!comma) {
        fail_at(p, (size_t)(end - p->s), "expected ', Emulation: native' after the policy path");
        return false;
    }
    const char *path = s;
    size_t path_len = (size_t)(comma - s);
    trim(&path, &path_len);
    if (path_len == 0) {
        fail_at(p, (size_t)(s - p->s), "expected the program's absolute path after 'Policy:'");
        return false;
    }
    if (path[0] != '/' && !(path_len > 2 && path[0] == '*' && path[1] == '/')) {
        fail_at(p, (size_t)(path - p->s),
                "policy path '%.*s' is not absolute (expected "
                "/path/of/program, or */name in a policy file given with -f)",
                (int)(path_len > 200 ? 200 : path_len), path);
        return false;
    }
    const char *e = comma + 1;
    size_t e_len = (size_t)(end - e);
    trim(&e, &e_len);
    static const char key[] = "Emulation:";
    if (e_len < strlen(key) || memcmp(e, key, strlen(key)) != 0) {
        fail_at(p, (size_t)(e - p->s), "expected 'Emulation:' after ','");
        return false;
    }
    const char *name = e + strlen(key);
    size_t name_len = e_len - strlen(key);
    trim(&name, &name_len);
    char *emulation = xstrndup(name, name_len);
    if (!sys_emulation_known(emulation)) {
        fail_at(p, (size_t)(name - p->s), "unknown emulation '%.40s' (expected native)", emulation);
        free(emulation);
        return false;
    }
    pol->path = xstrndup(path, path_len);
    pol->emulation = emulation;
    return true;
}

static void report(struct parser *p, struct pol_diags *diags, unsigned line)
{
    pol_diags_add(diags, POL_ERROR, line, (unsigned)p->err_pos + 1, "%s", p->err);
    free(p->err);
    p->err = NULL;
}

/* pol_parse, or with FRAGMENT (the abstraction's name) pol_parse_fragment: then the rules belong
 * to one policy from the first line on and a header is an error. */
static int parse_text(const char *fragment, const char *text, size_t len, struct pol_file **ret,
                      struct pol_diags *diags)
{
    struct pol_diags local = {0};
    struct pol_diags *d = diags ? diags : &local;
    size_t errors_before = d->n_errors;
    struct pol_file *file = xcalloc(1, sizeof(*file));
    struct policy *cur = NULL;
    if (fragment) {
        file->policies = xcalloc(1, sizeof(*file->policies));
        file->policies[0] = (struct policy){
            .path = xstrdup(fragment), .emulation = xstrdup("native"), .line = 1, .end_line = 1};
        file->n_policies = 1;
        cur = &file->policies[0];
    }
    unsigned line = 0;
    size_t off = 0;
    while (off < len) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        const char *nul = memchr(s, '\0', n);
        if (nul) {
            pol_diags_add(d, POL_ERROR, line, (unsigned)(nul - s) + 1, "NUL byte in policy text");
            continue;
        }
        size_t bad = utf8_invalid_at((const unsigned char *)s, n);
        if (bad < n) {
            pol_diags_add(d, POL_ERROR, line, (unsigned)bad + 1,
                          "invalid UTF-8 (byte 0x%02x); write other bytes in strings as \\xHH",
                          (unsigned char)s[bad]);
            continue;
        }
        struct parser p = {.s = s, .len = n};
        while (p.pos < n && (s[p.pos] == ' ' || s[p.pos] == '\t'))
            p.pos++;
        if (p.pos == n || s[p.pos] == '#')
            continue;
        if (n - p.pos >= 7 && memcmp(s + p.pos, "Policy:", 7) == 0 && fragment) {
            pol_diags_add(d, POL_ERROR, line, (unsigned)p.pos + 1,
                          "an abstraction holds rules only: no 'Policy:' line");
            continue;
        }
        if (n - p.pos >= 7 && memcmp(s + p.pos, "Policy:", 7) == 0) {
            struct policy pol = {.line = line, .end_line = line};
            if (!parse_header(&p, &pol)) {
                report(&p, d, line);
                cur = NULL;
                continue;
            }
            file->policies =
                xreallocarray(file->policies, file->n_policies + 1, sizeof(*file->policies));
            file->policies[file->n_policies] = pol;
            cur = &file->policies[file->n_policies++];
            continue;
        }
        if (!cur) {
            pol_diags_add(d, POL_ERROR, line, (unsigned)p.pos + 1,
                          "rule outside a policy: expected a 'Policy: /path, Emulation: "
                          "native' line before it");
            continue;
        }
        struct pol_rule r = {.line = line, .col = (unsigned)p.pos + 1};
        struct rule_ctx c = {.p = &p, .diags = d, .line = line};
        bool ok = parse_rule_line(&c, &r);
        free(p.tok.text);
        if (!ok) {
            report(&p, d, line);
            rule_clear(&r);
            continue;
        }
        cur->rules = xgrowarray(cur->rules, cur->n_rules, sizeof(*cur->rules));
        cur->rules[cur->n_rules++] = r;
        cur->uses_cwd |= memmem(s, n, "$CWD", 4) != NULL;
        cur->end_line = line;
    }
    for (size_t i = 0; i < file->n_policies; i++)
        pol_index_build(&file->policies[i]);
    *ret = file;
    bool failed = d->n_errors > errors_before;
    pol_diags_clear(&local);
    return failed ? -EINVAL : 0;
}

int pol_parse(const char *text, size_t len, struct pol_file **ret, struct pol_diags *diags)
{
    return parse_text(NULL, text, len, ret, diags);
}

int pol_parse_fragment(const char *name, const char *text, size_t len, struct pol_file **ret,
                       struct pol_diags *diags)
{
    return parse_text(name, text, len, ret, diags);
}

int pol_parse_rule(const char *line, struct pol_rule **ret, char **ret_error)
{
    size_t n = strlen(line);
    size_t bad = utf8_invalid_at((const unsigned char *)line, n);
    if (bad < n) {
        *ret_error = xasprintf("column %zu: invalid UTF-8", bad + 1);
        return -EINVAL;
    }
    struct parser p = {.s = line, .len = n};
    struct pol_rule *r = xcalloc(1, sizeof(*r));
    struct rule_ctx c = {.p = &p};
    bool ok = parse_rule_line(&c, r);
    free(p.tok.text);
    if (!ok) {
        *ret_error = xasprintf("column %zu: %s", p.err_pos + 1, p.err);
        free(p.err);
        pol_rule_free(r);
        return -EINVAL;
    }
    if (r->alias == SYS_ALIAS_NONE && r->n_calls == 0 && !r->include) {
        *ret_error = r->compat ? xasprintf("OpenBSD's '%s' has no Linux counterpart", r->name)
                               : xasprintf("unknown system call '%s'", r->name);
        pol_rule_free(r);
        return -EINVAL;
    }
    *ret = r;
    return 0;
}

void pol_file_free(struct pol_file *file)
{
    if (!file)
        return;
    for (size_t i = 0; i < file->n_policies; i++) {
        struct policy *pol = &file->policies[i];
        for (size_t k = 0; k < pol->n_rules; k++)
            rule_clear(&pol->rules[k]);
        free(pol->rules);
        pol_index_free(&pol->index);
        free(pol->path);
        free(pol->emulation);
    }
    free(file->policies);
    free(file);
}
