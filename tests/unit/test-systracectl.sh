#!/bin/sh
# test-systracectl.sh: systracectl policy check|show|path, run as a user would (TAP output).
set -u
ctl="$1"
podir="${2:-}"
ports_filter="${3:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
expect() { # description, expected exit code, command…
    desc=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$desc"; else
        not_ok "$desc (exit $got, want $want)"; sed 's/^/# /' "$tmp/out" "$tmp/err"; fi
}
contains() { # description, file, fixed string
    if grep -qF -- "$3" "$2"; then ok "$1"; else
        not_ok "$1"; echo "# wanted: $3"; sed 's/^/# /' "$2"; fi
}

cat >"$tmp/usr_bin_ls" <<'P'
Policy: /usr/bin/ls, Emulation: native
	native-fsread: filename eq "$HOME" then permit
	native-fchdir:permit
P
cat >"$tmp/bad" <<'P'
Policy: /bin/ls, Emulation: native
	native-fsread: filename eq "/etc" then deny[enosuch]
	native-fchdir: permit
	native-fchdir: permit
	native-frobnicate: permit
P

expect "check of a good file exits 0" 0 "$ctl" policy check "$tmp/usr_bin_ls"
contains "check says ok" "$tmp/out" "usr_bin_ls: ok (1 policy)"
expect "check of a bad file exits 1" 1 "$ctl" policy check "$tmp/bad"
contains "error as FILE:LINE:COL" "$tmp/out" "$tmp/bad:2:46: error: unknown errno 'enosuch'"
contains "duplicate warned" "$tmp/out" "$tmp/bad:4:1: warning: duplicate of the rule on line 3"
contains "unknown call warned" "$tmp/out" "$tmp/bad:5:9: warning: unknown system call 'frobnicate'"
expect "check of a missing file exits 1" 1 "$ctl" policy check "$tmp/missing"
contains "missing file named" "$tmp/err" "cannot read $tmp/missing"
expect "check without files is a usage error" 2 "$ctl" policy check

expect "show a file" 0 "$ctl" policy show "$tmp/usr_bin_ls"
printf 'Policy: /usr/bin/ls, Emulation: native\n\tnative-fsread: filename eq "$HOME" then permit\n\tnative-fchdir: permit\n' >"$tmp/want"
if cmp -s "$tmp/out" "$tmp/want"; then ok "show prints canonical text"; else not_ok "show prints canonical text"; sed 's/^/# /' "$tmp/out"; fi
cp "$tmp/out" "$tmp/shown"
expect "show of a canonical text is a fixed point" 0 sh -c "\"$ctl\" policy show \"$tmp/shown\" | cmp - \"$tmp/want\""

mkdir -p "$tmp/user" "$tmp/global"
cp "$tmp/usr_bin_ls" "$tmp/global/usr_bin_ls"
export SYSTRACE_GLOBAL_DIR="$tmp/global"
expect "path finds the system policy" 0 "$ctl" -d "$tmp/user" policy path /bin/ls
contains "path names the file and its origin" "$tmp/out" "$tmp/global/usr_bin_ls (system policy directory)"
cp "$tmp/global/usr_bin_ls" "$tmp/user/usr_bin_ls"
expect "path prefers the user policy" 0 "$ctl" -d "$tmp/user" policy path ls
contains "user origin" "$tmp/out" "$tmp/user/usr_bin_ls (user policy directory)"
expect "-U skips the user policy" 0 "$ctl" -U policy path /usr/bin/ls
contains "global origin with -U" "$tmp/out" "$tmp/global/usr_bin_ls (system policy directory)"
expect "show by binary" 0 "$ctl" -d "$tmp/user" policy show /usr/bin/ls
contains "show by binary prints the policy" "$tmp/out" "Policy: /usr/bin/ls, Emulation: native"
expect "path of a program without policy exits 1" 1 "$ctl" -d "$tmp/user" policy path /bin/true
contains "says where learning would write" "$tmp/out" "$tmp/user/usr_bin_true (no policy yet"
expect "path of a missing program exits 1" 1 "$ctl" policy path /no/such/prog
printf 'Policy: */ls, Emulation: native\n\tnative-read: permit\n' >"$tmp/extra"
expect "-f is searched first" 0 "$ctl" -d "$tmp/user" -f "$tmp/extra" policy path /usr/bin/ls
contains "-f origin" "$tmp/out" "(policy file given with -f)"

# Where a policy lives: a header that resolves elsewhere, a file the store would never find.
printf 'Policy: /bin/ls, Emulation: native\n\tnative-read: permit\n' >"$tmp/bin_ls"
expect "a header through a symbolic link is only a warning" 0 "$ctl" policy check "$tmp/bin_ls"
contains "header resolves elsewhere" "$tmp/out" "$tmp/bin_ls:1:1: warning: /bin/ls resolves to /usr/bin/ls"
printf 'Policy: /usr/bin/ls, Emulation: native\n\tnative-read: permit\n' >"$tmp/usr_bin_cat"
expect "a misnamed file is only a warning" 0 "$ctl" policy check "$tmp/usr_bin_cat"
contains "misnamed file" "$tmp/out" "$tmp/usr_bin_cat:1:1: warning: the policy of /usr/bin/ls is looked up in a file named 'usr_bin_ls', not 'usr_bin_cat'"

# Rules that cannot do what they say.
mkdir -p "$tmp/lint"
cat >"$tmp/lint/usr_bin_ls" <<'P'
Policy: /usr/bin/ls, Emulation: native
	native-fsread: filename eq "/etc/shadow" then permit
	native-fsread: filename eq "/etc/shadow" then deny[eacces]
	native-fsread: filename match "/srv/*" then permit
	native-fsread: filename eq "/srv/www/index.html" then deny
	native-bind: sockaddr match "inet-*:80" then permit as root
	native-open_by_handle_at: permit
	native-name_to_handle_at: filename match "/srv/*" then ask
P
expect "shadowed rules are warnings" 0 "$ctl" policy check "$tmp/lint/usr_bin_ls"
contains "a deny after the permit of the same file" "$tmp/out" "usr_bin_ls:3:1: warning: rule can never match: the rule on line 2 matches every call this one matches, and the first matching rule wins"
contains "a deny below a pattern" "$tmp/out" "usr_bin_ls:5:1: warning: rule can never match: the rule on line 4"
contains "elevation is unsupported" "$tmp/out" "usr_bin_ls:6:2: warning: privilege elevation ('as root') is not supported in this version"
contains "open_by_handle_at bypasses path rules" "$tmp/out" "usr_bin_ls:7:2: warning: 'open_by_handle_at' reaches files by a handle"
contains "name_to_handle_at too" "$tmp/out" "usr_bin_ls:8:2: warning: 'name_to_handle_at' reaches files by a handle"

# Abstractions: shipped ones (SYSTRACE_DATA_DIR), overridden by the administrator's.
mkdir -p "$tmp/data/abstractions" "$tmp/global/abstractions"
printf 'native-brk: permit\nnative-fsread: filename eq "/etc/ld.so.cache" then permit\n' >"$tmp/data/abstractions/mini"
printf 'include "loop-b"\n' >"$tmp/data/abstractions/loop-a"
printf 'include "loop-a"\n' >"$tmp/data/abstractions/loop-b"
export SYSTRACE_DATA_DIR="$tmp/data"
cat >"$tmp/lint/usr_bin_true" <<'P'
Policy: /usr/bin/true, Emulation: native
	include "mini"
	native-brk: deny
	native-exit_group: permit
P
expect "an include of a known abstraction" 0 "$ctl" policy check "$tmp/lint/usr_bin_true"
contains "a rule shadowed by an included one" "$tmp/out" "usr_bin_true:3:1: warning: rule can never match: include \"mini\" on line 2 brings in a rule (mini, line 1)"
expect "show prints the include, not what it brings in" 0 "$ctl" policy show "$tmp/lint/usr_bin_true"
printf 'Policy: /usr/bin/true, Emulation: native\n\tinclude "mini"\n\tnative-brk: deny\n\tnative-exit_group: permit\n' >"$tmp/want"
if cmp -s "$tmp/out" "$tmp/want"; then ok "include printed canonically"; else not_ok "include printed canonically"; sed 's/^/# /' "$tmp/out"; fi
printf 'Policy: /usr/bin/true, Emulation: native\n\tnative-read: permit\n  include "nosuch"\n' >"$tmp/lint/usr_bin_true"
expect "an unknown include is an error" 1 "$ctl" policy check "$tmp/lint/usr_bin_true"
contains "unknown include at FILE:LINE:COL" "$tmp/out" "usr_bin_true:3:3: error: unknown abstraction 'nosuch'"
printf 'Policy: /usr/bin/true, Emulation: native\n\tinclude "loop-a"\n' >"$tmp/lint/usr_bin_true"
expect "an include cycle is an error" 1 "$ctl" policy check "$tmp/lint/usr_bin_true"
contains "the cycle is named" "$tmp/out" "usr_bin_true:2:2: error: include cycle: loop-a -> loop-b -> loop-a"
printf 'Policy: /usr/bin/true, Emulation: native\n\tinclude "../../etc/passwd"\n' >"$tmp/lint/usr_bin_true"
expect "an include names no path" 1 "$ctl" policy check "$tmp/lint/usr_bin_true"
contains "path refused" "$tmp/out" "cannot name an abstraction"
expect "an abstraction is checked as one" 0 "$ctl" policy check "$tmp/data/abstractions/mini"
contains "abstraction ok" "$tmp/out" "mini: ok (an abstraction of 2 rules)"
expect "a cycle through an abstraction is refused" 1 "$ctl" policy check "$tmp/data/abstractions/loop-a"
printf 'native-brk: permit\n' >"$tmp/global/abstractions/mini"
printf 'Policy: /usr/bin/true, Emulation: native\n\tinclude "mini"\n\tnative-fsread: filename eq "/etc/ld.so.cache" then deny\n' >"$tmp/lint/usr_bin_true"
expect "the administrator's abstraction overrides the shipped one" 0 "$ctl" policy check "$tmp/lint/usr_bin_true"
contains "nothing shadowed by the override" "$tmp/out" "usr_bin_true: ok (1 policy)"
unset SYSTRACE_DATA_DIR
# The OpenBSD ports tree's filter, made a policy as its bsd.port.mk did: make's variables by sed.
if [ -f "$ports_filter" ]; then
    {
        echo "Policy: /usr/bin/make, Emulation: native"
        sed -e 's,${WRKDIR},'"$tmp/work"',g' -e 's,${TMPDIR},'"$tmp/t"',g' \
            -e 's,${PKG_TMPDIR},'"$tmp/pkg"',g' -e 's,${DISTDIR},'"$tmp/dist"',g' \
            -e 's,${PORTSDIR},'"$tmp/ports"',g' "$ports_filter"
    } >"$tmp/ports"
    expect "the ports tree's filter checks without errors" 0 "$ctl" policy check "$tmp/ports"
    if grep -q 'error:\|unknown system call\|unknown variable' "$tmp/out"; then
        not_ok "no errors, unknown calls or unknown variables"; sed 's/^/# /' "$tmp/out"
    else ok "no errors, unknown calls or unknown variables"; fi
    line=$(grep -n 'native-sigaction:' "$tmp/ports" | cut -d: -f1)
    contains "a mapping is a note at FILE:LINE:COL" "$tmp/out" \
        "$tmp/ports:$line:9: note: OpenBSD's 'sigaction' is rt_sigaction on Linux"
    contains "symlink's string is linkname" "$tmp/out" \
        "note: OpenBSD's argument 'string' is read as 'linkname' here"
    contains "a name without a counterpart is a warning" "$tmp/out" \
        "warning: OpenBSD's 'kqueue' has no Linux counterpart"
    mapped=$(grep -c "note: OpenBSD's '[^']*' is \|note: '[^']*' covers " "$tmp/out")
    missing=$(grep -c "has no Linux counterpart" "$tmp/out")
    if [ "$mapped" -ge 30 ] && [ "$missing" -ge 10 ]; then ok "OpenBSD's names are noted ($mapped mapped, $missing without counterpart)"
    else not_ok "OpenBSD's names are noted ($mapped mapped, $missing without counterpart)"; fi
    # Besides the names without a counterpart, only what any policy may be warned about.
    if grep 'warning:' "$tmp/out" | grep -v 'has no Linux counterpart\|unsafe: \|rule can never match\|is looked up in a file named' >"$tmp/other"; then
        not_ok "no other warnings"; sed 's/^/# /' "$tmp/other"
    else ok "no other warnings"; fi
    printf 'Policy: /usr/bin/make, Emulation: native\n\tnative-fswrite: filename match "${WRKDIR}" then permit\n' >"$tmp/unsubst"
    expect "an unsubstituted make variable still checks" 0 "$ctl" policy check "$tmp/unsubst"
    contains "and is warned about" "$tmp/out" "'\${WRKDIR}' is a make variable"
    printf 'Policy: /usr/bin/make, Emulation: native\n\tnative-fswrite: filename match "$WRKDIR/*" then permit\n' >"$tmp/unknown"
    expect "an unknown \$VAR still checks" 0 "$ctl" policy check "$tmp/unknown"
    contains "and is warned about as before" "$tmp/out" "unknown variable '\$WRKDIR' is kept as written"
else
    not_ok "the ports tree's filter: no file at '$ports_filter'"
fi

expect "--help" 0 "$ctl" --help
contains "help lists policy check" "$tmp/out" "policy check FILE"
expect "--version" 0 "$ctl" --version
contains "version printed" "$tmp/out" "systracectl "
expect "unknown command" 2 "$ctl" frobnicate
# No bus here (the unit suite runs without one): a session command fails, naming the daemon.
expect "session commands need the daemon" 1 env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus "$ctl" list
contains "daemon named" "$tmp/err" "systraced"

if [ -n "$podir" ] && [ -f "$podir/fr/LC_MESSAGES/systrace.mo" ]; then
    SYSTRACE_LOCALEDIR="$podir" LC_ALL=C.UTF-8 LANGUAGE=fr "$ctl" policy show >"$tmp/out" 2>"$tmp/err"
    contains "messages are translated (fr)" "$tmp/err" "policy show demande un FICHIER ou un PROGRAMME"
else
    not_ok "messages are translated (fr): no compiled catalogue in $podir"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
