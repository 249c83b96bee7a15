/* handover.h: the launcher's side of systraced. The launcher hands its session over with
 * Daemon1.Supervise and keeps its own copy of the listener; while the daemon supervises, the
 * launcher never receives on it: it only watches the daemon (its bus name, the connection) and
 * keeps the notifications of the questions the daemon has not answered yet (Session1.Held), so
 * that it can decide them itself if the daemon goes away. On a terminal it can also answer the
 * session's questions there, as an Agent1 registered for the session. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "supervise.h"

struct handover;

struct handover_options {
    struct loop *loop;
    int listener; /* the launcher's copy stays the launcher's */
    int pidfd;    /* the launched child */
    enum sup_mode mode;
    const char *program;
    char *const *argv;
    const char *policy_dir; /* NULL: the daemon's default for the user */
    const char *const *files;
    size_t n_files;
    bool no_user, inherit, no_alias;
    int agent_fd;        /* >= 0: a terminal that answers the session's questions (systrace -t) */
    bool agent_fallback; /* the terminal yields to the owner's applet (-t was not given) */
    /* Called once, on the loop's thread, when the daemon is gone (its name lost its owner, the
     * bus connection broke). The callee may free the handover from a posted job, not from it. */
    void (*gone)(void *data);
    void *data;
};

/* Hands the session over. 0 and *RET, *RET_ID (the session's number), or -errno and
 * *RET_ERROR (one line; -ENOENT when no daemon answers, -EBUSY at the user's limit). On 0,
 * *RET_ERROR may say why the terminal agent could not be registered (the caller frees it). */
int handover_start(const struct handover_options *o, struct handover **ret, unsigned *ret_id,
                   char **ret_error);
/* The notifications of questions the daemon has not answered, as far as the kernel still has
 * them pending. *RET stays the handover's. */
size_t handover_held(struct handover *h, const struct seccomp_notif **ret);
/* Stops watching, unregisters the agent, closes the connection. NULL is ignored. */
void handover_free(struct handover *h);
