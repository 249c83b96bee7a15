/* systrace: the launcher. Runs a command under a system-call policy (flag-compatible with
 * OpenBSD systrace(1)): -A learns policies, -a enforces them, otherwise uncovered calls are asked
 * on the terminal. Without systraced, the engine runs in this process (embedded mode). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "binary.h"
#include "filter.h"
#include "i18n.h"
#include "launch.h"
#include "log.h"
#include "prompt.h"
#include "store.h"
#include "supervise.h"
#include "util.h"

#define EXIT_USAGE       2
#define MAX_POLICY_FILES 64

struct options {
    enum sup_mode mode;
    bool mode_set;
    bool terminal;
    bool inherit;
    bool no_user;
    bool no_alias;
    bool verbose;
    bool log_stderr;
    const char *log_file;
    const char *policy_dir;
    const char *user_group;
    const char *files[MAX_POLICY_FILES];
    size_t n_files;
    char **command;
};

static void usage(FILE *out)
{
    fprintf(
        out, "%s",
        _("Usage: systrace [-AaeitUuVv] [-c user:group] [-d policydir] [-E logfile] [-f file]\n"
          "                [-g gui] [-p pid] command [args…]\n"
          "\n"
          "  -A, --learn                record every call and write a policy per program\n"
          "  -a, --enforce              deny (EPERM) and log what the policy does not cover\n"
          "  -t, --terminal             ask about uncovered calls on the terminal (the default\n"
          "                             without -A and -a when a terminal is attached)\n"
          "  -c, --user USER:GROUP      run the command as USER and GROUP (root only)\n"
          "  -d, --policy-dir DIR       user policy directory (default ~/.systrace)\n"
          "  -e, --log-stderr           log to standard error instead of syslog\n"
          "  -E, --log-file FILE        append the log to FILE\n"
          "  -f, --policy-file FILE     add the policies in FILE (searched first)\n"
          "  -i, --inherit              every process keeps the first program's policy\n"
          "  -U, --no-user-policies     use only the system policies (/etc/systrace)\n"
          "  -u, --no-aliases           no fsread/fswrite aliases\n"
          "  -v, --verbose              say what the launcher does\n"
          "  -V, --version              print the version\n"
          "  -g, --gui PROGRAM, -p, --pid PID, -C, --cradle\n"
          "                             need the systraced daemon\n"
          "  -h, --help                 show this help\n"));
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"learn", no_argument, NULL, 'A'},
        {"enforce", no_argument, NULL, 'a'},
        {"cradle", no_argument, NULL, 'C'},
        {"user", required_argument, NULL, 'c'},
        {"policy-dir", required_argument, NULL, 'd'},
        {"log-stderr", no_argument, NULL, 'e'},
        {"log-file", required_argument, NULL, 'E'},
        {"policy-file", required_argument, NULL, 'f'},
        {"gui", required_argument, NULL, 'g'},
        {"inherit", no_argument, NULL, 'i'},
        {"pid", required_argument, NULL, 'p'},
        {"terminal", no_argument, NULL, 't'},
        {"no-user-policies", no_argument, NULL, 'U'},
        {"no-aliases", no_argument, NULL, 'u'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+AaCc:d:eE:f:g:ip:tUuvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'A':
        case 'a':
            if (o->mode_set && o->mode != (c == 'A' ? SUP_LEARN : SUP_ENFORCE)) {
                fprintf(stderr, "%s", _("systrace: -A and -a cannot be combined\n"));
                return EXIT_USAGE;
            }
            o->mode = c == 'A' ? SUP_LEARN : SUP_ENFORCE;
            o->mode_set = true;
            break;
        case 'c':
            o->user_group = optarg;
            break;
        case 'd':
            o->policy_dir = optarg;
            break;
        case 'e':
            o->log_stderr = true;
            break;
        case 'E':
            o->log_file = optarg;
            break;
        case 'f':
            if (o->n_files == MAX_POLICY_FILES) {
                fprintf(stderr, "%s", _("systrace: too many -f files\n"));
                return EXIT_USAGE;
            }
            o->files[o->n_files++] = optarg;
            break;
        case 'i':
            o->inherit = true;
            break;
        case 't':
            o->terminal = true;
            break;
        case 'U':
            o->no_user = true;
            break;
        case 'u':
            o->no_alias = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'V':
            printf("systrace %s\n", VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        case 'g':
        case 'p':
        case 'C':
            fprintf(stderr,
                    _("systrace: -%c needs the systraced daemon, which this version does "
                      "not include yet\n"),
                    c);
            return EXIT_USAGE;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    o->command = argv + optind;
    if (!o->mode_set)
        o->mode = SUP_ASK;
    return 0;
}

struct creds {
    uid_t uid;
    gid_t gid;
    gid_t groups[256];
    int n_groups;
};

/* -c user:group: names or numbers. */
static int parse_user_group(const char *spec, struct creds *c)
{
    _cleanup_free_ char *user = xstrdup(spec);
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    struct passwd *pw = getpwnam(user);
    char *end;
    if (pw) {
        c->uid = pw->pw_uid;
        c->gid = pw->pw_gid;
    } else {
        unsigned long v = strtoul(user, &end, 10);
        if (!*user || *end) {
            fprintf(stderr, _("systrace: unknown user '%s'\n"), user);
            return -EINVAL;
        }
        c->uid = (uid_t)v;
        c->gid = (gid_t)v;
    }
    if (group && *group) {
        struct group *gr = getgrnam(group);
        unsigned long v = strtoul(group, &end, 10);
        if (gr)
            c->gid = gr->gr_gid;
        else if (!*end)
            c->gid = (gid_t)v;
        else {
            fprintf(stderr, _("systrace: unknown group '%s'\n"), group);
            return -EINVAL;
        }
    }
    c->n_groups = (int)ARRAY_SIZE(c->groups);
    if (!pw || getgrouplist(pw->pw_name, c->gid, c->groups, &c->n_groups) < 0) {
        c->groups[0] = c->gid;
        c->n_groups = 1;
    }
    return 0;
}

static void print_learned(struct sup *sup)
{
    char **files = NULL;
    size_t n = sup_learned_files(sup, &files);
    if (n == 0)
        fprintf(stderr, "%s", _("systrace: no new rules were learned\n"));
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, _("systrace: policy written: %s\n"), files[i]);
        free(files[i]);
    }
    free(files);
}

static void report_store(void *userdata, const char *msg)
{
    log_event(userdata, "%s", msg);
}

/* Waits for the child, forwarding signals, then for every other process of the tree (the
 * launcher is their subreaper). Returns the exit status to pass on. */
static int wait_tree(pid_t child, int pidfd, int sigfd)
{
    int status = -1;
    for (;;) {
        struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        int r = poll(fds, status < 0 ? 2 : 1, -1);
        if (r < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD)
                syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
        }
        /* Reap whatever ended: the child, and orphans handed to us. */
        for (;;) {
            int ws;
            pid_t p = waitpid(-1, &ws, WNOHANG | __WALL);
            if (p == child)
                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            if (p > 0)
                continue;
            if (p < 0 && errno == ECHILD && status >= 0)
                return status;
            break;
        }
    }
    return status < 0 ? 1 : status;
}

int main(int argc, char **argv)
{
    i18n_init();
    struct options o = {0};
    int r = parse_args(argc, argv, &o);
    if (r)
        return r;
    struct creds creds = {0};
    if (o.user_group) {
        if (geteuid() != 0) {
            fprintf(stderr, "%s", _("systrace: -c needs root\n"));
            return EXIT_USAGE;
        }
        if (parse_user_group(o.user_group, &creds) < 0)
            return EXIT_USAGE;
    }
    _cleanup_free_ char *program = NULL;
    r = binary_resolve(o.command[0], &program);
    if (r < 0) {
        if (r == -ENOENT && !strchr(o.command[0], '/'))
            fprintf(stderr, _("systrace: %s: command not found\n"), o.command[0]);
        else
            fprintf(stderr, "systrace: %s: %s\n", o.command[0], strerror(-r));
        return r == -ENOENT ? 127 : 126;
    }

    /* The target must not reach its supervisor: no ptrace, no core, no /proc/PID/mem. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    _cleanup_free_ char *default_dir = NULL;
    const char *user_dir = o.policy_dir;
    if (!user_dir && !o.no_user)
        user_dir = default_dir = store_default_user_dir();
    if (o.mode == SUP_LEARN) {
        if (!user_dir) {
            fprintf(stderr, "%s", _("systrace: -A needs a user policy directory (-d DIR)\n"));
            return EXIT_USAGE;
        }
        r = store_ensure_dir(user_dir);
        if (r < 0) {
            fprintf(stderr, _("systrace: cannot create %s: %s\n"), user_dir, strerror(-r));
            return 1;
        }
    }
    struct store_options so = {
        .user_dir = o.no_user ? NULL : user_dir, .files = o.files, .n_files = o.n_files};
    struct store *store;
    r = store_new(&so, &store);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot read the policies: %s\n"), strerror(-r));
        return 1;
    }
    struct log *log;
    r = log_open(o.log_file     ? LOG_TO_FILE
                 : o.log_stderr ? LOG_TO_STDERR
                                : LOG_TO_SYSLOG,
                 o.log_file, &log);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot open %s: %s\n"), o.log_file, strerror(-r));
        return 1;
    }
    store_set_reporter(store, report_store, log);

    struct prompt *prompt = NULL;
    if (o.mode == SUP_ASK && (o.terminal || isatty(STDIN_FILENO)) &&
        prompt_open("/dev/tty", &prompt) < 0 && o.verbose)
        fprintf(stderr, "%s", _("systrace: no terminal to ask on: uncovered calls are denied\n"));

    struct filter_plan plan;
    if (o.mode == SUP_LEARN)
        filter_plan_learn(&plan);
    else
        filter_plan_session(&plan, store, program, o.mode == SUP_ASK, o.inherit);
    struct sock_fprog prog;
    r = filter_compile(&plan, &prog);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot build the filter: %s\n"), strerror(-r));
        return 1;
    }

    /* Signals are taken by a signalfd in this thread; the child and the workers do not see them. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    struct launch_options lo = {
        .path = program,
        .argv = o.command,
        .set_creds = o.user_group != NULL,
        .uid = creds.uid,
        .gid = creds.gid,
        .groups = creds.groups,
        .n_groups = (size_t)creds.n_groups,
        .filter = &prog,
    };
    struct launch_child child;
    char *err = NULL;
    r = launch_spawn(&lo, &child, &err);
    free(prog.filter);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot start %s: %s\n"), program, err ? err : strerror(-r));
        if (r == -EPERM || r == -EACCES)
            fprintf(stderr, "%s",
                    _("Hint: the seccomp filter needs no_new_privs or "
                      "CAP_SYS_ADMIN, and pidfd_getfd needs ptrace access to the "
                      "child.\n"));
        free(err);
        return 126;
    }
    if (o.verbose)
        fprintf(stderr, _("systrace: no daemon: supervising %s (pid %d) in-process\n"), program,
                child.pid);
    struct sup_config sc = {
        .listener = child.listener,
        .mode = o.mode,
        .store = store,
        .log = log,
        .inherit = o.inherit,
        .no_alias = o.no_alias,
        .first_binary = program,
        .launch_pid = child.pid,
        .plan = o.mode == SUP_LEARN ? NULL : &plan,
        .ask = prompt ? prompt_ask : NULL,
        .ask_data = prompt,
    };
    struct sup *sup;
    r = sup_new(&sc, &sup);
    if (r == 0)
        r = sup_start(sup);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot start the supervisor: %s\n"), strerror(-r));
        kill(child.pid, SIGKILL);
        return 1;
    }
    int exec_err = launch_exec_result(&child);
    if (exec_err)
        fprintf(stderr, "systrace: %s: %s\n", o.command[0], strerror(exec_err));
    int status = wait_tree(child.pid, child.pidfd, sigfd);
    sup_stop(sup);
    if (o.mode == SUP_LEARN)
        print_learned(sup);
    sup_free(sup);
    launch_child_close(&child);
    prompt_close(prompt);
    store_free(store);
    log_close(log);
    close(sigfd);
    return status;
}
