"""supervised.py: a real program handed to systraced by st-supervise, for the tests that run
under scripts/with-daemon (tests/dbus, tests/gui)."""
import atexit
import os
import signal
import subprocess
import tempfile
import time

from lib import Lines

SUPERVISE = os.environ.get("ST_SUPERVISE", "build/tests/dbus/st-supervise")
HELPER = os.environ.get("ST_HELPER", "build/tests/helpers/st-helper")
NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]


class Session(Lines):
    """A real program handed to the daemon by st-supervise; it waits at each "pause" for a line
    on its standard input."""

    def __init__(self, commands, mode="enforce", user=None, extra=(), policy_dir=None):
        args = (NOBODY if user == "nobody" else []) + [SUPERVISE, "--mode", mode, *extra]
        if not policy_dir and "--bad-options" not in extra:
            # Never the user's own ~/.systrace: a test that learns or answers "always" would
            # leave rules there for the next run.
            policy_dir = tempfile.mkdtemp(prefix="systrace-session-")
            if user == "nobody":
                os.chown(policy_dir, 65534, 65534)
        if policy_dir:
            args += ["--policy-dir", policy_dir]
        super().__init__(subprocess.Popen(args + ["--", HELPER, *commands],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, start_new_session=True))
        first = self.expect(("session ", "error "))
        self.path = first.split()[1] if first.startswith("session ") else None
        self.error = first if first.startswith("error ") else None
        self.id = int(self.path.rsplit("/", 1)[1]) if self.path else None

    @property
    def launcher_pid(self):
        return self.proc.pid

    def go(self):
        self.send("")


class Daemon:
    """The systraced that scripts/with-daemon started, which a test may kill and start again (the
    new one is stopped when the test ends)."""

    def __init__(self):
        self.pid = int(os.environ.get("SYSTRACED_PID", "0"))
        self.proc = None
        atexit.register(self._stop)

    @staticmethod
    def owned():
        p = subprocess.run(["busctl", f"--address={os.environ['DBUS_SYSTEM_BUS_ADDRESS']}",
                            "status", "org.systrace.Daemon1"],
                           capture_output=True, text=True, timeout=10)
        return p.returncode == 0

    def log(self):
        with open(os.path.join(os.environ["SYSTRACE_BUS_DIR"], "systraced.log")) as f:
            return f.read()

    def alive(self):
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return not self.proc or self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """SIG (SIGKILL: mid-session, no chance to clean anything up); waits for the end."""
        os.kill(self.pid, sig)
        if self.proc:
            self.proc.wait(timeout=20)
        deadline = time.time() + 10
        while self.owned():
            if time.time() > deadline:
                raise AssertionError("the daemon's name outlived it")
            time.sleep(0.05)

    def start(self, env=None, fds=(), names=()):
        """A new daemon; ENV is added to its environment. FDS, named NAMES, are given to it as
        systemd gives a service its stored descriptors (LISTEN_FDS from 3, LISTEN_PID its
        own)."""
        log = open(os.path.join(os.environ["SYSTRACE_BUS_DIR"], "systraced.log"), "a")
        daemon = [os.environ["SYSTRACED"], "-e", "-c", os.environ["SYSTRACED_CONF"]]
        if fds:
            moves = " ".join(f"{3 + i}<&{fd}" for i, fd in enumerate(fds))
            daemon = ["bash", "-c", f'exec {moves}; LISTEN_PID=$$ exec "$@"', "-", *daemon]
            env = dict(env or {}, LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=":".join(names))
        self.proc = subprocess.Popen(daemon, stderr=log, pass_fds=fds,
                                     env=dict(os.environ, **(env or {})))
        self.pid = self.proc.pid
        deadline = time.time() + 10
        while not self.owned():
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("systraced did not start again")
            time.sleep(0.05)

    def _stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
