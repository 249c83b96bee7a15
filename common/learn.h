/* learn.h: learn mode's recorder. For each uncovered call it chooses the rule a careful person
 * would write (an include of the abstraction that covers it, a generalised rule, one rule for a
 * whole directory); rules are collected per program and appended to the policy files in the
 * background every quarter second (so a killed launcher loses at most that), and once more when
 * the recorder is flushed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "policy.h"
#include "store.h"

struct learner;

/* Rules go to DIR; STORE (may be NULL) gives the abstractions learned policies include. */
int learner_new(const char *dir, struct store *store, struct log *log, struct learner **ret);
/* The rule to record for REQ, a call of BINARY that nothing covers yet (RULE_NAME: its alias or
 * call name): `include "NAME"` when an abstraction permits the call (one this policy includes
 * already is preferred, then "base"); else suggest_learned's rule, with what this run has seen
 * (the names it created itself, its pids); or, once the program has read three files of one
 * directory below its working directory, a rule for everything there. For a call that creates
 * a file or directory, the rule to read it is recorded too (mkdir -p stats the directory that
 * exists from the second run on). Caller frees. Thread-safe. */
char *learner_rule(struct learner *l, const char *binary, const char *rule_name,
                   const struct pol_request *req);
/* Records RULE (a full rule line) for BINARY; repeated rules are written once. Thread-safe. */
void learner_add(struct learner *l, const char *binary, const char *rule);
/* Whether RULE was recorded for BINARY already (the caller may then skip work). Thread-safe. */
bool learner_knows(struct learner *l, const char *binary, const char *rule);
/* Writes everything recorded so far; returns the number of rules that failed to be written. */
size_t learner_flush(struct learner *l);
/* Stops the background writer after a last flush. */
void learner_free(struct learner *l);
/* The files written to so far (caller frees the vector and strings). */
size_t learner_files(struct learner *l, char ***ret);
