"""test_race.py: attackers rewrite arguments from another thread or process while their calls
are checked. A test passes only if no forbidden object was reached in thousands
of attempts and the permitted operations still worked.

Built with -Dunsafe_continue=true, the engine answers CONTINUE instead of performing the calls:
the same attacks must then succeed, which shows that these tests can fail."""
import os
import shutil
import signal
import socket
import subprocess
import threading

from lib import with_sandbox, HELPER, SYSTRACE, Sandbox, contains, eq, main, test

ATTACK = os.path.realpath(os.environ.get("ST_ATTACK", "build/tests/race/attack"))
EXPECT_ESCAPES = os.environ.get("SYSTRACE_RACE_EXPECT_ESCAPES") == "1"



def result(p):
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    if "attempts" not in fields:
        raise AssertionError(f"no result (exit {p.returncode}):\n{p.stdout}\n{p.stderr[-2000:]}")
    return {k: int(v) for k, v in fields.items()}


def judge(r, breakable=True):
    """Zero escapes and some successes; in the unsafe build, a breakable attack must escape."""
    print(f"# {r}", flush=True)
    if EXPECT_ESCAPES and breakable:
        assert r["escapes"] > 0, f"the attack should succeed against CONTINUE: {r}"
        return
    eq(r["escapes"], 0, f"escapes in {r}")
    assert r["ok"] > 0, f"the permitted operation never worked: {r}"



@with_sandbox
def path_flipped_by_another_thread(sb):
    good, bad = sb.path("good"), sb.path("evil")
    for f, content in ((good, "good"), (bad, "X: forbidden")):
        with open(f, "w") as out:
            out.write(content)
    sb.learn([ATTACK, "open-flip", good, good, "100"])
    assert bad not in sb.policy(ATTACK)
    p = sb.enforce([ATTACK, "open-flip", good, bad, "20000"])
    judge(result(p))


@with_sandbox
def directory_swapped_for_a_symlink_by_another_process(sb):
    base = sb.path("base")
    os.makedirs(os.path.join(base, "dir"))
    os.makedirs(os.path.join(base, "secret"))
    for d, content in (("dir", "dir"), ("secret", "X: forbidden")):
        with open(os.path.join(base, d, "f"), "w") as out:
            out.write(content)
    os.symlink(os.path.join(base, "secret"), os.path.join(base, "dix"))
    path, bad = os.path.join(base, "dir", "f"), os.path.join(base, "secret", "f")
    sb.learn([ATTACK, "open-loop", path, "10"])
    assert bad not in sb.policy(ATTACK)
    swapper = subprocess.Popen([ATTACK, "swap", os.path.join(base, "dir"), os.path.join(base, "dix")])
    try:
        p = sb.enforce([ATTACK, "open-loop", path, "20000"])
    finally:
        swapper.kill()
        swapper.wait()
    judge(result(p))


class Listener:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.done = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.done:
            try:
                c, _ = self.sock.accept()
                c.close()
            except (socket.timeout, OSError):
                pass

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


@with_sandbox
def socket_address_flipped_between_ports(sb):
    good, bad = Listener(), Listener()
    try:
        sb.learn([ATTACK, "connect-flip", str(good.port), str(good.port), "20"])
        # The listener's port is one the kernel picked, which learning writes as any port: the
        # policy permits exactly the good one here.
        sb.prepend_rules(ATTACK, [
            f'native-connect: sockaddr eq "inet-[127.0.0.1]:{good.port}" then permit',
            'native-connect: true then deny'])
        p = sb.enforce([ATTACK, "connect-flip", str(good.port), str(bad.port), "5000"])
        judge(result(p))
    finally:
        good.close()
        bad.close()


@with_sandbox
def execve_path_flipped_between_programs(sb):
    good, bad, mark = sb.path("good-prog"), sb.path("evil-prog"), sb.path("mark")
    shutil.copy("/bin/true", good)
    shutil.copy(ATTACK, bad)
    # The forbidden program could leave its mark under its own policy, if it ever ran.
    sb.learn([bad, "mark", mark])
    sb.prepend_rules(bad, [f'native-fswrite: filename sub "{mark}" then permit'])
    os.unlink(mark)
    sb.learn([ATTACK, "exec-flip", good, good, mark, "10"])
    # A naive supervisor may also take it for the program permitted, whose policy then applies.
    sb.prepend_rules(good, [f'native-fswrite: filename sub "{mark}" then permit'])
    p = sb.enforce([ATTACK, "exec-flip", good, bad, mark, "1500"])
    r = result(p)
    # The mark is counted here: the attacker itself may not look at it.
    r["escapes"] = os.path.getsize(mark) if os.path.exists(mark) else 0
    judge(r)


@with_sandbox
def path_straddling_a_page_another_thread_unmaps(sb):
    sb.learn([ATTACK, "straddle", "200"])
    p = sb.enforce([ATTACK, "straddle", "20000"])
    eq(p.returncode, 0, "exit")
    r = result(p)
    assert r["ok"] + r["faults"] > 0, r


@with_sandbox
def high_bits_in_integer_arguments(sb):
    sb.learn([HELPER, "socket", "inet"])
    sb.prepend_rules(os.path.realpath(HELPER), ['native-socket: sockdom eq "AF_INET" then deny[eacces]'])
    p = sb.enforce([HELPER, "socket-highbits", "socket", "inet"])
    eq(p.stdout, "socket-highbits : EACCES\nsocket inet: EACCES\n", "high bits do not slip by")


@with_sandbox
def int80_from_a_64_bit_process(sb):
    sb.learn([HELPER, "getpid"])
    p = sb.enforce([HELPER, "int80", "getpid"])
    assert p.returncode in (128 + signal.SIGSYS, 128 + signal.SIGSEGV), p.returncode
    eq(p.stdout, "", "the i386 call did not run")


@with_sandbox
def sigalrm_every_millisecond(sb):
    d = sb.path("created")
    os.mkdir(d)
    sb.learn([ATTACK, "alarm-storm", d, "20"])
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    sb.prepend_rules(ATTACK, [f'native-fswrite: filename match "<non-existent filename>: {d}/*" '
                         'then permit'])
    p = sb.enforce([ATTACK, "alarm-storm", d, "5000"])
    r = result(p)
    judge(r, breakable=False)
    eq(r["ok"], 5000, f"every create ran once: {r}")
    assert r["alarms"] > 0, r
    eq(len(os.listdir(d)), 5000, "files created")


@with_sandbox
def sigkill_between_receive_and_reply(sb):
    sb.learn([ATTACK, "kill-storm", "3"])
    p = sb.enforce([ATTACK, "kill-storm", "300"])
    r = result(p)
    judge(r, breakable=False)
    eq(p.returncode, 0, "exit")


@with_sandbox
def every_injected_descriptor_is_the_file_opened(sb):
    # The watchdog interrupts workers whose request is void; a request answered by ADDFD looks
    # void while the target installs the descriptor, and an interrupted ADDFD left the open
    # returning 0 (stdin) instead of the file. A long run of opens meets many watchdog ticks.
    target = sb.path("file")
    with open(target, "w") as f:
        f.write("content")
    sb.learn([ATTACK, "open-exact", target, "10"])
    p = sb.enforce([ATTACK, "open-exact", target, "40000"])
    r = result(p)
    judge(r, breakable=False)
    eq(r["wrong"], 0, f"descriptors that are not the file: {r}")


@with_sandbox
def blocked_calls_of_killed_processes_do_not_pile_up(sb):
    # An open of a FIFO no one writes blocks the supervisor performing it. More killed openers
    # than the supervisor has workers: without the watchdog freeing their workers, the last
    # call would wait forever.
    fifo = sb.path("fifo")
    os.mkfifo(fifo)
    script = (f'i=0; while [ $i -lt 70 ]; do {HELPER} open {fifo} & p=$!; sleep 0.05; '
              f'kill -9 $p; wait $p; i=$((i+1)); done; {HELPER} getpid')
    sb.learn(["/bin/sh", "-c", script.replace("70", "2")])
    # The kill may land before the child has become the helper: permit it whatever it runs.
    sb.prepend_rules(os.path.realpath("/bin/sh"), ['native-kill: signame eq "SIGKILL" then permit'])
    p = sb.run(["-a", "-E", sb.log], ["/bin/sh", "-c", script], timeout=120)
    eq(p.stdout, "getpid : ok\n", f"the last call was served (stderr {p.stderr[-500:]})")


@with_sandbox
def the_target_cannot_reach_its_supervisor(sb):
    # Learning permits everything else: these are refused whatever the policy says.
    p = sb.learn([HELPER, "poke-parent"])
    eq(p.stdout, "ptrace-attach : EPERM\nvm-readv : EPERM\nvm-writev : EPERM\nkcmp : EPERM\n"
                 "pidfd-open : EPERM\nopen-mem : EACCES\nopen-status : EACCES\nkill-0 : EPERM\n"
                 "prlimit : EPERM\nsetpriority : EPERM\nsetpriority-user : EPERM\n"
                 "ioprio : EPERM\nsched-setaffinity : EPERM\nsetown : EPERM\n"
                 "setown-ex : EPERM\nsetown-self : ok\nkill-everyone : EPERM\n",
       "every attempt refused")
    contains(p.stderr, "policy written")



SAY_STATIC = os.path.realpath(os.environ.get("ST_SAY_STATIC", "build/tests/race/say-static"))


def escaped_lines(p):
    return sum(1 for l in p.stdout.splitlines() if l.strip() == "ESCAPED")


@with_sandbox
def exec_flipped_to_a_program_that_only_writes(sb):
    # What was loaded is checked before it runs one instruction: a program whose only harm is a
    # write the kernel itself permits never makes it.
    good, bad = sb.path("good"), sb.path("evil")
    shutil.copy("/bin/true", good)
    shutil.copy(SAY_STATIC, bad)
    sb.learn([ATTACK, "exec-args", good, good, "10"])
    p = sb.enforce([ATTACK, "exec-args", good, bad, "1500"])
    r = result(p)
    r["escapes"] = escaped_lines(p)
    judge(r)


@with_sandbox
def exec_of_a_script_flipped_to_its_interpreter(sb):
    # The interpreter exec'd directly with the script's name as an argument is not the script:
    # the kernel's own file name (AT_EXECFN) tells them apart.
    script, interp = sb.path("s.sh"), sb.path("dash")
    with open(script, "w") as f:
        f.write("#!/bin/sh\ntrue\n")
    os.chmod(script, 0o755)
    try:
        os.link(os.path.realpath("/bin/sh"), interp)  # the very interpreter, by another name
    except OSError:
        shutil.copy(os.path.realpath("/bin/sh"), interp)
    sb.learn([ATTACK, "exec-args", script, script, "10", "-c", "echo ESCAPED"])
    p = sb.enforce([ATTACK, "exec-args", script, interp, "1000", "-c", "echo ESCAPED"])
    r = result(p)
    r["escapes"] = escaped_lines(p)
    judge(r)


@with_sandbox
def exec_arguments_flipped_after_the_check(sb):
    # An exec permitted for some arguments only: the arguments the kernel built are checked.
    sb.learn([ATTACK, "argv-flip", ATTACK, "good", "good", "10"])
    sb.prepend_rules(ATTACK, [
        f'native-execve: filename eq "{ATTACK}" and argv eq "{ATTACK} say good" then permit',
        f'native-execve: filename eq "{ATTACK}" then deny'])
    p = sb.enforce([ATTACK, "argv-flip", ATTACK, "good", "evil", "1500"])
    r = result(p)
    r["escapes"] = sum(1 for l in p.stdout.splitlines() if l == "SAID evil")
    r["ok"] = sum(1 for l in p.stdout.splitlines() if l == "SAID good")
    judge(r)


@with_sandbox
def a_descriptor_reopened_while_another_thread_dup2s(sb):
    # /proc/self/fd/10 is decided on what descriptor 10 is when the path is read, and the call is
    # performed on that very object: a file dup2'd onto 10 meanwhile is not reached.
    ro = sb.path("ro")
    with open(ro, "w") as f:
        f.write("read only\n")
    sb.learn([ATTACK, "reopen-flip", ro, "20"])
    path = sb.policy_file(ATTACK)
    with open(path) as f:
        # Whatever learning wrote for writing (the race may have reached the file meanwhile):
        # only the pipe may be written.
        lines = [l for l in f.read().splitlines(True) if "fswrite" not in l]
    with open(path, "w") as f:
        f.writelines(lines)
    sb.prepend_rules(ATTACK, ['native-fswrite: filename match "pipe:*" then permit'])
    p = sb.enforce([ATTACK, "reopen-flip", ro, "20000"])
    judge(result(p))
    with open(ro) as f:
        eq(f.read(), "read only\n", "the read-only file")


@with_sandbox
def a_process_that_gets_the_pid_of_one_that_ended(sb):
    # What the supervisor knew of a process leaves with it: another that gets its pid later is
    # governed by its own program's policy, not by the one that ended. (The launch child's own
    # pid cannot be reused at all: the launcher holds a pidfd of it.)
    allowed, secret = sb.path("allowed"), sb.path("secret")
    good = sb.path("good-attack")
    shutil.copy(ATTACK, good)
    with open(allowed, "w") as f:
        f.write("allowed\n")
    with open(secret, "w") as f:
        f.write("X: forbidden\n")
    sb.learn([ATTACK, "pid-reuse", good, allowed])
    sb.prepend_rules(good, [f'native-fsread: filename eq "{secret}" then permit'])
    assert secret not in sb.policy(ATTACK)
    p = sb.run(["-a", "-E", sb.log], [ATTACK, "pid-reuse", good, secret], timeout=300)
    contains(p.stdout, f"open-exit {secret}: ok", "the program that may read it did")
    r = result(p)
    judge(r, breakable=False)


@with_sandbox
def chdir_flipped_with_a_cwd_rule(sb):
    # A $CWD rule makes a working directory grant something: a chdir raced to another directory
    # than the one checked is found at the next request, and that process killed first.
    good, bad = sb.path("good"), sb.path("evil")
    for d, content in ((good, "good"), (bad, "X: forbidden")):
        os.mkdir(d)
        with open(os.path.join(d, "f"), "w") as out:
            out.write(content)
    sb.learn([ATTACK, "chdir-flip", good, good, "10"])
    sb.prepend_rules(ATTACK, [f'native-chdir: filename eq "{good}" then permit',
                              'native-chdir: true then deny',
                              'native-fsread: filename match "$CWD/*" then permit'])
    p = sb.enforce([ATTACK, "chdir-flip", good, bad, "1500"])
    judge(result(p))


@with_sandbox
def the_targets_process_group_is_its_own(sb):
    # kill(0, …) signals the program's own group: the launcher is not in it, and lives on to
    # report that the program died of it (learning permits the kill: the attacker's best case).
    for sig in (signal.SIGQUIT, signal.SIGUSR2, signal.SIGTERM):
        p = sb.run(["-A"], [HELPER, "kill-group", str(int(sig))], timeout=30)
        eq(p.returncode, 128 + int(sig), f"{sig.name}: {p.stderr}")


@with_sandbox
def personality_that_makes_memory_executable(sb):
    sb.learn([HELPER, "personality", "0xffffffff"])
    sb.prepend_rules(HELPER, ["native-personality: permit"])
    p = sb.enforce([HELPER, "personality", "0xffffffff", "personality", "0x0400000"])
    eq(p.stdout, "personality 0xffffffff: ok\npersonality 0x0400000: EPERM\n",
       "an unconditional permit is not for READ_IMPLIES_EXEC")
    contains(sb.log_lines()[-1], "reason=widens-memory-rights")
    sb.prepend_rules(HELPER, ['native-personality: persona eq "READ_IMPLIES_EXEC" then permit'])
    p = sb.enforce([HELPER, "personality", "0x0400000"])
    eq(p.stdout, "personality 0x0400000: ok\n", "a rule that names it")


if __name__ == "__main__":
    main()
