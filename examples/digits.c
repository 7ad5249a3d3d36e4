/* digits - seed 002's n-digit addition: a one-layer transformer learns XXXXX+YYYYY=ZZZZZZ from a
   fresh batch of questions every step, and each answer digit and each sub-task (BaseAdd,
   UseCarry1, UseSum9) has its own loss curve, falling at its own time.

   Usage: digits [--digits 5] [--steps 3000] [--batch 64] [--ln] [--seed 129000] [--fixed N]
                 [--every 10] [--d-model 512] [--ckpt-every 50] [--history] [--threads N]
                 [--out runs/digits] [--force] [--init FILE] [--report-only] [--help]
   The model, optimizer and data are the seed's (grok_digits_config, grok_digits_adamw,
   grok_task_digits), with its exact architecture: attention and unembedding biases frozen at 0
   (it has none) and W_U drawn with std 1/sqrt(d_vocab). Writes OUT/run.args (the flags that
   define the run) at the start, OUT/losses.csv every --every steps (the loss curves of the
   batch trained on, before its update, as the seed records them; with --fixed, of a fresh
   batch: the seed's finite mode), OUT/latest.grok (weights and AdamW state) every
   --ckpt-every steps and at the end, with --history also OUT/ckpt_STEP.grok (weights
   only, step 0 included, the seed's checkpoint_models), and, once training ended well,
   OUT/tokens.svg and OUT/subtasks.svg (those curves), OUT/attention.csv (the attention pattern
   of every head for a few chosen questions, through the activation cache) and OUT/report.html
   (the curves, per-column sub-task panels, attention maps and sample answers); prints
   predictions, what was found, and the time. An OUT that holds a run needs --force
   (run_dir.h). --report-only writes OUT/report.html again from OUT/latest.grok and
   OUT/losses.csv, without training. --init starts from the weights of a checkpoint or safetensors
   file of the same config (AdamW afresh, step 0); there is no --split, as every step draws fresh
   questions. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run_dir.h"

#define N_EXAMPLES 4

/* Every file of a run, and those written only when training ended well. */
static const char *const run_files[] = {"run.args", "losses.csv", "latest.grok", "tokens.svg", "subtasks.svg",
                                        "attention.csv", "report.html", NULL};
static const char *const final_files[] = {"tokens.svg", "subtasks.svg", "attention.csv", "report.html", NULL};

/* The recorded curves are kept in memory for the plots: at most this many bytes of them. */
#define CURVES_MAX_BYTES (1024.0 * 1024.0 * 1024.0)

/* The report's questions: a stream of their own, so that --report-only draws the same figures. */
#define REPORT_STREAM 0x5851f42d4c957f2dull
#define REPORT_ROWS 1024 /* fresh questions for the report's held-out tables and sample answers */
#define ATTN_ROWS 64     /* the first of them, whose attention patterns the report averages */

static const char *const about =
    "Trains seed 002's transformer on n-digit addition and records per-digit and sub-task losses.\n"
    "Writes OUT/run.args at the start, OUT/losses.csv and OUT/latest.grok as it trains (with --history\n"
    "also OUT/ckpt_STEP.grok) and, when training ended well, OUT/tokens.svg, OUT/subtasks.svg,\n"
    "OUT/attention.csv and OUT/report.html. An OUT that holds a run is refused unless --force;\n"
    "--report-only redraws OUT/report.html from the run in OUT.";

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The recorded curves: row r holds the values of step steps[r] in the CSV's column order, and
   train[r] that step's training loss. */
typedef struct {
    int n, cols, rows, cap;
    long *steps;
    double *v, *train;
} curves;

/* Column layout of one row: loss, row_acc, tok 0..n, the four whole-row curves, then
   baseadd/usecarry1/usesum9 for columns 0..n-1. */
static int curves_width(int n) { return 2 + (n + 1) + 4 + 3 * n; }

/* Index in a row of the curves: answer token j, whole-row class c (baseadd_all, usecarry1_any,
   usesum9_one, usesum9_two), sub-task c of column d. */
static int col_token(int j) { return 2 + j; }
static int col_whole(int n, int c) { return 3 + n + c; }
static int col_column(int n, int c, int d) { return 7 + n + c * n + d; }

/* losses.csv's header line, without its newline. */
static void csv_header(char *buf, size_t cap, int n)
{
    size_t k = (size_t)snprintf(buf, cap, "step,train_loss,lr,loss,row_acc");
    int j, c, d;
    for (j = 0; j <= n && k < cap; j++) k += (size_t)snprintf(buf + k, cap - k, ",tok%d", j);
    if (k < cap) k += (size_t)snprintf(buf + k, cap - k, ",baseadd_all,usecarry1_any,usesum9_one,usesum9_two");
    for (c = 0; c < 3; c++)
        for (d = 0; d < n && k < cap; d++)
            k += (size_t)snprintf(buf + k, cap - k, ",%s_d%d", c == 0 ? "baseadd" : c == 1 ? "usecarry1" : "usesum9", d);
    if (k < cap) snprintf(buf + k, cap - k, ",seconds");
}

static void curves_values(double *out, const grok_digits_stats *s)
{
    int n = s->n_digits, k = 0, j, d, c;
    out[k++] = s->loss;
    out[k++] = s->row_acc;
    for (j = 0; j <= n; j++) out[k++] = s->token[j];
    out[k++] = s->baseadd_all;
    out[k++] = s->usecarry1_any;
    out[k++] = s->usesum9_one;
    out[k++] = s->usesum9_two;
    for (c = 0; c < 3; c++)
        for (d = 0; d < n; d++) out[k++] = s->column[c][d];
}

/* Merges equal-sized batches' stats into a running sum weighted by each class's count. */
typedef struct {
    double loss, row_acc, token[GROK_DIGITS_MAX + 1], token_acc[GROK_DIGITS_MAX + 1];
    double column[3][GROK_DIGITS_MAX], whole[4];
    long column_count[3][GROK_DIGITS_MAX], whole_count[4], rows;
} stats_sum;

static void stats_add(stats_sum *a, const grok_digits_stats *s)
{
    const double whole[4] = {s->baseadd_all, s->usecarry1_any, s->usesum9_one, s->usesum9_two};
    const int count[4] = {s->baseadd_all_count, s->usecarry1_any_count, s->usesum9_one_count, s->usesum9_two_count};
    int j, c, d;
    a->loss += s->loss * s->B;
    a->row_acc += s->row_acc * s->B;
    for (j = 0; j <= s->n_digits; j++) {
        a->token[j] += s->token[j] * s->B;
        a->token_acc[j] += s->token_acc[j] * s->B;
    }
    for (c = 0; c < 3; c++)
        for (d = 0; d < s->n_digits; d++)
            if (s->column_count[c][d]) {
                a->column[c][d] += s->column[c][d] * s->column_count[c][d];
                a->column_count[c][d] += s->column_count[c][d];
            }
    for (c = 0; c < 4; c++)
        if (count[c]) { a->whole[c] += whole[c] * count[c]; a->whole_count[c] += count[c]; }
    a->rows += s->B;
}

static double mean(double sum, long count) { return count ? sum / (double)count : NAN; }

/* Name of token position t of an n-digit question: x0 is x's units digit, z5 the final carry. */
static void position_name(char *buf, size_t cap, int t, int n)
{
    if (t < n) snprintf(buf, cap, "x%d", n - 1 - t);
    else if (t == n) snprintf(buf, cap, "+");
    else if (t <= 2 * n) snprintf(buf, cap, "y%d", 2 * n - t);
    else if (t == 2 * n + 1) snprintf(buf, cap, "=");
    else snprintf(buf, cap, "z%d", 3 * n + 2 - t);
}

static int save_plot(const char *out, const char *file, const char *title, const curves *cv, int first_col, int n_series,
                     const char *const *names)
{
    grok_plot p;
    char path[4096];
    double *x = (double *)malloc(sizeof(double) * (size_t)cv->rows);
    double *y = (double *)malloc(sizeof(double) * (size_t)cv->rows * (size_t)n_series);
    int r, k, st;
    if (!x || !y) { free(x); free(y); return GROK_ERR_NOMEM; }
    for (r = 0; r < cv->rows; r++) {
        x[r] = (double)cv->steps[r];
        for (k = 0; k < n_series; k++) y[(size_t)k * cv->rows + r] = cv->v[(size_t)r * cv->cols + first_col + k];
    }
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_LINES;
    p.title = title; p.xlabel = "step"; p.ylabel = "loss";
    p.x = x; p.y = y; p.n = cv->rows; p.n_series = n_series; p.names = names;
    p.log_y = 1;
    p.width = 640; p.height = 400;
    snprintf(path, sizeof path, "%s/%s", out, file);
    st = grok_plot_save(path, &p);
    free(x);
    free(y);
    return st;
}

/* ---- checkpoints */

/* With latest, OUT/latest.grok with the AdamW state; with history, OUT/ckpt_STEP.grok of the
   weights. */
static int checkpoint(const grok_model *m, const char *out, int latest, int history)
{
    char path[4096];
    int st = GROK_OK;
    snprintf(path, sizeof path, "%s/latest.grok", out);
    if (latest) st = grok_checkpoint_save(m, path, 1);
    if (st == GROK_OK && history) {
        snprintf(path, sizeof path, "%s/ckpt_%ld.grok", out, m->step);
        st = grok_checkpoint_save(m, path, 0);
    }
    return st;
}

/* ---- what the model does on fresh questions */

/* The stats of rows questions (tokens, targets (rows, 3n+3)), in forwards of at most chunk
   (<= m->max_rows / (3n+3)) rows through logits (chunk, 3n+3, d_vocab_out), summed into a. */
static int heldout_stats(grok_model *m, const int *tokens, const int *targets, int rows, int chunk, int n, float *logits,
                         stats_sum *a)
{
    grok_digits_stats s;
    int T = m->cfg.n_ctx, r, k, st = GROK_OK;
    for (r = 0; r < rows && st == GROK_OK; r += k) {
        k = rows - r < chunk ? rows - r : chunk;
        st = grok_model_forward(m, tokens + (size_t)r * T, targets + (size_t)r * T, k, NULL, NULL, logits);
        if (st == GROK_OK) st = grok_digits_losses(&s, logits, m->cfg.d_vocab_out, tokens + (size_t)r * T, k, n);
        if (st == GROK_OK) stats_add(a, &s);
    }
    return st;
}

static const char *const example_kinds[4] = {"seed 002's example", "BaseAdd only", "UseCarry1", "UseSum9"};

/* Chosen questions into ex (N_EXAMPLES rows of 3n+3) and their kinds (0: the seed's
   77426+17611, only for 5 digits; 1: the first of tokens' rows without a carry, 2: the first
   with carries but no UseSum9, 3: the first with a UseSum9). cols: (rows, n) scratch. Returns
   how many, or -1 (grok_last_error). */
static int choose_examples(int *ex, int *kind, const int *tokens, int rows, int n, grok_digits_column *cols)
{
    static const int seed_row[18] = {7, 7, 4, 2, 6, 10, 1, 7, 6, 1, 1, 11, 0, 9, 5, 0, 3, 7};
    int T = 3 * n + 3, k = 0, c, i, d;
    if (n == 5) { memcpy(ex, seed_row, sizeof seed_row); kind[k++] = 0; }
    if (grok_digits_columns(cols, tokens, rows, n) != GROK_OK) return -1;
    for (c = 1; c <= 3; c++)
        for (i = 0; i < rows; i++) {
            int carries = 0, sum9 = 0;
            for (d = 0; d < n; d++) {
                carries += cols[i * n + d].use_carry;
                sum9 += cols[i * n + d].subtask == GROK_DIGITS_USESUM9;
            }
            if ((c == 1 && !carries) || (c == 2 && carries && !sum9) || (c == 3 && sum9)) {
                memcpy(ex + (size_t)k * T, tokens + (size_t)i * T, sizeof(int) * (size_t)T);
                kind[k++] = c;
                break;
            }
        }
    return k;
}

/* ---- the report */

/* Lines of the curves: panel p, series k is column cols[p * n_series + k] of the rows. */
static void report_curves(grok_report *r, const curves *cv, const char *title, const int *cols, int n_panels, int n_series,
                          const char *const *names, const char *const *panel_titles, double *x, double *y)
{
    grok_plot p;
    int i, k;
    for (i = 0; i < cv->rows; i++) {
        x[i] = (double)cv->steps[i];
        for (k = 0; k < n_panels * n_series; k++)
            y[(size_t)k * cv->rows + i] = cols[k] < 0 ? cv->train[i] : cv->v[(size_t)i * cv->cols + cols[k]];
    }
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_LINES;
    p.title = title; p.xlabel = "step"; p.ylabel = "loss";
    p.x = x; p.y = y; p.n = cv->rows; p.n_series = n_series; p.names = names;
    p.n_panels = n_panels; p.panel_titles = panel_titles; p.panel_cols = n_panels < 3 ? n_panels : 3;
    p.log_y = 1;
    p.width = n_panels > 1 ? 360 : 640; p.height = n_panels > 1 ? 260 : 400;
    grok_report_plot(r, &p);
}

/* Attention maps of the heads, one panel each: z (H, T, T), rows the query positions. */
static void report_attention(grok_report *r, const grok_model *m, const char *title, const double *z,
                             const char *const *pos_names, const char *const *head_names)
{
    grok_plot p;
    double answer_rows = 2.0 * ((m->cfg.n_ctx - 3) / 3) + 0.5; /* the rows from '=' on predict the answer */
    memset(&p, 0, sizeof p);
    p.kind = GROK_PLOT_HEATMAP;
    p.title = title; p.xlabel = "key position"; p.ylabel = "query position"; p.clabel = "attention";
    p.z = z; p.rows = m->cfg.n_ctx; p.cols = m->cfg.n_ctx;
    p.cmap = GROK_CMAP_VIRIDIS; p.vmin = 0.0; p.vmax = 1.0;
    p.n_panels = m->cfg.n_heads; p.panel_cols = m->cfg.n_heads < 4 ? m->cfg.n_heads : 4; p.panel_titles = head_names;
    p.x_names = pos_names; p.y_names = pos_names;
    p.hlines = &answer_rows; p.n_hlines = 1;
    p.width = 300; p.height = 300;
    grok_report_plot(r, &p);
}

/* The pattern (B, H, T, T) of a cache, rows b0..b0+nb-1 averaged, into z (H, T, T). */
static void pattern_mean(double *z, const grok_tensor *pat, int b0, int nb)
{
    int H = pat->shape[1], T = pat->shape[2], b, h, q, k;
    for (h = 0; h < H; h++)
        for (q = 0; q < T; q++)
            for (k = 0; k < T; k++) {
                double sum = 0.0;
                for (b = b0; b < b0 + nb; b++)
                    sum += pat->data[b * pat->stride[0] + h * pat->stride[1] + q * pat->stride[2] + k * pat->stride[3]];
                z[((size_t)h * T + q) * T + k] = sum / nb;
            }
}

/* OUT/report.html: the curves of cv, then, on REPORT_ROWS fresh questions of their own stream
   (the same in a run and in --report-only), the held-out losses, the attention of every head
   averaged over ATTN_ROWS of them and on each chosen question, and the model's answers. A
   failure is reported on stderr. */
static int write_report(const char *out, grok_model *m, const curves *cv)
{
    static const char *const sub_names[3] = {"BaseAdd", "UseCarry1", "UseSum9"};
    static const char *const whole_names[4] = {"BaseAdd (rows without a carry)", "UseCarry1 (no UseSum9)", "UseSum9 once",
                                               "UseSum9 twice"};
    static const char *const train_names[2] = {"training loss", "loss of the recorded batch"};
    const grok_config *cfg = &m->cfg;
    int n = (cfg->n_ctx - 3) / 3, T = cfg->n_ctx, H = cfg->n_heads, V = cfg->d_vocab_out, st, i, j, c, d, k;
    int cols[3 * GROK_DIGITS_MAX], kind[N_EXAMPLES], ex[N_EXAMPLES * (3 * GROK_DIGITS_MAX + 3)];
    char pos_buf[3 * GROK_DIGITS_MAX + 3][8], tok_buf[GROK_DIGITS_MAX + 1][24], col_buf[GROK_DIGITS_MAX][24], head_buf[64][16];
    const char *pos[3 * GROK_DIGITS_MAX + 3], *tok_names[GROK_DIGITS_MAX + 1], *col_names[GROK_DIGITS_MAX], *heads[64];
    char title[256], path[4096], truth[3 * GROK_DIGITS_MAX + 9], pred[3 * GROK_DIGITS_MAX + 9];
    size_t rows = (size_t)(cv->rows > 0 ? cv->rows : 1);
    double *x = (double *)malloc(sizeof(double) * rows);
    double *y = (double *)malloc(sizeof(double) * rows * 3 * (size_t)(n + 1));
    double *z = (double *)malloc(sizeof(double) * (size_t)H * T * T);
    int chunk = m->max_rows / T < ATTN_ROWS ? m->max_rows / T : ATTN_ROWS;
    float *logits = (float *)malloc(sizeof(float) * ATTN_ROWS * (size_t)T * V);
    grok_digits_column *dcols = (grok_digits_column *)malloc(sizeof *dcols * REPORT_ROWS * (size_t)n);
    grok_data q;
    grok_rng rng;
    grok_cache cache;
    grok_report r;
    stats_sum a;
    const grok_tensor *pat;

    memset(&q, 0, sizeof q);
    memset(&cache, 0, sizeof cache);
    memset(&r, 0, sizeof r);
    memset(&a, 0, sizeof a);
    if (!x || !y || !z || !logits || !dcols || H > 64) {
        fprintf(stderr, "digits: out of memory for the report\n");
        st = GROK_ERR_NOMEM;
        goto done;
    }
    grok_rng_seed(&rng, cfg->seed ^ REPORT_STREAM);
    if ((st = grok_task_digits(&q, n, REPORT_ROWS, &rng)) != GROK_OK ||
        (st = heldout_stats(m, q.tokens, q.targets, REPORT_ROWS, chunk, n, logits, &a)) != GROK_OK)
        goto failed;
    for (i = 0; i < T; i++) { position_name(pos_buf[i], sizeof pos_buf[i], i, n); pos[i] = pos_buf[i]; }
    for (i = 0; i < H; i++) { snprintf(head_buf[i], sizeof head_buf[i], "head %d", i); heads[i] = head_buf[i]; }
    for (j = 0; j <= n; j++) { snprintf(tok_buf[j], sizeof tok_buf[j], "tok %d (z%d)", j, n - j); tok_names[j] = tok_buf[j]; }
    for (d = 0; d < n; d++) {
        snprintf(col_buf[d], sizeof col_buf[d], d ? "column %d" : "column 0 (units)", d);
        col_names[d] = col_buf[d];
    }
    snprintf(path, sizeof path, "%s/report.html", out);
    snprintf(title, sizeof title, "digits: %d-digit addition, d_model %d, LayerNorm %s, seed %llu, step %ld", n, cfg->d_model,
             cfg->normalization == GROK_NORM_LN ? "on" : "off", (unsigned long long)cfg->seed, m->step);
    grok_report_begin(&r, path, title);
    grok_report_note(&r, "Seed 002's transformer on n-digit addition. Every loss is -log softmax of an answer token at "
                         "the position that predicts it. Answer token j = 0 is the final carry (z_n), token n the units "
                         "(z0); column d = 0 is the units. A class without a case in a recorded batch repeats its last "
                         "value, as the seed's plots do.");

    grok_report_heading(&r, "Training");
    grok_report_note(&r, "The recorded batch is the one every curve is measured on: the training batch before its "
                         "update (the same loss), or with --fixed a fresh one.");
    cols[0] = -1; cols[1] = 0;
    report_curves(&r, cv, "Training loss", cols, 1, 2, train_names, NULL, x, y);
    for (j = 0; j <= n; j++) cols[j] = col_token(j);
    report_curves(&r, cv, "Loss of each answer token", cols, 1, n + 1, tok_names, NULL, x, y);
    for (c = 0; c < 4; c++) cols[c] = col_whole(n, c);
    report_curves(&r, cv, "Sub-task losses over whole rows", cols, 1, 4, whole_names, NULL, x, y);

    grok_report_heading(&r, "Sub-task losses per column");
    for (d = 0; d < n; d++)
        for (c = 0; c < 3; c++) cols[d * 3 + c] = col_column(n, c, d);
    report_curves(&r, cv, "Each column's sub-tasks (the seed's per-digit BaseAdd, UseCarry1 and UseSum9 graphs)", cols, n, 3,
                  sub_names, col_names, x, y);
    for (c = 0; c < 3; c++)
        for (d = 0; d < n; d++) cols[c * n + d] = col_column(n, c, d);
    report_curves(&r, cv, "Each sub-task over the columns (the seed's graph_perdigit)", cols, 3, n, col_names, sub_names, x, y);

    grok_report_heading(&r, "Held-out questions");
    grok_report_printf(&r, "<p>%d fresh questions: loss %.4f, all %d answer digits right in %.1f%% of them.</p>\n"
                           "<table><tr><th>answer token</th><th>column</th><th>loss</th><th>accuracy</th></tr>\n",
                       REPORT_ROWS, a.loss / a.rows, n + 1, 100.0 * a.row_acc / a.rows);
    for (j = 0; j <= n; j++)
        grok_report_printf(&r, "<tr><td>tok %d</td><td>%s</td><td>%.4f</td><td>%.4f</td></tr>\n", j, j ? col_buf[n - j] + 7 : "carry",
                           a.token[j] / a.rows, a.token_acc[j] / a.rows);
    grok_report_printf(&r, "</table>\n<table><tr><th>column</th><th>BaseAdd</th><th>UseCarry1</th><th>UseSum9</th></tr>\n");
    for (d = 0; d < n; d++) {
        grok_report_printf(&r, "<tr><td>%d</td>", d);
        for (c = 0; c < 3; c++)
            grok_report_printf(&r, "<td>%.4f (%ld)</td>", mean(a.column[c][d], a.column_count[c][d]), a.column_count[c][d]);
        grok_report_printf(&r, "</tr>\n");
    }
    grok_report_printf(&r, "</table>\n");

    grok_report_heading(&r, "Attention");
    if ((st = grok_cache_run(&cache, m, q.tokens, ATTN_ROWS, "hook_pattern", NULL)) != GROK_OK ||
        !(pat = grok_cache_get(&cache, "blocks.0.attn.hook_pattern")))
        goto failed;
    pattern_mean(z, pat, 0, ATTN_ROWS);
    grok_report_note(&r, "Row: the query position, named by the token it holds; column: the key position (x0, y0, z0 are "
                         "the units). The rows below the line, from '=' on, predict the answer's digits.");
    snprintf(title, sizeof title, "Attention of each head, averaged over %d fresh questions", ATTN_ROWS);
    report_attention(&r, m, title, z, pos, heads);
    grok_cache_free(&cache);
    if ((k = choose_examples(ex, kind, q.tokens, REPORT_ROWS, n, dcols)) < 0) {
        st = GROK_ERR_ARG;
        goto failed;
    }
    if ((st = grok_cache_run(&cache, m, ex, k, "hook_pattern", logits)) != GROK_OK ||
        !(pat = grok_cache_get(&cache, "blocks.0.attn.hook_pattern")))
        goto failed;
    for (i = 0; i < k; i++) {
        grok_digits_string(truth, sizeof truth, ex + (size_t)i * T, NULL, 0, n);
        grok_digits_string(pred, sizeof pred, ex + (size_t)i * T, logits + (size_t)i * T * V, V, n);
        snprintf(title, sizeof title, "Attention on %s, %.*s+%.*s", example_kinds[kind[i]], n, truth + 2, n, truth + n + 5);
        pattern_mean(z, pat, i, 1);
        report_attention(&r, m, title, z, pos, heads);
    }

    grok_report_heading(&r, "Sample questions");
    grok_report_printf(&r, "<table><tr><th>question</th><th>truth</th><th>model</th></tr>\n");
    for (i = 0; i < k; i++) {
        grok_digits_string(truth, sizeof truth, ex + (size_t)i * T, NULL, 0, n);
        grok_digits_string(pred, sizeof pred, ex + (size_t)i * T, logits + (size_t)i * T * V, V, n);
        grok_report_printf(&r, "<tr><td>%s</td><td><pre>%s</pre></td><td><pre>%s</pre></td></tr>\n", example_kinds[kind[i]], truth,
                           pred);
    }
    grok_report_printf(&r, "</table>\n<p class=\"note\">Written by grok.h's examples/digits from the model at step %ld.</p>\n",
                       m->step);
    if ((st = grok_report_end(&r)) == GROK_OK) goto done;
failed: /* the report is not committed: an earlier one stays whole */
    fprintf(stderr, "digits: report.html: %s\n", grok_last_error());
    if (st == GROK_OK) st = GROK_ERR_ARG;
    if (r.f) { r.status = st; grok_report_end(&r); }
done:
    grok_cache_free(&cache);
    grok_data_free(&q);
    free(x); free(y); free(z); free(logits); free(dcols);
    return st;
}

/* ---- --report-only: the run in OUT, read back */

/* The curves back from OUT/losses.csv, whose header must be the one a run of n digits writes;
   a last line without its newline (a write cut by a kill) is not a row. 0, or -1 after a
   message. */
static int curves_read(curves *cv, const char *out, int n)
{
    char path[4096], want[4096], line[16384];
    FILE *f;
    long rows = 0;
    int rc = -1;
    snprintf(path, sizeof path, "%s/losses.csv", out);
    csv_header(want, sizeof want, n);
    if (!(f = fopen(path, "r"))) { fprintf(stderr, "digits: cannot open %s: %s\n", path, strerror(errno)); return -1; }
    if (fgets(line, sizeof line, f)) line[strcspn(line, "\r\n")] = '\0';
    else line[0] = '\0';
    if (strcmp(line, want)) {
        fprintf(stderr, "digits: %s does not start with the header of a %d-digit run\n", path, n);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) rows += strchr(line, '\n') != NULL;
    cv->n = n;
    cv->cols = curves_width(n);
    cv->cap = (int)(rows > 0 ? rows : 1);
    cv->rows = 0;
    cv->steps = (long *)malloc(sizeof(long) * (size_t)cv->cap);
    cv->train = (double *)malloc(sizeof(double) * (size_t)cv->cap);
    cv->v = (double *)malloc(sizeof(double) * (size_t)cv->cap * (size_t)cv->cols);
    if ((double)rows * cv->cols * sizeof(double) > CURVES_MAX_BYTES || !cv->steps || !cv->train || !cv->v) {
        fprintf(stderr, "digits: %s: %ld rows do not fit in memory\n", path, rows);
        goto done;
    }
    rewind(f);
    if (!fgets(line, sizeof line, f)) goto bad;
    while (cv->rows < rows && fgets(line, sizeof line, f)) {
        char *p = line, *end;
        double *row = cv->v + (size_t)cv->rows * cv->cols;
        int i;
        cv->steps[cv->rows] = strtol(p, &end, 10);
        if (end == p || *end != ',') goto bad;
        cv->train[cv->rows] = strtod(p = end + 1, &end);
        if (end == p || *end != ',') goto bad;
        strtod(p = end + 1, &end); /* lr */
        for (i = 0; i < cv->cols; i++) {
            if (end == p || *end != ',') goto bad;
            row[i] = strtod(p = end + 1, &end);
        }
        if (end == p || *end != ',' || (cv->rows > 0 && cv->steps[cv->rows] <= cv->steps[cv->rows - 1])) goto bad;
        cv->rows++;
    }
    rc = 0;
    goto done;
bad:
    fprintf(stderr, "digits: %s:%d does not parse as a row of a %d-digit run\n", path, cv->rows + 2, n);
done:
    fclose(f);
    return rc;
}

/* --report-only: OUT/report.html from OUT/latest.grok and OUT/losses.csv of a digits run
   (OUT/run.args). Returns the exit status. */
static int report_only(const char *out)
{
    char path[4096], text[16384], value[512];
    grok_config cfg;
    grok_model m;
    curves cv;
    FILE *f;
    size_t len;
    int n, st;
    snprintf(path, sizeof path, "%s/run.args", out);
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "digits: no run to report in %s: cannot open %s: %s\n", out, path, strerror(errno));
        return 2;
    }
    text[0] = '\n';
    len = 1 + fread(text + 1, 1, sizeof text - 2, f);
    text[len] = '\0';
    fclose(f);
    if (run_args_value(value, sizeof value, text, "program") != 0 || strcmp(value, "digits")) {
        fprintf(stderr, "digits: %s is not a run of digits\n", path);
        return 2;
    }
    snprintf(path, sizeof path, "%s/latest.grok", out);
    if (grok_checkpoint_config(&cfg, path) != GROK_OK) {
        fprintf(stderr, "digits: no model to report: %s\n", grok_last_error());
        return 2;
    }
    n = (cfg.n_ctx - 3) / 3;
    snprintf(path, sizeof path, "%d", n);
    if (cfg.n_ctx != 3 * n + 3 || n < 1 || n > GROK_DIGITS_MAX || cfg.d_vocab != 12 || cfg.n_layers != 1 ||
        run_args_value(value, sizeof value, text, "--digits") != 0 || strcmp(value, path)) {
        fprintf(stderr, "digits: %s/latest.grok does not hold the model of the run in %s/run.args\n", out, out);
        return 2;
    }
    memset(&cv, 0, sizeof cv);
    if (curves_read(&cv, out, n) != 0) st = GROK_ERR_IO;
    else if ((st = grok_model_init(&m, &cfg, 64)) != GROK_OK) fprintf(stderr, "digits: %s\n", grok_last_error());
    else {
        snprintf(path, sizeof path, "%s/latest.grok", out);
        if ((st = grok_checkpoint_load(&m, path)) != GROK_OK) fprintf(stderr, "digits: %s\n", grok_last_error());
        else if ((st = write_report(out, &m, &cv)) == GROK_OK)
            printf("digits: %d-digit model at step %ld, %d recorded steps\noutputs: %s/report.html\n", n, m.step, cv.rows, out);
        grok_model_free(&m);
    }
    free(cv.steps);
    free(cv.train);
    free(cv.v);
    return st == GROK_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    int n = 5, B = 64, ln = 0, fixed = 0, threads = 0, d_model = 512, force = 0, history = 0, report = 0, outputs_ok = 1, i, j,
        c, d, st = GROK_OK, n_zeroed = 0;
    long steps = 3000, every = 10, ckpt_every = 50, step, rows;
    unsigned long long seed = 129000;
    const char *out = "runs/digits", *init = NULL;
    opt options[] = {
        opt_run(opt_int("--digits", &n, 1, GROK_DIGITS_MAX, "digits of each operand")),
        opt_run(opt_long("--steps", &steps, 1, 1000000000, "training steps")),
        opt_run(opt_int("--batch", &B, 1, 65536, "questions per step")),
        opt_run(opt_flag("--ln", &ln, "with LayerNorm (the seed's runs have none)")),
        opt_run(opt_u64("--seed", &seed, "model initialisation and data seed")),
        opt_run(opt_int("--fixed", &fixed, 0, 1000000, "train on one fixed set of N questions (full batch every step) and record\n"
                                                        "the curves on a fresh batch each time (0: a fresh batch every step)")),
        opt_run(opt_long("--every", &every, 1, 1000000000, "record the curves every N steps")),
        opt_run(opt_int("--d-model", &d_model, 4, 8192, "model width, a multiple of 4: d_head = N/4, d_mlp = 4N")),
        opt_long("--ckpt-every", &ckpt_every, 1, 1000000000,
                 "write OUT/latest.grok (weights and AdamW state: 38 MB for the seed's model,\n"
                 "5 digits at d_model 512) every N steps and at the end"),
        opt_flag("--history", &history, "also keep every checkpoint as OUT/ckpt_STEP.grok, step 0 included (weights\n"
                                        "only: 12.7 MB each for the seed's model, 61 of them, 0.8 GB, for its 3000\n"
                                        "steps at the default --ckpt-every)"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_text("--out", &out, "DIR", "output directory"),
        opt_flag("--force", &force, "start over in an OUT that holds a run, removing its files"),
        opt_run(opt_default(opt_text("--init", &init, "FILE",
                                     "weights to start from: a grok.h checkpoint (an earlier run's latest.grok) or a\n"
                                     "safetensors state dict (TransformerLens names; absent biases zero and frozen) of\n"
                                     "this model's config; its optimizer state and step are not taken (AdamW starts\n"
                                     "afresh at step 0). There is no --split: every step draws fresh questions"),
                            "none: grok.h's initialisation from --seed")),
        opt_flag("--report-only", &report, "write OUT/report.html again from the run in OUT (OUT/latest.grok and\n"
                                           "OUT/losses.csv) without training; takes only --out and --threads"),
    };
    run_dir run;
    grok_config cfg;
    grok_model m;
    grok_data batch, train, evalb;
    grok_rng data_rng, eval_rng;
    grok_digits_stats s;
    curves cv;
    float *logits = NULL;
    double *prev = NULL, t0, t_train = 0.0, t_record = 0.0, seconds, loss = 0.0, heldout = 0.0;
    FILE *csv = NULL;
    char path[4096], tmp[RUN_TMP_MAX], written[8192] = "", header[4096];

    if ((i = opt_parse("digits", about, options, OPT_COUNT(options), argc, argv)) >= 0) return i;
    if (report) {
        for (i = 0; i < OPT_COUNT(options); i++)
            if (options[i].given && options[i].value != (void *)&out && options[i].value != (void *)&threads &&
                options[i].value != (void *)&report) {
                fprintf(stderr, "digits: --report-only takes its run from OUT: give only --out and --threads, not %s\n",
                        options[i].name);
                return 2;
            }
        if (threads) grok_threads_set(threads);
        return report_only(out);
    }
    if (d_model % 4) { fprintf(stderr, "digits: --d-model %d: want a multiple of 4\n", d_model); return 2; }
    /* the curves: a row per recorded step, counted in long (steps up to 10^9) and sized in double */
    memset(&cv, 0, sizeof cv);
    cv.n = n;
    cv.cols = curves_width(n);
    rows = (steps - 1) / every + 2;
    if ((double)rows * cv.cols * sizeof(double) > CURVES_MAX_BYTES) {
        fprintf(stderr, "digits: --steps %ld at --every %ld records %ld rows of %d curves, %.1f GiB, more than the %.0f GiB "
                "they may take: raise --every or lower --steps\n", steps, every, rows, cv.cols,
                (double)rows * cv.cols * sizeof(double) / 1073741824.0, CURVES_MAX_BYTES / 1073741824.0);
        return 2;
    }
    cv.cap = (int)rows;
    if (threads) grok_threads_set(threads);
    run.prog = "digits"; run.out = out; run.files = run_files; run.finals = final_files;
    run.history = "ckpt_"; run.history_ext = ".grok"; /* --force removes them with the rest */
    cfg = grok_digits_config(n, ln);
    cfg.seed = seed;
    cfg.d_model = d_model; cfg.d_head = d_model / 4; cfg.d_mlp = 4 * d_model; /* the seed's d_model is a parameter */
    cfg.init_range = 1.0 / sqrt((double)d_model);
    if (grok_model_init(&m, &cfg, B > fixed ? B : fixed) != GROK_OK) { fprintf(stderr, "digits: %s\n", grok_last_error()); return 1; }
    /* the seed's architecture: no attention or unembedding biases, W_U ~ normal(0, 1/sqrt(d_vocab)) */
    grok_model_set_trainable(&m, "b_", 0);
    grok_model_set_trainable(&m, "mlp.b_", 1);
    {
        const grok_param *wu = grok_model_param(&m, "unembed.W_U");
        float scale = (float)sqrt((double)d_model / (double)cfg.d_vocab);
        size_t k;
        for (k = 0; k < wu->numel; k++) m.weights[wu->offset + k] *= scale;
    }
    m.opt = grok_digits_adamw();
    if ((init && (i = run_weights_load(&m, "digits", init, &n_zeroed)) >= 0) || (i = run_start(&run, force, 0)) >= 0 ||
        (i = run_args_save(&run, options, OPT_COUNT(options))) >= 0) {
        grok_model_free(&m);
        return i;
    }

    memset(&batch, 0, sizeof batch);
    memset(&train, 0, sizeof train);
    memset(&evalb, 0, sizeof evalb);
    grok_rng_seed(&data_rng, seed);
    grok_rng_seed(&eval_rng, seed ^ 0x9e3779b97f4a7c15ull); /* fresh test batches: a stream of their own */
    cv.steps = (long *)malloc(sizeof(long) * (size_t)cv.cap);
    cv.v = (double *)malloc(sizeof(double) * (size_t)cv.cap * (size_t)cv.cols);
    cv.train = (double *)malloc(sizeof(double) * (size_t)cv.cap);
    prev = (double *)malloc(sizeof(double) * (size_t)cv.cols);
    logits = (float *)malloc(sizeof(float) * (size_t)B * (size_t)cfg.n_ctx * (size_t)cfg.d_vocab_out);
    if (!cv.steps || !cv.v || !cv.train || !prev || !logits) { fprintf(stderr, "digits: out of memory\n"); return 1; }
    for (i = 0; i < cv.cols; i++) prev[i] = NAN;
    if ((fixed && grok_task_digits(&train, n, fixed, &data_rng) != GROK_OK) || grok_task_digits(&batch, n, B, &data_rng) != GROK_OK ||
        grok_task_digits(&evalb, n, B, &eval_rng) != GROK_OK) {
        fprintf(stderr, "digits: %s\n", grok_last_error());
        return 1;
    }
    if (checkpoint(&m, out, 0, history) != GROK_OK) { fprintf(stderr, "digits: %s\n", grok_last_error()); return 1; }
    snprintf(path, sizeof path, "%s/losses.csv", out);
    if (!(csv = fopen(path, "w"))) { fprintf(stderr, "digits: cannot write %s\n", path); return 1; }
    csv_header(header, sizeof header, n);
    fprintf(csv, "%s\n", header);

    printf("digits: %d-digit addition (n_ctx %d), %s, batch %d, %ld steps, lr %g wd %g warm-up 10 steps, LayerNorm %s, seed %llu\n",
           n, cfg.n_ctx, fixed ? "a fixed training set" : "a fresh batch every step", B, steps, m.opt.lr, m.opt.weight_decay,
           ln ? "on" : "off", seed);
    if (fixed) printf("fixed set: %d questions, curves on a fresh batch of %d each record\n", fixed, B);
    if (init) printf("weights: %s (AdamW afresh, step 0)\n", init);
    if (n_zeroed) printf("  %d bias tensors absent from it: zero and frozen\n", n_zeroed);
    printf("model: d_model %d, %d heads of %d, d_mlp %d; %zu parameters, %d threads, GEMM %s, %.1f MiB in one arena\n", d_model,
           cfg.n_heads, cfg.d_head, cfg.d_mlp, m.num_parameters, grok_threads_get(), grok_gemm_kernel_name(),
           (double)m.arena.size / 1048576.0);
    fflush(stdout);

    t0 = now();
    for (step = 0; step < steps && st == GROK_OK; step++) {
        const grok_data *tr = fixed ? &train : &batch;
        int record = step % every == 0 || step == steps - 1;
        double lr = m.opt.lr * m.opt.lr_schedule(m.step, NULL), t1 = now();
        if (!fixed && step > 0) st = grok_task_digits(&batch, n, B, &data_rng);
        if (st == GROK_OK && record) {
            /* the curves: an extra forward with logits, so that training takes the same path
               whatever --every is (the same bits) */
            const grok_data *ev = &batch;
            if (fixed) { ev = &evalb; st = grok_task_digits(&evalb, n, B, &eval_rng); }
            if (st == GROK_OK) st = grok_model_forward(&m, ev->tokens, ev->targets, B, NULL, NULL, logits);
            if (st == GROK_OK) st = grok_digits_losses(&s, logits, cfg.d_vocab_out, ev->tokens, B, n);
            t_record += now() - t1;
            t1 = now();
        }
        if (st == GROK_OK) {
            grok_model_zero_grad(&m);
            st = grok_model_forward(&m, tr->tokens, tr->targets, tr->n, &loss, NULL, NULL);
        }
        if (st == GROK_OK) st = grok_model_backward(&m);
        if (st == GROK_OK) st = grok_model_adamw_step(&m);
        t_train += now() - t1;
        if (st == GROK_OK && (m.step % ckpt_every == 0 || step == steps - 1)) st = checkpoint(&m, out, 1, history);
        if (st == GROK_OK && record) {
            double *row = cv.v + (size_t)cv.rows * cv.cols;
            curves_values(row, &s);
            for (i = 0; i < cv.cols; i++) { /* a class without a case repeats its last value, as the seed's plots do */
                if (isnan(row[i])) row[i] = prev[i];
                prev[i] = row[i];
            }
            cv.train[cv.rows] = loss;
            cv.steps[cv.rows++] = step;
            fprintf(csv, "%ld,%.6g,%.6g", step, loss, lr);
            for (i = 0; i < cv.cols; i++) fprintf(csv, ",%.6g", row[i]);
            fprintf(csv, ",%.3f\n", now() - t0);
        }
        if (st == GROK_OK && (step % 100 == 0 || step == steps - 1)) {
            printf("step %5ld  train loss %.4f  %.1f s\n", step, loss, now() - t0);
            fflush(stdout);
        }
    }
    seconds = now() - t0;
    if (st != GROK_OK) fprintf(stderr, "digits: step %ld: %s\n", step - 1, grok_last_error());
    if ((ferror(csv) | (fclose(csv) != 0)) && st == GROK_OK) {
        fprintf(stderr, "digits: writing %s failed\n", path);
        st = GROK_ERR_IO;
    }
    if (st != GROK_OK) {
        run_kept(&run, NULL, -1);
        return 1;
    }
    run_output(written, sizeof written, &run, "losses.csv");
    run_output(written, sizeof written, &run, "latest.grok");

    { /* the curves as SVG */
        char *names[GROK_DIGITS_MAX + 1], buf[GROK_DIGITS_MAX + 1][16], title[128];
        static const char *const sub_names[4] = {"BaseAdd (rows without a carry)", "UseCarry1 (no UseSum9)", "UseSum9 once",
                                                 "UseSum9 twice"};
        for (j = 0; j <= n; j++) { snprintf(buf[j], sizeof buf[j], "tok %d", j); names[j] = buf[j]; }
        snprintf(title, sizeof title, "%d-digit addition: loss of each answer token (tok 0 = the final carry)", n);
        if (save_plot(out, "tokens.svg", title, &cv, 2, n + 1, (const char *const *)names) == GROK_OK)
            run_output(written, sizeof written, &run, "tokens.svg");
        else { outputs_ok = 0; fprintf(stderr, "digits: %s\n", grok_last_error()); }
        if (save_plot(out, "subtasks.svg", "Sub-task losses over whole rows", &cv, 2 + n + 1, 4, sub_names) == GROK_OK)
            run_output(written, sizeof written, &run, "subtasks.svg");
        else { outputs_ok = 0; fprintf(stderr, "digits: %s\n", grok_last_error()); }
    }

    { /* what was found: 16 fresh batches, the phase of each digit, predictions and attention */
        stats_sum a;
        memset(&a, 0, sizeof a);
        for (i = 0; i < 16 && st == GROK_OK; i++) { /* 16 batches of B, as the activation buffers hold B rows */
            st = grok_task_digits(&evalb, n, B, &eval_rng);
            if (st == GROK_OK) st = heldout_stats(&m, evalb.tokens, evalb.targets, B, B, n, logits, &a);
        }
        if (st != GROK_OK) { fprintf(stderr, "digits: %s\n", grok_last_error()); return 1; }
        heldout = a.loss / a.rows;
        printf("\nheld-out (%ld fresh questions): loss %.4f, all %d answer digits right in %.1f%% of them\n", a.rows,
               a.loss / a.rows, n + 1, 100.0 * a.row_acc / a.rows);
        printf("answer token  column  loss     accuracy  loss < 0.1 first at step\n");
        for (j = 0; j <= n; j++) {
            long first = -1;
            int r;
            for (r = 0; r < cv.rows && first < 0; r++)
                if (cv.v[(size_t)r * cv.cols + 2 + j] < 0.1) first = cv.steps[r];
            char col[16];
            if (j == 0) snprintf(col, sizeof col, "carry");
            else snprintf(col, sizeof col, "%d", n - j);
            printf("tok %-2d        %-6s  %.4f   %.4f    ", j, col, a.token[j] / a.rows, a.token_acc[j] / a.rows);
            if (first >= 0) printf("%ld\n", first); else printf("never\n");
        }
        printf("sub-task losses per column (held-out; rows: d = 0 the units)\n  d   BaseAdd          UseCarry1        UseSum9\n");
        for (d = 0; d < n; d++) {
            printf("  %-2d", d);
            for (c = 0; c < 3; c++) {
                if (a.column_count[c][d]) printf("  %.4f (%5ld)", a.column[c][d] / a.column_count[c][d], a.column_count[c][d]);
                else printf("  -      (    0)");
            }
            printf("\n");
        }
        printf("whole rows: BaseAdd only %.4f (%ld rows), UseCarry1 %.4f (%ld), UseSum9 once %.4f (%ld), twice %.4f (%ld)\n",
               mean(a.whole[0], a.whole_count[0]), a.whole_count[0], mean(a.whole[1], a.whole_count[1]), a.whole_count[1],
               mean(a.whole[2], a.whole_count[2]), a.whole_count[2], mean(a.whole[3], a.whole_count[3]), a.whole_count[3]);
    }

    {
        /* chosen questions: the seed's 77426+17611 (5 digits), then the first row without a carry,
           the first with carries but no UseSum9, and the first with a UseSum9 in a fresh batch */
        int T = cfg.n_ctx, H = cfg.n_heads, k, kind[N_EXAMPLES];
        int *ex = (int *)malloc(sizeof(int) * N_EXAMPLES * (size_t)T);
        float *ex_logits = (float *)malloc(sizeof(float) * N_EXAMPLES * (size_t)T * (size_t)cfg.d_vocab_out);
        grok_digits_column *cols = (grok_digits_column *)malloc(sizeof *cols * (size_t)B * (size_t)n);
        grok_cache cache;
        const grok_tensor *pat;
        if (!ex || !ex_logits || !cols) { fprintf(stderr, "digits: out of memory\n"); return 1; }
        if (grok_task_digits(&evalb, n, B, &eval_rng) != GROK_OK || (k = choose_examples(ex, kind, evalb.tokens, B, n, cols)) < 0) {
            fprintf(stderr, "digits: %s\n", grok_last_error());
            return 1;
        }
        if (grok_cache_run(&cache, &m, ex, k, "hook_pattern", ex_logits) != GROK_OK ||
            !(pat = grok_cache_get(&cache, "blocks.0.attn.hook_pattern")) || !grok_tensor_is_contiguous(pat)) {
            fprintf(stderr, "digits: %s\n", grok_last_error());
            return 1;
        }
        if (!(csv = run_create(&run, "attention.csv", tmp))) return 1;
        fprintf(csv, "example,question,head,query,key,query_pos,key_pos,weight\n");
        printf("\npredictions and attention (%s/attention.csv has every head and position): for each head, each\n"
               "answer position, named by the digit it predicts (x0, y0, z0: units), with its two strongest keys\n", out);
        for (i = 0; i < k; i++) {
            char truth[3 * GROK_DIGITS_MAX + 9], pred[3 * GROK_DIGITS_MAX + 9], q[16], key[16], flat[3 * GROK_DIGITS_MAX + 9];
            const float *lg = ex_logits + (size_t)i * T * cfg.d_vocab_out;
            int h, t, u, right;
            grok_digits_string(truth, sizeof truth, ex + (size_t)i * T, NULL, 0, n);
            grok_digits_string(pred, sizeof pred, ex + (size_t)i * T, lg, cfg.d_vocab_out, n);
            right = strcmp(truth, pred) == 0;
            for (t = 0, u = 0; truth[t]; t++) if (truth[t] != ' ' && truth[t] != '\n') flat[u++] = truth[t];
            flat[u] = '\0';
            { /* truth and prediction side by side, three lines each */
                const char *a = truth, *b = pred;
                printf("\n%s, %s (truth | model: %s)\n", example_kinds[kind[i]], flat, right ? "right" : "wrong");
                for (t = 0; t < 3; t++) {
                    int la = (int)strcspn(a, "\n"), lb = (int)strcspn(b, "\n");
                    printf("  %-*.*s | %.*s\n", n + 2, la, a, lb, b);
                    a += la + (a[la] != '\0');
                    b += lb + (b[lb] != '\0');
                }
            }
            for (h = 0; h < H; h++) {
                printf("  head %d: ", h);
                for (t = 2 * n + 1; t <= 3 * n + 1; t++) {
                    const float *row = pat->data + i * pat->stride[0] + h * pat->stride[1] + t * pat->stride[2];
                    int b1 = 0, b2 = -1;
                    position_name(q, sizeof q, t + 1, n);
                    for (u = 0; u <= t; u++) {
                        position_name(key, sizeof key, u, n);
                        fprintf(csv, "%d,%s,%d,%s,%s,%d,%d,%.6f\n", i, flat, h, q, key, t, u, row[u]);
                        if (row[u] > row[b1]) { b2 = b1; b1 = u; }
                        else if (u != b1 && (b2 < 0 || row[u] > row[b2])) b2 = u;
                    }
                    position_name(key, sizeof key, b1, n);
                    printf(" %s[%s %.2f", q, key, row[b1]);
                    if (b2 >= 0) { position_name(key, sizeof key, b2, n); printf(" %s %.2f", key, row[b2]); }
                    printf("]");
                }
                printf("\n");
            }
        }
        if (run_commit(&run, csv, tmp, "attention.csv") == 0) run_output(written, sizeof written, &run, "attention.csv");
        else outputs_ok = 0;
        grok_cache_free(&cache);
        free(ex);
        free(ex_logits);
        free(cols);
    }
    if (write_report(out, &m, &cv) == GROK_OK) run_output(written, sizeof written, &run, "report.html");
    else outputs_ok = 0;

    printf("\noutputs: %s\n", written);
    printf("time: %.1f s for %ld steps: %.1f ms/step training, %.1f ms per recorded step for the curves; "
           "3000 steps at every %ld: %.0f s\n",
           seconds, steps, 1000.0 * t_train / steps, 1000.0 * t_record / cv.rows, every,
           3000.0 * t_train / steps + (3000.0 / every + 1) * t_record / cv.rows);
    printf("final step=%ld train_loss=%.6g heldout_loss=%.6g seconds=%.1f\n", steps, loss, heldout, seconds);
    grok_model_free(&m);
    grok_data_free(&batch);
    grok_data_free(&train);
    grok_data_free(&evalb);
    free(cv.steps);
    free(cv.v);
    free(cv.train);
    free(prev);
    free(logits);
    return outputs_ok ? 0 : 1;
}
