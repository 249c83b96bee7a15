/* prompt.c: questions on a terminal. Answers:
 *   permit, deny[ERRNO]            always: the exact rule goes into the policy file
 *   permit-now, deny-now[ERRNO]    this call only (also permit-once, deny-once)
 *   permit-session, deny-session   until the program ends
 *   N                              suggestion N, always
 *   a rule                         "native-NAME: … then ACTION" or "… then ACTION", always;
 *                                  refused unless it parses and matches this call
 *   kill, detach, review, ?        */
#include "prompt.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errnames.h"
#include "i18n.h"
#include "store.h"
#include "util.h"

#define POLL_MS  200
#define MAX_LINE 8192

struct prompt {
    int fd;
    pthread_mutex_t lock; /* one question at a time */
    char buf[MAX_LINE];
    size_t len;
};

int prompt_open(const char *tty, struct prompt **ret)
{
    int fd = open(tty, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct prompt *p = xcalloc(1, sizeof(*p));
    p->fd = fd;
    pthread_mutex_init(&p->lock, NULL);
    *ret = p;
    return 0;
}

void prompt_close(struct prompt *p)
{
    if (!p)
        return;
    close(p->fd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void say(struct prompt *p, const char *fmt, ...) _printf_(2, 3);
static void say(struct prompt *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) {
        write_all(p->fd, s, strlen(s));
        free(s);
    }
    va_end(ap);
}

/* Reads one line. 0 on success, -ECANCELED when the question became moot, -EPIPE at end of
 * input. */
static int read_line(struct prompt *p, const struct sup_question *q,
                     bool (*still_pending)(const struct sup_question *, void *), void *ctx,
                     char **ret)
{
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            *ret = xstrndup(p->buf, (size_t)(nl - p->buf));
            p->len -= (size_t)(nl - p->buf) + 1;
            memmove(p->buf, nl + 1, p->len);
            return 0;
        }
        if (p->len == sizeof(p->buf))
            p->len = 0; /* an over-long line is dropped */
        struct pollfd pfd = {p->fd, POLLIN, 0};
        int r = poll(&pfd, 1, POLL_MS);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (!still_pending(q, ctx))
            return -ECANCELED;
        if (r <= 0)
            continue;
        ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
        if (n <= 0)
            return -EPIPE;
        p->len += (size_t)n;
    }
}

static void show_question(struct prompt *p, const struct sup_question *q)
{
    struct buf b = {0};
    buf_printf(&b, "\nsystrace: %s[%d] (user %s) %s", q->binary, q->pid, q->user, q->rule_name);
    if (!streq(q->rule_name, q->syscall))
        buf_printf(&b, " (%s)", q->syscall);
    for (size_t i = 0; i < q->req->n_args; i++) {
        _cleanup_free_ char *v = pol_quote(q->req->args[i].value);
        buf_printf(&b, "%s %s %s", i ? "," : ":", q->req->args[i].name, v);
    }
    buf_putc(&b, '\n');
    if (q->policy_path)
        buf_printf(&b, _("  policy %s, %zu rules\n"), q->policy_path, q->rule_count);
    else
        buf_puts(&b, _("  no policy yet\n"));
    for (size_t i = 0; i < q->n_suggestions; i++)
        buf_printf(&b, "  %zu) %s\n", i + 1, q->suggestions[i]);
    write_all(p->fd, b.data, b.len);
    buf_free(&b);
}

static void show_help(struct prompt *p)
{
    say(p, "%s",
        _("  permit, deny[ERRNO]           always (written to the policy)\n"
          "  permit-now, deny-now[ERRNO]   this call only\n"
          "  permit-session, deny-session  until the program ends\n"
          "  N                             suggestion N, always\n"
          "  a rule ('… then permit')      always, if it matches this call\n"
          "  kill, detach, review, ?\n"));
}

static void review(struct prompt *p, const struct sup_question *q)
{
    if (!q->policy_path) {
        say(p, "%s", _("  no policy yet\n"));
        return;
    }
    _cleanup_close_ int fd = open(q->policy_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd < 0 || read_fd_all(fd, 1u << 20, &text, &len) < 0) {
        say(p, _("  cannot read %s\n"), q->policy_path);
        return;
    }
    write_all(p->fd, text, len);
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

/* Turns a rule the person chose or typed into an answer, if it fits the call. */
static bool rule_answer(struct prompt *p, const struct sup_question *q, const char *text,
                        struct sup_answer *ret)
{
    _cleanup_free_ char *line =
        strncmp(text, "native-", 7) == 0 || strncmp(text, "linux64-", 8) == 0
            ? xstrdup(text)
            : xasprintf("native-%s: %s", q->rule_name, text);
    char *err = NULL;
    if (!sup_rule_fits(q, line, &err)) {
        say(p, _("  refused: %s\n"), err);
        free(err);
        return false;
    }
    struct pol_rule *rule;
    pol_parse_rule(line, &rule, &err);
    enum pol_action action = rule->action;
    int e = rule->err;
    pol_rule_free(rule);
    if (action == POL_ASK) {
        say(p, "%s", _("  refused: an answer must permit or deny\n"));
        return false;
    }
    *ret = (struct sup_answer){action == POL_PERMIT ? SUP_PERMIT : SUP_DENY, SUP_ALWAYS,
                               steal_pointer(&line), e};
    return true;
}

/* Interprets one answer line; false when the question stands. */
static bool interpret(struct prompt *p, const struct sup_question *q, const char *line,
                      struct sup_answer *ret)
{
    if (!*line)
        return false;
    if (streq(line, "?") || streq(line, "help")) {
        show_help(p);
        return false;
    }
    if (streq(line, "review")) {
        review(p, q);
        return false;
    }
    char *end;
    unsigned long n = strtoul(line, &end, 10);
    if (end != line && !*end) {
        if (n < 1 || n > q->n_suggestions) {
            say(p, _("  refused: there is no suggestion %s\n"), line);
            return false;
        }
        return rule_answer(p, q, q->suggestions[n - 1], ret);
    }
    const char *word_end;
    int e = bracket_errno(line, &word_end);
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        size_t wl = strlen(keywords[i].word);
        if ((size_t)(word_end - line) != wl || strncasecmp(line, keywords[i].word, wl) != 0)
            continue;
        if (e < 0 || (e > 0 && keywords[i].action != SUP_DENY)) {
            say(p, "%s", _("  refused: an errno in brackets follows deny, e.g. deny[enoent]\n"));
            return false;
        }
        *ret = (struct sup_answer){keywords[i].action, keywords[i].scope, NULL, e};
        return true;
    }
    return rule_answer(p, q, line, ret);
}

int prompt_ask(void *userdata, const struct sup_question *q,
               bool (*still_pending)(const struct sup_question *q, void *ctx), void *ctx,
               struct sup_answer *ret)
{
    struct prompt *p = userdata;
    pthread_mutex_lock(&p->lock);
    int r = -ECANCELED;
    if (still_pending(q, ctx)) {
        show_question(p, q);
        for (;;) {
            say(p, "%s", _("Answer: "));
            char *line = NULL;
            r = read_line(p, q, still_pending, ctx, &line);
            if (r == -ECANCELED)
                say(p, "%s", _("\n  the process is gone; question withdrawn\n"));
            if (r < 0)
                break;
            /* Trim the line: terminals and people add spaces. */
            char *s = line;
            while (*s == ' ' || *s == '\t')
                s++;
            size_t len = strlen(s);
            while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
                s[--len] = '\0';
            bool done = interpret(p, q, s, ret);
            free(line);
            if (done) {
                r = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}
