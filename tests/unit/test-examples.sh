#!/bin/sh
# test-examples.sh SYSTRACECTL FILE…: each shipped example policy loads, as an administrator
# would check it before use: `systracectl policy check` exits 0 and reports no error (warnings
# are allowed: the examples' connects to unix sockets are reported as unchecked). TAP output.
ctl=$1
shift
echo "1..$#"
n=0 failed=0
for f in "$@"; do
    n=$((n + 1))
    out=$("$ctl" policy check "$f" 2>&1)
    status=$?
    if [ $status -eq 0 ] && ! printf '%s\n' "$out" | grep -q ": error: "; then
        echo "ok $n - $f"
    else
        failed=$((failed + 1))
        echo "not ok $n - $f (exit $status)"
    fi
    printf '%s\n' "$out" | sed 's/^/# /'
done
[ $failed -eq 0 ]
