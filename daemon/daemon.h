/* daemon.h: systraced's state, shared by its files: the bus connection, the sessions it hosts,
 * the agents that answer, the questions waiting. Everything here is touched on the loop's
 * thread only, except what `lock` guards (the engine calls the asker from its own threads). */
#pragma once

#include <dbus/dbus.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "busloop.h"
#include "settings.h"
#include "log.h"
#include "loop.h"
#include "supervise.h"

struct caller {
    const char *sender; /* the unique bus name */
    uid_t uid;
    bool privileged; /* root or the operator group */
};

struct session {
    struct daemon *d;
    unsigned id;
    char path[64];
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t n_groups;
    char *user;
    pid_t pid;
    pid_t launcher_pid;
    char *launcher; /* the launcher's unique bus name */
    char *exe;
    char **argv;
    size_t argc;
    struct store *store;
    struct log *log; /* a view of the daemon's, with the session's own volume limits */
    struct filter_plan *plan;
    enum sup_mode mode;
    bool inherit, no_alias;
    bool attached_process; /* Daemon1.Attach put it under the filter: no launcher to take it back */
    int state_fd;          /* its state in systemd's fd store (restart.c), or -1 */
    bool spec_no_user;     /* what it was asked with, for a restarted daemon */
    char *spec_policy_dir;
    char **spec_files;
    size_t n_spec_files;
    unsigned group; /* the session its attach started from (its own id, or a parent's) */
    struct sup *sup;
    unsigned attached; /* agents registered with "session" for it */
    bool ending;
    struct session *next;
};

/* What an agent registers for (RegisterAgent's options but "session"). */
struct agent_kind {
    bool all, monitor, answer;
    bool fallback; /* asked only when no other agent would be (a launcher's own terminal) */
};

struct agent {
    char *owner; /* unique bus name */
    char *path;
    uid_t uid;
    bool privileged;
    unsigned session; /* 0: not attached to one session */
    struct agent_kind kind;
    uint64_t serial; /* registration order: newer first among equals */
    struct agent *next;
};

struct question {
    struct daemon *d;
    unsigned session;
    uint64_t token;
    char id[32];
    DBusMessage *ask;               /* the Ask call, without a destination */
    const struct sup_question *sq;  /* the engine's, valid until cancelled or answered */
    bool cancelled;                 /* by the engine (under daemon.lock) */
    struct agent *agent;            /* sent to; NULL while none */
    char *agent_owner, *agent_path; /* who may answer */
    char **tried;                   /* owners it was sent to and lost */
    size_t n_tried;
    DBusPendingCall *pending;
    uid_t uid;
    char *line;                        /* one line for monitors */
    struct seccomp_notif notification; /* for the launcher's Held */
    bool has_notification;
    struct question *next;
};

struct user_count {
    uid_t uid;
    unsigned sessions, questions, agents;
    struct user_count *next;
};

struct daemon {
    struct loop *loop;
    struct host *host;
    DBusConnection *conn;
    struct busloop *bl;
    int sigfd;
    const char *config_path;
    struct config cfg;
    struct log *log;
    uint64_t started_ns;
    uint64_t stop_refused_ns; /* when a stop signal was last refused (attached sessions) */

    struct session *sessions;
    unsigned next_session;
    struct agent *agents;
    uint64_t next_agent;
    struct question *questions;
    uint64_t next_request;
    unsigned monitors; /* agents with "monitor" */

    pthread_mutex_t lock; /* users; each question's cancelled */
    struct user_count *users;
};

/* ---- main.c ---- */
/* Reads the settings file again (refused whole on an error, the settings in force staying). */
int daemon_reload(struct daemon *d, char **ret_error);

/* ---- object.c: messages in, replies out ---- */
int object_register(struct daemon *d);
/* Every method of the XML has a handler and every handler a method; "" or the first mismatch. */
const char *object_check_tables(void);
DBusMessage *reply_error(DBusMessage *msg, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends a signal on PATH to DEST (unicast); consumes nothing. */
void emit_to(struct daemon *d, const char *dest, const char *path, const char *iface,
             const char *member, int first_type, ...);

/* ---- users (counts for the per-user limits; under d->lock) ---- */
struct user_count *user_count(struct daemon *d, uid_t uid);

/* ---- session.c ---- */
/* What kind of file FD is, as /proc shows it ("anon_inode:[pidfd]"…). */
int fd_kind(int fd, char *buf, size_t size);
DBusMessage *session_supervise(struct daemon *d, DBusMessage *msg, const struct caller *c);
/* What a new session is made from (Supervise's or Attach's options, checked for type). */
struct session_spec {
    uid_t owner;
    pid_t pid;
    enum sup_mode mode;
    const char *program;
    const char **argv;
    size_t argc;
    const char *policy_dir;
    const char **files;
    size_t n_files;
    bool no_user, inherit, no_alias;
};
struct session *session_prepare(struct daemon *d, DBusMessage *msg, const struct caller *c,
                                const struct session_spec *spec, DBusMessage **ret_reply);
int session_begin(struct session *s, int listener, int pidfd, const char *from);
/* Frees a session that session_begin did not make known. */
void session_discard(struct session *s);
/* ---- restart.c: attached sessions across a restart (systemd's fd store) ---- */
/* Stores S's LISTENER (a copy), a pidfd of its process and its state. */
void restart_keep(struct session *s, int listener);
/* Writes S's state again (mode, detached). */
void restart_update(struct session *s);
/* S ended: its descriptors leave the store. */
void restart_forget(struct session *s);
/* Supervises again the attached sessions systemd gave back (LISTEN_FDS). */
void restart_resume(struct daemon *d);

/* ---- attach.c ---- */
DBusMessage *attach_process(struct daemon *d, DBusMessage *msg, const struct caller *c);
struct session *session_find(struct daemon *d, unsigned id);
struct session *session_by_path(struct daemon *d, const char *path);
struct session *session_by_pid(struct daemon *d, pid_t pid);
void session_end(struct session *s);
void session_free_all(struct daemon *d);
/* Appends property NAME of S as a variant; false if there is none. */
bool session_property(struct session *s, const char *name, DBusMessageIter *iter);
extern const char *const session_property_names[];
void session_update_asking(struct session *s);
/* The launcher vanished from the bus. */
void session_launcher_gone(struct daemon *d, const char *name);

/* ---- agent.c ---- */
extern const struct sup_asker agent_asker;
extern const struct sup_events agent_events;
DBusMessage *agent_register(struct daemon *d, DBusMessage *msg, const struct caller *c);
/* Registers the caller's agent PATH, attached to S (or NULL), as RegisterAgent does; NULL when
 * it is, else the error reply. */
DBusMessage *agent_add(struct daemon *d, DBusMessage *msg, const struct caller *c, const char *path,
                       struct session *s, const struct agent_kind *kind);
DBusMessage *agent_unregister(struct daemon *d, DBusMessage *msg, const struct caller *c);
/* Each agent's privilege again, after the operator group changed. */
void agent_reauthorise(struct daemon *d);
DBusMessage *agent_answer(struct daemon *d, DBusMessage *msg, const struct caller *c);
void agent_name_gone(struct daemon *d, const char *name);
/* The session ends: its agents detach, its questions go (the engine has cancelled them). */
void agent_session_gone(struct daemon *d, struct session *s);
unsigned agent_count(struct daemon *d, uid_t uid, bool all);
unsigned question_count(struct daemon *d, const struct session *s);
/* Sends a Decision event about S to the monitors that may see it. */
void agent_monitor_event(struct daemon *d, struct session *s, const char *kind, const char *line,
                         const char *request);
