/* filter.h: the kernel fast path. A plan says, per native call, whether the BPF
 * filter permits it, fails it with an errno, or notifies the supervisor; the plan is compiled with
 * libseccomp, exported and loaded with seccomp(2) so that WAIT_KILLABLE_RECV can be asked for. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum filter_action {
    FILTER_NOTIFY = 0, /* the supervisor decides */
    FILTER_ALLOW,
    FILTER_ERRNO,
};

struct filter_plan {
    unsigned char action[SYS_NR_LIMIT];
    unsigned short err[SYS_NR_LIMIT];
    bool fixed[SYS_NR_LIMIT]; /* decided whatever the policies say (io_uring, execve) */
};

/* Learn mode: every call notifies, except the refused ones (io_uring), and, when BASE is given
 * (the "base" abstraction every learned policy then includes), the harmless calls it permits
 * unconditionally: nothing is learned from them, and a signal cannot interrupt them in the few
 * microseconds before the supervisor receives them (which would return EINTR from getpid). */
void filter_plan_learn(struct filter_plan *plan, const struct policy *base);
/* Enforce and ask modes. POLICIES are every policy that may govern a process of the tree; when
 * OPEN is set, the tree may also run programs that are not known, so only calls that the first
 * policy permits unconditionally and that are harmless for anyone are decided in the kernel. */
void filter_plan_policies(struct filter_plan *plan, const struct policy *const *policies, size_t n,
                          bool open);
struct store;
/* The plan of a session of program FIRST under STORE: the policies that may govern the tree are
 * FIRST's and, transitively, those of the programs its policies let it execute by exact name; an
 * execve rule of any other form (or ask mode, where a person may permit anything) leaves the set
 * open. With INHERIT, FIRST's policy governs all. */
/* With COMPLAIN, nothing is denied in the kernel: the supervisor permits what the policies deny
 * and logs it. */
void filter_plan_session(struct filter_plan *plan, struct store *store, const char *first,
                         bool ask_mode, bool inherit, bool complain);
/* How one policy decides call NR if the kernel may decide it, else FILTER_NOTIFY; *ret_err is the
 * errno for FILTER_ERRNO. Exposed for tests. */
enum filter_action filter_policy_decision(const struct policy *policy, int nr, int *ret_err);

/* The BPF program for PLAN: native architecture only (others kill the process). Caller frees
 * ret->filter. */
int filter_compile(const struct filter_plan *plan, struct sock_fprog *ret);
/* Loads PROG on the calling thread with a new listener (and WAIT_KILLABLE_RECV where the kernel
 * has it). Returns the listener fd or -errno. Call after no_new_privs or with CAP_SYS_ADMIN. */
int filter_load(const struct sock_fprog *prog);
