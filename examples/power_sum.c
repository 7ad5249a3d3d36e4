/* power_sum - seed 001's task: the canonical one-layer transformer learns (a^m + b^n) mod p
   (m = n = 4) from 30% of all pairs, with modular addition's config and split.

   Usage: power_sum [--p 113] [--m 4] [--n 4] [--frac 0.3] [--lr 1e-3] [--wd 1] [--epochs 25000]
                    [--every 100] [--seed 999] [--data-seed 598] [--threads N] [--out runs/power_sum]
                    [--help]
   Writes OUT/metrics.csv and OUT/latest.grok (every --every epochs), at the end
   OUT/summary.json and OUT/model.safetensors (TransformerLens names); prints when test accuracy
   first reached 50% and 99%, the key frequencies of W_E, and how long it took. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    long first_50, first_99;
} milestones;

/* Records the first evaluation at which test accuracy reached 50% and 99%. */
static int on_eval(const grok_model *m, void *ctx)
{
    milestones *ms = (milestones *)ctx;
    if (ms->first_50 < 0 && m->metrics.test_acc >= 0.5) ms->first_50 = m->epoch;
    if (ms->first_99 < 0 && m->metrics.test_acc >= 0.99) ms->first_99 = m->epoch;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: power_sum [options]\n"
            "Trains seed 000's transformer on seed 001's task (a^m + b^n) mod p and reports when it groks.\n"
            "  --p N          modulus (113)\n"
            "  --m N, --n N   exponents (4, 4)\n"
            "  --frac X       fraction of the p*p pairs used for training (0.3)\n"
            "  --lr X         AdamW learning rate (1e-3)\n"
            "  --wd X         AdamW weight decay (1.0); betas are (0.9, 0.98)\n"
            "  --epochs N     full-batch epochs (25000)\n"
            "  --every N      evaluate and checkpoint every N epochs (100)\n"
            "  --seed N       model initialisation seed (999)\n"
            "  --data-seed N  train/test split seed (598)\n"
            "  --threads N    worker threads (GROK_THREADS, else all cores)\n"
            "  --out DIR      output directory (runs/power_sum)\n"
            "  --help         this text\n");
}

static void fmt_epoch(char *buf, size_t n, long e)
{
    if (e >= 0) snprintf(buf, n, "%ld", e);
    else snprintf(buf, n, "none");
}

int main(int argc, char **argv)
{
    int p = 113, em = 4, en = 4, threads = 0, i, st, nf, n_key = 0, *keys = NULL;
    double frac = 0.3, lr = 1e-3, wd = 1.0, seconds, *norms = NULL, *share = NULL;
    long epochs = 25000, every = 100;
    unsigned long long seed = 999, data_seed = 598;
    const char *out = "runs/power_sum";
    grok_config cfg;
    grok_data train, test;
    grok_model m;
    grok_train_opts opts = grok_train_opts_default();
    milestones ms = {-1, -1};
    struct timespec t0, t1;
    char first50[32], first99[32], path[4096];

    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!v) { fprintf(stderr, "power_sum: %s needs a value (or unknown option)\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--p")) p = atoi(v);
        else if (!strcmp(a, "--m")) em = atoi(v);
        else if (!strcmp(a, "--n")) en = atoi(v);
        else if (!strcmp(a, "--frac")) frac = atof(v);
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--wd")) wd = atof(v);
        else if (!strcmp(a, "--epochs")) epochs = atol(v);
        else if (!strcmp(a, "--every")) every = atol(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--data-seed")) data_seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--out")) out = v;
        else { fprintf(stderr, "power_sum: unknown option %s\n", a); usage(stderr); return 2; }
    }
    if (threads > 0 && grok_threads_set(threads) != 0) { fprintf(stderr, "power_sum: bad --threads %d\n", threads); return 2; }
    if (epochs < 1 || every < 1) { fprintf(stderr, "power_sum: --epochs and --every must be >= 1\n"); return 2; }

    if ((st = grok_task_modop(&train, &test, GROK_OP_POW_SUM, p, em, en, frac, data_seed)) != GROK_OK) {
        fprintf(stderr, "power_sum: %s\n", grok_last_error());
        return 1;
    }
    cfg = grok_config_modadd(p);
    cfg.seed = seed;
    if ((st = grok_model_init(&m, &cfg, train.n)) != GROK_OK) {
        fprintf(stderr, "power_sum: %s\n", grok_last_error());
        grok_data_free(&train); grok_data_free(&test);
        return 1;
    }
    m.opt.lr = lr;
    m.opt.weight_decay = wd;
    opts.epochs = epochs;
    opts.eval_every = every;
    opts.checkpoint_every = every;
    opts.out_dir = out;
    opts.on_eval = on_eval;
    opts.on_eval_ctx = &ms;
    printf("power_sum: (a^%d + b^%d) mod %d, frac=%.3g (%d train, %d test) lr=%g wd=%g epochs=%ld seed=%llu data_seed=%llu\n",
           em, en, p, frac, train.n, test.n, lr, wd, epochs, seed, data_seed);
    printf("model: %zu parameters (%d tensors), %d threads, GEMM kernel %s\n", m.num_parameters, m.n_params,
           grok_threads_get(), grok_gemm_kernel_name());
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_train(&m, &opts, &train, &test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (st != GROK_OK) fprintf(stderr, "power_sum: training stopped at epoch %ld: %s\n", m.epoch, grok_last_error());
    fmt_epoch(first50, sizeof first50, ms.first_50);
    fmt_epoch(first99, sizeof first99, ms.first_99);
    printf("test accuracy first >= 50%% at epoch %s, >= 99%% at epoch %s; %.1f s (%.2f ms/epoch)\n", first50, first99,
           seconds, 1000.0 * seconds / (double)(m.epoch > 0 ? m.epoch : 1));

    /* which Fourier components of Z_p the embedding kept (seed 001's embedding norms) */
    nf = (p - 1) / 2;
    norms = (double *)malloc(sizeof(double) * (size_t)p);
    share = (double *)malloc(sizeof(double) * (size_t)(nf > 0 ? nf : 1));
    keys = (int *)malloc(sizeof(int) * (size_t)(nf > 0 ? nf : 1));
    if (norms && share && keys && p >= 3 &&
        grok_fourier_norms(norms, m.weights + grok_model_param(&m, "embed.W_E")->offset, p, m.cfg.d_model, 0) == GROK_OK &&
        grok_key_freqs(keys, share, &n_key, NULL, norms, p, 0.05) == GROK_OK) {
        printf("key frequencies of W_E (share of its non-constant Fourier norm >= 5%%):");
        for (i = 0; i < n_key; i++) printf(" %d (%.2f)", keys[i], share[i]);
        printf("\n");
    }
    free(norms); free(share); free(keys);
    {
        static const char *const keys_[5] = {"task", "p", "m", "n", "frac_train"};
        char pbuf[32], mbuf[32], nbuf[32], fbuf[32];
        const char *values[5];
        grok_run_info info;
        snprintf(pbuf, sizeof pbuf, "%d", p);
        snprintf(mbuf, sizeof mbuf, "%d", em);
        snprintf(nbuf, sizeof nbuf, "%d", en);
        snprintf(fbuf, sizeof fbuf, "%.17g", frac);
        values[0] = "power_sum"; values[1] = pbuf; values[2] = mbuf; values[3] = nbuf; values[4] = fbuf;
        memset(&info, 0, sizeof info);
        info.first_epoch_test_acc_50 = ms.first_50;
        info.first_epoch_test_acc_99 = ms.first_99;
        info.seconds = seconds;
        info.n_train = train.n;
        info.n_test = test.n;
        info.n_extra = 5;
        info.extra_keys = keys_;
        info.extra_values = values;
        snprintf(path, sizeof path, "%s/summary.json", out);
        if (grok_run_summary_save(path, &m, &info) != GROK_OK) fprintf(stderr, "power_sum: %s\n", grok_last_error());
        snprintf(path, sizeof path, "%s/model.safetensors", out);
        if (grok_model_save_safetensors(&m, path, NULL) != GROK_OK) fprintf(stderr, "power_sum: %s\n", grok_last_error());
    }
    printf("outputs: %s/metrics.csv, %s/latest.grok, %s/summary.json, %s/model.safetensors\n", out, out, out, out);
    printf("final epoch=%ld train_loss=%.6g test_loss=%.6g train_acc=%.4f test_acc=%.4f first_test_acc_99=%s seconds=%.1f\n",
           m.epoch, m.metrics.train_loss, m.metrics.test_loss, m.metrics.train_acc, m.metrics.test_acc, first99, seconds);
    grok_model_free(&m);
    grok_data_free(&train);
    grok_data_free(&test);
    return st == GROK_OK ? 0 : 1;
}
