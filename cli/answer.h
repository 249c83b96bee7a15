/* answer.h: the grammar of an answer typed at a question, shared by every terminal agent
 * (systrace -t, systracectl attach), apart from any terminal I/O:
 *   permit, deny[ERRNO]            always: the exact rule goes into the policy file
 *   permit-now, deny-now[ERRNO]    this call only (also permit-once, deny-once)
 *   permit-session, deny-session   until the program ends
 *   N                              suggestion N, always
 *   a rule                         "native-NAME: … then ACTION" or "… then ACTION", always;
 *                                  refused unless it parses and matches this call
 *   kill, detach, review, ?        */
#pragma once

#include "supervise.h"

enum answer_kind {
    ANSWER_NONE,    /* an empty line: the question stands */
    ANSWER_GIVEN,   /* *ret is the answer */
    ANSWER_HELP,    /* show answer_help() */
    ANSWER_REVIEW,  /* show the policy */
    ANSWER_REFUSED, /* *ret_message says why; the question stands */
};

/* What an answer is read against: the engine's question (systrace in-process) or what the daemon
 * sent (an Agent1 request). */
struct answer_question {
    const char *rule_name;
    char *const *suggestions;
    size_t n_suggestions;
    /* Whether a rule line fits the call, *ret_error saying why not. NULL: whoever receives the
     * answer checks (systraced does), and only the rule's syntax is checked here. */
    bool (*fits)(const void *data, const char *rule_line, char **ret_error);
    const void *fits_data;
};

/* The view of an engine question, checked with sup_rule_fits. */
struct answer_question answer_question_of(const struct sup_question *q);

/* Interprets LINE (trimmed of surrounding blanks here) as an answer to Q. For ANSWER_GIVEN,
 * ret->rule, when set, is *RET_RULE, which the caller frees; for ANSWER_REFUSED the caller frees
 * *RET_MESSAGE. */
enum answer_kind answer_parse(const struct answer_question *q, const char *line,
                              struct sup_answer *ret, char **ret_rule, char **ret_message);
/* The list of answers, translated, for "?". */
const char *answer_help(void);
/* Writes the policy file PATH (NULL: none yet) to FD, for "review". */
void answer_review(int fd, const char *path);
