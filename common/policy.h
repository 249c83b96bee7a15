/* policy.h: the policy language: the parsed form, the parser with file:line:column
 * diagnostics, the canonical printer, evaluation of a request, and lint warnings. */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "syscalls.h"

enum pol_op {
    POL_OP_EQ,
    POL_OP_NEQ,
    POL_OP_MATCH,
    POL_OP_SUB,
    POL_OP_NSUB,
    POL_OP_INPATH,
    POL_OP_RE,
    POL_OP_MAX,
};

enum pol_expr_type {
    POL_EXPR_TRUE,
    POL_EXPR_CMP,
    POL_EXPR_NOT,
    POL_EXPR_AND,
    POL_EXPR_OR,
};

struct pol_expr {
    enum pol_expr_type type;
    struct pol_expr *left, *right; /* NOT uses left */
    /* POL_EXPR_CMP: */
    char *arg;        /* argument name: "filename" */
    unsigned ordinal; /* ARG[n]: the n-th argument of that name, 0 when not written */
    bool has_ordinal; /* written with [n] */
    char *written;    /* "ARG[n]" as written when OpenBSD's name or numbering differs from arg's
                       * ("string" for linkname), else NULL; the printer keeps it */
    enum pol_op op;
    char *value;   /* the string, escapes resolved */
    bool has_vars; /* value names a variable: $HOME, $USER, $CWD, $PID, $TID */
    regex_t *re;   /* POL_OP_RE without variables: compiled once at parse time */
};

enum pol_action {
    POL_PERMIT,
    POL_DENY,
    POL_ASK,
    POL_ACTION_MAX,
};

enum pol_pred_subject {
    POL_PRED_NONE,
    POL_PRED_USER,
    POL_PRED_GROUP,
};

enum pol_pred_op {
    POL_PRED_EQ,
    POL_PRED_NE,
    POL_PRED_LT,
    POL_PRED_GT,
};

struct pol_predicate {
    enum pol_pred_subject subject;
    enum pol_pred_op op;
    char *value; /* a name or a number */
};

struct pol_rule {
    char *name; /* the call or alias after "native-", as written */
    /* The native calls the rule is about: the call NAME, or those that OpenBSD's NAME maps to
     * (compat says which row); none for an alias or a name without a call here. */
    int calls[SYS_COMPAT_MAX_CALLS];
    unsigned n_calls;
    const struct sys_compat *compat;
    enum sys_alias alias;  /* SYS_ALIAS_NONE unless name is an alias */
    struct pol_expr *expr; /* NULL for an unconditional rule */
    enum pol_action action;
    int err; /* errno for deny (and for a denied ask); 0: not written (EPERM) */
    bool log;
    char *as_user, *as_group; /* privilege elevation, NULL when not written */
    struct pol_predicate pred;
    unsigned line; /* where the rule was read, 0 when built in memory; for a rule an include
                    * brought in, the line of that include in the policy's file */
    /* An `include "NAME"` line is a rule that names no call (nr -1) and never matches itself;
     * pol_expand_includes puts the fragment's rules right after it. */
    char *include;        /* the abstraction an include line names, NULL for other rules */
    char *origin;         /* for a rule an include brought in: the abstraction it is from */
    unsigned origin_line; /* and its line there */
    unsigned col;         /* the column the rule starts at (1-based), 0 when built in memory */
};

/* An index over a policy's rules so that thousands of learned exact rules cost about what twenty
 * do: rules of the form `filename eq "literal"` are found by a hash of the literal, the others are
 * walked in order, and first-match order is kept between the two. */
struct pol_index {
    struct pol_index_slot {
        uint32_t hash;
        uint32_t rule_plus_one; /* 0: empty */
    } * slots;
    size_t mask;      /* slots - 1, a power of two minus one */
    uint32_t *others; /* the rules that are not indexed, in file order */
    size_t n_others;
    size_t first_exact; /* the first indexed rule, SIZE_MAX if none */
};

struct policy {
    char *path;      /* "Policy: PATH": absolute, or "*\/name" in -f files */
    char *emulation; /* as written: native or linux64 */
    struct pol_rule *rules;
    size_t n_rules;
    bool uses_cwd; /* some rule compares with $CWD (the supervisor then reads it) */
    struct pol_index index;
    unsigned line;     /* the header's line */
    unsigned end_line; /* the last line that belongs to this policy's header or rules */
};

struct pol_file {
    struct policy *policies;
    size_t n_policies;
};

enum pol_severity {
    POL_ERROR,
    POL_WARNING,
    POL_NOTE, /* what the parser made of a name (an OpenBSD call's Linux counterparts) */
};

struct pol_diag {
    enum pol_severity severity;
    unsigned line, col;
    char *msg;
};

struct pol_diags {
    struct pol_diag *v;
    size_t n, n_errors, n_notes;
};

/* Parses TEXT (LEN bytes, may hold NULs, which are errors). Always sets *ret to what could be
 * read; a line with an error is left out and reported. Returns 0, or -EINVAL when any error was
 * reported. DIAGS may be NULL. */
int pol_parse(const char *text, size_t len, struct pol_file **ret, struct pol_diags *diags);
void pol_file_free(struct pol_file *file);

/* Abstractions: `include "NAME"` in a policy pulls in the rules of a shared fragment, in place.
 * A fragment is rule and include lines without a `Policy:` header; it may include others, up to
 * POL_MAX_INCLUDE_DEPTH deep, never itself (directly or not). */
#define POL_MAX_INCLUDE_DEPTH 8
/* Whether NAME may name an abstraction: ASCII letters, digits, '-' and '_', starting with a
 * letter or digit, at most 64 bytes. It never names a path, nor an editor's or dpkg's leftover
 * ("base~", "base.dpkg-old") beside the real file. */
bool pol_include_name_valid(const char *name);
/* Parses the fragment called NAME: like pol_parse, into a file with one policy whose path is
 * NAME; a `Policy:` line is an error. */
int pol_parse_fragment(const char *name, const char *text, size_t len, struct pol_file **ret,
                       struct pol_diags *diags);
/* Finds abstraction NAME for pol_expand_includes: its text (*ret_text, LEN bytes) and where it
 * was found (*ret_path), both freed by the caller; -ENOENT when there is none, and then
 * *ret_error (may stay NULL) says where it looked. */
typedef int (*pol_fragment_fn)(void *userdata, const char *name, char **ret_text, size_t *ret_len,
                               char **ret_path, char **ret_error);
/* Puts right after each include line of FILE the rules of its abstraction (with theirs, in
 * place), each marked with its origin; evaluation, the index and the kernel filter then see one
 * flat list in file order. An include that cannot be expanded (unknown name, cycle, too deep, a
 * fragment with errors) is reported in DIAGS at its line and column, and brings no rule.
 * Returns 0, or -EINVAL when any error was reported. Idempotent. */
int pol_expand_includes(struct pol_file *file, pol_fragment_fn fn, void *userdata,
                        struct pol_diags *diags);
/* Whether any policy of FILE has an include line. */
bool pol_file_has_includes(const struct pol_file *file);

/* Parses one rule line ("native-NAME: EXPR then ACTION…"), as typed at a prompt or suggested.
 * On error returns -EINVAL and sets *ret_error to "column N: message" (caller frees). */
int pol_parse_rule(const char *line, struct pol_rule **ret, char **ret_error);
void pol_rule_free(struct pol_rule *rule);
/* Frees what RULE holds and zeroes it; RULE itself is the caller's. */
void pol_rule_clear(struct pol_rule *rule);

void pol_diags_add(struct pol_diags *d, enum pol_severity sev, unsigned line, unsigned col,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pol_diags_clear(struct pol_diags *d);
/* Orders by line and column, keeping the order of equal positions. */
void pol_diags_sort(struct pol_diags *d);
/* "FILE:LINE:COL: error: message\n" (or warning, note) for each, in order. */
char *pol_diags_format(const struct pol_diags *d, const char *filename);

/* Canonical text. pol_print(policy) parses back to the same policy. */
char *pol_print(const struct policy *policy);
char *pol_rule_print(const struct pol_rule *rule); /* "native-NAME: …", no tab, no newline */
char *pol_expr_print(const struct pol_expr *expr);
/* STR as a policy string literal, quotes and escapes included. */
char *pol_quote(const char *str);
/* The one-letter escapes of a string ("\n" for a newline…), shared by the printer and the parser;
 * besides them a string has "\xHH". */
struct pol_escape {
    char c;      /* the byte */
    char letter; /* what follows the backslash */
};
extern const struct pol_escape pol_escapes[5];
const char *pol_op_name(enum pol_op op);
const char *pol_action_name(enum pol_action action);

/* One translated argument of a call. */
struct pol_value {
    const char *name;  /* "filename" */
    const char *value; /* translated text: for a path, the resolved path, existing or not */
    bool from_memory;  /* read from the target's memory (a pointer argument) */
    bool missing;      /* a path whose object does not exist (yet) */
};

/* A path whose object does not exist also reads as "<non-existent filename>: /a/b": the form
 * OpenBSD policies compare with. A comparison whose string names this prefix sees that form, and
 * so holds only while the object is missing; every other comparison sees the path itself. A
 * string that starts with "/<non-existent filename>" (OpenBSD's later spelling, as in the ports
 * tree's "/<non-existent filename>: *") sees "/<non-existent filename>: /a/b". */
#define POL_NONEXISTENT "<non-existent filename>"

struct pol_request {
    int nr;               /* the call */
    enum sys_alias alias; /* its alias for these flags, SYS_ALIAS_NONE with -u */
    const struct pol_value *args;
    size_t n_args;
    uid_t uid; /* for ", if user …" */
    gid_t gid;
    const char *user; /* user and group names (NULL when unknown); also $USER */
    const char *group;
    const char *home; /* $HOME */
    const char *cwd;  /* $CWD */
    pid_t pid;        /* $PID: the caller's process (thread group) id, 0 when unknown */
    pid_t tid;        /* $TID: the calling thread's id, 0 when unknown */
};

/* The first rule of POLICY that matches REQ, or NULL when none does. *ret_read_memory (may be
 * NULL) is set when any rule evaluated on the way compared an argument read from memory: the
 * decision then depends on pointer memory. Thread-safe. */
const struct pol_rule *pol_evaluate(const struct policy *policy, const struct pol_request *req,
                                    bool *ret_read_memory);
/* Whether RULE matches REQ (its call, predicate and expression). */
bool pol_rule_matches(const struct pol_rule *rule, const struct pol_request *req,
                      bool *ret_read_memory);
/* Builds (again) the index of POLICY; pol_parse does it for every policy it returns. */
void pol_index_build(struct policy *policy);
void pol_index_free(struct pol_index *index);

/* Whether the N bytes at NAME name a variable ($HOME, $USER, $CWD, $PID, $TID), without the
 * '$'. */
bool pol_var_known(const char *name, size_t n);
/* Whether RULE is about call NR (by name or by an alias that the call may belong to). */
bool pol_rule_names_call(const struct pol_rule *rule, int nr);
/* Whether NR is one of the calls RULE names (aliases aside). */
bool pol_rule_has_call(const struct pol_rule *rule, int nr);

/* Whether comparison E, whose string names no variable, holds for an argument reading VALUE. */
bool pol_cmp_holds(const struct pol_expr *e, const char *value);

/* Warnings that need the whole policy, for `systracectl policy check`: rules that can never match
 * (an earlier rule, perhaps one an include brought in, matches every call they match),
 * duplicates, arguments the call does not have, permits that are unsafe or that bypass path
 * rules, privilege elevation. Rules an include brought in are checked with their abstraction,
 * not here. Appended to DIAGS. */
void pol_lint(const struct pol_file *file, struct pol_diags *diags);
/* Only the rules of POLICY that can never match, with the rule that shadows each: for a launcher
 * to log about the policies it loads. */
void pol_lint_shadowing(const struct policy *policy, struct pol_diags *diags);
/* Whether rule EARLIER decides every call that rule LATER matches (LATER can never count). */
bool pol_rule_shadows(const struct pol_rule *earlier, const struct pol_rule *later);
/* Warnings about where FILE lives: the program of its `Policy:` header resolves to another path
 * (the one the store looks up), or the file's name (PATH's last component) is not the one the
 * store looks that program's policy up by. Files of several policies (-f files) are exempt. */
void pol_lint_file_name(const struct pol_file *file, const char *path, struct pol_diags *diags);
