/* groups - seed 003: group composition x∘y learnt by OneLayerMLP and BilinearNet, and what they
   learnt read in the Fourier basis of the group's cyclic part (C_n, or the rotations of D_n).

   Usage: groups [--group dihedral] [--n 23] [--model both] [--frac 0.6] [--embed 32] [--hidden 128]
                 [--lr 3e-3] [--wd 1] [--epochs 3000] [--every 100] [--seed 1] [--data-seed 1]
                 [--threads N] [--out runs/groups] [--force] [--help]
   For each model writes OUT/MODEL/metrics.csv and, once training ended well,
   OUT/MODEL/latest.safetensors (the weights under the seed's names); an OUT that holds a run
   needs --force (run_dir.h). Prints the final accuracies, the epoch at which test accuracy first
   reached 99%, the key frequencies of W_E_a, W_E_b and W_U over the cyclic subgroup, the
   neurons' frequency clusters, and how long it took. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run_dir.h"

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

/* Every file of a run (one directory per model), and those written only when training ended well. */
static const char *const run_files[] = {"mlp/metrics.csv", "mlp/latest.safetensors", "bilinear/metrics.csv",
                                        "bilinear/latest.safetensors", NULL};
static const char *const model_files[] = {"metrics.csv", "latest.safetensors", NULL};
static const char *const model_finals[] = {"latest.safetensors", NULL};

static const char *const about =
    "Trains seed 003's models on a group's composition table and reads their Fourier structure.\n"
    "Writes OUT/MODEL/metrics.csv as it trains and, when training ended well, OUT/MODEL/latest.safetensors\n"
    "(MODEL: mlp, bilinear). An OUT that holds a run is refused unless --force.";

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
static int train_net(grok_net_kind kind, const grok_group *g, const grok_data *train, const grok_data *test, int embed,
               int hidden, double lr, double wd, long epochs, long every, unsigned long long seed, const char *out)
{
    const char *name = kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet";
    grok_net_config cfg;
    grok_net net;
    grok_train_opts opts = grok_train_opts_default();
    watch w;
    run_dir run;
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
    run.prog = "groups"; run.out = dir; run.files = model_files; run.finals = model_finals;
    run.history = run.history_ext = NULL;
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
    if (st != GROK_OK) {
        fprintf(stderr, "groups: %s stopped at epoch %ld: %s\n", name, net.epoch, grok_last_error());
        run_kept(&run, NULL, -1);
        grok_net_free(&net);
        return st;
    }
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
    static const char *const groups[] = {"dihedral", "cyclic", "symmetric", NULL};
    static const char *const models[] = {"mlp", "bilinear", "both", NULL};
    int n = 23, embed = 32, hidden = 128, threads = 0, force = 0, i, st = GROK_OK, do_mlp, do_bil;
    double frac = 0.6, lr = 3e-3, wd = 1.0, seconds;
    long epochs = 3000, every = 100;
    unsigned long long seed = 1, data_seed = 1;
    const char *out = "runs/groups", *group = "dihedral", *model = "both";
    opt options[] = {
        opt_choice("--group", &group, groups, "dihedral (D_n, order 2n), cyclic (C_n) or symmetric (S_n)"),
        opt_int("--n", &n, 1, GROK_GROUP_MAX_ORDER, "the group's index n; the order is at most 4096 and S_n needs n <= 6"),
        opt_choice("--model", &model, models, "OneLayerMLP, BilinearNet or both"),
        opt_real("--frac", &frac, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "fraction of the order^2 pairs used for training"),
        opt_int("--embed", &embed, 1, 16384, "embed_dim"),
        opt_int("--hidden", &hidden, 1, 16384, "hidden_dim of the MLP"),
        opt_real("--lr", &lr, 0, 100, OPT_OPEN_MIN, "AdamW learning rate"),
        opt_real("--wd", &wd, 0, 100, 0, "AdamW weight decay; betas are (0.9, 0.98)"),
        opt_long("--epochs", &epochs, 1, 1000000000, "full-batch epochs"),
        opt_long("--every", &every, 1, 1000000000, "evaluate every N epochs; the weights are written at the end"),
        opt_u64("--seed", &seed, "model initialisation seed"),
        opt_u64("--data-seed", &data_seed, "train/test split seed"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_text("--out", &out, "DIR", "output directory"),
        opt_flag("--force", &force, "start over in an OUT that holds a run, removing its files"),
    };
    run_dir whole;
    grok_group_kind kind;
    grok_group g;
    grok_data train, test;
    struct timespec t0, t1;

    if ((i = opt_parse("groups", about, options, OPT_COUNT(options), argc, argv)) >= 0) return i;
    if (threads) grok_threads_set(threads);
    kind = !strcmp(group, "dihedral") ? GROK_GROUP_DIHEDRAL : !strcmp(group, "cyclic") ? GROK_GROUP_CYCLIC : GROK_GROUP_SYMMETRIC;
    do_mlp = strcmp(model, "bilinear") != 0;
    do_bil = strcmp(model, "mlp") != 0;
    whole.prog = "groups"; whole.out = out; whole.files = run_files; whole.finals = NULL; /* run_start reads only files */

    if ((st = grok_group_init(&g, kind, n)) != GROK_OK || (st = grok_task_group(&train, &test, &g, frac, data_seed)) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        grok_group_free(&g);
        return st == GROK_ERR_ARG ? 2 : 1; /* e.g. S_7, or a --frac that leaves no pair */
    }
    if ((i = run_start(&whole, force, 0)) >= 0) {
        grok_data_free(&train); grok_data_free(&test); grok_group_free(&g);
        return i;
    }
    printf("groups: %s (order %d), %d pairs: %d train, %d test (frac %.3g, data seed %llu); lr %g wd %g, %ld epochs, "
           "%d threads\n", g.name, g.order, g.order * g.order, train.n, test.n, frac, data_seed, lr, wd, epochs,
           grok_threads_get());
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (do_mlp) st = train_net(GROK_NET_MLP, &g, &train, &test, embed, hidden, lr, wd, epochs, every, seed, out);
    if (do_bil && st == GROK_OK) st = train_net(GROK_NET_BILINEAR, &g, &train, &test, embed, hidden, lr, wd, epochs, every, seed, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("total %.1f s\n", seconds);
    grok_data_free(&train);
    grok_data_free(&test);
    grok_group_free(&g);
    return st == GROK_OK ? 0 : 1;
}
