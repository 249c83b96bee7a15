/* systraced: the root daemon that supervises sessions handed to it by launchers and routes their
 * questions to agents. One thread runs the event loop: the bus, the engine's watches,
 * signals. An idle daemon sleeps in epoll_wait with no timer armed. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "config.h"
#include "busmsg.h"
#include "daemon.h"
#include "fdstore.h"
#include "i18n.h"
#include "policy.h"
#include "util.h"

#define DEFAULT_CONFIG GLOBAL_POLICY_DIR "/systraced.conf"

static void usage(FILE *out)
{
    /* The default path is an argument: a macro inside the message would hide it from xgettext. */
    fprintf(out,
            _("Usage: systraced [-e] [-c FILE]\n"
              "\n"
              "The systrace daemon: owns org.systrace.Daemon1 on the system bus (or the bus\n"
              "named by DBUS_SYSTEM_BUS_ADDRESS) and supervises the sessions that systrace\n"
              "hands to it.\n"
              "\n"
              "  -c, --config FILE   settings (default %s)\n"
              "  -e, --log-stderr    log to standard error instead of syslog\n"
              "  -V, --version       print the version\n"
              "  -h, --help          show this help\n"),
            DEFAULT_CONFIG);
}

int daemon_reload(struct daemon *d, char **ret_error)
{
    int r = config_load(d->config_path, &d->cfg, ret_error);
    if (r < 0)
        return r;
    /* The operator group may have changed: who is privileged is asked again. */
    agent_reauthorise(d);
    log_event(d->log, "systraced: reloaded %s", d->config_path);
    return 0;
}

/* A second stop signal within this time stops a daemon that attached sessions keep. */
#define FORCE_WINDOW_NS (10 * 1000000000ull)

/* Whether the daemon may stop now. Attached processes have no launcher holding a copy of their
 * listener: once the daemon is gone every call their filter sends up fails with ENOSYS, for the
 * rest of their lives. So the first stop signal while any exists is refused, naming them. */
static bool may_stop(struct daemon *d)
{
    if (fdstore_available())
        return true; /* systemd keeps them (restart.c) for the next daemon */
    struct buf who = {0};
    unsigned n = 0;
    for (struct session *s = d->sessions; s; s = s->next)
        if (s->attached_process && !s->ending) {
            _cleanup_free_ char *exe = pol_quote(s->exe ? s->exe : "?");
            buf_printf(&who, "%s%d (%s)", n++ ? ", " : "", s->pid, exe);
        }
    uint64_t now = loop_now_ns();
    bool ok = n == 0 || (d->stop_refused_ns && now - d->stop_refused_ns < FORCE_WINDOW_NS);
    if (n && !ok) {
        d->stop_refused_ns = now;
        log_event(d->log,
                  "systraced: not stopping: %u attached process%s would fail every supervised "
                  "call with ENOSYS once the daemon is gone: %s; end %s, or send the signal "
                  "again within 10 seconds to stop anyway",
                  n, n == 1 ? "" : "es", who.data, n == 1 ? "it" : "them");
    } else if (n) {
        log_event(d->log, "systraced: stopping anyway: the calls of %s will fail", who.data);
    }
    buf_free(&who);
    return ok;
}

static void on_signal(void *data, uint32_t events)
{
    struct daemon *d = data;
    struct signalfd_siginfo si;
    if (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            char *error = NULL;
            if (daemon_reload(d, &error) < 0)
                log_event(d->log, "systraced: SIGHUP: keeping the settings in force: %s",
                          error ? error : "cannot read the file");
            free(error);
            return;
        }
        if (!may_stop(d))
            return;
        log_event(d->log, "systraced: signal %u, stopping", si.ssi_signo);
        loop_quit(d->loop);
    }
}

static DBusHandlerResult on_disconnect(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct daemon *d = data;
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
        log_event(d->log, "systraced: the bus went away, stopping");
        loop_quit(d->loop);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

int main(int argc, char **argv)
{
    i18n_init();
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-stderr", no_argument, NULL, 'e'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct daemon d = {.config_path = DEFAULT_CONFIG};
    bool log_stderr = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:eVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            d.config_path = optarg;
            break;
        case 'e':
            log_stderr = true;
            break;
        case 'V':
            printf("systraced %s\n", VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    const char *mismatch = object_check_tables();
    if (*mismatch) {
        fprintf(stderr, _("systraced: the method table and the interface XML disagree on %s\n"),
                mismatch);
        return 1;
    }
    config_defaults(&d.cfg);
    char *error = NULL;
    int r = config_load(d.config_path, &d.cfg, &error);
    if (r < 0) {
        fprintf(stderr, "systraced: %s\n", error ? error : strerror(-r));
        return 1;
    }
    if (log_open(log_stderr ? LOG_TO_STDERR : LOG_TO_SYSLOG, NULL, &d.log) < 0)
        return 1;
    pthread_mutex_init(&d.lock, NULL);
    d.started_ns = loop_now_ns();

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

    dbus_threads_init_default();
    r = loop_new(&d.loop);
    struct host_options ho = {.loop = d.loop};
    if (r == 0)
        r = host_new(&ho, &d.host);
    if (r < 0) {
        fprintf(stderr, _("systraced: cannot start the engine: %s\n"), strerror(-r));
        return 1;
    }
    struct loop_watch *sigw = NULL;
    loop_watch_fd(d.loop, d.sigfd, EPOLLIN, on_signal, &d, &sigw);

    DBusError err;
    dbus_error_init(&err);
    d.conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
    if (!d.conn) {
        fprintf(stderr, _("systraced: cannot connect to the system bus: %s\n"), err.message);
        fprintf(stderr, "%s",
                _("Hint: is dbus-daemon running? Tests point DBUS_SYSTEM_BUS_ADDRESS at a "
                  "private one (scripts/with-daemon).\n"));
        return 1;
    }
    dbus_connection_set_exit_on_disconnect(d.conn, FALSE);
    dbus_connection_add_filter(d.conn, on_disconnect, &d, NULL);
    if (object_register(&d) < 0) {
        fprintf(stderr, "%s", _("systraced: cannot register on the bus\n"));
        return 1;
    }
    r = dbus_bus_request_name(d.conn, SYSTRACE_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
    if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
        fprintf(stderr, _("systraced: cannot own %s: %s\n"), SYSTRACE_BUS_NAME,
                dbus_error_is_set(&err) ? err.message : _("another daemon owns it"));
        if (dbus_error_is_set(&err))
            fprintf(stderr, "%s",
                    _("Hint: the bus policy org.systrace.Daemon1.conf lets only root own "
                      "the name.\n"));
        return 1;
    }
    restart_resume(&d);
    busloop_attach(d.conn, d.loop, &d.bl);
    log_event(d.log, "systraced %s: ready on the system bus", VERSION);

    r = loop_run(d.loop);

    /* Sessions end here: launchers hold duplicates of their listeners and take them back. */
    while (d.agents) {
        struct agent *a = d.agents;
        d.agents = a->next;
        free(a->owner);
        free(a->path);
        free(a);
    }
    for (struct session *s = d.sessions; s; s = s->next)
        sup_stop(s->sup);
    loop_unwatch(d.loop, sigw);
    busloop_detach(d.bl);
    dbus_connection_close(d.conn);
    dbus_connection_unref(d.conn);
    /* Jobs the stops posted are dropped with the loop; questions are freed with it too. */
    session_free_all(&d);
    host_free(d.host);
    loop_free(d.loop);
    config_clear(&d.cfg);
    log_close(d.log);
    return r < 0 ? 1 : 0;
}
