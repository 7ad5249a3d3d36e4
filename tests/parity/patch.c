/* The C half of the gradient-cache and patching parity suite (tests/parity/patch.py;
   tests/parity/run.sh runs it).
     patch DIR   builds four small transformers (1 and 2 layers, LayerNorm on and off; random
                 weights, biases and LayerNorm parameters) and two nets (BilinearNet,
                 OneLayerMLP), and writes for each (prefix MODEL_):
                 the weights (safetensors), the clean and corrupted tokens, the targets and the
                 logit difference's tokens (.npy); the gradient cache of the loss on the clean
                 batch (grads_loss.safetensors: every hook point, TransformerLens' names) and of
                 the logit difference on the corrupted batch (grads_ld.safetensors) with its
                 metrics (metrics.npy: loss, logit difference); and, for the transformers, for
                 every patching site and both grids, grok_act_patch (act_SITE_G.npy, G 1 by
                 position, 0 over all positions) and grok_attr_patch (attr_SITE_G.npy).
   patch.py recomputes all of it with torch autograd and a torch re-implementation of
   TransformerLens' patch setters, in float64. Exit status 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

enum { B = 6, T = 5, V = 12 };
static const char *dir;

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "patch: %s: %s\n", what, grok_last_error()); exit(1); }
}

static unsigned rnd_state = 2024u;
static double rnd(void) /* [-1, 1) */
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return (double)(rnd_state >> 8) / 8388608.0 - 1.0;
}

static void save_array(const char *model, const char *name, const void *x, grok_dtype dt, int ndim, const int *shape)
{
    char p[1024];
    grok_array a;
    memset(&a, 0, sizeof a);
    snprintf(p, sizeof p, "%s/%s_%s.npy", dir, model, name);
    a.dtype = dt; a.ndim = ndim; a.data = (void *)x;
    for (int d = 0; d < ndim; d++) a.shape[d] = shape[d];
    must(grok_npy_save(p, &a), p);
}

static void save_ints(const char *model, const char *name, const int *x, int n0, int n1)
{
    int64_t *v = (int64_t *)malloc(sizeof(int64_t) * (size_t)n0 * n1);
    int shape[2] = {n0, n1};
    for (int i = 0; i < n0 * n1; i++) v[i] = x[i];
    save_array(model, name, v, GROK_DT_I64, 2, shape);
    free(v);
}

static void save_cache(const char *model, const char *name, const grok_cache *c)
{
    char p[1024];
    grok_array *arrays = (grok_array *)malloc(sizeof(grok_array) * (size_t)c->n);
    for (int i = 0; i < c->n; i++) arrays[i] = grok_array_of_tensor(c->entries[i].name, &c->entries[i].t);
    snprintf(p, sizeof p, "%s/%s_%s.safetensors", dir, model, name);
    must(grok_safetensors_save(p, arrays, c->n, NULL, NULL, 0), p);
    free(arrays);
}

static void run_model(const char *model, int n_layers, grok_norm norm)
{
    grok_config cfg;
    grok_model m;
    grok_cache clean, corr, grads;
    grok_logit_diff ld;
    int tokens[B * T], ctokens[B * T], targets[B * T], correct[B], wrong[B], shape[3], ndim;
    double metrics[2], out[2 * T * 20], attr[2 * T * 20];
    char p[1024];
    memset(&cfg, 0, sizeof cfg);
    cfg.n_layers = n_layers; cfg.n_heads = 3; cfg.d_model = 16; cfg.d_head = 6; cfg.d_mlp = 20;
    cfg.d_vocab = 13; cfg.d_vocab_out = V; cfg.n_ctx = T; cfg.act_fn = GROK_ACT_GELU;
    cfg.normalization = norm; cfg.seed = 11; cfg.train_biases = 1;
    must(grok_model_init(&m, &cfg, 4), "init"); /* max_batch 4 < B: every cache runs in two chunks */
    for (int i = 0; i < m.n_params; i++) {
        const grok_param *pr = &m.params[i];
        if (strstr(pr->name, ".b_") || strstr(pr->name, "ln"))
            for (size_t j = 0; j < pr->numel; j++)
                m.weights[pr->offset + j] = (float)((strstr(pr->name, ".w") ? 1.0 : 0.0) + 0.3 * rnd());
    }
    snprintf(p, sizeof p, "%s/%s_weights.safetensors", dir, model);
    must(grok_model_save_safetensors(&m, p, NULL), p);
    for (int i = 0; i < B * T; i++) {
        tokens[i] = ctokens[i] = (int)((rnd() + 1) * 6.5) % 13;
        targets[i] = i % T == 0 ? -1 : (int)((rnd() + 1) * 6) % V;
    }
    for (int b = 0; b < B; b++) {
        ctokens[b * T + 2] = (tokens[b * T + 2] + 5) % 13;
        correct[b] = (b * 5 + 1) % V;
        wrong[b] = (b * 7 + 4) % V;
    }
    save_ints(model, "tokens", tokens, B, T);
    save_ints(model, "ctokens", ctokens, B, T);
    save_ints(model, "targets", targets, B, T);
    save_ints(model, "correct", correct, B, 1);
    save_ints(model, "wrong", wrong, B, 1);
    must(grok_grad_cache_run(&clean, &grads, &m, tokens, B, NULL, NULL, targets, &metrics[0]), "loss gradient cache");
    save_cache(model, "grads_loss", &grads);
    save_cache(model, "acts", &clean);
    grok_cache_free(&grads);
    ld.pos = -1; ld.correct = correct; ld.wrong = wrong;
    must(grok_grad_cache_run(&corr, &grads, &m, ctokens, B, NULL, grok_metric_logit_diff, &ld, &metrics[1]),
         "logit-difference gradient cache");
    save_cache(model, "grads_ld", &grads);
    shape[0] = 2;
    save_array(model, "metrics", metrics, GROK_DT_F64, 1, shape);
    for (int site = 0; site < GROK_PATCH_SITES; site++)
        for (int by_pos = 0; by_pos <= 1; by_pos++) {
            char name[64];
            must(grok_patch_shape(shape, &ndim, &m, site, by_pos), "shape");
            must(grok_act_patch(out, &m, ctokens, B, &clean, site, by_pos, grok_metric_logit_diff, &ld), "act patch");
            must(grok_attr_patch(attr, &m, &clean, &corr, &grads, site, by_pos), "attr patch");
            snprintf(name, sizeof name, "act_%s_%d", grok_patch_site_name(site), by_pos);
            save_array(model, name, out, GROK_DT_F64, ndim, shape);
            snprintf(name, sizeof name, "attr_%s_%d", grok_patch_site_name(site), by_pos);
            save_array(model, name, attr, GROK_DT_F64, ndim, shape);
        }
    grok_cache_free(&clean); grok_cache_free(&corr); grok_cache_free(&grads);
    grok_model_free(&m);
}

static void run_net(const char *model, grok_net_kind kind)
{
    grok_net_config cfg;
    grok_net net;
    grok_cache grads;
    enum { N = 7, R = 11 };
    int rows[3 * R], labels[3 * R], correct[R], wrong[R], lab[R], shape[1] = {2};
    double metrics[2];
    grok_logit_diff ld;
    char p[1024];
    grok_array arrays[1];
    grok_tensor w;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind; cfg.n = N; cfg.embed_dim = 6; cfg.hidden_dim = 9; cfg.seed = 5;
    must(grok_net_init(&net, &cfg, 4), "net init");
    for (int i = 0; i < net.n_params; i++) {
        const grok_param *pr = &net.params[i];
        snprintf(p, sizeof p, "%s/%s_%s.npy", dir, model, pr->name);
        w = grok_tensor_make(net.weights + pr->offset, pr->ndim, pr->shape);
        arrays[0] = grok_array_of_tensor(NULL, &w);
        must(grok_npy_save(p, &arrays[0]), p);
    }
    for (int i = 0; i < R; i++) {
        rows[3 * i] = (i * 3 + 1) % N; rows[3 * i + 1] = (i * 5 + 2) % N; rows[3 * i + 2] = N;
        labels[3 * i] = labels[3 * i + 1] = -1;
        labels[3 * i + 2] = lab[i] = i % 5 == 4 ? -1 : (i * 2 + 3) % N;
        correct[i] = i % N; wrong[i] = (i + 3) % N;
    }
    save_ints(model, "rows", rows, R, 3);
    save_ints(model, "labels", lab, R, 1);
    save_ints(model, "correct", correct, R, 1);
    save_ints(model, "wrong", wrong, R, 1);
    must(grok_net_grad_cache_run(NULL, &grads, &net, rows, R, NULL, NULL, labels, &metrics[0]), "net loss gradients");
    save_cache(model, "grads_loss", &grads);
    grok_cache_free(&grads);
    ld.pos = 0; ld.correct = correct; ld.wrong = wrong;
    must(grok_net_grad_cache_run(NULL, &grads, &net, rows, R, NULL, grok_metric_logit_diff, &ld, &metrics[1]),
         "net logit-difference gradients");
    save_cache(model, "grads_ld", &grads);
    grok_cache_free(&grads);
    save_array(model, "metrics", metrics, GROK_DT_F64, 1, shape);
    grok_net_free(&net);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: patch DIR\n"); return 2; }
    dir = argv[1];
    run_model("l1_none", 1, GROK_NORM_NONE);
    run_model("l1_ln", 1, GROK_NORM_LN);
    run_model("l2_none", 2, GROK_NORM_NONE);
    run_model("l2_ln", 2, GROK_NORM_LN);
    run_net("bilinear", GROK_NET_BILINEAR);
    run_net("mlp", GROK_NET_MLP);
    printf("patch: 4 transformers, 2 nets written\n");
    return 0;
}
