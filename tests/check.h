/* The unit tests' one check: CHECK(cond, fmt, ...) counts a pass or a failure and prints a
   failure with its place, its message and grok.h's last error. Each test's main ends with
   printf("%d passed, %d failed\n", n_pass, n_fail) and returns n_fail != 0. */
#ifndef GROK_TESTS_CHECK_H
#define GROK_TESTS_CHECK_H
#include <stdio.h>

static int n_pass, n_fail;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (cond) n_pass++;                                                           \
        else {                                                                        \
            n_fail++;                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                               \
            printf(__VA_ARGS__);                                                      \
            printf(" [last error: %s]\n", grok_last_error());                         \
        }                                                                             \
    } while (0)
#endif
