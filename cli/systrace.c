/* systrace: the launcher. Runs a command under a system-call policy (flag-compatible with
 * OpenBSD systrace(1)): -A learns policies, -a enforces them, otherwise uncovered calls are asked
 * on the terminal. Without systraced, the engine runs in this process (embedded mode). */
#include <errno.h>
#include <fcntl.h>
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

#include <dirent.h>
#include <sys/epoll.h>

#include "binary.h"
#include "filter.h"
#include "handover.h"
#include "host.h"
#include "loop.h"
#include "i18n.h"
#include "launch.h"
#include "log.h"
#include "notify.h"
#include "prompt.h"
#include "store.h"
#include "supervise.h"
#include "util.h"

#define EXIT_USAGE       2
#define MAX_POLICY_FILES 64
#define MAX_KEEP_FDS     64
#define TERM_GRACE_NS    (5ull * 1000 * 1000 * 1000)

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
    const char *attach_pid; /* -p: attach to this running process through the daemon */
    bool cradle;            /* -C, -g: ask through systraced's agents, never on the terminal */
    const char *gui;        /* -g: the agent program to start (the applet) */
    const char *files[MAX_POLICY_FILES];
    size_t n_files;
    int keep_fds[MAX_KEEP_FDS];
    size_t n_keep_fds;
    char **command;
};

static void usage(FILE *out)
{
    fprintf(
        out, "%s",
        _("Usage: systrace [-AaeitUuVvw] [-c user:group] [-d policydir] [-E logfile] [-f file]\n"
          "                [-g gui] [-p pid] command [args…]\n"
          "\n"
          "  -A, --learn                record every call and write a policy per program\n"
          "  -a, --enforce              deny (EPERM) and log what the policy does not cover\n"
          "  -t, --terminal             ask about uncovered calls on the terminal (the default\n"
          "                             without -A and -a when a terminal is attached)\n"
          "  -w, --complain             enforce, but permit what would be denied and log it as\n"
          "                             decision=would-deny (not an OpenBSD flag)\n"
          "  -c, --user USER:GROUP      run the command as USER and GROUP (root only)\n"
          "  -d, --policy-dir DIR       user policy directory (default ~/.systrace)\n"
          "  -e, --log-stderr           log to standard error instead of syslog\n"
          "  -E, --log-file FILE        append the log to FILE\n"
          "  -f, --policy-file FILE     add the policies in FILE (searched first)\n"
          "  -i, --inherit              every process keeps the first program's policy\n"
          "  -k, --keep-fd FD           let the program inherit descriptor FD (others above 2\n"
          "                             are closed)\n"
          "  -U, --no-user-policies     use only the system policies (/etc/systrace)\n"
          "  -u, --no-aliases           no fsread/fswrite aliases\n"
          "  -v, --verbose              say what the launcher does\n"
          "  -V, --version              print the version\n"
          "  -p, --pid PID              attach to running process PID through systraced and\n"
          "                             answer its questions here (the program, if given,\n"
          "                             must be its binary)\n"
          "  -C, --cradle               ask through systraced's agents (the desktop's\n"
          "                             systrace-applet), never on the terminal\n"
          "  -g, --gui PROGRAM          as -C, and start PROGRAM (systrace-applet) first\n"
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
        {"keep-fd", required_argument, NULL, 'k'},
        {"complain", no_argument, NULL, 'w'},
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
    while ((c = getopt_long(argc, argv, "+AaCc:d:eE:f:g:ik:p:tUuvVwh", longopts, NULL)) != -1) {
        switch (c) {
        case 'A':
        case 'a':
        case 'w': {
            enum sup_mode m = c == 'A' ? SUP_LEARN : c == 'a' ? SUP_ENFORCE : SUP_COMPLAIN;
            if (o->mode_set && o->mode != m) {
                fprintf(stderr, "%s", _("systrace: -A, -a and -w cannot be combined\n"));
                return EXIT_USAGE;
            }
            o->mode = m;
            o->mode_set = true;
            break;
        }
        case 'k': {
            char *end;
            long fd = strtol(optarg, &end, 10);
            if (*end || end == optarg || fd < 3 || fd > 1 << 20 || o->n_keep_fds == MAX_KEEP_FDS) {
                fprintf(stderr, _("systrace: -k takes a descriptor number above 2, not '%s'\n"),
                        optarg);
                return EXIT_USAGE;
            }
            o->keep_fds[o->n_keep_fds++] = (int)fd;
            break;
        }
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
        case 'p':
            o->attach_pid = optarg;
            break;
        case 'g':
            o->gui = optarg;
            /* fall through */
        case 'C':
            o->cradle = true;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (o->attach_pid && argc - optind > 1) {
        fprintf(stderr, "%s", _("systrace: -p takes at most one program: the process's binary\n"));
        return EXIT_USAGE;
    }
    if (optind >= argc && !o->attach_pid) {
        usage(stderr);
        return EXIT_USAGE;
    }
    o->command = argv + optind;
    if (!o->mode_set)
        o->mode = SUP_ASK;
    if (o->cradle &&
        (o->terminal || o->mode == SUP_LEARN || o->attach_pid || o->log_stderr || o->log_file)) {
        fprintf(stderr, "%s",
                _("systrace: -C and -g ask through systraced: not with -t, -A, -p, -e or -E\n"));
        return EXIT_USAGE;
    }
    return 0;
}

/* -g PROGRAM: the user's agent, started on its own (a running applet takes the call over and
 * the new one ends); the daemon keeps questions for it until it registers. Should the daemon
 * not take the session, the program is not run, and the agent stays for the next one. */
static void start_gui(const char *program)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            waitpid(pid, NULL, 0); /* it ends at once, leaving the agent to init */
        return;
    }
    setsid();
    /* Nothing of the launcher's: a pipe it holds open would keep the launcher's readers
     * waiting for as long as the agent runs. Failing to start it is said on the real stderr. */
    int err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; null >= 0 && fd <= 2; fd++)
        dup2(null, fd);
    if (fork() == 0) { /* not the launcher's child: its exit status is the program's */
        execlp(program, program, (char *)NULL);
        dprintf(err, _("systrace: -g %s: %s\n"), program, strerror(errno));
    }
    _exit(0);
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

/* One supervised run: the loop's view of the launch child and its tree. */
struct run {
    struct loop *loop;
    struct sup *sup;
    pid_t child;      /* the guardian, whose exit status is the program's */
    pid_t child_pgid; /* the program leads a session and process group of its own */
    int status;       /* the program's exit status, -1 while the tree runs */
    bool ending;      /* asked to end the tree (SIGTERM, SIGHUP) */
    struct loop_timer *kill_timer;
    struct launch_child *launch;
    int signal_fd;
    struct loop_watch *report_watch; /* the child's report of its exec, until it came */
    struct host *host;
    const char *command;
    /* Handed over: the daemon supervises; the launcher keeps LISTENER and the session's
     * configuration to take it back (SC, its asker filled in then). */
    struct handover *handover;
    int listener;
    struct sup_config sc;
    bool ask_on_terminal;
    struct prompt *prompt;
    int agent_fd; /* the terminal the daemon's questions are answered on, or -1 */
};

static void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

/* Signals every process the launcher is the ancestor of (through /proc), and the known ones. */
static void signal_tree(struct run *run, int sig)
{
    kill(-run->child_pgid, sig);
    if (run->sup)
        sup_signal_all(run->sup, sig);
    pid_t self = getpid();
    _cleanup_(closedirp) DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self)
            continue;
        /* Descends from the launcher (orphans are handed to it, as a subreaper)? */
        long p = pid;
        for (int depth = 0; depth < 64 && p > 1 && p != self; depth++) {
            char path[48];
            snprintf(path, sizeof(path), "/proc/%ld/stat", p);
            _cleanup_fclose_ FILE *f = fopen(path, "re");
            char buf[512];
            if (!f || !fgets(buf, sizeof(buf), f))
                break;
            const char *rp = strrchr(buf, ')');
            long ppid;
            if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1)
                break;
            p = ppid;
        }
        if (p == self && !host_owns_pid(run->host, pid))
            kill((pid_t)pid, sig);
    }
}

static void on_kill_timer(void *data)
{
    struct run *run = data;
    loop_timer_cancel(run->loop, run->kill_timer);
    run->kill_timer = NULL;
    signal_tree(run, SIGKILL);
}

/* Whether process PID is a zombie (a "Z" in its stat). */
static bool is_zombie(long pid)
{
    char path[48], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f || !fgets(buf, sizeof(buf), f))
        return false;
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Reaps whatever ended: the child, and orphans handed to the launcher. Only zombies, by pid: a
 * wait for any child would also take the ptrace stops that the exec watchers (threads of this
 * process) wait for. The tree has ended when no child is left and the child's status is known. */
static void reap(struct run *run)
{
    unsigned left = 0;
    _cleanup_(closedirp) DIR *tasks = opendir("/proc/self/task");
    for (struct dirent *t; tasks && (t = readdir(tasks));) {
        if (t->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", t->d_name);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        long pid;
        while (f && fscanf(f, "%ld", &pid) == 1) {
            siginfo_t si = {0};
            if (!is_zombie(pid) || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | __WALL) < 0 ||
                !si.si_pid) {
                left += !host_owns_pid(run->host, pid);
                continue;
            }
            if (pid == run->child)
                run->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        }
    }
    if (!left && run->status >= 0)
        loop_quit(run->loop); /* the whole tree has ended */
}

static void on_signal(void *data, uint32_t events)
{
    (void)events;
    struct run *run = data;
    int fd = run->signal_fd;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int sig = (int)si.ssi_signo;
        switch (sig) {
        case SIGCHLD:
            reap(run);
            break;
        case SIGTERM:
        case SIGHUP:
            /* The whole tree ends, a daemon that left the process group too: TERM, then KILL
             * after a grace period. */
            signal_tree(run, sig);
            if (!run->kill_timer)
                run->kill_timer =
                    loop_timer_add(run->loop, loop_now_ns() + TERM_GRACE_NS, on_kill_timer, run);
            run->ending = true;
            break;
        case SIGTSTP:
            /* The terminal stops its foreground job: the program's group, then the launcher. */
            kill(-run->child_pgid, SIGTSTP);
            raise(SIGSTOP);
            break;
        case SIGCONT:
            kill(-run->child_pgid, SIGCONT);
            break;
        default: /* SIGINT, SIGQUIT, SIGWINCH: what the terminal sends its foreground job */
            kill(-run->child_pgid, sig);
            break;
        }
    }
}

static void on_exec_report(void *data, uint32_t events)
{
    (void)events;
    struct run *run = data;
    loop_unwatch(run->loop, run->report_watch);
    run->report_watch = NULL;
    int e = launch_exec_result(run->launch);
    if (e)
        fprintf(stderr, "systrace: %s: %s\n", run->command, strerror(e));
}

static int answer_to_sup(void *data, void *session, uint64_t token, const struct sup_answer *a)
{
    (void)data;
    return sup_answer(session, token, a);
}

/* The session's in-process supervisor, on the launcher's listener. */
static int supervise_here(struct run *run, int launch_pidfd)
{
    if (run->ask_on_terminal && !run->prompt &&
        prompt_open("/dev/tty", run->loop, answer_to_sup, NULL, &run->prompt) < 0)
        run->prompt = NULL;
    if (run->sc.mode == SUP_ASK && !run->prompt)
        fprintf(stderr, "%s", _("systrace: no terminal to ask on: uncovered calls are denied\n"));
    run->sc.listener = run->listener;
    run->sc.asker = run->prompt ? &prompt_asker : NULL;
    run->sc.asker_data = run->prompt;
    struct sup *sup;
    int r = sup_new(run->host, &run->sc, &sup);
    if (r < 0)
        return r;
    run->listener = -1; /* the session's from here on */
    run->sup = sup;
    if (launch_pidfd >= 0)
        r = sup_add_launch_child(sup, launch_pidfd);
    if (r == 0)
        r = sup_start(sup);
    return r;
}

/* The daemon went away (a posted job: the bus callback that noticed must return first). The
 * calls it had received and not answered stay pending in the kernel, for good: the launcher
 * holds a copy of the listener, and a new receiver never sees them. Those that waited for a
 * question were sent here as they came (Session1.Held): the launcher decides them again. Every
 * other call is received here from now on. */
static void take_over(void *data)
{
    struct run *run = data;
    /* Not the launch child: it has executed the program, and its calls are the program's. */
    int r = supervise_here(run, -1);
    if (r < 0) {
        fprintf(stderr,
                _("systrace: systraced went away and the session cannot be taken back "
                  "(%s): killing the program\n"),
                strerror(-r));
        signal_tree(run, SIGKILL);
    } else {
        const struct seccomp_notif *held;
        size_t n = handover_held(run->handover, &held);
        unsigned adopted = 0;
        for (size_t i = 0; i < n; i++)
            if (notify_id_valid(run->sc.listener, held[i].id)) {
                sup_adopt(run->sup, &held[i]);
                adopted++;
            }
        fprintf(stderr,
                _("systrace: systraced went away: supervising in-process (%u waiting calls "
                  "asked again)\n"),
                adopted);
    }
    handover_free(run->handover);
    run->handover = NULL;
}

static void daemon_gone(void *data)
{
    struct run *run = data;
    loop_post(run->loop, take_over, run);
}

/* Hands the session to systraced; false when the launcher supervises it itself. */
static bool hand_over(struct run *run, const struct options *o, const char *program,
                      const char *const *files, int pidfd, unsigned *ret_id)
{
    /* The daemon takes absolute paths only: it does not share the launcher's directory. */
    _cleanup_free_ char *policy_dir = o->policy_dir ? realpath(o->policy_dir, NULL) : NULL;
    int tty = -1;
    if (run->ask_on_terminal)
        tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct handover_options ho = {
        .loop = run->loop,
        .listener = run->listener,
        .pidfd = pidfd,
        .mode = o->mode,
        .program = program,
        .argv = o->command,
        .policy_dir = policy_dir ? policy_dir : o->policy_dir,
        .files = files,
        .n_files = o->n_files,
        .no_user = o->no_user,
        .inherit = o->inherit,
        .no_alias = o->no_alias,
        .agent_fd = tty,
        .agent_fallback = !o->terminal,
        .gone = daemon_gone,
        .data = run,
    };
    char *error = NULL;
    int r = handover_start(&ho, &run->handover, ret_id, &error);
    if (r < 0) {
        /* No daemon is the usual case; a refusal is worth a line. */
        if (r != -ENOENT && r != -ECONNREFUSED)
            fprintf(stderr, _("systrace: systraced: %s: supervising in-process\n"), error);
        else if (o->verbose)
            fprintf(stderr, _("systrace: no daemon (%s)\n"), error);
        if (tty >= 0)
            close(tty);
    } else if (error) {
        fprintf(stderr, _("systrace: systraced: %s\n"), error);
    }
    free(error);
    run->agent_fd = r == 0 ? tty : -1;
    return r == 0;
}

/* -p PID [program]: OpenBSD's way to attach to a running process. Here the daemon does it and
 * this program is only the agent that answers: it becomes `systracectl attach`, which lives
 * beside it. */
static int attach_through_daemon(const struct options *o)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) {
        fprintf(stderr, "systrace: /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    _cleanup_free_ char *ctl = xasprintf("%.*s/systracectl", (int)(slash - self), self);
    const char *args[16];
    size_t k = 0;
    args[k++] = ctl;
    args[k++] = "attach";
    if (!o->terminal)
        args[k++] = "--gui"; /* the applet asks when it runs, as OpenBSD's GUI did without -t */
    if (o->mode_set) {
        args[k++] = "--mode";
        args[k++] = sup_mode_name(o->mode);
    }
    if (o->policy_dir) {
        args[k++] = "--policy-dir";
        args[k++] = o->policy_dir;
    }
    if (o->command && o->command[0]) {
        args[k++] = "--program";
        args[k++] = o->command[0];
    }
    args[k++] = o->attach_pid;
    args[k] = NULL;
    execv(ctl, (char *const *)args);
    fprintf(stderr, _("systrace: -p needs %s: %s\n"), ctl, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    i18n_init();
    struct options o = {0};
    int r = parse_args(argc, argv, &o);
    if (r)
        return r;
    if (o.attach_pid)
        return attach_through_daemon(&o);
    struct creds creds = {0};
    if (o.user_group) {
        if (geteuid() != 0) {
            fprintf(stderr, "%s", _("systrace: -c needs root\n"));
            return EXIT_USAGE;
        }
        if (parse_user_group(o.user_group, &creds) < 0)
            return EXIT_USAGE;
    }
    for (size_t i = 0; i < o.n_keep_fds; i++) {
        char link[48], target[64] = "";
        snprintf(link, sizeof(link), "/proc/self/fd/%d", o.keep_fds[i]);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0) {
            fprintf(stderr, _("systrace: -k %d: no such descriptor\n"), o.keep_fds[i]);
            return EXIT_USAGE;
        }
        target[n] = '\0';
        /* An io_uring's operations are never seen by seccomp: it would bypass every rule. */
        if (strstr(target, "io_uring")) {
            fprintf(stderr, _("systrace: -k %d: an io_uring cannot be passed to the program\n"),
                    o.keep_fds[i]);
            return EXIT_USAGE;
        }
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

    /* Before the signals are blocked and the launcher becomes a subreaper: the agent must
     * inherit neither, nor be waited for as part of the supervised tree. */
    if (o.gui)
        start_gui(o.gui);

    /* Signals are taken by a signalfd on the loop, blocked before any thread starts so that
     * none of the engine's threads takes them (the child unblocks them all). */
    sigset_t mask;
    sigemptyset(&mask);
    static const int taken[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                SIGCHLD, SIGTSTP, SIGCONT, SIGWINCH};
    for (size_t i = 0; i < ARRAY_SIZE(taken); i++)
        sigaddset(&mask, taken[i]);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    struct loop *loop;
    struct host *host;
    r = loop_new(&loop);
    if (r == 0) {
        struct host_options ho = {.loop = loop};
        r = host_new(&ho, &host);
    }
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot start the supervisor: %s\n"), strerror(-r));
        return 1;
    }

    struct filter_plan plan;
    struct store_policy base = {0};
    if (o.mode == SUP_LEARN)
        filter_plan_learn(&plan,
                          store_get_abstraction(store, "base", &base) == 0 ? base.policy : NULL);
    else
        filter_plan_session(&plan, store, program, o.mode == SUP_ASK, o.inherit,
                            o.mode == SUP_COMPLAIN);
    struct sock_fprog prog;
    r = filter_compile(&plan, &prog);
    if (r < 0) {
        fprintf(stderr, _("systrace: cannot build the filter: %s\n"), strerror(-r));
        return 1;
    }

    struct launch_options lo = {
        .path = program,
        .argv = o.command,
        .set_creds = o.user_group != NULL,
        .uid = creds.uid,
        .gid = creds.gid,
        .groups = creds.groups,
        .n_groups = (size_t)creds.n_groups,
        .filter = &prog,
        .keep_fds = o.keep_fds,
        .n_keep_fds = o.n_keep_fds,
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
    /* The guardian is the launcher's only child: its exit status is the program's, once the
     * whole tree has ended. */
    host_add_own_pid(host, child.guardian);
    struct run run = {.loop = loop,
                      .child = child.guardian,
                      .child_pgid = child.pid,
                      .status = -1,
                      .launch = &child,
                      .signal_fd = sigfd,
                      .host = host,
                      .command = o.command[0],
                      .listener = child.listener,
                      .ask_on_terminal =
                          o.mode == SUP_ASK && !o.cradle && (o.terminal || isatty(STDIN_FILENO)),
                      .agent_fd = -1};
    child.listener = -1; /* the run's from here on */
    run.sc = (struct sup_config){
        .mode = o.mode,
        .store = store,
        .log = log,
        .inherit = o.inherit,
        .no_alias = o.no_alias,
        .first_binary = program,
        .plan = o.mode == SUP_LEARN ? NULL : &plan,
        .learn_include = base.policy ? "base" : NULL,
    };
    /* The daemon takes sessions of the caller's own: not those run as another user (-c), and
     * learning stays here, where the closing summary of the files written is printed. */
    const char *files[MAX_POLICY_FILES];
    char *resolved[MAX_POLICY_FILES] = {0};
    for (size_t i = 0; i < o.n_files; i++)
        files[i] = (resolved[i] = realpath(o.files[i], NULL)) ? resolved[i] : o.files[i];
    unsigned session_id = 0;
    /* -e and -E ask for the log here: the daemon logs to syslog. */
    bool handed = o.mode != SUP_LEARN && !o.user_group && !o.log_stderr && !o.log_file &&
                  hand_over(&run, &o, program, files, child.pidfd, &session_id);
    for (size_t i = 0; i < o.n_files; i++)
        free(resolved[i]);
    if (o.cradle && !handed) {
        fprintf(stderr, "%s",
                _("systrace: -C and -g ask through systraced, which did not take the session: "
                  "the program was not run\n"));
        kill(child.pid, SIGKILL);
        return 1;
    }
    if (handed) {
        if (o.verbose)
            fprintf(stderr, _("systrace: supervised by systraced, session %u\n"), session_id);
    } else {
        if (o.verbose)
            fprintf(stderr, _("systrace: supervising %s (pid %d) in-process\n"), program,
                    child.pid);
        r = supervise_here(&run, child.pidfd);
        if (r < 0) {
            fprintf(stderr, _("systrace: cannot start the supervisor: %s\n"), strerror(-r));
            kill(child.pid, SIGKILL);
            return 1;
        }
    }
    struct loop_watch *sigwatch = NULL;
    loop_watch_fd(loop, sigfd, EPOLLIN, on_signal, &run, &sigwatch);
    loop_watch_fd(loop, child.report_fd, EPOLLIN | EPOLLHUP, on_exec_report, &run,
                  &run.report_watch);
    loop_run(loop);
    loop_unwatch(loop, sigwatch);
    if (run.report_watch) {
        loop_unwatch(loop, run.report_watch);
        run.report_watch = NULL;
        int e = launch_exec_result(&child);
        if (e)
            fprintf(stderr, "systrace: %s: %s\n", o.command[0], strerror(e));
    }
    loop_timer_cancel(loop, run.kill_timer);
    handover_free(run.handover);
    if (run.agent_fd >= 0)
        close(run.agent_fd);
    if (run.listener >= 0)
        close(run.listener);
    if (run.sup) {
        sup_stop(run.sup);
        if (o.mode == SUP_LEARN)
            print_learned(run.sup);
    }
    prompt_close(run.prompt);
    sup_free(run.sup);
    launch_child_close(&child);
    host_free(host);
    loop_free(loop);
    store_policy_release(&base);
    store_free(store);
    log_close(log);
    close(sigfd);
    return run.status < 0 ? 1 : run.status;
}
