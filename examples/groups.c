/* groups - seed 003: group composition x∘y learnt by OneLayerMLP and BilinearNet, and what they
   learnt read in the Fourier basis: the notebook's, over all elements of the group, and grok.h's,
   over the group's cyclic part (C_n, or the rotations of D_n); with --irreps in the group's
   irreducible representations (the rep-theory paper's metrics). --op trains the grokking
   paper's conjugation x∘y∘x^-1 or x∘y∘x instead.

   Usage: groups [--group dihedral] [--n 23] [--op compose] [--model both] [--frac 0.6] [--embed 32]
                 [--hidden 128] [--lr 3e-3] [--wd 1] [--beta1 0.9] [--beta2 0.999] [--eps 1e-8]
                 [--epochs 3000] [--every 100] [--early-stop ACC] [--history] [--analysis both] [--irreps] [--seed 1]
                 [--data-seed 1] [--threads N] [--out runs/groups] [--force] [--init FILE]
                 [--split FILE.npy] [--help]
   Writes OUT/run.args (the flags that define the run); for each model OUT/MODEL/metrics.csv, with --history OUT/MODEL/net_EPOCH.safetensors
   every --every epochs, and, once training ended well, OUT/MODEL/latest.safetensors (the weights
   under the seed's names); then OUT/report.html (training curves, the Fourier norms of W_E_a,
   W_E_b and W_U, the neuron clusters, the centred neurons and the logits in the 2-D Fourier
   basis, W_U's norms per cluster, the logits' cos / sin components). An OUT that holds a
   run needs --force (run_dir.h). Prints the final accuracies, the epoch at which test accuracy
   first reached 99%, what the chosen analysis finds, and how long it took. --early-stop ACC
   ends a net's training once its test accuracy has stayed at or above ACC for 3 evaluations
   (metrics.csv's stop column); the analyses then read the net and the history it reached. The optimiser is
   torch.optim.AdamW(lr, weight_decay) as the notebook builds it: betas (0.9, 0.999), eps 1e-8
   are torch's defaults (grok_adamw_default's beta2 0.98 is the transformer seeds'). --init starts
   the one net of --model mlp or bilinear from a safetensors state dict of its shape (an earlier
   run's latest.safetensors, or the seed's PyTorch module); --split takes the training pairs from
   a .npy of indices x*order + y, the test set the rest. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run_dir.h"

/* The paper's metrics of one trained net: per_irrep (GROK_IRM_ROWS, count), totals, keys. */
typedef struct {
    double *per, totals[GROK_IRT_N];
    int *keys, n_key;
    long *learned;  /* (count) with --history: the epoch from which the trace similarity stays > 0.05 */
    int *order, n_order;
} irreps_result;

typedef struct {
    grok_net net;
    const char *name, *sub; /* "OneLayerMLP", "mlp" */
    long first_99;
    double seconds;
    char dir[4096];
    irreps_result irr;      /* with --irreps */
} model_run;

/* grok_net_train passes no model to on_eval: the run comes through ctx. */
static int on_eval(grok_model *unused, void *ctx)
{
    model_run *r = (model_run *)ctx;
    (void)unused;
    if (r->first_99 < 0 && r->net.metrics.test_acc >= 0.99) r->first_99 = r->net.epoch;
    return 0;
}

/* Every file of a run (one directory per model) but the history, and those written only when
   training ended well. */
static const char *const run_files[] = {"run.args", "mlp/metrics.csv", "mlp/latest.safetensors", "bilinear/metrics.csv",
                                        "bilinear/latest.safetensors", "report.html", NULL};
static const char *const model_files[] = {"metrics.csv", "latest.safetensors", NULL};
static const char *const model_finals[] = {"latest.safetensors", NULL};

static const char *const about =
    "Trains seed 003's models on a group's composition table and reads their Fourier structure.\n"
    "Writes OUT/run.args (the flags that define the run) at the start, OUT/MODEL/metrics.csv as it trains (MODEL: mlp, bilinear), with --history a checkpoint\n"
    "OUT/MODEL/net_EPOCH.safetensors every --every epochs and, when training ended well,\n"
    "OUT/MODEL/latest.safetensors and OUT/report.html. An OUT that holds a run is refused unless --force.";

enum { AN_GROUP = 1, AN_SUBGROUP = 2 };

/* ---- the subgroup analysis (grok.h's): Z_k, the cyclic part */

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

static void subgroup_analysis(model_run *r, const grok_group *g, int M)
{
    int k = g->cyclic, *freq, *count, i, nf = (k - 1) / 2, none = 0;
    double *na, *frac;
    if (k < 3) return;
    printf("  subgroup analysis: key frequencies over the cyclic subgroup Z_%d of %s (elements 0..%d), share of the Fourier norm:\n",
           k, g->name, k - 1);
    na = (double *)malloc(sizeof(double) * 3 * (size_t)k);
    if (na && grok_net_fourier_norms(na, na + k, na + 2 * k, &r->net, k) == GROK_OK) {
        print_keys("W_E_a", na, k);
        print_keys("W_E_b", na + k, k);
        print_keys("W_U", na + 2 * k, k);
    }
    free(na);
    freq = (int *)malloc(sizeof(int) * ((size_t)M + (size_t)nf + 1));
    frac = (double *)malloc(sizeof(double) * (size_t)M);
    count = freq ? freq + M : NULL;
    if (freq && frac && grok_net_neuron_freqs(freq, frac, NULL, &r->net, k, 0.85) == GROK_OK) {
        memset(count, 0, sizeof(int) * (size_t)(nf + 1));
        for (i = 0; i < M; i++) {
            if (freq[i] < 0) none++;
            else count[freq[i]]++;
        }
        printf("  %s clusters over Z_%d, centred (frequency: neurons explained >= 85%% by it):",
               r->net.cfg.kind == GROK_NET_MLP ? "neuron" : "product", k);
        for (i = 1; i <= nf; i++)
            if (count[i]) printf(" %d: %d", i, count[i]);
        printf("; unclustered %d of %d\n", none, M);
    }
    free(freq); free(frac);
}

/* ---- the notebook's analysis over the whole group */

typedef struct {
    int R, M, n_clusters;
    char (*names)[16];     /* (R) component names */
    double *norms;         /* (3, R): W_E_a, W_E_b, W_U */
    int *freq;             /* (M) */
    double *frac;          /* (M) */
    int *cl_freq, *cl_count; /* (n_clusters), ascending frequency (np.unique) */
    double *cl_frac;       /* mean fraction explained per cluster */
    double *logits_msq;    /* (R, R) */
    double *acts_msq;      /* (R, R): the centred neurons (cell 57) */
    double *wu_clusters;   /* (n_clusters, R): W_U's norms per cluster (cell 60) */
    int comp_freq[2], n_comp; /* the first two cluster frequencies >= 1 (cell 61's key_freqs[:2]) */
    double *comp;          /* (2, 2, R, R): cos then sin, the logits along cos / sin comp_freq[k] in 2-D */
} group_result;

static void group_result_free(group_result *a)
{
    free(a->names); free(a->norms); free(a->freq); free(a->frac); free(a->cl_freq); free(a->cl_count); free(a->cl_frac);
    free(a->logits_msq); free(a->acts_msq); free(a->wu_clusters); free(a->comp);
    memset(a, 0, sizeof *a);
}

/* Computes the whole-group analysis into a; a grok_status. */
static int group_analysis(group_result *a, model_run *r, const grok_group *g, int M)
{
    int i, j, st;
    memset(a, 0, sizeof *a);
    a->M = M;
    if ((st = grok_group_fourier_basis(NULL, &a->R, g)) != GROK_OK) return st;
    a->names = (char (*)[16])malloc(sizeof(*a->names) * (size_t)a->R);
    a->norms = (double *)malloc(sizeof(double) * 3 * (size_t)a->R);
    a->freq = (int *)malloc(sizeof(int) * (size_t)M);
    a->frac = (double *)malloc(sizeof(double) * (size_t)M);
    a->cl_freq = (int *)malloc(sizeof(int) * (size_t)M);
    a->cl_count = (int *)malloc(sizeof(int) * (size_t)M);
    a->cl_frac = (double *)malloc(sizeof(double) * (size_t)M);
    a->logits_msq = (double *)malloc(sizeof(double) * (size_t)a->R * a->R);
    a->acts_msq = (double *)malloc(sizeof(double) * (size_t)a->R * a->R);
    a->comp = (double *)malloc(sizeof(double) * 4 * (size_t)a->R * a->R);
    if (!a->names || !a->norms || !a->freq || !a->frac || !a->cl_freq || !a->cl_count || !a->cl_frac || !a->logits_msq ||
        !a->acts_msq || !a->comp)
        return GROK_ERR_NOMEM;
    for (i = 0; i < a->R; i++)
        if ((st = grok_group_fourier_name(a->names[i], sizeof a->names[i], i, g)) != GROK_OK) return st;
    if ((st = grok_net_group_fourier_norms(a->norms, a->norms + a->R, a->norms + 2 * a->R, &r->net, g)) != GROK_OK ||
        (st = grok_net_group_neuron_freqs(a->freq, a->frac, NULL, NULL, &r->net, g)) != GROK_OK ||
        (st = grok_net_group_fourier_logits(a->logits_msq, NULL, &r->net, g)) != GROK_OK ||
        (st = grok_net_group_fourier_acts(a->acts_msq, NULL, &r->net, g)) != GROK_OK)
        return st;
    for (i = 0; i < M; i++) { /* np.unique(neuron_freqs, return_counts=True), with the mean frac */
        for (j = 0; j < a->n_clusters && a->cl_freq[j] < a->freq[i]; j++) {}
        if (j == a->n_clusters || a->cl_freq[j] != a->freq[i]) {
            memmove(a->cl_freq + j + 1, a->cl_freq + j, sizeof(int) * (size_t)(a->n_clusters - j));
            memmove(a->cl_count + j + 1, a->cl_count + j, sizeof(int) * (size_t)(a->n_clusters - j));
            memmove(a->cl_frac + j + 1, a->cl_frac + j, sizeof(double) * (size_t)(a->n_clusters - j));
            a->cl_freq[j] = a->freq[i]; a->cl_count[j] = 0; a->cl_frac[j] = 0;
            a->n_clusters++;
        }
        a->cl_count[j]++;
        a->cl_frac[j] += a->frac[i];
    }
    for (j = 0; j < a->n_clusters; j++) a->cl_frac[j] /= a->cl_count[j];
    if (!(a->wu_clusters = (double *)malloc(sizeof(double) * (size_t)a->n_clusters * a->R))) return GROK_ERR_NOMEM;
    if ((st = grok_net_group_wu_cluster_norms(a->wu_clusters, &r->net, g, a->freq, a->cl_freq, a->n_clusters)) != GROK_OK)
        return st;
    for (j = 0; j < a->n_clusters && a->n_comp < 2; j++) /* a -1 cluster (dead neurons) has no component */
        if (a->cl_freq[j] >= 1) a->comp_freq[a->n_comp++] = a->cl_freq[j];
    if (a->n_comp)
        return grok_net_group_logit_components(a->comp, a->comp + 2 * (size_t)a->R * a->R, NULL, &r->net, g, a->comp_freq,
                                               a->n_comp);
    return GROK_OK;
}

/* The components holding >= 5% of one weight's non-constant norm, largest first. */
static void print_components(const char *what, const double *norms, const group_result *a)
{
    double tot = 0;
    int i, shown = 0, used[4096];
    for (i = 1; i < a->R; i++) tot += norms[i];
    memset(used, 0, sizeof(int) * (size_t)a->R);
    printf("    %-6s", what);
    while (tot > 0 && shown < 12) {
        int best = -1;
        for (i = 1; i < a->R; i++)
            if (!used[i] && (best < 0 || norms[i] > norms[best])) best = i;
        if (best < 0 || norms[best] < 0.05 * tot) break;
        used[best] = 1;
        printf(" %s (%.2f)", a->names[best], norms[best] / tot);
        shown++;
    }
    printf("\n");
}

/* The largest entries of the centred neurons' (R, R) map, as shares of its sum. */
static void print_acts_map(const group_result *a)
{
    double tot = 0, last = -1;
    int i, shown;
    long r, n = (long)a->R * a->R, best = -1;
    for (r = 0; r < n; r++) tot += a->acts_msq[r];
    printf("  centred neurons in the 2-D basis (cell 57), largest shares of the mean square (a x b):");
    for (shown = 0; tot > 0 && shown < 6; shown++) { /* the next largest below last (a tie shows once) */
        best = -1;
        for (r = 0; r < n; r++)
            if ((last < 0 || a->acts_msq[r] < last) && (best < 0 || a->acts_msq[r] > a->acts_msq[best])) best = r;
        if (best < 0) break;
        last = a->acts_msq[best];
        printf(" %s x %s (%.2f)", a->names[best / a->R], a->names[best % a->R], last / tot);
    }
    printf("\n  W_U per cluster (cell 60), its largest component (share of the cluster's norm):");
    for (i = 0; i < a->n_clusters; i++) {
        const double *w = a->wu_clusters + (size_t)i * a->R;
        int b = 0, f;
        for (tot = 0, f = 0; f < a->R; f++) { tot += w[f]; if (w[f] > w[b]) b = f; }
        printf(" %d: %s (%.2f)", a->cl_freq[i], a->names[b], tot > 0 ? w[b] / tot : 0);
    }
    printf("\n");
    for (i = 0; i < a->n_comp; i++) {
        const double *c = a->comp + (size_t)i * a->R * a->R, *s = a->comp + (size_t)(2 + i) * a->R * a->R;
        int w = a->comp_freq[i], co = 2 * w - 1, si = 2 * w;
        double m = 0;
        for (r = 0; r < n; r++) m = fabs(c[r]) > m ? fabs(c[r]) : m;
        printf("  logits along cos %d (cell 61): cos %d x cos %d %+.3g, sin %d x sin %d %+.3g (largest |entry| %.3g); "
               "along sin %d: cos x sin %+.3g, sin x cos %+.3g\n", w, w, w, c[co * a->R + co], w, w, c[si * a->R + si], m, w,
               s[co * a->R + si], s[si * a->R + co]);
    }
}

static void print_group_analysis(const group_result *a, const grok_group *g)
{
    int j;
    printf("  whole-group analysis (seed 003's basis, %d components over all %d elements of %s), share of the\n"
           "  non-constant Fourier norm:\n", a->R, g->order, g->name);
    print_components("W_E_a", a->norms, a);
    print_components("W_E_b", a->norms + a->R, a);
    print_components("W_U", a->norms + 2 * a->R, a);
    printf("  neuron clusters, uncentred (seed 003 cell 58; frequency: neurons, mean fraction explained):");
    for (j = 0; j < a->n_clusters; j++) printf(" %d: %d (%.2f)", a->cl_freq[j], a->cl_count[j], a->cl_frac[j]);
    printf("\n");
    print_acts_map(a);
}

/* ---- the irreducible representations (the rep-theory paper's analysis) */

/* The character table of g, classes by their first element, as printed by --irreps. */
static void print_char_table(const grok_group *g, const grok_irreps *ir)
{
    int *cls = (int *)malloc(sizeof(int) * (size_t)g->order), nc = 0, i, c;
    double *table = (double *)malloc(sizeof(double) * (size_t)ir->count * (size_t)g->order);
    if (cls && table && grok_group_classes(cls, &nc, g) == GROK_OK && grok_irreps_char_table(table, ir, cls, nc) == GROK_OK) {
        printf("character table of %s (%d irreps, %d classes; columns: a class's first element (its size); * the real form\n"
               "of a pair of complex conjugate irreps):\n  %-14s", g->name, ir->count, nc, "");
        for (c = 0; c < nc; c++) {
            int x = 0, size = 0;
            char head[32];
            while (cls[x] != c) x++;
            for (i = 0; i < g->order; i++) size += cls[i] == c;
            snprintf(head, sizeof head, "%d(%d)", x, size);
            printf(" %7s", head);
        }
        printf("\n");
        for (i = 0; i < ir->count; i++) {
            char label[32];
            snprintf(label, sizeof label, "%s%s", ir->name[i], ir->complex_pair[i] ? "*" : "");
            printf("  %-14s", label);
            for (c = 0; c < nc; c++) printf(" %7.3f", fabs(table[(size_t)i * nc + c]) < 5e-13 ? 0.0 : table[(size_t)i * nc + c]);
            printf("\n");
        }
    } else {
        fprintf(stderr, "groups: character table: %s\n", grok_last_error());
    }
    free(cls); free(table);
}

static void irreps_result_free(irreps_result *a)
{
    free(a->per); free(a->keys); free(a->learned); free(a->order);
    memset(a, 0, sizeof *a);
}

/* With --history: the trace similarities of every checkpoint OUT/MODEL/net_EPOCH.safetensors,
   and the order in which the irreps pass 0.05 for good (the paper's key-irrep threshold). */
static int irreps_history(irreps_result *a, model_run *r, const grok_group *g, const grok_irreps *ir, long epochs, long every)
{
    long n_ckpt = epochs / every, k, *ep;
    int n = ir->count, st = GROK_OK, nk;
    double *sims, *per; /* the key irreps of each checkpoint go to a->keys, which the final net's overwrite */
    grok_net net;
    if (n_ckpt < 1) return GROK_OK;
    sims = (double *)malloc(sizeof(double) * (size_t)n_ckpt * n);
    per = (double *)malloc(sizeof(double) * GROK_IRM_ROWS * (size_t)n);
    ep = (long *)malloc(sizeof(long) * (size_t)n_ckpt);
    a->learned = (long *)malloc(sizeof(long) * (size_t)n);
    a->order = (int *)malloc(sizeof(int) * (size_t)n);
    if (!sims || !per || !ep || !a->learned || !a->order || grok_net_init(&net, &r->net.cfg, 1) != GROK_OK) {
        free(sims); free(per); free(ep);
        return GROK_ERR_NOMEM;
    }
    for (k = 0; k < n_ckpt && st == GROK_OK; k++) {
        char path[4200];
        ep[k] = (k + 1) * every;
        snprintf(path, sizeof path, "%s/net_%06ld.safetensors", r->dir, ep[k]);
        nk = 0;
        if ((st = grok_net_load_safetensors(&net, path)) == GROK_OK)
            st = grok_net_irreps_metrics(per, NULL, a->keys, &nk, &net, g, ir);
        if (st == GROK_OK) memcpy(sims + (size_t)k * n, per + GROK_IRM_TRACE * n, sizeof(double) * (size_t)n);
    }
    if (st == GROK_OK) st = grok_irreps_learn_order(a->learned, a->order, &a->n_order, sims, ep, (int)n_ckpt, n, 0.05);
    grok_net_free(&net);
    free(sims); free(per); free(ep);
    return st;
}

static int irreps_analysis(irreps_result *a, model_run *r, const grok_group *g, const grok_irreps *ir, int history,
                           long epochs, long every)
{
    int st;
    memset(a, 0, sizeof *a);
    a->per = (double *)malloc(sizeof(double) * GROK_IRM_ROWS * (size_t)ir->count);
    a->keys = (int *)malloc(sizeof(int) * (size_t)ir->count);
    if (!a->per || !a->keys) return GROK_ERR_NOMEM;
    if (history && (st = irreps_history(a, r, g, ir, epochs, every)) != GROK_OK) return st;
    return grok_net_irreps_metrics(a->per, a->totals, a->keys, &a->n_key, &r->net, g, ir);
}

static void print_irreps_analysis(const irreps_result *a, const grok_irreps *ir)
{
    int n = ir->count, i, k;
    printf("  irreps (the rep-theory paper's metrics over all pairs): share of the squared norm of the total x / y\n"
           "  embedding, W_U and the hidden layer's pair functions; logit trace similarity; loss with the irrep excluded /\n"
           "  alone (with the trivial one), at the logit and the hidden level\n"
           "    %-14s %6s %6s %6s %6s %7s %8s %8s %8s %8s\n", "irrep", "x", "y", "W_U", "hidden", "trace", "excl L",
           "excl H", "only L", "only H");
    for (i = 0; i < n; i++)
        printf("    %-14s %6.3f %6.3f %6.3f %6.3f %7.3f %8.3g %8.3g %8.3g %8.3g\n", ir->name[i], a->per[GROK_IRM_EMBED_X * n + i],
               a->per[GROK_IRM_EMBED_Y * n + i], a->per[GROK_IRM_UNEMBED * n + i], a->per[GROK_IRM_HIDDEN * n + i],
               a->per[GROK_IRM_TRACE * n + i], a->per[GROK_IRM_EXCL_LOGIT * n + i], a->per[GROK_IRM_EXCL_HIDDEN * n + i],
               a->per[GROK_IRM_RESTR_LOGIT * n + i], a->per[GROK_IRM_RESTR_HIDDEN * n + i]);
    printf("  key irreps (trace similarity > 0.05):");
    for (k = 0; k < a->n_key; k++)
        printf(" %s (trace %.3f, x embedding %.3f)", ir->name[a->keys[k]], a->per[GROK_IRM_TRACE * n + a->keys[k]],
               a->per[GROK_IRM_EMBED_X * n + a->keys[k]]);
    if (!a->n_key) printf(" none");
    printf("\n  loss over all pairs %.4g; restricted to the key irreps %.4g (logit) %.4g (hidden); all key irreps excluded "
           "%.4g (logit) %.4g (hidden); sum of squared weights %.4g\n", a->totals[GROK_IRT_LOSS],
           a->totals[GROK_IRT_RESTRICTED_LOGIT], a->totals[GROK_IRT_RESTRICTED_HIDDEN], a->totals[GROK_IRT_EXCLUDED_LOGIT],
           a->totals[GROK_IRT_EXCLUDED_HIDDEN], a->totals[GROK_IRT_SUMSQ]);
    if (a->order) {
        printf("  learnt, in order (trace similarity > 0.05 from that checkpoint on):");
        for (k = 0; k < a->n_order; k++) printf(" %s at epoch %ld", ir->name[a->order[k]], a->learned[a->order[k]]);
        if (!a->n_order) printf(" none");
        printf("\n");
    }
}

/* The key irreps NAME,NAME of run number i appended to buf (cap bytes), after a ';' from the second on. */
static void key_irreps_line(char *buf, size_t cap, int i, const irreps_result *a, const grok_irreps *ir)
{
    size_t len = strlen(buf);
    int k;
    if (i && len < cap) len += (size_t)snprintf(buf + len, cap - len, ";");
    for (k = 0; k < a->n_key && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? "," : "", ir->name[a->keys[k]]);
}

/* ---- training */

/* One net into r, its weights from --seed or, with init, from that file; -1 to go on, else the
   exit status after a message. */
static int net_setup(model_run *r, grok_net_kind kind, int order, int n_train, int embed, int hidden, const grok_adamw *opt,
                     unsigned long long seed, const char *init)
{
    grok_net_config cfg;
    r->name = kind == GROK_NET_MLP ? "OneLayerMLP" : "BilinearNet";
    r->sub = kind == GROK_NET_MLP ? "mlp" : "bilinear";
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind; cfg.n = order; cfg.embed_dim = embed; cfg.hidden_dim = hidden; cfg.seed = seed;
    if (grok_net_init(&r->net, &cfg, n_train) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        return 1;
    }
    r->net.opt.lr = opt->lr;
    r->net.opt.weight_decay = opt->weight_decay;
    r->net.opt.beta1 = opt->beta1;
    r->net.opt.beta2 = opt->beta2;
    r->net.opt.eps = opt->eps;
    return init ? run_net_weights_load(&r->net, "groups", init) : -1;
}

/* Trains the net of r (kept for the report) and prints what it found; a grok_status. */
static int train_net(model_run *r, const grok_group *g, const grok_data *train, const grok_data *test, long epochs,
                     long every, double early_stop, int history, int analysis, const grok_irreps *ir, const char *out)
{
    grok_train_opts opts = grok_train_opts_default();
    run_dir run;
    struct timespec t0, t1;
    int st, M = r->net.cfg.kind == GROK_NET_MLP ? r->net.cfg.hidden_dim : r->net.cfg.embed_dim;
    snprintf(r->dir, sizeof r->dir, "%s/%s", out, r->sub);
    run.prog = "groups"; run.out = r->dir; run.files = model_files; run.finals = model_finals;
    run.history = "net_"; run.history_ext = ".safetensors";
    opts.epochs = epochs;
    opts.eval_every = every;
    opts.early_stop.acc = early_stop;
    opts.early_stop.evals = 3;
    opts.checkpoint_every = history ? every : epochs;
    opts.keep_history = history;
    opts.out_dir = r->dir;
    r->first_99 = -1;
    opts.on_eval = on_eval;
    opts.on_eval_ctx = r;
    if (r->net.cfg.kind == GROK_NET_MLP)
        printf("%s: %zu parameters, embed_dim %d, hidden_dim %d\n", r->name, r->net.num_parameters, r->net.cfg.embed_dim,
               r->net.cfg.hidden_dim);
    else printf("%s: %zu parameters, embed_dim %d\n", r->name, r->net.num_parameters, r->net.cfg.embed_dim);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_net_train(&r->net, &opts, train, test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (st != GROK_OK) {
        fprintf(stderr, "groups: %s stopped at epoch %ld: %s\n", r->name, r->net.epoch, grok_last_error());
        run_kept(&run, NULL, -1);
        return st;
    }
    printf("  final epoch %ld: train acc %.4f, test acc %.4f (loss %.3g / %.3g); test acc >= 99%% first at epoch ",
           r->net.epoch, r->net.metrics.train_acc, r->net.metrics.test_acc, r->net.metrics.train_loss,
           r->net.metrics.test_loss);
    if (r->first_99 >= 0) printf("%ld", r->first_99);
    else printf("none");
    printf("; %.1f s (%.2f ms/epoch)\n", r->seconds, 1000.0 * r->seconds / (double)(r->net.epoch > 0 ? r->net.epoch : 1));
    if (r->net.stop.reason != GROK_STOP_NONE) printf("  stopped early at epoch %ld: %s\n", r->net.epoch, grok_stop_reason_name(r->net.stop.reason));
    if ((analysis & AN_GROUP) && (g->kind == GROK_GROUP_CYCLIC || g->kind == GROK_GROUP_DIHEDRAL)) {
        group_result a;
        if (group_analysis(&a, r, g, M) == GROK_OK) print_group_analysis(&a, g);
        else fprintf(stderr, "groups: whole-group analysis: %s\n", grok_last_error());
        group_result_free(&a);
    }
    if (analysis & AN_SUBGROUP) subgroup_analysis(r, g, M);
    if (ir) {
        if (irreps_analysis(&r->irr, r, g, ir, history, r->net.epoch, every) == GROK_OK) print_irreps_analysis(&r->irr, ir);
        else fprintf(stderr, "groups: irreps analysis: %s\n", grok_last_error());
    }
    printf("  outputs: %s/metrics.csv, %s/latest.safetensors%s\n", r->dir, r->dir,
           history ? ", net_EPOCH.safetensors" : "");
    return st;
}

/* ---- report.html */

/* metrics.csv's columns (epoch, train_loss, test_loss, train_acc, test_acc, ..): v (rows, 5). */
static long read_metrics(double **v, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    long n = 0, cap = 0;
    *v = NULL;
    if (!f) return 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, "epoch,train_loss,test_loss,train_acc,test_acc", 45) != 0) {
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        double *row;
        if (n == cap) {
            double *nv = (double *)realloc(*v, sizeof(double) * 5 * (size_t)(cap = cap ? 2 * cap : 256));
            if (!nv) break;
            *v = nv;
        }
        row = *v + 5 * n;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf", row, row + 1, row + 2, row + 3, row + 4) == 5) n++;
    }
    fclose(f);
    return n;
}

static void report_curves(grok_report *rep, const model_run *r)
{
    char path[4200];
    double *v, *x, *y;
    long n, i;
    int s;
    static const char *const loss_names[] = {"train loss", "test loss"}, *const acc_names[] = {"train acc", "test acc"};
    grok_plot p;
    snprintf(path, sizeof path, "%s/metrics.csv", r->dir);
    if ((n = read_metrics(&v, path)) < 1) { grok_report_note(rep, "metrics.csv: no rows to draw."); free(v); return; }
    x = (double *)malloc(sizeof(double) * (size_t)n);
    y = (double *)malloc(sizeof(double) * 2 * (size_t)n);
    if (x && y) {
        for (s = 0; s < 2; s++) {
            for (i = 0; i < n; i++) {
                x[i] = v[5 * i];
                y[i] = v[5 * i + 1 + 2 * s];
                y[n + i] = v[5 * i + 2 + 2 * s];
            }
            memset(&p, 0, sizeof p);
            p.kind = GROK_PLOT_LINES; p.x = x; p.y = y; p.n = (int)n; p.n_series = 2;
            p.names = s ? acc_names : loss_names; p.log_y = !s; p.xlabel = "epoch";
            p.title = s ? "Accuracy" : "Loss (cross-entropy, log scale)"; p.ylabel = s ? "accuracy" : "loss";
            grok_report_plot(rep, &p);
        }
    }
    free(x); free(y); free(v);
}

/* Cells 57, 60 and 61: the centred neurons' map, W_U's norms per cluster, the logits' components. */
static void report_group_cells(grok_report *rep, const group_result *a, const char *const *names)
{
    char (*labels)[16] = (char (*)[16])malloc(sizeof(*labels) * (size_t)a->n_clusters);
    const char **series = (const char **)malloc(sizeof(char *) * (size_t)a->n_clusters);
    double *x = (double *)malloc(sizeof(double) * (size_t)a->R);
    char title[128];
    int i;
    grok_plot p;
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_HEATMAP; p.z = a->acts_msq; p.rows = a->R; p.cols = a->R; p.x_names = names; p.y_names = names;
    p.title = "Average norm of 2d Fourier coefficients of hidden activations, centred (cell 57)";
    p.xlabel = "b component"; p.ylabel = "a component"; p.width = 560; p.height = 520;
    grok_report_plot(rep, &p);
    if (labels && series && x) {
        for (i = 0; i < a->R; i++) x[i] = i;
        for (i = 0; i < a->n_clusters; i++) { snprintf(labels[i], sizeof labels[i], "%d", a->cl_freq[i]); series[i] = labels[i]; }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_LINES; p.x = x; p.y = a->wu_clusters; p.n = a->R; p.n_series = a->n_clusters; p.names = series;
        p.x_names = names; p.title = "Norm of W_U's coef of each Fourier component on each cluster's neurons (cell 60)";
        p.xlabel = "Fourier component"; p.ylabel = "squared norm"; p.width = 720;
        grok_report_plot(rep, &p);
    }
    free(labels); free(series); free(x);
    if (a->n_comp)
        grok_report_printf(rep, "<p>Cell 61: the logits' component along cos w z and sin w z, hidden @ (W_U @ F.T), as a "
                           "function of (a, b) in the 2-D basis, for the first %d cluster frequencies (the notebook's "
                           "reshape to (order, order, order) fails where R &ne; order; this is (order, order, R)). "
                           "cos(w(a+b-z)) would show +C on cos x cos and -C on sin x sin, +S on cos x sin and sin x cos.</p>\n",
                           a->n_comp);
    for (i = 0; i < 2 * a->n_comp; i++) {
        int k = i / 2, s = i % 2;
        snprintf(title, sizeof title, "Component of logits in direction %s(%d) (cell 61)", s ? "sin" : "cos", a->comp_freq[k]);
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_HEATMAP; p.z = a->comp + (size_t)(2 * s + k) * a->R * a->R; p.rows = a->R; p.cols = a->R;
        p.x_names = names; p.y_names = names; p.title = title; p.xlabel = "b component"; p.ylabel = "a component";
        p.width = 560; p.height = 520;
        grok_report_plot(rep, &p);
    }
}

static void report_group(grok_report *rep, model_run *r, const grok_group *g)
{
    group_result a;
    const char *names[4096], *const series[] = {"W_E_a", "W_E_b", "W_U"};
    double *x;
    int i;
    grok_plot p;
    if (group_analysis(&a, r, g, grok_net_param(&r->net, "W_U")->shape[0]) != GROK_OK) {
        grok_report_note(rep, "The whole-group analysis failed.");
        group_result_free(&a);
        return;
    }
    grok_report_heading(rep, "Whole group: seed 003's Fourier basis");
    grok_report_printf(rep, "<p>Seed 003's <code>compute_fourier_basis</code> over all %d elements of %s: Const, then cos i / "
                       "sin i for i = 1..%d, %d rows.%s</p>\n", g->order, g->name, (a.R - 1) / 2, a.R,
                       g->kind == GROK_GROUP_DIHEDRAL ? " For D_n these are not characters of D_n: the elements are indexed "
                       "as if they were Z_2n (reflections after rotations), and the alternating row is never added." :
                       g->order % 2 == 0 ? " For even n the last row, sin n/2 = sin(pi x), is zero." : "");
    x = (double *)malloc(sizeof(double) * (size_t)a.R);
    if (x) {
        for (i = 0; i < a.R; i++) { x[i] = i; names[i] = a.names[i]; }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_LINES; p.x = x; p.y = a.norms; p.n = a.R; p.n_series = 3; p.names = series;
        p.x_names = names; p.title = "Norm of embedding / unembedding coef of each Fourier component (cells 53-54)";
        p.xlabel = "Fourier component"; p.ylabel = "squared norm"; p.width = 720;
        grok_report_plot(rep, &p);
    }
    free(x);
    x = (double *)malloc(sizeof(double) * 2 * (size_t)a.M);
    if (x) { /* cell 58's scatter: each neuron's frequency against the fraction it explains */
        for (i = 0; i < a.M; i++) { x[i] = a.freq[i]; x[a.M + i] = a.frac[i]; }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_SCATTER; p.x = x; p.y = x + a.M; p.n = a.M;
        p.title = "Neuron frequency vs fraction explained (cell 58)"; p.xlabel = "neuron frequency"; p.ylabel = "frac explained";
        grok_report_plot(rep, &p);
    }
    free(x);
    grok_report_printf(rep, "<table><caption>Neuron clusters by frequency (cell 58: uncentred, the nine const / linear / "
                       "quadratic terms over the whole 2-D spectrum, no threshold)</caption>\n"
                       "<tr><th>cluster</th><th>frequency</th><th>neurons</th><th>mean fraction explained</th></tr>\n");
    for (i = 0; i < a.n_clusters; i++)
        grok_report_printf(rep, "<tr><td>%d</td><td>%d</td><td>%d</td><td>%.4f</td></tr>\n", i, a.cl_freq[i], a.cl_count[i],
                           a.cl_frac[i]);
    grok_report_printf(rep, "</table>\n");
    for (i = 0; i < a.R; i++) names[i] = a.names[i];
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_HEATMAP; p.z = a.logits_msq; p.rows = a.R; p.cols = a.R; p.x_names = names; p.y_names = names;
    p.title = "Average norm of Fourier components of logits (cell 59)"; p.xlabel = "b component"; p.ylabel = "a component";
    p.width = 560; p.height = 520;
    grok_report_plot(rep, &p);
    report_group_cells(rep, &a, names);
    group_result_free(&a);
}

static void report_subgroup(grok_report *rep, model_run *r, const grok_group *g)
{
    int k = g->cyclic, i, M = grok_net_param(&r->net, "W_U")->shape[0], *freq, *count, nf = (k - 1) / 2;
    const char *names[4096], *const series[] = {"W_E_a", "W_E_b", "W_U"};
    char (*nm)[16];
    double *norms, *x, *frac;
    grok_plot p;
    if (k < 3) return;
    grok_report_heading(rep, "Cyclic subgroup: grok.h's analysis");
    grok_report_printf(rep, "<p>The real Fourier basis of Z_%d (elements 0..%d of %s), whose cos / sin are characters of the "
                       "subgroup; neurons centred (seed 004).</p>\n", k, k - 1, g->name);
    norms = (double *)malloc(sizeof(double) * 4 * (size_t)k);
    nm = (char (*)[16])malloc(sizeof(*nm) * (size_t)k);
    freq = (int *)malloc(sizeof(int) * ((size_t)M + (size_t)nf + 1));
    frac = (double *)malloc(sizeof(double) * (size_t)M);
    if (norms && nm && freq && frac && grok_net_fourier_norms(norms, norms + k, norms + 2 * k, &r->net, k) == GROK_OK) {
        x = norms + 3 * k;
        for (i = 0; i < k; i++) {
            x[i] = i;
            grok_fourier_basis_name(nm[i], sizeof nm[i], i, k);
            names[i] = nm[i];
        }
        memset(&p, 0, sizeof p);
        p.kind = GROK_PLOT_LINES; p.x = x; p.y = norms; p.n = k; p.n_series = 3; p.names = series; p.x_names = names;
        p.title = "Fourier norms over the cyclic subgroup"; p.xlabel = "Fourier component"; p.ylabel = "squared norm";
        p.width = 720;
        grok_report_plot(rep, &p);
    }
    if (norms && nm && freq && frac && grok_net_neuron_freqs(freq, frac, NULL, &r->net, k, 0.85) == GROK_OK) {
        count = freq + M;
        memset(count, 0, sizeof(int) * (size_t)(nf + 1));
        for (i = 0; i < M; i++)
            if (freq[i] > 0) count[freq[i]]++;
        grok_report_printf(rep, "<table><caption>Neuron clusters over Z_%d (centred, fraction explained &ge; 0.85)</caption>\n"
                           "<tr><th>frequency</th><th>neurons</th></tr>\n", k);
        for (i = 1; i <= nf; i++)
            if (count[i]) grok_report_printf(rep, "<tr><td>%d</td><td>%d</td></tr>\n", i, count[i]);
        for (i = 0, nf = 0; i < M; i++) nf += freq[i] < 0;
        grok_report_printf(rep, "<tr><td>none</td><td>%d</td></tr></table>\n", nf);
    }
    free(norms); free(nm); free(freq); free(frac);
}

static void report_char_table(grok_report *rep, const grok_group *g, const grok_irreps *ir)
{
    int *cls = (int *)malloc(sizeof(int) * (size_t)g->order), nc = 0, i, c;
    double *table = (double *)malloc(sizeof(double) * (size_t)ir->count * (size_t)g->order);
    if (!cls || !table || grok_group_classes(cls, &nc, g) != GROK_OK || grok_irreps_char_table(table, ir, cls, nc) != GROK_OK) {
        grok_report_note(rep, "The character table could not be computed.");
        free(cls); free(table);
        return;
    }
    grok_report_heading(rep, "Character table");
    grok_report_printf(rep, "<table><caption>Characters of the real irreps of %s; columns: the conjugacy classes by their "
                       "first element (their size); * the real form of a pair of complex conjugate irreps</caption>\n<tr><th>irrep"
                       "</th><th>dim</th>", g->name);
    for (c = 0; c < nc; c++) {
        int x = 0, size = 0;
        while (cls[x] != c) x++;
        for (i = 0; i < g->order; i++) size += cls[i] == c;
        grok_report_printf(rep, "<th>%d (%d)</th>", x, size);
    }
    grok_report_printf(rep, "</tr>\n");
    for (i = 0; i < ir->count; i++) {
        grok_report_printf(rep, "<tr><td>%s%s</td><td>%d</td>", ir->name[i], ir->complex_pair[i] ? "*" : "", ir->dim[i]);
        for (c = 0; c < nc; c++)
            grok_report_printf(rep, "<td>%.4g</td>", fabs(table[(size_t)i * nc + c]) < 5e-13 ? 0.0 : table[(size_t)i * nc + c]);
        grok_report_printf(rep, "</tr>\n");
    }
    grok_report_printf(rep, "</table>\n");
    free(cls); free(table);
}

static void report_irreps(grok_report *rep, const model_run *r, const grok_irreps *ir)
{
    static const char *const cols[] = {"x embedding", "y embedding", "W_U", "hidden", "trace similarity", "excluded loss (logit)",
                                       "excluded loss (hidden)", "loss with it alone (logit)", "loss with it alone (hidden)"};
    const irreps_result *a = &r->irr;
    int n = ir->count, i, c, k;
    if (!a->per) return;
    grok_report_heading(rep, "Irreducible representations: the rep-theory paper's metrics");
    grok_report_printf(rep, "<table><caption>Per irrep of the group: share of the squared norm of the total embeddings, W_U "
                       "and the hidden layer's pair functions rho(x&#8728;y); the logit trace similarity; the loss over all "
                       "pairs with the irrep excluded, or alone with the trivial irrep</caption>\n<tr><th>irrep</th><th>dim</th>");
    for (c = 0; c < GROK_IRM_ROWS; c++) grok_report_printf(rep, "<th>%s</th>", cols[c]);
    grok_report_printf(rep, "</tr>\n");
    for (i = 0; i < n; i++) {
        grok_report_printf(rep, "<tr><td>%s</td><td>%d%s</td>", ir->name[i], ir->dim[i], ir->complex_pair[i] ? " (complex pair)" : "");
        for (c = 0; c < GROK_IRM_ROWS; c++) grok_report_printf(rep, "<td>%.4g</td>", a->per[c * n + i]);
        grok_report_printf(rep, "</tr>\n");
    }
    grok_report_printf(rep, "</table>\n<p>Key irreps (trace similarity &gt; 0.05):");
    for (k = 0; k < a->n_key; k++) grok_report_printf(rep, " %s", ir->name[a->keys[k]]);
    grok_report_printf(rep, "%s. Loss %.4g; restricted to the key irreps %.4g (logit), %.4g (hidden); all key irreps excluded "
                       "%.4g (logit), %.4g (hidden); sum of squared weights %.4g.</p>\n", a->n_key ? "" : " none",
                       a->totals[GROK_IRT_LOSS], a->totals[GROK_IRT_RESTRICTED_LOGIT], a->totals[GROK_IRT_RESTRICTED_HIDDEN],
                       a->totals[GROK_IRT_EXCLUDED_LOGIT], a->totals[GROK_IRT_EXCLUDED_HIDDEN], a->totals[GROK_IRT_SUMSQ]);
    if (a->order) {
        grok_report_printf(rep, "<p>Learnt, in order (trace similarity &gt; 0.05 from that checkpoint on):");
        for (k = 0; k < a->n_order; k++) grok_report_printf(rep, " %s at epoch %ld", ir->name[a->order[k]], a->learned[a->order[k]]);
        grok_report_printf(rep, "%s.</p>\n", a->n_order ? "" : " none");
    }
}

static int write_report(const char *out, model_run *runs, int n_runs, const grok_group *g, const grok_adamw *opt,
                        int analysis, const grok_irreps *ir)
{
    grok_report rep;
    char path[4200], title[128];
    int i, st;
    snprintf(path, sizeof path, "%s/report.html", out);
    snprintf(title, sizeof title, "Seed 003: group composition on %s", g->name);
    if ((st = grok_report_begin(&rep, path, title)) != GROK_OK) return st;
    if (ir) report_char_table(&rep, g, ir);
    for (i = 0; i < n_runs; i++) {
        model_run *r = &runs[i];
        char h[160];
        snprintf(h, sizeof h, "%s on %s", r->name, g->name);
        grok_report_heading(&rep, h);
        grok_report_printf(&rep, "<p>order %d, embed_dim %d%s%d; AdamW lr %g, weight decay %g, betas (%g, %g), eps %g; "
                           "%ld epochs, %.1f s. Final train accuracy %.4f, test accuracy %.4f (loss %.3g / %.3g); test "
                           "accuracy &ge; 99%% first at epoch %ld (-1: never).</p>\n", g->order, r->net.cfg.embed_dim,
                           r->net.cfg.kind == GROK_NET_MLP ? ", hidden_dim " : "", r->net.cfg.kind == GROK_NET_MLP ?
                           r->net.cfg.hidden_dim : 0, opt->lr, opt->weight_decay, opt->beta1, opt->beta2, opt->eps,
                           r->net.epoch, r->seconds, r->net.metrics.train_acc, r->net.metrics.test_acc,
                           r->net.metrics.train_loss, r->net.metrics.test_loss, r->first_99);
        report_curves(&rep, r);
        if ((analysis & AN_GROUP) && (g->kind == GROK_GROUP_CYCLIC || g->kind == GROK_GROUP_DIHEDRAL)) report_group(&rep, r, g);
        if (analysis & AN_SUBGROUP) report_subgroup(&rep, r, g);
        if (ir) report_irreps(&rep, r, ir);
    }
    return grok_report_end(&rep);
}

int main(int argc, char **argv)
{
    static const char *const groups[] = {"dihedral", "cyclic", "symmetric", "alternating", NULL};
    static const char *const ops[] = {"compose", "conjugate", "xyx", NULL};
    static const char *const models[] = {"mlp", "bilinear", "both", NULL};
    static const char *const analyses[] = {"group", "subgroup", "both", NULL};
    int n = 23, embed = 32, hidden = 128, threads = 0, force = 0, history = 0, irreps = 0, i, st = GROK_OK, rc = -1, n_runs = 0, an;
    double frac = 0.6, lr = 3e-3, wd = 1.0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, early_stop = 0.0, seconds;
    long epochs = 3000, every = 100;
    unsigned long long seed = 1, data_seed = 1;
    const char *out = "runs/groups", *group = "dihedral", *model = "both", *analysis = "both", *init = NULL, *split = NULL,
               *op = "compose";
    opt options[] = {
        opt_run(opt_choice("--group", &group, groups,
                           "dihedral (D_n, order 2n), cyclic (C_n), symmetric (S_n) or alternating (A_n, the even\n"
                           "permutations)")),
        opt_run(opt_int("--n", &n, 1, GROK_GROUP_MAX_ORDER,
                        "the group's index n; the order is at most 4096 and S_n, A_n need n <= 6")),
        opt_run(opt_choice("--op", &op, ops,
                           "the label of (x, y): compose x y (seed 003), conjugate x y x^-1 or xyx x y x (the grokking\n"
                           "paper's s5conj and s5aba, on any group)")),
        opt_run(opt_choice("--model", &model, models, "OneLayerMLP, BilinearNet or both")),
        opt_run(opt_real("--frac", &frac, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "fraction of the order^2 pairs used for training")),
        opt_run(opt_int("--embed", &embed, 1, 16384, "embed_dim")),
        opt_run(opt_int("--hidden", &hidden, 1, 16384, "hidden_dim of the MLP")),
        opt_run(opt_real("--lr", &lr, 0, 100, OPT_OPEN_MIN, "AdamW learning rate (the notebook reads it from a cfg.json it\n"
                         "does not show)")),
        opt_run(opt_real("--wd", &wd, 0, 100, 0, "AdamW weight decay (likewise from the notebook's cfg.json)")),
        opt_run(opt_real("--beta1", &beta1, 0, 1, OPT_OPEN_MAX, "AdamW beta1 (the notebook: torch's default)")),
        opt_run(opt_real("--beta2", &beta2, 0, 1, OPT_OPEN_MAX, "AdamW beta2 (the notebook: torch's default)")),
        opt_run(opt_real("--eps", &eps, 0, 1, OPT_OPEN_MIN, "AdamW eps (the notebook: torch's default)")),
        opt_run(opt_long("--epochs", &epochs, 1, 1000000000, "full-batch epochs")),
        opt_run(opt_long("--every", &every, 1, 1000000000, "evaluate (and with --history checkpoint) every N epochs")),
        opt_run(opt_default(opt_real("--early-stop", &early_stop, 0, 1, OPT_OPEN_MIN,
                                     "stop once test accuracy has stayed at or above ACC for 3 evaluations"),
                            "off")),
        opt_run(opt_flag("--history", &history,
                 "keep a checkpoint OUT/MODEL/net_EPOCH.safetensors every --every epochs: epochs/every\n"
                 "files per model, each 4 bytes per parameter + about 0.4 KB of header (MLP: 4 (2 order E +\n"
                 "2 E H + H order) bytes, bilinear: 12 order E); at the defaults 68 KB and 18 KB")),
        opt_run(opt_choice("--analysis", &analysis, analyses,
                           "the Fourier analysis printed and drawn: group (seed 003's, over all elements), subgroup\n"
                           "(grok.h's, over the cyclic part) or both")),
        opt_run(opt_flag("--irreps", &irreps,
                         "the group's irreducible representations: print the character table and, per model, the\n"
                         "rep-theory paper's metrics (shares of the embeddings, W_U and the hidden layer per irrep,\n"
                         "logit trace similarity, restricted and excluded losses, the key irreps; with --history the\n"
                         "order they are learnt in), draw them in the report, and end with a line\n"
                         "key_irreps=NAME,NAME.. (each model's, ';' between models). Needs --op compose")),
        opt_run(opt_u64("--seed", &seed, "model initialisation seed")),
        opt_run(opt_u64("--data-seed", &data_seed, "train/test split seed")),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_text("--out", &out, "DIR", "output directory"),
        opt_flag("--force", &force, "start over in an OUT that holds a run, removing its files"),
        opt_run(opt_default(opt_text("--init", &init, "FILE",
                                     "weights to start from: a safetensors state dict of the net's class and shape\n"
                                     "(W_E_a, W_E_b, W, W_U: an earlier run's OUT/MODEL/latest.safetensors, or the\n"
                                     "seed's PyTorch module); one net, so --model mlp or bilinear; AdamW starts afresh"),
                            "none: grok.h's initialisation from --seed")),
        opt_run(opt_default(opt_text("--split", &split, "FILE.npy",
                                     "the training pairs as indices x*order + y (np.save of a notebook's train_indices);\n"
                                     "the test set is the rest, labels from the group's table. Replaces --frac and\n"
                                     "--data-seed"),
                            "none: --frac and --data-seed")),
    };
    run_dir whole;
    grok_group_kind kind;
    grok_group_op gop;
    grok_irreps ir;
    char keys_line[4096] = "";
    grok_group g;
    grok_data train, test;
    grok_adamw opt;
    model_run runs[2];
    struct timespec t0, t1;
    char how[OPT_TEXT_MAX + 64];

    if ((i = opt_parse("groups", about, options, OPT_COUNT(options), argc, argv)) >= 0) return i;
    if (threads) grok_threads_set(threads);
    kind = !strcmp(group, "dihedral") ? GROK_GROUP_DIHEDRAL : !strcmp(group, "cyclic") ? GROK_GROUP_CYCLIC :
           !strcmp(group, "symmetric") ? GROK_GROUP_SYMMETRIC : GROK_GROUP_ALTERNATING;
    gop = !strcmp(op, "compose") ? GROK_GROUP_OP_COMPOSE : !strcmp(op, "conjugate") ? GROK_GROUP_OP_CONJUGATE : GROK_GROUP_OP_XYX;
    an = !strcmp(analysis, "group") ? AN_GROUP : !strcmp(analysis, "subgroup") ? AN_SUBGROUP : AN_GROUP | AN_SUBGROUP;
    opt.lr = lr; opt.weight_decay = wd; opt.beta1 = beta1; opt.beta2 = beta2; opt.eps = eps;
    opt.lr_schedule = NULL; opt.lr_schedule_ctx = NULL;
    whole.prog = "groups"; whole.out = out; whole.files = run_files; whole.finals = NULL; /* run_start reads only files */
    whole.history = whole.history_ext = NULL;

    if (init && !strcmp(model, "both")) {
        fprintf(stderr, "groups: --init FILE holds one net: give --model mlp or --model bilinear with it\n");
        return 2;
    }
    if (split && (opt_given(options, OPT_COUNT(options), "--frac") || opt_given(options, OPT_COUNT(options), "--data-seed"))) {
        fprintf(stderr, "groups: --split gives the split: --frac and --data-seed do not go with it\n");
        return 2;
    }
    if (split && gop != GROK_GROUP_OP_COMPOSE) {
        fprintf(stderr, "groups: --split labels its pairs with x y: --op %s does not go with it\n", op);
        return 2;
    }
    if (irreps && gop != GROK_GROUP_OP_COMPOSE) {
        fprintf(stderr, "groups: --irreps reads a net that composes x y: --op %s does not go with it\n", op);
        return 2;
    }
    if ((st = grok_group_init(&g, kind, n)) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        return st == GROK_ERR_ARG ? 2 : 1; /* e.g. S_7 */
    }
    if (split) rc = run_split_load(&train, &test, "groups", split, g.order, GROK_OP_ADD, 0, 0, &g);
    else if ((st = grok_task_group_op(&train, &test, &g, gop, frac, data_seed)) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        rc = st == GROK_ERR_ARG ? 2 : 1; /* e.g. a --frac that leaves no pair */
    }
    if (rc >= 0) { grok_group_free(&g); return rc; }
    memset(runs, 0, sizeof runs);
    if (strcmp(model, "bilinear") != 0)
        rc = net_setup(&runs[n_runs++], GROK_NET_MLP, g.order, train.n, embed, hidden, &opt, seed, init);
    if (strcmp(model, "mlp") != 0 && rc < 0)
        rc = net_setup(&runs[n_runs++], GROK_NET_BILINEAR, g.order, train.n, embed, hidden, &opt, seed, init);
    if (rc < 0) rc = run_start(&whole, force, 0);
    for (i = 0; rc < 0 && force && i < 2; i++) { /* each model's history, which run_files cannot list */
        char d[4200];
        run_dir sub = whole;
        snprintf(d, sizeof d, "%s/%s", out, i ? "bilinear" : "mlp");
        sub.out = d; sub.history = "net_"; sub.history_ext = ".safetensors";
        if (run_history_scan(&sub, 1, NULL, 0) < 0) rc = 1;
    }
    if (rc < 0) rc = run_args_save(&whole, options, OPT_COUNT(options));
    if (rc >= 0) {
        for (i = 0; i < n_runs; i++) grok_net_free(&runs[i].net);
        grok_data_free(&train); grok_data_free(&test); grok_group_free(&g);
        return rc;
    }
    if ((an & AN_GROUP) && (kind == GROK_GROUP_SYMMETRIC || kind == GROK_GROUP_ALTERNATING))
        printf("groups: seed 003 defines no Fourier basis for S_n or A_n; only the subgroup analysis runs\n");
    if (irreps && grok_irreps_init(&ir, &g) != GROK_OK) {
        fprintf(stderr, "groups: %s\n", grok_last_error());
        for (i = 0; i < n_runs; i++) grok_net_free(&runs[i].net);
        grok_data_free(&train); grok_data_free(&test); grok_group_free(&g);
        return 1;
    }
    if (split) snprintf(how, sizeof how, "the training indices of %s", split);
    else snprintf(how, sizeof how, "frac %.3g, data seed %llu", frac, data_seed);
    printf("groups: %s (order %d), %s, %d pairs: %d train, %d test (%s); AdamW lr %g wd %g betas (%g, %g) eps %g, %ld "
           "epochs, %d threads\n", g.name, g.order, gop == GROK_GROUP_OP_COMPOSE ? "labels x y" : gop == GROK_GROUP_OP_CONJUGATE ?
           "labels x y x^-1" : "labels x y x", g.order * g.order, train.n, test.n, how, lr, wd, beta1, beta2, eps, epochs, grok_threads_get());
    if (irreps) print_char_table(&g, &ir);
    if (init) printf("weights: %s (AdamW afresh, epoch 0)\n", init);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n_runs && st == GROK_OK; i++)
        st = train_net(&runs[i], &g, &train, &test, epochs, every, early_stop, history, an, irreps ? &ir : NULL, out);
    if (st == GROK_OK) {
        if ((st = write_report(out, runs, n_runs, &g, &opt, an, irreps ? &ir : NULL)) != GROK_OK)
            fprintf(stderr, "groups: %s\n", grok_last_error());
        else printf("report: %s/report.html\n", out);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("total %.1f s\n", seconds);
    if (irreps && st == GROK_OK) {
        for (i = 0; i < n_runs; i++) key_irreps_line(keys_line, sizeof keys_line, i, &runs[i].irr, &ir);
        printf("key_irreps=%s\n", keys_line);
    }
    for (i = 0; i < n_runs; i++) { grok_net_free(&runs[i].net); irreps_result_free(&runs[i].irr); }
    if (irreps) grok_irreps_free(&ir);
    grok_data_free(&train);
    grok_data_free(&test);
    grok_group_free(&g);
    return st == GROK_OK ? 0 : 1;
}
