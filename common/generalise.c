/* generalise.c: learned paths as patterns that the next run's values still match. A path is cut
 * into components; each may be replaced whole (a pid under /proc) or in parts (the random
 * characters of a temporary name, the digits of a timestamp, a library's minor version). The
 * tables below say what is recognised; nothing is guessed outside them. */
#include "generalise.h"

#include <stdio.h>

#include "util.h"

/* Directories whose contents are other programs' and the system's: a working directory there
 * says nothing about the files a program works on, so paths below it keep their names. */
static const char *const system_dirs[] = {
    "/usr",  "/etc", "/bin",  "/sbin", "/lib", "/lib32",   "/lib64",     "/libx32",
    "/boot", "/dev", "/proc", "/sys",  "/run", "/var/lib", "/var/cache", "/opt",
};

/* Where temporary files live: a random-looking name there is taken for a temporary one even
 * when the run did not create it (another program of the tree may have). */
static const char *const temp_dirs[] = {"/tmp", "/var/tmp", "/dev/shm"};

/* Objects without a path, whose number differs per run. */
static const char *const anonymous[] = {"pipe:", "socket:", "anon_inode:"};

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Temporary names: a literal prefix, then RANDOM characters from CHARSET, then (if SUFFIX) an
 * extension or two. The first row that fits wins. With an empty prefix, the random part must
 * follow a non-alphanumeric or one of temp_prefixes[] ("sedXXXXXX"), or (BARE) start the name,
 * unless the run created the name itself: then its rightmost six characters are taken. */
static const struct temp_template {
    const char *prefix;
    unsigned random;
    const char *charset;
    bool suffix;
    bool bare; /* the random characters may start the name */
} temp_templates[] = {
    {"tmp.", 10, ALNUM, false, false}, /* mktemp(1) without a template */
    {"", 8, "abcdefghijklmnopqrstuvwxyz0123456789_", true, false}, /* Python: tmpXXXXXXXX */
    {"", 6, ALNUM, true, true}, /* mkstemp(3), mkstemps(3), mkdtemp(3): sedXXXXXX, ccXXXXXX.s */
};

/* Programs' prefixes that run into the random characters of their temporary names. */
static const char *const temp_prefixes[] = {"cc", "sed", "sort", "tmp", "gz"};

/* Numbered directories: a component of digits right below PARENT becomes $PID or $TID when it
 * is the caller's, else [0-9]*. PARENT "/proc/N/task" is written "/proc/#/task". */
static const struct numbered {
    const char *parent;
    bool pid, tid; /* whether the caller's pid (tid) is recognised there */
} numbered_dirs[] = {
    {"/proc", true, true},
    {"/proc/#/task", false, true},
    {"/dev/pts", false, false},
};

struct seg {
    char *text;
    bool pattern; /* glob syntax, as opposed to a literal (possibly a variable) */
};

struct segs {
    struct seg *v;
    size_t n;
    bool any_pattern;
};

static void add_seg(struct segs *s, const char *text, size_t n, bool pattern)
{
    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    s->v[s->n++] = (struct seg){xstrndup(text, n), pattern};
    s->any_pattern |= pattern;
}

/* One replacement inside a component: bytes [start, end) become TEXT. */
struct repl {
    size_t start, end;
    char text[40];
    bool pattern;
};

struct repls {
    struct repl v[16];
    size_t n;
};

/* Adds [START, END) -> TEXT unless it overlaps one already there (those come first). */
static void add_repl(struct repls *r, size_t start, size_t end, const char *text, bool pattern)
{
    if (r->n == ARRAY_SIZE(r->v) || start >= end)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (start < r->v[i].end && r->v[i].start < end)
            return;
    struct repl *x = &r->v[r->n++];
    *x = (struct repl){.start = start, .end = end, .pattern = pattern};
    snprintf(x->text, sizeof(x->text), "%s", text);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether the N bytes at PATH are DIR or lie below it. */
static bool under(const char *path, size_t n, const char *dir)
{
    size_t d = strlen(dir);
    return n >= d && memcmp(path, dir, d) == 0 && (n == d || path[d] == '/');
}

static bool under_any(const char *path, size_t n, const char *const *dirs, size_t n_dirs)
{
    for (size_t i = 0; i < n_dirs; i++)
        if (under(path, n, dirs[i]))
            return true;
    return false;
}

/* The length of the prefix of PATH that $HOME or $CWD stands for (the longer one; $HOME on a
 * tie), and which; 0 when neither applies. */
static size_t prefix_var(const struct gen_context *ctx, const char *path, const char **ret_var)
{
    size_t n = strlen(path), best = 0;
    *ret_var = NULL;
    const char *home = ctx->home, *cwd = ctx->cwd;
    if (home && home[0] == '/' && home[1] && under(path, n, home)) {
        best = strlen(home);
        *ret_var = "$HOME";
    }
    if (cwd && cwd[0] == '/' && cwd[1] &&
        !under_any(cwd, strlen(cwd), system_dirs, ARRAY_SIZE(system_dirs)) && under(path, n, cwd) &&
        strlen(cwd) > best) {
        best = strlen(cwd);
        *ret_var = "$CWD";
    }
    return best;
}

static bool parse_number(const char *s, size_t n, long *ret)
{
    if (n == 0 || n > 18)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

/* PARENT (N bytes) in the form numbered_dirs[] names it: digit components become '#'. */
static void parent_form(const char *parent, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < out_size;) {
        out[o++] = parent[i++]; /* the '/' */
        size_t l = strcspn(parent + i, "/");
        if (l > n - i)
            l = n - i;
        long v;
        if (l && parse_number(parent + i, l, &v))
            out[o++] = '#';
        else
            for (size_t k = 0; k < l && o + 1 < out_size; k++)
                out[o++] = parent[i + k];
        i += l;
    }
    out[o] = '\0';
}

/* A whole component of digits in a numbered directory: its replacement, or NULL. */
static const char *numbered_component(const struct gen_context *ctx, const char *parent,
                                      size_t parent_len, const char *comp, size_t len)
{
    long v;
    if (!parse_number(comp, len, &v))
        return NULL;
    char form[64];
    if (parent_len >= sizeof(form))
        return NULL;
    parent_form(parent, parent_len, form, sizeof(form));
    for (size_t i = 0; i < ARRAY_SIZE(numbered_dirs); i++) {
        if (!streq(form, numbered_dirs[i].parent))
            continue;
        if (numbered_dirs[i].pid && ctx->pid > 0 && v == ctx->pid)
            return "$PID";
        if (numbered_dirs[i].tid && ctx->tid > 0 && v == ctx->tid)
            return "$TID";
        return "[0-9]*";
    }
    return NULL;
}

static bool all_in(const char *s, size_t n, const char *charset)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(charset, s[i]))
            return false;
    return true;
}

/* Whether S (N bytes) mixes at least two of upper case, lower case and digits: what a random
 * string of mkstemp's alphabet does but for one time in a hundred, and a word rarely does. */
static bool looks_random(const char *s, size_t n)
{
    bool upper = false, lower = false, digit = false;
    for (size_t i = 0; i < n; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'Z';
        lower |= s[i] >= 'a' && s[i] <= 'z';
        digit |= is_digit(s[i]);
    }
    return upper + lower + digit >= 2;
}

/* Whether the N bytes at S are empty or one or two extensions (".s", ".cdtor.c"). */
static bool is_suffix(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (n > 24)
        return false;
    unsigned dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (++dots > 2 || i + 1 == n || s[i + 1] == '.')
                return false;
        } else if (!isalnum_ascii(s[i]) && s[i] != '_') {
            return false;
        }
    }
    return s[0] == '.';
}

/* Whether the random characters at START of COMP are where a template puts them: at its start,
 * after a non-alphanumeric, or after a known program prefix. */
static bool clean_start(const char *comp, size_t start, bool bare)
{
    if (start == 0)
        return bare;
    if (!isalnum_ascii(comp[start - 1]))
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(temp_prefixes); i++)
        if (strlen(temp_prefixes[i]) == start && memcmp(comp, temp_prefixes[i], start) == 0)
            return true;
    return false;
}

/* The random characters of a temporary name COMP (LEN bytes), if it is one. CHOSEN: the run made
 * it with a name it chose; else only a random-looking name in a temporary directory counts. */
static bool temp_random(const char *comp, size_t len, bool chosen, size_t *ret_start, size_t *ret_n)
{
    /* First where a template would put them; for a name the run chose, then anywhere, the
     * mkstemp row (the last) first. */
    for (int pass = 0; pass < (chosen ? 2 : 1); pass++)
        for (size_t k = 0; k < ARRAY_SIZE(temp_templates); k++) {
            size_t t = pass == 0 ? k : ARRAY_SIZE(temp_templates) - 1 - k;
            const struct temp_template *tt = &temp_templates[t];
            size_t plen = strlen(tt->prefix);
            if (len < plen + tt->random || memcmp(comp, tt->prefix, plen) != 0)
                continue;
            /* Where the random characters end: before the suffix, tried from the right. */
            for (size_t end = len; end >= plen + tt->random; end--) {
                if (end < len && comp[end] != '.')
                    continue;
                if (!(tt->suffix ? is_suffix(comp + end, len - end) : end == len))
                    continue;
                size_t start = end - tt->random;
                if (tt->prefix[0] ? start != plen
                                  : pass == 0 && !clean_start(comp, start, tt->bare))
                    continue;
                if (!all_in(comp + start, tt->random, tt->charset))
                    continue;
                if (!chosen && !looks_random(comp + start, tt->random))
                    continue;
                *ret_start = start;
                *ret_n = tt->random;
                return true;
            }
        }
    return false;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

#define NEAR_DAYS 2 /* a timestamp in a name is taken for today's within this many days */

static bool near_date(const struct gen_context *ctx, const char *s, unsigned ylen, unsigned mpos,
                      unsigned dpos)
{
    long y, m, d;
    if (!parse_number(s, ylen, &y) || !parse_number(s + mpos, 2, &m) ||
        !parse_number(s + dpos, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    long days = days_from_civil(y, m, d), today = (long)(ctx->now / 86400);
    return days >= today - NEAR_DAYS && days <= today + NEAR_DAYS;
}

static bool valid_time(const char *s, size_t n)
{
    long h, m, sec = 0;
    if ((n != 4 && n != 6) || !parse_number(s, 2, &h) || !parse_number(s + 2, 2, &m) ||
        (n == 6 && !parse_number(s + 4, 2, &sec)))
        return false;
    return h < 24 && m < 60 && sec < 61;
}

struct run {
    size_t start, len;
    bool word; /* bounded by non-alphanumerics (or the ends), not part of a word like "x86" */
};

/* The runs of digits in COMP. */
static size_t digit_runs(const char *comp, size_t len, struct run *runs, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < max;) {
        if (!is_digit(comp[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && is_digit(comp[j]))
            j++;
        bool word =
            (i == 0 || !isalnum_ascii(comp[i - 1])) && (j == len || !isalnum_ascii(comp[j]));
        runs[n++] = (struct run){i, j - i, word};
        i = j;
    }
    return n;
}

/* Whether runs A and B are separated by exactly one byte out of SEPS. */
static bool adjacent(const char *comp, const struct run *a, const struct run *b, const char *seps)
{
    return b->start == a->start + a->len + 1 && strchr(seps, comp[b->start - 1]);
}

/* The digit runs of COMP that make a timestamp near ctx->now, and its pids, as [0-9]*. */
static void numbers(const struct gen_context *ctx, const char *comp, size_t len, struct repls *r)
{
    struct run runs[16];
    size_t n = digit_runs(comp, len, runs, ARRAY_SIZE(runs));
    bool mark[16] = {0};
    for (size_t i = 0; i < n; i++) {
        const char *s = comp + runs[i].start;
        size_t l = runs[i].len;
        long v;
        if (!runs[i].word && runs[i].start > 0 && isalnum_ascii(comp[runs[i].start - 1])) {
            /* part of a word ("x86", "v2024"): neither a timestamp nor a pid */
        } else if ((l == 8 || l == 12 || l == 14) && near_date(ctx, s, 4, 4, 6) &&
                   (l == 8 || valid_time(s + 8, l - 8))) {
            /* 20240501, 202405011230, 20240501123000; a time may follow: 20240501-1230 */
            mark[i] = true;
            if (l == 8 && i + 1 < n && adjacent(comp, &runs[i], &runs[i + 1], "T_-.") &&
                valid_time(comp + runs[i + 1].start, runs[i + 1].len))
                mark[++i] = true;
        } else if (l == 4 && i + 2 < n && runs[i + 1].len == 2 && runs[i + 2].len == 2 &&
                   adjacent(comp, &runs[i], &runs[i + 1], "-_.") &&
                   adjacent(comp, &runs[i + 1], &runs[i + 2], "-_.") &&
                   near_date(ctx, s, 4, (unsigned)(runs[i + 1].start - runs[i].start),
                             (unsigned)(runs[i + 2].start - runs[i].start))) {
            /* 2024-05-01, perhaps with a time: 2024-05-01T12:30:00, 2024-05-01_12-30 */
            mark[i] = mark[i + 1] = mark[i + 2] = true;
            i += 2;
            for (int k = 0; k < 3 && i + 1 < n && runs[i + 1].len == 2 &&
                            adjacent(comp, &runs[i], &runs[i + 1], k == 0 ? "T_- " : ":-.");
                 k++)
                mark[++i] = true;
        } else if ((l == 10 || l == 13) && runs[i].word && parse_number(s, l, &v)) {
            /* seconds (or milliseconds) since the epoch */
            long secs = l == 13 ? v / 1000 : v;
            long diff = secs - (long)ctx->now;
            mark[i] = diff > -NEAR_DAYS * 86400L && diff < NEAR_DAYS * 86400L;
        }
        if (!mark[i] && runs[i].word && l >= 3 && parse_number(s, l, &v) &&
            ((ctx->pid > 0 && v == ctx->pid) || (ctx->tid > 0 && v == ctx->tid) ||
             (ctx->pid_seen && ctx->pid_seen(ctx->userdata, v))))
            mark[i] = true; /* a pid in a name: foo.$$ */
    }
    for (size_t i = 0; i < n; i++)
        if (mark[i])
            add_repl(r, runs[i].start, runs[i].start + runs[i].len, "[0-9]*", true);
}

/* libz.so.1.2.13 -> libz.so.1*: the soname's major version stays, the rest changes on upgrade. */
static void library_version(const char *comp, size_t len, struct repls *r)
{
    const char *so = NULL;
    for (const char *p = comp; p + 4 <= comp + len; p++)
        if (memcmp(p, ".so.", 4) == 0)
            so = p;
    if (!so)
        return;
    size_t i = (size_t)(so + 4 - comp), major = i;
    while (major < len && is_digit(comp[major]))
        major++;
    if (major == i || major == len || comp[major] != '.')
        return;
    for (size_t k = major; k < len; k++)
        if (!is_digit(comp[k]) && comp[k] != '.')
            return;
    add_repl(r, major, len, "*", true);
}

/* Appends the component COMP (LEN bytes) of PATH, generalised, to OUT. */
static void component_into(const struct gen_context *ctx, const char *path, const char *comp,
                           size_t len, struct segs *out)
{
    size_t parent_len = (size_t)(comp - path) - 1;
    const char *whole = numbered_component(ctx, path, parent_len, comp, len);
    if (whole) {
        add_seg(out, whole, strlen(whole), whole[0] != '$');
        return;
    }
    if (ctx->same_object_only) {
        add_seg(out, comp, len, false);
        return;
    }
    struct repls r = {0};
    size_t upto = (size_t)(comp - path) + len;
    _cleanup_free_ char *so_far = xstrndup(path, upto);
    bool chosen = ctx->created && ctx->created(ctx->userdata, so_far);
    size_t start, n;
    if ((chosen || under_any(path, parent_len, temp_dirs, ARRAY_SIZE(temp_dirs))) &&
        temp_random(comp, len, chosen, &start, &n)) {
        char qs[sizeof(r.v[0].text)];
        memset(qs, '?', n);
        qs[n] = '\0';
        add_repl(&r, start, start + n, qs, true);
    }
    numbers(ctx, comp, len, &r);
    library_version(comp, len, &r);
    /* In order of position. */
    for (size_t i = 1; i < r.n; i++)
        for (size_t j = i; j > 0 && r.v[j - 1].start > r.v[j].start; j--) {
            struct repl t = r.v[j];
            r.v[j] = r.v[j - 1];
            r.v[j - 1] = t;
        }
    size_t at = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (r.v[i].start > at)
            add_seg(out, comp + at, r.v[i].start - at, false);
        add_seg(out, r.v[i].text, strlen(r.v[i].text), r.v[i].pattern);
        at = r.v[i].end;
    }
    if (at < len)
        add_seg(out, comp + at, len - at, false);
}

void gen_path(const struct gen_context *ctx, const char *path, char **ret, bool *ret_pattern)
{
    for (size_t i = 0; i < ARRAY_SIZE(anonymous); i++)
        if (strncmp(path, anonymous[i], strlen(anonymous[i])) == 0) {
            *ret = xasprintf("%s*", anonymous[i]);
            *ret_pattern = true;
            return;
        }
    if (path[0] != '/' || (ctx->program && streq(path, ctx->program))) {
        *ret = xstrdup(path);
        *ret_pattern = false;
        return;
    }
    struct segs s = {0};
    const char *var = NULL;
    size_t skip = ctx->same_object_only ? 0 : prefix_var(ctx, path, &var);
    if (var)
        add_seg(&s, var, strlen(var), false);
    for (const char *p = path + skip; *p;) {
        add_seg(&s, "/", 1, false);
        const char *comp = ++p;
        size_t len = strcspn(comp, "/");
        if (len)
            component_into(ctx, path, comp, len, &s);
        p = comp + len;
    }
    struct buf b = {0};
    buf_append(&b, "", 0);
    if (s.n == 0)
        buf_puts(&b, "/");
    for (size_t i = 0; i < s.n; i++) {
        for (const char *c = s.v[i].text; *c; c++) {
            if (s.any_pattern && !s.v[i].pattern && strchr("*?[]\\", *c))
                buf_putc(&b, '\\');
            buf_putc(&b, *c);
        }
        free(s.v[i].text);
    }
    free(s.v);
    *ret = buf_steal(&b);
    *ret_pattern = s.any_pattern;
}

static const char *arg_value(const struct pol_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_args; i++)
        if (streq(req->args[i].name, name))
            return req->args[i].value;
    return NULL;
}

/* Whether the "|"-separated FLAGS hold FLAG. */
static bool has_flag(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = flags; p && *p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
        if (strncmp(p, flag, n) == 0 && (p[n] == '|' || p[n] == '\0'))
            return true;
    return false;
}

bool gen_is_exclusive_creation(const struct pol_request *req)
{
    const char *name = sys_name(req->nr);
    const char *mode = arg_value(req, "mode");
    const char *oflags = arg_value(req, "oflags");
    if (!name || !mode)
        return false;
    if (streq(name, "mkdir") || streq(name, "mkdirat"))
        return streq(mode, "0700");
    return oflags && has_flag(oflags, "O_CREAT") && has_flag(oflags, "O_EXCL") &&
           streq(mode, "0600");
}
