/* object.c: the daemon's objects on the bus. Each interface is one table of handlers, keyed by
 * the method names of the generated tables (dbus/iface.c, from the XML): a call is dispatched
 * only if its signature is the XML's, and introspection is the XML's text. The caller's UID is
 * asked of the bus once per call and goes with the call to its handler, which authorises it
 * with daemon/auth.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "busmsg.h"
#include "daemon.h"
#include "util.h"

#define PROPS_IFACE  "org.freedesktop.DBus.Properties"
#define INTRO_IFACE  "org.freedesktop.DBus.Introspectable"
#define MAX_ERR_TEXT 512

typedef DBusMessage *(*handler_fn)(struct daemon *d, DBusMessage *msg, const struct caller *c,
                                   struct session *s);

struct handler {
    const char *name;
    handler_fn fn;
};

DBusMessage *reply_error(DBusMessage *msg, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    _cleanup_free_ char *safe = busmsg_utf8(text ? text : "error", MAX_ERR_TEXT);
    free(text);
    return dbus_message_new_error(msg, name, safe);
}

void emit_to(struct daemon *d, const char *dest, const char *path, const char *iface,
             const char *member, int first_type, ...)
{
    DBusMessage *sig = dbus_message_new_signal(path, iface, member);
    if (!sig)
        return;
    va_list ap;
    va_start(ap, first_type);
    dbus_message_append_args_valist(sig, first_type, ap);
    va_end(ap);
    dbus_message_set_destination(sig, dest);
    dbus_connection_send(d->conn, sig, NULL);
    dbus_message_unref(sig);
}

/* ---- Daemon1 ---- */

static DBusMessage *m_supervise(struct daemon *d, DBusMessage *msg, const struct caller *c,
                                struct session *s)
{
    return session_supervise(d, msg, c);
}

static DBusMessage *m_attach(struct daemon *d, DBusMessage *msg, const struct caller *c,
                             struct session *s)
{
    return attach_process(d, msg, c);
}

static DBusMessage *m_list(struct daemon *d, DBusMessage *msg, const struct caller *c,
                           struct session *s)
{
    DBusMessage *reply = dbus_message_new_method_return(msg);
    DBusMessageIter it, a;
    dbus_message_iter_init_append(reply, &it);
    dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(oiusss)", &a);
    for (struct session *x = d->sessions; x; x = x->next) {
        if (x->ending || !auth_allowed(AUTH_SEE, c->uid, c->privileged, x->uid))
            continue;
        DBusMessageIter st;
        const char *path = x->path, *mode = sup_mode_name(sup_get_mode(x->sup));
        dbus_int32_t pid = x->pid;
        dbus_uint32_t uid = x->uid;
        _cleanup_free_ char *exe = busmsg_utf8(x->exe, 4096);
        _cleanup_free_ char *user = busmsg_utf8(x->user, 256);
        const char *pe = exe, *pu = user;
        dbus_message_iter_open_container(&a, DBUS_TYPE_STRUCT, NULL, &st);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_OBJECT_PATH, &path);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_INT32, &pid);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &uid);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &pu);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &pe);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &mode);
        dbus_message_iter_close_container(&a, &st);
    }
    dbus_message_iter_close_container(&it, &a);
    return reply;
}

static DBusMessage *m_find(struct daemon *d, DBusMessage *msg, const struct caller *c,
                           struct session *s)
{
    dbus_int32_t pid;
    dbus_message_get_args(msg, NULL, DBUS_TYPE_INT32, &pid, DBUS_TYPE_INVALID);
    struct session *x = pid > 0 ? session_by_pid(d, pid) : NULL;
    /* A session the caller may not see is reported as not found: its existence is not theirs
     * to learn. */
    if (!x || !auth_allowed(AUTH_SEE, c->uid, c->privileged, x->uid))
        return reply_error(msg, ERR_NOT_FOUND, "no session of yours has process %d", pid);
    DBusMessage *reply = dbus_message_new_method_return(msg);
    const char *path = x->path;
    dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    return reply;
}

static DBusMessage *m_register(struct daemon *d, DBusMessage *msg, const struct caller *c,
                               struct session *s)
{
    return agent_register(d, msg, c);
}

static DBusMessage *m_unregister(struct daemon *d, DBusMessage *msg, const struct caller *c,
                                 struct session *s)
{
    return agent_unregister(d, msg, c);
}

static DBusMessage *m_answer(struct daemon *d, DBusMessage *msg, const struct caller *c,
                             struct session *s)
{
    return agent_answer(d, msg, c);
}

static DBusMessage *m_reload(struct daemon *d, DBusMessage *msg, const struct caller *c,
                             struct session *s)
{
    if (!auth_allowed(AUTH_RELOAD, c->uid, c->privileged, 0))
        return reply_error(msg, ERR_ACCESS_DENIED, "only root and the operator group may reload");
    char *error = NULL;
    int r = daemon_reload(d, &error);
    if (r < 0) {
        DBusMessage *e = reply_error(msg, ERR_FAILED, "%s", error ? error : strerror(-r));
        log_event(d->log, "systraced: reload refused, keeping the settings in force: %s",
                  error ? error : strerror(-r));
        free(error);
        return e;
    }
    return dbus_message_new_method_return(msg);
}

static DBusMessage *m_status(struct daemon *d, DBusMessage *msg, const struct caller *c,
                             struct session *s)
{
    unsigned sessions = 0, questions = 0;
    for (struct session *x = d->sessions; x; x = x->next)
        if (!x->ending && auth_allowed(AUTH_SEE, c->uid, c->privileged, x->uid)) {
            sessions++;
            questions += question_count(d, x);
        }
    DBusMessage *reply = dbus_message_new_method_return(msg);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(reply, &it);
    busmsg_dict_open(&it, &dict);
    busmsg_add_string(&dict, "version", VERSION);
    busmsg_add_u32(&dict, "sessions", sessions);
    busmsg_add_u32(&dict, "agents", agent_count(d, c->uid, c->privileged));
    busmsg_add_u32(&dict, "questions", questions);
    busmsg_add_string(&dict, "operator-group", d->cfg.operator_group ? d->cfg.operator_group : "");
    busmsg_add_u32(&dict, "ask-timeout", d->cfg.ask_timeout_s);
    busmsg_add_u32(&dict, "max-sessions-per-user", d->cfg.max_sessions_per_user);
    busmsg_add_u32(&dict, "max-questions-per-user", d->cfg.max_questions_per_user);
    busmsg_add_u32(&dict, "max-agents-per-user", d->cfg.max_agents_per_user);
    busmsg_add_bool(&dict, "privileged", c->privileged);
    busmsg_dict_close(&it, &dict);
    return reply;
}

/* ---- Session1 ---- */

static DBusMessage *control(DBusMessage *msg, const struct caller *c, struct session *s)
{
    if (!auth_allowed(AUTH_CONTROL, c->uid, c->privileged, s->uid))
        return reply_error(msg, ERR_ACCESS_DENIED, "session %u is not yours", s->id);
    return NULL;
}

static DBusMessage *m_detach(struct daemon *d, DBusMessage *msg, const struct caller *c,
                             struct session *s)
{
    DBusMessage *e = control(msg, c, s);
    if (e)
        return e;
    sup_detach(s->sup);
    restart_update(s);
    log_event(d->log, "systraced: session %u detached by uid %u", s->id, (unsigned)c->uid);
    return dbus_message_new_method_return(msg);
}

static DBusMessage *m_kill(struct daemon *d, DBusMessage *msg, const struct caller *c,
                           struct session *s)
{
    DBusMessage *e = control(msg, c, s);
    if (e)
        return e;
    sup_kill(s->sup);
    log_event(d->log, "systraced: session %u killed by uid %u", s->id, (unsigned)c->uid);
    return dbus_message_new_method_return(msg);
}

static DBusMessage *m_set_mode(struct daemon *d, DBusMessage *msg, const struct caller *c,
                               struct session *s)
{
    DBusMessage *e = control(msg, c, s);
    if (e)
        return e;
    const char *name;
    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    enum sup_mode mode;
    if (sup_mode_from_name(name, &mode) < 0) {
        _cleanup_free_ char *safe = busmsg_utf8(name, 32);
        return reply_error(msg, ERR_INVALID_ARGS, "unknown mode \"%s\"", safe);
    }
    struct sup_info info;
    sup_get_info(s->sup, &info);
    if (info.detached)
        return reply_error(msg, ERR_FAILED,
                           "session %u is detached: it permits every call for good (a detached "
                           "filter cannot be supervised again)",
                           s->id);
    sup_set_mode(s->sup, mode);
    restart_update(s);
    log_event(d->log, "systraced: session %u now in %s mode (uid %u)", s->id, sup_mode_name(mode),
              (unsigned)c->uid);
    return dbus_message_new_method_return(msg);
}

static DBusMessage *m_rules(struct daemon *d, DBusMessage *msg, const struct caller *c,
                            struct session *s)
{
    if (!auth_allowed(AUTH_SEE, c->uid, c->privileged, s->uid))
        return reply_error(msg, ERR_ACCESS_DENIED, "session %u is not yours", s->id);
    const char *name;
    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    if (strlen(name) > 64)
        return reply_error(msg, ERR_INVALID_ARGS, "no such system call");
    DBusMessage *reply = dbus_message_new_method_return(msg);
    DBusMessageIter it, a;
    dbus_message_iter_init_append(reply, &it);
    dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &a);
    struct store_policy p;
    if (store_get(s->store, s->exe, &p) == 0) {
        _cleanup_free_ char *text = pol_print(p.policy);
        /* One line per rule: the header, then each "native-NAME: …" that names NAME. */
        for (char *line = text, *nl; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl)
                *nl++ = '\0';
            const char *r = line;
            while (*r == '\t' || *r == ' ')
                r++;
            if (!*r || strncmp(r, "Policy:", 7) == 0)
                continue;
            const char *dash = strchr(r, '-'), *colon = strchr(r, ':');
            if (*name &&
                (!dash || !colon || colon < dash || (size_t)(colon - dash - 1) != strlen(name) ||
                 strncmp(dash + 1, name, strlen(name)) != 0))
                continue;
            _cleanup_free_ char *safe = busmsg_utf8(r, 8192);
            const char *ps = safe;
            dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &ps);
        }
        store_policy_release(&p);
    }
    dbus_message_iter_close_container(&it, &a);
    return reply;
}

static const struct handler daemon_handlers[] = {
    {DAEMON1_METHOD_SUPERVISE, m_supervise},    {DAEMON1_METHOD_ATTACH, m_attach},
    {DAEMON1_METHOD_LISTSESSIONS, m_list},      {DAEMON1_METHOD_FINDSESSION, m_find},
    {DAEMON1_METHOD_REGISTERAGENT, m_register}, {DAEMON1_METHOD_UNREGISTERAGENT, m_unregister},
    {DAEMON1_METHOD_ANSWER, m_answer},          {DAEMON1_METHOD_RELOAD, m_reload},
    {DAEMON1_METHOD_STATUS, m_status},
};

static const struct handler session_handlers[] = {
    {SESSION1_METHOD_DETACH, m_detach},
    {SESSION1_METHOD_KILL, m_kill},
    {SESSION1_METHOD_SETMODE, m_set_mode},
    {SESSION1_METHOD_RULES, m_rules},
};

struct iface_handlers {
    const struct iface *iface;
    const struct handler *handlers;
    size_t n;
};

static const struct iface_handlers tables[] = {
    {&iface_org_systrace_Daemon1, daemon_handlers, ARRAY_SIZE(daemon_handlers)},
    {&iface_org_systrace_Session1, session_handlers, ARRAY_SIZE(session_handlers)},
};

const char *object_check_tables(void)
{
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        const struct iface_handlers *ih = &tables[t];
        for (size_t i = 0; i < ih->iface->n_methods; i++) {
            size_t j = 0;
            while (j < ih->n && !streq(ih->handlers[j].name, ih->iface->methods[i].name))
                j++;
            if (j == ih->n)
                return ih->iface->methods[i].name;
        }
        for (size_t j = 0; j < ih->n; j++)
            if (!busmsg_find_method(ih->iface, ih->handlers[j].name))
                return ih->handlers[j].name;
    }
    return "";
}

/* ---- Properties, Introspectable ---- */

static DBusMessage *properties(struct daemon *d, DBusMessage *msg, const struct caller *c,
                               struct session *s, const char *member)
{
    const char *iface, *prop = NULL;
    bool get = streq(member, "Get");
    if (!streq(member, "GetAll") && !get)
        return reply_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly",
                           "properties are read-only");
    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &iface,
                               get ? DBUS_TYPE_STRING : DBUS_TYPE_INVALID, &prop,
                               DBUS_TYPE_INVALID))
        return reply_error(msg, ERR_INVALID_ARGS, "expected (s%s)", get ? "s" : "");
    DBusMessage *reply = dbus_message_new_method_return(msg);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(reply, &it);
    bool is_session = s && (streq(iface, IFACE_SESSION1) || (!*iface && get));
    if (s && !auth_allowed(AUTH_SEE, c->uid, c->privileged, s->uid)) {
        dbus_message_unref(reply);
        return reply_error(msg, ERR_ACCESS_DENIED, "session %u is not yours", s->id);
    }
    if (get) {
        if (!is_session || !session_property(s, prop, &it)) {
            dbus_message_unref(reply);
            return reply_error(msg, "org.freedesktop.DBus.Error.UnknownProperty",
                               "no such property");
        }
        return reply;
    }
    busmsg_dict_open(&it, &dict);
    for (size_t i = 0; is_session && session_property_names[i]; i++) {
        DBusMessageIter e;
        const char *name = session_property_names[i];
        dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
        dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &name);
        session_property(s, name, &e);
        dbus_message_iter_close_container(&dict, &e);
    }
    busmsg_dict_close(&it, &dict);
    return reply;
}

static DBusMessage *introspect(struct daemon *d, DBusMessage *msg, const char *path,
                               struct session *s)
{
    struct buf b = {0};
    buf_puts(&b, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
    buf_puts(&b, "  <interface name=\"" INTRO_IFACE "\">\n"
                 "    <method name=\"Introspect\">\n"
                 "      <arg name=\"xml\" type=\"s\" direction=\"out\"/>\n"
                 "    </method>\n  </interface>\n");
    buf_puts(&b, "  <interface name=\"" PROPS_IFACE "\">\n"
                 "    <method name=\"Get\">\n"
                 "      <arg name=\"interface\" type=\"s\" direction=\"in\"/>\n"
                 "      <arg name=\"name\" type=\"s\" direction=\"in\"/>\n"
                 "      <arg name=\"value\" type=\"v\" direction=\"out\"/>\n    </method>\n"
                 "    <method name=\"GetAll\">\n"
                 "      <arg name=\"interface\" type=\"s\" direction=\"in\"/>\n"
                 "      <arg name=\"values\" type=\"a{sv}\" direction=\"out\"/>\n"
                 "    </method>\n  </interface>\n");
    if (s)
        buf_puts(&b, iface_org_systrace_Session1.introspection);
    else if (streq(path, SYSTRACE_BUS_PATH))
        buf_puts(&b, iface_org_systrace_Daemon1.introspection);
    buf_puts(&b, "</node>\n");
    DBusMessage *reply = dbus_message_new_method_return(msg);
    const char *text = b.data;
    dbus_message_append_args(reply, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
    buf_free(&b);
    return reply;
}

static DBusMessage *dispatch(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    const char *path = dbus_message_get_path(msg);
    const char *iface = dbus_message_get_interface(msg);
    const char *member = dbus_message_get_member(msg);
    struct session *s = NULL;
    const struct iface_handlers *ih = &tables[0];
    if (!streq(path, SYSTRACE_BUS_PATH)) {
        s = session_by_path(d, path);
        if (!s || s->ending)
            return reply_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "no such object");
        ih = &tables[1];
    }
    if (iface && streq(iface, PROPS_IFACE))
        return properties(d, msg, c, s, member);
    if (iface && streq(iface, INTRO_IFACE))
        return introspect(d, msg, path, s);
    if (iface && !streq(iface, ih->iface->name))
        return reply_error(msg, "org.freedesktop.DBus.Error.UnknownInterface",
                           "no such interface on this object");
    const struct iface_member *m = busmsg_find_method(ih->iface, member);
    if (!m)
        return reply_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "no such method");
    if (!dbus_message_has_signature(msg, m->in_sig))
        return reply_error(msg, ERR_INVALID_ARGS, "%s takes (%s)", m->name, m->in_sig);
    for (size_t i = 0; i < ih->n; i++)
        if (streq(ih->handlers[i].name, member))
            return ih->handlers[i].fn(d, msg, c, s);
    return reply_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "no such method");
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct daemon *d = data;
    if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    const char *sender = dbus_message_get_sender(msg);
    DBusError err;
    dbus_error_init(&err);
    struct caller c = {.sender = sender};
    unsigned long uid = sender ? dbus_bus_get_unix_user(conn, sender, &err) : (unsigned long)-1;
    DBusMessage *reply;
    if (uid == (unsigned long)-1) {
        reply = reply_error(msg, ERR_ACCESS_DENIED, "the bus does not know who you are");
        dbus_error_free(&err);
    } else {
        c.uid = (uid_t)uid;
        c.privileged = auth_privileged(c.uid, d->cfg.operator_group);
        reply = dispatch(d, msg, &c);
    }
    if (reply && !dbus_message_get_no_reply(msg))
        dbus_connection_send(conn, reply, NULL);
    if (reply)
        dbus_message_unref(reply);
    return DBUS_HANDLER_RESULT_HANDLED;
}

/* NameOwnerChanged for the names we watch: agents and launchers that leave. */
static DBusHandlerResult on_signal(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct daemon *d = data;
    if (!dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged") ||
        !dbus_message_has_sender(msg, DBUS_SERVICE_DBUS))
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    const char *name, *old_owner, *new_owner;
    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner,
                               DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID))
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    if (name[0] == ':' && !*new_owner) {
        agent_name_gone(d, name);
        session_launcher_gone(d, name);
    }
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

int object_register(struct daemon *d)
{
    static const DBusObjectPathVTable vtable = {.message_function = on_message};
    if (!dbus_connection_register_fallback(d->conn, SYSTRACE_BUS_PATH, &vtable, d))
        return -ENOMEM;
    if (!dbus_connection_add_filter(d->conn, on_signal, d, NULL))
        return -ENOMEM;
    /* One rule for every name that leaves: per-name rules would count against the bus's limit
     * of match rules per connection with many agents and sessions. */
    DBusError err;
    dbus_error_init(&err);
    dbus_bus_add_match(d->conn,
                       "type='signal',sender='" DBUS_SERVICE_DBUS
                       "',interface='" DBUS_INTERFACE_DBUS "',member='NameOwnerChanged'",
                       &err);
    if (dbus_error_is_set(&err)) {
        dbus_error_free(&err);
        return -EIO;
    }
    return 0;
}
