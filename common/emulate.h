/* emulate.h: performing a permitted call on the target's behalf, so that a
 * decision that read pointer memory is never enforced by CONTINUE: the supervisor acts on the
 * copy it checked, with the caller's credentials, root and umask, and returns the kernel's
 * result (an injected fd, a written-back struct, an errno). */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>

#include "procs.h"
#include "translate.h"

struct emu_ctx {
    int listener;
    const struct seccomp_notif *n;
    const struct proc_info *proc;
    const struct tr_call *call;
    /* Decides again on the object actually reached when it is not the one checked (a path
     * changed in between): 0 to go on, or the errno to fail the call with. */
    int (*recheck)(void *data, size_t path_index, const char *actual);
    /* Called just before an answer that waits for the target (ADDFD): from then on a signal to
     * this thread would void the answer (the kernel marks the call answered first, and an
     * interrupted ADDFD leaves it answered with nothing), so nothing may interrupt it. */
    void (*answering)(void *data);
    void *data;
    int rootfd; /* set by emu_perform: the caller's root when it is not ours, else -1 */
};

/* How a call with pointer arguments is enforced once permitted. */
enum emu_kind {
    EMU_NONE,     /* no emulation: CONTINUE only with an explicit "unsafe" mark */
    EMU_PERFORM,  /* the supervisor performs it */
    EMU_CONTINUE, /* CONTINUE is safe: the call grants nothing by itself (see the reason) */
    EMU_VERIFY,   /* execve: CONTINUE, then the new program is verified before it goes on */
};

/* How call NR is enforced, and (for EMU_CONTINUE and EMU_VERIFY) why that is safe. */
enum emu_kind emu_kind_of(int nr, const char **ret_reason);
/* Whether call NR with these arguments can be performed (some variants cannot, e.g. a sendmsg
 * with an address, or a unix socket address). */
bool emu_can_perform(int nr, const struct tr_call *call);
/* Why call NR with these arguments may CONTINUE although it has an emulation (an O_PATH open),
 * or NULL. */
const char *emu_continue_reason(int nr, const struct tr_call *call);
/* Whether performing call NR may wait on another party for long (a connect, a send to a full
 * socket), so that the supervisor keeps receiving meanwhile. Opens of FIFOs also may: they are
 * left to the supervisor's watchdog rather than paid for on every open. */
bool emu_may_block(int nr);
/* Performs the call and answers the notification. Returns 0, or -errno when nothing was
 * answered because the target is gone. */
int emu_perform(const struct emu_ctx *ctx);

/* One row of the table of calls that may CONTINUE, for documentation and tests. */
struct emu_continue_row {
    const char *syscall;
    enum emu_kind kind;
    const char *reason;
};
const struct emu_continue_row *emu_continue_table(unsigned *ret_n);

/* Reads the host process's own identity (once, whoever calls first). A thread that performs
 * calls must have a umask of 0 of its own (unshare(CLONE_FS)): the caller's umask is applied by
 * hand and the supervisor's must not add to it. */
void emu_init(void);

/* Takes the file-system identity UID, GID and GROUPS (no capabilities unless UID is 0) on this
 * thread, as performed calls do: for a host's file I/O on a user's behalf (their policy files).
 * Returns what emu_unbecome undoes (0: nothing changed, the host is that user already), or
 * -errno, the identity unchanged. */
int emu_become_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);
void emu_unbecome(int became);
