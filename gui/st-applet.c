/* st-applet.c: connects to the system bus on startup, registers the agent and keeps running
 * without a window (questions come when they come); a second start only shows the window. */
#include "st-applet.h"

#include "config.h"

#include <glib/gi18n.h>

#include "st-agent.h"
#include "st-question-window.h"
#include "st-sessions-window.h"
#include "st-status-icon.h"

#define DEFAULT_COUNTDOWN_S 30

struct _StApplet {
    GtkApplication parent_instance;
    gint countdown_s;
    gboolean show_sessions; /* --sessions */
    StAgent *agent;
    StQuestionWindow *window;
    StSessionsWindow *sessions;
    GObject *status_icon;
    gboolean failed; /* startup could not reach the daemon's bus */
};

G_DEFINE_TYPE(StApplet, st_applet, GTK_TYPE_APPLICATION)

static void on_ask(StAgent *agent, StQuestion *q, StApplet *app)
{
    st_question_window_add(app->window, q);
}

static void on_cancel(StAgent *agent, const char *id, const char *reason, StApplet *app)
{
    st_question_window_remove(app->window, id);
}

/* app.sessions: the sessions window, brought forward (asked for: focus is wanted). */
static void on_sessions_action(GSimpleAction *action, GVariant *param, gpointer data)
{
    StApplet *app = data;
    if (app->sessions)
        gtk_window_present(GTK_WINDOW(app->sessions));
}

static const GActionEntry app_actions[] = {
    {"sessions", on_sessions_action, NULL, NULL, NULL, {0}},
};

static void st_applet_startup(GApplication *gapp)
{
    StApplet *app = ST_APPLET(gapp);
    G_APPLICATION_CLASS(st_applet_parent_class)->startup(gapp);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
    if (bus)
        app->agent = st_agent_new(bus, &error);
    if (!app->agent) {
        g_printerr(_("systrace-applet: cannot reach the system bus: %s\n"), error->message);
        app->failed = TRUE;
        return;
    }
    app->window =
        st_question_window_new(GTK_APPLICATION(app), app->agent, (guint)MAX(app->countdown_s, 0));
    app->sessions = st_sessions_window_new(GTK_APPLICATION(app), app->agent);
    app->status_icon = st_status_icon_new(G_ACTION_GROUP(app), "sessions");
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
    g_signal_connect(app->agent, "ask", G_CALLBACK(on_ask), app);
    g_signal_connect(app->agent, "cancel", G_CALLBACK(on_cancel), app);
    /* No window is open most of the time: the application lives for the agent. */
    g_application_hold(gapp);
}

static void st_applet_activate(GApplication *gapp)
{
    StApplet *app = ST_APPLET(gapp);
    if (!app->agent)
        g_application_quit(gapp); /* startup said why */
    else if (st_question_window_count(app->window))
        gtk_window_present(GTK_WINDOW(app->window)); /* asked for: focus is wanted */
}

/* --sessions: the running applet (or this one, if none runs) shows its sessions window. */
static gint st_applet_handle_local_options(GApplication *gapp, GVariantDict *options)
{
    StApplet *app = ST_APPLET(gapp);
    if (!app->show_sessions)
        return -1;
    g_autoptr(GError) error = NULL;
    if (!g_application_register(gapp, NULL, &error)) {
        g_printerr("systrace-applet: %s\n", error->message);
        return 1;
    }
    g_action_group_activate_action(G_ACTION_GROUP(gapp), "sessions", NULL);
    /* A remote instance is done; the primary one goes on running. */
    return g_application_get_is_remote(gapp) ? 0 : -1;
}

static void st_applet_dispose(GObject *object)
{
    StApplet *app = ST_APPLET(object);
    g_clear_object(&app->status_icon);
    if (app->sessions)
        gtk_widget_destroy(GTK_WIDGET(app->sessions));
    app->sessions = NULL;
    if (app->window)
        gtk_widget_destroy(GTK_WIDGET(app->window));
    app->window = NULL;
    g_clear_object(&app->agent);
    G_OBJECT_CLASS(st_applet_parent_class)->dispose(object);
}

static void st_applet_class_init(StAppletClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = st_applet_dispose;
    G_APPLICATION_CLASS(klass)->startup = st_applet_startup;
    G_APPLICATION_CLASS(klass)->activate = st_applet_activate;
    G_APPLICATION_CLASS(klass)->handle_local_options = st_applet_handle_local_options;
}

static void st_applet_init(StApplet *app)
{
    app->countdown_s = DEFAULT_COUNTDOWN_S;
    const GOptionEntry options[] = {
        {"countdown", 0, 0, G_OPTION_ARG_INT, &app->countdown_s,
         N_("Seconds before an unanswered question is denied once (0: only the daemon's "
            "deadline)"),
         N_("SECONDS")},
        {"sessions", 0, 0, G_OPTION_ARG_NONE, &app->show_sessions,
         N_("Show the supervised programs and the recent decisions"), NULL},
        {NULL},
    };
    g_application_add_main_option_entries(G_APPLICATION(app), options);
}

gboolean st_applet_failed(StApplet *app)
{
    return app->failed;
}

StApplet *st_applet_new(void)
{
    return g_object_new(ST_TYPE_APPLET, "application-id", "org.systrace.Applet", "flags",
                        G_APPLICATION_DEFAULT_FLAGS, NULL);
}
