"""test_learning.py: learned policies that survive the next run. Real programs (ordinary tools, a
backup script, a two-job make, python3 -m http.server) are learned twice, then enforced a third
time with other temporary names, another stdout, from another directory: everything works, and
the second learning run adds no rule."""
import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

from lib import (Sandbox, Skip, SYSTRACE, HELPER, contains, eq, main, need_root, resolved,
                 with_sandbox)

HELPER_PATH = os.path.realpath(HELPER)
PYTHON = "/usr/bin/python3"
# One PATH for every run, and no TMPDIR: mktemp and gcc then use /tmp.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def env_of(sb, **extra):
    env = {k: v for k, v in sb.env.items() if k != "TMPDIR"}
    env.update(dict(PATH=PATH, LC_ALL="C.UTF-8"), **extra)
    return env


def communicate(proc, timeout):
    """Waits for PROC; on a timeout (or any error) ends its whole session, so that nothing of a
    supervised tree goes on loading the machine."""
    try:
        return proc.communicate(timeout=timeout)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise


def launch(sb, flags, command, cwd, stdout_file=None, env=None):
    """Runs the launcher with FLAGS in CWD; stdout to STDOUT_FILE (a path) or a pipe."""
    args = [SYSTRACE, "-d", sb.policies, *flags, *command]
    out = open(stdout_file, "w") if stdout_file else subprocess.PIPE
    try:
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True,
                                env=env or env_of(sb), stdin=subprocess.DEVNULL,
                                start_new_session=True)
        stdout, stderr = communicate(proc, 300)
    finally:
        if stdout_file:
            out.close()
    if stdout_file:
        with open(stdout_file) as f:
            stdout = f.read()
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def learn(sb, command, cwd, stdout_file=None, env=None):
    return launch(sb, ["-A"], command, cwd, stdout_file, env)


def enforce(sb, command, cwd, stdout_file=None, env=None):
    return launch(sb, ["-a", "-E", sb.log], command, cwd, stdout_file, env)


def rules(sb):
    """Every policy file's rule lines (includes too), by file name."""
    found = {}
    if not os.path.isdir(sb.policies):
        return found
    for name in sorted(os.listdir(sb.policies)):
        if name.startswith("."):
            continue
        with open(os.path.join(sb.policies, name)) as f:
            found[name] = [l.strip() for l in f if l.startswith("\t")]
    return found


def count(found):
    return sum(len(v) for v in found.values())


class Problems:
    """The failures of one workload, gathered so that one run shows them all (a failed learning
    run still leaves a policy worth enforcing)."""

    def __init__(self, what):
        self.what, self.v = what, []

    def check(self, fn, *args):
        try:
            fn(*args)
        except AssertionError as e:
            self.v.append(str(e))

    def no_new_rules(self, before, after):
        added = {n: [r for r in after[n] if r not in before.get(n, [])] for n in after}
        added = {n: r for n, r in added.items() if r}
        if added:
            text = "\n".join(f"{n}:\n  " + "\n  ".join(r) for n, r in added.items())
            self.v.append(f"the second learning run added rules:\n{text}")

    def done(self):
        if self.v:
            raise AssertionError(f"{self.what}:\n" + "\n".join(self.v))


def denials(sb):
    return [l for l in sb.log_lines() if "decision=deny" in l]


def note(text):
    """A figure for the report, as a TAP comment."""
    print(f"# {text}", flush=True)


# Ordinary tools under -A behave as they do natively.

def tree(top):
    """What a directory holds: path -> (type, mode, size, content hash or link target)."""
    out = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", oct(stat.S_IMODE(st.st_mode)))
            else:
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()[:16]
                out[rel] = ("file", oct(stat.S_IMODE(st.st_mode)), st.st_size, digest)
    return out


OLD = 946684800  # 2000-01-01: a modification time no tool sets by itself


def tool_scenario(top):
    os.makedirs(os.path.join(top, "sub"))
    for name, text in [("a.txt", "alpha\n"), ("b.txt", "zeta\nalpha\nmu\n"),
                       ("old.txt", "old\n"), ("sub/c.txt", "gamma\n")]:
        with open(os.path.join(top, name), "w") as f:
            f.write(text)
    for name in ("a.txt", "old.txt"):
        os.utime(os.path.join(top, name), (OLD, OLD))


TOOLS = [
    ["touch", "a.txt"],
    ["touch", "new.txt"],
    ["cp", "-p", "old.txt", "copy.txt"],
    ["gzip", "-k", "b.txt"],
    ["tar", "-cf", "out.tar", "sub"],
    ["sort", "-o", "sorted.txt", "b.txt"],
    ["find", ".", "-name", "*.txt"],
    ["mktemp", "-p", "."],
    ["sed", "-i", "s/alpha/beta/", "b.txt"],
    ["install", "-D", "-m", "0640", "sub/c.txt", "inst/c.txt"],
    ["ln", "-s", "a.txt", "link"],
    ["mkdir", "-p", "d/e"],
    ["mkdir", "-p", "d/e"],
]


@with_sandbox
def ordinary_tools_behave_under_learning_as_natively(sb):
    need_root()
    native, learned = sb.path("native"), sb.path("learned")
    tool_scenario(native)
    tool_scenario(learned)
    problems = []
    for cmd in TOOLS:
        n = subprocess.run(cmd, cwd=native, capture_output=True, text=True, env=env_of(sb))
        l = learn(sb, cmd, cwd=learned)
        out_n, out_l = n.stdout, l.stdout
        if cmd[0] == "mktemp":  # a new random name each time: only that one was made
            out_n, out_l = len(out_n.split()), len(out_l.split())
        err_l = "".join(x for x in l.stderr.splitlines(True)
                        if not x.startswith(("systrace: policy written:",
                                             "systrace: syslog cannot be reached")))
        if (n.returncode, out_n, n.stderr) != (l.returncode, out_l, err_l):
            problems.append(f"{' '.join(cmd)}: native exit {n.returncode} {n.stdout!r} "
                            f"{n.stderr!r}; under -A exit {l.returncode} {l.stdout!r} "
                            f"{l.stderr!r}")
    tn, tl = tree(native), tree(learned)
    for d in (tn, tl):  # mktemp's file: its name differs, its presence does not
        for k in [k for k in d if k.startswith("tmp.")]:
            d["tmp.*"] = d.pop(k)
    for k in sorted(set(tn) | set(tl)):
        if tn.get(k) != tl.get(k):
            problems.append(f"{k}: native {tn.get(k)}, under -A {tl.get(k)}")
    for top, what in ((native, "native"), (learned, "under -A")):
        if int(os.stat(os.path.join(top, "a.txt")).st_mtime) == OLD:
            problems.append(f"touch a.txt did not set its time ({what})")
        if int(os.stat(os.path.join(top, "copy.txt")).st_mtime) != OLD:
            problems.append(f"cp -p did not keep the time ({what})")
    if problems:
        raise AssertionError("learning changed what programs do:\n" + "\n".join(problems))


# Convergence: three real workloads.

BACKUP = """#!/bin/sh
# backup SRC DEST: a timestamped, compressed archive of SRC in DEST; prints its name
set -eu
src=$1 dest=$2
mkdir -p "$dest"
tmp=$(mktemp -d)
stamp=$(date +%Y%m%d-%H%M%S)
tar -cf "$tmp/backup-$stamp.tar" -C "$src" .
gzip "$tmp/backup-$stamp.tar"
mv "$tmp/backup-$stamp.tar.gz" "$dest/"
rm -rf "$tmp"
echo "backup-$stamp.tar.gz"
"""


def backup_workdir(top):
    os.makedirs(os.path.join(top, "data", "notes"))
    for name, text in [("data/a.txt", "one\n"), ("data/b.txt", "two\n"),
                       ("data/notes/c.txt", "three\n")]:
        with open(os.path.join(top, name), "w") as f:
            f.write(text)


def check_backup(p, top, what):
    eq(p.returncode, 0, f"{what}: exit (stderr: {p.stderr})")
    name = p.stdout.strip().splitlines()[-1]
    archive = os.path.join(top, "out", name)
    assert os.path.exists(archive), f"{what}: no {archive}"
    listing = subprocess.run(["tar", "-tzf", archive], capture_output=True, text=True).stdout
    contains(listing, "./notes/c.txt", f"{what}: archive")


@with_sandbox
def a_script_learned_from_its_directory_runs_from_anywhere(sb):
    """The shell reads the script by its own path: learned as that path, not as $CWD/…, so the
    script run by its absolute path from another directory keeps working."""
    work = sb.path("work")
    os.makedirs(work)
    script = os.path.join(work, "job.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\nt=$(mktemp)\necho hi > "$t"\ncat "$t"\nrm -f "$t"\n')
    os.chmod(script, 0o755)
    eq(learn(sb, ["./job.sh"], work).stdout, "hi\n", "learned from its directory")
    p = enforce(sb, [script], "/")
    eq((p.returncode, p.stdout), (0, "hi\n"), f"enforced from /: {p.stderr}")
    eq(denials(sb), [], "nothing denied")


@with_sandbox
def a_backup_script_converges(sb):
    need_root()
    script = sb.path("backup")
    with open(script, "w") as f:
        f.write(BACKUP)
    os.chmod(script, 0o755)
    first, second = sb.path("w1"), sb.path("w2")
    backup_workdir(first)
    backup_workdir(second)
    cmd = [script, "data", "out"]
    pr = Problems("backup script")
    pr.check(check_backup, learn(sb, cmd, first, stdout_file=sb.path("out1")), first,
             "learning 1")
    after_first = rules(sb)
    time.sleep(1.1)  # another timestamp, another temporary directory
    pr.check(check_backup, learn(sb, cmd, first, stdout_file=sb.path("out2")), first,
             "learning 2")
    after_second = rules(sb)
    note(f"backup script: {count(after_first)} rules learned, "
         f"{count(after_second) - count(after_first)} added by the second run")
    pr.no_new_rules(after_first, after_second)
    time.sleep(1.1)
    p = enforce(sb, cmd, second)  # another directory, stdout a pipe
    pr.check(check_backup, p, second, "enforced")
    pr.check(eq, denials(sb), [], "denials when enforced")
    pr.done()


PROJECT = {
    "main.c": '#include <stdio.h>\nint add(int, int);\nint main(void)\n'
              '{\n    printf("%d\\n", add(40, 2));\n    return 0;\n}\n',
    "add.c": "int add(int a, int b)\n{\n    return a + b;\n}\n",
    "Makefile": "prog: main.o add.o\n\t$(CC) -o $@ main.o add.o\n"
                "%.o: %.c\n\t$(CC) -O2 -c -o $@ $<\n"
                "clean:\n\trm -f prog *.o\n",
}


def project(top):
    os.makedirs(top)
    for name, text in PROJECT.items():
        with open(os.path.join(top, name), "w") as f:
            f.write(text)


def check_build(p, top, what):
    eq(p.returncode, 0, f"{what}: make's exit (stderr: {p.stderr})")
    run = subprocess.run([os.path.join(top, "prog")], capture_output=True, text=True)
    eq(run.stdout, "42\n", f"{what}: the program built")


@with_sandbox
def a_two_job_make_converges(sb):
    need_root()
    if not shutil.which("make") or not shutil.which("cc"):
        raise Skip("make and a C compiler are needed (scripts/install-deps)")
    first, second = sb.path("p1"), sb.path("p2")
    project(first)
    project(second)
    cmd = [resolved("make"), "-j2"]
    pr = Problems("make -j2")
    pr.check(check_build, learn(sb, cmd, first, stdout_file=sb.path("out1")), first,
             "learning 1")
    after_first = rules(sb)
    subprocess.run(["make", "clean"], cwd=first, capture_output=True, check=True)
    pr.check(check_build, learn(sb, cmd, first, stdout_file=sb.path("out2")), first,
             "learning 2")
    after_second = rules(sb)
    note(f"make -j2: {count(after_first)} rules learned, "
         f"{count(after_second) - count(after_first)} added by the second run")
    pr.no_new_rules(after_first, after_second)
    p = enforce(sb, cmd, second)  # another directory, stdout a pipe
    pr.check(check_build, p, second, "enforced")
    pr.check(eq, denials(sb), [], "denials when enforced")
    pr.done()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fetch(port, path):
    p = subprocess.run(["curl", "-sS", "-f", "-m", "20", f"http://127.0.0.1:{port}{path}"],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def serve(sb, flags, site, port, paths, stdout_file=None):
    """python3 -m http.server on PORT under FLAGS in SITE; fetches PATHS; returns their results
    and the server's exit status."""
    args = [SYSTRACE, "-d", sb.policies, *flags, PYTHON, "-m", "http.server", str(port),
            "--bind", "127.0.0.1"]
    out = open(stdout_file, "w") if stdout_file else subprocess.PIPE
    proc = subprocess.Popen(args, cwd=site, stdout=out, stderr=subprocess.PIPE, text=True,
                            env=env_of(sb), stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(f"the server did not start: {proc.communicate()}")
                time.sleep(0.2)
        results = [fetch(port, p) for p in paths]
        proc.send_signal(signal.SIGINT)  # the launcher forwards it; the server ends
        _, stderr = communicate(proc, 60)
    except BaseException:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        raise
    finally:
        if stdout_file:
            out.close()
    return results, proc.returncode, stderr


def site(top, files):
    os.makedirs(top)
    for name, text in files.items():
        with open(os.path.join(top, name), "w") as f:
            f.write(text)


@with_sandbox
def a_web_server_converges(sb):
    need_root()
    if not shutil.which("curl") or not os.path.exists(PYTHON):
        raise Skip("python3 and curl are needed (scripts/install-deps)")
    files = {"a.txt": "alpha\n", "b.txt": "beta\n", "c.html": "<p>gamma</p>\n"}
    first, second = sb.path("site1"), sb.path("site2")
    site(first, files)
    site(second, dict(files, **{"new.txt": "a file the learning runs never served\n"}))
    paths = ["/", "/a.txt", "/b.txt", "/c.html"]
    port = free_port()  # the server's port, as a configured server has one
    pr = Problems("python3 -m http.server")
    for run in (1, 2):
        results, _, stderr = serve(sb, ["-A"], first, port, paths,
                                   stdout_file=sb.path(f"server{run}.out"))
        pr.check(eq, [r[0] for r in results], [0] * len(paths),
                 f"learning {run}: fetches ({stderr})")
        pr.check(eq, results[1][1], "alpha\n", f"learning {run}: a.txt")
        if run == 1:
            after_first = rules(sb)
    after_second = rules(sb)
    note(f"python3 -m http.server: {count(after_first)} rules learned, "
         f"{count(after_second) - count(after_first)} added by the second run")
    pr.no_new_rules(after_first, after_second)
    # Another directory with a new file, stdout a pipe.
    results, _, stderr = serve(sb, ["-a", "-E", sb.log], second, port,
                               ["/a.txt", "/new.txt", "/"])
    pr.check(eq, [r[0] for r in results], [0, 0, 0], f"enforced: fetches ({stderr})")
    pr.check(eq, results[1][1], "a file the learning runs never served\n",
             "enforced: the new file")
    pr.check(contains, results[2][1], "new.txt", "enforced: the listing")
    pr.check(eq, denials(sb), [], "denials when enforced")
    pr.done()


# Smaller properties, each with a real program.

@with_sandbox
def a_learned_cat_is_a_few_lines(sb):
    cat = resolved("cat")
    p = learn(sb, [cat, "/etc/hostname"], cwd=sb.dir)
    eq(p.returncode, 0, "exit")
    found = rules(sb)[os.path.basename(sb.policy_file(cat))]
    note(f"cat /etc/hostname: {len(found)} rules learned: {found}")
    contains("\n".join(found), 'include "base"')
    contains("\n".join(found), 'filename eq "/etc/hostname" then permit')
    assert len(found) <= 3, found


@with_sandbox
def the_own_proc_entries_are_learned_for_the_process_itself(sb):
    learn(sb, [HELPER, "open", "/proc/self/environ"], cwd=sb.dir)
    text = sb.policy(HELPER_PATH)
    assert "[0-9]" not in text, text
    p = enforce(sb, [HELPER, "open", "/proc/self/environ", "open", "/proc/1/environ"],
                cwd=sb.dir)
    eq(p.stdout, "open /proc/self/environ: ok\nopen /proc/1/environ: EPERM\n", "output")


@with_sandbox
def misses_along_path_survive_another_path(sb):
    sh = resolved("/bin/sh")
    cmd = [sh, "-c", "tar --version >/dev/null && echo found"]
    p = learn(sb, cmd, cwd=sb.dir)
    eq(p.stdout, "found\n", "learning")
    contains(sb.policy(sh), "<non-existent filename>")
    # Another PATH, with directories the learning run never searched.
    env = env_of(sb, PATH="/opt/none/bin:/usr/games:/usr/bin:/bin")
    p = enforce(sb, cmd, cwd=sb.dir, env=env)
    eq(p.stdout, "found\n", f"enforced (stderr: {p.stderr})")
    eq(denials(sb), [], "denials")


if __name__ == "__main__":
    main()
