/* suggest.h: rules a person may want for a call, from exact to broad: the exact
 * rule with $HOME and $USER substituted, the parent directory, the glob ladder, the extension glob,
 * "true then permit", and deny[enoent] for a path that does not exist. */
#pragma once

#include <stddef.h>

#include "generalise.h"
#include "policy.h"

/* The exact rule for REQ, as a prompt's answer writes it: "native-NAME: filename eq \"/x\" and …
 * then ACTION", or "native-NAME: ACTION" when no argument identifies the call. A value that
 * changes from run to run for the same object is matched by a pattern instead: "pipe:*" for a
 * pipe, "/proc/$PID/status" for the caller's own /proc entries and "/proc/[0-9]*\/status" for
 * another's, "/dev/pts/[0-9]*" for a terminal. RULE_NAME is the call or its alias; ACTION is
 * e.g. "permit" or "deny[eacces]". Caller frees. */
char *suggest_exact(const char *rule_name, const struct pol_request *req, const char *action);

/* The rule learn mode writes for REQ: the exact rule with its paths generalised by GEN (see
 * generalise.h), or for a read or an exec of a path that does not exist, which fails with ENOENT
 * anyway, "native-NAME: filename match \"<non-existent filename>: /\*\" then deny[enoent]": one
 * rule for every miss (the search along $PATH, optional configuration files), which gives the
 * program the answer the kernel would. An exec's program is kept exact (suggest_exact).
 * Caller frees. */
char *suggest_learned(const char *rule_name, const struct pol_request *req,
                      const struct gen_context *gen);

/* Suggested rule lines for REQ with ACTION, best first, each distinct. Returns the count; *ret is
 * freed with suggest_free. */
size_t suggest_rules(const char *rule_name, const struct pol_request *req, const char *action,
                     char ***ret);
void suggest_free(char **rules, size_t n);
