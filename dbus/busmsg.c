/* busmsg.c: a{sv} in and out, checked against tables. */
#include "busmsg.h"

#include <string.h>

#include "util.h"

#define MAX_STRV_ITEM 4096

static const int opt_dbus_type[] = {
    [OPT_STRING] = DBUS_TYPE_STRING, [OPT_PATH] = DBUS_TYPE_OBJECT_PATH,
    [OPT_BOOL] = DBUS_TYPE_BOOLEAN,  [OPT_U32] = DBUS_TYPE_UINT32,
    [OPT_STRV] = DBUS_TYPE_ARRAY,
};

static const char *const opt_type_name[] = {
    [OPT_STRING] = "s", [OPT_PATH] = "o", [OPT_BOOL] = "b", [OPT_U32] = "u", [OPT_STRV] = "as",
};

static int fail(char **ret_error, const char *key, const char *what)
{
    *ret_error = key ? xasprintf("option \"%s\": %s", key, what) : xstrdup(what);
    return -EINVAL;
}

/* Reads the variant at V into the slot of K. */
static int read_value(DBusMessageIter *v, const struct opt_key *k, void *out, char **ret_error)
{
    char *slot = (char *)out + k->offset;
    int type = dbus_message_iter_get_arg_type(v);
    if (type != opt_dbus_type[k->type] ||
        (k->type == OPT_STRV && dbus_message_iter_get_element_type(v) != DBUS_TYPE_STRING)) {
        _cleanup_free_ char *what = xasprintf("must be of type %s", opt_type_name[k->type]);
        return fail(ret_error, k->name, what);
    }
    switch (k->type) {
    case OPT_STRING:
    case OPT_PATH: {
        const char *s;
        dbus_message_iter_get_basic(v, &s);
        if (strlen(s) > k->max)
            return fail(ret_error, k->name, "too long");
        memcpy(slot, &s, sizeof(s));
        return 0;
    }
    case OPT_BOOL: {
        dbus_bool_t b;
        dbus_message_iter_get_basic(v, &b);
        *(bool *)slot = b != 0;
        return 0;
    }
    case OPT_U32: {
        dbus_uint32_t u;
        dbus_message_iter_get_basic(v, &u);
        memcpy(slot, &u, sizeof(u));
        return 0;
    }
    case OPT_STRV: {
        DBusMessageIter a;
        dbus_message_iter_recurse(v, &a);
        struct opt_strv sv = {0};
        while (dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING) {
            const char *s;
            dbus_message_iter_get_basic(&a, &s);
            if (sv.n == k->max || strlen(s) > MAX_STRV_ITEM) {
                free(sv.v);
                return fail(ret_error, k->name, sv.n == k->max ? "too many strings" : "too long");
            }
            sv.v = xreallocarray(sv.v, sv.n + 1, sizeof(*sv.v));
            sv.v[sv.n++] = s;
            dbus_message_iter_next(&a);
        }
        memcpy(slot, &sv, sizeof(sv));
        return 0;
    }
    }
    return fail(ret_error, k->name, "unknown type");
}

int busmsg_read_options(DBusMessageIter *iter, const struct opt_key *keys, size_t n_keys, void *out,
                        uint64_t *ret_seen, char **ret_error)
{
    if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_ARRAY ||
        dbus_message_iter_get_element_type(iter) != DBUS_TYPE_DICT_ENTRY)
        return fail(ret_error, NULL, "options must be a{sv}");
    DBusMessageIter dict;
    dbus_message_iter_recurse(iter, &dict);
    /* Counted first: a flood is refused as one, whatever its first entries say. */
    size_t count = 0;
    for (DBusMessageIter c = dict; dbus_message_iter_get_arg_type(&c) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&c))
        if (++count > BUSMSG_MAX_ENTRIES)
            return fail(ret_error, NULL, "too many options");
    uint64_t seen = 0;
    int r = 0;
    for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&dict)) {
        DBusMessageIter e, v;
        dbus_message_iter_recurse(&dict, &e);
        if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING) {
            r = fail(ret_error, NULL, "option names must be strings");
            break;
        }
        const char *name;
        dbus_message_iter_get_basic(&e, &name);
        dbus_message_iter_next(&e);
        if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_VARIANT) {
            r = fail(ret_error, NULL, "option values must be variants");
            break;
        }
        dbus_message_iter_recurse(&e, &v);
        size_t i = 0;
        while (i < n_keys && !streq(keys[i].name, name))
            i++;
        if (i == n_keys) {
            _cleanup_free_ char *what = busmsg_utf8(name, 64);
            *ret_error = xasprintf("unknown option \"%s\"", what);
            r = -EINVAL;
            break;
        }
        if (seen & (UINT64_C(1) << i)) {
            r = fail(ret_error, name, "given twice");
            break;
        }
        r = read_value(&v, &keys[i], out, ret_error);
        if (r < 0)
            break;
        seen |= UINT64_C(1) << i;
    }
    if (r < 0) {
        /* Free what was read so far. */
        for (size_t i = 0; i < n_keys; i++)
            if ((seen & (UINT64_C(1) << i)) && keys[i].type == OPT_STRV) {
                struct opt_strv *sv = (void *)((char *)out + keys[i].offset);
                free(sv->v);
                *sv = (struct opt_strv){0};
            }
        return r;
    }
    if (ret_seen)
        *ret_seen = seen;
    return 0;
}

void busmsg_free_options(const struct opt_key *keys, size_t n_keys, void *out)
{
    for (size_t i = 0; i < n_keys; i++)
        if (keys[i].type == OPT_STRV) {
            struct opt_strv *sv = (void *)((char *)out + keys[i].offset);
            free(sv->v);
            *sv = (struct opt_strv){0};
        }
}

void busmsg_dict_open(DBusMessageIter *iter, DBusMessageIter *dict)
{
    dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", dict);
}

void busmsg_dict_close(DBusMessageIter *iter, DBusMessageIter *dict)
{
    dbus_message_iter_close_container(iter, dict);
}

void busmsg_add_variant(DBusMessageIter *iter, int type, const void *value)
{
    char sig[2] = {(char)type, 0};
    DBusMessageIter v;
    dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, sig, &v);
    dbus_message_iter_append_basic(&v, type, value);
    dbus_message_iter_close_container(iter, &v);
}

static void add_basic(DBusMessageIter *dict, const char *key, int type, const void *value)
{
    DBusMessageIter e;
    dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
    busmsg_add_variant(&e, type, value);
    dbus_message_iter_close_container(dict, &e);
}

void busmsg_add_string(DBusMessageIter *dict, const char *key, const char *value)
{
    _cleanup_free_ char *s = busmsg_utf8(value ? value : "", SIZE_MAX);
    add_basic(dict, key, DBUS_TYPE_STRING, &s);
}

void busmsg_add_path(DBusMessageIter *dict, const char *key, const char *value)
{
    add_basic(dict, key, DBUS_TYPE_OBJECT_PATH, &value);
}

void busmsg_add_bool(DBusMessageIter *dict, const char *key, bool value)
{
    dbus_bool_t b = value;
    add_basic(dict, key, DBUS_TYPE_BOOLEAN, &b);
}

void busmsg_add_u32(DBusMessageIter *dict, const char *key, uint32_t value)
{
    add_basic(dict, key, DBUS_TYPE_UINT32, &value);
}

void busmsg_add_i32(DBusMessageIter *dict, const char *key, int32_t value)
{
    add_basic(dict, key, DBUS_TYPE_INT32, &value);
}

void busmsg_add_u64(DBusMessageIter *dict, const char *key, uint64_t value)
{
    add_basic(dict, key, DBUS_TYPE_UINT64, &value);
}

void busmsg_add_strv(DBusMessageIter *dict, const char *key, const char *const *v, size_t n)
{
    DBusMessageIter e, var, a;
    dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
    dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "as", &var);
    dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "s", &a);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *s = busmsg_utf8(v[i], SIZE_MAX);
        dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &s);
    }
    dbus_message_iter_close_container(&var, &a);
    dbus_message_iter_close_container(&e, &var);
    dbus_message_iter_close_container(dict, &e);
}

char *busmsg_utf8(const char *s, size_t max)
{
    struct buf b = {0};
    buf_puts(&b, "");
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence((const unsigned char *)s + i, n - i);
        const char *piece = s + i;
        if (len == 0) {
            piece = "\xef\xbf\xbd";
            len = 3;
            i++;
        } else {
            i += len;
        }
        if (b.len + len > max)
            break;
        buf_append(&b, piece, len);
    }
    return buf_steal(&b);
}

const struct iface_member *busmsg_find_method(const struct iface *iface, const char *name)
{
    for (size_t i = 0; i < iface->n_methods; i++)
        if (streq(iface->methods[i].name, name))
            return &iface->methods[i];
    return NULL;
}
