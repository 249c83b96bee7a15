/* supervise.c: the engine. One worker at a time blocks in SECCOMP_IOCTL_NOTIF_RECV (the cheapest
 * receive loop: the kernel wakes every thread waiting there for each request, so idle workers
 * wait on a condition variable instead). The receiver serves what it receives and receives again.
 * Before work that may block (a connect, an exec's outcome) it hands the receiving role to an
 * idle worker, starting one if none is idle, and the host's monitor does the same for a request
 * served longer than STALL_NS. A question for a person holds no thread: it waits in the session's
 * table until the host answers it, its deadline passes (a loop timer) or its process dies (the
 * loop sees the pidfd); the answer's work then runs as a job on an idle worker. */
#include "supervise.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "emulate.h"
#include "errnames.h"
#include "execwatch.h"
#include "host.h"
#include "learn.h"
#include "notify.h"
#include "procs.h"
#include "suggest.h"
#include "translate.h"
#include "util.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define STALL_NS            (20 * 1000 * 1000)
#define DEFAULT_QUESTIONS   256
#define DEFAULT_BLOCKED     256
#define DEFAULT_ASK_TIMEOUT (10u * 60 * 1000)
#define MAX_PARENTS         16

static const char *const mode_names[SUP_MODE_MAX] = {
    [SUP_LEARN] = "learn",
    [SUP_ENFORCE] = "enforce",
    [SUP_ASK] = "ask",
    [SUP_COMPLAIN] = "complain",
};

const char *sup_mode_name(enum sup_mode mode)
{
    return mode < SUP_MODE_MAX ? mode_names[mode] : "?";
}

int sup_mode_from_name(const char *name, enum sup_mode *ret)
{
    for (int m = 0; m < SUP_MODE_MAX; m++)
        if (streq(mode_names[m], name)) {
            *ret = (enum sup_mode)m;
            return 0;
        }
    return -EINVAL;
}

struct session_rule {
    char *binary;
    struct pol_rule *rule;
};

/* The policy snapshot last seen for a program, to notice edits. */
struct seen_policy {
    char *binary;
    const void *file;
};

struct worker {
    struct sup *sup;
    pthread_t thread;
    /* For the monitor, under the session's lock: */
    uint64_t busy_since; /* CLOCK_MONOTONIC ns; 0 when idle */
    uint64_t serving;    /* the notification id served */
    bool interruptible;  /* a signal may abort what it does (never once it answers) */
    struct worker *next;
};

struct job {
    void (*fn)(struct sup *sup, void *data);
    void *data;
    struct job *next;
};

struct pending;

struct sup {
    struct host *host;
    struct sup_config cfg;
    struct sup_owner owner;
    gid_t owner_groups[PROC_MAX_GROUPS];
    struct procs *procs;
    struct learner *learner;
    struct host_client client;
    uint64_t started_ns;
    pthread_mutex_t lock; /* everything below */
    enum sup_mode mode;
    bool asking; /* an agent is attached: uncovered calls are asked in enforce mode too */
    bool detached;
    bool stopping;
    bool ended; /* every process is gone, or the listener failed */
    struct worker *workers;
    unsigned n_workers;
    bool receiving;        /* a worker is in RECV, or about to be */
    bool summoned;         /* a follower was woken (or started) to receive */
    unsigned followers;    /* idle workers waiting on FOLLOW */
    pthread_cond_t follow; /* idle workers wait here for the receiving role or a job */
    struct job *jobs, **jobs_tail;
    unsigned blocked; /* requests in slow work */
    struct pending *pending;
    unsigned n_pending;
    uint64_t next_token;
    struct session_rule *session;
    size_t n_session;
    char **warned; /* messages logged once */
    size_t n_warned;
    struct seen_policy *seen;
    size_t n_seen;
};

static void *worker_main(void *arg);

/* ---- requests ---------------------------------------------------------------------------- */

/* Everything one request needs, gathered once. A question keeps it (struct pending). */
struct request {
    struct seccomp_notif n;
    struct proc_info proc;
    const char *governing; /* the program whose policy decides: proc.binary, or the first (-i) */
    struct tr_call call;
    struct pol_request req;
    const char *syscall;
    const char *rule_name;
    char *cwd;
    struct store_policy policy;
    int waiting; /* still_waiting's answer: -1 not asked yet, else 0 or 1 */
    struct worker *worker;
};

static void request_clear(struct request *r)
{
    store_policy_release(&r->policy);
    tr_call_free(&r->call);
    proc_info_clear(&r->proc);
    free(r->cwd);
    r->cwd = NULL;
}

/* Whether R's process still waits for the answer (the kernel's word: its pid may be someone
 * else's by now). A bare answer to a void request fails by itself; what outlasts the answer (a
 * log line, a learned rule, a question, a call performed on memory read) needs this first. */
static bool still_waiting(struct sup *s, struct request *r)
{
    if (r->waiting < 0)
        r->waiting = notify_id_valid(s->cfg.listener, r->n.id);
    return r->waiting;
}

/* The verdict for one request. */
struct verdict {
    enum sup_action action;
    int err;
    bool log;
    const char *reason;
    const struct pol_rule *rule;
    bool read_memory; /* the decision depended on pointer memory */
    bool would_deny;  /* complain mode: permitted although the policy denies it */
};

static enum sup_mode current_mode(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    enum sup_mode m = s->mode;
    pthread_mutex_unlock(&s->lock);
    return m;
}

static void log_request(struct sup *s, struct request *r, const struct verdict *v)
{
    if (!still_waiting(s, r))
        return;
    struct buf b = {0};
    _cleanup_free_ char *user = pol_quote(r->proc.user);
    _cleanup_free_ char *bin = pol_quote(r->proc.binary);
    buf_printf(&b, "user=%s uid=%u binary=%s pid=%d tid=%d syscall=%s", user, r->proc.uid, bin,
               r->proc.tgid, r->n.pid, r->syscall);
    if (r->rule_name != r->syscall)
        buf_printf(&b, "(%s)", r->rule_name);
    for (size_t i = 0; i < r->call.n_values; i++) {
        _cleanup_free_ char *q = pol_quote(r->call.values[i].value);
        buf_printf(&b, " %s=%s", r->call.values[i].name, q);
    }
    static const char *const actions[SUP_ACTION_MAX] = {"permit", "deny", "kill", "detach"};
    buf_printf(&b, " decision=%s", v->would_deny ? "would-deny" : actions[v->action]);
    if (v->action == SUP_DENY || v->would_deny)
        buf_printf(&b, " errno=%s", errname_from_errno(v->err ? v->err : EPERM));
    buf_printf(&b, " reason=%s", v->reason);
    if (v->rule && v->rule->line)
        buf_printf(&b, " rule=%s:%u", r->policy.path ? r->policy.path : "?", v->rule->line);
    log_event(s->cfg.log, "%s", b.data);
    if (s->cfg.events && s->cfg.events->decision)
        s->cfg.events->decision(s->cfg.events_data, s, b.data);
    buf_free(&b);
}

/* Logs MESSAGE once per session. */
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

/* ---- workers and jobs -------------------------------------------------------------------- */

/* Starts one more worker; S->lock held. */
static int spawn_worker(struct sup *s)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    w->sup = s;
    /* Workers need little stack: a session may be one of many in a daemon. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int r = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        free(w);
        return -r;
    }
    w->next = s->workers;
    s->workers = w;
    s->n_workers++;
    return 0;
}

/* Makes sure someone receives while this worker goes on with slow work; S->lock held. */
static void hand_off_locked(struct sup *s)
{
    if (s->receiving || s->summoned || s->stopping || s->ended)
        return;
    /* A woken follower finds no receiver and takes the role; so does a started worker. */
    if (s->followers > 0)
        pthread_cond_signal(&s->follow);
    else if (spawn_worker(s) < 0)
        return; /* no thread: the first worker to finish receives */
    s->summoned = true;
}

static void hand_off(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    hand_off_locked(s);
    pthread_mutex_unlock(&s->lock);
}

/* Runs FN(S, DATA) on an idle worker (or a new one). */
static void post_job(struct sup *s, void (*fn)(struct sup *, void *), void *data)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->fn = fn;
    j->data = data;
    pthread_mutex_lock(&s->lock);
    *s->jobs_tail = j;
    s->jobs_tail = &j->next;
    if (s->followers > 0)
        pthread_cond_signal(&s->follow);
    else
        spawn_worker(s);
    pthread_mutex_unlock(&s->lock);
}

/* The monitor's look at this session: a worker serving a request for a process that is gone
 * (an open of a FIFO no one writes, a connect) is interrupted instead of lost, unless it is
 * answering; one busy for longer than STALL_NS makes another worker receive. */
static bool tick(void *data, uint64_t now)
{
    struct sup *s = data;
    bool busy = false;
    pthread_mutex_lock(&s->lock);
    for (struct worker *w = s->workers; w; w = w->next) {
        if (!w->busy_since)
            continue;
        busy = true;
        if (w->interruptible && w->serving && !notify_id_valid(s->cfg.listener, w->serving))
            pthread_kill(w->thread, HOST_WAKE_SIGNAL);
        else if (now - w->busy_since > STALL_NS)
            hand_off_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
    return busy;
}

static void mark_busy(struct worker *w, uint64_t id)
{
    w->busy_since = loop_now_ns();
    w->serving = id;
    w->interruptible = true;
}

static void mark_idle(struct worker *w)
{
    w->busy_since = 0;
    w->serving = 0;
    w->interruptible = false;
}

/* ---- questions --------------------------------------------------------------------------- */

struct timer_ctx {
    struct sup *sup;
    uint64_t token;
};

/* A question waiting for its answer: the request it is about, and the strings shown. */
struct pending {
    uint64_t token;
    struct request r;
    struct request *repeats; /* the same call of the same process, asked while this waits */
    size_t n_repeats;
    struct sup_question q;
    char **suggestions;
    size_t n_suggestions;
    char *argv;
    struct sup_ancestor parents[MAX_PARENTS];
    char *parent_bins[MAX_PARENTS];
    struct loop_timer *timer;
    struct timer_ctx deadline; /* what the timer's callback looks the question up by */
    struct sup_answer answer;  /* once answered */
    char *answer_rule;
    bool by_ask_rule; /* an "ask" rule asked it (not uncovered): a rule added after it is not met */
    struct pending *next;
};

static void pending_free(struct pending *p)
{
    request_clear(&p->r);
    for (size_t i = 0; i < p->n_repeats; i++)
        request_clear(&p->repeats[i]);
    free(p->repeats);
    suggest_free(p->suggestions, p->n_suggestions);
    free(p->argv);
    for (size_t i = 0; i < p->q.n_parents; i++)
        free(p->parent_bins[i]);
    free(p->answer_rule);
    free(p);
}

/* Takes the pending question TOKEN out of the table; S->lock held. NULL if it is not there. */
static struct pending *take_pending(struct sup *s, uint64_t token)
{
    for (struct pending **p = &s->pending; *p; p = &(*p)->next)
        if ((*p)->token == token) {
            struct pending *found = *p;
            *p = found->next;
            s->n_pending--;
            return found;
        }
    return NULL;
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

static void session_add(struct sup *s, const char *binary, struct pol_rule *rule)
{
    pthread_mutex_lock(&s->lock);
    s->session = xreallocarray(s->session, s->n_session + 1, sizeof(*s->session));
    s->session[s->n_session++] = (struct session_rule){xstrdup(binary), rule};
    pthread_mutex_unlock(&s->lock);
}

static void settle_covered(struct sup *s, const char *binary, const struct pol_rule *rule);
static struct pending *take_first(struct sup *s, bool (*match)(struct pending *p, void *data),
                                  void *data, enum sup_cancel_reason why);

/* Keeps an answer for the session or writes it to the policy; the other questions it covers
 * are answered by it. */
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
    settle_covered(s, r->governing, rule);
    const char *dir = store_user_dir(s->cfg.store);
    if (a->scope == SUP_ALWAYS && dir) {
        /* As the session's owner: their directory, their file, never root's reach. */
        int became = store_as_owner(s->cfg.store);
        const char *one[] = {line};
        int rr = became;
        if (became >= 0) {
            store_ensure_dir(dir);
            rr = store_append(dir, r->governing, one, 1, NULL, &err);
            store_as_host(became);
        }
        if (rr < 0) {
            _cleanup_free_ char *bin = pol_quote(r->governing);
            log_event(s->cfg.log, "cannot write the answer to the policy of %s: %s", bin,
                      err ? err : strerror(-rr));
        }
        free(err);
        if (rr == 0) {
            pol_rule_free(rule);
            return; /* the store reloads the file for the next call */
        }
    }
    session_add(s, r->governing, rule);
}

static void act(struct sup *s, struct request *r, const struct verdict *v);
static void answered_job(struct sup *s, void *data);

/* A rule just kept (appended to the policy, or for the session) is met by the calls of BINARY
 * that wait for an answer because no rule covered them: each is answered as the rule says,
 * once, as if the person had (its own question is withdrawn as answered). */
struct covered {
    const char *binary;
    const struct pol_rule *rule;
};

static bool is_covered(struct pending *p, void *data)
{
    const struct covered *c = data;
    bool read_memory = false;
    p->r.req.args = p->r.call.values;
    return !p->by_ask_rule && streq(p->r.governing, c->binary) &&
           pol_rule_matches(c->rule, &p->r.req, &read_memory);
}

static void settle_covered(struct sup *s, const char *binary, const struct pol_rule *rule)
{
    if (rule->action != POL_PERMIT && rule->action != POL_DENY)
        return;
    struct covered c = {binary, rule};
    for (struct pending *p; (p = take_first(s, is_covered, &c, SUP_CANCEL_ANSWERED));) {
        p->answer = (struct sup_answer){
            .action = rule->action == POL_PERMIT ? SUP_PERMIT : SUP_DENY,
            .scope = SUP_ONCE,
            .err = rule->action == POL_DENY && rule->err > 0 ? rule->err : 0,
        };
        post_job(s, answered_job, p);
    }
}

/* Answers a question's request and its repeats by VERDICT, on a worker. */
static void conclude(struct sup *s, struct pending *p, const struct verdict *v)
{
    struct request *all[1 + 64];
    size_t n = 0;
    all[n++] = &p->r;
    for (size_t i = 0; i < p->n_repeats && n < ARRAY_SIZE(all); i++)
        all[n++] = &p->repeats[i];
    for (size_t i = 0; i < n; i++) {
        struct request *r = all[i];
        r->req.args = r->call.values; /* the request was moved since it was translated */
        r->waiting = -1;
        if (!still_waiting(s, r))
            continue;
        struct verdict vi = *v;
        vi.read_memory = v->read_memory && r->call.reads_memory;
        if (vi.log)
            log_request(s, r, &vi);
        act(s, r, &vi);
    }
}

/* The job run for an answered question. */
static void answered_job(struct sup *s, void *data)
{
    struct pending *p = data;
    const struct sup_answer *a = &p->answer;
    p->r.waiting = -1;
    if (still_waiting(s, &p->r) && (a->action == SUP_PERMIT || a->action == SUP_DENY) &&
        a->scope != SUP_ONCE)
        remember(s, &p->r, a);
    /* The person saw the call's arguments: a permit depends on them if they came from memory. */
    struct verdict v = {a->action, a->action == SUP_DENY ? (a->err ? a->err : EPERM) : 0,
                        true,      "answered",
                        NULL,      p->r.call.reads_memory,
                        false};
    conclude(s, p, &v);
    pending_free(p);
}

/* The job run for a question nobody answered in time: denied once, never stored. */
static void timeout_job(struct sup *s, void *data)
{
    struct pending *p = data;
    struct verdict v = {SUP_DENY, EPERM, true, "timeout", NULL, false, false};
    conclude(s, p, &v);
    pending_free(p);
}

static void on_deadline(void *data)
{
    struct timer_ctx *t = data;
    struct sup *s = t->sup;
    pthread_mutex_lock(&s->lock);
    struct pending *p = take_pending(s, t->token);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return; /* answered or withdrawn meanwhile: whoever took it releases the timer */
    loop_timer_cancel(host_loop(s->host), p->timer); /* fired: released */
    p->timer = NULL;
    if (s->cfg.asker && s->cfg.asker->cancel)
        s->cfg.asker->cancel(s->cfg.asker_data, s, p->token, SUP_CANCEL_DEADLINE);
    post_job(s, timeout_job, p);
}

int sup_answer(struct sup *s, uint64_t token, const struct sup_answer *a)
{
    if (a->action >= SUP_ACTION_MAX || a->scope >= SUP_SCOPE_MAX)
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    struct pending *p = take_pending(s, token);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return -ENOENT;
    loop_timer_cancel(host_loop(s->host), p->timer);
    p->timer = NULL;
    p->answer = *a;
    p->answer_rule = a->rule ? xstrdup(a->rule) : NULL;
    p->answer.rule = p->answer_rule;
    if (a->action == SUP_DETACH)
        sup_detach(s);
    post_job(s, answered_job, p);
    return 0;
}

/* Takes the first waiting question MATCH(P, DATA) accepts out of the table, with its deadline,
 * and tells the asker WHY it is moot; NULL when none is left. */
static struct pending *take_first(struct sup *s, bool (*match)(struct pending *p, void *data),
                                  void *data, enum sup_cancel_reason why)
{
    pthread_mutex_lock(&s->lock);
    struct pending *p = NULL;
    for (struct pending *q = s->pending; q && !p; q = q->next)
        if (match(q, data))
            p = q;
    if (p)
        take_pending(s, p->token);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return NULL;
    loop_timer_cancel(host_loop(s->host), p->timer);
    p->timer = NULL;
    if (s->cfg.asker && s->cfg.asker->cancel)
        s->cfg.asker->cancel(s->cfg.asker_data, s, p->token, why);
    return p;
}

static bool of_process(struct pending *p, void *data)
{
    pid_t tgid = *(pid_t *)data;
    return !tgid || p->r.proc.tgid == tgid;
}

/* Withdraws every question of process TGID (0: every question), telling the asker WHY. Without
 * ANSWER the requests are left unanswered (their process is gone). */
static void withdraw(struct sup *s, pid_t tgid, enum sup_cancel_reason why, bool answer)
{
    for (struct pending *p; (p = take_first(s, of_process, &tgid, why));) {
        if (answer) {
            struct verdict v = {SUP_DENY, EPERM, true, "withdrawn", NULL, false, false};
            conclude(s, p, &v);
        }
        pending_free(p);
    }
}

/* The process ended (on the loop's thread): its questions are moot. */
static void on_process_exit(void *data, pid_t tgid)
{
    withdraw(data, tgid, SUP_CANCEL_GONE, false);
}

/* Whether A and B are the same call with the same arguments. */
static bool same_call(const struct request *a, const struct request *b)
{
    if (a->proc.tgid != b->proc.tgid || a->n.data.nr != b->n.data.nr ||
        a->call.n_values != b->call.n_values)
        return false;
    for (size_t i = 0; i < a->call.n_values; i++)
        if (!streq(a->call.values[i].name, b->call.values[i].name) ||
            !streq(a->call.values[i].value ? a->call.values[i].value : "",
                   b->call.values[i].value ? b->call.values[i].value : ""))
            return false;
    return true;
}

/* R's working directory, for $CWD and for questions. */
static void load_cwd(struct request *r)
{
    if (r->cwd)
        return;
    char link[32], cwd[4097];
    snprintf(link, sizeof(link), "/proc/%d/cwd", r->n.pid);
    ssize_t cn = readlink(link, cwd, sizeof(cwd) - 1);
    if (cn >= 0)
        r->cwd = xstrndup(cwd, (size_t)cn);
    r->req.cwd = r->cwd;
}

/* The process's arguments from /proc, joined with spaces, and its chain of parents. */
/* P's command line and the chain of its parents, shown to whoever answers: as far up as the
 * processes are the session owner's (another user's, root's shell that started it, are not
 * theirs to see). */
static void describe_process(const struct sup *s, struct pending *p)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", p->r.proc.tgid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *text = NULL;
    size_t len = 0;
    if (fd >= 0 && read_fd_all(fd, 1u << 16, &text, &len) == 0) {
        for (size_t i = 0; i + 1 < len; i++)
            if (text[i] == '\0')
                text[i] = ' ';
        p->argv = text;
    } else {
        free(text);
        p->argv = xstrdup("");
    }
    if (fd >= 0)
        close(fd);
    pid_t pid = p->r.proc.tgid;
    size_t n = 0;
    while (n < MAX_PARENTS) {
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        _cleanup_close_ int sfd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *stat = NULL;
        if (sfd < 0 || read_fd_all(sfd, 4096, &stat, NULL) < 0)
            break;
        const char *close_paren = strrchr(stat, ')');
        int ppid = 0;
        if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1 || ppid <= 1)
            break;
        pid = ppid;
        char dir[32];
        struct stat owner;
        snprintf(dir, sizeof(dir), "/proc/%d", pid);
        if (s->owner.uid != 0 && (lstat(dir, &owner) < 0 || owner.st_uid != s->owner.uid))
            break;
        char exe[48], buf[4097];
        snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
        ssize_t k = readlink(exe, buf, sizeof(buf) - 1);
        p->parent_bins[n] = k < 0 ? xstrdup("?") : xstrndup(buf, (size_t)k);
        p->parents[n] = (struct sup_ancestor){pid, p->parent_bins[n]};
        n++;
    }
    p->q.parents = p->parents;
    p->q.n_parents = n;
}

static unsigned limit_or(unsigned v, unsigned def)
{
    return v ? v : def;
}

/* Hands R to the asker; R is the question's from now on (moved, left empty). Returns false, with
 * R untouched, when the call must be decided now (nobody to ask, too many questions): *V says
 * how. */
static bool ask(struct sup *s, struct request *r, struct verdict *v)
{
    if (!still_waiting(s, r)) {
        *v = (struct verdict){SUP_DENY, EPERM, false, "gone", v->rule, false, false};
        return false;
    }
    if (!s->cfg.asker) {
        *v = (struct verdict){SUP_DENY, EPERM, true, "no-one-to-ask", v->rule, false, false};
        return false;
    }
    pthread_mutex_lock(&s->lock);
    /* The same call of the same process already waits: one question for both. */
    for (struct pending *p = s->pending; p; p = p->next)
        if (same_call(&p->r, r) && p->n_repeats < 64) {
            p->repeats = xreallocarray(p->repeats, p->n_repeats + 1, sizeof(*p->repeats));
            p->repeats[p->n_repeats++] = *r;
            *r = (struct request){.waiting = -1};
            p->q.repeats = (unsigned)p->n_repeats;
            pthread_mutex_unlock(&s->lock);
            return true;
        }
    bool full = s->n_pending >= limit_or(s->cfg.limits.max_questions, DEFAULT_QUESTIONS);
    uint64_t token = ++s->next_token;
    pthread_mutex_unlock(&s->lock);
    if (full) {
        *v = (struct verdict){SUP_DENY, EPERM, true, "too-many-questions", v->rule, false, false};
        return false;
    }
    struct pending *p = xcalloc(1, sizeof(*p));
    p->token = token;
    p->by_ask_rule = v->rule != NULL;
    p->r = *r;
    p->r.worker = NULL;
    p->r.req.args = p->r.call.values;
    *r = (struct request){.waiting = -1};
    r = &p->r;
    load_cwd(r);
    _cleanup_free_ char *action = xstrdup("permit");
    p->n_suggestions = suggest_rules(r->rule_name, &r->req, action, &p->suggestions);
    describe_process(s, p);
    uint64_t timeout_ms = limit_or(s->cfg.limits.ask_timeout_ms, DEFAULT_ASK_TIMEOUT);
    p->q = (struct sup_question){
        .token = token,
        .deadline_ns = loop_now_ns() + timeout_ms * 1000000u,
        .pid = r->proc.tgid,
        .tid = r->n.pid,
        .uid = r->proc.uid,
        .user = r->proc.user,
        .binary = r->governing,
        .argv = p->argv,
        .cwd = r->cwd,
        .parents = p->parents,
        .n_parents = p->q.n_parents,
        .syscall = r->syscall,
        .rule_name = r->rule_name,
        .req = &r->req,
        .policy_path = r->policy.path,
        .rule_count = r->policy.policy ? r->policy.policy->n_rules : 0,
        .suggestions = p->suggestions,
        .n_suggestions = p->n_suggestions,
        .notification = &r->n,
    };
    pthread_mutex_lock(&s->lock);
    p->next = s->pending;
    s->pending = p;
    s->n_pending++;
    pthread_mutex_unlock(&s->lock);
    p->deadline = (struct timer_ctx){s, token};
    p->timer = loop_timer_add(host_loop(s->host), p->q.deadline_ns, on_deadline, &p->deadline);
    if (s->cfg.asker->ask(s->cfg.asker_data, s, &p->q) < 0) {
        pthread_mutex_lock(&s->lock);
        struct pending *mine = take_pending(s, token);
        pthread_mutex_unlock(&s->lock);
        if (mine) {
            loop_timer_cancel(host_loop(s->host), mine->timer);
            struct verdict dv = {SUP_DENY, EPERM, true, "not-asked", NULL, false, false};
            conclude(s, mine, &dv);
            pending_free(mine);
        }
    }
    return true;
}

/* ---- deciding ---------------------------------------------------------------------------- */

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

/* Decides R. Returns false when R went to the asker. */
static bool decide(struct sup *s, struct request *r, struct verdict *v)
{
    bool read_memory = false;
    enum sup_mode mode;
    bool asking;
    pthread_mutex_lock(&s->lock);
    mode = s->mode;
    asking = s->asking;
    pthread_mutex_unlock(&s->lock);
    const struct pol_rule *rule = match_rule(s, r, &r->req, &read_memory);
    v->read_memory = read_memory;
    if (rule) {
        v->rule = rule;
        v->log = rule->log;
        v->reason = "rule";
        if (rule->as_user || rule->as_group) {
            warn_once(s, "privilege elevation ('as user:group') is not supported yet: such "
                         "rules deny");
            *v = (struct verdict){SUP_DENY, EPERM, true, "elevation-unsupported",
                                  rule,     false, false};
            return true;
        }
        switch (rule->action) {
        case POL_PERMIT:
            v->action = SUP_PERMIT;
            return true;
        case POL_DENY:
            if (mode == SUP_COMPLAIN) {
                *v = (struct verdict){
                    SUP_PERMIT, rule->err > 0 ? rule->err : EPERM, true, "rule", rule, read_memory,
                    true};
                return true;
            }
            v->action = SUP_DENY;
            v->err = rule->err > 0 ? rule->err : EPERM;
            return true;
        case POL_ASK:
            if (mode == SUP_LEARN || mode == SUP_COMPLAIN) {
                v->action = SUP_PERMIT;
                return true;
            }
            return !ask(s, r, v);
        case POL_ACTION_MAX:
            break;
        }
    }
    switch (mode) {
    case SUP_LEARN: {
        _cleanup_free_ char *line = learner_rule(s->learner, r->governing, r->rule_name, &r->req);
        /* Most calls were seen before: only a new rule needs the request checked first. */
        if (!learner_knows(s->learner, r->governing, line) && still_waiting(s, r))
            learner_add(s->learner, r->governing, line);
        *v = (struct verdict){SUP_PERMIT, 0, false, "learned", NULL, false, false};
        return true;
    }
    case SUP_COMPLAIN:
        *v = (struct verdict){SUP_PERMIT, EPERM, true, "uncovered", NULL, read_memory, true};
        return true;
    case SUP_ENFORCE:
        if (!asking) {
            *v = (struct verdict){SUP_DENY, EPERM, true, "uncovered", NULL, false, false};
            return true;
        }
        return !ask(s, r, v);
    case SUP_ASK:
        return !ask(s, r, v);
    case SUP_MODE_MAX:
        break;
    }
    *v = (struct verdict){SUP_DENY, EPERM, true, "uncovered", NULL, false, false};
    return true;
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
        if (streq(values[i].name, "filename") && k++ == path_index) {
            values[i].value = actual;
            values[i].missing = false;
        }
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
              "pid=%d tid=%d syscall=%s reached filename=%s instead of the path checked: %s",
              r->proc.tgid, r->n.pid, r->syscall, q, err ? "denied" : "permitted");
    return err;
}

/* The monitor must not interrupt this worker from now on (emu_ctx.answering). */
static _unused_ void answering(void *data)
{
    struct recheck_ctx *c = data;
    if (!c->r->worker)
        return;
    pthread_mutex_lock(&c->sup->lock);
    c->r->worker->interruptible = false;
    pthread_mutex_unlock(&c->sup->lock);
}

/* A permit whose decision read pointer memory: the supervisor performs the call on what it
 * checked. Calls without an emulation CONTINUE with a logged "unsafe" mark. */
static void permit_checked(struct sup *s, struct request *r, const struct verdict *v)
{
    const struct seccomp_notif *n = &r->n;
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

struct settle_ctx {
    struct sup *sup;
    const char *path;
};

/* At the exec stop, before the process runs what it loaded: once detached, its first call may
 * reach another worker at once, and must find the new program in the table (not "launching",
 * whose calls are let through), and its question must not be taken for one of the threads the
 * exec ended. */
static void exec_settled(void *data, const struct exec_result *res)
{
    struct settle_ctx *c = data;
    const char *program = res->program;
#ifdef SYSTRACE_UNSAFE_CONTINUE
    /* The testing-only build trusts an exec as a naive supervisor would: it runs what was
     * permitted, whatever it loaded. */
    program = c->path;
#endif
    procs_exec_done(c->sup->procs, res->tgid, res->old_tid, program);
    /* Every other thread of the process is gone with its exec: so are its questions. */
    withdraw(c->sup, res->tgid, SUP_CANCEL_GONE, false);
}

/* A permitted exec: the call runs, and the supervisor settles it as it succeeds
 * (common/execwatch.c). In learn mode what ran is only recorded; otherwise a mismatch is killed.
 * PATH is the resolved program permitted. */
static void permit_exec(struct sup *s, struct request *r, const char *path, const char *raw)
{
    const struct seccomp_notif *n = &r->n;
    bool verify = current_mode(s) != SUP_LEARN;
#ifdef SYSTRACE_UNSAFE_CONTINUE
    verify = false; /* the testing-only build trusts execve like a naive one */
#endif
    int dirfd = AT_FDCWD;
    bool empty = false;
    if (sys_id_of(n->data.nr) == SYS_ID_execveat) {
        dirfd = (int)(uint32_t)n->data.args[0];
        empty = ((uint32_t)n->data.args[4] & AT_EMPTY_PATH) && raw && !raw[0];
    }
    struct exec_plan plan;
    exec_plan_init(&plan, path, r->proc.root_prefix, raw ? raw : path, dirfd, empty,
                   r->call.argv_blob, r->call.argv_blob_len);
    hand_off(s); /* the outcome may take a while (a large program, a slow file system) */
    int seized = exec_seize(n->pid);
    if (seized < 0 && verify) {
        struct verdict v = {SUP_DENY, EPERM, true, "exec-cannot-be-verified", NULL, false, false};
        log_request(s, r, &v);
        _cleanup_free_ char *msg = xasprintf(
            "pid=%d: an exec is refused because the supervisor cannot watch it (%s): is the "
            "process traced by a debugger, or not dumpable?",
            r->proc.tgid, strerror(-seized));
        log_event(s->cfg.log, "%s", msg);
        notify_return(s->cfg.listener, n->id, 0, EPERM);
        exec_plan_clear(&plan);
        return;
    }
    /* From here the worker waits for the outcome, not for the answered call: the monitor must
     * not take the answered notification for a lost one and interrupt it. */
    struct recheck_ctx ctx = {s, r};
    answering(&ctx);
    /* Learning, unwatched: the process is taken to run what it asked for, unverified, from
     * before it can run it. It must not stay "launching" (let through) if the session is made
     * to enforce later. */
    if (seized < 0)
        procs_exec_done(s->procs, r->proc.tgid, n->pid, path);
    notify_continue(s->cfg.listener, n->id);
    if (seized < 0) {
        exec_plan_clear(&plan);
        return;
    }
    struct exec_result res;
    struct settle_ctx settle = {s, path};
    exec_watch(n->pid, &plan, verify, exec_settled, &settle, &res);
#ifndef SYSTRACE_UNSAFE_CONTINUE
    if (res.outcome == EXEC_OTHER) {
        _cleanup_free_ char *bin = pol_quote(res.program);
        _cleanup_free_ char *want = pol_quote(path);
        log_event(s->cfg.log, "pid=%d exec of %s loaded %s: %s%s", res.tgid, want, bin, res.why,
                  verify ? "; killed before it ran" : "");
    }
#endif
    exec_result_clear(&res);
    exec_plan_clear(&plan);
}

static void note_effects(struct sup *s, struct request *r)
{
    unsigned flags = sys_flags_of(r->n.data.nr);
    if (flags & SYS_F_CREDS)
        procs_creds_changed(s->procs, r->n.pid);
    if (flags & SYS_F_ROOT)
        procs_root_may_move(s->procs, r->n.pid, flags & SYS_F_ALL_ROOTS);
}

static const char *value_of(const struct tr_call *c, const char *name)
{
    for (size_t i = 0; i < c->n_values; i++)
        if (streq(c->values[i].name, name))
            return c->values[i].value;
    return NULL;
}

/* A chdir cannot be performed for another process: it runs, and where it went is checked at the
 * process's next request (procs_expect_cwd), so that a $CWD rule never grants what a raced path
 * reached. */
static void expect_cwd(struct sup *s, const struct request *r)
{
    struct stat want, before;
    char cwd[48];
    snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", r->n.pid);
    _cleanup_free_ char *full = xasprintf("%s%s", r->proc.root_prefix, r->call.paths[0].resolved);
    if (stat(full, &want) == 0 && stat(cwd, &before) == 0)
        procs_expect_cwd(s->procs, r->n.pid, &want, &before);
}

/* Carries out V. A permit that did not depend on pointer memory runs in the kernel (CONTINUE);
 * one that did is performed by the supervisor (permit_checked). */
static void act(struct sup *s, struct request *r, const struct verdict *v)
{
    int listener = s->cfg.listener;
    const struct seccomp_notif *n = &r->n;
    switch (v->action) {
    case SUP_PERMIT:
        note_effects(s, r);
        if (sys_id_of(n->data.nr) == SYS_ID_chdir && r->call.n_paths && v->read_memory)
            expect_cwd(s, r);
        if (sys_flags_of(n->data.nr) & SYS_F_EXEC) {
            const char *path = value_of(&r->call, "filename");
            if (path) {
                permit_exec(s, r, path, r->call.n_paths ? r->call.paths[0].raw : NULL);
                return;
            }
        }
        if ((v->read_memory || r->call.must_perform) && current_mode(s) != SUP_LEARN)
            permit_checked(s, r, v);
        else
            notify_continue(listener, n->id);
        return;
    case SUP_DENY:
        notify_return(listener, n->id, 0, v->err ? v->err : EPERM);
        return;
    case SUP_KILL:
        syscall(SYS_pidfd_send_signal, r->proc.pidfd, SIGKILL, NULL, 0);
        notify_return(listener, n->id, 0, EPERM);
        return;
    case SUP_DETACH:
        sup_detach(s);
        notify_continue(listener, n->id);
        return;
    case SUP_ACTION_MAX:
        break;
    }
    notify_return(listener, n->id, 0, EPERM);
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

/* An edit cannot change what the kernel filter already decides for this session:
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

/* Whether EXPR compares argument ARG. */
static bool mentions(const struct pol_expr *e, const char *arg)
{
    if (!e)
        return false;
    if (e->type == POL_EXPR_CMP)
        return streq(e->arg, arg);
    return mentions(e->left, arg) || mentions(e->right, arg);
}

/* Whether R is a personality(2) that makes readable memory executable (READ_IMPLIES_EXEC) or
 * lets page zero be mapped (MMAP_PAGE_ZERO). */
static bool widens_memory(const struct request *r)
{
    uint32_t persona = (uint32_t)r->n.data.args[0];
    return sys_id_of(r->n.data.nr) == SYS_ID_personality && persona != UINT32_MAX &&
           (persona & (0x0400000 | 0x0100000));
}

/* Calls that would reach the supervisor itself, refused whatever the policy says: the
 * target cannot reach its supervisor. Returns the errno, or 0. */
static int protect_supervisor(struct sup *s, const struct request *r)
{
    const uint64_t *args = (const uint64_t *)r->n.data.args;
    const struct sys_call *c = sys_call_of(r->n.data.nr);
    if (c && (c->flags & SYS_F_OTHER_PROC))
        for (int k = 0; k < 2; k++)
            if (c->pid_args[k] >= 0 && host_owns_pid(s->host, (int)(uint32_t)args[c->pid_args[k]]))
                return EPERM;
    int pid = (int)(uint32_t)args[0];
    int who = (int)(uint32_t)args[1];
    switch (sys_id_of(r->n.data.nr)) {
    case SYS_ID_kill:
        /* Every process the caller may signal includes the supervisor. */
        if (pid == -1 || (pid < -1 && -pid == getpgrp()))
            return EPERM;
        break;
    case SYS_ID_setpriority:
    case SYS_ID_ioprio_set: {
        /* WHICH names a process, a process group or a user (numbered from 0 for setpriority, 1
         * for ioprio_set); 0 for WHO is the caller's own. */
        int which = pid - (sys_id_of(r->n.data.nr) == SYS_ID_ioprio_set);
        uid_t uid = who ? (uid_t)who : r->proc.ruid;
        if ((which == 0 && host_owns_pid(s->host, who)) || (which == 1 && who == getpgrp()) ||
            (which == 2 && uid == geteuid()))
            return EPERM;
        break;
    }
    case SYS_ID_fcntl: {
        /* The owner of SIGIO gets signals the kernel sends later, unchecked: only a process of
         * the tree may be one. F_SETOWN_EX's owner is in memory the caller could rewrite. */
        uint32_t cmd = (uint32_t)args[1];
        int owner = (int)(uint32_t)args[2];
        if (cmd == F_SETOWN_EX)
            return EPERM;
        if (cmd == F_SETOWN && owner != 0 &&
            (owner == INT_MIN || host_owns_pid(s->host, owner < 0 ? -owner : owner) ||
             (owner < 0 && -owner == getpgrp()) ||
             !procs_has(s->procs, owner < 0 ? -owner : owner)))
            return EPERM;
        break;
    }
    default:
        break;
    }
    /* Nothing under /proc/SUPERVISOR: its memory, its descriptors, its root. */
    for (size_t i = 0; i < r->call.n_values; i++) {
        const char *v = r->call.values[i].value;
        if (!streq(r->call.values[i].name, "filename") || !v || strncmp(v, "/proc/", 6) != 0)
            continue;
        char *end;
        long p = strtol(v + 6, &end, 10);
        if (end != v + 6 && (*end == '/' || *end == '\0') && host_owns_pid(s->host, p))
            return EACCES;
    }
    return 0;
}

/* Decides and answers a request whose arguments are translated, unless it went to the asker
 * (R is then empty). */
static void serve(struct sup *s, struct request *r)
{
    const struct seccomp_notif *n = &r->n;
    r->syscall = sys_name(n->data.nr) ? sys_name(n->data.nr) : "unknown";
    enum sys_alias alias =
        s->cfg.no_alias ? SYS_ALIAS_NONE : sys_alias_for(n->data.nr, r->call.oflags);
    r->rule_name = alias != SYS_ALIAS_NONE ? sys_alias_name(alias) : r->syscall;
    int nr = n->data.nr;
    if (r->call.fd_form) {
        /* A stat of a descriptor itself is the call fstat of policies, whatever glibc used. */
        nr = sys_nr_of(SYS_ID_fstat);
        alias = SYS_ALIAS_NONE;
        r->rule_name = "fstat";
    }
    r->req = (struct pol_request){
        .nr = nr,
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
    if (store_get(s->cfg.store, r->governing, &r->policy) < 0 && current_mode(s) != SUP_LEARN)
        store_report_missing(s->cfg.store, r->governing);
    /* $CWD costs a readlink: only for policies that compare with it, for learning (which writes
     * $CWD) and for questions. */
    if ((r->policy.policy && r->policy.policy->uses_cwd) || s->n_session ||
        (current_mode(s) == SUP_LEARN && r->call.n_paths))
        load_cwd(r);
    check_compiled(s, r);
    if (s->cfg.learn_include && current_mode(s) == SUP_LEARN) {
        /* What the kernel decided while learning is in this abstraction: every program learned
         * includes it (written once, first). */
        _cleanup_free_ char *line = xasprintf("include \"%s\"", s->cfg.learn_include);
        if (!learner_knows(s->learner, r->governing, line))
            learner_add(s->learner, r->governing, line);
    }
    struct verdict v = {0};
    if (r->call.err) {
        /* The kernel itself would fail the call so: a malformed argument (logged), or a path
         * that openat2's RESOLVE_* flags refuse (just answered). */
        static const int malformed[] = {EFAULT, ENAMETOOLONG, EINVAL, E2BIG, ERANGE};
        bool bad = false;
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++)
            bad |= r->call.err == malformed[i];
        v = (struct verdict){SUP_DENY, r->call.err, bad, "malformed-argument", NULL, false, false};
        if (bad)
            log_request(s, r, &v);
        notify_return(s->cfg.listener, n->id, 0, r->call.err);
        return;
    }
    int guard = protect_supervisor(s, r);
    if (guard) {
        v = (struct verdict){SUP_DENY, guard, true, "protects-the-supervisor", NULL, false, false};
        log_request(s, r, &v);
        notify_return(s->cfg.listener, n->id, 0, guard);
        return;
    }
    if (widens_memory(r) && current_mode(s) != SUP_LEARN) {
        /* Only a rule that names the flags may permit them: an unconditional personality permit
         * was meant for the ordinary calls (the query, PER_LINUX). */
        bool read_memory = false;
        const struct pol_rule *rule = match_rule(s, r, &r->req, &read_memory);
        if (!rule || rule->action != POL_PERMIT || !mentions(rule->expr, "persona")) {
            v = (struct verdict){SUP_DENY, EPERM, true, "widens-memory-rights", rule, false, false};
            log_request(s, r, &v);
            notify_return(s->cfg.listener, n->id, 0, EPERM);
            return;
        }
    }
    if (!decide(s, r, &v))
        return; /* asked: the question has the request now */
    if (v.log)
        log_request(s, r, &v);
    act(s, r, &v);
}

/* The launcher's child before its first exec runs the launcher's own code: its close, its
 * execve of the command (settled like any exec). */
static void serve_launching(struct sup *s, struct request *r)
{
    if (sys_flags_of(r->n.data.nr) & SYS_F_EXEC) {
        _cleanup_free_ char *raw = NULL;
        if (tr_read_string(r->n.pid, r->n.data.args[0], 4096, &raw) == 0) {
            permit_exec(s, r, s->cfg.first_binary, raw);
            return;
        }
    }
    notify_continue(s->cfg.listener, r->n.id);
}

static void handle(struct sup *s, struct worker *w, const struct seccomp_notif *n)
{
    struct request r = {.n = *n, .waiting = -1, .worker = w};
    int got = procs_get(s->procs, n->pid, s->cfg.listener, n->id, &r.proc);
    if (got < 0) {
        /* Gone, and its call with it; or alive but out of our sight (its /proc entries refuse
         * us, no descriptor left to track it): never leave it waiting, never let it run unseen. */
        if (sys_flags_of(n->data.nr) & SYS_F_EXIT) {
            notify_continue(s->cfg.listener, n->id); /* leaving grants nothing */
        } else if (notify_id_valid(s->cfg.listener, n->id)) {
            log_event(s->cfg.log, "tid=%d syscall=%s decision=deny errno=EPERM reason=%s", n->pid,
                      sys_name(n->data.nr) ? sys_name(n->data.nr) : "unknown",
                      got == -EMFILE ? "too-many-open-files" : "cannot-inspect-the-process");
            notify_return(s->cfg.listener, n->id, 0, EPERM);
        }
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool detached = s->detached;
    pthread_mutex_unlock(&s->lock);
#ifdef SYSTRACE_UNSAFE_CONTINUE
    r.proc.cwd_raced = false; /* the testing-only build trusts a chdir as a naive one */
#endif
    if (r.proc.cwd_raced && !detached && current_mode(s) != SUP_LEARN) {
        /* Its chdir went elsewhere than the directory checked: it raced the path. */
        log_event(s->cfg.log,
                  "pid=%d tid=%d: its chdir reached another directory than the one checked; "
                  "killed",
                  r.proc.tgid, n->pid);
        syscall(SYS_pidfd_send_signal, r.proc.pidfd, SIGKILL, NULL, 0);
        notify_return(s->cfg.listener, n->id, 0, EPERM);
    } else if (detached) {
        notify_continue(s->cfg.listener, n->id);
    } else if (r.proc.launching) {
        serve_launching(s, &r);
    } else {
        struct tr_target target = {n->pid,          r.proc.tgid, r.proc.root_prefix, r.proc.pidfd,
                                   s->cfg.listener, n->id,       r.proc.fsuid};
        int t = tr_translate(n, &target, &r.call);
        if (t == 0 && (!r.call.reads_memory || still_waiting(s, &r))) {
            serve(s, &r);
        } else if (t < 0 && still_waiting(s, &r)) {
            /* Its arguments or descriptors cannot be seen: never decided blind, never left
             * waiting. */
            r.syscall = sys_name(n->data.nr) ? sys_name(n->data.nr) : "unknown";
            r.rule_name = r.syscall;
            struct verdict v = {SUP_DENY, EPERM, true, "cannot-inspect-the-process",
                                NULL,     false, false};
            log_request(s, &r, &v);
            notify_return(s->cfg.listener, n->id, 0, EPERM);
        }
    }
    request_clear(&r);
}

static void adopt_job(struct sup *s, void *data)
{
    struct seccomp_notif *n = data;
    if (notify_id_valid(s->cfg.listener, n->id))
        handle(s, NULL, n);
    free(n);
}

void sup_adopt(struct sup *s, const struct seccomp_notif *n)
{
    struct seccomp_notif *copy = xmalloc(sizeof(*copy));
    *copy = *n;
    post_job(s, adopt_job, copy);
}

/* ---- the workers' loop ------------------------------------------------------------------- */

/* The listener no longer works: every supervised process is gone (REASON 0), or it failed. */
static void session_ended(struct sup *s, int reason)
{
    pthread_mutex_lock(&s->lock);
    bool first = !s->ended;
    s->ended = true;
    pthread_mutex_unlock(&s->lock);
    if (first && s->cfg.events && s->cfg.events->ended)
        s->cfg.events->ended(s->cfg.events_data, s, reason);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sup *s = w->sup;
    /* A file-system context of its own: the target's umask is applied by hand when the worker
     * performs a call, and its own must not add to it (nor change the host's). */
    if (unshare(CLONE_FS) == 0)
        umask(0);
    sigset_t all, wake;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    sigemptyset(&wake);
    sigaddset(&wake, HOST_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
    struct seccomp_notif n;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->stopping)
            break;
        if (s->jobs) {
            struct job *j = s->jobs;
            s->jobs = j->next;
            if (!s->jobs)
                s->jobs_tail = &s->jobs;
            mark_busy(w, 0);
            w->interruptible = false;
            pthread_mutex_unlock(&s->lock);
            host_busy(s->host);
            j->fn(s, j->data);
            free(j);
            pthread_mutex_lock(&s->lock);
            mark_idle(w);
            continue;
        }
        if (s->receiving || s->ended) {
            s->followers++;
            pthread_cond_wait(&s->follow, &s->lock);
            s->followers--;
            continue;
        }
        s->receiving = true;
        s->summoned = false;
        pthread_mutex_unlock(&s->lock);
        int r = notify_recv(s->cfg.listener, &n);
        pthread_mutex_lock(&s->lock);
        s->receiving = false;
        if (s->stopping)
            break;
        if (r == -ENOENT && notify_listener_idle_forever(s->cfg.listener)) {
            pthread_mutex_unlock(&s->lock);
            session_ended(s, 0);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        if (r == -EINTR || r == -ENOENT)
            continue;
        if (r < 0) {
            pthread_mutex_unlock(&s->lock);
            session_ended(s, r);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        mark_busy(w, n.id);
        pthread_mutex_unlock(&s->lock);
        host_busy(s->host);
        handle(s, w, &n);
        pthread_mutex_lock(&s->lock);
        mark_idle(w);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- sessions ---------------------------------------------------------------------------- */

int sup_new(struct host *host, const struct sup_config *cfg, struct sup **ret)
{
    struct sup *s = xcalloc(1, sizeof(*s));
    s->host = host;
    s->cfg = *cfg;
    s->mode = cfg->mode;
    if (cfg->owner) {
        s->owner = *cfg->owner;
        size_t n = cfg->owner->n_groups < PROC_MAX_GROUPS ? cfg->owner->n_groups : PROC_MAX_GROUPS;
        memcpy(s->owner_groups, cfg->owner->groups, n * sizeof(gid_t));
        s->owner.groups = s->owner_groups;
        s->owner.n_groups = n;
    } else {
        s->owner = (struct sup_owner){geteuid(), getegid(), NULL, 0};
    }
    s->cfg.owner = &s->owner;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->follow, NULL);
    s->jobs_tail = &s->jobs;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->started_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    procs_new(host_loop(host), on_process_exit, s, &s->procs);
    if (cfg->mode == SUP_LEARN) {
        const char *dir = store_user_dir(cfg->store);
        int r = dir ? learner_new(dir, cfg->store, cfg->log, &s->learner) : -EINVAL;
        if (r < 0) {
            procs_free(s->procs);
            pthread_cond_destroy(&s->follow);
            pthread_mutex_destroy(&s->lock);
            free(s);
            return r;
        }
    }
    s->client = (struct host_client){tick, s, NULL};
    host_add_client(host, &s->client);
    *ret = s;
    return 0;
}

int sup_add_launch_child(struct sup *s, int pidfd)
{
    return procs_add_launch_child(s->procs, pidfd);
}

int sup_start(struct sup *s)
{
    notify_set_sync_wakeup(s->cfg.listener); /* best effort: 6.6+ */
    emu_init();
    /* The receiver; followers are started at the first hand-off. */
    pthread_mutex_lock(&s->lock);
    int r = spawn_worker(s);
    pthread_mutex_unlock(&s->lock);
    return r;
}

void sup_set_asking(struct sup *s, bool asking)
{
    pthread_mutex_lock(&s->lock);
    s->asking = asking;
    pthread_mutex_unlock(&s->lock);
}

void sup_set_mode(struct sup *s, enum sup_mode mode)
{
    if (mode >= SUP_MODE_MAX)
        return;
    /* Learning needs its recorder, made on the first switch to it (what the kernel filter
     * already decides in this session is not seen, so not learned). */
    struct learner *l = NULL;
    pthread_mutex_lock(&s->lock);
    bool need = mode == SUP_LEARN && !s->learner;
    pthread_mutex_unlock(&s->lock);
    const char *dir = store_user_dir(s->cfg.store);
    if (need && (!dir || learner_new(dir, s->cfg.store, s->cfg.log, &l) < 0)) {
        log_event(s->cfg.log, "cannot switch to learning: no policy directory to write to");
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (l && !s->learner)
        s->learner = steal_pointer(&l);
    s->mode = mode;
    pthread_mutex_unlock(&s->lock);
    learner_free(l);
}

enum sup_mode sup_get_mode(struct sup *s)
{
    return current_mode(s);
}

void sup_detach(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    bool was = s->detached;
    s->detached = true;
    pthread_mutex_unlock(&s->lock);
    if (was)
        return;
    log_event(s->cfg.log, "detached: every call is permitted from now on");
    /* The calls waiting for an answer go on as every later one will. */
    pid_t every = 0;
    for (struct pending *p; (p = take_first(s, of_process, &every, SUP_CANCEL_DETACHED));) {
        p->answer = (struct sup_answer){.action = SUP_PERMIT, .scope = SUP_ONCE};
        post_job(s, answered_job, p);
    }
}

void sup_kill(struct sup *s)
{
    procs_signal_all(s->procs, SIGKILL);
}

unsigned sup_signal_all(struct sup *s, int sig)
{
    return procs_signal_all(s->procs, sig);
}

void sup_get_info(struct sup *s, struct sup_info *ret)
{
    pthread_mutex_lock(&s->lock);
    *ret = (struct sup_info){
        .pending = s->n_pending,
        .started_ns = s->started_ns,
        .mode = s->mode,
        .detached = s->detached,
    };
    pthread_mutex_unlock(&s->lock);
    ret->first_pid = procs_first_pid(s->procs);
    ret->processes = procs_count(s->procs);
}

bool sup_has_process(struct sup *s, pid_t pid)
{
    return procs_has(s->procs, pid);
}

void sup_stop(struct sup *s)
{
    withdraw(s, 0, SUP_CANCEL_ENDED, true);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->follow);
    struct worker *workers = s->workers;
    pthread_mutex_unlock(&s->lock);
    for (struct worker *w = workers; w; w = w->next) {
        /* The signal may land before the worker blocks again: repeat until it has left. */
        for (;;) {
            pthread_kill(w->thread, HOST_WAKE_SIGNAL);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0)
                break;
        }
    }
    pthread_mutex_lock(&s->lock);
    while (s->workers) {
        struct worker *w = s->workers;
        s->workers = w->next;
        free(w);
    }
    s->n_workers = 0;
    while (s->jobs) {
        struct job *j = s->jobs;
        s->jobs = j->next;
        free(j); /* the session ends: what they were for ends with it */
    }
    s->jobs_tail = &s->jobs;
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
    host_remove_client(s->host, &s->client);
    learner_free(s->learner);
    procs_free(s->procs);
    if (s->cfg.listener >= 0)
        close(s->cfg.listener);
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
    pthread_cond_destroy(&s->follow);
    pthread_mutex_destroy(&s->lock);
    free(s);
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
