/* handover.c: Supervise, then watching the daemon from the launcher's loop. */
#include "handover.h"

#include <stdio.h>
#include <string.h>

#include "busclient.h"
#include "busloop.h"
#include "notify.h"
#include "termagent.h"
#include "util.h"

#define SUPERVISE_TIMEOUT_MS 15000
#define AGENT_PATH           "/org/systrace/launcher/agent"
/* Pruning the held table of answered calls starts at this size (the daemon has no "answered"
 * signal for the launcher: the kernel's ID_VALID says which are still pending). */
#define HELD_PRUNE_AT 64

struct handover {
    struct handover_options o;
    DBusConnection *conn;
    struct busloop *bl;
    char *daemon; /* the daemon's unique name: only its signals count */
    char session[64];
    struct termagent *agent;
    struct seccomp_notif *held;
    size_t n_held, cap_held;
    bool gone;
};

static void add_options(DBusMessageIter *it, const struct handover_options *o)
{
    DBusMessageIter dict;
    busmsg_dict_open(it, &dict);
    busmsg_add_string(&dict, "mode", sup_mode_name(o->mode));
    busmsg_add_string(&dict, "program", o->program);
    size_t argc = 0;
    while (o->argv[argc])
        argc++;
    busmsg_add_strv(&dict, "argv", (const char *const *)o->argv, argc);
    if (o->policy_dir)
        busmsg_add_string(&dict, "policy-dir", o->policy_dir);
    if (o->n_files)
        busmsg_add_strv(&dict, "policy-files", o->files, o->n_files);
    busmsg_add_bool(&dict, "no-user-policies", o->no_user);
    busmsg_add_bool(&dict, "inherit", o->inherit);
    busmsg_add_bool(&dict, "no-aliases", o->no_alias);
    busmsg_dict_close(it, &dict);
}

static void went_away(struct handover *h)
{
    if (h->gone)
        return;
    h->gone = true;
    h->o.gone(h->o.data);
}

/* Keeps N, dropping the calls the kernel no longer has pending once the table grows. */
static void hold(struct handover *h, const struct seccomp_notif *n)
{
    if (h->n_held >= HELD_PRUNE_AT) {
        size_t kept = 0;
        for (size_t i = 0; i < h->n_held; i++)
            if (notify_id_valid(h->o.listener, h->held[i].id))
                h->held[kept++] = h->held[i];
        h->n_held = kept;
    }
    if (h->n_held == h->cap_held) {
        h->cap_held = h->cap_held ? 2 * h->cap_held : 16;
        h->held = xreallocarray(h->held, h->cap_held, sizeof(*h->held));
    }
    h->held[h->n_held++] = *n;
}

static DBusHandlerResult on_signal(DBusConnection *conn, DBusMessage *msg, void *data)
{
    (void)conn;
    struct handover *h = data;
    if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL)
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
        went_away(h);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
        const char *name, *old, *new;
        if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old,
                                  DBUS_TYPE_STRING, &new, DBUS_TYPE_INVALID) &&
            streq(name, SYSTRACE_BUS_NAME) && streq(old, h->daemon))
            went_away(h); /* a new daemon does not know the session */
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    }
    const char *sender = dbus_message_get_sender(msg);
    if (!sender || !streq(sender, h->daemon) ||
        !dbus_message_is_signal(msg, IFACE_SESSION1, SESSION1_SIGNAL_HELD) ||
        !dbus_message_has_path(msg, h->session))
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    dbus_uint64_t id;
    const unsigned char *bytes;
    int len = 0;
    if (dbus_message_get_args(msg, NULL, DBUS_TYPE_UINT64, &id, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE,
                              &bytes, &len, DBUS_TYPE_INVALID) &&
        len == (int)sizeof(struct seccomp_notif)) {
        struct seccomp_notif n;
        memcpy(&n, bytes, sizeof(n));
        if (n.id == id)
            hold(h, &n);
    }
    return DBUS_HANDLER_RESULT_HANDLED;
}

static int register_agent(struct handover *h, char **ret_error)
{
    struct termagent_options to = {
        .conn = h->conn,
        .loop = h->o.loop,
        .in_fd = h->o.agent_fd,
        .out_fd = h->o.agent_fd,
        .path = AGENT_PATH,
        .daemon = h->daemon,
        .session = h->session,
    };
    if (termagent_new(&to, &h->agent) < 0) {
        *ret_error = xstrdup("cannot set up the terminal agent");
        return -ENOMEM;
    }
    DBusMessage *m = busclient_method(NULL, IFACE_DAEMON1, DAEMON1_METHOD_REGISTERAGENT);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    const char *path = AGENT_PATH;
    dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &path);
    busmsg_dict_open(&it, &dict);
    busmsg_add_path(&dict, "session", h->session);
    busmsg_add_bool(&dict, "fallback", h->o.agent_fallback);
    busmsg_dict_close(&it, &dict);
    DBusMessage *reply;
    int r = busclient_call(h->conn, m, SUPERVISE_TIMEOUT_MS, &reply, ret_error);
    if (r < 0)
        return r;
    dbus_message_unref(reply);
    return 0;
}

int handover_start(const struct handover_options *o, struct handover **ret, unsigned *ret_id,
                   char **ret_error)
{
    struct handover *h = xcalloc(1, sizeof(*h));
    h->o = *o;
    *ret_error = NULL;
    int r = busclient_connect(&h->conn, ret_error);
    if (r < 0)
        goto fail;
    /* Watching starts before the call: a daemon that dies while it takes the session is seen. */
    dbus_connection_add_filter(h->conn, on_signal, h, NULL);
    h->daemon = busclient_daemon_owner(h->conn);
    if (!h->daemon) {
        *ret_error = xstrdup("systraced is not running");
        r = -ENOENT;
        goto fail;
    }
    dbus_bus_add_match(h->conn,
                       "type='signal',sender='" DBUS_SERVICE_DBUS
                       "',member='NameOwnerChanged',arg0='" SYSTRACE_BUS_NAME "'",
                       NULL);
    DBusMessage *m = dbus_message_new_method_call(h->daemon, SYSTRACE_BUS_PATH, IFACE_DAEMON1,
                                                  DAEMON1_METHOD_SUPERVISE);
    DBusMessageIter it;
    dbus_message_iter_init_append(m, &it);
    dbus_message_iter_append_basic(&it, DBUS_TYPE_UNIX_FD, &o->listener); /* libdbus dups it */
    dbus_message_iter_append_basic(&it, DBUS_TYPE_UNIX_FD, &o->pidfd);
    add_options(&it, o);
    DBusMessage *reply;
    r = busclient_call(h->conn, m, SUPERVISE_TIMEOUT_MS, &reply, ret_error);
    if (r < 0)
        goto fail;
    const char *path = NULL;
    if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID) ||
        strncmp(path, SYSTRACE_SESSION_DIR, strlen(SYSTRACE_SESSION_DIR)) != 0 ||
        strlen(path) >= sizeof(h->session)) {
        dbus_message_unref(reply);
        *ret_error = xstrdup("the daemon's reply makes no sense");
        r = -EPROTO;
        goto fail;
    }
    snprintf(h->session, sizeof(h->session), "%s", path);
    dbus_message_unref(reply);
    *ret_id = (unsigned)strtoul(h->session + strlen(SYSTRACE_SESSION_DIR), NULL, 10);
    if (o->agent_fd >= 0) {
        r = register_agent(h, ret_error);
        if (r < 0) {
            /* The session is the daemon's already: it asks whoever else is attached. */
            char *why = *ret_error;
            *ret_error = xasprintf("questions cannot be answered here: %s", why);
            free(why);
            termagent_free(h->agent);
            h->agent = NULL;
        }
    }
    busloop_attach(h->conn, o->loop, &h->bl);
    *ret = h;
    return 0;

fail:
    handover_free(h);
    return r;
}

size_t handover_held(struct handover *h, const struct seccomp_notif **ret)
{
    *ret = h->held;
    return h->n_held;
}

void handover_free(struct handover *h)
{
    if (!h)
        return;
    if (h->bl)
        busloop_detach(h->bl);
    termagent_free(h->agent);
    if (h->conn) {
        dbus_connection_remove_filter(h->conn, on_signal, h);
        dbus_connection_close(h->conn);
        dbus_connection_unref(h->conn);
    }
    free(h->held);
    free(h->daemon);
    free(h);
}
