/* ctl-daemon.c: systracectl's session commands. Output is for people and scripts alike: one
 * line per item, fields in a fixed order separated by one space, the free-text field last;
 * --json prints the same as JSON (one object per line for monitor). Errors go to standard error
 * as "systracectl: …"; the exit status is 0, 1 for a failure, 2 for a usage error. */
#include "ctl-daemon.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>

#include "busclient.h"
#include "busloop.h"
#include "i18n.h"
#include "inject.h"
#include "termagent.h"
#include "util.h"

#define EXIT_USAGE 2
#define AGENT_PATH "/org/systrace/ctl/agent"

/* ---- JSON ---- */

static void json_string(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            buf_printf(b, "\\u%04x", *p);
        else
            buf_putc(b, (char)*p);
    }
    buf_putc(b, '"');
}

/* One variant as JSON (the types the interface uses). */
static void json_variant(struct buf *b, DBusMessageIter *v)
{
    int t = dbus_message_iter_get_arg_type(v);
    if (t == DBUS_TYPE_VARIANT) {
        DBusMessageIter in;
        dbus_message_iter_recurse(v, &in);
        json_variant(b, &in);
        return;
    }
    if (t == DBUS_TYPE_STRING || t == DBUS_TYPE_OBJECT_PATH) {
        const char *s;
        dbus_message_iter_get_basic(v, &s);
        json_string(b, s);
    } else if (t == DBUS_TYPE_BOOLEAN) {
        dbus_bool_t x;
        dbus_message_iter_get_basic(v, &x);
        buf_puts(b, x ? "true" : "false");
    } else if (t == DBUS_TYPE_INT32) {
        dbus_int32_t x;
        dbus_message_iter_get_basic(v, &x);
        buf_printf(b, "%d", x);
    } else if (t == DBUS_TYPE_UINT32) {
        dbus_uint32_t x;
        dbus_message_iter_get_basic(v, &x);
        buf_printf(b, "%u", x);
    } else if (t == DBUS_TYPE_UINT64) {
        dbus_uint64_t x;
        dbus_message_iter_get_basic(v, &x);
        buf_printf(b, "%" PRIu64, (uint64_t)x);
    } else if (t == DBUS_TYPE_ARRAY || t == DBUS_TYPE_STRUCT) {
        DBusMessageIter a;
        dbus_message_iter_recurse(v, &a);
        buf_putc(b, '[');
        for (bool first = true; dbus_message_iter_get_arg_type(&a) != DBUS_TYPE_INVALID;
             dbus_message_iter_next(&a), first = false) {
            buf_puts(b, first ? "" : ",");
            json_variant(b, &a);
        }
        buf_putc(b, ']');
    } else {
        buf_puts(b, "null");
    }
}

/* An a{sv} as a JSON object, keys turned from "max-sessions" and "LauncherPid" into
 * "max_sessions" and "launcher_pid". */
static void json_dict(struct buf *b, DBusMessageIter *dict)
{
    DBusMessageIter d;
    dbus_message_iter_recurse(dict, &d);
    buf_putc(b, '{');
    for (bool first = true; dbus_message_iter_get_arg_type(&d) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&d), first = false) {
        DBusMessageIter e;
        dbus_message_iter_recurse(&d, &e);
        const char *k;
        dbus_message_iter_get_basic(&e, &k);
        struct buf key = {0};
        for (const char *c = k; *c; c++) {
            if (*c == '-')
                buf_putc(&key, '_');
            else if (*c >= 'A' && *c <= 'Z') {
                if (c != k)
                    buf_putc(&key, '_');
                buf_putc(&key, (char)(*c - 'A' + 'a'));
            } else
                buf_putc(&key, *c);
        }
        buf_puts(b, first ? "" : ",");
        json_string(b, key.data ? key.data : "");
        buf_free(&key);
        buf_putc(b, ':');
        dbus_message_iter_next(&e);
        json_variant(b, &e);
    }
    buf_putc(b, '}');
}

/* ---- helpers ---- */

static int fail(const char *what, const char *error)
{
    fprintf(stderr, "systracectl: %s: ", what);
    term_write_safe(STDERR_FILENO, error ? error : _("failed"));
    fputs("\n", stderr);
    fflush(stderr);
    return 1;
}

static int connect_or_fail(DBusConnection **ret)
{
    _cleanup_free_ char *error = NULL;
    if (busclient_connect(ret, &error) < 0)
        return fail("systraced", error);
    return 0;
}

static void disconnect(DBusConnection *c)
{
    if (!c)
        return;
    dbus_connection_close(c);
    dbus_connection_unref(c);
}

/* Calls METHOD with no arguments (or a reply-less sequence of args) and returns the reply. */
static int call(DBusConnection *conn, DBusMessage *m, DBusMessage **ret, const char *what)
{
    _cleanup_free_ char *error = NULL;
    int r = busclient_call(conn, m, -1, ret, &error);
    if (r < 0)
        fail(what, error);
    return r;
}

/* "%N" names session N; a number names a process of a session (or its launcher). */
static int resolve(DBusConnection *conn, const char *arg, char **ret_path)
{
    char *end;
    if (arg[0] == '%') {
        unsigned long id = strtoul(arg + 1, &end, 10);
        if (!arg[1] || *end || id == 0 || id > 0xffffffffUL) {
            fprintf(stderr, _("systracectl: '%s' is not a session (%%N) or a pid\n"), arg);
            return -EINVAL;
        }
        *ret_path = xasprintf(SYSTRACE_SESSION_DIR "%lu", id);
        return 0;
    }
    long pid = strtol(arg, &end, 10);
    if (!*arg || *end || pid <= 0 || pid > 0x7fffffffL) {
        fprintf(stderr, _("systracectl: '%s' is not a session (%%N) or a pid\n"), arg);
        return -EINVAL;
    }
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_FINDSESSION);
    dbus_int32_t p = (dbus_int32_t)pid;
    dbus_message_append_args(m, DBUS_TYPE_INT32, &p, DBUS_TYPE_INVALID);
    DBusMessage *reply;
    int r = call(conn, m, &reply, arg);
    if (r < 0)
        return r;
    const char *path;
    dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    *ret_path = xstrdup(path);
    dbus_message_unref(reply);
    return 0;
}

static unsigned path_id(const char *path)
{
    size_t n = strlen(SYSTRACE_SESSION_DIR);
    return strncmp(path, SYSTRACE_SESSION_DIR, n) == 0 ? (unsigned)strtoul(path + n, NULL, 10) : 0;
}

static int get_all(DBusConnection *conn, const char *path, DBusMessage **ret)
{
    DBusMessage *m = dbus_message_new_method_call(SYSTRACE_BUS_NAME, path,
                                                  "org.freedesktop.DBus.Properties", "GetAll");
    const char *iface = IFACE_SESSION1;
    dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID);
    _cleanup_free_ char *error = NULL;
    return busclient_call(conn, m, -1, ret, &error);
}

/* ---- list, status, reload ---- */

static int cmd_list(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 0) {
        fprintf(stderr, "%s", _("systracectl: list takes no arguments\n"));
        return EXIT_USAGE;
    }
    DBusMessage *reply;
    if (call(conn, busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_LISTSESSIONS), &reply,
             "list") < 0)
        return 1;
    DBusMessageIter it, a, st;
    dbus_message_iter_init(reply, &it);
    dbus_message_iter_recurse(&it, &a);
    struct buf out = {0};
    buf_puts(&out, json ? "[" : "");
    bool first = true;
    for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRUCT; dbus_message_iter_next(&a)) {
        const char *path;
        dbus_message_iter_recurse(&a, &st);
        dbus_message_iter_get_basic(&st, &path);
        DBusMessage *props;
        if (get_all(conn, path, &props) < 0)
            continue; /* ended in between */
        DBusMessageIter pi;
        dbus_message_iter_init(props, &pi);
        if (json) {
            buf_puts(&out, first ? "" : ",");
            json_dict(&out, &pi);
        } else {
            buf_printf(&out, "%u %" PRId64 " %" PRId64 " ",
                       (unsigned)busclient_dict_uint(&pi, "Id", 0),
                       (int64_t)busclient_dict_uint(&pi, "Pid", 0),
                       (int64_t)busclient_dict_uint(&pi, "LauncherPid", 0));
            _cleanup_free_ char *user = xstrdup(busclient_dict_string(&pi, "User", "?"));
            for (char *c = user; *c; c++)
                if (*c == ' ' || (unsigned char)*c < 0x20)
                    *c = '_';
            buf_printf(&out, "%s %s %u ", user, busclient_dict_string(&pi, "Mode", "?"),
                       (unsigned)busclient_dict_uint(&pi, "Pending", 0));
            buf_puts(&out, busclient_dict_string(&pi, "Exe", "?"));
            buf_putc(&out, '\n');
        }
        first = false;
        dbus_message_unref(props);
    }
    buf_puts(&out, json ? "]\n" : "");
    dbus_message_unref(reply);
    if (json) {
        fputs(out.data, stdout);
    } else {
        /* Each line as it is but for control characters (a program's path is hostile). */
        for (char *line = out.data, *nl; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl)
                *nl++ = '\0';
            term_write_safe(STDOUT_FILENO, line);
            write_all(STDOUT_FILENO, "\n", 1);
        }
    }
    buf_free(&out);
    return 0;
}

static int cmd_status(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 0) {
        fprintf(stderr, "%s", _("systracectl: status takes no arguments\n"));
        return EXIT_USAGE;
    }
    DBusMessage *reply;
    if (call(conn, busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_STATUS), &reply, "status") <
        0)
        return 1;
    DBusMessageIter it;
    dbus_message_iter_init(reply, &it);
    struct buf out = {0};
    if (json) {
        json_dict(&out, &it);
        buf_putc(&out, '\n');
    } else {
        DBusMessageIter d;
        dbus_message_iter_recurse(&it, &d);
        for (; dbus_message_iter_get_arg_type(&d) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&d)) {
            DBusMessageIter e, v;
            dbus_message_iter_recurse(&d, &e);
            const char *k;
            dbus_message_iter_get_basic(&e, &k);
            dbus_message_iter_next(&e);
            dbus_message_iter_recurse(&e, &v);
            buf_printf(&out, "%s: ", k);
            struct buf val = {0};
            json_variant(&val, &v);
            /* Strings without their quotes; numbers and booleans as JSON writes them. */
            const char *s = val.data ? val.data : "";
            size_t n = strlen(s);
            if (n >= 2 && s[0] == '"')
                buf_append(&out, s + 1, n - 2);
            else
                buf_puts(&out, s);
            buf_free(&val);
            buf_putc(&out, '\n');
        }
    }
    dbus_message_unref(reply);
    fputs(out.data ? out.data : "", stdout);
    buf_free(&out);
    return 0;
}

static int cmd_reload(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 0) {
        fprintf(stderr, "%s", _("systracectl: reload takes no arguments\n"));
        return EXIT_USAGE;
    }
    DBusMessage *reply;
    if (call(conn, busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_RELOAD), &reply, "reload") <
        0)
        return 1;
    dbus_message_unref(reply);
    return 0;
}

/* ---- detach, kill, mode ---- */

static int session_call(DBusConnection *conn, int argc, char **argv, const char *method,
                        const char *mode)
{
    _cleanup_free_ char *path = NULL;
    if (resolve(conn, argv[0], &path) < 0)
        return 1;
    DBusMessage *m = busclient_method(path, IFACE_SESSION1, method);
    if (mode)
        dbus_message_append_args(m, DBUS_TYPE_STRING, &mode, DBUS_TYPE_INVALID);
    DBusMessage *reply;
    if (call(conn, m, &reply, argv[0]) < 0)
        return 1;
    dbus_message_unref(reply);
    return 0;
}

static int cmd_detach(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 1) {
        fprintf(stderr, "%s", _("systracectl: detach needs one PID or %N\n"));
        return EXIT_USAGE;
    }
    return session_call(conn, argc, argv, SESSION1_METHOD_DETACH, NULL);
}

static int cmd_kill(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 1) {
        fprintf(stderr, "%s", _("systracectl: kill needs one PID or %N\n"));
        return EXIT_USAGE;
    }
    return session_call(conn, argc, argv, SESSION1_METHOD_KILL, NULL);
}

static int cmd_mode(DBusConnection *conn, int argc, char **argv, bool json)
{
    if (argc != 2) {
        fprintf(stderr, "%s", _("systracectl: mode needs a PID or %N and learn|enforce|ask\n"));
        return EXIT_USAGE;
    }
    return session_call(conn, argc, argv, SESSION1_METHOD_SETMODE, argv[1]);
}

/* ---- attach, monitor: an agent on the event loop ---- */

struct live {
    DBusConnection *conn;
    struct loop *loop;
    char *daemon;
    const char *session; /* attach: the session; NULL for monitor */
    bool json;
    int status;
};

static void on_sigfd(void *data, uint32_t events)
{
    struct live *l = data;
    loop_quit(l->loop);
}

static void print_event(struct live *l, DBusMessage *msg)
{
    DBusMessageIter it;
    const char *path;
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_get_basic(&it, &path);
    dbus_message_iter_next(&it);
    struct buf out = {0};
    if (l->json) {
        buf_printf(&out, "{\"session\":%u,\"event\":", path_id(path));
        json_dict(&out, &it);
        buf_puts(&out, "}\n");
        write_all(STDOUT_FILENO, out.data, out.len);
    } else {
        uint64_t us = busclient_dict_uint(&it, "time", 0);
        time_t t = (time_t)(us / 1000000u);
        struct tm tm;
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
        buf_printf(&out, "%s session %u %s", stamp, path_id(path),
                   busclient_dict_string(&it, "kind", "?"));
        const char *req = busclient_dict_string(&it, "request", NULL);
        if (req)
            buf_printf(&out, " request %s", req);
        buf_puts(&out, ": ");
        buf_puts(&out, busclient_dict_string(&it, "line", ""));
        term_write_safe(STDOUT_FILENO, out.data);
        write_all(STDOUT_FILENO, "\n", 1);
    }
    buf_free(&out);
}

static DBusHandlerResult on_signal(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct live *l = data;
    if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL)
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
        fprintf(stderr, "%s", _("systracectl: the bus went away\n"));
        l->status = 1;
        loop_quit(l->loop);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
        const char *name, *old, *new;
        if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old,
                                  DBUS_TYPE_STRING, &new, DBUS_TYPE_INVALID) &&
            streq(name, SYSTRACE_BUS_NAME) && !*new) {
            fprintf(stderr, "%s", _("systracectl: systraced went away\n"));
            l->status = 1;
            loop_quit(l->loop);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    }
    const char *sender = dbus_message_get_sender(msg);
    if (!sender || !l->daemon || !streq(sender, l->daemon))
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED; /* only the daemon's signals count */
    if (dbus_message_is_signal(msg, IFACE_DAEMON1, DAEMON1_SIGNAL_DECISION) &&
        dbus_message_has_signature(msg, "oa{sv}") && !l->session)
        print_event(l, msg);
    const char *path;
    if (dbus_message_is_signal(msg, IFACE_DAEMON1, DAEMON1_SIGNAL_SESSIONREMOVED) &&
        dbus_message_get_args(msg, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID) &&
        l->session && streq(path, l->session)) {
        fprintf(stderr, _("systracectl: session %u ended\n"), path_id(path));
        loop_quit(l->loop);
    }
    return DBUS_HANDLER_RESULT_HANDLED;
}

/* What `systracectl attach PID` asks the daemon when no session has PID yet. */
struct attach_request {
    pid_t pid;
    const char *mode;       /* NULL: ask */
    const char *program;    /* NULL: the process's binary */
    const char *policy_dir; /* NULL: the owner's ~/.systrace */
};

/* Daemon1.Attach with this agent registered for the new session; its path in *RET_PATH. */
static int attach_process(DBusConnection *conn, const struct attach_request *a, bool fallback,
                          bool agent, char **ret_path)
{
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_ATTACH);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    dbus_int32_t pid = a->pid;
    dbus_message_iter_append_basic(&it, DBUS_TYPE_INT32, &pid);
    busmsg_dict_open(&it, &dict);
    if (agent)
        busmsg_add_path(&dict, "agent", AGENT_PATH);
    if (agent && fallback)
        busmsg_add_bool(&dict, "agent-fallback", true);
    if (a->mode)
        busmsg_add_string(&dict, "mode", a->mode);
    if (a->program)
        busmsg_add_string(&dict, "program", a->program);
    if (a->policy_dir)
        busmsg_add_string(&dict, "policy-dir", a->policy_dir);
    busmsg_dict_close(&it, &dict);
    DBusMessage *reply;
    _cleanup_free_ char *what = xasprintf("attach %d", a->pid);
    if (call(conn, m, &reply, what) < 0)
        return -1;
    const char *path;
    dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    *ret_path = xstrdup(path);
    dbus_message_unref(reply);
    return 0;
}

/* What a terminal agent registers for: one session (SESSION, or ATTACH's new one) or all. */
struct agent_request {
    const char *session;
    bool all, monitor, answer, json;
    bool fallback; /* yield to the owner's applet (systrace -p without -t) */
    const struct attach_request *attach;
};

static int run_agent(DBusConnection *conn, const struct agent_request *req)
{
    const char *session = req->session;
    bool all = req->all, monitor = req->monitor, answer = req->answer, json = req->json;
    const struct attach_request *attach = req->attach;
    _cleanup_free_ char *attached = NULL;
    struct live l = {.conn = conn, .session = session, .json = json};
    l.daemon = busclient_daemon_owner(conn);
    if (!l.daemon)
        return fail("systraced", _("systraced is not running"));
    if (loop_new(&l.loop) < 0)
        return 1;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    struct loop_watch *sw = NULL;
    loop_watch_fd(l.loop, sigfd, EPOLLIN, on_sigfd, &l, &sw);
    dbus_connection_add_filter(conn, on_signal, &l, NULL);
    dbus_bus_add_match(conn,
                       "type='signal',sender='" DBUS_SERVICE_DBUS
                       "',member='NameOwnerChanged',arg0='" SYSTRACE_BUS_NAME "'",
                       NULL);
    struct termagent *ta = NULL;
    struct termagent_options to = {
        .conn = conn,
        .loop = l.loop,
        .in_fd = STDIN_FILENO,
        .out_fd = STDOUT_FILENO,
        .path = AGENT_PATH,
        .daemon = l.daemon,
        .session = session,
    };
    if (answer && termagent_new(&to, &ta) < 0) {
        fail("agent", _("cannot set up the terminal agent"));
        return 1;
    }
    const char *path = AGENT_PATH;
    DBusMessage *reply;
    if (attach) {
        /* The daemon registers this agent for the new session before its first question. */
        if (attach_process(conn, attach, req->fallback, true, &attached) < 0) {
            termagent_free(ta);
            return 1;
        }
        l.session = session = attached;
        fprintf(stderr, _("systracectl: process %d attached as session %u\n"), attach->pid,
                path_id(session));
    } else {
        DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_REGISTERAGENT);
        DBusMessageIter it, dict;
        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &path);
        busmsg_dict_open(&it, &dict);
        if (session)
            busmsg_add_path(&dict, "session", session);
        if (all)
            busmsg_add_bool(&dict, "all", true);
        if (req->fallback)
            busmsg_add_bool(&dict, "fallback", true);
        busmsg_add_bool(&dict, "monitor", monitor);
        busmsg_add_bool(&dict, "answer", answer);
        busmsg_dict_close(&it, &dict);
        if (call(conn, m, &reply, session ? "attach" : "monitor") < 0) {
            termagent_free(ta);
            return 1;
        }
        dbus_message_unref(reply);
    }
    if (session)
        fprintf(stderr, _("systracectl: attached to session %u; Ctrl-C detaches\n"),
                path_id(session));
    else
        fprintf(stderr, "%s", _("systracectl: monitoring; Ctrl-C stops\n"));
    struct busloop *bl;
    busloop_attach(conn, l.loop, &bl);
    loop_run(l.loop);
    busloop_detach(bl);
    _cleanup_free_ char *error = NULL;
    /* A process this terminal attached to in ask mode has nobody else to ask: it runs on
     * unsupervised, as after OpenBSD's systrace -p ends (an enforce session goes on). */
    bool release = attach && (!attach->mode || streq(attach->mode, "ask"));
    if (release) {
        DBusMessage *m = busclient_method(session, IFACE_SESSION1, SESSION1_METHOD_DETACH);
        release = busclient_call(conn, m, 5000, &reply, &error) == 0;
        if (release)
            dbus_message_unref(reply);
    }
    /* Leaving: the daemon hands any question still here to the next agent. */
    free(error);
    error = NULL;
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_UNREGISTERAGENT);
    dbus_message_append_args(m, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    if (busclient_call(conn, m, 5000, &reply, &error) == 0)
        dbus_message_unref(reply);
    if (release && l.status == 0)
        fprintf(stderr,
                _("systracectl: detached: process %d runs on with every call permitted (it keeps "
                  "the filter)\n"),
                attach->pid);
    else if (session && l.status == 0)
        fprintf(stderr, "%s", _("systracectl: detached\n"));
    termagent_free(ta);
    dbus_connection_remove_filter(conn, on_signal, &l);
    loop_unwatch(l.loop, sw);
    close(sigfd);
    loop_free(l.loop);
    free(l.daemon);
    return l.status;
}

/* Asks on the terminal before an attach, which the process cannot undo. Reads stdin a byte at a
 * time: what follows the answer is for the terminal agent. */
static bool confirm_attach(pid_t pid)
{
    char path[64], exe[4096];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    snprintf(exe + (n > 0 ? n : 0), sizeof(exe) - (size_t)(n > 0 ? n : 0), "%s", n > 0 ? "" : "?");
    fprintf(stderr,
            _("systracectl: process %d is not supervised; attaching puts it under a "
              "seccomp filter that it keeps for the rest of its life, even after a "
              "detach.\n"),
            pid);
    if (!inject_has_cap_sys_admin(pid, pid))
        fprintf(stderr, "%s",
                _("systracectl: it also gets no_new_privs, for good: setuid and "
                  "file-capability programs it runs will no longer gain privileges.\n"));
    fprintf(stderr, "%s", _("systracectl: attach to "));
    term_write_safe(STDERR_FILENO, exe);
    fprintf(stderr, "%s", _("? [y/N] "));
    fflush(stderr);
    char line[16];
    size_t len = 0;
    char ch;
    while (read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n')
        if (len < sizeof(line) - 1)
            line[len++] = ch;
    line[len] = '\0';
    return streq(line, "y") || streq(line, "yes") || streq(line, _("y")) || streq(line, _("yes"));
}

/* attach [--yes] [--gui] [--mode MODE] [--program PATH] [--policy-dir DIR] PID|%N */
static int cmd_attach(DBusConnection *conn, int argc, char **argv, bool json)
{
    struct attach_request a = {0};
    bool yes = false, gui = false, bad = false;
    const char *target = NULL;
    for (int i = 0; i < argc; i++) {
        const char **value = streq(argv[i], "--mode")         ? &a.mode
                             : streq(argv[i], "--program")    ? &a.program
                             : streq(argv[i], "--policy-dir") ? &a.policy_dir
                                                              : NULL;
        if (value && i + 1 < argc)
            *value = argv[++i];
        else if (streq(argv[i], "--yes"))
            yes = true;
        else if (streq(argv[i], "--gui"))
            gui = true;
        else if (!value && !target && argv[i][0] != '-')
            target = argv[i];
        else
            bad = true;
    }
    if (!target || bad) {
        fprintf(stderr, "%s",
                _("systracectl: attach needs one PID or %N (options: --yes, --gui, --mode MODE, "
                  "--program PATH, --policy-dir DIR)\n"));
        return EXIT_USAGE;
    }
    _cleanup_free_ char *path = NULL;
    if (target[0] == '%')
        return resolve(conn, target, &path) < 0
                   ? 1
                   : run_agent(conn,
                               &(struct agent_request){
                                   .session = path, .answer = true, .json = json, .fallback = gui});
    char *end;
    long pid = strtol(target, &end, 10);
    if (*end || pid <= 0 || pid > 0x7fffffffL) {
        fprintf(stderr, _("systracectl: '%s' is not a session (%%N) or a pid\n"), target);
        return EXIT_USAGE;
    }
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_FINDSESSION);
    dbus_int32_t p = (dbus_int32_t)pid;
    dbus_message_append_args(m, DBUS_TYPE_INT32, &p, DBUS_TYPE_INVALID);
    DBusMessage *reply;
    _cleanup_free_ char *error = NULL;
    int r = busclient_call(conn, m, -1, &reply, &error);
    if (r == 0) {
        const char *found;
        dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &found, DBUS_TYPE_INVALID);
        path = xstrdup(found);
        dbus_message_unref(reply);
        return run_agent(conn, &(struct agent_request){
                                   .session = path, .answer = true, .json = json, .fallback = gui});
    }
    if (r != -ESRCH)
        return fail(target, error);
    a.pid = (pid_t)pid;
    if (!yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr,
                _("systracectl: process %ld is not supervised; attaching to it cannot be "
                  "undone: run with --yes to attach without a question\n"),
                pid);
        return 1;
    }
    if (!yes && !confirm_attach(a.pid)) {
        fprintf(stderr, "%s", _("systracectl: not attached\n"));
        return 1;
    }
    if (!isatty(STDIN_FILENO)) {
        /* A script (--yes): no terminal to answer on. The session's questions go to the
         * user's applet, or wait for an agent until the daemon's ask-timeout. */
        _cleanup_free_ char *session = NULL;
        if (attach_process(conn, &a, false, false, &session) < 0)
            return 1;
        printf(_("process %d attached as session %u\n"), a.pid, path_id(session));
        return 0;
    }
    return run_agent(
        conn, &(struct agent_request){.answer = true, .json = json, .fallback = gui, .attach = &a});
}

static int cmd_monitor(DBusConnection *conn, int argc, char **argv, bool json)
{
    bool answer = false;
    for (int i = 0; i < argc; i++) {
        if (streq(argv[i], "--answer"))
            answer = true;
        else {
            fprintf(stderr, "%s", _("systracectl: monitor takes only --answer\n"));
            return EXIT_USAGE;
        }
    }
    /* Root and the operator group watch every session; others their own. */
    DBusMessage *reply;
    if (call(conn, busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_STATUS), &reply,
             "monitor") < 0)
        return 1;
    DBusMessageIter it;
    dbus_message_iter_init(reply, &it);
    bool privileged = busclient_dict_uint(&it, "privileged", 0) != 0;
    dbus_message_unref(reply);
    return run_agent(conn, &(struct agent_request){
                               .all = privileged, .monitor = true, .answer = answer, .json = json});
}

static const struct {
    const char *name;
    int (*fn)(DBusConnection *conn, int argc, char **argv, bool json);
} commands[] = {
    {"list", cmd_list}, {"status", cmd_status}, {"reload", cmd_reload}, {"detach", cmd_detach},
    {"kill", cmd_kill}, {"mode", cmd_mode},     {"attach", cmd_attach}, {"monitor", cmd_monitor},
};

int ctl_daemon_command(int argc, char **argv, bool json)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!streq(argv[0], commands[i].name))
            continue;
        DBusConnection *conn = NULL;
        if (connect_or_fail(&conn))
            return 1;
        int r = commands[i].fn(conn, argc - 1, argv + 1, json);
        disconnect(conn);
        return r;
    }
    return -1;
}
