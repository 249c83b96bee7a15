"""test_handover.py: the launcher (systrace) handing its session to systraced on a private system
bus (run under scripts/with-daemon), and taking it back when the daemon dies. Real launcher, real
daemon, real programs (st-helper), real clients (systracectl attach on a pseudo-terminal)."""
import os
import signal
import subprocess
import tempfile
import time

from lib import Lines, Skip, Terminal, contains, eq, main, need_root, test
from inetd import INETD, asked_then_permitted_always, learned_inetd, request, wait_listening
from supervised import Daemon

SYSTRACE = os.environ.get("SYSTRACE", "build/cli/systrace")
SYSTRACECTL = os.environ.get("SYSTRACECTL", "build/cli/systracectl")
HELPER = os.environ.get("ST_HELPER", "build/tests/helpers/st-helper")
HELPER_PATH = os.path.realpath(HELPER)
BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
CONF = os.environ.get("SYSTRACED_CONF")
SCRATCH = tempfile.mkdtemp(prefix="systrace-handover-scratch-")
_n = [0]
daemon = Daemon()


def need_bus():
    need_root()
    if not BUS or not CONF or not daemon.pid:
        raise Skip("no private bus: run under scripts/with-daemon")


def fresh_path():
    _n[0] += 1
    return os.path.join(SCRATCH, f"d{_n[0]}")


def ctl(*args, timeout=30):
    return subprocess.run([SYSTRACECTL, *args], capture_output=True, text=True, timeout=timeout)


def set_conf(text):
    with open(CONF, "w") as f:
        f.write(text)
    p = ctl("reload")
    eq(p.returncode, 0, p.stderr)


def policy_dir_for(*commands, terminal=False):
    """A policy directory with what COMMANDS of st-helper did, learned in-process (learning is
    never handed over); the calls under test are left out of it."""
    d = tempfile.mkdtemp(prefix="systrace-handover-")
    args = [SYSTRACE, "-A", "-d", d, HELPER, *commands]
    if terminal:
        t = Terminal(args)
        if "pause" in commands:
            t.read_until("pause: waiting")
            t.answer("")
        eq(t.wait(), 0, "learning the start-up")
    else:
        p = subprocess.run(args, input="\n", capture_output=True, text=True, timeout=60)
        eq(p.returncode, 0, p.stderr)
    return d


class Launcher(Lines):
    """systrace -v on pipes; its standard error and the program's output as one stream of lines.
    The program waits at each "pause" for a line on its standard input."""

    def __init__(self, flags, commands, env=None, program=HELPER):
        super().__init__(subprocess.Popen([SYSTRACE, "-v", *flags, program, *commands],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          env=env))

    def go(self):
        self.send("")


def listed_launchers():
    p = ctl("list")
    eq(p.returncode, 0, p.stderr)
    return [int(line.split()[2]) for line in p.stdout.splitlines() if line.strip()]


@test
def the_launcher_hands_over_and_is_listed():
    need_bus()
    d = policy_dir_for("pause", "getpid")
    p1 = fresh_path()
    l = Launcher(["-a", "-d", d], ["pause", "mkdir", p1])
    try:
        line = l.expect(("systrace: supervised by systraced, session ",
                         "systrace: supervising "))
        contains(line, "supervised by systraced, session", "-v says who supervises")
        l.expect(("pause: waiting",))
        assert l.pid in listed_launchers(), f"launcher {l.pid} in {ctl('list').stdout}"
        l.go()
        eq(l.expect(("mkdir",)), f"mkdir {p1}: EPERM", "the daemon enforces the policy")
        eq(l.wait(), 0, "the program's exit status")
        assert not os.path.exists(p1), "the denied mkdir did nothing"
    finally:
        l.close()


@test
def without_a_daemon_the_launcher_supervises_in_process():
    need_bus()
    d = policy_dir_for("getpid")
    p1 = fresh_path()
    # No bus at all.
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={SCRATCH}/no-such-socket")
    l = Launcher(["-a", "-d", d], ["mkdir", p1], env=env)
    try:
        contains(l.expect(("systrace: supervising ",)), "in-process", "-v")
        eq(l.expect(("mkdir",)), f"mkdir {p1}: EPERM", "enforced in-process")
        eq(l.wait(), 0, "exit")
    finally:
        l.close()
    # A bus on which nobody owns the daemon's name.
    daemon.kill()
    try:
        p2 = fresh_path()
        l = Launcher(["-a", "-d", d], ["mkdir", p2])
        try:
            contains(l.expect(("systrace: supervising ",)), "in-process", "-v")
            eq(l.expect(("mkdir",)), f"mkdir {p2}: EPERM", "enforced in-process")
            eq(l.wait(), 0, "exit")
        finally:
            l.close()
    finally:
        daemon.start()


@test
def at_the_session_limit_the_launcher_says_so_and_supervises_in_process():
    need_bus()
    set_conf("max-sessions-per-user = 1\n")
    d = policy_dir_for("pause", "getpid")
    first = Launcher(["-a", "-d", d], ["pause"])
    try:
        contains(first.expect(("systrace: supervised", "systrace: supervising ")),
                 "supervised by systraced", "the first session")
        first.expect(("pause: waiting",))
        p1 = fresh_path()
        second = Launcher(["-a", "-d", d], ["mkdir", p1])
        try:
            line = second.expect(("systrace: systraced: ",))
            contains(line, "max-sessions-per-user", "names the limit")
            contains(line, "supervising in-process", "says what it does instead")
            contains(second.expect(("systrace: supervising ",)), "in-process", "-v")
            eq(second.expect(("mkdir",)), f"mkdir {p1}: EPERM", "still enforced")
            eq(second.wait(), 0, "exit")
        finally:
            second.close()
        first.go()
        eq(first.wait(), 0, "the first session ends normally")
    finally:
        first.close()
        set_conf("")


@test
def a_daemon_killed_mid_question_leaves_nothing_permitted():
    need_bus()
    d = policy_dir_for("pause", "getpid")
    p1, p2 = fresh_path(), fresh_path()
    l = Launcher(["-a", "-d", d], ["pause", "mkdir", p1, "mkdir", p2])
    t = None
    try:
        contains(l.expect(("systrace: supervised", "systrace: supervising ")),
                 "supervised by systraced", "handed over")
        l.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", str(l.pid)])
        t.read_until("Ctrl-C detaches")
        l.go()
        contains(t.read_until("Answer:"), "mkdir", "the daemon asks the attached terminal")
        l.quiet("mkdir", 0.5)  # the call waits for the answer
        daemon.kill()
        contains(l.expect(("systrace: systraced went away",)), "(1 waiting calls asked again)",
                 "the launcher took the waiting call back")
        # Enforce mode in-process: the call the daemon held is decided again, by the policy.
        eq(l.expect(("mkdir",)), f"mkdir {p1}: EPERM", "the held call is denied, not permitted")
        eq(l.expect(("mkdir",)), f"mkdir {p2}: EPERM", "later calls are enforced in-process")
        eq(l.wait(), 0, "the program finishes")
        assert not os.path.exists(p1) and not os.path.exists(p2), "nothing was created"
    finally:
        l.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        daemon.start()


@test
def systrace_t_answers_the_daemons_questions_on_its_terminal():
    need_bus()
    d = policy_dir_for("getpid", terminal=True)
    p1, p2 = fresh_path(), fresh_path()
    t = Terminal([SYSTRACE, "-v", "-t", "-d", d, HELPER, "mkdir", p1, "mkdir", p2])
    try:
        contains(t.read_until("Answer:"), "mkdir", "asked on the launcher's terminal")
        ids = listed_launchers()
        assert t.pid in ids, f"launcher {t.pid} listed in {ids}"
        t.answer("permit-now")
        contains(t.read_until("Answer:"), f"mkdir {p1}: ok", "permitted once")
        t.answer("deny-now")
        eq(t.wait(), 0, "exit")
        contains(t.out.decode(), f"mkdir {p2}: EPERM", "denied once")
    finally:
        if t.status is None:
            os.kill(t.pid, signal.SIGKILL)


@test
def a_question_on_the_terminal_is_asked_again_when_the_daemon_dies():
    need_bus()
    d = policy_dir_for("getpid", terminal=True)
    p1 = fresh_path()
    t = Terminal([SYSTRACE, "-v", "-t", "-d", d, HELPER, "mkdir", p1])
    try:
        first = t.read_until("Answer:")
        contains(first, "supervised by systraced", "handed over")
        contains(first, "mkdir", "asked through the daemon")
        daemon.kill()
        again = t.read_until("Answer:")
        contains(again, "systraced went away", "says so")
        contains(again, "mkdir", "the launcher asks the same call again")
        t.answer("permit-now")
        eq(t.wait(), 0, "exit")
        contains(t.out.decode(), f"mkdir {p1}: ok", "the answer given to the launcher counts")
    finally:
        if t.status is None:
            os.kill(t.pid, signal.SIGKILL)
        daemon.start()


@test
def the_seed_walkthrough_runs_through_the_daemon():
    """inetd (openbsd-inetd) serving ident (ident2) on a test port, its policy learned, the exec
    rule of ident2 removed; then enforced through systraced: listed, attached to, asked, answered
    "always permit", and enforced again once detached. A second service, never learned, shows the
    enforcement."""
    need_bus()
    inetd, policy, policies, ident_port, echo_port = learned_inetd()

    l = Launcher(["-a", "-d", policies], inetd[1:], program=inetd[0])
    t = None
    try:
        contains(l.expect(("systrace: supervised", "systrace: supervising ")),
                 "supervised by systraced", "inetd handed over")
        l.expect(("ADD: ",))  # inetd -d: its service is set up
        assert l.pid in listed_launchers(), f"launcher {l.pid} in {ctl('list').stdout}"
        wait_listening(ident_port, "inetd, enforced")
        t = Terminal([SYSTRACECTL, "attach", str(l.pid)])
        t.read_until("Ctrl-C detaches")
        asked_then_permitted_always(t, ident_port, policy)
        os.kill(t.pid, signal.SIGINT)
        t.wait()
        contains(t.out.decode(), "detached", "Ctrl-C")
        contains(request(ident_port), "USERID", "the written rule permits from now on")
        echo = request(echo_port)
        assert "hello" not in echo and echo.startswith(("closed", "failed: [Errno 104]")), \
            f"detached: an uncovered exec is denied, not asked: got {echo!r}"
        contains(request(ident_port), "USERID", "inetd goes on")
        log = open(os.path.join(os.environ["SYSTRACE_BUS_DIR"], "systraced.log")).read()
        contains(log, 'echo" argv="echo hello" decision=deny errno=EPERM', "the denial is logged")
        l.proc.send_signal(signal.SIGTERM)
        eq(l.wait(), 0, "inetd ends with the launcher's SIGTERM")
    finally:
        l.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)


@test
def the_seed_walkthrough_with_inetd_started_alone_and_systrace_p():
    """inetd started without systrace, then `systrace -p PID /usr/sbin/inetd` from a terminal:
    nothing happens until inetd makes an uncovered call; then the question comes, inetd waits,
    and "permit" lets it go on and is written to the policy."""
    need_bus()
    inetd, policy, policies, ident_port, echo_port = learned_inetd()
    alone = subprocess.Popen(inetd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    t = None
    try:
        wait_listening(ident_port, "inetd, alone")
        t = Terminal([SYSTRACE, "-d", policies, "-p", str(alone.pid), INETD])
        contains(t.read_until("[y/N]"), "rest of its life", "the warning first")
        t.answer("y")
        contains(t.read_until("Ctrl-C detaches"), f"process {alone.pid} attached", "attached")
        time.sleep(0.5)
        assert "Answer:" not in t.out.decode(errors="replace"), "nothing asked before a request"
        asked_then_permitted_always(t, ident_port, policy)
        contains(request(ident_port), "USERID", "the rule permits from now on, unasked")
        os.kill(t.pid, signal.SIGINT)
        t.wait()
        contains(t.out.decode(errors="replace"), f"process {alone.pid} runs on with every call "
                 "permitted", "Ctrl-C detaches the process, as OpenBSD's systrace -p did")
        contains(request(ident_port), "USERID", "inetd goes on")
        contains(request(echo_port), "hello", "unsupervised: the service never learned runs")
        eq(alone.poll(), None, "inetd still runs")
    finally:
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        os.killpg(alone.pid, signal.SIGKILL)
        alone.wait()
    deadline = time.time() + 10
    while str(alone.pid) in [l.split()[1] for l in ctl("list").stdout.splitlines() if l.strip()]:
        assert time.time() < deadline, f"the session outlived inetd: {ctl('list').stdout}"
        time.sleep(0.1)


if __name__ == "__main__":
    main()
