/* bench/peak: this machine's measured FP32 FMA peak, 1 and 2 threads, 512- and 256-bit.
   Usage: bench/peak   (writes bench/results/peak.txt) */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "bench_common.h"

int main(void)
{
    double p[2][2];
    int t, w;
    FILE *f;
    for (t = 1; t <= 2; t++)
        for (w = 0; w < 2; w++) p[t - 1][w] = bench_peak_gflops(t, w == 0);
    printf("FP32 FMA peak, GFLOP/s (best of 5, 12 independent FMA chains per thread)\n");
    printf("threads   avx512   avx2\n");
    for (t = 1; t <= 2; t++) printf("%7d %8.1f %6.1f\n", t, p[t - 1][0], p[t - 1][1]);
    f = fopen("bench/results/peak.txt", "w");
    if (f) {
        fprintf(f, "peak_1t_avx512=%.1f peak_1t_avx2=%.1f peak_2t_avx512=%.1f peak_2t_avx2=%.1f\n",
                p[0][0], p[0][1], p[1][0], p[1][1]);
        fclose(f);
    }
    printf("peak gflops_1t=%.1f gflops_2t=%.1f\n", p[0][0] > p[0][1] ? p[0][0] : p[0][1],
           p[1][0] > p[1][1] ? p[1][0] : p[1][1]);
    return 0;
}
