/* Times the analysis DFT paths on the seed-000 shapes, against FFTW when built with
   -DGROK_HAVE_FFTW (-lfftw3): FFTW_MEASURE, one thread, fftw_plan_many_dft, in place.
     1-D: n = 113 along axis 0 of a (113, 128) complex array (the FFT of W_E's columns)
     2-D: 113 x 113 over the first two axes of a (113, 113, 512) complex array (neuron acts)
   and the real Fourier basis as a matrix product on the same shapes (real data).
   Reports the median of several repetitions. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "bench_common.h"
#ifdef GROK_HAVE_FFTW
#include <fftw3.h>
#endif


static void fill(double *a, size_t n)
{
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        a[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
    }
}

static void row(const char *what, double ours, double ref)
{
    if (ref > 0) printf("  %-44s %9.3f ms %9.3f ms %7.2f\n", what, ours, ref, ours / ref);
    else printf("  %-44s %9.3f ms %12s %7s\n", what, ours, "-", "-");
}

int main(void)
{
    const int p = 113, cols = 128, neurons = 512;
    const long n1 = (long)p * cols, n2 = (long)p * p * neurons;
    double *c1 = (double *)malloc(sizeof(double) * 2 * n1), *r1 = (double *)malloc(sizeof(double) * n1);
    double *o1 = (double *)malloc(sizeof(double) * n1);
    double *c2 = (double *)malloc(sizeof(double) * 2 * n2), *r2 = (double *)malloc(sizeof(double) * n2);
    double *o2 = (double *)malloc(sizeof(double) * n2);
    double t_ours, t_ref = 0, t;
    int shape1[2], shape3[3];
    grok_fft_plan *pl;
    shape1[0] = p; shape1[1] = cols;
    shape3[0] = p; shape3[1] = p; shape3[2] = neurons;
    fill(c1, 2 * n1); fill(r1, n1); fill(c2, 2 * n2); fill(r2, n2);
    if (grok_fft_plan_create(&pl, p) != GROK_OK) return printf("%s\n", grok_last_error()), 1;

    printf("bench_fft: median ms per call (one thread)%s\n",
#ifdef GROK_HAVE_FFTW
           ", ratio = ours / FFTW (FFTW_MEASURE, fftw_plan_many_dft)"
#else
           "; built without FFTW (no comparison)"
#endif
    );
    printf("  %-44s %12s %12s %7s\n", "", "grok", "FFTW", "ratio");
    printf(" 1-D, n = 113 along axis 0 of (113, 128)\n");
#ifdef GROK_HAVE_FFTW
    {
        int n = p;
        fftw_plan fp = fftw_plan_many_dft(1, &n, cols, (fftw_complex *)c1, NULL, cols, 1, (fftw_complex *)c1, NULL, cols, 1,
                                          FFTW_FORWARD, FFTW_MEASURE);
        fill(c1, 2 * n1);
        BENCH_TIME_MS(t_ref, 15, 20, fftw_execute(fp));
        fftw_destroy_plan(fp);
    }
#endif
    BENCH_TIME_MS(t_ours, 15, 20, grok_fft_execute(pl, c1, cols, cols, 1, 0));
    row("complex FFT, plan made beforehand", t_ours, t_ref);
    BENCH_TIME_MS(t, 15, 20, grok_fft_axis(c1, 2, shape1, 0, 0));
    row("complex FFT, grok_fft_axis (plans each call)", t, t_ref);
    BENCH_TIME_MS(t, 15, 20, grok_fourier_1d(o1, r1, p, cols));
    row("real basis, grok_fourier_1d (matmul)", t, t_ref);

    printf(" 2-D, 113 x 113 over the first two axes of (113, 113, 512)\n");
#ifdef GROK_HAVE_FFTW
    {
        int n[2];
        fftw_plan fp;
        n[0] = p; n[1] = p;
        fp = fftw_plan_many_dft(2, n, neurons, (fftw_complex *)c2, NULL, neurons, 1, (fftw_complex *)c2, NULL, neurons, 1,
                                FFTW_FORWARD, FFTW_MEASURE);
        fill(c2, 2 * n2);
        BENCH_TIME_MS(t_ref, 5, 1, fftw_execute(fp));
        fftw_destroy_plan(fp);
    }
#endif
    BENCH_TIME_MS(t_ours, 5, 1, {
        for (int x = 0; x < p; x++) grok_fft_execute(pl, c2 + 2L * x * p * neurons, neurons, neurons, 1, 0);
        grok_fft_execute(pl, c2, (long)p * neurons, (long)p * neurons, 1, 0);
    });
    row("complex FFT, plan made beforehand", t_ours, t_ref);
    BENCH_TIME_MS(t, 5, 1, { grok_fft_axis(c2, 3, shape3, 1, 0); grok_fft_axis(c2, 3, shape3, 0, 0); });
    row("complex FFT, grok_fft_axis x2", t, t_ref);
    BENCH_TIME_MS(t, 5, 1, grok_fourier_2d(o2, r2, p, neurons));
    row("real basis, grok_fourier_2d (matmul)", t, t_ref);
#ifdef GROK_HAVE_FFTW
    {   /* for scale: FFTW on the real data (r2c), the same information as the real basis */
        int n[2];
        double t_r2c;
        fftw_plan fp;
        n[0] = p; n[1] = p;
        fp = fftw_plan_many_dft_r2c(2, n, neurons, r2, NULL, neurons, 1, (fftw_complex *)c2, NULL, neurons, 1, FFTW_MEASURE);
        fill(r2, n2);
        BENCH_TIME_MS(t_r2c, 5, 1, fftw_execute(fp));
        printf("  %-44s %12s %9.3f ms\n", "FFTW real input (r2c), for scale", "", t_r2c);
        fftw_destroy_plan(fp);
    }
#endif
    grok_fft_plan_free(pl);
    free(c1); free(r1); free(o1); free(c2); free(r2); free(o2);
    return 0;
}
