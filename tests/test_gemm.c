/* Tests of grok.h's GEMM, its epilogues and its thread pool.
   Usage: test_gemm [--small]
   Without GROK_KERNEL set, re-runs itself once per kernel (avx512, avx2,
   generic) via the environment and sums the results; with it set, tests
   that kernel only.  --small (or GROK_TEST_QUICK=1) keeps sizes tiny (for valgrind). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <float.h>

static int n_pass, n_fail, small_mode;
static uint64_t rng = 88172645463325252ull;

static double urand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}
static int irand(int n) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (int)(rng % (uint64_t)n); }

static void check(int ok, const char *fmt, const char *what, int ta, int tb, int M, int N, int K, double info)
{
    if (ok) { n_pass++; return; }
    n_fail++;
    printf("%s %-6s %s ta=%d tb=%d M=%d N=%d K=%d (%s=%.3g)\n", ok ? "PASS" : "FAIL",
           grok_gemm_kernel_name(), what, ta, tb, M, N, K, fmt, info);
}

static float *alloc_fill(size_t n)
{
    float *p = (float *)malloc((n ? n : 1) * sizeof(float));
    size_t i;
    for (i = 0; i < n; i++) p[i] = (float)urand();
    return p;
}

/* One correctness case: random A, B, C with row strides padded by `pad`,
   compared against a double reference; C's padding must stay untouched. */
static void run_case(int ta, int tb, int M, int N, int K, float alpha, float beta, int pad)
{
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    int lda = ac + pad, ldb = bc + pad + (pad ? 1 : 0), ldc = N + pad + (pad ? 2 : 0);
    float *A = alloc_fill((size_t)ar * lda), *B = alloc_fill((size_t)br * ldb);
    float *C = alloc_fill((size_t)M * ldc), *C0 = (float *)malloc(((size_t)M * ldc + 1) * sizeof(float));
    double maxrel = 0.0;
    int i, j, k, ok = 1;
    if (beta == 0.0f)
        for (i = 0; i < M * ldc; i++) C[i] = NAN;
    if (M > 0) memcpy(C0, C, (size_t)M * ldc * sizeof(float));
    grok_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    for (i = 0; i < M; i++) {
        for (j = 0; j < N; j++) {
            double s = 0.0, sa = 0.0, ref, bound, err, c0 = beta == 0.0f ? 0.0 : C0[(size_t)i * ldc + j];
            for (k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
                sa += fabs(a * b);
            }
            ref = alpha * s + beta * c0;
            bound = 2.0 * (K + 4) * 1.2e-7 * (fabs(alpha) * sa + fabs(beta * c0)) + 1e-30;
            err = fabs((double)C[(size_t)i * ldc + j] - ref);
            if (!(err <= bound)) ok = 0;
            if (err / bound > maxrel) maxrel = err / bound;
        }
        for (j = N; j < ldc; j++) /* padding untouched (bitwise, NaN-safe) */
            if (memcmp(&C[(size_t)i * ldc + j], &C0[(size_t)i * ldc + j], sizeof(float))) ok = 0;
    }
    {
        char what[64];
        snprintf(what, sizeof what, "a=%g b=%g pad=%d", alpha, beta, pad);
        check(ok, "err/bound", what, ta, tb, M, N, K, maxrel);
    }
    free(A); free(B); free(C); free(C0);
}

/* Bitwise identity of C across thread counts 1,2,3,7 and across repeats. */
static void run_determinism(int ta, int tb, int M, int N, int K)
{
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    float *A = alloc_fill((size_t)ar * ac), *B = alloc_fill((size_t)br * bc);
    float *Cin = alloc_fill((size_t)M * N);
    float *R = (float *)malloc((size_t)M * N * sizeof(float)), *C = (float *)malloc((size_t)M * N * sizeof(float));
    static const int counts[] = { 1, 2, 3, 7, 2, 1 };
    int t, ok = 1;
    for (t = 0; t < 6; t++) {
        grok_threads_set(counts[t]);
        memcpy(C, Cin, (size_t)M * N * sizeof(float));
        grok_gemm(ta, tb, M, N, K, 0.75f, A, ac, B, bc, 0.5f, C, N);
        if (t == 0) memcpy(R, C, (size_t)M * N * sizeof(float));
        else if (memcmp(R, C, (size_t)M * N * sizeof(float))) ok = 0;
    }
    grok_threads_set(0);
    check(ok, "threads", "bitwise 1/2/3/7/repeat", ta, tb, M, N, K, 7);
    free(A); free(B); free(Cin); free(R); free(C);
}

/* A row's bits do not depend on its tile: the r rows of an M = r product (one partial strip,
   the 4-row edge kernel where the kernel has one) equal the first r rows of an M = MR + r
   product (a full strip), for every r < MR, K across the K block, both A layouts. */
static void run_partial_strips(int ta)
{
    const int mr = grok__kernel_get()->mr, N = 45, K = 300;
    int r, ok = 1, Mbig = mr + mr - 1;
    float *A = alloc_fill((size_t)Mbig * K), *B = alloc_fill((size_t)K * N), *Cin = alloc_fill((size_t)Mbig * N);
    float *big = (float *)malloc(sizeof(float) * (size_t)Mbig * N), *small = (float *)malloc(sizeof(float) * (size_t)Mbig * N);
    for (r = 1; r < mr; r++) {
        int Mb = mr + r, i, j, k;
        float *As = alloc_fill((size_t)r * K);
        memcpy(big, Cin, sizeof(float) * (size_t)Mb * N);
        memcpy(small, Cin, sizeof(float) * (size_t)r * N);
        /* op(A) (Mb, K); As holds its first r rows in the same layout */
        for (i = 0; i < r; i++)
            for (k = 0; k < K; k++) As[ta ? (size_t)k * r + i : (size_t)i * K + k] = A[ta ? (size_t)k * Mb + i : (size_t)i * K + k];
        grok_gemm(ta, 0, Mb, N, K, 0.75f, A, ta ? Mb : K, B, N, 0.5f, big, N);
        grok_gemm(ta, 0, r, N, K, 0.75f, As, ta ? r : K, B, N, 0.5f, small, N);
        for (i = 0; i < r; i++)
            for (j = 0; j < N; j++) ok &= memcmp(&big[i * N + j], &small[i * N + j], sizeof(float)) == 0;
        free(As);
    }
    check(ok, "rows", "partial strip == full strip, bitwise", ta, 0, mr - 1, N, K, 0);
    free(A); free(B); free(Cin); free(big); free(small);
}

/* parallel_for: every task runs exactly once, also when nested. */
typedef struct { int *hits; int n; } pf_ctx;
static void pf_inner(void *ctx, int t, int n) { pf_ctx *c = (pf_ctx *)ctx; (void)n; __atomic_add_fetch(&c->hits[t], 1, __ATOMIC_RELAXED); }
static void pf_outer(void *ctx, int t, int n)
{
    pf_ctx *c = (pf_ctx *)ctx;
    (void)n;
    __atomic_add_fetch(&c->hits[t], 1, __ATOMIC_RELAXED);
    grok__parallel_for(pf_inner, c, c->n); /* nested: must run inline */
}
static void test_parallel_for(void)
{
    int hits[64], i, ok = 1, nt;
    pf_ctx c;
    c.hits = hits;
    for (nt = 1; nt <= 4; nt++) {
        grok_threads_set(nt);
        c.n = 37;
        memset(hits, 0, sizeof hits);
        grok__parallel_for(pf_inner, &c, 37);
        for (i = 0; i < 37; i++) if (hits[i] != 1) ok = 0;
        c.n = 10;
        memset(hits, 0, sizeof hits);
        grok__parallel_for(pf_outer, &c, 10); /* each index: 1 outer + 10 nested */
        for (i = 0; i < 10; i++) if (hits[i] != 11) ok = 0;
    }
    grok_threads_set(0);
    n_pass += ok; n_fail += !ok;
    if (!ok) printf("FAIL parallel_for (plain + nested, 1..4 threads)\n");
}

/* The fused epilogues equal the GEMM followed by the same operations done by hand, bitwise. */
static void test_epilogue(void)
{
    const int M = 37, N = 45, K = 130;
    float *A = alloc_fill((size_t)M * K), *B = alloc_fill((size_t)K * N), *bias = alloc_fill((size_t)N);
    float *mask = alloc_fill((size_t)M * N), *C1 = alloc_fill((size_t)M * N), *C2 = alloc_fill((size_t)M * N);
    float *C3 = alloc_fill((size_t)M * N);
    const int ldbits = (N + 15) / 16;
    uint16_t *bits = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)M * ldbits);
    grok__epilogue ep;
    int i, j, ok = 1, beta;
    for (beta = 0; beta < 2; beta++) {
        memcpy(C2, C1, sizeof(float) * (size_t)M * N);
        memset(&ep, 0, sizeof ep);
        ep.bias = bias; ep.relu = 1;
        grok__gemm_ex(0, 0, M, N, K, 1.0f, A, K, B, N, (float)beta, C1, N, &ep);
        grok_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, (float)beta, C2, N);
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                float v = C2[i * N + j] + bias[j];
                ok &= C1[i * N + j] == (v > 0.0f ? v : 0.0f);
            }
        memset(&ep, 0, sizeof ep);
        ep.mask = mask; ep.ldm = N;
        memcpy(C3, C1, sizeof(float) * (size_t)M * N);
        grok__gemm_ex(0, 1, M, N, K, 1.0f, A, K, B, K, (float)beta, C1, N, &ep);
        memcpy(C2, C1, sizeof(float) * (size_t)M * N);
        grok_gemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N);
        if (!beta)
            for (i = 0; i < M * N; i++) ok &= C1[i] == (mask[i] > 0.0f ? C2[i] : 0.0f);
        /* the mask as bits, made by the kernel's positive_bits: the same result */
        for (i = 0; i < M; i++) grok__kernel_get()->positive_bits(mask + i * N, N, bits + i * ldbits);
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) ok &= (bits[i * ldbits + j / 16] >> (j % 16) & 1) == (mask[i * N + j] > 0.0f);
        memset(&ep, 0, sizeof ep);
        ep.bits = bits; ep.ldbits = ldbits;
        grok__gemm_ex(0, 1, M, N, K, 1.0f, A, K, B, K, (float)beta, C3, N, &ep);
        for (i = 0; i < M * N; i++) ok &= memcmp(&C3[i], &C1[i], sizeof(float)) == 0;
    }
    n_pass += ok; n_fail += !ok;
    if (!ok) printf("FAIL epilogue (bias + relu, relu mask as floats and as bits)\n");
    free(A); free(B); free(bias); free(mask); free(C1); free(C2); free(C3); free(bits);
}

/* The folded path's vector primitives against their definition: madd is y += alpha*x term by
   term in order, one fused multiply-add each; the dots sum lane l = elements l, l+16, ... with
   fused multiply-adds, then the lanes in order. The AVX kernels must match that to the bit
   (so avx512 and avx2 agree); the portable one, which the compiler may or may not fuse, to
   rounding. Sizes cover the vector tails; ny covers the 8/4/2/1 register groups. */
static void test_fold_kernels(void)
{
    const grok__kernel *kr = grok__kernel_get();
    int exact = strcmp(kr->name, "generic") != 0;
    static const int ns[] = { 1, 7, 16, 17, 32, 113, 512, 625 };
    int in, ny, nx = 13, e, q, k, l, bad_madd = 0, bad_dots = 0;
    for (in = 0; in < (int)(sizeof ns / sizeof *ns); in++)
        for (ny = 1; ny <= 11; ny += 2) {
            int n = ns[in];
            float *x = alloc_fill((size_t)nx * n), *y = alloc_fill((size_t)ny * n), *t = alloc_fill((size_t)ny * n);
            float *yref = (float *)malloc(sizeof(float) * (size_t)ny * n), *alpha = alloc_fill((size_t)nx * ny);
            float *dots = (float *)malloc(sizeof(float) * (size_t)nx * ny);
            float *yp[11];
            const float *xp[13], *tp[11];
            for (q = 0; q < ny; q++) { yp[q] = y + (size_t)q * n; tp[q] = t + (size_t)q * n; }
            for (e = 0; e < nx; e++) xp[e] = x + (size_t)e * n;
            memcpy(yref, y, sizeof(float) * (size_t)ny * n);
            for (q = 0; q < ny; q++)
                for (k = 0; k < n; k++)
                    for (e = 0; e < nx; e++) yref[q * n + k] = fmaf(alpha[e * ny + q], x[e * n + k], yref[q * n + k]);
            kr->madd(yp, ny, xp, alpha, nx, n);
            for (k = 0; k < ny * n; k++)
                if (exact ? y[k] != yref[k] : fabsf(y[k] - yref[k]) > 1e-5f * (1.0f + fabsf(yref[k]))) bad_madd++;
            /* scatter = madd's update plus the dots of each x with the first nt rows of t */
            memcpy(yref, y, sizeof(float) * (size_t)ny * n);
            for (q = 0; q < ny; q++)
                for (k = 0; k < n; k++)
                    for (e = 0; e < nx; e++) yref[q * n + k] = fmaf(alpha[e * ny + q], x[e * n + k], yref[q * n + k]);
            kr->scatter(yp, ny, xp, alpha, nx, n, tp, ny - 1, dots);
            for (k = 0; k < ny * n; k++)
                if (exact ? y[k] != yref[k] : fabsf(y[k] - yref[k]) > 1e-5f * (1.0f + fabsf(yref[k]))) bad_madd++;
            for (e = 0; e < nx; e++)
                for (q = 0; q < ny - 1; q++) {
                    float lane[16] = {0}, ref = 0.0f;
                    for (k = 0; k < n; k++) lane[k % 16] = fmaf(x[e * n + k], t[q * n + k], lane[k % 16]);
                    for (l = 0; l < 16; l++) ref += lane[l];
                    if (exact ? dots[e * (ny - 1) + q] != ref : fabsf(dots[e * (ny - 1) + q] - ref) > 1e-4f * (1.0f + fabsf(ref)))
                        bad_dots++;
                }
            free(x); free(y); free(t); free(yref); free(alpha); free(dots);
        }
    n_pass += bad_madd == 0; n_fail += bad_madd != 0;
    if (bad_madd) printf("FAIL %s madd/scatter: %d elements differ from y += alpha*x fused in order\n", kr->name, bad_madd);
    n_pass += bad_dots == 0; n_fail += bad_dots != 0;
    if (bad_dots) printf("FAIL %s scatter dots: %d differ from the 16-lane fused sum\n", kr->name, bad_dots);
}

/* grok__expf against expl: within 2 ulps of exp(t) wherever that is a normal float (t from 0
   down to GROK__EXP_MIN, every 97th float), exactly 1 at 0, 0 below, NaN kept. Then the
   kernel's softmax against the portable one, to the bit (both use grok__expf's steps with
   one rounding each): rows with ties, tails of every length, -inf and very negative entries;
   the first maximum; the sum against a long double sum of the numerators, to n double ulps. */
static void test_softmax(void)
{
    const grok__kernel *kr = grok__kernel_get();
    static const int ns[] = { 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 113, 128, 257 };
    float t = 0.0f, worst_t = 0.0f, e[257], eref[257], x[257];
    double worst = 0.0;
    uint32_t u;
    int in, rep, v, bad_exp = 0, bad_soft = 0;
    for (u = 0x80000000u; t >= GROK__EXP_MIN; u += 97) {
        long double ref;
        double ulps;
        memcpy(&t, &u, 4);
        if (t < GROK__EXP_MIN) break;
        ref = expl((long double)t);
        ulps = (double)(fabsl((long double)grok__expf(t) - ref) / (ldexpl(1.0L, ilogbl(ref) - 23)));
        if (ulps > worst) { worst = ulps; worst_t = t; }
    }
    bad_exp += worst > 2.0;
    bad_exp += grok__expf(0.0f) != 1.0f || grok__expf(-0.0f) != 1.0f;
    bad_exp += grok__expf(-87.34f) != 0.0f || grok__expf(-1000.0f) != 0.0f || grok__expf(-INFINITY) != 0.0f;
    bad_exp += !isnan(grok__expf(NAN));
    n_pass += bad_exp == 0; n_fail += bad_exp != 0;
    if (bad_exp) printf("FAIL grok__expf: worst %.3f ulps at t = %.9g, or wrong at 0, -inf, NaN\n", worst, (double)worst_t);
    for (in = 0; in < (int)(sizeof ns / sizeof *ns); in++)
        for (rep = 0; rep < 20; rep++) {
            int n = ns[in], best = -1, bref = -1;
            double sum, sref;
            long double exact = 0;
            for (v = 0; v < n; v++) x[v] = (float)(8.0 * urand());
            if (rep % 4 == 1) for (v = 0; v < n; v++) x[v] = (float)irand(3); /* ties for the maximum */
            if (rep % 4 == 2 && n > 2) { x[irand(n)] = -INFINITY; x[irand(n)] = -95.0f; x[irand(n)] = 40.0f; }
            sum = kr->softmax(e, x, n, &best);
            sref = grok__softmax_generic(eref, x, n, &bref);
            for (v = 0; v < n; v++) exact += e[v];
            bad_soft += best != bref || memcmp(&sum, &sref, sizeof sum) != 0 || memcmp(e, eref, sizeof(float) * (size_t)n) != 0;
            for (v = 0; v < best; v++) bad_soft += x[v] >= x[best];
            for (v = best; v < n; v++) bad_soft += x[v] > x[best];
            /* summing n positive terms in any order errs by at most (n - 1) double ulps of the
               sum (valgrind runs long double as double, so exact itself is only that close) */
            bad_soft += e[best] != 1.0f || fabsl(sum - exact) > (long double)n * 2.3e-16L * exact;
        }
    n_pass += bad_soft == 0; n_fail += bad_soft != 0;
    if (bad_soft) printf("FAIL %s softmax: %d rows differ from the portable kernel or the first maximum\n", kr->name, bad_soft);
}

/* The kernel's AdamW update against the portable loop, to the bit, over lengths that leave
   every tail; v stays >= 0 as in training. Both report a non-finite updated weight (the NaN
   guard's flag): none here, then an infinity or a NaN planted at each end of the vector. */
static void test_adamw(void)
{
    const grok__kernel *kr = grok__kernel_get();
    static const long ns[] = { 1, 7, 8, 15, 16, 17, 33, 1000 };
    grok__adamw_consts c = { 0.999f, 0.1f, 0.98f, 0.02f, 1.3e-3f, 0.37f, 1e-8f };
    int in, bad = 0, bad_flag = 0;
    for (in = 0; in < (int)(sizeof ns / sizeof *ns); in++) {
        long n = ns[in], i;
        int plant;
        float *b = alloc_fill((size_t)n * 8), *p = b, *m = b + n, *v = b + 2 * n, *g = b + 3 * n;
        float *p2 = b + 4 * n, *m2 = b + 5 * n, *v2 = b + 6 * n;
        for (i = 0; i < n; i++) v[i] = fabsf(v[i]) * 1e-3f;
        for (plant = 0; plant < 3; plant++) {
            int f1, f2;
            if (plant == 1) p[0] = INFINITY;
            if (plant == 2) { p[0] = 0.5f; g[n - 1] = NAN; }
            memcpy(p2, p, sizeof(float) * (size_t)n * 3);
            f1 = kr->adamw(p, m, v, g, n, &c);
            f2 = grok__adamw_generic(p2, m2, v2, g, n, &c);
            bad += memcmp(p, p2, sizeof(float) * (size_t)n * 3) != 0 && plant == 0;
            bad_flag += (f1 != 0) != (plant != 0) || (f2 != 0) != (plant != 0);
        }
        free(b);
    }
    n_pass += bad == 0; n_fail += bad != 0;
    if (bad) printf("FAIL %s adamw: %d lengths differ from the portable update\n", kr->name, bad);
    n_pass += bad_flag == 0; n_fail += bad_flag != 0;
    if (bad_flag) printf("FAIL %s adamw: %d wrong non-finite flags\n", kr->name, bad_flag);
}

/* grok__nonfinite (the NaN guard's gradient pass) over lengths that leave every tail: an
   infinity or a NaN anywhere is found; FLT_MAX, subnormals and zeros are not. */
static void test_nonfinite(void)
{
    static const long ns[] = { 1, 15, 16, 17, 33, 100 };
    int in, bad = 0;
    for (in = 0; in < (int)(sizeof ns / sizeof *ns); in++) {
        long n = ns[in], at;
        float *x = alloc_fill((size_t)n);
        x[0] = FLT_MAX; x[n - 1] = -1e-40f;
        if (n > 2) x[1] = 0.0f;
        bad += grok__nonfinite(x, n) != 0;
        for (at = 0; at < n; at++) {
            float keep = x[at];
            x[at] = at % 3 == 0 ? NAN : at % 3 == 1 ? INFINITY : -INFINITY;
            bad += grok__nonfinite(x, n) != 1;
            x[at] = keep;
        }
        free(x);
    }
    n_pass += bad == 0; n_fail += bad != 0;
    if (bad) printf("FAIL nonfinite: %d wrong answers\n", bad);
}

#if GROK__X86
static void fp_product_task(void *ctx, int t, int n)
{
    volatile float tiny = 1e-20f;
    (void)n;
    ((float *)ctx)[t] = tiny * tiny; /* 1e-40: subnormal, or 0 when flushed */
}

/* Subnormals: grok_gemm runs flushed (FTZ/DAZ) whatever the caller's mode and restores that
   mode; pool workers compute in the caller's mode, whichever way it was last set (1e-40
   products flushed to 0 or kept, the same at 1 and 2 threads). */
static void test_subnormals(void)
{
    const unsigned caller = _mm_getcsr() & ~GROK__FP_FLUSH;
    volatile float tiny = 1e-20f;
    float prod[16], *A, *B, *C;
    int M = 200, N = 120, K = 96, i, th, flush, bad = 0;
    _mm_setcsr(caller | GROK__FP_FLUSH);
    if (tiny * tiny != 0.0f) { /* valgrind, for one, ignores FTZ */
        _mm_setcsr(caller);
        printf("skip subnormals: this CPU (or emulator) does not honour MXCSR.FTZ\n");
        return;
    }
    A = alloc_fill((size_t)M * K); B = alloc_fill((size_t)K * N); C = alloc_fill((size_t)M * N);
    for (i = 0; i < M * K; i++) A[i] = 1e-20f;
    for (i = 0; i < K * N; i++) B[i] = 1e-20f;
    for (th = 1; th <= 2; th++) {
        grok_threads_set(th);
        for (flush = 1; flush >= 0; flush--) { /* the worker's last mode first differs, then agrees */
            _mm_setcsr(caller | (flush ? GROK__FP_FLUSH : 0));
            grok__parallel_for(fp_product_task, prod, 16);
            for (i = 0; i < 16; i++) bad += (prod[i] == 0.0f) != flush;
        }
        _mm_setcsr(caller);
        grok_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
        bad += _mm_getcsr() != caller;
        for (i = 0; i < M * N; i++) bad += C[i] != 0.0f;
    }
    grok_threads_set(0);
    free(A); free(B); free(C);
    n_pass += bad == 0; n_fail += bad != 0;
    if (bad) printf("FAIL subnormals: %d workers, products or modes wrong\n", bad);
}
#endif

static int run_all(void)
{
    static const int sz_full[] = { 0, 1, 2, 3, 5, 7, 13, 14, 15, 16, 17, 29, 31, 32, 33, 47, 64, 97, 127, 129, 168, 169 };
    static const int sz_small[] = { 0, 1, 2, 5, 13, 14, 15, 16, 17, 31, 32, 33 };
    static const float alphas[] = { 1.0f, -0.5f, 2.5f };
    static const float betas[] = { 0.0f, 1.0f, 0.3f };
    const int *sz = small_mode ? sz_small : sz_full;
    int nsz = small_mode ? (int)(sizeof sz_small / sizeof *sz_small) : (int)(sizeof sz_full / sizeof *sz_full);
    int ta, tb, r;
    test_parallel_for();
    test_epilogue();
    test_fold_kernels();
    test_softmax();
    test_adamw();
    test_nonfinite();
#if GROK__X86
    test_subnormals();
#endif
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++) {
            /* random combos of the edge-prone sizes, all alpha/beta/stride variants */
            for (r = 0; r < (small_mode ? 12 : 40); r++)
                run_case(ta, tb, sz[irand(nsz)], sz[irand(nsz)], sz[irand(nsz)],
                         alphas[irand(3)], betas[irand(3)], irand(2) * 3);
            /* K crossing the K block, M/N crossing the cache blocks */
            if (!small_mode) {
                run_case(ta, tb, 37, 45, 257, 1.0f, 0.0f, 0);
                run_case(ta, tb, 30, 70, 600, -0.5f, 0.3f, 5);
                run_case(ta, tb, 337, 33, 300, 1.0f, 1.0f, 1);
                run_case(ta, tb, 15, 1030, 40, 2.5f, 0.0f, 2);
                run_case(ta, tb, 171, 530, 513, 1.0f, 0.3f, 0);
            } else {
                run_case(ta, tb, 15, 33, 260, 1.0f, 0.3f, 1);
            }
            run_case(ta, tb, 3, 4, 0, 1.0f, 0.3f, 1); /* K == 0: C = beta*C */
            run_case(ta, tb, 3, 4, 0, 1.0f, 0.0f, 0);
            if (!small_mode) {
                run_determinism(ta, tb, 301, 517, 300);
                run_determinism(ta, tb, 128, 113, 700);
            } else {
                run_determinism(ta, tb, 33, 70, 270);
            }
        }
    run_partial_strips(0);
    run_partial_strips(1);
    if (!small_mode) {
        run_determinism(0, 0, 3830, 113, 128);
        run_determinism(1, 0, 128, 512, 3830);
        run_determinism(0, 1, 1000, 128, 512);
    }
    return n_fail;
}

int main(int argc, char **argv)
{
    small_mode = (argc > 1 && strcmp(argv[1], "--small") == 0) || (getenv("GROK_TEST_QUICK") && *getenv("GROK_TEST_QUICK") &&
                                                                   *getenv("GROK_TEST_QUICK") != '0');
    if (!getenv("GROK_KERNEL")) {
        /* Parent: one child per kernel; a kernel the CPU lacks falls back. */
        static const char *kernels[] = { "avx512", "avx2", "generic" };
        int k, tp = 0, tf = 0, bad = 0;
        for (k = 0; k < 3; k++) {
            char cmd[4096], line[512];
            int p = 0, f = 0;
            FILE *fp;
            snprintf(cmd, sizeof cmd, "GROK_KERNEL=%s %s %s", kernels[k], argv[0], small_mode ? "--small" : "");
            fp = popen(cmd, "r");
            if (!fp) return 2;
            while (fgets(line, sizeof line, fp)) {
                char *q = strchr(line, ']');
                if (line[0] != '[') fputs(line, stdout);
                if (line[0] == '[' && q) sscanf(q + 1, "%d passed, %d failed", &p, &f);
            }
            if (pclose(fp) != 0 && f == 0) f = 1; /* crash counts as failure */
            tp += p;
            tf += f;
            bad |= f != 0;
        }
        printf("gemm: avx512, avx2 and generic kernels (the CPU's best where it lacks one)\n");
        printf("%d passed, %d failed\n", tp, tf);
        return bad;
    }
    run_all();
    printf("[%s] %d passed, %d failed\n", grok_gemm_kernel_name(), n_pass, n_fail);
    return n_fail != 0;
}
