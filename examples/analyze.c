/* analyze - takes a modular-arithmetic checkpoint apart the way seeds 000, 001 and 004 do.

   Usage: analyze --ckpt runs/modadd/latest.grok [--task add|sub|mul|div|pow_sum|sq_sum|sq_cross|..]
                  [--m 4] [--n 4] [--directions sum|task] [--p P] [--frac 0.3] [--data-seed 598]
                  [--split FILE.npy] [--act-fn relu|gelu] [--out DIR] [--threads N] [--help]
          analyze --history RUN_DIR [--phases E1,E2,E3] [--every N] [--out DIR] [--threads N]
   The task (the labels of every loss) and the split come from run.args beside the checkpoint
   (written by examples/modadd and power_sum); flags that contradict it are refused, and without
   it the flags say (default: modular addition). --ckpt takes a grok.h checkpoint or a
   safetensors state dict (grok.h's model.safetensors, or PyTorch's
   safetensors.torch.save_file(model.state_dict()) of a HookedTransformer), told apart by
   content: the config comes from its __metadata__, else from the shapes, with --act-fn for what
   they cannot tell; absent bias tensors are zero. Without run.args the split is --split FILE.npy
   (the training indices a*p + b, as a notebook saves train_indices; the test set the rest), or
   --frac/--data-seed when given; with none of them it is unknown and every line that needs it
   says "split unknown" (the train/test and excluded losses, the progress measures; excluded=nan
   below). The trig-sum directions are the seeds'
   cos/sin(w(a+b)) (--directions sum), or the task's own cos/sin(w s(a,b)) (--directions task).
   Prints the key frequencies of the embedding with their share of its norm, the neuron
   clusters, the original / restricted / excluded losses, the loss with each cluster ablated and
   the cos(w(s-c)) coefficients; writes the arrays as CSV files into DIR (default: the
   checkpoint's directory + /analysis). The last two lines are for scripts:
       key_freqs=K1,K2,...
       loss original=X restricted=X excluded=X
   (original and restricted over all labelled pairs, excluded over the training pairs).
   --history: seed 001's metrics over every checkpoint the run kept (modadd / power_sum
   --history), into DIR/history.csv, DIR/history_freqs.csv and DIR/history.html.
   Also writes DIR/report.html (grok_modadd_report: plots of metrics.csv from the checkpoint's
   directory, the Fourier, SVD, neuron and attention analyses; one self-contained file). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "options.h"
#include "run_dir.h"

#define MIN_SHARE 0.05 /* key frequency: >= 5% of the non-constant embedding norm */
#define MIN_FRAC 0.85  /* seed 004: a neuron belongs to a frequency's cluster if it explains > 0.85 */

static const char *const about =
    "Analyses a modular-arithmetic model (a grok.h checkpoint, or a safetensors state dict as grok.h or PyTorch\n"
    "writes it) in the Fourier basis; writes the arrays as CSV files and report.html into --out.";

static int die(const char *what)
{
    fprintf(stderr, "analyze: %s: %s\n", what, grok_last_error());
    return 1;
}

static FILE *open_csv(const char *dir, const char *name, const char *header)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) fprintf(stderr, "analyze: cannot write %s\n", path);
    else fprintf(f, "%s\n", header);
    return f;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The tasks analyze knows, as grok_modop; run.args' program names the task of its runs. */
static const char *const task_names[] = {"add", "sub", "mul", "div", "pow_sum", "sq_sum", "sq_cross", "sq_cross_plus_a",
                                         "cube_cross", "cube_cross_sq", "div_if_odd", "add_or_mul", "add_or_sub", NULL};
static const char *const direction_names[] = {"sum", "task", NULL};
static const char *const act_names[] = {"relu", "gelu", NULL};

static int option_index(const opt *options, int n, const char *name)
{
    int i;
    for (i = 0; i < n && strcmp(options[i].name, name); i++) {}
    return i;
}

/* The task and split of the run in dir from dir/run.args: options not given take the run's
   values, given ones must equal them; run_split gets the run's --split file ("" when it had
   none). -1 to go on (found says whether run.args was there), else the exit status after a
   message. */
static int task_from_run(opt *options, int n, const char *dir, int *found, char *run_split, size_t cap)
{
    static const char *const split_flags[] = {"--p", "--m", "--n", "--frac", "--data-seed"};
    char path[4200], text[16384], prog[64], value[512], have[512];
    const char *task_of_run;
    int i, t;
    size_t len;
    FILE *f;
    snprintf(path, sizeof path, "%s/run.args", dir);
    *found = 0;
    run_split[0] = '\0';
    if (access(path, F_OK) != 0) return -1;
    if (!(f = fopen(path, "r"))) { fprintf(stderr, "analyze: cannot open %s: %s\n", path, strerror(errno)); return 1; }
    text[0] = '\n';
    len = 1 + fread(text + 1, 1, sizeof text - 2, f);
    text[len] = '\0';
    if (ferror(f) || !feof(f)) { fprintf(stderr, "analyze: cannot read %s whole\n", path); fclose(f); return 1; }
    fclose(f);
    if (run_args_value(prog, sizeof prog, text, "program") != 0) { fprintf(stderr, "analyze: %s names no program\n", path); return 2; }
    if (!strcmp(prog, "modadd")) task_of_run = "add";
    else if (!strcmp(prog, "power_sum")) task_of_run = "pow_sum";
    else {
        fprintf(stderr, "analyze: %s is a run of %s; analyze takes the modular-arithmetic runs of modadd and power_sum\n", dir,
                prog);
        return 2;
    }
    t = option_index(options, n, "--task");
    if (options[t].given && strcmp(*(const char **)options[t].value, task_of_run)) {
        fprintf(stderr, "analyze: --task %s, but %s was trained on %s (%s)\n", *(const char **)options[t].value, dir, task_of_run,
                path);
        return 2;
    }
    *(const char **)options[t].value = task_of_run;
    for (i = 0; i < (int)(sizeof split_flags / sizeof *split_flags); i++) {
        opt *o = &options[option_index(options, n, split_flags[i])];
        if (run_args_value(have, sizeof have, text, o->name) != 0) {
            if (o->given && strcmp(o->name, "--m") && strcmp(o->name, "--n")) {
                fprintf(stderr, "analyze: %s does not record %s\n", path, o->name);
                return 2;
            }
            continue;
        }
        if (o->given) {
            opt_value_text(value, sizeof value, o);
            if (strcmp(value, have)) {
                fprintf(stderr, "analyze: %s %s, but the run in %s has %s %s (%s)\n", o->name, value, dir, o->name, have, path);
                return 2;
            }
        } else if (opt_store(o, have)) {
            fprintf(stderr, "analyze: %s: %s %s is not a value analyze takes\n", path, o->name, have);
            return 2;
        }
    }
    if (run_args_value(have, sizeof have, text, "--split") == 0 && strcmp(have, "none")) snprintf(run_split, cap, "%s", have);
    *found = 1;
    return -1;
}

static void dir_of(char *buf, size_t cap, const char *file)
{
    const char *slash = strrchr(file, '/');
    if (slash) snprintf(buf, cap, "%.*s", (int)(slash - file), file);
    else snprintf(buf, cap, ".");
}

/* ---- --history: seed 001's "look during training" over the checkpoints a run kept */

typedef struct { long epoch; char name[64]; } history_ckpt;

static int by_epoch(const void *a, const void *b)
{
    long x = ((const history_ckpt *)a)->epoch, y = ((const history_ckpt *)b)->epoch;
    return (x > y) - (x < y);
}

/* The run's ckpt_EPOCH.grok files, sorted by epoch, into *list (malloc'ed); their count, or -1. */
static int history_list(const char *run, history_ckpt **list)
{
    DIR *d = opendir(run);
    struct dirent *e;
    int n = 0, cap = 0;
    *list = NULL;
    if (!d) { fprintf(stderr, "analyze: cannot open %s: %s\n", run, strerror(errno)); return -1; }
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        size_t len = strlen(s);
        unsigned long long epoch;
        char digits[32];
        if (len < 11 || len > 40 || strncmp(s, "ckpt_", 5) || strcmp(s + len - 5, ".grok")) continue;
        snprintf(digits, sizeof digits, "%.*s", (int)(len - 10), s + 5);
        if (opt_read_integer(digits, 0, 1000000000000ULL, &epoch) != NULL) continue; /* not ckpt_<integer>.grok */
        if (n == cap) {
            history_ckpt *grown = (history_ckpt *)realloc(*list, sizeof(history_ckpt) * (size_t)(cap = cap ? 2 * cap : 64));
            if (!grown) { closedir(d); fprintf(stderr, "analyze: out of memory\n"); return -1; }
            *list = grown;
        }
        (*list)[n].epoch = (long)epoch;
        snprintf((*list)[n].name, sizeof (*list)[n].name, "%s", s);
        n++;
    }
    closedir(d);
    if (n) qsort(*list, (size_t)n, sizeof **list, by_epoch);
    return n;
}

/* Phase boundaries (README, "Phases"): memorisation ends at the first checkpoint with train
   accuracy >= 99%; circuit formation at the first later one whose test loss is below half the
   largest test loss since; cleanup at the first later one with test accuracy >= 99%. -1: not seen. */
static void history_phases(long out[3], const long *epoch, const double *row, int ncol, int n)
{
    int i, mem = -1, circ = -1;
    double peak = 0;
    out[0] = out[1] = out[2] = -1;
    for (i = 0; i < n && mem < 0; i++) if (row[i * ncol + 3] >= 0.99) { mem = i; out[0] = epoch[i]; } /* train_acc */
    for (i = mem; mem >= 0 && i < n && circ < 0; i++) {
        if (row[i * ncol + 2] > peak) peak = row[i * ncol + 2]; /* test_loss */
        if (i > mem && row[i * ncol + 2] < 0.5 * peak) { circ = i; out[1] = epoch[i]; }
    }
    for (i = circ; circ >= 0 && i < n; i++) if (row[i * ncol + 4] >= 0.99) { out[2] = epoch[i]; break; } /* test_acc */
}

/* --phases E1,E2,E3: three ascending epochs. 0, or -1 after a message. */
static int phases_parse(long out[3], const char *text)
{
    char part[32];
    const char *s = text;
    int i;
    for (i = 0; i < 3; i++) {
        size_t len = strcspn(s, ",");
        unsigned long long v;
        snprintf(part, sizeof part, "%.*s", (int)(len < 31 ? len : 31), s);
        if (len > 30 || opt_read_integer(part, 0, 1000000000, &v) != NULL || (i < 2 && s[len] != ',') || (i == 2 && s[len]) ||
            (i > 0 && (long)v <= out[i - 1])) {
            fprintf(stderr, "analyze: --phases %s: want three ascending epochs E1,E2,E3\n", text);
            return -1;
        }
        out[i] = (long)v;
        s += len + 1;
    }
    return 0;
}

enum { H_EPOCH, H_TRAIN_LOSS, H_TEST_LOSS, H_TRAIN_ACC, H_TEST_ACC, H_RESTRICTED, H_EXCLUDED, H_EXCLUDED_NEURONS,
       H_RESIDUAL, H_GINI_E, H_GINI_LOGIT, H_SUMSQ, H_LLC, H_COLS }; /* H_LLC: with --llc only */
static const char *const history_columns[H_COLS] = {
    "epoch", "train_loss", "test_loss", "train_acc", "test_acc", "restricted_loss", "excluded_loss", "excluded_loss_neurons",
    "residual_frac", "gini_W_E", "gini_W_logit", "sum_sq_weights", "llc"};

/* Loss and accuracy of logits (N, p) on rows with the task's labels. */
static void rows_metrics(double *loss, double *acc, const double *L, const int *labels, int N, int p, const int *rows, int n)
{
    int hit = 0;
    grok_logits_loss(loss, L, labels, N, p, rows, n);
    for (int i = 0; i < n; i++) {
        const double *l = L + (long)rows[i] * p;
        int best = 0;
        for (int j = 1; j < p; j++) if (l[j] > l[best]) best = j;
        hit += best == labels[rows[i]];
    }
    *acc = (double)hit / n;
}

static void lines_plot(grok_report *r, const char *title, const char *ylabel, const double *x, const double *y, int n,
                       int n_series, const char *const *names, int log_y, const double *vl, const char *const *vll, int nvl)
{
    grok_plot pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = GROK_PLOT_LINES; pl.title = title; pl.xlabel = "epoch"; pl.ylabel = ylabel; pl.x = x; pl.y = y; pl.n = n;
    pl.n_series = n_series; pl.names = names; pl.log_y = log_y; pl.vlines = vl; pl.vline_labels = vll; pl.n_vlines = nvl;
    pl.width = 620; pl.height = 340;
    grok_report_plot(r, &pl);
}

static int analyze_history(const char *run, const char *out, const char *phases_text, grok_modop op, int em, int en,
                           grok_dirs dirs, double frac, unsigned long long data_seed, const char *split, int p_arg, int found,
                           const grok_llc_opts *llc)
{
    int n_cols = llc ? H_COLS : H_LLC;
    history_ckpt *list = NULL;
    char path[4300], final_path[4300];
    int n_ck, p, M, C, nf, nk, kf[4096], *train_rows = NULL, *test_rows = NULL, st = 1;
    long phase[3];
    double t0 = now_s(), ksh[4096];
    grok_config cfg;
    grok_model m;
    grok_data train, test;
    grok_modtask task;
    FILE *fh = NULL, *ff = NULL;

    if (phases_text && phases_parse(phase, phases_text) != 0) return 2;
    if ((n_ck = history_list(run, &list)) < 0) return 1;
    if (n_ck == 0) {
        fprintf(stderr, "analyze: %s holds no checkpoint history (ckpt_EPOCH.grok): train with --history\n", run);
        free(list);
        return 2;
    }
    snprintf(final_path, sizeof final_path, "%s/latest.grok", run);
    if (access(final_path, F_OK) != 0) snprintf(final_path, sizeof final_path, "%s/%s", run, list[n_ck - 1].name);
    if (grok_checkpoint_config(&cfg, final_path) != GROK_OK) { free(list); return die("reading the final checkpoint's config"); }
    p = cfg.d_vocab_out; M = cfg.d_mlp; C = cfg.d_model; nf = (p - 1) / 2;
    if (p_arg && p_arg != p) { fprintf(stderr, "analyze: --p %d but the run has p = %d\n", p_arg, p); free(list); return 2; }
    if (cfg.n_layers != 1 || cfg.n_ctx != 3 || cfg.d_vocab != p + 1 || p < 3 || p > 4095) {
        fprintf(stderr, "analyze: not a modular-arithmetic model (layers %d, n_ctx %d, d_vocab %d, p %d)\n", cfg.n_layers,
                cfg.n_ctx, cfg.d_vocab, p);
        free(list);
        return 2;
    }
    if (grok_modtask_init(&task, op, p, em, en, dirs) != GROK_OK) {
        fprintf(stderr, "analyze: %s\n", grok_last_error());
        free(list);
        return 2;
    }
    if (split[0] && (st = run_split_load(&train, &test, "analyze", split, p, op, em, en, NULL)) >= 0) { free(list); return st; }
    if (!split[0] && grok_task_modop(&train, &test, op, p, em, en, frac, data_seed) != GROK_OK) { free(list); return die("rebuilding the split"); }
    st = 1;
    if (grok_model_init(&m, &cfg, train.n) != GROK_OK) { free(list); return die("model"); }
    if (grok_dir_make(out) != GROK_OK) { fprintf(stderr, "analyze: %s\n", grok_last_error()); return 1; }

    long N = (long)p * p;
    float *logits = (float *)malloc(sizeof(float) * N * p), *acts = (float *)malloc(sizeof(float) * N * M);
    float *resid = (float *)malloc(sizeof(float) * N * C);
    double *Ld = (double *)malloc(sizeof(double) * N * p), *nrm = (double *)malloc(sizeof(double) * p);
    double *row = (double *)malloc(sizeof(double) * H_COLS * n_ck), *coeff = (double *)malloc(sizeof(double) * nf * n_ck);
    double *cos_sim = (double *)malloc(sizeof(double) * nf * n_ck), *embed = (double *)malloc(sizeof(double) * nf * n_ck);
    train_rows = (int *)malloc(sizeof(int) * train.n); test_rows = (int *)malloc(sizeof(int) * test.n);
    if (!logits || !acts || !resid || !Ld || !nrm || !row || !coeff || !cos_sim || !embed || !train_rows || !test_rows) {
        fprintf(stderr, "analyze: out of memory\n");
        goto done;
    }
    for (int i = 0; i < train.n; i++) train_rows[i] = train.tokens[3 * i] * p + train.tokens[3 * i + 1];
    for (int i = 0; i < test.n; i++) test_rows[i] = test.tokens[3 * i] * p + test.tokens[3 * i + 1];

    /* the key frequencies of the final model, fixed for every checkpoint (seed 001's key_freqs) */
    if (grok_checkpoint_load(&m, final_path) != GROK_OK ||
        grok_fourier_norms(nrm, m.weights + grok_model_param(&m, "embed.W_E")->offset, p, C, 0) != GROK_OK ||
        grok_key_freqs(kf, ksh, &nk, NULL, nrm, p, MIN_SHARE) != GROK_OK) {
        die("the final model's key frequencies");
        goto done;
    }
    printf("analyze --history: %s: %d checkpoints, epochs %ld..%ld; task %s (%s), directions %s; key frequencies of %s:",
           run, n_ck, list[0].epoch, list[n_ck - 1].epoch, task.name, found ? "from run.args" : "from the flags",
           dirs == GROK_DIRS_SUM ? "cos/sin(w(a+b))" : "cos/sin(w s(a,b))", final_path);
    for (int i = 0; i < nk; i++) printf(" %d", kf[i]);
    printf("\n");

    snprintf(path, sizeof path, "%s/history.csv", out);
    if (!(fh = fopen(path, "w"))) { fprintf(stderr, "analyze: cannot write %s\n", path); goto done; }
    snprintf(path, sizeof path, "%s/history_freqs.csv", out);
    if (!(ff = fopen(path, "w"))) { fprintf(stderr, "analyze: cannot write %s\n", path); goto done; }
    for (int j = 0; j < n_cols; j++) fprintf(fh, "%s%s", j ? "," : "", history_columns[j]);
    fprintf(fh, "\n");
    fprintf(ff, "epoch,k,coeff,cos_sim,W_E_cos_norm,W_E_sin_norm\n");
    for (int c = 0; c < n_ck; c++) {
        double *h = row + (long)c * H_COLS, res, gini;
        snprintf(path, sizeof path, "%s/%s", run, list[c].name);
        if (grok_checkpoint_load(&m, path) != GROK_OK) { die(path); goto done; }
        if (grok_modadd_run(logits, acts, resid, NULL, NULL, &m) != GROK_OK) { die("running all pairs"); goto done; }
        for (long i = 0; i < N * p; i++) Ld[i] = logits[i];
        h[H_EPOCH] = (double)list[c].epoch;
        rows_metrics(&h[H_TRAIN_LOSS], &h[H_TRAIN_ACC], Ld, task.labels, (int)N, p, train_rows, train.n);
        rows_metrics(&h[H_TEST_LOSS], &h[H_TEST_ACC], Ld, task.labels, (int)N, p, test_rows, test.n);
        if (grok_modadd_restricted(&h[H_RESTRICTED], &h[H_EXCLUDED], NULL, NULL, logits, p, kf, nk, train_rows, train.n,
                                   &task) != GROK_OK ||
            grok_modadd_neuron_losses(&h[H_EXCLUDED_NEURONS], NULL, NULL, NULL, &m, acts, resid, logits, NULL, NULL, 0, kf, nk,
                                      train_rows, train.n, &task) != GROK_OK ||
            grok_modadd_cos_fit(coeff + (long)c * nf, cos_sim + (long)c * nf, &res, logits, p, &task) != GROK_OK ||
            grok_fourier_norms(nrm, m.weights + grok_model_param(&m, "embed.W_E")->offset, p, C, 0) != GROK_OK) {
            die(path);
            goto done;
        }
        h[H_RESIDUAL] = res;
        for (int k = 1; k <= nf; k++) embed[(long)(k - 1) * n_ck + c] = sqrt(nrm[2 * k - 1] + nrm[2 * k]);
        for (int k = 1; k <= nf; k++)
            fprintf(ff, "%ld,%d,%.9g,%.9g,%.9g,%.9g\n", list[c].epoch, k, coeff[(long)c * nf + k - 1],
                    cos_sim[(long)c * nf + k - 1], sqrt(nrm[2 * k - 1]), sqrt(nrm[2 * k]));
        for (int i = 0; i < p; i++) nrm[i] = sqrt(nrm[i]);
        grok_gini(&gini, nrm, p); h[H_GINI_E] = gini;
        grok_wlogit_fourier_norms(nrm, &m);
        grok_gini(&gini, nrm, p); h[H_GINI_LOGIT] = gini;
        grok_weights_sumsq(&h[H_SUMSQ], &m);
        if (llc && grok_model_llc(&h[H_LLC], NULL, &m, &train, llc) != GROK_OK) { die("the local learning coefficient"); goto done; }
        for (int j = 0; j < n_cols; j++) fprintf(fh, j ? ",%.9g" : "%.0f", h[j]);
        fprintf(fh, "\n");
    }
    if (fclose(fh) != 0 || fclose(ff) != 0) { fh = ff = NULL; fprintf(stderr, "analyze: writing the history CSV files failed\n"); goto done; }
    fh = ff = NULL;
    if (!phases_text) {
        long *ep = (long *)malloc(sizeof(long) * n_ck);
        if (!ep) { fprintf(stderr, "analyze: out of memory\n"); goto done; }
        for (int c = 0; c < n_ck; c++) ep[c] = list[c].epoch;
        history_phases(phase, ep, row, H_COLS, n_ck);
        free(ep);
    }
    printf("phases end (%s): memorisation %ld, circuit formation %ld, cleanup %ld (-1: not seen)\n",
           phases_text ? "--phases" : "the rule", phase[0], phase[1], phase[2]);

    { /* history.html */
        grok_report rep;
        double *x = (double *)malloc(sizeof(double) * n_ck), *y = (double *)malloc(sizeof(double) * n_ck * (nf + 6)), vl[3];
        const char *vll[3], *phase_names[3] = {"memorisation ends", "circuit formation ends", "cleanup ends"};
        const char **names = (const char **)malloc(sizeof(char *) * (nf + 6)), **ynames = (const char **)malloc(sizeof(char *) * nf);
        const char **xnames = (const char **)malloc(sizeof(char *) * n_ck);
        char (*nb)[24] = (char (*)[24])malloc(24 * (size_t)(nf + n_ck + 8));
        int nvl = 0, ns;
        if (!x || !y || !names || !ynames || !xnames || !nb) { fprintf(stderr, "analyze: out of memory\n"); free(x); free(y); free(names); free(ynames); free(xnames); free(nb); goto done; }
        for (int i = 0; i < 3; i++) if (phase[i] >= 0) { vl[nvl] = (double)phase[i]; vll[nvl++] = phase_names[i]; }
        for (int c = 0; c < n_ck; c++) { x[c] = (double)list[c].epoch; snprintf(nb[nf + c], 24, "%ld", list[c].epoch); xnames[c] = nb[nf + c]; }
        for (int k = 1; k <= nf; k++) { snprintf(nb[k - 1], 24, "freq %d", k); ynames[k - 1] = nb[k - 1]; }
        snprintf(path, sizeof path, "%s/history.html", out);
        snprintf(final_path, sizeof final_path, "%s: training history (%s)", run, task.name);
        grok_report_begin(&rep, path, final_path);
        grok_report_heading(&rep, "Losses");
        {
            static const int cols[5] = {H_TRAIN_LOSS, H_TEST_LOSS, H_RESTRICTED, H_EXCLUDED, H_EXCLUDED_NEURONS};
            for (int s2 = 0; s2 < 5; s2++) {
                names[s2] = history_columns[cols[s2]];
                for (int c = 0; c < n_ck; c++) y[s2 * n_ck + c] = row[(long)c * H_COLS + cols[s2]];
            }
            lines_plot(&rep, "Loss, restricted and excluded loss (key frequencies of the final model)", "cross-entropy", x, y,
                       n_ck, 5, names, 1, vl, vll, nvl);
        }
        grok_report_note(&rep, "restricted/excluded_loss: the logits projected onto / with their projection onto the key "
                               "frequencies' trig-sum directions removed (seed 004); excluded_loss_neurons: the neuron "
                               "activations with it removed (seed 001's excluded loss). Dashed: the phase boundaries.");
        grok_report_heading(&rep, "Logits against cos(w(s - c)), per frequency (seed 001)");
        for (int pass = 0; pass < 2; pass++) {
            const double *src = pass ? cos_sim : coeff;
            ns = 0;
            for (int i = 0; i < nk; i++, ns++) {
                names[ns] = nb[kf[i] - 1];
                for (int c = 0; c < n_ck; c++) y[ns * n_ck + c] = src[(long)c * nf + kf[i] - 1];
            }
            for (int c = 0; c < n_ck; c++) { /* the other frequencies together: the largest |value| among them */
                double big = 0;
                for (int k = 1; k <= nf; k++) {
                    int key = 0;
                    for (int i = 0; i < nk; i++) key |= kf[i] == k;
                    if (!key && fabs(src[(long)c * nf + k - 1]) > fabs(big)) big = src[(long)c * nf + k - 1];
                }
                y[ns * n_ck + c] = big;
            }
            names[ns++] = "largest other";
            if (pass) { for (int c = 0; c < n_ck; c++) y[ns * n_ck + c] = row[(long)c * H_COLS + H_RESIDUAL]; names[ns++] = "residual"; }
            lines_plot(&rep, pass ? "Cosine similarity with cos(w(s - c)), and the residual's fraction of the norm"
                                  : "Coefficient of the logits on cos(w(s - c))", pass ? "cosine similarity" : "coefficient",
                       x, y, n_ck, ns, names, 0, vl, vll, nvl);
        }
        grok_report_heading(&rep, "Embedding norms per frequency over training");
        {
            grok_plot pl;
            memset(&pl, 0, sizeof pl);
            pl.kind = GROK_PLOT_HEATMAP; pl.title = "||W_E's cos k and sin k components|| per checkpoint"; pl.z = embed;
            pl.rows = nf; pl.cols = n_ck; pl.cmap = GROK_CMAP_VIRIDIS; pl.xlabel = "epoch"; pl.ylabel = "frequency";
            pl.clabel = "norm"; pl.x_names = xnames; pl.y_names = ynames; pl.width = 720; pl.height = 520;
            grok_report_plot(&rep, &pl);
        }
        grok_report_heading(&rep, "Sparsity and weight norm");
        names[0] = "gini_W_E"; names[1] = "gini_W_logit";
        for (int c = 0; c < n_ck; c++) { y[c] = row[(long)c * H_COLS + H_GINI_E]; y[n_ck + c] = row[(long)c * H_COLS + H_GINI_LOGIT]; }
        lines_plot(&rep, "Gini of the Fourier norms of W_E and W_logit", "Gini", x, y, n_ck, 2, names, 0, vl, vll, nvl);
        names[0] = "sum_sq_weights";
        for (int c = 0; c < n_ck; c++) y[c] = row[(long)c * H_COLS + H_SUMSQ];
        lines_plot(&rep, "Sum of squared weights", "sum of squares", x, y, n_ck, 1, names, 0, vl, vll, nvl);
        if (llc) {
            grok_report_heading(&rep, "Local learning coefficient");
            names[0] = "llc";
            for (int c = 0; c < n_ck; c++) y[c] = row[(long)c * H_COLS + H_LLC];
            lines_plot(&rep, "LLC by SGLD around each checkpoint (on the training set)", "llc", x, y, n_ck, 1, names, 0, vl,
                       vll, nvl);
            grok_report_note(&rep, "nbeta * (mean minibatch loss over the SGLD draws - the loss at the checkpoint), "
                                   "devinterp's estimator (grok_model_llc); a regular model of d parameters has d/2.");
        }
        st = grok_report_end(&rep) == GROK_OK ? 0 : 1;
        if (st) fprintf(stderr, "analyze: writing %s: %s\n", path, grok_last_error());
        free(x); free(y); free(names); free(ynames); free(xnames); free(nb);
    }
    if (!st) printf("wrote %s/history.csv, history_freqs.csv, history.html; %.1f s\n", out, now_s() - t0);
done:
    if (fh) fclose(fh);
    if (ff) fclose(ff);
    free(list); free(logits); free(acts); free(resid); free(Ld); free(nrm); free(row); free(coeff); free(cos_sim); free(embed);
    free(train_rows); free(test_rows);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test); grok_modtask_free(&task);
    return st;
}

int main(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL, *history = NULL, *phases = NULL, *task_name = "add", *directions = "sum";
    const char *split = NULL, *act_fn = "relu";
    char outbuf[4200], name[32], run_dir_path[4096], run_split[4096], epoch_text[48], config_text[200];
    int p_arg = 0, em = 4, en = 4, threads = 0, p, M, H, C, nk, nc = 0, *train_rows, *test_rows, *labels, *nfreq, *clusters,
        kf[4096], op, found, is_st = 0, n_zeroed = 0, known;
    double frac = 0.3, t0 = now_s(), ksh[4096], S[4096];
    unsigned long long data_seed = 598;
    int llc_on = 0;
    grok_llc_opts llc_opts = {10, 100, 0, 512, 1e-4, 0.0, 100.0, 0}; /* devinterp's defaults (grok_llc_opts) */
    unsigned long long llc_seed = 0;
    grok_config cfg;
    grok_model m;
    grok_data train, test;
    grok_modtask task;
    FILE *f;

    opt options[] = {
        opt_default(opt_text("--ckpt", &ckpt, "FILE",
                             "the model: a grok.h checkpoint or a safetensors state dict (TransformerLens names, as\n"
                             "grok_model_save_safetensors or safetensors.torch.save_file(model.state_dict()) write it),\n"
                             "told apart by content"),
                    "none (--ckpt or --history is required)"),
        opt_default(opt_text("--split", &split, "FILE.npy",
                             "the training pairs as indices a*p + b (np.save of a notebook's train_indices); the test set\n"
                             "is the rest. Not with a run.args beside the checkpoint (the run's split)"),
                    "the run's (run.args), else --frac/--data-seed when given, else unknown"),
        opt_default(opt_choice("--act-fn", &act_fn, act_names,
                               "a safetensors file's activation when its __metadata__ does not say (shapes cannot)"),
                    "relu"),
        opt_default(opt_text("--history", &history, "RUN_DIR",
                             "seed 001's metrics over every checkpoint of a run kept with --history (ckpt_EPOCH.grok)"),
                    "none"),
        opt_default(opt_choice("--task", &task_name, task_names,
                               "the operation the model was trained on: the labels of every loss"),
                    "the run's (run.args), else add"),
        opt_default(opt_int("--m", &em, 0, 1000000000, "exponent of a for --task pow_sum"), "the run's, else 4"),
        opt_default(opt_int("--n", &en, 0, 1000000000, "exponent of b for --task pow_sum"), "the run's, else 4"),
        opt_choice("--directions", &directions, direction_names,
                   "trig-sum directions of the restricted/excluded losses and the logit fit: sum = the seeds' "
                   "cos/sin(w(a+b)), task = cos/sin(w s) with s the task's label"),
        opt_default(opt_int("--p", &p_arg, 3, 4095, "modulus; must match the checkpoint"), "read from the checkpoint"),
        opt_default(opt_real("--frac", &frac, 0, 1, OPT_OPEN_MIN | OPT_OPEN_MAX, "training fraction of the split to rebuild"),
                    "the run's, else 0.3"),
        opt_default(opt_u64("--data-seed", &data_seed, "split seed"), "the run's, else 598"),
        opt_default(opt_text("--phases", &phases, "E1,E2,E3",
                             "--history: the epochs where memorisation, circuit formation and cleanup end, as lines on "
                             "the plots"),
                    "found by the rule in README (Phases)"),
        opt_default(opt_text("--out", &out, "DIR", "where the CSV files and report.html (history.html) go"),
                    "the checkpoint's (run's) directory/analysis"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_flag("--llc", &llc_on, "the local learning coefficient by SGLD on the training set around the checkpoint\n"
                                   "(--history: around each, a column of history.csv and a plot; grok_model_llc)"),
        opt_int("--llc-chains", &llc_opts.chains, 1, 1000, "--llc: SGLD chains"),
        opt_int("--llc-draws", &llc_opts.draws, 1, 1000000, "--llc: draws per chain (one step each, no burn-in)"),
        opt_real("--llc-step", &llc_opts.step_size, 0, 1, OPT_OPEN_MIN, "--llc: the SGLD step size epsilon"),
        opt_real("--llc-gamma", &llc_opts.localization, 0, 1e9, OPT_OPEN_MIN, "--llc: the localization strength gamma"),
        opt_default(opt_real("--llc-nbeta", &llc_opts.nbeta, 0, 1e12, OPT_OPEN_MIN, "--llc: n*beta, the inverse temperature"),
                    "batch / log(batch)"),
        opt_int("--llc-batch", &llc_opts.batch, 1, 1000000, "--llc: minibatch rows per step (at most the training set)"),
        opt_u64("--llc-seed", &llc_seed, "--llc: the SGLD noise's seed"),
    };
    int rc = opt_parse("analyze", about, options, OPT_COUNT(options), argc, argv);
    if (rc >= 0) return rc;
    if (!ckpt == !history) {
        fprintf(stderr, "analyze: give one of --ckpt FILE and --history RUN_DIR (analyze --help lists the options)\n");
        return 2;
    }
    if (phases && !history) { fprintf(stderr, "analyze: --phases goes with --history\n"); return 2; }
    if (history && opt_given(options, OPT_COUNT(options), "--act-fn")) {
        fprintf(stderr, "analyze: --act-fn goes with a safetensors file, not --history\n");
        return 2;
    }
    if (split && (opt_given(options, OPT_COUNT(options), "--frac") || opt_given(options, OPT_COUNT(options), "--data-seed"))) {
        fprintf(stderr, "analyze: --split gives the split: --frac and --data-seed do not go with it\n");
        return 2;
    }
    for (int i = 0; i < OPT_COUNT(options); i++)
        if (!strncmp(options[i].name, "--llc-", 6) && options[i].given && !llc_on) {
            fprintf(stderr, "analyze: %s goes with --llc\n", options[i].name);
            return 2;
        }
    llc_opts.seed = llc_seed;
    if (threads) grok_threads_set(threads);
    if (history) snprintf(run_dir_path, sizeof run_dir_path, "%s", history);
    else dir_of(run_dir_path, sizeof run_dir_path, ckpt);
    snprintf(outbuf, sizeof outbuf, "%s/run.args", run_dir_path);
    if (split && access(outbuf, F_OK) == 0) {
        fprintf(stderr, "analyze: --split, but %s is a run's: its split comes from %s (leave --split out)\n", run_dir_path, outbuf);
        return 2;
    }
    if ((rc = task_from_run(options, OPT_COUNT(options), run_dir_path, &found, run_split, sizeof run_split)) >= 0) return rc;
    if (split) snprintf(run_split, sizeof run_split, "%s", split);
    known = found || run_split[0] || opt_given(options, OPT_COUNT(options), "--frac") ||
            opt_given(options, OPT_COUNT(options), "--data-seed");
    for (op = 0; strcmp(task_names[op], task_name); op++) {}
    if (!out) {
        snprintf(outbuf, sizeof outbuf, "%s/analysis", run_dir_path);
        out = outbuf;
    }
    if (history) return analyze_history(history, out, phases, (grok_modop)op, em, en,
                                        !strcmp(directions, "task") ? GROK_DIRS_TASK : GROK_DIRS_SUM, frac, data_seed, run_split,
                                        p_arg, found, llc_on ? &llc_opts : NULL);
    if (llc_on && !known) {
        fprintf(stderr, "analyze: --llc samples on the training set, and %s's split is unknown (--split, or a run's run.args)\n",
                ckpt);
        return 2;
    }
    if (grok_dir_make(out) != GROK_OK) { fprintf(stderr, "analyze: %s\n", grok_last_error()); return 1; }

    if ((is_st = run_weights_kind("analyze", ckpt)) < 0) return 2;
    if (!is_st && opt_given(options, OPT_COUNT(options), "--act-fn")) {
        fprintf(stderr, "analyze: --act-fn goes with a safetensors file; %s is a checkpoint, which holds its config\n", ckpt);
        return 2;
    }
    snprintf(epoch_text, sizeof epoch_text, "epoch unknown");
    snprintf(config_text, sizeof config_text, "config from the checkpoint");
    if (!is_st && grok_checkpoint_config(&cfg, ckpt) != GROK_OK) return die("reading the checkpoint's config");
    if (is_st) {
        grok_safetensors st;
        const char *fn, *ep;
        if (grok_safetensors_config(&cfg, ckpt) != GROK_OK || grok_safetensors_load(&st, ckpt) != GROK_OK) {
            fprintf(stderr, "analyze: %s\n", grok_last_error());
            return 2;
        }
        fn = grok_safetensors_meta(&st, "act_fn");
        if (fn && opt_given(options, OPT_COUNT(options), "--act-fn") && strcmp(fn, act_fn)) {
            fprintf(stderr, "analyze: --act-fn %s, but %s's __metadata__ says act_fn %s\n", act_fn, ckpt, fn);
            grok_safetensors_free(&st);
            return 2;
        }
        if (!fn) cfg.act_fn = !strcmp(act_fn, "gelu") ? GROK_ACT_GELU : GROK_ACT_RELU;
        if ((ep = grok_safetensors_meta(&st, "epoch")) != NULL) snprintf(epoch_text, sizeof epoch_text, "epoch %.20s", ep);
        if (grok_safetensors_meta(&st, "n_heads") && fn)
            snprintf(config_text, sizeof config_text, "config from the file's __metadata__");
        else
            snprintf(config_text, sizeof config_text, "config inferred from the shapes (normalization %s; act_fn %s: %s)",
                     cfg.normalization == GROK_NORM_LN ? "LN: ln_final.w present" : "none: no ln_final.w", fn ? fn : act_fn,
                     fn ? "__metadata__" : opt_given(options, OPT_COUNT(options), "--act-fn") ? "--act-fn" : "the default, --act-fn to change");
        grok_safetensors_free(&st);
    }
    p = cfg.d_vocab_out; M = cfg.d_mlp; H = cfg.n_heads; C = cfg.d_model;
    if (p_arg && p_arg != p) { fprintf(stderr, "analyze: --p %d but the checkpoint has p = %d\n", p_arg, p); return 2; }
    if (cfg.n_layers != 1 || cfg.n_ctx != 3 || cfg.d_vocab != p + 1 || p < 3 || p > 4095) {
        fprintf(stderr, "analyze: not a modular-arithmetic model (layers %d, n_ctx %d, d_vocab %d, p %d)\n", cfg.n_layers,
                cfg.n_ctx, cfg.d_vocab, p);
        return 2;
    }
    if (grok_modtask_init(&task, (grok_modop)op, p, em, en, !strcmp(directions, "task") ? GROK_DIRS_TASK : GROK_DIRS_SUM) !=
        GROK_OK) {
        fprintf(stderr, "analyze: %s\n", grok_last_error());
        return 2;
    }
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if (run_split[0]) {
        if ((rc = run_split_load(&train, &test, "analyze", run_split, p, (grok_modop)op, em, en, NULL)) >= 0) return rc;
    } else if (known && grok_task_modop(&train, &test, (grok_modop)op, p, em, en, frac, data_seed) != GROK_OK)
        return die("rebuilding the split");
    if (grok_model_init(&m, &cfg, train.n > 0 ? train.n : 1) != GROK_OK) return die("model");
    if (is_st ? grok_model_load_safetensors_ex(&m, ckpt, &n_zeroed) != GROK_OK : grok_checkpoint_load(&m, ckpt) != GROK_OK) {
        fprintf(stderr, "analyze: loading %s: %s\n", ckpt, grok_last_error());
        return 2;
    }
    if (!is_st) snprintf(epoch_text, sizeof epoch_text, "epoch %ld", m.epoch);
    printf("analyze: %s: p=%d, %s, %d layer(s), %d heads, d_model %d, d_mlp %d; %s\n", ckpt, p, epoch_text, cfg.n_layers, H,
           C, M, config_text);
    if (llc_on) {
        double llc, llc_std;
        if (grok_model_llc(&llc, &llc_std, &m, &train, &llc_opts) != GROK_OK) return die("the local learning coefficient");
        printf("llc %.6g (std over the chains %.3g) by SGLD on the %d training pairs\n", llc, llc_std, train.n);
    }
    if (n_zeroed) printf("  %d bias tensors absent from the file: zero (a model without biases)\n", n_zeroed);
    if (run_split[0]) printf("split: the training indices of %s (%d train, %d test)\n", run_split, train.n, test.n);
    else if (known) printf("split: frac %.3g seed %llu (%d train, %d test)\n", frac, data_seed, train.n, test.n);
    else printf("split unknown: no run.args beside the file and no --split; train/test and excluded losses and the "
                "progress measures are left out\n");
    const char *dir_sym = task.dirs == GROK_DIRS_SUM ? "(a+b)" : "s";
    printf("task %s (%s); trig-sum directions %s\n", task.name,
           found ? "from the run's run.args" : "no run.args beside the checkpoint: from the flags",
           task.dirs == GROK_DIRS_SUM ? "cos/sin(w(a+b)), the seeds'" : "cos/sin(w s(a,b)), the task's own");

    long N = (long)p * p;
    float *logits = (float *)malloc(sizeof(float) * N * p), *acts = (float *)malloc(sizeof(float) * N * M);
    float *resid = (float *)malloc(sizeof(float) * N * C);
    double *to_a = (double *)malloc(sizeof(double) * H * N), *to_b = (double *)malloc(sizeof(double) * H * N);
    double *spec = (double *)malloc(sizeof(double) * H * N), *Ld = (double *)malloc(sizeof(double) * N * p);
    double *nE = (double *)malloc(sizeof(double) * p), *nU = (double *)malloc(sizeof(double) * p);
    double *nL = (double *)malloc(sizeof(double) * p), *share = (double *)malloc(sizeof(double) * p);
    double *frac_n = (double *)malloc(sizeof(double) * M), *co = (double *)malloc(sizeof(double) * p);
    double *cs = (double *)malloc(sizeof(double) * p), *ablated = (double *)malloc(sizeof(double) * (M + 1));
    train_rows = (int *)malloc(sizeof(int) * (train.n + 1)); test_rows = (int *)malloc(sizeof(int) * (test.n + 1));
    labels = task.labels; nfreq = (int *)malloc(sizeof(int) * M); clusters = (int *)malloc(sizeof(int) * M);
    if (!logits || !acts || !resid || !to_a || !to_b || !spec || !Ld || !nE || !nU || !nL || !share || !frac_n || !co ||
        !cs || !ablated || !train_rows || !test_rows || !labels || !nfreq || !clusters) {
        fprintf(stderr, "analyze: out of memory\n");
        return 1;
    }
    for (int i = 0; i < train.n; i++) train_rows[i] = train.tokens[3 * i] * p + train.tokens[3 * i + 1];
    for (int i = 0; i < test.n; i++) test_rows[i] = test.tokens[3 * i] * p + test.tokens[3 * i + 1];

    /* 1. embedding and unembedding in the Fourier basis (seed 004), key frequencies */
    const float *W_E = m.weights + grok_model_param(&m, "embed.W_E")->offset;
    const float *W_U = m.weights + grok_model_param(&m, "unembed.W_U")->offset;
    if (grok_fourier_norms(nE, W_E, p, C, 0) != GROK_OK || grok_fourier_norms(nU, W_U, p, C, 1) != GROK_OK ||
        grok_key_freqs(kf, ksh, &nk, share, nE, p, MIN_SHARE) != GROK_OK)
        return die("Fourier norms");
    {
        double tot = 0;
        for (int i = 0; i < nk; i++) tot += ksh[i];
        printf("\nembedding W_E[:p] in the Fourier basis: %d key frequencies (share >= %.2f of the non-constant norm) "
               "carry %.1f%% of it\n", nk, MIN_SHARE, 100 * tot);
        for (int i = 0; i < nk; i++) {
            double su = 0, tu = 0;
            for (int j = 1; j < p; j++) tu += nU[j];
            su = (nU[2 * kf[i] - 1] + nU[2 * kf[i]]) / tu;
            printf("  k=%-3d W_E share %5.1f%%   W_U share %5.1f%%\n", kf[i], 100 * ksh[i], 100 * su);
        }
    }
    if ((f = open_csv(out, "fourier_norms.csv", "component,name,W_E_sq_norm,W_U_sq_norm"))) {
        for (int j = 0; j < p; j++) {
            grok_fourier_basis_name(name, sizeof name, j, p);
            fprintf(f, "%d,%s,%.9g,%.9g\n", j, name, nE[j], nU[j]);
        }
        fclose(f);
    }
    { /* SVD of W_E[:p] (seed 000) */
        double err_k, err_12;
        int r = 2 * nk < (p < C ? p : C) ? 2 * nk : (p < C ? p : C), r12 = 12 < (p < C ? p : C) ? 12 : (p < C ? p : C);
        double mabs = 0;
        for (long i = 0; i < (long)p * C; i++) mabs += fabs(W_E[i]);
        mabs /= (double)p * C;
        if (grok_svd_truncation(S, &err_k, W_E, p, C, r) != GROK_OK || grok_svd_truncation(NULL, &err_12, W_E, p, C, r12) != GROK_OK)
            return die("SVD of W_E");
        printf("SVD of W_E[:p]: top singular values %.3f %.3f %.3f %.3f ...; mean |error| of rank %d (2 per key freq) %.3g, "
               "rank %d (seed 000) %.3g, mean |W_E| %.3g\n", S[0], S[1], S[2], S[3], r, err_k, r12, err_12, mabs);
        if ((f = open_csv(out, "svd_W_E.csv", "index,singular_value"))) {
            for (int i = 0; i < (p < C ? p : C); i++) fprintf(f, "%d,%.9g\n", i, S[i]);
            fclose(f);
        }
    }

    /* 2. everything the model computes on the p*p pairs */
    if (grok_modadd_run(logits, acts, resid, to_a, to_b, &m) != GROK_OK) return die("running all pairs");
    for (long i = 0; i < N * p; i++) Ld[i] = logits[i];
    double loss_all, loss_train, loss_test, rl, el;
    grok_logits_loss(&loss_all, Ld, labels, (int)N, p, NULL, 0);
    loss_train = loss_test = NAN;
    if (known) {
        grok_logits_loss(&loss_train, Ld, labels, (int)N, p, train_rows, train.n);
        grok_logits_loss(&loss_test, Ld, labels, (int)N, p, test_rows, test.n);
    }

    /* 3. attention of '=' onto a and b (seed 000), dominant frequency along a of the mean over b */
    printf("\nattention of '=' (mean over pairs onto a / b, dominant frequency of the attention to a as a function of a):\n");
    grok_grids_fourier(spec, to_a, H, p);
    for (int h = 0; h < H; h++) {
        double ma = 0, mb = 0, amp, fr, ph, *row = (double *)malloc(sizeof(double) * p);
        for (long r = 0; r < N; r++) { ma += to_a[h * N + r]; mb += to_b[h * N + r]; }
        for (int a = 0; a < p; a++) { row[a] = 0; for (int b = 0; b < p; b++) row[a] += to_a[h * N + a * p + b] / p; }
        grok_dominant_freq(&amp, &fr, &ph, row, p);
        printf("  head %d: onto a %.3f, onto b %.3f; dominant k=%.0f (amplitude %.3f, phase %.2f)\n", h, ma / N, mb / N,
               fr * p, amp, ph);
        free(row);
    }
    if ((f = open_csv(out, "attention.csv", "head,a,b,to_a,to_b,to_a_fourier,to_b_fourier"))) {
        double *sb = (double *)malloc(sizeof(double) * H * N);
        grok_grids_fourier(sb, to_b, H, p);
        for (int h = 0; h < H; h++)
            for (long r = 0; r < N; r++)
                fprintf(f, "%d,%ld,%ld,%.6g,%.6g,%.6g,%.6g\n", h, r / p, r % p, to_a[h * N + r], to_b[h * N + r],
                        spec[h * N + r], sb[h * N + r]);
        free(sb);
        fclose(f);
    }

    /* 4. neurons (seed 004) */
    if (grok_neuron_freqs(nfreq, frac_n, NULL, acts, p, M, MIN_FRAC) != GROK_OK) return die("neuron frequencies");
    for (int i = 0; i < nk; i++) clusters[nc++] = kf[i]; /* key frequencies first, then any other found */
    for (int i = 0; i < M; i++) {
        int found = nfreq[i] == -1;
        for (int c = 0; c < nc && !found; c++) found = clusters[c] == nfreq[i];
        if (!found) clusters[nc++] = nfreq[i];
    }
    {
        double exr = NAN, rest, noalw;
        el = NAN;
        const int *rows = known ? train_rows : NULL; /* NULL: all pairs, for the losses that do not need the split */
        if (grok_modadd_restricted(&rl, known ? &el : NULL, NULL, NULL, logits, p, kf, nk, rows, train.n, &task) != GROK_OK ||
            grok_modadd_neuron_losses(known ? &exr : NULL, &rest, &noalw, ablated, &m, acts, resid, logits, nfreq, clusters, nc,
                                      kf, nk, rows, train.n, &task) != GROK_OK)
            return die("losses");
        printf("\nneuron clusters (frequency explaining the most of each centred neuron; frac < %.2f: no frequency):\n", MIN_FRAC);
        for (int c = 0; c <= nc; c++) {
            int fq = c < nc ? clusters[c] : -1, cnt = 0;
            double s = 0;
            for (int i = 0; i < M; i++) if (nfreq[i] == fq) { cnt++; s += frac_n[i]; }
            if (c < nc) printf("  k=%-3d %4d neurons, mean frac explained %.3f;", fq, cnt, cnt ? s / cnt : 0);
            else printf("  none  %4d neurons (always firing / unexplained), mean frac %.3f;", cnt, cnt ? s / cnt : 0);
            printf(" loss with it ablated %.3e\n", ablated[c]);
        }
        if (known) {
            printf("\nlosses: original %.3e (all pairs; train %.3e, test %.3e)\n", loss_all, loss_train, loss_test);
            printf("  restricted to cos/sin(w %s) of the key frequencies %.3e (all pairs), excluded %.3e (train)\n", dir_sym, rl, el);
            printf("  neurons: projected onto their cluster's frequency %.3e, without the always-firing cluster %.3e;\n"
                   "           excluded (key-frequency cos/sin(w %s) removed from the neurons) %.3e (train)\n", rest, noalw, dir_sym,
                   exr);
        } else {
            printf("\nlosses: original %.3e (all pairs; train and test: split unknown)\n", loss_all);
            printf("  restricted to cos/sin(w %s) of the key frequencies %.3e (all pairs), excluded: split unknown\n", dir_sym, rl);
            printf("  neurons: projected onto their cluster's frequency %.3e, without the always-firing cluster %.3e;\n"
                   "           excluded (key-frequency cos/sin(w %s) removed from the neurons): split unknown\n", rest, noalw,
                   dir_sym);
        }
    }
    if ((f = open_csv(out, "neurons.csv", "neuron,freq,frac_explained"))) {
        for (int i = 0; i < M; i++) fprintf(f, "%d,%d,%.6g\n", i, nfreq[i], frac_n[i]);
        fclose(f);
    }

    /* 5. logits on cos(w(s-c)) (seed 001: s = a+b), W_logit in the Fourier basis (seed 004), Gini */
    {
        double res, gE, gL, ss;
        if (grok_modadd_cos_fit(co, cs, &res, logits, p, &task) != GROK_OK || grok_wlogit_fourier_norms(nL, &m) != GROK_OK)
            return die("logit fits");
        printf("\nlogits on cos(w(%s-c)) (seed 001): ", dir_sym);
        for (int i = 0; i < nk; i++) printf("k=%d coeff %.4g cos_sim %.3f%s", kf[i], co[kf[i] - 1], cs[kf[i] - 1], i + 1 < nk ? "; " : "");
        printf("\n  residual fraction of the norm over all frequencies %.3f\n", res);
        for (int j = 0; j < p; j++) nE[j] = sqrt(nE[j]);
        grok_gini(&gE, nE, p);
        grok_gini(&gL, nL, p);
        grok_weights_sumsq(&ss, &m);
        printf("Gini of the Fourier norms: W_E %.3f, W_logit %.3f; sum of squared weights %.1f\n", gE, gL, ss);
        {
            double pmv[5];
            if (!known) printf("progress measures as grok_train writes them: split unknown\n");
            else if (grok_modadd_progress(pmv, &m, &train, &test, NULL, 0) != GROK_OK) return die("progress measures");
            else printf("progress measures as grok_train writes them (key freqs from W_E): restricted %.3e, excluded %.3e, "
                        "gini W_E %.3f, gini W_logit %.3f, sum sq %.1f\n", pmv[0], pmv[1], pmv[2], pmv[3], pmv[4]);
        }
        if ((f = open_csv(out, "cos_fit.csv", "k,coeff,cos_sim"))) {
            for (int k = 1; k <= (p - 1) / 2; k++) fprintf(f, "%d,%.9g,%.9g\n", k, co[k - 1], cs[k - 1]);
            fclose(f);
        }
        if ((f = open_csv(out, "wlogit_fourier_norms.csv", "component,name,norm"))) {
            for (int j = 0; j < p; j++) { grok_fourier_basis_name(name, sizeof name, j, p); fprintf(f, "%d,%s,%.9g\n", j, name, nL[j]); }
            fclose(f);
        }
    }
    printf("\nCSV files in %s/ (fourier_norms, svd_W_E, attention, neurons, cos_fit, wlogit_fourier_norms); %.1f s\n", out,
           now_s() - t0);
    /* 6. the arrays behind the report's figures of seeds 000, 001, 003 and 004 */
    {
        int nu = (p < C ? p : C) < 8 ? (p < C ? p : C) : 8, kmin = p < C ? p : C, nf = (p - 1) / 2, ncl = 0;
        double *A = (double *)malloc(sizeof(double) * ((size_t)p * C + (size_t)p * kmin + kmin + p));
        double *cg = (double *)malloc(sizeof(double) * 2 * (size_t)N), *X = (double *)malloc(sizeof(double) * N * M);
        double *fnorm = (double *)malloc(sizeof(double) * (size_t)nf * M), *Wf = (double *)malloc(sizeof(double) * M * p);
        double *cn = (double *)malloc(sizeof(double) * (size_t)(nc + 1) * p);
        double *cc = (double *)malloc(sizeof(double) * (size_t)nk * N), *sc = (double *)malloc(sizeof(double) * (size_t)nk * N);
        int *cl = (int *)malloc(sizeof(int) * (size_t)(nc + 1)), *f0 = (int *)malloc(sizeof(int) * M);
        double *f0frac = (double *)malloc(sizeof(double) * M);
        char nb[32];
        if (!A || !cg || !X || !fnorm || !Wf || !cn || !cc || !sc || !cl || !f0 || !f0frac) return die("out of memory");
        /* columns of U of W_E[:p] and their dominant-frequency fits (seed 000) */
        double *U = A + (size_t)p * C, *Sv = U + (size_t)p * kmin, *col = Sv + kmin;
        for (long i = 0; i < (long)p * C; i++) A[i] = W_E[i];
        if (grok_svd(U, Sv, NULL, A, p, C, 0) != GROK_OK) return die("SVD of W_E");
        FILE *fu = open_csv(out, "svd_U.csv", "column,token,u,fit");
        if ((f = open_csv(out, "svd_U_fits.csv", "column,k,freq,amplitude,phase")) && fu) {
            for (int j = 0; j < nu; j++) {
                double amp, fr, ph;
                for (int i = 0; i < p; i++) col[i] = U[(long)i * kmin + j];
                if (grok_dominant_freq(&amp, &fr, &ph, col, p) != GROK_OK) return die("dominant frequency");
                fprintf(f, "%d,%.0f,%.9g,%.9g,%.9g\n", j, fr * p, fr, amp, ph);
                for (int i = 0; i < p; i++)
                    fprintf(fu, "%d,%d,%.9g,%.9g\n", j, i, col[i], amp * cos(2 * 3.14159265358979323846 * fr * i + ph));
            }
        }
        if (f) fclose(f);
        if (fu) fclose(fu);
        /* the attention grids' spectra, fftshift(fft2(grid)) (seed 000) */
        if ((f = open_csv(out, "attention_spectrum.csv", "head,onto,freq_a,freq_b,re,im,abs"))) {
            for (int h = 0; h < H; h++)
                for (int t = 0; t < 2; t++) {
                    const double *g = (t ? to_b : to_a) + h * N;
                    for (long r = 0; r < N; r++) { cg[2 * r] = g[r]; cg[2 * r + 1] = 0; }
                    if (grok_fft2(cg, p, p, 0) != GROK_OK || grok_fftshift2(cg, p, p) != GROK_OK) return die("attention spectrum");
                    for (long r = 0; r < N; r++)
                        fprintf(f, "%d,%c,%ld,%ld,%.6g,%.6g,%.6g\n", h, t ? 'b' : 'a', r / p - p / 2, r % p - p / 2, cg[2 * r],
                                cg[2 * r + 1], hypot(cg[2 * r], cg[2 * r + 1]));
                }
            fclose(f);
        }
        /* seed 001: neuron_freq_norm (cell 46) and the 2-D Fourier norms of the neurons (cells 62-63) */
        if (grok_neuron_freq_norm(fnorm, acts, p, M) != GROK_OK || grok_neuron_freqs(f0, f0frac, X, acts, p, M, 0) != GROK_OK)
            return die("neuron frequency norms");
        if ((f = open_csv(out, "neuron_freq_norm.csv", "k,neuron,frac"))) {
            for (int k = 1; k <= nf; k++)
                for (int i = 0; i < M; i++) fprintf(f, "%d,%d,%.6g\n", k, i, fnorm[(long)(k - 1) * M + i]);
            fclose(f);
        }
        if ((f = open_csv(out, "neuron_fourier_norms.csv", "component_a,component_b,name_a,name_b,norm"))) {
            for (long r = 0; r < N; r++) {
                double s = 0;
                for (int i = 0; i < M; i++) s += X[r * M + i] * X[r * M + i];
                grok_fourier_basis_name(name, sizeof name, (int)(r / p), p);
                grok_fourier_basis_name(nb, sizeof nb, (int)(r % p), p);
                fprintf(f, "%ld,%ld,%s,%s,%.6g\n", r / p, r % p, name, nb, sqrt(s));
            }
            fclose(f);
        }
        /* seed 004: W_logit in the Fourier basis by cluster, its norms per cluster (seed 003's form),
           the cos / sin components per key frequency; the neurons' fraction of inputs > 0 */
        for (int c = 0; c < nc; c++) cl[ncl++] = clusters[c];
        cl[ncl++] = -1;
        if (grok_modadd_wlogit(NULL, Wf, &m) != GROK_OK || grok_wlogit_cluster_norms(cn, &m, nfreq, cl, ncl) != GROK_OK ||
            grok_modadd_logit_components(cc, sc, &m, acts, kf, nk) != GROK_OK)
            return die("W_logit figures");
        if ((f = open_csv(out, "wlogit_fourier_by_cluster.csv", "row,neuron,cluster,component,name,value"))) {
            long row = 0;
            for (int c = 0; c < ncl; c++)
                for (int i = 0; i < M; i++) {
                    if (nfreq[i] != cl[c]) continue;
                    for (int j = 0; j < p; j++) {
                        grok_fourier_basis_name(name, sizeof name, j, p);
                        fprintf(f, "%ld,%d,%d,%d,%s,%.6g\n", row, i, cl[c], j, name, Wf[(long)i * p + j]);
                    }
                    row++;
                }
            fclose(f);
        }
        if ((f = open_csv(out, "wlogit_cluster_norms.csv", "cluster,component,name,sq_norm"))) {
            for (int c = 0; c < ncl; c++)
                for (int j = 0; j < p; j++) {
                    grok_fourier_basis_name(name, sizeof name, j, p);
                    fprintf(f, "%d,%d,%s,%.9g\n", cl[c], j, name, cn[(long)c * p + j]);
                }
            fclose(f);
        }
        if ((f = open_csv(out, "logit_components.csv", "k,direction,component_a,component_b,name_a,name_b,value"))) {
            for (int q = 0; q < nk; q++)
                for (int t = 0; t < 2; t++)
                    for (long r = 0; r < N; r++) {
                        grok_fourier_basis_name(name, sizeof name, (int)(r / p), p);
                        grok_fourier_basis_name(nb, sizeof nb, (int)(r % p), p);
                        fprintf(f, "%d,%s,%ld,%ld,%s,%s,%.6g\n", kf[q], t ? "sin" : "cos", r / p, r % p, name, nb,
                                (t ? sc : cc)[q * N + r]);
                    }
            fclose(f);
        }
        if ((f = open_csv(out, "neuron_activity.csv", "neuron,cluster,frac_positive,max_freq_norm"))) {
            for (int i = 0; i < M; i++) {
                long pos = 0;
                double mx = 0;
                for (long r = 0; r < N; r++) pos += acts[r * M + i] > 0;
                for (int k = 0; k < nf; k++) if (fnorm[(long)k * M + i] > mx) mx = fnorm[(long)k * M + i];
                fprintf(f, "%d,%d,%.6g,%.6g\n", i, nfreq[i], (double)pos / N, mx);
            }
            fclose(f);
        }
        printf("figure CSVs in %s/ (svd_U, svd_U_fits, attention_spectrum, neuron_freq_norm, neuron_fourier_norms, "
               "wlogit_fourier_by_cluster, wlogit_cluster_norms, logit_components, neuron_activity)\n", out);
        free(A); free(cg); free(X); free(fnorm); free(Wf); free(cn); free(cc); free(sc); free(cl); free(f0); free(f0frac);
    }
    { /* report.html: the plots and tables of the above, with the run's metrics.csv beside the checkpoint */
        char mpath[4096], rpath[4200];
        const char *slash = strrchr(ckpt, '/');
        if (slash) snprintf(mpath, sizeof mpath, "%.*s/metrics.csv", (int)(slash - ckpt), ckpt);
        else snprintf(mpath, sizeof mpath, "metrics.csv");
        snprintf(rpath, sizeof rpath, "%s/report.html", out);
        if (grok_modadd_report(rpath, &m, mpath, ckpt) != GROK_OK) return die("writing report.html");
        printf("report: %s\n", rpath);
    }
    printf("key_freqs=");
    for (int i = 0; i < nk; i++) printf("%s%d", i ? "," : "", kf[i]);
    printf("\nloss original=%.6g restricted=%.6g excluded=%.6g\n", loss_all, rl, el);
    free(logits); free(acts); free(resid); free(to_a); free(to_b); free(spec); free(Ld); free(nE); free(nU); free(nL);
    free(share); free(frac_n); free(co); free(cs); free(ablated); free(train_rows); free(test_rows);
    free(nfreq); free(clusters);
    grok_model_free(&m); grok_data_free(&train); grok_data_free(&test); grok_modtask_free(&task);
    return 0;
}
