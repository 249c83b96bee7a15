/* termagent.c: questions from the daemon on a terminal.
 *
 * Answers (as systrace -t takes them):
 *   permit, deny[ERRNO]            always: the rule is written to the owner's policy
 *   permit-now, deny-now[ERRNO]    this call only (also permit-once, deny-once)
 *   permit-session, deny-session   until the program ends
 *   N                              suggestion N, always
 *   a rule                         "native-NAME: … then ACTION" or "… then ACTION", always; the
 *                                  daemon refuses it unless it parses and matches the call
 *   kill, detach, ?                */
#include "termagent.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "answer.h"
#include "busclient.h"
#include "errnames.h"
#include "i18n.h"
#include "policy.h"
#include "util.h"

#define MAX_LINE 8192

struct tquestion {
    char *id;
    char *rule_name;
    char *policy; /* the policy file, for review; NULL when none governs the program yet */
    char *text;   /* as shown */
    char **suggestions;
    size_t n_suggestions;
    struct tquestion *next;
};

struct termagent {
    struct termagent_options o;
    struct loop_watch *in_watch;
    struct tquestion *queue; /* the first is the one shown */
    bool prompted;
    char buf[MAX_LINE];
    size_t len;
};

/* Appends S with every control character shown as \xHH (S is hostile). */
static void buf_safe(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            buf_printf(b, "\\x%02x", *p);
        else
            buf_putc(b, (char)*p);
    }
}

void term_write_safe(int fd, const char *s)
{
    struct buf b = {0};
    buf_safe(&b, s);
    if (b.data)
        write_all(fd, b.data, b.len);
    buf_free(&b);
}

static void say(struct termagent *ta, const char *s)
{
    write_all(ta->o.out_fd, s, strlen(s));
}

static void tquestion_free(struct tquestion *q)
{
    for (size_t i = 0; i < q->n_suggestions; i++)
        free(q->suggestions[i]);
    free(q->suggestions);
    free(q->rule_name);
    free(q->policy);
    free(q->text);
    free(q->id);
    free(q);
}

/* The text of the request in DICT, as the terminal shows it. */
static void render(struct buf *b, DBusMessageIter *dict, struct tquestion *q)
{
    char num[32];
    buf_puts(b, "\nsystrace: ");
    buf_safe(b, busclient_dict_string(dict, "program", "?"));
    snprintf(num, sizeof(num), "[%d]", (int)busclient_dict_uint(dict, "pid", 0));
    buf_puts(b, num);
    buf_puts(b, " (user ");
    buf_safe(b, busclient_dict_string(dict, "user", "?"));
    buf_puts(b, ") ");
    buf_safe(b, q->rule_name);
    const char *syscall = busclient_dict_string(dict, "syscall", "");
    if (*syscall && !streq(syscall, q->rule_name)) {
        buf_puts(b, " (");
        buf_safe(b, syscall);
        buf_puts(b, ")");
    }
    DBusMessageIter v, a, st;
    bool first = true;
    if (busclient_dict_get(dict, "arguments", &v) &&
        dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_ARRAY) {
        dbus_message_iter_recurse(&v, &a);
        for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRUCT; dbus_message_iter_next(&a)) {
            const char *name, *value;
            dbus_message_iter_recurse(&a, &st);
            if (dbus_message_iter_get_arg_type(&st) != DBUS_TYPE_STRING)
                continue;
            dbus_message_iter_get_basic(&st, &name);
            dbus_message_iter_next(&st);
            if (dbus_message_iter_get_arg_type(&st) != DBUS_TYPE_STRING)
                continue;
            dbus_message_iter_get_basic(&st, &value);
            _cleanup_free_ char *quoted = pol_quote(value);
            buf_puts(b, first ? ": " : ", ");
            buf_safe(b, name);
            buf_puts(b, " ");
            buf_safe(b, quoted);
            first = false;
        }
    }
    unsigned repeats = (unsigned)busclient_dict_uint(dict, "repeats", 0);
    if (repeats) {
        snprintf(num, sizeof(num), _(" (asked %u more times)"), repeats);
        buf_puts(b, num);
    }
    buf_puts(b, "\n");
    const char *policy = busclient_dict_string(dict, "policy", "");
    if (*policy) {
        buf_puts(b, _("  policy "));
        buf_safe(b, policy);
        snprintf(num, sizeof(num), _(", %u rules\n"),
                 (unsigned)busclient_dict_uint(dict, "rules", 0));
        buf_puts(b, num);
    } else {
        buf_puts(b, _("  no policy yet\n"));
    }
    for (size_t i = 0; i < q->n_suggestions; i++) {
        snprintf(num, sizeof(num), "  %zu) ", i + 1);
        buf_puts(b, num);
        buf_safe(b, q->suggestions[i]);
        buf_puts(b, "\n");
    }
}

/* Shows the first question waiting, once, and its prompt. */
static void prompt_next(struct termagent *ta)
{
    if (ta->queue && !ta->prompted) {
        say(ta, ta->queue->text);
        say(ta, _("Answer: "));
        ta->prompted = true;
    }
}

/* The answer's words on the bus (Daemon1.Answer). */
static const char *const action_names[SUP_ACTION_MAX] = {
    [SUP_PERMIT] = "permit", [SUP_DENY] = "deny", [SUP_KILL] = "kill", [SUP_DETACH] = "detach"};
static const char *const scope_names[SUP_SCOPE_MAX] = {
    [SUP_ONCE] = "once", [SUP_SESSION] = "session", [SUP_ALWAYS] = "always"};

/* Interprets LINE (the grammar of systrace -t, answer.h); true when *RET is an answer. The
 * daemon checks that a rule fits the call. */
static bool interpret(struct termagent *ta, const struct tquestion *q, const char *line,
                      struct sup_answer *ret, char **ret_rule)
{
    struct answer_question aq = {q->rule_name, q->suggestions, q->n_suggestions, NULL, NULL};
    _cleanup_free_ char *message = NULL;
    switch (answer_parse(&aq, line, ret, ret_rule, &message)) {
    case ANSWER_GIVEN:
        return true;
    case ANSWER_HELP:
        say(ta, answer_help());
        break;
    case ANSWER_REVIEW:
        answer_review(ta->o.out_fd, q->policy);
        break;
    case ANSWER_REFUSED:
        say(ta, "  ");
        term_write_safe(ta->o.out_fd, message);
        say(ta, "\n");
        break;
    case ANSWER_NONE:
        break;
    }
    return false;
}

/* Sends the answer; false when the daemon refused it (the question stands). */
static bool send_answer(struct termagent *ta, const struct tquestion *q, const struct sup_answer *a)
{
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_ANSWER);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    const char *id = q->id;
    dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &id);
    busmsg_dict_open(&it, &dict);
    busmsg_add_string(&dict, "action", action_names[a->action]);
    busmsg_add_string(&dict, "scope", scope_names[a->scope]);
    if (a->rule)
        busmsg_add_string(&dict, "filter", a->rule);
    if (a->err && errname_from_errno(a->err)) {
        _cleanup_free_ char *name = xstrdup(errname_from_errno(a->err));
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        busmsg_add_string(&dict, "errno", name);
    }
    busmsg_dict_close(&it, &dict);
    DBusMessage *reply = NULL;
    char *error = NULL;
    int r = busclient_call(ta->o.conn, m, -1, &reply, &error);
    if (reply)
        dbus_message_unref(reply);
    if (r == -ESTALE) {
        say(ta, _("  the question is moot now\n"));
        free(error);
        return true;
    }
    if (r < 0) {
        say(ta, _("  refused: "));
        term_write_safe(ta->o.out_fd, error ? error : "?");
        say(ta, "\n");
        free(error);
        return false;
    }
    return true;
}

static void pop(struct termagent *ta)
{
    struct tquestion *q = ta->queue;
    ta->queue = q->next;
    tquestion_free(q);
    ta->prompted = false;
}

static void handle_line(struct termagent *ta, char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    struct tquestion *q = ta->queue;
    if (!q)
        return;
    struct sup_answer a = {0};
    _cleanup_free_ char *rule = NULL;
    if (interpret(ta, q, line, &a, &rule)) {
        bool done = send_answer(ta, q, &a);
        if (done) {
            pop(ta);
            prompt_next(ta);
            return;
        }
    }
    say(ta, _("Answer: "));
}

static void on_input(void *data, uint32_t events)
{
    struct termagent *ta = data;
    ssize_t n = read(ta->o.in_fd, ta->buf + ta->len, sizeof(ta->buf) - ta->len);
    if (n <= 0) {
        /* End of input: nobody answers here any more. */
        loop_unwatch(ta->o.loop, ta->in_watch);
        ta->in_watch = NULL;
        loop_quit(ta->o.loop);
        return;
    }
    ta->len += (size_t)n;
    char *nl;
    while ((nl = memchr(ta->buf, '\n', ta->len))) {
        *nl = '\0';
        _cleanup_free_ char *line = xstrdup(ta->buf);
        ta->len -= (size_t)(nl - ta->buf) + 1;
        memmove(ta->buf, nl + 1, ta->len);
        handle_line(ta, line);
    }
    if (ta->len == sizeof(ta->buf))
        ta->len = 0; /* an over-long line is dropped */
}

static DBusMessage *on_ask(struct termagent *ta, DBusMessage *msg)
{
    DBusMessageIter it, dict;
    const char *id;
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_get_basic(&it, &id);
    dbus_message_iter_next(&it);
    dict = it;
    struct tquestion *q = xcalloc(1, sizeof(*q));
    q->id = xstrndup(id, 64);
    q->rule_name = xstrndup(busclient_dict_string(&dict, "rule-name", "?"), 64);
    const char *policy = busclient_dict_string(&dict, "policy", "");
    q->policy = *policy == '/' ? xstrndup(policy, 4096) : NULL;
    DBusMessageIter v, a;
    if (busclient_dict_get(&dict, "suggestions", &v) &&
        dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_ARRAY) {
        dbus_message_iter_recurse(&v, &a);
        for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING && q->n_suggestions < 32;
             dbus_message_iter_next(&a)) {
            const char *s;
            dbus_message_iter_get_basic(&a, &s);
            q->suggestions = xreallocarray(q->suggestions, q->n_suggestions + 1, sizeof(char *));
            q->suggestions[q->n_suggestions++] = xstrndup(s, 4096);
        }
    }
    struct tquestion **tail = &ta->queue;
    bool first = !*tail;
    while (*tail)
        tail = &(*tail)->next;
    struct buf b = {0};
    render(&b, &dict, q);
    q->text = buf_steal(&b);
    *tail = q;
    if (first)
        prompt_next(ta);
    return dbus_message_new_method_return(msg);
}

static DBusMessage *on_cancel(struct termagent *ta, DBusMessage *msg)
{
    const char *id, *reason;
    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &id, DBUS_TYPE_STRING, &reason,
                               DBUS_TYPE_INVALID))
        return dbus_message_new_error(msg, ERR_INVALID_ARGS, "expected (ss)");
    for (struct tquestion **p = &ta->queue; *p; p = &(*p)->next) {
        if (!streq((*p)->id, id))
            continue;
        bool shown = p == &ta->queue;
        struct tquestion *q = *p;
        *p = q->next;
        tquestion_free(q);
        if (shown) {
            say(ta, _("\n  question withdrawn: "));
            term_write_safe(ta->o.out_fd, reason);
            say(ta, "\n");
            ta->prompted = false;
            prompt_next(ta);
        }
        break;
    }
    return dbus_message_new_method_return(msg);
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct termagent *ta = data;
    if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    DBusMessage *reply;
    const char *sender = dbus_message_get_sender(msg);
    /* Only the daemon asks; the bus policy says so too. */
    if (!sender || !ta->o.daemon || !streq(sender, ta->o.daemon))
        reply = dbus_message_new_error(msg, ERR_ACCESS_DENIED, "only systraced may ask");
    else if (dbus_message_is_method_call(msg, IFACE_AGENT1, AGENT1_METHOD_ASK) &&
             dbus_message_has_signature(msg, "sa{sv}"))
        reply = on_ask(ta, msg);
    else if (dbus_message_is_method_call(msg, IFACE_AGENT1, AGENT1_METHOD_CANCEL))
        reply = on_cancel(ta, msg);
    else
        reply = dbus_message_new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod",
                                       "no such method");
    if (!dbus_message_get_no_reply(msg))
        dbus_connection_send(conn, reply, NULL);
    dbus_message_unref(reply);
    return DBUS_HANDLER_RESULT_HANDLED;
}

int termagent_new(const struct termagent_options *o, struct termagent **ret)
{
    struct termagent *ta = xcalloc(1, sizeof(*ta));
    ta->o = *o;
    static const DBusObjectPathVTable vtable = {.message_function = on_message};
    if (!dbus_connection_register_object_path(o->conn, o->path, &vtable, ta)) {
        free(ta);
        return -ENOMEM;
    }
    int r = loop_watch_fd(o->loop, o->in_fd, EPOLLIN, on_input, ta, &ta->in_watch);
    if (r < 0) {
        dbus_connection_unregister_object_path(o->conn, o->path);
        free(ta);
        return r;
    }
    *ret = ta;
    return 0;
}

void termagent_free(struct termagent *ta)
{
    if (!ta)
        return;
    if (ta->in_watch)
        loop_unwatch(ta->o.loop, ta->in_watch);
    dbus_connection_unregister_object_path(ta->o.conn, ta->o.path);
    while (ta->queue)
        pop(ta);
    free(ta);
}
