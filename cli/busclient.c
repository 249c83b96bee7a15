/* busclient.c: calls to systraced. */
#include "busclient.h"

#include <string.h>

#include "util.h"

int busclient_connect(DBusConnection **ret, char **ret_error)
{
    DBusError err;
    dbus_error_init(&err);
    DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
    if (!c) {
        *ret_error = xasprintf("cannot connect to the system bus: %s", err.message);
        dbus_error_free(&err);
        return -ECONNREFUSED;
    }
    dbus_connection_set_exit_on_disconnect(c, FALSE);
    *ret = c;
    return 0;
}

DBusMessage *busclient_method(const char *path, const char *iface, const char *method)
{
    return dbus_message_new_method_call(SYSTRACE_BUS_NAME, path ? path : SYSTRACE_BUS_PATH, iface,
                                        method);
}

static const struct {
    const char *name;
    int err;
} error_map[] = {
    {"org.freedesktop.DBus.Error.ServiceUnknown", -ENOENT},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", -ENOENT},
    {"org.freedesktop.DBus.Error.AccessDenied", -EACCES},
    {ERR_ACCESS_DENIED, -EACCES},
    {ERR_LIMIT, -EBUSY},
    {ERR_NOT_FOUND, -ESRCH},
    {ERR_INVALID_ARGS, -EINVAL},
    {ERR_MOOT, -ESTALE},
    {ERR_BUSY, -EALREADY},
    {ERR_NOT_SUPPORTED, -EOPNOTSUPP},
    {"org.freedesktop.DBus.Error.NoReply", -ETIMEDOUT},
};

int busclient_call(DBusConnection *conn, DBusMessage *call, int timeout_ms, DBusMessage **ret_reply,
                   char **ret_error)
{
    DBusError err;
    dbus_error_init(&err);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, call, timeout_ms, &err);
    dbus_message_unref(call);
    if (reply) {
        *ret_reply = reply;
        return 0;
    }
    int r = -EIO;
    for (size_t i = 0; i < ARRAY_SIZE(error_map); i++)
        if (streq(err.name, error_map[i].name))
            r = error_map[i].err;
    *ret_error = r == -ENOENT ? xstrdup("systraced is not running") : xstrdup(err.message);
    dbus_error_free(&err);
    return r;
}

char *busclient_daemon_owner(DBusConnection *conn)
{
    DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                  DBUS_INTERFACE_DBUS, "GetNameOwner");
    const char *name = SYSTRACE_BUS_NAME;
    dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, m, -1, NULL);
    dbus_message_unref(m);
    const char *owner = NULL;
    char *ret = NULL;
    if (reply && dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID))
        ret = xstrdup(owner);
    if (reply)
        dbus_message_unref(reply);
    return ret;
}

bool busclient_dict_get(DBusMessageIter *dict_iter, const char *key, DBusMessageIter *ret_variant)
{
    if (dbus_message_iter_get_arg_type(dict_iter) != DBUS_TYPE_ARRAY)
        return false;
    DBusMessageIter d;
    dbus_message_iter_recurse(dict_iter, &d);
    for (; dbus_message_iter_get_arg_type(&d) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&d)) {
        DBusMessageIter e;
        dbus_message_iter_recurse(&d, &e);
        if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
            continue;
        const char *k;
        dbus_message_iter_get_basic(&e, &k);
        if (!streq(k, key))
            continue;
        dbus_message_iter_next(&e);
        if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_VARIANT)
            return false;
        dbus_message_iter_recurse(&e, ret_variant);
        return true;
    }
    return false;
}

const char *busclient_dict_string(DBusMessageIter *dict_iter, const char *key, const char *def)
{
    DBusMessageIter v;
    if (!busclient_dict_get(dict_iter, key, &v))
        return def;
    int t = dbus_message_iter_get_arg_type(&v);
    if (t != DBUS_TYPE_STRING && t != DBUS_TYPE_OBJECT_PATH)
        return def;
    const char *s;
    dbus_message_iter_get_basic(&v, &s);
    return s;
}

uint64_t busclient_dict_uint(DBusMessageIter *dict_iter, const char *key, uint64_t def)
{
    DBusMessageIter v;
    if (!busclient_dict_get(dict_iter, key, &v))
        return def;
    switch (dbus_message_iter_get_arg_type(&v)) {
    case DBUS_TYPE_UINT32: {
        dbus_uint32_t u;
        dbus_message_iter_get_basic(&v, &u);
        return u;
    }
    case DBUS_TYPE_INT32: {
        dbus_int32_t i;
        dbus_message_iter_get_basic(&v, &i);
        return (uint64_t)(int64_t)i;
    }
    case DBUS_TYPE_UINT64: {
        dbus_uint64_t u;
        dbus_message_iter_get_basic(&v, &u);
        return u;
    }
    case DBUS_TYPE_BOOLEAN: {
        dbus_bool_t b;
        dbus_message_iter_get_basic(&v, &b);
        return b != 0;
    }
    }
    return def;
}
