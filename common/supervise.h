/* supervise.h: the engine: receive -> translate -> decide -> (ask) -> act -> log, for one
 * supervised tree (a session). A host (the launcher, the daemon) makes one `struct host` for its
 * process and any number of sessions on it; each session gets a listener, a policy store, a log
 * and an asker from the host and knows nothing of terminals, D-Bus or GTK. The engine has no
 * process-wide side effects of its own: what is process-wide (the event loop, the signal that
 * wakes a blocked receiver) belongs to the host object.
 *
 * Threads: every session has one thread blocked receiving notifications; slow work (a question,
 * a blocking emulated call, a stalled read of target memory) moves off it, so one slow request
 * never stalls the others. The host's loop thread watches each supervised process's pidfd (its
 * death cancels its questions at once) and the deadlines of questions. */
#pragma once

#include <stdbool.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/types.h>

#include "filter.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "store.h"

/* ---- the host ------------------------------------------------------------------------------ */

struct host;

struct host_options {
    struct loop *loop; /* run by the host's own thread; the engine adds its watches to it */
};

/* One per process. Installs a handler for the signal that wakes a receiver blocked in the kernel
 * (SYSTRACE_WAKE_SIGNAL, a real-time signal the host then must leave alone). */
int host_new(const struct host_options *opts, struct host **ret);
/* Frees the host; every session must have been freed first. */
void host_free(struct host *host);
struct loop *host_loop(struct host *host);

/* ---- sessions ------------------------------------------------------------------------------ */

enum sup_mode {
    SUP_LEARN,    /* -A: permit and record what is uncovered */
    SUP_ENFORCE,  /* -a: deny what is uncovered, with EPERM, and log it */
    SUP_ASK,      /* ask the asker about what is uncovered */
    SUP_COMPLAIN, /* -w: enforce, but permit what would be denied, logging decision=would-deny */
    SUP_MODE_MAX,
};
const char *sup_mode_name(enum sup_mode mode); /* "learn", "enforce", "ask", "complain" */
/* -EINVAL for an unknown name. */
int sup_mode_from_name(const char *name, enum sup_mode *ret);

enum sup_action {
    SUP_PERMIT,
    SUP_DENY,
    SUP_KILL,   /* kill the process */
    SUP_DETACH, /* stop supervising: permit everything from now on */
    SUP_ACTION_MAX,
};

enum sup_scope {
    SUP_ONCE,    /* this call only */
    SUP_SESSION, /* until the session ends */
    SUP_ALWAYS,  /* written to the policy file at once (as the session's owner) */
    SUP_SCOPE_MAX,
};

/* One process of the chain from the asking process up to the session's first one. */
struct sup_ancestor {
    pid_t pid;
    const char *binary;
};

/* A question for a person. Every string comes from the traced program or describes it: hostile,
 * to be shown as plain text. Valid until the asker's cancel or until sup_answer returns. */
struct sup_question {
    uint64_t token;       /* names the question in sup_answer and cancel */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC: then it is denied once, never stored */
    pid_t pid;            /* the process */
    pid_t tid;            /* the calling thread */
    uid_t uid;
    const char *user;
    const char *binary; /* the program whose policy decides */
    const char *argv;   /* the process's arguments, joined with spaces (from /proc) */
    const char *cwd;    /* NULL if unknown */
    const struct sup_ancestor *parents; /* nearest first */
    size_t n_parents;
    const char *syscall;   /* the real call */
    const char *rule_name; /* the name rules use: the alias, or the call */
    const struct pol_request *req;
    const char *policy_path; /* NULL when no file governs the binary yet */
    size_t rule_count;
    char *const *suggestions; /* full rule lines, exact first */
    size_t n_suggestions;
    unsigned repeats; /* the same process asked the same again while this waits */
    /* The kernel's notification, so that a host that hands the question on can tell whoever
     * holds another copy of the listener (systraced tells the launcher, Session1.Held). */
    const struct seccomp_notif *notification;
};

struct sup_answer {
    enum sup_action action;
    enum sup_scope scope;
    const char *rule; /* for SESSION/ALWAYS: the rule line to add; NULL for the exact rule */
    int err;          /* errno of a denial; 0 for EPERM */
};

enum sup_cancel_reason {
    SUP_CANCEL_GONE,     /* the process died, or its call was withdrawn */
    SUP_CANCEL_DEADLINE, /* nobody answered in time: denied once */
    SUP_CANCEL_ENDED,    /* the session ends */
    SUP_CANCEL_DETACHED, /* the session was detached: the call is permitted */
    SUP_CANCEL_ANSWERED, /* a rule kept by another answer decided it */
};

struct sup;

/* How a session reaches the people who answer. Both calls come from engine threads and must not
 * block; sup_answer may be called from any thread, later. */
struct sup_asker {
    /* Q is in the host's hands from now on: the host calls sup_answer with Q->token, or the
     * engine calls cancel. -errno: nobody to ask (the call is denied once and logged). */
    int (*ask)(void *data, struct sup *sup, const struct sup_question *q);
    void (*cancel)(void *data, struct sup *sup, uint64_t token, enum sup_cancel_reason why);
};

/* What a session tells its host besides questions; each may be NULL. From engine threads. */
struct sup_events {
    /* Every supervised process is gone (REASON 0), or the listener failed (-errno). */
    void (*ended)(void *data, struct sup *sup, int reason);
    /* One decision that was logged, as its log line (for monitors). */
    void (*decision)(void *data, struct sup *sup, const char *line);
};

/* Bounds one session's use of the host: hitting one refuses that one request with a log line,
 * never aborts. 0 means the default. */
struct sup_limits {
    unsigned max_questions;  /* waiting at once (default 256) */
    unsigned max_blocked;    /* requests in slow work at once (default 256) */
    unsigned max_learned;    /* rules learned per program (default 100000) */
    size_t max_policy_bytes; /* a policy file larger is not loaded (default 16 MiB) */
    unsigned ask_timeout_ms; /* a question's deadline (default 10 minutes) */
};

/* Who the session belongs to: its policy files are read and written with these credentials. */
struct sup_owner {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t n_groups;
};

struct sup_config {
    int listener; /* a seccomp notification fd; the session owns it from sup_new on */
    enum sup_mode mode;
    struct store *store;
    struct log *log;
    const struct sup_owner *owner; /* NULL: the host's own identity */
    bool inherit;                  /* -i: every process keeps the first program's policy */
    bool no_alias;                 /* -u */
    const char *first_binary;
    const struct filter_plan *plan; /* what the kernel decides in this session, or NULL */
    /* Learning: an abstraction whose unconditional permits the kernel decides (the plan was made
     * with it), so every program learned includes it. NULL: none. */
    const char *learn_include;
    const struct sup_asker *asker; /* NULL: ask mode denies once and logs */
    void *asker_data;
    const struct sup_events *events;
    void *events_data;
    struct sup_limits limits;
};

int sup_new(struct host *host, const struct sup_config *cfg, struct sup **ret);
/* PIDFD's process is the launcher's child, not yet the program: its calls before its first
 * successful exec are the launcher's own code. The session keeps its own duplicate of PIDFD. */
int sup_add_launch_child(struct sup *sup, int pidfd);
int sup_start(struct sup *sup);
/* Serves notification N as if this session had received it: for a call another holder of the
 * listener received and never answered (a daemon that died). N is copied; the call is decided
 * only if its id is still pending (ID_VALID). */
void sup_adopt(struct sup *sup, const struct seccomp_notif *n);
/* Answers question TOKEN. -ENOENT when it is moot (answered, cancelled, withdrawn). */
int sup_answer(struct sup *sup, uint64_t token, const struct sup_answer *a);
/* From now on, uncovered calls are asked (an agent is attached) or handled by the mode again. */
void sup_set_asking(struct sup *sup, bool asking);
void sup_set_mode(struct sup *sup, enum sup_mode mode);
enum sup_mode sup_get_mode(struct sup *sup);
/* Permits everything from now on (the filter cannot be removed): answers without translating.
 * The calls waiting for an answer are permitted too (cancelled with SUP_CANCEL_DETACHED). */
void sup_detach(struct sup *sup);
/* Kills every process of the tree. */
void sup_kill(struct sup *sup);
/* Sends SIG to every process the session knows; returns how many. */
unsigned sup_signal_all(struct sup *sup, int sig);

struct sup_info {
    pid_t first_pid;     /* the launch child, or the first process seen */
    unsigned processes;  /* alive and known */
    unsigned pending;    /* questions waiting */
    uint64_t started_ns; /* CLOCK_REALTIME */
    enum sup_mode mode;
    bool detached;
};
void sup_get_info(struct sup *sup, struct sup_info *ret);
/* Whether PID is a process of this session (known to it, or descended from one that is). */
bool sup_has_process(struct sup *sup, pid_t pid);

/* Stops receiving, cancels every question, writes what learning has not written yet. The
 * listener is closed by sup_free. */
void sup_stop(struct sup *sup);
void sup_free(struct sup *sup);
/* The policy files learning wrote to, for the launcher's closing message. */
size_t sup_learned_files(struct sup *sup, char ***ret);

/* Whether RULE_LINE parses and matches the call of Q; *ret_error says why not. */
bool sup_rule_fits(const struct sup_question *q, const char *rule_line, char **ret_error);
