/* busmsg.h: reading and writing the messages of the interface: a{sv} dictionaries read against
 * a table of keys (type, size bound, where the value goes), appended with one call per entry,
 * and the error names the daemon answers with. Everything a peer sends is checked here before
 * anyone uses it: an unknown key, a wrong type, a duplicate, an oversized string or too many
 * entries is an error naming the key, never a crash. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iface.h"

#define SYSTRACE_BUS_NAME    "org.systrace.Daemon1"
#define SYSTRACE_BUS_PATH    "/org/systrace/Daemon1"
#define SYSTRACE_SESSION_DIR "/org/systrace/Daemon1/session/"

#define ERR_ACCESS_DENIED "org.systrace.Error.AccessDenied"
#define ERR_INVALID_ARGS  "org.freedesktop.DBus.Error.InvalidArgs"
#define ERR_NOT_FOUND     "org.systrace.Error.NotFound"
#define ERR_LIMIT         "org.systrace.Error.LimitReached"
#define ERR_NOT_SUPPORTED "org.systrace.Error.NotSupported"
#define ERR_FAILED        "org.systrace.Error.Failed"
#define ERR_BUSY          "org.systrace.Error.Busy"
#define ERR_MOOT          "org.systrace.Error.Moot"

/* A dictionary has at most this many entries, whatever its keys. */
#define BUSMSG_MAX_ENTRIES 64

enum opt_type {
    OPT_STRING, /* const char * (into the message) */
    OPT_PATH,   /* const char *, an object path */
    OPT_BOOL,   /* bool */
    OPT_U32,    /* uint32_t */
    OPT_STRV,   /* struct opt_strv */
};

struct opt_strv {
    const char **v; /* into the message; the array is the caller's to free */
    size_t n;
};

struct opt_key {
    const char *name;
    enum opt_type type;
    size_t max;    /* strings: bytes; string arrays: entries (each string at most 4096 bytes) */
    size_t offset; /* of the value in the caller's struct */
};

/* Reads the a{sv} at ITER into OUT by KEYS; *RET_SEEN (may be NULL) gets bit i set for each key i
 * present. -EINVAL with *ret_error (caller frees) saying what is wrong. */
int busmsg_read_options(DBusMessageIter *iter, const struct opt_key *keys, size_t n_keys, void *out,
                        uint64_t *ret_seen, char **ret_error);
/* Frees the arrays busmsg_read_options allocated in OUT. */
void busmsg_free_options(const struct opt_key *keys, size_t n_keys, void *out);

/* Appending to an a{sv} opened with busmsg_dict_open. */
void busmsg_dict_open(DBusMessageIter *iter, DBusMessageIter *dict);
void busmsg_dict_close(DBusMessageIter *iter, DBusMessageIter *dict);
void busmsg_add_string(DBusMessageIter *dict, const char *key, const char *value);
void busmsg_add_path(DBusMessageIter *dict, const char *key, const char *value);
void busmsg_add_bool(DBusMessageIter *dict, const char *key, bool value);
void busmsg_add_u32(DBusMessageIter *dict, const char *key, uint32_t value);
void busmsg_add_i32(DBusMessageIter *dict, const char *key, int32_t value);
void busmsg_add_u64(DBusMessageIter *dict, const char *key, uint64_t value);
void busmsg_add_strv(DBusMessageIter *dict, const char *key, const char *const *v, size_t n);
/* Appends one variant holding a basic value (TYPE is a DBUS_TYPE_… code). */
void busmsg_add_variant(DBusMessageIter *iter, int type, const void *value);

/* Makes a string safe to send: valid UTF-8 (invalid bytes become U+FFFD), at most MAX bytes.
 * Caller frees. Strings from traced programs go through it before they reach the bus. */
char *busmsg_utf8(const char *s, size_t max);

/* Whether NAME is in the table of an interface, with that signature. */
const struct iface_member *busmsg_find_method(const struct iface *iface, const char *name);
