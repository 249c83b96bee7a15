"""inetd.py: OpenBSD's walkthrough with real programs: openbsd-inetd serving ident (ident2) and
echo on test ports, its policy learned with the exec of ident2 taken out, and the question about
that exec answered "permit" (for tests/dbus and tests/gui)."""
import os
import signal
import socket
import subprocess
import tempfile
import time

from lib import Skip, contains

SYSTRACE = os.environ.get("SYSTRACE", "build/cli/systrace")


INETD = "/usr/sbin/inetd"
IDENT = "/usr/sbin/ident2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, timeout=20):
    """An ident request about the request's own connection: the answer line, "closed" when the
    service closed without one, or "failed: …"."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"%d, %d\r\n" % (port, s.getsockname()[1]))
            return s.recv(200).decode(errors="replace").strip() or "closed"
    except OSError as e:
        return f"failed: {e}"


def wait_listening(port, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} does not listen on {port}")


def learned_inetd():
    """inetd serving ident (ident2) and echo on test ports, its policy learned in-process with
    one ident request, the exec rule of ident2 removed: (inetd's command, its policy file, the
    policy directory, the ident port, the echo port)."""
    if not (os.access(INETD, os.X_OK) and os.access(IDENT, os.X_OK)):
        raise Skip("openbsd-inetd and ident2 are needed (scripts/install-deps)")
    work = tempfile.mkdtemp(prefix="systrace-walkthrough-")
    policies = os.path.join(work, "policies")
    ident_port, echo_port = free_port(), free_port()
    conf = os.path.join(work, "inetd.conf")
    with open(conf, "w") as f:
        f.write(f"127.0.0.1:{ident_port} stream tcp nowait root {IDENT} ident2 -a -s\n"
                f"127.0.0.1:{echo_port} stream tcp nowait root /bin/echo echo hello\n")
    inetd = [INETD, "-d", conf]
    learn = subprocess.Popen([SYSTRACE, "-A", "-d", policies, *inetd], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_listening(ident_port, "inetd, learning")
        contains(request(ident_port), "USERID", "ident answers while learning")
    finally:
        os.killpg(learn.pid, signal.SIGTERM)
        learned = learn.communicate(timeout=20)[1]
    policy = os.path.join(policies, "usr_sbin_inetd")
    contains(learned, f"policy written: {policy}", "inetd's policy learned")
    with open(policy) as f:
        text = f.read()
    contains(text, EXEC_RULE, "the exec of ident2 was learned")
    with open(policy, "w") as f:
        f.write(text.replace(EXEC_RULE, ""))
    return inetd, policy, policies, ident_port, echo_port


EXEC_RULE = f'\tnative-execve: filename eq "{IDENT}" then permit\n'


def asked_then_permitted_always(t, ident_port, policy):
    """An ident request waits on TERMINAL's question about inetd's exec of ident2 until it is
    answered "permit": then it is served, and the rule is in POLICY."""
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(1)
    answer = pool.submit(request, ident_port)
    q = t.read_until("Answer:")
    contains(q, f"{INETD}", "the question names inetd")
    contains(q, f'execve: filename "{IDENT}"', "its uncovered call")
    time.sleep(0.5)
    assert not answer.done(), f"the service answered before the question: {answer.result()}"
    t.answer("permit")
    contains(answer.result(timeout=20), "USERID", "ident answers once permitted")
    with open(policy) as f:
        contains(f.read(), EXEC_RULE.strip(), "the rule is appended to inetd's policy")
