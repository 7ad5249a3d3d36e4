/* Times grok_svd on the W_E shape (113, 128), one matrix and a batch of 113, against
   LAPACKE_dgesdd when built with -DGROK_HAVE_LAPACKE (-llapacke; run with one BLAS thread,
   e.g. OPENBLAS_NUM_THREADS=1). Both compute the thin U, S and Vt; the S-only rows compare
   grok_svd(NULL, S, NULL, ..) with jobz = 'N'. Reports the median of several repetitions. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "bench_common.h"
#ifdef GROK_HAVE_LAPACKE
#include <lapacke.h>
#endif


static void row(const char *what, double ours, double ref)
{
    if (ref > 0) printf("  %-34s %9.3f ms %9.3f ms %7.2f\n", what, ours, ref, ours / ref);
    else printf("  %-34s %9.3f ms %12s %7s\n", what, ours, "-", "-");
}

int main(void)
{
    enum { M = 113, N = 128, K = 113, BATCH = 113 };
    double *A = (double *)malloc(sizeof(double) * BATCH * M * N), *W = (double *)malloc(sizeof(double) * M * N);
    double *U = (double *)malloc(sizeof(double) * M * K), *S = (double *)malloc(sizeof(double) * K);
    double *Vt = (double *)malloc(sizeof(double) * K * N), *S2 = (double *)malloc(sizeof(double) * K);
    double t1, tb, ts, r1 = 0, rb = 0, rs = 0;
    uint64_t s = 88172645463325252ull;
    for (long i = 0; i < (long)BATCH * M * N; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        A[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
    }
    printf("bench_svd: (113, 128) thin SVD, median ms (one thread)%s\n",
#ifdef GROK_HAVE_LAPACKE
           ", ratio = ours / LAPACKE_dgesdd"
#else
           "; built without LAPACKE (no comparison)"
#endif
    );
    printf("  %-34s %12s %12s %7s\n", "", "grok", "dgesdd", "ratio");
    BENCH_TIME_MS(t1, 15, 1, grok_svd(U, S, Vt, A, M, N, 0));
    BENCH_TIME_MS(tb, 3, 1, for (int b = 0; b < BATCH; b++) grok_svd(U, S, Vt, A + (long)b * M * N, M, N, 0));
    BENCH_TIME_MS(ts, 15, 1, grok_svd(NULL, S, NULL, A, M, N, 0));
#ifdef GROK_HAVE_LAPACKE
    double diff = 0;
    {
        double *Ul = (double *)malloc(sizeof(double) * M * K), *Vl = (double *)malloc(sizeof(double) * K * N);
        /* dgesdd overwrites A: each call gets a fresh copy (the copy is ~1 us, inside the time) */
        BENCH_TIME_MS(r1, 15, 1, (memcpy(W, A, sizeof(double) * M * N),
                         LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', M, N, W, N, S2, Ul, K, Vl, N)));
        BENCH_TIME_MS(rb, 3, 1, for (int b = 0; b < BATCH; b++) {
            memcpy(W, A + (long)b * M * N, sizeof(double) * M * N);
            LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', M, N, W, N, S2, Ul, K, Vl, N);
        });
        BENCH_TIME_MS(rs, 15, 1, (memcpy(W, A, sizeof(double) * M * N),
                         LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', M, N, W, N, S2, NULL, K, NULL, N)));
        grok_svd(NULL, S, NULL, A, M, N, 0);
        for (int i = 0; i < K; i++) diff = fmax(diff, fabs(S[i] - S2[i]) / S2[0]);
        free(Ul);
        free(Vl);
    }
#endif
    row("single (113, 128), U S Vt", t1, r1);
    row("batch of 113, U S Vt", tb, rb);
    row("single, S only", ts, rs);
#ifdef GROK_HAVE_LAPACKE
    printf("  max |S - S_lapack| / S_max = %.2e\n", diff);
#endif
    free(A); free(W); free(U); free(S); free(Vt); free(S2);
    return 0;
}
