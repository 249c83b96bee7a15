"""test_prompt.py: the terminal asker (systrace -t) driven through a pseudo-terminal, as a person
would answer it."""
import os
import signal
import time

from lib import with_sandbox, HELPER, SYSTRACE, Sandbox, Terminal, contains, eq, main, test

HELPER_PATH = os.path.realpath(HELPER)


def asking(sb, command, flags=()):
    """Learns COMMAND's start-up, then runs it in ask mode (-t) on a terminal."""
    return Terminal([SYSTRACE, "-t", "-E", sb.log, "-d", sb.policies, *flags, *command], env=sb.env)



def learn_startup(sb, command=(HELPER, "getpid")):
    """A policy for everything COMMAND does on a terminal, which the calls under test are not."""
    t = Terminal([SYSTRACE, "-A", "-d", sb.policies, *command], env=sb.env)
    eq(t.wait(), 0, "learning the start-up")


@with_sandbox
def permit_once_and_deny_once(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid", "getppid", "open", "/etc/hostname"])
    q = t.read_until("Answer: ")
    contains(q, f"systrace: \"{HELPER_PATH}\"[")
    contains(q, "getppid")
    contains(q, "1) native-getppid: permit")
    t.answer("permit-now")
    q = t.read_until("Answer: ")
    contains(q, "getppid : ok")
    t.answer("deny-now")
    q = t.read_until("Answer: ")
    contains(q, "getppid : EPERM")
    contains(q, 'fsread (openat): filename "/etc/hostname", oflags "O_RDONLY"')
    t.answer("deny-now[eacces]")
    eq(t.wait(), 0, "exit")
    contains(t.out.decode(), "open /etc/hostname: EACCES")
    assert "getppid" not in sb.policy(HELPER_PATH), "once answers are not written"


@with_sandbox
def permit_always_is_written_to_the_policy(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid", "getppid", "open", "/etc/hostname"])
    t.read_until("Answer: ")
    t.answer("permit")
    # The second getppid is decided by the rule just written: no question until the open.
    q = t.read_until("Answer: ")
    eq(q.count("getppid : ok"), 2, "both getppid permitted")
    t.answer("deny[enoent]")
    eq(t.wait(), 0, "exit")
    contains(t.out.decode(), "open /etc/hostname: ENOENT")
    text = sb.policy(HELPER_PATH)
    contains(text, "\tnative-getppid: permit\n")
    contains(text, '\tnative-fsread: filename eq "/etc/hostname" then deny[enoent]\n')


@with_sandbox
def session_answers_last_for_the_run_only(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid", "getppid"])
    t.read_until("Answer: ")
    t.answer("permit-session")
    eq(t.wait(), 0, "exit")
    out = t.out.decode()
    eq(out.count("getppid : ok"), 2, "both calls permitted")
    assert "Answer:" not in out, "the second call is not asked"
    assert "getppid" not in sb.policy(HELPER_PATH), "session answers are not written"


@with_sandbox
def suggestion_by_number_and_typed_rules(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "open", "/etc/hostname", "open", "/etc/hosts", "open", "/etc/passwd"])
    q = t.read_until("Answer: ")
    contains(q, '2) native-fsread: filename match "/etc/*" then permit')
    t.answer("1")  # the exact rule
    q = t.read_until("Answer: ")
    contains(q, "open /etc/hostname: ok")
    # A typed rule that does not parse is refused, with the reason; the question stands.
    t.answer('filename eq "/etc/hosts then permit')
    q = t.read_until("Answer: ")
    contains(q, "refused: column")
    contains(q, "unterminated string")
    # A rule that does not match this call is refused.
    t.answer('filename eq "/etc/other" then permit')
    q = t.read_until("Answer: ")
    contains(q, "refused: the rule does not match this call")
    t.answer('filename eq "/etc/hosts" then deny[eacces]')
    q = t.read_until("Answer: ")
    contains(q, "open /etc/hosts: EACCES")
    t.answer("?")
    q = t.read_until("Answer: ")
    contains(q, "permit-now, deny-now[ERRNO]")
    t.answer("review")
    q = t.read_until("Answer: ")
    contains(q, f"Policy: {HELPER_PATH}, Emulation: native")
    t.answer("nonsense words")
    q = t.read_until("Answer: ")
    contains(q, "refused:")
    t.answer("deny[enosuch]")
    q = t.read_until("Answer: ")
    contains(q, "refused: an errno in brackets follows deny")
    t.answer("permit-now")
    eq(t.wait(), 0, "exit")
    text = sb.policy(HELPER_PATH)
    contains(text, 'native-fsread: filename eq "/etc/hostname" then permit')
    contains(text, 'native-fsread: filename eq "/etc/hosts" then deny[eacces]')
    assert "/etc/passwd" not in text


@with_sandbox
def kill_answer(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid", "getpid"])
    t.read_until("Answer: ")
    t.answer("kill")
    eq(t.wait(), 128 + signal.SIGKILL, "killed")
    assert "getpid : ok" not in t.out.decode()


@with_sandbox
def detach_answer(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid", "open", "/etc/hostname", "getppid"])
    t.read_until("Answer: ")
    t.answer("detach")
    eq(t.wait(), 0, "exit")
    out = t.out.decode()
    contains(out, "open /etc/hostname: ok")
    eq(out.count("getppid : ok"), 2, "both calls ran")
    assert "Answer:" not in out, "no question after detaching"


@with_sandbox
def a_process_killed_while_its_question_waits(sb):
    learn_startup(sb)
    t = asking(sb, [HELPER, "getppid"])
    q = t.read_until("Answer: ")
    pid = int(q.split(f"{HELPER_PATH}\"[")[1].split("]")[0])
    os.kill(pid, signal.SIGKILL)
    t.read_until("question withdrawn")
    eq(t.wait(), 128 + signal.SIGKILL, "the launcher passes the kill on")


@with_sandbox
def other_processes_go_on_while_a_question_waits(sb):
    # Learned: the shell, and a helper that only sleeps; the other helper asks.
    learn_startup(sb, ["/bin/sh", "-c", f"{HELPER} sleep 10 & {HELPER} getpid; wait"])
    t = asking(sb, ["/bin/sh", "-c", f"{HELPER} getppid & {HELPER} sleep 10 sleep 10; wait"])
    q = t.read_until("Answer: ")
    contains(q, "getppid")
    # While the question is open, the other helper runs to its end.
    t.read_until("sleep 10: ok\r\nsleep 10: ok", timeout=10)
    t.answer("permit-now")
    eq(t.wait(), 0, "exit")


@with_sandbox
def a_signal_storm_asks_once(sb):
    # With a SIGALRM every millisecond, the waiting call is not restarted as a new question.
    learn_startup(sb, [HELPER, "alarm-ms", "1", "sleep", "50", "getpid"])
    t = asking(sb, [HELPER, "alarm-ms", "1", "getppid", "getpid"])
    q = t.read_until("Answer: ")
    contains(q, "getppid")
    time.sleep(1.0)
    t.answer("permit-now")
    eq(t.wait(), 0, "exit")
    out = t.out.decode()
    assert "Answer:" not in out, f"asked again:\n{out}"
    contains(out, "getppid : ok")


if __name__ == "__main__":
    main()
