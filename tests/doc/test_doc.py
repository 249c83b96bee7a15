"""test_doc.py: the manual pages render without warnings and say what the programs do: every flag
of each --help in its page, every systracectl command, and the aliases' calls exactly as the
engine's table has them."""
import os
import re
import subprocess

from lib import Skip, main, test

MAN_DIR = os.environ["MAN_DIR"]
PROGRAMS = {"systrace": os.environ["SYSTRACE"], "systracectl": os.environ["SYSTRACECTL"],
            "systraced": os.environ["SYSTRACED"]}
PAGES = ["systrace.1", "systracectl.1", "systraced.8", "systraced.conf.5", "systrace.policy.5"]
PAGE_OF = {"systrace": "systrace.1", "systracectl": "systracectl.1", "systraced": "systraced.8"}
if os.environ.get("SYSTRACE_APPLET"):  # built when GTK 3 is there (meson option applet)
    PROGRAMS["systrace-applet"] = os.environ["SYSTRACE_APPLET"]
    PAGES.append("systrace-applet.1")
    PAGE_OF["systrace-applet"] = "systrace-applet.1"
ENV = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", LANGUAGE="", MAN_KEEP_FORMATTING="")


def page_path(page):
    path = os.path.join(MAN_DIR, page)
    if not os.path.exists(path):
        raise Skip(f"{path} was not built (scdoc missing?)")
    return path


def render(page):
    """The page as man shows it at 80 columns, and what man said on standard error."""
    r = subprocess.run(["man", "--warnings", "-l", page_path(page)], env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"man -l {page}: exit {r.returncode}: {r.stderr}"
    return r.stdout, r.stderr


def help_text(program):
    r = subprocess.run([PROGRAMS[program], "--help"], env=ENV, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, f"{program} --help: exit {r.returncode}"
    return r.stdout


def section(text, title):
    """The body of the section TITLE (an unindented heading) of a rendered page."""
    m = re.search(rf"^{re.escape(title)}\n(.*?)(?=^\S)", text, re.M | re.S)
    assert m, f"no section {title}"
    return m.group(1)


@test
def each_page_renders_without_warnings():
    for page in PAGES:
        out, err = render(page)
        assert err == "", f"{page}: man --warnings said:\n{err}"
        assert len(out.splitlines()) > 20, f"{page}: almost empty"
        for line in out.splitlines():
            assert len(line) <= 80, f"{page}: wider than 80 columns: {line!r}"


@test
def every_flag_of_each_help_is_in_its_page():
    for program, page in PAGE_OF.items():
        flags = set()
        for f in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text(program)):
            # The usage line's bundle [-AaeitUuVvw] is one flag per letter.
            flags |= {"-" + c for c in f[1:]} if not f.startswith("--") else {f}
        assert len(flags) >= 6, f"{program} --help lists only {flags}"
        out, _ = render(page)
        # An option of a command (monitor --answer) is described with the command.
        options = section(out, "OPTIONS") + "".join(
            section(out, title) for title in re.findall(r"^([A-Z ]*COMMANDS)$", out, re.M))
        missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}\b", options))
        assert not missing, f"{page}'s OPTIONS lack {missing}"


@test
def every_systracectl_command_is_in_its_page():
    usage = help_text("systracectl")
    # "  policy check FILE…", "  list   ", "  mode TARGET MODE": the command words of the help.
    commands = re.findall(r"^  (policy \w+|[a-z]+)(?= )", usage, re.M)
    assert "policy check" in commands and "monitor" in commands, commands
    out, _ = render("systracectl.1")
    body = section(out, "POLICY COMMANDS") + section(out, "SESSION COMMANDS")
    missing = [c for c in commands if not re.search(rf"^       {c}\b", body, re.M)]
    assert not missing, f"systracectl(1) does not describe {missing}"


@test
def the_aliases_list_the_engines_calls_exactly():
    r = subprocess.run([os.environ["GEN_POLICY_TABLES"], "--aliases"], capture_output=True,
                       text=True, check=True, timeout=30)
    want = {}
    for line in r.stdout.splitlines():
        alias, call, _cond = line.split()
        want.setdefault(alias, set()).add(call)
    assert set(want) == {"fsread", "fswrite"}, want
    out, _ = render("systrace.policy.5")
    text = section(out, "ALIASES")
    # Each alias's paragraph runs from its name, alone on a line, to the next alias or the end.
    parts = re.split(r"^       (fsread|fswrite)\n", text, flags=re.M)
    got = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        body = re.sub(r"\(.*?\)", "", body, flags=re.S)  # the conditions, in parentheses
        got[name] = set(re.findall(r"[a-z_0-9]+", body))
    for alias in want:
        assert got.get(alias) == want[alias], (
            f"{alias}: the page lists {sorted(got.get(alias, set()) - want[alias])} beyond the "
            f"table and lacks {sorted(want[alias] - got.get(alias, set()))}")


@test
def the_openbsd_names_are_in_the_policy_page():
    out, _ = render("systrace.policy.5")
    text = section(out, "OPENBSD COMPATIBILITY")
    for name in ["__tfork", "__getcwd", "sigaction", "kqueue", "string"]:
        assert re.search(rf"^       [o•·]   {re.escape(name)}\b", text, re.M), name


if __name__ == "__main__":
    main()
