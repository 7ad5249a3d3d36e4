/* Tests of the seed analyses and the training progress measures: closed-form cases (Gini,
   dominant frequency, reduce_matrix_fft, SVD truncation, Fourier norms, key frequencies), seed
   004's ReLU-quadratic regression figures, and on a p = 31 model trained here: every analysis
   against a direct computation or an identity that a wrong implementation breaks. The last line
   is "N passed, N failed"; the exit status is nonzero on any failure. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static uint64_t rs = 88172645463325252ull;
static double urand(void) /* [0, 1) */
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static void test_relu_quadratic(void)
{
    double c[4], r2, r2l;
    int st = grok_relu_quadratic_fit(c, &r2, &r2l, 113, 42, 0.5 / sqrt(113.0));
    CHECK(st == GROK_OK, "relu fit: %s", grok_last_error());
    printf("relu-quadratic (p 113, k 42): %.4f const + %.4f cos x + %.4f cos y + %.4f cos x cos y, r2 %.4f (linear %.4f)\n",
           c[0], c[1], c[2], c[3], r2, r2l);
    CHECK(fabs(c[0] - 9.190) < 1e-3 && fabs(c[1] - 6.807) < 1e-3 && fabs(c[2] - 6.807) < 1e-3 && fabs(c[3] - 3.566) < 1e-3,
          "coefficients %.4f %.4f %.4f %.4f, seed 004: 9.190 6.807 6.807 3.566", c[0], c[1], c[2], c[3]);
    CHECK(fabs(r2 - 0.966) < 1e-3 && fabs(r2l - 0.849) < 1e-3, "r2 %.4f (0.966), without the quadratic term %.4f (0.849)", r2, r2l);
    CHECK(grok_relu_quadratic_fit(c, &r2, NULL, 113, 57, 0.1) == GROK_ERR_ARG, "k = 57 > (p-1)/2 is refused");
}

static void test_small_functions(void)
{
    double x[64], g, worst = 0;
    int n = 37;
    /* Gini: one-hot 1 - 1/n, constant 0, random against the mean absolute difference formula */
    memset(x, 0, sizeof x); x[5] = 2.5;
    CHECK(grok_gini(&g, x, n) == GROK_OK && fabs(g - (1 - 1.0 / n)) < 1e-12, "gini one-hot %.15f, want %.15f", g, 1 - 1.0 / n);
    for (int i = 0; i < n; i++) x[i] = 3;
    CHECK(grok_gini(&g, x, n) == GROK_OK && fabs(g) < 1e-12, "gini constant %g", g);
    for (int i = 0; i < n; i++) x[i] = urand() * urand();
    {
        double sad = 0, sum = 0;
        for (int i = 0; i < n; i++) { sum += x[i]; for (int j = 0; j < n; j++) sad += fabs(x[i] - x[j]); }
        grok_gini(&g, x, n);
        CHECK(fabs(g - sad / (2.0 * n * sum)) < 1e-12, "gini %.15f vs sum|xi-xj|/(2 n sum) %.15f", g, sad / (2.0 * n * sum));
    }
    x[3] = -1;
    CHECK(grok_gini(&g, x, n) == GROK_ERR_ARG, "gini refuses a negative value");
    /* dominant frequency of 3 cos(2 pi 5 t / 64 + 0.7) + 0.5 cos(2 pi 11 t / 64) + 1 */
    {
        double amp, fr, ph;
        for (int t = 0; t < 64; t++) x[t] = 3 * cos(2 * PI * 5 * t / 64 + 0.7) + 0.5 * cos(2 * PI * 11 * t / 64) + 1;
        CHECK(grok_dominant_freq(&amp, &fr, &ph, x, 64) == GROK_OK && fabs(amp - 3) < 1e-12 && fabs(fr - 5.0 / 64) < 1e-15 &&
              fabs(ph - 0.7) < 1e-12, "dominant: amplitude %.15f freq %.15f phase %.15f (3, 5/64, 0.7)", amp, fr, ph);
    }
    /* reduce_matrix_fft: A = 2 + cos(3x) + 0.4 cos(5y) + 0.05 sin(7y) + 0.01 noise; n_top 1 keeps the
       DC and the conjugate pair of 3 on the column axis, of 5 on the row axis */
    {
        enum { R = 24, C = 20 };
        static double A[R * C], out[R * C], want[R * C];
        double e = 0, e2 = 0;
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++) {
                want[i * C + j] = 2 + cos(2 * PI * 3 * i / R) + 0.4 * cos(2 * PI * 5 * j / C);
                A[i * C + j] = want[i * C + j] + 0.05 * sin(2 * PI * 7 * j / C) + 0.01 * cos(2 * PI * (i + j) * 2 / 20.0);
            }
        CHECK(grok_reduce_matrix_fft(out, A, R, C, 1) == GROK_OK, "reduce: %s", grok_last_error());
        for (int i = 0; i < R * C; i++) if (fabs(out[i] - want[i]) > e) e = fabs(out[i] - want[i]);
        CHECK(e < 1e-12, "reduce_matrix_fft n_top 1: max error %g against the 3 kept waves", e);
        grok_reduce_matrix_fft(out, want, R, C, 100); /* every row/column frequency kept: additive A back */
        for (int i = 0; i < R * C; i++) if (fabs(out[i] - want[i]) > e2) e2 = fabs(out[i] - want[i]);
        CHECK(e2 < 1e-12, "reduce_matrix_fft of an additive matrix with n_top large: error %g", e2);
    }
    /* SVD truncation: r = min -> 0, r = 0 -> mean |W| */
    {
        enum { R = 13, C = 9 };
        float W[R * C];
        double S[9], err, ma = 0, fro = 0, ss = 0;
        for (int i = 0; i < R * C; i++) { W[i] = (float)(urand() - 0.5); ma += fabs(W[i]); fro += (double)W[i] * W[i]; }
        ma /= R * C;
        CHECK(grok_svd_truncation(S, &err, W, R, C, 9) == GROK_OK && err < 1e-14, "truncation at full rank %g", err);
        grok_svd_truncation(S, &err, W, R, C, 0);
        for (int i = 0; i < 9; i++) ss += S[i] * S[i];
        CHECK(fabs(err - ma) < 1e-12 && fabs(ss - fro) < 1e-10 * fro, "rank 0: %.15f vs mean|W| %.15f; sum S^2 %g vs %g", err, ma, ss, fro);
        CHECK(grok_svd_truncation(S, &err, W, R, C, 10) == GROK_ERR_ARG, "r > min(rows, cols) refused");
    }
    /* Fourier norms and key frequencies: W (p+1, 3) with column 0 = 2 cos(3x), column 1 = sin(7x),
       column 2 = 0.1 cos(2x) + 0.3 (+ a last row that must be ignored) */
    {
        enum { P = 17 };
        float W[(P + 1) * 3], WT[3 * P];
        double nr[P], nt[P], tot = 0, fro = 0, sh[8], ksh[8], e = 0;
        int fr[8], nk;
        for (int x = 0; x <= P; x++) {
            W[x * 3] = (float)(2 * cos(2 * PI * 3 * x / P)); W[x * 3 + 1] = (float)sin(2 * PI * 7 * x / P);
            W[x * 3 + 2] = (float)(0.1 * cos(2 * PI * 2 * x / P) + 0.3);
            if (x == P) W[x * 3] = W[x * 3 + 1] = W[x * 3 + 2] = 100;
        }
        for (int x = 0; x < P; x++) for (int j = 0; j < 3; j++) { WT[j * P + x] = W[x * 3 + j]; fro += (double)W[x * 3 + j] * W[x * 3 + j]; }
        CHECK(grok_fourier_norms(nr, W, P, 3, 0) == GROK_OK && grok_fourier_norms(nt, WT, P, 3, 1) == GROK_OK, "norms: %s", grok_last_error());
        for (int i = 0; i < P; i++) { tot += nr[i]; if (fabs(nr[i] - nt[i]) > e) e = fabs(nr[i] - nt[i]); }
        CHECK(fabs(tot - fro) < 1e-9 * fro && e < 1e-12, "Parseval %g vs %g, transpose differs by %g", tot, fro, e);
        /* direct: frequency 3 carries |2 cos|^2 = 4 p/2, frequency 7 carries p/2, constant 0.09 p */
        CHECK(fabs(nr[5] + nr[6] - 2.0 * P) < 1e-5 && fabs(nr[13] + nr[14] - 0.5 * P) < 1e-5 && fabs(nr[0] - 0.09 * P) < 1e-5,
              "norms of freq 3 %g (%g), 7 %g (%g), const %g (%g)", nr[5] + nr[6], 2.0 * P, nr[13] + nr[14], 0.5 * P, nr[0], 0.09 * P);
        CHECK(grok_key_freqs(fr, ksh, &nk, sh, nr, P, 0.05) == GROK_OK && nk == 2 && fr[0] == 3 && fr[1] == 7 &&
              fabs(ksh[0] + ksh[1] + sh[1] - 1) < 1e-6, "key freqs %d: %d %d (want 3 7), shares %g %g", nk, fr[0], fr[1], ksh[0], ksh[1]);
        CHECK(fabs(ksh[0] - 2 / 2.505) < 1e-6 && fabs(ksh[1] - 0.5 / 2.505) < 1e-6, "shares %.9f %.9f, want 2/2.505, 0.5/2.505",
              ksh[0], ksh[1]);
        CHECK(grok_key_freqs(fr, ksh, &nk, NULL, nr, P, 0.9) == GROK_OK && nk == 1 && fr[0] == 3,
              "no frequency reaches min_share 0.9: the largest alone (%d: %d)", nk, fr[0]);
    }
    /* grouping by (a+b) mod p */
    {
        enum { P = 11 };
        int rows[P * P], seen[P * P] = {0}, ok = 1;
        grok_modadd_group_by_sum(rows, P);
        for (int c = 0; c < P; c++)
            for (int i = 0; i < P; i++) {
                int r = rows[c * P + i];
                ok &= r >= 0 && r < P * P && (r / P + r % P) % P == c && !seen[r];
                seen[r] = 1;
            }
        CHECK(ok, "group_by_sum puts every row once in its group");
    }
    (void)worst;
}

/* ------------------------------------------------------------ trained model */

static double ce_row(const double *l, int p, int lab)
{
    double mx = l[0], s = 0;
    for (int j = 1; j < p; j++) if (l[j] > mx) mx = l[j];
    for (int j = 0; j < p; j++) s += exp(l[j] - mx);
    return mx + log(s) - l[lab];
}

static void test_trained(void)
{
    enum { P = 31 };
    const long N = P * P;
    grok_config cfg = grok_config_modadd(P);
    grok_data tr, te;
    grok_model m;
    grok_train_opts o = grok_train_opts_default();
    const char *q = getenv("GROK_TEST_QUICK");
    int quick = q && *q && *q != '0';
    const char *dir = "/tmp/grok_test_progress";
    int st, M, H, *trows, nk = 0, freqs[15] = {0}, nfreq[256], clusters[15], nc = 0;
    float *logits, *acts, *resid;
    double *F, *Lres, *Lexc, rl, el, worst, last_pm[5] = {0, 0, 0, 0, 0};
    cfg.d_model = 64; cfg.d_head = 16; cfg.d_mlp = 256;
    M = cfg.d_mlp; H = cfg.n_heads;
    if (grok_task_modadd(&tr, &te, P, 0.5, 7) != GROK_OK || grok_model_init(&m, &cfg, tr.n) != GROK_OK) {
        CHECK(0, "setup: %s", grok_last_error());
        return;
    }
    m.opt.lr = 1e-2;
    /* GROK_TEST_QUICK=1 (make test-valgrind): 100 epochs, still 10 evaluations; nothing below
       depends on the model having grokked */
    o.epochs = quick ? 100 : 1000; o.eval_every = quick ? 10 : 100; o.checkpoint_every = 0; o.progress = 0; o.out_dir = dir;
    o.progress_measures = 1;
    st = grok_train(&m, &o, &tr, &te);
    CHECK(st == GROK_OK, "training with progress measures: %s", grok_last_error());
    printf("p=31 trained %ld epochs: test acc %.4f\n", o.epochs, m.metrics.test_acc);
    { /* metrics.csv: header with the five columns, 10 rows of 12 finite values */
        char line[1024], path[256];
        int rows = 0, ok = 1;
        FILE *f;
        snprintf(path, sizeof path, "%s/metrics.csv", dir);
        f = fopen(path, "r");
        CHECK(f != NULL, "metrics.csv exists");
        if (f) {
            if (fgets(line, sizeof line, f))
                CHECK(strcmp(line, "epoch,train_loss,test_loss,train_acc,test_acc,lr,seconds,restricted_loss,excluded_loss,"
                                   "gini_W_E,gini_W_logit,sum_sq_weights\n") == 0, "header: %s", line);
            while (fgets(line, sizeof line, f)) {
                double v[12];
                char *s = line, *e;
                for (int i = 0; i < 12; i++) { v[i] = strtod(s, &e); ok &= e != s && isfinite(v[i]); s = e + (*e == ','); }
                ok &= *s == '\n' || *s == '\0';
                for (int i = 0; i < 5; i++) last_pm[i] = v[7 + i];
                if (rows == 9)
                    printf("last metrics row: restricted %.3e excluded %.3e gini W_E %.3f gini W_logit %.3f sumsq %.1f\n",
                           v[7], v[8], v[9], v[10], v[11]);
                rows++;
            }
            fclose(f);
            CHECK(rows == 10 && ok, "10 rows of 12 finite values (got %d rows, ok %d)", rows, ok);
        }
    }
    { /* the same measures on demand equal the last metrics.csv row (same weights, same code) */
        double pmv[5];
        CHECK(grok_modadd_progress(pmv, &m, &tr, NULL, NULL, 0) == GROK_OK && fabs(pmv[0] - last_pm[0]) <= 1e-8 * last_pm[0] &&
              fabs(pmv[1] - last_pm[1]) <= 1e-8 * last_pm[1] && fabs(pmv[2] - last_pm[2]) < 1e-8 && fabs(pmv[3] - last_pm[3]) < 1e-8 &&
              fabs(pmv[4] - last_pm[4]) <= 1e-8 * last_pm[4], "grok_modadd_progress %g %g %g %g %g vs csv %g %g %g %g %g",
              pmv[0], pmv[1], pmv[2], pmv[3], pmv[4], last_pm[0], last_pm[1], last_pm[2], last_pm[3], last_pm[4]);
    }
    { /* refused for a non-modadd shape */
        grok_config c2 = cfg;
        grok_model m2;
        grok_train_opts o2 = o;
        c2.d_vocab = P + 3;
        o2.out_dir = NULL; o2.epochs = 1;
        grok_model_init(&m2, &c2, tr.n);
        CHECK(grok_train(&m2, &o2, &tr, &te) == GROK_ERR_ARG, "progress measures refused for d_vocab != p+1");
        grok_model_free(&m2);
    }
    logits = (float *)malloc(sizeof(float) * N * P);
    acts = (float *)malloc(sizeof(float) * N * M);
    resid = (float *)malloc(sizeof(float) * N * cfg.d_model);
    F = (double *)malloc(sizeof(double) * P * P);
    Lres = (double *)malloc(sizeof(double) * N * P);
    Lexc = (double *)malloc(sizeof(double) * N * P);
    trows = (int *)malloc(sizeof(int) * tr.n);
    grok_fourier_basis(F, P);
    for (int i = 0; i < tr.n; i++) trows[i] = tr.tokens[3 * i] * P + tr.tokens[3 * i + 1];
    {
        double *to_a = (double *)malloc(sizeof(double) * H * N), *to_b = (double *)malloc(sizeof(double) * H * N);
        double *spec = (double *)malloc(sizeof(double) * H * N), e = 0, bad = 0, ltr = 0, ltr2;
        float *lg = (float *)malloc(sizeof(float) * N * 3 * P);
        int *tok = (int *)malloc(sizeof(int) * N * 3), *lab = (int *)malloc(sizeof(int) * N);
        st = grok_modadd_run(logits, acts, resid, to_a, to_b, &m);
        CHECK(st == GROK_OK, "modadd_run: %s", grok_last_error());
        for (long r = 0; r < N; r++) { tok[3 * r] = (int)(r / P); tok[3 * r + 1] = (int)(r % P); tok[3 * r + 2] = P; lab[r] = (int)((r / P + r % P) % P); }
        for (long s0 = 0; s0 < N; s0 += tr.n) { /* in chunks of max_batch */
            int b = N - s0 < tr.n ? (int)(N - s0) : tr.n;
            CHECK(grok_model_forward(&m, tok + 3 * s0, NULL, b, NULL, NULL, lg + 3 * s0 * P) == GROK_OK, "forward: %s", grok_last_error());
        }
        for (long r = 0; r < N; r++) for (int z = 0; z < P; z++) e = fmax(e, fabs(lg[(3 * r + 2) * P + z] - logits[r * P + z]));
        CHECK(e == 0, "modadd_run logits equal the forward's last position (max diff %g)", e);
        for (long i = 0; i < H * N; i++) if (!(to_a[i] >= 0 && to_b[i] >= 0 && to_a[i] + to_b[i] <= 1 + 1e-6)) bad++;
        CHECK(bad == 0, "attention to a and b are probabilities summing to <= 1");
        /* 2-D spectrum of head 1's grid against a direct F G F^T */
        grok_grids_fourier(spec, to_a, H, P);
        e = 0;
        for (int i = 0; i < P; i++)
            for (int j = 0; j < P; j++) {
                double s = 0;
                for (int a = 0; a < P; a++) for (int b = 0; b < P; b++) s += F[i * P + a] * F[j * P + b] * to_a[N + a * P + b];
                e = fmax(e, fabs(s - spec[N + i * P + j]));
            }
        CHECK(e < 1e-12, "attention spectrum against direct F G F^T: %g", e);
        /* excluded neuron loss with no frequencies removed = the original training loss */
        {
            double *Ld = (double *)malloc(sizeof(double) * N * P);
            for (long i = 0; i < N * P; i++) Ld[i] = logits[i];
            grok_logits_loss(&ltr, Ld, lab, (int)N, P, trows, tr.n);
            ltr2 = 0;
            for (int i = 0; i < tr.n; i++) ltr2 += ce_row(Ld + (long)trows[i] * P, P, lab[trows[i]]);
            ltr2 /= tr.n;
            free(Ld);
        }
        {
            double ex0;
            st = grok_modadd_neuron_losses(&ex0, NULL, NULL, NULL, &m, acts, resid, logits, NULL, NULL, 0, freqs, 0, trows, tr.n, NULL);
            CHECK(st == GROK_OK && fabs(ex0 - ltr) <= 1e-5 * ltr + 1e-12 && fabs(ltr - ltr2) <= 1e-12 * ltr,
                  "neuron excluded loss with no frequency %.9e = train loss %.9e (%.9e)", ex0, ltr, ltr2);
        }
        free(to_a); free(to_b); free(spec); free(lg); free(tok); free(lab);
    }
    { /* key frequencies, restricted/excluded against a hand rebuild from seed 004's 2-D terms */
        double nr[P], ksh[15], *dirs = (double *)malloc(sizeof(double) * 2 * N), el2 = 0, rl2 = 0;
        int *lab = (int *)malloc(sizeof(int) * N);
        grok_fourier_norms(nr, m.weights + grok_model_param(&m, "embed.W_E")->offset, P, cfg.d_model, 0);
        grok_key_freqs(freqs, ksh, &nk, NULL, nr, P, 0.05);
        printf("key freqs:");
        for (int i = 0; i < nk; i++) printf(" %d (%.3f)", freqs[i], ksh[i]);
        printf("\n");
        st = grok_modadd_restricted(&rl, &el, Lres, Lexc, logits, P, freqs, nk, trows, tr.n, NULL);
        CHECK(st == GROK_OK, "restricted: %s", grok_last_error());
        for (long r = 0; r < N; r++) lab[r] = (int)((r / P + r % P) % P);
        {
            double *Lh = (double *)calloc((size_t)N * P, sizeof(double)), *E = (double *)malloc(sizeof(double) * N * P);
            worst = 0;
            for (int f = 0; f < nk; f++) {
                int k = freqs[f];
                for (int a = 0; a < P; a++) /* (cos x cos y - sin x sin y)/sqrt2, (sin x cos y + cos x sin y)/sqrt2 */
                    for (int b = 0; b < P; b++) {
                        const double *c1 = F + (2 * k - 1) * P, *s1 = F + 2 * k * P;
                        dirs[a * P + b] = (c1[a] * c1[b] - s1[a] * s1[b]) / sqrt(2.0);
                        dirs[N + a * P + b] = (s1[a] * c1[b] + c1[a] * s1[b]) / sqrt(2.0);
                    }
                for (int d = 0; d < 2; d++)
                    for (int z = 0; z < P; z++) {
                        double dot = 0;
                        for (long r = 0; r < N; r++) dot += dirs[d * N + r] * logits[r * P + z];
                        for (long r = 0; r < N; r++) Lh[r * P + z] += dot * dirs[d * N + r];
                    }
            }
            for (int z = 0; z < P; z++) {
                double mo = 0, mh = 0;
                for (long r = 0; r < N; r++) { mo += logits[r * P + z]; mh += Lh[r * P + z]; }
                for (long r = 0; r < N; r++) { E[r * P + z] = logits[r * P + z] - Lh[r * P + z]; Lh[r * P + z] += (mo - mh) / N; }
                for (long r = 0; r < N; r++) /* restricted + excluded = logits + column mean */
                    worst = fmax(worst, fabs(Lres[r * P + z] + Lexc[r * P + z] - mo / N - logits[r * P + z]));
            }
            for (long r = 0; r < N; r++) rl2 += ce_row(Lh + r * P, P, lab[r]);
            rl2 /= N;
            for (int i = 0; i < tr.n; i++) el2 += ce_row(E + (long)trows[i] * P, P, lab[trows[i]]);
            el2 /= tr.n;
            CHECK(fabs(rl - rl2) <= 1e-9 * fabs(rl2) + 1e-13 && fabs(el - el2) <= 1e-9 * el2,
                  "restricted %.12e vs hand %.12e, excluded %.12e vs %.12e", rl, rl2, el, el2);
            CHECK(worst < 1e-9, "restricted + excluded = logits + per-output mean (max error %g)", worst);
            printf("losses: restricted %.3e (all pairs), excluded %.3e (train)\n", rl, el);
            free(Lh); free(E);
        }
        free(dirs); free(lab);
    }
    { /* neurons */
        double frac[256], *X = (double *)malloc(sizeof(double) * N * M), e = 0, cent[P * P], mean = 0, best = -1, tot = 0;
        int fr2[256], ok = 1, j = 7;
        CHECK(grok_neuron_freqs(nfreq, frac, X, acts, P, M, 0.85) == GROK_OK, "neuron freqs: %s", grok_last_error());
        grok_neuron_freqs(fr2, frac, NULL, acts, P, M, 0);
        for (int i = 0; i < M; i++) ok &= frac[i] >= 0 && frac[i] <= 1 + 1e-12 && (nfreq[i] == -1 ? frac[i] < 0.85 : nfreq[i] == fr2[i]);
        CHECK(ok, "fractions in [0, 1]; freq -1 exactly where frac < 0.85");
        /* neuron j directly: centred acts, 2-D coefficients by sums over (a, b), best frequency */
        for (long r = 0; r < N; r++) mean += acts[r * M + j];
        mean /= N;
        for (long r = 0; r < N; r++) cent[r] = acts[r * M + j] - mean;
        {
            static double B[P][P];
            int bk = 0;
            for (int i1 = 0; i1 < P; i1++)
                for (int i2 = 0; i2 < P; i2++) {
                    double s = 0;
                    for (int a = 0; a < P; a++) for (int b = 0; b < P; b++) s += F[i1 * P + a] * F[i2 * P + b] * cent[a * P + b];
                    B[i1][i2] = s; tot += s * s;
                    e = fmax(e, fabs(s - X[(i1 * P + i2) * M + j]));
                }
            for (int k = 1; k <= 15; k++) {
                int id[3] = {0, 2 * k - 1, 2 * k};
                double s = 0;
                for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) s += B[id[a]][id[b]] * B[id[a]][id[b]];
                if (s > best) { best = s; bk = k; }
            }
            CHECK(e < 1e-9 && bk == fr2[j] && fabs(best / tot - frac[j]) < 1e-12, "neuron %d: spectrum err %g, freq %d vs %d, frac %.12f vs %.12f",
                  j, e, bk, fr2[j], best / tot, frac[j]);
        }
        { /* projection onto a frequency: idempotent, and the frac identity ||proj||^2 = frac * ||centred||^2 */
            double *Y = (double *)malloc(sizeof(double) * N), *Z = (double *)malloc(sizeof(double) * N), ny = 0, nc2 = 0, d = 0;
            grok_project_onto_freq(Y, cent, P, 1, fr2[j]);
            grok_project_onto_freq(Z, Y, P, 1, fr2[j]);
            for (long r = 0; r < N; r++) { ny += Y[r] * Y[r]; nc2 += cent[r] * cent[r]; d = fmax(d, fabs(Y[r] - Z[r])); }
            CHECK(d < 1e-10 && fabs(ny / nc2 - frac[j]) < 1e-10, "projection idempotent (%g), ||P x||^2/||x||^2 %.12f = frac %.12f",
                  d, ny / nc2, frac[j]);
            free(Y); free(Z);
        }
        for (int i = 0; i < M; i++) {
            int found = nfreq[i] == -1;
            for (int c = 0; c < nc && !found; c++) found = clusters[c] == nfreq[i];
            if (!found) clusters[nc++] = nfreq[i];
        }
        {
            double rest, noalw, abl[16];
            int n_alw = 0;
            for (int i = 0; i < M; i++) n_alw += nfreq[i] == -1;
            st = grok_modadd_neuron_losses(NULL, &rest, &noalw, abl, &m, acts, resid, logits, nfreq, clusters, nc, NULL, 0, NULL, 0, NULL);
            CHECK(st == GROK_OK && isfinite(rest) && isfinite(noalw), "neuron losses: %s", grok_last_error());
            printf("clusters %d (+%d no-frequency neurons): neuron-restricted loss %.3e, without the always-firing %.3e\n", nc, n_alw, rest, noalw);
            CHECK(fabs(abl[nc] - noalw) <= 1e-12 * noalw, "ablating the always-firing cluster = the no-always loss");
            for (int c = 0; c < nc; c++) printf("  ablate cluster freq %d: loss %.3e\n", clusters[c], abl[c]);
        }
        free(X);
    }
    { /* cos(w(a+b-c)) fit: Parseval identity and one coefficient by the triple sum */
        double co[15], cs[15], res, ln = 0, sc = 0, direct = 0, nrm = 0;
        int k = freqs[0];
        CHECK(grok_modadd_cos_fit(co, cs, &res, logits, P, NULL) == GROK_OK, "cos fit: %s", grok_last_error());
        for (long i = 0; i < N * P; i++) ln += (double)logits[i] * logits[i];
        for (int i = 0; i < 15; i++) sc += co[i] * co[i];
        for (int a = 0; a < P; a++)
            for (int b = 0; b < P; b++)
                for (int c = 0; c < P; c++) {
                    double q = cos(2 * PI * k * (a + b - c) / P);
                    direct += q * logits[(a * P + b) * P + c]; nrm += q * q;
                }
        direct /= sqrt(nrm);
        CHECK(fabs(co[k - 1] - direct) < 1e-9 * fabs(direct) && fabs(cs[k - 1] - direct / sqrt(ln)) < 1e-9,
              "coefficient of k=%d %.12g vs direct %.12g", k, co[k - 1], direct);
        CHECK(fabs(sc / ln + res * res - 1) < 1e-9, "sum cos_sim^2 + residual^2 = 1: %.12f", sc / ln + res * res);
        printf("cos(w(a+b-c)) fit: k=%d cos_sim %.3f, residual fraction %.3f\n", k, cs[k - 1], res);
    }
    { /* W_logit in the Fourier basis: norms agree with the matrix; Gini in [0, 1) */
        double *Wl = (double *)malloc(sizeof(double) * M * P), *Wf = (double *)malloc(sizeof(double) * M * P), nr[P], g, e = 0;
        grok_modadd_wlogit(Wl, Wf, &m);
        grok_wlogit_fourier_norms(nr, &m);
        for (int j = 0; j < P; j++) {
            double s = 0;
            for (int i = 0; i < M; i++) {
                double v = 0;
                for (int z = 0; z < P; z++) v += Wl[i * P + z] * F[j * P + z];
                s += v * v;
                e = fmax(e, fabs(v - Wf[i * P + j]));
            }
            e = fmax(e, fabs(sqrt(s) - nr[j]));
        }
        CHECK(e < 1e-9, "W_logit F^T and its column norms against direct: %g", e);
        CHECK(grok_gini(&g, nr, P) == GROK_OK && g >= 0 && g < 1, "gini of W_logit norms %g", g);
        free(Wl); free(Wf);
    }
    free(logits); free(acts); free(resid); free(F); free(Lres); free(Lexc); free(trows);
    grok_model_free(&m); grok_data_free(&tr); grok_data_free(&te);
}

/* With progress measures, grok_train takes the test metrics from the measures' forward over all
   p^2 pairs when every test row is a pair labelled with its sum: they must be grok_model_evaluate's
   bits at every evaluation, at 1 and 2 threads; a test set with one other label falls back to
   grok_model_evaluate itself. */
typedef struct { const grok_data *test; int evals, diffs; } eval_check;
static int compare_test_metrics(grok_model *m, void *ctx)
{
    eval_check *e = (eval_check *)ctx;
    double got_loss = m->metrics.test_loss, got_acc = m->metrics.test_acc, loss, acc;
    e->evals++;
    if (grok_model_evaluate(m, e->test->tokens, e->test->targets, e->test->n, &loss, &acc) != GROK_OK ||
        memcmp(&loss, &got_loss, sizeof loss) != 0 || acc != got_acc) {
        e->diffs++;
        printf("epoch %ld: test loss %.17g, evaluate %.17g; acc %g, evaluate %g\n", m->epoch, got_loss, loss, got_acc, acc);
    }
    return 0;
}

static void test_test_metrics(void)
{
    grok_config cfg = grok_config_modadd(23);
    grok_data tr, te;
    int kase;
    cfg.d_model = 32; cfg.d_head = 8; cfg.d_mlp = 64;
    if (grok_task_modadd(&tr, &te, 23, 0.3, 5) != GROK_OK) { CHECK(0, "task"); return; }
    grok_modtask add;
    if (grok_modtask_init(&add, GROK_OP_ADD, 23, 0, 0, GROK_DIRS_SUM) != GROK_OK) { CHECK(0, "task"); return; }
    int *pairs = grok__modadd_test_pairs(&te, 23, add.labels);
    CHECK(pairs && pairs[0] == te.tokens[0] * 23 + te.tokens[1], "the canonical test rows are read as pairs");
    free(pairs);
    for (kase = 0; kase < 3; kase++) {
        grok_model m;
        grok_train_opts o = grok_train_opts_default();
        eval_check e = { &te, 0, 0 };
        if (kase == 2) {
            /* one label that is not the sum: not addition's pairs, but the pairs of the task the data
               holds, whose test metrics the measures' forward still gives */
            te.targets[3 * 5 + 2] = (te.targets[3 * 5 + 2] + 1) % 23;
            CHECK(grok__modadd_test_pairs(&te, 23, add.labels) == NULL, "a test set with another label is not addition's pairs");
        }
        grok_threads_set(kase == 1 ? 1 : 2);
        if (grok_model_init(&m, &cfg, tr.n) != GROK_OK) { CHECK(0, "init"); break; }
        m.opt.lr = 1e-2;
        o.epochs = 90; o.eval_every = 15; o.checkpoint_every = 0; o.progress = 0; o.progress_measures = 1;
        o.on_eval = compare_test_metrics; o.on_eval_ctx = &e;
        CHECK(grok_train(&m, &o, &tr, &te) == GROK_OK && e.evals == 6 && e.diffs == 0,
              "case %d: the test metrics at %d evaluations are grok_model_evaluate's bits (%d differ)", kase, e.evals, e.diffs);
        grok_model_free(&m);
    }
    grok_threads_set(2);
    grok_data_free(&tr); grok_data_free(&te); grok_modtask_free(&add);
}

int main(void)
{
    grok_threads_set(2);
    test_relu_quadratic();
    test_small_functions();
    test_trained();
    test_test_metrics();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
