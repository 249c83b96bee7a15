/* util.h: cleanup attributes and small helpers shared by every file of the project. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(cleanup_freep)
#define _cleanup_close_  _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)
#define _printf_(a, b)   __attribute__((format(printf, a, b)))
#define _unused_         __attribute__((unused))
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

#include <stdio.h>
static inline void cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

/* Hands ownership of *pp to the caller and leaves NULL behind, so a cleanup attribute does not
 * free what was returned. */
static inline void *steal_ptr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_ptr(pp))

static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

static inline bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Allocation failure is not a condition this project recovers from. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
/* V (an array of N elements of SIZE bytes, allocated by this function) with room for one more:
 * its capacity doubles at each power of two, so that appending N elements one by one copies
 * O(N) bytes, not O(N^2). */
void *xgrowarray(void *v, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* A growable byte buffer, always NUL-terminated. */
struct buf {
    char *data;
    size_t len, cap;
};
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/* FNV-1a of the string S: the project's one string hash (hash sets, long file names). */
static inline uint32_t hash_string(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Length of the valid UTF-8 sequence at S (at most N bytes): 1 for ASCII, 2 to 4, or 0 when the
 * bytes there are not valid UTF-8 (overlong forms and surrogates included). */
size_t utf8_sequence(const unsigned char *s, size_t n);

/* Reads a whole file (at most max bytes) from an open fd; -errno on failure, -EFBIG if larger. */
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);
/* Reads the regular file PATH whole (at most MAX bytes) and fills *ret_st (may be NULL) with
 * what it was: -ENOENT when missing, -EINVAL when it is not a regular file, -EFBIG if larger. */
struct stat;
int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_len,
                      struct stat *ret_st);
/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t n);

static inline bool isalnum_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
