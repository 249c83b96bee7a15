"""Where the decision log goes: syslog when a syslog daemon listens on /dev/log, standard error
(said once) when none does, as on minimal and container systems. Each run is in a mount namespace
of its own, where /dev/log is made missing or replaced by the test's own datagram socket."""
import os
import socket
import subprocess
import sys
import threading

from lib import HELPER, SYSTRACE, contains, eq, main, need_root, resolved, with_sandbox

# Builds a /dev of its own: the real device nodes the programs need, and LOG (a socket, or
# nothing) as /dev/log.
NAMESPACE_SCRIPT = r"""
set -e
top=$1 log=$2
shift 2
mkdir -p "$top/realdev"
mount --bind /dev "$top/realdev"
mount -t tmpfs tmpfs /dev
for n in null zero full random urandom tty; do
    touch "/dev/$n"
    mount --bind "$top/realdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
if [ -n "$log" ]; then
    touch /dev/log
    mount --bind "$log" /dev/log
fi
exec "$@"
"""


def run_in_namespace(sb, log_socket, flags, command):
    need_root()
    args = ["unshare", "--mount", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT, "sh",
            sb.dir, log_socket or "", SYSTRACE, "-d", sb.policies, *flags, *command]
    return subprocess.run(args, capture_output=True, text=True, env=sb.env, timeout=60,
                          stdin=subprocess.DEVNULL)


@with_sandbox
def without_syslog_the_log_goes_to_stderr_and_says_so_once(sb):
    # No policy at all: every call is uncovered, the program dies at its first.
    p = run_in_namespace(sb, None, ["-a"], [HELPER, "getppid"])
    assert p.returncode != 0, p
    eq(p.stderr.count("syslog cannot be reached (/dev/log: No such file or directory): the log "
                      "goes to standard error"), 1, p.stderr)
    binary = resolved(HELPER)
    eq(p.stderr.count(f'no policy for "{binary}" (looked in {sb.policies}/'), 1, p.stderr)
    contains(p.stderr, f'binary="{binary}"')
    contains(p.stderr, "decision=deny errno=EPERM reason=uncovered")


@with_sandbox
def with_syslog_the_log_goes_there(sb):
    path = sb.path("log-socket")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(0.5)
    lines, done = [], threading.Event()

    def drain():
        # Read while the program runs: syslog(3) blocks when the socket's queue is full.
        while not done.is_set():
            try:
                lines.append(server.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        p = run_in_namespace(sb, path, ["-a"], [HELPER, "getppid"])
        assert p.returncode != 0, p
        assert "syslog" not in p.stderr and "decision=" not in p.stderr, p.stderr
        done.set()
        reader.join()
        try:  # what came after the reader's last look
            while True:
                lines.append(server.recv(65536).decode(errors="replace"))
        except socket.timeout:
            pass
        text = "\n".join(lines)
        contains(text, "decision=deny")
        contains(text, "systrace[")
        contains(text, f'no policy for "{resolved(HELPER)}"')
    finally:
        done.set()
        if reader.is_alive():
            reader.join()
        server.close()


@with_sandbox
def a_flood_of_distinct_denials_is_held_to_a_volume_and_counted(sb):
    sb.learn([HELPER, "getppid"])
    prefix = sb.path("flood-")
    n = 20000
    p = sb.enforce([HELPER, "mkdir-many", prefix, str(n)])
    eq(p.stdout.strip(), f"mkdir-many {prefix}: {n} of {n} failed", "every mkdir denied")
    lines = sb.log_lines()
    denials = [l for l in lines if "decision=deny" in l]
    # A thousand at once, then a hundred a second: the run takes a few seconds at most.
    eq(1000 <= len(denials) < 3000, True, f"{len(denials)} denials written of {n}")
    held = [int(l.split("]: ", 1)[1].split()[0]) for l in lines
            if "lines held back, not written: more than 100 lines a second" in l]
    eq(len(held) >= 1, True, "the count of what was held back is written")
    eq(sum(held) + len(denials), n, "every denial is written or counted")


if __name__ == "__main__":
    sys.exit(main())
