/* agent.c: agents, and the questions routed to them. A question goes to an agent
 * attached to its session, else to an operator's agent registered for all sessions, else to the
 * owner's own agent (the applet), newest first among equals; with none it waits for one or for
 * its deadline. Ask returns at once; the answer comes back by Daemon1.Answer, accepted only from
 * the agent the question was last sent to. An agent whose name leaves the bus, or whose Ask
 * fails, loses its questions to the next in line.
 *
 * The engine calls the asker from its threads: ask and cancel only take d->lock, fill in what
 * they must and post the bus work to the loop's thread, in order, so a question's cancellation
 * always runs after its routing. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "busmsg.h"
#include "daemon.h"
#include "errnames.h"
#include "util.h"

#define ASK_TIMEOUT_MS 25000
#define MAX_FILTER     4096

static uint64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void add_pair_array(DBusMessageIter *dict, const char *key, const char *sig,
                           const struct sup_question *q, bool parents)
{
    DBusMessageIter e, v, a, st;
    char asig[16];
    snprintf(asig, sizeof(asig), "a%s", sig);
    dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
    dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, asig, &v);
    dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, sig, &a);
    size_t n = parents ? q->n_parents : (q->req ? q->req->n_args : 0);
    for (size_t i = 0; i < n; i++) {
        dbus_message_iter_open_container(&a, DBUS_TYPE_STRUCT, NULL, &st);
        if (parents) {
            dbus_int32_t pid = q->parents[i].pid;
            _cleanup_free_ char *b =
                busmsg_utf8(q->parents[i].binary ? q->parents[i].binary : "", PATH_MAX);
            const char *pb = b;
            dbus_message_iter_append_basic(&st, DBUS_TYPE_INT32, &pid);
            dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &pb);
        } else {
            const struct pol_value *pv = &q->req->args[i];
            _cleanup_free_ char *name = busmsg_utf8(pv->name ? pv->name : "", 64);
            _cleanup_free_ char *value = busmsg_utf8(pv->value ? pv->value : "", PATH_MAX + 64);
            const char *pn = name, *pval = value;
            dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &pn);
            dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &pval);
        }
        dbus_message_iter_close_container(&a, &st);
    }
    dbus_message_iter_close_container(&v, &a);
    dbus_message_iter_close_container(&e, &v);
    dbus_message_iter_close_container(dict, &e);
}

/* The Ask call for Q, built while the engine's question is certainly valid. */
static DBusMessage *build_ask(struct session *s, const char *id, const struct sup_question *q)
{
    DBusMessage *m = dbus_message_new_method_call(NULL, "/", IFACE_AGENT1, AGENT1_METHOD_ASK);
    DBusMessageIter it, dict;
    dbus_message_iter_init_append(m, &it);
    dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &id);
    busmsg_dict_open(&it, &dict);
    busmsg_add_path(&dict, "session", s->path);
    busmsg_add_i32(&dict, "pid", q->pid);
    busmsg_add_i32(&dict, "tid", q->tid);
    busmsg_add_u32(&dict, "uid", q->uid);
    busmsg_add_string(&dict, "user", q->user);
    busmsg_add_string(&dict, "program", q->binary);
    busmsg_add_string(&dict, "argv", q->argv);
    busmsg_add_string(&dict, "cwd", q->cwd);
    add_pair_array(&dict, "parents", "(is)", q, true);
    busmsg_add_string(&dict, "policy", q->policy_path);
    busmsg_add_u32(&dict, "rules", (uint32_t)q->rule_count);
    busmsg_add_string(&dict, "syscall", q->syscall);
    busmsg_add_string(&dict, "rule-name", q->rule_name);
    add_pair_array(&dict, "arguments", "(ss)", q, false);
    busmsg_add_strv(&dict, "suggestions", (const char *const *)q->suggestions, q->n_suggestions);
    uint64_t now = loop_now_ns();
    uint64_t left_us = q->deadline_ns > now ? (q->deadline_ns - now) / 1000 : 0;
    busmsg_add_u64(&dict, "deadline", realtime_us() + left_us);
    busmsg_add_u32(&dict, "repeats", q->repeats);
    busmsg_dict_close(&it, &dict);
    return m;
}

/* One line about Q for monitors: "pid 12 /usr/sbin/inetd: execve filename=/usr/sbin/identd". */
static char *question_line(const struct sup_question *q)
{
    struct buf b = {0};
    buf_printf(&b, "pid %d %s: %s", q->pid, q->binary ? q->binary : "?",
               q->rule_name ? q->rule_name : "?");
    for (size_t i = 0; q->req && i < q->req->n_args && b.len < 2048; i++)
        buf_printf(&b, " %s=%s", q->req->args[i].name, q->req->args[i].value);
    for (char *c = b.data; c && *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    char *line = busmsg_utf8(b.data ? b.data : "", 2048);
    buf_free(&b);
    return line;
}

static void question_free(struct question *q)
{
    if (q->pending) {
        dbus_pending_call_cancel(q->pending);
        dbus_pending_call_unref(q->pending);
    }
    if (q->ask)
        dbus_message_unref(q->ask);
    for (size_t i = 0; i < q->n_tried; i++)
        free(q->tried[i]);
    free(q->tried);
    free(q->agent_owner);
    free(q->agent_path);
    free(q->line);
    free(q);
}

/* Takes Q off the list and out of its owner's count; d->lock held. */
static void question_unlink_locked(struct daemon *d, struct question *q)
{
    for (struct question **p = &d->questions; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            user_count(d, q->uid)->questions--;
            return;
        }
}

static bool tried(const struct question *q, const char *owner)
{
    for (size_t i = 0; i < q->n_tried; i++)
        if (streq(q->tried[i], owner))
            return true;
    return false;
}

/* The agent next in line for a question of S, or NULL. */
/* The rank of A for a question of S: 3 attached to it, 2 an operator's for all sessions, 1 the
 * owner's own (the applet), 0 none. */
static int agent_rank(const struct agent *a, const struct session *s)
{
    /* An agent attached to a session also answers the sessions attached along with it (the
     * descendants of an attached process). */
    bool attached = a->session == s->id || (s->group && a->session == s->group);
    if (attached && auth_allowed(AUTH_ANSWER, a->uid, a->privileged, s->uid))
        return 3;
    if (a->kind.all && a->privileged)
        return 2;
    if (!a->session && !a->kind.all && a->uid == s->uid)
        return 1;
    return 0;
}

static struct agent *next_agent(struct daemon *d, struct session *s, const struct question *q)
{
    struct agent *best = NULL, *own = NULL;
    int best_rank = 0;
    for (struct agent *a = d->agents; a; a = a->next) {
        if (!a->kind.answer || tried(q, a->owner))
            continue;
        int rank = agent_rank(a, s);
        if (rank > best_rank || (rank && rank == best_rank && a->serial > best->serial)) {
            best = a;
            best_rank = rank;
        }
        if (rank == 1 && (!own || a->serial > own->serial))
            own = a;
    }
    /* A fallback (the launcher's terminal when -t was not asked for) yields to the owner's
     * applet, as OpenBSD's systrace asked in its GUI unless told -t. */
    return best && best->kind.fallback && own ? own : best;
}

static void route(struct daemon *d, struct question *q);

static void ask_replied(DBusPendingCall *pending, void *data)
{
    struct question *q = data;
    DBusMessage *reply = dbus_pending_call_steal_reply(pending);
    dbus_pending_call_unref(q->pending);
    q->pending = NULL;
    bool failed = !reply || dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR;
    if (reply)
        dbus_message_unref(reply);
    if (!failed || q->cancelled || !q->agent_owner)
        return;
    /* The agent refused or could not be reached: the next one. */
    q->tried = xreallocarray(q->tried, q->n_tried + 1, sizeof(char *));
    q->tried[q->n_tried++] = steal_pointer(&q->agent_owner);
    free(q->agent_path);
    q->agent_path = NULL;
    q->agent = NULL;
    route(q->d, q);
}

static void route(struct daemon *d, struct question *q)
{
    struct session *s = session_find(d, q->session);
    if (!s || q->cancelled)
        return;
    struct agent *a = next_agent(d, s, q);
    q->agent = a;
    free(q->agent_owner);
    free(q->agent_path);
    q->agent_owner = q->agent_path = NULL;
    if (!a)
        return; /* waits for an agent or for its deadline */
    q->agent_owner = xstrdup(a->owner);
    q->agent_path = xstrdup(a->path);
    DBusMessage *m = dbus_message_copy(q->ask);
    dbus_message_set_destination(m, a->owner);
    dbus_message_set_path(m, a->path);
    if (q->pending) {
        dbus_pending_call_cancel(q->pending);
        dbus_pending_call_unref(q->pending);
        q->pending = NULL;
    }
    if (dbus_connection_send_with_reply(d->conn, m, &q->pending, ASK_TIMEOUT_MS) && q->pending)
        dbus_pending_call_set_notify(q->pending, ask_replied, q, NULL);
    dbus_message_unref(m);
}

/* ---- the asker (engine threads) ---- */

static void question_arrived(void *data)
{
    struct question *q = data;
    struct daemon *d = q->d;
    struct session *s = session_find(d, q->session);
    if (!s || q->cancelled)
        return;
    agent_monitor_event(d, s, "question", q->line, q->id);
    /* The launcher keeps a copy of the listener: if this daemon dies before the answer, it
     * decides the call itself, and the notification is all it needs for that. */
    if (s->launcher && q->has_notification) {
        dbus_uint64_t id = q->notification.id;
        const unsigned char *bytes = (const unsigned char *)&q->notification;
        int len = (int)sizeof(q->notification);
        emit_to(d, s->launcher, s->path, IFACE_SESSION1, SESSION1_SIGNAL_HELD, DBUS_TYPE_UINT64,
                &id, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &bytes, len, DBUS_TYPE_INVALID);
    }
    route(d, q);
}

static int asker_ask(void *data, struct sup *sup, const struct sup_question *sq)
{
    struct session *s = data;
    struct daemon *d = s->d;
    pthread_mutex_lock(&d->lock);
    struct user_count *uc = user_count(d, s->uid);
    if (uc->questions >= d->cfg.max_questions_per_user) {
        pthread_mutex_unlock(&d->lock);
        log_event(d->log,
                  "session %u: uid %u has %u questions waiting, the most allowed "
                  "(max-questions-per-user): denied once",
                  s->id, (unsigned)s->uid, uc->questions);
        return -EBUSY;
    }
    uc->questions++;
    struct question *q = xcalloc(1, sizeof(*q));
    q->d = d;
    q->session = s->id;
    q->token = sq->token;
    q->uid = s->uid;
    q->sq = sq;
    if (sq->notification) {
        q->notification = *sq->notification;
        q->has_notification = true;
    }
    snprintf(q->id, sizeof(q->id), "%" PRIu64, ++d->next_request);
    q->next = d->questions;
    d->questions = q;
    pthread_mutex_unlock(&d->lock);
    q->ask = build_ask(s, q->id, sq);
    q->line = question_line(sq);
    loop_post(d->loop, question_arrived, q);
    return 0;
}

struct cancel_job {
    struct question *q;
    enum sup_cancel_reason why;
};

static const char *const cancel_reason[] = {
    [SUP_CANCEL_GONE] = "gone",         [SUP_CANCEL_DEADLINE] = "timeout",
    [SUP_CANCEL_ENDED] = "ended",       [SUP_CANCEL_DETACHED] = "detached",
    [SUP_CANCEL_ANSWERED] = "answered",
};

/* Agent1.Cancel to the agent Q was last sent to. */
static void send_cancel(struct daemon *d, const struct question *q, const char *reason)
{
    DBusMessage *m = dbus_message_new_method_call(q->agent_owner, q->agent_path, IFACE_AGENT1,
                                                  AGENT1_METHOD_CANCEL);
    const char *id = q->id;
    dbus_message_append_args(m, DBUS_TYPE_STRING, &id, DBUS_TYPE_STRING, &reason,
                             DBUS_TYPE_INVALID);
    dbus_message_set_no_reply(m, TRUE);
    dbus_connection_send(d->conn, m, NULL);
    dbus_message_unref(m);
}

static void cancel_run(void *data)
{
    struct cancel_job *j = data;
    struct question *q = j->q;
    struct daemon *d = q->d;
    const char *reason = j->why < ARRAY_SIZE(cancel_reason) ? cancel_reason[j->why] : "gone";
    if (q->agent_owner)
        send_cancel(d, q, reason);
    struct session *s = session_find(d, q->session);
    if (s)
        agent_monitor_event(d, s, "cancelled", reason, q->id);
    question_free(q);
    free(j);
}

static void asker_cancel(void *data, struct sup *sup, uint64_t token, enum sup_cancel_reason why)
{
    struct session *s = data;
    struct daemon *d = s->d;
    struct question *q = NULL;
    pthread_mutex_lock(&d->lock);
    for (q = d->questions; q; q = q->next)
        if (q->session == s->id && q->token == token)
            break;
    if (q) {
        q->cancelled = true;
        q->sq = NULL;
        question_unlink_locked(d, q);
    }
    pthread_mutex_unlock(&d->lock);
    if (!q)
        return;
    struct cancel_job *j = xcalloc(1, sizeof(*j));
    j->q = q;
    j->why = why;
    loop_post(d->loop, cancel_run, j);
}

const struct sup_asker agent_asker = {.ask = asker_ask, .cancel = asker_cancel};

/* ---- session events (engine threads) ---- */

struct event_job {
    struct daemon *d;
    unsigned session;
    char *line; /* NULL: the session ended */
};

static void event_run(void *data)
{
    struct event_job *j = data;
    struct session *s = session_find(j->d, j->session);
    if (s && j->line)
        agent_monitor_event(j->d, s, "decision", j->line, NULL);
    else if (s)
        session_end(s);
    free(j->line);
    free(j);
}

static void post_event(struct session *s, const char *line)
{
    struct event_job *j = xcalloc(1, sizeof(*j));
    j->d = s->d;
    j->session = s->id;
    j->line = line ? busmsg_utf8(line, 2048) : NULL;
    loop_post(s->d->loop, event_run, j);
}

static void on_ended(void *data, struct sup *sup, int reason)
{
    post_event(data, NULL);
}

static void on_decision(void *data, struct sup *sup, const char *line)
{
    struct session *s = data;
    /* Read without the loop's thread: a stale count only costs one posted job or one event. */
    if (__atomic_load_n(&s->d->monitors, __ATOMIC_RELAXED) > 0)
        post_event(s, line);
}

const struct sup_events agent_events = {.ended = on_ended, .decision = on_decision};

/* ---- the bus side (the loop's thread) ---- */

void agent_monitor_event(struct daemon *d, struct session *s, const char *kind, const char *line,
                         const char *request)
{
    if (!d->monitors)
        return;
    for (struct agent *a = d->agents; a; a = a->next) {
        if (!a->kind.monitor || !auth_allowed(AUTH_SEE, a->uid, a->privileged, s->uid))
            continue;
        DBusMessage *sig =
            dbus_message_new_signal(SYSTRACE_BUS_PATH, IFACE_DAEMON1, DAEMON1_SIGNAL_DECISION);
        DBusMessageIter it, dict;
        const char *path = s->path;
        dbus_message_iter_init_append(sig, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &path);
        busmsg_dict_open(&it, &dict);
        busmsg_add_string(&dict, "kind", kind);
        busmsg_add_string(&dict, "line", line ? line : "");
        if (request)
            busmsg_add_string(&dict, "request", request);
        busmsg_add_u64(&dict, "time", realtime_us());
        busmsg_dict_close(&it, &dict);
        dbus_message_set_destination(sig, a->owner);
        dbus_connection_send(d->conn, sig, NULL);
        dbus_message_unref(sig);
    }
}

struct register_opts {
    const char *session;
    struct agent_kind kind;
};

#define ROPT(n, t, f)                                                                              \
    {                                                                                              \
        n, t, 256, offsetof(struct register_opts, f)                                               \
    }
static const struct opt_key register_keys[] = {
    ROPT("session", OPT_PATH, session),        ROPT("all", OPT_BOOL, kind.all),
    ROPT("monitor", OPT_BOOL, kind.monitor),   ROPT("answer", OPT_BOOL, kind.answer),
    ROPT("fallback", OPT_BOOL, kind.fallback),
};

static struct agent *find_agent(struct daemon *d, const char *owner, const char *path)
{
    for (struct agent *a = d->agents; a; a = a->next)
        if (streq(a->owner, owner) && streq(a->path, path))
            return a;
    return NULL;
}

/* Routes the questions that wait for nobody, or whose agent ranks below a new one attached to
 * their session. */
static void route_waiting(struct daemon *d)
{
    for (struct question *q = d->questions; q; q = q->next)
        if (!q->agent && !q->cancelled)
            route(d, q);
}

DBusMessage *agent_register(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    const char *path;
    DBusMessageIter it;
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_get_basic(&it, &path);
    dbus_message_iter_next(&it);
    struct register_opts o = {.kind.answer = true};
    _cleanup_free_ char *error = NULL;
    if (busmsg_read_options(&it, register_keys, ARRAY_SIZE(register_keys), &o, NULL, &error) < 0)
        return reply_error(msg, ERR_INVALID_ARGS, "%s", error);
    if (o.session && o.kind.all)
        return reply_error(msg, ERR_INVALID_ARGS, "\"session\" and \"all\" exclude each other");
    struct session *s = NULL;
    if (o.session) {
        s = session_by_path(d, o.session);
        if (!s || s->ending || !auth_allowed(AUTH_SEE, c->uid, c->privileged, s->uid))
            return reply_error(msg, ERR_NOT_FOUND, "no such session");
    }
    DBusMessage *e = agent_add(d, msg, c, path, s, &o.kind);
    return e ? e : dbus_message_new_method_return(msg);
}

DBusMessage *agent_add(struct daemon *d, DBusMessage *msg, const struct caller *c, const char *path,
                       struct session *s, const struct agent_kind *kind)
{
    if (strlen(path) > 255)
        return reply_error(msg, ERR_INVALID_ARGS, "the agent's path is too long");
    if (s) {
        if (!auth_allowed(AUTH_AGENT_SESSION, c->uid, c->privileged, s->uid))
            return reply_error(msg, ERR_ACCESS_DENIED, "session %u is not yours", s->id);
    } else if (kind->all && !auth_allowed(AUTH_AGENT_ALL, c->uid, c->privileged, 0)) {
        return reply_error(msg, ERR_ACCESS_DENIED,
                           "only root and the operator group may register for all sessions");
    }
    if (find_agent(d, c->sender, path))
        return reply_error(msg, ERR_INVALID_ARGS, "this agent is registered already");
    pthread_mutex_lock(&d->lock);
    struct user_count *uc = user_count(d, c->uid);
    bool full = uc->agents >= d->cfg.max_agents_per_user;
    if (!full)
        uc->agents++;
    pthread_mutex_unlock(&d->lock);
    if (full)
        return reply_error(msg, ERR_LIMIT,
                           "uid %u has %u agents, the most systraced.conf allows "
                           "(max-agents-per-user)",
                           (unsigned)c->uid, d->cfg.max_agents_per_user);
    struct agent *a = xcalloc(1, sizeof(*a));
    a->owner = xstrdup(c->sender);
    a->path = xstrdup(path);
    a->uid = c->uid;
    a->privileged = c->privileged;
    a->session = s ? s->id : 0;
    a->kind = *kind;
    a->serial = ++d->next_agent;
    a->next = d->agents;
    d->agents = a;
    if (a->kind.monitor)
        __atomic_add_fetch(&d->monitors, 1, __ATOMIC_RELAXED);
    if (s && a->kind.answer) {
        s->attached++;
        session_update_asking(s);
    }
    log_event(d->log, "systraced: agent %s %s of uid %u registered%s%s%s", c->sender, path,
              (unsigned)c->uid, s ? " for session " : "", s ? s->path : "",
              kind->all ? " for all sessions" : "");
    route_waiting(d);
    return NULL;
}

/* An enforce session asks only while someone is attached: once the last attached agent left,
 * the questions no other agent took are its policy's again, denied as uncovered calls are. */
static void enforce_unrouted(struct daemon *d, struct session *s)
{
    if (!s || s->ending || s->attached > 0 || sup_get_mode(s->sup) != SUP_ENFORCE)
        return;
    for (struct question *q = d->questions, *next; q; q = next) {
        next = q->next;
        if (q->session != s->id || q->agent || q->cancelled)
            continue;
        pthread_mutex_lock(&d->lock);
        bool live = !q->cancelled;
        if (live)
            question_unlink_locked(d, q);
        pthread_mutex_unlock(&d->lock);
        if (!live)
            continue;
        sup_answer(s->sup, q->token, &(struct sup_answer){.action = SUP_DENY, .scope = SUP_ONCE});
        agent_monitor_event(d, s, "answered", "deny once: no one is attached any more", q->id);
        question_free(q);
    }
}

/* Q is no longer its agent's, which will not be asked it again; to the next (REROUTE) or it
 * waits. */
static void question_leave_agent(struct daemon *d, struct question *q, bool reroute)
{
    q->agent = NULL;
    q->tried = xreallocarray(q->tried, q->n_tried + 1, sizeof(char *));
    q->tried[q->n_tried++] = steal_pointer(&q->agent_owner);
    free(q->agent_path);
    q->agent_path = NULL;
    if (reroute)
        route(d, q);
}

void agent_reauthorise(struct daemon *d)
{
    for (struct agent *a = d->agents; a; a = a->next) {
        bool was = a->privileged;
        a->privileged = auth_privileged(a->uid, d->cfg.operator_group);
        if (was && !a->privileged)
            log_event(d->log, "systraced: agent %s %s of uid %u is no longer privileged", a->owner,
                      a->path, (unsigned)a->uid);
    }
    /* A question shown to an agent that may no longer answer it goes to the next. */
    for (struct question *q = d->questions; q; q = q->next) {
        struct session *s = session_find(d, q->session);
        if (!q->agent || q->cancelled || !s || agent_rank(q->agent, s) > 0)
            continue;
        send_cancel(d, q, "rerouted");
        question_leave_agent(d, q, true);
    }
}

/* Forgets A; its questions go to the next in line (REROUTE) or wait. */
static void agent_remove(struct daemon *d, struct agent *a, bool reroute)
{
    for (struct agent **p = &d->agents; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    pthread_mutex_lock(&d->lock);
    user_count(d, a->uid)->agents--;
    pthread_mutex_unlock(&d->lock);
    if (a->kind.monitor)
        __atomic_sub_fetch(&d->monitors, 1, __ATOMIC_RELAXED);
    struct session *s = a->session ? session_find(d, a->session) : NULL;
    if (s && a->kind.answer && s->attached > 0) {
        s->attached--;
        if (!s->ending)
            session_update_asking(s);
    }
    for (struct question *q = d->questions; q; q = q->next)
        if (q->agent == a)
            question_leave_agent(d, q, reroute);
    if (reroute)
        enforce_unrouted(d, s);
    free(a->owner);
    free(a->path);
    free(a);
}

DBusMessage *agent_unregister(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    const char *path;
    dbus_message_get_args(msg, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
    struct agent *a = find_agent(d, c->sender, path);
    if (!a)
        return reply_error(msg, ERR_NOT_FOUND, "no such agent of yours");
    agent_remove(d, a, true);
    return dbus_message_new_method_return(msg);
}

void agent_name_gone(struct daemon *d, const char *name)
{
    for (struct agent *a = d->agents, *next; a; a = next) {
        next = a->next;
        if (streq(a->owner, name)) {
            agent_remove(d, a, true);
            next = d->agents; /* the list changed */
        }
    }
}

void agent_session_gone(struct daemon *d, struct session *s)
{
    for (struct agent *a = d->agents, *next; a; a = next) {
        next = a->next;
        if (a->session == s->id) {
            agent_remove(d, a, false);
            next = d->agents;
        }
    }
}

unsigned agent_count(struct daemon *d, uid_t uid, bool all)
{
    unsigned n = 0;
    for (struct agent *a = d->agents; a; a = a->next)
        n += all || a->uid == uid;
    return n;
}

unsigned question_count(struct daemon *d, const struct session *s)
{
    unsigned n = 0;
    pthread_mutex_lock(&d->lock);
    for (struct question *q = d->questions; q; q = q->next)
        n += q->session == s->id;
    pthread_mutex_unlock(&d->lock);
    return n;
}

struct answer_opts {
    const char *action, *scope, *filter, *err;
};

#define AOPT(n, max, f)                                                                            \
    {                                                                                              \
        n, OPT_STRING, max, offsetof(struct answer_opts, f)                                        \
    }
static const struct opt_key answer_keys[] = {
    AOPT("action", 16, action),
    AOPT("scope", 16, scope),
    AOPT("filter", MAX_FILTER, filter),
    AOPT("errno", 32, err),
};

static const char *const action_names[SUP_ACTION_MAX] = {
    [SUP_PERMIT] = "permit", [SUP_DENY] = "deny", [SUP_KILL] = "kill", [SUP_DETACH] = "detach"};
static const char *const scope_names[SUP_SCOPE_MAX] = {
    [SUP_ONCE] = "once", [SUP_SESSION] = "session", [SUP_ALWAYS] = "always"};

static int lookup(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && streq(names[i], name))
            return (int)i;
    return -1;
}

DBusMessage *agent_answer(struct daemon *d, DBusMessage *msg, const struct caller *c)
{
    const char *id;
    DBusMessageIter it;
    dbus_message_iter_init(msg, &it);
    dbus_message_iter_get_basic(&it, &id);
    dbus_message_iter_next(&it);
    struct answer_opts o = {0};
    _cleanup_free_ char *error = NULL;
    if (busmsg_read_options(&it, answer_keys, ARRAY_SIZE(answer_keys), &o, NULL, &error) < 0)
        return reply_error(msg, ERR_INVALID_ARGS, "%s", error);
    struct question *q;
    pthread_mutex_lock(&d->lock);
    for (q = d->questions; q; q = q->next)
        if (streq(q->id, id))
            break;
    bool live = q && !q->cancelled;
    pthread_mutex_unlock(&d->lock);
    _cleanup_free_ char *safe_id = busmsg_utf8(id, 32);
    if (!live)
        return reply_error(msg, ERR_MOOT, "request %s is not waiting (answered, timed out or gone)",
                           safe_id);
    struct session *s = session_find(d, q->session);
    /* Only the agent it was sent to: anyone else, even one allowed to answer for the session,
     * would be answering a question they were not shown. */
    if (!s || !q->agent_owner || !streq(q->agent_owner, c->sender) ||
        !auth_allowed(AUTH_ANSWER, c->uid, c->privileged, s->uid))
        return reply_error(msg, ERR_ACCESS_DENIED, "request %s was not sent to you", safe_id);
    if (!o.action)
        return reply_error(msg, ERR_INVALID_ARGS, "option \"action\" is needed");
    int action = lookup(action_names, SUP_ACTION_MAX, o.action);
    int scope = o.scope ? lookup(scope_names, SUP_SCOPE_MAX, o.scope) : SUP_ONCE;
    int err = 0;
    if (action < 0)
        return reply_error(msg, ERR_INVALID_ARGS,
                           "option \"action\": permit, deny, kill or detach");
    if (scope < 0)
        return reply_error(msg, ERR_INVALID_ARGS, "option \"scope\": once, session or always");
    if (o.err && (action != SUP_DENY || (err = errname_to_errno(o.err)) <= 0))
        return reply_error(msg, ERR_INVALID_ARGS, "option \"errno\": an errno name, for a denial");
    if (o.filter && scope == SUP_ONCE)
        return reply_error(msg, ERR_INVALID_ARGS,
                           "option \"filter\": only for scope session or always");
    struct sup_answer a = {
        .action = (enum sup_action)action,
        .scope = (enum sup_scope)scope,
        .rule = o.filter,
        .err = err,
    };
    /* The engine cancels from its own threads (a deadline, the process's death) while this
     * runs: the question is checked and taken under the lock, or it is the cancellation's to
     * free. Its engine part (sq) lives until the cancellation, which waits for the lock. */
    _cleanup_free_ char *why = NULL;
    pthread_mutex_lock(&d->lock);
    bool moot = q->cancelled;
    bool fits = moot || !o.filter || sup_rule_fits(q->sq, o.filter, &why);
    if (!moot && fits)
        question_unlink_locked(d, q);
    pthread_mutex_unlock(&d->lock);
    if (moot)
        return reply_error(msg, ERR_MOOT, "request %s is moot", safe_id);
    if (!fits)
        return reply_error(msg, ERR_INVALID_ARGS, "option \"filter\": %s",
                           why ? why : "does not match this call");
    int r = sup_answer(s->sup, q->token, &a);
    _cleanup_free_ char *line =
        xasprintf("%s %s by uid %u", o.action, scope_names[scope], (unsigned)c->uid);
    agent_monitor_event(d, s, "answered", line, q->id);
    question_free(q);
    if (r == -ENOENT)
        return reply_error(msg, ERR_MOOT, "request %s is moot", safe_id);
    if (r < 0)
        return reply_error(msg, ERR_FAILED, "request %s: %s", safe_id, strerror(-r));
    return dbus_message_new_method_return(msg);
}
