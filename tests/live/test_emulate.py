"""test_emulate.py: calls the supervisor performs on a target's behalf behave exactly like the
kernel's own: same outputs, errnos and fd numbers, with the target's credentials and umask."""
import os
import pwd
import shutil
import subprocess

from lib import HELPER, SYSTRACE, Sandbox, Skip, eq, main, need_root, test

HELPER_PATH = os.path.realpath(HELPER)


def script(d):
    """Every emulated call, with flags and failures, in scratch directory D."""
    j = lambda *p: os.path.join(d, *p)
    return [
        "umask", "027",
        "openf", j("a"), "wc", "0666",
        "openf", j("a"), "wcx", "0600",
        "openf", j("a"), "wt", "0",
        "openf", j("a"), "e", "0",
        "openf", j(), "d", "0",
        "openf", j("a"), "d", "0",
        "openf", j("missing", "x"), "wc", "0644",
        "symlink", "a", j("l"),
        "openf", j("l"), "n", "0",
        "openf", j("l"), "pn", "0",
        "openf", j("l"), "", "0",
        "openf", j(), "wT", "0600",
        "openf", j("a"), "Ra", "0",
        "lstat", j("l"),
        "lstat", j("a"),
        "statx", j("l"),
        "readlink", j("l"),
        "readlink", j("a"),
        "readlink", "/proc/self/exe",
        "access", j("a"), "r",
        "access", j("a"), "x",
        "access", j("nope"), "f",
        "chmod", j("a"), "604",
        "lstat", j("a"),
        "truncate", j("a"), "10",
        "utimes", j("a"),
        "statx", j("a"),
        "link", j("a"), j("b"),
        "link", j("a"), j("b"),
        "rename", j("b"), j("c"),
        "unlink", j("c"),
        "unlink", j("c"),
        "mkdir", j("e"),
        "mkdir", j("e"),
        "lstat", j("e"),
        "rmdir", j("e"),
        "rmdir", j("nope"),
        "setxattr", j("a"), "user.k", "v1",
        "getxattr", j("a"), "user.k",
        "getxattr", j("a"), "user.nope",
        "listxattr", j("a"),
        "removexattr", j("a"), "user.k",
        "removexattr", j("a"), "user.k",
        "openat2", j(), "a", "b",
        "openat2", j(), "../scratch/a", "b",
        "openat2", j(), "/etc/hostname", "b",
        "openat2", j(), "/a", "r",
        "openat2", j(), "l", "s",
        "openat2", j(), "l", "-",
        "statfs", j(),
        "statfs", j("nope"),
        "open", "/proc/self/status",
        "stat", "/dev/stdin",
        "open", "/dev/stdin",
    ]


def private_file(sb, name, owner=None):
    """A 0600 file in SB (owned by the passwd entry OWNER, else root) in a directory all may search."""
    path = sb.path(name)
    with open(path, "w") as f:
        f.write(f"{name} only")
    if owner:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, 0o600)
    os.chmod(sb.dir, 0o755)
    return path


def same_under_enforce(sb, cmd, native):
    """Learns CMD's policy, then checks that CMD prints under -a what it printed natively."""
    sb.learn(cmd)
    eq(sb.enforce(cmd).stdout, native, "under -a")


def fresh(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.chmod(d, 0o777)


def compare(sb, prefix_native, flags=(), owner=None):
    d = sb.path("scratch")
    cmd = [HELPER, *script(d)]

    def run(argv):
        fresh(d)
        if owner:
            os.chown(d, owner, -1)
        p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env=sb.env, timeout=60)
        listing = sorted((f, oct(os.lstat(os.path.join(d, f)).st_mode)) for f in os.listdir(d))
        return p.stdout, listing

    native = run([*prefix_native, *cmd])
    run([SYSTRACE, "-A", "-d", sb.policies, *flags, *cmd])
    enforced = run([SYSTRACE, "-a", "-E", sb.log, "-d", sb.policies, *flags, *cmd])
    eq(enforced[0], native[0], "output under -a")
    eq(enforced[1], native[1], "files left behind")
    eq(sb.log_lines(), [], "nothing denied")
    return native[0]


@test
def emulated_calls_match_the_kernel():
    sb = Sandbox()
    try:
        out = compare(sb, [])
        # The run covers what it should: created, refused, injected fd numbers.
        for part in ("openf", "fd=3", "EEXIST", "ENOTDIR", "ELOOP", "cloexec=1", "mode=0640",
                     "mode=0604 size=10", "mtime=set", "need=2 v1", "ENODATA",
                     "EXDEV", "readlink /proc/self/exe: " + HELPER_PATH):
            assert part in out, f"{part!r} missing from:\n{out}"
    finally:
        sb.close()


@test
def emulated_calls_use_the_targets_credentials():
    need_root()
    nobody = pwd.getpwnam("nobody")
    sb = Sandbox()
    try:
        secret = private_file(sb, "secret")
        extra = ["openf", secret, "", "0", "access", secret, "r", "chmod", secret, "644",
                 "ids"]
        d = sb.path("scratch")
        cmd = [HELPER, *script(d), *extra]

        def run(argv):
            fresh(d)
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
            return subprocess.run(argv, capture_output=True, text=True, env=sb.env,
                                  stdin=subprocess.DEVNULL, timeout=60).stdout

        native = run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                      "--clear-groups", *cmd])
        flags = ["-c", "nobody:nogroup"]
        run([SYSTRACE, "-A", "-d", sb.policies, *flags, *cmd])
        enforced = run([SYSTRACE, "-a", "-E", sb.log, "-d", sb.policies, *flags, *cmd])
        eq(enforced, native, "output as nobody")
        for part in (f"openf {secret}: EACCES", f"access {secret}: EACCES",
                     f"chmod {secret}: EPERM", "uid=65534"):
            assert part in native, f"{part!r} missing from:\n{native}"
        eq(oct(os.stat(secret).st_mode & 0o777), oct(0o600), "the secret was not chmodded")
    finally:
        sb.close()


@test
def a_thread_that_dropped_privileges_keeps_them_dropped():
    # Credentials are per thread: a thread that drops to nobody with the raw syscall is refused
    # a root-only file, while the main thread, still root, opens it; the supervisor performs
    # each open with the identity of the thread that made it.
    need_root()
    nobody = pwd.getpwnam("nobody")
    sb = Sandbox()
    try:
        secret = private_file(sb, "secret")
        # Twice: the second time the process's credentials were already looked up.
        cmd = [HELPER, "open", secret, *["thread-setuid", str(nobody.pw_uid), secret] * 2]
        native = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        eq(native.count("thread-open " + secret + ": EACCES"), 2, native)
        eq(native.count("main-open " + secret + ": ok"), 2, native)
        same_under_enforce(sb, cmd, native)
    finally:
        sb.close()


@test
def a_root_target_without_dac_override_is_refused_like_by_the_kernel():
    # Root that dropped CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH cannot open another user's
    # private file: the supervisor, root with every capability, must not open it for it.
    need_root()
    nobody = pwd.getpwnam("nobody")
    sb = Sandbox()
    try:
        private = private_file(sb, "private", owner=nobody)
        cmd = [HELPER, "open", private, "drop-dac", "open", private, "stat", private]
        native = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        eq(native.splitlines()[:3], [f"open {private}: ok", "drop-dac : ok",
                                     f"open {private}: EACCES"], native)
        same_under_enforce(sb, cmd, native)
    finally:
        sb.close()


@test
def root_of_a_user_namespace_has_no_capabilities_over_the_hosts_files():
    # A user namespace's root shows every capability in /proc status, relative to its own
    # namespace; over the host's files it has none, and the supervisor must not lend it its own.
    need_root()
    nobody = pwd.getpwnam("nobody")
    sb = Sandbox()
    try:
        private = private_file(sb, "private", owner=nobody)
        cmd = [shutil.which("unshare"), "-Ur", HELPER, "open", private, "stat", private]
        native = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if native.returncode != 0 or "open" not in native.stdout:
            raise Skip(f"no user namespaces here: {native.stderr.strip()}")
        eq(native.stdout.splitlines()[0], f"open {private}: EACCES", native.stdout)
        same_under_enforce(sb, cmd, native.stdout)
    finally:
        sb.close()


@test
def emulated_calls_inside_a_chroot():
    # A chrooted target's paths are its own: resolved, decided and performed inside its root, and
    # a ".." or an absolute symlink never leads out of it.
    need_root()
    sb = Sandbox()
    try:
        root = sb.path("root")
        inside = ["open", "/etc/inside", "openf", "/new", "wc", "0644", "lstat", "/new",
                  "symlink", "/etc/inside", "/l", "open", "/l", "readlink", "/l",
                  "open", "/../../etc/inside", "open", "/etc/hostname", "access", "/new", "r"]
        cmd = [HELPER, "chroot", root, *inside]

        def run(argv):
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(os.path.join(root, "etc"))
            with open(os.path.join(root, "etc", "inside"), "w") as f:
                f.write("inside")
            p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               env=sb.env, timeout=60)
            return p.stdout, sorted(os.listdir(root))

        native = run(cmd)
        run([SYSTRACE, "-A", "-d", sb.policies, *cmd])
        enforced = run([SYSTRACE, "-a", "-E", sb.log, "-d", sb.policies, *cmd])
        eq(enforced, native, "output and files under -a")
        # chroot itself is let run (its path is not performed race-free): said once, nothing else.
        log = sb.log_lines()
        eq(len(log), 1, f"log {log}")
        assert "unsafe:" in log[0] and "chroot" in log[0], log
        contains_all = ("open /etc/inside: ok", "open /../../etc/inside: ok",
                        "open /etc/hostname: ENOENT", "readlink /l: /etc/inside")
        for part in contains_all:
            assert part in native[0], f"{part!r} missing from:\n{native[0]}"
        policy = sb.policy(HELPER_PATH)
        assert 'filename eq "/etc/inside"' in policy, policy
        for host in (os.path.join(root, "etc", "inside"), os.path.join(root, "new")):
            assert host not in policy, f"host path {host} in the policy:\n{policy}"
    finally:
        sb.close()


@test
def a_sticky_directory_protects_as_the_kernel_would():
    """fs.protected_symlinks and fs.protected_regular: in a sticky world-writable directory, a
    symlink owned by neither the follower nor the directory's owner is not followed, and an
    O_CREAT open of another user's file fails (EACCES, even where its mode lets everyone
    write), also when the supervisor resolves and opens for a program run as nobody."""
    need_root()
    knobs = {k: f"/proc/sys/fs/protected_{k}" for k in ("symlinks", "regular")}
    saved = {}
    for k, path in knobs.items():
        with open(path) as f:
            saved[k] = f.read().strip()
    sb = Sandbox()
    try:
        for path in knobs.values():
            with open(path, "w") as f:
                f.write("1")
        sticky = sb.path("sticky")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        os.chmod(sb.dir, 0o755)
        secret = sb.path("readable")
        with open(secret, "w") as f:
            f.write("readable by all, not through a planted link\n")
        os.chmod(secret, 0o644)
        link = os.path.join(sticky, "link")
        os.symlink(secret, link)
        os.lchown(link, 1, 1)  # daemon's: neither nobody's nor the directory's owner's
        theirs = os.path.join(sticky, "theirs")
        with open(theirs, "w") as f:
            f.write("daemon's\n")
        os.chmod(theirs, 0o666)
        os.chown(theirs, 1, 1)
        cmd = [HELPER, "open", link, "openf", theirs, "wc", "0644"]
        nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
        native = subprocess.run(nobody + cmd, capture_output=True, text=True).stdout
        eq(native, f"open {link}: EACCES\nopenf {theirs}: EACCES\n", "the kernel refuses")
        as_nobody = ["-c", "nobody:nogroup"]
        eq(sb.learn(cmd, flags=as_nobody).stdout, native, "learning changes nothing")
        eq(sb.enforce(cmd, flags=as_nobody).stdout, native, "nor does enforcing")
    finally:
        for k, path in knobs.items():
            with open(path, "w") as f:
                f.write(saved[k])
        sb.close()


@test
def a_symlink_on_a_nosymfollow_mount_is_not_followed():
    need_root()
    sb = Sandbox()
    mnt = sb.path("nosymfollow")
    os.mkdir(mnt)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "nosymfollow", "tmpfs", mnt],
                             capture_output=True, text=True)
    try:
        if mounted.returncode:
            raise Skip(f"cannot mount a nosymfollow tmpfs: {mounted.stderr.strip()}")
        link = os.path.join(mnt, "link")
        os.symlink("/etc/hostname", link)
        cmd = [HELPER, "open", link]
        native = subprocess.run(cmd, capture_output=True, text=True).stdout
        eq(native, f"open {link}: ELOOP\n", "the kernel refuses")
        eq(sb.learn(cmd).stdout, native, "learning changes nothing")
        eq(sb.enforce(cmd).stdout, native, "nor does enforcing")
    finally:
        if not mounted.returncode:
            subprocess.run(["umount", mnt])
        sb.close()


if __name__ == "__main__":
    main()
