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

cat >"$tmp/good" <<'P'
Policy: /bin/ls, Emulation: native
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

expect "check of a good file exits 0" 0 "$ctl" policy check "$tmp/good"
contains "check says ok" "$tmp/out" "good: ok (1 policies)"
expect "check of a bad file exits 1" 1 "$ctl" policy check "$tmp/bad"
contains "error as FILE:LINE:COL" "$tmp/out" "$tmp/bad:2:46: error: unknown errno 'enosuch'"
contains "duplicate warned" "$tmp/out" "$tmp/bad:4:1: warning: duplicate of the rule on line 3"
contains "unknown call warned" "$tmp/out" "$tmp/bad:5:9: warning: unknown system call 'frobnicate'"
expect "check of a missing file exits 1" 1 "$ctl" policy check "$tmp/missing"
contains "missing file named" "$tmp/err" "cannot read $tmp/missing"
expect "check without files is a usage error" 2 "$ctl" policy check

expect "show a file" 0 "$ctl" policy show "$tmp/good"
printf 'Policy: /bin/ls, Emulation: native\n\tnative-fsread: filename eq "$HOME" then permit\n\tnative-fchdir: permit\n' >"$tmp/want"
if cmp -s "$tmp/out" "$tmp/want"; then ok "show prints canonical text"; else not_ok "show prints canonical text"; sed 's/^/# /' "$tmp/out"; fi
cp "$tmp/out" "$tmp/shown"
expect "show of a canonical text is a fixed point" 0 sh -c "\"$ctl\" policy show \"$tmp/shown\" | cmp - \"$tmp/want\""

mkdir -p "$tmp/user" "$tmp/global"
cp "$tmp/good" "$tmp/global/usr_bin_ls"
sed 's|/bin/ls|/usr/bin/ls|' "$tmp/good" >"$tmp/global/usr_bin_ls"
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
    if grep 'warning:' "$tmp/out" | grep -v 'has no Linux counterpart\|unsafe: \|rule can never match' >"$tmp/other"; then
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
expect "session commands need the daemon" 2 "$ctl" list
contains "daemon named" "$tmp/err" "systraced"

if [ -n "$podir" ] && [ -f "$podir/fr/LC_MESSAGES/systrace.mo" ]; then
    SYSTRACE_LOCALEDIR="$podir" LC_ALL=C.UTF-8 LANGUAGE=fr "$ctl" policy show >"$tmp/out" 2>"$tmp/err"
    contains "messages are translated (fr)" "$tmp/err" "policy show demande un FICHIER ou un PROGRAMME"
else
    not_ok "messages are translated (fr): no compiled catalogue in $podir"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
