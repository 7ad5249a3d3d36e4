#!/bin/sh
# Runs every test of grok.h and prints one closing line "N passed, N failed".
# 1. grok.h compiles warning-free as C99, C11 and C++ with gcc and clang, with GROK_STATIC,
#    with each optional part left out (GROK_NO_ANALYSIS, GROK_NO_PLOTS, GROK_NO_INTEROP, and all
#    three: a section that uses a later one fails this build), and split over two translation
#    units; each build also runs. tests/check_sections.sh checks the section tags' order.
# 2. tests/test_grok (unit, gradient, optimiser, task, checkpoint and training tests) and
#    tests/test_gemm (GEMM against a double reference, every kernel, determinism, the pool) and
#    tests/test_analysis (DFT, Fourier basis, SVD, least squares against direct references) and
#    tests/test_progress (the seed analyses and progress measures, on a p = 31 model it trains).
#    tests/test_plots (the SVG plots: well-formed, element counts, colours, arguments).
#    tests/test_digits (seed 002's n-digit addition: generator, sub-task classes, losses, a short run).
#    tests/test_tasks (modular operations and groups against brute force, group axioms, the
#    seed-003 nets against a double reference with finite differences, short runs) and
#    tests/test_cuda (grok_cuda.cu against the CPU path; built by make cuda when nvcc exists,
#    prints a skip line and checks only the device-free parts when there is no CUDA device) and
#    tests/test_cuda_host (the same model checks with the CUDA runtime and kernels on the host).
# 3. tests/test_cli.sh: the examples from the command line (strict flags, no overwrite, resume
#    after SIGKILL, outputs only from a good state); make test builds the examples first.
cd "$(dirname "$0")/.." || exit 1
CC=${CC:-cc}
CXX=${CXX:-c++}
WARN="-Wall -Wextra -Wpedantic -Werror"
pass=0
fail=0

check_build() { # name, compile command...
    name=$1; shift
    if "$@" -o tests/compile_check_bin tests/compile_check.c -lm -lpthread 2>tests/compile_check_err && ./tests/compile_check_bin; then
        pass=$((pass + 1)); echo "ok   build $name"
    else
        fail=$((fail + 1)); echo "FAIL build $name"; cat tests/compile_check_err
    fi
}

for cc in gcc clang; do
    if ! command -v $cc >/dev/null 2>&1; then echo "skip $cc: not installed"; continue; fi
    cxx=g++; [ $cc = clang ] && cxx=clang++
    for std in c99 c11; do
        check_build "$cc -std=$std" $cc -std=$std -O1 $WARN
        check_build "$cc -std=$std GROK_STATIC" $cc -std=$std -O1 $WARN -DGROK_STATIC
    done
    check_build "$cxx -std=c++11" $cxx -x c++ -std=c++11 -O1 $WARN
    check_build "$cxx -std=c++17 GROK_STATIC" $cxx -x c++ -std=c++17 -O1 $WARN -DGROK_STATIC
    for part in ANALYSIS PLOTS INTEROP; do
        check_build "$cc -std=c99 GROK_NO_$part" $cc -std=c99 -O1 $WARN -DGROK_NO_$part
    done
    check_build "$cc -std=c99 core alone" $cc -std=c99 -O1 $WARN -DGROK_NO_ANALYSIS -DGROK_NO_PLOTS -DGROK_NO_INTEROP
    check_build "$cxx -std=c++11 core alone" $cxx -x c++ -std=c++11 -O1 $WARN -DGROK_NO_ANALYSIS -DGROK_NO_PLOTS -DGROK_NO_INTEROP
done
if sh tests/check_sections.sh grok.h; then
    pass=$((pass + 1)); echo "ok   sections"
else
    fail=$((fail + 1)); echo "FAIL sections"
fi
# Two translation units: the declarations must link against one implementation.
if $CC -std=c99 $WARN -O1 -c -DDECLARATIONS_ONLY -o tests/compile_check_a.o tests/compile_check.c 2>tests/compile_check_err &&
   $CC -std=c99 $WARN -O1 -DTWO_UNITS -o tests/compile_check_bin tests/compile_check.c tests/compile_check_a.o -lm -lpthread 2>>tests/compile_check_err &&
   ./tests/compile_check_bin; then
    pass=$((pass + 1)); echo "ok   build two translation units"
else
    fail=$((fail + 1)); echo "FAIL build two translation units"; cat tests/compile_check_err
fi
rm -f tests/compile_check_bin tests/compile_check_a.o tests/compile_check_err

for t in tests/test_grok tests/test_gemm tests/test_analysis tests/test_progress tests/test_io tests/test_plots tests/test_digits tests/test_tasks tests/test_robust tests/test_corpus tests/test_cuda tests/test_cuda_host tests/test_cli.sh; do
    case $t in tests/test_cuda*) [ -x $t ] || { echo "skip $t: not built (make cuda needs nvcc)"; continue; } ;; esac
    ./$t > $t.log 2>&1
    status=$?
    cat $t.log
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' $t.log | tail -n 1)
    rm -f $t.log
    if [ -z "$line" ]; then
        fail=$((fail + 1)); echo "FAIL $t exited $status without its closing line"
        continue
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
    [ $status -ne 0 ] && [ "$f" -eq 0 ] && { fail=$((fail + 1)); echo "FAIL $t exited $status"; }
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
