#!/bin/sh
# Runs test binaries, each through an optional wrapper command (e.g. valgrind), shows each one's
# output and ends with one line "N passed, N failed", the sum of theirs. A binary that exits
# nonzero with no failure of its own (a sanitizer or valgrind error), or without its closing
# line, counts as one more failure.
#   sh tests/run_each.sh "WRAPPER" tests/test_a tests/test_b ...     (WRAPPER may be "")
cd "$(dirname "$0")/.." || exit 1
wrap=$1; shift
pass=0
fail=0
log=$(mktemp)
for t in "$@"; do
    echo "== $t${wrap:+ under ${wrap%% *}}"
    $wrap ./$t > "$log" 2>&1
    status=$?
    cat "$log"
    # test_gemm run with GROK_KERNEL set prefixes its line with "[kernel] "
    line=$(grep -E '^(\[[a-z0-9]+\] )?[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    line=${line#\[*\] }
    if [ -z "$line" ]; then
        fail=$((fail + 1)); echo "FAIL $t exited $status without its closing line"
        continue
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
    [ $status -ne 0 ] && [ "$f" -eq 0 ] && { fail=$((fail + 1)); echo "FAIL $t exited $status"; }
done
rm -f "$log"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
