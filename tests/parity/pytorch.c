/* The C half of tests/parity/pytorch.py ("bring your PyTorch model").

   pytorch model DIR: trains a small grok.h model of modular addition (p = 23, d_model 32, biases
   trained, W_pos frozen) for 30 epochs and writes DIR/grok.safetensors
   (grok_model_save_safetensors) and its logits over all p*p pairs, DIR/grok_logits.npy (p*p, p).
   pytorch analyze FILE SPLIT.npy: loads a state dict as examples/analyze does (config from the
   shapes, grok_model_load_safetensors_ex) with the split of SPLIT.npy (grok_task_modadd_from_npy)
   and prints, one per line: zeroed N, train_biases B, loss_all, loss_train, loss_test (%.17g),
   key_freqs K1,K2,.. and clusters FREQ:COUNT,.. (seed 004's neuron clusters, -1 last). */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

#define P 23

static int fail(const char *what)
{
    fprintf(stderr, "pytorch: %s: %s\n", what, grok_last_error());
    return 1;
}

static int model(const char *dir)
{
    grok_config c = grok_config_modadd(P);
    grok_model m;
    grok_data train, test;
    grok_train_opts o = grok_train_opts_default();
    grok_tensor t;
    char path[4096];
    float *logits = (float *)malloc(sizeof(float) * P * P * P);
    int shape[2] = {P * P, P};
    c.d_model = 32; c.n_heads = 4; c.d_head = 8; c.d_mlp = 64; c.train_biases = 1; c.seed = 7;
    if (!logits || grok_task_modadd(&train, &test, P, 0.3, 598) != GROK_OK || grok_model_init(&m, &c, train.n) != GROK_OK)
        return fail("init");
    grok_model_set_trainable(&m, "pos_embed.W_pos", 0);
    m.opt.lr = 1e-2;
    o.epochs = 30; o.eval_every = 30; o.progress = 0;
    if (grok_train(&m, &o, &train, &test) != GROK_OK) return fail("train");
    snprintf(path, sizeof path, "%s/grok.safetensors", dir);
    if (grok_model_save_safetensors(&m, path, NULL) != GROK_OK) return fail("save");
    if (grok_modadd_run(logits, NULL, NULL, NULL, NULL, &m) != GROK_OK) return fail("logits");
    t = grok_tensor_make(logits, 2, shape);
    snprintf(path, sizeof path, "%s/grok_logits.npy", dir);
    if (grok_npy_save_tensor(path, &t) != GROK_OK) return fail("save logits");
    free(logits);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
    return 0;
}

static int analyze(const char *file, const char *split)
{
    grok_config c;
    grok_model m;
    grok_data train, test;
    int p, M, C, n_zeroed, nk, kf[P], *labels, *rows[2], *nfreq, i, k;
    long N;
    float *logits, *acts;
    double *Ld, nE[P], ksh[P], *frac, loss[3];
    if (grok_safetensors_config(&c, file) != GROK_OK) return fail("config");
    if (grok_model_init(&m, &c, 1) != GROK_OK || grok_model_load_safetensors_ex(&m, file, &n_zeroed) != GROK_OK) return fail("load");
    p = c.d_vocab_out; M = c.d_mlp; C = c.d_model; N = (long)p * p;
    if (p != P || grok_task_modadd_from_npy(&train, &test, p, split, NULL) != GROK_OK) return fail("split");
    logits = (float *)malloc(sizeof(float) * N * p); acts = (float *)malloc(sizeof(float) * N * M);
    Ld = (double *)malloc(sizeof(double) * N * p); labels = (int *)malloc(sizeof(int) * N);
    rows[0] = (int *)malloc(sizeof(int) * train.n); rows[1] = (int *)malloc(sizeof(int) * test.n);
    nfreq = (int *)malloc(sizeof(int) * M); frac = (double *)malloc(sizeof(double) * M);
    if (!logits || !acts || !Ld || !labels || !rows[0] || !rows[1] || !nfreq || !frac) return fail("memory");
    for (i = 0; i < train.n; i++) rows[0][i] = train.tokens[3 * i] * p + train.tokens[3 * i + 1];
    for (i = 0; i < test.n; i++) rows[1][i] = test.tokens[3 * i] * p + test.tokens[3 * i + 1];
    for (i = 0; i < N; i++) labels[i] = (int)((i / p + i % p) % p);
    if (grok_modadd_run(logits, acts, NULL, NULL, NULL, &m) != GROK_OK) return fail("run");
    for (i = 0; i < N * p; i++) Ld[i] = logits[i];
    if (grok_logits_loss(&loss[0], Ld, labels, (int)N, p, NULL, 0) != GROK_OK ||
        grok_logits_loss(&loss[1], Ld, labels, (int)N, p, rows[0], train.n) != GROK_OK ||
        grok_logits_loss(&loss[2], Ld, labels, (int)N, p, rows[1], test.n) != GROK_OK)
        return fail("losses");
    if (grok_fourier_norms(nE, m.weights + grok_model_param(&m, "embed.W_E")->offset, p, C, 0) != GROK_OK ||
        grok_key_freqs(kf, ksh, &nk, NULL, nE, p, 0.05) != GROK_OK || grok_neuron_freqs(nfreq, frac, NULL, acts, p, M, 0.85) != GROK_OK)
        return fail("analyses");
    printf("zeroed %d\ntrain_biases %d\nloss_all %.17g\nloss_train %.17g\nloss_test %.17g\nkey_freqs ", n_zeroed, c.train_biases,
           loss[0], loss[1], loss[2]);
    for (i = 0; i < nk; i++) printf("%s%d", i ? "," : "", kf[i]);
    printf("\nclusters ");
    for (k = 1; k <= (p - 1) / 2 + 1; k++) {
        int f = k <= (p - 1) / 2 ? k : -1, n = 0;
        for (i = 0; i < M; i++) n += nfreq[i] == f;
        printf("%s%d:%d", k > 1 ? "," : "", f, n);
    }
    printf("\n");
    free(logits); free(acts); free(Ld); free(labels); free(rows[0]); free(rows[1]); free(nfreq); free(frac);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
    return 0;
}

/* From PyTorch's initial weights and split: EPOCHS full-batch AdamW steps (lr 1e-2, wd 1, betas
   (0.9, 0.98), eps 1e-8, the torch run's), the training loss of each step's forward (before the
   step, as loss.item() in torch) and the test loss after every 10th step, into OUT (EPOCHS, 2),
   NaN where there is no test loss. */
static int train_from(const char *file, const char *split, const char *epochs_text, const char *out)
{
    grok_config c;
    grok_model m;
    grok_data train, test;
    grok_array a;
    char *end;
    long epochs = strtol(epochs_text, &end, 10), e;
    int n_zeroed;
    double *traj, loss;
    if (*end || epochs < 1 || epochs > 1000000) { fprintf(stderr, "pytorch: epochs '%s'\n", epochs_text); return 2; }
    if (grok_safetensors_config(&c, file) != GROK_OK) return fail("config");
    if (grok_task_modadd_from_npy(&train, &test, c.d_vocab_out, split, NULL) != GROK_OK) return fail("split");
    if (grok_model_init(&m, &c, train.n > test.n ? train.n : test.n) != GROK_OK ||
        grok_model_load_safetensors_ex(&m, file, &n_zeroed) != GROK_OK)
        return fail("load");
    m.opt = grok_adamw_default();
    m.opt.lr = 1e-2;
    traj = (double *)malloc(sizeof(double) * 2 * (size_t)epochs);
    if (!traj) return fail("memory");
    for (e = 0; e < epochs; e++) {
        grok_model_zero_grad(&m);
        if (grok_model_forward(&m, train.tokens, train.targets, train.n, &loss, NULL, NULL) != GROK_OK ||
            grok_model_backward(&m) != GROK_OK || grok_model_adamw_step(&m) != GROK_OK)
            return fail("step");
        traj[2 * e] = loss;
        traj[2 * e + 1] = NAN;
        if ((e + 1) % 10 == 0 && grok_model_forward(&m, test.tokens, test.targets, test.n, &traj[2 * e + 1], NULL, NULL) != GROK_OK)
            return fail("test loss");
    }
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = 2; a.shape[0] = epochs; a.shape[1] = 2; a.data = traj;
    if (grok_npy_save(out, &a) != GROK_OK) return fail("save");
    free(traj);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "model")) return model(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "analyze")) return analyze(argv[2], argv[3]);
    if (argc == 6 && !strcmp(argv[1], "train")) return train_from(argv[2], argv[3], argv[4], argv[5]);
    fprintf(stderr, "usage: pytorch model DIR | pytorch analyze FILE.safetensors SPLIT.npy | pytorch train INIT.safetensors "
                    "SPLIT.npy EPOCHS OUT.npy\n");
    return 2;
}
