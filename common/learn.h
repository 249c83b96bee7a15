/* learn.h: learn mode's recorder. Rules are collected per program and appended to the policy
 * files in the background every quarter second (so a killed launcher loses at most that), and
 * once more when the recorder is flushed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

struct learner;

int learner_new(const char *dir, struct log *log, struct learner **ret);
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
