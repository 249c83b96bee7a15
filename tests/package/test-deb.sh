#!/bin/bash
# test-deb.sh SOURCE_ROOT: builds the Debian package from a copy of the tree
# (dpkg-buildpackage -us -uc -b), checks what it ships (dpkg -c) and what lintian says, then
# installs it on this machine with dpkg -i, runs the installed programs (systrace -A /bin/true,
# systracectl policy check, the French catalogue, the unit, the applet's help) and purges them. Installing needs
# root and a machine where systrace is not installed otherwise (CI's throwaway one). TAP output.
set -uo pipefail
src=$1
must_work=${SYSTRACE_TESTS_MUST_WORK:-}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    printf '# %s\n' "$@"
}
# skip NAME WHY: a skip here, a failure in CI.
skip() {
    n=$((n + 1))
    if [ "$must_work" = 1 ]; then
        failed=$((failed + 1))
        echo "not ok $n - $1 # cannot run here: $2"
    else
        echo "ok $n - $1 # SKIP $2"
    fi
}

echo "1..9"
tmp=$(mktemp -d /tmp/systrace-deb.XXXXXX)
installed=
cleanup() {
    [ -n "$installed" ] && dpkg --purge systrace-applet systrace >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The package builds from a clean copy of the tree (no build directory, no .git).
mkdir "$tmp/systrace"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$tmp/systrace")
else
    tar -C "$src" --exclude='./build*' -cf - . | tar -C "$tmp/systrace" -xf -
fi
if ! (cd "$tmp/systrace" && dpkg-checkbuilddeps) >"$tmp/deps.log" 2>&1; then
    skip "dpkg-buildpackage -b" "$(tail -1 "$tmp/deps.log") (scripts/install-deps installs them)"
    for i in 2 3 4 5 6 7 8 9; do skip "needs the package" "it was not built"; done
    exit $((failed > 0))
fi
if (cd "$tmp/systrace" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else
    not_ok "dpkg-buildpackage -us -uc -b" "$(tail -30 "$tmp/build.log")"
    exit 1
fi
deb=$(ls "$tmp"/systrace_*_amd64.deb)
applet_deb=$(ls "$tmp"/systrace-applet_*_amd64.deb)

# 2. Everything an administrator expects, where Debian puts it.
expected="./usr/bin/systrace ./usr/bin/systracectl ./usr/sbin/systraced
./lib/systemd/system/systraced.service ./etc/systrace/systraced.conf
./usr/share/dbus-1/system.d/org.systrace.Daemon1.conf
./usr/share/dbus-1/system-services/org.systrace.Daemon1.service
./usr/share/dbus-1/interfaces/org.systrace.Daemon1.xml
./usr/share/man/man1/systrace.1.gz ./usr/share/man/man1/systracectl.1.gz
./usr/share/man/man8/systraced.8.gz ./usr/share/man/man5/systrace.policy.5.gz
./usr/share/man/man5/systraced.conf.5.gz
./usr/share/bash-completion/completions/systrace ./usr/share/bash-completion/completions/systracectl
./usr/share/locale/fr/LC_MESSAGES/systrace.mo ./usr/share/locale/de/LC_MESSAGES/systrace.mo
./usr/share/systrace/abstractions/base ./usr/share/systrace/abstractions/nameservice
./usr/share/doc/systrace/copyright
./usr/share/doc/systrace/examples/openbsd-inetd/usr_sbin_inetd
./usr/share/doc/systrace/examples/openbsd-inetd/usr_sbin_ident2
./usr/share/doc/systrace/examples/dnsmasq/usr_sbin_dnsmasq
./usr/share/doc/systrace/examples/python3-http-server/usr_bin_python3_11"
applet_expected="./usr/bin/systrace-applet ./etc/xdg/autostart/systrace-applet.desktop
./usr/share/applications/systrace-applet.desktop
./usr/share/icons/hicolor/scalable/apps/systrace-applet.svg
./usr/share/man/man1/systrace-applet.1.gz ./usr/share/doc/systrace-applet/copyright"
dpkg -c "$deb" | awk '{print $6}' >"$tmp/contents"
dpkg -c "$applet_deb" | awk '{print $6}' >"$tmp/applet-contents"
missing=$(for f in $expected; do grep -qxF "$f" "$tmp/contents" || echo "$f"
    done; for f in $applet_expected; do grep -qxF "$f" "$tmp/applet-contents" || echo "$f"; done)
if [ -z "$missing" ]; then ok "dpkg -c lists every expected file"; else not_ok "dpkg -c lists every expected file" "missing: $(echo $missing)"; fi
# Nothing is enforced by default: no policy in /etc/systrace, only the daemon's settings (and
# the applet's XDG autostart entry, in its own package).
extra=$(grep '^\./etc/' "$tmp/contents" | grep -v -x -e './etc/' -e './etc/systrace/' -e './etc/systrace/systraced.conf'
    grep '^\./etc/' "$tmp/applet-contents" | grep -v -x -e './etc/' -e './etc/xdg/' -e './etc/xdg/autostart/' \
        -e './etc/xdg/autostart/systrace-applet.desktop')
if [ -z "$extra" ]; then ok "nothing in /etc but systraced.conf"; else not_ok "nothing in /etc but systraced.conf" "$extra"; fi

# 3. lintian reports no error (its warnings are printed).
if command -v lintian >/dev/null; then
    lintian --allow-root "$tmp"/systrace_*_amd64.changes >"$tmp/lintian.log" 2>&1
    sed 's/^/# lintian: /' "$tmp/lintian.log"
    if grep -q '^E: ' "$tmp/lintian.log"; then not_ok "lintian: no errors" "$(grep '^E: ' "$tmp/lintian.log")"; else ok "lintian: no errors"; fi
else
    skip "lintian: no errors" "lintian is not installed"
fi

# 4. Installed on this machine: the programs work from the installed files alone.
if [ "$(id -u)" -ne 0 ]; then
    for i in 5 6 7 8 9; do skip "installing the package" "needs root"; done
    exit $((failed > 0))
fi
if dpkg-query -W -f='${Status}' systrace 2>/dev/null | grep -q 'ok installed'; then
    for i in 5 6 7 8 9; do skip "installing the package" "systrace is installed on this machine already"; done
    exit $((failed > 0))
fi
if dpkg -i "$deb" "$applet_deb" >"$tmp/install.log" 2>&1; then
    installed=1
    ok "dpkg -i"
else
    not_ok "dpkg -i" "$(cat "$tmp/install.log")"
    exit 1
fi
# Learning runs with the installed abstractions and nothing of the build tree.
env -u SYSTRACE_DATA_DIR -u SYSTRACE_LOCALEDIR HOME="$tmp" \
    /usr/bin/systrace -A -d "$tmp/policies" /bin/true >"$tmp/learn.log" 2>&1
status=$?
policy=$tmp/policies/usr_bin_true
if [ $status -eq 0 ] && grep -qx $'\tinclude "base"' "$policy" &&
    /usr/bin/systracectl policy check "$policy" >"$tmp/check.log" 2>&1 &&
    /usr/bin/systracectl policy check /usr/share/doc/systrace/examples/*/* >>"$tmp/check.log" 2>&1 &&
    env -u SYSTRACE_DATA_DIR /usr/bin/systrace -a -e -d "$tmp/policies" /bin/true; then
    ok "systrace -A /bin/true, policy check, systrace -a from the installed files"
else
    not_ok "systrace -A /bin/true, policy check, systrace -a from the installed files" \
        "exit $status" "$(cat "$tmp/learn.log" "$policy" "$tmp/check.log" 2>&1)"
fi
# The installed catalogue and manual page, found where the programs and man look.
fr=$(env -u SYSTRACE_LOCALEDIR LC_ALL=C.UTF-8 LANGUAGE=fr /usr/bin/systrace --help)
if grep -q '^Usage : systrace' <<<"$fr" && MANWIDTH=80 man --warnings systrace.policy 2>&1 >/dev/null |
    { ! grep -q .; } && man -w systraced | grep -q '/usr/share/man/man8/systraced.8.gz' &&
    man -w systrace-applet | grep -q '/usr/share/man/man1/systrace-applet.1.gz' &&
    /usr/bin/systrace-applet --help | grep -q -- '--countdown'; then
    ok "French from the installed catalogue; man finds the pages"
else
    not_ok "French from the installed catalogue; man finds the pages" "$(head -3 <<<"$fr")"
fi
# The unit is enabled (bus activation goes through its alias) and valid where systemd can say.
unit_ok=1
[ -L /etc/systemd/system/dbus-org.systrace.Daemon1.service ] || unit_ok=0
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/systraced.service >"$tmp/verify.log" 2>&1 || unit_ok=0
fi
if [ $unit_ok = 1 ]; then ok "systraced.service enabled and valid"; else not_ok "systraced.service enabled and valid" "$(cat "$tmp/verify.log" 2>/dev/null)" "$(ls -l /etc/systemd/system/ 2>&1)"; fi

dpkg --purge systrace-applet systrace >"$tmp/purge.log" 2>&1
installed=
if [ ! -e /usr/bin/systrace ] && [ ! -e /etc/systrace/systraced.conf ] &&
    [ ! -e /etc/systemd/system/dbus-org.systrace.Daemon1.service ] && [ ! -e /usr/bin/systrace-applet ] &&
    [ ! -e /etc/xdg/autostart/systrace-applet.desktop ]; then
    ok "dpkg --purge removes it all"
else
    not_ok "dpkg --purge removes it all" "$(cat "$tmp/purge.log")"
fi
exit $((failed > 0))
