# grok.h - build the examples and tests, run the canonical grokking run.
#   make            build everything
#   make test       compile grok.h every supported way and run the unit tests
#   make test-parity  grok.h against PyTorch and numpy (Debian's python3-torch, python3-numpy; skips without)
#   make test-browser report.html in headless Chromium (Debian's chromium; skips without)
#   make run        the canonical run of seed 000 (p=113, 25,000 epochs), then its analysis
#   make analyze    examples/analyze on the canonical run's runs/modadd/latest.grok
#   make test-asan  the unit tests under AddressSanitizer and UBSan
#   make test-valgrind  the unit tests under valgrind memcheck (no errors, no leaks)
#   make fuzz       libFuzzer on the checkpoint, safetensors and .npy readers (clang; FUZZ_SECONDS each)
#   make lint       cppcheck on grok.h
#   make bench      bench/: FMA peak, GEMM and training-epoch speed (bench/README.md)
#   make bench-compare  the same against OpenBLAS and PyTorch when they are installed
#   make clean
# CC, CXX, CFLAGS and LDLIBS may be overridden: make CC=clang CFLAGS="-O3"

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Werror
LDLIBS ?= -lm -lpthread
OUT ?= runs/modadd

TESTS = tests/test_grok tests/test_gemm tests/test_analysis tests/test_progress tests/test_io tests/test_plots tests/test_robust tests/test_corpus
BINS = examples/modadd examples/analyze $(TESTS)

all: $(BINS)

examples/%: examples/%.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

tests/%: tests/%.c tests/check.h grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

BENCH = bench/peak bench/gemm bench/train bench/fft bench/svd

bench/%: bench/%.c bench/bench_common.h grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

# bench/gemm_openblas: the same as bench/gemm plus OpenBLAS's sgemm (apt-get install libopenblas-dev)
bench/gemm_openblas: bench/gemm.c bench/bench_common.h grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -DGROK_HAVE_CBLAS -o $@ bench/gemm.c -lopenblas $(LDLIBS)

# ... and bench/fft_fftw, bench/svd_lapacke against FFTW and LAPACK (libfftw3-dev, liblapacke-dev)
bench/fft_fftw: bench/fft.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -DGROK_HAVE_FFTW -o $@ bench/fft.c -lfftw3 $(LDLIBS)
bench/svd_lapacke: bench/svd.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -DGROK_HAVE_LAPACKE -o $@ bench/svd.c -llapacke -lopenblas $(LDLIBS)

bench: $(BENCH)
	@mkdir -p bench/results
	./bench/peak
	./bench/gemm
	./bench/train
	./bench/fft
	./bench/svd

bench-compare: bench/gemm_openblas bench/train bench/fft_fftw bench/svd_lapacke
	@mkdir -p bench/results
	./bench/gemm_openblas
	./bench/train
	./bench/fft_fftw
	OPENBLAS_NUM_THREADS=1 ./bench/svd_lapacke

test: $(TESTS)
	CC="$(CC)" CXX="$(CXX)" sh tests/run.sh

test-browser: examples/modadd
	sh tests/browser/run.sh

test-parity:
	CC="$(CC)" sh tests/parity/run.sh

# The unit tests built with AddressSanitizer and UBSan (not part of make test: slower).
test-asan:
	@mkdir -p tests/asan
	@for t in $(TESTS); do \
	    $(CC) -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	        -o tests/asan/$${t#tests/} $$t.c $(LDLIBS) || exit 1; \
	done
	@sh tests/run_each.sh "" $(patsubst tests/%,tests/asan/%,$(TESTS))

# The unit tests under valgrind's memcheck: any error or leak (definite, indirect, possible) fails.
# GROK_TEST_QUICK=1 shortens the long training runs inside the tests, and GROK_KERNEL=generic
# takes the portable GEMM kernel, which memcheck runs 6x faster than the AVX2 one (make test-asan
# covers the vector kernels, test_gemm's included).
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
           --errors-for-leak-kinds=definite,indirect,possible
test-valgrind: $(TESTS)
	@GROK_TEST_QUICK=1 GROK_KERNEL=generic sh tests/run_each.sh "$(VALGRIND)" $(TESTS)

# cppcheck on grok.h (implementation included): warnings, portability and performance. The few
# false positives carry an inline "cppcheck-suppress" comment saying why; ctuuninitvar flags the
# GEMM's epilogue, which reads only the fields the empty-K path sets.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance --inline-suppr --std=c99 \
	    --language=c -DGROK_IMPLEMENTATION -D__GNUC__ -D__x86_64__ --suppress=ctuuninitvar grok.h
	@echo "lint: cppcheck clean"

# libFuzzer (clang's -fsanitize=fuzzer) on the three file readers, FUZZ_SECONDS each, seeded with
# valid files (tests/test_corpus --seeds) and tests/corpus; new inputs go to tests/fuzz/corpus_*,
# a crash to tests/fuzz/crash-* (add it to tests/corpus once fixed).
FUZZ_SECONDS ?= 10
FUZZ = tests/fuzz/fuzz_ckpt tests/fuzz/fuzz_safetensors tests/fuzz/fuzz_npy
FUZZ_CC ?= clang

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_model.h grok.h
	$(FUZZ_CC) -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(WARN) -o $@ $< $(LDLIBS)

fuzz: $(FUZZ) tests/test_corpus
	./tests/test_corpus --seeds tests/fuzz/seeds
	@for t in ckpt safetensors npy; do \
	    mkdir -p tests/fuzz/corpus_$$t; \
	    echo "== fuzz_$$t, $(FUZZ_SECONDS) s"; \
	    ./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=tests/fuzz/ \
	        tests/fuzz/corpus_$$t tests/fuzz/seeds/$$t tests/corpus/$$t > tests/fuzz/log 2>&1 || { tail -n 40 tests/fuzz/log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units' tests/fuzz/log; \
	done; echo "fuzz: no failing input"

# The canonical run, then its analysis; ends by printing the path of its report.html.
run: examples/modadd examples/analyze
	./examples/modadd --out $(OUT)
	./examples/analyze --ckpt $(OUT)/latest.grok
	@echo "report: $(OUT)/analysis/report.html (and $(OUT)/report.html from modadd)"

analyze: examples/analyze
	./examples/analyze --ckpt $(OUT)/latest.grok

clean:
	rm -f $(BINS) $(BENCH) $(FUZZ) bench/gemm_openblas bench/fft_fftw bench/svd_lapacke tests/compile_check_* tests/parity/parity
	rm -rf runs tests/asan tests/valgrind tests/fuzz/seeds tests/fuzz/corpus_*

.PHONY: all test test-parity test-browser test-asan test-valgrind fuzz lint run analyze clean bench bench-compare
