#!/bin/sh
# tests/test_cli.sh: the examples from the command line, as a user runs them; one line per check
# and a closing line "N passed, N failed".
# 1. Strict flags (examples/options.h): a value that does not parse whole, is out of range, is
#    not a whole number, is given twice or is empty is refused with exit status 2 and a message
#    naming the flag and what it accepts, in every example; 1.5e1 is 15. --help lists every flag
#    with its default.
# 2. Run directories (examples/run_dir.h): a run into a directory that holds one is refused
#    unless --force; --resume refuses flags that differ from the run's, naming the flag; a run
#    killed with SIGKILL at random moments and resumed until done ends with the bytes of an
#    uninterrupted one (latest.grok, model.safetensors, metrics.csv but its seconds column, the
#    summary but its seconds, the milestones included). digits records run.args, keeps its
#    checkpoints with --history (removed by --force, refused without it) and writes its report
#    again from the run with --report-only, byte for byte. modadd --general-path is recorded,
#    rounds the same run another way, and is checked on --resume.
# 3. Outputs only from a good state: after a failed training (a NaN, a file that cannot be
#    written) the final files are not written, the program says which it kept, and "outputs:"
#    names only files that exist.
# 4. digits refuses absurd --steps (once a heap overflow); sweep refuses a --grid that is a
#    directory and a grid of 2^64 points, reports a results.csv row that does not parse and runs
#    its point again, and stops at a row it cannot write (a full disk, by ulimit -f).
# 5. analyze knows the task: it reads it and the split from run.args (a power_sum checkpoint's
#    training loss is the run's, not (a+b)'s), refuses flags that contradict the run and other
#    programs' runs; --history keeps ckpt_EPOCH.grok, --force removes them, analyze --history
#    writes its CSV files and history.html and refuses bad --phases and a run without history.
# 6. A model from elsewhere: modadd and power_sum --init (safetensors or a checkpoint) and --split
#    (training indices as np.save writes them), recorded in run.args, resumed to the
#    uninterrupted bytes, bad files and shapes refused; analyze on a lone model.safetensors says
#    "split unknown" on every line that needs the split, takes --split, takes the split of a
#    run's run.args and refuses --split beside it. groups --init (one net's safetensors, with --model
#    mlp or bilinear) and --split (labels from the group's table), digits --init (a checkpoint or
#    safetensors of its config), recorded in run.args; missing files, other shapes and classes,
#    --init with both models and indices out of range refused, writing nothing.
# 7. patch on a modadd run (checkpoint and safetensors give the same CSV; the direct logit
#    attribution sums to the clean logit difference), --corrupt b,
#    --act-sites none, a digits run (a carry, positions named); bad flags, a flag for the other
#    task, missing and foreign files refused, writing nothing.
# 8. groups' irreps and tasks: --group alternating, --op (conjugate, xyx; refused with --irreps and
#    --split), --irreps (the character table, the metrics, the report's section, the last line
#    key_irreps=). groups --early-stop stops a grokked net, records the stop, and the irreps'
#    learning order reads the history it reached; a bad value is refused.
# 7. The levers: modadd's Grokfast, StableMax, orthogonal-gradient, fixed-norm, monitor and
#    early-stop flags refused when out of range or without the flag they qualify, writing
#    nothing; a run with every lever on, stopped and resumed, ends with the uninterrupted bytes;
#    --resume refuses a lever that differs; --early-stop stops a grokked run and a resume of it
#    trains no further; sweep's lever axes are checked and early stopping shows in its rows.
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; } # name, shell condition

T=${TMPDIR:-/tmp}/grok_cli_test.$$
rm -rf "$T"
mkdir -p "$T"
for p in modadd power_sum analyze digits groups sweep patch; do
    if [ ! -x examples/$p ]; then echo "FAIL examples/$p is not built (make examples/$p)"; echo "0 passed, 1 failed"; exit 1; fi
done

# Runs a command (at most 30 s: a flag read wrongly may start a long run), stdout to $T/out,
# stderr to $T/err, exit status to $st.
run() { timeout 30 "$@" > "$T/out" 2> "$T/err"; st=$?; }
# name, the message (grep -E) on stderr, command: refused with exit status 2 and that message.
refused() {
    name=$1; pattern=$2; shift 2
    run "$@"
    if [ $st -eq 2 ] && grep -qE -- "$pattern" "$T/err"; then ok "$name"; else bad "$name: exit $st, $(head -c 300 "$T/err")"; fi
}
# the rows of a metrics.csv without column 7 (seconds); a summary without its seconds
rows() { cut -d, -f1-6,8- "$1"; }
summary() { grep -v '"seconds"' "$1"; }

# ---- 1. strict flags
M="./examples/modadd --p 7 --every 5 --out $T/flags"
refused "modadd --epochs 1e9x: exit 2 naming --epochs and its range" "epochs '1e9x'.*1\.\.1000000000" $M --epochs 1e9x
refused "modadd --frac 0.3x: refused, not read as 0.3" "frac '0.3x'.*\(0, 1\)" ./examples/modadd --frac 0.3x --out "$T/flags"
refused "modadd --p 4294967303: refused, not read as p = 7" "p '4294967303'.*2\.\.46340" ./examples/modadd --p 4294967303 --out "$T/flags"
refused "modadd --seed -1: refused, not wrapped" "seed '-1'.*0\.\.18446744073709551615" $M --seed -1
refused "modadd --seed 18446744073709551616: out of range" "out of range" $M --seed 18446744073709551616
refused "modadd --threads 0: refused, not all cores" "threads '0'.*1\.\.64" $M --threads 0
refused "modadd --epochs 1.55e1: not a whole number" "not a whole number" ./examples/modadd --epochs 1.55e1 --out "$T/flags"
refused "modadd --lr nan: refused" "lr 'nan'" $M --lr nan
refused "modadd --p given twice: refused" "given twice" $M --p 11
refused "modadd --out with no value: refused" "out needs a value" ./examples/modadd --out
refused "modadd stray argument: refused" "bad option extra" $M extra
refused "modadd --resume --force: refused" "give one" $M --resume --force
run ./examples/modadd --p 7 --epochs 1.5e1 --every 5 --threads 1 --out "$T/e15"
check "modadd --epochs 1.5e1 trains exactly 15 epochs" "[ $st -eq 0 ] && grep -q '^final epoch=15 ' '$T/out'"
refused "power_sum --m 4.5: not a whole number" "m '4.5'.*not a whole number" ./examples/power_sum --m 4.5 --out "$T/flags"
refused "power_sum --epochs 1e9x: refused" "epochs '1e9x'" ./examples/power_sum --epochs 1e9x --out "$T/flags"
refused "analyze --threads 10000: refused, not ignored" "threads '10000'.*1\.\.64" ./examples/analyze --ckpt "$T/none.grok" --threads 10000
refused "analyze --p 7x: refused" "p '7x'" ./examples/analyze --ckpt "$T/none.grok" --p 7x
refused "analyze without --ckpt: refused" "give one of --ckpt FILE and --history RUN_DIR" ./examples/analyze
refused "digits --batch 4x: refused" "batch '4x'" ./examples/digits --batch 4x --out "$T/flags"
refused "digits --seed -1: refused" "seed '-1'" ./examples/digits --seed -1 --out "$T/flags"
refused "groups --n 23x: refused" "n '23x'" ./examples/groups --n 23x --out "$T/flags"
refused "groups --model mpl: refused, naming the choices" "one of mlp, bilinear, both" ./examples/groups --model mpl --out "$T/flags"
refused "groups --beta1 1: refused, beta1 < 1" "beta1 '1'.*\\[0, 1\\)" ./examples/groups --beta1 1 --out "$T/flags"
refused "groups --beta2 -0.1: refused" "beta2 '-0.1'" ./examples/groups --beta2 -0.1 --out "$T/flags"
refused "groups --beta2 0.999x: refused" "beta2 '0.999x'" ./examples/groups --beta2 0.999x --out "$T/flags"
refused "groups --eps 0: refused, eps > 0" "eps '0'.*\\(0, 1\\]" ./examples/groups --eps 0 --out "$T/flags"
refused "groups --wd -1: refused" "wd '-1'" ./examples/groups --wd -1 --out "$T/flags"
refused "groups --lr 0: refused" "lr '0'" ./examples/groups --lr 0 --out "$T/flags"
refused "groups --analysis all: refused, naming the choices" "one of group, subgroup, both" ./examples/groups --analysis all --out "$T/flags"
refused "groups --history 1: a flag takes no value" "bad option 1" ./examples/groups --history 1 --out "$T/flags"
refused "groups --history twice: refused" "history" ./examples/groups --history --history --out "$T/flags"
refused "groups --group alt: refused, naming the choices" "one of dihedral, cyclic, symmetric, alternating" ./examples/groups --group alt --out "$T/flags"
refused "groups --op conj: refused, naming the choices" "one of compose, conjugate, xyx" ./examples/groups --op conj --out "$T/flags"
refused "groups --irreps 1: a flag takes no value" "bad option 1" ./examples/groups --irreps 1 --out "$T/flags"
refused "groups --irreps --op conjugate: refused, the metrics read x y" "--op conjugate does not go with it" ./examples/groups --irreps --op conjugate --out "$T/flags"
refused "groups --op xyx --split: refused, the split's labels are x y" "--op xyx does not go with it" ./examples/groups --op xyx --split "$T/none.npy" --out "$T/flags"
refused "groups --group alternating --n 7: refused" "A_7" ./examples/groups --group alternating --n 7 --out "$T/flags"
refused "groups --early-stop 0: refused, ACC in (0, 1]" "early-stop '0'.*\\(0, 1\\]" ./examples/groups --early-stop 0 --out "$T/flags"
refused "groups --early-stop 0.99x: refused" "early-stop '0.99x'" ./examples/groups --early-stop 0.99x --out "$T/flags"
check "groups: refused flags wrote nothing" "[ ! -e '$T/flags/run.args' ]"
refused "sweep --threads 1x: refused, not read as 1" "threads '1x'" ./examples/sweep --threads 1x --out "$T/flags"
refused "sweep --p 11,12x: refused" "p value '12x'" ./examples/sweep --p 11,12x --out "$T/flags"
refused "sweep with SLURM_CPUS_PER_TASK=4x: refused, not read as 4" "SLURM_CPUS_PER_TASK .4x.: not a number" env -u GROK_THREADS SLURM_CPUS_PER_TASK=4x ./examples/sweep --p 11 --out "$T/flags"
# --help: exit 0, and every flag's block (its line and the next) shows its default
for p in modadd power_sum analyze digits groups sweep patch; do
    run ./examples/$p --help
    missing=$(awk '/^  --/ { if (name != "" && name != "--help" && !seen) print name; name = $1; seen = /default/; next }
                   { if (/default/) seen = 1 }
                   END { if (name != "--help" && !seen) print name }' "$T/out")
    check "$p --help: exit 0, every flag with its default" "[ $st -eq 0 ] && [ -z '$missing' ] && [ \$(grep -c '^  --' '$T/out') -ge 6 ]"
done
run ./examples/modadd --help
check "modadd --help names --resume and --force" "grep -q '^  --resume' '$T/out' && grep -q '^  --force' '$T/out'"

# ---- 2. run directories: no overwrite, resume
BASE="--p 23 --frac 0.8 --lr 1e-2 --wd 0.3 --every 10 --threads 1" # 50% test accuracy at epoch 20, 99% at 180
t0=$(date +%s.%N)
run ./examples/modadd $BASE --epochs 300 --out "$T/whole"
# its wall time, which the kills below are drawn within (1.2 s where date has no %N)
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { w = b - a; printf "%.3f", (w > 0.05 && w < 100) ? w : 1.2 }')
check "modadd: the uninterrupted run (300 epochs) exits 0" "[ $st -eq 0 ]"
check "modadd: its milestones are in the summary (50% at 20, 99% at 180)" \
    "grep -q '\"first_epoch_test_acc_50\": 20,' '$T/whole/summary.json' && grep -q '\"first_epoch_test_acc_99\": 180,' '$T/whole/summary.json'"
sums=$(cksum "$T/whole/metrics.csv" "$T/whole/latest.grok")
refused "modadd into a directory that holds a run: refused" "already holds a run.*--resume.*--force" \
    ./examples/modadd $BASE --epochs 300 --out "$T/whole"
check "the refused run left the directory as it was" "[ \"\$(cksum '$T/whole/metrics.csv' '$T/whole/latest.grok')\" = '$sums' ]"
run ./examples/modadd $BASE --epochs 190 --out "$T/split"
run ./examples/modadd $BASE --epochs 300 --out "$T/split" --resume
check "modadd stopped at 190 and resumed to 300: exit 0" "[ $st -eq 0 ] && grep -q '^resuming .* at epoch 190' '$T/out'"
check "... the same latest.grok, model.safetensors, metrics.csv and summary (milestones rebuilt)" \
    "cmp -s '$T/whole/latest.grok' '$T/split/latest.grok' && cmp -s '$T/whole/model.safetensors' '$T/split/model.safetensors' &&
     [ \"\$(rows '$T/whole/metrics.csv')\" = \"\$(rows '$T/split/metrics.csv')\" ] &&
     [ \"\$(summary '$T/whole/summary.json')\" = \"\$(summary '$T/split/summary.json')\" ]"
refused "--resume with another --frac: refused, naming --frac" "--frac 0.7 differs from the run .* --frac 0.8" \
    ./examples/modadd --p 23 --frac 0.7 --lr 1e-2 --wd 0.3 --every 10 --epochs 400 --out "$T/split" --resume
refused "--resume with another --data-seed (not in the checkpoint): refused, naming it" "--data-seed 1 differs" \
    ./examples/modadd $BASE --epochs 400 --data-seed 1 --out "$T/split" --resume
refused "--resume with another --seed: refused, naming --seed" "--seed 1 differs" \
    ./examples/modadd $BASE --epochs 400 --seed 1 --out "$T/split" --resume
refused "--resume with --no-measures added: refused, naming it" "--no-measures on differs" \
    ./examples/modadd $BASE --epochs 400 --no-measures --out "$T/split" --resume
refused "--resume to an epoch before the checkpoint's: refused" "at epoch 300, past --epochs 200" \
    ./examples/modadd $BASE --epochs 200 --out "$T/split" --resume
refused "--resume where there is no run: refused" "no run to resume" ./examples/modadd $BASE --epochs 300 --out "$T/empty" --resume
run ./examples/modadd $BASE --epochs 30 --general-path --out "$T/general"
check "modadd --general-path: recorded in run.args; the same run rounded another way (other bits, training losses at epoch 10 within 1e-3)" \
    "[ $st -eq 0 ] && grep -qx -- '--general-path on' '$T/general/run.args' &&
     ! cmp -s '$T/general/metrics.csv' '$T/split/metrics.csv' &&
     awk -F, 'NR == FNR { if (FNR == 2) a = \$2; next } FNR == 2 { d = a - \$2; if (d < 0) d = -d; exit !(d < 1e-3 * a) }' \
         '$T/whole/metrics.csv' '$T/general/metrics.csv'"
refused "--resume without --general-path: refused, naming it" "--general-path off differs" \
    ./examples/modadd $BASE --epochs 40 --out "$T/general" --resume
refused "power_sum --resume of a modadd run: refused" "not a run of power_sum" \
    ./examples/power_sum --p 23 --frac 0.8 --lr 1e-2 --wd 0.3 --every 10 --epochs 400 --out "$T/split" --resume
run ./examples/modadd --p 7 --epochs 10 --every 5 --threads 1 --out "$T/split" --force
check "modadd --force starts over (run.args and metrics.csv of the new run)" \
    "[ $st -eq 0 ] && grep -q '^--p 7\$' '$T/split/run.args' && [ \$(tail -n 1 '$T/split/metrics.csv' | cut -d, -f1) -eq 10 ]"

# killed with SIGKILL at random moments (10% to 50% of the whole run's wall time after each
# start), then resumed (or, before any checkpoint, started over) until done
seed=$(awk 'BEGIN { srand(); printf "%d", 1000000 * rand() }')
i=0; kills=0; from=""; times=""
while [ $i -lt 12 ]; do
    i=$((i + 1))
    t=$(awk -v s="$seed" -v i=$i -v w="$wall" 'BEGIN { srand(s + i); printf "%.2f", w * (0.1 + 0.4 * rand()) }')
    [ $i -eq 12 ] && t=120
    mode=""
    [ -d "$T/killed" ] && mode=--force
    [ -f "$T/killed/latest.grok" ] && mode=--resume
    timeout -s KILL $t ./examples/modadd $BASE --epochs 300 --out "$T/killed" $mode > "$T/seg.log" 2>&1
    st=$?
    e=$(sed -n 's/^resuming .* at epoch \([0-9]*\)$/\1/p' "$T/seg.log")
    [ -n "$e" ] && from="$from $e"
    [ $st -eq 137 ] && { kills=$((kills + 1)); times="$times $t"; continue; }
    break
done
check "modadd killed $kills times (at$times s; kill seed $seed), resumed from epochs$from, then done" \
    "[ $st -eq 0 ] && [ $kills -ge 2 ] && [ -n '$from' ] && grep -q '^final epoch=300 ' '$T/seg.log'"
check "... latest.grok equals the uninterrupted run's, byte for byte" "cmp -s '$T/whole/latest.grok' '$T/killed/latest.grok'"
check "... model.safetensors equals it" "cmp -s '$T/whole/model.safetensors' '$T/killed/model.safetensors'"
check "... metrics.csv equals it but the seconds column (no row twice)" \
    "[ \"\$(rows '$T/whole/metrics.csv')\" = \"\$(rows '$T/killed/metrics.csv')\" ]"
check "... the summary equals it but its seconds (the milestones too)" \
    "[ \"\$(summary '$T/whole/summary.json')\" = \"\$(summary '$T/killed/summary.json')\" ]"

P="./examples/power_sum --p 7 --every 5 --threads 1"
run $P --epochs 20 --out "$T/ps_whole"
run $P --epochs 10 --out "$T/ps_split"
run $P --epochs 20 --out "$T/ps_split" --resume
check "power_sum stopped at 10 and resumed to 20: latest.grok equals the uninterrupted run's" \
    "[ $st -eq 0 ] && cmp -s '$T/ps_whole/latest.grok' '$T/ps_split/latest.grok'"
refused "power_sum into a directory that holds a run: refused" "already holds a run" $P --epochs 20 --out "$T/ps_whole"
D="./examples/digits --digits 2 --batch 8 --d-model 8 --threads 1"
run $D --steps 20 --out "$T/digits"
check "digits: a short run exits 0 and writes its four files" \
    "[ $st -eq 0 ] && [ -f '$T/digits/tokens.svg' ] && [ -f '$T/digits/attention.csv' ] && ! ls '$T/digits' | grep -q tmp"
refused "digits into a directory that holds a run: refused" "already holds a run.*--force" $D --steps 20 --out "$T/digits"
run $D --steps 20 --out "$T/digits" --force
check "digits --force: exit 0" "[ $st -eq 0 ]"
check "digits: run.args records the run's flags; latest.grok and report.html written" \
    "grep -qx 'program digits' '$T/digits/run.args' && grep -qx -- '--digits 2' '$T/digits/run.args' &&
     grep -qx -- '--d-model 8' '$T/digits/run.args' && [ -f '$T/digits/latest.grok' ] && [ -f '$T/digits/report.html' ]"
refused "digits --ckpt-every 0: refused" "ckpt-every '0'.*1\.\.1000000000" $D --ckpt-every 0 --out "$T/dg"
refused "digits --ckpt-every 5x: refused" "ckpt-every '5x'" $D --ckpt-every 5x --out "$T/dg"
refused "digits --history 3: refused, the flag takes no value" "bad option 3" $D --history 3 --out "$T/dg"
run $D --steps 20 --every 5 --ckpt-every 8 --history --out "$T/dg_hist"
check "digits --history: ckpt_0, _8, _16 and _20 (the end) kept, weights only (smaller than latest.grok)" \
    "[ $st -eq 0 ] && [ \$(ls '$T/dg_hist' | grep -c '^ckpt_[0-9]*\.grok\$') -eq 4 ] && [ -f '$T/dg_hist/ckpt_0.grok' ] &&
     [ -f '$T/dg_hist/ckpt_8.grok' ] && [ -f '$T/dg_hist/ckpt_16.grok' ] && [ -f '$T/dg_hist/ckpt_20.grok' ] &&
     [ \$(wc -c < '$T/dg_hist/ckpt_20.grok') -lt \$(wc -c < '$T/dg_hist/latest.grok') ]"
mkdir -p "$T/dg_ckpts"
cp "$T/dg_hist/ckpt_8.grok" "$T/dg_ckpts/"
refused "digits into a directory that holds only a run's checkpoints: refused" "already holds a run.*ckpt_8.grok.*--force" $D --steps 20 --out "$T/dg_ckpts"
cp "$T/dg_hist/report.html" "$T/dg_report.html"
rm "$T/dg_hist/report.html"
run ./examples/digits --report-only --out "$T/dg_hist"
check "digits --report-only: report.html again from the run in OUT, the bytes the run wrote" \
    "[ $st -eq 0 ] && cmp -s '$T/dg_report.html' '$T/dg_hist/report.html'"
refused "digits --report-only --steps 5: refused" "give only --out and --threads, not --steps" \
    ./examples/digits --report-only --steps 5 --out "$T/dg_hist"
refused "digits --report-only without a run: refused" "no run to report" ./examples/digits --report-only --out "$T/none"
refused "digits --report-only on a modadd run: refused" "not a run of digits" ./examples/digits --report-only --out "$T/e15"
run $D --steps 20 --out "$T/dg_hist" --force
check "digits --force: the old run's checkpoints removed" "[ $st -eq 0 ] && ! ls '$T/dg_hist' | grep -q '^ckpt_'"
G="./examples/groups --n 5 --epochs 20 --threads 1 --model mlp"
run $G --out "$T/groups"
check "groups: a short run exits 0" "[ $st -eq 0 ] && [ -f '$T/groups/mlp/latest.safetensors' ]"
refused "groups into a directory that holds a run: refused" "already holds a run" $G --out "$T/groups"
check "groups: report.html written" "[ -f '$T/groups/report.html' ] && grep -q 'Whole group' '$T/groups/report.html' && grep -q 'Cyclic subgroup' '$T/groups/report.html'"
run $G --every 10 --history --analysis subgroup --out "$T/groups_h"
check "groups --history: net_EPOCH.safetensors every --every epochs; --analysis subgroup prints only that" \
    "[ $st -eq 0 ] && [ -f '$T/groups_h/mlp/net_000010.safetensors' ] && [ -f '$T/groups_h/mlp/net_000020.safetensors' ] &&
     grep -q 'subgroup analysis' '$T/out' && ! grep -q 'whole-group analysis' '$T/out'"
run $G --every 10 --analysis group --out "$T/groups_h" --force
check "groups --force removes the history; --analysis group prints only the whole-group analysis" \
    "[ $st -eq 0 ] && [ ! -e '$T/groups_h/mlp/net_000010.safetensors' ] && grep -q 'whole-group analysis' '$T/out' &&
     ! grep -q 'subgroup analysis' '$T/out'"
run $G --beta1 0.5 --beta2 0.9 --eps 1e-6 --wd 0.5 --lr 1e-2 --out "$T/groups_opt"
check "groups: the optimiser flags are printed" "[ $st -eq 0 ] && grep -q 'lr 0.01 wd 0.5 betas (0.5, 0.9) eps 1e-06' '$T/out'"
for f in "--beta1 0.5" "--beta2 0.9" "--eps 1e-3"; do
    run $G $f --out "$T/groups_opt" --force
    check "groups $f reaches AdamW: metrics.csv differs from the defaults'" \
        "[ $st -eq 0 ] && [ \"\$(rows '$T/groups/mlp/metrics.csv')\" != \"\$(rows '$T/groups_opt/mlp/metrics.csv')\" ]"
done
run ./examples/groups --group alternating --n 4 --model both --epochs 20 --every 10 --history --irreps --threads 1 --out "$T/groups_irr"
check "groups --irreps: the character table, the metrics, the report's section, the last line key_irreps= (';' between models)" \
    "[ $st -eq 0 ] && grep -q '^character table of A_4 (3 irreps, 4 classes' '$T/out' && grep -q '^  3_1 ' '$T/out' &&
     grep -q 'key irreps (trace similarity > 0.05)' '$T/out' && grep -q 'learnt, in order' '$T/out' &&
     tail -n 1 '$T/out' | grep -qE '^key_irreps=[^;]*;[^;]*$' && grep -q 'Irreducible representations' '$T/groups_irr/report.html' &&
     grep -q 'Characters of the real irreps of A_4' '$T/groups_irr/report.html' &&
     grep -qx -- '--irreps on' '$T/groups_irr/run.args'"
run ./examples/groups --group cyclic --n 23 --model mlp --frac 0.8 --lr 1e-2 --epochs 3000 --every 100 --early-stop 0.99 \
    --history --irreps --threads 1 --out "$T/groups_es"
check "groups --early-stop: a grokked net stops (stop column 1 on its last row), and the learning order reads its history" \
    "[ $st -eq 0 ] && grep -q 'stopped early at epoch [0-9]*: grokked' '$T/out' &&
     tail -n 1 '$T/groups_es/mlp/metrics.csv' | grep -q ',1\$' && [ \$(wc -l < '$T/groups_es/mlp/metrics.csv') -lt 30 ] &&
     grep -q 'learnt, in order' '$T/out' && tail -n 1 '$T/out' | grep -q '^key_irreps=2_'"
run ./examples/groups --group symmetric --n 3 --op conjugate --model mlp --epochs 20 --threads 1 --out "$T/groups_conj"
check "groups --op conjugate: trains on x y x^-1, recorded in run.args" \
    "[ $st -eq 0 ] && grep -q 'S_3 (order 6), labels x y x^-1' '$T/out' && grep -qx -- '--op conjugate' '$T/groups_conj/run.args'"

# ---- 3. outputs only from a good state
# under ulimit -f 0, so that a modadd that takes '' again cannot leave files in /; its output
# goes through a pipe, which the limit does not cover
(trap '' XFSZ; ulimit -f 0; timeout 30 ./examples/modadd --p 7 --epochs 20 --out "" 2>&1; echo "exit status $?") | cat > "$T/err"
check "modadd --out '': refused with exit 2 (once wrote /summary.json)" \
    "grep -q '^exit status 2\$' '$T/err' && grep -q \"out '': empty\" '$T/err' && ! grep -q '^outputs:' '$T/err'"
run ./examples/modadd --p 7 --lr 100 --epochs 20 --every 1 --threads 1 --out "$T/nan" # the loss turns NaN at epoch 3
check "modadd whose training fails (NaN): exit 1, no summary, safetensors or report" \
    "[ $st -eq 1 ] && [ ! -e '$T/nan/summary.json' ] && [ ! -e '$T/nan/model.safetensors' ] && [ ! -e '$T/nan/report.html' ]"
check "... says which files it kept: latest.grok of epoch 2, metrics.csv" \
    "grep -q 'latest.grok holds epoch 2, the last good checkpoint' '$T/err' && grep -q 'kept .*metrics.csv' '$T/err' && ! grep -q '^outputs:' '$T/out'"
run ./examples/power_sum --p 7 --lr 100 --epochs 20 --every 1 --threads 1 --out "$T/ps_nan"
check "power_sum whose training fails (NaN): exit 1, no summary or safetensors, kept files named" \
    "[ $st -eq 1 ] && [ ! -e '$T/ps_nan/summary.json' ] && [ ! -e '$T/ps_nan/model.safetensors' ] && grep -q 'kept' '$T/err'"
run ./examples/groups --n 5 --epochs 50 --lr 100 --threads 1 --model mlp --out "$T/groups_nan"
check "groups whose training fails (NaN): exit 1, no latest.safetensors, kept files named" \
    "[ $st -eq 1 ] && [ ! -e '$T/groups_nan/mlp/latest.safetensors' ] && [ ! -e '$T/groups_nan/report.html' ] &&
     grep -q 'kept .*metrics.csv' '$T/err'"
if [ -w /dev/full ]; then # summary.json's temporary file on a full device: the summary cannot be written
    mkdir -p "$T/full" && ln -s /dev/full "$T/full/summary.json.tmp"
    run ./examples/modadd --p 7 --epochs 10 --every 5 --threads 1 --out "$T/full"
    check "modadd whose summary.json cannot be written: exit 1, outputs: names only the files written" \
        "[ $st -eq 1 ] && [ ! -e '$T/full/summary.json' ] && grep '^outputs:' '$T/out' | grep -q model.safetensors &&
         ! grep '^outputs:' '$T/out' | grep -q summary.json"
else
    echo "skip /dev/full: not writable here"
fi
# files of 14.5 KiB at most: latest.grok (13.9 KiB) fits, losses.csv (about 30 KiB) does not
(trap '' XFSZ; ulimit -f 29; exec $D --steps 200 --every 1 --out "$T/digits_full") > "$T/out" 2> "$T/err"
st=$?
check "digits whose losses.csv cannot be written (ulimit -f): exit 1, no plots, kept files named" \
    "[ $st -eq 1 ] && [ ! -e '$T/digits_full/tokens.svg' ] && grep -q 'writing .*losses.csv failed' '$T/err' && grep -q 'kept' '$T/err'"

# ---- 4. digits' curves, sweep's grid and results.csv
refused "digits --steps 4294967306: refused (once a heap overflow)" "steps '4294967306'.*1\.\.1000000000" \
    ./examples/digits --digits 1 --batch 4 --d-model 8 --every 1 --steps 4294967306 --out "$T/dg"
refused "digits --steps 1e9 --every 1: refused, the curves would not fit" "raise --every" \
    ./examples/digits --digits 1 --batch 4 --d-model 8 --every 1 --steps 1e9 --out "$T/dg"
refused "digits --d-model 10: refused, not a multiple of 4" "multiple of 4" ./examples/digits --d-model 10 --out "$T/dg"
mkdir -p "$T/griddir"
refused "sweep --grid DIR: refused (once ran the default point)" "is not a file" ./examples/sweep --grid "$T/griddir" --out "$T/sw"
{ # 8 axes of 256 values: 2^64 points
    for a in p seed data_seed epochs every d_mlp; do echo "$a $(seq -s, 2 257)"; done
    echo "lr $(seq -f '%.2f' 0.01 0.01 2.56 | paste -sd, -)"
    echo "wd $(seq -f '%.2f' 0.01 0.01 2.56 | paste -sd, -)"
} > "$T/huge.grid"
refused "sweep on a grid of 2^64 points: refused (once ran 0 points)" "more than 10000000 points" \
    ./examples/sweep --grid "$T/huge.grid" --out "$T/sw"
S="./examples/sweep --p 5 --epochs 10 --every 5 --d-model 8 --d-mlp 8 --n-heads 2 --threads 1 --seed 1,2,3,4,5,6,7,8"
run $S --quiet --out "$T/sweep"
check "sweep: 8 points, 8 rows" "[ $st -eq 0 ] && [ \$(wc -l < '$T/sweep/results.csv') -eq 9 ]"
sed '2s/,confusion,/,confuzion,/' "$T/sweep/results.csv" > "$T/sweep/edited" && mv "$T/sweep/edited" "$T/sweep/results.csv"
run $S --quiet --out "$T/sweep"
check "sweep: a row that does not parse is reported and its point runs again" \
    "[ $st -eq 0 ] && grep -q 'line 2 .*not counted as done' '$T/err' && grep -q '7 rows already in .*, 1 to run' '$T/out' &&
     [ \$(wc -l < '$T/sweep/results.csv') -eq 10 ]"
mkdir -p "$T/sweep_full"
(trap '' XFSZ; ulimit -f 2; exec $S --out "$T/sweep_full") > "$T/out" 2> "$T/err" # results.csv of 1 KiB: 4 rows fit
st=$?
check "sweep on a full disk (ulimit -f): exit 1, stops at the row it cannot write" \
    "[ $st -eq 1 ] && grep -q 'writing .*results.csv failed.*stops' '$T/err' && ! grep -q 'phase.svg' '$T/out'"
check "... printed a line only for each row it wrote" \
    "[ \$(grep -c '^\[[0-9]*/8\]' '$T/out') -eq \$(grep -c ',ok,[a-z]*,[0-9.]*\$' '$T/sweep_full/results.csv') ]"
run $S --quiet --out "$T/sweep_full"
check "... and a rerun completes it: 8 rows" "[ $st -eq 0 ] && [ \$(grep -c ',ok,[a-z]*,[0-9.]*\$' '$T/sweep_full/results.csv') -eq 8 ]"

# ---- 5. analyze knows the task; checkpoint history
run ./examples/power_sum --p 11 --epochs 300 --every 100 --history --out "$T/ps"
check "power_sum --history keeps ckpt_000100/200/300.grok and says so" "[ $st -eq 0 ] && [ -f '$T/ps/ckpt_000100.grok' ] && [ -f '$T/ps/ckpt_000300.grok' ] && grep -q 'ckpt_EPOCH.grok (3 kept)' '$T/out'"
run_loss=$(sed -n 's/^final .*train_loss=\([^ ]*\) .*/\1/p' "$T/out")
run ./examples/analyze --ckpt "$T/ps/latest.grok"
an_loss=$(sed -n 's/^losses: original [^ ]* (all pairs; train \([^,]*\),.*/\1/p' "$T/out")
check "analyze on a power_sum run: the task from run.args" "grep -q '^task (a^4 + b^4) mod 11 (from the run' '$T/out'"
check "... and its training loss is the run's ($an_loss, run $run_loss), not (a+b)'s" \
    "awk -v a='$an_loss' -v r='$run_loss' 'BEGIN { d = a - r; if (d < 0) d = -d; exit !(a > 0 && d <= 0.02 * r) }'"
refused "analyze --task add on a power_sum run: refused" "trained on pow_sum" ./examples/analyze --ckpt "$T/ps/latest.grok" --task add
refused "analyze --data-seed 1 against the run's: refused" "data-seed 1, but the run" ./examples/analyze --ckpt "$T/ps/latest.grok" --data-seed 1
run ./examples/analyze --history "$T/ps"
check "analyze --history: 3 checkpoints into history.csv, history_freqs.csv, history.html" "[ $st -eq 0 ] && [ \$(wc -l < '$T/ps/analysis/history.csv') -eq 4 ] && [ \$(wc -l < '$T/ps/analysis/history_freqs.csv') -eq 16 ] && grep -q '<svg' '$T/ps/analysis/history.html'"
refused "analyze --phases not ascending: refused" "three ascending epochs" ./examples/analyze --history "$T/ps" --phases 200,100,300
run ./examples/analyze --history "$T/ps" --llc --llc-chains 2 --llc-draws 10 --out "$T/ps/llc"
check "analyze --history --llc: history.csv gains the column llc, finite at every checkpoint, and history.html its plot" \
    "[ $st -eq 0 ] && head -n 1 '$T/ps/llc/history.csv' | grep -q ',llc\$' &&
     [ \$(sed 1d '$T/ps/llc/history.csv' | awk -F, '\$NF + 0 == \$NF && \$NF != \"nan\"' | wc -l) -eq 3 ] &&
     grep -q 'Local learning coefficient' '$T/ps/llc/history.html'"
run ./examples/analyze --ckpt "$T/ps/latest.grok" --llc --llc-chains 2 --llc-draws 10 --llc-seed 3 --out "$T/ps/llc1"
check "analyze --ckpt --llc prints the estimate" "[ $st -eq 0 ] && grep -q '^llc [-0-9.e]* (std over the chains' '$T/out'"
refused "analyze --llc-draws without --llc: refused" "llc-draws goes with --llc" ./examples/analyze --ckpt "$T/ps/latest.grok" --llc-draws 5
refused "analyze --llc-step 0: refused" "llc-step '0'" ./examples/analyze --ckpt "$T/ps/latest.grok" --llc --llc-step 0
refused "analyze --phases with --ckpt: refused" "goes with --history" ./examples/analyze --ckpt "$T/ps/latest.grok" --phases 1,2,3
refused "power_sum into a run with history: refused without --force" "already holds a run" ./examples/power_sum --p 11 --epochs 60 --every 30 --history --out "$T/ps"
run ./examples/power_sum --p 11 --epochs 60 --every 30 --history --force --out "$T/ps"
check "power_sum --force removes the old history: ckpt_000030/60 only" "[ $st -eq 0 ] && [ ! -f '$T/ps/ckpt_000100.grok' ] && [ -f '$T/ps/ckpt_000060.grok' ] && [ \$(ls '$T/ps' | grep -c '^ckpt_') -eq 2 ]"
run ./examples/modadd --p 7 --epochs 10 --every 5 --out "$T/nohist"
refused "analyze --history of a run without history: refused" "no checkpoint history" ./examples/analyze --history "$T/nohist"
mkdir -p "$T/grp" && printf 'program groups\n' > "$T/grp/run.args" && cp "$T/ps/latest.grok" "$T/grp/"
refused "analyze on another program's run: refused" "is a run of groups" ./examples/analyze --ckpt "$T/grp/latest.grok"
mkdir -p "$T/bare" && cp "$T/ps/latest.grok" "$T/bare/"
run ./examples/analyze --ckpt "$T/bare/latest.grok" --task pow_sum
check "analyze without run.args: the task from the flags, and it says so" "[ $st -eq 0 ] && grep -q 'no run.args beside the checkpoint' '$T/out'"
refused "analyze --directions task with division: refused" "leaves b = 0 out" ./examples/analyze --ckpt "$T/bare/latest.grok" --task div --directions task

# ---- 6. bring your PyTorch model: --init, --split, safetensors into analyze
# npy_i64 FILE VALUES..: a 1-D int64 .npy (format 1.0, values below 65536), as np.save writes it
npy_i64() {
    f=$1; shift
    { printf '\223NUMPY\001\000\166\000'; printf '%-117s\n' "{'descr': '<i8', 'fortran_order': False, 'shape': ($#,), }"
      for v in "$@"; do printf "\\$(printf %o $((v % 256)))\\$(printf %o $((v / 256)))\\0\\0\\0\\0\\0\\0"; done; } > "$f"
}
npy_i64 "$T/train_idx.npy" $(awk 'BEGIN { for (i = 0; i < 529; i++) if (i % 5) print i }')
npy_i64 "$T/train_idx4.npy" $(awk 'BEGIN { for (i = 0; i < 529; i++) if (i % 4) print i }')
npy_i64 "$T/bad_idx.npy" 3 3
SP="--p 23 --lr 1e-2 --wd 0.3 --every 10 --threads 1 --split $T/train_idx.npy --init $T/whole/model.safetensors"
run ./examples/modadd $SP --epochs 40 --out "$T/sp_whole"
check "modadd --split --init: 423 train, 106 test, the weights of the file, both in run.args" \
    "[ $st -eq 0 ] && grep -q '(423 train, 106 test)' '$T/out' && grep -q '^weights: $T/whole/model.safetensors' '$T/out' &&
     grep -q '^--split $T/train_idx.npy\$' '$T/sp_whole/run.args' && grep -q '^--init $T/whole/model.safetensors\$' '$T/sp_whole/run.args'"
check "... it starts from the trained weights: test accuracy >= 0.5 at epoch 10 (from scratch: 20)" \
    "awk -F, 'NR == 2 { exit !(\$1 == 10 && \$5 >= 0.5) }' '$T/sp_whole/metrics.csv'"
run ./examples/modadd $SP --epochs 20 --out "$T/sp_cut"
run ./examples/modadd $SP --epochs 40 --out "$T/sp_cut" --resume
check "... stopped at 20 and resumed to 40: latest.grok and model.safetensors equal the uninterrupted run's" \
    "[ $st -eq 0 ] && cmp -s '$T/sp_whole/latest.grok' '$T/sp_cut/latest.grok' && cmp -s '$T/sp_whole/model.safetensors' '$T/sp_cut/model.safetensors'"
refused "--resume with another --split: refused, naming --split" "--split .*train_idx4.npy differs" \
    ./examples/modadd --p 23 --lr 1e-2 --wd 0.3 --every 10 --threads 1 --split "$T/train_idx4.npy" --init "$T/whole/model.safetensors" --epochs 60 --out "$T/sp_cut" --resume
refused "--resume without --init: refused, naming --init" "--init none differs" \
    ./examples/modadd --p 23 --lr 1e-2 --wd 0.3 --every 10 --threads 1 --split "$T/train_idx.npy" --epochs 60 --out "$T/sp_cut" --resume
refused "modadd --split with --frac: refused" "--frac and --data-seed do not go with it" ./examples/modadd --p 23 --frac 0.5 --split "$T/train_idx.npy" --out "$T/sp_x"
refused "modadd --split with a repeated index: refused" "repeated" ./examples/modadd --p 23 --split "$T/bad_idx.npy" --out "$T/sp_x"
refused "modadd --init of another p: refused, naming the shapes" "embed.W_E has shape \(24, 128\), the model's is \(8, 128\)" \
    ./examples/modadd --p 7 --init "$T/whole/model.safetensors" --out "$T/sp_x"
refused "modadd --init of a file that is no model: refused" "neither a grok.h checkpoint nor a safetensors file" \
    ./examples/modadd --p 23 --init "$T/whole/metrics.csv" --out "$T/sp_x"
run ./examples/power_sum --p 23 --epochs 20 --every 10 --threads 1 --split "$T/train_idx.npy" --init "$T/whole/latest.grok" --out "$T/ps_sp"
check "power_sum --split --init (a checkpoint): epoch 0 to 20" \
    "[ $st -eq 0 ] && grep -q '(423 train, 106 test)' '$T/out' && grep -q '^final epoch=20 ' '$T/out' && [ ! -d '$T/sp_x' ]"
run_loss=$(sed -n 's/^final .*train_loss=\([^ ]*\) .*/\1/p' "$T/out")
run ./examples/analyze --ckpt "$T/ps_sp/latest.grok"
an_loss=$(sed -n 's/^losses: original [^ ]* (all pairs; train \([^,]*\),.*/\1/p' "$T/out")
check "... trained on the task's labels: analyze's training loss ($an_loss) is the run's ($run_loss, one update earlier), not (a+b)'s" \
    "awk -v a='$an_loss' -v r='$run_loss' 'BEGIN { d = a - r; if (d < 0) d = -d; exit !(a > 0 && d <= 0.1 * r) }'"
mkdir -p "$T/lone" && cp "$T/sp_whole/model.safetensors" "$T/lone/"
run ./examples/analyze --ckpt "$T/lone/model.safetensors"
check "analyze on a lone model.safetensors: the config from its metadata, split unknown, excluded=nan" \
    "[ $st -eq 0 ] && grep -q 'config from the file.s __metadata__' '$T/out' && grep -q '^split unknown' '$T/out' &&
     grep -q 'train and test: split unknown' '$T/out' && grep -q 'excluded: split unknown' '$T/out' &&
     grep -q '^progress measures as grok_train writes them: split unknown' '$T/out' && grep -q '^loss original=[0-9.e-]* restricted=[0-9.e-]* excluded=nan\$' '$T/out'"
run ./examples/analyze --ckpt "$T/lone/model.safetensors" --split "$T/train_idx.npy"
lone=$(grep '^losses: original\|^progress measures\|^loss original' "$T/out")
run ./examples/analyze --ckpt "$T/sp_whole/latest.grok"
check "analyze on the run: the split from its run.args" "[ $st -eq 0 ] && grep -q '^split: the training indices of $T/train_idx.npy (423 train' '$T/out'"
check "... the losses and progress measures of analyze --split on the lone file, the same" \
    "[ -n \"\$lone\" ] && [ \"\$lone\" = \"\$(grep '^losses: original\\|^progress measures\\|^loss original' '$T/out')\" ]"
refused "analyze --split beside run.args: refused" "its split comes from .*run.args" \
    ./examples/analyze --ckpt "$T/sp_whole/model.safetensors" --split "$T/train_idx.npy"
refused "analyze --act-fn gelu against the file's relu: refused" "act_fn relu" ./examples/analyze --ckpt "$T/lone/model.safetensors" --act-fn gelu
refused "analyze --act-fn with a checkpoint (it holds its config): refused" "act-fn goes with a safetensors file" \
    ./examples/analyze --ckpt "$T/sp_whole/latest.grok" --act-fn relu
refused "analyze --split with --data-seed: refused" "--frac and --data-seed do not go with it" \
    ./examples/analyze --ckpt "$T/lone/model.safetensors" --split "$T/train_idx.npy" --data-seed 3
refused "analyze on a file that is no model: refused" "neither a grok.h checkpoint nor a safetensors file" ./examples/analyze --ckpt "$T/sp_whole/metrics.csv"
head -c 200 "$T/lone/model.safetensors" > "$T/lone/cut.safetensors"
refused "analyze on a truncated safetensors file: refused" "cut.safetensors" ./examples/analyze --ckpt "$T/lone/cut.safetensors"
# groups: --init (one net's safetensors) and --split (indices x*order + y); digits: --init
run $G --init "$T/groups/mlp/latest.safetensors" --out "$T/g_init"
check "groups --init of a run's latest.safetensors: trains from it, recorded in run.args" \
    "[ $st -eq 0 ] && grep -q '^weights: $T/groups/mlp/latest.safetensors' '$T/out' &&
     grep -qx -- '--init $T/groups/mlp/latest.safetensors' '$T/g_init/run.args' && grep -qx 'program groups' '$T/g_init/run.args'"
check "... its first metrics row differs from the fresh run's" \
    "[ -n \"\$(sed -n 2p '$T/g_init/mlp/metrics.csv')\" ] &&
     [ \"\$(sed -n 2p '$T/g_init/mlp/metrics.csv' | cut -d, -f1-5)\" != \"\$(sed -n 2p '$T/groups/mlp/metrics.csv' | cut -d, -f1-5)\" ]"
npy_i64 "$T/g_idx.npy" $(awk 'BEGIN { for (i = 0; i < 100; i++) if (i % 5) print i }')
npy_i64 "$T/g_bad_idx.npy" 0 1 100
G1="./examples/groups --n 5 --threads 1" # $G without --model and --epochs
run $G1 --epochs 20 --model bilinear --split "$T/g_idx.npy" --out "$T/g_split"
check "groups --split: D_5's 100 pairs, 80 train and 20 test as the file implies, recorded in run.args" \
    "[ $st -eq 0 ] && grep -q '80 train, 20 test (the training indices of $T/g_idx.npy)' '$T/out' &&
     grep -qx -- '--split $T/g_idx.npy' '$T/g_split/run.args' && [ -f '$T/g_split/bilinear/latest.safetensors' ]"
npy_i64 "$T/g_all_idx.npy" $(seq 0 98)
run $G1 --model mlp --epochs 1 --every 1 --split "$T/g_all_idx.npy" --init "$T/g_init/mlp/latest.safetensors" --out "$T/g_labels"
check "groups --split labels its pairs by the group's table: a net that fits the default split's 60 is right on >= 55% of 99" \
    "[ $st -eq 0 ] && awk -F, 'NR == 2 { exit !(\$1 == 1 && \$4 >= 0.55) }' '$T/g_labels/mlp/metrics.csv'"
refused "groups --init with --model both: refused" "give --model mlp or --model bilinear" \
    ./examples/groups --n 5 --init "$T/groups/mlp/latest.safetensors" --out "$T/g_x"
refused "groups --init of a missing file: refused" "cannot open $T/none.safetensors" $G --init "$T/none.safetensors" --out "$T/g_x"
refused "groups --init of another shape (D_6's net from D_5's file): refused, naming both" \
    "holds a OneLayerMLP with n 10, .*the net is a OneLayerMLP with 12" \
    ./examples/groups --n 6 --epochs 20 --threads 1 --model mlp --init "$T/groups/mlp/latest.safetensors" --out "$T/g_x"
refused "groups --init of the other class: refused" "the net is a BilinearNet" \
    $G1 --model bilinear --init "$T/groups/mlp/latest.safetensors" --out "$T/g_x"
refused "groups --init of a grok.h checkpoint: refused" "is a grok.h checkpoint" $G --init "$T/digits/latest.grok" --out "$T/g_x"
refused "groups --split with an index out of range: refused" "index 100 at position 2 is out of range" \
    $G --split "$T/g_bad_idx.npy" --out "$T/g_x"
refused "groups --split with --frac: refused" "--frac and --data-seed do not go with it" $G --frac 0.5 --split "$T/g_idx.npy" --out "$T/g_x"
check "... the refused runs wrote nothing" "[ ! -e '$T/g_x' ]"
run $D --steps 20 --init "$T/digits/latest.grok" --out "$T/dg_init"
check "digits --init of a run's latest.grok: step 0 to 20, recorded in run.args" \
    "[ $st -eq 0 ] && grep -q '^weights: $T/digits/latest.grok' '$T/out' && grep -qx -- '--init $T/digits/latest.grok' '$T/dg_init/run.args' &&
     [ \$(tail -n 1 '$T/dg_init/losses.csv' | cut -d, -f1) -eq 19 ]"
check "... its first losses row differs from the fresh run's" \
    "[ -n \"\$(sed -n 2p '$T/dg_init/losses.csv')\" ] &&
     [ \"\$(sed -n 2p '$T/dg_init/losses.csv' | cut -d, -f1-3)\" != \"\$(sed -n 2p '$T/digits/losses.csv' | cut -d, -f1-3)\" ]"
refused "digits --init of a missing file: refused" "cannot open $T/none.grok" $D --steps 20 --init "$T/none.grok" --out "$T/dg_x"
refused "digits --init of another config (--d-model 12 from an 8): refused" "latest.grok: its model config differs" \
    ./examples/digits --digits 2 --batch 8 --d-model 12 --threads 1 --steps 20 --init "$T/digits/latest.grok" --out "$T/dg_x"
refused "digits --init of a net's safetensors: refused, naming the tensor it lacks" "no tensor embed.W_E" \
    $D --steps 20 --init "$T/groups/mlp/latest.safetensors" --out "$T/dg_x"
refused "digits --init of a file that is no model: refused" "neither a grok.h checkpoint nor a safetensors file" \
    $D --steps 20 --init "$T/digits/losses.csv" --out "$T/dg_x"
check "... the refused runs wrote nothing" "[ ! -e '$T/dg_x' ]"

# ---- 7. patch: activation and attribution patching from the command line
P="./examples/patch --threads 1 --top 2"
run $P --ckpt "$T/whole/latest.grok" --n 16 --out "$T/patch"
check "patch on a modadd run: both grids of all 11 sites as CSV and SVG, report.html, the closing line" \
    "[ $st -eq 0 ] && [ \$(ls '$T/patch/'*_pos.csv | wc -l) -eq 11 ] && [ \$(ls '$T/patch/'*_all.csv | wc -l) -eq 11 ] &&
     [ \$(ls '$T/patch/'patch_*.svg | wc -l) -eq 22 ] && grep -q '<svg' '$T/patch/report.html' && tail -n 1 '$T/out' | grep -q '^top site=resid_pre cell=L0.a act=1.0000'"
check "... z by position: TransformerLens' order (layer, pos, head), 3 positions x 4 heads" \
    "[ \"\$(head -n 1 '$T/patch/z_pos.csv')\" = 'layer,pos,head,act_patch,attr_patch,act_norm,attr_norm' ] && [ \$(wc -l < '$T/patch/z_pos.csv') -eq 13 ]"
check "... resid_pre at a restores the clean answer (1), at b and = changes nothing (0)" \
    "[ \"\$(cut -d, -f2,5 '$T/patch/resid_pre_pos.csv' | tr '\n' ' ')\" = 'pos,act_norm 0,1 1,0 2,0 ' ]"
check "... direct logit attribution: the components and the bias sum to the clean logit difference" \
    "clean=\$(sed -n 's/.*: clean \\([-0-9.]*\\), corrupted.*/\\1/p' '$T/out') &&
     awk -F, -v c=\"\$clean\" '\$1 == \"dla\" { s += \$3 } END { exit !(NR > 1 && s - c < 1e-3 && c - s < 1e-3) }' '$T/patch/dla.csv' &&
     grep -q '^logit lens at =: 0_pre' '$T/out'"
run $P --ckpt "$T/whole/model.safetensors" --n 16 --out "$T/patch_st"
check "patch on the run's model.safetensors: the same results as from latest.grok" "[ $st -eq 0 ] && cmp -s '$T/patch/z_pos.csv' '$T/patch_st/z_pos.csv'"
run $P --ckpt "$T/whole/latest.grok" --n 16 --corrupt b --act-sites none --out "$T/patch_b"
check "patch --corrupt b --act-sites none: b carries it, attribution only (act_patch nan)" \
    "[ $st -eq 0 ] && grep -q '^resid_pre  L0.b attr' '$T/out' && sed -n 2p '$T/patch_b/z_pos.csv' | grep -q ',nan,' && tail -n 1 '$T/out' | grep -q '^top site=none'"
run $P --ckpt "$T/digits/latest.grok" --n 16 --out "$T/patch_dg"
check "patch on a digits run: a carry into column 1, positions named x1 x0 + y1 y0 = z2 z1 z0" \
    "[ $st -eq 0 ] && grep -q 'corrupt carry (into column 1)' '$T/out' && grep -q 'at position z2 (which predicts z1)' '$T/out' &&
     [ \$(wc -l < '$T/patch_dg/resid_pre_pos.csv') -eq 10 ] && grep -q '>x0<' '$T/patch_dg/patch_resid_pre_pos.svg'"
refused "patch --n 0: refused" "n '0'" $P --ckpt "$T/whole/latest.grok" --n 0 --out "$T/patch_x"
refused "patch --act-sites z,heads: refused, naming the bad site" "'heads' is not a site" $P --ckpt "$T/whole/latest.grok" --act-sites z,heads --out "$T/patch_x"
refused "patch --corrupt carry on a modular model: refused" "carry is for digits" $P --ckpt "$T/whole/latest.grok" --corrupt carry --out "$T/patch_x"
refused "patch --column on a modular model: refused" "--column is for digits" $P --ckpt "$T/whole/latest.grok" --column 1 --out "$T/patch_x"
refused "patch --corrupt a on a digits model: refused" "digits take carry" $P --ckpt "$T/digits/latest.grok" --corrupt a --out "$T/patch_x"
refused "patch --column 3 on a 2-digit model: refused" "adds 2-digit numbers" $P --ckpt "$T/digits/latest.grok" --column 3 --out "$T/patch_x"
refused "patch --act-fn with a checkpoint: refused" "goes with a safetensors file" $P --ckpt "$T/whole/latest.grok" --act-fn gelu --out "$T/patch_x"
refused "patch without --ckpt: refused" "give --ckpt FILE" $P --out "$T/patch_x"
refused "patch of a missing file: refused" "cannot open $T/none.grok" $P --ckpt "$T/none.grok" --out "$T/patch_x"
refused "patch of a file that is no model: refused" "neither a grok.h checkpoint nor a safetensors file" $P --ckpt "$T/digits/losses.csv" --out "$T/patch_x"
refused "patch of a net's safetensors: refused" "embed.W_E" $P --ckpt "$T/groups/mlp/latest.safetensors" --out "$T/patch_x"
check "... the refused runs wrote nothing" "[ ! -e '$T/patch_x' ]"
# ---- 7. the levers: Grokfast, StableMax, the orthogonal gradient, a fixed norm, early stopping
L="./examples/modadd --p 11 --frac 0.5 --every 5 --threads 1"
refused "modadd --grokfast emma: refused, naming the choices" "one of none, ema, ma" $L --grokfast emma --out "$T/lv_x"
refused "modadd --grokfast-alpha 1: refused, alpha < 1" "grokfast-alpha '1'.*\(0, 1\)" $L --grokfast ema --grokfast-alpha 1 --out "$T/lv_x"
refused "modadd --grokfast-alpha without --grokfast ema: refused" "grokfast-alpha needs --grokfast ema" $L --grokfast ma --grokfast-alpha 0.9 --out "$T/lv_x"
refused "modadd --grokfast-window 0: refused" "grokfast-window '0'.*1\.\.1000000" $L --grokfast ma --grokfast-window 0 --out "$T/lv_x"
refused "modadd --grokfast-window without --grokfast ma: refused" "grokfast-window needs --grokfast ma" $L --grokfast-window 10 --out "$T/lv_x"
refused "modadd --grokfast-lamb 0x: refused" "grokfast-lamb '0x'" $L --grokfast ema --grokfast-lamb 0x --out "$T/lv_x"
refused "modadd --fixed-norm -1: refused" "fixed-norm '-1'" $L --fixed-norm -1 --out "$T/lv_x"
refused "modadd --fixed-norm 0: refused (leave it out for none)" "fixed-norm '0'" $L --fixed-norm 0 --out "$T/lv_x"
refused "modadd --early-stop 1.5: refused" "early-stop '1.5'.*\(0, 1\]" $L --early-stop 1.5 --out "$T/lv_x"
refused "modadd --early-stop-evals without --early-stop: refused" "early-stop-evals needs --early-stop" $L --early-stop-evals 3 --out "$T/lv_x"
refused "modadd --stall-stop 0: refused" "stall-stop '0'" $L --stall-stop 0 --out "$T/lv_x"
refused "modadd --memorised without --stall-stop: refused" "memorised needs --stall-stop" $L --memorised 0.9 --out "$T/lv_x"
refused "modadd --stablemax 1: a flag takes no value" "bad option 1" $L --stablemax 1 --out "$T/lv_x"
check "... the refused runs wrote nothing" "[ ! -e '$T/lv_x' ]"
for f in ema ma; do
    LV="$L --grokfast $f --stablemax --orthograd --fixed-norm 40 --monitors --stall-stop 200 --memorised 0.9"
    run $LV --epochs 60 --out "$T/lv_$f"
    check "modadd with every lever ($f): metrics.csv carries the monitors and the stop" \
        "[ $st -eq 0 ] && head -n 1 '$T/lv_$f/metrics.csv' | grep -q ',softmax_collapse,grad_weight_cos,stop\$' &&
         grep -q '\"stop\": \"none\"' '$T/lv_$f/summary.json'"
    run $LV --epochs 30 --out "$T/lv_${f}_a"
    run $LV --epochs 60 --resume --out "$T/lv_${f}_a"
    check "... 30 epochs, then --resume to 60: latest.grok and metrics.csv as the uninterrupted run's" \
        "[ $st -eq 0 ] && cmp -s '$T/lv_$f/latest.grok' '$T/lv_${f}_a/latest.grok' &&
         [ \"\$(rows '$T/lv_$f/metrics.csv')\" = \"\$(rows '$T/lv_${f}_a/metrics.csv')\" ]"
done
refused "modadd --resume without the run's --orthograd: refused, naming it" "orthograd" \
    $L --grokfast ma --stablemax --fixed-norm 40 --monitors --stall-stop 200 --memorised 0.9 --epochs 90 --resume --out "$T/lv_ma_a"
run ./examples/modadd $BASE --early-stop 0.99 --early-stop-evals 2 --epochs 2000 --out "$T/lv_stop"
check "modadd --early-stop 0.99: stops 2 evaluations after test accuracy reached 99%, and says so" \
    "[ $st -eq 0 ] && grep -q '^stopped early at epoch [0-9]*: grokked' '$T/out' && ! grep -q '^final epoch=2000 ' '$T/out' &&
     [ \$(tail -n 1 '$T/lv_stop/metrics.csv' | awk -F, '{print \$NF}') -eq 1 ] && grep -q '\"stop\": \"grokked\"' '$T/lv_stop/summary.json'"
E=$(sed -n 's/^stopped early at epoch \([0-9]*\).*/\1/p' "$T/out")
run ./examples/modadd $BASE --early-stop 0.99 --early-stop-evals 2 --epochs 2000 --resume --out "$T/lv_stop"
check "... a --resume of the stopped run trains no further (epoch $E)" "[ $st -eq 0 ] && grep -q '^final epoch=$E ' '$T/out'"
refused "sweep --grokfast fast: refused, naming the choices" "grokfast value 'fast'.*one of none, ema, ma" ./examples/sweep --grokfast fast --out "$T/lv_sw"
refused "sweep --early-stop 2: refused" "early_stop value '2'" ./examples/sweep --early-stop 2 --out "$T/lv_sw"
refused "sweep --stablemax 2: refused" "stablemax value '2'" ./examples/sweep --stablemax 2 --out "$T/lv_sw"
run ./examples/sweep --p 23 --frac 0.8 --lr 1e-2 --wd 0.3 --epochs 400 --every 10 --threads 1 \
    --early-stop 0,0.99 --grokfast none,ema --quiet --out "$T/lv_sw"
check "sweep --early-stop 0,0.99 --grokfast none,ema: the point that groks stops 3 evaluations after 99%, the rest run on" \
    "[ $st -eq 0 ] && [ \$(grep -c '^add,.*,none,0,0,0,0.99,0,.*,200,.*,ok,grokked,[0-9.]*\$' '$T/lv_sw/results.csv') -eq 1 ] &&
     [ \$(grep -c ',400,.*,ok,none,[0-9.]*\$' '$T/lv_sw/results.csv') -eq 3 ]"

[ $fail -eq 0 ] && rm -rf "$T" || echo "outputs kept in $T"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
