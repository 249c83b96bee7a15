/* busloop.h: runs a libdbus-1 connection from a host's event loop (common/loop.h): its watches
 * become loop watches, its timeouts loop timers, and queued messages are dispatched from the
 * loop's thread, never from inside libdbus's own callbacks. */
#pragma once

#include <dbus/dbus.h>

#include "loop.h"

struct busloop;

/* Attaches CONN to LOOP; the connection must not be dispatched elsewhere afterwards. */
int busloop_attach(DBusConnection *conn, struct loop *loop, struct busloop **ret);
/* Detaches (before the connection is closed or unreferenced). */
void busloop_detach(struct busloop *bl);
