/* prompt.c: questions on a terminal, answered with the grammar of answer.c. The terminal is read
 * by the host's loop; questions wait in a queue, the first one on the screen. Every string that
 * came from the traced program is shown quoted, with control and direction characters escaped. */
#include "prompt.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "answer.h"
#include "i18n.h"
#include "util.h"

#define MAX_LINE 8192

struct item {
    void *session;
    const struct sup_question *q;
    struct item *next;
};

struct prompt {
    int fd;
    struct loop *loop;
    struct loop_watch *watch;
    prompt_answer_fn answer;
    void *answer_data;
    pthread_mutex_t lock; /* the queue; also held while a question is used */
    struct item *queue;   /* the first is on the screen once shown */
    bool shown;
    char buf[MAX_LINE];
    size_t len;
};

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

static void show_question(struct prompt *p, const struct sup_question *q)
{
    struct buf b = {0};
    _cleanup_free_ char *bin = pol_quote(q->binary);
    _cleanup_free_ char *user = pol_quote(q->user);
    buf_printf(&b, "\nsystrace: %s[%d] (user %s) %s", bin, q->pid, user, q->rule_name);
    if (!streq(q->rule_name, q->syscall))
        buf_printf(&b, " (%s)", q->syscall);
    for (size_t i = 0; i < q->req->n_args; i++) {
        _cleanup_free_ char *v = pol_quote(q->req->args[i].value ? q->req->args[i].value : "");
        buf_printf(&b, "%s %s %s", i ? "," : ":", q->req->args[i].name, v);
    }
    buf_putc(&b, '\n');
    if (q->argv && *q->argv) {
        _cleanup_free_ char *argv = pol_quote(q->argv);
        buf_printf(&b, _("  command %s\n"), argv);
    }
    if (q->repeats)
        buf_printf(&b, _("  asked %u more times by the same process\n"), q->repeats);
    if (q->policy_path) {
        _cleanup_free_ char *path = pol_quote(q->policy_path);
        buf_printf(&b, _("  policy %s, %zu rules\n"), path, q->rule_count);
    } else {
        buf_puts(&b, _("  no policy yet\n"));
    }
    for (size_t i = 0; i < q->n_suggestions; i++)
        buf_printf(&b, "  %zu) %s\n", i + 1, q->suggestions[i]);
    buf_puts(&b, _("Answer: "));
    write_all(p->fd, b.data, b.len);
    buf_free(&b);
}

/* Shows the first question if none is on the screen; P->lock held. */
static void show_next(struct prompt *p)
{
    if (p->shown || !p->queue)
        return;
    show_question(p, p->queue->q);
    p->shown = true;
}

static void show_next_job(void *data)
{
    struct prompt *p = data;
    pthread_mutex_lock(&p->lock);
    show_next(p);
    pthread_mutex_unlock(&p->lock);
}

/* Handles one line typed at the question on the screen; P->lock held. */
static void interpret(struct prompt *p, const char *line)
{
    struct item *it = p->queue;
    if (!it || !p->shown)
        return; /* typed while no question was asked: nothing to answer */
    struct sup_answer a;
    _cleanup_free_ char *rule = NULL;
    _cleanup_free_ char *message = NULL;
    struct answer_question aq = answer_question_of(it->q);
    switch (answer_parse(&aq, line, &a, &rule, &message)) {
    case ANSWER_NONE:
        say(p, "%s", _("Answer: "));
        return;
    case ANSWER_HELP:
        say(p, "%s%s", answer_help(), _("Answer: "));
        return;
    case ANSWER_REVIEW:
        answer_review(p->fd, it->q->policy_path);
        say(p, "%s", _("Answer: "));
        return;
    case ANSWER_REFUSED:
        say(p, "  %s\n%s", message, _("Answer: "));
        return;
    case ANSWER_GIVEN:
        break;
    }
    /* The question belongs to the engine again as soon as it is answered. */
    p->queue = it->next;
    p->shown = false;
    uint64_t token = it->q->token;
    void *session = it->session;
    free(it);
    if (p->answer(p->answer_data, session, token, &a) < 0)
        say(p, "%s", _("  the question was moot: answered elsewhere or withdrawn\n"));
    show_next(p);
}

static void on_input(void *data, uint32_t events)
{
    struct prompt *p = data;
    if (p->len == sizeof(p->buf))
        p->len = 0; /* an over-long line is dropped */
    ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
    if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        /* End of input: no more answers will come. The questions wait for their deadline. */
        loop_unwatch(p->loop, p->watch);
        p->watch = NULL;
        return;
    }
    (void)events;
    p->len += (size_t)n;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (!nl)
            break;
        *nl = '\0';
        _cleanup_free_ char *line = xstrdup(p->buf);
        p->len -= (size_t)(nl - p->buf) + 1;
        memmove(p->buf, nl + 1, p->len);
        interpret(p, line);
    }
    pthread_mutex_unlock(&p->lock);
}

int prompt_open(const char *tty, struct loop *loop, prompt_answer_fn answer, void *data,
                struct prompt **ret)
{
    int fd = open(tty, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct prompt *p = xcalloc(1, sizeof(*p));
    p->fd = fd;
    p->loop = loop;
    p->answer = answer;
    p->answer_data = data;
    pthread_mutex_init(&p->lock, NULL);
    int r = loop_watch_fd(loop, fd, EPOLLIN, on_input, p, &p->watch);
    if (r < 0) {
        close(fd);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return r;
    }
    *ret = p;
    return 0;
}

void prompt_close(struct prompt *p)
{
    if (!p)
        return;
    loop_unwatch(p->loop, p->watch);
    close(p->fd);
    while (p->queue) {
        struct item *it = p->queue;
        p->queue = it->next;
        free(it);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int prompt_ask(struct prompt *p, void *session, const struct sup_question *q)
{
    struct item *it = xcalloc(1, sizeof(*it));
    it->session = session;
    it->q = q;
    pthread_mutex_lock(&p->lock);
    struct item **tail = &p->queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = it;
    pthread_mutex_unlock(&p->lock);
    loop_post(p->loop, show_next_job, p);
    return 0;
}

void prompt_cancel(struct prompt *p, uint64_t token, enum sup_cancel_reason why)
{
    static const char *const reasons[] = {
        [SUP_CANCEL_GONE] = N_("the process is gone; question withdrawn"),
        [SUP_CANCEL_DEADLINE] = N_("no answer in time: denied this once"),
        [SUP_CANCEL_ENDED] = N_("the session ends; question withdrawn"),
        [SUP_CANCEL_DETACHED] = N_("the session is detached: permitted"),
        [SUP_CANCEL_ANSWERED] = N_("answered by the rule just kept"),
    };
    pthread_mutex_lock(&p->lock);
    for (struct item **it = &p->queue; *it; it = &(*it)->next) {
        if ((*it)->q->token != token)
            continue;
        struct item *gone = *it;
        bool on_screen = gone == p->queue && p->shown;
        *it = gone->next;
        free(gone);
        if (on_screen) {
            say(p, "\n  %s\n", _(reasons[why]));
            p->shown = false;
            show_next(p);
        }
        break;
    }
    pthread_mutex_unlock(&p->lock);
}

static int asker_ask(void *data, struct sup *sup, const struct sup_question *q)
{
    return prompt_ask(data, sup, q);
}

static void asker_cancel(void *data, struct sup *sup, uint64_t token, enum sup_cancel_reason why)
{
    (void)sup;
    prompt_cancel(data, token, why);
}

const struct sup_asker prompt_asker = {asker_ask, asker_cancel};
