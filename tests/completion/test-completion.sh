#!/bin/bash
# test-completion.sh: drives the bash completion of systrace and systracectl as bash does on Tab
# (COMP_WORDS, COMP_CWORD, then the registered function) and checks the candidates. Session
# targets come from a real systraced: run under scripts/with-daemon, with one session handed to
# it by st-supervise. TAP output.
#
#   test-completion.sh COMPLETION_DIR SYSTRACECTL ST_SUPERVISE
set -uo pipefail
comp_dir=$1 ctl=$2 supervise=$3
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    printf '# %s\n' "$@"
}

if [ ! -r /usr/share/bash-completion/bash_completion ]; then
    echo "1..1"
    if [ "${SYSTRACE_TESTS_MUST_WORK:-}" = 1 ]; then
        echo "not ok 1 - bash-completion is not installed"
        exit 1
    fi
    echo "ok 1 # SKIP bash-completion is not installed"
    exit 0
fi
. /usr/share/bash-completion/bash_completion
. "$comp_dir/systrace"
. "$comp_dir/systracectl"

tmp=$(mktemp -d)
sup_pid= child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; [ -n "$sup_pid" ] && kill "$sup_pid" 2>/dev/null
      rm -rf "$tmp"' EXIT
export HOME=$tmp/home
mkdir -p "$HOME/.systrace" "$tmp/dir/sub"
touch "$HOME/.systrace/usr_bin_cat" "$HOME/.systrace/usr_sbin_inetd" "$tmp/dir/file"

# candidates WORD…: what Tab offers for the command line WORD… (the last word is the one being
# completed, "" for a new one), one a line, sorted.
candidates() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    local spec func
    spec=$(complete -p "${COMP_WORDS[0]##*/}" 2>/dev/null) || return 1
    func=${spec#*-F }
    func=${func%% *}
    "$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect NAME WANTED GOT: WANTED (words) are all among GOT (lines).
expect_has() {
    local name=$1 want=$2 got=$3 w missing=()
    for w in $want; do grep -qxF -- "$w" <<<"$got" || missing+=("$w"); done
    if [ ${#missing[@]} -eq 0 ]; then ok "$name"; else not_ok "$name" "missing: ${missing[*]}" "got: $(echo $got)"; fi
}
expect_line() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want: $2" "got: $3"; fi
}
expect_exactly() {
    local name=$1 want got=$3
    want=$(printf '%s\n' $2 | sort)
    if [ "$want" = "$got" ]; then ok "$name"; else not_ok "$name" "want: $(echo $want)" "got: $(echo $got)"; fi
}

# Both programs are completed through a function bash-completion would load from COMPLETION_DIR.
echo "1..21"
expect_line "complete -p systrace" "complete -F _systrace systrace" "$(complete -p systrace)"
expect_line "complete -p systracectl" "complete -F _systracectl systracectl" \
    "$(complete -p systracectl)"

expect_has "systrace flags" "-A --learn -a --enforce -w --complain -k --keep-fd -U -u -V --help -C --cradle -g --gui -p" \
    "$(candidates systrace -)"
expect_exactly "systrace long flags by prefix" "--policy-dir --policy-file" \
    "$(candidates systrace --pol)"
expect_has "systrace -f offers ~/.systrace's policies" \
    "$HOME/.systrace/usr_bin_cat $HOME/.systrace/usr_sbin_inetd" "$(candidates systrace -f "")"
expect_exactly "systrace -d offers directories only" "$tmp/dir/sub" \
    "$(candidates systrace -d "$tmp/dir/")"
expect_has "systrace -c offers users" "root nobody" "$(candidates systrace -c "")"
expect_has "the command after the flags" "true" "$(candidates systrace -A -d "$tmp" tru)"
expect_has "systrace -p offers running processes" "$$" "$(candidates systrace -p "$$")"
# Past the command, its own completion takes over (ls's options, from ls --help).
expect_has "the command's own completion" "--all --almost-all" \
    "$(candidates systrace -a ls --al)"

expect_exactly "systracectl commands" "policy list attach detach kill mode monitor status reload" \
    "$(candidates "$ctl" "")"
expect_has "systracectl options" "-j --json -f --policy-file -U" "$(candidates "$ctl" -)"
expect_exactly "systracectl policy subcommands" "check show path" \
    "$(candidates "$ctl" policy "")"
expect_exactly "policy check offers ~/.systrace's files" \
    "$HOME/.systrace/usr_bin_cat $HOME/.systrace/usr_sbin_inetd" \
    "$(candidates "$ctl" policy check "")"
expect_exactly "mode's modes" "learn enforce ask" "$(candidates "$ctl" mode %1 "")"
expect_exactly "monitor's option" "--answer" "$(candidates "$ctl" monitor "")"
expect_exactly "attach's options" "--yes --gui --mode --program --policy-dir" \
    "$(candidates "$ctl" attach -)"
expect_exactly "attach's modes" "ask enforce learn" "$(candidates "$ctl" attach --mode "")"
expect_has "attach offers a running process" "$$" "$(candidates "$ctl" attach "$$")"

# A session of the real daemon: attach offers its %ID and the pid of its program.
coproc SUP { exec "$supervise" -- /bin/sleep 60; }
sup_pid=$SUP_PID
read -r -t 20 word path <&"${SUP[0]}"
id=${path##*/}
child=$(pgrep -P "$sup_pid" -x sleep)
if [ "$word" = session ] && [ -n "$child" ]; then
    got=$(candidates "$ctl" attach "")
    expect_has "attach offers the session's %ID and pid" "%$id $child" "$got"
    expect_exactly "kill completes a typed %" "%$id" "$(candidates "$ctl" kill %)"
else
    not_ok "a session for the daemon" "st-supervise said: $word $path"
    not_ok "kill completes a typed %"
fi
exit $((failed > 0))
