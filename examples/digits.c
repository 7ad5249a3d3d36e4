/* digits - seed 002's n-digit addition: a one-layer transformer learns XXXXX+YYYYY=ZZZZZZ from a
   fresh batch of questions every step, and each answer digit and each sub-task (BaseAdd,
   UseCarry1, UseSum9) has its own loss curve, falling at its own time.

   Usage: digits [--digits 5] [--steps 3000] [--batch 64] [--ln] [--seed 129000] [--fixed N]
                 [--every 10] [--d-model 512] [--threads N] [--out runs/digits] [--force] [--help]
   The model, optimizer and data are the seed's (grok_digits_config, grok_digits_adamw,
   grok_task_digits), with its exact architecture: attention and unembedding biases frozen at 0
   (it has none) and W_U drawn with std 1/sqrt(d_vocab). Writes OUT/losses.csv every --every
   steps (the loss curves of the batch trained on, before its update, as the seed records them;
   with --fixed, of a fresh batch: the seed's finite mode) and, once training ended well,
   OUT/tokens.svg and OUT/subtasks.svg (those curves) and OUT/attention.csv (the attention
   pattern of every head for a few chosen questions, through the activation cache); prints
   predictions, what was found, and the time. An OUT that holds a run needs --force (run_dir.h). */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "run_dir.h"

#define N_EXAMPLES 4

/* Every file of a run, and those written only when training ended well. */
static const char *const run_files[] = {"losses.csv", "tokens.svg", "subtasks.svg", "attention.csv", NULL};
static const char *const final_files[] = {"tokens.svg", "subtasks.svg", "attention.csv", NULL};

/* The recorded curves are kept in memory for the plots: at most this many bytes of them. */
#define CURVES_MAX_BYTES (1024.0 * 1024.0 * 1024.0)

static const char *const about =
    "Trains seed 002's transformer on n-digit addition and records per-digit and sub-task losses.\n"
    "Writes OUT/losses.csv as it trains and, when training ended well, OUT/tokens.svg, OUT/subtasks.svg\n"
    "and OUT/attention.csv. An OUT that holds a run is refused unless --force.";

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The recorded curves: row r holds the values of step steps[r] in the CSV's column order. */
typedef struct {
    int n, cols, rows, cap;
    long *steps;
    double *v;
} curves;

/* Column layout of one row: loss, row_acc, tok 0..n, the four whole-row curves, then
   baseadd/usecarry1/usesum9 for columns 0..n-1. */
static int curves_width(int n) { return 2 + (n + 1) + 4 + 3 * n; }

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

int main(int argc, char **argv)
{
    int n = 5, B = 64, ln = 0, fixed = 0, threads = 0, d_model = 512, force = 0, outputs_ok = 1, i, j, d, c, st = GROK_OK;
    long steps = 3000, every = 10, step, rows;
    unsigned long long seed = 129000;
    const char *out = "runs/digits";
    opt options[] = {
        opt_int("--digits", &n, 1, GROK_DIGITS_MAX, "digits of each operand"),
        opt_long("--steps", &steps, 1, 1000000000, "training steps"),
        opt_int("--batch", &B, 1, 65536, "questions per step"),
        opt_flag("--ln", &ln, "with LayerNorm (the seed's runs have none)"),
        opt_u64("--seed", &seed, "model initialisation and data seed"),
        opt_int("--fixed", &fixed, 0, 1000000, "train on one fixed set of N questions (full batch every step) and record\n"
                                                "the curves on a fresh batch each time (0: a fresh batch every step)"),
        opt_long("--every", &every, 1, 1000000000, "record the curves every N steps"),
        opt_int("--d-model", &d_model, 4, 8192, "model width, a multiple of 4: d_head = N/4, d_mlp = 4N"),
        opt_default(opt_int("--threads", &threads, 1, 64, "worker threads"), "GROK_THREADS, else all cores"),
        opt_text("--out", &out, "DIR", "output directory"),
        opt_flag("--force", &force, "start over in an OUT that holds a run, removing its files"),
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
    char path[4096], tmp[RUN_TMP_MAX], written[8192] = "";

    if ((i = opt_parse("digits", about, options, OPT_COUNT(options), argc, argv)) >= 0) return i;
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
    run.history = run.history_ext = NULL;
    if ((i = run_start(&run, force, 0)) >= 0) return i;

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

    memset(&batch, 0, sizeof batch);
    memset(&train, 0, sizeof train);
    memset(&evalb, 0, sizeof evalb);
    grok_rng_seed(&data_rng, seed);
    grok_rng_seed(&eval_rng, seed ^ 0x9e3779b97f4a7c15ull); /* fresh test batches: a stream of their own */
    cv.steps = (long *)malloc(sizeof(long) * (size_t)cv.cap);
    cv.v = (double *)malloc(sizeof(double) * (size_t)cv.cap * (size_t)cv.cols);
    prev = (double *)malloc(sizeof(double) * (size_t)cv.cols);
    logits = (float *)malloc(sizeof(float) * (size_t)B * (size_t)cfg.n_ctx * (size_t)cfg.d_vocab_out);
    if (!cv.steps || !cv.v || !prev || !logits) { fprintf(stderr, "digits: out of memory\n"); return 1; }
    for (i = 0; i < cv.cols; i++) prev[i] = NAN;
    if ((fixed && grok_task_digits(&train, n, fixed, &data_rng) != GROK_OK) || grok_task_digits(&batch, n, B, &data_rng) != GROK_OK ||
        grok_task_digits(&evalb, n, B, &eval_rng) != GROK_OK) {
        fprintf(stderr, "digits: %s\n", grok_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/losses.csv", out);
    if (!(csv = fopen(path, "w"))) { fprintf(stderr, "digits: cannot write %s\n", path); return 1; }
    fprintf(csv, "step,train_loss,lr,loss,row_acc");
    for (j = 0; j <= n; j++) fprintf(csv, ",tok%d", j);
    fprintf(csv, ",baseadd_all,usecarry1_any,usesum9_one,usesum9_two");
    for (c = 0; c < 3; c++)
        for (d = 0; d < n; d++) fprintf(csv, ",%s_d%d", c == 0 ? "baseadd" : c == 1 ? "usecarry1" : "usesum9", d);
    fprintf(csv, ",seconds\n");

    printf("digits: %d-digit addition (n_ctx %d), %s, batch %d, %ld steps, lr %g wd %g warm-up 10 steps, LayerNorm %s, seed %llu\n",
           n, cfg.n_ctx, fixed ? "a fixed training set" : "a fresh batch every step", B, steps, m.opt.lr, m.opt.weight_decay,
           ln ? "on" : "off", seed);
    if (fixed) printf("fixed set: %d questions, curves on a fresh batch of %d each record\n", fixed, B);
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
        if (st == GROK_OK && record) {
            double *row = cv.v + (size_t)cv.rows * cv.cols;
            curves_values(row, &s);
            for (i = 0; i < cv.cols; i++) { /* a class without a case repeats its last value, as the seed's plots do */
                if (isnan(row[i])) row[i] = prev[i];
                prev[i] = row[i];
            }
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
            if (st == GROK_OK) st = grok_model_forward(&m, evalb.tokens, evalb.targets, B, NULL, NULL, logits);
            if (st == GROK_OK) st = grok_digits_losses(&s, logits, cfg.d_vocab_out, evalb.tokens, B, n);
            if (st == GROK_OK) stats_add(&a, &s);
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
        static const int seed_row[18] = {7, 7, 4, 2, 6, 10, 1, 7, 6, 1, 1, 11, 0, 9, 5, 0, 3, 7};
        static const char *const kinds[4] = {"seed 002's example", "BaseAdd only", "UseCarry1", "UseSum9"};
        int T = cfg.n_ctx, H = cfg.n_heads, k = 0, kind[N_EXAMPLES];
        int *ex = (int *)malloc(sizeof(int) * N_EXAMPLES * (size_t)T);
        float *ex_logits = (float *)malloc(sizeof(float) * N_EXAMPLES * (size_t)T * (size_t)cfg.d_vocab_out);
        grok_digits_column *cols = (grok_digits_column *)malloc(sizeof *cols * (size_t)B * (size_t)n);
        grok_cache cache;
        const grok_tensor *pat;
        if (!ex || !ex_logits || !cols) { fprintf(stderr, "digits: out of memory\n"); return 1; }
        if (n == 5) { memcpy(ex, seed_row, sizeof seed_row); kind[k++] = 0; }
        if (grok_task_digits(&evalb, n, B, &eval_rng) != GROK_OK || grok_digits_columns(cols, evalb.tokens, B, n) != GROK_OK) {
            fprintf(stderr, "digits: %s\n", grok_last_error());
            return 1;
        }
        for (c = 1; c <= 3; c++)
            for (i = 0; i < B; i++) {
                int carries = 0, sum9 = 0;
                for (d = 0; d < n; d++) {
                    carries += cols[i * n + d].use_carry;
                    sum9 += cols[i * n + d].subtask == GROK_DIGITS_USESUM9;
                }
                if ((c == 1 && !carries) || (c == 2 && carries && !sum9) || (c == 3 && sum9)) {
                    memcpy(ex + (size_t)k * T, evalb.tokens + (size_t)i * T, sizeof(int) * (size_t)T);
                    kind[k++] = c;
                    break;
                }
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
                printf("\n%s, %s (truth | model: %s)\n", kinds[kind[i]], flat, right ? "right" : "wrong");
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
    free(prev);
    free(logits);
    return outputs_ok ? 0 : 1;
}
