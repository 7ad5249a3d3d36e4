/* test_robust - every public entry point of grok.h (the transformer, the seed-003 nets, the tasks,
   digits, analysis, I/O) against bad arguments: NULL pointers,
   inconsistent configs, p < 2, frac_train outside (0, 1), tokens and targets out of range,
   batches above max_batch, mismatched shapes. Each bad call must return GROK_ERR_ARG (a
   function without a status sets the message and returns a neutral value), leave a message
   in grok_last_error() and change nothing: the model (weights, gradients, moments, step,
   epoch, metrics, flags) and the output buffers are compared byte for byte with a snapshot.
   The last line is "N passed, N failed"; the exit status is nonzero when anything failed. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

/* The message is reset to a marker before each call, so a bad call must write its own; an
   output buffer being watched (watch_on) must keep its guard pattern through every bad call. */
static int bad_call_status;
static const void *watched;
static size_t watched_n;
static int guard_intact(const void *p, size_t n);
struct snap;
static const struct snap *watched_snap;
static const grok_model *watched_model;
static int snap_same(const struct snap *s, const grok_model *m);
#define MARK() grok__fail(GROK_OK, "<unset>")
#define MSG_SET() (grok_last_error()[0] && strcmp(grok_last_error(), "<unset>") != 0)
#define WATCH_OK() ((!watched || guard_intact(watched, watched_n)) && (!watched_model || snap_same(watched_snap, watched_model)))
#define BAD(call, what)                                                                              \
    do {                                                                                             \
        MARK();                                                                                      \
        bad_call_status = (call);                                                                    \
        CHECK(bad_call_status == GROK_ERR_ARG && MSG_SET() && WATCH_OK(), "%s: %s gave %s%s", what,  \
              #call, grok_status_name(bad_call_status), WATCH_OK() ? "" : " and wrote its output");  \
    } while (0)
/* A bad call whose message must name `sub` (the argument or the function). */
#define BADM(call, sub, what)                                                                        \
    do {                                                                                             \
        MARK();                                                                                      \
        bad_call_status = (call);                                                                    \
        CHECK(bad_call_status == GROK_ERR_ARG && strstr(grok_last_error(), sub) && WATCH_OK(),       \
              "%s: %s gave %s%s", what, #call, grok_status_name(bad_call_status),                    \
              WATCH_OK() ? "" : " and wrote its output");                                            \
    } while (0)
/* A call without a status: it must set a message. */
#define VOIDBAD(stmt, what)                                                                          \
    do {                                                                                             \
        MARK();                                                                                      \
        stmt;                                                                                        \
        CHECK(MSG_SET() && WATCH_OK(), "%s: %s set no message or wrote its output", what, #stmt);   \
    } while (0)

/* A snapshot of everything a call could change in a model. */
typedef struct snap {
    float *bufs;
    long step, epoch;
    grok_metrics met;
    grok_adamw opt;
    unsigned char trainable[256];
} snap;

static void snap_take(snap *s, const grok_model *m)
{
    size_t n = m->num_parameters;
    int i;
    s->bufs = (float *)malloc(4 * n * sizeof(float));
    memcpy(s->bufs, m->weights, n * sizeof(float));
    memcpy(s->bufs + n, m->grads, n * sizeof(float));
    memcpy(s->bufs + 2 * n, m->adam_m, n * sizeof(float));
    memcpy(s->bufs + 3 * n, m->adam_v, n * sizeof(float));
    s->step = m->step; s->epoch = m->epoch; s->met = m->metrics; s->opt = m->opt;
    for (i = 0; i < m->n_params && i < 256; i++) s->trainable[i] = (unsigned char)m->params[i].trainable;
}

static int snap_same(const struct snap *s, const grok_model *m)
{
    size_t n = m->num_parameters;
    int i, same = memcmp(s->bufs, m->weights, n * sizeof(float)) == 0 &&
                  memcmp(s->bufs + n, m->grads, n * sizeof(float)) == 0 &&
                  memcmp(s->bufs + 2 * n, m->adam_m, n * sizeof(float)) == 0 &&
                  memcmp(s->bufs + 3 * n, m->adam_v, n * sizeof(float)) == 0 &&
                  s->step == m->step && s->epoch == m->epoch && memcmp(&s->met, &m->metrics, sizeof s->met) == 0 &&
                  s->opt.lr == m->opt.lr && s->opt.weight_decay == m->opt.weight_decay;
    for (i = 0; i < m->n_params && i < 256; i++) same &= s->trainable[i] == (unsigned char)m->params[i].trainable;
    return same;
}

static void snap_free(snap *s) { free(s->bufs); }

/* An output buffer filled with a pattern that no function writes by chance. */
static void guard_fill(void *p, size_t n) { memset(p, 0xA5, n); }
static int guard_intact(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] != 0xA5) return 0;
    return 1;
}

static grok_config tiny_config(void)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = 1; c.n_heads = 2; c.d_model = 8; c.d_head = 4; c.d_mlp = 16;
    c.d_vocab = 6; c.d_vocab_out = 5; c.n_ctx = 3; c.seed = 3; c.train_biases = 1;
    return c;
}

/* ------------------------------------------------------------------ core */

static void test_core(void)
{
    grok_arena a;
    grok_rng r;
    grok_tensor t, o;
    float data[24];
    int shape[3] = {2, 3, 4}, bad_shape[2] = {-1, 3}, idx[3] = {1, 2, 4}, arr[3] = {1, 2, 3};
    BAD(grok_arena_init(NULL, 64), "NULL arena");
    MARK();
    CHECK(grok_arena_init(&a, (size_t)-1) != GROK_OK && MSG_SET() && a.base == NULL, "an arena of SIZE_MAX bytes refused");
    MARK();
    CHECK(grok_arena_alloc(NULL, 8) == NULL && MSG_SET(), "alloc from a NULL arena");
    /* the RNG: NULL state is refused without a crash; nothing else can be wrong */
    VOIDBAD(grok_rng_seed(NULL, 1), "seed a NULL rng");
    MARK();
    CHECK(grok_rng_u64(NULL) == 0 && MSG_SET(), "u64 of a NULL rng");
    MARK();
    CHECK(grok_rng_uniform(NULL) == 0.0 && MSG_SET(), "uniform of a NULL rng");
    MARK();
    CHECK(grok_rng_below(NULL, 5) == 0 && MSG_SET(), "below of a NULL rng");
    MARK();
    CHECK(grok_rng_normal(NULL) == 0.0 && MSG_SET(), "normal of a NULL rng");
    grok_rng_seed(&r, 1);
    VOIDBAD(grok_rng_shuffle(NULL, arr, 3), "shuffle with a NULL rng");
    VOIDBAD(grok_rng_shuffle(&r, NULL, 3), "shuffle of a NULL array");
    CHECK(arr[0] == 1 && arr[1] == 2 && arr[2] == 3, "array untouched");
    MARK();
    CHECK(grok_rng_below(&r, 0) == 0 && MSG_SET(), "below(0) refused with a message");
    /* tensors */
    MARK();
    t = grok_tensor_make(data, 5, shape);
    CHECK(t.data == NULL && t.ndim == 0 && MSG_SET(), "tensor of 5 dims refused (no assert)");
    MARK();
    t = grok_tensor_make(data, 2, NULL);
    CHECK(t.data == NULL && MSG_SET(), "tensor with a NULL shape refused");
    MARK();
    t = grok_tensor_make(data, 2, bad_shape);
    CHECK(t.data == NULL && MSG_SET(), "tensor with a negative size refused");
    MARK();
    CHECK(grok_tensor_numel(NULL) == -1 && MSG_SET(), "numel of NULL");
    MARK();
    CHECK(grok_tensor_is_contiguous(NULL) == 0 && MSG_SET(), "is_contiguous of NULL");
    t = grok_tensor_make(data, 3, shape);
    memset(&o, 0, sizeof o);
    BAD(grok_tensor_index(NULL, &t, 0), "index into NULL");
    BAD(grok_tensor_index(&o, &t, 2), "index 2 of 2");
    BAD(grok_tensor_slice(&o, &t, 3, 0, 1), "slice dim 3");
    BAD(grok_tensor_slice(&o, &t, 1, 2, 2), "slice past the end");
    BAD(grok_tensor_reshape(&o, &t, 2, bad_shape), "reshape to a negative size");
    BAD(grok_tensor_reshape(&o, &t, 2, shape), "reshape changing the element count");
    CHECK(o.data == NULL, "the failed calls left out untouched");
    MARK();
    CHECK(grok_tensor_at(&t, idx) == NULL && MSG_SET(), "at() out of bounds refused (no assert)");
    MARK();
    CHECK(grok_tensor_at(NULL, idx) == NULL && MSG_SET(), "at() of NULL");
    idx[2] = 3;
    CHECK(grok_tensor_at(&t, idx) == data + 23, "at() in bounds still works");
    CHECK(strcmp(grok_status_name(12345), "GROK_ERR_UNKNOWN") == 0, "unknown status named");
    MARK();
    CHECK(grok_threads_set(1000) == 1 && MSG_SET(), "1000 threads refused with a message");
}

/* --------------------------------------------------------------- kernels */

static void test_gemm_args(void)
{
    float A[16], B[16], C[16];
    int i;
    for (i = 0; i < 16; i++) A[i] = B[i] = (float)i;
    guard_fill(C, sizeof C);
    VOIDBAD(grok_gemm(0, 0, -1, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4), "negative M");
    VOIDBAD(grok_gemm(0, 0, 4, 4, 4, 1.0f, NULL, 4, B, 4, 0.0f, C, 4), "NULL A");
    VOIDBAD(grok_gemm(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, NULL, 4), "NULL C");
    VOIDBAD(grok_gemm(0, 0, 4, 4, 4, 1.0f, A, 3, B, 4, 0.0f, C, 4), "lda < K");
    VOIDBAD(grok_gemm(1, 0, 4, 4, 2, 1.0f, A, 3, B, 4, 0.0f, C, 4), "lda < M for A^T");
    VOIDBAD(grok_gemm(0, 1, 4, 4, 4, 1.0f, A, 4, B, 3, 0.0f, C, 4), "ldb < K for B^T");
    VOIDBAD(grok_gemm(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 3), "ldc < N");
    CHECK(guard_intact(C, sizeof C), "C untouched by refused GEMMs");
    grok_gemm(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4);
    CHECK(C[0] == 56.0f, "a valid GEMM still works (%g)", C[0]);
}

/* ----------------------------------------------------------------- model */

static int dummy_hook(grok_tensor *act, const char *name, void *ctx) { (void)act; (void)name; (void)ctx; return GROK_OK; }

/* A hook that fails with its own message, which the forward's message must quote intact (the
   message is formatted from itself: grok__fail must not read the buffer it writes). */
static int failing_hook(grok_tensor *act, const char *name, void *ctx)
{
    (void)act; (void)ctx;
    return grok__fail(GROK_ERR_ARG, "my hook refuses %s", name);
}

static void test_config(void)
{
    grok_config c = tiny_config();
    grok_model m;
    memset(&m, 0x5a, sizeof m);
    BAD(grok_model_init(NULL, &c, 4), "NULL model");
    BAD(grok_model_init(&m, NULL, 4), "NULL config");
#define BADCFG(field, value, sub)                                             \
    do {                                                                      \
        c = tiny_config();                                                    \
        c.field = value;                                                      \
        BADM(grok_model_init(&m, &c, 4), sub, #field " = " #value);           \
        CHECK(m.weights == NULL && m.acts == NULL, "nothing allocated");      \
    } while (0)
    BADCFG(n_layers, 0, "n_layers");
    BADCFG(n_heads, 0, "n_heads");
    BADCFG(d_model, -8, "d_model");
    BADCFG(d_head, 0, "d_head");
    BADCFG(d_mlp, 0, "d_mlp");
    BADCFG(d_vocab, -1, "d_vocab");
    BADCFG(d_vocab_out, -2, "d_vocab_out");
    BADCFG(d_vocab, 1 << 30, "d_vocab");
    BADCFG(n_ctx, 0, "n_ctx");
    BADCFG(n_ctx, 100000, "n_ctx");
    BADCFG(act_fn, (grok_act)9, "act_fn");
    BADCFG(normalization, (grok_norm)-1, "normalization");
    BADCFG(init_range, -0.1, "init_range");
    BADCFG(init_range, NAN, "init_range");
    BADCFG(ln_eps, -1.0, "ln_eps");
    BADCFG(n_heads, 1 << 19, "n_heads");
    BADCFG(train_biases, 2, "train_biases");
#undef BADCFG
    c = tiny_config();
    BADM(grok_model_init(&m, &c, 0), "max_batch", "max_batch 0");
    BADM(grok_model_init(&m, &c, 1 << 30), "max_batch", "max_batch 2^30");
    /* n_heads * d_head != d_model is a valid TransformerLens config (W_O maps H*D back to C):
       it is accepted, and the folded and general paths agree on it. */
    c.n_heads = 3; c.d_head = 5;
    CHECK(grok_model_init(&m, &c, 2) == GROK_OK, "n_heads*d_head = 15 != d_model = 8 accepted");
    if (m.weights) {
        int tok[6] = {0, 1, 5, 2, 3, 5}, tgt[6] = {-1, -1, 1, -1, -1, 0};
        double l1 = 0, l2 = 0;
        grok_model_forward(&m, tok, tgt, 2, &l1, NULL, NULL);
        m.general_path = 1;
        grok_model_forward(&m, tok, tgt, 2, &l2, NULL, NULL);
        CHECK(isfinite(l1) && fabs(l1 - l2) < 1e-6 * fabs(l1), "both paths agree with H*D != C (%.9g, %.9g)", l1, l2);
        grok_model_free(&m);
    }
}

static void test_model_calls(void)
{
    grok_config c = tiny_config();
    grok_model m, blank;
    snap s;
    float logits[2 * 3 * 5];
    int tok[6] = {0, 1, 5, 2, 3, 5}, tgt[6] = {-1, -1, 1, -1, -1, 0};
    int i;
    double loss = -7, acc = -7;
    grok_cache cache;
    grok_projection pr;
    grok_tensor t;
    float act[8];
    int ashape[2] = {2, 4};
    if (grok_model_init(&m, &c, 2) != GROK_OK) { CHECK(0, "init"); return; }
    memset(&blank, 0, sizeof blank);
    /* a forward and a step so that every buffer holds something */
    grok_model_forward(&m, tok, tgt, 2, NULL, NULL, NULL);
    grok_model_backward(&m);
    grok_model_adamw_step(&m);
    grok_model_zero_grad(&m);
    grok_model_forward(&m, tok, tgt, 2, NULL, NULL, NULL);
    grok_model_backward(&m);
    snap_take(&s, &m);
    guard_fill(logits, sizeof logits);
    BAD(grok_model_forward(NULL, tok, tgt, 1, &loss, &acc, logits), "forward of NULL model");
    BAD(grok_model_forward(&blank, tok, tgt, 1, &loss, &acc, logits), "forward of an uninitialised model");
    BAD(grok_model_forward(&m, NULL, tgt, 1, &loss, &acc, logits), "forward of NULL tokens");
    BADM(grok_model_forward(&m, tok, tgt, 0, &loss, &acc, logits), "batch", "B = 0");
    BADM(grok_model_forward(&m, tok, tgt, 3, &loss, &acc, logits), "batch", "B > max_batch");
    BADM(grok_model_forward(&m, tok, tgt, -1, &loss, &acc, logits), "batch", "B < 0");
    tok[4] = 6;
    BADM(grok_model_forward(&m, tok, tgt, 2, &loss, &acc, logits), "token 6", "token = d_vocab");
    tok[4] = -1;
    BADM(grok_model_forward(&m, tok, tgt, 2, &loss, &acc, logits), "token -1", "negative token");
    tok[4] = 3; tgt[5] = 5;
    BADM(grok_model_forward(&m, tok, tgt, 2, &loss, &acc, logits), "target 5", "target = d_vocab_out");
    tgt[5] = -2;
    BADM(grok_model_forward(&m, tok, tgt, 2, &loss, &acc, logits), "target -2", "target -2");
    tgt[5] = 0;
    CHECK(loss == -7 && acc == -7 && guard_intact(logits, sizeof logits), "outputs untouched by refused forwards");
    CHECK(snap_same(&s, &m), "model unchanged by refused forwards");
    /* the refused forwards did not break the pending backward */
    CHECK(grok_model_backward(&m) == GROK_OK, "backward after refused forwards");
    grok_model_zero_grad(&m);
    grok_model_forward(&m, tok, tgt, 2, NULL, NULL, NULL);
    grok_model_backward(&m);
    snap_free(&s);
    snap_take(&s, &m);
    BAD(grok_model_backward(NULL), "backward of NULL");
    BAD(grok_model_backward(&blank), "backward of an uninitialised model");
    BAD(grok_model_adamw_step(NULL), "step of NULL");
    BAD(grok_model_adamw_step(&blank), "step of an uninitialised model");
    m.opt.lr = -1;
    BADM(grok_model_adamw_step(&m), "lr", "negative lr");
    m.opt.lr = 1e-3; m.opt.beta1 = 1.0;
    BADM(grok_model_adamw_step(&m), "betas", "beta1 = 1");
    m.opt.beta1 = 0.9; m.opt.eps = NAN;
    BAD(grok_model_adamw_step(&m), "eps NaN");
    m.opt = s.opt;
    BAD(grok_model_evaluate(NULL, tok, tgt, 2, &loss, &acc), "evaluate NULL model");
    BAD(grok_model_evaluate(&m, tok, NULL, 2, &loss, &acc), "evaluate without targets");
    BAD(grok_model_evaluate(&m, tok, tgt, 0, &loss, &acc), "evaluate 0 sequences");
    tgt[2] = 9;
    BADM(grok_model_evaluate(&m, tok, tgt, 2, &loss, &acc), "target 9", "evaluate a bad target");
    tgt[2] = 1;
    CHECK(loss == -7 && acc == -7, "evaluate's outputs untouched");
    MARK();
    CHECK(grok_model_param(NULL, "embed.W_E") == NULL && MSG_SET(), "param of NULL model");
    MARK();
    CHECK(grok_model_param(&m, NULL) == NULL && MSG_SET(), "param NULL name");
    MARK();
    CHECK(grok_model_param(&m, "nope") == NULL && strstr(grok_last_error(), "nope"), "param unknown name");
    MARK();
    CHECK(grok_model_set_trainable(NULL, "W_", 0) == 0 && MSG_SET(), "set_trainable NULL model");
    MARK();
    CHECK(grok_model_set_trainable(&m, NULL, 0) == 0 && MSG_SET(), "set_trainable NULL substring");
    MARK();
    t = grok_model_tensor(&m, m.weights, NULL);
    CHECK(t.data == NULL && MSG_SET(), "model_tensor of a NULL parameter");
    MARK();
    t = grok_model_tensor(&m, NULL, &m.params[0]);
    CHECK(t.data == NULL && MSG_SET(), "model_tensor of a NULL buffer");
    MARK();
    grok_model_zero_grad(NULL); /* documented no-op */
    /* hooks */
    BAD(grok_model_add_hook(NULL, "hook_embed", dummy_hook, NULL), "hook on NULL model");
    BAD(grok_model_add_hook(&m, NULL, dummy_hook, NULL), "hook NULL name");
    BAD(grok_model_add_hook(&m, "hook_embed", NULL, NULL), "hook NULL fn");
    BAD(grok_model_add_hook(&m, "embed", dummy_hook, NULL), "not a hook name");
    for (i = 0; i < GROK_MAX_HOOKS; i++) grok_model_add_hook(&m, "hook_embed", dummy_hook, NULL);
    BADM(grok_model_add_hook(&m, "hook_embed", dummy_hook, NULL), "hooks", "hook 33");
    BADM(grok_model_backward(&m), "hooks", "backward with hooks");
    grok_model_clear_hooks(&m);
    grok_model_add_hook(&m, "blocks.0.hook_resid_pre", failing_hook, NULL);
    BADM(grok_model_forward(&m, tok, NULL, 2, NULL, NULL, logits), "hook on blocks.0.hook_resid_pre failed: my hook refuses "
         "blocks.0.hook_resid_pre", "a failing hook's message quoted intact");
    grok_model_clear_hooks(&m);
    grok_model_clear_hooks(NULL);
    BAD(grok_hook_zero_ablate(NULL, "blocks.0.attn.hook_z", NULL), "zero ablate NULL act");
    BAD(grok_hook_mean_ablate(NULL, "blocks.0.attn.hook_z", NULL), "mean ablate NULL act");
    t = grok_tensor_make(act, 2, ashape);
    guard_fill(act, sizeof act);
    {
        grok_ablation ab;
        ab.head = 0;
        BADM(grok_hook_zero_ablate(&t, "blocks.0.hook_resid_pre", &ab), "head", "head ablation of a headless activation");
    }
    memset(&pr, 0, sizeof pr);
    BAD(grok_hook_project(&t, "x.hook_y", NULL), "project without ctx");
    pr.basis = act; pr.k = 1; pr.d = 3;
    BAD(grok_hook_project(&t, "x.hook_y", &pr), "project basis of the wrong width");
    pr.d = 4; pr.k = 5;
    BAD(grok_hook_project(&t, "x.hook_y", &pr), "project k > d");
    CHECK(guard_intact(act, sizeof act), "activation untouched");
    /* the cache */
    memset(&cache, 0x5a, sizeof cache);
    BAD(grok_cache_run(&cache, NULL, tok, 2, NULL, NULL), "cache of NULL model");
    BAD(grok_cache_run(&cache, &m, NULL, 2, NULL, NULL), "cache of NULL tokens");
    BAD(grok_cache_run(&cache, &m, tok, 0, NULL, NULL), "cache of 0 sequences");
    CHECK(cache.entries == NULL && cache.n == 0, "a refused cache_run leaves an empty cache (freeable)");
    tok[0] = 77;
    guard_fill(logits, sizeof logits);
    BADM(grok_cache_run(&cache, &m, tok, 2, NULL, logits), "token 77", "cache with a bad token");
    CHECK(cache.entries == NULL && guard_intact(logits, sizeof logits), "nothing cached, logits untouched");
    tok[0] = 0;
    grok_cache_free(&cache);
    MARK();
    CHECK(grok_cache_get(NULL, "hook_embed") == NULL && MSG_SET(), "cache_get NULL");
    /* gradient hooks, metrics and the gradient cache */
    BAD(grok_model_add_grad_hook(NULL, "hook_embed", dummy_hook, NULL), "grad hook on NULL model");
    BAD(grok_model_add_grad_hook(&m, NULL, dummy_hook, NULL), "grad hook NULL name");
    BAD(grok_model_add_grad_hook(&m, "hook_embed", NULL, NULL), "grad hook NULL fn");
    BAD(grok_model_add_grad_hook(&m, "embed.W_E", dummy_hook, NULL), "grad hook on a parameter");
    for (i = 0; i < GROK_MAX_HOOKS; i++) grok_model_add_grad_hook(&m, "hook_embed", dummy_hook, NULL);
    BADM(grok_model_add_grad_hook(&m, "hook_embed", dummy_hook, NULL), "hooks", "grad hook 33");
    grok_model_clear_grad_hooks(&m);
    grok_model_clear_grad_hooks(NULL);
    memset(&cache, 0x5a, sizeof cache);
    BAD(grok_grad_cache_run(NULL, &cache, NULL, tok, 2, NULL, NULL, tgt, NULL), "grad cache of NULL model");
    BAD(grok_grad_cache_run(NULL, NULL, &m, tok, 2, NULL, NULL, tgt, NULL), "grad cache without a cache");
    BAD(grok_grad_cache_run(NULL, &cache, &m, NULL, 2, NULL, NULL, tgt, NULL), "grad cache of NULL tokens");
    BAD(grok_grad_cache_run(NULL, &cache, &m, tok, 0, NULL, NULL, tgt, NULL), "grad cache of 0 sequences");
    BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, NULL, NULL, NULL), "targets", "the loss without targets");
    CHECK(cache.entries == NULL && cache.n == 0, "a refused grad_cache_run leaves an empty cache (freeable)");
    tgt[5] = 9;
    BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, NULL, tgt, NULL), "target 9", "grad cache with a bad target");
    tgt[5] = 0;
    tok[0] = 77;
    BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, NULL, tgt, NULL), "token 77", "grad cache with a bad token");
    tok[0] = 0;
    {
        int correct[2] = {0, 1}, wrong[2] = {1, 5};
        grok_logit_diff ld;
        ld.pos = 3; ld.correct = correct; ld.wrong = wrong;
        BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, grok_metric_logit_diff, &ld, NULL), "position 3",
             "logit difference past the positions");
        ld.pos = -1;
        BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, grok_metric_logit_diff, &ld, NULL), "compares tokens 1 and 5",
             "logit difference of a token past d_vocab_out");
        MARK();
        CHECK(isnan(grok_metric_loss(NULL, 2, 3, 5, NULL, tgt)) && MSG_SET(), "metric_loss of NULL logits: NaN and a message");
        MARK();
        CHECK(isnan(grok_metric_logit_diff(logits, 2, 3, 5, NULL, NULL)) && MSG_SET(), "logit_diff without ctx: NaN and a message");
    }
    grok_model_add_hook(&m, "hook_embed", dummy_hook, NULL);
    BADM(grok_grad_cache_run(NULL, &cache, &m, tok, 2, NULL, NULL, tgt, NULL), "forward hooks", "grad cache with forward hooks");
    grok_model_clear_hooks(&m);
    CHECK(cache.entries == NULL, "nothing cached by the refused calls");
    /* patching */
    {
        grok_cache clean, grads;
        double pout[64];
        int shape[3], ndim, correct[2] = {0, 1}, wrong[2] = {1, 2};
        grok_logit_diff ld;
        ld.pos = -1; ld.correct = correct; ld.wrong = wrong;
        grok_cache_run(&clean, &m, tok, 2, "resid_pre", NULL);
        grok_grad_cache_run(&cache, &grads, &m, tok, 2, NULL, grok_metric_logit_diff, &ld, NULL);
        guard_fill(pout, sizeof pout);
        watched = pout; watched_n = sizeof pout;
        BAD(grok_patch_shape(NULL, &ndim, &m, GROK_PATCH_Z, 1), "patch_shape NULL shape");
        BAD(grok_patch_shape(shape, &ndim, &m, -1, 1), "patch_shape site -1");
        BAD(grok_act_patch(pout, NULL, tok, 2, &clean, GROK_PATCH_RESID_PRE, 1, grok_metric_logit_diff, &ld), "act_patch NULL model");
        BAD(grok_act_patch(pout, &m, tok, 2, &clean, GROK_PATCH_RESID_PRE, 1, NULL, &ld), "act_patch NULL metric");
        BAD(grok_act_patch(pout, &m, tok, 0, &clean, GROK_PATCH_RESID_PRE, 1, grok_metric_logit_diff, &ld), "act_patch 0 sequences");
        BAD(grok_act_patch(pout, &m, tok, 2, &clean, GROK_PATCH_SITES, 1, grok_metric_logit_diff, &ld), "act_patch unknown site");
        BADM(grok_act_patch(pout, &m, tok, 2, &clean, GROK_PATCH_Z, 1, grok_metric_logit_diff, &ld), "no blocks.0.attn.hook_z",
             "act_patch from a cache without the site");
        BADM(grok_act_patch(pout, &m, tok, 1, &clean, GROK_PATCH_RESID_PRE, 1, grok_metric_logit_diff, &ld), "2 sequences, want 1",
             "act_patch from a cache of another batch");
        BAD(grok_attr_patch(pout, &m, &clean, &cache, NULL, GROK_PATCH_RESID_PRE, 1), "attr_patch NULL grads");
        BADM(grok_attr_patch(pout, &m, &clean, &cache, &grads, GROK_PATCH_Z, 0), "no blocks.0.attn.hook_z", "attr_patch, clean cache without the site");
        CHECK(guard_intact(pout, sizeof pout), "patching output untouched by refused calls");
        watched = NULL; watched_n = 0;
        CHECK(m.acts->n_hooks == 0, "refused patching leaves no hook");
        grok_cache_free(&clean); grok_cache_free(&grads); grok_cache_free(&cache);
        CHECK(strcmp(grok_patch_site_name(GROK_PATCH_SITES), "?") == 0 && strcmp(grok_patch_site_name(GROK_PATCH_NEURON), "neuron") == 0,
              "patch_site_name");
    }
    CHECK(snap_same(&s, &m), "model unchanged by all refused calls");
    snap_free(&s);
    grok_model_free(&m);
    grok_model_free(NULL);
}

/* ----------------------------------------------------------- tasks, train */

static void test_tasks_train(void)
{
    grok_data tr, te, d;
    grok_config c = grok_config_modadd(7);
    grok_model m;
    grok_train_opts o = grok_train_opts_default();
    snap s;
    BAD(grok_data_alloc(NULL, 3, 3), "alloc NULL data");
    BAD(grok_data_alloc(&d, -1, 3), "negative n");
    BAD(grok_data_alloc(&d, 3, 0), "n_ctx 0");
    BAD(grok_task_modadd(NULL, &te, 7, 0.5, 1), "modadd NULL train");
    BAD(grok_task_modadd(&tr, NULL, 7, 0.5, 1), "modadd NULL test");
    BADM(grok_task_modadd(&tr, &te, 1, 0.5, 1), "p = 1", "p = 1");
    BADM(grok_task_modadd(&tr, &te, -5, 0.5, 1), "p = -5", "p < 0");
    BADM(grok_task_modadd(&tr, &te, 7, 0.0, 1), "frac_train", "frac_train 0");
    BADM(grok_task_modadd(&tr, &te, 7, 1.0, 1), "frac_train", "frac_train 1");
    BADM(grok_task_modadd(&tr, &te, 7, -0.3, 1), "frac_train", "frac_train < 0");
    BADM(grok_task_modadd(&tr, &te, 7, NAN, 1), "frac_train", "frac_train NaN");
    BADM(grok_task_modadd(&tr, &te, 7, 0.01, 1), "frac_train", "an empty training split");
    CHECK(tr.tokens == NULL && te.tokens == NULL, "refused splits allocate nothing");
    if (grok_task_modadd(&tr, &te, 7, 0.5, 1) != GROK_OK || grok_model_init(&m, &c, tr.n) != GROK_OK) { CHECK(0, "setup"); return; }
    o.epochs = 3; o.progress = 0; o.checkpoint_every = 0;
    snap_take(&s, &m);
    watched_snap = &s; watched_model = &m;
    BAD(grok_train(NULL, &o, &tr, &te), "train NULL model");
    BAD(grok_train(&m, NULL, &tr, &te), "train NULL opts");
    BAD(grok_train(&m, &o, NULL, &te), "train NULL data");
    o.eval_every = 0;
    BAD(grok_train(&m, &o, &tr, &te), "eval_every 0");
    o.eval_every = 1; o.epochs = -1;
    BAD(grok_train(&m, &o, &tr, &te), "negative epochs");
    o.epochs = 3; o.checkpoint_every = -1;
    BAD(grok_train(&m, &o, &tr, &te), "negative checkpoint_every");
    o.checkpoint_every = 0;
    tr.n_ctx = 4;
    BADM(grok_train(&m, &o, &tr, &te), "n_ctx", "train n_ctx differs");
    tr.n_ctx = 3; te.n_ctx = 2;
    BADM(grok_train(&m, &o, &tr, &te), "n_ctx", "test n_ctx differs");
    te.n_ctx = 3; tr.n++;
    BADM(grok_train(&m, &o, &tr, &te), "max_batch", "train above max_batch");
    tr.n--;
    /* out-of-range data is refused before the first epoch, also in the test split */
    te.tokens[3 * te.n - 1] = 8;
    BADM(grok_train(&m, &o, &tr, &te), "token 8", "a bad test token");
    te.tokens[3 * te.n - 1] = 7;
    tr.targets[2] = 7;
    BADM(grok_train(&m, &o, &tr, &te), "target 7", "a bad train target");
    tr.targets[2] = 0;
    {
        int *keep = tr.tokens;
        tr.tokens = NULL;
        BAD(grok_train(&m, &o, &tr, &te), "NULL tokens");
        tr.tokens = keep;
    }
    o.progress_measures = 1; o.n_key_freqs = -1;
    BAD(grok_train(&m, &o, &tr, &te), "negative n_key_freqs");
    {
        int kf[2] = {1, 4};
        o.key_freqs = kf; o.n_key_freqs = 2;
        BAD(grok_train(&m, &o, &tr, &te), "key frequency 4 of p = 7");
        kf[1] = 1;
        BADM(grok_train(&m, &o, &tr, &te), "twice", "a key frequency given twice");
        o.key_freqs = NULL;
    }
    o.progress_measures = 0; o.n_key_freqs = 0;
    watched_model = NULL; /* the optimizer settings differ from the snapshot on purpose */
    m.opt.lr = -1e-3;
    BADM(grok_train(&m, &o, &tr, &te), "lr", "a negative learning rate");
    m.opt.lr = s.opt.lr; m.opt.beta2 = 1.5;
    BADM(grok_train(&m, &o, &tr, &te), "betas", "beta2 1.5");
    m.opt.beta2 = s.opt.beta2;
    CHECK(snap_same(&s, &m), "bad optimizer settings refused before any gradient is computed");
    watched_model = &m;
    o.progress_measures = 0; o.n_key_freqs = 0;
    watched_model = NULL;
    CHECK(snap_same(&s, &m), "model unchanged by refused training");
    snap_free(&s);
    CHECK(grok_train(&m, &o, &tr, &te) == GROK_OK && m.epoch == 3, "a valid run still trains");
    grok_model_free(&m);
    grok_data_free(&tr); grok_data_free(&te);
}

/* -------------------------------------------------------------- analysis */

static void test_analysis_args(void)
{
    double out[64], in[64], a, b, cc;
    float f[256];
    int ints[64], shape[2] = {4, 4}, n_key = -1;
    char buf[16];
    grok_fft_plan *plan = NULL;
    grok_config cfg = grok_config_modadd(5);
    grok_model m, two;
    grok_config c2 = tiny_config();
    grok_data tr, te;
    c2.n_ctx = 4; /* not the modular-addition shape */
    memset(in, 0, sizeof in);
    in[0] = 1;
    memset(f, 0, sizeof f);
    guard_fill(out, sizeof out);
    watched = out; watched_n = sizeof out;
    BAD(grok_fft_plan_create(NULL, 8), "plan NULL");
    BAD(grok_fft_plan_create(&plan, 0), "plan n = 0");
    BAD(grok_fft_execute(NULL, out, 1, 1, 0, 0), "execute NULL plan");
    BAD(grok_fft_axis(NULL, 2, shape, 0, 0), "fft_axis NULL");
    BAD(grok_fft_axis(out, 2, shape, 2, 0), "fft_axis bad axis");
    BAD(grok_fft_axis(out, 2, NULL, 0, 0), "fft_axis NULL shape");
    BAD(grok_fft_axis_f(f, 0, shape, 0, 0), "fft_axis_f 0 dims");
    BAD(grok_fft2(NULL, 4, 4, 0), "fft2 NULL");
    BAD(grok_fft2(out, 0, 4, 0), "fft2 0 rows");
    BAD(grok_rfft(out, NULL, 8), "rfft NULL in");
    BAD(grok_rfft(out, in, 0), "rfft n 0");
    BAD(grok_rfft_f(NULL, f, 8), "rfft_f NULL out");
    BAD(grok_irfft(out, in, -2), "irfft n < 0");
    BAD(grok_fftshift(NULL, 4), "fftshift NULL");
    BAD(grok_ifftshift(out, 0), "ifftshift n 0");
    MARK();
    CHECK(isnan(grok_fft_freq(3, 2)) && MSG_SET(), "fft_freq k >= n");
    BAD(grok_fourier_basis(NULL, 5), "basis NULL");
    BAD(grok_fourier_basis(out, 0), "basis p 0");
    BAD(grok_fourier_basis_name(buf, sizeof buf, 5, 5), "basis name k = p");
    BAD(grok_fourier_basis_name(NULL, 8, 0, 5), "basis name NULL buf");
    BAD(grok_fourier_1d(out, NULL, 5, 1), "fourier_1d NULL");
    BAD(grok_fourier_1d(out, in, 5, 0), "fourier_1d inner 0");
    BAD(grok_fourier_1d(out, out, 5, 1), "fourier_1d out overlaps A");
    BAD(grok_fourier_2d(out, in, 0, 1), "fourier_2d p 0");
    BAD(grok_fourier_2d_f(NULL, f, 3, 1), "fourier_2d_f NULL");
    BAD(grok_svd(out, out + 16, out + 32, NULL, 4, 4, 0), "svd NULL A");
    BAD(grok_svd(out, out + 16, out + 32, in, 0, 4, 0), "svd m 0");
    BAD(grok_lstsq(out, NULL, in, in, 2, 4), "lstsq n < k");
    BAD(grok_lstsq(NULL, NULL, in, in, 4, 2), "lstsq NULL coef");
    BAD(grok_fourier_norms(out, NULL, 5, 4, 0), "fourier_norms NULL W");
    BAD(grok_fourier_norms(out, f, 0, 4, 0), "fourier_norms p 0");
    BAD(grok_key_freqs(ints, NULL, &n_key, NULL, in, 2, 0.05), "key_freqs p 2");
    BAD(grok_key_freqs(ints, NULL, NULL, NULL, in, 5, 0.05), "key_freqs NULL n_key");
    BAD(grok_key_freqs(ints, NULL, &n_key, NULL, in, 5, NAN), "key_freqs NaN min_share");
    BAD(grok_svd_truncation(out, NULL, f, 4, 4, 5), "svd_truncation r > min");
    BAD(grok_svd_truncation(out, NULL, NULL, 4, 4, 1), "svd_truncation NULL W");
    BAD(grok_dominant_freq(&a, &b, &cc, in, 1), "dominant_freq n 1");
    BAD(grok_dominant_freq(&a, NULL, &cc, in, 8), "dominant_freq NULL out");
    BAD(grok_reduce_matrix_fft(out, in, 4, 4, -1), "reduce_matrix_fft n_top < 0");
    BAD(grok_reduce_matrix_fft(NULL, in, 4, 4, 1), "reduce_matrix_fft NULL");
    BAD(grok_gini(&a, in, 0), "gini n 0");
    in[1] = -1;
    BAD(grok_gini(&a, in, 4), "gini negative value");
    in[1] = NAN;
    BAD(grok_gini(&a, in, 4), "gini NaN");
    in[1] = 0;
    BAD(grok_weights_sumsq(NULL, NULL), "sumsq NULL");
    BAD(grok_modadd_group_by_sum(NULL, 5), "group_by_sum NULL");
    BAD(grok_modadd_group_by_sum(ints, 0), "group_by_sum p 0");
    BAD(grok_relu_quadratic_fit(out, &a, NULL, 5, 3, 0.1), "relu fit k > (p-1)/2");
    BAD(grok_relu_quadratic_fit(out, &a, NULL, 2, 1, 0.1), "relu fit p 2");
    BAD(grok_grids_fourier(out, in, 0, 5), "grids n 0");
    BAD(grok_neuron_freqs(ints, out, NULL, f, 2, 4, 0.0), "neuron_freqs p 2");
    BAD(grok_neuron_freqs(NULL, out, NULL, f, 5, 4, 0.0), "neuron_freqs NULL freq");
    BAD(grok_project_onto_freq(out, in, 5, 1, 0), "project k 0");
    BAD(grok_trig_sum_directions(out, out + 32, 5, 3), "trig k 3 of p 5");
    BAD(grok_logits_loss(&a, in, NULL, 2, 3, NULL, 0), "logits_loss NULL labels");
    BAD(grok_logits_loss(&a, in, ints, 0, 3, NULL, 0), "logits_loss n 0");
    ints[0] = 3; ints[1] = 0;
    BAD(grok_logits_loss(&a, in, ints, 2, 3, NULL, 0), "logits_loss label = p");
    ints[0] = 0; ints[1] = 9;
    BAD(grok_logits_loss(&a, in, ints, 2, 3, ints + 1, 1), "logits_loss row out of range");
    BAD(grok_modadd_restricted(&a, NULL, NULL, NULL, f, 5, NULL, 1, NULL, 0, NULL), "restricted NULL freqs");
    ints[0] = 3;
    BAD(grok_modadd_restricted(&a, NULL, NULL, NULL, f, 5, ints, 1, NULL, 0, NULL), "restricted freq 3 of p 5");
    BAD(grok_modadd_cos_fit(out, NULL, NULL, f, 2, NULL), "cos_fit p 2");
    BAD(grok_modadd_cos_fit(out, NULL, NULL, NULL, 5, NULL), "cos_fit NULL logits");
    CHECK(guard_intact(out, sizeof out), "analysis outputs untouched by refused calls");
    /* model analyses: NULL model, the wrong shape */
    if (grok_model_init(&m, &cfg, 25) != GROK_OK || grok_model_init(&two, &c2, 2) != GROK_OK) { CHECK(0, "init"); return; }
    BAD(grok_modadd_wlogit(out, NULL, NULL), "wlogit NULL model");
    BAD(grok_modadd_wlogit(NULL, NULL, &m), "wlogit no output");
    BAD(grok_wlogit_fourier_norms(NULL, &m), "wlogit norms NULL");
    BAD(grok_modadd_run(f, NULL, NULL, NULL, NULL, NULL), "modadd_run NULL model");
    BADM(grok_modadd_run(f, NULL, NULL, NULL, NULL, &two), "modular-addition shape", "modadd_run on a non-modadd model");
    BAD(grok_modadd_neuron_losses(&a, NULL, NULL, NULL, &m, NULL, f, f, ints, NULL, 0, ints, 1, NULL, 0, NULL),
        "neuron_losses NULL acts");
    BAD(grok_modadd_neuron_losses(&a, NULL, NULL, NULL, &two, f, f, f, ints, NULL, 0, ints, 1, NULL, 0, NULL),
        "neuron_losses non-modadd");
    grok_task_modadd(&tr, &te, 5, 0.5, 1);
    BAD(grok_modadd_progress(NULL, &m, &tr, NULL, NULL, 0), "progress NULL out");
    BAD(grok_modadd_progress(out, &two, &tr, NULL, NULL, 0), "progress non-modadd");
    BAD(grok_modadd_progress(out, &m, NULL, NULL, NULL, 0), "progress NULL train");
    BAD(grok_modadd_progress(out, &m, &tr, NULL, NULL, -1), "progress nf < 0");
    BAD(grok_modadd_report(NULL, &m, NULL, NULL), "report NULL path");
    BAD(grok_modadd_report("/tmp/grok_robust_report.html", &two, NULL, NULL), "report non-modadd");
    { /* the irreps: NULL and mismatched arguments, bad keys and classes, outputs untouched */
        grok_group s3, c5;
        grok_irreps ir;
        grok_net_config nc;
        grok_net net;
        int cls[6] = {0, 1, 1, 2, 2, 7}, keys[2] = {1, 5}, nk = 1, ord[3];
        long ep[2] = {2, 1};
        grok_group_init(&s3, GROK_GROUP_SYMMETRIC, 3);
        grok_group_init(&c5, GROK_GROUP_CYCLIC, 5);
        BAD(grok_irreps_init(&ir, NULL), "irreps_init NULL group");
        grok_irreps_init(&ir, &s3);
        BAD(grok_group_classes(NULL, ints, &s3), "classes NULL");
        BAD(grok_irreps_characters(NULL, &ir), "characters NULL");
        BAD(grok_irreps_char_table(out, &ir, cls, 3), "char_table class out of range");
        BAD(grok_irreps_fourier(out, in, 0, &ir), "fourier inner 0");
        BAD(grok_irreps_inverse(out, in, 1, 3, &ir), "inverse irrep 3 of 3");
        BAD(grok_irreps_norms(out, NULL, 1, 0, &ir), "norms NULL");
        BAD(grok_irreps_keys(ints, &n_key, out, in, &ir, 2), "keys min_share 2");
        BAD(grok_irreps_pair_norms(out, NULL, in, 1, &c5, &ir), "pair_norms group of another order");
        BAD(grok_irreps_pair_project(out, in, 1, NULL, &s3, &ir), "pair_project NULL keep");
        BAD(grok_irreps_trace_sims(out, NULL, &s3, &ir), "trace_sims NULL logits");
        BAD(grok_irreps_losses(out, NULL, NULL, NULL, in, 5, NULL, NULL, keys, 1, &s3, &ir), "losses cols != order without W");
        BAD(grok_irreps_losses(out, NULL, NULL, NULL, in, 6, NULL, NULL, keys + 1, 1, &s3, &ir), "losses key 5 of 3");
        memset(&nc, 0, sizeof nc);
        nc.kind = GROK_NET_MLP; nc.n = 5; nc.embed_dim = 2; nc.hidden_dim = 3; nc.seed = 1;
        grok_net_init(&net, &nc, 4);
        BAD(grok_net_irreps_metrics(out, NULL, keys, &nk, &net, &s3, &ir), "net_irreps_metrics net of order 5 on S_3");
        grok_net_free(&net);
        nc.n = 6;
        grok_net_init(&net, &nc, 4);
        nk = 3;
        BAD(grok_net_irreps_metrics(out, NULL, keys, &nk, &net, &s3, &ir), "net_irreps_metrics 3 keys of 3 irreps");
        BAD(grok_model_irreps_metrics(out, NULL, keys, &nk, &two, &s3, &ir), "model_irreps_metrics non-modadd");
        BAD(grok_irreps_learn_order(NULL, ord, &nk, in, ep, 2, 3, 0.1), "learn_order epochs descending");
        grok_net_free(&net);
        grok_irreps_free(&ir);
        grok_irreps_free(NULL);
        grok_group_free(&s3); grok_group_free(&c5);
    }
    CHECK(guard_intact(out, sizeof out), "outputs untouched by refused model analyses");
    watched = NULL;
    grok_data_free(&tr); grok_data_free(&te);
    grok_model_free(&m); grok_model_free(&two);
}

/* ------------------------------------------------------------------- I/O */

static void test_io_args(void)
{
    grok_config c = tiny_config(), got;
    grok_model m, other;
    grok_array arr;
    grok_safetensors st;
    grok_data tr, te;
    grok_run_info info;
    grok_plot pl;
    snap s;
    float f[4] = {1, 2, 3, 4};
    int64_t idx[3] = {0, 1, 2};
    const char *path = "/tmp/grok_robust.grok";
    char longpath[5000];
    if (grok_model_init(&m, &c, 2) != GROK_OK) { CHECK(0, "init"); return; }
    c.d_mlp = 32;
    if (grok_model_init(&other, &c, 2) != GROK_OK) { CHECK(0, "init"); return; }
    BAD(grok_checkpoint_save(NULL, path, 1), "save NULL model");
    BAD(grok_checkpoint_save(&m, NULL, 1), "save NULL path");
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    BADM(grok_checkpoint_save(&m, longpath, 1), "too long", "save a path too long");
    CHECK(grok_checkpoint_save(&other, path, 1) == GROK_OK, "save");
    snap_take(&s, &m);
    BAD(grok_checkpoint_load(NULL, path), "load NULL model");
    BAD(grok_checkpoint_load(&m, NULL), "load NULL path");
    BADM(grok_checkpoint_load(&m, path), "config differs", "load into a model of another config");
    CHECK(snap_same(&s, &m), "model unchanged");
    BAD(grok_checkpoint_config(NULL, path), "config NULL cfg");
    BAD(grok_checkpoint_config(&got, NULL), "config NULL path");
    remove(path);
    /* arrays, .npy, safetensors */
    memset(&arr, 0, sizeof arr);
    arr.dtype = GROK_DT_F32; arr.ndim = 1; arr.shape[0] = 4; arr.data = f;
    MARK();
    CHECK(grok_array_numel(NULL) == -1, "numel of NULL");
    BAD(grok_array_to_f32(f, 3, &arr), "to_f32 count mismatch");
    BAD(grok_array_to_f32(NULL, 4, &arr), "to_f32 NULL out");
    BAD(grok_array_to_i64(idx, 4, NULL), "to_i64 NULL array");
    BAD(grok_npy_save(NULL, &arr), "npy_save NULL path");
    BAD(grok_npy_save("/tmp/grok_robust.npy", NULL), "npy_save NULL array");
    arr.ndim = 9;
    BAD(grok_npy_save("/tmp/grok_robust.npy", &arr), "npy_save 9 dims");
    arr.ndim = 1; arr.shape[0] = -4;
    BAD(grok_npy_save("/tmp/grok_robust.npy", &arr), "npy_save negative shape");
    arr.shape[0] = 4; arr.data = NULL;
    BAD(grok_npy_save("/tmp/grok_robust.npy", &arr), "npy_save NULL data");
    arr.data = f;
    BAD(grok_npy_save_tensor("/tmp/grok_robust.npy", NULL), "npy_save_tensor NULL");
    BAD(grok_npy_load(NULL, "/tmp/grok_robust.npy"), "npy_load NULL array");
    BAD(grok_npy_load(&arr, NULL), "npy_load NULL path");
    BAD(grok_safetensors_load(NULL, "x"), "st_load NULL");
    BAD(grok_safetensors_load(&st, NULL), "st_load NULL path");
    BAD(grok_safetensors_save(NULL, &arr, 1, NULL, NULL, 0), "st_save NULL path");
    BAD(grok_safetensors_save("/tmp/grok_robust.safetensors", NULL, 1, NULL, NULL, 0), "st_save NULL arrays");
    BAD(grok_safetensors_save("/tmp/grok_robust.safetensors", &arr, -1, NULL, NULL, 0), "st_save n < 0");
    BAD(grok_safetensors_save("/tmp/grok_robust.safetensors", &arr, 1, NULL, NULL, 2), "st_save NULL meta");
    arr.name = NULL;
    BAD(grok_safetensors_save("/tmp/grok_robust.safetensors", &arr, 1, NULL, NULL, 0), "st_save a NULL name");
    arr.name = "a";
    MARK();
    CHECK(grok_safetensors_get(NULL, "a") == NULL && grok_safetensors_meta(NULL, "a") == NULL, "get/meta of NULL");
    BAD(grok_model_save_safetensors(NULL, "/tmp/x.safetensors", NULL), "model_save_st NULL model");
    BAD(grok_model_save_safetensors(&m, NULL, NULL), "model_save_st NULL path");
    BAD(grok_model_load_safetensors(NULL, "x"), "model_load_st NULL model");
    BAD(grok_model_load_safetensors(&m, NULL), "model_load_st NULL path");
    BAD(grok_safetensors_config(NULL, "x"), "st_config NULL");
    CHECK(grok_model_save_safetensors(&other, "/tmp/grok_robust.safetensors", NULL) == GROK_OK, "save other");
    MARK();
    CHECK(grok_model_load_safetensors(&m, "/tmp/grok_robust.safetensors") == GROK_ERR_FORMAT && MSG_SET() && snap_same(&s, &m),
          "safetensors of another shape refused, model unchanged");
    remove("/tmp/grok_robust.safetensors");
    /* splits */
    BAD(grok_task_modadd_from_indices(NULL, &te, 5, idx, 3, NULL, 0), "from_indices NULL");
    BADM(grok_task_modadd_from_indices(&tr, &te, 1, idx, 1, NULL, 0), "p = 1", "from_indices p 1");
    BAD(grok_task_modadd_from_indices(&tr, &te, 5, NULL, 3, NULL, 0), "from_indices NULL idx");
    BAD(grok_task_modadd_from_indices(&tr, &te, 5, idx, 0, NULL, 0), "from_indices n_train 0");
    idx[2] = 25;
    BAD(grok_task_modadd_from_indices(&tr, &te, 5, idx, 3, NULL, 0), "from_indices index p*p");
    idx[2] = 2;
    BAD(grok_task_modadd_from_npy(&tr, &te, 5, NULL, NULL), "from_npy NULL path");
    /* run summary, plots */
    memset(&info, 0, sizeof info);
    BAD(grok_run_summary_save(NULL, &m, &info), "summary NULL path");
    BAD(grok_run_summary_save("/tmp/x.json", NULL, &info), "summary NULL model");
    info.n_extra = 2;
    BAD(grok_run_summary_save("/tmp/x.json", &m, &info), "summary NULL extras");
    memset(&pl, 0, sizeof pl);
    BAD(grok_plot_write(NULL, &pl), "plot_write NULL file");
    BAD(grok_plot_write(stdout, NULL), "plot_write NULL plot");
    BAD(grok_plot_save("/tmp/grok_robust.svg", &pl), "plot kind 0");
    pl.kind = GROK_PLOT_HEATMAP;
    BAD(grok_plot_save("/tmp/grok_robust.svg", &pl), "heatmap without z");
    pl.kind = GROK_PLOT_LINES; pl.n = 3;
    BAD(grok_plot_save("/tmp/grok_robust.svg", &pl), "lines without x, y");
    remove("/tmp/grok_robust.svg");
    grok_xml_escape(NULL, "x"); /* documented no-op */
    CHECK(snap_same(&s, &m), "model unchanged by refused I/O calls");
    snap_free(&s);
    grok_model_free(&m); grok_model_free(&other);
}

/* ------------------------------------------------- checkpoints, NaN guard */

static int quick(void) { const char *q = getenv("GROK_TEST_QUICK"); return q && *q && *q != '0'; }

static int all_finite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* A child writes checkpoints in a loop (weights[k] = generation + k, step = generation) and is
   SIGKILLed at a random moment, many times; every time, latest.grok must load and be one whole
   generation, never a mix or a torn file. */
static void test_kill_during_save(void)
{
    grok_config c = tiny_config();
    grok_model m, r;
    const char *dir = "/tmp/grok_robust_kill";
    char path[256], tmp[300];
    int rounds = quick() ? 8 : 40, i, intact = 0, torn_tmp = 0, loaded = 0;
    long last_gen = -1;
    grok_rng rng;
    c.d_model = 64; c.d_mlp = 1024; c.d_vocab = 1000; c.d_vocab_out = 999; /* ~1.2 M floats: 14 MB per save */
    snprintf(path, sizeof path, "%s/latest.grok", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (system("rm -rf /tmp/grok_robust_kill && mkdir -p /tmp/grok_robust_kill") != 0) { CHECK(0, "mkdir"); return; }
    if (grok_model_init(&m, &c, 1) != GROK_OK || grok_model_init(&r, &c, 1) != GROK_OK) { CHECK(0, "init"); return; }
    CHECK(grok_checkpoint_save(&m, path, 1) == GROK_OK, "the first checkpoint");
    grok_rng_seed(&rng, 42);
    for (i = 0; i < rounds; i++) {
        pid_t pid = fork();
        struct timespec ts;
        if (pid == 0) {
            long gen;
            size_t k;
            for (gen = 1000L * (i + 1);; gen++) {
                for (k = 0; k < m.num_parameters; k++) m.weights[k] = (float)(gen + (long)k);
                m.step = gen;
                if (grok_checkpoint_save(&m, path, 1) != GROK_OK) _exit(3);
            }
        }
        if (pid < 0) { CHECK(0, "fork"); break; }
        ts.tv_sec = 0;
        ts.tv_nsec = 20000000L + (long)grok_rng_below(&rng, 200000000); /* 20..220 ms: several saves */
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (access(tmp, F_OK) == 0) torn_tmp++; /* killed with a half-written .tmp */
        if (grok_checkpoint_load(&r, path) == GROK_OK) {
            size_t k;
            int whole = 1;
            loaded++;
            for (k = 0; k < r.num_parameters; k++) whole &= r.weights[k] == (float)(r.step + (long)k);
            if (r.step == 0) whole = 1; /* the first checkpoint: the init weights */
            intact += whole;
            if (r.step > last_gen) last_gen = r.step;
        }
    }
    CHECK(loaded == rounds && intact == rounds, "after %d SIGKILLs latest.grok always loads (%d) and is one whole "
          "checkpoint (%d)", rounds, loaded, intact);
    CHECK(torn_tmp > 0, "some kills landed mid-write (%d of %d left a .tmp)", torn_tmp, rounds);
    CHECK(last_gen >= 1000, "the children did replace the checkpoint (last generation %ld)", last_gen);
    printf("kill test: %d SIGKILLs, %d mid-write, latest.grok intact every time\n", rounds, torn_tmp);
    if (system("rm -rf /tmp/grok_robust_kill") != 0) printf("note: could not remove %s\n", dir);
    grok_model_free(&m); grok_model_free(&r);
}

/* The NaN guard: a NaN in W_U (the loss goes NaN), a NaN in W_in (ReLU hides it from the loss,
   not from the gradients of the block below the MLP) and a huge learning rate (the weights overflow in the update), each
   injected at epoch 10 of one run by its on_eval callback, right after latest.grok of epoch 10
   was written. Training must stop with GROK_ERR_NUMERIC and a message naming epoch 10 and the
   loss or the tensor, and latest.grok must still be the finite checkpoint of epoch 10. */
static int poison(grok_model *m, void *ctx)
{
    int kase = *(const int *)ctx;
    if (m->epoch != 10) return 0;
    if (kase == 0) m->weights[grok_model_param(m, "unembed.W_U")->offset + 3] = NAN;
    if (kase == 1) m->weights[grok_model_param(m, "blocks.0.mlp.W_in")->offset + 5] = NAN;
    if (kase == 2) m->opt.lr = 1e300;
    return 0;
}

static void test_nan_guard(void)
{
    grok_config c = grok_config_modadd(7);
    grok_data tr, te;
    grok_model m, r;
    grok_train_opts o = grok_train_opts_default();
    const char *dir = "/tmp/grok_robust_nan";
    char path[256];
    int kase;
    snprintf(path, sizeof path, "%s/latest.grok", dir);
    c.d_model = 16; c.d_head = 4; c.d_mlp = 32;
    grok_task_modadd(&tr, &te, 7, 0.5, 1);
    for (kase = 0; kase < 3; kase++) {
        static const char *want[3] = {"the training loss is nan", "the gradient of blocks.0.",
                                      "parameter "};
        if (system("rm -rf /tmp/grok_robust_nan") != 0) { CHECK(0, "rm"); return; }
        if (grok_model_init(&m, &c, tr.n) != GROK_OK || grok_model_init(&r, &c, tr.n) != GROK_OK) { CHECK(0, "init"); return; }
        o.epochs = 20; o.eval_every = 5; o.checkpoint_every = 5; o.progress = 0; o.out_dir = dir;
        o.on_eval = poison; o.on_eval_ctx = &kase;
        MARK();
        CHECK(grok_train(&m, &o, &tr, &te) == GROK_ERR_NUMERIC && strstr(grok_last_error(), "epoch 10:") &&
              strstr(grok_last_error(), want[kase]) && strstr(grok_last_error(), "latest.grok (epoch 10) kept"),
              "case %d stopped with a message naming epoch 10 and \"%s\": %s", kase, want[kase], grok_last_error());
        printf("NaN guard, case %d: %s\n", kase, grok_last_error());
        CHECK(m.epoch == 10, "case %d: stopped in epoch 10 (m.epoch %ld)", kase, m.epoch);
        CHECK(grok_checkpoint_load(&r, path) == GROK_OK && r.epoch == 10 && r.step == 10 &&
              all_finite(r.weights, r.num_parameters) && all_finite(r.adam_m, r.num_parameters) &&
              all_finite(r.adam_v, r.num_parameters), "case %d: latest.grok is the finite one of epoch 10", kase);
        grok_model_free(&m); grok_model_free(&r);
    }
    if (system("rm -rf /tmp/grok_robust_nan") != 0) printf("note: could not remove %s\n", dir);
    grok_data_free(&tr); grok_data_free(&te);
}

/* The guard's update (grok__train_update) on its own: a NaN in a frozen tensor, which the
   update never touches, is named after it; a NaN gradient of a frozen tensor is not the
   guard's business; a NaN gradient of a trainable one stops it before the update. */
static void test_nan_guard_update(void)
{
    grok_config c = grok_config_modadd(7);
    grok_model m;
    grok__trainer t;
    const grok_param *w_in, *w_u;
    c.d_model = 16; c.d_head = 4; c.d_mlp = 32;
    if (grok_model_init(&m, &c, 8) != GROK_OK) { CHECK(0, "init"); return; }
    grok__trainer_init(&t, &grok__model_ops, "grok_train", grok__pset_model(&m), &m, NULL, NULL);
    w_in = grok_model_param(&m, "blocks.0.mlp.W_in");
    w_u = grok_model_param(&m, "unembed.W_U");
    CHECK(grok_model_set_trainable(&m, "mlp.W_in", 0) == 1, "froze W_in");
    grok_model_zero_grad(&m);
    m.grads[w_in->offset + 2] = NAN;
    CHECK(grok__train_update(&t, -1, "grok_model_adamw_step") == GROK_OK && m.step == 1, "a frozen tensor's NaN gradient is ignored");
    m.weights[w_in->offset + 4] = NAN;
    CHECK(grok__train_update(&t, -1, "grok_model_adamw_step") == GROK_ERR_NUMERIC && strstr(grok_last_error(), "parameter blocks.0.mlp.W_in") &&
          strstr(grok_last_error(), "element 4") && strstr(grok_last_error(), "after the update") && m.step == 2,
          "a frozen NaN weight is named after the update: %s", grok_last_error());
    m.weights[w_in->offset + 4] = 0.0f;
    m.grads[w_u->offset + 9] = INFINITY;
    CHECK(grok__train_update(&t, -1, "grok_model_adamw_step") == GROK_ERR_NUMERIC && strstr(grok_last_error(), "the gradient of unembed.W_U") &&
          strstr(grok_last_error(), "element 9") && m.step == 2,
          "a trainable infinite gradient stops before the update: %s", grok_last_error());
    grok_model_free(&m);
}

static int poison_net(grok_model *m, void *ctx)
{
    grok_net *net = (grok_net *)ctx;
    (void)m; /* NULL for a net */
    if (net->epoch == 2) net->weights[5] = NAN;
    return 0;
}

/* grok_net_train runs grok_train's loop, NaN guard included: a weight of W_E_a made NaN after
   epoch 2 (ReLU passes a 0 forward, so the loss stays finite) makes W's gradient NaN, which
   stops the next epoch before its update with the message naming the net's kept checkpoint;
   latest.safetensors stays the finite one of epoch 2. */
static void test_nan_guard_net(void)
{
    const char *dir = "/tmp/grok_robust_nan_net";
    grok_group g;
    grok_data tr, te;
    grok_net net;
    grok_net_config nc = {GROK_NET_MLP, 0, 8, 16, 3};
    grok_train_opts o = grok_train_opts_default();
    grok_safetensors st;
    char path[256];
    int rc, finite = 1;
    if (grok_group_init(&g, GROK_GROUP_CYCLIC, 7) != GROK_OK || grok_task_group(&tr, &te, &g, 0.5, 1) != GROK_OK) {
        CHECK(0, "group task: %s", grok_last_error());
        return;
    }
    nc.n = g.order;
    if (grok_net_init(&net, &nc, tr.n) != GROK_OK) { CHECK(0, "net init"); return; }
    if (system("rm -rf /tmp/grok_robust_nan_net") != 0) printf("note: could not clean %s\n", dir);
    o.epochs = 5; o.eval_every = 1; o.checkpoint_every = 1; o.progress = 0; o.out_dir = dir;
    o.on_eval = poison_net; o.on_eval_ctx = &net;
    rc = grok_net_train(&net, &o, &tr, &te);
    CHECK(rc == GROK_ERR_NUMERIC && strstr(grok_last_error(), "grok_net_train: epoch 2: the gradient of W is not finite") &&
          strstr(grok_last_error(), "latest.safetensors (epoch 2) kept") && net.epoch == 2,
          "net: stopped at epoch 2 naming the kept checkpoint: %d %s", rc, grok_last_error());
    snprintf(path, sizeof path, "%s/latest.safetensors", dir);
    if (grok_safetensors_load(&st, path) == GROK_OK) {
        const grok_array *w = grok_safetensors_get(&st, "W_E_a");
        const float *x = w ? (const float *)w->data : NULL;
        int64_t k;
        for (k = 0; x && k < grok_array_numel(w); k++) finite &= isfinite(x[k]) != 0;
        CHECK(x && finite, "net: latest.safetensors holds the finite weights of epoch 2");
        grok_safetensors_free(&st);
    } else {
        CHECK(0, "net: latest.safetensors unreadable: %s", grok_last_error());
    }
    if (system("rm -rf /tmp/grok_robust_nan_net") != 0) printf("note: could not remove %s\n", dir);
    grok_net_free(&net); grok_group_free(&g); grok_data_free(&tr); grok_data_free(&te);
}

/* ------------------------------------------- nets, other tasks, digits */

static int poison_moment(grok_model *m, void *ctx)
{
    (void)ctx;
    if (m->epoch == 10) m->adam_v[grok_model_param(m, "unembed.W_U")->offset + 7] = INFINITY;
    return 0;
}

/* A checkpoint must resume: an infinite AdamW second moment (what an overflowing gradient's
   square leaves while the weights stay finite, its update being 0) stops training before the
   next checkpoint is written, naming the moment, and latest.grok stays the finite checkpoint of
   epoch 10, which loads and trains on. */
static void test_moment_guard(void)
{
    grok_config c = grok_config_modadd(7);
    grok_data tr, te;
    grok_model m, r;
    grok_train_opts o = grok_train_opts_default();
    const char *dir = "/tmp/grok_robust_moment";
    char path[256];
    int st;
    snprintf(path, sizeof path, "%s/latest.grok", dir);
    c.d_model = 16; c.d_head = 4; c.d_mlp = 32;
    grok_task_modadd(&tr, &te, 7, 0.5, 1);
    if (system("rm -rf /tmp/grok_robust_moment") != 0) { CHECK(0, "rm"); return; }
    if (grok_model_init(&m, &c, tr.n) != GROK_OK || grok_model_init(&r, &c, tr.n) != GROK_OK) { CHECK(0, "init"); return; }
    o.epochs = 20; o.eval_every = 5; o.checkpoint_every = 5; o.progress = 0; o.out_dir = dir;
    o.on_eval = poison_moment;
    st = grok_train(&m, &o, &tr, &te);
    CHECK(st == GROK_ERR_NUMERIC && strstr(grok_last_error(), "epoch 15: the AdamW second moment of unembed.W_U") &&
          strstr(grok_last_error(), "before the checkpoint, latest.grok (epoch 10) kept"),
          "infinite second moment stops before the checkpoint: %s", grok_last_error());
    CHECK(grok_checkpoint_load(&r, path) == GROK_OK && r.epoch == 10 && all_finite(r.adam_v, r.num_parameters) &&
          all_finite(r.adam_m, r.num_parameters), "latest.grok is the finite one of epoch 10");
    o.on_eval = NULL;
    CHECK(grok_train(&r, &o, &tr, &te) == GROK_OK && r.epoch == 20, "and it resumes: %s", grok_last_error());
    if (system("rm -rf /tmp/grok_robust_moment") != 0) printf("note: could not remove %s\n", dir);
    grok_model_free(&m); grok_model_free(&r);
    grok_data_free(&tr); grok_data_free(&te);
}

/* metrics.csv without its seconds column (the 7th), for comparing runs. */
static char *metrics_without_seconds(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024], *out = (char *)calloc(1, 1 << 16);
    size_t n = 0;
    while (f && out && fgets(line, sizeof line, f)) {
        char *c = line;
        int field = 1;
        for (; *c && n + 2 < (1 << 16); c++) {
            if (*c == ',') field++;
            if (field != 7) out[n++] = *c;
        }
    }
    if (f) fclose(f);
    return out;
}

/* A run killed after an evaluation's metrics.csv row and before that epoch's checkpoint (or
   in the middle of a row) left rows after its latest.grok: resuming from latest.grok cuts them,
   so metrics.csv ends as the uninterrupted run's, row for row (seconds aside). */
static void test_resume_metrics(void)
{
    grok_config c = grok_config_modadd(7);
    grok_data tr, te;
    grok_model a, b;
    grok_train_opts o = grok_train_opts_default();
    const char *da = "/tmp/grok_robust_resume_a", *db = "/tmp/grok_robust_resume_b";
    char path[256], *ma, *mb;
    FILE *f;
    c.d_model = 16; c.d_head = 4; c.d_mlp = 32;
    grok_task_modadd(&tr, &te, 7, 0.5, 1);
    if (system("rm -rf /tmp/grok_robust_resume_a /tmp/grok_robust_resume_b") != 0) { CHECK(0, "rm"); return; }
    if (grok_model_init(&a, &c, tr.n) != GROK_OK || grok_model_init(&b, &c, tr.n) != GROK_OK) { CHECK(0, "init"); return; }
    o.epochs = 40; o.eval_every = 5; o.checkpoint_every = 10; o.progress = 0; o.out_dir = da;
    CHECK(grok_train(&a, &o, &tr, &te) == GROK_OK, "uninterrupted run");
    o.epochs = 30; o.out_dir = db;
    CHECK(grok_train(&b, &o, &tr, &te) == GROK_OK, "first part");
    snprintf(path, sizeof path, "%s/metrics.csv", db);
    if ((f = fopen(path, "a")) != NULL) { /* what a kill at epoch 35, then mid-row at 40, leaves */
        fputs("35,1,1,0.5,0.5,0.001,9.000\n40,0.9,0.", f);
        fclose(f);
    }
    grok_model_free(&b);
    grok_model_init(&b, &c, tr.n);
    snprintf(path, sizeof path, "%s/latest.grok", db);
    CHECK(grok_checkpoint_load(&b, path) == GROK_OK && b.epoch == 30, "latest.grok of epoch 30");
    o.epochs = 40;
    CHECK(grok_train(&b, &o, &tr, &te) == GROK_OK, "resumed run: %s", grok_last_error());
    snprintf(path, sizeof path, "%s/metrics.csv", da);
    ma = metrics_without_seconds(path);
    snprintf(path, sizeof path, "%s/metrics.csv", db);
    mb = metrics_without_seconds(path);
    CHECK(ma && mb && strlen(ma) > 100 && strcmp(ma, mb) == 0, "resumed metrics.csv equals the uninterrupted one:\n%s---\n%s",
          ma ? ma : "", mb ? mb : "");
    CHECK(memcmp(a.weights, b.weights, sizeof(float) * a.num_parameters) == 0, "and so do the weights");
    free(ma); free(mb);
    if (system("rm -rf /tmp/grok_robust_resume_a /tmp/grok_robust_resume_b") != 0) printf("note: could not remove\n");
    grok_model_free(&a); grok_model_free(&b);
    grok_data_free(&tr); grok_data_free(&te);
}

/* Readers open only regular files: a FIFO (which would block the open for ever; the alarm turns
   a hang into a failure) and a directory are refused with GROK_ERR_IO. A checkpoint whose
   header claims a larger model than its bytes hold is refused by grok_checkpoint_config before
   anyone allocates for it. A report or plot that cannot be written whole leaves the old file. */
static void test_readers_files(void)
{
    const char *dir = "/tmp/grok_robust_files";
    char fifo[256], ck[256], big[256], rep[256], tmp[256], buf[64];
    grok_config c = grok_config_modadd(7), got;
    grok_model m;
    grok_array arr;
    grok_safetensors st;
    grok_plot pl;
    FILE *f;
    long size;
    unsigned char *bytes;
    if (system("rm -rf /tmp/grok_robust_files && mkdir -p /tmp/grok_robust_files") != 0) { CHECK(0, "mkdir"); return; }
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    if (mkfifo(fifo, 0600) != 0) { CHECK(0, "mkfifo"); return; }
    c.d_model = 16; c.d_head = 4; c.d_mlp = 32;
    if (grok_model_init(&m, &c, 4) != GROK_OK) { CHECK(0, "init"); return; }
    alarm(20);
    CHECK(grok_checkpoint_config(&got, fifo) == GROK_ERR_IO && strstr(grok_last_error(), "not a regular file"), "checkpoint_config on a FIFO: %s", grok_last_error());
    CHECK(grok_checkpoint_load(&m, fifo) == GROK_ERR_IO, "checkpoint_load on a FIFO");
    CHECK(grok_npy_load(&arr, fifo) == GROK_ERR_IO, "npy_load on a FIFO");
    CHECK(grok_safetensors_load(&st, fifo) == GROK_ERR_IO, "safetensors_load on a FIFO");
    CHECK(grok_checkpoint_config(&got, dir) == GROK_ERR_IO && strstr(grok_last_error(), "not a regular file"), "a directory: %s", grok_last_error());
    alarm(0);
    /* a checkpoint, then its d_model field (the 5th u32 after magic, version, flags) claimed as 2^20 */
    snprintf(ck, sizeof ck, "%s/ok.grok", dir);
    snprintf(big, sizeof big, "%s/big.grok", dir);
    CHECK(grok_checkpoint_save(&m, ck, 1) == GROK_OK && grok_checkpoint_config(&got, ck) == GROK_OK && got.d_model == 16,
          "a real checkpoint's config reads");
    if ((f = fopen(ck, "rb")) != NULL) {
        fseek(f, 0, SEEK_END); size = ftell(f); fseek(f, 0, SEEK_SET);
        bytes = (unsigned char *)malloc((size_t)size);
        if (bytes && fread(bytes, 1, (size_t)size, f) == (size_t)size) {
            FILE *g = fopen(big, "wb");
            bytes[8 + 4 + 4 + 2 * 4 + 2] = 0x08; /* d_model = 16 + 2^19: within the config's bounds */
            if (g) { fwrite(bytes, 1, (size_t)size, g); fclose(g); }
            CHECK(grok_checkpoint_config(&got, big) == GROK_ERR_FORMAT && strstr(grok_last_error(), "its config makes"),
                  "a header claiming d_model 2^19+16 in %ld bytes: %s", size, grok_last_error());
            bytes[8 + 4 + 4 + 2 * 4 + 2] = 0;
            if (g && (g = fopen(big, "wb")) != NULL) { fwrite(bytes, 1, (size_t)size - 9, g); fclose(g); }
            CHECK(grok_checkpoint_config(&got, big) == GROK_ERR_FORMAT, "a truncated checkpoint: %s", grok_last_error());
        }
        free(bytes);
        fclose(f);
    }
    /* an old report stays when the new one cannot be written (its temporary is a directory) */
    snprintf(rep, sizeof rep, "%s/plot.svg", dir);
    snprintf(tmp, sizeof tmp, "%s/plot.svg.tmp", dir);
    if ((f = fopen(rep, "w")) != NULL) { fputs("old", f); fclose(f); }
    mkdir(tmp, 0700);
    memset(&pl, 0, sizeof pl);
    CHECK(grok_plot_save(rep, &pl) != GROK_OK, "plot_save into a blocked temporary fails");
    buf[0] = 0;
    if ((f = fopen(rep, "r")) != NULL) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
    CHECK(strcmp(buf, "old") == 0, "and the old plot.svg is untouched (%s)", buf);
    grok_model_free(&m);
    if (system("rm -rf /tmp/grok_robust_files") != 0) printf("note: could not remove %s\n", dir);
}

static void test_nets_tasks_args(void)
{
    grok_net_config nc;
    grok_net net, blank;
    grok_data tr, te, d;
    grok_group g;
    grok_cache cache;
    grok_train_opts o = grok_train_opts_default();
    grok_digits_stats ds;
    grok_digits_column col[4];
    grok_rng r;
    char buf[64];
    double out[64];
    float logits[64];
    int tok[6] = {0, 1, 5, 2, 3, 5}, tgt[6] = {-1, -1, 1, -1, -1, 0}, ints[64];
    memset(&nc, 0, sizeof nc);
    memset(&blank, 0, sizeof blank);
    nc.kind = GROK_NET_MLP; nc.n = 5; nc.embed_dim = 4; nc.hidden_dim = 8; nc.seed = 1;
    BAD(grok_net_init(NULL, &nc, 2), "net_init NULL net");
    BAD(grok_net_init(&net, NULL, 2), "net_init NULL config");
    nc.n = 0;
    BAD(grok_net_init(&net, &nc, 2), "net_init n 0");
    nc.n = 5; nc.kind = (grok_net_kind)7;
    BAD(grok_net_init(&net, &nc, 2), "net_init bad kind");
    nc.kind = GROK_NET_MLP;
    BAD(grok_net_init(&net, &nc, 0), "net_init max_batch 0");
    if (grok_net_init(&net, &nc, 2) != GROK_OK) { CHECK(0, "net init"); return; }
    BAD(grok_net_forward(NULL, tok, tgt, 2, NULL, NULL, NULL), "net_forward NULL");
    BAD(grok_net_forward(&blank, tok, tgt, 2, NULL, NULL, NULL), "net_forward uninitialised");
    BAD(grok_net_forward(&net, NULL, tgt, 2, NULL, NULL, NULL), "net_forward NULL tokens");
    BAD(grok_net_forward(&net, tok, tgt, 3, NULL, NULL, NULL), "net_forward B > max_batch");
    tok[0] = 9;
    BAD(grok_net_forward(&net, tok, tgt, 2, NULL, NULL, NULL), "net_forward token out of range");
    tok[0] = 0; tgt[2] = 5;
    BAD(grok_net_forward(&net, tok, tgt, 2, NULL, NULL, NULL), "net_forward target out of range");
    tgt[2] = 1;
    BAD(grok_net_backward(NULL), "net_backward NULL");
    BAD(grok_net_adamw_step(NULL), "net_adamw NULL");
    BAD(grok_net_evaluate(&net, tok, NULL, 2, NULL, NULL), "net_evaluate NULL targets");
    BAD(grok_net_evaluate(&net, tok, tgt, 0, NULL, NULL), "net_evaluate n 0");
    BAD(grok_net_add_hook(&net, NULL, dummy_hook, NULL), "net_add_hook NULL name");
    BAD(grok_net_cache_run(&cache, NULL, tok, 2, NULL, NULL), "net_cache_run NULL net");
    BAD(grok_net_cache_run(&cache, &net, tok, 0, NULL, NULL), "net_cache_run B 0");
    BAD(grok_net_add_grad_hook(&net, NULL, dummy_hook, NULL), "net_add_grad_hook NULL name");
    BADM(grok_net_add_grad_hook(&net, "product", dummy_hook, NULL), "not a hook point of OneLayerMLP", "net grad hook on a bilinear name");
    BAD(grok_net_grad_cache_run(NULL, &cache, NULL, tok, 2, NULL, NULL, tgt, NULL), "net_grad_cache_run NULL net");
    BAD(grok_net_grad_cache_run(NULL, &cache, &net, tok, 0, NULL, NULL, tgt, NULL), "net_grad_cache_run B 0");
    BADM(grok_net_grad_cache_run(NULL, &cache, &net, tok, 2, NULL, NULL, NULL, NULL), "labels", "net_grad_cache_run, the loss without labels");
    tok[0] = 9;
    BADM(grok_net_grad_cache_run(NULL, &cache, &net, tok, 2, NULL, NULL, tgt, NULL), "row 0", "net_grad_cache_run, an element out of range");
    tok[0] = 0;
    CHECK(cache.entries == NULL && cache.n == 0, "refused net gradient caches leave an empty cache");
    MARK();
    CHECK(grok_net_param(NULL, "W_U") == NULL && MSG_SET(), "net_param NULL");
    BAD(grok_net_save_safetensors(NULL, "/tmp/x.safetensors", NULL), "net_save NULL");
    BAD(grok_net_fourier_norms(out, out, out, NULL, 1), "net_fourier_norms NULL");
    BAD(grok_net_neuron_freqs(ints, out, NULL, NULL, 1, 0.5), "net_neuron_freqs NULL");
    BAD(grok_net_train(NULL, &o, NULL, NULL), "net_train NULL");
    grok_net_zero_grad(NULL);
    grok_net_clear_hooks(NULL);
    grok_net_free(&net);
    grok_net_free(NULL);
    /* tasks */
    MARK();
    CHECK(grok_modop_apply(GROK_OP_ADD, 1, 2, 1, 0, 0) == -1 && MSG_SET(), "modop p 1");
    MARK();
    CHECK(grok_modop_apply((grok_modop)99, 1, 2, 7, 0, 0) == -1 && MSG_SET(), "modop unknown op");
    BAD(grok_task_modop(NULL, &te, GROK_OP_ADD, 7, 0, 0, 0.5, 1), "modop NULL train");
    BAD(grok_task_modop(&tr, &te, GROK_OP_ADD, 1, 0, 0, 0.5, 1), "modop p 1");
    BAD(grok_task_modop(&tr, &te, GROK_OP_ADD, 7, 0, 0, 1.5, 1), "modop frac 1.5");
    BAD(grok_task_modop(&tr, &te, (grok_modop)99, 7, 0, 0, 0.5, 1), "modop unknown op");
    BAD(grok_task_modop_fn(&tr, &te, NULL, NULL, 7, 0.5, 1), "modop_fn NULL fn");
    BAD(grok_group_init(NULL, GROK_GROUP_CYCLIC, 5), "group_init NULL");
    BAD(grok_group_init(&g, GROK_GROUP_CYCLIC, 0), "group_init n 0");
    BAD(grok_group_init(&g, GROK_GROUP_SYMMETRIC, 9), "group_init S_9");
    BAD(grok_group_init(&g, (grok_group_kind)9, 5), "group_init bad kind");
    BAD(grok_task_group(&tr, &te, NULL, 0.5, 1), "task_group NULL group");
    BAD(grok_group_init(&g, GROK_GROUP_ALTERNATING, 7), "group_init A_7");
    BAD(grok_task_group_op(&tr, &te, NULL, GROK_GROUP_OP_CONJUGATE, 0.5, 1), "task_group_op NULL group");
    MARK();
    CHECK(grok_group_op_apply(NULL, GROK_GROUP_OP_XYX, 0, 0) == -1 && MSG_SET(), "group_op_apply NULL group");
    BAD(grok_task_modop(&tr, &te, GROK_OP_DIV_IF_ODD, 12, 0, 0, 0.5, 1), "modop div_if_odd composite p");
    grok_group_free(NULL);
    memset(&d, 0, sizeof d);
    grok_rng_seed(&r, 1);
    BAD(grok_task_digits(NULL, 2, 4, &r), "digits NULL batch");
    BAD(grok_task_digits(&d, 0, 4, &r), "digits n 0");
    BAD(grok_task_digits(&d, 2, 0, &r), "digits B 0");
    BAD(grok_task_digits(&d, 2, 4, NULL), "digits NULL rng");
    BAD(grok_digits_columns(NULL, tok, 1, 1), "digits_columns NULL");
    BAD(grok_digits_columns(col, tok, 1, 0), "digits_columns n 0");
    BAD(grok_digits_losses(&ds, NULL, 10, tok, 1, 1), "digits_losses NULL logits");
    BAD(grok_digits_losses(&ds, logits, 5, tok, 1, 1), "digits_losses V < 10");
    BAD(grok_digits_string(buf, 2, tok, NULL, 10, 1), "digits_string buffer too small");
    BAD(grok_digits_string(NULL, sizeof buf, tok, NULL, 10, 1), "digits_string NULL buf");
    BAD(grok_plot_phase_diagram(stdout, NULL), "phase diagram NULL");
    BAD(grok_plot_phase_diagram_save(NULL, NULL), "phase diagram save NULL");
    CHECK(grok_phase_name(12345) != NULL, "phase_name of an unknown phase is a string");
}

int main(void)
{
    test_core();
    test_gemm_args();
    test_config();
    test_model_calls();
    test_tasks_train();
    test_analysis_args();
    test_io_args();
    test_nets_tasks_args();
    test_nan_guard();
    test_nan_guard_update();
    test_nan_guard_net();
    test_moment_guard();
    test_resume_metrics();
    test_readers_files();
    test_kill_during_save();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
