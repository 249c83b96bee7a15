/* generalise.h: how learning writes a path that differs from run to run for the same object, the
 * way a careful person would: the learning user's home as $HOME and the working directory as
 * $CWD, the caller's own /proc entries as $PID and $TID, temporary names (mktemp's tmp.XXXXXXXXXX,
 * mkstemp's XXXXXX, gcc's ccXXXXXX.s) with one '?' per random character, pids and timestamps in
 * names as [0-9]*, and a versioned shared library as the pattern its next upgrade still matches
 * (libz.so.1.2.13 as libz.so.1*). Pure: what a run has seen comes in through the callbacks. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "policy.h"

struct gen_context {
    const char *home; /* $HOME, NULL when unknown */
    const char *cwd;  /* $CWD, NULL when unknown */
    /* The program whose policy it is (a script): its own path is kept as it is, since a
     * script reads itself wherever it runs from. NULL when unknown. */
    const char *program;
    pid_t pid, tid; /* $PID and $TID, 0 when unknown */
    time_t now;     /* a timestamp in a name is one near this */
    /* Only what differs for the very same object (an anonymous object's number, a pid under
     * /proc, a terminal's number): the exact rule of a prompt's answer. */
    bool same_object_only;
    /* Whether this run made PATH with a name of its own choosing (an O_CREAT|O_EXCL open or a
     * mkdir by mkstemp and its kin); may be NULL. */
    bool (*created)(void *userdata, const char *path);
    /* Whether PID is a process or thread this run has seen; may be NULL. */
    bool (*pid_seen)(void *userdata, long pid);
    void *userdata;
};

/* PATH (a translated filename: absolute, or "pipe:[…]" and its kin) as a rule compares it.
 * *ret is the text to compare (caller frees); *ret_pattern says whether it is a pattern (compare
 * with "match"; every literal character is then escaped) or a literal, perhaps with variables
 * (compare with "eq"). */
void gen_path(const struct gen_context *ctx, const char *path, char **ret, bool *ret_pattern);

/* Whether REQ makes a file or directory with a name the program chose itself, as mkstemp(3),
 * mkdtemp(3) and their kin in glibc and Python do: an open with O_CREAT|O_EXCL and mode 0600, or
 * a mkdir with mode 0700. */
bool gen_is_exclusive_creation(const struct pol_request *req);
