#!/bin/sh
# Opens a report.html in headless Chromium (Debian's chromium) and checks that it loads cleanly:
# it trains a short run (p = 23, 400 epochs) with examples/modadd, which writes report.html,
# dumps the DOM that Chromium built from it and checks that every plot's <svg> and both tables
# are there and that Chromium logged no console error, and saves a screenshot
# (tests/browser/report.png). Prints "N passed, N failed" last; without chromium it prints a
# skip line and "0 passed, 0 failed".
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "skip tests/browser: chromium is not installed (apt-get install chromium)"
    echo "0 passed, 0 failed"
    exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ./examples/modadd --p 23 --epochs 400 --every 20 --out "$dir/run" >"$dir/modadd.log" 2>&1 && [ -s "$dir/run/report.html" ]; then
    ok "examples/modadd wrote report.html"
else
    bad "examples/modadd did not write report.html"; cat "$dir/modadd.log"
    echo "$pass passed, $fail failed"; exit 1
fi
nsvg=$(grep -o '<svg ' "$dir/run/report.html" | wc -l)
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
--disable-component-update --disable-sync --disable-dev-shm-usage --hide-scrollbars"
url="file://$dir/run/report.html" # mktemp -d is absolute
# 1. the DOM as Chromium parsed it, with its console on stderr
timeout 120 "$CHROMIUM" $flags --user-data-dir="$dir/profile1" --enable-logging=stderr --v=0 \
    --dump-dom "$url" >"$dir/dom.html" 2>"$dir/console.log"
dsvg=$(grep -o '<svg ' "$dir/dom.html" | wc -l)
if [ "$nsvg" -ge 6 ] && [ "$dsvg" -eq "$nsvg" ]; then ok "DOM has every plot ($dsvg <svg>)"; else bad "DOM has $dsvg <svg> of $nsvg"; fi
if grep -q 'id="config"' "$dir/dom.html" && grep -q 'id="key-freqs"' "$dir/dom.html"; then ok "config and key-frequency tables"; else bad "tables missing"; fi
if grep -qiE 'CONSOLE\(|Uncaught|SyntaxError|"source": *"console-api"|:ERROR:CONSOLE' "$dir/console.log"; then
    bad "console errors:"; grep -iE 'CONSOLE|Uncaught|SyntaxError' "$dir/console.log" | head -5
else ok "no console errors"; fi
if grep -qiE 'net::ERR|Failed to load resource' "$dir/console.log"; then bad "a resource failed to load"; else ok "no failed loads"; fi
# 2. a screenshot of the page
rm -f tests/browser/report.png
timeout 120 "$CHROMIUM" $flags --user-data-dir="$dir/profile2" --window-size=1400,3000 \
    --screenshot="$(pwd)/tests/browser/report.png" "$url" >"$dir/shot.log" 2>&1
if [ -s tests/browser/report.png ]; then ok "screenshot tests/browser/report.png"; else bad "no screenshot"; tail -5 "$dir/shot.log"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
