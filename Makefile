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
#   make sweep-mpi  examples/sweep_mpi, examples/sweep built with mpicc (built by make when mpicc is found)
#   make test-sweep a tiny sweep serially, under mpirun -n 2 and 3 (when built), killed and resumed
#   make cuda       grok_cuda.o, tests/test_cuda, tests/test_cuda_host, bench/train_cuda (nvcc; else a note)
#   make bench      bench/: FMA peak, GEMM and training-epoch speed (bench/README.md)
#   make bench-compare  the same against OpenBLAS and PyTorch when they are installed
#   make bench-sweep  sweep throughput: a loop of examples/modadd against examples/sweep --jobs 1 and 2 (minutes)
#   make python     python/libgrokh.so, the library python/grokh.py loads (ctypes)
#   make test-python  python/test_grokh.py (Debian's python3-numpy; skips without)
#   make clean
# CC, CXX, CFLAGS and LDLIBS may be overridden: make CC=clang CFLAGS="-O3"

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Werror
LDLIBS ?= -lm -lpthread
OUT ?= runs/modadd
# MPI (Debian's openmpi-bin, libopenmpi-dev): examples/sweep_mpi is built when $(MPICC) is found
MPICC ?= mpicc
SWEEP_MPI = $(if $(shell command -v $(MPICC) 2>/dev/null),examples/sweep_mpi)

TESTS = tests/test_grok tests/test_gemm tests/test_analysis tests/test_progress tests/test_io tests/test_plots tests/test_digits tests/test_tasks tests/test_robust tests/test_corpus
BINS = examples/modadd examples/analyze examples/digits examples/sweep $(SWEEP_MPI) examples/power_sum examples/groups examples/patch $(TESTS)

all: $(BINS)

EXAMPLE_HEADERS = examples/options.h examples/run_dir.h

examples/%: examples/%.c grok.h $(EXAMPLE_HEADERS)
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

# examples/sweep.c with -DGROK_MPI: rank 0 hands out the points, the other ranks train them
examples/sweep_mpi: examples/sweep.c grok.h $(EXAMPLE_HEADERS)
	$(MPICC) -std=c99 $(CFLAGS) $(WARN) -DGROK_MPI -o $@ examples/sweep.c $(LDLIBS)

sweep-mpi: examples/sweep_mpi

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

# The CUDA companion (README, "CUDA companion"), when nvcc is on PATH or in /usr/local/cuda/bin.
# --fmad=false is not optional: the kernels round like the CPU code they mirror.
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_ARCH ?= -arch=sm_75
NVCCFLAGS ?= -O2 $(CUDA_ARCH)
NVCC_ALL = -std=c++17 --fmad=false -Xcompiler -Wall,-Wextra -Werror all-warnings

ifneq ($(NVCC),)
cuda: grok_cuda.o tests/test_cuda tests/test_cuda_host bench/train_cuda

grok_cuda.o: grok_cuda.cu grok.h
	$(NVCC) $(NVCCFLAGS) $(NVCC_ALL) -c -o $@ grok_cuda.cu

tests/test_cuda: tests/test_cuda.cu grok_cuda.cu grok.h tests/check.h
	$(NVCC) $(NVCCFLAGS) $(NVCC_ALL) -o $@ tests/test_cuda.cu -lcublas $(LDLIBS)

# The same test with the CUDA runtime, cuBLAS and the kernel launches served on the host
# (tests/cuda_host.h): grok_cuda.cu's whole orchestration against the CPU path, without a GPU.
tests/test_cuda_host: tests/test_cuda.cu tests/cuda_host.h tests/cuda_host_kernels.h grok_cuda.cu grok.h tests/check.h
	$(NVCC) $(NVCCFLAGS) $(NVCC_ALL) -DGROK_TEST_CUDA_HOST -o $@ tests/test_cuda.cu -lcublas $(LDLIBS)

# bench/train with --device cuda: a C program linked with grok_cuda.o. nvcc links it because
# only nvcc knows where its toolkit keeps libcudart (nvcc may be a wrapper in /usr/local/bin).
bench/train_cuda.o: bench/train.c bench/bench_common.h grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -DGROK_CUDA -c -o $@ bench/train.c
bench/train_cuda: bench/train_cuda.o grok_cuda.o
	$(NVCC) $(NVCCFLAGS) -o $@ bench/train_cuda.o grok_cuda.o -lcublas $(LDLIBS)
else
cuda:
	@echo "make cuda: nvcc not found (PATH, /usr/local/cuda/bin): skipping grok_cuda.o, tests/test_cuda, tests/test_cuda_host, bench/train_cuda"
endif

bench: $(BENCH)
	@mkdir -p bench/results
	./bench/peak
	./bench/gemm
	./bench/train
	./bench/fft
	./bench/svd

# Not in make bench: it trains 36 runs (bench/README.md, "Sweep throughput")
bench-sweep: examples/modadd examples/sweep
	sh bench/sweep.sh

bench-compare: bench/gemm_openblas bench/train bench/fft_fftw bench/svd_lapacke
	@mkdir -p bench/results
	./bench/gemm_openblas
	./bench/train
	./bench/fft_fftw
	OPENBLAS_NUM_THREADS=1 ./bench/svd_lapacke

# The Python binding: grok.h as a shared library that python/grokh.py loads with ctypes.
PYLIB = python/libgrokh.so
PYTHON ?= /usr/bin/python3
$(PYLIB): python/grokh_lib.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -fPIC -shared -o $@ python/grokh_lib.c $(LDLIBS)

python: $(PYLIB)

test-python: $(PYLIB)
	@if $(PYTHON) -c 'import numpy' >/dev/null 2>&1; then \
	    $(PYTHON) python/test_grokh.py; \
	else \
	    echo "test-python: skipped, $(PYTHON) has no numpy (apt-get install python3-numpy)"; \
	    echo "0 passed, 0 failed"; \
	fi

# tests/test_cli.sh runs the examples
CLI_EXAMPLES = examples/modadd examples/power_sum examples/analyze examples/digits examples/groups examples/sweep examples/patch

test: $(TESTS) cuda $(CLI_EXAMPLES)
	CC="$(CC)" CXX="$(CXX)" sh tests/run.sh

test-browser: examples/modadd
	sh tests/browser/run.sh

test-sweep: examples/sweep $(SWEEP_MPI)
	sh tests/sweep/run.sh

test-parity:
	CC="$(CC)" sh tests/parity/run.sh

# The unit tests built with AddressSanitizer and UBSan (not part of make test: slower).
test-asan:
	@mkdir -p tests/asan
	@for t in $(TESTS); do \
	    $(CC) -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	        -o tests/asan/$${t#tests/} $$t.c $(LDLIBS) || exit 1; \
	done
	@if [ -n "$(NVCC)" ]; then \
	    $(NVCC) -O1 -g $(CUDA_ARCH) -std=c++17 --fmad=false -DGROK_TEST_CUDA_HOST \
	        -Xcompiler -fsanitize=address,-fsanitize=undefined,-fno-sanitize-recover=all \
	        -o tests/asan/test_cuda_host tests/test_cuda.cu -lcublas -lasan -lubsan $(LDLIBS) || exit 1; \
	fi
	@# tests/test_cuda_host (with nvcc): every device buffer is its own host allocation, so an overrun shows
	@sh tests/run_each.sh "" $(patsubst tests/%,tests/asan/%,$(TESTS)) $(if $(NVCC),tests/asan/test_cuda_host)

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
# The canonical run starts over (--force) in OUT; a stopped one continues with
# ./examples/modadd --out runs/modadd --resume.
run: examples/modadd examples/analyze
	./examples/modadd --out $(OUT) --force
	./examples/analyze --ckpt $(OUT)/latest.grok
	@echo "report: $(OUT)/analysis/report.html (and $(OUT)/report.html from modadd)"

analyze: examples/analyze
	./examples/analyze --ckpt $(OUT)/latest.grok

clean:
	rm -f $(BINS) examples/sweep_mpi $(BENCH) $(FUZZ) grok_cuda.o tests/test_cuda tests/test_cuda_host bench/train_cuda bench/train_cuda.o bench/gemm_openblas bench/fft_fftw bench/svd_lapacke tests/compile_check_* tests/parity/parity tests/parity/groups tests/parity/tasks tests/parity/digits tests/parity/figures tests/parity/pytorch
	rm -rf $(PYLIB) python/__pycache__
	rm -rf runs tests/asan tests/valgrind tests/fuzz/seeds tests/fuzz/corpus_*

.PHONY: all python test-python cuda test test-parity test-browser test-asan test-valgrind fuzz lint test-sweep sweep-mpi run analyze clean bench bench-compare bench-sweep
