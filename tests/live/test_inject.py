"""test_inject.py: common/inject.c on real running programs (st-inject drives it alone, without
the daemon): a process with 16 threads each waiting in a blocking call keeps running correctly
after the attach, its calls are supervised, and every refusal leaves the process as it was."""
import os
import signal
import subprocess
import time

from lib import Lines, Skip, contains, eq, main, need_root, test

HELPERS = os.path.dirname(os.environ.get("ST_HELPER", "build/tests/helpers/st-helper"))
THREADS = os.path.join(HELPERS, "st-threads")
INJECT = os.path.join(HELPERS, "st-inject")
BIT32 = os.path.join(HELPERS, "st-32bit")
NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]


class Program(Lines):
    """ARGS started in a session of its own, its output read line by line."""

    def __init__(self, args, env=None, stdin=True):
        super().__init__(subprocess.Popen(
            args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, start_new_session=True))


def status(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    with open(path) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def state(pid):
    """What an attach may change and what it must not: per thread, its filters, signal mask,
    no_new_privs and state."""
    out = {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        s = status(pid, tid)
        out[tid] = (s["Seccomp_filters"], s["SigBlk"], s["NoNewPrivs"], s["State"][0])
    return out


def threads_program(user=None, extra=12):
    p = Program((NOBODY if user else []) + [THREADS], env=dict(os.environ, ST_THREADS=str(extra)))
    ready = p.expect("ready ")
    p.pid = int(ready.split("pid=")[1])
    time.sleep(0.3)  # every thread in its blocking call
    return p


def inject(pid, *calls, deny=False):
    return Program([INJECT, *(["--deny"] if deny else []), str(pid), *calls], stdin=False)


def refused(args, want_errno, want_text, prefix=()):
    r = subprocess.run([*prefix, INJECT, *args], capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1, r.stdout + r.stderr)
    contains(r.stdout, f"error {want_errno} ", "errno")
    contains(r.stdout, want_text, "message")


@test
def threads_run_on_and_are_supervised():
    need_root()
    p = threads_program()
    sup = None
    try:
        before = state(p.pid)
        eq(len(before), 16, "threads")
        sup = inject(p.pid, "mkdir")
        eq(sup.expect("attached "), "attached threads=16 nnp=0")
        after = state(p.pid)
        eq(sorted(after), sorted(before), "the same threads")
        for tid in after:
            eq(after[tid][0], "1", f"thread {tid} has the filter")
            eq(after[tid][1:3], before[tid][1:3], f"thread {tid}'s signal mask and no_new_privs")
        # The main thread was in read(2) on the pipe when it was stopped: it reads the next line.
        p.send("hello after the attach")
        p.expect("read: hello after the attach")
        path = f"/tmp/st-inject-{p.pid}"
        p.send(f"mkdir {path}")
        contains(sup.expect("notified mkdir"), str(p.pid))
        eq(p.expect("mkdir "), f"mkdir {path}: ok")
        os.rmdir(path)
        p.send("connect")
        p.expect("accepted")
        p.send("futex")
        p.expect("futex woke 1")
        first = int(p.expect("tick ").split()[1])
        time.sleep(0.5)
        ticks = [int(l.split()[1]) for l in p.drain() if l.startswith("tick ")]
        if not ticks or max(ticks) < first + 3:
            raise AssertionError(f"the sleepers stopped ticking: {first} then {ticks}")
        errors = [l for l in p.lines if l.startswith("ERROR")]
        eq(errors, [], "no call failed with an errno it would not get natively")
        # Only the call asked for was notified: the kernel decided the rest.
        eq([l for l in sup.drain() if l.startswith("notified")], [], "other notifications")
    finally:
        p.close()
        if sup:
            sup.close()


@test
def supervised_calls_are_decided():
    need_root()
    p = threads_program(extra=0)
    sup = inject(p.pid, "mkdir", deny=True)
    try:
        sup.expect("attached ")
        p.send("mkdir /tmp/st-inject-denied")
        eq(p.expect("mkdir "), "mkdir /tmp/st-inject-denied: Permission denied")
    finally:
        p.close()
        sup.close()


@test
def an_unprivileged_process_gets_no_new_privs():
    need_root()
    p = threads_program(user="nobody", extra=0)
    sup = inject(p.pid, "mkdir")
    try:
        eq(status(p.pid)["NoNewPrivs"], "0", "before")
        eq(sup.expect("attached "), "attached threads=4 nnp=1")
        for tid, (filters, _, nnp, _) in state(p.pid).items():
            eq((filters, nnp), ("1", "1"), f"thread {tid}")
        p.send("still here")
        p.expect("read: still here")
    finally:
        p.close()
        sup.close()


@test
def a_second_listener_is_refused_unchanged():
    need_root()
    p = threads_program(extra=0)
    sup = inject(p.pid, "mkdir")
    try:
        sup.expect("attached ")
        before = state(p.pid)
        refused([str(p.pid), "mkdir"], "EBUSY", "already has a seccomp listener")
        eq(state(p.pid), before, "the process after the refusal")
        p.send("after EBUSY")
        p.expect("read: after EBUSY")
    finally:
        p.close()
        sup.close()


@test
def a_traced_process_is_refused_unchanged():
    need_root()
    p = threads_program(extra=0)
    tracer = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-p", str(p.pid)],
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while status(p.pid)["TracerPid"] == "0":
            if time.time() > deadline:
                raise AssertionError("strace did not attach")
            time.sleep(0.05)
        before = state(p.pid)
        refused([str(p.pid)], "EPERM", "is it under gdb or strace?")
        eq(state(p.pid), before, "the process after the refusal")
    finally:
        tracer.kill()
        tracer.wait()
        p.close()


@test
def a_stopped_process_is_refused_unchanged():
    need_root()
    p = threads_program(extra=0)
    try:
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(0.2)
        refused([str(p.pid)], "EAGAIN", "is stopped")
        eq(status(p.pid)["Seccomp_filters"], "0")
        eq(status(p.pid)["State"][0], "T", "still stopped")
        os.kill(p.pid, signal.SIGCONT)
        p.send("continued")
        p.expect("read: continued")
    finally:
        p.close()


@test
def a_32bit_process_is_refused():
    need_root()
    if not os.path.exists(BIT32):
        raise Skip("no st-32bit helper (the compiler cannot build i386 code)")
    p = subprocess.Popen([BIT32])
    try:
        time.sleep(0.2)
        refused([str(p.pid)], "ENOEXEC", "not a native 64-bit program")
        eq(status(p.pid)["Seccomp_filters"], "0")
    finally:
        p.kill()
        p.wait()


@test
def a_process_outside_the_attachers_user_namespace_is_refused_unchanged():
    need_root()
    p = subprocess.Popen(["sleep", "100"])
    try:
        time.sleep(0.1)
        before = state(p.pid)
        # The attacher in a user namespace of its own, where it is root: the process is above.
        refused([str(p.pid), "mkdir"], "EXDEV", "in a user namespace outside this one",
                prefix=["unshare", "--user", "--map-root-user", "--"])
        eq(state(p.pid), before, "unchanged")
    finally:
        p.kill()
        p.wait()


@test
def a_process_that_is_gone_or_ends_during_the_attach():
    need_root()
    p = subprocess.Popen(["true"])
    p.wait()
    refused([str(p.pid)], "ESRCH", "no process")
    refused(["1" + "0" * 8], "ESRCH", "no process")
    # Processes that end while they are being attached: each attempt ends cleanly, attached or
    # with ESRCH, never hangs.
    outcomes = set()
    for i in range(20):
        q = subprocess.Popen(["sh", "-c", f"sleep 0.0{i % 10}"])
        r = subprocess.run([INJECT, str(q.pid)], capture_output=True, text=True, timeout=30)
        q.wait()
        if r.stdout.startswith("error "):
            contains(r.stdout, "ESRCH", "how an ending process fails")
        else:
            contains(r.stdout, "attached ")
        outcomes.add(r.stdout.split()[0] if r.stdout else "")
    if not outcomes <= {"attached", "error"}:
        raise AssertionError(f"outcomes {outcomes}")


@test
def a_shell_waiting_in_sigsuspend_keeps_its_mask_and_signals():
    need_root()
    # dash's wait builtin waits in sigsuspend, with a mask of its own that the kernel puts back
    # when the call ends: the worker thread must not have its mask set.
    p = Program(["sh", "-c", 'trap "echo usr1" USR1; sleep 1000 & child=$!; echo ready $$ $child; '
               'while :; do wait $child; r=$?; [ $r = 138 ] || break; done; echo "done $r"'], stdin=False)
    sup = None
    try:
        pid, child = map(int, p.expect("ready ").split()[1:])
        time.sleep(0.2)
        before = status(pid)
        # Signals while it is being attached: held back and delivered, never lost or doubled
        # into a crash.
        storm = subprocess.Popen(["sh", "-c", f"for i in $(seq 200); do kill -USR1 {pid}; done"])
        sup = inject(pid, "mkdir")
        sup.expect("attached ")
        storm.wait()
        after = status(pid)
        eq(after["Seccomp_filters"], "1")
        eq(after["SigBlk"], before["SigBlk"], "the mask")
        p.expect("usr1")
        p.drain()
        os.kill(pid, signal.SIGUSR1)
        p.expect("usr1")
        os.kill(child, signal.SIGTERM)
        eq(p.expect("done "), "done 143", "wait returned the child's status")
    finally:
        p.close()
        if sup:
            sup.close()


@test
def a_kernel_thread_is_refused():
    need_root()
    refused(["2"], "ESRCH", "kernel thread")


main()
