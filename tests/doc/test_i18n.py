"""test_i18n.py: the programs speak French and German from the build tree's catalogues, and the
catalogues are complete: every message xgettext finds in po/POTFILES is translated, none fuzzy."""
import os
import re
import subprocess
import tempfile

from lib import main, test

SOURCE_ROOT = os.environ["SOURCE_ROOT"]
LOCALEDIR = os.environ["LOCALEDIR"]
PROGRAMS = {"systrace": os.environ["SYSTRACE"], "systracectl": os.environ["SYSTRACECTL"],
            "systraced": os.environ["SYSTRACED"]}


def run(program, *args, language):
    env = dict(os.environ, SYSTRACE_LOCALEDIR=LOCALEDIR, LC_ALL="C.UTF-8", LANGUAGE=language)
    return subprocess.run([PROGRAMS[program], *args], env=env, capture_output=True, text=True,
                          timeout=30)


@test
def systrace_help_in_french():
    out = run("systrace", "--help", language="fr").stdout
    assert out.startswith("Usage : systrace"), out[:200]
    assert "enregistre chaque appel et écrit une politique" in out, out
    assert "affiche cette aide" in out, out
    # The flags stay as they are: only the words around them are translated.
    assert "-A, --learn" in out and "-k, --keep-fd FD" in out, out


@test
def every_program_helps_in_french_and_german():
    words = {"fr": ("Usage :", "affiche"), "de": ("Aufruf:", "anzeigen")}
    for program in PROGRAMS:
        english = run(program, "--help", language="C").stdout
        for language, (usage, word) in words.items():
            out = run(program, "--help", language=language).stdout
            assert out.startswith(usage) and word in out, f"{program} in {language}:\n{out}"
            assert out != english


@test
def a_policy_error_in_french():
    with tempfile.NamedTemporaryFile("w", suffix=".policy") as f:
        f.write('Policy: /usr/bin/true, Emulation: native\n'
                '\tnative-read: fd eq "3" then permitt\n')
        f.flush()
        r = run("systracectl", "policy", "check", f.name, language="fr")
    assert r.returncode == 1, r
    assert re.search(r":2:\d+: error: attendu : une action \(permit, deny, ask\), trouvé : "
                     r"'permitt'", r.stdout), r.stdout


@test
def an_error_in_german():
    r = run("systrace", "-A", "-a", "/bin/true", language="de")
    assert r.returncode == 2
    assert "systrace: -A, -a und -w können nicht kombiniert werden" in r.stderr, r.stderr


@test
def the_catalogues_are_complete():
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "systrace.pot")
        # The same extraction as po/meson.build's (the glib preset's keywords, ours).
        subprocess.run(
            # No --language: the .ui files are GtkBuilder, the rest C, by their names.
            ["xgettext", "--from-code=UTF-8", "--keyword=_", "--keyword=N_",
             "--keyword=C_:1c,2", "--keyword=NC_:1c,2", "--keyword=g_dngettext:2,3",
             "--keyword=fail_at:3", "--flag=fail_at:3:c-format", "--keyword=fail_expected:2",
             "--keyword=pol_diags_add:5", "--flag=pol_diags_add:5:c-format",
             "--directory", SOURCE_ROOT, "--files-from", os.path.join(SOURCE_ROOT, "po/POTFILES"),
             "-o", pot], check=True, timeout=60)
        with open(os.path.join(SOURCE_ROOT, "po/LINGUAS")) as f:
            languages = f.read().split()
        assert "fr" in languages and "de" in languages, languages
        for language in languages:
            merged = os.path.join(tmp, language + ".po")
            subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged,
                            os.path.join(SOURCE_ROOT, "po", language + ".po"), pot],
                           check=True, timeout=60)
            r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", merged],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert re.fullmatch(r"\d+ translated messages\.\n", r.stderr), (
                f"po/{language}.po is not complete for the sources: {r.stderr.strip()}")


if __name__ == "__main__":
    main()
