/* The C half of the direct-logit-attribution parity suite (tests/parity/dla.py; tests/parity/run.sh
   runs it).
     dla DIR   builds four small models (1 and 2 layers, LayerNorm on and off; random weights,
               biases and LayerNorm parameters) and writes for each (prefix MODEL_, MODEL one of
               l1_none, l1_ln, l2_none, l2_ln): the weights (safetensors), the tokens (B, n_ctx),
               grok.h's logits, and at positions -1 and 1 (suffix _pPOS, POS "last" or "1"):
               the stacks of grok_resid_stack for flags 0, HEADS | NEURONS and ACCUMULATED |
               INCL_MID (stack_F, F the flags), their grok_logit_attrs onto every logit (attrs_F)
               and the bias (bias), the accumulated stack through grok_resid_apply_ln (ln_acc);
               and for every layer and head the QK, OV and neuron circuits (circuit_K_L_H, the
               product) and the singular values of grok_factored_svd of their factors (sv_K_L_H).
   dla.py ports TransformerLens' formulas to torch float64 and compares. Exit status 0 if every
   file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

enum { B = 6 };
static const char *dir;

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "dla: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void *alloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (!p) { fprintf(stderr, "dla: out of memory\n"); exit(1); }
    return p;
}

/* x (elements of type dt) as a .npy of shape (n0, n1, n2) at DIR/MODEL_name.npy. */
static void save(const char *model, const char *name, const void *x, grok_dtype dt, int64_t n0, int64_t n1, int64_t n2)
{
    char p[1024];
    grok_array a;
    memset(&a, 0, sizeof a);
    snprintf(p, sizeof p, "%s/%s_%s.npy", dir, model, name);
    a.dtype = dt; a.ndim = 3; a.shape[0] = n0; a.shape[1] = n1; a.shape[2] = n2; a.data = (void *)x;
    must(grok_npy_save(p, &a), p);
}

static unsigned rnd_state = 12345u;
static double rnd(void) /* [-1, 1) */
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return (double)(rnd_state >> 8) / 8388608.0 - 1.0;
}

static void run_model(const char *model, int n_layers, grok_norm norm)
{
    static const int flag_sets[3] = {0, GROK_RESID_HEADS | GROK_RESID_NEURONS, GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID};
    grok_config cfg;
    grok_model m;
    grok_cache c;
    int64_t tok64[B * 5];
    int tokens[B * 5];
    float *logits;
    char p[1024];
    memset(&cfg, 0, sizeof cfg);
    cfg.n_layers = n_layers; cfg.n_heads = 3; cfg.d_model = 16; cfg.d_head = 6; cfg.d_mlp = 20;
    cfg.d_vocab = 13; cfg.d_vocab_out = 12; cfg.n_ctx = 5; cfg.act_fn = GROK_ACT_GELU;
    cfg.normalization = norm; cfg.seed = 3; cfg.train_biases = 1;
    must(grok_model_init(&m, &cfg, 4), "init");
    for (int i = 0; i < m.n_params; i++) {
        const grok_param *pr = &m.params[i];
        if (strstr(pr->name, ".b_") || strstr(pr->name, "ln"))
            for (size_t j = 0; j < pr->numel; j++)
                m.weights[pr->offset + j] = (float)((strstr(pr->name, ".w") ? 1.0 : 0.0) + 0.3 * rnd());
    }
    snprintf(p, sizeof p, "%s/%s_weights.safetensors", dir, model);
    must(grok_model_save_safetensors(&m, p, NULL), p);
    for (int i = 0; i < B * 5; i++) tokens[i] = (int)((rnd() + 1) * 6.5) % 13, tok64[i] = tokens[i];
    save(model, "tokens", tok64, GROK_DT_I64, B, 5, 1);
    logits = (float *)alloc(sizeof(float) * B * 5 * 12);
    must(grok_cache_run(&c, &m, tokens, B, NULL, logits), "cache");
    save(model, "logits", logits, GROK_DT_F32, B, 5, 12);
    for (int pi = 0; pi < 2; pi++) {
        const int pos = pi ? 1 : -1;
        for (int f = 0; f < 3; f++) {
            char name[64];
            double *stack, *attrs, bias[B * 12];
            int n;
            must(grok_resid_stack(NULL, &n, &m, &c, pos, flag_sets[f]), "count");
            stack = (double *)alloc(sizeof(double) * (size_t)n * B * 16);
            attrs = (double *)alloc(sizeof(double) * (size_t)n * B * 12);
            must(grok_resid_stack(stack, &n, &m, &c, pos, flag_sets[f]), "stack");
            must(grok_logit_attrs(attrs, bias, &m, &c, stack, n, pos, NULL, NULL, 0), "attrs");
            snprintf(name, sizeof name, "stack_%d_p%s", flag_sets[f], pi ? "1" : "last");
            save(model, name, stack, GROK_DT_F64, n, B, 16);
            snprintf(name, sizeof name, "attrs_%d_p%s", flag_sets[f], pi ? "1" : "last");
            save(model, name, attrs, GROK_DT_F64, n, B, 12);
            snprintf(name, sizeof name, "bias_p%s", pi ? "1" : "last");
            save(model, name, bias, GROK_DT_F64, B, 12, 1);
            if (flag_sets[f] & GROK_RESID_ACCUMULATED) {
                /* through every LayerNorm's scale: ln1 and ln2 of each block, then ln_final */
                double *scaled = (double *)alloc(sizeof(double) * (size_t)n * B * 16);
                for (int l = 0; l < n_layers; l++)
                    for (int mi = 0; mi < 2; mi++) {
                        memcpy(scaled, stack, sizeof(double) * (size_t)n * B * 16);
                        must(grok_resid_apply_ln(scaled, n, &m, &c, pos, l, mi), "apply_ln at a block");
                        snprintf(name, sizeof name, "ln_acc_l%d_%s_p%s", l, mi ? "ln2" : "ln1", pi ? "1" : "last");
                        save(model, name, scaled, GROK_DT_F64, n, B, 16);
                    }
                free(scaled);
                must(grok_resid_apply_ln(stack, n, &m, &c, pos, -1, 0), "apply_ln");
                snprintf(name, sizeof name, "ln_acc_p%s", pi ? "1" : "last");
                save(model, name, stack, GROK_DT_F64, n, B, 16);
            } else if (flag_sets[f] == (GROK_RESID_HEADS | GROK_RESID_NEURONS)) {
                /* the logit difference of two tokens per row */
                int right[B], wrong[B];
                double *diff = (double *)alloc(sizeof(double) * (size_t)n * B), dbias[B];
                for (int b = 0; b < B; b++) { right[b] = (b * 5 + 2) % 12; wrong[b] = (b * 7 + 3) % 12; }
                must(grok_logit_attrs(diff, dbias, &m, &c, stack, n, pos, right, wrong, 1), "logit-difference attrs");
                snprintf(name, sizeof name, "diff_p%s", pi ? "1" : "last");
                save(model, name, diff, GROK_DT_F64, n, B, 1);
                snprintf(name, sizeof name, "diff_bias_p%s", pi ? "1" : "last");
                save(model, name, dbias, GROK_DT_F64, B, 1, 1);
                free(diff);
            }
            free(stack); free(attrs);
        }
    }
    for (int kind = GROK_CIRCUIT_QK; kind <= GROK_CIRCUIT_NEURON; kind++)
        for (int l = 0; l < n_layers; l++)
            for (int h = 0; h < 3; h++) {
                const int cols = kind == GROK_CIRCUIT_QK ? 13 : kind == GROK_CIRCUIT_OV ? 12 : 20;
                double left[13 * 6], right[6 * 20], prod[13 * 20], S[6];
                char name[64];
                must(grok_circuit(left, right, prod, &m, kind, l, h), "circuit");
                must(grok_factored_svd(NULL, S, NULL, left, right, 13, 6, cols), "factored svd");
                snprintf(name, sizeof name, "circuit_%d_%d_%d", kind, l, h);
                save(model, name, prod, GROK_DT_F64, 13, cols, 1);
                snprintf(name, sizeof name, "sv_%d_%d_%d", kind, l, h);
                save(model, name, S, GROK_DT_F64, 6, 1, 1);
            }
    free(logits);
    grok_cache_free(&c);
    grok_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: dla DIR\n"); return 2; }
    dir = argv[1];
    run_model("l1_none", 1, GROK_NORM_NONE);
    run_model("l1_ln", 1, GROK_NORM_LN);
    run_model("l2_none", 2, GROK_NORM_NONE);
    run_model("l2_ln", 2, GROK_NORM_LN);
    printf("dla: 4 models written\n");
    return 0;
}
