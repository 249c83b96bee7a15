/* names.c: a cache of the user and group databases, dropped as soon as the file behind either
 * changes (its device, inode, size or modification time). Databases that are not files (LDAP)
 * are read once per id for the session. */
#include "names.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>

#include "util.h"

#define MAX_ENTRIES 64

struct entry {
    unsigned id;
    char *name; /* NULL: the database has no such id */
    char *home;
};

struct table {
    const char *file;
    struct stat seen;
    struct entry v[MAX_ENTRIES];
    size_t n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct table users = {.file = "/etc/passwd"};
static struct table groups = {.file = "/etc/group"};

static void clear(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].home);
    }
    t->n = 0;
}

/* The cached entry for ID, after dropping everything if the file changed; NULL if none. */
static struct entry *cached(struct table *t, unsigned id)
{
    struct stat st = {0};
    stat(t->file, &st);
    if (st.st_dev != t->seen.st_dev || st.st_ino != t->seen.st_ino ||
        st.st_size != t->seen.st_size || st.st_mtim.tv_sec != t->seen.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != t->seen.st_mtim.tv_nsec) {
        clear(t);
        t->seen = st;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id == id)
            return &t->v[i];
    return NULL;
}

static struct entry *add(struct table *t, unsigned id, const char *name, const char *home)
{
    if (t->n == MAX_ENTRIES)
        clear(t);
    struct entry *e = &t->v[t->n++];
    *e = (struct entry){id, name ? xstrdup(name) : NULL, home ? xstrdup(home) : NULL};
    return e;
}

/* The database's entry for ID into a new cache entry of T (NULL name when there is none). */
static struct entry *fetch_user(struct table *t, unsigned id)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    bool found = getpwuid_r(id, &pw, buf, sizeof(buf), &res) == 0 && res;
    return add(t, id, found ? res->pw_name : NULL, found ? res->pw_dir : NULL);
}

static struct entry *fetch_group(struct table *t, unsigned id)
{
    struct group gr, *res = NULL;
    char buf[4096];
    bool found = getgrgid_r(id, &gr, buf, sizeof(buf), &res) == 0 && res;
    return add(t, id, found ? res->gr_name : NULL, NULL);
}

static char *lookup(struct table *t, unsigned id, struct entry *(*fetch)(struct table *, unsigned),
                    char **ret_home)
{
    pthread_mutex_lock(&lock);
    struct entry *e = cached(t, id);
    if (!e)
        e = fetch(t, id);
    char *name = e->name ? xstrdup(e->name) : NULL;
    if (ret_home)
        *ret_home = e->home ? xstrdup(e->home) : NULL;
    pthread_mutex_unlock(&lock);
    return name;
}

char *names_user(uid_t uid, char **ret_home)
{
    return lookup(&users, uid, fetch_user, ret_home);
}

char *names_group(gid_t gid)
{
    return lookup(&groups, gid, fetch_group, NULL);
}
