/* bench/gemm: GFLOP/s of grok_gemm on the folded training step's shapes (and other paths' and 1024^3), 1 and 2 threads,
   the best of 3 rounds of the median of several reps; built with -DGROK_HAVE_CBLAS (make bench-compare) also OpenBLAS's
   sgemm in the same run, and the ratio. Usage: bench/gemm [reps]; writes bench/results/gemm.txt.
   GROK_KERNEL selects the kernel as usual. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "bench_common.h"

#ifdef GROK_HAVE_CBLAS
#include <cblas.h>
#endif

typedef struct { int ta, tb, M, N, K; } shape;

/* Median seconds of `reps` calls (after three warm-ups: the first calls after a thread-count change
   also wake and migrate the new threads); blas selects OpenBLAS. */
static double time_gemm(const shape *s, const float *A, const float *B, float *C, int reps, int blas)
{
    double t[64];
    int r, lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    for (r = -3; r < reps; r++) {
        double t0 = bench_now();
        if (!blas)
            grok_gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
#ifdef GROK_HAVE_CBLAS
        else
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                        s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
#endif
        if (r >= 0) t[r] = bench_now() - t0;
    }
    return bench_median(t, reps);
}

#define NSHAPES 14
#define ROUNDS 3
#define NSTEP 8

int main(int argc, char **argv)
{
    /* The canonical training step's GEMMs on the folded path (the first NSTEP: mlp_post @ W_out W_U
       and its two gradients, the fold table and its two gradients, the QKV table and its weight
       gradient), the trimmed path's MLP GEMMs (one layer with LayerNorm, 3830 rows), the general
       path's QKV projection (11490 rows), and a square reference. */
    static const shape shapes[NSHAPES] = {
        { 0, 0, 3830, 113, 512 }, { 1, 0, 113, 512, 3830 }, { 0, 1, 3830, 512, 113 },
        { 0, 0, 911, 625, 128 }, { 1, 0, 128, 625, 911 }, { 0, 1, 911, 128, 625 },
        { 0, 0, 342, 384, 128 }, { 1, 0, 128, 384, 342 },
        { 0, 0, 3830, 512, 128 }, { 0, 0, 3830, 128, 512 }, { 1, 0, 128, 512, 3830 }, { 0, 1, 3830, 512, 128 },
        { 0, 0, 11490, 384, 128 },
        { 0, 0, 1024, 1024, 1024 },
    };
    double g[NSHAPES][2], o[NSHAPES][2], worst[2] = {1e9, 1e9};
    int reps = argc > 1 ? atoi(argv[1]) : 15, i, th, lib, rnd, have_blas = 0;
    FILE *out;
    if (reps < 1) reps = 1;
    if (reps > 64) reps = 64;
#ifdef GROK_HAVE_CBLAS
    have_blas = 1;
#endif
    /* Rounds of all of grok.h's runs, then all of OpenBLAS's, each shape's figure the best round's
       median: on a shared machine a slow spell then hits one round, not one library. After
       OpenBLAS's runs a pause: its idle threads spin for a while and would steal the second core. */
    for (i = 0; i < NSHAPES; i++) g[i][0] = g[i][1] = o[i][0] = o[i][1] = 0.0;
    for (rnd = 0; rnd < ROUNDS; rnd++)
        for (lib = 0; lib <= have_blas; lib++) {
            for (i = 0; i < NSHAPES; i++) {
                const shape *s = &shapes[i];
                size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N, j;
                float *A = (float *)malloc(na * sizeof(float)), *B = (float *)malloc(nb * sizeof(float));
                float *C = (float *)malloc(nc * sizeof(float));
                double flops = 2.0 * s->M * s->N * s->K, gf;
                for (j = 0; j < na; j++) A[j] = (float)((j * 7 % 13) - 6) * 0.1f;
                for (j = 0; j < nb; j++) B[j] = (float)((j * 5 % 11) - 5) * 0.1f;
                for (th = 1; th <= 2; th++) {
                    if (lib == 0) grok_threads_set(th);
#ifdef GROK_HAVE_CBLAS
                    else openblas_set_num_threads(th);
#endif
                    gf = flops / time_gemm(s, A, B, C, reps, lib) * 1e-9;
                    if (gf > (lib ? o : g)[i][th - 1]) (lib ? o : g)[i][th - 1] = gf;
                }
                free(A); free(B); free(C);
            }
            if (lib) bench_sleep(0.5);
        }
    out = fopen("bench/results/gemm.txt", "w");
    printf("grok_gemm, kernel %s, GFLOP/s: best of %d rounds of the median of %d reps (M N K: C (M,N) = op(A) (M,K) op(B) (K,N))\n",
           grok_gemm_kernel_name(), ROUNDS, reps);
    printf("%-3s %5s %5s %5s | %7s %7s", "op", "M", "N", "K", "grok1", "grok2");
    if (have_blas) printf(" | %7s %7s | %6s %6s", "oblas1", "oblas2", "ratio1", "ratio2");
    printf("\n");
    for (i = 0; i < NSHAPES; i++) {
        const shape *s = &shapes[i];
        printf("%c%c  %5d %5d %5d | %7.1f %7.1f", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, g[i][0], g[i][1]);
        if (out) fprintf(out, "%c%c %d %d %d grok1=%.1f grok2=%.1f", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N',
                         s->M, s->N, s->K, g[i][0], g[i][1]);
        if (have_blas) {
            printf(" | %7.1f %7.1f | %6.2f %6.2f", o[i][0], o[i][1], g[i][0] / o[i][0], g[i][1] / o[i][1]);
            if (out) fprintf(out, " openblas1=%.1f openblas2=%.1f", o[i][0], o[i][1]);
            for (th = 0; th < 2 && i < NSTEP; th++)
                if (g[i][th] / o[i][th] < worst[th]) worst[th] = g[i][th] / o[i][th];
        }
        if (out) fprintf(out, "\n");
        printf("\n");
    }
    if (have_blas)
        printf("worst ratio grok/OpenBLAS on the folded training step's shapes: %.2f (1 thread), %.2f (2 threads)\n",
               worst[0], worst[1]);
    if (out) fclose(out);
    return 0;
}
