/* st-applet.h: the systrace-applet application: one Agent1 for the user, one question window. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define ST_TYPE_APPLET (st_applet_get_type())
G_DECLARE_FINAL_TYPE(StApplet, st_applet, ST, APPLET, GtkApplication)

StApplet *st_applet_new(void);
/* Whether startup failed (no system bus): the exit status is then 1. */
gboolean st_applet_failed(StApplet *app);

G_END_DECLS
