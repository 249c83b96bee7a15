/* app-info.c: desktop files by the program they run. The table is built once from every
 * installed desktop file and built again when GAppInfoMonitor says they changed. */
#include "app-info.h"

#include <stdlib.h>

static GHashTable *by_program; /* resolved path -> GAppInfo */
static gboolean stale = TRUE;

static void on_changed(GAppInfoMonitor *monitor, gpointer data)
{
    stale = TRUE;
}

/* The absolute, resolved path EXECUTABLE names (searched in PATH when it has no slash). */
static char *resolved(const char *executable)
{
    g_autofree char *found =
        g_path_is_absolute(executable) ? g_strdup(executable) : g_find_program_in_path(executable);
    if (!found)
        return NULL;
    char *real = realpath(found, NULL);
    char *out = g_strdup(real);
    free(real);
    return out;
}

static void rebuild(void)
{
    static GAppInfoMonitor *monitor;
    if (!monitor) {
        monitor = g_app_info_monitor_get();
        g_signal_connect(monitor, "changed", G_CALLBACK(on_changed), NULL);
    }
    if (by_program)
        g_hash_table_unref(by_program);
    by_program = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    GList *all = g_app_info_get_all();
    for (GList *l = all; l; l = l->next) {
        const char *executable = g_app_info_get_executable(l->data);
        char *path = executable && *executable ? resolved(executable) : NULL;
        /* The first one found for a program wins (the user's own come first). */
        if (path && !g_hash_table_contains(by_program, path))
            g_hash_table_insert(by_program, path, g_object_ref(l->data));
        else
            g_free(path);
    }
    g_list_free_full(all, g_object_unref);
    stale = FALSE;
}

GAppInfo *app_info_for_program(const char *program)
{
    if (stale)
        rebuild();
    return program ? g_hash_table_lookup(by_program, program) : NULL;
}
