/* store.c: policy files on disk. Lookup order: -f files (exact path, then *\/name), the user's
 * directory, the system directory. Parsed files are cached and re-read after inotify reports a
 * change in their directory; a file that stops parsing keeps its last good version in force. */
#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "config.h"
#include "emulate.h"
#include "i18n.h"
#include "names.h"
#include "util.h"

#define MAX_POLICY_FILE  (64u << 20)
#define MAX_ABSTRACTION  (1u << 20)
#define ABSTRACTIONS_DIR "abstractions"

/* An abstraction a parsed file's includes were expanded with: where it was found, and what it
 * was then. The expansion is redone when the name would now be found elsewhere or changed. */
struct frag_stamp {
    char *name;
    char *path;
    struct stat st;
};

struct store_file {
    int refs;
    struct pol_file *parsed;
    char *path;
    struct stat st; /* identity of what was parsed */
    struct frag_stamp *frags;
    size_t n_frags;
};

/* A cached abstraction, for learning (store_get_abstraction). */
struct frag_entry {
    char *name;
    struct store_file *file; /* NULL when it does not exist or does not parse */
    bool checked;
};

struct cache_entry {
    char *path;
    enum store_origin origin;
    struct store_file *file; /* the last good version, NULL if none */
    bool checked;            /* nothing changed on disk since it was read */
};

struct watch {
    int wd;
    char *dir;
};

struct store {
    pthread_mutex_t lock;
    bool has_owner;
    struct store_owner owner;
    gid_t *owner_groups;
    char *user_dir;
    char *global_dir;
    char *abs_dirs[2]; /* GLOBAL/abstractions, then DATA/abstractions */
    struct frag_entry *fragments;
    size_t n_fragments;
    char **files;
    size_t n_files;
    int inotify_fd;
    struct watch *watches;
    size_t n_watches;
    struct cache_entry *entries;
    size_t n_entries;
    store_report_fn report;
    void *report_data;
    char **missing; /* binaries already reported as having no policy */
    size_t n_missing;
};

/* Enough to say it once for every program of a big tree, bounded against one that execs
 * thousands of different paths. */
#define MAX_MISSING_REPORTED 1024

static const char *const origin_names[] = {
    [STORE_ORIGIN_FILE] = N_("policy file given with -f"),
    [STORE_ORIGIN_USER] = N_("user policy directory"),
    [STORE_ORIGIN_GLOBAL] = N_("system policy directory"),
};

const char *store_origin_name(enum store_origin origin)
{
    return origin_names[origin];
}

int store_file_name(const char *binary, char **ret)
{
    if (!binary || binary[0] != '/')
        return -EINVAL;
    size_t n = strlen(binary);
    char *name = xmalloc(n + 1);
    for (size_t i = 1; i <= n; i++)
        name[i - 1] = isalnum_ascii(binary[i]) ? binary[i] : '_';
    name[n - 1] = '\0';
    if (n - 1 > NAME_MAX - 8) {
        /* A hash of the whole path keeps long names apart after the cut. */
        snprintf(name + 200, n - 200, "_%08x", hash_string(binary));
    }
    *ret = name;
    return 0;
}

char *store_default_user_dir(void)
{
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
        _cleanup_free_ char *db_home = NULL;
        free(names_user(getuid(), &db_home));
        return db_home ? xasprintf("%s/.systrace", db_home) : NULL;
    }
    return xasprintf("%s/.systrace", home);
}

const char *store_default_global_dir(void)
{
    const char *dir = getenv("SYSTRACE_GLOBAL_DIR");
    if (dir && dir[0] == '/' && !getauxval(AT_SECURE))
        return dir;
    return GLOBAL_POLICY_DIR;
}

const char *store_default_data_dir(void)
{
    const char *dir = getenv("SYSTRACE_DATA_DIR");
    if (dir && dir[0] == '/' && !getauxval(AT_SECURE))
        return dir;
    /* A build that was never installed uses the abstractions of its own source tree, so that
     * learning from the build directory writes the same short policies as an installed copy. */
    struct stat st;
    if (stat(DATA_DIR "/abstractions", &st) < 0 && stat(SOURCE_DATA_DIR "/abstractions", &st) == 0)
        return SOURCE_DATA_DIR;
    return DATA_DIR;
}

/* Reads abstraction NAME from the first of DIRS that has it. -ENOENT when none does. */
static int read_fragment(char *const dirs[2], const char *name, char **ret_text, size_t *ret_len,
                         char **ret_path, struct stat *ret_st)
{
    if (!pol_include_name_valid(name))
        return -EINVAL;
    for (unsigned i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", dirs[i], name);
        int r = read_regular_file(path, MAX_ABSTRACTION, ret_text, ret_len, ret_st);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return r;
        *ret_path = steal_pointer(&path);
        return 0;
    }
    return -ENOENT;
}

/* The fragment callback of pol_expand_includes: reads from DIRS and records what it read. */
struct expansion {
    char *const *dirs;
    struct frag_stamp *stamps;
    size_t n_stamps;
};

static int expansion_fragment(void *userdata, const char *name, char **ret_text, size_t *ret_len,
                              char **ret_path, char **ret_error)
{
    struct expansion *x = userdata;
    struct stat st;
    int r = read_fragment(x->dirs, name, ret_text, ret_len, ret_path, &st);
    if (r == -ENOENT)
        *ret_error = xasprintf("none in %s or %s", x->dirs[0] ? x->dirs[0] : "-",
                               x->dirs[1] ? x->dirs[1] : "-");
    else if (r == -EINVAL)
        *ret_error = xstrdup("not a regular file");
    if (r < 0)
        return r;
    x->stamps = xreallocarray(x->stamps, x->n_stamps + 1, sizeof(*x->stamps));
    x->stamps[x->n_stamps++] = (struct frag_stamp){xstrdup(name), xstrdup(*ret_path), st};
    return 0;
}

static void stamps_free(struct frag_stamp *stamps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(stamps[i].name);
        free(stamps[i].path);
    }
    free(stamps);
}

static void abstraction_dirs(char *ret[2], const char *global_dir, const char *data_dir)
{
    ret[0] =
        xasprintf("%s/" ABSTRACTIONS_DIR, global_dir ? global_dir : store_default_global_dir());
    ret[1] = xasprintf("%s/" ABSTRACTIONS_DIR, data_dir ? data_dir : store_default_data_dir());
}

int store_expand_includes(struct pol_file *file, const char *global_dir, const char *data_dir,
                          struct pol_diags *diags)
{
    char *dirs[2];
    abstraction_dirs(dirs, global_dir, data_dir);
    struct expansion x = {.dirs = dirs};
    int r = pol_expand_includes(file, expansion_fragment, &x, diags);
    stamps_free(x.stamps, x.n_stamps);
    free(dirs[0]);
    free(dirs[1]);
    return r;
}

int store_ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Byte offset just past line LINE (1-based) of TEXT, or LEN if the text ends before. */
static size_t offset_after_line(const char *text, size_t len, unsigned line)
{
    size_t off = 0;
    for (unsigned l = 0; l < line && off < len; l++) {
        const char *nl = memchr(text + off, '\n', len - off);
        off = nl ? (size_t)(nl - text) + 1 : len;
    }
    return off;
}

static int open_temp(int dirfd, const char *name, char **ret_name)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t r = 0;
        if (getrandom(&r, sizeof(r), 0) < 0)
            r = (uint64_t)getpid() * 2654435761u + (uint64_t)attempt;
        char *tmp = xasprintf(".%s.%016llx", name, (unsigned long long)r);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            *ret_name = tmp;
            return fd;
        }
        free(tmp);
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

static const struct policy *find_policy(const struct pol_file *file, const char *binary)
{
    for (size_t i = 0; file && i < file->n_policies; i++)
        if (streq(file->policies[i].path, binary))
            return &file->policies[i];
    return NULL;
}

/* Canonical texts of the rules to add: RULES minus those POL already has, minus repeats. */
static int new_rules(const struct policy *pol, const char *const *rules, size_t n, struct buf *out,
                     size_t *ret_added, char **ret_error)
{
    size_t have = pol ? pol->n_rules : 0;
    char **seen = xcalloc(have + n, sizeof(*seen));
    struct pol_rule **added = xcalloc(n, sizeof(*added));
    size_t n_seen = 0, n_added = 0;
    int r = 0;
    for (size_t i = 0; i < have; i++)
        seen[n_seen++] = pol_rule_print(&pol->rules[i]);
    *ret_added = 0;
    for (size_t i = 0; i < n; i++) {
        struct pol_rule *rule;
        char *err = NULL;
        if (pol_parse_rule(rules[i], &rule, &err) < 0) {
            *ret_error = xasprintf("rule '%s': %s", rules[i], err);
            free(err);
            r = -EINVAL;
            break;
        }
        char *text = pol_rule_print(rule);
        /* A rule already there, or one that could never match (an earlier rule decides every
         * call it would: learned before it was written), adds nothing. */
        bool useless = false;
        for (size_t k = 0; k < n_seen && !useless; k++)
            useless = streq(seen[k], text);
        for (size_t k = 0; k < have && !useless; k++)
            useless = pol_rule_shadows(&pol->rules[k], rule);
        for (size_t k = 0; k < n_added && !useless; k++)
            useless = pol_rule_shadows(added[k], rule);
        if (useless) {
            free(text);
            pol_rule_free(rule);
            continue;
        }
        buf_printf(out, "\t%s\n", text);
        seen[n_seen++] = text;
        added[n_added++] = rule;
        (*ret_added)++;
    }
    for (size_t k = 0; k < n_seen; k++)
        free(seen[k]);
    for (size_t k = 0; k < n_added; k++)
        pol_rule_free(added[k]);
    free(seen);
    free(added);
    return r;
}

static int write_replacement(int dirfd, const char *name, const struct buf *text,
                             const struct stat *old)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = open_temp(dirfd, name, &tmp);
    if (fd < 0)
        return fd;
    int r = write_all(fd, text->data, text->len);
    if (r == 0 && old) {
        /* Keep the file's owner and mode; failing to chown as non-root is harmless. */
        if (fchown(fd, old->st_uid, old->st_gid) < 0) {
        }
        if (fchmod(fd, old->st_mode & 07777) < 0)
            r = -errno;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
        r = -errno;
    if (r < 0) {
        unlinkat(dirfd, tmp, 0);
        return r;
    }
    fsync(dirfd);
    return 0;
}

/* The new text of the file: TEXT with ADDED inserted after the policy's last line, or with a new
 * policy for BINARY at the end. */
static void splice_rules(struct buf *out, const char *text, size_t len, const struct policy *pol,
                         const char *binary, const struct buf *added)
{
    buf_append(out, "", 0);
    size_t at = pol ? offset_after_line(text, len, pol->end_line) : len;
    buf_append(out, text, at);
    if (at > 0 && text[at - 1] != '\n')
        buf_putc(out, '\n');
    if (!pol)
        buf_printf(out, "Policy: %s, Emulation: native\n", binary);
    buf_append(out, added->data, added->len);
    buf_append(out, text + at, len - at);
}

/* store_append's work once DIRFD is locked. */
static int append_locked(int dirfd, const char *dir, const char *name, const char *binary,
                         const char *const *rules, size_t n, size_t *ret_added, char **ret_error)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        int r = -errno;
        if (r == -ELOOP)
            *ret_error =
                xasprintf("%s/%s is a symbolic link; refusing to write through it", dir, name);
        return r;
    }
    struct stat st;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd >= 0) {
        if (fstat(fd, &st) < 0)
            return -errno;
        if (!S_ISREG(st.st_mode)) {
            *ret_error = xasprintf("%s/%s is not a regular file", dir, name);
            return -EINVAL;
        }
        int r = read_fd_all(fd, MAX_POLICY_FILE, &text, &len);
        if (r < 0)
            return r;
    }
    struct pol_file *parsed = NULL;
    struct pol_diags diags = {0};
    if (pol_parse(text ? text : "", len, &parsed, &diags) < 0) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        *ret_error = pol_diags_format(&diags, path);
        pol_diags_clear(&diags);
        pol_file_free(parsed);
        return -EINVAL;
    }
    pol_diags_clear(&diags);
    const struct policy *pol = find_policy(parsed, binary);
    struct buf added = {0}, out = {0};
    int r = new_rules(pol, rules, n, &added, ret_added, ret_error);
    if (r == 0 && *ret_added > 0) {
        splice_rules(&out, text ? text : "", len, pol, binary, &added);
        r = write_replacement(dirfd, name, &out, fd >= 0 ? &st : NULL);
    }
    pol_file_free(parsed);
    buf_free(&added);
    buf_free(&out);
    return r;
}

int store_append(const char *dir, const char *binary, const char *const *rules, size_t n,
                 size_t *ret_added, char **ret_error)
{
    _cleanup_free_ char *dummy_error = NULL;
    size_t dummy_added;
    if (!ret_error)
        ret_error = &dummy_error;
    if (!ret_added)
        ret_added = &dummy_added;
    *ret_error = NULL;
    *ret_added = 0;
    _cleanup_free_ char *name = NULL;
    int r = store_file_name(binary, &name);
    if (r < 0)
        return r;
    /* The path goes into a "Policy:" line as it is: a newline in it would write rules. */
    for (const char *c = binary; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '#') {
            *ret_error = xstrdup("the program's path holds a control character or '#', which a "
                                 "policy header cannot carry");
            return -EINVAL;
        }
    _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    /* The lock is on the directory, since the policy file itself is replaced by rename. It is
     * released when dirfd is closed. */
    while (flock(dirfd, LOCK_EX) < 0)
        if (errno != EINTR)
            return -errno;
    return append_locked(dirfd, dir, name, binary, rules, n, ret_added, ret_error);
}

static void file_unref(struct store_file *f)
{
    if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    pol_file_free(f->parsed);
    stamps_free(f->frags, f->n_frags);
    free(f->path);
    free(f);
}

static int watch_dir_locked(struct store *store, const char *dir);

int store_watch_dir(struct store *store, const char *dir)
{
    pthread_mutex_lock(&store->lock);
    int r = watch_dir_locked(store, dir);
    pthread_mutex_unlock(&store->lock);
    return r;
}

static int watch_dir_locked(struct store *store, const char *dir)
{
    if (store->inotify_fd < 0)
        return -EBADF;
    int wd =
        inotify_add_watch(store->inotify_fd, dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
    if (wd < 0)
        return -errno;
    bool known = false;
    for (size_t i = 0; i < store->n_watches; i++)
        known |= store->watches[i].wd == wd;
    if (!known) {
        store->watches =
            xreallocarray(store->watches, store->n_watches + 1, sizeof(*store->watches));
        store->watches[store->n_watches++] = (struct watch){wd, xstrdup(dir)};
        for (size_t i = 0; i < store->n_entries; i++)
            store->entries[i].checked = false;
        for (size_t i = 0; i < store->n_fragments; i++)
            store->fragments[i].checked = false;
    }
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

int store_new(const struct store_options *opts, struct store **ret)
{
    struct store *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    if (opts->owner) {
        s->has_owner = true;
        s->owner = *opts->owner;
        s->owner_groups = xcalloc(opts->owner->n_groups + 1, sizeof(gid_t));
        memcpy(s->owner_groups, opts->owner->groups, opts->owner->n_groups * sizeof(gid_t));
        s->owner.groups = s->owner_groups;
    }
    /* Every path below is the owner's to reach: the watches too. */
    int became = store_as_owner(s);
    if (became < 0) {
        free(s->owner_groups);
        free(s);
        return became;
    }
    s->user_dir = opts->user_dir ? xstrdup(opts->user_dir) : NULL;
    s->global_dir = xstrdup(opts->global_dir ? opts->global_dir : store_default_global_dir());
    abstraction_dirs(s->abs_dirs, s->global_dir, opts->data_dir);
    s->files = xcalloc(opts->n_files, sizeof(*s->files));
    for (size_t i = 0; i < opts->n_files; i++) {
        char *abs = realpath(opts->files[i], NULL);
        if (!abs) {
            int e = errno;
            s->n_files = i;
            store_as_host(became);
            store_free(s);
            return -e;
        }
        s->files[s->n_files++] = abs;
    }
    s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->user_dir)
        store_watch_dir(s, s->user_dir);
    store_watch_dir(s, s->global_dir);
    for (unsigned i = 0; i < 2; i++)
        store_watch_dir(s, s->abs_dirs[i]); /* a missing one is watched once it appears */
    for (size_t i = 0; i < s->n_files; i++) {
        _cleanup_free_ char *dir = dir_of(s->files[i]);
        store_watch_dir(s, dir);
    }
    store_as_host(became);
    *ret = s;
    return 0;
}

int store_as_owner(const struct store *store)
{
    if (!store || !store->has_owner)
        return 0;
    const struct store_owner *o = &store->owner;
    return emu_become_user(o->uid, o->gid, o->groups, o->n_groups);
}

void store_as_host(int became)
{
    emu_unbecome(became);
}

void store_free(struct store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->n_entries; i++) {
        free(store->entries[i].path);
        file_unref(store->entries[i].file);
    }
    for (size_t i = 0; i < store->n_fragments; i++) {
        free(store->fragments[i].name);
        file_unref(store->fragments[i].file);
    }
    free(store->fragments);
    free(store->abs_dirs[0]);
    free(store->abs_dirs[1]);
    for (size_t i = 0; i < store->n_watches; i++)
        free(store->watches[i].dir);
    for (size_t i = 0; i < store->n_files; i++)
        free(store->files[i]);
    for (size_t i = 0; i < store->n_missing; i++)
        free(store->missing[i]);
    free(store->missing);
    free(store->entries);
    free(store->watches);
    free(store->files);
    free(store->user_dir);
    free(store->global_dir);
    if (store->inotify_fd >= 0)
        close(store->inotify_fd);
    pthread_mutex_destroy(&store->lock);
    free(store->owner_groups);
    free(store);
}

void store_set_reporter(struct store *store, store_report_fn fn, void *userdata)
{
    store->report = fn;
    store->report_data = userdata;
}

const char *store_user_dir(const struct store *store)
{
    return store->user_dir;
}

int store_watch_fd(const struct store *store)
{
    return store->inotify_fd;
}

/* Takes pending inotify events in; any change makes every cached file be checked again. */
static void refresh_locked(struct store *store)
{
    if (store->inotify_fd < 0)
        return;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;
    for (;;) {
        ssize_t n = read(store->inotify_fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        changed = true;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->mask & IN_IGNORED) {
                for (size_t i = 0; i < store->n_watches; i++)
                    if (store->watches[i].wd == ev->wd) {
                        free(store->watches[i].dir);
                        store->watches[i] = store->watches[--store->n_watches];
                        break;
                    }
            }
            p += sizeof(*ev) + ev->len;
        }
    }
    if (!changed)
        return;
    for (size_t i = 0; i < store->n_entries; i++)
        store->entries[i].checked = false;
    for (size_t i = 0; i < store->n_fragments; i++)
        store->fragments[i].checked = false;
    /* An abstractions directory created since (by an administrator, or a package) is watched
     * from now on; for one already watched this changes nothing. */
    for (unsigned i = 0; i < 2; i++)
        watch_dir_locked(store, store->abs_dirs[i]);
}

void store_refresh(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    refresh_locked(store);
    pthread_mutex_unlock(&store->lock);
}

static bool dir_watched(const struct store *store, const char *path)
{
    _cleanup_free_ char *dir = dir_of(path);
    for (size_t i = 0; i < store->n_watches; i++)
        if (streq(store->watches[i].dir, dir))
            return true;
    return false;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void report(struct store *store, const char *fmt, ...) _printf_(2, 3);
static void report(struct store *store, const char *fmt, ...)
{
    if (!store->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) >= 0) {
        store->report(store->report_data, msg);
        free(msg);
    }
    va_end(ap);
}

/* Whether the abstractions F was expanded with are still the ones its names find. */
static bool fragments_unchanged(const struct store *store, const struct store_file *f)
{
    for (size_t i = 0; i < f->n_frags; i++) {
        bool same = false;
        for (unsigned d = 0; d < 2 && !same; d++) {
            _cleanup_free_ char *path = xasprintf("%s/%s", store->abs_dirs[d], f->frags[i].name);
            struct stat st;
            if (stat(path, &st) < 0) {
                if (errno == ENOENT)
                    continue;
                return false;
            }
            if (!streq(path, f->frags[i].path) || !same_file(&st, &f->frags[i].st))
                return false;
            same = true;
        }
        if (!same)
            return false;
    }
    return true;
}

/* Reports DIAGS' first error for PATH as one line (a log event is one line). */
static void report_first_error(struct store *store, const char *path, const struct pol_diags *diags,
                               bool kept)
{
    const struct pol_diag *first = NULL;
    for (size_t i = 0; i < diags->n && !first; i++)
        if (diags->v[i].severity == POL_ERROR)
            first = &diags->v[i];
    report(
        store, "%s:%u:%u: error: %s%s; %s", path, first ? first->line : 0, first ? first->col : 0,
        first ? first->msg : "?", diags->n_errors > 1 ? " (and more errors)" : "",
        kept ? "keeping the last good version in force" : "the file is not used until it parses");
}

/* Rules of FILE that can never match (an earlier rule takes every call they would), each
 * reported once per load: the person who appended a deny after a learned permit learns why it
 * does nothing. */
static void report_shadowing(struct store *store, const char *path, const struct pol_file *file)
{
    struct pol_diags diags = {0};
    for (size_t i = 0; i < file->n_policies; i++)
        pol_lint_shadowing(&file->policies[i], &diags);
    pol_diags_sort(&diags);
    for (size_t i = 0; i < diags.n; i++)
        report(store, "%s:%u:%u: warning: %s", path, diags.v[i].line, diags.v[i].col,
               diags.v[i].msg);
    pol_diags_clear(&diags);
}

/* A parsed and expanded file from TEXT, or NULL after reporting why not. FRAGMENT: the name of
 * the abstraction TEXT is, NULL for a policy file. */
static struct store_file *parse_locked(struct store *store, const char *path, const char *fragment,
                                       const char *text, size_t len, const struct stat *st,
                                       bool kept)
{
    struct pol_file *parsed;
    struct pol_diags diags = {0};
    struct expansion x = {.dirs = store->abs_dirs};
    int r = fragment ? pol_parse_fragment(fragment, text, len, &parsed, &diags)
                     : pol_parse(text, len, &parsed, &diags);
    if (r == 0 && pol_file_has_includes(parsed))
        r = pol_expand_includes(parsed, expansion_fragment, &x, &diags);
    if (r < 0) {
        report_first_error(store, path, &diags, kept);
        pol_diags_clear(&diags);
        pol_file_free(parsed);
        stamps_free(x.stamps, x.n_stamps);
        return NULL;
    }
    pol_diags_clear(&diags);
    if (!fragment)
        report_shadowing(store, path, parsed);
    struct store_file *f = xcalloc(1, sizeof(*f));
    f->refs = 1;
    f->parsed = parsed;
    f->path = xstrdup(path);
    f->st = *st;
    f->frags = x.stamps;
    f->n_frags = x.n_stamps;
    return f;
}

/* Reads PATH into its cache entry unless nothing changed. Returns the entry. */
const char *store_untrusted(const struct stat *st, uid_t owner)
{
    if (st->st_uid != owner && st->st_uid != 0)
        return N_("owned by another user");
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return N_("writable by other users");
    return NULL;
}

/* Why the policy file PATH (its fstat ST) or its directory could be changed by someone the
 * policy must not trust (not its owner, not root), or NULL: a root program's policy that anyone
 * may edit grants them what it permits. */
static const char *untrusted_policy(const struct store *store, const char *path,
                                    const struct stat *st)
{
    uid_t owner = store->has_owner ? store->owner.uid : geteuid();
    const char *why = store_untrusted(st, owner);
    if (why)
        return why;
    _cleanup_free_ char *dir = dir_of(path);
    struct stat ds;
    if (stat(dir, &ds) == 0 && (why = store_untrusted(&ds, owner)))
        return ds.st_mode & S_ISVTX ? NULL : why; /* a sticky directory keeps others' hands off */
    return NULL;
}

/* Reads and parses E's file PATH again if it changed (load_locked's I/O). */
static void read_entry_locked(struct store *store, struct cache_entry *e, const char *path,
                              enum store_origin origin)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0 || errno != ENOENT)
            report(store, "%s: cannot read the policy: %s", path,
                   fd >= 0 ? "not a regular file" : strerror(errno));
        file_unref(e->file);
        e->file = NULL;
        return;
    }
    const char *why = origin != STORE_ORIGIN_GLOBAL ? untrusted_policy(store, path, &st) : NULL;
    if (why) {
        report(store,
               "%s: not used: %s (mode %04o): a policy counts only when no one but its owner "
               "and root can change it",
               path, why, (unsigned)(st.st_mode & 07777));
        file_unref(e->file);
        e->file = NULL;
        return;
    }
    if (e->file && same_file(&e->file->st, &st) && fragments_unchanged(store, e->file))
        return;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_fd_all(fd, MAX_POLICY_FILE, &text, &len);
    if (r < 0) {
        report(store, "%s: cannot read the policy: %s", path, strerror(-r));
        return;
    }
    struct store_file *f = parse_locked(store, path, NULL, text, len, &st, e->file != NULL);
    if (f) {
        file_unref(e->file);
        e->file = f;
    }
}

static struct cache_entry *load_locked(struct store *store, const char *path,
                                       enum store_origin origin)
{
    struct cache_entry *e = NULL;
    for (size_t i = 0; i < store->n_entries && !e; i++)
        if (streq(store->entries[i].path, path))
            e = &store->entries[i];
    if (!e) {
        store->entries =
            xreallocarray(store->entries, store->n_entries + 1, sizeof(*store->entries));
        e = &store->entries[store->n_entries++];
        *e = (struct cache_entry){.path = xstrdup(path), .origin = origin};
    }
    if (e->checked)
        return e;
    e->checked = dir_watched(store, path);
    /* The files are read as the session's owner: only a changed or unwatched file costs the
     * identity switch, not every lookup. */
    int became = store_as_owner(store);
    if (became < 0) {
        report(store, "%s: cannot read the policy as its owner: %s", path, strerror(-became));
        file_unref(e->file);
        e->file = NULL;
        return e;
    }
    read_entry_locked(store, e, path, origin);
    store_as_host(became);
    return e;
}

size_t store_abstraction_names(struct store *store, char ***ret)
{
    char **v = NULL;
    size_t n = 0;
    for (unsigned d = 0; d < 2; d++) {
        DIR *dir = opendir(store->abs_dirs[d]);
        for (struct dirent *de; dir && (de = readdir(dir));) {
            if (!pol_include_name_valid(de->d_name))
                continue;
            bool known = false;
            for (size_t i = 0; i < n && !known; i++)
                known = streq(v[i], de->d_name);
            if (known)
                continue;
            v = xreallocarray(v, n + 1, sizeof(*v));
            v[n++] = xstrdup(de->d_name);
        }
        if (dir)
            closedir(dir);
    }
    /* Sorted, so that learning picks among equals the same way every run. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *ret = v;
    return n;
}

int store_get_abstraction(struct store *store, const char *name, struct store_policy *ret)
{
    *ret = (struct store_policy){0};
    if (!pol_include_name_valid(name))
        return -EINVAL;
    pthread_mutex_lock(&store->lock);
    refresh_locked(store);
    struct frag_entry *e = NULL;
    for (size_t i = 0; i < store->n_fragments && !e; i++)
        if (streq(store->fragments[i].name, name))
            e = &store->fragments[i];
    if (!e) {
        store->fragments =
            xreallocarray(store->fragments, store->n_fragments + 1, sizeof(*store->fragments));
        e = &store->fragments[store->n_fragments++];
        *e = (struct frag_entry){.name = xstrdup(name)};
    }
    if (!e->checked) {
        e->checked = true;
        if (!e->file || !fragments_unchanged(store, e->file)) {
            _cleanup_free_ char *text = NULL, *path = NULL;
            size_t len = 0;
            struct stat st;
            int r = read_fragment(store->abs_dirs, name, &text, &len, &path, &st);
            struct store_file *f =
                r == 0 ? parse_locked(store, path, name, text, len, &st, false) : NULL;
            if (f) {
                /* The abstraction itself is checked like the ones it includes. */
                f->frags = xreallocarray(f->frags, f->n_frags + 1, sizeof(*f->frags));
                f->frags[f->n_frags++] = (struct frag_stamp){xstrdup(name), xstrdup(path), st};
            }
            file_unref(e->file);
            e->file = f;
        }
    }
    int r = -ENOENT;
    if (e->file) {
        __atomic_add_fetch(&e->file->refs, 1, __ATOMIC_RELAXED);
        *ret = (struct store_policy){&e->file->parsed->policies[0], e->file->path,
                                     STORE_ORIGIN_GLOBAL, e->file};
        r = 0;
    }
    pthread_mutex_unlock(&store->lock);
    return r;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The policy for BINARY in a loaded file: its exact path, or with WILDCARD a "*\/name". */
static const struct policy *policy_in(struct store_file *f, const char *binary, bool wildcard)
{
    for (size_t i = 0; f && i < f->parsed->n_policies; i++) {
        const char *p = f->parsed->policies[i].path;
        if (!wildcard ? streq(p, binary)
                      : (p[0] == '*' && p[1] == '/' && streq(p + 2, base_name(binary))))
            return &f->parsed->policies[i];
    }
    return NULL;
}

static int find_locked(struct store *store, const char *binary, struct store_policy *ret,
                       char **ret_first_candidate)
{
    *ret = (struct store_policy){0};
    refresh_locked(store);
    for (int wildcard = 0; wildcard <= 1; wildcard++)
        for (size_t i = 0; i < store->n_files; i++) {
            struct cache_entry *e = load_locked(store, store->files[i], STORE_ORIGIN_FILE);
            const struct policy *p = policy_in(e->file, binary, wildcard);
            if (p) {
                *ret = (struct store_policy){p, e->file->path, STORE_ORIGIN_FILE, e->file};
                return 0;
            }
        }
    _cleanup_free_ char *name = NULL;
    int r = store_file_name(binary, &name);
    if (r < 0)
        return r;
    const struct {
        const char *dir;
        enum store_origin origin;
    } dirs[] = {{store->user_dir, STORE_ORIGIN_USER}, {store->global_dir, STORE_ORIGIN_GLOBAL}};
    for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (!dirs[i].dir)
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", dirs[i].dir, name);
        if (ret_first_candidate && !*ret_first_candidate)
            *ret_first_candidate = xstrdup(path);
        struct cache_entry *e = load_locked(store, path, dirs[i].origin);
        const struct policy *p = policy_in(e->file, binary, false);
        if (p) {
            *ret = (struct store_policy){p, e->file->path, dirs[i].origin, e->file};
            return 0;
        }
    }
    return -ENOENT;
}

void store_report_missing(struct store *store, const char *binary)
{
    pthread_mutex_lock(&store->lock);
    bool seen = store->n_missing >= MAX_MISSING_REPORTED;
    for (size_t i = 0; i < store->n_missing && !seen; i++)
        seen = streq(store->missing[i], binary);
    if (seen) {
        pthread_mutex_unlock(&store->lock);
        return;
    }
    store->missing = xreallocarray(store->missing, store->n_missing + 1, sizeof(char *));
    store->missing[store->n_missing++] = xstrdup(binary);
    struct buf places = {0};
    for (size_t i = 0; i < store->n_files; i++)
        buf_printf(&places, "%s%s", places.len ? ", " : "", store->files[i]);
    _cleanup_free_ char *name = NULL;
    if (store_file_name(binary, &name) == 0) {
        const char *dirs[] = {store->user_dir, store->global_dir};
        for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++)
            if (dirs[i])
                buf_printf(&places, "%s%s/%s", places.len ? ", " : "", dirs[i], name);
    }
    pthread_mutex_unlock(&store->lock);
    _cleanup_free_ char *quoted = pol_quote(binary);
    report(store, "no policy for %s (looked in %s)", quoted, places.len ? places.data : "nothing");
    buf_free(&places);
}

int store_get(struct store *store, const char *binary, struct store_policy *ret)
{
    pthread_mutex_lock(&store->lock);
    int r = find_locked(store, binary, ret, NULL);
    if (r == 0)
        __atomic_add_fetch(&ret->file->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&store->lock);
    return r;
}

void store_policy_release(struct store_policy *p)
{
    file_unref(p->file);
    *p = (struct store_policy){0};
}

int store_locate(struct store *store, const char *binary, char **ret_path,
                 enum store_origin *ret_origin)
{
    struct store_policy p;
    char *first = NULL;
    pthread_mutex_lock(&store->lock);
    int r = find_locked(store, binary, &p, &first);
    if (r == 0) {
        *ret_path = xstrdup(p.path);
        *ret_origin = p.origin;
        free(first);
    } else {
        *ret_path = first;
        *ret_origin = STORE_ORIGIN_USER;
    }
    pthread_mutex_unlock(&store->lock);
    return r;
}
