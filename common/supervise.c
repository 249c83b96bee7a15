/* supervise.c: the engine. One worker at a time blocks in SECCOMP_IOCTL_NOTIF_RECV (the cheapest
 * receive loop, REFERENCE.md 4): the kernel wakes every thread waiting there for each request, so
 * idle workers wait on a condition variable instead (leader and followers). The receiver serves
 * what it receives and receives again; before work that may block (a question for a person, a
 * connect) it hands the receiving role to a follower, starting one if none is idle, and the
 * watchdog does the same for a request served longer than STALL_NS, so one slow call never
 * stalls the other processes. */
#include "supervise.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>

#include "emulate.h"
#include "errnames.h"
#include "learn.h"
#include "notify.h"
#include "procs.h"
#include "suggest.h"
#include "translate.h"
#include "util.h"

#define MAX_WORKERS 64
#define WAKE_SIGNAL SIGUSR1
#define WATCH_NS    (10 * 1000 * 1000)
#define STALL_NS    (20 * 1000 * 1000)

struct session_rule {
    char *binary;
    struct pol_rule *rule;
};

/* The policy snapshot last seen for a program, to notice edits. */
struct seen_policy {
    char *binary;
    const void *file;
};

struct sup {
    struct sup_config cfg;
    struct procs *procs;
    struct learner *learner;
    pthread_mutex_t lock; /* the fields below */
    pthread_t workers[MAX_WORKERS];
    int n_workers;
    bool receiving;        /* a worker is in RECV, or about to be */
    bool summoned;         /* a follower was woken (or started) to receive */
    int followers;         /* idle workers waiting on FOLLOW */
    pthread_cond_t follow; /* idle workers wait here for the receiving role */
    bool stopping;
    bool detached;
    struct session_rule *session;
    size_t n_session;
    char **warned; /* messages logged once */
    size_t n_warned;
    struct seen_policy *seen;
    size_t n_seen;
    /* What each worker serves, for the watchdog: a worker blocked for a target that died (an
     * open of a FIFO no one writes, a connect) is interrupted instead of lost, unless it is
     * answering (emu_ctx.answering); one busy for long makes another receive. */
    uint64_t busy_since[MAX_WORKERS]; /* CLOCK_MONOTONIC ns; 0 when idle */
    uint64_t serving[MAX_WORKERS];
    bool interruptible[MAX_WORKERS];
    pthread_t watchdog;
    int stop_fd; /* an eventfd that ends the watchdog */
    bool has_watchdog;
};

static void *worker_main(void *arg);

int sup_new(const struct sup_config *cfg, struct sup **ret)
{
    struct sup *s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->follow, NULL);
    s->stop_fd = -1;
    procs_new(cfg->launch_pid, &s->procs);
    if (cfg->mode == SUP_LEARN) {
        const char *dir = store_user_dir(cfg->store);
        int r = dir ? learner_new(dir, cfg->store, cfg->log, &s->learner) : -EINVAL;
        if (r < 0) {
            procs_free(s->procs);
            free(s);
            return r;
        }
    }
    *ret = s;
    return 0;
}

static void wake_handler(int sig)
{
    (void)sig;
}

/* Starts one more worker; S->lock held. */
static int spawn_worker(struct sup *s)
{
    if (s->n_workers >= MAX_WORKERS)
        return -EAGAIN;
    int r = pthread_create(&s->workers[s->n_workers], NULL, worker_main, s);
    if (r != 0)
        return -r;
    s->n_workers++;
    return 0;
}

/* Makes sure someone receives while this worker goes on with slow work; S->lock held. */
static void hand_off_locked(struct sup *s)
{
    if (s->receiving || s->summoned || s->stopping)
        return;
    /* A woken follower finds no receiver and takes the role; so does a started worker. */
    if (s->followers > 0)
        pthread_cond_signal(&s->follow);
    else if (spawn_worker(s) < 0)
        return; /* all MAX_WORKERS are busy: the first to finish receives */
    s->summoned = true;
}

static void hand_off(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    hand_off_locked(s);
    pthread_mutex_unlock(&s->lock);
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every WATCH_NS, interrupts the workers whose request is void (its process died), and finds a
 * receiver when a request has been served for longer than STALL_NS without one. Its sleep is a
 * poll of the stop eventfd, so that sup_stop need not wait for it to end. */
static void *watchdog_main(void *arg)
{
    struct sup *s = arg;
    struct pollfd stop = {s->stop_fd, POLLIN, 0};
    for (;;) {
        if (poll(&stop, 1, WATCH_NS / 1000000) > 0)
            return NULL;
        uint64_t now = monotonic_ns();
        pthread_mutex_lock(&s->lock);
        for (int i = 0; i < s->n_workers; i++) {
            if (!s->busy_since[i])
                continue;
            if (s->interruptible[i] && !notify_id_valid(s->cfg.listener, s->serving[i]))
                pthread_kill(s->workers[i], WAKE_SIGNAL);
            else if (now - s->busy_since[i] > STALL_NS)
                hand_off_locked(s);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

int sup_start(struct sup *s)
{
    /* Workers are woken from a blocking receive by a signal without SA_RESTART. */
    struct sigaction sa = {.sa_handler = wake_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(WAKE_SIGNAL, &sa, NULL);
    notify_set_sync_wakeup(s->cfg.listener); /* best effort: 6.6+ */
    emu_init();
    /* The receiver; followers are started at the first hand-off. */
    pthread_mutex_lock(&s->lock);
    int r = spawn_worker(s);
    pthread_mutex_unlock(&s->lock);
    s->stop_fd = r == 0 ? eventfd(0, EFD_CLOEXEC) : -1;
    if (r == 0 && s->stop_fd < 0)
        r = -errno;
    if (r == 0) {
        r = -pthread_create(&s->watchdog, NULL, watchdog_main, s);
        s->has_watchdog = r == 0;
    }
    return r;
}

void sup_stop(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    int n = s->n_workers;
    pthread_cond_broadcast(&s->follow);
    pthread_mutex_unlock(&s->lock);
    if (s->has_watchdog) {
        eventfd_write(s->stop_fd, 1);
        pthread_join(s->watchdog, NULL);
    }
    s->has_watchdog = false;
    for (int i = 0; i < n; i++) {
        /* The signal may land before the worker blocks again: repeat until it has left. */
        for (;;) {
            pthread_kill(s->workers[i], WAKE_SIGNAL);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(s->workers[i], NULL, &ts) == 0)
                break;
        }
    }
    pthread_mutex_lock(&s->lock);
    s->n_workers = 0;
    pthread_mutex_unlock(&s->lock);
    if (s->learner)
        learner_flush(s->learner);
}

size_t sup_learned_files(struct sup *s, char ***ret)
{
    if (!s->learner) {
        *ret = NULL;
        return 0;
    }
    return learner_files(s->learner, ret);
}

void sup_free(struct sup *s)
{
    if (!s)
        return;
    learner_free(s->learner);
    procs_free(s->procs);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    for (size_t i = 0; i < s->n_session; i++) {
        free(s->session[i].binary);
        pol_rule_free(s->session[i].rule);
    }
    free(s->session);
    for (size_t i = 0; i < s->n_warned; i++)
        free(s->warned[i]);
    free(s->warned);
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i].binary);
    free(s->seen);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Everything one request needs, gathered once. */
struct request {
    const struct seccomp_notif *n;
    struct proc_info proc;
    const char *governing; /* the program whose policy decides: proc.binary, or the first with -i */
    struct tr_call call;
    struct pol_request req;
    const char *syscall;
    const char *rule_name;
    char *cwd;
    struct store_policy policy;
    int waiting; /* still_waiting's answer: -1 not asked yet, else 0 or 1 */
    int worker;  /* the index of the worker serving it */
};

/* Whether R's process still waits for the answer (the kernel's word: its pid may be someone
 * else's by now). A bare answer to a void request fails by itself; what outlasts the answer (a
 * log line, a learned rule, a question, a call performed on memory read) needs this first. */
static bool still_waiting(struct sup *s, struct request *r)
{
    if (r->waiting < 0)
        r->waiting = notify_id_valid(s->cfg.listener, r->n->id);
    return r->waiting;
}

/* The verdict for one request. */
struct verdict {
    enum sup_action action;
    int err;
    bool log;
    const char *reason;
    const struct pol_rule *rule;
    char *rule_text;
    bool read_memory; /* the decision depended on pointer memory (DESIGN.md 3.4) */
};

static void log_request(struct sup *s, struct request *r, const struct verdict *v)
{
    if (!still_waiting(s, r))
        return;
    struct buf b = {0};
    buf_printf(&b, "user=%s uid=%u binary=", r->proc.user, r->proc.uid);
    _cleanup_free_ char *bin = pol_quote(r->proc.binary);
    buf_printf(&b, "%s pid=%d syscall=%s", bin, r->n->pid, r->syscall);
    if (r->rule_name != r->syscall)
        buf_printf(&b, "(%s)", r->rule_name);
    for (size_t i = 0; i < r->call.n_values; i++) {
        _cleanup_free_ char *q = pol_quote(r->call.values[i].value);
        buf_printf(&b, " %s=%s", r->call.values[i].name, q);
    }
    static const char *const actions[] = {"permit", "deny", "kill", "detach"};
    buf_printf(&b, " decision=%s", actions[v->action]);
    if (v->action == SUP_DENY)
        buf_printf(&b, " errno=%s", errname_from_errno(v->err ? v->err : EPERM));
    buf_printf(&b, " reason=%s", v->reason);
    if (v->rule && v->rule->line)
        buf_printf(&b, " rule=%s:%u", r->policy.path ? r->policy.path : "?", v->rule->line);
    log_event(s->cfg.log, "%s", b.data);
    buf_free(&b);
}

/* Logs MESSAGE once per run. */
static void warn_once(struct sup *s, const char *message)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_warned; i++)
        if (streq(s->warned[i], message)) {
            pthread_mutex_unlock(&s->lock);
            return;
        }
    s->warned = xreallocarray(s->warned, s->n_warned + 1, sizeof(*s->warned));
    s->warned[s->n_warned++] = xstrdup(message);
    pthread_mutex_unlock(&s->lock);
    log_event(s->cfg.log, "%s", message);
}

static void session_add(struct sup *s, const char *binary, struct pol_rule *rule)
{
    pthread_mutex_lock(&s->lock);
    s->session = xreallocarray(s->session, s->n_session + 1, sizeof(*s->session));
    s->session[s->n_session++] = (struct session_rule){xstrdup(binary), rule};
    pthread_mutex_unlock(&s->lock);
}

struct pending_ctx {
    struct sup *sup;
    uint64_t id;
};

static bool still_pending(const struct sup_question *q, void *ctx)
{
    struct pending_ctx *c = ctx;
    return notify_id_valid(c->sup->cfg.listener, q->id);
}

/* "permit" or "deny[enoent]": the action text of a rule written for an answer. */
static char *action_text(const struct sup_answer *a)
{
    if (a->action == SUP_PERMIT)
        return xstrdup("permit");
    if (!a->err || a->err == EPERM)
        return xstrdup("deny");
    _cleanup_free_ char *lower = xstrdup(errname_from_errno(a->err));
    for (char *c = lower; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    return xasprintf("deny[%s]", lower);
}

/* Keeps an answer for the session or writes it to the policy (DESIGN.md 5). */
static void remember(struct sup *s, struct request *r, const struct sup_answer *a)
{
    _cleanup_free_ char *action = action_text(a);
    _cleanup_free_ char *line =
        a->rule ? xstrdup(a->rule) : suggest_exact(r->rule_name, &r->req, action);
    struct pol_rule *rule;
    char *err = NULL;
    if (pol_parse_rule(line, &rule, &err) < 0) {
        log_event(s->cfg.log, "answer rule not kept: %s", err);
        free(err);
        return;
    }
    const char *dir = store_user_dir(s->cfg.store);
    if (a->scope == SUP_ALWAYS && dir) {
        store_ensure_dir(dir);
        const char *one[] = {line};
        int rr = store_append(dir, r->governing, one, 1, NULL, &err);
        if (rr < 0)
            log_event(s->cfg.log, "cannot write the answer to the policy of %s: %s", r->governing,
                      err ? err : strerror(-rr));
        free(err);
        if (rr == 0) {
            pol_rule_free(rule);
            return; /* the store reloads the file for the next call */
        }
    }
    session_add(s, r->governing, rule);
}

static void ask(struct sup *s, struct request *r, struct verdict *v)
{
    if (!still_waiting(s, r)) {
        *v = (struct verdict){SUP_DENY, EPERM, false, "gone", v->rule, NULL};
        return;
    }
    if (!s->cfg.ask) {
        *v = (struct verdict){SUP_DENY, EPERM, true, "no-one-to-ask", v->rule, NULL};
        return;
    }
    char **sugg = NULL;
    _cleanup_free_ char *action = xstrdup("permit");
    size_t n_sugg = suggest_rules(r->rule_name, &r->req, action, &sugg);
    struct sup_question q = {
        .id = r->n->id,
        .pid = r->n->pid,
        .uid = r->proc.uid,
        .user = r->proc.user,
        .binary = r->governing,
        .syscall = r->syscall,
        .rule_name = r->rule_name,
        .req = &r->req,
        .policy_path = r->policy.path,
        .rule_count = r->policy.policy ? r->policy.policy->n_rules : 0,
        .suggestions = sugg,
        .n_suggestions = n_sugg,
    };
    struct pending_ctx ctx = {s, r->n->id};
    struct sup_answer a = {0};
    hand_off(s); /* a person may take minutes */
    int rr = s->cfg.ask(s->cfg.ask_data, &q, still_pending, &ctx, &a);
    suggest_free(sugg, n_sugg);
    if (rr < 0) {
        *v = (struct verdict){SUP_DENY, EPERM, true, "not-answered", v->rule, NULL};
        free(a.rule);
        return;
    }
    if ((a.action == SUP_PERMIT || a.action == SUP_DENY) && a.scope != SUP_ONCE)
        remember(s, r, &a);
    /* The person saw the call's arguments: a permit depends on them if they came from memory. */
    *v = (struct verdict){a.action,
                          a.action == SUP_DENY ? (a.err ? a.err : EPERM) : 0,
                          true,
                          "answered",
                          NULL,
                          NULL,
                          r->call.reads_memory};
    free(a.rule);
}

/* Decides R (DESIGN.md 3.4). */
/* The first rule that decides REQ for R's program: session answers, then its policy. */
static const struct pol_rule *match_rule(struct sup *s, const struct request *r,
                                         const struct pol_request *req, bool *read_memory)
{
    const struct pol_rule *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_session && !found; i++)
        if (streq(s->session[i].binary, r->governing) &&
            pol_rule_matches(s->session[i].rule, req, read_memory))
            found = s->session[i].rule;
    pthread_mutex_unlock(&s->lock);
    if (!found && r->policy.policy) {
        bool more = false;
        found = pol_evaluate(r->policy.policy, req, &more);
        *read_memory |= more;
    }
    return found;
}

static void decide(struct sup *s, struct request *r, struct verdict *v)
{
    bool read_memory = false;
    const struct pol_rule *rule = match_rule(s, r, &r->req, &read_memory);
    v->read_memory = read_memory;
    if (rule) {
        v->rule = rule;
        v->log = rule->log;
        v->reason = "rule";
        if (rule->as_user || rule->as_group) {
            warn_once(s, "privilege elevation ('as user:group') is not supported yet: such "
                         "rules deny");
            *v = (struct verdict){SUP_DENY, EPERM, true, "elevation-unsupported", rule, NULL};
            return;
        }
        switch (rule->action) {
        case POL_PERMIT:
            v->action = SUP_PERMIT;
            return;
        case POL_DENY:
            v->action = SUP_DENY;
            v->err = rule->err > 0 ? rule->err : EPERM;
            return;
        case POL_ASK:
            if (s->cfg.mode == SUP_LEARN) {
                v->action = SUP_PERMIT;
                return;
            }
            ask(s, r, v);
            return;
        case POL_ACTION_MAX:
            break;
        }
    }
    switch (s->cfg.mode) {
    case SUP_LEARN: {
        _cleanup_free_ char *line = learner_rule(s->learner, r->governing, r->rule_name, &r->req);
        /* Most calls were seen before: only a new rule needs the request checked first. */
        if (!learner_knows(s->learner, r->governing, line) && still_waiting(s, r))
            learner_add(s->learner, r->governing, line);
        *v = (struct verdict){SUP_PERMIT, 0, false, "learned", NULL, NULL};
        return;
    }
    case SUP_ENFORCE:
        *v = (struct verdict){SUP_DENY, EPERM, true, "uncovered", NULL, NULL};
        return;
    case SUP_ASK:
        ask(s, r, v);
        return;
    }
}

static bool is_call(int nr, const char *name)
{
    const char *n = sys_name(nr);
    return n && streq(n, name);
}

/* Calls after which the process's root may be another one: the root is then looked up on every
 * request; pivot_root moves the root of every process of its mount namespace. */
static const struct {
    const char *syscall;
    bool every_process;
} moves_root[] = {{"chroot", false}, {"setns", false}, {"pivot_root", true}};

static void note_root_moves(struct sup *s, int nr, pid_t pid)
{
    for (size_t i = 0; i < ARRAY_SIZE(moves_root); i++)
        if (is_call(nr, moves_root[i].syscall))
            procs_root_may_move(s->procs, pid, moves_root[i].every_process);
}

static bool changes_credentials(int nr)
{
    static const char *const calls[] = {"setuid",    "setgid",    "setreuid", "setregid",
                                        "setresuid", "setresgid", "setfsuid", "setfsgid",
                                        "setgroups", "capset",    "umask"};
    for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
        if (is_call(nr, calls[i]))
            return true;
    return false;
}

static const char *value_of(const struct tr_call *c, const char *name)
{
    for (size_t i = 0; i < c->n_values; i++)
        if (streq(c->values[i].name, name))
            return c->values[i].value;
    return NULL;
}

struct recheck_ctx {
    struct sup *sup;
    struct request *r;
};

/* The object an emulated call reached is not the one checked (a path changed in between):
 * decide again on where it is now. Only a permit lets the call go on. */
static _unused_ int recheck(void *data, size_t path_index, const char *actual)
{
    struct recheck_ctx *c = data;
    struct request *r = c->r;
    struct pol_value values[TR_MAX_VALUES];
    memcpy(values, r->call.values, r->call.n_values * sizeof(*values));
    for (size_t i = 0, k = 0; i < r->call.n_values; i++)
        if (streq(values[i].name, "filename") && k++ == path_index)
            values[i].value = actual;
    struct pol_request req = r->req;
    req.args = values;
    bool read_memory = false;
    const struct pol_rule *rule = match_rule(c->sup, r, &req, &read_memory);
    int err = !rule                                                             ? EPERM
              : rule->action == POL_PERMIT && !rule->as_user && !rule->as_group ? 0
              : rule->action == POL_DENY && rule->err > 0                       ? rule->err
                                                                                : EPERM;
    _cleanup_free_ char *q = pol_quote(actual);
    log_event(c->sup->cfg.log,
              "pid=%d syscall=%s reached filename=%s instead of the path checked: %s", r->n->pid,
              r->syscall, q, err ? "denied" : "permitted");
    return err;
}

/* The watchdog must not interrupt this worker from now on (emu_ctx.answering). */
static _unused_ void answering(void *data)
{
    struct recheck_ctx *c = data;
    pthread_mutex_lock(&c->sup->lock);
    c->sup->interruptible[c->r->worker] = false;
    pthread_mutex_unlock(&c->sup->lock);
}

/* A permit whose decision read pointer memory: the supervisor performs the call on what it
 * checked (DESIGN.md 3.5). Calls without an emulation CONTINUE with a logged "unsafe" mark. */
static void permit_checked(struct sup *s, struct request *r, const struct verdict *v)
{
    const struct seccomp_notif *n = r->n;
#ifndef SYSTRACE_UNSAFE_CONTINUE
    enum emu_kind kind = emu_kind_of(n->data.nr, NULL);
    if (kind == EMU_PERFORM && emu_can_perform(n->data.nr, &r->call)) {
        struct recheck_ctx ctx = {s, r};
        struct emu_ctx e = {s->cfg.listener, n, &r->proc, &r->call, recheck, answering, &ctx};
        if (emu_may_block(n->data.nr))
            hand_off(s);
        emu_perform(&e);
        return;
    }
    if ((kind == EMU_NONE || kind == EMU_PERFORM) && !emu_continue_reason(n->data.nr, &r->call)) {
        _cleanup_free_ char *msg =
            v->rule && v->rule->line
                ? xasprintf("unsafe: %s:%u permits %s on pointer arguments, which the supervisor "
                            "cannot perform yet: the call is let run (CONTINUE) and can be raced",
                            r->policy.path ? r->policy.path : "?", v->rule->line, r->syscall)
                : xasprintf("unsafe: a permitted %s on pointer arguments is let run (CONTINUE) "
                            "and can be raced",
                            r->syscall);
        warn_once(s, msg);
    }
#else
    (void)v;
#endif
    notify_continue(s->cfg.listener, n->id);
}

/* Carries out V. A permit that did not depend on pointer memory runs in the kernel (CONTINUE);
 * one that did is performed by the supervisor (permit_checked). */
static void act(struct sup *s, struct request *r, const struct verdict *v, const char *raw_exec)
{
    int listener = s->cfg.listener;
    const struct seccomp_notif *n = r->n;
    switch (v->action) {
    case SUP_PERMIT:
        if ((is_call(n->data.nr, "execve") || is_call(n->data.nr, "execveat")) && raw_exec) {
            const char *path = value_of(&r->call, "filename");
            if (path)
                procs_exec_permitted(s->procs, n->pid, path, raw_exec);
        }
        if (changes_credentials(n->data.nr))
            procs_creds_changed(s->procs, n->pid);
        note_root_moves(s, n->data.nr, n->pid);
        if (v->read_memory && s->cfg.mode != SUP_LEARN)
            permit_checked(s, r, v);
        else
            notify_continue(listener, n->id);
        return;
    case SUP_DENY:
        notify_return(listener, n->id, 0, v->err ? v->err : EPERM);
        return;
    case SUP_KILL:
        syscall(SYS_tgkill, r->proc.tgid, n->pid, SIGKILL);
        kill(r->proc.tgid, SIGKILL);
        notify_return(listener, n->id, 0, EPERM);
        return;
    case SUP_DETACH:
        pthread_mutex_lock(&s->lock);
        s->detached = true;
        pthread_mutex_unlock(&s->lock);
        log_event(s->cfg.log, "detached: every call is permitted from now on");
        notify_continue(listener, n->id);
        return;
    }
}

/* Whether R's policy is another version than the last one seen for its program. */
static bool policy_changed(struct sup *s, const struct request *r)
{
    pthread_mutex_lock(&s->lock);
    struct seen_policy *seen = NULL;
    for (size_t i = 0; i < s->n_seen && !seen; i++)
        if (streq(s->seen[i].binary, r->governing))
            seen = &s->seen[i];
    bool changed = seen && seen->file != (const void *)r->policy.file;
    if (!seen) {
        s->seen = xreallocarray(s->seen, s->n_seen + 1, sizeof(*s->seen));
        seen = &s->seen[s->n_seen++];
        seen->binary = xstrdup(r->governing);
    }
    seen->file = r->policy.file;
    pthread_mutex_unlock(&s->lock);
    return changed;
}

/* An edit cannot change what the kernel filter already decides for this session (DESIGN.md 4):
 * say so when an edited policy now decides such a call differently. */
static void check_compiled(struct sup *s, const struct request *r)
{
    const struct filter_plan *plan = s->cfg.plan;
    if (!plan || !r->policy.policy || !policy_changed(s, r))
        return;
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++) {
        if (plan->action[nr] == FILTER_NOTIFY || plan->fixed[nr])
            continue;
        int err = 0;
        enum filter_action a = filter_policy_decision(r->policy.policy, nr, &err);
        if (a == plan->action[nr] && (a != FILTER_ERRNO || err == plan->err[nr]))
            continue;
        _cleanup_free_ char *msg = xasprintf(
            "policy %s: the change to '%s' takes effect at the next launch (the kernel filter "
            "decides it for this session)",
            r->policy.path, sys_name(nr));
        warn_once(s, msg);
    }
}

/* Whether PID is the supervisor or one of its threads. */
static bool is_supervisor(long pid)
{
    if (pid <= 0)
        return false;
    if (pid == getpid())
        return true;
    char task[48];
    snprintf(task, sizeof(task), "/proc/self/task/%ld", pid);
    return access(task, F_OK) == 0;
}

/* Calls that would reach the supervisor itself, refused whatever the policy says (DESIGN.md 3.5:
 * the target cannot reach its supervisor). Returns the errno, or 0. */
static int protect_supervisor(const struct request *r)
{
    static const struct {
        const char *syscall;
        int pid_args[2]; /* arguments holding a pid, -1 for none */
    } by_pid[] = {
        {"ptrace", {1, -1}},
        {"process_vm_readv", {0, -1}},
        {"process_vm_writev", {0, -1}},
        {"kcmp", {0, 1}},
        {"pidfd_open", {0, -1}},
        {"kill", {0, -1}},
        {"tkill", {0, -1}},
        {"tgkill", {0, 1}},
        {"rt_sigqueueinfo", {0, -1}},
        {"rt_tgsigqueueinfo", {0, 1}},
        {"prlimit64", {0, -1}},
        {"get_robust_list", {0, -1}},
    };
    const uint64_t *args = (const uint64_t *)r->n->data.args;
    for (size_t i = 0; i < ARRAY_SIZE(by_pid); i++) {
        if (!streq(r->syscall, by_pid[i].syscall))
            continue;
        for (int k = 0; k < 2; k++)
            if (by_pid[i].pid_args[k] >= 0 &&
                is_supervisor((int)(uint32_t)args[by_pid[i].pid_args[k]]))
                return EPERM;
        /* The whole process group holds the launcher: no SIGKILL or SIGSTOP for it. */
        int sig = (int)(uint32_t)args[1];
        int pid = (int)(uint32_t)args[0];
        if (streq(r->syscall, "kill") && (sig == SIGKILL || sig == SIGSTOP) &&
            (pid == 0 || pid == -getpgrp() || pid == -1))
            return EPERM;
    }
    /* Nothing under /proc/SUPERVISOR: its memory, its descriptors, its root. */
    for (size_t i = 0; i < r->call.n_values; i++) {
        const char *v = r->call.values[i].value;
        if (!streq(r->call.values[i].name, "filename") || !v || strncmp(v, "/proc/", 6) != 0)
            continue;
        char *end;
        long pid = strtol(v + 6, &end, 10);
        if (end != v + 6 && (*end == '/' || *end == '\0') && is_supervisor(pid))
            return EACCES;
    }
    return 0;
}

/* Decides and answers a request whose arguments are translated. */
static void serve(struct sup *s, struct request *r)
{
    const struct seccomp_notif *n = r->n;
    r->syscall = sys_name(n->data.nr) ? sys_name(n->data.nr) : "unknown";
    enum sys_alias alias =
        s->cfg.no_alias ? SYS_ALIAS_NONE : sys_alias_for(n->data.nr, r->call.oflags);
    r->rule_name = alias != SYS_ALIAS_NONE ? sys_alias_name(alias) : r->syscall;
    r->req = (struct pol_request){
        .nr = n->data.nr,
        .alias = alias,
        .args = r->call.values,
        .n_args = r->call.n_values,
        .uid = r->proc.uid,
        .gid = r->proc.gid,
        .user = r->proc.user,
        .group = r->proc.group,
        .home = r->proc.home,
        .cwd = r->cwd,
        .pid = r->proc.tgid,
        .tid = n->pid,
    };
    r->governing = s->cfg.inherit ? s->cfg.first_binary : r->proc.binary;
    store_get(s->cfg.store, r->governing, &r->policy);
    /* $CWD costs a readlink: only for policies that compare with it, questions and learning. */
    if ((r->policy.policy && r->policy.policy->uses_cwd) || s->cfg.mode != SUP_ENFORCE ||
        s->n_session) {
        char link[32], cwd[4097];
        snprintf(link, sizeof(link), "/proc/%d/cwd", n->pid);
        ssize_t cn = readlink(link, cwd, sizeof(cwd) - 1);
        if (cn >= 0)
            r->cwd = xstrndup(cwd, (size_t)cn);
        r->req.cwd = r->cwd;
    }
    check_compiled(s, r);
    struct verdict v = {0};
    if (r->call.err) {
        /* The kernel itself would fail the call so: a malformed argument (logged), or a path
         * that openat2's RESOLVE_* flags refuse (just answered). */
        static const int malformed[] = {EFAULT, ENAMETOOLONG, EINVAL, E2BIG, ERANGE};
        bool bad = false;
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++)
            bad |= r->call.err == malformed[i];
        v = (struct verdict){SUP_DENY, r->call.err, bad, "malformed-argument", NULL, NULL};
        if (bad)
            log_request(s, r, &v);
        notify_return(s->cfg.listener, n->id, 0, r->call.err);
        return;
    }
    int guard = protect_supervisor(r);
    if (guard) {
        v = (struct verdict){SUP_DENY, guard, true, "protects-the-supervisor", NULL, NULL, false};
        log_request(s, r, &v);
        notify_return(s->cfg.listener, n->id, 0, guard);
        return;
    }
    decide(s, r, &v);
    if (v.log)
        log_request(s, r, &v);
    act(s, r, &v, r->call.n_paths ? r->call.paths[0].raw : NULL);
}

static void handle(struct sup *s, const struct seccomp_notif *n, int worker)
{
    struct request r = {.n = n, .waiting = -1, .worker = worker};
    if (procs_get(s->procs, n->pid, &r.proc) < 0) {
        /* Gone, and its call with it; or alive but out of our sight (its /proc entries refuse
         * us): never leave it waiting, and never let it run unseen. */
        if (is_call(n->data.nr, "exit") || is_call(n->data.nr, "exit_group")) {
            notify_continue(s->cfg.listener, n->id); /* leaving grants nothing */
        } else if (notify_id_valid(s->cfg.listener, n->id)) {
            log_event(s->cfg.log,
                      "pid=%d syscall=%s decision=deny errno=EPERM "
                      "reason=cannot-inspect-the-process",
                      n->pid, sys_name(n->data.nr) ? sys_name(n->data.nr) : "unknown");
            notify_return(s->cfg.listener, n->id, 0, EPERM);
        }
        return;
    }
#ifdef SYSTRACE_UNSAFE_CONTINUE
    r.proc.exec_mismatch = false; /* the testing-only build trusts execve like a naive one */
#endif
    if (r.proc.exec_mismatch && s->cfg.mode != SUP_LEARN) {
        /* It runs something else than the program its execve was permitted for. */
        _cleanup_free_ char *bin = pol_quote(r.proc.binary);
        log_event(s->cfg.log,
                  "pid=%d exec verification failed: it runs %s, not the program "
                  "permitted; killed",
                  n->pid, bin);
        kill(r.proc.tgid, SIGKILL);
        notify_return(s->cfg.listener, n->id, 0, EPERM);
        proc_info_clear(&r.proc);
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool detached = s->detached;
    pthread_mutex_unlock(&s->lock);
    if (r.proc.launching || detached) {
        /* The launcher's own child before its exec: its close, its execve of the command. */
        if (r.proc.launching && is_call(n->data.nr, "execve")) {
            /* Its own code, not yet the target's: the path is the command resolved earlier. */
            _cleanup_free_ char *raw = NULL;
            if (tr_read_string(n->pid, n->data.args[0], 4096, &raw) == 0)
                procs_exec_permitted(s->procs, n->pid, s->cfg.first_binary, raw);
        }
        notify_continue(s->cfg.listener, n->id);
    } else {
        struct tr_target target = {n->pid, r.proc.tgid, r.proc.root_prefix};
        if (tr_translate(n, &target, &r.call) == 0 &&
            (!r.call.reads_memory || still_waiting(s, &r)))
            serve(s, &r);
    }
    store_policy_release(&r.policy);
    tr_call_free(&r.call);
    proc_info_clear(&r.proc);
    free(r.cwd);
}

static void *worker_main(void *arg)
{
    struct sup *s = arg;
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
    /* spawn_worker holds the lock until workers[] names this thread. */
    pthread_mutex_lock(&s->lock);
    int self = 0;
    while (self < s->n_workers && !pthread_equal(s->workers[self], pthread_self()))
        self++;
    struct seccomp_notif n;
    for (;;) {
        while (s->receiving && !s->stopping) {
            s->followers++;
            pthread_cond_wait(&s->follow, &s->lock);
            s->followers--;
        }
        if (s->stopping)
            break;
        s->receiving = true;
        s->summoned = false;
        pthread_mutex_unlock(&s->lock);
        int r = notify_recv(s->cfg.listener, &n);
        pthread_mutex_lock(&s->lock);
        s->receiving = false;
        if (s->stopping)
            break;
        if (r == -ENOENT && notify_listener_idle_forever(s->cfg.listener)) {
            /* Every supervised process is gone: wait for sup_stop rather than spin. */
            s->receiving = true;
            while (!s->stopping)
                pthread_cond_wait(&s->follow, &s->lock);
            break;
        }
        if (r == -EINTR || r == -ENOENT)
            continue;
        if (r < 0) {
            /* The listener itself fails: let a follower see it too rather than wait unwoken. */
            pthread_cond_signal(&s->follow);
            break;
        }
        s->busy_since[self] = monotonic_ns();
        s->serving[self] = n.id;
        s->interruptible[self] = true;
        pthread_mutex_unlock(&s->lock);
        handle(s, &n, self);
        pthread_mutex_lock(&s->lock);
        s->busy_since[self] = 0;
        s->interruptible[self] = false;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

bool sup_rule_fits(const struct sup_question *q, const char *rule_line, char **ret_error)
{
    struct pol_rule *rule;
    if (pol_parse_rule(rule_line, &rule, ret_error) < 0)
        return false;
    bool fits = pol_rule_matches(rule, q->req, NULL);
    if (!fits)
        *ret_error = xasprintf("the rule does not match this call (%s)", q->rule_name);
    pol_rule_free(rule);
    return fits;
}
