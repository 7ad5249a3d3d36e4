/* grok.h - v0.1 - public domain (or MIT, see end of file) - grokking research in one C header

   Trains the small models of the grokking papers (transformers on modular arithmetic and
   multi-digit addition, bilinear and MLP nets on group composition) on an ordinary CPU,
   exactly and reproducibly, with hand-written forward and backward passes, AdamW with
   PyTorch's semantics, tasks, checkpoints and a training driver,
   and takes them apart: activation cache and hooks, our own DFT and SVD, the Fourier analyses
   and progress measures of the seed notebooks, safetensors and .npy interop.

   CONTENTS
       The declarations and then the implementation, in the same order, the order data flows.
       Each section opens with a banner "==== >>tag: ..."; searching for ">>tag" finds its
       declarations and then its implementation (tests/check_sections.py keeps the two in step).
       >>core       errors, arena, RNG, tensor views
       >>kernels    GEMM (AVX-512 / AVX2 / portable, chosen at run time), thread pool, vector kernels
       >>layers     embedding, LayerNorm, linear, activation, attention, cross-entropy and
                    StableMax's (internal)
       >>model      config, parameter table and layout; forward/backward: the general path (the
                    reference), then the trimmed and folded paths, then the rule that picks one
       >>hooks      hooks, ablations, the activation cache
       >>nets       seed 003's BilinearNet and OneLayerMLP (grok_net), the same machinery
       >>optimizer  AdamW (with the orthogonal gradient and a fixed norm), Grokfast's gradient filters
       >>evaluate   loss and accuracy over a data set
       >>tasks      modular addition and operations, groups C_n, D_n, S_n, A_n, n-digit addition
       >>io         checkpoints; safetensors, .npy, data splits, run summaries (interchange)
       >>analysis   DFT, Fourier basis of Z_p, SVD, least squares, the seeds' analyses, the groups'
                    irreducible representations and the rep-theory paper's metrics, progress
                    measures, direct logit attribution, the logit lens, QK / OV circuits,
                    patching, the local learning coefficient (SGLD)
       >>plots      SVG plots, phase diagrams, the HTML report
       >>train      the training driver: one loop for models and nets, on the CPU or the device;
                    early stopping
       >>cuda       the CUDA companion's API (its kernels are in grok_cuda.cu)
       After the declarations, one internal block that grok_cuda.cu shares (grok__expf).

   Do this:
       #define GROK_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the implementation.
   Include grok.h before any other header in that file (it asks for POSIX.1-2008 so that
   clock_gettime, isatty and mkdir are declared even under -std=c99), or compile that file
   with -D_POSIX_C_SOURCE=200809L. Link with -lm -lpthread.

   EXAMPLE (train modular addition mod 113 and print the final test accuracy)

       #define GROK_IMPLEMENTATION
       #include "grok.h"
       int main(void) {
           grok_config cfg = grok_config_modadd(113);        // seed 000's model
           grok_data train, test;  grok_model m;  grok_train_opts o = grok_train_opts_default();
           grok_task_modadd(&train, &test, 113, 0.3, 598);   // p, frac_train, data seed
           if (grok_model_init(&m, &cfg, train.n) != GROK_OK) return puts(grok_last_error()), 1;
           o.epochs = 25000;
           grok_train(&m, &o, &train, &test);               // AdamW lr 1e-3 wd 1 betas .9 .98
           printf("test acc %.4f\n", m.metrics.test_acc);
           grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
       }

   CONFIGURATION MACROS (define before including the implementation)
       GROK_STATIC              make every function static (private to one translation unit)
       GROK_MALLOC(sz) / GROK_FREE(p)
                                replace malloc/free; define both or neither
       GROK_CUDA                the CUDA companion's API, grok_train_cuda and grok_net_train_cuda
                                (grok_cuda.cu, README)
       GROK_KEEP_DENORMALS      keep IEEE gradual underflow in training and evaluation (below)
       GROK_NO_ANALYSIS         leave out >>analysis, the report and the progress measures
       GROK_NO_PLOTS            leave out >>plots
       GROK_NO_INTEROP          leave out the interchange part of >>io (safetensors, .npy, data
                                splits, run summaries; checkpoints stay); a net's training
                                checkpoints, which are safetensors, are then refused
       Define the same GROK_NO_* options wherever grok.h is included.

   SHAPE LEGEND (used in every comment that states a shape)
       B  batch (rows of the data set)         T  sequence length (n_ctx)
       R  B*T, rows of the residual stream     C  d_model
       H  n_heads          D  d_head           M  d_mlp
       V  d_vocab_out (logits)                 Vin  d_vocab (tokens)
       All arrays are row-major float32; (B,T,C) means C varies fastest.

   ERRORS
       Every fallible call returns a grok_status (GROK_OK == 0) and, on failure, records a
       message that grok_last_error() returns: the calling thread's last one (one global message
       where the compiler has no thread-local storage).
       Arguments are checked on entry (NULL pointers, sizes, configs, tokens and targets in
       range, shapes that must agree): a refused call returns GROK_ERR_ARG and changes nothing.
       Calls without a status (the RNG, grok_gemm, tensor views) record the message and return
       0, NULL or an empty tensor. Library code never aborts, exits or prints on bad input.

   DETERMINISM
       The same seeds give the same bits for any thread count: no reduction is ever split
       across threads (GEMMs partition the output, row sums run in a fixed order).

   SUBNORMALS
       On x86-64, grok_gemm and the forward, backward, AdamW and evaluation calls of grok_model
       and grok_net (hence grok_train, hooks included) flush subnormal floats to zero (MXCSR's
       FTZ and DAZ, as TensorFlow's CPU runtime does) and restore the caller's mode on return.
       Late in a grokking run many gradients fall below FLT_MIN = 1.2e-38, and each subnormal
       costs an Intel core a microcode assist: unflushed, the canonical step slowed 5x by epoch
       3,000. Define GROK_KEEP_DENORMALS to compute in the caller's mode instead. Worker threads
       always take the caller's mode, so either way the thread count changes no bit.

   NOT THREAD-SAFE: use one grok_model from one thread at a time; grok.h itself uses a
   persistent pool of worker threads (grok_threads_set, or the GROK_THREADS variable).
*/
#ifndef GROK_H_INCLUDED
#define GROK_H_INCLUDED

#if defined(GROK_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#if defined(GROK_STATIC) && defined(__GNUC__)
#define GROKDEF static __attribute__((unused)) /* a program may use only part of the API */
#elif defined(GROK_STATIC)
#define GROKDEF static
#else
#define GROKDEF extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ==== >>core: errors, arena, RNG, tensor views ================================================ */

typedef enum {
    GROK_OK = 0,
    GROK_ERR_ARG = -1,     /* an argument is invalid (NULL, out of range, inconsistent) */
    GROK_ERR_NOMEM = -2,   /* an allocation failed or an arena is full */
    GROK_ERR_IO = -3,      /* a file could not be opened, read or written */
    GROK_ERR_FORMAT = -4,  /* a file is not what it claims to be */
    GROK_ERR_NUMERIC = -5  /* a loss or parameter became NaN or infinite */
} grok_status;

GROKDEF const char *grok_last_error(void);       /* message of the last failure, "" if none */
GROKDEF const char *grok_status_name(int status); /* "GROK_ERR_ARG", ... */

/* Arena: one allocation carved into 64-byte-aligned pieces; nothing is freed alone.
   The model takes all its buffers from one, so a training step allocates nothing. */
typedef struct {
    unsigned char *base;
    size_t size, used;
} grok_arena;

GROKDEF int   grok_arena_init(grok_arena *a, size_t bytes);
GROKDEF void *grok_arena_alloc(grok_arena *a, size_t bytes); /* NULL + error when full */
GROKDEF void  grok_arena_free(grok_arena *a);

/* RNG: xoshiro256** (Blackman & Vigna) seeded through splitmix64. uniform() takes the top 53
   bits of one draw, so it is exact and identical everywhere; normal() is Box-Muller,
   sqrt(-2 ln u1) cos(2 pi u2) with u1 = 1 - uniform(), in double, from two draws. A NULL rng
   (or n = 0 for below) records an error and gives 0; shuffle then does nothing. */
typedef struct { uint64_t s[4]; } grok_rng;

GROKDEF void     grok_rng_seed(grok_rng *r, uint64_t seed);
GROKDEF uint64_t grok_rng_u64(grok_rng *r);
GROKDEF double   grok_rng_uniform(grok_rng *r);               /* [0, 1) */
GROKDEF uint64_t grok_rng_below(grok_rng *r, uint64_t n);     /* [0, n), unbiased; n > 0 */
GROKDEF double   grok_rng_normal(grok_rng *r);                /* mean 0, std 1 */
GROKDEF void     grok_rng_shuffle(grok_rng *r, int *a, size_t n); /* Fisher-Yates from the end */

/* Tensor: a float32 view of up to 4 dims over memory it does not own. Strides are in
   elements; a contiguous (a,b,c) tensor has strides (b*c, c, 1). */
#define GROK_MAX_DIMS 4
typedef struct {
    float *data;
    int ndim;
    int shape[GROK_MAX_DIMS];
    long stride[GROK_MAX_DIMS];
} grok_tensor;

/* Contiguous. A bad ndim or shape (NULL, negative size) gives a tensor with data NULL and an error. */
GROKDEF grok_tensor grok_tensor_make(float *data, int ndim, const int *shape);
GROKDEF long   grok_tensor_numel(const grok_tensor *t);
GROKDEF int    grok_tensor_is_contiguous(const grok_tensor *t);
/* t[i]: drops the first dimension. */
GROKDEF int    grok_tensor_index(grok_tensor *out, const grok_tensor *t, int i);
/* Narrows dimension dim to [start, start+len). */
GROKDEF int    grok_tensor_slice(grok_tensor *out, const grok_tensor *t, int dim, int start, int len);
/* Same data, new contiguous shape; t must be contiguous and the element counts equal. */
GROKDEF int    grok_tensor_reshape(grok_tensor *out, const grok_tensor *t, int ndim, const int *shape);
/* Element at idx[0..ndim-1]; NULL and an error when an index is outside the shape. */
GROKDEF float *grok_tensor_at(const grok_tensor *t, const int *idx);

/* ==== >>kernels: GEMM (AVX-512 / AVX2 / portable), thread pool, vector kernels ================ */

/* C (M,N) = alpha * op(A) (M,K) @ op(B) (K,N) + beta * C, row-major.
   op(A) is A stored (M,K) when transA == 0, or A^T with A stored (K,M) otherwise; same for B.
   beta == 0 overwrites C, ignoring its contents. Multithreaded and deterministic. Negative sizes,
   a leading dimension too small or a NULL matrix record an error and leave C as it was. */
GROKDEF void grok_gemm(int transA, int transB, int M, int N, int K, float alpha,
                       const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc);
GROKDEF int  grok_threads_set(int n); /* n <= 0: GROK_THREADS, else the online CPU count */
GROKDEF int  grok_threads_get(void);
GROKDEF const char *grok_gemm_kernel_name(void); /* "avx512", "avx2" or "generic" */

/* ==== >>layers: embedding, LayerNorm, linear, activation, attention, cross-entropy ============ */

/* Internal: the building blocks of the forward and backward passes (no public API). */

/* ==== >>model: config, parameter table, layout; general, trimmed and folded paths ============= */

typedef enum { GROK_ACT_RELU = 0, GROK_ACT_GELU = 1 } grok_act;   /* gelu: exact, erf */
typedef enum { GROK_NORM_NONE = 0, GROK_NORM_LN = 1 } grok_norm;  /* LN: TransformerLens' */

/* Mirrors TransformerLens' HookedTransformerConfig. Zero means "the default" where one
   exists: d_vocab_out = d_vocab, init_range = 0.8/sqrt(d_model) (TransformerLens'
   initializer_range), ln_eps = 1e-5. train_biases = 0 freezes every b_* parameter, as
   the seeds do; grok_model_set_trainable() changes any parameter afterwards. */
typedef struct {
    int n_layers, n_heads, d_model, d_head, d_mlp;
    int d_vocab, d_vocab_out, n_ctx;
    grok_act act_fn;
    grok_norm normalization;
    uint64_t seed;
    int train_biases;
    double init_range;
    double ln_eps;
} grok_config;

/* The canonical model of seed 000 for modulus p: 1 layer, 4 heads, d_model 128, d_head 32,
   d_mlp 512, ReLU, no LayerNorm, d_vocab p+1 ('=' is token p), d_vocab_out p, n_ctx 3,
   seed 999, biases frozen. */
GROKDEF grok_config grok_config_modadd(int p);

/* One row of the parameter table. Every parameter keeps its TransformerLens name and shape
   and lives at `offset` floats into each of the model's same-layout buffers. */
#define GROK_NAME_MAX 40
typedef struct {
    char name[GROK_NAME_MAX];
    int ndim;
    int shape[GROK_MAX_DIMS];
    size_t offset, numel;
    int trainable;
} grok_param;

typedef struct {
    double train_loss, test_loss, train_acc, test_acc;
} grok_metrics;

/* AdamW with PyTorch's semantics; lr_schedule (may be NULL) returns the factor applied to lr
   at optimizer step `step` (0-based), exactly like torch.optim.lr_scheduler.LambdaLR.
   orthogonal = 1: each trainable tensor's gradient loses its component along that tensor's
   weights and is rescaled to its own norm before the update (the orthogonal gradient of
   Prieto et al., grok_orthograd). fixed_norm > 0: after each update the trainable weights are
   scaled together to that total L2 norm (Omnigrok's constraint, grok_weights_project_norm).
   Both 0 (the default): plain AdamW. */
typedef struct {
    double lr, weight_decay, beta1, beta2, eps;
    double (*lr_schedule)(long step, void *ctx);
    void *lr_schedule_ctx;
    int orthogonal;
    double fixed_norm;
} grok_adamw;

/* The loss of every forward with targets (training and evaluation): softmax cross-entropy, or
   StableMax cross-entropy (Prieto et al. 2025: s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0 in
   place of exp, -log(s(x_t) / sum_v s(x_v)), in float64). */
typedef enum { GROK_LOSS_SOFTMAX = 0, GROK_LOSS_STABLEMAX = 1 } grok_loss;

/* Grokfast (Lee et al. 2024) low-pass filters on the gradient, applied after backward and before
   the optimizer, with the reference code's definitions (ironjr/grokfast):
   EMA  ema = g on the first step, then ema = alpha * ema + (1 - alpha) * g; g += lamb * ema.
   MA   the last `window` gradients kept; g += lamb * mean of them, once the window is full
        (warmup = 1), or from the first step (warmup = 0, the mean of those kept so far).
   Only trainable tensors are filtered. Zero fields take the reference defaults: EMA alpha 0.98,
   lamb 2; MA window 100, lamb 5 (warmup is as given: grok_gradfilter_default sets 1). */
typedef enum { GROK_FILTER_NONE = 0, GROK_FILTER_EMA = 1, GROK_FILTER_MA = 2 } grok_filter_kind;
typedef struct {
    int kind;      /* grok_filter_kind */
    double alpha;  /* EMA */
    double lamb;
    int window;    /* MA */
    int warmup;    /* MA */
} grok_gradfilter_config;

/* A filter's state, in its own arena, made once before training (grok_gradfilter_init): EMA one
   float per parameter, MA `window` floats per parameter (the canonical p = 113 model's 226k
   parameters: 0.9 MB for EMA, 90 MB for a window of 100). A step allocates nothing. */
typedef struct {
    grok_gradfilter_config cfg; /* resolved: no zero defaults left */
    size_t n;                   /* parameters: floats per gradient */
    long count;                 /* gradients seen; MA's newest sits in slot (count - 1) % window */
    float *state;               /* EMA (n); MA (window, n), a ring */
    grok_arena arena;
} grok_gradfilter;

/* The early stop's counters, kept with the model (and in its checkpoint) so that a resumed run
   stops where an uninterrupted one does; zero is the start. */
typedef struct {
    long last_epoch;       /* the last evaluation seen; 0: none yet */
    long streak;           /* evaluations in a row with test accuracy at or above the threshold */
    long memorised_epoch;  /* first evaluation with train accuracy at or above `memorised`; 0: none yet */
    long best_epoch;       /* the evaluation that set best_test_acc; 0: none yet */
    double best_test_acc;
    int reason;            /* grok_stop_reason: why training stopped, GROK_STOP_NONE while it goes on */
} grok_stop_state;

/* The three ways a forward computes the same function (tests/test_grok compares them):
   GENERAL  every position and every activation, with hook points: the reference, and the
            only path for several layers, hooks, the cache, logits_out or no targets.
   TRIMMED  one layer with LayerNorm, targets and no logits_out: Q/K/V computed once per
            (position, token) table row, and only the target positions go through the block's
            output side.
   FOLDED   the same without LayerNorm (the canonical model): W_in and W_U also fold into
            tables over those rows and W_out merges with W_U, about half the canonical step's
            FLOPs.
   The forward chooses: GENERAL unless the trimmed or folded path applies; set
   m->general_path = 1 to force GENERAL (e.g. to read every position's activations). */
typedef enum { GROK_PATH_GENERAL = 0, GROK_PATH_TRIMMED = 1, GROK_PATH_FOLDED = 2 } grok_path;

typedef struct grok__acts grok__acts;

typedef struct {
    grok_config cfg;
    int n_params;
    grok_param *params;     /* name/shape table, n_params rows */
    size_t num_parameters;  /* floats in each buffer below */
    float *weights, *grads; /* one contiguous buffer each, layout of `params` */
    float *adam_m, *adam_v; /* AdamW moments, same layout */
    grok_adamw opt;
    long step;              /* optimizer steps taken */
    long epoch;             /* epochs completed (training driver) */
    grok_metrics metrics;   /* last evaluation */
    int max_rows;           /* batch rows the activation buffers hold */
    int general_path;       /* 1: every forward takes GROK_PATH_GENERAL (see grok_path) */
    int loss;               /* grok_loss of every forward; GROK_LOSS_SOFTMAX after init */
    grok_gradfilter filter; /* grok_train's gradient filter state (train opts' grokfast); kind NONE: none */
    grok_stop_state stop;   /* grok_train's early-stop counters */
    grok__acts *acts;
    grok_arena arena;
} grok_model;

/* Builds a model whose activation buffers hold up to max_batch sequences; initialises it:
   every W_* ~ normal(0, init_range) in table order from cfg->seed, LayerNorm w = 1, every
   bias 0 (TransformerLens' init, with grok.h's RNG). */
GROKDEF int  grok_model_init(grok_model *m, const grok_config *cfg, int max_batch);
GROKDEF void grok_model_free(grok_model *m);
GROKDEF const grok_param *grok_model_param(const grok_model *m, const char *name);
/* Sets trainable for every parameter whose name contains `substring`; returns how many. */
GROKDEF int  grok_model_set_trainable(grok_model *m, const char *substring, int trainable);
GROKDEF grok_tensor grok_model_tensor(const grok_model *m, float *buffer, const grok_param *p);

/* Forward pass. tokens (B,T); targets (B,T) or NULL, -1 marking positions without a loss
   term. logits_out (B,T,V) may be NULL. Loss = mean over target positions of
   -log softmax(logits)[target], the log-softmax taken in float64; accuracy = fraction of
   target positions whose argmax is the target. B <= max_batch. The call takes one of the three
   paths of grok_path; grok_model_path tells which the last call took. */
GROKDEF int grok_model_forward(grok_model *m, const int *tokens, const int *targets, int B,
                               double *loss, double *acc, float *logits_out);
/* Backward pass of the last forward (which must have had targets): ADDS d loss / d param
   into m->grads for every trainable parameter. Frozen ones are skipped, their gradients left
   as they are (PyTorch leaves .grad None for requires_grad=False). */
GROKDEF grok_path grok_model_path(const grok_model *m); /* of the last forward; GENERAL before any */
GROKDEF const char *grok_path_name(int path);           /* "general", "trimmed", "folded" */
GROKDEF int grok_model_backward(grok_model *m);
GROKDEF void grok_model_zero_grad(grok_model *m);

/* ==== >>hooks: hooks, ablations, the activation cache ========================================= */

/* Hooks: callbacks on named activations (TransformerLens' hook names) that read or replace
   them during the general path's forward, e.g. "blocks.0.attn.hook_pattern". act is a view
   of the activation of the current forward call, batch first: hook_embed, hook_pos_embed,
   blocks.{l}.hook_resid_pre/hook_attn_out/hook_resid_mid/hook_mlp_out/hook_resid_post (B,T,C);
   blocks.{l}.attn.hook_q/hook_k/hook_v/hook_z (B,T,H,D); blocks.{l}.attn.hook_attn_scores and
   hook_pattern (B,H,T,T) (masked scores are -inf); blocks.{l}.mlp.hook_pre/hook_post (B,T,M);
   with LayerNorm also blocks.{l}.ln1.hook_normalized, ln2.hook_normalized and
   ln_final.hook_normalized (B,T,C): TransformerLens' normalised x, (x - mean) / scale, before
   the LayerNorm's w and b (grok.h has no hook_scale: the scale is recomputed from the residual).
   A hook returns GROK_OK or an error that aborts the forward. While hooks are registered the
   model takes the general path and backward is refused. */
#define GROK_MAX_HOOKS 32
typedef int (*grok_hook_fn)(grok_tensor *act, const char *name, void *ctx);
GROKDEF int  grok_model_add_hook(grok_model *m, const char *name, grok_hook_fn fn, void *ctx);
GROKDEF void grok_model_clear_hooks(grok_model *m);

/* Ready-made hooks. ctx of the ablations: a grok_ablation naming one head (head >= 0, for the
   attention hooks) or NULL for the whole activation. Mean ablation replaces each element by its
   mean over the batch of the current forward call. */
typedef struct { int head; } grok_ablation;
GROKDEF int grok_hook_zero_ablate(grok_tensor *act, const char *name, void *ctx);
GROKDEF int grok_hook_mean_ablate(grok_tensor *act, const char *name, void *ctx);
/* ctx: grok_projection. Every vector along the last dimension (d) is projected onto the span
   of the k orthonormal rows of basis (k, d), or with remove = 1 onto its complement. */
typedef struct { const float *basis; int k, d, remove; } grok_projection;
GROKDEF int grok_hook_project(grok_tensor *act, const char *name, void *ctx);

/* Activation cache: runs the general path on B sequences (in chunks of max_batch) and keeps
   every hook point whose name contains one of the comma-separated substrings of filter
   (NULL: all) as a (B, ...) tensor it owns; registered hooks apply first. logits_out (B,T,V)
   may be NULL. */
typedef struct { char name[GROK_NAME_MAX]; grok_tensor t; } grok_cache_entry;
typedef struct { int n, B; grok_cache_entry *entries; } grok_cache;
GROKDEF int grok_cache_run(grok_cache *c, grok_model *m, const int *tokens, int B, const char *filter,
                           float *logits_out);
GROKDEF const grok_tensor *grok_cache_get(const grok_cache *c, const char *name); /* NULL if absent */
GROKDEF void grok_cache_free(grok_cache *c);

/* Gradient hooks: grok_hook_fn callbacks on the gradient of a scalar with respect to a hook
   point, a tensor of the activation's name and shape. The general path's backward calls them
   in backward order (ln_final, the blocks from the last: resid_post, mlp_out, mlp.hook_post,
   mlp.hook_pre, ln2, resid_mid, attn_out, attn.hook_z, hook_pattern, hook_attn_scores, q, k, v,
   ln1, resid_pre; then hook_pos_embed and hook_embed). A hook may read the gradient or change it
   in place, and the backward goes on from what it leaves, parameter gradients included
   (PyTorch's Tensor.register_hook). Registering one makes the forward take the general path;
   the first one allocates the backward's copies (about 2*R*C + 2*B*H*T*T floats for R = B*T
   rows of max_batch), freed with the model. */
GROKDEF int  grok_model_add_grad_hook(grok_model *m, const char *name, grok_hook_fn fn, void *ctx);
GROKDEF void grok_model_clear_grad_hooks(grok_model *m);

/* A scalar metric of the logits (B,T,V) (for the nets T = 1, V = n): returns its value and,
   when dlogits is not NULL, writes d metric / d logits (B,T,V). Used by the gradient cache and
   by activation and attribution patching. */
typedef double (*grok_metric_fn)(const float *logits, int B, int T, int V, float *dlogits, void *ctx);
/* The mean over rows with a target of -log softmax(logits)[target] (float64): the training
   loss of softmax models (a StableMax model's is not this one). ctx: const int *targets, one
   per logits row (B*T), -1 for none. */
GROKDEF double grok_metric_loss(const float *logits, int B, int T, int V, float *dlogits, void *ctx);
/* The logit difference at one position, the usual patching metric: the mean over the batch of
   logits[b, pos, correct[b]] - logits[b, pos, wrong[b]]. ctx: grok_logit_diff; pos < 0 counts
   from the end (-1: the last position). */
typedef struct { int pos; const int *correct, *wrong; } grok_logit_diff;
GROKDEF double grok_metric_logit_diff(const float *logits, int B, int T, int V, float *dlogits, void *ctx);

/* The gradient cache (TransformerLens' run_with_cache with incl_bwd): the gradient of metric
   over B sequences with respect to every hook point whose name contains one of filter's
   comma-separated substrings (NULL: all), under the hook point's name and shape (B, ...), in
   grads; acts (may be NULL) receives the same forward's activations, as grok_cache_run.
   metric NULL is the loss, with metric_ctx the targets (B,T) as grok_model_forward takes them.
   The metric is taken over all B sequences at once, so with B over max_batch each chunk runs
   its forward twice. value (may be NULL) receives the metric. Gradient hooks apply; forward
   hooks are refused (a replaced activation has no gradient through the replacement), and the
   model's parameter gradients are left as they were. */
GROKDEF int grok_grad_cache_run(grok_cache *acts, grok_cache *grads, grok_model *m, const int *tokens, int B,
                                const char *filter, grok_metric_fn metric, void *metric_ctx, double *value);

/* ==== >>nets: seed 003's BilinearNet and OneLayerMLP ========================================== */

/* The two models of seed 003 for group composition, with the transformer's machinery: one
   buffer each for weights, gradients and AdamW moments with a name/shape table, hand-written
   backward, hooks and the activation cache. Shapes (N = the group order n, E = embed_dim,
   Hd = hidden_dim):
     BilinearNet  W_E_a (N,E), W_E_b (N,E), W_U (E,N):
       x_embed = W_E_a[a], y_embed = W_E_b[b] (B,E); product = x_embed * y_embed (B,E);
       out = product @ W_U (B,N)
     OneLayerMLP  W_E_a (N,E), W_E_b (N,E), W (2E,Hd), W_U (Hd,N):
       x_embed, y_embed (B,E); embed_stack = [x_embed, y_embed] (B,2E);
       hidden = ReLU(embed_stack @ W) (B,Hd); out = hidden @ W_U (B,N)
   Init as the seed: every weight ~ normal(0, 1) / sqrt(fan), fan = E for W_E_a, W_E_b and the
   bilinear W_U, 2E for W, Hd for the MLP's W_U, drawn in table order from cfg.seed with grok.h's
   RNG. No biases. Hook names are the seed's HookPoint names: x_embed, y_embed, product (bilinear)
   or embed_stack, hidden (MLP), and out (the logits). */
typedef enum { GROK_NET_BILINEAR = 0, GROK_NET_MLP = 1 } grok_net_kind;

typedef struct {
    grok_net_kind kind;
    int n;            /* group order: input vocabulary and logits */
    int embed_dim;
    int hidden_dim;   /* MLP only */
    uint64_t seed;
} grok_net_config;

typedef struct grok__net_acts grok__net_acts;

typedef struct {
    grok_net_config cfg;
    int n_params;
    grok_param *params;     /* W_E_a, W_E_b, (W,) W_U */
    size_t num_parameters;  /* floats in each buffer below */
    float *weights, *grads; /* one contiguous buffer each, layout of `params` */
    float *adam_m, *adam_v; /* AdamW moments, same layout */
    grok_adamw opt;         /* grok_adamw_default() after init */
    long step;              /* optimizer steps taken */
    long epoch;             /* epochs completed (grok_net_train) */
    grok_metrics metrics;   /* last evaluation */
    int max_rows;           /* pairs (rows) the activation buffers hold */
    int loss;               /* grok_loss of every forward; GROK_LOSS_SOFTMAX after init */
    grok_gradfilter filter; /* grok_net_train's gradient filter state */
    grok_stop_state stop;   /* grok_net_train's early-stop counters */
    int general_path;       /* 1: the MLP never takes GROK_PATH_FOLDED (see grok_net_forward) */
    grok__net_acts *acts;
    grok_arena arena;
} grok_net;

GROKDEF int  grok_net_init(grok_net *net, const grok_net_config *cfg, int max_batch);
GROKDEF void grok_net_free(grok_net *net);
GROKDEF const grok_param *grok_net_param(const grok_net *net, const char *name);
/* Forward pass over B rows of a grok_data-style (B,3) array: a = tokens[3i], b = tokens[3i+1]
   (the '=' at tokens[3i+2] is not read), label targets[3i+2] (-1: no loss term); targets may be
   NULL. Loss and accuracy as grok_model_forward (float64 log-softmax cross-entropy, mean over
   rows with a label); logits_out (B,N) may be NULL. B <= max_batch.
   Two paths compute the MLP's hidden layer (tests/test_tasks compares them to float rounding):
   GENERAL  embed_stack @ W for every row, through every hook point: the reference, and the path
            whenever hooks, a cache, gradient hooks, logits_out or no label is involved, or
            net->general_path = 1.
   FOLDED   training and evaluation (labels, no logits_out, no hooks): W_E_a @ W[:E] and
            W_E_b @ W[E:] are formed once per forward as (N,Hd) tables and each row adds its two
            table rows, so the row's cost no longer depends on E (S_5's step: 4.8x fewer FLOPs).
   The bilinear net has only the general path. grok_net_path says which path the last forward
   took. */
GROKDEF int  grok_net_forward(grok_net *net, const int *tokens, const int *targets, int B, double *loss,
                              double *acc, float *logits_out);
/* ADDS d loss / d param of the last forward (which had labels) into net->grads. */
GROKDEF int  grok_net_backward(grok_net *net);
GROKDEF grok_path grok_net_path(const grok_net *net);
GROKDEF void grok_net_zero_grad(grok_net *net);
/* Hooks on the net's hook points (grok_hook_fn as for the transformer; act is (B, ..), batch
   first). They read or replace the activation; backward is refused while hooks are registered. */
GROKDEF int  grok_net_add_hook(grok_net *net, const char *name, grok_hook_fn fn, void *ctx);
GROKDEF void grok_net_clear_hooks(grok_net *net);
/* The activation cache over B rows (chunks of max_batch): every hook point whose name contains
   one of the comma-separated substrings of filter (NULL: all), (B, ..) tensors the cache owns;
   read with grok_cache_get, free with grok_cache_free. logits_out (B,N) may be NULL. */
GROKDEF int  grok_net_cache_run(grok_cache *c, grok_net *net, const int *tokens, int B, const char *filter,
                                float *logits_out);

/* ==== >>optimizer: AdamW ====================================================================== */

GROKDEF grok_adamw grok_adamw_default(void); /* lr 1e-3, wd 1, betas (0.9, 0.98), eps 1e-8 */
/* One AdamW step with m->opt on every trainable parameter; frozen ones are not touched. */
GROKDEF int grok_model_adamw_step(grok_model *m);
GROKDEF int  grok_net_adamw_step(grok_net *net); /* the transformer's AdamW, with net->opt */
/* Replaces each trainable tensor's gradient g by g - (g.w / (w.w + 1e-30)) w, rescaled to the
   norm of g (divided by its own norm + 1e-30): the orthogonal gradient of Prieto et al.'s code,
   per tensor. Dots and norms in double, in a fixed order. */
GROKDEF int grok_orthograd(float *grads, const float *weights, const grok_param *params, int n_params);
/* Scales the trainable tensors of weights together to total L2 norm `norm` (> 0); the norm is
   summed in double in table order. Returns the norm before (-1 and an error on bad input). */
GROKDEF double grok_weights_project_norm(float *weights, const grok_param *params, int n_params, double norm);
/* The reference defaults of a filter kind (EMA: alpha 0.98, lamb 2; MA: window 100, lamb 5, warmup 1). */
GROKDEF grok_gradfilter_config grok_gradfilter_default(int kind);
/* Makes f's state for gradients of n floats (one allocation; zero fields of c take the
   defaults). A kind of GROK_FILTER_NONE makes an empty filter. */
GROKDEF int  grok_gradfilter_init(grok_gradfilter *f, const grok_gradfilter_config *c, size_t n);
GROKDEF void grok_gradfilter_free(grok_gradfilter *f);
/* Filters grads (f->n floats, the layout of params) in place and advances the state; frozen
   tensors are left alone. Element-wise, so the thread count changes no bit. */
GROKDEF int  grok_gradfilter_apply(grok_gradfilter *f, float *grads, const grok_param *params, int n_params);

/* ==== >>evaluate: loss and accuracy over a data set =========================================== */

/* Forward only over n sequences in chunks of max_batch: loss and accuracy of the whole set. */
GROKDEF int grok_model_evaluate(grok_model *m, const int *tokens, const int *targets, int n,
                                double *loss, double *acc);
/* Forward only over n rows in chunks of max_batch: loss and accuracy of the whole set. */
GROKDEF int  grok_net_evaluate(grok_net *net, const int *tokens, const int *targets, int n, double *loss,
                               double *acc);

/* ==== >>tasks: modular arithmetic, groups, n-digit addition =================================== */

/* A data set of n sequences: tokens (n, n_ctx), targets (n, n_ctx) with -1 where a
   position has no loss term. One allocation, freed by grok_data_free. */
typedef struct {
    int n, n_ctx;
    int *tokens, *targets;
} grok_data;

GROKDEF int  grok_data_alloc(grok_data *d, int n, int n_ctx);
GROKDEF void grok_data_free(grok_data *d);

/* Seed 000's modular addition: all p*p sequences (a, b, '=') with '=' the token p, ordered
   a-major (row a*p+b), label (a+b) mod p at the last position; a permutation of the rows by
   grok_rng_shuffle from data_seed; the first floor(p*p*frac_train) rows train, the rest test. */
GROKDEF int grok_task_modadd(grok_data *train, grok_data *test, int p, double frac_train,
                             uint64_t data_seed);

/* The modular binary operations of the seeds for grok_task_modop, over Z_p. */
typedef enum {
    GROK_OP_ADD = 0,  /* (a + b) mod p, seed 000 (grok_task_modadd) */
    GROK_OP_SUB,      /* (a - b) mod p */
    GROK_OP_MUL,      /* a b mod p */
    GROK_OP_DIV,      /* a b^-1 mod p; p must be prime; the p pairs with b = 0 are left out */
    GROK_OP_POW_SUM,  /* (a^m + b^n) mod p, seed 001 (m = n = 4) */
    GROK_OP_SQ_SUM,   /* (a^2 + b^2) mod p */
    GROK_OP_SQ_CROSS, /* (a^2 + a b + b^2) mod p */
    /* The rest of the grokking paper's (Power et al. 2022) binary operations, as openai/grok
       computes them on the integers 0..p-1: */
    GROK_OP_SQ_CROSS_PLUS_A, /* (a^2 + a b + b^2 + a) mod p */
    GROK_OP_CUBE_CROSS,      /* (a^3 + a b) mod p */
    GROK_OP_CUBE_CROSS_SQ,   /* (a^3 + a b^2 + b) mod p */
    GROK_OP_DIV_IF_ODD,      /* a / b mod p when b is odd, else (a - b) mod p; p must be prime */
    GROK_OP_ADD_OR_MUL,      /* (a + b) mod p when a is even, else a b mod p ("+*") */
    GROK_OP_ADD_OR_SUB       /* (a + b) mod p when a is even, else (a - b) mod p ("+-") */
} grok_modop;

/* A user's operation: the label of (a, b) in [0, p), or -1 to leave the pair out. */
typedef int (*grok_modop_fn)(int a, int b, int p, void *ctx);

/* Label of (a, b) under op (m, n: the exponents of GROK_OP_POW_SUM, >= 0, ignored otherwise),
   or -1 for a pair that op leaves out (b = 0 under GROK_OP_DIV); -1 and an error for bad input. */
GROKDEF int grok_modop_apply(grok_modop op, int a, int b, int p, int m, int n);
/* Modular addition's data set for any operation: the sequences (a, b, '=' = p) of every kept
   pair in a-major order, label at the last position, shuffled by grok_rng_shuffle from
   data_seed; the first floor(N frac_train) of the N kept pairs train, the rest test.
   GROK_OP_ADD gives grok_task_modadd's data, bit for bit. */
GROKDEF int grok_task_modop(grok_data *train, grok_data *test, grok_modop op, int p, int m, int n,
                            double frac_train, uint64_t data_seed);
/* The same with the label from fn(a, b, p, ctx); a value outside [-1, p) is GROK_ERR_ARG. */
GROKDEF int grok_task_modop_fn(grok_data *train, grok_data *test, grok_modop_fn fn, void *ctx, int p,
                               double frac_train, uint64_t data_seed);

/* The task a modular model was trained on, as the loss-based analyses need it (grok_modadd_
   restricted, _neuron_losses, _cos_fit and _progress take one; NULL there means modular
   addition). labels (p*p): the label of pair row a*p+b, -1 for a pair the task leaves out (no
   loss term there); sums (p*p): the value s(a, b) in [0, p) whose cos(w s), sin(w s) are the
   trig-sum directions and whose cos(w (s - c)) the logit fit uses. GROK_DIRS_SUM is the seeds'
   s = (a + b) mod p whatever the task (seed 001 fits its a^4 + b^4 model on cos(w(a+b-c)) and
   ablates cos/sin(w(a+b))); GROK_DIRS_TASK is the task's own s = its label, the directions of a
   model that computes the label as a sum of two embeddings' phases (needs every pair labelled). */
typedef enum { GROK_DIRS_SUM = 0, GROK_DIRS_TASK = 1 } grok_dirs;
typedef struct {
    int p;
    int *labels, *sums;  /* (p*p) each, one allocation */
    grok_dirs dirs;
    char name[80];       /* "(a^4 + b^4) mod 113", "(a + b) mod 113", "labels from the data, mod 113" */
} grok_modtask;
/* op's task (m, n as grok_modop_apply). GROK_DIRS_TASK with an op that leaves pairs out
   (GROK_OP_DIV) is GROK_ERR_ARG. */
GROKDEF int  grok_modtask_init(grok_modtask *t, grok_modop op, int p, int m, int n, grok_dirs dirs);
/* The task of data in modular addition's layout (rows (a, b, '=' = p) with the label at the
   last position, e.g. from grok_task_modop_fn): the labels of the pairs in train and test (test
   may be NULL), -1 for the others; directions GROK_DIRS_SUM. GROK_ERR_ARG for a row that is not
   such a pair, or a pair given two labels. */
GROKDEF int  grok_modtask_from_data(grok_modtask *t, int p, const grok_data *train, const grok_data *test);
GROKDEF void grok_modtask_free(grok_modtask *t);

/* Finite groups of seed 003 with elements 0..order-1. C_n: x∘y = (x + y) mod n. D_n (order 2n):
   element r + s n is the rotation r followed by s reflections, [e, r, .., r^(n-1), s, rs, ..,
   r^(n-1)s], and (x_r, x_s)∘(y_r, y_s) = ((x_r + y_r) mod n, y_s) when x_s = 0, else
   ((x_r - y_r) mod n, (1 + y_s) mod 2) (seed 003's DihedralGroup.compose). S_n (n <= 6, order
   n!): the permutations of 0..n-1 in lexicographic order, x∘y = the permutation i -> x(y(i)).
   A_n (n <= 6, order n!/2, 1 for n = 1): the even permutations of 0..n-1, in lexicographic order
   (element k is the k-th even one of S_n's list), composed as in S_n. */
typedef enum { GROK_GROUP_CYCLIC = 0, GROK_GROUP_DIHEDRAL, GROK_GROUP_SYMMETRIC, GROK_GROUP_ALTERNATING } grok_group_kind;
#define GROK_GROUP_MAX_ORDER 4096
typedef struct {
    grok_group_kind kind;
    int index;       /* n of C_n, D_n, S_n, A_n */
    int order;       /* n, 2n, n!, n!/2 */
    int identity;    /* 0 for all four */
    int *table;      /* (order, order): table[x*order + y] = x∘y */
    int *inverse;    /* (order): x∘inverse[x] = identity */
    /* k such that elements 0..k-1 form the cyclic group Z_k with x∘y = (x + y) mod k (the largest
       such prefix): n for C_n, the rotations n for D_n, 2 for S_n (n >= 2), 3 for A_n (n >= 3).
       The Fourier analyses
       of nets (grok_net_fourier_norms, grok_net_neuron_freqs) work on it. */
    int cyclic;
    char name[16];   /* "C_113", "D_59", "S_5", "A_5" */
} grok_group;

/* Builds the table (one allocation); order <= GROK_GROUP_MAX_ORDER, n >= 1, S_n and A_n: n <= 6. */
GROKDEF int  grok_group_init(grok_group *g, grok_group_kind kind, int n);
GROKDEF void grok_group_free(grok_group *g);
/* Seed 003's data set in modular addition's layout: the order^2 sequences (x, y, '=') with
   '=' the token order, a-major, label x∘y at the last position; shuffled and split like
   grok_task_modop. */
GROKDEF int  grok_task_group(grok_data *train, grok_data *test, const grok_group *g, double frac_train,
                             uint64_t data_seed);
/* Binary operations on a group's elements: composition x∘y, conjugation x∘y∘x^-1 and x∘y∘x (the
   grokking paper's s5conj and s5aba on any group). openai/grok multiplies sympy permutations,
   whose a*b applies a first, so its s5conj is x^-1∘y∘x in grok.h's order: the same task with
   x renamed x^-1. */
typedef enum { GROK_GROUP_OP_COMPOSE = 0, GROK_GROUP_OP_CONJUGATE, GROK_GROUP_OP_XYX } grok_group_op;
/* op(x, y), or -1 and an error for a bad group, op or element. */
GROKDEF int  grok_group_op_apply(const grok_group *g, grok_group_op op, int x, int y);
/* grok_task_group's data set with the label op(x, y); GROK_GROUP_OP_COMPOSE gives grok_task_group's
   data, bit for bit. */
GROKDEF int  grok_task_group_op(grok_data *train, grok_data *test, const grok_group *g, grok_group_op op,
                                double frac_train, uint64_t data_seed);

/* ---- n-digit addition (seed 002). A question is x + y = z in T = 3n+3 tokens: the n digits
   of x (most significant first) at positions 0..n-1, '+' (token 10) at n, y at n+1..2n, '='
   (token 11) at 2n+1 and the n+1 digits of z = x + y at 2n+2..3n+2, most significant first, so
   z's first digit is the final carry: 77426+17611=095037. Position t predicts token t+1, so
   the loss sits at the n+1 positions 2n+1..3n+1 (the seed's logits[:, -(n+2):-1]) with target
   tokens[t+1] (its tokens[:, -(n+1):]) and every other target is -1; grok_model_forward's loss
   is then the seed's training loss. Two indexings, both the seed's: answer token j (j = 0 the
   leading digit, j = n the units; its per-token curves "tok j"), and column d (d = 0 the units,
   its sub-task curves) made of x_d, y_d and z_d at positions n-1-d, 2n-d and 3n+2-d; column d
   is answer token n-d, and answer token 0 (the final carry) belongs to no column. */
#define GROK_DIGITS_PLUS 10
#define GROK_DIGITS_EQUALS 11
#define GROK_DIGITS_MAX 32 /* n_digits is 1..GROK_DIGITS_MAX */

/* B fresh questions: every digit of x and y uniform in 0..9 (grok_rng_below(rng, 10), row by
   row, x's digits then y's, most significant first), the answers and the targets. batch is
   either zeroed, and then allocated here (free with grok_data_free), or holds B rows of 3n+3
   tokens (grok_data_alloc or an earlier call), overwritten without allocating: a fresh batch
   every training step allocates nothing. Called once with B = N it makes a fixed finite set. */
GROKDEF int grok_task_digits(grok_data *batch, int n_digits, int B, grok_rng *rng);

/* Seed 002's model for n digits: 1 layer, 4 heads, d_model 512, d_head 128, d_mlp 2048, ReLU,
   d_vocab = d_vocab_out = 12 (as the seed runs it), n_ctx 3n+3, LayerNorm if use_ln (the seed's
   LayerNorm modules are commented out, so it trains without), seed 129000, biases trained,
   init_range 1/sqrt(d_model) (the seed's std for every matrix but W_U, whose std is
   1/sqrt(d_vocab)). The seed's model has no attention or unembedding biases: for its exact
   architecture freeze them after grok_model_init with grok_model_set_trainable(m, "b_", 0) and
   then (m, "mlp.b_", 1), as examples/digits.c does. For n_digits outside 1..GROK_DIGITS_MAX
   n_ctx is 0, which grok_model_init refuses. */
GROKDEF grok_config grok_digits_config(int n_digits, int use_ln);
/* Seed 002's optimizer: AdamW lr 1e-4, wd 0.1, betas (0.9, 0.98), eps 1e-8, warm-up
   lr_schedule min(step/10, 1) (LambdaLR: the first step has factor 0). */
GROKDEF grok_adamw grok_digits_adamw(void);

/* Seed 002's sub-tasks of a column: BaseAdd when no carry comes in, else UseSum9 when
   x_d + y_d == 9 (the incoming carry makes a 10 and passes a carry on), else UseCarry1.
   Disjoint, and every column has exactly one. */
enum { GROK_DIGITS_BASEADD = 0, GROK_DIGITS_USECARRY1 = 1, GROK_DIGITS_USESUM9 = 2 };
typedef struct {
    unsigned char base_add;   /* x_d + y_d, 0..18 (the seed's base_adds; sum9s is base_add == 9) */
    unsigned char use_carry;  /* column d-1 carries into d, 0 for the units (use_carry1s) */
    unsigned char make_carry; /* base_add + use_carry >= 10: d carries into d+1 (make_carry1s) */
    unsigned char subtask;    /* GROK_DIGITS_BASEADD, _USECARRY1 or _USESUM9 (use_sum9s: USESUM9) */
} grok_digits_column;
/* cols (B, n_digits), column d = 0 the units, of the questions tokens (B, 3n+3), computed from
   x and y alone; GROK_ERR_ARG if a row's x, y, '+' or '=' is not in place. */
GROKDEF int grok_digits_columns(grok_digits_column *cols, const int *tokens, int B, int n_digits);

/* The seed's loss curves of one batch. Every loss is -log softmax (in double) of an answer
   token at the position that predicts it, averaged as the seed averages; a class with no case
   in the batch is NAN with count 0 (the seed's plots repeat the previous step's value). */
typedef struct {
    int n_digits, B;
    double loss;                        /* over all B*(n+1) answer tokens: the training loss */
    double token[GROK_DIGITS_MAX + 1];  /* answer token j over the B rows (the seed's "tok j") */
    double token_acc[GROK_DIGITS_MAX + 1]; /* fraction of rows whose argmax at token j is right */
    double row_acc;                     /* fraction of rows with all n+1 answer tokens right */
    /* [sub-task][d]: z_d over the rows whose column d has that sub-task (ba_/uc1_/us9_perdigit_loss) */
    double column[3][GROK_DIGITS_MAX];
    int column_count[3][GROK_DIGITS_MAX];
    /* Over whole rows: baseadd_all, rows without any carry, the mean over their n column
       digits (the leading 0 left out; ba_alldigits_loss); usecarry1_any, rows with a UseCarry1
       column and no UseSum9 column, over all n+1 answer tokens (uc1_anydigits_loss);
       usesum9_one / usesum9_two, rows with exactly one / two UseSum9 columns, over all n+1
       (us9_onedigit_loss, us9_twodigits_loss). Rows with three or more UseSum9 columns are in
       none of these, as in the seed. */
    double baseadd_all, usecarry1_any, usesum9_one, usesum9_two;
    int baseadd_all_count, usecarry1_any_count, usesum9_one_count, usesum9_two_count;
} grok_digits_stats;
/* From logits (B, 3n+3, V) (grok_model_forward's logits_out, V = d_vocab_out >= 10) of the
   questions tokens (B, 3n+3) with their answers. Allocates nothing. */
GROKDEF int grok_digits_losses(grok_digits_stats *s, const float *logits, int V, const int *tokens, int B,
                               int n_digits);

/* One row as the seed's tokens_to_string: "  77426\n +17611\n=095037". The answer is the
   model's when logits (3n+3, V) of that row are given (digit j = the argmax at position 2n+1+j,
   the first on a tie; a non-digit argmax shows as '+', '=' or '?'), else the row's own. buf
   needs cap >= 3n+9 bytes. */
GROKDEF int grok_digits_string(char *buf, size_t cap, const int *tokens, const float *logits, int V,
                               int n_digits);

/* ==== >>io: checkpoints; safetensors, .npy, data splits, run summaries ======================== */

/* Checkpoint: little-endian binary, versioned (see GROK_CKPT_VERSION and the format comment
   in the implementation): config, step, epoch, metrics, AdamW settings, weights and, if
   with_optimizer, both AdamW moments and the training state of the levers (loss, orthogonal
   gradient, fixed norm, early-stop counters, the Grokfast filter's state). Version 2 is written
   only when one of those differs from its default, so a plain run's files are version 1; both
   are read. Crash-safe: written to path.tmp, fsync'ed, renamed over
   path, and the directory fsync'ed, so that path always holds a complete checkpoint (the old
   one or the new one) whenever the process or the machine stops. Every file grok.h writes
   (.npy, safetensors, summaries, SVG, the report) goes the same way through path.tmp, so a
   full disk or a kill leaves the old file, never part of a new one. */
#define GROK_CKPT_VERSION 2
GROKDEF int grok_checkpoint_save(const grok_model *m, const char *path, int with_optimizer);
/* mkdir -p: creates dir and any missing parents (an existing one is fine). GROK_ERR_ARG for an
   empty or over-long name, GROK_ERR_IO naming the part that could not be created. */
GROKDEF int grok_dir_make(const char *dir);
/* Loads into an initialised model of the same config (its max_batch is kept). Every reader of
   grok.h (checkpoints, .npy, safetensors) opens only regular files: a FIFO, a device or a
   directory is GROK_ERR_IO "... is not a regular file". */
GROKDEF int grok_checkpoint_load(grok_model *m, const char *path);
/* Reads only the config of a checkpoint, e.g. to grok_model_init before loading, after checking
   that the file holds exactly the tensors that config makes (GROK_ERR_FORMAT otherwise), so
   that a header claiming a large model costs nothing. */
GROKDEF int grok_checkpoint_config(grok_config *cfg, const char *path);

#ifndef GROK_NO_INTEROP
/* ---- Interchange with Python: safetensors, .npy, data splits, run summaries.
   A grok_array is a named, contiguous, host-order n-dimensional array of one dtype (0 <= ndim
   <= 8; ndim 0 is a scalar). Readers are strict: every length, offset, dtype and shape is
   checked (sizes without integer overflow) before anything is used, malformed input is
   GROK_ERR_FORMAT with a message, and nothing is read or written out of bounds whatever the
   file holds. Files are written to path.tmp and renamed. */
typedef enum {
    GROK_DT_F32 = 0, GROK_DT_F64, GROK_DT_I64, GROK_DT_I32,  /* read, written and converted */
    GROK_DT_I16, GROK_DT_I8, GROK_DT_U8, GROK_DT_U16, GROK_DT_U32, GROK_DT_U64, GROK_DT_BOOL,
    GROK_DT_F16, GROK_DT_BF16, GROK_DT_F8_E4M3, GROK_DT_F8_E5M2 /* read as bytes only */
} grok_dtype;
#define GROK_ARRAY_MAX_DIMS 8
typedef struct {
    const char *name;      /* may be NULL for .npy */
    grok_dtype dtype;
    int ndim;
    int64_t shape[GROK_ARRAY_MAX_DIMS];
    void *data;            /* product(shape) elements, contiguous, row-major, host byte order */
} grok_array;

GROKDEF size_t grok_dtype_size(grok_dtype dt);     /* bytes per element; 0 if unknown */
GROKDEF const char *grok_dtype_name(grok_dtype dt); /* safetensors' name: "F32", "I64", .. */
GROKDEF int64_t grok_array_numel(const grok_array *a);
/* A float32 array over a contiguous tensor (no copy). */
GROKDEF grok_array grok_array_of_tensor(const char *name, const grok_tensor *t);
/* Converts a (F32, F64, I32 or I64) to float: out must hold n == numel(a) floats. */
GROKDEF int grok_array_to_f32(float *out, int64_t n, const grok_array *a);
/* Converts a (I32 or I64) to int64: out must hold n == numel(a) values. */
GROKDEF int grok_array_to_i64(int64_t *out, int64_t n, const grok_array *a);

/* .npy, format 1.0, 2.0 and 3.0 (numpy.save / numpy.load): descr '<f4', '<f8', '<i4', '<i8'
   (or '>' big-endian), fortran_order False, any shape; the data must end the file. The
   writer uses version 1.0 unless the header needs 2.0. grok_npy_load allocates a->data (free
   with grok_array_free); a->name is NULL. */
GROKDEF int  grok_npy_save(const char *path, const grok_array *a);
GROKDEF int  grok_npy_save_tensor(const char *path, const grok_tensor *t); /* any strides */
GROKDEF int  grok_npy_load(grok_array *a, const char *path);
GROKDEF void grok_array_free(grok_array *a);

/* safetensors (huggingface): u64 little-endian header length N (<= 100,000,000), N bytes of
   JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..,
   "__metadata__": {"key": "value", ..}} (optional), then the data, offsets relative to its
   start. The reader checks the JSON strictly (RFC 8259, UTF-8, no duplicate keys, integers as
   integers) and that the tensors tile the data exactly (sorted by offset, no gap, no overlap,
   end == data size, end - begin == numel * dtype size), as the reference implementation does.
   The whole file is read; every array's data is its own 8-byte-aligned copy. */
typedef struct {
    int n;                 /* tensors, in file header order */
    grok_array *arrays;
    int n_meta;            /* __metadata__ pairs */
    const char **meta_keys, **meta_values;
    void *mem_;            /* one allocation behind all of the above */
} grok_safetensors;
GROKDEF int  grok_safetensors_load(grok_safetensors *st, const char *path);
GROKDEF const grok_array *grok_safetensors_get(const grok_safetensors *st, const char *name); /* NULL: absent */
GROKDEF const char *grok_safetensors_meta(const grok_safetensors *st, const char *key);       /* NULL: absent */
GROKDEF void grok_safetensors_free(grok_safetensors *st);
/* Writes n arrays (distinct names, any dtype) and n_meta metadata pairs (may be 0). The header
   is padded with spaces to a multiple of 8 bytes and the data are laid out by element size,
   largest first, so that each array is aligned to its element size (as the safetensors
   library does); the header lists the arrays in the given order. */
GROKDEF int  grok_safetensors_save(const char *path, const grok_array *arrays, int n,
                                   const char *const *meta_keys, const char *const *meta_values, int n_meta);

/* A model's parameters as safetensors with TransformerLens' names and shapes (embed.W_E
   (d_vocab, d_model), blocks.0.attn.W_Q (n_heads, d_model, d_head), ..), F32, readable by
   safetensors.torch.load_file and HookedTransformer.load_state_dict(.., strict=False) (the
   file has no attn.mask / attn.IGNORE buffers). buffer: m->weights (NULL means that),
   m->grads, m->adam_m or m->adam_v, all of the same layout. __metadata__ holds the config
   under HookedTransformerConfig's names: format "grok.h", n_layers, n_heads, d_model, d_head,
   d_mlp, d_vocab, d_vocab_out, n_ctx, act_fn ("relu"/"gelu"), normalization_type ("LN" or
   "None"), eps, initializer_range, seed, step, epoch, and frozen: the names of the parameters
   that are not trainable (grok_model_set_trainable, train_biases = 0), comma-separated, "" when
   every parameter trains. */
GROKDEF int grok_model_save_safetensors(const grok_model *m, const char *path, const float *buffer);
/* Loads the weights of an initialised model from such a file, or from a TransformerLens
   state_dict saved with safetensors.torch.save_file(model.state_dict(), path): every
   parameter of the model must be present with its exact shape, dtype F32 or F64 (converted);
   other keys (blocks.0.attn.mask, .IGNORE, ..) are ignored, but LayerNorm parameters in a
   file for a model without LayerNorm, or an act_fn / normalization_type in __metadata__ that
   differs from the model's, are errors. Bias tensors (names with ".b_": b_Q, b_K, b_V, b_O,
   b_in, b_out, b_U) may be absent, as in a model built without them: those are set to zero and
   frozen (grok_model_set_trainable(.., 0)). The trainable flags follow __metadata__ "frozen"
   when the file has it (the parameters it names are frozen, every other one trains; a name the
   model lacks is an error), else the model's are kept but for the absent biases. A failed load
   leaves the model (weights and flags) unchanged. Optimizer state, step and epoch are not
   touched. */
GROKDEF int grok_model_load_safetensors(grok_model *m, const char *path);
/* The same, and *n_zeroed (may be NULL) says how many bias tensors the file lacked (set to zero
   and frozen), so that a caller can tell its user. */
GROKDEF int grok_model_load_safetensors_ex(grok_model *m, const char *path, int *n_zeroed);
/* The config of such a file: shapes give n_layers, n_heads, d_model, d_head, d_mlp, d_vocab,
   d_vocab_out, n_ctx and the normalization (ln_final.w present); act_fn, eps,
   initializer_range and seed come from __metadata__ when it has them (act_fn otherwise relu);
   train_biases is 0 when no bias tensor of the file trains (every one absent or named in
   __metadata__ "frozen"), else 1. */
GROKDEF int grok_safetensors_config(grok_config *cfg, const char *path);
/* A net's weights (buffer: net->weights when NULL, or grads, adam_m, adam_v) as safetensors under
   seed 003's names W_E_a, W_E_b, W, W_U (F32, the seed's shapes), readable by
   safetensors.torch.load_file and OneLayerMLP / BilinearNet.load_state_dict; __metadata__:
   format "grok.h", model ("BilinearNet" / "OneLayerMLP"), n, embed_dim, hidden_dim, seed, step,
   epoch. */
GROKDEF int grok_net_save_safetensors(const grok_net *net, const char *path, const float *buffer);
/* Loads a net's weights from a safetensors file written by grok_net_save_safetensors or by
   safetensors.torch.save_file(model.state_dict(), path) of seed 003's OneLayerMLP / BilinearNet:
   tensors W_E_a (n, E), W_E_b (n, E), W (2E, Hd) (MLP only) and W_U (Hd, n) or (E, n), dtype F32
   or F64 (converted to float). Strict: the file's kind (MLP when W is present, else bilinear)
   and every shape must be the net's, and a tensor of any other name is an error (the seed's
   state dicts hold only these), as is a __metadata__ "model" that contradicts W. A failed load
   (GROK_ERR_FORMAT with a message) leaves the net unchanged; optimizer state, step and epoch
   are not touched. */
GROKDEF int grok_net_load_safetensors(grok_net *net, const char *path);
/* The config of such a file: kind from W's presence, n, embed_dim, hidden_dim (0 for bilinear)
   from the shapes, checked against each other as strictly as the loader does; seed from
   __metadata__ when it has one, else 0. */
GROKDEF int grok_net_safetensors_config(grok_net_config *cfg, const char *path);

/* A notebook's exact split of modular addition: row index i = a*p + b (a-major, the seeds'
   dataset order) of the sequence (a, b, '=' = p) with label (a+b) mod p. train gets the rows
   train_idx (n_train >= 1) in that order, test the rows test_idx (n_test), or, when test_idx
   is NULL, every other row in ascending order. Indices must lie in [0, p*p) and appear once
   across both lists. */
GROKDEF int grok_task_modadd_from_indices(grok_data *train, grok_data *test, int p,
                                          const int64_t *train_idx, long n_train,
                                          const int64_t *test_idx, long n_test);
/* The same from 1-D integer .npy files, e.g. np.save('train_idx.npy', train_indices.numpy());
   test_path may be NULL (the complement). */
GROKDEF int grok_task_modadd_from_npy(grok_data *train, grok_data *test, int p, const char *train_path,
                                      const char *test_path);

/* The run summary as JSON: {"config": {..HookedTransformerConfig names..}, "optimizer": {lr,
   weight_decay, beta1, beta2, eps}, "step", "epoch", "final": {train_loss, test_loss,
   train_acc, test_acc}, "first_epoch_test_acc_50", "first_epoch_test_acc_99" (null when
   never reached or unknown, i.e. < 0), "seconds", "n_train", "n_test" (null when < 0), then
   the extra pairs: a value that is a JSON number is written as one, any other as a string. */
typedef struct {
    long first_epoch_test_acc_50, first_epoch_test_acc_99; /* -1: not reached / unknown */
    double seconds;                                       /* < 0: unknown (null) */
    long n_train, n_test;                                 /* -1: unknown */
    int n_extra;
    const char *const *extra_keys, *const *extra_values;
} grok_run_info;
GROKDEF int grok_run_summary_save(const char *path, const grok_model *m, const grok_run_info *info);

#endif /* GROK_NO_INTEROP */

/* ==== >>analysis: DFT, Fourier basis, SVD, the seeds' analyses, progress measures ============= */

#ifndef GROK_NO_ANALYSIS

/* DFT (numpy conventions), the real Fourier basis of Z_p, SVD and least squares.
   Complex arrays are interleaved doubles (re, im); "complex (n)" means 2n doubles.
   The forward DFT is unnormalised, X[k] = sum_j x[j] exp(-2 pi i jk/n); the inverse carries
   the 1/n. Frequencies are in np.fft.fftfreq order 0, 1, .., -1. All math is in double. */

typedef struct grok_fft_plan grok_fft_plan; /* immutable after creation; one allocation */

/* A plan for length n, 1 <= n <= 2^27: mixed radix (4, 2, 3, 5, other small primes) or, when
   large prime factors make that slow, Bluestein through a 2.3.5-smooth length; any n costs
   O(n log n). Twiddles are accurate to about an ulp (angles are reduced in integers). */
GROKDEF int  grok_fft_plan_create(grok_fft_plan **plan, int n);
GROKDEF void grok_fft_plan_free(grok_fft_plan *plan); /* NULL is fine */
GROKDEF int  grok_fft_plan_size(const grok_fft_plan *plan); /* n, or 0 for NULL */
/* In place on `count` complex vectors of length n: element j of vector c is the complex at
   data[2*(c*dist + j*stride)]; stride >= 1 and dist >= 1 count complex elements (dist may be 0
   when count is 1). inverse != 0 applies the 1/n-scaled inverse. Safe to call concurrently on
   one plan: the scratch is one allocation per call. */
GROKDEF int  grok_fft_execute(const grok_fft_plan *plan, double *data, long stride, long count,
                              long dist, int inverse);
/* data is a contiguous complex array of shape (shape[0], .., shape[ndim-1]), 1 <= ndim <= 8;
   transforms along `axis` (np.fft.fft(data, axis=axis), or ifft). */
GROKDEF int  grok_fft_axis(double *data, int ndim, const int *shape, int axis, int inverse);
GROKDEF int  grok_fft2(double *data, int rows, int cols, int inverse); /* complex (rows,cols) */
/* in (n) real -> out (n/2+1) complex, np.fft.rfft. */
GROKDEF int  grok_rfft(double *out, const double *in, int n);
/* in (n/2+1) complex -> out (n) real, np.fft.irfft(in, n): the imaginary parts of in[0] and,
   for even n, of in[n/2] are ignored. */
GROKDEF int  grok_irfft(double *out, const double *in, int n);
GROKDEF int  grok_fftshift(double *data, int n);  /* complex (n), np.fft.fftshift */
GROKDEF int  grok_ifftshift(double *data, int n); /* complex (n), np.fft.ifftshift */
/* np.fft.fftfreq(n)[k]; NAN (and an error message) unless n >= 1 and 0 <= k < n. */
GROKDEF double grok_fft_freq(int k, int n);
/* float versions of grok_fft_axis and grok_rfft (interleaved float complex, double math). */
GROKDEF int  grok_fft_axis_f(float *data, int ndim, const int *shape, int axis, int inverse);
GROKDEF int  grok_rfft_f(float *out, const float *in, int n);

/* The real Fourier basis of Z_p (seed 004's fourier_basis), F (p,p), orthonormal rows:
   row 0 = 1/sqrt(p); rows 2k-1, 2k = cos, sin(2 pi k x/p) * sqrt(2/p) for k = 1..(p-1)/2;
   for even p, row p-1 = (-1)^x / sqrt(p) ("cos p/2"). 1 <= p <= 46340 here and below. */
GROKDEF int grok_fourier_basis(double *F, int p);
/* Name of row k of that basis into buf (size n): "Const", "cos 1", "sin 1", .., and for even
   p "cos p/2" for row p-1. GROK_ERR_ARG if buf is too small (it then holds a prefix). */
GROKDEF int grok_fourier_basis_name(char *buf, size_t n, int k, int p);
/* A (p,inner) -> out (p,inner) = F @ A, as a product with the basis (split by parity, half the
   multiplications of F @ A; at p = 113 faster than FFTs). out must not overlap A. */
GROKDEF int grok_fourier_1d(double *out, const double *A, int p, long inner);
/* A (p,p,inner) -> out (p,p,inner), out[i,j,:] = sum_{x,y} F[i,x] F[j,y] A[x,y,:], the seeds'
   fft2d (F A F^T over the first two axes). out must not overlap A. */
GROKDEF int grok_fourier_2d(double *out, const double *A, int p, long inner);
GROKDEF int grok_fourier_2d_f(float *out, const float *A, int p, long inner); /* double math */

/* SVD of A (m,n), row-major: A = U diag(S) Vt with k = min(m,n), S (k) descending and >= 0.
   full == 0: U (m,k), Vt (k,n); full != 0: U (m,m), Vt (n,n), completed to orthonormal bases.
   U, S or Vt may be NULL when not wanted. Sign convention: in every column of U the entry of
   largest magnitude (the first one on a tie) is positive, and Vt's rows follow from it; this
   holds also when U is NULL (it is then computed internally if Vt is wanted). With full != 0
   and m < n, Vt's rows k..n-1 also have their largest-magnitude entry positive.
   Golub-Kahan bidiagonalisation and implicit-shift QR; GROK_ERR_NUMERIC if it fails to
   converge or A holds a NaN or an infinity. */
GROKDEF int grok_svd(double *U, double *S, double *Vt, const double *A, int m, int n, int full);
/* Least squares by Householder QR: X (n,k), y (n) -> coef (k) minimising ||X coef - y||, n >= k.
   r2 (may be NULL) = 1 - SS_res/SS_tot with SS_tot around the mean of y (if SS_tot == 0: 1 when
   SS_res is 0 to working precision, else 0). GROK_ERR_NUMERIC if X is rank deficient to working
   precision (a column within ~10 n eps, in angle, of the span of the columns before it);
   GROK_ERR_ARG if n < k. */
GROKDEF int grok_lstsq(double *coef, double *r2, const double *X, const double *y, int n, int k);

/* ---- Analyses of the seed notebooks. Every formula says which seed it
   comes from: 000 (the dominant-frequency fit, reduce_matrix_fft, SVD of W_E), 001 (the
   progress measures: excluded loss, cos(w(a+b-c)) fits) and 004 (ARENA: Fourier norms, neuron
   clusters, restricted loss, W_logit, the ReLU-quadratic regression). The "modadd" functions
   need the modular-addition shape: 1 layer, n_ctx 3, d_vocab = p+1 with p = d_vocab_out
   ('=' is token p); their inputs are all p*p pairs in a-major order (row a*p+b) and the label
   of row a*p+b is (a+b) mod p. In the Fourier basis of grok_fourier_basis, frequency k
   (1 <= k <= (p-1)/2) is rows 2k-1 (cos) and 2k (sin). All outputs are double. */

/* norms (p) = squared norm of every row of F @ W[:p] (seed 004: (fourier_basis @ W_E).pow(2)
   .sum(1)). W is (>= p, n) when transpose == 0 (pass embed.W_E, its last row '=' is ignored), or
   (n, p) when transpose != 0 and W^T is used (pass unembed.W_U). */
GROKDEF int grok_fourier_norms(double *norms, const float *W, int p, int n, int transpose);
/* Key frequencies from such norms. share[k-1] (k = 1..(p-1)/2, may be NULL) = (norms[2k-1] +
   norms[2k]) / sum_{i >= 1} norms[i], the frequency's share of the non-constant norm. The key
   frequencies are every k with share >= min_share, sorted by share descending (ties: smaller k
   first), and always at least the largest one; freqs must hold (p-1)/2 ints, key_share (may be
   NULL) receives their shares in the same order, *n_key their count. min_share 0.05 is what
   examples/analyze and the training progress measures use. */
GROKDEF int grok_key_freqs(int *freqs, double *key_share, int *n_key, double *share, const double *norms, int p,
                           double min_share);
/* SVD of W (rows, cols) (e.g. W_E[:p], seed 000): S (min(rows, cols)) descending; err (may be
   NULL) = mean over the (rows, cols) entries of |(U - U_r) diag(S) V^T|, U_r = U with columns
   r.. zeroed (seed 000: ((U-U_) @ diag(S) @ V.T).abs().mean()), 0 <= r <= min(rows, cols). */
GROKDEF int grok_svd_truncation(double *S, double *err, const float *W, int rows, int cols, int r);
/* Seed 000's analyze_and_plot on x (n >= 2): X = DFT(x); j = 1 + argmax_{i >= 1} |X[i]| (first on
   a tie); if j > n/2, j = n - j; freq = j/n cycles per sample, amplitude = |X[j]| / (n/2),
   phase = arg X[j]; the fit is amplitude * cos(2 pi freq t + phase). */
GROKDEF int grok_dominant_freq(double *amplitude, double *freq, double *phase, const double *x, int n);
/* Seed 000's reduce_matrix_fft on A (rows, cols) -> out (rows, cols): X = fft2(A); keep, of the
   column X[:, 0], the 2 n_top + 1 entries of largest |.|, and of the row X[0, :] likewise (the
   others of X are zeroed); out = real(ifft2). Ties are broken as a stable ascending argsort
   would (numpy's default sort is not stable; the seed's ties are conjugate pairs). */
GROKDEF int grok_reduce_matrix_fft(double *out, const double *A, int rows, int cols, int n_top);
/* Gini coefficient of x (n >= 1, every x >= 0, not all 0) (Hurley & Rickard 2009): with c the
   values sorted ascending, G = 1 - 2 sum_{k=1..n} (c_k / ||c||_1) (n - k + 1/2) / n. A one-hot
   vector gives 1 - 1/n, a constant one 0. */
GROKDEF int grok_gini(double *gini, const double *x, int n);
/* Sum of the squares of every parameter of the model (biases and LayerNorm included). */
GROKDEF int grok_weights_sumsq(double *sumsq, const grok_model *m);
/* rows (p, p): rows[c*p + i] = the i-th input row a*p+b (in a-major order) with (a+b) mod p == c. */
GROKDEF int grok_modadd_group_by_sum(int *rows, int p);
/* Seed 004's ReLU-quadratic regression: y(x, y) = ReLU(A + f(x) + f(y)) with f = row 2k-1 of F
   (sqrt(2/p) cos(2 pi k x / p)), fitted by least squares over the p*p points on the normalised
   2-D terms const, cos x, cos y, cos x cos y (coef (4)); r2 of that fit, r2_linear (may be
   NULL) of the fit without the quadratic term. The seed takes A = 0.5/sqrt(p), k = 42, p = 113
   and finds 9.190, 6.807, 6.807, 3.566, r2 0.966 (0.849 without). */
GROKDEF int grok_relu_quadratic_fit(double *coef, double *r2, double *r2_linear, int p, int k, double A);

/* W_logit (M, p) = W_out @ W_U (seed 004; M = d_mlp), may be NULL; W_logit_fourier (M, p) =
   W_logit @ F^T (may be NULL), its column 2k-1 / 2k the cos / sin of frequency k. Also for
   any one-layer model with d_vocab_out = p. */
GROKDEF int grok_modadd_wlogit(double *W_logit, double *W_logit_fourier, const grok_model *m);
/* norms (p) = L2 norm of every column of W_logit @ F^T (the Fourier components of W_logit). */
GROKDEF int grok_wlogit_fourier_norms(double *norms, const grok_model *m);
/* Runs the model on all p*p pairs (in chunks of max_batch): logits (p*p, p) of the last
   position (may be NULL), neuron activations acts (p*p, M) = blocks.0.mlp.hook_post at the last
   position (may be NULL), resid_mid (p*p, C) = blocks.0.hook_resid_mid there (may be NULL),
   attention of '=' onto a and b, to_a / to_b (H, p, p) = hook_pattern[:, h, 2, 0 / 1] as a
   grid [h][a][b] (may be NULL). Uses the activation cache (registered hooks apply) and keeps
   only the hook points asked for; needs a model built with grok_model_init. */
GROKDEF int grok_modadd_run(float *logits, float *acts, float *resid_mid, double *to_a, double *to_b, grok_model *m);
/* The 2-D spectrum of n grids (n, p, p): out[g] = F grid[g] F^T. */
GROKDEF int grok_grids_fourier(double *out, const double *grids, int n, int p);

/* Neurons (seed 004). acts (p*p, M) -> acts_fourier (p, p, M) (may be NULL) = fft2d of the
   centred activations (mean over the p*p inputs subtracted); freq (M) = the frequency k in
   1..(p-1)/2 whose nine const/linear/quadratic terms (rows and columns 0, 2k-1, 2k of the 2-D
   spectrum) have the largest sum of squares, frac (M) = that sum over the sum of squares of the
   whole spectrum (0 for a constant neuron). The seed's arrange_by_2d_freqs stops at k = p//2 - 1
   (range(1, p//2)), against its own docstring; here every k up to (p-1)/2 is a candidate. With
   min_frac > 0 (the seed: 0.85) a neuron with frac < min_frac gets freq -1, the "no frequency"
   (always-firing) cluster. */
GROKDEF int grok_neuron_freqs(int *freq, double *frac, double *acts_fourier, const float *acts, int p, int M,
                              double min_frac);
/* Seed 004's project_onto_frequency: every column of X (p*p, n) (rows a-major) projected onto the
   span of the nine 2-D terms F[i] (x) F[j], i, j in {0, 2k-1, 2k}. out may equal X. */
GROKDEF int grok_project_onto_freq(double *out, const double *X, int p, long n, int k);
/* trig-sum directions (seed 004's get_trig_sum_directions): cos_dir, sin_dir (p*p), unit vectors
   over the inputs (a-major), cos(w(a+b)) and sin(w(a+b)) with w = 2 pi k / p. */
GROKDEF int grok_trig_sum_directions(double *cos_dir, double *sin_dir, int p, int k);

/* Cross-entropy of logits (n, p) against labels (n) with a float64 log-softmax (the seeds'
   cross_entropy_high_precision), the mean over the rows rows (n_rows) picks (NULL: all n) whose
   label is not -1 (a pair the task leaves out); GROK_ERR_ARG when none is left. */
GROKDEF int grok_logits_loss(double *loss, const double *logits, const int *labels, int n, int p, const int *rows,
                             int n_rows);
/* Restricted and excluded logits and losses of the modadd logits (p*p, p) for key frequencies
   freqs (nf). P = the projection of every logit column (over the p*p inputs) onto the span of
   the trig-sum directions cos(w(a+b)), sin(w(a+b)) of the key frequencies (seed 004's
   trig_logits). restricted = P + the per-output mean of (logits - P) over the inputs (seed 004's
   test_logits bias correction; P's means are 0, so this adds back the original logits' means);
   excluded = logits - P. restricted_loss: cross-entropy over all p*p pairs (seed 004's
   utils.test_logits, mode 'all'); excluded_loss: over the training rows train_rows (n_train),
   all pairs if NULL. task (NULL: modular addition) gives the labels (pairs it leaves out have no
   loss term) and the directions: cos/sin(w s) with s its sums (grok_modtask). Any output may be
   NULL. */
GROKDEF int grok_modadd_restricted(double *restricted_loss, double *excluded_loss, double *restricted,
                                   double *excluded, const float *logits, int p, const int *freqs, int nf,
                                   const int *train_rows, int n_train, const grok_modtask *task);
/* The neuron-level variants. excluded_loss (seed 001's excluded loss, cell 64): the neuron
   activations minus their projections onto cos(w(a+b)) and sin(w(a+b)) of the key frequencies,
   through W_out (+ b_out) into resid_mid, then W_U (+ b_U), cross-entropy on train_rows (the
   seed's get_excluded_loss adds the cos term twice and drops sin, a slip; cell 64 does both).
   Seed 004's cluster test with neuron_freq from grok_neuron_freqs (min_frac applied):
   L_c = (the acts of cluster c projected onto its frequency's nine terms) @ W_logit, L_-1 = the
   always-firing cluster unprojected; every loss below is over all pairs with the bias correction
   against the original logits: restricted_loss = loss(sum_c L_c + L_-1), no_always_loss =
   loss(sum_c L_c), ablated (n_clusters + 1) = loss(sum of all L but one), the clusters in order
   of cluster_freqs (nc of them, e.g. the distinct frequencies found), the last one removing
   L_-1. Neurons whose frequency is neither -1 nor in cluster_freqs take no part. Removing a
   cluster's contribution under the bias correction is seed 004's ablation (its L_c replaced by
   L_c's mean over the inputs). task as in grok_modadd_restricted: its labels for every loss, its
   sums s for the excluded loss's directions cos/sin(w s). Any output may be NULL. */
GROKDEF int grok_modadd_neuron_losses(double *excluded_loss, double *restricted_loss, double *no_always_loss,
                                      double *ablated, const grok_model *m, const float *acts, const float *resid_mid,
                                      const float *logits, const int *neuron_freq, const int *cluster_freqs, int nc,
                                      const int *freqs, int nf, const int *train_rows, int n_train,
                                      const grok_modtask *task);
/* Seed 001's fit of the logits L (p, p, p) = logits[a*p+b, c] on cos(w_k(a+b-c)) for k =
   1..(p-1)/2: with Q_k that cube divided by its norm, coeff[k-1] = <L, Q_k>, cos_sim[k-1] =
   coeff / ||L||; residual_frac = ||L - sum_k coeff_k Q_k|| / ||L||. With a task (NULL: modular
   addition) a + b is its sums s: cos(w_k(s(a,b) - c)). Any output may be NULL. */
GROKDEF int grok_modadd_cos_fit(double *coeff, double *cos_sim, double *residual_frac, const float *logits, int p,
                                const grok_modtask *task);
/* The Fourier analyses of seed 003 on a net trained on a group whose elements 0..k-1 form Z_k
   (grok_group.cyclic: k = n for C_n, the n rotations of D_n): norms_a, norms_b (k) =
   grok_fourier_norms of W_E_a[:k] and W_E_b[:k], norms_u (k) = that of the first k columns of W_U
   (seed 003's (W_E_a.T @ fourier_basis.T).pow(2).sum(0) and (W_U @ fourier_basis.T).pow(2)
   .sum(0) over the subgroup). Any output may be NULL; pass them to grok_key_freqs. */
GROKDEF int grok_net_fourier_norms(double *norms_a, double *norms_b, double *norms_u, const grok_net *net, int k);
/* Neuron clusters over Z_k (3 <= k <= n): runs the net on the k*k pairs (a, b < k, a-major) through
   the cache and hands the neurons, (k*k, M) = hidden (MLP, M = hidden_dim) or product (bilinear,
   M = embed_dim), to grok_neuron_freqs: freq, frac (M) and min_frac as there (seed 004's centred
   activations; seed 003 does not centre, so its fractions include the constant term). acts
   (k*k, M) may be NULL. */
GROKDEF int grok_net_neuron_freqs(int *freq, double *frac, float *acts, grok_net *net, int k, double min_frac);
/* ---- Seed 003's Fourier analysis over the whole group (its Group.compute_fourier_basis, the
   embedding / unembedding norms of cells 53-54, fft2d of cell 33 and the neuron clusters of
   cell 58), beside the rotation-subgroup analysis above. The difference: seed 003 indexes the
   `order` elements 0..order-1 as if they were Z_order and takes cos / sin (2 pi i x / order) over
   all of them. For C_n that is the real Fourier basis of C_n. For D_n (order 2n, element x =
   r^k s^t = k + t n) those functions are not characters of D_n: the reflections get the angles
   of the rotations n + k. The even rows i = 2j happen to be matrix coefficients of the 2-D
   irreducible representation rho_j (r^k -> rotation by 2 pi j k / n, s -> diag(1, -1)): cos 2j =
   rho_j[0][0], sin 2j = rho_j[1][0]; the odd rows are not (half-integer frequencies over the
   rotations, their sign flipped on the reflections). The basis has 2n - 1 rows for 2n elements
   (the alternating cos n row is never added), so it spans a strict subspace and is not the
   group's Fourier transform. grok_net_fourier_norms / grok_net_neuron_freqs work on the
   rotation subgroup Z_n, where cos / sin are characters, and centre the neurons (seed 004);
   these follow the notebook as it computes. C_n and D_n only (the notebook defines no S_n). */

/* Seed 003's compute_fourier_basis: F (R, order), R = *n_rows = 1 + 2 (fourier_order - 1) with
   fourier_order = n//2 + 1 for C_n, n for D_n. Row 0 "Const" = 1/sqrt(order); rows 2i-1, 2i =
   cos, sin (2 pi i x / order) for i = 1..fourier_order-1, each divided by its own norm. So C_n
   with odd n gives n rows (an orthonormal basis), C_n with even n gives n + 1 rows of which row n
   ("sin n/2", sin(pi x)) is zero in exact arithmetic: the notebook divides float32 round-off
   by its norm there (a unit row of noise, or NaN); here that row is left all zero. D_n gives
   2n - 1 orthonormal rows. F may be NULL to get only *n_rows; otherwise it holds R * order
   doubles. */
GROKDEF int grok_group_fourier_basis(double *F, int *n_rows, const grok_group *g);
/* The notebook's name of row k of that basis into buf (size n): "Const", "cos i", "sin i".
   GROK_ERR_ARG if buf is too small (it then holds a prefix) or k is not a row. */
GROKDEF int grok_group_fourier_name(char *buf, size_t n, int k, const grok_group *g);
/* Seed 003 cells 53-54 on a net of the group (net->cfg.n == g->order), F from
   grok_group_fourier_basis: norms_a, norms_b (R) = (W_E_a.T @ F.T).pow(2).sum(0) and the same of
   W_E_b (each row's squared norm of F @ W_E), norms_u (R) = (W_U @ F.T).pow(2).sum(0), W_U (M,
   order) with M = hidden_dim (MLP) or embed_dim (bilinear). Any output may be NULL. */
GROKDEF int grok_net_group_fourier_norms(double *norms_a, double *norms_b, double *norms_u, const grok_net *net,
                                         const grok_group *g);
/* Seed 003 cell 58: runs the net on all order^2 pairs (a-major: row a*order + b) through the
   cache; the neurons A (order, order, M) are hidden (MLP, M = hidden_dim) or product (bilinear,
   M = embed_dim), NOT centred; X = fft2d(A) (R, R, M), X[f, h, j] = sum_{a,b} F[f,a] F[h,b]
   A[a,b,j]. For each neuron j and each candidate i = 1..R//2 - 1 (the notebook's
   range(1, fourier_basis.shape[0]//2): the last frequency, (n-1)/2 for odd C_n, n/2 (the zero
   sin row) for even C_n and n-1 for D_n, is not a candidate) frac_i = sum of X^2 over the nine terms rows/columns {0, 2i-1, 2i} (const,
   linear and quadratic terms, X[0,0] included) / sum of X^2 over the whole (R, R) spectrum;
   freq[j] = the i of the largest frac_i (the first on a tie: a strict > from best = -1), frac[j]
   = that frac. There is no threshold on frac (seed 004's 0.85 is grok_neuron_freqs' min_frac):
   every neuron joins the cluster of its best frequency (the notebook's np.unique). A neuron that
   never fires has 0/0 = NaN everywhere, which never beats -1: it keeps the notebook's initial
   values freq -1, frac -1. acts_fourier (R, R, M) and acts (order^2, M) may be NULL. */
GROKDEF int grok_net_group_neuron_freqs(int *freq, double *frac, double *acts_fourier, float *acts, grok_net *net,
                                        const grok_group *g);
/* Seed 003 cell 59: the logits (order^2, order) as (order, order, order), a-major, in the 2-D
   Fourier basis: fourier_logits (R, R, order) = fft2d(logits) (may be NULL) and mean_sq (R, R) =
   fourier_logits.pow(2).mean(2), the map imshow_fourier draws ("Average Norm of Fourier
   Components of Logits": row f = a's component, column h = b's, both named by
   grok_group_fourier_name). mean_sq may be NULL. The notebook computes in float32 on the GPU;
   everything here is double from the float32 weights and activations. */
GROKDEF int grok_net_group_fourier_logits(double *mean_sq, double *fourier_logits, grok_net *net,
                                          const grok_group *g);
/* Seed 003 cell 57: the neurons A (order, order, M) of grok_net_group_neuron_freqs (hidden for
   an MLP, product for a bilinear net, a-major), centred: each neuron's mean over all order^2
   pairs subtracted (the notebook's einops.reduce 'order1 order2 neuron -> 1 neuron' mean).
   fourier_acts (R, R, M) = fft2d of the centred A (may be NULL) and mean_sq (R, R) =
   fourier_acts.pow(2).mean(2), the mean over the M neurons: the map imshow_fourier draws
   ("Average Norm of 2d Fourier Coefficients of hidden activations (excl constant)": row f = a's
   component, column h = b's, both named by grok_group_fourier_name). Centring zeroes the (0, 0)
   entry, Const x Const, up to round-off. mean_sq may be NULL. */
GROKDEF int grok_net_group_fourier_acts(double *mean_sq, double *fourier_acts, grok_net *net, const grok_group *g);
/* Seed 003 cell 60: W_U's Fourier norms per neuron cluster. With U = W_U @ F^T (M, R), out (nc,
   R), out[c*R + f] = sum over the neurons j with neuron_freq[j] == cluster_freqs[c] of U[j, f]^2
   (the notebook's (W_U[neuron_freqs == freq, :] @ fourier_basis.T).pow(2).sum(0) for each freq of
   key_freqs). neuron_freq (M) from grok_net_group_neuron_freqs, cluster_freqs (nc >= 1) the
   notebook's key_freqs = np.unique(neuron_freqs); any value is a cluster (-1, the never-firing
   neurons, included), a cluster without neurons gets zeros. Over clusters that hold every neuron
   the rows sum to grok_net_group_fourier_norms' norms_u. */
GROKDEF int grok_net_group_wu_cluster_norms(double *out, const grok_net *net, const grok_group *g, const int *neuron_freq,
                                            const int *cluster_freqs, int nc);
/* Seed 003 cell 61: fourier_unembed = W_U @ F^T (M, R), the neurons A (order^2, M) as in
   grok_net_group_neuron_freqs (not centred), fourier_logits = A @ fourier_unembed (order^2, R),
   a-major (may be NULL): each pair's logits along each basis row over the output z. For each
   w = freqs[k] (1 <= w, 2w <= R - 1) the 2-D Fourier transform of its cos and sin components as
   (order, order) grids: cos_c, sin_c (nf, R, R), cos_c[k] = fft2d(fourier_logits[:, :, 2w - 1]),
   sin_c[k] = fft2d(fourier_logits[:, :, 2w]) (rows a's component, columns b's). The notebook
   reshapes fourier_logits to (order, order, order), which fails ("shape is invalid") whenever R
   != order (D_n: R = 2n - 1; even C_n: R = n + 1); this is what the cell means: (order, order,
   R). It draws key_freqs[:2]; a -1 there (a never-firing neuron's cluster) is refused here,
   where python would index from the end. cos_c, sin_c may be NULL (then nf may be 0). */
GROKDEF int grok_net_group_logit_components(double *cos_c, double *sin_c, double *fourier_logits, grok_net *net,
                                            const grok_group *g, const int *freqs, int nf);
/* ---- Representation theory of the groups (Chughtai et al. 2023, "A toy model of universality":
   networks trained on a group learn a few of its irreducible representations and compose them
   through traces). Every group grok_group builds gets its real irreducible representations, as
   real orthogonal matrices rho(g) with rho(x∘y) = rho(x) rho(y):
     C_n  the trivial irrep "1_1", for even n the sign (-1)^x "1_2", then for k = 1..(n-1)/2 the
          rotation by 2 pi k x / n, "2_k": the real form of the pair of complex characters
          exp(+-2 pi i k x / n) (the real Fourier basis of grok_fourier_basis spans them).
     D_n  the trivial "1_1" and s -> -1 "1_2"; for even n also r -> -1 with s -> 1 "1_3" and
          s -> -1 "1_4"; then for j = 1..(n-1)/2 (odd n) or n/2 - 1 (even n) "2_j": r^k s^t ->
          R(2 pi j k / n) diag(1, -1)^t, R the rotation matrix. All are irreducible over C.
     S_n  one irrep per partition of n, in decreasing lexicographic order ((5), (4,1), (3,2), ..,
          (1,1,1,1,1)), named by it, "(4,1)": Young's orthogonal form on the standard tableaux
          (enumerated by placing 1..n in turn, the upper row first), rho(s_i) e_T = e_T / r +
          sqrt(1 - 1/r^2) e_{s_i T} for the swap s_i of i and i+1, r = content(i+1) - content(i)
          (content = column - row), and the other elements by products of the s_i.
     A_n  from S_n's by restriction: for a pair of conjugate partitions lambda != lambda' the
          restrictions agree and are irreducible (the one of lambda > lambda' is kept); for a
          self-conjugate lambda the map J e_T = sign(T) e_{T'} (T' the transposed tableau,
          sign(T) that of its row-reading word) satisfies J rho(g) J^-1 = sgn(g) rho(g), J^2 =
          +-I. J^2 = I (A_5's and A_6's): the restriction splits into J's +1 and -1 eigenspaces,
          two real irreps of half the dimension; J^2 = -I (A_3's (2,1), A_4's (2,2)): the two
          halves are complex conjugates and the restriction is kept whole, their real form.
          A_n's irreps are sorted by dimension (stable) and named "DIM_INDEX", "3_1", "3_2".
   A real irrep of complex type (C_n's rotations, A_3's and A_4's merged pairs) has
   complex_pair 1: its character chi = tr rho is chi_pi + conj(chi_pi), <chi, chi> = 2 instead of
   1, and its 2m x 2m matrices span the functions of the pair's 2 m^2-dimensional isotypic space.
   The rep-theory paper's code does the same for C_n. Fractions per irrep below are per real
   irrep, well defined either way: the squared norm of the projection onto its isotypic space. */
typedef struct {
    int order;        /* |G| */
    int count;        /* real irreps */
    int *dim;         /* (count) d_i */
    int *complex_pair;/* (count) 1: the real form of a pair of complex conjugate irreps */
    long *coef;       /* (count) first row of irrep i in a Fourier transform (d_i^2 rows) */
    long n_coefs;     /* sum of d_i^2 (|G| when no irrep is a complex pair) */
    char (*name)[24]; /* (count) "(4,1)", "2_3" */
    double *mats;     /* rho_i(g) (d_i, d_i), row-major, at mats + order * coef[i] + g d_i^2 */
    void *mem_;       /* one allocation behind all of the above */
} grok_irreps;

/* The real irreps of g (one allocation; free with grok_irreps_free). Irrep 0 is the trivial one.
   The matrices take order * n_coefs doubles: 115 KB for S_5, 4.1 MB for S_6, 268 MB for C_4096. */
GROKDEF int  grok_irreps_init(grok_irreps *ir, const grok_group *g);
GROKDEF void grok_irreps_free(grok_irreps *ir);
/* Conjugacy classes: class_of (order) = the class of each element, classes numbered in the order
   of their first element (the identity's is 0); *n_classes their count. */
GROKDEF int  grok_group_classes(int *class_of, int *n_classes, const grok_group *g);
/* chi (count, order): chi[i*order + g] = tr rho_i(g). */
GROKDEF int  grok_irreps_characters(double *chi, const grok_irreps *ir);
/* The character table (count, n_classes): table[i*n_classes + c] = chi_i at class c's first element,
   classes from grok_group_classes. */
GROKDEF int  grok_irreps_char_table(double *table, const grok_irreps *ir, const int *class_of, int n_classes);

/* The group Fourier transform of f (order, inner), one function of g per column: fhat (n_coefs,
   inner), row coef[i] + a d_i + b of irrep i holds sum_g rho_i(g)[a][b] f(g) (the rep-theory
   paper's f_hat(rho) = sum_g f(g) rho(g), d x d per irrep). */
GROKDEF int grok_irreps_fourier(double *fhat, const double *f, long inner, const grok_irreps *ir);
/* The inverse: f(g) = sum_i c_i tr(rho_i(g^-1) fhat_i) / |G| with c_i = d_i (d_i / 2 for a complex
   pair), over every irrep (irrep = -1), or only irrep's term (0 <= irrep < count): f's
   orthogonal projection onto the irrep's isotypic space. f (order, inner). */
GROKDEF int grok_irreps_inverse(double *f, const double *fhat, long inner, int irrep, const grok_irreps *ir);
/* norms (count): the squared Frobenius norm of W's projection onto each irrep's isotypic space
   (Plancherel: c_i ||fhat_i||_F^2 / |G|), summing to ||W||_F^2; W (order, cols) with rows
   indexed by the group (W_E), or (cols, order) when transpose != 0 (W_U). */
GROKDEF int grok_irreps_norms(double *norms, const double *W, long cols, int transpose, const grok_irreps *ir);
/* Key irreps from such norms, as grok_key_freqs does for frequencies: share[i] (i >= 1, may be
   NULL; share[0] = 0) = norms[i] / sum_{j >= 1} norms[j], the irrep's share of the norm outside
   the trivial irrep (which holds the mean, no group structure); keys = every i >= 1 with share >=
   min_share, by share descending (ties: smaller i first), at least the largest; keys (count - 1
   ints), *n_key their count. A group with one irrep has no key irreps (*n_key = 0). */
GROKDEF int grok_irreps_keys(int *keys, int *n_key, double *share, const double *norms, const grok_irreps *ir,
                             double min_share);

/* ---- The rep-theory paper's metrics. A network on a group computes its hidden layer and logits
   as functions of the pair (x, y) through x∘y; the "pair functions" of irrep i are the span of
   rho_i(x∘y)[a][b] over the order^2 pairs (a-major: row x*order + y), the paper's rho(xy)
   basis. Projecting a column over the pairs onto them averages it over each fibre x∘y = g and
   projects that function of g onto the isotypic space. */

/* norms (count): the squared norm of X's projection onto each irrep's pair functions, X (order^2,
   cols); rest (may be NULL) = ||X||^2 minus their sum, what no function of x∘y holds. The paper's
   percent_hidden is norms[i] / ||X||^2 of the uncentred hidden layer. */
GROKDEF int grok_irreps_pair_norms(double *norms, double *rest, const double *X, long cols, const grok_group *g,
                                   const grok_irreps *ir);
/* out (order^2, cols) = X's projection onto the pair functions of the irreps with keep[i] != 0
   (keep (count)). out may equal X. */
GROKDEF int grok_irreps_pair_project(double *out, const double *X, long cols, const int *keep, const grok_group *g,
                                     const grok_irreps *ir);
/* Logit trace similarity (the paper's logit_trace_similarity): sims[i] = the mean over the
   order^2 pairs of the cosine similarity between the pair's logits (order), centred (their mean
   over z subtracted), and tr(rho_i(x) rho_i(y) rho_i(z^-1)) = chi_i(x∘y∘z^-1) over z. The
   trivial irrep's trace is constant, so its similarity is 0; a pair with constant logits counts
   0. logits (order^2, order). */
GROKDEF int grok_irreps_trace_sims(double *sims, const double *logits, const grok_group *g, const grok_irreps *ir);
/* Restricted and excluded losses: cross-entropy over all order^2 pairs against x∘y of the logits
   base + X' W, X (order^2, cols) the logits themselves (W NULL: cols = order, the logit level)
   or a hidden layer read out by W (cols, order) (the hidden level), base (order^2, order) what
   the rest of the model adds (NULL: 0). restricted: X' = X projected onto the pair functions of
   the key irreps keys (n_key) and the trivial irrep (which holds each column's mean: seed 004's
   bias correction); total_excluded: X' = X minus its projection onto the key irreps';
   excluded (count): X' = X minus its projection onto irrep i's, one loss per irrep;
   restricted_each (count): X' = X projected onto irrep i's and the trivial irrep's. The paper
   projects the embeddings instead (hidden = ReLU of the projected total embeddings), which
   needs the model's architecture; these ablate where the group structure is read out. Any output
   may be NULL. */
GROKDEF int grok_irreps_losses(double *restricted, double *total_excluded, double *excluded, double *restricted_each,
                               const double *X, long cols, const double *W, const double *base, const int *keys, int n_key,
                               const grok_group *g, const grok_irreps *ir);

/* Rows of grok_net_irreps_metrics' per_irrep (GROK_IRM_ROWS, count), each per irrep: */
#define GROK_IRM_EMBED_X 0     /* share of the x embedding's squared norm (rows: the elements) */
#define GROK_IRM_EMBED_Y 1     /* the same of the y embedding */
#define GROK_IRM_UNEMBED 2     /* of W_U's (columns: the elements) */
#define GROK_IRM_HIDDEN 3      /* of the hidden layer's, over its pair functions (grok_irreps_pair_norms) */
#define GROK_IRM_TRACE 4       /* logit trace similarity */
#define GROK_IRM_EXCL_LOGIT 5  /* excluded loss, logit level */
#define GROK_IRM_EXCL_HIDDEN 6 /* excluded loss, hidden level */
#define GROK_IRM_RESTR_LOGIT 7 /* restricted loss to this irrep (and the trivial one), logit level */
#define GROK_IRM_RESTR_HIDDEN 8 /* the same, hidden level */
#define GROK_IRM_ROWS 9
/* and of its totals (GROK_IRT_N): */
#define GROK_IRT_LOSS 0              /* loss over all order^2 pairs */
#define GROK_IRT_RESTRICTED_LOGIT 1
#define GROK_IRT_RESTRICTED_HIDDEN 2
#define GROK_IRT_EXCLUDED_LOGIT 3    /* total excluded loss: every key irrep removed */
#define GROK_IRT_EXCLUDED_HIDDEN 4
#define GROK_IRT_SUMSQ 5             /* sum of squared weights */
#define GROK_IRT_N 6
/* The paper's metrics of a net trained on g (net->cfg.n == g->order), over all pairs. The
   embeddings are the paper's "total embeddings", what enters the hidden layer per input: W_E_a
   @ W[:E] and W_E_b @ W[E:] (order, Hd) for OneLayerMLP, W_E_a and W_E_b for BilinearNet; the
   hidden layer is hidden (MLP) or product (bilinear), read out by W_U. Shares are of the whole
   squared norm (the trivial irrep's included). Key irreps: *n_key > 0 on entry takes keys
   (n_key); *n_key = 0 finds them as the paper does (keys must hold count - 1): every
   non-trivial irrep whose logit trace similarity is > 0.05, here by similarity descending, and
   returns them (possibly none). per_irrep or totals may be NULL. Costs O(order^3) memory and
   time: S_6's logits alone are 720^3 doubles. */
GROKDEF int grok_net_irreps_metrics(double *per_irrep, double *totals, int *keys, int *n_key, grok_net *net,
                                    const grok_group *g, const grok_irreps *ir);
/* The same for a one-layer transformer on grok_task_group's data (d_vocab = order + 1,
   d_vocab_out = order, n_ctx 3): the x and y embeddings are both embed.W_E[:order] (C columns),
   the unembedding unembed.W_U, the hidden layer blocks.0.mlp.hook_post at '=' read out by
   W_logit = W_out W_U, base = the logits minus hidden @ W_logit (attention, embeddings and
   biases). */
GROKDEF int grok_model_irreps_metrics(double *per_irrep, double *totals, int *keys, int *n_key, grok_model *m,
                                      const grok_group *g, const grok_irreps *ir);
/* The order in which irreps are learnt over a checkpoint history: shares (n_ckpt, count), e.g.
   grok_irreps_keys' share of each checkpoint, at ascending epochs (n_ckpt). learned[i] = the
   epoch of the first checkpoint from which irrep i's share stays >= min_share to the last one
   (-1: below at the last); order (count) = the irreps with learned >= 0 by that epoch (ties:
   the larger last share first), *n_order their count. learned may be NULL. */
GROKDEF int grok_irreps_learn_order(long *learned, int *order, int *n_order, const double *shares, const long *epochs,
                                    int n_ckpt, int count, double min_share);

/* The progress measures of grok_train_opts.progress_measures for the model as it is now:
   out (5) = restricted_loss, excluded_loss, gini_W_E, gini_W_logit, sum_sq_weights; train is
   the training split (for the excluded loss), test the rest (may be NULL): their labels are the
   task's (grok_modtask_from_data; data whose every label is (a + b) mod p is modular addition
   over all p^2 pairs), the directions the seeds' cos/sin(w(a+b)); key frequencies freqs (nf),
   or nf = 0 to derive them from W_E (grok_key_freqs, min_share 0.05). Costs one forward over
   the p*p pairs. */
GROKDEF int grok_modadd_progress(double *out, grok_model *m, const grok_data *train, const grok_data *test,
                                 const int *freqs, int nf);

/* ---- For the figures of the seeds (the report, examples/analyze). */
/* data, complex (rows, cols), in place: np.fft.fftshift(data) over both axes (the zero frequency
   moves to (rows/2, cols/2); seed 000 centres its attention spectra so), and its inverse,
   np.fft.ifftshift. One allocation of the array's size (GROK_ERR_NOMEM). */
GROKDEF int grok_fftshift2(double *data, int rows, int cols);
GROKDEF int grok_ifftshift2(double *data, int rows, int cols);
/* Seed 001's neuron_freq_norm (cell 46) from acts (p*p, M) (a-major): with X_j = F A_j F^T the
   2-D spectrum of neuron j (A_j its activations as a (p, p) grid) and X_j[0, 0] zeroed (the
   seed's centring), out[(k-1)*M + j] = sum of X_j[x, y]^2 over x, y in {0, 2k-1, 2k}, divided by
   the sum of all X_j^2; out is ((p-1)/2, M), k = 1..(p-1)/2 (the seed's p//2 rows; for even p
   it would read past the basis). A constant neuron gets 0 where the seed divides 0 by 0. The
   maximum over k of a column is grok_neuron_freqs' frac (seed 001 cell 47 sorts it).
   3 <= p <= 4096. */
GROKDEF int grok_neuron_freq_norm(double *out, const float *acts, int p, int M);
/* W_logit's Fourier norms per neuron cluster (seed 003's W_U_norm_embeddings_freq, with
   W_logit = W_out @ W_U in the place of its net's W_U): out (nc, p), out[c*p + j] = sum over the
   neurons i with neuron_freq[i] == cluster_freqs[c] of (W_logit @ F^T)[i, j]^2 (squared norms,
   as the seed's .pow(2).sum(0)); neuron_freq (d_mlp) from grok_neuron_freqs, -1 (the always-firing
   cluster) is a valid cluster frequency; a cluster without neurons gets zeros. */
GROKDEF int grok_wlogit_cluster_norms(double *out, const grok_model *m, const int *neuron_freq, const int *cluster_freqs,
                                      int nc);
/* Seed 004's cos and sin components per key frequency (ARENA, "W_logit in the Fourier basis"):
   with US = W_logit @ F^T (M, p), the logits along cos(w_k z) and sin(w_k z) over the inputs,
   acts @ US[:, 2k-1] and acts @ US[:, 2k] as (p, p) grids (acts (p*p, M), a-major, not
   centred, as the seed's neuron_acts_post_sq), in the 2-D Fourier basis: cos_c, sin_c
   (nf, p, p), cos_c[f] = F (acts @ US[:, 2 freqs[f] - 1]) F^T. Either output may be NULL. */
GROKDEF int grok_modadd_logit_components(double *cos_c, double *sin_c, const grok_model *m, const float *acts,
                                         const int *freqs, int nf);

/* ---- Direct logit attribution, the logit lens and the circuits of TransformerLens
   (ActivationCache.decompose_resid, stack_head_results, stack_neuron_results,
   accumulated_resid, apply_ln_to_stack, logit_attrs; FactoredMatrix), for a model of any number
   of layers, LayerNorm on or off. The residual-stream functions read a grok_cache of the model
   over B = c->B sequences (grok_cache_run, filter NULL or naming the hook points used) at one
   position pos: 0 <= pos < n_ctx, or -1 for the last (TransformerLens' pos_slice=-1). A stack
   is double (n_comp, B, d_model), its components in TransformerLens' order. pos GROK_POS_ALL
   takes every position at once (pos_slice=None): the stack is (n_comp, B, n_ctx, d_model),
   grok_logit_attrs' out (n_comp, B, n_ctx, K), bias (B, n_ctx, K) and tokens (B, n_ctx,
   n_tokens), each position as the single-position call computes it. */
#define GROK_POS_ALL (-65536)

/* flags of grok_resid_stack:
   0                 decompose_resid: embed, pos_embed, then per layer l: l_attn_out, l_mlp_out
                     (hook_embed, hook_pos_embed, blocks.l.hook_attn_out, hook_mlp_out).
   GROK_RESID_HEADS   l_attn_out becomes the heads LlH0..LlH{H-1}, z[:, pos, h] @ W_O[l][h]
                     (stack_head_results), then l_b_O, the attention bias b_O, its own term.
   GROK_RESID_NEURONS l_mlp_out becomes the neurons LlN0..LlN{M-1}, post[:, pos, n] * W_out[l][n]
                     (stack_neuron_results), then l_b_out.
   These components sum to the final residual blocks.{L-1}.hook_resid_post.
   GROK_RESID_ACCUMULATED  accumulated_resid: l_pre (blocks.l.hook_resid_pre) for every layer, with
                     GROK_RESID_INCL_MID each followed by l_mid (hook_resid_mid), then final_post
                     (the final hook_resid_post); not with HEADS or NEURONS. Its first
                     l + 1 rows (2 l + 1 with INCL_MID) are accumulated_resid(layer=l). */
#define GROK_RESID_HEADS 1
#define GROK_RESID_NEURONS 2
#define GROK_RESID_ACCUMULATED 4
#define GROK_RESID_INCL_MID 8
/* *n_comp = the number of components; out (n_comp, B, d_model) may be NULL to ask only that
   (after an error out may hold some components). */
GROKDEF int grok_resid_stack(double *out, int *n_comp, const grok_model *m, const grok_cache *c, int pos, int flags);
/* TransformerLens' label of component i of that stack into buf (size n): "embed", "pos_embed",
   "0_attn_out", "L0H1", "0_b_O", "0_mlp_out", "L0N7", "0_b_out", "0_pre", "0_mid", "final_post".
   GROK_ERR_ARG if buf is too small (it then holds a prefix) or i is not a component. */
GROKDEF int grok_resid_stack_name(char *buf, size_t n, const grok_model *m, int flags, int i);
/* apply_ln_to_stack(layer, mlp_input), in place on stack (n_comp, B, d_model): with LayerNorm
   every vector is centred (its mean over d_model subtracted) and divided by one LayerNorm's
   scale of row b at pos, sqrt(var + ln_eps) of that LayerNorm's cached input: ln_final's (the
   last block's hook_resid_post) for layer -1 or n_layers (TransformerLens' layer=None), else
   block layer's ln1 (its hook_resid_pre) or, with mlp_input, its ln2 (hook_resid_mid). That is
   TransformerLens' hook_scale; grok.h caches no scale, so it is recomputed, in double. Without
   LayerNorm the stack is left as it is. The LayerNorm's w and b are not applied here. */
GROKDEF int grok_resid_apply_ln(double *stack, int n_comp, const grok_model *m, const grok_cache *c, int pos, int layer,
                                int mlp_input);
/* logit_attrs: out (n_comp, B, K) = apply_ln(stack) @ W_U', W_U' = W_U without LayerNorm and
   ln_final.w[:, None] * W_U with it (TransformerLens' fold_ln); stack (n_comp, B, d_model) as
   grok_resid_stack gives at the same pos, not normalised. tokens NULL: K = d_vocab_out, every
   logit; else tokens (B, n_tokens), K = n_tokens, row b attributed onto its own tokens
   tokens[b*n_tokens + k] (n_tokens 1 is TransformerLens' one token per prompt). bias (B, K) (may
   be NULL) = b_U (+ ln_final.b @ W_U with LayerNorm) at those logits: over the components of a
   non-accumulated stack, sum_i out[i] + bias = the logits at pos. The logit lens is an
   ACCUMULATED stack through here: row i + bias = the logits with the residual stream cut at
   component i, through ln_final with the final scale (accumulated_resid(apply_ln=True)).
   incorrect (B, n_tokens) or NULL (needs tokens): the logit difference, out and bias onto
   logit[tokens] - logit[incorrect] (TransformerLens' logit_attrs(.., incorrect_tokens)). */
GROKDEF int grok_logit_attrs(double *out, double *bias, const grok_model *m, const grok_cache *c, const double *stack,
                             int n_comp, int pos, const int *tokens, const int *incorrect, int n_tokens);

/* Circuits of head `head` of layer `layer` as factored matrices left (d_vocab, d_head) @ right
   (d_head, cols) (TransformerLens' FactoredMatrix A, B), from the raw weights (no LayerNorm
   folded, no biases):
   GROK_CIRCUIT_QK      left = W_E W_Q[h], right = (W_E W_K[h])^T, cols = d_vocab:
                        W_E W_Q[h] W_K[h]^T W_E^T, rows the query token, columns the key token.
   GROK_CIRCUIT_OV      left = W_E W_V[h], right = W_O[h] W_U, cols = d_vocab_out.
   GROK_CIRCUIT_NEURON  left = W_E W_V[h], right = W_O[h] W_in[layer], cols = d_mlp (W_neur).
   product (d_vocab, cols) = left @ right. Any output may be NULL. (W_logit = W_out W_U is
   grok_modadd_wlogit.) */
#define GROK_CIRCUIT_QK 0
#define GROK_CIRCUIT_OV 1
#define GROK_CIRCUIT_NEURON 2
GROKDEF int grok_circuit(double *left, double *right, double *product, const grok_model *m, int kind, int layer,
                         int head);
/* SVD of left (rows, inner) @ right (inner, cols) without forming the product: orthogonal
   factorisations of the two factors (by grok_svd), the SVD of their (r, r)-sized core. With
   r = min(rows, inner, cols): U (rows, r), S (r) descending, Vt (r, cols), grok_svd's sign
   convention (every column of U has its largest-magnitude entry positive). Costs
   O((rows + cols) inner^2) against O(rows cols min(rows, cols)) for the formed product. Any
   output may be NULL. */
GROKDEF int grok_factored_svd(double *U, double *S, double *Vt, const double *left, const double *right, int rows,
                              int inner, int cols);

/* ---- Activation and attribution patching (TransformerLens' patching module and attribution
   patching). A clean and a corrupted batch of the same B sequences; a site is one hook point of
   every layer, patched at one index of the grid below; the result has TransformerLens' index
   order, layer first:
     site                    hook point            by position          all positions
     GROK_PATCH_RESID_PRE    blocks.l.hook_resid_pre   (L, T)  [layer, pos]  (L)
     .._RESID_MID, .._RESID_POST, .._ATTN_OUT, .._MLP_OUT likewise
     GROK_PATCH_Z, _Q, _K, _V  blocks.l.attn.hook_z.. (L, T, H) [layer, pos, head]  (L, H)
     GROK_PATCH_PATTERN      blocks.l.attn.hook_pattern (L, H, T) [layer, head, dest_pos]  (L, H)
     GROK_PATCH_NEURON       blocks.l.mlp.hook_post    (L, T, M) [layer, pos, neuron]  (L, M)
   ("all positions" patches the whole slice of every position at once, TransformerLens' *_all_pos;
   the neuron grid is grok.h's, in the same style.) */
typedef enum {
    GROK_PATCH_RESID_PRE, GROK_PATCH_RESID_MID, GROK_PATCH_RESID_POST, GROK_PATCH_ATTN_OUT, GROK_PATCH_MLP_OUT,
    GROK_PATCH_Z, GROK_PATCH_Q, GROK_PATCH_K, GROK_PATCH_V, GROK_PATCH_PATTERN, GROK_PATCH_NEURON, GROK_PATCH_SITES
} grok_patch_site;
/* "resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "z", "q", "k", "v", "pattern",
   "neuron"; "?" for anything else. */
GROKDEF const char *grok_patch_site_name(int site);
/* The result's shape for site, by position (by_pos 1) or over all positions (0): *ndim 1..3. */
GROKDEF int grok_patch_shape(int shape[3], int *ndim, const grok_model *m, int site, int by_pos);
/* Activation patching: for every index of the grid, runs the corrupted batch (B sequences,
   tokens (B,T)) with that slice of the hook point replaced by the clean cache's (clean: a
   grok_cache of the same B sequences holding the site's hook point) and writes metric(logits)
   to out (the shape above). One forward of B sequences per index; registered hooks apply too. */
GROKDEF int grok_act_patch(double *out, grok_model *m, const int *corrupted, int B, const grok_cache *clean, int site,
                           int by_pos, grok_metric_fn metric, void *metric_ctx);
/* Attribution patching: the first-order estimate of what grok_act_patch measures, as a change
   of the metric: out[index] = sum over the batch and the slice of (clean - corrupted) * grad,
   grad the gradient cache of the metric on the corrupted batch (grok_grad_cache_run). So
   grok_act_patch's result - the corrupted metric ~ this, to first order in the difference.
   No forward runs: the cost is one pass over the caches. */
GROKDEF int grok_attr_patch(double *out, const grok_model *m, const grok_cache *clean, const grok_cache *corrupted,
                            const grok_cache *grads, int site, int by_pos);

/* ---- The local learning coefficient (developmental interpretability: Lau et al., "Quantifying
   degeneracy in singular models via the learning coefficient"; devinterp's SGLD estimator).
   Around w0, `chains` SGLD chains of burnin + draws steps on minibatches of `batch` rows:
     w += -step_size / 2 * (nbeta * grad L_batch(w) + localization * (w - w0)) + N(0, step_size)
   and llc = nbeta * (mean over the chains' draws of L_batch(w) - L(w0)), L(w0) over the whole
   data set (devinterp averages it over some batches). A regular model of d parameters has
   llc = d/2 (tests/test_analysis checks it on linear regression); a singular one less.
   Defaults (zero fields): devinterp's chains 10, draws 100, burnin 0, localization 100, nbeta
   = batch / log(batch); step_size 1e-4 (devinterp's examples; its SGLD's own default is 1e-2);
   batch min(n, 512) (a larger batch is the whole data set). A localization of exactly 0 is not
   expressible: use a tiny one. The noise is grok.h's RNG from seed, one stream per chain: the same seed
   gives the same bits. */
typedef struct {
    int chains, draws, burnin, batch;
    double step_size, nbeta, localization;
    uint64_t seed;
} grok_llc_opts;
/* The loss of the rows (n_rows indices into the data set) at weights w, and its gradient into
   grad (d floats, overwritten); a status. */
typedef int (*grok_llc_loss_fn)(void *ctx, const float *w, const int *rows, int n_rows, double *loss, float *grad);
/* llc (and, may be NULL, std: the standard deviation of the chains' estimates) of any model of
   d parameters at w0 over a data set of n rows, through loss. */
GROKDEF int grok_llc_sgld(double *llc, double *std, const float *w0, size_t d, long n, grok_llc_loss_fn loss, void *ctx,
                          const grok_llc_opts *opts);
/* The same for a transformer at its current weights over the data set data (d =
   num_parameters; the frozen tensors stay at w0, so only the trainable ones count): forward and
   backward in chunks of max_batch sequences. m's weights and gradients are as they were on
   return. */
GROKDEF int grok_model_llc(double *llc, double *std, grok_model *m, const grok_data *data, const grok_llc_opts *opts);

#endif /* GROK_NO_ANALYSIS */

/* ==== >>plots: SVG plots, phase diagrams, the HTML report ===================================== */

#ifndef GROK_NO_PLOTS

/* ---- Plots: standalone SVG (no dependencies), for files or inline in HTML.
   One description struct, zero meaning "default"; grok_plot_write writes one <svg> element.
   HEATMAP: z is (n_panels, rows, cols), row 0 drawn at the top, one <rect> per cell (each row of
     cells in a <g> whose transform carries the row's y), a colour
     bar of GROK_PLOT_CBAR_STEPS <rect>s per panel. cmap GROK_CMAP_RDBU is diverging (blue <
     0 < red, 0 is white #ffffff, ends #053061 and #67001f) and, when vmin == vmax, centred at
     0 over +-max|z|; GROK_CMAP_VIRIDIS is sequential (#440154 .. #fde725) over [min, max]. NaN
     cells are grey (#bdbdbd).
   LINES: x (n), y (n_panels, n_series, n); one <path> per series and panel (NaN, or <= 0 under
     log_y, breaks the line), a legend when names is given, dashed vertical lines at vlines with
     their labels (phase boundaries).
   SCATTER: x, y (n) and optional c (n) coloured with cmap (default viridis here) with a colour
     bar; one <circle> per point with finite x, y. n_panels must be 1.
   Small multiples: n_panels > 1 panels in panel_cols columns, all on one shared scale.
   Hover data: every heatmap cell carries data-v="ROW,COL: VALUE" (the names of y_names /
     x_names, else the indices), every scatter point data-v="x X, y Y[, c C]", and every point of
     a line (at most 1000 evenly spaced per series and panel) an invisible
     <circle r="3" fill-opacity="0"> with data-v="SERIES: x X, y Y" (X the x_names entry when
     given); numbers are %.4g, NaN and inf spelled out. grok_report's script shows it. */
typedef enum { GROK_PLOT_HEATMAP = 1, GROK_PLOT_LINES = 2, GROK_PLOT_SCATTER = 3 } grok_plot_kind;
typedef enum { GROK_CMAP_DEFAULT = 0, GROK_CMAP_RDBU = 1, GROK_CMAP_VIRIDIS = 2 } grok_cmap;
#define GROK_PLOT_CBAR_STEPS 64
typedef struct {
    grok_plot_kind kind;
    const char *title, *xlabel, *ylabel, *clabel; /* any may be NULL; escaped for XML */
    int width, height;           /* of one panel in pixels; 0: 420 x 320 (100..4000) */
    const double *z;             /* heatmap (n_panels, rows, cols) */
    int rows, cols;
    grok_cmap cmap;              /* heatmap default RdBu, scatter default viridis */
    double vmin, vmax;           /* colour range; vmin == vmax: automatic */
    const double *x, *y, *c;     /* lines: x (n), y (n_panels, n_series, n); scatter: x, y, c (n) */
    int n, n_series;
    const char *const *names;    /* n_series legend entries, or NULL */
    int log_y;
    const double *vlines;        /* n_vlines x positions, labels may be NULL */
    const char *const *vline_labels;
    int n_vlines;
    int n_panels, panel_cols;    /* 0: 1 panel; columns default min(n_panels, 4) */
    const char *const *panel_titles; /* n_panels, or NULL */
    /* Names on the axes instead of numbers (e.g. grok_fourier_basis_name's "cos 3"): x_names for
       heatmap columns (cols, at the cell centres) or the n x positions of lines, y_names for
       heatmap rows (rows; ignored by lines and scatter); thinned to every s-th name so that they
       do not overlap (s from the longest name and the panel's size); a NULL entry is skipped.
       They also name the cells in data-v. NULL: numbers. */
    const char *const *x_names, *const *y_names;
    /* n_hlines horizontal lines across every panel of a heatmap (black <path>s) at row positions
       (r - 0.5: between rows r-1 and r); positions outside -0.5 .. rows-0.5 are skipped; other
       kinds: GROK_ERR_ARG. */
    const double *hlines;
    int n_hlines;
} grok_plot;
GROKDEF int grok_plot_write(FILE *f, const grok_plot *p);
GROKDEF int grok_plot_save(const char *path, const grok_plot *p); /* a standalone .svg file */
/* XML-escapes s (& < > " '; drops control characters XML cannot hold) onto f. */
GROKDEF void grok_xml_escape(FILE *f, const char *s);

/* ---- Phase diagrams of sweeps (examples/sweep). The phase of one run comes from the first
   evaluated epochs at which train and test accuracy reached 99% (epoch_train_99, the
   memorisation epoch, and epoch_test_99, the grokking epoch; -1: never) and the final accuracies:
     confusion      final train accuracy < 99%: not even the training set is fitted;
     memorisation   final train accuracy >= 99%, final test accuracy < 99%;
     comprehension  both >= 99% at the end and epoch_test_99 <= delay * epoch_train_99: the
                    model generalises about as soon as it fits;
     grokking       both >= 99% at the end and epoch_test_99 > delay * epoch_train_99.
   delay <= 0 means 2. GROK_PHASE_NONE when an accuracy is NaN (the run failed before its first
   evaluation) or an accuracy >= 99% comes without its epoch (< 1). */
typedef enum {
    GROK_PHASE_NONE = 0, GROK_PHASE_COMPREHENSION = 1, GROK_PHASE_GROKKING = 2,
    GROK_PHASE_MEMORISATION = 3, GROK_PHASE_CONFUSION = 4
} grok_phase;
GROKDEF grok_phase grok_phase_classify(long epoch_train_99, long epoch_test_99, double train_acc, double test_acc,
                                       double delay);
/* "none", "comprehension", "grokking", "memorisation", "confusion"; "none" for any other value. */
GROKDEF const char *grok_phase_name(int phase);
/* The phase diagram: a grid of cells over two axes of a sweep (e.g. weight decay x training
   fraction), row 0 at the bottom, one <rect> per cell. colour_by_phase = 0: colour = log10 of
   epochs (the epochs to grok) on viridis with a colour bar (GROK_PLOT_CBAR_STEPS <rect>s) and a
   grey (#bdbdbd) legend <rect> "never" for the cells whose value is not finite and > 0;
   colour_by_phase = 1: one colour per phase (comprehension #4daf4a, grokking #377eb8,
   memorisation #ff7f00, confusion #e41a1c, none #ffffff) and a legend of 4 <rect>s (a fifth,
   "no run", when a cell is GROK_PHASE_NONE). Each cell is labelled with its phase's initial
   (C, G, M, X; "-" for none) when phase is given and with its epochs when they are finite and
   > 0. epochs may be NULL when colour_by_phase = 1 and phase may be NULL when it is 0. */
typedef struct {
    const char *title, *xlabel, *ylabel;  /* any may be NULL; escaped for XML */
    int rows, cols;                       /* 1..200 each: the y axis' values, the x axis' values */
    const char *const *row_labels;        /* row tick labels (the y values), or NULL: 0, 1, .. */
    const char *const *col_labels;        /* column tick labels (the x values), or NULL */
    const double *epochs;                 /* (rows, cols) epochs to grok */
    const int *phase;                     /* (rows, cols) grok_phase */
    int colour_by_phase;
    int width, height;                    /* of the figure: 300..4000 x 200..4000; 0: from the cell count */
} grok_phase_diagram;
GROKDEF int grok_plot_phase_diagram(FILE *f, const grok_phase_diagram *d);          /* one <svg> element */
GROKDEF int grok_plot_phase_diagram_save(const char *path, const grok_phase_diagram *d); /* a .svg file */

/* ---- Reports: one self-contained HTML file: inline SVG plots, tables and notes, and one inline
   script that shows the value under the pointer (the data-v attribute grok_plot_write puts on
   cells, points and lines); nothing is fetched. Written to path.tmp and renamed by
   grok_report_end, so a failed report never replaces a whole one. The first failure is kept in
   status and returned by grok_report_end; the calls between begin and end do nothing after it. */
typedef struct {
    FILE *f;
    char path[4096], tmp[4096];
    int status;
} grok_report;
GROKDEF int  grok_report_begin(grok_report *r, const char *path, const char *title); /* <h1>title */
GROKDEF void grok_report_heading(grok_report *r, const char *text);  /* a section, <h2> */
GROKDEF void grok_report_note(grok_report *r, const char *text);     /* a paragraph of small print */
GROKDEF void grok_report_plot(grok_report *r, const grok_plot *p);   /* one figure */
/* Raw HTML, the caller's (tables): printf-style. */
GROKDEF void grok_report_printf(grok_report *r, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
GROKDEF int  grok_report_end(grok_report *r); /* closes, commits; the first failure's status */

#ifndef GROK_NO_ANALYSIS /* the report draws the analyses */
/* report.html for a modular-addition model (1 layer, n_ctx 3, d_vocab p+1): one self-contained
   HTML file (grok_report: inline SVG, the hover script, nothing fetched). It holds:
   Run: the config and final metrics.
   Training (from metrics_csv; may be NULL or missing): train/test loss (log scale) and accuracy
     over epochs with phase lines at the first epochs where train accuracy reaches 99% and test
     accuracy 50% and 99%; the progress-measure columns when present (restricted/excluded loss,
     Gini, sum of squared weights).
   Embedding in the Fourier basis: the norm shares of W_E and W_U per Fourier component (axis
     named "cos 3", ..); the singular values of W_E[:p]; the first 8 columns of its U with their
     dominant-frequency fits (seed 000, grok_dominant_freq; frequency, amplitude and phase in the
     panel titles); the key-frequency table.
   Neurons: each neuron's best frequency vs the fraction of its variance it explains, coloured
     by the fraction of the inputs where it is positive (grok_neuron_freqs, min_frac 0); seed
     001's frequency x neuron matrix (grok_neuron_freq_norm; the frequencies that explain >= 0.1
     of some neuron, all when none does) and its sorted column maxima; the norms over the neurons
     of the centred activations' 2-D spectrum, (p, p) with component names (seed 001).
   Logits: W_logit @ F^T with the neurons sorted by cluster (frac >= 0.85; key frequencies first,
     the unclustered last) and lines between the clusters, its columns the constant and the key
     frequencies' cos / sin (the note gives their share of the squared norm); W_logit's Fourier
     norms per cluster (grok_wlogit_cluster_norms); the cos and sin components per key frequency
     (grok_modadd_logit_components) restricted to the constant and key-frequency terms.
   Attention: '=' onto a and onto b per head (small multiples, a head per row) and their centred
     2-D spectra |fftshift(fft2)| over the frequencies >= 0 along b (the rest mirrors it), the
     colour scale ending at the largest non-zero frequency.
   For the canonical p = 113 model (4 heads, d_mlp 512) the file is about 15 MB, most of it the
   attention grids and spectra. title may be NULL. */
GROKDEF int grok_modadd_report(const char *path, grok_model *m, const char *metrics_csv, const char *title);

#endif /* GROK_NO_ANALYSIS */
#endif /* GROK_NO_PLOTS */

/* ==== >>train: the training driver ============================================================ */

/* Early stopping: a grokking sweep knows a run's answer long before its last epoch. Stop when
   test accuracy has stayed at or above `acc` for `evals` evaluations in a row (grokked), or,
   with stall_epochs > 0, when the run has memorised (train accuracy at or above `memorised`)
   and `stall_epochs` epochs have passed since the later of that evaluation and the last new
   best test accuracy (stalled). acc 0 turns the first rule off, stall_epochs 0 the second. */
typedef struct {
    double acc;         /* in (0, 1] */
    long evals;         /* >= 1 when acc > 0 */
    double memorised;   /* in (0, 1] when stall_epochs > 0 */
    long stall_epochs;
} grok_early_stop;
typedef enum { GROK_STOP_NONE = 0, GROK_STOP_GROKKED = 1, GROK_STOP_STALLED = 2 } grok_stop_reason;

/* The rule on one evaluation at `epoch` (> the previous one) with metrics mt: updates s and
   returns the grok_stop_reason (also left in s->reason), or a negative status for a bad rule. */
GROKDEF int grok_early_stop_update(grok_stop_state *s, const grok_early_stop *rule, long epoch, const grok_metrics *mt);
GROKDEF const char *grok_stop_reason_name(int reason); /* "none", "grokked", "stalled" */

typedef struct {
    long epochs;           /* full-batch epochs to reach (counting from m->epoch) */
    long eval_every;       /* evaluate on train and test every N epochs (and at the end) */
    long checkpoint_every; /* write a checkpoint every N epochs; 0: none */
    const char *out_dir;   /* where metrics.csv and checkpoints go; NULL: write nothing */
    int progress;          /* -1 auto (a live line if stderr is a terminal), 0 off, 1 lines */
    int keep_history;      /* 1: keep every checkpoint (ckpt_EPOCH.grok), 0: only latest.grok */
    /* Called after every evaluation; return nonzero to stop training early. m is the model being
       trained (NULL for a net: keep it in ctx), its weights current: the callback may read and
       evaluate it (forward passes, hooks, the analyses) and change its weights, opt and trainable
       flags, which the next epoch uses (grok_train_cuda uploads m again after on_eval); it must
       not change its config or max_batch, free it, or touch step and epoch. */
    int (*on_eval)(grok_model *m, void *ctx);
    void *on_eval_ctx;
    /* 1: at every evaluation also compute the progress measures of the modular-addition model
       (1 layer, n_ctx 3, d_vocab = p+1, else GROK_ERR_ARG) and write them as extra columns of
       metrics.csv: restricted_loss, excluded_loss (grok_modadd_restricted on the logits of all
       p*p pairs, with the labels of the task that train and test hold and the seeds'
       directions cos/sin(w(a+b)), see grok_modadd_progress), gini_W_E, gini_W_logit (grok_gini of the L2 norms of the p Fourier components
       of W_E[:p] and of W_logit, see grok_fourier_norms, grok_wlogit_fourier_norms) and
       sum_sq_weights (grok_weights_sumsq). Nothing but the current weights is used. The key
       frequencies are key_freqs (n_key_freqs) or, when n_key_freqs is 0, those that
       grok_key_freqs (min_share 0.05) derives from the current W_E at that evaluation. Cost:
       one forward over the p*p pairs (the folded or trimmed path when the model takes one) and the
       restricted/excluded losses per evaluation: about 0.05 s for the canonical p = 113 model,
       under 1 ms per epoch at eval_every 100. When every test row is a pair (a, b, '=') with
       its label as its only target, that forward also gives the test metrics, with the bits
       grok_model_evaluate gives, and no second forward over the test set runs. */
    int progress_measures;
    const int *key_freqs;
    int n_key_freqs;
    /* GROK_DEVICE_CPU (0, the default) or GROK_DEVICE_CUDA: grok_train and grok_net_train then
       run the epochs on the GPU through grok_train_cuda / grok_net_train_cuda (a program built
       with GROK_CUDA and grok_cuda.o; otherwise, or with no device, GROK_ERR_ARG). */
    int device;
    /* A Grokfast filter on every step's gradient, between backward and the update (kind NONE:
       none). Its state is the model's `filter`, made at the start when the model holds none of
       this kind, window and size (a state of another kind or window is dropped), carried by
       resumable checkpoints, so that a resumed run filters as an uninterrupted one. */
    grok_gradfilter_config grokfast;
    /* Early stopping (grok_early_stop; zero: off). The counters live in the model's `stop` and
       its checkpoints; the stop's epoch is evaluated and checkpointed as a last epoch would be,
       metrics.csv gains a column `stop` (0, or the grok_stop_reason on the row where it
       stopped) and training ends with GROK_OK. The rule sees the evaluations every eval_every
       epochs, not the extra one at a run's last epoch, so that a run stopped and resumed
       decides as an uninterrupted one. A model whose stop.reason is set does not train
       on (clear it to go on). */
    grok_early_stop early_stop;
    /* 1: two more columns of metrics.csv at each evaluation, measured on that epoch's training
       step: softmax_collapse, the fraction of training rows whose float32 softmax has collapsed
       (cross-entropy exactly 0 in float32: the target is the argmax and every other exp(x - max)
       vanishes in the float sum; measured on the softmax whatever the loss), and grad_weight_cos,
       the cosine between the gradient (after backward, before any filter) and the weights over
       the trainable tensors, in double. On the CPU only. */
    int stability_monitors;
} grok_train_opts;

enum { GROK_DEVICE_CPU = 0, GROK_DEVICE_CUDA = 1 };

GROKDEF grok_train_opts grok_train_opts_default(void); /* 25000 epochs, eval/ckpt every 100 */

/* Full-batch training: train must fit in m->max_rows. A NULL test skips test metrics. Every
   token and target of train and test is checked before the first epoch (GROK_ERR_ARG).
   Resuming: grok_checkpoint_load of a checkpoint written with its optimizer state (latest.grok)
   and grok_train to a later opts->epochs gives the same bits as a run that never stopped (the
   driver draws no random numbers; the AdamW moments, step and epoch are in the checkpoint), and
   the same metrics.csv: the rows after the checkpoint's epoch that the stopped run had written,
   and a partial last line, are cut before the resumed run appends (seconds restart from 0).
   NaN guard: training stops with GROK_ERR_NUMERIC when the loss, a gradient (after backward,
   before the update) or a parameter (after the update) is NaN or infinite; the message names the
   epoch (m->epoch, the epochs completed before it) and the tensor, e.g. "grok_train: epoch 812:
   the gradient of blocks.0.mlp.W_in is not finite (element 17 = nan); stopped before the update,
   latest.grok (epoch 800) kept". The gradients are checked in the update's job, just before it
   (each thread its own slice, which it then updates from its cache), and the updated weights as
   AdamW writes them; frozen weights by a pass of their own. Before each checkpoint the AdamW
   moments of the trainable tensors are checked too ("the AdamW second moment of ... stopped
   before the checkpoint"): an overflowing gradient's square leaves an infinite second moment
   that freezes its weight for good while the weights stay finite. All of it happens before any
   checkpoint of the epoch is written, so out_dir/latest.grok stays the last good one, and it
   resumes. */
GROKDEF int grok_train(grok_model *m, const grok_train_opts *opts, const grok_data *train,
                       const grok_data *test);
/* The same full-batch loop for a net (grok_net): metrics.csv as grok_train writes it; checkpoints
   (checkpoint_every, keep_history) are the weights as safetensors, OUT/latest.safetensors and
   OUT/net_EPOCH.safetensors (grok_net_save_safetensors). on_eval is called with m = NULL: keep
   the net in on_eval_ctx. progress_measures is for the modular-addition transformer only. */
GROKDEF int grok_net_train(grok_net *net, const grok_train_opts *opts, const grok_data *train,
                           const grok_data *test);

/* ==== >>cuda: the CUDA companion (GROK_CUDA; kernels in grok_cuda.cu) ========================= */

#ifdef GROK_CUDA
/* ---- CUDA companion (grok_cuda.cu beside this file; README, "CUDA companion"). Define
   GROK_CUDA wherever grok.h is included (not with GROK_STATIC) and link grok_cuda.o (make
   cuda) with -lcudart -lcublas. The device keeps a copy of a transformer grok_model: weights,
   gradients and AdamW moments in grok_model's layout, and its activations for m->max_rows
   rows. Forward and backward are the general path's function (every position; hooks do not
   apply), AdamW is grok_model_adamw_step's. Device memory running out is GROK_ERR_NOMEM; any
   other CUDA or cuBLAS failure is GROK_ERR_IO, the message naming the call, file and line.
   Not yet run on a GPU (README). */
#ifdef GROK_STATIC
#error "GROK_CUDA links grok_cuda.o against grok.h's functions, which GROK_STATIC makes private"
#endif
typedef struct grok_cuda grok_cuda;
GROKDEF int  grok_cuda_available(void); /* CUDA devices present; 0 when none or no driver */
/* Device state for m (a transformer from grok_model_init), with m's buffers uploaded. */
GROKDEF int  grok_cuda_init(grok_cuda **g, const grok_model *m);
GROKDEF void grok_cuda_free(grok_cuda *g);
/* Weights, gradients, moments and trainable flags to the device; weights, gradients and
   moments back into m (e.g. before grok_checkpoint_save). */
GROKDEF int  grok_cuda_upload(grok_cuda *g, const grok_model *m);
GROKDEF int  grok_cuda_download(grok_cuda *g, grok_model *m);
/* grok_model_forward, _backward, _zero_grad and _adamw_step on the device, with host arrays
   in and out. adamw_step uses m->opt at step m->step and advances m->step. */
GROKDEF int  grok_cuda_forward(grok_cuda *g, const int *tokens, const int *targets, int B, double *loss,
                               double *acc, float *logits_out);
GROKDEF int  grok_cuda_backward(grok_cuda *g);
GROKDEF int  grok_cuda_zero_grad(grok_cuda *g);
GROKDEF int  grok_cuda_adamw_step(grok_cuda *g, grok_model *m);
/* Copies train (which must fit in m->max_rows) and test (may be NULL) to the device. */
GROKDEF int  grok_cuda_set_data(grok_cuda *g, const grok_data *train, const grok_data *test);
/* Loss and accuracy of the resident training (split 0) or test (split 1) set. */
GROKDEF int  grok_cuda_evaluate(grok_cuda *g, int split, double *loss, double *acc);
/* n full-batch epochs (zero_grad, forward, backward, AdamW) on the resident training set,
   advancing m->step and m->epoch; loss, acc: the last epoch's forward. The host waits once
   per 1024 epochs, to read the losses: a non-finite one is GROK_ERR_NUMERIC naming its
   epoch (the device has then gone on to the end of that window). m's buffers are not
   updated (grok_cuda_download). With graphs on (the default) the epoch is captured once as a
   CUDA graph and replayed; if capture fails the same kernels are launched one by one. */
GROKDEF int  grok_cuda_train_epochs(grok_cuda *g, grok_model *m, long n, double *loss, double *acc);
GROKDEF int  grok_cuda_use_graph(grok_cuda *g, int on);
GROKDEF int  grok_cuda_graph_active(const grok_cuda *g); /* 1 if epochs run as a captured graph */
/* grok_train on the device: the same contract, metrics.csv, progress lines, progress measures
   (computed on the CPU from the downloaded weights) and checkpoints. The device state is
   downloaded into m before every evaluation's measures, on_eval and checkpoint, and at the
   end; m is uploaded again after on_eval, so changes made there (opt, trainable flags,
   weights) take effect. GROK_CUDA_GRAPH=0 in the environment turns the epoch graph off. */
GROKDEF int  grok_train_cuda(grok_model *m, const grok_train_opts *opts, const grok_data *train,
                             const grok_data *test);
/* The same for seed 003's nets (grok_net): a device state made by grok_cuda_net_init holds the
   net's weights, gradients, AdamW moments and activations for net->max_rows pairs. Forward and
   backward are grok_net_forward's and _backward's functions (hooks do not apply), AdamW is
   grok_net_adamw_step's. grok_cuda_free, _zero_grad, _backward, _set_data (rows (a, b, '=')
   as for grok_net_train), _evaluate and _use_graph take either kind of state; the functions
   taking a grok_model refuse a net's state with GROK_ERR_ARG, and these a transformer's. */
GROKDEF int  grok_cuda_net_init(grok_cuda **g, const grok_net *net);
GROKDEF int  grok_cuda_net_upload(grok_cuda *g, const grok_net *net);
GROKDEF int  grok_cuda_net_download(grok_cuda *g, grok_net *net);
GROKDEF int  grok_cuda_net_forward(grok_cuda *g, const int *tokens, const int *targets, int B, double *loss,
                                   double *acc, float *logits_out);
GROKDEF int  grok_cuda_net_adamw_step(grok_cuda *g, grok_net *net);
GROKDEF int  grok_cuda_net_train_epochs(grok_cuda *g, grok_net *net, long n, double *loss, double *acc);
/* grok_net_train on the device: the same contract, metrics.csv, progress lines and
   checkpoints. net is downloaded before on_eval and every checkpoint, and at the end, and
   uploaded again after on_eval. GROK_CUDA_GRAPH=0 turns the epoch graph off. */
GROKDEF int  grok_net_train_cuda(grok_net *net, const grok_train_opts *opts, const grok_data *train,
                                 const grok_data *test);
/* For grok_cuda.cu: records message as grok_last_error() and returns status. */
GROKDEF int  grok_cuda_fail(int status, const char *message);
#endif

/* ==== internal: shared with grok_cuda.cu, not API ============================================== */

/* exp(t) in float for t <= 0: t = k ln2 + r with k from the round-to-nearest shifter 1.5*2^23
   and ln2 in two parts, e^r = 1 + r + r^2 P(r) with Cephes' degree-5 P (|r| <= ln2/2), times
   2^k made in the exponent field of the shifted value's bits. Every step is one rounding
   (fmaf, or a single +, *), as in the vector kernels, so they agree to the bit; about 1 ulp
   from exp (tests/test_gemm measures it). Below GROK__EXP_MIN, where exp(t) < FLT_MIN, 0:
   a softmax term that small is under a float ulp of its row's sum (>= 1). Here, outside the
   implementation, so that grok_cuda.cu's kernels use the same function. */
#ifdef __CUDACC__
#define GROK__HD __host__ __device__
#else
#define GROK__HD
#endif
#define GROK__EXP_MIN (-87.33654f)
#define GROK__EXP_SHIFT 12582912.0f
#define GROK__EXP_LOG2E 1.44269504089f
#define GROK__EXP_LN2_HI 0.693359375f
#define GROK__EXP_LN2_LO (-2.12194440e-4f)
#define GROK__EXP_P0 1.9875691500e-4f
#define GROK__EXP_P1 1.3981999507e-3f
#define GROK__EXP_P2 8.3334519073e-3f
#define GROK__EXP_P3 4.1665795894e-2f
#define GROK__EXP_P4 1.6666665459e-1f
#define GROK__EXP_P5 5.0000001201e-1f
static inline GROK__HD float grok__expf(float t)
{
    float u = fmaf(t, GROK__EXP_LOG2E, GROK__EXP_SHIFT), k = u - GROK__EXP_SHIFT, r, p, y, scale;
    uint32_t bits;
    r = fmaf(k, -GROK__EXP_LN2_HI, t);
    r = fmaf(k, -GROK__EXP_LN2_LO, r);
    p = fmaf(GROK__EXP_P0, r, GROK__EXP_P1);
    p = fmaf(p, r, GROK__EXP_P2);
    p = fmaf(p, r, GROK__EXP_P3);
    p = fmaf(p, r, GROK__EXP_P4);
    p = fmaf(p, r, GROK__EXP_P5);
    y = fmaf(p, r * r, r) + 1.0f;
    memcpy(&bits, &u, 4); /* the low bits of u hold k: (k + 127) << 23 is 2^k */
    bits = (bits + 127u) << 23;
    memcpy(&scale, &bits, 4);
    return t < GROK__EXP_MIN ? 0.0f : y * scale;
}

#ifdef __cplusplus
}
#endif
#endif /* GROK_H_INCLUDED */

/* ===================================================================== */
/* ======================== IMPLEMENTATION ============================= */
/* ===================================================================== */
#ifdef GROK_IMPLEMENTATION
#ifndef GROK_IMPLEMENTATION_DONE
#define GROK_IMPLEMENTATION_DONE

#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <math.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#if defined(GROK_MALLOC) && defined(GROK_FREE)
#elif !defined(GROK_MALLOC) && !defined(GROK_FREE)
#define GROK_MALLOC(sz) malloc(sz)
#define GROK_FREE(p) free(p)
#else
#error "Define both GROK_MALLOC and GROK_FREE, or neither."
#endif

/* malloc of n elements of type, at least one, so that NULL always means out of memory */
#define GROK__NEW(type, n) ((type *)GROK_MALLOC(sizeof(type) * ((size_t)(n) > 0 ? (size_t)(n) : 1)))

/* The last error message is per thread where the compiler offers thread-local storage (as
   stb_image's STBI_THREAD_LOCAL), else one global buffer. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define GROK__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define GROK__THREAD_LOCAL _Thread_local
#elif defined(__GNUC__)
#define GROK__THREAD_LOCAL __thread
#else
#define GROK__THREAD_LOCAL
#endif

/* ==== >>core: errors, arena, RNG, tensor views ================================================ */

/* ---- errors */

static GROK__THREAD_LOCAL char grok__error_message[512];

/* Records a failure and returns its status, so that callers can `return grok__fail(...)`. */
static int grok__fail(int status, const char *fmt, ...)
{
    char msg[sizeof grok__error_message]; /* an argument may be the message being replaced */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(grok__error_message, msg, sizeof msg);
    return status;
}

GROKDEF const char *grok_last_error(void) { return grok__error_message; }

GROKDEF const char *grok_status_name(int status)
{
    switch (status) {
    case GROK_OK: return "GROK_OK";
    case GROK_ERR_ARG: return "GROK_ERR_ARG";
    case GROK_ERR_NOMEM: return "GROK_ERR_NOMEM";
    case GROK_ERR_IO: return "GROK_ERR_IO";
    case GROK_ERR_FORMAT: return "GROK_ERR_FORMAT";
    case GROK_ERR_NUMERIC: return "GROK_ERR_NUMERIC";
    default: return "GROK_ERR_UNKNOWN";
    }
}

/* ---- arena */

#define GROK__ALIGN 64

GROKDEF int grok_arena_init(grok_arena *a, size_t bytes)
{
    if (!a) return grok__fail(GROK_ERR_ARG, "grok_arena_init: NULL arena");
    a->base = NULL;
    a->size = a->used = 0;
    if (bytes > (size_t)-1 - GROK__ALIGN) return grok__fail(GROK_ERR_NOMEM, "grok_arena_init: %zu bytes is too many", bytes);
    /* One spare alignment unit lets the first piece start on a 64-byte boundary. */
    a->base = (unsigned char *)GROK_MALLOC(bytes + GROK__ALIGN);
    if (!a->base) return grok__fail(GROK_ERR_NOMEM, "grok_arena_init: cannot allocate %zu bytes", bytes);
    a->size = bytes + GROK__ALIGN;
    a->used = (size_t)((GROK__ALIGN - ((uintptr_t)a->base % GROK__ALIGN)) % GROK__ALIGN);
    return GROK_OK;
}

GROKDEF void *grok_arena_alloc(grok_arena *a, size_t bytes)
{
    size_t start, rounded;
    if (!a || !a->base) { grok__fail(GROK_ERR_ARG, "grok_arena_alloc: arena not initialised"); return NULL; }
    start = a->used;
    rounded = (bytes + GROK__ALIGN - 1) / GROK__ALIGN * GROK__ALIGN;
    if (rounded < bytes || rounded > a->size - start) {
        grok__fail(GROK_ERR_NOMEM, "grok_arena_alloc: %zu bytes requested, %zu free", bytes, a->size - start);
        return NULL;
    }
    a->used = start + rounded;
    memset(a->base + start, 0, rounded);
    return a->base + start;
}

GROKDEF void grok_arena_free(grok_arena *a)
{
    if (!a) return;
    GROK_FREE(a->base);
    a->base = NULL;
    a->size = a->used = 0;
}

/* ---- rng */

static uint64_t grok__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

GROKDEF void grok_rng_seed(grok_rng *r, uint64_t seed)
{
    int i;
    if (!r) { grok__fail(GROK_ERR_ARG, "grok_rng_seed: NULL rng"); return; }
    for (i = 0; i < 4; i++) r->s[i] = grok__splitmix64(&seed);
}

static uint64_t grok__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

GROKDEF uint64_t grok_rng_u64(grok_rng *r)
{
    uint64_t *s, result, t;
    if (!r) { grok__fail(GROK_ERR_ARG, "grok_rng_u64: NULL rng"); return 0; }
    s = r->s;
    result = grok__rotl(s[1] * 5, 7) * 9;
    t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = grok__rotl(s[3], 45);
    return result;
}

GROKDEF double grok_rng_uniform(grok_rng *r)
{
    if (!r) { grok__fail(GROK_ERR_ARG, "grok_rng_uniform: NULL rng"); return 0.0; }
    return (double)(grok_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

GROKDEF uint64_t grok_rng_below(grok_rng *r, uint64_t n)
{
    /* Rejection keeps every value equally likely: drop draws from the incomplete last block. */
    uint64_t limit, x;
    if (!r || n == 0) { grok__fail(GROK_ERR_ARG, "grok_rng_below: %s", r ? "n = 0" : "NULL rng"); return 0; }
    limit = UINT64_MAX - UINT64_MAX % n;
    do x = grok_rng_u64(r); while (x >= limit);
    return x % n;
}

GROKDEF double grok_rng_normal(grok_rng *r)
{
    double u1, u2;
    if (!r) { grok__fail(GROK_ERR_ARG, "grok_rng_normal: NULL rng"); return 0.0; }
    u1 = 1.0 - grok_rng_uniform(r); /* (0, 1]: log never sees 0 */
    u2 = grok_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

GROKDEF void grok_rng_shuffle(grok_rng *r, int *a, size_t n)
{
    size_t i;
    if (!r || (!a && n > 0)) { grok__fail(GROK_ERR_ARG, "grok_rng_shuffle: NULL %s", r ? "array" : "rng"); return; }
    for (i = n; i > 1; i--) {
        size_t j = (size_t)grok_rng_below(r, (uint64_t)i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ---- tensors */

GROKDEF grok_tensor grok_tensor_make(float *data, int ndim, const int *shape)
{
    grok_tensor t;
    int i;
    long s = 1;
    memset(&t, 0, sizeof t);
    if (ndim < 0 || ndim > GROK_MAX_DIMS || (ndim > 0 && !shape)) {
        grok__fail(GROK_ERR_ARG, "grok_tensor_make: %d dims (want 0..%d) or NULL shape", ndim, GROK_MAX_DIMS);
        return t;
    }
    for (i = 0; i < ndim; i++)
        if (shape[i] < 0) { grok__fail(GROK_ERR_ARG, "grok_tensor_make: size %d of dim %d", shape[i], i); return t; }
    t.data = data;
    t.ndim = ndim;
    for (i = ndim - 1; i >= 0; i--) {
        t.shape[i] = shape[i];
        t.stride[i] = s;
        s *= shape[i];
    }
    return t;
}

GROKDEF long grok_tensor_numel(const grok_tensor *t)
{
    long n = 1;
    int i;
    if (!t) { grok__fail(GROK_ERR_ARG, "grok_tensor_numel: NULL tensor"); return -1; }
    for (i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

GROKDEF int grok_tensor_is_contiguous(const grok_tensor *t)
{
    long s = 1;
    int i;
    if (!t) { grok__fail(GROK_ERR_ARG, "grok_tensor_is_contiguous: NULL tensor"); return 0; }
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return 0;
        s *= t->shape[i];
    }
    return 1;
}

GROKDEF int grok_tensor_index(grok_tensor *out, const grok_tensor *t, int i)
{
    int d;
    if (!out || !t) return grok__fail(GROK_ERR_ARG, "grok_tensor_index: NULL tensor");
    if (t->ndim < 1) return grok__fail(GROK_ERR_ARG, "grok_tensor_index: tensor has no dimension");
    if (i < 0 || i >= t->shape[0])
        return grok__fail(GROK_ERR_ARG, "grok_tensor_index: index %d outside [0, %d)", i, t->shape[0]);
    out->data = t->data + (long)i * t->stride[0];
    out->ndim = t->ndim - 1;
    for (d = 0; d < GROK_MAX_DIMS; d++) {
        out->shape[d] = d + 1 < t->ndim ? t->shape[d + 1] : 0;
        out->stride[d] = d + 1 < t->ndim ? t->stride[d + 1] : 0;
    }
    return GROK_OK;
}

GROKDEF int grok_tensor_slice(grok_tensor *out, const grok_tensor *t, int dim, int start, int len)
{
    if (!out || !t) return grok__fail(GROK_ERR_ARG, "grok_tensor_slice: NULL tensor");
    if (dim < 0 || dim >= t->ndim)
        return grok__fail(GROK_ERR_ARG, "grok_tensor_slice: dim %d outside [0, %d)", dim, t->ndim);
    if (start < 0 || len < 0 || start > t->shape[dim] - len)
        return grok__fail(GROK_ERR_ARG, "grok_tensor_slice: [%d, %d+%d) outside [0, %d)", start, start, len, t->shape[dim]);
    *out = *t;
    out->data = t->data + (long)start * t->stride[dim];
    out->shape[dim] = len;
    return GROK_OK;
}

GROKDEF int grok_tensor_reshape(grok_tensor *out, const grok_tensor *t, int ndim, const int *shape)
{
    long n = 1;
    int i;
    if (!out || !t || !shape) return grok__fail(GROK_ERR_ARG, "grok_tensor_reshape: NULL argument");
    if (ndim < 0 || ndim > GROK_MAX_DIMS) return grok__fail(GROK_ERR_ARG, "grok_tensor_reshape: %d dims (at most %d)", ndim, GROK_MAX_DIMS);
    if (!grok_tensor_is_contiguous(t)) return grok__fail(GROK_ERR_ARG, "grok_tensor_reshape: tensor is not contiguous");
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0) return grok__fail(GROK_ERR_ARG, "grok_tensor_reshape: negative size");
        n *= shape[i];
    }
    if (n != grok_tensor_numel(t))
        return grok__fail(GROK_ERR_ARG, "grok_tensor_reshape: %ld elements cannot become %ld", grok_tensor_numel(t), n);
    *out = grok_tensor_make(t->data, ndim, shape);
    return GROK_OK;
}

GROKDEF float *grok_tensor_at(const grok_tensor *t, const int *idx)
{
    long off = 0;
    int i;
    if (!t || !t->data || (t->ndim > 0 && !idx)) { grok__fail(GROK_ERR_ARG, "grok_tensor_at: NULL argument"); return NULL; }
    for (i = 0; i < t->ndim; i++) {
        if (idx[i] < 0 || idx[i] >= t->shape[i]) {
            grok__fail(GROK_ERR_ARG, "grok_tensor_at: index %d of dim %d outside [0, %d)", idx[i], i, t->shape[i]);
            return NULL;
        }
        off += (long)idx[i] * t->stride[i];
    }
    return t->data + off;
}

/* x > 0 ? value : 0, as a bit mask: ReLU's sign is a coin flip that a branch predictor loses,
   and compilers keep the ternary as a branch (it differs from maxss on NaN and -0). */
static float grok__mask_positive(float x, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, 4);
    bits &= 0u - (uint32_t)(x > 0.0f);
    memcpy(&value, &bits, 4);
    return value;
}

/* ==== >>kernels: GEMM (AVX-512 / AVX2 / portable), thread pool, vector kernels ================ */

/* grok_gemm is a GotoBLAS/BLIS-style packed GEMM: B is packed into
   KC x NC panels made of NR-wide strips, A into MC x KC blocks made of
   MR-tall strips, and a register-blocked micro-kernel computes one
   MR x NR tile of C per call.  Three micro-kernels exist (AVX-512 14x32,
   AVX2+FMA 6x16, portable C 4x16), chosen at run time.  AVX-512 and AVX2
   have an in-place kernel that applies ReLU's backward (an epilogue's
   bits) as it stores a tile; AVX-512 adds a 4-row kernel for partial
   strips.

   Determinism: each element of C is owned by exactly one thread, the K
   loop is cut into blocks of the fixed size GROK__KC, and inside a block
   every lane of the micro-kernel accumulates k = 0..kc-1 in order.  The
   per-element arithmetic is therefore independent of the thread count
   and of where the tile lies in a thread's sub-matrix; threads only
   decide *which* tiles they compute.
   ====================================================================== */

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define GROK__X86 1
#include <immintrin.h>
#else
#define GROK__X86 0
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

/* ---- Thread pool: persistent workers, one job at a time.  Task t of a job
   is run by participant t % nparts (participant 0 = the calling thread),
   so no shared task counter is needed.  Workers spin briefly on the job
   generation counter before sleeping on a condition variable, which
   keeps the wake-up cost of back-to-back GEMMs in the microsecond range.
   --------------------------------------------------------------------- */

typedef void (*grok__task_fn)(void *ctx, int task, int ntasks);

#define GROK__MAX_THREADS 64
#define GROK__SPIN_ITERS 4000 /* ~50-100 us of pause, then sleep */

/* The library's mutable global state, all of it: the thread pool, the key of the per-thread
   packing workspace, and the GEMM kernel chosen at first use. (The last error message is per
   thread: grok__error_message.) */
static struct {
    pthread_mutex_t pool_busy;  /* held while a job runs or the pool is reconfigured */
    pthread_mutex_t pool_mu;    /* protects the pool fields below */
    pthread_cond_t pool_wake, pool_done;
    pthread_t pool_th[GROK__MAX_THREADS];
    int pool_nthreads;          /* configured size incl. caller; 0 = not decided yet */
    int pool_nworkers;          /* workers actually running */
    int pool_atexit_done;
    unsigned pool_gen;          /* bumped once per job (and on quit) */
    int pool_pending;           /* workers that have not finished the current job */
    int pool_quit;
    grok__task_fn pool_fn;
    void *pool_ctx;
    int pool_ntasks;
    unsigned pool_fpmode;       /* the caller's floating-point mode, for the job's workers */
    pthread_key_t ws_key;
    pthread_once_t ws_once;
    int ws_key_ok;
    const struct grok__kernel *kernel; /* grok__kernel_get's choice */
    pthread_once_t kernel_once;
} grok__state = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                 {0}, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, PTHREAD_ONCE_INIT, 0, NULL, PTHREAD_ONCE_INIT};

/* The floating-point mode: on x86-64 the MXCSR register, whose FTZ (bit 15) and DAZ (bit 6)
   flags flush subnormal results and operands to zero. Late in a grokking run the gradients of
   confidently classified rows fall below FLT_MIN, and on Intel cores every subnormal operand or
   result costs a microcode assist: with gradual underflow the canonical step slowed from 30 to
   146 ms by epoch 3,000. Training and evaluation therefore run flushed (as TensorFlow's CPU
   runtime does) unless GROK_KEEP_DENORMALS is defined; the caller's mode is restored on return,
   and every worker takes the caller's mode with each job, so the thread count never changes a
   bit. Elsewhere the platform's default mode is used as it is. */
#define GROK__FP_FLUSH 0x8040u
static unsigned grok__fp_get(void)
{
#if GROK__X86
    return _mm_getcsr();
#else
    return 0;
#endif
}

static void grok__fp_set(unsigned mode)
{
#if GROK__X86
    if (_mm_getcsr() != mode) _mm_setcsr(mode);
#else
    (void)mode;
#endif
}

/* Enters grok.h's training mode; returns the mode to restore with grok__fp_set. */
static unsigned grok__fp_enter(void)
{
    unsigned old = grok__fp_get();
#if !defined(GROK_KEEP_DENORMALS)
    grok__fp_set(old | GROK__FP_FLUSH);
#endif
    return old;
}

/* Restores mode and passes st on: the public model and net calls run their bodies as
   fp = grok__fp_enter(); return grok__fp_restore(fp, grok__model_forward(...)). */
static int grok__fp_restore(unsigned mode, int st)
{
    grok__fp_set(mode);
    return st;
}

/* Spinning reads shared words outside the mutex, so it needs atomics;
   without GNU atomics we just skip the spin phase and sleep directly. */
#if defined(__GNUC__)
#define GROK__ALOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define GROK__ASTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define GROK__ALOAD(p) (*(p))
#define GROK__ASTORE(p, v) (*(p) = (v))
#endif

static void grok__cpu_relax(void)
{
#if GROK__X86
    _mm_pause();
#endif
}

/* Spins until *p != old or the budget runs out; the caller re-checks
   under the mutex either way. */
static void grok__spin_while_eq_u(const unsigned *p, unsigned old)
{
#if defined(__GNUC__)
    int i;
    for (i = 0; i < GROK__SPIN_ITERS && GROK__ALOAD(p) == old; i++) grok__cpu_relax();
#else
    (void)p; (void)old;
#endif
}

static void grok__spin_while_ne_i(const int *p, int val)
{
#if defined(__GNUC__)
    int i;
    for (i = 0; i < GROK__SPIN_ITERS && GROK__ALOAD(p) != val; i++) grok__cpu_relax();
#else
    (void)p; (void)val;
#endif
}

/* Default size: env GROK_THREADS, else online CPUs, clamped to [1, 64]. */
static int grok__default_threads(void)
{
    const char *s = getenv("GROK_THREADS");
    long n = s ? strtol(s, NULL, 10) : 0;
#if defined(_SC_NPROCESSORS_ONLN)
    if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    if (n <= 0) n = 1;
    if (n > GROK__MAX_THREADS) n = GROK__MAX_THREADS;
    return (int)n;
}

/* Number of participants a parallel_for will use (decides the default lazily). */
static int grok__pool_size(void)
{
    int n;
    pthread_mutex_lock(&grok__state.pool_mu);
    if (grok__state.pool_nthreads == 0) grok__state.pool_nthreads = grok__default_threads();
    n = grok__state.pool_nthreads;
    pthread_mutex_unlock(&grok__state.pool_mu);
    return n;
}

/* Worker loop; arg = participant index in [1, nworkers]. */
static void *grok__pool_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned seen = 0;
    for (;;) {
        grok__task_fn fn;
        void *ctx;
        int t, ntasks, nparts;
        grok__spin_while_eq_u(&grok__state.pool_gen, seen);
        pthread_mutex_lock(&grok__state.pool_mu);
        while (grok__state.pool_gen == seen && !grok__state.pool_quit)
            pthread_cond_wait(&grok__state.pool_wake, &grok__state.pool_mu);
        if (grok__state.pool_quit) {
            pthread_mutex_unlock(&grok__state.pool_mu);
            break;
        }
        seen = grok__state.pool_gen;
        fn = grok__state.pool_fn;
        ctx = grok__state.pool_ctx;
        ntasks = grok__state.pool_ntasks;
        nparts = grok__state.pool_nworkers + 1;
        grok__fp_set(grok__state.pool_fpmode);
        pthread_mutex_unlock(&grok__state.pool_mu);

        for (t = id; t < ntasks; t += nparts) fn(ctx, t, ntasks);

        pthread_mutex_lock(&grok__state.pool_mu);
        GROK__ASTORE(&grok__state.pool_pending, grok__state.pool_pending - 1);
        if (grok__state.pool_pending == 0) pthread_cond_signal(&grok__state.pool_done);
        pthread_mutex_unlock(&grok__state.pool_mu);
    }
    return NULL;
}

static void grok__pool_shutdown(void);

/* Starts nthreads-1 workers if none run.  Requires grok__state.pool_busy held.
   If thread creation fails part-way, the pool just runs with fewer. */
static void grok__pool_start(void)
{
    int i, n = grok__pool_size();
    if (grok__state.pool_nworkers > 0 || n <= 1) return;
    pthread_mutex_lock(&grok__state.pool_mu);
    grok__state.pool_gen = 0;
    grok__state.pool_quit = 0;
    pthread_mutex_unlock(&grok__state.pool_mu);
    for (i = 1; i < n; i++) {
        if (pthread_create(&grok__state.pool_th[i], NULL, grok__pool_worker, (void *)(intptr_t)i) != 0) break;
        pthread_mutex_lock(&grok__state.pool_mu);
        grok__state.pool_nworkers = i;
        pthread_mutex_unlock(&grok__state.pool_mu);
    }
    if (!grok__state.pool_atexit_done) {
        grok__state.pool_atexit_done = 1;
        atexit(grok__pool_shutdown);
    }
}

/* Joins all workers.  Requires grok__state.pool_busy held. */
static void grok__pool_stop(void)
{
    int i, nw = grok__state.pool_nworkers;
    if (nw == 0) return;
    pthread_mutex_lock(&grok__state.pool_mu);
    grok__state.pool_quit = 1;
    GROK__ASTORE(&grok__state.pool_gen, grok__state.pool_gen + 1);
    pthread_cond_broadcast(&grok__state.pool_wake);
    pthread_mutex_unlock(&grok__state.pool_mu);
    for (i = 1; i <= nw; i++) pthread_join(grok__state.pool_th[i], NULL);
    pthread_mutex_lock(&grok__state.pool_mu);
    grok__state.pool_nworkers = 0;
    grok__state.pool_quit = 0;
    pthread_mutex_unlock(&grok__state.pool_mu);
}

/* Runs fn(ctx, t, ntasks) for t in [0, ntasks) on the pool and the calling
   thread; returns when all are done.  Runs inline when there is a single
   task or thread, and when a job is already in flight (nested call from a
   task, or a second application thread), so it can never deadlock. */
static void grok__parallel_for(grok__task_fn fn, void *ctx, int ntasks)
{
    int t, nparts;
    if (ntasks <= 0) return;
    if (ntasks == 1 || grok__pool_size() == 1 || pthread_mutex_trylock(&grok__state.pool_busy) != 0) {
        for (t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    grok__pool_start();
    nparts = grok__state.pool_nworkers + 1;
    if (nparts > 1) {
        pthread_mutex_lock(&grok__state.pool_mu);
        grok__state.pool_fn = fn;
        grok__state.pool_ctx = ctx;
        grok__state.pool_ntasks = ntasks;
        grok__state.pool_fpmode = grok__fp_get();
        GROK__ASTORE(&grok__state.pool_pending, grok__state.pool_nworkers);
        GROK__ASTORE(&grok__state.pool_gen, grok__state.pool_gen + 1);
        pthread_cond_broadcast(&grok__state.pool_wake);
        pthread_mutex_unlock(&grok__state.pool_mu);
    }
    for (t = 0; t < ntasks; t += nparts) fn(ctx, t, ntasks);
    if (nparts > 1) {
        grok__spin_while_ne_i(&grok__state.pool_pending, 0);
        pthread_mutex_lock(&grok__state.pool_mu);
        while (grok__state.pool_pending != 0) pthread_cond_wait(&grok__state.pool_done, &grok__state.pool_mu);
        pthread_mutex_unlock(&grok__state.pool_mu);
    }
    pthread_mutex_unlock(&grok__state.pool_busy);
}

/* ---- Per-thread packing workspace, owned through a pthread key so that any
   thread (pool worker or application thread) gets its own grow-only,
   64-byte aligned buffer, freed when the thread exits.
   --------------------------------------------------------------------- */

typedef struct {
    void *raw;
    float *buf;
    size_t cap; /* floats */
} grok__ws;

static void grok__ws_free(void *p)
{
    grok__ws *w = (grok__ws *)p;
    if (w) {
        free(w->raw);
        free(w);
    }
}

static void grok__ws_key_init(void)
{
    grok__state.ws_key_ok = pthread_key_create(&grok__state.ws_key, grok__ws_free) == 0;
}

/* Returns the calling thread's workspace with room for >= n floats, or NULL
   if memory cannot be had (the caller then uses its no-memory path). */
static float *grok__ws_get(size_t n)
{
    grok__ws *w;
    pthread_once(&grok__state.ws_once, grok__ws_key_init);
    if (!grok__state.ws_key_ok) return NULL;
    w = (grok__ws *)pthread_getspecific(grok__state.ws_key);
    if (!w) {
        w = (grok__ws *)calloc(1, sizeof *w);
        if (!w) return NULL;
        if (pthread_setspecific(grok__state.ws_key, w) != 0) {
            free(w);
            return NULL;
        }
    }
    if (w->cap < n) {
        void *raw = malloc(n * sizeof(float) + 64);
        if (!raw) return NULL;
        free(w->raw);
        w->raw = raw;
        w->buf = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        w->cap = n;
    }
    return w->buf;
}

/* Joins the pool and frees the calling thread's workspace (worker
   workspaces go with their threads).  Registered with atexit; the pool
   restarts lazily if used again. */
static void grok__pool_shutdown(void)
{
    pthread_mutex_lock(&grok__state.pool_busy);
    grok__pool_stop();
    if (grok__state.ws_key_ok) {
        grok__ws_free(pthread_getspecific(grok__state.ws_key));
        pthread_setspecific(grok__state.ws_key, NULL);
    }
    pthread_mutex_unlock(&grok__state.pool_busy);
}

/* n >= 1: use n threads (caller included); n <= 0: default.  Returns 1 if
   n > 64, 2 if called while a parallel region runs (e.g. from a task). */
GROKDEF int grok_threads_set(int n)
{
    if (n > GROK__MAX_THREADS) { grok__fail(GROK_ERR_ARG, "grok_threads_set: %d threads, at most %d", n, GROK__MAX_THREADS); return 1; }
    if (n <= 0) n = grok__default_threads();
    if (pthread_mutex_trylock(&grok__state.pool_busy) != 0) return 2;
    if (n != grok__state.pool_nworkers + 1) grok__pool_stop();
    pthread_mutex_lock(&grok__state.pool_mu);
    grok__state.pool_nthreads = n;
    pthread_mutex_unlock(&grok__state.pool_mu);
    pthread_mutex_unlock(&grok__state.pool_busy);
    return 0;
}

GROKDEF int grok_threads_get(void)
{
    return grok__pool_size();
}

/* ---- Micro-kernels.  Contract (all kernels):
     a: packed MR x kc strip, A(i,k) = a[k*MR + i] ("k-major", fn) or
        a[i*GROK__KC + k] ("rows", fn_rows: packing non-transposed A is then
        a plain row copy instead of a transpose)
     b: packed kc x NR strip, B(k,j) = b[k*NR + j]
     c: MR x NR tile with row stride ldc
     acc[i][j] = sum_k A(i,k) * B(k,j)   (k ascending, one FMA chain per lane,
                                          so both A layouts give identical bits)
     c = alpha*acc             if beta == 0 (c not read)
     c = alpha*acc + c         if beta == 1
     c = alpha*acc + beta*c    otherwise
   --------------------------------------------------------------------- */

#define GROK__KC 256     /* K block: fixed, so sums never depend on threading */
#define GROK__MR_MAX 14
#define GROK__NR_MAX 32

typedef void (*grok__ukernel_fn)(int kc, const float *a, const float *b, float *c,
                                 ptrdiff_t ldc, float alpha, float beta);
/* The same with A read in place: row i's value for k is a[i*lda + k]. */
typedef void (*grok__ukernel_lda_fn)(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                     ptrdiff_t ldc, float alpha, float beta);
/* The lda kernel with ReLU's backward fused into its stores (see grok__epilogue.bits). */
typedef void (*grok__ukernel_lda_bits_fn)(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                          ptrdiff_t ldc, float alpha, float beta, const uint16_t *bits, ptrdiff_t ldbits);
/* Four rows of a tile, row i's value for k at a[i*rs + k*step]. */
typedef void (*grok__ukernel4_fn)(int kc, const float *a, ptrdiff_t rs, ptrdiff_t step, const float *b, float *c,
                                  ptrdiff_t ldc, float alpha, float beta);

/* What a GEMM does to each finished tile of C while it is still in L1, so that the layers
   need no separate pass over memory: c += bias[col]; then relu: c = c > 0 ? c : 0, or
   mask: c = mask[row*ldm + col] > 0 ? c : 0 (ReLU's backward, given the ReLU's output), or
   the same mask as bits: c = bit col%16 of bits[row*ldbits + col/16] ? c : 0 (what
   grok__kernel.positive_bits made of the ReLU's output: 16 times less to read). */
typedef struct {
    const float *bias;
    int relu;
    const float *mask;
    int ldm;
    const uint16_t *bits;
    int ldbits;
} grok__epilogue;

/* c (n) += bias; then ReLU, or the ReLU mask (floats or bits, bits[0] covering c[0..15]);
   each NULL/0 part skipped. Every variant gives the same bits: max(c, 0) returns +0 for -0
   and NaN, as grok__mask_positive does. */
typedef void (*grok__epilogue_fn)(float *c, const float *bias, int relu, const float *mask, const uint16_t *bits, int n);
/* out[w] (n/16 rounded up): bit b set iff x[16w + b] > 0 (a NaN counts as not positive). */
typedef void (*grok__bits_fn)(const float *x, int n, uint16_t *out);

static void grok__epilogue_generic(float *c, const float *bias, int relu, const float *mask, const uint16_t *bits, int n)
{
    int j;
    if (bias)
        for (j = 0; j < n; j++) c[j] += bias[j];
    if (relu)
        for (j = 0; j < n; j++) c[j] = grok__mask_positive(c[j], c[j]);
    if (mask)
        for (j = 0; j < n; j++) c[j] = grok__mask_positive(mask[j], c[j]);
    if (bits)
        for (j = 0; j < n; j++) c[j] = bits[j / 16] >> (j % 16) & 1 ? c[j] : 0.0f;
}

static void grok__bits_generic(const float *x, int n, uint16_t *out)
{
    int j;
    for (j = 0; j < n; j++) {
        if (j % 16 == 0) out[j / 16] = 0;
        if (x[j] > 0.0f) out[j / 16] |= (uint16_t)(1u << (j % 16));
    }
}

/* Softmax numerators of one row: best = the first maximum of x (n) (NaNs skipped, but 0 if
   x[0] is NaN, as the plain loop "if (x[v] > x[best]) best = v" finds), e (n) =
   exp(x - x[best]), returns their sum in double, summed in 8 lanes (lane l takes e[l], e[l+8],
   ... in order) then over the lanes as grok__sum8 does. The exp is grok__expf's, one rounding
   per step in every variant, so all kernels give the same bits. */
typedef double (*grok__softmax_fn)(float *e, const float *x, int n, int *best);

static double grok__sum8(const double *s)
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static double grok__softmax_generic(float *e, const float *x, int n, int *best)
{
    double s[8] = {0};
    float mx;
    int v, b = 0;
    for (v = 1; v < n; v++) if (x[v] > x[b]) b = v;
    mx = x[b];
    for (v = 0; v < n; v++) {
        e[v] = grok__expf(x[v] - mx);
        s[v % 8] += e[v];
    }
    *best = b;
    return grok__sum8(s);
}

/* AdamW's per-element update (grok__adamw_params has the formula) with its float constants:
   p, m, v (n) updated from g (n). Every variant does the same float operations in the same
   order, unfused (sqrt and division are correctly rounded in each), so all give the same bits.
   Returns nonzero when an updated p is NaN or infinite: the NaN guard of grok_train, for the
   price of a compare on values in registers instead of a pass over the weights. */
typedef struct {
    float lr_wd_keep, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps;
} grok__adamw_consts;
typedef int (*grok__adamw_fn)(float *p, float *m, float *v, const float *g, long n, const grok__adamw_consts *c);
#define GROK__EXP_BITS 0x7f800000u /* a float's exponent field: all ones for NaN and infinity */
/* Compilers contract a*b + c into an FMA where the target has one: g++ across statements,
   in C++ even with -std=c++17 (gcc in its GNU C modes), clang within an expression. It would
   happen in the vector variants' intrinsics (g++) or in the portable loop where it is
   inlined as their tail (clang), not elsewhere: these functions keep every product rounded. */
#if defined(__GNUC__) && !defined(__clang__)
#define GROK__NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define GROK__NO_CONTRACT
#endif
#if defined(__clang__)
#define GROK__CONTRACT_OFF _Pragma("clang fp contract(off)")
#else
#define GROK__CONTRACT_OFF
#endif

GROK__NO_CONTRACT static int grok__adamw_generic(float *p, float *m, float *v, const float *g, long n, const grok__adamw_consts *c)
{
    GROK__CONTRACT_OFF
    long i;
    uint32_t u, bad = 0;
    for (i = 0; i < n; i++) {
        float gi = g[i], mi, vi, denom;
        p[i] *= c->lr_wd_keep;
        mi = m[i] + c->one_minus_beta1 * (gi - m[i]); /* torch: exp_avg.lerp_(grad, 1 - beta1) */
        vi = v[i] * c->beta2 + c->one_minus_beta2 * gi * gi;
        denom = sqrtf(vi) / c->bc2_sqrt + c->eps;
        p[i] += -c->step_size * mi / denom; /* torch: p.addcdiv_(m, denom, value=-step_size) */
        m[i] = mi;
        v[i] = vi;
        memcpy(&u, p + i, 4);
        bad |= (u & GROK__EXP_BITS) == GROK__EXP_BITS;
    }
    return (int)bad;
}

/* Vector primitives of the folded training path (grok__fold_*), in the kernel's ISA.
   madd: y[q] (n) += sum over e = 0..nx-1, in order, of alpha[e*ny + q] * x[e] (n), for
   q < ny; one multiply-add per term, so it equals nx*ny separate axpys, but each x[e] is
   loaded once and the y[q] stay in registers. dots: out[q] = x . y[q] (n), each summed in 16
   lanes (lane l takes the elements l, l+16, ...) then over the lanes in order 0..15. The
   AVX-512 and AVX2 variants fuse every multiply-add and give the same bits. */
typedef void (*grok__madd_fn)(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n);
/* scatter: madd's update of y[0..ny-1] and, for q < nt <= ny, dots[e*nt + q] = x[e] . t[q]
   (summed in 16 lanes as described above). */
typedef void (*grok__scatter_fn)(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n,
                                 const float *const *t, int nt, float *dots);

static void grok__madd_generic(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n)
{
    int q, e, k;
    for (q = 0; q < ny; q++)
        for (e = 0; e < nx; e++)
            for (k = 0; k < n; k++) y[q][k] += alpha[e * ny + q] * x[e][k];
}

static void grok__scatter_generic(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n,
                                  const float *const *t, int nt, float *dots)
{
    int q, e, k, l;
    for (e = 0; e < nx; e++) {
        for (q = 0; q < ny; q++)
            for (k = 0; k < n; k++) y[q][k] += alpha[e * ny + q] * x[e][k];
        for (q = 0; q < nt; q++) {
            float lane[16] = {0}, s = 0.0f;
            for (k = 0; k < n; k++) lane[k % 16] += x[e][k] * t[q][k];
            for (l = 0; l < 16; l++) s += lane[l];
            dots[e * nt + q] = s;
        }
    }
}

typedef struct grok__kernel {
    const char *name;
    int mr, nr; /* register tile */
    int mc, nc; /* cache blocks: A block mc x KC, B panel KC x nc (~L2) */
    grok__ukernel_fn fn;      /* A strip packed k-major: a[k*MR + i] */
    grok__ukernel_fn fn_rows; /* A strip packed row-major, a[i*GROK__KC + k]; NULL if absent */
    grok__ukernel_lda_fn fn_lda; /* A strip read in place, a[i*lda + k]; NULL if absent */
    grok__ukernel4_fn fn4;       /* 4 rows of a packed strip, for partial strips; NULL if absent */
    grok__ukernel_lda_bits_fn fn_lda_bits; /* fn_lda with a bits epilogue; NULL if absent */
    grok__epilogue_fn epilogue;
    grok__bits_fn positive_bits;
    grok__madd_fn madd;
    grok__scatter_fn scatter;
    grok__softmax_fn softmax;
    grok__adamw_fn adamw;
} grok__kernel;

/* Portable 4x16 kernel; the compiler may vectorise the j loops. */
static void grok__ukr_generic(int kc, const float *a, const float *b, float *c,
                              ptrdiff_t ldc, float alpha, float beta)
{
    float acc[4][16];
    int i, j, k;
    memset(acc, 0, sizeof acc);
    for (k = 0; k < kc; k++, a += 4, b += 16)
        for (i = 0; i < 4; i++)
            for (j = 0; j < 16; j++) acc[i][j] += a[i] * b[j];
    for (i = 0; i < 4; i++, c += ldc)
        for (j = 0; j < 16; j++) {
            float r = alpha * acc[i][j];
            c[j] = beta == 0.0f ? r : beta == 1.0f ? r + c[j] : r + beta * c[j];
        }
}

static const grok__kernel grok__kernel_generic = { "generic", 4, 16, 128, 512, grok__ukr_generic, NULL, NULL, NULL, NULL, grok__epilogue_generic, grok__bits_generic,
                                                   grok__madd_generic, grok__scatter_generic, grok__softmax_generic, grok__adamw_generic };

#if GROK__X86

/* Stores one 16-wide row segment of a tile according to the beta contract. */
__attribute__((target("avx512f")))
static inline void grok__upd512(float *c, __m512 acc, __m512 va, __m512 vb, float beta, __mmask16 keep)
{
    __m512 r;
    if (beta == 0.0f)
        r = _mm512_mul_ps(va, acc);
    else if (beta == 1.0f)
        r = _mm512_fmadd_ps(va, acc, _mm512_loadu_ps(c));
    else
        r = _mm512_fmadd_ps(va, acc, _mm512_mul_ps(vb, _mm512_loadu_ps(c)));
    _mm512_storeu_ps(c, _mm512_maskz_mov_ps(keep, r));
}

#define GROK__ROWS14(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

#define GROK__ROWS4(X) X(0) X(1) X(2) X(3)

/* AVX-512 kernel body for the rows that ROWS lists, 32 columns: with 14 rows, 28 zmm
   accumulators + 2 B vectors + 1 broadcast fill the 32 registers, and 28 FMAs per 16 loads keep
   the FMA pipes busy. Row i's value for the current k is a[i*rs]; a advances by step per k.
   Inlined into each layout variant so rs and step become constant displacements. */
#define GROK__Z(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define GROK__F(i) { __m512 ai = _mm512_set1_ps(a[(i) * rs]);   \
                     c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0); \
                     c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1); }
#define GROK__S(i) grok__upd512(c + (i) * ldc, c##i##0, va, vb, beta, bits ? bits[(i) * ldbits] : 0xFFFF); \
                   grok__upd512(c + (i) * ldc + 16, c##i##1, va, vb, beta, bits ? bits[(i) * ldbits + 1] : 0xFFFF);
#define GROK__AVX512_TILE(ROWS)                                              \
    ROWS(GROK__Z)                                                            \
    int k;                                                                   \
    for (k = 0; k < kc; k++, a += step, b += 32) {                           \
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);        \
        ROWS(GROK__F)                                                        \
    }                                                                        \
    {                                                                        \
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);        \
        ROWS(GROK__S)                                                        \
    }

__attribute__((target("avx512f"), always_inline))
static inline void grok__avx512_body(int kc, const float *a, const float *b, float *c,
                                     ptrdiff_t ldc, float alpha, float beta,
                                     const ptrdiff_t rs, const ptrdiff_t step, const uint16_t *bits, ptrdiff_t ldbits)
{
    GROK__AVX512_TILE(GROK__ROWS14)
}

/* Four rows of a partial strip (a kernel edge): each element's arithmetic is that of the
   14-row kernel, in a third of its time for the 1-4 rows left at the bottom of M = 128. */
__attribute__((target("avx512f")))
static void grok__ukr_avx512_4(int kc, const float *a, ptrdiff_t rs, ptrdiff_t step, const float *b, float *c,
                               ptrdiff_t ldc, float alpha, float beta)
{
    const uint16_t *bits = NULL;
    const ptrdiff_t ldbits = 0;
    GROK__AVX512_TILE(GROK__ROWS4)
}
#undef GROK__AVX512_TILE
#undef GROK__Z
#undef GROK__F
#undef GROK__S
#undef GROK__ROWS4

/* A strip packed k-major: a[k*14 + i]. */
__attribute__((target("avx512f")))
static void grok__ukr_avx512(int kc, const float *a, const float *b, float *c,
                             ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx512_body(kc, a, b, c, ldc, alpha, beta, 1, 14, NULL, 0);
}

/* A strip packed row-major: a[i*GROK__KC + k]. */
__attribute__((target("avx512f")))
static void grok__ukr_avx512_rows(int kc, const float *a, const float *b, float *c,
                                  ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx512_body(kc, a, b, c, ldc, alpha, beta, GROK__KC, 1, NULL, 0);
}

/* A read in place: a[i*lda + k]. */
__attribute__((target("avx512f")))
static void grok__ukr_avx512_lda(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                 ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx512_body(kc, a, b, c, ldc, alpha, beta, lda, 1, NULL, 0);
}

/* The same, then each element zeroed where its bit in bits (two 16-bit words per row, rows
   ldbits words apart) is clear: ReLU's backward applied as the tile is stored. */
__attribute__((target("avx512f")))
static void grok__ukr_avx512_lda_bits(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                      ptrdiff_t ldc, float alpha, float beta, const uint16_t *bits, ptrdiff_t ldbits)
{
    grok__avx512_body(kc, a, b, c, ldc, alpha, beta, lda, 1, bits, ldbits);
}

#undef GROK__ROWS14

/* Stores one 8-wide row segment of a tile according to the beta contract, zeroing the lanes
   that keep (all ones or all zeros per lane) clears. */
__attribute__((target("avx2,fma")))
static inline void grok__upd256(float *c, __m256 acc, __m256 va, __m256 vb, float beta, __m256 keep)
{
    __m256 r;
    if (beta == 0.0f)
        r = _mm256_mul_ps(va, acc);
    else if (beta == 1.0f)
        r = _mm256_fmadd_ps(va, acc, _mm256_loadu_ps(c));
    else
        r = _mm256_fmadd_ps(va, acc, _mm256_mul_ps(vb, _mm256_loadu_ps(c)));
    _mm256_storeu_ps(c, _mm256_and_ps(r, keep));
}

/* The lanes of 8 bits of a mask word as a keep mask (all ones where the bit is set). */
__attribute__((target("avx2,fma")))
static inline __m256 grok__keep256(unsigned bits8)
{
    const __m256i lanebit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits8), lanebit), lanebit));
}

#define GROK__ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* AVX2 6x16 kernel body: 12 ymm accumulators + 2 B vectors + 1 broadcast
   of the 16 registers.  A indexing and bits as in grok__avx512_body (one 16-bit word per row). */
__attribute__((target("avx2,fma"), always_inline))
static inline void grok__avx2_body(int kc, const float *a, const float *b, float *c,
                                   ptrdiff_t ldc, float alpha, float beta,
                                   const ptrdiff_t rs, const ptrdiff_t step, const uint16_t *bits, ptrdiff_t ldbits)
{
#define GROK__Z(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define GROK__F(i) { __m256 ai = _mm256_broadcast_ss(a + (i) * rs);  \
                     c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0); \
                     c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1); }
#define GROK__S(i) grok__upd256(c + (i) * ldc, c##i##0, va, vb, beta, bits ? grok__keep256(bits[(i) * ldbits] & 0xFFu) : all); \
                   grok__upd256(c + (i) * ldc + 8, c##i##1, va, vb, beta, bits ? grok__keep256((unsigned)bits[(i) * ldbits] >> 8) : all);
    GROK__ROWS6(GROK__Z)
    int k;
    for (k = 0; k < kc; k++, a += step, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        GROK__ROWS6(GROK__F)
    }
    {
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        GROK__ROWS6(GROK__S)
    }
#undef GROK__Z
#undef GROK__F
#undef GROK__S
}

__attribute__((target("avx2,fma")))
static void grok__ukr_avx2(int kc, const float *a, const float *b, float *c,
                           ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx2_body(kc, a, b, c, ldc, alpha, beta, 1, 6, NULL, 0);
}

__attribute__((target("avx2,fma")))
static void grok__ukr_avx2_rows(int kc, const float *a, const float *b, float *c,
                                ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx2_body(kc, a, b, c, ldc, alpha, beta, GROK__KC, 1, NULL, 0);
}

__attribute__((target("avx2,fma")))
static void grok__ukr_avx2_lda(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                               ptrdiff_t ldc, float alpha, float beta)
{
    grok__avx2_body(kc, a, b, c, ldc, alpha, beta, lda, 1, NULL, 0);
}

/* The same with ReLU's backward applied as the tile is stored (grok__ukr_avx512_lda_bits). */
__attribute__((target("avx2,fma")))
static void grok__ukr_avx2_lda_bits(int kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                    ptrdiff_t ldc, float alpha, float beta, const uint16_t *bits, ptrdiff_t ldbits)
{
    grok__avx2_body(kc, a, b, c, ldc, alpha, beta, lda, 1, bits, ldbits);
}

#undef GROK__ROWS6

__attribute__((target("avx2,fma")))
static void grok__epilogue_avx2(float *c, const float *bias, int relu, const float *mask, const uint16_t *bits, int n)
{
    const __m256 zero = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(c + j);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
        if (relu) v = _mm256_max_ps(v, zero);
        if (mask) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(mask + j), zero, _CMP_GT_OQ));
        if (bits) v = _mm256_and_ps(v, grok__keep256((unsigned)(bits[j / 16] >> (j % 16)) & 0xFFu));
        _mm256_storeu_ps(c + j, v);
    }
    if (j < n) {
        uint16_t rest = bits ? (uint16_t)(bits[j / 16] >> (j % 16)) : 0;
        grok__epilogue_generic(c + j, bias ? bias + j : NULL, relu, mask ? mask + j : NULL, bits ? &rest : NULL, n - j);
    }
}

__attribute__((target("avx2,fma")))
static void grok__bits_avx2(const float *x, int n, uint16_t *out)
{
    const __m256 zero = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        unsigned lo = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), zero, _CMP_GT_OQ));
        unsigned hi = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j + 8), zero, _CMP_GT_OQ));
        out[j / 16] = (uint16_t)(lo | hi << 8);
    }
    if (j < n) grok__bits_generic(x + j, n - j, out + j / 16);
}

/* grok__expf's steps up to y = e^r and u (whose low bits hold k) on vectors of type T, with
   W the intrinsics' prefix; the callers make 2^k and the mask in their ISA. */
#define GROK__EXP_STEPS(W, T)                                                                \
    T u = W##_fmadd_ps(t, W##_set1_ps(GROK__EXP_LOG2E), W##_set1_ps(GROK__EXP_SHIFT));       \
    T k = W##_sub_ps(u, W##_set1_ps(GROK__EXP_SHIFT)), r, p, y, scale;                       \
    r = W##_fmadd_ps(k, W##_set1_ps(-GROK__EXP_LN2_HI), t);                                   \
    r = W##_fmadd_ps(k, W##_set1_ps(-GROK__EXP_LN2_LO), r);                                   \
    p = W##_fmadd_ps(W##_set1_ps(GROK__EXP_P0), r, W##_set1_ps(GROK__EXP_P1));               \
    p = W##_fmadd_ps(p, r, W##_set1_ps(GROK__EXP_P2));                                       \
    p = W##_fmadd_ps(p, r, W##_set1_ps(GROK__EXP_P3));                                       \
    p = W##_fmadd_ps(p, r, W##_set1_ps(GROK__EXP_P4));                                       \
    p = W##_fmadd_ps(p, r, W##_set1_ps(GROK__EXP_P5));                                       \
    y = W##_add_ps(W##_fmadd_ps(p, W##_mul_ps(r, r), r), W##_set1_ps(1.0f));

/* grok__expf on 8 lanes (t <= 0 or NaN). */
__attribute__((target("avx2,fma")))
static __m256 grok__exp_avx2(__m256 t)
{
    GROK__EXP_STEPS(_mm256, __m256)
    scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(u), _mm256_set1_epi32(127)), 23));
    return _mm256_and_ps(_mm256_mul_ps(y, scale), _mm256_cmp_ps(t, _mm256_set1_ps(GROK__EXP_MIN), _CMP_NLT_UQ));
}

__attribute__((target("avx2,fma")))
static double grok__softmax_avx2(float *e, const float *x, int n, int *best)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    __m256 vmax = _mm256_set1_ps(-INFINITY), mx;
    double s[8];
    int v, b = 0;
    /* max_ps(x, m) returns m where x is NaN: the maximum of the other entries */
    for (v = 0; v + 8 <= n; v += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(x + v), vmax);
    for (; v < n; v++) vmax = _mm256_max_ps(_mm256_set1_ps(x[v]), vmax);
    vmax = _mm256_max_ps(vmax, _mm256_permute2f128_ps(vmax, vmax, 1));
    vmax = _mm256_max_ps(vmax, _mm256_shuffle_ps(vmax, vmax, 0x4E));
    vmax = _mm256_max_ps(vmax, _mm256_shuffle_ps(vmax, vmax, 0xB1));
    for (v = 0; v < n && x[v] != _mm256_cvtss_f32(vmax); v++) {}
    b = v < n && x[0] == x[0] ? v : 0; /* the portable loop's answer with NaNs too */
    mx = _mm256_set1_ps(x[b]);
    for (v = 0; v < n; v += 8) {
        __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 ev = _mm256_and_ps(grok__exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(x + v, keep), mx)), _mm256_castsi256_ps(keep));
        _mm256_maskstore_ps(e + v, keep, ev);
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(ev)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(ev, 1)));
    }
    _mm256_storeu_pd(s, lo);
    _mm256_storeu_pd(s + 4, hi);
    *best = b;
    return grok__sum8(s);
}

/* grok__adamw_generic on 8 lanes, the tail by it. */
#define GROK__ADAMW_STEP(W, SQRT, P, M, V, G)                                                \
    P = W##_mul_ps(P, keep);                                                                 \
    M = W##_add_ps(M, W##_mul_ps(omb1, W##_sub_ps(G, M)));                                   \
    V = W##_add_ps(W##_mul_ps(V, b2), W##_mul_ps(W##_mul_ps(omb2, G), G));                   \
    P = W##_add_ps(P, W##_div_ps(W##_mul_ps(nstep, M), W##_add_ps(W##_div_ps(SQRT(V), bc2), eps)));
#define GROK__ADAMW_CONSTS(W, T)                                                             \
    const T keep = W##_set1_ps(c->lr_wd_keep), omb1 = W##_set1_ps(c->one_minus_beta1), \
        b2 = W##_set1_ps(c->beta2), omb2 = W##_set1_ps(c->one_minus_beta2), nstep = W##_set1_ps(-c->step_size), \
        bc2 = W##_set1_ps(c->bc2_sqrt), eps = W##_set1_ps(c->eps);
__attribute__((target("avx2,fma"))) GROK__NO_CONTRACT
static int grok__adamw_avx2(float *p, float *m, float *v, const float *g, long n, const grok__adamw_consts *c)
{
    GROK__ADAMW_CONSTS(_mm256, __m256)
    const __m256i expo = _mm256_set1_epi32((int)GROK__EXP_BITS);
    __m256i bad = _mm256_setzero_si256();
    long i;
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 pv = _mm256_loadu_ps(p + i), mv = _mm256_loadu_ps(m + i), vv = _mm256_loadu_ps(v + i), gv = _mm256_loadu_ps(g + i);
        GROK__ADAMW_STEP(_mm256, _mm256_sqrt_ps, pv, mv, vv, gv)
        _mm256_storeu_ps(p + i, pv);
        _mm256_storeu_ps(m + i, mv);
        _mm256_storeu_ps(v + i, vv);
        bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(pv), expo), expo));
    }
    return (!_mm256_testz_si256(bad, bad)) | grok__adamw_generic(p + i, m + i, v + i, g + i, n - i, c);
}

__attribute__((target("avx512f")))
static void grok__epilogue_avx512(float *c, const float *bias, int relu, const float *mask, const uint16_t *bits, int n)
{
    const __m512 zero = _mm512_setzero_ps();
    int j;
    for (j = 0; j < n; j += 16) {
        __mmask16 k = (__mmask16)(n - j >= 16 ? 0xFFFF : (1u << (n - j)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(k, c + j);
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + j));
        if (relu) v = _mm512_mask_max_ps(v, 0xFFFF, v, zero); /* = max_ps; g++ 12 -O2 warns on max_ps's undefined source */
        if (mask) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(k, mask + j), zero, _CMP_GT_OQ), v);
        if (bits) v = _mm512_maskz_mov_ps((__mmask16)bits[j / 16], v);
        _mm512_mask_storeu_ps(c + j, k, v);
    }
}

__attribute__((target("avx512f")))
static void grok__bits_avx512(const float *x, int n, uint16_t *out)
{
    const __m512 zero = _mm512_setzero_ps();
    int j;
    for (j = 0; j < n; j += 16) {
        __mmask16 k = (__mmask16)(n - j >= 16 ? 0xFFFF : (1u << (n - j)) - 1u);
        out[j / 16] = (uint16_t)_mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, x + j), zero, _CMP_GT_OQ);
    }
}

/* The lanes of 16 columns from k that are below n (none when k >= n). */
static __mmask16 grok__m512_mask(int k, int n)
{
    return (__mmask16)(k >= n ? 0u : n - k >= 16 ? 0xFFFFu : (1u << (n - k)) - 1u);
}

/* grok__expf on 16 lanes (t <= 0 or NaN). */
__attribute__((target("avx512f")))
static __m512 grok__exp_avx512(__m512 t)
{
    GROK__EXP_STEPS(_mm512, __m512)
    scale = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_add_epi32(_mm512_castps_si512(u), _mm512_set1_epi32(127)), 23));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, _mm512_set1_ps(GROK__EXP_MIN), _CMP_NLT_UQ), _mm512_mul_ps(y, scale));
}

__attribute__((target("avx512f")))
static double grok__softmax_avx512(float *e, const float *x, int n, int *best)
{
    __m512d acc = _mm512_setzero_pd();
    __m512 vmax = _mm512_set1_ps(-INFINITY), mx;
    __m256 lo, hi;
    double s[8];
    float top, lanes[16];
    int v, b = 0;
    for (v = 0; v < n; v += 16) {
        __mmask16 k = (__mmask16)(n - v >= 16 ? 0xFFFF : (1u << (n - v)) - 1u);
        /* max_ps(x, m) returns m where x is NaN: the maximum of the other entries */
        vmax = _mm512_mask_max_ps(vmax, 0xFFFF, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x + v), vmax);
    }
    _mm512_storeu_ps(lanes, vmax);
    for (top = lanes[0], v = 1; v < 16; v++) top = lanes[v] > top ? lanes[v] : top;
    for (v = 0; v < n && x[0] == x[0]; v += 16) { /* x[0] NaN: 0, as the portable loop */
        __mmask16 k = (__mmask16)(n - v >= 16 ? 0xFFFF : (1u << (n - v)) - 1u);
        unsigned hit = _mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, x + v), _mm512_set1_ps(top), _CMP_EQ_OQ);
        if (hit) { b = v + __builtin_ctz(hit); break; }
    }
    mx = _mm512_set1_ps(x[b]);
    for (v = 0; v < n; v += 16) {
        __mmask16 k = (__mmask16)(n - v >= 16 ? 0xFFFF : (1u << (n - v)) - 1u);
        __m512 ev = _mm512_maskz_mov_ps(k, grok__exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + v), mx)));
        _mm512_mask_storeu_ps(e + v, k, ev);
        /* the maskz forms throughout: g++ 12 warns on the plain ones' undefined sources */
        lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(ev), 0));
        hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(ev), 1));
        acc = _mm512_add_pd(acc, _mm512_maskz_cvtps_pd(0xFF, lo));
        acc = _mm512_add_pd(acc, _mm512_maskz_cvtps_pd(0xFF, hi));
    }
    _mm512_storeu_pd(s, acc);
    *best = b;
    return grok__sum8(s);
}

/* grok__adamw_generic on 16 lanes, the tail masked. The maskz sqrt: g++ 12 warns on the plain
   one's undefined source. */
#define GROK__SQRT512(x) _mm512_maskz_sqrt_ps(0xFFFF, x)
__attribute__((target("avx512f"))) GROK__NO_CONTRACT
static int grok__adamw_avx512(float *p, float *m, float *v, const float *g, long n, const grok__adamw_consts *c)
{
    GROK__ADAMW_CONSTS(_mm512, __m512)
    const __m512i expo = _mm512_set1_epi32((int)GROK__EXP_BITS);
    __mmask16 bad = 0;
    long i;
    for (i = 0; i < n; i += 16) {
        __mmask16 k = grok__m512_mask(0, (int)(n - i < 16 ? n - i : 16));
        __m512 pv = _mm512_maskz_loadu_ps(k, p + i), mv = _mm512_maskz_loadu_ps(k, m + i);
        __m512 vv = _mm512_maskz_loadu_ps(k, v + i), gv = _mm512_maskz_loadu_ps(k, g + i);
        GROK__ADAMW_STEP(_mm512, GROK__SQRT512, pv, mv, vv, gv)
        _mm512_mask_storeu_ps(p + i, k, pv);
        _mm512_mask_storeu_ps(m + i, k, mv);
        _mm512_mask_storeu_ps(v + i, k, vv);
        bad |= _mm512_mask_cmpeq_epi32_mask(k, _mm512_and_epi32(_mm512_castps_si512(pv), expo), expo);
    }
    return bad != 0;
}

/* madd and dots sweep the columns once per group of 8, 4, 2 or 1 outputs, whose
   accumulators are named registers (one function per group size, from the macros below). */
#define GROK__Q1(X) X(0)
#define GROK__Q2(X) X(0) X(1)
#define GROK__Q4(X) X(0) X(1) X(2) X(3)
#define GROK__Q8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define GROK__MADD_GROUPS(CALL, ny, maxq) {                                                   \
        int q0_ = 0;                                                                          \
        while (q0_ < (ny)) {                                                                  \
            int left_ = (ny) - q0_;                                                           \
            int nq_ = left_ >= 8 && (maxq) >= 8 ? 8 : left_ >= 4 ? 4 : left_ >= 2 ? 2 : 1;    \
            CALL(nq_, q0_);                                                                   \
            q0_ += nq_;                                                                       \
        }                                                                                     \
    }

/* avx512: 16 columns per step, the tail masked (masked-off lanes are neither read nor written). */
#define GROK__MA512_LOAD(i) __m512 acc##i = _mm512_maskz_loadu_ps(msk, y[i] + k);
#define GROK__MA512_FMA(i) acc##i = _mm512_fmadd_ps(_mm512_set1_ps(al[i]), v, acc##i);
#define GROK__MA512_STORE(i) _mm512_mask_storeu_ps(y[i] + k, msk, acc##i);
#define GROK__MADD512(NAME, QL)                                                               \
    __attribute__((target("avx512f")))                                                        \
    static void NAME(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n) \
    {                                                                                         \
        int e, k;                                                                             \
        for (k = 0; k < n; k += 16) {                                                         \
            __mmask16 msk = grok__m512_mask(k, n);                                            \
            QL(GROK__MA512_LOAD)                                                              \
            for (e = 0; e < nx; e++) {                                                        \
                __m512 v = _mm512_maskz_loadu_ps(msk, x[e] + k);                              \
                const float *al = alpha + (ptrdiff_t)e * ny;                                  \
                QL(GROK__MA512_FMA)                                                           \
            }                                                                                 \
            QL(GROK__MA512_STORE)                                                             \
        }                                                                                     \
    }
GROK__MADD512(grok__madd512_2, GROK__Q2)
GROK__MADD512(grok__madd512_4, GROK__Q4)
GROK__MADD512(grok__madd512_8, GROK__Q8)

/* One output row: 4 column blocks of 16 at a time, the last ones masked, so that 4
   independent chains of nx FMAs hide the FMA latency (with one chain per block the core
   waited on it: one FMA per 4 cycles). Each element's sum is the same as the groups'. */
__attribute__((target("avx512f")))
static void grok__madd512_1(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n)
{
    float *yr = y[0];
    int e, k;
    for (k = 0; k < n; k += 64) {
        __mmask16 m0 = grok__m512_mask(k, n), m1 = grok__m512_mask(k + 16, n);
        __mmask16 m2 = grok__m512_mask(k + 32, n), m3 = grok__m512_mask(k + 48, n);
        __m512 a0 = _mm512_maskz_loadu_ps(m0, yr + k), a1 = _mm512_maskz_loadu_ps(m1, yr + k + 16);
        __m512 a2 = _mm512_maskz_loadu_ps(m2, yr + k + 32), a3 = _mm512_maskz_loadu_ps(m3, yr + k + 48);
        for (e = 0; e < nx; e++) {
            const float *xe = x[e] + k;
            __m512 al = _mm512_set1_ps(alpha[(ptrdiff_t)e * ny]);
            a0 = _mm512_fmadd_ps(al, _mm512_maskz_loadu_ps(m0, xe), a0);
            a1 = _mm512_fmadd_ps(al, _mm512_maskz_loadu_ps(m1, xe + 16), a1);
            a2 = _mm512_fmadd_ps(al, _mm512_maskz_loadu_ps(m2, xe + 32), a2);
            a3 = _mm512_fmadd_ps(al, _mm512_maskz_loadu_ps(m3, xe + 48), a3);
        }
        _mm512_mask_storeu_ps(yr + k, m0, a0);
        _mm512_mask_storeu_ps(yr + k + 16, m1, a1);
        _mm512_mask_storeu_ps(yr + k + 32, m2, a2);
        _mm512_mask_storeu_ps(yr + k + 48, m3, a3);
    }
}

/* One ISA's madd from its group functions NAME##_8, _4, _2, _1. */
#define GROK__MADD(NAME, TARGET, GROUP)                                                       \
    __attribute__((target(TARGET)))                                                           \
    static void NAME(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n) \
    {                                                                                         \
        GROK__MADD_GROUPS(GROK__MADD_CALL_##GROUP, ny, 8)                                     \
    }
#define GROK__MADD_CALL_512(nq, q0)                                                           \
    if (nq == 8) grok__madd512_8(y + q0, ny, x, alpha + q0, nx, n);                           \
    else if (nq == 4) grok__madd512_4(y + q0, ny, x, alpha + q0, nx, n);                      \
    else if (nq == 2) grok__madd512_2(y + q0, ny, x, alpha + q0, nx, n);                      \
    else grok__madd512_1(y + q0, ny, x, alpha + q0, nx, n);
#define GROK__MADD_CALL_256(nq, q0)                                                           \
    if (nq == 8) grok__madd256_8(y + q0, ny, x, alpha + q0, nx, n);                           \
    else if (nq == 4) grok__madd256_4(y + q0, ny, x, alpha + q0, nx, n);                      \
    else if (nq == 2) grok__madd256_2(y + q0, ny, x, alpha + q0, nx, n);                      \
    else grok__madd256_1(y + q0, ny, x, alpha + q0, nx, n);
GROK__MADD(grok__madd_avx512, "avx512f", 512)

/* Finishes a 16-lane dot: elements k0..n-1 (fewer than 16) into lanes 0.., fused, then the
   lanes in order. */
static float grok__lanes_sum(float *lane, const float *x, const float *t, int k0, int n)
{
    float s = 0.0f;
    int l;
    for (l = 0; k0 + l < n; l++) lane[l] = fmaf(x[k0 + l], t[k0 + l], lane[l]);
    for (l = 0; l < 16; l++) s += lane[l];
    return s;
}

/* avx512 dots of 4 x rows with 4 t rows at a time: 16 accumulators, so each loaded vector
   feeds 4 FMAs; then the 16 lane sums side by side (their chains are independent). Missing
   rows of a block repeat the last one and their dots are dropped. The x rows (query
   gradients, 2.5 KB each, out in L3) are too short for the hardware prefetcher: the next 4
   are prefetched alongside (15% off the scatter). */
#define GROK__DX512_ZERO(e) __m512 d##e##0 = _mm512_setzero_ps(), d##e##1 = d##e##0, d##e##2 = d##e##0, d##e##3 = d##e##0;
#define GROK__DX512_FMA(e) { __m512 v = _mm512_loadu_ps(xb[e] + k);                            \
        d##e##0 = _mm512_fmadd_ps(v, t0, d##e##0); d##e##1 = _mm512_fmadd_ps(v, t1, d##e##1);    \
        d##e##2 = _mm512_fmadd_ps(v, t2, d##e##2); d##e##3 = _mm512_fmadd_ps(v, t3, d##e##3); }
#define GROK__DX512_TAIL(e) { __m512 v = _mm512_maskz_loadu_ps(msk, xb[e] + k);                 \
        d##e##0 = _mm512_mask3_fmadd_ps(v, t0, d##e##0, msk); d##e##1 = _mm512_mask3_fmadd_ps(v, t1, d##e##1, msk); \
        d##e##2 = _mm512_mask3_fmadd_ps(v, t2, d##e##2, msk); d##e##3 = _mm512_mask3_fmadd_ps(v, t3, d##e##3, msk); }
#define GROK__DX512_OUT(e) _mm512_storeu_ps(lane[e * 4], d##e##0); _mm512_storeu_ps(lane[e * 4 + 1], d##e##1); \
        _mm512_storeu_ps(lane[e * 4 + 2], d##e##2); _mm512_storeu_ps(lane[e * 4 + 3], d##e##3);
__attribute__((target("avx512f")))
static void grok__dots512_all(const float *const *x, int nx, int n, const float *const *t, int nt, float *dots)
{
    float lane[16][16], s[16];
    const float *xb[4], *tb[4], *xn[4];
    int e0, q0, e, q, l, k;
    for (e0 = 0; e0 < nx; e0 += 4)
        for (q0 = 0; q0 < nt; q0 += 4) {
            for (e = 0; e < 4; e++) {
                xb[e] = x[e0 + e < nx ? e0 + e : nx - 1];
                xn[e] = x[e0 + 4 + e < nx ? e0 + 4 + e : nx - 1];
            }
            for (q = 0; q < 4; q++) tb[q] = t[q0 + q < nt ? q0 + q : nt - 1];
            {
                GROK__Q4(GROK__DX512_ZERO)
                for (k = 0; k + 16 <= n; k += 16) {
                    __m512 t0 = _mm512_loadu_ps(tb[0] + k), t1 = _mm512_loadu_ps(tb[1] + k);
                    __m512 t2 = _mm512_loadu_ps(tb[2] + k), t3 = _mm512_loadu_ps(tb[3] + k);
                    for (e = 0; e < 4; e++) _mm_prefetch((const char *)(xn[e] + k), _MM_HINT_T0);
                    GROK__Q4(GROK__DX512_FMA)
                }
                if (k < n) {
                    __mmask16 msk = grok__m512_mask(k, n);
                    __m512 t0 = _mm512_maskz_loadu_ps(msk, tb[0] + k), t1 = _mm512_maskz_loadu_ps(msk, tb[1] + k);
                    __m512 t2 = _mm512_maskz_loadu_ps(msk, tb[2] + k), t3 = _mm512_maskz_loadu_ps(msk, tb[3] + k);
                    GROK__Q4(GROK__DX512_TAIL)
                }
                GROK__Q4(GROK__DX512_OUT)
            }
            for (q = 0; q < 16; q++) s[q] = 0.0f;
            for (l = 0; l < 16; l++)
                for (q = 0; q < 16; q++) s[q] += lane[q][l];
            for (e = 0; e < 4 && e0 + e < nx; e++)
                for (q = 0; q < 4 && q0 + q < nt; q++) dots[(e0 + e) * nt + q0 + q] = s[e * 4 + q];
        }
}

/* One ISA's scatter from its dots and its madd: every dot first, then one madd over all the
   x, so that the y rows stay in registers across them (updating them per x[e] made it
   load/store-bound: 5 y rows read and written per 4 dots). */
#define GROK__SCATTER(NAME, TARGET, DOTS_ALL, MADD)                                           \
    __attribute__((target(TARGET)))                                                           \
    static void NAME(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n, \
                     const float *const *t, int nt, float *dots)                              \
    {                                                                                         \
        if (nt > 0) DOTS_ALL(x, nx, n, t, nt, dots);                                          \
        MADD(y, ny, x, alpha, nx, n);                                                         \
    }
GROK__SCATTER(grok__scatter_avx512, "avx512f", grok__dots512_all, grok__madd_avx512)

/* avx2: 8 columns per step, the tail one column at a time with fmaf. */
#define GROK__MA256_LOAD(i) __m256 acc##i = _mm256_loadu_ps(y[i] + k);
#define GROK__MA256_FMA(i) acc##i = _mm256_fmadd_ps(_mm256_set1_ps(al[i]), v, acc##i);
#define GROK__MA256_STORE(i) _mm256_storeu_ps(y[i] + k, acc##i);
#define GROK__MADD256(NAME, QL, NQ)                                                           \
    __attribute__((target("avx2,fma")))                                                      \
    static void NAME(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n) \
    {                                                                                         \
        int e, k, q;                                                                          \
        for (k = 0; k + 8 <= n; k += 8) {                                                     \
            QL(GROK__MA256_LOAD)                                                              \
            for (e = 0; e < nx; e++) {                                                        \
                __m256 v = _mm256_loadu_ps(x[e] + k);                                         \
                const float *al = alpha + (ptrdiff_t)e * ny;                                  \
                QL(GROK__MA256_FMA)                                                           \
            }                                                                                 \
            QL(GROK__MA256_STORE)                                                             \
        }                                                                                     \
        for (; k < n; k++)                                                                    \
            for (q = 0; q < NQ; q++) {                                                        \
                float acc = y[q][k];                                                          \
                for (e = 0; e < nx; e++) acc = fmaf(alpha[(ptrdiff_t)e * ny + q], x[e][k], acc); \
                y[q][k] = acc;                                                                \
            }                                                                                 \
    }
GROK__MADD256(grok__madd256_2, GROK__Q2, 2)
GROK__MADD256(grok__madd256_4, GROK__Q4, 4)
GROK__MADD256(grok__madd256_8, GROK__Q8, 8)

/* One output row, 4 column blocks of 8 at a time (as grok__madd512_1). */
__attribute__((target("avx2,fma")))
static void grok__madd256_1(float *const *y, int ny, const float *const *x, const float *alpha, int nx, int n)
{
    float *yr = y[0];
    int e, k;
    for (k = 0; k + 32 <= n; k += 32) {
        __m256 a0 = _mm256_loadu_ps(yr + k), a1 = _mm256_loadu_ps(yr + k + 8);
        __m256 a2 = _mm256_loadu_ps(yr + k + 16), a3 = _mm256_loadu_ps(yr + k + 24);
        for (e = 0; e < nx; e++) {
            const float *xe = x[e] + k;
            __m256 al = _mm256_set1_ps(alpha[(ptrdiff_t)e * ny]);
            a0 = _mm256_fmadd_ps(al, _mm256_loadu_ps(xe), a0);
            a1 = _mm256_fmadd_ps(al, _mm256_loadu_ps(xe + 8), a1);
            a2 = _mm256_fmadd_ps(al, _mm256_loadu_ps(xe + 16), a2);
            a3 = _mm256_fmadd_ps(al, _mm256_loadu_ps(xe + 24), a3);
        }
        _mm256_storeu_ps(yr + k, a0);
        _mm256_storeu_ps(yr + k + 8, a1);
        _mm256_storeu_ps(yr + k + 16, a2);
        _mm256_storeu_ps(yr + k + 24, a3);
    }
    for (; k + 8 <= n; k += 8) {
        __m256 a0 = _mm256_loadu_ps(yr + k);
        for (e = 0; e < nx; e++) a0 = _mm256_fmadd_ps(_mm256_set1_ps(alpha[(ptrdiff_t)e * ny]), _mm256_loadu_ps(x[e] + k), a0);
        _mm256_storeu_ps(yr + k, a0);
    }
    for (; k < n; k++) {
        float acc = yr[k];
        for (e = 0; e < nx; e++) acc = fmaf(alpha[(ptrdiff_t)e * ny], x[e][k], acc);
        yr[k] = acc;
    }
}

GROK__MADD(grok__madd_avx2, "avx2,fma", 256)

#define GROK__SC256_ZERO(i) __m256 lo##i = _mm256_setzero_ps(), hi##i = _mm256_setzero_ps();
#define GROK__SC256_FMA(i) lo##i = _mm256_fmadd_ps(vl, _mm256_loadu_ps(t[i] + k), lo##i); \
                           hi##i = _mm256_fmadd_ps(vh, _mm256_loadu_ps(t[i] + k + 8), hi##i);
#define GROK__SC256_OUT(i) { float lane[16]; _mm256_storeu_ps(lane, lo##i); _mm256_storeu_ps(lane + 8, hi##i); \
                             dots[i] = grok__lanes_sum(lane, x, t[i], k, n); }
#define GROK__DOTS256(NAME, QL)                                                               \
    __attribute__((target("avx2,fma")))                                                      \
    static void NAME(const float *x, int n, const float *const *t, float *dots)              \
    {                                                                                         \
        int k;                                                                                \
        QL(GROK__SC256_ZERO)                                                                  \
        for (k = 0; k + 16 <= n; k += 16) {                                                   \
            __m256 vl = _mm256_loadu_ps(x + k), vh = _mm256_loadu_ps(x + k + 8);             \
            QL(GROK__SC256_FMA)                                                               \
        }                                                                                     \
        QL(GROK__SC256_OUT)                                                                   \
    }
GROK__DOTS256(grok__dots256_1, GROK__Q1)
GROK__DOTS256(grok__dots256_2, GROK__Q2)
GROK__DOTS256(grok__dots256_4, GROK__Q4)

#define GROK__DOTS256_CALL(nq, q0)                                                            \
    if (nq == 4) grok__dots256_4(x[e], n, t + q0, dots + e * nt + q0);                        \
    else if (nq == 2) grok__dots256_2(x[e], n, t + q0, dots + e * nt + q0);                   \
    else grok__dots256_1(x[e], n, t + q0, dots + e * nt + q0);
/* avx2: the dots of one x[e] at a time, in groups of 4, 2, 1 t rows. */
__attribute__((target("avx2,fma")))
static void grok__dots256_all(const float *const *x, int nx, int n, const float *const *t, int nt, float *dots)
{
    int e;
    for (e = 0; e < nx; e++) GROK__MADD_GROUPS(GROK__DOTS256_CALL, nt, 4)
}

GROK__SCATTER(grok__scatter_avx2, "avx2,fma", grok__dots256_all, grok__madd_avx2)

static const grok__kernel grok__kernel_avx512 = { "avx512", 14, 32, 168, 512, grok__ukr_avx512, grok__ukr_avx512_rows, grok__ukr_avx512_lda, grok__ukr_avx512_4, grok__ukr_avx512_lda_bits, grok__epilogue_avx512, grok__bits_avx512,
                                                  grok__madd_avx512, grok__scatter_avx512, grok__softmax_avx512, grok__adamw_avx512 };
static const grok__kernel grok__kernel_avx2 = { "avx2", 6, 16, 144, 512, grok__ukr_avx2, grok__ukr_avx2_rows, grok__ukr_avx2_lda, NULL, grok__ukr_avx2_lda_bits, grok__epilogue_avx2, grok__bits_avx2,
                                                grok__madd_avx2, grok__scatter_avx2, grok__softmax_avx2, grok__adamw_avx2 };

#endif /* GROK__X86 */

/* Picks the best kernel the CPU (and OS) supports; GROK_KERNEL=avx2|generic
   may force a lower one. */
static void grok__kernel_init(void)
{
    grok__state.kernel = &grok__kernel_generic;
#if GROK__X86
    const char *env = getenv("GROK_KERNEL");
    int want_generic = env && strcmp(env, "generic") == 0;
    int want_avx2 = env && strcmp(env, "avx2") == 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && !want_avx2 && !want_generic)
        grok__state.kernel = &grok__kernel_avx512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !want_generic)
        grok__state.kernel = &grok__kernel_avx2;
#endif
}

static const grok__kernel *grok__kernel_get(void)
{
    pthread_once(&grok__state.kernel_once, grok__kernel_init);
    return grok__state.kernel;
}

GROKDEF const char *grok_gemm_kernel_name(void)
{
    return grok__kernel_get()->name;
}

/* ---- Packing and the blocked driver */

typedef struct {
    int transA, transB, M, N, K;
    float alpha, beta;
    const grok__epilogue *ep; /* NULL: none */
    const float *A, *B;
    float *C;
    int lda, ldb, ldc;
    const grok__kernel *kr;
    grok__ukernel_fn fn; /* kr->fn or kr->fn_rows, matching the A packing */
    int arows;           /* A packed row-major (strip row stride GROK__KC) */
    int ainplace;        /* arows, and full strips read A in place (kr->fn_lda) */
    int bits_fused;      /* ep is bits alone, applied by kr->fn_lda_bits as full in-place tiles are stored */
    int mt, nt; /* tiles of MR rows / NR columns covering C */
    int tm, tn; /* thread grid: tm row bands x tn column bands */
} grok__gemm_job;

static int grok__imin(int a, int b) { return a < b ? a : b; }
static int grok__round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Copies n floats.  Packing copies are short (14..256 floats) and often
   wait on L3/DRAM; an explicit SSE loop keeps them overlappable, where
   compilers tend to emit `rep movs` or a libc call. */
static void grok__copy_floats(float *dst, const float *src, int n)
{
    int i = 0;
#if GROK__X86
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
#endif
    for (; i < n; i++) dst[i] = src[i];
}

/* Packing into k-major strips of width w (w = MR for A, NR for B):
     dst[(s/w)*w*kc + k*w + j] = X(k, s + j)   for k < kc, s + j < len,
   zero where s + j >= len, so kernels never see garbage in padding. */

/* X(k, x) = src[k*ld + x]: each k is a contiguous source row, read in
   order (op(A) for transposed A, op(B) for plain B); row k + GROK__PACK_AHEAD
   is prefetched while row k is copied. */
#define GROK__PACK_AHEAD 8
static void grok__pack_kmajor_rows(float *dst, const float *src, int ld, int kc, int len, int w)
{
    int k, s;
    for (k = 0; k < kc; k++) {
        const float *row = src + (ptrdiff_t)k * ld;
#if defined(__GNUC__)
        if (k + GROK__PACK_AHEAD < kc) /* rows stream from L3/DRAM: fetch a later one early */
            for (s = 0; s < len; s += 16) __builtin_prefetch(row + (ptrdiff_t)GROK__PACK_AHEAD * ld + s);
#endif
        for (s = 0; s < len; s += w) {
            int n = grok__imin(w, len - s);
            float *d = dst + (ptrdiff_t)s * kc + (ptrdiff_t)k * w;
            grok__copy_floats(d, row + s, n);
            if (n < w) memset(d + n, 0, (size_t)(w - n) * sizeof(float));
        }
    }
}

/* X(k, x) = src[x*ld + k]: a transpose (op(A) for plain A with the generic
   kernel, op(B) for transposed B). */
static void grok__pack_kmajor_cols(float *dst, const float *src, int ld, int kc, int len, int w)
{
    int k, s, j;
    for (s = 0; s < len; s += w, dst += (ptrdiff_t)w * kc) {
        int n = grok__imin(w, len - s);
        for (j = 0; j < n; j++) {
            const float *col = src + (ptrdiff_t)(s + j) * ld;
            for (k = 0; k < kc; k++) dst[k * w + j] = col[k];
        }
        for (; j < w; j++)
            for (k = 0; k < kc; k++) dst[k * w + j] = 0.0f;
    }
}

/* Packs op(A)[i0 : i0+mc, p0 : p0+kc] into MR-tall strips: k-major as above,
   or with g->arows row-major, dst[s*KC + i*KC + k] = op(A)[i0 + s + i, p0 + k]
   (plain row copies; rows past mc zeroed). */
static void grok__pack_a(const grok__gemm_job *g, int i0, int mc, int p0, int kc, float *dst)
{
    const int mr = g->kr->mr;
    int s, i;
    if (!g->arows) {
        if (g->transA)
            grok__pack_kmajor_rows(dst, g->A + (ptrdiff_t)p0 * g->lda + i0, g->lda, kc, mc, mr);
        else
            grok__pack_kmajor_cols(dst, g->A + (ptrdiff_t)i0 * g->lda + p0, g->lda, kc, mc, mr);
        return;
    }
    for (s = 0; s < mc; s += mr, dst += (ptrdiff_t)mr * GROK__KC) {
        int m = grok__imin(mr, mc - s);
        for (i = 0; i < m; i++) {
            const float *src = g->A + (ptrdiff_t)(i0 + s + i) * g->lda + p0;
#if defined(__GNUC__)
            int k;
            if (i0 + s + mr + i < g->M) /* A streams from L3/DRAM: fetch the next strip early */
                for (k = 0; k < kc; k += 16) __builtin_prefetch(src + (ptrdiff_t)mr * g->lda + k);
#endif
            grok__copy_floats(dst + i * GROK__KC, src, kc);
        }
        for (; i < mr; i++) memset(dst + i * GROK__KC, 0, (size_t)kc * sizeof(float));
    }
}

/* Packs op(B)[p0 : p0+kc, j0 : j0+nc] into NR-wide k-major strips. */
static void grok__pack_b(const grok__gemm_job *g, int p0, int kc, int j0, int nc, float *dst)
{
    if (!g->transB)
        grok__pack_kmajor_rows(dst, g->B + (ptrdiff_t)p0 * g->ldb + j0, g->ldb, kc, nc, g->kr->nr);
    else
        grok__pack_kmajor_cols(dst, g->B + (ptrdiff_t)j0 * g->ldb + p0, g->ldb, kc, nc, g->kr->nr);
}

/* Partial tile (mrows < MR or ncols < NR, only at C's bottom/right edge):
   run the full kernel on a zero-padded copy so the arithmetic per element
   is exactly that of an interior tile; a partial strip (packed, padded with
   zero rows to MR) in groups of 4 rows where fewer groups cost less. */
static void grok__ukr_edge(const grok__gemm_job *g, int kc, const float *a, ptrdiff_t lda, const float *b,
                           float *c, int mrows, int ncols, float beta)
{
    float tmp[GROK__MR_MAX * GROK__NR_MAX];
    const grok__kernel *kr = g->kr;
    const int nr = kr->nr;
    int i;
    memset(tmp, 0, sizeof tmp);
    if (beta != 0.0f)
        for (i = 0; i < mrows; i++) memcpy(tmp + i * nr, c + (ptrdiff_t)i * g->ldc, (size_t)ncols * sizeof(float));
    if (lda)
        kr->fn_lda(kc, a, lda, b, tmp, nr, g->alpha, beta);
    else if (kr->fn4 && (mrows + 3) / 4 * 4 < kr->mr) {
        ptrdiff_t rs = g->arows ? GROK__KC : 1, step = g->arows ? 1 : kr->mr;
        for (i = 0; i < mrows; i += 4) kr->fn4(kc, a + i * rs, rs, step, b, tmp + i * nr, nr, g->alpha, beta);
    } else
        g->fn(kc, a, b, tmp, nr, g->alpha, beta);
    for (i = 0; i < mrows; i++) memcpy(c + (ptrdiff_t)i * g->ldc, tmp + i * nr, (size_t)ncols * sizeof(float));
}

/* Applies g->ep to rows [i0, i0+rows) x columns [j0, j0+cols) of C (j0 is a multiple of NR,
   hence of 16, where the mask is bits). */
static void grok__epilogue_apply(const grok__gemm_job *g, grok__epilogue_fn fn, int i0, int rows, int j0, int cols)
{
    const grok__epilogue *ep = g->ep;
    int i;
    for (i = i0; i < i0 + rows; i++)
        fn(g->C + (ptrdiff_t)i * g->ldc + j0, ep->bias ? ep->bias + j0 : NULL, ep->relu,
           ep->mask ? ep->mask + (ptrdiff_t)i * ep->ldm + j0 : NULL,
           ep->bits ? ep->bits + (ptrdiff_t)i * ep->ldbits + j0 / 16 : NULL, cols);
}

/* Starts loading what the tile at row i0, column j0 touches after its FMAs: C (read when
   beta != 0, else only written, which still needs the line) and, on the last K block, the
   epilogue's mask. Both are usually cold (written by an earlier layer), and without this the
   micro-kernel's tail waits on memory; with it the loads overlap the kc FMAs. A tile row
   spans NR <= 32 floats: two cache lines. */
static void grok__prefetch_tile(const grok__gemm_job *g, const float *c, int rows, float beta, int last_block,
                                int i0, int j0)
{
#if defined(__GNUC__)
    int i;
    (void)beta;
    for (i = 0; i < rows; i++) {
        __builtin_prefetch(c + (ptrdiff_t)i * g->ldc, 1);
        __builtin_prefetch(c + (ptrdiff_t)i * g->ldc + 16, 1);
    }
    if (last_block && g->ep && g->ep->mask)
        for (i = 0; i < rows; i++) {
            const float *mk = g->ep->mask + (ptrdiff_t)(i0 + i) * g->ep->ldm + j0;
            __builtin_prefetch(mk);
            __builtin_prefetch(mk + 16);
        }
    if (last_block && g->ep && g->ep->bits)
        for (i = 0; i < rows; i++) __builtin_prefetch(g->ep->bits + (ptrdiff_t)(i0 + i) * g->ep->ldbits + j0 / 16);
#else
    (void)g; (void)c; (void)rows; (void)beta; (void)last_block; (void)i0; (void)j0;
#endif
}

/* A read in place comes from L3 (written by the layer before): column tile t of nt fetches its
   share of the next strip's rows, i0 .. i0+MR (below m1), columns p0 .. p0+kc, so that they
   arrive while this strip's tiles compute (4.4 -> 3.9 ms for mlp_post @ (W_out W_U)). */
static void grok__prefetch_strip(const grok__gemm_job *g, int i0, int m1, int p0, int kc, int t, int nt)
{
#if defined(__GNUC__)
    const int mr = g->kr->mr;
    int i, k, r1 = grok__imin(i0 + (t + 1) * mr / nt, m1);
    for (i = i0 + t * mr / nt; i < r1; i++)
        for (k = 0; k < kc; k += 16) __builtin_prefetch(g->A + (ptrdiff_t)i * g->lda + p0 + k);
#else
    (void)g; (void)i0; (void)m1; (void)p0; (void)kc; (void)t; (void)nt;
#endif
}

/* Computes the sub-matrix C[m0:m1, n0:n1] (m0 a multiple of MR, n0 of NR)
   with the Goto loop nest.  abuf holds an mc x KC packed A block, bbuf a
   KC x nc packed B panel (mc, nc multiples of MR, NR).  With g->ainplace
   the full MR-row strips are read from A itself (kr->fn_lda) and only a
   partial last strip is packed, alone, into abuf.  The A strip stays in L1
   while the loop over B strips streams the panel from L2. */
static void grok__gemm_range(const grok__gemm_job *g, int m0, int m1, int n0, int n1,
                             int mc, int nc, float *abuf, float *bbuf)
{
    const grok__kernel *kr = g->kr;
    int jc, pc, ic, ir, jr;
    for (jc = n0; jc < n1; jc += nc) {
        int ncur = grok__imin(nc, n1 - jc);
        for (pc = 0; pc < g->K; pc += GROK__KC) {
            int kc = grok__imin(GROK__KC, g->K - pc);
            float beta = pc == 0 ? g->beta : 1.0f; /* later K blocks accumulate */
            grok__pack_b(g, pc, kc, jc, ncur, bbuf);
            for (ic = m0; ic < m1; ic += mc) {
                int mcur = grok__imin(mc, m1 - ic);
                if (!g->ainplace) grok__pack_a(g, ic, mcur, pc, kc, abuf);
                for (ir = 0; ir < mcur; ir += kr->mr) {
                    const float *ap = abuf + (ptrdiff_t)ir * (g->arows ? GROK__KC : kc);
                    int mrows = grok__imin(kr->mr, mcur - ir);
                    ptrdiff_t lda = 0; /* nonzero: ap is A itself, full strips only */
                    if (g->ainplace && mrows == kr->mr) {
                        ap = g->A + (ptrdiff_t)(ic + ir) * g->lda + pc;
                        lda = g->lda;
                    } else if (g->ainplace) {
                        grok__pack_a(g, ic + ir, mrows, pc, kc, abuf);
                        ap = abuf;
                    }
                    for (jr = 0; jr < ncur; jr += kr->nr) {
                        const float *bp = bbuf + (ptrdiff_t)jr * kc;
                        int ncols = grok__imin(kr->nr, ncur - jr);
                        float *cp = g->C + (ptrdiff_t)(ic + ir) * g->ldc + jc + jr;
                        int nir = jr + kr->nr < ncur ? ir : ir + kr->mr, njr = jr + kr->nr < ncur ? jr + kr->nr : 0;
                        int fused = g->bits_fused && lda && ncols == kr->nr && pc + kc == g->K;
                        if (ir == 0 && jr == 0)
                            grok__prefetch_tile(g, cp, mrows, beta, pc + kc == g->K, ic, jc);
                        if (nir < mcur) /* one tile ahead: its lines get a whole tile's FMAs to arrive */
                            grok__prefetch_tile(g, g->C + (ptrdiff_t)(ic + nir) * g->ldc + jc + njr,
                                                grok__imin(kr->mr, mcur - nir), beta, pc + kc == g->K, ic + nir, jc + njr);
                        if (lda) grok__prefetch_strip(g, ic + ir + kr->mr, m1, pc, kc, jr / kr->nr, (ncur + kr->nr - 1) / kr->nr);
                        if (fused)
                            kr->fn_lda_bits(kc, ap, lda, bp, cp, g->ldc, g->alpha, beta,
                                            g->ep->bits + (ptrdiff_t)(ic + ir) * g->ep->ldbits + (jc + jr) / 16, g->ep->ldbits);
                        else if (lda && ncols == kr->nr)
                            kr->fn_lda(kc, ap, lda, bp, cp, g->ldc, g->alpha, beta);
                        else if (mrows == kr->mr && ncols == kr->nr)
                            g->fn(kc, ap, bp, cp, g->ldc, g->alpha, beta);
                        else
                            grok__ukr_edge(g, kc, ap, lda, bp, cp, mrows, ncols, beta);
                        if (g->ep && pc + kc == g->K && !fused) grok__epilogue_apply(g, kr->epilogue, ic + ir, mrows, jc + jr, ncols);
                    }
                }
            }
        }
    }
}

/* No-memory path: the same loop nest with single-strip blocks packed on the
   stack, hence bitwise the same results, just slower (B repacked per tile). */
static void grok__gemm_range_nomem(const grok__gemm_job *g, int m0, int m1, int n0, int n1)
{
    float abuf[GROK__MR_MAX * GROK__KC], bbuf[GROK__KC * GROK__NR_MAX];
    grok__gemm_range(g, m0, m1, n0, n1, g->kr->mr, g->kr->nr, abuf, bbuf);
}

/* Task t of tm*tn: the (t / tn, t % tn) cell of the thread grid, cut on
   tile boundaries so every tile keeps its global position. */
static void grok__gemm_task(void *ctx, int t, int ntasks)
{
    const grok__gemm_job *g = (const grok__gemm_job *)ctx;
    const int mr = g->kr->mr, nr = g->kr->nr;
    int bi = t / g->tn, bj = t % g->tn;
    int m0 = (int)((int64_t)g->mt * bi / g->tm) * mr;
    int m1 = grok__imin((int)((int64_t)g->mt * (bi + 1) / g->tm) * mr, g->M);
    int n0 = (int)((int64_t)g->nt * bj / g->tn) * nr;
    int n1 = grok__imin((int)((int64_t)g->nt * (bj + 1) / g->tn) * nr, g->N);
    int kc, mc, nc;
    size_t aoff;
    float *buf;
    (void)ntasks;
    if (m0 >= m1 || n0 >= n1) return;
    kc = grok__imin(GROK__KC, g->K);
    mc = grok__imin(g->kr->mc, grok__round_up(m1 - m0, mr));
    nc = grok__imin(g->kr->nc, grok__round_up(n1 - n0, nr));
    aoff = (size_t)grok__round_up(mc * (g->arows ? GROK__KC : kc), 16); /* keeps B 64-byte aligned */
    buf = grok__ws_get(aoff + (size_t)kc * nc);
    if (buf)
        grok__gemm_range(g, m0, m1, n0, n1, mc, nc, buf, buf + aoff);
    else
        grok__gemm_range_nomem(g, m0, m1, n0, n1);
}

/* Chooses the tm x tn thread grid (tm*tn <= nthreads) minimising the largest
   per-thread tile area plus a packing term proportional to its perimeter
   (each thread packs its own rows of A and columns of B). */
static void grok__gemm_grid(grok__gemm_job *g, int nthreads)
{
    double best = -1.0;
    int tm, tn;
    g->tm = g->tn = 1;
    for (tm = 1; tm <= nthreads && tm <= g->mt; tm++)
        for (tn = 1; tm * tn <= nthreads && tn <= g->nt; tn++) {
            double rows = (double)((g->mt + tm - 1) / tm) * g->kr->mr;
            double cols = (double)((g->nt + tn - 1) / tn) * g->kr->nr;
            double cost = rows * cols + 16.0 * (rows + cols);
            if (best < 0.0 || cost < best) {
                best = cost;
                g->tm = tm;
                g->tn = tn;
            }
        }
}

/* Below this many flops a GEMM runs on the calling thread: waking the pool
   would cost more than it saves. */
#define GROK__PAR_MIN_FLOPS 2.0e6

/* C (M,N) = alpha * op(A) (M,K) @ op(B) (K,N) + beta * C, all row-major, then the epilogue
   ep (may be NULL) on every element of C. */
static void grok__gemm_ex(int transA, int transB, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc, const grok__epilogue *ep)
{
    grok__gemm_job g;
    int nthreads;
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* empty sum: C = beta*C, with beta == 0 ignoring old contents */
        int i, j;
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                float *c = C + (ptrdiff_t)i * ldc + j;
                if (beta != 1.0f) *c = beta == 0.0f ? 0.0f : beta * *c;
            }
        if (ep) {
            g.C = C; g.ldc = ldc; g.ep = ep;
            grok__epilogue_apply(&g, grok__epilogue_generic, 0, M, 0, N);
        }
        return;
    }
    g.transA = transA;
    g.transB = transB;
    g.M = M;
    g.N = N;
    g.K = K;
    g.alpha = alpha;
    g.beta = beta;
    g.A = A;
    g.B = B;
    g.C = C;
    g.lda = lda;
    g.ldb = ldb;
    g.ldc = ldc;
    g.ep = ep;
    g.kr = grok__kernel_get();
    g.arows = !transA && g.kr->fn_rows != NULL;
    /* In place only when A's rows do not alias in L1: a row stride that is a multiple of 4 KB
       puts all MR rows of a strip in one 8-way set (1024^3 ran at 60% of its packed speed). */
    g.ainplace = g.arows && g.kr->fn_lda != NULL && lda % 1024 != 0;
    g.fn = g.arows ? g.kr->fn_rows : g.kr->fn;
    g.bits_fused = g.ainplace && g.kr->fn_lda_bits && ep && ep->bits && !ep->bias && !ep->relu && !ep->mask;
    g.mt = (M + g.kr->mr - 1) / g.kr->mr;
    g.nt = (N + g.kr->nr - 1) / g.kr->nr;
    nthreads = 2.0 * M * N * K < GROK__PAR_MIN_FLOPS ? 1 : grok__pool_size();
    grok__gemm_grid(&g, nthreads);
    grok__parallel_for(grok__gemm_task, &g, g.tm * g.tn);
}

GROKDEF void grok_gemm(int transA, int transB, int M, int N, int K, float alpha,
                       const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc)
{
    unsigned fp;
    if (M < 0 || N < 0 || K < 0 || (M > 0 && N > 0 && (!C || ldc < N)) ||
        (M > 0 && N > 0 && K > 0 && (!A || !B || lda < (transA ? M : K) || ldb < (transB ? K : N)))) {
        grok__fail(GROK_ERR_ARG, "grok_gemm: M %d N %d K %d, lda %d ldb %d ldc %d (or a NULL matrix): C left as it was",
                   M, N, K, lda, ldb, ldc);
        return;
    }
    fp = grok__fp_enter();
    grok__gemm_ex(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL);
    grok__fp_set(fp);
}

/* ==== >>layers: embedding, LayerNorm, linear, activation, attention, cross-entropy ============ */

/* Forward and backward side by side. Backward functions ADD into their gradient outputs.
   Row-parallel loops split rows into fixed chunks; each row is computed by one thread, so
   the result does not depend on the thread count. */

#define GROK__ROW_TASKS 64

/* For locals that are the only way to their memory, so that compilers vectorise elementwise
   loops without run-time overlap checks (the per-element arithmetic is the same either way). */
#if defined(__GNUC__)
#define GROK__RESTRICT __restrict
#else
#define GROK__RESTRICT
#endif
#define GROK__MAX_CTX 1024 /* longest sequence; bounds a stack array in attention backward */

static int grok__tasks_for(long rows) { return rows < GROK__ROW_TASKS ? (int)(rows > 0 ? rows : 1) : GROK__ROW_TASKS; }
static long grok__chunk_lo(long n, int task, int ntasks) { return n * task / ntasks; }

/* tokens (R), W_E (Vin,C), W_pos (T,C) -> out (R,C); row r sits at position r % T. */
static void grok__embed_forward(float *out, const int *tokens, const float *W_E, const float *W_pos,
                                int R, int T, int C)
{
    int r, c;
    for (r = 0; r < R; r++) {
        const float *e = W_E + (long)tokens[r] * C, *p = W_pos + (long)(r % T) * C;
        float *o = out + (long)r * C;
        for (c = 0; c < C; c++) o[c] = e[c] + p[c];
    }
}

/* dout (R,C) -> dW_E (Vin,C) +=, dW_pos (T,C) += (serial: rows share gradient rows; either
   may be NULL when frozen). Row r holds token tokens[r] at position r % T. */
static void grok__embed_backward(float *dW_E, float *dW_pos, const float *dout, const int *tokens,
                                 int R, int T, int C)
{
    int r, c;
    for (r = 0; r < R; r++) {
        const float *d = dout + (long)r * C;
        if (dW_E)
            for (c = 0; c < C; c++) dW_E[(long)tokens[r] * C + c] += d[c];
        if (dW_pos)
            for (c = 0; c < C; c++) dW_pos[(long)(r % T) * C + c] += d[c];
    }
}

typedef struct {
    float *out, *mean, *rstd, *dinp, *dw, *db;
    const float *inp, *dout, *w, *b;
    int R, C;
    float eps;
} grok__ln_args;

static void grok__layernorm_forward_task(void *ctx, int task, int ntasks)
{
    const grok__ln_args *a = (const grok__ln_args *)ctx;
    long r, lo = grok__chunk_lo(a->R, task, ntasks), hi = grok__chunk_lo(a->R, task + 1, ntasks);
    int c, C = a->C;
    for (r = lo; r < hi; r++) {
        const float *x = a->inp + r * C;
        float *o = a->out + r * C;
        double mean = 0.0, var = 0.0;
        float m, s;
        for (c = 0; c < C; c++) mean += x[c];
        m = (float)(mean / C);
        for (c = 0; c < C; c++) var += (double)(x[c] - m) * (x[c] - m);
        s = (float)(1.0 / sqrt(var / C + a->eps));
        if (a->w) for (c = 0; c < C; c++) o[c] = (x[c] - m) * s * a->w[c] + a->b[c];
        else for (c = 0; c < C; c++) o[c] = (x[c] - m) * s;
        a->mean[r] = m;
        a->rstd[r] = s;
    }
}

/* TransformerLens' LayerNorm: (x - mean) / sqrt(mean((x - mean)^2) + eps) * w + b.
   inp (R,C), w (C), b (C) -> out (R,C), mean (R), rstd (R). w and b NULL: the normalised x
   alone (TransformerLens' hook_normalized), for grok__ln_affine to finish with the same bits. */
static void grok__layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                                    const float *w, const float *b, int R, int C, float eps)
{
    grok__ln_args a;
    memset(&a, 0, sizeof a);
    a.out = out; a.mean = mean; a.rstd = rstd; a.inp = inp; a.w = w; a.b = b; a.R = R; a.C = C; a.eps = eps;
    grok__parallel_for(grok__layernorm_forward_task, &a, grok__tasks_for(R));
}

/* x (R,C) = x * w + b in place: the rest of a LayerNorm whose normalised output a hook saw. */
static void grok__ln_affine(float *x, const float *w, const float *b, long R, int C)
{
    long r;
    int c;
    for (r = 0; r < R; r++)
        for (c = 0; c < C; c++) x[r * C + c] = x[r * C + c] * w[c] + b[c];
}

static void grok__layernorm_backward_task(void *ctx, int task, int ntasks)
{
    const grok__ln_args *a = (const grok__ln_args *)ctx;
    long r, lo = grok__chunk_lo(a->R, task, ntasks), hi = grok__chunk_lo(a->R, task + 1, ntasks);
    int c, C = a->C;
    for (r = lo; r < hi; r++) {
        const float *x = a->inp + r * C, *d = a->dout + r * C;
        float *di = a->dinp + r * C;
        float m = a->mean[r], s = a->rstd[r];
        double sum_g = 0.0, sum_gx = 0.0;
        float mg, mgx;
        if (a->w) {
            for (c = 0; c < C; c++) {
                float g = d[c] * a->w[c];
                sum_g += g;
                sum_gx += (double)g * ((x[c] - m) * s);
            }
            mg = (float)(sum_g / C);
            mgx = (float)(sum_gx / C);
            for (c = 0; c < C; c++) {
                float xhat = (x[c] - m) * s;
                di[c] += (d[c] * a->w[c] - mg - xhat * mgx) * s;
            }
        } else { /* d is already d loss / d normalised x */
            for (c = 0; c < C; c++) {
                sum_g += d[c];
                sum_gx += (double)d[c] * ((x[c] - m) * s);
            }
            mg = (float)(sum_g / C);
            mgx = (float)(sum_gx / C);
            for (c = 0; c < C; c++) {
                float xhat = (x[c] - m) * s;
                di[c] += (d[c] - mg - xhat * mgx) * s;
            }
        }
    }
}

/* dout (R,C), inp (R,C), mean, rstd (R), w (C) -> dinp (R,C) +=, dw (C) +=, db (C) +=
   (dw, db NULL: frozen, skipped; dinp NULL: not wanted). w NULL: dout is the gradient of the
   normalised x (hook_normalized), before w. */
static void grok__layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                                     const float *inp, const float *mean, const float *rstd,
                                     const float *w, int R, int C)
{
    grok__ln_args a;
    long r;
    int c;
    memset(&a, 0, sizeof a);
    a.dinp = dinp; a.dout = dout; a.inp = inp; a.mean = (float *)mean; a.rstd = (float *)rstd;
    a.w = w; a.R = R; a.C = C;
    if (dinp) grok__parallel_for(grok__layernorm_backward_task, &a, grok__tasks_for(R));
    for (r = 0; r < R; r++) {
        const float *x = inp + r * C, *d = dout + r * C;
        if (dw)
            for (c = 0; c < C; c++) dw[c] += d[c] * ((x[c] - mean[r]) * rstd[r]);
        if (db)
            for (c = 0; c < C; c++) db[c] += d[c];
    }
}

/* inp (R,IC), weight (IC,OC), bias (OC) or NULL -> out (R,OC) = inp @ weight + bias, or
   out += ... when accumulate (a residual add in the same pass); relu applies ReLU after. */
static void grok__matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                                 int R, int IC, int OC, int accumulate, int relu)
{
    grok__epilogue ep;
    memset(&ep, 0, sizeof ep);
    ep.bias = bias;
    ep.relu = relu;
    grok__gemm_ex(0, 0, R, OC, IC, 1.0f, inp, IC, weight, OC, accumulate ? 1.0f : 0.0f, out, OC,
                  bias || relu ? &ep : NULL);
}

/* dout (R,OC), inp (R,IC), weight (IC,OC) -> dinp (R,IC) (+= if accumulate, else =),
   dweight (IC,OC) +=, dbias (OC) +=. dinp, dweight, dbias may each be NULL (not wanted: a
   frozen parameter). relu_inp: inp is a ReLU's output, and dinp is wanted with respect to
   the ReLU's input (zero where inp is 0), fused into the GEMM. */
static void grok__matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                  const float *inp, const float *weight, int R, int IC, int OC,
                                  int accumulate, int relu_inp)
{
    long r;
    int o;
    if (dinp) {
        grok__epilogue ep;
        memset(&ep, 0, sizeof ep);
        ep.mask = inp;
        ep.ldm = IC;
        grok__gemm_ex(0, 1, R, IC, OC, 1.0f, dout, OC, weight, OC, accumulate ? 1.0f : 0.0f, dinp, IC,
                      relu_inp ? &ep : NULL);
    }
    if (dweight) grok_gemm(1, 0, IC, OC, R, 1.0f, inp, IC, dout, OC, 1.0f, dweight, OC);
    if (dbias)
        for (r = 0; r < R; r++)
            for (o = 0; o < OC; o++) dbias[o] += dout[r * OC + o];
}

typedef struct {
    float *out, *dinp;
    const float *inp, *dout;
    long n;
    grok_act act;
} grok__act_args;

static float grok__gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static float grok__gelu_grad(float x)
{
    return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
}

static void grok__act_forward_task(void *ctx, int task, int ntasks)
{
    const grok__act_args *a = (const grok__act_args *)ctx;
    long i, lo = grok__chunk_lo(a->n, task, ntasks), hi = grok__chunk_lo(a->n, task + 1, ntasks);
    const float *in = a->inp;
    float *out = a->out;
    if (a->act == GROK_ACT_RELU)
        for (i = lo; i < hi; i++) out[i] = grok__mask_positive(in[i], in[i]);
    else
        for (i = lo; i < hi; i++) out[i] = grok__gelu(in[i]);
}

static void grok__act_backward_task(void *ctx, int task, int ntasks)
{
    const grok__act_args *a = (const grok__act_args *)ctx;
    long i, lo = grok__chunk_lo(a->n, task, ntasks), hi = grok__chunk_lo(a->n, task + 1, ntasks);
    const float *in = a->inp, *dout = a->dout;
    float *dinp = a->dinp;
    if (a->act == GROK_ACT_RELU)
        for (i = lo; i < hi; i++) dinp[i] = grok__mask_positive(in[i], dout[i]);
    else
        for (i = lo; i < hi; i++) dinp[i] = dout[i] * grok__gelu_grad(in[i]);
}

/* pre (n) -> post (n) = act(pre). */
static void grok__act_forward(float *post, const float *pre, long n, grok_act act)
{
    grok__act_args a;
    memset(&a, 0, sizeof a);
    a.out = post; a.inp = pre; a.n = n; a.act = act;
    grok__parallel_for(grok__act_forward_task, &a, grok__tasks_for(n / 256));
}

/* dpost (n), pre (n) -> dpre (n) = dpost * act'(pre) (overwrites; may alias dpost). */
static void grok__act_backward(float *dpre, const float *dpost, const float *pre, long n, grok_act act)
{
    grok__act_args a;
    memset(&a, 0, sizeof a);
    a.dinp = dpre; a.dout = dpost; a.inp = pre; a.n = n; a.act = act;
    grok__parallel_for(grok__act_backward_task, &a, grok__tasks_for(n / 256));
}

typedef struct {
    float *z, *scores, *pattern, *dqkv, *dpattern, *dscores;
    const float *qkv, *dz, *pattern_in;
    int B, T, H, D;
    int phases; /* GROK__ATTN_SCORES | GROK__ATTN_SOFTMAX | GROK__ATTN_MIX */
} grok__attn_args;

enum { GROK__ATTN_SCORES = 1, GROK__ATTN_SOFTMAX = 2, GROK__ATTN_MIX = 4, GROK__ATTN_ALL = 7 };

/* Causal attention of each sequence in one task's share of the batch, in up to three phases
   (separable so that hooks can see and change scores and pattern in between).
   q, k, v of row r, head h are qkv[r][0*H*D + h*D ..], [1*H*D + ..], [2*H*D + ..]. */
static void grok__attention_forward_task(void *ctx, int task, int ntasks)
{
    const grok__attn_args *a = (const grok__attn_args *)ctx;
    int T = a->T, H = a->H, D = a->D, HD = H * D, h, t, u, d;
    long b, lo = grok__chunk_lo(a->B, task, ntasks), hi = grok__chunk_lo(a->B, task + 1, ntasks);
    float scale = 1.0f / sqrtf((float)D);
    for (b = lo; b < hi; b++) {
        const float *qkv = a->qkv + b * T * 3 * HD;
        for (h = 0; h < H; h++) {
            float *sc = a->scores + ((b * H + h) * T) * T, *pat = a->pattern + ((b * H + h) * T) * T;
            for (t = 0; t < T; t++) {
                float *srow = sc + t * T, *prow = pat + t * T;
                if (a->phases & GROK__ATTN_SCORES) {
                    const float *q = qkv + (long)t * 3 * HD + h * D;
                    for (u = 0; u <= t; u++) {
                        const float *k = qkv + (long)u * 3 * HD + HD + h * D;
                        float s = 0.0f;
                        for (d = 0; d < D; d++) s += q[d] * k[d];
                        srow[u] = s * scale;
                    }
                    for (u = t + 1; u < T; u++) srow[u] = -INFINITY;
                }
                if (a->phases & GROK__ATTN_SOFTMAX) {
                    float mx = -INFINITY;
                    double sum = 0.0;
                    for (u = 0; u <= t; u++) if (srow[u] > mx) mx = srow[u];
                    for (u = 0; u <= t; u++) { prow[u] = expf(srow[u] - mx); sum += prow[u]; }
                    for (u = 0; u <= t; u++) prow[u] = (float)(prow[u] / sum);
                    for (u = t + 1; u < T; u++) prow[u] = 0.0f;
                }
                if (a->phases & GROK__ATTN_MIX) {
                    float *z = a->z + (b * T + t) * HD + h * D;
                    for (d = 0; d < D; d++) z[d] = 0.0f;
                    for (u = 0; u <= t; u++) {
                        const float *v = qkv + (long)u * 3 * HD + 2 * HD + h * D;
                        for (d = 0; d < D; d++) z[d] += prow[u] * v[d];
                    }
                }
            }
        }
    }
}

/* qkv (R, 3*H*D) -> scores, pattern (B,H,T,T) (masked scores -inf, pattern 0), z (R, H*D).
   scores = q.k / sqrt(D). phases selects which of the three steps run. */
static void grok__attention_forward(float *z, float *scores, float *pattern, const float *qkv,
                                    int B, int T, int H, int D, int phases)
{
    grok__attn_args a;
    memset(&a, 0, sizeof a);
    a.z = z; a.scores = scores; a.pattern = pattern; a.qkv = qkv; a.B = B; a.T = T; a.H = H; a.D = D;
    a.phases = phases;
    grok__parallel_for(grok__attention_forward_task, &a, grok__tasks_for(B));
}

/* The backward of the three forward phases, run in reverse order (MIX, then SOFTMAX, then
   SCORES). All three at once keep d pattern and d scores of one query row on the stack; a
   hooked backward runs them one at a time, and dpattern, dscores (B,H,T,T) carry them between
   the calls so that gradient hooks can read and replace them. d pattern is dz . v for every
   source position, masked ones included (what autograd gives for pattern @ v); d scores is 0
   at the masked ones. The arithmetic is the same either way. */
static void grok__attention_backward_task(void *ctx, int task, int ntasks)
{
    const grok__attn_args *a = (const grok__attn_args *)ctx;
    int T = a->T, H = a->H, D = a->D, HD = H * D, h, t, u, d;
    long b, lo = grok__chunk_lo(a->B, task, ntasks), hi = grok__chunk_lo(a->B, task + 1, ntasks);
    float scale = 1.0f / sqrtf((float)D);
    for (b = lo; b < hi; b++) {
        const float *qkv = a->qkv + b * T * 3 * HD;
        float *dqkv = a->dqkv + b * T * 3 * HD;
        if (a->phases & GROK__ATTN_MIX) memset(dqkv, 0, sizeof(float) * (size_t)T * 3 * HD);
        for (h = 0; h < H; h++) {
            const float *pat = a->pattern_in + ((b * H + h) * T) * T;
            for (t = 0; t < T; t++) {
                const float *q = qkv + (long)t * 3 * HD + h * D;
                const float *dz = a->dz + (b * T + t) * HD + h * D;
                float *dq = dqkv + (long)t * 3 * HD + h * D;
                float *dpat_io = a->dpattern ? a->dpattern + ((b * H + h) * T + t) * T : NULL;
                float *dsc_io = a->dscores ? a->dscores + ((b * H + h) * T + t) * T : NULL;
                float dpat[GROK__MAX_CTX], dsc[GROK__MAX_CTX];
                float dot = 0.0f;
                if (a->phases & GROK__ATTN_MIX) {
                    for (u = 0; u < T; u++) {
                        const float *v = qkv + (long)u * 3 * HD + 2 * HD + h * D;
                        float *dv = dqkv + (long)u * 3 * HD + 2 * HD + h * D, p = pat[t * T + u], s = 0.0f;
                        if (u <= t) for (d = 0; d < D; d++) { s += dz[d] * v[d]; dv[d] += p * dz[d]; }
                        else if (dpat_io) for (d = 0; d < D; d++) s += dz[d] * v[d];
                        dpat[u] = s;
                    }
                    if (dpat_io) memcpy(dpat_io, dpat, sizeof(float) * (size_t)T);
                } else if (a->phases & GROK__ATTN_SOFTMAX) {
                    memcpy(dpat, dpat_io, sizeof(float) * (size_t)T);
                }
                if (a->phases & GROK__ATTN_SOFTMAX) {
                    for (u = 0; u <= t; u++) dot += pat[t * T + u] * dpat[u];
                    for (u = 0; u <= t; u++) dsc[u] = pat[t * T + u] * (dpat[u] - dot);
                    for (u = t + 1; u < T; u++) dsc[u] = 0.0f;
                    if (dsc_io) memcpy(dsc_io, dsc, sizeof(float) * (size_t)T);
                } else if (a->phases & GROK__ATTN_SCORES) {
                    memcpy(dsc, dsc_io, sizeof(float) * (size_t)T);
                }
                if (a->phases & GROK__ATTN_SCORES)
                    for (u = 0; u <= t; u++) {
                        const float *k = qkv + (long)u * 3 * HD + HD + h * D;
                        float *dk = dqkv + (long)u * 3 * HD + HD + h * D;
                        float ds = dsc[u] * scale;
                        for (d = 0; d < D; d++) { dq[d] += ds * k[d]; dk[d] += ds * q[d]; }
                    }
            }
        }
    }
}

/* dz (R, H*D), qkv (R, 3*H*D), pattern (B,H,T,T) -> dqkv (R, 3*H*D) (overwritten by the MIX
   phase, added to by SCORES). phases as the forward's; dpattern, dscores (B,H,T,T) may be NULL
   when all three run in one call. */
static void grok__attention_backward(float *dqkv, float *dpattern, float *dscores, const float *dz, const float *qkv,
                                     const float *pattern, int B, int T, int H, int D, int phases)
{
    grok__attn_args a;
    memset(&a, 0, sizeof a);
    a.dqkv = dqkv; a.dpattern = dpattern; a.dscores = dscores; a.dz = dz; a.qkv = qkv; a.pattern_in = pattern;
    a.B = B; a.T = T; a.H = H; a.D = D; a.phases = phases;
    grok__parallel_for(grok__attention_backward_task, &a, grok__tasks_for(B));
}

typedef struct {
    float *probs;
    double *row_sum, *row_loss;
    int *row_correct;
    const float *logits;
    const int *targets;
    int R, V;
    int loss; /* grok_loss */
    double dscale;
} grok__ce_args;

/* row_correct's bits: the argmax is the target, and (given that) float32's softmax has
   collapsed: its cross-entropy, log of a float sum of exp(x - max), is exactly 0, because every
   other term is under half an ulp of 1 (Prieto et al., "Grokking at the edge of numerical
   stability"; the sum in index order). Collapsed rows give no gradient in float32. */
#define GROK__ROW_CORRECT 1
#define GROK__ROW_COLLAPSED 2

/* The float32 softmax sum of row x (V) about its maximum at index best, in index order: 1.0f
   exactly when the row has collapsed. e: the numerators when the caller has them, else NULL. */
static int grok__softmax_collapsed(const float *e, const float *x, int best, int V)
{
    float sum = 0.0f;
    int v;
    for (v = 0; v < V; v++) sum += e ? e[v] : grok__expf(x[v] - x[best]);
    return sum == 1.0f;
}

/* StableMax (Prieto et al.): s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0, in double as the
   paper's float64 loss computes it (its epsilon of 1e-30 is below double's ulp of 1 - x). */
static double grok__stablemax_s(double x) { return x >= 0.0 ? x + 1.0 : 1.0 / (1.0 - x); }

/* Per row with a target: the softmax numerators e = exp(x - max) (float, by the kernel's
   softmax: each term only needs float's relative precision) summed in double, loss = log(sum) - (x[target] - max) in double,
   so that losses of 1e-7 and below keep their digits (seed 000), and whether the argmax (the
   first maximum) is the target. StableMax: e = s(x) (no shift: s is not shift-invariant), the
   sum in double in index order, loss = log(sum) - log(s(x[target])). */
static void grok__crossentropy_forward_task(void *ctx, int task, int ntasks)
{
    const grok__ce_args *a = (const grok__ce_args *)ctx;
    const grok__kernel *kr = grok__kernel_get();
    long r, lo = grok__chunk_lo(a->R, task, ntasks), hi = grok__chunk_lo(a->R, task + 1, ntasks);
    int V = a->V, v;
    for (r = lo; r < hi; r++) {
        const float *x = a->logits + r * V;
        float *e = a->probs + r * V;
        int target = a->targets[r], best = 0;
        double sum = 0.0;
        if (target < 0) continue;
        if (a->loss == GROK_LOSS_STABLEMAX) {
            for (v = 0; v < V; v++) {
                double s = grok__stablemax_s(x[v]);
                e[v] = (float)s;
                sum += s;
                if (x[v] > x[best]) best = v;
            }
            a->row_loss[r] = log(sum) - log(grok__stablemax_s(x[target]));
        } else {
            sum = kr->softmax(e, x, V, &best);
            a->row_loss[r] = log(sum) - ((double)x[target] - x[best]);
        }
        a->row_sum[r] = sum;
        a->row_correct[r] = best != target ? 0
                            : GROK__ROW_CORRECT | (grok__softmax_collapsed(a->loss == GROK_LOSS_STABLEMAX ? NULL : e, x,
                                                                           best, V) ? GROK__ROW_COLLAPSED : 0);
    }
}

/* logits (R,V), targets (R) -> probs (R,V) numerators, row_sum, row_loss, row_correct (R). */
static void grok__crossentropy_forward(float *probs, double *row_sum, double *row_loss, int *row_correct,
                                       const float *logits, const int *targets, int R, int V, int loss)
{
    grok__ce_args a;
    memset(&a, 0, sizeof a);
    a.probs = probs; a.row_sum = row_sum; a.row_loss = row_loss; a.row_correct = row_correct;
    a.logits = logits; a.targets = targets; a.R = R; a.V = V; a.loss = loss;
    grok__parallel_for(grok__crossentropy_forward_task, &a, grok__tasks_for(R));
}

static void grok__crossentropy_backward_task(void *ctx, int task, int ntasks)
{
    const grok__ce_args *a = (const grok__ce_args *)ctx;
    long r, lo = grok__chunk_lo(a->R, task, ntasks), hi = grok__chunk_lo(a->R, task + 1, ntasks);
    int v, V = a->V;
    for (r = lo; r < hi; r++) {
        float *d = a->probs + r * V;
        int target = a->targets[r];
        double scale, dtarget;
        if (target < 0) {
            memset(d, 0, sizeof(float) * (size_t)V);
            continue;
        }
        scale = a->dscale / a->row_sum[r];
        if (a->loss == GROK_LOSS_STABLEMAX) {
            /* d/dx_v of log(sum) - log(s(x_t)) = s'(x_v) / sum - [v = t] s'(x_t) / s(x_t), with
               s' = 1 where s >= 1 (x >= 0) and s' = s^2 where s < 1 (x < 0). */
            double st = d[target], dst = st >= 1.0 ? 1.0 : st * st;
            dtarget = dst * scale - a->dscale * dst / st;
            for (v = 0; v < V; v++) d[v] = (float)((d[v] >= 1.0f ? 1.0 : (double)d[v] * d[v]) * scale);
            d[target] = (float)dtarget;
            continue;
        }
        /* sum >= 1 (the maximum's term is 1); p - 1 at the target is formed in double, where
           it keeps its digits when p is within 1e-7 of 1. */
        dtarget = (double)d[target] * scale - a->dscale;
        for (v = 0; v < V; v++) d[v] = (float)(d[v] * scale);
        d[target] = (float)dtarget;
    }
}

/* probs (R,V) from the forward -> in place d loss / d logits = (softmax - onehot) * dscale
   (StableMax: its own, above); rows without a target get zero gradient. */
static void grok__crossentropy_backward(float *probs, const double *row_sum, const int *targets, int R, int V,
                                        double dscale, int loss)
{
    grok__ce_args a;
    memset(&a, 0, sizeof a);
    a.probs = probs; a.row_sum = (double *)row_sum; a.targets = targets; a.R = R; a.V = V; a.dscale = dscale;
    a.loss = loss;
    grok__parallel_for(grok__crossentropy_backward_task, &a, grok__tasks_for(R));
}

/* ==== >>model: config, parameter table, layout; general, trimmed and folded paths ============= */

enum { /* parameters of one block, in TransformerLens' state_dict order */
    GROK__LN1_W, GROK__LN1_B, GROK__W_Q, GROK__W_K, GROK__W_V, GROK__W_O,
    GROK__B_Q, GROK__B_K, GROK__B_V, GROK__B_O, GROK__LN2_W, GROK__LN2_B,
    GROK__W_IN, GROK__B_IN, GROK__W_OUT, GROK__B_OUT, GROK__BLOCK_PARAMS
};

typedef struct { char name[GROK_NAME_MAX]; grok_hook_fn fn; void *ctx; } grok__hook;

typedef struct {
    float *resid_pre, *ln1_out, *ln1_mean, *ln1_rstd; /* ln1_out aliases resid_pre without LN */
    float *qkv, *scores, *pattern, *z, *attn_out, *resid_mid;
    float *ln2_out, *ln2_mean, *ln2_rstd, *mlp_pre, *mlp_post, *mlp_out;
    float *wqkv, *bqkv; /* W_Q|W_K|W_V packed (C, 3*H*D) and b_Q|b_K|b_V (3*H*D) */
} grok__layer_acts;

struct grok__acts {
    grok__layer_acts *layer;  /* n_layers */
    float *resid_final, *lnf_out, *lnf_mean, *lnf_rstd, *logits;
    int *tokens, *targets;    /* copies of the last forward's input, (R) */
    double *row_loss, *row_sum; /* (R): loss and softmax denominator of each target row */
    int *row_correct;         /* (R) */
    int B, n_targets;         /* last forward */
    double loss_sum;          /* last forward: summed loss and correct count over targets */
    long n_correct;
    long n_collapsed;         /* last forward: target rows whose float32 softmax has collapsed */
    grok_path path;           /* the path the last forward took */
    float *embed, *pos_embed; /* (R,C): hook_embed and hook_pos_embed of the general path */
    grok__hook hooks[GROK_MAX_HOOKS];
    int n_hooks;
    grok_cache *capture;      /* grok_cache_run: where hook points are copied, at batch row capture_b0 */
    const char *capture_filter;
    int capture_b0;
    grok__hook grad_hooks[GROK_MAX_HOOKS]; /* the backward's, on gradients */
    int n_grad_hooks;
    grok_cache *grad_capture; /* grok_grad_cache_run: where gradients are copied, at batch row capture_b0 */
    const char *grad_capture_filter;
    float *gscratch;          /* the hooked backward's copies (grok__backward_general), allocated by
                                 the first gradient hook or gradient cache, freed with the model */
    /* trimmed path (n_layers == 1): tables per (position, token), query rows, scatter index */
    float *e_tab, *x_tab, *x_tab_mean, *x_tab_rstd, *qkv_tab, *dtab, *de_tab, *dx_tab;
    int *qrow, *qtarget;      /* (R): row of each target position, its target */
    int *csr_off, *csr_ent;   /* (T*Vin + 1), (R*T): queries reading each table row, in order */
    int *tab_tokens;          /* (Vin*T): token of each table row, v for rows v*T..v*T+T-1 */
    /* folded path (one layer, no LayerNorm): see grok__fold_forward. S = M + V. */
    float *fold_src, *dfold_src;  /* (Nsrc, C): W_O-mixed values, own embeddings, b_O, b_out */
    float *fold_tab, *dfold_tab;  /* (Nsrc, S): fold_src @ [W_in | W_U] */
    float *fold_v, *dfold_v;      /* (n_att, H*D): values of the attended table rows */
    float *wcat, *dwcat;          /* (C, S): [W_in | W_U] */
    float *wc, *dwc;              /* wc (M, V) = W_out @ W_U; dwc (V, M): its gradient, transposed */
    float *fold_cst;              /* (S): what every query adds: b_O and b_out folded, b_in, b_U */
    int *att_idx, *own_idx;       /* (Vin*T): compact index of a table row, -1 if unused */
    int *att_rows, *own_rows;     /* (Vin*T): table row of each compact index */
    /* the attended rows dealt to the pool's threads for grok__fold_values_task, heaviest first
       to the least loaded: thread p's rows are fold_rows[fold_part[p] .. fold_part[p+1]) */
    int *fold_rows, *fold_part, n_parts;
    long long *fold_keys;         /* (Vin*T) scratch: (entries << 32) | table row */
    uint16_t *fold_relu_bits;     /* (Q, d_mlp/16 rounded up): mlp_post > 0, for ReLU's backward */
    int n_att, n_own;
    /* backward scratch */
    float *dresid, *dln, *dqkv, *dz, *dmlp, *dwqkv;
    float *dlogits;           /* the forward leaves softmax numerators here for the backward */
    /* parameter indices: block l's k-th parameter is params[block_idx[l*GROK__BLOCK_PARAMS + k]] */
    int *block_idx;
    int idx_W_E, idx_W_pos, idx_lnf_w, idx_lnf_b, idx_W_U, idx_b_U;
};

GROKDEF grok_config grok_config_modadd(int p)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = 1; c.n_heads = 4; c.d_model = 128; c.d_head = 32; c.d_mlp = 512;
    c.d_vocab = p + 1; c.d_vocab_out = p; c.n_ctx = 3;
    c.act_fn = GROK_ACT_RELU; c.normalization = GROK_NORM_NONE;
    c.seed = 999;
    return c;
}

/* Fills defaults for zero fields and checks that the configuration is consistent. */
static int grok__config_resolve(grok_config *c)
{
    const long big = 1L << 20;
    if (c->d_vocab_out == 0) c->d_vocab_out = c->d_vocab;
    if (c->init_range == 0.0 && c->d_model > 0) c->init_range = 0.8 / sqrt((double)c->d_model);
    if (c->ln_eps == 0.0) c->ln_eps = 1e-5;
    if (c->n_layers < 1 || c->n_layers > 256) return grok__fail(GROK_ERR_ARG, "config: n_layers = %d, want 1..256", c->n_layers);
    if (c->n_heads < 1 || c->d_model < 1 || c->d_head < 1 || c->d_mlp < 1)
        return grok__fail(GROK_ERR_ARG, "config: n_heads, d_model, d_head, d_mlp must be >= 1 (got %d, %d, %d, %d)",
                          c->n_heads, c->d_model, c->d_head, c->d_mlp);
    if (c->d_model > big || c->d_mlp > big || (long)c->n_heads * c->d_head > big)
        return grok__fail(GROK_ERR_ARG, "config: d_model, d_mlp and n_heads*d_head must be <= %ld", big);
    if (c->d_vocab < 1 || c->d_vocab > big || c->d_vocab_out < 1 || c->d_vocab_out > big)
        return grok__fail(GROK_ERR_ARG, "config: d_vocab = %d, d_vocab_out = %d, want 1..%ld", c->d_vocab, c->d_vocab_out, big);
    if (c->n_ctx < 1 || c->n_ctx > GROK__MAX_CTX)
        return grok__fail(GROK_ERR_ARG, "config: n_ctx = %d, want 1..%d", c->n_ctx, GROK__MAX_CTX);
    if (c->act_fn != GROK_ACT_RELU && c->act_fn != GROK_ACT_GELU)
        return grok__fail(GROK_ERR_ARG, "config: act_fn %d is neither GROK_ACT_RELU nor GROK_ACT_GELU", (int)c->act_fn);
    if (c->normalization != GROK_NORM_NONE && c->normalization != GROK_NORM_LN)
        return grok__fail(GROK_ERR_ARG, "config: normalization %d is neither GROK_NORM_NONE nor GROK_NORM_LN", (int)c->normalization);
    if (!(c->init_range > 0.0) || !(c->ln_eps > 0.0))
        return grok__fail(GROK_ERR_ARG, "config: init_range and ln_eps must be positive");
    if (c->train_biases != 0 && c->train_biases != 1)
        return grok__fail(GROK_ERR_ARG, "config: train_biases = %d, want 0 or 1", c->train_biases);
    return GROK_OK;
}

/* Appends a row to a parameter table (the model's or a net's) whose buffers hold
   *num_parameters floats so far. */
/* Appends a tensor to a name/shape table; with params NULL it only counts (n_params and
   num_parameters advance as they would). */
static void grok__param_push(grok_param *params, int *n_params, size_t *num_parameters, const char *name, int ndim,
                             int s0, int s1, int s2, int trainable)
{
    grok_param counted = {{0}, 0, {0}, 0, 0, 0}, *p = params ? &params[*n_params] : &counted;
    int i;
    ++*n_params;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->shape[0] = s0; p->shape[1] = s1; p->shape[2] = s2;
    p->numel = 1;
    for (i = 0; i < ndim; i++) p->numel *= (size_t)p->shape[i];
    p->offset = *num_parameters;
    /* Each tensor starts on a 16-float boundary so kernels may assume aligned rows. */
    *num_parameters += (p->numel + 15) / 16 * 16;
    p->trainable = trainable;
}


/* Builds the name/shape table in TransformerLens' state_dict order. */
/* The transformer's table for config c: into params, with a's parameter indices, or, with
   both NULL, only the counts (how many tensors, how many floats in each buffer). */
static void grok__param_table(const grok_config *c, grok_param *params, grok__acts *a, int *n_params, size_t *num)
{
    int C = c->d_model, H = c->n_heads, D = c->d_head, M = c->d_mlp, l, k;
    int ln = c->normalization == GROK_NORM_LN, tb = c->train_biases != 0;
    char name[GROK_NAME_MAX];
    static const char *const block_names[GROK__BLOCK_PARAMS] = {
        "ln1.w", "ln1.b", "attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O", "attn.b_Q", "attn.b_K",
        "attn.b_V", "attn.b_O", "ln2.w", "ln2.b", "mlp.W_in", "mlp.b_in", "mlp.W_out", "mlp.b_out"};
    *n_params = 0;
    *num = 0;
    if (a) a->idx_W_E = *n_params;
    grok__param_push(params, n_params, num, "embed.W_E", 2, c->d_vocab, C, 0, 1);
    if (a) a->idx_W_pos = *n_params;
    grok__param_push(params, n_params, num, "pos_embed.W_pos", 2, c->n_ctx, C, 0, 1);
    for (l = 0; l < c->n_layers; l++) {
        for (k = 0; k < GROK__BLOCK_PARAMS; k++) {
            int unused = -1, *idx = a ? &a->block_idx[l * GROK__BLOCK_PARAMS + k] : &unused;
            int is_ln = k == GROK__LN1_W || k == GROK__LN1_B || k == GROK__LN2_W || k == GROK__LN2_B;
            int is_bias = strstr(block_names[k], ".b_") != NULL;
            *idx = -1;
            if (is_ln && !ln) continue;
            snprintf(name, sizeof name, "blocks.%d.%s", l, block_names[k]);
            *idx = *n_params;
            switch (k) {
            case GROK__W_Q: case GROK__W_K: case GROK__W_V: grok__param_push(params, n_params, num, name, 3, H, C, D, 1); break;
            case GROK__W_O: grok__param_push(params, n_params, num, name, 3, H, D, C, 1); break;
            case GROK__B_Q: case GROK__B_K: case GROK__B_V: grok__param_push(params, n_params, num, name, 2, H, D, 0, tb); break;
            case GROK__W_IN: grok__param_push(params, n_params, num, name, 2, C, M, 0, 1); break;
            case GROK__B_IN: grok__param_push(params, n_params, num, name, 1, M, 0, 0, tb); break;
            case GROK__W_OUT: grok__param_push(params, n_params, num, name, 2, M, C, 0, 1); break;
            default: grok__param_push(params, n_params, num, name, 1, C, 0, 0, is_bias ? tb : 1); break; /* ln w/b, b_O, b_out */
            }
        }
    }
    if (a) a->idx_lnf_w = a->idx_lnf_b = -1;
    if (ln) {
        if (a) a->idx_lnf_w = *n_params;
        grok__param_push(params, n_params, num, "ln_final.w", 1, C, 0, 0, 1);
        if (a) a->idx_lnf_b = *n_params;
        grok__param_push(params, n_params, num, "ln_final.b", 1, C, 0, 0, 1);
    }
    if (a) a->idx_W_U = *n_params;
    grok__param_push(params, n_params, num, "unembed.W_U", 2, C, c->d_vocab_out, 0, 1);
    if (a) a->idx_b_U = *n_params;
    grok__param_push(params, n_params, num, "unembed.b_U", 1, c->d_vocab_out, 0, 0, tb);
}

/* Pointer to block l's parameter k inside buffer buf (weights, grads, ...), NULL if absent. */
static float *grok__bp(const grok_model *m, float *buf, int l, int k)
{
    int i = m->acts->block_idx[l * GROK__BLOCK_PARAMS + k];
    return i < 0 ? NULL : buf + m->params[i].offset;
}

static float *grok__gp(const grok_model *m, float *buf, int idx)
{
    return idx < 0 ? NULL : buf + m->params[idx].offset;
}

/* Gradient of parameter idx, or NULL when it is absent or frozen: backward skips the work. */
static float *grok__gg(const grok_model *m, int idx)
{
    return idx < 0 || !m->params[idx].trainable ? NULL : m->grads + m->params[idx].offset;
}

static float *grok__bg(const grok_model *m, int l, int k)
{
    return grok__gg(m, m->acts->block_idx[l * GROK__BLOCK_PARAMS + k]);
}

/* Carves every buffer from the arena; with a->base == NULL it only counts the bytes. */
static void *grok__take(grok_arena *a, size_t bytes)
{
    if (!a->base) { a->used += (bytes + GROK__ALIGN - 1) / GROK__ALIGN * GROK__ALIGN; return NULL; }
    return grok_arena_alloc(a, bytes);
}

/* The parameter set that a grok_model and a grok_net both carry: the name/shape table, the four
   same-layout buffers, the optimizer and its counters, the last metrics. Code that treats the
   two alike (the buffers' layout, AdamW's NaN guard, the training driver) works on this view;
   the buffers never move after init, the counters are read and advanced through the pointers. */
typedef struct {
    int n_params;
    grok_param *params;
    size_t num_parameters;
    float *weights, *grads, *adam_m, *adam_v;
    grok_adamw *opt;
    long *step, *epoch;
    grok_metrics *metrics;
    int *loss;
    grok_gradfilter *filter;
    grok_stop_state *stop;
} grok__pset;

/* The four buffers of a parameter set of np floats each, first in the arena. */
static void grok__pset_layout(float **weights, float **grads, float **adam_m, float **adam_v, size_t np, grok_arena *ar)
{
    *weights = (float *)grok__take(ar, np * sizeof(float));
    *grads = (float *)grok__take(ar, np * sizeof(float));
    *adam_m = (float *)grok__take(ar, np * sizeof(float));
    *adam_v = (float *)grok__take(ar, np * sizeof(float));
}

/* The arena of a model or net: a counting pass of layout sizes it, a second pass lays it out. */
static int grok__arena_build(grok_arena *arena, void (*layout)(void *obj, grok_arena *ar), void *obj)
{
    grok_arena count;
    int st;
    memset(&count, 0, sizeof count);
    layout(obj, &count);
    if ((st = grok_arena_init(arena, count.used)) != GROK_OK) return st;
    layout(obj, arena);
    return GROK_OK;
}

static void grok__layout(void *obj, grok_arena *ar)
{
    grok_model *m = (grok_model *)obj;
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    size_t R = (size_t)m->max_rows, C = (size_t)c->d_model, HD = (size_t)c->n_heads * c->d_head;
    size_t M = (size_t)c->d_mlp, V = (size_t)c->d_vocab_out, T = (size_t)c->n_ctx, H = (size_t)c->n_heads;
    size_t B = R / T, f = sizeof(float);
    int ln = c->normalization == GROK_NORM_LN, l;
    grok__pset_layout(&m->weights, &m->grads, &m->adam_m, &m->adam_v, m->num_parameters, ar);
    for (l = 0; l < c->n_layers; l++) {
        grok__layer_acts *L = &a->layer[l];
        L->resid_pre = (float *)grok__take(ar, R * C * f);
        if (ln) {
            L->ln1_out = (float *)grok__take(ar, R * C * f);
            L->ln1_mean = (float *)grok__take(ar, R * f);
            L->ln1_rstd = (float *)grok__take(ar, R * f);
            L->ln2_out = (float *)grok__take(ar, R * C * f);
            L->ln2_mean = (float *)grok__take(ar, R * f);
            L->ln2_rstd = (float *)grok__take(ar, R * f);
        }
        L->qkv = (float *)grok__take(ar, R * 3 * HD * f);
        L->scores = (float *)grok__take(ar, B * H * T * T * f);
        L->pattern = (float *)grok__take(ar, B * H * T * T * f);
        L->z = (float *)grok__take(ar, R * HD * f);
        L->attn_out = (float *)grok__take(ar, R * C * f);
        L->resid_mid = (float *)grok__take(ar, R * C * f);
        L->mlp_pre = (float *)grok__take(ar, R * M * f);
        L->mlp_post = (float *)grok__take(ar, R * M * f);
        L->mlp_out = (float *)grok__take(ar, R * C * f);
        L->wqkv = (float *)grok__take(ar, C * 3 * HD * f);
        L->bqkv = (float *)grok__take(ar, 3 * HD * f);
        if (!ln) { L->ln1_out = L->resid_pre; L->ln2_out = L->resid_mid; }
    }
    a->resid_final = (float *)grok__take(ar, R * C * f);
    a->embed = (float *)grok__take(ar, R * C * f);
    a->pos_embed = (float *)grok__take(ar, R * C * f);
    if (ln) {
        a->lnf_out = (float *)grok__take(ar, R * C * f);
        a->lnf_mean = (float *)grok__take(ar, R * f);
        a->lnf_rstd = (float *)grok__take(ar, R * f);
    } else {
        a->lnf_out = a->resid_final;
    }
    a->logits = (float *)grok__take(ar, R * V * f);
    a->tokens = (int *)grok__take(ar, R * sizeof(int));
    a->targets = (int *)grok__take(ar, R * sizeof(int));
    a->row_loss = (double *)grok__take(ar, R * sizeof(double));
    a->row_sum = (double *)grok__take(ar, R * sizeof(double));
    a->row_correct = (int *)grok__take(ar, R * sizeof(int));
    a->dresid = (float *)grok__take(ar, R * C * f);
    a->dln = (float *)grok__take(ar, R * C * f);
    a->dqkv = (float *)grok__take(ar, R * 3 * HD * f);
    a->dz = (float *)grok__take(ar, R * HD * f);
    a->dmlp = (float *)grok__take(ar, R * M * f);
    a->dlogits = (float *)grok__take(ar, R * V * f);
    a->dwqkv = (float *)grok__take(ar, C * 3 * HD * f);
    if (c->n_layers == 1) {
        size_t Nt = T * (size_t)c->d_vocab;
        a->e_tab = (float *)grok__take(ar, Nt * C * f);
        a->qkv_tab = (float *)grok__take(ar, Nt * 3 * HD * f);
        a->dtab = (float *)grok__take(ar, Nt * 3 * HD * f);
        a->de_tab = (float *)grok__take(ar, Nt * C * f);
        if (ln) {
            a->x_tab = (float *)grok__take(ar, Nt * C * f);
            a->x_tab_mean = (float *)grok__take(ar, Nt * f);
            a->x_tab_rstd = (float *)grok__take(ar, Nt * f);
            a->dx_tab = (float *)grok__take(ar, Nt * C * f);
        } else {
            size_t S = M + V, Nsrc = Nt * H + Nt + 2;
            a->x_tab = a->e_tab;
            a->dx_tab = a->de_tab;
            a->fold_src = (float *)grok__take(ar, Nsrc * C * f);
            a->dfold_src = (float *)grok__take(ar, Nsrc * C * f);
            a->fold_tab = (float *)grok__take(ar, Nsrc * S * f);
            a->dfold_tab = (float *)grok__take(ar, Nsrc * S * f);
            a->fold_v = (float *)grok__take(ar, Nt * HD * f);
            a->dfold_v = (float *)grok__take(ar, Nt * HD * f);
            a->wcat = (float *)grok__take(ar, C * S * f);
            a->dwcat = (float *)grok__take(ar, C * S * f);
            a->wc = (float *)grok__take(ar, M * V * f);
            a->dwc = (float *)grok__take(ar, M * V * f);
            a->fold_cst = (float *)grok__take(ar, S * f);
            a->att_idx = (int *)grok__take(ar, Nt * sizeof(int));
            a->own_idx = (int *)grok__take(ar, Nt * sizeof(int));
            a->att_rows = (int *)grok__take(ar, Nt * sizeof(int));
            a->own_rows = (int *)grok__take(ar, Nt * sizeof(int));
            a->fold_rows = (int *)grok__take(ar, Nt * sizeof(int));
            a->fold_part = (int *)grok__take(ar, (GROK__MAX_THREADS + 1) * sizeof(int));
            a->fold_keys = (long long *)grok__take(ar, Nt * sizeof(long long));
            a->fold_relu_bits = (uint16_t *)grok__take(ar, R * ((M + 15) / 16) * sizeof(uint16_t));
        }
        a->qrow = (int *)grok__take(ar, R * sizeof(int));
        a->qtarget = (int *)grok__take(ar, R * sizeof(int));
        a->csr_off = (int *)grok__take(ar, (Nt + 1) * sizeof(int));
        a->csr_ent = (int *)grok__take(ar, R * T * sizeof(int));
        a->tab_tokens = (int *)grok__take(ar, Nt * sizeof(int));
        if (a->tab_tokens) {
            size_t j;
            for (j = 0; j < Nt; j++) a->tab_tokens[j] = (int)(j / T);
        }
    }
}

static void grok__model_reset_init(grok_model *m)
{
    grok_rng rng;
    int i;
    size_t j;
    grok_rng_seed(&rng, m->cfg.seed);
    memset(m->weights, 0, sizeof(float) * m->num_parameters);
    for (i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        float *w = m->weights + p->offset;
        if (strstr(p->name, ".W_"))
            for (j = 0; j < p->numel; j++) w[j] = (float)(grok_rng_normal(&rng) * m->cfg.init_range);
        else if (strstr(p->name, "ln") && p->name[strlen(p->name) - 1] == 'w')
            for (j = 0; j < p->numel; j++) w[j] = 1.0f;
    }
}

GROKDEF int grok_model_init(grok_model *m, const grok_config *cfg, int max_batch)
{
    grok_config c;
    size_t table_bytes;
    int st, n_params;
    if (!m || !cfg) return grok__fail(GROK_ERR_ARG, "grok_model_init: NULL argument");
    memset(m, 0, sizeof *m);
    c = *cfg;
    if ((st = grok__config_resolve(&c)) != GROK_OK) return st;
    if (max_batch < 1 || (long)max_batch * c.n_ctx > (1L << 28))
        return grok__fail(GROK_ERR_ARG, "grok_model_init: max_batch = %d, want 1..%ld", max_batch, (1L << 28) / c.n_ctx);
    m->cfg = c;
    m->opt = grok_adamw_default();
    m->max_rows = max_batch * c.n_ctx;
    n_params = 2 + c.n_layers * GROK__BLOCK_PARAMS + 4;
    /* The table and the private pointers live in a small first allocation so that the big
       arena can be sized from the table's offsets. */
    table_bytes = sizeof(grok__acts) + sizeof(grok__layer_acts) * (size_t)c.n_layers
                + sizeof(int) * (size_t)c.n_layers * GROK__BLOCK_PARAMS + sizeof(grok_param) * (size_t)n_params;
    m->acts = (grok__acts *)GROK_MALLOC(table_bytes);
    if (!m->acts) return grok__fail(GROK_ERR_NOMEM, "grok_model_init: cannot allocate %zu bytes", table_bytes);
    memset(m->acts, 0, table_bytes);
    m->acts->layer = (grok__layer_acts *)(m->acts + 1);
    m->acts->block_idx = (int *)(m->acts->layer + c.n_layers);
    m->params = (grok_param *)(m->acts->block_idx + c.n_layers * GROK__BLOCK_PARAMS);
    grok__param_table(&m->cfg, m->params, m->acts, &m->n_params, &m->num_parameters);
    if ((st = grok__arena_build(&m->arena, grok__layout, m)) != GROK_OK) {
        GROK_FREE(m->acts);
        memset(m, 0, sizeof *m);
        return st;
    }
    grok__model_reset_init(m);
    return GROK_OK;
}

static grok__pset grok__pset_model(grok_model *m)
{
    grok__pset ps;
    ps.n_params = m->n_params; ps.params = m->params; ps.num_parameters = m->num_parameters;
    ps.weights = m->weights; ps.grads = m->grads; ps.adam_m = m->adam_m; ps.adam_v = m->adam_v;
    ps.opt = &m->opt; ps.step = &m->step; ps.epoch = &m->epoch; ps.metrics = &m->metrics;
    ps.loss = &m->loss; ps.filter = &m->filter; ps.stop = &m->stop;
    return ps;
}

GROKDEF void grok_model_free(grok_model *m)
{
    if (!m) return;
    grok_arena_free(&m->arena);
    if (m->acts) GROK_FREE(m->acts->gscratch);
    grok_gradfilter_free(&m->filter);
    GROK_FREE(m->acts);
    memset(m, 0, sizeof *m);
}

/* The row of a parameter table named `name`, or NULL and an error naming the caller. */
static const grok_param *grok__param_find(const grok_param *params, int n_params, const char *name, const char *caller)
{
    int i;
    if (!name || !params) { grok__fail(GROK_ERR_ARG, "%s: NULL argument", caller); return NULL; }
    for (i = 0; i < n_params; i++)
        if (strcmp(params[i].name, name) == 0) return &params[i];
    grok__fail(GROK_ERR_ARG, "%s: no parameter named '%s'", caller, name);
    return NULL;
}

GROKDEF const grok_param *grok_model_param(const grok_model *m, const char *name)
{
    return grok__param_find(m ? m->params : NULL, m ? m->n_params : 0, name, "grok_model_param");
}

GROKDEF int grok_model_set_trainable(grok_model *m, const char *substring, int trainable)
{
    int i, n = 0;
    if (!m || !substring || !m->params) { grok__fail(GROK_ERR_ARG, "grok_model_set_trainable: NULL argument"); return 0; }
    for (i = 0; i < m->n_params; i++)
        if (strstr(m->params[i].name, substring)) { m->params[i].trainable = trainable != 0; n++; }
    return n;
}

GROKDEF grok_tensor grok_model_tensor(const grok_model *m, float *buffer, const grok_param *p)
{
    if (!buffer || !p) {
        grok_tensor t;
        memset(&t, 0, sizeof t);
        grok__fail(GROK_ERR_ARG, "grok_model_tensor: NULL %s", buffer ? "parameter" : "buffer");
        return t;
    }
    (void)m;
    return grok_tensor_make(buffer + p->offset, p->ndim, p->shape);
}

GROKDEF void grok_model_zero_grad(grok_model *m)
{
    if (m && m->grads) memset(m->grads, 0, sizeof(float) * m->num_parameters);
}

/* W_Q, W_K, W_V (H,C,D) -> wqkv (C, 3*H*D): column s*H*D + h*D + d holds W_s[h][c][d]. */
static void grok__qkv_pack(float *wqkv, float *bqkv, float *const W[3], float *const b[3], int C, int H, int D)
{
    int s, h, c, HD = H * D;
    for (s = 0; s < 3; s++)
        for (h = 0; h < H; h++) {
            for (c = 0; c < C; c++)
                memcpy(wqkv + (long)c * 3 * HD + s * HD + h * D, W[s] + ((long)h * C + c) * D, sizeof(float) * (size_t)D);
            memcpy(bqkv + s * HD + h * D, b[s] + (long)h * D, sizeof(float) * (size_t)D);
        }
}

/* dwqkv (C, 3*H*D) -> dW_Q, dW_K, dW_V (H,C,D) += (NULL ones frozen, skipped). */
static void grok__qkv_unpack_add(float *const dW[3], const float *dwqkv, int C, int H, int D)
{
    int s, h, c, d, HD = H * D;
    for (s = 0; s < 3; s++)
        for (h = 0; dW[s] && h < H; h++)
            for (c = 0; c < C; c++) {
                const float *src = dwqkv + (long)c * 3 * HD + s * HD + h * D;
                float *dst = dW[s] + ((long)h * C + c) * D;
                for (d = 0; d < D; d++) dst[d] += src[d];
            }
}

/* dqkv (R, 3*H*D) -> db_Q, db_K, db_V (H*D) += column sums, in row order (NULL: frozen). */
static void grok__qkv_bias_backward(float *const db[3], const float *dqkv, long R, int HD)
{
    long r;
    int s, i;
    for (s = 0; s < 3; s++)
        for (r = 0; db[s] && r < R; r++)
            for (i = 0; i < HD; i++) db[s][i] += dqkv[r * 3 * HD + s * HD + i];
}

/* Block l's W_Q, W_K, W_V and b_Q, b_K, b_V packed into its wqkv (C, 3*H*D) and bqkv (3*H*D):
   every path projects Q, K and V in one GEMM. */
static void grok__qkv_pack_layer(grok_model *m, int l)
{
    const grok_config *c = &m->cfg;
    float *w = m->weights, *W[3], *b[3];
    W[0] = grok__bp(m, w, l, GROK__W_Q); W[1] = grok__bp(m, w, l, GROK__W_K); W[2] = grok__bp(m, w, l, GROK__W_V);
    b[0] = grok__bp(m, w, l, GROK__B_Q); b[1] = grok__bp(m, w, l, GROK__B_K); b[2] = grok__bp(m, w, l, GROK__B_V);
    grok__qkv_pack(m->acts->layer[l].wqkv, m->acts->layer[l].bqkv, W, b, c->d_model, c->n_heads, c->d_head);
}

/* ADDS block l's W_Q/W_K/W_V gradients from dwqkv (C, 3*H*D) and its b_Q/b_K/b_V gradients from
   dqkv (rows, 3*H*D) into m->grads (frozen ones, NULL, are skipped). */
static void grok__qkv_grads_add(grok_model *m, int l, const float *dwqkv, const float *dqkv, long rows)
{
    const grok_config *c = &m->cfg;
    float *dW[3], *db[3];
    dW[0] = grok__bg(m, l, GROK__W_Q); dW[1] = grok__bg(m, l, GROK__W_K); dW[2] = grok__bg(m, l, GROK__W_V);
    grok__qkv_unpack_add(dW, dwqkv, c->d_model, c->n_heads, c->d_head);
    db[0] = grok__bg(m, l, GROK__B_Q); db[1] = grok__bg(m, l, GROK__B_K); db[2] = grok__bg(m, l, GROK__B_V);
    grok__qkv_bias_backward(db, dqkv, rows, c->n_heads * c->d_head);
}

static int grok__check_tokens(const grok_model *m, const int *tokens, const int *targets, long R)
{
    long r;
    for (r = 0; r < R; r++) {
        if (tokens[r] < 0 || tokens[r] >= m->cfg.d_vocab)
            return grok__fail(GROK_ERR_ARG, "token %d at row %ld, position %ld is outside [0, %d)",
                              tokens[r], r / m->cfg.n_ctx, r % m->cfg.n_ctx, m->cfg.d_vocab);
        if (targets && (targets[r] < -1 || targets[r] >= m->cfg.d_vocab_out))
            return grok__fail(GROK_ERR_ARG, "target %d at row %ld, position %ld is outside [-1, %d)",
                              targets[r], r / m->cfg.n_ctx, r % m->cfg.n_ctx, m->cfg.d_vocab_out);
    }
    return GROK_OK;
}

/* ---- hook points: how every path offers its activations to hooks and the cache */

/* Registers a hook (name checked by the caller) in a model's or a net's list. */
static int grok__hook_add(grok__hook *hooks, int *n_hooks, const char *name, grok_hook_fn fn, void *ctx, const char *who)
{
    if (*n_hooks >= GROK_MAX_HOOKS) return grok__fail(GROK_ERR_ARG, "%s: at most %d hooks", who, GROK_MAX_HOOKS);
    snprintf(hooks[*n_hooks].name, GROK_NAME_MAX, "%s", name);
    hooks[*n_hooks].fn = fn;
    hooks[*n_hooks].ctx = ctx;
    ++*n_hooks;
    return GROK_OK;
}

static long grok__tensor_rows(const grok_tensor *t)
{
    return t->ndim ? grok_tensor_numel(t) / (t->shape[t->ndim - 1] ? t->shape[t->ndim - 1] : 1) : 1;
}

static long grok__tensor_row_offset(const grok_tensor *t, long i)
{
    long off = 0;
    int d;
    for (d = t->ndim - 2; d >= 0; d--) {
        off += (i % t->shape[d]) * t->stride[d];
        i /= t->shape[d];
    }
    return off;
}

/* Does `name` contain one of the comma-separated substrings of filter (NULL: everything)? */
static int grok__name_matches(const char *name, const char *filter)
{
    char part[GROK_NAME_MAX];
    const char *p = filter;
    if (!filter) return 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < sizeof part) {
            memcpy(part, p, n);
            part[n] = '\0';
            if (strstr(name, part)) return 1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Copies act (b, ...) into the cache entry `name` at batch row b0, creating the entry
   (B_total, ...) on first sight. */
static int grok__cache_store(grok_cache *c, const char *name, const grok_tensor *act, int b0)
{
    grok_cache_entry *e = NULL;
    long i, rows, per_b, last;
    int k, shape[GROK_MAX_DIMS];
    for (k = 0; k < c->n; k++)
        if (strcmp(c->entries[k].name, name) == 0) { e = &c->entries[k]; break; }
    if (!e) {
        float *data;
        long n = c->B;
        for (k = 0; k < act->ndim; k++) shape[k] = k ? act->shape[k] : c->B;
        for (k = 1; k < act->ndim; k++) n *= act->shape[k];
        data = (float *)GROK_MALLOC(sizeof(float) * (size_t)n);
        if (!data) return grok__fail(GROK_ERR_NOMEM, "grok_cache_run: %ld floats for %s", n, name);
        e = &c->entries[c->n++];
        snprintf(e->name, sizeof e->name, "%s", name);
        e->t = grok_tensor_make(data, act->ndim, shape);
    }
    rows = grok__tensor_rows(act);
    last = act->shape[act->ndim - 1];
    per_b = rows / (act->shape[0] ? act->shape[0] : 1);
    for (i = 0; i < rows; i++) {
        const float *src = act->data + grok__tensor_row_offset(act, i);
        float *dst = e->t.data + ((long)b0 * per_b + i) * last;
        if (act->stride[act->ndim - 1] == 1) memcpy(dst, src, sizeof(float) * (size_t)last);
        else for (k = 0; k < last; k++) dst[k] = src[k * act->stride[act->ndim - 1]];
    }
    return GROK_OK;
}

/* A hook point of the general forward: runs the hooks registered on its name, then copies
   the activation into the cache being filled. fmt may hold one %d, the layer. */
/* Runs the hooks registered on `name` over t, then copies t into the cache being filled
   (capture, may be NULL) at batch row b0. Shared by the transformer and the nets. */
static int grok__hooks_run(const grok__hook *hooks, int n_hooks, grok_cache *capture, const char *filter, int b0,
                           grok_tensor t, const char *name)
{
    int i, st;
    for (i = 0; i < n_hooks; i++)
        if (strcmp(hooks[i].name, name) == 0 && (st = hooks[i].fn(&t, name, hooks[i].ctx)) != GROK_OK)
            return grok__fail(st, "hook on %s failed: %s", name, grok__error_message);
    if (capture && grok__name_matches(name, filter)) return grok__cache_store(capture, name, &t, b0);
    return GROK_OK;
}

static int grok__hook_point(grok_model *m, grok_tensor t, const char *fmt, int l)
{
    grok__acts *a = m->acts;
    char name[GROK_NAME_MAX];
    if (!a->n_hooks && !a->capture) return GROK_OK;
    /* cppcheck-suppress wrongPrintfScanfArgNum ; the formats without %d ignore l */
    snprintf(name, sizeof name, fmt, l);
    return grok__hooks_run(a->hooks, a->n_hooks, a->capture, a->capture_filter, a->capture_b0, t, name);
}

static grok_tensor grok__view4(float *data, int d0, int d1, int d2, int d3, int ndim)
{
    int shape[4];
    shape[0] = d0; shape[1] = d1; shape[2] = d2; shape[3] = d3;
    return grok_tensor_make(data, ndim, shape);
}

/* ---- the general path: the reference */

/* The general path over R = B*T rows: every position, every activation kept, hook points. */
static int grok__forward_general(grok_model *m, int B)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int R = B * T, ln = c->normalization == GROK_NORM_LN, l, st, k;
    int hooked = a->n_hooks > 0 || a->capture != NULL;
    float eps = (float)c->ln_eps, *w = m->weights;
    const float *W_E = grok__gp(m, w, a->idx_W_E), *W_pos = grok__gp(m, w, a->idx_W_pos);
    long i;
#define GROK__HOOK(data, d1, d2, d3, nd, fmt) \
    if (hooked && (st = grok__hook_point(m, grok__view4(data, B, d1, d2, d3, nd), fmt, l)) != GROK_OK) return st
    /* A LayerNorm; hooked, its hook_normalized sees the normalised x before w and b
       (TransformerLens'), which grok__ln_affine then applies: the same bits either way. */
#define GROK__LN(out, mean, rstd, inp, lw, lb, fmt) \
    if (!hooked) grok__layernorm_forward(out, mean, rstd, inp, lw, lb, R, C, eps); \
    else { \
        grok__layernorm_forward(out, mean, rstd, inp, NULL, NULL, R, C, eps); \
        GROK__HOOK(out, T, C, 0, 3, fmt); \
        grok__ln_affine(out, lw, lb, R, C); \
    }

    l = 0;
    for (i = 0; i < R; i++)
        for (k = 0; k < C; k++) {
            a->embed[i * C + k] = W_E[(long)a->tokens[i] * C + k];
            a->pos_embed[i * C + k] = W_pos[(i % T) * C + k];
        }
    GROK__HOOK(a->embed, T, C, 0, 3, "hook_embed");
    GROK__HOOK(a->pos_embed, T, C, 0, 3, "hook_pos_embed");
    for (i = 0; i < (long)R * C; i++) a->layer[0].resid_pre[i] = a->embed[i] + a->pos_embed[i];
    for (l = 0; l < c->n_layers; l++) {
        grok__layer_acts *L = &a->layer[l];
        float *next = l + 1 < c->n_layers ? a->layer[l + 1].resid_pre : a->resid_final;
        grok_tensor qkv;
        GROK__HOOK(L->resid_pre, T, C, 0, 3, "blocks.%d.hook_resid_pre");
        if (ln) {
            GROK__LN(L->ln1_out, L->ln1_mean, L->ln1_rstd, L->resid_pre, grok__bp(m, w, l, GROK__LN1_W),
                     grok__bp(m, w, l, GROK__LN1_B), "blocks.%d.ln1.hook_normalized");
        }
        grok__qkv_pack_layer(m, l);
        grok__matmul_forward(L->qkv, L->ln1_out, L->wqkv, L->bqkv, R, C, 3 * HD, 0, 0);
        if (hooked) {
            /* q, k, v are (B,T,H,D) views into the packed (R, 3*H*D) rows */
            static const char *const qkv_names[3] = {"blocks.%d.attn.hook_q", "blocks.%d.attn.hook_k", "blocks.%d.attn.hook_v"};
            int s3;
            for (s3 = 0; s3 < 3; s3++) {
                qkv = grok__view4(L->qkv + s3 * HD, B, T, H, D, 4);
                qkv.stride[0] = (long)T * 3 * HD; qkv.stride[1] = 3L * HD; qkv.stride[2] = D; qkv.stride[3] = 1;
                if ((st = grok__hook_point(m, qkv, qkv_names[s3], l)) != GROK_OK) return st;
            }
            grok__attention_forward(L->z, L->scores, L->pattern, L->qkv, B, T, H, D, GROK__ATTN_SCORES);
            GROK__HOOK(L->scores, H, T, T, 4, "blocks.%d.attn.hook_attn_scores");
            grok__attention_forward(L->z, L->scores, L->pattern, L->qkv, B, T, H, D, GROK__ATTN_SOFTMAX);
            GROK__HOOK(L->pattern, H, T, T, 4, "blocks.%d.attn.hook_pattern");
            grok__attention_forward(L->z, L->scores, L->pattern, L->qkv, B, T, H, D, GROK__ATTN_MIX);
            GROK__HOOK(L->z, T, H, D, 4, "blocks.%d.attn.hook_z");
        } else {
            grok__attention_forward(L->z, L->scores, L->pattern, L->qkv, B, T, H, D, GROK__ATTN_ALL);
        }
        grok__matmul_forward(L->attn_out, L->z, grok__bp(m, w, l, GROK__W_O), grok__bp(m, w, l, GROK__B_O), R, HD, C, 0, 0);
        GROK__HOOK(L->attn_out, T, C, 0, 3, "blocks.%d.hook_attn_out");
        for (i = 0; i < (long)R * C; i++) L->resid_mid[i] = L->resid_pre[i] + L->attn_out[i];
        GROK__HOOK(L->resid_mid, T, C, 0, 3, "blocks.%d.hook_resid_mid");
        if (ln) {
            GROK__LN(L->ln2_out, L->ln2_mean, L->ln2_rstd, L->resid_mid, grok__bp(m, w, l, GROK__LN2_W),
                     grok__bp(m, w, l, GROK__LN2_B), "blocks.%d.ln2.hook_normalized");
        }
        grok__matmul_forward(L->mlp_pre, L->ln2_out, grok__bp(m, w, l, GROK__W_IN), grok__bp(m, w, l, GROK__B_IN), R, C, M, 0, 0);
        GROK__HOOK(L->mlp_pre, T, M, 0, 3, "blocks.%d.mlp.hook_pre");
        grok__act_forward(L->mlp_post, L->mlp_pre, (long)R * M, c->act_fn);
        GROK__HOOK(L->mlp_post, T, M, 0, 3, "blocks.%d.mlp.hook_post");
        grok__matmul_forward(L->mlp_out, L->mlp_post, grok__bp(m, w, l, GROK__W_OUT), grok__bp(m, w, l, GROK__B_OUT), R, M, C, 0, 0);
        GROK__HOOK(L->mlp_out, T, C, 0, 3, "blocks.%d.hook_mlp_out");
        for (i = 0; i < (long)R * C; i++) next[i] = L->resid_mid[i] + L->mlp_out[i];
        GROK__HOOK(next, T, C, 0, 3, "blocks.%d.hook_resid_post");
    }
    if (ln) {
        GROK__LN(a->lnf_out, a->lnf_mean, a->lnf_rstd, a->resid_final, grok__gp(m, w, a->idx_lnf_w),
                 grok__gp(m, w, a->idx_lnf_b), "ln_final.hook_normalized");
    }
#undef GROK__HOOK
#undef GROK__LN
    grok__matmul_forward(a->logits, a->lnf_out, grok__gp(m, w, a->idx_W_U), grok__gp(m, w, a->idx_b_U), R, C, V, 0, 0);
    return GROK_OK;
}

/* Runs the gradient hooks registered on a hook point's name over the gradient t (same name
   and shape as the activation), then copies it into the gradient cache being filled. */
static int grok__grad_hook_point(grok_model *m, grok_tensor t, const char *fmt, int l)
{
    grok__acts *a = m->acts;
    char name[GROK_NAME_MAX];
    /* cppcheck-suppress wrongPrintfScanfArgNum ; the formats without %d ignore l */
    snprintf(name, sizeof name, fmt, l);
    return grok__hooks_run(a->grad_hooks, a->n_grad_hooks, a->grad_capture, a->grad_capture_filter, a->capture_b0, t, name);
}

/* Backward of grok__forward_general: every position, every layer, from d loss / d logits
   (from_loss: the cross-entropy's, else what a->dlogits holds). With gradient hooks or a
   gradient cache ("hooked") every hook point's gradient is materialised before it propagates:
   hook_attn_out's and hook_mlp_out's get a copy of the residual gradient (gscratch), hook_embed
   and hook_pos_embed one each, and attention runs its backward one phase at a time; without,
   the residual gradient is updated in place and nothing is copied. */
static int grok__backward_general(grok_model *m, int from_loss)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    int T, C, H, D, HD, M, V, R, B, l, ln, st, hooked = a->n_grad_hooks > 0 || a->grad_capture != NULL, s3;
    float *w = m->weights, *dmlp_out = a->dresid, *dattn_out = a->dresid, *dpattern = NULL, *dscores = NULL;
    T = c->n_ctx; C = c->d_model; H = c->n_heads; D = c->d_head; HD = H * D; M = c->d_mlp; V = c->d_vocab_out;
    ln = c->normalization == GROK_NORM_LN; B = a->B; R = B * T;
#define GROK__GRAD_HOOK(data, d1, d2, d3, nd, fmt) \
    if (hooked && (st = grok__grad_hook_point(m, grok__view4(data, B, d1, d2, d3, nd), fmt, l)) != GROK_OK) return st
    /* A LayerNorm's backward from a->dln; hooked, w's and b's gradients come first (they follow
       hook_normalized in the forward), then a->dln becomes d normalised x = dln * w for the
       hook, and the input's gradient follows from what the hook leaves. Same bits either way. */
#define GROK__LN_BACK(dinp, dw, db, inp, mean, rstd, lw, fmt) \
    if (!hooked) grok__layernorm_backward(dinp, dw, db, a->dln, inp, mean, rstd, lw, R, C); \
    else { \
        long i_; \
        grok__layernorm_backward(NULL, dw, db, a->dln, inp, mean, rstd, lw, R, C); \
        for (i_ = 0; i_ < (long)R * C; i_++) a->dln[i_] *= (lw)[i_ % C]; \
        GROK__GRAD_HOOK(a->dln, T, C, 0, 3, fmt); \
        grok__layernorm_backward(dinp, NULL, NULL, a->dln, inp, mean, rstd, NULL, R, C); \
    }
    if (hooked) {
        /* gscratch: dmlp_out, dattn_out (R,C), dpattern, dscores (B,H,T,T) */
        dmlp_out = a->gscratch;
        dattn_out = dmlp_out + (long)R * C;
        dpattern = dattn_out + (long)R * C;
        dscores = dpattern + (long)B * H * T * T;
    }
    if (from_loss) grok__crossentropy_backward(a->dlogits, a->row_sum, a->targets, R, V, 1.0 / a->n_targets, m->loss);
    l = 0;
    if (ln) {
        grok__matmul_backward(a->dln, grok__gg(m, a->idx_W_U), grok__gg(m, a->idx_b_U), a->dlogits,
                              a->lnf_out, grok__gp(m, w, a->idx_W_U), R, C, V, 0, 0);
        memset(a->dresid, 0, sizeof(float) * (size_t)R * C);
        GROK__LN_BACK(a->dresid, grok__gg(m, a->idx_lnf_w), grok__gg(m, a->idx_lnf_b), a->resid_final, a->lnf_mean,
                      a->lnf_rstd, grok__gp(m, w, a->idx_lnf_w), "ln_final.hook_normalized");
    } else {
        grok__matmul_backward(a->dresid, grok__gg(m, a->idx_W_U), grok__gg(m, a->idx_b_U), a->dlogits,
                              a->lnf_out, grok__gp(m, w, a->idx_W_U), R, C, V, 0, 0);
    }
    /* a->dresid now holds d loss / d resid_post of the last block; each block turns it into
       d loss / d resid_pre in place (the residual stream passes gradients through unchanged). */
    for (l = c->n_layers - 1; l >= 0; l--) {
        grok__layer_acts *L = &a->layer[l];
        GROK__GRAD_HOOK(a->dresid, T, C, 0, 3, "blocks.%d.hook_resid_post");
        /* MLP */
        if (hooked) {
            memcpy(dmlp_out, a->dresid, sizeof(float) * (size_t)R * C);
            GROK__GRAD_HOOK(dmlp_out, T, C, 0, 3, "blocks.%d.hook_mlp_out");
        }
        grok__matmul_backward(a->dmlp, grok__bg(m, l, GROK__W_OUT), grok__bg(m, l, GROK__B_OUT), dmlp_out,
                              L->mlp_post, grok__bp(m, w, l, GROK__W_OUT), R, M, C, 0, 0);
        GROK__GRAD_HOOK(a->dmlp, T, M, 0, 3, "blocks.%d.mlp.hook_post");
        grok__act_backward(a->dmlp, a->dmlp, L->mlp_pre, (long)R * M, c->act_fn);
        GROK__GRAD_HOOK(a->dmlp, T, M, 0, 3, "blocks.%d.mlp.hook_pre");
        if (ln) {
            grok__matmul_backward(a->dln, grok__bg(m, l, GROK__W_IN), grok__bg(m, l, GROK__B_IN), a->dmlp,
                                  L->ln2_out, grok__bp(m, w, l, GROK__W_IN), R, C, M, 0, 0);
            GROK__LN_BACK(a->dresid, grok__bg(m, l, GROK__LN2_W), grok__bg(m, l, GROK__LN2_B), L->resid_mid, L->ln2_mean,
                          L->ln2_rstd, grok__bp(m, w, l, GROK__LN2_W), "blocks.%d.ln2.hook_normalized");
        } else {
            grok__matmul_backward(a->dresid, grok__bg(m, l, GROK__W_IN), grok__bg(m, l, GROK__B_IN), a->dmlp,
                                  L->ln2_out, grok__bp(m, w, l, GROK__W_IN), R, C, M, 1, 0);
        }
        GROK__GRAD_HOOK(a->dresid, T, C, 0, 3, "blocks.%d.hook_resid_mid");
        /* attention */
        if (hooked) {
            memcpy(dattn_out, a->dresid, sizeof(float) * (size_t)R * C);
            GROK__GRAD_HOOK(dattn_out, T, C, 0, 3, "blocks.%d.hook_attn_out");
        }
        grok__matmul_backward(a->dz, grok__bg(m, l, GROK__W_O), grok__bg(m, l, GROK__B_O), dattn_out,
                              L->z, grok__bp(m, w, l, GROK__W_O), R, HD, C, 0, 0);
        if (hooked) {
            static const char *const qkv_names[3] = {"blocks.%d.attn.hook_q", "blocks.%d.attn.hook_k", "blocks.%d.attn.hook_v"};
            GROK__GRAD_HOOK(a->dz, T, H, D, 4, "blocks.%d.attn.hook_z");
            grok__attention_backward(a->dqkv, dpattern, dscores, a->dz, L->qkv, L->pattern, B, T, H, D, GROK__ATTN_MIX);
            GROK__GRAD_HOOK(dpattern, H, T, T, 4, "blocks.%d.attn.hook_pattern");
            grok__attention_backward(a->dqkv, dpattern, dscores, a->dz, L->qkv, L->pattern, B, T, H, D, GROK__ATTN_SOFTMAX);
            GROK__GRAD_HOOK(dscores, H, T, T, 4, "blocks.%d.attn.hook_attn_scores");
            grok__attention_backward(a->dqkv, dpattern, dscores, a->dz, L->qkv, L->pattern, B, T, H, D, GROK__ATTN_SCORES);
            for (s3 = 0; s3 < 3; s3++) {
                /* d q, d k, d v are (B,T,H,D) views into the packed (R, 3*H*D) rows */
                grok_tensor dqkv = grok__view4(a->dqkv + s3 * HD, B, T, H, D, 4);
                dqkv.stride[0] = (long)T * 3 * HD; dqkv.stride[1] = 3L * HD; dqkv.stride[2] = D; dqkv.stride[3] = 1;
                if ((st = grok__grad_hook_point(m, dqkv, qkv_names[s3], l)) != GROK_OK) return st;
            }
        } else {
            grok__attention_backward(a->dqkv, NULL, NULL, a->dz, L->qkv, L->pattern, B, T, H, D, GROK__ATTN_ALL);
        }
        memset(a->dwqkv, 0, sizeof(float) * (size_t)C * 3 * HD);
        grok__matmul_backward(ln ? a->dln : a->dresid, a->dwqkv, NULL, a->dqkv, L->ln1_out, L->wqkv, R, C, 3 * HD, !ln, 0);
        grok__qkv_grads_add(m, l, a->dwqkv, a->dqkv, R);
        if (ln) {
            GROK__LN_BACK(a->dresid, grok__bg(m, l, GROK__LN1_W), grok__bg(m, l, GROK__LN1_B), L->resid_pre, L->ln1_mean,
                          L->ln1_rstd, grok__bp(m, w, l, GROK__LN1_W), "blocks.%d.ln1.hook_normalized");
        }
        GROK__GRAD_HOOK(a->dresid, T, C, 0, 3, "blocks.%d.hook_resid_pre");
    }
    l = 0;
    if (hooked) {
        /* d hook_pos_embed gets its own copy (in dmlp_out, free again) so that a hook can change
           one without the other */
        memcpy(dmlp_out, a->dresid, sizeof(float) * (size_t)R * C);
        GROK__GRAD_HOOK(dmlp_out, T, C, 0, 3, "hook_pos_embed");
        GROK__GRAD_HOOK(a->dresid, T, C, 0, 3, "hook_embed");
        grok__embed_backward(NULL, grok__gg(m, a->idx_W_pos), dmlp_out, a->tokens, R, T, C);
        grok__embed_backward(grok__gg(m, a->idx_W_E), NULL, a->dresid, a->tokens, R, T, C);
    } else {
        grok__embed_backward(grok__gg(m, a->idx_W_E), grok__gg(m, a->idx_W_pos), a->dresid, a->tokens, R, T, C);
    }
#undef GROK__GRAD_HOOK
#undef GROK__LN_BACK
    return GROK_OK;
}

/* ---- the trimmed path */

/* What the trimmed and folded paths share. The queries: the rows with a target, in row order
   (qrow, qtarget); returns their count Q. */
static int grok__table_queries(grok__acts *a, long R)
{
    long r;
    int Q = 0;
    for (r = 0; r < R; r++)
        if (a->targets[r] >= 0) { a->qrow[Q] = (int)r; a->qtarget[Q] = a->targets[r]; Q++; }
    return Q;
}

/* Q, K and V of every table row, qkv_tab (Nt, 3*H*D) = x (Nt, C) @ wqkv + bqkv: the general
   path's projection over the Vin*T (position, token) rows instead of the B*T residual rows.
   x is the block's input of each table row: the embeddings e_tab, or x_tab after ln1. */
static void grok__table_qkv_forward(grok_model *m, const float *x)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    grok__qkv_pack_layer(m, 0);
    grok__matmul_forward(a->qkv_tab, x, a->layer[0].wqkv, a->layer[0].bqkv, c->n_ctx * c->d_vocab, c->d_model,
                         3 * c->n_heads * c->d_head, 0, 0);
}

/* Backward of grok__table_qkv_forward from dtab (Nt, 3*H*D): ADDS the W_Q/K/V and b_Q/K/V
   gradients and writes (accumulate = 0) or adds (1) d loss / d x into dx (Nt, C). */
static void grok__table_qkv_backward(grok_model *m, float *dx, const float *x, int accumulate)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    int C = c->d_model, HD = c->n_heads * c->d_head, Nt = c->n_ctx * c->d_vocab;
    memset(a->dwqkv, 0, sizeof(float) * (size_t)C * 3 * HD);
    grok__matmul_backward(dx, a->dwqkv, NULL, a->dtab, x, a->layer[0].wqkv, Nt, C, 3 * HD, accumulate, 0);
    grok__qkv_grads_add(m, 0, a->dwqkv, a->dtab, Nt);
}

/* The trimmed path (one-layer models with LayerNorm, forward with targets and without
   logits_out; without LayerNorm the folded path below goes further).
   Only target positions reach the loss, so only their rows ("queries") go through W_O, the
   MLP and the unembedding; and the block's input at a position depends on (position, token)
   alone, so Q, K and V are computed once per table entry (Vin*T rows) and gathered. It is
   the same function as the general path, in fewer FLOPs (for the canonical shapes about a
   quarter of the work). Query i is residual row qrow[i]; the table row of token v at position
   u is v*T + u, laid out like a batch of Vin sequences (tab_tokens) so that the embedding's
   forward and backward serve it unchanged. */

typedef struct {
    grok_model *m;
    int n_q;
    int want_z; /* the folded path needs only the pattern */
} grok__trim_args;

static int grok__tab_row(const grok_model *m, long r)
{
    return m->acts->tokens[r] * m->cfg.n_ctx + (int)(r % m->cfg.n_ctx);
}

/* qkv_tab (Nt, 3*H*D) -> scores, pattern (Q,H,T) (-inf and 0 past the query), z (Q, H*D). */
static void grok__trim_attention_task(void *ctx, int task, int ntasks)
{
    const grok__trim_args *ta = (const grok__trim_args *)ctx;
    const grok_model *m = ta->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head, HD = H * D, h, u, d;
    long i, lo = grok__chunk_lo(ta->n_q, task, ntasks), hi = grok__chunk_lo(ta->n_q, task + 1, ntasks);
    float scale = 1.0f / sqrtf((float)D);
    for (i = lo; i < hi; i++) {
        long r = a->qrow[i], first = r - r % T;
        int t = (int)(r % T);
        const float *qrow = a->qkv_tab + (long)grok__tab_row(m, r) * 3 * HD;
        for (h = 0; h < H; h++) {
            float *sc = L->scores + (i * H + h) * T, *pat = L->pattern + (i * H + h) * T;
            float *z = L->z + i * HD + h * D, mx = -INFINITY;
            double sum = 0.0;
            for (u = 0; u <= t; u++) {
                const float *k = a->qkv_tab + (long)grok__tab_row(m, first + u) * 3 * HD + HD + h * D;
                float s = 0.0f;
                for (d = 0; d < D; d++) s += qrow[h * D + d] * k[d];
                sc[u] = s * scale;
                if (sc[u] > mx) mx = sc[u];
            }
            for (u = 0; u <= t; u++) { pat[u] = expf(sc[u] - mx); sum += pat[u]; }
            for (u = t + 1; u < T; u++) { sc[u] = -INFINITY; pat[u] = 0.0f; }
            for (u = 0; u <= t; u++) pat[u] = (float)(pat[u] / sum);
            if (!ta->want_z) continue;
            for (d = 0; d < D; d++) z[d] = 0.0f;
            for (u = 0; u <= t; u++) {
                const float *v = a->qkv_tab + (long)grok__tab_row(m, first + u) * 3 * HD + 2 * HD + h * D;
                for (d = 0; d < D; d++) z[d] += pat[u] * v[d];
            }
        }
    }
}

static void grok__trim_forward(grok_model *m)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    grok__layer_acts *L = &a->layer[0];
    grok__trim_args ta;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp;
    int Vin = c->d_vocab, Nt = T * Vin, Q, relu = c->act_fn == GROK_ACT_RELU, k;
    long i;
    float eps = (float)c->ln_eps, *w = m->weights;
    const float *W_E = grok__gp(m, w, a->idx_W_E), *W_pos = grok__gp(m, w, a->idx_W_pos);
    const float *b_O = grok__bp(m, w, 0, GROK__B_O), *b_out = grok__bp(m, w, 0, GROK__B_OUT);
    Q = grok__table_queries(a, (long)a->B * T);
    grok__embed_forward(a->e_tab, a->tab_tokens, W_E, W_pos, Nt, T, C);
    grok__layernorm_forward(a->x_tab, a->x_tab_mean, a->x_tab_rstd, a->e_tab,
                            grok__bp(m, w, 0, GROK__LN1_W), grok__bp(m, w, 0, GROK__LN1_B), Nt, C, eps);
    grok__table_qkv_forward(m, a->x_tab);
    ta.m = m;
    ta.n_q = Q;
    ta.want_z = 1;
    grok__parallel_for(grok__trim_attention_task, &ta, grok__tasks_for(Q));
    /* resid_mid = resid_pre + b_O, then += z @ W_O in the GEMM; resid_final likewise. */
    for (i = 0; i < Q; i++) {
        const float *GROK__RESTRICT e = a->e_tab + (long)grok__tab_row(m, a->qrow[i]) * C, *GROK__RESTRICT bo = b_O;
        float *GROK__RESTRICT o = L->resid_mid + i * C;
        for (k = 0; k < C; k++) o[k] = e[k] + bo[k];
    }
    grok__matmul_forward(L->resid_mid, L->z, grok__bp(m, w, 0, GROK__W_O), NULL, Q, HD, C, 1, 0);
    grok__layernorm_forward(L->ln2_out, L->ln2_mean, L->ln2_rstd, L->resid_mid,
                            grok__bp(m, w, 0, GROK__LN2_W), grok__bp(m, w, 0, GROK__LN2_B), Q, C, eps);
    /* ReLU is fused into W_in's GEMM: its backward needs only the output (post > 0 iff pre > 0). */
    if (relu) {
        grok__matmul_forward(L->mlp_post, L->ln2_out, grok__bp(m, w, 0, GROK__W_IN), grok__bp(m, w, 0, GROK__B_IN), Q, C, M, 0, 1);
    } else {
        grok__matmul_forward(L->mlp_pre, L->ln2_out, grok__bp(m, w, 0, GROK__W_IN), grok__bp(m, w, 0, GROK__B_IN), Q, C, M, 0, 0);
        grok__act_forward(L->mlp_post, L->mlp_pre, (long)Q * M, c->act_fn);
    }
    for (i = 0; i < Q; i++) {
        const float *GROK__RESTRICT x = L->resid_mid + i * C, *GROK__RESTRICT bo = b_out;
        float *GROK__RESTRICT o = a->resid_final + i * C;
        for (k = 0; k < C; k++) o[k] = x[k] + bo[k];
    }
    grok__matmul_forward(a->resid_final, L->mlp_post, grok__bp(m, w, 0, GROK__W_OUT), NULL, Q, M, C, 1, 0);
    grok__layernorm_forward(a->lnf_out, a->lnf_mean, a->lnf_rstd, a->resid_final,
                            grok__gp(m, w, a->idx_lnf_w), grok__gp(m, w, a->idx_lnf_b), Q, C, eps);
    grok__matmul_forward(a->logits, a->lnf_out, grok__gp(m, w, a->idx_W_U), grok__gp(m, w, a->idx_b_U), Q, C, c->d_vocab_out, 0, 0);
    grok__crossentropy_forward(a->dlogits, a->row_sum, a->row_loss, a->row_correct, a->logits, a->qtarget, Q, c->d_vocab_out,
                               m->loss);
}

/* Per query: dpattern, the softmax backward ds (Q,H,T) into scores, dq (Q, H*D) into dqkv. */
static void grok__trim_attention_backward_task(void *ctx, int task, int ntasks)
{
    const grok__trim_args *ta = (const grok__trim_args *)ctx;
    const grok_model *m = ta->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head, HD = H * D, h, u, d;
    long i, lo = grok__chunk_lo(ta->n_q, task, ntasks), hi = grok__chunk_lo(ta->n_q, task + 1, ntasks);
    float scale = 1.0f / sqrtf((float)D);
    for (i = lo; i < hi; i++) {
        long r = a->qrow[i], first = r - r % T;
        int t = (int)(r % T);
        for (h = 0; h < H; h++) {
            const float *pat = L->pattern + (i * H + h) * T, *dz = a->dz + i * HD + h * D;
            float *ds = L->scores + (i * H + h) * T, *dq = a->dqkv + i * HD + h * D, dot = 0.0f;
            for (u = 0; u <= t; u++) {
                const float *v = a->qkv_tab + (long)grok__tab_row(m, first + u) * 3 * HD + 2 * HD + h * D;
                float s = 0.0f;
                for (d = 0; d < D; d++) s += dz[d] * v[d];
                ds[u] = s;
                dot += pat[u] * s;
            }
            for (d = 0; d < D; d++) dq[d] = 0.0f;
            for (u = 0; u <= t; u++) {
                const float *k = a->qkv_tab + (long)grok__tab_row(m, first + u) * 3 * HD + HD + h * D;
                ds[u] = pat[u] * (ds[u] - dot) * scale;
                for (d = 0; d < D; d++) dq[d] += ds[u] * k[d];
            }
        }
    }
}

/* Per table row, in query order (so any thread count sums the same way): dtab (Nt, 3*H*D)
   gathers dq, dk, dv of every query reading that row, de_tab (Nt, C) the residual gradient. */
static void grok__trim_scatter_task(void *ctx, int task, int ntasks)
{
    const grok__trim_args *ta = (const grok__trim_args *)ctx;
    const grok_model *m = ta->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head, HD = H * D, C = m->cfg.d_model;
    int Vin = m->cfg.d_vocab, Nt = T * Vin, h, d, e;
    long j, lo = grok__chunk_lo(Nt, task, ntasks), hi = grok__chunk_lo(Nt, task + 1, ntasks);
    for (j = lo; j < hi; j++) {
        float *dt = a->dtab + j * 3 * HD, *de = a->de_tab + j * C;
        int u = (int)(j % T);
        memset(dt, 0, sizeof(float) * 3 * (size_t)HD);
        memset(de, 0, sizeof(float) * (size_t)C);
        for (e = a->csr_off[j]; e < a->csr_off[j + 1]; e++) {
            long i = a->csr_ent[e], r = a->qrow[i];
            const float *q = a->qkv_tab + (long)grok__tab_row(m, r) * 3 * HD;
            for (h = 0; h < H; h++) {
                float ds = L->scores[(i * H + h) * T + u], p = L->pattern[(i * H + h) * T + u];
                const float *dz = a->dz + i * HD + h * D;
                float *dk = dt + HD + h * D, *dv = dt + 2 * HD + h * D;
                for (d = 0; d < D; d++) { dk[d] += ds * q[h * D + d]; dv[d] += p * dz[d]; }
            }
            if (r % T == u) {
                const float *dq = a->dqkv + i * HD, *dr = a->dresid + i * C;
                for (d = 0; d < HD; d++) dt[d] += dq[d];
                for (d = 0; d < C; d++) de[d] += dr[d];
            }
        }
    }
}

/* Counting sort of (query, position) pairs by table row: csr_ent[csr_off[j]..csr_off[j+1])
   are the queries reading table row j, in ascending order. */
static void grok__trim_csr(grok_model *m)
{
    grok__acts *a = m->acts;
    int T = m->cfg.n_ctx, Nt = T * m->cfg.d_vocab, Q = a->n_targets, i, j, k;
    memset(a->csr_off, 0, sizeof(int) * (size_t)(Nt + 1));
    for (i = 0; i < Q; i++)
        for (k = 0; k <= a->qrow[i] % T; k++) a->csr_off[grok__tab_row(m, a->qrow[i] - a->qrow[i] % T + k) + 1]++;
    for (j = 0; j < Nt; j++) a->csr_off[j + 1] += a->csr_off[j];
    for (i = 0; i < Q; i++)
        for (k = 0; k <= a->qrow[i] % T; k++) {
            int row = grok__tab_row(m, a->qrow[i] - a->qrow[i] % T + k);
            a->csr_ent[a->csr_off[row]++] = i;
        }
    for (j = Nt; j > 0; j--) a->csr_off[j] = a->csr_off[j - 1];
    a->csr_off[0] = 0;
}

static void grok__trim_backward(grok_model *m)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    grok__layer_acts *L = &a->layer[0];
    grok__trim_args ta;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int Vin = c->d_vocab, Nt = T * Vin, Q = a->n_targets, relu = c->act_fn == GROK_ACT_RELU;
    float *w = m->weights;

    grok__crossentropy_backward(a->dlogits, a->row_sum, a->qtarget, Q, V, 1.0 / Q, m->loss);
    grok__matmul_backward(a->dln, grok__gg(m, a->idx_W_U), grok__gg(m, a->idx_b_U), a->dlogits,
                          a->lnf_out, grok__gp(m, w, a->idx_W_U), Q, C, V, 0, 0);
    memset(a->dresid, 0, sizeof(float) * (size_t)Q * C);
    grok__layernorm_backward(a->dresid, grok__gg(m, a->idx_lnf_w), grok__gg(m, a->idx_lnf_b), a->dln,
                             a->resid_final, a->lnf_mean, a->lnf_rstd, grok__gp(m, w, a->idx_lnf_w), Q, C);
    grok__matmul_backward(a->dmlp, grok__bg(m, 0, GROK__W_OUT), grok__bg(m, 0, GROK__B_OUT), a->dresid,
                          L->mlp_post, grok__bp(m, w, 0, GROK__W_OUT), Q, M, C, 0, relu);
    if (!relu) grok__act_backward(a->dmlp, a->dmlp, L->mlp_pre, (long)Q * M, c->act_fn);
    grok__matmul_backward(a->dln, grok__bg(m, 0, GROK__W_IN), grok__bg(m, 0, GROK__B_IN), a->dmlp,
                          L->ln2_out, grok__bp(m, w, 0, GROK__W_IN), Q, C, M, 0, 0);
    grok__layernorm_backward(a->dresid, grok__bg(m, 0, GROK__LN2_W), grok__bg(m, 0, GROK__LN2_B), a->dln,
                             L->resid_mid, L->ln2_mean, L->ln2_rstd, grok__bp(m, w, 0, GROK__LN2_W), Q, C);
    grok__matmul_backward(a->dz, grok__bg(m, 0, GROK__W_O), grok__bg(m, 0, GROK__B_O), a->dresid,
                          L->z, grok__bp(m, w, 0, GROK__W_O), Q, HD, C, 0, 0);
    ta.m = m;
    ta.n_q = Q;
    ta.want_z = 1;
    grok__parallel_for(grok__trim_attention_backward_task, &ta, grok__tasks_for(Q));

    grok__trim_csr(m);
    grok__parallel_for(grok__trim_scatter_task, &ta, grok__tasks_for(Nt));

    grok__table_qkv_backward(m, a->dx_tab, a->x_tab, 0);
    grok__layernorm_backward(a->de_tab, grok__bg(m, 0, GROK__LN1_W), grok__bg(m, 0, GROK__LN1_B), a->dx_tab,
                             a->e_tab, a->x_tab_mean, a->x_tab_rstd, grok__bp(m, w, 0, GROK__LN1_W), Nt, C);
    grok__embed_backward(grok__gg(m, a->idx_W_E), grok__gg(m, a->idx_W_pos), a->de_tab, a->tab_tokens, Nt, T, C);
}

/* ---- the folded path */

/* The folded path: the trimmed path for one-layer models without LayerNorm (the canonical
   model). Without LayerNorm the residual stream is linear in what attention mixes, so W_in and
   W_U fold into small tables instead of running over every query:
       resid_mid_i = e_own + b_O + sum_{h,u} pattern_ihu * Y[row(u), h],  Y[j, h] = v[j, h] @ W_O[h]
   and with S = [W_in | W_U] (C, M+V) each query's MLP input and the residual's share of its
   logits are a weighted sum of rows of fold_tab = fold_src @ S, where fold_src stacks Y of the
   attended table rows, the embeddings of the queries' own rows, b_O and b_out:
       [pre_i | logits_i] = cst + fold_tab[own_i] + sum_{h,u} pattern_ihu * fold_tab[Y(row(u), h)]
       logits_i += act(pre_i) @ (W_out @ W_U)
   The same function as the general path; W_in's and W_out's GEMMs over the queries become
   GEMMs over at most (H+1)*Vin*T table rows, and the MLP's output and the unembedding merge
   into one (M, V) product. Backward runs the same steps in reverse, with the scatter of
   query gradients onto table rows ordered by grok__trim_csr as in the trimmed path. */

typedef struct {
    grok_model *m;
    int n_q, n_y; /* queries; Y rows (n_att * H), after which the own rows start */
    const grok__kernel *kr;
    int backward; /* for grok__fold_heads_task */
} grok__fold_args;

/* Head h of Y = v @ W_O (fold_v (n_att, H*D), W_O (H, D, C) -> the Y rows of fold_src), or
   its backward into dW_O[h] and dfold_v. One head per task: each GEMM is too small to split. */
static void grok__fold_heads_task(void *ctx, int h, int nheads)
{
    const grok__fold_args *fa = (const grok__fold_args *)ctx;
    grok_model *m = fa->m;
    grok__acts *a = m->acts;
    int C = m->cfg.d_model, D = m->cfg.d_head, HD = nheads * D;
    const float *W_O = grok__bp(m, m->weights, 0, GROK__W_O);
    float *dW_O = grok__bg(m, 0, GROK__W_O);
    if (!fa->backward) {
        grok_gemm(0, 0, a->n_att, C, D, 1.0f, a->fold_v + h * D, HD, W_O + (long)h * D * C, C, 0.0f,
                  a->fold_src + (long)h * C, nheads * C);
        return;
    }
    if (dW_O) grok_gemm(1, 0, D, C, a->n_att, 1.0f, a->fold_v + h * D, HD, a->dfold_src + (long)h * C, nheads * C,
                        1.0f, dW_O + (long)h * D * C, C);
    grok_gemm(0, 1, a->n_att, D, C, 1.0f, a->dfold_src + (long)h * C, nheads * C, W_O + (long)h * D * C, C, 0.0f,
              a->dfold_v + h * D, HD);
}

/* Terms per madd/dots call: pointer lists live on the stack in batches of this size. */
#define GROK__FOLD_BATCH 64
static const float grok__fold_ones[GROK__FOLD_BATCH] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1};

/* fold_tab (Nsrc, S), pattern (Q,H,T) -> mlp_pre or mlp_post (Q,M), logits (Q,V). */
static void grok__fold_gather_task(void *ctx, int task, int ntasks)
{
    const grok__fold_args *fa = (const grok__fold_args *)ctx;
    const grok_model *m = fa->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, M = m->cfg.d_mlp, V = m->cfg.d_vocab_out, S = M + V, h, u, k, n, part;
    int relu = m->cfg.act_fn == GROK_ACT_RELU;
    const float *x[GROK__FOLD_BATCH];
    float al[GROK__FOLD_BATCH];
    long i, lo = grok__chunk_lo(fa->n_q, task, ntasks), hi = grok__chunk_lo(fa->n_q, task + 1, ntasks);
    for (i = lo; i < hi; i++) {
        long r = a->qrow[i], first = r - r % T;
        int t = (int)(r % T);
        float *pre = (relu ? L->mlp_post : L->mlp_pre) + i * M;
        for (part = 0; part < 2; part++) { /* [pre | logits] = cst + own + sum of pattern * Y */
            int off = part ? M : 0, w = part ? V : M;
            float *y = part ? a->logits + i * V : pre;
            memcpy(y, a->fold_cst + off, sizeof(float) * (size_t)w);
            x[0] = a->fold_tab + (long)(fa->n_y + a->own_idx[grok__tab_row(m, r)]) * S + off;
            al[0] = 1.0f;
            n = 1;
            for (u = 0; u <= t; u++) {
                const float *row = a->fold_tab + (long)a->att_idx[grok__tab_row(m, first + u)] * H * S + off;
                for (h = 0; h < H; h++, row += S) {
                    if (n == GROK__FOLD_BATCH) { fa->kr->madd(&y, 1, x, al, n, w); n = 0; }
                    x[n] = row;
                    al[n++] = L->pattern[(i * H + h) * T + u];
                }
            }
            fa->kr->madd(&y, 1, x, al, n, w);
        }
        if (relu) {
            fa->kr->epilogue(pre, NULL, 1, NULL, NULL, M);
            fa->kr->positive_bits(pre, M, a->fold_relu_bits + i * ((M + 15) / 16));
        } else
            for (k = 0; k < M; k++) L->mlp_post[i * M + k] = grok__gelu(pre[k]);
    }
}

static void grok__sift_min(long long *k, int root, int n)
{
    int child;
    long long t;
    while ((child = 2 * root + 1) < n) {
        if (child + 1 < n && k[child + 1] < k[child]) child++;
        if (k[root] <= k[child]) return;
        t = k[root]; k[root] = k[child]; k[child] = t;
        root = child;
    }
}

/* Sorts k[0..n) in descending order, in place (heapsort: qsort may allocate, and a training
   step must not). */
static void grok__sort_desc(long long *k, int n)
{
    int i;
    long long t;
    for (i = n / 2 - 1; i >= 0; i--) grok__sift_min(k, i, n);
    for (i = n - 1; i > 0; i--) {
        t = k[0]; k[0] = k[i]; k[i] = t;
        grok__sift_min(k, 0, i);
    }
}

/* Deals the attended table rows to the pool's threads, the most read first to the least loaded
   (a row's backward work grows with the queries reading it, and in modular addition the '='
   row alone is read by every query). Which thread does a row changes no result. */
static void grok__fold_deal(grok__acts *a, int Nt)
{
    long long load[GROK__MAX_THREADS];
    int P = grok__pool_size(), n = 0, i, p;
    if (P > GROK__MAX_THREADS) P = GROK__MAX_THREADS;
    for (i = 0; i < Nt; i++)
        if (a->att_idx[i] >= 0) a->fold_keys[n++] = ((long long)(a->csr_off[i + 1] - a->csr_off[i]) << 32) | i;
    grok__sort_desc(a->fold_keys, n);
    for (p = 0; p < P; p++) load[p] = 0;
    for (i = 0; i < n; i++) { /* the thread in the key's high bits, then its rows in order */
        int best = 0;
        for (p = 1; p < P; p++) if (load[p] < load[best]) best = p;
        load[best] += a->fold_keys[i] >> 32;
        a->fold_keys[i] = ((long long)best << 32) | (a->fold_keys[i] & 0xFFFFFFFFLL);
    }
    grok__sort_desc(a->fold_keys, n);
    for (p = 0; p <= P; p++) a->fold_part[p] = 0;
    for (i = 0; i < n; i++) {
        a->fold_rows[n - 1 - i] = (int)(a->fold_keys[i] & 0xFFFFFFFFLL);
        a->fold_part[(a->fold_keys[i] >> 32) + 1]++;
    }
    for (p = 0; p < P; p++) a->fold_part[p + 1] += a->fold_part[p];
    a->n_parts = P;
}

static void grok__fold_forward(grok_model *m)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    grok__layer_acts *L = &a->layer[0];
    grok__trim_args ta;
    grok__fold_args fa;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int S = M + V, Vin = c->d_vocab, Nt = T * Vin, Q, j, k, nsrc;
    long R = (long)a->B * T;
    float *w = m->weights, *cst = a->fold_cst, *src;
    const float *W_in = grok__bp(m, w, 0, GROK__W_IN);
    const float *W_out = grok__bp(m, w, 0, GROK__W_OUT), *W_U = grok__gp(m, w, a->idx_W_U);
    const float *b_in = grok__bp(m, w, 0, GROK__B_IN), *b_U = grok__gp(m, w, a->idx_b_U);
    Q = grok__table_queries(a, R);
    grok__trim_csr(m);
    /* Compact indices, in table order, of the rows some query attends to and of its own rows. */
    a->n_att = a->n_own = 0;
    for (j = 0; j < Nt; j++) {
        int e, own = 0;
        for (e = a->csr_off[j]; e < a->csr_off[j + 1] && !own; e++) own = a->qrow[a->csr_ent[e]] % T == j % T;
        a->att_idx[j] = a->csr_off[j + 1] > a->csr_off[j] ? a->n_att : -1;
        if (a->att_idx[j] >= 0) a->att_rows[a->n_att++] = j;
        a->own_idx[j] = own ? a->n_own : -1;
        if (own) a->own_rows[a->n_own++] = j;
    }
    grok__fold_deal(a, Nt);
    grok__embed_forward(a->e_tab, a->tab_tokens, grok__gp(m, w, a->idx_W_E), grok__gp(m, w, a->idx_W_pos), Nt, T, C);
    grok__table_qkv_forward(m, a->e_tab);
    ta.m = m;
    ta.n_q = Q;
    ta.want_z = 0;
    grok__parallel_for(grok__trim_attention_task, &ta, grok__tasks_for(Q));

    /* fold_src: Y rows (n_att, H, C), own embeddings (n_own, C), b_O, b_out. */
    fa.m = m; fa.n_q = Q; fa.n_y = a->n_att * H; fa.kr = grok__kernel_get();
    for (j = 0; j < a->n_att; j++)
        memcpy(a->fold_v + (long)j * HD, a->qkv_tab + (long)a->att_rows[j] * 3 * HD + 2 * HD, sizeof(float) * (size_t)HD);
    fa.backward = 0;
    grok__parallel_for(grok__fold_heads_task, &fa, H);
    src = a->fold_src + (long)fa.n_y * C;
    for (j = 0; j < a->n_own; j++, src += C) memcpy(src, a->e_tab + (long)a->own_rows[j] * C, sizeof(float) * (size_t)C);
    memcpy(src, grok__bp(m, w, 0, GROK__B_O), sizeof(float) * (size_t)C);
    memcpy(src + C, grok__bp(m, w, 0, GROK__B_OUT), sizeof(float) * (size_t)C);
    nsrc = fa.n_y + a->n_own + 2;
    for (k = 0; k < C; k++) {
        memcpy(a->wcat + (long)k * S, W_in + (long)k * M, sizeof(float) * (size_t)M);
        memcpy(a->wcat + (long)k * S + M, W_U + (long)k * V, sizeof(float) * (size_t)V);
    }
    grok_gemm(0, 0, nsrc, S, C, 1.0f, a->fold_src, C, a->wcat, S, 0.0f, a->fold_tab, S);
    grok_gemm(0, 0, M, V, C, 1.0f, W_out, C, W_U, V, 0.0f, a->wc, V);
    {
        const float *tb_O = a->fold_tab + (long)(nsrc - 2) * S, *tb_out = a->fold_tab + (long)(nsrc - 1) * S;
        for (k = 0; k < M; k++) cst[k] = tb_O[k] + b_in[k];
        for (k = 0; k < V; k++) cst[M + k] = tb_O[M + k] + tb_out[M + k] + b_U[k];
    }
    grok__parallel_for(grok__fold_gather_task, &fa, grok__tasks_for(Q));
    grok_gemm(0, 0, Q, V, M, 1.0f, L->mlp_post, M, a->wc, V, 1.0f, a->logits, V);
    grok__crossentropy_forward(a->dlogits, a->row_sum, a->row_loss, a->row_correct, a->logits, a->qtarget, Q, V, m->loss);
}

/* Per table row j, its queries in order, in batches: dfold_tab gets the gradients of j's
   H Y rows (weight pattern) and of its own row (weight 1 for a query at j's position, 0 for
   later ones), and scores gets d loss / d pattern = [dpre | dlogits] . fold_tab[Y] of every
   (query, head) reading j, from the same pass over the query's gradient row. Heads go in
   groups of up to 8. */
#define GROK__FOLD_HEADS 8
static void grok__fold_values_task(void *ctx, int task, int ntasks)
{
    const grok__fold_args *fa = (const grok__fold_args *)ctx;
    const grok_model *m = fa->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, M = m->cfg.d_mlp, V = m->cfg.d_vocab_out;
    int S = M + V, h, e, n;
    const float *xm[GROK__FOLD_BATCH], *xv[GROK__FOLD_BATCH], *tm[GROK__FOLD_HEADS], *tv[GROK__FOLD_HEADS];
    float al[GROK__FOLD_BATCH * (GROK__FOLD_HEADS + 1)];
    float dm[GROK__FOLD_BATCH * GROK__FOLD_HEADS], dv[GROK__FOLD_BATCH * GROK__FOLD_HEADS];
    float *ym[GROK__FOLD_HEADS + 1], *yv[GROK__FOLD_HEADS + 1];
    int k;
    (void)ntasks;
    for (k = a->fold_part[task]; k < a->fold_part[task + 1]; k++) {
        long j = a->fold_rows[k];
        int u = (int)(j % T), own = a->own_idx[j] >= 0, e0, h0;
        memset(a->dfold_tab + (long)a->att_idx[j] * H * S, 0, sizeof(float) * (size_t)H * S);
        if (own) memset(a->dfold_tab + (long)(fa->n_y + a->own_idx[j]) * S, 0, sizeof(float) * (size_t)S);
        for (e0 = a->csr_off[j]; e0 < a->csr_off[j + 1]; e0 += GROK__FOLD_BATCH) {
            n = a->csr_off[j + 1] - e0 < GROK__FOLD_BATCH ? a->csr_off[j + 1] - e0 : GROK__FOLD_BATCH;
            for (e = 0; e < n; e++) {
                long i = a->csr_ent[e0 + e];
                xm[e] = a->dmlp + i * M;
                xv[e] = a->dlogits + i * V;
            }
            for (h0 = 0; h0 < H; h0 += GROK__FOLD_HEADS) {
                int nh = H - h0 < GROK__FOLD_HEADS ? H - h0 : GROK__FOLD_HEADS, ny = nh + (own && h0 + nh == H);
                for (h = 0; h < ny; h++) {
                    ym[h] = h < nh ? a->dfold_tab + ((long)a->att_idx[j] * H + h0 + h) * S
                                   : a->dfold_tab + (long)(fa->n_y + a->own_idx[j]) * S;
                    yv[h] = ym[h] + M;
                    if (h < nh) {
                        tm[h] = a->fold_tab + ((long)a->att_idx[j] * H + h0 + h) * S;
                        tv[h] = tm[h] + M;
                    }
                }
                for (e = 0; e < n; e++) {
                    long i = a->csr_ent[e0 + e];
                    for (h = 0; h < nh; h++) al[e * ny + h] = L->pattern[(i * H + h0 + h) * T + u];
                    if (ny > nh) al[e * ny + nh] = a->qrow[i] % T == u ? 1.0f : 0.0f;
                }
                fa->kr->scatter(ym, ny, xm, al, n, M, tm, nh, dm);
                fa->kr->scatter(yv, ny, xv, al, n, V, tv, nh, dv);
                for (e = 0; e < n; e++) {
                    long i = a->csr_ent[e0 + e];
                    for (h = 0; h < nh; h++) L->scores[(i * H + h0 + h) * T + u] = dm[e * nh + h] + dv[e * nh + h];
                }
            }
        }
    }
}

/* Per query: the softmax backward of d loss / d pattern (in scores) -> ds (Q,H,T) in place,
   dq (Q, H*D) in dqkv. */
static void grok__fold_attention_backward_task(void *ctx, int task, int ntasks)
{
    const grok__fold_args *fa = (const grok__fold_args *)ctx;
    const grok_model *m = fa->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head, HD = H * D, h, u, u0, n;
    const float *kx[GROK__FOLD_BATCH];
    long i, lo = grok__chunk_lo(fa->n_q, task, ntasks), hi = grok__chunk_lo(fa->n_q, task + 1, ntasks);
    float scale = 1.0f / sqrtf((float)D);
    for (i = lo; i < hi; i++) {
        long r = a->qrow[i], first = r - r % T;
        int t = (int)(r % T);
        for (h = 0; h < H; h++) {
            const float *pat = L->pattern + (i * H + h) * T;
            float *ds = L->scores + (i * H + h) * T, *dq = a->dqkv + i * HD + h * D, dot = 0.0f;
            for (u = 0; u <= t; u++) dot += pat[u] * ds[u];
            memset(dq, 0, sizeof(float) * (size_t)D);
            for (u0 = 0; u0 <= t; u0 += GROK__FOLD_BATCH) {
                n = t + 1 - u0 < GROK__FOLD_BATCH ? t + 1 - u0 : GROK__FOLD_BATCH;
                for (u = 0; u < n; u++) {
                    ds[u0 + u] = pat[u0 + u] * (ds[u0 + u] - dot) * scale;
                    kx[u] = a->qkv_tab + (long)grok__tab_row(m, first + u0 + u) * 3 * HD + HD + h * D;
                }
                fa->kr->madd(&dq, 1, kx, ds + u0, n, D);
            }
        }
    }
}

/* Per attended table row j (grok__fold_deal's share of the thread), its queries in order:
   dtab (Nt, 3*H*D) gets dk and dq (dv comes later from the Y rows); the other rows are zero. */
static void grok__fold_keys_task(void *ctx, int task, int ntasks)
{
    const grok__fold_args *fa = (const grok__fold_args *)ctx;
    const grok_model *m = fa->m;
    const grok__acts *a = m->acts;
    const grok__layer_acts *L = &a->layer[0];
    int T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head, HD = H * D, h, e, n, nown, row;
    const float *xq[GROK__FOLD_BATCH], *xdq[GROK__FOLD_BATCH];
    float ds[GROK__FOLD_BATCH];
    (void)ntasks;
    for (row = a->fold_part[task]; row < a->fold_part[task + 1]; row++) {
        long j = a->fold_rows[row];
        float *dt = a->dtab + j * 3 * HD;
        int u = (int)(j % T), e0;
        memset(dt, 0, sizeof(float) * 3 * (size_t)HD);
        for (e0 = a->csr_off[j]; e0 < a->csr_off[j + 1]; e0 += GROK__FOLD_BATCH) {
            n = a->csr_off[j + 1] - e0 < GROK__FOLD_BATCH ? a->csr_off[j + 1] - e0 : GROK__FOLD_BATCH;
            for (h = 0; h < H; h++) {
                float *dk = dt + HD + h * D;
                for (e = 0; e < n; e++) {
                    long i = a->csr_ent[e0 + e];
                    ds[e] = L->scores[(i * H + h) * T + u];
                    xq[e] = a->qkv_tab + (long)grok__tab_row(m, a->qrow[i]) * 3 * HD + h * D;
                }
                fa->kr->madd(&dk, 1, xq, ds, n, D);
            }
            for (e = 0, nown = 0; e < n; e++) {
                long i = a->csr_ent[e0 + e];
                if (a->qrow[i] % T == u) xdq[nown++] = a->dqkv + i * HD;
            }
            fa->kr->madd(&dt, 1, xdq, grok__fold_ones, nown, HD);
        }
    }
}

static void grok__fold_backward(grok_model *m)
{
    const grok_config *c = &m->cfg;
    grok__acts *a = m->acts;
    grok__layer_acts *L = &a->layer[0];
    grok__fold_args fa;
    grok__epilogue ep;
    int T = c->n_ctx, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D, M = c->d_mlp, V = c->d_vocab_out;
    int S = M + V, Nt = T * c->d_vocab, Q = a->n_targets, relu = c->act_fn == GROK_ACT_RELU, nsrc, j, k;
    float *w = m->weights, *gO, *gout, *dsrc_b;
    const float *W_out = grok__bp(m, w, 0, GROK__W_OUT);
    const float *W_U = grok__gp(m, w, a->idx_W_U);
    float *dW_in = grok__bg(m, 0, GROK__W_IN), *dW_out = grok__bg(m, 0, GROK__W_OUT);
    float *dW_U = grok__gg(m, a->idx_W_U), *db_in = grok__bg(m, 0, GROK__B_IN), *db_U = grok__gg(m, a->idx_b_U);
    float *db_O = grok__bg(m, 0, GROK__B_O), *db_out = grok__bg(m, 0, GROK__B_OUT);

    fa.m = m; fa.n_q = Q; fa.n_y = a->n_att * H; fa.kr = grok__kernel_get();
    nsrc = fa.n_y + a->n_own + 2;
    grok__crossentropy_backward(a->dlogits, a->row_sum, a->qtarget, Q, V, 1.0 / Q, m->loss);
    /* logits = ... + mlp_post @ wc */
    /* d wc transposed: V as the GEMM's rows, where any count fits the kernel's broadcasts,
       not its columns, where V = 113 fills 113 of 128 vector lanes (same products, same order) */
    if (dW_out || dW_U) grok_gemm(1, 0, V, M, Q, 1.0f, a->dlogits, V, L->mlp_post, M, 0.0f, a->dwc, M);
    memset(&ep, 0, sizeof ep);
    ep.bits = a->fold_relu_bits;
    ep.ldbits = (M + 15) / 16;
    grok__gemm_ex(0, 1, Q, M, V, 1.0f, a->dlogits, V, a->wc, V, 0.0f, a->dmlp, M, relu ? &ep : NULL);
    if (!relu) grok__act_backward(a->dmlp, a->dmlp, L->mlp_pre, (long)Q * M, c->act_fn);
    if (dW_out) grok_gemm(1, 1, M, C, V, 1.0f, a->dwc, M, W_U, V, 1.0f, dW_out, C);
    if (dW_U) grok_gemm(1, 1, C, V, M, 1.0f, W_out, C, a->dwc, M, 1.0f, dW_U, V);
    /* [pre | logits] = cst + ...: the bias rows of dfold_tab, and b_in, b_U directly */
    /* pattern and q, then everything that reaches table rows */
    grok__parallel_for(grok__fold_values_task, &fa, a->n_parts);
    /* [pre | logits] = cst + ...: b_O's row of dfold_tab is [sum dpre | sum dlogits] over the
       queries and b_out's [0 | sum dlogits]. Every query has one own row, so the sums are those
       of the own rows' gradients (with one own row, as in modular addition, a copy). */
    gO = a->dfold_tab + (long)(nsrc - 2) * S;
    gout = gO + S;
    memcpy(gO, a->dfold_tab + (long)fa.n_y * S, sizeof(float) * (size_t)S);
    for (j = 1; j < a->n_own; j++) {
        const float *GROK__RESTRICT g = a->dfold_tab + (long)(fa.n_y + j) * S;
        for (k = 0; k < S; k++) gO[k] += g[k];
    }
    memset(gout, 0, sizeof(float) * (size_t)M);
    memcpy(gout + M, gO + M, sizeof(float) * (size_t)V);
    if (db_in) for (k = 0; k < M; k++) db_in[k] += gO[k];
    if (db_U) for (k = 0; k < V; k++) db_U[k] += gout[M + k];
    grok__parallel_for(grok__fold_attention_backward_task, &fa, grok__tasks_for(Q));
    for (j = 0; j < Nt; j++)
        if (a->att_idx[j] < 0) memset(a->dtab + (long)j * 3 * HD, 0, sizeof(float) * 3 * (size_t)HD);
    grok__parallel_for(grok__fold_keys_task, &fa, a->n_parts);
    /* fold_tab = fold_src @ [W_in | W_U] */
    if (dW_in || dW_U) {
        grok_gemm(1, 0, C, S, nsrc, 1.0f, a->fold_src, C, a->dfold_tab, S, 0.0f, a->dwcat, S);
        for (k = 0; k < C; k++) {
            const float *GROK__RESTRICT g = a->dwcat + (long)k * S;
            int o;
            if (dW_in) for (o = 0; o < M; o++) dW_in[(long)k * M + o] += g[o];
            if (dW_U) for (o = 0; o < V; o++) dW_U[(long)k * V + o] += g[M + o];
        }
    }
    grok_gemm(0, 1, nsrc, C, S, 1.0f, a->dfold_tab, S, a->wcat, S, 0.0f, a->dfold_src, C);
    dsrc_b = a->dfold_src + (long)(nsrc - 2) * C;
    if (db_O) for (k = 0; k < C; k++) db_O[k] += dsrc_b[k];
    if (db_out) for (k = 0; k < C; k++) db_out[k] += dsrc_b[C + k];
    /* Y[j, h] = v[j, h] @ W_O[h] */
    fa.backward = 1;
    grok__parallel_for(grok__fold_heads_task, &fa, H);
    for (j = 0; j < a->n_att; j++)
        memcpy(a->dtab + (long)a->att_rows[j] * 3 * HD + 2 * HD, a->dfold_v + (long)j * HD, sizeof(float) * (size_t)HD);
    for (j = 0; j < Nt; j++) {
        float *de = a->de_tab + (long)j * C;
        if (a->own_idx[j] >= 0) memcpy(de, a->dfold_src + (long)(fa.n_y + a->own_idx[j]) * C, sizeof(float) * (size_t)C);
        else memset(de, 0, sizeof(float) * (size_t)C);
    }
    /* the Q/K/V table (its embeddings' gradient added to the own rows' above), then the embeddings */
    grok__table_qkv_backward(m, a->de_tab, a->e_tab, 1);
    grok__embed_backward(grok__gg(m, a->idx_W_E), grok__gg(m, a->idx_W_pos), a->de_tab, a->tab_tokens, Nt, T, C);
}

/* ---- the path chosen */

/* The rule, in one place. The trimmed and folded paths compute only what the loss needs: they
   need at least one target and no logits_out (they never compute a row without a target), and
   they have no hook points (hooks and the cache take the general path). Their (position, token)
   tables hold the block's input, which only a one-layer model's attention reads. Of the two,
   the folded path also needs the residual stream to be linear in what attention mixes, so no
   LayerNorm; with LayerNorm the trimmed path runs. m->general_path = 1 forces the general path.
   All three compute the same function (tests/test_grok compares them to float rounding). */
static grok_path grok__path_choose(const grok_model *m, int n_targets, int wants_logits)
{
    const grok__acts *a = m->acts;
    if (m->general_path || m->cfg.n_layers != 1 || n_targets < 1 || wants_logits || a->n_hooks || a->capture ||
        a->n_grad_hooks || a->grad_capture)
        return GROK_PATH_GENERAL;
    return m->cfg.normalization == GROK_NORM_LN ? GROK_PATH_TRIMMED : GROK_PATH_FOLDED;
}

GROKDEF grok_path grok_model_path(const grok_model *m) { return m && m->acts ? m->acts->path : GROK_PATH_GENERAL; }

GROKDEF const char *grok_path_name(int path)
{
    static const char *const names[3] = {"general", "trimmed", "folded"};
    return path >= 0 && path < 3 ? names[path] : "?";
}

/* The row of a->logits, row_loss and row_correct that holds the k-th target row of the last
   forward, residual row `row`: the general path keeps every row in place, the trimmed and
   folded paths keep only the target rows, in order. */
static long grok__target_slot(const grok__acts *a, long row, long k)
{
    return a->path == GROK_PATH_GENERAL ? row : k;
}

/* Sums the per-row losses of the R rows' target rows, in row order, whichever path ran. */
static void grok__loss_sum(grok__acts *a, long R, double *loss, double *acc)
{
    long r, k = 0;
    a->loss_sum = 0.0;
    a->n_correct = 0;
    a->n_collapsed = 0;
    for (r = 0; r < R; r++) {
        long slot;
        if (a->targets[r] < 0) continue;
        slot = grok__target_slot(a, r, k++);
        a->loss_sum += a->row_loss[slot];
        a->n_correct += a->row_correct[slot] & GROK__ROW_CORRECT;
        a->n_collapsed += (a->row_correct[slot] & GROK__ROW_COLLAPSED) != 0;
    }
    if (loss) *loss = a->n_targets ? a->loss_sum / a->n_targets : 0.0;
    if (acc) *acc = a->n_targets ? (double)a->n_correct / a->n_targets : 0.0;
}

static int grok__model_forward(grok_model *m, const int *tokens, const int *targets, int B,
                               double *loss, double *acc, float *logits_out)
{
    const grok_config *c;
    grok__acts *a;
    int T, V, R, r, st;
    if (!m || !m->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_model_forward: NULL argument");
    if (m->loss != GROK_LOSS_SOFTMAX && m->loss != GROK_LOSS_STABLEMAX)
        return grok__fail(GROK_ERR_ARG, "grok_model_forward: m->loss %d, want GROK_LOSS_SOFTMAX or GROK_LOSS_STABLEMAX", m->loss);
    c = &m->cfg; a = m->acts;
    T = c->n_ctx; V = c->d_vocab_out;
    if (B < 1 || (long)B * T > m->max_rows)
        return grok__fail(GROK_ERR_ARG, "grok_model_forward: batch %d, want 1..%d", B, m->max_rows / T);
    R = B * T;
    if ((st = grok__check_tokens(m, tokens, targets, R)) != GROK_OK) return st;
    a->B = B;
    memcpy(a->tokens, tokens, sizeof(int) * (size_t)R);
    a->n_targets = 0;
    for (r = 0; r < R; r++) {
        a->targets[r] = targets ? targets[r] : -1;
        a->n_targets += a->targets[r] >= 0;
    }

    a->path = grok__path_choose(m, a->n_targets, logits_out != NULL);
    if (a->path != GROK_PATH_GENERAL) {
        if (a->path == GROK_PATH_TRIMMED) grok__trim_forward(m);
        else grok__fold_forward(m);
        grok__loss_sum(a, R, loss, acc);
        return GROK_OK;
    }
    if ((st = grok__forward_general(m, B)) != GROK_OK) {
        a->n_targets = 0; /* no backward through a failed forward */
        return st;
    }
    if (logits_out) memcpy(logits_out, a->logits, sizeof(float) * (size_t)R * V);
    grok__crossentropy_forward(a->dlogits, a->row_sum, a->row_loss, a->row_correct, a->logits, a->targets, R, V, m->loss);
    grok__loss_sum(a, R, loss, acc);
    return GROK_OK;
}

GROKDEF int grok_model_forward(grok_model *m, const int *tokens, const int *targets, int B,
                               double *loss, double *acc, float *logits_out)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__model_forward(m, tokens, targets, B, loss, acc, logits_out));
}

static int grok__model_backward(grok_model *m)
{
    grok__acts *a;
    if (!m || !m->acts) return grok__fail(GROK_ERR_ARG, "grok_model_backward: NULL model");
    a = m->acts;
    if (a->B < 1 || a->n_targets < 1)
        return grok__fail(GROK_ERR_ARG, "grok_model_backward: the last forward had no targets");
    if (a->n_hooks)
        return grok__fail(GROK_ERR_ARG, "grok_model_backward: hooks are registered (grok_model_clear_hooks first)");
    if (a->n_grad_hooks && a->path != GROK_PATH_GENERAL)
        return grok__fail(GROK_ERR_ARG, "grok_model_backward: gradient hooks were added after the forward (run it again)");
    if (a->path == GROK_PATH_TRIMMED) grok__trim_backward(m);
    else if (a->path == GROK_PATH_FOLDED) grok__fold_backward(m);
    else return grok__backward_general(m, 1);
    return GROK_OK;
}

GROKDEF int grok_model_backward(grok_model *m)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__model_backward(m));
}

/* ==== >>hooks: hooks, ablations, the activation cache ========================================= */

GROKDEF int grok_model_add_hook(grok_model *m, const char *name, grok_hook_fn fn, void *ctx)
{
    grok__acts *a;
    if (!m || !m->acts || !name || !fn) return grok__fail(GROK_ERR_ARG, "grok_model_add_hook: NULL argument");
    a = m->acts;
    if (strlen(name) >= GROK_NAME_MAX || !strstr(name, "hook_"))
        return grok__fail(GROK_ERR_ARG, "grok_model_add_hook: '%s' is not a hook point name", name);
    return grok__hook_add(a->hooks, &a->n_hooks, name, fn, ctx, "grok_model_add_hook");
}

GROKDEF void grok_model_clear_hooks(grok_model *m)
{
    if (m && m->acts) m->acts->n_hooks = 0;
}

/* The dimension that indexes heads in an attention hook point, or -1. */
static int grok__head_dim(const char *name)
{
    if (strstr(name, "hook_attn_scores") || strstr(name, "hook_pattern")) return 1;
    if (strstr(name, "attn.hook_q") || strstr(name, "attn.hook_k") || strstr(name, "attn.hook_v") ||
        strstr(name, "attn.hook_z")) return 2;
    return -1;
}

/* Restricts act to one head when ctx names one. */
static int grok__ablation_view(grok_tensor *view, const grok_tensor *act, const char *name, void *ctx)
{
    const grok_ablation *ab = (const grok_ablation *)ctx;
    int hd;
    *view = *act;
    if (!ab || ab->head < 0) return GROK_OK;
    hd = grok__head_dim(name);
    if (hd < 0) return grok__fail(GROK_ERR_ARG, "%s has no head dimension to ablate", name);
    return grok_tensor_slice(view, act, hd, ab->head, 1);
}

GROKDEF int grok_hook_zero_ablate(grok_tensor *act, const char *name, void *ctx)
{
    grok_tensor v;
    long i, rows;
    int st, k;
    if (!act || !name) return grok__fail(GROK_ERR_ARG, "grok_hook_zero_ablate: NULL argument");
    if ((st = grok__ablation_view(&v, act, name, ctx)) != GROK_OK) return st;
    rows = grok__tensor_rows(&v);
    for (i = 0; i < rows; i++) {
        float *row = v.data + grok__tensor_row_offset(&v, i);
        for (k = 0; k < v.shape[v.ndim - 1]; k++) row[k * v.stride[v.ndim - 1]] = 0.0f;
    }
    return GROK_OK;
}

GROKDEF int grok_hook_mean_ablate(grok_tensor *act, const char *name, void *ctx)
{
    grok_tensor v, one;
    long i, rows, per_b;
    int st, b, k, last;
    double *mean;
    if (!act || !name) return grok__fail(GROK_ERR_ARG, "grok_hook_mean_ablate: NULL argument");
    if ((st = grok__ablation_view(&v, act, name, ctx)) != GROK_OK) return st;
    if (v.ndim < 2 || v.shape[0] < 1) return grok__fail(GROK_ERR_ARG, "grok_hook_mean_ablate: %s has no batch", name);
    grok_tensor_index(&one, &v, 0);
    last = v.shape[v.ndim - 1];
    per_b = grok__tensor_rows(&one);
    rows = per_b * last;
    mean = (double *)GROK_MALLOC(sizeof(double) * (size_t)rows);
    if (!mean) return grok__fail(GROK_ERR_NOMEM, "grok_hook_mean_ablate: %ld doubles", rows);
    memset(mean, 0, sizeof(double) * (size_t)rows);
    for (b = 0; b < v.shape[0]; b++) {
        grok_tensor_index(&one, &v, b);
        for (i = 0; i < per_b; i++) {
            const float *row = one.data + grok__tensor_row_offset(&one, i);
            for (k = 0; k < last; k++) mean[i * last + k] += row[k * one.stride[one.ndim - 1]];
        }
    }
    for (b = 0; b < v.shape[0]; b++) {
        grok_tensor_index(&one, &v, b);
        for (i = 0; i < per_b; i++) {
            float *row = one.data + grok__tensor_row_offset(&one, i);
            for (k = 0; k < last; k++) row[k * one.stride[one.ndim - 1]] = (float)(mean[i * last + k] / v.shape[0]);
        }
    }
    GROK_FREE(mean);
    return GROK_OK;
}

GROKDEF int grok_hook_project(grok_tensor *act, const char *name, void *ctx)
{
    const grok_projection *pr = (const grok_projection *)ctx;
    long i, rows, s;
    int j, bi, d;
    double *dots;
    if (!act || !name || !pr || !pr->basis) return grok__fail(GROK_ERR_ARG, "grok_hook_project: NULL argument");
    d = act->shape[act->ndim - 1];
    if (pr->d != d || pr->k < 1 || pr->k > d)
        return grok__fail(GROK_ERR_ARG, "grok_hook_project: basis (%d, %d) for %s whose last dimension is %d", pr->k, pr->d, name, d);
    dots = (double *)GROK_MALLOC(sizeof(double) * (size_t)pr->k);
    if (!dots) return grok__fail(GROK_ERR_NOMEM, "grok_hook_project: %d doubles", pr->k);
    rows = grok__tensor_rows(act);
    s = act->stride[act->ndim - 1];
    for (i = 0; i < rows; i++) {
        float *x = act->data + grok__tensor_row_offset(act, i);
        for (bi = 0; bi < pr->k; bi++) {
            const float *b = pr->basis + (long)bi * d;
            dots[bi] = 0.0;
            for (j = 0; j < d; j++) dots[bi] += (double)x[j * s] * b[j];
        }
        for (j = 0; j < d; j++) {
            double p = 0.0;
            for (bi = 0; bi < pr->k; bi++) p += dots[bi] * pr->basis[(long)bi * d + j];
            x[j * s] = (float)(pr->remove ? x[j * s] - p : p);
        }
    }
    GROK_FREE(dots);
    return GROK_OK;
}

/* ---- the cache */

GROKDEF void grok_cache_free(grok_cache *c)
{
    int i;
    if (!c) return;
    for (i = 0; i < c->n; i++) GROK_FREE(c->entries[i].t.data);
    GROK_FREE(c->entries);
    memset(c, 0, sizeof *c);
}

GROKDEF const grok_tensor *grok_cache_get(const grok_cache *c, const char *name)
{
    int i;
    if (!c || !name) { grok__fail(GROK_ERR_ARG, "grok_cache_get: NULL argument"); return NULL; }
    for (i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].name, name) == 0) return &c->entries[i].t;
    grok__fail(GROK_ERR_ARG, "grok_cache_get: no cached activation named '%s'", name);
    return NULL;
}

/* Hook points per block (at most 16) plus the embeddings and ln_final. */
#define GROK__HOOKS_PER_LAYER 16

GROKDEF int grok_cache_run(grok_cache *c, grok_model *m, const int *tokens, int B, const char *filter,
                           float *logits_out)
{
    int start, chunk, st = GROK_OK, T;
    size_t cap;
    if (!c || !m || !m->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_cache_run: NULL argument");
    memset(c, 0, sizeof *c);
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_cache_run: %d sequences", B);
    T = m->cfg.n_ctx;
    cap = (size_t)(m->cfg.n_layers + 1) * GROK__HOOKS_PER_LAYER;
    c->entries = (grok_cache_entry *)GROK_MALLOC(sizeof(grok_cache_entry) * cap);
    if (!c->entries) return grok__fail(GROK_ERR_NOMEM, "grok_cache_run: cache table");
    c->B = B;
    chunk = m->max_rows / T;
    m->acts->capture = c;
    m->acts->capture_filter = filter;
    for (start = 0; start < B && st == GROK_OK; start += chunk) {
        int b = B - start < chunk ? B - start : chunk;
        m->acts->capture_b0 = start;
        st = grok_model_forward(m, tokens + (long)start * T, NULL, b, NULL, NULL,
                                logits_out ? logits_out + (long)start * T * m->cfg.d_vocab_out : NULL);
    }
    m->acts->capture = NULL;
    m->acts->capture_filter = NULL;
    if (st != GROK_OK) grok_cache_free(c);
    return st;
}

/* ---- gradient hooks, metrics and the gradient cache */

/* The hooked backward's copies: dmlp_out, dattn_out (R,C), dpattern, dscores (B,H,T,T). */
static int grok__gscratch_ensure(grok_model *m)
{
    const grok_config *c = &m->cfg;
    long B = m->max_rows / c->n_ctx;
    long n = 2L * m->max_rows * c->d_model + 2L * B * c->n_heads * c->n_ctx * c->n_ctx;
    if (m->acts->gscratch) return GROK_OK;
    m->acts->gscratch = (float *)GROK_MALLOC(sizeof(float) * (size_t)n);
    if (!m->acts->gscratch) return grok__fail(GROK_ERR_NOMEM, "gradient hooks: %ld floats for the backward's copies", n);
    return GROK_OK;
}

GROKDEF int grok_model_add_grad_hook(grok_model *m, const char *name, grok_hook_fn fn, void *ctx)
{
    int st;
    if (!m || !m->acts || !name || !fn) return grok__fail(GROK_ERR_ARG, "grok_model_add_grad_hook: NULL argument");
    if (strlen(name) >= GROK_NAME_MAX || !strstr(name, "hook_"))
        return grok__fail(GROK_ERR_ARG, "grok_model_add_grad_hook: '%s' is not a hook point name", name);
    if ((st = grok__gscratch_ensure(m)) != GROK_OK) return st;
    return grok__hook_add(m->acts->grad_hooks, &m->acts->n_grad_hooks, name, fn, ctx, "grok_model_add_grad_hook");
}

GROKDEF void grok_model_clear_grad_hooks(grok_model *m)
{
    if (m && m->acts) m->acts->n_grad_hooks = 0;
}

GROKDEF double grok_metric_loss(const float *logits, int B, int T, int V, float *dlogits, void *ctx)
{
    const int *targets = (const int *)ctx;
    long r, R = (long)B * T, n = 0;
    int v;
    double sum = 0.0;
    if (!logits || !targets || B < 1 || T < 1 || V < 1) {
        grok__fail(GROK_ERR_ARG, "grok_metric_loss: NULL argument or empty logits (ctx: the targets)");
        return NAN;
    }
    for (r = 0; r < R; r++) {
        if (targets[r] < -1 || targets[r] >= V) {
            grok__fail(GROK_ERR_ARG, "grok_metric_loss: target %d at row %ld is outside [-1, %d)", targets[r], r, V);
            return NAN;
        }
        n += targets[r] >= 0;
    }
    if (n == 0) { grok__fail(GROK_ERR_ARG, "grok_metric_loss: no row has a target"); return NAN; }
    for (r = 0; r < R; r++) {
        const float *x = logits + r * V;
        float *d = dlogits ? dlogits + r * V : NULL;
        double mx, s = 0.0;
        if (targets[r] < 0) {
            if (d) memset(d, 0, sizeof(float) * (size_t)V);
            continue;
        }
        mx = x[0];
        for (v = 1; v < V; v++) if (x[v] > mx) mx = x[v];
        for (v = 0; v < V; v++) s += exp((double)x[v] - mx);
        sum += log(s) - ((double)x[targets[r]] - mx);
        if (d) {
            for (v = 0; v < V; v++) d[v] = (float)(exp((double)x[v] - mx) / s / (double)n);
            d[targets[r]] = (float)((exp((double)x[targets[r]] - mx) / s - 1.0) / (double)n);
        }
    }
    return sum / (double)n;
}

GROKDEF double grok_metric_logit_diff(const float *logits, int B, int T, int V, float *dlogits, void *ctx)
{
    const grok_logit_diff *ld = (const grok_logit_diff *)ctx;
    int b, pos;
    double sum = 0.0;
    if (!logits || !ld || !ld->correct || !ld->wrong || B < 1 || T < 1 || V < 1) {
        grok__fail(GROK_ERR_ARG, "grok_metric_logit_diff: NULL argument or empty logits");
        return NAN;
    }
    pos = ld->pos < 0 ? T + ld->pos : ld->pos;
    if (pos < 0 || pos >= T) {
        grok__fail(GROK_ERR_ARG, "grok_metric_logit_diff: position %d for %d positions", ld->pos, T);
        return NAN;
    }
    for (b = 0; b < B; b++)
        if (ld->correct[b] < 0 || ld->correct[b] >= V || ld->wrong[b] < 0 || ld->wrong[b] >= V) {
            grok__fail(GROK_ERR_ARG, "grok_metric_logit_diff: row %d compares tokens %d and %d, want 0..%d", b,
                       ld->correct[b], ld->wrong[b], V - 1);
            return NAN;
        }
    if (dlogits) memset(dlogits, 0, sizeof(float) * (size_t)B * T * V);
    for (b = 0; b < B; b++) {
        const float *x = logits + ((long)b * T + pos) * V;
        sum += (double)x[ld->correct[b]] - x[ld->wrong[b]];
        if (dlogits) {
            dlogits[((long)b * T + pos) * V + ld->correct[b]] += (float)(1.0 / B);
            dlogits[((long)b * T + pos) * V + ld->wrong[b]] -= (float)(1.0 / B);
        }
    }
    return sum / B;
}

/* What the gradient cache asks of a transformer or a net: a forward of b sequences (from
   tokens, tokens_per_seq ints each) writing logits (b,T,V), with the caches to fill at batch
   row b0; and the backward of the last forward from dlogits. */
typedef struct {
    void *obj;
    int max_seqs, T, V, tokens_per_seq;
    float *param_grads;
    size_t n_params;
    int (*forward)(void *obj, const int *tokens, int b, float *logits_out);
    int (*backward)(void *obj, const float *dlogits);
    void (*capture)(void *obj, grok_cache *acts, grok_cache *grads, const char *filter, int b0);
} grok__grad_target;

/* The gradient cache of either kind: every chunk's forward (keeping its logits and, in acts,
   its activations), the metric over all B sequences, then every chunk's backward from its part
   of d metric / d logits (after a second forward when there is more than one chunk). The
   parameter gradients the backward adds are put back as they were. */
static int grok__grad_cache(grok__grad_target *g, grok_cache *acts, grok_cache *grads, const int *tokens, int B,
                            const char *filter, int cap, grok_metric_fn metric, void *metric_ctx, double *value,
                            const char *who)
{
    long per = (long)g->T * g->V, n = (long)B * per;
    float *logits = NULL, *dlogits = NULL, *saved = NULL;
    int start, st = GROK_OK, chunks = (B + g->max_seqs - 1) / g->max_seqs;
    double v;
    logits = (float *)GROK_MALLOC(sizeof(float) * (size_t)n);
    dlogits = (float *)GROK_MALLOC(sizeof(float) * (size_t)n);
    saved = (float *)GROK_MALLOC(sizeof(float) * (g->n_params ? g->n_params : 1));
    grads->entries = (grok_cache_entry *)GROK_MALLOC(sizeof(grok_cache_entry) * (size_t)cap);
    grads->B = B;
    if (acts) {
        acts->entries = (grok_cache_entry *)GROK_MALLOC(sizeof(grok_cache_entry) * (size_t)cap);
        acts->B = B;
    }
    if (!logits || !dlogits || !saved || !grads->entries || (acts && !acts->entries)) {
        st = grok__fail(GROK_ERR_NOMEM, "%s: %ld logits", who, n);
        goto done;
    }
    for (start = 0; start < B && st == GROK_OK; start += g->max_seqs) {
        int b = B - start < g->max_seqs ? B - start : g->max_seqs;
        g->capture(g->obj, acts, NULL, filter, start);
        st = g->forward(g->obj, tokens + (long)start * g->tokens_per_seq, b, logits + start * per);
    }
    g->capture(g->obj, NULL, NULL, NULL, 0);
    if (st != GROK_OK) goto done;
    v = metric(logits, B, g->T, g->V, dlogits, metric_ctx);
    if (isnan(v)) { st = grok__fail(GROK_ERR_ARG, "%s: the metric failed: %s", who, grok__error_message); goto done; }
    if (value) *value = v;
    memcpy(saved, g->param_grads, sizeof(float) * g->n_params);
    for (start = 0; start < B && st == GROK_OK; start += g->max_seqs) {
        int b = B - start < g->max_seqs ? B - start : g->max_seqs;
        if (chunks > 1) st = g->forward(g->obj, tokens + (long)start * g->tokens_per_seq, b, logits + start * per);
        g->capture(g->obj, NULL, grads, filter, start);
        if (st == GROK_OK) st = g->backward(g->obj, dlogits + start * per);
    }
    g->capture(g->obj, NULL, NULL, NULL, 0);
    memcpy(g->param_grads, saved, sizeof(float) * g->n_params);
done:
    GROK_FREE(logits);
    GROK_FREE(dlogits);
    GROK_FREE(saved);
    if (st != GROK_OK) {
        grok_cache_free(grads);
        if (acts) grok_cache_free(acts);
    }
    return st;
}

static int grok__model_grad_forward(void *obj, const int *tokens, int b, float *logits_out)
{
    return grok__model_forward((grok_model *)obj, tokens, NULL, b, NULL, NULL, logits_out);
}

static int grok__model_grad_backward(void *obj, const float *dlogits)
{
    grok_model *m = (grok_model *)obj;
    memcpy(m->acts->dlogits, dlogits, sizeof(float) * (size_t)m->acts->B * m->cfg.n_ctx * m->cfg.d_vocab_out);
    return grok__backward_general(m, 0);
}

static void grok__model_grad_capture(void *obj, grok_cache *acts, grok_cache *grads, const char *filter, int b0)
{
    grok__acts *a = ((grok_model *)obj)->acts;
    a->capture = acts;
    a->capture_filter = filter;
    a->grad_capture = grads;
    a->grad_capture_filter = filter;
    a->capture_b0 = b0;
}

GROKDEF int grok_grad_cache_run(grok_cache *acts, grok_cache *grads, grok_model *m, const int *tokens, int B,
                                const char *filter, grok_metric_fn metric, void *metric_ctx, double *value)
{
    grok__grad_target g;
    unsigned fp;
    int st;
    if (grads) memset(grads, 0, sizeof *grads);
    if (acts) memset(acts, 0, sizeof *acts);
    if (!grads || !m || !m->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_grad_cache_run: NULL argument");
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_grad_cache_run: %d sequences", B);
    if (!metric && !metric_ctx) return grok__fail(GROK_ERR_ARG, "grok_grad_cache_run: the loss needs the targets (metric_ctx)");
    if (m->acts->n_hooks)
        return grok__fail(GROK_ERR_ARG, "grok_grad_cache_run: forward hooks are registered (grok_model_clear_hooks first)");
    if ((st = grok__gscratch_ensure(m)) != GROK_OK) return st;
    memset(&g, 0, sizeof g);
    g.obj = m;
    g.max_seqs = m->max_rows / m->cfg.n_ctx;
    g.T = m->cfg.n_ctx;
    g.V = m->cfg.d_vocab_out;
    g.tokens_per_seq = m->cfg.n_ctx;
    g.param_grads = m->grads;
    g.n_params = m->num_parameters;
    g.forward = grok__model_grad_forward;
    g.backward = grok__model_grad_backward;
    g.capture = grok__model_grad_capture;
    fp = grok__fp_enter();
    st = grok__grad_cache(&g, acts, grads, tokens, B, filter, (m->cfg.n_layers + 1) * GROK__HOOKS_PER_LAYER,
                          metric ? metric : grok_metric_loss, metric_ctx, value, "grok_grad_cache_run");
    return grok__fp_restore(fp, st);
}

/* ==== >>nets: seed 003's BilinearNet and OneLayerMLP ========================================== */

struct grok__net_acts {
    float *x, *y;              /* bilinear: x_embed, y_embed (B,E) */
    float *stack, *dstack;     /* MLP: embed_stack (B,2E), x_embed and y_embed are its halves */
    float *mid, *dmid;         /* the input of W_U: product (B,E) or hidden (B,Hd) */
    float *tab, *dtab;         /* MLP, folded path: [W_E_a @ W[:E]; W_E_b @ W[E:]] (2N,Hd) and its gradient */
    grok_path path;            /* of the last forward: GROK_PATH_GENERAL or GROK_PATH_FOLDED */
    float *logits;             /* (B,N) */
    float *dlogits;            /* (B,N): softmax numerators after the forward, d loss / d logits after backward */
    double *row_loss, *row_sum;
    int *row_correct, *ia, *ib, *targets; /* (B) */
    int B, n_targets;          /* last forward */
    double loss_sum;
    long n_correct, n_collapsed;
    grok__hook hooks[GROK_MAX_HOOKS];
    int n_hooks;
    grok_cache *capture;       /* grok_net_cache_run: where hook points are copied, at batch row capture_b0 */
    const char *capture_filter;
    int capture_b0;
    grok__hook grad_hooks[GROK_MAX_HOOKS]; /* the backward's, on gradients */
    int n_grad_hooks;
    grok_cache *grad_capture;  /* grok_net_grad_cache_run: where gradients are copied, at batch row capture_b0 */
    const char *grad_capture_filter;
    float *gscratch;           /* bilinear, hooked backward: d x_embed, d y_embed (B,E); freed with the net */
};

/* Width of the activation W_U reads: embed_dim (bilinear) or hidden_dim (MLP). */
static int grok__net_mid(const grok_net_config *c) { return c->kind == GROK_NET_MLP ? c->hidden_dim : c->embed_dim; }

static const char *const grok__net_hooks[2][5] = {
    {"x_embed", "y_embed", "product", "out", NULL},
    {"x_embed", "y_embed", "embed_stack", "hidden", "out"}};

/* Carves every buffer from the arena; with ar->base == NULL it only counts the bytes. */
static void grok__net_layout(void *obj, grok_arena *ar)
{
    grok_net *net = (grok_net *)obj;
    grok__net_acts *a = net->acts;
    size_t B = (size_t)net->max_rows, E = (size_t)net->cfg.embed_dim, W = (size_t)grok__net_mid(&net->cfg);
    size_t N = (size_t)net->cfg.n, f = sizeof(float);
    grok__pset_layout(&net->weights, &net->grads, &net->adam_m, &net->adam_v, net->num_parameters, ar);
    if (net->cfg.kind == GROK_NET_MLP) {
        a->stack = (float *)grok__take(ar, B * 2 * E * f);
        a->dstack = (float *)grok__take(ar, B * 2 * E * f);
        a->tab = (float *)grok__take(ar, 2 * N * W * f);
        a->dtab = (float *)grok__take(ar, 2 * N * W * f);
    } else {
        a->x = (float *)grok__take(ar, B * E * f);
        a->y = (float *)grok__take(ar, B * E * f);
    }
    a->mid = (float *)grok__take(ar, B * W * f);
    a->dmid = (float *)grok__take(ar, B * W * f);
    a->logits = (float *)grok__take(ar, B * N * f);
    a->dlogits = (float *)grok__take(ar, B * N * f);
    a->row_loss = (double *)grok__take(ar, B * sizeof(double));
    a->row_sum = (double *)grok__take(ar, B * sizeof(double));
    a->row_correct = (int *)grok__take(ar, B * sizeof(int));
    a->ia = (int *)grok__take(ar, B * sizeof(int));
    a->ib = (int *)grok__take(ar, B * sizeof(int));
    a->targets = (int *)grok__take(ar, B * sizeof(int));
}

GROKDEF int grok_net_init(grok_net *net, const grok_net_config *cfg, int max_batch)
{
    const long big = 1L << 20;
    grok_net_config c;
    grok_rng rng;
    size_t table_bytes, j;
    int st, i, E, W, mlp;
    if (!net || !cfg) return grok__fail(GROK_ERR_ARG, "grok_net_init: NULL argument");
    memset(net, 0, sizeof *net);
    c = *cfg;
    if (c.kind != GROK_NET_BILINEAR && c.kind != GROK_NET_MLP)
        return grok__fail(GROK_ERR_ARG, "grok_net_init: kind %d is neither GROK_NET_BILINEAR nor GROK_NET_MLP", (int)c.kind);
    mlp = c.kind == GROK_NET_MLP;
    if (!mlp) c.hidden_dim = 0;
    E = c.embed_dim; W = grok__net_mid(&c);
    if (c.n < 1 || c.n > big || E < 1 || E > big || W < 1 || W > big || (long)c.n * E > (1L << 28) ||
        (long)W * c.n > (1L << 28) || (long)2 * E * W > (1L << 28))
        return grok__fail(GROK_ERR_ARG, "grok_net_init: n = %d, embed_dim = %d, hidden_dim = %d (want >= 1, products <= 2^28)",
                          c.n, c.embed_dim, c.hidden_dim);
    if (max_batch < 1 || (long)max_batch * (2L * E + W + c.n) > (1L << 28))
        return grok__fail(GROK_ERR_ARG, "grok_net_init: max_batch = %d does not fit these sizes", max_batch);
    net->cfg = c;
    net->opt = grok_adamw_default();
    net->max_rows = max_batch;
    /* the table and the private pointers first, so that the arena is sized from the offsets */
    table_bytes = sizeof(grok__net_acts) + 4 * sizeof(grok_param);
    net->acts = (grok__net_acts *)GROK_MALLOC(table_bytes);
    if (!net->acts) return grok__fail(GROK_ERR_NOMEM, "grok_net_init: cannot allocate %zu bytes", table_bytes);
    memset(net->acts, 0, table_bytes);
    net->params = (grok_param *)(net->acts + 1);
    grok__param_push(net->params, &net->n_params, &net->num_parameters, "W_E_a", 2, c.n, E, 0, 1);
    grok__param_push(net->params, &net->n_params, &net->num_parameters, "W_E_b", 2, c.n, E, 0, 1);
    if (mlp) grok__param_push(net->params, &net->n_params, &net->num_parameters, "W", 2, 2 * E, W, 0, 1);
    grok__param_push(net->params, &net->n_params, &net->num_parameters, "W_U", 2, W, c.n, 0, 1);
    if ((st = grok__arena_build(&net->arena, grok__net_layout, net)) != GROK_OK) {
        GROK_FREE(net->acts);
        memset(net, 0, sizeof *net);
        return st;
    }
    /* seed 003: torch.randn(shape) / sqrt(fan), fan = embed_dim for the embeddings, else rows */
    memset(net->weights, 0, sizeof(float) * net->num_parameters);
    memset(net->grads, 0, sizeof(float) * net->num_parameters);
    memset(net->adam_m, 0, sizeof(float) * net->num_parameters);
    memset(net->adam_v, 0, sizeof(float) * net->num_parameters);
    grok_rng_seed(&rng, c.seed);
    for (i = 0; i < net->n_params; i++) {
        const grok_param *p = &net->params[i];
        double scale = 1.0 / sqrt((double)(i < 2 ? p->shape[1] : p->shape[0]));
        for (j = 0; j < p->numel; j++) net->weights[p->offset + j] = (float)(grok_rng_normal(&rng) * scale);
    }
    return GROK_OK;
}

static grok__pset grok__pset_net(grok_net *net)
{
    grok__pset ps;
    ps.n_params = net->n_params; ps.params = net->params; ps.num_parameters = net->num_parameters;
    ps.weights = net->weights; ps.grads = net->grads; ps.adam_m = net->adam_m; ps.adam_v = net->adam_v;
    ps.opt = &net->opt; ps.step = &net->step; ps.epoch = &net->epoch; ps.metrics = &net->metrics;
    ps.loss = &net->loss; ps.filter = &net->filter; ps.stop = &net->stop;
    return ps;
}

GROKDEF void grok_net_free(grok_net *net)
{
    if (!net) return;
    grok_arena_free(&net->arena);
    if (net->acts) GROK_FREE(net->acts->gscratch);
    grok_gradfilter_free(&net->filter);
    GROK_FREE(net->acts);
    memset(net, 0, sizeof *net);
}

GROKDEF const grok_param *grok_net_param(const grok_net *net, const char *name)
{
    return grok__param_find(net ? net->params : NULL, net ? net->n_params : 0, name, "grok_net_param");
}

GROKDEF void grok_net_zero_grad(grok_net *net)
{
    if (net && net->grads) memset(net->grads, 0, sizeof(float) * net->num_parameters);
}

/* Gradient buffer of parameter i, or NULL when it is frozen. */
static float *grok__net_grad(const grok_net *net, int i)
{
    return net->params[i].trainable ? net->grads + net->params[i].offset : NULL;
}

/* ---- the MLP's folded path */

/* ia, ib (B), W_E_a, W_E_b (N,E), W (2E,Hd) -> hidden (B,Hd) = ReLU(tab[a] + tab[N + b]), where
   tab (2N,Hd) = [W_E_a @ W[:E]; W_E_b @ W[E:]]. The same function as the general path's
   ReLU(embed_stack @ W), summed in another order: each row's dot product over 2E is split
   into its two halves, computed once per element instead of once per row. */
static void grok__net_fold_forward(grok_net *net, int B)
{
    grok__net_acts *a = net->acts;
    int E = net->cfg.embed_dim, W = net->cfg.hidden_dim, N = net->cfg.n, i;
    const float *W_in = net->weights + net->params[2].offset;
    float *tab_b = a->tab + (long)N * W;
    grok__epilogue_fn add_relu = grok__kernel_get()->epilogue; /* vector adds; a scalar ReLU mispredicts half its branches */
    grok__matmul_forward(a->tab, net->weights + net->params[0].offset, W_in, NULL, N, E, W, 0, 0);
    grok__matmul_forward(tab_b, net->weights + net->params[1].offset, W_in + (long)E * W, NULL, N, E, W, 0, 0);
    for (i = 0; i < B; i++) {
        float *h = a->mid + (long)i * W;
        memcpy(h, a->tab + (long)a->ia[i] * W, sizeof(float) * (size_t)W);
        add_relu(h, tab_b + (long)a->ib[i] * W, 1, NULL, NULL, W);
    }
}

/* dhidden (B,Hd), already through the ReLU's mask -> dtab (2N,Hd) (a serial scatter: rows
   share table rows), then dtab, W_E_a, W_E_b, W -> dW_E_a, dW_E_b (N,E) +=, dW (2E,Hd) +=. */
static void grok__net_fold_backward(grok_net *net)
{
    grok__net_acts *a = net->acts;
    int E = net->cfg.embed_dim, W = net->cfg.hidden_dim, N = net->cfg.n, B = a->B, i;
    const float *W_in = net->weights + net->params[2].offset;
    float *dtab_b = a->dtab + (long)N * W, *dW = grok__net_grad(net, 2);
    grok__epilogue_fn add = grok__kernel_get()->epilogue;
    memset(a->dtab, 0, sizeof(float) * 2 * (size_t)N * W);
    for (i = 0; i < B; i++) {
        add(a->dtab + (long)a->ia[i] * W, a->dmid + (long)i * W, 0, NULL, NULL, W);
        add(dtab_b + (long)a->ib[i] * W, a->dmid + (long)i * W, 0, NULL, NULL, W);
    }
    grok__matmul_backward(grok__net_grad(net, 0), dW, NULL, a->dtab, net->weights + net->params[0].offset, W_in,
                          N, E, W, 1, 0);
    grok__matmul_backward(grok__net_grad(net, 1), dW ? dW + (long)E * W : NULL, NULL, dtab_b,
                          net->weights + net->params[1].offset, W_in + (long)E * W, N, E, W, 1, 0);
}

/* The rule, as grok__path_choose's for the transformer: the folded path has no hook points and
   computes only what training and evaluation read. */
static grok_path grok__net_path_choose(const grok_net *net, int n_targets, int wants_logits)
{
    const grok__net_acts *a = net->acts;
    if (net->cfg.kind != GROK_NET_MLP || net->general_path || n_targets < 1 || wants_logits || a->n_hooks ||
        a->capture || a->n_grad_hooks || a->grad_capture)
        return GROK_PATH_GENERAL;
    return GROK_PATH_FOLDED;
}

GROKDEF grok_path grok_net_path(const grok_net *net) { return net && net->acts ? net->acts->path : GROK_PATH_GENERAL; }

/* ---- the general path, and the forward and backward that choose */

/* ia, ib (B), W_E_a, W_E_b (N,E) -> logits (B,N) through the net's hook points (or the
   folded path's hidden layer). */
static int grok__net_forward_rows(grok_net *net, int B)
{
    grok__net_acts *a = net->acts;
    const grok_net_config *c = &net->cfg;
    int E = c->embed_dim, W = grok__net_mid(c), N = c->n, hooked = a->n_hooks > 0 || a->capture != NULL, st, i, k;
    int mlp = c->kind == GROK_NET_MLP;
    const float *W_E_a = net->weights + net->params[0].offset, *W_E_b = net->weights + net->params[1].offset;
    const float *W_U = net->weights + net->params[net->n_params - 1].offset;
    grok_tensor xt, yt;
    int shape[2];
#define GROK__NET_HOOK(t, name) \
    if (hooked && (st = grok__hooks_run(a->hooks, a->n_hooks, a->capture, a->capture_filter, a->capture_b0, t, name)) != GROK_OK) return st
    if (a->path == GROK_PATH_FOLDED) {
        grok__net_fold_forward(net, B);
        /* hidden (B,Hd), W_U (Hd,N) -> out (B,N) */
        grok__matmul_forward(a->logits, a->mid, W_U, NULL, B, W, N, 0, 0);
        return GROK_OK;
    }
    shape[0] = B; shape[1] = E;
    if (mlp) {
        /* x_embed and y_embed are the two halves of each embed_stack row (B,2E) */
        for (i = 0; i < B; i++) {
            memcpy(a->stack + (long)i * 2 * E, W_E_a + (long)a->ia[i] * E, sizeof(float) * (size_t)E);
            memcpy(a->stack + (long)i * 2 * E + E, W_E_b + (long)a->ib[i] * E, sizeof(float) * (size_t)E);
        }
        xt = grok_tensor_make(a->stack, 2, shape);
        yt = grok_tensor_make(a->stack + E, 2, shape);
        xt.stride[0] = yt.stride[0] = 2L * E;
    } else {
        for (i = 0; i < B; i++) {
            memcpy(a->x + (long)i * E, W_E_a + (long)a->ia[i] * E, sizeof(float) * (size_t)E);
            memcpy(a->y + (long)i * E, W_E_b + (long)a->ib[i] * E, sizeof(float) * (size_t)E);
        }
        xt = grok_tensor_make(a->x, 2, shape);
        yt = grok_tensor_make(a->y, 2, shape);
    }
    GROK__NET_HOOK(xt, "x_embed");
    GROK__NET_HOOK(yt, "y_embed");
    if (mlp) {
        shape[1] = 2 * E;
        GROK__NET_HOOK(grok_tensor_make(a->stack, 2, shape), "embed_stack");
        /* embed_stack (B,2E), W (2E,Hd) -> hidden (B,Hd) = ReLU(embed_stack @ W) */
        grok__matmul_forward(a->mid, a->stack, net->weights + net->params[2].offset, NULL, B, 2 * E, W, 0, 1);
        shape[1] = W;
        GROK__NET_HOOK(grok_tensor_make(a->mid, 2, shape), "hidden");
    } else {
        /* x_embed, y_embed (B,E) -> product (B,E) */
        for (i = 0; i < B; i++)
            for (k = 0; k < E; k++) a->mid[(long)i * E + k] = a->x[(long)i * E + k] * a->y[(long)i * E + k];
        GROK__NET_HOOK(grok_tensor_make(a->mid, 2, shape), "product");
    }
    /* mid (B,W), W_U (W,N) -> out (B,N) */
    grok__matmul_forward(a->logits, a->mid, W_U, NULL, B, W, N, 0, 0);
    shape[1] = N;
    GROK__NET_HOOK(grok_tensor_make(a->logits, 2, shape), "out");
#undef GROK__NET_HOOK
    return GROK_OK;
}

static int grok__net_forward(grok_net *net, const int *tokens, const int *targets, int B, double *loss,
                             double *acc, float *logits_out)
{
    grok__net_acts *a;
    int N, i, st;
    if (!net || !net->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_net_forward: NULL argument");
    if (net->loss != GROK_LOSS_SOFTMAX && net->loss != GROK_LOSS_STABLEMAX)
        return grok__fail(GROK_ERR_ARG, "grok_net_forward: net->loss %d, want GROK_LOSS_SOFTMAX or GROK_LOSS_STABLEMAX", net->loss);
    a = net->acts;
    N = net->cfg.n;
    if (B < 1 || B > net->max_rows) return grok__fail(GROK_ERR_ARG, "grok_net_forward: batch %d, want 1..%d", B, net->max_rows);
    for (i = 0; i < B; i++) {
        int x = tokens[3 * i], y = tokens[3 * i + 1], t = targets ? targets[3 * i + 2] : -1;
        if (x < 0 || x >= N || y < 0 || y >= N || t < -1 || t >= N)
            return grok__fail(GROK_ERR_ARG, "grok_net_forward: row %d is (%d, %d) -> %d, want elements and labels in 0..%d",
                              i, x, y, t, N - 1);
    }
    a->B = B;
    a->n_targets = 0;
    for (i = 0; i < B; i++) {
        a->ia[i] = tokens[3 * i];
        a->ib[i] = tokens[3 * i + 1];
        a->targets[i] = targets ? targets[3 * i + 2] : -1;
        a->n_targets += a->targets[i] >= 0;
    }
    a->path = grok__net_path_choose(net, a->n_targets, logits_out != NULL);
    if ((st = grok__net_forward_rows(net, B)) != GROK_OK) {
        a->n_targets = 0; /* no backward through a failed forward */
        return st;
    }
    if (logits_out) memcpy(logits_out, a->logits, sizeof(float) * (size_t)B * N);
    grok__crossentropy_forward(a->dlogits, a->row_sum, a->row_loss, a->row_correct, a->logits, a->targets, B, N, net->loss);
    a->loss_sum = 0.0;
    a->n_correct = 0;
    a->n_collapsed = 0;
    for (i = 0; i < B; i++)
        if (a->targets[i] >= 0) {
            a->loss_sum += a->row_loss[i];
            a->n_correct += a->row_correct[i] & GROK__ROW_CORRECT;
            a->n_collapsed += (a->row_correct[i] & GROK__ROW_COLLAPSED) != 0;
        }
    if (loss) *loss = a->n_targets ? a->loss_sum / a->n_targets : 0.0;
    if (acc) *acc = a->n_targets ? (double)a->n_correct / a->n_targets : 0.0;
    return GROK_OK;
}

GROKDEF int grok_net_forward(grok_net *net, const int *tokens, const int *targets, int B, double *loss,
                             double *acc, float *logits_out)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__net_forward(net, tokens, targets, B, loss, acc, logits_out));
}

/* The net's backward from d loss / d logits (from_loss: the cross-entropy's, else what
   a->dlogits holds). With gradient hooks or a gradient cache every hook point's gradient is
   materialised before it propagates: the MLP's ReLU is applied after d hidden is hooked, and
   the bilinear net's d x_embed, d y_embed are formed in gscratch. */
static int grok__net_backward_rows(grok_net *net, int from_loss)
{
    grok__net_acts *a = net->acts;
    int B = a->B, E = net->cfg.embed_dim, W = grok__net_mid(&net->cfg), N = net->cfg.n, i, k, st, shape[2];
    int mlp = net->cfg.kind == GROK_NET_MLP, hooked = a->n_grad_hooks > 0 || a->grad_capture != NULL;
    float *dW_E_a = grok__net_grad(net, 0), *dW_E_b = grok__net_grad(net, 1);
    grok_tensor xt, yt;
#define GROK__NET_GRAD_HOOK(t, name) \
    if (hooked && (st = grok__hooks_run(a->grad_hooks, a->n_grad_hooks, a->grad_capture, a->grad_capture_filter, \
                                        a->capture_b0, t, name)) != GROK_OK) return st
    if (a->path == GROK_PATH_FOLDED && hooked)
        return grok__fail(GROK_ERR_ARG, "grok_net_backward: gradient hooks were added after a forward that took the folded "
                                        "path, which has no hook points (run the forward again)");
    if (from_loss) grok__crossentropy_backward(a->dlogits, a->row_sum, a->targets, B, N, 1.0 / a->n_targets, net->loss);
    shape[0] = B; shape[1] = N;
    GROK__NET_GRAD_HOOK(grok_tensor_make(a->dlogits, 2, shape), "out");
    /* dlogits (B,N), mid (B,W), W_U (W,N) -> dmid (B,W) (before the ReLU for the MLP, fused
       unless d hidden is hooked), dW_U += */
    grok__matmul_backward(a->dmid, grok__net_grad(net, net->n_params - 1), NULL, a->dlogits, a->mid,
                          net->weights + net->params[net->n_params - 1].offset, B, W, N, 0, mlp && !hooked);
    if (a->path == GROK_PATH_FOLDED) {
        grok__net_fold_backward(net);
        return GROK_OK;
    }
    shape[1] = W;
    if (mlp) {
        GROK__NET_GRAD_HOOK(grok_tensor_make(a->dmid, 2, shape), "hidden");
        if (hooked)
            for (i = 0; i < B * W; i++) a->dmid[i] = a->mid[i] > 0.0f ? a->dmid[i] : 0.0f;
        /* dhidden (B,Hd), embed_stack (B,2E), W (2E,Hd) -> dstack (B,2E), dW += */
        grok__matmul_backward(a->dstack, grok__net_grad(net, 2), NULL, a->dmid, a->stack,
                              net->weights + net->params[2].offset, B, 2 * E, W, 0, 0);
        shape[1] = 2 * E;
        GROK__NET_GRAD_HOOK(grok_tensor_make(a->dstack, 2, shape), "embed_stack");
        shape[1] = E;
        xt = grok_tensor_make(a->dstack, 2, shape);
        yt = grok_tensor_make(a->dstack + E, 2, shape);
        xt.stride[0] = yt.stride[0] = 2L * E;
        GROK__NET_GRAD_HOOK(xt, "x_embed");
        GROK__NET_GRAD_HOOK(yt, "y_embed");
        /* serial scatter: rows share embedding rows */
        for (i = 0; i < B; i++)
            for (k = 0; k < E; k++) {
                if (dW_E_a) dW_E_a[(long)a->ia[i] * E + k] += a->dstack[(long)i * 2 * E + k];
                if (dW_E_b) dW_E_b[(long)a->ib[i] * E + k] += a->dstack[(long)i * 2 * E + E + k];
            }
    } else if (hooked) {
        float *dx = a->gscratch, *dy = a->gscratch + (long)net->max_rows * E;
        GROK__NET_GRAD_HOOK(grok_tensor_make(a->dmid, 2, shape), "product");
        for (i = 0; i < B * E; i++) { dx[i] = a->dmid[i] * a->y[i]; dy[i] = a->dmid[i] * a->x[i]; }
        GROK__NET_GRAD_HOOK(grok_tensor_make(dx, 2, shape), "x_embed");
        GROK__NET_GRAD_HOOK(grok_tensor_make(dy, 2, shape), "y_embed");
        for (i = 0; i < B; i++)
            for (k = 0; k < E; k++) {
                if (dW_E_a) dW_E_a[(long)a->ia[i] * E + k] += dx[(long)i * E + k];
                if (dW_E_b) dW_E_b[(long)a->ib[i] * E + k] += dy[(long)i * E + k];
            }
    } else {
        /* dproduct (B,E) -> dW_E_a[a] += dproduct * y_embed, dW_E_b[b] += dproduct * x_embed */
        for (i = 0; i < B; i++)
            for (k = 0; k < E; k++) {
                float d = a->dmid[(long)i * E + k];
                if (dW_E_a) dW_E_a[(long)a->ia[i] * E + k] += d * a->y[(long)i * E + k];
                if (dW_E_b) dW_E_b[(long)a->ib[i] * E + k] += d * a->x[(long)i * E + k];
            }
    }
#undef GROK__NET_GRAD_HOOK
    return GROK_OK;
}

static int grok__net_backward(grok_net *net)
{
    grok__net_acts *a;
    if (!net || !net->acts) return grok__fail(GROK_ERR_ARG, "grok_net_backward: NULL net");
    a = net->acts;
    if (a->B < 1 || a->n_targets < 1) return grok__fail(GROK_ERR_ARG, "grok_net_backward: the last forward had no targets");
    if (a->n_hooks) return grok__fail(GROK_ERR_ARG, "grok_net_backward: hooks are registered (grok_net_clear_hooks first)");
    return grok__net_backward_rows(net, 1);
}

GROKDEF int grok_net_backward(grok_net *net)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__net_backward(net));
}

/* The name of a net's hook point, or NULL and an error naming the caller. */
static const char *grok__net_hook_name(const grok_net *net, const char *name, const char *who)
{
    int i, mlp = net->cfg.kind == GROK_NET_MLP;
    for (i = 0; i < 5 && grok__net_hooks[mlp][i]; i++)
        if (strcmp(grok__net_hooks[mlp][i], name) == 0) return grok__net_hooks[mlp][i];
    grok__fail(GROK_ERR_ARG, "%s: '%s' is not a hook point of %s", who, name, mlp ? "OneLayerMLP" : "BilinearNet");
    return NULL;
}

GROKDEF int grok_net_add_hook(grok_net *net, const char *name, grok_hook_fn fn, void *ctx)
{
    grok__net_acts *a;
    if (!net || !net->acts || !name || !fn) return grok__fail(GROK_ERR_ARG, "grok_net_add_hook: NULL argument");
    a = net->acts;
    if (!grok__net_hook_name(net, name, "grok_net_add_hook")) return GROK_ERR_ARG;
    return grok__hook_add(a->hooks, &a->n_hooks, name, fn, ctx, "grok_net_add_hook");
}

GROKDEF void grok_net_clear_hooks(grok_net *net)
{
    if (net && net->acts) net->acts->n_hooks = 0;
}

GROKDEF int grok_net_cache_run(grok_cache *c, grok_net *net, const int *tokens, int B, const char *filter,
                               float *logits_out)
{
    int start, st = GROK_OK;
    if (!c || !net || !net->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_net_cache_run: NULL argument");
    memset(c, 0, sizeof *c);
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_net_cache_run: %d rows", B);
    c->entries = (grok_cache_entry *)GROK_MALLOC(sizeof(grok_cache_entry) * 5);
    if (!c->entries) return grok__fail(GROK_ERR_NOMEM, "grok_net_cache_run: cache table");
    c->B = B;
    net->acts->capture = c;
    net->acts->capture_filter = filter;
    for (start = 0; start < B && st == GROK_OK; start += net->max_rows) {
        int b = B - start < net->max_rows ? B - start : net->max_rows;
        net->acts->capture_b0 = start;
        st = grok_net_forward(net, tokens + 3L * start, NULL, b, NULL, NULL,
                              logits_out ? logits_out + (long)start * net->cfg.n : NULL);
    }
    net->acts->capture = NULL;
    net->acts->capture_filter = NULL;
    if (st != GROK_OK) grok_cache_free(c);
    return st;
}

/* The bilinear net's hooked backward forms d x_embed and d y_embed (B,E) each in gscratch. */
static int grok__net_gscratch_ensure(grok_net *net)
{
    size_t n = 2 * (size_t)net->max_rows * net->cfg.embed_dim;
    if (net->cfg.kind != GROK_NET_BILINEAR || net->acts->gscratch) return GROK_OK;
    net->acts->gscratch = (float *)GROK_MALLOC(sizeof(float) * n);
    if (!net->acts->gscratch) return grok__fail(GROK_ERR_NOMEM, "gradient hooks: %lu floats for the backward's copies", (unsigned long)n);
    return GROK_OK;
}

GROKDEF int grok_net_add_grad_hook(grok_net *net, const char *name, grok_hook_fn fn, void *ctx)
{
    grok__net_acts *a;
    int st;
    if (!net || !net->acts || !name || !fn) return grok__fail(GROK_ERR_ARG, "grok_net_add_grad_hook: NULL argument");
    a = net->acts;
    if (!grok__net_hook_name(net, name, "grok_net_add_grad_hook")) return GROK_ERR_ARG;
    if ((st = grok__net_gscratch_ensure(net)) != GROK_OK) return st;
    return grok__hook_add(a->grad_hooks, &a->n_grad_hooks, name, fn, ctx, "grok_net_add_grad_hook");
}

GROKDEF void grok_net_clear_grad_hooks(grok_net *net)
{
    if (net && net->acts) net->acts->n_grad_hooks = 0;
}

static int grok__net_grad_forward(void *obj, const int *tokens, int b, float *logits_out)
{
    return grok__net_forward((grok_net *)obj, tokens, NULL, b, NULL, NULL, logits_out);
}

static int grok__net_grad_backward(void *obj, const float *dlogits)
{
    grok_net *net = (grok_net *)obj;
    memcpy(net->acts->dlogits, dlogits, sizeof(float) * (size_t)net->acts->B * net->cfg.n);
    return grok__net_backward_rows(net, 0);
}

static void grok__net_grad_capture(void *obj, grok_cache *acts, grok_cache *grads, const char *filter, int b0)
{
    grok__net_acts *a = ((grok_net *)obj)->acts;
    a->capture = acts;
    a->capture_filter = filter;
    a->grad_capture = grads;
    a->grad_capture_filter = filter;
    a->capture_b0 = b0;
}

GROKDEF int grok_net_grad_cache_run(grok_cache *acts, grok_cache *grads, grok_net *net, const int *tokens, int B,
                                    const char *filter, grok_metric_fn metric, void *metric_ctx, double *value)
{
    grok__grad_target g;
    int *labels = NULL, st, i;
    unsigned fp;
    if (grads) memset(grads, 0, sizeof *grads);
    if (acts) memset(acts, 0, sizeof *acts);
    if (!grads || !net || !net->acts || !tokens) return grok__fail(GROK_ERR_ARG, "grok_net_grad_cache_run: NULL argument");
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_net_grad_cache_run: %d rows", B);
    if (!metric && !metric_ctx) return grok__fail(GROK_ERR_ARG, "grok_net_grad_cache_run: the loss needs the labels (metric_ctx)");
    if (net->acts->n_hooks)
        return grok__fail(GROK_ERR_ARG, "grok_net_grad_cache_run: forward hooks are registered (grok_net_clear_hooks first)");
    if ((st = grok__net_gscratch_ensure(net)) != GROK_OK) return st;
    if (!metric) {
        /* the loss reads one label per logits row */
        labels = (int *)GROK_MALLOC(sizeof(int) * (size_t)B);
        if (!labels) return grok__fail(GROK_ERR_NOMEM, "grok_net_grad_cache_run: %d labels", B);
        for (i = 0; i < B; i++) labels[i] = ((const int *)metric_ctx)[3 * i + 2];
        metric = grok_metric_loss;
        metric_ctx = labels;
    }
    memset(&g, 0, sizeof g);
    g.obj = net;
    g.max_seqs = net->max_rows;
    g.T = 1;
    g.V = net->cfg.n;
    g.tokens_per_seq = 3;
    g.param_grads = net->grads;
    g.n_params = net->num_parameters;
    g.forward = grok__net_grad_forward;
    g.backward = grok__net_grad_backward;
    g.capture = grok__net_grad_capture;
    fp = grok__fp_enter();
    st = grok__grad_cache(&g, acts, grads, tokens, B, filter, 8, metric, metric_ctx, value, "grok_net_grad_cache_run");
    GROK_FREE(labels);
    return grok__fp_restore(fp, st);
}

/* ==== >>optimizer: AdamW ====================================================================== */

GROKDEF grok_adamw grok_adamw_default(void)
{
    grok_adamw o;
    memset(&o, 0, sizeof o);
    o.lr = 1e-3; o.weight_decay = 1.0; o.beta1 = 0.9; o.beta2 = 0.98; o.eps = 1e-8;
    return o;
}

/* Nonzero when x (n) holds a NaN or an infinity. Sixteen independent lanes, so that compilers
   vectorise it at -O2. */
static int grok__nonfinite(const float *x, long n)
{
    uint32_t lane[16] = {0}, w[16], bad = 0;
    long k = 0;
    int j;
    for (; k + 16 <= n; k += 16) {
        memcpy(w, x + k, sizeof w);
        for (j = 0; j < 16; j++) lane[j] |= (w[j] & GROK__EXP_BITS) == GROK__EXP_BITS;
    }
    for (; k < n; k++) {
        memcpy(w, x + k, 4);
        bad |= (w[0] & GROK__EXP_BITS) == GROK__EXP_BITS;
    }
    for (j = 0; j < 16; j++) bad |= lane[j];
    return bad != 0;
}

/* One job over every trainable tensor: task t takes the t-th of ntasks slices of each (a slice
   per thread), so that the thread that checks a slice's gradients then updates it while they
   are in its cache. */
typedef struct {
    const grok_param *params;
    int n_params, check; /* check: test the gradients only, update nothing */
    float *w, *g, *m, *v;
    grok__adamw_consts c;
    int bad[GROK__ROW_TASKS]; /* per task: a non-finite gradient (check) or updated weight */
} grok__adamw_args;

static void grok__adamw_task(void *ctx, int task, int ntasks)
{
    grok__adamw_args *a = (grok__adamw_args *)ctx;
    grok__adamw_fn update = grok__kernel_get()->adamw;
    int i, bad = 0;
    for (i = 0; i < a->n_params; i++) {
        const grok_param *p = &a->params[i];
        long n = (long)p->numel, lo = grok__chunk_lo(n, task, ntasks), hi = grok__chunk_lo(n, task + 1, ntasks);
        size_t o = p->offset + (size_t)lo;
        if (!p->trainable) continue;
        if (a->check) bad |= grok__nonfinite(a->g + o, hi - lo);
        else bad |= update(a->w + o, a->m + o, a->v + o, a->g + o, hi - lo, &a->c);
    }
    a->bad[task] = bad;
}

static int grok__adamw_valid(const grok_adamw *o)
{
    return o->lr >= 0.0 && o->weight_decay >= 0.0 && o->beta1 >= 0.0 && o->beta1 < 1.0 && o->beta2 >= 0.0 &&
           o->beta2 < 1.0 && o->eps >= 0.0 && (o->orthogonal == 0 || o->orthogonal == 1) && o->fixed_norm >= 0.0 &&
           o->fixed_norm < HUGE_VAL;
}
#define GROK__ADAMW_RANGES "need lr, wd, eps >= 0, betas in [0, 1), orthogonal 0 or 1 and a finite fixed_norm >= 0"

static void grok__orthograd(float *grads, const float *weights, const grok_param *params, int n_params)
{
    int i;
    for (i = 0; i < n_params; i++) {
        const grok_param *p = &params[i];
        float *g = grads + p->offset;
        const float *w = weights + p->offset;
        double gw = 0.0, ww = 0.0, gg = 0.0, oo = 0.0, proj, scale;
        size_t k;
        if (!p->trainable) continue;
        for (k = 0; k < p->numel; k++) {
            gw += (double)g[k] * w[k];
            ww += (double)w[k] * w[k];
            gg += (double)g[k] * g[k];
        }
        proj = gw / (ww + 1e-30);
        for (k = 0; k < p->numel; k++) {
            double o = g[k] - proj * w[k];
            oo += o * o;
        }
        scale = sqrt(gg) / (sqrt(oo) + 1e-30);
        for (k = 0; k < p->numel; k++) g[k] = (float)((g[k] - proj * w[k]) * scale);
    }
}

/* The total L2 norm of the trainable tensors, in double, in table order. */
static double grok__trainable_norm(const float *weights, const grok_param *params, int n_params)
{
    double ss = 0.0;
    int i;
    size_t k;
    for (i = 0; i < n_params; i++)
        for (k = 0; params[i].trainable && k < params[i].numel; k++)
            ss += (double)weights[params[i].offset + k] * weights[params[i].offset + k];
    return sqrt(ss);
}

static double grok__project_norm(float *weights, const grok_param *params, int n_params, double norm)
{
    double before = grok__trainable_norm(weights, params, n_params);
    float scale;
    int i;
    size_t k;
    if (!(before > 0.0) || !isfinite(before)) return before; /* nothing to scale, or the NaN guard's to report */
    scale = (float)(norm / before);
    for (i = 0; i < n_params; i++)
        for (k = 0; params[i].trainable && k < params[i].numel; k++) weights[params[i].offset + k] *= scale;
    return before;
}

/* PyTorch's single-tensor AdamW (torch/optim/adamw.py) step t = step + 1, per element:
     p *= 1 - lr*wd;  m = lerp(m, g, 1 - beta1);  v = beta2*v + (1 - beta2)*g*g;
     p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
   with the scalars computed in double and the element math in float, as torch does.
   With nonfinite (grok_train's NaN guard) it is set to 1, and nothing is updated, when a
   trainable gradient is NaN or infinite; else to 2 when an updated weight is, else to 0. */
static int grok__adamw_params(const grok_adamw *o, long *step, const grok_param *params, int n_params, float *weights,
                              float *grads, float *adam_m, float *adam_v, const char *who, int *nonfinite)
{
    grok__adamw_args a;
    double lr, t;
    size_t total = 0;
    int i, ntasks, bad = 0;
    if (!grok__adamw_valid(o)) return grok__fail(GROK_ERR_ARG, "%s: " GROK__ADAMW_RANGES, who);
    lr = o->lr * (o->lr_schedule ? o->lr_schedule(*step, o->lr_schedule_ctx) : 1.0);
    if (!isfinite(lr)) return grok__fail(GROK_ERR_NUMERIC, "%s: learning rate %g at step %ld", who, lr, *step);
    t = (double)(*step + 1);
    a.c.lr_wd_keep = (float)(1.0 - lr * o->weight_decay);
    a.c.one_minus_beta1 = (float)(1.0 - o->beta1);
    a.c.beta2 = (float)o->beta2;
    a.c.one_minus_beta2 = (float)(1.0 - o->beta2);
    a.c.step_size = (float)(lr / (1.0 - pow(o->beta1, t)));
    a.c.bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, t));
    a.c.eps = (float)o->eps;
    a.params = params; a.n_params = n_params;
    a.w = weights; a.g = grads; a.m = adam_m; a.v = adam_v;
    for (i = 0; i < n_params; i++) total += params[i].trainable ? params[i].numel : 0;
    ntasks = grok__tasks_for((long)(total / 4096));
    if (ntasks > grok__pool_size()) ntasks = grok__pool_size(); /* one slice per thread: no line shared at every cut */
    if (nonfinite) {
        a.check = 1;
        grok__parallel_for(grok__adamw_task, &a, ntasks);
        for (i = 0; i < ntasks; i++) bad |= a.bad[i];
        if (bad) { *nonfinite = 1; return GROK_OK; }
    }
    if (o->orthogonal) grok__orthograd(grads, weights, params, n_params);
    a.check = 0;
    grok__parallel_for(grok__adamw_task, &a, ntasks);
    for (i = 0; i < ntasks; i++) bad |= a.bad[i];
    if (!bad && o->fixed_norm > 0.0) grok__project_norm(weights, params, n_params, o->fixed_norm);
    if (nonfinite) *nonfinite = bad ? 2 : 0;
    (*step)++;
    return GROK_OK;
}

static int grok__model_adamw_step(grok_model *m)
{
    if (!m || !m->weights) return grok__fail(GROK_ERR_ARG, "grok_model_adamw_step: NULL model");
    return grok__adamw_params(&m->opt, &m->step, m->params, m->n_params, m->weights, m->grads, m->adam_m, m->adam_v,
                              "grok_model_adamw_step", NULL);
}

GROKDEF int grok_model_adamw_step(grok_model *m)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__model_adamw_step(m));
}

static int grok__net_adamw_step(grok_net *net)
{
    if (!net || !net->weights) return grok__fail(GROK_ERR_ARG, "grok_net_adamw_step: NULL net");
    return grok__adamw_params(&net->opt, &net->step, net->params, net->n_params, net->weights, net->grads, net->adam_m,
                              net->adam_v, "grok_net_adamw_step", NULL);
}

GROKDEF int grok_net_adamw_step(grok_net *net)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__net_adamw_step(net));
}

/* Every tensor of the table inside a buffer of at most n floats (n 0: not known). */
static int grok__table_ok(const grok_param *params, int n_params, size_t n)
{
    int i;
    if (!params || n_params < 1) return 0;
    for (i = 0; i < n_params; i++)
        if (n && (params[i].offset > n || params[i].numel > n - params[i].offset)) return 0;
    return 1;
}

GROKDEF int grok_orthograd(float *grads, const float *weights, const grok_param *params, int n_params)
{
    if (!grads || !weights || !grok__table_ok(params, n_params, 0))
        return grok__fail(GROK_ERR_ARG, "grok_orthograd: NULL buffer or an empty parameter table");
    grok__orthograd(grads, weights, params, n_params);
    return GROK_OK;
}

GROKDEF double grok_weights_project_norm(float *weights, const grok_param *params, int n_params, double norm)
{
    if (!weights || !grok__table_ok(params, n_params, 0)) {
        grok__fail(GROK_ERR_ARG, "grok_weights_project_norm: NULL buffer or an empty parameter table");
        return -1.0;
    }
    if (!(norm > 0.0) || !isfinite(norm)) {
        grok__fail(GROK_ERR_ARG, "grok_weights_project_norm: norm %g, want a finite norm > 0", norm);
        return -1.0;
    }
    return grok__project_norm(weights, params, n_params, norm);
}

/* ---- Grokfast's gradient filters */

GROKDEF grok_gradfilter_config grok_gradfilter_default(int kind)
{
    grok_gradfilter_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    if (kind == GROK_FILTER_EMA) { c.alpha = 0.98; c.lamb = 2.0; }
    if (kind == GROK_FILTER_MA) { c.window = 100; c.lamb = 5.0; c.warmup = 1; }
    return c;
}

/* c with its zero fields at the kind's defaults; GROK_ERR_ARG naming the field out of range. */
static int grok__gradfilter_resolve(grok_gradfilter_config *out, const grok_gradfilter_config *c, const char *who)
{
    grok_gradfilter_config d = grok_gradfilter_default(c->kind);
    if (c->kind < GROK_FILTER_NONE || c->kind > GROK_FILTER_MA)
        return grok__fail(GROK_ERR_ARG, "%s: filter kind %d, want GROK_FILTER_NONE, _EMA or _MA", who, c->kind);
    *out = *c;
    if (c->kind == GROK_FILTER_NONE) return GROK_OK;
    if (out->lamb == 0.0) out->lamb = d.lamb;
    if (!isfinite(out->lamb)) return grok__fail(GROK_ERR_ARG, "%s: filter lamb %g, want a finite number", who, out->lamb);
    if (c->kind == GROK_FILTER_EMA) {
        if (out->alpha == 0.0) out->alpha = d.alpha;
        if (!(out->alpha > 0.0 && out->alpha < 1.0))
            return grok__fail(GROK_ERR_ARG, "%s: EMA filter alpha %g, want 0 < alpha < 1", who, out->alpha);
        out->window = 0; out->warmup = 0;
    } else {
        if (out->window == 0) out->window = d.window;
        if (out->window < 1 || out->window > 1000000)
            return grok__fail(GROK_ERR_ARG, "%s: MA filter window %d, want 1..1000000", who, out->window);
        if (out->warmup != 0 && out->warmup != 1)
            return grok__fail(GROK_ERR_ARG, "%s: MA filter warmup %d, want 0 or 1", who, out->warmup);
        out->alpha = 0.0;
    }
    return GROK_OK;
}

/* The floats of a filter's state for gradients of n floats: 0 when that overflows. */
static size_t grok__gradfilter_floats(const grok_gradfilter_config *c, size_t n)
{
    size_t slots = c->kind == GROK_FILTER_EMA ? 1 : c->kind == GROK_FILTER_MA ? (size_t)c->window : 0;
    return slots && n <= ((size_t)-1 / sizeof(float) - 2 * GROK__ALIGN) / slots ? slots * n : 0;
}

GROKDEF int grok_gradfilter_init(grok_gradfilter *f, const grok_gradfilter_config *c, size_t n)
{
    grok_gradfilter_config r;
    size_t floats;
    int st;
    if (!f || !c) return grok__fail(GROK_ERR_ARG, "grok_gradfilter_init: NULL argument");
    if ((st = grok__gradfilter_resolve(&r, c, "grok_gradfilter_init")) != GROK_OK) return st;
    floats = grok__gradfilter_floats(&r, n);
    if (r.kind != GROK_FILTER_NONE && !floats)
        return grok__fail(GROK_ERR_ARG, "grok_gradfilter_init: a filter over %zu parameters", n);
    memset(f, 0, sizeof *f);
    f->cfg = r;
    f->n = n;
    if (r.kind == GROK_FILTER_NONE) return GROK_OK;
    if ((st = grok_arena_init(&f->arena, floats * sizeof(float))) != GROK_OK) return st;
    f->state = (float *)grok_arena_alloc(&f->arena, floats * sizeof(float));
    memset(f->state, 0, floats * sizeof(float));
    return GROK_OK;
}

GROKDEF void grok_gradfilter_free(grok_gradfilter *f)
{
    if (!f) return;
    grok_arena_free(&f->arena);
    memset(f, 0, sizeof *f);
}

typedef struct {
    grok_gradfilter *f;
    float *g;
    const grok_param *params;
    int n_params;
} grok__filter_args;

/* ironjr/grokfast's gradfilter_ema and gradfilter_ma in float32, element by element: the EMA's
   first step starts from g itself; the MA's mean is the sum from the oldest kept gradient to the
   newest (Python's sum over the deque), divided by how many are kept. */
static void grok__gradfilter_task(void *ctx, int task, int ntasks)
{
    const grok__filter_args *a = (const grok__filter_args *)ctx;
    const grok_gradfilter *f = a->f;
    const grok_gradfilter_config *c = &f->cfg;
    float lamb = (float)c->lamb;
    int i;
    for (i = 0; i < a->n_params; i++) {
        const grok_param *p = &a->params[i];
        size_t lo = p->offset + (size_t)grok__chunk_lo((long)p->numel, task, ntasks);
        size_t hi = p->offset + (size_t)grok__chunk_lo((long)p->numel, task + 1, ntasks), k;
        if (!p->trainable) continue;
        if (c->kind == GROK_FILTER_EMA) {
            float alpha = (float)c->alpha, rest = (float)(1.0 - c->alpha);
            for (k = lo; k < hi; k++) {
                float e = f->count == 0 ? a->g[k] : f->state[k];
                e = e * alpha + a->g[k] * rest;
                f->state[k] = e;
                a->g[k] = a->g[k] + e * lamb;
            }
        } else {
            long W = c->window, kept = f->count + 1 < W ? f->count + 1 : W, first = f->count + 1 - kept, j;
            size_t n = f->n;
            for (k = lo; k < hi; k++) f->state[(size_t)(f->count % W) * n + k] = a->g[k];
            if (c->warmup && kept < W) continue;
            for (k = lo; k < hi; k++) {
                float sum = 0.0f;
                for (j = first; j < first + kept; j++) sum += f->state[(size_t)(j % W) * n + k];
                a->g[k] = a->g[k] + sum / (float)kept * lamb;
            }
        }
    }
}

GROKDEF int grok_gradfilter_apply(grok_gradfilter *f, float *grads, const grok_param *params, int n_params)
{
    grok__filter_args a;
    if (!f || !grads) return grok__fail(GROK_ERR_ARG, "grok_gradfilter_apply: NULL argument");
    if (!grok__table_ok(params, n_params, f->n))
        return grok__fail(GROK_ERR_ARG, "grok_gradfilter_apply: the parameter table does not fit the filter's %zu floats", f->n);
    if (f->cfg.kind == GROK_FILTER_NONE) return GROK_OK;
    if (!f->state) return grok__fail(GROK_ERR_ARG, "grok_gradfilter_apply: the filter has no state (grok_gradfilter_init)");
    a.f = f; a.g = grads; a.params = params; a.n_params = n_params;
    grok__parallel_for(grok__gradfilter_task, &a, grok__tasks_for((long)(f->n / 4096)));
    f->count++;
    return GROK_OK;
}

/* ==== >>evaluate: loss and accuracy over a data set =========================================== */

static int grok__model_evaluate(grok_model *m, const int *tokens, const int *targets, int n,
                                double *loss, double *acc)
{
    double sum = 0.0;
    long correct = 0, count = 0;
    int start, B, st;
    if (!m || !m->acts || !tokens || !targets) return grok__fail(GROK_ERR_ARG, "grok_model_evaluate: NULL argument");
    if (n < 1) return grok__fail(GROK_ERR_ARG, "grok_model_evaluate: %d sequences", n);
    if ((st = grok__check_tokens(m, tokens, targets, (long)n * m->cfg.n_ctx)) != GROK_OK) return st;
    B = m->max_rows / m->cfg.n_ctx;
    for (start = 0; start < n; start += B) {
        int b = n - start < B ? n - start : B;
        long off = (long)start * m->cfg.n_ctx;
        if ((st = grok_model_forward(m, tokens + off, targets + off, b, NULL, NULL, NULL)) != GROK_OK) return st;
        sum += m->acts->loss_sum;
        correct += m->acts->n_correct;
        count += m->acts->n_targets;
    }
    /* The buffers now hold a partial batch: a backward pass must follow a fresh forward. */
    m->acts->n_targets = 0;
    if (loss) *loss = count ? sum / count : 0.0;
    if (acc) *acc = count ? (double)correct / count : 0.0;
    return GROK_OK;
}

GROKDEF int grok_model_evaluate(grok_model *m, const int *tokens, const int *targets, int n,
                                double *loss, double *acc)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__model_evaluate(m, tokens, targets, n, loss, acc));
}

static int grok__net_evaluate(grok_net *net, const int *tokens, const int *targets, int n, double *loss,
                              double *acc)
{
    double sum = 0.0;
    long correct = 0, count = 0;
    int start, st;
    if (!net || !net->acts || !tokens || !targets) return grok__fail(GROK_ERR_ARG, "grok_net_evaluate: NULL argument");
    if (n < 1) return grok__fail(GROK_ERR_ARG, "grok_net_evaluate: %d rows", n);
    for (start = 0; start < n; start += net->max_rows) {
        int b = n - start < net->max_rows ? n - start : net->max_rows;
        if ((st = grok_net_forward(net, tokens + 3L * start, targets + 3L * start, b, NULL, NULL, NULL)) != GROK_OK) return st;
        sum += net->acts->loss_sum;
        correct += net->acts->n_correct;
        count += net->acts->n_targets;
    }
    net->acts->n_targets = 0; /* the buffers hold a partial set: backward needs a fresh forward */
    if (loss) *loss = count ? sum / count : 0.0;
    if (acc) *acc = count ? (double)correct / count : 0.0;
    return GROK_OK;
}

GROKDEF int grok_net_evaluate(grok_net *net, const int *tokens, const int *targets, int n, double *loss,
                              double *acc)
{
    unsigned fp = grok__fp_enter();
    return grok__fp_restore(fp, grok__net_evaluate(net, tokens, targets, n, loss, acc));
}

/* ==== >>tasks: modular arithmetic, groups, n-digit addition =================================== */

GROKDEF int grok_data_alloc(grok_data *d, int n, int n_ctx)
{
    size_t cells;
    if (!d) return grok__fail(GROK_ERR_ARG, "grok_data_alloc: NULL data");
    memset(d, 0, sizeof *d);
    if (n < 0 || n_ctx < 1 || (long)n * n_ctx > (1L << 30))
        return grok__fail(GROK_ERR_ARG, "grok_data_alloc: %d sequences of %d tokens", n, n_ctx);
    cells = (size_t)n * (size_t)n_ctx;
    d->tokens = (int *)GROK_MALLOC(2 * cells * sizeof(int) + sizeof(int));
    if (!d->tokens) return grok__fail(GROK_ERR_NOMEM, "grok_data_alloc: %d sequences of %d tokens", n, n_ctx);
    d->targets = d->tokens + cells;
    d->n = n;
    d->n_ctx = n_ctx;
    memset(d->targets, 0xff, cells * sizeof(int)); /* every int -1: no loss term yet */
    return GROK_OK;
}

GROKDEF void grok_data_free(grok_data *d)
{
    if (!d) return;
    GROK_FREE(d->tokens);
    memset(d, 0, sizeof *d);
}

/* Rows (x, y, '=' = p) of every pair that fn keeps, a-major, shuffled from data_seed and split
   at floor(N frac_train): modular addition's construction, shared by every pair task. */
static int grok__task_pairs(grok_data *train, grok_data *test, grok_modop_fn fn, void *ctx, int p,
                            double frac_train, uint64_t data_seed, const char *who)
{
    grok_rng rng;
    int *label, *keep, n = 0, n_train, i, st;
    if (!train || !test) return grok__fail(GROK_ERR_ARG, "%s: NULL data", who);
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!fn) return grok__fail(GROK_ERR_ARG, "%s: NULL operation", who);
    if (p < 2 || p > 46340) return grok__fail(GROK_ERR_ARG, "%s: p = %d, want 2..46340", who, p);
    if (!(frac_train > 0.0 && frac_train < 1.0))
        return grok__fail(GROK_ERR_ARG, "%s: frac_train = %g, want (0, 1)", who, frac_train);
    label = (int *)GROK_MALLOC(sizeof(int) * 2 * (size_t)p * (size_t)p);
    if (!label) return grok__fail(GROK_ERR_NOMEM, "%s: %d pairs", who, p * p);
    keep = label + (size_t)p * p;
    for (i = 0; i < p * p; i++) {
        label[i] = fn(i / p, i % p, p, ctx);
        if (label[i] < -1 || label[i] >= p) {
            st = grok__fail(GROK_ERR_ARG, "%s: label %d for (%d, %d), want -1..%d", who, label[i], i / p, i % p, p - 1);
            GROK_FREE(label);
            return st;
        }
        if (label[i] >= 0) keep[n++] = i;
    }
    n_train = (int)((double)n * frac_train); /* Python's int(N*frac_train) */
    if (n_train < 1 || n_train >= n) {
        GROK_FREE(label);
        return grok__fail(GROK_ERR_ARG, "%s: frac_train = %g leaves an empty split of %d pairs", who, frac_train, n);
    }
    grok_rng_seed(&rng, data_seed);
    grok_rng_shuffle(&rng, keep, (size_t)n);
    if ((st = grok_data_alloc(train, n_train, 3)) != GROK_OK || (st = grok_data_alloc(test, n - n_train, 3)) != GROK_OK) {
        GROK_FREE(label);
        grok_data_free(train);
        return st;
    }
    for (i = 0; i < n; i++) {
        grok_data *d = i < n_train ? train : test;
        int row = i < n_train ? i : i - n_train;
        d->tokens[row * 3 + 0] = keep[i] / p;
        d->tokens[row * 3 + 1] = keep[i] % p;
        d->tokens[row * 3 + 2] = p;
        d->targets[row * 3 + 2] = label[keep[i]];
    }
    GROK_FREE(label);
    return GROK_OK;
}

static int grok__is_prime(int p)
{
    int d;
    if (p < 2) return 0;
    for (d = 2; d * d <= p; d++)
        if (p % d == 0) return 0;
    return 1;
}

/* x^e mod p (p <= 46340). */
static int grok__powmod(int x, int e, int p)
{
    int64_t r = 1 % p, b = x % p;
    for (; e > 0; e >>= 1, b = b * b % p)
        if (e & 1) r = r * b % p;
    return (int)r;
}

typedef struct { grok_modop op; int m, n; } grok__modop_ctx;

static int grok__modop_label(int a, int b, int p, void *ctx)
{
    const grok__modop_ctx *c = (const grok__modop_ctx *)ctx;
    int64_t la = a, lb = b; /* a^2 + ab + b^2 < 2^33 */
    switch (c->op) {
    case GROK_OP_ADD: return (int)((la + lb) % p);
    case GROK_OP_SUB: return (int)((la - lb + p) % p);
    case GROK_OP_MUL: return (int)(la * lb % p);
    case GROK_OP_DIV: return b == 0 ? -1 : (int)(la * grok__powmod(b, p - 2, p) % p); /* Fermat: b^(p-2) = b^-1 */
    case GROK_OP_POW_SUM: return (grok__powmod(a, c->m, p) + grok__powmod(b, c->n, p)) % p;
    case GROK_OP_SQ_SUM: return (int)((la * la + lb * lb) % p);
    case GROK_OP_SQ_CROSS: return (int)((la * la + la * lb + lb * lb) % p);
    case GROK_OP_SQ_CROSS_PLUS_A: return (int)((la * la + la * lb + lb * lb + la) % p);
    case GROK_OP_CUBE_CROSS: return (int)(((int64_t)grok__powmod(a, 3, p) + la * lb) % p);
    case GROK_OP_CUBE_CROSS_SQ: return (int)(((int64_t)grok__powmod(a, 3, p) + la * (lb * lb % p) + lb) % p);
    case GROK_OP_DIV_IF_ODD: return b % 2 ? (int)(la * grok__powmod(b, p - 2, p) % p) : (int)((la - lb + p) % p);
    case GROK_OP_ADD_OR_MUL: return a % 2 ? (int)(la * lb % p) : (int)((la + lb) % p);
    case GROK_OP_ADD_OR_SUB: return a % 2 ? (int)((la - lb + p) % p) : (int)((la + lb) % p);
    }
    return -2;
}

/* Checks an operation's arguments once, so that the label function only sees valid ones. */
static int grok__modop_check(grok_modop op, int p, int m, int n, const char *who)
{
    if ((int)op < (int)GROK_OP_ADD || (int)op > (int)GROK_OP_ADD_OR_SUB) return grok__fail(GROK_ERR_ARG, "%s: unknown operation %d", who, (int)op);
    if (p < 2 || p > 46340) return grok__fail(GROK_ERR_ARG, "%s: p = %d, want 2..46340", who, p);
    if ((op == GROK_OP_DIV || op == GROK_OP_DIV_IF_ODD) && !grok__is_prime(p))
        return grok__fail(GROK_ERR_ARG, "%s: division needs a prime p (every b != 0 invertible), got %d", who, p);
    if (op == GROK_OP_POW_SUM && (m < 0 || n < 0)) return grok__fail(GROK_ERR_ARG, "%s: exponents %d, %d, want >= 0", who, m, n);
    return GROK_OK;
}

GROKDEF int grok_modop_apply(grok_modop op, int a, int b, int p, int m, int n)
{
    grok__modop_ctx c;
    if (grok__modop_check(op, p, m, n, "grok_modop_apply") != GROK_OK) return -1;
    if (a < 0 || a >= p || b < 0 || b >= p) {
        grok__fail(GROK_ERR_ARG, "grok_modop_apply: (%d, %d), want 0..%d", a, b, p - 1);
        return -1;
    }
    c.op = op; c.m = m; c.n = n;
    return grok__modop_label(a, b, p, &c);
}

GROKDEF int grok_task_modop(grok_data *train, grok_data *test, grok_modop op, int p, int m, int n,
                            double frac_train, uint64_t data_seed)
{
    grok__modop_ctx c;
    int st;
    if (train) memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    if ((st = grok__modop_check(op, p, m, n, "grok_task_modop")) != GROK_OK) return st;
    c.op = op; c.m = m; c.n = n;
    return grok__task_pairs(train, test, grok__modop_label, &c, p, frac_train, data_seed, "grok_task_modop");
}

GROKDEF int grok_task_modop_fn(grok_data *train, grok_data *test, grok_modop_fn fn, void *ctx, int p,
                               double frac_train, uint64_t data_seed)
{
    return grok__task_pairs(train, test, fn, ctx, p, frac_train, data_seed, "grok_task_modop_fn");
}

static int grok__modtask_alloc(grok_modtask *t, int p, const char *who)
{
    memset(t, 0, sizeof *t);
    if (p < 2 || p > 46340) return grok__fail(GROK_ERR_ARG, "%s: p = %d, want 2..46340", who, p);
    if (!(t->labels = GROK__NEW(int, 2 * (size_t)p * p))) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", who);
    t->sums = t->labels + (size_t)p * p;
    t->p = p;
    for (long r = 0; r < (long)p * p; r++) t->sums[r] = (int)((r / p + r % p) % p);
    return GROK_OK;
}

GROKDEF int grok_modtask_init(grok_modtask *t, grok_modop op, int p, int m, int n, grok_dirs dirs)
{
    static const char *const forms[] = {"a + b", "a - b", "a b", "a / b", "", "a^2 + b^2", "a^2 + a b + b^2",
                                        "a^2 + a b + b^2 + a", "a^3 + a b", "a^3 + a b^2 + b",
                                        "a / b if b odd, else a - b", "a + b if a even, else a b",
                                        "a + b if a even, else a - b"};
    grok__modop_ctx c;
    int st;
    if (!t) return grok__fail(GROK_ERR_ARG, "grok_modtask_init: NULL task");
    memset(t, 0, sizeof *t);
    if ((st = grok__modop_check(op, p, m, n, "grok_modtask_init")) != GROK_OK) return st;
    if (dirs != GROK_DIRS_SUM && dirs != GROK_DIRS_TASK) return grok__fail(GROK_ERR_ARG, "grok_modtask_init: directions %d", (int)dirs);
    if (dirs == GROK_DIRS_TASK && op == GROK_OP_DIV)
        return grok__fail(GROK_ERR_ARG, "grok_modtask_init: the task's own directions need every pair labelled; a / b leaves b = 0 out");
    if ((st = grok__modtask_alloc(t, p, "grok_modtask_init")) != GROK_OK) return st;
    c.op = op; c.m = m; c.n = n;
    for (long r = 0; r < (long)p * p; r++) {
        t->labels[r] = grok__modop_label((int)(r / p), (int)(r % p), p, &c);
        if (dirs == GROK_DIRS_TASK) t->sums[r] = t->labels[r];
    }
    t->dirs = dirs;
    if (op == GROK_OP_POW_SUM) snprintf(t->name, sizeof t->name, "(a^%d + b^%d) mod %d", m, n, p);
    else snprintf(t->name, sizeof t->name, "(%s) mod %d", forms[op], p);
    return GROK_OK;
}

GROKDEF int grok_modtask_from_data(grok_modtask *t, int p, const grok_data *train, const grok_data *test)
{
    int st;
    if (!t) return grok__fail(GROK_ERR_ARG, "grok_modtask_from_data: NULL task");
    memset(t, 0, sizeof *t);
    if (!train || !train->tokens || !train->targets || (test && (!test->tokens || !test->targets)))
        return grok__fail(GROK_ERR_ARG, "grok_modtask_from_data: NULL data");
    if ((st = grok__modtask_alloc(t, p, "grok_modtask_from_data")) != GROK_OK) return st;
    for (long r = 0; r < (long)p * p; r++) t->labels[r] = -1;
    for (int k = 0; k < 2; k++) {
        const grok_data *d = k ? test : train;
        for (int i = 0; d && i < d->n; i++) {
            const int *x = d->tokens + 3L * i, *y = d->targets + 3L * i;
            long r;
            if (d->n_ctx != 3 || x[0] < 0 || x[0] >= p || x[1] < 0 || x[1] >= p || x[2] != p || y[0] != -1 || y[1] != -1 ||
                y[2] < 0 || y[2] >= p) {
                grok_modtask_free(t);
                return grok__fail(GROK_ERR_ARG, "grok_modtask_from_data: %s row %d is not a pair (a, b, '=') with a label in 0..%d",
                                  k ? "test" : "train", i, p - 1);
            }
            r = (long)x[0] * p + x[1];
            if (t->labels[r] >= 0 && t->labels[r] != y[2]) {
                int first = t->labels[r];
                grok_modtask_free(t);
                return grok__fail(GROK_ERR_ARG, "grok_modtask_from_data: the pair (%d, %d) has labels %d and %d", x[0], x[1],
                                  first, y[2]);
            }
            t->labels[r] = y[2];
        }
    }
    snprintf(t->name, sizeof t->name, "labels from the data, mod %d", p);
    return GROK_OK;
}

GROKDEF void grok_modtask_free(grok_modtask *t)
{
    if (!t) return;
    GROK_FREE(t->labels);
    memset(t, 0, sizeof *t);
}

/* ---- groups (seed 003) */

/* Rank of the permutation x (n) in lexicographic order (its Lehmer code). */
static int grok__perm_rank(const int *x, int n)
{
    int i, j, r = 0;
    for (i = 0; i < n; i++) {
        int smaller = 0;
        for (j = i + 1; j < n; j++) smaller += x[j] < x[i];
        r = r * (n - i) + smaller;
    }
    return r;
}

/* The permutation of rank r (n <= 6) into x. */
static void grok__perm_unrank(int *x, int r, int n)
{
    int used[8] = {0}, code[8], i, j;
    for (i = n - 1; i >= 0; i--) { code[i] = r % (n - i); r /= n - i; }
    for (i = 0; i < n; i++) {
        /* cppcheck-suppress uninitvar ; the loop above set code[0..n-1] */
        int k = code[i];
        for (j = 0; j < n; j++)
            if (!used[j] && k-- == 0) break;
        x[i] = j;
        used[j] = 1;
    }
}

GROKDEF void grok_group_free(grok_group *g)
{
    if (!g) return;
    GROK_FREE(g->table);
    memset(g, 0, sizeof *g);
}

GROKDEF int grok_group_init(grok_group *g, grok_group_kind kind, int n)
{
    int N, x, y, k, fact = 1, rank_of[720], element_of[720];
    if (!g) return grok__fail(GROK_ERR_ARG, "grok_group_init: NULL group");
    memset(g, 0, sizeof *g);
    if (kind == GROK_GROUP_SYMMETRIC || kind == GROK_GROUP_ALTERNATING) {
        if (n < 1 || n > 6) return grok__fail(GROK_ERR_ARG, "grok_group_init: %c_%d, want n in 1..6", kind == GROK_GROUP_SYMMETRIC ? 'S' : 'A', n);
        for (k = 2; k <= n; k++) fact *= k;
        N = kind == GROK_GROUP_SYMMETRIC || n < 2 ? fact : fact / 2;
    } else if (kind == GROK_GROUP_CYCLIC || kind == GROK_GROUP_DIHEDRAL) {
        int most = kind == GROK_GROUP_CYCLIC ? GROK_GROUP_MAX_ORDER : GROK_GROUP_MAX_ORDER / 2;
        if (n < 1 || n > most) return grok__fail(GROK_ERR_ARG, "grok_group_init: n = %d, want 1..%d", n, most);
        N = kind == GROK_GROUP_CYCLIC ? n : 2 * n;
    } else {
        return grok__fail(GROK_ERR_ARG, "grok_group_init: unknown kind %d", (int)kind);
    }
    g->table = (int *)GROK_MALLOC(sizeof(int) * ((size_t)N * N + (size_t)N));
    if (!g->table) return grok__fail(GROK_ERR_NOMEM, "grok_group_init: table of order %d", N);
    g->inverse = g->table + (size_t)N * N;
    g->kind = kind;
    g->index = n;
    g->order = N;
    snprintf(g->name, sizeof g->name, "%c_%d", "CDSA"[kind], n);
    /* S_n and A_n: the lexicographic rank in S_n of each element, and back (-1: odd) */
    for (x = 0, k = 0; x < fact && (kind == GROK_GROUP_SYMMETRIC || kind == GROK_GROUP_ALTERNATING); x++) {
        int px[8], inversions = 0, i, j;
        grok__perm_unrank(px, x, n);
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++) inversions += px[j] < px[i];
        element_of[x] = kind == GROK_GROUP_SYMMETRIC || inversions % 2 == 0 ? k : -1;
        if (element_of[x] >= 0) rank_of[k++] = x;
    }
    for (x = 0; x < N; x++)
        for (y = 0; y < N; y++) {
            int *z = &g->table[x * N + y];
            if (kind == GROK_GROUP_CYCLIC) {
                *z = (x + y) % n;
            } else if (kind == GROK_GROUP_DIHEDRAL) {
                int xr = x % n, xs = x >= n, yr = y % n, ys = y >= n;
                *z = xs == 0 ? (xr + yr) % n + ys * n : (xr - yr + n) % n + ((1 + ys) % 2) * n;
            } else {
                int px[8], py[8], pz[8], i;
                grok__perm_unrank(px, rank_of[x], n);
                grok__perm_unrank(py, rank_of[y], n);
                for (i = 0; i < n; i++) pz[i] = px[py[i]];
                *z = element_of[grok__perm_rank(pz, n)];
            }
        }
    /* identity, inverses and the cyclic prefix follow from the table */
    for (x = 0; x < N; x++) {
        for (y = 0; y < N && g->table[x * N + y] == y; y++) {}
        if (y == N) { g->identity = x; break; }
    }
    for (x = 0; x < N; x++)
        for (y = 0; y < N; y++)
            if (g->table[x * N + y] == g->identity) { g->inverse[x] = y; break; }
    for (k = N; k > 1; k--) {
        int ok = 1;
        for (x = 0; x < k && ok; x++)
            for (y = 0; y < k && ok; y++) ok = g->table[x * N + y] == (x + y) % k;
        if (ok) break;
    }
    g->cyclic = k;
    return GROK_OK;
}

static int grok__group_label(int a, int b, int p, void *ctx)
{
    return ((const grok_group *)ctx)->table[a * p + b];
}

GROKDEF int grok_task_group(grok_data *train, grok_data *test, const grok_group *g, double frac_train,
                            uint64_t data_seed)
{
    if (train) memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "grok_task_group: NULL or uninitialised group");
    return grok__task_pairs(train, test, grok__group_label, (void *)(uintptr_t)g, g->order, frac_train, data_seed,
                            "grok_task_group");
}

GROKDEF int grok_group_op_apply(const grok_group *g, grok_group_op op, int x, int y)
{
    int N;
    if (!g || !g->table) { grok__fail(GROK_ERR_ARG, "grok_group_op_apply: NULL or uninitialised group"); return -1; }
    N = g->order;
    if ((int)op < (int)GROK_GROUP_OP_COMPOSE || (int)op > (int)GROK_GROUP_OP_XYX) {
        grok__fail(GROK_ERR_ARG, "grok_group_op_apply: unknown operation %d", (int)op);
        return -1;
    }
    if (x < 0 || x >= N || y < 0 || y >= N) {
        grok__fail(GROK_ERR_ARG, "grok_group_op_apply: (%d, %d), want 0..%d", x, y, N - 1);
        return -1;
    }
    if (op == GROK_GROUP_OP_COMPOSE) return g->table[x * N + y];
    return g->table[g->table[x * N + y] * N + (op == GROK_GROUP_OP_CONJUGATE ? g->inverse[x] : x)];
}

typedef struct { const grok_group *g; grok_group_op op; } grok__group_op_ctx;

static int grok__group_op_label(int a, int b, int p, void *ctx)
{
    const grok__group_op_ctx *c = (const grok__group_op_ctx *)ctx;
    (void)p;
    return grok_group_op_apply(c->g, c->op, a, b);
}

GROKDEF int grok_task_group_op(grok_data *train, grok_data *test, const grok_group *g, grok_group_op op,
                               double frac_train, uint64_t data_seed)
{
    grok__group_op_ctx c;
    if (train) memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "grok_task_group_op: NULL or uninitialised group");
    if ((int)op < (int)GROK_GROUP_OP_COMPOSE || (int)op > (int)GROK_GROUP_OP_XYX)
        return grok__fail(GROK_ERR_ARG, "grok_task_group_op: unknown operation %d", (int)op);
    c.g = g; c.op = op;
    return grok__task_pairs(train, test, grok__group_op_label, &c, g->order, frac_train, data_seed, "grok_task_group_op");
}

GROKDEF int grok_task_modadd(grok_data *train, grok_data *test, int p, double frac_train, uint64_t data_seed)
{
    grok__modop_ctx c;
    c.op = GROK_OP_ADD; c.m = c.n = 1;
    return grok__task_pairs(train, test, grok__modop_label, &c, p, frac_train, data_seed, "grok_task_modadd");
}

/* ---- n-digit addition (seed 002) */

/* Checks that row tok (3n+3) is a question: digits for x and y, '+' and '=' in place, and
   with answer != 0 also n+1 answer digits. */
static int grok__digits_row_check(const int *tok, int n, int answer, long row, const char *who)
{
    int t, T = 3 * n + 3;
    for (t = 0; t < (answer ? T : 2 * n + 2); t++) {
        int want = t == n ? GROK_DIGITS_PLUS : t == 2 * n + 1 ? GROK_DIGITS_EQUALS : -1;
        if (want >= 0 ? tok[t] != want : (tok[t] < 0 || tok[t] > 9))
            return grok__fail(GROK_ERR_ARG, "%s: row %ld, position %d holds token %d, want %s", who, row, t, tok[t],
                              want == GROK_DIGITS_PLUS ? "'+' (10)" : want == GROK_DIGITS_EQUALS ? "'=' (11)" : "a digit");
    }
    return GROK_OK;
}

/* Columns of one checked row, d = 0 the units: the carries propagate upwards from there. */
static void grok__digits_row_columns(grok_digits_column *cols, const int *tok, int n)
{
    int d, carry = 0;
    for (d = 0; d < n; d++) {
        int base = tok[n - 1 - d] + tok[2 * n - d];
        cols[d].base_add = (unsigned char)base;
        cols[d].use_carry = (unsigned char)carry;
        cols[d].make_carry = (unsigned char)(base + carry >= 10);
        cols[d].subtask = (unsigned char)(!carry ? GROK_DIGITS_BASEADD : base == 9 ? GROK_DIGITS_USESUM9 : GROK_DIGITS_USECARRY1);
        carry = cols[d].make_carry;
    }
}

GROKDEF int grok_task_digits(grok_data *batch, int n_digits, int B, grok_rng *rng)
{
    int n = n_digits, T = 3 * n_digits + 3, b, t, d, st;
    if (!batch || !rng) return grok__fail(GROK_ERR_ARG, "grok_task_digits: NULL argument");
    if (n < 1 || n > GROK_DIGITS_MAX) return grok__fail(GROK_ERR_ARG, "grok_task_digits: n_digits = %d, want 1..%d", n, GROK_DIGITS_MAX);
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_task_digits: B = %d, want >= 1", B);
    if (!batch->tokens) {
        if ((st = grok_data_alloc(batch, B, T)) != GROK_OK) return st;
    } else if (batch->n != B || batch->n_ctx != T || !batch->targets) {
        return grok__fail(GROK_ERR_ARG, "grok_task_digits: batch holds %d rows of %d tokens, want %d of %d (or a zeroed grok_data)",
                          batch->n, batch->n_ctx, B, T);
    }
    for (b = 0; b < B; b++) {
        int *tok = batch->tokens + (long)b * T, *tgt = batch->targets + (long)b * T, carry = 0;
        for (d = 0; d < n; d++) tok[d] = (int)grok_rng_below(rng, 10);
        tok[n] = GROK_DIGITS_PLUS;
        for (d = 0; d < n; d++) tok[n + 1 + d] = (int)grok_rng_below(rng, 10);
        tok[2 * n + 1] = GROK_DIGITS_EQUALS;
        for (d = 0; d < n; d++) {
            int s = tok[n - 1 - d] + tok[2 * n - d] + carry;
            tok[3 * n + 2 - d] = s % 10;
            carry = s >= 10;
        }
        tok[2 * n + 2] = carry;
        for (t = 0; t < T; t++) tgt[t] = t >= 2 * n + 1 && t < T - 1 ? tok[t + 1] : -1;
    }
    return GROK_OK;
}

GROKDEF grok_config grok_digits_config(int n_digits, int use_ln)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = 1; c.n_heads = 4; c.d_model = 512; c.d_head = 128; c.d_mlp = 2048;
    c.d_vocab = 12; c.d_vocab_out = 12;
    c.n_ctx = n_digits >= 1 && n_digits <= GROK_DIGITS_MAX ? 3 * n_digits + 3 : 0;
    c.act_fn = GROK_ACT_RELU;
    c.normalization = use_ln ? GROK_NORM_LN : GROK_NORM_NONE;
    c.seed = 129000;
    c.train_biases = 1;
    c.init_range = 1.0 / sqrt(512.0);
    return c;
}

static double grok__digits_warmup(long step, void *ctx)
{
    (void)ctx;
    return step < 10 ? (double)step / 10.0 : 1.0;
}

GROKDEF grok_adamw grok_digits_adamw(void)
{
    grok_adamw o = grok_adamw_default();
    o.lr = 1e-4;
    o.weight_decay = 0.1;
    o.lr_schedule = grok__digits_warmup;
    return o;
}

GROKDEF int grok_digits_columns(grok_digits_column *cols, const int *tokens, int B, int n_digits)
{
    int b, st, T = 3 * n_digits + 3;
    if (!cols || !tokens) return grok__fail(GROK_ERR_ARG, "grok_digits_columns: NULL argument");
    if (n_digits < 1 || n_digits > GROK_DIGITS_MAX || B < 1)
        return grok__fail(GROK_ERR_ARG, "grok_digits_columns: n_digits = %d (want 1..%d), B = %d", n_digits, GROK_DIGITS_MAX, B);
    for (b = 0; b < B; b++) {
        const int *tok = tokens + (long)b * T;
        if ((st = grok__digits_row_check(tok, n_digits, 0, b, "grok_digits_columns")) != GROK_OK) return st;
        grok__digits_row_columns(cols + (long)b * n_digits, tok, n_digits);
    }
    return GROK_OK;
}

/* Mean of sum over count, NAN for an empty class. */
static double grok__mean_or_nan(double sum, long count) { return count > 0 ? sum / (double)count : NAN; }

GROKDEF int grok_digits_losses(grok_digits_stats *s, const float *logits, int V, const int *tokens, int B,
                               int n_digits)
{
    int n = n_digits, T = 3 * n_digits + 3, b, j, d, k, st;
    double tok_sum[GROK_DIGITS_MAX + 1], col_sum[3][GROK_DIGITS_MAX], ba_sum = 0.0, uc_sum = 0.0, us_sum[2] = {0.0, 0.0};
    long tok_right[GROK_DIGITS_MAX + 1], rows_right = 0;
    if (!s || !logits || !tokens) return grok__fail(GROK_ERR_ARG, "grok_digits_losses: NULL argument");
    memset(s, 0, sizeof *s);
    if (n < 1 || n > GROK_DIGITS_MAX || B < 1 || V < 10)
        return grok__fail(GROK_ERR_ARG, "grok_digits_losses: n_digits = %d (want 1..%d), B = %d, V = %d (want >= 10)", n,
                          GROK_DIGITS_MAX, B, V);
    memset(tok_sum, 0, sizeof tok_sum);
    memset(col_sum, 0, sizeof col_sum);
    memset(tok_right, 0, sizeof tok_right);
    for (b = 0; b < B; b++) {
        const int *tok = tokens + (long)b * T;
        grok_digits_column cols[GROK_DIGITS_MAX];
        double row_loss[GROK_DIGITS_MAX + 1], all = 0.0;
        int n_carry = 0, n_sum9 = 0, right = 1;
        if ((st = grok__digits_row_check(tok, n, 1, b, "grok_digits_losses")) != GROK_OK) return st;
        grok__digits_row_columns(cols, tok, n);
        for (j = 0; j <= n; j++) {
            /* the seed's logits[:, -(n+2):-1] against tokens[:, -(n+1):], in double */
            const float *lg = logits + ((long)b * T + 2 * n + 1 + j) * V;
            double mx = lg[0], sum = 0.0;
            int arg = 0;
            for (k = 1; k < V; k++)
                if (lg[k] > mx) { mx = lg[k]; arg = k; }
            for (k = 0; k < V; k++) sum += exp((double)lg[k] - mx);
            /* cppcheck-suppress invalidFunctionArg ; sum >= 1: the maximum's term is exp(0) (V >= 10) */
            row_loss[j] = -((double)lg[tok[2 * n + 2 + j]] - mx - log(sum));
            tok_sum[j] += row_loss[j];
            all += row_loss[j];
            if (arg == tok[2 * n + 2 + j]) tok_right[j]++;
            else right = 0;
        }
        rows_right += right;
        for (d = 0; d < n; d++) {
            int c = cols[d].subtask;
            col_sum[c][d] += row_loss[n - d];
            s->column_count[c][d]++;
            n_carry += cols[d].use_carry;
            n_sum9 += c == GROK_DIGITS_USESUM9;
        }
        if (!n_carry) { ba_sum += (all - row_loss[0]) / n; s->baseadd_all_count++; }
        else if (!n_sum9) { uc_sum += all / (n + 1); s->usecarry1_any_count++; }
        else if (n_sum9 <= 2) {
            us_sum[n_sum9 - 1] += all / (n + 1);
            if (n_sum9 == 1) s->usesum9_one_count++;
            else s->usesum9_two_count++;
        }
        s->loss += all;
    }
    s->n_digits = n;
    s->B = B;
    s->loss /= (double)B * (n + 1);
    for (j = 0; j <= n; j++) {
        s->token[j] = tok_sum[j] / B;
        s->token_acc[j] = (double)tok_right[j] / B;
    }
    s->row_acc = (double)rows_right / B;
    for (k = 0; k < 3; k++)
        for (d = 0; d < n; d++) s->column[k][d] = grok__mean_or_nan(col_sum[k][d], s->column_count[k][d]);
    s->baseadd_all = grok__mean_or_nan(ba_sum, s->baseadd_all_count);
    s->usecarry1_any = grok__mean_or_nan(uc_sum, s->usecarry1_any_count);
    s->usesum9_one = grok__mean_or_nan(us_sum[0], s->usesum9_one_count);
    s->usesum9_two = grok__mean_or_nan(us_sum[1], s->usesum9_two_count);
    return GROK_OK;
}

GROKDEF int grok_digits_string(char *buf, size_t cap, const int *tokens, const float *logits, int V,
                               int n_digits)
{
    int n = n_digits, i, k, st;
    char *p = buf;
    if (!buf || !tokens) return grok__fail(GROK_ERR_ARG, "grok_digits_string: NULL argument");
    if (n < 1 || n > GROK_DIGITS_MAX) return grok__fail(GROK_ERR_ARG, "grok_digits_string: n_digits = %d, want 1..%d", n, GROK_DIGITS_MAX);
    if (cap < (size_t)(3 * n + 9)) return grok__fail(GROK_ERR_ARG, "grok_digits_string: cap = %zu, want >= %d", cap, 3 * n + 9);
    if (logits && V < 1) return grok__fail(GROK_ERR_ARG, "grok_digits_string: V = %d", V);
    if ((st = grok__digits_row_check(tokens, n, logits == NULL, 0, "grok_digits_string")) != GROK_OK) return st;
    *p++ = ' '; *p++ = ' ';
    for (i = 0; i < n; i++) *p++ = (char)('0' + tokens[i]);
    *p++ = '\n'; *p++ = ' '; *p++ = '+';
    for (i = 0; i < n; i++) *p++ = (char)('0' + tokens[n + 1 + i]);
    *p++ = '\n'; *p++ = '=';
    for (i = 0; i <= n; i++) {
        int tok = tokens[2 * n + 2 + i];
        if (logits) {
            const float *lg = logits + (long)(2 * n + 1 + i) * V;
            for (tok = 0, k = 1; k < V; k++)
                if (lg[k] > lg[tok]) tok = k;
        }
        *p++ = tok <= 9 ? (char)('0' + tok) : tok == GROK_DIGITS_PLUS ? '+' : tok == GROK_DIGITS_EQUALS ? '=' : '?';
    }
    *p = '\0';
    return GROK_OK;
}

/* ==== >>io: checkpoints; safetensors, .npy, data splits, run summaries ======================== */

/* ---- files: read only when regular, written whole (path.tmp, then a rename) */

/* Opens path for reading if it is a regular file: a FIFO or a device would block or never end,
   a directory is not a file. O_NONBLOCK only keeps the open itself from waiting on a FIFO. */
static FILE *grok__open_read(const char *path)
{
    struct stat sb;
    FILE *f;
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) { grok__fail(GROK_ERR_IO, "cannot open %s: %s", path, strerror(errno)); return NULL; }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        grok__fail(GROK_ERR_IO, "%s is not a regular file", path);
        return NULL;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "rb"))) {
        close(fd);
        grok__fail(GROK_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    return f;
}

/* *f: path.tmp (its name in tmp (n)) opened for writing; grok__commit closes it and renames it
   over path (or removes it). GROK_ERR_ARG for a path too long, GROK_ERR_IO when it cannot open. */
static int grok__open_tmp(FILE **f, char *tmp, size_t n, const char *path, const char *who)
{
    *f = NULL;
    if (snprintf(tmp, n, "%s.tmp", path) >= (int)n) return grok__fail(GROK_ERR_ARG, "%s: path too long", who);
    if (!(*f = fopen(tmp, "wb"))) return grok__fail(GROK_ERR_IO, "%s: cannot open %s: %s", who, tmp, strerror(errno));
    return GROK_OK;
}

static int grok__commit(FILE *f, int ok, const char *tmp, const char *path, const char *who)
{
    /* The bytes reach the disk before the rename makes them the file: a crash leaves the old
       file or the new one, never a part. */
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) { remove(tmp); return grok__fail(GROK_ERR_IO, "%s: writing %s failed", who, tmp); }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return grok__fail(GROK_ERR_IO, "%s: cannot rename %s to %s: %s", who, tmp, path, strerror(e));
    }
    return GROK_OK;
}

/* The size of an open file, or -1. */
static long grok__file_size(FILE *f)
{
    long n;
    if (fseek(f, 0, SEEK_END) != 0) return -1;
    n = ftell(f);
    if (fseek(f, 0, SEEK_SET) != 0) return -1;
    return n;
}

GROKDEF int grok_dir_make(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof path) return grok__fail(GROK_ERR_ARG, "bad directory name '%s'", dir);
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return grok__fail(GROK_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
        path[i] = dir[i];
    }
    return GROK_OK;
}

/* ---- checkpoints */

/* Format, version 1, every number little-endian:
     "GROKCKPT" (8 bytes), u32 version, u32 flags (bit 0: AdamW moments present)
     config:  i32 n_layers n_heads d_model d_head d_mlp d_vocab d_vocab_out n_ctx act_fn
              normalization train_biases, u64 seed, f64 init_range ln_eps
     state:   i64 step epoch, f64 train_loss test_loss train_acc test_acc,
              f64 lr weight_decay beta1 beta2 eps
     table:   i32 n_params, u64 num_parameters, n_params bytes of trainable flags
     f32 weights[num_parameters], then if flags bit 0: f32 adam_m[...], f32 adam_v[...]
     u64 FNV-1a hash of every byte before it.
   Version 2 adds, after eps, the levers (GROK__CKPT_LEVERS bytes):
     u32 loss orthogonal, f64 fixed_norm,
     early stop: i64 last_epoch streak memorised_epoch best_epoch, f64 best_test_acc, u32 reason,
     filter: u32 kind window warmup, f64 alpha lamb, i64 count, u64 state floats (S),
   and, after the moments, f32 filter state[S] (S is 0 without the moments or a filter). */
#define GROK__CKPT_LEVERS (4 + 4 + 8 + 4 * 8 + 8 + 4 + 3 * 4 + 2 * 8 + 8 + 8)

typedef struct {
    FILE *f;
    uint64_t hash;
    int failed;
} grok__stream;

static void grok__put(grok__stream *s, const void *data, size_t n)
{
    const unsigned char *b = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < n; i++) s->hash = (s->hash ^ b[i]) * 0x100000001B3ull;
    if (!s->failed && fwrite(data, 1, n, s->f) != n) s->failed = 1;
}

static void grok__get(grok__stream *s, void *data, size_t n)
{
    unsigned char *b = (unsigned char *)data;
    size_t i;
    if (s->failed || fread(data, 1, n, s->f) != n) { s->failed = 1; memset(data, 0, n); return; }
    for (i = 0; i < n; i++) s->hash = (s->hash ^ b[i]) * 0x100000001B3ull;
}

static int grok__little_endian(void) { const uint16_t one = 1; return *(const unsigned char *)&one == 1; }

/* Values of `size` bytes (4 or 8) in host order <-> little-endian, in place. */
static void grok__swap_to_le(void *data, size_t count, size_t size)
{
    unsigned char *b = (unsigned char *)data, t;
    size_t i, j;
    if (grok__little_endian()) return;
    for (i = 0; i < count; i++, b += size)
        for (j = 0; j < size / 2; j++) { t = b[j]; b[j] = b[size - 1 - j]; b[size - 1 - j] = t; }
}

static void grok__put_u32(grok__stream *s, uint32_t v) { grok__swap_to_le(&v, 1, 4); grok__put(s, &v, 4); }
static void grok__put_u64(grok__stream *s, uint64_t v) { grok__swap_to_le(&v, 1, 8); grok__put(s, &v, 8); }
static void grok__put_f64(grok__stream *s, double v) { uint64_t u; memcpy(&u, &v, 8); grok__put_u64(s, u); }
static uint32_t grok__get_u32(grok__stream *s) { uint32_t v; grok__get(s, &v, 4); grok__swap_to_le(&v, 1, 4); return v; }
static uint64_t grok__get_u64(grok__stream *s) { uint64_t v; grok__get(s, &v, 8); grok__swap_to_le(&v, 1, 8); return v; }
static double grok__get_f64(grok__stream *s) { uint64_t u = grok__get_u64(s); double v; memcpy(&v, &u, 8); return v; }

static void grok__put_floats(grok__stream *s, const float *x, size_t n)
{
    float buf[1024];
    size_t i, k;
    for (i = 0; i < n; i += k) {
        k = n - i < 1024 ? n - i : 1024;
        memcpy(buf, x + i, k * 4);
        grok__swap_to_le(buf, k, 4);
        grok__put(s, buf, k * 4);
    }
}

static void grok__get_floats(grok__stream *s, float *x, size_t n)
{
    grok__get(s, x, n * 4);
    grok__swap_to_le(x, n, 4);
}

static const char grok__ckpt_magic[8] = {'G', 'R', 'O', 'K', 'C', 'K', 'P', 'T'};

/* fsync of the directory holding path, so that a rename into it is durable. */
static int grok__fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    int fd, e = 0;
    if (n >= sizeof dir) return grok__fail(GROK_ERR_ARG, "path too long: %s", path);
    if (slash && n == 0) n = 1; /* a file in "/" */
    memcpy(dir, slash ? path : ".", slash ? n : 1);
    dir[slash ? n : 1] = '\0';
    fd = open(dir, O_RDONLY);
    if (fd < 0) return grok__fail(GROK_ERR_IO, "cannot open directory %s: %s", dir, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) e = errno; /* EINVAL: a file system that cannot sync a directory */
    close(fd);
    return e ? grok__fail(GROK_ERR_IO, "cannot sync directory %s: %s", dir, strerror(e)) : GROK_OK;
}

/* Whether m's levers are all at their defaults (a version 1 file holds m whole). */
static int grok__ckpt_levers_default(const grok_model *m)
{
    grok_stop_state zero;
    memset(&zero, 0, sizeof zero);
    return m->loss == GROK_LOSS_SOFTMAX && !m->opt.orthogonal && m->opt.fixed_norm == 0.0 &&
           m->filter.cfg.kind == GROK_FILTER_NONE && !memcmp(&m->stop, &zero, sizeof zero);
}

static void grok__ckpt_put_levers(grok__stream *s, const grok_model *m, size_t filter_floats)
{
    const grok_gradfilter *f = &m->filter;
    grok__put_u32(s, (uint32_t)m->loss); grok__put_u32(s, (uint32_t)m->opt.orthogonal);
    grok__put_f64(s, m->opt.fixed_norm);
    grok__put_u64(s, (uint64_t)m->stop.last_epoch); grok__put_u64(s, (uint64_t)m->stop.streak);
    grok__put_u64(s, (uint64_t)m->stop.memorised_epoch); grok__put_u64(s, (uint64_t)m->stop.best_epoch);
    grok__put_f64(s, m->stop.best_test_acc); grok__put_u32(s, (uint32_t)m->stop.reason);
    grok__put_u32(s, (uint32_t)f->cfg.kind); grok__put_u32(s, (uint32_t)f->cfg.window); grok__put_u32(s, (uint32_t)f->cfg.warmup);
    grok__put_f64(s, f->cfg.alpha); grok__put_f64(s, f->cfg.lamb);
    grok__put_u64(s, filter_floats ? (uint64_t)f->count : 0u);
    grok__put_u64(s, (uint64_t)filter_floats);
}

/* The levers of a version 2 file as read, before they are checked. */
typedef struct {
    int loss, orthogonal;
    double fixed_norm;
    grok_stop_state stop;
    grok_gradfilter_config filter;
    long count;
    uint64_t floats;
} grok__ckpt_levers;

static void grok__ckpt_get_levers(grok__stream *s, grok__ckpt_levers *l)
{
    memset(l, 0, sizeof *l);
    l->loss = (int)grok__get_u32(s); l->orthogonal = (int)grok__get_u32(s);
    l->fixed_norm = grok__get_f64(s);
    l->stop.last_epoch = (long)grok__get_u64(s); l->stop.streak = (long)grok__get_u64(s);
    l->stop.memorised_epoch = (long)grok__get_u64(s); l->stop.best_epoch = (long)grok__get_u64(s);
    l->stop.best_test_acc = grok__get_f64(s); l->stop.reason = (int)grok__get_u32(s);
    l->filter.kind = (int)grok__get_u32(s); l->filter.window = (int)grok__get_u32(s); l->filter.warmup = (int)grok__get_u32(s);
    l->filter.alpha = grok__get_f64(s); l->filter.lamb = grok__get_f64(s);
    l->count = (long)grok__get_u64(s);
    l->floats = grok__get_u64(s);
}

/* The levers of a file checked against what its own fields and the model's size n allow; the
   filter state's floats must be what the filter makes (or 0 without the moments). */
static int grok__ckpt_levers_check(const grok__ckpt_levers *l, const char *path, uint32_t flags, size_t n)
{
    grok_gradfilter_config r;
    grok_adamw o = grok_adamw_default();
    uint64_t want = 0;
    o.orthogonal = l->orthogonal; o.fixed_norm = l->fixed_norm;
    if ((l->loss != GROK_LOSS_SOFTMAX && l->loss != GROK_LOSS_STABLEMAX) || !grok__adamw_valid(&o) ||
        l->stop.last_epoch < 0 || l->stop.streak < 0 || l->stop.memorised_epoch < 0 || l->stop.best_epoch < 0 ||
        l->stop.reason < GROK_STOP_NONE || l->stop.reason > GROK_STOP_STALLED || l->count < 0 ||
        !(l->stop.best_test_acc >= 0.0 && l->stop.best_test_acc <= 1.0))
        return grok__fail(GROK_ERR_FORMAT, "%s: a training state out of range (loss, optimizer or early stop)", path);
    if (grok__gradfilter_resolve(&r, &l->filter, "grok_checkpoint_load") != GROK_OK ||
        (l->filter.kind != GROK_FILTER_NONE && (r.alpha != l->filter.alpha || r.lamb != l->filter.lamb ||
                                                r.window != l->filter.window || r.warmup != l->filter.warmup)))
        return grok__fail(GROK_ERR_FORMAT, "%s: a gradient filter out of range", path);
    if (l->filter.kind != GROK_FILTER_NONE && (flags & 1u)) want = grok__gradfilter_floats(&r, n);
    if (l->floats != want || (want == 0 && l->count != 0))
        return grok__fail(GROK_ERR_FORMAT, "%s: %llu floats of filter state, its filter makes %llu", path,
                          (unsigned long long)l->floats, (unsigned long long)want);
    return GROK_OK;
}

GROKDEF int grok_checkpoint_save(const grok_model *m, const char *path, int with_optimizer)
{
    const grok_config *c;
    grok__stream s;
    char tmp[4096];
    size_t filter_floats;
    int i, st, version;
    if (!m || !m->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_checkpoint_save: NULL argument");
    c = &m->cfg;
    /* the filter's state is optimizer state: the history's weight-only checkpoints go without it */
    filter_floats = with_optimizer && m->filter.state ? grok__gradfilter_floats(&m->filter.cfg, m->filter.n) : 0;
    version = grok__ckpt_levers_default(m) ? 1 : 2;
    if ((st = grok__open_tmp(&s.f, tmp, sizeof tmp, path, "grok_checkpoint_save")) != GROK_OK) return st;
    s.hash = 0xCBF29CE484222325ull;
    s.failed = 0;
    grok__put(&s, grok__ckpt_magic, 8);
    grok__put_u32(&s, (uint32_t)version);
    grok__put_u32(&s, with_optimizer ? 1u : 0u);
    grok__put_u32(&s, (uint32_t)c->n_layers); grok__put_u32(&s, (uint32_t)c->n_heads);
    grok__put_u32(&s, (uint32_t)c->d_model); grok__put_u32(&s, (uint32_t)c->d_head);
    grok__put_u32(&s, (uint32_t)c->d_mlp); grok__put_u32(&s, (uint32_t)c->d_vocab);
    grok__put_u32(&s, (uint32_t)c->d_vocab_out); grok__put_u32(&s, (uint32_t)c->n_ctx);
    grok__put_u32(&s, (uint32_t)c->act_fn); grok__put_u32(&s, (uint32_t)c->normalization);
    grok__put_u32(&s, (uint32_t)c->train_biases);
    grok__put_u64(&s, c->seed);
    grok__put_f64(&s, c->init_range); grok__put_f64(&s, c->ln_eps);
    grok__put_u64(&s, (uint64_t)m->step); grok__put_u64(&s, (uint64_t)m->epoch);
    grok__put_f64(&s, m->metrics.train_loss); grok__put_f64(&s, m->metrics.test_loss);
    grok__put_f64(&s, m->metrics.train_acc); grok__put_f64(&s, m->metrics.test_acc);
    grok__put_f64(&s, m->opt.lr); grok__put_f64(&s, m->opt.weight_decay);
    grok__put_f64(&s, m->opt.beta1); grok__put_f64(&s, m->opt.beta2); grok__put_f64(&s, m->opt.eps);
    if (version == 2) grok__ckpt_put_levers(&s, m, filter_floats);
    grok__put_u32(&s, (uint32_t)m->n_params);
    grok__put_u64(&s, (uint64_t)m->num_parameters);
    for (i = 0; i < m->n_params; i++) { unsigned char t = (unsigned char)m->params[i].trainable; grok__put(&s, &t, 1); }
    grok__put_floats(&s, m->weights, m->num_parameters);
    if (with_optimizer) {
        grok__put_floats(&s, m->adam_m, m->num_parameters);
        grok__put_floats(&s, m->adam_v, m->num_parameters);
    }
    if (filter_floats) grok__put_floats(&s, m->filter.state, filter_floats);
    grok__put_u64(&s, s.hash);
    /* and the rename reaches the disk before we return */
    if ((st = grok__commit(s.f, !s.failed, tmp, path, "grok_checkpoint_save")) != GROK_OK) return st;
    return grok__fsync_dir(path);
}

/* Reads the header up to and including the config; leaves the stream after it. */
static int grok__ckpt_header(grok__stream *s, const char *path, grok_config *c, uint32_t *flags, uint32_t *version_out)
{
    char magic[8];
    uint32_t version;
    grok__get(s, magic, 8);
    if (s->failed || memcmp(magic, grok__ckpt_magic, 8) != 0)
        return grok__fail(GROK_ERR_FORMAT, "%s is not a grok.h checkpoint (bad magic)", path);
    version = grok__get_u32(s);
    if (version < 1 || version > GROK_CKPT_VERSION)
        return grok__fail(GROK_ERR_FORMAT, "%s: checkpoint version %u, this grok.h reads versions 1 to %d", path, version,
                          GROK_CKPT_VERSION);
    *version_out = version;
    *flags = grok__get_u32(s);
    memset(c, 0, sizeof *c);
    c->n_layers = (int)grok__get_u32(s); c->n_heads = (int)grok__get_u32(s);
    c->d_model = (int)grok__get_u32(s); c->d_head = (int)grok__get_u32(s);
    c->d_mlp = (int)grok__get_u32(s); c->d_vocab = (int)grok__get_u32(s);
    c->d_vocab_out = (int)grok__get_u32(s); c->n_ctx = (int)grok__get_u32(s);
    c->act_fn = (grok_act)grok__get_u32(s); c->normalization = (grok_norm)grok__get_u32(s);
    c->train_biases = (int)grok__get_u32(s);
    c->seed = grok__get_u64(s);
    c->init_range = grok__get_f64(s); c->ln_eps = grok__get_f64(s);
    if (s->failed) return grok__fail(GROK_ERR_FORMAT, "%s: truncated checkpoint header", path);
    if (*flags > 1u) return grok__fail(GROK_ERR_FORMAT, "%s: unknown checkpoint flags %u", path, *flags);
    return grok__config_resolve(c);
}

/* After the header: the parameter table's counts must be those of config c, and the file exactly
   as long as they make it, so that a header claiming a large model is refused before anyone
   allocates for it. Reads the fields before the counts; leaves the stream after them. */
static int grok__ckpt_sizes(grok__stream *s, const char *path, const grok_config *c, uint32_t flags, uint32_t version)
{
    unsigned char skip[8 * 11]; /* step, epoch, 4 metrics, 5 optimizer settings */
    grok__ckpt_levers lv;
    uint32_t n_params;
    uint64_t num, floats;
    size_t want_num;
    int want_n, st;
    long here, size;
    grok__get(s, skip, sizeof skip);
    memset(&lv, 0, sizeof lv);
    if (version == 2) grok__ckpt_get_levers(s, &lv);
    n_params = grok__get_u32(s);
    num = grok__get_u64(s);
    if (s->failed) return grok__fail(GROK_ERR_FORMAT, "%s: truncated checkpoint", path);
    grok__param_table(c, NULL, NULL, &want_n, &want_num);
    if (n_params != (uint32_t)want_n || num != (uint64_t)want_num)
        return grok__fail(GROK_ERR_FORMAT, "%s: %u tensors of %llu floats, its config makes %d of %zu", path, n_params,
                          (unsigned long long)num, want_n, want_num);
    if (version == 2 && (st = grok__ckpt_levers_check(&lv, path, flags, want_num)) != GROK_OK) return st;
    floats = num * (flags & 1u ? 3u : 1u) + lv.floats;
    if ((here = ftell(s->f)) < 0 || (size = grok__file_size(s->f)) < 0)
        return grok__fail(GROK_ERR_IO, "%s: cannot determine its size", path);
    if ((uint64_t)size != (uint64_t)here + n_params + 4 * floats + 8)
        return grok__fail(GROK_ERR_FORMAT, "%s: %ld bytes, its header makes %llu", path, size,
                          (unsigned long long)((uint64_t)here + n_params + 4 * floats + 8));
    return fseek(s->f, here, SEEK_SET) == 0 ? GROK_OK : grok__fail(GROK_ERR_IO, "%s: cannot seek", path);
}

GROKDEF int grok_checkpoint_config(grok_config *cfg, const char *path)
{
    grok__stream s;
    uint32_t flags, version;
    int st;
    if (!cfg || !path) return grok__fail(GROK_ERR_ARG, "grok_checkpoint_config: NULL argument");
    if (!(s.f = grok__open_read(path))) return GROK_ERR_IO;
    s.hash = 0xCBF29CE484222325ull;
    s.failed = 0;
    if ((st = grok__ckpt_header(&s, path, cfg, &flags, &version)) == GROK_OK)
        st = grok__ckpt_sizes(&s, path, cfg, flags, version);
    fclose(s.f);
    return st;
}

GROKDEF int grok_checkpoint_load(grok_model *m, const char *path)
{
    grok__stream s;
    grok_config c;
    grok_metrics met;
    grok_adamw opt;
    grok__ckpt_levers lv;
    grok_gradfilter filter;
    uint32_t flags, n_params, version;
    uint64_t num, hash;
    long step, epoch;
    unsigned char *trainable = NULL;
    float *staging = NULL;
    size_t need;
    int st = GROK_OK, i;
    if (!m || !m->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_checkpoint_load: NULL argument");
    if (!(s.f = grok__open_read(path))) return GROK_ERR_IO;
    s.hash = 0xCBF29CE484222325ull;
    s.failed = 0;
    memset(&filter, 0, sizeof filter);
    memset(&lv, 0, sizeof lv);
    if ((st = grok__ckpt_header(&s, path, &c, &flags, &version)) != GROK_OK) goto done;
    if (c.n_layers != m->cfg.n_layers || c.n_heads != m->cfg.n_heads || c.d_model != m->cfg.d_model ||
        c.d_head != m->cfg.d_head || c.d_mlp != m->cfg.d_mlp || c.d_vocab != m->cfg.d_vocab ||
        c.d_vocab_out != m->cfg.d_vocab_out || c.n_ctx != m->cfg.n_ctx || c.act_fn != m->cfg.act_fn ||
        c.normalization != m->cfg.normalization) {
        st = grok__fail(GROK_ERR_ARG, "%s: its model config differs from this model's (use grok_checkpoint_config)", path);
        goto done;
    }
    step = (long)grok__get_u64(&s); epoch = (long)grok__get_u64(&s);
    met.train_loss = grok__get_f64(&s); met.test_loss = grok__get_f64(&s);
    met.train_acc = grok__get_f64(&s); met.test_acc = grok__get_f64(&s);
    opt = m->opt;
    opt.lr = grok__get_f64(&s); opt.weight_decay = grok__get_f64(&s);
    opt.beta1 = grok__get_f64(&s); opt.beta2 = grok__get_f64(&s); opt.eps = grok__get_f64(&s);
    if (version == 2) grok__ckpt_get_levers(&s, &lv);
    opt.orthogonal = lv.orthogonal; opt.fixed_norm = lv.fixed_norm;
    n_params = grok__get_u32(&s);
    num = grok__get_u64(&s);
    if (s.failed || n_params != (uint32_t)m->n_params || num != (uint64_t)m->num_parameters) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: truncated, or its parameter table does not match the model", path);
        goto done;
    }
    if (version == 2 && (st = grok__ckpt_levers_check(&lv, path, flags, m->num_parameters)) != GROK_OK) goto done;
    /* Everything is read into staging memory and checked before the model changes, so a
       bad file leaves the model as it was. */
    need = (size_t)num * (flags & 1u ? 3u : 1u) + (size_t)lv.floats;
    trainable = (unsigned char *)GROK_MALLOC(n_params);
    staging = (float *)GROK_MALLOC(need * sizeof(float));
    if (!trainable || !staging) { st = grok__fail(GROK_ERR_NOMEM, "%s: cannot allocate staging memory", path); goto done; }
    grok__get(&s, trainable, n_params);
    grok__get_floats(&s, staging, need);
    if (s.failed) { st = grok__fail(GROK_ERR_FORMAT, "%s: truncated checkpoint", path); goto done; }
    {
        uint64_t expect = s.hash;
        hash = grok__get_u64(&s);
        if (s.failed || hash != expect) { st = grok__fail(GROK_ERR_FORMAT, "%s: checksum mismatch (corrupt file)", path); goto done; }
    }
    if (fgetc(s.f) != EOF) { st = grok__fail(GROK_ERR_FORMAT, "%s: trailing bytes after the checksum", path); goto done; }
    if (lv.floats) {
        if ((st = grok_gradfilter_init(&filter, &lv.filter, m->num_parameters)) != GROK_OK) goto done;
        memcpy(filter.state, staging + 3 * num, (size_t)lv.floats * sizeof(float));
        filter.count = lv.count;
    }
    memcpy(m->weights, staging, (size_t)num * sizeof(float));
    if (flags & 1u) {
        memcpy(m->adam_m, staging + num, (size_t)num * sizeof(float));
        memcpy(m->adam_v, staging + 2 * num, (size_t)num * sizeof(float));
    } else {
        memset(m->adam_m, 0, (size_t)num * sizeof(float));
        memset(m->adam_v, 0, (size_t)num * sizeof(float));
    }
    for (i = 0; i < m->n_params; i++) m->params[i].trainable = trainable[i] != 0;
    m->step = step; m->epoch = epoch; m->metrics = met; m->opt = opt;
    m->loss = lv.loss;
    m->stop = lv.stop;
    grok_gradfilter_free(&m->filter);
    m->filter = filter; /* the state moves to the model: nothing below frees it */
    memset(&filter, 0, sizeof filter);
done:
    grok_gradfilter_free(&filter);
    GROK_FREE(trainable);
    GROK_FREE(staging);
    fclose(s.f);
    return st;
}

#ifndef GROK_NO_INTEROP
/* ---- interchange: arrays, files written whole, JSON */
/* safetensors, .npy, data splits from files, run summaries. Every reader checks sizes with
   overflow-free arithmetic before it allocates or indexes anything. */

static const struct { const char *name; size_t size; } grok__dtypes[] = {
    {"F32", 4}, {"F64", 8}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U8", 1}, {"U16", 2},
    {"U32", 4}, {"U64", 8}, {"BOOL", 1}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
#define GROK__N_DTYPES ((int)(sizeof grok__dtypes / sizeof grok__dtypes[0]))

GROKDEF size_t grok_dtype_size(grok_dtype dt)
{
    return (int)dt >= 0 && (int)dt < GROK__N_DTYPES ? grok__dtypes[dt].size : 0;
}

GROKDEF const char *grok_dtype_name(grok_dtype dt)
{
    return (int)dt >= 0 && (int)dt < GROK__N_DTYPES ? grok__dtypes[dt].name : "?";
}

/* numel of ndim dims and its size in bytes (elem bytes each); 0 on overflow past 2^62 or a bad dim. */
static int grok__array_bytes(uint64_t *numel, uint64_t *bytes, int ndim, const int64_t *shape, size_t elem)
{
    const uint64_t lim = (uint64_t)1 << 62;
    uint64_t n = 1;
    int i;
    if (ndim < 0 || ndim > GROK_ARRAY_MAX_DIMS || elem == 0) return 0;
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > lim) return 0;
        if (shape[i] != 0 && n > lim / (uint64_t)shape[i]) return 0;
        n *= (uint64_t)shape[i];
    }
    if (n > lim / elem) return 0;
    *numel = n;
    *bytes = n * elem;
    return 1;
}

GROKDEF int64_t grok_array_numel(const grok_array *a)
{
    uint64_t n, b;
    if (!a || !grok__array_bytes(&n, &b, a->ndim, a->shape, 1)) return -1;
    return (int64_t)n;
}

GROKDEF grok_array grok_array_of_tensor(const char *name, const grok_tensor *t)
{
    grok_array a;
    int i;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.dtype = GROK_DT_F32;
    if (!t || !grok_tensor_is_contiguous(t)) { a.ndim = -1; return a; } /* rejected by the writers */
    a.ndim = t->ndim;
    for (i = 0; i < t->ndim; i++) a.shape[i] = t->shape[i];
    a.data = t->data;
    return a;
}

GROKDEF int grok_array_to_f32(float *out, int64_t n, const grok_array *a)
{
    int64_t i, numel = grok_array_numel(a);
    if (!out || !a || numel < 0 || (numel > 0 && !a->data)) return grok__fail(GROK_ERR_ARG, "grok_array_to_f32: bad array");
    if (numel != n)
        return grok__fail(GROK_ERR_ARG, "grok_array_to_f32: %s has %lld elements, want %lld", a->name ? a->name : "array",
                          (long long)numel, (long long)n);
    switch (a->dtype) {
    case GROK_DT_F32: memcpy(out, a->data, (size_t)n * 4); break;
    case GROK_DT_F64: for (i = 0; i < n; i++) out[i] = (float)((const double *)a->data)[i]; break;
    case GROK_DT_I64: for (i = 0; i < n; i++) out[i] = (float)((const int64_t *)a->data)[i]; break;
    case GROK_DT_I32: for (i = 0; i < n; i++) out[i] = (float)((const int32_t *)a->data)[i]; break;
    default:
        return grok__fail(GROK_ERR_FORMAT, "%s: dtype %s, want F32, F64, I32 or I64", a->name ? a->name : "array",
                          grok_dtype_name(a->dtype));
    }
    return GROK_OK;
}

GROKDEF int grok_array_to_i64(int64_t *out, int64_t n, const grok_array *a)
{
    int64_t i, numel = grok_array_numel(a);
    if (!out || !a || numel < 0 || (numel > 0 && !a->data)) return grok__fail(GROK_ERR_ARG, "grok_array_to_i64: bad array");
    if (numel != n)
        return grok__fail(GROK_ERR_ARG, "grok_array_to_i64: %s has %lld elements, want %lld", a->name ? a->name : "array",
                          (long long)numel, (long long)n);
    if (a->dtype == GROK_DT_I64) memcpy(out, a->data, (size_t)n * 8);
    else if (a->dtype == GROK_DT_I32) for (i = 0; i < n; i++) out[i] = ((const int32_t *)a->data)[i];
    else return grok__fail(GROK_ERR_FORMAT, "%s: dtype %s, want I32 or I64", a->name ? a->name : "array", grok_dtype_name(a->dtype));
    return GROK_OK;
}

GROKDEF void grok_array_free(grok_array *a)
{
    if (!a) return;
    GROK_FREE(a->data);
    memset(a, 0, sizeof *a);
}

/* Reverses the bytes of count values of `size` bytes each, in place. */
static void grok__bswap(void *data, size_t count, size_t size)
{
    unsigned char *b = (unsigned char *)data, t;
    size_t i, j;
    for (i = 0; i < count; i++, b += size)
        for (j = 0; j < size / 2; j++) { t = b[j]; b[j] = b[size - 1 - j]; b[size - 1 - j] = t; }
}

/* Writes count values of `size` bytes (host order) as little-endian. */
static int grok__write_le(FILE *f, const void *data, size_t count, size_t size)
{
    unsigned char buf[4096];
    const unsigned char *p = (const unsigned char *)data;
    size_t per = sizeof buf / size, k;
    if (count == 0) return 1;
    if (grok__little_endian() || size == 1) return fwrite(data, size, count, f) == count;
    while (count > 0) {
        k = count < per ? count : per;
        memcpy(buf, p, k * size);
        grok__bswap(buf, k, size);
        if (fwrite(buf, size, k, f) != k) return 0;
        p += k * size;
        count -= k;
    }
    return 1;
}

/* A growing string (no realloc hook in grok.h, so it moves by hand). */
typedef struct { char *p; size_t n, cap; int oom; } grok__sbuf;

static void grok__sb_add(grok__sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *q;
        while (cap < b->n + n + 1) cap *= 2;
        q = (char *)GROK_MALLOC(cap);
        if (!q) { b->oom = 1; return; }
        if (b->p) memcpy(q, b->p, b->n);
        GROK_FREE(b->p);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void grok__sb_str(grok__sbuf *b, const char *s) { grok__sb_add(b, s, strlen(s)); }

static void grok__sb_printf(grok__sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    int k;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || k >= (int)sizeof tmp) { b->oom = 1; return; } /* only short numbers go through here */
    grok__sb_add(b, tmp, (size_t)k);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid (overlong, surrogate, > U+10FFFF). */
static size_t grok__utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len, i;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static int grok__utf8_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, k;
    while (i < n) {
        if ((k = grok__utf8_len(u + i, n - i)) == 0) return 0;
        i += k;
    }
    return 1;
}

/* s as a JSON string literal. */
static void grok__sb_json_str(grok__sbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    grok__sb_add(b, "\"", 1);
    for (; *u; u++) {
        if (*u == '"' || *u == '\\') { char e[2]; e[0] = '\\'; e[1] = (char)*u; grok__sb_add(b, e, 2); }
        else if (*u < 0x20) grok__sb_printf(b, "\\u%04x", (unsigned)*u);
        else grok__sb_add(b, (const char *)u, 1);
    }
    grok__sb_add(b, "\"", 1);
}

/* Whether s is exactly one JSON number (RFC 8259 grammar). */
static int grok__is_json_number(const char *s)
{
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') while (*s >= '0' && *s <= '9') s++;
    else return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

/* The shortest %g form of v that reads back as v (Python's repr, mostly), into buf (32). */
static void grok__fmt_double(char *buf, double v)
{
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
    snprintf(buf, 32, "%.17g", v);
}

/* ---- .npy */

static const char grok__npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

GROKDEF int grok_npy_save(const char *path, const grok_array *a)
{
    char tmp[4096], dict[512];
    unsigned char pre[12];
    size_t elem, pos, hlen, total, npre, grow;
    uint64_t numel, bytes;
    const char *descr;
    FILE *f;
    int i, ok;
    if (!path || !a) return grok__fail(GROK_ERR_ARG, "grok_npy_save: NULL argument");
    switch (a->dtype) {
    case GROK_DT_F32: descr = "<f4"; break;
    case GROK_DT_F64: descr = "<f8"; break;
    case GROK_DT_I64: descr = "<i8"; break;
    case GROK_DT_I32: descr = "<i4"; break;
    default: return grok__fail(GROK_ERR_ARG, "grok_npy_save: dtype %s is not one of F32, F64, I32, I64", grok_dtype_name(a->dtype));
    }
    elem = grok_dtype_size(a->dtype);
    if (!grok__array_bytes(&numel, &bytes, a->ndim, a->shape, elem) || (bytes > 0 && !a->data))
        return grok__fail(GROK_ERR_ARG, "grok_npy_save: bad shape or NULL data (%s)", path);
    pos = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (i = 0; i < a->ndim; i++)
        pos += (size_t)snprintf(dict + pos, sizeof dict - pos, "%s%lld", i ? ", " : "", (long long)a->shape[i]);
    pos += (size_t)snprintf(dict + pos, sizeof dict - pos, "%s), }", a->ndim == 1 ? "," : "");
    /* version 1.0: magic, 2 version bytes, u16 length; header padded with spaces and ended by
       '\n' so that the data starts on a multiple of 64 (always fits: the dict is < 512 bytes).
       Like numpy, 21 - digits(shape[0]) spare spaces let the first axis grow in place, so the
       bytes are numpy.save's. */
    npre = 10;
    grow = 0;
    if (a->ndim > 0) {
        char digits[24];
        grow = 21 - (size_t)snprintf(digits, sizeof digits, "%lld", (long long)a->shape[0]);
    }
    total = (npre + pos + grow + 1 + 63) / 64 * 64;
    hlen = total - npre;
    memcpy(pre, grok__npy_magic, 6);
    pre[6] = 1; pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff); pre[9] = (unsigned char)(hlen >> 8);
    if ((i = grok__open_tmp(&f, tmp, sizeof tmp, path, "grok_npy_save")) != GROK_OK) return i;
    ok = fwrite(pre, 1, npre, f) == npre && fwrite(dict, 1, pos, f) == pos;
    for (i = 0; ok && (size_t)i < hlen - pos - 1; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && grok__write_le(f, a->data, (size_t)numel, elem);
    return grok__commit(f, ok, tmp, path, "grok_npy_save");
}

GROKDEF int grok_npy_save_tensor(const char *path, const grok_tensor *t)
{
    grok_array a;
    float *packed;
    long n, k, rest;
    int i, idx[GROK_MAX_DIMS], st;
    if (!path || !t || t->ndim < 0 || t->ndim > GROK_MAX_DIMS || !t->data)
        return grok__fail(GROK_ERR_ARG, "grok_npy_save_tensor: bad argument");
    if (grok_tensor_is_contiguous(t)) {
        a = grok_array_of_tensor(NULL, t);
        return grok_npy_save(path, &a);
    }
    n = grok_tensor_numel(t);
    packed = (float *)GROK_MALLOC(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!packed) return grok__fail(GROK_ERR_NOMEM, "grok_npy_save_tensor: %ld floats", n);
    for (k = 0; k < n; k++) {
        for (rest = k, i = t->ndim - 1; i >= 0; i--) { idx[i] = (int)(rest % t->shape[i]); rest /= t->shape[i]; }
        packed[k] = *grok_tensor_at(t, idx);
    }
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F32;
    a.ndim = t->ndim;
    for (i = 0; i < t->ndim; i++) a.shape[i] = t->shape[i];
    a.data = packed;
    st = grok_npy_save(path, &a);
    GROK_FREE(packed);
    return st;
}

/* Parser of numpy's header, a Python dict literal. */
typedef struct { const char *s; size_t n, i; } grok__pyp;

static void grok__py_ws(grok__pyp *p) { while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t')) p->i++; }

/* A quoted string without escapes into out (size cap). */
static int grok__py_str(grok__pyp *p, char *out, size_t cap)
{
    char q;
    size_t k = 0;
    if (p->i >= p->n || (p->s[p->i] != '\'' && p->s[p->i] != '"')) return 0;
    q = p->s[p->i++];
    while (p->i < p->n && p->s[p->i] != q) {
        if (p->s[p->i] == '\\' || (unsigned char)p->s[p->i] < 0x20 || k + 1 >= cap) return 0;
        out[k++] = p->s[p->i++];
    }
    if (p->i >= p->n) return 0;
    p->i++;
    out[k] = '\0';
    return 1;
}

static int grok__py_int(grok__pyp *p, int64_t *v)
{
    int64_t x = 0;
    size_t start = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        if (x > (INT64_MAX - 9) / 10) return 0;
        x = x * 10 + (p->s[p->i++] - '0');
    }
    if (p->i == start || (p->s[start] == '0' && p->i - start > 1)) return 0;
    *v = x;
    return 1;
}

GROKDEF int grok_npy_load(grok_array *a, const char *path)
{
    unsigned char pre[12];
    char *hdr = NULL, key[32], descr[16];
    grok__pyp p;
    FILE *f;
    long fsize;
    size_t hlen, npre, elem = 0;
    uint64_t numel, bytes;
    int st = GROK_OK, have_descr = 0, have_fo = 0, have_shape = 0, swap = 0, ndim = 0;
    int64_t shape[GROK_ARRAY_MAX_DIMS];
    grok_dtype dt = GROK_DT_F32;
    void *data = NULL;
    if (!a || !path) return grok__fail(GROK_ERR_ARG, "grok_npy_load: NULL argument");
    memset(a, 0, sizeof a[0]);
    if (!(f = grok__open_read(path))) return GROK_ERR_IO;
    fsize = grok__file_size(f);
    if (fsize < 0) { st = grok__fail(GROK_ERR_IO, "%s: cannot determine its size", path); goto done; }
    if (fsize < 10 || fread(pre, 1, 10, f) != 10 || memcmp(pre, grok__npy_magic, 6) != 0) {
        st = grok__fail(GROK_ERR_FORMAT, "%s is not a .npy file (bad magic)", path); goto done;
    }
    if ((pre[6] != 1 && pre[6] != 2 && pre[6] != 3) || pre[7] != 0) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: .npy version %d.%d, this grok.h reads 1.0, 2.0 and 3.0", path, pre[6], pre[7]); goto done;
    }
    if (pre[6] == 1) { hlen = (size_t)pre[8] | (size_t)pre[9] << 8; npre = 10; }
    else {
        if (fread(pre + 10, 1, 2, f) != 2) { st = grok__fail(GROK_ERR_FORMAT, "%s: truncated .npy header", path); goto done; }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        npre = 12;
    }
    if (hlen > (1u << 20) || (long)(npre + hlen) > fsize) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: .npy header length %lu exceeds the file (or 1 MiB)", path, (unsigned long)hlen); goto done;
    }
    hdr = (char *)GROK_MALLOC(hlen + 1);
    if (!hdr) { st = grok__fail(GROK_ERR_NOMEM, "%s: header of %lu bytes", path, (unsigned long)hlen); goto done; }
    if (fread(hdr, 1, hlen, f) != hlen) { st = grok__fail(GROK_ERR_FORMAT, "%s: truncated .npy header", path); goto done; }
    hdr[hlen] = '\0';
    p.s = hdr; p.n = hlen; p.i = 0;
    /* {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } then spaces and '\n' */
    if (hlen == 0 || hdr[hlen - 1] != '\n') { st = grok__fail(GROK_ERR_FORMAT, "%s: .npy header does not end in a newline", path); goto done; }
    p.n = hlen - 1;
    grok__py_ws(&p);
    if (p.i >= p.n || hdr[p.i++] != '{') goto bad;
    for (;;) {
        grok__py_ws(&p);
        if (p.i < p.n && hdr[p.i] == '}') { p.i++; break; }
        if (!grok__py_str(&p, key, sizeof key)) goto bad;
        grok__py_ws(&p);
        if (p.i >= p.n || hdr[p.i++] != ':') goto bad;
        grok__py_ws(&p);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            have_descr = 1;
            if (!grok__py_str(&p, descr, sizeof descr)) goto bad;
        } else if (strcmp(key, "fortran_order") == 0 && !have_fo) {
            have_fo = 1;
            if (p.n - p.i >= 5 && memcmp(hdr + p.i, "False", 5) == 0) p.i += 5;
            else if (p.n - p.i >= 4 && memcmp(hdr + p.i, "True", 4) == 0) {
                st = grok__fail(GROK_ERR_FORMAT, "%s: fortran_order True is not supported (save np.ascontiguousarray(x))", path);
                goto done;
            } else goto bad;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            have_shape = 1;
            if (p.i >= p.n || hdr[p.i++] != '(') goto bad;
            for (;;) {
                grok__py_ws(&p);
                if (p.i < p.n && hdr[p.i] == ')') { p.i++; break; }
                if (ndim == GROK_ARRAY_MAX_DIMS) {
                    st = grok__fail(GROK_ERR_FORMAT, "%s: more than %d dimensions", path, GROK_ARRAY_MAX_DIMS); goto done;
                }
                if (!grok__py_int(&p, &shape[ndim])) goto bad;
                ndim++;
                grok__py_ws(&p);
                if (p.i < p.n && hdr[p.i] == ',') { p.i++; continue; }
                if (p.i < p.n && hdr[p.i] == ')' && ndim > 1) { p.i++; break; } /* (3) is not a tuple */
                goto bad;
            }
        } else {
            st = grok__fail(GROK_ERR_FORMAT, "%s: unexpected or repeated key '%s' in the .npy header", path, key); goto done;
        }
        grok__py_ws(&p);
        if (p.i < p.n && hdr[p.i] == ',') { p.i++; continue; }
        if (p.i < p.n && hdr[p.i] == '}') { p.i++; break; }
        goto bad;
    }
    grok__py_ws(&p);
    if (p.i != p.n) goto bad;
    if (!have_descr || !have_fo || !have_shape) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: the .npy header lacks descr, fortran_order or shape", path); goto done;
    }
    if (strlen(descr) == 3 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=') &&
        (descr[1] == 'f' || descr[1] == 'i') && (descr[2] == '4' || descr[2] == '8')) {
        dt = descr[1] == 'f' ? (descr[2] == '4' ? GROK_DT_F32 : GROK_DT_F64) : (descr[2] == '4' ? GROK_DT_I32 : GROK_DT_I64);
        swap = (descr[0] == '>') == grok__little_endian();
        if (descr[0] == '=') swap = 0;
    } else {
        st = grok__fail(GROK_ERR_FORMAT, "%s: dtype '%s', this grok.h reads '<f4', '<f8', '<i4', '<i8'", path, descr); goto done;
    }
    elem = grok_dtype_size(dt);
    if (!grok__array_bytes(&numel, &bytes, ndim, shape, elem)) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: shape too large", path); goto done;
    }
    if (bytes != (uint64_t)fsize - (uint64_t)(npre + hlen)) {
        st = grok__fail(GROK_ERR_FORMAT, "%s: %llu bytes of data, the header describes %llu", path,
                        (unsigned long long)((uint64_t)fsize - (uint64_t)(npre + hlen)), (unsigned long long)bytes);
        goto done;
    }
    data = GROK_MALLOC((size_t)bytes + 8);
    if (!data) { st = grok__fail(GROK_ERR_NOMEM, "%s: %llu bytes", path, (unsigned long long)bytes); goto done; }
    if (fread(data, 1, (size_t)bytes, f) != (size_t)bytes) { st = grok__fail(GROK_ERR_IO, "%s: read failed", path); goto done; }
    if (swap) grok__bswap(data, (size_t)numel, elem);
    a->dtype = dt;
    a->ndim = ndim;
    memcpy(a->shape, shape, sizeof(int64_t) * (size_t)ndim);
    a->data = data;
    data = NULL;
    goto done;
bad:
    st = grok__fail(GROK_ERR_FORMAT, "%s: malformed .npy header near byte %lu: %.80s", path, (unsigned long)p.i, hdr);
done:
    GROK_FREE(data);
    GROK_FREE(hdr);
    fclose(f);
    return st;
}

/* ---- safetensors */

#define GROK__ST_MAX_HEADER 100000000u

/* One tensor of a header being parsed: offsets into the string pool, not pointers yet. */
typedef struct {
    size_t name;
    int dtype, ndim;
    int64_t shape[GROK_ARRAY_MAX_DIMS];
    uint64_t begin, end;
} grok__st_entry;

typedef struct {
    const unsigned char *s;
    size_t n, i;
    const char *path;
    char *pool;          /* decoded strings, each NUL-terminated; never longer than the header */
    size_t pool_used;
    grok__st_entry *e;   /* grows by doubling */
    int n_e, cap_e;
    size_t *meta;        /* key, value pool offsets */
    int n_meta, cap_meta;
} grok__json;

static int grok__json_fail(grok__json *j, const char *what)
{
    return grok__fail(GROK_ERR_FORMAT, "%s: bad safetensors header: %s at byte %lu", j->path, what, (unsigned long)j->i);
}

static void grok__json_ws(grok__json *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) j->i++;
}

static int grok__json_char(grok__json *j, char c)
{
    grok__json_ws(j);
    if (j->i < j->n && j->s[j->i] == (unsigned char)c) { j->i++; return 1; }
    return 0;
}

static int grok__json_hex4(grok__json *j, uint32_t *v)
{
    int k;
    *v = 0;
    if (j->n - j->i < 4) return 0;
    for (k = 0; k < 4; k++) {
        unsigned c = j->s[j->i++];
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= c - '0';
        else if (c >= 'a' && c <= 'f') *v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') *v |= c - 'A' + 10;
        else return 0;
    }
    return 1;
}

/* A JSON string, decoded into the pool; *off receives its offset. */
static int grok__json_string(grok__json *j, size_t *off)
{
    char *out = j->pool + j->pool_used;
    size_t k = 0, len;
    grok__json_ws(j);
    if (j->i >= j->n || j->s[j->i] != '"') return grok__json_fail(j, "expected a string");
    j->i++;
    for (;;) {
        unsigned c;
        if (j->i >= j->n) return grok__json_fail(j, "unterminated string");
        c = j->s[j->i];
        if (c == '"') { j->i++; break; }
        if (c < 0x20) return grok__json_fail(j, "control character in a string");
        if (c == '\\') {
            uint32_t cp, lo;
            if (++j->i >= j->n) return grok__json_fail(j, "unterminated string");
            c = j->s[j->i++];
            switch (c) {
            case '"': out[k++] = '"'; continue;
            case '\\': out[k++] = '\\'; continue;
            case '/': out[k++] = '/'; continue;
            case 'b': out[k++] = '\b'; continue;
            case 'f': out[k++] = '\f'; continue;
            case 'n': out[k++] = '\n'; continue;
            case 'r': out[k++] = '\r'; continue;
            case 't': out[k++] = '\t'; continue;
            case 'u': break;
            default: return grok__json_fail(j, "bad escape in a string");
            }
            if (!grok__json_hex4(j, &cp)) return grok__json_fail(j, "bad \\u escape");
            if (cp >= 0xDC00 && cp <= 0xDFFF) return grok__json_fail(j, "lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->n - j->i < 2 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u') return grok__json_fail(j, "lone high surrogate");
                j->i += 2;
                if (!grok__json_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF) return grok__json_fail(j, "bad surrogate pair");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) return grok__json_fail(j, "\\u0000 in a string is not supported");
            /* the escape takes 6 (or 12) bytes, the UTF-8 at most 3 (or 4): the pool cannot overflow */
            if (cp < 0x80) out[k++] = (char)cp;
            else if (cp < 0x800) { out[k++] = (char)(0xC0 | cp >> 6); out[k++] = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                out[k++] = (char)(0xE0 | cp >> 12); out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[k++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[k++] = (char)(0xF0 | cp >> 18); out[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[k++] = (char)(0x80 | (cp & 0x3F));
            }
            continue;
        }
        if ((len = grok__utf8_len(j->s + j->i, j->n - j->i)) == 0) return grok__json_fail(j, "invalid UTF-8");
        memcpy(out + k, j->s + j->i, len);
        k += len;
        j->i += len;
    }
    out[k] = '\0';
    *off = j->pool_used;
    j->pool_used += k + 1;
    return GROK_OK;
}

/* A non-negative JSON integer (no sign, fraction or exponent) < 2^63. */
static int grok__json_uint(grok__json *j, uint64_t *v)
{
    uint64_t x = 0;
    size_t start;
    grok__json_ws(j);
    start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        if (x > ((uint64_t)INT64_MAX - 9) / 10) return grok__json_fail(j, "integer too large");
        x = x * 10 + (uint64_t)(j->s[j->i++] - '0');
    }
    if (j->i == start) return grok__json_fail(j, "expected a non-negative integer");
    if (j->s[start] == '0' && j->i - start > 1) return grok__json_fail(j, "leading zero in a number");
    if (j->i < j->n && (j->s[j->i] == '.' || j->s[j->i] == 'e' || j->s[j->i] == 'E'))
        return grok__json_fail(j, "expected an integer");
    *v = x;
    return GROK_OK;
}

/* Doubles an array of `size`-byte items holding *n of *cap; returns NULL when out of memory. */
static void *grok__grow(void *old, int n, int *cap, size_t size)
{
    void *q;
    int c = *cap ? *cap * 2 : 16;
    if (*cap > (1 << 28)) return NULL;
    q = GROK_MALLOC((size_t)c * size);
    if (!q) return NULL;
    if (old) memcpy(q, old, (size_t)n * size);
    GROK_FREE(old);
    *cap = c;
    return q;
}

static int grok__json_tensor(grok__json *j, grok__st_entry *e)
{
    int have_dt = 0, have_shape = 0, have_off = 0, st, k;
    size_t key;
    if (!grok__json_char(j, '{')) return grok__json_fail(j, "expected '{' for a tensor");
    if (grok__json_char(j, '}')) return grok__json_fail(j, "empty tensor description");
    for (;;) {
        const char *name;
        if ((st = grok__json_string(j, &key)) != GROK_OK) return st;
        name = j->pool + key;
        j->pool_used = key; /* keys are not kept */
        if (!grok__json_char(j, ':')) return grok__json_fail(j, "expected ':'");
        if (strcmp(name, "dtype") == 0 && !have_dt) {
            size_t v;
            have_dt = 1;
            if ((st = grok__json_string(j, &v)) != GROK_OK) return st;
            e->dtype = -1;
            for (k = 0; k < GROK__N_DTYPES; k++)
                if (strcmp(j->pool + v, grok__dtypes[k].name) == 0) e->dtype = k;
            if (e->dtype < 0) {
                return grok__fail(GROK_ERR_FORMAT, "%s: unknown safetensors dtype \"%.20s\"", j->path, j->pool + v);
            }
            j->pool_used = v;
        } else if (strcmp(name, "shape") == 0 && !have_shape) {
            have_shape = 1;
            if (!grok__json_char(j, '[')) return grok__json_fail(j, "expected '[' for shape");
            e->ndim = 0;
            if (!grok__json_char(j, ']')) {
                for (;;) {
                    uint64_t v;
                    if (e->ndim == GROK_ARRAY_MAX_DIMS)
                        return grok__fail(GROK_ERR_FORMAT, "%s: a tensor with more than %d dimensions", j->path, GROK_ARRAY_MAX_DIMS);
                    if ((st = grok__json_uint(j, &v)) != GROK_OK) return st;
                    e->shape[e->ndim++] = (int64_t)v;
                    if (grok__json_char(j, ',')) continue;
                    if (grok__json_char(j, ']')) break;
                    return grok__json_fail(j, "expected ',' or ']' in shape");
                }
            }
        } else if (strcmp(name, "data_offsets") == 0 && !have_off) {
            have_off = 1;
            if (!grok__json_char(j, '[')) return grok__json_fail(j, "expected '[' for data_offsets");
            if ((st = grok__json_uint(j, &e->begin)) != GROK_OK) return st;
            if (!grok__json_char(j, ',')) return grok__json_fail(j, "data_offsets needs two integers");
            if ((st = grok__json_uint(j, &e->end)) != GROK_OK) return st;
            if (!grok__json_char(j, ']')) return grok__json_fail(j, "data_offsets needs two integers");
        } else {
            return grok__json_fail(j, "unknown or repeated field in a tensor description");
        }
        if (grok__json_char(j, ',')) continue;
        if (grok__json_char(j, '}')) break;
        return grok__json_fail(j, "expected ',' or '}'");
    }
    if (!have_dt || !have_shape || !have_off) return grok__json_fail(j, "a tensor lacks dtype, shape or data_offsets");
    return GROK_OK;
}

static int grok__json_header(grok__json *j)
{
    int st, have_meta = 0;
    size_t key;
    grok__json_ws(j);
    if (j->i >= j->n || j->s[j->i] != '{') return grok__json_fail(j, "the header must be a JSON object");
    j->i++;
    if (!grok__json_char(j, '}')) {
        for (;;) {
            if ((st = grok__json_string(j, &key)) != GROK_OK) return st;
            if (!grok__json_char(j, ':')) return grok__json_fail(j, "expected ':'");
            if (strcmp(j->pool + key, "__metadata__") == 0) {
                if (have_meta) return grok__json_fail(j, "repeated __metadata__");
                have_meta = 1;
                j->pool_used = key;
                if (!grok__json_char(j, '{')) return grok__json_fail(j, "__metadata__ must be an object of strings");
                if (!grok__json_char(j, '}')) {
                    for (;;) {
                        size_t k2, v;
                        if ((st = grok__json_string(j, &k2)) != GROK_OK) return st;
                        if (!grok__json_char(j, ':')) return grok__json_fail(j, "expected ':'");
                        if ((st = grok__json_string(j, &v)) != GROK_OK) return st;
                        if (j->n_meta == j->cap_meta &&
                            !(j->meta = (size_t *)grok__grow(j->meta, j->n_meta, &j->cap_meta, 2 * sizeof(size_t)))) {
                            return grok__fail(GROK_ERR_NOMEM, "%s: safetensors metadata", j->path);
                        }
                        j->meta[2 * j->n_meta] = k2;
                        j->meta[2 * j->n_meta + 1] = v;
                        j->n_meta++;
                        if (grok__json_char(j, ',')) continue;
                        if (grok__json_char(j, '}')) break;
                        return grok__json_fail(j, "expected ',' or '}' in __metadata__");
                    }
                }
            } else {
                if (j->n_e == j->cap_e && !(j->e = (grok__st_entry *)grok__grow(j->e, j->n_e, &j->cap_e, sizeof(grok__st_entry))))
                    return grok__fail(GROK_ERR_NOMEM, "%s: safetensors header", j->path);
                memset(&j->e[j->n_e], 0, sizeof j->e[0]);
                j->e[j->n_e].name = key;
                if ((st = grok__json_tensor(j, &j->e[j->n_e])) != GROK_OK) return st;
                j->n_e++;
            }
            if (grok__json_char(j, ',')) continue;
            if (grok__json_char(j, '}')) break;
            return grok__json_fail(j, "expected ',' or '}'");
        }
    }
    grok__json_ws(j);
    if (j->i != j->n) return grok__json_fail(j, "trailing characters after the header object");
    return GROK_OK;
}

/* qsort keys: each row carries what its comparator needs. */
typedef struct { const char *key; int idx; uint64_t begin, end; } grok__st_sort;
static int grok__cmp_key(const void *a, const void *b)
{
    return strcmp(((const grok__st_sort *)a)->key, ((const grok__st_sort *)b)->key);
}
static int grok__cmp_off(const void *a, const void *b)
{
    const grok__st_sort *x = (const grok__st_sort *)a, *y = (const grok__st_sort *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->idx - y->idx;
}

GROKDEF int grok_safetensors_load(grok_safetensors *st, const char *path)
{
    grok__json j;
    FILE *f;
    long fsize;
    unsigned char len8[8], *hdr = NULL, *mem = NULL;
    uint64_t hlen, data_size, pos;
    grok__st_sort *sorted = NULL;
    size_t total, data_off, arrays_bytes, meta_bytes, slot;
    int s = GROK_OK, i, k;
    if (!st || !path) return grok__fail(GROK_ERR_ARG, "grok_safetensors_load: NULL argument");
    memset(st, 0, sizeof *st);
    memset(&j, 0, sizeof j);
    j.path = path;
    if (!(f = grok__open_read(path))) return GROK_ERR_IO;
    fsize = grok__file_size(f);
    if (fsize < 0) { s = grok__fail(GROK_ERR_IO, "%s: cannot determine its size", path); goto done; }
    if (fsize < 8 || fread(len8, 1, 8, f) != 8) { s = grok__fail(GROK_ERR_FORMAT, "%s: too short for safetensors", path); goto done; }
    for (hlen = 0, k = 7; k >= 0; k--) hlen = hlen << 8 | len8[k];
    if (hlen > GROK__ST_MAX_HEADER || hlen > (uint64_t)fsize - 8) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: safetensors header length %llu exceeds the file (%ld bytes) or 100 MB", path,
                       (unsigned long long)hlen, fsize);
        goto done;
    }
    data_size = (uint64_t)fsize - 8 - hlen;
    hdr = (unsigned char *)GROK_MALLOC((size_t)hlen + 1);
    j.pool = (char *)GROK_MALLOC((size_t)hlen + 1);
    if (!hdr || !j.pool) { s = grok__fail(GROK_ERR_NOMEM, "%s: header of %llu bytes", path, (unsigned long long)hlen); goto done; }
    if (fread(hdr, 1, (size_t)hlen, f) != (size_t)hlen) { s = grok__fail(GROK_ERR_IO, "%s: read failed", path); goto done; }
    j.s = hdr;
    j.n = (size_t)hlen;
    if ((s = grok__json_header(&j)) != GROK_OK) goto done;
    /* Names unique; sizes consistent; the tensors tile the data exactly. */
    sorted = (grok__st_sort *)GROK_MALLOC(sizeof(grok__st_sort) * (size_t)(j.n_e + j.n_meta + 1));
    if (!sorted) { s = grok__fail(GROK_ERR_NOMEM, "%s: %d tensors", path, j.n_e); goto done; }
    for (i = 0; i < j.n_meta; i++) { sorted[i].key = j.pool + j.meta[2 * i]; sorted[i].idx = i; }
    qsort(sorted, (size_t)j.n_meta, sizeof sorted[0], grok__cmp_key);
    for (i = 1; i < j.n_meta; i++)
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: duplicate __metadata__ key \"%.60s\"", path, sorted[i].key); goto done;
        }
    for (i = 0; i < j.n_e; i++) {
        grok__st_entry *e = &j.e[i];
        uint64_t numel, bytes;
        sorted[i].key = j.pool + e->name; sorted[i].idx = i; sorted[i].begin = e->begin; sorted[i].end = e->end;
        if (!grok__array_bytes(&numel, &bytes, e->ndim, e->shape, grok__dtypes[e->dtype].size)) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: tensor \"%.60s\" is too large", path, j.pool + e->name); goto done;
        }
        if (e->begin > e->end || e->end > data_size || e->end - e->begin != bytes) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: tensor \"%.60s\": data_offsets [%llu, %llu] do not hold %llu bytes within the "
                           "%llu bytes of data", path, j.pool + e->name, (unsigned long long)e->begin,
                           (unsigned long long)e->end, (unsigned long long)bytes, (unsigned long long)data_size);
            goto done;
        }
    }
    qsort(sorted, (size_t)j.n_e, sizeof sorted[0], grok__cmp_key);
    for (i = 1; i < j.n_e; i++)
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: duplicate tensor name \"%.60s\"", path, sorted[i].key); goto done;
        }
    qsort(sorted, (size_t)j.n_e, sizeof sorted[0], grok__cmp_off);
    for (pos = 0, i = 0; i < j.n_e; i++) {
        if (sorted[i].begin != pos) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: tensor \"%.60s\" starts at %llu, the previous one ends at %llu (overlap or gap)",
                           path, sorted[i].key, (unsigned long long)sorted[i].begin, (unsigned long long)pos);
            goto done;
        }
        pos = sorted[i].end;
    }
    if (pos != data_size) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: the tensors cover %llu of the %llu bytes of data", path, (unsigned long long)pos,
                       (unsigned long long)data_size);
        goto done;
    }
    /* One block: arrays, metadata pointers, the data (each array 8-aligned), the strings. */
    arrays_bytes = sizeof(grok_array) * (size_t)j.n_e;
    arrays_bytes = (arrays_bytes + 7) / 8 * 8;
    meta_bytes = 2 * sizeof(char *) * (size_t)j.n_meta;
    data_off = arrays_bytes + meta_bytes;
    total = data_off + (size_t)data_size + 8 * (size_t)j.n_e + j.pool_used + 1;
    mem = (unsigned char *)GROK_MALLOC(total);
    if (!mem) { s = grok__fail(GROK_ERR_NOMEM, "%s: %lu bytes", path, (unsigned long)total); goto done; }
    st->arrays = (grok_array *)(void *)mem;
    st->meta_keys = (const char **)(void *)(mem + arrays_bytes);
    st->meta_values = st->meta_keys + j.n_meta;
    slot = data_off;
    /* sorted is in file order: read the data sequentially into 8-aligned slots */
    for (i = 0; i < j.n_e; i++) {
        grok__st_entry *e = &j.e[sorted[i].idx];
        grok_array *a = &st->arrays[sorted[i].idx];
        size_t bytes = (size_t)(e->end - e->begin);
        memset(a, 0, sizeof *a);
        a->dtype = (grok_dtype)e->dtype;
        a->ndim = e->ndim;
        memcpy(a->shape, e->shape, sizeof e->shape);
        a->data = mem + slot;
        if (bytes && fread(mem + slot, 1, bytes, f) != bytes) { s = grok__fail(GROK_ERR_IO, "%s: read failed", path); goto done; }
        if (!grok__little_endian()) grok__bswap(mem + slot, bytes / grok__dtypes[e->dtype].size, grok__dtypes[e->dtype].size);
        slot += (bytes + 7) / 8 * 8;
    }
    memcpy(mem + slot, j.pool, j.pool_used);
    for (i = 0; i < j.n_e; i++) st->arrays[i].name = (const char *)mem + slot + j.e[i].name;
    for (i = 0; i < j.n_meta; i++) {
        st->meta_keys[i] = (const char *)mem + slot + j.meta[2 * i];
        st->meta_values[i] = (const char *)mem + slot + j.meta[2 * i + 1];
    }
    st->n = j.n_e;
    st->n_meta = j.n_meta;
    st->mem_ = mem;
    mem = NULL;
done:
    if (s != GROK_OK) memset(st, 0, sizeof *st);
    GROK_FREE(mem);
    GROK_FREE(sorted);
    GROK_FREE(hdr);
    GROK_FREE(j.pool);
    GROK_FREE(j.e);
    GROK_FREE(j.meta);
    fclose(f);
    return s;
}

GROKDEF const grok_array *grok_safetensors_get(const grok_safetensors *st, const char *name)
{
    int i;
    if (!st || !name) return NULL;
    for (i = 0; i < st->n; i++)
        if (strcmp(st->arrays[i].name, name) == 0) return &st->arrays[i];
    return NULL;
}

GROKDEF const char *grok_safetensors_meta(const grok_safetensors *st, const char *key)
{
    int i;
    if (!st || !key) return NULL;
    for (i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

GROKDEF void grok_safetensors_free(grok_safetensors *st)
{
    if (!st) return;
    GROK_FREE(st->mem_);
    memset(st, 0, sizeof *st);
}

GROKDEF int grok_safetensors_save(const char *path, const grok_array *arrays, int n,
                                  const char *const *meta_keys, const char *const *meta_values, int n_meta)
{
    grok__sbuf h;
    char tmp[4096];
    unsigned char len8[8];
    uint64_t *bytes = NULL, off = 0, hlen;
    int *order = NULL, i, k, ok, sizes[4] = {8, 4, 2, 1}, st = GROK_OK;
    FILE *f;
    memset(&h, 0, sizeof h);
    if (!path || n < 0 || n_meta < 0 || (n > 0 && !arrays) || (n_meta > 0 && (!meta_keys || !meta_values)))
        return grok__fail(GROK_ERR_ARG, "grok_safetensors_save: bad argument");
    bytes = (uint64_t *)GROK_MALLOC(sizeof(uint64_t) * (size_t)(n + 1));
    order = (int *)GROK_MALLOC(sizeof(int) * (size_t)(n + 1));
    if (!bytes || !order) { st = grok__fail(GROK_ERR_NOMEM, "grok_safetensors_save: %d tensors", n); goto done; }
    for (i = 0; i < n; i++) {
        const grok_array *a = &arrays[i];
        uint64_t numel;
        if (!a->name || !grok__utf8_valid(a->name) || strcmp(a->name, "__metadata__") == 0 ||
            !grok__array_bytes(&numel, &bytes[i], a->ndim, a->shape, grok_dtype_size(a->dtype)) || (bytes[i] && !a->data)) {
            st = grok__fail(GROK_ERR_ARG, "grok_safetensors_save: array %d (%s): bad name, dtype, shape or data", i,
                            a->name ? a->name : "NULL");
            goto done;
        }
        for (k = 0; k < i; k++)
            if (strcmp(arrays[k].name, a->name) == 0) {
                st = grok__fail(GROK_ERR_ARG, "grok_safetensors_save: duplicate name %s", a->name); goto done;
            }
    }
    for (i = 0; i < n_meta; i++)
        if (!meta_keys[i] || !meta_values[i] || !grok__utf8_valid(meta_keys[i]) || !grok__utf8_valid(meta_values[i])) {
            st = grok__fail(GROK_ERR_ARG, "grok_safetensors_save: metadata pair %d is NULL or not UTF-8", i); goto done;
        }
    /* The data goes by element size, largest first (stable), so every tensor is aligned to its
       element size; the header lists the tensors in the caller's order. */
    for (k = 0, i = 0; i < 4; i++) {
        int t;
        for (t = 0; t < n; t++)
            if ((int)grok_dtype_size(arrays[t].dtype) == sizes[i]) order[k++] = t;
    }
    grok__sb_str(&h, "{");
    if (n_meta > 0) {
        grok__sb_str(&h, "\"__metadata__\":{");
        for (i = 0; i < n_meta; i++) {
            if (i) grok__sb_str(&h, ",");
            grok__sb_json_str(&h, meta_keys[i]);
            grok__sb_str(&h, ":");
            grok__sb_json_str(&h, meta_values[i]);
        }
        grok__sb_str(&h, "}");
    }
    {
        uint64_t *begin = (uint64_t *)GROK_MALLOC(sizeof(uint64_t) * (size_t)(n + 1));
        if (!begin) { st = grok__fail(GROK_ERR_NOMEM, "grok_safetensors_save"); goto done; }
        for (i = 0; i < n; i++) { begin[order[i]] = off; off += bytes[order[i]]; }
        for (i = 0; i < n; i++) {
            const grok_array *a = &arrays[i];
            if (i || n_meta > 0) grok__sb_str(&h, ",");
            grok__sb_json_str(&h, a->name);
            grok__sb_str(&h, ":{\"dtype\":\"");
            grok__sb_str(&h, grok_dtype_name(a->dtype));
            grok__sb_str(&h, "\",\"shape\":[");
            for (k = 0; k < a->ndim; k++) grok__sb_printf(&h, "%s%lld", k ? "," : "", (long long)a->shape[k]);
            grok__sb_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)begin[i],
                            (unsigned long long)(begin[i] + bytes[i]));
        }
        GROK_FREE(begin);
    }
    grok__sb_str(&h, "}");
    while (!h.oom && h.n % 8 != 0) grok__sb_str(&h, " ");
    if (h.oom) { st = grok__fail(GROK_ERR_NOMEM, "grok_safetensors_save: header"); goto done; }
    if (h.n > GROK__ST_MAX_HEADER) { st = grok__fail(GROK_ERR_ARG, "grok_safetensors_save: header over 100 MB"); goto done; }
    hlen = h.n;
    for (k = 0; k < 8; k++) len8[k] = (unsigned char)(hlen >> (8 * k));
    if ((st = grok__open_tmp(&f, tmp, sizeof tmp, path, "grok_safetensors_save")) != GROK_OK) goto done;
    ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.p, 1, h.n, f) == h.n;
    for (i = 0; ok && i < n; i++) {
        const grok_array *a = &arrays[order[i]];
        size_t es = grok_dtype_size(a->dtype);
        ok = grok__write_le(f, a->data, (size_t)(bytes[order[i]] / es), es);
    }
    st = grok__commit(f, ok, tmp, path, "grok_safetensors_save");
done:
    GROK_FREE(h.p);
    GROK_FREE(bytes);
    GROK_FREE(order);
    return st;
}

/* ---- models as safetensors */

GROKDEF int grok_model_save_safetensors(const grok_model *m, const char *path, const float *buffer)
{
    grok_array *arr;
    char vals[16][48], num[32];
    const char *keys[17], *vp[17];
    const grok_config *c;
    grok__sbuf frozen = {NULL, 0, 0, 0};
    int i, k, nm = 0, st;
    if (!m || !m->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_model_save_safetensors: NULL argument");
    if (!buffer) buffer = m->weights;
    c = &m->cfg;
    grok__sb_str(&frozen, "");
    for (i = 0; i < m->n_params; i++)
        if (!m->params[i].trainable) { if (frozen.n) grok__sb_str(&frozen, ","); grok__sb_str(&frozen, m->params[i].name); }
    arr = (grok_array *)GROK_MALLOC(sizeof(grok_array) * (size_t)m->n_params);
    if (!arr || frozen.oom) { GROK_FREE(arr); GROK_FREE(frozen.p); return grok__fail(GROK_ERR_NOMEM, "grok_model_save_safetensors"); }
    for (i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        memset(&arr[i], 0, sizeof arr[i]);
        arr[i].name = p->name;
        arr[i].dtype = GROK_DT_F32;
        arr[i].ndim = p->ndim;
        for (k = 0; k < p->ndim; k++) arr[i].shape[k] = p->shape[k];
        arr[i].data = (void *)(buffer + p->offset);
    }
#define GROK__META(key, ...) do { keys[nm] = key; snprintf(vals[nm], sizeof vals[nm], __VA_ARGS__); vp[nm] = vals[nm]; nm++; } while (0)
    GROK__META("format", "grok.h");
    GROK__META("n_layers", "%d", c->n_layers); GROK__META("n_heads", "%d", c->n_heads);
    GROK__META("d_model", "%d", c->d_model); GROK__META("d_head", "%d", c->d_head);
    GROK__META("d_mlp", "%d", c->d_mlp); GROK__META("d_vocab", "%d", c->d_vocab);
    GROK__META("d_vocab_out", "%d", c->d_vocab_out); GROK__META("n_ctx", "%d", c->n_ctx);
    GROK__META("act_fn", "%s", c->act_fn == GROK_ACT_GELU ? "gelu" : "relu");
    GROK__META("normalization_type", "%s", c->normalization == GROK_NORM_LN ? "LN" : "None");
    grok__fmt_double(num, c->ln_eps); GROK__META("eps", "%s", num);
    grok__fmt_double(num, c->init_range); GROK__META("initializer_range", "%s", num);
    GROK__META("seed", "%llu", (unsigned long long)c->seed);
    GROK__META("step", "%ld", m->step); GROK__META("epoch", "%ld", m->epoch);
#undef GROK__META
    keys[nm] = "frozen"; vp[nm++] = frozen.p;
    st = grok_safetensors_save(path, arr, m->n_params, keys, vp, nm);
    GROK_FREE(arr);
    GROK_FREE(frozen.p);
    return st;
}

GROKDEF int grok_net_save_safetensors(const grok_net *net, const char *path, const float *buffer)
{
    grok_array arr[4];
    char vals[8][48];
    const char *keys[8], *vp[8];
    int i, k, nm = 0;
    if (!net || !net->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_net_save_safetensors: NULL argument");
    if (!buffer) buffer = net->weights;
    for (i = 0; i < net->n_params; i++) {
        const grok_param *p = &net->params[i];
        memset(&arr[i], 0, sizeof arr[i]);
        arr[i].name = p->name;
        arr[i].dtype = GROK_DT_F32;
        arr[i].ndim = p->ndim;
        for (k = 0; k < p->ndim; k++) arr[i].shape[k] = p->shape[k];
        arr[i].data = (void *)(uintptr_t)(buffer + p->offset);
    }
#define GROK__META(key, ...) do { keys[nm] = key; snprintf(vals[nm], sizeof vals[nm], __VA_ARGS__); vp[nm] = vals[nm]; nm++; } while (0)
    GROK__META("format", "grok.h");
    GROK__META("model", "%s", net->cfg.kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet");
    GROK__META("n", "%d", net->cfg.n);
    GROK__META("embed_dim", "%d", net->cfg.embed_dim);
    GROK__META("hidden_dim", "%d", net->cfg.hidden_dim);
    GROK__META("seed", "%llu", (unsigned long long)net->cfg.seed);
    GROK__META("step", "%ld", net->step); GROK__META("epoch", "%ld", net->epoch);
#undef GROK__META
    return grok_safetensors_save(path, arr, net->n_params, keys, vp, nm);
}

static int grok__ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A bias parameter (b_Q, b_K, b_V, b_O, b_in, b_out, b_U), which a state dict may lack. */
static int grok__is_bias(const char *name) { return strstr(name, ".b_") != NULL; }

/* Whether the comma-separated list holds name as one of its items. */
static int grok__list_has(const char *list, const char *name)
{
    size_t k = strlen(name);
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n == k && strncmp(list, name, k) == 0) return 1;
        list += n + (list[n] == ',');
    }
    return 0;
}

GROKDEF int grok_model_load_safetensors(grok_model *m, const char *path)
{
    return grok_model_load_safetensors_ex(m, path, NULL);
}

GROKDEF int grok_model_load_safetensors_ex(grok_model *m, const char *path, int *n_zeroed)
{
    grok_safetensors st;
    float *staging = NULL;
    unsigned char *trainable = NULL;
    const char *v, *frozen;
    int s, i, k, zeroed = 0;
    if (n_zeroed) *n_zeroed = 0;
    if (!m || !m->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_model_load_safetensors: NULL argument");
    if ((s = grok_safetensors_load(&st, path)) != GROK_OK) return s;
    if ((frozen = grok_safetensors_meta(&st, "frozen")) != NULL)
        for (v = frozen; *v; v += strcspn(v, ",") + (v[strcspn(v, ",")] == ',')) {
            char name[GROK_NAME_MAX];
            size_t n = strcspn(v, ",");
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), v);
            if (n >= sizeof name || !grok_model_param(m, name)) {
                s = grok__fail(GROK_ERR_FORMAT, "%s: __metadata__ frozen names %.60s, not a parameter of the model", path, name);
                goto done;
            }
        }
    if ((v = grok_safetensors_meta(&st, "act_fn")) != NULL &&
        strcmp(v, m->cfg.act_fn == GROK_ACT_GELU ? "gelu" : "relu") != 0) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: act_fn \"%.20s\", the model's is %s", path, v, m->cfg.act_fn == GROK_ACT_GELU ? "gelu" : "relu");
        goto done;
    }
    if ((v = grok_safetensors_meta(&st, "normalization_type")) != NULL &&
        strcmp(v, m->cfg.normalization == GROK_NORM_LN ? "LN" : "None") != 0) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: normalization_type \"%.20s\", the model's is %s", path, v,
                       m->cfg.normalization == GROK_NORM_LN ? "LN" : "None");
        goto done;
    }
    if (m->cfg.normalization != GROK_NORM_LN)
        for (i = 0; i < st.n; i++)
            if (grok__ends_with(st.arrays[i].name, ".ln1.w") || grok__ends_with(st.arrays[i].name, ".ln2.w") ||
                strcmp(st.arrays[i].name, "ln_final.w") == 0) {
                s = grok__fail(GROK_ERR_FORMAT, "%s: holds LayerNorm weights (%s), the model has no LayerNorm", path, st.arrays[i].name);
                goto done;
            }
    staging = (float *)GROK_MALLOC(sizeof(float) * (m->num_parameters ? m->num_parameters : 1));
    trainable = (unsigned char *)GROK_MALLOC((size_t)m->n_params + 1);
    if (!staging || !trainable) { s = grok__fail(GROK_ERR_NOMEM, "grok_model_load_safetensors"); goto done; }
    memcpy(staging, m->weights, sizeof(float) * m->num_parameters);
    for (i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        const grok_array *a = grok_safetensors_get(&st, p->name);
        int same = a && a->ndim == p->ndim;
        trainable[i] = (unsigned char)(frozen ? !grok__list_has(frozen, p->name) : p->trainable);
        if (!a && grok__is_bias(p->name)) {
            memset(staging + p->offset, 0, sizeof(float) * p->numel);
            trainable[i] = 0;
            zeroed++;
            continue;
        }
        if (!a) { s = grok__fail(GROK_ERR_FORMAT, "%s: no tensor %s (a parameter of the model)", path, p->name); goto done; }
        for (k = 0; same && k < p->ndim; k++) same = a->shape[k] == p->shape[k];
        if (!same) {
            char want[96], got[160];
            size_t w = 0, g = 0;
            for (k = 0; k < p->ndim; k++) w += (size_t)snprintf(want + w, sizeof want - w, "%s%d", k ? ", " : "", p->shape[k]);
            for (k = 0; k < a->ndim && g < sizeof got - 24; k++)
                g += (size_t)snprintf(got + g, sizeof got - g, "%s%lld", k ? ", " : "", (long long)a->shape[k]);
            want[w] = '\0'; got[g < sizeof got ? g : sizeof got - 1] = '\0';
            if (p->ndim == 0) want[0] = '\0';
            if (a->ndim == 0) got[0] = '\0';
            s = grok__fail(GROK_ERR_FORMAT, "%s: %s has shape (%s), the model's is (%s)", path, p->name, got, want);
            goto done;
        }
        if (a->dtype != GROK_DT_F32 && a->dtype != GROK_DT_F64) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: %s has dtype %s, want F32 or F64", path, p->name, grok_dtype_name(a->dtype));
            goto done;
        }
        if ((s = grok_array_to_f32(staging + p->offset, (int64_t)p->numel, a)) != GROK_OK) goto done;
    }
    memcpy(m->weights, staging, sizeof(float) * m->num_parameters);
    for (i = 0; i < m->n_params; i++) m->params[i].trainable = trainable[i];
    if (n_zeroed) *n_zeroed = zeroed;
done:
    GROK_FREE(staging);
    GROK_FREE(trainable);
    grok_safetensors_free(&st);
    return s;
}

/* Parses a whole decimal string as a double / unsigned; 0 if it is not one. */
static int grok__parse_double(const char *s, double *v)
{
    char *end;
    if (!s || !*s) return 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

GROKDEF int grok_safetensors_config(grok_config *cfg, const char *path)
{
    grok_safetensors st;
    const grok_array *E, *P, *Q, *I, *U;
    const char *v;
    char name[64];
    double d;
    int s, i;
    if (!cfg || !path) return grok__fail(GROK_ERR_ARG, "grok_safetensors_config: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    if ((s = grok_safetensors_load(&st, path)) != GROK_OK) return s;
    E = grok_safetensors_get(&st, "embed.W_E");
    P = grok_safetensors_get(&st, "pos_embed.W_pos");
    Q = grok_safetensors_get(&st, "blocks.0.attn.W_Q");
    I = grok_safetensors_get(&st, "blocks.0.mlp.W_in");
    U = grok_safetensors_get(&st, "unembed.W_U");
    if (!E || !P || !Q || !I || !U || E->ndim != 2 || P->ndim != 2 || Q->ndim != 3 || I->ndim != 2 || U->ndim != 2 ||
        E->shape[0] > INT32_MAX || E->shape[1] > INT32_MAX || P->shape[0] > INT32_MAX || Q->shape[0] > INT32_MAX ||
        Q->shape[2] > INT32_MAX || I->shape[1] > INT32_MAX || U->shape[1] > INT32_MAX) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: not a transformer state dict (embed.W_E, pos_embed.W_pos, blocks.0.attn.W_Q, "
                       "blocks.0.mlp.W_in or unembed.W_U missing or of the wrong rank)", path);
        goto done;
    }
    cfg->d_vocab = (int)E->shape[0]; cfg->d_model = (int)E->shape[1];
    cfg->n_ctx = (int)P->shape[0];
    cfg->n_heads = (int)Q->shape[0]; cfg->d_head = (int)Q->shape[2];
    cfg->d_mlp = (int)I->shape[1];
    cfg->d_vocab_out = (int)U->shape[1];
    for (cfg->n_layers = 0; cfg->n_layers < 256; cfg->n_layers++) {
        snprintf(name, sizeof name, "blocks.%d.attn.W_Q", cfg->n_layers);
        if (!grok_safetensors_get(&st, name)) break;
    }
    cfg->normalization = grok_safetensors_get(&st, "ln_final.w") ? GROK_NORM_LN : GROK_NORM_NONE;
    cfg->act_fn = GROK_ACT_RELU;
    v = grok_safetensors_meta(&st, "frozen");
    for (i = 0; i < st.n && !cfg->train_biases; i++)
        cfg->train_biases = grok__is_bias(st.arrays[i].name) && !(v && grok__list_has(v, st.arrays[i].name));
    if ((v = grok_safetensors_meta(&st, "act_fn")) != NULL) {
        if (strcmp(v, "gelu") == 0) cfg->act_fn = GROK_ACT_GELU;
        else if (strcmp(v, "relu") != 0) {
            s = grok__fail(GROK_ERR_FORMAT, "%s: act_fn \"%.20s\" (grok.h has relu and gelu)", path, v); goto done;
        }
    }
    if ((v = grok_safetensors_meta(&st, "eps")) != NULL && grok__parse_double(v, &d)) cfg->ln_eps = d;
    if ((v = grok_safetensors_meta(&st, "initializer_range")) != NULL && grok__parse_double(v, &d)) cfg->init_range = d;
    if ((v = grok_safetensors_meta(&st, "seed")) != NULL) {
        char *end;
        unsigned long long u = strtoull(v, &end, 10);
        if (*v && *end == '\0') cfg->seed = (uint64_t)u;
    }
    s = grok__config_resolve(cfg);
done:
    grok_safetensors_free(&st);
    return s;
}

/* ---- seed 003's nets */

/* The config of the net whose state dict st holds (path for messages), every shape checked. */
static int grok__net_st_config(grok_net_config *cfg, const grok_safetensors *st, const char *path)
{
    static const char *const names[4] = {"W_E_a", "W_E_b", "W", "W_U"};
    const grok_array *a[4];
    const char *v;
    int64_t want[4][2];
    int i, mlp;
    memset(cfg, 0, sizeof *cfg);
    for (i = 0; i < 4; i++) a[i] = grok_safetensors_get(st, names[i]);
    for (i = 0; i < st->n; i++)
        if (strcmp(st->arrays[i].name, "W_E_a") && strcmp(st->arrays[i].name, "W_E_b") &&
            strcmp(st->arrays[i].name, "W") && strcmp(st->arrays[i].name, "W_U"))
            return grok__fail(GROK_ERR_FORMAT, "%s: tensor %.60s is not one of seed 003's W_E_a, W_E_b, W, W_U", path,
                              st->arrays[i].name);
    mlp = a[2] != NULL;
    for (i = 0; i < 4; i++) {
        if (i == 2 && !mlp) continue;
        if (!a[i]) return grok__fail(GROK_ERR_FORMAT, "%s: no tensor %s (%s)", path, names[i], mlp ? "OneLayerMLP" : "BilinearNet");
        if (a[i]->ndim != 2 || a[i]->shape[0] < 1 || a[i]->shape[1] < 1 || a[i]->shape[0] > INT32_MAX / 2 ||
            a[i]->shape[1] > INT32_MAX / 2)
            return grok__fail(GROK_ERR_FORMAT, "%s: %s is not a non-empty matrix of int-sized dimensions", path, names[i]);
        if (a[i]->dtype != GROK_DT_F32 && a[i]->dtype != GROK_DT_F64)
            return grok__fail(GROK_ERR_FORMAT, "%s: %s has dtype %s, want F32 or F64", path, names[i], grok_dtype_name(a[i]->dtype));
    }
    if ((v = grok_safetensors_meta(st, "model")) != NULL && strcmp(v, mlp ? "OneLayerMLP" : "BilinearNet") != 0)
        return grok__fail(GROK_ERR_FORMAT, "%s: __metadata__ model \"%.20s\", but W is %s", path, v, mlp ? "present" : "absent");
    cfg->kind = mlp ? GROK_NET_MLP : GROK_NET_BILINEAR;
    cfg->n = (int)a[0]->shape[0];
    cfg->embed_dim = (int)a[0]->shape[1];
    cfg->hidden_dim = mlp ? (int)a[2]->shape[1] : 0;
    want[0][0] = want[1][0] = cfg->n; want[0][1] = want[1][1] = cfg->embed_dim;
    want[2][0] = 2 * (int64_t)cfg->embed_dim; want[2][1] = cfg->hidden_dim;
    want[3][0] = mlp ? cfg->hidden_dim : cfg->embed_dim; want[3][1] = cfg->n;
    for (i = 1; i < 4; i++)
        if (a[i] && (a[i]->shape[0] != want[i][0] || a[i]->shape[1] != want[i][1]))
            return grok__fail(GROK_ERR_FORMAT, "%s: %s has shape (%lld, %lld), W_E_a (%d, %d) makes it (%lld, %lld)", path,
                              names[i], (long long)a[i]->shape[0], (long long)a[i]->shape[1], cfg->n, cfg->embed_dim,
                              (long long)want[i][0], (long long)want[i][1]);
    if ((v = grok_safetensors_meta(st, "seed")) != NULL) {
        char *end;
        unsigned long long u = strtoull(v, &end, 10);
        if (*v && *end == '\0') cfg->seed = (uint64_t)u;
    }
    return GROK_OK;
}

GROKDEF int grok_net_safetensors_config(grok_net_config *cfg, const char *path)
{
    grok_safetensors st;
    int s;
    if (!cfg || !path) return grok__fail(GROK_ERR_ARG, "grok_net_safetensors_config: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    if ((s = grok_safetensors_load(&st, path)) != GROK_OK) return s;
    s = grok__net_st_config(cfg, &st, path);
    grok_safetensors_free(&st);
    return s;
}

GROKDEF int grok_net_load_safetensors(grok_net *net, const char *path)
{
    grok_safetensors st;
    grok_net_config fc;
    float *staging = NULL;
    int s, i;
    if (!net || !net->weights || !path) return grok__fail(GROK_ERR_ARG, "grok_net_load_safetensors: NULL argument");
    if ((s = grok_safetensors_load(&st, path)) != GROK_OK) return s;
    if ((s = grok__net_st_config(&fc, &st, path)) != GROK_OK) goto done;
    if (fc.kind != net->cfg.kind || fc.n != net->cfg.n || fc.embed_dim != net->cfg.embed_dim ||
        (fc.kind == GROK_NET_MLP && fc.hidden_dim != net->cfg.hidden_dim)) {
        s = grok__fail(GROK_ERR_FORMAT, "%s: holds a %s with n %d, embed_dim %d, hidden_dim %d; the net is a %s with %d, %d, %d",
                       path, fc.kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet", fc.n, fc.embed_dim, fc.hidden_dim,
                       net->cfg.kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet", net->cfg.n, net->cfg.embed_dim,
                       net->cfg.kind == GROK_NET_MLP ? net->cfg.hidden_dim : 0);
        goto done;
    }
    staging = GROK__NEW(float, net->num_parameters);
    if (!staging) { s = grok__fail(GROK_ERR_NOMEM, "grok_net_load_safetensors"); goto done; }
    memcpy(staging, net->weights, sizeof(float) * net->num_parameters); /* the padding between tensors */
    for (i = 0; i < net->n_params && s == GROK_OK; i++) {
        const grok_param *p = &net->params[i];
        s = grok_array_to_f32(staging + p->offset, (int64_t)p->numel, grok_safetensors_get(&st, p->name));
    }
    if (s == GROK_OK) memcpy(net->weights, staging, sizeof(float) * net->num_parameters);
done:
    GROK_FREE(staging);
    grok_safetensors_free(&st);
    return s;
}

/* ---- data splits from files */

GROKDEF int grok_task_modadd_from_indices(grok_data *train, grok_data *test, int p,
                                          const int64_t *train_idx, long n_train,
                                          const int64_t *test_idx, long n_test)
{
    unsigned char *seen;
    long n, i, row;
    int st;
    if (!train || !test) return grok__fail(GROK_ERR_ARG, "grok_task_modadd_from_indices: NULL data");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (p < 2 || p > 46340) return grok__fail(GROK_ERR_ARG, "grok_task_modadd_from_indices: p = %d, want 2..46340", p);
    n = (long)p * p;
    if (!train_idx || n_train < 1 || n_train > n || (test_idx && (n_test < 0 || n_test > n - n_train)))
        return grok__fail(GROK_ERR_ARG, "grok_task_modadd_from_indices: %ld train and %ld test indices of %ld pairs", n_train,
                          test_idx ? n_test : 0L, n);
    if (!test_idx) n_test = n - n_train;
    seen = (unsigned char *)GROK_MALLOC((size_t)n);
    if (!seen) return grok__fail(GROK_ERR_NOMEM, "grok_task_modadd_from_indices: %ld pairs", n);
    memset(seen, 0, (size_t)n);
    for (i = 0; i < n_train + (test_idx ? n_test : 0); i++) {
        int64_t x = i < n_train ? train_idx[i] : test_idx[i - n_train];
        if (x < 0 || x >= n || seen[x]) {
            GROK_FREE(seen);
            return grok__fail(GROK_ERR_ARG, "grok_task_modadd_from_indices: %s index %lld at position %ld is %s", i < n_train ? "train" : "test",
                              (long long)x, i < n_train ? i : i - n_train, x < 0 || x >= n ? "out of range [0, p*p)" : "repeated");
        }
        seen[x] = (unsigned char)(i < n_train ? 1 : 2);
    }
    if ((st = grok_data_alloc(train, (int)n_train, 3)) != GROK_OK || (st = grok_data_alloc(test, (int)n_test, 3)) != GROK_OK) {
        GROK_FREE(seen);
        grok_data_free(train);
        return st;
    }
    for (i = 0, row = 0; i < n_train + n_test; i++) {
        grok_data *d = i < n_train ? train : test;
        int64_t x;
        int r = (int)(i < n_train ? i : i - n_train), a, b;
        if (i < n_train) x = train_idx[i];
        else if (test_idx) x = test_idx[i - n_train];
        else { while (seen[row]) row++; x = row++; }
        a = (int)(x / p); b = (int)(x % p);
        d->tokens[r * 3 + 0] = a;
        d->tokens[r * 3 + 1] = b;
        d->tokens[r * 3 + 2] = p;
        d->targets[r * 3 + 2] = (a + b) % p;
    }
    GROK_FREE(seen);
    return GROK_OK;
}

/* A 1-D integer .npy as int64 (allocated). */
static int grok__npy_indices(int64_t **idx, long *n, const char *path)
{
    grok_array a;
    int st;
    *idx = NULL;
    *n = 0;
    if ((st = grok_npy_load(&a, path)) != GROK_OK) return st;
    if (a.ndim != 1 || (a.dtype != GROK_DT_I64 && a.dtype != GROK_DT_I32) || a.shape[0] > (1L << 31)) {
        grok_array_free(&a);
        return grok__fail(GROK_ERR_FORMAT, "%s: want a 1-D int64 or int32 array of indices", path);
    }
    *idx = (int64_t *)GROK_MALLOC(sizeof(int64_t) * (size_t)(a.shape[0] + 1));
    if (!*idx) { grok_array_free(&a); return grok__fail(GROK_ERR_NOMEM, "%s", path); }
    *n = (long)a.shape[0];
    st = grok_array_to_i64(*idx, a.shape[0], &a);
    grok_array_free(&a);
    return st;
}

GROKDEF int grok_task_modadd_from_npy(grok_data *train, grok_data *test, int p, const char *train_path,
                                      const char *test_path)
{
    int64_t *tr = NULL, *te = NULL;
    long ntr = 0, nte = 0;
    int st;
    if (!train || !test || !train_path) return grok__fail(GROK_ERR_ARG, "grok_task_modadd_from_npy: NULL argument");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if ((st = grok__npy_indices(&tr, &ntr, train_path)) == GROK_OK &&
        (!test_path || (st = grok__npy_indices(&te, &nte, test_path)) == GROK_OK))
        st = grok_task_modadd_from_indices(train, test, p, tr, ntr, te, nte);
    GROK_FREE(tr);
    GROK_FREE(te);
    return st;
}

/* ---- run summary */

static void grok__sb_num(grok__sbuf *b, double v)
{
    char buf[32];
    if (!isfinite(v)) { grok__sb_str(b, "null"); return; }
    grok__fmt_double(buf, v);
    grok__sb_str(b, buf);
}

GROKDEF int grok_run_summary_save(const char *path, const grok_model *m, const grok_run_info *info)
{
    grok__sbuf b;
    const grok_config *c;
    char tmp[4096];
    FILE *f;
    int i, ok;
    if (!path || !m || !info || info->n_extra < 0 || (info->n_extra > 0 && (!info->extra_keys || !info->extra_values)))
        return grok__fail(GROK_ERR_ARG, "grok_run_summary_save: bad argument");
    for (i = 0; i < info->n_extra; i++)
        if (!info->extra_keys[i] || !info->extra_values[i])
            return grok__fail(GROK_ERR_ARG, "grok_run_summary_save: extra pair %d has a NULL string", i);
    c = &m->cfg;
    memset(&b, 0, sizeof b);
    grok__sb_str(&b, "{\n  \"config\": {");
    grok__sb_printf(&b, "\"n_layers\": %d, \"n_heads\": %d, \"d_model\": %d, \"d_head\": %d, \"d_mlp\": %d, ",
                    c->n_layers, c->n_heads, c->d_model, c->d_head, c->d_mlp);
    grok__sb_printf(&b, "\"d_vocab\": %d, \"d_vocab_out\": %d, \"n_ctx\": %d, ", c->d_vocab, c->d_vocab_out, c->n_ctx);
    grok__sb_str(&b, c->act_fn == GROK_ACT_GELU ? "\"act_fn\": \"gelu\", " : "\"act_fn\": \"relu\", ");
    grok__sb_str(&b, c->normalization == GROK_NORM_LN ? "\"normalization_type\": \"LN\", " : "\"normalization_type\": null, ");
    grok__sb_str(&b, "\"eps\": "); grok__sb_num(&b, c->ln_eps);
    grok__sb_str(&b, ", \"initializer_range\": "); grok__sb_num(&b, c->init_range);
    grok__sb_printf(&b, ", \"seed\": %llu, \"train_biases\": %s},\n", (unsigned long long)c->seed, c->train_biases ? "true" : "false");
    grok__sb_str(&b, "  \"optimizer\": {\"name\": \"AdamW\", \"lr\": "); grok__sb_num(&b, m->opt.lr);
    grok__sb_str(&b, ", \"weight_decay\": "); grok__sb_num(&b, m->opt.weight_decay);
    grok__sb_str(&b, ", \"beta1\": "); grok__sb_num(&b, m->opt.beta1);
    grok__sb_str(&b, ", \"beta2\": "); grok__sb_num(&b, m->opt.beta2);
    grok__sb_str(&b, ", \"eps\": "); grok__sb_num(&b, m->opt.eps);
    grok__sb_printf(&b, "},\n  \"num_parameters\": %lu,\n  \"step\": %ld,\n  \"epoch\": %ld,\n", (unsigned long)m->num_parameters,
                    m->step, m->epoch);
    grok__sb_str(&b, "  \"final\": {\"train_loss\": "); grok__sb_num(&b, m->metrics.train_loss);
    grok__sb_str(&b, ", \"test_loss\": "); grok__sb_num(&b, m->metrics.test_loss);
    grok__sb_str(&b, ", \"train_acc\": "); grok__sb_num(&b, m->metrics.train_acc);
    grok__sb_str(&b, ", \"test_acc\": "); grok__sb_num(&b, m->metrics.test_acc);
    grok__sb_str(&b, "},\n  \"first_epoch_test_acc_50\": ");
    if (info->first_epoch_test_acc_50 >= 0) grok__sb_printf(&b, "%ld", info->first_epoch_test_acc_50); else grok__sb_str(&b, "null");
    grok__sb_str(&b, ",\n  \"first_epoch_test_acc_99\": ");
    if (info->first_epoch_test_acc_99 >= 0) grok__sb_printf(&b, "%ld", info->first_epoch_test_acc_99); else grok__sb_str(&b, "null");
    grok__sb_str(&b, ",\n  \"seconds\": ");
    if (info->seconds >= 0) grok__sb_num(&b, info->seconds); else grok__sb_str(&b, "null");
    grok__sb_str(&b, ",\n  \"n_train\": ");
    if (info->n_train >= 0) grok__sb_printf(&b, "%ld", info->n_train); else grok__sb_str(&b, "null");
    grok__sb_str(&b, ",\n  \"n_test\": ");
    if (info->n_test >= 0) grok__sb_printf(&b, "%ld", info->n_test); else grok__sb_str(&b, "null");
    for (i = 0; i < info->n_extra; i++) {
        grok__sb_str(&b, ",\n  ");
        grok__sb_json_str(&b, info->extra_keys[i]);
        grok__sb_str(&b, ": ");
        if (grok__is_json_number(info->extra_values[i])) grok__sb_str(&b, info->extra_values[i]);
        else grok__sb_json_str(&b, info->extra_values[i]);
    }
    grok__sb_str(&b, "\n}\n");
    if (b.oom) { GROK_FREE(b.p); return grok__fail(GROK_ERR_NOMEM, "grok_run_summary_save"); }
    if ((i = grok__open_tmp(&f, tmp, sizeof tmp, path, "grok_run_summary_save")) != GROK_OK) { GROK_FREE(b.p); return i; }
    ok = fwrite(b.p, 1, b.n, f) == b.n;
    GROK_FREE(b.p);
    return grok__commit(f, ok, tmp, path, "grok_run_summary_save");
}

#endif /* GROK_NO_INTEROP */

/* ==== >>analysis: DFT, Fourier basis, SVD, the seeds' analyses, progress measures ============= */

#ifndef GROK_NO_ANALYSIS

/* GCC/clang vector extensions let the butterflies and kernels below work on GROK__VL doubles
   at once without intrinsics. The width follows the instruction set the file is compiled for
   (2 doubles for plain x86-64 SSE2, 4 with -mavx, 8 with -mavx512f): a vector wider than the
   registers is split through memory and runs several times slower. Other compilers get width
   1 and the same code runs on plain doubles. Loads and stores go through GROK__VLD/GROK__VST
   on unaligned double arrays, hence aligned(8) and may_alias. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__AVX512F__)
typedef double grok__vd __attribute__((vector_size(64), aligned(8), may_alias));
#define GROK__VL 8
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__AVX__)
typedef double grok__vd __attribute__((vector_size(32), aligned(8), may_alias));
#define GROK__VL 4
#elif defined(__GNUC__) || defined(__clang__)
typedef double grok__vd __attribute__((vector_size(16), aligned(8), may_alias));
#define GROK__VL 2
#else
typedef double grok__vd;
#define GROK__VL 1
#endif
#define GROK__VLD(p) (*(const grok__vd *)(const void *)(p))
#define GROK__VST(p) (*(grok__vd *)(void *)(p))
#define GROK__LONG_MAX ((long)(~0UL >> 1))
#define GROK__EPS 2.220446049250313e-16 /* DBL_EPSILON */
#define GROK__DMAX 1.7976931348623157e308 /* DBL_MAX: !(|x| <= GROK__DMAX) catches inf and NaN */

/* cos and sin of 2 pi num/den, within an ulp or so for any num: the angle is reduced exactly
   (in integers) to [0, pi/4] before cos/sin see it, so large arguments lose nothing. */
static void grok__sincos2pi(int64_t num, int64_t den, double *c, double *s)
{
    int64_t r = num % den, x, rem;
    int q;
    double cs, sn;
    if (r < 0) r += den;
    x = 4 * r; /* the angle is (q + rem/den) quarter turns */
    q = (int)(x / den);
    rem = x - q * den;
    if (2 * rem <= den) {
        double a = 1.5707963267948966 * ((double)rem / (double)den);
        cs = cos(a); sn = sin(a);
    } else {
        double a = 1.5707963267948966 * ((double)(den - rem) / (double)den);
        cs = sin(a); sn = cos(a);
    }
    switch (q) {
    case 0: *c = cs; *s = sn; break;
    case 1: *c = -sn; *s = cs; break;
    case 2: *c = -cs; *s = -sn; break;
    default: *c = sn; *s = -cs; break;
    }
}

/* 1 when the byte ranges [a, a+na) and [b, b+nb) share a byte. */
static int grok__overlap(const void *a, size_t na, const void *b, size_t nb)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + nb && y < x + na;
}

/* ---- DFT

   Plans follow pocketfft's complex FFT: n is factored into 4s, a 2 and odd primes; each
   factor p is one Stockham pass (no bit reversal) that reads cc (l1, p, ido) and writes
   ch (p, l1, ido), multiplying by the twiddles exp(+-2 pi i u l1 i/n) on the way out. Lengths
   with a large prime factor use Bluestein's chirp-z through a 2.3.5-smooth length m >= 2n-1
   when the cost estimate says so. Vectors are transformed GROK__VL at a time in a lane buffer
   whose element j holds VL real parts then VL imaginary parts, so every butterfly is a vector
   operation across the independent vectors. */

#define GROK__FFT_E (2 * GROK__VL) /* doubles per element of a lane buffer */
#define GROK__FFT_MAXF 32
#define GROK__FFT_MAXN (1 << 27)

struct grok_fft_plan {
    int n, nfact, fact[GROK__FFT_MAXF];
    long twofs[GROK__FFT_MAXF]; /* offset (complex) of each pass's twiddles in tw */
    int maxg;                   /* largest factor > 5 (generic butterfly), 0 if none */
    int m;                      /* Bluestein length, 0 for a direct plan */
    double *tw;                 /* pass twiddles, then for generic passes the p roots */
    double *chirp;              /* (n) complex exp(i pi j^2/n) */
    double *bk;                 /* (m) complex DFT_m of the chirp's circular extension, / m */
    struct grok_fft_plan *sub;  /* direct plan of length m */
};

/* fact (up to GROK__FFT_MAXF) = the factors of n: 4s, then a 2, then odd primes ascending;
   returns their count. */
static int grok__fft_factor(int n, int *fact)
{
    int nf = 0;
    while (n % 4 == 0) { fact[nf++] = 4; n /= 4; }
    if (n % 2 == 0) { fact[nf++] = 2; n /= 2; }
    for (int p = 3; p * p <= n; p += 2)
        while (n % p == 0) { fact[nf++] = p; n /= p; }
    if (n > 1) fact[nf++] = n;
    return nf;
}

/* pocketfft's estimate of the work of a direct plan: n times the sum of its factors, with
   factors above 5 (generic O(p^2) butterflies) penalised. */
static double grok__fft_cost(int n)
{
    double cost = 0;
    int rest = n;
    while (rest % 2 == 0) { cost += 2; rest /= 2; }
    for (int p = 3; p * p <= rest; p += 2)
        while (rest % p == 0) { cost += p <= 5 ? p : 1.1 * p; rest /= p; }
    if (rest > 1) cost += rest <= 5 ? rest : 1.1 * rest;
    return cost * n;
}

static int grok__fft_good_size(int n) /* smallest 2^a 3^b 5^c >= n */
{
    long best = 1;
    while (best < n) best *= 2;
    for (long f5 = 1; f5 < best; f5 *= 5)
        for (long f35 = f5; f35 < best; f35 *= 3) {
            long x = f35;
            while (x < n) x *= 2;
            if (x < best) best = x;
        }
    return (int)best;
}

/* Bluestein length for n, or 0 when the direct plan is expected to be faster. Two sub-FFTs
   plus the chirp products cost about 1.5x their butterflies (pocketfft's fudge factor). */
static int grok__fft_bluestein_len(int n, const int *fact, int nf)
{
    int lpf = nf ? fact[nf - 1] : 1, m;
    if (n < 50 || (long)lpf * lpf <= n) return 0;
    m = grok__fft_good_size(2 * n - 1);
    return 2 * 1.5 * grok__fft_cost(m) < grok__fft_cost(n) ? m : 0;
}

/* Counts (tw == NULL) or fills the twiddles of a direct plan: pass s gets (p-1)(ido-1) values
   exp(2 pi i u l1 i/n), u = 1..p-1, i = 1..ido-1, then, for p > 5, the p roots exp(2 pi i j/p). */
static long grok__fft_twiddles(int n, const int *fact, int nf, double *tw, long *ofs)
{
    long cnt = 0, l1 = 1;
    for (int s = 0; s < nf; s++) {
        int ip = fact[s];
        long ido = n / (l1 * ip);
        ofs[s] = cnt;
        if (tw)
            for (int u = 1; u < ip; u++)
                for (long i = 1; i < ido; i++) {
                    double *w = tw + 2 * (cnt + (u - 1) * (ido - 1) + i - 1);
                    grok__sincos2pi((int64_t)u * l1 * i, n, w, w + 1);
                }
        cnt += (ip - 1) * (ido - 1);
        if (ip > 5) {
            if (tw)
                for (int j = 0; j < ip; j++) grok__sincos2pi(j, ip, tw + 2 * (cnt + j), tw + 2 * (cnt + j) + 1);
            cnt += ip;
        }
        l1 *= ip;
    }
    return cnt;
}

/* A plan without Bluestein for n; tw (grok__fft_twiddles of n complex values) is filled. */
static void grok__fft_direct_init(grok_fft_plan *pl, int n, double *tw)
{
    pl->n = n;
    pl->nfact = grok__fft_factor(n, pl->fact);
    pl->maxg = 0;
    for (int s = 0; s < pl->nfact; s++)
        if (pl->fact[s] > 5 && pl->fact[s] > pl->maxg) pl->maxg = pl->fact[s];
    pl->m = 0;
    pl->tw = tw;
    pl->chirp = pl->bk = NULL;
    pl->sub = NULL;
    grok__fft_twiddles(n, pl->fact, pl->nfact, tw, pl->twofs);
}

/* Twiddle u of column i from a pass's wa (p-1, ido-1) complex (1 for i == 0), conjugated for
   the forward sign. */
static void grok__fft_tw(const double *wa, long ido, int u, long i, double sgn, double *wr, double *wi)
{
    if (i == 0) { *wr = 1; *wi = 0; return; }
    wa += 2 * ((u - 1) * (ido - 1) + i - 1);
    *wr = wa[0];
    *wi = sgn * wa[1];
}

#define GROK__CC(a, b, c) (cc + GROK__FFT_E * ((a) + ido * ((b) + (long)cdim * (c))))
#define GROK__CH(a, b, c) (ch + GROK__FFT_E * ((a) + ido * ((b) + l1 * (c))))
/* y = (xr + i xi) (wr + i wi), lane-wise */
#define GROK__CSTORE(y, xr, xi, wr, wi) \
    (GROK__VST(y) = (xr) * (wr) - (xi) * (wi), GROK__VST((y) + GROK__VL) = (xr) * (wi) + (xi) * (wr))

/* The passes for p = 2, 3, 4, 5: cc (l1, p, ido) and ch (p, l1, ido) in lane elements, wa
   (p-1, ido-1) complex; sgn = -1 forward, +1 backward, the butterfly's roots exp(sgn 2 pi i/p). */
static void grok__fft_pass2(long ido, long l1, const double *cc, double *ch, const double *wa, double sgn)
{
    const int cdim = 2;
    for (long k = 0; k < l1; k++)
        for (long i = 0; i < ido; i++) {
            const double *x0 = GROK__CC(i, 0, k), *x1 = GROK__CC(i, 1, k);
            double *y0 = GROK__CH(i, k, 0);
            double w1r, w1i;
            grok__vd ar = GROK__VLD(x0), ai = GROK__VLD(x0 + GROK__VL);
            grok__vd br = GROK__VLD(x1), bi = GROK__VLD(x1 + GROK__VL);
            grok__fft_tw(wa, ido, 1, i, sgn, &w1r, &w1i);
            GROK__VST(y0) = ar + br;
            GROK__VST(y0 + GROK__VL) = ai + bi;
            GROK__CSTORE(GROK__CH(i, k, 1), ar - br, ai - bi, w1r, w1i);
        }
}

static void grok__fft_pass3(long ido, long l1, const double *cc, double *ch, const double *wa, double sgn)
{
    const int cdim = 3;
    const double cr = -0.5, ci = sgn * 0.86602540378443864676; /* exp(sgn 2 pi i/3) */
    for (long k = 0; k < l1; k++)
        for (long i = 0; i < ido; i++) {
            const double *x0 = GROK__CC(i, 0, k), *x1 = GROK__CC(i, 1, k), *x2 = GROK__CC(i, 2, k);
            double *y0 = GROK__CH(i, k, 0);
            double w1r, w1i, w2r, w2i;
            grok__vd x0r = GROK__VLD(x0), x0i = GROK__VLD(x0 + GROK__VL);
            grok__vd x1r = GROK__VLD(x1), x1i = GROK__VLD(x1 + GROK__VL);
            grok__vd x2r = GROK__VLD(x2), x2i = GROK__VLD(x2 + GROK__VL);
            grok__vd ar = x1r + x2r, ai = x1i + x2i, br = x1r - x2r, bi = x1i - x2i;
            grok__vd pr = x0r + cr * ar, pi = x0i + cr * ai, qr = -ci * bi, qi = ci * br;
            grok__fft_tw(wa, ido, 1, i, sgn, &w1r, &w1i);
            grok__fft_tw(wa, ido, 2, i, sgn, &w2r, &w2i);
            GROK__VST(y0) = x0r + ar;
            GROK__VST(y0 + GROK__VL) = x0i + ai;
            GROK__CSTORE(GROK__CH(i, k, 1), pr + qr, pi + qi, w1r, w1i);
            GROK__CSTORE(GROK__CH(i, k, 2), pr - qr, pi - qi, w2r, w2i);
        }
}

static void grok__fft_pass4(long ido, long l1, const double *cc, double *ch, const double *wa, double sgn)
{
    const int cdim = 4;
    for (long k = 0; k < l1; k++)
        for (long i = 0; i < ido; i++) {
            const double *x0 = GROK__CC(i, 0, k), *x1 = GROK__CC(i, 1, k);
            const double *x2 = GROK__CC(i, 2, k), *x3 = GROK__CC(i, 3, k);
            double *y0 = GROK__CH(i, k, 0);
            double w1r, w1i, w2r, w2i, w3r, w3i;
            grok__vd x0r = GROK__VLD(x0), x0i = GROK__VLD(x0 + GROK__VL);
            grok__vd x1r = GROK__VLD(x1), x1i = GROK__VLD(x1 + GROK__VL);
            grok__vd x2r = GROK__VLD(x2), x2i = GROK__VLD(x2 + GROK__VL);
            grok__vd x3r = GROK__VLD(x3), x3i = GROK__VLD(x3 + GROK__VL);
            grok__vd t1r = x0r + x2r, t1i = x0i + x2i, t2r = x0r - x2r, t2i = x0i - x2i;
            grok__vd t3r = x1r + x3r, t3i = x1i + x3i;
            grok__vd rr = -sgn * (x1i - x3i), ri = sgn * (x1r - x3r); /* sgn i (x1 - x3) */
            grok__fft_tw(wa, ido, 1, i, sgn, &w1r, &w1i);
            grok__fft_tw(wa, ido, 2, i, sgn, &w2r, &w2i);
            grok__fft_tw(wa, ido, 3, i, sgn, &w3r, &w3i);
            GROK__VST(y0) = t1r + t3r;
            GROK__VST(y0 + GROK__VL) = t1i + t3i;
            GROK__CSTORE(GROK__CH(i, k, 1), t2r + rr, t2i + ri, w1r, w1i);
            GROK__CSTORE(GROK__CH(i, k, 2), t1r - t3r, t1i - t3i, w2r, w2i);
            GROK__CSTORE(GROK__CH(i, k, 3), t2r - rr, t2i - ri, w3r, w3i);
        }
}

static void grok__fft_pass5(long ido, long l1, const double *cc, double *ch, const double *wa, double sgn)
{
    const int cdim = 5;
    const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;  /* cos 2pi/5, 4pi/5 */
    const double s1 = sgn * 0.95105651629515357212, s2 = sgn * 0.58778525229247312917; /* sin */
    for (long k = 0; k < l1; k++)
        for (long i = 0; i < ido; i++) {
            const double *x0 = GROK__CC(i, 0, k), *x1 = GROK__CC(i, 1, k), *x2 = GROK__CC(i, 2, k);
            const double *x3 = GROK__CC(i, 3, k), *x4 = GROK__CC(i, 4, k);
            double *y0 = GROK__CH(i, k, 0);
            double w1r, w1i, w2r, w2i, w3r, w3i, w4r, w4i;
            grok__vd x0r = GROK__VLD(x0), x0i = GROK__VLD(x0 + GROK__VL);
            grok__vd a1r = GROK__VLD(x1) + GROK__VLD(x4), a1i = GROK__VLD(x1 + GROK__VL) + GROK__VLD(x4 + GROK__VL);
            grok__vd b1r = GROK__VLD(x1) - GROK__VLD(x4), b1i = GROK__VLD(x1 + GROK__VL) - GROK__VLD(x4 + GROK__VL);
            grok__vd a2r = GROK__VLD(x2) + GROK__VLD(x3), a2i = GROK__VLD(x2 + GROK__VL) + GROK__VLD(x3 + GROK__VL);
            grok__vd b2r = GROK__VLD(x2) - GROK__VLD(x3), b2i = GROK__VLD(x2 + GROK__VL) - GROK__VLD(x3 + GROK__VL);
            /* y_u = p_u + i q_u and y_{5-u} = p_u - i q_u */
            grok__vd p1r = x0r + c1 * a1r + c2 * a2r, p1i = x0i + c1 * a1i + c2 * a2i;
            grok__vd q1r = s1 * b1r + s2 * b2r, q1i = s1 * b1i + s2 * b2i;
            grok__vd p2r = x0r + c2 * a1r + c1 * a2r, p2i = x0i + c2 * a1i + c1 * a2i;
            grok__vd q2r = s2 * b1r - s1 * b2r, q2i = s2 * b1i - s1 * b2i;
            grok__fft_tw(wa, ido, 1, i, sgn, &w1r, &w1i);
            grok__fft_tw(wa, ido, 2, i, sgn, &w2r, &w2i);
            grok__fft_tw(wa, ido, 3, i, sgn, &w3r, &w3i);
            grok__fft_tw(wa, ido, 4, i, sgn, &w4r, &w4i);
            GROK__VST(y0) = x0r + a1r + a2r;
            GROK__VST(y0 + GROK__VL) = x0i + a1i + a2i;
            GROK__CSTORE(GROK__CH(i, k, 1), p1r - q1i, p1i + q1r, w1r, w1i);
            GROK__CSTORE(GROK__CH(i, k, 4), p1r + q1i, p1i - q1r, w4r, w4i);
            GROK__CSTORE(GROK__CH(i, k, 2), p2r - q2i, p2i + q2r, w2r, w2i);
            GROK__CSTORE(GROK__CH(i, k, 3), p2r + q2i, p2i - q2r, w3r, w3i);
        }
}

/* Any odd prime ip: O(ip^2) per butterfly, halved by pairing x_m with x_{ip-m} (their sum
   meets the cosines, their difference the sines). roots holds exp(2 pi i j/ip); ab holds ip
   elements: the sums at 1..h and the differences at ip-1..ip-h. */
static void grok__fft_passg(long ido, long l1, int ip, const double *cc, double *ch, const double *wa,
                            const double *roots, double sgn, double *ab)
{
    const int cdim = ip, h = (ip - 1) / 2;
    for (long k = 0; k < l1; k++)
        for (long i = 0; i < ido; i++) {
            const double *x0 = GROK__CC(i, 0, k);
            double *y0 = GROK__CH(i, k, 0);
            grok__vd x0r = GROK__VLD(x0), x0i = GROK__VLD(x0 + GROK__VL), sr = x0r, si = x0i;
            for (int m = 1; m <= h; m++) {
                const double *xm = GROK__CC(i, m, k), *xn = GROK__CC(i, ip - m, k);
                double *a = ab + GROK__FFT_E * m, *b = ab + GROK__FFT_E * (ip - m);
                grok__vd ar = GROK__VLD(xm) + GROK__VLD(xn), ai = GROK__VLD(xm + GROK__VL) + GROK__VLD(xn + GROK__VL);
                GROK__VST(a) = ar;
                GROK__VST(a + GROK__VL) = ai;
                GROK__VST(b) = GROK__VLD(xm) - GROK__VLD(xn);
                GROK__VST(b + GROK__VL) = GROK__VLD(xm + GROK__VL) - GROK__VLD(xn + GROK__VL);
                sr += ar;
                si += ai;
            }
            GROK__VST(y0) = sr;
            GROK__VST(y0 + GROK__VL) = si;
            for (int u = 1; u <= h; u++) {
                const double *a = ab + GROK__FFT_E, *b = ab + GROK__FFT_E * (ip - 1);
                double c = roots[2 * u], s = sgn * roots[2 * u + 1], wr, wi;
                grok__vd pr = x0r + c * GROK__VLD(a), pi = x0i + c * GROK__VLD(a + GROK__VL);
                grok__vd qr = s * GROK__VLD(b), qi = s * GROK__VLD(b + GROK__VL);
                int idx = u; /* u m mod ip */
                for (int m = 2; m <= h; m++) {
                    idx += u;
                    if (idx >= ip) idx -= ip;
                    c = roots[2 * idx];
                    s = sgn * roots[2 * idx + 1];
                    a = ab + GROK__FFT_E * m;
                    b = ab + GROK__FFT_E * (ip - m);
                    pr += c * GROK__VLD(a);
                    pi += c * GROK__VLD(a + GROK__VL);
                    qr += s * GROK__VLD(b);
                    qi += s * GROK__VLD(b + GROK__VL);
                }
                grok__fft_tw(wa, ido, u, i, sgn, &wr, &wi);
                GROK__CSTORE(GROK__CH(i, k, u), pr - qi, pi + qr, wr, wi);
                grok__fft_tw(wa, ido, ip - u, i, sgn, &wr, &wi);
                GROK__CSTORE(GROK__CH(i, k, ip - u), pr + qi, pi - qr, wr, wi);
            }
        }
}

#undef GROK__CC
#undef GROK__CH

/* Runs the passes of a direct plan over buf (n elements), ping-ponging with tmp (as large);
   ab holds maxg elements. Returns whichever of buf and tmp holds the (unscaled) result. */
static double *grok__fft_passes(const grok_fft_plan *pl, double *buf, double *tmp, double *ab, double sgn)
{
    double *p1 = buf, *p2 = tmp, *t;
    long l1 = 1;
    for (int s = 0; s < pl->nfact; s++) {
        int ip = pl->fact[s];
        long ido = pl->n / (l1 * ip);
        const double *wa = pl->tw + 2 * pl->twofs[s];
        switch (ip) {
        case 2: grok__fft_pass2(ido, l1, p1, p2, wa, sgn); break;
        case 3: grok__fft_pass3(ido, l1, p1, p2, wa, sgn); break;
        case 4: grok__fft_pass4(ido, l1, p1, p2, wa, sgn); break;
        case 5: grok__fft_pass5(ido, l1, p1, p2, wa, sgn); break;
        default: grok__fft_passg(ido, l1, ip, p1, p2, wa, wa + 2 * (ip - 1) * (ido - 1), sgn, ab); break;
        }
        t = p1; p1 = p2; p2 = t;
        l1 *= ip;
    }
    return p1;
}

/* Lane elements one call needs: the n gathered, then the work of a block (a ping-pong copy
   and the generic butterfly's maxg, or Bluestein's two buffers of m). */
static long grok__fft_work_elems(const grok_fft_plan *pl)
{
    return pl->m ? (long)pl->n + 2L * pl->m : 2L * pl->n + pl->maxg;
}

/* Transforms the VL vectors in buf (n elements), unscaled; work follows buf in the same
   allocation. Bluestein: X_k = conj(b_k) sum_j (x_j conj(b_j)) b_{k-j}, b_j = exp(i pi j^2/n),
   a circular convolution of length m; the inverse is the conjugate of the forward transform of
   the conjugate. Returns where the result is. */
static double *grok__fft_block(const grok_fft_plan *pl, double *buf, double *work, double sgn)
{
    const int n = pl->n, m = pl->m, E = GROK__FFT_E, L = GROK__VL;
    double *a = work, *t = work + (long)E * m, *r;
    if (!m) return grok__fft_passes(pl, buf, work, work + (long)E * n, sgn);
    for (int j = 0; j < n; j++) {
        const double *x = buf + (long)E * j;
        double cr = pl->chirp[2 * j], ci = pl->chirp[2 * j + 1];
        grok__vd xr = GROK__VLD(x), xi = -sgn * GROK__VLD(x + L); /* conj for the inverse */
        GROK__VST(a + (long)E * j) = xr * cr + xi * ci;
        GROK__VST(a + (long)E * j + L) = xi * cr - xr * ci;
    }
    memset(a + (long)E * n, 0, sizeof(double) * E * (size_t)(m - n));
    r = grok__fft_passes(pl->sub, a, t, NULL, -1.0);
    for (int j = 0; j < m; j++) {
        double *y = r + (long)E * j, br = pl->bk[2 * j], bi = pl->bk[2 * j + 1];
        grok__vd yr = GROK__VLD(y), yi = GROK__VLD(y + L);
        GROK__CSTORE(y, yr, yi, br, bi);
    }
    r = grok__fft_passes(pl->sub, r, r == a ? t : a, NULL, 1.0);
    for (int k = 0; k < n; k++) {
        const double *y = r + (long)E * k;
        double cr = pl->chirp[2 * k], ci = pl->chirp[2 * k + 1];
        grok__vd yr = GROK__VLD(y), yi = GROK__VLD(y + L);
        GROK__VST(buf + (long)E * k) = yr * cr + yi * ci;
        GROK__VST(buf + (long)E * k + L) = -sgn * (yi * cr - yr * ci);
    }
    return buf;
}

/* (grok__fft_work_elems) lane elements, or NULL. */
static double *grok__fft_alloc_work(const grok_fft_plan *pl)
{
    return (double *)GROK_MALLOC(sizeof(double) * GROK__FFT_E * (size_t)grok__fft_work_elems(pl));
}

GROKDEF int grok_fft_plan_create(grok_fft_plan **plan, int n)
{
    int fact[GROK__FFT_MAXF], nf, m;
    long ofs[GROK__FFT_MAXF];
    size_t hdr = (sizeof(grok_fft_plan) + 63) & ~(size_t)63, bytes;
    char *mem;
    grok_fft_plan *pl;
    double *work, *r;
    if (!plan) return grok__fail(GROK_ERR_ARG, "grok_fft_plan_create: plan is NULL");
    *plan = NULL;
    if (n < 1 || n > GROK__FFT_MAXN)
        return grok__fail(GROK_ERR_ARG, "grok_fft_plan_create: n = %d, want 1..%d", n, GROK__FFT_MAXN);
    nf = grok__fft_factor(n, fact);
    m = grok__fft_bluestein_len(n, fact, nf);
    if (m) {
        int mfact[GROK__FFT_MAXF], mnf = grok__fft_factor(m, mfact);
        bytes = 2 * hdr + sizeof(double) * (size_t)(2L * n + 2L * m + 2 * grok__fft_twiddles(m, mfact, mnf, NULL, ofs));
    } else {
        bytes = hdr + sizeof(double) * (size_t)(2 * grok__fft_twiddles(n, fact, nf, NULL, ofs));
    }
    mem = (char *)GROK_MALLOC(bytes);
    if (!mem) return grok__fail(GROK_ERR_NOMEM, "grok_fft_plan_create: cannot allocate %zu bytes", bytes);
    pl = (grok_fft_plan *)(void *)mem;
    if (!m) {
        grok__fft_direct_init(pl, n, (double *)(void *)(mem + hdr));
        *plan = pl;
        return GROK_OK;
    }
    pl->n = n;
    pl->nfact = pl->maxg = 0;
    pl->m = m;
    pl->tw = NULL;
    pl->chirp = (double *)(void *)(mem + hdr);
    pl->bk = pl->chirp + 2L * n;
    pl->sub = (grok_fft_plan *)(void *)(pl->bk + 2L * m);
    grok__fft_direct_init(pl->sub, m, (double *)(void *)((char *)pl->sub + hdr));
    for (int j = 0; j < n; j++) /* j^2 mod 2n keeps the angle exact */
        grok__sincos2pi((int64_t)j * j % (2 * (int64_t)n), 2 * (int64_t)n, pl->chirp + 2 * j, pl->chirp + 2 * j + 1);
    work = grok__fft_alloc_work(pl->sub);
    if (!work) {
        GROK_FREE(mem);
        return grok__fail(GROK_ERR_NOMEM, "grok_fft_plan_create: cannot allocate the Bluestein scratch");
    }
    /* bk = DFT_m(b extended circularly: b_0..b_{n-1} at 0.., b_1..b_{n-1} at m-1..) / m, lane 0 */
    memset(work, 0, sizeof(double) * GROK__FFT_E * (size_t)m);
    for (int j = 0; j < n; j++) {
        work[(long)GROK__FFT_E * j] = pl->chirp[2 * j];
        work[(long)GROK__FFT_E * j + GROK__VL] = pl->chirp[2 * j + 1];
        if (j > 0) {
            work[(long)GROK__FFT_E * (m - j)] = pl->chirp[2 * j];
            work[(long)GROK__FFT_E * (m - j) + GROK__VL] = pl->chirp[2 * j + 1];
        }
    }
    r = grok__fft_passes(pl->sub, work, work + (long)GROK__FFT_E * m, NULL, -1.0);
    for (int j = 0; j < m; j++) {
        pl->bk[2 * j] = r[(long)GROK__FFT_E * j] / m;
        pl->bk[2 * j + 1] = r[(long)GROK__FFT_E * j + GROK__VL] / m;
    }
    GROK_FREE(work);
    *plan = pl;
    return GROK_OK;
}

GROKDEF void grok_fft_plan_free(grok_fft_plan *plan) { GROK_FREE(plan); }

GROKDEF int grok_fft_plan_size(const grok_fft_plan *plan) { return plan ? plan->n : 0; }

/* Transforms `count` vectors of d (or of f, converting) through the lane buffer work
   (grok__fft_work_elems elements); the inverse is scaled by 1/n on the way out. */
static void grok__fft_many(const grok_fft_plan *pl, double *d, float *f, long stride, long count, long dist,
                           int inverse, double *work)
{
    const int n = pl->n, E = GROK__FFT_E, L = GROK__VL;
    const double scale = inverse ? 1.0 / n : 1.0;
    double *buf = work, *r;
    for (long c0 = 0; c0 < count; c0 += L) {
        int nv = count - c0 < L ? (int)(count - c0) : L;
        for (int j = 0; j < n; j++) { /* unused lanes are zero, so they stay finite */
            double *e = buf + (long)E * j;
            long o = 2 * (c0 * dist + j * stride);
            for (int l = 0; l < nv; l++, o += 2 * dist) {
                /* cppcheck-suppress nullPointer ; exactly one of d and f is set */
                e[l] = d ? d[o] : f[o];
                /* cppcheck-suppress nullPointer ; exactly one of d and f is set */
                e[L + l] = d ? d[o + 1] : f[o + 1];
            }
            for (int l = nv; l < L; l++) e[l] = e[L + l] = 0;
        }
        r = grok__fft_block(pl, buf, work + (long)E * n, inverse ? 1.0 : -1.0);
        for (int j = 0; j < n; j++) {
            const double *e = r + (long)E * j;
            long o = 2 * (c0 * dist + j * stride);
            for (int l = 0; l < nv; l++, o += 2 * dist) {
                if (d) { d[o] = e[l] * scale; d[o + 1] = e[L + l] * scale; }
                else { f[o] = (float)(e[l] * scale); f[o + 1] = (float)(e[L + l] * scale); }
            }
        }
    }
}

GROKDEF int grok_fft_execute(const grok_fft_plan *plan, double *data, long stride, long count, long dist, int inverse)
{
    double *work;
    if (!plan || !data) return grok__fail(GROK_ERR_ARG, "grok_fft_execute: plan or data is NULL");
    if (stride < 1 || count < 1 || dist < 0 || (count > 1 && dist == 0))
        return grok__fail(GROK_ERR_ARG, "grok_fft_execute: stride %ld, count %ld, dist %ld: want stride >= 1, "
                          "count >= 1, dist >= 1 (or 0 with count 1)", stride, count, dist);
    if ((double)(count - 1) * (double)dist + (double)(plan->n - 1) * (double)stride >= (double)(GROK__LONG_MAX / 2))
        return grok__fail(GROK_ERR_ARG, "grok_fft_execute: indices overflow a long");
    work = grok__fft_alloc_work(plan);
    if (!work) return grok__fail(GROK_ERR_NOMEM, "grok_fft_execute: cannot allocate scratch for n = %d", plan->n);
    grok__fft_many(plan, data, NULL, stride, count, dist, inverse, work);
    GROK_FREE(work);
    return GROK_OK;
}

/* Both grok_fft_axis versions: data (outer, n, inner) as d or f, one plan and one scratch. */
static int grok__fft_axis(double *d, float *f, int ndim, const int *shape, int axis, int inverse, const char *fn)
{
    long outer = 1, inner = 1, total = 1, n;
    grok_fft_plan *pl;
    double *work;
    int st;
    if (!d && !f) return grok__fail(GROK_ERR_ARG, "%s: data is NULL", fn);
    if (!shape || ndim < 1 || ndim > 8) return grok__fail(GROK_ERR_ARG, "%s: ndim = %d (shape %s), want 1..8", fn, ndim, shape ? "given" : "NULL");
    if (axis < 0 || axis >= ndim) return grok__fail(GROK_ERR_ARG, "%s: axis = %d, want 0..%d", fn, axis, ndim - 1);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) return grok__fail(GROK_ERR_ARG, "%s: shape[%d] = %d, want >= 1", fn, i, shape[i]);
        if (total > GROK__LONG_MAX / 4 / shape[i]) return grok__fail(GROK_ERR_ARG, "%s: the array is too large", fn);
        total *= shape[i];
        if (i < axis) outer *= shape[i];
        if (i > axis) inner *= shape[i];
    }
    n = shape[axis];
    if ((st = grok_fft_plan_create(&pl, (int)n)) != GROK_OK) return st;
    if (!(work = grok__fft_alloc_work(pl))) {
        grok_fft_plan_free(pl);
        return grok__fail(GROK_ERR_NOMEM, "%s: cannot allocate scratch for n = %ld", fn, n);
    }
    if (inner == 1) /* vectors are contiguous rows */
        grok__fft_many(pl, d, f, 1, outer, n, inverse, work);
    else
        for (long o = 0; o < outer; o++)
            grok__fft_many(pl, d ? d + 2 * o * n * inner : NULL, f ? f + 2 * o * n * inner : NULL, inner, inner, 1,
                           inverse, work);
    GROK_FREE(work);
    grok_fft_plan_free(pl);
    return GROK_OK;
}

GROKDEF int grok_fft_axis(double *data, int ndim, const int *shape, int axis, int inverse)
{
    if (!data) return grok__fail(GROK_ERR_ARG, "grok_fft_axis: data is NULL");
    return grok__fft_axis(data, NULL, ndim, shape, axis, inverse, "grok_fft_axis");
}

GROKDEF int grok_fft_axis_f(float *data, int ndim, const int *shape, int axis, int inverse)
{
    if (!data) return grok__fail(GROK_ERR_ARG, "grok_fft_axis_f: data is NULL");
    return grok__fft_axis(NULL, data, ndim, shape, axis, inverse, "grok_fft_axis_f");
}

GROKDEF int grok_fft2(double *data, int rows, int cols, int inverse)
{
    int shape[2], st;
    shape[0] = rows;
    shape[1] = cols;
    if (!data) return grok__fail(GROK_ERR_ARG, "grok_fft2: data is NULL");
    if ((st = grok__fft_axis(data, NULL, 2, shape, 1, inverse, "grok_fft2")) != GROK_OK) return st;
    return grok__fft_axis(data, NULL, 2, shape, 0, inverse, "grok_fft2");
}

/* in (n) real -> out (n/2+1) complex through the complex transform (imaginary parts zero);
   double (id, od) or float (inf, of). */
static int grok__rfft(double *od, float *of, const double *id, const float *inf, int n, const char *fn)
{
    grok_fft_plan *pl;
    double *c;
    int st;
    if (n < 1) return grok__fail(GROK_ERR_ARG, "%s: n = %d, want >= 1", fn, n);
    if ((st = grok_fft_plan_create(&pl, n)) != GROK_OK) return st;
    c = (double *)GROK_MALLOC(sizeof(double) * (2 * (size_t)n + GROK__FFT_E * (size_t)grok__fft_work_elems(pl)));
    if (!c) {
        grok_fft_plan_free(pl);
        return grok__fail(GROK_ERR_NOMEM, "%s: cannot allocate scratch for n = %d", fn, n);
    }
    for (int j = 0; j < n; j++) {
        c[2 * j] = id ? id[j] : inf[j];
        c[2 * j + 1] = 0;
    }
    grok__fft_many(pl, c, NULL, 1, 1, 0, 0, c + 2 * n);
    for (int k = 0; k <= n / 2; k++) {
        if (od) { od[2 * k] = c[2 * k]; od[2 * k + 1] = c[2 * k + 1]; }
        else { of[2 * k] = (float)c[2 * k]; of[2 * k + 1] = (float)c[2 * k + 1]; }
    }
    GROK_FREE(c);
    grok_fft_plan_free(pl);
    return GROK_OK;
}

GROKDEF int grok_rfft(double *out, const double *in, int n)
{
    if (!out || !in) return grok__fail(GROK_ERR_ARG, "grok_rfft: out or in is NULL");
    return grok__rfft(out, NULL, in, NULL, n, "grok_rfft");
}

GROKDEF int grok_rfft_f(float *out, const float *in, int n)
{
    if (!out || !in) return grok__fail(GROK_ERR_ARG, "grok_rfft_f: out or in is NULL");
    return grok__rfft(NULL, out, NULL, in, n, "grok_rfft_f");
}

GROKDEF int grok_irfft(double *out, const double *in, int n)
{
    grok_fft_plan *pl;
    double *c;
    int st;
    if (!out || !in) return grok__fail(GROK_ERR_ARG, "grok_irfft: out or in is NULL");
    if (n < 1) return grok__fail(GROK_ERR_ARG, "grok_irfft: n = %d, want >= 1", n);
    if ((st = grok_fft_plan_create(&pl, n)) != GROK_OK) return st;
    c = (double *)GROK_MALLOC(sizeof(double) * (2 * (size_t)n + GROK__FFT_E * (size_t)grok__fft_work_elems(pl)));
    if (!c) {
        grok_fft_plan_free(pl);
        return grok__fail(GROK_ERR_NOMEM, "grok_irfft: cannot allocate scratch for n = %d", n);
    }
    /* the Hermitian spectrum; the imaginary parts of bins 0 and n/2 only reach the imaginary
       part of the result, which is dropped */
    memcpy(c, in, sizeof(double) * 2 * (size_t)(n / 2 + 1));
    for (int k = 1; 2 * k < n; k++) {
        c[2 * (n - k)] = in[2 * k];
        c[2 * (n - k) + 1] = -in[2 * k + 1];
    }
    grok__fft_many(pl, c, NULL, 1, 1, 0, 1, c + 2 * n);
    for (int j = 0; j < n; j++) out[j] = c[2 * j];
    GROK_FREE(c);
    grok_fft_plan_free(pl);
    return GROK_OK;
}

/* Rotates the complex vector right by s elements with three reversals (no scratch). */
static void grok__fft_roll(double *data, int n, int s)
{
    int lo[3], hi[3];
    lo[0] = 0; hi[0] = n - 1;
    lo[1] = 0; hi[1] = s - 1;
    lo[2] = s; hi[2] = n - 1;
    for (int r = 0; r < 3; r++)
        for (int i = lo[r], j = hi[r]; i < j; i++, j--) {
            double tr = data[2 * i], ti = data[2 * i + 1];
            data[2 * i] = data[2 * j];
            data[2 * i + 1] = data[2 * j + 1];
            data[2 * j] = tr;
            data[2 * j + 1] = ti;
        }
}

GROKDEF int grok_fftshift(double *data, int n)
{
    if (!data || n < 1) return grok__fail(GROK_ERR_ARG, "grok_fftshift: data %s, n = %d (want >= 1)", data ? "given" : "NULL", n);
    grok__fft_roll(data, n, n / 2);
    return GROK_OK;
}

GROKDEF int grok_ifftshift(double *data, int n)
{
    if (!data || n < 1) return grok__fail(GROK_ERR_ARG, "grok_ifftshift: data %s, n = %d (want >= 1)", data ? "given" : "NULL", n);
    grok__fft_roll(data, n, n - n / 2);
    return GROK_OK;
}

GROKDEF double grok_fft_freq(int k, int n)
{
    if (n < 1 || k < 0 || k >= n) {
        grok__fail(GROK_ERR_ARG, "grok_fft_freq: k = %d, n = %d, want n >= 1 and 0 <= k < n", k, n);
        return NAN;
    }
    return (double)(k <= (n - 1) / 2 ? k : k - n) / n;
}

/* ---- Fourier basis of Z_p */

GROKDEF int grok_fourier_basis(double *F, int p)
{
    const double c0 = 1.0 / sqrt((double)p), c1 = sqrt(2.0 / p);
    if (!F) return grok__fail(GROK_ERR_ARG, "grok_fourier_basis: F is NULL");
    if (p < 1 || p > 46340) return grok__fail(GROK_ERR_ARG, "grok_fourier_basis: p = %d, want 1..46340", p);
    for (int x = 0; x < p; x++) F[x] = c0;
    for (int k = 1; 2 * k < p; k++)
        for (int x = 0, idx = 0; x < p; x++, idx = (idx + k) % p) /* idx = k x mod p */
            grok__sincos2pi(idx, p, F + (long)(2 * k - 1) * p + x, F + (long)(2 * k) * p + x);
    for (int r = 1; r < p - (p % 2 == 0); r++)
        for (int x = 0; x < p; x++) F[(long)r * p + x] *= c1;
    if (p % 2 == 0)
        for (int x = 0; x < p; x++) F[(long)(p - 1) * p + x] = x % 2 ? -c0 : c0;
    return GROK_OK;
}

GROKDEF int grok_fourier_basis_name(char *buf, size_t n, int k, int p)
{
    int len;
    if (!buf || n < 1) return grok__fail(GROK_ERR_ARG, "grok_fourier_basis_name: buf is NULL or empty");
    buf[0] = 0;
    if (p < 1 || k < 0 || k >= p) return grok__fail(GROK_ERR_ARG, "grok_fourier_basis_name: k = %d, p = %d, want 0 <= k < p", k, p);
    if (k == 0) len = snprintf(buf, n, "Const");
    else if (k == p - 1 && p % 2 == 0) len = snprintf(buf, n, "cos %d", p / 2);
    else len = snprintf(buf, n, "%s %d", k % 2 ? "cos" : "sin", (k + 1) / 2);
    if (len < 0 || (size_t)len >= n) return grok__fail(GROK_ERR_ARG, "grok_fourier_basis_name: buffer of %zu bytes is too small", n);
    return GROK_OK;
}

/* F @ B for a (p, N) block B, N <= GROK__FB_NC, by parity: with S_x = B_x + B_{p-x} and
   D_x = B_x - B_{p-x} (x = 1..h, h = (p-1)/2), Const, the cosines and for even p the
   alternating row only see [B_0, S_1..S_h, B_{p/2}] and the sines only D_1..D_h, so two
   blocks of about (p/2)^2 coefficients replace one of p^2. */
#define GROK__FB_NC 64 /* columns per block, a multiple of the kernel's 2 VL */

typedef struct {
    int p, h, nc;   /* nc: inputs and rows of the cosine block, 1 + h (+1 for even p) */
    int ncr, nsr;   /* rows of the cosine and sine blocks padded to a multiple of 4 */
    double *gc;     /* (ncr, nc) */
    double *gs;     /* (nsr, h) */
    double *y;      /* (p, GROK__FB_NC): [B_0, S_1..S_h, (B_{p/2}), D_1..D_h] */
    int *rc, *rs;   /* output row of each block row, -1 for the padding */
} grok__fbasis;

/* The two coefficient blocks for p and the scratch y, in one allocation (fb->gc owns it). */
static int grok__fb_init(grok__fbasis *fb, int p, const char *fn)
{
    const double c0 = 1.0 / sqrt((double)p), c1 = sqrt(2.0 / p);
    int h = (p - 1) / 2, nc = 1 + h + (p % 2 == 0), ncr = (nc + 3) / 4 * 4, nsr = (h + 3) / 4 * 4;
    size_t nd = (size_t)ncr * nc + (size_t)nsr * h + (size_t)p * GROK__FB_NC;
    double *mem = (double *)GROK_MALLOC(sizeof(double) * nd + sizeof(int) * (size_t)(ncr + nsr));
    double *root;
    if (!mem) return grok__fail(GROK_ERR_NOMEM, "%s: cannot allocate the basis for p = %d", fn, p);
    fb->p = p; fb->h = h; fb->nc = nc; fb->ncr = ncr; fb->nsr = nsr;
    fb->gc = mem;
    fb->gs = mem + (size_t)ncr * nc;
    fb->y = fb->gs + (size_t)nsr * h;
    fb->rc = (int *)(void *)(mem + nd);
    fb->rs = fb->rc + ncr;
    root = fb->y; /* the p roots exp(2 pi i j/p), before y is used */
    for (int j = 0; j < p; j++) grok__sincos2pi(j, p, root + 2 * j, root + 2 * j + 1);
    memset(fb->gc, 0, sizeof(double) * ((size_t)ncr * nc + (size_t)nsr * h));
    for (int r = 0; r < ncr; r++) fb->rc[r] = -1;
    for (int r = 0; r < nsr; r++) fb->rs[r] = -1;
    for (int x = 0; x < nc; x++) fb->gc[x] = c0; /* Const */
    fb->rc[0] = 0;
    for (int k = 1; k <= h; k++) {
        double *gc = fb->gc + (size_t)k * nc, *gs = fb->gs + (size_t)(k - 1) * h;
        gc[0] = c1;
        for (int x = 1, idx = k; x <= h; x++, idx = (idx + k) % p) {
            gc[x] = c1 * root[2 * idx];
            gs[x - 1] = c1 * root[2 * idx + 1];
        }
        if (p % 2 == 0) gc[nc - 1] = k % 2 ? -c1 : c1; /* cos(pi k) at x = p/2 */
        fb->rc[k] = 2 * k - 1;
        fb->rs[k - 1] = 2 * k;
    }
    if (p % 2 == 0) { /* the alternating row (-1)^x */
        double *gc = fb->gc + (size_t)(nc - 1) * nc;
        for (int x = 0; x < nc - 1; x++) gc[x] = x % 2 ? -c0 : c0;
        gc[nc - 1] = (p / 2) % 2 ? -c0 : c0;
        fb->rc[nc - 1] = p - 1;
    }
    return GROK_OK;
}

/* out rows rmap[r] (r < R; -1 skips) = G (R, K) @ Y (K, GROK__FB_NC), first ncols columns.
   R is a multiple of 4 and Y's columns are zero up to a multiple of 2 VL: the kernel is a
   4 x 2VL tile of vector accumulators. out is double (od) or float (of), row stride ldo. */
static void grok__fb_mul(double *od, float *of, long ldo, const int *rmap, const double *G, int R, int K,
                         const double *Y, int ncols)
{
    const int L = GROK__VL, NC = GROK__FB_NC;
    double t[4][2 * GROK__VL];
    for (int r0 = 0; r0 < R; r0 += 4)
        for (int c0 = 0; c0 < ncols; c0 += 2 * L) {
            const double *g = G + (long)r0 * K, *y = Y + c0;
            grok__vd y0 = GROK__VLD(y), y1 = GROK__VLD(y + L);
            grok__vd a00 = g[0] * y0, a01 = g[0] * y1, a10 = g[K] * y0, a11 = g[K] * y1;
            grok__vd a20 = g[2 * K] * y0, a21 = g[2 * K] * y1, a30 = g[3 * K] * y0, a31 = g[3 * K] * y1;
            for (int k = 1; k < K; k++) {
                double g0 = g[k], g1 = g[K + k], g2 = g[2 * K + k], g3 = g[3 * K + k];
                y0 = GROK__VLD(y + (long)k * NC);
                y1 = GROK__VLD(y + (long)k * NC + L);
                a00 += g0 * y0; a01 += g0 * y1;
                a10 += g1 * y0; a11 += g1 * y1;
                a20 += g2 * y0; a21 += g2 * y1;
                a30 += g3 * y0; a31 += g3 * y1;
            }
            GROK__VST(t[0]) = a00; GROK__VST(t[0] + L) = a01;
            GROK__VST(t[1]) = a10; GROK__VST(t[1] + L) = a11;
            GROK__VST(t[2]) = a20; GROK__VST(t[2] + L) = a21;
            GROK__VST(t[3]) = a30; GROK__VST(t[3] + L) = a31;
            for (int i = 0; i < 4; i++) {
                int w = ncols - c0 < 2 * L ? ncols - c0 : 2 * L;
                long o = (long)rmap[r0 + i] * ldo + c0;
                if (rmap[r0 + i] < 0) continue;
                for (int j = 0; j < w; j++) {
                    if (od) od[o + j] = t[i][j];
                    else of[o + j] = (float)t[i][j];
                }
            }
        }
}

/* out (p, ncols) = F @ X (p, ncols), ncols <= GROK__FB_NC; X is double (xd) or float (xf)
   with row stride ldx, out likewise with ldo. */
static void grok__fb_apply(const grok__fbasis *fb, double *od, float *of, long ldo, const double *xd, const float *xf,
                           long ldx, int ncols)
{
    const int p = fb->p, h = fb->h, nc = fb->nc, NC = GROK__FB_NC;
    const int w = (ncols + 2 * GROK__VL - 1) / (2 * GROK__VL) * (2 * GROK__VL);
    double *y = fb->y;
#define GROK__FB_X(r, c) (xd ? xd[(long)(r) * ldx + (c)] : (double)xf[(long)(r) * ldx + (c)])
    /* cppcheck-suppress nullPointer ; GROK__FB_X reads xd when it is set, else xf */
    for (int c = 0; c < ncols; c++) y[c] = GROK__FB_X(0, c);
    for (int x = 1; x <= h; x++)
        for (int c = 0; c < ncols; c++) {
            /* cppcheck-suppress nullPointer ; GROK__FB_X reads xd when it is set, else xf */
            double a = GROK__FB_X(x, c), b = GROK__FB_X(p - x, c);
            y[(long)x * NC + c] = a + b;
            y[(long)(nc + x - 1) * NC + c] = a - b;
        }
    if (p % 2 == 0)
        for (int c = 0; c < ncols; c++) y[(long)(nc - 1) * NC + c] = GROK__FB_X(p / 2, c);
#undef GROK__FB_X
    for (int r = 0; r < p; r++)
        for (int c = ncols; c < w; c++) y[(long)r * NC + c] = 0;
    grok__fb_mul(od, of, ldo, fb->rc, fb->gc, fb->ncr, nc, y, ncols);
    if (h > 0) grok__fb_mul(od, of, ldo, fb->rs, fb->gs, fb->nsr, h, y + (long)nc * NC, ncols);
}

GROKDEF int grok_fourier_1d(double *out, const double *A, int p, long inner)
{
    grok__fbasis fb;
    int st;
    if (!out || !A) return grok__fail(GROK_ERR_ARG, "grok_fourier_1d: out or A is NULL");
    if (p < 1 || inner < 1 || inner > GROK__LONG_MAX / 8 / p)
        return grok__fail(GROK_ERR_ARG, "grok_fourier_1d: p = %d, inner = %ld, want both >= 1 (and not huge)", p, inner);
    if (grok__overlap(out, sizeof(double) * (size_t)p * (size_t)inner, A, sizeof(double) * (size_t)p * (size_t)inner))
        return grok__fail(GROK_ERR_ARG, "grok_fourier_1d: out overlaps A");
    if ((st = grok__fb_init(&fb, p, "grok_fourier_1d")) != GROK_OK) return st;
    for (long c0 = 0; c0 < inner; c0 += GROK__FB_NC) {
        int nc = inner - c0 < GROK__FB_NC ? (int)(inner - c0) : GROK__FB_NC;
        grok__fb_apply(&fb, out + c0, NULL, inner, A + c0, NULL, inner, nc);
    }
    GROK_FREE(fb.gc);
    return GROK_OK;
}

/* Both 2-D versions, A (p, p, inner) -> out (p, p, inner) as doubles or floats: a block of
   GROK__FB_NC inner columns at a time, the y axis into T (p, p, NC) doubles, then the x axis
   from T into out. */
static int grok__fourier_2d(double *od, float *of, const double *ad, const float *af, int p, long inner, const char *fn)
{
    const size_t es = od ? sizeof(double) : sizeof(float);
    const long NC = GROK__FB_NC, pi = (long)p * inner;
    grok__fbasis fb;
    double *T;
    int st;
    if ((!od && !of) || (!ad && !af)) return grok__fail(GROK_ERR_ARG, "%s: out or A is NULL", fn);
    if (p < 1 || p > 46340 || inner < 1 || inner > GROK__LONG_MAX / 8 / ((long)p * p))
        return grok__fail(GROK_ERR_ARG, "%s: p = %d, inner = %ld, want p in 1..46340, inner >= 1 (and not huge)", fn, p, inner);
    if (grok__overlap(od ? (const void *)od : (const void *)of, es * (size_t)pi * p,
                      ad ? (const void *)ad : (const void *)af, es * (size_t)pi * p))
        return grok__fail(GROK_ERR_ARG, "%s: out overlaps A", fn);
    if ((st = grok__fb_init(&fb, p, fn)) != GROK_OK) return st;
    T = (double *)GROK_MALLOC(sizeof(double) * (size_t)p * p * NC);
    if (!T) {
        GROK_FREE(fb.gc);
        return grok__fail(GROK_ERR_NOMEM, "%s: cannot allocate %ld doubles", fn, (long)p * p * NC);
    }
    for (long c0 = 0; c0 < inner; c0 += NC) {
        int nc = inner - c0 < NC ? (int)(inner - c0) : (int)NC;
        for (long x = 0; x < p; x++) /* T[x, j, :] = sum_y F[j, y] A[x, y, c0:] */
            grok__fb_apply(&fb, T + x * p * NC, NULL, NC, ad ? ad + x * pi + c0 : NULL, af ? af + x * pi + c0 : NULL,
                           inner, nc);
        for (long j = 0; j < p; j++) /* out[i, j, c0:] = sum_x F[i, x] T[x, j, :] */
            grok__fb_apply(&fb, od ? od + j * inner + c0 : NULL, of ? of + j * inner + c0 : NULL, pi, T + j * NC, NULL,
                           p * NC, nc);
    }
    GROK_FREE(T);
    GROK_FREE(fb.gc);
    return GROK_OK;
}

GROKDEF int grok_fourier_2d(double *out, const double *A, int p, long inner)
{
    if (!out || !A) return grok__fail(GROK_ERR_ARG, "grok_fourier_2d: out or A is NULL");
    return grok__fourier_2d(out, NULL, A, NULL, p, inner, "grok_fourier_2d");
}

GROKDEF int grok_fourier_2d_f(float *out, const float *A, int p, long inner)
{
    if (!out || !A) return grok__fail(GROK_ERR_ARG, "grok_fourier_2d_f: out or A is NULL");
    return grok__fourier_2d(NULL, out, NULL, A, p, inner, "grok_fourier_2d_f");
}

/* ---- SVD, least squares */

static double grok__vdot(const double *a, const double *b, int n) /* a . b, a, b (n) */
{
    const int L = GROK__VL;
    int i = 0;
    double s = 0, t[GROK__VL];
    if (n >= 2 * L) {
        grok__vd s0 = GROK__VLD(a) * GROK__VLD(b), s1 = GROK__VLD(a + L) * GROK__VLD(b + L);
        for (i = 2 * L; i + 2 * L <= n; i += 2 * L) {
            s0 += GROK__VLD(a + i) * GROK__VLD(b + i);
            s1 += GROK__VLD(a + i + L) * GROK__VLD(b + i + L);
        }
        GROK__VST(t) = s0 + s1;
        for (int l = 0; l < L; l++) s += t[l];
    }
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void grok__vaxpy(double *y, double alpha, const double *x, int n) /* y += alpha x */
{
    int i = 0;
    for (; i + GROK__VL <= n; i += GROK__VL) GROK__VST(y + i) = GROK__VLD(y + i) + alpha * GROK__VLD(x + i);
    for (; i < n; i++) y[i] += alpha * x[i];
}

static void grok__vrot(double *x, double *y, double c, double s, int n) /* (x, y) <- (c x + s y, c y - s x) */
{
    int i = 0;
    for (; i + GROK__VL <= n; i += GROK__VL) {
        grok__vd a = GROK__VLD(x + i), b = GROK__VLD(y + i);
        GROK__VST(x + i) = c * a + s * b;
        GROK__VST(y + i) = c * b - s * a;
    }
    for (; i < n; i++) {
        double a = x[i], b = y[i];
        x[i] = c * a + s * b;
        y[i] = c * b - s * a;
    }
}

/* Householder reflector (LAPACK's dlarfg) for the vector (alpha, x[0], x[inc], ..) of length
   len+1: overwrites alpha with beta and x with v[1..] so that (I - tau v v^T)(alpha, x) =
   (beta, 0, ..), v[0] = 1; returns tau (0 when x is already zero: no reflection). */
static double grok__house(double *alpha, double *x, int len, long inc)
{
    double xn = 0, a = *alpha, beta, scale;
    for (int i = 0; i < len; i++) xn += x[i * inc] * x[i * inc];
    if (xn == 0) return 0;
    beta = -copysign(sqrt(a * a + xn), a);
    scale = 1 / (a - beta);
    for (int i = 0; i < len; i++) x[i * inc] *= scale;
    *alpha = beta;
    return (beta - a) / beta;
}

/* Applies the reflector stored below W[k][k] (column k, rows k+1..r-1, v[0] = 1) from the left
   to W[k:r, k+1:c]; W is (r, c) row-major, w is scratch (c). Row-wise, so it streams. */
static void grok__house_left(double *W, int r, int c, int k, double tau, double *w)
{
    int nn = c - k - 1;
    if (tau == 0 || nn <= 0) return;
    memcpy(w, W + (long)k * c + k + 1, sizeof(double) * nn);
    for (int i = k + 1; i < r; i++) grok__vaxpy(w, W[(long)i * c + k], W + (long)i * c + k + 1, nn);
    grok__vaxpy(W + (long)k * c + k + 1, -tau, w, nn);
    for (int i = k + 1; i < r; i++) grok__vaxpy(W + (long)i * c + k + 1, -tau * W[(long)i * c + k], w, nn);
}

/* W (r, c), r >= c, to upper bidiagonal d (c), e (c-1) by H_{c-1}..H_0 W G_0..G_{c-2}; the
   reflectors stay in W (H_k below the diagonal in column k, G_k right of the superdiagonal in
   row k), their taus in tauq, taup. */
static void grok__svd_bidiag(double *W, int r, int c, double *d, double *e, double *tauq, double *taup, double *w)
{
    for (int k = 0; k < c; k++) {
        double *wkk = W + (long)k * c + k;
        tauq[k] = grok__house(wkk, wkk + c, r - k - 1, c);
        d[k] = *wkk;
        grok__house_left(W, r, c, k, tauq[k], w);
        if (k + 1 >= c) continue;
        taup[k] = grok__house(wkk + 1, wkk + 2, c - k - 2, 1);
        e[k] = wkk[1];
        if (taup[k] != 0)
            for (int i = k + 1; i < r; i++) { /* row i of W[k+1:, k+1:] times G_k */
                double *wi = W + (long)i * c + k + 1;
                double s = taup[k] * (wi[0] + grok__vdot(wi + 1, wkk + 2, c - k - 2));
                wi[0] -= s;
                grok__vaxpy(wi + 1, -s, wkk + 2, c - k - 2);
            }
    }
}

/* Pt (np, r) = the first np rows of U^T = H_{c-1}..H_0, by backward accumulation (rows t < k
   are still unit rows when H_k is applied); v is scratch (r). */
static void grok__svd_form_u(double *Pt, int np, const double *W, int r, int c, const double *tauq, double *v)
{
    memset(Pt, 0, sizeof(double) * (size_t)np * r);
    for (int t = 0; t < np; t++) Pt[(long)t * r + t] = 1;
    for (int k = c - 1; k >= 0; k--) {
        if (tauq[k] == 0) continue;
        v[0] = 1;
        for (int i = 1; i < r - k; i++) v[i] = W[(long)(k + i) * c + k];
        for (int t = k; t < np; t++) {
            double *row = Pt + (long)t * r + k;
            grok__vaxpy(row, -tauq[k] * grok__vdot(row, v, r - k), v, r - k);
        }
    }
}

/* Qt (c, c) = V^T = G_{c-2}..G_0, likewise; v is scratch (c). */
static void grok__svd_form_v(double *Qt, const double *W, int c, const double *taup, double *v)
{
    memset(Qt, 0, sizeof(double) * (size_t)c * c);
    for (int t = 0; t < c; t++) Qt[(long)t * c + t] = 1;
    for (int k = c - 2; k >= 0; k--) {
        int len = c - k - 1;
        if (taup[k] == 0) continue;
        v[0] = 1;
        for (int i = 1; i < len; i++) v[i] = W[(long)k * c + k + 1 + i];
        for (int t = k + 1; t < c; t++) {
            double *row = Qt + (long)t * c + k + 1;
            grok__vaxpy(row, -taup[k] * grok__vdot(row, v, len), v, len);
        }
    }
}

/* c, s, r with (c s; -s c) (f, g) = (r, 0), r = hypot(f, g) >= 0. */
static void grok__givens(double f, double g, double *c, double *s, double *r)
{
    double h = sqrt(f * f + g * g), inv;
    if (h < 1e-150 || h > 1e150) h = hypot(f, g); /* the squares under- or overflowed */
    if (h == 0) { *c = 1; *s = 0; *r = 0; return; }
    inv = 1 / h;
    *c = f * inv;
    *s = g * inv;
    *r = h;
}

/* Diagonalises the bidiagonal (d, e) of size c by implicit-shift QR (Golub-Kahan steps with
   the Wilkinson shift; zero diagonals are chased out first). Left rotations act on the rows of
   Pt (c rows of length ldp), right ones on the rows of Qt (length ldq); either may be NULL.
   An e is negligible below eps (|d_i| + |d_{i+1}|) or eps ||B||, a d below eps ||B||. */
static int grok__svd_bdsqr(double *d, double *e, int c, double *Pt, int ldp, double *Qt, int ldq)
{
    double bnorm = 0, tol, cs, sn, rr;
    long it = 0, maxit = 6L * c * c + 100;
    int hi = c - 1;
    for (int i = 0; i < c; i++) {
        double v = fabs(d[i]) + (i + 1 < c ? fabs(e[i]) : 0);
        if (v > bnorm) bnorm = v;
    }
    tol = GROK__EPS * bnorm;
#define GROK__SVD_TINY(i) (fabs(e[i]) <= tol || fabs(e[i]) <= GROK__EPS * (fabs(d[i]) + fabs(d[(i) + 1])))
    while (hi > 0) {
        int lo, z = -1;
        if (GROK__SVD_TINY(hi - 1)) { e[hi - 1] = 0; hi--; continue; }
        for (lo = hi - 1; lo > 0 && !GROK__SVD_TINY(lo - 1); lo--) {}
        if (lo > 0) e[lo - 1] = 0;
        if ((it += hi - lo) > maxit) return grok__fail(GROK_ERR_NUMERIC, "grok_svd: no convergence after %ld rotations", it);
        for (int i = lo; i <= hi; i++)
            if (fabs(d[i]) <= tol) z = i;
        if (z >= 0 && z < hi) { /* zero row z: rotate e[z] into d[z+1..hi] from the left */
            double f = e[z];
            d[z] = 0;
            e[z] = 0;
            for (int j = z + 1; j <= hi; j++) {
                grok__givens(d[j], f, &cs, &sn, &rr);
                d[j] = rr;
                if (Pt) grok__vrot(Pt + (long)j * ldp, Pt + (long)z * ldp, cs, sn, ldp);
                if (j < hi) { f = -sn * e[j]; e[j] *= cs; }
            }
        } else if (z == hi) { /* zero last column: rotate e[hi-1] into d[hi-1..lo] from the right */
            double f = e[hi - 1];
            d[hi] = 0;
            e[hi - 1] = 0;
            for (int j = hi - 1; j >= lo; j--) {
                grok__givens(d[j], f, &cs, &sn, &rr);
                d[j] = rr;
                if (Qt) grok__vrot(Qt + (long)j * ldq, Qt + (long)hi * ldq, cs, sn, ldq);
                if (j > lo) { f = -sn * e[j - 1]; e[j - 1] *= cs; }
            }
        } else { /* a Golub-Kahan step on d[lo..hi] */
            double dm = d[hi - 1], dn = d[hi], em = e[hi - 1], el = hi - 1 > lo ? e[hi - 2] : 0;
            double t00 = dm * dm + el * el, t01 = dm * em, t11 = dn * dn + em * em;
            double dl = 0.5 * (t00 - t11), den = dl + copysign(sqrt(dl * dl + t01 * t01), dl);
            double mu = den != 0 ? t11 - t01 * t01 / den : t11; /* eigenvalue of T nearer t11 */
            double f = d[lo] * d[lo] - mu, g = d[lo] * e[lo];
            for (int k = lo; k < hi; k++) {
                grok__givens(f, g, &cs, &sn, &rr); /* columns k, k+1 */
                if (k > lo) e[k - 1] = rr;
                f = cs * d[k] + sn * e[k];
                e[k] = cs * e[k] - sn * d[k];
                g = sn * d[k + 1];
                d[k + 1] *= cs;
                if (Qt) grok__vrot(Qt + (long)k * ldq, Qt + (long)(k + 1) * ldq, cs, sn, ldq);
                grok__givens(f, g, &cs, &sn, &rr); /* rows k, k+1 */
                d[k] = rr;
                f = cs * e[k] + sn * d[k + 1];
                d[k + 1] = cs * d[k + 1] - sn * e[k];
                if (k + 1 < hi) { g = sn * e[k + 1]; e[k + 1] *= cs; }
                if (Pt) grok__vrot(Pt + (long)k * ldp, Pt + (long)(k + 1) * ldp, cs, sn, ldp);
            }
            e[hi - 1] = f;
        }
    }
#undef GROK__SVD_TINY
    return GROK_OK;
}

static void grok__rows_swap(double *a, double *b, int n) /* a, b (n) */
{
    for (int i = 0; i < n; i++) { double t = a[i]; a[i] = b[i]; b[i] = t; }
}

/* Negates row (length n) when its entry of largest magnitude (the first on a tie) is negative;
   returns 1 when it did. */
static int grok__row_sign(double *row, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(row[i]) > fabs(row[best])) best = i;
    if (row[best] >= 0) return 0;
    for (int i = 0; i < n; i++) row[i] = -row[i];
    return 1;
}

GROKDEF int grok_svd(double *U, double *S, double *Vt, const double *A, int m, int n, int full)
{
    /* B = A (tall) or A^T (wide), (r, c) with r >= c: B = P diag(d) Q^T. Pt holds columns of P
       as rows (np of them), Qt those of Q; then U = P, Vt = Q^T for tall A and U = Q, Vt = P^T
       for wide A. The sign convention needs U, so U's factor is formed whenever Vt is. */
    const int wide = m < n, r = wide ? n : m, c = wide ? m : n;
    const int needP = wide ? Vt != NULL : (U || Vt), needQ = wide ? (U || Vt) : Vt != NULL;
    const int np = !needP ? 0 : (full && (wide ? Vt != NULL : U != NULL)) ? r : c;
    const double nd = (double)r * c + (double)np * r + (double)(needQ ? c : 0) * c + 5.0 * r;
    double amax = 0, *mem, *W, *Pt, *Qt, *d, *e, *tauq, *taup, *w;
    int st;
    if (!A) return grok__fail(GROK_ERR_ARG, "grok_svd: A is NULL");
    if (m < 1 || n < 1) return grok__fail(GROK_ERR_ARG, "grok_svd: A is (%d, %d), want both >= 1", m, n);
    mem = nd * sizeof(double) < (double)(GROK__LONG_MAX / 2) ? (double *)GROK_MALLOC(sizeof(double) * (size_t)nd) : NULL;
    if (!mem) return grok__fail(GROK_ERR_NOMEM, "grok_svd: cannot allocate %.0f doubles of work for (%d, %d)", nd, m, n);
    W = mem;
    Pt = W + (size_t)r * c;
    Qt = Pt + (size_t)np * r;
    d = Qt + (size_t)(needQ ? c : 0) * c;
    e = d + r;
    tauq = e + r;
    taup = tauq + r;
    w = taup + r;
    for (long i = 0; i < (long)m * n; i++) {
        double a = fabs(A[i]);
        if (!(a <= GROK__DMAX)) {
            GROK_FREE(mem);
            return grok__fail(GROK_ERR_NUMERIC, "grok_svd: A[%ld] = %g is not finite", i, A[i]);
        }
        if (a > amax) amax = a;
    }
    if (amax == 0) amax = 1;
    for (int i = 0; i < m; i++) /* scaled to max |W| = 1, so no square in the iteration overflows */
        for (int j = 0; j < n; j++) W[wide ? (long)j * c + i : (long)i * c + j] = A[(long)i * n + j] / amax;
    grok__svd_bidiag(W, r, c, d, e, tauq, taup, w);
    if (needP) grok__svd_form_u(Pt, np, W, r, c, tauq, w);
    if (needQ) grok__svd_form_v(Qt, W, c, taup, w);
    st = grok__svd_bdsqr(d, e, c, needP ? Pt : NULL, r, needQ ? Qt : NULL, c);
    if (st != GROK_OK) {
        GROK_FREE(mem);
        return st;
    }
    for (int i = 0; i < c; i++) /* d >= 0, flipping Q's column */
        if (d[i] < 0) {
            d[i] = -d[i];
            if (needQ) for (int j = 0; j < c; j++) Qt[(long)i * c + j] = -Qt[(long)i * c + j];
        }
    for (int i = 0; i < c; i++) { /* descending, by selection sort: at most c row swaps */
        int b = i;
        for (int j = i + 1; j < c; j++)
            if (d[j] > d[b]) b = j;
        if (b == i) continue;
        { double t = d[i]; d[i] = d[b]; d[b] = t; }
        if (needP) grok__rows_swap(Pt + (long)i * r, Pt + (long)b * r, r);
        if (needQ) grok__rows_swap(Qt + (long)i * c, Qt + (long)b * c, c);
    }
    if (wide && needQ) /* U = Q: fix its columns, Vt's rows follow; completion rows of Vt alone */
        for (int i = 0; i < c; i++) {
            if (grok__row_sign(Qt + (long)i * c, c) && needP)
                for (int j = 0; j < r; j++) Pt[(long)i * r + j] = -Pt[(long)i * r + j];
        }
    if (!wide && needP)
        for (int i = 0; i < np; i++) {
            if (grok__row_sign(Pt + (long)i * r, r) && needQ && i < c)
                for (int j = 0; j < c; j++) Qt[(long)i * c + j] = -Qt[(long)i * c + j];
        }
    if (wide && needP)
        for (int i = c; i < np; i++) grok__row_sign(Pt + (long)i * r, r);
    if (S)
        for (int i = 0; i < c; i++) S[i] = d[i] * amax;
    if (!wide) {
        if (U)
            for (int i = 0; i < m; i++)
                for (int t = 0; t < np; t++) U[(long)i * np + t] = Pt[(long)t * r + i];
        if (Vt) memcpy(Vt, Qt, sizeof(double) * (size_t)c * c);
    } else {
        if (U)
            for (int i = 0; i < m; i++)
                for (int t = 0; t < c; t++) U[(long)i * c + t] = Qt[(long)t * c + i];
        if (Vt) memcpy(Vt, Pt, sizeof(double) * (size_t)np * r);
    }
    GROK_FREE(mem);
    return GROK_OK;
}

GROKDEF int grok_lstsq(double *coef, double *r2, const double *X, const double *y, int n, int k)
{
    double *Q, *z, *cn, *w, mean = 0, ss_res = 0, ss_tot = 0;
    if (!coef || !X || !y) return grok__fail(GROK_ERR_ARG, "grok_lstsq: coef, X or y is NULL");
    if (k < 1 || n < k || n > GROK__LONG_MAX / 8 / k)
        return grok__fail(GROK_ERR_ARG, "grok_lstsq: X is (%d, %d), want n >= k >= 1", n, k);
    Q = (double *)GROK_MALLOC(sizeof(double) * ((size_t)n * k + n + 2 * (size_t)k));
    if (!Q) return grok__fail(GROK_ERR_NOMEM, "grok_lstsq: cannot allocate the work for X (%d, %d)", n, k);
    z = Q + (size_t)n * k;
    cn = z + n;
    w = cn + k;
    memcpy(Q, X, sizeof(double) * (size_t)n * k);
    memcpy(z, y, sizeof(double) * (size_t)n);
    for (int j = 0; j < k; j++) cn[j] = 0;
    for (long i = 0; i < (long)n * k; i++) {
        if (!(fabs(X[i]) <= GROK__DMAX)) {
            GROK_FREE(Q);
            return grok__fail(GROK_ERR_NUMERIC, "grok_lstsq: X[%ld] = %g is not finite", i, X[i]);
        }
        cn[i % k] += X[i] * X[i];
    }
    for (int i = 0; i < n; i++)
        if (!(fabs(y[i]) <= GROK__DMAX)) {
            GROK_FREE(Q);
            return grok__fail(GROK_ERR_NUMERIC, "grok_lstsq: y[%d] = %g is not finite", i, y[i]);
        }
    for (int j = 0; j < k; j++) {
        double *qjj = Q + (long)j * k + j, tau = grok__house(qjj, qjj + k, n - j - 1, k), s;
        /* |R_jj| is the distance of column j from the span of the earlier ones */
        if (fabs(*qjj) <= 10.0 * n * GROK__EPS * sqrt(cn[j])) {
            double rjj = *qjj, norm = sqrt(cn[j]);
            GROK_FREE(Q);
            return grok__fail(GROK_ERR_NUMERIC, "grok_lstsq: X (%d, %d) is rank deficient: column %d is a combination of "
                              "the earlier ones to working precision (|R[%d][%d]| = %g, column norm %g)", n, k, j, j, j, fabs(rjj), norm);
        }
        grok__house_left(Q, n, k, j, tau, w);
        s = z[j];
        for (int i = j + 1; i < n; i++) s += Q[(long)i * k + j] * z[i];
        s *= tau;
        z[j] -= s;
        for (int i = j + 1; i < n; i++) z[i] -= s * Q[(long)i * k + j];
    }
    for (int j = k - 1; j >= 0; j--) { /* R coef = (Q^T y)[:k] */
        double s = z[j];
        for (int i = j + 1; i < k; i++) s -= Q[(long)j * k + i] * coef[i];
        coef[j] = s / Q[(long)j * k + j];
    }
    if (r2) { /* a constant y (SS_tot = 0) fitted to rounding counts as SS_res = 0 */
        double ss_y = 0;
        for (int i = 0; i < n; i++) mean += y[i];
        mean /= n;
        for (int i = 0; i < n; i++) {
            double res = y[i] - grok__vdot(X + (long)i * k, coef, k);
            ss_res += res * res;
            ss_tot += (y[i] - mean) * (y[i] - mean);
            ss_y += y[i] * y[i];
        }
        if (ss_tot > 0) *r2 = 1 - ss_res / ss_tot;
        else *r2 = ss_res <= (10.0 * n * GROK__EPS) * (10.0 * n * GROK__EPS) * ss_y ? 1 : 0;
    }
    GROK_FREE(Q);
    return GROK_OK;
}

/* ---- analyses of the seed notebooks */

/* p of a modular-addition model (1 layer, n_ctx 3, d_vocab = d_vocab_out + 1), or 0 + error. */
static int grok__modadd_p(const grok_model *m, const char *fn)
{
    if (!m || !m->weights) { grok__fail(GROK_ERR_ARG, "%s: NULL model", fn); return 0; }
    if (m->cfg.n_layers != 1 || m->cfg.n_ctx != 3 || m->cfg.d_vocab != m->cfg.d_vocab_out + 1 || m->cfg.d_vocab_out < 3) {
        grok__fail(GROK_ERR_ARG, "%s: needs the modular-addition shape (1 layer, n_ctx 3, d_vocab = p+1, p >= 3), "
                   "got %d layers, n_ctx %d, d_vocab %d, d_vocab_out %d", fn, m->cfg.n_layers, m->cfg.n_ctx,
                   m->cfg.d_vocab, m->cfg.d_vocab_out);
        return 0;
    }
    return m->cfg.d_vocab_out;
}

static const float *grok__w(const grok_model *m, const char *name)
{
    const grok_param *pr = grok_model_param(m, name);
    return pr ? m->weights + pr->offset : NULL;
}

GROKDEF int grok_fourier_norms(double *norms, const float *W, int p, int n, int transpose)
{
    double *A, *FA;
    int st;
    if (!norms || !W) return grok__fail(GROK_ERR_ARG, "grok_fourier_norms: norms or W is NULL");
    if (p < 1 || p > 46340 || n < 1 || (long)n > GROK__LONG_MAX / 16 / p)
        return grok__fail(GROK_ERR_ARG, "grok_fourier_norms: p = %d, n = %d", p, n);
    A = GROK__NEW(double, 2 * (size_t)p * n);
    if (!A) return grok__fail(GROK_ERR_NOMEM, "grok_fourier_norms: out of memory");
    FA = A + (size_t)p * n;
    for (long x = 0; x < p; x++)
        for (long j = 0; j < n; j++) A[x * n + j] = transpose ? W[j * p + x] : W[x * n + j];
    if ((st = grok_fourier_1d(FA, A, p, n)) == GROK_OK)
        for (long i = 0; i < p; i++) {
            double s = 0;
            for (long j = 0; j < n; j++) s += FA[i * n + j] * FA[i * n + j];
            norms[i] = s;
        }
    GROK_FREE(A);
    return st;
}

GROKDEF int grok_key_freqs(int *freqs, double *key_share, int *n_key, double *share, const double *norms, int p,
                           double min_share)
{
    int nf = (p - 1) / 2, cnt = 0;
    double tot = 0, *sh;
    if (!freqs || !n_key || !norms) return grok__fail(GROK_ERR_ARG, "grok_key_freqs: freqs, n_key or norms is NULL");
    if (p < 3 || !(min_share >= 0)) return grok__fail(GROK_ERR_ARG, "grok_key_freqs: p = %d (want >= 3), min_share %g", p, min_share);
    sh = GROK__NEW(double, nf);
    if (!sh) return grok__fail(GROK_ERR_NOMEM, "grok_key_freqs: out of memory");
    for (int i = 1; i < p; i++) tot += norms[i];
    for (int k = 1; k <= nf; k++) sh[k - 1] = tot > 0 ? (norms[2 * k - 1] + norms[2 * k]) / tot : 0;
    for (int k = 1; k <= nf; k++) /* insertion by share descending, smaller k first on ties */
        if (sh[k - 1] >= min_share) {
            int j = cnt++;
            while (j > 0 && sh[freqs[j - 1] - 1] < sh[k - 1]) { freqs[j] = freqs[j - 1]; j--; }
            freqs[j] = k;
        }
    if (cnt == 0) { /* none reaches min_share: the largest alone */
        int best = 1;
        for (int k = 2; k <= nf; k++) if (sh[k - 1] > sh[best - 1]) best = k;
        freqs[cnt++] = best;
    }
    *n_key = cnt;
    if (key_share) for (int i = 0; i < cnt; i++) key_share[i] = sh[freqs[i] - 1];
    if (share) memcpy(share, sh, sizeof(double) * (size_t)nf);
    GROK_FREE(sh);
    return GROK_OK;
}

GROKDEF int grok_svd_truncation(double *S, double *err, const float *W, int rows, int cols, int r)
{
    int k = rows < cols ? rows : cols, st;
    double *A, *U, *Vt, *s;
    if (!W || (!S && !err)) return grok__fail(GROK_ERR_ARG, "grok_svd_truncation: W is NULL or no output");
    if (rows < 1 || cols < 1 || r < 0 || r > k || (long)rows * cols > GROK__LONG_MAX / 64)
        return grok__fail(GROK_ERR_ARG, "grok_svd_truncation: W (%d, %d), r = %d", rows, cols, r);
    A = GROK__NEW(double, (size_t)rows * cols + (size_t)rows * k + (size_t)k * cols + k);
    if (!A) return grok__fail(GROK_ERR_NOMEM, "grok_svd_truncation: out of memory");
    U = A + (size_t)rows * cols; Vt = U + (size_t)rows * k; s = Vt + (size_t)k * cols;
    for (long i = 0; i < (long)rows * cols; i++) A[i] = W[i];
    if ((st = grok_svd(U, s, Vt, A, rows, cols, 0)) == GROK_OK) {
        if (S) memcpy(S, s, sizeof(double) * (size_t)k);
        if (err) {
            double tot = 0;
            for (long i = 0; i < rows; i++)
                for (long j = 0; j < cols; j++) {
                    double v = 0;
                    for (long l = r; l < k; l++) v += U[i * k + l] * s[l] * Vt[l * cols + j];
                    tot += fabs(v);
                }
            *err = tot / ((double)rows * cols);
        }
    }
    GROK_FREE(A);
    return st;
}

GROKDEF int grok_dominant_freq(double *amplitude, double *freq, double *phase, const double *x, int n)
{
    double *X, best = -1;
    int j = 1, st;
    if (!amplitude || !freq || !phase || !x) return grok__fail(GROK_ERR_ARG, "grok_dominant_freq: NULL argument");
    if (n < 2 || n > (1 << 27)) return grok__fail(GROK_ERR_ARG, "grok_dominant_freq: n = %d, want 2..2^27", n);
    X = GROK__NEW(double, 2 * (size_t)n);
    if (!X) return grok__fail(GROK_ERR_NOMEM, "grok_dominant_freq: out of memory");
    for (int i = 0; i < n; i++) { X[2 * i] = x[i]; X[2 * i + 1] = 0; }
    if ((st = grok_fft_axis(X, 1, &n, 0, 0)) == GROK_OK) {
        for (int i = 1; i < n; i++) { /* np.argmax(amplitudes[1:]) + 1: the first maximum */
            double a = hypot(X[2 * i], X[2 * i + 1]);
            if (a > best) { best = a; j = i; }
        }
        if (j > n / 2.0) j = n - j; /* "handle aliasing for real-valued input" */
        *freq = (double)j / n;
        *amplitude = hypot(X[2 * j], X[2 * j + 1]) / (n / 2.0);
        *phase = atan2(X[2 * j + 1], X[2 * j]);
    }
    GROK_FREE(X);
    return st;
}

/* Stable ascending argsort of v (n) by value into idx (insertion sort: n is a matrix side). */
static void grok__argsort(int *idx, const double *v, int n)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && v[idx[j - 1]] > v[i]) { idx[j] = idx[j - 1]; j--; }
        idx[j] = i;
    }
}

GROKDEF int grok_reduce_matrix_fft(double *out, const double *A, int rows, int cols, int n_top)
{
    double *X, *Y, *mag;
    int *idx, st, keep;
    if (!out || !A) return grok__fail(GROK_ERR_ARG, "grok_reduce_matrix_fft: out or A is NULL");
    if (rows < 1 || cols < 1 || n_top < 0 || (long)rows * cols > (1L << 26))
        return grok__fail(GROK_ERR_ARG, "grok_reduce_matrix_fft: A (%d, %d), n_top = %d", rows, cols, n_top);
    X = GROK__NEW(double, 4 * (size_t)rows * cols + rows + cols);
    idx = GROK__NEW(int, rows + cols);
    if (!X || !idx) { GROK_FREE(X); GROK_FREE(idx); return grok__fail(GROK_ERR_NOMEM, "grok_reduce_matrix_fft: out of memory"); }
    Y = X + 2 * (size_t)rows * cols; mag = Y + 2 * (size_t)rows * cols;
    for (long i = 0; i < (long)rows * cols; i++) { X[2 * i] = A[i]; X[2 * i + 1] = 0; Y[2 * i] = Y[2 * i + 1] = 0; }
    if ((st = grok_fft2(X, rows, cols, 0)) == GROK_OK) {
        for (int i = 0; i < rows; i++) mag[i] = hypot(X[2 * (long)i * cols], X[2 * (long)i * cols + 1]);
        grok__argsort(idx, mag, rows);
        keep = 2 * n_top + 1 < rows ? 2 * n_top + 1 : rows;
        for (int t = rows - keep; t < rows; t++) {
            long e = (long)idx[t] * cols;
            Y[2 * e] = X[2 * e]; Y[2 * e + 1] = X[2 * e + 1];
        }
        for (int j = 0; j < cols; j++) mag[j] = hypot(X[2 * j], X[2 * j + 1]);
        grok__argsort(idx, mag, cols);
        keep = 2 * n_top + 1 < cols ? 2 * n_top + 1 : cols;
        for (int t = cols - keep; t < cols; t++) { Y[2 * idx[t]] = X[2 * idx[t]]; Y[2 * idx[t] + 1] = X[2 * idx[t] + 1]; }
        if ((st = grok_fft2(Y, rows, cols, 1)) == GROK_OK)
            for (long i = 0; i < (long)rows * cols; i++) out[i] = Y[2 * i];
    }
    GROK_FREE(X); GROK_FREE(idx);
    return st;
}

static int grok__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

GROKDEF int grok_gini(double *gini, const double *x, int n)
{
    double *c, l1 = 0, s = 0;
    if (!gini || !x) return grok__fail(GROK_ERR_ARG, "grok_gini: gini or x is NULL");
    if (n < 1) return grok__fail(GROK_ERR_ARG, "grok_gini: n = %d", n);
    for (int i = 0; i < n; i++) {
        if (!(x[i] >= 0 && x[i] <= GROK__DMAX)) return grok__fail(GROK_ERR_ARG, "grok_gini: x[%d] = %g, want finite >= 0", i, x[i]);
        l1 += x[i];
    }
    if (!(l1 > 0)) return grok__fail(GROK_ERR_ARG, "grok_gini: x is all zero");
    c = GROK__NEW(double, n);
    if (!c) return grok__fail(GROK_ERR_NOMEM, "grok_gini: out of memory");
    memcpy(c, x, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof(double), grok__cmp_double);
    for (int k = 1; k <= n; k++) s += (c[k - 1] / l1) * ((n - k + 0.5) / n);
    *gini = 1 - 2 * s;
    GROK_FREE(c);
    return GROK_OK;
}

GROKDEF int grok_weights_sumsq(double *sumsq, const grok_model *m)
{
    double s = 0;
    if (!sumsq || !m || !m->weights) return grok__fail(GROK_ERR_ARG, "grok_weights_sumsq: NULL argument");
    for (size_t i = 0; i < m->num_parameters; i++) s += (double)m->weights[i] * m->weights[i];
    *sumsq = s;
    return GROK_OK;
}

GROKDEF int grok_modadd_group_by_sum(int *rows, int p)
{
    int *cnt;
    if (!rows) return grok__fail(GROK_ERR_ARG, "grok_modadd_group_by_sum: rows is NULL");
    if (p < 1 || p > 46340) return grok__fail(GROK_ERR_ARG, "grok_modadd_group_by_sum: p = %d", p);
    cnt = GROK__NEW(int, p);
    if (!cnt) return grok__fail(GROK_ERR_NOMEM, "grok_modadd_group_by_sum: out of memory");
    memset(cnt, 0, sizeof(int) * (size_t)p);
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            int c = (a + b) % p;
            rows[(long)c * p + cnt[c]++] = a * p + b;
        }
    GROK_FREE(cnt);
    return GROK_OK;
}

GROKDEF int grok_relu_quadratic_fit(double *coef, double *r2, double *r2_linear, int p, int k, double A)
{
    double *F, *X, *X3, *y, c3[3];
    long n = (long)p * p;
    int st, idx = 2 * k - 1;
    if (!coef || !r2) return grok__fail(GROK_ERR_ARG, "grok_relu_quadratic_fit: coef or r2 is NULL");
    if (p < 3 || p > 4096 || k < 1 || k > (p - 1) / 2 || !(fabs(A) <= GROK__DMAX))
        return grok__fail(GROK_ERR_ARG, "grok_relu_quadratic_fit: p = %d, k = %d (want 1..(p-1)/2), A = %g", p, k, A);
    F = GROK__NEW(double, (size_t)p * p + 8 * (size_t)n);
    if (!F) return grok__fail(GROK_ERR_NOMEM, "grok_relu_quadratic_fit: out of memory");
    X = F + (size_t)p * p; X3 = X + 4 * n; y = X3 + 3 * n;
    grok_fourier_basis(F, p);
    for (long x = 0; x < p; x++)
        for (long z = 0; z < p; z++) { /* fourier_2d_basis_term(i, j)[x, z] = F[i, x] F[j, z] */
            long r = x * p + z;
            double f0 = F[x], fx = F[idx * p + x], fz = F[idx * p + z], g0 = F[z], v = A + fx + fz;
            X[4 * r + 0] = X3[3 * r + 0] = f0 * g0;
            X[4 * r + 1] = X3[3 * r + 1] = fx * g0;
            X[4 * r + 2] = X3[3 * r + 2] = f0 * fz;
            X[4 * r + 3] = fx * fz;
            y[r] = v > 0 ? v : 0;
        }
    st = grok_lstsq(coef, r2, X, y, (int)n, 4);
    if (st == GROK_OK && r2_linear) st = grok_lstsq(c3, r2_linear, X3, y, (int)n, 3);
    GROK_FREE(F);
    return st;
}

GROKDEF int grok_modadd_wlogit(double *W_logit, double *W_logit_fourier, const grok_model *m)
{
    const float *Wout, *WU;
    double *Wl, *F = NULL;
    int p, M, C;
    if (!m || !m->weights || (!W_logit && !W_logit_fourier)) return grok__fail(GROK_ERR_ARG, "grok_modadd_wlogit: NULL argument");
    if (m->cfg.n_layers != 1) return grok__fail(GROK_ERR_ARG, "grok_modadd_wlogit: needs a one-layer model");
    p = m->cfg.d_vocab_out; M = m->cfg.d_mlp; C = m->cfg.d_model;
    Wout = grok__w(m, "blocks.0.mlp.W_out"); WU = grok__w(m, "unembed.W_U");
    if (!Wout || !WU) return grok__fail(GROK_ERR_ARG, "grok_modadd_wlogit: no W_out or W_U");
    Wl = W_logit ? W_logit : GROK__NEW(double, (size_t)M * p);
    if (W_logit_fourier) F = GROK__NEW(double, (size_t)p * p);
    if (!Wl || (W_logit_fourier && !F)) {
        if (!W_logit) GROK_FREE(Wl);
        GROK_FREE(F);
        return grok__fail(GROK_ERR_NOMEM, "grok_modadd_wlogit: out of memory");
    }
    for (long i = 0; i < M; i++)
        for (long z = 0; z < p; z++) {
            double s = 0;
            for (long c = 0; c < C; c++) s += (double)Wout[i * C + c] * WU[c * p + z];
            Wl[i * p + z] = s;
        }
    if (W_logit_fourier) {
        grok_fourier_basis(F, p);
        for (long i = 0; i < M; i++)
            for (long j = 0; j < p; j++)
                W_logit_fourier[i * p + j] = grok__vdot(Wl + i * p, F + j * p, p);
    }
    if (!W_logit) GROK_FREE(Wl);
    GROK_FREE(F);
    return GROK_OK;
}

GROKDEF int grok_wlogit_fourier_norms(double *norms, const grok_model *m)
{
    double *Wf;
    int st, p, M;
    if (!norms || !m) return grok__fail(GROK_ERR_ARG, "grok_wlogit_fourier_norms: NULL argument");
    p = m->cfg.d_vocab_out; M = m->cfg.d_mlp;
    Wf = GROK__NEW(double, (size_t)M * p);
    if (!Wf) return grok__fail(GROK_ERR_NOMEM, "grok_wlogit_fourier_norms: out of memory");
    if ((st = grok_modadd_wlogit(NULL, Wf, m)) == GROK_OK)
        for (long j = 0; j < p; j++) {
            double s = 0;
            for (long i = 0; i < M; i++) s += Wf[i * p + j] * Wf[i * p + j];
            norms[j] = sqrt(s);
        }
    GROK_FREE(Wf);
    return st;
}

static int *grok__modadd_tokens(int p)
{
    int *tok = GROK__NEW(int, 3 * (size_t)p * p);
    if (!tok) return NULL;
    for (long r = 0; r < (long)p * p; r++) { tok[3 * r] = (int)(r / p); tok[3 * r + 1] = (int)(r % p); tok[3 * r + 2] = p; }
    return tok;
}

GROKDEF int grok_modadd_run(float *logits, float *acts, float *resid_mid, double *to_a, double *to_b, grok_model *m)
{
    int p = grok__modadd_p(m, "grok_modadd_run"), *tok, st, H, M, C;
    long n;
    float *lg = NULL;
    char filter[96] = "";
    grok_cache c;
    const grok_tensor *t;
    if (!p) return GROK_ERR_ARG;
    if (!m->acts) return grok__fail(GROK_ERR_ARG, "grok_modadd_run: model has no activation buffers");
    H = m->cfg.n_heads; M = m->cfg.d_mlp; C = m->cfg.d_model; n = (long)p * p;
    if (acts) strcat(filter, "mlp.hook_post,");
    if (resid_mid) strcat(filter, "hook_resid_mid,");
    if (to_a || to_b || !filter[0]) strcat(filter, "attn.hook_pattern,");
    tok = grok__modadd_tokens(p);
    if (logits) lg = GROK__NEW(float, 3 * (size_t)n * p);
    if (!tok || (logits && !lg)) { GROK_FREE(tok); GROK_FREE(lg); return grok__fail(GROK_ERR_NOMEM, "grok_modadd_run: out of memory"); }
    st = grok_cache_run(&c, m, tok, (int)n, filter, lg);
    GROK_FREE(tok);
    if (st != GROK_OK) { GROK_FREE(lg); return st; }
    if (logits)
        for (long r = 0; r < n; r++) memcpy(logits + r * p, lg + (3 * r + 2) * p, sizeof(float) * (size_t)p);
    GROK_FREE(lg);
    if (acts && (t = grok_cache_get(&c, "blocks.0.mlp.hook_post")) != NULL)
        for (long r = 0; r < n; r++) memcpy(acts + r * M, t->data + (3 * r + 2) * M, sizeof(float) * (size_t)M);
    else if (acts) st = GROK_ERR_ARG;
    if (resid_mid && (t = grok_cache_get(&c, "blocks.0.hook_resid_mid")) != NULL)
        for (long r = 0; r < n; r++) memcpy(resid_mid + r * C, t->data + (3 * r + 2) * C, sizeof(float) * (size_t)C);
    else if (resid_mid) st = GROK_ERR_ARG;
    if ((to_a || to_b) && (t = grok_cache_get(&c, "blocks.0.attn.hook_pattern")) != NULL) {
        for (long r = 0; r < n; r++) /* pattern (B, H, T, T): query 2 ('='), key 0 (a) or 1 (b) */
            for (long h = 0; h < H; h++) {
                const float *q = t->data + ((r * H + h) * 3 + 2) * 3;
                if (to_a) to_a[h * n + r] = q[0];
                if (to_b) to_b[h * n + r] = q[1];
            }
    } else if (to_a || to_b) st = GROK_ERR_ARG;
    grok_cache_free(&c);
    return st;
}

GROKDEF int grok_grids_fourier(double *out, const double *grids, int n, int p)
{
    int st = GROK_OK;
    if (!out || !grids) return grok__fail(GROK_ERR_ARG, "grok_grids_fourier: out or grids is NULL");
    if (n < 1 || p < 1 || p > 46340) return grok__fail(GROK_ERR_ARG, "grok_grids_fourier: n = %d, p = %d", n, p);
    for (long g = 0; g < n && st == GROK_OK; g++) st = grok_fourier_2d(out + g * p * p, grids + g * p * p, p, 1);
    return st;
}

/* Sum of squares of neuron j's nine const/linear/quadratic terms of frequency k (rows and
   columns 0, 2k-1, 2k) in its 2-D spectrum X (p, p, M). */
static double grok__freq_terms_sq(const double *X, long p, long M, long j, long k)
{
    const long id[3] = {0, 2 * k - 1, 2 * k};
    double s = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) { double v = X[(id[a] * p + id[b]) * M + j]; s += v * v; }
    return s;
}

GROKDEF int grok_neuron_freqs(int *freq, double *frac, double *acts_fourier, const float *acts, int p, int M,
                              double min_frac)
{
    double *A, *X;
    long n = (long)p * p;
    int st, nf = (p - 1) / 2;
    if (!freq || !frac || !acts) return grok__fail(GROK_ERR_ARG, "grok_neuron_freqs: freq, frac or acts is NULL");
    if (p < 3 || p > 4096 || M < 1 || (long)M > GROK__LONG_MAX / 16 / n)
        return grok__fail(GROK_ERR_ARG, "grok_neuron_freqs: p = %d, M = %d", p, M);
    A = GROK__NEW(double, (size_t)n * M * (acts_fourier ? 1 : 2));
    if (!A) return grok__fail(GROK_ERR_NOMEM, "grok_neuron_freqs: out of memory");
    X = acts_fourier ? acts_fourier : A + (size_t)n * M;
    for (long j = 0; j < M; j++) { /* centre: subtract the mean over the p*p inputs (seed 004) */
        double mean = 0;
        for (long r = 0; r < n; r++) mean += acts[r * M + j];
        mean /= n;
        for (long r = 0; r < n; r++) A[r * M + j] = acts[r * M + j] - mean;
    }
    if ((st = grok_fourier_2d(X, A, p, M)) == GROK_OK)
        for (long j = 0; j < M; j++) {
            double tot = 0, best = -1;
            int bk = 1;
            for (long r = 0; r < n; r++) tot += X[r * M + j] * X[r * M + j];
            for (int k = 1; k <= nf; k++) {
                double s = grok__freq_terms_sq(X, p, M, j, k);
                if (s > best) { best = s; bk = k; } /* .max(0): the first maximum */
            }
            frac[j] = tot > 0 ? best / tot : 0;
            freq[j] = frac[j] < min_frac ? -1 : bk;
        }
    GROK_FREE(A);
    return st;
}

GROKDEF int grok_project_onto_freq(double *out, const double *X, int p, long n, int k)
{
    double *F, *R, *c;
    long id[3];
    if (!out || !X) return grok__fail(GROK_ERR_ARG, "grok_project_onto_freq: out or X is NULL");
    if (p < 3 || p > 4096 || n < 1 || k < 1 || k > (p - 1) / 2 || n > GROK__LONG_MAX / 64 / p)
        return grok__fail(GROK_ERR_ARG, "grok_project_onto_freq: p = %d, n = %ld, k = %d (want 1..(p-1)/2)", p, n, k);
    F = GROK__NEW(double, (size_t)p * p + 3 * (size_t)p * n + 9 * (size_t)n);
    if (!F) return grok__fail(GROK_ERR_NOMEM, "grok_project_onto_freq: out of memory");
    R = F + (size_t)p * p; c = R + 3 * (size_t)p * n;
    grok_fourier_basis(F, p);
    id[0] = 0; id[1] = 2 * k - 1; id[2] = 2 * k;
    memset(R, 0, sizeof(double) * 3 * (size_t)p * n);
    memset(c, 0, sizeof(double) * 9 * (size_t)n);
    for (int a = 0; a < 3; a++) /* R[a, y, :] = sum_x F[id_a, x] X[x, y, :] */
        for (long x = 0; x < p; x++) {
            double f = F[id[a] * p + x];
            for (long y = 0; y < p; y++)
                for (long j = 0; j < n; j++) R[(a * p + y) * n + j] += f * X[(x * p + y) * n + j];
        }
    for (int a = 0; a < 3; a++) /* c[a, b, :] = sum_y F[id_b, y] R[a, y, :] */
        for (int b = 0; b < 3; b++)
            for (long y = 0; y < p; y++) {
                double f = F[id[b] * p + y];
                for (long j = 0; j < n; j++) c[(a * 3 + b) * n + j] += f * R[(a * p + y) * n + j];
            }
    for (long x = 0; x < p; x++)
        for (long y = 0; y < p; y++)
            for (long j = 0; j < n; j++) {
                double s = 0;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) s += c[(a * 3 + b) * n + j] * F[id[a] * p + x] * F[id[b] * p + y];
                out[(x * p + y) * n + j] = s;
            }
    GROK_FREE(F);
    return GROK_OK;
}

/* cos_dir, sin_dir (p*p) = unit cos(w s), sin(w s) over the pairs, s = sums[r] in [0, p), or
   a + b when sums is NULL; arguments checked by the caller. */
static void grok__trig_dirs(double *cos_dir, double *sin_dir, int p, int k, const int *sums)
{
    double nc = 0, ns = 0;
    long n = (long)p * p;
    for (long r = 0; r < n; r++) { /* the angle reduced in integers: w s = 2 pi (k s mod p) / p */
        double t = 2 * 3.14159265358979323846 * (double)(((long)k * (sums ? sums[r] : r / p + r % p)) % p) / p;
        cos_dir[r] = cos(t); sin_dir[r] = sin(t);
        nc += cos_dir[r] * cos_dir[r]; ns += sin_dir[r] * sin_dir[r];
    }
    nc = sqrt(nc); ns = sqrt(ns);
    for (long r = 0; r < n; r++) { cos_dir[r] /= nc; sin_dir[r] /= ns; }
}

GROKDEF int grok_trig_sum_directions(double *cos_dir, double *sin_dir, int p, int k)
{
    if (!cos_dir || !sin_dir) return grok__fail(GROK_ERR_ARG, "grok_trig_sum_directions: NULL output");
    if (p < 3 || p > 46340 || k < 1 || k > (p - 1) / 2)
        return grok__fail(GROK_ERR_ARG, "grok_trig_sum_directions: p = %d, k = %d (want 1..(p-1)/2)", p, k);
    grok__trig_dirs(cos_dir, sin_dir, p, k, NULL);
    return GROK_OK;
}

GROKDEF int grok_logits_loss(double *loss, const double *logits, const int *labels, int n, int p, const int *rows,
                             int n_rows)
{
    double s = 0;
    int cnt = rows ? n_rows : n;
    if (!loss || !logits || !labels) return grok__fail(GROK_ERR_ARG, "grok_logits_loss: NULL argument");
    if (n < 1 || p < 1 || cnt < 1) return grok__fail(GROK_ERR_ARG, "grok_logits_loss: n = %d, p = %d, %d rows", n, p, cnt);
    int used = 0;
    for (int i = 0; i < cnt; i++) {
        int r = rows ? rows[i] : i;
        const double *l;
        double mx, se = 0;
        if (r < 0 || r >= n || labels[r] < -1 || labels[r] >= p)
            return grok__fail(GROK_ERR_ARG, "grok_logits_loss: row %d or its label out of range", r);
        if (labels[r] == -1) continue;
        used++;
        l = logits + (long)r * p;
        mx = l[0];
        for (int j = 1; j < p; j++) if (l[j] > mx) mx = l[j];
        for (int j = 0; j < p; j++) se += exp(l[j] - mx);
        s += mx + log(se) - l[labels[r]];
    }
    if (!used) return grok__fail(GROK_ERR_ARG, "grok_logits_loss: no row with a label");
    *loss = s / used;
    return GROK_OK;
}

/* The task an analysis runs on: task, or modular addition (built into own) when it is NULL. */
static int grok__task_or_add(const grok_modtask **out, const grok_modtask *task, grok_modtask *own, int p, const char *who)
{
    memset(own, 0, sizeof *own);
    *out = task;
    if (task) {
        if (task->p != p || !task->labels || !task->sums)
            return grok__fail(GROK_ERR_ARG, "%s: the task is for p = %d, the model's p is %d", who, task->p, p);
        return GROK_OK;
    }
    *out = own;
    return grok_modtask_init(own, GROK_OP_ADD, p, 0, 0, GROK_DIRS_SUM) != GROK_OK
               ? grok__fail(GROK_ERR_NOMEM, "%s: out of memory", who) : GROK_OK;
}

/* P (n, cols) = projection of every column of L (n, cols) onto the unit trig-sum directions
   cos/sin(w s) (s = sums, grok_modtask's) of the nf frequencies (mutually orthogonal when s is a
   + b, so the projections add; for other s the sum of the projections is seed 001's formula). One pass over L makes all
   2 nf dot products, one pass writes P; every sum runs in the order of the plain loops (rows
   ascending; then frequency, cos before sin). */
static int grok__trig_project(double *P, const double *L, int p, long cols, const int *freqs, int nf, const int *sums)
{
    long n = (long)p * p, r, j;
    int nd = 2 * nf, q, st = GROK_OK;
    double *d = GROK__NEW(double, (size_t)nd * n + (size_t)nd * cols + 1), *dot;
    if (!d) return grok__fail(GROK_ERR_NOMEM, "trig-sum projection: out of memory");
    dot = d + (size_t)nd * n;
    for (q = 0; q < nf; q++) grok__trig_dirs(d + 2 * q * n, d + (2 * q + 1) * n, p, freqs[q], sums);
    memset(dot, 0, sizeof(double) * (size_t)nd * cols);
    for (r = 0; r < n && st == GROK_OK; r++)
        for (q = 0; q < nd; q++) {
            const double v = d[q * n + r], *GROK__RESTRICT Lr = L + r * cols;
            double *GROK__RESTRICT dq = dot + q * cols;
            for (j = 0; j < cols; j++) dq[j] += v * Lr[j];
        }
    for (r = 0; r < n && st == GROK_OK; r++) {
        double *GROK__RESTRICT Pr = P + r * cols;
        memset(Pr, 0, sizeof(double) * (size_t)cols);
        for (q = 0; q < nd; q++) {
            const double v = d[q * n + r], *GROK__RESTRICT dq = dot + q * cols;
            for (j = 0; j < cols; j++) Pr[j] += dq[j] * v;
        }
    }
    GROK_FREE(d);
    return st;
}

/* seed 004's bias correction: X += mean over the n inputs of (orig - X), per output column;
   colsum (cols) is scratch. Rows in the outer loop; each column's sum in row order. */
static void grok__bias_correct(double *X, const double *orig, long n, long cols, double *colsum)
{
    long r, j;
    memset(colsum, 0, sizeof(double) * (size_t)cols);
    for (r = 0; r < n; r++)
        for (j = 0; j < cols; j++) colsum[j] += orig[r * cols + j] - X[r * cols + j];
    for (j = 0; j < cols; j++) colsum[j] /= n;
    for (r = 0; r < n; r++)
        for (j = 0; j < cols; j++) X[r * cols + j] += colsum[j];
}

/* grok_modadd_restricted's work on checked arguments, with the task's labels and sums;
   work holds 2 p^3 + p doubles (the progress measures keep theirs from one evaluation to the
   next): the logits as doubles, which become the excluded logits E = L - P in place, and their
   projection P, which becomes the restricted logits P + mean(E) (the bias correction: the
   mean of L - P per column). */
static int grok__modadd_restricted_in(double *restricted_loss, double *excluded_loss, double *restricted,
                                      double *excluded, const float *logits, int p, const int *freqs, int nf,
                                      const int *train_rows, int n_train, const grok_modtask *task, double *work)
{
    long n = (long)p * p, np = n * p, r, j;
    double *E = work, *R = work + np, *mean = work + 2 * np;
    int st;
    for (r = 0; r < np; r++) E[r] = logits[r];
    if ((st = grok__trig_project(R, E, p, p, freqs, nf, task->sums)) != GROK_OK) return st;
    memset(mean, 0, sizeof(double) * (size_t)p);
    for (r = 0; r < n; r++)
        for (j = 0; j < p; j++) {
            E[r * p + j] -= R[r * p + j];
            mean[j] += E[r * p + j];
        }
    for (j = 0; j < p; j++) mean[j] /= n;
    for (r = 0; r < n; r++)
        for (j = 0; j < p; j++) R[r * p + j] += mean[j];
    if (restricted) memcpy(restricted, R, sizeof(double) * (size_t)np);
    if (excluded) memcpy(excluded, E, sizeof(double) * (size_t)np);
    if (restricted_loss && (st = grok_logits_loss(restricted_loss, R, task->labels, (int)n, p, NULL, 0)) != GROK_OK) return st;
    if (excluded_loss) st = grok_logits_loss(excluded_loss, E, task->labels, (int)n, p, train_rows, n_train);
    return st;
}

GROKDEF int grok_modadd_restricted(double *restricted_loss, double *excluded_loss, double *restricted,
                                   double *excluded, const float *logits, int p, const int *freqs, int nf,
                                   const int *train_rows, int n_train, const grok_modtask *task)
{
    long n = (long)p * p;
    double *work;
    grok_modtask own;
    const grok_modtask *tk;
    int st;
    if (!logits || !freqs) return grok__fail(GROK_ERR_ARG, "grok_modadd_restricted: logits or freqs is NULL");
    if (p < 3 || p > 4096 || nf < 0 || nf > (p - 1) / 2 || (train_rows && n_train < 1))
        return grok__fail(GROK_ERR_ARG, "grok_modadd_restricted: p = %d, nf = %d, n_train = %d", p, nf, n_train);
    for (int f = 0; f < nf; f++) {
        if (freqs[f] < 1 || freqs[f] > (p - 1) / 2)
            return grok__fail(GROK_ERR_ARG, "grok_modadd_restricted: frequency %d outside 1..%d", freqs[f], (p - 1) / 2);
        for (int g = 0; g < f; g++)
            if (freqs[f] == freqs[g]) return grok__fail(GROK_ERR_ARG, "grok_modadd_restricted: frequency %d twice", freqs[f]);
    }
    for (int i = 0; train_rows && i < n_train; i++)
        if (train_rows[i] < 0 || train_rows[i] >= n)
            return grok__fail(GROK_ERR_ARG, "grok_modadd_restricted: train row %d outside [0, %ld)", train_rows[i], n);
    if ((st = grok__task_or_add(&tk, task, &own, p, "grok_modadd_restricted")) != GROK_OK) return st;
    work = GROK__NEW(double, 2 * (size_t)n * p + p);
    if (!work) st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_restricted: out of memory");
    else st = grok__modadd_restricted_in(restricted_loss, excluded_loss, restricted, excluded, logits, p, freqs, nf,
                                         train_rows, n_train, tk, work);
    GROK_FREE(work);
    grok_modtask_free(&own);
    return st;
}

GROKDEF int grok_modadd_neuron_losses(double *excluded_loss, double *restricted_loss, double *no_always_loss,
                                      double *ablated, const grok_model *m, const float *acts, const float *resid_mid,
                                      const float *logits, const int *neuron_freq, const int *cluster_freqs, int nc,
                                      const int *freqs, int nf, const int *train_rows, int n_train,
                                      const grok_modtask *task)
{
    int p = grok__modadd_p(m, "grok_modadd_neuron_losses"), M, C, st = GROK_OK;
    const int *lab;
    grok_modtask own;
    const grok_modtask *tk;
    long n;
    double *A = NULL, *Wl = NULL, *orig = NULL, *contrib = NULL, *tmp = NULL, *sel = NULL;
    const float *Wout, *bout, *WU, *bU;
    if (!p) return GROK_ERR_ARG;
    if (!acts || !logits) return grok__fail(GROK_ERR_ARG, "grok_modadd_neuron_losses: acts or logits is NULL");
    if (excluded_loss && (!resid_mid || !freqs || nf < 0 || nf > (p - 1) / 2))
        return grok__fail(GROK_ERR_ARG, "grok_modadd_neuron_losses: the excluded loss needs resid_mid and 0..(p-1)/2 freqs");
    if ((restricted_loss || no_always_loss || ablated) && (!neuron_freq || (nc > 0 && !cluster_freqs) || nc < 0))
        return grok__fail(GROK_ERR_ARG, "grok_modadd_neuron_losses: the cluster losses need neuron_freq and cluster_freqs");
    if ((st = grok__task_or_add(&tk, task, &own, p, "grok_modadd_neuron_losses")) != GROK_OK) return st;
    lab = tk->labels;
    M = m->cfg.d_mlp; C = m->cfg.d_model; n = (long)p * p;
    Wout = grok__w(m, "blocks.0.mlp.W_out"); bout = grok__w(m, "blocks.0.mlp.b_out");
    WU = grok__w(m, "unembed.W_U"); bU = grok__w(m, "unembed.b_U");
    A = GROK__NEW(double, 2 * (size_t)n * M);
    Wl = GROK__NEW(double, (size_t)M * p);
    orig = GROK__NEW(double, (size_t)n * p * 2 + p); /* orig, tmp, a column sum */
    if (!A || !Wl || !orig || !Wout || !WU) { st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_neuron_losses: out of memory"); goto done; }
    tmp = orig + (size_t)n * p;
    for (long i = 0; i < n * M; i++) A[i] = acts[i];
    for (long i = 0; i < n * p; i++) orig[i] = logits[i];
    if (excluded_loss) {
        double *P = A + (size_t)n * M, *res = GROK__NEW(double, C);
        if (!res) { st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_neuron_losses: out of memory"); goto done; }
        if ((st = grok__trig_project(P, A, p, M, freqs, nf, tk->sums)) == GROK_OK) {
            for (long r = 0; r < n; r++) { /* (acts - P) @ W_out + b_out + resid_mid, then @ W_U + b_U */
                for (long c = 0; c < C; c++) res[c] = (double)resid_mid[r * C + c] + (bout ? bout[c] : 0);
                for (long i = 0; i < M; i++) {
                    double a = A[r * M + i] - P[r * M + i];
                    if (a != 0) for (long c = 0; c < C; c++) res[c] += a * Wout[i * C + c];
                }
                for (long z = 0; z < p; z++) {
                    double s = bU ? bU[z] : 0;
                    for (long c = 0; c < C; c++) s += res[c] * WU[c * p + z];
                    tmp[r * p + z] = s;
                }
            }
            st = grok_logits_loss(excluded_loss, tmp, lab, (int)n, p, train_rows, train_rows ? n_train : 0);
        }
        GROK_FREE(res);
        if (st != GROK_OK) goto done;
    }
    if (restricted_loss || no_always_loss || ablated) {
        int *cols = GROK__NEW(int, M);
        contrib = GROK__NEW(double, (size_t)(nc + 1) * n * p);
        sel = GROK__NEW(double, (size_t)n * M);
        if (!cols || !contrib || !sel) { GROK_FREE(cols); st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_neuron_losses: out of memory"); goto done; }
        if ((st = grok_modadd_wlogit(Wl, NULL, m)) != GROK_OK) { GROK_FREE(cols); goto done; }
        for (int c = 0; c <= nc && st == GROK_OK; c++) {
            int f = c < nc ? cluster_freqs[c] : -1, k = 0;
            double *L = contrib + (size_t)c * n * p;
            for (int i = 0; i < M; i++) if (neuron_freq[i] == f) cols[k++] = i;
            memset(L, 0, sizeof(double) * (size_t)n * p);
            if (k == 0) continue;
            for (long r = 0; r < n; r++) for (int i = 0; i < k; i++) sel[r * k + i] = A[r * M + cols[i]];
            if (f != -1 && (st = grok_project_onto_freq(sel, sel, p, k, f)) != GROK_OK) break;
            for (long r = 0; r < n; r++)
                for (int i = 0; i < k; i++) {
                    double a = sel[r * k + i];
                    const double *w = Wl + (long)cols[i] * p;
                    for (long z = 0; z < p; z++) L[r * p + z] += a * w[z];
                }
        }
        GROK_FREE(cols);
        if (st != GROK_OK) goto done;
        for (int drop = -2; drop <= nc && st == GROK_OK; drop++) { /* -2: none; nc: the always-firing */
            double *out = drop == -2 ? restricted_loss : drop == -1 ? no_always_loss : ablated ? ablated + drop : NULL;
            if (!out) continue;
            memset(tmp, 0, sizeof(double) * (size_t)n * p);
            for (int c = 0; c <= nc; c++) {
                if (c == drop || (drop == -1 && c == nc)) continue;
                for (long i = 0; i < n * p; i++) tmp[i] += contrib[(size_t)c * n * p + i];
            }
            grok__bias_correct(tmp, orig, n, p, tmp + (size_t)n * p);
            st = grok_logits_loss(out, tmp, lab, (int)n, p, NULL, 0);
        }
    }
done:
    grok_modtask_free(&own);
    GROK_FREE(A); GROK_FREE(Wl); GROK_FREE(orig); GROK_FREE(contrib); GROK_FREE(sel);
    return st;
}

GROKDEF int grok_modadd_cos_fit(double *coeff, double *cos_sim, double *residual_frac, const float *logits, int p,
                                const grok_modtask *task)
{
    double *G, *H, *cs, ln = 0, res = 0;
    int nf = (p - 1) / 2, st;
    const int *sums;
    grok_modtask own;
    const grok_modtask *tk;
    if (!logits) return grok__fail(GROK_ERR_ARG, "grok_modadd_cos_fit: logits is NULL");
    if (p < 3 || p > 4096) return grok__fail(GROK_ERR_ARG, "grok_modadd_cos_fit: p = %d", p);
    if ((st = grok__task_or_add(&tk, task, &own, p, "grok_modadd_cos_fit")) != GROK_OK) return st;
    sums = tk->sums;
    G = GROK__NEW(double, 3 * (size_t)p + nf);
    if (!G) { grok_modtask_free(&own); return grok__fail(GROK_ERR_NOMEM, "grok_modadd_cos_fit: out of memory"); }
    H = G + p; cs = H + p;
    memset(G, 0, sizeof(double) * 2 * (size_t)p);
    /* Q_k[a,b,c] depends on d = (s(a,b)-c) mod p only: <L, Q_k> = sum_d G[d] cos(w d) / ||cube_k|| */
    for (long a = 0; a < p; a++)
        for (long b = 0; b < p; b++)
            for (long c = 0; c < p; c++) {
                double v = logits[(a * p + b) * p + c];
                G[(sums[a * p + b] - c + p) % p] += v;
                ln += v * v;
            }
    ln = sqrt(ln);
    for (int k = 1; k <= nf; k++) {
        double nrm = 0, s = 0;
        for (long d = 0; d < p; d++) {
            double cv = cos(2 * 3.14159265358979323846 * (double)((k * d) % p) / p);
            nrm += (double)p * p * cv * cv;
            s += G[d] * cv;
        }
        nrm = sqrt(nrm);
        cs[k - 1] = s / nrm;
        if (coeff) coeff[k - 1] = cs[k - 1];
        if (cos_sim) cos_sim[k - 1] = ln > 0 ? cs[k - 1] / ln : 0;
        for (long d = 0; d < p; d++) H[d] += cs[k - 1] * cos(2 * 3.14159265358979323846 * (double)((k * d) % p) / p) / nrm;
    }
    if (residual_frac) {
        for (long a = 0; a < p; a++)
            for (long b = 0; b < p; b++)
                for (long c = 0; c < p; c++) {
                    double v = logits[(a * p + b) * p + c] - H[(sums[a * p + b] - c + p) % p];
                    res += v * v;
                }
        *residual_frac = ln > 0 ? sqrt(res) / ln : 0;
    }
    GROK_FREE(G);
    grok_modtask_free(&own);
    return GROK_OK;
}

/* ---- the nets of seed 003 over a cyclic (sub)group */

GROKDEF int grok_net_fourier_norms(double *norms_a, double *norms_b, double *norms_u, const grok_net *net, int k)
{
    const grok_param *pu;
    float *U;
    int E, st = GROK_OK;
    if (!net || !net->weights) return grok__fail(GROK_ERR_ARG, "grok_net_fourier_norms: NULL net");
    if (k < 1 || k > net->cfg.n) return grok__fail(GROK_ERR_ARG, "grok_net_fourier_norms: k = %d, want 1..%d", k, net->cfg.n);
    E = net->cfg.embed_dim;
    if (norms_a && (st = grok_fourier_norms(norms_a, net->weights + net->params[0].offset, k, E, 0)) != GROK_OK) return st;
    if (norms_b && (st = grok_fourier_norms(norms_b, net->weights + net->params[1].offset, k, E, 0)) != GROK_OK) return st;
    if (!norms_u) return GROK_OK;
    pu = &net->params[net->n_params - 1];
    U = GROK__NEW(float, (size_t)pu->shape[0] * k); /* W_U (rows, n) -> its first k columns (rows, k) */
    if (!U) return grok__fail(GROK_ERR_NOMEM, "grok_net_fourier_norms: out of memory");
    for (long r = 0; r < pu->shape[0]; r++)
        memcpy(U + r * k, net->weights + pu->offset + r * net->cfg.n, sizeof(float) * (size_t)k);
    st = grok_fourier_norms(norms_u, U, k, pu->shape[0], 1);
    GROK_FREE(U);
    return st;
}

GROKDEF int grok_net_neuron_freqs(int *freq, double *frac, float *acts, grok_net *net, int k, double min_frac)
{
    grok_cache c;
    const grok_tensor *t;
    const char *name;
    int *tokens, st, M;
    if (!freq || !frac || !net || !net->acts) return grok__fail(GROK_ERR_ARG, "grok_net_neuron_freqs: NULL argument");
    if (k < 3 || k > net->cfg.n) return grok__fail(GROK_ERR_ARG, "grok_net_neuron_freqs: k = %d, want 3..%d", k, net->cfg.n);
    name = net->cfg.kind == GROK_NET_MLP ? "hidden" : "product";
    M = grok__net_mid(&net->cfg);
    tokens = GROK__NEW(int, 3 * (size_t)k * k);
    if (!tokens) return grok__fail(GROK_ERR_NOMEM, "grok_net_neuron_freqs: out of memory");
    for (long i = 0; i < (long)k * k; i++) {
        tokens[3 * i] = (int)(i / k);
        tokens[3 * i + 1] = (int)(i % k);
        tokens[3 * i + 2] = net->cfg.n;
    }
    st = grok_net_cache_run(&c, net, tokens, k * k, name, NULL);
    GROK_FREE(tokens);
    if (st != GROK_OK) return st;
    if (!(t = grok_cache_get(&c, name))) { grok_cache_free(&c); return GROK_ERR_ARG; }
    st = grok_neuron_freqs(freq, frac, NULL, t->data, k, M, min_frac);
    if (st == GROK_OK && acts) memcpy(acts, t->data, sizeof(float) * (size_t)k * k * M);
    grok_cache_free(&c);
    return st;
}

/* ---- seed 003's Fourier analysis over the whole group */

/* The notebook's fourier_order (n//2 + 1 for C_n, n for D_n) and R = 1 + 2 (fourier_order - 1)
   rows, or GROK_ERR_ARG naming fn. */
static int grok__group_fourier_rows(int *R, const grok_group *g, const char *fn)
{
    int fo;
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "%s: NULL or uninitialised group", fn);
    if (g->kind == GROK_GROUP_CYCLIC) fo = g->index / 2 + 1;
    else if (g->kind == GROK_GROUP_DIHEDRAL) fo = g->index;
    else return grok__fail(GROK_ERR_ARG, "%s: %s: seed 003's Fourier basis is defined for C_n and D_n only", fn, g->name);
    if (g->order < 1 || g->order > GROK_GROUP_MAX_ORDER) return grok__fail(GROK_ERR_ARG, "%s: order %d", fn, g->order);
    *R = 1 + 2 * (fo - 1);
    return GROK_OK;
}

GROKDEF int grok_group_fourier_basis(double *F, int *n_rows, const grok_group *g)
{
    int R, N, st;
    if (!n_rows) return grok__fail(GROK_ERR_ARG, "grok_group_fourier_basis: n_rows is NULL");
    if ((st = grok__group_fourier_rows(&R, g, "grok_group_fourier_basis")) != GROK_OK) return st;
    *n_rows = R;
    if (!F) return GROK_OK;
    N = g->order;
    for (int x = 0; x < N; x++) F[x] = 1.0 / sqrt((double)N);
    for (int i = 1; 2 * i < R; i++) {
        double *c = F + (long)(2 * i - 1) * N, *s = c + N, nc = 0, ns = 0;
        for (int x = 0; x < N; x++) { /* cos, sin (2 pi i x / N), the angle reduced in integers: */
            grok__sincos2pi((int64_t)x * i % N, N, c + x, s + x); /* sin(pi x) comes out exactly 0 */
            nc += c[x] * c[x]; ns += s[x] * s[x];
        }
        nc = sqrt(nc); ns = sqrt(ns);
        for (int x = 0; x < N; x++) {
            c[x] /= nc;
            if (ns > 0) s[x] /= ns; /* the zero row of even C_n stays zero */
        }
    }
    return GROK_OK;
}

GROKDEF int grok_group_fourier_name(char *buf, size_t n, int k, const grok_group *g)
{
    int R, st, len;
    if (!buf || n < 1) return grok__fail(GROK_ERR_ARG, "grok_group_fourier_name: buf is NULL or empty");
    buf[0] = 0;
    if ((st = grok__group_fourier_rows(&R, g, "grok_group_fourier_name")) != GROK_OK) return st;
    if (k < 0 || k >= R) return grok__fail(GROK_ERR_ARG, "grok_group_fourier_name: row %d of %d", k, R);
    if (k == 0) len = snprintf(buf, n, "Const");
    else len = snprintf(buf, n, "%s %d", k % 2 ? "cos" : "sin", (k + 1) / 2);
    if (len < 0 || (size_t)len >= n) return grok__fail(GROK_ERR_ARG, "grok_group_fourier_name: buffer of %zu bytes is too small", n);
    return GROK_OK;
}

/* out (R, inner) = F (R, N) @ A (N, inner). */
static void grok__group_basis_apply(double *out, const double *F, int R, int N, const double *A, long inner)
{
    for (long f = 0; f < R; f++) {
        double *o = out + f * inner;
        memset(o, 0, sizeof(double) * (size_t)inner);
        for (long x = 0; x < N; x++) {
            double w = F[f * N + x];
            const double *a = A + x * inner;
            for (long j = 0; j < inner; j++) o[j] += w * a[j];
        }
    }
}

/* Seed 003's fft2d: A (N, N, inner) -> out (R, R, inner), out[f,h,:] = sum_{x,y} F[f,x] F[h,y]
   A[x,y,:]; tmp holds R * N * inner doubles. */
static void grok__group_fft2d(double *out, double *tmp, const double *F, int R, int N, const double *A, long inner)
{
    grok__group_basis_apply(tmp, F, R, N, A, (long)N * inner); /* tmp (R, N, inner): over x */
    for (long f = 0; f < R; f++)                                 /* then over y, one f at a time */
        grok__group_basis_apply(out + f * R * inner, F, R, N, tmp + f * N * inner, inner);
}

/* Checks net and group for fn; on success F (R, N) is a new basis (GROK_FREE it). */
static int grok__net_group_basis(double **F, int *R, const grok_net *net, const grok_group *g, const char *fn)
{
    int st;
    *F = NULL;
    if (!net || !net->weights) return grok__fail(GROK_ERR_ARG, "%s: NULL net", fn);
    if ((st = grok__group_fourier_rows(R, g, fn)) != GROK_OK) return st;
    if (net->cfg.n != g->order)
        return grok__fail(GROK_ERR_ARG, "%s: the net has n = %d, %s has order %d", fn, net->cfg.n, g->name, g->order);
    if (!(*F = GROK__NEW(double, (size_t)*R * g->order))) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    return grok_group_fourier_basis(*F, R, g);
}

/* Runs the net on the N^2 pairs (a-major) into a cache of the hook points matching filter;
   logits (N^2, N) may be NULL. */
static int grok__net_run_all_pairs(grok_cache *c, grok_net *net, int N, const char *filter, float *logits,
                                   const char *fn)
{
    int st, *tokens = GROK__NEW(int, 3 * (size_t)N * N);
    if (!tokens) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    for (long i = 0; i < (long)N * N; i++) {
        tokens[3 * i] = (int)(i / N);
        tokens[3 * i + 1] = (int)(i % N);
        tokens[3 * i + 2] = N;
    }
    st = grok_net_cache_run(c, net, tokens, N * N, filter, logits);
    GROK_FREE(tokens);
    return st;
}

GROKDEF int grok_net_group_fourier_norms(double *norms_a, double *norms_b, double *norms_u, const grok_net *net,
                                         const grok_group *g)
{
    static const char fn[] = "grok_net_group_fourier_norms";
    double *F, *A, *FA, *out[3];
    int R, N, st, E;
    long M;
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    N = g->order; E = net->cfg.embed_dim; M = grok__net_mid(&net->cfg);
    A = GROK__NEW(double, (size_t)N * (E > M ? E : M) * 2 + (size_t)R * (E > M ? E : M));
    if (!A) { GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    FA = A + (size_t)N * (E > M ? E : M) * 2;
    out[0] = norms_a; out[1] = norms_b; out[2] = norms_u;
    for (int w = 0; w < 3; w++) {
        const grok_param *p = &net->params[w < 2 ? w : net->n_params - 1];
        const float *W = net->weights + p->offset;
        long inner = w < 2 ? E : M;
        if (!out[w]) continue;
        for (long x = 0; x < N; x++) /* A (N, inner): W_E (N, E) as it is, W_U (M, N) transposed */
            for (long j = 0; j < inner; j++) A[x * inner + j] = w < 2 ? W[x * inner + j] : W[j * N + x];
        grok__group_basis_apply(FA, F, R, N, A, inner); /* FA (R, inner) */
        for (long f = 0; f < R; f++) {
            double s = 0;
            for (long j = 0; j < inner; j++) s += FA[f * inner + j] * FA[f * inner + j];
            out[w][f] = s;
        }
    }
    GROK_FREE(A); GROK_FREE(F);
    return GROK_OK;
}

GROKDEF int grok_net_group_neuron_freqs(int *freq, double *frac, double *acts_fourier, float *acts, grok_net *net,
                                        const grok_group *g)
{
    static const char fn[] = "grok_net_group_neuron_freqs";
    grok_cache c;
    const grok_tensor *t;
    const char *name;
    double *F, *A, *X, *tmp;
    int R, N, st, M;
    long NN;
    if (!freq || !frac || !net || !net->acts) return grok__fail(GROK_ERR_ARG, "%s: NULL argument", fn);
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    N = g->order; NN = (long)N * N; M = grok__net_mid(&net->cfg);
    name = net->cfg.kind == GROK_NET_MLP ? "hidden" : "product";
    A = GROK__NEW(double, (size_t)NN * M + (size_t)R * N * M + (acts_fourier ? 0 : (size_t)R * R * M));
    if (!A) { GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    tmp = A + (size_t)NN * M;
    X = acts_fourier ? acts_fourier : tmp + (size_t)R * N * M;
    if ((st = grok__net_run_all_pairs(&c, net, N, name, NULL, fn)) != GROK_OK) { GROK_FREE(A); GROK_FREE(F); return st; }
    if (!(t = grok_cache_get(&c, name))) st = grok__fail(GROK_ERR_ARG, "%s: no %s activations", fn, name);
    else {
        for (long i = 0; i < NN * M; i++) A[i] = t->data[i]; /* (N, N, M), not centred */
        if (acts) memcpy(acts, t->data, sizeof(float) * (size_t)NN * M);
        grok__group_fft2d(X, tmp, F, R, N, A, M);
        for (long j = 0; j < M; j++) {
            double tot = 0, best = -1;
            int bk = -1;
            for (long r = 0; r < (long)R * R; r++) tot += X[r * M + j] * X[r * M + j];
            for (int i = 1; i < R / 2; i++) { /* range(1, fourier_basis.shape[0]//2) */
                const long id[3] = {0, 2 * i - 1, 2 * i};
                double s = 0, fr;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) { double v = X[(id[a] * R + id[b]) * M + j]; s += v * v; }
                fr = s / tot; /* 0/0 = NaN for a dead neuron: never > best */
                if (fr > best) { best = fr; bk = i; }
            }
            freq[j] = bk;
            frac[j] = best;
        }
    }
    grok_cache_free(&c);
    GROK_FREE(A); GROK_FREE(F);
    return st;
}

GROKDEF int grok_net_group_fourier_logits(double *mean_sq, double *fourier_logits, grok_net *net,
                                          const grok_group *g)
{
    static const char fn[] = "grok_net_group_fourier_logits";
    grok_cache c;
    float *L;
    double *F, *A, *X, *tmp;
    int R, N, st;
    long NN;
    if (!net || !net->acts) return grok__fail(GROK_ERR_ARG, "%s: NULL net", fn);
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    N = g->order; NN = (long)N * N;
    L = GROK__NEW(float, (size_t)NN * N);
    A = GROK__NEW(double, (size_t)NN * N + (size_t)R * N * N + (fourier_logits ? 0 : (size_t)R * R * N));
    if (!L || !A) { GROK_FREE(L); GROK_FREE(A); GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    tmp = A + (size_t)NN * N;
    X = fourier_logits ? fourier_logits : tmp + (size_t)R * N * N;
    if ((st = grok__net_run_all_pairs(&c, net, N, "out", L, fn)) == GROK_OK) {
        for (long i = 0; i < NN * N; i++) A[i] = L[i]; /* (N, N, N): logits[a*N + b, z] */
        grok__group_fft2d(X, tmp, F, R, N, A, N);
        if (mean_sq)
            for (long r = 0; r < (long)R * R; r++) {
                double s = 0;
                for (long z = 0; z < N; z++) s += X[r * N + z] * X[r * N + z];
                mean_sq[r] = s / N;
            }
        grok_cache_free(&c);
    }
    GROK_FREE(L); GROK_FREE(A); GROK_FREE(F);
    return st;
}

/* The neurons of the N^2 pairs (a-major) into A (N^2, M) doubles: hidden (MLP) or product. */
static int grok__net_group_neurons(double *A, grok_net *net, int N, long M, const char *fn)
{
    grok_cache c;
    const grok_tensor *t;
    const char *name = net->cfg.kind == GROK_NET_MLP ? "hidden" : "product";
    int st;
    if ((st = grok__net_run_all_pairs(&c, net, N, name, NULL, fn)) != GROK_OK) return st;
    if (!(t = grok_cache_get(&c, name))) st = grok__fail(GROK_ERR_ARG, "%s: no %s activations", fn, name);
    else
        for (long i = 0; i < (long)N * N * M; i++) A[i] = t->data[i];
    grok_cache_free(&c);
    return st;
}

/* Seed 003's fourier_unembed: U (M, R) = W_U (M, N) @ F^T. */
static void grok__net_group_unembed(double *U, const grok_net *net, const double *F, int R, int N)
{
    const grok_param *p = &net->params[net->n_params - 1];
    const float *W = net->weights + p->offset;
    long M = grok__net_mid(&net->cfg);
    for (long j = 0; j < M; j++)
        for (long f = 0; f < R; f++) {
            double s = 0;
            for (long x = 0; x < N; x++) s += (double)W[j * N + x] * F[f * N + x];
            U[j * R + f] = s;
        }
}

GROKDEF int grok_net_group_fourier_acts(double *mean_sq, double *fourier_acts, grok_net *net, const grok_group *g)
{
    static const char fn[] = "grok_net_group_fourier_acts";
    double *F, *A, *X, *tmp;
    int R, N, st;
    long NN, M;
    if (!net || !net->acts) return grok__fail(GROK_ERR_ARG, "%s: NULL net", fn);
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    N = g->order; NN = (long)N * N; M = grok__net_mid(&net->cfg);
    A = GROK__NEW(double, (size_t)NN * M + (size_t)R * N * M + (fourier_acts ? 0 : (size_t)R * R * M));
    if (!A) { GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    tmp = A + (size_t)NN * M;
    X = fourier_acts ? fourier_acts : tmp + (size_t)R * N * M;
    if ((st = grok__net_group_neurons(A, net, N, M, fn)) == GROK_OK) {
        for (long j = 0; j < M; j++) { /* centred: each neuron's mean over the N^2 pairs */
            double mean = 0;
            for (long i = 0; i < NN; i++) mean += A[i * M + j];
            mean /= (double)NN;
            for (long i = 0; i < NN; i++) A[i * M + j] -= mean;
        }
        grok__group_fft2d(X, tmp, F, R, N, A, M);
        if (mean_sq)
            for (long r = 0; r < (long)R * R; r++) {
                double s = 0;
                for (long j = 0; j < M; j++) s += X[r * M + j] * X[r * M + j];
                mean_sq[r] = s / (double)M;
            }
    }
    GROK_FREE(A); GROK_FREE(F);
    return st;
}

GROKDEF int grok_net_group_wu_cluster_norms(double *out, const grok_net *net, const grok_group *g, const int *neuron_freq,
                                            const int *cluster_freqs, int nc)
{
    static const char fn[] = "grok_net_group_wu_cluster_norms";
    double *F, *U;
    int R, N, st;
    long M;
    if (!out || !neuron_freq || !cluster_freqs) return grok__fail(GROK_ERR_ARG, "%s: NULL argument", fn);
    if (nc < 1) return grok__fail(GROK_ERR_ARG, "%s: %d clusters", fn, nc);
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    N = g->order; M = grok__net_mid(&net->cfg);
    if (!(U = GROK__NEW(double, (size_t)M * R))) { GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    grok__net_group_unembed(U, net, F, R, N);
    memset(out, 0, sizeof(double) * (size_t)nc * R);
    for (int c = 0; c < nc; c++)
        for (long j = 0; j < M; j++)
            if (neuron_freq[j] == cluster_freqs[c])
                for (long f = 0; f < R; f++) out[(long)c * R + f] += U[j * R + f] * U[j * R + f];
    GROK_FREE(U); GROK_FREE(F);
    return GROK_OK;
}

GROKDEF int grok_net_group_logit_components(double *cos_c, double *sin_c, double *fourier_logits, grok_net *net,
                                            const grok_group *g, const int *freqs, int nf)
{
    static const char fn[] = "grok_net_group_logit_components";
    double *F, *A, *U, *Z, *C, *X, *tmp;
    int R, N, st;
    long NN, M;
    if (!net || !net->acts) return grok__fail(GROK_ERR_ARG, "%s: NULL net", fn);
    if (nf < 0 || (nf > 0 && !freqs)) return grok__fail(GROK_ERR_ARG, "%s: NULL freqs or nf = %d", fn, nf);
    if ((cos_c || sin_c) && nf < 1) return grok__fail(GROK_ERR_ARG, "%s: cos_c / sin_c with no frequency", fn);
    if ((st = grok__net_group_basis(&F, &R, net, g, fn)) != GROK_OK) { GROK_FREE(F); return st; }
    for (int k = 0; k < nf; k++)
        if (freqs[k] < 1 || 2 * freqs[k] > R - 1) {
            GROK_FREE(F);
            return grok__fail(GROK_ERR_ARG, "%s: frequency %d is not one of 1..%d of %s's basis", fn, freqs[k], (R - 1) / 2, g->name);
        }
    N = g->order; NN = (long)N * N; M = grok__net_mid(&net->cfg);
    A = GROK__NEW(double, (size_t)NN * M + (size_t)M * R + (fourier_logits ? 0 : (size_t)NN * R) + (size_t)NN * 2 * nf +
                              (size_t)R * N * 2 * nf + (size_t)R * R * 2 * nf);
    if (!A) { GROK_FREE(F); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    U = A + (size_t)NN * M;
    C = U + (size_t)M * R;
    Z = fourier_logits ? fourier_logits : C;
    if (!fourier_logits) C += (size_t)NN * R;
    tmp = C + (size_t)NN * 2 * nf;
    X = tmp + (size_t)R * N * 2 * nf;
    if ((st = grok__net_group_neurons(A, net, N, M, fn)) == GROK_OK) {
        grok__net_group_unembed(U, net, F, R, N);
        for (long i = 0; i < NN; i++) /* Z (N^2, R) = A @ U */
            for (long f = 0; f < R; f++) {
                double s = 0;
                for (long j = 0; j < M; j++) s += A[i * M + j] * U[j * R + f];
                Z[i * R + f] = s;
            }
        for (long i = 0; i < NN; i++) /* C (N, N, 2 nf): the cos and sin columns of each frequency */
            for (int k = 0; k < nf; k++) {
                C[i * 2 * nf + 2 * k] = Z[i * R + 2 * freqs[k] - 1];
                C[i * 2 * nf + 2 * k + 1] = Z[i * R + 2 * freqs[k]];
            }
        grok__group_fft2d(X, tmp, F, R, N, C, 2 * nf); /* X (R, R, 2 nf) */
        for (int k = 0; k < nf; k++)
            for (long r = 0; r < (long)R * R; r++) {
                if (cos_c) cos_c[(long)k * R * R + r] = X[r * 2 * nf + 2 * k];
                if (sin_c) sin_c[(long)k * R * R + r] = X[r * 2 * nf + 2 * k + 1];
            }
    }
    GROK_FREE(A); GROK_FREE(F);
    return st;
}

/* The state of the progress measures over a run: what grok_train's evaluations reuse. */
struct grok__progress {
    int p, n_train, *tokens, *train_rows, *freqs, nf;
    int *targets;  /* (3 p^2): each pair's label at its last position (0 for an unlabelled one), -1 before */
    float *logits; /* (p*p, p) */
    grok_modtask task; /* the labels of the run's data (grok__progress_task), the seeds' directions */
    double *work;  /* (2 p^3 + p): grok__modadd_restricted_in's */
    /* The test metrics from the same forward over all p^2 pairs, when every test row is a pair
       with its sum as the label: the test rows as pairs, and each pair's loss and hit. */
    int n_test, test_batch, *test_pairs, *pair_correct;
    double *pair_loss;
};

/* ---- representation theory of the groups */

/* One allocation for count irreps of the given dimensions over a group of order N. */
static int grok__irreps_alloc(grok_irreps *ir, int N, int count, const int *dims, const int *pairs)
{
    long total = 0;
    size_t bytes;
    void *mem;
    for (int i = 0; i < count; i++) total += (long)dims[i] * dims[i];
    bytes = sizeof(double) * ((size_t)total * N) + (sizeof(long) + 2 * sizeof(int) + 24) * (size_t)count;
    if (!(mem = GROK_MALLOC(bytes))) return grok__fail(GROK_ERR_NOMEM, "grok_irreps_init: out of memory");
    memset(mem, 0, bytes);
    /* one block, largest alignment first: the matrices, then coef, dim, complex_pair, name */
    ir->mem_ = mem;
    ir->mats = (double *)mem;
    ir->coef = (long *)(void *)(ir->mats + (size_t)total * N);
    ir->dim = (int *)(void *)(ir->coef + count);
    ir->complex_pair = ir->dim + count;
    ir->name = (char(*)[24])(void *)(ir->complex_pair + count);
    ir->order = N;
    ir->count = count;
    ir->n_coefs = total;
    for (long i = 0, off = 0; i < count; off += (long)dims[i] * dims[i], i++) {
        ir->coef[i] = off;
        ir->dim[i] = dims[i];
        ir->complex_pair[i] = pairs[i];
    }
    return GROK_OK;
}

/* rho_i(g) of ir. */
static double *grok__irrep_mat(const grok_irreps *ir, int i, int g)
{
    return ir->mats + (size_t)ir->order * ir->coef[i] + (size_t)g * ir->dim[i] * ir->dim[i];
}

/* Names "DIM_INDEX", the index counting from 1 within each dimension in irrep order. */
static void grok__irreps_name_by_dim(grok_irreps *ir)
{
    for (int i = 0; i < ir->count; i++) {
        int index = 1;
        for (int j = 0; j < i; j++) index += ir->dim[j] == ir->dim[i];
        snprintf(ir->name[i], sizeof ir->name[i], "%d_%d", ir->dim[i], index);
    }
}

static int grok__irreps_cyclic_dihedral(grok_irreps *ir, const grok_group *g)
{
    int n = g->index, N = g->order, dihedral = g->kind == GROK_GROUP_DIHEDRAL, n1, n2, st;
    int *dims, *pairs;
    n1 = dihedral ? (n % 2 ? 2 : 4) : (n % 2 || n == 1 ? 1 : 2);
    n2 = dihedral ? (n - 1) / 2 : (n - 1) / 2;
    if (!(dims = GROK__NEW(int, 2 * (n1 + n2)))) return grok__fail(GROK_ERR_NOMEM, "grok_irreps_init: out of memory");
    pairs = dims + n1 + n2;
    for (int i = 0; i < n1 + n2; i++) { dims[i] = i < n1 ? 1 : 2; pairs[i] = i >= n1 && !dihedral; }
    st = grok__irreps_alloc(ir, N, n1 + n2, dims, pairs);
    GROK_FREE(dims);
    if (st != GROK_OK) return st;
    for (int x = 0; x < N; x++) {
        int k = x % n, s = dihedral && x >= n; /* x = r^k s^s (D_n), or k (C_n) */
        for (int i = 0; i < n1; i++) { /* (r, s) -> (+-1, +-1): 1_1 (1, 1), 1_2 (1, -1) or C_n's (-1)^x, 1_3 (-1, 1), 1_4 (-1, -1) */
            int r_sign = dihedral ? i >= 2 : i == 1, s_sign = dihedral && i % 2;
            *grok__irrep_mat(ir, i, x) = ((r_sign && k % 2) ^ (s_sign && s)) ? -1.0 : 1.0;
        }
        for (int j = 1; j <= n2; j++) {
            double c, sn, *m = grok__irrep_mat(ir, n1 + j - 1, x);
            grok__sincos2pi((int64_t)j * k % n, n, &c, &sn); /* angle reduced in integers: exact at quarter turns */
            m[0] = c; m[1] = s ? sn : -sn; /* R(a) diag(1, -1)^s */
            m[2] = sn; m[3] = s ? -c : c;
        }
    }
    grok__irreps_name_by_dim(ir);
    return GROK_OK;
}

/* ---- Young's orthogonal form */

/* The standard Young tableaux of one partition of n <= 6 (at most 16): row[t][k], col[t][k] the
   cell of the number k (0-based) in tableau t. */
typedef struct {
    int n, rows, shape[6], count;
    signed char row[16][6], col[16][6];
} grok__young;

static void grok__young_fill(grok__young *y, int k, int *len, signed char *row, signed char *col)
{
    if (k == y->n) {
        memcpy(y->row[y->count], row, 6);
        memcpy(y->col[y->count], col, 6);
        y->count++;
        return;
    }
    for (int r = 0; r < y->rows; r++)
        if (len[r] < y->shape[r] && (r == 0 || len[r - 1] > len[r])) {
            row[k] = (signed char)r;
            col[k] = (signed char)len[r]++;
            grok__young_fill(y, k + 1, len, row, col);
            len[r]--;
        }
}

static void grok__young_init(grok__young *y, const int *shape, int rows, int n)
{
    int len[6] = {0};
    signed char row[6] = {0}, col[6] = {0};
    memset(y, 0, sizeof *y);
    y->n = n; y->rows = rows;
    memcpy(y->shape, shape, sizeof(int) * (size_t)rows);
    grok__young_fill(y, 0, len, row, col);
}

/* The tableau t with the numbers a and b swapped, or -1 when that is not standard. */
static int grok__young_swap(const grok__young *y, int t, int a, int b)
{
    for (int u = 0; u < y->count; u++) {
        int same = 1;
        for (int k = 0; k < y->n && same; k++) {
            int from = k == a ? b : k == b ? a : k;
            same = y->row[u][k] == y->row[t][from] && y->col[u][k] == y->col[t][from];
        }
        if (same) return u;
    }
    return -1;
}

/* The transposed tableau of t (its shape must be self-conjugate). */
static int grok__young_transpose(const grok__young *y, int t)
{
    for (int u = 0; u < y->count; u++) {
        int same = 1;
        for (int k = 0; k < y->n && same; k++) same = y->row[u][k] == y->col[t][k] && y->col[u][k] == y->row[t][k];
        if (same) return u;
    }
    return -1;
}

/* +1 or -1: the sign of t's row-reading word as a permutation of 0..n-1. */
static int grok__young_sign(const grok__young *y, int t)
{
    int word[6], w = 0, inversions = 0;
    for (int r = 0; r < y->rows; r++)
        for (int c = 0; c < y->shape[r]; c++)
            for (int k = 0; k < y->n; k++)
                if (y->row[t][k] == r && y->col[t][k] == c) word[w++] = k;
    for (int i = 0; i < w; i++)
        for (int j = i + 1; j < w; j++) inversions += word[j] < word[i];
    return inversions % 2 ? -1 : 1;
}

/* rho (N, f, f) of Young's orthogonal form on all of S_n (grok_group_init's S_n order), f =
   y->count: the generators s_i from the tableaux, every other element by a breadth-first walk
   x -> s_i∘x with rho(s_i∘x) = rho(s_i) rho(x). Scratch: gen (n-1, f, f), walk and seen (N). */
static void grok__young_rho(double *rho, double *gen, int *walk, int *seen, const grok__young *y, const grok_group *sn)
{
    int n = y->n, f = y->count, N = sn->order, head = 0, tail = 0, s_elem[6];
    size_t ff = (size_t)f * f;
    for (int i = 0; i + 1 < n; i++) {
        int perm[6];
        double *m = gen + (size_t)i * ff;
        memset(m, 0, sizeof(double) * ff);
        for (int k = 0; k < n; k++) perm[k] = k;
        perm[i] = i + 1; perm[i + 1] = i;
        s_elem[i] = grok__perm_rank(perm, n);
        for (int t = 0; t < f; t++) {
            int r = (y->col[t][i + 1] - y->row[t][i + 1]) - (y->col[t][i] - y->row[t][i]), u;
            m[t * f + t] = 1.0 / r;
            if (r != 1 && r != -1 && (u = grok__young_swap(y, t, i, i + 1)) >= 0)
                m[u * f + t] = sqrt(1.0 - 1.0 / ((double)r * r));
        }
    }
    memset(seen, 0, sizeof(int) * (size_t)N);
    memset(rho, 0, sizeof(double) * ff);
    for (int t = 0; t < f; t++) rho[t * f + t] = 1.0;
    walk[tail++] = 0; seen[0] = 1;
    while (head < tail) {
        int x = walk[head++];
        for (int i = 0; i + 1 < n; i++) {
            int z = sn->table[s_elem[i] * N + x];
            const double *a = gen + (size_t)i * ff, *b = rho + (size_t)x * ff;
            double *c = rho + (size_t)z * ff;
            if (seen[z]) continue;
            seen[z] = 1;
            walk[tail++] = z;
            for (int r = 0; r < f; r++) /* rho(z) = rho(s_i) rho(x) */
                for (int col = 0; col < f; col++) {
                    double acc = 0;
                    for (int k = 0; k < f; k++) acc += a[r * f + k] * b[k * f + col];
                    c[r * f + col] = acc;
                }
        }
    }
}

/* Partitions of n in decreasing lexicographic order: parts[p][0..len[p]-1]; returns the count. */
static int grok__partitions(int parts[][6], int *len, int n)
{
    int a[6], k = 0, count = 0;
    a[0] = n;
    for (;;) { /* the next smaller partition: lower the last part > 1 by one, refill after it greedily */
        int rest = 0, j;
        memcpy(parts[count], a, sizeof(int) * (size_t)(k + 1));
        len[count++] = k + 1;
        for (j = k; j >= 0 && a[j] == 1; j--) rest++;
        if (j < 0) return count;
        a[j]--; rest++;
        k = j;
        while (rest > 0) {
            int part = rest < a[k] ? rest : a[k];
            a[++k] = part;
            rest -= part;
        }
    }
}

/* The conjugate partition of parts (len) into out; returns its length. */
static int grok__partition_conjugate(int *out, const int *parts, int len)
{
    int m = parts[0];
    for (int c = 0; c < m; c++) {
        out[c] = 0;
        for (int r = 0; r < len; r++) out[c] += parts[r] > c;
    }
    return m;
}

static int grok__irreps_permutations(grok_irreps *ir, const grok_group *g)
{
    int n = g->index, alternating = g->kind == GROK_GROUP_ALTERNATING, parts[11][6], plen[11], np, st, N = g->order;
    int keep[11], split[11], selfconj[11], count = 0, dims[22], pairs[22], src[22], half[22], order_of[22], fact = 1;
    grok_group sn;
    grok__young *y;
    double *rho = NULL, *scratch = NULL;
    int *walk = NULL, *seen, *rank_of;
    np = grok__partitions(parts, plen, n);
    for (int k = 2; k <= n; k++) fact *= k;
    if (!(y = GROK__NEW(grok__young, np))) return grok__fail(GROK_ERR_NOMEM, "grok_irreps_init: out of memory");
    for (int p = 0; p < np; p++) {
        int conj[6], clen = grok__partition_conjugate(conj, parts[p], plen[p]), cmp = 0;
        grok__young_init(&y[p], parts[p], plen[p], n);
        for (int r = 0; r < 6 && !cmp; r++) {
            int a = r < plen[p] ? parts[p][r] : 0, b = r < clen ? conj[r] : 0;
            cmp = a > b ? 1 : a < b ? -1 : 0;
        }
        keep[p] = !alternating || cmp >= 0;  /* of a conjugate pair, A_n keeps the larger */
        selfconj[p] = alternating && cmp == 0 && n >= 2; /* S_1 = A_1: nothing to split */
        split[p] = 0;
        if (selfconj[p]) { /* J^2 = +-I decides */
            int t0 = 0, u0 = grok__young_transpose(&y[p], t0);
            split[p] = grok__young_sign(&y[p], t0) * grok__young_sign(&y[p], u0) == 1;
        }
    }
    for (int p = 0; p < np; p++) {
        if (!keep[p]) continue;
        for (int h = 0; h < (split[p] ? 2 : 1); h++) {
            dims[count] = split[p] ? y[p].count / 2 : y[p].count;
            pairs[count] = selfconj[p] && !split[p];
            src[count] = p;
            half[count] = split[p] ? (h ? -1 : 1) : 0;
            count++;
        }
    }
    for (int i = 0; i < count; i++) order_of[i] = i;
    if (alternating) /* by dimension, stable */
        for (int i = 1; i < count; i++)
            for (int j = i; j > 0 && dims[order_of[j - 1]] > dims[order_of[j]]; j--) {
                int t = order_of[j]; order_of[j] = order_of[j - 1]; order_of[j - 1] = t;
            }
    {
        int d2[22], p2[22];
        for (int i = 0; i < count; i++) { d2[i] = dims[order_of[i]]; p2[i] = pairs[order_of[i]]; }
        if ((st = grok__irreps_alloc(ir, N, count, d2, p2)) != GROK_OK) { GROK_FREE(y); return st; }
    }
    st = grok_group_init(&sn, GROK_GROUP_SYMMETRIC, n);
    rho = st == GROK_OK ? GROK__NEW(double, (size_t)fact * 256) : NULL;
    scratch = rho ? GROK__NEW(double, (size_t)5 * 256) : NULL; /* n - 1 <= 5 generators of f <= 16 */
    walk = scratch ? GROK__NEW(int, 3 * (size_t)fact) : NULL;
    if (!walk) {
        GROK_FREE(y); GROK_FREE(rho); GROK_FREE(scratch); grok_group_free(&sn); grok_irreps_free(ir);
        return st != GROK_OK ? st : grok__fail(GROK_ERR_NOMEM, "grok_irreps_init: out of memory");
    }
    seen = walk + fact;
    rank_of = seen + fact;
    for (int x = 0, k = 0; x < fact; x++) { /* A_n's element k is the k-th even permutation */
        int px[6], inv = 0;
        grok__perm_unrank(px, x, n);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) inv += px[j] < px[i];
        if (!alternating || inv % 2 == 0) rank_of[k++] = x;
    }
    for (int i = 0; i < count; i++) {
        int o = order_of[i], p = src[o], f = y[p].count, d = ir->dim[i];
        grok__young_rho(rho, scratch, walk, seen, &y[p], &sn);
        if (!alternating) {
            int c = 0;
            for (int r = 0; r < plen[p]; r++) c += snprintf(ir->name[i] + c, sizeof ir->name[i] - (size_t)c, "%s%d", r ? "," : "(", parts[p][r]);
            snprintf(ir->name[i] + c, sizeof ir->name[i] - (size_t)c, ")");
        }
        for (int x = 0; x < N; x++) {
            const double *m = rho + (size_t)rank_of[x] * f * f;
            double *out = grok__irrep_mat(ir, i, x);
            if (!half[o]) { memcpy(out, m, sizeof(double) * (size_t)f * f); continue; }
            /* Q^T rho Q with Q's columns (e_T + e * sign(T) e_T') / sqrt 2 over the pairs T < T',
               e = +1 for J's +1 eigenspace, -1 for its -1 eigenspace */
            {
                int cols[8] = {0}, q = 0; /* d <= 8: half of a self-conjugate S_n irrep, n <= 6 */
                double sg[8] = {0};
                for (int t = 0; t < f && q < d; t++) {
                    int u = grok__young_transpose(&y[p], t);
                    if (u > t) { cols[q] = t; sg[q] = half[o] * grok__young_sign(&y[p], t); q++; }
                }
                for (int a = 0; a < d; a++)
                    for (int b = 0; b < d; b++) {
                        int ta = cols[a], ua = grok__young_transpose(&y[p], ta), tb = cols[b], ub = grok__young_transpose(&y[p], tb);
                        double v = m[ta * f + tb] + sg[b] * m[ta * f + ub] + sg[a] * m[ua * f + tb] + sg[a] * sg[b] * m[ua * f + ub];
                        out[a * d + b] = 0.5 * v;
                    }
            }
        }
    }
    if (alternating) grok__irreps_name_by_dim(ir);
    GROK_FREE(y); GROK_FREE(rho); GROK_FREE(scratch); GROK_FREE(walk);
    grok_group_free(&sn);
    return GROK_OK;
}

GROKDEF int grok_irreps_init(grok_irreps *ir, const grok_group *g)
{
    if (!ir) return grok__fail(GROK_ERR_ARG, "grok_irreps_init: NULL irreps");
    memset(ir, 0, sizeof *ir);
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "grok_irreps_init: NULL or uninitialised group");
    if (g->kind == GROK_GROUP_CYCLIC || g->kind == GROK_GROUP_DIHEDRAL) return grok__irreps_cyclic_dihedral(ir, g);
    if (g->kind == GROK_GROUP_SYMMETRIC || g->kind == GROK_GROUP_ALTERNATING) return grok__irreps_permutations(ir, g);
    return grok__fail(GROK_ERR_ARG, "grok_irreps_init: unknown group kind %d", (int)g->kind);
}

GROKDEF void grok_irreps_free(grok_irreps *ir)
{
    if (!ir) return;
    GROK_FREE(ir->mem_);
    memset(ir, 0, sizeof *ir);
}

GROKDEF int grok_group_classes(int *class_of, int *n_classes, const grok_group *g)
{
    int N, c = 0;
    if (!class_of || !n_classes) return grok__fail(GROK_ERR_ARG, "grok_group_classes: NULL output");
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "grok_group_classes: NULL or uninitialised group");
    N = g->order;
    for (int x = 0; x < N; x++) class_of[x] = -1;
    for (int x = 0; x < N; x++) {
        if (class_of[x] >= 0) continue;
        for (int y = 0; y < N; y++) class_of[g->table[g->table[y * N + x] * N + g->inverse[y]]] = c;
        c++;
    }
    *n_classes = c;
    return GROK_OK;
}

static int grok__irreps_check(const grok_irreps *ir, const char *fn)
{
    if (!ir || !ir->mem_ || ir->count < 1 || ir->order < 1) return grok__fail(GROK_ERR_ARG, "%s: NULL or uninitialised irreps", fn);
    return GROK_OK;
}

GROKDEF int grok_irreps_characters(double *chi, const grok_irreps *ir)
{
    int st;
    if ((st = grok__irreps_check(ir, "grok_irreps_characters")) != GROK_OK) return st;
    if (!chi) return grok__fail(GROK_ERR_ARG, "grok_irreps_characters: NULL output");
    for (int i = 0; i < ir->count; i++)
        for (int x = 0; x < ir->order; x++) {
            const double *m = grok__irrep_mat(ir, i, x);
            double t = 0;
            for (int a = 0; a < ir->dim[i]; a++) t += m[a * ir->dim[i] + a];
            chi[(size_t)i * ir->order + x] = t;
        }
    return GROK_OK;
}

GROKDEF int grok_irreps_char_table(double *table, const grok_irreps *ir, const int *class_of, int n_classes)
{
    int st;
    if ((st = grok__irreps_check(ir, "grok_irreps_char_table")) != GROK_OK) return st;
    if (!table || !class_of || n_classes < 1 || n_classes > ir->order)
        return grok__fail(GROK_ERR_ARG, "grok_irreps_char_table: NULL output or classes, or %d classes", n_classes);
    for (int x = 0; x < ir->order; x++)
        if (class_of[x] < 0 || class_of[x] >= n_classes)
            return grok__fail(GROK_ERR_ARG, "grok_irreps_char_table: element %d in class %d of %d", x, class_of[x], n_classes);
    for (int c = 0; c < n_classes; c++) {
        int x = 0;
        while (x < ir->order && class_of[x] != c) x++;
        if (x == ir->order) return grok__fail(GROK_ERR_ARG, "grok_irreps_char_table: class %d has no element", c);
    }
    for (int c = 0; c < n_classes; c++) {
        int x = 0;
        while (class_of[x] != c) x++;
        for (int i = 0; i < ir->count; i++) {
            const double *m = grok__irrep_mat(ir, i, x);
            double t = 0;
            for (int a = 0; a < ir->dim[i]; a++) t += m[a * ir->dim[i] + a];
            table[(size_t)i * n_classes + c] = t;
        }
    }
    return GROK_OK;
}

GROKDEF int grok_irreps_fourier(double *fhat, const double *f, long inner, const grok_irreps *ir)
{
    int st;
    if ((st = grok__irreps_check(ir, "grok_irreps_fourier")) != GROK_OK) return st;
    if (!fhat || !f || inner < 1) return grok__fail(GROK_ERR_ARG, "grok_irreps_fourier: NULL array or inner = %ld", inner);
    memset(fhat, 0, sizeof(double) * (size_t)ir->n_coefs * (size_t)inner);
    for (int i = 0; i < ir->count; i++) {
        int d2 = ir->dim[i] * ir->dim[i];
        for (int x = 0; x < ir->order; x++) {
            const double *m = grok__irrep_mat(ir, i, x), *fx = f + (size_t)x * inner;
            for (int ab = 0; ab < d2; ab++) {
                double *o = fhat + (size_t)(ir->coef[i] + ab) * inner, w = m[ab];
                for (long j = 0; j < inner; j++) o[j] += w * fx[j];
            }
        }
    }
    return GROK_OK;
}

/* f (order, inner) += irrep i's term of the inverse transform of fhat. */
static void grok__irreps_inverse_add(double *f, const double *fhat, long inner, int i, const grok_irreps *ir)
{
    /* rho(g^-1) = rho(g)^T, so tr(rho(g^-1) fhat) = sum_ab rho(g)[a][b] fhat[a][b] */
    int d2 = ir->dim[i] * ir->dim[i];
    double c = (ir->complex_pair[i] ? 0.5 : 1.0) * ir->dim[i] / ir->order;
    for (int x = 0; x < ir->order; x++) {
        const double *m = grok__irrep_mat(ir, i, x);
        double *fx = f + (size_t)x * inner;
        for (int ab = 0; ab < d2; ab++) {
            const double *h = fhat + (size_t)(ir->coef[i] + ab) * inner;
            double w = c * m[ab];
            for (long j = 0; j < inner; j++) fx[j] += w * h[j];
        }
    }
}

GROKDEF int grok_irreps_inverse(double *f, const double *fhat, long inner, int irrep, const grok_irreps *ir)
{
    int st;
    if ((st = grok__irreps_check(ir, "grok_irreps_inverse")) != GROK_OK) return st;
    if (!fhat || !f || inner < 1) return grok__fail(GROK_ERR_ARG, "grok_irreps_inverse: NULL array or inner = %ld", inner);
    if (irrep < -1 || irrep >= ir->count) return grok__fail(GROK_ERR_ARG, "grok_irreps_inverse: irrep %d of %d", irrep, ir->count);
    memset(f, 0, sizeof(double) * (size_t)ir->order * (size_t)inner);
    for (int i = 0; i < ir->count; i++)
        if (irrep < 0 || i == irrep) grok__irreps_inverse_add(f, fhat, inner, i, ir);
    return GROK_OK;
}

/* norms (count) from fhat (n_coefs, inner): c_i ||fhat_i||^2 / |G|, times scale. */
static void grok__irreps_fhat_norms(double *norms, const double *fhat, long inner, double scale, const grok_irreps *ir)
{
    for (int i = 0; i < ir->count; i++) {
        long d2 = (long)ir->dim[i] * ir->dim[i];
        double s = 0;
        for (long r = 0; r < d2 * inner; r++) s += fhat[ir->coef[i] * inner + r] * fhat[ir->coef[i] * inner + r];
        norms[i] = scale * (ir->complex_pair[i] ? 0.5 : 1.0) * ir->dim[i] / ir->order * s;
    }
}

GROKDEF int grok_irreps_norms(double *norms, const double *W, long cols, int transpose, const grok_irreps *ir)
{
    int st, N;
    double *A, *fhat;
    if ((st = grok__irreps_check(ir, "grok_irreps_norms")) != GROK_OK) return st;
    if (!norms || !W || cols < 1) return grok__fail(GROK_ERR_ARG, "grok_irreps_norms: NULL array or cols = %ld", cols);
    N = ir->order;
    if (!(A = GROK__NEW(double, (size_t)cols * ((size_t)N + (size_t)ir->n_coefs))))
        return grok__fail(GROK_ERR_NOMEM, "grok_irreps_norms: out of memory");
    fhat = A + (size_t)N * cols;
    for (long x = 0; x < N; x++)
        for (long j = 0; j < cols; j++) A[x * cols + j] = transpose ? W[j * N + x] : W[x * cols + j];
    grok_irreps_fourier(fhat, A, cols, ir);
    grok__irreps_fhat_norms(norms, fhat, cols, 1.0, ir);
    GROK_FREE(A);
    return GROK_OK;
}

GROKDEF int grok_irreps_keys(int *keys, int *n_key, double *share, const double *norms, const grok_irreps *ir,
                             double min_share)
{
    int st, n = 0, m;
    double total = 0;
    if ((st = grok__irreps_check(ir, "grok_irreps_keys")) != GROK_OK) return st;
    if (!keys || !n_key || !norms) return grok__fail(GROK_ERR_ARG, "grok_irreps_keys: NULL array");
    if (!(min_share >= 0 && min_share <= 1)) return grok__fail(GROK_ERR_ARG, "grok_irreps_keys: min_share %g, want 0..1", min_share);
    for (int i = 1; i < ir->count; i++) {
        if (!(norms[i] >= 0) || isinf(norms[i])) return grok__fail(GROK_ERR_ARG, "grok_irreps_keys: norm %d is %g", i, norms[i]);
        total += norms[i];
    }
    if (share) {
        share[0] = 0;
        for (int i = 1; i < ir->count; i++) share[i] = total > 0 ? norms[i] / total : 0;
    }
    for (int i = 1; i < ir->count; i++) { /* insertion by share descending; a tie keeps the smaller index first */
        int j = n++;
        for (; j > 0 && norms[i] > norms[keys[j - 1]]; j--) keys[j] = keys[j - 1];
        keys[j] = i;
    }
    for (m = n > 0 ? 1 : 0; m < n && total > 0 && norms[keys[m]] / total >= min_share; m++) {}
    *n_key = m;
    return GROK_OK;
}

/* Checks g against ir for fn. */
static int grok__irreps_group_check(const grok_group *g, const grok_irreps *ir, const char *fn)
{
    int st;
    if ((st = grok__irreps_check(ir, fn)) != GROK_OK) return st;
    if (!g || !g->table) return grok__fail(GROK_ERR_ARG, "%s: NULL or uninitialised group", fn);
    if (g->order != ir->order) return grok__fail(GROK_ERR_ARG, "%s: %s has order %d, the irreps %d", fn, g->name, g->order, ir->order);
    return GROK_OK;
}

/* A (order, cols) = X (order^2, cols) averaged over each fibre x∘y = g. */
static void grok__pair_fibre_mean(double *A, const double *X, long cols, const grok_group *g)
{
    int N = g->order;
    memset(A, 0, sizeof(double) * (size_t)N * (size_t)cols);
    for (long r = 0; r < (long)N * N; r++) {
        double *a = A + (size_t)g->table[r] * cols;
        const double *x = X + (size_t)r * cols;
        for (long j = 0; j < cols; j++) a[j] += x[j];
    }
    for (long i = 0; i < (long)N * cols; i++) A[i] /= N;
}

GROKDEF int grok_irreps_pair_norms(double *norms, double *rest, const double *X, long cols, const grok_group *g,
                                   const grok_irreps *ir)
{
    int st, N;
    double *A, *fhat, total = 0, sum = 0;
    if ((st = grok__irreps_group_check(g, ir, "grok_irreps_pair_norms")) != GROK_OK) return st;
    if (!norms || !X || cols < 1) return grok__fail(GROK_ERR_ARG, "grok_irreps_pair_norms: NULL array or cols = %ld", cols);
    N = g->order;
    if (!(A = GROK__NEW(double, (size_t)cols * ((size_t)N + (size_t)ir->n_coefs))))
        return grok__fail(GROK_ERR_NOMEM, "grok_irreps_pair_norms: out of memory");
    fhat = A + (size_t)N * cols;
    grok__pair_fibre_mean(A, X, cols, g);
    grok_irreps_fourier(fhat, A, cols, ir);
    grok__irreps_fhat_norms(norms, fhat, cols, N, ir); /* each value of A repeats over the N pairs of its fibre */
    if (rest) {
        for (long i = 0; i < (long)N * N * cols; i++) total += X[i] * X[i];
        for (int i = 0; i < ir->count; i++) sum += norms[i];
        *rest = total - sum;
    }
    GROK_FREE(A);
    return GROK_OK;
}

/* P (order, cols) = the projection of B (order, cols) onto the isotypic spaces of the irreps with
   keep[i]; fhat (n_coefs, cols) is B's transform. */
static void grok__irreps_project(double *P, const double *fhat, long cols, const int *keep, const grok_irreps *ir)
{
    memset(P, 0, sizeof(double) * (size_t)ir->order * (size_t)cols);
    for (int i = 0; i < ir->count; i++)
        if (keep[i]) grok__irreps_inverse_add(P, fhat, cols, i, ir);
}

GROKDEF int grok_irreps_pair_project(double *out, const double *X, long cols, const int *keep, const grok_group *g,
                                     const grok_irreps *ir)
{
    int st, N;
    double *A, *fhat, *P;
    if ((st = grok__irreps_group_check(g, ir, "grok_irreps_pair_project")) != GROK_OK) return st;
    if (!out || !X || !keep || cols < 1) return grok__fail(GROK_ERR_ARG, "grok_irreps_pair_project: NULL array or cols = %ld", cols);
    N = g->order;
    if (!(A = GROK__NEW(double, (size_t)cols * (2 * (size_t)N + (size_t)ir->n_coefs))))
        return grok__fail(GROK_ERR_NOMEM, "grok_irreps_pair_project: out of memory");
    P = A + (size_t)N * cols;
    fhat = P + (size_t)N * cols;
    grok__pair_fibre_mean(A, X, cols, g);
    grok_irreps_fourier(fhat, A, cols, ir);
    grok__irreps_project(P, fhat, cols, keep, ir);
    for (long r = 0; r < (long)N * N; r++) memcpy(out + (size_t)r * cols, P + (size_t)g->table[r] * cols, sizeof(double) * (size_t)cols);
    GROK_FREE(A);
    return GROK_OK;
}

GROKDEF int grok_irreps_trace_sims(double *sims, const double *logits, const grok_group *g, const grok_irreps *ir)
{
    int st, N;
    double *chi, *lc;
    if ((st = grok__irreps_group_check(g, ir, "grok_irreps_trace_sims")) != GROK_OK) return st;
    if (!sims || !logits) return grok__fail(GROK_ERR_ARG, "grok_irreps_trace_sims: NULL array");
    N = g->order;
    if (!(chi = GROK__NEW(double, (size_t)ir->count * N + N))) return grok__fail(GROK_ERR_NOMEM, "grok_irreps_trace_sims: out of memory");
    lc = chi + (size_t)ir->count * N;
    grok_irreps_characters(chi, ir);
    for (int i = 0; i < ir->count; i++) sims[i] = 0;
    for (long r = 0; r < (long)N * N; r++) {
        const double *l = logits + (size_t)r * N;
        int xy = g->table[r];
        double mean = 0, ll = 0;
        for (int z = 0; z < N; z++) mean += l[z];
        mean /= N;
        for (int z = 0; z < N; z++) { lc[z] = l[z] - mean; ll += lc[z] * lc[z]; }
        if (!(ll > 0)) continue;
        for (int i = 0; i < ir->count; i++) {
            const double *c = chi + (size_t)i * N;
            double dot = 0, tt = 0;
            for (int z = 0; z < N; z++) {
                double t = c[g->table[xy * N + g->inverse[z]]];
                dot += lc[z] * t; tt += t * t;
            }
            sims[i] += dot / sqrt(ll * tt);
        }
    }
    for (int i = 0; i < ir->count; i++) sims[i] /= (double)N * N;
    GROK_FREE(chi);
    return GROK_OK;
}

/* Cross-entropy against x∘y over all pairs of L + sign * lift(P), P (order, order) a function of
   x∘y per output; work (order^2, order) scratch, which may be L itself. */
static int grok__irreps_lifted_loss(double *loss, const double *L, double sign, const double *P, double *work,
                                    const grok_group *g)
{
    int N = g->order;
    for (long r = 0; r < (long)N * N; r++) {
        const double *p = P + (size_t)g->table[r] * N;
        for (int z = 0; z < N; z++) work[r * N + z] = L[r * N + z] + sign * p[z];
    }
    return grok_logits_loss(loss, work, g->table, N * N, N, NULL, 0);
}

GROKDEF int grok_irreps_losses(double *restricted, double *total_excluded, double *excluded, double *restricted_each,
                               const double *X, long cols, const double *W, const double *base, const int *keys, int n_key,
                               const grok_group *g, const grok_irreps *ir)
{
    int st, N, *keep;
    double *L, *A, *B, *fhat, *P, *work;
    if ((st = grok__irreps_group_check(g, ir, "grok_irreps_losses")) != GROK_OK) return st;
    N = g->order;
    if (!X || cols < 1 || (!W && cols != N))
        return grok__fail(GROK_ERR_ARG, "grok_irreps_losses: NULL X, or cols = %ld (without W it must be the order %d)", cols, N);
    if (n_key < 0 || (n_key > 0 && !keys)) return grok__fail(GROK_ERR_ARG, "grok_irreps_losses: %d keys", n_key);
    for (int k = 0; k < n_key; k++)
        if (keys[k] < 0 || keys[k] >= ir->count) return grok__fail(GROK_ERR_ARG, "grok_irreps_losses: key irrep %d of %d", keys[k], ir->count);
    L = GROK__NEW(double, 2 * (size_t)N * N * N + (size_t)cols * N + 2 * (size_t)N * N + (size_t)ir->n_coefs * N);
    keep = GROK__NEW(int, ir->count);
    if (!L || !keep) { GROK_FREE(L); GROK_FREE(keep); return grok__fail(GROK_ERR_NOMEM, "grok_irreps_losses: out of memory"); }
    work = L + (size_t)N * N * N;
    A = work + (size_t)N * N * N; /* (N, cols) */
    B = A + (size_t)N * cols;      /* (N, N) */
    P = B + (size_t)N * N;
    fhat = P + (size_t)N * N;
    /* L = base + X W over the pairs; B = (X averaged over the fibres) W: the projections act on the
       pairs and W on the columns, so projecting X W is projecting B and lifting it */
    for (long r = 0; r < (long)N * N; r++)
        for (int z = 0; z < N; z++) {
            double s = base ? base[r * N + z] : 0;
            if (W) for (long j = 0; j < cols; j++) s += X[r * cols + j] * W[j * N + z];
            else s += X[r * N + z];
            L[r * N + z] = s;
        }
    grok__pair_fibre_mean(A, X, cols, g);
    for (int x = 0; x < N; x++)
        for (int z = 0; z < N; z++) {
            double s = 0;
            if (W) for (long j = 0; j < cols; j++) s += A[x * cols + j] * W[j * N + z];
            else s = A[x * N + z];
            B[x * N + z] = s;
        }
    grok_irreps_fourier(fhat, B, N, ir);
    if (restricted) { /* base + the lifted projection onto the key irreps and the trivial one */
        memset(keep, 0, sizeof(int) * (size_t)ir->count);
        keep[0] = 1;
        for (int k = 0; k < n_key; k++) keep[keys[k]] = 1;
        grok__irreps_project(P, fhat, N, keep, ir);
        for (long r = 0; r < (long)N * N * N; r++) work[r] = base ? base[r] : 0;
        st = grok__irreps_lifted_loss(restricted, work, 1.0, P, work, g);
    }
    if (total_excluded && st == GROK_OK) { /* L minus the lifted projection onto the key irreps */
        memset(keep, 0, sizeof(int) * (size_t)ir->count);
        for (int k = 0; k < n_key; k++) keep[keys[k]] = 1;
        grok__irreps_project(P, fhat, N, keep, ir);
        st = grok__irreps_lifted_loss(total_excluded, L, -1.0, P, work, g);
    }
    for (int i = 0; excluded && i < ir->count && st == GROK_OK; i++) {
        memset(keep, 0, sizeof(int) * (size_t)ir->count);
        keep[i] = 1;
        grok__irreps_project(P, fhat, N, keep, ir);
        st = grok__irreps_lifted_loss(&excluded[i], L, -1.0, P, work, g);
    }
    for (int i = 0; restricted_each && i < ir->count && st == GROK_OK; i++) {
        memset(keep, 0, sizeof(int) * (size_t)ir->count);
        keep[0] = keep[i] = 1;
        grok__irreps_project(P, fhat, N, keep, ir);
        for (long r = 0; r < (long)N * N * N; r++) work[r] = base ? base[r] : 0;
        st = grok__irreps_lifted_loss(&restricted_each[i], work, 1.0, P, work, g);
    }
    GROK_FREE(L); GROK_FREE(keep);
    return st;
}

/* The metrics from a model's parts, in double: the x and y embeddings ex (order, cx), ey (order,
   cy), the unembedding U (cu, order), the hidden layer (order^2, M) read out by Wr (M, order),
   the logits (order^2, order) and base = logits - hidden Wr (NULL: 0). */
static int grok__irreps_metrics(double *per_irrep, double *totals, int *keys, int *n_key, const double *ex, long cx,
                                const double *ey, long cy, const double *U, long cu, const double *hidden, long M,
                                const double *Wr, const double *logits, const double *base, double sumsq,
                                const grok_group *g, const grok_irreps *ir, const char *fn)
{
    int n = ir->count, N = g->order, st;
    double *nrm = GROK__NEW(double, 4 * (size_t)n), *row, sq, *sims;
    if (!nrm) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    sims = nrm + 3 * n;
    st = grok_irreps_norms(nrm, ex, cx, 0, ir);
    if (st == GROK_OK) st = grok_irreps_norms(nrm + n, ey, cy, 0, ir);
    if (st == GROK_OK) st = grok_irreps_norms(nrm + 2 * n, U, cu, 1, ir);
    if (st == GROK_OK) st = grok_irreps_trace_sims(sims, logits, g, ir);
    if (st == GROK_OK && *n_key == 0) /* the paper's key irreps: trace similarity > 0.05, here by similarity descending */
        for (int i = 1; i < n; i++) {
            int j = *n_key;
            if (!(sims[i] > 0.05)) continue;
            for (; j > 0 && sims[i] > sims[keys[j - 1]]; j--) keys[j] = keys[j - 1];
            keys[j] = i;
            (*n_key)++;
        }
    for (int k = 0; st == GROK_OK && k < *n_key; k++)
        if (keys[k] < 0 || keys[k] >= n) st = grok__fail(GROK_ERR_ARG, "%s: key irrep %d of %d", fn, keys[k], n);
    if (st == GROK_OK && per_irrep) {
        for (int w = 0; w < 3; w++) {
            double total = 0;
            for (int i = 0; i < n; i++) total += nrm[w * n + i];
            for (int i = 0; i < n; i++) per_irrep[w * n + i] = total > 0 ? nrm[w * n + i] / total : 0;
        }
        row = per_irrep + GROK_IRM_HIDDEN * n;
        st = grok_irreps_pair_norms(row, NULL, hidden, M, g, ir);
        sq = 0;
        for (long i = 0; i < (long)N * N * M; i++) sq += hidden[i] * hidden[i];
        for (int i = 0; i < n; i++) row[i] = sq > 0 ? row[i] / sq : 0;
        memcpy(per_irrep + GROK_IRM_TRACE * n, sims, sizeof(double) * (size_t)n);
    }
    if (st == GROK_OK)
        st = grok_irreps_losses(totals ? totals + GROK_IRT_RESTRICTED_LOGIT : NULL, totals ? totals + GROK_IRT_EXCLUDED_LOGIT : NULL,
                                per_irrep ? per_irrep + GROK_IRM_EXCL_LOGIT * n : NULL,
                                per_irrep ? per_irrep + GROK_IRM_RESTR_LOGIT * n : NULL, logits, N, NULL, NULL, keys, *n_key, g, ir);
    if (st == GROK_OK)
        st = grok_irreps_losses(totals ? totals + GROK_IRT_RESTRICTED_HIDDEN : NULL, totals ? totals + GROK_IRT_EXCLUDED_HIDDEN : NULL,
                                per_irrep ? per_irrep + GROK_IRM_EXCL_HIDDEN * n : NULL,
                                per_irrep ? per_irrep + GROK_IRM_RESTR_HIDDEN * n : NULL, hidden, M, Wr, base, keys, *n_key, g, ir);
    if (st == GROK_OK && totals) {
        st = grok_logits_loss(totals + GROK_IRT_LOSS, logits, g->table, N * N, N, NULL, 0);
        totals[GROK_IRT_SUMSQ] = sumsq;
    }
    GROK_FREE(nrm);
    return st;
}

/* Checks the shared arguments of the metrics entry points. */
static int grok__irreps_metrics_check(const int *keys, const int *n_key, const grok_group *g, const grok_irreps *ir,
                                      const char *fn)
{
    int st;
    if ((st = grok__irreps_group_check(g, ir, fn)) != GROK_OK) return st;
    if (!keys || !n_key || *n_key < 0 || *n_key > ir->count - 1)
        return grok__fail(GROK_ERR_ARG, "%s: keys NULL or n_key %d (at most %d)", fn, n_key ? *n_key : -1, ir->count - 1);
    return GROK_OK;
}

GROKDEF int grok_net_irreps_metrics(double *per_irrep, double *totals, int *keys, int *n_key, grok_net *net,
                                    const grok_group *g, const grok_irreps *ir)
{
    const char *fn = "grok_net_irreps_metrics";
    int st, N, E, M, mlp;
    long NN;
    const float *Wa, *Wb, *W = NULL, *WU;
    double *ex, *ey, *U, *hid, *lg, sumsq = 0;
    float *lgf;
    grok_cache c;
    const grok_tensor *t;
    if ((st = grok__irreps_metrics_check(keys, n_key, g, ir, fn)) != GROK_OK) return st;
    if (!net || !net->weights) return grok__fail(GROK_ERR_ARG, "%s: NULL net", fn);
    N = g->order;
    if (net->cfg.n != N) return grok__fail(GROK_ERR_ARG, "%s: the net has n = %d, %s has order %d", fn, net->cfg.n, g->name, N);
    mlp = net->cfg.kind == GROK_NET_MLP;
    E = net->cfg.embed_dim;
    M = mlp ? net->cfg.hidden_dim : E;
    NN = (long)N * N;
    Wa = net->weights + grok_net_param(net, "W_E_a")->offset;
    Wb = net->weights + grok_net_param(net, "W_E_b")->offset;
    WU = net->weights + grok_net_param(net, "W_U")->offset;
    if (mlp) W = net->weights + grok_net_param(net, "W")->offset;
    ex = GROK__NEW(double, 3 * (size_t)N * M + (size_t)NN * M + 2 * (size_t)NN * N);
    lgf = GROK__NEW(float, (size_t)NN * N);
    if (!ex || !lgf) { GROK_FREE(ex); GROK_FREE(lgf); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    ey = ex + (size_t)N * M;
    U = ey + (size_t)N * M;   /* (M, N) */
    hid = U + (size_t)N * M;  /* (N^2, M) */
    lg = hid + (size_t)NN * M;
    for (int x = 0; x < N; x++) /* the total embeddings: what each input adds before the ReLU (MLP) */
        for (int j = 0; j < M; j++) {
            double sa = 0, sb = 0;
            if (!mlp) { sa = Wa[x * E + j]; sb = Wb[x * E + j]; }
            else
                for (int k = 0; k < E; k++) {
                    sa += (double)Wa[x * E + k] * W[(size_t)k * M + j];
                    sb += (double)Wb[x * E + k] * W[(size_t)(E + k) * M + j];
                }
            ex[(size_t)x * M + j] = sa; ey[(size_t)x * M + j] = sb;
        }
    for (long i = 0; i < (long)M * N; i++) U[i] = WU[i];
    for (size_t i = 0; i < net->num_parameters; i++) sumsq += (double)net->weights[i] * net->weights[i];
    st = grok__net_run_all_pairs(&c, net, N, mlp ? "hidden" : "product", lgf, fn);
    if (st == GROK_OK) {
        if ((t = grok_cache_get(&c, mlp ? "hidden" : "product")) != NULL) {
            for (long i = 0; i < NN * M; i++) hid[i] = t->data[i];
            for (long i = 0; i < NN * N; i++) lg[i] = lgf[i];
        } else {
            st = grok__fail(GROK_ERR_ARG, "%s: the cache holds no hidden layer", fn);
        }
        grok_cache_free(&c);
    }
    if (st == GROK_OK)
        st = grok__irreps_metrics(per_irrep, totals, keys, n_key, ex, M, ey, M, U, M, hid, M, U, lg, NULL, sumsq, g, ir, fn);
    GROK_FREE(ex); GROK_FREE(lgf);
    return st;
}

GROKDEF int grok_model_irreps_metrics(double *per_irrep, double *totals, int *keys, int *n_key, grok_model *m,
                                      const grok_group *g, const grok_irreps *ir)
{
    const char *fn = "grok_model_irreps_metrics";
    int st, N, M, C;
    long NN;
    const float *WE, *WU;
    double *ex, *U, *hid, *lg, *base, *Wl, sumsq;
    float *lgf, *actf;
    if ((st = grok__irreps_metrics_check(keys, n_key, g, ir, fn)) != GROK_OK) return st;
    if (!grok__modadd_p(m, fn)) return GROK_ERR_ARG;
    N = g->order;
    if (m->cfg.d_vocab_out != N) return grok__fail(GROK_ERR_ARG, "%s: d_vocab_out %d, %s has order %d", fn, m->cfg.d_vocab_out, g->name, N);
    M = m->cfg.d_mlp; C = m->cfg.d_model; NN = (long)N * N;
    WE = grok__w(m, "embed.W_E"); WU = grok__w(m, "unembed.W_U");
    ex = GROK__NEW(double, (size_t)N * C + (size_t)C * N + (size_t)NN * M + 2 * (size_t)NN * N + (size_t)M * N);
    lgf = GROK__NEW(float, (size_t)NN * (N + M));
    if (!ex || !lgf) { GROK_FREE(ex); GROK_FREE(lgf); return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn); }
    actf = lgf + (size_t)NN * N;
    U = ex + (size_t)N * C;
    hid = U + (size_t)C * N;
    lg = hid + (size_t)NN * M;
    base = lg + (size_t)NN * N;
    Wl = base + (size_t)NN * N;
    for (long i = 0; i < (long)N * C; i++) ex[i] = WE[i]; /* W_E's first N rows: the elements ('=' is row N) */
    for (long i = 0; i < (long)C * N; i++) U[i] = WU[i];
    st = grok_modadd_run(lgf, actf, NULL, NULL, NULL, m);
    if (st == GROK_OK) st = grok_modadd_wlogit(Wl, NULL, m);
    if (st == GROK_OK) st = grok_weights_sumsq(&sumsq, m);
    if (st == GROK_OK) {
        for (long i = 0; i < NN * M; i++) hid[i] = actf[i];
        for (long r = 0; r < NN; r++)
            for (int z = 0; z < N; z++) {
                double s = 0;
                for (int j = 0; j < M; j++) s += hid[r * M + j] * Wl[(size_t)j * N + z];
                lg[r * N + z] = lgf[r * N + z];
                base[r * N + z] = lgf[r * N + z] - s;
            }
        st = grok__irreps_metrics(per_irrep, totals, keys, n_key, ex, C, ex, C, U, C, hid, M, Wl, lg, base, sumsq, g, ir, fn);
    }
    GROK_FREE(ex); GROK_FREE(lgf);
    return st;
}

GROKDEF int grok_irreps_learn_order(long *learned, int *order, int *n_order, const double *shares, const long *epochs,
                                    int n_ckpt, int count, double min_share)
{
    long *when;
    int n = 0;
    if (!order || !n_order || !shares || !epochs || n_ckpt < 1 || count < 1)
        return grok__fail(GROK_ERR_ARG, "grok_irreps_learn_order: NULL array, %d checkpoints or %d irreps", n_ckpt, count);
    for (int k = 1; k < n_ckpt; k++)
        if (epochs[k] <= epochs[k - 1]) return grok__fail(GROK_ERR_ARG, "grok_irreps_learn_order: epochs not ascending at %d", k);
    if (!(when = learned ? learned : GROK__NEW(long, count))) return grok__fail(GROK_ERR_NOMEM, "grok_irreps_learn_order: out of memory");
    for (int i = 0; i < count; i++) {
        int k = n_ckpt;
        while (k > 0 && shares[(size_t)(k - 1) * count + i] >= min_share) k--;
        when[i] = k < n_ckpt ? epochs[k] : -1;
        if (when[i] < 0) continue;
        { /* insert by epoch, then by the last share descending */
            double last = shares[(size_t)(n_ckpt - 1) * count + i];
            int j = n++;
            for (; j > 0; j--) {
                int o = order[j - 1];
                double lo = shares[(size_t)(n_ckpt - 1) * count + o];
                if (when[o] < when[i] || (when[o] == when[i] && lo >= last)) break;
                order[j] = o;
            }
            order[j] = i;
        }
    }
    *n_order = n;
    if (!learned) GROK_FREE(when);
    return GROK_OK;
}

/* ---- progress measures during training (grok_train_opts.progress_measures) */

static void grok__progress_free(struct grok__progress *pm)
{
    GROK_FREE(pm->tokens); GROK_FREE(pm->train_rows); GROK_FREE(pm->freqs); GROK_FREE(pm->logits); GROK_FREE(pm->targets);
    grok_modtask_free(&pm->task); GROK_FREE(pm->work); GROK_FREE(pm->test_pairs); GROK_FREE(pm->pair_loss); GROK_FREE(pm->pair_correct);
    memset(pm, 0, sizeof *pm);
}

/* The test rows as pairs a*p + b when each is (a, b, '=') with only its label as its target;
   NULL (grok_model_evaluate then runs as usual) when one is not, or without memory. */
static int *grok__modadd_test_pairs(const grok_data *test, int p, const int *labels)
{
    int *pairs, i;
    if (!test || test->n < 1 || test->n_ctx != 3 || !(pairs = GROK__NEW(int, test->n))) return NULL;
    for (i = 0; i < test->n; i++) {
        const int *t = test->tokens + 3L * i, *y = test->targets + 3L * i;
        if (t[0] < 0 || t[0] >= p || t[1] < 0 || t[1] >= p || t[2] != p || y[0] != -1 || y[1] != -1 ||
            y[2] != labels[t[0] * p + t[1]]) {
            GROK_FREE(pairs);
            return NULL;
        }
        pairs[i] = t[0] * p + t[1];
    }
    return pairs;
}

/* The progress measures' task: the labels of the pairs in train and test (grok_modtask_from_data);
   when every one of them is (a + b) mod p the run is modular addition and every pair gets its
   sum, so that a run without a test set still measures over all p^2 pairs. */
static int grok__progress_task(grok_modtask *t, int p, const grok_data *train, const grok_data *test)
{
    long r, n = (long)p * p;
    int st = grok_modtask_from_data(t, p, train, test);
    if (st != GROK_OK) return st;
    for (r = 0; r < n && (t->labels[r] == -1 || t->labels[r] == t->sums[r]); r++) {}
    if (r == n) {
        memcpy(t->labels, t->sums, sizeof(int) * (size_t)n);
        snprintf(t->name, sizeof t->name, "(a + b) mod %d", p);
    }
    return GROK_OK;
}

/* test_metrics: take the test metrics from the measures' forward when test allows it. */
static int grok__progress_init(struct grok__progress *pm, const grok_model *m, const int *key_freqs, int n_key_freqs,
                               const grok_data *train, const grok_data *test, int test_metrics)
{
    int p = grok__modadd_p(m, "grok_train (progress_measures)"), st;
    long n;
    memset(pm, 0, sizeof *pm);
    if (!p) return GROK_ERR_ARG;
    if (n_key_freqs < 0 || n_key_freqs > (p - 1) / 2 || (n_key_freqs > 0 && !key_freqs))
        return grok__fail(GROK_ERR_ARG, "grok_train: n_key_freqs = %d, want 0..%d with key_freqs set", n_key_freqs, (p - 1) / 2);
    for (int i = 0; i < n_key_freqs; i++) {
        if (key_freqs[i] < 1 || key_freqs[i] > (p - 1) / 2)
            return grok__fail(GROK_ERR_ARG, "grok_train: key frequency %d outside 1..%d", key_freqs[i], (p - 1) / 2);
        for (int j = 0; j < i; j++)
            if (key_freqs[j] == key_freqs[i]) return grok__fail(GROK_ERR_ARG, "grok_train: key frequency %d twice", key_freqs[i]);
    }
    n = (long)p * p;
    pm->p = p;
    pm->n_train = train->n;
    pm->tokens = grok__modadd_tokens(p);
    pm->train_rows = GROK__NEW(int, train->n);
    pm->freqs = GROK__NEW(int, (p - 1) / 2);
    pm->logits = GROK__NEW(float, (size_t)n * p);
    pm->targets = GROK__NEW(int, 3 * (size_t)n);
    pm->work = GROK__NEW(double, 2 * (size_t)n * p + p);
    pm->pair_loss = GROK__NEW(double, (size_t)n);
    pm->pair_correct = GROK__NEW(int, (size_t)n);
    if (!pm->tokens || !pm->train_rows || !pm->freqs || !pm->logits || !pm->targets || !pm->work ||
        !pm->pair_loss || !pm->pair_correct) {
        grok__progress_free(pm);
        return grok__fail(GROK_ERR_NOMEM, "grok_train: out of memory for the progress measures");
    }
    if ((st = grok__progress_task(&pm->task, p, train, test)) != GROK_OK) { grok__progress_free(pm); return st; }
    for (long r = 0; r < n; r++) {
        pm->targets[3 * r] = pm->targets[3 * r + 1] = -1;
        pm->targets[3 * r + 2] = pm->task.labels[r] >= 0 ? pm->task.labels[r] : 0;
    }
    for (int i = 0; i < train->n; i++) /* pairs, as grok__progress_task found */
        pm->train_rows[i] = train->tokens[3L * i] * p + train->tokens[3L * i + 1];
    if (n_key_freqs > 0) { memcpy(pm->freqs, key_freqs, sizeof(int) * (size_t)n_key_freqs); pm->nf = n_key_freqs; }
    if (test_metrics && (pm->test_pairs = grok__modadd_test_pairs(test, p, pm->task.labels)) != NULL) {
        pm->n_test = test->n;
        pm->test_batch = m->max_rows / 3;
    }
    return GROK_OK;
}

/* out: restricted_loss, excluded_loss, gini_W_E, gini_W_logit, sum_sq_weights; and with
   pm->test_pairs, mt's test loss and accuracy with the bits grok_model_evaluate gives: a pair's
   loss is the same whichever batch computes it, and the sums run over the test rows in
   grok_model_evaluate's batches and order. */
static int grok__progress_eval(struct grok__progress *pm, grok_model *m, int fixed_freqs, double *out,
                               grok_metrics *mt)
{
    int p = pm->p, st = GROK_OK, chunk = m->max_rows / 3;
    long n = (long)p * p;
    double *nrm = GROK__NEW(double, p);
    if (!nrm) return grok__fail(GROK_ERR_NOMEM, "grok_train: out of memory for the progress measures");
    for (long s = 0; s < n && st == GROK_OK; s += chunk) {
        /* pair r's one target row, 3r+2, is its k = r-th: grok__target_slot finds its logits
           and loss whichever path the forward took */
        int b = n - s < chunk ? (int)(n - s) : chunk;
        if ((st = grok_model_forward(m, pm->tokens + 3 * s, pm->targets + 3 * s, b, NULL, NULL, NULL)) != GROK_OK) break;
        for (long r = 0; r < b; r++) {
            long q = grok__target_slot(m->acts, 3 * r + 2, r);
            memcpy(pm->logits + (s + r) * p, m->acts->logits + q * p, sizeof(float) * (size_t)p);
            pm->pair_loss[s + r] = m->acts->row_loss[q];
            pm->pair_correct[s + r] = m->acts->row_correct[q] & GROK__ROW_CORRECT;
        }
    }
    m->acts->n_targets = 0; /* a partial batch, as grok_model_evaluate leaves it */
    if (st == GROK_OK && pm->test_pairs && mt) {
        double sum = 0.0;
        long correct = 0;
        for (int b0 = 0; b0 < pm->n_test; b0 += pm->test_batch) {
            double batch = 0.0;
            for (int i = b0; i < pm->n_test && i < b0 + pm->test_batch; i++) {
                batch += pm->pair_loss[pm->test_pairs[i]];
                correct += pm->pair_correct[pm->test_pairs[i]];
            }
            sum += batch;
        }
        mt->test_loss = sum / pm->n_test;
        mt->test_acc = (double)correct / pm->n_test;
    }
    if (st == GROK_OK) st = grok_fourier_norms(nrm, grok__w(m, "embed.W_E"), p, m->cfg.d_model, 0);
    if (st == GROK_OK && !fixed_freqs) st = grok_key_freqs(pm->freqs, NULL, &pm->nf, NULL, nrm, p, 0.05);
    if (st == GROK_OK) st = grok__modadd_restricted_in(&out[0], &out[1], NULL, NULL, pm->logits, p, pm->freqs, pm->nf,
                                                       pm->train_rows, pm->n_train, &pm->task, pm->work);
    if (st == GROK_OK) {
        for (int i = 0; i < p; i++) nrm[i] = sqrt(nrm[i]);
        st = grok_gini(&out[2], nrm, p);
    }
    if (st == GROK_OK) st = grok_wlogit_fourier_norms(nrm, m);
    if (st == GROK_OK) st = grok_gini(&out[3], nrm, p);
    if (st == GROK_OK) st = grok_weights_sumsq(&out[4], m);
    GROK_FREE(nrm);
    return st;
}

GROKDEF int grok_modadd_progress(double *out, grok_model *m, const grok_data *train, const grok_data *test,
                                 const int *freqs, int nf)
{
    struct grok__progress pm;
    int st;
    if (!out || !m || !m->acts || !train || !train->tokens || train->n < 1 || train->n_ctx != 3)
        return grok__fail(GROK_ERR_ARG, "grok_modadd_progress: NULL argument, model without buffers or bad training set");
    if ((st = grok__progress_init(&pm, m, freqs, nf, train, test, 0)) != GROK_OK) return st;
    st = grok__progress_eval(&pm, m, nf > 0, out, NULL);
    grok__progress_free(&pm);
    return st;
}

/* ---- For the figures of the seeds */

/* data complex (rows, cols) rolled by (dr, dc): out[(i + dr) % rows, (j + dc) % cols] = data[i, j]. */
static int grok__roll2(double *data, int rows, int cols, int dr, int dc, const char *fn)
{
    double *t;
    if (!data || rows < 1 || cols < 1 || (double)rows * cols > 1e9)
        return grok__fail(GROK_ERR_ARG, "%s: data %s, rows %d, cols %d", fn, data ? "given" : "NULL", rows, cols);
    t = GROK__NEW(double, 2 * (size_t)rows * cols);
    if (!t) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    memcpy(t, data, sizeof(double) * 2 * (size_t)rows * cols);
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < cols; j++) {
            const double *src = t + 2 * (i * cols + j);
            double *dst = data + 2 * (((i + dr) % rows) * cols + (j + dc) % cols);
            dst[0] = src[0]; dst[1] = src[1];
        }
    GROK_FREE(t);
    return GROK_OK;
}

GROKDEF int grok_fftshift2(double *data, int rows, int cols)
{
    return grok__roll2(data, rows, cols, rows / 2, cols / 2, "grok_fftshift2");
}

GROKDEF int grok_ifftshift2(double *data, int rows, int cols)
{
    return grok__roll2(data, rows, cols, rows - rows / 2, cols - cols / 2, "grok_ifftshift2");
}

GROKDEF int grok_neuron_freq_norm(double *out, const float *acts, int p, int M)
{
    double *X, *frac;
    int *freq, st, nf = (p - 1) / 2;
    long n = (long)p * p;
    if (!out || !acts) return grok__fail(GROK_ERR_ARG, "grok_neuron_freq_norm: out or acts is NULL");
    if (p < 3 || p > 4096 || M < 1 || (long)M > GROK__LONG_MAX / 16 / n)
        return grok__fail(GROK_ERR_ARG, "grok_neuron_freq_norm: p = %d, M = %d", p, M);
    X = GROK__NEW(double, (size_t)n * M + (size_t)M);
    freq = GROK__NEW(int, M);
    if (!X || !freq) { GROK_FREE(X); GROK_FREE(freq); return grok__fail(GROK_ERR_NOMEM, "grok_neuron_freq_norm: out of memory"); }
    frac = X + (size_t)n * M;
    /* grok_neuron_freqs' spectrum (p, p, M) of the centred neurons: the seed's X with X[0, 0] = 0 */
    if ((st = grok_neuron_freqs(freq, frac, X, acts, p, M, 0)) == GROK_OK)
        for (long j = 0; j < M; j++) {
            double tot = 0;
            for (long r = 0; r < n; r++) tot += X[r * M + j] * X[r * M + j];
            for (long k = 1; k <= nf; k++) {
                double s = grok__freq_terms_sq(X, p, M, j, k);
                out[(k - 1) * M + j] = tot > 0 ? s / tot : 0;
            }
        }
    GROK_FREE(X); GROK_FREE(freq);
    return st;
}

GROKDEF int grok_wlogit_cluster_norms(double *out, const grok_model *m, const int *neuron_freq, const int *cluster_freqs,
                                      int nc)
{
    double *Wf;
    int st, p, M;
    if (!out || !m || !m->weights || !neuron_freq || !cluster_freqs)
        return grok__fail(GROK_ERR_ARG, "grok_wlogit_cluster_norms: NULL argument");
    if (nc < 1) return grok__fail(GROK_ERR_ARG, "grok_wlogit_cluster_norms: nc = %d", nc);
    p = m->cfg.d_vocab_out; M = m->cfg.d_mlp;
    Wf = GROK__NEW(double, (size_t)M * p);
    if (!Wf) return grok__fail(GROK_ERR_NOMEM, "grok_wlogit_cluster_norms: out of memory");
    if ((st = grok_modadd_wlogit(NULL, Wf, m)) == GROK_OK) /* Wf (M, p) = W_logit @ F^T */
        for (long c = 0; c < nc; c++)
            for (long j = 0; j < p; j++) {
                double s = 0;
                for (long i = 0; i < M; i++) if (neuron_freq[i] == cluster_freqs[c]) s += Wf[i * p + j] * Wf[i * p + j];
                out[c * p + j] = s;
            }
    GROK_FREE(Wf);
    return st;
}

GROKDEF int grok_modadd_logit_components(double *cos_c, double *sin_c, const grok_model *m, const float *acts,
                                         const int *freqs, int nf)
{
    double *US, *g;
    int p = grok__modadd_p(m, "grok_modadd_logit_components"), M, st;
    long n;
    if (!p) return GROK_ERR_ARG;
    if ((!cos_c && !sin_c) || !acts || !freqs || nf < 1)
        return grok__fail(GROK_ERR_ARG, "grok_modadd_logit_components: NULL argument or nf = %d", nf);
    for (int f = 0; f < nf; f++)
        if (freqs[f] < 1 || freqs[f] > (p - 1) / 2)
            return grok__fail(GROK_ERR_ARG, "grok_modadd_logit_components: frequency %d outside 1..%d", freqs[f], (p - 1) / 2);
    M = m->cfg.d_mlp; n = (long)p * p;
    US = GROK__NEW(double, (size_t)M * p + (size_t)n);
    if (!US) return grok__fail(GROK_ERR_NOMEM, "grok_modadd_logit_components: out of memory");
    g = US + (size_t)M * p;
    st = grok_modadd_wlogit(NULL, US, m); /* US (M, p) */
    for (int f = 0; f < nf && st == GROK_OK; f++)
        for (int sc = 0; sc < 2 && st == GROK_OK; sc++) {
            double *o = sc ? sin_c : cos_c;
            long col = 2L * freqs[f] - 1 + sc;
            if (!o) continue;
            for (long r = 0; r < n; r++) { /* g (p*p) = acts @ US[:, col] */
                double s = 0;
                for (long i = 0; i < M; i++) s += (double)acts[r * M + i] * US[i * p + col];
                g[r] = s;
            }
            st = grok_fourier_2d(o + (size_t)f * n, g, p, 1);
        }
    GROK_FREE(US);
    return st;
}

/* ---- direct logit attribution, the logit lens, circuits */

enum { GROK__RC_EMBED, GROK__RC_POS, GROK__RC_ATTN, GROK__RC_HEAD, GROK__RC_B_O, GROK__RC_MLP, GROK__RC_NEURON,
       GROK__RC_B_OUT, GROK__RC_PRE, GROK__RC_MID, GROK__RC_POST };

/* Components of grok_resid_stack for flags: the count, or -1 for flags it does not take. */
static int grok__resid_count(const grok_config *cfg, int flags)
{
    const int L = cfg->n_layers, mid = (flags & GROK_RESID_INCL_MID) != 0;
    if (flags & ~(GROK_RESID_HEADS | GROK_RESID_NEURONS | GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID)) return -1;
    if (flags & GROK_RESID_ACCUMULATED)
        return (flags & (GROK_RESID_HEADS | GROK_RESID_NEURONS)) ? -1 : L * (1 + mid) + 1;
    if (mid) return -1;
    return 2 + L * ((flags & GROK_RESID_HEADS ? cfg->n_heads + 1 : 1) + (flags & GROK_RESID_NEURONS ? cfg->d_mlp + 1 : 1));
}

/* Component i (0 <= i < grok__resid_count) of the stack for flags: its kind, layer and head or neuron. */
static void grok__resid_comp(const grok_config *cfg, int flags, int i, int *kind, int *layer, int *idx)
{
    const int H = cfg->n_heads, M = cfg->d_mlp, heads = flags & GROK_RESID_HEADS, neurons = flags & GROK_RESID_NEURONS;
    int per, r, na;
    *layer = cfg->n_layers - 1; *idx = 0;
    if (flags & GROK_RESID_ACCUMULATED) {
        per = flags & GROK_RESID_INCL_MID ? 2 : 1;
        if (i == cfg->n_layers * per) { *kind = GROK__RC_POST; return; }
        *layer = i / per;
        *kind = i % per ? GROK__RC_MID : GROK__RC_PRE;
        return;
    }
    if (i < 2) { *kind = i ? GROK__RC_POS : GROK__RC_EMBED; return; }
    na = heads ? H + 1 : 1;
    per = na + (neurons ? M + 1 : 1);
    *layer = (i - 2) / per;
    r = (i - 2) % per;
    if (r < na) *kind = !heads ? GROK__RC_ATTN : r < H ? GROK__RC_HEAD : GROK__RC_B_O;
    else { r -= na; *kind = !neurons ? GROK__RC_MLP : r < M ? GROK__RC_NEURON : GROK__RC_B_OUT; }
    *idx = r;
}

/* The model, the cache and pos (-1: the last) of a residual-stream function. */
static int grok__dla_check(const grok_model *m, const grok_cache *c, int *pos, const char *fn)
{
    if (!m || !m->weights || !c || !c->entries) return grok__fail(GROK_ERR_ARG, "%s: NULL model or cache", fn);
    if (c->B < 1) return grok__fail(GROK_ERR_ARG, "%s: the cache holds %d sequences", fn, c->B);
    if (*pos == -1) *pos = m->cfg.n_ctx - 1;
    if (*pos < 0 || *pos >= m->cfg.n_ctx)
        return grok__fail(GROK_ERR_ARG, "%s: position %d outside 0..%d (or -1)", fn, *pos, m->cfg.n_ctx - 1);
    return GROK_OK;
}

/* Cached activation `name` of shape (B, n_ctx, d2) or, d3 > 0, (B, n_ctx, d2, d3): its data
   at sequence 0, position pos (the next sequence is n_ctx * d2 * max(d3, 1) floats on), or NULL
   and an error. */
static const float *grok__dla_act(const grok_model *m, const grok_cache *c, const char *name, int pos, int d2, int d3,
                                  const char *fn)
{
    const grok_tensor *t = grok_cache_get(c, name);
    const long inner = (long)d2 * (d3 > 0 ? d3 : 1);
    if (!t) { grok__fail(GROK_ERR_ARG, "%s: the cache has no %s", fn, name); return NULL; }
    if (t->ndim != (d3 > 0 ? 4 : 3) || t->shape[0] != c->B || t->shape[1] != m->cfg.n_ctx || t->shape[2] != d2 ||
        (d3 > 0 && t->shape[3] != d3) || !grok_tensor_is_contiguous(t)) {
        grok__fail(GROK_ERR_ARG, "%s: cached %s is not of this model's shape", fn, name);
        return NULL;
    }
    return t->data + (long)pos * inner;
}

/* Weight `name` of layer l ("blocks.l." prefixed when l >= 0), or NULL and an error. */
static const float *grok__dla_w(const grok_model *m, int l, const char *name, const char *fn)
{
    char full[GROK_NAME_MAX];
    const float *w;
    if (l >= 0) snprintf(full, sizeof full, "blocks.%d.%s", l, name);
    else snprintf(full, sizeof full, "%s", name);
    w = grok__w(m, full);
    if (!w) grok__fail(GROK_ERR_ARG, "%s: the model has no %s", fn, full);
    return w;
}

static int grok__resid_stack_at(double *out, int *n_comp, const grok_model *m, const grok_cache *c, int pos, int flags)
{
    static const char *fn = "grok_resid_stack";
    int n, st;
    if (!n_comp) return grok__fail(GROK_ERR_ARG, "%s: n_comp is NULL", fn);
    if ((st = grok__dla_check(m, c, &pos, fn)) != GROK_OK) return st;
    if ((n = grok__resid_count(&m->cfg, flags)) < 0) return grok__fail(GROK_ERR_ARG, "%s: flags %d", fn, flags);
    *n_comp = n;
    if (!out) return GROK_OK;
    {
        const int B = c->B, C = m->cfg.d_model, T = m->cfg.n_ctx, H = m->cfg.n_heads, D = m->cfg.d_head;
        const int M = m->cfg.d_mlp;
        for (int i = 0; i < n; i++) {
            static const char *hook[] = {"hook_embed", "hook_pos_embed", "hook_attn_out", "", "", "hook_mlp_out", "", "",
                                         "hook_resid_pre", "hook_resid_mid", "hook_resid_post"};
            char name[GROK_NAME_MAX];
            int kind, l, idx;
            double *o = out + (size_t)i * B * C;
            const float *a, *w;
            grok__resid_comp(&m->cfg, flags, i, &kind, &l, &idx);
            switch (kind) {
            case GROK__RC_HEAD: /* z[:, pos, h] @ W_O[l][h] */
                if (!(w = grok__dla_w(m, l, "attn.W_O", fn))) return GROK_ERR_ARG;
                snprintf(name, sizeof name, "blocks.%d.attn.hook_z", l);
                if (!(a = grok__dla_act(m, c, name, pos, H, D, fn))) return GROK_ERR_ARG;
                w += (size_t)idx * D * C;
                for (long b = 0; b < B; b++) {
                    const float *z = a + b * T * H * D + (long)idx * D;
                    for (int k = 0; k < C; k++) o[b * C + k] = 0;
                    for (int d = 0; d < D; d++)
                        for (int k = 0; k < C; k++) o[b * C + k] += (double)z[d] * w[(long)d * C + k];
                }
                break;
            case GROK__RC_NEURON: /* post[:, pos, n] * W_out[l][n] */
                if (!(w = grok__dla_w(m, l, "mlp.W_out", fn))) return GROK_ERR_ARG;
                snprintf(name, sizeof name, "blocks.%d.mlp.hook_post", l);
                if (!(a = grok__dla_act(m, c, name, pos, M, 0, fn))) return GROK_ERR_ARG;
                for (long b = 0; b < B; b++)
                    for (int k = 0; k < C; k++) o[b * C + k] = (double)a[b * T * M + idx] * w[(long)idx * C + k];
                break;
            case GROK__RC_B_O: case GROK__RC_B_OUT:
                if (!(w = grok__dla_w(m, l, kind == GROK__RC_B_O ? "attn.b_O" : "mlp.b_out", fn))) return GROK_ERR_ARG;
                for (long b = 0; b < B; b++)
                    for (int k = 0; k < C; k++) o[b * C + k] = w[k];
                break;
            default: /* a cached (B, T, C) hook point */
                if (kind == GROK__RC_EMBED || kind == GROK__RC_POS) snprintf(name, sizeof name, "%s", hook[kind]);
                else snprintf(name, sizeof name, "blocks.%d.%s", l, hook[kind]);
                if (!(a = grok__dla_act(m, c, name, pos, C, 0, fn))) return GROK_ERR_ARG;
                for (long b = 0; b < B; b++)
                    for (int k = 0; k < C; k++) o[b * C + k] = a[b * T * C + k];
            }
        }
    }
    return GROK_OK;
}

GROKDEF int grok_resid_stack_name(char *buf, size_t n, const grok_model *m, int flags, int i)
{
    int count, kind, l, idx, len = 0;
    if (!buf || n < 1 || !m) return grok__fail(GROK_ERR_ARG, "grok_resid_stack_name: NULL argument");
    buf[0] = '\0';
    if ((count = grok__resid_count(&m->cfg, flags)) < 0) return grok__fail(GROK_ERR_ARG, "grok_resid_stack_name: flags %d", flags);
    if (i < 0 || i >= count)
        return grok__fail(GROK_ERR_ARG, "grok_resid_stack_name: component %d outside 0..%d", i, count - 1);
    grok__resid_comp(&m->cfg, flags, i, &kind, &l, &idx);
    switch (kind) {
    case GROK__RC_EMBED: len = snprintf(buf, n, "embed"); break;
    case GROK__RC_POS: len = snprintf(buf, n, "pos_embed"); break;
    case GROK__RC_ATTN: len = snprintf(buf, n, "%d_attn_out", l); break;
    case GROK__RC_HEAD: len = snprintf(buf, n, "L%dH%d", l, idx); break;
    case GROK__RC_B_O: len = snprintf(buf, n, "%d_b_O", l); break;
    case GROK__RC_MLP: len = snprintf(buf, n, "%d_mlp_out", l); break;
    case GROK__RC_NEURON: len = snprintf(buf, n, "L%dN%d", l, idx); break;
    case GROK__RC_B_OUT: len = snprintf(buf, n, "%d_b_out", l); break;
    case GROK__RC_PRE: len = snprintf(buf, n, "%d_pre", l); break;
    case GROK__RC_MID: len = snprintf(buf, n, "%d_mid", l); break;
    default: len = snprintf(buf, n, "final_post");
    }
    if (len < 0 || (size_t)len >= n) return grok__fail(GROK_ERR_ARG, "grok_resid_stack_name: buffer of %zu bytes too small", n);
    return GROK_OK;
}

static int grok__resid_apply_ln_at(double *stack, int n_comp, const grok_model *m, const grok_cache *c, int pos, int layer,
                                   int mlp_input)
{
    static const char *fn = "grok_resid_apply_ln";
    char name[GROK_NAME_MAX];
    const float *x;
    int st, B, C, T;
    if (!stack) return grok__fail(GROK_ERR_ARG, "%s: stack is NULL", fn);
    if ((st = grok__dla_check(m, c, &pos, fn)) != GROK_OK) return st;
    if (n_comp < 1) return grok__fail(GROK_ERR_ARG, "%s: %d components", fn, n_comp);
    if (layer < -1 || layer > m->cfg.n_layers)
        return grok__fail(GROK_ERR_ARG, "%s: layer %d, want -1..%d", fn, layer, m->cfg.n_layers);
    if (m->cfg.normalization != GROK_NORM_LN) return GROK_OK;
    B = c->B; C = m->cfg.d_model; T = m->cfg.n_ctx;
    if (layer < 0 || layer == m->cfg.n_layers) snprintf(name, sizeof name, "blocks.%d.hook_resid_post", m->cfg.n_layers - 1);
    else snprintf(name, sizeof name, mlp_input ? "blocks.%d.hook_resid_mid" : "blocks.%d.hook_resid_pre", layer);
    if (!(x = grok__dla_act(m, c, name, pos, C, 0, fn))) return GROK_ERR_ARG;
    for (long b = 0; b < B; b++) {
        const float *r = x + b * T * C;
        double mean = 0, var = 0, scale;
        for (int k = 0; k < C; k++) mean += r[k];
        mean /= C;
        for (int k = 0; k < C; k++) var += (r[k] - mean) * (r[k] - mean);
        scale = sqrt(var / C + m->cfg.ln_eps);
        for (long i = 0; i < n_comp; i++) {
            double *v = stack + ((size_t)i * B + b) * C, vm = 0;
            for (int k = 0; k < C; k++) vm += v[k];
            vm /= C;
            for (int k = 0; k < C; k++) v[k] = (v[k] - vm) / scale;
        }
    }
    return GROK_OK;
}

static int grok__logit_attrs_at(double *out, double *bias, const grok_model *m, const grok_cache *c, const double *stack,
                                int n_comp, int pos, const int *tokens, const int *incorrect, int n_tokens)
{
    static const char *fn = "grok_logit_attrs";
    const float *WU, *bU, *lw = NULL, *lb = NULL;
    double *s, *W;
    int st, B, C, V, K;
    if (!out || !stack) return grok__fail(GROK_ERR_ARG, "%s: out or stack is NULL", fn);
    if ((st = grok__dla_check(m, c, &pos, fn)) != GROK_OK) return st;
    if (n_comp < 1) return grok__fail(GROK_ERR_ARG, "%s: %d components", fn, n_comp);
    B = c->B; C = m->cfg.d_model; V = m->cfg.d_vocab_out;
    K = tokens ? n_tokens : V;
    if (K < 1) return grok__fail(GROK_ERR_ARG, "%s: %d tokens", fn, n_tokens);
    if (incorrect && !tokens) return grok__fail(GROK_ERR_ARG, "%s: incorrect tokens without tokens", fn);
    for (long j = 0; tokens && j < (long)B * K; j++)
        if (tokens[j] < 0 || tokens[j] >= V || (incorrect && (incorrect[j] < 0 || incorrect[j] >= V)))
            return grok__fail(GROK_ERR_ARG, "%s: token %d outside 0..%d", fn,
                              tokens[j] < 0 || tokens[j] >= V ? tokens[j] : incorrect[j], V - 1);
    if (!(WU = grok__dla_w(m, -1, "unembed.W_U", fn)) || !(bU = grok__dla_w(m, -1, "unembed.b_U", fn))) return GROK_ERR_ARG;
    if (m->cfg.normalization == GROK_NORM_LN &&
        (!(lw = grok__dla_w(m, -1, "ln_final.w", fn)) || !(lb = grok__dla_w(m, -1, "ln_final.b", fn))))
        return GROK_ERR_ARG;
    s = GROK__NEW(double, (size_t)n_comp * B * C + (size_t)C * V);
    if (!s) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    W = s + (size_t)n_comp * B * C;
    memcpy(s, stack, sizeof(double) * (size_t)n_comp * B * C);
    for (long k = 0; k < C; k++) /* W_U' = ln_final.w[:, None] * W_U */
        for (long v = 0; v < V; v++) W[k * V + v] = (lw ? (double)lw[k] : 1.0) * WU[k * V + v];
    st = grok__resid_apply_ln_at(s, n_comp, m, c, pos, -1, 0);
    for (long i = 0; i < n_comp && st == GROK_OK; i++)
        for (long b = 0; b < B; b++) {
            const double *x = s + (i * B + b) * C;
            double *o = out + (i * B + b) * K;
            if (tokens) {
                for (long j = 0; j < K; j++) {
                    const int t = tokens[b * K + j], u = incorrect ? incorrect[b * K + j] : -1;
                    double acc = 0;
                    for (long k = 0; k < C; k++) acc += x[k] * (u < 0 ? W[k * V + t] : W[k * V + t] - W[k * V + u]);
                    o[j] = acc;
                }
            } else {
                for (long v = 0; v < V; v++) o[v] = 0;
                for (long k = 0; k < C; k++) grok__vaxpy(o, x[k], W + k * V, V);
            }
        }
    for (long b = 0; bias && st == GROK_OK && b < B; b++)
        for (long j = 0; j < K; j++) {
            const long t = tokens ? tokens[b * K + j] : j, u = incorrect ? incorrect[b * K + j] : -1;
            double acc = bU[t] - (u >= 0 ? bU[u] : 0.0);
            for (long k = 0; lb && k < C; k++) acc += (double)lb[k] * ((double)WU[k * V + t] - (u >= 0 ? (double)WU[k * V + u] : 0.0));
            bias[b * K + j] = acc;
        }
    GROK_FREE(s);
    return st;
}

/* GROK_POS_ALL: the single-position functions above at every position t, rows (i, b) of their
   (n, B, w) results moved to rows (i, b, t) of (n, B, T, w) (TransformerLens' pos_slice=None). */
static void grok__pos_move(double *all, double *one, long n, long B, long T, long t, long w, int to_all)
{
    for (long r = 0; r < n * B; r++) {
        double *a = all + (r * T + t) * w, *o = one + r * w;
        if (to_all) memcpy(a, o, sizeof(double) * (size_t)w);
        else memcpy(o, a, sizeof(double) * (size_t)w);
    }
}

GROKDEF int grok_resid_stack(double *out, int *n_comp, const grok_model *m, const grok_cache *c, int pos, int flags)
{
    double *one;
    int st = GROK_OK, t;
    long B, C, T;
    if (pos != GROK_POS_ALL) return grok__resid_stack_at(out, n_comp, m, c, pos, flags);
    if ((st = grok__resid_stack_at(NULL, n_comp, m, c, 0, flags)) != GROK_OK || !out) return st;
    B = c->B; C = m->cfg.d_model; T = m->cfg.n_ctx;
    if (!(one = GROK__NEW(double, (size_t)*n_comp * B * C))) return grok__fail(GROK_ERR_NOMEM, "grok_resid_stack: out of memory");
    for (t = 0; t < T && st == GROK_OK; t++)
        if ((st = grok__resid_stack_at(one, n_comp, m, c, t, flags)) == GROK_OK) grok__pos_move(out, one, *n_comp, B, T, t, C, 1);
    GROK_FREE(one);
    return st;
}

GROKDEF int grok_resid_apply_ln(double *stack, int n_comp, const grok_model *m, const grok_cache *c, int pos, int layer,
                                int mlp_input)
{
    double *one;
    int st = GROK_OK, t;
    long B, C, T;
    if (pos != GROK_POS_ALL) return grok__resid_apply_ln_at(stack, n_comp, m, c, pos, layer, mlp_input);
    if (!stack || n_comp < 1) return grok__resid_apply_ln_at(stack, n_comp, m, c, 0, layer, mlp_input);
    t = 0;
    if ((st = grok__dla_check(m, c, &t, "grok_resid_apply_ln")) != GROK_OK) return st;
    B = c->B; C = m->cfg.d_model; T = m->cfg.n_ctx;
    if (!(one = GROK__NEW(double, (size_t)n_comp * B * C))) return grok__fail(GROK_ERR_NOMEM, "grok_resid_apply_ln: out of memory");
    for (t = 0; t < T && st == GROK_OK; t++) {
        grok__pos_move(stack, one, n_comp, B, T, t, C, 0);
        if ((st = grok__resid_apply_ln_at(one, n_comp, m, c, t, layer, mlp_input)) == GROK_OK)
            grok__pos_move(stack, one, n_comp, B, T, t, C, 1);
    }
    GROK_FREE(one);
    return st;
}

GROKDEF int grok_logit_attrs(double *out, double *bias, const grok_model *m, const grok_cache *c, const double *stack,
                             int n_comp, int pos, const int *tokens, const int *incorrect, int n_tokens)
{
    double *one, *one_out, *one_bias;
    int *tok = NULL, *inc = NULL, st = GROK_OK, t, K;
    long B, C, T;
    if (pos != GROK_POS_ALL) return grok__logit_attrs_at(out, bias, m, c, stack, n_comp, pos, tokens, incorrect, n_tokens);
    if (!out || !stack || n_comp < 1 || (tokens && n_tokens < 1) || (incorrect && !tokens))
        return grok__logit_attrs_at(out, bias, m, c, stack, n_comp, 0, tokens, incorrect, n_tokens); /* its message */
    t = 0;
    if ((st = grok__dla_check(m, c, &t, "grok_logit_attrs")) != GROK_OK) return st;
    B = c->B; C = m->cfg.d_model; T = m->cfg.n_ctx;
    K = tokens ? n_tokens : m->cfg.d_vocab_out;
    one = GROK__NEW(double, (size_t)n_comp * B * C + (size_t)n_comp * B * K + (size_t)B * K);
    if (tokens) tok = GROK__NEW(int, (size_t)2 * B * K);
    if (!one || (tokens && !tok)) {
        GROK_FREE(one);
        GROK_FREE(tok);
        return grok__fail(GROK_ERR_NOMEM, "grok_logit_attrs: out of memory");
    }
    one_out = one + (size_t)n_comp * B * C;
    one_bias = one_out + (size_t)n_comp * B * K;
    if (incorrect) inc = tok + (size_t)B * K;
    for (t = 0; t < T && st == GROK_OK; t++) {
        long b, j;
        for (b = 0; tokens && b < B; b++)
            for (j = 0; j < K; j++) {
                tok[b * K + j] = tokens[(b * T + t) * K + j];
                if (inc) inc[b * K + j] = incorrect[(b * T + t) * K + j];
            }
        grok__pos_move((double *)stack, one, n_comp, B, T, t, C, 0);
        st = grok__logit_attrs_at(one_out, bias ? one_bias : NULL, m, c, one, n_comp, t, tok, inc, n_tokens);
        if (st != GROK_OK) break;
        grok__pos_move(out, one_out, n_comp, B, T, t, K, 1);
        if (bias) grok__pos_move(bias, one_bias, 1, B, T, t, K, 1);
    }
    GROK_FREE(one);
    GROK_FREE(tok);
    return st;
}

/* out (rows, cols) = A @ B, A (rows, inner), B (inner, cols), element (i, j) of A at
   A[i * ar + j * ac], of B at B[i * br + j * bc] (strides give transposes); double sums. */
static void grok__matmul_fd(double *out, const float *A, long ar, long ac, const float *B, long br, long bc, int rows,
                            int inner, int cols)
{
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < cols; j++) {
            double acc = 0;
            for (long k = 0; k < inner; k++) acc += (double)A[i * ar + k * ac] * B[k * br + j * bc];
            out[i * cols + j] = acc;
        }
}

/* out (rows, cols) = A (rows, inner) @ B (inner, cols), all double row-major; B transposed
   (stored (cols, inner)) when bt != 0. */
static void grok__matmul_dd(double *out, const double *A, const double *B, int bt, int rows, int inner, int cols)
{
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < cols; j++) {
            double acc = 0;
            for (long k = 0; k < inner; k++) acc += A[i * inner + k] * (bt ? B[j * inner + k] : B[k * cols + j]);
            out[i * cols + j] = acc;
        }
}

GROKDEF int grok_circuit(double *left, double *right, double *product, const grok_model *m, int kind, int layer,
                         int head)
{
    static const char *fn = "grok_circuit";
    const float *WE, *W1, *W2, *WO = NULL;
    double *l = left, *r = right;
    int C, D, Vin, cols;
    if (!m || !m->weights) return grok__fail(GROK_ERR_ARG, "%s: NULL model", fn);
    if (kind < GROK_CIRCUIT_QK || kind > GROK_CIRCUIT_NEURON) return grok__fail(GROK_ERR_ARG, "%s: kind %d", fn, kind);
    if (layer < 0 || layer >= m->cfg.n_layers || head < 0 || head >= m->cfg.n_heads)
        return grok__fail(GROK_ERR_ARG, "%s: layer %d head %d outside the model's %d x %d", fn, layer, head,
                          m->cfg.n_layers, m->cfg.n_heads);
    if (!left && !right && !product) return GROK_OK;
    C = m->cfg.d_model; D = m->cfg.d_head; Vin = m->cfg.d_vocab;
    cols = kind == GROK_CIRCUIT_QK ? Vin : kind == GROK_CIRCUIT_OV ? m->cfg.d_vocab_out : m->cfg.d_mlp;
    if (!(WE = grok__dla_w(m, -1, "embed.W_E", fn)) ||
        !(W1 = grok__dla_w(m, layer, kind == GROK_CIRCUIT_QK ? "attn.W_Q" : "attn.W_V", fn)) ||
        !(W2 = grok__dla_w(m, kind == GROK_CIRCUIT_OV ? -1 : layer,
                           kind == GROK_CIRCUIT_QK ? "attn.W_K" : kind == GROK_CIRCUIT_OV ? "unembed.W_U" : "mlp.W_in", fn)) ||
        (kind != GROK_CIRCUIT_QK && !(WO = grok__dla_w(m, layer, "attn.W_O", fn))))
        return GROK_ERR_ARG;
    if (!l) l = GROK__NEW(double, (size_t)Vin * D);
    if (!r) r = GROK__NEW(double, (size_t)D * cols);
    if (!l || !r) {
        if (l != left) GROK_FREE(l);
        if (r != right) GROK_FREE(r);
        return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    }
    W1 += (size_t)head * C * D;
    grok__matmul_fd(l, WE, C, 1, W1, D, 1, Vin, C, D); /* W_E W_Q[h] or W_E W_V[h] */
    if (kind == GROK_CIRCUIT_QK) /* (W_E W_K[h])^T: element (d, u) = sum_c W_K[h][c][d] W_E[u][c] */
        grok__matmul_fd(r, W2 + (size_t)head * C * D, 1, D, WE, 1, C, D, C, Vin);
    else /* W_O[h] W_U or W_O[h] W_in */
        grok__matmul_fd(r, WO + (size_t)head * D * C, C, 1, W2, cols, 1, D, C, cols);
    if (product) grok__matmul_dd(product, l, r, 0, Vin, D, cols);
    if (l != left) GROK_FREE(l);
    if (r != right) GROK_FREE(r);
    return GROK_OK;
}

GROKDEF int grok_factored_svd(double *U, double *S, double *Vt, const double *left, const double *right, int rows,
                              int inner, int cols)
{
    static const char *fn = "grok_factored_svd";
    int ka, kb, kmax, r, st;
    size_t na, nb, nc, total;
    double *mem, *Ua, *Ra, *Rt, *Ub, *Rb, *core, *Uc, *Sc, *Vct, *Uo;
    if (!left || !right) return grok__fail(GROK_ERR_ARG, "%s: left or right is NULL", fn);
    if (rows < 1 || inner < 1 || cols < 1)
        return grok__fail(GROK_ERR_ARG, "%s: factors (%d, %d) and (%d, %d), want every size >= 1", fn, rows, inner, inner, cols);
    if (!U && !S && !Vt) return GROK_OK;
    ka = rows < inner ? rows : inner; kb = cols < inner ? cols : inner;
    r = ka < kb ? ka : kb; kmax = ka < kb ? kb : ka;
    na = (size_t)rows * ka; nb = (size_t)cols * kb; nc = (size_t)ka * kb;
    total = na + (size_t)ka * inner + (size_t)cols * inner + nb + (size_t)kb * inner + 2 * nc + (size_t)kmax +
            (size_t)r * kb + (size_t)rows * r;
    mem = GROK__NEW(double, total);
    if (!mem) return grok__fail(GROK_ERR_NOMEM, "%s: out of memory", fn);
    Ua = mem; Ra = Ua + na; Rt = Ra + (size_t)ka * inner; Ub = Rt + (size_t)cols * inner; Rb = Ub + nb;
    core = Rb + (size_t)kb * inner; Uc = core + nc; Sc = Uc + nc; Vct = Sc + kmax; Uo = Vct + (size_t)r * kb;
    /* left = Ua Ra, right^T = Ub Rb (orthonormal columns Ua, Ub; R = diag(S) Vt of each SVD) */
    st = grok_svd(Ua, Sc, Ra, left, rows, inner, 0);
    for (long i = 0; i < ka && st == GROK_OK; i++)
        for (long j = 0; j < inner; j++) Ra[i * inner + j] *= Sc[i];
    for (long i = 0; i < cols; i++)
        for (long j = 0; j < inner; j++) Rt[i * inner + j] = right[j * cols + i];
    if (st == GROK_OK) st = grok_svd(Ub, Sc, Rb, Rt, cols, inner, 0);
    for (long i = 0; i < kb && st == GROK_OK; i++)
        for (long j = 0; j < inner; j++) Rb[i * inner + j] *= Sc[i];
    if (st == GROK_OK) { /* left @ right = Ua (Ra Rb^T) Ub^T: the SVD of the core Ra Rb^T (ka, kb) */
        grok__matmul_dd(core, Ra, Rb, 1, ka, inner, kb);
        st = grok_svd(Uc, Sc, Vct, core, ka, kb, 0);
    }
    if (st == GROK_OK) {
        grok__matmul_dd(Uo, Ua, Uc, 0, rows, ka, r); /* U = Ua Uc, Vt = Vct Ub^T */
        for (long i = 0; i < r; i++) { /* grok_svd's sign convention on U's columns */
            long best = 0;
            for (long j = 1; j < rows; j++)
                if (fabs(Uo[j * r + i]) > fabs(Uo[best * r + i])) best = j;
            if (Uo[best * r + i] < 0) {
                for (long j = 0; j < rows; j++) Uo[j * r + i] = -Uo[j * r + i];
                for (long j = 0; j < kb; j++) Vct[i * kb + j] = -Vct[i * kb + j];
            }
        }
        if (U) memcpy(U, Uo, sizeof(double) * (size_t)rows * r);
        if (S) memcpy(S, Sc, sizeof(double) * (size_t)r);
        if (Vt) grok__matmul_dd(Vt, Vct, Ub, 1, r, kb, cols);
    }
    GROK_FREE(mem);
    return st;
}

/* ---- activation and attribution patching */

static const char *const grok__patch_sites[GROK_PATCH_SITES][2] = {
    {"resid_pre", "blocks.%d.hook_resid_pre"}, {"resid_mid", "blocks.%d.hook_resid_mid"},
    {"resid_post", "blocks.%d.hook_resid_post"}, {"attn_out", "blocks.%d.hook_attn_out"},
    {"mlp_out", "blocks.%d.hook_mlp_out"}, {"z", "blocks.%d.attn.hook_z"}, {"q", "blocks.%d.attn.hook_q"},
    {"k", "blocks.%d.attn.hook_k"}, {"v", "blocks.%d.attn.hook_v"}, {"pattern", "blocks.%d.attn.hook_pattern"},
    {"neuron", "blocks.%d.mlp.hook_post"}};

GROKDEF const char *grok_patch_site_name(int site)
{
    return site >= 0 && site < GROK_PATCH_SITES ? grok__patch_sites[site][0] : "?";
}

GROKDEF int grok_patch_shape(int shape[3], int *ndim, const grok_model *m, int site, int by_pos)
{
    const grok_config *c;
    int inner;
    if (!shape || !ndim || !m) return grok__fail(GROK_ERR_ARG, "grok_patch_shape: NULL argument");
    if (site < 0 || site >= GROK_PATCH_SITES) return grok__fail(GROK_ERR_ARG, "grok_patch_shape: site %d is not a grok_patch_site", site);
    c = &m->cfg;
    shape[0] = c->n_layers; shape[1] = shape[2] = 0;
    inner = site == GROK_PATCH_NEURON ? c->d_mlp : c->n_heads; /* the per-layer unit, if any */
    if (site <= GROK_PATCH_MLP_OUT) {
        *ndim = by_pos ? 2 : 1;
        shape[1] = by_pos ? c->n_ctx : 0;
    } else if (!by_pos) {
        *ndim = 2;
        shape[1] = inner;
    } else {
        *ndim = 3;
        shape[1] = site == GROK_PATCH_PATTERN ? c->n_heads : c->n_ctx;
        shape[2] = site == GROK_PATCH_PATTERN ? c->n_ctx : inner;
    }
    return GROK_OK;
}

/* The slice of a site's hook point (batch first) that grid index (i1, i2) names: up to two
   fixed (dimension, index) pairs, as in the table of grok_patch_shape. */
typedef struct { int n, dim[2], idx[2]; } grok__patch_sel;

static grok__patch_sel grok__patch_select(int site, int by_pos, int i1, int i2)
{
    grok__patch_sel s;
    s.n = 0;
    if (site <= GROK_PATCH_MLP_OUT) { /* (B,T,C) */
        if (by_pos) { s.dim[0] = 1; s.idx[0] = i1; s.n = 1; }
    } else if (site == GROK_PATCH_PATTERN) { /* (B,H,T,T): head, then destination */
        s.dim[0] = 1; s.idx[0] = i1; s.n = 1;
        if (by_pos) { s.dim[1] = 2; s.idx[1] = i2; s.n = 2; }
    } else { /* (B,T,H,D) or (B,T,M): position, then head or neuron */
        if (by_pos) { s.dim[0] = 1; s.idx[0] = i1; s.dim[1] = 2; s.idx[1] = i2; s.n = 2; }
        else { s.dim[0] = 2; s.idx[0] = i1; s.n = 1; }
    }
    return s;
}

static int grok__patch_view(grok_tensor *v, const grok_tensor *t, const grok__patch_sel *s)
{
    int k, st;
    *v = *t;
    for (k = 0; k < s->n; k++)
        if ((st = grok_tensor_slice(v, v, s->dim[k], s->idx[k], 1)) != GROK_OK) return st;
    return GROK_OK;
}

static int grok__same_shape(const grok_tensor *a, const grok_tensor *b, int from_dim)
{
    int d;
    if (a->ndim != b->ndim) return 0;
    for (d = from_dim; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

/* The patching hook: the current forward's batch rows are rows b0.. of source. */
typedef struct {
    const grok_tensor *source;
    grok__patch_sel sel;
    int b0;
} grok__patch_ctx;

static int grok__patch_hook(grok_tensor *act, const char *name, void *ctx)
{
    const grok__patch_ctx *pc = (const grok__patch_ctx *)ctx;
    grok_tensor src, dst;
    long i, rows, last;
    int k, st;
    if (!grok__same_shape(act, pc->source, 1))
        return grok__fail(GROK_ERR_ARG, "patching %s: the clean cache's entry has another shape", name);
    if ((st = grok_tensor_slice(&src, pc->source, 0, pc->b0, act->shape[0])) != GROK_OK) return st;
    if ((st = grok__patch_view(&src, &src, &pc->sel)) != GROK_OK || (st = grok__patch_view(&dst, act, &pc->sel)) != GROK_OK)
        return st;
    rows = grok__tensor_rows(&dst);
    last = dst.shape[dst.ndim - 1];
    for (i = 0; i < rows; i++) {
        float *d = dst.data + grok__tensor_row_offset(&dst, i);
        const float *s = src.data + grok__tensor_row_offset(&src, i);
        for (k = 0; k < last; k++) d[k * dst.stride[dst.ndim - 1]] = s[k * src.stride[src.ndim - 1]];
    }
    return GROK_OK;
}

/* A site's cache entry for layer l, checked against B rows; NULL and an error if absent. */
static const grok_tensor *grok__patch_entry(const grok_cache *c, int site, int l, int B, const char *what, const char *who)
{
    char name[GROK_NAME_MAX];
    const grok_tensor *t;
    /* cppcheck-suppress wrongPrintfScanfArgNum ; every format holds one %d, the layer */
    snprintf(name, sizeof name, grok__patch_sites[site][1], l);
    t = grok_cache_get(c, name);
    if (!t) { grok__fail(GROK_ERR_ARG, "%s: the %s cache has no %s", who, what, name); return NULL; }
    if (t->shape[0] != B) { grok__fail(GROK_ERR_ARG, "%s: the %s cache's %s has %d sequences, want %d", who, what, name, t->shape[0], B); return NULL; }
    return t;
}

GROKDEF int grok_act_patch(double *out, grok_model *m, const int *corrupted, int B, const grok_cache *clean, int site,
                           int by_pos, grok_metric_fn metric, void *metric_ctx)
{
    int shape[3], ndim, st, l, i1, i2, n1, n2, T, V, chunk, start, n_user;
    long k = 0;
    float *logits;
    grok__patch_ctx pc;
    if (!out || !m || !m->acts || !corrupted || !clean || !metric)
        return grok__fail(GROK_ERR_ARG, "grok_act_patch: NULL argument");
    if ((st = grok_patch_shape(shape, &ndim, m, site, by_pos)) != GROK_OK) return st;
    if (B < 1) return grok__fail(GROK_ERR_ARG, "grok_act_patch: %d sequences", B);
    for (l = 0; l < m->cfg.n_layers; l++)
        if (!grok__patch_entry(clean, site, l, B, "clean", "grok_act_patch")) return GROK_ERR_ARG;
    T = m->cfg.n_ctx; V = m->cfg.d_vocab_out;
    chunk = m->max_rows / T;
    logits = (float *)GROK_MALLOC(sizeof(float) * (size_t)B * T * V);
    if (!logits) return grok__fail(GROK_ERR_NOMEM, "grok_act_patch: logits of %d sequences", B);
    n1 = ndim > 1 ? shape[1] : 1;
    n2 = ndim > 2 ? shape[2] : 1;
    n_user = m->acts->n_hooks;
    for (l = 0; l < m->cfg.n_layers && st == GROK_OK; l++) {
        char name[GROK_NAME_MAX];
        pc.source = grok__patch_entry(clean, site, l, B, "clean", "grok_act_patch");
        /* cppcheck-suppress wrongPrintfScanfArgNum ; every format holds one %d, the layer */
        snprintf(name, sizeof name, grok__patch_sites[site][1], l);
        if ((st = grok_model_add_hook(m, name, grok__patch_hook, &pc)) != GROK_OK) break;
        for (i1 = 0; i1 < n1 && st == GROK_OK; i1++)
            for (i2 = 0; i2 < n2 && st == GROK_OK; i2++) {
                double v;
                pc.sel = grok__patch_select(site, by_pos, i1, i2);
                for (start = 0; start < B && st == GROK_OK; start += chunk) {
                    int b = B - start < chunk ? B - start : chunk;
                    pc.b0 = start;
                    st = grok_model_forward(m, corrupted + (long)start * T, NULL, b, NULL, NULL, logits + (long)start * T * V);
                }
                if (st != GROK_OK) break;
                v = metric(logits, B, T, V, NULL, metric_ctx);
                if (isnan(v)) st = grok__fail(GROK_ERR_ARG, "grok_act_patch: the metric failed: %s", grok__error_message);
                out[k++] = v;
            }
        m->acts->n_hooks = n_user; /* the patching hook was the last one added */
    }
    GROK_FREE(logits);
    return st;
}

GROKDEF int grok_attr_patch(double *out, const grok_model *m, const grok_cache *clean, const grok_cache *corrupted,
                            const grok_cache *grads, int site, int by_pos)
{
    int shape[3], ndim, st, l, i1, i2, n1, n2, k;
    long idx = 0, i, rows;
    int B;
    if (!out || !m || !clean || !corrupted || !grads) return grok__fail(GROK_ERR_ARG, "grok_attr_patch: NULL argument");
    if ((st = grok_patch_shape(shape, &ndim, m, site, by_pos)) != GROK_OK) return st;
    B = corrupted->B;
    n1 = ndim > 1 ? shape[1] : 1;
    n2 = ndim > 2 ? shape[2] : 1;
    for (l = 0; l < m->cfg.n_layers; l++) {
        const grok_tensor *tc = grok__patch_entry(clean, site, l, B, "clean", "grok_attr_patch");
        const grok_tensor *tx = grok__patch_entry(corrupted, site, l, B, "corrupted", "grok_attr_patch");
        const grok_tensor *tg = grok__patch_entry(grads, site, l, B, "gradient", "grok_attr_patch");
        if (!tc || !tx || !tg) return GROK_ERR_ARG;
        if (!grok__same_shape(tc, tx, 0) || !grok__same_shape(tc, tg, 0))
            return grok__fail(GROK_ERR_ARG, "grok_attr_patch: layer %d: the three caches' %s entries differ in shape", l,
                              grok_patch_site_name(site));
        for (i1 = 0; i1 < n1; i1++)
            for (i2 = 0; i2 < n2; i2++) {
                grok__patch_sel sel = grok__patch_select(site, by_pos, i1, i2);
                grok_tensor vc, vx, vg;
                double sum = 0.0;
                if ((st = grok__patch_view(&vc, tc, &sel)) != GROK_OK || (st = grok__patch_view(&vx, tx, &sel)) != GROK_OK ||
                    (st = grok__patch_view(&vg, tg, &sel)) != GROK_OK)
                    return st;
                rows = grok__tensor_rows(&vc);
                for (i = 0; i < rows; i++) {
                    long o = grok__tensor_row_offset(&vc, i); /* the three views share one layout */
                    for (k = 0; k < vc.shape[vc.ndim - 1]; k++) {
                        long e = o + k * vc.stride[vc.ndim - 1];
                        sum += ((double)vc.data[e] - vx.data[e]) * vg.data[e];
                    }
                }
                out[idx++] = sum;
            }
    }
    return GROK_OK;
}

/* ---- the local learning coefficient */

static int grok__llc_resolve(grok_llc_opts *r, const grok_llc_opts *o, long n, const char *who)
{
    *r = *o;
    if (!r->chains) r->chains = 10;
    if (!r->draws) r->draws = 100;
    if (!r->batch) r->batch = n < 512 ? (int)n : 512;
    if (r->batch > n) r->batch = (int)n;
    if (r->step_size == 0.0) r->step_size = 1e-4;
    if (r->localization == 0.0) r->localization = 100.0;
    if (r->nbeta == 0.0) r->nbeta = r->batch > 1 ? r->batch / log((double)r->batch) : 1.0;
    if (r->chains < 1 || r->draws < 1 || r->burnin < 0 || r->batch < 1 || !(r->step_size > 0.0) || !isfinite(r->step_size) ||
        !(r->nbeta > 0.0) || !isfinite(r->nbeta) || !(r->localization >= 0.0) || !isfinite(r->localization))
        return grok__fail(GROK_ERR_ARG, "%s: need chains, draws, batch >= 1, burnin >= 0, step_size, nbeta > 0 and "
                          "localization >= 0, finite", who);
    return GROK_OK;
}

GROKDEF int grok_llc_sgld(double *llc, double *std, const float *w0, size_t d, long n, grok_llc_loss_fn loss, void *ctx,
                          const grok_llc_opts *opts)
{
    grok_llc_opts o;
    float *w, *g;
    int *rows;
    double init, sum = 0.0, sumsq = 0.0, noise;
    long k, pos;
    int c, st, t;
    size_t i;
    if (!llc || !w0 || !loss || !opts || d < 1 || n < 1) return grok__fail(GROK_ERR_ARG, "grok_llc_sgld: bad argument");
    if ((st = grok__llc_resolve(&o, opts, n, "grok_llc_sgld")) != GROK_OK) return st;
    w = GROK__NEW(float, d);
    g = GROK__NEW(float, d);
    rows = GROK__NEW(int, n);
    if (!w || !g || !rows) { st = grok__fail(GROK_ERR_NOMEM, "grok_llc_sgld: out of memory"); goto done; }
    for (k = 0; k < n; k++) rows[k] = (int)k;
    if ((st = loss(ctx, w0, rows, (int)n, &init, g)) != GROK_OK) goto done;
    noise = sqrt(o.step_size);
    for (c = 0; c < o.chains; c++) {
        grok_rng r;
        double chain = 0.0, est;
        grok_rng_seed(&r, o.seed + 0x9E3779B97F4A7C15ull * (uint64_t)(c + 1));
        memcpy(w, w0, sizeof(float) * d);
        pos = n; /* a fresh permutation of the rows at the first step, as a shuffling loader starts */
        for (t = 0; t < o.burnin + o.draws; t++) {
            double l;
            if (pos + o.batch > n) { grok_rng_shuffle(&r, rows, (size_t)n); pos = 0; }
            if ((st = loss(ctx, w, rows + pos, o.batch, &l, g)) != GROK_OK) goto done;
            if (!isfinite(l)) { st = grok__fail(GROK_ERR_NUMERIC, "grok_llc_sgld: chain %d step %d: loss %g (step_size too large?)", c, t, l); goto done; }
            pos += o.batch;
            if (t >= o.burnin) chain += l;
            for (i = 0; i < d; i++)
                w[i] = (float)(w[i] - o.step_size / 2.0 * (o.nbeta * g[i] + o.localization * ((double)w[i] - w0[i])) +
                               noise * grok_rng_normal(&r));
        }
        est = o.nbeta * (chain / o.draws - init);
        sum += est;
        sumsq += est * est;
    }
    *llc = sum / o.chains;
    if (std) *std = o.chains > 1 ? sqrt(fmax(0.0, (sumsq - sum * sum / o.chains) / (o.chains - 1))) : 0.0;
done:
    GROK_FREE(w);
    GROK_FREE(g);
    GROK_FREE(rows);
    return st;
}

typedef struct {
    grok_model *m;
    const grok_data *data;
    const float *w0;
    int *tokens, *targets; /* (max_batch, n_ctx): one chunk of the minibatch gathered */
} grok__llc_model;

/* The loss of the rows at w and its gradient, the mean over their target positions: w's
   trainable tensors go into the model (the frozen ones stay w0's, so their coordinates of w do
   not change the loss), forward and backward in chunks of max_batch sequences, each chunk's
   gradient weighted by its share of the targets. */
static int grok__llc_model_loss(void *ctx, const float *w, const int *rows, int n_rows, double *loss, float *grad)
{
    grok__llc_model *c = (grok__llc_model *)ctx;
    grok_model *m = c->m;
    int T = m->cfg.n_ctx, B = m->max_rows / T, s, st, i;
    long targets = 0;
    double sum = 0.0;
    size_t k;
    for (i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        memcpy(m->weights + p->offset, (p->trainable ? w : c->w0) + p->offset, sizeof(float) * p->numel);
    }
    memset(grad, 0, sizeof(float) * m->num_parameters);
    for (s = 0; s < n_rows; s += B) {
        int b = n_rows - s < B ? n_rows - s : B, nt;
        double l;
        for (i = 0; i < b; i++) {
            memcpy(c->tokens + (size_t)i * T, c->data->tokens + (size_t)rows[s + i] * T, sizeof(int) * (size_t)T);
            memcpy(c->targets + (size_t)i * T, c->data->targets + (size_t)rows[s + i] * T, sizeof(int) * (size_t)T);
        }
        grok_model_zero_grad(m);
        if ((st = grok_model_forward(m, c->tokens, c->targets, b, &l, NULL, NULL)) != GROK_OK) return st;
        if ((nt = m->acts->n_targets) == 0) continue;
        if ((st = grok_model_backward(m)) != GROK_OK) return st;
        for (k = 0; k < m->num_parameters; k++) grad[k] += m->grads[k] * (float)nt;
        sum += l * nt;
        targets += nt;
    }
    for (k = 0; targets && k < m->num_parameters; k++) grad[k] /= (float)targets;
    *loss = targets ? sum / targets : 0.0;
    return GROK_OK;
}

GROKDEF int grok_model_llc(double *llc, double *std, grok_model *m, const grok_data *data, const grok_llc_opts *opts)
{
    grok__llc_model c;
    grok_llc_opts o;
    float *w0, *grads;
    int st;
    if (!llc || !m || !m->acts || !data || !data->tokens || !data->targets || !opts)
        return grok__fail(GROK_ERR_ARG, "grok_model_llc: NULL argument");
    if (data->n_ctx != m->cfg.n_ctx || data->n < 1)
        return grok__fail(GROK_ERR_ARG, "grok_model_llc: data of n_ctx %d and %d rows for a model of n_ctx %d", data->n_ctx,
                          data->n, m->cfg.n_ctx);
    o = *opts;
    c.m = m; c.data = data;
    c.tokens = GROK__NEW(int, m->max_rows);
    c.targets = GROK__NEW(int, m->max_rows);
    w0 = GROK__NEW(float, m->num_parameters);
    grads = GROK__NEW(float, m->num_parameters);
    if (!c.tokens || !c.targets || !w0 || !grads) st = grok__fail(GROK_ERR_NOMEM, "grok_model_llc: out of memory");
    else {
        memcpy(w0, m->weights, sizeof(float) * m->num_parameters);
        memcpy(grads, m->grads, sizeof(float) * m->num_parameters);
        c.w0 = w0;
        st = grok_llc_sgld(llc, std, w0, m->num_parameters, data->n, grok__llc_model_loss, &c, &o);
        memcpy(m->weights, w0, sizeof(float) * m->num_parameters);
        memcpy(m->grads, grads, sizeof(float) * m->num_parameters);
        m->acts->n_targets = 0; /* no backward through the sampler's last forward */
    }
    GROK_FREE(c.tokens); GROK_FREE(c.targets); GROK_FREE(w0); GROK_FREE(grads);
    return st;
}

#endif /* GROK_NO_ANALYSIS */

/* ==== >>plots: SVG plots, phase diagrams, the HTML report ===================================== */

#ifndef GROK_NO_PLOTS

/* ---- plots */

/* ColorBrewer RdBu (11 classes, reversed so that negative is blue) with a white centre, and
   matplotlib's viridis at 9 stops; colours are interpolated linearly in sRGB. */
static const unsigned char grok__rdbu[11][3] = {
    {5, 48, 97}, {33, 102, 172}, {67, 147, 195}, {146, 197, 222}, {209, 229, 240}, {255, 255, 255},
    {253, 219, 199}, {244, 165, 130}, {214, 96, 77}, {178, 24, 43}, {103, 0, 31}};
static const unsigned char grok__viridis[9][3] = {
    {68, 1, 84}, {71, 45, 123}, {59, 82, 139}, {44, 114, 142}, {33, 145, 140},
    {40, 174, 128}, {94, 201, 98}, {173, 220, 48}, {253, 231, 37}};

static void grok__cmap_hex(char hex[8], grok_cmap cmap, double t) /* t in [0, 1]; NaN: grey */
{
    const unsigned char(*s)[3] = cmap == GROK_CMAP_VIRIDIS ? grok__viridis : grok__rdbu;
    int n = cmap == GROK_CMAP_VIRIDIS ? 9 : 11, i, k, c[3];
    double u, fr;
    if (t != t) { memcpy(hex, "#bdbdbd", 8); return; }
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    u = t * (n - 1);
    i = (int)u;
    if (i > n - 2) i = n - 2;
    fr = u - i;
    for (k = 0; k < 3; k++) c[k] = (int)floor(s[i][k] + fr * (s[i + 1][k] - s[i][k]) + 0.5);
    snprintf(hex, 8, "#%02x%02x%02x", c[0] & 255, c[1] & 255, c[2] & 255);
}

GROKDEF void grok_xml_escape(FILE *f, const char *s)
{
    if (!f || !s) return;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&') fputs("&amp;", f);
        else if (ch == '<') fputs("&lt;", f);
        else if (ch == '>') fputs("&gt;", f);
        else if (ch == '"') fputs("&quot;", f);
        else if (ch == '\'') fputs("&#39;", f);
        else if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') continue;
        else fputc(ch, f);
    }
}

static void grok__svg_text(FILE *f, double x, double y, const char *anchor, const char *attrs, const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor, attrs ? " " : "", attrs ? attrs : "");
    grok_xml_escape(f, s);
    fputs("</text>\n", f);
}

/* Up to 12 "nice" ticks (1, 2, 5 x 10^k apart) within [lo, hi]. */
static int grok__ticks(double *t, double lo, double hi)
{
    double range = hi - lo, step, mag, v;
    int n = 0;
    if (!(range > 0)) { t[0] = lo; return 1; }
    step = range / 5;
    mag = pow(10, floor(log10(step)));
    step = step / mag < 1.5 ? mag : step / mag < 3.5 ? 2 * mag : step / mag < 7.5 ? 5 * mag : 10 * mag;
    for (v = ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step && n < 12; v += step) t[n++] = fabs(v) < 1e-12 * step ? 0 : v;
    return n;
}

static void grok__fmt(char *buf, size_t n, double v) { snprintf(buf, n, "%.4g", v); }

struct grok__frame { double x0, y0, w, h; }; /* the plotting area of one panel */

/* A value for a data-v attribute: %.4g, or NaN / inf spelled out. */
static void grok__fmt_v(char *buf, size_t n, double v)
{
    if (isfinite(v)) grok__fmt(buf, n, v);
    else snprintf(buf, n, "%s", v != v ? "NaN" : v > 0 ? "inf" : "-inf");
}

/* names[i] escaped, or i when names (or names[i]) is NULL. */
static void grok__put_name(FILE *f, const char *const *names, long i)
{
    if (names && names[i]) grok_xml_escape(f, names[i]);
    else fprintf(f, "%ld", i);
}

/* Names instead of numbers on one axis (axis 0: x, 1: y), thinned so that they do not overlap:
   heatmap columns / rows at the cell centres (row 0 at the top), or the n x positions of lines
   over [xlo, xhi]. */
static void grok__name_ticks(FILE *f, const struct grok__frame *fr, const grok_plot *p, int axis, double xlo, double xhi)
{
    const char *const *names = axis ? p->y_names : p->x_names;
    int heat = p->kind == GROK_PLOT_HEATMAP, count = heat ? (axis ? p->rows : p->cols) : p->n, i, step;
    size_t maxlen = 1;
    for (i = 0; i < count; i++) if (names[i] && strlen(names[i]) > maxlen) maxlen = strlen(names[i]);
    if (maxlen > 24) maxlen = 24;
    step = axis ? (int)ceil(count * 13.0 / fr->h) : (int)ceil(count * (6.2 * (double)maxlen + 8) / fr->w);
    if (step < 1) step = 1;
    for (i = 0; i < count; i += step) {
        double pos;
        if (!names[i]) continue;
        if (axis) {
            pos = fr->y0 + (i + 0.5) * fr->h / count;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", fr->x0 - 4, pos, fr->x0, pos);
            grok__svg_text(f, fr->x0 - 6, pos + 4, "end", NULL, names[i]);
            continue;
        }
        if (heat) pos = fr->x0 + (i + 0.5) * fr->w / count;
        else if (isfinite(p->x[i])) pos = fr->x0 + (xhi > xlo ? (p->x[i] - xlo) / (xhi - xlo) : 0.5) * fr->w;
        else continue;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", pos, fr->y0 + fr->h, pos,
                fr->y0 + fr->h + 4);
        grok__svg_text(f, pos, fr->y0 + fr->h + 15, "middle", NULL, names[i]);
    }
}

static void grok__axes(FILE *f, const struct grok__frame *fr, double xlo, double xhi, double ylo, double yhi, int log_y,
                       const grok_plot *p, const char *title, int flip_y)
{
    double t[16];
    char b[32];
    int n, i;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", fr->x0,
            fr->y0, fr->w, fr->h);
    n = p->x_names ? 0 : grok__ticks(t, xlo, xhi);
    if (p->x_names) grok__name_ticks(f, fr, p, 0, xlo, xhi);
    for (i = 0; i < n; i++) {
        double px = fr->x0 + (xhi > xlo ? (t[i] - xlo) / (xhi - xlo) : 0.5) * fr->w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", px, fr->y0 + fr->h, px,
                fr->y0 + fr->h + 4);
        grok__fmt(b, sizeof b, t[i]);
        grok__svg_text(f, px, fr->y0 + fr->h + 15, "middle", NULL, b);
    }
    if (p->kind == GROK_PLOT_HEATMAP && p->y_names) {
        grok__name_ticks(f, fr, p, 1, 0, 0);
        n = 0;
    } else if (log_y) {
        double e;
        n = 0;
        for (e = ceil(ylo - 1e-9); e <= yhi + 1e-9 && n < 16; e += yhi - ylo > 12 ? 2 : 1) t[n++] = e;
    } else n = grok__ticks(t, ylo, yhi);
    for (i = 0; i < n; i++) {
        double fy = yhi > ylo ? (t[i] - ylo) / (yhi - ylo) : 0.5;
        double py = flip_y ? fr->y0 + fy * fr->h : fr->y0 + fr->h - fy * fr->h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", fr->x0 - 4, py, fr->x0, py);
        if (log_y) snprintf(b, sizeof b, "1e%d", (int)t[i]);
        else grok__fmt(b, sizeof b, t[i]);
        grok__svg_text(f, fr->x0 - 6, py + 4, "end", NULL, b);
    }
    if (title) grok__svg_text(f, fr->x0 + fr->w / 2, fr->y0 - 10, "middle", "font-size=\"13\" font-weight=\"bold\"", title);
    if (p->xlabel) grok__svg_text(f, fr->x0 + fr->w / 2, fr->y0 + fr->h + 32, "middle", NULL, p->xlabel);
    if (p->ylabel) {
        char tr[96];
        snprintf(tr, sizeof tr, "transform=\"rotate(-90 %.1f %.1f)\"", fr->x0 - 44, fr->y0 + fr->h / 2);
        grok__svg_text(f, fr->x0 - 44, fr->y0 + fr->h / 2, "middle", tr, p->ylabel);
    }
}

static void grok__cbar(FILE *f, double x, double y, double h, grok_cmap cmap, double vmin, double vmax, const char *label)
{
    double t[16], step = h / GROK_PLOT_CBAR_STEPS;
    char hex[8], b[32];
    int i, n;
    for (i = 0; i < GROK_PLOT_CBAR_STEPS; i++) {
        grok__cmap_hex(hex, cmap, (i + 0.5) / GROK_PLOT_CBAR_STEPS);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"12\" height=\"%.2f\" fill=\"%s\"/>\n", x,
                y + h - (i + 1) * step, step + 0.3, hex);
    }
    n = grok__ticks(t, vmin, vmax);
    for (i = 0; i < n; i++) {
        double py = y + h - (vmax > vmin ? (t[i] - vmin) / (vmax - vmin) : 0.5) * h;
        grok__fmt(b, sizeof b, t[i]);
        grok__svg_text(f, x + 15, py + 4, "start", NULL, b);
    }
    if (label) {
        char tr[96];
        snprintf(tr, sizeof tr, "transform=\"rotate(-90 %.1f %.1f)\"", x + 58, y + h / 2);
        grok__svg_text(f, x + 58, y + h / 2, "middle", tr, label);
    }
}

/* Part of a data-v attribute: the value v, or names[i] when i >= 0 and names has it; i = -1
   prefixes ", y ", i = -2 ", c ". */
static void grok__put_v(FILE *f, double v, const char *const *names, long i)
{
    char b[32];
    if (i == -1) fputs(", y ", f);
    else if (i == -2) fputs(", c ", f);
    if (i >= 0 && names && names[i]) { grok_xml_escape(f, names[i]); return; }
    grok__fmt_v(b, sizeof b, v);
    fputs(b, f);
}

#define GROK__MARKS 1000 /* hover markers per series of a line plot, at most */

static const char *const grok__series_colours[10] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

GROKDEF int grok_plot_write(FILE *f, const grok_plot *p)
{
    int np, pc, pr, W, H, i, j, k, q;
    double lo = 0, hi = 0, xlo = 0, xhi = 0, cw, ch;
    grok_cmap cmap;
    if (!f || !p) return grok__fail(GROK_ERR_ARG, "grok_plot_write: NULL argument");
    np = p->n_panels ? p->n_panels : 1;
    pc = p->panel_cols ? p->panel_cols : (np < 4 ? np : 4);
    W = p->width ? p->width : 420;
    H = p->height ? p->height : 320;
    if (np < 1 || np > 4096 || pc < 1 || W < 100 || W > 4000 || H < 100 || H > 4000)
        return grok__fail(GROK_ERR_ARG, "grok_plot_write: bad panels (%d, %d columns) or size %d x %d", np, pc, W, H);
    if (pc > np) pc = np;
    pr = (np + pc - 1) / pc;
    if (p->n_vlines < 0 || (p->n_vlines > 0 && !p->vlines))
        return grok__fail(GROK_ERR_ARG, "grok_plot_write: n_vlines %d without vlines", p->n_vlines);
    if (p->n_hlines < 0 || (p->n_hlines > 0 && (!p->hlines || p->kind != GROK_PLOT_HEATMAP)))
        return grok__fail(GROK_ERR_ARG, "grok_plot_write: n_hlines %d needs hlines and a heatmap", p->n_hlines);
    if (p->kind == GROK_PLOT_HEATMAP) {
        if (!p->z || p->rows < 1 || p->cols < 1 || (double)p->rows * p->cols * np > 5e7)
            return grok__fail(GROK_ERR_ARG, "grok_plot_write: heatmap needs z and 1 <= rows (%d), cols (%d)", p->rows, p->cols);
        cmap = p->cmap ? p->cmap : GROK_CMAP_RDBU;
    } else if (p->kind == GROK_PLOT_LINES) {
        if (!p->x || !p->y || p->n < 1 || p->n_series < 1 || (double)p->n * p->n_series * np > 5e7)
            return grok__fail(GROK_ERR_ARG, "grok_plot_write: lines need x, y, n >= 1 (%d) and n_series >= 1 (%d)", p->n,
                              p->n_series);
        cmap = GROK_CMAP_RDBU;
    } else if (p->kind == GROK_PLOT_SCATTER) {
        if (!p->x || !p->y || p->n < 1 || np != 1)
            return grok__fail(GROK_ERR_ARG, "grok_plot_write: scatter needs x, y, n >= 1 (%d) and one panel", p->n);
        cmap = p->cmap ? p->cmap : GROK_CMAP_VIRIDIS;
    } else return grok__fail(GROK_ERR_ARG, "grok_plot_write: unknown kind %d", (int)p->kind);
    if (cmap != GROK_CMAP_RDBU && cmap != GROK_CMAP_VIRIDIS) return grok__fail(GROK_ERR_ARG, "grok_plot_write: unknown cmap %d", (int)cmap);

    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n", W * pc, H * pr, W * pc, H * pr);
    if (p->title) grok__svg_text(f, W * pc / 2.0, 16, "middle", "font-size=\"14\" font-weight=\"bold\"", p->title);

    if (p->kind == GROK_PLOT_HEATMAP || (p->kind == GROK_PLOT_SCATTER && p->c)) { /* colour range */
        const double *v = p->kind == GROK_PLOT_HEATMAP ? p->z : p->c;
        long nv = p->kind == GROK_PLOT_HEATMAP ? (long)np * p->rows * p->cols : p->n, r;
        int any = 0;
        if (p->vmin < p->vmax) { lo = p->vmin; hi = p->vmax; }
        else {
            for (r = 0; r < nv; r++) if (isfinite(v[r])) {
                if (!any || v[r] < lo) lo = v[r];
                if (!any || v[r] > hi) hi = v[r];
                any = 1;
            }
            if (cmap == GROK_CMAP_RDBU) { hi = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi); lo = -hi; }
            if (!(hi > lo)) { lo -= 1; hi += 1; }
        }
    }
    for (q = 0; q < np; q++) {
        struct grok__frame fr;
        const char *pt = p->panel_titles ? p->panel_titles[q] : NULL;
        double ox = (q % pc) * W, oy = (q / pc) * H + (p->title ? 18 : 0);
        char hex[8];
        fr.x0 = ox + 62;
        fr.y0 = oy + (pt ? 30 : 14);
        fr.w = W - 62 - (p->kind == GROK_PLOT_LINES && !(p->kind == GROK_PLOT_SCATTER && p->c) ? 16 : 86);
        fr.h = H - (fr.y0 - oy) - 44 - (p->title && q / pc == pr - 1 ? 18 : 0);
        if (p->kind == GROK_PLOT_HEATMAP) {
            const double *z = p->z + (long)q * p->rows * p->cols;
            cw = fr.w / p->cols;
            ch = fr.h / p->rows;
            for (i = 0; i < p->rows; i++) { /* one <g> per row carries its y (the report's grids are large) */
                fprintf(f, "<g transform=\"translate(0 %.2f)\" shape-rendering=\"crispEdges\">\n", fr.y0 + i * ch);
                for (j = 0; j < p->cols; j++) {
                    double v = z[(long)i * p->cols + j];
                    char b[32];
                    grok__cmap_hex(hex, cmap, isfinite(v) ? (v - lo) / (hi - lo) : NAN);
                    grok__fmt_v(b, sizeof b, v);
                    fprintf(f, "<rect x=\"%.1f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" data-v=\"", fr.x0 + j * cw,
                            cw + 0.25, ch + 0.25, hex);
                    grok__put_name(f, p->y_names, i);
                    fputc(',', f);
                    grok__put_name(f, p->x_names, j);
                    fprintf(f, ": %s\"/>\n", b);
                }
                fputs("</g>\n", f);
            }
            for (k = 0; k < p->n_hlines; k++) /* between rows r-1 and r at r - 0.5 */
                if (p->hlines[k] >= -0.5 && p->hlines[k] <= p->rows - 0.5)
                    fprintf(f, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"#000\" stroke-width=\"1.2\"/>\n", fr.x0,
                            fr.y0 + (p->hlines[k] + 0.5) * ch, fr.x0 + fr.w);
            grok__axes(f, &fr, 0, p->cols - 1, 0, p->rows - 1, 0, p, pt, 1);
            grok__cbar(f, fr.x0 + fr.w + 10, fr.y0, fr.h, cmap, lo, hi, p->clabel);
        } else {
            /* x and y ranges over every panel (shared scale) */
            const double *y = p->y + (p->kind == GROK_PLOT_LINES ? (long)q * p->n_series * p->n : 0);
            double ylo = 0, yhi = 0;
            int ny = p->kind == GROK_PLOT_LINES ? p->n_series : 1, any = 0, anyx = 0;
            long r, tot = p->kind == GROK_PLOT_LINES ? (long)np * p->n_series * p->n : p->n;
            for (r = 0; r < p->n; r++) if (isfinite(p->x[r])) {
                if (!anyx || p->x[r] < xlo) xlo = p->x[r];
                if (!anyx || p->x[r] > xhi) xhi = p->x[r];
                anyx = 1;
            }
            for (r = 0; r < tot; r++) {
                double v = p->y[r];
                if (!isfinite(v) || (p->log_y && !(v > 0))) continue;
                v = p->log_y ? log10(v) : v;
                if (!any || v < ylo) ylo = v;
                if (!any || v > yhi) yhi = v;
                any = 1;
            }
            if (!(xhi > xlo)) { xlo -= 1; xhi += 1; }
            if (!(yhi > ylo)) { ylo -= 1; yhi += 1; }
            else if (p->log_y) { ylo = floor(ylo); yhi = ceil(yhi); }
            else { double pad = 0.04 * (yhi - ylo); ylo -= pad; yhi += pad; }
            if (p->kind == GROK_PLOT_SCATTER && p->c) fr.w = W - 62 - 86;
            grok__axes(f, &fr, xlo, xhi, ylo, yhi, p->log_y, p, pt, 0);
            for (k = 0; k < p->n_vlines; k++) {
                double px = fr.x0 + (p->vlines[k] - xlo) / (xhi - xlo) * fr.w;
                if (!(px >= fr.x0 && px <= fr.x0 + fr.w)) continue;
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n",
                        px, fr.y0, px, fr.y0 + fr.h);
                if (p->vline_labels && p->vline_labels[k]) {
                    char tr[96];
                    snprintf(tr, sizeof tr, "fill=\"#555\" transform=\"rotate(-90 %.1f %.1f)\"", px - 3, fr.y0 + 4);
                    grok__svg_text(f, px - 3, fr.y0 + 4, "end", tr, p->vline_labels[k]);
                }
            }
            for (k = 0; k < ny; k++) {
                const double *ys = y + (long)k * p->n;
                int pen = 0;
                if (p->kind == GROK_PLOT_LINES)
                    fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"", grok__series_colours[k % 10]);
                for (r = 0; r < p->n; r++) {
                    double v = ys[r], px, py;
                    if (!isfinite(v) || !isfinite(p->x[r]) || (p->log_y && !(v > 0))) { pen = 0; continue; }
                    v = p->log_y ? log10(v) : v;
                    px = fr.x0 + (p->x[r] - xlo) / (xhi - xlo) * fr.w;
                    py = fr.y0 + fr.h - (v - ylo) / (yhi - ylo) * fr.h;
                    if (p->kind == GROK_PLOT_LINES) { fprintf(f, "%s%.1f %.1f", pen ? " L" : " M", px, py); pen = 1; }
                    else {
                        double cv = p->c ? p->c[r] : NAN;
                        if (p->c) grok__cmap_hex(hex, cmap, isfinite(cv) ? (cv - lo) / (hi - lo) : NAN);
                        else memcpy(hex, "#1f77b4", 8);
                        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\" fill-opacity=\"0.8\" data-v=\"x ", px, py, hex);
                        grok__put_v(f, p->x[r], p->x_names, r);
                        grok__put_v(f, ys[r], NULL, -1);
                        if (p->c) grok__put_v(f, cv, NULL, -2);
                        fputs("\"/>\n", f);
                    }
                }
                if (p->kind == GROK_PLOT_LINES) {
                    /* the hover markers: invisible circles at (at most GROK__MARKS evenly spaced of) the points */
                    long stride = (p->n + GROK__MARKS - 1) / GROK__MARKS;
                    fputs("\"/>\n", f);
                    for (r = 0; r < p->n; r += stride) {
                        double v = ys[r], px, py;
                        if (!isfinite(v) || !isfinite(p->x[r]) || (p->log_y && !(v > 0))) continue;
                        px = fr.x0 + (p->x[r] - xlo) / (xhi - xlo) * fr.w;
                        py = fr.y0 + fr.h - ((p->log_y ? log10(v) : v) - ylo) / (yhi - ylo) * fr.h;
                        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" fill-opacity=\"0\" data-v=\"", px, py,
                                grok__series_colours[k % 10]);
                        if (p->names && p->names[k]) { grok_xml_escape(f, p->names[k]); fputs(": ", f); }
                        fputs("x ", f);
                        grok__put_v(f, p->x[r], p->x_names, r);
                        grok__put_v(f, v, NULL, -1);
                        fputs("\"/>\n", f);
                    }
                }
            }
            if (p->kind == GROK_PLOT_LINES && p->names && q == 0)
                for (k = 0; k < p->n_series; k++) {
                    double ly = fr.y0 + 10 + 14 * k;
                    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"3\" fill=\"%s\"/>\n", fr.x0 + fr.w - 120,
                            ly - 4, grok__series_colours[k % 10]);
                    grok__svg_text(f, fr.x0 + fr.w - 102, ly, "start", NULL, p->names[k] ? p->names[k] : "");
                }
            if (p->kind == GROK_PLOT_SCATTER && p->c) grok__cbar(f, fr.x0 + fr.w + 10, fr.y0, fr.h, cmap, lo, hi, p->clabel);
        }
    }
    fputs("</svg>\n", f);
    if (ferror(f)) return grok__fail(GROK_ERR_IO, "grok_plot_write: write failed");
    return GROK_OK;
}

GROKDEF int grok_plot_save(const char *path, const grok_plot *p)
{
    FILE *f;
    char tmp[4096];
    int st;
    if (!path || !p) return grok__fail(GROK_ERR_ARG, "grok_plot_save: NULL argument");
    if ((st = grok__open_tmp(&f, tmp, sizeof tmp, path, "grok_plot_save")) != GROK_OK) return st;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    if ((st = grok_plot_write(f, p)) != GROK_OK) { fclose(f); remove(tmp); return st; }
    return grok__commit(f, !ferror(f), tmp, path, "grok_plot_save");
}

/* ---- phase diagrams */

GROKDEF grok_phase grok_phase_classify(long epoch_train_99, long epoch_test_99, double train_acc, double test_acc,
                                       double delay)
{
    if (train_acc != train_acc || test_acc != test_acc) return GROK_PHASE_NONE;
    if (train_acc < 0.99) return GROK_PHASE_CONFUSION;
    if (epoch_train_99 < 1) return GROK_PHASE_NONE;
    if (test_acc < 0.99) return GROK_PHASE_MEMORISATION;
    if (epoch_test_99 < 1) return GROK_PHASE_NONE;
    if (!(delay > 0)) delay = 2;
    return (double)epoch_test_99 <= delay * (double)epoch_train_99 ? GROK_PHASE_COMPREHENSION : GROK_PHASE_GROKKING;
}

static const char *const grok__phase_names[5] = {"none", "comprehension", "grokking", "memorisation", "confusion"};
static const char *const grok__phase_colours[5] = {"#ffffff", "#4daf4a", "#377eb8", "#ff7f00", "#e41a1c"};

GROKDEF const char *grok_phase_name(int phase)
{
    return phase >= 0 && phase <= 4 ? grok__phase_names[phase] : grok__phase_names[0];
}

/* Dark text on light fills, white on dark ones (Rec. 601 luma of "#rrggbb"). */
static const char *grok__text_on(const char *hex)
{
    unsigned r = 0, g = 0, b = 0;
    if (sscanf(hex, "#%2x%2x%2x", &r, &g, &b) != 3) return "#000000";
    return 0.299 * r + 0.587 * g + 0.114 * b < 128 ? "#ffffff" : "#000000";
}

GROKDEF int grok_plot_phase_diagram(FILE *f, const grok_phase_diagram *d)
{
    const double cell_w = 56, cell_h = 30, left = 76, bottom = 48, right = 150;
    double top, cw, ch, lo = 0, hi = 0;
    int W, H, i, j, any = 0, any_none = 0;
    struct grok__frame fr;
    char hex[8], b[32];
    if (!f || !d) return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram: NULL argument");
    if (d->rows < 1 || d->rows > 200 || d->cols < 1 || d->cols > 200)
        return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram: rows %d and cols %d must be 1..200", d->rows, d->cols);
    if (d->colour_by_phase ? !d->phase : !d->epochs)
        return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram: colour_by_phase %d needs %s", d->colour_by_phase,
                          d->colour_by_phase ? "phase" : "epochs");
    top = d->title ? 34 : 14;
    W = d->width ? d->width : (int)(left + cell_w * (d->cols < 2 ? 2 : d->cols) + right);
    H = d->height ? d->height : (int)(top + cell_h * d->rows + bottom);
    if (!d->width && W > 4000) W = 4000;
    if (!d->height) H = H < 200 ? 200 : H > 4000 ? 4000 : H;
    if (W < 300 || W > 4000 || H < 200 || H > 4000)
        return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram: size %d x %d, want 300..4000 x 200..4000", W, H);
    for (i = 0; i < d->rows * d->cols; i++) {
        double e = d->epochs ? d->epochs[i] : NAN;
        if (d->phase && (d->phase[i] < 0 || d->phase[i] > 4))
            return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram: cell %d has phase %d", i, d->phase[i]);
        if (d->phase && d->phase[i] == GROK_PHASE_NONE) any_none = 1;
        if (!(isfinite(e) && e > 0)) continue;
        e = log10(e);
        if (!any || e < lo) lo = e;
        if (!any || e > hi) hi = e;
        any = 1;
    }
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    fr.x0 = left;
    fr.y0 = top;
    fr.w = W - left - right;
    fr.h = H - top - bottom;
    cw = fr.w / d->cols;
    ch = fr.h / d->rows;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n", W, H, W, H);
    if (d->title) grok__svg_text(f, W / 2.0, 18, "middle", "font-size=\"14\" font-weight=\"bold\"", d->title);
    for (i = 0; i < d->rows; i++)
        for (j = 0; j < d->cols; j++) {
            long c = (long)i * d->cols + j;
            double e = d->epochs ? d->epochs[c] : NAN, x = fr.x0 + j * cw, y = fr.y0 + fr.h - (i + 1) * ch;
            int ph = d->phase ? d->phase[c] : -1, has_e = isfinite(e) && e > 0;
            if (d->colour_by_phase) memcpy(hex, grok__phase_colours[ph], 8);
            else grok__cmap_hex(hex, GROK_CMAP_VIRIDIS, has_e ? (log10(e) - lo) / (hi - lo) : NAN);
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" stroke=\"#ffffff\"/>\n", x, y,
                    cw, ch, hex);
            if (has_e) {
                if (e < 1e4) snprintf(b, sizeof b, "%.0f", e);
                else if (e < 1e6) snprintf(b, sizeof b, "%.0fk", e / 1000);
                else snprintf(b, sizeof b, "%.2g", e);
            }
            snprintf(hex, sizeof hex, "%s", grok__text_on(hex));
            if (ph >= 0) {
                char letter[2] = {"-CGMX"[ph], 0}, at[32];
                snprintf(at, sizeof at, "fill=\"%s\"", hex);
                grok__svg_text(f, x + cw / 2, y + ch / 2 + (has_e ? -2 : 4), "middle", at, letter);
            }
            if (has_e) {
                char at[48];
                snprintf(at, sizeof at, "fill=\"%s\" font-size=\"9\"", hex);
                grok__svg_text(f, x + cw / 2, y + ch / 2 + (ph >= 0 ? 10 : 4), "middle", at, b);
            }
        }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", fr.x0,
            fr.y0, fr.w, fr.h);
    for (j = 0; j < d->cols; j++) {
        if (!d->col_labels) snprintf(b, sizeof b, "%d", j);
        grok__svg_text(f, fr.x0 + (j + 0.5) * cw, fr.y0 + fr.h + 15, "middle", NULL, d->col_labels ? d->col_labels[j] : b);
    }
    for (i = 0; i < d->rows; i++) {
        if (!d->row_labels) snprintf(b, sizeof b, "%d", i);
        grok__svg_text(f, fr.x0 - 6, fr.y0 + fr.h - (i + 0.5) * ch + 4, "end", NULL, d->row_labels ? d->row_labels[i] : b);
    }
    if (d->xlabel) grok__svg_text(f, fr.x0 + fr.w / 2, fr.y0 + fr.h + 34, "middle", NULL, d->xlabel);
    if (d->ylabel) {
        char tr[96];
        snprintf(tr, sizeof tr, "transform=\"rotate(-90 %.1f %.1f)\"", fr.x0 - 58, fr.y0 + fr.h / 2);
        grok__svg_text(f, fr.x0 - 58, fr.y0 + fr.h / 2, "middle", tr, d->ylabel);
    }
    if (d->colour_by_phase) {
        int n = any_none ? 5 : 4;
        for (i = 0; i < n; i++) {
            int ph = i < 4 ? i + 1 : GROK_PHASE_NONE;
            double y = fr.y0 + 4 + 18 * i;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" stroke=\"#444\"/>\n",
                    fr.x0 + fr.w + 12, y, grok__phase_colours[ph]);
            grok__svg_text(f, fr.x0 + fr.w + 30, y + 10, "start", NULL, ph ? grok__phase_names[ph] : "no run");
        }
    } else {
        double bh = fr.h - 24 > 40 ? fr.h - 24 : 40;
        grok__cbar(f, fr.x0 + fr.w + 12, fr.y0, bh, GROK_CMAP_VIRIDIS, lo, hi, "log10 epochs to grok");
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#bdbdbd\"/>\n", fr.x0 + fr.w + 12,
                fr.y0 + bh + 8);
        grok__svg_text(f, fr.x0 + fr.w + 30, fr.y0 + bh + 18, "start", NULL, "never");
    }
    fputs("</svg>\n", f);
    if (ferror(f)) return grok__fail(GROK_ERR_IO, "grok_plot_phase_diagram: write failed");
    return GROK_OK;
}

GROKDEF int grok_plot_phase_diagram_save(const char *path, const grok_phase_diagram *d)
{
    FILE *f;
    char tmp[4096];
    int st;
    if (!path || !d) return grok__fail(GROK_ERR_ARG, "grok_plot_phase_diagram_save: NULL argument");
    if ((st = grok__open_tmp(&f, tmp, sizeof tmp, path, "grok_plot_phase_diagram_save")) != GROK_OK) return st;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    if ((st = grok_plot_phase_diagram(f, d)) != GROK_OK) { fclose(f); remove(tmp); return st; }
    return grok__commit(f, !ferror(f), tmp, path, "grok_plot_phase_diagram_save");
}

/* ---- Reports */
GROKDEF int grok_report_begin(grok_report *r, const char *path, const char *title)
{
    if (!r) return grok__fail(GROK_ERR_ARG, "grok_report_begin: NULL report");
    memset(r, 0, sizeof *r);
    if (!path || strlen(path) >= sizeof r->path)
        return r->status = grok__fail(GROK_ERR_ARG, "grok_report_begin: NULL or over-long path");
    strcpy(r->path, path);
    if ((r->status = grok__open_tmp(&r->f, r->tmp, sizeof r->tmp, path, "grok_report_begin")) != GROK_OK) return r->status;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", r->f);
    grok_xml_escape(r->f, title ? title : "grok.h report");
    fputs("</title>\n<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}"
          "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
          "figure{display:inline-block;margin:6px 12px 6px 0;vertical-align:top}"
          "table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          "th{background:#f4f4f4}p.note{color:#555;font-size:13px;max-width:900px}"
          "#grok-tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:2px 6px;"
          "font-size:12px;display:none;white-space:pre}</style>\n</head><body>\n<h1>", r->f);
    grok_xml_escape(r->f, title ? title : "grok.h report");
    fputs("</h1>\n", r->f);
    return GROK_OK;
}

GROKDEF void grok_report_heading(grok_report *r, const char *text)
{
    if (!r || r->status != GROK_OK) return;
    fputs("<h2>", r->f); grok_xml_escape(r->f, text ? text : ""); fputs("</h2>\n", r->f);
}

GROKDEF void grok_report_note(grok_report *r, const char *text)
{
    if (!r || r->status != GROK_OK) return;
    fputs("<p class=\"note\">", r->f); grok_xml_escape(r->f, text ? text : ""); fputs("</p>\n", r->f);
}

GROKDEF void grok_report_plot(grok_report *r, const grok_plot *p)
{
    if (!r || r->status != GROK_OK) return;
    fputs("<figure>", r->f);
    r->status = grok_plot_write(r->f, p);
    fputs("</figure>\n", r->f);
}

GROKDEF void grok_report_printf(grok_report *r, const char *fmt, ...)
{
    va_list ap;
    if (!r || r->status != GROK_OK || !fmt) return;
    va_start(ap, fmt);
    vfprintf(r->f, fmt, ap);
    va_end(ap);
}

GROKDEF int grok_report_end(grok_report *r)
{
    int st;
    if (!r) return grok__fail(GROK_ERR_ARG, "grok_report_end: NULL report");
    if (!r->f) return r->status != GROK_OK ? r->status : grok__fail(GROK_ERR_ARG, "grok_report_end: not begun");
    /* The value under the pointer: the data-v attribute of the element it is over. */
    fputs("<div id=\"grok-tip\"></div>\n<script>(function(){var t=document.getElementById('grok-tip');"
          "document.addEventListener('mousemove',function(e){var v=e.target&&e.target.getAttribute?"
          "e.target.getAttribute('data-v'):null;if(v){t.textContent=v;t.style.left=(e.clientX+14)+'px';"
          "t.style.top=(e.clientY+14)+'px';t.style.display='block';}else t.style.display='none';});})();</script>\n"
          "</body></html>\n", r->f);
    st = grok__commit(r->f, r->status == GROK_OK && !ferror(r->f), r->tmp, r->path, "grok_report_end");
    r->f = NULL;
    if (r->status == GROK_OK) r->status = st;
    return r->status;
}

#ifndef GROK_NO_ANALYSIS /* the report draws the analyses */
/* ---- report */
typedef struct { int ncol; long nrow; char names[32][48]; double *v; } grok__csv;

static int grok__csv_read(grok__csv *c, const char *path) /* numeric CSV with a header; 0: none */
{
    FILE *f;
    char line[4096], *s, *e;
    long cap = 0;
    memset(c, 0, sizeof *c);
    if (!path || access(path, F_OK) != 0 || !(f = grok__open_read(path))) return 0;
    if (fgets(line, sizeof line, f)) {
        for (s = line; *s && c->ncol < 32;) {
            size_t n = strcspn(s, ",\r\n");
            snprintf(c->names[c->ncol++], 48, "%.*s", (int)(n < 47 ? n : 47), s);
            s += n;
            if (*s != ',') break;
            s++;
        }
    }
    while (c->ncol && fgets(line, sizeof line, f)) {
        int j;
        if (c->nrow == cap) {
            double *nv = (double *)GROK_MALLOC(sizeof(double) * c->ncol * (cap = cap ? 2 * cap : 256));
            if (!nv) break;
            if (c->v) { memcpy(nv, c->v, sizeof(double) * c->ncol * c->nrow); GROK_FREE(c->v); }
            c->v = nv;
        }
        for (j = 0, s = line; j < c->ncol; j++) {
            c->v[c->nrow * c->ncol + j] = strtod(s, &e);
            if (e == s) c->v[c->nrow * c->ncol + j] = NAN;
            s = strchr(e, ',');
            if (!s) { for (j++; j < c->ncol; j++) c->v[c->nrow * c->ncol + j] = NAN; break; }
            s++;
        }
        c->nrow++;
    }
    fclose(f);
    return c->nrow > 0;
}

static int grok__csv_col(const grok__csv *c, const char *name)
{
    int j;
    for (j = 0; j < c->ncol; j++) if (!strcmp(c->names[j], name)) return j;
    return -1;
}

/* Lines over epochs of the named columns (those present), with phase lines. */
static void grok__report_lines(FILE *f, const grok__csv *c, const double *x, double *buf, const char *title, const char *ylabel,
                               const char *const *cols, int ncols, int log_y, const double *vl, const char *const *vll, int nvl)
{
    const char *names[8];
    int ns = 0, k, j;
    grok_plot p;
    for (k = 0; k < ncols && ns < 8; k++) {
        long r;
        if ((j = grok__csv_col(c, cols[k])) < 0) continue;
        for (r = 0; r < c->nrow; r++) buf[ns * c->nrow + r] = c->v[r * c->ncol + j];
        names[ns++] = cols[k];
    }
    if (!ns) return;
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_LINES; p.title = title; p.xlabel = "epoch"; p.ylabel = ylabel; p.x = x; p.y = buf;
    p.n = (int)c->nrow; p.n_series = ns; p.names = names; p.log_y = log_y; p.vlines = vl; p.vline_labels = vll;
    p.n_vlines = nvl; p.width = 460; p.height = 320;
    fputs("<figure>", f);
    grok_plot_write(f, &p);
    fputs("</figure>\n", f);
}

/* The Fourier basis' names (grok_fourier_basis_name) of Z_p: names[i] points into one allocation;
   NULL when out of memory. */
static const char **grok__fourier_names(int p)
{
    const char **nm = (const char **)GROK_MALLOC((sizeof(char *) + 16) * (size_t)p);
    char *buf;
    int i;
    if (!nm) return NULL;
    buf = (char *)(nm + p);
    for (i = 0; i < p; i++) { grok_fourier_basis_name(buf + 16 * i, 16, i, p); nm[i] = buf + 16 * i; }
    return nm;
}

/* "label i" for i = 0..n-1 (panel titles, tick names), in one allocation. */
static const char **grok__numbered(const char *label, const int *v, int n)
{
    const char **nm = (const char **)GROK_MALLOC((sizeof(char *) + 32) * (size_t)(n > 0 ? n : 1));
    char *buf;
    int i;
    if (!nm) return NULL;
    buf = (char *)(nm + n);
    for (i = 0; i < n; i++) { snprintf(buf + 32 * i, 32, "%s%d", label, v ? v[i] : i); nm[i] = buf + 32 * i; }
    return nm;
}

static void grok__report_fig(FILE *f, const grok_plot *pl)
{
    fputs("<figure>", f);
    grok_plot_write(f, pl);
    fputs("</figure>\n", f);
}

/* Seed 000: the first 8 columns of U of W_E[:p] = U S V^T with their dominant-frequency fits
   (grok_dominant_freq at the p integer points). */
static int grok__report_svd_u(FILE *f, const float *W_E, int p, int C)
{
    int k = p < C ? p : C, nu = k < 8 ? k : 8, i, j, st;
    double *A = GROK__NEW(double, (size_t)p * C + (size_t)p * k + (size_t)k + 2 * (size_t)nu * p + (size_t)p);
    double *U, *S, *Y, *x;
    char (*tt)[64] = (char (*)[64])GROK_MALLOC(64 * (size_t)nu);
    const char *tp[8], *nm[2] = {"U column", "dominant-frequency fit"};
    grok_plot pl;
    if (!A || !tt) { GROK_FREE(A); GROK_FREE(tt); return grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory"); }
    U = A + (size_t)p * C; S = U + (size_t)p * k; Y = S + k; x = Y + 2 * (size_t)nu * p;
    for (i = 0; i < p * C; i++) A[i] = W_E[i];
    if ((st = grok_svd(U, S, NULL, A, p, C, 0)) == GROK_OK) {
        for (i = 0; i < p; i++) x[i] = i;
        for (j = 0; j < nu && st == GROK_OK; j++) { /* Y (nu, 2, p): the column, the fit */
            double amp, fr, ph;
            for (i = 0; i < p; i++) Y[(2 * j) * p + i] = U[(long)i * k + j];
            if ((st = grok_dominant_freq(&amp, &fr, &ph, Y + 2 * j * p, p)) != GROK_OK) break;
            for (i = 0; i < p; i++) Y[(2 * j + 1) * p + i] = amp * cos(2 * 3.14159265358979323846 * fr * i + ph);
            snprintf(tt[j], 64, "u%d: k=%.0f, amp %.3f, phase %.2f", j, fr * p, amp, ph);
            tp[j] = tt[j];
        }
    }
    if (st == GROK_OK) {
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_LINES; pl.title = "Columns of U of W_E[:p] with their dominant-frequency fits (seed 000)";
        pl.xlabel = "token"; pl.x = x; pl.y = Y; pl.n = p; pl.n_series = 2; pl.names = nm; pl.n_panels = nu;
        pl.panel_cols = 4; pl.panel_titles = tp; pl.width = 330; pl.height = 240;
        grok__report_fig(f, &pl);
    }
    GROK_FREE(A); GROK_FREE(tt);
    return st;
}

/* Seed 001: the frequency x neuron norm matrix (cell 46; drawn are the frequencies that explain
   >= 0.1 of some neuron, all when none does), its sorted maxima (cell 47), and the norms over
   the neurons of the centred activations' 2-D spectrum with component names (cells 62-63). */
static int grok__report_neuron_spectra(FILE *f, const float *acts, int p, int M, const char *const *fnames)
{
    int nf = (p - 1) / 2, nr = 0, i, j, st;
    long n = (long)p * p;
    double *X = GROK__NEW(double, (size_t)n * M + 2 * (size_t)nf * M + 3 * (size_t)M + (size_t)n);
    double *nfn, *sel, *mx, *xs, *G, *fr;
    int *fq = GROK__NEW(int, M + nf);
    const char **kn = NULL;
    grok_plot pl;
    if (!X || !fq) { GROK_FREE(X); GROK_FREE(fq); return grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory"); }
    nfn = X + (size_t)n * M; sel = nfn + (size_t)nf * M; mx = sel + (size_t)nf * M; xs = mx + M; fr = xs + M; G = fr + M;
    if ((st = grok_neuron_freq_norm(nfn, acts, p, M)) != GROK_OK || (st = grok_neuron_freqs(fq, fr, X, acts, p, M, 0)) != GROK_OK)
        goto done;
    for (i = 0; i < 2 && !nr; i++) /* sel (nr, M): the rows drawn; fq + M: their frequencies */
        for (j = 0; j < nf; j++) {
            long q;
            for (q = 0; q < M && !(i || nfn[(long)j * M + q] >= 0.1); q++) {}
            if (q == M) continue;
            memcpy(sel + (long)nr * M, nfn + (long)j * M, sizeof(double) * (size_t)M);
            fq[M + nr++] = j + 1;
        }
    if (!(kn = grok__numbered("", fq + M, nr))) { st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory"); goto done; }
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_HEATMAP; pl.title = "Neuron fraction explained by frequency (seed 001's neuron_freq_norm)";
    pl.z = sel; pl.rows = nr; pl.cols = M; pl.cmap = GROK_CMAP_VIRIDIS; pl.xlabel = "neuron"; pl.ylabel = "frequency k";
    pl.clabel = "fraction"; pl.y_names = kn; pl.width = 900; pl.height = nr > 20 ? 420 : 300;
    grok__report_fig(f, &pl);
    for (j = 0; j < M; j++) {
        mx[j] = 0;
        for (i = 0; i < nf; i++) if (nfn[(long)i * M + j] > mx[j]) mx[j] = nfn[(long)i * M + j];
        xs[j] = j;
    }
    qsort(mx, (size_t)M, sizeof(double), grok__cmp_double);
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_LINES; pl.title = "Max neuron fraction explained over frequencies, sorted (seed 001)";
    pl.xlabel = "neuron (sorted)"; pl.ylabel = "fraction"; pl.x = xs; pl.y = mx; pl.n = M; pl.n_series = 1;
    pl.width = 460; pl.height = 320;
    grok__report_fig(f, &pl);
    for (i = 0; i < n; i++) { /* G (p, p) = the norm over the neurons of the centred spectrum */
        double s = 0;
        for (j = 0; j < M; j++) s += X[(long)i * M + j] * X[(long)i * M + j];
        G[i] = sqrt(s);
    }
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_HEATMAP; pl.title = "Norms of the neuron activations by 2-D Fourier component (seed 001)";
    pl.z = G; pl.rows = p; pl.cols = p; pl.cmap = GROK_CMAP_VIRIDIS; pl.x_names = fnames; pl.y_names = fnames;
    pl.xlabel = "Fourier component of b"; pl.ylabel = "Fourier component of a"; pl.clabel = "norm"; pl.width = 640;
    pl.height = 600;
    grok__report_fig(f, &pl);
done:
    GROK_FREE(X); GROK_FREE(fq); GROK_FREE((void *)kn);
    return st;
}

/* Seed 004 / ARENA: W_logit in the Fourier basis with the neurons sorted by cluster (lines
   between the clusters), W_logit's Fourier norms per cluster (seed 003's definition) and the
   cos / sin components per key frequency. A neuron's cluster is its frequency when it explains
   >= 0.85 of it, else -1. */
static int grok__report_logits(FILE *f, grok_model *m, const float *acts, const int *nfreq, const double *frac,
                               const int *kf, int nk, const char *const *fnames)
{
    int p = m->cfg.d_vocab_out, M = m->cfg.d_mlp, nc = 0, nsh, NC, i, j, c, r, st;
    long n = (long)p * p;
    double *Wf, *Z, *cn, *cc, *sc, *crop, *hl, *xs, shown = 0, tot = 0;
    int *cl, *clusters, *order, *idx;
    const char **cnames = NULL, **rnames = NULL, *shn[64];
    char note[256];
    grok_plot pl;
    if (nk > 31) nk = 31; /* the 31 largest: 63 columns at most */
    nsh = 1 + 2 * nk;
    NC = M + nk + 1; /* clusters at most: the key frequencies, one per neuron, -1 */
    Wf = GROK__NEW(double, (size_t)M * p + (size_t)M * nsh + (size_t)NC * p + 2 * (size_t)nk * n +
                               2 * (size_t)nk * nsh * nsh + (size_t)NC + (size_t)p);
    cl = GROK__NEW(int, 2 * (size_t)M + (size_t)NC + (size_t)nsh);
    if (!Wf || !cl) { st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory"); goto done; }
    Z = Wf + (size_t)M * p; cn = Z + (size_t)M * nsh; cc = cn + (size_t)NC * p; sc = cc + (size_t)nk * n;
    crop = sc + (size_t)nk * n; hl = crop + 2 * (size_t)nk * nsh * nsh; xs = hl + NC;
    clusters = cl + M; order = clusters + NC; idx = order + M;
    for (i = 0; i < M; i++) cl[i] = frac[i] >= 0.85 ? nfreq[i] : -1;
    for (i = 0; i < nk; i++) clusters[nc++] = kf[i]; /* key frequencies first, then any other found, then -1 */
    for (i = 0; i < M; i++) {
        int found = cl[i] == -1;
        for (c = 0; c < nc && !found; c++) found = clusters[c] == cl[i];
        if (!found) clusters[nc++] = cl[i];
    }
    clusters[nc++] = -1;
    idx[0] = 0;
    for (i = 0; i < nk; i++) { idx[1 + 2 * i] = 2 * kf[i] - 1; idx[2 + 2 * i] = 2 * kf[i]; }
    if ((st = grok_modadd_wlogit(NULL, Wf, m)) != GROK_OK ||
        (st = grok_wlogit_cluster_norms(cn, m, cl, clusters, nc)) != GROK_OK ||
        (st = grok_modadd_logit_components(cc, sc, m, acts, kf, nk)) != GROK_OK)
        goto done;
    if (!(cnames = grok__numbered("k=", clusters, nc)) || !(rnames = grok__numbered("", NULL, M))) {
        st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory");
        goto done;
    }
    cnames[nc - 1] = "none";
    for (j = 0; j < nsh && j < 64; j++) shn[j] = fnames[idx[j]];
    for (c = 0, r = 0; c < nc; c++) { /* Z (M, nsh): the rows of W_logit @ F^T in cluster order, its shown columns */
        for (i = 0; i < M; i++)
            if (cl[i] == clusters[c]) {
                order[r] = i;
                for (j = 0; j < nsh; j++) Z[(long)r * nsh + j] = Wf[(long)i * p + idx[j]];
                r++;
            }
        hl[c] = r - 0.5;
    }
    for (r = 0; r < M; r++) /* the neuron in row r */ snprintf((char *)rnames[r], 32, "%d", order[r]);
    for (i = 0; i < M * p; i++) tot += Wf[i] * Wf[i];
    for (i = 0; i < M * nsh; i++) shown += Z[i] * Z[i];
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_HEATMAP; pl.title = "W_logit in the Fourier basis, neurons sorted by cluster (ARENA)";
    pl.z = Z; pl.rows = M; pl.cols = nsh; pl.x_names = shn; pl.y_names = rnames; pl.hlines = hl; pl.n_hlines = nc - 1;
    pl.xlabel = "Fourier component of the output"; pl.ylabel = "neuron (sorted by cluster)"; pl.clabel = "W_logit F^T";
    pl.width = 560; pl.height = 640;
    grok__report_fig(f, &pl);
    snprintf(note, sizeof note, "Clusters from the top: key frequencies first, the always-firing / unexplained neurons "
             "last. The columns shown (the constant and the key frequencies) hold %.1f%% of W_logit's squared norm.",
             tot > 0 ? 100 * shown / tot : 0);
    fputs("<p class=\"note\">", f); grok_xml_escape(f, note); fputs("</p>\n", f);
    for (j = 0; j < p; j++) xs[j] = j;
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_LINES; pl.title = "W_logit's Fourier norms per neuron cluster (seed 003)";
    pl.xlabel = "Fourier component of the output"; pl.ylabel = "squared norm"; pl.x = xs; pl.y = cn; pl.n = p;
    pl.n_series = nc; pl.names = cnames; pl.x_names = fnames; pl.width = 640; pl.height = 340;
    grok__report_fig(f, &pl);
    for (c = 0; c < 2; c++) { /* cos / sin: the components restricted to the shown rows and columns */
        const double *src = c ? sc : cc;
        double *dst = crop + (size_t)c * nk * nsh * nsh;
        for (r = 0; r < nk; r++)
            for (i = 0; i < nsh; i++)
                for (j = 0; j < nsh; j++)
                    dst[((long)r * nsh + i) * nsh + j] = src[(long)r * n + (long)idx[i] * p + idx[j]];
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_HEATMAP;
        pl.title = c ? "Sine components of the logits per key frequency, 2-D Fourier basis (ARENA)"
                     : "Cosine components of the logits per key frequency, 2-D Fourier basis (ARENA)";
        pl.z = dst; pl.rows = nsh; pl.cols = nsh; pl.n_panels = nk; pl.panel_cols = nk < 3 ? nk : 3;
        pl.panel_titles = cnames; pl.x_names = shn; pl.y_names = shn; pl.xlabel = "component of b";
        pl.ylabel = "component of a"; pl.width = 360; pl.height = 330;
        grok__report_fig(f, &pl);
    }
    fputs("<p class=\"note\">Each panel: acts @ (W_logit F^T)[:, cos k] (or sin k) over the inputs, in the 2-D Fourier "
          "basis, restricted to the constant and the key frequencies' components; cos(w(a+b)) shows as cos a cos b = "
          "-sin a sin b, sin(w(a+b)) as sin a cos b = cos a sin b.</p>\n", f);
done:
    GROK_FREE(Wf); GROK_FREE(cl); GROK_FREE((void *)cnames); GROK_FREE((void *)rnames);
    return st;
}

/* Seed 000: the attention of '=' onto a and onto b per head, and their 2-D spectra
   |fftshift(fft2(grid))| (the seed draws the real and imaginary parts), over the frequencies
   >= 0 along b only: |X(-u, -v)| = |X(u, v)| for a real grid, and the half keeps the report small. */
static int grok__report_attention(FILE *f, const double *to_a, const double *to_b, int p, int H)
{
    long n = (long)p * p;
    int g, i, j, st = GROK_OK, hc = p - p / 2; /* the columns p/2 .. p-1 of the centred spectrum */
    double *z = GROK__NEW(double, 2 * (size_t)H * n + 2 * (size_t)n), *c, top = 0;
    const char **tp = NULL, **cen = NULL;
    int *fv = GROK__NEW(int, p);
    grok_plot pl;
    if (!z || !fv || !(tp = grok__numbered("head ", NULL, 2 * H))) {
        st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory");
        goto done;
    }
    c = z + 2 * (size_t)H * n;
    for (g = 0; g < 2 * H; g++) { /* panel g: head g/2 onto a (g even) or b */
        memcpy(z + g * n, (g % 2 ? to_b : to_a) + (g / 2) * n, sizeof(double) * (size_t)n);
        snprintf((char *)tp[g], 32, "head %d onto %c", g / 2, g % 2 ? 'b' : 'a');
    }
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_HEATMAP; pl.title = "Attention of '=' onto a and onto b"; pl.z = z; pl.rows = p; pl.cols = p;
    pl.n_panels = 2 * H; pl.panel_cols = 2; pl.panel_titles = tp; pl.cmap = GROK_CMAP_VIRIDIS; pl.vmin = 0; pl.vmax = 1;
    pl.xlabel = "b"; pl.ylabel = "a"; pl.clabel = "attention"; pl.width = 330; pl.height = 300;
    grok__report_fig(f, &pl);
    for (g = 0; g < 2 * H && st == GROK_OK; g++) { /* z becomes (2H, p, hc) */
        for (i = 0; i < n; i++) { c[2 * i] = z[g * n + i]; c[2 * i + 1] = 0; }
        if ((st = grok_fft2(c, p, p, 0)) != GROK_OK || (st = grok_fftshift2(c, p, p)) != GROK_OK) break;
        for (i = 0; i < p; i++)
            for (j = 0; j < hc; j++) {
                const double *x = c + 2 * ((long)i * p + p / 2 + j);
                double v = hypot(x[0], x[1]);
                z[g * (long)p * hc + (long)i * hc + j] = v;
                if ((i != p / 2 || j != 0) && v > top) top = v;
            }
    }
    if (st != GROK_OK) goto done;
    for (i = 0; i < p; i++) fv[i] = i - p / 2;
    if (!(cen = grok__numbered("", fv, p))) { st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory"); goto done; }
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_HEATMAP; pl.title = "|2-D FFT| of the attention grids, centred (fftshift), frequencies >= 0 along b";
    pl.z = z; pl.rows = p; pl.cols = hc; pl.n_panels = 2 * H; pl.panel_cols = 2; pl.panel_titles = tp; pl.cmap = GROK_CMAP_VIRIDIS;
    pl.vmin = 0; pl.vmax = top > 0 ? top : 1; pl.x_names = cen + p / 2; pl.y_names = cen; pl.xlabel = "frequency along b";
    pl.ylabel = "frequency along a"; pl.clabel = "|FFT|"; pl.width = 220; pl.height = 300;
    grok__report_fig(f, &pl);
    fputs("<p class=\"note\">The colour scale ends at the largest non-zero frequency; the zero frequency at the centre "
          "(p^2 times the mean attention) is beyond it (its value is under the pointer).</p>\n", f);
done:
    GROK_FREE(z); GROK_FREE(fv); GROK_FREE((void *)tp); GROK_FREE((void *)cen);
    return st;
}

GROKDEF int grok_modadd_report(const char *path, grok_model *m, const char *metrics_csv, const char *title)
{
    grok_config *cfg;
    grok_report rep;
    int p, M, H, C, nk = 0, i, k, st = GROK_OK, *kf = NULL, *nfreq = NULL;
    long N, r;
    float *acts = NULL;
    double *to_a = NULL, *nE = NULL, *nU = NULL, *ksh = NULL, *S = NULL, *frac = NULL, *fx = NULL, *pos = NULL, *buf = NULL;
    double *to_b = NULL;
    const char **fnames = NULL;
    grok__csv csv;
    FILE *f;
    if (!path || !m || !m->weights) return grok__fail(GROK_ERR_ARG, "grok_modadd_report: NULL argument or model");
    cfg = &m->cfg;
    p = cfg->d_vocab_out; M = cfg->d_mlp; H = cfg->n_heads; C = cfg->d_model;
    if (cfg->n_layers != 1 || cfg->n_ctx != 3 || cfg->d_vocab != p + 1 || p < 3)
        return grok__fail(GROK_ERR_ARG, "grok_modadd_report: not a modular-addition model");
    N = (long)p * p;
    acts = (float *)GROK_MALLOC(sizeof(float) * N * M);
    to_a = (double *)GROK_MALLOC(sizeof(double) * H * N);
    to_b = (double *)GROK_MALLOC(sizeof(double) * H * N);
    fnames = grok__fourier_names(p);
    nE = (double *)GROK_MALLOC(sizeof(double) * 2 * p);
    nU = (double *)GROK_MALLOC(sizeof(double) * 2 * p);
    ksh = (double *)GROK_MALLOC(sizeof(double) * p);
    S = (double *)GROK_MALLOC(sizeof(double) * (p + C));
    frac = (double *)GROK_MALLOC(sizeof(double) * M);
    fx = (double *)GROK_MALLOC(sizeof(double) * (M + p + C));
    pos = (double *)GROK_MALLOC(sizeof(double) * M);
    kf = (int *)GROK_MALLOC(sizeof(int) * p);
    nfreq = (int *)GROK_MALLOC(sizeof(int) * M);
    memset(&csv, 0, sizeof csv);
    if (!acts || !to_a || !to_b || !fnames || !nE || !nU || !ksh || !S || !frac || !fx || !pos || !kf || !nfreq) {
        st = grok__fail(GROK_ERR_NOMEM, "grok_modadd_report: out of memory");
        goto done;
    }
    {
        const float *W_E = m->weights + grok_model_param(m, "embed.W_E")->offset;
        const float *W_U = m->weights + grok_model_param(m, "unembed.W_U")->offset;
        if ((st = grok_fourier_norms(nE, W_E, p, C, 0)) != GROK_OK || (st = grok_fourier_norms(nU, W_U, p, C, 1)) != GROK_OK ||
            (st = grok_key_freqs(kf, ksh, &nk, NULL, nE, p, 0.05)) != GROK_OK ||
            (st = grok_svd_truncation(S, NULL, W_E, p, C, 0)) != GROK_OK ||
            (st = grok_modadd_run(NULL, acts, NULL, to_a, to_b, m)) != GROK_OK ||
            (st = grok_neuron_freqs(nfreq, frac, NULL, acts, p, M, 0)) != GROK_OK)
            goto done;
    }
    for (i = 0; i < M; i++) { /* the fraction of the inputs where the neuron is positive */
        long npos = 0;
        for (r = 0; r < N; r++) npos += acts[r * M + i] > 0;
        pos[i] = (double)npos / N;
        fx[i] = nfreq[i];
    }
    grok__csv_read(&csv, metrics_csv);
    if ((st = grok_report_begin(&rep, path, title)) != GROK_OK) goto done;
    f = rep.f;
    fprintf(f, "<h2>Run</h2>\n<table id=\"config\"><tr><th>p</th><th>n_layers</th><th>n_heads</th><th>d_model</th><th>d_head</th>"
               "<th>d_mlp</th><th>act_fn</th><th>normalization</th><th>seed</th><th>epoch</th><th>step</th>"
               "<th>train loss</th><th>test loss</th><th>train acc</th><th>test acc</th></tr>\n"
               "<tr><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%llu</td>"
               "<td>%ld</td><td>%ld</td><td>%.4g</td><td>%.4g</td><td>%.4f</td><td>%.4f</td></tr></table>\n",
            p, cfg->n_layers, H, C, cfg->d_head, M, cfg->act_fn == GROK_ACT_GELU ? "gelu" : "relu",
            cfg->normalization == GROK_NORM_LN ? "LN" : "none", (unsigned long long)cfg->seed, m->epoch, (long)m->step,
            m->metrics.train_loss, m->metrics.test_loss, m->metrics.train_acc, m->metrics.test_acc);

    fputs("<h2>Training</h2>\n", f);
    if (csv.nrow > 0 && grok__csv_col(&csv, "epoch") >= 0 &&
        (buf = (double *)GROK_MALLOC(sizeof(double) * (csv.nrow * 9 + 1))) != NULL) {
        double *x = buf + 8 * csv.nrow, vl[3];
        const char *vll[3], *lbl[3] = {"train acc 99%", "test acc 50%", "test acc 99%"}, *acc_col[3] = {"train_acc", "test_acc", "test_acc"};
        const double thr[3] = {0.99, 0.5, 0.99};
        int je = grok__csv_col(&csv, "epoch"), nvl = 0;
        for (r = 0; r < csv.nrow; r++) x[r] = csv.v[r * csv.ncol + je];
        for (k = 0; k < 3; k++) {
            int j = grok__csv_col(&csv, acc_col[k]);
            if (j < 0) continue;
            for (r = 0; r < csv.nrow; r++)
                if (csv.v[r * csv.ncol + j] >= thr[k]) { vl[nvl] = x[r]; vll[nvl++] = lbl[k]; break; }
        }
        {
            const char *c1[2] = {"train_loss", "test_loss"}, *c2[2] = {"train_acc", "test_acc"};
            const char *c3[4] = {"train_loss", "test_loss", "restricted_loss", "excluded_loss"};
            const char *c4[2] = {"gini_W_E", "gini_W_logit"}, *c5[1] = {"sum_sq_weights"};
            grok__report_lines(f, &csv, x, buf, "Loss", "cross-entropy", c1, 2, 1, vl, vll, nvl);
            grok__report_lines(f, &csv, x, buf, "Accuracy", "accuracy", c2, 2, 0, vl, vll, nvl);
            if (grok__csv_col(&csv, "restricted_loss") >= 0) {
                fputs("<p class=\"note\">Progress measures (Nanda et al.): restricted loss keeps only the key frequencies' "
                      "cos/sin(w(a+b)) in the logits, excluded loss removes them (training pairs).</p>\n", f);
                grok__report_lines(f, &csv, x, buf, "Restricted and excluded loss", "cross-entropy", c3, 4, 1, vl, vll, nvl);
                grok__report_lines(f, &csv, x, buf, "Gini of the Fourier norms", "Gini", c4, 2, 0, vl, vll, nvl);
                grok__report_lines(f, &csv, x, buf, "Sum of squared weights", "sum of squares", c5, 1, 0, vl, vll, nvl);
            }
        }
        fputs("<p class=\"note\">Dashed lines: the first evaluations where train accuracy reaches 99% and test accuracy "
              "50% and 99%.</p>\n", f);
    } else {
        fputs("<p class=\"note\">No metrics.csv: nothing to plot over epochs.</p>\n", f);
    }

    fputs("<h2>Embedding in the Fourier basis</h2>\n", f);
    {
        grok_plot pl;
        double *xs = fx + M, *ys = nE + p;
        const char *nm[2] = {"W_E", "W_U"};
        double se = 0, su = 0;
        for (i = 1; i < p; i++) { se += nE[i]; su += nU[i]; }
        for (i = 0; i < p; i++) { xs[i] = i; ys[i] = su > 0 ? nU[i] / su : 0; }
        for (i = 0; i < p; i++) nU[i] = se > 0 ? nE[i] / se : 0; /* nU now: W_E shares, ys: W_U shares */
        nU[0] = ys[0] = NAN; /* the constant component is left out */
        memcpy(nU + p, ys, sizeof(double) * p);
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_LINES; pl.title = "Norm per Fourier component (share of the non-constant norm)";
        pl.xlabel = "component (2k-1: cos k, 2k: sin k)"; pl.ylabel = "share of squared norm"; pl.x = xs; pl.y = nU;
        pl.n = p; pl.n_series = 2; pl.names = nm; pl.x_names = fnames; pl.width = 560; pl.height = 320;
        fputs("<figure>", f); grok_plot_write(f, &pl); fputs("</figure>\n", f);
        for (i = 0; i < (p < C ? p : C); i++) xs[i] = i;
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_LINES; pl.title = "Singular values of W_E[:p]"; pl.xlabel = "index"; pl.ylabel = "singular value";
        pl.x = xs; pl.y = S; pl.n = p < C ? p : C; pl.n_series = 1; pl.log_y = 1; pl.width = 460; pl.height = 320;
        fputs("<figure>", f); grok_plot_write(f, &pl); fputs("</figure>\n", f);
        st = grok__report_svd_u(f, m->weights + grok_model_param(m, "embed.W_E")->offset, p, C);
        fputs("<table id=\"key-freqs\"><tr><th>key frequency k</th><th>W_E share</th><th>W_U share</th><th>neurons (frac &gt;= 0.85)</th></tr>\n", f);
        for (k = 0; k < nk; k++) {
            int cnt = 0;
            for (i = 0; i < M; i++) cnt += nfreq[i] == kf[k] && frac[i] >= 0.85;
            fprintf(f, "<tr><td>%d</td><td>%.1f%%</td><td>%.1f%%</td><td>%d</td></tr>\n", kf[k], 100 * ksh[k],
                    100 * (nU[p + 2 * kf[k] - 1] + nU[p + 2 * kf[k]]), cnt);
        }
        fputs("</table>\n", f);
    }

    fputs("<h2>Neurons</h2>\n", f);
    {
        grok_plot pl;
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_SCATTER; pl.title = "Neuron clusters"; pl.xlabel = "frequency k that explains the neuron best";
        pl.ylabel = "fraction explained by k"; pl.clabel = "fraction of inputs > 0"; pl.x = fx; pl.y = frac; pl.c = pos;
        pl.n = M; pl.width = 560; pl.height = 360;
        fputs("<figure>", f); grok_plot_write(f, &pl); fputs("</figure>\n", f);
    }
    if (st == GROK_OK) st = grok__report_neuron_spectra(f, acts, p, M, fnames);
    fputs("<h2>Logits</h2>\n", f);
    if (st == GROK_OK) st = grok__report_logits(f, m, acts, nfreq, frac, kf, nk, fnames);

    fputs("<h2>Attention of '=' onto a and b, per head</h2>\n", f);
    if (st == GROK_OK) st = grok__report_attention(f, to_a, to_b, p, H);
    grok_report_printf(&rep, "<p class=\"note\">Written by grok.h from the model at epoch %ld.</p>\n", m->epoch);
    if (st != GROK_OK) rep.status = st; /* a failed analysis leaves no report */
    st = grok_report_end(&rep);
done:
    GROK_FREE(acts); GROK_FREE(to_a); GROK_FREE(nE); GROK_FREE(nU); GROK_FREE(ksh); GROK_FREE(S); GROK_FREE(frac);
    GROK_FREE(fx); GROK_FREE(pos); GROK_FREE(kf); GROK_FREE(nfreq); GROK_FREE(buf); GROK_FREE(csv.v);
    GROK_FREE(to_b); GROK_FREE((void *)fnames);
    return st;
}

#endif /* GROK_NO_ANALYSIS */
#endif /* GROK_NO_PLOTS */

/* ==== >>train: the training driver ============================================================ */

/* Whether an early-stop rule is on, and GROK_ERR_ARG naming the field out of range. */
static int grok__early_stop_check(const grok_early_stop *r, const char *who)
{
    if (r->acc != 0.0 && !(r->acc > 0.0 && r->acc <= 1.0 && r->evals >= 1))
        return grok__fail(GROK_ERR_ARG, "%s: early stop at test accuracy %g for %ld evaluations, want 0 < acc <= 1 and "
                          "evals >= 1", who, r->acc, r->evals);
    if (r->stall_epochs < 0 || (r->stall_epochs > 0 && !(r->memorised > 0.0 && r->memorised <= 1.0)))
        return grok__fail(GROK_ERR_ARG, "%s: stall stop after %ld epochs at train accuracy %g, want stall_epochs >= 0 and "
                          "0 < memorised <= 1", who, r->stall_epochs, r->memorised);
    return GROK_OK;
}

static int grok__early_stop_on(const grok_early_stop *r) { return r->acc != 0.0 || r->stall_epochs != 0; }

GROKDEF int grok_early_stop_update(grok_stop_state *s, const grok_early_stop *rule, long epoch, const grok_metrics *mt)
{
    long since;
    int st;
    if (!s || !rule || !mt) return grok__fail(GROK_ERR_ARG, "grok_early_stop_update: NULL argument");
    if ((st = grok__early_stop_check(rule, "grok_early_stop_update")) != GROK_OK) return st;
    if (epoch <= s->last_epoch)
        return grok__fail(GROK_ERR_ARG, "grok_early_stop_update: epoch %ld, want one after the last evaluation (%ld)", epoch,
                          s->last_epoch);
    s->last_epoch = epoch;
    if (s->reason != GROK_STOP_NONE) return s->reason;
    s->streak = rule->acc > 0.0 && mt->test_acc >= rule->acc ? s->streak + 1 : 0;
    if (mt->test_acc > s->best_test_acc) { s->best_test_acc = mt->test_acc; s->best_epoch = epoch; }
    if (rule->stall_epochs > 0 && s->memorised_epoch == 0 && mt->train_acc >= rule->memorised) s->memorised_epoch = epoch;
    since = s->best_epoch > s->memorised_epoch ? s->best_epoch : s->memorised_epoch;
    if (rule->acc > 0.0 && s->streak >= rule->evals) s->reason = GROK_STOP_GROKKED;
    else if (rule->stall_epochs > 0 && s->memorised_epoch > 0 && epoch - since >= rule->stall_epochs)
        s->reason = GROK_STOP_STALLED;
    return s->reason;
}

GROKDEF const char *grok_stop_reason_name(int reason)
{
    static const char *const names[3] = {"none", "grokked", "stalled"};
    return reason >= 0 && reason < 3 ? names[reason] : "?";
}

GROKDEF grok_train_opts grok_train_opts_default(void)
{
    grok_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 25000;
    o.eval_every = 100;
    o.checkpoint_every = 100;
    o.progress = -1;
    return o;
}

static double grok__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void grok__format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0.0) || s > 1e7) snprintf(buf, n, "?");
    else if (s < 60.0) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600.0) snprintf(buf, n, "%dm%02ds", (int)(s / 60.0), (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600.0), ((int)s / 60) % 60);
}

/* A resumed run continues metrics.csv from its checkpoint at `epoch`: the rows after it (written
   after that checkpoint, before the run stopped) and a partial last line are cut off, so that no
   epoch repeats and the file reads as if the run had never stopped. *has_header: whether a header
   line was kept. A missing file is an empty one. */
static int grok__metrics_trim(const char *path, long epoch, int *has_header)
{
    char line[4096];
    long kept = 0;
    FILE *f = fopen(path, "r+");
    *has_header = 0;
    if (!f) return errno == ENOENT ? GROK_OK : grok__fail(GROK_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        char *end;
        if (line[n - 1] != '\n') break;
        if (*has_header && (strtol(line, &end, 10) > epoch || end == line || *end != ',')) break;
        *has_header = 1;
        kept += (long)n;
    }
    if (ftruncate(fileno(f), kept) != 0) {
        int e = errno;
        fclose(f);
        return grok__fail(GROK_ERR_IO, "cannot trim %s to epoch %ld: %s", path, epoch, strerror(e));
    }
    return fclose(f) == 0 ? GROK_OK : grok__fail(GROK_ERR_IO, "writing %s failed", path);
}

/* Opens OUT/metrics.csv for a run at `epoch`: a new file with its header, or, for a resumed
   run, the curve it continues (grok__metrics_trim). */
static int grok__metrics_open(FILE **csv, const grok_train_opts *opts, long epoch)
{
    char path[4096];
    int st, has_header = 0;
    if ((st = grok_dir_make(opts->out_dir)) != GROK_OK) return st;
    snprintf(path, sizeof path, "%s/metrics.csv", opts->out_dir);
    if (epoch > 0 && (st = grok__metrics_trim(path, epoch, &has_header)) != GROK_OK) return st;
    *csv = fopen(path, epoch > 0 ? "a" : "w");
    if (!*csv) return grok__fail(GROK_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (!has_header)
        fprintf(*csv, "epoch,train_loss,test_loss,train_acc,test_acc,lr,seconds%s%s%s\n", opts->progress_measures ?
                ",restricted_loss,excluded_loss,gini_W_E,gini_W_logit,sum_sq_weights" : "",
                opts->stability_monitors ? ",softmax_collapse,grad_weight_cos" : "",
                grok__early_stop_on(&opts->early_stop) ? ",stop" : "");
    return GROK_OK;
}

/* opts->progress resolved: 0 or 1, and *live = 1 for a live line on a terminal. */
static int grok__progress_mode(const grok_train_opts *opts, int *live)
{
    *live = opts->progress < 0 && isatty(fileno(stderr));
    return opts->progress < 0 ? 1 : opts->progress;
}

/* One evaluation's row of metrics.csv (csv may be NULL; pmv: the 5 progress measures or NULL;
   mon: the 2 stability monitors or NULL; stop: the stop column's value, or -1 for none) and the
   progress line on stderr; the learning rate is that of the last step taken. */
static void grok__train_log(FILE *csv, const grok_train_opts *opts, const grok_metrics *mt, const grok_adamw *opt,
                            long step, long epoch, long first_epoch, double t0, double now, const double *pmv,
                            const double *mon, int stop, int progress, int live, int last, double *last_print)
{
    char eta[32];
    double rate = (double)(epoch - first_epoch) / (now - t0 + 1e-9);
    double lr = opt->lr * (opt->lr_schedule ? opt->lr_schedule(step - 1, opt->lr_schedule_ctx) : 1.0);
    if (csv) fprintf(csv, "%ld,%.9g,%.9g,%.6f,%.6f,%.6g,%.3f", epoch, mt->train_loss, mt->test_loss, mt->train_acc,
                     mt->test_acc, lr, now - t0);
    if (csv && pmv) fprintf(csv, ",%.9g,%.9g,%.9g,%.9g,%.9g", pmv[0], pmv[1], pmv[2], pmv[3], pmv[4]);
    if (csv && mon) fprintf(csv, ",%.9g,%.9g", mon[0], mon[1]);
    if (csv && stop >= 0) fprintf(csv, ",%d", stop);
    if (csv) fputc('\n', csv);
    grok__format_duration(eta, sizeof eta, (double)(opts->epochs - epoch) / (rate + 1e-12));
    if (progress && live) {
        fprintf(stderr, "\r\033[Kepoch %ld/%ld  train %.3e  test %.3e  test acc %5.1f%%  %.0f ep/s  ETA %s",
                epoch, opts->epochs, mt->train_loss, mt->test_loss, 100.0 * mt->test_acc, rate, eta);
        if (stop > 0) fprintf(stderr, "  stopped: %s", grok_stop_reason_name(stop));
        if (last) fputc('\n', stderr);
        fflush(stderr);
    } else if (progress && (last || now - *last_print >= 10.0)) {
        fprintf(stderr, "epoch %ld/%ld train_loss %.4e test_loss %.4e test_acc %.4f %.1f ep/s ETA %s%s%s\n",
                epoch, opts->epochs, mt->train_loss, mt->test_loss, mt->test_acc, rate, eta, stop > 0 ? " stopped: " : "",
                stop > 0 ? grok_stop_reason_name(stop) : "");
        *last_print = now;
    }
    if (csv) fflush(csv);
}

/* GROK_OK for the CPU, 1 to hand the run to the CUDA companion, or an error. */
static int grok__device_choice(const grok_train_opts *opts, const char *caller)
{
    if (opts->device == GROK_DEVICE_CPU) return GROK_OK;
#ifdef GROK_CUDA
    if (opts->device == GROK_DEVICE_CUDA) return 1;
#endif
    return grok__fail(GROK_ERR_ARG, "%s: device %d, want GROK_DEVICE_CPU%s", caller, opts->device,
#ifdef GROK_CUDA
                      " or GROK_DEVICE_CUDA"
#else
                      " (GROK_DEVICE_CUDA needs a program built with GROK_CUDA and grok_cuda.o)"
#endif
    );
}

static int grok__train_check_opts(const grok_train_opts *opts, const char *who)
{
    if (opts->epochs < 0 || opts->eval_every < 1 || opts->checkpoint_every < 0)
        return grok__fail(GROK_ERR_ARG, "%s: need epochs >= 0, eval_every >= 1, checkpoint_every >= 0", who);
    return GROK_OK;
}

/* One training run as the driver sees it: the parameter set it trains and the operations that
   differ between a transformer and a net, on the CPU or on the device. The loop
   (grok__train_loop) is the same for all four entries, and so are its NaN guard, its messages
   and its checkpoint policy. */
typedef struct grok__trainer grok__trainer;
typedef struct {
    const char *ckpt_name;   /* the resumable checkpoint in out_dir: latest.grok or latest.safetensors */
    const char *history_fmt; /* "%s/ckpt_%06ld.grok": the checkpoints keep_history keeps */
    const char *adamw_who;   /* the AdamW step's name in its messages */
    int (*forward)(grok__trainer *t, double *loss, double *acc); /* over t->train, with its targets */
    int (*backward)(grok__trainer *t);
    int (*test_metrics)(grok__trainer *t, const grok_data *test, grok_metrics *mt);
    int (*save)(grok__trainer *t, const char *path, int resumable);
    /* On the device (NULL on the CPU): n epochs from *ps.epoch, advancing it, the loss and
       accuracy of the last one's forward; the device state into the host's buffers; the host's
       buffers to the device after on_eval. */
    int (*device_epochs)(grok__trainer *t, long n, double *loss, double *acc);
    int (*download)(grok__trainer *t);
    int (*upload)(grok__trainer *t);
} grok__train_ops;
struct grok__trainer {
    const grok__train_ops *ops;
    const char *who;        /* the entry point, for messages */
    grok__pset ps;
    grok_model *model;      /* the transformer (on_eval's argument, progress measures), NULL for a net */
    grok_net *net;
    const grok_data *train;
    double monitors[2];     /* softmax_collapse, grad_weight_cos of the last measured epoch */
#ifdef GROK_CUDA
    grok_cuda *g;
#endif
};

/* The levers of a run checked before it starts: the loss, the optimizer's orthogonal gradient
   and fixed norm, the Grokfast filter, early stopping and the monitors; those the device lacks
   refused there; the filter state made to the options (kept when the model holds one of the
   same kind, window and size, as after a checkpoint's load: the one allocation, before any
   step). */
static int grok__train_levers(grok__trainer *t, const grok_train_opts *opts)
{
    const grok__pset *ps = &t->ps;
    grok_gradfilter_config fc;
    int st;
    if (*ps->loss != GROK_LOSS_SOFTMAX && *ps->loss != GROK_LOSS_STABLEMAX)
        return grok__fail(GROK_ERR_ARG, "%s: loss %d, want GROK_LOSS_SOFTMAX or GROK_LOSS_STABLEMAX", t->who, *ps->loss);
    if (!grok__adamw_valid(ps->opt)) return grok__fail(GROK_ERR_ARG, "%s: the optimizer: " GROK__ADAMW_RANGES, t->who);
    if ((st = grok__gradfilter_resolve(&fc, &opts->grokfast, t->who)) != GROK_OK) return st;
    if ((st = grok__early_stop_check(&opts->early_stop, t->who)) != GROK_OK) return st;
    if (opts->stability_monitors != 0 && opts->stability_monitors != 1)
        return grok__fail(GROK_ERR_ARG, "%s: stability_monitors %d, want 0 or 1", t->who, opts->stability_monitors);
    if (t->ops->device_epochs) {
        const char *what = fc.kind != GROK_FILTER_NONE ? "a Grokfast filter" : *ps->loss != GROK_LOSS_SOFTMAX ? "StableMax"
                           : ps->opt->orthogonal ? "the orthogonal gradient" : ps->opt->fixed_norm > 0.0 ? "a fixed norm"
                           : opts->stability_monitors ? "the stability monitors" : NULL;
        if (what) return grok__fail(GROK_ERR_ARG, "%s: %s is not implemented in grok_cuda.cu; train on the CPU", t->who, what);
    }
    if (fc.kind == GROK_FILTER_NONE) { grok_gradfilter_free(ps->filter); return GROK_OK; }
    if (ps->filter->cfg.kind == fc.kind && ps->filter->cfg.window == fc.window && ps->filter->n == ps->num_parameters &&
        ps->filter->state) {
        ps->filter->cfg = fc; /* alpha, lamb and warmup may change; the state carries over */
        return GROK_OK;
    }
    grok_gradfilter_free(ps->filter);
    return grok_gradfilter_init(ps->filter, &fc, ps->num_parameters);
}

/* The stability monitors of this epoch's step (grok_train_opts): the collapsed share of the
   training rows of the forward, and the cosine between the gradient and the weights over the
   trainable tensors, in double in table order. */
static void grok__train_monitors(grok__trainer *t)
{
    const grok__pset *ps = &t->ps;
    long collapsed = t->model ? t->model->acts->n_collapsed : t->net->acts->n_collapsed;
    int n = t->model ? t->model->acts->n_targets : t->net->acts->n_targets, i;
    double gw = 0.0, gg = 0.0, ww = 0.0;
    size_t k;
    for (i = 0; i < ps->n_params; i++)
        for (k = ps->params[i].offset; ps->params[i].trainable && k < ps->params[i].offset + ps->params[i].numel; k++) {
            gw += (double)ps->grads[k] * ps->weights[k];
            gg += (double)ps->grads[k] * ps->grads[k];
            ww += (double)ps->weights[k] * ps->weights[k];
        }
    t->monitors[0] = n ? (double)collapsed / n : 0.0;
    t->monitors[1] = gg > 0.0 && ww > 0.0 ? gw / (sqrt(gg) * sqrt(ww)) : 0.0;
}

/* "latest.grok (epoch E) kept" for the NaN guard's messages; buf holds it. */
static const char *grok__last_ckpt(char *buf, size_t n, const grok__trainer *t, long epoch)
{
    if (epoch < 0) snprintf(buf, n, "no checkpoint written in this run");
    else snprintf(buf, n, "%s (epoch %ld) kept", t->ops->ckpt_name, epoch);
    return buf;
}

/* The NaN guard's message: names a parameter of buf (the gradients or the weights) that holds
   a NaN or an infinity, the last in table order (backward fills gradients from the unembedding
   down, so that is where it first met one), among the trainable tensors (which > 0), the frozen
   ones (which < 0) or all (0). GROK_OK when there is none. No allocation. */
static int grok__check_finite(const grok__trainer *t, const float *buf, int which, const char *what, long last_ckpt,
                              const char *when)
{
    char kept[96];
    int i;
    for (i = t->ps.n_params - 1; i >= 0; i--) {
        const grok_param *p = &t->ps.params[i];
        const float *x = buf + p->offset;
        size_t k;
        if ((which > 0 && !p->trainable) || (which < 0 && p->trainable) || !grok__nonfinite(x, (long)p->numel)) continue;
        for (k = 0; k < p->numel && isfinite(x[k]); k++) {}
        return grok__fail(GROK_ERR_NUMERIC, "%s: epoch %ld: %s %s is not finite (element %zu = %g); stopped %s, %s",
                          t->who, *t->ps.epoch, what, p->name, k, (double)x[k], when,
                          grok__last_ckpt(kept, sizeof kept, t, last_ckpt));
    }
    return GROK_OK;
}

/* The update with the NaN guard (grok_train's doc): the gradients are checked before it and
   the updated weights as it writes them, in the same job; frozen weights, when there are any,
   by a pass of their own. */
static int grok__train_update(const grok__trainer *t, long last_ckpt, const char *adamw_who)
{
    const grok__pset *ps = &t->ps;
    unsigned fp = grok__fp_enter();
    int nonfinite = 0, st, i;
    st = grok__fp_restore(fp, grok__adamw_params(ps->opt, ps->step, ps->params, ps->n_params, ps->weights, ps->grads,
                                                 ps->adam_m, ps->adam_v, adamw_who, &nonfinite));
    if (st != GROK_OK) return st;
    if (nonfinite == 1) return grok__check_finite(t, ps->grads, 1, "the gradient of", last_ckpt, "before the update");
    if (nonfinite == 2) return grok__check_finite(t, ps->weights, 0, "parameter", last_ckpt, "after the update");
    for (i = 0; i < ps->n_params && ps->params[i].trainable; i++) {}
    return i < ps->n_params ? grok__check_finite(t, ps->weights, -1, "parameter", last_ckpt, "after the update") : GROK_OK;
}

/* The loss of this epoch's forward, checked before backward and the update. */
static int grok__train_check_loss(const grok__trainer *t, double loss, long last_ckpt)
{
    char kept[96];
    if (isfinite(loss)) return GROK_OK;
    return grok__fail(GROK_ERR_NUMERIC, "%s: epoch %ld: the training loss is %g; stopped before the update, %s", t->who,
                      *t->ps.epoch, loss, grok__last_ckpt(kept, sizeof kept, t, last_ckpt));
}

/* ---- the operations of a transformer and of a net */

static int grok__model_forward_train(grok__trainer *t, double *loss, double *acc)
{
    return grok_model_forward(t->model, t->train->tokens, t->train->targets, t->train->n, loss, acc, NULL);
}
static int grok__model_backward_train(grok__trainer *t) { return grok_model_backward(t->model); }
static int grok__model_test_metrics(grok__trainer *t, const grok_data *test, grok_metrics *mt)
{
    return grok_model_evaluate(t->model, test->tokens, test->targets, test->n, &mt->test_loss, &mt->test_acc);
}

/* latest.grok with the optimizer state (resumable), the history's checkpoints without it. */
static int grok__model_save(grok__trainer *t, const char *path, int resumable)
{
    return grok_checkpoint_save(t->model, path, resumable);
}

static int grok__net_forward_train(grok__trainer *t, double *loss, double *acc)
{
    return grok_net_forward(t->net, t->train->tokens, t->train->targets, t->train->n, loss, acc, NULL);
}
static int grok__net_backward_train(grok__trainer *t) { return grok_net_backward(t->net); }
static int grok__net_test_metrics(grok__trainer *t, const grok_data *test, grok_metrics *mt)
{
    return grok_net_evaluate(t->net, test->tokens, test->targets, test->n, &mt->test_loss, &mt->test_acc);
}

/* A net's checkpoints are its weights as safetensors (it has no grok.h checkpoint format). */
static int grok__net_save(grok__trainer *t, const char *path, int resumable)
{
    (void)resumable;
#ifndef GROK_NO_INTEROP
    return grok_net_save_safetensors(t->net, path, NULL);
#else
    return grok__fail(GROK_ERR_ARG, "%s: a net's checkpoints are safetensors, left out by GROK_NO_INTEROP (%s)", t->who, path);
#endif
}

/* ---- the loop */

/* One epoch on the CPU: zero_grad, forward over the training set, the loss checked, backward,
   the monitors when `measure`, the gradient filter, the guarded update. */
static int grok__train_epoch(grok__trainer *t, long last_ckpt, int measure, double *loss, double *acc)
{
    int st;
    memset(t->ps.grads, 0, sizeof(float) * t->ps.num_parameters);
    if ((st = t->ops->forward(t, loss, acc)) != GROK_OK) return st;
    if ((st = grok__train_check_loss(t, *loss, last_ckpt)) != GROK_OK) return st;
    if ((st = t->ops->backward(t)) != GROK_OK) return st;
    if (measure) grok__train_monitors(t);
    if (t->ps.filter->cfg.kind != GROK_FILTER_NONE &&
        (st = grok_gradfilter_apply(t->ps.filter, t->ps.grads, t->ps.params, t->ps.n_params)) != GROK_OK)
        return st;
    if ((st = grok__train_update(t, last_ckpt, t->ops->adamw_who)) != GROK_OK) return st;
    ++*t->ps.epoch;
    return GROK_OK;
}

/* The epochs the device runs alone from `epoch`: up to the next that evaluates or
   checkpoints, or the end. */
static long grok__epochs_to_stop(const grok_train_opts *opts, long epoch)
{
    long n = opts->eval_every - epoch % opts->eval_every;
    if (opts->checkpoint_every > 0 && opts->checkpoint_every - epoch % opts->checkpoint_every < n)
        n = opts->checkpoint_every - epoch % opts->checkpoint_every;
    return opts->epochs - epoch < n ? opts->epochs - epoch : n;
}

/* Every entry's loop. Per visit of the host: the epochs; at an evaluation the train metrics of
   the last epoch's forward (before its update, as the seeds record them), the test metrics (from
   the progress measures' forward when it gives them), the progress measures, a metrics.csv row
   and the progress line; at a checkpoint latest.grok / latest.safetensors and, with
   keep_history, the epoch's own file; then on_eval. All of it happens after the update's NaN
   guard, so the kept checkpoint is always the last good one. */
static int grok__train_loop(grok__trainer *t, const grok_train_opts *opts, const grok_data *train, const grok_data *test)
{
#ifndef GROK_NO_ANALYSIS
    struct grok__progress pm;
    double pmv[5];
#endif
    const double *measures = NULL;
    char path[4096];
    FILE *csv = NULL;
    double t0, last_print = -1e9, loss = 0.0, acc = 0.0;
    long first_epoch, last_ckpt = -1;
    int st = GROK_OK, live, progress, test_from_measures = 0, stop_on = grok__early_stop_on(&opts->early_stop);
    grok_metrics *mt = t->ps.metrics;
#ifndef GROK_NO_ANALYSIS
    memset(&pm, 0, sizeof pm);
    if (opts->progress_measures) {
        /* on the device the test metrics come from the device's own evaluation */
        if ((st = grok__progress_init(&pm, t->model, opts->key_freqs, opts->n_key_freqs, train, test,
                                      !t->ops->device_epochs)) != GROK_OK)
            return st;
        test_from_measures = pm.test_pairs != NULL;
    }
#else
    (void)train;
    if (opts->progress_measures)
        return grok__fail(GROK_ERR_ARG, "%s: progress_measures need the analysis (GROK_NO_ANALYSIS)", t->who);
#endif
    if (opts->out_dir && (st = grok__metrics_open(&csv, opts, *t->ps.epoch)) != GROK_OK) goto done;
    progress = grok__progress_mode(opts, &live);
    first_epoch = *t->ps.epoch;
    t0 = grok__now();
    while (*t->ps.epoch < opts->epochs && !(stop_on && t->ps.stop->reason != GROK_STOP_NONE)) {
        long epoch = *t->ps.epoch + 1;
        int last, eval, ckpt, downloaded = 0, stop = stop_on ? GROK_STOP_NONE : -1; /* -1: no stop column */
        int measure = opts->stability_monitors && (epoch == opts->epochs || epoch % opts->eval_every == 0);
        st = t->ops->device_epochs ? t->ops->device_epochs(t, grok__epochs_to_stop(opts, *t->ps.epoch), &loss, &acc)
                                   : grok__train_epoch(t, last_ckpt, measure, &loss, &acc);
        if (st != GROK_OK) break;
        epoch = *t->ps.epoch;
        last = epoch == opts->epochs;
        eval = last || epoch % opts->eval_every == 0;
        ckpt = opts->checkpoint_every > 0 && (last || epoch % opts->checkpoint_every == 0);
        if (t->ops->download && ((eval && (opts->progress_measures || opts->on_eval)) || (ckpt && opts->out_dir))) {
            if ((st = t->ops->download(t)) != GROK_OK) break;
            downloaded = 1;
        }
        if (eval) {
            double now;
            mt->train_loss = loss;
            mt->train_acc = acc;
            if (test && !test_from_measures && (st = t->ops->test_metrics(t, test, mt)) != GROK_OK) break;
            now = grok__now();
#ifndef GROK_NO_ANALYSIS
            if (opts->progress_measures) {
                if ((st = grok__progress_eval(&pm, t->model, opts->n_key_freqs > 0, pmv, mt)) != GROK_OK) break;
                measures = pmv;
            }
#endif
            if (stop_on && epoch % opts->eval_every == 0) {
                /* Only the regular evaluations count: the extra one at the end of a run that is
                   later resumed is not one of the uninterrupted run's. The stop's epoch ends the
                   run: it is checkpointed as a last epoch is. */
                if ((stop = grok_early_stop_update(t->ps.stop, &opts->early_stop, epoch, mt)) < 0) { st = stop; break; }
                if (stop != GROK_STOP_NONE) {
                    last = 1;
                    ckpt = opts->checkpoint_every > 0;
                    if (t->ops->download && !downloaded && opts->out_dir && (st = t->ops->download(t)) != GROK_OK) break;
                }
            }
            grok__train_log(csv, opts, mt, t->ps.opt, *t->ps.step, epoch, first_epoch, t0, now, measures,
                            opts->stability_monitors ? t->monitors : NULL, stop, progress, live, last, &last_print);
        }
        if (ckpt && opts->out_dir) {
            /* A checkpoint must resume: the weights were checked by the update, the moments
               (an overflowing gradient's square makes a second moment infinite while the
               weights stay finite) are checked here. */
            if ((st = grok__check_finite(t, t->ps.adam_m, 1, "the AdamW first moment of", last_ckpt,
                                         "before the checkpoint")) != GROK_OK ||
                (st = grok__check_finite(t, t->ps.adam_v, 1, "the AdamW second moment of", last_ckpt,
                                         "before the checkpoint")) != GROK_OK)
                break;
            snprintf(path, sizeof path, "%s/%s", opts->out_dir, t->ops->ckpt_name);
            if ((st = t->ops->save(t, path, 1)) != GROK_OK) break;
            last_ckpt = epoch;
            if (opts->keep_history) {
                snprintf(path, sizeof path, t->ops->history_fmt, opts->out_dir, epoch);
                if ((st = t->ops->save(t, path, 0)) != GROK_OK) break;
            }
        }
        if (eval && opts->on_eval) {
            if (opts->on_eval(t->model, opts->on_eval_ctx)) break;
            if (t->ops->upload && (st = t->ops->upload(t)) != GROK_OK) break;
        }
    }
    if (t->ops->download) { /* the host ends with the device's state, also after a failure, whose message is kept */
        char first[sizeof grok__error_message];
        int back;
        memcpy(first, grok__error_message, sizeof first);
        back = t->ops->download(t);
        if (st == GROK_OK) st = back;
        else memcpy(grok__error_message, first, sizeof first);
    }
done:
    if (csv && fclose(csv) != 0 && st == GROK_OK) st = grok__fail(GROK_ERR_IO, "writing metrics.csv failed");
#ifndef GROK_NO_ANALYSIS
    grok__progress_free(&pm);
#endif
    return st;
}

/* ---- the entries */

static const grok__train_ops grok__model_ops = {"latest.grok", "%s/ckpt_%06ld.grok", "grok_model_adamw_step",
    grok__model_forward_train, grok__model_backward_train, grok__model_test_metrics, grok__model_save, NULL, NULL, NULL};
static const grok__train_ops grok__net_ops = {"latest.safetensors", "%s/net_%06ld.safetensors", "grok_net_adamw_step",
    grok__net_forward_train, grok__net_backward_train, grok__net_test_metrics, grok__net_save, NULL, NULL, NULL};

/* A trainer for the transformer m or the net net (the other NULL), whose parameter set is ps. */
static void grok__trainer_init(grok__trainer *t, const grok__train_ops *ops, const char *who, grok__pset ps, grok_model *m,
                               grok_net *net, const grok_data *train)
{
    memset(t, 0, sizeof *t);
    t->ops = ops;
    t->who = who;
    t->ps = ps;
    t->model = m;
    t->net = net;
    t->train = train;
}

/* Every token and target of d in range for m, with the split named in the message. */
static int grok__train_check_data(const grok_model *m, const grok_data *d, const char *which)
{
    if (!d->tokens || !d->targets) return grok__fail(GROK_ERR_ARG, "grok_train: the %s data has no tokens or targets", which);
    if (grok__check_tokens(m, d->tokens, d->targets, (long)d->n * d->n_ctx) == GROK_OK) return GROK_OK;
    return grok__fail(GROK_ERR_ARG, "grok_train: %s data: %s", which, grok__error_message);
}

GROKDEF int grok_train(grok_model *m, const grok_train_opts *opts, const grok_data *train, const grok_data *test)
{
    grok__trainer t;
    int st;
    if (!m || !m->acts || !opts || !train) return grok__fail(GROK_ERR_ARG, "grok_train: NULL argument");
    if ((st = grok__device_choice(opts, "grok_train")) != GROK_OK) {
#ifdef GROK_CUDA
        if (st == 1) return grok_train_cuda(m, opts, train, test);
#endif
        return st;
    }
    if (train->n_ctx != m->cfg.n_ctx || (test && test->n_ctx != m->cfg.n_ctx))
        return grok__fail(GROK_ERR_ARG, "grok_train: data has n_ctx %d, the model %d", train->n_ctx, m->cfg.n_ctx);
    if (train->n < 1 || (long)train->n * train->n_ctx > m->max_rows)
        return grok__fail(GROK_ERR_ARG, "grok_train: %d training sequences, the model holds 1..%d (max_batch)",
                          train->n, m->max_rows / m->cfg.n_ctx);
    if (test && test->n < 1) test = NULL;
    /* Bad data is refused before the first epoch, not at the first evaluation. */
    if ((st = grok__train_check_data(m, train, "training")) != GROK_OK ||
        (test && (st = grok__train_check_data(m, test, "test")) != GROK_OK))
        return st;
    if ((st = grok__train_check_opts(opts, "grok_train")) != GROK_OK) return st;
    if (!grok__adamw_valid(&m->opt))
        return grok__fail(GROK_ERR_ARG, "grok_train: m->opt needs lr, weight_decay, eps >= 0 and betas in [0, 1)");
    grok__trainer_init(&t, &grok__model_ops, "grok_train", grok__pset_model(m), m, NULL, train);
    if ((st = grok__train_levers(&t, opts)) != GROK_OK) return st;
    return grok__train_loop(&t, opts, train, test);
}

GROKDEF int grok_net_train(grok_net *net, const grok_train_opts *opts, const grok_data *train, const grok_data *test)
{
    grok__trainer t;
    int st;
    if (!net || !net->acts || !opts || !train) return grok__fail(GROK_ERR_ARG, "grok_net_train: NULL argument");
    if ((st = grok__device_choice(opts, "grok_net_train")) != GROK_OK) {
#ifdef GROK_CUDA
        if (st == 1) return grok_net_train_cuda(net, opts, train, test);
#endif
        return st;
    }
    if (train->n_ctx != 3 || (test && test->n_ctx != 3))
        return grok__fail(GROK_ERR_ARG, "grok_net_train: data has n_ctx %d, a net reads rows (a, b, '=') of 3", train->n_ctx);
    if (train->n < 1 || train->n > net->max_rows)
        return grok__fail(GROK_ERR_ARG, "grok_net_train: %d training rows, the net holds 1..%d (max_batch)", train->n, net->max_rows);
    if (test && test->n < 1) test = NULL;
    if ((st = grok__train_check_opts(opts, "grok_net_train")) != GROK_OK) return st;
    if (opts->progress_measures)
        return grok__fail(GROK_ERR_ARG, "grok_net_train: progress_measures are for the modular-addition transformer");
    grok__trainer_init(&t, &grok__net_ops, "grok_net_train", grok__pset_net(net), NULL, net, train);
    if ((st = grok__train_levers(&t, opts)) != GROK_OK) return st;
    return grok__train_loop(&t, opts, train, test);
}

/* ==== >>cuda: the CUDA companion (GROK_CUDA; kernels in grok_cuda.cu) ========================= */

#ifdef GROK_CUDA
GROKDEF int grok_cuda_fail(int status, const char *message) { return grok__fail(status, "%s", message); }

/* ---- the training driver's operations on the device (grok__train_loop): between two
   evaluations or checkpoints the device runs alone (grok_cuda_train_epochs); the host's buffers
   are brought up to date only where the host reads them. */

/* The device checks the losses itself, once per window of epochs. */
static int grok__cuda_model_epochs(grok__trainer *t, long n, double *loss, double *acc)
{
    return grok_cuda_train_epochs(t->g, t->model, n, loss, acc);
}
static int grok__cuda_net_epochs(grok__trainer *t, long n, double *loss, double *acc)
{
    return grok_cuda_net_train_epochs(t->g, t->net, n, loss, acc);
}

static int grok__cuda_test_metrics(grok__trainer *t, const grok_data *test, grok_metrics *mt)
{
    (void)test; /* resident on the device since grok_cuda_set_data */
    return grok_cuda_evaluate(t->g, 1, &mt->test_loss, &mt->test_acc);
}

static int grok__cuda_model_download(grok__trainer *t) { return grok_cuda_download(t->g, t->model); }
static int grok__cuda_model_upload(grok__trainer *t) { return grok_cuda_upload(t->g, t->model); }
static int grok__cuda_net_download(grok__trainer *t) { return grok_cuda_net_download(t->g, t->net); }
static int grok__cuda_net_upload(grok__trainer *t) { return grok_cuda_net_upload(t->g, t->net); }

static const grok__train_ops grok__cuda_model_ops = {"latest.grok", "%s/ckpt_%06ld.grok", "grok_model_adamw_step", NULL, NULL,
    grok__cuda_test_metrics, grok__model_save, grok__cuda_model_epochs, grok__cuda_model_download, grok__cuda_model_upload};
static const grok__train_ops grok__cuda_net_ops = {"latest.safetensors", "%s/net_%06ld.safetensors", "grok_net_adamw_step",
    NULL, NULL, grok__cuda_test_metrics, grok__net_save, grok__cuda_net_epochs, grok__cuda_net_download, grok__cuda_net_upload};

/* The device state made (init), loaded with the data and the graph setting of GROK_CUDA_GRAPH,
   the loop run, the state freed. */
static int grok__cuda_train(grok__trainer *t, int st, const grok_train_opts *opts, const grok_data *train,
                            const grok_data *test)
{
    const char *graph_env = getenv("GROK_CUDA_GRAPH");
    if (st != GROK_OK) return st;
    if ((st = grok_cuda_set_data(t->g, train, test)) == GROK_OK) {
        if (graph_env && strcmp(graph_env, "0") == 0) grok_cuda_use_graph(t->g, 0);
        st = grok__train_loop(t, opts, train, test);
    }
    grok_cuda_free(t->g);
    return st;
}

GROKDEF int grok_train_cuda(grok_model *m, const grok_train_opts *opts, const grok_data *train, const grok_data *test)
{
    grok__trainer t;
    int st;
    if (!m || !m->acts || !opts || !train) return grok__fail(GROK_ERR_ARG, "grok_train_cuda: NULL argument");
    if ((st = grok__train_check_opts(opts, "grok_train_cuda")) != GROK_OK) return st;
    if (test && test->n < 1) test = NULL;
    grok__trainer_init(&t, &grok__cuda_model_ops, "grok_train_cuda", grok__pset_model(m), m, NULL, train);
    if ((st = grok__train_levers(&t, opts)) != GROK_OK) return st;
    return grok__cuda_train(&t, grok_cuda_init(&t.g, m), opts, train, test);
}

GROKDEF int grok_net_train_cuda(grok_net *net, const grok_train_opts *opts, const grok_data *train, const grok_data *test)
{
    grok__trainer t;
    int st;
    if (!net || !net->acts || !opts || !train) return grok__fail(GROK_ERR_ARG, "grok_net_train_cuda: NULL argument");
    if (test && test->n < 1) test = NULL;
    if ((st = grok__train_check_opts(opts, "grok_net_train_cuda")) != GROK_OK) return st;
    if (opts->progress_measures)
        return grok__fail(GROK_ERR_ARG, "grok_net_train_cuda: progress_measures are for the modular-addition transformer");
    grok__trainer_init(&t, &grok__cuda_net_ops, "grok_net_train_cuda", grok__pset_net(net), NULL, net, train);
    if ((st = grok__train_levers(&t, opts)) != GROK_OK) return st;
    return grok__cuda_train(&t, grok_cuda_net_init(&t.g, net), opts, train, test);
}
#endif

#undef GROK__NEW
#undef GROK__CSTORE

#endif /* GROK_IMPLEMENTATION_DONE */
#endif /* GROK_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the grok.h authors
Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions: The above copyright notice
and this permission notice shall be included in all copies or substantial portions of the
Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain. Anyone is free to
copy, modify, publish, use, compile, sell, or distribute this software, either in source code
form or as a compiled binary, for any purpose, commercial or non-commercial, and by any means.
------------------------------------------------------------------------------
*/
