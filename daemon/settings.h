/* settings.h: /etc/systrace/systraced.conf, the daemon's settings: "key = value" lines, '#'
 * comments. Every key is in one table (settings.c), which data/systraced.conf documents. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config {
    char *operator_group;            /* may act on every session; NULL: root only */
    unsigned ask_timeout_s;          /* a question's deadline */
    unsigned max_sessions_per_user;  /* handed over at once */
    unsigned max_questions_per_user; /* waiting at once, over all of a user's sessions */
    unsigned max_agents_per_user;    /* registered at once */
    unsigned max_policy_kib;         /* a policy file larger is not loaded */
    unsigned max_learned_rules;      /* per program, in learn mode */
};

/* The defaults, as documented. */
void config_defaults(struct config *c);
/* Reads PATH over C (which holds the defaults or the previous values only if the whole file is
 * good). A missing file leaves the defaults. -EINVAL with *ret_error (caller frees) naming the
 * line for a bad file. */
int config_load(const char *path, struct config *c, char **ret_error);
void config_clear(struct config *c);
