/* systracectl: the control tool. `policy check|show|path` work on policy files and need no
 * daemon; the session commands (list, attach, …, ctl-daemon.c) talk to systraced. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "binary.h"
#include "ctl-daemon.h"
#include "i18n.h"
#include "policy.h"
#include "store.h"
#include "util.h"

#define EXIT_USAGE 2

struct options {
    const char *user_dir;
    bool no_user;
    const char *files[64];
    size_t n_files;
};

static void usage(FILE *out)
{
    fprintf(out, _("Usage: systracectl [OPTIONS] COMMAND [ARGS…]\n"
                   "\n"
                   "Policy commands (no daemon needed):\n"
                   "  policy check FILE…        report errors and warnings as FILE:LINE:COL\n"
                   "  policy show FILE|BINARY   print the canonical text of a policy\n"
                   "  policy path BINARY        the file that governs BINARY, and where it is\n"
                   "\n"
                   "Session commands (talk to systraced; TARGET is a pid of the session, its\n"
                   "launcher's pid, or %%N for session N):\n"
                   "  list                      one line per session you may see:\n"
                   "                            ID PID LAUNCHER-PID USER MODE WAITING PROGRAM\n"
                   "  attach TARGET             answer the session's questions here (an\n"
                   "                            enforce session asks while attached); Ctrl-C\n"
                   "                            detaches\n"
                   "  attach [--yes] [--gui] [--mode MODE] [--program PATH] [--policy-dir DIR]\n"
                   "         PID                PID in no session: put the running process\n"
                   "                            under supervision first (it keeps the filter\n"
                   "                            and no_new_privs for life; asks unless --yes);\n"
                   "                            --gui: the applet asks when it runs\n"
                   "  detach TARGET             stop supervising it (everything is permitted,\n"
                   "                            the calls waiting for an answer too)\n"
                   "  kill TARGET               kill every process of it\n"
                   "  mode TARGET MODE          learn, enforce or ask from now on\n"
                   "  monitor [--answer]        every decision and question of the sessions you\n"
                   "                            may see, one line each; --answer asks here too\n"
                   "  status                    the daemon's state and settings, KEY: VALUE\n"
                   "  reload                    re-read systraced.conf (root, operator group)\n"
                   "\n"
                   "Options:\n"
                   "  -d, --policy-dir DIR      user policy directory (default ~/.systrace)\n"
                   "  -U, --no-user-policies    use only the system policies\n"
                   "  -f, --policy-file FILE    add the policies in FILE (searched first)\n"
                   "  -j, --json                session commands print JSON\n"
                   "  -h, --help                show this help\n"
                   "  -V, --version             show the version\n"));
}

/* The abstraction PATH is, when it lies in a directory called "abstractions": its name. */
static const char *abstraction_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    static const char dir[] = "abstractions/";
    size_t n = strlen(dir);
    bool in_dir = slash && (size_t)(slash + 1 - path) >= n && memcmp(slash + 1 - n, dir, n) == 0 &&
                  (slash + 1 - n == path || slash[-(ptrdiff_t)n] == '/');
    return in_dir ? name : NULL;
}

/* Parses PATH: a policy file, or an abstraction (a file in an "abstractions" directory). */
static int parse_file(const char *path, struct pol_file **ret, struct pol_diags *diags)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_regular_file(path, 64u << 20, &text, &len, NULL);
    if (r < 0) {
        fprintf(stderr, _("systracectl: cannot read %s: %s\n"), path,
                r == -EINVAL ? _("not a regular file") : strerror(-r));
        return r;
    }
    const char *fragment = abstraction_name(path);
    return fragment ? pol_parse_fragment(fragment, text, len, ret, diags)
                    : pol_parse(text, len, ret, diags);
}

static int cmd_check(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, _("systracectl: policy check needs at least one FILE\n"));
        return EXIT_USAGE;
    }
    int status = 0;
    for (int i = 0; i < argc; i++) {
        struct pol_file *file = NULL;
        struct pol_diags diags = {0};
        int r = parse_file(argv[i], &file, &diags);
        if (r < 0 && !file) {
            status = 1;
            continue;
        }
        /* Included rules take part in the checks (a rule after an include may be shadowed). */
        store_expand_includes(file, NULL, NULL, &diags);
        pol_lint(file, &diags);
        if (!abstraction_name(argv[i]))
            pol_lint_file_name(file, argv[i], &diags);
        struct stat st;
        const char *why = stat(argv[i], &st) == 0 ? store_untrusted(&st, geteuid()) : NULL;
        if (why)
            pol_diags_add(&diags, POL_WARNING, 1, 1,
                          _("%s: systrace does not use a policy that someone else than its "
                            "owner and root can change"),
                          _(why));
        pol_diags_sort(&diags);
        _cleanup_free_ char *text = pol_diags_format(&diags, argv[i]);
        fputs(text, stdout);
        if (diags.n_errors)
            status = 1;
        else if (diags.n == diags.n_notes && abstraction_name(argv[i]))
            printf(_("%s: ok (an abstraction of %zu rules)\n"), argv[i], file->policies[0].n_rules);
        else if (diags.n == diags.n_notes)
            printf(ngettext("%s: ok (%zu policy)\n", "%s: ok (%zu policies)\n", file->n_policies),
                   argv[i], file->n_policies);
        pol_diags_clear(&diags);
        pol_file_free(file);
    }
    return status;
}

static int open_store(const struct options *o, struct store **ret)
{
    _cleanup_free_ char *def = NULL;
    const char *user = o->user_dir;
    if (!user && !o->no_user)
        user = def = store_default_user_dir();
    struct store_options so = {
        .user_dir = o->no_user ? NULL : user,
        .files = o->files,
        .n_files = o->n_files,
    };
    int r = store_new(&so, ret);
    if (r < 0)
        fprintf(stderr, _("systracectl: cannot open the policy store: %s\n"), strerror(-r));
    return r;
}

/* Resolves NAME as the program its policy is named after, and opens the store; 0 or 1. */
static int program_and_store(const struct options *o, const char *name, char **ret_binary,
                             struct store **ret_store)
{
    int r = binary_resolve(name, ret_binary);
    if (r < 0) {
        fprintf(stderr, _("systracectl: %s: %s\n"), name, strerror(-r));
        return 1;
    }
    if (open_store(o, ret_store) < 0) {
        free(*ret_binary);
        *ret_binary = NULL;
        return 1;
    }
    return 0;
}

/* A regular, non-executable file is a policy file; anything else names a program. */
static bool names_policy_file(const char *arg)
{
    struct stat st;
    return stat(arg, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 0111);
}

static int cmd_show(const struct options *o, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, _("systracectl: policy show needs one FILE or BINARY\n"));
        return EXIT_USAGE;
    }
    if (names_policy_file(argv[0])) {
        struct pol_file *file = NULL;
        struct pol_diags diags = {0};
        int r = parse_file(argv[0], &file, &diags);
        _cleanup_free_ char *msgs = pol_diags_format(&diags, argv[0]);
        fputs(msgs, stderr);
        pol_diags_clear(&diags);
        for (size_t i = 0; file && i < file->n_policies; i++) {
            _cleanup_free_ char *text = pol_print(&file->policies[i]);
            fputs(i ? "\n" : "", stdout);
            fputs(text, stdout);
        }
        pol_file_free(file);
        return r < 0 ? 1 : 0;
    }
    _cleanup_free_ char *binary = NULL;
    struct store *store;
    if (program_and_store(o, argv[0], &binary, &store))
        return 1;
    struct store_policy p;
    int r = store_get(store, binary, &p);
    if (r < 0) {
        fprintf(stderr, _("systracectl: no policy for %s\n"), binary);
    } else {
        _cleanup_free_ char *text = pol_print(p.policy);
        fputs(text, stdout);
        store_policy_release(&p);
    }
    store_free(store);
    return r < 0 ? 1 : 0;
}

static int cmd_path(const struct options *o, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, _("systracectl: policy path needs one BINARY\n"));
        return EXIT_USAGE;
    }
    _cleanup_free_ char *binary = NULL;
    struct store *store;
    if (program_and_store(o, argv[0], &binary, &store))
        return 1;
    _cleanup_free_ char *path = NULL;
    enum store_origin origin;
    int r = store_locate(store, binary, &path, &origin);
    if (r == 0)
        printf(_("%s (%s)\n"), path, _(store_origin_name(origin)));
    else if (path)
        printf(_("%s (no policy yet; learning would write it here)\n"), path);
    else
        printf(_("no policy for %s\n"), binary);
    store_free(store);
    return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    i18n_init();
    static const struct option longopts[] = {
        {"policy-dir", required_argument, NULL, 'd'},
        {"no-user-policies", no_argument, NULL, 'U'},
        {"policy-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"json", no_argument, NULL, 'j'},
        {0},
    };
    struct options o = {0};
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "+d:Uf:hVj", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.user_dir = optarg;
            break;
        case 'U':
            o.no_user = true;
            break;
        case 'f':
            if (o.n_files == ARRAY_SIZE(o.files)) {
                fprintf(stderr, _("systracectl: too many -f files\n"));
                return EXIT_USAGE;
            }
            o.files[o.n_files++] = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("systracectl %s\n", VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (streq(argv[0], "policy")) {
        if (argc < 2) {
            fprintf(stderr, _("systracectl: policy needs a subcommand: check, show, path\n"));
            return EXIT_USAGE;
        }
        if (streq(argv[1], "check"))
            return cmd_check(argc - 2, argv + 2);
        if (streq(argv[1], "show"))
            return cmd_show(&o, argc - 2, argv + 2);
        if (streq(argv[1], "path"))
            return cmd_path(&o, argc - 2, argv + 2);
        fprintf(stderr, _("systracectl: unknown policy subcommand '%s'\n"), argv[1]);
        return EXIT_USAGE;
    }
    int r = ctl_daemon_command(argc, argv, json);
    if (r >= 0)
        return r;
    fprintf(stderr, _("systracectl: unknown command '%s' (try --help)\n"), argv[0]);
    return EXIT_USAGE;
}
