/* The C half of the groups parity suite (tests/parity/groups.py; tests/parity/run.sh).
     groups gen DIR    trains seed 003's nets with grok_net_train to high test accuracy (a
                       OneLayerMLP on D_23, one on C_30, a BilinearNet on D_12; about 10 s on one
                       core) and writes, for each NAME: the weights (NAME.safetensors), the
                       accuracies (NAME_acc.npy: train, test), and what grok.h's whole-group
                       analysis gives: the basis (NAME_basis.npy) and its row names
                       (NAME_names.txt), the norms of W_E_a, W_E_b and W_U per component
                       (NAME_norms.npy (3, R)), the neuron activations (NAME_acts.npy), their
                       2-D spectrum (NAME_acts_fourier.npy), each neuron's frequency and fraction
                       explained (NAME_freq.npy, NAME_frac.npy), the logits in the 2-D basis
                       (NAME_flogits.npy (R, R, order), NAME_flogits_msq.npy (R, R)), the centred
                       neurons' spectrum (NAME_cacts_fourier.npy (R, R, M), NAME_cacts_msq.npy
                       (R, R)), W_U's norms per cluster (NAME_keys.npy: the distinct frequencies,
                       NAME_wu_clusters.npy (clusters, R)) and the logit components of the first
                       two frequencies >= 1 among them (NAME_comp_freqs.npy, NAME_ulogits.npy
                       (order^2, R), NAME_comp_cos.npy, NAME_comp_sin.npy (2, R, R)).
     groups check DIR NAME..  loads each state dict NAME.safetensors that groups.py wrote (F64
                       or F32, laid out as safetensors.torch.save_file does) with
                       grok_net_safetensors_config and grok_net_load_safetensors and writes the
                       logits over all pairs (NAME_logits.npy (order^2, order)).
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

static const char *dir;

static const char *path(const char *name, const char *suffix)
{
    static char buf[2][1024];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s", dir, name, suffix);
    return buf[k];
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "groups: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save_f64(const char *p, const double *x, int ndim, const int64_t *shape)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = ndim; a.data = (void *)(uintptr_t)x;
    memcpy(a.shape, shape, sizeof(int64_t) * (size_t)ndim);
    must(grok_npy_save(p, &a), p);
}

static void save_f32(const char *p, const float *x, int rows, int cols)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F32; a.ndim = 2; a.shape[0] = rows; a.shape[1] = cols; a.data = (void *)(uintptr_t)x;
    must(grok_npy_save(p, &a), p);
}

static void save_i32(const char *p, const int *x, int n)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_I32; a.ndim = 1; a.shape[0] = n; a.data = (void *)(uintptr_t)x;
    must(grok_npy_save(p, &a), p);
}

/* The logits (order^2, order) of every pair, a-major. */
static float *all_logits(grok_net *net, int N)
{
    grok_cache c;
    float *L = (float *)malloc(sizeof(float) * (size_t)N * N * N);
    int *tokens = (int *)malloc(sizeof(int) * 3 * (size_t)N * N), i;
    if (!L || !tokens) { fprintf(stderr, "groups: out of memory\n"); exit(1); }
    for (i = 0; i < N * N; i++) { tokens[3 * i] = i / N; tokens[3 * i + 1] = i % N; tokens[3 * i + 2] = N; }
    must(grok_net_cache_run(&c, net, tokens, N * N, "out", L), "grok_net_cache_run");
    grok_cache_free(&c);
    free(tokens);
    return L;
}

static void gen(const char *name, grok_net_kind kind, grok_group_kind gk, int n, long epochs)
{
    grok_group g;
    grok_data train, test;
    grok_net_config cfg;
    grok_net net;
    grok_train_opts o = grok_train_opts_default();
    double *F, *norms, *frac, *af, *fl, *msq, *wu, *ul, *cc, *cs, acc[2];
    float *acts;
    int *freq, *keys, nk = 0, cf[2], ncf = 0, R, N, M, k, j;
    int64_t sh[3];
    char buf[64];
    FILE *f;
    must(grok_group_init(&g, gk, n), "grok_group_init");
    must(grok_task_group(&train, &test, &g, 0.6, 1), "grok_task_group");
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind; cfg.n = g.order; cfg.embed_dim = 32; cfg.hidden_dim = 128; cfg.seed = 1;
    must(grok_net_init(&net, &cfg, train.n), "grok_net_init");
    net.opt.lr = 3e-3; net.opt.weight_decay = 1.0; net.opt.beta1 = 0.9; net.opt.beta2 = 0.999; net.opt.eps = 1e-8;
    o.epochs = epochs; o.eval_every = epochs; o.checkpoint_every = 0; o.out_dir = NULL; o.progress = 0;
    must(grok_net_train(&net, &o, &train, &test), "grok_net_train");
    acc[0] = net.metrics.train_acc; acc[1] = net.metrics.test_acc;
    sh[0] = 2; save_f64(path(name, "_acc.npy"), acc, 1, sh);
    must(grok_net_save_safetensors(&net, path(name, ".safetensors"), NULL), "grok_net_save_safetensors");

    N = g.order; M = kind == GROK_NET_MLP ? cfg.hidden_dim : cfg.embed_dim;
    must(grok_group_fourier_basis(NULL, &R, &g), "grok_group_fourier_basis");
    F = (double *)malloc(sizeof(double) * (size_t)R * N);
    norms = (double *)malloc(sizeof(double) * 3 * (size_t)R);
    frac = (double *)malloc(sizeof(double) * (size_t)M);
    af = (double *)malloc(sizeof(double) * (size_t)R * R * M);
    fl = (double *)malloc(sizeof(double) * (size_t)R * R * N);
    msq = (double *)malloc(sizeof(double) * (size_t)R * R);
    acts = (float *)malloc(sizeof(float) * (size_t)N * N * M);
    freq = (int *)malloc(sizeof(int) * (size_t)M);
    keys = (int *)malloc(sizeof(int) * (size_t)M);
    wu = (double *)malloc(sizeof(double) * (size_t)M * R);
    ul = (double *)malloc(sizeof(double) * (size_t)N * N * R);
    cc = (double *)malloc(sizeof(double) * 2 * (size_t)R * R);
    cs = (double *)malloc(sizeof(double) * 2 * (size_t)R * R);
    if (!F || !norms || !frac || !af || !fl || !msq || !acts || !freq || !keys || !wu || !ul || !cc || !cs) { fprintf(stderr, "groups: out of memory\n"); exit(1); }
    must(grok_group_fourier_basis(F, &R, &g), "grok_group_fourier_basis");
    sh[0] = R; sh[1] = N; save_f64(path(name, "_basis.npy"), F, 2, sh);
    if (!(f = fopen(path(name, "_names.txt"), "w"))) { fprintf(stderr, "groups: cannot write names\n"); exit(1); }
    for (k = 0; k < R; k++) {
        must(grok_group_fourier_name(buf, sizeof buf, k, &g), "grok_group_fourier_name");
        fprintf(f, "%s\n", buf);
    }
    fclose(f);
    must(grok_net_group_fourier_norms(norms, norms + R, norms + 2 * R, &net, &g), "grok_net_group_fourier_norms");
    sh[0] = 3; sh[1] = R; save_f64(path(name, "_norms.npy"), norms, 2, sh);
    must(grok_net_group_neuron_freqs(freq, frac, af, acts, &net, &g), "grok_net_group_neuron_freqs");
    save_i32(path(name, "_freq.npy"), freq, M);
    sh[0] = M; save_f64(path(name, "_frac.npy"), frac, 1, sh);
    save_f32(path(name, "_acts.npy"), acts, N * N, M);
    sh[0] = R; sh[1] = R; sh[2] = M; save_f64(path(name, "_acts_fourier.npy"), af, 3, sh);
    must(grok_net_group_fourier_logits(msq, fl, &net, &g), "grok_net_group_fourier_logits");
    sh[2] = N; save_f64(path(name, "_flogits.npy"), fl, 3, sh);
    save_f64(path(name, "_flogits_msq.npy"), msq, 2, sh);
    must(grok_net_group_fourier_acts(msq, af, &net, &g), "grok_net_group_fourier_acts");
    sh[2] = M; save_f64(path(name, "_cacts_fourier.npy"), af, 3, sh);
    save_f64(path(name, "_cacts_msq.npy"), msq, 2, sh);
    for (k = 0; k < M; k++) { /* np.unique(freq) */
        for (j = 0; j < nk && keys[j] < freq[k]; j++) {}
        if (j == nk || keys[j] != freq[k]) { memmove(keys + j + 1, keys + j, sizeof(int) * (size_t)(nk - j)); keys[j] = freq[k]; nk++; }
    }
    for (k = 0; k < nk && ncf < 2; k++)
        if (keys[k] >= 1) cf[ncf++] = keys[k];
    save_i32(path(name, "_keys.npy"), keys, nk);
    must(grok_net_group_wu_cluster_norms(wu, &net, &g, freq, keys, nk), "grok_net_group_wu_cluster_norms");
    sh[0] = nk; sh[1] = R; save_f64(path(name, "_wu_clusters.npy"), wu, 2, sh);
    must(grok_net_group_logit_components(cc, cs, ul, &net, &g, cf, ncf), "grok_net_group_logit_components");
    save_i32(path(name, "_comp_freqs.npy"), cf, ncf);
    sh[0] = (int64_t)N * N; sh[1] = R; save_f64(path(name, "_ulogits.npy"), ul, 2, sh);
    sh[0] = ncf; sh[1] = R; sh[2] = R;
    save_f64(path(name, "_comp_cos.npy"), cc, 3, sh);
    save_f64(path(name, "_comp_sin.npy"), cs, 3, sh);
    printf("%s: %s %s, %ld epochs, train acc %.4f, test acc %.4f, %d Fourier rows\n", name, g.name,
           kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet", epochs, acc[0], acc[1], R);
    free(F); free(norms); free(frac); free(af); free(fl); free(msq); free(acts); free(freq);
    free(keys); free(wu); free(ul); free(cc); free(cs);
    grok_net_free(&net);
    grok_data_free(&train); grok_data_free(&test);
    grok_group_free(&g);
}

static void check(const char *name)
{
    grok_net_config cfg;
    grok_net net;
    float *L;
    const char *p = path(name, ".safetensors");
    must(grok_net_safetensors_config(&cfg, p), p);
    must(grok_net_init(&net, &cfg, 64), "grok_net_init");
    must(grok_net_load_safetensors(&net, p), p);
    L = all_logits(&net, cfg.n);
    save_f32(path(name, "_logits.npy"), L, cfg.n * cfg.n, cfg.n);
    free(L);
    grok_net_free(&net);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "gen") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: groups gen DIR | groups check DIR NAME..\n");
        return 2;
    }
    dir = argv[2];
    if (strcmp(argv[1], "gen") == 0) {
        gen("mlp_D23", GROK_NET_MLP, GROK_GROUP_DIHEDRAL, 23, 3000);
        gen("mlp_C30", GROK_NET_MLP, GROK_GROUP_CYCLIC, 30, 3000);
        gen("bilinear_D12", GROK_NET_BILINEAR, GROK_GROUP_DIHEDRAL, 12, 2000);
    } else {
        int i;
        for (i = 3; i < argc; i++) check(argv[i]);
    }
    return 0;
}
