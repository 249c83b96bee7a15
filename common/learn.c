/* learn.c: choosing learned rules, collecting them and writing them with store_append. */
#include "learn.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "generalise.h"
#include "store.h"
#include "suggest.h"
#include "util.h"

#define FLUSH_INTERVAL_NS (250 * 1000 * 1000)
/* This many files read in one directory below the working directory make a rule for all of it:
 * a server serving its directory, an archiver or a compiler reading the project. */
#define SIBLINGS_FOR_DIRECTORY 3

/* A set of strings in the order they came: open addressing over a vector, for the rules
 * recorded, the names this run created and its pids (learning may record thousands). */
struct strset {
    char **v;
    size_t n;
    uint32_t *slots; /* index + 1, 0 for empty */
    size_t mask;
};

static void strset_put_slot(struct strset *s, size_t index)
{
    size_t at = hash_string(s->v[index]) & s->mask;
    while (s->slots[at])
        at = (at + 1) & s->mask;
    s->slots[at] = (uint32_t)index + 1;
}

static bool strset_has(const struct strset *s, const char *str)
{
    if (!s->slots)
        return false;
    for (size_t at = hash_string(str) & s->mask; s->slots[at]; at = (at + 1) & s->mask)
        if (streq(s->v[s->slots[at] - 1], str))
            return true;
    return false;
}

/* Adds STR unless it is there; returns whether it was added. */
static bool strset_add(struct strset *s, const char *str)
{
    if (strset_has(s, str))
        return false;
    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    s->v[s->n++] = xstrdup(str);
    if (2 * s->n > s->mask) {
        /* Grow to keep it at most half full. */
        free(s->slots);
        s->mask = s->mask ? 2 * s->mask + 1 : 63;
        s->slots = xcalloc(s->mask + 1, sizeof(*s->slots));
        for (size_t i = 0; i < s->n; i++)
            strset_put_slot(s, i);
    } else {
        strset_put_slot(s, s->n - 1);
    }
    return true;
}

static void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->slots);
    *s = (struct strset){0};
}

/* Files a program read in one directory, until there are enough for a rule of their own. */
struct siblings {
    char *rule_name;
    char *dir; /* as learned rules write it: "$CWD" or "$CWD/sub" */
    struct strset names;
};

struct program {
    char *binary;
    struct strset seen; /* every rule recorded, in order, to skip repeats without the disk */
    size_t n_written;   /* seen[0..n_written) are on disk */
    bool wrote;
    struct strset included; /* the abstractions its policy includes from this run on */
    struct siblings *siblings;
    size_t n_siblings;
};

struct learner {
    char *dir;
    struct store *store;
    char **abstractions; /* every abstraction's name, "base" first; read at the first use */
    size_t n_abstractions;
    bool listed;
    struct strset created; /* paths this run made with names of its own choosing */
    struct strset pids;    /* the pids and tids of its calls, in decimal */
    struct log *log;
    pthread_mutex_t lock;       /* programs */
    pthread_mutex_t flush_lock; /* one flush at a time */
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
    struct program *programs;
    size_t n_programs;
};

static struct program *find_program(struct learner *l, const char *binary)
{
    for (size_t i = 0; i < l->n_programs; i++)
        if (streq(l->programs[i].binary, binary))
            return &l->programs[i];
    return NULL;
}

static struct program *program_for(struct learner *l, const char *binary)
{
    struct program *found = find_program(l, binary);
    if (found)
        return found;
    l->programs = xreallocarray(l->programs, l->n_programs + 1, sizeof(*l->programs));
    struct program *p = &l->programs[l->n_programs++];
    *p = (struct program){.binary = xstrdup(binary)};
    return p;
}

bool learner_knows(struct learner *l, const char *binary, const char *rule)
{
    pthread_mutex_lock(&l->lock);
    struct program *p = find_program(l, binary);
    bool known = p && strset_has(&p->seen, rule);
    pthread_mutex_unlock(&l->lock);
    return known;
}

void learner_add(struct learner *l, const char *binary, const char *rule)
{
    pthread_mutex_lock(&l->lock);
    struct program *p = program_for(l, binary);
    strset_add(&p->seen, rule);
    pthread_mutex_unlock(&l->lock);
}

size_t learner_flush(struct learner *l)
{
    size_t failed = 0;
    pthread_mutex_lock(&l->flush_lock);
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&l->lock);
        if (i >= l->n_programs) {
            pthread_mutex_unlock(&l->lock);
            break;
        }
        struct program *p = &l->programs[i];
        size_t from = p->n_written, to = p->seen.n;
        char *binary = xstrdup(p->binary);
        const char **batch = xcalloc(to - from + 1, sizeof(*batch));
        for (size_t k = from; k < to; k++)
            batch[k - from] = p->seen.v[k]; /* seen only grows; entries are never freed early */
        pthread_mutex_unlock(&l->lock);
        if (to > from) {
            char *err = NULL;
            size_t added = 0;
            int r = store_as_owner(l->store);
            if (r >= 0) {
                int became = r;
                store_ensure_dir(l->dir);
                r = store_append(l->dir, binary, batch, to - from, &added, &err);
                store_as_host(became);
            }
            if (r < 0) {
                failed += to - from;
                log_event(l->log, "learn: cannot write the policy of %s: %s", binary,
                          err ? err : strerror(-r));
            }
            free(err);
            pthread_mutex_lock(&l->lock);
            l->programs[i].n_written = to;
            l->programs[i].wrote |= r == 0 && added > 0; /* not a line the file held */
            pthread_mutex_unlock(&l->lock);
        }
        free(batch);
        free(binary);
    }
    pthread_mutex_unlock(&l->flush_lock);
    return failed;
}

static void *flusher(void *arg)
{
    struct learner *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += FLUSH_INTERVAL_NS;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&l->wake, &l->lock, &ts);
        pthread_mutex_unlock(&l->lock);
        learner_flush(l);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int learner_new(const char *dir, struct store *store, struct log *log, struct learner **ret)
{
    struct learner *l = xcalloc(1, sizeof(*l));
    l->dir = xstrdup(dir);
    l->store = store;
    l->log = log;
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->flush_lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    int r = pthread_create(&l->thread, NULL, flusher, l);
    if (r != 0) {
        free(l->dir);
        free(l);
        return -r;
    }
    *ret = l;
    return 0;
}

void learner_free(struct learner *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    learner_flush(l);
    for (size_t i = 0; i < l->n_programs; i++) {
        struct program *p = &l->programs[i];
        strset_free(&p->seen);
        free(p->binary);
        strset_free(&p->included);
        for (size_t k = 0; k < p->n_siblings; k++) {
            free(p->siblings[k].rule_name);
            free(p->siblings[k].dir);
            strset_free(&p->siblings[k].names);
        }
        free(p->siblings);
    }
    free(l->programs);
    for (size_t i = 0; i < l->n_abstractions; i++)
        free(l->abstractions[i]);
    free(l->abstractions);
    strset_free(&l->created);
    strset_free(&l->pids);
    free(l->dir);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    pthread_mutex_destroy(&l->flush_lock);
    free(l);
}

size_t learner_files(struct learner *l, char ***ret)
{
    pthread_mutex_lock(&l->lock);
    char **v = xcalloc(l->n_programs + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < l->n_programs; i++) {
        if (!l->programs[i].wrote)
            continue;
        char *name = NULL;
        if (store_file_name(l->programs[i].binary, &name) == 0) {
            v[n++] = xasprintf("%s/%s", l->dir, name);
            free(name);
        }
    }
    pthread_mutex_unlock(&l->lock);
    *ret = v;
    return n;
}

/* Whether abstraction NAME permits REQ (its first matching rule does). */
static bool abstraction_permits(struct learner *l, const char *name, const struct pol_request *req)
{
    struct store_policy a;
    if (store_get_abstraction(l->store, name, &a) < 0)
        return false;
    const struct pol_rule *r = pol_evaluate(a.policy, req, NULL);
    bool permits = r && r->action == POL_PERMIT && !r->as_user && !r->as_group && !r->log;
    store_policy_release(&a);
    return permits;
}

/* The abstraction to include for REQ, or NULL: one BINARY's policy includes already, else the
 * first in l->abstractions that permits it. */
static char *covering_abstraction(struct learner *l, const char *binary,
                                  const struct pol_request *req)
{
    if (!l->store)
        return NULL;
    pthread_mutex_lock(&l->lock);
    if (!l->listed) {
        l->listed = true;
        l->n_abstractions = store_abstraction_names(l->store, &l->abstractions);
        for (size_t i = 1; i < l->n_abstractions; i++)
            if (streq(l->abstractions[i], "base")) {
                char *base = l->abstractions[i];
                memmove(l->abstractions + 1, l->abstractions, i * sizeof(*l->abstractions));
                l->abstractions[0] = base;
            }
    }
    struct program *p = program_for(l, binary);
    size_t n = p->included.n + l->n_abstractions;
    char **order = xcalloc(n + 1, sizeof(*order));
    for (size_t i = 0; i < p->included.n; i++)
        order[i] = xstrdup(p->included.v[i]);
    for (size_t i = 0; i < l->n_abstractions; i++)
        order[p->included.n + i] = xstrdup(l->abstractions[i]);
    pthread_mutex_unlock(&l->lock);
    char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!found && abstraction_permits(l, order[i], req))
            found = steal_pointer(&order[i]);
        free(order[i]);
    }
    free(order);
    if (found) {
        pthread_mutex_lock(&l->lock);
        strset_add(&program_for(l, binary)->included, found);
        pthread_mutex_unlock(&l->lock);
    }
    return found;
}

static bool created_cb(void *userdata, const char *path)
{
    struct learner *l = userdata;
    return strset_has(&l->created, path);
}

static bool pid_seen_cb(void *userdata, long pid)
{
    struct learner *l = userdata;
    char text[24];
    snprintf(text, sizeof(text), "%ld", pid);
    return strset_has(&l->pids, text);
}

/* "$CWD/sub/name" -> "$CWD/sub" and "name", when GENERAL is a plain path below $CWD. */
static bool split_below_cwd(const char *general, char **ret_dir, const char **ret_name)
{
    if (strncmp(general, "$CWD/", 5) != 0 || strpbrk(general, "*?[]\\"))
        return false;
    const char *slash = strrchr(general, '/');
    *ret_dir = xstrndup(general, (size_t)(slash - general));
    *ret_name = slash + 1;
    return true;
}

/* The rule for the whole directory once P has read SIBLINGS_FOR_DIRECTORY files of it with
 * RULE_NAME, or NULL. L->lock held. */
static char *directory_rule(struct program *p, const char *rule_name, const char *general)
{
    char *dir;
    const char *name;
    if (!streq(rule_name, "fsread") || !split_below_cwd(general, &dir, &name))
        return NULL;
    struct siblings *sb = NULL;
    for (size_t i = 0; i < p->n_siblings && !sb; i++)
        if (streq(p->siblings[i].rule_name, rule_name) && streq(p->siblings[i].dir, dir))
            sb = &p->siblings[i];
    if (!sb) {
        p->siblings = xreallocarray(p->siblings, p->n_siblings + 1, sizeof(*p->siblings));
        sb = &p->siblings[p->n_siblings++];
        *sb = (struct siblings){xstrdup(rule_name), xstrdup(dir), {0}};
    }
    if (sb->names.n < SIBLINGS_FOR_DIRECTORY)
        strset_add(&sb->names, name);
    char *rule = NULL;
    if (sb->names.n >= SIBLINGS_FOR_DIRECTORY) {
        _cleanup_free_ char *pattern = xasprintf("%s/*", dir);
        _cleanup_free_ char *quoted = pol_quote(pattern);
        rule = xasprintf("native-%s: filename match %s then permit", rule_name, quoted);
    }
    free(dir);
    return rule;
}

/* Whether REQ makes a file or directory (that may not exist yet). */
static bool creates(const struct pol_request *req)
{
    const char *name = sys_name(req->nr);
    if (name && (streq(name, "mkdir") || streq(name, "mkdirat")))
        return true;
    for (size_t i = 0; i < req->n_args; i++)
        if (streq(req->args[i].name, "oflags") && strstr(req->args[i].value, "O_CREAT"))
            return true;
    return false;
}

char *learner_rule(struct learner *l, const char *binary, const char *rule_name,
                   const struct pol_request *req)
{
    const struct pol_value *path = NULL;
    for (size_t i = 0; i < req->n_args && !path; i++)
        if (streq(req->args[i].name, "filename") && req->args[i].value)
            path = &req->args[i];
    pthread_mutex_lock(&l->lock);
    char text[24];
    snprintf(text, sizeof(text), "%d", (int)req->pid);
    strset_add(&l->pids, text);
    snprintf(text, sizeof(text), "%d", (int)req->tid);
    strset_add(&l->pids, text);
    if (path && gen_is_exclusive_creation(req))
        strset_add(&l->created, path->value);
    pthread_mutex_unlock(&l->lock);
    _cleanup_free_ char *abstraction = covering_abstraction(l, binary, req);
    if (abstraction)
        return xasprintf("include \"%s\"", abstraction);
    struct gen_context gen = {
        .home = req->home,
        .cwd = req->cwd,
        .program = binary,
        .pid = req->pid,
        .tid = req->tid,
        .now = time(NULL),
        .created = created_cb,
        .pid_seen = pid_seen_cb,
        .userdata = l,
    };
    pthread_mutex_lock(&l->lock);
    char *rule = suggest_learned(rule_name, req, &gen);
    if (path && !path->missing) {
        _cleanup_free_ char *general = NULL;
        bool pattern;
        gen_path(&gen, path->value, &general, &pattern);
        char *dir_rule = directory_rule(program_for(l, binary), rule_name, general);
        if (dir_rule) {
            free(rule);
            rule = dir_rule;
        }
    }
    _cleanup_free_ char *companion = NULL;
    if (path && streq(rule_name, "fswrite") && creates(req)) {
        /* What a program may create it may look at: mkdir -p's stat of the directory it made
         * in the previous run, a read of the file it wrote. */
        struct pol_value seen = *path;
        seen.missing = false;
        struct pol_request look = *req;
        look.alias = SYS_ALIAS_FSREAD;
        look.args = &seen;
        look.n_args = 1;
        companion = suggest_learned("fsread", &look, &gen);
    }
    pthread_mutex_unlock(&l->lock);
    if (companion)
        learner_add(l, binary, companion);
    return rule;
}
