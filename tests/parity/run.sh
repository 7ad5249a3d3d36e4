#!/bin/sh
# Parity of grok.h with PyTorch and numpy (`make test-parity`): for every suite NAME (a pair
# tests/parity/NAME.c and NAME.py) builds tests/parity/NAME and runs tests/parity/NAME.py with it,
# with Debian's /usr/bin/python3 (python3-torch, python3-numpy). Prints a skip line and exits 0
# when those are not installed. Last line: "N passed, N failed" over all suites.
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' >/dev/null 2>&1; then
    echo "skip parity: $PY with numpy and torch not found (apt-get install python3-numpy python3-torch)"
    exit 0
fi
CC=${CC:-cc}
passed=0; failed=0
for src in tests/parity/*.c; do
    name=${src%.c}
    echo "== $name"
    if ! $CC -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -o "$name" "$src" -lm -lpthread; then
        echo "FAIL build $name"; failed=$((failed + 1)); continue
    fi
    $PY "$name.py" "$name" > "$name.log" 2>&1
    st=$?
    cat "$name.log"
    last=$(tail -n 1 "$name.log")
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then p=0; f=1; echo "FAIL $name.py ended without its closing line"; fi
    if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $name.py exit status $st"; fi
    rm -f "$name.log"
    passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
