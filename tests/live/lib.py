"""lib.py: the live tests' small framework: real programs under the real launcher, TAP output.

A test that needs something this machine lacks raises Skip; under SYSTRACE_TESTS_MUST_WORK=1 (CI)
that is a failure, elsewhere a skip that says why."""
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

SYSTRACE = os.environ.get("SYSTRACE", "build/cli/systrace")
HELPER = os.environ.get("ST_HELPER", "build/tests/helpers/st-helper")
MUST_WORK = os.environ.get("SYSTRACE_TESTS_MUST_WORK") == "1"

_tests = []


class Skip(Exception):
    pass


def test(fn):
    _tests.append(fn)
    return fn


def with_sandbox(fn):
    """A test that gets a fresh Sandbox, removed afterwards."""
    def wrapped():
        sb = Sandbox()
        try:
            fn(sb)
        finally:
            sb.close()
    wrapped.__name__ = fn.__name__
    return test(wrapped)


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root")


class Sandbox:
    """A temporary policy directory and scratch space for one test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="systrace-live-")
        self.policies = os.path.join(self.dir, "policies")
        self.log = os.path.join(self.dir, "log")
        self.env = dict(os.environ, SYSTRACE_GLOBAL_DIR=os.path.join(self.dir, "global"))
        os.makedirs(os.path.join(self.dir, "global"))

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, flags, command, timeout=60, input=None, check_rc=None):
        args = [SYSTRACE, "-d", self.policies, *flags, *command]
        # A session of its own, so that a timeout ends the whole supervised tree, not only the
        # launcher (its programs would go on, every call failing, and load the machine).
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env, start_new_session=True,
                                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            out, err = proc.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        p = subprocess.CompletedProcess(args, proc.returncode, out, err)
        if check_rc is not None and p.returncode != check_rc:
            raise AssertionError(f"{args}: exit {p.returncode}, want {check_rc}\n"
                                 f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def learn(self, command, flags=()):
        return self.run(["-A", *flags], command, check_rc=None)

    def enforce(self, command, flags=()):
        return self.run(["-a", "-E", self.log, *flags], command)

    def policy_file(self, binary):
        name = binary.lstrip("/")
        name = "".join(c if c.isalnum() and c.isascii() else "_" for c in name)
        return os.path.join(self.policies, name)

    def policy(self, binary):
        with open(self.policy_file(binary)) as f:
            return f.read()

    def prepend_rules(self, binary, rules):
        """Puts RULES first in BINARY's policy (first match wins)."""
        path = self.policy_file(binary)
        with open(path) as f:
            lines = f.read().splitlines(True)
        lines[1:1] = ["\t" + r + "\n" for r in rules]
        with open(path, "w") as f:
            f.writelines(lines)

    def log_lines(self):
        try:
            with open(self.log) as f:
                return [l for l in f.read().splitlines() if l]
        except FileNotFoundError:
            return []

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def resolved(path):
    return os.path.realpath(shutil.which(path) or path)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def contains(text, part, what=""):
    if part not in text:
        raise AssertionError(f"{what}: {part!r} not in:\n{text}")


class Terminal:
    """The launcher on a pseudo-terminal, answered like a person would."""

    def __init__(self, args, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(args[0], args, env or os.environ)
        self.out = b""
        self.status = None

    def read_until(self, marker, timeout=20):
        deadline = time.time() + timeout
        marker = marker.encode()
        while marker not in self.out:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {marker!r}; got:\n"
                                     + self.out.decode(errors="replace")[-2000:])
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"terminal closed before {marker!r}; got:\n"
                                         + self.out.decode(errors="replace")[-2000:])
                self.out += data
        text = self.out.decode(errors="replace")
        self.out = b""
        return text

    def answer(self, line):
        os.write(self.fd, (line + "\n").encode())

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.out += os.read(self.fd, 65536)
            except OSError:
                pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                try:
                    while True:
                        r, _, _ = select.select([self.fd], [], [], 0.05)
                        if not r:
                            break
                        data = os.read(self.fd, 65536)
                        if not data:
                            break
                        self.out += data
                except OSError:
                    pass
                return self.status
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("the launcher did not end; output:\n" + self.out.decode(errors="replace"))


class Lines:
    """A started process whose standard output (a pipe) is read line by line without blocking
    the test; its standard input, when a pipe, takes lines."""

    def __init__(self, proc):
        self.proc = proc
        self.pid = proc.pid
        self.lines, self.partial = [], b""

    def expect(self, prefixes, timeout=20):
        """The next line starting with PREFIXES (a string or a tuple); the others are kept."""
        deadline = time.time() + timeout
        while True:
            for i, line in enumerate(self.lines):
                if line.startswith(prefixes):
                    return self.lines.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {prefixes!r}; have {self.lines[-20:]}")
            # Raw reads: a buffered readline would hide lines from select.
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if r:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    raise AssertionError(f"ended before {prefixes!r}; have {self.lines[-20:]}")
                self.partial += data
                *done, self.partial = self.partial.split(b"\n")
                self.lines += [l.decode(errors="replace") for l in done]

    def quiet(self, prefix, seconds):
        """Asserts that no line starting with PREFIX comes within SECONDS."""
        try:
            line = self.expect(prefix, timeout=seconds)
        except AssertionError:
            return
        raise AssertionError(f"got {line!r}, want nothing yet")

    def drain(self, seconds=0.3):
        """Every line that came within SECONDS."""
        try:
            self.expect("\0never", timeout=seconds)
        except AssertionError:
            pass
        return self.lines

    def send(self, line=""):
        os.write(self.proc.stdin.fileno(), line.encode() + b"\n")

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self):
        """Kills the process's group (it was started in a session of its own) if it runs."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass


def main():
    # ST_ONLY=WORD: only the tests whose name contains WORD (for working on one by hand).
    only = os.environ.get("ST_ONLY")
    tests = [t for t in _tests if not only or only in t.__name__]
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    for i, t in enumerate(tests, 1):
        name = t.__name__
        try:
            t()
            print(f"ok {i} - {name}", flush=True)
        except Skip as e:
            if MUST_WORK:
                failed += 1
                print(f"not ok {i} - {name} # cannot run here: {e}", flush=True)
            else:
                print(f"ok {i} - {name} # SKIP {e}", flush=True)
        except Exception:
            failed += 1
            print(f"not ok {i} - {name}", flush=True)
            for line in traceback.format_exc().splitlines():
                print(f"# {line}", flush=True)
    sys.exit(1 if failed else 0)
