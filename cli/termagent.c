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

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "busclient.h"
#include "errnames.h"
#include "i18n.h"
#include "policy.h"
#include "util.h"

#define MAX_LINE 8192

struct tquestion {
    char *id;
    char *rule_name;
    char *text; /* as shown */
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

/* "deny", "deny[enoent]": the errno name in brackets, or NULL; *ret_bad when malformed. */
static char *bracket_errno(const char *word, const char **ret_end, bool *ret_bad)
{
    const char *open = strchr(word, '[');
    *ret_end = open ? open : word + strlen(word);
    *ret_bad = false;
    if (!open)
        return NULL;
    const char *close = strchr(open, ']');
    char *name = close ? xstrndup(open + 1, (size_t)(close - open - 1)) : NULL;
    if (!close || close[1] || errname_to_errno(name) <= 0) {
        *ret_bad = true;
        free(name);
        return NULL;
    }
    return name;
}

static const struct {
    const char *word, *action, *scope;
} keywords[] = {
    {"permit", "permit", "always"},
    {"deny", "deny", "always"},
    {"permit-always", "permit", "always"},
    {"deny-always", "deny", "always"},
    {"permit-now", "permit", "once"},
    {"deny-now", "deny", "once"},
    {"permit-once", "permit", "once"},
    {"deny-once", "deny", "once"},
    {"permit-session", "permit", "session"},
    {"deny-session", "deny", "session"},
    {"kill", "kill", "once"},
    {"detach", "detach", "once"},
};

struct answer {
    const char *action, *scope;
    char *filter, *err;
};

/* A typed or chosen rule: its action comes from the rule itself. */
static bool rule_answer(struct termagent *ta, const struct tquestion *q, const char *text,
                        struct answer *ret)
{
    char *line = strncmp(text, "native-", 7) == 0 || strncmp(text, "linux64-", 8) == 0
                     ? xstrdup(text)
                     : xasprintf("native-%s: %s", q->rule_name, text);
    struct pol_rule *rule = NULL;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0 || !rule) {
        say(ta, _("  refused: "));
        term_write_safe(ta->o.out_fd, err ? err : "not a rule");
        say(ta, "\n");
        free(err);
        free(line);
        return false;
    }
    enum pol_action action = rule->action;
    pol_rule_free(rule);
    if (action == POL_ASK) {
        say(ta, _("  refused: an answer must permit or deny\n"));
        free(line);
        return false;
    }
    *ret = (struct answer){action == POL_PERMIT ? "permit" : "deny", "always", line, NULL};
    return true;
}

static bool interpret(struct termagent *ta, const struct tquestion *q, const char *line,
                      struct answer *ret)
{
    if (!*line)
        return false;
    if (streq(line, "?") || streq(line, "help")) {
        say(ta, _("  permit, deny[ERRNO]           always (written to the policy)\n"
                  "  permit-now, deny-now[ERRNO]   this call only\n"
                  "  permit-session, deny-session  until the program ends\n"
                  "  N                             suggestion N, always\n"
                  "  a rule ('… then permit')      always, if it matches this call\n"
                  "  kill, detach, ?\n"));
        return false;
    }
    char *end;
    unsigned long n = strtoul(line, &end, 10);
    if (end != line && !*end) {
        if (n < 1 || n > q->n_suggestions) {
            say(ta, _("  refused: there is no such suggestion\n"));
            return false;
        }
        return rule_answer(ta, q, q->suggestions[n - 1], ret);
    }
    const char *word_end;
    bool bad;
    char *e = bracket_errno(line, &word_end, &bad);
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        size_t wl = strlen(keywords[i].word);
        if ((size_t)(word_end - line) != wl || strncasecmp(line, keywords[i].word, wl) != 0)
            continue;
        if (bad || (e && !streq(keywords[i].action, "deny"))) {
            say(ta, _("  refused: an errno in brackets follows deny, e.g. deny[enoent]\n"));
            free(e);
            return false;
        }
        *ret = (struct answer){keywords[i].action, keywords[i].scope, NULL, e};
        return true;
    }
    free(e);
    return rule_answer(ta, q, line, ret);
}

/* Sends the answer; false when the daemon refused it (the question stands). */
static bool send_answer(struct termagent *ta, const struct tquestion *q, const struct answer *a)
{
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_ANSWER);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    const char *id = q->id;
    dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &id);
    busmsg_dict_open(&it, &dict);
    busmsg_add_string(&dict, "action", a->action);
    busmsg_add_string(&dict, "scope", a->scope);
    if (a->filter)
        busmsg_add_string(&dict, "filter", a->filter);
    if (a->err)
        busmsg_add_string(&dict, "errno", a->err);
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
    struct answer a = {0};
    if (interpret(ta, q, line, &a)) {
        bool done = send_answer(ta, q, &a);
        free(a.filter);
        free(a.err);
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
