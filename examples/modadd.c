/* modadd - the canonical grokking run of seed 000: a one-layer transformer learns
   (a + b) mod p from 30% of all pairs, memorises, then generalises long after.

   Usage: modadd [--p 113] [--frac 0.3] [--lr 1e-3] [--wd 1] [--epochs 25000] [--every 100]
                 [--seed 999] [--data-seed 598] [--threads N] [--out runs/modadd] [--help]
   Writes OUT/metrics.csv (every --every epochs) and OUT/latest.grok (weights + AdamW state,
   every --every epochs), and at the end OUT/summary.json (the run summary) and
   OUT/model.safetensors (the weights under TransformerLens names, for PyTorch); the last line
   on stdout is one summary for scripts. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
            "usage: modadd [options]\n"
            "Trains seed 000's transformer on (a + b) mod p and reports when it groks.\n"
            "  --p N          modulus (113)\n"
            "  --frac X       fraction of the p*p pairs used for training (0.3)\n"
            "  --lr X         AdamW learning rate (1e-3)\n"
            "  --wd X         AdamW weight decay (1.0); betas are (0.9, 0.98)\n"
            "  --epochs N     full-batch epochs (25000)\n"
            "  --every N      evaluate and checkpoint every N epochs (100)\n"
            "  --seed N       model initialisation seed (999)\n"
            "  --data-seed N  train/test split seed (598)\n"
            "  --threads N    worker threads (GROK_THREADS, else all cores)\n"
            "  --out DIR      output directory for metrics.csv and latest.grok (runs/modadd)\n"
            "  --no-measures  skip the progress measures (restricted/excluded loss, Gini, sum of\n"
            "                 squared weights) that metrics.csv and report.html otherwise carry\n"
            "  --help         this text\n");
}

int main(int argc, char **argv)
{
    int p = 113, threads = 0, measures = 1, i, st;
    double frac = 0.3, lr = 1e-3, wd = 1.0, seconds;
    long epochs = 25000, every = 100;
    unsigned long long seed = 999, data_seed = 598;
    const char *out = "runs/modadd";
    grok_config cfg;
    grok_data train, test;
    grok_model m;
    grok_train_opts opts = grok_train_opts_default();
    milestones ms = {-1, -1};
    struct timespec t0, t1;
    struct rusage ru;
    char first50[32], first99[32];

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--no-measures")) { measures = 0; continue; }
        if (!v) { fprintf(stderr, "modadd: %s needs a value (or unknown option)\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--p")) p = atoi(v);
        else if (!strcmp(a, "--frac")) frac = atof(v);
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--wd")) wd = atof(v);
        else if (!strcmp(a, "--epochs")) epochs = atol(v);
        else if (!strcmp(a, "--every")) every = atol(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--data-seed")) data_seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--out")) out = v;
        else { fprintf(stderr, "modadd: unknown option %s\n", a); usage(stderr); return 2; }
        i++;
    }
    if (threads > 0 && grok_threads_set(threads) != 0) { fprintf(stderr, "modadd: bad --threads %d\n", threads); return 2; }
    if (epochs < 1 || every < 1) { fprintf(stderr, "modadd: --epochs and --every must be >= 1\n"); return 2; }

    if ((st = grok_task_modadd(&train, &test, p, frac, data_seed)) != GROK_OK) {
        fprintf(stderr, "modadd: %s\n", grok_last_error());
        return 1;
    }
    cfg = grok_config_modadd(p);
    cfg.seed = seed;
    if ((st = grok_model_init(&m, &cfg, train.n)) != GROK_OK) {
        fprintf(stderr, "modadd: %s\n", grok_last_error());
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
    opts.progress_measures = measures;
    printf("modadd: p=%d frac=%.3g (%d train, %d test) lr=%g wd=%g epochs=%ld seed=%llu data_seed=%llu\n",
           p, frac, train.n, test.n, lr, wd, epochs, seed, data_seed);
    printf("model: %zu parameters (%d tensors), %d threads, GEMM kernel %s, %.1f MiB in one arena\n",
           m.num_parameters, m.n_params, grok_threads_get(), grok_gemm_kernel_name(), (double)m.arena.size / 1048576.0);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_train(&m, &opts, &train, &test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (st != GROK_OK) fprintf(stderr, "modadd: training stopped at epoch %ld: %s\n", m.epoch, grok_last_error());
    getrusage(RUSAGE_SELF, &ru);
    if (ms.first_50 >= 0) snprintf(first50, sizeof first50, "%ld", ms.first_50);
    else snprintf(first50, sizeof first50, "none");
    if (ms.first_99 >= 0) snprintf(first99, sizeof first99, "%ld", ms.first_99);
    else snprintf(first99, sizeof first99, "none");
    printf("test accuracy first >= 50%% at epoch %s, >= 99%% at epoch %s; %.1f s (%.2f ms/epoch); peak RSS %.1f MiB\n",
           first50, first99, seconds, 1000.0 * seconds / (double)(m.epoch > 0 ? m.epoch : 1), ru.ru_maxrss / 1024.0);
    {
        static const char *const keys[4] = {"task", "p", "frac_train", "data_seed"};
        char pbuf[32], fbuf[32], sbuf[32];
        const char *values[4];
        grok_run_info info;
        char path[4096];
        snprintf(pbuf, sizeof pbuf, "%d", p);
        snprintf(fbuf, sizeof fbuf, "%.17g", frac);
        snprintf(sbuf, sizeof sbuf, "%llu", data_seed);
        values[0] = "modadd"; values[1] = pbuf; values[2] = fbuf; values[3] = sbuf;
        memset(&info, 0, sizeof info);
        info.first_epoch_test_acc_50 = ms.first_50;
        info.first_epoch_test_acc_99 = ms.first_99;
        info.seconds = seconds;
        info.n_train = train.n;
        info.n_test = test.n;
        info.n_extra = 4;
        info.extra_keys = keys;
        info.extra_values = values;
        snprintf(path, sizeof path, "%s/summary.json", out);
        if (grok_run_summary_save(path, &m, &info) != GROK_OK) fprintf(stderr, "modadd: %s\n", grok_last_error());
        snprintf(path, sizeof path, "%s/model.safetensors", out);
        if (grok_model_save_safetensors(&m, path, m.weights) != GROK_OK) fprintf(stderr, "modadd: %s\n", grok_last_error());
        {
            char mpath[4096], title[128];
            snprintf(mpath, sizeof mpath, "%s/metrics.csv", out);
            snprintf(title, sizeof title, "modadd p=%d, frac %.3g, seed %llu", p, frac, seed);
            snprintf(path, sizeof path, "%s/report.html", out);
            if (grok_modadd_report(path, &m, mpath, title) != GROK_OK) fprintf(stderr, "modadd: %s\n", grok_last_error());
        }
    }
    printf("outputs: %s/metrics.csv, %s/latest.grok, %s/summary.json, %s/model.safetensors (TransformerLens names), "
           "%s/report.html\n", out, out, out, out, out);
    printf("final epoch=%ld train_loss=%.6g test_loss=%.6g train_acc=%.4f test_acc=%.4f first_test_acc_99=%s seconds=%.1f\n",
           m.epoch, m.metrics.train_loss, m.metrics.test_loss, m.metrics.train_acc, m.metrics.test_acc, first99, seconds);
    grok_model_free(&m);
    grok_data_free(&train);
    grok_data_free(&test);
    return st == GROK_OK ? 0 : 1;
}
