/* rule-edit.h: the rule a person chose or edited in the question window, checked with the policy
 * parser and given the action of the button pressed. Pure functions, no GTK. */
#pragma once

#include <stdbool.h>

/* Checks TEXT, a rule line ("native-NAME: EXPR then ACTION") or only its condition ("EXPR", or
 * "EXPR then ACTION") for the call RULE_NAME. Returns the rule line, completed, or NULL with
 * *ret_error set to why it cannot be used (both freed with g_free). */
char *rule_edit_check(const char *rule_name, const char *text, char **ret_error);

/* Whether LINE parses as a rule that permits. */
bool rule_edit_permits(const char *line);

/* LINE (a checked rule line) with its action replaced: permit, or deny with ERRNO_NAME (NULL
 * or "eperm": plain deny). Returns NULL if LINE does not parse. Caller frees (g_free). */
char *rule_edit_with_action(const char *line, bool permit, const char *errno_name);
