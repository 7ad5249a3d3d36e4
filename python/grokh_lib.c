/* grokh_lib.c - grok.h as a shared library for python/grokh.py (ctypes), built by `make python`.

   The whole of grok.h is compiled in and exported as it is: grokh.py calls its functions
   directly wherever their arguments are plain pointers, sizes and handles. The grokpy_*
   functions below are the few entry points that would otherwise make Python mirror a C struct
   (grok_config, grok_model, grok_data, grok_train_opts, grok_cache, grok_modtask): each takes
   or returns an opaque handle and plain arrays, so that a change in a struct's layout changes
   this file, never grokh.py. A call that can fail returns a grok_status, or NULL for a handle,
   and leaves its message in grok_last_error(), as grok.h does; the getters cannot fail. */
#define GROK_IMPLEMENTATION
#include "../grok.h"

#include <stdlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define GROKPY_API __attribute__((visibility("default")))
#else
#define GROKPY_API
#endif

/* ---- configs: grok_config as GROKPY_CFG_INTS int64 values and GROKPY_CFG_DBLS doubles, in the
   order of grokh.py's CONFIG_FIELDS. */

#define GROKPY_CFG_INTS 12
#define GROKPY_CFG_DBLS 2

static void grokpy__cfg_out(int64_t *iv, double *dv, const grok_config *c)
{
    iv[0] = c->n_layers; iv[1] = c->n_heads; iv[2] = c->d_model; iv[3] = c->d_head; iv[4] = c->d_mlp;
    iv[5] = c->d_vocab; iv[6] = c->d_vocab_out; iv[7] = c->n_ctx; iv[8] = (int64_t)c->act_fn;
    iv[9] = (int64_t)c->normalization; iv[10] = (int64_t)c->seed; iv[11] = c->train_biases;
    dv[0] = c->init_range; dv[1] = c->ln_eps;
}

static void grokpy__cfg_in(grok_config *c, const int64_t *iv, const double *dv)
{
    memset(c, 0, sizeof *c);
    c->n_layers = (int)iv[0]; c->n_heads = (int)iv[1]; c->d_model = (int)iv[2]; c->d_head = (int)iv[3];
    c->d_mlp = (int)iv[4]; c->d_vocab = (int)iv[5]; c->d_vocab_out = (int)iv[6]; c->n_ctx = (int)iv[7];
    c->act_fn = iv[8] ? GROK_ACT_GELU : GROK_ACT_RELU;
    c->normalization = iv[9] ? GROK_NORM_LN : GROK_NORM_NONE;
    c->seed = (uint64_t)iv[10]; c->train_biases = (int)iv[11];
    c->init_range = dv[0]; c->ln_eps = dv[1];
}

/* grok_config_modadd(p) into iv, dv. */
GROKPY_API void grokpy_config_modadd(int p, int64_t *iv, double *dv)
{
    grok_config c = grok_config_modadd(p);
    grokpy__cfg_out(iv, dv, &c);
}

/* The config stored in a file: a grok.h checkpoint (safetensors == 0, grok_checkpoint_config)
   or a safetensors state dict (grok_safetensors_config). */
GROKPY_API int grokpy_file_config(const char *path, int safetensors, int64_t *iv, double *dv)
{
    grok_config c;
    int st;
    if (!path || !iv || !dv) return grok__fail(GROK_ERR_ARG, "grokpy_file_config: NULL argument");
    st = safetensors ? grok_safetensors_config(&c, path) : grok_checkpoint_config(&c, path);
    if (st == GROK_OK) grokpy__cfg_out(iv, dv, &c);
    return st;
}

/* ---- models: a heap grok_model behind an opaque handle. */

/* grok_model_init on a fresh allocation; NULL (message in grok_last_error) on failure. */
GROKPY_API grok_model *grokpy_model_new(const int64_t *iv, const double *dv, int max_batch)
{
    grok_config c;
    grok_model *m;
    if (!iv || !dv) return grok__fail(GROK_ERR_ARG, "grokpy_model_new: NULL config"), (grok_model *)NULL;
    grokpy__cfg_in(&c, iv, dv);
    if (!(m = (grok_model *)calloc(1, sizeof *m)))
        return grok__fail(GROK_ERR_NOMEM, "grokpy_model_new: out of memory"), (grok_model *)NULL;
    if (grok_model_init(m, &c, max_batch) != GROK_OK) {
        free(m);
        return NULL;
    }
    return m;
}

/* grok_model_free and the allocation; NULL is fine. */
GROKPY_API void grokpy_model_free(grok_model *m)
{
    if (!m) return;
    grok_model_free(m);
    free(m);
}

GROKPY_API void grokpy_model_config(const grok_model *m, int64_t *iv, double *dv)
{
    grokpy__cfg_out(iv, dv, &m->cfg);
}

/* The scalar state: st[0] step, st[1] epoch, st[2] max_rows, st[3] num_parameters, st[4] n_params;
   metrics (train_loss, test_loss, train_acc, test_acc) of the last evaluation. */
GROKPY_API void grokpy_model_state(const grok_model *m, int64_t *st, double *metrics)
{
    st[0] = m->step; st[1] = m->epoch; st[2] = m->max_rows; st[3] = (int64_t)m->num_parameters;
    st[4] = m->n_params;
    metrics[0] = m->metrics.train_loss; metrics[1] = m->metrics.test_loss;
    metrics[2] = m->metrics.train_acc; metrics[3] = m->metrics.test_acc;
}

/* Parameter i of the table: its name (GROK_NAME_MAX bytes), ndim, shape (4), offset in floats
   into every buffer, and whether it is trainable. */
GROKPY_API int grokpy_model_param(const grok_model *m, int i, char *name, int *ndim, int *shape, int64_t *offset,
                                  int *trainable)
{
    const grok_param *p;
    int d;
    if (!m || i < 0 || i >= m->n_params) return GROK_ERR_ARG;
    p = &m->params[i];
    memcpy(name, p->name, GROK_NAME_MAX);
    *ndim = p->ndim;
    for (d = 0; d < GROK_MAX_DIMS; d++) shape[d] = d < p->ndim ? p->shape[d] : 0;
    *offset = (int64_t)p->offset;
    *trainable = p->trainable;
    return GROK_OK;
}

/* One of the model's same-layout buffers: 0 weights, 1 grads, 2 adam_m, 3 adam_v. */
GROKPY_API float *grokpy_model_buffer(grok_model *m, int which)
{
    switch (which) {
    case 0: return m->weights;
    case 1: return m->grads;
    case 2: return m->adam_m;
    case 3: return m->adam_v;
    default: return NULL;
    }
}

/* m->opt: lr, weight_decay, beta1, beta2, eps in v (5). The schedule is left as it is. */
GROKPY_API void grokpy_model_get_adamw(const grok_model *m, double *v)
{
    v[0] = m->opt.lr; v[1] = m->opt.weight_decay; v[2] = m->opt.beta1; v[3] = m->opt.beta2; v[4] = m->opt.eps;
}

GROKPY_API void grokpy_model_set_adamw(grok_model *m, const double *v)
{
    m->opt.lr = v[0]; m->opt.weight_decay = v[1]; m->opt.beta1 = v[2]; m->opt.beta2 = v[3]; m->opt.eps = v[4];
}

/* ---- tasks: a grok_data pair copied out into caller arrays. The caller sizes each array for
   every row the task can make (p*p, order*order) times n_ctx ints; n_train, n_test get the counts.
   grok__fail is grok.h's own error recorder (this file is the implementation's translation unit). */

static int grokpy__data_out(const grok_data *d, long cap_rows, int *n, int *tokens, int *targets)
{
    if (d->n > cap_rows) return grok__fail(GROK_ERR_ARG, "grokpy: %d rows do not fit the %ld given", d->n, cap_rows);
    *n = d->n;
    memcpy(tokens, d->tokens, sizeof(int) * (size_t)d->n * (size_t)d->n_ctx);
    memcpy(targets, d->targets, sizeof(int) * (size_t)d->n * (size_t)d->n_ctx);
    return GROK_OK;
}

static int grokpy__split_out(int st, grok_data *train, grok_data *test, long cap_rows, int *n_train, int *train_tokens,
                             int *train_targets, int *n_test, int *test_tokens, int *test_targets)
{
    if (st == GROK_OK) st = grokpy__data_out(train, cap_rows, n_train, train_tokens, train_targets);
    if (st == GROK_OK) st = grokpy__data_out(test, cap_rows, n_test, test_tokens, test_targets);
    grok_data_free(train);
    grok_data_free(test);
    return st;
}

/* grok_task_modop (GROK_OP_ADD is grok_task_modadd's data): arrays of p*p*3 ints each. */
GROKPY_API int grokpy_task_modop(int op, int p, int m_exp, int n_exp, double frac_train, uint64_t data_seed,
                                 int *n_train, int *train_tokens, int *train_targets, int *n_test, int *test_tokens,
                                 int *test_targets)
{
    grok_data train, test;
    int st;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    st = grok_task_modop(&train, &test, (grok_modop)op, p, m_exp, n_exp, frac_train, data_seed);
    return grokpy__split_out(st, &train, &test, (long)p * p, n_train, train_tokens, train_targets, n_test, test_tokens,
                             test_targets);
}

/* grok_task_group on the group kind (0 C_n, 1 D_n, 2 S_n) of index n: arrays of order*order*3
   ints each, order from grokpy_group_order. */
GROKPY_API int grokpy_group_order(int kind, int n)
{
    grok_group g;
    int order;
    if (grok_group_init(&g, (grok_group_kind)kind, n) != GROK_OK) return -1;
    order = g.order;
    grok_group_free(&g);
    return order;
}

GROKPY_API int grokpy_task_group(int kind, int n, int op, double frac_train, uint64_t data_seed, int *n_train,
                                 int *train_tokens, int *train_targets, int *n_test, int *test_tokens, int *test_targets)
{
    grok_group g;
    grok_data train, test;
    long order;
    int st;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if ((st = grok_group_init(&g, (grok_group_kind)kind, n)) != GROK_OK) return st;
    order = g.order;
    st = grok_task_group_op(&train, &test, &g, (grok_group_op)op, frac_train, data_seed);
    grok_group_free(&g);
    return grokpy__split_out(st, &train, &test, order * order, n_train, train_tokens, train_targets, n_test,
                             test_tokens, test_targets);
}

/* grok_rng_seed into a grok_rng's four state words, so Python can carry an RNG as a uint64 array. */
GROKPY_API void grokpy_rng_seed(uint64_t *state, uint64_t seed)
{
    grok_rng r;
    grok_rng_seed(&r, seed);
    memcpy(state, r.s, sizeof r.s);
}

/* grok_task_digits: B questions of n_digits into tokens, targets (B, 3n+3), drawn from the RNG
   state (4 words), which is advanced. */
GROKPY_API int grokpy_task_digits(int n_digits, int B, uint64_t *state, int *tokens, int *targets)
{
    grok_rng r;
    grok_data d;
    int st, n;
    if (!state || !tokens || !targets) return grok__fail(GROK_ERR_ARG, "grokpy_task_digits: NULL argument");
    memcpy(r.s, state, sizeof r.s);
    memset(&d, 0, sizeof d);
    if ((st = grok_task_digits(&d, n_digits, B, &r)) != GROK_OK) return st;
    st = grokpy__data_out(&d, B, &n, tokens, targets);
    grok_data_free(&d);
    if (st == GROK_OK) memcpy(state, r.s, sizeof r.s);
    return st;
}

/* ---- modular tasks for the analyses: a heap grok_modtask behind a handle. */

/* grok_modtask_init(op, p, m, n, dirs); NULL on failure. */
GROKPY_API grok_modtask *grokpy_modtask_new(int op, int p, int m_exp, int n_exp, int dirs)
{
    grok_modtask *t = (grok_modtask *)calloc(1, sizeof *t);
    if (!t) return grok__fail(GROK_ERR_NOMEM, "grokpy_modtask_new: out of memory"), (grok_modtask *)NULL;
    if (grok_modtask_init(t, (grok_modop)op, p, m_exp, n_exp, (grok_dirs)dirs) != GROK_OK) {
        free(t);
        return NULL;
    }
    return t;
}

/* grok_modtask_from_data over (n, n_ctx) token and target arrays of train and test (test may
   have n_test 0); NULL on failure. */
GROKPY_API grok_modtask *grokpy_modtask_from_data(int p, int n_ctx, int n_train, int *train_tokens, int *train_targets,
                                                  int n_test, int *test_tokens, int *test_targets)
{
    grok_data train, test;
    grok_modtask *t = (grok_modtask *)calloc(1, sizeof *t);
    if (!t) return grok__fail(GROK_ERR_NOMEM, "grokpy_modtask_from_data: out of memory"), (grok_modtask *)NULL;
    train.n = n_train; train.n_ctx = n_ctx; train.tokens = train_tokens; train.targets = train_targets;
    test.n = n_test; test.n_ctx = n_ctx; test.tokens = test_tokens; test.targets = test_targets;
    if (grok_modtask_from_data(t, p, &train, n_test > 0 ? &test : NULL) != GROK_OK) {
        free(t);
        return NULL;
    }
    return t;
}

/* labels, sums (p*p) and the name (80 bytes) of a task. */
GROKPY_API void grokpy_modtask_info(const grok_modtask *t, int *labels, int *sums, char *name)
{
    size_t n = (size_t)t->p * (size_t)t->p;
    memcpy(labels, t->labels, n * sizeof(int));
    memcpy(sums, t->sums, n * sizeof(int));
    memcpy(name, t->name, sizeof t->name);
}

GROKPY_API void grokpy_modtask_free(grok_modtask *t)
{
    if (!t) return;
    grok_modtask_free(t);
    free(t);
}

/* ---- training. The Python callback sees only the epoch and the metrics, read from the model
   on_eval is handed. */

typedef int (*grokpy_eval_fn)(int64_t epoch, const double *metrics);

typedef struct {
    grokpy_eval_fn fn;
} grokpy__eval_ctx;

static int grokpy__on_eval(grok_model *m, void *ctx)
{
    grokpy__eval_ctx *e = (grokpy__eval_ctx *)ctx;
    double metrics[4];
    metrics[0] = m->metrics.train_loss; metrics[1] = m->metrics.test_loss;
    metrics[2] = m->metrics.train_acc; metrics[3] = m->metrics.test_acc;
    return e->fn((int64_t)m->epoch, metrics);
}

/* grok_train from grok_train_opts_default() with these fields; on_eval (may be NULL) is called
   after every evaluation and stops training when it returns nonzero. n_test 0: no test set.
   out_dir NULL writes nothing. */
GROKPY_API int grokpy_train(grok_model *m, int64_t epochs, int64_t eval_every, int64_t checkpoint_every,
                            const char *out_dir, int progress, int keep_history, int progress_measures,
                            grokpy_eval_fn on_eval, int n_ctx, int n_train, int *train_tokens, int *train_targets,
                            int n_test, int *test_tokens, int *test_targets)
{
    grok_train_opts o = grok_train_opts_default();
    grok_data train, test;
    grokpy__eval_ctx e;
    o.epochs = (long)epochs;
    o.eval_every = (long)eval_every;
    o.checkpoint_every = (long)checkpoint_every;
    o.out_dir = out_dir;
    o.progress = progress;
    o.keep_history = keep_history;
    o.progress_measures = progress_measures;
    e.fn = on_eval;
    if (on_eval) {
        o.on_eval = grokpy__on_eval;
        o.on_eval_ctx = &e;
    }
    train.n = n_train; train.n_ctx = n_ctx; train.tokens = train_tokens; train.targets = train_targets;
    test.n = n_test; test.n_ctx = n_ctx; test.tokens = test_tokens; test.targets = test_targets;
    return grok_train(m, &o, &train, n_test > 0 ? &test : NULL);
}

/* ---- the activation cache: a heap grok_cache behind a handle. */

/* grok_cache_run over tokens (B, n_ctx); filter NULL keeps every hook point. NULL on failure. */
GROKPY_API grok_cache *grokpy_cache_run(grok_model *m, const int *tokens, int B, const char *filter, float *logits_out)
{
    grok_cache *c = (grok_cache *)calloc(1, sizeof *c);
    if (!c) return grok__fail(GROK_ERR_NOMEM, "grokpy_cache_run: out of memory"), (grok_cache *)NULL;
    if (grok_cache_run(c, m, tokens, B, filter, logits_out) != GROK_OK) {
        free(c);
        return NULL;
    }
    return c;
}

GROKPY_API int grokpy_cache_size(const grok_cache *c)
{
    return c ? c->n : 0;
}

/* Entry i: its name (GROK_NAME_MAX bytes), ndim, shape (4) and strides (4, in elements); returns
   its data, NULL for a bad i. */
GROKPY_API const float *grokpy_cache_entry(const grok_cache *c, int i, char *name, int *ndim, int *shape,
                                           int64_t *stride)
{
    const grok_tensor *t;
    int d;
    if (!c || i < 0 || i >= c->n) {
        grok__fail(GROK_ERR_ARG, "grokpy_cache_entry: no entry %d", i);
        return NULL;
    }
    t = &c->entries[i].t;
    memcpy(name, c->entries[i].name, GROK_NAME_MAX);
    *ndim = t->ndim;
    for (d = 0; d < GROK_MAX_DIMS; d++) {
        shape[d] = d < t->ndim ? t->shape[d] : 0;
        stride[d] = d < t->ndim ? (int64_t)t->stride[d] : 0;
    }
    return t->data;
}

GROKPY_API void grokpy_cache_free(grok_cache *c)
{
    if (!c) return;
    grok_cache_free(c);
    free(c);
}

/* ---- gradients and patching, with the metric chosen by its arguments: the loss over targets
   (B, n_ctx) when targets is given, else the logit difference at pos between correct and wrong
   (B). */

static grok_metric_fn grokpy_metric(const int *targets, const int *correct, const int *wrong, int pos,
                                    grok_logit_diff *ld, void **ctx)
{
    if (targets) { *ctx = (void *)targets; return grok_metric_loss; }
    ld->pos = pos; ld->correct = correct; ld->wrong = wrong;
    *ctx = ld;
    return grok_metric_logit_diff;
}

/* grok_grad_cache_run: the gradient cache as a handle (grokpy_cache_* read it), *value the metric. */
GROKPY_API grok_cache *grokpy_grad_cache_run(grok_model *m, const int *tokens, int B, const char *filter, const int *targets,
                                             const int *correct, const int *wrong, int pos, double *value)
{
    grok_logit_diff ld;
    void *ctx;
    grok_metric_fn metric = grokpy_metric(targets, correct, wrong, pos, &ld, &ctx);
    grok_cache *c = (grok_cache *)calloc(1, sizeof *c);
    if (!c) return grok__fail(GROK_ERR_NOMEM, "grokpy_grad_cache_run: out of memory"), (grok_cache *)NULL;
    if (grok_grad_cache_run(NULL, c, m, tokens, B, filter, metric, ctx, value) != GROK_OK) {
        free(c);
        return NULL;
    }
    return c;
}

/* grok_act_patch (attr 0) or grok_attr_patch (attr 1) of clean and corrupted tokens (B, n_ctx)
   for site and by_pos into out (grok_patch_shape's shape); the caches are made and freed here. */
GROKPY_API int grokpy_patch(grok_model *m, int attr, const int *clean_tokens, const int *corrupted_tokens, int B, int site,
                            int by_pos, const int *targets, const int *correct, const int *wrong, int pos, double *out)
{
    grok_logit_diff ld;
    void *ctx;
    grok_metric_fn metric = grokpy_metric(targets, correct, wrong, pos, &ld, &ctx);
    grok_cache clean, corr, grads;
    int st = grok_cache_run(&clean, m, clean_tokens, B, NULL, NULL);
    if (st != GROK_OK) return st;
    if (!attr) {
        st = grok_act_patch(out, m, corrupted_tokens, B, &clean, site, by_pos, metric, ctx);
    } else if ((st = grok_grad_cache_run(&corr, &grads, m, corrupted_tokens, B, NULL, metric, ctx, NULL)) == GROK_OK) {
        st = grok_attr_patch(out, m, &clean, &corr, &grads, site, by_pos);
        grok_cache_free(&corr);
        grok_cache_free(&grads);
    }
    grok_cache_free(&clean);
    return st;
}
