/* store.h: policy files: naming, lookup (-f files, the user's directory, /etc/systrace), atomic
 * appending, and a cache kept fresh by inotify. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy.h"

/* Whose identity the store's file I/O takes: a root host's for a user's session reads and
 * writes their policy files as them (no symlink or file of theirs makes root act). */
struct store_owner {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t n_groups;
};

struct store_options {
    const struct store_owner *owner; /* NULL: the host's own identity */
    const char *user_dir;            /* -d DIR or ~/.systrace; NULL skips user policies (-U) */
    const char *global_dir;          /* NULL: store_default_global_dir() */
    const char *data_dir;            /* NULL: store_default_data_dir() */
    const char *const *files;        /* -f FILE…, searched first */
    size_t n_files;
};

enum store_origin {
    STORE_ORIGIN_FILE,   /* a -f file */
    STORE_ORIGIN_USER,   /* the user's policy directory */
    STORE_ORIGIN_GLOBAL, /* /etc/systrace */
};
const char *store_origin_name(enum store_origin origin);

/* "/usr/sbin/inetd" -> "usr_sbin_inetd": every character but ASCII letters and digits becomes
 * '_', the leading one dropped. Names longer than NAME_MAX are cut and end in a hash of the path.
 * -EINVAL unless BINARY is absolute. */
int store_file_name(const char *binary, char **ret);

/* $HOME/.systrace (or the passwd entry's home); NULL if neither is known. Caller frees. */
char *store_default_user_dir(void);
/* The system directory: GLOBAL_POLICY_DIR, or $SYSTRACE_GLOBAL_DIR for tests (ignored in a
 * privileged, AT_SECURE process). */
const char *store_default_global_dir(void);
/* Where the shipped abstractions are installed, below "abstractions": DATA_DIR, or
 * $SYSTRACE_DATA_DIR for tests (ignored in a privileged, AT_SECURE process). */
const char *store_default_data_dir(void);
/* Expands the include lines of FILE (pol_expand_includes) with the abstractions found in
 * GLOBAL_DIR/abstractions first, then DATA_DIR/abstractions (NULL: the defaults): a file of the
 * administrator's overrides the shipped one of the same name. For `systracectl policy check`. */
int store_expand_includes(struct pol_file *file, const char *global_dir, const char *data_dir,
                          struct pol_diags *diags);
/* Why a policy file or directory of user OWNER with status ST is not to be trusted (another
 * user owns it; others may write it), or NULL. */
const char *store_untrusted(const struct stat *st, uid_t owner);
/* Creates DIR mode 0700 if it is missing (its parent must exist). */
int store_ensure_dir(const char *dir);

/* Appends the rule lines RULES (each "native-NAME: …") that the policy of BINARY in DIR does not
 * hold yet, creating the file when missing. The file is rewritten atomically (temp file, fsync,
 * rename) under an advisory lock on DIR; every existing byte is kept, new rules go after the
 * policy's last rule. Refuses a symlink or a non-regular file in place of the policy (-ELOOP,
 * -EINVAL), a rule that does not parse or a file that does not (-EINVAL, *ret_error says why).
 * *ret_added (may be NULL) counts the rules written. */
int store_append(const char *dir, const char *binary, const char *const *rules, size_t n,
                 size_t *ret_added, char **ret_error);

struct store;

/* What governs one binary: a snapshot that stays valid until released, whatever the files do. */
struct store_policy {
    const struct policy *policy; /* NULL when no file governs the binary */
    const char *path;            /* the file it came from */
    enum store_origin origin;
    struct store_file *file; /* keeps the above alive */
};

typedef void (*store_report_fn)(void *userdata, const char *message);

int store_new(const struct store_options *opts, struct store **ret);
void store_free(struct store *store);
/* Takes the store's owner's identity on this thread for file I/O outside the store (appending
 * rules): what store_as_host undoes, or -errno (then do no I/O). */
int store_as_owner(const struct store *store);
void store_as_host(int became);
/* Where reload errors go ("FILE:LINE:COL: error: …; keeping the last good version"). */
void store_set_reporter(struct store *store, store_report_fn fn, void *userdata);
/* The policy for BINARY. -ENOENT when no file has one (ret->policy is then NULL). Thread-safe. */
int store_get(struct store *store, const char *binary, struct store_policy *ret);
/* Tells the reporter, once per BINARY, that it has no policy and where one was looked for. */
void store_report_missing(struct store *store, const char *binary);
void store_policy_release(struct store_policy *p);
/* Where the policy of BINARY is or would be looked up first, for `systracectl policy path`:
 * the governing file, or -ENOENT. Caller frees *ret_path. */
int store_locate(struct store *store, const char *binary, char **ret_path,
                 enum store_origin *ret_origin);
/* The user directory, where learned rules are written (NULL with -U). */
const char *store_user_dir(const struct store *store);
/* An fd that becomes readable when a watched policy file changes (poll it), and the call that
 * takes the changes in. store_get also takes them in (one non-blocking read of it), so the very
 * next call sees an edit: a thread taking them in would leave a window after the edit. */
int store_watch_fd(const struct store *store);
void store_refresh(struct store *store);
/* Starts watching DIR (after it was created). */
int store_watch_dir(struct store *store, const char *dir);

/* Abstractions, for learning: the names of every abstraction either directory holds (each once,
 * sorted; caller frees the vector and strings), and one abstraction's rules, expanded, as a
 * policy whose path is its name. Edits are taken in like a policy's. -ENOENT when it does not
 * exist or does not parse (which is reported). */
size_t store_abstraction_names(struct store *store, char ***ret);
int store_get_abstraction(struct store *store, const char *name, struct store_policy *ret);
