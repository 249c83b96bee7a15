/* suggest.h: rules a person may want for a call, from exact to broad (DESIGN.md 6): the exact
 * rule with $HOME and $USER substituted, the parent directory, the glob ladder, the extension glob,
 * "true then permit", and deny[enoent] for a path that does not exist. */
#pragma once

#include <stddef.h>

#include "policy.h"

/* The exact rule for REQ, as learn mode writes it: "native-NAME: filename eq \"/x\" and … then
 * ACTION", or "native-NAME: ACTION" when no argument identifies the call. A value that changes
 * from run to run for the same object is matched by a pattern instead: "pipe:*" for a pipe,
 * "/proc/[0-9]*\/status" for a pid under /proc, "/dev/pts/[0-9]*" for a terminal. RULE_NAME is the
 * call or its alias; ACTION is e.g. "permit" or "deny[eacces]". Caller frees. */
char *suggest_exact(const char *rule_name, const struct pol_request *req, const char *action);

/* Suggested rule lines for REQ with ACTION, best first, each distinct. Returns the count; *ret is
 * freed with suggest_free. */
size_t suggest_rules(const char *rule_name, const struct pol_request *req, const char *action,
                     char ***ret);
void suggest_free(char **rules, size_t n);
