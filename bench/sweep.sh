#!/bin/sh
# bench/sweep.sh [epochs] - sweep throughput: the same small grid of grokking runs trained three
# ways in one invocation, and runs per hour for each:
#   loop     a sequential loop of examples/modadd, one process per run, each on all the cores
#            (modadd's default threads), --no-measures (the sweep computes the measures once, at
#            the end of a run, where modadd would every evaluation)
#   jobs 1   examples/sweep --jobs 1: one run at a time in one process, on all the cores
#   jobs 2   examples/sweep --jobs 2: two worker processes, the cores shared out between them
# The grid: p 31, 43, 59 x model seeds 1..4 (12 runs), seed 000's model (d_model 128, d_mlp 512,
# 4 heads: modadd's only model), EPOCHS (default 1000) full-batch epochs each, evaluated every 100.
# The two sweeps' rows are compared (wall time excepted): they must be identical.
# Writes the table to bench/results/sweep.txt; the last line, for scripts:
#   sweep runs=12 loop_rph=X jobs1_rph=X jobs2_rph=X jobs1_vs_loop=X jobs2_vs_loop=X rows_identical=yes|no
cd "$(dirname "$0")/.." || exit 1
EPOCHS=${1:-1000}
case $EPOCHS in '' | *[!0-9]*) echo "bench/sweep.sh: epochs '$EPOCHS' is not a whole number" >&2; exit 2 ;; esac
for b in examples/modadd examples/sweep; do
    [ -x $b ] || { echo "bench/sweep.sh: $b is not built (make $b)" >&2; exit 1; }
done
T=${TMPDIR:-/tmp}/grok_bench_sweep.$$
rm -rf "$T"
mkdir -p "$T" bench/results
PS="31 43 59"
SEEDS="1 2 3 4"
RUNS=12
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
per_hour() { awk -v s="$1" -v n=$RUNS 'BEGIN { printf "%.0f", 3600 * n / s }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }

{
    echo "bench/sweep: $RUNS runs (p $PS x seed $SEEDS, d_model 128, $EPOCHS epochs, every 100) on $(nproc) cores"
    echo "load average before: $(uptime | sed 's/.*load average: //')"
} | tee "$T/table"

t0=$(now)
for p in $PS; do
    for s in $SEEDS; do
        ./examples/modadd --p "$p" --seed "$s" --epochs "$EPOCHS" --every 100 --no-measures \
            --out "$T/loop/p${p}_s$s" > "$T/loop.log" 2>&1 || { echo "bench/sweep.sh: modadd --p $p --seed $s failed:"; tail -n 3 "$T/loop.log"; exit 1; }
    done
done
t1=$(now)
GRID="--p $(echo $PS | tr ' ' ,) --seed $(echo $SEEDS | tr ' ' ,) --epochs $EPOCHS --every 100 --quiet"
./examples/sweep $GRID --jobs 1 --out "$T/jobs1" > "$T/jobs1.log" 2>&1 || { tail -n 3 "$T/jobs1.log"; exit 1; }
t2=$(now)
./examples/sweep $GRID --jobs 2 --out "$T/jobs2" > "$T/jobs2.log" 2>&1 || { tail -n 3 "$T/jobs2.log"; exit 1; }
t3=$(now)

loop=$(elapsed "$t0" "$t1")
jobs1=$(elapsed "$t1" "$t2")
jobs2=$(elapsed "$t2" "$t3")
rows() { sed '1d; s/,[^,]*$//' "$1" | sort; }
identical=no
rows "$T/jobs2/results.csv" > "$T/jobs2.rows"
rows "$T/jobs1/results.csv" | cmp -s - "$T/jobs2.rows" && [ "$(wc -l < "$T/jobs2.rows")" -eq $RUNS ] && identical=yes
threads() { sed -n 's/.*, \([0-9]* threads*\) each$/\1/p' "$1"; } # from the sweep's first line
{
    printf '%-52s %8s %10s %8s\n' "way" "seconds" "runs/hour" "vs loop"
    printf '%-52s %8s %10s %8s\n' "modadd loop (one process a run, $(nproc) threads)" "$loop" "$(per_hour "$loop")" "1.00"
    printf '%-52s %8s %10s %8s\n' "sweep --jobs 1 ($(threads "$T/jobs1.log"))" "$jobs1" "$(per_hour "$jobs1")" "$(ratio "$loop" "$jobs1")"
    printf '%-52s %8s %10s %8s\n' "sweep --jobs 2 ($(threads "$T/jobs2.log") each)" "$jobs2" "$(per_hour "$jobs2")" "$(ratio "$loop" "$jobs2")"
    echo "load average after: $(uptime | sed 's/.*load average: //')"
    echo "sweep runs=$RUNS loop_rph=$(per_hour "$loop") jobs1_rph=$(per_hour "$jobs1") jobs2_rph=$(per_hour "$jobs2")" \
         "jobs1_vs_loop=$(ratio "$loop" "$jobs1") jobs2_vs_loop=$(ratio "$loop" "$jobs2") rows_identical=$identical"
} | tee -a "$T/table"
cp "$T/table" bench/results/sweep.txt
rm -rf "$T"
[ $identical = yes ]
