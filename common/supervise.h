/* supervise.h: the engine (DESIGN.md 3.4): receive -> translate -> decide -> (ask) -> act -> log.
 * A host gives it a listener, a policy store, a log and an asker; it knows nothing of terminals,
 * D-Bus or GTK. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "filter.h"
#include "log.h"
#include "policy.h"
#include "store.h"

enum sup_mode {
    SUP_LEARN,   /* -A: permit and record what is uncovered */
    SUP_ENFORCE, /* -a: deny what is uncovered, with EPERM, and log it */
    SUP_ASK,     /* ask the asker about what is uncovered */
};

enum sup_action {
    SUP_PERMIT,
    SUP_DENY,
    SUP_KILL,   /* kill the process */
    SUP_DETACH, /* stop supervising: permit everything from now on */
};

enum sup_scope {
    SUP_ONCE,    /* this call only */
    SUP_SESSION, /* until the session ends */
    SUP_ALWAYS,  /* written to the policy file at once */
};

struct sup_question {
    uint64_t id;
    pid_t pid;
    uid_t uid;
    const char *user;
    const char *binary;
    const char *syscall;   /* the real call */
    const char *rule_name; /* the name rules use: the alias, or the call */
    const struct pol_request *req;
    const char *policy_path; /* NULL when no file governs the binary yet */
    size_t rule_count;
    char *const *suggestions; /* full rule lines, exact first */
    size_t n_suggestions;
};

struct sup_answer {
    enum sup_action action;
    enum sup_scope scope;
    char *rule; /* for SESSION/ALWAYS: the rule line to add; NULL for the exact rule */
    int err;    /* errno of a denial; 0 for EPERM */
};

/* Asks a person about Q and fills *ret; called from a worker thread, which it may block.
 * STILL_PENDING(q, ctx) tells whether the question is still worth an answer (the process may have
 * died); an asker that waits should look at it now and then. Returns -errno when it cannot ask
 * (the call is then denied once). */
typedef int (*sup_ask_fn)(void *userdata, const struct sup_question *q,
                          bool (*still_pending)(const struct sup_question *q, void *ctx), void *ctx,
                          struct sup_answer *ret);

struct sup_config {
    int listener;
    enum sup_mode mode;
    struct store *store;
    struct log *log;
    bool inherit;  /* -i: every process keeps the first program's policy */
    bool no_alias; /* -u */
    const char *first_binary;
    pid_t launch_pid;               /* the launcher's child: its calls before its exec are ours */
    const struct filter_plan *plan; /* what the kernel decides in this session, or NULL */
    sup_ask_fn ask;                 /* NULL: ask mode denies once and logs */
    void *ask_data;
};

struct sup;

int sup_new(const struct sup_config *cfg, struct sup **ret);
int sup_start(struct sup *sup);
/* Stops the workers and writes what learning has not written yet. */
void sup_stop(struct sup *sup);
void sup_free(struct sup *sup);
/* The policy files learning wrote to, for the launcher's closing message. */
size_t sup_learned_files(struct sup *sup, char ***ret);

/* Whether RULE_LINE parses and matches the call of Q; *ret_error says why not. */
bool sup_rule_fits(const struct sup_question *q, const char *rule_line, char **ret_error);
