/* prompt.h: the terminal asker (systrace -t; later systracectl attach): prints the request and
 * reads the answer at an "Answer:" prompt, as OpenBSD's text mode did. */
#pragma once

#include "supervise.h"

struct prompt;

/* Opens the terminal at TTY (normally "/dev/tty"); -errno when there is none. */
int prompt_open(const char *tty, struct prompt **ret);
void prompt_close(struct prompt *p);
/* A sup_ask_fn: USERDATA is the struct prompt. One question at a time. */
int prompt_ask(void *userdata, const struct sup_question *q,
               bool (*still_pending)(const struct sup_question *q, void *ctx), void *ctx,
               struct sup_answer *ret);
