/* filter.c: computing which calls the kernel may decide, and building the BPF program. */
#include "filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <stddef.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

/* What is decided whatever the policies say (common/syscalls.c's flags): io_uring is refused
 * (its operations are never seen by seccomp, so programs fall back to ordinary calls), and the
 * calls the supervisor must see always reach it. */
static void plan_fixed(struct filter_plan *plan)
{
    for (int nr = 0; nr < SYS_NR_LIMIT; nr++) {
        unsigned flags = sys_flags_of(nr);
        if (flags & SYS_F_REFUSED) {
            plan->action[nr] = FILTER_ERRNO;
            plan->err[nr] = ENOSYS;
            plan->fixed[nr] = true;
        } else if (flags & SYS_F_NOTIFY) {
            plan->action[nr] = FILTER_NOTIFY;
            plan->err[nr] = 0;
            plan->fixed[nr] = true;
        } else if (sys_id_of(nr) == SYS_ID_restart_syscall) {
            /* It only resumes, with its saved arguments, a sleep or wait the kernel
             * interrupted (a stop for an attach, a signal): nothing new is asked for, and a
             * question about it would hold a call no one made. */
            plan->action[nr] = FILTER_ALLOW;
            plan->err[nr] = 0;
            plan->fixed[nr] = true;
        }
    }
}

void filter_plan_learn(struct filter_plan *plan, const struct policy *base)
{
    *plan = (struct filter_plan){0};
    for (int nr = 0; base && nr < SYS_NR_LIMIT; nr++) {
        int err = 0;
        if ((sys_flags_of(nr) & SYS_F_HARMLESS) &&
            filter_policy_decision(base, nr, &err) == FILTER_ALLOW)
            plan->action[nr] = FILTER_ALLOW;
    }
    plan_fixed(plan);
}

enum filter_action filter_policy_decision(const struct policy *policy, int nr, int *ret_err)
{
    for (size_t i = 0; i < policy->n_rules; i++) {
        const struct pol_rule *r = &policy->rules[i];
        if (!pol_rule_names_call(r, nr))
            continue;
        /* An alias that splits this call by its flags needs the supervisor's look at them. */
        if (r->alias != SYS_ALIAS_NONE && !sys_alias_always_contains(r->alias, nr))
            return FILTER_NOTIFY;
        bool plain = (!r->expr || r->expr->type == POL_EXPR_TRUE) && !r->log &&
                     r->pred.subject == POL_PRED_NONE && !r->as_user && !r->as_group;
        if (!plain || r->action == POL_ASK)
            return FILTER_NOTIFY;
        if (r->action == POL_PERMIT)
            return FILTER_ALLOW;
        *ret_err = r->err > 0 ? r->err : EPERM;
        return FILTER_ERRNO;
    }
    return FILTER_NOTIFY; /* uncovered: logged or asked by the supervisor */
}

void filter_plan_policies(struct filter_plan *plan, const struct policy *const *policies, size_t n,
                          bool open)
{
    *plan = (struct filter_plan){0};
    for (int nr = 0; nr < SYS_NR_LIMIT && n > 0; nr++) {
        if (!sys_name(nr))
            continue;
        int err0 = 0;
        enum filter_action a = filter_policy_decision(policies[0], nr, &err0);
        for (size_t i = 1; i < n && a != FILTER_NOTIFY; i++) {
            int err = 0;
            if (filter_policy_decision(policies[i], nr, &err) != a || err != err0)
                a = FILTER_NOTIFY;
        }
        if (open && !(a == FILTER_ALLOW && (sys_flags_of(nr) & SYS_F_HARMLESS)))
            a = FILTER_NOTIFY;
        plan->action[nr] = (unsigned char)a;
        plan->err[nr] = (unsigned short)err0;
    }
    plan_fixed(plan);
}

#define MAX_SESSION_POLICIES 64

/* The program an execve rule permits by exact name, or NULL if its form permits others too. */
static const char *exact_exec_target(const struct pol_rule *r)
{
    const struct pol_expr *e = r->expr;
    if (r->pred.subject != POL_PRED_NONE || !e || e->type != POL_EXPR_CMP || e->op != POL_OP_EQ ||
        e->has_vars || e->ordinal != 0 || !streq(e->arg, "filename"))
        return NULL;
    return e->value;
}

void filter_plan_session(struct filter_plan *plan, struct store *store, const char *first,
                         bool ask_mode, bool inherit, bool complain)
{
    struct store_policy held[MAX_SESSION_POLICIES];
    const char *names[MAX_SESSION_POLICIES];
    const struct policy *set[MAX_SESSION_POLICIES];
    static const struct policy empty = {.path = (char *)"", .emulation = (char *)"native"};
    size_t n = 0;
    bool open = ask_mode && !inherit;
    names[n] = first;
    if (store_get(store, first, &held[n]) < 0)
        held[n].policy = NULL;
    set[n] = held[n].policy ? held[n].policy : &empty;
    n++;
    int execs[] = {sys_nr_of(SYS_ID_execve), sys_nr_of(SYS_ID_execveat)};
    for (size_t i = 0; i < n && !inherit; i++) {
        for (size_t k = 0; k < set[i]->n_rules; k++) {
            const struct pol_rule *r = &set[i]->rules[k];
            if (!pol_rule_names_call(r, execs[0]) && !pol_rule_names_call(r, execs[1]))
                continue;
            if (r->action == POL_DENY)
                continue;
            const char *target = exact_exec_target(r);
            if (!target || n == MAX_SESSION_POLICIES) {
                open = true;
                continue;
            }
            bool known = false;
            for (size_t j = 0; j < n && !known; j++)
                known = streq(names[j], target);
            if (known)
                continue;
            names[n] = target;
            if (store_get(store, target, &held[n]) < 0)
                held[n].policy = NULL;
            set[n] = held[n].policy ? held[n].policy : &empty;
            n++;
        }
    }
    filter_plan_policies(plan, set, n, open);
    for (int nr = 0; complain && nr < SYS_NR_LIMIT; nr++)
        if (plan->action[nr] == FILTER_ERRNO && !plan->fixed[nr])
            plan->action[nr] = FILTER_NOTIFY;
    for (size_t i = 0; i < n; i++)
        if (held[i].policy)
            store_policy_release(&held[i]);
}

/* Argument values that must reach the supervisor whatever the policy lets the kernel decide for
 * the call: fcntl's owners of SIGIO (a signal the kernel sends later, to a process the policy
 * never saw named) and their signal. Compared on the low 32 bits, as the kernel reads them. */
static const struct {
    enum sys_id call;
    int arg;
    uint32_t values[3];
    unsigned n;
} forced[] = {
    {SYS_ID_fcntl, 1, {F_SETOWN, F_SETOWN_EX, F_SETSIG}, 3},
};

#define STMT(code, k)       ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, t, f) ((struct sock_filter)BPF_JUMP(code, k, t, f))

/* The hand-written start of the program: FORCED's calls with those values are notified; every
 * other call goes on to libseccomp's program, which checks the architecture again. Returns the
 * number of instructions written to OUT (room for 64). */
static size_t forced_prefix(struct sock_filter *out)
{
    size_t n = 0, notify_jumps[16], n_notify = 0, end_jumps[16], n_end = 0;
    out[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    end_jumps[n_end++] = n;
    out[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 0);
    out[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < ARRAY_SIZE(forced); i++) {
        int nr = sys_nr_of(forced[i].call);
        if (nr < 0)
            continue;
        size_t skip = n;
        out[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 0);
        out[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
                        offsetof(struct seccomp_data, args[0]) + 8 * forced[i].arg);
        for (unsigned v = 0; v < forced[i].n; v++) {
            notify_jumps[n_notify++] = n;
            out[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, forced[i].values[v], 0, 0);
        }
        end_jumps[n_end++] = n;
        out[n++] = STMT(BPF_JMP | BPF_JA, 0);
        out[skip].jf = (uint8_t)(n - skip - 1); /* the next call's test */
    }
    end_jumps[n_end++] = n; /* none of them */
    out[n++] = STMT(BPF_JMP | BPF_JA, 0);
    size_t notify = n;
    out[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    size_t end = n;
    for (size_t i = 0; i < n_notify; i++)
        out[notify_jumps[i]].jt = (uint8_t)(notify - notify_jumps[i] - 1);
    for (size_t i = 0; i < n_end; i++) {
        struct sock_filter *j = &out[end_jumps[i]];
        if (BPF_OP(j->code) == BPF_JA)
            j->k = (uint32_t)(end - end_jumps[i] - 1);
        else
            j->jf = (uint8_t)(end - end_jumps[i] - 1);
    }
    return n;
}

int filter_compile(const struct filter_plan *plan, struct sock_fprog *ret)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_NOTIFY);
    if (!ctx)
        return -ENOMEM;
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    for (int nr = 0; nr < SYS_NR_LIMIT && r == 0; nr++) {
        if (plan->action[nr] == FILTER_ALLOW)
            r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        else if (plan->action[nr] == FILTER_ERRNO)
            r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(plan->err[nr]), nr, 0);
    }
    int fd = r == 0 ? memfd_create("systrace-bpf", MFD_CLOEXEC) : -1;
    if (r == 0 && fd < 0)
        r = -errno;
    if (r == 0)
        r = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    char *bytes = NULL;
    size_t len = 0;
    if (lseek(fd, 0, SEEK_SET) < 0 || (r = read_fd_all(fd, 1u << 20, &bytes, &len)) < 0) {
        r = r < 0 ? r : -errno;
        close(fd);
        return r;
    }
    close(fd);
    struct sock_filter prefix[64];
    size_t n_prefix = forced_prefix(prefix);
    size_t n_body = len / sizeof(struct sock_filter);
    if (n_prefix + n_body > BPF_MAXINSNS) {
        free(bytes);
        return -E2BIG;
    }
    struct sock_filter *prog = xcalloc(n_prefix + n_body, sizeof(*prog));
    memcpy(prog, prefix, n_prefix * sizeof(*prog));
    memcpy(prog + n_prefix, bytes, n_body * sizeof(*prog));
    free(bytes);
    ret->len = (unsigned short)(n_prefix + n_body);
    ret->filter = prog;
    return 0;
}

int filter_load(const struct sock_fprog *prog)
{
    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
    if (fd < 0 && errno == EINVAL) /* a kernel before 5.19 */
        fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
    return fd < 0 ? -errno : (int)fd;
}
