/* attach.c: Daemon1.Attach, sessions for processes that no launcher started. The caller must own
 * the process wholly (or be root or of the operator group); the process is put under the
 * session's filter by common/inject.c, then each of its descendants alive now gets a session of
 * its own in the same group (a filter's listener covers only the tree below the process that
 * installed it), and their questions go to the agent named in the options. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "auth.h"
#include "busmsg.h"
#include "daemon.h"
#include "filter.h"
#include "inject.h"
#include "util.h"

#define MAX_ARGV        256
#define MAX_DESCENDANTS 256

struct attach_opts {
    const char *mode;
    const char *program;
    const char *policy_dir;
    struct opt_strv files;
    const char *agent;
    bool agent_fallback;
    bool no_user, inherit, no_alias, only_process;
};

#define AOPT(n, t, max, f)                                                                         \
    {                                                                                              \
        n, t, max, offsetof(struct attach_opts, f)                                                 \
    }
static const struct opt_key attach_keys[] = {
    AOPT("mode", OPT_STRING, 16, mode),
    AOPT("program", OPT_STRING, PATH_MAX, program),
    AOPT("policy-dir", OPT_STRING, PATH_MAX, policy_dir),
    AOPT("policy-files", OPT_STRV, 64, files),
    AOPT("agent", OPT_PATH, 256, agent),
    AOPT("agent-fallback", OPT_BOOL, 0, agent_fallback),
    AOPT("no-user-policies", OPT_BOOL, 0, no_user),
    AOPT("inherit", OPT_BOOL, 0, inherit),
    AOPT("no-aliases", OPT_BOOL, 0, no_alias),
    AOPT("only-process", OPT_BOOL, 0, only_process),
};

/* The D-Bus error for each way an attach is refused. */
static const struct {
    int err;
    const char *name;
} attach_errors[] = {
    {EPERM, ERR_ACCESS_DENIED},   {EBUSY, ERR_BUSY},          {ESRCH, ERR_NOT_FOUND},
    {ENOEXEC, ERR_NOT_SUPPORTED}, {EXDEV, ERR_NOT_SUPPORTED}, {EAGAIN, ERR_FAILED},
};

static const char *error_name(int err)
{
    for (size_t i = 0; i < ARRAY_SIZE(attach_errors); i++)
        if (attach_errors[i].err == err)
            return attach_errors[i].name;
    return ERR_FAILED;
}

struct target {
    pid_t pid;
    uid_t uid;
    char exe[PATH_MAX];
    char **argv;
    size_t argc;
};

static void target_clear(struct target *t)
{
    for (size_t i = 0; i < t->argc; i++)
        free(t->argv[i]);
    free(t->argv);
    t->argv = NULL;
    t->argc = 0;
}

static int read_status(pid_t pid, char **ret)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    size_t len;
    int r = read_regular_file(path, 65536, ret, &len, NULL);
    return r == -ENOENT ? -ESRCH : r;
}

/* Four numbers after "KEY:" in a status text. */
static bool status_ids(const char *text, const char *key, unsigned long ret[4])
{
    _cleanup_free_ char *needle = xasprintf("\n%s:", key);
    const char *p = strstr(text, needle);
    return p &&
           sscanf(p + strlen(needle), "%lu %lu %lu %lu", &ret[0], &ret[1], &ret[2], &ret[3]) == 4;
}

/* Who owns process PID, and whether CALLER may attach to it: a user only to a process that is
 * wholly theirs (every uid theirs, no gid change, no capability), as the kernel would let them
 * trace it themselves. */
static int check_owner(const struct target *t, const struct caller *c, uid_t *ret_uid)
{
    _cleanup_free_ char *text = NULL;
    int r = read_status(t->pid, &text);
    if (r < 0)
        return r;
    unsigned long uid[4], gid[4];
    if (!status_ids(text, "Uid", uid) || !status_ids(text, "Gid", gid))
        return -EINVAL;
    *ret_uid = (uid_t)uid[0];
    if (!auth_allowed(AUTH_ATTACH, c->uid, c->privileged, *ret_uid))
        return -EPERM;
    if (c->privileged)
        return 0;
    const char *cap = strstr(text, "\nCapPrm:");
    bool no_caps = cap && strtoull(cap + 8, NULL, 16) == 0;
    for (int i = 0; i < 4; i++)
        if (uid[i] != c->uid || gid[i] != gid[0])
            return -EPERM;
    return no_caps ? 0 : -EPERM;
}

static int read_target(pid_t pid, struct target *t)
{
    char path[64];
    t->pid = pid;
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    ssize_t n = readlink(path, t->exe, sizeof(t->exe) - 1);
    if (n < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    t->exe[n] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd < 0 || read_fd_all(fd, 65536, &text, &len) < 0)
        len = 0;
    t->argv = xcalloc(MAX_ARGV + 1, sizeof(char *));
    for (size_t off = 0; off < len && t->argc < MAX_ARGV; off += strlen(text + off) + 1)
        t->argv[t->argc++] = xstrdup(text + off);
    return 0;
}

/* The children of every thread of PID, appended to *PIDS (at most MAX_DESCENDANTS in all). */
static void add_children(pid_t pid, pid_t *pids, size_t *n)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char file[320];
        snprintf(file, sizeof(file), "/proc/%d/task/%s/children", pid, de->d_name);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_regular_file(file, 65536, &text, &len, NULL) < 0)
            continue;
        for (char *p = text, *end; *p && *n < MAX_DESCENDANTS; p = end) {
            long child = strtol(p, &end, 10);
            if (end == p)
                break;
            pids[(*n)++] = (pid_t)child;
        }
    }
    closedir(d);
}

/* Puts T under a new session of OWNER made from O; *ret_session on success, else the error
 * reply. GROUP is the session the attach started from (0: this one). */
static DBusMessage *attach_one(struct daemon *d, DBusMessage *msg, const struct caller *c,
                               const struct attach_opts *o, enum sup_mode mode,
                               const struct target *t, uid_t owner, unsigned group,
                               struct session **ret_session)
{
    struct session_spec spec = {
        .owner = owner,
        .pid = t->pid,
        .mode = mode,
        .program = t->exe,
        .argv = (const char **)t->argv,
        .argc = t->argc,
        .policy_dir = o->policy_dir,
        .files = o->files.v,
        .n_files = o->files.n,
        .no_user = o->no_user,
        .inherit = o->inherit,
        .no_alias = o->no_alias,
    };
    DBusMessage *reply = NULL;
    struct session *s = session_prepare(d, msg, c, &spec, &reply);
    if (!s)
        return reply;
    struct sock_fprog prog;
    int r = filter_compile(s->plan, &prog);
    if (r < 0) {
        session_discard(s);
        return reply_error(msg, ERR_FAILED, "cannot compile the filter: %s", strerror(-r));
    }
    struct inject_result res;
    _cleanup_free_ char *error = NULL;
    r = inject_filter(t->pid, &prog, &res, &error);
    free(prog.filter);
    if (r < 0) {
        session_discard(s);
        log_event(d->log, "systraced: attach to process %d by uid %u refused: %s", t->pid,
                  (unsigned)c->uid, error);
        return reply_error(msg, error_name(-r), "%s", error);
    }
    s->attached_process = true;
    s->group = group ? group : s->id;
    _cleanup_close_ int kept = dup(res.listener); /* for systemd's fd store */
    r = session_begin(s, res.listener, -1, c->sender);
    if (r < 0) {
        /* The process keeps a filter whose listener is gone: its notified calls fail (ENOSYS). */
        log_event(d->log, "systraced: process %d attached but not supervised: %s", t->pid,
                  strerror(-r));
        session_discard(s);
        return reply_error(msg, ERR_FAILED, "cannot supervise process %d: %s", t->pid,
                           strerror(-r));
    }
    if (kept >= 0)
        restart_keep(s, kept);
    log_event(d->log, "systraced: session %u: process %d attached, %u threads%s", s->id, t->pid,
              res.threads, res.no_new_privs_set ? ", no_new_privs set" : "");
    *ret_session = s;
    return NULL;
}

/* Each descendant of ROOT alive now, breadth first, into sessions of ROOT's group. Failures are
 * logged: the descendant stays as it was, unsupervised. */
static void attach_descendants(struct daemon *d, DBusMessage *msg, const struct caller *c,
                               const struct attach_opts *o, enum sup_mode mode,
                               struct session *root)
{
    pid_t pids[MAX_DESCENDANTS];
    size_t n = 0;
    add_children(root->pid, pids, &n);
    for (size_t i = 0; i < n; i++) {
        struct target t = {0};
        uid_t owner;
        DBusMessage *e = NULL;
        struct session *s = NULL;
        if (read_target(pids[i], &t) == 0 && check_owner(&t, c, &owner) == 0)
            e = attach_one(d, msg, c, o, mode, &t, owner, root->id, &s);
        else
            log_event(d->log,
                      "systraced: session %u: descendant %d not attached: not the "
                      "caller's or gone",
                      root->id, pids[i]);
        if (e) {
            log_event(d->log, "systraced: session %u: descendant %d not attached: %s", root->id,
                      pids[i], dbus_message_get_error_name(e));
            dbus_message_unref(e);
        }
        if (s)
            add_children(pids[i], pids, &n);
        target_clear(&t);
    }
}

DBusMessage *attach_process(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    dbus_int32_t pid = 0;
    struct attach_opts o = {0};
    _cleanup_free_ char *error = NULL, *why = NULL; /* before the first goto */
    struct target t = {0};
    DBusMessage *reply = NULL;
    DBusMessageIter it;
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_get_basic(&it, &pid);
    dbus_message_iter_next(&it);
    if (busmsg_read_options(&it, attach_keys, ARRAY_SIZE(attach_keys), &o, NULL, &error) < 0) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "%s", error);
        goto out;
    }
    enum sup_mode mode = SUP_ASK;
    if (o.mode && sup_mode_from_name(o.mode, &mode) < 0) {
        reply = reply_error(msg, ERR_INVALID_ARGS, "option \"mode\": unknown mode");
        goto out;
    }
    uid_t owner = 0;
    int r = pid > 0 ? read_target(pid, &t) : -ESRCH;
    if (r == 0)
        r = check_owner(&t, c, &owner);
    if (r < 0) {
        reply = r == -EPERM ? reply_error(msg, ERR_ACCESS_DENIED, "process %d is not yours", pid)
                            : reply_error(msg, ERR_NOT_FOUND, "no process %d", pid);
        goto out;
    }
    struct session *s = session_by_pid(d, pid);
    if (s) {
        reply = reply_error(msg, ERR_BUSY,
                            "process %d is supervised by session %u already (systracectl attach "
                            "%d answers its questions)",
                            pid, s->id, pid);
        goto out;
    }
    if (o.program) {
        char resolved[PATH_MAX];
        if (!realpath(o.program, resolved) || !streq(resolved, t.exe)) {
            _cleanup_free_ char *safe = busmsg_utf8(o.program, PATH_MAX);
            reply =
                reply_error(msg, ERR_INVALID_ARGS, "process %d runs %s, not %s", pid, t.exe, safe);
            goto out;
        }
    }
    r = inject_check(pid, &why);
    if (r < 0) {
        reply = reply_error(msg, error_name(-r), "%s", why);
        goto out;
    }
    s = NULL;
    reply = attach_one(d, msg, c, &o, mode, &t, owner, 0, &s);
    if (reply)
        goto out;
    if (o.agent) {
        struct agent_kind kind = {.answer = true, .fallback = o.agent_fallback};
        reply = agent_add(d, msg, c, o.agent, s, &kind);
        if (reply)
            goto out; /* the session stays: the caller may register an agent again */
    }
    if (!o.only_process)
        attach_descendants(d, msg, c, &o, mode, s);
    reply = dbus_message_new_method_return(msg);
    const char *path = s->path;
    dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
out:
    target_clear(&t);
    busmsg_free_options(attach_keys, ARRAY_SIZE(attach_keys), &o);
    return reply;
}
