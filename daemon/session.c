/* session.c: sessions handed over by launchers. Supervise checks what it is given before the
 * engine sees it: the listener must be a seccomp notification fd, the pidfd a pidfd whose
 * process belongs to the caller (its real, effective, saved and file-system UIDs), the options
 * the table's types and sizes, and the caller below the per-user session limit. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "auth.h"
#include "busmsg.h"
#include "daemon.h"
#include "filter.h"
#include "procs.h"
#include "store.h"
#include "util.h"

#define MAX_ARGV   256
#define MAX_GROUPS 256

struct supervise_opts {
    const char *mode;
    const char *program;
    struct opt_strv argv;
    const char *policy_dir;
    struct opt_strv files;
    bool no_user, inherit, no_alias;
};

#define SOPT(n, t, max, f)                                                                         \
    {                                                                                              \
        n, t, max, offsetof(struct supervise_opts, f)                                              \
    }
static const struct opt_key supervise_keys[] = {
    SOPT("mode", OPT_STRING, 16, mode),        SOPT("program", OPT_STRING, PATH_MAX, program),
    SOPT("argv", OPT_STRV, MAX_ARGV, argv),    SOPT("policy-dir", OPT_STRING, PATH_MAX, policy_dir),
    SOPT("policy-files", OPT_STRV, 64, files), SOPT("no-user-policies", OPT_BOOL, 0, no_user),
    SOPT("inherit", OPT_BOOL, 0, inherit),     SOPT("no-aliases", OPT_BOOL, 0, no_alias),
};

struct user_count *user_count(struct daemon *d, uid_t uid)
{
    for (struct user_count *u = d->users; u; u = u->next)
        if (u->uid == uid)
            return u;
    struct user_count *u = xcalloc(1, sizeof(*u));
    u->uid = uid;
    u->next = d->users;
    d->users = u;
    return u;
}

int fd_kind(int fd, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, size - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

/* Whether the process of PIDFD belongs to UID: every UID of it is UID. The /proc directory is
 * opened first and the pidfd checked alive afterwards, so the directory read is the pidfd's
 * process and not one that took its pid. */
static int check_pidfd_owner(int pidfd, uid_t uid, pid_t *ret_pid)
{
    pid_t pid = pidfd_pid(pidfd);
    if (pid < 0)
        return pid;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d", pid);
    _cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -errno;
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
        return -errno;
    _cleanup_close_ int fd = openat(dir, "status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_fd_all(fd, 65536, &text, &len);
    if (r < 0)
        return r;
    const char *p = strstr(text, "\nUid:");
    unsigned long u[4];
    if (!p || sscanf(p + 5, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++)
        if (u[i] != uid)
            return -EPERM;
    *ret_pid = pid;
    return 0;
}

/* A path a non-root caller names must be theirs: not a symlink, owned by them. The store reads
 * and writes policy files as the session's owner besides (a swap after this check reaches only
 * what they may read themselves); this refuses the plain mistakes with a clear error. */
static bool callers_path(const char *path, uid_t uid, bool dir)
{
    if (path[0] != '/')
        return false;
    if (uid == 0)
        return true;
    struct stat st;
    if (lstat(path, &st) < 0)
        return !dir && errno == ENOENT ? false : false;
    return st.st_uid == uid && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int owner_creds(struct session *s, char **ret_home)
{
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    if (getpwuid_r(s->uid, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp) {
        s->user = xasprintf("%u", (unsigned)s->uid);
        s->gid = (gid_t)s->uid;
        s->groups = xcalloc(1, sizeof(gid_t));
        s->groups[0] = s->gid;
        s->n_groups = 1;
        *ret_home = NULL;
        return 0;
    }
    s->user = xstrdup(pw.pw_name);
    s->gid = pw.pw_gid;
    int n = MAX_GROUPS;
    s->groups = xcalloc(MAX_GROUPS, sizeof(gid_t));
    if (getgrouplist(pw.pw_name, pw.pw_gid, s->groups, &n) < 0)
        n = MAX_GROUPS;
    s->n_groups = (size_t)n;
    *ret_home = xstrdup(pw.pw_dir);
    return 0;
}

/* The launcher's pid as the bus knows it: only to find the session by it, never to decide. */
static pid_t bus_pid(struct daemon *d, const char *name)
{
    DBusMessage *m = dbus_message_new_method_call(
        DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, "GetConnectionUnixProcessID");
    dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    DBusMessage *r = dbus_connection_send_with_reply_and_block(d->conn, m, 5000, NULL);
    dbus_message_unref(m);
    dbus_uint32_t pid = 0;
    if (r) {
        dbus_message_get_args(r, NULL, DBUS_TYPE_UINT32, &pid, DBUS_TYPE_INVALID);
        dbus_message_unref(r);
    }
    return (pid_t)pid;
}

static void session_free(struct session *s)
{
    if (!s)
        return;
    if (s->sup) {
        sup_stop(s->sup);
        sup_free(s->sup);
    }
    store_free(s->store);
    log_close(s->log);
    if (s->state_fd >= 0)
        close(s->state_fd); /* the store keeps its own copy */
    free(s->spec_policy_dir);
    for (size_t i = 0; i < s->n_spec_files; i++)
        free(s->spec_files[i]);
    free(s->spec_files);
    free(s->plan);
    free(s->groups);
    free(s->user);
    free(s->launcher);
    free(s->exe);
    for (size_t i = 0; i < s->argc; i++)
        free(s->argv[i]);
    free(s->argv);
    free(s);
}

static void report_store(void *data, const char *msg)
{
    struct session *s = data;
    log_event(s->log, "session %u: %s", s->id, msg);
}

/* Checks the paths SPEC names and the caller's session count, and makes the session with its
 * store and its filter plan; nothing runs yet. NULL with *ret_reply set on refusal. */
struct session *session_prepare(struct daemon *d, DBusMessage *msg, const struct caller *c,
                                const struct session_spec *spec, DBusMessage **ret_reply)
{
    _cleanup_free_ char *home = NULL, *default_dir = NULL;
    *ret_reply = NULL;
    if (!spec->program || spec->program[0] != '/') {
        *ret_reply =
            reply_error(msg, ERR_INVALID_ARGS, "option \"program\": an absolute path is needed");
        return NULL;
    }
    if (spec->policy_dir && !callers_path(spec->policy_dir, c->uid, true)) {
        *ret_reply = reply_error(msg, ERR_ACCESS_DENIED,
                                 "option \"policy-dir\": not an absolute "
                                 "path to a directory of yours");
        return NULL;
    }
    for (size_t i = 0; i < spec->n_files; i++)
        if (!callers_path(spec->files[i], c->uid, false)) {
            *ret_reply = reply_error(msg, ERR_ACCESS_DENIED,
                                     "option \"policy-files\": not an "
                                     "absolute path to a file of yours");
            return NULL;
        }
    pthread_mutex_lock(&d->lock);
    struct user_count *uc = user_count(d, spec->owner);
    bool full = uc->sessions >= d->cfg.max_sessions_per_user;
    if (!full)
        uc->sessions++;
    pthread_mutex_unlock(&d->lock);
    if (full) {
        *ret_reply = reply_error(msg, ERR_LIMIT,
                                 "uid %u has %u sessions, the most systraced.conf allows "
                                 "(max-sessions-per-user)",
                                 (unsigned)spec->owner, d->cfg.max_sessions_per_user);
        return NULL;
    }

    struct session *s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->id = ++d->next_session;
    _cleanup_free_ char *log_name = xasprintf("session %u", s->id);
    s->log = log_view(d->log, log_name); /* one session's flood does not silence the others */
    snprintf(s->path, sizeof(s->path), SYSTRACE_SESSION_DIR "%u", s->id);
    s->uid = spec->owner;
    s->pid = spec->pid;
    s->mode = spec->mode;
    s->inherit = spec->inherit;
    s->no_alias = spec->no_alias;
    s->exe = xstrdup(spec->program);
    s->state_fd = -1;
    s->spec_no_user = spec->no_user;
    s->spec_policy_dir = spec->policy_dir ? xstrdup(spec->policy_dir) : NULL;
    s->spec_files = xcalloc(spec->n_files + 1, sizeof(char *));
    for (size_t i = 0; i < spec->n_files; i++)
        s->spec_files[i] = xstrdup(spec->files[i]);
    s->n_spec_files = spec->n_files;
    s->argv = xcalloc(spec->argc + 1, sizeof(char *));
    for (size_t i = 0; i < spec->argc; i++)
        s->argv[i] = xstrdup(spec->argv[i]);
    s->argc = spec->argc;
    owner_creds(s, &home);

    const char *user_dir = spec->policy_dir;
    if (!user_dir && home)
        user_dir = default_dir = xasprintf("%s/.systrace", home);
    struct store_owner owner = {s->uid, s->gid, s->groups, s->n_groups};
    struct store_options so = {
        .owner = &owner,
        .user_dir = spec->no_user ? NULL : user_dir,
        .files = spec->files,
        .n_files = spec->n_files,
    };
    int r = store_new(&so, &s->store);
    if (r < 0) {
        *ret_reply = reply_error(msg, ERR_FAILED, "cannot read the policies: %s", strerror(-r));
        session_discard(s);
        return NULL;
    }
    store_set_reporter(s->store, report_store, s);
    s->plan = xcalloc(1, sizeof(*s->plan));
    if (spec->mode == SUP_LEARN)
        filter_plan_learn(s->plan, NULL);
    else
        filter_plan_session(s->plan, s->store, s->exe, spec->mode == SUP_ASK, spec->inherit,
                            spec->mode == SUP_COMPLAIN);
    return s;
}

void session_discard(struct session *s)
{
    if (!s)
        return;
    struct daemon *d = s->d;
    pthread_mutex_lock(&d->lock);
    user_count(d, s->uid)->sessions--;
    pthread_mutex_unlock(&d->lock);
    session_free(s);
}

/* Starts the engine of S on LISTENER (taken in every case) and PIDFD (the launch child, or -1),
 * and makes the session known. -errno, S untouched but for its engine, on failure. */
int session_begin(struct session *s, int listener, int pidfd, const char *from)
{
    struct daemon *d = s->d;
    struct sup_owner owner = {s->uid, s->gid, s->groups, s->n_groups};
    struct sup_config cfg = {
        .listener = listener,
        .mode = s->mode,
        .store = s->store,
        .log = s->log,
        .owner = &owner,
        .inherit = s->inherit,
        .no_alias = s->no_alias,
        .first_binary = s->exe,
        .plan = s->mode == SUP_LEARN ? NULL : s->plan,
        .asker = &agent_asker,
        .asker_data = s,
        .events = &agent_events,
        .events_data = s,
        .limits =
            {
                .max_questions = d->cfg.max_questions_per_user,
                .max_learned = d->cfg.max_learned_rules,
                .max_policy_bytes = (size_t)d->cfg.max_policy_kib * 1024,
                .ask_timeout_ms = d->cfg.ask_timeout_s * 1000,
            },
    };
    int r = sup_new(d->host, &cfg, &s->sup);
    if (r < 0) {
        close(listener);
        return r;
    }
    if (pidfd >= 0)
        r = sup_add_launch_child(s->sup, pidfd);
    if (r == 0)
        r = sup_start(s->sup);
    if (r < 0)
        return r;
    s->next = d->sessions;
    d->sessions = s;
    log_event(d->log, "systraced: session %u: %s (pid %d) of uid %u in %s mode, %s %s", s->id,
              s->exe, s->pid, (unsigned)s->uid, sup_mode_name(s->mode),
              s->attached_process ? "attached by" : "from", from);
    const char *path = s->path;
    /* SessionAdded to the owner's and the privileged agents. */
    for (struct agent *a = d->agents; a; a = a->next)
        if (auth_allowed(AUTH_SEE, a->uid, a->privileged, s->uid))
            emit_to(d, a->owner, SYSTRACE_BUS_PATH, IFACE_DAEMON1, DAEMON1_SIGNAL_SESSIONADDED,
                    DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    return 0;
}

DBusMessage *session_supervise(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    int listener = -1, pidfd = -1;
    DBusMessage *reply = NULL;
    struct supervise_opts o = {0};
    _cleanup_free_ char *error = NULL;
    char kind[64];
    DBusMessageIter it;

    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_UNIX_FD, &listener, DBUS_TYPE_UNIX_FD, &pidfd,
                               DBUS_TYPE_INVALID)) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "expected two file descriptors");
        goto out;
    }
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_next(&it);
    dbus_message_iter_next(&it);
    if (busmsg_read_options(&it, supervise_keys, ARRAY_SIZE(supervise_keys), &o, NULL, &error) <
        0) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "%s", error);
        goto out;
    }
    if (fd_kind(listener, kind, sizeof(kind)) < 0 || !streq(kind, "anon_inode:seccomp notify")) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "the listener is not a seccomp notification fd");
        goto out;
    }
    if (fd_kind(pidfd, kind, sizeof(kind)) < 0 || !streq(kind, "anon_inode:[pidfd]")) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "the pidfd is not a pidfd");
        goto out;
    }
    pid_t pid = 0;
    int r = check_pidfd_owner(pidfd, c->uid, &pid);
    if (r < 0) {
        reply = reply_error(msg, r == -EPERM ? ERR_ACCESS_DENIED : ERR_INVALID_ARGS,
                            r == -EPERM ? "the pidfd's process is not yours"
                                        : "the pidfd's process: %s",
                            strerror(-r));
        goto out;
    }
    enum sup_mode mode = SUP_ASK;
    if (o.mode && sup_mode_from_name(o.mode, &mode) < 0) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "option \"mode\": unknown mode");
        goto out;
    }
    struct session_spec spec = {
        .owner = c->uid,
        .pid = pid,
        .mode = mode,
        .program = o.program,
        .argv = o.argv.v,
        .argc = o.argv.n,
        .policy_dir = o.policy_dir,
        .files = o.files.v,
        .n_files = o.files.n,
        .no_user = o.no_user,
        .inherit = o.inherit,
        .no_alias = o.no_alias,
    };
    struct session *s = session_prepare(d, msg, c, &spec, &reply);
    if (!s)
        goto out;
    s->launcher = xstrdup(c->sender);
    s->launcher_pid = bus_pid(d, c->sender);
    r = session_begin(s, steal_fd(&listener), pidfd, c->sender);
    if (r < 0) {
        reply = reply_error(msg, ERR_FAILED, "cannot supervise: %s", strerror(-r));
        session_discard(s);
        goto out;
    }
    reply = dbus_message_new_method_return(msg);
    const char *path = s->path;
    dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
out:
    busmsg_free_options(supervise_keys, ARRAY_SIZE(supervise_keys), &o);
    if (listener >= 0)
        close(listener);
    if (pidfd >= 0)
        close(pidfd);
    return reply;
}

struct session *session_find(struct daemon *d, unsigned id)
{
    for (struct session *s = d->sessions; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

struct session *session_by_path(struct daemon *d, const char *path)
{
    size_t n = strlen(SYSTRACE_SESSION_DIR);
    if (strncmp(path, SYSTRACE_SESSION_DIR, n) != 0)
        return NULL;
    char *end;
    errno = 0;
    unsigned long id = strtoul(path + n, &end, 10);
    if (*end || errno || id == 0 || id > UINT_MAX || path[n] == '0')
        return NULL;
    return session_find(d, (unsigned)id);
}

struct session *session_by_pid(struct daemon *d, pid_t pid)
{
    for (struct session *s = d->sessions; s; s = s->next)
        if (!s->ending && (s->launcher_pid == pid || s->pid == pid))
            return s;
    for (struct session *s = d->sessions; s; s = s->next)
        if (!s->ending && sup_has_process(s->sup, pid))
            return s;
    return NULL;
}

static void session_reap(void *data)
{
    struct session *s = data;
    struct daemon *d = s->d;
    for (struct session **p = &d->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_lock(&d->lock);
    user_count(d, s->uid)->sessions--;
    pthread_mutex_unlock(&d->lock);
    session_free(s);
}

void session_end(struct session *s)
{
    if (s->ending)
        return;
    struct daemon *d = s->d;
    s->ending = true;
    restart_forget(s);
    struct sup_info info;
    sup_get_info(s->sup, &info);
    log_event(d->log, "systraced: session %u ended", s->id);
    /* Stopping cancels every question (the cancellations are posted jobs); the session is freed
     * by a job posted after them. */
    sup_stop(s->sup);
    agent_session_gone(d, s);
    const char *path = s->path;
    for (struct agent *a = d->agents; a; a = a->next)
        if (auth_allowed(AUTH_SEE, a->uid, a->privileged, s->uid))
            emit_to(d, a->owner, SYSTRACE_BUS_PATH, IFACE_DAEMON1, DAEMON1_SIGNAL_SESSIONREMOVED,
                    DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    loop_post(d->loop, session_reap, s);
}

void session_free_all(struct daemon *d)
{
    while (d->sessions) {
        struct session *s = d->sessions;
        d->sessions = s->next;
        session_free(s);
    }
}

void session_update_asking(struct session *s)
{
    sup_set_asking(s->sup, s->attached > 0);
}

void session_launcher_gone(struct daemon *d, const char *name)
{
    for (struct session *s = d->sessions; s; s = s->next)
        if (s->launcher && streq(s->launcher, name)) {
            free(s->launcher);
            s->launcher = NULL;
        }
}

const char *const session_property_names[] = {
    "Id",   "Pid",     "LauncherPid", "Uid",     "User",     "Exe",    "Argv",
    "Mode", "Pending", "Processes",   "Started", "Detached", "Agents", NULL,
};

bool session_property(struct session *s, const char *name, DBusMessageIter *iter)
{
    struct sup_info info;
    sup_get_info(s->sup, &info);
    dbus_uint32_t u;
    dbus_int32_t i;
    dbus_uint64_t t;
    dbus_bool_t b;
    if (streq(name, "Id")) {
        u = s->id;
        busmsg_add_variant(iter, DBUS_TYPE_UINT32, &u);
    } else if (streq(name, "Pid")) {
        i = s->pid;
        busmsg_add_variant(iter, DBUS_TYPE_INT32, &i);
    } else if (streq(name, "LauncherPid")) {
        i = s->launcher_pid;
        busmsg_add_variant(iter, DBUS_TYPE_INT32, &i);
    } else if (streq(name, "Uid")) {
        u = s->uid;
        busmsg_add_variant(iter, DBUS_TYPE_UINT32, &u);
    } else if (streq(name, "User") || streq(name, "Exe") || streq(name, "Mode")) {
        /* A detached session permits everything whatever its mode: that is what it is. */
        const char *v = streq(name, "User")  ? s->user
                        : streq(name, "Exe") ? s->exe
                        : info.detached      ? "detached"
                                             : sup_mode_name(info.mode);
        _cleanup_free_ char *safe = busmsg_utf8(v, PATH_MAX);
        const char *p = safe;
        busmsg_add_variant(iter, DBUS_TYPE_STRING, &p);
    } else if (streq(name, "Argv")) {
        DBusMessageIter v, a;
        dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "as", &v);
        dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "s", &a);
        for (size_t k = 0; k < s->argc; k++) {
            _cleanup_free_ char *safe = busmsg_utf8(s->argv[k], 4096);
            const char *p = safe;
            dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &p);
        }
        dbus_message_iter_close_container(&v, &a);
        dbus_message_iter_close_container(iter, &v);
    } else if (streq(name, "Pending")) {
        u = question_count(s->d, s);
        busmsg_add_variant(iter, DBUS_TYPE_UINT32, &u);
    } else if (streq(name, "Processes")) {
        u = info.processes;
        busmsg_add_variant(iter, DBUS_TYPE_UINT32, &u);
    } else if (streq(name, "Started")) {
        t = info.started_ns / 1000;
        busmsg_add_variant(iter, DBUS_TYPE_UINT64, &t);
    } else if (streq(name, "Detached")) {
        b = info.detached;
        busmsg_add_variant(iter, DBUS_TYPE_BOOLEAN, &b);
    } else if (streq(name, "Agents")) {
        u = s->attached;
        busmsg_add_variant(iter, DBUS_TYPE_UINT32, &u);
    } else {
        return false;
    }
    return true;
}
