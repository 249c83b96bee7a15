/* st-sessions-window.c: kept current from the daemon's SessionAdded, SessionRemoved and
 * Decision signals; the list is read again with ListSessions on each change. */
#include "st-sessions-window.h"

#include "config.h"

#include <glib/gi18n.h>

#include "dump.h"
#include "visible.h"

/* Decisions kept for the window. */
#define RECENT_MAX 20

struct _StSessionsWindow {
    GtkApplicationWindow parent_instance;
    StAgent *agent;
    GQueue recent; /* char *, shown lines, newest last */
    GtkListBox *sessions_list;
    GtkLabel *decisions_label;
};

G_DEFINE_TYPE(StSessionsWindow, st_sessions_window, GTK_TYPE_APPLICATION_WINDOW)

/* What a row's button does: the Session1 method it calls. */
static const struct {
    const char *name; /* the button's name: NAME_ID */
    const char *label, *tooltip, *method;
} row_buttons[] = {
    {"detach", N_("De_tach"), N_("Stop supervising: everything it does is permitted"), "Detach"},
    {"kill", N_("_Kill"), N_("Kill the program and everything it started"), "Kill"},
};

static void on_called(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(StSessionsWindow) win = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = st_agent_session_call_finish(ST_AGENT(source), result, &error);
    if (!reply) {
        g_dbus_error_strip_remote_error(error);
        g_autofree char *why = visible_text(error->message, 300);
        GtkWidget *dialog = gtk_message_dialog_new(GTK_WINDOW(win), GTK_DIALOG_DESTROY_WITH_PARENT,
                                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", why);
        g_signal_connect(dialog, "response", G_CALLBACK(gtk_widget_destroy), NULL);
        gtk_widget_show(dialog);
    }
}

static void on_row_button(GtkButton *button, StSessionsWindow *win)
{
    const char *session = g_object_get_data(G_OBJECT(button), "session");
    const char *method = g_object_get_data(G_OBJECT(button), "method");
    st_agent_session_call(win->agent, session, method, NULL, on_called, g_object_ref(win));
}

static GtkWidget *session_row(StSessionsWindow *win, const char *path, gint32 pid, const char *user,
                              const char *program, const char *mode)
{
    const char *slash = strrchr(path, '/');
    const char *id = slash ? slash + 1 : path;
    g_autofree char *shown_program = visible_text(program, 200);
    g_autofree char *shown_user = visible_text(user, 64);
    g_autofree char *shown_mode = visible_text(mode, 16);
    g_autofree char *text = g_strdup_printf(_("%s: %s, pid %d, user %s, %s"), id, shown_program,
                                            pid, shown_user, shown_mode);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_set_hexpand(label, TRUE);
    g_autofree char *label_name = g_strdup_printf("session_%s", id);
    gtk_buildable_set_name(GTK_BUILDABLE(label), label_name);
    gtk_box_pack_start(GTK_BOX(box), label, TRUE, TRUE, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(row_buttons); i++) {
        GtkWidget *b = gtk_button_new_with_mnemonic(_(row_buttons[i].label));
        gtk_widget_set_tooltip_text(b, _(row_buttons[i].tooltip));
        g_autofree char *name = g_strdup_printf("%s_%s", row_buttons[i].name, id);
        gtk_buildable_set_name(GTK_BUILDABLE(b), name);
        g_object_set_data_full(G_OBJECT(b), "session", g_strdup(path), g_free);
        g_object_set_data(G_OBJECT(b), "method", (gpointer)row_buttons[i].method);
        g_signal_connect(b, "clicked", G_CALLBACK(on_row_button), win);
        gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
    }
    gtk_widget_show_all(box);
    return box;
}

static void destroy_row(GtkWidget *row, gpointer data)
{
    gtk_widget_destroy(row);
}

static void on_sessions(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(StSessionsWindow) win = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = st_agent_session_call_finish(ST_AGENT(source), result, &error);
    gtk_container_foreach(GTK_CONTAINER(win->sessions_list), destroy_row, NULL);
    if (!reply) {
        g_dbus_error_strip_remote_error(error);
        g_autofree char *why = visible_text(error->message, 300);
        GtkWidget *label = gtk_label_new(why);
        gtk_widget_show(label);
        gtk_list_box_insert(win->sessions_list, label, -1);
        dump_schedule(GTK_WIDGET(win));
        return;
    }
    g_autoptr(GVariantIter) it = NULL;
    g_variant_get(reply, "(a(oiusss))", &it);
    const char *path, *user, *program, *mode;
    gint32 pid;
    guint32 uid;
    guint n = 0;
    while (g_variant_iter_next(it, "(&oiu&s&s&s)", &path, &pid, &uid, &user, &program, &mode)) {
        gtk_list_box_insert(win->sessions_list, session_row(win, path, pid, user, program, mode),
                            -1);
        n++;
    }
    if (!n) {
        GtkWidget *label = gtk_label_new(_("Nothing is supervised."));
        gtk_label_set_xalign(GTK_LABEL(label), 0);
        gtk_widget_show(label);
        gtk_list_box_insert(win->sessions_list, label, -1);
    }
    dump_schedule(GTK_WIDGET(win));
}

static void refresh(StSessionsWindow *win)
{
    st_agent_list_sessions(win->agent, on_sessions, g_object_ref(win));
}

static void on_decision(StAgent *agent, const char *session, const char *kind, const char *line,
                        StSessionsWindow *win)
{
    const char *slash = strrchr(session, '/');
    g_autofree char *shown_kind = visible_text(kind, 16);
    g_autofree char *shown_line = visible_line(line, 300);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *time = g_date_time_format(now, "%H:%M:%S");
    g_queue_push_tail(&win->recent,
                      g_strdup_printf("%s  %s  %s  %s", time, slash ? slash + 1 : session,
                                      shown_kind, shown_line));
    while (win->recent.length > RECENT_MAX)
        g_free(g_queue_pop_head(&win->recent));
    GString *text = g_string_new(NULL);
    for (GList *l = win->recent.head; l; l = l->next)
        g_string_append_printf(text, "%s%s", l == win->recent.head ? "" : "\n",
                               (const char *)l->data);
    gtk_label_set_text(win->decisions_label, text->str);
    g_string_free(text, TRUE);
    dump_schedule(GTK_WIDGET(win));
}

/* Decisions are followed while the window shows. */
static void on_map(GtkWidget *widget, StSessionsWindow *win)
{
    st_agent_set_monitoring(win->agent, TRUE);
    refresh(win);
}

static void on_unmap(GtkWidget *widget, StSessionsWindow *win)
{
    st_agent_set_monitoring(win->agent, FALSE);
}

static void st_sessions_window_dispose(GObject *object)
{
    StSessionsWindow *win = ST_SESSIONS_WINDOW(object);
    if (win->agent)
        g_signal_handlers_disconnect_by_data(win->agent, win);
    g_clear_object(&win->agent);
    g_queue_clear_full(&win->recent, g_free);
    G_OBJECT_CLASS(st_sessions_window_parent_class)->dispose(object);
}

static void st_sessions_window_class_init(StSessionsWindowClass *klass)
{
    GtkWidgetClass *w = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = st_sessions_window_dispose;
    gtk_widget_class_set_template_from_resource(w, "/org/systrace/applet/st-sessions-window.ui");
    gtk_widget_class_bind_template_child(w, StSessionsWindow, sessions_list);
    gtk_widget_class_bind_template_child(w, StSessionsWindow, decisions_label);
    gtk_widget_class_bind_template_callback(w, gtk_widget_hide_on_delete);
}

static void st_sessions_window_init(StSessionsWindow *win)
{
    gtk_widget_init_template(GTK_WIDGET(win));
    g_queue_init(&win->recent);
    gtk_label_set_text(win->decisions_label, _("None yet."));
    dump_attach(GTK_WIDGET(win), "sessions");
}

StSessionsWindow *st_sessions_window_new(GtkApplication *app, StAgent *agent)
{
    StSessionsWindow *win = g_object_new(ST_TYPE_SESSIONS_WINDOW, "application", app, NULL);
    win->agent = g_object_ref(agent);
    g_signal_connect_swapped(agent, "sessions-changed", G_CALLBACK(refresh), win);
    g_signal_connect(agent, "decision", G_CALLBACK(on_decision), win);
    g_signal_connect(win, "map", G_CALLBACK(on_map), win);
    g_signal_connect(win, "unmap", G_CALLBACK(on_unmap), win);
    refresh(win);
    return win;
}
