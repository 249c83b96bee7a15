/* st-status-icon.h: the applet's icon in a system tray, where the desktop has one (XEmbed
 * trays: Xfce, MATE, LXDE, KDE's compatibility); a click opens the sessions window. Where no
 * tray exists, `systrace-applet --sessions` opens that window. */
#pragma once

#include <gio/gio.h>

/* An icon that activates ACTION of GROUP when clicked. Caller unrefs. */
GObject *st_status_icon_new(GActionGroup *group, const char *action);
