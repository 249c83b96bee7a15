"""test_signals.py: calls interrupted by signals behave as the kernel's would (no invented errno, no
lost signal but where the kernel's own mechanism says so), and a Go program, whose runtime
preempts goroutines with SIGURG, does its I/O under supervision as natively."""
import os
import re
import shutil
import subprocess
import tempfile

from lib import (with_sandbox, HELPER, Skip, Terminal, SYSTRACE, contains, eq, main)

STORM = os.path.realpath(os.environ.get("ST_STORM", "build/tests/helpers/st-storm"))
GO_IO = os.environ.get("GO_IO", "build/tests/helpers/go-io")
ROUNDS = "300"


def storm_result(text):
    m = re.search(r"storm (.*)", text)
    assert m, f"no storm line in {text!r}"
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def judge(r, what):
    """No errno the kernel would not give; every lost round is one whose kill got EINTR (the
    signal came before the supervisor received the call: the kernel's own restart logic, for a
    handler without SA_RESTART), and every round was counted."""
    print(f"# {what}: {r}", flush=True)
    eq(r["rounds"], int(ROUNDS), f"{what}: rounds")
    eq(r["esrch"], 0, f"{what}: ESRCH invented")
    eq(r["other"], 0, f"{what}: other errors")
    eq(r["lost"], r["eintr"], f"{what}: a signal lost without an EINTR to explain it")


@with_sandbox
def a_signal_storm_under_learning_and_enforcing(sb):
    native = storm_result(subprocess.run([STORM, ROUNDS], capture_output=True, text=True).stdout)
    eq((native["errors"], native["lost"]), (0, 0), "natively")
    learned = sb.run(["-A"], [STORM, ROUNDS], timeout=300)
    judge(storm_result(learned.stdout), "-A")
    policy = sb.policy(STORM)
    # The program signals itself only: nothing is learned about process groups.
    assert "process group" not in policy, policy
    contains(policy, 'native-kill: pidname eq "' + STORM + '" and signame eq "SIGUSR1"')
    enforced = sb.run(["-a", "-E", sb.log], [STORM, ROUNDS], timeout=300)
    judge(storm_result(enforced.stdout), "-a")
    eq(sb.log_lines(), [], "nothing denied under -a")


@with_sandbox
def a_signal_storm_while_a_question_is_answered(sb):
    sb.run(["-A"], [STORM, ROUNDS], timeout=300)
    # The kill rule goes: the first kill is asked, "permit" writes it back for the rest.
    path = sb.policy_file(STORM)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write("".join(l for l in text.splitlines(True) if "native-kill" not in l))
    t = Terminal([SYSTRACE, "-t", "-d", sb.policies, STORM, ROUNDS], env=sb.env)
    try:
        q = t.read_until("Answer:", timeout=60)
        contains(q, "kill", "the question")
        t.answer("permit")
        eq(t.wait(timeout=300), 0, "exit")
    finally:
        if t.status is None:
            os.kill(t.pid, 9)
    judge(storm_result(t.out.decode(errors="replace")), "-t")
    contains(sb.policy(STORM), "native-kill: ", "the answer written")


@with_sandbox
def a_go_program_does_its_io_as_natively(sb):
    if not os.path.exists(GO_IO):
        raise Skip("no Go toolchain: install golang-go")
    outputs = []
    for mode in ([], ["-A"], ["-A"], ["-a", "-E", sb.log]):
        d = tempfile.mkdtemp(prefix="systrace-go-")
        try:
            if not mode:
                p = subprocess.run([GO_IO, d], capture_output=True, text=True, timeout=120)
            else:
                p = sb.run(mode, [GO_IO, d], timeout=300)
            eq(p.returncode, 0, f"{mode or 'native'}: {p.stderr[-2000:]}")
            outputs.append(p.stdout)
            eq(os.listdir(d), [], f"{mode}: every file removed")
        finally:
            shutil.rmtree(d, ignore_errors=True)
    for out in outputs[1:]:
        eq(out, outputs[0], "output under supervision")
    eq(sb.log_lines(), [], "nothing denied under -a")


main()
