/* bench/train: ms per epoch of the canonical run (seed 000's model, p = 113, 3830 training
   rows, full batch: forward + backward + AdamW), the FLOPs the folded step executes, the
   achieved GFLOP/s against this machine's peak measured in the same invocation, the projected
   25,000-epoch run (progress measures with the test metrics and checkpoint every 100 epochs
   included, as in make run), and PyTorch's time for the same epoch at 1 and 2 threads
   (bench/torch_epoch.py) when python3-torch is there.
   Usage: bench/train [epochs]   (writes bench/results/train.txt)
   bench/train_cuda [epochs] --device cuda (make cuda: this file built with GROK_CUDA and linked
   with grok_cuda.o): ms per epoch on the CUDA device, with and without the epoch's CUDA graph,
   and the GFLOP/s of the general path it executes (writes bench/results/train_cuda.txt). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "bench_common.h"
#include <string.h>

/* FLOPs of one training step on the folded path (GROK_PATH_FOLDED, which a one-layer model
   without LayerNorm takes; multiply-add = 2), counted from what it executes for the data set d:
   forward, then backward = twice the forward's GEMM work.
   - Q/K/V table over Vin*T rows: 3 x 2*Nt*C*3HD
   - attention of the Q query rows over their keys: scores, dq, dk: 3 x 2*Q*keys*D*H
   - Y = v @ W_O over the n_att attended table rows: 3 x 2*n_att*HD*C
   - fold_tab = fold_src @ [W_in | W_U] over n_att*H + n_own + 2 rows: 3 x 2*Nsrc*C*(M+V)
   - W_out @ W_U: 3 x 2*M*C*V
   - per query: gather, scatter and d pattern over (keys*H + 1) rows of M+V: 3 x 2*(keys*H+1)*(M+V)
   - mlp_post @ (W_out W_U) and its two gradients: 3 x 2*Q*M*V */
static double step_flops(const grok_config *c, const grok_data *d)
{
    double C = c->d_model, H = c->n_heads, HD = H * c->d_head, M = c->d_mlp, V = c->d_vocab_out, S = M + V;
    int T = c->n_ctx, Nt = T * c->d_vocab, i, u, n_att = 0, n_own = 0;
    double Q = 0, keys = 0, flops;
    char *att = (char *)calloc((size_t)Nt, 2);
    for (i = 0; i < d->n * T; i++) {
        int t = i % T, first = i - t;
        if (d->targets[i] < 0) continue;
        Q += 1;
        keys += t + 1;
        for (u = 0; u <= t; u++) att[d->tokens[first + u] * T + u] = 1;
        att[Nt + d->tokens[i] * T + t] = 1;
    }
    for (i = 0; i < Nt; i++) { n_att += att[i]; n_own += att[Nt + i]; }
    free(att);
    flops = 3.0 * (2.0 * Nt * C * 3.0 * HD + 2.0 * keys * HD + 2.0 * n_att * HD * C
                   + 2.0 * (n_att * H + n_own + 2) * C * S + 2.0 * M * C * V
                   + 2.0 * (keys * H + Q) * S + 2.0 * Q * M * V);
    return flops;
}

/* Median ms per epoch of PyTorch at `threads`, or -1 when it cannot run. */
static double torch_ms(int threads)
{
    char cmd[256], line[256];
    double ms = -1.0;
    FILE *f;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 bench/torch_epoch.py --threads %d --epochs 20 2>/dev/null", threads);
    f = popen(cmd, "r");
    if (!f) return -1.0;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "median_ms=");
        if (p) ms = atof(p + 10);
    }
    pclose(f);
    return ms;
}

/* The epoch as grok_train runs it (forward, backward, the update with its NaN guard), one
   grok_train call per epoch, with no test set, evaluation or checkpoint. */
static double time_epochs(grok_model *m, const grok_data *tr, int threads, int epochs, double *t)
{
    grok_train_opts o = grok_train_opts_default();
    int e;
    o.eval_every = 1 << 30; o.checkpoint_every = 0; o.progress = 0; o.out_dir = NULL;
    grok_threads_set(threads);
    for (e = -10; e < epochs; e++) {
        double t0 = bench_now();
        o.epochs = m->epoch + 1;
        if (grok_train(m, &o, tr, NULL) != GROK_OK) {
            fprintf(stderr, "bench/train: %s\n", grok_last_error());
            exit(1);
        }
        if (e >= 0) t[e] = bench_now() - t0;
    }
    return bench_median(t, epochs) * 1e3;
}

#ifdef GROK_CUDA
/* FLOPs of one general-path training step, every position (what the device executes): per
   layer the Q/K/V, W_O, W_in and W_out GEMMs (2 forward + 4 backward per multiply-add pair)
   and per sequence and head the four (T,T,D) attention products forward and backward. */
static double general_step_flops(const grok_config *c, double B)
{
    double T = c->n_ctx, R = B * T, C = c->d_model, H = c->n_heads, D = c->d_head, HD = H * D;
    double M = c->d_mlp, V = c->d_vocab_out;
    double layer = 6.0 * R * (3.0 * C * HD + HD * C + 2.0 * C * M) + 12.0 * B * H * T * T * D;
    return c->n_layers * layer + 6.0 * R * C * V;
}

static int bench_cuda(int epochs)
{
    grok_config cfg = grok_config_modadd(113);
    grok_data tr, te;
    grok_model m;
    grok_cuda *g = NULL;
    double ms[2], flops, t0, eval_ms;
    int graph[2], k;
    FILE *out;
    if (grok_task_modadd(&tr, &te, 113, 0.3, 598) != GROK_OK || grok_model_init(&m, &cfg, tr.n) != GROK_OK ||
        grok_cuda_init(&g, &m) != GROK_OK || grok_cuda_set_data(g, &tr, &te) != GROK_OK) {
        fprintf(stderr, "bench/train --device cuda: %s\n", grok_last_error());
        return 1;
    }
    flops = general_step_flops(&cfg, tr.n);
    for (k = 0; k < 2; k++) { /* k = 0 with the epoch graph, 1 without */
        grok_cuda_use_graph(g, k == 0);
        if (grok_cuda_train_epochs(g, &m, 10, NULL, NULL) != GROK_OK) break; /* warm-up, and the capture */
        graph[k] = grok_cuda_graph_active(g);
        t0 = bench_now();
        if (grok_cuda_train_epochs(g, &m, epochs, NULL, NULL) != GROK_OK) break;
        ms[k] = (bench_now() - t0) * 1e3 / epochs;
    }
    if (k < 2) {
        fprintf(stderr, "bench/train --device cuda: %s\n", grok_last_error());
        return 1;
    }
    t0 = bench_now();
    grok_cuda_evaluate(g, 1, NULL, NULL);
    grok_cuda_evaluate(g, 0, NULL, NULL);
    eval_ms = (bench_now() - t0) * 1e3;
    printf("canonical epoch (p=113, 3830 rows, forward+backward+AdamW) on the CUDA device, mean of %d epochs\n", epochs);
    printf("FLOPs executed per step (general path, every position): %.3f GFLOP\n", flops * 1e-9);
    printf("epoch graph  ms/epoch  GFLOP/s\n");
    for (k = 0; k < 2; k++)
        printf("%-11s %9.3f %8.1f\n", k == 0 ? (graph[0] ? "on" : "on (failed)") : "off", ms[k], flops / ms[k] * 1e-6);
    printf("evaluation of train+test %.2f ms; projected 25,000-epoch run %.1f s\n", eval_ms,
           (25000.0 * ms[0] + 250.0 * eval_ms) / 1000.0);
    out = fopen("bench/results/train_cuda.txt", "w");
    if (out) {
        fprintf(out, "epoch_ms_graph=%.4f epoch_ms_nograph=%.4f graph_active=%d gflop_per_step=%.4f eval_ms=%.3f\n", ms[0],
                ms[1], graph[0], flops * 1e-9, eval_ms);
        fclose(out);
    }
    grok_cuda_free(g);
    grok_model_free(&m);
    grok_data_free(&tr);
    grok_data_free(&te);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    int epochs = 100, th, i, cuda = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            i++;
            cuda = strcmp(argv[i], "cuda") == 0;
            if (!cuda && strcmp(argv[i], "cpu") != 0) {
                fprintf(stderr, "bench/train: --device cpu or cuda, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            epochs = atoi(argv[i]);
        }
    }
    if (cuda) {
#ifdef GROK_CUDA
        return bench_cuda(epochs < 5 ? 5 : epochs);
#else
        fprintf(stderr, "bench/train: built without GROK_CUDA; make cuda builds bench/train_cuda\n");
        return 2;
#endif
    }
    grok_config cfg = grok_config_modadd(113);
    grok_data tr, te;
    grok_model m;
    double *t, ms[2], peak[2], flops, progress_ms, ckpt_ms, projected, tms[2], t0, pm[5];
    FILE *out;
    if (epochs < 5) epochs = 5;
    t = (double *)malloc(sizeof(double) * (size_t)epochs);
    if (grok_task_modadd(&tr, &te, 113, 0.3, 598) != GROK_OK || grok_model_init(&m, &cfg, tr.n) != GROK_OK) {
        fprintf(stderr, "bench/train: %s\n", grok_last_error());
        return 1;
    }
    flops = step_flops(&cfg, &tr);
    for (th = 1; th <= 2; th++) {
        double wide = bench_peak_gflops(th, 1), narrow = bench_peak_gflops(th, 0);
        peak[th - 1] = wide > narrow ? wide : narrow;
        ms[th - 1] = time_epochs(&m, &tr, th, epochs, t);
    }
    /* what grok_train adds every 100 epochs: the progress measures, whose forward over all p^2
       pairs also gives the test metrics (the training metrics come from the step's forward),
       and the checkpoint */
    t0 = bench_now();
    grok_modadd_progress(pm, &m, &tr, NULL, NULL, 0);
    progress_ms = (bench_now() - t0) * 1e3;
    t0 = bench_now();
    grok_checkpoint_save(&m, "/tmp/grok_bench_ckpt.grok", 1);
    ckpt_ms = (bench_now() - t0) * 1e3;
    remove("/tmp/grok_bench_ckpt.grok");
    projected = (25000.0 * ms[1] + 250.0 * (progress_ms + ckpt_ms)) / 1000.0;
    tms[0] = torch_ms(1);
    tms[1] = torch_ms(2);

    printf("canonical epoch (p=113, 3830 rows, forward+backward+AdamW), median of %d epochs, kernel %s\n",
           epochs, grok_gemm_kernel_name());
    printf("FLOPs executed per step (folded path): %.3f GFLOP\n", flops * 1e-9);
    printf("threads  ms/epoch  GFLOP/s  peak GFLOP/s  %% of peak\n");
    for (th = 1; th <= 2; th++)
        printf("%7d %9.2f %8.1f %13.1f %10.1f\n", th, ms[th - 1], flops / ms[th - 1] * 1e-6, peak[th - 1],
               100.0 * flops / ms[th - 1] * 1e-6 / peak[th - 1]);
    printf("progress measures with the test metrics %.1f ms, checkpoint %.1f ms, each every 100 epochs\n", progress_ms,
           ckpt_ms);
    printf("projected 25,000-epoch run at 2 threads: %.0f s (%.1f min)\n", projected, projected / 60.0);
    if (tms[0] > 0 && tms[1] > 0) {
        double best = tms[0] < tms[1] ? tms[0] : tms[1];
        printf("PyTorch %s: %.1f ms/epoch at 1 thread, %.1f at 2; grok.h (2 threads) is %.1fx faster than\n"
               "PyTorch at 2 threads and %.1fx faster than PyTorch at its best thread count\n",
               "(bench/torch_epoch.py)", tms[0], tms[1], tms[1] / ms[1], best / ms[1]);
    } else {
        printf("PyTorch: not installed (apt-get install python3-torch), no comparison\n");
    }
    out = fopen("bench/results/train.txt", "w");
    if (out) {
        fprintf(out, "epoch_ms_1t=%.3f epoch_ms_2t=%.3f gflop_per_step=%.4f peak_1t=%.1f peak_2t=%.1f progress_ms=%.2f ckpt_ms=%.2f "
                     "projected_s=%.1f torch_ms_1t=%.2f torch_ms_2t=%.2f\n",
                ms[0], ms[1], flops * 1e-9, peak[0], peak[1], progress_ms, ckpt_ms, projected, tms[0], tms[1]);
        fclose(out);
    }
    if (tms[1] > 0)
        printf("canonical epoch_ms=%.2f torch_ms=%.2f speedup=%.1f gflops=%.1f peak_pct=%.1f\n", ms[1], tms[1],
               tms[1] / ms[1], flops / ms[1] * 1e-6, 100.0 * flops / ms[1] * 1e-6 / peak[1]);
    else
        printf("canonical epoch_ms=%.2f torch_ms=none speedup=none gflops=%.1f peak_pct=%.1f\n", ms[1],
               flops / ms[1] * 1e-6, 100.0 * flops / ms[1] * 1e-6 / peak[1]);
    grok_model_free(&m);
    grok_data_free(&tr);
    grok_data_free(&te);
    free(t);
    return 0;
}
