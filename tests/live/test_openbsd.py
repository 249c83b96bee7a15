"""test_openbsd.py: OpenBSD's ports-tree filter as make's policy, around a real build.

The ports tree built each port under `systrace -i -a` with a shared filter that lets a build write
only below its work directory and the temporary directories (tests/data). Here it becomes the
policy of make as bsd.port.mk made it (make's variables replaced with sed), systrace -A -i learns
what Linux needs beyond it, and systrace -a -i builds a small C project under it; a build step
that writes into $HOME or /etc fails."""
import os
import pwd
import shutil
import subprocess

from lib import Skip, contains, eq, main, need_root, resolved, with_sandbox

FILTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                      "openbsd-ports-systrace.filter")

SOURCES = {
    "greet.h": "const char *greeting(void);\n",
    "greet.c": '#include "greet.h"\nconst char *greeting(void) { return "hello"; }\n',
    # hello [FILE]: writes the greeting into FILE, or says which errno stopped it.
    "main.c": """#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "greet.h"
int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f || fprintf(f, "%s\\n", greeting()) < 0 || fclose(f) != 0) {
        printf("write %s: %s\\n", argv[1], strerrorname_np(errno));
        return 1;
    }
    return 0;
}
""",
    # Recipes with shell syntax run through /bin/sh, so the shell is learned too.
    "Makefile": """CC = gcc
all: hello check
hello: main.o greet.o
\t$(CC) -o $@ main.o greet.o
%.o: %.c greet.h
\t$(CC) -O1 -c -o $@ $< && test -s $@
check: hello
\t./hello out.txt && test -s out.txt
install: hello
\t./hello "$(DEST)"
clean:
\trm -f hello *.o out.txt
""",
}


def ports_policy(make, substitutions):
    """The policy of MAKE as bsd.port.mk wrote it: a header, then the filter through sed."""
    sed = ["sed"]
    for name, value in substitutions.items():
        sed += ["-e", f"s,${{{name}}},{value},g"]
    body = subprocess.run(sed + [FILTER], check=True, capture_output=True, text=True).stdout
    return f"Policy: {make}, Emulation: native\n" + body


def tools():
    need_root()
    missing = [t for t in ("make", "gcc") if not shutil.which(t)]
    if missing:
        raise Skip(f"needs {' and '.join(missing)} (scripts/install-deps installs them)")
    return resolved("make")


@with_sandbox
def the_ports_filter_sandboxes_a_build(sb):
    make = tools()
    work, tmp = sb.path("work"), sb.path("tmp")
    home = os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir)
    if any(home == d or home.startswith(d + "/") for d in ("/tmp", "/var/tmp")):
        raise Skip(f"the home directory {home} is below a directory the filter lets builds write")
    for d in (work, tmp):
        os.makedirs(d)
    for name, text in SOURCES.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    os.makedirs(sb.policies, mode=0o700)
    with open(sb.policy_file(make), "w") as f:
        f.write(ports_policy(make, {"WRKDIR": work, "TMPDIR": tmp, "PKG_TMPDIR": tmp,
                                    "DISTDIR": sb.path("distfiles"),
                                    "PORTSDIR": sb.path("ports")}))
    filter_text = sb.policy(make)
    sb.env.update(TMPDIR=tmp, HOME=home)
    in_work = [make, "-s", "-C", work]  # make first: with -i, its policy governs every program

    # Learn what Linux needs beyond the filter: appended, the filter kept as it was.
    p = sb.run(["-A", "-i"], in_work, timeout=300)
    eq(p.returncode, 0, f"learning build: {p.stdout}{p.stderr}")
    learned = sb.policy(make)
    assert learned.startswith(filter_text.rstrip("\n")), "the filter is kept, rules appended"
    extra = learned[len(filter_text.rstrip("\n")):]
    # (written as rules, or as the shipped abstraction that holds them)
    assert "native-" in extra or 'include "base"' in extra, \
        "Linux needs calls the filter does not name"
    # What the filter permits under OpenBSD's names it permits on Linux: nothing learned for them.
    for call in ("rt_sigaction", "rt_sigprocmask", "brk", "clone", "clone3", "exit_group",
                 "pread64", "getdents64", "prlimit64", "getrandom", "pipe2", "getcwd"):
        assert f"native-{call}:" not in extra, f"{call} learned although the filter names it"
    subprocess.run([make, "-C", work, "clean"], check=True, capture_output=True)

    # Enforce: the build works in the work directory, and nothing it does is denied.
    p = sb.run(["-a", "-i", "-E", sb.log], in_work, timeout=300)
    eq(p.returncode, 0, f"enforced build: {p.stdout}{p.stderr}\nlog: {sb.log_lines()}")
    out = subprocess.run([os.path.join(work, "hello")], capture_output=True, text=True)
    eq(out.stdout, "hello\n", "the program built")
    # The real filter has rules an earlier one already decides: the launcher says so, and
    # denies nothing.
    eq([l for l in sb.log_lines() if "decision=" in l], [], "enforced build's denials")
    contains("\n".join(sb.log_lines()), "warning: the rule on line ")

    # A step that writes outside: a new file fails with the filter's deny[enoent] for missing
    # objects; an existing one with the EPERM of an uncovered call, logged.
    tag = f"systrace-live-{os.getpid()}"
    new_files = [os.path.join(home, f"{tag}.new"), os.path.join("/etc", f"{tag}.new")]
    old_files = [os.path.join(home, f"{tag}.old"), os.path.join("/etc", f"{tag}.old")]
    try:
        for path in old_files:
            with open(path, "w") as f:
                f.write("kept\n")
        for path, errno_name in [(p, "ENOENT") for p in new_files] + \
                                [(p, "EPERM") for p in old_files]:
            p = sb.run(["-a", "-i", "-E", sb.log], in_work + ["install", f"DEST={path}"])
            assert p.returncode != 0, f"install into {path} must fail: {p.stdout}{p.stderr}"
            contains(p.stdout, f"write {path}: {errno_name}", "the step's own report")
        for path in new_files:
            assert not os.path.exists(path), f"{path} was created"
        for path in old_files:
            with open(path) as f:
                eq(f.read(), "kept\n", f"{path} is untouched")
        log = "\n".join(sb.log_lines())
        for path in old_files:
            contains(log, f'filename="{path}"', "the denied write is logged")
        contains(log, "errno=EPERM")
    finally:
        for path in new_files + old_files:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
