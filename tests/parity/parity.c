/* The C half of tests/parity (run by tests/parity/run.sh, `make test-parity`).
     parity gen DIR    writes, for four small models (1 and 2 layers, LayerNorm on and off,
                       ReLU and GeLU, random weights and biases, all trainable): the weights
                       (safetensors), a batch of tokens and targets (.npy), and what grok.h
                       computes from them: logits, losses, every gradient, the weights after
                       one and two AdamW steps; and inputs and outputs of grok.h's DFT (fft,
                       ifft, rfft, fft2) and SVD singular values. parity.py compares them with
                       PyTorch and numpy.
     parity check DIR  loads what parity.py wrote (a TransformerLens-style state dict, F64, with
                       attn.mask / attn.IGNORE buffers, and a train/test split as index .npy
                       files) and writes grok.h's logits and loss on that split for parity.py.
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

static const char *dir;

static const char *path(const char *fmt, int i)
{
    static char buf[2][1024];
    static int k;
    char name[256];
    k ^= 1;
    snprintf(name, sizeof name, fmt, i);
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "parity: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save_f64(const char *p, const double *x, int ndim, const int64_t *shape)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = ndim; a.data = (void *)x;
    memcpy(a.shape, shape, sizeof(int64_t) * (size_t)ndim);
    must(grok_npy_save(p, &a), p);
}

static void save_ints(const char *p, const int *x, int rows, int cols)
{
    int64_t *q = (int64_t *)malloc(sizeof(int64_t) * (size_t)rows * cols);
    grok_array a;
    int i;
    for (i = 0; i < rows * cols; i++) q[i] = x[i];
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I64; a.ndim = 2; a.shape[0] = rows; a.shape[1] = cols; a.data = q;
    must(grok_npy_save(p, &a), p);
    free(q);
}

static void save_f32(const char *p, const float *x, int ndim, const int *shape)
{
    grok_tensor t = grok_tensor_make((float *)x, ndim, shape);
    must(grok_npy_save_tensor(p, &t), p);
}

static void gen_model(int i, int layers, int ln, int gelu)
{
    grok_config c;
    grok_model m;
    grok_rng r;
    enum { B = 6, T = 4 };
    int tokens[B * T], targets[B * T], k, shape[3];
    float *logits;
    double losses[4];
    int64_t lshape[1] = {4};
    size_t j;
    memset(&c, 0, sizeof c);
    c.n_layers = layers; c.n_heads = 3; c.d_model = 12; c.d_head = 5; c.d_mlp = 20;
    c.d_vocab = 11; c.d_vocab_out = 9; c.n_ctx = T;
    c.act_fn = gelu ? GROK_ACT_GELU : GROK_ACT_RELU;
    c.normalization = ln ? GROK_NORM_LN : GROK_NORM_NONE;
    c.seed = 100 + (uint64_t)i;
    c.train_biases = 1;
    must(grok_model_init(&m, &c, B), "init");
    /* every parameter random: weights N(0, 0.3), biases N(0, 0.1), LayerNorm w around 1 */
    grok_rng_seed(&r, 7 + (uint64_t)i);
    for (k = 0; k < m.n_params; k++) {
        const grok_param *p = &m.params[k];
        int is_lnw = strstr(p->name, "ln") && p->name[strlen(p->name) - 1] == 'w';
        int is_b = strstr(p->name, ".b_") || (strstr(p->name, "ln") && p->name[strlen(p->name) - 1] == 'b');
        for (j = 0; j < p->numel; j++)
            m.weights[p->offset + j] = (float)(is_lnw ? 1.0 + 0.2 * grok_rng_normal(&r) : (is_b ? 0.1 : 0.3) * grok_rng_normal(&r));
    }
    for (k = 0; k < B * T; k++) {
        tokens[k] = (int)grok_rng_below(&r, (uint64_t)c.d_vocab);
        targets[k] = k % T >= T - 2 ? (int)grok_rng_below(&r, (uint64_t)c.d_vocab_out) : -1; /* the last two positions */
    }
    m.opt.lr = 1e-2; m.opt.weight_decay = 0.5; m.opt.beta1 = 0.9; m.opt.beta2 = 0.98; m.opt.eps = 1e-8;
    must(grok_model_save_safetensors(&m, path("m%d_weights.safetensors", i), NULL), "save weights");
    save_ints(path("m%d_tokens.npy", i), tokens, B, T);
    save_ints(path("m%d_targets.npy", i), targets, B, T);
    logits = (float *)malloc(sizeof(float) * B * T * (size_t)c.d_vocab_out);
    /* the general path (all positions, logits out) */
    must(grok_model_forward(&m, tokens, targets, B, &losses[0], NULL, logits), "forward");
    shape[0] = B; shape[1] = T; shape[2] = c.d_vocab_out;
    save_f32(path("m%d_logits.npy", i), logits, 3, shape);
    /* the training path (trimmed for one layer) with its gradients, then two AdamW steps */
    grok_model_zero_grad(&m);
    must(grok_model_forward(&m, tokens, targets, B, &losses[1], NULL, NULL), "forward");
    must(grok_model_backward(&m), "backward");
    must(grok_model_save_safetensors(&m, path("m%d_grads1.safetensors", i), m.grads), "save grads");
    must(grok_model_adamw_step(&m), "adamw");
    must(grok_model_save_safetensors(&m, path("m%d_step1.safetensors", i), NULL), "save step 1");
    grok_model_zero_grad(&m);
    must(grok_model_forward(&m, tokens, targets, B, &losses[2], NULL, NULL), "forward");
    must(grok_model_backward(&m), "backward");
    must(grok_model_save_safetensors(&m, path("m%d_grads2.safetensors", i), m.grads), "save grads");
    must(grok_model_adamw_step(&m), "adamw");
    must(grok_model_save_safetensors(&m, path("m%d_step2.safetensors", i), NULL), "save step 2");
    must(grok_model_save_safetensors(&m, path("m%d_adam_m.safetensors", i), m.adam_m), "save moments");
    must(grok_model_save_safetensors(&m, path("m%d_adam_v.safetensors", i), m.adam_v), "save moments");
    losses[3] = 0.0;
    save_f64(path("m%d_losses.npy", i), losses, 1, lshape);
    free(logits);
    grok_model_free(&m);
}

static void gen_fft(void)
{
    static const int ns[] = {1, 2, 3, 5, 7, 8, 12, 16, 97, 113, 128, 360, 1000, 1009, 4096, 12769};
    static const int grids[][2] = {{113, 113}, {12, 10}, {7, 64}, {1, 9}};
    grok_rng r;
    int t, j;
    grok_rng_seed(&r, 42);
    for (t = 0; t < (int)(sizeof ns / sizeof ns[0]); t++) {
        int n = ns[t];
        double *x = (double *)malloc(sizeof(double) * 2 * (size_t)n), *y = (double *)malloc(sizeof(double) * 2 * (size_t)n);
        double *re = (double *)malloc(sizeof(double) * (size_t)n), *ro = (double *)malloc(sizeof(double) * (size_t)(n + 2));
        int64_t sh[2];
        for (j = 0; j < 2 * n; j++) x[j] = grok_rng_normal(&r);
        for (j = 0; j < n; j++) re[j] = grok_rng_normal(&r);
        sh[0] = n; sh[1] = 2;
        save_f64(path("fft_%d_in.npy", n), x, 2, sh);
        memcpy(y, x, sizeof(double) * 2 * (size_t)n);
        must(grok_fft_axis(y, 1, &n, 0, 0), "fft");
        save_f64(path("fft_%d_out.npy", n), y, 2, sh);
        memcpy(y, x, sizeof(double) * 2 * (size_t)n);
        must(grok_fft_axis(y, 1, &n, 0, 1), "ifft");
        save_f64(path("ifft_%d_out.npy", n), y, 2, sh);
        sh[0] = n;
        save_f64(path("rfft_%d_in.npy", n), re, 1, sh);
        must(grok_rfft(ro, re, n), "rfft");
        sh[0] = n / 2 + 1; sh[1] = 2;
        save_f64(path("rfft_%d_out.npy", n), ro, 2, sh);
        free(x); free(y); free(re); free(ro);
    }
    for (t = 0; t < (int)(sizeof grids / sizeof grids[0]); t++) {
        int rows = grids[t][0], cols = grids[t][1];
        size_t n = (size_t)rows * cols;
        double *x = (double *)malloc(sizeof(double) * 2 * n);
        int64_t sh[3];
        sh[0] = rows; sh[1] = cols; sh[2] = 2;
        for (j = 0; j < (int)(2 * n); j++) x[j] = grok_rng_normal(&r);
        save_f64(path("fft2_%d_in.npy", t), x, 3, sh);
        must(grok_fft2(x, rows, cols, 0), "fft2");
        save_f64(path("fft2_%d_out.npy", t), x, 3, sh);
        free(x);
    }
}

static void gen_svd(void)
{
    static const int shapes[][2] = {{113, 128}, {50, 20}, {20, 50}, {1, 5}, {6, 1}, {114, 114}};
    grok_rng r;
    int t, j;
    grok_rng_seed(&r, 43);
    for (t = 0; t < (int)(sizeof shapes / sizeof shapes[0]); t++) {
        int m = shapes[t][0], n = shapes[t][1], k = m < n ? m : n;
        double *A = (double *)malloc(sizeof(double) * (size_t)m * n), *S = (double *)malloc(sizeof(double) * (size_t)k);
        int64_t sh[2];
        for (j = 0; j < m * n; j++) A[j] = grok_rng_normal(&r);
        if (t == 5) /* rank 3 with a wide range of singular values */
            for (j = 0; j < m * n; j++) A[j] = 1e3 * sin(0.1 * (j / n)) * cos(0.3 * (j % n)) + 1e-2 * cos(0.7 * (j / n) + 0.2 * (j % n)) +
                                            1e-6 * sin(1.3 * (j / n) * (j % n));
        sh[0] = m; sh[1] = n;
        save_f64(path("svd_%d_in.npy", t), A, 2, sh);
        must(grok_svd(NULL, S, NULL, A, m, n, 0), "svd");
        sh[0] = k;
        save_f64(path("svd_%d_out.npy", t), S, 1, sh);
        free(A); free(S);
    }
}

/* Python -> grok.h: a TransformerLens-style state dict and a notebook's split. */
static void check(void)
{
    grok_config c;
    grok_model m;
    grok_data train, test;
    float *logits;
    double loss[2];
    int64_t sh[1] = {2};
    int shape[3], p;
    must(grok_safetensors_config(&c, path("py_model.safetensors", 0)), "config of py_model");
    p = c.d_vocab_out;
    must(grok_task_modadd_from_npy(&train, &test, p, path("py_train_idx.npy", 0), path("py_test_idx.npy", 0)), "split");
    must(grok_model_init(&m, &c, train.n > test.n ? train.n : test.n), "init");
    must(grok_model_load_safetensors(&m, path("py_model.safetensors", 0)), "load py_model");
    logits = (float *)malloc(sizeof(float) * (size_t)train.n * c.n_ctx * c.d_vocab_out);
    must(grok_model_forward(&m, train.tokens, train.targets, train.n, &loss[0], NULL, logits), "forward");
    must(grok_model_evaluate(&m, test.tokens, test.targets, test.n, &loss[1], NULL), "evaluate");
    shape[0] = train.n; shape[1] = c.n_ctx; shape[2] = c.d_vocab_out;
    save_f32(path("c_train_logits.npy", 0), logits, 3, shape);
    save_ints(path("c_train_tokens.npy", 0), train.tokens, train.n, c.n_ctx);
    save_f64(path("c_losses.npy", 0), loss, 1, sh);
    free(logits);
    grok_model_free(&m);
    grok_data_free(&train);
    grok_data_free(&test);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "gen") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: parity gen|check DIR\n");
        return 2;
    }
    dir = argv[2];
    if (strcmp(argv[1], "gen") == 0) {
        gen_model(0, 1, 0, 0);
        gen_model(1, 1, 1, 1);
        gen_model(2, 2, 1, 0);
        gen_model(3, 2, 0, 1);
        gen_fft();
        gen_svd();
    } else {
        check();
    }
    return 0;
}
