/* busclient.h: the client side of the daemon's interface, for systracectl and systrace: a
 * connection to the system bus (DBUS_SYSTEM_BUS_ADDRESS in tests), blocking calls with their
 * errors turned into one line of text, and reading the daemon's replies. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

#include "busmsg.h"

/* A private connection; -errno with *ret_error saying why (caller frees). */
int busclient_connect(DBusConnection **ret, char **ret_error);
/* A call to the daemon's object PATH (NULL: the daemon's root) on IFACE. */
DBusMessage *busclient_method(const char *path, const char *iface, const char *method);
/* Sends CALL (consumed) and waits for the reply (TIMEOUT_MS, -1 for libdbus's default). 0 and
 * *ret_reply, or -errno and *ret_error "the daemon's message" (-ENOENT when no daemon owns the
 * name, -EACCES when access was denied, -EBUSY at a limit). */
int busclient_call(DBusConnection *conn, DBusMessage *call, int timeout_ms, DBusMessage **ret_reply,
                   char **ret_error);
/* The unique name of the daemon, for checking who sends us Ask and signals; NULL if none. */
char *busclient_daemon_owner(DBusConnection *conn);

/* The a{sv} at ITER, as a lookup: the variant of KEY, or false. */
bool busclient_dict_get(DBusMessageIter *dict_iter, const char *key, DBusMessageIter *ret_variant);
/* Convenience readers on a dictionary; a missing key or another type gives DEF. */
const char *busclient_dict_string(DBusMessageIter *dict_iter, const char *key, const char *def);
uint64_t busclient_dict_uint(DBusMessageIter *dict_iter, const char *key, uint64_t def);
