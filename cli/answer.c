/* answer.c: turning a typed line into an answer (the grammar in answer.h). */
#include "answer.h"

#include <fcntl.h>
#include <strings.h>

#include "errnames.h"
#include "i18n.h"
#include "util.h"

/* The keyword answers: action word -> action and scope. */
static const struct {
    const char *word;
    enum sup_action action;
    enum sup_scope scope;
} keywords[] = {
    {"permit", SUP_PERMIT, SUP_ALWAYS},
    {"deny", SUP_DENY, SUP_ALWAYS},
    {"permit-always", SUP_PERMIT, SUP_ALWAYS},
    {"deny-always", SUP_DENY, SUP_ALWAYS},
    {"permit-now", SUP_PERMIT, SUP_ONCE},
    {"deny-now", SUP_DENY, SUP_ONCE},
    {"permit-once", SUP_PERMIT, SUP_ONCE},
    {"deny-once", SUP_DENY, SUP_ONCE},
    {"permit-session", SUP_PERMIT, SUP_SESSION},
    {"deny-session", SUP_DENY, SUP_SESSION},
    {"kill", SUP_KILL, SUP_ONCE},
    {"detach", SUP_DETACH, SUP_ONCE},
};

const char *answer_help(void)
{
    return _("  permit, deny[ERRNO]           always (written to the policy)\n"
             "  permit-now, deny-now[ERRNO]   this call only\n"
             "  permit-session, deny-session  until the program ends\n"
             "  N                             suggestion N, always\n"
             "  a rule ('… then permit')      always, if it matches this call\n"
             "  kill, detach, review, ?\n");
}

/* "deny", "deny[enoent]", "deny-now[eacces]": the errno in brackets, or 0; -1 if malformed. */
static int bracket_errno(const char *word, const char **ret_end)
{
    const char *open = strchr(word, '[');
    *ret_end = open ? open : word + strlen(word);
    if (!open)
        return 0;
    const char *close = strchr(open, ']');
    if (!close || close[1])
        return -1;
    _cleanup_free_ char *name = xstrndup(open + 1, (size_t)(close - open - 1));
    return errname_to_errno(name);
}

static bool engine_fits(const void *data, const char *rule_line, char **ret_error)
{
    return sup_rule_fits(data, rule_line, ret_error);
}

struct answer_question answer_question_of(const struct sup_question *q)
{
    return (struct answer_question){q->rule_name, q->suggestions, q->n_suggestions, engine_fits, q};
}

void answer_review(int fd, const char *path)
{
    if (!path) {
        const char *none = _("  no policy yet\n");
        write_all(fd, none, strlen(none));
        return;
    }
    _cleanup_close_ int pfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (pfd < 0 || read_fd_all(pfd, 1u << 20, &text, &len) < 0) {
        _cleanup_free_ char *msg = xasprintf(_("  cannot read %s\n"), path);
        write_all(fd, msg, strlen(msg));
        return;
    }
    write_all(fd, text, len);
}

/* A rule the person chose or typed, if it fits the call. */
static enum answer_kind rule_answer(const struct answer_question *q, const char *text,
                                    struct sup_answer *ret, char **ret_rule, char **ret_message)
{
    _cleanup_free_ char *line =
        strncmp(text, "native-", 7) == 0 || strncmp(text, "linux64-", 8) == 0
            ? xstrdup(text)
            : xasprintf("native-%s: %s", q->rule_name, text);
    char *err = NULL;
    if (q->fits && !q->fits(q->fits_data, line, &err)) {
        *ret_message = xasprintf(_("refused: %s"), err);
        free(err);
        return ANSWER_REFUSED;
    }
    struct pol_rule *rule = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0 || !rule) {
        *ret_message = xasprintf(_("refused: %s"), err ? err : _("not a rule"));
        free(err);
        return ANSWER_REFUSED;
    }
    enum pol_action action = rule->action;
    int e = rule->err;
    pol_rule_free(rule);
    if (action == POL_ASK) {
        *ret_message = xstrdup(_("refused: an answer must permit or deny"));
        return ANSWER_REFUSED;
    }
    *ret_rule = steal_pointer(&line);
    *ret =
        (struct sup_answer){action == POL_PERMIT ? SUP_PERMIT : SUP_DENY, SUP_ALWAYS, *ret_rule, e};
    return ANSWER_GIVEN;
}

enum answer_kind answer_parse(const struct answer_question *q, const char *text,
                              struct sup_answer *ret, char **ret_rule, char **ret_message)
{
    *ret_rule = NULL;
    *ret_message = NULL;
    /* Terminals and people add blanks around what they type. */
    while (*text == ' ' || *text == '\t')
        text++;
    _cleanup_free_ char *line = xstrdup(text);
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (!*line)
        return ANSWER_NONE;
    if (streq(line, "?") || streq(line, "help"))
        return ANSWER_HELP;
    if (streq(line, "review"))
        return ANSWER_REVIEW;
    char *end;
    unsigned long n = strtoul(line, &end, 10);
    if (end != line && !*end) {
        if (n < 1 || n > q->n_suggestions) {
            *ret_message = xasprintf(_("refused: there is no suggestion %s"), line);
            return ANSWER_REFUSED;
        }
        return rule_answer(q, q->suggestions[n - 1], ret, ret_rule, ret_message);
    }
    const char *word_end;
    int e = bracket_errno(line, &word_end);
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        size_t wl = strlen(keywords[i].word);
        if ((size_t)(word_end - line) != wl || strncasecmp(line, keywords[i].word, wl) != 0)
            continue;
        if (e < 0 || (e > 0 && keywords[i].action != SUP_DENY)) {
            *ret_message =
                xstrdup(_("refused: an errno in brackets follows deny, e.g. deny[enoent]"));
            return ANSWER_REFUSED;
        }
        *ret = (struct sup_answer){keywords[i].action, keywords[i].scope, NULL, e};
        return ANSWER_GIVEN;
    }
    return rule_answer(q, line, ret, ret_rule, ret_message);
}
