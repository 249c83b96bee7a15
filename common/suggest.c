/* suggest.c: from one call, the rules a person may choose, exact first, broadest last. */
#include "suggest.h"

#include <stdio.h>

#include <time.h>

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

/* The kernel's range of ports it picks for a socket bound to port 0 (ip_local_port_range). */
static void ephemeral_ports(unsigned *lo, unsigned *hi)
{
    *lo = 32768;
    *hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f) {
        if (fscanf(f, "%u %u", lo, hi) != 2) {
            *lo = 32768;
            *hi = 60999;
        }
        fclose(f);
    }
}

/* A glob for the ports of LO..HI, as wide as the range's digits allow: "[3-6][0-9][0-9][0-9][0-9]"
 * for 32768..60999. Never a well-known or registered port below the range's first digit; NULL
 * when the bounds have different lengths. */
static char *port_range_glob(unsigned lo, unsigned hi)
{
    char l[16], h[16];
    int n = snprintf(l, sizeof(l), "%u", lo);
    if (n != snprintf(h, sizeof(h), "%u", hi))
        return NULL;
    struct buf b = {0};
    buf_printf(&b, l[0] == h[0] ? "%c" : "[%c-%c]", l[0], h[0]);
    for (int i = 1; i < n; i++)
        buf_puts(&b, "[0-9]");
    return b.data;
}

/* An inet address whose port the kernel chose ("inet-[127.0.0.1]:39579": a port in its
 * ephemeral range, as a program's own listener bound to port 0 gets) as a pattern for the ports
 * of that range on that host, or NULL: another run gets another port. */
static char *ephemeral_pattern(const char *value)
{
    if (strncmp(value, "inet", 4) != 0)
        return NULL;
    const char *bracket = strchr(value, ']');
    const char *colon = bracket ? strchr(bracket, ':') : NULL;
    char *end;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || end == colon + 1 || *end)
        return NULL;
    unsigned lo, hi;
    ephemeral_ports(&lo, &hi);
    if (port < lo || port > hi)
        return NULL;
    _cleanup_free_ char *ports = port_range_glob(lo, hi);
    if (!ports)
        return NULL;
    _cleanup_free_ char *host = glob_escape(value, (size_t)(colon - value));
    return xasprintf("%s:%s", host, ports);
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

/* The context that generalises only what differs for the same object (an exact rule
 * must still match the next run's pipe, pid and terminal). */
static struct gen_context same_object(const struct pol_request *req)
{
    return (struct gen_context){.pid = req->pid, .tid = req->tid, .same_object_only = true};
}

/* A rule whose identifying arguments are compared exactly, except argument REPLACE (if it is
 * one of them), compared with OP and VALUE instead. With VARS, $HOME/$USER are substituted.
 * GEN says how paths are generalised. */
static char *build_with(const char *rule_name, const struct pol_request *req, size_t replace,
                        const char *op, const char *value, bool vars, const char *action,
                        const struct gen_context *gen)
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
        _cleanup_free_ char *general = NULL;
        bool pattern = false;
        if (streq(v->name, "filename"))
            gen_path(gen, v->value, &general, &pattern);
        else if (streq(v->name, "sockaddr") && !gen->same_object_only)
            pattern = (general = ephemeral_pattern(v->value)) != NULL;
        if (i == replace)
            cmp_into(&b, v, ordinal_of(req, i), op, value);
        else if (pattern || (general && !streq(general, v->value)))
            cmp_into(&b, v, ordinal_of(req, i), pattern ? "match" : "eq", general);
        else
            cmp_into(&b, v, ordinal_of(req, i), "eq", sub ? sub : v->value);
    }
    if (any)
        buf_puts(&b, " then ");
    buf_puts(&b, action);
    return buf_steal(&b);
}

static char *build(const char *rule_name, const struct pol_request *req, size_t replace,
                   const char *op, const char *value, bool vars, const char *action)
{
    struct gen_context gen = same_object(req);
    return build_with(rule_name, req, replace, op, value, vars, action, &gen);
}

char *suggest_exact(const char *rule_name, const struct pol_request *req, const char *action)
{
    return build(rule_name, req, (size_t)-1, NULL, NULL, false, action);
}

/* Whether a call of RULE_NAME (REQ) on a missing path fails with ENOENT whatever the policy:
 * read-only accesses and program executions (creating calls are not among them). */
static bool fails_when_missing(const char *rule_name, const struct pol_request *req)
{
    static const char *const calls[] = {"fsread", "execve", "execveat"};
    for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
        if (streq(rule_name, calls[i]))
            return true;
    return req->alias == SYS_ALIAS_NONE && sys_alias_always_contains(SYS_ALIAS_FSREAD, req->nr);
}

char *suggest_learned(const char *rule_name, const struct pol_request *req,
                      const struct gen_context *gen)
{
    const struct pol_value *path = NULL;
    for (size_t i = 0; i < req->n_args && !path; i++)
        if (streq(req->args[i].name, "filename") && req->args[i].value)
            path = &req->args[i];
    if (path && path->missing && fails_when_missing(rule_name, req))
        return xasprintf("native-%s: filename match \"%s: /*\" then deny[enoent]", rule_name,
                         POL_NONEXISTENT);
    /* Which programs may run is kept exact: it is the weightiest permit, and exact targets let
     * the kernel filter know every program of the tree (and decide more calls itself). */
    if (streq(rule_name, "execve") || streq(rule_name, "execveat"))
        return build(rule_name, req, (size_t)-1, NULL, NULL, false, "permit");
    return build_with(rule_name, req, (size_t)-1, NULL, NULL, false, "permit", gen);
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
    /* What learning would write: temporary names, timestamps, $CWD… as patterns. */
    struct gen_context gen = {
        .home = req->home, .cwd = req->cwd, .pid = req->pid, .tid = req->tid, .now = time(NULL)};
    add_unique(&l, build_with(rule_name, req, (size_t)-1, NULL, NULL, false, action, &gen));
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
