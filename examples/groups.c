/* groups - seed 003: group composition x∘y learnt by OneLayerMLP and BilinearNet, and what they
   learnt read in the Fourier basis of the group's cyclic part (C_n, or the rotations of D_n).

   Usage: groups [--group dihedral] [--n 23] [--model both] [--frac 0.6] [--embed 32] [--hidden 128]
                 [--lr 3e-3] [--wd 1] [--epochs 3000] [--every 100] [--seed 1] [--data-seed 1]
                 [--threads N] [--out runs/groups] [--help]
   For each model writes OUT/MODEL/metrics.csv and OUT/MODEL/latest.safetensors (the weights under
   the seed's names), and prints the final accuracies, the epoch at which test accuracy first
   reached 99%, the key frequencies of W_E_a, W_E_b and W_U over the cyclic subgroup, the
   neurons' frequency clusters, and how long it took. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    const grok_net *net;
    long first_99;
} watch;

/* grok_net_train passes no model to on_eval: the net comes through ctx. */
static int on_eval(const grok_model *unused, void *ctx)
{
    watch *w = (watch *)ctx;
    (void)unused;
    if (w->first_99 < 0 && w->net->metrics.test_acc >= 0.99) w->first_99 = w->net->epoch;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: groups [options]\n"
            "Trains seed 003's models on a group's composition table and reads their Fourier structure.\n"
            "  --group G      dihedral (D_n, order 2n), cyclic (C_n) or symmetric (S_n, n <= 6) (dihedral)\n"
            "  --n N          the group's index n (23)\n"
            "  --model M      mlp (OneLayerMLP), bilinear (BilinearNet) or both (both)\n"
            "  --frac X       fraction of the order^2 pairs used for training (0.6)\n"
            "  --embed N      embed_dim (32)\n"
            "  --hidden N     hidden_dim of the MLP (128)\n"
            "  --lr X         AdamW learning rate (3e-3)\n"
            "  --wd X         AdamW weight decay (1.0); betas are (0.9, 0.98)\n"
            "  --epochs N     full-batch epochs (3000)\n"
            "  --every N      evaluate every N epochs, checkpoint at the end (100)\n"
            "  --seed N       model initialisation seed (1)\n"
            "  --data-seed N  train/test split seed (1)\n"
            "  --threads N    worker threads (GROK_THREADS, else all cores)\n"
            "  --out DIR      output directory (runs/groups)\n"
            "  --help         this text\n");
}

/* Prints the key frequencies (share >= 5% of the non-constant norm) of one weight's norms over Z_k. */
static void print_keys(const char *what, const double *norms, int k)
{
    int keys[4096], n_key = 0, i;
    double share[4096];
    if (grok_key_freqs(keys, share, &n_key, NULL, norms, k, 0.05) != GROK_OK) return;
    printf("    %-6s", what);
    for (i = 0; i < n_key; i++) printf(" %d (%.2f)", keys[i], share[i]);
    printf("\n");
}

/* Trains one net and prints what it found; returns a grok_status. */
static int run(grok_net_kind kind, const grok_group *g, const grok_data *train, const grok_data *test, int embed,
               int hidden, double lr, double wd, long epochs, long every, unsigned long long seed, const char *out)
{
    const char *name = kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet";
    grok_net_config cfg;
    grok_net net;
    grok_train_opts opts = grok_train_opts_default();
    watch w;
    struct timespec t0, t1;
    char dir[4096];
    double seconds, *na, *nb, *nu;
    int st, k = g->cyclic, M;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind; cfg.n = g->order; cfg.embed_dim = embed; cfg.hidden_dim = hidden; cfg.seed = seed;
    if ((st = grok_net_init(&net, &cfg, train->n)) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        return st;
    }
    net.opt.lr = lr;
    net.opt.weight_decay = wd;
    snprintf(dir, sizeof dir, "%s/%s", out, kind == GROK_NET_MLP ? "mlp" : "bilinear");
    opts.epochs = epochs;
    opts.eval_every = every;
    opts.checkpoint_every = epochs;
    opts.out_dir = dir;
    w.net = &net;
    w.first_99 = -1;
    opts.on_eval = on_eval;
    opts.on_eval_ctx = &w;
    if (kind == GROK_NET_MLP) printf("%s: %zu parameters, embed_dim %d, hidden_dim %d\n", name, net.num_parameters, embed, hidden);
    else printf("%s: %zu parameters, embed_dim %d\n", name, net.num_parameters, embed);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_net_train(&net, &opts, train, test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (st != GROK_OK) fprintf(stderr, "groups: %s stopped at epoch %ld: %s\n", name, net.epoch, grok_last_error());
    printf("  final epoch %ld: train acc %.4f, test acc %.4f (loss %.3g / %.3g); test acc >= 99%% first at epoch ",
           net.epoch, net.metrics.train_acc, net.metrics.test_acc, net.metrics.train_loss, net.metrics.test_loss);
    if (w.first_99 >= 0) printf("%ld", w.first_99);
    else printf("none");
    printf("; %.1f s (%.2f ms/epoch)\n", seconds, 1000.0 * seconds / (double)(net.epoch > 0 ? net.epoch : 1));
    if (k >= 3) {
        int *freq, *count, i, nf = (k - 1) / 2, none = 0;
        double *frac;
        printf("  key frequencies over the cyclic subgroup Z_%d of %s (elements 0..%d), share of the Fourier norm:\n", k,
               g->name, k - 1);
        na = (double *)malloc(sizeof(double) * 3 * (size_t)k);
        nb = na + k; nu = nb + k;
        if (na && grok_net_fourier_norms(na, nb, nu, &net, k) == GROK_OK) {
            print_keys("W_E_a", na, k);
            print_keys("W_E_b", nb, k);
            print_keys("W_U", nu, k);
        }
        free(na);
        M = kind == GROK_NET_MLP ? hidden : embed;
        freq = (int *)malloc(sizeof(int) * ((size_t)M + (size_t)nf + 1));
        frac = (double *)malloc(sizeof(double) * (size_t)M);
        count = freq ? freq + M : NULL;
        if (freq && frac && grok_net_neuron_freqs(freq, frac, NULL, &net, k, 0.85) == GROK_OK) {
            memset(count, 0, sizeof(int) * (size_t)(nf + 1));
            for (i = 0; i < M; i++) {
                if (freq[i] < 0) none++;
                else count[freq[i]]++;
            }
            printf("  %s clusters (frequency: neurons explained >= 85%% by it):", kind == GROK_NET_MLP ? "neuron" : "product");
            for (i = 1; i <= nf; i++)
                if (count[i]) printf(" %d: %d", i, count[i]);
            printf("; unclustered %d of %d\n", none, M);
        }
        free(freq); free(frac);
    }
    printf("  outputs: %s/metrics.csv, %s/latest.safetensors\n", dir, dir);
    grok_net_free(&net);
    return st;
}

int main(int argc, char **argv)
{
    int n = 23, embed = 32, hidden = 128, threads = 0, i, st = GROK_OK, do_mlp = 1, do_bil = 1;
    double frac = 0.6, lr = 3e-3, wd = 1.0, seconds;
    long epochs = 3000, every = 100;
    unsigned long long seed = 1, data_seed = 1;
    const char *out = "runs/groups", *group = "dihedral";
    grok_group_kind kind;
    grok_group g;
    grok_data train, test;
    struct timespec t0, t1;

    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!v) { fprintf(stderr, "groups: %s needs a value (or unknown option)\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--group")) group = v;
        else if (!strcmp(a, "--n")) n = atoi(v);
        else if (!strcmp(a, "--model")) {
            do_mlp = !strcmp(v, "mlp") || !strcmp(v, "both");
            do_bil = !strcmp(v, "bilinear") || !strcmp(v, "both");
            if (!do_mlp && !do_bil) { fprintf(stderr, "groups: --model %s: mlp, bilinear or both\n", v); return 2; }
        }
        else if (!strcmp(a, "--frac")) frac = atof(v);
        else if (!strcmp(a, "--embed")) embed = atoi(v);
        else if (!strcmp(a, "--hidden")) hidden = atoi(v);
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--wd")) wd = atof(v);
        else if (!strcmp(a, "--epochs")) epochs = atol(v);
        else if (!strcmp(a, "--every")) every = atol(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--data-seed")) data_seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--out")) out = v;
        else { fprintf(stderr, "groups: unknown option %s\n", a); usage(stderr); return 2; }
    }
    if (threads > 0 && grok_threads_set(threads) != 0) { fprintf(stderr, "groups: bad --threads %d\n", threads); return 2; }
    if (epochs < 1 || every < 1) { fprintf(stderr, "groups: --epochs and --every must be >= 1\n"); return 2; }
    if (!strcmp(group, "dihedral")) kind = GROK_GROUP_DIHEDRAL;
    else if (!strcmp(group, "cyclic")) kind = GROK_GROUP_CYCLIC;
    else if (!strcmp(group, "symmetric")) kind = GROK_GROUP_SYMMETRIC;
    else { fprintf(stderr, "groups: --group %s: dihedral, cyclic or symmetric\n", group); return 2; }

    if (grok_group_init(&g, kind, n) != GROK_OK || grok_task_group(&train, &test, &g, frac, data_seed) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        grok_group_free(&g);
        return 1;
    }
    printf("groups: %s (order %d), %d pairs: %d train, %d test (frac %.3g, data seed %llu); lr %g wd %g, %ld epochs, "
           "%d threads\n", g.name, g.order, g.order * g.order, train.n, test.n, frac, data_seed, lr, wd, epochs,
           grok_threads_get());
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (do_mlp) st = run(GROK_NET_MLP, &g, &train, &test, embed, hidden, lr, wd, epochs, every, seed, out);
    if (do_bil && st == GROK_OK) st = run(GROK_NET_BILINEAR, &g, &train, &test, embed, hidden, lr, wd, epochs, every, seed, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("total %.1f s\n", seconds);
    grok_data_free(&train);
    grok_data_free(&test);
    grok_group_free(&g);
    return st == GROK_OK ? 0 : 1;
}
