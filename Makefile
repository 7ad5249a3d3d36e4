# grok.h - build the examples and tests, run the canonical grokking run.
#   make            build everything
#   make test       compile grok.h every supported way and run the unit tests
#   make run        the canonical run of seed 000 (p=113, 25,000 epochs), then its summary
#   make clean
# CC, CXX, CFLAGS and LDLIBS may be overridden: make CC=clang CFLAGS="-O3"

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Werror
LDLIBS ?= -lm -lpthread
OUT ?= runs/modadd

TESTS = tests/test_grok tests/test_gemm
BINS = examples/modadd $(TESTS)

all: $(BINS)

examples/%: examples/%.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

tests/%: tests/%.c grok.h
	$(CC) -std=c99 $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

test: $(TESTS)
	CC="$(CC)" CXX="$(CXX)" sh tests/run.sh

run: examples/modadd
	./examples/modadd --out $(OUT)

clean:
	rm -f $(BINS) tests/compile_check_*
	rm -rf runs

.PHONY: all test run clean
