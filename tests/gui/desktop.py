"""desktop.py: a real X display for the applet's tests: Xvfb, optionally the openbox window
manager, the real systrace-applet on its own session bus, and real input events (xdotool moves
the pointer and clicks through XTEST, which GTK takes as a person's). What the applet shows is
read from its SYSTRACE_APPLET_DUMP file."""
import json
import os
import subprocess
import tempfile
import time

APPLET = os.environ.get("SYSTRACE_APPLET", "build/gui/systrace-applet")
SYSTRACECTL = os.environ.get("SYSTRACECTL", "build/cli/systracectl")
SHOTS = os.environ.get("SCREENSHOT_DIR", "build/tests/gui")
NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]


def unescape(text):
    """A dump line's text: "\\\\" is a backslash, "\\xHH" a byte below 0x20."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("\\\\", i):
            out.append("\\")
            i += 2
        elif text.startswith("\\x", i) and len(text) >= i + 4:
            out.append(chr(int(text[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class Dump:
    """One picture of the window: visible, labels and entries by name, buttons by name."""

    def __init__(self, text):
        self.visible = False
        self.labels, self.entries, self.buttons, self.places = {}, {}, {}, {}
        self.button_labels = {}
        self.dialog = None  # a Dump of a dialog the window shows
        lines = text.splitlines()
        if "dialog" in lines:
            at = lines.index("dialog")
            self.dialog = Dump("window visible\n" + "\n".join(lines[at + 1:]))
            lines = lines[:at]
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "window":
                self.visible = rest == "visible"
            elif kind == "label":
                name, _, value = rest.partition(" ")
                self.labels[name] = unescape(value)
            elif kind == "entry":
                name, x, y, w, h, value = rest.split(" ", 5)
                self.entries[name] = unescape(value)
                self.places[name] = (int(x), int(y), int(w), int(h))
            elif kind == "button":
                name, x, y, w, h, state, label = rest.split(" ", 6)
                self.buttons[name] = (int(x), int(y), int(w), int(h), state == "sensitive")
                self.button_labels[name] = unescape(label)

    def text(self):
        return "\n".join(list(self.labels.values()) + list(self.entries.values()))


class Desktop:
    def __init__(self, wm=False, countdown=60, user=None, language=None, data_home=None):
        """USER: "nobody" runs the session bus and the applet as that user (the display is
        open to every local user). LANGUAGE: the applet speaks it, from the build's
        catalogues. DATA_HOME: the desktop's XDG_DATA_HOME (its desktop files)."""
        as_user = NOBODY if user == "nobody" else []
        self.dir = tempfile.mkdtemp(prefix="systrace-gui-")
        os.chmod(self.dir, 0o777)
        self.dump_path = os.path.join(self.dir, "dump")
        self.procs = []
        r, w = os.pipe()
        # -displayfd: Xvfb picks a free display and writes its number once it is ready.
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24",
                                      "-nolisten", "tcp"], pass_fds=(w,),
                                     stderr=subprocess.DEVNULL)
        self.procs.append(self.xvfb)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            raise AssertionError("Xvfb did not start")
        self.env = dict(os.environ, DISPLAY=f":{number}", NO_AT_BRIDGE="1", GDK_BACKEND="x11",
                        SYSTRACE_APPLET_DUMP=self.dump_path, LC_ALL="C.UTF-8")
        if language:
            self.env.update(LANGUAGE=language, SYSTRACE_LOCALEDIR=os.environ["LOCALEDIR"])
        if data_home:
            self.env["XDG_DATA_HOME"] = data_home
        if wm:
            self.procs.append(subprocess.Popen(["openbox", "--sm-disable"], env=self.env,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            self._wait_for_wm()
        # The desktop session's bus: GtkApplication finds its running instance there.
        session_bus = subprocess.Popen(as_user + ["dbus-daemon", "--session", "--nofork",
                                        "--print-address=1"], stdout=subprocess.PIPE, text=True,
                                       stderr=subprocess.DEVNULL)
        self.procs.append(session_bus)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = session_bus.stdout.readline().strip()
        self.agents_before = self.agents()
        self.applet = subprocess.Popen(
            as_user + [APPLET, f"--countdown={countdown}"], env=self.env,
            stdout=open(os.path.join(self.dir, "applet.log"), "w"), stderr=subprocess.STDOUT)
        self.procs.append(self.applet)
        deadline = time.time() + 15
        while self.agents() <= self.agents_before:
            if time.time() > deadline or self.applet.poll() is not None:
                raise AssertionError(f"the applet did not register: {self.log()}")
            time.sleep(0.05)

    def _wait_for_wm(self):
        """Until the window manager announces itself on the root window (EWMH)."""
        deadline = time.time() + 10
        while time.time() < deadline:
            p = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=self.env,
                               capture_output=True, text=True)
            if "window id" in p.stdout:
                return
            time.sleep(0.1)
        raise AssertionError("openbox did not start")

    @staticmethod
    def agents():
        p = subprocess.run([SYSTRACECTL, "--json", "status"], capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"systracectl status: {p.stderr}")
        return int(json.loads(p.stdout).get("agents", 0))

    def system_bus_name(self):
        """The applet's unique name on the system bus, found by its pid."""
        p = subprocess.run(["busctl", f"--address={os.environ['DBUS_SYSTEM_BUS_ADDRESS']}",
                            "list", "--no-pager", "--no-legend", "--unique"],
                           capture_output=True, text=True, timeout=30)
        for line in p.stdout.splitlines():
            fields = line.split()
            if len(fields) > 1 and fields[1] == str(self.applet.pid):
                return fields[0]
        raise AssertionError(f"the applet (pid {self.applet.pid}) is not on the bus: {p.stdout}")

    def log(self):
        with open(os.path.join(self.dir, "applet.log"), errors="replace") as f:
            return f.read()

    def open_sessions(self):
        """Runs `systrace-applet --sessions`, which has the running applet show that window."""
        p = subprocess.run([APPLET, "--sessions"], env=self.env, capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"systrace-applet --sessions: {p.returncode} {p.stderr}")

    def dump(self, window=None):
        """The question window's dump, or WINDOW's ("sessions")."""
        path = self.dump_path + (f".{window}" if window else "")
        try:
            with open(path, encoding="utf-8") as f:
                return Dump(f.read())
        except FileNotFoundError:
            return Dump("")

    def wait(self, pred, what, timeout=15, window=None):
        """The first dump (of WINDOW) for which PRED holds."""
        deadline = time.time() + timeout
        while True:
            d = self.dump(window)
            if pred(d):
                return d
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the window shows:\n"
                                     f"{d.text()}\n{self.log()}")
            time.sleep(0.02)

    def wait_question(self, part, timeout=15):
        """The window once it shows a question whose summary contains PART."""
        return self.wait(lambda d: d.visible and part in d.labels.get("summary_label", ""),
                         f"a question about {part!r}", timeout)

    def wait_ready(self, part, timeout=15):
        """As wait_question, once the buttons take input."""
        return self.wait(lambda d: d.visible and part in d.labels.get("summary_label", "")
                         and d.buttons.get("allow_button", (0, 0, 0, 0, False))[4],
                         f"buttons ready for {part!r}", timeout)

    def click(self, dump, widget):
        """A real click at the centre of WIDGET (a button or an entry) as DUMP placed it."""
        x, y, w, h = dump.buttons[widget][:4] if widget in dump.buttons else dump.places[widget]
        subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"],
                       env=self.env, check=True, timeout=10)

    def key(self, *keys):
        subprocess.run(["xdotool", "key", *keys], env=self.env, check=True, timeout=10)

    def type(self, text):
        subprocess.run(["xdotool", "type", "--delay", "5", text], env=self.env, check=True,
                       timeout=60)

    def screenshot(self, name):
        # The pointer out of the way: a tooltip would hide part of the window.
        subprocess.run(["xdotool", "mousemove", "1279", "1023"], env=self.env, check=True)
        time.sleep(0.1)
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, f"{name}.png")
        subprocess.run(["import", "-window", "root", path], env=self.env, check=True,
                       timeout=30, capture_output=True)
        return path

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        deadline = time.time() + 10
        while self.agents() > self.agents_before and time.time() < deadline:
            time.sleep(0.05)
