/* analyze - takes a modular-addition checkpoint apart the way seeds 000, 001 and 004 do.

   Usage: analyze --ckpt runs/modadd/latest.grok [--p P] [--frac 0.3] [--data-seed 598]
                  [--out DIR] [--threads N] [--help]
   Prints the key frequencies of the embedding with their share of its norm, the neuron
   clusters, the original / restricted / excluded losses, the loss with each cluster ablated and
   the cos(w(a+b-c)) coefficients; writes the arrays as CSV files into DIR (default: the
   checkpoint's directory + /analysis). The last two lines are for scripts:
       key_freqs=K1,K2,...
       loss original=X restricted=X excluded=X
   (original and restricted over all p*p pairs, excluded over the training pairs).
   Also writes DIR/report.html (grok_modadd_report: plots of metrics.csv from the checkpoint's
   directory, the Fourier, SVD, neuron and attention analyses; one self-contained file). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "options.h"
#include "run_dir.h"

#define MIN_SHARE 0.05 /* key frequency: >= 5% of the non-constant embedding norm */
#define MIN_FRAC 0.85  /* seed 004: a neuron belongs to a frequency's cluster if it explains > 0.85 */

static const char *const about =
    "Analyses a modular-addition checkpoint (grok.h's examples/modadd) in the Fourier basis; writes the\n"
    "arrays as CSV files and report.html into --out.";

static int die(const char *what)
{
    fprintf(stderr, "analyze: %s: %s\n", what, grok_last_error());
    return 1;
}

static FILE *open_csv(const char *dir, const char *name, const char *header)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) fprintf(stderr, "analyze: cannot write %s\n", path);
    else fprintf(f, "%s\n", header);
    return f;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL;
    char outbuf[4096], name[32];
    int p_arg = 0, threads = 0, p, M, H, C, nk, nc = 0, *train_rows, *test_rows, *labels, *nfreq, *clusters, kf[4096];
    double frac = 0.3, t0 = now_s(), ksh[4096], S[4096];
    unsigned long long data_seed = 598;
    grok_config cfg;
    grok_model m;
    grok_data train, test;
    FILE *f;

    opt options[] = {
        opt_default(opt_text("--ckpt", &ckpt, "FILE", "checkpoint to load"), "none (required)"),
        opt_default(opt_int("--p", &p_arg, 3, 4095, "modulus; must match the checkpoint"), "read from the checkpoint"),
        opt_real("--frac", &frac, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "training fraction of the split to rebuild, as modadd's"),
        opt_u64("--data-seed", &data_seed, "split seed, as modadd's"),
        opt_default(opt_text("--out", &out, "DIR", "where the CSV files and report.html go"),
                    "the checkpoint's directory/analysis"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
    };
    int rc = opt_parse("analyze", about, options, OPT_COUNT(options), argc, argv);
    if (rc >= 0) return rc;
    if (!ckpt) { fprintf(stderr, "analyze: --ckpt is required (analyze --help lists the options)\n"); return 2; }
    if (threads) grok_threads_set(threads);
    if (!out) {
        const char *slash = strrchr(ckpt, '/');
        if (slash) snprintf(outbuf, sizeof outbuf, "%.*s/analysis", (int)(slash - ckpt), ckpt);
        else snprintf(outbuf, sizeof outbuf, "analysis");
        out = outbuf;
    }
    if (grok_dir_make(out) != GROK_OK) { fprintf(stderr, "analyze: %s\n", grok_last_error()); return 1; }

    if (grok_checkpoint_config(&cfg, ckpt) != GROK_OK) return die("reading the checkpoint's config");
    p = cfg.d_vocab_out; M = cfg.d_mlp; H = cfg.n_heads; C = cfg.d_model;
    if (p_arg && p_arg != p) { fprintf(stderr, "analyze: --p %d but the checkpoint has p = %d\n", p_arg, p); return 2; }
    if (cfg.n_layers != 1 || cfg.n_ctx != 3 || cfg.d_vocab != p + 1 || p < 3 || p > 4095) {
        fprintf(stderr, "analyze: not a modular-addition model (layers %d, n_ctx %d, d_vocab %d, p %d)\n", cfg.n_layers,
                cfg.n_ctx, cfg.d_vocab, p);
        return 2;
    }
    if (grok_task_modadd(&train, &test, p, frac, data_seed) != GROK_OK) return die("rebuilding the split");
    if (grok_model_init(&m, &cfg, train.n) != GROK_OK) return die("model");
    if (grok_checkpoint_load(&m, ckpt) != GROK_OK) return die("loading the checkpoint");
    printf("analyze: %s: p=%d, epoch %ld, %d layer(s), %d heads, d_model %d, d_mlp %d; split frac %.3g seed %llu "
           "(%d train, %d test)\n", ckpt, p, m.epoch, cfg.n_layers, H, C, M, frac, data_seed, train.n, test.n);

    long N = (long)p * p;
    float *logits = (float *)malloc(sizeof(float) * N * p), *acts = (float *)malloc(sizeof(float) * N * M);
    float *resid = (float *)malloc(sizeof(float) * N * C);
    double *to_a = (double *)malloc(sizeof(double) * H * N), *to_b = (double *)malloc(sizeof(double) * H * N);
    double *spec = (double *)malloc(sizeof(double) * H * N), *Ld = (double *)malloc(sizeof(double) * N * p);
    double *nE = (double *)malloc(sizeof(double) * p), *nU = (double *)malloc(sizeof(double) * p);
    double *nL = (double *)malloc(sizeof(double) * p), *share = (double *)malloc(sizeof(double) * p);
    double *frac_n = (double *)malloc(sizeof(double) * M), *co = (double *)malloc(sizeof(double) * p);
    double *cs = (double *)malloc(sizeof(double) * p), *ablated = (double *)malloc(sizeof(double) * (M + 1));
    train_rows = (int *)malloc(sizeof(int) * train.n); test_rows = (int *)malloc(sizeof(int) * test.n);
    labels = (int *)malloc(sizeof(int) * N); nfreq = (int *)malloc(sizeof(int) * M); clusters = (int *)malloc(sizeof(int) * M);
    if (!logits || !acts || !resid || !to_a || !to_b || !spec || !Ld || !nE || !nU || !nL || !share || !frac_n || !co ||
        !cs || !ablated || !train_rows || !test_rows || !labels || !nfreq || !clusters) {
        fprintf(stderr, "analyze: out of memory\n");
        return 1;
    }
    for (int i = 0; i < train.n; i++) train_rows[i] = train.tokens[3 * i] * p + train.tokens[3 * i + 1];
    for (int i = 0; i < test.n; i++) test_rows[i] = test.tokens[3 * i] * p + test.tokens[3 * i + 1];
    for (long r = 0; r < N; r++) labels[r] = (int)((r / p + r % p) % p);

    /* 1. embedding and unembedding in the Fourier basis (seed 004), key frequencies */
    const float *W_E = m.weights + grok_model_param(&m, "embed.W_E")->offset;
    const float *W_U = m.weights + grok_model_param(&m, "unembed.W_U")->offset;
    if (grok_fourier_norms(nE, W_E, p, C, 0) != GROK_OK || grok_fourier_norms(nU, W_U, p, C, 1) != GROK_OK ||
        grok_key_freqs(kf, ksh, &nk, share, nE, p, MIN_SHARE) != GROK_OK)
        return die("Fourier norms");
    {
        double tot = 0;
        for (int i = 0; i < nk; i++) tot += ksh[i];
        printf("\nembedding W_E[:p] in the Fourier basis: %d key frequencies (share >= %.2f of the non-constant norm) "
               "carry %.1f%% of it\n", nk, MIN_SHARE, 100 * tot);
        for (int i = 0; i < nk; i++) {
            double su = 0, tu = 0;
            for (int j = 1; j < p; j++) tu += nU[j];
            su = (nU[2 * kf[i] - 1] + nU[2 * kf[i]]) / tu;
            printf("  k=%-3d W_E share %5.1f%%   W_U share %5.1f%%\n", kf[i], 100 * ksh[i], 100 * su);
        }
    }
    if ((f = open_csv(out, "fourier_norms.csv", "component,name,W_E_sq_norm,W_U_sq_norm"))) {
        for (int j = 0; j < p; j++) {
            grok_fourier_basis_name(name, sizeof name, j, p);
            fprintf(f, "%d,%s,%.9g,%.9g\n", j, name, nE[j], nU[j]);
        }
        fclose(f);
    }
    { /* SVD of W_E[:p] (seed 000) */
        double err_k, err_12;
        int r = 2 * nk < (p < C ? p : C) ? 2 * nk : (p < C ? p : C), r12 = 12 < (p < C ? p : C) ? 12 : (p < C ? p : C);
        double mabs = 0;
        for (long i = 0; i < (long)p * C; i++) mabs += fabs(W_E[i]);
        mabs /= (double)p * C;
        if (grok_svd_truncation(S, &err_k, W_E, p, C, r) != GROK_OK || grok_svd_truncation(NULL, &err_12, W_E, p, C, r12) != GROK_OK)
            return die("SVD of W_E");
        printf("SVD of W_E[:p]: top singular values %.3f %.3f %.3f %.3f ...; mean |error| of rank %d (2 per key freq) %.3g, "
               "rank %d (seed 000) %.3g, mean |W_E| %.3g\n", S[0], S[1], S[2], S[3], r, err_k, r12, err_12, mabs);
        if ((f = open_csv(out, "svd_W_E.csv", "index,singular_value"))) {
            for (int i = 0; i < (p < C ? p : C); i++) fprintf(f, "%d,%.9g\n", i, S[i]);
            fclose(f);
        }
    }

    /* 2. everything the model computes on the p*p pairs */
    if (grok_modadd_run(logits, acts, resid, to_a, to_b, &m) != GROK_OK) return die("running all pairs");
    for (long i = 0; i < N * p; i++) Ld[i] = logits[i];
    double loss_all, loss_train, loss_test, rl, el;
    grok_logits_loss(&loss_all, Ld, labels, (int)N, p, NULL, 0);
    grok_logits_loss(&loss_train, Ld, labels, (int)N, p, train_rows, train.n);
    grok_logits_loss(&loss_test, Ld, labels, (int)N, p, test_rows, test.n);

    /* 3. attention of '=' onto a and b (seed 000), dominant frequency along a of the mean over b */
    printf("\nattention of '=' (mean over pairs onto a / b, dominant frequency of the attention to a as a function of a):\n");
    grok_grids_fourier(spec, to_a, H, p);
    for (int h = 0; h < H; h++) {
        double ma = 0, mb = 0, amp, fr, ph, *row = (double *)malloc(sizeof(double) * p);
        for (long r = 0; r < N; r++) { ma += to_a[h * N + r]; mb += to_b[h * N + r]; }
        for (int a = 0; a < p; a++) { row[a] = 0; for (int b = 0; b < p; b++) row[a] += to_a[h * N + a * p + b] / p; }
        grok_dominant_freq(&amp, &fr, &ph, row, p);
        printf("  head %d: onto a %.3f, onto b %.3f; dominant k=%.0f (amplitude %.3f, phase %.2f)\n", h, ma / N, mb / N,
               fr * p, amp, ph);
        free(row);
    }
    if ((f = open_csv(out, "attention.csv", "head,a,b,to_a,to_b,to_a_fourier,to_b_fourier"))) {
        double *sb = (double *)malloc(sizeof(double) * H * N);
        grok_grids_fourier(sb, to_b, H, p);
        for (int h = 0; h < H; h++)
            for (long r = 0; r < N; r++)
                fprintf(f, "%d,%ld,%ld,%.6g,%.6g,%.6g,%.6g\n", h, r / p, r % p, to_a[h * N + r], to_b[h * N + r],
                        spec[h * N + r], sb[h * N + r]);
        free(sb);
        fclose(f);
    }

    /* 4. neurons (seed 004) */
    if (grok_neuron_freqs(nfreq, frac_n, NULL, acts, p, M, MIN_FRAC) != GROK_OK) return die("neuron frequencies");
    for (int i = 0; i < nk; i++) clusters[nc++] = kf[i]; /* key frequencies first, then any other found */
    for (int i = 0; i < M; i++) {
        int found = nfreq[i] == -1;
        for (int c = 0; c < nc && !found; c++) found = clusters[c] == nfreq[i];
        if (!found) clusters[nc++] = nfreq[i];
    }
    {
        double exr, rest, noalw;
        if (grok_modadd_restricted(&rl, &el, NULL, NULL, logits, p, kf, nk, train_rows, train.n) != GROK_OK ||
            grok_modadd_neuron_losses(&exr, &rest, &noalw, ablated, &m, acts, resid, logits, nfreq, clusters, nc, kf, nk,
                                      train_rows, train.n) != GROK_OK)
            return die("losses");
        printf("\nneuron clusters (frequency explaining the most of each centred neuron; frac < %.2f: no frequency):\n", MIN_FRAC);
        for (int c = 0; c <= nc; c++) {
            int fq = c < nc ? clusters[c] : -1, cnt = 0;
            double s = 0;
            for (int i = 0; i < M; i++) if (nfreq[i] == fq) { cnt++; s += frac_n[i]; }
            if (c < nc) printf("  k=%-3d %4d neurons, mean frac explained %.3f;", fq, cnt, cnt ? s / cnt : 0);
            else printf("  none  %4d neurons (always firing / unexplained), mean frac %.3f;", cnt, cnt ? s / cnt : 0);
            printf(" loss with it ablated %.3e\n", ablated[c]);
        }
        printf("\nlosses: original %.3e (all pairs; train %.3e, test %.3e)\n", loss_all, loss_train, loss_test);
        printf("  restricted to cos/sin(w(a+b)) of the key frequencies %.3e (all pairs), excluded %.3e (train)\n", rl, el);
        printf("  neurons: projected onto their cluster's frequency %.3e, without the always-firing cluster %.3e;\n"
               "           excluded (key-frequency cos/sin(w(a+b)) removed from the neurons) %.3e (train)\n", rest, noalw, exr);
    }
    if ((f = open_csv(out, "neurons.csv", "neuron,freq,frac_explained"))) {
        for (int i = 0; i < M; i++) fprintf(f, "%d,%d,%.6g\n", i, nfreq[i], frac_n[i]);
        fclose(f);
    }

    /* 5. logits on cos(w(a+b-c)) (seed 001), W_logit in the Fourier basis (seed 004), Gini */
    {
        double res, gE, gL, ss;
        if (grok_modadd_cos_fit(co, cs, &res, logits, p) != GROK_OK || grok_wlogit_fourier_norms(nL, &m) != GROK_OK)
            return die("logit fits");
        printf("\nlogits on cos(w(a+b-c)) (seed 001): ");
        for (int i = 0; i < nk; i++) printf("k=%d coeff %.4g cos_sim %.3f%s", kf[i], co[kf[i] - 1], cs[kf[i] - 1], i + 1 < nk ? "; " : "");
        printf("\n  residual fraction of the norm over all frequencies %.3f\n", res);
        for (int j = 0; j < p; j++) nE[j] = sqrt(nE[j]);
        grok_gini(&gE, nE, p);
        grok_gini(&gL, nL, p);
        grok_weights_sumsq(&ss, &m);
        printf("Gini of the Fourier norms: W_E %.3f, W_logit %.3f; sum of squared weights %.1f\n", gE, gL, ss);
        {
            double pmv[5];
            if (grok_modadd_progress(pmv, &m, &train, NULL, 0) != GROK_OK) return die("progress measures");
            printf("progress measures as grok_train writes them (key freqs from W_E): restricted %.3e, excluded %.3e, "
                   "gini W_E %.3f, gini W_logit %.3f, sum sq %.1f\n", pmv[0], pmv[1], pmv[2], pmv[3], pmv[4]);
        }
        if ((f = open_csv(out, "cos_fit.csv", "k,coeff,cos_sim"))) {
            for (int k = 1; k <= (p - 1) / 2; k++) fprintf(f, "%d,%.9g,%.9g\n", k, co[k - 1], cs[k - 1]);
            fclose(f);
        }
        if ((f = open_csv(out, "wlogit_fourier_norms.csv", "component,name,norm"))) {
            for (int j = 0; j < p; j++) { grok_fourier_basis_name(name, sizeof name, j, p); fprintf(f, "%d,%s,%.9g\n", j, name, nL[j]); }
            fclose(f);
        }
    }
    printf("\nCSV files in %s/ (fourier_norms, svd_W_E, attention, neurons, cos_fit, wlogit_fourier_norms); %.1f s\n", out,
           now_s() - t0);
    /* 6. the arrays behind the report's figures of seeds 000, 001, 003 and 004 */
    {
        int nu = (p < C ? p : C) < 8 ? (p < C ? p : C) : 8, kmin = p < C ? p : C, nf = (p - 1) / 2, ncl = 0;
        double *A = (double *)malloc(sizeof(double) * ((size_t)p * C + (size_t)p * kmin + kmin + p));
        double *cg = (double *)malloc(sizeof(double) * 2 * (size_t)N), *X = (double *)malloc(sizeof(double) * N * M);
        double *fnorm = (double *)malloc(sizeof(double) * (size_t)nf * M), *Wf = (double *)malloc(sizeof(double) * M * p);
        double *cn = (double *)malloc(sizeof(double) * (size_t)(nc + 1) * p);
        double *cc = (double *)malloc(sizeof(double) * (size_t)nk * N), *sc = (double *)malloc(sizeof(double) * (size_t)nk * N);
        int *cl = (int *)malloc(sizeof(int) * (size_t)(nc + 1)), *f0 = (int *)malloc(sizeof(int) * M);
        double *f0frac = (double *)malloc(sizeof(double) * M);
        char nb[32];
        if (!A || !cg || !X || !fnorm || !Wf || !cn || !cc || !sc || !cl || !f0 || !f0frac) return die("out of memory");
        /* columns of U of W_E[:p] and their dominant-frequency fits (seed 000) */
        double *U = A + (size_t)p * C, *Sv = U + (size_t)p * kmin, *col = Sv + kmin;
        for (long i = 0; i < (long)p * C; i++) A[i] = W_E[i];
        if (grok_svd(U, Sv, NULL, A, p, C, 0) != GROK_OK) return die("SVD of W_E");
        FILE *fu = open_csv(out, "svd_U.csv", "column,token,u,fit");
        if ((f = open_csv(out, "svd_U_fits.csv", "column,k,freq,amplitude,phase")) && fu) {
            for (int j = 0; j < nu; j++) {
                double amp, fr, ph;
                for (int i = 0; i < p; i++) col[i] = U[(long)i * kmin + j];
                if (grok_dominant_freq(&amp, &fr, &ph, col, p) != GROK_OK) return die("dominant frequency");
                fprintf(f, "%d,%.0f,%.9g,%.9g,%.9g\n", j, fr * p, fr, amp, ph);
                for (int i = 0; i < p; i++)
                    fprintf(fu, "%d,%d,%.9g,%.9g\n", j, i, col[i], amp * cos(2 * 3.14159265358979323846 * fr * i + ph));
            }
        }
        if (f) fclose(f);
        if (fu) fclose(fu);
        /* the attention grids' spectra, fftshift(fft2(grid)) (seed 000) */
        if ((f = open_csv(out, "attention_spectrum.csv", "head,onto,freq_a,freq_b,re,im,abs"))) {
            for (int h = 0; h < H; h++)
                for (int t = 0; t < 2; t++) {
                    const double *g = (t ? to_b : to_a) + h * N;
                    for (long r = 0; r < N; r++) { cg[2 * r] = g[r]; cg[2 * r + 1] = 0; }
                    if (grok_fft2(cg, p, p, 0) != GROK_OK || grok_fftshift2(cg, p, p) != GROK_OK) return die("attention spectrum");
                    for (long r = 0; r < N; r++)
                        fprintf(f, "%d,%c,%ld,%ld,%.6g,%.6g,%.6g\n", h, t ? 'b' : 'a', r / p - p / 2, r % p - p / 2, cg[2 * r],
                                cg[2 * r + 1], hypot(cg[2 * r], cg[2 * r + 1]));
                }
            fclose(f);
        }
        /* seed 001: neuron_freq_norm (cell 46) and the 2-D Fourier norms of the neurons (cells 62-63) */
        if (grok_neuron_freq_norm(fnorm, acts, p, M) != GROK_OK || grok_neuron_freqs(f0, f0frac, X, acts, p, M, 0) != GROK_OK)
            return die("neuron frequency norms");
        if ((f = open_csv(out, "neuron_freq_norm.csv", "k,neuron,frac"))) {
            for (int k = 1; k <= nf; k++)
                for (int i = 0; i < M; i++) fprintf(f, "%d,%d,%.6g\n", k, i, fnorm[(long)(k - 1) * M + i]);
            fclose(f);
        }
        if ((f = open_csv(out, "neuron_fourier_norms.csv", "component_a,component_b,name_a,name_b,norm"))) {
            for (long r = 0; r < N; r++) {
                double s = 0;
                for (int i = 0; i < M; i++) s += X[r * M + i] * X[r * M + i];
                grok_fourier_basis_name(name, sizeof name, (int)(r / p), p);
                grok_fourier_basis_name(nb, sizeof nb, (int)(r % p), p);
                fprintf(f, "%ld,%ld,%s,%s,%.6g\n", r / p, r % p, name, nb, sqrt(s));
            }
            fclose(f);
        }
        /* seed 004: W_logit in the Fourier basis by cluster, its norms per cluster (seed 003's form),
           the cos / sin components per key frequency; the neurons' fraction of inputs > 0 */
        for (int c = 0; c < nc; c++) cl[ncl++] = clusters[c];
        cl[ncl++] = -1;
        if (grok_modadd_wlogit(NULL, Wf, &m) != GROK_OK || grok_wlogit_cluster_norms(cn, &m, nfreq, cl, ncl) != GROK_OK ||
            grok_modadd_logit_components(cc, sc, &m, acts, kf, nk) != GROK_OK)
            return die("W_logit figures");
        if ((f = open_csv(out, "wlogit_fourier_by_cluster.csv", "row,neuron,cluster,component,name,value"))) {
            long row = 0;
            for (int c = 0; c < ncl; c++)
                for (int i = 0; i < M; i++) {
                    if (nfreq[i] != cl[c]) continue;
                    for (int j = 0; j < p; j++) {
                        grok_fourier_basis_name(name, sizeof name, j, p);
                        fprintf(f, "%ld,%d,%d,%d,%s,%.6g\n", row, i, cl[c], j, name, Wf[(long)i * p + j]);
                    }
                    row++;
                }
            fclose(f);
        }
        if ((f = open_csv(out, "wlogit_cluster_norms.csv", "cluster,component,name,sq_norm"))) {
            for (int c = 0; c < ncl; c++)
                for (int j = 0; j < p; j++) {
                    grok_fourier_basis_name(name, sizeof name, j, p);
                    fprintf(f, "%d,%d,%s,%.9g\n", cl[c], j, name, cn[(long)c * p + j]);
                }
            fclose(f);
        }
        if ((f = open_csv(out, "logit_components.csv", "k,direction,component_a,component_b,name_a,name_b,value"))) {
            for (int q = 0; q < nk; q++)
                for (int t = 0; t < 2; t++)
                    for (long r = 0; r < N; r++) {
                        grok_fourier_basis_name(name, sizeof name, (int)(r / p), p);
                        grok_fourier_basis_name(nb, sizeof nb, (int)(r % p), p);
                        fprintf(f, "%d,%s,%ld,%ld,%s,%s,%.6g\n", kf[q], t ? "sin" : "cos", r / p, r % p, name, nb,
                                (t ? sc : cc)[q * N + r]);
                    }
            fclose(f);
        }
        if ((f = open_csv(out, "neuron_activity.csv", "neuron,cluster,frac_positive,max_freq_norm"))) {
            for (int i = 0; i < M; i++) {
                long pos = 0;
                double mx = 0;
                for (long r = 0; r < N; r++) pos += acts[r * M + i] > 0;
                for (int k = 0; k < nf; k++) if (fnorm[(long)k * M + i] > mx) mx = fnorm[(long)k * M + i];
                fprintf(f, "%d,%d,%.6g,%.6g\n", i, nfreq[i], (double)pos / N, mx);
            }
            fclose(f);
        }
        printf("figure CSVs in %s/ (svd_U, svd_U_fits, attention_spectrum, neuron_freq_norm, neuron_fourier_norms, "
               "wlogit_fourier_by_cluster, wlogit_cluster_norms, logit_components, neuron_activity)\n", out);
        free(A); free(cg); free(X); free(fnorm); free(Wf); free(cn); free(cc); free(sc); free(cl); free(f0); free(f0frac);
    }
    { /* report.html: the plots and tables of the above, with the run's metrics.csv beside the checkpoint */
        char mpath[4096], rpath[4200];
        const char *slash = strrchr(ckpt, '/');
        if (slash) snprintf(mpath, sizeof mpath, "%.*s/metrics.csv", (int)(slash - ckpt), ckpt);
        else snprintf(mpath, sizeof mpath, "metrics.csv");
        snprintf(rpath, sizeof rpath, "%s/report.html", out);
        if (grok_modadd_report(rpath, &m, mpath, ckpt) != GROK_OK) return die("writing report.html");
        printf("report: %s\n", rpath);
    }
    printf("key_freqs=");
    for (int i = 0; i < nk; i++) printf("%s%d", i ? "," : "", kf[i]);
    printf("\nloss original=%.6g restricted=%.6g excluded=%.6g\n", loss_all, rl, el);
    free(logits); free(acts); free(resid); free(to_a); free(to_b); free(spec); free(Ld); free(nE); free(nU); free(nL);
    free(share); free(frac_n); free(co); free(cs); free(ablated); free(train_rows); free(test_rows); free(labels);
    free(nfreq); free(clusters);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test);
    return 0;
}
