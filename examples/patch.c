/* patch - activation and attribution patching on a trained transformer: which positions, heads
   and neurons carry what a corrupted input changes (TransformerLens' patching module, and
   attribution patching).

   Usage: patch --ckpt FILE [--out DIR] [--corrupt a|b|carry] [--column D] [--n N] [--seed S]
                [--act-sites LIST] [--top K] [--act-fn relu|gelu] [--threads N] [--help]
   FILE is a grok.h checkpoint or a safetensors state dict (as examples/analyze takes them). The
   task comes from the model's shape: n_ctx 3 and d_vocab = d_vocab_out + 1 is modular
   arithmetic (examples/modadd, power_sum: tokens a, b, '='); d_vocab 12 and n_ctx 3n+3 is
   n-digit addition (examples/digits). --n clean inputs are drawn with --seed:
     modular  pairs (a, b), each corrupted by another a (--corrupt a, the default) or b;
     digits   questions in which column D-1 carries into column D (D = --column) and column D-2
              does not carry into D-1, corrupted by lowering x's digit D-1 so that column D-1
              no longer carries (--corrupt carry): z_D drops by one.
   The metric is the logit difference, at the position that predicts the answer (modular: the
   last; digits: z_D's), between the clean run's answer and the corrupted run's (the model's own
   predictions, so no labels are needed), averaged over the inputs. Reported normalised,
   (metric - corrupted) / (clean - corrupted): 1 where a patch restores the clean answer, 0
   where it changes nothing.
   Activation patching (grok_act_patch: one forward of N inputs per cell) runs for --act-sites;
   attribution patching (grok_attr_patch, from one gradient cache) for every site. Writes
   DIR/SITE_pos.csv and DIR/SITE_all.csv (by position and over all positions, TransformerLens'
   index order, the raw and the normalised metric), DIR/patch_SITE.svg heatmaps and
   DIR/report.html, and prints the top --top cells of each site. Before them, seed 002's head
   attribution and logit lens on the clean inputs: the direct logit attribution of every
   component (embed, pos_embed, each head, b_O, each MLP) to the same logit difference, and the
   accumulated residual's (DIR/dla.csv). The last line is for scripts:
       top site=SITE cell=... act=X attr=X
   the cell of largest |normalised activation patching| over the sites that ran it. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <math.h>

#include "options.h"
#include "run_dir.h"

static const char *const about =
    "Activation and attribution patching on a modular-arithmetic or n-digit-addition transformer (a grok.h\n"
    "checkpoint or a safetensors state dict): clean and corrupted inputs, a logit difference, CSV files,\n"
    "heatmaps and report.html in --out.";

enum { TASK_MODULAR, TASK_DIGITS };

typedef struct {
    int task, n_digits, column, answer_pos;
    char pos_names[3 * GROK_DIGITS_MAX + 3][16];
} patch_task;

static void pos_names_fill(patch_task *t, int T)
{
    int i, n = t->n_digits;
    if (t->task == TASK_MODULAR) {
        snprintf(t->pos_names[0], 16, "a");
        snprintf(t->pos_names[1], 16, "b");
        snprintf(t->pos_names[2], 16, "=");
        return;
    }
    for (i = 0; i < T; i++) {
        if (i < n) snprintf(t->pos_names[i], 16, "x%d", n - 1 - i);
        else if (i == n) snprintf(t->pos_names[i], 16, "+");
        else if (i <= 2 * n) snprintf(t->pos_names[i], 16, "y%d", 2 * n - i);
        else if (i == 2 * n + 1) snprintf(t->pos_names[i], 16, "=");
        else snprintf(t->pos_names[i], 16, "z%d", 3 * n + 2 - i);
    }
}

/* z = x + y into the answer tokens of one question row (3n+3), x and y read from it. */
static void digits_answer(int *row, int n)
{
    int d, carry = 0;
    for (d = 0; d < n; d++) {
        int s = row[n - 1 - d] + row[2 * n - d] + carry;
        row[3 * n + 2 - d] = s % 10;
        carry = s / 10;
    }
    row[2 * n + 2] = carry;
}

/* Clean and corrupted inputs (N rows of T tokens each). 0 on success, else the exit status. */
static int make_inputs(int *clean, int *corr, const patch_task *t, const grok_config *cfg, int N, const char *corrupt,
                       unsigned long long seed)
{
    grok_rng rng;
    int i, T = cfg->n_ctx;
    grok_rng_seed(&rng, seed);
    if (t->task == TASK_MODULAR) {
        int p = cfg->d_vocab_out, which = !strcmp(corrupt, "b");
        for (i = 0; i < N; i++) {
            int *c = clean + i * T, *x = corr + i * T;
            c[0] = (int)grok_rng_below(&rng, (uint64_t)p);
            c[1] = (int)grok_rng_below(&rng, (uint64_t)p);
            c[2] = p;
            memcpy(x, c, sizeof(int) * 3);
            x[which] = (c[which] + 1 + (int)grok_rng_below(&rng, (uint64_t)(p - 1))) % p;
        }
        return 0;
    }
    {
        int n = t->n_digits, D = t->column, tries = 0;
        for (i = 0; i < N; i++) {
            int *c = clean + i * T, *x = corr + i * T, k, xd, yd, ok;
            do {
                if (++tries > 1000000) { fprintf(stderr, "patch: cannot draw questions with a carry into column %d\n", D); return 1; }
                for (k = 0; k < n; k++) { c[k] = (int)grok_rng_below(&rng, 10); c[n + 1 + k] = (int)grok_rng_below(&rng, 10); }
                xd = c[n - 1 - (D - 1)];
                yd = c[2 * n - (D - 1)];
                ok = xd + yd >= 10 && (D < 2 || c[n - 1 - (D - 2)] + c[2 * n - (D - 2)] <= 8);
            } while (!ok);
            c[n] = GROK_DIGITS_PLUS;
            c[2 * n + 1] = GROK_DIGITS_EQUALS;
            digits_answer(c, n);
            memcpy(x, c, sizeof(int) * (size_t)T);
            x[n - 1 - (D - 1)] = (int)grok_rng_below(&rng, (uint64_t)(10 - yd)); /* x' + y <= 9: no carry */
            digits_answer(x, n);
        }
        return 0;
    }
}

/* The name of index i of grid dimension dim (1 or 2) of site's result: a position, a head or a
   neuron, for CSV headers and labels. */
static const char *axis_name(int site, int by_pos, int dim)
{
    if (site <= GROK_PATCH_MLP_OUT) return "pos";
    if (site == GROK_PATCH_PATTERN) return dim == 1 ? "head" : "dest_pos";
    if (by_pos && dim == 1) return "pos";
    return site == GROK_PATCH_NEURON ? "neuron" : "head";
}

static void axis_label(char *buf, size_t cap, const patch_task *t, int site, int by_pos, int dim, int i)
{
    const char *a = axis_name(site, by_pos, dim);
    if (!strcmp(a, "pos") || !strcmp(a, "dest_pos")) snprintf(buf, cap, "%s", t->pos_names[i]);
    else snprintf(buf, cap, "%s%d", !strcmp(a, "head") ? "H" : "N", i);
}

typedef struct {
    double *act, *attr; /* raw; act NULL when activation patching did not run */
    int shape[3], ndim;
    long n;
} site_result;

static int write_csv(const char *dir, int site, int by_pos, const site_result *r, double clean_v,
                     double corr_v)
{
    char path[4200];
    FILE *f;
    long k;
    int n1 = r->ndim > 1 ? r->shape[1] : 1, n2 = r->ndim > 2 ? r->shape[2] : 1;
    double span = clean_v - corr_v;
    snprintf(path, sizeof path, "%s/%s_%s.csv", dir, grok_patch_site_name(site), by_pos ? "pos" : "all");
    if (!(f = fopen(path, "w"))) { fprintf(stderr, "patch: cannot write %s: %s\n", path, strerror(errno)); return 1; }
    fprintf(f, "layer%s%s%s%s,act_patch,attr_patch,act_norm,attr_norm\n", r->ndim > 1 ? "," : "",
            r->ndim > 1 ? axis_name(site, by_pos, 1) : "", r->ndim > 2 ? "," : "", r->ndim > 2 ? axis_name(site, by_pos, 2) : "");
    for (k = 0; k < r->n; k++) {
        int l = (int)(k / ((long)n1 * n2)), i1 = (int)(k / n2 % n1), i2 = (int)(k % n2);
        double act = r->act ? r->act[k] : NAN;
        fprintf(f, "%d", l);
        if (r->ndim > 1) fprintf(f, ",%d", i1);
        if (r->ndim > 2) fprintf(f, ",%d", i2);
        fprintf(f, ",%.9g,%.9g,%.6g,%.6g\n", act, r->attr[k], (act - corr_v) / span, r->attr[k] / span);
    }
    if (fclose(f) != 0) { fprintf(stderr, "patch: cannot write %s\n", path); return 1; }
    return 0;
}

/* Heatmap panels: per layer, activation patching (when it ran) and attribution, normalised. */
static int plot_site(const char *dir, grok_report *rep, const patch_task *t, int site, int by_pos, const site_result *r,
                     double clean_v, double corr_v)
{
    char path[4200], title[256], labels[2][4096][12];
    const char *rows_names[4096], *cols_names[4096], *panel_titles[64];
    char ptitles[64][64];
    double *z;
    grok_plot pl;
    int L = r->shape[0], rows, cols, panels, per = r->act ? 2 : 1, l, s, i, st;
    long cell;
    double span = clean_v - corr_v;
    if (r->ndim == 1) { rows = 1; cols = L; }
    else if (r->ndim == 2) { rows = L; cols = r->shape[1]; }
    else { rows = r->shape[1]; cols = r->shape[2]; }
    panels = (r->ndim == 3 ? L : 1) * per;
    if (rows > 4096 || cols > 4096 || panels > 64 || (long)rows * cols * panels > 20000) {
        grok_report_note(rep, "(too many cells to draw: the CSV files hold them)");
        return 0;
    }
    z = (double *)malloc(sizeof(double) * (size_t)panels * rows * cols);
    if (!z) { fprintf(stderr, "patch: out of memory\n"); return 1; }
    cell = (long)rows * cols;
    for (l = 0; l < panels / per; l++)
        for (s = 0; s < per; s++) {
            const double *src = (s == 0 && r->act) ? r->act : r->attr;
            int is_act = s == 0 && r->act != NULL;
            for (i = 0; i < cell; i++) z[((long)l * per + s) * cell + i] = (is_act ? src[l * cell + i] - corr_v : src[l * cell + i]) / span;
            if (panels / per > 1) snprintf(ptitles[l * per + s], sizeof ptitles[0], "layer %d, %s", l, is_act ? "activation" : "attribution");
            else snprintf(ptitles[l * per + s], sizeof ptitles[0], "%s", is_act ? "activation patching" : "attribution");
            panel_titles[l * per + s] = ptitles[l * per + s];
        }
    for (i = 0; i < rows; i++) {
        if (r->ndim == 1) snprintf(labels[0][i], 12, "all");
        else if (r->ndim == 2) snprintf(labels[0][i], 12, "L%d", i);
        else axis_label(labels[0][i], 12, t, site, by_pos, 1, i);
        rows_names[i] = labels[0][i];
    }
    for (i = 0; i < cols; i++) {
        if (r->ndim == 1) snprintf(labels[1][i], 12, "L%d", i);
        else axis_label(labels[1][i], 12, t, site, by_pos, r->ndim - 1, i);
        cols_names[i] = labels[1][i];
    }
    memset(&pl, 0, sizeof pl);
    snprintf(title, sizeof title, "%s %s (normalised: 1 = the clean answer restored)", grok_patch_site_name(site),
             by_pos ? "by position" : "over all positions");
    pl.kind = GROK_PLOT_HEATMAP;
    pl.title = title;
    pl.z = z; pl.rows = rows; pl.cols = cols;
    pl.n_panels = panels; pl.panel_cols = per == 2 ? 2 : 4;
    pl.panel_titles = panel_titles;
    pl.y_names = rows_names; pl.x_names = cols_names;
    pl.xlabel = r->ndim == 1 ? "layer" : axis_name(site, by_pos, r->ndim - 1);
    pl.ylabel = r->ndim == 3 ? axis_name(site, by_pos, 1) : r->ndim == 2 ? "layer" : NULL;
    pl.clabel = "normalised metric";
    if (cols > 64) { pl.width = 900; pl.height = 260; }
    snprintf(path, sizeof path, "%s/patch_%s_%s.svg", dir, grok_patch_site_name(site), by_pos ? "pos" : "all");
    st = grok_plot_save(path, &pl);
    if (st == GROK_OK) grok_report_plot(rep, &pl);
    free(z);
    if (st != GROK_OK) { fprintf(stderr, "patch: %s\n", grok_last_error()); return 1; }
    return 0;
}

/* Seed 002's head attribution and logit lens on the clean inputs: the residual stream at the
   answer position split into components (embed, pos_embed, each head, b_O, each MLP), each
   projected on the logit difference (TransformerLens' stack_head_results and logit_attrs with
   incorrect tokens), and the accumulated residual (accumulated_resid, incl_mid) likewise:
   means over the inputs, printed, into DIR/dla.csv and the report. */
static int direct_attribution(const char *dir, grok_report *rep, grok_model *m, const grok_cache *clean, const patch_task *t,
                              grok_logit_diff *ld, int N)
{
    static const int flag_sets[2] = {GROK_RESID_HEADS, GROK_RESID_ACCUMULATED | GROK_RESID_INCL_MID};
    static const char *const what[2] = {"direct logit attribution", "logit lens"};
    char path[4200], name[GROK_NAME_MAX], *names_buf;
    const char **names;
    double *stack, *attr, *bias, *mean;
    int f, n, i, b;
    FILE *csv;
    snprintf(path, sizeof path, "%s/dla.csv", dir);
    if (!(csv = fopen(path, "w"))) { fprintf(stderr, "patch: cannot write %s: %s\n", path, strerror(errno)); return 1; }
    fprintf(csv, "kind,component,logit_diff\n");
    for (f = 0; f < 2; f++) {
        grok_plot pl;
        if (grok_resid_stack(NULL, &n, m, clean, t->answer_pos, flag_sets[f]) != GROK_OK) goto fail;
        stack = (double *)malloc(sizeof(double) * (size_t)n * N * m->cfg.d_model);
        attr = (double *)malloc(sizeof(double) * (size_t)n * N);
        bias = (double *)malloc(sizeof(double) * (size_t)N);
        mean = (double *)calloc((size_t)n, sizeof(double));
        names = (const char **)malloc(sizeof(char *) * (size_t)n);
        names_buf = (char *)malloc((size_t)n * GROK_NAME_MAX);
        if (!stack || !attr || !bias || !mean || !names || !names_buf) { fprintf(stderr, "patch: out of memory\n"); fclose(csv); return 1; }
        if (grok_resid_stack(stack, &n, m, clean, t->answer_pos, flag_sets[f]) != GROK_OK ||
            grok_logit_attrs(attr, bias, m, clean, stack, n, t->answer_pos, ld->correct, ld->wrong, 1) != GROK_OK)
            goto fail;
        printf("%s at %s:", what[f], t->pos_names[t->answer_pos]);
        for (i = 0; i < n; i++) {
            double bias_mean = 0;
            for (b = 0; b < N; b++) { mean[i] += attr[(long)i * N + b] / N; bias_mean += bias[b] / N; }
            if (f == 1) mean[i] += bias_mean; /* the lens: the logit difference with the stream cut there */
            grok_resid_stack_name(name, sizeof name, m, flag_sets[f], i);
            snprintf(names_buf + (size_t)i * GROK_NAME_MAX, GROK_NAME_MAX, "%s", name);
            names[i] = names_buf + (size_t)i * GROK_NAME_MAX;
            printf(" %s %.3f", name, mean[i]);
            fprintf(csv, "%s,%s,%.9g\n", f ? "lens" : "dla", name, mean[i]);
        }
        if (f == 0) {
            double bias_mean = 0;
            for (b = 0; b < N; b++) bias_mean += bias[b] / N;
            printf(" bias %.3f", bias_mean);
            fprintf(csv, "dla,bias,%.9g\n", bias_mean);
        }
        printf("\n");
        grok_report_heading(rep, f ? "Logit lens (accumulated residual, logit difference)" :
                                     "Direct logit attribution of each head (logit difference, clean inputs)");
        memset(&pl, 0, sizeof pl);
        pl.kind = GROK_PLOT_HEATMAP;
        pl.title = what[f];
        pl.z = mean; pl.rows = 1; pl.cols = n;
        pl.x_names = names;
        pl.clabel = "logit difference";
        grok_report_plot(rep, &pl);
        free(stack); free(attr); free(bias); free(mean); free(names); free(names_buf);
    }
    if (fclose(csv) != 0) { fprintf(stderr, "patch: cannot write %s\n", path); return 1; }
    return 0;
fail:
    fprintf(stderr, "patch: %s\n", grok_last_error());
    fclose(csv);
    return 1;
}

static void cell_label(char *buf, size_t cap, const patch_task *t, int site, int by_pos, const site_result *r, long k)
{
    int n1 = r->ndim > 1 ? r->shape[1] : 1, n2 = r->ndim > 2 ? r->shape[2] : 1;
    char a[16], b[16];
    int l = (int)(k / ((long)n1 * n2)), i1 = (int)(k / n2 % n1), i2 = (int)(k % n2);
    if (r->ndim == 1) { snprintf(buf, cap, "L%d", l); return; }
    axis_label(a, sizeof a, t, site, by_pos, 1, i1);
    if (r->ndim == 2) { snprintf(buf, cap, "L%d.%s", l, a); return; }
    axis_label(b, sizeof b, t, site, by_pos, 2, i2);
    snprintf(buf, cap, "L%d.%s.%s", l, a, b);
}

int main(int argc, char **argv)
{
    static const char *const corrupts[] = {"a", "b", "carry", NULL};
    static const char *const act_fns[] = {"relu", "gelu", NULL};
    const char *ckpt = NULL, *out = NULL, *corrupt = NULL, *act_sites = "resid_pre,attn_out,mlp_out,z,pattern",
               *act_fn = "relu";
    int N = 64, column = 1, top = 5, threads = 0, rc, is_st, n_zeroed = 0, i, site, by_pos, T, V, best_site = -1, best_pos = 0;
    long best_k = -1;
    unsigned long long seed = 1;
    double clean_v, corr_v, best = -1;
    char outbuf[4200], dirbuf[4000], label[64], text[512];
    int *clean_tok, *corr_tok, *correct, *wrong, run_act[GROK_PATCH_SITES];
    float *logits;
    grok_config cfg;
    grok_model m;
    grok_cache clean, corr, grads;
    grok_logit_diff ld;
    grok_report rep;
    patch_task task;
    site_result res[GROK_PATCH_SITES][2];
    opt options[] = {
        opt_run(opt_text("--ckpt", &ckpt, "FILE", "a grok.h checkpoint or a safetensors state dict")),
        opt_default(opt_text("--out", &out, "DIR", "where the CSV files, heatmaps and report.html go"),
                    "the checkpoint's directory/patch"),
        opt_default(opt_choice("--corrupt", &corrupt, corrupts,
                               "what the corrupted input changes: a or b (modular arithmetic), carry (digits)"),
                    "a for modular arithmetic, carry for digits"),
        opt_int("--column", &column, 1, GROK_DIGITS_MAX, "digits: the column that receives the carry (1 = the tens)"),
        opt_int("--n", &N, 1, 100000, "clean inputs (and as many corrupted ones)"),
        opt_u64("--seed", &seed, "seed of the inputs"),
        opt_text("--act-sites", &act_sites, "LIST",
                 "comma-separated sites for activation patching (resid_pre, resid_mid, resid_post, attn_out, mlp_out, z, "
                 "q, k, v, pattern, neuron; all; none); attribution runs for every site"),
        opt_int("--top", &top, 0, 100, "cells printed per site"),
        opt_default(opt_choice("--act-fn", &act_fn, act_fns, "the activation of a safetensors file without __metadata__"),
                    "relu"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
    };
    memset(res, 0, sizeof res);
    rc = opt_parse("patch", about, options, OPT_COUNT(options), argc, argv);
    if (rc >= 0) return rc;
    if (!ckpt) { fprintf(stderr, "patch: give --ckpt FILE (patch --help lists the options)\n"); return 2; }
    for (site = 0; site < GROK_PATCH_SITES; site++) {
        char want[32];
        snprintf(want, sizeof want, ",%s,", grok_patch_site_name(site));
        snprintf(text, sizeof text, ",%s,", act_sites);
        run_act[site] = !strcmp(act_sites, "all") || strstr(text, want) != NULL;
    }
    { /* every name in --act-sites must be a site */
        char copy[OPT_TEXT_MAX + 1], *tok, *save = NULL;
        snprintf(copy, sizeof copy, "%s", act_sites);
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int ok = !strcmp(tok, "all") || !strcmp(tok, "none");
            for (site = 0; site < GROK_PATCH_SITES; site++) ok |= !strcmp(tok, grok_patch_site_name(site));
            if (!ok) { fprintf(stderr, "patch: --act-sites: '%s' is not a site (patch --help lists them)\n", tok); return 2; }
        }
    }
    if (threads) grok_threads_set(threads);
    if ((is_st = run_weights_kind("patch", ckpt)) < 0) return 2;
    if (!is_st && opt_given(options, OPT_COUNT(options), "--act-fn")) {
        fprintf(stderr, "patch: --act-fn goes with a safetensors file; %s is a checkpoint, which holds its config\n", ckpt);
        return 2;
    }
    if ((is_st ? grok_safetensors_config(&cfg, ckpt) : grok_checkpoint_config(&cfg, ckpt)) != GROK_OK) {
        fprintf(stderr, "patch: %s\n", grok_last_error());
        return 2;
    }
    if (is_st) {
        grok_safetensors st;
        if (grok_safetensors_load(&st, ckpt) != GROK_OK) { fprintf(stderr, "patch: %s\n", grok_last_error()); return 2; }
        if (!grok_safetensors_meta(&st, "act_fn")) cfg.act_fn = !strcmp(act_fn, "gelu") ? GROK_ACT_GELU : GROK_ACT_RELU;
        grok_safetensors_free(&st);
    }
    T = cfg.n_ctx; V = cfg.d_vocab_out;
    memset(&task, 0, sizeof task);
    if (T == 3 && cfg.d_vocab == V + 1 && V >= 3) {
        task.task = TASK_MODULAR;
        task.answer_pos = 2;
        if (!corrupt) corrupt = "a";
        if (!strcmp(corrupt, "carry")) { fprintf(stderr, "patch: --corrupt carry is for digits; this is a modular-arithmetic model\n"); return 2; }
        if (opt_given(options, OPT_COUNT(options), "--column")) { fprintf(stderr, "patch: --column is for digits\n"); return 2; }
    } else if (cfg.d_vocab == 12 && V >= 10 && T % 3 == 0 && T >= 6 && (T - 3) / 3 <= GROK_DIGITS_MAX) {
        task.task = TASK_DIGITS;
        task.n_digits = (T - 3) / 3;
        if (!corrupt) corrupt = "carry";
        if (strcmp(corrupt, "carry")) { fprintf(stderr, "patch: --corrupt %s is for modular arithmetic; digits take carry\n", corrupt); return 2; }
        if (column > task.n_digits) {
            fprintf(stderr, "patch: --column %d, but the model adds %d-digit numbers (columns 1..%d receive carries)\n", column,
                    task.n_digits, task.n_digits);
            return 2;
        }
        task.column = column;
        task.answer_pos = 3 * task.n_digits + 1 - column;
    } else {
        fprintf(stderr, "patch: %s is neither a modular-arithmetic model (n_ctx 3, d_vocab = d_vocab_out + 1) nor a digits model "
                        "(d_vocab 12, n_ctx 3n+3): n_ctx %d, d_vocab %d, d_vocab_out %d\n", ckpt, T, cfg.d_vocab, V);
        return 2;
    }
    pos_names_fill(&task, T);
    if (!out) {
        const char *slash = strrchr(ckpt, '/');
        if (slash) snprintf(dirbuf, sizeof dirbuf, "%.*s", (int)(slash - ckpt), ckpt);
        else snprintf(dirbuf, sizeof dirbuf, ".");
        snprintf(outbuf, sizeof outbuf, "%s/patch", dirbuf);
        out = outbuf;
    }
    if (grok_model_init(&m, &cfg, N < 256 ? N : 256) != GROK_OK) { fprintf(stderr, "patch: %s\n", grok_last_error()); return 1; }
    if ((rc = run_weights_load(&m, "patch", ckpt, &n_zeroed)) >= 0) { grok_model_free(&m); return rc; }
    if (grok_dir_make(out) != GROK_OK) { fprintf(stderr, "patch: %s\n", grok_last_error()); grok_model_free(&m); return 1; }

    clean_tok = (int *)malloc(sizeof(int) * (size_t)N * T);
    corr_tok = (int *)malloc(sizeof(int) * (size_t)N * T);
    correct = (int *)malloc(sizeof(int) * (size_t)N);
    wrong = (int *)malloc(sizeof(int) * (size_t)N);
    logits = (float *)malloc(sizeof(float) * (size_t)N * T * V);
    if (!clean_tok || !corr_tok || !correct || !wrong || !logits) { fprintf(stderr, "patch: out of memory\n"); return 1; }
    if ((rc = make_inputs(clean_tok, corr_tok, &task, &cfg, N, corrupt, seed)) != 0) return rc;
    /* the answers: the model's own predictions at the answer position */
    for (rc = 0; rc < 2; rc++) {
        int *dst = rc ? wrong : correct, start;
        for (start = 0; start < N; start += m.max_rows / T) {
            int b = N - start < m.max_rows / T ? N - start : m.max_rows / T;
            if (grok_model_forward(&m, (rc ? corr_tok : clean_tok) + (long)start * T, NULL, b, NULL, NULL,
                                   logits + (long)start * T * V) != GROK_OK) {
                fprintf(stderr, "patch: %s\n", grok_last_error());
                return 1;
            }
        }
        for (i = 0; i < N; i++) {
            const float *x = logits + ((long)i * T + task.answer_pos) * V;
            int v, arg = 0;
            for (v = 1; v < V; v++) if (x[v] > x[arg]) arg = v;
            dst[i] = arg;
        }
    }
    ld.pos = task.answer_pos; ld.correct = correct; ld.wrong = wrong;
    if (grok_cache_run(&clean, &m, clean_tok, N, NULL, NULL) != GROK_OK ||
        grok_grad_cache_run(NULL, &grads, &m, clean_tok, N, "resid_post", grok_metric_logit_diff, &ld, &clean_v) != GROK_OK) {
        fprintf(stderr, "patch: %s\n", grok_last_error());
        return 1;
    }
    grok_cache_free(&grads);
    if (grok_grad_cache_run(&corr, &grads, &m, corr_tok, N, NULL, grok_metric_logit_diff, &ld, &corr_v) != GROK_OK) {
        fprintf(stderr, "patch: %s\n", grok_last_error());
        return 1;
    }
    {
        int changed = 0;
        for (i = 0; i < N; i++) changed += correct[i] != wrong[i];
        char into[32] = "";
        if (task.task == TASK_DIGITS) snprintf(into, sizeof into, " (into column %d)", column);
        printf("patch: %s, %s; %d inputs, corrupt %s%s; the answer changes on %d of them\n", ckpt,
               task.task == TASK_MODULAR ? "modular arithmetic" : "digits", N, corrupt, into, changed);
        printf("logit difference clean answer - corrupted answer at position %s (which predicts %s): clean %.4f, corrupted %.4f\n",
               task.pos_names[task.answer_pos], task.task == TASK_MODULAR ? "the answer" : task.pos_names[task.answer_pos + 1],
               clean_v, corr_v);
        if (changed == 0 || fabs(clean_v - corr_v) < 1e-9) {
            fprintf(stderr, "patch: the corruption does not change the model's answer: nothing to patch\n");
            return 1;
        }
    }
    if (grok_report_begin(&rep, (snprintf(outbuf, sizeof outbuf, "%s/report.html", out), outbuf), "Activation and attribution patching") != GROK_OK) {
        fprintf(stderr, "patch: %s\n", grok_last_error());
        return 1;
    }
    snprintf(text, sizeof text, "%s; %d inputs, corrupted by %s; logit difference (clean answer - corrupted answer) at "
             "position %s: clean %.4f, corrupted %.4f. Values are normalised: (metric - corrupted) / (clean - corrupted).",
             ckpt, N, corrupt, task.pos_names[task.answer_pos], clean_v, corr_v);
    grok_report_note(&rep, text);
    if (direct_attribution(out, &rep, &m, &clean, &task, &ld, N)) return 1;
    for (site = 0; site < GROK_PATCH_SITES; site++)
        for (by_pos = 1; by_pos >= 0; by_pos--) {
            site_result *r = &res[site][by_pos];
            long k, *order;
            int j;
            grok_patch_shape(r->shape, &r->ndim, &m, site, by_pos);
            for (r->n = 1, j = 0; j < r->ndim; j++) r->n *= r->shape[j];
            r->attr = (double *)malloc(sizeof(double) * (size_t)r->n);
            r->act = run_act[site] ? (double *)malloc(sizeof(double) * (size_t)r->n) : NULL;
            order = (long *)malloc(sizeof(long) * (size_t)r->n);
            if (!r->attr || (run_act[site] && !r->act) || !order) { fprintf(stderr, "patch: out of memory\n"); return 1; }
            if (grok_attr_patch(r->attr, &m, &clean, &corr, &grads, site, by_pos) != GROK_OK ||
                (r->act && grok_act_patch(r->act, &m, corr_tok, N, &clean, site, by_pos, grok_metric_logit_diff, &ld) != GROK_OK)) {
                fprintf(stderr, "patch: %s: %s\n", grok_patch_site_name(site), grok_last_error());
                return 1;
            }
            if (write_csv(out, site, by_pos, r, clean_v, corr_v)) return 1;
            snprintf(text, sizeof text, "%s, %s", grok_patch_site_name(site), by_pos ? "by position" : "over all positions");
            grok_report_heading(&rep, text);
            if (plot_site(out, &rep, &task, site, by_pos, r, clean_v, corr_v)) return 1;
            if (!by_pos) { free(order); continue; }
            /* the top cells by |normalised activation patching|, else by |attribution| */
            for (k = 0; k < r->n; k++) order[k] = k;
            for (k = 1; k < r->n; k++) { /* insertion sort, largest first */
                long v = order[k], q = k;
                double key = fabs(r->act ? r->act[v] - corr_v : r->attr[v]);
                while (q > 0 && fabs(r->act ? r->act[order[q - 1]] - corr_v : r->attr[order[q - 1]]) < key) { order[q] = order[q - 1]; q--; }
                order[q] = v;
            }
            printf("%-10s", grok_patch_site_name(site));
            for (k = 0; k < r->n && k < top; k++) {
                cell_label(label, sizeof label, &task, site, by_pos, r, order[k]);
                if (r->act) printf(" %s act %.3f attr %.3f%s", label, (r->act[order[k]] - corr_v) / (clean_v - corr_v),
                                   r->attr[order[k]] / (clean_v - corr_v), k + 1 < top && k + 1 < r->n ? ";" : "");
                else printf(" %s attr %.3f%s", label, r->attr[order[k]] / (clean_v - corr_v), k + 1 < top && k + 1 < r->n ? ";" : "");
            }
            printf("\n");
            if (r->act && r->n > 0 && fabs(r->act[order[0]] - corr_v) > best) {
                best = fabs(r->act[order[0]] - corr_v);
                best_site = site; best_pos = by_pos; best_k = order[0];
            }
            free(order);
        }
    if (grok_report_end(&rep) != GROK_OK) { fprintf(stderr, "patch: %s\n", grok_last_error()); return 1; }
    printf("wrote %s/*.csv, %s/patch_*.svg and %s/report.html\n", out, out, out);
    if (best_site >= 0) {
        const site_result *r = &res[best_site][best_pos];
        cell_label(label, sizeof label, &task, best_site, best_pos, r, best_k);
        printf("top site=%s cell=%s act=%.4f attr=%.4f\n", grok_patch_site_name(best_site), label,
               (r->act[best_k] - corr_v) / (clean_v - corr_v), r->attr[best_k] / (clean_v - corr_v));
    } else {
        printf("top site=none\n");
    }
    for (site = 0; site < GROK_PATCH_SITES; site++)
        for (by_pos = 0; by_pos < 2; by_pos++) { free(res[site][by_pos].act); free(res[site][by_pos].attr); }
    grok_cache_free(&clean); grok_cache_free(&corr); grok_cache_free(&grads);
    free(clean_tok); free(corr_tok); free(correct); free(wrong); free(logits);
    grok_model_free(&m);
    return 0;
}
