/* engine-preview.c: TEMPORARY, for tests of the bus side only, until the engine of "One engine,
 * many sessions" is on main. It implements supervise.h's session API the simplest way: no
 * policy evaluation at all; every notified call is asked (ask mode, or an agent attached),
 * denied with EPERM (enforce) or let run (learn). The filter decides what is notified. It is
 * never installed (meson builds it only as the test daemon's engine), and goes away, with
 * daemon/supervise.h, when the real engine lands. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>

#include "notify.h"
#include "supervise.h"
#include "util.h"

struct host {
    struct loop *loop;
};

int host_new(const struct host_options *opts, struct host **ret)
{
    struct host *h = xcalloc(1, sizeof(*h));
    h->loop = opts->loop;
    *ret = h;
    return 0;
}

void host_free(struct host *host)
{
    free(host);
}

struct loop *host_loop(struct host *host)
{
    return host->loop;
}

static const char *const mode_names[SUP_MODE_MAX] = {"learn", "enforce", "ask", "complain"};

const char *sup_mode_name(enum sup_mode mode)
{
    return mode < SUP_MODE_MAX ? mode_names[mode] : "?";
}

int sup_mode_from_name(const char *name, enum sup_mode *ret)
{
    for (int i = 0; i < SUP_MODE_MAX; i++)
        if (streq(mode_names[i], name)) {
            *ret = (enum sup_mode)i;
            return 0;
        }
    return -EINVAL;
}

struct pending {
    uint64_t token;
    struct sup *sup;
    struct loop_timer *timer;
    struct sup_question q;
    char *binary, *argv, *syscall;
    struct pending *next;
};

struct sup {
    struct host *host;
    struct sup_config cfg;
    int listener, stop_fd, pidfd;
    pid_t first_pid;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    enum sup_mode mode;
    bool asking, detached;
    struct pending *pending;
    uint64_t started_ns;
};

int sup_new(struct host *host, const struct sup_config *cfg, struct sup **ret)
{
    struct sup *s = xcalloc(1, sizeof(*s));
    s->host = host;
    s->cfg = *cfg;
    s->listener = cfg->listener;
    s->mode = cfg->mode;
    s->pidfd = -1;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    pthread_mutex_init(&s->lock, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->started_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    *ret = s;
    return 0;
}

int sup_add_launch_child(struct sup *s, int pidfd)
{
    s->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
    FILE *f = fopen(path, "re");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "Pid:", 4) == 0)
            s->first_pid = (pid_t)strtol(line + 4, NULL, 10);
    if (f)
        fclose(f);
    return 0;
}

static char *read_proc(pid_t pid, const char *what, bool link)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
    if (link) {
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
            return xstrdup("?");
        buf[n] = '\0';
        return xstrdup(buf);
    }
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (n < 0)
        return xstrdup("?");
    for (ssize_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    return xstrdup(buf);
}

static void pending_free(struct pending *p)
{
    free(p->binary);
    free(p->argv);
    free(p->syscall);
    free(p);
}

/* Takes TOKEN's question off the list; S->lock held. */
static struct pending *take(struct sup *s, uint64_t token)
{
    for (struct pending **pp = &s->pending; *pp; pp = &(*pp)->next)
        if ((*pp)->token == token) {
            struct pending *p = *pp;
            *pp = p->next;
            return p;
        }
    return NULL;
}

static void deadline(void *data)
{
    struct pending *p = data;
    struct sup *s = p->sup;
    pthread_mutex_lock(&s->lock);
    p = take(s, p->token);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return;
    s->cfg.asker->cancel(s->cfg.asker_data, s, p->token, SUP_CANCEL_DEADLINE);
    notify_return(s->listener, p->token, 0, EPERM);
    pending_free(p);
}

static void handle(struct sup *s, const struct seccomp_notif *n)
{
    pthread_mutex_lock(&s->lock);
    enum sup_mode mode = s->mode;
    bool ask = !s->detached && (mode == SUP_ASK || s->asking);
    bool detached = s->detached;
    pthread_mutex_unlock(&s->lock);
    if (detached || (!ask && mode == SUP_LEARN)) {
        notify_continue(s->listener, n->id);
        return;
    }
    if (!ask || !s->cfg.asker) {
        notify_return(s->listener, n->id, 0, EPERM);
        if (s->cfg.events && s->cfg.events->decision) {
            char line[128];
            snprintf(line, sizeof(line), "pid %u: call %d denied", n->pid, n->data.nr);
            s->cfg.events->decision(s->cfg.events_data, s, line);
        }
        return;
    }
    struct pending *p = xcalloc(1, sizeof(*p));
    p->token = n->id;
    p->sup = s;
    p->binary = read_proc((pid_t)n->pid, "exe", true);
    p->argv = read_proc((pid_t)n->pid, "cmdline", false);
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, n->data.nr);
    p->syscall = name ? name : xasprintf("%d", n->data.nr);
    unsigned ms = s->cfg.limits.ask_timeout_ms ? s->cfg.limits.ask_timeout_ms : 600000;
    p->q = (struct sup_question){
        .token = n->id,
        .deadline_ns = loop_now_ns() + (uint64_t)ms * 1000000u,
        .pid = (pid_t)n->pid,
        .tid = (pid_t)n->pid,
        .uid = s->cfg.owner ? s->cfg.owner->uid : 0,
        .user = "?",
        .binary = p->binary,
        .argv = p->argv,
        .syscall = p->syscall,
        .rule_name = p->syscall,
    };
    pthread_mutex_lock(&s->lock);
    p->next = s->pending;
    s->pending = p;
    p->timer = loop_timer_add(s->host->loop, p->q.deadline_ns, deadline, p);
    pthread_mutex_unlock(&s->lock);
    if (s->cfg.asker->ask(s->cfg.asker_data, s, &p->q) < 0) {
        pthread_mutex_lock(&s->lock);
        p = take(s, n->id);
        pthread_mutex_unlock(&s->lock);
        if (p) {
            loop_timer_cancel(s->host->loop, p->timer);
            notify_return(s->listener, n->id, 0, EPERM);
            pending_free(p);
        }
    }
}

static void *receiver(void *arg)
{
    struct sup *s = arg;
    for (;;) {
        struct pollfd fds[2] = {{s->listener, POLLIN, 0}, {s->stop_fd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0)
            continue;
        if (fds[1].revents)
            break;
        if (fds[0].revents & POLLIN) {
            struct seccomp_notif n;
            if (notify_recv(s->listener, &n) == 0)
                handle(s, &n);
            continue;
        }
        if (fds[0].revents & (POLLHUP | POLLERR)) {
            if (s->cfg.events && s->cfg.events->ended)
                s->cfg.events->ended(s->cfg.events_data, s, 0);
            break;
        }
    }
    return NULL;
}

int sup_start(struct sup *s)
{
    s->started = pthread_create(&s->thread, NULL, receiver, s) == 0;
    return s->started ? 0 : -EAGAIN;
}

int sup_answer(struct sup *s, uint64_t token, const struct sup_answer *a)
{
    pthread_mutex_lock(&s->lock);
    struct pending *p = take(s, token);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return -ENOENT;
    loop_timer_cancel(s->host->loop, p->timer);
    if (a->action == SUP_DETACH)
        sup_detach(s);
    if (a->action == SUP_KILL)
        sup_kill(s);
    if (a->action != SUP_KILL && a->action != SUP_DETACH && a->scope == SUP_ALWAYS &&
        store_user_dir(s->cfg.store)) {
        _cleanup_free_ char *rule = a->rule
                                        ? xstrdup(a->rule)
                                        : xasprintf("native-%s: %s", p->syscall,
                                                    a->action == SUP_PERMIT ? "permit" : "deny");
        const char *rules[] = {rule};
        char *err = NULL;
        store_append(store_user_dir(s->cfg.store), p->binary, rules, 1, NULL, &err);
        free(err);
    }
    if (a->action == SUP_PERMIT || a->action == SUP_DETACH)
        notify_continue(s->listener, token);
    else
        notify_return(s->listener, token, 0, a->err ? a->err : EPERM);
    pending_free(p);
    return 0;
}

void sup_set_asking(struct sup *s, bool asking)
{
    pthread_mutex_lock(&s->lock);
    s->asking = asking;
    pthread_mutex_unlock(&s->lock);
}

void sup_set_mode(struct sup *s, enum sup_mode mode)
{
    pthread_mutex_lock(&s->lock);
    s->mode = mode;
    pthread_mutex_unlock(&s->lock);
}

enum sup_mode sup_get_mode(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    enum sup_mode m = s->mode;
    pthread_mutex_unlock(&s->lock);
    return m;
}

void sup_detach(struct sup *s)
{
    pthread_mutex_lock(&s->lock);
    s->detached = true;
    pthread_mutex_unlock(&s->lock);
}

void sup_kill(struct sup *s)
{
    if (s->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
}

void sup_get_info(struct sup *s, struct sup_info *ret)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = 0;
    for (struct pending *p = s->pending; p; p = p->next)
        n++;
    *ret = (struct sup_info){
        .first_pid = s->first_pid,
        .processes = 1,
        .pending = n,
        .started_ns = s->started_ns,
        .mode = s->mode,
        .detached = s->detached,
    };
    pthread_mutex_unlock(&s->lock);
}

bool sup_has_process(struct sup *s, pid_t pid)
{
    return pid == s->first_pid;
}

void sup_stop(struct sup *s)
{
    if (s->started) {
        eventfd_write(s->stop_fd, 1);
        pthread_join(s->thread, NULL);
        s->started = false;
    }
    pthread_mutex_lock(&s->lock);
    struct pending *list = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->lock);
    while (list) {
        struct pending *p = list;
        list = p->next;
        loop_timer_cancel(s->host->loop, p->timer);
        s->cfg.asker->cancel(s->cfg.asker_data, s, p->token, SUP_CANCEL_ENDED);
        pending_free(p);
    }
}

void sup_free(struct sup *s)
{
    if (!s)
        return;
    if (s->listener >= 0)
        close(s->listener);
    if (s->pidfd >= 0)
        close(s->pidfd);
    close(s->stop_fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

size_t sup_learned_files(struct sup *s, char ***ret)
{
    *ret = NULL;
    return 0;
}

bool sup_rule_fits(const struct sup_question *q, const char *rule_line, char **ret_error)
{
    if (ret_error)
        *ret_error = xstrdup("typed rules need the engine");
    return false;
}
