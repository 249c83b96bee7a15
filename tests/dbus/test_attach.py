"""test_attach.py: Daemon1.Attach on real programs started outside systrace (run under
scripts/with-daemon): systracectl attach and systrace -p put them under supervision, a terminal
agent answers, every thread and child is covered, and each refusal (another user's process, a
process under strace, one with a listener already, a 32-bit one, one that ends) leaves the
process as it was and the daemon running."""
import array
import json
import os
import select
import socket
import shutil
import signal
import subprocess
import tempfile
import time

from lib import Lines, Skip, Terminal, contains, eq, main, need_root, test
from supervised import Daemon

SYSTRACECTL = os.environ.get("SYSTRACECTL", "build/cli/systracectl")
SYSTRACE = os.environ.get("SYSTRACE", "build/cli/systrace")
HELPERS = os.path.dirname(os.environ.get("ST_HELPER", "build/tests/helpers/st-helper"))
THREADS = os.path.realpath(os.path.join(HELPERS, "st-threads"))
INJECT = os.path.join(HELPERS, "st-inject")
BIT32 = os.path.join(HELPERS, "st-32bit")
BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
DAEMON = Daemon()
NOBODY = [shutil.which("setpriv") or "/usr/bin/setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
SCRATCH = tempfile.mkdtemp(prefix="systrace-attach-")
os.chmod(SCRATCH, 0o777)

# What st-threads does besides mkdir: with this policy only mkdir is asked about.
THREADS_CALLS = ["read", "write", "futex", "clock_nanosleep", "restart_syscall", "accept",
                 "accept4", "close", "socket", "connect", "exit", "exit_group", "sched_yield",
                 "rt_sigprocmask", "madvise", "munmap", "mmap", "mprotect", "brk", "getpid",
                 "gettid", "rseq", "set_robust_list", "newfstatat", "fstat", "lseek", "ioctl"]


def need_bus():
    need_root()
    if not BUS:
        raise Skip("no private bus: run under scripts/with-daemon")


def policy_dir(owner=None):
    d = tempfile.mkdtemp(prefix="policies-", dir=SCRATCH)
    name = THREADS.lstrip("/")
    name = "".join(c if c.isalnum() else "_" for c in name)
    with open(os.path.join(d, name), "w") as f:
        f.write(f"Policy: {THREADS}, Emulation: native\n")
        for c in THREADS_CALLS:
            f.write(f"\tnative-{c}: permit\n")
    if owner:
        shutil.chown(d, owner)
        shutil.chown(os.path.join(d, name), owner)
    return d


def ctl(*args, user=None, timeout=30):
    cmd = (NOBODY if user == "nobody" else []) + [SYSTRACECTL, *args]
    # An empty pipe for standard input: the terminal agent reads it (and finds its end).
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input="")


def busctl(*args, user=None):
    cmd = (NOBODY if user == "nobody" else []) + [
        "busctl", f"--address={BUS}", "call", "org.systrace.Daemon1", "/org/systrace/Daemon1",
        "org.systrace.Daemon1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def daemon_alive():
    try:
        if DAEMON.pid and not DAEMON.alive():
            raise AssertionError("systraced is gone")
        eq(ctl("status").returncode, 0, "the daemon answers")
    except Exception:
        log = os.path.join(os.environ.get("SYSTRACE_BUS_DIR", "/nonexistent"), "systraced.log")
        if os.path.exists(log):
            print("# " + "\n# ".join(open(log).read().splitlines()[-30:]))
        raise


class Program(Lines):
    """st-threads started alone (not by systrace), fed by a pipe, read line by line."""

    def __init__(self, user=None, extra=12, argv=None):
        args = (NOBODY if user else []) + (argv or [THREADS])
        super().__init__(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          env=dict(os.environ, ST_THREADS=str(extra))))
        ready = self.expect("ready ")
        self.pid = int(ready.split("pid=")[1])
        time.sleep(0.3)  # every thread in its blocking call

    def errors(self):
        return [l for l in self.lines if l.startswith("ERROR")]


def status(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    with open(path) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def filters(pid):
    """Every thread's Seccomp_filters, by thread."""
    return {t: status(pid, t)["Seccomp_filters"] for t in os.listdir(f"/proc/{pid}/task")}


def state(pid):
    return {t: (s["Seccomp_filters"], s["SigBlk"], s["NoNewPrivs"], s["TracerPid"])
            for t in os.listdir(f"/proc/{pid}/task") for s in [status(pid, t)]}


def sessions():
    p = ctl("--json", "list")
    eq(p.returncode, 0, p.stderr)
    return json.loads(p.stdout)


def session_of(pid):
    for s in sessions():
        if s["pid"] == pid:
            return s
    return None


def refused(pid, want):
    r = ctl("attach", "--yes", str(pid))
    eq(r.returncode, 1, r.stdout + r.stderr)
    contains(r.stderr, want, "the refusal")
    return r


def wait_gone(pid, timeout=10):
    deadline = time.time() + timeout
    while session_of(pid) and time.time() < deadline:
        time.sleep(0.05)
    eq(session_of(pid), None, f"the session of {pid} ended")


@test
def a_running_program_is_attached_answered_and_detached():
    need_bus()
    d = policy_dir()
    p = Program()
    t = None
    try:
        before = state(p.pid)
        eq(len(before), 16, "threads")
        t = Terminal([SYSTRACECTL, "attach", "--policy-dir", d, str(p.pid)])
        text = t.read_until("[y/N]")
        contains(text, "rest of its life", "the warning")
        if "no_new_privs" in text:
            raise AssertionError("root's process holds CAP_SYS_ADMIN: no no_new_privs warning")
        t.answer("y")
        contains(t.read_until("Ctrl-C detaches"), f"process {p.pid} attached as session")
        for tid, n in filters(p.pid).items():
            eq(n, "1", f"thread {tid} is supervised")
        s = session_of(p.pid)
        eq((s["mode"], s["exe"], s["launcher_pid"]), ("ask", THREADS, 0), "the session")
        # The main thread was stopped in read(2) on its pipe: it reads the next line.
        p.send("line after the attach")
        p.expect("read: line after the attach")
        path = os.path.join(SCRATCH, f"asked-{p.pid}")
        p.send(f"mkdir {path}")
        text = t.read_until("Answer:")
        contains(text, "mkdir", "the question")
        contains(text, path, "its argument")
        p.quiet("mkdir", 0.5)  # the program waits for the answer
        t.answer("permit-now")
        eq(p.expect("mkdir "), f"mkdir {path}: ok")
        p.send("connect")
        p.expect("accepted")
        p.send("futex")
        p.expect("futex woke 1")
        p.expect("tick ")
        eq(p.errors(), [], "no call failed with EINTR or anything it would not get natively")
        after = state(p.pid)
        for tid in after:
            eq(after[tid][1:], before[tid][1:], f"thread {tid}: mask, no_new_privs, tracer")
        # Detach: the filter stays, the daemon lets through what it does not deny.
        r = ctl("detach", str(p.pid))
        eq(r.returncode, 0, r.stderr)
        eq(session_of(p.pid)["detached"], True, "listed as detached while the process runs")
        path2 = path + "-after-detach"
        p.send(f"mkdir {path2}")
        eq(p.expect("mkdir "), f"mkdir {path2}: ok")
        eq(filters(p.pid)[str(p.pid)], "1", "the filter stays")
        p.send("quit")
        p.proc.wait(timeout=10)
        wait_gone(p.pid)
        daemon_alive()
    finally:
        if t:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        p.close()


@test
def systrace_p_is_the_openbsd_spelling():
    need_bus()
    d = policy_dir()
    p = Program(extra=0)
    t = None
    try:
        r = subprocess.run([SYSTRACE, "-p", str(p.pid), "/bin/true"], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        eq(r.returncode, 1, r.stderr)
        # Not a terminal and no --yes: nothing is done, and it says how.
        contains(r.stderr, "--yes")
        t = Terminal([SYSTRACE, "-d", d, "-p", str(p.pid), "/bin/true"])
        t.read_until("[y/N]")
        t.answer("y")
        t.wait()
        contains(t.out.decode(errors="replace"), f"runs {THREADS}, not /bin/true")
        eq(t.status, 1, "the program must be the process's binary")
        eq(filters(p.pid)[str(p.pid)], "0", "refused: unchanged")
        t = Terminal([SYSTRACE, "-d", d, "-p", str(p.pid), THREADS])
        t.read_until("[y/N]")
        t.answer("yes")
        t.read_until("Ctrl-C detaches")
        p.send(f"mkdir {SCRATCH}/by-p")
        contains(t.read_until("Answer:"), "mkdir")
        t.answer("deny-now[eacces]")
        eq(p.expect("mkdir "), f"mkdir {SCRATCH}/by-p: Permission denied")
    finally:
        if t:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        p.close()
    daemon_alive()


@test
def a_user_attaches_their_own_process_not_roots():
    need_bus()
    d = policy_dir(owner="nobody")
    mine = Program(user="nobody", extra=0)
    roots = Program(extra=0)
    t = None
    try:
        before = state(roots.pid)
        r = ctl("attach", "--yes", str(roots.pid), user="nobody")
        eq(r.returncode, 1, r.stderr)
        contains(r.stderr, "not yours")
        eq(state(roots.pid), before, "root's process after the refusal")
        r = busctl("Attach", "ia{sv}", str(roots.pid), "0", user="nobody")
        contains(r.stderr, "not yours")
        # Their own: the warning names no_new_privs; "n" leaves it alone.
        t = Terminal(NOBODY + [SYSTRACECTL, "attach", "--policy-dir", d, str(mine.pid)])
        contains(t.read_until("[y/N]"), "no_new_privs")
        t.answer("n")
        t.wait()
        eq(t.status, 1, "declined")
        eq(status(mine.pid)["NoNewPrivs"], "0", "declined: unchanged")
        eq(filters(mine.pid)[str(mine.pid)], "0", "declined: unchanged")
        t = Terminal(NOBODY + [SYSTRACECTL, "attach", "--yes", "--policy-dir", d,
                               str(mine.pid)])
        t.read_until("Ctrl-C detaches")
        for tid, (n, _, nnp, _) in state(mine.pid).items():
            eq((n, nnp), ("1", "1"), f"thread {tid}: the filter and no_new_privs")
        eq(session_of(mine.pid)["user"], "nobody", "the session is the owner's")
        mine.send(f"mkdir {SCRATCH}/nobody-asked")
        contains(t.read_until("Answer:"), "mkdir")
        t.answer("permit-now")
        eq(mine.expect("mkdir "), f"mkdir {SCRATCH}/nobody-asked: ok")
    finally:
        if t:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        mine.close()
        roots.close()
    daemon_alive()


@test
def a_process_under_strace_is_refused_unchanged():
    need_bus()
    p = Program(extra=0)
    tracer = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-p", str(p.pid)],
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while status(p.pid)["TracerPid"] == "0":
            if time.time() > deadline:
                raise AssertionError("strace did not attach")
            time.sleep(0.05)
        before = state(p.pid)
        refused(p.pid, "is it under gdb or strace?")
        eq(state(p.pid), before, "the process after the refusal")
        eq(session_of(p.pid), None, "no session")
    finally:
        tracer.kill()
        tracer.wait()
        p.close()
    daemon_alive()


@test
def a_process_with_a_listener_already_is_refused_unchanged():
    need_bus()
    p = Program(extra=0)
    other = subprocess.Popen([INJECT, str(p.pid), "mkdir"], stdout=subprocess.PIPE, text=True)
    d = policy_dir()
    t = None
    try:
        contains(other.stdout.readline(), "attached ")
        before = state(p.pid)
        refused(p.pid, "already has a seccomp listener")
        eq(state(p.pid), before, "the process after the refusal")
        other.kill()
        other.wait()
        # One the daemon supervises already: Attach says so; systracectl attach answers it.
        q = Program(extra=0)
        try:
            t = Terminal([SYSTRACECTL, "attach", "--yes", "--policy-dir", d, str(q.pid)])
            t.read_until("Ctrl-C detaches")
            r = busctl("Attach", "ia{sv}", str(q.pid), "0")
            contains(r.stderr, "supervised by session")
            eq(filters(q.pid)[str(q.pid)], "1", "one filter")
            second = Terminal([SYSTRACECTL, "attach", str(q.pid)])
            text = second.read_until("Ctrl-C detaches")
            contains(text, "attached to session", "an agent for the session, no new attach")
            os.kill(second.pid, signal.SIGTERM)
            second.wait()
        finally:
            q.close()
    finally:
        if t:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        if other.poll() is None:
            other.kill()
            other.wait()
        p.close()
    daemon_alive()


@test
def children_alive_are_attached_and_answered_by_the_same_agent():
    need_bus()
    d = policy_dir()
    fifo = os.path.join(SCRATCH, "child-in")
    os.mkfifo(fifo)
    out = os.path.join(SCRATCH, "child-out")
    shell = subprocess.Popen(["sh", "-c", f'"{THREADS}" <"{fifo}" >"{out}" & wait'],
                             start_new_session=True)
    t = None
    feed = open(fifo, "w")
    try:
        deadline = time.time() + 10
        while not os.path.exists(out) or "ready" not in open(out).read():
            if time.time() > deadline:
                raise AssertionError("the child did not start")
            time.sleep(0.05)
        child = int(open(out).read().split("pid=")[1].split()[0])
        t = Terminal([SYSTRACECTL, "attach", "--yes", "--policy-dir", d, str(shell.pid)])
        # The shell's first question may come in the same read as the attach message.
        early = t.read_until("Ctrl-C detaches").split("Ctrl-C detaches", 1)[1]
        deadline = time.time() + 5
        while not session_of(child) and time.time() < deadline:
            time.sleep(0.05)
        eq(session_of(child)["exe"], THREADS, "the child has a session")
        for tid, n in filters(child).items():
            eq(n, "1", f"child thread {tid}")
        eq(filters(shell.pid)[str(shell.pid)], "1", "the shell")
        feed.write(f"mkdir {SCRATCH}/from-child\n")
        feed.flush()
        # The shell has no policy: its own calls are asked too, on the same terminal.
        for _ in range(20):
            question = early if "Answer:" in early else early + t.read_until("Answer:")
            early = ""
            t.answer("permit-now")
            if f"{SCRATCH}/from-child" in question:
                contains(question, f"{THREADS}[{child}]", "asked about the child")
                break
        else:
            raise AssertionError("the child's question never came")
        deadline = time.time() + 5
        while "from-child: ok" not in open(out).read():
            if time.time() > deadline:
                raise AssertionError("the child's mkdir: " + open(out).read()[-300:])
            time.sleep(0.05)
    finally:
        feed.close()
        if t:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
    daemon_alive()


@test
def a_32bit_process_and_gone_processes_are_refused():
    need_bus()
    if not os.path.exists(BIT32):
        raise Skip("no st-32bit helper (the compiler cannot build i386 code)")
    p = subprocess.Popen([BIT32])
    try:
        time.sleep(0.2)
        refused(p.pid, "not a native 64-bit program")
        eq(status(p.pid)["Seccomp_filters"], "0")
    finally:
        p.kill()
        p.wait()
    q = subprocess.Popen(["true"])
    q.wait()
    r = busctl("Attach", "ia{sv}", str(q.pid), "0")
    contains(r.stderr, "no process")
    r = busctl("Attach", "ia{sv}", "0", "0")
    contains(r.stderr, "no process")
    r = busctl("Attach", "ia{sv}", "1", "1", "bogus", "s", "x")
    contains(r.stderr, "bogus")
    # Processes that end while they are attached: each attempt ends cleanly. Enforcing, with
    # no policy: nothing waits for an answer nobody is there to give.
    for i in range(15):
        s = subprocess.Popen(["sh", "-c", f"sleep 0.0{i % 10}"])
        r = busctl("Attach", "ia{sv}", str(s.pid), "2", "only-process", "b", "true",
                   "mode", "s", "enforce")
        s.wait(30)
        if r.returncode != 0 and not any(w in r.stderr for w in ("no process", "ended", "gone")):
            raise AssertionError(f"attach to an ending process: {r.stderr}")
    daemon_alive()


@test
def the_daemon_refuses_once_to_stop_while_a_process_is_attached():
    need_bus()
    d = policy_dir()
    p = Program(extra=0)
    try:
        r = busctl("Attach", "ia{sv}", str(p.pid), "2", "mode", "s", "enforce",
                   "policy-dir", "s", d)
        eq(r.returncode, 0, r.stderr)
        os.kill(DAEMON.pid, signal.SIGTERM)
        time.sleep(1)
        eq(DAEMON.alive(), True, "still running after one SIGTERM")
        contains(DAEMON.log(), f"not stopping: 1 attached process would fail", "it says why")
        contains(DAEMON.log(), f"{p.pid} (\"{THREADS}\")", "and names the process")
        path = os.path.join(SCRATCH, "while-refusing")
        p.send(f"mkdir {path}")
        eq(p.expect("mkdir "), f"mkdir {path}: Operation not permitted", "still enforced")
        DAEMON.kill(signal.SIGTERM)
        contains(DAEMON.log(), "stopping anyway", "a second SIGTERM stops it")
        DAEMON.start()
        daemon_alive()
    finally:
        p.close()


@test
def a_script_attaches_with_yes_and_no_terminal():
    need_bus()
    d = policy_dir()
    p = Program(extra=0)
    try:
        r = ctl("attach", "--yes", "--mode", "enforce", "--policy-dir", d, str(p.pid))
        eq(r.returncode, 0, r.stderr)
        contains(r.stdout, f"process {p.pid} attached as session", "said")
        eq(session_of(p.pid)["mode"], "enforce", "listed")
        path = os.path.join(SCRATCH, "by-a-script")
        p.send(f"mkdir {path}")
        eq(p.expect("mkdir "), f"mkdir {path}: Operation not permitted", "enforced")
    finally:
        p.close()
        wait_gone(p.pid)


@test
def the_restart_of_a_sleep_the_attach_interrupted_is_not_asked():
    need_bus()
    d = tempfile.mkdtemp(prefix="policies-", dir=SCRATCH)  # empty: every call is uncovered
    p = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.2)  # in clock_nanosleep
        r = busctl("Attach", "ia{sv}", str(p.pid), "2", "mode", "s", "ask", "policy-dir", "s", d)
        eq(r.returncode, 0, r.stderr)
        time.sleep(1)
        s = session_of(p.pid)
        eq(s["pending"], 0, f"nothing asked: {s}")
        eq(status(p.pid)["State"][0], "S", "asleep again")
    finally:
        p.kill()
        p.wait()
        wait_gone(p.pid)


class FakeSystemd:
    """The service manager's side of the fd store, played on a datagram socket: what a daemon
    started with NOTIFY_SOCKET pointing here stores and removes (the machine's own PID 1 is not
    systemd, so no real unit can run here)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="systrace-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.stored = {}  # name -> [fd…]

    def take(self, timeout=10):
        """The next message: its fields, and the descriptors it stored."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise AssertionError("no message from the daemon")
        fds = array.array("i")
        msg, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
        if fields.get("FDSTORE") == "1":
            self.stored.setdefault(fields["FDNAME"], []).extend(fds)
        if fields.get("FDSTOREREMOVE") == "1":
            for fd in self.stored.pop(fields["FDNAME"], []):
                os.close(fd)
        return fields, list(fds)

    def close(self):
        for fds in self.stored.values():
            for fd in fds:
                os.close(fd)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def an_attached_process_outlives_a_restart_through_systemds_fd_store():
    need_bus()
    d = policy_dir()
    p = Program(extra=0)
    manager = FakeSystemd()
    try:
        DAEMON.kill(signal.SIGTERM)
        DAEMON.start(env={"NOTIFY_SOCKET": manager.path})
        r = busctl("Attach", "ia{sv}", str(p.pid), "2", "mode", "s", "enforce",
                   "policy-dir", "s", d)
        eq(r.returncode, 0, r.stderr)
        fields, fds = manager.take()
        name = fields.get("FDNAME", "")
        eq((fields.get("FDSTORE"), name.startswith("attach-"), len(fds)), ("1", True, 3),
           f"the listener, a pidfd and the state stored: {fields}")
        before = os.path.join(SCRATCH, "before-restart")
        p.send(f"mkdir {before}")
        eq(p.expect("mkdir "), f"mkdir {before}: Operation not permitted", "enforced")
        # A restart: the first SIGTERM stops it at once, since the store keeps the session.
        DAEMON.kill(signal.SIGTERM)
        contains(DAEMON.log(), "signal 15, stopping", "stopped on the first signal")
        waiting = os.path.join(SCRATCH, "across-restart")
        p.send(f"mkdir {waiting}")  # waits in the kernel: no daemon receives
        p.quiet("mkdir", 0.5)
        stored = manager.stored[name]
        DAEMON.start(env={"NOTIFY_SOCKET": manager.path}, fds=stored, names=[name] * 3)
        eq(p.expect("mkdir "), f"mkdir {waiting}: Operation not permitted",
           "the call made while no daemon ran is decided by the restarted one")
        contains(DAEMON.log(), "taken up again", "said in the log")
        again = session_of(p.pid)
        eq((again["mode"], again["exe"]), ("enforce", THREADS), "listed again, in its mode")
        # The new daemon stores it under its new id and forgets the old name.
        seen = [manager.take(), manager.take()]
        kinds = sorted((f.get("FDSTORE", ""), f.get("FDSTOREREMOVE", "")) for f, _ in seen)
        eq(kinds, [("", "1"), ("1", "")], f"re-stored: {seen}")
        p.close()
        fields, _ = manager.take()
        eq(fields.get("FDSTOREREMOVE"), "1", "its process gone, the session leaves the store")
    finally:
        p.close()
        manager.close()
        if DAEMON.alive():
            DAEMON.kill(signal.SIGTERM)
        DAEMON.start()
        daemon_alive()


main()
