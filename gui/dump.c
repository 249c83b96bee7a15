/* dump.c: the window as text, "KIND NAME FIELDS…" a line, replaced atomically:
 *   window visible|hidden
 *   label NAME TEXT          (TEXT as UTF-8, with "\\" for a backslash and "\xHH" for a byte
 *                             below 0x20: one line)
 *   entry NAME X Y WIDTH HEIGHT TEXT
 *   button NAME X Y WIDTH HEIGHT sensitive|insensitive LABEL   (root coordinates; LABEL as
 *                             TEXT, with its mnemonic underscore)
 *   dialog               (then the widgets of a visible dialog of the window)
 * NAME is the widget's id in the .ui file, "-" for those without one. */
#include "dump.h"

#include <errno.h>
#include <glib/gstdio.h>

static const char *dump_path(void)
{
    const char *p = g_getenv("SYSTRACE_APPLET_DUMP");
    return p && *p ? p : NULL;
}

static const char *name_of(GtkWidget *w)
{
    const char *name = gtk_buildable_get_name(GTK_BUILDABLE(w));
    return name && *name && !g_str_has_prefix(name, "___") ? name : "-";
}

/* TEXT on one line, every other byte as it is. */
static void append_line(GString *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\\')
            g_string_append(out, "\\\\");
        else if (*p < 0x20)
            g_string_append_printf(out, "\\x%02x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '\n');
}

/* "X Y WIDTH HEIGHT" of W on the screen. */
static void append_place(GString *out, GtkWidget *w)
{
    GtkWidget *top = gtk_widget_get_toplevel(w);
    GdkWindow *gw = gtk_widget_get_window(top);
    int ox = 0, oy = 0, x = 0, y = 0;
    if (gw)
        gdk_window_get_origin(gw, &ox, &oy);
    gtk_widget_translate_coordinates(w, top, 0, 0, &x, &y);
    GtkAllocation a;
    gtk_widget_get_allocation(w, &a);
    g_string_append_printf(out, "%d %d %d %d", ox + x, oy + y, a.width, a.height);
}

static void write_widget(GtkWidget *w, gpointer data)
{
    GString *out = data;
    if (!gtk_widget_get_visible(w))
        return;
    if (GTK_IS_LABEL(w)) {
        g_string_append_printf(out, "label %s ", name_of(w));
        append_line(out, gtk_label_get_text(GTK_LABEL(w)));
    } else if (GTK_IS_ENTRY(w)) {
        g_string_append_printf(out, "entry %s ", name_of(w));
        append_place(out, w);
        g_string_append_c(out, ' ');
        append_line(out, gtk_entry_get_text(GTK_ENTRY(w)));
    } else if (GTK_IS_BUTTON(w)) {
        g_string_append_printf(out, "button %s ", name_of(w));
        append_place(out, w);
        g_string_append_printf(out, " %s ",
                               gtk_widget_is_sensitive(w) ? "sensitive" : "insensitive");
        const char *label = gtk_button_get_label(GTK_BUTTON(w));
        append_line(out, label ? label : "");
        return; /* its label is the button's own */
    }
    if (GTK_IS_CONTAINER(w))
        gtk_container_forall(GTK_CONTAINER(w), write_widget, out);
}

static gboolean write_dump(gpointer data)
{
    GtkWidget *window = data;
    g_object_set_data(G_OBJECT(window), "dump-idle", NULL);
    GString *out = g_string_new(NULL);
    gboolean visible = gtk_widget_get_mapped(window);
    g_string_append_printf(out, "window %s\n", visible ? "visible" : "hidden");
    if (visible)
        gtk_container_forall(GTK_CONTAINER(window), write_widget, out);
    g_autoptr(GList) toplevels = gtk_window_list_toplevels();
    for (GList *l = toplevels; l; l = l->next)
        if (gtk_window_get_transient_for(l->data) == GTK_WINDOW(window) &&
            gtk_widget_get_mapped(l->data)) {
            g_string_append(out, "dialog\n");
            gtk_container_forall(GTK_CONTAINER(l->data), write_widget, out);
        }
    const char *suffix = g_object_get_data(G_OBJECT(window), "dump-suffix");
    g_autofree char *path =
        suffix ? g_strconcat(dump_path(), ".", suffix, NULL) : g_strdup(dump_path());
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(tmp, out->str, (gssize)out->len, &error) || g_rename(tmp, path) < 0)
        g_warning("SYSTRACE_APPLET_DUMP: %s", error ? error->message : g_strerror(errno));
    g_string_free(out, TRUE);
    g_object_unref(window);
    return G_SOURCE_REMOVE;
}

void dump_schedule(GtkWidget *window)
{
    /* A dialog is dumped with the window it belongs to. */
    while (GTK_IS_WINDOW(window) && gtk_window_get_transient_for(GTK_WINDOW(window)))
        window = GTK_WIDGET(gtk_window_get_transient_for(GTK_WINDOW(window)));
    if (!dump_path() || g_object_get_data(G_OBJECT(window), "dump-idle"))
        return;
    g_object_set_data(G_OBJECT(window), "dump-idle", GINT_TO_POINTER(1));
    /* After GTK's own idle work (layout, drawing), so that places are final. */
    g_idle_add_full(G_PRIORITY_LOW, write_dump, g_object_ref(window), NULL);
}

static gboolean on_event(GtkWidget *window, GdkEvent *event, gpointer data)
{
    dump_schedule(window);
    return GDK_EVENT_PROPAGATE;
}

static void on_allocate(GtkWidget *window, GdkRectangle *a, gpointer data)
{
    dump_schedule(window);
}

void dump_attach(GtkWidget *window, const char *suffix)
{
    if (!dump_path())
        return;
    if (suffix)
        g_object_set_data_full(G_OBJECT(window), "dump-suffix", g_strdup(suffix), g_free);
    g_signal_connect(window, "map-event", G_CALLBACK(on_event), NULL);
    g_signal_connect(window, "unmap-event", G_CALLBACK(on_event), NULL);
    g_signal_connect(window, "configure-event", G_CALLBACK(on_event), NULL);
    g_signal_connect_after(window, "size-allocate", G_CALLBACK(on_allocate), NULL);
}
