#!/bin/sh
# Parity of grok.h with PyTorch and numpy (`make test-parity`): builds tests/parity/parity and
# runs tests/parity/parity.py with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
# Prints a skip line and exits 0 when those are not installed. Last line: "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' >/dev/null 2>&1; then
    echo "skip parity: $PY with numpy and torch not found (apt-get install python3-numpy python3-torch)"
    exit 0
fi
CC=${CC:-cc}
$CC -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -o tests/parity/parity tests/parity/parity.c -lm -lpthread || {
    echo "FAIL build tests/parity/parity"; echo "0 passed, 1 failed"; exit 1; }
exec $PY tests/parity/parity.py tests/parity/parity
