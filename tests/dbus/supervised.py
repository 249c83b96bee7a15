"""supervised.py: a real program handed to systraced by st-supervise, for the tests that run
under scripts/with-daemon (tests/dbus, tests/gui)."""
import atexit
import os
import select
import signal
import subprocess
import time

SUPERVISE = os.environ.get("ST_SUPERVISE", "build/tests/dbus/st-supervise")
HELPER = os.environ.get("ST_HELPER", "build/tests/helpers/st-helper")
NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]


class Session:
    """A real program handed to the daemon by st-supervise; it waits at each "pause" for a line
    on its standard input."""

    def __init__(self, commands, mode="enforce", user=None, extra=(), policy_dir=None):
        args = (NOBODY if user == "nobody" else []) + [SUPERVISE, "--mode", mode, *extra]
        if policy_dir:
            args += ["--policy-dir", policy_dir]
        self.proc = subprocess.Popen(args + ["--", HELPER, *commands], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.lines = []
        self.partial = b""
        first = self.expect(("session ", "error "))
        self.path = first.split()[1] if first.startswith("session ") else None
        self.error = first if first.startswith("error ") else None
        self.id = int(self.path.rsplit("/", 1)[1]) if self.path else None

    @property
    def launcher_pid(self):
        return self.proc.pid

    def expect(self, prefixes, timeout=20):
        """The next output line starting with one of PREFIXES (others are kept)."""
        deadline = time.time() + timeout
        while True:
            for i, l in enumerate(self.lines):
                if l.startswith(prefixes):
                    return self.lines.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {prefixes}; have {self.lines}")
            # Raw reads: a buffered readline would hide lines from select.
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if r:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    raise AssertionError(f"ended before {prefixes}; have {self.lines}; "
                                         f"stderr {self.proc.stderr.read()}")
                self.partial += data
                *done, self.partial = self.partial.split(b"\n")
                self.lines += [l.decode(errors="replace") for l in done]

    def quiet(self, prefix, seconds):
        """Asserts that no line starting with PREFIX comes within SECONDS."""
        try:
            line = self.expect((prefix,), timeout=seconds)
        except AssertionError:
            return
        raise AssertionError(f"got {line!r}, want nothing yet")

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (BrokenPipeError, OSError):
                pass


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

    def start(self):
        log = open(os.path.join(os.environ["SYSTRACE_BUS_DIR"], "systraced.log"), "a")
        self.proc = subprocess.Popen([os.environ["SYSTRACED"], "-e", "-c",
                                      os.environ["SYSTRACED_CONF"]], stderr=log)
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
