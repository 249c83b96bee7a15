/* restart.c: attached sessions outlive a restart of the daemon under systemd. An attached
 * process has no launcher to take its session back, and once every copy of its listener is
 * closed each call its filter sends up fails with ENOSYS for good. So each attached session's
 * listener, a pidfd of its process and a memfd with its state go to systemd's file descriptor
 * store; a restarted daemon finds them in LISTEN_FDS and supervises the process again. Calls
 * that were waiting for an answer when the daemon stopped were denied once by the stop. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "busmsg.h"
#include "daemon.h"
#include "fdstore.h"
#include "procs.h"
#include "util.h"

#define STATE_MAX (256 * 1024)

static void store_name(unsigned id, char out[32])
{
    snprintf(out, 32, "attach-%u", id);
}

static void put_hex(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, "%s ", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        buf_printf(b, "%02x", *p);
    buf_putc(b, '\n');
}

/* The session as a restarted daemon needs it: one "KEY VALUE" a line, strings in hex. */
static void write_state(struct session *s)
{
    struct sup_info info;
    sup_get_info(s->sup, &info);
    struct buf b = {0};
    buf_printf(&b, "v 1\nid %u\ngroup %u\npid %d\nowner %u\nmode %s\ndetached %d\n", s->id,
               s->group, s->pid, (unsigned)s->uid, sup_mode_name(sup_get_mode(s->sup)),
               info.detached);
    buf_printf(&b, "inherit %d\nno-alias %d\nno-user %d\n", s->inherit, s->no_alias,
               s->spec_no_user);
    put_hex(&b, "program", s->exe);
    if (s->spec_policy_dir)
        put_hex(&b, "policy-dir", s->spec_policy_dir);
    for (size_t i = 0; i < s->n_spec_files; i++)
        put_hex(&b, "file", s->spec_files[i]);
    for (size_t i = 0; i < s->argc; i++)
        put_hex(&b, "arg", s->argv[i]);
    if (ftruncate(s->state_fd, 0) == 0)
        pwrite(s->state_fd, b.data, b.len, 0);
    buf_free(&b);
}

void restart_keep(struct session *s, int listener)
{
    if (!fdstore_available())
        return;
    s->state_fd = (int)syscall(SYS_memfd_create, "systraced-session", MFD_CLOEXEC);
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
    if (s->state_fd < 0 || pidfd < 0) {
        log_event(s->d->log, "systraced: session %u will not outlive a restart: %s", s->id,
                  strerror(errno));
        return;
    }
    write_state(s);
    char name[32];
    store_name(s->id, name);
    int fds[] = {listener, pidfd, s->state_fd};
    int r = fdstore_put(name, fds, ARRAY_SIZE(fds));
    if (r < 0)
        log_event(s->d->log, "systraced: session %u will not outlive a restart: %s", s->id,
                  strerror(-r));
}

void restart_update(struct session *s)
{
    if (s->state_fd >= 0)
        write_state(s); /* the store holds the same file */
}

void restart_forget(struct session *s)
{
    if (s->state_fd < 0)
        return;
    char name[32];
    store_name(s->id, name);
    fdstore_remove(name);
    close(s->state_fd);
    s->state_fd = -1;
}

/* ---- taking them up again ---------------------------------------------------------------- */

struct state {
    unsigned id, group;
    pid_t pid;
    uid_t owner;
    enum sup_mode mode;
    bool detached, inherit, no_alias, no_user;
    char *program, *policy_dir;
    char **files, **argv;
    size_t n_files, argc;
};

static char *unhex(const char *s)
{
    size_t n = strlen(s) / 2;
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || v == 0) {
            free(out);
            return NULL;
        }
        out[i] = (char)v;
    }
    out[n] = '\0';
    return out;
}

static void state_clear(struct state *st)
{
    free(st->program);
    free(st->policy_dir);
    for (size_t i = 0; i < st->n_files; i++)
        free(st->files[i]);
    for (size_t i = 0; i < st->argc; i++)
        free(st->argv[i]);
    free(st->files);
    free(st->argv);
}

static int parse_state(int fd, struct state *st)
{
    char *text = xmalloc(STATE_MAX + 1);
    ssize_t n = pread(fd, text, STATE_MAX, 0);
    if (n <= 0) {
        free(text);
        return -EINVAL;
    }
    text[n] = '\0';
    *st = (struct state){0};
    int version = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *value = strchr(line, ' ');
        if (!value)
            continue;
        *value++ = '\0';
        char mode[16];
        if (streq(line, "v"))
            version = atoi(value);
        else if (streq(line, "id"))
            st->id = (unsigned)strtoul(value, NULL, 10);
        else if (streq(line, "group"))
            st->group = (unsigned)strtoul(value, NULL, 10);
        else if (streq(line, "pid"))
            st->pid = (pid_t)strtol(value, NULL, 10);
        else if (streq(line, "owner"))
            st->owner = (uid_t)strtoul(value, NULL, 10);
        else if (streq(line, "mode") && snprintf(mode, sizeof(mode), "%s", value) > 0)
            sup_mode_from_name(mode, &st->mode);
        else if (streq(line, "detached"))
            st->detached = atoi(value);
        else if (streq(line, "inherit"))
            st->inherit = atoi(value);
        else if (streq(line, "no-alias"))
            st->no_alias = atoi(value);
        else if (streq(line, "no-user"))
            st->no_user = atoi(value);
        else if (streq(line, "program"))
            st->program = unhex(value);
        else if (streq(line, "policy-dir"))
            st->policy_dir = unhex(value);
        else if (streq(line, "file")) {
            st->files = xreallocarray(st->files, st->n_files + 1, sizeof(char *));
            st->files[st->n_files++] = unhex(value);
        } else if (streq(line, "arg")) {
            st->argv = xreallocarray(st->argv, st->argc + 1, sizeof(char *));
            st->argv[st->argc++] = unhex(value);
        }
    }
    free(text);
    bool complete = version == 1 && st->pid > 0 && st->program;
    for (size_t i = 0; i < st->n_files; i++)
        complete &= st->files[i] != NULL;
    for (size_t i = 0; i < st->argc; i++)
        complete &= st->argv[i] != NULL;
    if (!complete) {
        state_clear(st);
        return -EINVAL;
    }
    return 0;
}

/* The session of state ST on LISTENER (taken); GROUP: its group's new id, 0 for its own. */
static struct session *resume_one(struct daemon *d, const struct state *st, int listener,
                                  unsigned group)
{
    struct session_spec spec = {
        .owner = st->owner,
        .pid = st->pid,
        .mode = st->mode,
        .program = st->program,
        .argv = (const char **)st->argv,
        .argc = st->argc,
        .policy_dir = st->policy_dir,
        .files = (const char **)st->files,
        .n_files = st->n_files,
        .no_user = st->no_user,
        .inherit = st->inherit,
        .no_alias = st->no_alias,
    };
    /* The state is the daemon's own, kept by systemd: it is checked as root's request, and
     * a refusal only needs a message to be worded against. */
    struct caller self = {.sender = "systemd", .uid = 0, .privileged = true};
    DBusMessage *msg = dbus_message_new_method_call(NULL, "/", IFACE_DAEMON1, "Resume");
    DBusMessage *reply = NULL;
    struct session *s = session_prepare(d, msg, &self, &spec, &reply);
    if (!s) {
        log_event(d->log, "systraced: attached session %u not taken up again: %s", st->id,
                  reply ? dbus_message_get_error_name(reply) : "?");
        close(listener);
    } else {
        s->attached_process = true;
        s->group = group ? group : s->id;
        int kept = dup(listener);
        if (session_begin(s, listener, -1, "a restart") < 0) {
            session_discard(s);
            s = NULL;
        } else {
            if (st->detached)
                sup_detach(s->sup);
            restart_keep(s, kept);
            log_event(d->log, "systraced: session %u (process %d) taken up again as %u", st->id,
                      st->pid, s->id);
        }
        if (kept >= 0)
            close(kept);
    }
    if (reply)
        dbus_message_unref(reply);
    dbus_message_unref(msg);
    return s;
}

/* What descriptor FD is, by the name /proc gives it. */
enum kept_kind { KEPT_OTHER, KEPT_LISTENER, KEPT_PIDFD, KEPT_STATE };

static enum kept_kind kind_of(int fd)
{
    char kind[128];
    if (fd_kind(fd, kind, sizeof(kind)) < 0)
        return KEPT_OTHER;
    return streq(kind, "anon_inode:seccomp notify")             ? KEPT_LISTENER
           : streq(kind, "anon_inode:[pidfd]")                  ? KEPT_PIDFD
           : strncmp(kind, "/memfd:systraced-session", 24) == 0 ? KEPT_STATE
                                                                : KEPT_OTHER;
}

/* One stored session: its three descriptors, found by name and kind (systemd does not keep
 * their order). */
struct kept {
    const char *name;
    int fd[4]; /* by enum kept_kind */
    struct state st;
    bool parsed;
};

void restart_resume(struct daemon *d)
{
    struct fdstore_entry *v;
    size_t n = fdstore_take(&v);
    struct kept *kept = xcalloc(n + 1, sizeof(*kept));
    size_t n_kept = 0;
    for (size_t i = 0; i < n; i++) {
        enum kept_kind k = kind_of(v[i].fd);
        struct kept *e = NULL;
        for (size_t j = 0; j < n_kept && !e; j++)
            if (streq(kept[j].name, v[i].name))
                e = &kept[j];
        if (k == KEPT_OTHER || strncmp(v[i].name, "attach-", 7) != 0) {
            close(v[i].fd);
            continue;
        }
        if (!e) {
            e = &kept[n_kept++];
            *e = (struct kept){.name = v[i].name, .fd = {-1, -1, -1, -1}};
        }
        if (e->fd[k] >= 0)
            close(e->fd[k]);
        e->fd[k] = v[i].fd;
    }
    for (size_t j = 0; j < n_kept; j++) {
        struct kept *e = &kept[j];
        e->parsed = e->fd[KEPT_LISTENER] >= 0 && e->fd[KEPT_PIDFD] >= 0 && e->fd[KEPT_STATE] >= 0 &&
                    parse_state(e->fd[KEPT_STATE], &e->st) == 0;
        fdstore_remove(e->name); /* kept again under its new id, or forgotten */
    }
    /* Groups' first sessions first, so that the others find their group's new id. */
    unsigned old_ids[256], new_ids[256];
    size_t n_map = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < n_kept; j++) {
            struct kept *e = &kept[j];
            bool root = e->parsed && (e->st.group == e->st.id || e->st.group == 0);
            if (!e->parsed || root != (pass == 0))
                continue;
            unsigned group = 0;
            for (size_t k = 0; k < n_map && !root; k++)
                if (old_ids[k] == e->st.group)
                    group = new_ids[k];
            struct session *s = NULL;
            if (pidfd_pid(e->fd[KEPT_PIDFD]) == e->st.pid)
                s = resume_one(d, &e->st, e->fd[KEPT_LISTENER], group);
            else
                close(e->fd[KEPT_LISTENER]); /* the process is gone */
            e->fd[KEPT_LISTENER] = -1;
            if (s && root && n_map < ARRAY_SIZE(old_ids)) {
                old_ids[n_map] = e->st.id;
                new_ids[n_map++] = s->id;
            }
        }
    for (size_t j = 0; j < n_kept; j++) {
        for (int k = 0; k < 4; k++)
            if (kept[j].fd[k] >= 0)
                close(kept[j].fd[k]);
        if (kept[j].parsed)
            state_clear(&kept[j].st);
    }
    free(kept);
    fdstore_entries_free(v, n);
}
