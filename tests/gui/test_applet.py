"""test_applet.py: the real systrace-applet under Xvfb (with and without a window manager),
answering real questions of real programs through the real systraced on a private system bus
(run under scripts/with-daemon), clicked with real input events. Each test saves a screenshot
in the build directory."""
import os
import signal
import subprocess
import tempfile
import time

from desktop import APPLET, Desktop
from inetd import EXEC_RULE, IDENT, learned_inetd, request, wait_listening
from lib import Skip, Terminal, contains, eq, main, need_root, test
from supervised import HELPER, NOBODY, Session

BUS = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
SCRATCH = tempfile.mkdtemp(prefix="systrace-gui-scratch-")
_n = [0]
# Debian's python3, which has the GTK bindings (python3-gi) the typist's window needs.
SYSTEM_PYTHON = "/usr/bin/python3"
SYSTRACE = os.environ.get("SYSTRACE", "build/cli/systrace")


def need_desktop():
    need_root()
    if not BUS:
        raise Skip("no private bus: run under scripts/with-daemon")
    for tool in ("Xvfb", "xdotool", "import", "openbox", "xprop"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise Skip(f"{tool} is missing (scripts/install-deps installs it)")


def fresh(name="d"):
    """A path that does not exist yet, and the prefix of st-helper's line about its mkdir."""
    _n[0] += 1
    path = os.path.join(SCRATCH, f"{name}{_n[0]}")
    return path, f"mkdir {path}:"


def policy_file(d):
    name = "".join(c if c.isalnum() and c.isascii() else "_"
                   for c in os.path.realpath(HELPER).lstrip("/"))
    return os.path.join(d, name)


def asked(commands, policy_dir=None):
    """A session in ask mode that runs COMMANDS once it is told to go."""
    s = Session(["pause", *commands], mode="ask", policy_dir=policy_dir or tempfile.mkdtemp(
        prefix="systrace-gui-policy-"))
    s.expect(("pause: waiting",))
    s.go()
    return s


def answer_with(button, wm=False, shot=None):
    """Asks about a mkdir, presses BUTTON once it takes input; the program's line and the policy
    directory."""
    desk = Desktop(wm=wm)
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    path, line = fresh()
    s = asked(["mkdir", path], policy_dir=d)
    try:
        dump = desk.wait_ready(path)
        if shot:
            desk.screenshot(shot)
        desk.click(dump, button)
        got = s.expect(("mkdir",))
        desk.wait(lambda x: not x.visible, "the window to go")
        eq(s.wait(), 0, "exit")
        return got, line, d, path
    finally:
        s.close()
        desk.close()


@test
def allow_permits_this_call_and_writes_nothing():
    need_desktop()
    got, line, d, path = answer_with("allow_button", shot="question")
    eq(got, line + " ok", "permitted")
    eq(os.path.isdir(path), True, "the directory was made")
    eq(os.path.exists(policy_file(d)), False, "nothing stored for once")


@test
def deny_fails_the_call_with_eperm():
    need_desktop()
    got, line, d, path = answer_with("deny_button", shot="deny")
    eq(got, line + " EPERM", "denied")
    eq(os.path.exists(path), False, "nothing made")
    eq(os.path.exists(policy_file(d)), False, "nothing stored for once")


@test
def always_allow_appends_the_rule_to_the_policy():
    need_desktop()
    got, line, d, path = answer_with("always_allow_button", wm=True, shot="always-allow")
    eq(got, line + " ok", "permitted")
    with open(policy_file(d)) as f:
        text = f.read()
    contains(text, "native-fswrite: filename", "the rule")
    contains(text, "then permit", "a permit")


@test
def the_window_speaks_french():
    need_desktop()
    desk = Desktop(language="fr")
    path, line = fresh()
    s = asked(["mkdir", path])
    try:
        dump = desk.wait_ready(path)
        desk.screenshot("french")
        labels = dump.button_labels
        eq((labels["allow_button"], labels["deny_button"]), ("_Autoriser", "_Refuser"),
           "the buttons")
        contains(dump.text(), "veut créer ou modifier", "the call in plain words")
        contains(dump.labels["countdown_label"], "Refusé une fois", "the countdown")
        desk.click(dump, "deny_button")
        eq(s.expect(("mkdir",)), line + " EPERM", "denied")
    finally:
        s.close()
        desk.close()


def learned_startup():
    """A policy directory with st-helper's start-up learned, so that only its mkdir is asked."""
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    p = subprocess.run([SYSTRACE, "-A", "-d", d, HELPER, "getppid"], capture_output=True,
                       text=True, timeout=60)
    eq(p.returncode, 0, p.stderr)
    return d


@test
def systrace_on_a_terminal_asks_through_the_applet_unless_told_t():
    need_desktop()
    desk = Desktop()
    d = learned_startup()
    path, line = fresh()
    t = Terminal([SYSTRACE, "-v", "-d", d, HELPER, "mkdir", path])
    try:
        dump = desk.wait_ready(path)
        desk.click(dump, "allow_button")
        text = t.read_until(line + " ok")
        contains(text, "supervised by systraced", "handed over")
        eq("Answer:" in text, False, "not asked on the terminal")
        eq(t.wait(), 0, "exit")
        # -t: the terminal, though the applet runs.
        path, line = fresh()
        t = Terminal([SYSTRACE, "-t", "-d", d, HELPER, "mkdir", path])
        contains(t.read_until("Answer:"), path, "asked on the terminal")
        eq(desk.dump().visible, False, "the applet shows nothing")
        t.answer("deny-now")
        t.read_until(line + " EPERM")
        eq(t.wait(), 0, "exit")
    finally:
        if t.status is None:
            os.kill(t.pid, signal.SIGKILL)
            t.wait()
        desk.close()


@test
def cradle_and_gui_flags_ask_through_the_applet():
    need_desktop()
    desk = Desktop()
    d = learned_startup()
    try:
        # -C: the applet asks, though the terminal could.
        path, line = fresh()
        t = Terminal([SYSTRACE, "-C", "-d", d, HELPER, "mkdir", path], env=desk.env)
        desk.click(desk.wait_ready(path), "allow_button")
        text = t.read_until(line + " ok")
        eq("Answer:" in text, False, "not asked on the terminal")
        eq(t.wait(), 0, "exit")
        # -g: the applet is started when none runs.
        desk.applet.terminate()
        desk.applet.wait()
        deadline = time.time() + 10
        while desk.agents() > desk.agents_before:
            assert time.time() < deadline, "the applet's agent outlived it"
            time.sleep(0.1)
        path, line = fresh()
        p = subprocess.Popen([SYSTRACE, "-g", APPLET, "-d", d, HELPER, "mkdir", path],
                             env=desk.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        desk.click(desk.wait_ready(path, timeout=30), "deny_button")
        out, _ = p.communicate(timeout=20)
        contains(out, line + " EPERM", "denied in the applet -g started")
    finally:
        subprocess.run(["pkill", "-f", f"^{APPLET}$"])
        desk.close()


@test
def systrace_p_asks_through_the_applet():
    need_desktop()
    desk = Desktop()
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    binary = os.path.realpath(HELPER)
    with open(policy_file(d), "w") as f:
        f.write(f"Policy: {binary}, Emulation: native\n")
        for call in ("read", "write", "exit_group", "newfstatat", "fstat", "close", "munmap"):
            f.write(f"\tnative-{call}: permit\n")
    path, line = fresh()
    # Started alone: not by systrace.
    alone = subprocess.Popen([HELPER, "pause", "mkdir", path], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    t = None
    try:
        eq(alone.stdout.readline().strip(), "pause: waiting", "the program waits")
        t = Terminal([SYSTRACE, "-d", d, "-p", str(alone.pid), binary])
        t.read_until("[y/N]")
        t.answer("y")
        t.read_until("Ctrl-C detaches")
        alone.stdin.write("\n")
        alone.stdin.flush()
        dump = desk.wait_ready(path)
        contains(dump.labels["process_label"], str(alone.pid), "the attached process")
        desk.click(dump, "allow_button")
        eq(alone.stdout.readline().strip(), "pause: ok", "it went on")
        eq(alone.stdout.readline().strip(), line + " ok", "permitted by the applet")
        os.kill(t.pid, signal.SIGINT)
        t.wait()
        eq("Answer:" in t.out.decode(errors="replace"), False, "not asked on the terminal")
    finally:
        if t and t.status is None:
            os.kill(t.pid, signal.SIGINT)
            t.wait()
        alone.kill()
        alone.wait()
        desk.close()


@test
def a_program_the_desktop_knows_is_shown_by_its_name():
    need_desktop()
    data = tempfile.mkdtemp(prefix="systrace-gui-data-")
    os.makedirs(os.path.join(data, "applications"))
    with open(os.path.join(data, "applications", "st-helper.desktop"), "w") as f:
        f.write("[Desktop Entry]\nType=Application\nName=Helper of the tests\n"
                f"Exec={os.path.realpath(HELPER)} %F\nIcon=dialog-information\n")
    desk = Desktop(data_home=data)
    path, line = fresh()
    s = asked(["mkdir", path])
    try:
        dump = desk.wait_ready(path)
        desk.screenshot("known-program")
        contains(dump.labels["program_label"],
                 f"Helper of the tests ({os.path.realpath(HELPER)})", "its name and path")
        desk.click(dump, "deny_button")
        eq(s.expect(("mkdir",)), line + " EPERM", "denied")
    finally:
        s.close()
        desk.close()


@test
def the_seed_walkthrough_with_the_pop_up():
    """inetd under systrace (asking), its policy learned but for the exec of ident2: nothing
    happens until a request makes inetd run ident2; then the pop-up asks, the request waits,
    and "Always allow" lets it go on and writes the rule."""
    need_desktop()
    inetd, policy, policies, ident_port, _ = learned_inetd()
    desk = Desktop()
    t = Terminal([SYSTRACE, "-d", policies, *inetd])
    try:
        wait_listening(ident_port, "inetd, asking")
        eq(desk.dump().visible, False, "nothing asked before a request")
        from concurrent.futures import ThreadPoolExecutor
        answer = ThreadPoolExecutor(1).submit(request, ident_port)
        dump = desk.wait_ready(IDENT)
        desk.screenshot("walkthrough")
        contains(dump.labels["summary_label"], "inetd", "inetd wants to run ident2")
        time.sleep(0.5)
        eq(answer.done(), False, "the request waits for the answer")
        desk.click(desk.wait_ready(IDENT), "always_allow_button")
        contains(answer.result(timeout=20), "USERID", "ident answers once permitted")
        with open(policy) as f:
            contains(f.read(), EXEC_RULE.strip(), "the rule is written to inetd's policy")
        contains(request(ident_port), "USERID", "permitted from now on, unasked")
        eq("Answer:" in t.out.decode(errors="replace"), False, "nothing asked on the terminal")
    finally:
        if t.status is None:
            os.kill(t.pid, signal.SIGTERM)
            t.wait()
        desk.close()


@test
def always_deny_appends_a_deny_rule():
    need_desktop()
    got, line, d, path = answer_with("always_deny_button", shot="always-deny")
    eq(got, line + " EPERM", "denied")
    with open(policy_file(d)) as f:
        text = f.read()
    contains(text, "native-fswrite: filename", "the rule")
    contains(text, "then deny", "a deny")


@test
def an_edited_rule_is_checked_as_typed_and_written_when_chosen():
    need_desktop()
    desk = Desktop(wm=True)
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    path, line = fresh()
    s = asked(["mkdir", path], policy_dir=d)

    def retype(text):
        desk.click(desk.dump(), "rule_entry")
        desk.key("ctrl+a", "BackSpace")
        desk.type(text)

    def always_allow(x):
        return x.buttons["always_allow_button"][4]

    try:
        desk.wait_ready(path)
        retype("filename eq")
        dump = desk.wait(lambda x: x.labels.get("rule_error_label") and not always_allow(x),
                         "the rule refused as typed")
        desk.screenshot("rule-invalid")
        eq(dump.buttons["allow_button"][4], True, "Allow needs no rule")
        eq(dump.buttons["always_deny_button"][4], False, "Always deny needs one")
        # Parses, but does not match the call: the daemon says so, the question stays.
        retype('filename eq "/elsewhere"')
        dump = desk.wait(lambda x: not x.labels.get("rule_error_label") and always_allow(x),
                         "a rule that parses")
        desk.click(dump, "always_allow_button")
        dump = desk.wait(lambda x: "match" in x.labels.get("rule_error_label", ""),
                         "the daemon's refusal")
        s.quiet("mkdir", 0.3)
        rule = f'filename match "{SCRATCH}/*"'
        retype(rule)
        dump = desk.wait(lambda x: not x.labels.get("rule_error_label") and always_allow(x),
                         "the broader rule accepted")
        desk.click(dump, "always_allow_button")
        eq(s.expect(("mkdir",)), line + " ok", "permitted")
        with open(policy_file(d)) as f:
            contains(f.read(), f"native-fswrite: {rule} then permit", "the rule as edited")
    finally:
        s.close()
        desk.close()


@test
def review_rules_shows_the_policys_rules_for_the_call():
    need_desktop()
    desk = Desktop()
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    rule = 'native-fswrite: filename eq "/elsewhere" then permit'
    with open(policy_file(d), "w") as f:
        f.write(f"Policy: {os.path.realpath(HELPER)}, Emulation: native\n\t{rule}\n"
                '\tnative-fsread: filename eq "/not/shown" then permit\n')
    path, line = fresh()
    s = asked(["mkdir", path], policy_dir=d)
    try:
        dump = desk.wait_ready(path)
        contains(dump.labels["policy_label"], "(2 rules)", "the policy and its size")
        desk.click(dump, "review_button")
        dump = desk.wait(lambda x: x.dialog and rule in x.dialog.text(), "the rules shown")
        desk.screenshot("review-rules")
        eq("/not/shown" in dump.dialog.text(), False, "only this call's rules")
        s.quiet("mkdir", 0.2)
        contains(desk.dump().labels["countdown_label"], "stopped", "reviewing is deciding")
    finally:
        s.close()
        desk.close()


@test
def kill_ends_the_program():
    need_desktop()
    desk = Desktop()
    path, _ = fresh()
    s = asked(["mkdir", path])
    try:
        dump = desk.wait_ready(path)
        desk.screenshot("kill")
        desk.click(dump, "kill_button")
        desk.wait(lambda x: not x.visible, "the window to go")
        rc = s.proc.wait(timeout=20)
        eq(rc != 0, True, f"the program was killed (exit {rc})")
        eq(os.path.exists(path), False, "nothing made")
    finally:
        s.close()
        desk.close()


@test
def detach_lets_the_program_run_unsupervised():
    need_desktop()
    desk = Desktop()
    path, line = fresh()
    later, later_line = fresh()
    s = asked(["mkdir", path, "mkdir", later])
    try:
        dump = desk.wait_ready(path)
        desk.screenshot("detach")
        desk.click(dump, "detach_button")
        eq(s.expect(("mkdir",)), line + " ok", "the call asked about")
        eq(s.expect(("mkdir",)), later_line + " ok", "the next one, without a question")
        eq(s.wait(), 0, "exit")
    finally:
        s.close()
        desk.close()


@test
def a_click_right_after_the_window_appears_does_nothing():
    need_desktop()
    desk = Desktop()
    path, line = fresh()
    s = asked(["mkdir", path])
    try:
        dump = desk.wait_question(path)
        shown = time.monotonic()
        desk.click(dump, "allow_button")
        clicked = time.monotonic() - shown
        eq(clicked < 0.5, True, f"clicked {clicked:.2f} s after the window appeared")
        s.quiet("mkdir", 1.5)
        dump = desk.wait_ready(path)
        desk.screenshot("inert")
        desk.click(dump, "allow_button")
        eq(s.expect(("mkdir",)), line + " ok", "a later click answers")
    finally:
        s.close()
        desk.close()


@test
def keys_typed_into_another_window_do_not_answer():
    need_desktop()
    desk = Desktop(wm=True)
    typed = os.path.join(desk.dir, "typed")
    typist = subprocess.Popen([SYSTEM_PYTHON, os.path.join(os.path.dirname(__file__), "typist.py"),
                               typed], env=desk.env, stderr=subprocess.DEVNULL)
    path, line = fresh()
    s = None
    try:
        deadline = time.time() + 15
        while not os.path.exists(typed):
            desk.key("x")  # until the typist's window has the focus
            if time.time() > deadline:
                raise AssertionError("the typist's window never took the keys")
            time.sleep(0.2)
        s = asked(["mkdir", path])
        # Typing on as the question appears: letters, Enter, Space, the mnemonics' Alt keys.
        end = time.time() + 3
        while time.time() < end:
            desk.key("a", "Return", "space", "alt+a", "alt+d", "Escape")
        d = desk.wait_question(path)
        desk.screenshot("typing")
        s.quiet("mkdir", 0.5)
        eq(d.visible, True, "the question is still shown")
        with open(typed) as f:
            contains(f.read(), "a a", "the keys went to the typist")
        d = desk.wait_ready(path)
        desk.click(d, "deny_button")
        eq(s.expect(("mkdir",)), line + " EPERM", "the person's answer")
    finally:
        if s:
            s.close()
        typist.kill()
        typist.wait()
        desk.close()


@test
def a_killed_process_takes_its_question_with_it():
    need_desktop()
    desk = Desktop()
    path, _ = fresh()
    s = asked(["mkdir", path])
    try:
        d = desk.wait_ready(path)
        desk.screenshot("killed-process")
        pid = int(d.labels["process_label"].split()[0])
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        desk.wait(lambda x: not x.visible, "the question to go", timeout=5)
        took = time.monotonic() - start
        eq(took < 2, True, f"gone in {took:.2f} s")
    finally:
        s.close()
        desk.close()


@test
def the_countdown_denies_once_and_stores_nothing():
    need_desktop()
    desk = Desktop(countdown=3)
    d = tempfile.mkdtemp(prefix="systrace-gui-policy-")
    path, line = fresh()
    s = asked(["mkdir", path], policy_dir=d)
    try:
        dump = desk.wait_question(path)
        desk.screenshot("countdown")
        contains(dump.labels["countdown_label"], "Denied once", "the countdown is shown")
        start = time.monotonic()
        eq(s.expect(("mkdir",), timeout=10), line + " EPERM", "denied by default")
        took = time.monotonic() - start
        eq(2 <= took <= 6, True, f"after {took:.1f} s")
        eq(os.path.exists(policy_file(d)), False, "a timeout is never stored")
    finally:
        s.close()
        desk.close()


@test
def an_interaction_stops_the_countdown():
    need_desktop()
    desk = Desktop(countdown=3)
    path, line = fresh()
    s = asked(["mkdir", path])
    try:
        dump = desk.wait_question(path)
        x, y, w, h, _ = dump.buttons["allow_button"]
        # A click on the window, not on a button.
        subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y - 40), "click", "1"],
                       env=desk.env, check=True)
        s.quiet("mkdir", 5)
        desk.screenshot("countdown-stopped")
        contains(desk.dump().labels["countdown_label"], "stopped", "the countdown says so")
        dump = desk.wait_ready(path)
        desk.click(dump, "allow_button")
        eq(s.expect(("mkdir",)), line + " ok", "answered by the person")
    finally:
        s.close()
        desk.close()


@test
def hostile_strings_are_shown_literally_and_escaped():
    need_desktop()
    desk = Desktop()
    name = "x<b>bold</b>%n%s%x\u202eevil\u200bz"
    path = os.path.join(SCRATCH, name).encode() + b"\xff"
    big = "A" * 10240
    # The 10 kB argument is in the program's argv (the exec after the mkdir is never reached).
    s = Session([b"pause", b"mkdir", path, b"exec", b"/bin/true", big.encode(), b"--"],
                mode="ask")
    try:
        s.expect(("pause: waiting",))
        s.go()
        d = desk.wait_ready("evil")
        desk.screenshot("hostile")
        text = d.text()
        for shown in ("<b>bold</b>", "%n%s%x", "\\xe2\\x80\\xae", "\\xe2\\x80\\x8b"):
            contains(text, shown, "shown literally or escaped")
        for hidden in ("\u202e", "\u200b", "\xff"):
            eq(hidden in text, False, f"no raw {hidden!r}")
        eq(all(ord(c) >= 0x20 for c in text.replace("\n", "")), True, "no control character")
        argv = d.labels["argv_label"]
        contains(argv, "bytes in all", "the 10 kB argument is cut")
        eq(len(argv) < 1000, True, f"argv shown in {len(argv)} characters")
        desk.click(d, "deny_button")
        s.expect(("mkdir",))
    finally:
        s.close()
        desk.close()


@test
def the_sessions_window_shows_decisions_and_detaches_and_kills():
    need_desktop()
    desk = Desktop()
    p1, l1 = fresh()
    p2, l2 = fresh()
    a = Session(["pause", "mkdir", p1, "pause", "mkdir", p2])  # enforce: mkdir is denied
    b = Session(["pause", "mkdir", p1])
    try:
        a.expect(("pause: waiting",))
        b.expect(("pause: waiting",))
        desk.open_sessions()
        d = desk.wait(lambda x: x.visible and f"session_{a.id}" in x.labels
                      and f"session_{b.id}" in x.labels, "both sessions listed", window="sessions")
        contains(d.labels[f"session_{a.id}"], "st-helper", "the program")
        contains(d.labels[f"session_{a.id}"], "enforce", "the mode")
        a.go()
        eq(a.expect(("mkdir",)), l1 + " EPERM", "enforced")
        d = desk.wait(lambda x: p1 in x.labels.get("decisions_label", ""), "the decision shown",
                      window="sessions")
        desk.screenshot("sessions")
        desk.click(d, f"detach_{a.id}")
        time.sleep(0.5)
        a.expect(("pause: waiting",))
        a.go()
        eq(a.expect(("mkdir",)), l2 + " ok", "detached: permitted")
        eq(a.wait(), 0, "exit")
        # The list is rebuilt as sessions go: click once it has settled.
        d = desk.wait(lambda x: f"session_{a.id}" not in x.labels and f"kill_{b.id}" in x.buttons,
                      "a gone, b listed", window="sessions")
        time.sleep(0.3)
        d = desk.dump("sessions")
        desk.click(d, f"kill_{b.id}")
        rc = b.proc.wait(timeout=20)
        eq(rc != 0, True, f"killed (exit {rc})")
        desk.wait(lambda x: f"session_{b.id}" not in x.labels, "b gone from the list",
                  window="sessions")
    finally:
        a.close()
        b.close()
        desk.close()


@test
def a_forged_question_is_refused():
    need_desktop()
    desk = Desktop()
    try:
        name = desk.system_bus_name()
        ask = ["call", name, "/org/systrace/Applet", "org.systrace.Agent1", "Ask", "sa{sv}",
               "forged", "2", "program", "s", "/bin/evil", "rule-name", "s", "execve"]
        bus = f"--address={BUS}"
        # Root may call agents (the daemon is root), but the applet takes only the daemon's.
        p = subprocess.run(["busctl", bus, *ask], capture_output=True, text=True, timeout=30)
        eq(p.returncode != 0, True, "refused")
        contains(p.stderr, "only systraced may ask", "by the applet")
        # Anyone else: the bus policy refuses before the applet sees it.
        p = subprocess.run(NOBODY + ["busctl", bus, *ask], capture_output=True, text=True,
                           timeout=30)
        eq(p.returncode != 0, True, "refused")
        contains(p.stderr.lower(), "denied", "by the bus")
        time.sleep(0.5)
        eq(desk.dump().visible, False, "no window")
    finally:
        desk.close()


@test
def another_users_applet_gets_only_that_users_questions():
    need_desktop()
    desk = Desktop(user="nobody")
    path, _ = fresh()
    root_s = asked(["mkdir", path])
    theirs = tempfile.mkdtemp(prefix="systrace-gui-nobody-")
    os.chmod(theirs, 0o777)
    their_path = os.path.join(theirs, "d")
    s = Session(["pause", "mkdir", their_path], mode="ask", user="nobody")
    try:
        s.expect(("pause: waiting",))
        s.go()
        d = desk.wait_ready(their_path)
        desk.screenshot("other-user")
        eq(path in d.text(), False, "root's question is not shown to nobody")
        contains(d.labels["user_label"], "nobody", "their own")
        eq(d.labels["count_label"], "Question 1 of 1", "only theirs")
        desk.click(d, "allow_button")
        eq(s.expect(("mkdir",)), f"mkdir {their_path}: ok", "answered by their applet")
        root_s.quiet("mkdir", 0.5)
    finally:
        s.close()
        root_s.close()
        desk.close()


@test
def a_burst_of_50_questions_queues_in_one_window():
    need_desktop()
    desk = Desktop()
    sessions = []
    try:
        for _ in range(50):
            path, _ = fresh("burst")
            sessions.append(asked(["mkdir", path]))
        # Every program waits for its answer: none ran its mkdir unasked.
        time.sleep(1)
        waiting = [x for x in sessions if x.proc.poll() is None]
        eq(len(waiting), 50, "sessions waiting")
        total = 50
        d = desk.wait(lambda x: x.labels.get("count_label", "").startswith(
            f"Question 1 of {total}"), f"{total} questions queued", timeout=60)
        desk.screenshot("burst")
        # By its title: a tooltip is a window too.
        windows = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                  "^systrace: a program asks$"],
                                 env=desk.env, capture_output=True, text=True).stdout.split()
        eq(len(windows), 1, "one window")
        # Answer three, one after another; then their programs end and the rest go with them.
        for i in range(3):
            d = desk.wait(lambda x: x.buttons.get("allow_button", (0,) * 5)[4] and
                          x.labels.get("count_label", "").startswith(f"Question 1 of {total - i}"),
                          f"question {i + 1} ready")
            desk.click(d, "allow_button")
        desk.wait(lambda x: x.labels.get("count_label", "").startswith(
            f"Question 1 of {total - 3}"), "three answered")
        for s in sessions:
            s.close()
        desk.wait(lambda x: not x.visible, "every question gone", timeout=30)
    finally:
        for s in sessions:
            s.close()
        desk.close()


if __name__ == "__main__":
    main()
