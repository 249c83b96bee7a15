/* st-agent.c: Agent1 with GDBus. GDBus rather than libdbus because the applet lives in GLib's
 * main loop: GDBus dispatches there by itself, checks the incoming signatures against the
 * interface XML (the same file the daemon is built from, inside the applet's GResource) and
 * sends asynchronously without watch and timeout glue. */
#include "st-agent.h"

#define DAEMON_NAME   "org.systrace.Daemon1"
#define DAEMON_PATH   "/org/systrace/Daemon1"
#define DAEMON_IFACE  "org.systrace.Daemon1"
#define SESSION_IFACE "org.systrace.Session1"
#define AGENT_IFACE   "org.systrace.Agent1"
#define AGENT_PATH    "/org/systrace/Applet"
/* A second agent, registered while the sessions window is open: it answers nothing and gets the
 * Decision events (a monitor makes the daemon post every decision, so it is not always on). */
#define MONITOR_PATH "/org/systrace/Applet/monitor"
#define IFACE_XML    "/org/systrace/applet/org.systrace.Daemon1.xml"
#define ERROR_MOOT   "org.systrace.Error.Moot"

/* Strings longer than this in a request id are not the daemon's. */
#define MAX_ID 64

struct _StAgent {
    GObject parent_instance;
    GDBusConnection *bus;
    GDBusNodeInfo *node;
    guint object_id;
    guint watch_id;
    char *daemon_owner; /* the daemon's unique name while it runs */
    guint signal_id;
    guint monitor_object_id;
    gboolean monitoring;
};

G_DEFINE_TYPE(StAgent, st_agent, G_TYPE_OBJECT)

enum { SIGNAL_ASK, SIGNAL_CANCEL, SIGNAL_SESSIONS_CHANGED, SIGNAL_DECISION, N_SIGNALS };
static guint signals[N_SIGNALS];

static void st_agent_dispose(GObject *object)
{
    StAgent *agent = ST_AGENT(object);
    if (agent->watch_id)
        g_bus_unwatch_name(agent->watch_id);
    agent->watch_id = 0;
    if (agent->signal_id)
        g_dbus_connection_signal_unsubscribe(agent->bus, agent->signal_id);
    agent->signal_id = 0;
    if (agent->monitor_object_id)
        g_dbus_connection_unregister_object(agent->bus, agent->monitor_object_id);
    agent->monitor_object_id = 0;
    if (agent->object_id)
        g_dbus_connection_unregister_object(agent->bus, agent->object_id);
    agent->object_id = 0;
    g_clear_object(&agent->bus);
    g_clear_pointer(&agent->node, g_dbus_node_info_unref);
    g_clear_pointer(&agent->daemon_owner, g_free);
    G_OBJECT_CLASS(st_agent_parent_class)->dispose(object);
}

static void st_agent_class_init(StAgentClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = st_agent_dispose;
    signals[SIGNAL_ASK] = g_signal_new("ask", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 1, ST_TYPE_QUESTION);
    signals[SIGNAL_CANCEL] =
        g_signal_new("cancel", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
    signals[SIGNAL_SESSIONS_CHANGED] =
        g_signal_new("sessions-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_DECISION] =
        g_signal_new("decision", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void st_agent_init(StAgent *agent)
{
}

static void on_method_call(GDBusConnection *bus, const char *sender, const char *path,
                           const char *iface, const char *method, GVariant *params,
                           GDBusMethodInvocation *invocation, gpointer data)
{
    StAgent *agent = data;
    /* Only the daemon asks (the bus policy lets only root call agents; this also keeps out
     * root's other programs). */
    if (!agent->daemon_owner || g_strcmp0(sender, agent->daemon_owner) != 0) {
        g_dbus_method_invocation_return_dbus_error(invocation, "org.systrace.Error.AccessDenied",
                                                   "only systraced may ask");
        return;
    }
    const char *id;
    if (g_strcmp0(method, "Ask") == 0) {
        g_autoptr(GVariant) request = NULL;
        g_variant_get(params, "(&s@a{sv})", &id, &request);
        if (strlen(id) > MAX_ID) {
            g_dbus_method_invocation_return_dbus_error(
                invocation, "org.freedesktop.DBus.Error.InvalidArgs", "request id too long");
            return;
        }
        g_autoptr(StQuestion) q = st_question_new(id, request);
        g_dbus_method_invocation_return_value(invocation, NULL);
        g_signal_emit(agent, signals[SIGNAL_ASK], 0, q);
    } else if (g_strcmp0(method, "Cancel") == 0) {
        const char *reason;
        g_variant_get(params, "(&s&s)", &id, &reason);
        g_dbus_method_invocation_return_value(invocation, NULL);
        g_signal_emit(agent, signals[SIGNAL_CANCEL], 0, id, reason);
    } else {
        g_dbus_method_invocation_return_dbus_error(
            invocation, "org.freedesktop.DBus.Error.UnknownMethod", "no such method");
    }
}

static const GDBusInterfaceVTable agent_vtable = {.method_call = on_method_call};

static void on_registered(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (!reply)
        g_warning("systraced refused the applet's agent: %s", error->message);
}

/* The daemon's signals (unicast to this agent): sessions come and go, decisions are made. */
static void on_daemon_signal(GDBusConnection *bus, const char *sender, const char *path,
                             const char *iface, const char *name, GVariant *params, gpointer data)
{
    StAgent *agent = data;
    if (!agent->daemon_owner || g_strcmp0(sender, agent->daemon_owner) != 0)
        return;
    if (!g_strcmp0(name, "SessionAdded") || !g_strcmp0(name, "SessionRemoved")) {
        g_signal_emit(agent, signals[SIGNAL_SESSIONS_CHANGED], 0);
    } else if (!g_strcmp0(name, "Decision") &&
               g_variant_is_of_type(params, G_VARIANT_TYPE("(oa{sv})"))) {
        const char *session, *kind = "", *line = "";
        g_autoptr(GVariant) event = NULL;
        g_variant_get(params, "(&o@a{sv})", &session, &event);
        g_variant_lookup(event, "kind", "&s", &kind);
        g_variant_lookup(event, "line", "&s", &line);
        g_signal_emit(agent, signals[SIGNAL_DECISION], 0, session, kind, line);
    }
}

static void register_monitor(StAgent *agent, gboolean on)
{
    if (!agent->daemon_owner)
        return;
    GVariant *params;
    if (on) {
        GVariantBuilder options;
        g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&options, "{sv}", "monitor", g_variant_new_boolean(TRUE));
        g_variant_builder_add(&options, "{sv}", "answer", g_variant_new_boolean(FALSE));
        params = g_variant_new("(o@a{sv})", MONITOR_PATH, g_variant_builder_end(&options));
    } else {
        params = g_variant_new("(o)", MONITOR_PATH);
    }
    g_dbus_connection_call(agent->bus, agent->daemon_owner, DAEMON_PATH, DAEMON_IFACE,
                           on ? "RegisterAgent" : "UnregisterAgent", params, NULL,
                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_registered, agent);
}

void st_agent_set_monitoring(StAgent *agent, gboolean on)
{
    if (agent->monitoring == on)
        return;
    agent->monitoring = on;
    register_monitor(agent, on);
}

static void on_daemon_appeared(GDBusConnection *bus, const char *name, const char *owner,
                               gpointer data)
{
    StAgent *agent = data;
    g_free(agent->daemon_owner);
    agent->daemon_owner = g_strdup(owner);
    g_dbus_connection_call(bus, owner, DAEMON_PATH, DAEMON_IFACE, "RegisterAgent",
                           g_variant_new("(o@a{sv})", AGENT_PATH,
                                         g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                           NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_registered, agent);
    if (agent->monitoring)
        register_monitor(agent, TRUE);
    g_signal_emit(agent, signals[SIGNAL_SESSIONS_CHANGED], 0);
}

static void on_daemon_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
    StAgent *agent = data;
    g_clear_pointer(&agent->daemon_owner, g_free);
    g_signal_emit(agent, signals[SIGNAL_SESSIONS_CHANGED], 0);
}

StAgent *st_agent_new(GDBusConnection *bus, GError **error)
{
    g_autoptr(GBytes) xml = g_resources_lookup_data(IFACE_XML, 0, error);
    if (!xml)
        return NULL;
    g_autoptr(StAgent) agent = g_object_new(ST_TYPE_AGENT, NULL);
    agent->bus = g_object_ref(bus);
    agent->node = g_dbus_node_info_new_for_xml(g_bytes_get_data(xml, NULL), error);
    if (!agent->node)
        return NULL;
    GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(agent->node, AGENT_IFACE);
    if (!iface) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is not in %s", AGENT_IFACE,
                    IFACE_XML);
        return NULL;
    }
    agent->object_id = g_dbus_connection_register_object(bus, AGENT_PATH, iface, &agent_vtable,
                                                         agent, NULL, error);
    if (!agent->object_id)
        return NULL;
    agent->monitor_object_id = g_dbus_connection_register_object(bus, MONITOR_PATH, iface,
                                                                 &agent_vtable, agent, NULL, error);
    if (!agent->monitor_object_id)
        return NULL;
    agent->signal_id =
        g_dbus_connection_signal_subscribe(bus, DAEMON_NAME, DAEMON_IFACE, NULL, DAEMON_PATH, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, on_daemon_signal, agent, NULL);
    agent->watch_id =
        g_bus_watch_name_on_connection(bus, DAEMON_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                       on_daemon_appeared, on_daemon_vanished, agent, NULL);
    return g_steal_pointer(&agent);
}

static void on_answered(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (reply)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

void st_agent_answer(StAgent *agent, const char *request_id, GVariant *answer,
                     GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(agent, NULL, callback, user_data);
    g_autoptr(GVariant) owned = g_variant_ref_sink(answer);
    if (!agent->daemon_owner) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                "systraced is not running");
        g_object_unref(task);
        return;
    }
    g_dbus_connection_call(agent->bus, agent->daemon_owner, DAEMON_PATH, DAEMON_IFACE, "Answer",
                           g_variant_new("(s@a{sv})", request_id, owned), NULL,
                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_answered, task);
}

gboolean st_agent_answer_finish(StAgent *agent, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

static void on_session_replied(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (reply)
        g_task_return_pointer(task, reply, (GDestroyNotify)g_variant_unref);
    else
        g_task_return_error(task, error);
}

void st_agent_session_call(StAgent *agent, const char *session, const char *method,
                           GVariant *params, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(agent, NULL, callback, user_data);
    if (!agent->daemon_owner || !g_variant_is_object_path(session)) {
        if (params)
            g_variant_unref(g_variant_ref_sink(params));
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                "systraced is not running");
        g_object_unref(task);
        return;
    }
    g_dbus_connection_call(agent->bus, agent->daemon_owner, session, SESSION_IFACE, method, params,
                           NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_session_replied, task);
}

GVariant *st_agent_session_call_finish(StAgent *agent, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

void st_agent_list_sessions(StAgent *agent, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(agent, NULL, callback, user_data);
    if (!agent->daemon_owner) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                "systraced is not running");
        g_object_unref(task);
        return;
    }
    g_dbus_connection_call(agent->bus, agent->daemon_owner, DAEMON_PATH, DAEMON_IFACE,
                           "ListSessions", NULL, G_VARIANT_TYPE("(a(oiusss))"),
                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_session_replied, task);
}

gboolean st_agent_error_is_moot(const GError *error)
{
    g_autofree char *name = g_dbus_error_get_remote_error(error);
    return name && g_str_equal(name, ERROR_MOOT);
}
