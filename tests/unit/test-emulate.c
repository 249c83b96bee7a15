/* test-emulate.c: the table of how each pointer-argument call is enforced, walked whole: every
 * call a rule can test by pointer is performed, continued for a stated reason, verified, or
 * named here as still unsafe. */
#include <fcntl.h>
#include <sys/socket.h>

#include "emulate.h"
#include "testutil.h"
#include "util.h"

/* Calls still without a race-free form: a permit that depends on their pointer arguments runs
 * with CONTINUE under a logged "unsafe" mark (and `systracectl policy check` says so). */
static const char *const still_unsafe[] = {
    "chroot",        "mount",
    "umount2",       "swapon",
    "swapoff",       "pivot_root",
    "acct",          "uselib",
    "quotactl",      "inotify_add_watch",
    "fanotify_mark", "name_to_handle_at",
    "open_tree",     "mount_setattr",
    "move_mount",
};

static bool listed_unsafe(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(still_unsafe); i++)
        if (streq(still_unsafe[i], name))
            return true;
    return false;
}

static void test_every_pointer_call_is_accounted_for(void)
{
    unsigned n;
    const struct sys_schema *t = sys_schema_table(&n);
    for (unsigned i = 0; i < n; i++) {
        bool memory = false;
        for (unsigned k = 0; k < SYS_MAX_ARGS && t[i].args[k].name; k++)
            memory |= sys_arg_kind_reads_memory(t[i].args[k].kind);
        if (!memory)
            continue;
        const char *reason = NULL;
        enum emu_kind kind = emu_kind_of(sys_number(t[i].syscall), &reason);
        if (kind == EMU_NONE && !listed_unsafe(t[i].syscall))
            g_error("%s reads pointer arguments but has no emulation and is not listed unsafe",
                    t[i].syscall);
        if (kind != EMU_NONE && listed_unsafe(t[i].syscall))
            g_error("%s is listed unsafe but has an emulation: update the list", t[i].syscall);
        if (kind == EMU_CONTINUE || kind == EMU_VERIFY)
            g_assert_nonnull(reason);
    }
}

static void test_continue_table_has_reasons(void)
{
    unsigned n;
    const struct emu_continue_row *rows = emu_continue_table(&n);
    g_assert_cmpuint(n, >=, 4);
    for (unsigned i = 0; i < n; i++) {
        g_assert_nonnull(rows[i].reason);
        g_assert_cmpuint(strlen(rows[i].reason), >, 20);
    }
}

static void test_o_path_opens_continue(void)
{
    struct tr_call call = {.oflags = O_PATH, .n_paths = 1};
    call.paths[0].resolved = (char *)"/etc/hostname";
    int nr = sys_number("openat");
    g_assert_nonnull(emu_continue_reason(nr, &call));
    g_assert_false(emu_can_perform(nr, &call));
    call.oflags = O_RDONLY;
    g_assert_null(emu_continue_reason(nr, &call));
    g_assert_true(emu_can_perform(nr, &call));
    /* A unix socket address is never connected by the supervisor. */
    struct tr_call sock = {.addr_len = 20};
    sock.addr.ss_family = AF_UNIX;
    g_assert_false(emu_can_perform(sys_number("connect"), &sock));
    sock.addr.ss_family = AF_INET6;
    g_assert_true(emu_can_perform(sys_number("connect"), &sock));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/emulate/every-pointer-call", test_every_pointer_call_is_accounted_for);
    g_test_add_func("/emulate/continue-reasons", test_continue_table_has_reasons);
    g_test_add_func("/emulate/o-path", test_o_path_opens_continue);
    return g_test_run();
}
