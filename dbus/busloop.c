/* busloop.c: libdbus's main-loop hooks on struct loop.
 *
 * libdbus gives a connection's fd twice (a read watch and a write watch); epoll takes an fd only
 * once, so each watch gets a duplicate of the fd of its own. The watch and timeout callbacks run
 * with the connection's lock held: they only change what the loop watches and
 * post the dispatching as a job. An idle connection has no timeout and so no timer: nothing wakes
 * the loop until a message arrives. */
#include "busloop.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include "util.h"

struct busloop {
    DBusConnection *conn;
    struct loop *loop;
    bool dispatch_posted;
    bool detached;
};

struct watch_data {
    struct busloop *bl;
    DBusWatch *watch;
    int fd; /* our duplicate */
    struct loop_watch *lw;
};

struct timeout_data {
    struct busloop *bl;
    DBusTimeout *timeout;
    struct loop_timer *timer;
};

static void dispatch_job(void *data)
{
    struct busloop *bl = data;
    bl->dispatch_posted = false;
    if (bl->detached) {
        free(bl);
        return;
    }
    /* A handler may queue more; dispatch until nothing remains, as libdbus asks. */
    dbus_connection_ref(bl->conn);
    while (dbus_connection_dispatch(bl->conn) == DBUS_DISPATCH_DATA_REMAINS)
        ;
    dbus_connection_unref(bl->conn);
}

static void post_dispatch(struct busloop *bl)
{
    if (bl->dispatch_posted || bl->detached)
        return;
    bl->dispatch_posted = true;
    loop_post(bl->loop, dispatch_job, bl);
}

static void on_fd(void *data, uint32_t events)
{
    struct watch_data *wd = data;
    unsigned flags = 0;
    if (events & EPOLLIN)
        flags |= DBUS_WATCH_READABLE;
    if (events & EPOLLOUT)
        flags |= DBUS_WATCH_WRITABLE;
    if (events & EPOLLHUP)
        flags |= DBUS_WATCH_HANGUP;
    if (events & EPOLLERR)
        flags |= DBUS_WATCH_ERROR;
    struct busloop *bl = wd->bl;
    dbus_watch_handle(wd->watch, flags);
    /* WD may be gone now (libdbus removes watches from inside dbus_watch_handle). */
    if (dbus_connection_get_dispatch_status(bl->conn) == DBUS_DISPATCH_DATA_REMAINS)
        post_dispatch(bl);
}

static void watch_stop(struct watch_data *wd)
{
    if (wd->lw)
        loop_unwatch(wd->bl->loop, wd->lw);
    wd->lw = NULL;
}

static void watch_sync(struct watch_data *wd)
{
    watch_stop(wd);
    if (!dbus_watch_get_enabled(wd->watch))
        return;
    unsigned flags = dbus_watch_get_flags(wd->watch);
    uint32_t events = 0;
    if (flags & DBUS_WATCH_READABLE)
        events |= EPOLLIN;
    if (flags & DBUS_WATCH_WRITABLE)
        events |= EPOLLOUT;
    loop_watch_fd(wd->bl->loop, wd->fd, events, on_fd, wd, &wd->lw);
}

static void watch_free(void *data)
{
    struct watch_data *wd = data;
    watch_stop(wd);
    if (wd->fd >= 0)
        close(wd->fd);
    free(wd);
}

static dbus_bool_t add_watch(DBusWatch *watch, void *data)
{
    struct watch_data *wd = xcalloc(1, sizeof(*wd));
    wd->bl = data;
    wd->watch = watch;
    wd->fd = fcntl(dbus_watch_get_unix_fd(watch), F_DUPFD_CLOEXEC, 3);
    if (wd->fd < 0) {
        free(wd);
        return FALSE;
    }
    dbus_watch_set_data(watch, wd, watch_free);
    watch_sync(wd);
    return TRUE;
}

static void remove_watch(DBusWatch *watch, void *data)
{
    struct watch_data *wd = dbus_watch_get_data(watch);
    if (wd)
        watch_stop(wd);
}

static void toggle_watch(DBusWatch *watch, void *data)
{
    struct watch_data *wd = dbus_watch_get_data(watch);
    if (wd)
        watch_sync(wd);
}

static void on_timeout(void *data);

static void timeout_arm(struct timeout_data *td)
{
    if (td->timer)
        loop_timer_cancel(td->bl->loop, td->timer);
    td->timer = NULL;
    if (!dbus_timeout_get_enabled(td->timeout))
        return;
    uint64_t ms = (uint64_t)dbus_timeout_get_interval(td->timeout);
    td->timer = loop_timer_add(td->bl->loop, loop_now_ns() + ms * 1000000u, on_timeout, td);
}

static void on_timeout(void *data)
{
    struct timeout_data *td = data;
    struct busloop *bl = td->bl;
    td->timer = NULL; /* fired: libdbus timeouts repeat until removed, so arm again */
    DBusTimeout *t = td->timeout;
    timeout_arm(td);
    dbus_timeout_handle(t);
    if (dbus_connection_get_dispatch_status(bl->conn) == DBUS_DISPATCH_DATA_REMAINS)
        post_dispatch(bl);
}

static void timeout_free(void *data)
{
    struct timeout_data *td = data;
    if (td->timer)
        loop_timer_cancel(td->bl->loop, td->timer);
    free(td);
}

static dbus_bool_t add_timeout(DBusTimeout *timeout, void *data)
{
    struct timeout_data *td = xcalloc(1, sizeof(*td));
    td->bl = data;
    td->timeout = timeout;
    dbus_timeout_set_data(timeout, td, timeout_free);
    timeout_arm(td);
    return TRUE;
}

static void remove_timeout(DBusTimeout *timeout, void *data)
{
    struct timeout_data *td = dbus_timeout_get_data(timeout);
    if (td && td->timer) {
        loop_timer_cancel(td->bl->loop, td->timer);
        td->timer = NULL;
    }
}

static void toggle_timeout(DBusTimeout *timeout, void *data)
{
    struct timeout_data *td = dbus_timeout_get_data(timeout);
    if (td)
        timeout_arm(td);
}

static void dispatch_status(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
    if (status == DBUS_DISPATCH_DATA_REMAINS)
        post_dispatch(data);
}

int busloop_attach(DBusConnection *conn, struct loop *loop, struct busloop **ret)
{
    struct busloop *bl = xcalloc(1, sizeof(*bl));
    bl->conn = conn;
    bl->loop = loop;
    if (!dbus_connection_set_watch_functions(conn, add_watch, remove_watch, toggle_watch, bl,
                                             NULL) ||
        !dbus_connection_set_timeout_functions(conn, add_timeout, remove_timeout, toggle_timeout,
                                               bl, NULL)) {
        free(bl);
        return -ENOMEM;
    }
    dbus_connection_set_dispatch_status_function(conn, dispatch_status, bl, NULL);
    post_dispatch(bl); /* whatever arrived before */
    *ret = bl;
    return 0;
}

void busloop_detach(struct busloop *bl)
{
    if (!bl)
        return;
    dbus_connection_set_watch_functions(bl->conn, NULL, NULL, NULL, NULL, NULL);
    dbus_connection_set_timeout_functions(bl->conn, NULL, NULL, NULL, NULL, NULL);
    dbus_connection_set_dispatch_status_function(bl->conn, NULL, NULL, NULL);
    bl->detached = true;
    /* A dispatch job still posted sees DETACHED and frees the struct. */
    if (!bl->dispatch_posted)
        free(bl);
}
