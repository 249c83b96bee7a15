/* settings.c: the daemon's settings, one table of keys. */
#include "settings.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

enum key_type { KEY_UINT, KEY_NAME };

struct key {
    const char *name;
    enum key_type type;
    unsigned min, max; /* KEY_UINT */
    size_t offset;
};

#define UKEY(n, f, lo, hi)                                                                         \
    {                                                                                              \
        n, KEY_UINT, lo, hi, offsetof(struct config, f)                                            \
    }
static const struct key keys[] = {
    {"operator-group", KEY_NAME, 0, 0, offsetof(struct config, operator_group)},
    UKEY("ask-timeout", ask_timeout_s, 1, 86400),
    UKEY("max-sessions-per-user", max_sessions_per_user, 1, 100000),
    UKEY("max-questions-per-user", max_questions_per_user, 1, 100000),
    UKEY("max-agents-per-user", max_agents_per_user, 1, 1000),
    UKEY("max-policy-size", max_policy_kib, 1, 1048576),
    UKEY("max-learned-rules", max_learned_rules, 1, 10000000),
};

void config_defaults(struct config *c)
{
    *c = (struct config){
        .operator_group = NULL,
        .ask_timeout_s = 600,
        .max_sessions_per_user = 64,
        .max_questions_per_user = 256,
        .max_agents_per_user = 16,
        .max_policy_kib = 16384,
        .max_learned_rules = 100000,
    };
}

void config_clear(struct config *c)
{
    free(c->operator_group);
    c->operator_group = NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum_ascii(*s) && !strchr("_-.", *s))
            return false;
    return true;
}

static int set_key(struct config *c, const struct key *k, const char *value, char **ret_why)
{
    char *slot = (char *)c + k->offset;
    if (k->type == KEY_NAME) {
        if (!valid_name(value)) {
            *ret_why = xstrdup("not a group name");
            return -EINVAL;
        }
        char **p = (char **)(void *)slot;
        free(*p);
        *p = xstrdup(value);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (!*value || *end || errno || *value == '-' || v < k->min || v > k->max) {
        *ret_why = xasprintf("must be a number from %u to %u", k->min, k->max);
        return -EINVAL;
    }
    *(unsigned *)(void *)slot = (unsigned)v;
    return 0;
}

int config_load(const char *path, struct config *c, char **ret_error)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_fd_all(fd, 1u << 20, &text, &len);
    if (r < 0)
        return r;
    if (strlen(text) != len) {
        *ret_error = xasprintf("%s: contains a NUL byte", path);
        return -EINVAL;
    }
    struct config next = *c;
    next.operator_group = c->operator_group ? xstrdup(c->operator_group) : NULL;
    unsigned lineno = 0;
    for (char *line = text, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            *ret_error = xasprintf("%s:%u: expected \"key = value\"", path, lineno);
            config_clear(&next);
            return -EINVAL;
        }
        *eq = '\0';
        const char *name = trim(s), *value = trim(eq + 1);
        const struct key *k = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
            if (streq(keys[i].name, name))
                k = &keys[i];
        char *why = NULL;
        if (!k)
            why = xstrdup("unknown key");
        else
            set_key(&next, k, value, &why);
        if (why) {
            *ret_error = xasprintf("%s:%u: %s: %s", path, lineno, name, why);
            free(why);
            config_clear(&next);
            return -EINVAL;
        }
    }
    config_clear(c);
    *c = next;
    return 0;
}
