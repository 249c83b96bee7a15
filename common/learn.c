/* learn.c: collecting learned rules and writing them with store_append. */
#include "learn.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "util.h"

#define FLUSH_INTERVAL_NS (250 * 1000 * 1000)

struct program {
    char *binary;
    char **seen; /* every rule recorded, in order, to skip repeats without touching the disk */
    size_t n_seen;
    uint32_t *slots; /* a hash set over seen[]: index + 1, 0 for empty */
    size_t mask;
    size_t n_written; /* seen[0..n_written) are on disk */
    bool wrote;
};

struct learner {
    char *dir;
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

static void set_insert(struct program *p, size_t index)
{
    size_t at = hash_string(p->seen[index]) & p->mask;
    while (p->slots[at])
        at = (at + 1) & p->mask;
    p->slots[at] = (uint32_t)index + 1;
}

/* Whether RULE was recorded for P: a hash lookup, since a learning run may record thousands. */
static bool seen_before(const struct program *p, const char *rule)
{
    if (!p->slots)
        return false;
    for (size_t at = hash_string(rule) & p->mask; p->slots[at]; at = (at + 1) & p->mask)
        if (streq(p->seen[p->slots[at] - 1], rule))
            return true;
    return false;
}

bool learner_knows(struct learner *l, const char *binary, const char *rule)
{
    pthread_mutex_lock(&l->lock);
    struct program *p = find_program(l, binary);
    bool known = p && seen_before(p, rule);
    pthread_mutex_unlock(&l->lock);
    return known;
}

void learner_add(struct learner *l, const char *binary, const char *rule)
{
    pthread_mutex_lock(&l->lock);
    struct program *p = program_for(l, binary);
    if (!seen_before(p, rule)) {
        p->seen = xreallocarray(p->seen, p->n_seen + 1, sizeof(*p->seen));
        p->seen[p->n_seen++] = xstrdup(rule);
        if (2 * p->n_seen > p->mask) {
            /* Grow the set to keep it at most half full. */
            free(p->slots);
            p->mask = p->mask ? 2 * p->mask + 1 : 63;
            p->slots = xcalloc(p->mask + 1, sizeof(*p->slots));
            for (size_t i = 0; i < p->n_seen; i++)
                set_insert(p, i);
        } else {
            set_insert(p, p->n_seen - 1);
        }
    }
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
        size_t from = p->n_written, to = p->n_seen;
        char *binary = xstrdup(p->binary);
        const char **batch = xcalloc(to - from + 1, sizeof(*batch));
        for (size_t k = from; k < to; k++)
            batch[k - from] = p->seen[k]; /* seen[] only grows; entries are never freed early */
        pthread_mutex_unlock(&l->lock);
        if (to > from) {
            char *err = NULL;
            int r = store_append(l->dir, binary, batch, to - from, NULL, &err);
            if (r < 0) {
                failed += to - from;
                log_event(l->log, "learn: cannot write the policy of %s: %s", binary,
                          err ? err : strerror(-r));
            }
            free(err);
            pthread_mutex_lock(&l->lock);
            l->programs[i].n_written = to;
            l->programs[i].wrote |= r == 0;
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

int learner_new(const char *dir, struct log *log, struct learner **ret)
{
    struct learner *l = xcalloc(1, sizeof(*l));
    l->dir = xstrdup(dir);
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
        for (size_t k = 0; k < l->programs[i].n_seen; k++)
            free(l->programs[i].seen[k]);
        free(l->programs[i].seen);
        free(l->programs[i].slots);
        free(l->programs[i].binary);
    }
    free(l->programs);
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
