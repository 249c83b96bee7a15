/* dump.h: a text picture of a window for tests, written only when $SYSTRACE_APPLET_DUMP names a
 * file: each label's text exactly as shown, each button's place on the screen and whether it
 * takes input. Tests read what the person sees from it, and click where the buttons are. */
#pragma once

#include <gtk/gtk.h>

/* Rewrites the dump whenever WINDOW (or a dialog of it) is mapped, moved, resized or hidden;
 * into $SYSTRACE_APPLET_DUMP, or with SUFFIX (not NULL) into $SYSTRACE_APPLET_DUMP.SUFFIX. A
 * dialog is dumped with the window it is transient for: its SUFFIX is not used. */
void dump_attach(GtkWidget *window, const char *suffix);
/* Rewrites the dump once the main loop is idle (several changes, one write). */
void dump_schedule(GtkWidget *window);
