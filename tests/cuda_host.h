/* tests/cuda_host.h: the CUDA runtime and cuBLAS calls of grok_cuda.cu, and its kernel
   launches, served on the host, for tests/test_cuda_host (make cuda). Device memory is host
   memory, a stream runs its work at once, graph capture is refused (the direct-launch path
   runs), cuBLAS is the column-major reference of tests/test_cuda.cu (a NULL handle) and every
   kernel runs as a loop over its item or row functions (GC_HD, one lane per row). What this
   leaves untested is what only a GPU can test: the warp and block reductions, concurrency,
   and the real cuBLAS. Include after <cublas_v2.h> and before grok_cuda.cu;
   tests/cuda_host_kernels.h (after grok_cuda.cu) defines the kernels' host loops. */
#ifndef GROK_TESTS_CUDA_HOST_H
#define GROK_TESTS_CUDA_HOST_H
#include <stdlib.h>
#include <string.h>

static cudaError_t host_cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
static cudaError_t host_cudaGetLastError(void) { return cudaSuccess; }
static cudaError_t host_cudaMalloc(void **p, size_t n)
{
    *p = calloc(1, n ? n : 1);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
static cudaError_t host_cudaFree(void *p) { free(p); return cudaSuccess; }
static cudaError_t host_cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t s)
{
    (void)kind; (void)s;
    memcpy(dst, src, n);
    return cudaSuccess;
}
static cudaError_t host_cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s) { (void)s; memset(p, v, n); return cudaSuccess; }
static cudaError_t host_cudaStreamSynchronize(cudaStream_t s) { (void)s; return cudaSuccess; }
static cudaError_t host_cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags) { (void)flags; *s = NULL; return cudaSuccess; }
static cudaError_t host_cudaStreamDestroy(cudaStream_t s) { (void)s; return cudaSuccess; }
static cudaError_t host_cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode)
{
    (void)s; (void)mode;
    return cudaErrorNotSupported;
}
static cudaError_t host_cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g) { (void)s; *g = NULL; return cudaErrorNotSupported; }
static cudaError_t host_cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long f)
{
    (void)g; (void)f; *e = NULL;
    return cudaErrorNotSupported;
}
static cudaError_t host_cudaGraphDestroy(cudaGraph_t g) { (void)g; return cudaSuccess; }
static cudaError_t host_cudaGraphExecDestroy(cudaGraphExec_t e) { (void)e; return cudaSuccess; }
static cudaError_t host_cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) { (void)e; (void)s; return cudaErrorNotSupported; }
static cublasStatus_t host_cublasCreate(cublasHandle_t *h) { *h = NULL; return CUBLAS_STATUS_SUCCESS; }
static cublasStatus_t host_cublasDestroy(cublasHandle_t h) { (void)h; return CUBLAS_STATUS_SUCCESS; }
static cublasStatus_t host_cublasSetStream(cublasHandle_t h, cudaStream_t s) { (void)h; (void)s; return CUBLAS_STATUS_SUCCESS; }
static cublasStatus_t host_cublasSetMathMode(cublasHandle_t h, cublasMath_t m) { (void)h; (void)m; return CUBLAS_STATUS_SUCCESS; }
static cublasStatus_t host_cublasSetWorkspace(cublasHandle_t h, void *w, size_t n)
{
    (void)h; (void)w; (void)n;
    return CUBLAS_STATUS_SUCCESS;
}

#define cudaGetDeviceCount host_cudaGetDeviceCount
#define cudaGetLastError host_cudaGetLastError
#define cudaMalloc host_cudaMalloc
#define cudaMallocHost host_cudaMalloc
#define cudaFree host_cudaFree
#define cudaFreeHost host_cudaFree
#define cudaMemcpyAsync host_cudaMemcpyAsync
#define cudaMemsetAsync host_cudaMemsetAsync
#define cudaStreamSynchronize host_cudaStreamSynchronize
#define cudaStreamCreateWithFlags host_cudaStreamCreateWithFlags
#define cudaStreamDestroy host_cudaStreamDestroy
#define cudaStreamBeginCapture host_cudaStreamBeginCapture
#define cudaStreamEndCapture host_cudaStreamEndCapture
#define cudaGraphInstantiate host_cudaGraphInstantiate
#define cudaGraphDestroy host_cudaGraphDestroy
#define cudaGraphExecDestroy host_cudaGraphExecDestroy
#define cudaGraphLaunch host_cudaGraphLaunch
#undef cublasCreate
#undef cublasDestroy
#undef cublasSetStream
#undef cublasSetWorkspace
#define cublasCreate host_cublasCreate
#define cublasDestroy host_cublasDestroy
#define cublasSetStream host_cublasSetStream
#define cublasSetMathMode host_cublasSetMathMode
#define cublasSetWorkspace host_cublasSetWorkspace

/* A launch becomes a call of the kernel's host loop. */
static int host_stream_use(cudaStream_t s) { (void)s; return 0; }
#define GC_LAUNCH(kernel, grid, block, stream) (host_stream_use(stream), host_##kernel)
static void host_k_fill(float *x, long n, float v);
static void host_k_embed_forward(float *out, const int *tokens, const float *W_E, const float *W_pos, int R, int T, int C);
static void host_k_embed_backward(float *dW_E, const float *dout, const int *off, const int *rows, int Vin, int C);
static void host_k_bias_residual(float *y, const float *b, const float *res, int R, int N);
static void host_k_act_forward(float *post, const float *pre, long n, int act);
static void host_k_act_backward(float *dpre, const float *dpost, const float *pre, long n, int act);
static void host_k_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                     const float *b, int R, int C, float eps);
static void host_k_layernorm_backward(float *dinp, float *xg, const float *dout, const float *inp, const float *mean,
                                      const float *rstd, const float *w, int R, int C);
static void host_k_ce_forward(float *probs, double *row_sum, double *row_loss, int *row_correct, const float *logits,
                              const int *targets, int R, int V);
static void host_k_ce_backward(float *probs, const double *row_sum, const int *targets, int R, int V, double dscale);
static void host_k_loss_sum(double *out, const int *slot_ptr, const double *row_loss, const int *row_correct,
                            const int *targets, int R, int accumulate);
struct gc_adam;
static void host_k_adamw(float *p, const float *g, float *m, float *v, const unsigned char *mask, long n,
                         const struct gc_adam *sched, const int *slot);
static void host_k_count(int *ctr);
static void host_k_qkv_pack(float *wqkv, float *bqkv, const float *Wq, const float *Wk, const float *Wv,
                            const float *bq, const float *bk, const float *bv, int C, int H, int D);
static void host_k_qkv_unpack_add(float *dWq, float *dWk, float *dWv, const float *dwqkv, int C, int H, int D);
static void host_k_attn_softmax(float *pat, long rows, int T);
static void host_k_attn_softmax_backward(float *dpat, const float *pat, long rows, int T, float scale);
static void host_k_bilinear_forward(float *prod, const float *xy, long n);
static void host_k_bilinear_backward(float *dxy, const float *dprod, const float *xy, long n);
#endif
