#!/bin/sh
# tests/sweep: examples/sweep on a tiny grid (p = 11, 8 points of 2000 epochs) and prints one
# closing line "N passed, N failed".
# 1. Serially (--jobs 1) with 2 threads: 8 rows, the report (phase.svg, epochs.svg, sweep.html
#    with both diagrams and one table row per run); run again in the same place, it runs nothing.
# 2. --jobs 2 (two worker processes, 1 thread each): the same rows as the serial run, wall time
#    excepted, in any order; both jobs got points from the queue.
# 3. examples/sweep_mpi under mpirun -n 2 and -n 3 (1 thread per rank; skipped without mpirun
#    or sweep_mpi): the serial rows; with -n 3 both workers got points; --jobs 2 refused.
# 4. kill -9 in the middle of a sweep with --jobs 1 and with --jobs 2, a torn half row appended,
#    restart: the torn line is cut, the finished points are skipped, and the file ends with every
#    point once, the same rows; the workers of a sweep killed in a long point stop within 5 s.
# 5. Bad input: an unknown option, an axis value out of range, --jobs 0 and 2x, another sweep's
#    results.csv.
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; } # name, shell condition

T=${TMPDIR:-/tmp}/grok_sweep_test.$$
rm -rf "$T"
mkdir -p "$T"
GRID="--p 11 --epochs 2000 --every 20 --lr 3e-3 --d-model 32 --d-mlp 64 --n-heads 2 --wd 0.1,1 --frac 0.3,0.6 --seed 1,2"
rows() { sed '1d; s/,[^,]*$//' "$1" | sort; } # the data rows without the last column (seconds), sorted

if [ ! -x examples/sweep ]; then echo "FAIL examples/sweep is not built (make examples/sweep)"; echo "0 passed, 1 failed"; exit 1; fi

# 1. serial
./examples/sweep $GRID --jobs 1 --threads 2 --quiet --out "$T/serial" > "$T/serial.log" 2>&1
check "serial sweep exits 0" "[ $? -eq 0 ]"
check "serial: header and 8 rows" "[ \$(wc -l < '$T/serial/results.csv') -eq 9 ]"
check "serial: every row ok" "[ \$(grep -c ',ok,[a-z]*,[0-9.]*\$' '$T/serial/results.csv') -eq 8 ]"
check "serial: 8 distinct points" "[ \$(cut -d, -f1-12 '$T/serial/results.csv' | sed 1d | sort -u | wc -l) -eq 8 ]"
check "report: phase.svg and epochs.svg" "grep -q '</svg>' '$T/serial/phase.svg' && grep -q '</svg>' '$T/serial/epochs.svg'"
check "report: sweep.html embeds both diagrams" "[ \$(grep -c '<svg' '$T/serial/sweep.html') -eq 2 ]"
check "report: sweep.html has a table row per run" "[ \$(grep -c '^<tr>' '$T/serial/sweep.html') -eq 9 ]"
./examples/sweep $GRID --jobs 1 --threads 2 --quiet --out "$T/serial" > "$T/again.log" 2>&1
check "rerun: nothing left to run" "grep -q '8 rows already in .*, 0 to run' '$T/again.log' && [ \$(wc -l < '$T/serial/results.csv') -eq 9 ]"
rows "$T/serial/results.csv" > "$T/serial.rows"

# 2. --jobs 2
./examples/sweep $GRID --jobs 2 --threads 1 --out "$T/jobs2" > "$T/jobs2.log" 2>&1
check "--jobs 2 exits 0" "[ $? -eq 0 ]"
check "--jobs 2: says 2 jobs" "grep -q '8 to run in 2 jobs' '$T/jobs2.log'"
rows "$T/jobs2/results.csv" > "$T/jobs2.rows"
check "--jobs 2: the serial rows (wall time excepted)" "[ -s '$T/jobs2.rows' ] && cmp -s '$T/serial.rows' '$T/jobs2.rows'"
check "--jobs 2: both jobs took points" \
    "[ \$(grep -o '^\[[0-9]*/8\] job [0-9]*' '$T/jobs2.log' | sed 's/.*job //' | sort -u | wc -l) -eq 2 ]"
[ -f "$T/jobs2.rows" ] && ! cmp -s "$T/serial.rows" "$T/jobs2.rows" && diff "$T/serial.rows" "$T/jobs2.rows" | head -n 6

# 3. MPI
MPIRUN=$(command -v mpirun)
if [ -z "$MPIRUN" ] || [ ! -x examples/sweep_mpi ]; then
    echo "skip MPI: mpirun or examples/sweep_mpi missing (apt-get install openmpi-bin libopenmpi-dev; make sweep-mpi)"
else
    ROOT=""
    [ "$(id -u)" -eq 0 ] && ROOT="--allow-run-as-root"
    for n in 2 3; do
        mpirun $ROOT --oversubscribe -n $n ./examples/sweep_mpi $GRID --threads 1 --out "$T/mpi$n" > "$T/mpi$n.log" 2>&1
        check "mpirun -n $n exits 0" "[ $? -eq 0 ]"
        rows "$T/mpi$n/results.csv" > "$T/mpi$n.rows"
        check "mpirun -n $n: the serial rows (wall time excepted)" "[ -s '$T/mpi$n.rows' ] && cmp -s '$T/serial.rows' '$T/mpi$n.rows'"
    done
    check "mpirun -n 3: both workers took points" \
        "[ \$(grep -o '^\[[0-9]*/8\] rank [0-9]*' '$T/mpi3.log' | sed 's/.*rank //' | sort -u | wc -l) -eq 2 ]"
    [ -f "$T/mpi2.rows" ] && ! cmp -s "$T/serial.rows" "$T/mpi2.rows" && diff "$T/serial.rows" "$T/mpi2.rows" | head -n 6
    mpirun $ROOT --oversubscribe -n 2 ./examples/sweep_mpi $GRID --jobs 2 --out "$T/mpij" > "$T/mpij.log" 2>&1
    check "mpirun -n 2 with --jobs 2: refused" "[ $? -ne 0 ] && grep -q 'the ranks are the jobs' '$T/mpij.log'"
fi

# 4. kill and resume
for jobs in 1 2; do
    K="$T/kill$jobs"
    ./examples/sweep $GRID --jobs $jobs --threads 1 --quiet --out "$K" > "$K.log" 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 600 ]; do # until the first row is written (at most a minute)
        [ -f "$K/results.csv" ] && [ "$(wc -l < "$K/results.csv")" -ge 2 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    n_before=$(($(wc -l < "$K/results.csv") - 1))
    check "--jobs $jobs: killed with 1..7 of 8 rows written ($n_before)" "[ $n_before -ge 1 ] && [ $n_before -le 7 ]"
    printf 'add,11,0.3,0.003,0.1,1' >> "$K/results.csv" # a row torn by the kill
    ./examples/sweep $GRID --jobs $jobs --threads 1 --quiet --out "$K" > "$K.resume.log" 2>&1
    check "--jobs $jobs: resume exits 0" "[ $? -eq 0 ]"
    check "--jobs $jobs: resume cuts the torn line" "grep -q 'torn' '$K.resume.log'"
    check "--jobs $jobs: resume skips the $n_before finished points" "grep -q '$n_before rows already in .*, $((8 - n_before)) to run' '$K.resume.log'"
    rows "$K/results.csv" > "$K.rows"
    check "--jobs $jobs: after resume, every point once, the serial rows" "cmp -s '$T/serial.rows' '$K.rows'"
done

# A worker whose coordinator was killed stops at its next evaluation rather than training on a
# point whose row has nowhere to go: two points of 10^6 epochs (minutes), killed once started.
if command -v pgrep > /dev/null; then
    ./examples/sweep --p 11 --epochs 1e6 --seed 1,2 --d-model 32 --d-mlp 64 --n-heads 2 --jobs 2 --threads 1 \
        --out "$T/orphans" > "$T/orphans.log" 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 100 ] && [ "$(pgrep -f -- "--out $T/orphans\$" | wc -l)" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    i=0
    while [ $i -lt 50 ] && pgrep -f -- "--out $T/orphans\$" > /dev/null; do sleep 0.1; i=$((i + 1)); done
    check "--jobs 2 killed: its workers stop within 5 s" "! pgrep -f -- '--out $T/orphans\$' > /dev/null"
    for w in $(pgrep -f -- "--out $T/orphans\$"); do kill -9 "$w"; done # when they did not
else
    echo "skip the killed sweep's workers: no pgrep (apt-get install procps)"
fi

# 5. bad input
./examples/sweep --no-such-option 1 > "$T/bad.log" 2>&1
check "unknown option: exit 2 with a message" "[ $? -eq 2 ] && grep -q 'bad option' '$T/bad.log'"
./examples/sweep --frac 1.5 > "$T/bad.log" 2>&1
check "frac 1.5: exit 2 with a message" "[ $? -eq 2 ] && grep -q 'frac_train' '$T/bad.log'"
for j in 0 2x; do
    ./examples/sweep $GRID --jobs $j --out "$T/badjobs" > "$T/bad.log" 2>&1
    check "--jobs $j: exit 2 with a message, nothing run" "[ $? -eq 2 ] && grep -q -- \"--jobs '$j'\" '$T/bad.log' && [ ! -e '$T/badjobs' ]"
done
mkdir -p "$T/other" && echo "a,b,c" > "$T/other/results.csv"
./examples/sweep $GRID --out "$T/other" > "$T/bad.log" 2>&1
check "another sweep's results.csv: refused, left as it was" "[ $? -ne 0 ] && grep -q 'another header' '$T/bad.log' && [ \"\$(cat '$T/other/results.csv')\" = 'a,b,c' ]"
printf 'a,b,c' > "$T/other/results.csv" # no newline: not mistaken for a torn line and cut
./examples/sweep $GRID --out "$T/other" > "$T/bad.log" 2>&1
check "a foreign one-line file without newline: refused, not cut" "[ $? -ne 0 ] && [ \"\$(cat '$T/other/results.csv')\" = 'a,b,c' ]"

[ $fail -eq 0 ] && rm -rf "$T" || echo "outputs kept in $T"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
