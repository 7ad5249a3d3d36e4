/* The C half of tests/parity's figures suite (run by tests/parity/run.sh, `make test-parity`).
     figures DIR   writes, as float64 .npy files, the inputs and grok.h's outputs of the
                   functions behind the report's figures: grok_fftshift2 / grok_ifftshift2 on
                   random complex arrays of odd and even shapes; and, for a modular-addition
                   model (p = 23, d_mlp 128, trained 1500 epochs so that its neurons cluster), its
                   weights, neuron activations and attention grids with grok_neuron_freq_norm,
                   grok_neuron_freqs, grok_wlogit_cluster_norms, grok_modadd_logit_components,
                   the centred attention spectra (grok_fft2 + grok_fftshift2), the SVD of W_E[:p]
                   and grok_dominant_freq of its first columns. figures.py ports the seeds'
                   formulas to numpy and compares.
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

static const char *dir;

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "figures: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save(const char *name, const double *x, int ndim, long d0, long d1, long d2)
{
    char p[1024];
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = ndim; a.data = (void *)x;
    a.shape[0] = d0; a.shape[1] = d1; a.shape[2] = d2;
    snprintf(p, sizeof p, "%s/%s.npy", dir, name);
    must(grok_npy_save(p, &a), p);
}

static void save_f(const char *name, const float *x, long rows, long cols) /* float32 -> float64 (exact) */
{
    double *d = (double *)malloc(sizeof(double) * rows * cols);
    long i;
    if (!d) must(GROK_ERR_NOMEM, "out of memory");
    for (i = 0; i < rows * cols; i++) d[i] = x[i];
    save(name, d, 2, rows, cols, 0);
    free(d);
}

static void save_i(const char *name, const int *x, long n)
{
    double *d = (double *)malloc(sizeof(double) * (n > 0 ? n : 1));
    long i;
    if (!d) must(GROK_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) d[i] = x[i];
    save(name, d, 1, n, 0, 0);
    free(d);
}

int main(int argc, char **argv)
{
    static const int shapes[4][2] = {{4, 5}, {5, 6}, {1, 3}, {7, 7}};
    grok_rng rng;
    int s, p = 23, M, H, C, nf, nk, nc = 0, kf[64], i;
    long N;
    grok_config cfg;
    grok_data train, test;
    grok_model m;
    grok_train_opts o;
    if (argc != 2) { fprintf(stderr, "usage: figures DIR\n"); return 2; }
    dir = argv[1];
    grok_rng_seed(&rng, 7);
    for (s = 0; s < 4; s++) { /* fftshift2 and ifftshift2 */
        int r = shapes[s][0], c = shapes[s][1];
        double *x = (double *)malloc(sizeof(double) * 6 * r * c), *y = x + 2 * r * c, *z = y + 2 * r * c;
        char name[64];
        for (i = 0; i < 2 * r * c; i++) x[i] = 2 * grok_rng_uniform(&rng) - 1;
        memcpy(y, x, sizeof(double) * 2 * r * c);
        memcpy(z, x, sizeof(double) * 2 * r * c);
        must(grok_fftshift2(y, r, c), "fftshift2");
        must(grok_ifftshift2(z, r, c), "ifftshift2");
        snprintf(name, sizeof name, "shift_in_%d", s); save(name, x, 3, r, c, 2);
        snprintf(name, sizeof name, "shift_fwd_%d", s); save(name, y, 3, r, c, 2);
        snprintf(name, sizeof name, "shift_inv_%d", s); save(name, z, 3, r, c, 2);
        free(x);
    }

    cfg = grok_config_modadd(p);
    cfg.d_mlp = 128;
    M = cfg.d_mlp; H = cfg.n_heads; C = cfg.d_model; N = (long)p * p; nf = (p - 1) / 2;
    must(grok_task_modadd(&train, &test, p, 0.5, 598), "task");
    must(grok_model_init(&m, &cfg, train.n), "model");
    o = grok_train_opts_default();
    o.epochs = 1500; o.eval_every = 500; o.checkpoint_every = 0; o.progress = 0; o.out_dir = NULL;
    must(grok_train(&m, &o, &train, &test), "train");
    printf("figures: p = %d, d_mlp %d, %ld epochs: train acc %.3f, test acc %.3f\n", p, M, m.epoch, m.metrics.train_acc,
           m.metrics.test_acc);
    {
        float *acts = (float *)malloc(sizeof(float) * N * M);
        double *to_a = (double *)malloc(sizeof(double) * H * N), *to_b = (double *)malloc(sizeof(double) * H * N);
        double *fn = (double *)malloc(sizeof(double) * nf * M), *frac = (double *)malloc(sizeof(double) * M);
        double *ksh = (double *)malloc(sizeof(double) * p), *nE = (double *)malloc(sizeof(double) * p);
        double *cn = (double *)malloc(sizeof(double) * (M + 65) * p), *cc = (double *)malloc(sizeof(double) * 64 * N);
        double *sc = (double *)malloc(sizeof(double) * 64 * N), *spec = (double *)malloc(sizeof(double) * 4 * H * N);
        double *A = (double *)malloc(sizeof(double) * p * C), *U = (double *)malloc(sizeof(double) * p * p);
        double *S = (double *)malloc(sizeof(double) * p), fit[4 * 3];
        int *freq = (int *)malloc(sizeof(int) * M), *clusters = (int *)malloc(sizeof(int) * (M + 65));
        const float *W_E = m.weights + grok_model_param(&m, "embed.W_E")->offset;
        int k = p < C ? p : C, h, t;
        if (!acts || !to_a || !to_b || !fn || !frac || !ksh || !nE || !cn || !cc || !sc || !spec || !A || !U || !S || !freq ||
            !clusters)
            must(GROK_ERR_NOMEM, "out of memory");
        must(grok_modadd_run(NULL, acts, NULL, to_a, to_b, &m), "modadd_run");
        must(grok_neuron_freq_norm(fn, acts, p, M), "neuron_freq_norm");
        must(grok_neuron_freqs(freq, frac, NULL, acts, p, M, 0.85), "neuron_freqs");
        must(grok_fourier_norms(nE, W_E, p, C, 0), "fourier_norms");
        must(grok_key_freqs(kf, ksh, &nk, NULL, nE, p, 0.05), "key_freqs");
        for (i = 0; i < nk; i++) clusters[nc++] = kf[i];
        for (i = 0; i < M; i++) {
            int c, found = freq[i] == -1;
            for (c = 0; c < nc && !found; c++) found = clusters[c] == freq[i];
            if (!found) clusters[nc++] = freq[i];
        }
        clusters[nc++] = -1;
        must(grok_wlogit_cluster_norms(cn, &m, freq, clusters, nc), "wlogit_cluster_norms");
        must(grok_modadd_logit_components(cc, sc, &m, acts, kf, nk), "logit_components");
        for (h = 0; h < H; h++) /* spec (2H, p, p, 2): fftshift(fft2(grid)), grid h onto a, then onto b */
            for (t = 0; t < 2; t++) {
                double *g = spec + (2 * h + t) * 2 * N;
                for (i = 0; i < N; i++) { g[2 * i] = (t ? to_b : to_a)[h * N + i]; g[2 * i + 1] = 0; }
                must(grok_fft2(g, p, p, 0), "fft2");
                must(grok_fftshift2(g, p, p), "fftshift2");
            }
        for (i = 0; i < p * C; i++) A[i] = W_E[i];
        must(grok_svd(U, S, NULL, A, p, C, 0), "svd");
        for (i = 0; i < 4; i++) { /* the dominant-frequency fit of U's column i */
            double col[64];
            int r;
            for (r = 0; r < p; r++) col[r] = U[r * k + i];
            must(grok_dominant_freq(&fit[3 * i], &fit[3 * i + 1], &fit[3 * i + 2], col, p), "dominant_freq");
        }
        save_f("acts", acts, N, M);
        save_f("W_E", W_E, p, C);
        save_f("W_out", m.weights + grok_model_param(&m, "blocks.0.mlp.W_out")->offset, M, C);
        save_f("W_U", m.weights + grok_model_param(&m, "unembed.W_U")->offset, C, p);
        save("to_a", to_a, 3, H, p, p);
        save("to_b", to_b, 3, H, p, p);
        save("neuron_freq_norm", fn, 2, nf, M, 0);
        save("neuron_frac", frac, 1, M, 0, 0);
        save_i("neuron_freq", freq, M);
        save_i("clusters", clusters, nc);
        save_i("key_freqs", kf, nk);
        save("cluster_norms", cn, 2, nc, p, 0);
        save("cos_components", cc, 3, nk, p, p);
        save("sin_components", sc, 3, nk, p, p);
        save("spectra", spec, 3, 2 * H, N, 2);
        save("U", U, 2, p, k, 0);
        save("S", S, 1, k, 0, 0);
        save("fits", fit, 2, 4, 3, 0);
        printf("figures: key frequencies %d, clusters %d (with -1)\n", nk, nc);
        free(acts); free(to_a); free(to_b); free(fn); free(frac); free(ksh); free(nE); free(cn); free(cc); free(sc);
        free(spec); free(A); free(U); free(S); free(freq); free(clusters);
    }
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
    return 0;
}
