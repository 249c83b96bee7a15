/* prompt.h: the terminal agent (systrace -t; systracectl attach): shows each question and reads
 * the answer at an "Answer:" prompt, as OpenBSD's text mode did. Questions queue and are shown
 * one at a time; one withdrawn (its process died, its deadline passed) is said so and dropped.
 * Everything runs on the host's loop thread except prompt_ask and prompt_cancel, which any thread
 * may call. */
#pragma once

#include "loop.h"
#include "supervise.h"

struct prompt;

/* Where an answer goes: sup_answer for the launcher, the daemon's Answer for systracectl.
 * Returns 0, or -ENOENT when the question is moot. */
typedef int (*prompt_answer_fn)(void *data, void *session, uint64_t token,
                                const struct sup_answer *a);

/* Opens the terminal at TTY (normally "/dev/tty") and reads it from LOOP; -errno when there is
 * none. */
int prompt_open(const char *tty, struct loop *loop, prompt_answer_fn answer, void *data,
                struct prompt **ret);
void prompt_close(struct prompt *p);
/* Queues Q (which stays valid until prompt_cancel, or until the answer has been sent) from
 * SESSION. Returns 0. */
int prompt_ask(struct prompt *p, void *session, const struct sup_question *q);
/* Q's question is moot: dropped from the queue, or withdrawn from the screen. */
void prompt_cancel(struct prompt *p, uint64_t token, enum sup_cancel_reason why);
/* The engine's asker over a prompt (data: the struct prompt). */
extern const struct sup_asker prompt_asker;
