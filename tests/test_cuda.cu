/* tests/test_cuda: grok_cuda.cu against grok.h's CPU path (make cuda builds it with nvcc).
   This file includes grok.h's implementation and grok_cuda.cu itself, so that every kernel
   is checked alone against grok.h's CPU function for it (or a plain reference here) before
   the model-level checks: forward logits, loss and accuracy, every parameter's gradient,
   frozen parameters untouched, AdamW steps (bitwise), determinism, training epochs with and
   without the CUDA graph, and grok_train_cuda's files against grok_train's; the same for
   seed 003's nets (BilinearNet, OneLayerMLP) against grok_net_forward, _backward,
   _adamw_step, the grok_net_train loop and grok_net_train's files.
   Some checks need no device and run everywhere: the kernels' item functions (GC_HD) run on
   the host against grok.h's CPU functions (index arithmetic, and the same bits where the math
   is the same), the GEMM wrappers' row-major to column-major mapping through a host
   column-major reference standing in for cuBLAS (a NULL handle selects it), the CSR builder,
   and the API's clean GROK_ERR_ARG without a device. Without a CUDA device (cudaGetDeviceCount
   = 0) a skip line says that the device comparisons did not run, and the closing line is
   "N passed, 0 failed" as for every test.
   Built with -DGROK_TEST_CUDA_HOST (tests/test_cuda_host) the CUDA runtime, cuBLAS and every
   kernel launch are served on the host (tests/cuda_host.h), and the model, training and
   driver checks run grok_cuda.cu's whole orchestration against the CPU path on any machine. */
#define GROK_IMPLEMENTATION
#define GROK_CUDA
#include "../grok.h"
#include "check.h"
#include <cublas_v2.h>

/* cuBLAS as grok_cuda.cu calls it: the real library for a real handle, a plain column-major
   reference on host memory for a NULL one (the BLAS definitions: op(A) is m x k, C is m x n,
   element (i, j) of a matrix at i + j * ld). */
static float cm_at(const float *A, int lda, int trans, int i, int j) { return trans ? A[j + (long)i * lda] : A[i + (long)j * lda]; }

static cublasStatus_t test_sgemm_strided(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float *alpha, const float *A, int lda, long long sA,
                                         const float *B, int ldb, long long sB, const float *beta, float *C, int ldc,
                                         long long sC, int batch)
{
    if (h) return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, batch);
    for (int q = 0; q < batch; q++)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double acc = 0.0;
                float *c = C + q * sC + i + (long)j * ldc;
                for (int p = 0; p < k; p++)
                    acc += (double)cm_at(A + q * sA, lda, ta != CUBLAS_OP_N, i, p) * cm_at(B + q * sB, ldb, tb != CUBLAS_OP_N, p, j);
                *c = (float)(*alpha * acc + (*beta != 0.0f ? *beta * *c : 0.0f));
            }
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t test_sgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                 const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                                 float *C, int ldc)
{
    if (h) return cublasSgemm_v2(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return test_sgemm_strided(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

static cublasStatus_t test_sgemv(cublasHandle_t h, cublasOperation_t t, int m, int n, const float *alpha, const float *A,
                                 int lda, const float *x, int incx, const float *beta, float *y, int incy)
{
    if (h) return cublasSgemv_v2(h, t, m, n, alpha, A, lda, x, incx, beta, y, incy);
    if (t != CUBLAS_OP_N) return CUBLAS_STATUS_NOT_SUPPORTED;
    for (int i = 0; i < m; i++) {
        double acc = 0.0;
        for (int j = 0; j < n; j++) acc += (double)A[i + (long)j * lda] * x[(long)j * incx];
        y[(long)i * incy] = (float)(*alpha * acc + (*beta != 0.0f ? *beta * y[(long)i * incy] : 0.0f));
    }
    return CUBLAS_STATUS_SUCCESS;
}

#undef cublasSgemm
#undef cublasSgemv
#define cublasSgemm test_sgemm
#define cublasSgemv test_sgemv
#define cublasSgemmStridedBatched test_sgemm_strided
#ifdef GROK_TEST_CUDA_HOST
#include "cuda_host.h"
#endif
#include "../grok_cuda.cu"
#ifdef GROK_TEST_CUDA_HOST
#include "cuda_host_kernels.h"
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cublasHandle_t blas;

/* ------------------------------------------------------------- helpers */

#ifndef GROK_TEST_CUDA_HOST /* real device memory */
static void *dput(const void *h, size_t bytes)
{
    void *d = NULL;
    if (cudaMalloc(&d, bytes ? bytes : 1) != cudaSuccess) { printf("cudaMalloc failed\n"); exit(2); }
    if (h && cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice) != cudaSuccess) { printf("cudaMemcpy failed\n"); exit(2); }
    return d;
}

static void dget(void *h, const void *d, size_t bytes)
{
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) e = cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost);
    CHECK(e == cudaSuccess, "device: %s", cudaGetErrorString(e));
}

#endif

static void fill(float *x, long n, grok_rng *r, double scale)
{
    for (long i = 0; i < n; i++) x[i] = (float)(grok_rng_normal(r) * scale);
}

/* max |a - b| / max |b| (b the CPU's) */
static double rel_err(const float *a, const float *b, long n)
{
    double d = 0.0, s = 1e-30;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e; /* NaN sticks */
        if (fabs((double)b[i]) > s) s = fabs((double)b[i]);
    }
    return d / s;
}

static float *fnew(long n) { return (float *)calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

#ifndef GROK_TEST_CUDA_HOST
/* ----------------------------------------------------- kernels, one by one */

static void test_kernels(void)
{
    grok_rng rng;
    const int B = 13, T = 3, R = B * T, C = 40, Vin = 11, V = 37, H = 2, D = 5, M = 24;
    const long HD = (long)H * D;
    int *tok = (int *)malloc(sizeof(int) * R), *tgt = (int *)malloc(sizeof(int) * R);
    float *a = fnew(R * 64), *b = fnew(R * 64), *c = fnew(R * 64), *d = fnew(R * 64), *e = fnew(R * 64);
    float *w = fnew(64), *bias = fnew(64), *mean = fnew(R), *rstd = fnew(R), *h1 = fnew(R * 64), *h2 = fnew(R * 64);
    float *ones = fnew(R);
    float *d_a, *d_b, *d_c, *d_w, *d_bias, *d_mean, *d_rstd, *d_ones;
    int *d_tok, *d_tgt, *d_off, *d_rows, csr[2 * 11 + 1 + 39];
    grok_rng_seed(&rng, 7);
    for (int r = 0; r < R; r++) {
        tok[r] = (int)grok_rng_below(&rng, Vin);
        tgt[r] = r % 4 == 1 ? -1 : (int)grok_rng_below(&rng, V);
    }
    for (int r = 0; r < R; r++) ones[r] = 1.0f;
    d_tok = (int *)dput(tok, sizeof(int) * R);
    d_tgt = (int *)dput(tgt, sizeof(int) * R);
    d_ones = (float *)dput(ones, sizeof(float) * R);

    /* embedding gather: the same bits */
    fill(a, Vin * C, &rng, 1.0); fill(b, T * C, &rng, 1.0);
    grok__embed_forward(c, tok, a, b, R, T, C);
    d_a = (float *)dput(a, sizeof(float) * Vin * C); d_b = (float *)dput(b, sizeof(float) * T * C);
    d_c = (float *)dput(NULL, sizeof(float) * R * C);
    k_embed_forward<<<gc_grid((long)R * C), 256>>>(d_c, d_tok, d_a, d_b, R, T, C);
    dget(d, d_c, sizeof(float) * R * C);
    CHECK(memcmp(c, d, sizeof(float) * R * C) == 0, "k_embed_forward differs from grok__embed_forward");

    /* embedding scatter-add through the CSR: the same bits; W_pos by column sums */
    fill(a, R * C, &rng, 1.0);                       /* dout */
    fill(b, Vin * C, &rng, 1.0); memcpy(e, b, sizeof(float) * Vin * C);  /* dW_E, added into */
    fill(h1, T * C, &rng, 1.0); memcpy(h2, h1, sizeof(float) * T * C);  /* dW_pos */
    grok__embed_backward(b, h1, a, tok, R, T, C);
    gc_csr(csr, csr + Vin + 1, csr + Vin + 1 + R, tok, R, Vin);
    d_off = (int *)dput(csr, sizeof(int) * (Vin + 1)); d_rows = (int *)dput(csr + Vin + 1, sizeof(int) * R);
    cudaFree(d_a); cudaFree(d_b); cudaFree(d_c);
    d_a = (float *)dput(a, sizeof(float) * R * C); d_b = (float *)dput(e, sizeof(float) * Vin * C);
    d_c = (float *)dput(h2, sizeof(float) * T * C);
    k_embed_backward<<<Vin, GC_THREADS>>>(d_b, d_a, d_off, d_rows, Vin, C);
    CHECK(gc_colsum_add(blas, d_c, d_a, B, T * C, T * C, d_ones) == GROK_OK, "gc_colsum_add");
    dget(d, d_b, sizeof(float) * Vin * C);
    CHECK(memcmp(b, d, sizeof(float) * Vin * C) == 0, "k_embed_backward differs from grok__embed_backward");
    dget(d, d_c, sizeof(float) * T * C);
    CHECK(rel_err(d, h1, T * C) < 1e-5, "dW_pos column sums: rel err %g", rel_err(d, h1, T * C));
    cudaFree(d_a); cudaFree(d_b); cudaFree(d_c); cudaFree(d_off); cudaFree(d_rows);

    /* LayerNorm forward and backward */
    fill(a, R * C, &rng, 2.0);
    for (int i = 0; i < C; i++) a[i] += 3.0f; /* an offset row */
    fill(w, C, &rng, 0.3); for (int i = 0; i < C; i++) w[i] += 1.0f;
    fill(bias, C, &rng, 0.3);
    grok__layernorm_forward(c, mean, rstd, a, w, bias, R, C, 1e-5f);
    d_a = (float *)dput(a, sizeof(float) * R * C); d_c = (float *)dput(NULL, sizeof(float) * R * C);
    d_w = (float *)dput(w, sizeof(float) * C); d_bias = (float *)dput(bias, sizeof(float) * C);
    d_mean = (float *)dput(NULL, sizeof(float) * R); d_rstd = (float *)dput(NULL, sizeof(float) * R);
    k_layernorm_forward<<<(R + 3) / 4, GC_THREADS>>>(d_c, d_mean, d_rstd, d_a, d_w, d_bias, R, C, 1e-5f);
    dget(d, d_c, sizeof(float) * R * C);
    CHECK(rel_err(d, c, R * C) < 1e-5, "k_layernorm_forward: rel err %g", rel_err(d, c, R * C));
    dget(d, d_mean, sizeof(float) * R);
    CHECK(rel_err(d, mean, R) < 1e-5, "LayerNorm mean: rel err %g", rel_err(d, mean, R));
    dget(d, d_rstd, sizeof(float) * R);
    CHECK(rel_err(d, rstd, R) < 1e-5, "LayerNorm rstd: rel err %g", rel_err(d, rstd, R));
    {
        grok_cuda g;
        float *dw = fnew(C), *db = fnew(C), *dinp = fnew(R * C), *dout = fnew(R * C);
        float *d_dw, *d_db, *d_dinp, *d_dout;
        memset(&g, 0, sizeof g);
        fill(dout, R * C, &rng, 1.0); fill(dinp, R * C, &rng, 1.0); fill(dw, C, &rng, 1.0); fill(db, C, &rng, 1.0);
        d_dw = (float *)dput(dw, sizeof(float) * C); d_db = (float *)dput(db, sizeof(float) * C);
        d_dinp = (float *)dput(dinp, sizeof(float) * R * C); d_dout = (float *)dput(dout, sizeof(float) * R * C);
        g.blas = blas; g.ones = d_ones; g.xg = (float *)dput(NULL, sizeof(float) * R * C);
        CHECK(gc_layernorm_backward(&g, d_dinp, d_dw, d_db, d_dout, d_a, d_mean, d_rstd, d_w, R, C) == GROK_OK, "ln backward");
        grok__layernorm_backward(dinp, dw, db, dout, a, mean, rstd, w, R, C);
        dget(d, d_dinp, sizeof(float) * R * C);
        CHECK(rel_err(d, dinp, R * C) < 1e-5, "LayerNorm dinp: rel err %g", rel_err(d, dinp, R * C));
        dget(d, d_dw, sizeof(float) * C);
        CHECK(rel_err(d, dw, C) < 1e-5, "LayerNorm dw: rel err %g", rel_err(d, dw, C));
        dget(d, d_db, sizeof(float) * C);
        CHECK(rel_err(d, db, C) < 1e-5, "LayerNorm db: rel err %g", rel_err(d, db, C));
        cudaFree(d_dw); cudaFree(d_db); cudaFree(d_dinp); cudaFree(d_dout); cudaFree(g.xg);
        free(dw); free(db); free(dinp); free(dout);
    }
    cudaFree(d_a); cudaFree(d_c); cudaFree(d_w); cudaFree(d_bias); cudaFree(d_mean); cudaFree(d_rstd);

    /* activations: ReLU bitwise, GeLU to float rounding */
    for (int act = 0; act < 2; act++) {
        long n = (long)R * M;
        fill(a, n, &rng, 2.0); a[0] = 0.0f; a[1] = -0.0f;
        fill(b, n, &rng, 1.0);
        grok__act_forward(c, a, n, (grok_act)act);
        d_a = (float *)dput(a, sizeof(float) * n); d_b = (float *)dput(b, sizeof(float) * n);
        d_c = (float *)dput(NULL, sizeof(float) * n);
        k_act_forward<<<gc_grid(n), 256>>>(d_c, d_a, n, act);
        dget(d, d_c, sizeof(float) * n);
        if (act == GROK_ACT_RELU) CHECK(memcmp(c, d, sizeof(float) * n) == 0, "ReLU forward differs");
        else CHECK(rel_err(d, c, n) < 1e-6, "GeLU forward: rel err %g", rel_err(d, c, n));
        grok__act_backward(c, b, a, n, (grok_act)act);
        k_act_backward<<<gc_grid(n), 256>>>(d_b, d_b, d_a, n, act); /* in place, as the model uses it */
        dget(d, d_b, sizeof(float) * n);
        if (act == GROK_ACT_RELU) CHECK(memcmp(c, d, sizeof(float) * n) == 0, "ReLU backward differs");
        else CHECK(rel_err(d, c, n) < 1e-6, "GeLU backward: rel err %g", rel_err(d, c, n));
        cudaFree(d_a); cudaFree(d_b); cudaFree(d_c);
    }

    /* GEMM wrappers: every transpose against grok_gemm, and the strided batched form */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int Mm = 17, Nn = 23, Kk = 29;
            fill(a, Mm * Kk, &rng, 1.0); fill(b, Kk * Nn, &rng, 1.0); fill(c, Mm * Nn, &rng, 1.0);
            d_a = (float *)dput(a, sizeof(float) * Mm * Kk); d_b = (float *)dput(b, sizeof(float) * Kk * Nn);
            d_c = (float *)dput(c, sizeof(float) * Mm * Nn);
            CHECK(gc_gemm(blas, ta, tb, Mm, Nn, Kk, 0.5f, d_a, ta ? Mm : Kk, d_b, tb ? Kk : Nn, 1.0f, d_c, Nn) == GROK_OK, "gc_gemm");
            grok_gemm(ta, tb, Mm, Nn, Kk, 0.5f, a, ta ? Mm : Kk, b, tb ? Kk : Nn, 1.0f, c, Nn);
            dget(d, d_c, sizeof(float) * Mm * Nn);
            CHECK(rel_err(d, c, Mm * Nn) < 1e-5, "gc_gemm(%d, %d): rel err %g", ta, tb, rel_err(d, c, Mm * Nn));
            cudaFree(d_a); cudaFree(d_b); cudaFree(d_c);
        }
    {
        /* per head h over the batch: (T,T) = q_bh (T,D) k_bh^T inside a (B,T,3,H,D) array */
        long n = (long)R * 3 * HD;
        float scale = 0.7f;
        fill(a, n, &rng, 1.0);
        d_a = (float *)dput(a, sizeof(float) * n); d_c = (float *)dput(NULL, sizeof(float) * B * H * T * T);
        for (int hh = 0; hh < H; hh++)
            CHECK(gc_gemm_batched(blas, 0, 1, T, T, D, scale, d_a + hh * D, 3 * HD, (long)T * 3 * HD, d_a + HD + hh * D,
                                  3 * HD, (long)T * 3 * HD, 0.0f, d_c + (long)hh * T * T, T, (long)H * T * T, B) == GROK_OK,
                  "gc_gemm_batched");
        for (int bb = 0; bb < B; bb++)
            for (int hh = 0; hh < H; hh++)
                grok_gemm(0, 1, T, T, D, scale, a + (long)bb * T * 3 * HD + hh * D, 3 * HD,
                          a + (long)bb * T * 3 * HD + HD + hh * D, 3 * HD, 0.0f, c + ((long)bb * H + hh) * T * T, T);
        dget(d, d_c, sizeof(float) * B * H * T * T);
        CHECK(rel_err(d, c, (long)B * H * T * T) < 1e-5, "gc_gemm_batched: rel err %g", rel_err(d, c, (long)B * H * T * T));
        cudaFree(d_a); cudaFree(d_c);
    }

    /* attention softmax (in place, causal) and its backward against plain references */
    {
        long rows = (long)B * H * T, n = rows * T;
        float scale = 0.45f;
        fill(a, n, &rng, 2.0);
        memcpy(c, a, sizeof(float) * n);
        grok__attention_forward(h2, a, b, h2, B, T, H, D, GROK__ATTN_SOFTMAX); /* scores a -> pattern b */
        d_c = (float *)dput(c, sizeof(float) * n);
        k_attn_softmax<<<gc_grid(rows), 256>>>(d_c, rows, T);
        dget(d, d_c, sizeof(float) * n);
        CHECK(rel_err(d, b, n) < 2e-6, "k_attn_softmax: rel err %g", rel_err(d, b, n));
        fill(e, n, &rng, 1.0); /* dpattern */
        for (long i = 0; i < rows; i++) {
            int t = (int)(i % T);
            double dot = 0.0;
            for (int u = 0; u <= t; u++) dot += (double)b[i * T + u] * e[i * T + u];
            for (int u = 0; u < T; u++) h1[i * T + u] = u <= t ? (float)(b[i * T + u] * (e[i * T + u] - dot) * scale) : 0.0f;
        }
        d_a = (float *)dput(e, sizeof(float) * n);
        k_attn_softmax_backward<<<gc_grid(rows), 256>>>(d_a, d_c, rows, T, scale);
        dget(d, d_a, sizeof(float) * n);
        CHECK(rel_err(d, h1, n) < 1e-5, "k_attn_softmax_backward: rel err %g", rel_err(d, h1, n));
        cudaFree(d_a); cudaFree(d_c);
    }

    /* cross-entropy forward, loss sums and backward against grok.h's */
    {
        double *rs = (double *)calloc(R, sizeof(double)), *rl = (double *)calloc(R, sizeof(double));
        double *grs = (double *)calloc(R, sizeof(double)), *grl = (double *)calloc(R, sizeof(double)), sums[2];
        int *rc = (int *)calloc(R, sizeof(int)), *grc = (int *)calloc(R, sizeof(int)), nt = 0, ok = 1;
        double *d_rs, *d_rl, *d_stats, lsum = 0.0, csum = 0.0;
        int *d_rc;
        fill(a, (long)R * V, &rng, 3.0);
        a[6 * V + 3] = a[6 * V + 9] = 50.0f; /* a tie for the maximum: the first one wins */
        grok__crossentropy_forward(c, rs, rl, rc, a, tgt, R, V, GROK_LOSS_SOFTMAX);
        d_a = (float *)dput(a, sizeof(float) * R * V); d_c = (float *)dput(NULL, sizeof(float) * R * V);
        d_rs = (double *)dput(NULL, sizeof(double) * R); d_rl = (double *)dput(NULL, sizeof(double) * R);
        d_rc = (int *)dput(NULL, sizeof(int) * R); d_stats = (double *)dput(NULL, sizeof(double) * 2);
        k_ce_forward<<<R, GC_THREADS>>>(d_c, d_rs, d_rl, d_rc, d_a, d_tgt, R, V);
        k_loss_sum<<<1, GC_THREADS>>>(d_stats, NULL, d_rl, d_rc, d_tgt, R, 0);
        dget(grs, d_rs, sizeof(double) * R); dget(grl, d_rl, sizeof(double) * R); dget(grc, d_rc, sizeof(int) * R);
        dget(sums, d_stats, sizeof(double) * 2);
        for (int r = 0; r < R; r++) {
            if (tgt[r] < 0) continue;
            nt++;
            lsum += rl[r]; csum += rc[r];
            if (fabs(grs[r] - rs[r]) > 1e-6 * rs[r] || fabs(grl[r] - rl[r]) > 1e-6 * (1.0 + rl[r]) || grc[r] != rc[r]) ok = 0;
        }
        CHECK(ok, "k_ce_forward: row sums, losses or argmax differ");
        CHECK(fabs(sums[0] - lsum) <= 1e-9 * lsum && sums[1] == csum, "k_loss_sum: %g %g vs %g %g", sums[0], sums[1], lsum, csum);
        grok__crossentropy_backward(c, rs, tgt, R, V, 1.0 / nt, GROK_LOSS_SOFTMAX);
        k_ce_backward<<<R, GC_THREADS>>>(d_c, d_rs, d_tgt, R, V, 1.0 / nt);
        dget(d, d_c, sizeof(float) * R * V);
        CHECK(rel_err(d, c, (long)R * V) < 1e-5, "k_ce_backward: rel err %g", rel_err(d, c, (long)R * V));
        cudaFree(d_a); cudaFree(d_c); cudaFree(d_rs); cudaFree(d_rl); cudaFree(d_rc); cudaFree(d_stats);
        free(rs); free(rl); free(grs); free(grl); free(rc); free(grc);
    }

    /* Q/K/V packing and the unpacking of its gradient: the same bits */
    {
        float *W[3], *bb[3], *dW[3], *dWd[3], *dev[6], *dWc[3];
        long nw = (long)H * C * D;
        for (int s = 0; s < 3; s++) {
            W[s] = fnew(nw); bb[s] = fnew(HD); dW[s] = fnew(nw); dWd[s] = fnew(nw);
            fill(W[s], nw, &rng, 1.0); fill(bb[s], HD, &rng, 1.0); fill(dW[s], nw, &rng, 1.0);
            dev[s] = (float *)dput(W[s], sizeof(float) * nw); dev[3 + s] = (float *)dput(bb[s], sizeof(float) * HD);
        }
        grok__qkv_pack(c, d, W, bb, C, H, D);
        d_a = (float *)dput(NULL, sizeof(float) * C * 3 * HD); d_b = (float *)dput(NULL, sizeof(float) * 3 * HD);
        k_qkv_pack<<<gc_grid((long)C * 3 * HD + 3 * HD), 256>>>(d_a, d_b, dev[0], dev[1], dev[2], dev[3], dev[4], dev[5], C, H, D);
        dget(e, d_a, sizeof(float) * C * 3 * HD);
        CHECK(memcmp(c, e, sizeof(float) * C * 3 * HD) == 0, "k_qkv_pack (weights) differs");
        dget(e, d_b, sizeof(float) * 3 * HD);
        CHECK(memcmp(d, e, sizeof(float) * 3 * HD) == 0, "k_qkv_pack (biases) differs");
        fill(c, (long)C * 3 * HD, &rng, 1.0);
        cudaMemcpy(d_a, c, sizeof(float) * C * 3 * HD, cudaMemcpyHostToDevice);
        for (int s = 0; s < 3; s++) cudaMemcpy(dev[s], dW[s], sizeof(float) * nw, cudaMemcpyHostToDevice);
        k_qkv_unpack_add<<<gc_grid((long)C * 3 * HD), 256>>>(dev[0], NULL, dev[2], d_a, C, H, D); /* K frozen */
        dWc[0] = dW[0]; dWc[1] = NULL; dWc[2] = dW[2];
        grok__qkv_unpack_add(dWc, c, C, H, D);
        for (int s = 0; s < 3; s += 2) {
            dget(dWd[s], dev[s], sizeof(float) * nw);
            CHECK(memcmp(dWd[s], dW[s], sizeof(float) * nw) == 0, "k_qkv_unpack_add differs (part %d)", s);
        }
        dget(dWd[1], dev[1], sizeof(float) * nw);
        CHECK(memcmp(dWd[1], dW[1], sizeof(float) * nw) == 0, "k_qkv_unpack_add wrote a frozen part");
        for (int s = 0; s < 3; s++) { free(W[s]); free(bb[s]); free(dW[s]); free(dWd[s]); cudaFree(dev[s]); cudaFree(dev[3 + s]); }
        cudaFree(d_a); cudaFree(d_b);
    }

    {   /* BilinearNet's product and its backward: the same bits as grok_net's (xy (2R,24)
           fits the R*64 host buffers) */
        long n = (long)R * 24;
        int ok = 1;
        fill(a, 2 * n, &rng, 1.0); fill(b, n, &rng, 1.0);
        d_a = (float *)dput(a, sizeof(float) * 2 * n); d_b = (float *)dput(b, sizeof(float) * n);
        d_c = (float *)dput(NULL, sizeof(float) * 2 * n);
        k_bilinear_forward<<<gc_grid(n), 256>>>(d_c, d_a, n);
        dget(c, d_c, sizeof(float) * n);
        for (long i = 0; i < n; i++) ok &= c[i] == a[i] * a[n + i];
        CHECK(ok, "k_bilinear_forward differs from x_embed * y_embed");
        k_bilinear_backward<<<gc_grid(n), 256>>>(d_c, d_b, d_a, n);
        dget(c, d_c, sizeof(float) * 2 * n);
        for (long i = 0; i < n; i++) ok &= c[i] == b[i] * a[n + i] && c[n + i] == b[i] * a[i];
        CHECK(ok, "k_bilinear_backward differs from grok_net_backward's products");
        cudaFree(d_a); cudaFree(d_b); cudaFree(d_c);
    }
    cudaFree(d_tok); cudaFree(d_tgt); cudaFree(d_ones);
    free(tok); free(tgt); free(a); free(b); free(c); free(d); free(e); free(w); free(bias); free(mean); free(rstd);
    free(h1); free(h2); free(ones);
}

#endif

/* --------------------------------------------------- the model against the CPU */

static double half_schedule(long step, void *ctx) { (void)ctx; return step % 2 ? 0.5 : 1.0; }

static void randomise(grok_model *m, uint64_t seed)
{
    grok_rng rng;
    grok_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        int lnw = strstr(p->name, "ln") && p->name[strlen(p->name) - 1] == 'w';
        for (size_t j = 0; j < p->numel; j++)
            m->weights[p->offset + j] = (float)((lnw ? 1.0 : 0.0) + grok_rng_normal(&rng) * (lnw ? 0.1 : 0.3));
    }
}

static void test_model(const char *label, grok_config cfg, int B, int all_positions, const char *freeze1,
                       const char *freeze2)
{
    grok_model m, m2;
    grok_cuda *g = NULL;
    grok_rng rng;
    int T = cfg.n_ctx, R, n_t = 0, st;
    int *tok, *tgt;
    float *logits, *glogits, *g1;
    double loss, acc, gl, ga;
    printf("model %s\n", label);
    if (grok_model_init(&m, &cfg, B) != GROK_OK || grok_model_init(&m2, &cfg, B) != GROK_OK) {
        CHECK(0, "%s: grok_model_init", label);
        return;
    }
    R = B * T;
    m.general_path = 1;
    if (freeze1) grok_model_set_trainable(&m, freeze1, 0);
    if (freeze2) grok_model_set_trainable(&m, freeze2, 0);
    randomise(&m, 11);
    tok = (int *)malloc(sizeof(int) * R); tgt = (int *)malloc(sizeof(int) * R);
    logits = fnew((long)R * m.cfg.d_vocab_out); glogits = fnew((long)R * m.cfg.d_vocab_out);
    g1 = fnew((long)m.num_parameters);
    grok_rng_seed(&rng, 5);
    for (int r = 0; r < R; r++) {
        tok[r] = (int)grok_rng_below(&rng, m.cfg.d_vocab);
        tgt[r] = (all_positions ? r % 5 != 3 : r % T == T - 1) ? (int)grok_rng_below(&rng, m.cfg.d_vocab_out) : -1;
        n_t += tgt[r] >= 0;
    }
    /* gradients start at 0, frozen ones at 0.25: backward must leave those as they are */
    for (int i = 0; i < m.n_params; i++)
        for (size_t j = 0; j < m.params[i].numel; j++) m.grads[m.params[i].offset + j] = m.params[i].trainable ? 0.0f : 0.25f;
    st = grok_cuda_init(&g, &m);
    CHECK(st == GROK_OK, "%s: grok_cuda_init: %s", label, grok_last_error());
    if (st != GROK_OK) goto done;

    CHECK(grok_model_forward(&m, tok, tgt, B, &loss, &acc, logits) == GROK_OK, "CPU forward");
    CHECK(grok_cuda_forward(g, tok, tgt, B, &gl, &ga, glogits) == GROK_OK, "device forward");
    CHECK(rel_err(glogits, logits, (long)R * m.cfg.d_vocab_out) < 1e-4, "%s: logits rel err %g", label,
          rel_err(glogits, logits, (long)R * m.cfg.d_vocab_out));
    CHECK(fabs(gl - loss) <= 1e-4 * fabs(loss), "%s: loss %.9g vs CPU %.9g", label, gl, loss);
    CHECK(fabs(ga - acc) <= 1.0 / n_t + 1e-12, "%s: accuracy %g vs CPU %g", label, ga, acc);

    CHECK(grok_model_backward(&m) == GROK_OK, "CPU backward");
    CHECK(grok_cuda_backward(g) == GROK_OK, "device backward");
    CHECK(grok_cuda_download(g, &m2) == GROK_OK, "download");
    {
        /* Each parameter's error against its own scale, but at least 1e-3 of the largest
           gradient: b_K's true gradient is 0 (a shift of every key's score by q.b_K leaves the
           softmax unchanged), so both sides hold rounding noise there. */
        double gmax = 0.0;
        for (int i = 0; i < m.n_params; i++)
            for (size_t j = 0; m.params[i].trainable && j < m.params[i].numel; j++)
                gmax = fmax(gmax, fabs((double)m.grads[m.params[i].offset + j]));
        for (int i = 0; i < m.n_params; i++) {
            const grok_param *p = &m.params[i];
            const float *cg = m.grads + p->offset, *dg = m2.grads + p->offset;
            double diff = 0.0, scale = 1e-3 * gmax;
            for (size_t j = 0; j < p->numel; j++) {
                diff = fmax(diff, fabs((double)dg[j] - cg[j]));
                scale = fmax(scale, fabs((double)cg[j]));
            }
            if (p->trainable) CHECK(diff <= 1e-4 * scale, "%s: gradient of %s: error %g, scale %g", label, p->name, diff, scale);
            else CHECK(memcmp(dg, cg, sizeof(float) * p->numel) == 0, "%s: frozen %s was written", label, p->name);
        }
    }
    CHECK(grok_cuda_backward(g) == GROK_ERR_ARG, "a second backward without a forward is refused");

    /* determinism: the same forward and backward twice gives the same bits */
    memcpy(g1, m2.grads, sizeof(float) * m.num_parameters);
    CHECK(grok_cuda_upload(g, &m) == GROK_OK && grok_cuda_zero_grad(g) == GROK_OK, "upload, zero_grad");
    CHECK(grok_cuda_forward(g, tok, tgt, B, NULL, NULL, NULL) == GROK_OK && grok_cuda_backward(g) == GROK_OK, "again");
    CHECK(grok_cuda_download(g, &m2) == GROK_OK, "download");
    {
        int same = 1;
        for (int i = 0; i < m.n_params; i++)
            if (m.params[i].trainable && memcmp(g1 + m.params[i].offset, m2.grads + m.params[i].offset,
                                                sizeof(float) * m.params[i].numel) != 0) same = 0;
        CHECK(same, "%s: two identical backward passes differ", label);
    }

    /* AdamW from the CPU's gradients: the same bits, with a schedule */
    m.opt.lr = 1e-2; m.opt.lr_schedule = half_schedule;
    CHECK(grok_cuda_upload(g, &m) == GROK_OK, "upload");
    m2.opt = m.opt; m2.step = m.step;
    for (int k = 0; k < 3; k++) {
        CHECK(grok_model_adamw_step(&m) == GROK_OK, "CPU AdamW");
        CHECK(grok_cuda_adamw_step(g, &m2) == GROK_OK, "device AdamW");
    }
    CHECK(m2.step == m.step, "steps %ld vs %ld", m2.step, m.step);
    CHECK(grok_cuda_download(g, &m2) == GROK_OK, "download");
    CHECK(memcmp(m.weights, m2.weights, sizeof(float) * m.num_parameters) == 0, "%s: AdamW weights differ", label);
    CHECK(memcmp(m.adam_m, m2.adam_m, sizeof(float) * m.num_parameters) == 0, "%s: AdamW m differs", label);
    CHECK(memcmp(m.adam_v, m2.adam_v, sizeof(float) * m.num_parameters) == 0, "%s: AdamW v differs", label);

    /* bad input is refused with a status */
    tok[0] = m.cfg.d_vocab;
    CHECK(grok_cuda_forward(g, tok, tgt, B, NULL, NULL, NULL) == GROK_ERR_ARG, "a token out of range");
    tok[0] = 0;
    CHECK(grok_cuda_forward(g, tok, tgt, B + 1, NULL, NULL, NULL) == GROK_ERR_ARG, "a batch over max_batch");
    CHECK(grok_cuda_forward(g, tok, NULL, B, NULL, NULL, NULL) == GROK_OK && grok_cuda_backward(g) == GROK_ERR_ARG,
          "backward after a forward without targets");
done:
    grok_cuda_free(g);
    grok_model_free(&m); grok_model_free(&m2);
    free(tok); free(tgt); free(logits); free(glogits); free(g1);
}

/* Training: epochs on the device (graph and direct) against the CPU loop, evaluation, NaN. */
static void test_training(void)
{
    grok_config cfg = grok_config_modadd(13);
    grok_data tr, te;
    grok_model mc, md, mn;
    grok_cuda *g = NULL, *g2 = NULL;
    double loss = 0, acc = 0, gl = 0, ga = 0, tl, ta, cl, ca;
    int e;
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 64;
    grok_task_modadd(&tr, &te, 13, 0.5, 3);
    grok_model_init(&mc, &cfg, tr.n); grok_model_init(&md, &cfg, tr.n); grok_model_init(&mn, &cfg, tr.n);
    mc.general_path = 1; /* the device's algorithm; the folded path is the same function */
    for (e = 0; e < 8; e++) {
        grok_model_zero_grad(&mc);
        grok_model_forward(&mc, tr.tokens, tr.targets, tr.n, &loss, &acc, NULL);
        grok_model_backward(&mc);
        grok_model_adamw_step(&mc);
    }
    CHECK(grok_cuda_init(&g, &md) == GROK_OK && grok_cuda_set_data(g, &tr, &te) == GROK_OK, "init, set_data");
    CHECK(grok_cuda_init(&g2, &mn) == GROK_OK && grok_cuda_set_data(g2, &tr, &te) == GROK_OK, "init, set_data");
    if (!g || !g2) goto done;
    grok_cuda_use_graph(g2, 0);
    CHECK(grok_cuda_train_epochs(g, &md, 8, &gl, &ga) == GROK_OK, "train_epochs (graph)");
    CHECK(grok_cuda_train_epochs(g2, &mn, 3, NULL, NULL) == GROK_OK && grok_cuda_train_epochs(g2, &mn, 5, NULL, NULL) == GROK_OK,
          "train_epochs (direct, in two calls)");
    printf("epoch graph active: %d\n", grok_cuda_graph_active(g));
    CHECK(md.step == 8 && md.epoch == 8 && mn.step == 8, "step/epoch counters %ld %ld", md.step, md.epoch);
    CHECK(fabs(gl - loss) <= 1e-4 * fabs(loss), "last epoch's loss %.9g vs CPU %.9g", gl, loss);
    CHECK(grok_cuda_download(g, &md) == GROK_OK && grok_cuda_download(g2, &mn) == GROK_OK, "download");
    /* 1e-3: an element whose gradient is near 0 may take Adam's near-unit step with the other
       sign when rounding differs, moving by 2 lr; the loss above is the sharp check */
    CHECK(rel_err(md.weights, mc.weights, (long)mc.num_parameters) < 1e-3, "weights after 8 epochs: rel err %g",
          rel_err(md.weights, mc.weights, (long)mc.num_parameters));
    CHECK(memcmp(md.weights, mn.weights, sizeof(float) * md.num_parameters) == 0 &&
          memcmp(md.adam_v, mn.adam_v, sizeof(float) * md.num_parameters) == 0, "graph and direct launches differ");
    CHECK(grok_cuda_evaluate(g, 1, &tl, &ta) == GROK_OK, "evaluate");
    grok_model_evaluate(&md, te.tokens, te.targets, te.n, &cl, &ca);
    CHECK(fabs(tl - cl) <= 1e-4 * fabs(cl) && fabs(ta - ca) <= 1.0 / te.n + 1e-12, "test loss %g vs CPU %g", tl, cl);
    /* a NaN weight: GROK_ERR_NUMERIC naming the first bad epoch */
    md.weights[grok_model_param(&md, "unembed.W_U")->offset] = NAN;
    CHECK(grok_cuda_upload(g, &md) == GROK_OK, "upload");
    CHECK(grok_cuda_train_epochs(g, &md, 4, NULL, NULL) == GROK_ERR_NUMERIC && strstr(grok_last_error(), "epoch 8"),
          "a NaN loss is reported: %s", grok_last_error());
done:
    grok_cuda_free(g); grok_cuda_free(g2);
    grok_model_free(&mc); grok_model_free(&md); grok_model_free(&mn);
    grok_data_free(&tr); grok_data_free(&te);
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f) return -1;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

/* grok_train_cuda writes what grok_train writes. */
static void test_driver(void)
{
    grok_config cfg = grok_config_modadd(11);
    grok_data tr, te;
    grok_model mc, md, ml;
    grok_train_opts o = grok_train_opts_default();
    char dc[] = "/tmp/grok_cuda_cpu_XXXXXX", dd[] = "/tmp/grok_cuda_dev_XXXXXX", path[256];
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 64;
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    grok_model_init(&mc, &cfg, tr.n); grok_model_init(&md, &cfg, tr.n); grok_model_init(&ml, &cfg, tr.n);
    if (!mkdtemp(dc) || !mkdtemp(dd)) { CHECK(0, "mkdtemp"); return; }
    o.epochs = 12; o.eval_every = 4; o.checkpoint_every = 6; o.progress = 0; o.keep_history = 1;
    o.out_dir = dc;
    CHECK(grok_train(&mc, &o, &tr, &te) == GROK_OK, "grok_train");
    o.out_dir = dd;
    CHECK(grok_train_cuda(&md, &o, &tr, &te) == GROK_OK, "grok_train_cuda: %s", grok_last_error());
    CHECK(md.epoch == 12 && md.step == 12, "epoch %ld step %ld", md.epoch, md.step);
    CHECK(fabs(md.metrics.train_loss - mc.metrics.train_loss) <= 1e-4 * mc.metrics.train_loss &&
          fabs(md.metrics.test_loss - mc.metrics.test_loss) <= 1e-4 * mc.metrics.test_loss,
          "metrics %g %g vs CPU %g %g", md.metrics.train_loss, md.metrics.test_loss, mc.metrics.train_loss, mc.metrics.test_loss);
    snprintf(path, sizeof path, "%s/metrics.csv", dd);
    CHECK(count_lines(path) == 4, "metrics.csv has %d lines, want 4", count_lines(path));
    snprintf(path, sizeof path, "%s/ckpt_000006.grok", dd);
    CHECK(access(path, F_OK) == 0, "ckpt_000006.grok written");
    snprintf(path, sizeof path, "%s/latest.grok", dd);
    CHECK(grok_checkpoint_load(&ml, path) == GROK_OK, "latest.grok loads");
    CHECK(ml.epoch == 12 && memcmp(ml.weights, md.weights, sizeof(float) * md.num_parameters) == 0 &&
          memcmp(ml.adam_v, md.adam_v, sizeof(float) * md.num_parameters) == 0, "the checkpoint holds the final state");
    /* the device as a choice in the run options: grok_train hands the run to grok_train_cuda */
    grok_model_free(&ml);
    grok_model_init(&ml, &cfg, tr.n);
    o.out_dir = NULL;
    o.device = GROK_DEVICE_CUDA;
    CHECK(grok_train(&ml, &o, &tr, &te) == GROK_OK && ml.epoch == 12 &&
          memcmp(ml.weights, md.weights, sizeof(float) * md.num_parameters) == 0,
          "grok_train with device GROK_DEVICE_CUDA is grok_train_cuda: %s", grok_last_error());
    grok_model_free(&mc); grok_model_free(&md); grok_model_free(&ml);
    grok_data_free(&tr); grok_data_free(&te);
}

/* The levers grok_cuda.cu lacks are refused with a message naming them, nothing trained; early
   stopping, which is the driver's, stops the device run where it stops the CPU's. */
static void test_levers_on_device(void)
{
    grok_config cfg = grok_config_modadd(11);
    grok_data tr, te;
    grok_model mc, md;
    grok_cuda *g = NULL;
    grok_train_opts o = grok_train_opts_default();
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 64;
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    grok_model_init(&mc, &cfg, tr.n); grok_model_init(&md, &cfg, tr.n);
    o.epochs = 40; o.eval_every = 4; o.checkpoint_every = 0; o.progress = 0;
    o.grokfast = grok_gradfilter_default(GROK_FILTER_EMA);
    CHECK(grok_train_cuda(&md, &o, &tr, &te) == GROK_ERR_ARG && md.epoch == 0 && strstr(grok_last_error(), "Grokfast") &&
          strstr(grok_last_error(), "grok_cuda.cu"), "a Grokfast filter refused on the device: %s", grok_last_error());
    o.grokfast.kind = GROK_FILTER_NONE;
    o.stability_monitors = 1;
    CHECK(grok_train_cuda(&md, &o, &tr, &te) == GROK_ERR_ARG && strstr(grok_last_error(), "monitors"),
          "the monitors refused on the device: %s", grok_last_error());
    o.stability_monitors = 0;
    md.loss = GROK_LOSS_STABLEMAX;
    CHECK(grok_train_cuda(&md, &o, &tr, &te) == GROK_ERR_ARG && strstr(grok_last_error(), "StableMax"),
          "StableMax refused on the device: %s", grok_last_error());
    md.loss = GROK_LOSS_SOFTMAX;
    md.opt.orthogonal = 1;
    CHECK(grok_train_cuda(&md, &o, &tr, &te) == GROK_ERR_ARG && strstr(grok_last_error(), "orthogonal"),
          "the orthogonal gradient refused on the device: %s", grok_last_error());
    md.opt.orthogonal = 0;
    CHECK(grok_cuda_init(&g, &md) == GROK_OK, "grok_cuda_init: %s", grok_last_error());
    md.opt.fixed_norm = 3.0;
    CHECK(grok_cuda_adamw_step(g, &md) == GROK_ERR_ARG && md.step == 0 && strstr(grok_last_error(), "fixed norm"),
          "grok_cuda_adamw_step refuses a fixed norm: %s", grok_last_error());
    md.opt.fixed_norm = 0.0;
    md.loss = GROK_LOSS_STABLEMAX;
    CHECK(grok_cuda_upload(g, &md) == GROK_ERR_ARG && strstr(grok_last_error(), "StableMax"),
          "grok_cuda_upload refuses StableMax: %s", grok_last_error());
    md.loss = GROK_LOSS_SOFTMAX;
    grok_cuda_free(g);
    o.early_stop.memorised = 0.01; o.early_stop.stall_epochs = 8;
    CHECK(grok_train(&mc, &o, &tr, &te) == GROK_OK && grok_train_cuda(&md, &o, &tr, &te) == GROK_OK,
          "early stopping on both: %s", grok_last_error());
    CHECK(md.epoch == mc.epoch && md.stop.reason == mc.stop.reason && md.stop.best_epoch == mc.stop.best_epoch,
          "the device stops where the CPU does: epoch %ld (%s), CPU %ld (%s)", md.epoch,
          grok_stop_reason_name(md.stop.reason), mc.epoch, grok_stop_reason_name(mc.stop.reason));
    grok_model_free(&mc); grok_model_free(&md);
    grok_data_free(&tr); grok_data_free(&te);
}

/* ------------------------------------------------------ the nets against the CPU */

static grok_net_config net_config(grok_net_kind kind, int n)
{
    grok_net_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind; c.n = n; c.embed_dim = 16; c.hidden_dim = 24; c.seed = 9;
    return c;
}

/* Forward, every gradient (frozen ones untouched), determinism, AdamW (bitwise) and bad
   input, for one net against grok_net's CPU path. */
static void test_net(const char *label, grok_net_kind kind, const char *freeze1, const char *freeze2)
{
    const int B = 40, N = 11;
    grok_net_config nc = net_config(kind, N), other = net_config(kind, 7);
    grok_net a, b, c;
    grok_cuda *g = NULL;
    grok_rng rng;
    int tok[3 * 40], tgt[3 * 40], n_t = 0, st;
    float logits[40 * 11], glogits[40 * 11], *g1;
    double loss, acc, gl, ga;
    printf("net %s\n", label);
    if (grok_net_init(&a, &nc, B) != GROK_OK || grok_net_init(&b, &nc, B) != GROK_OK || grok_net_init(&c, &other, B) != GROK_OK) {
        CHECK(0, "%s: grok_net_init", label);
        return;
    }
    g1 = fnew((long)a.num_parameters);
    for (int i = 0; i < a.n_params; i++)
        if ((freeze1 && strcmp(a.params[i].name, freeze1) == 0) || (freeze2 && strcmp(a.params[i].name, freeze2) == 0))
            a.params[i].trainable = 0;
    grok_rng_seed(&rng, 6);
    for (int i = 0; i < B; i++) {
        tok[3 * i] = (int)grok_rng_below(&rng, N);
        tok[3 * i + 1] = (int)grok_rng_below(&rng, N);
        tok[3 * i + 2] = N; /* '=': not read */
        tgt[3 * i] = tgt[3 * i + 1] = -1;
        tgt[3 * i + 2] = i % 5 == 3 ? -1 : (int)grok_rng_below(&rng, N);
        n_t += tgt[3 * i + 2] >= 0;
    }
    for (int i = 0; i < a.n_params; i++)
        for (size_t j = 0; j < a.params[i].numel; j++) a.grads[a.params[i].offset + j] = a.params[i].trainable ? 0.0f : 0.25f;
    st = grok_cuda_net_init(&g, &a);
    CHECK(st == GROK_OK, "%s: grok_cuda_net_init: %s", label, grok_last_error());
    if (st != GROK_OK) goto done;

    CHECK(grok_net_forward(&a, tok, tgt, B, &loss, &acc, logits) == GROK_OK, "CPU net forward");
    CHECK(grok_cuda_net_forward(g, tok, tgt, B, &gl, &ga, glogits) == GROK_OK, "device net forward: %s", grok_last_error());
    CHECK(rel_err(glogits, logits, (long)B * N) < 1e-4, "%s: logits rel err %g", label, rel_err(glogits, logits, (long)B * N));
    CHECK(fabs(gl - loss) <= 1e-4 * fabs(loss), "%s: loss %.9g vs CPU %.9g", label, gl, loss);
    CHECK(fabs(ga - acc) <= 1.0 / n_t + 1e-12, "%s: accuracy %g vs CPU %g", label, ga, acc);

    CHECK(grok_net_backward(&a) == GROK_OK, "CPU net backward");
    CHECK(grok_cuda_backward(g) == GROK_OK, "device net backward: %s", grok_last_error());
    CHECK(grok_cuda_net_download(g, &b) == GROK_OK, "download");
    for (int i = 0; i < a.n_params; i++) {
        const grok_param *p = &a.params[i];
        const float *cg = a.grads + p->offset, *dg = b.grads + p->offset;
        double diff = 0.0, scale = 0.0;
        for (size_t j = 0; j < p->numel; j++) {
            diff = fmax(diff, fabs((double)dg[j] - cg[j]));
            scale = fmax(scale, fabs((double)cg[j]));
        }
        if (p->trainable) CHECK(scale > 0.0 && diff <= 1e-4 * scale, "%s: gradient of %s: error %g, scale %g", label, p->name, diff, scale);
        else CHECK(memcmp(dg, cg, sizeof(float) * p->numel) == 0, "%s: frozen %s was written", label, p->name);
    }
    CHECK(grok_cuda_backward(g) == GROK_ERR_ARG, "a second backward without a forward is refused");

    /* determinism: the same forward and backward twice gives the same bits */
    memcpy(g1, b.grads, sizeof(float) * a.num_parameters);
    CHECK(grok_cuda_net_upload(g, &a) == GROK_OK && grok_cuda_zero_grad(g) == GROK_OK, "upload, zero_grad");
    CHECK(grok_cuda_net_forward(g, tok, tgt, B, NULL, NULL, NULL) == GROK_OK && grok_cuda_backward(g) == GROK_OK, "again");
    CHECK(grok_cuda_net_download(g, &b) == GROK_OK, "download");
    {
        int same = 1;
        for (int i = 0; i < a.n_params; i++)
            if (a.params[i].trainable && memcmp(g1 + a.params[i].offset, b.grads + a.params[i].offset,
                                                sizeof(float) * a.params[i].numel) != 0) same = 0;
        CHECK(same, "%s: two identical backward passes differ", label);
    }

    /* AdamW from the CPU's gradients: the same bits, with a schedule */
    a.opt.lr = 1e-2; a.opt.lr_schedule = half_schedule;
    CHECK(grok_cuda_net_upload(g, &a) == GROK_OK, "upload");
    b.opt = a.opt; b.step = a.step;
    for (int k = 0; k < 3; k++) {
        CHECK(grok_net_adamw_step(&a) == GROK_OK, "CPU AdamW");
        CHECK(grok_cuda_net_adamw_step(g, &b) == GROK_OK, "device AdamW");
    }
    CHECK(b.step == a.step && a.step == 3, "steps %ld vs %ld", b.step, a.step);
    CHECK(grok_cuda_net_download(g, &b) == GROK_OK, "download");
    CHECK(memcmp(a.weights, b.weights, sizeof(float) * a.num_parameters) == 0, "%s: AdamW weights differ", label);
    CHECK(memcmp(a.adam_m, b.adam_m, sizeof(float) * a.num_parameters) == 0, "%s: AdamW m differs", label);
    CHECK(memcmp(a.adam_v, b.adam_v, sizeof(float) * a.num_parameters) == 0, "%s: AdamW v differs", label);

    /* bad input is refused with a status */
    tok[3] = N;
    CHECK(grok_cuda_net_forward(g, tok, tgt, B, NULL, NULL, NULL) == GROK_ERR_ARG, "an element out of range");
    tok[3] = 0; tgt[5] = N;
    CHECK(grok_cuda_net_forward(g, tok, tgt, B, NULL, NULL, NULL) == GROK_ERR_ARG, "a label out of range");
    tgt[5] = -1;
    CHECK(grok_cuda_net_forward(g, tok, tgt, B + 1, NULL, NULL, NULL) == GROK_ERR_ARG, "a batch over max_batch");
    CHECK(grok_cuda_net_forward(g, tok, NULL, B, NULL, NULL, NULL) == GROK_OK && grok_cuda_backward(g) == GROK_ERR_ARG,
          "backward after a forward without targets");
    CHECK(grok_cuda_net_upload(g, &c) == GROK_ERR_ARG, "another net's shape is refused");
    CHECK(grok_cuda_forward(g, tok, tgt, 1, NULL, NULL, NULL) == GROK_ERR_ARG && strstr(grok_last_error(), "grok_net"),
          "the transformer's forward refuses a net's state: %s", grok_last_error());
done:
    grok_cuda_free(g);
    grok_net_free(&a); grok_net_free(&b); grok_net_free(&c);
    free(g1);
}

/* Training a net: epochs on the device (graph and direct) against grok_net's CPU loop,
   evaluation of both splits, a NaN's epoch. */
static void test_net_training(grok_net_kind kind)
{
    grok_net_config nc = net_config(kind, 13);
    grok_data tr, te;
    grok_net nc_, nd, nn;
    grok_cuda *g = NULL, *g2 = NULL;
    double loss = 0, acc = 0, gl = 0, ga = 0, tl, ta, cl, ca;
    printf("net training, %s\n", kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet");
    grok_task_modadd(&tr, &te, 13, 0.5, 3);
    grok_net_init(&nc_, &nc, tr.n); grok_net_init(&nd, &nc, tr.n); grok_net_init(&nn, &nc, tr.n);
    nc_.opt.lr = nd.opt.lr = nn.opt.lr = 3e-3;
    for (int e = 0; e < 8; e++) {
        grok_net_zero_grad(&nc_);
        grok_net_forward(&nc_, tr.tokens, tr.targets, tr.n, &loss, &acc, NULL);
        grok_net_backward(&nc_);
        grok_net_adamw_step(&nc_);
    }
    CHECK(grok_cuda_net_init(&g, &nd) == GROK_OK && grok_cuda_set_data(g, &tr, &te) == GROK_OK, "init, set_data: %s",
          grok_last_error());
    CHECK(grok_cuda_net_init(&g2, &nn) == GROK_OK && grok_cuda_set_data(g2, &tr, &te) == GROK_OK, "init, set_data");
    if (!g || !g2) goto done;
    grok_cuda_use_graph(g2, 0);
    CHECK(grok_cuda_net_train_epochs(g, &nd, 8, &gl, &ga) == GROK_OK, "net train_epochs (graph): %s", grok_last_error());
    CHECK(grok_cuda_net_train_epochs(g2, &nn, 3, NULL, NULL) == GROK_OK &&
          grok_cuda_net_train_epochs(g2, &nn, 5, NULL, NULL) == GROK_OK, "net train_epochs (direct, in two calls)");
    CHECK(nd.step == 8 && nd.epoch == 8 && nn.step == 8, "step/epoch counters %ld %ld", nd.step, nd.epoch);
    CHECK(fabs(gl - loss) <= 1e-4 * fabs(loss) && fabs(ga - acc) <= 1.0 / tr.n + 1e-12,
          "last epoch's loss %.9g vs CPU %.9g", gl, loss);
    CHECK(grok_cuda_net_download(g, &nd) == GROK_OK && grok_cuda_net_download(g2, &nn) == GROK_OK, "download");
    CHECK(rel_err(nd.weights, nc_.weights, (long)nc_.num_parameters) < 1e-3, "net weights after 8 epochs: rel err %g",
          rel_err(nd.weights, nc_.weights, (long)nc_.num_parameters));
    CHECK(memcmp(nd.weights, nn.weights, sizeof(float) * nd.num_parameters) == 0 &&
          memcmp(nd.adam_v, nn.adam_v, sizeof(float) * nd.num_parameters) == 0, "graph and direct launches differ");
    for (int split = 0; split < 2; split++) {
        const grok_data *d = split ? &te : &tr;
        CHECK(grok_cuda_evaluate(g, split, &tl, &ta) == GROK_OK, "evaluate");
        grok_net_evaluate(&nd, d->tokens, d->targets, d->n, &cl, &ca);
        CHECK(fabs(tl - cl) <= 1e-4 * fabs(cl) && fabs(ta - ca) <= 1.0 / d->n + 1e-12, "split %d: loss %g vs CPU %g", split,
              tl, cl);
    }
    nd.weights[grok_net_param(&nd, "W_U")->offset] = NAN;
    CHECK(grok_cuda_net_upload(g, &nd) == GROK_OK, "upload");
    CHECK(grok_cuda_net_train_epochs(g, &nd, 4, NULL, NULL) == GROK_ERR_NUMERIC && strstr(grok_last_error(), "epoch 8") &&
          strstr(grok_last_error(), "grok_net_train_cuda"),
          "a NaN loss is reported: %s", grok_last_error());
    CHECK(grok_cuda_train_epochs(g, NULL, 1, NULL, NULL) == GROK_ERR_ARG, "train_epochs(NULL model)");
done:
    grok_cuda_free(g); grok_cuda_free(g2);
    grok_net_free(&nc_); grok_net_free(&nd); grok_net_free(&nn);
    grok_data_free(&tr); grok_data_free(&te);
}

/* on_eval: at epoch 8 the net is the device's (a snapshot) and lr = 0 set there must reach
   the device (the weights then stay the snapshot's). */
typedef struct { grok_net *net; float *snap; int calls; } net_eval_ctx;

static int net_on_eval(grok_model *m, void *ctx)
{
    net_eval_ctx *c = (net_eval_ctx *)ctx;
    c->calls += m == NULL;
    if (c->net->epoch == 8) {
        memcpy(c->snap, c->net->weights, sizeof(float) * c->net->num_parameters);
        c->net->opt.lr = 0.0;
    }
    return 0;
}

static long file_bytes(const char *path, unsigned char **out)
{
    FILE *f = fopen(path, "rb");
    long n;
    *out = NULL;
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = (unsigned char *)malloc((size_t)n + 1);
    if (fread(*out, 1, (size_t)n, f) != (size_t)n) n = -1;
    fclose(f);
    return n;
}

/* grok_net_train_cuda writes what grok_net_train writes. */
static void test_net_driver(void)
{
    grok_net_config nc = net_config(GROK_NET_MLP, 11);
    grok_data tr, te;
    grok_net a, b;
    grok_train_opts o = grok_train_opts_default();
    char dc[] = "/tmp/grok_cuda_netcpu_XXXXXX", dd[] = "/tmp/grok_cuda_netdev_XXXXXX", path[256], path2[256];
    net_eval_ctx ca, cb;
    unsigned char *f1, *f2;
    long n1, n2;
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    grok_net_init(&a, &nc, tr.n); grok_net_init(&b, &nc, tr.n);
    if (!mkdtemp(dc) || !mkdtemp(dd)) { CHECK(0, "mkdtemp"); return; }
    ca.net = &a; cb.net = &b; ca.calls = cb.calls = 0;
    ca.snap = fnew((long)a.num_parameters); cb.snap = fnew((long)b.num_parameters);
    o.epochs = 12; o.eval_every = 4; o.checkpoint_every = 6; o.progress = 0; o.keep_history = 1;
    o.on_eval = net_on_eval;
    o.out_dir = dc; o.on_eval_ctx = &ca;
    CHECK(grok_net_train(&a, &o, &tr, &te) == GROK_OK, "grok_net_train");
    o.out_dir = dd; o.on_eval_ctx = &cb;
    CHECK(grok_net_train_cuda(&b, &o, &tr, &te) == GROK_OK, "grok_net_train_cuda: %s", grok_last_error());
    CHECK(b.epoch == 12 && b.step == 12 && cb.calls == 3 && ca.calls == 3, "epoch %ld step %ld, on_eval calls %d",
          b.epoch, b.step, cb.calls);
    CHECK(fabs(b.metrics.train_loss - a.metrics.train_loss) <= 1e-4 * a.metrics.train_loss &&
          fabs(b.metrics.test_loss - a.metrics.test_loss) <= 1e-4 * a.metrics.test_loss,
          "metrics %g %g vs CPU %g %g", b.metrics.train_loss, b.metrics.test_loss, a.metrics.train_loss, a.metrics.test_loss);
    CHECK(memcmp(cb.snap, b.weights, sizeof(float) * b.num_parameters) == 0 &&
          memcmp(ca.snap, a.weights, sizeof(float) * a.num_parameters) == 0,
          "on_eval saw the device's net and its lr = 0 reached the device");
    snprintf(path, sizeof path, "%s/metrics.csv", dd);
    CHECK(count_lines(path) == 4, "metrics.csv has %d lines, want 4", count_lines(path));
    snprintf(path, sizeof path, "%s/net_000006.safetensors", dd);
    CHECK(access(path, F_OK) == 0, "net_000006.safetensors written");
    /* the last checkpoint is the final net, byte for byte */
    snprintf(path, sizeof path, "%s/latest.safetensors", dd);
    snprintf(path2, sizeof path2, "%s/final.safetensors", dd);
    CHECK(grok_net_save_safetensors(&b, path2, NULL) == GROK_OK, "save");
    n1 = file_bytes(path, &f1); n2 = file_bytes(path2, &f2);
    CHECK(n1 > 0 && n1 == n2 && memcmp(f1, f2, (size_t)n1) == 0, "latest.safetensors holds the final net");
    free(f1); free(f2); free(ca.snap); free(cb.snap);
    grok_net_free(&a); grok_net_free(&b);
    grok_data_free(&tr); grok_data_free(&te);
}

/* --------------------------------------------------- what runs without a device */

/* The kernels' item functions on the host against grok.h's CPU functions. */
static void test_items_on_host(void)
{
    grok_rng rng;
    const int B = 7, T = 4, R = B * T, C = 12, Vin = 9, H = 3, D = 4, M = 20;
    const long HD = (long)H * D;
    int tok[28], csr[2 * 9 + 1 + 28];
    float *a = fnew(R * 64), *b = fnew(R * 64), *c = fnew(R * 64), *d = fnew(R * 64), *e = fnew(R * 64);
    grok_rng_seed(&rng, 3);
    for (int r = 0; r < R; r++) tok[r] = (int)grok_rng_below(&rng, Vin);

    fill(a, Vin * C, &rng, 1.0); fill(b, T * C, &rng, 1.0);
    grok__embed_forward(c, tok, a, b, R, T, C);
    for (long i = 0; i < (long)R * C; i++) gc_embed_forward_at(i, d, tok, a, b, T, C);
    CHECK(memcmp(c, d, sizeof(float) * R * C) == 0, "host: embed forward items differ from grok__embed_forward");

    fill(a, R * C, &rng, 1.0); fill(b, Vin * C, &rng, 1.0); memcpy(c, b, sizeof(float) * Vin * C);
    grok__embed_backward(b, NULL, a, tok, R, T, C);
    gc_csr(csr, csr + Vin + 1, csr + Vin + 1 + R, tok, R, Vin);
    for (int v = 0; v < Vin; v++)
        for (int k = 0; k < C; k++) gc_embed_backward_at(v, k, c, a, csr, csr + Vin + 1, C);
    CHECK(memcmp(b, c, sizeof(float) * Vin * C) == 0, "host: embed scatter-add items differ from grok__embed_backward");

    fill(a, R * M, &rng, 1.0); fill(b, M, &rng, 1.0); fill(c, R * M, &rng, 1.0); memcpy(d, a, sizeof(float) * R * M);
    for (long i = 0; i < (long)R * M; i++) gc_bias_residual_at(i, d, b, c, M);
    {
        int ok = 1;
        for (long i = 0; i < (long)R * M; i++) ok &= d[i] == c[i] + (a[i] + b[i % M]);
        CHECK(ok, "host: bias + residual items");
    }

    for (int act = 0; act < 2; act++) {
        long n = (long)R * M;
        fill(a, n, &rng, 2.0); a[0] = 0.0f; a[1] = -0.0f; a[2] = NAN; a[3] = INFINITY; a[4] = -INFINITY;
        fill(b, n, &rng, 1.0);
        grok__act_forward(c, a, n, (grok_act)act);
        for (long i = 0; i < n; i++) gc_act_forward_at(i, d, a, act);
        CHECK(memcmp(c + 5, d + 5, sizeof(float) * (n - 5)) == 0 && (act || memcmp(c, d, sizeof(float) * 5) == 0),
              "host: activation %d forward items differ", act);
        grok__act_backward(c, b, a, n, (grok_act)act);
        for (long i = 0; i < n; i++) gc_act_backward_at(i, b, b, a, act);
        CHECK(memcmp(c + 5, b + 5, sizeof(float) * (n - 5)) == 0 && (act || memcmp(c, b, sizeof(float) * 5) == 0),
              "host: activation %d backward items differ", act);
    }

    {   /* Q/K/V packing */
        float *W[3], *bb[3], *Wc[3];
        long nw = (long)H * C * D, npk = (long)C * 3 * HD;
        for (int s = 0; s < 3; s++) { W[s] = fnew(nw); bb[s] = fnew(HD); fill(W[s], nw, &rng, 1.0); fill(bb[s], HD, &rng, 1.0); }
        grok__qkv_pack(c, d, W, bb, C, H, D);
        for (long i = 0; i < npk + 3 * HD; i++) gc_qkv_pack_at(i, a, e, W[0], W[1], W[2], bb[0], bb[1], bb[2], C, H, D);
        CHECK(memcmp(a, c, sizeof(float) * npk) == 0 && memcmp(e, d, sizeof(float) * 3 * HD) == 0, "host: qkv pack items");
        fill(a, npk, &rng, 1.0);
        Wc[0] = W[0]; Wc[1] = NULL; Wc[2] = W[2];
        memcpy(c, W[0], sizeof(float) * nw); memcpy(d, W[2], sizeof(float) * nw); memcpy(e, W[1], sizeof(float) * nw);
        grok__qkv_unpack_add(Wc, a, C, H, D);
        for (long i = 0; i < npk; i++) gc_qkv_unpack_add_at(i, c, NULL, d, a, C, H, D);
        CHECK(memcmp(c, W[0], sizeof(float) * nw) == 0 && memcmp(d, W[2], sizeof(float) * nw) == 0 &&
              memcmp(e, W[1], sizeof(float) * nw) == 0, "host: qkv unpack-add items");
        for (int s = 0; s < 3; s++) { free(W[s]); free(bb[s]); }
    }

    {   /* attention softmax rows (the same bits) and their backward (against double) */
        long rows = (long)B * H * T, n = rows * T;
        float scale = 0.5f;
        double worst = 0.0;
        fill(a, n, &rng, 2.0);
        memcpy(c, a, sizeof(float) * n);
        grok__attention_forward(e, a, b, e, B, T, H, D, GROK__ATTN_SOFTMAX);
        for (long i = 0; i < rows; i++) gc_attn_softmax_row(i, c, T);
        CHECK(memcmp(b, c, sizeof(float) * n) == 0, "host: softmax rows differ from grok.h's");
        fill(d, n, &rng, 1.0);
        memcpy(e, d, sizeof(float) * n);
        for (long i = 0; i < rows; i++) gc_attn_softmax_backward_row(i, e, b, T, scale);
        for (long i = 0; i < rows; i++) {
            int t = (int)(i % T);
            double dot = 0.0;
            for (int u = 0; u <= t; u++) dot += (double)b[i * T + u] * d[i * T + u];
            for (int u = 0; u < T; u++) {
                double want = u <= t ? b[i * T + u] * (d[i * T + u] - dot) * scale : 0.0;
                if (fabs(want - e[i * T + u]) > worst) worst = fabs(want - e[i * T + u]);
            }
        }
        CHECK(worst < 1e-6, "host: softmax backward rows, error %g", worst);
    }

    {   /* LayerNorm rows, forward and backward: the same bits as grok.h's (dw, db from xg and
           dout summed down the columns in row order, as gc_colsum_add does on the device) */
        float *w = fnew(C), *bias = fnew(C), *mean = fnew(R), *rstd = fnew(R), *m2 = fnew(R), *r2 = fnew(R);
        float *dw = fnew(C), *db = fnew(C), *dw2 = fnew(C), *db2 = fnew(C);
        fill(a, R * C, &rng, 2.0); fill(w, C, &rng, 0.2); fill(bias, C, &rng, 0.2);
        for (int k = 0; k < C; k++) { w[k] += 1.0f; a[k] += 4.0f; }
        grok__layernorm_forward(c, mean, rstd, a, w, bias, R, C, 1e-5f);
        for (long r = 0; r < R; r++) gc_layernorm_forward_row(r, 0, 1, d, m2, r2, a, w, bias, C, 1e-5f);
        CHECK(memcmp(c, d, sizeof(float) * R * C) == 0 && memcmp(mean, m2, sizeof(float) * R) == 0 &&
              memcmp(rstd, r2, sizeof(float) * R) == 0, "host: LayerNorm forward rows differ from grok.h's");
        fill(b, R * C, &rng, 1.0);                                   /* dout */
        fill(c, R * C, &rng, 1.0); memcpy(d, c, sizeof(float) * R * C); /* dinp, added into */
        fill(dw, C, &rng, 1.0); memcpy(dw2, dw, sizeof(float) * C); fill(db, C, &rng, 1.0); memcpy(db2, db, sizeof(float) * C);
        grok__layernorm_backward(c, dw, db, b, a, mean, rstd, w, R, C);
        for (long r = 0; r < R; r++) gc_layernorm_backward_row(r, 0, 1, d, e, b, a, mean, rstd, w, C);
        for (long r = 0; r < R; r++)
            for (int k = 0; k < C; k++) { dw2[k] += e[r * C + k]; db2[k] += b[r * C + k]; }
        CHECK(memcmp(c, d, sizeof(float) * R * C) == 0 && memcmp(dw, dw2, sizeof(float) * C) == 0 &&
              memcmp(db, db2, sizeof(float) * C) == 0, "host: LayerNorm backward rows differ from grok.h's");
        free(w); free(bias); free(mean); free(rstd); free(m2); free(r2); free(dw); free(db); free(dw2); free(db2);
    }

    {   /* cross-entropy rows and the loss sums: the same bits as grok.h's */
        const int V = 17;
        int tgt[28], rc[28], rc2[28], nt = 0, ok;
        double rs[28], rl[28], rs2[28], rl2[28], out[4] = {0, 0, 0, 0}, lsum = 0.0, csum = 0.0, slot_loss;
        int slot = 1;
        for (int r = 0; r < R; r++) { tgt[r] = r % 3 == 0 ? -1 : (int)grok_rng_below(&rng, V); nt += tgt[r] >= 0; }
        fill(a, R * V, &rng, 3.0);
        a[2 * V + 4] = a[2 * V + 11] = 40.0f; /* a tie for the maximum (row 2 has a target) */
        a[4 * V + 0] = NAN;                   /* a NaN logit: a NaN loss, on both */
        grok__crossentropy_forward(c, rs, rl, rc, a, tgt, R, V, GROK_LOSS_SOFTMAX);
        for (long r = 0; r < R; r++)
            if (tgt[r] >= 0) gc_ce_forward_row(r, 0, 1, d, rs2, rl2, rc2, a, tgt, V);
        ok = 1;
        for (int r = 0; r < R; r++)
            if (tgt[r] >= 0 && (memcmp(c + r * V, d + r * V, sizeof(float) * V) != 0 || memcmp(&rs[r], &rs2[r], 8) != 0 ||
                                memcmp(&rl[r], &rl2[r], 8) != 0 || (rc[r] & GROK__ROW_CORRECT) != rc2[r])) ok = 0;
        CHECK(ok && rc2[2] == (tgt[2] == 4) && isnan(rl2[4]), "host: cross-entropy forward rows differ from grok.h's");
        for (int r = 0; r < R; r++) if (tgt[r] >= 0 && r != 4) { lsum += rl[r]; csum += rc[r] & GROK__ROW_CORRECT; }
        rl2[4] = 0.0; /* drop the NaN row for the sums */
        gc_loss_sum_lanes(0, 1, out, &slot, rl2, rc2, tgt, R, 0);
        slot_loss = out[2];
        gc_loss_sum_lanes(0, 1, out, &slot, rl2, rc2, tgt, R, 1);
        CHECK(out[0] == 0.0 && slot_loss == lsum && out[2] == 2 * lsum && out[3] == 2 * csum,
              "host: loss sums into their slot, accumulating: %g %g vs %g %g", out[2], out[3], 2 * lsum, 2 * csum);
        grok__crossentropy_backward(c, rs, tgt, R, V, 1.0 / nt, GROK_LOSS_SOFTMAX);
        for (long r = 0; r < R; r++) gc_ce_backward_row(r, 0, 1, d, rs2, tgt, V, 1.0 / nt);
        CHECK(memcmp(c, d, sizeof(float) * R * V) == 0, "host: cross-entropy backward rows differ from grok.h's");
    }

    {   /* BilinearNet's product and its backward (grok_net_forward/_backward's products), and a
           net's staging: the CSR of the keys a, b + N groups xy's rows by embedding row */
        const int n = 6, E = 5, N = 4;
        int tk[18] = {0, 3, 4, 2, 2, 4, 3, 0, 4, 1, 3, 4, 3, 3, 4, 0, 1, 4}, tg[18], h[18], csr[4 * 4 + 1 + 12], ok = 1;
        fill(a, 2 * n * E, &rng, 1.0); fill(b, n * E, &rng, 1.0);
        for (long i = 0; i < (long)n * E; i++) gc_bilinear_forward_at(i, c, a, (long)n * E);
        for (long i = 0; i < (long)n * E; i++) gc_bilinear_backward_at(i, d, b, a, (long)n * E);
        for (long i = 0; i < (long)n * E; i++)
            ok &= c[i] == a[i] * a[n * E + i] && d[i] == b[i] * a[n * E + i] && d[n * E + i] == b[i] * a[i];
        CHECK(ok, "host: bilinear product items");
        for (int i = 0; i < 18; i++) tg[i] = i % 3 == 2 && i != 8 ? i % 4 : -1;
        CHECK(gc_net_stage(h, csr, tk, tg, n, N) == 5, "host: net staging counts the labelled rows");
        for (int i = 0; i < n; i++) ok &= h[i] == tk[3 * i] && h[n + i] == tk[3 * i + 1] && h[2 * n + i] == tg[3 * i + 2];
        for (int v = 0; v < 2 * N; v++)
            for (int k = csr[v]; k < csr[v + 1]; k++) {
                int r = csr[2 * N + 1 + k];
                ok &= (r < n ? v == tk[3 * r] : v == N + tk[3 * (r - n) + 1]) && (k == csr[v] || r > csr[2 * N + 1 + k - 1]);
            }
        CHECK(ok && csr[2 * N] == 2 * n, "host: net staging: pairs, labels and the CSR of both tables");
    }

    {   /* AdamW: gc_adam_scalars and the item against grok_model_adamw_step, the same bits */
        grok_config cfg = grok_config_modadd(7);
        grok_model m1, m2;
        unsigned char *mask;
        cfg.d_model = 16; cfg.d_head = 4; cfg.d_mlp = 24;
        grok_model_init(&m1, &cfg, 4); grok_model_init(&m2, &cfg, 4);
        grok_model_set_trainable(&m1, "attn.W_V", 0);
        grok_model_set_trainable(&m1, "b_U", 1);
        fill(m1.grads, (long)m1.num_parameters, &rng, 1e-2);
        memcpy(m2.grads, m1.grads, sizeof(float) * m1.num_parameters);
        m1.opt.lr = 3e-3; m1.opt.lr_schedule = half_schedule;
        m2.opt = m1.opt;
        mask = (unsigned char *)calloc(m1.num_parameters, 1);
        for (int i = 0; i < m1.n_params; i++)
            if (m1.params[i].trainable) memset(mask + m1.params[i].offset, 1, m1.params[i].numel);
        for (int k = 0; k < 3; k++) {
            gc_adam sc;
            CHECK(gc_adam_scalars(&sc, &m2.opt, m2.step) == GROK_OK, "gc_adam_scalars");
            for (long i = 0; i < (long)m2.num_parameters; i++) gc_adamw_at(i, m2.weights, m2.grads, m2.adam_m, m2.adam_v, mask, &sc);
            m2.step++;
            grok_model_adamw_step(&m1);
        }
        CHECK(memcmp(m1.weights, m2.weights, sizeof(float) * m1.num_parameters) == 0 &&
              memcmp(m1.adam_m, m2.adam_m, sizeof(float) * m1.num_parameters) == 0 &&
              memcmp(m1.adam_v, m2.adam_v, sizeof(float) * m1.num_parameters) == 0,
              "host: AdamW items differ from grok_model_adamw_step");
        {
            gc_adam sc;
            m2.opt.beta1 = 1.0;
            CHECK(gc_adam_scalars(&sc, &m2.opt, 0) == GROK_ERR_ARG, "beta1 = 1 is refused");
        }
        free(mask);
        grok_model_free(&m1); grok_model_free(&m2);
    }
    free(a); free(b); free(c); free(d); free(e);
}

/* The GEMM wrappers' mapping of row-major calls onto column-major cuBLAS, through the host
   reference (NULL handle), against grok_gemm: every transpose with padded leading dimensions,
   the attention's strided-batched form, and the bias gradients' column sums. */
static void test_gemm_mapping_on_host(void)
{
    grok_rng rng;
    float *a = fnew(4096), *b = fnew(4096), *c = fnew(4096), *d = fnew(4096), *ones = fnew(64);
    grok_rng_seed(&rng, 4);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int M = 9, N = 11, K = 7, lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
            fill(a, 40 * lda, &rng, 1.0); fill(b, 40 * ldb, &rng, 1.0); fill(c, M * ldc, &rng, 1.0);
            memcpy(d, c, sizeof(float) * M * ldc);
            CHECK(gc_gemm(NULL, ta, tb, M, N, K, 0.75f, a, lda, b, ldb, 0.5f, c, ldc) == GROK_OK, "gc_gemm (host)");
            grok_gemm(ta, tb, M, N, K, 0.75f, a, lda, b, ldb, 0.5f, d, ldc);
            CHECK(rel_err(c, d, (long)M * ldc) < 1e-6, "host: gc_gemm(%d, %d) mapping: rel err %g", ta, tb,
                  rel_err(c, d, (long)M * ldc));
        }
    {
        const int B = 5, T = 3, H = 2, D = 4, HD = H * D;
        float scale = 0.3f;
        fill(a, (long)B * T * 3 * HD, &rng, 1.0);
        for (int h = 0; h < H; h++)
            gc_gemm_batched(NULL, 0, 1, T, T, D, scale, a + h * D, 3 * HD, (long)T * 3 * HD, a + HD + h * D, 3 * HD,
                            (long)T * 3 * HD, 0.0f, c + (long)h * T * T, T, (long)H * T * T, B);
        for (int bb = 0; bb < B; bb++)
            for (int h = 0; h < H; h++)
                grok_gemm(0, 1, T, T, D, scale, a + (long)bb * T * 3 * HD + h * D, 3 * HD,
                          a + (long)bb * T * 3 * HD + HD + h * D, 3 * HD, 0.0f, d + ((long)bb * H + h) * T * T, T);
        CHECK(rel_err(c, d, (long)B * H * T * T) < 1e-6, "host: gc_gemm_batched mapping: rel err %g",
              rel_err(c, d, (long)B * H * T * T));
    }
    {
        const int R = 13, N = 6, lda = 10;
        for (int r = 0; r < R; r++) ones[r] = 1.0f;
        fill(a, R * lda, &rng, 1.0); fill(c, N, &rng, 1.0); memcpy(d, c, sizeof(float) * N);
        CHECK(gc_colsum_add(NULL, c, a + 2, R, N, lda, ones) == GROK_OK, "gc_colsum_add (host)");
        for (int r = 0; r < R; r++)
            for (int j = 0; j < N; j++) d[j] += a[2 + r * lda + j];
        CHECK(rel_err(c, d, N) < 1e-6, "host: gc_colsum_add mapping: rel err %g", rel_err(c, d, N));
    }
    free(a); free(b); free(c); free(d); free(ones);
}

static void test_without_device(void)
{
    grok_config cfg = grok_config_modadd(7);
    grok_model m;
    grok_data tr, te;
    grok_cuda dummy, *g = &dummy; /* must be reset to NULL */
    grok_train_opts o = grok_train_opts_default();
    int off[6], rows[9], fill_[5], tokens[9] = {3, 1, 4, 1, 0, 4, 2, 1, 3}, ok = 1, k = 0;
    grok_task_modadd(&tr, &te, 7, 0.5, 1);
    grok_model_init(&m, &cfg, tr.n);
    CHECK(grok_cuda_init(&g, &m) == GROK_ERR_ARG && g == NULL, "grok_cuda_init without a device is GROK_ERR_ARG");
    CHECK(strstr(grok_last_error(), "no CUDA device") != NULL, "message: %s", grok_last_error());
    o.epochs = 3; o.progress = 0;
    CHECK(grok_train_cuda(&m, &o, &tr, &te) == GROK_ERR_ARG && m.epoch == 0, "grok_train_cuda without a device");
    o.device = GROK_DEVICE_CUDA;
    CHECK(grok_train(&m, &o, &tr, &te) == GROK_ERR_ARG && m.epoch == 0, "grok_train on GROK_DEVICE_CUDA without a device");
    o.device = GROK_DEVICE_CPU;
    CHECK(grok_cuda_forward(NULL, tokens, NULL, 1, NULL, NULL, NULL) == GROK_ERR_ARG, "forward(NULL)");
    CHECK(grok_cuda_backward(NULL) == GROK_ERR_ARG && grok_cuda_zero_grad(NULL) == GROK_ERR_ARG &&
          grok_cuda_adamw_step(NULL, &m) == GROK_ERR_ARG && grok_cuda_download(NULL, &m) == GROK_ERR_ARG &&
          grok_cuda_upload(NULL, &m) == GROK_ERR_ARG && grok_cuda_set_data(NULL, &tr, &te) == GROK_ERR_ARG &&
          grok_cuda_evaluate(NULL, 0, NULL, NULL) == GROK_ERR_ARG &&
          grok_cuda_train_epochs(NULL, &m, 1, NULL, NULL) == GROK_ERR_ARG && grok_cuda_use_graph(NULL, 1) == GROK_ERR_ARG,
          "NULL state is GROK_ERR_ARG everywhere");
    grok_cuda_free(NULL);
    {
        grok_net_config nc = net_config(GROK_NET_BILINEAR, 7);
        grok_net net;
        g = &dummy;
        grok_net_init(&net, &nc, tr.n);
        CHECK(grok_cuda_net_init(&g, &net) == GROK_ERR_ARG && g == NULL, "grok_cuda_net_init without a device is GROK_ERR_ARG");
        CHECK(grok_net_train_cuda(&net, &o, &tr, &te) == GROK_ERR_ARG && net.epoch == 0, "grok_net_train_cuda without a device");
        CHECK(grok_cuda_net_forward(NULL, tokens, NULL, 1, NULL, NULL, NULL) == GROK_ERR_ARG &&
              grok_cuda_net_upload(NULL, &net) == GROK_ERR_ARG && grok_cuda_net_download(NULL, &net) == GROK_ERR_ARG &&
              grok_cuda_net_adamw_step(NULL, &net) == GROK_ERR_ARG &&
              grok_cuda_net_train_epochs(NULL, &net, 1, NULL, NULL) == GROK_ERR_ARG &&
              grok_net_train_cuda(NULL, &o, &tr, &te) == GROK_ERR_ARG, "nets: NULL state is GROK_ERR_ARG everywhere");
        grok_net_free(&net);
    }
    /* the scatter-add's CSR: every row once, grouped by token, ascending */
    gc_csr(off, rows, fill_, tokens, 9, 5);
    CHECK(off[0] == 0 && off[5] == 9, "CSR bounds");
    for (int v = 0; v < 5; v++)
        for (int i = off[v]; i < off[v + 1]; i++) {
            if (tokens[rows[i]] != v || (i > off[v] && rows[i] <= rows[i - 1])) ok = 0;
            k++;
        }
    CHECK(ok && k == 9, "CSR groups rows by token in ascending order");
    grok_model_free(&m);
    grok_data_free(&tr); grok_data_free(&te);
}

int main(void)
{
    int n = grok_cuda_available();
    test_items_on_host();
    test_gemm_mapping_on_host();
    if (n < 1) {
        test_without_device();
        printf("skip tests/test_cuda: no CUDA device (cudaGetDeviceCount = 0): compiled and linked only, "
               "the device comparisons did not run\n");
    } else {
        grok_config c1 = grok_config_modadd(13), c2 = c1, c3 = c1;
#ifdef GROK_TEST_CUDA_HOST
        printf("host emulation: grok_cuda.cu's orchestration with every kernel as its host loop, "
               "cuBLAS as a column-major reference, no graph capture (tests/cuda_host.h)\n");
#else
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) printf("device 0: %s\n", prop.name);
        CHECK(cublasCreate(&blas) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
        test_kernels();
#endif
        c1.d_model = 32; c1.d_head = 8; c1.d_mlp = 64;
        test_model("1 layer, ReLU, no LayerNorm, biases frozen", c1, 24, 0, NULL, NULL);
        c2.n_layers = 2; c2.d_model = 24; c2.n_heads = 3; c2.d_head = 8; c2.d_mlp = 40; c2.n_ctx = 5;
        c2.act_fn = GROK_ACT_GELU; c2.normalization = GROK_NORM_LN; c2.train_biases = 1;
        test_model("2 layers, GeLU, LayerNorm, every position, biases trained", c2, 9, 1, NULL, NULL);
        c3.d_model = 32; c3.d_head = 8; c3.d_mlp = 64; c3.normalization = GROK_NORM_LN; c3.train_biases = 1;
        test_model("1 layer, LayerNorm, W_E and W_K frozen", c3, 16, 0, "embed.W_E", "attn.W_K");
        test_training();
        test_driver();
        test_levers_on_device();
        test_net("BilinearNet", GROK_NET_BILINEAR, NULL, NULL);
        test_net("OneLayerMLP", GROK_NET_MLP, NULL, NULL);
        test_net("BilinearNet, W_E_b frozen", GROK_NET_BILINEAR, "W_E_b", NULL);
        test_net("OneLayerMLP, W_E_a and W frozen", GROK_NET_MLP, "W_E_a", "W");
        test_net_training(GROK_NET_BILINEAR);
        test_net_training(GROK_NET_MLP);
        test_net_driver();
        cublasDestroy(blas);
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
