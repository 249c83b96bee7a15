/* st-status-icon.c: GtkStatusIcon, deprecated by GTK but still the only tray icon GTK 3 has
 * (the StatusNotifier protocol needs a library Debian's GTK 3 stack does not ship). */
#include "st-status-icon.h"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>

static void on_activate(GtkStatusIcon *icon, gpointer data)
{
    GActionGroup *group = g_object_get_data(G_OBJECT(icon), "group");
    const char *action = g_object_get_data(G_OBJECT(icon), "action");
    g_action_group_activate_action(group, action, NULL);
}

GObject *st_status_icon_new(GActionGroup *group, const char *action)
{
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    GtkIconTheme *theme = gtk_icon_theme_get_default();
    GtkStatusIcon *icon = gtk_status_icon_new_from_icon_name(
        gtk_icon_theme_has_icon(theme, "systrace-applet") ? "systrace-applet" : "dialog-question");
    gtk_status_icon_set_tooltip_text(icon, _("systrace: supervised programs"));
    gtk_status_icon_set_title(icon, _("systrace"));
    G_GNUC_END_IGNORE_DEPRECATIONS
    g_object_set_data_full(G_OBJECT(icon), "group", g_object_ref(group), g_object_unref);
    g_object_set_data_full(G_OBJECT(icon), "action", g_strdup(action), g_free);
    g_signal_connect(icon, "activate", G_CALLBACK(on_activate), NULL);
    return G_OBJECT(icon);
}
