/* The C half of the task-parity suite (tests/parity/tasks.py; tests/parity/run.sh runs it).
     tasks DIR   trains three small one-layer transformers to fit their training pairs: (a + b),
                 (a^4 + b^4) (seed 001's task) and (a - b) mod 23, and writes for each (prefix
                 TASK_): the weights (safetensors), the training rows (a*p+b), grok.h's logits,
                 neuron activations and resid_mid over all p*p pairs, the key frequencies of W_E,
                 and what grok.h's analyses compute from them with the task's labels and, in
                 turn, both directions (grok_modtask: the seeds' a+b and the task's own s):
                 restricted / excluded losses, seed 001's neuron-level excluded loss, the
                 cos(w(s-c)) fit, the progress measures, and the model's own training loss.
   tasks.py ports the seeds' formulas to numpy and compares. Exit status 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

enum { P = 23 };
static const char *dir;

static const char *path(const char *task, const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s_%s", dir, task, name);
    return buf;
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "tasks: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save_f64(const char *p, const double *x, int64_t n)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = 1; a.shape[0] = n; a.data = (void *)x;
    must(grok_npy_save(p, &a), p);
}

static void save_i64(const char *p, const int *x, int64_t n)
{
    int64_t *q = (int64_t *)malloc(sizeof(int64_t) * (size_t)n);
    grok_array a;
    for (int64_t i = 0; i < n; i++) q[i] = x[i];
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I64; a.ndim = 1; a.shape[0] = n; a.data = q;
    must(grok_npy_save(p, &a), p);
    free(q);
}

static void save_f32(const char *p, const float *x, int rows, int cols)
{
    int shape[2] = {rows, cols};
    grok_tensor t = grok_tensor_make((float *)x, 2, shape);
    must(grok_npy_save_tensor(p, &t), p);
}

static void run_task(const char *name, grok_modop op, int m_exp, int n_exp)
{
    grok_config cfg = grok_config_modadd(P);
    grok_data tr, te;
    grok_model m;
    grok_train_opts o = grok_train_opts_default();
    long N = (long)P * P;
    int M, C, nk, kf[P], *rows, nf = (P - 1) / 2;
    float *logits, *acts, *resid;
    double out[4 * 6 + 2 * 3 * ((P - 1) / 2) + 8], nrm[P], loss, acc, pm[5];
    double *o2 = out;
    must(grok_task_modop(&tr, &te, op, P, m_exp, n_exp, 0.5, 598), "split");
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 128;
    must(grok_model_init(&m, &cfg, tr.n > te.n ? tr.n : te.n), "init");
    m.opt.lr = 1e-2;
    o.epochs = 300; o.eval_every = 100; o.checkpoint_every = 0; o.progress = 0;
    must(grok_train(&m, &o, &tr, &te), "train");
    M = cfg.d_mlp; C = cfg.d_model;
    logits = (float *)malloc(sizeof(float) * N * P);
    acts = (float *)malloc(sizeof(float) * N * M);
    resid = (float *)malloc(sizeof(float) * N * C);
    rows = (int *)malloc(sizeof(int) * tr.n);
    for (int i = 0; i < tr.n; i++) rows[i] = tr.tokens[3 * i] * P + tr.tokens[3 * i + 1];
    must(grok_modadd_run(logits, acts, resid, NULL, NULL, &m), "run");
    must(grok_fourier_norms(nrm, grok_model_param(&m, "embed.W_E")->offset + m.weights, P, C, 0), "norms");
    must(grok_key_freqs(kf, NULL, &nk, NULL, nrm, P, 0.05), "key freqs");
    must(grok_model_save_safetensors(&m, path(name, "model.safetensors"), NULL), "weights");
    save_i64(path(name, "train_rows.npy"), rows, tr.n);
    save_i64(path(name, "key_freqs.npy"), kf, nk);
    save_f32(path(name, "logits.npy"), logits, (int)N, P);
    save_f32(path(name, "acts.npy"), acts, (int)N, M);
    save_f32(path(name, "resid_mid.npy"), resid, (int)N, C);
    /* out: per directions (sum, task): restricted, excluded, neuron excluded, residual_frac, then
       coeff (nf), cos_sim (nf); then the progress measures' restricted and excluded loss, the
       model's training loss and accuracy (grok_model_evaluate) */
    for (int d = 0; d < 2; d++) {
        grok_modtask task;
        must(grok_modtask_init(&task, op, P, m_exp, n_exp, d ? GROK_DIRS_TASK : GROK_DIRS_SUM), "task");
        must(grok_modadd_restricted(&o2[0], &o2[1], NULL, NULL, logits, P, kf, nk, rows, tr.n, &task), "restricted");
        must(grok_modadd_neuron_losses(&o2[2], NULL, NULL, NULL, &m, acts, resid, logits, NULL, NULL, 0, kf, nk, rows, tr.n,
                                       &task), "neuron losses");
        must(grok_modadd_cos_fit(o2 + 4, o2 + 4 + nf, &o2[3], logits, P, &task), "cos fit");
        o2 += 4 + 2 * nf;
        grok_modtask_free(&task);
    }
    must(grok_modadd_progress(pm, &m, &tr, &te, kf, nk), "progress");
    must(grok_model_evaluate(&m, tr.tokens, tr.targets, tr.n, &loss, &acc), "evaluate");
    o2[0] = pm[0]; o2[1] = pm[1]; o2[2] = loss; o2[3] = acc;
    save_f64(path(name, "outputs.npy"), out, (o2 - out) + 4);
    printf("%s: %d train pairs, train loss %.3g acc %.3f, key frequencies %d\n", name, tr.n, loss, acc, nk);
    free(logits); free(acts); free(resid); free(rows);
    grok_model_free(&m); grok_data_free(&tr); grok_data_free(&te);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: tasks DIR\n"); return 2; }
    dir = argv[1];
    run_task("add", GROK_OP_ADD, 0, 0);
    run_task("pow_sum", GROK_OP_POW_SUM, 4, 4);
    run_task("sub", GROK_OP_SUB, 0, 0);
    return 0;
}
