/* suggest.c: from one call, the rules a person may choose, exact first, broadest last. */
#include "suggest.h"

#include "util.h"

struct list {
    char **v;
    size_t n;
};

static void add_unique(struct list *l, char *rule)
{
    for (size_t i = 0; i < l->n; i++)
        if (streq(l->v[i], rule)) {
            free(rule);
            return;
        }
    l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = rule;
}

/* VALUE with a leading $HOME and whole path components equal to the user name replaced by the
 * variables, or NULL when neither occurs. */
static char *substitute_vars(const char *value, const struct pol_request *req)
{
    struct buf b = {0};
    const char *s = value;
    size_t home_len = req->home ? strlen(req->home) : 0;
    bool changed = false;
    if (home_len > 1 && strncmp(s, req->home, home_len) == 0 &&
        (s[home_len] == '/' || s[home_len] == '\0')) {
        buf_puts(&b, "$HOME");
        s += home_len;
        changed = true;
    }
    size_t user_len = req->user ? strlen(req->user) : 0;
    while (*s) {
        if (user_len && s[0] == '/' && strncmp(s + 1, req->user, user_len) == 0 &&
            (s[1 + user_len] == '/' || s[1 + user_len] == '\0')) {
            buf_puts(&b, "/$USER");
            s += 1 + user_len;
            changed = true;
            continue;
        }
        buf_putc(&b, *s++);
    }
    if (!changed) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* S with the characters fnmatch treats specially escaped, so it matches only itself. */
static char *glob_escape(const char *s, size_t n)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    for (size_t i = 0; i < n && s[i]; i++) {
        if (strchr("*?[]\\", s[i]))
            buf_putc(&b, '\\');
        buf_putc(&b, s[i]);
    }
    return buf_steal(&b);
}

/* "ARG OP "VALUE"" into B. */
static void cmp_into(struct buf *b, const struct pol_value *v, unsigned ordinal, const char *op,
                     const char *value)
{
    _cleanup_free_ char *quoted = pol_quote(value);
    buf_puts(b, v->name);
    if (ordinal > 0)
        buf_printf(b, "[%u]", ordinal);
    buf_printf(b, " %s %s", op, quoted);
}

static unsigned ordinal_of(const struct pol_request *req, size_t index)
{
    unsigned n = 0;
    for (size_t i = 0; i < index; i++)
        n += streq(req->args[i].name, req->args[index].name);
    return n;
}

/* A value that differs from run to run for the same object (a pipe's inode, a pid under /proc, a
 * pseudo-terminal's number) as a pattern that matches every run's value; NULL for other values. */
static char *volatile_pattern(const char *value)
{
    static const char *const anonymous[] = {"pipe:", "socket:", "anon_inode:"};
    for (size_t i = 0; i < ARRAY_SIZE(anonymous); i++)
        if (strncmp(value, anonymous[i], strlen(anonymous[i])) == 0)
            return xasprintf("%s*", anonymous[i]);
    /* Numbered components after these directories become [0-9]*. */
    static const char *const numbered[] = {"/proc/", "/task/", "/dev/pts/"};
    struct buf b = {0};
    bool changed = false;
    const char *s = value;
    while (*s) {
        bool after = false;
        for (size_t i = 0; i < ARRAY_SIZE(numbered) && !after; i++) {
            size_t n = strlen(numbered[i]);
            after = (size_t)(s - value) >= n && strncmp(s - n, numbered[i], n) == 0;
        }
        size_t digits = strspn(s, "0123456789");
        if (after && digits > 0 && (s[digits] == '/' || s[digits] == '\0')) {
            buf_puts(&b, "[0-9]*");
            s += digits;
            changed = true;
            continue;
        }
        if (strchr("*?[]\\", *s))
            buf_putc(&b, '\\');
        buf_putc(&b, *s++);
    }
    if (!changed) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* A rule whose identifying arguments are compared exactly, except argument REPLACE (if it is
 * one of them), compared with OP and VALUE instead. With VARS, $HOME/$USER are substituted. */
static char *build(const char *rule_name, const struct pol_request *req, size_t replace,
                   const char *op, const char *value, bool vars, const char *action)
{
    struct buf b = {0};
    buf_printf(&b, "native-%s: ", rule_name);
    bool any = false;
    for (size_t i = 0; i < req->n_args; i++) {
        const struct pol_value *v = &req->args[i];
        if (!sys_arg_name_identifies(v->name) || !v->value)
            continue;
        if (any)
            buf_puts(&b, " and ");
        any = true;
        _cleanup_free_ char *sub = vars ? substitute_vars(v->value, req) : NULL;
        _cleanup_free_ char *pattern = volatile_pattern(v->value);
        if (i == replace)
            cmp_into(&b, v, ordinal_of(req, i), op, value);
        else if (pattern)
            cmp_into(&b, v, ordinal_of(req, i), "match", pattern);
        else
            cmp_into(&b, v, ordinal_of(req, i), "eq", sub ? sub : v->value);
    }
    if (any)
        buf_puts(&b, " then ");
    buf_puts(&b, action);
    return buf_steal(&b);
}

char *suggest_exact(const char *rule_name, const struct pol_request *req, const char *action)
{
    return build(rule_name, req, (size_t)-1, NULL, NULL, false, action);
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return NULL;
    return xstrndup(path, (size_t)(slash - path));
}

/* The parent directory with a star, then the ladder up to the top directory, then the extension
 * glob. */
static void add_globs(struct list *l, const char *rule_name, const struct pol_request *req,
                      size_t idx, const char *path, const char *action)
{
    _cleanup_free_ char *escaped = glob_escape(path, strlen(path));
    path = escaped;
    _cleanup_free_ char *dir = parent_dir(path);
    for (char *d = dir ? xstrdup(dir) : NULL; d;) {
        _cleanup_free_ char *pattern = xasprintf("%s/*", d);
        add_unique(l, build(rule_name, req, idx, "match", pattern, true, action));
        char *up = parent_dir(d);
        free(d);
        d = up;
    }
    const char *base = strrchr(path, '/');
    const char *dot = base ? strrchr(base, '.') : NULL;
    if (dir && dot && dot > base + 1 && dot[1]) {
        _cleanup_free_ char *pattern = xasprintf("%s/*%s", dir, dot);
        add_unique(l, build(rule_name, req, idx, "match", pattern, true, action));
    }
}

size_t suggest_rules(const char *rule_name, const struct pol_request *req, const char *action,
                     char ***ret)
{
    struct list l = {0};
    size_t path_idx = (size_t)-1;
    for (size_t i = 0; i < req->n_args && path_idx == (size_t)-1; i++)
        if (streq(req->args[i].name, "filename") && req->args[i].value)
            path_idx = i;
    const char *path = path_idx != (size_t)-1 ? req->args[path_idx].value : NULL;
    if (path && req->args[path_idx].missing) {
        _cleanup_free_ char *deny = xasprintf("native-%s: filename sub \"%s\" then deny[enoent]",
                                              rule_name, POL_NONEXISTENT);
        add_unique(&l, xstrdup(deny));
    }
    add_unique(&l, build(rule_name, req, (size_t)-1, NULL, NULL, true, action));
    add_unique(&l, build(rule_name, req, (size_t)-1, NULL, NULL, false, action));
    if (path) {
        _cleanup_free_ char *sub = substitute_vars(path, req);
        add_globs(&l, rule_name, req, path_idx, sub ? sub : path, action);
    }
    for (size_t i = 0; i < req->n_args; i++) {
        const struct pol_value *v = &req->args[i];
        if (streq(v->name, "sockaddr") && v->value && strncmp(v->value, "inet", 4) == 0) {
            const char *colon = strrchr(v->value, ':');
            const char *bracket = strchr(v->value, ']');
            if (colon && bracket && colon > bracket) {
                _cleanup_free_ char *host = glob_escape(v->value, (size_t)(colon - v->value));
                _cleanup_free_ char *any_port = xasprintf("%s:*", host);
                add_unique(&l, build(rule_name, req, i, "match", any_port, true, action));
            }
        }
    }
    _cleanup_free_ char *always = xasprintf("native-%s: true then %s", rule_name, action);
    add_unique(&l, xstrdup(always));
    *ret = l.v;
    return l.n;
}

void suggest_free(char **rules, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rules[i]);
    free(rules);
}
