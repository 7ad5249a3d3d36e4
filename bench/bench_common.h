/* Shared by the benchmarks: timing, medians and this machine's measured FP32 FMA peak. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static __attribute__((unused)) double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static __attribute__((unused)) void bench_sleep(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static __attribute__((unused)) double bench_median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof(double), bench_cmp);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* result = median over reps (<= 64) of the time of `inner` runs of stmt, in ms per run. */
#define BENCH_TIME_MS(result, reps, inner, stmt)                                \
    do {                                                                        \
        double t_[64];                                                          \
        int r_, i_;                                                             \
        for (r_ = 0; r_ < (reps); r_++) {                                       \
            double t0_ = bench_now();                                           \
            for (i_ = 0; i_ < (inner); i_++) { stmt; }                          \
            t_[r_] = (bench_now() - t0_) * 1e3 / (inner);                       \
        }                                                                       \
        (result) = bench_median(t_, (reps));                                    \
    } while (0)

/* FMA throughput of one core: 12 independent accumulators (4-cycle latency x 2 FMA ports +
   slack), 16 floats each, 2 flops per lane. Returns flops performed. */
#if defined(__x86_64__) && defined(__GNUC__)
#define BENCH_FMA12(FMA, a, x, y) \
    a##0 = FMA(a##0, x, y); a##1 = FMA(a##1, x, y); a##2 = FMA(a##2, x, y); a##3 = FMA(a##3, x, y); \
    a##4 = FMA(a##4, x, y); a##5 = FMA(a##5, x, y); a##6 = FMA(a##6, x, y); a##7 = FMA(a##7, x, y); \
    a##8 = FMA(a##8, x, y); a##9 = FMA(a##9, x, y); a##10 = FMA(a##10, x, y); a##11 = FMA(a##11, x, y)
#define BENCH_SUM12(ADD, a) \
    ADD(ADD(ADD(ADD(a##0, a##1), ADD(a##2, a##3)), ADD(ADD(a##4, a##5), ADD(a##6, a##7))), \
        ADD(ADD(a##8, a##9), ADD(a##10, a##11)))

__attribute__((target("avx512f")))
static double bench_fma_avx512(long iters)
{
    __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    /* distinct starting values, or the compiler merges identical chains */
    __m512 a0 = _mm512_set1_ps(0.f), a1 = _mm512_set1_ps(1.f), a2 = _mm512_set1_ps(2.f), a3 = _mm512_set1_ps(3.f);
    __m512 a4 = _mm512_set1_ps(4.f), a5 = _mm512_set1_ps(5.f), a6 = _mm512_set1_ps(6.f), a7 = _mm512_set1_ps(7.f);
    __m512 a8 = _mm512_set1_ps(8.f), a9 = _mm512_set1_ps(9.f), a10 = _mm512_set1_ps(10.f), a11 = _mm512_set1_ps(11.f);
    float sink[16];
    long i;
    for (i = 0; i < iters; i++) {
        BENCH_FMA12(_mm512_fmadd_ps, a, x, y);
    }
    _mm512_storeu_ps(sink, BENCH_SUM12(_mm512_add_ps, a));
    return sink[0] == 12345.0f ? 0.0 : 2.0 * 16 * 12 * (double)iters;
}

__attribute__((target("avx2,fma")))
static double bench_fma_avx2(long iters)
{
    __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
    __m256 a0 = _mm256_set1_ps(0.f), a1 = _mm256_set1_ps(1.f), a2 = _mm256_set1_ps(2.f), a3 = _mm256_set1_ps(3.f);
    __m256 a4 = _mm256_set1_ps(4.f), a5 = _mm256_set1_ps(5.f), a6 = _mm256_set1_ps(6.f), a7 = _mm256_set1_ps(7.f);
    __m256 a8 = _mm256_set1_ps(8.f), a9 = _mm256_set1_ps(9.f), a10 = _mm256_set1_ps(10.f), a11 = _mm256_set1_ps(11.f);
    float sink[8];
    long i;
    for (i = 0; i < iters; i++) {
        BENCH_FMA12(_mm256_fmadd_ps, a, x, y);
    }
    _mm256_storeu_ps(sink, BENCH_SUM12(_mm256_add_ps, a));
    return sink[0] == 12345.0f ? 0.0 : 2.0 * 8 * 12 * (double)iters;
}
#endif

typedef struct {
    int avx512;
    long iters;
    double flops;
} bench_peak_job;

static void *bench_peak_thread(void *arg)
{
    bench_peak_job *j = (bench_peak_job *)arg;
#if defined(__x86_64__) && defined(__GNUC__)
    j->flops = j->avx512 ? bench_fma_avx512(j->iters) : bench_fma_avx2(j->iters);
#else
    j->flops = 0.0;
#endif
    return NULL;
}

/* Best of 5 runs of `threads` threads each doing ~0.2 s of FMAs: GFLOP/s (0 if unsupported). */
static __attribute__((unused)) double bench_peak_gflops(int threads, int avx512)
{
    double best = 0.0;
    int rep, t;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (avx512 ? !__builtin_cpu_supports("avx512f") : !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return 0.0;
#else
    return 0.0;
#endif
    for (rep = 0; rep < 5; rep++) {
        pthread_t th[64];
        bench_peak_job jobs[64];
        double t0, flops = 0.0, g;
        if (threads > 64) threads = 64;
        t0 = bench_now();
        for (t = 0; t < threads; t++) {
            jobs[t].avx512 = avx512;
            jobs[t].iters = 20000000L;
            pthread_create(&th[t], NULL, bench_peak_thread, &jobs[t]);
        }
        for (t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            flops += jobs[t].flops;
        }
        g = flops / (bench_now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
#endif
