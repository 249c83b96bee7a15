"""test_ask_race.py: many ask-mode sessions started at once, each a program whose first call is
an uncovered mkdir, with an agent registered that never answers: every mkdir must wait for its
question and be denied at the deadline, never run unasked. Run under scripts/with-daemon (its own
daemon: the tests slow it down with strace)."""
import os
import shutil
import subprocess
import tempfile
import time

from lib import Skip, eq, main, need_root, test
from supervised import HELPER, SUPERVISE

SYSTRACECTL = os.environ.get("SYSTRACECTL", "build/cli/systracectl")
BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
CONF = os.environ.get("SYSTRACED_CONF")
TIMEOUT = 2  # ask-timeout, seconds


def need_bus():
    need_root()
    if not BUS or not CONF:
        raise Skip("no private bus: run under scripts/with-daemon")


def set_conf(text):
    with open(CONF, "w") as f:
        f.write(text)
    p = subprocess.run([SYSTRACECTL, "reload"], capture_output=True, text=True, timeout=30)
    eq(p.returncode, 0, p.stderr)


def silent_agent():
    """Root's agent for every session, which is asked and never answers."""
    p = subprocess.Popen([SYSTRACECTL, "monitor", "--answer"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if "monitoring" not in line:
        p.kill()
        p.wait()
        raise AssertionError(f"the agent did not register: {line!r}")
    return p


def run_sessions(n, extra=()):
    """N sessions started at once, each running "st-helper mkdir DIR"; the DIRs that exist
    afterwards, with the output of each."""
    scratch = tempfile.mkdtemp(prefix="systrace-ask-race-")
    runs = []
    try:
        for i in range(n):
            d = os.path.join(scratch, f"stress-{i}")
            runs.append((d, subprocess.Popen(
                [SUPERVISE, "--mode", "ask", *extra, "--", HELPER, "mkdir", d],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True)))
        made = []
        for d, p in runs:
            try:
                out, err = p.communicate(timeout=TIMEOUT + 25)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise AssertionError(f"{d}: still running; {out!r} {err!r}")
            if not out.startswith("session "):
                raise AssertionError(f"not handed over: {out!r} {err!r}")
            if os.path.isdir(d) or ": ok" in out:
                made.append((d, out.strip().splitlines()[-1]))
            elif not out.rstrip().endswith(": EPERM"):
                raise AssertionError(f"{d}: {out!r} {err!r}")
        return made
    finally:
        for _, p in runs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def tracer_of(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return 0


@test
def a_program_is_asked_from_its_first_call_when_its_exec_settles_late():
    # The exec that starts the program is settled by a worker that watches it succeed; strace
    # holds that worker 0.2 s after each of its ptrace calls, the detach included, so the
    # program's mkdir reaches another worker while the first has not recorded the exec yet.
    need_bus()
    if not shutil.which("strace"):
        raise Skip("strace is not installed")
    set_conf(f"ask-timeout = {TIMEOUT}\n")
    pid = int(os.environ["SYSTRACED_PID"])
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=ptrace",
                               "-e", "inject=ptrace:delay_exit=200000", "-p", str(pid)],
                              stderr=subprocess.DEVNULL)
    agent = None
    try:
        deadline = time.time() + 10
        while any(tracer_of(pid, t) not in (tracer.pid, None)
                  for t in os.listdir(f"/proc/{pid}/task")):
            if time.time() > deadline or tracer.poll() is not None:
                raise AssertionError("strace did not attach to systraced")
            time.sleep(0.05)
        agent = silent_agent()
        eq(run_sessions(8, ["--killable"]), [], "mkdirs that ran unasked")
    finally:
        tracer.terminate()
        tracer.wait()
        if agent:
            agent.kill()
            agent.wait()
        set_conf("")


@test
def fifty_ask_sessions_at_once_run_nothing_unasked():
    need_bus()
    set_conf(f"ask-timeout = {TIMEOUT}\n")
    agent = silent_agent()
    try:
        eq(run_sessions(50), [], "mkdirs that ran unasked")
    finally:
        agent.kill()
        agent.wait()
        set_conf("")


if __name__ == "__main__":
    main()
