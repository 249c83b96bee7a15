"""test_install.py: `meson install` into a DESTDIR puts every file where an administrator looks
for it, and each file is valid for the program that reads it: the desktop entries for
desktop-file-validate, the bus policy for a real dbus-daemon, the unit for systemd-analyze, the
pages for man, the completions for bash, the catalogues for msgunfmt, the policies for
systracectl."""
import configparser
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from lib import Skip, contains, eq, main, test

BUILD = os.environ["SYSTRACE_BUILD"]
SYSTRACECTL = os.path.join(BUILD, "cli", "systracectl")
DESTDIR = tempfile.mkdtemp(prefix="systrace-destdir-")


def options():
    out = subprocess.run(["meson", "introspect", BUILD, "--buildoptions"], check=True,
                         capture_output=True, text=True).stdout
    opts = {o["name"]: o["value"] for o in json.loads(out)}
    prefix = opts["prefix"]
    full = {k: os.path.join(prefix, opts[k]) for k in
            ("bindir", "sbindir", "datadir", "mandir", "localedir", "sysconfdir")}
    full["unitdir"] = opts["systemd_unit_dir"] or os.path.join(prefix, "lib/systemd/system")
    full["applet"] = opts["applet"] != "disabled" and os.path.exists(
        os.path.join(BUILD, "gui", "systrace-applet"))
    return full


DIRS = options()


def installed(where, name):
    """The path of NAME below the installation directory WHERE, inside DESTDIR."""
    return DESTDIR + os.path.join(DIRS[where], name)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def tool(name):
    if not shutil.which(name):
        raise Skip(f"{name} is not installed (scripts/install-deps installs it)")
    return name


_done = []


def install():
    if not _done:
        r = run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir",
                 DESTDIR])
        eq(r.returncode, 0, f"meson install: {r.stdout}{r.stderr}")
        _done.append(True)


@test
def the_programs_are_installed_and_run():
    install()
    for where, name in [("bindir", "systrace"), ("bindir", "systracectl"),
                        ("sbindir", "systraced")] + (
                            [("bindir", "systrace-applet")] if DIRS["applet"] else []):
        path = installed(where, name)
        eq(os.access(path, os.X_OK), True, f"{path} is executable")
        r = run([path, "--help"])
        eq(r.returncode, 0, f"{name} --help: {r.stderr}")


@test
def the_bus_policy_is_accepted_by_dbus_daemon():
    install()
    policy = installed("datadir", "dbus-1/system.d/org.systrace.Daemon1.conf")
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><auth>EXTERNAL</auth>
<listen>unix:path={d}/bus</listen><include>{policy}</include></busconfig>
""")
        p = subprocess.Popen([tool("dbus-daemon"), f"--config-file={conf}", "--nofork",
                              "--print-address=1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            address = p.stdout.readline().strip()
            contains(address, "unix:path=", f"dbus-daemon started: {p.stderr.read() if not address else ''}")
        finally:
            p.kill()
            p.wait()
    service = configparser.ConfigParser()
    service.read(installed("datadir", "dbus-1/system-services/org.systrace.Daemon1.service"))
    eq(service["D-BUS Service"]["Name"], "org.systrace.Daemon1", "the activation file's name")
    eq(service["D-BUS Service"]["Exec"].split()[0], os.path.join(DIRS["sbindir"], "systraced"),
       "it starts the installed daemon")
    eq(service["D-BUS Service"]["SystemdService"], "systraced.service", "through systemd")
    names = {i.get("name") for i in ET.parse(
        installed("datadir", "dbus-1/interfaces/org.systrace.Daemon1.xml")).getroot()}
    eq(names, {"org.systrace.Daemon1", "org.systrace.Session1", "org.systrace.Agent1"},
       "the interface description")


@test
def the_unit_is_valid():
    install()
    unit = installed("unitdir", "systraced.service")
    with open(unit) as f:
        text = f.read()
    contains(text, f"ExecStart={os.path.join(DIRS['sbindir'], 'systraced')}", "the daemon")
    contains(text, "BusName=org.systrace.Daemon1", "bus activated")
    # Verified against this machine's units (dbus.socket), with the daemon where DESTDIR has it.
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "systraced.service")
        with open(copy, "w") as f:
            f.write(text.replace(f"={DIRS['sbindir']}/", f"={DESTDIR}{DIRS['sbindir']}/"))
        # Its Documentation= page is looked up with man, in DESTDIR's pages.
        r = run([tool("systemd-analyze"), "verify", copy],
                env=dict(os.environ, MANPATH=DESTDIR + DIRS["mandir"]))
    eq(r.returncode, 0, f"systemd-analyze verify: {r.stdout}{r.stderr}")


@test
def the_manual_pages_render_without_warnings():
    install()
    pages = ["man1/systrace.1", "man1/systracectl.1", "man8/systraced.8",
             "man5/systrace.policy.5", "man5/systraced.conf.5"]
    if DIRS["applet"]:
        pages.append("man1/systrace-applet.1")
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", LANGUAGE="")
    for page in pages:
        r = run([tool("man"), "--warnings", "-l", installed("mandir", page)], env=env)
        eq((r.returncode, r.stderr), (0, ""), f"man -l {page}")


@test
def the_completions_load_in_bash():
    install()
    for name in ("systrace", "systracectl"):
        path = installed("datadir", f"bash-completion/completions/{name}")
        r = run(["bash", "-c", f'source "$1" && complete -p {name}', "-", path])
        eq(r.returncode, 0, f"{name}'s completion: {r.stderr}")
        contains(r.stdout, name, "registered for the program")


@test
def the_catalogues_are_valid():
    install()
    for lang in ("fr", "de"):
        r = run([tool("msgunfmt"), installed("localedir", f"{lang}/LC_MESSAGES/systrace.mo")])
        eq(r.returncode, 0, f"{lang}: {r.stderr}")
        eq(r.stdout.count("msgid ") > 100, True, f"{lang}: a whole catalogue")


@test
def the_policies_and_abstractions_check():
    install()
    data = installed("datadir", "systrace")
    abstractions = sorted(os.listdir(os.path.join(data, "abstractions")))
    for name in ("base", "nameservice"):
        eq(name in abstractions, True, f"abstraction {name} installed")
    examples = installed("datadir", "doc/systrace/examples")
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(examples) for f in fs]
    eq(len(files) >= 4, True, f"example policies: {files}")
    r = run([SYSTRACECTL, "policy", "check", *files],
            env=dict(os.environ, SYSTRACE_DATA_DIR=data))
    eq(r.returncode, 0, f"systracectl policy check: {r.stdout}{r.stderr}")
    # Nothing enforced by default: only the daemon's settings in the system's configuration.
    etc = [os.path.relpath(os.path.join(dp, f), DESTDIR) for dp, _, fs in os.walk(DESTDIR)
           for f in fs]
    etc = [p for p in etc if "etc/" in p and "xdg/autostart/" not in p]
    eq(sorted(etc), ["etc/systrace/systraced.conf"], "the only configuration installed")


@test
def the_applets_desktop_files_validate():
    install()
    if not DIRS["applet"]:
        raise Skip("the applet is not built (no GTK 3)")
    for where, name in [("datadir", "applications/systrace-applet.desktop"),
                        ("sysconfdir", "xdg/autostart/systrace-applet.desktop")]:
        r = run([tool("desktop-file-validate"), installed(where, name)])
        eq((r.returncode, r.stdout + r.stderr), (0, ""), f"desktop-file-validate {name}")
    icon = installed("datadir", "icons/hicolor/scalable/apps/systrace-applet.svg")
    eq(ET.parse(icon).getroot().tag, "{http://www.w3.org/2000/svg}svg", "the icon is SVG")


try:
    main()
finally:
    shutil.rmtree(DESTDIR, ignore_errors=True)
