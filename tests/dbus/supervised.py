"""supervised.py: a real program handed to systraced by st-supervise, for the tests that run
under scripts/with-daemon (tests/dbus, tests/gui)."""
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
