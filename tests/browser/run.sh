#!/bin/sh
# Opens the reports in headless Chromium (Debian's chromium) and checks that they load cleanly:
# it trains a short run (p = 23, 400 epochs, --history) with examples/modadd, which writes
# report.html, dumps the DOM that Chromium built from it and checks that every plot's <svg> and
# both tables are there and that Chromium logged no console error, and saves a screenshot
# (tests/browser/report.png). The hover script: a copy of the report that moves the pointer
# over a heatmap cell shows that cell's value. Then the same load checks on analyze --history's
# history.html, examples/groups' and examples/digits' report.html. Prints "N passed, N failed"
# last; without chromium it prints a skip line and "0 passed, 0 failed".
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
if ./examples/modadd --p 23 --epochs 400 --every 20 --history --out "$dir/run" >"$dir/modadd.log" 2>&1 && [ -s "$dir/run/report.html" ]; then
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
# 3. the hover script: the pointer over the first heatmap cell shows its data-v
sed 's@</body></html>@<script>(function(){var c=document.querySelector("rect[data-v]");c.dispatchEvent(new MouseEvent("mousemove",{bubbles:true,clientX:5,clientY:5}));var t=document.getElementById("grok-tip");document.body.setAttribute("data-hover",t.style.display+"|"+t.textContent+"|"+c.getAttribute("data-v"));})();</script></body></html>@' \
    "$dir/run/report.html" > "$dir/run/hover.html"
timeout 120 "$CHROMIUM" $flags --user-data-dir="$dir/profile3" --dump-dom "file://$dir/run/hover.html" >"$dir/hover_dom.html" 2>/dev/null
hover=$(sed -n 's/.*data-hover="\([^"]*\)".*/\1/p' "$dir/hover_dom.html" | head -1)
shown=${hover%%|*}; rest=${hover#*|}; text=${rest%%|*}; want=${rest#*|}
if [ "$shown" = "block" ] && [ -n "$text" ] && [ "$text" = "$want" ]; then ok "hover shows the cell's value ($text)"; else bad "hover: '$hover'"; fi
# 4. the other reports load cleanly
page() { # name, file
    n=$(grep -o '<svg ' "$2" | wc -l)
    timeout 120 "$CHROMIUM" $flags --user-data-dir="$dir/profile_$1" --enable-logging=stderr --v=0 --dump-dom "file://$2" \
        >"$dir/$1_dom.html" 2>"$dir/$1_console.log"
    d=$(grep -o '<svg ' "$dir/$1_dom.html" | wc -l)
    if [ "$n" -ge 3 ] && [ "$d" -eq "$n" ] && ! grep -qiE 'CONSOLE\(|Uncaught|SyntaxError|:ERROR:CONSOLE|net::ERR' "$dir/$1_console.log"; then
        ok "$1: every plot in the DOM ($d <svg>), no console error"
    else bad "$1: $d <svg> of $n in the DOM, or console errors"; fi
}
if ./examples/analyze --history "$dir/run" >"$dir/history.log" 2>&1 && [ -s "$dir/run/analysis/history.html" ]; then
    page history "$dir/run/analysis/history.html"
else bad "analyze --history did not write history.html"; tail -3 "$dir/history.log"; fi
if ./examples/groups --n 7 --epochs 300 --every 100 --out "$dir/groups" >"$dir/groups.log" 2>&1 && [ -s "$dir/groups/report.html" ]; then
    page groups "$dir/groups/report.html"
else bad "examples/groups did not write report.html"; tail -3 "$dir/groups.log"; fi
if ./examples/digits --digits 2 --steps 40 --d-model 32 --out "$dir/digits" >"$dir/digits.log" 2>&1 && [ -s "$dir/digits/report.html" ]; then
    page digits "$dir/digits/report.html"
else bad "examples/digits did not write report.html"; tail -3 "$dir/digits.log"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
