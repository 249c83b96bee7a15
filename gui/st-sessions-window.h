/* st-sessions-window.h: the user's supervised sessions (Detach, Kill) and the recent decisions:
 * what the applet shows besides questions. */
#pragma once

#include <gtk/gtk.h>

#include "st-agent.h"

G_BEGIN_DECLS

#define ST_TYPE_SESSIONS_WINDOW (st_sessions_window_get_type())
G_DECLARE_FINAL_TYPE(StSessionsWindow, st_sessions_window, ST, SESSIONS_WINDOW,
                     GtkApplicationWindow)

StSessionsWindow *st_sessions_window_new(GtkApplication *app, StAgent *agent);

G_END_DECLS
