/* Tests of the analysis section: DFT against a long-double direct DFT, the Fourier basis of
   Z_p against naive products, SVD and least squares against their definitions, and the error
   paths. Every group prints the worst error it measured; the last line is "N passed, N failed"
   and the exit status is nonzero on any failure. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"

static double worst; /* worst error of the current group */

static void group_begin(void) { worst = 0; }
static void group_end(const char *name, double bound)
{
    printf("%-28s worst %.3e (bound %.0e)\n", name, worst, bound);
}
static double track(double err)
{
    if (err > worst || err != err) worst = err;
    return err;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) /* [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

static double *rand_array(size_t n)
{
    double *a = (double *)malloc(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) a[i] = urand();
    return a;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > m || a[i] != a[i] || b[i] != b[i]) m = a[i] != a[i] || b[i] != b[i] ? INFINITY : fabs(a[i] - b[i]);
    return m;
}

static double rel_err(const double *x, const double *ref, size_t n)
{
    double s = max_abs(ref, n);
    return max_diff(x, ref, n) / (s > 0 ? s : 1);
}

/* X = DFT of the complex x (n), in long double, sign -1 forward, +1 inverse (with 1/n). */
static void dft_ref(double *X, const double *x, int n, int sign)
{
    const long double tau = 6.283185307179586476925286766559L;
    long double *tab = (long double *)malloc(sizeof(long double) * 2 * n);
    for (int j = 0; j < n; j++) {
        tab[2 * j] = cosl(tau * j / n);
        tab[2 * j + 1] = sign * sinl(tau * j / n);
    }
    for (int k = 0; k < n; k++) {
        long double sr = 0, si = 0;
        for (int j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
            sr += x[2 * j] * tab[2 * idx] - x[2 * j + 1] * tab[2 * idx + 1];
            si += x[2 * j] * tab[2 * idx + 1] + x[2 * j + 1] * tab[2 * idx];
        }
        if (sign > 0) { sr /= n; si /= n; }
        X[2 * k] = (double)sr;
        X[2 * k + 1] = (double)si;
    }
    free(tab);
}

static int fft_vec(double *x, int n, int inverse) /* one contiguous vector through a fresh plan */
{
    grok_fft_plan *pl;
    int st = grok_fft_plan_create(&pl, n);
    if (st != GROK_OK) return st;
    st = grok_fft_execute(pl, x, 1, 1, 0, inverse);
    grok_fft_plan_free(pl);
    return st;
}

static void test_dft_direct(void)
{
    int sizes[512 + 5], ns = 0;
    for (int n = 1; n <= 512; n++) sizes[ns++] = n;
    sizes[ns++] = 113; sizes[ns++] = 127; sizes[ns++] = 997; sizes[ns++] = 1009; sizes[ns++] = 2310;
    group_begin();
    for (int t = 0; t < ns; t++) {
        int n = sizes[t];
        double *x = rand_array(2 * (size_t)n), *y = (double *)malloc(sizeof(double) * 4 * n), *ref = y + 2 * n;
        for (int inv = 0; inv <= 1; inv++) {
            double err;
            int st;
            memcpy(y, x, sizeof(double) * 2 * n);
            st = fft_vec(y, n, inv);
            dft_ref(ref, x, n, inv ? 1 : -1);
            err = track(rel_err(y, ref, 2 * (size_t)n));
            CHECK(st == GROK_OK && err <= 1e-12, "DFT n = %d %s: status %d, rel err %.3e", n, inv ? "inverse" : "forward", st, err);
        }
        free(x);
        free(y);
    }
    group_end("dft vs long double", 1e-12);
}

static void test_fft_roundtrip_strided(void)
{
    const int sizes[] = {1, 2, 3, 7, 16, 49, 60, 97, 113, 128, 211, 1009, 2310, 4096};
    group_begin();
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t];
        double *x = rand_array(2 * (size_t)n), *y = (double *)malloc(sizeof(double) * 2 * n), err;
        memcpy(y, x, sizeof(double) * 2 * n);
        fft_vec(y, n, 0);
        fft_vec(y, n, 1);
        err = track(rel_err(y, x, 2 * (size_t)n));
        CHECK(err <= 1e-13, "inverse(forward(x)) n = %d: rel err %.3e", n, err);
        free(x);
        free(y);
    }
    /* 9 vectors (not a multiple of any lane count) with stride 3 and dist 2 interleaved in a
       larger array; everything else must be left alone */
    {
        const int ns[] = {7, 16, 113};
        for (size_t t = 0; t < 3; t++) {
            int n = ns[t], count = 9;
            long stride = 3 * count, dist = 2, len = (long)n * stride + 5;
            double *a = rand_array(2 * (size_t)len), *b = (double *)malloc(sizeof(double) * 2 * len);
            double *v = (double *)malloc(sizeof(double) * 2 * n), errv = 0, untouched = 0;
            grok_fft_plan *pl;
            int st;
            memcpy(b, a, sizeof(double) * 2 * len);
            grok_fft_plan_create(&pl, n);
            st = grok_fft_execute(pl, b, stride, count, dist, 0);
            for (int c = 0; c < count; c++) {
                for (int j = 0; j < n; j++) {
                    v[2 * j] = a[2 * (c * dist + j * stride)];
                    v[2 * j + 1] = a[2 * (c * dist + j * stride) + 1];
                }
                grok_fft_execute(pl, v, 1, 1, 0, 0);
                for (int j = 0; j < n; j++) {
                    long o = 2 * (c * dist + j * stride);
                    double e = fmax(fabs(b[o] - v[2 * j]), fabs(b[o + 1] - v[2 * j + 1]));
                    if (e > errv) errv = e;
                    a[o] = b[o]; /* so that the untouched check below ignores the vectors */
                    a[o + 1] = b[o + 1];
                }
            }
            untouched = max_diff(a, b, 2 * (size_t)len);
            track(errv);
            CHECK(st == GROK_OK && errv <= 1e-13 && untouched == 0, "strided n = %d: err %.3e vs contiguous, "
                  "other elements changed by %.3e", n, errv, untouched);
            grok_fft_plan_free(pl);
            free(a); free(b); free(v);
        }
    }
    group_end("fft roundtrip, strided", 1e-13);
}

static void test_fft_axis_2d(void)
{
    const int shape[3] = {4, 6, 113};
    const long total = 4 * 6 * 113;
    group_begin();
    for (int axis = 0; axis < 3; axis++) {
        double *a = rand_array(2 * (size_t)total), *b = (double *)malloc(sizeof(double) * 2 * total);
        double *v = (double *)malloc(sizeof(double) * 2 * 113), err = 0, errf = 0;
        float *f = (float *)malloc(sizeof(float) * 2 * total);
        long st[3] = {6 * 113, 113, 1};
        int s;
        for (long i = 0; i < 2 * total; i++) f[i] = (float)a[i];
        memcpy(b, a, sizeof(double) * 2 * total);
        s = grok_fft_axis(b, 3, shape, axis, axis == 1);
        CHECK(s == GROK_OK, "grok_fft_axis axis %d: %s", axis, grok_last_error());
        s = grok_fft_axis_f(f, 3, shape, axis, axis == 1);
        CHECK(s == GROK_OK, "grok_fft_axis_f axis %d: %s", axis, grok_last_error());
        for (int i0 = 0; i0 < shape[0]; i0++) /* every vector along axis by hand */
            for (int i1 = 0; i1 < shape[1]; i1++)
                for (int i2 = 0; i2 < shape[2]; i2++) {
                    int idx[3];
                    long base;
                    idx[0] = i0; idx[1] = i1; idx[2] = i2;
                    if (idx[axis] != 0) continue;
                    base = i0 * st[0] + i1 * st[1] + i2 * st[2];
                    for (int j = 0; j < shape[axis]; j++) {
                        v[2 * j] = a[2 * (base + j * st[axis])];
                        v[2 * j + 1] = a[2 * (base + j * st[axis]) + 1];
                    }
                    fft_vec(v, shape[axis], axis == 1);
                    for (int j = 0; j < shape[axis]; j++) {
                        long o = 2 * (base + j * st[axis]);
                        err = fmax(err, fmax(fabs(b[o] - v[2 * j]), fabs(b[o + 1] - v[2 * j + 1])));
                        errf = fmax(errf, fmax(fabs(f[o] - v[2 * j]), fabs(f[o + 1] - v[2 * j + 1])) / (1 + fabs(v[2 * j]) + fabs(v[2 * j + 1])));
                    }
                }
        track(err);
        CHECK(err <= 1e-13, "grok_fft_axis axis %d: err %.3e vs per-vector transforms", axis, err);
        CHECK(errf <= 1e-5, "grok_fft_axis_f axis %d: err %.3e vs double", axis, errf);
        free(a); free(b); free(v); free(f);
    }
    {   /* fft2 against a naive separable DFT in long double, then back */
        const int rows = 6, cols = 10;
        double *a = rand_array(2 * rows * cols), *b = (double *)malloc(sizeof(double) * 2 * rows * cols);
        double *ref = (double *)malloc(sizeof(double) * 2 * rows * cols), *v = (double *)malloc(sizeof(double) * 40);
        double *w = v + 20, err;
        memcpy(ref, a, sizeof(double) * 2 * rows * cols);
        for (int r = 0; r < rows; r++) {
            dft_ref(w, ref + 2 * r * cols, cols, -1);
            memcpy(ref + 2 * r * cols, w, sizeof(double) * 2 * cols);
        }
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) { v[2 * r] = ref[2 * (r * cols + c)]; v[2 * r + 1] = ref[2 * (r * cols + c) + 1]; }
            dft_ref(w, v, rows, -1);
            for (int r = 0; r < rows; r++) { ref[2 * (r * cols + c)] = w[2 * r]; ref[2 * (r * cols + c) + 1] = w[2 * r + 1]; }
        }
        memcpy(b, a, sizeof(double) * 2 * rows * cols);
        CHECK(grok_fft2(b, rows, cols, 0) == GROK_OK, "grok_fft2: %s", grok_last_error());
        err = track(rel_err(b, ref, 2 * rows * cols));
        CHECK(err <= 1e-13, "grok_fft2 (6,10): rel err %.3e vs rows-then-columns", err);
        grok_fft2(b, rows, cols, 1);
        err = track(rel_err(b, a, 2 * rows * cols));
        CHECK(err <= 1e-13, "grok_fft2 inverse: rel err %.3e", err);
        free(a); free(b); free(ref); free(v);
    }
    group_end("fft axis, fft2", 1e-13);
}

static void test_rfft_shift(void)
{
    const int sizes[] = {1, 2, 3, 4, 5, 8, 9, 64, 113, 128, 1009};
    group_begin();
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t], h = n / 2 + 1;
        double *x = rand_array((size_t)n), *c = (double *)malloc(sizeof(double) * 2 * n);
        double *X = (double *)malloc(sizeof(double) * 2 * h), *y = (double *)malloc(sizeof(double) * n), e1, e2, ef = 0;
        float *xf = (float *)malloc(sizeof(float) * n), *Xf = (float *)malloc(sizeof(float) * 2 * h);
        for (int j = 0; j < n; j++) { c[2 * j] = x[j]; c[2 * j + 1] = 0; xf[j] = (float)x[j]; }
        fft_vec(c, n, 0);
        CHECK(grok_rfft(X, x, n) == GROK_OK, "grok_rfft n = %d: %s", n, grok_last_error());
        e1 = track(rel_err(X, c, 2 * (size_t)h));
        CHECK(grok_irfft(y, X, n) == GROK_OK, "grok_irfft n = %d: %s", n, grok_last_error());
        e2 = track(rel_err(y, x, (size_t)n));
        CHECK(e1 <= 1e-14 && e2 <= 1e-13, "rfft n = %d: %.3e vs complex fft, irfft(rfft(x)) err %.3e", n, e1, e2);
        grok_rfft_f(Xf, xf, n);
        for (int k = 0; k < 2 * h; k++) ef = fmax(ef, fabs(Xf[k] - X[k]) / (1 + fabs(X[k])));
        CHECK(ef <= 1e-5, "grok_rfft_f n = %d: err %.3e vs double", n, ef);
        free(x); free(c); free(X); free(y); free(xf); free(Xf);
    }
    {   /* irfft ignores the imaginary parts numpy ignores */
        double X[8] = {1, 5, 2, 3, -1, 2, 0.5, 7}, y[6], z[6], X2[8];
        memcpy(X2, X, sizeof X);
        X2[1] = 0; X2[7] = 0;
        grok_irfft(y, X, 6);
        grok_irfft(z, X2, 6);
        CHECK(max_diff(y, z, 6) == 0, "irfft uses Im X[0] or Im X[n/2]");
    }
    {
        double a5[10], a6[12];
        const double s5[5] = {3, 4, 0, 1, 2}, i5[5] = {2, 3, 4, 0, 1}, s6[6] = {3, 4, 5, 0, 1, 2};
        int ok = 1;
        for (int j = 0; j < 5; j++) { a5[2 * j] = j; a5[2 * j + 1] = -j; }
        grok_fftshift(a5, 5);
        for (int j = 0; j < 5; j++) ok &= a5[2 * j] == s5[j] && a5[2 * j + 1] == -s5[j];
        for (int j = 0; j < 5; j++) { a5[2 * j] = j; a5[2 * j + 1] = -j; }
        grok_ifftshift(a5, 5);
        for (int j = 0; j < 5; j++) ok &= a5[2 * j] == i5[j] && a5[2 * j + 1] == -i5[j];
        for (int j = 0; j < 6; j++) { a6[2 * j] = j; a6[2 * j + 1] = -j; }
        grok_fftshift(a6, 6);
        for (int j = 0; j < 6; j++) ok &= a6[2 * j] == s6[j] && a6[2 * j + 1] == -s6[j];
        grok_ifftshift(a6, 6);
        for (int j = 0; j < 6; j++) ok &= a6[2 * j] == j && a6[2 * j + 1] == -j;
        CHECK(ok, "fftshift/ifftshift of n = 5, 6 differ from numpy");
    }
    {
        const double f5[5] = {0, 0.2, 0.4, -0.4, -0.2}, f6[6] = {0, 1 / 6.0, 2 / 6.0, -3 / 6.0, -2 / 6.0, -1 / 6.0};
        double e = 0;
        for (int k = 0; k < 5; k++) e = fmax(e, fabs(grok_fft_freq(k, 5) - f5[k]));
        for (int k = 0; k < 6; k++) e = fmax(e, fabs(grok_fft_freq(k, 6) - f6[k]));
        CHECK(e <= 1e-16 && grok_fft_freq(0, 1) == 0, "fft_freq differs from numpy by %.3e", e);
    }
    group_end("rfft, irfft, shifts", 1e-13);
}

/* ---------------------------------------------------------------- Fourier basis */

static void test_fourier(void)
{
    group_begin();
    for (int p = 1; p <= 130; p++) {
        double *F = (double *)malloc(sizeof(double) * p * p), e = 0;
        CHECK(grok_fourier_basis(F, p) == GROK_OK, "grok_fourier_basis p = %d: %s", p, grok_last_error());
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int x = 0; x < p; x++) s += F[i * p + x] * F[j * p + x];
                e = fmax(e, fabs(s - (i == j)));
            }
        track(e);
        CHECK(e <= 1e-12, "F F^T - I for p = %d: max %.3e", p, e);
        if (p == 7 || p == 8) { /* the rows are the functions the names say */
            const double tau = 6.283185307179586;
            double d = 0;
            for (int x = 0; x < p; x++) {
                d = fmax(d, fabs(F[x] - 1 / sqrt((double)p)));
                for (int k = 1; 2 * k < p; k++) {
                    d = fmax(d, fabs(F[(2 * k - 1) * p + x] - sqrt(2.0 / p) * cos(tau * k * x / p)));
                    d = fmax(d, fabs(F[2 * k * p + x] - sqrt(2.0 / p) * sin(tau * k * x / p)));
                }
                if (p == 8) d = fmax(d, fabs(F[7 * p + x] - (x % 2 ? -1 : 1) / sqrt(8.0)));
            }
            track(d);
            CHECK(d <= 1e-14, "basis rows for p = %d differ from cos/sin by %.3e", p, d);
        }
        free(F);
    }
    {
        const char *n5[5] = {"Const", "cos 1", "sin 1", "cos 2", "sin 2"};
        const char *n6[6] = {"Const", "cos 1", "sin 1", "cos 2", "sin 2", "cos 3"};
        char buf[32];
        int ok = 1;
        for (int k = 0; k < 5; k++) ok &= grok_fourier_basis_name(buf, sizeof buf, k, 5) == GROK_OK && !strcmp(buf, n5[k]);
        for (int k = 0; k < 6; k++) ok &= grok_fourier_basis_name(buf, sizeof buf, k, 6) == GROK_OK && !strcmp(buf, n6[k]);
        CHECK(ok, "basis names for p = 5, 6");
        CHECK(grok_fourier_basis_name(buf, 4, 1, 5) == GROK_ERR_ARG && !strcmp(buf, "cos"), "a short buffer must fail and hold a prefix");
    }
    {   /* fourier_1d and fourier_2d against F @ A and F A F^T by hand */
        const int ps[] = {1, 2, 5, 6, 11, 113}, inners[] = {1, 3, 70};
        for (size_t a = 0; a < 6; a++)
            for (size_t b = 0; b < 3; b++) {
                int p = ps[a];
                long in = inners[b], n2 = (long)p * p * in;
                double *F = (double *)malloc(sizeof(double) * p * p), *A = rand_array((size_t)n2);
                double *out = (double *)malloc(sizeof(double) * n2), *ref = (double *)malloc(sizeof(double) * n2);
                double *T = (double *)malloc(sizeof(double) * n2), e1, e2, ef = 0;
                float *Af = (float *)malloc(sizeof(float) * n2), *outf = (float *)malloc(sizeof(float) * n2);
                grok_fourier_basis(F, p);
                CHECK(grok_fourier_1d(out, A, p, in) == GROK_OK, "grok_fourier_1d: %s", grok_last_error());
                for (int i = 0; i < p; i++)
                    for (long c = 0; c < in; c++) {
                        double s = 0;
                        for (int x = 0; x < p; x++) s += F[i * p + x] * A[x * in + c];
                        ref[i * in + c] = s;
                    }
                e1 = track(rel_err(out, ref, (size_t)p * in));
                CHECK(e1 <= 1e-13, "fourier_1d p = %d inner = %ld: rel err %.3e", p, in, e1);
                if (p == 113 && in == 70) { /* the naive 2-D product would be too slow */
                    free(F); free(A); free(out); free(ref); free(T); free(Af); free(outf);
                    continue;
                }
                for (int x = 0; x < p; x++) /* T[x, j] = sum_y F[j, y] A[x, y] */
                    for (int j = 0; j < p; j++)
                        for (long c = 0; c < in; c++) {
                            double s = 0;
                            for (int y = 0; y < p; y++) s += F[j * p + y] * A[(x * p + y) * in + c];
                            T[(x * p + j) * in + c] = s;
                        }
                for (int i = 0; i < p; i++)
                    for (int j = 0; j < p; j++)
                        for (long c = 0; c < in; c++) {
                            double s = 0;
                            for (int x = 0; x < p; x++) s += F[i * p + x] * T[(x * p + j) * in + c];
                            ref[(i * p + j) * in + c] = s;
                        }
                CHECK(grok_fourier_2d(out, A, p, in) == GROK_OK, "grok_fourier_2d: %s", grok_last_error());
                e2 = track(rel_err(out, ref, (size_t)n2));
                CHECK(e2 <= 1e-13, "fourier_2d p = %d inner = %ld: rel err %.3e", p, in, e2);
                for (long i = 0; i < n2; i++) Af[i] = (float)A[i];
                CHECK(grok_fourier_2d_f(outf, Af, p, in) == GROK_OK, "grok_fourier_2d_f: %s", grok_last_error());
                for (long i = 0; i < n2; i++) ef = fmax(ef, fabs(outf[i] - ref[i]));
                CHECK(ef <= 1e-5 * max_abs(ref, (size_t)n2), "fourier_2d_f p = %d inner = %ld: err %.3e", p, in, ef);
                free(F); free(A); free(out); free(ref); free(T); free(Af); free(outf);
            }
    }
    group_end("fourier basis", 1e-12);
}

/* -------------------------------------------------------------------- SVD */

/* Checks A = U diag(S) Vt, orthonormality, order and the sign convention; returns the worst. */
static void check_svd(const double *A, int m, int n, int full, const char *what)
{
    int k = m < n ? m : n, uc = full ? m : k, vr = full ? n : k, st;
    double *U = (double *)malloc(sizeof(double) * m * uc), *S = (double *)malloc(sizeof(double) * k);
    double *Vt = (double *)malloc(sizeof(double) * vr * n), *S2 = (double *)malloc(sizeof(double) * k);
    double *U2 = (double *)malloc(sizeof(double) * m * uc), *V2 = (double *)malloc(sizeof(double) * vr * n);
    double na = 0, nr = 0, eu = 0, ev = 0, rec, same;
    int order = 1, sign = 1;
    st = grok_svd(U, S, Vt, A, m, n, full);
    CHECK(st == GROK_OK, "grok_svd %s: %s", what, grok_last_error());
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int t = 0; t < k; t++) s += U[i * uc + t] * S[t] * Vt[t * n + j];
            na += A[i * n + j] * A[i * n + j];
            nr += (A[i * n + j] - s) * (A[i * n + j] - s);
        }
    rec = sqrt(nr) / (na > 0 ? sqrt(na) : 1);
    for (int a = 0; a < uc; a++)
        for (int b = 0; b < uc; b++) {
            double s = 0;
            for (int i = 0; i < m; i++) s += U[i * uc + a] * U[i * uc + b];
            eu = fmax(eu, fabs(s - (a == b)));
        }
    for (int a = 0; a < vr; a++)
        for (int b = 0; b < vr; b++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += Vt[a * n + j] * Vt[b * n + j];
            ev = fmax(ev, fabs(s - (a == b)));
        }
    for (int t = 0; t < k; t++) order &= S[t] >= 0 && (t == 0 || S[t] <= S[t - 1]);
    for (int t = 0; t < uc; t++) {
        int b = 0;
        for (int i = 1; i < m; i++)
            if (fabs(U[i * uc + t]) > fabs(U[b * uc + t])) b = i;
        sign &= U[b * uc + t] > 0;
    }
    track(fmax(rec, fmax(eu, ev)));
    CHECK(rec <= 1e-12 && eu <= 1e-12 && ev <= 1e-12 && order && sign,
          "svd %s (%d,%d) full=%d: ||A-USV||/||A|| %.3e, ||U'U-I|| %.3e, ||VV'-I|| %.3e, order %d, sign %d",
          what, m, n, full, rec, eu, ev, order, sign);
    /* leaving out U or Vt must not change what is returned */
    grok_svd(NULL, S2, NULL, A, m, n, full);
    same = max_diff(S, S2, (size_t)k);
    grok_svd(U2, NULL, NULL, A, m, n, full);
    same = fmax(same, max_diff(U, U2, (size_t)m * uc));
    grok_svd(NULL, NULL, V2, A, m, n, full);
    same = fmax(same, max_diff(Vt, V2, (size_t)vr * n));
    CHECK(same <= 1e-13, "svd %s: results with U or Vt left out differ by %.3e", what, same);
    free(U); free(S); free(Vt); free(S2); free(U2); free(V2);
}

/* Q (n, n) orthogonal: a product of n random Householder reflections. */
static void rand_orthogonal(double *Q, int n)
{
    double *v = (double *)malloc(sizeof(double) * n);
    for (int i = 0; i < n * n; i++) Q[i] = i % (n + 1) == 0;
    for (int r = 0; r < n; r++) {
        double nv = 0;
        for (int i = 0; i < n; i++) { v[i] = urand(); nv += v[i] * v[i]; }
        for (int j = 0; j < n; j++) { /* Q = (I - 2 v v^T / v^T v) Q */
            double s = 0;
            for (int i = 0; i < n; i++) s += v[i] * Q[i * n + j];
            for (int i = 0; i < n; i++) Q[i * n + j] -= 2 * s / nv * v[i];
        }
    }
    free(v);
}

/* Seed 003's whole-group analysis: the basis against grok_fourier_basis (odd C_n, where they
   agree), its rows and names for even C_n and D_n, the norms against the subgroup analysis,
   Parseval for the Fourier logits, and the notebook's -1 for a neuron that never fires. */
static void test_group_fourier(void)
{
    grok_group g;
    grok_net_config cfg;
    grok_net net;
    double F[31 * 31], P[31 * 31], na[31], nb[31], nu[31], ra[31], rb[31], ru[31], *msq, *fl;
    int R, i, j, x, freq[16];
    double frac[16], tot, sum;
    float *L;
    char name[16];
    group_begin();
    /* C_31: the notebook's basis is grok_fourier_basis */
    CHECK(grok_group_init(&g, GROK_GROUP_CYCLIC, 31) == GROK_OK, "C_31");
    CHECK(grok_group_fourier_basis(NULL, &R, &g) == GROK_OK && R == 31, "C_31: 31 rows (%d)", R);
    CHECK(grok_group_fourier_basis(F, &R, &g) == GROK_OK && grok_fourier_basis(P, 31) == GROK_OK, "bases");
    for (i = 0; i < 31 * 31; i++) track(fabs(F[i] - P[i]));
    CHECK(worst < 1e-14, "C_31's basis is grok_fourier_basis (%.3e)", worst);
    CHECK(grok_group_fourier_name(name, sizeof name, 30, &g) == GROK_OK && !strcmp(name, "sin 15"), "row 30: %s", name);
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = GROK_NET_MLP; cfg.n = 31; cfg.embed_dim = 6; cfg.hidden_dim = 16; cfg.seed = 3;
    CHECK(grok_net_init(&net, &cfg, 64) == GROK_OK, "net");
    CHECK(grok_net_group_fourier_norms(na, nb, nu, &net, &g) == GROK_OK && grok_net_fourier_norms(ra, rb, ru, &net, 31) == GROK_OK,
          "norms");
    for (i = 0; i < 31; i++) track(fabs(na[i] - ra[i]) + fabs(nb[i] - rb[i]) + fabs(nu[i] - ru[i]));
    CHECK(worst < 1e-12, "C_31: whole-group norms = the subgroup's (%.3e)", worst);
    /* Parseval: the basis is orthonormal and complete, so sum(mean_sq) = sum(logits^2) / n */
    msq = (double *)malloc(sizeof(double) * 31 * 31);
    fl = (double *)malloc(sizeof(double) * 31 * 31 * 31);
    L = (float *)malloc(sizeof(float) * 31 * 31 * 31);
    {
        int *tok = (int *)malloc(sizeof(int) * 3 * 31 * 31);
        for (i = 0; i < 31 * 31; i++) { tok[3 * i] = i / 31; tok[3 * i + 1] = i % 31; tok[3 * i + 2] = 31; }
        for (i = 0; i < 31 * 31; i += 64)
            CHECK(grok_net_forward(&net, tok + 3 * i, NULL, 31 * 31 - i < 64 ? 31 * 31 - i : 64, NULL, NULL, L + 31 * i) == GROK_OK, "fwd");
        free(tok);
    }
    CHECK(grok_net_group_fourier_logits(msq, fl, &net, &g) == GROK_OK, "Fourier logits");
    for (tot = 0, i = 0; i < 31 * 31 * 31; i++) tot += (double)L[i] * L[i];
    for (sum = 0, i = 0; i < 31 * 31; i++) sum += msq[i];
    CHECK(fabs(sum - tot / 31) < 1e-9 * tot, "Parseval: %.12g vs %.12g", sum, tot / 31);
    for (x = 0; x < 31; x++) { /* fl[f, h, z] = sum F[f,a] F[h,b] L[a,b,z] at one point */
        double s = 0;
        for (i = 0; i < 31; i++)
            for (j = 0; j < 31; j++) s += F[3 * 31 + i] * F[8 * 31 + j] * L[(i * 31 + j) * 31 + x];
        track(fabs(s - fl[(3 * 31 + 8) * 31 + x]));
    }
    CHECK(worst < 1e-9, "fft2d of the logits, element by element");
    /* a neuron that never fires: 0/0 never beats the notebook's -1 */
    for (i = 0; i < 2 * cfg.embed_dim; i++) net.weights[grok_net_param(&net, "W")->offset + (size_t)i * 16 + 5] = 0.0f;
    CHECK(grok_net_group_neuron_freqs(freq, frac, NULL, NULL, &net, &g) == GROK_OK, "neuron freqs");
    CHECK(freq[5] == -1 && frac[5] == -1, "dead neuron: freq %d frac %g", freq[5], frac[5]);
    for (i = 0, j = 1; i < 16; i++)
        if (i != 5) j &= freq[i] >= 1 && freq[i] <= 14 && frac[i] > 0 && frac[i] <= 1; /* range(1, 31//2) */
    CHECK(j, "live neurons: a frequency in 1..14 and 0 < frac <= 1");
    free(msq); free(fl); free(L);
    grok_net_free(&net);
    grok_group_free(&g);
    /* C_8: 9 rows, the last (sin 4 = sin(pi x)) zero; D_5: 9 orthonormal rows over 10 elements */
    CHECK(grok_group_init(&g, GROK_GROUP_CYCLIC, 8) == GROK_OK && grok_group_fourier_basis(F, &R, &g) == GROK_OK && R == 9,
          "C_8: 9 rows (%d)", R);
    for (x = 0, sum = 0; x < 8; x++) sum += fabs(F[8 * 8 + x]);
    CHECK(sum == 0 && grok_group_fourier_name(name, sizeof name, 8, &g) == GROK_OK && !strcmp(name, "sin 4"), "C_8: sin 4 is zero");
    CHECK(grok_group_fourier_name(name, sizeof name, 9, &g) == GROK_ERR_ARG, "row 9 of 9 refused");
    CHECK(grok_group_fourier_name(name, 4, 1, &g) == GROK_ERR_ARG, "a small buffer refused");
    grok_group_free(&g);
    CHECK(grok_group_init(&g, GROK_GROUP_DIHEDRAL, 5) == GROK_OK && grok_group_fourier_basis(F, &R, &g) == GROK_OK && R == 9,
          "D_5: 9 rows (%d)", R);
    for (i = 0; i < 9; i++)
        for (j = 0; j < 9; j++) {
            double s = 0;
            for (x = 0; x < 10; x++) s += F[i * 10 + x] * F[j * 10 + x];
            track(fabs(s - (i == j)));
        }
    CHECK(worst < 1e-14, "D_5's rows are orthonormal");
    CHECK(grok_group_fourier_name(name, sizeof name, 7, &g) == GROK_OK && !strcmp(name, "cos 4"), "row 7: %s", name);
    cfg.n = 12;
    CHECK(grok_net_init(&net, &cfg, 8) == GROK_OK, "net of order 12");
    CHECK(grok_net_group_fourier_norms(na, NULL, NULL, &net, &g) == GROK_ERR_ARG, "a net of another order refused");
    grok_net_free(&net);
    grok_group_free(&g);
    CHECK(grok_group_init(&g, GROK_GROUP_SYMMETRIC, 3) == GROK_OK && grok_group_fourier_basis(NULL, &R, &g) == GROK_ERR_ARG,
          "S_3 refused (the notebook has no S_n basis)");
    grok_group_free(&g);
    group_end("group fourier (seed 003)", 1e-9);
}

/* Seed 003 cells 57, 60 and 61 on a random net of D_5 (10 elements, R = 9 != order): centring
   changes only the (Const, Const) entry of the neurons' spectrum (the other rows are orthogonal
   to Const), the cluster norms of W_U add up to its norms, the logit components are the Fourier
   logits of cell 59 along cos / sin w, and the argument errors. */
static void test_group_fourier_cells(void)
{
    enum { N = 10, R = 9, M = 16 };
    grok_group g;
    grok_net_config cfg;
    grok_net net;
    double F[R * N], *X, *Xc, *fl, *ul, msq[R * R], nu[R], wu[3 * R], cc[2 * R * R], cs[2 * R * R], frac[M], sum, err;
    int Rg = 0, i, j, r, k, freq[M], keys[3] = {0, 0, 99}, nk = 0, w[2] = {1, 4}, bad[1];
    group_begin();
    CHECK(grok_group_init(&g, GROK_GROUP_DIHEDRAL, 5) == GROK_OK && grok_group_fourier_basis(F, &Rg, &g) == GROK_OK && Rg == R,
          "D_5: %d rows", Rg);
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = GROK_NET_MLP; cfg.n = N; cfg.embed_dim = 6; cfg.hidden_dim = M; cfg.seed = 5;
    CHECK(grok_net_init(&net, &cfg, 32) == GROK_OK, "net");
    X = (double *)malloc(sizeof(double) * R * R * M);
    Xc = (double *)malloc(sizeof(double) * R * R * M);
    fl = (double *)malloc(sizeof(double) * R * R * N);
    ul = (double *)malloc(sizeof(double) * N * N * R);
    /* cell 57 */
    CHECK(grok_net_group_neuron_freqs(freq, frac, X, NULL, &net, &g) == GROK_OK, "neuron freqs");
    CHECK(grok_net_group_fourier_acts(msq, Xc, &net, &g) == GROK_OK, "centred Fourier acts");
    for (sum = 0, i = 0; i < R * R * M; i++) sum = fmax(sum, fabs(X[i]));
    for (err = 0, r = 0; r < R * R; r++) {
        double s = 0;
        for (j = 0; j < M; j++) {
            err = fmax(err, fabs(Xc[r * M + j] - (r ? X[r * M + j] : 0)) / sum);
            s += Xc[r * M + j] * Xc[r * M + j];
        }
        err = fmax(err, fabs(msq[r] - s / M) / (sum * sum));
    }
    CHECK(track(err) < 1e-12, "centring moves only (Const, Const), to 0 (%.3e)", err);
    CHECK(grok_net_group_fourier_acts(NULL, NULL, &net, &g) == GROK_OK, "both outputs NULL");
    /* cell 60: clusters holding every neuron, one more without any */
    for (i = 0; i < M; i++) {
        for (j = 0; j < nk && keys[j] != freq[i]; j++) {}
        if (j == nk && nk < 2) keys[nk++] = freq[i];
        else if (j == nk) freq[i] = keys[1]; /* at most two clusters, so the third stays empty */
    }
    CHECK(nk >= 1 && grok_net_group_wu_cluster_norms(wu, &net, &g, freq, keys, 3) == GROK_OK &&
              grok_net_group_fourier_norms(NULL, NULL, nu, &net, &g) == GROK_OK, "cluster norms");
    for (err = 0, k = 0; k < R; k++) err = fmax(err, fabs(wu[k] + wu[R + k] - nu[k]) / nu[0] + fabs(wu[2 * R + k]));
    CHECK(track(err) < 1e-12, "the clusters add up to W_U's norms, the empty one is 0 (%.3e)", err);
    CHECK(grok_net_group_wu_cluster_norms(wu, &net, &g, freq, keys, 0) == GROK_ERR_ARG &&
              strstr(grok_last_error(), "grok_net_group_wu_cluster_norms"), "nc = 0 refused");
    CHECK(grok_net_group_wu_cluster_norms(wu, &net, &g, NULL, keys, 1) == GROK_ERR_ARG, "NULL neuron_freq refused");
    /* cell 61: fft2d(fourier_logits[:, :, 2w-1]) = sum_z fft2d(logits)[:, :, z] F[2w-1, z] */
    CHECK(grok_net_group_fourier_logits(NULL, fl, &net, &g) == GROK_OK, "Fourier logits");
    CHECK(grok_net_group_logit_components(cc, cs, ul, &net, &g, w, 2) == GROK_OK, "logit components");
    for (sum = 0, i = 0; i < R * R * N; i++) sum = fmax(sum, fabs(fl[i]));
    for (err = 0, k = 0; k < 2; k++)
        for (r = 0; r < R * R; r++) {
            double c = 0, s = 0;
            for (i = 0; i < N; i++) {
                c += fl[r * N + i] * F[(2 * w[k] - 1) * N + i];
                s += fl[r * N + i] * F[2 * w[k] * N + i];
            }
            err = fmax(err, (fabs(c - cc[k * R * R + r]) + fabs(s - cs[k * R * R + r])) / sum);
        }
    CHECK(track(err) < 1e-6, "the components along cos / sin 1 and 4 (%.3e; cell 59's logits are float32)", err);
    CHECK(grok_net_group_logit_components(NULL, NULL, ul, &net, &g, NULL, 0) == GROK_OK, "fourier_logits alone");
    bad[0] = 0;
    CHECK(grok_net_group_logit_components(cc, NULL, NULL, &net, &g, bad, 1) == GROK_ERR_ARG &&
              strstr(grok_last_error(), "grok_net_group_logit_components"), "frequency 0 refused");
    bad[0] = -1;
    CHECK(grok_net_group_logit_components(cc, NULL, NULL, &net, &g, bad, 1) == GROK_ERR_ARG, "frequency -1 refused");
    bad[0] = 5; /* 2 * 5 = 10 > R - 1 */
    CHECK(grok_net_group_logit_components(cc, NULL, NULL, &net, &g, bad, 1) == GROK_ERR_ARG, "frequency 5 refused");
    CHECK(grok_net_group_logit_components(cc, cs, NULL, &net, &g, w, 0) == GROK_ERR_ARG, "no frequency refused");
    free(X); free(Xc); free(fl); free(ul);
    grok_net_free(&net);
    cfg.n = 12;
    CHECK(grok_net_init(&net, &cfg, 8) == GROK_OK, "net of order 12");
    CHECK(grok_net_group_fourier_acts(msq, NULL, &net, &g) == GROK_ERR_ARG &&
              grok_net_group_wu_cluster_norms(wu, &net, &g, freq, keys, 1) == GROK_ERR_ARG &&
              grok_net_group_logit_components(cc, NULL, NULL, &net, &g, w, 1) == GROK_ERR_ARG,
          "a net of another order refused");
    grok_net_free(&net);
    grok_group_free(&g);
    group_end("group fourier cells 57-61", 1e-6);
}

static void test_svd(void)
{
    const int shapes[][2] = {{40, 30}, {30, 40}, {200, 17}, {17, 200}, {113, 128}, {128, 113}, {1, 1}, {1, 7}, {7, 1}, {2, 2}};
    group_begin();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1];
        double *A = rand_array((size_t)m * n);
        check_svd(A, m, n, 0, "random");
        if (m * n < 20000) check_svd(A, m, n, 1, "random");
        free(A);
    }
    {   /* rank 3 (40, 30), its transpose, a zero matrix, and repeated columns */
        double *A = (double *)calloc(40 * 30, sizeof(double)), *B = rand_array(40 * 3), *C = rand_array(3 * 30);
        double *At = (double *)malloc(sizeof(double) * 40 * 30);
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 30; j++)
                for (int t = 0; t < 3; t++) A[i * 30 + j] += B[i * 3 + t] * C[t * 30 + j];
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 30; j++) At[j * 40 + i] = A[i * 30 + j];
        check_svd(A, 40, 30, 0, "rank 3");
        check_svd(A, 40, 30, 1, "rank 3");
        check_svd(At, 30, 40, 1, "rank 3 wide");
        memset(A, 0, sizeof(double) * 40 * 30);
        check_svd(A, 40, 30, 0, "zero");
        check_svd(A, 30, 40, 1, "zero");
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 30; j++) A[i * 30 + j] = B[i * 3 + j % 3];
        check_svd(A, 40, 30, 1, "repeated columns");
        free(A); free(B); free(C); free(At);
    }
    {   /* entries near the ends of the double range give the same factors, scaled */
        const double scale[2] = {1e-300, 1e300};
        double *A = rand_array(40 * 30), *B = (double *)malloc(sizeof(double) * 40 * 30);
        double S[30], Sb[30], U[40 * 30], Ub[40 * 30], e = 0;
        grok_svd(U, S, NULL, A, 40, 30, 0);
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < 40 * 30; i++) B[i] = A[i] * scale[t];
            CHECK(grok_svd(Ub, Sb, NULL, B, 40, 30, 0) == GROK_OK, "svd of A * %g: %s", scale[t], grok_last_error());
            for (int i = 0; i < 30; i++) e = fmax(e, fabs(Sb[i] / scale[t] - S[i]) / S[0]);
            e = fmax(e, max_diff(U, Ub, 40 * 30));
        }
        track(e);
        CHECK(e <= 1e-13, "svd of A * 1e-300 and A * 1e300: factors differ from A's by %.3e", e);
        free(A); free(B);
    }
    for (int z = 0; z < 6; z++) { /* upper bidiagonal with a zero on the diagonal: the chases */
        double A[8 * 6];
        memset(A, 0, sizeof A);
        for (int i = 0; i < 6; i++) {
            A[i * 6 + i] = i == z ? 0 : i + 1;
            if (i < 5) A[i * 6 + i + 1] = 1;
        }
        check_svd(A, 6, 6, 0, "bidiagonal, zero d");
        check_svd(A, 8, 6, 1, "bidiagonal, zero d, tall");
    }
    {   /* known singular values, spread over 1e-9..1e3 */
        const int m = 25, n = 12;
        double *P = (double *)malloc(sizeof(double) * m * m), *Q = (double *)malloc(sizeof(double) * n * n);
        double *A = (double *)calloc(m * n, sizeof(double)), sv[12], S[12], e = 0;
        rand_orthogonal(P, m);
        rand_orthogonal(Q, n);
        for (int t = 0; t < n; t++) sv[t] = pow(10.0, 3 - t);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < n; t++) A[i * n + j] += P[i * m + t] * sv[t] * Q[j * n + t];
        grok_svd(NULL, S, NULL, A, m, n, 0);
        for (int t = 0; t < n; t++) e = fmax(e, fabs(S[t] - sv[t]) / sv[0]);
        track(e);
        CHECK(e <= 1e-13, "known singular values: max |S - s| / s_max = %.3e", e);
        check_svd(A, m, n, 1, "graded");
        free(P); free(Q); free(A);
    }
    group_end("svd", 1e-12);
}

/* ------------------------------------------------------------ least squares */

static void test_lstsq(void)
{
    const int n = 60, k = 5;
    double *X = rand_array(n * k), *y = (double *)malloc(sizeof(double) * n), c[5], coef[5], r2, e;
    int st;
    group_begin();
    for (int j = 0; j < k; j++) c[j] = j - 2.5;
    for (int i = 0; i < n; i++) {
        y[i] = 0;
        for (int j = 0; j < k; j++) y[i] += X[i * k + j] * c[j];
    }
    st = grok_lstsq(coef, &r2, X, y, n, k);
    e = track(max_diff(coef, c, k));
    CHECK(st == GROK_OK && e <= 1e-10 && fabs(r2 - 1) <= 1e-12, "exact lstsq: status %d, coef err %.3e, r2 - 1 = %.3e", st, e, r2 - 1);
    {   /* noisy: against the normal equations X^T X c = X^T y solved by Gaussian elimination */
        double G[5][6], cn[5], ss_res = 0, ss_tot = 0, mean = 0, r2n;
        for (int i = 0; i < n; i++) y[i] += 0.5 * urand();
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                G[a][b] = 0;
                for (int i = 0; i < n; i++) G[a][b] += X[i * k + a] * X[i * k + b];
            }
            G[a][k] = 0;
            for (int i = 0; i < n; i++) G[a][k] += X[i * k + a] * y[i];
        }
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                double f = G[b][a] / G[a][a];
                for (int t = a; t <= k; t++) G[b][t] -= f * G[a][t];
            }
        for (int a = k - 1; a >= 0; a--) {
            double s = G[a][k];
            for (int t = a + 1; t < k; t++) s -= G[a][t] * cn[t];
            cn[a] = s / G[a][a];
        }
        for (int i = 0; i < n; i++) mean += y[i] / n;
        for (int i = 0; i < n; i++) {
            double r = y[i];
            for (int j = 0; j < k; j++) r -= X[i * k + j] * cn[j];
            ss_res += r * r;
            ss_tot += (y[i] - mean) * (y[i] - mean);
        }
        r2n = 1 - ss_res / ss_tot;
        st = grok_lstsq(coef, &r2, X, y, n, k);
        e = track(fmax(max_diff(coef, cn, k), fabs(r2 - r2n)));
        CHECK(st == GROK_OK && e <= 1e-10 && r2 > 0 && r2 < 1, "noisy lstsq: status %d, err %.3e vs normal equations, r2 %.6f (%.6f)",
              st, e, r2, r2n);
    }
    {   /* constant y with a constant column: SS_tot = 0 and SS_res = 0 */
        for (int i = 0; i < n; i++) { X[i * k] = 1; y[i] = 3; }
        st = grok_lstsq(coef, &r2, X, y, n, k);
        CHECK(st == GROK_OK && r2 == 1 && fabs(coef[0] - 3) <= 1e-12, "constant y: status %d, r2 %g, coef[0] %g", st, r2, coef[0]);
    }
    for (int i = 0; i < n; i++) X[i * k + 3] = 2 * X[i * k + 1] - X[i * k + 2]; /* column 3 dependent */
    st = grok_lstsq(coef, &r2, X, y, n, k);
    CHECK(st == GROK_ERR_NUMERIC && strstr(grok_last_error(), "rank deficient"), "dependent column: status %d, '%s'", st, grok_last_error());
    for (int i = 0; i < n; i++) X[i * k + 3] = 0;
    st = grok_lstsq(coef, NULL, X, y, n, k);
    CHECK(st == GROK_ERR_NUMERIC, "zero column: status %d", st);
    free(X);
    free(y);
    group_end("lstsq", 1e-10);
}

/* ------------------------------------------------------------ error paths */

#define CHECK_ARG(call, fn)                                                                           \
    do {                                                                                              \
        int st_ = (call);                                                                             \
        CHECK(st_ == GROK_ERR_ARG && strstr(grok_last_error(), fn), "%s returned %d, message '%s'", #call, st_, \
              grok_last_error());                                                                     \
    } while (0)

static void test_errors(void)
{
    grok_fft_plan *pl = NULL;
    double d[64], o[64];
    float f[16];
    int shape[9] = {4, 4, 4, 4, 4, 4, 4, 4, 4}, bad[2] = {4, 0};
    char buf[8];
    int before = n_pass + n_fail;
    memset(d, 0, sizeof d);
    CHECK_ARG(grok_fft_plan_create(NULL, 8), "grok_fft_plan_create");
    CHECK_ARG(grok_fft_plan_create(&pl, 0), "grok_fft_plan_create");
    CHECK(pl == NULL, "a failed create must leave *plan NULL");
    CHECK_ARG(grok_fft_plan_create(&pl, -5), "grok_fft_plan_create");
    grok_fft_plan_create(&pl, 8);
    CHECK_ARG(grok_fft_execute(NULL, d, 1, 1, 0, 0), "grok_fft_execute");
    CHECK_ARG(grok_fft_execute(pl, NULL, 1, 1, 0, 0), "grok_fft_execute");
    CHECK_ARG(grok_fft_execute(pl, d, 0, 1, 0, 0), "grok_fft_execute");
    CHECK_ARG(grok_fft_execute(pl, d, 1, 0, 8, 0), "grok_fft_execute");
    CHECK_ARG(grok_fft_execute(pl, d, 1, 2, 0, 0), "grok_fft_execute");
    CHECK(grok_fft_plan_size(pl) == 8 && grok_fft_plan_size(NULL) == 0, "grok_fft_plan_size");
    grok_fft_plan_free(pl);
    grok_fft_plan_free(NULL);
    CHECK_ARG(grok_fft_axis(NULL, 1, shape, 0, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 0, shape, 0, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 9, shape, 0, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 2, shape, 2, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 2, shape, -1, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 2, bad, 0, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis(d, 1, NULL, 0, 0), "grok_fft_axis");
    CHECK_ARG(grok_fft_axis_f(NULL, 1, shape, 0, 0), "grok_fft_axis_f");
    CHECK_ARG(grok_fft2(d, 0, 4, 0), "grok_fft2");
    CHECK_ARG(grok_fft2(NULL, 4, 4, 0), "grok_fft2");
    CHECK_ARG(grok_rfft(NULL, d, 4), "grok_rfft");
    CHECK_ARG(grok_rfft(o, d, 0), "grok_rfft");
    CHECK_ARG(grok_rfft_f(f, NULL, 4), "grok_rfft_f");
    CHECK_ARG(grok_irfft(o, d, -1), "grok_irfft");
    CHECK_ARG(grok_fftshift(NULL, 4), "grok_fftshift");
    CHECK_ARG(grok_ifftshift(d, 0), "grok_ifftshift");
    CHECK(grok_fft_freq(5, 5) != grok_fft_freq(5, 5) && strstr(grok_last_error(), "grok_fft_freq"), "fft_freq(5, 5) must be NAN");
    CHECK(grok_fft_freq(0, 0) != grok_fft_freq(0, 0), "fft_freq(0, 0) must be NAN");
    CHECK_ARG(grok_fourier_basis(NULL, 5), "grok_fourier_basis");
    CHECK_ARG(grok_fourier_basis(d, 0), "grok_fourier_basis");
    CHECK_ARG(grok_fourier_basis_name(NULL, 8, 0, 5), "grok_fourier_basis_name");
    CHECK_ARG(grok_fourier_basis_name(buf, sizeof buf, 5, 5), "grok_fourier_basis_name");
    CHECK_ARG(grok_fourier_1d(d, d, 4, 2), "grok_fourier_1d");
    CHECK_ARG(grok_fourier_1d(d + 4, d, 4, 2), "grok_fourier_1d");
    CHECK_ARG(grok_fourier_1d(o, NULL, 4, 2), "grok_fourier_1d");
    CHECK_ARG(grok_fourier_1d(o, d, 0, 2), "grok_fourier_1d");
    CHECK_ARG(grok_fourier_1d(o, d, 4, 0), "grok_fourier_1d");
    CHECK_ARG(grok_fourier_2d(d, d, 4, 1), "grok_fourier_2d");
    CHECK_ARG(grok_fourier_2d(d + 15, d, 4, 1), "grok_fourier_2d");
    CHECK_ARG(grok_fourier_2d(o, d, -1, 1), "grok_fourier_2d");
    CHECK_ARG(grok_fourier_2d_f(f, f, 2, 2), "grok_fourier_2d_f");
    CHECK_ARG(grok_fourier_2d_f(NULL, f, 2, 2), "grok_fourier_2d_f");
    CHECK_ARG(grok_svd(o, o, o, NULL, 2, 2, 0), "grok_svd");
    CHECK_ARG(grok_svd(o, o, o, d, 0, 2, 0), "grok_svd");
    CHECK_ARG(grok_svd(o, o, o, d, 2, -2, 0), "grok_svd");
    CHECK_ARG(grok_lstsq(NULL, NULL, d, d, 4, 2), "grok_lstsq");
    CHECK_ARG(grok_lstsq(o, NULL, d, NULL, 4, 2), "grok_lstsq");
    CHECK_ARG(grok_lstsq(o, NULL, d, d, 4, 0), "grok_lstsq");
    CHECK_ARG(grok_lstsq(o, NULL, d, d, 2, 4), "grok_lstsq");
    d[3] = NAN;
    CHECK(grok_svd(NULL, o, NULL, d, 4, 4, 0) == GROK_ERR_NUMERIC, "svd of a NaN must fail");
    printf("%-28s %d checks\n", "error paths", n_pass + n_fail - before);
}

/* ---------------------------------------------------------------- the figures' functions */

static void test_figures(void)
{
    int before = n_pass + n_fail;
    {   /* fftshift2 of a (2, 3) and a (3, 4) array against numpy's np.fft.fftshift / ifftshift */
        const double s23[6] = {5, 3, 4, 2, 0, 1}, s34[12] = {10, 11, 8, 9, 2, 3, 0, 1, 6, 7, 4, 5};
        const double i34[12] = {6, 7, 4, 5, 10, 11, 8, 9, 2, 3, 0, 1};
        double a[24];
        int ok = 1;
        for (int j = 0; j < 6; j++) { a[2 * j] = j; a[2 * j + 1] = -j; }
        CHECK(grok_fftshift2(a, 2, 3) == GROK_OK, "fftshift2: %s", grok_last_error());
        for (int j = 0; j < 6; j++) ok &= a[2 * j] == s23[j] && a[2 * j + 1] == -s23[j];
        for (int j = 0; j < 12; j++) { a[2 * j] = j; a[2 * j + 1] = -j; }
        grok_fftshift2(a, 3, 4);
        for (int j = 0; j < 12; j++) ok &= a[2 * j] == s34[j];
        grok_ifftshift2(a, 3, 4);
        for (int j = 0; j < 12; j++) ok &= a[2 * j] == j && a[2 * j + 1] == -j;
        for (int j = 0; j < 12; j++) { a[2 * j] = j; a[2 * j + 1] = -j; }
        grok_ifftshift2(a, 3, 4);
        for (int j = 0; j < 12; j++) ok &= a[2 * j] == i34[j];
        CHECK(ok, "fftshift2 / ifftshift2 differ from numpy");
    }
    {   /* neuron_freq_norm: neuron 0 = cos(w2 a) cos(w2 b) is all frequency 2, neuron 1 a mix of 1 and 3 */
        const int p = 7, M = 3, nf = 3;
        float acts[49 * 3];
        double out[9], frac[3];
        int freq[3];
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++) {
                double w = 2 * 3.14159265358979323846 / p;
                acts[(a * p + b) * M + 0] = (float)(cos(2 * w * a) * cos(2 * w * b));
                acts[(a * p + b) * M + 1] = (float)(cos(w * a) + 2 * sin(3 * w * b));
                acts[(a * p + b) * M + 2] = 1.5f;
            }
        CHECK(grok_neuron_freq_norm(out, acts, p, M) == GROK_OK, "neuron_freq_norm: %s", grok_last_error());
        CHECK(fabs(out[1 * M + 0] - 1) < 1e-6 && out[0 * M + 0] < 1e-6 && out[2 * M + 0] < 1e-6, "one frequency: %g %g %g",
              out[0], out[M], out[2 * M]);
        CHECK(fabs(out[0 * M + 1] - 0.2) < 1e-6 && fabs(out[2 * M + 1] - 0.8) < 1e-6, "1 : 4 in squares: %g %g", out[1],
              out[2 * M + 1]);
        CHECK(out[2] == 0 && out[M + 2] == 0 && out[2 * M + 2] == 0, "a constant neuron gets 0");
        grok_neuron_freqs(freq, frac, NULL, acts, p, M, 0);
        for (int j = 0; j < M; j++) {
            double mx = 0;
            for (int k = 0; k < nf; k++) mx = fmax(mx, out[k * M + j]);
            CHECK(fabs(mx - frac[j]) < 1e-12, "neuron %d: max over k %g vs grok_neuron_freqs' frac %g", j, mx, frac[j]);
        }
    }
    {   /* a random modadd model: the cluster norms add up to grok_wlogit_fourier_norms^2; the logit
           components are F (acts @ (W_logit F^T)[:, col]) F^T */
        grok_config cfg = grok_config_modadd(7);
        grok_model m;
        const int p = 7, N = 49;
        int M, freq[64], frac_ok, clusters[2] = {-1, 1}, kf[2] = {3, 1};
        float *acts;
        double *cn, nL[7], *Wf, *g, *ref, *cc, *sc, err = 0, e2 = 0;
        cfg.d_mlp = 16;
        M = cfg.d_mlp;
        CHECK(grok_model_init(&m, &cfg, N) == GROK_OK, "model: %s", grok_last_error());
        acts = (float *)malloc(sizeof(float) * N * M);
        cn = (double *)malloc(sizeof(double) * 2 * p); Wf = (double *)malloc(sizeof(double) * M * p);
        g = (double *)malloc(sizeof(double) * N); ref = (double *)malloc(sizeof(double) * N);
        cc = (double *)malloc(sizeof(double) * 2 * N); sc = (double *)malloc(sizeof(double) * 2 * N);
        CHECK(grok_modadd_run(NULL, acts, NULL, NULL, NULL, &m) == GROK_OK, "modadd_run: %s", grok_last_error());
        for (int i = 0; i < M; i++) freq[i] = i % 3 == 0 ? 1 : -1;
        CHECK(grok_wlogit_cluster_norms(cn, &m, freq, clusters, 2) == GROK_OK, "cluster norms: %s", grok_last_error());
        grok_wlogit_fourier_norms(nL, &m);
        for (int j = 0; j < p; j++) err = fmax(err, fabs(cn[j] + cn[p + j] - nL[j] * nL[j]) / (nL[j] * nL[j] + 1e-300));
        CHECK(err < 1e-12, "cluster norms add up to the Fourier norms squared: %.3e", err);
        clusters[0] = 2;
        grok_wlogit_cluster_norms(cn, &m, freq, clusters, 1);
        frac_ok = 1;
        for (int j = 0; j < p; j++) frac_ok &= cn[j] == 0;
        CHECK(frac_ok, "an empty cluster gets zeros");
        CHECK(grok_modadd_logit_components(cc, sc, &m, acts, kf, 2) == GROK_OK, "logit components: %s", grok_last_error());
        grok_modadd_wlogit(NULL, Wf, &m);
        for (int f = 0; f < 2; f++)
            for (int t = 0; t < 2; t++) {
                int col = 2 * kf[f] - 1 + t;
                for (int r = 0; r < N; r++) {
                    g[r] = 0;
                    for (int i = 0; i < M; i++) g[r] += (double)acts[r * M + i] * Wf[i * p + col];
                }
                grok_grids_fourier(ref, g, 1, p);
                e2 = fmax(e2, rel_err(t ? sc + f * N : cc + f * N, ref, (size_t)N));
            }
        CHECK(e2 < 1e-13, "logit components vs acts @ US and grok_grids_fourier: %.3e", e2);
        CHECK(grok_modadd_logit_components(NULL, sc, &m, acts, kf, 1) == GROK_OK, "cos_c may be NULL");
        kf[0] = 4;
        CHECK_ARG(grok_modadd_logit_components(cc, sc, &m, acts, kf, 1), "grok_modadd_logit_components");
        CHECK_ARG(grok_modadd_logit_components(NULL, NULL, &m, acts, kf, 1), "grok_modadd_logit_components");
        CHECK_ARG(grok_wlogit_cluster_norms(cn, &m, freq, clusters, 0), "grok_wlogit_cluster_norms");
        CHECK_ARG(grok_wlogit_cluster_norms(cn, &m, NULL, clusters, 1), "grok_wlogit_cluster_norms");
        free(acts); free(cn); free(Wf); free(g); free(ref); free(cc); free(sc);
        grok_model_free(&m);
    }
    {
        double d[8] = {0};
        float f[8] = {0};
        CHECK_ARG(grok_fftshift2(NULL, 2, 2), "grok_fftshift2");
        CHECK_ARG(grok_fftshift2(d, 0, 2), "grok_fftshift2");
        CHECK_ARG(grok_ifftshift2(d, 2, -1), "grok_ifftshift2");
        CHECK_ARG(grok_neuron_freq_norm(NULL, f, 3, 1), "grok_neuron_freq_norm");
        CHECK_ARG(grok_neuron_freq_norm(d, f, 2, 1), "grok_neuron_freq_norm");
        CHECK_ARG(grok_neuron_freq_norm(d, f, 3, 0), "grok_neuron_freq_norm");
    }
    printf("%-28s %d checks\n", "figures", n_pass + n_fail - before);
}

/* A small model with random weights, biases and LayerNorm parameters (non-zero everywhere). */
static int dla_model(grok_model *m, int n_layers, grok_norm norm, int max_batch)
{
    grok_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.n_layers = n_layers; cfg.n_heads = 3; cfg.d_model = 16; cfg.d_head = 5; cfg.d_mlp = 24;
    cfg.d_vocab = 11; cfg.d_vocab_out = 10; cfg.n_ctx = 4; cfg.act_fn = GROK_ACT_GELU;
    cfg.normalization = norm; cfg.seed = 7; cfg.train_biases = 1;
    if (grok_model_init(m, &cfg, max_batch) != GROK_OK) return 0;
    for (int i = 0; i < m->n_params; i++) {
        const grok_param *p = &m->params[i];
        if (strstr(p->name, ".b_") || strstr(p->name, "ln"))
            for (size_t j = 0; j < p->numel; j++) m->weights[p->offset + j] = (float)((strstr(p->name, ".w") ? 1.0 : 0.0) + 0.3 * urand());
    }
    m->general_path = 1;
    return 1;
}

/* The components and biases sum to the model's logits; the stacks sum to the final residual. */
static void test_dla_sum(void)
{
    static const int flag_sets[4] = {0, GROK_RESID_HEADS, GROK_RESID_NEURONS, GROK_RESID_HEADS | GROK_RESID_NEURONS};
    group_begin();
    for (int L = 1; L <= 2; L++)
        for (int norm = 0; norm <= 1; norm++) {
            grok_model m;
            grok_cache c;
            enum { B = 5, T = 4 };
            int tokens[B * T], tok[B * 2], n, pos = norm ? 2 : -1, pp = norm ? 2 : T - 1;
            float logits[B * T * 10];
            double *stack, *attr, bias[B * 10], bias_t[B * 2];
            const grok_tensor *post;
            char name[GROK_NAME_MAX];
            if (!dla_model(&m, L, norm ? GROK_NORM_LN : GROK_NORM_NONE, 2)) { CHECK(0, "model"); continue; }
            for (int i = 0; i < B * T; i++) tokens[i] = (int)((urand() + 1) * 5.5) % 11;
            for (int i = 0; i < B * 2; i++) tok[i] = (i * 3 + 1) % 10;
            CHECK(grok_cache_run(&c, &m, tokens, B, NULL, logits) == GROK_OK, "cache");
            snprintf(name, sizeof name, "blocks.%d.hook_resid_post", L - 1);
            post = grok_cache_get(&c, name);
            for (int f = 0; f < 4; f++) {
                double scale = 0, err = 0;
                CHECK(grok_resid_stack(NULL, &n, &m, &c, pos, flag_sets[f]) == GROK_OK, "count");
                stack = (double *)malloc(sizeof(double) * (size_t)n * B * 16);
                attr = (double *)malloc(sizeof(double) * (size_t)n * B * 10);
                CHECK(grok_resid_stack(stack, &n, &m, &c, pos, flag_sets[f]) == GROK_OK, "stack");
                for (int b = 0; b < B; b++)
                    for (int k = 0; k < 16; k++) {
                        double s = 0, x = post->data[((long)b * T + pp) * 16 + k];
                        for (int i = 0; i < n; i++) s += stack[((long)i * B + b) * 16 + k];
                        err = fmax(err, fabs(s - x) / (1 + fabs(x)));
                    }
                CHECK(track(err) < 1e-5, "L %d norm %d flags %d: components sum to resid_post, err %g", L, norm, flag_sets[f], err);
                CHECK(grok_logit_attrs(attr, bias, &m, &c, stack, n, pos, NULL, NULL, 0) == GROK_OK, "attrs");
                err = 0;
                for (int j = 0; j < B * 10; j++) scale = fmax(scale, fabs(logits[(j / 10 * T + pp) * 10 + j % 10]));
                for (int b = 0; b < B; b++)
                    for (int v = 0; v < 10; v++) {
                        double s = bias[b * 10 + v];
                        for (int i = 0; i < n; i++) s += attr[((long)i * B + b) * 10 + v];
                        err = fmax(err, fabs(s - logits[((long)b * T + pp) * 10 + v]) / scale);
                    }
                CHECK(track(err) < 2e-6, "L %d norm %d flags %d: attributions + bias = logits, err %g", L, norm, flag_sets[f], err);
                /* given tokens: the same numbers */
                free(attr);
                attr = (double *)malloc(sizeof(double) * (size_t)n * B * 2);
                CHECK(grok_logit_attrs(attr, bias_t, &m, &c, stack, n, pos, tok, NULL, 2) == GROK_OK, "attrs tokens");
                err = 0;
                for (int b = 0; b < B; b++)
                    for (int k = 0; k < 2; k++) {
                        double s = bias_t[b * 2 + k];
                        for (int i = 0; i < n; i++) s += attr[((long)i * B + b) * 2 + k];
                        err = fmax(err, fabs(s - logits[((long)b * T + pp) * 10 + tok[b * 2 + k]]) / scale);
                    }
                CHECK(track(err) < 2e-6, "L %d norm %d flags %d: token attributions sum to logits, err %g", L, norm, flag_sets[f], err);
                {   /* the logit difference: tokens[0] against tokens[1], each row; = the two columns' difference */
                    int first[B], second[B];
                    double *diff = (double *)malloc(sizeof(double) * (size_t)n * B), bias_d[B], e2 = 0;
                    for (int b = 0; b < B; b++) { first[b] = tok[b * 2]; second[b] = tok[b * 2 + 1]; }
                    CHECK(grok_logit_attrs(diff, bias_d, &m, &c, stack, n, pos, first, second, 1) == GROK_OK, "attrs diff");
                    for (int b = 0; b < B; b++) {
                        double s = bias_d[b];
                        e2 = fmax(e2, fabs(bias_d[b] - (bias_t[b * 2] - bias_t[b * 2 + 1])));
                        for (int i = 0; i < n; i++) {
                            s += diff[(long)i * B + b];
                            e2 = fmax(e2, fabs(diff[(long)i * B + b] - (attr[((long)i * B + b) * 2] - attr[((long)i * B + b) * 2 + 1])));
                        }
                        err = fmax(err, fabs(s - (logits[((long)b * T + pp) * 10 + first[b]] - logits[((long)b * T + pp) * 10 + second[b]])) / scale);
                    }
                    CHECK(e2 < 1e-12 && track(err) < 2e-6, "L %d norm %d flags %d: logit-difference attributions (%g) sum to the difference (%g)",
                          L, norm, flag_sets[f], e2, err);
                    free(diff);
                }
                free(stack); free(attr);
            }
            {   /* the logit lens: its final_post row + bias is the logits */
                double err = 0, scale = 0;
                CHECK(grok_resid_stack(NULL, &n, &m, &c, pos, GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID) == GROK_OK && n == 2 * L + 1,
                      "accumulated count %d", n);
                stack = (double *)malloc(sizeof(double) * (size_t)n * B * 16);
                attr = (double *)malloc(sizeof(double) * (size_t)n * B * 10);
                CHECK(grok_resid_stack(stack, &n, &m, &c, pos, GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID) == GROK_OK, "acc");
                CHECK(grok_logit_attrs(attr, bias, &m, &c, stack, n, pos, NULL, NULL, 0) == GROK_OK, "lens");
                for (int j = 0; j < B * 10; j++) scale = fmax(scale, fabs(logits[(j / 10 * T + pp) * 10 + j % 10]));
                for (int b = 0; b < B; b++)
                    for (int v = 0; v < 10; v++)
                        err = fmax(err, fabs(attr[((long)(n - 1) * B + b) * 10 + v] + bias[b * 10 + v] -
                                             logits[((long)b * T + pp) * 10 + v]) / scale);
                CHECK(track(err) < 2e-6, "L %d norm %d: logit lens of final_post = logits, err %g", L, norm, err);
                CHECK(grok_resid_stack_name(name, sizeof name, &m, GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID, n - 1) == GROK_OK &&
                      strcmp(name, "final_post") == 0, "name %s", name);
                free(stack); free(attr);
            }
            grok_cache_free(&c);
            grok_model_free(&m);
        }
    group_end("dla sum to logits", 2e-6);
}

/* Names in TransformerLens' order, circuits against their definition, the factored SVD against
   grok_svd of the formed product, and the argument errors. */
static void test_dla_circuits(void)
{
    static const char *want[] = {"embed", "pos_embed", "L0H0", "L0H1", "L0H2", "0_b_O", "0_mlp_out", "L1H0"};
    grok_model m;
    grok_cache c;
    char name[GROK_NAME_MAX];
    int n, tokens[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double left[11 * 5], right[5 * 24], prod[11 * 24], prod2[11 * 24], U[11 * 5], S[5], Vt[5 * 24], U2[11 * 11],
        S2[11], Vt2[11 * 24], st[4];
    group_begin();
    if (!dla_model(&m, 2, GROK_NORM_LN, 2)) { CHECK(0, "model"); return; }
    for (int i = 0; i < 8; i++) {
        CHECK(grok_resid_stack_name(name, sizeof name, &m, GROK_RESID_HEADS, i) == GROK_OK && strcmp(name, want[i]) == 0,
              "component %d is %s, want %s", i, name, want[i]);
    }
    CHECK(grok_resid_stack_name(name, sizeof name, &m, GROK_RESID_NEURONS, 2 + 1 + 24) == GROK_OK && strcmp(name, "0_b_out") == 0,
          "neurons' bias %s", name);
    for (int kind = GROK_CIRCUIT_QK; kind <= GROK_CIRCUIT_NEURON; kind++) {
        const int cols = kind == GROK_CIRCUIT_QK ? 11 : kind == GROK_CIRCUIT_OV ? 10 : 24;
        const float *WE = m.weights + grok_model_param(&m, "embed.W_E")->offset;
        const float *WQ = m.weights + grok_model_param(&m, kind == GROK_CIRCUIT_QK ? "blocks.1.attn.W_Q" : "blocks.1.attn.W_V")->offset + 2 * 16 * 5;
        const float *WK = m.weights + grok_model_param(&m, "blocks.1.attn.W_K")->offset + 2 * 16 * 5;
        const float *WO = m.weights + grok_model_param(&m, "blocks.1.attn.W_O")->offset + 2 * 5 * 16;
        const float *W2 = m.weights + grok_model_param(&m, kind == GROK_CIRCUIT_OV ? "unembed.W_U" : "blocks.1.mlp.W_in")->offset;
        double err = 0, serr = 0, uerr = 0;
        CHECK(grok_circuit(left, right, prod, &m, kind, 1, 2) == GROK_OK, "circuit %d", kind);
        for (int v = 0; v < 11; v++)
            for (int u = 0; u < cols; u++) { /* the product straight from the weights */
                double s = 0;
                for (int d = 0; d < 5; d++) {
                    double a = 0, b = 0;
                    for (int k = 0; k < 16; k++) a += (double)WE[v * 16 + k] * WQ[k * 5 + d];
                    if (kind == GROK_CIRCUIT_QK)
                        for (int k = 0; k < 16; k++) b += (double)WE[u * 16 + k] * WK[k * 5 + d];
                    else
                        for (int k = 0; k < 16; k++) b += (double)WO[d * 16 + k] * W2[k * cols + u];
                    s += a * b;
                }
                err = fmax(err, fabs(prod[v * cols + u] - s));
            }
        CHECK(track(err) < 1e-12, "circuit %d against its definition, err %g", kind, err);
        CHECK(grok_factored_svd(U, S, Vt, left, right, 11, 5, cols) == GROK_OK, "factored svd");
        CHECK(grok_svd(U2, S2, Vt2, prod, 11, cols, 0) == GROK_OK, "svd");
        for (int i = 0; i < 5; i++) {
            serr = fmax(serr, fabs(S[i] - S2[i]) / S2[0]);
            for (int j = 0; j < 11; j++) uerr = fmax(uerr, fabs(U[j * 5 + i] - U2[j * (cols < 11 ? cols : 11) + i]));
            for (int j = 0; j < cols; j++) uerr = fmax(uerr, fabs(Vt[i * cols + j] - Vt2[i * cols + j]));
        }
        for (int i = 0; i < 11 * cols; i++) prod2[i] = 0;
        for (int i = 0; i < 11; i++)
            for (int j = 0; j < cols; j++)
                for (int k = 0; k < 5; k++) prod2[i * cols + j] += U[i * 5 + k] * S[k] * Vt[k * cols + j];
        for (int i = 0; i < 11 * cols; i++) err = fmax(err, fabs(prod2[i] - prod[i]));
        CHECK(track(serr) < 1e-12 && track(uerr) < 1e-9 && track(err) < 1e-12,
              "circuit %d: factored SVD against grok_svd, S %g, vectors %g, rebuilt %g", kind, serr, uerr, err);
    }
    /* argument errors */
    CHECK(grok_cache_run(&c, &m, tokens, 2, NULL, NULL) == GROK_OK, "cache");
    CHECK(grok_resid_stack(NULL, &n, &m, &c, 4, 0) == GROK_ERR_ARG, "position past n_ctx");
    CHECK(grok_resid_stack(NULL, &n, &m, &c, -2, 0) == GROK_ERR_ARG, "position -2");
    CHECK(grok_resid_stack(NULL, &n, &m, &c, 0, GROK_RESID_ACCUMULATED | GROK_RESID_HEADS) == GROK_ERR_ARG, "accumulated heads");
    CHECK(grok_resid_stack(NULL, &n, &m, &c, 0, GROK_RESID_INCL_MID) == GROK_ERR_ARG, "incl_mid alone");
    CHECK(grok_resid_stack(NULL, NULL, &m, &c, 0, 0) == GROK_ERR_ARG, "n_comp NULL");
    CHECK(grok_resid_stack(NULL, &n, NULL, &c, 0, 0) == GROK_ERR_ARG, "model NULL");
    CHECK(grok_resid_stack_name(name, 4, &m, 0, 0) == GROK_ERR_ARG, "name buffer too small");
    CHECK(grok_resid_stack_name(name, sizeof name, &m, 0, 6) == GROK_ERR_ARG, "component 6 of 6");
    CHECK(grok_logit_attrs(st, NULL, &m, &c, st, 1, 0, tokens, NULL, 0) == GROK_ERR_ARG, "0 tokens");
    tokens[1] = 10;
    CHECK(grok_logit_attrs(st, NULL, &m, &c, st, 1, 0, tokens, NULL, 1) == GROK_ERR_ARG, "token 10 of 10");
    CHECK(grok_logit_attrs(st, NULL, &m, &c, st, 1, 0, NULL, tokens, 1) == GROK_ERR_ARG, "incorrect tokens without tokens");
    CHECK(grok_resid_apply_ln(st, 1, &m, &c, 0, 3, 0) == GROK_ERR_ARG, "apply_ln at layer 3 of 1");
    CHECK(grok_logit_attrs(NULL, NULL, &m, &c, st, 1, 0, NULL, NULL, 0) == GROK_ERR_ARG, "out NULL");
    CHECK(grok_circuit(left, NULL, NULL, &m, 3, 0, 0) == GROK_ERR_ARG, "kind 3");
    CHECK(grok_circuit(left, NULL, NULL, &m, GROK_CIRCUIT_OV, 2, 0) == GROK_ERR_ARG, "layer 2");
    CHECK(grok_circuit(left, NULL, NULL, &m, GROK_CIRCUIT_OV, 0, 3) == GROK_ERR_ARG, "head 3");
    CHECK(grok_factored_svd(U, S, Vt, left, NULL, 11, 5, 10) == GROK_ERR_ARG, "right NULL");
    CHECK(grok_factored_svd(U, S, Vt, left, right, 11, 0, 10) == GROK_ERR_ARG, "inner 0");
    grok_cache_free(&c);
    {   /* a cache without the hook points asked for */
        tokens[1] = 2;
        CHECK(grok_cache_run(&c, &m, tokens, 2, "hook_embed", NULL) == GROK_OK, "filtered cache");
        CHECK(grok_resid_stack(prod2, &n, &m, &c, 0, 0) == GROK_ERR_ARG && strstr(grok_last_error(), "pos_embed"),
              "missing hook point: %s", grok_last_error());
        grok_cache_free(&c);
    }
    grok_model_free(&m);
    group_end("dla circuits, factored SVD", 1e-9);
}

/* GROK_POS_ALL: every position at once equals the single-position calls, bit for bit; with
   tokens per (b, t) the components of every position sum to that position's logits. */
static void test_dla_all_positions(void)
{
    int before = n_pass + n_fail;
    for (int norm = 0; norm <= 1; norm++) {
        grok_model m;
        grok_cache c;
        enum { B = 3, T = 4, C = 16, V = 10 };
        int tokens[B * T], tok[B * T], inc[B * T], n, flags = GROK_RESID_HEADS | GROK_RESID_NEURONS;
        float logits[B * T * V];
        double *all, *one, *attr, *attr1, bias[B * T], bias1[B], err = 0;
        int same = 1;
        if (!dla_model(&m, 2, norm ? GROK_NORM_LN : GROK_NORM_NONE, 3)) { CHECK(0, "model"); continue; }
        for (int i = 0; i < B * T; i++) { tokens[i] = (i * 7 + 2) % 11; tok[i] = i % V; inc[i] = (i * 3 + 1) % V; }
        CHECK(grok_cache_run(&c, &m, tokens, B, NULL, logits) == GROK_OK, "cache");
        grok_resid_stack(NULL, &n, &m, &c, GROK_POS_ALL, flags);
        all = (double *)malloc(sizeof(double) * (size_t)n * B * T * C);
        one = (double *)malloc(sizeof(double) * (size_t)n * B * C);
        attr = (double *)malloc(sizeof(double) * (size_t)n * B * T);
        attr1 = (double *)malloc(sizeof(double) * (size_t)n * B);
        CHECK(grok_resid_stack(all, &n, &m, &c, GROK_POS_ALL, flags) == GROK_OK &&
              grok_logit_attrs(attr, bias, &m, &c, all, n, GROK_POS_ALL, tok, inc, 1) == GROK_OK, "all positions: %s",
              grok_last_error());
        for (int t = 0; t < T; t++) {
            int tk[B], ic[B];
            for (int b = 0; b < B; b++) { tk[b] = tok[b * T + t]; ic[b] = inc[b * T + t]; }
            grok_resid_stack(one, &n, &m, &c, t, flags);
            for (int i = 0; i < n; i++)
                for (int b = 0; b < B; b++) same &= memcmp(one + ((long)i * B + b) * C, all + (((long)i * B + b) * T + t) * C, sizeof(double) * C) == 0;
            grok_logit_attrs(attr1, bias1, &m, &c, one, n, t, tk, ic, 1);
            for (int b = 0; b < B; b++) {
                double s = bias[b * T + t];
                same &= bias1[b] == bias[b * T + t];
                for (int i = 0; i < n; i++) { same &= attr1[(long)i * B + b] == attr[((long)i * B + b) * T + t]; s += attr[((long)i * B + b) * T + t]; }
                err = fmax(err, fabs(s - (logits[((long)b * T + t) * V + tk[b]] - logits[((long)b * T + t) * V + ic[b]])));
            }
        }
        CHECK(same, "norm %d: GROK_POS_ALL equals the per-position calls bit for bit", norm);
        CHECK(err < 1e-4, "norm %d: every position's logit-difference attributions sum to its difference (%.2e)", norm, err);
        /* apply_ln at every position in place equals per position */
        grok_resid_apply_ln(all, n, &m, &c, GROK_POS_ALL, 1, 1);
        grok_resid_stack(one, &n, &m, &c, 2, flags);
        grok_resid_apply_ln(one, n, &m, &c, 2, 1, 1);
        same = 1;
        for (int i = 0; i < n; i++)
            for (int b = 0; b < B; b++) same &= memcmp(one + ((long)i * B + b) * C, all + (((long)i * B + b) * T + 2) * C, sizeof(double) * C) == 0;
        CHECK(same, "norm %d: apply_ln over all positions equals position 2's", norm);
        CHECK(grok_resid_stack(all, &n, &m, &c, -3, flags) == GROK_ERR_ARG, "position -3 refused");
        free(all); free(one); free(attr); free(attr1);
        grok_cache_free(&c);
        grok_model_free(&m);
    }
    printf("%-28s %d checks\n", "dla, all positions", n_pass + n_fail - before);
}

/* A copy of cache c in which every entry is a + t (b - a), a = c's entry, b = other's. */
static int cache_lerp(grok_cache *out, const grok_cache *a, const grok_cache *b, double t)
{
    out->n = a->n; out->B = a->B;
    out->entries = (grok_cache_entry *)calloc((size_t)a->n, sizeof(grok_cache_entry));
    for (int i = 0; i < a->n; i++) {
        const grok_tensor *tb = grok_cache_get(b, a->entries[i].name);
        long n = grok_tensor_numel(&a->entries[i].t);
        float *d = (float *)malloc(sizeof(float) * (size_t)n);
        if (!tb || !d) return 0;
        for (long k = 0; k < n; k++) d[k] = (float)(a->entries[i].t.data[k] + t * ((double)tb->data[k] - a->entries[i].t.data[k]));
        out->entries[i] = a->entries[i];
        out->entries[i].t.data = d;
    }
    return 1;
}

/* Activation and attribution patching on small random models (1 and 2 layers, LayerNorm on and
   off), with a logit difference at the last position:
   - patching with the corrupted run's own cache changes nothing; patching every position of
     blocks.0.hook_resid_pre with the clean cache gives the clean metric;
   - for every site, both grids: patching in corrupted + t (clean - corrupted) at t = 0.01 moves
     the metric by t times the attribution to first order (attribution patching is the
     derivative of activation patching);
   - without LayerNorm the metric is linear in the last block's mlp.hook_post and hook_resid_post,
     where attribution equals activation patching outright;
   - summing the by-position attribution over positions gives the all-position one;
   - shapes, and refusals. tests/parity/patch compares both with a torch re-implementation. */
static void test_patching(void)
{
    int before = n_pass + n_fail;
    for (int L = 1; L <= 2; L++)
        for (int norm = 0; norm <= 1; norm++) {
            grok_model m;
            grok_cache clean, corr, grads, lerp;
            enum { B = 5, T = 4, V = 10 };
            int tokens[B * T], ctokens[B * T], correct[B], wrong[B], shape[3], ndim;
            double base, clean_v, *act, *attr, *attr2;
            grok_logit_diff ld;
            if (!dla_model(&m, L, norm ? GROK_NORM_LN : GROK_NORM_NONE, 3)) { CHECK(0, "model"); continue; }
            for (int i = 0; i < B * T; i++) tokens[i] = ctokens[i] = (int)((urand() + 1) * 5.5) % 11;
            for (int b = 0; b < B; b++) {
                ctokens[b * T + 1] = (tokens[b * T + 1] + 3) % 11; /* the corruption: position 1 */
                correct[b] = b % V; wrong[b] = (b + 4) % V;
            }
            ld.pos = -1; ld.correct = correct; ld.wrong = wrong;
            CHECK(grok_cache_run(&clean, &m, tokens, B, NULL, NULL) == GROK_OK, "clean cache");
            CHECK(grok_grad_cache_run(NULL, &grads, &m, tokens, B, "resid_post", grok_metric_logit_diff, &ld, &clean_v) == GROK_OK,
                  "clean metric");
            grok_cache_free(&grads);
            CHECK(grok_grad_cache_run(&corr, &grads, &m, ctokens, B, NULL, grok_metric_logit_diff, &ld, &base) == GROK_OK,
                  "corrupted caches: %s", grok_last_error());
            act = (double *)malloc(sizeof(double) * L * T * 24);
            attr = (double *)malloc(sizeof(double) * L * T * 24);
            attr2 = (double *)malloc(sizeof(double) * L * T * 24);
            /* no-op and full patches */
            {
                int same = grok_act_patch(act, &m, ctokens, B, &corr, GROK_PATCH_Z, 1, grok_metric_logit_diff, &ld) == GROK_OK;
                for (int i = 0; same && i < L * T * 3; i++) same &= act[i] == base;
                CHECK(same, "L=%d ln=%d: patching the corrupted run's own z changes nothing", L, norm);
                CHECK(grok_act_patch(act, &m, ctokens, B, &clean, GROK_PATCH_RESID_PRE, 0, grok_metric_logit_diff, &ld) == GROK_OK &&
                      fabs(act[0] - clean_v) <= 1e-6 * (1 + fabs(clean_v)) && fabs(base - clean_v) > 1e-3,
                      "L=%d ln=%d: patching all of resid_pre 0 gives the clean metric (%.9g, %.9g; corrupted %.9g)", L, norm, act[0],
                      clean_v, base);
            }
            /* attribution is the derivative of activation patching, every site and grid */
            CHECK(cache_lerp(&lerp, &corr, &clean, 0.01), "interpolated cache");
            for (int site = 0; site < GROK_PATCH_SITES; site++)
                for (int by_pos = 0; by_pos <= 1; by_pos++) {
                    long n = 1;
                    double err = 0, scale = 1e-3;
                    CHECK(grok_patch_shape(shape, &ndim, &m, site, by_pos) == GROK_OK, "shape");
                    for (int d = 0; d < ndim; d++) n *= shape[d];
                    CHECK(grok_act_patch(act, &m, ctokens, B, &lerp, site, by_pos, grok_metric_logit_diff, &ld) == GROK_OK &&
                          grok_attr_patch(attr, &m, &clean, &corr, &grads, site, by_pos) == GROK_OK,
                          "patch %s: %s", grok_patch_site_name(site), grok_last_error());
                    for (long i = 0; i < n; i++) if (fabs(attr[i]) > scale) scale = fabs(attr[i]);
                    for (long i = 0; i < n; i++) {
                        double e = fabs((act[i] - base) / 0.01 - attr[i]);
                        if (e > err) err = e;
                    }
                    CHECK(err <= 0.03 * scale, "L=%d ln=%d %s by_pos=%d: (patched - corrupted) / t vs attribution: %.3g of %.3g", L,
                          norm, grok_patch_site_name(site), by_pos, err, scale);
                }
            /* exact where the metric is linear in the site */
            if (!norm) {
                static const int linear_sites[2] = {GROK_PATCH_NEURON, GROK_PATCH_RESID_POST};
                for (int s = 0; s < 2; s++) {
                    int site = linear_sites[s];
                    double err = 0, scale = 1e-3, sum_err = 0;
                    long n1 = site == GROK_PATCH_NEURON ? 24 : 1, off = (long)(L - 1) * T * n1;
                    grok_act_patch(act, &m, ctokens, B, &clean, site, 1, grok_metric_logit_diff, &ld);
                    grok_attr_patch(attr, &m, &clean, &corr, &grads, site, 1);
                    grok_attr_patch(attr2, &m, &clean, &corr, &grads, site, 0);
                    for (long i = off; i < off + T * n1; i++) {
                        if (fabs(attr[i]) > scale) scale = fabs(attr[i]);
                        if (fabs(act[i] - base - attr[i]) > err) err = fabs(act[i] - base - attr[i]);
                    }
                    for (long j = 0; j < n1; j++) {
                        double s2 = 0;
                        for (int p = 0; p < T; p++) s2 += attr[off + p * n1 + j];
                        if (fabs(s2 - attr2[(L - 1) * n1 + j]) > sum_err) sum_err = fabs(s2 - attr2[(L - 1) * n1 + j]);
                    }
                    CHECK(err <= 1e-6 * (1 + fabs(base)) + 1e-5 * scale, "L=%d %s of the last block: activation patching - corrupted = attribution (%.2e of %.2e)",
                          L, grok_patch_site_name(site), err, scale);
                    CHECK(sum_err <= 1e-9 * scale, "L=%d %s: by-position attribution sums to the all-position one (%.2e)", L,
                          grok_patch_site_name(site), sum_err);
                }
            }
            /* shapes and refusals */
            grok_patch_shape(shape, &ndim, &m, GROK_PATCH_PATTERN, 1);
            CHECK(ndim == 3 && shape[0] == L && shape[1] == 3 && shape[2] == T, "pattern by position: [layer, head, dest_pos]");
            grok_patch_shape(shape, &ndim, &m, GROK_PATCH_Q, 1);
            CHECK(ndim == 3 && shape[1] == T && shape[2] == 3, "q by position: [layer, pos, head]");
            grok_patch_shape(shape, &ndim, &m, GROK_PATCH_NEURON, 0);
            CHECK(ndim == 2 && shape[1] == 24, "neurons over all positions: [layer, neuron]");
            CHECK(grok_patch_shape(shape, &ndim, &m, GROK_PATCH_SITES, 1) == GROK_ERR_ARG && strcmp(grok_patch_site_name(99), "?") == 0,
                  "an unknown site is refused");
            grok_cache_free(&lerp);
            CHECK(grok_cache_run(&lerp, &m, tokens, B, "resid_post", NULL) == GROK_OK &&
                  grok_act_patch(act, &m, ctokens, B, &lerp, GROK_PATCH_Z, 1, grok_metric_logit_diff, &ld) == GROK_ERR_ARG &&
                  strstr(grok_last_error(), "hook_z"), "a cache without the site is refused: %s", grok_last_error());
            grok_cache_free(&lerp);
            CHECK(grok_act_patch(act, &m, ctokens, B - 1, &clean, GROK_PATCH_Z, 1, grok_metric_logit_diff, &ld) == GROK_ERR_ARG &&
                  strstr(grok_last_error(), "sequences"), "a cache of another batch is refused: %s", grok_last_error());
            CHECK(grok_act_patch(act, &m, ctokens, B, &clean, GROK_PATCH_Z, 1, NULL, &ld) == GROK_ERR_ARG, "no metric is refused");
            CHECK(m.acts->n_hooks == 0, "patching leaves no hook behind");
            free(act); free(attr); free(attr2);
            grok_cache_free(&clean); grok_cache_free(&corr); grok_cache_free(&grads);
            grok_model_free(&m);
        }
    printf("%-28s %d checks\n", "patching", n_pass + n_fail - before);
}

/* ---------------------------------------------------------------- irreducible representations */

/* rho_i(g) of ir */
static const double *irrep_mat(const grok_irreps *ir, int i, int g)
{
    return ir->mats + (size_t)ir->order * ir->coef[i] + (size_t)g * ir->dim[i] * ir->dim[i];
}

/* The defining properties of one group's irreps: homomorphism (on every pair, or for S_6 on
   every element times each generator s_i, which implies it by induction over words), orthogonal
   matrices, the trivial irrep first, sum of d^2 over the complex irreps = |G|, as many complex
   irreps as classes, character orthogonality <chi_i, chi_j> = kappa_i delta_ij (kappa 2 for a
   complex pair), Schur orthogonality of the matrix coefficients of the real-type irreps. */
static void check_irreps(grok_group_kind kind, int n)
{
    grok_group g;
    grok_irreps ir;
    int N, nc, *cls, complex_count = 0, trivial = 1, gens[6], n_gens = 0;
    long sum_d2 = 0;
    double hom = 0, orth = 0, chi_orth = 0, schur = 0, *chi, *table;
    if (grok_group_init(&g, kind, n) != GROK_OK || grok_irreps_init(&ir, &g) != GROK_OK) {
        CHECK(0, "irreps of kind %d n %d", (int)kind, n);
        return;
    }
    N = g.order;
    if (kind == GROK_GROUP_SYMMETRIC && n == 6) { /* ranks of s_0..s_4 in lexicographic order: 120, 24, 6, 2, 1 */
        int r[5] = {120, 24, 6, 2, 1};
        for (int i = 0; i < 5; i++) gens[n_gens++] = r[i];
    }
    for (int i = 0; i < ir.count; i++) {
        int d = ir.dim[i];
        sum_d2 += ir.complex_pair[i] ? (long)d * d / 2 : (long)d * d;
        complex_count += ir.complex_pair[i] ? 2 : 1;
        for (int x = 0; x < N; x++) {
            const double *a = irrep_mat(&ir, i, x);
            if (i == 0) trivial &= a[0] == 1.0 && d == 1;
            for (int r = 0; r < d; r++)
                for (int c = 0; c < d; c++) {
                    double s = 0;
                    for (int k = 0; k < d; k++) s += a[r * d + k] * a[c * d + k];
                    orth = fmax(orth, fabs(s - (r == c)));
                }
            for (int yi = 0; yi < (n_gens ? n_gens : N); yi++) {
                int y = n_gens ? gens[yi] : yi, z = n_gens ? g.table[y * N + x] : g.table[x * N + y];
                const double *l = n_gens ? irrep_mat(&ir, i, y) : a, *rr = n_gens ? a : irrep_mat(&ir, i, y), *m = irrep_mat(&ir, i, z);
                for (int r = 0; r < d; r++)
                    for (int c = 0; c < d; c++) {
                        double s = 0;
                        for (int k = 0; k < d; k++) s += l[r * d + k] * rr[k * d + c];
                        hom = fmax(hom, fabs(s - m[r * d + c]));
                    }
            }
        }
        if (!ir.complex_pair[i] && N <= 120) /* (1/|G|) sum_g rho_ab(g) rho_ce(g) = delta_ac delta_be / d */
            for (int ab = 0; ab < d * d; ab++)
                for (int ce = 0; ce < d * d; ce++) {
                    double s = 0;
                    for (int x = 0; x < N; x++) s += irrep_mat(&ir, i, x)[ab] * irrep_mat(&ir, i, x)[ce];
                    schur = fmax(schur, fabs(s / N - (ab == ce ? 1.0 / d : 0.0)));
                }
    }
    chi = (double *)malloc(sizeof(double) * ir.count * N);
    cls = (int *)malloc(sizeof(int) * N);
    grok_irreps_characters(chi, &ir);
    for (int i = 0; i < ir.count; i++)
        for (int j = 0; j < ir.count; j++) {
            double s = 0;
            for (int x = 0; x < N; x++) s += chi[i * N + x] * chi[j * N + x];
            chi_orth = fmax(chi_orth, fabs(s / N - (i == j ? 1.0 + ir.complex_pair[i] : 0.0)));
        }
    CHECK(grok_group_classes(cls, &nc, &g) == GROK_OK && cls[0] == 0, "%s classes", g.name);
    table = (double *)malloc(sizeof(double) * ir.count * nc);
    CHECK(grok_irreps_char_table(table, &ir, cls, nc) == GROK_OK, "%s character table", g.name);
    { /* the table holds each character's value on every element of the class */
        int same = 1;
        for (int i = 0; i < ir.count; i++)
            for (int x = 0; x < N; x++) same &= fabs(table[i * nc + cls[x]] - chi[i * N + x]) < 1e-9;
        CHECK(same, "%s: characters are class functions and the table holds them", g.name);
    }
    track(hom); track(orth); track(chi_orth); track(schur);
    CHECK(hom < 1e-12 && orth < 1e-12, "%s: rho(xy) = rho(x) rho(y) (%.1e), orthogonal (%.1e)", g.name, hom, orth);
    CHECK(trivial && sum_d2 == N && complex_count == nc, "%s: trivial first %d, sum d^2 = %ld (order %d), %d complex irreps, %d classes",
          g.name, trivial, sum_d2, N, complex_count, nc);
    CHECK(chi_orth < 1e-12 && schur < 1e-12, "%s: character orthogonality %.1e, Schur %.1e", g.name, chi_orth, schur);
    free(chi); free(cls); free(table);
    grok_irreps_free(&ir);
    grok_group_free(&g);
}

static void test_irreps(void)
{
    grok_group g;
    grok_irreps ir;
    group_begin();
    for (int n = 1; n <= 9; n++) check_irreps(GROK_GROUP_CYCLIC, n);
    check_irreps(GROK_GROUP_CYCLIC, 113);
    for (int n = 1; n <= 8; n++) check_irreps(GROK_GROUP_DIHEDRAL, n);
    check_irreps(GROK_GROUP_DIHEDRAL, 59);
    for (int n = 1; n <= 6; n++) {
        check_irreps(GROK_GROUP_SYMMETRIC, n);
        check_irreps(GROK_GROUP_ALTERNATING, n);
    }
    /* names and dimensions */
    grok_group_init(&g, GROK_GROUP_SYMMETRIC, 5);
    CHECK(grok_irreps_init(&ir, &g) == GROK_OK && ir.count == 7 && !strcmp(ir.name[1], "(4,1)") && ir.dim[1] == 4 &&
          !strcmp(ir.name[2], "(3,2)") && ir.dim[3] == 6 && !strcmp(ir.name[6], "(1,1,1,1,1)"), "S_5: 7 irreps by partition, (4,1) of dim 4, (3,1,1) of dim 6");
    { /* the sign irrep is the sign of the permutation: -1 on the transposition of rank 1 (0 1 2 4 3) */
        CHECK(irrep_mat(&ir, 6, 1)[0] == -1.0 && irrep_mat(&ir, 6, 0)[0] == 1.0, "S_5: (1^5) is the sign");
    }
    grok_irreps_free(&ir); grok_group_free(&g);
    grok_group_init(&g, GROK_GROUP_ALTERNATING, 5);
    CHECK(grok_irreps_init(&ir, &g) == GROK_OK && ir.count == 5 && ir.dim[1] == 3 && ir.dim[2] == 3 && ir.dim[3] == 4 && ir.dim[4] == 5 &&
          !strcmp(ir.name[2], "3_2") && !ir.complex_pair[1], "A_5: 1, 3, 3, 4, 5 (the split (3,1,1) is real)");
    grok_irreps_free(&ir); grok_group_free(&g);
    grok_group_init(&g, GROK_GROUP_ALTERNATING, 4);
    CHECK(grok_irreps_init(&ir, &g) == GROK_OK && ir.count == 3 && ir.dim[1] == 2 && ir.complex_pair[1] && ir.dim[2] == 3,
          "A_4: 1, the merged pair of complex 1-dim irreps (2, complex), 3");
    grok_irreps_free(&ir); grok_group_free(&g);
    grok_group_init(&g, GROK_GROUP_CYCLIC, 8);
    CHECK(grok_irreps_init(&ir, &g) == GROK_OK && ir.count == 5 && !strcmp(ir.name[1], "1_2") && !strcmp(ir.name[4], "2_3") &&
          ir.complex_pair[2] && fabs(irrep_mat(&ir, 2, 1)[2] - sqrt(0.5)) < 1e-15, "C_8: 1_1, 1_2 (sign), 2_1..2_3 rotations");
    grok_irreps_free(&ir); grok_group_free(&g);
    CHECK(grok_irreps_init(&ir, NULL) == GROK_ERR_ARG && grok_irreps_init(NULL, NULL) == GROK_ERR_ARG, "NULL refused");
    group_end("irreps", 1e-12);
}

/* The group Fourier transform on random functions: inverse(fourier(f)) = f, Plancherel (norms
   sum to ||f||^2), the projections sum to f, are orthogonal, and their squared norms are the
   norms (which checks the complex pairs' factor 1/2); a matrix coefficient of irrep i lies in
   irrep i; the transposed input; key irreps. */
static void check_fourier(grok_group_kind kind, int n)
{
    enum { K = 3 };
    grok_group g;
    grok_irreps ir;
    int N;
    double *f, *fhat, *back, *P, *norms, *normsT, *fT, plan = 0, inv = 0, proj = 0, cross = 0, sumsq = 0, tot = 0;
    grok_group_init(&g, kind, n);
    grok_irreps_init(&ir, &g);
    N = g.order;
    f = rand_array((size_t)N * K);
    fT = (double *)malloc(sizeof(double) * N * K);
    fhat = (double *)malloc(sizeof(double) * ir.n_coefs * K);
    back = (double *)malloc(sizeof(double) * N * K);
    P = (double *)malloc(sizeof(double) * ir.count * N * K);
    norms = (double *)malloc(sizeof(double) * ir.count);
    normsT = (double *)malloc(sizeof(double) * ir.count);
    for (int x = 0; x < N; x++)
        for (int j = 0; j < K; j++) fT[j * N + x] = f[x * K + j];
    CHECK(grok_irreps_fourier(fhat, f, K, &ir) == GROK_OK && grok_irreps_inverse(back, fhat, K, -1, &ir) == GROK_OK, "%s transforms", g.name);
    for (int i = 0; i < N * K; i++) { inv = fmax(inv, fabs(back[i] - f[i])); sumsq += f[i] * f[i]; }
    CHECK(grok_irreps_norms(norms, f, K, 0, &ir) == GROK_OK && grok_irreps_norms(normsT, fT, K, 1, &ir) == GROK_OK, "%s norms", g.name);
    for (int i = 0; i < ir.count; i++) {
        double s = 0;
        grok_irreps_inverse(P + (size_t)i * N * K, fhat, K, i, &ir);
        for (int r = 0; r < N * K; r++) s += P[(size_t)i * N * K + r] * P[(size_t)i * N * K + r];
        proj = fmax(proj, fabs(s - norms[i]) / sumsq);
        proj = fmax(proj, fabs(normsT[i] - norms[i]) / sumsq);
        tot += norms[i];
        for (int j = 0; j < i; j++) {
            double c = 0;
            for (int r = 0; r < N * K; r++) c += P[(size_t)i * N * K + r] * P[(size_t)j * N * K + r];
            cross = fmax(cross, fabs(c) / sumsq);
        }
    }
    for (int r = 0; r < N * K; r++) {
        double s = 0;
        for (int i = 0; i < ir.count; i++) s += P[(size_t)i * N * K + r];
        proj = fmax(proj, fabs(s - f[r]));
    }
    plan = fabs(tot - sumsq) / sumsq;
    track(inv); track(plan); track(proj); track(cross);
    CHECK(inv < 1e-12 && plan < 1e-12 && proj < 1e-12 && cross < 1e-12,
          "%s: inverse %.1e, Plancherel %.1e, projections %.1e, orthogonal %.1e", g.name, inv, plan, proj, cross);
    { /* the last irrep's matrix coefficient [0][d-1] as a function: all its norm in that irrep */
        int last = ir.count - 1, d = ir.dim[last], ok = 1;
        double ff = 0;
        for (int x = 0; x < N; x++) { f[x] = irrep_mat(&ir, last, x)[d - 1]; ff += f[x] * f[x]; }
        grok_irreps_norms(norms, f, 1, 0, &ir);
        for (int i = 0; i < ir.count; i++) ok &= fabs(norms[i] - (i == last ? ff : 0)) < 1e-12 * ff;
        CHECK(ok, "%s: a matrix coefficient of %s lies in it (norm %g of %g)", g.name, ir.name[last], norms[last], ff);
    }
    free(f); free(fT); free(fhat); free(back); free(P); free(norms); free(normsT);
    grok_irreps_free(&ir);
    grok_group_free(&g);
}

static void test_irreps_fourier(void)
{
    grok_group g;
    grok_irreps ir;
    int keys[6], nk = -1;
    double norms[7] = {5, 1, 0, 4, 0.3, 4, 0.2}, share[7];
    group_begin();
    check_fourier(GROK_GROUP_CYCLIC, 7);
    check_fourier(GROK_GROUP_CYCLIC, 12);
    check_fourier(GROK_GROUP_DIHEDRAL, 6);
    check_fourier(GROK_GROUP_DIHEDRAL, 7);
    check_fourier(GROK_GROUP_SYMMETRIC, 4);
    check_fourier(GROK_GROUP_SYMMETRIC, 5);
    check_fourier(GROK_GROUP_ALTERNATING, 4);
    check_fourier(GROK_GROUP_ALTERNATING, 5);
    grok_group_init(&g, GROK_GROUP_SYMMETRIC, 5);
    grok_irreps_init(&ir, &g);
    /* shares outside the trivial irrep: 1, 0, 4, 0.3, 4, 0.2 of 9.5; ties keep the smaller index */
    CHECK(grok_irreps_keys(keys, &nk, share, norms, &ir, 0.05) == GROK_OK && nk == 3 && keys[0] == 3 && keys[1] == 5 && keys[2] == 1 &&
          share[0] == 0 && fabs(share[3] - 4 / 9.5) < 1e-15, "key irreps (4,1)... by share: %d of %d, %d %d %d", nk, 6, keys[0], keys[1], keys[2]);
    CHECK(grok_irreps_keys(keys, &nk, NULL, norms, &ir, 0.9) == GROK_OK && nk == 1 && keys[0] == 3, "at least the largest");
    norms[2] = -1;
    CHECK(grok_irreps_keys(keys, &nk, NULL, norms, &ir, 0.05) == GROK_ERR_ARG, "a negative norm refused");
    CHECK(grok_irreps_inverse(norms, norms, 1, 7, &ir) == GROK_ERR_ARG && grok_irreps_fourier(NULL, norms, 1, &ir) == GROK_ERR_ARG,
          "bad irrep, NULL refused");
    grok_irreps_free(&ir);
    grok_group_free(&g);
    group_end("irreps fourier", 1e-12);
}

/* The paper's metrics on constructed logits: logits = 3 chi_i(x∘y∘z^-1) + a per-pair constant
   have trace similarity 1 with irrep i and 0 with the others; with a bias b_z added, restricted
   to {i} (and the trivial irrep) they keep the whole loss, and excluding i (or every key irrep)
   leaves the bias alone's loss. The hidden level through W = I and a base equals the logit
   level. Pair norms and projections. */
static void test_irreps_metrics(void)
{
    grok_group g;
    grok_irreps ir;
    int N, NN, key, keys[6], nk, *keep;
    double *chi, *L, *X, *P, *I, *base, sims[7], norms[7], rest, r1, t1, ex[7], re[7], r2, t2, ex2[7], re2[7], full, err = 0;
    group_begin();
    grok_group_init(&g, GROK_GROUP_SYMMETRIC, 4);
    grok_irreps_init(&ir, &g);
    N = g.order; NN = N * N; key = 3; /* (2,1,1) */
    chi = (double *)malloc(sizeof(double) * ir.count * N);
    L = (double *)malloc(sizeof(double) * NN * N);
    X = (double *)malloc(sizeof(double) * NN * N);
    P = (double *)malloc(sizeof(double) * NN * N);
    I = (double *)calloc((size_t)N * N, sizeof(double));
    base = (double *)malloc(sizeof(double) * NN * N);
    keep = (int *)calloc((size_t)ir.count, sizeof(int));
    grok_irreps_characters(chi, &ir);
    for (int r = 0; r < NN; r++) {
        double c = urand();
        for (int z = 0; z < N; z++) L[r * N + z] = 3 * chi[key * N + g.table[g.table[r] * N + g.inverse[z]]] + c;
    }
    CHECK(grok_irreps_trace_sims(sims, L, &g, &ir) == GROK_OK, "trace sims");
    for (int i = 0; i < ir.count; i++) err = fmax(err, fabs(sims[i] - (i == key)));
    track(err);
    CHECK(err < 1e-12, "S_4: trace similarity 1 with %s, 0 elsewhere (%.1e)", ir.name[key], err);
    /* the losses with a bias b_z per output: the trivial irrep holds it, and without the chi
       term the logits are b_z (+ a per-pair constant) */
    for (int z = 0; z < N; z++) P[z] = urand();
    for (int r = 0; r < NN; r++)
        for (int z = 0; z < N; z++) { L[r * N + z] += P[z]; X[r * N + z] = P[z]; }
    keys[0] = key; nk = 1;
    grok_logits_loss(&full, L, g.table, NN, N, NULL, 0);
    grok_logits_loss(&rest, X, g.table, NN, N, NULL, 0);
    CHECK(grok_irreps_losses(&r1, &t1, ex, re, L, N, NULL, NULL, keys, nk, &g, &ir) == GROK_OK, "logit-level losses");
    err = fmax(fabs(r1 - full), fmax(fabs(t1 - rest), fabs(ex[key] - rest)));
    for (int i = 1; i < ir.count; i++) {
        if (i != key) err = fmax(err, fmax(fabs(ex[i] - full), fabs(re[i] - rest)));
        else err = fmax(err, fabs(re[i] - full));
    }
    track(err);
    CHECK(err < 1e-12, "restricted = the loss %.4f, excluded = the bias alone's %.4f, restricted to each (%.1e)", full, rest, err);
    /* hidden level: X = L - base through W = I, with base constant per pair */
    for (int z = 0; z < N; z++) I[z * N + z] = 1;
    for (int r = 0; r < NN * N; r++) { base[r] = 0.25 * urand(); X[r] = L[r] - base[r]; }
    for (int r = 0; r < NN; r++) for (int z = 0; z < N; z++) base[r * N + z] = base[r * N];
    for (int r = 0; r < NN; r++) for (int z = 0; z < N; z++) X[r * N + z] = L[r * N + z] - base[r * N + z];
    CHECK(grok_irreps_losses(&r2, &t2, ex2, re2, X, N, I, base, keys, nk, &g, &ir) == GROK_OK, "hidden-level losses");
    err = fmax(fabs(r2 - r1), fabs(t2 - t1));
    for (int i = 0; i < ir.count; i++) err = fmax(err, fmax(fabs(ex2[i] - ex[i]), fabs(re2[i] - re[i])));
    track(err);
    CHECK(err < 1e-12, "hidden level through W = I, a per-pair base: the logit level's losses (%.1e)", err);
    /* pair norms and the projection: the logits are functions of x∘y only through chi, so with a
       random addition the rest is what no pair function holds */
    for (int r = 0; r < NN * N; r++) X[r] = urand();
    CHECK(grok_irreps_pair_norms(norms, &rest, X, N, &g, &ir) == GROK_OK, "pair norms");
    for (int i = 0; i < ir.count; i++) keep[i] = 1;
    CHECK(grok_irreps_pair_project(P, X, N, keep, &g, &ir) == GROK_OK, "pair projection");
    {
        double sx = 0, sp = 0, sn = 0, fib = 0;
        for (int r = 0; r < NN * N; r++) { sx += X[r] * X[r]; sp += P[r] * P[r]; }
        for (int i = 0; i < ir.count; i++) sn += norms[i];
        for (int r = 0; r < NN; r++) /* every pair of a fibre gets the fibre's mean */
            for (int z = 0; z < N; z++) {
                double m = 0;
                for (int s = 0; s < NN; s++) if (g.table[s] == g.table[r]) m += X[s * N + z];
                fib = fmax(fib, fabs(P[r * N + z] - m / N));
            }
        err = fmax(fmax(fabs(sn + rest - sx) / sx, fabs(sp - sn) / sx), fib);
        track(err);
        CHECK(err < 1e-12 && rest > 0, "pair norms + rest = ||X||^2, the projection onto all of them is the fibre mean (%.1e)", err);
    }
    CHECK(grok_irreps_losses(&r1, NULL, NULL, NULL, L, N + 1, NULL, NULL, keys, nk, &g, &ir) == GROK_ERR_ARG, "logit level needs cols = order");
    keys[0] = 99;
    CHECK(grok_irreps_losses(&r1, NULL, NULL, NULL, L, N, NULL, NULL, keys, nk, &g, &ir) == GROK_ERR_ARG, "a bad key refused");
    free(chi); free(L); free(X); free(P); free(I); free(base); free(keep);
    grok_irreps_free(&ir);
    grok_group_free(&g);
    group_end("irreps metrics", 1e-12);
}

/* A net and a transformer on S_3: the shares sum to 1, the loss is the net's own, the hidden
   level's excluded loss equals the one built from grok_irreps_pair_project, the transformer's
   base + hidden W_logit gives back its logits; the learning order. */
static void test_irreps_models(void)
{
    grok_group g;
    grok_irreps ir;
    grok_net net;
    grok_net_config nc;
    grok_model m;
    grok_config cfg;
    int keys[2], nk = 0, N, tokens[3 * 36], targets[3 * 36];
    double per[GROK_IRM_ROWS * 3], tot[GROK_IRT_N], loss, acc, err = 0;
    grok_group_init(&g, GROK_GROUP_SYMMETRIC, 3);
    grok_irreps_init(&ir, &g);
    N = g.order;
    memset(&nc, 0, sizeof nc);
    nc.kind = GROK_NET_MLP; nc.n = N; nc.embed_dim = 4; nc.hidden_dim = 10; nc.seed = 2;
    grok_net_init(&net, &nc, N * N);
    for (int r = 0; r < N * N; r++) { /* every pair, a-major */
        tokens[3 * r] = r / N; tokens[3 * r + 1] = r % N; tokens[3 * r + 2] = N;
        targets[3 * r] = targets[3 * r + 1] = -1; targets[3 * r + 2] = g.table[r];
    }
    CHECK(grok_net_irreps_metrics(per, tot, keys, &nk, &net, &g, &ir) == GROK_OK && nk >= 0 && nk < ir.count, "net metrics: %d keys", nk);
    { /* the derived keys are the non-trivial irreps of trace similarity > 0.05 */
        int want = 0, ok = 1;
        for (int i = 1; i < ir.count; i++) want += per[GROK_IRM_TRACE * ir.count + i] > 0.05;
        for (int k = 0; k < nk; k++) ok &= keys[k] >= 1 && per[GROK_IRM_TRACE * ir.count + keys[k]] > 0.05;
        CHECK(ok && nk == want, "net: %d keys, %d irreps of trace similarity > 0.05", nk, want);
    }
    grok_net_forward(&net, tokens, targets, N * N, &loss, &acc, NULL);
    for (int w = 0; w < 3; w++) {
        double s = 0;
        for (int i = 0; i < ir.count; i++) s += per[w * ir.count + i];
        err = fmax(err, fabs(s - 1));
    }
    CHECK(err < 1e-12 && fabs(tot[GROK_IRT_LOSS] - loss) < 1e-5 * loss, "net: embedding shares sum to 1 (%.1e), loss %.6f vs forward %.6f",
          err, tot[GROK_IRT_LOSS], loss);
    {
        double s = 0;
        for (int i = 0; i < ir.count; i++) s += per[GROK_IRM_HIDDEN * ir.count + i];
        CHECK(s > 0 && s <= 1 + 1e-12, "net: hidden shares %.4f in (0, 1]", s);
    }
    { /* the y embedding is the total one, W_E_b @ W[E:] */
        const float *Wb = net.weights + grok_net_param(&net, "W_E_b")->offset, *W = net.weights + grok_net_param(&net, "W")->offset;
        double ey[6 * 10], nrm[3], total = 0;
        for (int x = 0; x < N; x++)
            for (int j = 0; j < 10; j++) {
                double v = 0;
                for (int k = 0; k < 4; k++) v += (double)Wb[x * 4 + k] * W[(4 + k) * 10 + j];
                ey[x * 10 + j] = v;
            }
        grok_irreps_norms(nrm, ey, 10, 0, &ir);
        for (int i = 0; i < 3; i++) total += nrm[i];
        err = 0;
        for (int i = 0; i < 3; i++) err = fmax(err, fabs(nrm[i] / total - per[GROK_IRM_EMBED_Y * 3 + i]));
        CHECK(err < 1e-12, "net: the y embedding's shares are those of W_E_b @ W[E:] (%.1e)", err);
    }
    grok_net_free(&net);
    memset(&cfg, 0, sizeof cfg);
    cfg.n_layers = 1; cfg.n_heads = 2; cfg.d_model = 8; cfg.d_head = 4; cfg.d_mlp = 12; cfg.d_vocab = N + 1;
    cfg.d_vocab_out = N; cfg.n_ctx = 3; cfg.act_fn = GROK_ACT_RELU; cfg.seed = 4; cfg.train_biases = 1;
    CHECK(grok_model_init(&m, &cfg, N * N) == GROK_OK, "model");
    for (int i = 0; i < m.n_params; i++) /* non-zero biases: they belong in the base */
        if (strstr(m.params[i].name, ".b_"))
            for (size_t j = 0; j < m.params[i].numel; j++) m.weights[m.params[i].offset + j] = (float)(0.2 * urand());
    nk = 1; keys[0] = 1;
    CHECK(grok_model_irreps_metrics(per, tot, keys, &nk, &m, &g, &ir) == GROK_OK, "model metrics");
    { /* the hidden level's excluded loss of irrep 2, rebuilt from the projection */
        int NN = N * N, M = cfg.d_mlp, keep[3] = {0, 0, 1};
        float *lg = (float *)malloc(sizeof(float) * NN * N), *acts = (float *)malloc(sizeof(float) * NN * M);
        double *A = (double *)malloc(sizeof(double) * NN * M), *PA = (double *)malloc(sizeof(double) * NN * M),
               *Wl = (double *)malloc(sizeof(double) * M * N), *L = (double *)malloc(sizeof(double) * NN * N), l2;
        grok_modadd_run(lg, acts, NULL, NULL, NULL, &m);
        grok_modadd_wlogit(Wl, NULL, &m);
        for (int i = 0; i < NN * M; i++) A[i] = acts[i];
        grok_irreps_pair_project(PA, A, M, keep, &g, &ir);
        for (int r = 0; r < NN; r++)
            for (int z = 0; z < N; z++) {
                double s = lg[r * N + z];
                for (int j = 0; j < M; j++) s -= PA[r * M + j] * Wl[j * N + z];
                L[r * N + z] = s;
            }
        grok_logits_loss(&l2, L, g.table, NN, N, NULL, 0);
        CHECK(fabs(per[GROK_IRM_EXCL_HIDDEN * 3 + 2] - l2) < 1e-6 * l2, "model: excluded hidden loss %.6f, rebuilt %.6f",
              per[GROK_IRM_EXCL_HIDDEN * 3 + 2], l2);
        free(lg); free(acts); free(A); free(PA); free(Wl); free(L);
    }
    nk = 3;
    CHECK(grok_model_irreps_metrics(per, tot, keys, &nk, &m, &g, &ir) == GROK_ERR_ARG, "3 keys of 3 irreps refused");
    grok_model_free(&m);
    { /* learning order: irrep 2 from the first checkpoint, irrep 1 only from 400 (it dips at 300), irrep 3 falls off */
        double sh[4 * 4] = {0, 0.01, 0.2, 0.5,  0, 0.2, 0.3, 0.6,  0, 0.01, 0.4, 0.2,  0, 0.3, 0.5, 0.01};
        long ep[4] = {100, 200, 300, 400}, learned[4];
        int order[4], n_order = 0;
        CHECK(grok_irreps_learn_order(learned, order, &n_order, sh, ep, 4, 4, 0.1) == GROK_OK && n_order == 2 && order[0] == 2 &&
              order[1] == 1 && learned[1] == 400 && learned[2] == 100 && learned[3] == -1 && learned[0] == -1,
              "learning order: %d irreps, %d then %d, learned at %ld, %ld", n_order, order[0], order[1], learned[2], learned[1]);
        ep[2] = 200;
        CHECK(grok_irreps_learn_order(learned, order, &n_order, sh, ep, 4, 4, 0.1) == GROK_ERR_ARG, "epochs not ascending refused");
    }
    grok_irreps_free(&ir);
    grok_group_free(&g);
}

/* ------------------------------------------------ the local learning coefficient */

/* Linear regression y = X w + noise, L(w) = 1/(2n) sum (x_i.w - y_i)^2 over the given rows: a
   regular model, whose LLC is d/2; with localization gamma and nbeta the tempered posterior's
   exact value is 1/2 sum_i nbeta h_i / (nbeta h_i + gamma), h_i the eigenvalues of X^T X / n. */
typedef struct { int n, d; const double *X, *y; } linreg;

static int linreg_loss(void *ctx, const float *w, const int *rows, int n_rows, double *loss, float *grad)
{
    const linreg *r = (const linreg *)ctx;
    double g[8] = {0}, sum = 0.0;
    int i, j;
    for (i = 0; i < n_rows; i++) {
        const double *x = r->X + (size_t)rows[i] * r->d;
        double e = -r->y[rows[i]];
        for (j = 0; j < r->d; j++) e += x[j] * w[j];
        sum += 0.5 * e * e;
        for (j = 0; j < r->d; j++) g[j] += e * x[j];
    }
    for (j = 0; j < r->d; j++) grad[j] = (float)(g[j] / n_rows);
    *loss = sum / n_rows;
    return GROK_OK;
}

static void test_llc(void)
{
    enum { N = 1000, D = 4 };
    static double X[N * D], y[N], H[D * D], S[D];
    linreg r = {N, D, X, y};
    float w0[D];
    double llc, std, llc2, want = 0.0, nb;
    grok_llc_opts o;
    grok_rng g;
    int i, j, k;
    grok_rng_seed(&g, 3);
    for (i = 0; i < N * D; i++) X[i] = grok_rng_normal(&g);
    for (i = 0; i < N; i++) y[i] = X[i * D] - 2.0 * X[i * D + 1] + 0.5 * X[i * D + 3] + 0.3 * grok_rng_normal(&g);
    /* w0 = the least-squares solution, by the normal equations (D = 4) */
    for (i = 0; i < D; i++)
        for (j = 0; j < D; j++) {
            H[i * D + j] = 0;
            for (k = 0; k < N; k++) H[i * D + j] += X[k * D + i] * X[k * D + j] / N;
        }
    {
        double A[D * (D + 1)];
        for (i = 0; i < D; i++) {
            for (j = 0; j < D; j++) A[i * (D + 1) + j] = H[i * D + j];
            A[i * (D + 1) + D] = 0;
            for (k = 0; k < N; k++) A[i * (D + 1) + D] += X[k * D + i] * y[k] / N;
        }
        for (i = 0; i < D; i++)
            for (j = 0; j < D; j++)
                if (j != i) {
                    double f = A[j * (D + 1) + i] / A[i * (D + 1) + i];
                    for (k = 0; k <= D; k++) A[j * (D + 1) + k] -= f * A[i * (D + 1) + k];
                }
        for (i = 0; i < D; i++) w0[i] = (float)(A[i * (D + 1) + D] / A[i * (D + 1) + i]);
    }
    grok_svd(NULL, S, NULL, H, D, D, 0); /* H is symmetric positive definite: its singular values are its eigenvalues */
    memset(&o, 0, sizeof o);
    o.batch = N;              /* full batch: the estimator's only noise is the sampler's */
    o.chains = 8; o.draws = 4000; o.burnin = 500; o.step_size = 5e-4; o.seed = 11;
    o.localization = 0.01;    /* next to nbeta h ~ 145: the posterior is the unlocalised one */
    CHECK(grok_llc_sgld(&llc, &std, w0, D, N, linreg_loss, &r, &o) == GROK_OK, "grok_llc_sgld: %s", grok_last_error());
    CHECK(fabs(llc - D / 2.0) < 0.1 * D / 2.0, "linear regression, d = 4: llc %.3f (chains' std %.3f), want d/2 = 2 within 10%%",
          llc, std);
    printf("llc of linear regression (d = 4, n = 1000, nbeta = n/log n): %.3f, std over 8 chains %.3f; d/2 = 2\n", llc, std);
    CHECK(grok_llc_sgld(&llc2, NULL, w0, D, N, linreg_loss, &r, &o) == GROK_OK && llc2 == llc, "the same seed, the same bits");
    o.seed = 12;
    CHECK(grok_llc_sgld(&llc2, NULL, w0, D, N, linreg_loss, &r, &o) == GROK_OK && llc2 != llc, "another seed, another draw");
    o.localization = 100.0; /* devinterp's: the localised posterior's value, below d/2 */
    nb = N / log((double)N);
    for (i = 0; i < D; i++) want += 0.5 * nb * S[i] / (nb * S[i] + o.localization);
    CHECK(grok_llc_sgld(&llc, NULL, w0, D, N, linreg_loss, &r, &o) == GROK_OK && fabs(llc - want) < 0.1 * want,
          "localization 100: llc %.3f, the localised posterior's %.3f", llc, want);
    o.step_size = -1;
    CHECK(grok_llc_sgld(&llc, NULL, w0, D, N, linreg_loss, &r, &o) == GROK_ERR_ARG && strstr(grok_last_error(), "step_size"),
          "a negative step size refused");
    {   /* a transformer: deterministic for a seed, its weights and gradients as they were, frozen tensors out of it */
        grok_config cfg = grok_config_modadd(7);
        grok_data tr, te;
        grok_model m;
        float *w, *gr;
        cfg.d_model = 16; cfg.d_head = 4; cfg.d_mlp = 32;
        grok_task_modadd(&tr, &te, 7, 0.6, 2);
        grok_model_init(&m, &cfg, 8); /* smaller than the 29 training rows: minibatches in chunks */
        for (i = 0; i < (int)m.num_parameters; i++) m.grads[i] = 0.5f;
        w = (float *)malloc(sizeof(float) * m.num_parameters);
        gr = (float *)malloc(sizeof(float) * m.num_parameters);
        memcpy(w, m.weights, sizeof(float) * m.num_parameters);
        memcpy(gr, m.grads, sizeof(float) * m.num_parameters);
        memset(&o, 0, sizeof o);
        o.chains = 2; o.draws = 20; o.batch = 20; o.seed = 5;
        CHECK(grok_model_llc(&llc, &std, &m, &tr, &o) == GROK_OK && isfinite(llc) && isfinite(std), "grok_model_llc: %s",
              grok_last_error());
        CHECK(memcmp(w, m.weights, sizeof(float) * m.num_parameters) == 0 && memcmp(gr, m.grads, sizeof(float) * m.num_parameters) == 0,
              "the model's weights and gradients as they were");
        CHECK(grok_model_llc(&llc2, NULL, &m, &tr, &o) == GROK_OK && llc2 == llc, "the model's llc: the same seed, the same bits (%g)", llc);
        CHECK(grok_model_llc(&llc2, NULL, &m, &te, &o) == GROK_ERR_ARG || llc2 != llc, "another data set, another value");
        free(w); free(gr);
        grok_model_free(&m);
        grok_data_free(&tr); grok_data_free(&te);
    }
}

int main(void)
{
    test_dft_direct();
    test_fft_roundtrip_strided();
    test_fft_axis_2d();
    test_rfft_shift();
    test_fourier();
    test_group_fourier();
    test_group_fourier_cells();
    test_irreps();
    test_irreps_fourier();
    test_irreps_metrics();
    test_irreps_models();
    test_svd();
    test_lstsq();
    test_errors();
    test_figures();
    test_dla_sum();
    test_dla_circuits();
    test_dla_all_positions();
    test_patching();
    test_llc();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
