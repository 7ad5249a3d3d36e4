/* The C half of tests/parity's digits suite (run by tests/parity/run.sh): seed 002's n-digit
   addition, measured by grok.h and, in digits.py, by the seed's own formulas in torch.
     digits DIR   trains a small model of seed 002's architecture (3 digits, d_model 32, 4 heads
                  of 8, d_mlp 128, no LayerNorm, attention and unembedding biases frozen at 0,
                  seed 002's AdamW and warm-up but lr 1e-3) for 300 steps of 64 fresh questions,
                  as examples/digits does, then writes into DIR: the weights (safetensors,
                  TransformerLens names), a batch of 256 fresh questions and one of 3 (tokens,
                  targets), and for each grok.h's logits, attention pattern (the activation
                  cache's blocks.0.attn.hook_pattern), columns (grok_digits_columns), the
                  stats of grok_digits_losses, the training loss of grok_model_forward and
                  each row as grok_digits_string writes it, the row's own answer and the
                  model's.
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

enum { N = 3, T = 3 * N + 3, STEPS = 300, TRAIN_B = 64, BIG = 256, SMALL = 3 };

static const char *dir;

/* DIR/NAMETAGEXT; valid until the next call. */
static const char *path(const char *name, const char *tag, const char *ext)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s%s%s", dir, name, tag, ext);
    return buf;
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "digits parity: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save_f64(const char *p, const double *x, int64_t n)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = 1; a.shape[0] = n; a.data = (void *)x;
    must(grok_npy_save(p, &a), p);
}

static void save_i64(const char *p, const int64_t *x, int ndim, const int64_t *shape)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I64; a.ndim = ndim; a.data = (void *)x;
    memcpy(a.shape, shape, sizeof(int64_t) * (size_t)ndim);
    must(grok_npy_save(p, &a), p);
}

/* Everything grok.h says of batch q (B rows): DIR/NAME_TAG.npy and DIR/strings_TAG.txt. */
static void measure(grok_model *m, const grok_data *q, const char *tag)
{
    int B = q->n, V = m->cfg.d_vocab_out, i, j, c, d, k = 0, shape[4];
    float *logits = (float *)malloc(sizeof(float) * (size_t)B * T * V);
    int64_t *ints = (int64_t *)malloc(sizeof(int64_t) * (size_t)B * T);
    grok_digits_column *cols = (grok_digits_column *)malloc(sizeof *cols * (size_t)B * N);
    double stats[2 + 2 * (N + 1) + 6 * N + 8 + 1], loss;
    int64_t shp[3];
    grok_digits_stats s;
    grok_cache cache;
    const grok_tensor *pat;
    char truth[3 * N + 9], pred[3 * N + 9];
    FILE *f;
    if (!logits || !ints || !cols) must(GROK_ERR_NOMEM, "malloc");
    for (i = 0; i < B * T; i++) ints[i] = q->tokens[i];
    shp[0] = B; shp[1] = T;
    save_i64(path("tokens_", tag, ".npy"), ints, 2, shp);
    for (i = 0; i < B * T; i++) ints[i] = q->targets[i];
    save_i64(path("targets_", tag, ".npy"), ints, 2, shp);
    must(grok_model_forward(m, q->tokens, q->targets, B, &loss, NULL, logits), "forward");
    shape[0] = B; shape[1] = T; shape[2] = V;
    {
        grok_tensor t = grok_tensor_make(logits, 3, shape);
        must(grok_npy_save_tensor(path("logits_", tag, ".npy"), &t), "logits");
    }
    must(grok_cache_run(&cache, m, q->tokens, B, "hook_pattern", NULL), "cache");
    if (!(pat = grok_cache_get(&cache, "blocks.0.attn.hook_pattern"))) must(GROK_ERR_ARG, "no pattern");
    must(grok_npy_save_tensor(path("pattern_", tag, ".npy"), pat), "pattern");
    grok_cache_free(&cache);
    must(grok_digits_columns(cols, q->tokens, B, N), "columns");
    for (i = 0; i < B * N; i++) {
        ints[4 * i + 0] = cols[i].base_add;
        ints[4 * i + 1] = cols[i].use_carry;
        ints[4 * i + 2] = cols[i].make_carry;
        ints[4 * i + 3] = cols[i].subtask;
    }
    shp[0] = B; shp[1] = N; shp[2] = 4;
    save_i64(path("columns_", tag, ".npy"), ints, 3, shp);
    /* the stats, flattened in digits.py's order */
    must(grok_digits_losses(&s, logits, V, q->tokens, B, N), "losses");
    stats[k++] = s.loss;
    stats[k++] = s.row_acc;
    for (j = 0; j <= N; j++) stats[k++] = s.token[j];
    for (j = 0; j <= N; j++) stats[k++] = s.token_acc[j];
    for (c = 0; c < 3; c++)
        for (d = 0; d < N; d++) stats[k++] = s.column[c][d];
    for (c = 0; c < 3; c++)
        for (d = 0; d < N; d++) stats[k++] = s.column_count[c][d];
    stats[k++] = s.baseadd_all; stats[k++] = s.usecarry1_any; stats[k++] = s.usesum9_one; stats[k++] = s.usesum9_two;
    stats[k++] = s.baseadd_all_count; stats[k++] = s.usecarry1_any_count;
    stats[k++] = s.usesum9_one_count; stats[k++] = s.usesum9_two_count;
    stats[k++] = loss;
    save_f64(path("stats_", tag, ".npy"), stats, k);
    if (!(f = fopen(path("strings_", tag, ".txt"), "w"))) must(GROK_ERR_IO, "strings");
    for (i = 0; i < B; i++) {
        must(grok_digits_string(truth, sizeof truth, q->tokens + (size_t)i * T, NULL, 0, N), "string");
        must(grok_digits_string(pred, sizeof pred, q->tokens + (size_t)i * T, logits + (size_t)i * T * V, V, N), "string");
        fprintf(f, "%s\n%s\n", truth, pred);
    }
    if (fclose(f) != 0) must(GROK_ERR_IO, "strings");
    free(logits);
    free(ints);
    free(cols);
}

int main(int argc, char **argv)
{
    grok_config cfg = grok_digits_config(N, 0);
    grok_model m;
    grok_data batch, big, small;
    grok_rng rng;
    const grok_param *wu;
    double loss = 0.0;
    size_t k;
    long step;
    if (argc != 2) { fprintf(stderr, "usage: digits DIR\n"); return 2; }
    dir = argv[1];
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 128; cfg.init_range = 1.0 / sqrt(32.0); cfg.seed = 2002;
    grok_threads_set(1);
    must(grok_model_init(&m, &cfg, BIG), "init");
    grok_model_set_trainable(&m, "b_", 0); /* the seed's architecture, as examples/digits sets it */
    grok_model_set_trainable(&m, "mlp.b_", 1);
    wu = grok_model_param(&m, "unembed.W_U");
    for (k = 0; k < wu->numel; k++) m.weights[wu->offset + k] *= (float)sqrt(32.0 / 12.0);
    m.opt = grok_digits_adamw();
    m.opt.lr = 1e-3;
    memset(&batch, 0, sizeof batch);
    memset(&big, 0, sizeof big);
    memset(&small, 0, sizeof small);
    grok_rng_seed(&rng, 2002);
    for (step = 0; step < STEPS; step++) {
        must(grok_task_digits(&batch, N, TRAIN_B, &rng), "task");
        grok_model_zero_grad(&m);
        must(grok_model_forward(&m, batch.tokens, batch.targets, TRAIN_B, &loss, NULL, NULL), "forward");
        must(grok_model_backward(&m), "backward");
        must(grok_model_adamw_step(&m), "adamw");
    }
    printf("digits parity: %d steps, last training loss %.4f\n", STEPS, loss);
    must(grok_model_save_safetensors(&m, path("weights", "", ".safetensors"), NULL), "save weights");
    must(grok_task_digits(&big, N, BIG, &rng), "task");
    must(grok_task_digits(&small, N, SMALL, &rng), "task");
    measure(&m, &big, "big");
    measure(&m, &small, "small");
    grok_data_free(&batch);
    grok_data_free(&big);
    grok_data_free(&small);
    grok_model_free(&m);
    return 0;
}
