"""test_daemon.py: systraced on a private system bus (run under scripts/with-daemon), driven by
real clients: st-supervise (a launcher handing over a real program), systracectl, busctl for raw
and forged calls, and a second user (nobody, through setpriv) for the authorisation matrix."""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

SCRATCH = tempfile.mkdtemp(prefix="systrace-dbus-scratch-")
_n = [0]


def call():
    """A notified call (mkdir of a fresh path): its command words and its result's prefix."""
    _n[0] += 1
    path = os.path.join(SCRATCH, f"d{_n[0]}")
    return ["mkdir", path], f"mkdir {path}:"

from lib import Skip, Terminal, contains, eq, main, need_root, test
from supervised import HELPER, NOBODY, Daemon, Session

SYSTRACECTL = os.environ.get("SYSTRACECTL", "build/cli/systracectl")
BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
CONF = os.environ.get("SYSTRACED_CONF")


def need_bus():
    need_root()
    if not BUS or not CONF:
        raise Skip("no private bus: run under scripts/with-daemon")


def ctl(*args, user=None, input=None, timeout=30):
    cmd = (NOBODY if user == "nobody" else []) + [SYSTRACECTL, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)


def busctl(*args, user=None):
    cmd = (NOBODY if user == "nobody" else []) + [
        "busctl", f"--address={BUS}", "call", "org.systrace.Daemon1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def daemon_call(method, sig="", *args, user=None):
    return busctl("/org/systrace/Daemon1", "org.systrace.Daemon1", method,
                  *([sig, *args] if sig else []), user=user)


def list_ids(user=None):
    p = ctl("--json", "list", user=user)
    eq(p.returncode, 0, p.stderr)
    return [s["id"] for s in json.loads(p.stdout)]


def set_conf(text):
    with open(CONF, "w") as f:
        f.write(text)
    p = ctl("reload")
    eq(p.returncode, 0, p.stderr)


@test
def status_and_an_empty_list():
    need_bus()
    p = ctl("status")
    eq(p.returncode, 0, p.stderr)
    contains(p.stdout, "version: ", "status")
    contains(p.stdout, "max-sessions-per-user: 64", "status")
    j = json.loads(ctl("--json", "status").stdout)
    eq(j["privileged"], True, "root is privileged")


@test
def a_handed_session_is_listed_and_found():
    need_bus()
    s = Session(["pause"])
    try:
        s.expect(("pause: waiting",))
        p = ctl("list")
        eq(p.returncode, 0, p.stderr)
        line = [l for l in p.stdout.splitlines() if l.startswith(f"{s.id} ")]
        eq(len(line), 1, p.stdout)
        f = line[0].split(" ", 6)
        eq(f[2], str(s.launcher_pid), "launcher pid")
        eq(f[3], "root", "user")
        eq(f[4], "enforce", "mode")
        eq(f[5], "0", "waiting questions")
        eq(f[6], os.path.realpath(HELPER), "program")
        j = [x for x in json.loads(ctl("--json", "list").stdout) if x["id"] == s.id][0]
        eq(j["launcher_pid"], s.launcher_pid, "json")
        eq(j["exe"], os.path.realpath(HELPER), "json")
        # The seed attaches to the launcher's pid; the program's pid finds it too.
        for pid in (s.launcher_pid, int(f[1])):
            r = daemon_call("FindSession", "i", str(pid))
            contains(r.stdout, s.path, f"FindSession {pid}")
        s.go()
        eq(s.wait(), 0, "exit status")
        deadline = time.time() + 10
        while s.id in list_ids() and time.time() < deadline:
            time.sleep(0.05)
        eq(s.id in list_ids(), False, "removed when it ended")
    finally:
        s.close()


@test
def attach_asks_instead_of_denying_and_detaching_enforces_again():
    need_bus()
    c1, r1 = call()
    c2, r2 = call()
    s = Session(["pause", *c1, "pause", *c2])
    t = None
    try:
        s.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", str(s.launcher_pid)])
        t.read_until("Ctrl-C detaches")
        s.go()
        text = t.read_until("Answer:")
        contains(text, "mkdir", "the question")
        contains(text, os.path.realpath(HELPER), "the program")
        s.quiet("mkdir", 0.5)  # the program waits for the answer
        t.answer("permit-now")
        eq(s.expect(("mkdir",)), r1 + " ok", "permitted once")
        os.kill(t.pid, signal.SIGINT)
        t.wait()
        contains(t.out.decode(), "detached", "Ctrl-C")
        s.expect(("pause: waiting",))
        s.go()
        eq(s.expect(("mkdir",)), r2 + " EPERM", "enforced again after detaching")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)


@test
def a_question_the_leaving_terminal_left_is_enforced():
    need_bus()
    c1, r1 = call()
    s = Session(["pause", *c1])  # enforce
    t = None
    try:
        s.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", str(s.launcher_pid)])
        t.read_until("Ctrl-C detaches")
        s.go()
        t.read_until("Answer:")
        os.kill(t.pid, signal.SIGINT)  # leaves without answering
        t.wait()
        eq(s.expect(("mkdir",), timeout=10), r1 + " EPERM", "denied by the policy at once")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)


@test
def an_always_answer_is_written_to_the_policy():
    need_bus()
    d = tempfile.mkdtemp(prefix="systrace-dbus-")
    c1, r1 = call()
    s = Session(["pause", *c1], mode="ask", policy_dir=d)
    t = None
    try:
        s.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", f"%{s.id}"])
        t.read_until("Ctrl-C detaches")
        s.go()
        t.read_until("Answer:")
        t.answer("permit")
        eq(s.expect(("mkdir",)), r1 + " ok", "permitted")
        name = "".join(c if c.isalnum() and c.isascii() else "_"
                       for c in os.path.realpath(HELPER).lstrip("/"))
        # Written before the call was let go.
        with open(os.path.join(d, name)) as f:
            contains(f.read(), "native-fswrite: filename eq", "the rule")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)


@test
def kill_and_mode_and_detach_from_systracectl():
    need_bus()
    c1, r1 = call()
    s = Session(["pause", *c1, "pause"])
    try:
        s.expect(("pause: waiting",))
        eq(ctl("mode", str(s.launcher_pid), "learn").returncode, 0, "mode")
        contains(ctl("list").stdout, " learn ", "listed in its new mode")
        eq(ctl("mode", str(s.launcher_pid), "sideways").returncode, 1, "an unknown mode")
        s.go()
        eq(s.expect(("mkdir",)), r1 + " ok", "learn mode lets it run")
        s.expect(("pause: waiting",))
        eq(ctl("kill", f"%{s.id}").returncode, 0, "kill")
        eq(s.wait(), 137, "killed")
    finally:
        s.close()
    c1, r1 = call()
    s = Session(["pause", *c1])
    try:
        s.expect(("pause: waiting",))
        eq(ctl("detach", str(s.launcher_pid)).returncode, 0, "detach")
        contains(ctl("list").stdout, " detached ", "listed as detached")
        again = ctl("mode", str(s.launcher_pid), "enforce")
        eq(again.returncode, 1, "a detached session cannot enforce again")
        contains(again.stderr, "detached", "and says why")
        s.go()
        eq(s.expect(("mkdir",)), r1 + " ok", "detached: permitted")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()
    # A call waiting for an answer when the session is detached goes on, permitted.
    c1, r1 = call()
    s = Session(["pause", *c1], mode="ask")
    try:
        s.expect(("pause: waiting",))
        s.go()
        s.quiet("mkdir", 0.5)  # asked, and nobody is there to answer
        contains(ctl("list").stdout, f"{s.id} ", "listed")
        eq(ctl("detach", f"%{s.id}").returncode, 0, "detach")
        eq(s.expect(("mkdir",)), r1 + " ok", "the waiting call is permitted")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()


# The authorisation matrix: what nobody may do to root's session (and to their own), by the
# caller's UID. Each row: what, the call, whether it must succeed.
def matrix(root_s, own_s):
    rp, op = root_s.path, own_s.path
    return [
        ("list root's", lambda: root_s.id in list_ids("nobody"), False),
        ("list own", lambda: own_s.id in list_ids("nobody"), True),
        ("find root's", lambda: daemon_call("FindSession", "i", str(root_s.launcher_pid),
                                            user="nobody").returncode == 0, False),
        ("find own", lambda: daemon_call("FindSession", "i", str(own_s.launcher_pid),
                                         user="nobody").returncode == 0, True),
        ("properties of root's", lambda: busctl(rp, "org.freedesktop.DBus.Properties", "GetAll",
                                                "s", "org.systrace.Session1",
                                                user="nobody").returncode == 0, False),
        ("rules of root's", lambda: busctl(rp, "org.systrace.Session1", "Rules", "s", "",
                                           user="nobody").returncode == 0, False),
        ("attach to root's", lambda: ctl("attach", f"%{root_s.id}", user="nobody",
                                         input="").returncode == 0, False),
        ("detach root's", lambda: ctl("detach", f"%{root_s.id}",
                                      user="nobody").returncode == 0, False),
        ("kill root's", lambda: ctl("kill", f"%{root_s.id}", user="nobody").returncode == 0,
         False),
        ("mode of root's", lambda: ctl("mode", f"%{root_s.id}", "learn",
                                       user="nobody").returncode == 0, False),
        ("agent for root's", lambda: daemon_call("RegisterAgent", "oa{sv}", "/a", "1", "session",
                                                 "o", rp, user="nobody").returncode == 0, False),
        ("agent for all", lambda: daemon_call("RegisterAgent", "oa{sv}", "/a", "1", "all", "b",
                                              "true", user="nobody").returncode == 0, False),
        ("answer for root's", lambda: daemon_call("Answer", "sa{sv}", "1", "1", "action", "s",
                                                  "permit", user="nobody").returncode == 0,
         False),
        ("reload", lambda: ctl("reload", user="nobody").returncode == 0, False),
        ("status", lambda: ctl("status", user="nobody").returncode == 0, True),
        ("kill own", lambda: ctl("kill", f"%{own_s.id}", user="nobody").returncode == 0, True),
    ]


@test
def a_second_user_cannot_touch_another_users_session():
    need_bus()
    root_s = Session(["pause"])
    own_s = Session(["pause"], user="nobody")
    try:
        if own_s.error:
            raise AssertionError(f"nobody's own session: {own_s.error}")
        root_s.expect(("pause: waiting",))
        own_s.expect(("pause: waiting",))
        failures = []
        for what, fn, want in matrix(root_s, own_s):
            got = fn()
            if got != want:
                failures.append(f"{what}: {'allowed' if got else 'refused'}")
        eq(failures, [], "the matrix")
        eq(root_s.proc.poll(), None, "root's session untouched")
        # A listener with a pidfd of a process that is not nobody's.
        forged = Session(["pause"], user="nobody", extra=["--pidfd-of", "1"])
        contains(forged.error or "", "org.systrace.Error.AccessDenied", "pidfd of root's")
        forged.close()
        notfd = Session(["pause"], user="nobody", extra=["--not-listener"])
        contains(notfd.error or "", "not a seccomp notification fd", "not a listener")
        notfd.close()
    finally:
        root_s.close()
        own_s.close()


@test
def malformed_options_are_refused_and_the_daemon_goes_on():
    need_bus()
    for kind, want in [("wrong-type", "must be of type b"), ("huge-string", "too long"),
                       ("many-entries", "too many options"), ("unknown-key", "unknown option"),
                       ("duplicate", "given twice")]:
        s = Session(["pause"], extra=["--bad-options", kind])
        contains(s.error or "", "org.freedesktop.DBus.Error.InvalidArgs", kind)
        contains(s.error or "", want, kind)
        s.close()
    for args in [("RegisterAgent", "oa{sv}", "/a", "1", "all", "s", "yes"),
                 ("RegisterAgent", "oa{sv}", "/a", "1", "session", "s", "/x"),
                 ("Answer", "sa{sv}", "1", "1", "action", "i", "1"),
                 ("Answer", "sa{sv}", "1", "0"),
                 ("FindSession", "s", "1")]:
        r = daemon_call(*args)
        eq(r.returncode != 0, True, f"{args} refused")
    eq(ctl("status").returncode, 0, "still answering")


def monitor(*flags):
    p = subprocess.Popen([SYSTRACECTL, "--json", "monitor", *flags], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Registered once it says so.
    r, _, _ = select.select([p.stderr], [], [], 10)
    contains(p.stderr.readline() if r else "", "monitoring", "monitor started")
    return p


def read_event(p, kind, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            line = p.stdout.readline()
            if not line:
                break
            e = json.loads(line)
            if e["event"]["kind"] == kind:
                return e
    raise AssertionError(f"no {kind} event")


@test
def a_forged_answer_is_refused():
    need_bus()
    c1, r1 = call()
    s = Session(["pause", *c1])
    m = monitor()
    t = None
    try:
        s.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", str(s.launcher_pid)])
        t.read_until("Ctrl-C detaches")
        s.go()
        request = read_event(m, "question")["event"]["request"]
        t.read_until("Answer:")
        r = daemon_call("Answer", "sa{sv}", request, "1", "action", "s", "permit")
        contains(r.stderr, "was not sent to you", "root, but not the agent asked")
        s.quiet("mkdir", 0.3)
        t.answer("deny-now[enoent]")
        eq(s.expect(("mkdir",)), r1 + " ENOENT", "the agent's own answer")
        read_event(m, "answered")
    finally:
        m.kill()
        m.wait()
        s.close()
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)


@test
def a_vanished_agent_loses_its_questions_to_the_next():
    need_bus()
    c1, r1 = call()
    s = Session(["pause", *c1])
    t = None
    m = monitor("--answer")
    try:
        s.expect(("pause: waiting",))
        t = Terminal([SYSTRACECTL, "attach", str(s.launcher_pid)])
        t.read_until("Ctrl-C detaches")
        s.go()
        t.read_until("Answer:")  # the attached agent is asked first
        os.kill(t.pid, signal.SIGKILL)
        t.wait()
        # The operator's console gets it next.
        buf = ""
        deadline = time.time() + 10
        while "Answer:" not in buf and time.time() < deadline:
            r, _, _ = select.select([m.stdout], [], [], 0.2)
            if r:
                buf += os.read(m.stdout.fileno(), 65536).decode()
        contains(buf, "Answer:", "re-asked on the console")
        m.stdin.write("permit-now\n")
        m.stdin.flush()
        eq(s.expect(("mkdir",)), r1 + " ok", "answered by the console")
    finally:
        m.kill()
        m.wait()
        s.close()


def read_until(p, text, timeout=10):
    """P's standard output until TEXT shows (raw reads: select sees what readline would hide)."""
    buf = ""
    deadline = time.time() + timeout
    while text not in buf and time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            data = os.read(p.stdout.fileno(), 65536).decode()
            if not data:
                break
            buf += data
    contains(buf, text, "the console's output")
    return buf


@test
def an_operator_taken_out_of_the_group_loses_the_question_on_reload():
    need_bus()
    group = "st-test-operators"
    subprocess.run(["groupadd", "-f", group], check=True)
    subprocess.run(["gpasswd", "-a", "nobody", group], check=True, capture_output=True)
    c1, r1 = call()
    s = m = None
    try:
        set_conf(f"operator-group = {group}\n")
        s = Session(["pause", *c1], mode="ask")  # root's
        m = subprocess.Popen(NOBODY + [SYSTRACECTL, "monitor", "--answer"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        r, _, _ = select.select([m.stderr], [], [], 10)
        contains(m.stderr.readline() if r else "", "monitoring", "nobody's console started")
        s.expect(("pause: waiting",))
        s.go()
        read_until(m, "Answer:")  # an operator: asked about root's call
        subprocess.run(["gpasswd", "-d", "nobody", group], check=True, capture_output=True)
        set_conf("")
        read_until(m, "rerouted")
        m.stdin.write("permit-now\n")
        m.stdin.flush()
        s.quiet("mkdir", 1)  # not answered by the former operator
        eq(ctl("kill", f"%{s.id}").returncode, 0, "kill")
    finally:
        if m:
            m.kill()
            m.wait()
        if s:
            s.close()
        subprocess.run(["groupdel", group], capture_output=True)
        set_conf("")


@test
def a_users_policy_files_are_read_as_that_user():
    """nobody hands a session over, then swaps its policy directory for a symbolic link to a
    directory only root may read, holding a policy that permits everything nobody asks: the
    daemon, reading as nobody, does not see it."""
    need_bus()
    base = tempfile.mkdtemp(prefix="systrace-owner-")
    os.chmod(base, 0o755)
    mine = os.path.join(base, "policies")
    os.mkdir(mine)
    os.chown(base, 65534, 65534)
    os.chown(mine, 65534, 65534)
    secret = tempfile.mkdtemp(prefix="systrace-root-only-")  # 0700, root's
    binary = os.path.realpath(HELPER)
    name = "".join(c if c.isalnum() else "_" for c in binary.lstrip("/"))
    with open(os.path.join(secret, name), "w") as f:
        f.write(f"Policy: {binary}, Emulation: native\n\tnative-mkdir: permit\n")
    made = os.path.join(base, "made")  # nobody may make it: only the policy stands in the way
    s = Session(["pause", "mkdir", made], user="nobody", policy_dir=mine)
    try:
        eq(s.error, None, "nobody's session")
        s.expect(("pause: waiting",))
        os.rename(mine, mine + ".old")
        os.symlink(secret, mine)
        s.go()
        eq(s.expect(("mkdir",)), f"mkdir {made}: EPERM", "root's policy was not read for nobody")
    finally:
        s.close()


@test
def an_always_answer_for_a_user_is_written_as_that_user():
    need_bus()
    base = tempfile.mkdtemp(prefix="systrace-owner-")
    os.chmod(base, 0o755)
    os.chown(base, 65534, 65534)
    mine = os.path.join(base, "policies")
    os.mkdir(mine)
    os.chown(mine, 65534, 65534)
    made = os.path.join(base, "made")
    s = Session(["pause", "mkdir", made], mode="ask", user="nobody", policy_dir=mine)
    t = None
    try:
        s.expect(("pause: waiting",))
        t = Terminal([shutil.which(NOBODY[0]), *NOBODY[1:], SYSTRACECTL, "attach",
                      str(s.launcher_pid)])
        t.read_until("Ctrl-C detaches")
        s.go()
        t.read_until("Answer:")
        t.answer("permit")
        eq(s.expect(("mkdir",)), f"mkdir {made}: ok", "permitted always")
        files = os.listdir(mine)
        eq(len(files), 1, f"one policy file: {files}")
        eq(os.stat(os.path.join(mine, files[0])).st_uid, 65534, "the policy file is nobody's")
    finally:
        if t and t.status is None:
            os.kill(t.pid, signal.SIGKILL)
            t.wait()
        s.close()


@test
def an_unanswered_question_is_denied_at_its_deadline():
    need_bus()
    set_conf("ask-timeout = 1\n")
    c1, r1 = call()
    s = Session(c1, mode="ask")
    try:
        start = time.time()
        eq(s.expect(("mkdir",), timeout=10), r1 + " EPERM", "denied at the deadline")
        took = time.time() - start
        if took < 0.8:
            raise AssertionError(f"denied after {took:.2f}s, before the deadline")
    finally:
        s.close()
        set_conf("")


@test
def a_user_at_the_session_limit_gets_a_clear_error():
    need_bus()
    set_conf("max-sessions-per-user = 1\n")
    a = Session(["pause"])
    try:
        a.expect(("pause: waiting",))
        b = Session(["pause"])
        contains(b.error or "", "org.systrace.Error.LimitReached", "second session")
        contains(b.error or "", "max-sessions-per-user", "names the setting")
        b.close()
    finally:
        a.close()
        set_conf("")


def wakeups(pid):
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    n += int(line.split()[1])
    return n


@test
def an_idle_daemon_makes_no_wakeups():
    need_bus()
    pid = int(os.environ["SYSTRACED_PID"])
    s = Session(["pause"])
    try:
        s.expect(("pause: waiting",))
        time.sleep(0.5)
        before = wakeups(pid)
        time.sleep(3)
        eq(wakeups(pid) - before, 0, "context switches of an idle systraced in 3 s")
    finally:
        s.close()


@test
def a_bad_settings_file_is_refused_on_reload():
    need_bus()
    with open(CONF, "w") as f:
        f.write("ask-timeout = soon\n")
    p = ctl("reload")
    eq(p.returncode, 1, "refused")
    contains(p.stderr, ":1: ask-timeout: must be a number", "names the line")
    set_conf("")


@test
def one_sessions_flood_of_denials_does_not_silence_another():
    need_bus()
    flood = os.path.join(SCRATCH, "flood-")
    words, prefix = call()
    a = Session(["mkdir-many", flood, "5000"])  # enforce, no policy: each mkdir denied
    try:
        eq(a.expect(("mkdir-many",)), f"mkdir-many {flood}: 5000 of 5000 failed", "denied")
        eq(a.wait(), 0, "exit")
    finally:
        a.close()
    b = Session(words)
    try:
        eq(b.expect(("mkdir",)), prefix + " EPERM", "denied")
        eq(b.wait(), 0, "exit")
    finally:
        b.close()
    log = Daemon().log()
    flooded = log.count(f'filename="{flood}')
    # The session's budget of 1000 lines at once also pays for its other lines (no policy…).
    eq(990 <= flooded < 2000, True, f"{flooded} of the flood's 5000 denials logged")
    held = sum(int(n) for n in re.findall(rf"session {a.id}: (\d+) lines held back", log))
    eq(abs(flooded + held - 5000) <= 10, True, f"the rest counted: {flooded} + {held}")
    contains(log, f'filename="{words[1]}"', "the other session's denial is logged")


if __name__ == "__main__":
    main()
