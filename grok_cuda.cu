/* grok_cuda.cu - the optional CUDA companion of grok.h: device-resident training of the
   transformer (same function as grok.h's general path, same AdamW, same checkpoints) and of
   seed 003's nets (grok_net: BilinearNet, OneLayerMLP).

   Build (make cuda does this when nvcc is found):
       nvcc -O2 --fmad=false -c grok_cuda.cu -o grok_cuda.o
   and in the program: #define GROK_CUDA before including grok.h (in every file that includes
   it, the implementation file too), link grok_cuda.o with -lcudart -lcublas. The API is in
   grok.h's train section under #ifdef GROK_CUDA; grok_train_cuda there is the driver.

   NOTHING HERE HAS RUN ON A GPU YET (none on the machines it was written on). It compiles and
   links; tests/test_cuda compares every kernel and the whole step with the CPU path on the
   first machine that has one; tests/test_cuda_host already runs this file's orchestration on
   the CPU, every launch (GC_LAUNCH) served by the kernel's item or row functions (GC_HD)
   and cuBLAS by a reference, against grok.h. It is written to be correct by construction:
   grid-stride or one-block-per-row launches with bounds checks, every CUDA and cuBLAS status
   checked and turned into a grok.h status with file and line (never an exit).

   --fmad=false keeps the kernels from contracting a*b+c into FMAs, so they round like the
   CPU code they mirror: AdamW is bitwise the CPU's for the same inputs, and elsewhere only
   summation order (and the attention's expf and GELU's erff/expf's last ulp) differs. cuBLAS runs in its default FP32 mode
   (no TF32) and is deterministic on one GPU model (cuBLAS's reproducibility guarantee); no
   kernel uses floating-point atomics, so a run repeats bit for bit.

   Layout of this file: errors; shared kernels (GEMM wrappers, gather/scatter, activations,
   LayerNorm, cross-entropy, AdamW); the transformer's kernels, the nets' (the bilinear
   product); the device state; the transformer's forward and backward, the nets'; the public
   API and the training window; the nets' API. g->net switches the model type where the shared
   code calls a forward or backward (gc_epoch, grok_cuda_backward, grok_cuda_evaluate,
   grok_cuda_set_data); gc_init_common, gc_upload_buffers, the loss, AdamW (gc_adamw_step)
   and the epoch window (gc_train_epochs) are shared. */
#ifndef GROK_CUDA
#define GROK_CUDA
#endif
#include "grok.h"
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- errors */

#define GC_FAIL(status, ...) gc_fail(status, __FILE__, __LINE__, __VA_ARGS__)

static int gc_fail(int status, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int gc_fail(int status, const char *file, int line, const char *fmt, ...)
{
    char msg[400], full[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s:%d: %s", file, line, msg);
    return grok_cuda_fail(status, full);
}

/* An out-of-memory failure is GROK_ERR_NOMEM; any other device failure is GROK_ERR_IO (the
   device, like a file, is outside the process). */
static int gc_cuda_status(cudaError_t e, const char *call, const char *file, int line)
{
    cudaGetLastError(); /* clear a sticky launch error so that the next call is not blamed */
    return gc_fail(e == cudaErrorMemoryAllocation ? GROK_ERR_NOMEM : GROK_ERR_IO, file, line, "%s: %s (%s)", call,
                   cudaGetErrorString(e), cudaGetErrorName(e));
}

static int gc_cublas_status(cublasStatus_t s, const char *call, const char *file, int line)
{
    return gc_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? GROK_ERR_NOMEM : GROK_ERR_IO, file, line, "%s: %s", call,
                   cublasGetStatusString(s));
}

#define CUDA_CHECK(call)                                                                          \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) return gc_cuda_status(e_, #call, __FILE__, __LINE__);              \
    } while (0)
#define CUBLAS_CHECK(call)                                                                        \
    do {                                                                                          \
        cublasStatus_t s_ = (call);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS) return gc_cublas_status(s_, #call, __FILE__, __LINE__);  \
    } while (0)
/* After every kernel launch: a bad launch configuration shows up here, not later. */
#define LAUNCH_CHECK() CUDA_CHECK(cudaGetLastError())
#define TRY(call)                                                                                 \
    do {                                                                                          \
        int st_ = (call);                                                                         \
        if (st_ != GROK_OK) return st_;                                                           \
    } while (0)

/* ------------------------------------------------------- shared kernels */

#define GC_THREADS 128 /* block size of every row kernel: a multiple of 32, at most 1024 */
#define GC_WINDOW 1024 /* most epochs between two host synchronisations in training */

static int gc_grid(long n) /* blocks for a grid-stride loop over n elements */
{
    long b = (n + 255) / 256;
    return (int)(b < 1 ? 1 : b > 65536 ? 65536 : b);
}

/* Row-major GEMM through column-major cuBLAS, with grok_gemm's arguments: C (M,N) = alpha *
   op(A) (M,K) @ op(B) (K,N) + beta * C. Row-major C is column-major C^T = op(B)^T op(A)^T. */
static int gc_gemm(cublasHandle_t h, int transA, int transB, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    CUBLAS_CHECK(cublasSgemm(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                             &alpha, B, ldb, A, lda, &beta, C, ldc));
    return GROK_OK;
}

/* The same over `batch` matrices at fixed strides (in floats) from A, B and C. */
static int gc_gemm_batched(cublasHandle_t h, int transA, int transB, int M, int N, int K, float alpha,
                           const float *A, int lda, long sA, const float *B, int ldb, long sB, float beta, float *C,
                           int ldc, long sC, int batch)
{
    CUBLAS_CHECK(cublasSgemmStridedBatched(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           N, M, K, &alpha, B, ldb, sB, A, lda, sA, &beta, C, ldc, sC, batch));
    return GROK_OK;
}

/* A (R,N) with row stride lda -> y (N) += column sums (a bias gradient). cuBLAS's gemv
   against a vector of ones: deterministic, unlike float atomics. ones holds >= R ones. */
static int gc_colsum_add(cublasHandle_t h, float *y, const float *A, int R, int N, int lda, const float *ones)
{
    const float one = 1.0f;
    if (!y) return GROK_OK;
    CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, N, R, &one, A, lda, ones, 1, &one, y, 1));
    return GROK_OK;
}

/* The elementwise kernels are grid-stride loops over an item function (GC_HD) that the host
   can call too: tests/test_cuda checks the items' index arithmetic against grok.h's CPU
   functions on machines without a GPU. */
#define GC_HD static __host__ __device__ inline
/* Every launch goes through GC_LAUNCH, so that tests/test_cuda_host can run the same
   orchestration with each kernel replaced by its item loop on the host. */
#ifndef GC_LAUNCH
#define GC_LAUNCH(kernel, grid, block, stream) kernel<<<(grid), (block), 0, (stream)>>>
#endif
#define GC_FOR(i, n) for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (n); i += (long)gridDim.x * blockDim.x)

__global__ void k_fill(float *x, long n, float v)
{
    GC_FOR(i, n) x[i] = v;
}

/* tokens (R), W_E (Vin,C), W_pos (T,C) or NULL -> out (R,C) = W_E[token] + W_pos[r % T];
   item i = r*C + c. */
GC_HD void gc_embed_forward_at(long i, float *out, const int *tokens, const float *W_E, const float *W_pos, int T, int C)
{
    long r = i / C, c = i % C;
    float e = W_E[(long)tokens[r] * C + c];
    out[i] = W_pos ? e + W_pos[(r % T) * C + c] : e;
}

__global__ void k_embed_forward(float *out, const int *tokens, const float *W_E, const float *W_pos, int R, int T,
                                int C)
{
    GC_FOR(i, (long)R * C) gc_embed_forward_at(i, out, tokens, W_E, W_pos, T, C);
}

/* dout (R,C) -> dW_E (Vin,C) += the rows of each token. One block per vocabulary row v sums
   the rows rows[off[v] .. off[v+1]) (ascending: the CPU's order, so the same bits) into the
   row's gradient: a scatter-add without atomics. Launch with Vin blocks. */
GC_HD void gc_embed_backward_at(int v, int c, float *dW_E, const float *dout, const int *off, const int *rows, int C)
{
    float acc = dW_E[(long)v * C + c];
    for (int i = off[v]; i < off[v + 1]; i++) acc += dout[(long)rows[i] * C + c];
    dW_E[(long)v * C + c] = acc;
}

__global__ void k_embed_backward(float *dW_E, const float *dout, const int *off, const int *rows, int Vin, int C)
{
    int v = blockIdx.x;
    if (v >= Vin) return;
    for (int c = threadIdx.x; c < C; c += blockDim.x) gc_embed_backward_at(v, c, dW_E, dout, off, rows, C);
}

/* y (R,N) -> y = res + (y + b) (res, b may be NULL): a GEMM's bias and residual add, in the
   CPU's order (bias in the GEMM's epilogue, then the residual). */
GC_HD void gc_bias_residual_at(long i, float *y, const float *b, const float *res, int N)
{
    float v = b ? y[i] + b[i % N] : y[i];
    y[i] = res ? res[i] + v : v;
}

__global__ void k_bias_residual(float *y, const float *b, const float *res, int R, int N)
{
    GC_FOR(i, (long)R * N) gc_bias_residual_at(i, y, b, res, N);
}

GC_HD float gc_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
GC_HD float gc_gelu_grad(float x)
{
    return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
}

/* pre (n) -> post (n) = act(pre); act 0 ReLU (0 for NaN and -0, as grok.h), 1 GeLU. */
GC_HD void gc_act_forward_at(long i, float *post, const float *pre, int act)
{
    post[i] = act == GROK_ACT_RELU ? (pre[i] > 0.0f ? pre[i] : 0.0f) : gc_gelu(pre[i]);
}

__global__ void k_act_forward(float *post, const float *pre, long n, int act)
{
    GC_FOR(i, n) gc_act_forward_at(i, post, pre, act);
}

/* dpost (n), pre (n) -> dpre (n) = dpost * act'(pre) (may alias dpost). */
GC_HD void gc_act_backward_at(long i, float *dpre, const float *dpost, const float *pre, int act)
{
    dpre[i] = act == GROK_ACT_RELU ? (pre[i] > 0.0f ? dpost[i] : 0.0f) : dpost[i] * gc_gelu_grad(pre[i]);
}

__global__ void k_act_backward(float *dpre, const float *dpost, const float *pre, long n, int act)
{
    GC_FOR(i, n) gc_act_backward_at(i, dpre, dpost, pre, act);
}

/* Reductions across the lanes that share a row, in a fixed tree order: a warp for LayerNorm,
   a block of GC_THREADS for cross-entropy. On the host (one lane per row: nl = 1) they return
   their input and the row functions below run serially, in grok.h's order. */
GC_HD double gc_warp_sum(double v)
{
#ifdef __CUDA_ARCH__
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    v = __shfl_sync(0xffffffffu, v, 0);
#endif
    return v;
}

GC_HD void gc_barrier(void)
{
#ifdef __CUDA_ARCH__
    __syncthreads();
#endif
}

GC_HD double gc_block_sum(double v)
{
#ifdef __CUDA_ARCH__
    __shared__ double sh[GC_THREADS];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int o = GC_THREADS / 2; o > 0; o >>= 1) {
        if ((int)threadIdx.x < o) sh[threadIdx.x] += sh[threadIdx.x + o];
        __syncthreads();
    }
    v = sh[0];
    __syncthreads();
#endif
    return v;
}

/* (value, index) of each lane -> the block's largest value, on a tie the smallest index (the
   first maximum); index -1 marks a lane without a value. */
GC_HD void gc_block_argmax(float *value, int *index)
{
#ifdef __CUDA_ARCH__
    __shared__ float sv[GC_THREADS];
    __shared__ int si[GC_THREADS];
    sv[threadIdx.x] = *value;
    si[threadIdx.x] = *index;
    __syncthreads();
    for (int o = GC_THREADS / 2; o > 0; o >>= 1) {
        if ((int)threadIdx.x < o) {
            int j = threadIdx.x + o;
            if (si[j] >= 0 && (si[threadIdx.x] < 0 || sv[j] > sv[threadIdx.x] ||
                               (sv[j] == sv[threadIdx.x] && si[j] < si[threadIdx.x]))) {
                sv[threadIdx.x] = sv[j];
                si[threadIdx.x] = si[j];
            }
        }
        __syncthreads();
    }
    *value = sv[0];
    *index = si[0];
    __syncthreads();
#else
    (void)value; (void)index;
#endif
}

/* TransformerLens' LayerNorm of row r by lanes lane, lane + nl, ..: sums in double as on the
   CPU. inp (R,C), w, b (C) -> out (R,C), mean, rstd (R). */
GC_HD void gc_layernorm_forward_row(long r, int lane, int nl, float *out, float *mean, float *rstd, const float *inp,
                                    const float *w, const float *b, int C, float eps)
{
    const float *x = inp + r * C;
    double s = 0.0, var = 0.0;
    for (int c = lane; c < C; c += nl) s += x[c];
    float m = (float)(gc_warp_sum(s) / C);
    for (int c = lane; c < C; c += nl) var += (double)(x[c] - m) * (x[c] - m);
    float sd = (float)(1.0 / sqrt(gc_warp_sum(var) / C + eps));
    for (int c = lane; c < C; c += nl) out[r * C + c] = (x[c] - m) * sd * w[c] + b[c];
    if (lane == 0) { mean[r] = m; rstd[r] = sd; }
}

/* One warp per row; launch (R + 3) / 4 blocks of GC_THREADS. */
__global__ void k_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                    const float *b, int R, int C, float eps)
{
    long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) / 32;
    if (r >= R) return; /* whole warps leave together: r is the same across a warp */
    gc_layernorm_forward_row(r, threadIdx.x % 32, 32, out, mean, rstd, inp, w, b, C, eps);
}

/* dout (R,C), inp (R,C), mean, rstd (R), w (C) -> dinp (R,C) +=, and xg (R,C) = dout * xhat,
   whose column sums are d w (taken by gc_colsum_add, as d b is from dout's). */
GC_HD void gc_layernorm_backward_row(long r, int lane, int nl, float *dinp, float *xg, const float *dout,
                                     const float *inp, const float *mean, const float *rstd, const float *w, int C)
{
    const float *x = inp + r * C, *d = dout + r * C;
    float m = mean[r], s = rstd[r];
    double sum_g = 0.0, sum_gx = 0.0;
    for (int c = lane; c < C; c += nl) {
        float g = d[c] * w[c];
        sum_g += g;
        sum_gx += (double)g * ((x[c] - m) * s);
    }
    float mg = (float)(gc_warp_sum(sum_g) / C), mgx = (float)(gc_warp_sum(sum_gx) / C);
    for (int c = lane; c < C; c += nl) {
        float xhat = (x[c] - m) * s;
        dinp[r * C + c] += (d[c] * w[c] - mg - xhat * mgx) * s;
        xg[r * C + c] = d[c] * xhat;
    }
}

__global__ void k_layernorm_backward(float *dinp, float *xg, const float *dout, const float *inp, const float *mean,
                                     const float *rstd, const float *w, int R, int C)
{
    long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) / 32;
    if (r >= R) return;
    gc_layernorm_backward_row(r, threadIdx.x % 32, 32, dinp, xg, dout, inp, mean, rstd, w, C);
}

/* Cross-entropy of row r, which has a target (grok.h's crossentropy_forward): the argmax
   (first maximum), numerators e = grok__expf(x - max) into probs, their sum in double (in 8
   lane sums as grok.h's softmax kernels: with nl = 1 the same bits), loss = log(sum) -
   (x[target] - max) in double. logits, probs (R,V), targets (R) -> row_sum, row_loss,
   row_correct (R). */
GC_HD void gc_ce_forward_row(long r, int lane, int nl, float *probs, double *row_sum, double *row_loss,
                             int *row_correct, const float *logits, const int *targets, int V)
{
    const float *x = logits + r * V;
    float *e = probs + r * V, mx = 0.0f;
    int best = -1;
    double sum, s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int v = lane; v < V; v += nl)
        if (best < 0 || x[v] > mx) { mx = x[v]; best = v; }
    gc_block_argmax(&mx, &best);
    for (int v = lane; v < V; v += nl) {
        e[v] = grok__expf(x[v] - mx);
        s[v % 8] += e[v];
    }
    sum = gc_block_sum(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    if (lane == 0) {
        int t = targets[r];
        row_sum[r] = sum;
        row_loss[r] = log(sum) - ((double)x[t] - mx);
        row_correct[r] = best == t;
    }
}

/* One block per row: launch R blocks of GC_THREADS. */
__global__ void k_ce_forward(float *probs, double *row_sum, double *row_loss, int *row_correct, const float *logits,
                             const int *targets, int R, int V)
{
    long r = blockIdx.x;
    if (r >= R || targets[r] < 0) return; /* the whole block leaves: r is the block's */
    gc_ce_forward_row(r, threadIdx.x, GC_THREADS, probs, row_sum, row_loss, row_correct, logits, targets, V);
}

/* probs (R,V) numerators -> in place d loss / d logits = (softmax - onehot) * dscale, the
   target's p - 1 formed in double; a row without a target gets 0. */
GC_HD void gc_ce_backward_row(long r, int lane, int nl, float *probs, const double *row_sum, const int *targets, int V,
                              double dscale)
{
    float *d = probs + r * V;
    int t = targets[r];
    if (t < 0) { /* the same for every lane of the row */
        for (int v = lane; v < V; v += nl) d[v] = 0.0f;
        return;
    }
    double scale = dscale / row_sum[r];
    double dtarget = (double)d[t] * scale - dscale; /* read before any lane overwrites d[t] */
    gc_barrier();
    for (int v = lane; v < V; v += nl) d[v] = (float)(d[v] * scale);
    gc_barrier();
    if (lane == 0) d[t] = (float)dtarget;
}

__global__ void k_ce_backward(float *probs, const double *row_sum, const int *targets, int R, int V, double dscale)
{
    long r = blockIdx.x;
    if (r >= R) return;
    gc_ce_backward_row(r, threadIdx.x, GC_THREADS, probs, row_sum, targets, V, dscale);
}

/* row_loss, row_correct, targets (R) -> out[2*slot] (+)= summed loss, out[2*slot+1] (+)=
   correct count over target rows; slot = *slot_ptr, or 0 when NULL. */
GC_HD void gc_loss_sum_lanes(int lane, int nl, double *out, const int *slot_ptr, const double *row_loss,
                             const int *row_correct, const int *targets, int R, int accumulate)
{
    double loss = 0.0, correct = 0.0;
    for (int r = lane; r < R; r += nl)
        if (targets[r] >= 0) { loss += row_loss[r]; correct += row_correct[r]; }
    loss = gc_block_sum(loss);
    correct = gc_block_sum(correct);
    if (lane == 0) {
        double *o = out + 2 * (slot_ptr ? *slot_ptr : 0);
        o[0] = accumulate ? o[0] + loss : loss;
        o[1] = accumulate ? o[1] + correct : correct;
    }
}

/* One block of GC_THREADS, a fixed order: deterministic. */
__global__ void k_loss_sum(double *out, const int *slot_ptr, const double *row_loss, const int *row_correct,
                           const int *targets, int R, int accumulate)
{
    gc_loss_sum_lanes(threadIdx.x, GC_THREADS, out, slot_ptr, row_loss, row_correct, targets, R, accumulate);
}

/* The per-step scalars of AdamW, computed on the host exactly as grok_model_adamw_step does. */
typedef struct gc_adam {
    float lr_wd_keep, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, pad;
} gc_adam;

/* PyTorch's AdamW on every element whose mask byte is 1 (the trainable parameters; frozen
   ones and the table's padding are not touched), with the scalars of sched[*slot] (slot NULL:
   sched[0]). The element math is grok.h's, line for line; with --fmad=false the same bits. */
GC_HD void gc_adamw_at(long i, float *p, const float *g, float *m, float *v, const unsigned char *mask, const gc_adam *a)
{
    if (!mask[i]) return;
    float gi = g[i], mi, vi, denom, pi = p[i] * a->lr_wd_keep;
    mi = m[i] + a->one_minus_beta1 * (gi - m[i]);
    vi = v[i] * a->beta2 + a->one_minus_beta2 * gi * gi;
    denom = sqrtf(vi) / a->bc2_sqrt + a->eps;
    p[i] = pi + -a->step_size * mi / denom;
    m[i] = mi;
    v[i] = vi;
}

__global__ void k_adamw(float *p, const float *g, float *m, float *v, const unsigned char *mask, long n,
                        const gc_adam *sched, const int *slot)
{
    const gc_adam a = sched[slot ? *slot : 0];
    GC_FOR(i, n) gc_adamw_at(i, p, g, m, v, mask, &a);
}

__global__ void k_count(int *ctr) { *ctr += 1; }

/* Host side of AdamW's scalars for optimizer step `step` (0-based), grok_model_adamw_step's
   checks and formulas. */
static int gc_adam_scalars(gc_adam *a, const grok_adamw *o, long step)
{
    double lr, t;
    if (!(o->lr >= 0.0) || !(o->weight_decay >= 0.0) || !(o->beta1 >= 0.0 && o->beta1 < 1.0) ||
        !(o->beta2 >= 0.0 && o->beta2 < 1.0) || !(o->eps >= 0.0))
        return GC_FAIL(GROK_ERR_ARG, "AdamW: need lr, wd, eps >= 0 and betas in [0, 1)");
    if (o->orthogonal || o->fixed_norm != 0.0)
        return GC_FAIL(GROK_ERR_ARG, "AdamW: the orthogonal gradient and a fixed norm are not implemented in grok_cuda.cu");
    lr = o->lr * (o->lr_schedule ? o->lr_schedule(step, o->lr_schedule_ctx) : 1.0);
    if (!isfinite(lr)) return GC_FAIL(GROK_ERR_NUMERIC, "AdamW: learning rate %g at step %ld", lr, step);
    t = (double)(step + 1);
    memset(a, 0, sizeof *a);
    a->lr_wd_keep = (float)(1.0 - lr * o->weight_decay);
    a->one_minus_beta1 = (float)(1.0 - o->beta1);
    a->beta2 = (float)o->beta2;
    a->one_minus_beta2 = (float)(1.0 - o->beta2);
    a->step_size = (float)(lr / (1.0 - pow(o->beta1, t)));
    a->bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, t));
    a->eps = (float)o->eps;
    return GROK_OK;
}

/* ------------------------------------------------- transformer kernels */

/* W_Q, W_K, W_V (H,C,D), b_Q, b_K, b_V (H,D) -> wqkv (C, 3*H*D), bqkv (3*H*D): column
   s*H*D + h*D + d holds W_s[h][c][d] (grok.h's qkv_pack). */
GC_HD void gc_qkv_pack_at(long i, float *wqkv, float *bqkv, const float *Wq, const float *Wk, const float *Wv,
                          const float *bq, const float *bk, const float *bv, int C, int H, int D)
{
    long HD = (long)H * D, n = (long)C * 3 * HD;
    long col = i < n ? i % (3 * HD) : i - n, s = col / HD, h = (col % HD) / D, d = col % D;
    if (i < n) {
        long c = i / (3 * HD);
        const float *W = s == 0 ? Wq : s == 1 ? Wk : Wv;
        wqkv[i] = W[(h * C + c) * D + d];
    } else {
        const float *b = s == 0 ? bq : s == 1 ? bk : bv;
        bqkv[col] = b[h * D + d];
    }
}

__global__ void k_qkv_pack(float *wqkv, float *bqkv, const float *Wq, const float *Wk, const float *Wv,
                           const float *bq, const float *bk, const float *bv, int C, int H, int D)
{
    GC_FOR(i, (long)C * 3 * H * D + 3L * H * D) gc_qkv_pack_at(i, wqkv, bqkv, Wq, Wk, Wv, bq, bk, bv, C, H, D);
}

/* dwqkv (C, 3*H*D) -> dW_Q, dW_K, dW_V (H,C,D) += (a NULL one is frozen, skipped). */
GC_HD void gc_qkv_unpack_add_at(long i, float *dWq, float *dWk, float *dWv, const float *dwqkv, int C, int H, int D)
{
    long HD = (long)H * D;
    long c = i / (3 * HD), col = i % (3 * HD), s = col / HD, h = (col % HD) / D, d = col % D;
    float *dW = s == 0 ? dWq : s == 1 ? dWk : dWv;
    if (dW) dW[(h * C + c) * D + d] += dwqkv[i];
}

__global__ void k_qkv_unpack_add(float *dWq, float *dWk, float *dWv, const float *dwqkv, int C, int H, int D)
{
    GC_FOR(i, (long)C * 3 * H * D) gc_qkv_unpack_add_at(i, dWq, dWk, dWv, dwqkv, C, H, D);
}

/* Causal softmax in place, one thread per (b,h,t) row i: scores (B,H,T,T) -> pattern
   (B,H,T,T), 0 above the diagonal (grok.h's attention softmax: max, expf, double sum, divide). */
GC_HD void gc_attn_softmax_row(long i, float *pat, int T)
{
    float *row = pat + i * T, mx = -INFINITY;
    int t = (int)(i % T), u;
    double sum = 0.0;
    for (u = 0; u <= t; u++) mx = row[u] > mx ? row[u] : mx;
    for (u = 0; u <= t; u++) { row[u] = expf(row[u] - mx); sum += row[u]; }
    for (u = 0; u <= t; u++) row[u] = (float)(row[u] / sum);
    for (u = t + 1; u < T; u++) row[u] = 0.0f;
}

__global__ void k_attn_softmax(float *pat, long rows, int T)
{
    GC_FOR(i, rows) gc_attn_softmax_row(i, pat, T);
}

/* pattern, dpattern (B,H,T,T) -> in place dscores = pattern * (dpattern - rowdot) * scale,
   rowdot = sum_u pattern * dpattern; 0 above the diagonal. One thread per row. */
GC_HD void gc_attn_softmax_backward_row(long i, float *dpat, const float *pat, int T, float scale)
{
    float *d = dpat + i * T, dot = 0.0f;
    const float *p = pat + i * T;
    int t = (int)(i % T), u;
    for (u = 0; u <= t; u++) dot += p[u] * d[u];
    for (u = 0; u <= t; u++) d[u] = p[u] * (d[u] - dot) * scale;
    for (u = t + 1; u < T; u++) d[u] = 0.0f;
}

__global__ void k_attn_softmax_backward(float *dpat, const float *pat, long rows, int T, float scale)
{
    GC_FOR(i, rows) gc_attn_softmax_backward_row(i, dpat, pat, T, scale);
}

/* --------------------------------------------------------- net kernels */

/* A net's x_embed and y_embed (B,E) live stacked as xy (2B,E): x rows first, then y rows, so
   one CSR over both tables (2N keys) scatters their gradients. n = B*E. */

/* xy (2B,E) -> product (B,E) = x_embed * y_embed (BilinearNet). */
GC_HD void gc_bilinear_forward_at(long i, float *prod, const float *xy, long n) { prod[i] = xy[i] * xy[n + i]; }

__global__ void k_bilinear_forward(float *prod, const float *xy, long n)
{
    GC_FOR(i, n) gc_bilinear_forward_at(i, prod, xy, n);
}

/* dproduct (B,E), xy (2B,E) -> dxy (2B,E): d x_embed = dproduct * y_embed, d y_embed =
   dproduct * x_embed (grok_net_backward's products, the same bits). */
GC_HD void gc_bilinear_backward_at(long i, float *dxy, const float *dprod, const float *xy, long n)
{
    dxy[i] = dprod[i] * xy[n + i];
    dxy[n + i] = dprod[i] * xy[i];
}

__global__ void k_bilinear_backward(float *dxy, const float *dprod, const float *xy, long n)
{
    GC_FOR(i, n) gc_bilinear_backward_at(i, dxy, dprod, xy, n);
}

/* ------------------------------------------------------ device state */

enum { /* parameters of one block, grok.h's order and names */
    GC_LN1_W, GC_LN1_B, GC_W_Q, GC_W_K, GC_W_V, GC_W_O, GC_B_Q, GC_B_K, GC_B_V, GC_B_O,
    GC_LN2_W, GC_LN2_B, GC_W_IN, GC_B_IN, GC_W_OUT, GC_B_OUT, GC_BLOCK_PARAMS
};
static const char *const gc_block_names[GC_BLOCK_PARAMS] = {
    "ln1.w", "ln1.b", "attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O", "attn.b_Q", "attn.b_K",
    "attn.b_V", "attn.b_O", "ln2.w", "ln2.b", "mlp.W_in", "mlp.b_in", "mlp.W_out", "mlp.b_out"};

typedef struct {
    float *resid_pre, *ln1_out, *ln1_mean, *ln1_rstd, *qkv, *pattern, *z, *resid_mid;
    float *ln2_out, *ln2_mean, *ln2_rstd, *mlp_pre, *mlp_post, *wqkv, *bqkv;
} gc_layer;

/* A data set on the device: tokens, targets (n*T), and the rows of each token in ascending
   order as CSR (off (Vin+1), rows (n*T)) for the embedding's scatter-add. A net's: tokens
   (2n) the a column then the b column, targets (n) the labels, CSR over the keys a, b + N. */
typedef struct {
    int n, n_targets;
    int *tokens, *targets, *off, *rows;
} gc_data;

struct grok_cuda {
    /* ---- any model type (gc_init_common): parameters, optimizer, loss, data, graph */
    int n_params, max_rows;
    size_t np;                   /* floats in each parameter buffer (the host table's layout) */
    size_t *offset;              /* (n_params) the table's offsets */
    unsigned char *trainable;    /* (n_params) host copy of the flags the backward was set up with */
    unsigned char *mask_h;       /* (np) host staging of mask */
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_ws;               /* cuBLAS's workspace, set so that graph capture allocates nothing */
    float *w, *g, *am, *av;      /* device: weights, grads, AdamW moments */
    unsigned char *mask;         /* device (np): 1 where AdamW updates */
    float *logits, *dlogits, *ones; /* device: (R,V) twice, (R) ones for column sums */
    double *row_sum, *row_loss, *stats; /* device: (R), (R), (GC_WINDOW, 2) losses and correct counts */
    int *row_correct, *tokens, *targets, *off, *rows, *ctr; /* device: a forward's input and CSR */
    gc_adam *sched;              /* device (GC_WINDOW) */
    gc_data train, test;
    gc_adam *sched_h;            /* pinned host memory */
    double *stats_h;
    int *csr_h;                  /* (Vin + 1 + max_rows + Vin) off, rows, fill counters */
    int last_B, last_targets;    /* last forward through grok_cuda_forward */
    int use_graph;               /* the training epoch as a CUDA graph */
    cudaGraphExec_t graph;
    /* ---- the transformer (gc_init_transformer) */
    grok_config cfg;
    int idx_W_E, idx_W_pos, idx_lnf_w, idx_lnf_b, idx_W_U, idx_b_U;
    int *block_idx;              /* (n_layers * GC_BLOCK_PARAMS), -1 absent */
    gc_layer *layer;             /* host array of device pointers, n_layers */
    float *resid_final, *lnf_out, *lnf_mean, *lnf_rstd;
    float *dresid, *dln, *dqkv, *dz, *dmlp, *dwqkv, *dpat, *xg;
    /* ---- a seed-003 net (gc_init_net). cfg then describes its rows for the shared code:
       n_ctx 1 (a row is one pair), d_vocab and d_vocab_out the group order n, no layers. */
    int net;                     /* 1: the state of a grok_net */
    grok_net_config ncfg;
    float *xy, *dxy;             /* device (2B,E): x_embed rows, then y_embed rows */
    float *mid, *dmid;           /* device (B,W): product (bilinear) or hidden (MLP) */
    int *pair_h;                 /* pinned (3B): a forward's a, b + n and labels */
};

static float *gc_p(const grok_cuda *g, float *buf, int idx) { return idx < 0 ? NULL : buf + g->offset[idx]; }
static float *gc_grad(const grok_cuda *g, int idx)
{
    return idx < 0 || !g->trainable[idx] ? NULL : g->g + g->offset[idx];
}
static float *gc_bp(const grok_cuda *g, float *buf, int l, int k) { return gc_p(g, buf, g->block_idx[l * GC_BLOCK_PARAMS + k]); }
static float *gc_bg(const grok_cuda *g, int l, int k) { return gc_grad(g, g->block_idx[l * GC_BLOCK_PARAMS + k]); }

/* ----------------------------------------------- transformer forward/backward */

/* tokens (R) on the device -> logits (R,V), every activation kept for the backward. The
   general path of grok.h, with cuBLAS GEMMs. */
static int gc_forward(grok_cuda *g, const int *tokens, int B)
{
    const grok_config *c = &g->cfg;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int R = B * T, ln = c->normalization == GROK_NORM_LN, l, s;
    float eps = (float)c->ln_eps, scale = 1.0f / sqrtf((float)D), *w = g->w;
    cudaStream_t st = g->stream;
    GC_LAUNCH(k_embed_forward, gc_grid((long)R * C), 256, st)(g->layer[0].resid_pre, tokens, gc_p(g, w, g->idx_W_E),
                                                          gc_p(g, w, g->idx_W_pos), R, T, C);
    LAUNCH_CHECK();
    for (l = 0; l < c->n_layers; l++) {
        gc_layer *L = &g->layer[l];
        float *next = l + 1 < c->n_layers ? g->layer[l + 1].resid_pre : g->resid_final;
        if (ln) {
            GC_LAUNCH(k_layernorm_forward, (R + 3) / 4, GC_THREADS, st)(L->ln1_out, L->ln1_mean, L->ln1_rstd, L->resid_pre,
                                                                    gc_bp(g, w, l, GC_LN1_W), gc_bp(g, w, l, GC_LN1_B), R, C, eps);
            LAUNCH_CHECK();
        }
        GC_LAUNCH(k_qkv_pack, gc_grid((long)C * 3 * HD + 3 * HD), 256, st)(
            L->wqkv, L->bqkv, gc_bp(g, w, l, GC_W_Q), gc_bp(g, w, l, GC_W_K), gc_bp(g, w, l, GC_W_V),
            gc_bp(g, w, l, GC_B_Q), gc_bp(g, w, l, GC_B_K), gc_bp(g, w, l, GC_B_V), C, H, D);
        LAUNCH_CHECK();
        TRY(gc_gemm(g->blas, 0, 0, R, 3 * HD, C, 1.0f, L->ln1_out, C, L->wqkv, 3 * HD, 0.0f, L->qkv, 3 * HD));
        GC_LAUNCH(k_bias_residual, gc_grid((long)R * 3 * HD), 256, st)(L->qkv, L->bqkv, NULL, R, 3 * HD);
        LAUNCH_CHECK();
        /* attention, per head over the batch: scores (T,T) = q k^T * scale, then z = pattern v */
        for (s = 0; s < H; s++) {
            const float *q = L->qkv + s * D, *k = L->qkv + HD + s * D;
            TRY(gc_gemm_batched(g->blas, 0, 1, T, T, D, scale, q, 3 * HD, (long)T * 3 * HD, k, 3 * HD,
                                (long)T * 3 * HD, 0.0f, L->pattern + (long)s * T * T, T, (long)H * T * T, B));
        }
        GC_LAUNCH(k_attn_softmax, gc_grid((long)B * H * T), 256, st)(L->pattern, (long)B * H * T, T);
        LAUNCH_CHECK();
        for (s = 0; s < H; s++)
            TRY(gc_gemm_batched(g->blas, 0, 0, T, D, T, 1.0f, L->pattern + (long)s * T * T, T, (long)H * T * T,
                                L->qkv + 2 * HD + s * D, 3 * HD, (long)T * 3 * HD, 0.0f, L->z + s * D, HD, (long)T * HD, B));
        /* resid_mid = resid_pre + (z @ W_O + b_O) */
        TRY(gc_gemm(g->blas, 0, 0, R, C, HD, 1.0f, L->z, HD, gc_bp(g, w, l, GC_W_O), C, 0.0f, L->resid_mid, C));
        GC_LAUNCH(k_bias_residual, gc_grid((long)R * C), 256, st)(L->resid_mid, gc_bp(g, w, l, GC_B_O), L->resid_pre, R, C);
        LAUNCH_CHECK();
        if (ln) {
            GC_LAUNCH(k_layernorm_forward, (R + 3) / 4, GC_THREADS, st)(L->ln2_out, L->ln2_mean, L->ln2_rstd, L->resid_mid,
                                                                    gc_bp(g, w, l, GC_LN2_W), gc_bp(g, w, l, GC_LN2_B), R, C, eps);
            LAUNCH_CHECK();
        }
        TRY(gc_gemm(g->blas, 0, 0, R, M, C, 1.0f, L->ln2_out, C, gc_bp(g, w, l, GC_W_IN), M, 0.0f, L->mlp_pre, M));
        GC_LAUNCH(k_bias_residual, gc_grid((long)R * M), 256, st)(L->mlp_pre, gc_bp(g, w, l, GC_B_IN), NULL, R, M);
        LAUNCH_CHECK();
        GC_LAUNCH(k_act_forward, gc_grid((long)R * M), 256, st)(L->mlp_post, L->mlp_pre, (long)R * M, (int)c->act_fn);
        LAUNCH_CHECK();
        TRY(gc_gemm(g->blas, 0, 0, R, C, M, 1.0f, L->mlp_post, M, gc_bp(g, w, l, GC_W_OUT), C, 0.0f, next, C));
        GC_LAUNCH(k_bias_residual, gc_grid((long)R * C), 256, st)(next, gc_bp(g, w, l, GC_B_OUT), L->resid_mid, R, C);
        LAUNCH_CHECK();
    }
    if (ln) {
        GC_LAUNCH(k_layernorm_forward, (R + 3) / 4, GC_THREADS, st)(g->lnf_out, g->lnf_mean, g->lnf_rstd, g->resid_final,
                                                                gc_p(g, w, g->idx_lnf_w), gc_p(g, w, g->idx_lnf_b), R, C, eps);
        LAUNCH_CHECK();
    }
    TRY(gc_gemm(g->blas, 0, 0, R, V, C, 1.0f, g->lnf_out, C, gc_p(g, w, g->idx_W_U), V, 0.0f, g->logits, V));
    GC_LAUNCH(k_bias_residual, gc_grid((long)R * V), 256, st)(g->logits, gc_p(g, w, g->idx_b_U), NULL, R, V);
    LAUNCH_CHECK();
    return GROK_OK;
}

/* grok.h's matmul_backward: dout (R,OC), inp (R,IC), weight (IC,OC) -> dinp (R,IC) (+= if
   accumulate), dweight (IC,OC) +=, dbias (OC) +=; NULL outputs are skipped. */
static int gc_matmul_backward(grok_cuda *g, float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int R, int IC, int OC, int accumulate)
{
    if (dinp) TRY(gc_gemm(g->blas, 0, 1, R, IC, OC, 1.0f, dout, OC, weight, OC, accumulate ? 1.0f : 0.0f, dinp, IC));
    if (dweight) TRY(gc_gemm(g->blas, 1, 0, IC, OC, R, 1.0f, inp, IC, dout, OC, 1.0f, dweight, OC));
    return gc_colsum_add(g->blas, dbias, dout, R, OC, OC, g->ones);
}

/* grok.h's layernorm_backward: dinp (R,C) +=, dw, db (C) += (NULL: frozen). */
static int gc_layernorm_backward(grok_cuda *g, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                                 const float *mean, const float *rstd, const float *w, int R, int C)
{
    GC_LAUNCH(k_layernorm_backward, (R + 3) / 4, GC_THREADS, g->stream)(dinp, g->xg, dout, inp, mean, rstd, w, R, C);
    LAUNCH_CHECK();
    TRY(gc_colsum_add(g->blas, dw, g->xg, R, C, C, g->ones));
    return gc_colsum_add(g->blas, db, dout, R, C, C, g->ones);
}

/* The backward of the last gc_forward over B sequences, from d loss / d logits in
   g->dlogits: ADDS into g->g for every trainable parameter (frozen ones untouched). tokens
   and the CSR (off, rows) are the forward's. */
static int gc_backward(grok_cuda *g, const int *off, const int *rows, int B)
{
    const grok_config *c = &g->cfg;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int R = B * T, ln = c->normalization == GROK_NORM_LN, l, s;
    float scale = 1.0f / sqrtf((float)D), *w = g->w;
    cudaStream_t st = g->stream;
    if (ln) {
        TRY(gc_matmul_backward(g, g->dln, gc_grad(g, g->idx_W_U), gc_grad(g, g->idx_b_U), g->dlogits, g->lnf_out,
                               gc_p(g, w, g->idx_W_U), R, C, V, 0));
        CUDA_CHECK(cudaMemsetAsync(g->dresid, 0, sizeof(float) * (size_t)R * C, st));
        TRY(gc_layernorm_backward(g, g->dresid, gc_grad(g, g->idx_lnf_w), gc_grad(g, g->idx_lnf_b), g->dln,
                                  g->resid_final, g->lnf_mean, g->lnf_rstd, gc_p(g, w, g->idx_lnf_w), R, C));
    } else {
        TRY(gc_matmul_backward(g, g->dresid, gc_grad(g, g->idx_W_U), gc_grad(g, g->idx_b_U), g->dlogits, g->lnf_out,
                               gc_p(g, w, g->idx_W_U), R, C, V, 0));
    }
    for (l = c->n_layers - 1; l >= 0; l--) {
        gc_layer *L = &g->layer[l];
        float *dWq = gc_bg(g, l, GC_W_Q), *dWk = gc_bg(g, l, GC_W_K), *dWv = gc_bg(g, l, GC_W_V);
        /* MLP */
        TRY(gc_matmul_backward(g, g->dmlp, gc_bg(g, l, GC_W_OUT), gc_bg(g, l, GC_B_OUT), g->dresid, L->mlp_post,
                               gc_bp(g, w, l, GC_W_OUT), R, M, C, 0));
        GC_LAUNCH(k_act_backward, gc_grid((long)R * M), 256, st)(g->dmlp, g->dmlp, L->mlp_pre, (long)R * M, (int)c->act_fn);
        LAUNCH_CHECK();
        if (ln) {
            TRY(gc_matmul_backward(g, g->dln, gc_bg(g, l, GC_W_IN), gc_bg(g, l, GC_B_IN), g->dmlp, L->ln2_out,
                                   gc_bp(g, w, l, GC_W_IN), R, C, M, 0));
            TRY(gc_layernorm_backward(g, g->dresid, gc_bg(g, l, GC_LN2_W), gc_bg(g, l, GC_LN2_B), g->dln, L->resid_mid,
                                      L->ln2_mean, L->ln2_rstd, gc_bp(g, w, l, GC_LN2_W), R, C));
        } else {
            TRY(gc_matmul_backward(g, g->dresid, gc_bg(g, l, GC_W_IN), gc_bg(g, l, GC_B_IN), g->dmlp, L->ln2_out,
                                   gc_bp(g, w, l, GC_W_IN), R, C, M, 1));
        }
        /* attention: dz, then per head over the batch dpattern = dz v^T, dv = pattern^T dz,
           dscores (softmax backward), dq = dscores k, dk = dscores^T q */
        TRY(gc_matmul_backward(g, g->dz, gc_bg(g, l, GC_W_O), gc_bg(g, l, GC_B_O), g->dresid, L->z,
                               gc_bp(g, w, l, GC_W_O), R, HD, C, 0));
        for (s = 0; s < H; s++) {
            const float *dz = g->dz + s * D, *v = L->qkv + 2 * HD + s * D;
            long sq = (long)T * 3 * HD, sp = (long)H * T * T;
            TRY(gc_gemm_batched(g->blas, 0, 1, T, T, D, 1.0f, dz, HD, (long)T * HD, v, 3 * HD, sq, 0.0f,
                                g->dpat + (long)s * T * T, T, sp, B));
            TRY(gc_gemm_batched(g->blas, 1, 0, T, D, T, 1.0f, L->pattern + (long)s * T * T, T, sp, dz, HD, (long)T * HD,
                                0.0f, g->dqkv + 2 * HD + s * D, 3 * HD, sq, B));
        }
        GC_LAUNCH(k_attn_softmax_backward, gc_grid((long)B * H * T), 256, st)(g->dpat, L->pattern, (long)B * H * T, T, scale);
        LAUNCH_CHECK();
        for (s = 0; s < H; s++) {
            const float *q = L->qkv + s * D, *k = L->qkv + HD + s * D, *ds = g->dpat + (long)s * T * T;
            long sq = (long)T * 3 * HD, sp = (long)H * T * T;
            TRY(gc_gemm_batched(g->blas, 0, 0, T, D, T, 1.0f, ds, T, sp, k, 3 * HD, sq, 0.0f, g->dqkv + s * D, 3 * HD, sq, B));
            TRY(gc_gemm_batched(g->blas, 1, 0, T, D, T, 1.0f, ds, T, sp, q, 3 * HD, sq, 0.0f, g->dqkv + HD + s * D, 3 * HD,
                                sq, B));
        }
        /* Q/K/V projections: packed like the forward */
        if (dWq || dWk || dWv) {
            TRY(gc_gemm(g->blas, 1, 0, C, 3 * HD, R, 1.0f, L->ln1_out, C, g->dqkv, 3 * HD, 0.0f, g->dwqkv, 3 * HD));
            GC_LAUNCH(k_qkv_unpack_add, gc_grid((long)C * 3 * HD), 256, st)(dWq, dWk, dWv, g->dwqkv, C, H, D);
            LAUNCH_CHECK();
        }
        TRY(gc_gemm(g->blas, 0, 1, R, C, 3 * HD, 1.0f, g->dqkv, 3 * HD, L->wqkv, 3 * HD, ln ? 0.0f : 1.0f,
                    ln ? g->dln : g->dresid, C));
        TRY(gc_colsum_add(g->blas, gc_bg(g, l, GC_B_Q), g->dqkv, R, HD, 3 * HD, g->ones));
        TRY(gc_colsum_add(g->blas, gc_bg(g, l, GC_B_K), g->dqkv + HD, R, HD, 3 * HD, g->ones));
        TRY(gc_colsum_add(g->blas, gc_bg(g, l, GC_B_V), g->dqkv + 2 * HD, R, HD, 3 * HD, g->ones));
        if (ln)
            TRY(gc_layernorm_backward(g, g->dresid, gc_bg(g, l, GC_LN1_W), gc_bg(g, l, GC_LN1_B), g->dln, L->resid_pre,
                                      L->ln1_mean, L->ln1_rstd, gc_bp(g, w, l, GC_LN1_W), R, C));
    }
    /* embeddings: W_E by the CSR scatter-add, W_pos (T*C) as column sums over the B sequences */
    if (gc_grad(g, g->idx_W_E)) {
        GC_LAUNCH(k_embed_backward, c->d_vocab, GC_THREADS, st)(gc_grad(g, g->idx_W_E), g->dresid, off, rows, c->d_vocab, C);
        LAUNCH_CHECK();
    }
    return gc_colsum_add(g->blas, gc_grad(g, g->idx_W_pos), g->dresid, B, T * C, T * C, g->ones);
}

/* ----------------------------------------------------- net forward/backward */

/* Width of the activation W_U reads: embed_dim (bilinear) or hidden_dim (MLP). */
static int gc_net_mid(const grok_cuda *g) { return g->ncfg.kind == GROK_NET_MLP ? g->ncfg.hidden_dim : g->ncfg.embed_dim; }

/* ta, tb (B) on the device -> logits (B,N), xy and mid kept for the backward. Parameters in
   table order: W_E_a, W_E_b, (W,) W_U. The MLP's embed_stack @ W is x_embed @ W[:E] +
   y_embed @ W[E:], two GEMMs over the stacked halves. */
static int gc_net_forward(grok_cuda *g, const int *ta, const int *tb, int B)
{
    int E = g->ncfg.embed_dim, N = g->ncfg.n, Wd = gc_net_mid(g), mlp = g->ncfg.kind == GROK_NET_MLP;
    long n = (long)B * E;
    float *w = g->w, *W_U = gc_p(g, w, g->n_params - 1);
    cudaStream_t st = g->stream;
    GC_LAUNCH(k_embed_forward, gc_grid(n), 256, st)(g->xy, ta, gc_p(g, w, 0), NULL, B, 1, E);
    LAUNCH_CHECK();
    GC_LAUNCH(k_embed_forward, gc_grid(n), 256, st)(g->xy + n, tb, gc_p(g, w, 1), NULL, B, 1, E);
    LAUNCH_CHECK();
    if (mlp) {
        const float *W = gc_p(g, w, 2);
        TRY(gc_gemm(g->blas, 0, 0, B, Wd, E, 1.0f, g->xy, E, W, Wd, 0.0f, g->mid, Wd));
        TRY(gc_gemm(g->blas, 0, 0, B, Wd, E, 1.0f, g->xy + n, E, W + (long)E * Wd, Wd, 1.0f, g->mid, Wd));
        GC_LAUNCH(k_act_forward, gc_grid((long)B * Wd), 256, st)(g->mid, g->mid, (long)B * Wd, (int)GROK_ACT_RELU);
    } else {
        GC_LAUNCH(k_bilinear_forward, gc_grid(n), 256, st)(g->mid, g->xy, n);
    }
    LAUNCH_CHECK();
    return gc_gemm(g->blas, 0, 0, B, N, Wd, 1.0f, g->mid, Wd, W_U, N, 0.0f, g->logits, N);
}

/* The backward of the last gc_net_forward over B rows from g->dlogits: ADDS into g->g for
   every trainable parameter. off (2N+1), rows (2B): the CSR of the keys a, b + N over xy's
   rows, so that W_E_a's rows are off[0..N] and W_E_b's off[N..2N]. */
static int gc_net_backward(grok_cuda *g, const int *off, const int *rows, int B)
{
    int E = g->ncfg.embed_dim, N = g->ncfg.n, Wd = gc_net_mid(g);
    long n = (long)B * E;
    float *w = g->w, *dW_E_a = gc_grad(g, 0), *dW_E_b = gc_grad(g, 1);
    cudaStream_t st = g->stream;
    TRY(gc_matmul_backward(g, g->dmid, gc_grad(g, g->n_params - 1), NULL, g->dlogits, g->mid,
                           gc_p(g, w, g->n_params - 1), B, Wd, N, 0));
    if (g->ncfg.kind == GROK_NET_MLP) {
        const float *W = gc_p(g, w, 2);
        float *dW = gc_grad(g, 2);
        /* hidden > 0 exactly where its input is: the ReLU's mask from its output */
        GC_LAUNCH(k_act_backward, gc_grid((long)B * Wd), 256, st)(g->dmid, g->dmid, g->mid, (long)B * Wd, (int)GROK_ACT_RELU);
        LAUNCH_CHECK();
        TRY(gc_matmul_backward(g, g->dxy, dW, NULL, g->dmid, g->xy, W, B, E, Wd, 0));
        TRY(gc_matmul_backward(g, g->dxy + n, dW ? dW + (long)E * Wd : NULL, NULL, g->dmid, g->xy + n,
                               W + (long)E * Wd, B, E, Wd, 0));
    } else {
        GC_LAUNCH(k_bilinear_backward, gc_grid(n), 256, st)(g->dxy, g->dmid, g->xy, n);
        LAUNCH_CHECK();
    }
    if (dW_E_a) {
        GC_LAUNCH(k_embed_backward, N, GC_THREADS, st)(dW_E_a, g->dxy, off, rows, N, E);
        LAUNCH_CHECK();
    }
    if (dW_E_b) {
        GC_LAUNCH(k_embed_backward, N, GC_THREADS, st)(dW_E_b, g->dxy, off + N, rows, N, E);
        LAUNCH_CHECK();
    }
    return GROK_OK;
}

/* Cross-entropy forward of the last gc_forward, then the loss sums into stats[2*slot]. */
static int gc_loss(grok_cuda *g, const int *targets, int R, double *stats, const int *slot, int accumulate)
{
    int V = g->cfg.d_vocab_out;
    GC_LAUNCH(k_ce_forward, R, GC_THREADS, g->stream)(g->dlogits, g->row_sum, g->row_loss, g->row_correct, g->logits,
                                                  targets, R, V);
    LAUNCH_CHECK();
    GC_LAUNCH(k_loss_sum, 1, GC_THREADS, g->stream)(stats, slot, g->row_loss, g->row_correct, targets, R, accumulate);
    LAUNCH_CHECK();
    return GROK_OK;
}

/* One training epoch on the resident training set, all on the stream (capturable): zero the
   gradients, forward, loss into stats[*ctr], backward, AdamW with sched[*ctr], ctr++. */
static int gc_epoch(grok_cuda *g)
{
    const gc_data *d = &g->train;
    int R = d->n * g->cfg.n_ctx;
    CUDA_CHECK(cudaMemsetAsync(g->g, 0, sizeof(float) * g->np, g->stream));
    TRY(g->net ? gc_net_forward(g, d->tokens, d->tokens + d->n, d->n) : gc_forward(g, d->tokens, d->n));
    TRY(gc_loss(g, d->targets, R, g->stats, g->ctr, 0));
    GC_LAUNCH(k_ce_backward, R, GC_THREADS, g->stream)(g->dlogits, g->row_sum, d->targets, R, g->cfg.d_vocab_out,
                                                   1.0 / d->n_targets);
    LAUNCH_CHECK();
    TRY(g->net ? gc_net_backward(g, d->off, d->rows, d->n) : gc_backward(g, d->off, d->rows, d->n));
    GC_LAUNCH(k_adamw, gc_grid((long)g->np), 256, g->stream)(g->w, g->g, g->am, g->av, g->mask, (long)g->np, g->sched, g->ctr);
    LAUNCH_CHECK();
    GC_LAUNCH(k_count, 1, 1, g->stream)(g->ctr);
    LAUNCH_CHECK();
    return GROK_OK;
}

/* ----------------------------------------------------------- the API */

extern "C" {

GROKDEF int grok_cuda_available(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* no driver or no device: not an error for this question */
        return 0;
    }
    return n;
}

static int gc_param_index(const grok_param *params, int n_params, const char *name)
{
    for (int i = 0; i < n_params; i++)
        if (strcmp(params[i].name, name) == 0) return i;
    return -1;
}

/* Counting sort of the token rows: off (Vin+1), rows (R) ascending within each token;
   fill (Vin) is scratch. tokens must be in range. */
static void gc_csr(int *off, int *rows, int *fill, const int *tokens, int R, int Vin)
{
    memset(off, 0, sizeof(int) * (size_t)(Vin + 1));
    for (int r = 0; r < R; r++) off[tokens[r] + 1]++;
    for (int v = 0; v < Vin; v++) { off[v + 1] += off[v]; fill[v] = off[v]; }
    for (int r = 0; r < R; r++) rows[fill[tokens[r]]++] = r;
}

static int gc_check_tokens(const grok_cuda *g, const int *tokens, const int *targets, long R, const char *who)
{
    for (long r = 0; r < R; r++) {
        if (tokens[r] < 0 || tokens[r] >= g->cfg.d_vocab)
            return GC_FAIL(GROK_ERR_ARG, "%s: token %d at row %ld, position %ld is outside [0, %d)", who, tokens[r],
                           r / g->cfg.n_ctx, r % g->cfg.n_ctx, g->cfg.d_vocab);
        if (targets && (targets[r] < -1 || targets[r] >= g->cfg.d_vocab_out))
            return GC_FAIL(GROK_ERR_ARG, "%s: target %d at row %ld, position %ld is outside [-1, %d)", who, targets[r],
                           r / g->cfg.n_ctx, r % g->cfg.n_ctx, g->cfg.d_vocab_out);
    }
    return GROK_OK;
}

static int gc_alloc(void **p, size_t bytes)
{
    CUDA_CHECK(cudaMalloc(p, bytes ? bytes : 1));
    return GROK_OK;
}
#define GC_ALLOC(ptr, count) TRY(gc_alloc((void **)&(ptr), sizeof(*(ptr)) * (size_t)(count)))

static void gc_data_free(gc_data *d)
{
    cudaFree(d->tokens); cudaFree(d->targets); cudaFree(d->off); cudaFree(d->rows);
    memset(d, 0, sizeof *d);
}

GROKDEF void grok_cuda_free(grok_cuda *g)
{
    int l;
    if (!g) return;
    if (g->graph) cudaGraphExecDestroy(g->graph);
    gc_data_free(&g->train);
    gc_data_free(&g->test);
    for (l = 0; g->layer && l < g->cfg.n_layers; l++) {
        gc_layer *L = &g->layer[l];
        cudaFree(L->resid_pre); cudaFree(L->qkv); cudaFree(L->pattern); cudaFree(L->z); cudaFree(L->resid_mid);
        cudaFree(L->mlp_pre); cudaFree(L->mlp_post); cudaFree(L->wqkv); cudaFree(L->bqkv);
        if (g->cfg.normalization == GROK_NORM_LN) {
            cudaFree(L->ln1_out); cudaFree(L->ln1_mean); cudaFree(L->ln1_rstd);
            cudaFree(L->ln2_out); cudaFree(L->ln2_mean); cudaFree(L->ln2_rstd);
        }
    }
    if (g->cfg.normalization == GROK_NORM_LN) { cudaFree(g->lnf_out); cudaFree(g->lnf_mean); cudaFree(g->lnf_rstd); }
    cudaFree(g->w); cudaFree(g->mask); cudaFree(g->resid_final); cudaFree(g->logits);
    cudaFree(g->dresid); cudaFree(g->dln); cudaFree(g->dqkv); cudaFree(g->dz); cudaFree(g->dmlp); cudaFree(g->dlogits);
    cudaFree(g->dwqkv); cudaFree(g->dpat); cudaFree(g->xg); cudaFree(g->ones);
    cudaFree(g->row_sum); cudaFree(g->row_loss); cudaFree(g->stats); cudaFree(g->row_correct);
    cudaFree(g->tokens); cudaFree(g->targets); cudaFree(g->off); cudaFree(g->rows); cudaFree(g->ctr);
    cudaFree(g->sched); cudaFree(g->blas_ws);
    cudaFree(g->xy); cudaFree(g->dxy); cudaFree(g->mid); cudaFree(g->dmid);
    cudaFreeHost(g->sched_h); cudaFreeHost(g->stats_h); cudaFreeHost(g->csr_h); cudaFreeHost(g->pair_h);
    if (g->blas) cublasDestroy(g->blas);
    if (g->stream) cudaStreamDestroy(g->stream);
    free(g->layer); free(g->offset); free(g->trainable); free(g->block_idx); free(g->mask_h);
    free(g);
    cudaGetLastError(); /* frees of a half-built state may fail; nothing to report */
}

/* What every model type needs: the stream and cuBLAS, the parameter buffers in the layout of
   the host's table (np floats each), AdamW's mask and schedule, the loss buffers, and input
   staging for max_rows rows over a vocabulary of Vin tokens and V outputs. */
static int gc_init_common(grok_cuda *g, const grok_param *params, int n_params, size_t np, int max_rows, int Vin, int V)
{
    size_t R = (size_t)max_rows;
    int ws_bytes = 32 << 20;
    g->n_params = n_params;
    g->max_rows = max_rows;
    g->np = np;
    g->use_graph = 1;
    g->offset = (size_t *)calloc((size_t)n_params, sizeof(size_t));
    g->trainable = (unsigned char *)calloc((size_t)n_params, 1);
    g->mask_h = (unsigned char *)calloc(np, 1);
    if (!g->offset || !g->trainable || !g->mask_h) return GC_FAIL(GROK_ERR_NOMEM, "grok_cuda_init: out of host memory");
    for (int i = 0; i < n_params; i++) g->offset[i] = params[i].offset;
    CUDA_CHECK(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&g->blas));
    CUBLAS_CHECK(cublasSetStream(g->blas, g->stream));
    /* FP32 GEMMs stay FP32 (no TF32), as on the CPU. */
    CUBLAS_CHECK(cublasSetMathMode(g->blas, CUBLAS_DEFAULT_MATH));
    TRY(gc_alloc(&g->blas_ws, (size_t)ws_bytes));
    CUBLAS_CHECK(cublasSetWorkspace(g->blas, g->blas_ws, (size_t)ws_bytes));
    GC_ALLOC(g->w, 4 * np);
    g->g = g->w + np; g->am = g->g + np; g->av = g->am + np;
    GC_ALLOC(g->mask, np);
    GC_ALLOC(g->logits, R * V); GC_ALLOC(g->dlogits, R * V);
    GC_ALLOC(g->ones, R);
    GC_LAUNCH(k_fill, gc_grid((long)R), 256, g->stream)(g->ones, (long)R, 1.0f);
    LAUNCH_CHECK();
    GC_ALLOC(g->row_sum, R); GC_ALLOC(g->row_loss, R); GC_ALLOC(g->row_correct, R);
    GC_ALLOC(g->stats, 2 * GC_WINDOW); GC_ALLOC(g->ctr, 1);
    GC_ALLOC(g->sched, GC_WINDOW);
    GC_ALLOC(g->tokens, R); GC_ALLOC(g->targets, R);
    GC_ALLOC(g->off, (size_t)Vin + 1); GC_ALLOC(g->rows, R);
    CUDA_CHECK(cudaMallocHost((void **)&g->sched_h, sizeof(gc_adam) * GC_WINDOW));
    CUDA_CHECK(cudaMallocHost((void **)&g->stats_h, sizeof(double) * 2 * GC_WINDOW));
    CUDA_CHECK(cudaMallocHost((void **)&g->csr_h, sizeof(int) * (2 * (size_t)Vin + 1 + R)));
    CUDA_CHECK(cudaMemsetAsync(g->ctr, 0, sizeof(int), g->stream));
    return GROK_OK;
}

/* The transformer's parameter indices (by grok.h's names) and activations. */
static int gc_init_transformer(grok_cuda *g, const grok_model *m)
{
    const grok_config *c = &m->cfg;
    size_t R = (size_t)m->max_rows, C = (size_t)c->d_model, HD = (size_t)c->n_heads * c->d_head;
    size_t M = (size_t)c->d_mlp, T = (size_t)c->n_ctx, H = (size_t)c->n_heads, B = R / T;
    int ln = c->normalization == GROK_NORM_LN, l, k;
    char name[GROK_NAME_MAX + 16];
    g->cfg = *c;
    g->block_idx = (int *)calloc((size_t)c->n_layers * GC_BLOCK_PARAMS, sizeof(int));
    g->layer = (gc_layer *)calloc((size_t)c->n_layers, sizeof(gc_layer));
    if (!g->block_idx || !g->layer) return GC_FAIL(GROK_ERR_NOMEM, "grok_cuda_init: out of host memory");
    g->idx_W_E = gc_param_index(m->params, m->n_params, "embed.W_E");
    g->idx_W_pos = gc_param_index(m->params, m->n_params, "pos_embed.W_pos");
    g->idx_lnf_w = gc_param_index(m->params, m->n_params, "ln_final.w");
    g->idx_lnf_b = gc_param_index(m->params, m->n_params, "ln_final.b");
    g->idx_W_U = gc_param_index(m->params, m->n_params, "unembed.W_U");
    g->idx_b_U = gc_param_index(m->params, m->n_params, "unembed.b_U");
    for (l = 0; l < c->n_layers; l++)
        for (k = 0; k < GC_BLOCK_PARAMS; k++) {
            snprintf(name, sizeof name, "blocks.%d.%s", l, gc_block_names[k]);
            g->block_idx[l * GC_BLOCK_PARAMS + k] = gc_param_index(m->params, m->n_params, name);
            if (g->block_idx[l * GC_BLOCK_PARAMS + k] < 0 && (ln || (k != GC_LN1_W && k != GC_LN1_B && k != GC_LN2_W && k != GC_LN2_B)))
                return GC_FAIL(GROK_ERR_ARG, "grok_cuda_init: the model has no parameter %s", name);
        }
    if (g->idx_W_E < 0 || g->idx_W_pos < 0 || g->idx_W_U < 0 || g->idx_b_U < 0 || (ln && (g->idx_lnf_w < 0 || g->idx_lnf_b < 0)))
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_init: the model's parameter table is not a transformer's");
    for (l = 0; l < c->n_layers; l++) {
        gc_layer *L = &g->layer[l];
        GC_ALLOC(L->resid_pre, R * C);
        GC_ALLOC(L->qkv, R * 3 * HD);
        GC_ALLOC(L->pattern, B * H * T * T);
        GC_ALLOC(L->z, R * HD);
        GC_ALLOC(L->resid_mid, R * C);
        GC_ALLOC(L->mlp_pre, R * M);
        GC_ALLOC(L->mlp_post, R * M);
        GC_ALLOC(L->wqkv, C * 3 * HD);
        GC_ALLOC(L->bqkv, 3 * HD);
        if (ln) {
            GC_ALLOC(L->ln1_out, R * C); GC_ALLOC(L->ln1_mean, R); GC_ALLOC(L->ln1_rstd, R);
            GC_ALLOC(L->ln2_out, R * C); GC_ALLOC(L->ln2_mean, R); GC_ALLOC(L->ln2_rstd, R);
        } else {
            L->ln1_out = L->resid_pre;
            L->ln2_out = L->resid_mid;
        }
    }
    GC_ALLOC(g->resid_final, R * C);
    if (ln) { GC_ALLOC(g->lnf_out, R * C); GC_ALLOC(g->lnf_mean, R); GC_ALLOC(g->lnf_rstd, R); }
    else g->lnf_out = g->resid_final;
    GC_ALLOC(g->dresid, R * C); GC_ALLOC(g->dln, R * C); GC_ALLOC(g->xg, R * C);
    GC_ALLOC(g->dqkv, R * 3 * HD); GC_ALLOC(g->dz, R * HD); GC_ALLOC(g->dmlp, R * M);
    GC_ALLOC(g->dwqkv, C * 3 * HD); GC_ALLOC(g->dpat, B * H * T * T);
    return GROK_OK;
}

/* The host's buffers (the table's layout) and trainable flags to the device. */
static int gc_upload_buffers(grok_cuda *g, const grok_param *params, const float *w, const float *gr, const float *am,
                             const float *av)
{
    int changed = 0;
    CUDA_CHECK(cudaMemcpyAsync(g->w, w, sizeof(float) * g->np, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->g, gr, sizeof(float) * g->np, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->am, am, sizeof(float) * g->np, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->av, av, sizeof(float) * g->np, cudaMemcpyHostToDevice, g->stream));
    memset(g->mask_h, 0, g->np);
    for (int i = 0; i < g->n_params; i++) {
        const grok_param *p = &params[i];
        if (p->trainable) memset(g->mask_h + p->offset, 1, p->numel);
        changed |= g->trainable[i] != (unsigned char)(p->trainable != 0);
        g->trainable[i] = (unsigned char)(p->trainable != 0);
    }
    CUDA_CHECK(cudaMemcpyAsync(g->mask, g->mask_h, g->np, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    /* The captured epoch skips frozen gradients by construction: recapture when they change. */
    if (changed && g->graph) {
        cudaGraphExecDestroy(g->graph);
        g->graph = NULL;
    }
    return GROK_OK;
}

static int gc_download_buffers(grok_cuda *g, float *w, float *gr, float *am, float *av)
{
    CUDA_CHECK(cudaMemcpyAsync(w, g->w, sizeof(float) * g->np, cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(gr, g->g, sizeof(float) * g->np, cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(am, g->am, sizeof(float) * g->np, cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(av, g->av, sizeof(float) * g->np, cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    return GROK_OK;
}

/* The transformer's entry points refuse a net's state and the net's a transformer's. */
static int gc_kind(const grok_cuda *g, int net, const char *who)
{
    if (g->net == net) return GROK_OK;
    return GC_FAIL(GROK_ERR_ARG, "%s: this device state is a %s's", who, g->net ? "grok_net" : "grok_model");
}

/* What both inits begin with: the arguments checked, a device present, the host struct
   allocated (*g, zeroed). */
static int gc_new(grok_cuda **out, grok_cuda **g, int initialised, const char *who, const char *what)
{
    if (!out) return GC_FAIL(GROK_ERR_ARG, "%s: NULL argument", who);
    *out = NULL;
    if (!initialised) return GC_FAIL(GROK_ERR_ARG, "%s: NULL or uninitialised %s", who, what);
    if (grok_cuda_available() < 1) return GC_FAIL(GROK_ERR_ARG, "%s: no CUDA device", who);
    *g = (grok_cuda *)calloc(1, sizeof **g);
    if (!*g) return GC_FAIL(GROK_ERR_NOMEM, "%s: out of host memory", who);
    return GROK_OK;
}

/* And what both end with: g handed out, or freed after a failure st. */
static int gc_done(grok_cuda **out, grok_cuda *g, int st)
{
    if (st != GROK_OK) grok_cuda_free(g);
    else *out = g;
    return st;
}

GROKDEF int grok_cuda_init(grok_cuda **out, const grok_model *m)
{
    grok_cuda *g = NULL;
    int st;
    if ((st = gc_new(out, &g, m && m->params && m->weights, "grok_cuda_init", "model")) != GROK_OK) return st;
    if ((st = gc_init_common(g, m->params, m->n_params, m->num_parameters, m->max_rows, m->cfg.d_vocab,
                             m->cfg.d_vocab_out)) == GROK_OK &&
        (st = gc_init_transformer(g, m)) == GROK_OK)
        st = grok_cuda_upload(g, m);
    return gc_done(out, g, st);
}

static int gc_same_shape(const grok_config *a, const grok_config *b)
{
    return a->n_layers == b->n_layers && a->n_heads == b->n_heads && a->d_model == b->d_model &&
           a->d_head == b->d_head && a->d_mlp == b->d_mlp && a->d_vocab == b->d_vocab &&
           a->d_vocab_out == b->d_vocab_out && a->n_ctx == b->n_ctx && a->normalization == b->normalization && a->act_fn == b->act_fn;
}

GROKDEF int grok_cuda_upload(grok_cuda *g, const grok_model *m)
{
    if (!g || !m || !m->weights) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_upload: NULL argument");
    TRY(gc_kind(g, 0, "grok_cuda_upload"));
    if (!gc_same_shape(&m->cfg, &g->cfg) || m->n_params != g->n_params || m->num_parameters != g->np)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_upload: not the model this device state was made for");
    if (m->loss != GROK_LOSS_SOFTMAX)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_upload: StableMax is not implemented in grok_cuda.cu (m->loss)");
    return gc_upload_buffers(g, m->params, m->weights, m->grads, m->adam_m, m->adam_v);
}

GROKDEF int grok_cuda_download(grok_cuda *g, grok_model *m)
{
    if (!g || !m || !m->weights) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_download: NULL argument");
    TRY(gc_kind(g, 0, "grok_cuda_download"));
    if (m->num_parameters != g->np) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_download: not the model of this device state");
    return gc_download_buffers(g, m->weights, m->grads, m->adam_m, m->adam_v);
}

GROKDEF int grok_cuda_zero_grad(grok_cuda *g)
{
    if (!g) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_zero_grad: NULL argument");
    CUDA_CHECK(cudaMemsetAsync(g->g, 0, sizeof(float) * g->np, g->stream));
    return GROK_OK;
}

GROKDEF int grok_cuda_forward(grok_cuda *g, const int *tokens, const int *targets, int B, double *loss, double *acc,
                              float *logits_out)
{
    int T, R, Vin, n_t = 0, st;
    if (!g || !tokens) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_forward: NULL argument");
    TRY(gc_kind(g, 0, "grok_cuda_forward"));
    T = g->cfg.n_ctx;
    Vin = g->cfg.d_vocab;
    if (B < 1 || (long)B * T > g->max_rows)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_forward: batch %d, want 1..%d", B, g->max_rows / T);
    R = B * T;
    g->last_B = 0;
    if ((st = gc_check_tokens(g, tokens, targets, R, "grok_cuda_forward")) != GROK_OK) return st;
    for (int r = 0; targets && r < R; r++) n_t += targets[r] >= 0;
    /* The CSR for the backward's scatter-add, built here where the tokens are. */
    gc_csr(g->csr_h, g->csr_h + Vin + 1, g->csr_h + Vin + 1 + R, tokens, R, Vin);
    CUDA_CHECK(cudaMemcpyAsync(g->tokens, tokens, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->off, g->csr_h, sizeof(int) * (size_t)(Vin + 1), cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->rows, g->csr_h + Vin + 1, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream));
    if (targets) CUDA_CHECK(cudaMemcpyAsync(g->targets, targets, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream));
    TRY(gc_forward(g, g->tokens, B));
    if (targets) TRY(gc_loss(g, g->targets, R, g->stats, NULL, 0));
    if (logits_out)
        CUDA_CHECK(cudaMemcpyAsync(logits_out, g->logits, sizeof(float) * (size_t)R * g->cfg.d_vocab_out,
                                   cudaMemcpyDeviceToHost, g->stream));
    if (targets) CUDA_CHECK(cudaMemcpyAsync(g->stats_h, g->stats, 2 * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    if (loss) *loss = n_t ? g->stats_h[0] / n_t : 0.0;
    if (acc) *acc = n_t ? g->stats_h[1] / n_t : 0.0;
    g->last_B = B;
    g->last_targets = n_t;
    return GROK_OK;
}

GROKDEF int grok_cuda_backward(grok_cuda *g)
{
    int R;
    if (!g) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_backward: NULL argument");
    if (g->last_B < 1 || g->last_targets < 1)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_backward: the last grok_cuda_forward had no targets");
    R = g->last_B * g->cfg.n_ctx;
    GC_LAUNCH(k_ce_backward, R, GC_THREADS, g->stream)(g->dlogits, g->row_sum, g->targets, R, g->cfg.d_vocab_out,
                                                   1.0 / g->last_targets);
    LAUNCH_CHECK();
    TRY(g->net ? gc_net_backward(g, g->off, g->rows, g->last_B) : gc_backward(g, g->off, g->rows, g->last_B));
    g->last_B = 0; /* dlogits now holds gradients: a second backward needs a fresh forward */
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    return GROK_OK;
}

/* One AdamW step with opt at optimizer step *step, which it advances: any model type. */
static int gc_adamw_step(grok_cuda *g, const grok_adamw *opt, long *step)
{
    TRY(gc_adam_scalars(g->sched_h, opt, *step));
    CUDA_CHECK(cudaMemcpyAsync(g->sched, g->sched_h, sizeof(gc_adam), cudaMemcpyHostToDevice, g->stream));
    GC_LAUNCH(k_adamw, gc_grid((long)g->np), 256, g->stream)(g->w, g->g, g->am, g->av, g->mask, (long)g->np, g->sched, NULL);
    LAUNCH_CHECK();
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    (*step)++;
    return GROK_OK;
}

GROKDEF int grok_cuda_adamw_step(grok_cuda *g, grok_model *m)
{
    if (!g || !m) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_adamw_step: NULL argument");
    TRY(gc_kind(g, 0, "grok_cuda_adamw_step"));
    return gc_adamw_step(g, &m->opt, &m->step);
}

static int gc_data_set(grok_cuda *g, gc_data *d, const grok_data *src, int with_csr)
{
    int T = g->cfg.n_ctx, Vin = g->cfg.d_vocab;
    long R = (long)src->n * T;
    gc_data_free(d);
    TRY(gc_check_tokens(g, src->tokens, src->targets, R, "grok_cuda_set_data"));
    d->n = src->n;
    for (long r = 0; r < R; r++) d->n_targets += src->targets[r] >= 0;
    GC_ALLOC(d->tokens, R);
    GC_ALLOC(d->targets, R);
    /* On the state's stream, which does not synchronise with the legacy default stream: a plain
       cudaMemcpy from pageable memory may return before its DMA ends. */
    CUDA_CHECK(cudaMemcpyAsync(d->tokens, src->tokens, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(d->targets, src->targets, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream));
    if (with_csr) {
        int *h = (int *)malloc(sizeof(int) * (2 * (size_t)Vin + 1 + (size_t)R));
        if (!h) return GC_FAIL(GROK_ERR_NOMEM, "grok_cuda_set_data: out of host memory");
        gc_csr(h, h + Vin + 1, h + Vin + 1 + R, src->tokens, (int)R, Vin);
        cudaError_t e = cudaMalloc((void **)&d->off, sizeof(int) * (size_t)(Vin + 1));
        if (e == cudaSuccess) e = cudaMalloc((void **)&d->rows, sizeof(int) * (size_t)R);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(d->off, h, sizeof(int) * (size_t)(Vin + 1), cudaMemcpyHostToDevice, g->stream);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(d->rows, h + Vin + 1, sizeof(int) * (size_t)R, cudaMemcpyHostToDevice, g->stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(g->stream); /* before h is freed */
        free(h);
        if (e != cudaSuccess) return gc_cuda_status(e, "grok_cuda_set_data", __FILE__, __LINE__);
    }
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    return GROK_OK;
}

/* A net reads rows (a, b, '=') -> label at position 2: grok_net_forward's checks. */
static int gc_net_check_rows(const grok_cuda *g, const int *tokens, const int *targets, int n, const char *who)
{
    int N = g->ncfg.n;
    for (int i = 0; i < n; i++) {
        int x = tokens[3L * i], y = tokens[3L * i + 1], t = targets ? targets[3L * i + 2] : -1;
        if (x < 0 || x >= N || y < 0 || y >= N || t < -1 || t >= N)
            return GC_FAIL(GROK_ERR_ARG, "%s: row %d is (%d, %d) -> %d, want elements and labels in 0..%d", who, i, x, y,
                           t, N - 1);
    }
    return GROK_OK;
}

/* Checked rows (a, b, '=') -> h (3n): a (n), b (n), labels (n) (-1 without targets); csr
   (4N+1+2n, or NULL) the CSR of the keys a, b + N over xy's 2n rows (gc_net_backward).
   Returns the rows with a label. */
static int gc_net_stage(int *h, int *csr, const int *tokens, const int *targets, int n, int N)
{
    int n_t = 0;
    for (int i = 0; i < n; i++) {
        h[i] = tokens[3L * i];
        h[n + i] = N + tokens[3L * i + 1];
        h[2 * n + i] = targets ? targets[3L * i + 2] : -1;
        n_t += h[2 * n + i] >= 0;
    }
    if (csr) gc_csr(csr, csr + 2 * N + 1, csr + 2 * N + 1 + 2 * n, h, 2 * n, 2 * N);
    for (int i = 0; i < n; i++) h[n + i] -= N; /* the gather reads W_E_b itself */
    return n_t;
}

/* A net's data set on the device (gc_data's net layout). */
static int gc_net_data_set(grok_cuda *g, gc_data *d, const grok_data *src, int with_csr)
{
    int n = src->n, N = g->ncfg.n, *h;
    cudaError_t e;
    gc_data_free(d);
    TRY(gc_net_check_rows(g, src->tokens, src->targets, n, "grok_cuda_set_data"));
    h = (int *)malloc(sizeof(int) * (5 * (size_t)n + 4 * (size_t)N + 1));
    if (!h) return GC_FAIL(GROK_ERR_NOMEM, "grok_cuda_set_data: out of host memory");
    d->n = n;
    d->n_targets = gc_net_stage(h, with_csr ? h + 3 * n : NULL, src->tokens, src->targets, n, N);
    e = cudaMalloc((void **)&d->tokens, sizeof(int) * 2 * (size_t)n);
    if (e == cudaSuccess) e = cudaMalloc((void **)&d->targets, sizeof(int) * (size_t)n);
    if (e == cudaSuccess) e = cudaMemcpyAsync(d->tokens, h, sizeof(int) * 2 * (size_t)n, cudaMemcpyHostToDevice, g->stream);
    if (e == cudaSuccess) e = cudaMemcpyAsync(d->targets, h + 2 * n, sizeof(int) * (size_t)n, cudaMemcpyHostToDevice, g->stream);
    if (with_csr) {
        if (e == cudaSuccess) e = cudaMalloc((void **)&d->off, sizeof(int) * (2 * (size_t)N + 1));
        if (e == cudaSuccess) e = cudaMalloc((void **)&d->rows, sizeof(int) * 2 * (size_t)n);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(d->off, h + 3 * n, sizeof(int) * (2 * (size_t)N + 1), cudaMemcpyHostToDevice, g->stream);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(d->rows, h + 3 * n + 2 * N + 1, sizeof(int) * 2 * (size_t)n, cudaMemcpyHostToDevice, g->stream);
    }
    if (e == cudaSuccess) e = cudaStreamSynchronize(g->stream); /* before h is freed */
    free(h);
    if (e != cudaSuccess) return gc_cuda_status(e, "grok_cuda_set_data", __FILE__, __LINE__);
    return GROK_OK;
}

static int gc_net_set_data(grok_cuda *g, const grok_data *train, const grok_data *test)
{
    if (train->n_ctx != 3 || (test && test->n_ctx != 3))
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_set_data: data has n_ctx %d, a net reads rows (a, b, '=') of 3", train->n_ctx);
    if (train->n < 1 || train->n > g->max_rows)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_set_data: %d training rows, the net holds 1..%d (max_batch)", train->n,
                       g->max_rows);
    if (g->graph) {
        cudaGraphExecDestroy(g->graph);
        g->graph = NULL;
    }
    TRY(gc_net_data_set(g, &g->train, train, 1));
    gc_data_free(&g->test);
    if (test && test->n > 0) TRY(gc_net_data_set(g, &g->test, test, 0));
    return GROK_OK;
}

GROKDEF int grok_cuda_set_data(grok_cuda *g, const grok_data *train, const grok_data *test)
{
    if (!g || !train || !train->tokens || !train->targets) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_set_data: NULL argument");
    if (g->net) return gc_net_set_data(g, train, test);
    if (train->n_ctx != g->cfg.n_ctx || (test && test->n_ctx != g->cfg.n_ctx))
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_set_data: data has n_ctx %d, the model %d", train->n_ctx, g->cfg.n_ctx);
    if (train->n < 1 || (long)train->n * train->n_ctx > g->max_rows)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_set_data: %d training sequences, the model holds 1..%d (max_batch)",
                       train->n, g->max_rows / g->cfg.n_ctx);
    if (g->graph) { /* the captured epoch points at the old training set */
        cudaGraphExecDestroy(g->graph);
        g->graph = NULL;
    }
    TRY(gc_data_set(g, &g->train, train, 1));
    gc_data_free(&g->test);
    if (test && test->n > 0) TRY(gc_data_set(g, &g->test, test, 0));
    return GROK_OK;
}

GROKDEF int grok_cuda_evaluate(grok_cuda *g, int split, double *loss, double *acc)
{
    const gc_data *d;
    int T, chunk;
    if (!g || (split != 0 && split != 1)) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_evaluate: NULL state or split not 0/1");
    d = split ? &g->test : &g->train;
    if (d->n < 1) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_evaluate: no %s set (grok_cuda_set_data)", split ? "test" : "training");
    T = g->cfg.n_ctx;
    chunk = g->max_rows / T;
    for (int s = 0; s < d->n; s += chunk) {
        int b = d->n - s < chunk ? d->n - s : chunk;
        TRY(g->net ? gc_net_forward(g, d->tokens + s, d->tokens + d->n + s, b) : gc_forward(g, d->tokens + (long)s * T, b));
        TRY(gc_loss(g, d->targets + (long)s * T, b * T, g->stats, NULL, s > 0));
    }
    g->last_B = 0; /* the activations hold the last chunk, not a forward to backpropagate */
    CUDA_CHECK(cudaMemcpyAsync(g->stats_h, g->stats, 2 * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    if (loss) *loss = d->n_targets ? g->stats_h[0] / d->n_targets : 0.0;
    if (acc) *acc = d->n_targets ? g->stats_h[1] / d->n_targets : 0.0;
    return GROK_OK;
}

GROKDEF int grok_cuda_use_graph(grok_cuda *g, int on)
{
    if (!g) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_use_graph: NULL argument");
    g->use_graph = on != 0;
    return GROK_OK;
}

/* Captures gc_epoch into g->graph. A failed capture leaves use_graph 0 (direct launches,
   the same work) rather than failing the run. */
static int gc_capture(grok_cuda *g)
{
    cudaGraph_t graph = NULL;
    int st = GROK_ERR_IO;
    cudaError_t e = cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal);
    if (e == cudaSuccess) {
        st = gc_epoch(g);
        e = cudaStreamEndCapture(g->stream, &graph);
    }
    if (st == GROK_OK && e == cudaSuccess) e = cudaGraphInstantiate(&g->graph, graph, 0);
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    if (st != GROK_OK || e != cudaSuccess) {
        g->graph = NULL;
        g->use_graph = 0;
    }
    return GROK_OK;
}

/* n epochs on the resident training set with opt, from optimizer step *step and epoch *epoch
   (both advanced): the training window of any model type. who names the entry point in
   argument errors, driver the training driver in a non-finite loss's. */
static int gc_train_epochs(grok_cuda *g, const grok_adamw *opt, long *step, long *epoch, long n, double *loss,
                           double *acc, const char *who, const char *driver)
{
    if (g->train.n < 1) return GC_FAIL(GROK_ERR_ARG, "%s: no training set (grok_cuda_set_data)", who);
    if (g->train.n_targets < 1) return GC_FAIL(GROK_ERR_ARG, "%s: the training set has no targets", who);
    g->last_B = 0;
    while (n > 0) {
        int k = n < GC_WINDOW ? (int)n : GC_WINDOW, i;
        for (i = 0; i < k; i++) TRY(gc_adam_scalars(&g->sched_h[i], opt, *step + i));
        CUDA_CHECK(cudaMemcpyAsync(g->sched, g->sched_h, sizeof(gc_adam) * (size_t)k, cudaMemcpyHostToDevice, g->stream));
        CUDA_CHECK(cudaMemsetAsync(g->ctr, 0, sizeof(int), g->stream));
        if (g->use_graph && !g->graph) TRY(gc_capture(g));
        for (i = 0; i < k; i++) {
            if (g->graph && g->use_graph) CUDA_CHECK(cudaGraphLaunch(g->graph, g->stream));
            else TRY(gc_epoch(g));
        }
        CUDA_CHECK(cudaMemcpyAsync(g->stats_h, g->stats, sizeof(double) * 2 * (size_t)k, cudaMemcpyDeviceToHost, g->stream));
        CUDA_CHECK(cudaStreamSynchronize(g->stream));
        for (i = 0; i < k; i++)
            if (!isfinite(g->stats_h[2 * i])) {
                long bad = *epoch + i;
                *epoch += k;
                *step += k;
                return GC_FAIL(GROK_ERR_NUMERIC, "%s: training loss is %g at epoch %ld", driver,
                               g->stats_h[2 * i] / g->train.n_targets, bad);
            }
        *epoch += k;
        *step += k;
        n -= k;
        if (loss) *loss = g->stats_h[2 * (k - 1)] / g->train.n_targets;
        if (acc) *acc = g->stats_h[2 * (k - 1) + 1] / g->train.n_targets;
    }
    return GROK_OK;
}

GROKDEF int grok_cuda_train_epochs(grok_cuda *g, grok_model *m, long n, double *loss, double *acc)
{
    if (!g || !m || n < 0) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_train_epochs: NULL argument or n < 0");
    TRY(gc_kind(g, 0, "grok_cuda_train_epochs"));
    return gc_train_epochs(g, &m->opt, &m->step, &m->epoch, n, loss, acc, "grok_cuda_train_epochs", "grok_train_cuda");
}

GROKDEF int grok_cuda_graph_active(const grok_cuda *g) { return g && g->use_graph && g->graph != NULL; }

/* ------------------------------------------------------------ the nets' API */

/* A net's parameter table (grok_net_init's order and names) and activations. */
static int gc_init_net(grok_cuda *g, const grok_net *net)
{
    static const char *const names[2][4] = {{"W_E_a", "W_E_b", "W_U", ""}, {"W_E_a", "W_E_b", "W", "W_U"}};
    const grok_net_config *c = &net->cfg;
    int mlp = c->kind == GROK_NET_MLP;
    size_t B = (size_t)net->max_rows, E = (size_t)c->embed_dim;
    if (net->n_params != 3 + mlp) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_init: the parameter table is not a net's");
    for (int i = 0; i < net->n_params; i++)
        if (strcmp(net->params[i].name, names[mlp][i]) != 0)
            return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_init: parameter %d is %s, want %s", i, net->params[i].name,
                           names[mlp][i]);
    g->net = 1;
    g->ncfg = *c;
    g->max_rows = net->max_rows;
    memset(&g->cfg, 0, sizeof g->cfg);
    g->cfg.n_ctx = 1;
    g->cfg.d_vocab = g->cfg.d_vocab_out = c->n;
    GC_ALLOC(g->xy, 2 * B * E); GC_ALLOC(g->dxy, 2 * B * E);
    GC_ALLOC(g->mid, B * (size_t)gc_net_mid(g)); GC_ALLOC(g->dmid, B * (size_t)gc_net_mid(g));
    CUDA_CHECK(cudaMallocHost((void **)&g->pair_h, sizeof(int) * 3 * B));
    return GROK_OK;
}

GROKDEF int grok_cuda_net_init(grok_cuda **out, const grok_net *net)
{
    grok_cuda *g = NULL;
    int st;
    if ((st = gc_new(out, &g, net && net->params && net->weights, "grok_cuda_net_init", "net")) != GROK_OK) return st;
    /* The shared staging holds both elements of max_rows pairs, 2 max_rows rows over 2N keys
       (the logits' buffer is then twice what a net needs: cheaper than a second layout). */
    if ((st = gc_init_common(g, net->params, net->n_params, net->num_parameters, 2 * net->max_rows, 2 * net->cfg.n,
                             net->cfg.n)) == GROK_OK &&
        (st = gc_init_net(g, net)) == GROK_OK)
        st = grok_cuda_net_upload(g, net);
    return gc_done(out, g, st);
}

static int gc_same_net(const grok_cuda *g, const grok_net *net, const char *who)
{
    const grok_net_config *a = &g->ncfg, *b = &net->cfg;
    TRY(gc_kind(g, 1, who));
    if (a->kind != b->kind || a->n != b->n || a->embed_dim != b->embed_dim || a->hidden_dim != b->hidden_dim ||
        net->n_params != g->n_params || net->num_parameters != g->np)
        return GC_FAIL(GROK_ERR_ARG, "%s: not the net this device state was made for", who);
    return GROK_OK;
}

GROKDEF int grok_cuda_net_upload(grok_cuda *g, const grok_net *net)
{
    if (!g || !net || !net->weights) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_upload: NULL argument");
    TRY(gc_same_net(g, net, "grok_cuda_net_upload"));
    if (net->loss != GROK_LOSS_SOFTMAX)
        return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_upload: StableMax is not implemented in grok_cuda.cu (net->loss)");
    return gc_upload_buffers(g, net->params, net->weights, net->grads, net->adam_m, net->adam_v);
}

GROKDEF int grok_cuda_net_download(grok_cuda *g, grok_net *net)
{
    if (!g || !net || !net->weights) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_download: NULL argument");
    TRY(gc_same_net(g, net, "grok_cuda_net_download"));
    return gc_download_buffers(g, net->weights, net->grads, net->adam_m, net->adam_v);
}

GROKDEF int grok_cuda_net_forward(grok_cuda *g, const int *tokens, const int *targets, int B, double *loss, double *acc,
                                  float *logits_out)
{
    int N, n_t;
    if (!g || !tokens) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_forward: NULL argument");
    TRY(gc_kind(g, 1, "grok_cuda_net_forward"));
    N = g->ncfg.n;
    if (B < 1 || B > g->max_rows) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_forward: batch %d, want 1..%d", B, g->max_rows);
    g->last_B = 0;
    TRY(gc_net_check_rows(g, tokens, targets, B, "grok_cuda_net_forward"));
    n_t = gc_net_stage(g->pair_h, g->csr_h, tokens, targets, B, N);
    CUDA_CHECK(cudaMemcpyAsync(g->tokens, g->pair_h, sizeof(int) * 2 * (size_t)B, cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->off, g->csr_h, sizeof(int) * (2 * (size_t)N + 1), cudaMemcpyHostToDevice, g->stream));
    CUDA_CHECK(cudaMemcpyAsync(g->rows, g->csr_h + 2 * N + 1, sizeof(int) * 2 * (size_t)B, cudaMemcpyHostToDevice, g->stream));
    if (targets)
        CUDA_CHECK(cudaMemcpyAsync(g->targets, g->pair_h + 2 * B, sizeof(int) * (size_t)B, cudaMemcpyHostToDevice, g->stream));
    TRY(gc_net_forward(g, g->tokens, g->tokens + B, B));
    if (targets) TRY(gc_loss(g, g->targets, B, g->stats, NULL, 0));
    if (logits_out)
        CUDA_CHECK(cudaMemcpyAsync(logits_out, g->logits, sizeof(float) * (size_t)B * N, cudaMemcpyDeviceToHost, g->stream));
    if (targets) CUDA_CHECK(cudaMemcpyAsync(g->stats_h, g->stats, 2 * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    CUDA_CHECK(cudaStreamSynchronize(g->stream));
    if (loss) *loss = n_t ? g->stats_h[0] / n_t : 0.0;
    if (acc) *acc = n_t ? g->stats_h[1] / n_t : 0.0;
    g->last_B = B;
    g->last_targets = n_t;
    return GROK_OK;
}

GROKDEF int grok_cuda_net_adamw_step(grok_cuda *g, grok_net *net)
{
    if (!g || !net) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_adamw_step: NULL argument");
    TRY(gc_kind(g, 1, "grok_cuda_net_adamw_step"));
    return gc_adamw_step(g, &net->opt, &net->step);
}

GROKDEF int grok_cuda_net_train_epochs(grok_cuda *g, grok_net *net, long n, double *loss, double *acc)
{
    if (!g || !net || n < 0) return GC_FAIL(GROK_ERR_ARG, "grok_cuda_net_train_epochs: NULL argument or n < 0");
    TRY(gc_kind(g, 1, "grok_cuda_net_train_epochs"));
    return gc_train_epochs(g, &net->opt, &net->step, &net->epoch, n, loss, acc, "grok_cuda_net_train_epochs",
                           "grok_net_train_cuda");
}

} /* extern "C" */
