/* policy-eval.c: deciding a request against a policy. First matching rule wins, in file order;
 * nothing here allocates except for variable expansion. */
#include "policy.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>

#include "format.h"
#include "util.h"

/* The value of the ordinal-th argument called NAME, or NULL. */
static const struct pol_value *find_arg(const struct pol_request *req, const char *name,
                                        unsigned ordinal)
{
    for (size_t i = 0; i < req->n_args; i++)
        if (streq(req->args[i].name, name) && ordinal-- == 0)
            return &req->args[i];
    return NULL;
}

/* The variables: a string of the request, or a process id (0 when unknown). */
static const struct {
    const char *name;
    size_t offset;
    bool is_pid;
} variables[] = {
    {"HOME", offsetof(struct pol_request, home), false},
    {"USER", offsetof(struct pol_request, user), false},
    {"CWD", offsetof(struct pol_request, cwd), false},
    {"PID", offsetof(struct pol_request, pid), true},
    {"TID", offsetof(struct pol_request, tid), true},
};

static int var_index(const char *name, size_t n)
{
    for (unsigned i = 0; i < ARRAY_SIZE(variables); i++)
        if (strlen(variables[i].name) == n && memcmp(variables[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

bool pol_var_known(const char *name, size_t n)
{
    return var_index(name, n) >= 0;
}

/* VALUE with its variables replaced; NULL when one of them is unknown for this request (the
 * comparison is then false: a rule never matches on a guess). With GLOB, what a variable stands
 * for is escaped, so that a pattern's $HOME matches that directory and nothing else. */
static char *expand(const char *value, const struct pol_request *req, bool glob)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    const char *s = value;
    while (*s) {
        const char *d = strchr(s, '$');
        if (!d) {
            buf_puts(&b, s);
            break;
        }
        buf_append(&b, s, (size_t)(d - s));
        size_t n = 0;
        while (d[1 + n] && (isalnum_ascii(d[1 + n]) || d[1 + n] == '_'))
            n++;
        int var = var_index(d + 1, n);
        if (var < 0) {
            buf_append(&b, d, n + 1);
            s = d + 1 + n;
            continue;
        }
        const char *v;
        char number[24];
        if (variables[var].is_pid) {
            pid_t pid = *(const pid_t *)(const void *)((const char *)req + variables[var].offset);
            snprintf(number, sizeof(number), "%d", (int)pid);
            v = pid > 0 ? number : NULL;
        } else {
            v = *(const char *const *)(const void *)((const char *)req + variables[var].offset);
        }
        if (!v) {
            buf_free(&b);
            return NULL;
        }
        for (const char *c = v; *c; c++) {
            if (glob && strchr("*?[]\\", *c))
                buf_putc(&b, '\\');
            buf_putc(&b, *c);
        }
        s = d + 1 + n;
    }
    return buf_steal(&b);
}

/* OpenBSD's inpath: ARG is PATH itself or one of its parent directories. */
static bool in_path(const char *arg, const char *path)
{
    size_t len = strlen(arg);
    if (len == 0 || len > strlen(path))
        return false;
    if (len == 1)
        return arg[0] == '/';
    if (strncmp(arg, path, len) != 0)
        return false;
    return path[len] == '/' || path[len] == '\0';
}

static bool compare(enum pol_op op, const char *arg, const char *value, const regex_t *re)
{
    switch (op) {
    case POL_OP_EQ:
        return streq(arg, value);
    case POL_OP_NEQ:
        return !streq(arg, value);
    case POL_OP_MATCH:
        return fnmatch(value, arg, FNM_PATHNAME | FNM_LEADING_DIR) == 0;
    case POL_OP_SUB:
        return strstr(arg, value) != NULL;
    case POL_OP_NSUB:
        return strstr(arg, value) == NULL;
    case POL_OP_INPATH:
        return in_path(arg, value);
    case POL_OP_RE:
        return re && regexec(re, arg, 0, NULL, 0) == 0;
    case POL_OP_MAX:
        break;
    }
    return false;
}

bool pol_cmp_holds(const struct pol_expr *e, const char *value)
{
    return e->type == POL_EXPR_CMP && !e->has_vars && compare(e->op, value, e->value, e->re);
}

/* Integer arguments printed with a name where one exists (TCGETS, root, SIGHUP): the kinds whose
 * rules may also be written with the number. */
static const enum sys_arg_kind named_kinds[] = {
    SYS_ARG_IOCTL_CMD, SYS_ARG_FCNTL_CMD, SYS_ARG_UID,    SYS_ARG_GID,
    SYS_ARG_UNAME,     SYS_ARG_GNAME,     SYS_ARG_SIGNAL, SYS_ARG_SOCKDOM,
};

/* A number written in rule E ("0x5401", "0") for an argument whose value is printed with a
 * name: the number as the value would be printed, so that both spellings compare alike. NULL
 * when E's string is not a number or its argument is not such a kind for this call. */
static char *named_literal(const struct pol_expr *e, const struct pol_request *req)
{
    const char *s = e->value;
    if (!(s[0] >= '0' && s[0] <= '9') || (e->op != POL_OP_EQ && e->op != POL_OP_NEQ))
        return NULL;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 0);
    if (errno || *end || n > UINT32_MAX)
        return NULL;
    const struct sys_schema *schema = sys_schema_for(req->nr);
    unsigned ordinal = e->ordinal;
    for (unsigned i = 0; schema && i < SYS_MAX_ARGS && schema->args[i].name; i++) {
        if (!streq(schema->args[i].name, e->arg) || ordinal-- != 0)
            continue;
        for (size_t k = 0; k < ARRAY_SIZE(named_kinds); k++)
            if (schema->args[i].kind == named_kinds[k])
                return format_int(named_kinds[k], n);
        return NULL;
    }
    return NULL;
}

/* How a missing object's PATH reads to a comparison with STR: as OpenBSD spelled it when STR
 * names the prefix (with the leading slash of OpenBSD's later spelling if STR has it), else NULL:
 * the path itself. */
static char *missing_spelling(const char *str, const char *path)
{
    static const char slashed[] = "/" POL_NONEXISTENT;
    if (strncmp(str, slashed, strlen(slashed)) == 0)
        return xasprintf("%s: %s", slashed, path);
    return strstr(str, POL_NONEXISTENT) ? xasprintf("%s: %s", POL_NONEXISTENT, path) : NULL;
}

static bool eval_cmp(const struct pol_expr *e, const struct pol_request *req, bool *read_memory)
{
    const struct pol_value *v = find_arg(req, e->arg, e->ordinal);
    if (!v || !v->value)
        return false; /* the call has no such argument: the comparison cannot hold */
    if (v->from_memory)
        *read_memory = true;
    _cleanup_free_ char *spelled = v->missing ? missing_spelling(e->value, v->value) : NULL;
    const char *arg = spelled ? spelled : v->value;
    if (!e->has_vars) {
        _cleanup_free_ char *named = named_literal(e, req);
        return compare(e->op, arg, named ? named : e->value, e->re);
    }
    _cleanup_free_ char *value = expand(e->value, req, e->op == POL_OP_MATCH);
    if (!value)
        return false;
    if (e->op != POL_OP_RE)
        return compare(e->op, arg, value, NULL);
    regex_t re;
    if (regcomp(&re, value, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool r = compare(e->op, arg, value, &re);
    regfree(&re);
    return r;
}

static bool eval(const struct pol_expr *e, const struct pol_request *req, bool *read_memory)
{
    switch (e->type) {
    case POL_EXPR_TRUE:
        return true;
    case POL_EXPR_CMP:
        return eval_cmp(e, req, read_memory);
    case POL_EXPR_NOT:
        return !eval(e->left, req, read_memory);
    case POL_EXPR_AND:
        return eval(e->left, req, read_memory) && eval(e->right, req, read_memory);
    case POL_EXPR_OR:
        return eval(e->left, req, read_memory) || eval(e->right, req, read_memory);
    }
    return false;
}

static bool parse_id(const char *s, unsigned long *ret)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return false;
    *ret = v;
    return true;
}

/* ", if user = root": names compare with the caller's name, numbers with its id. */
static bool predicate_holds(const struct pol_predicate *pred, const struct pol_request *req)
{
    if (pred->subject == POL_PRED_NONE)
        return true;
    bool user = pred->subject == POL_PRED_USER;
    unsigned long id = user ? req->uid : req->gid;
    const char *name = user ? req->user : req->group;
    unsigned long want;
    bool numeric = parse_id(pred->value, &want);
    switch (pred->op) {
    case POL_PRED_EQ:
    case POL_PRED_NE: {
        bool same = numeric ? id == want : (name && streq(name, pred->value));
        return pred->op == POL_PRED_EQ ? same : !same;
    }
    case POL_PRED_LT:
        return numeric && id < want;
    case POL_PRED_GT:
        return numeric && id > want;
    }
    return false;
}

bool pol_rule_has_call(const struct pol_rule *rule, int nr)
{
    for (unsigned i = 0; i < rule->n_calls; i++)
        if (rule->calls[i] == nr)
            return true;
    return false;
}

bool pol_rule_names_call(const struct pol_rule *rule, int nr)
{
    if (rule->alias != SYS_ALIAS_NONE)
        return sys_alias_may_contain(rule->alias, nr);
    return pol_rule_has_call(rule, nr);
}

bool pol_rule_matches(const struct pol_rule *rule, const struct pol_request *req,
                      bool *ret_read_memory)
{
    bool read_memory = false;
    bool applies = rule->alias != SYS_ALIAS_NONE ? rule->alias == req->alias
                                                 : pol_rule_has_call(rule, req->nr);
    bool match = applies && predicate_holds(&rule->pred, req) &&
                 (!rule->expr || eval(rule->expr, req, &read_memory));
    if (ret_read_memory && read_memory)
        *ret_read_memory = true;
    return match;
}

/* A rule the index finds by its literal: `filename eq "…"`, nothing else to compare. A literal
 * in the missing-object spelling is compared with that spelling, not the path: not indexed. */
static bool indexable(const struct pol_rule *r)
{
    const struct pol_expr *e = r->expr;
    return e && e->type == POL_EXPR_CMP && e->op == POL_OP_EQ && !e->has_vars && e->ordinal == 0 &&
           streq(e->arg, "filename") && !strstr(e->value, POL_NONEXISTENT);
}

void pol_index_free(struct pol_index *index)
{
    free(index->slots);
    free(index->others);
    *index = (struct pol_index){.first_exact = SIZE_MAX};
}

void pol_index_build(struct policy *policy)
{
    struct pol_index *ix = &policy->index;
    pol_index_free(ix);
    size_t exact = 0;
    for (size_t i = 0; i < policy->n_rules; i++)
        exact += indexable(&policy->rules[i]);
    size_t cap = 16;
    while (cap < 2 * exact)
        cap *= 2;
    ix->slots = xcalloc(cap, sizeof(*ix->slots));
    ix->mask = cap - 1;
    ix->others = xcalloc(policy->n_rules - exact + 1, sizeof(*ix->others));
    for (size_t i = 0; i < policy->n_rules; i++) {
        if (!indexable(&policy->rules[i])) {
            ix->others[ix->n_others++] = (uint32_t)i;
            continue;
        }
        if (ix->first_exact == SIZE_MAX)
            ix->first_exact = i;
        uint32_t h = hash_string(policy->rules[i].expr->value);
        size_t at = h & ix->mask;
        while (ix->slots[at].rule_plus_one)
            at = (at + 1) & ix->mask;
        ix->slots[at] = (struct pol_index_slot){h, (uint32_t)i + 1};
    }
}

/* The first indexed rule that matches REQ, by the literal of its first filename: SIZE_MAX if
 * none. */
static size_t indexed_match(const struct policy *policy, const struct pol_request *req)
{
    const struct pol_index *ix = &policy->index;
    const struct pol_value *v = find_arg(req, "filename", 0);
    if (!ix->slots || ix->first_exact == SIZE_MAX || !v || !v->value)
        return SIZE_MAX;
    uint32_t h = hash_string(v->value);
    size_t best = SIZE_MAX;
    for (size_t at = h & ix->mask; ix->slots[at].rule_plus_one; at = (at + 1) & ix->mask) {
        size_t i = ix->slots[at].rule_plus_one - 1;
        if (ix->slots[at].hash == h && i < best && pol_rule_matches(&policy->rules[i], req, NULL))
            best = i;
    }
    return best;
}

const struct pol_rule *pol_evaluate(const struct policy *policy, const struct pol_request *req,
                                    bool *ret_read_memory)
{
    if (ret_read_memory)
        *ret_read_memory = false;
    const struct pol_index *ix = &policy->index;
    if (!ix->others) {
        for (size_t i = 0; i < policy->n_rules; i++)
            if (pol_rule_matches(&policy->rules[i], req, ret_read_memory))
                return &policy->rules[i];
        return NULL;
    }
    size_t found = indexed_match(policy, req);
    for (size_t k = 0; k < ix->n_others && ix->others[k] < found; k++)
        if (pol_rule_matches(&policy->rules[ix->others[k]], req, ret_read_memory)) {
            found = ix->others[k];
            break;
        }
    /* Indexed rules before the decision compared the filename too (conservatively: any). */
    const struct pol_value *v = find_arg(req, "filename", 0);
    if (ret_read_memory && v && v->from_memory && ix->first_exact != SIZE_MAX &&
        ix->first_exact <= found)
        *ret_read_memory = true;
    return found == SIZE_MAX ? NULL : &policy->rules[found];
}
