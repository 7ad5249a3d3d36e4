/* Tests of n-digit addition (seed 002): the generator's questions, answers, targets and carry
   flags on every row for every n (against integer arithmetic and the seed's own unit test), the
   sub-task classes (disjoint, covering, the seed's definitions), the per-digit and sub-task
   losses against the seed's formulas evaluated by hand from logits, the model's loss at the
   targets the generator sets, the prediction string, bad arguments, no allocation in a training
   step, and a short run of a small model whose loss falls well below its start. The last line
   is "N passed, N failed"; the exit status is nonzero on any failure. */
#include <stddef.h>
static void *counting_malloc(size_t n); /* counts grok.h's allocations: a training step must make none */
#define GROK_MALLOC(sz) counting_malloc(sz)
#define GROK_FREE(p) free(p)
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static long n_mallocs;
static int quick(void) { const char *q = getenv("GROK_TEST_QUICK"); return q && *q && *q != '0'; }
static void *counting_malloc(size_t n) { n_mallocs++; return malloc(n); }

static uint64_t rs = 88172645463325252ull;
static double urand(void) /* [0, 1) */
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* Value of the k digits at tok (most significant first) modulo mod. */
static uint64_t digits_mod(const int *tok, int k, uint64_t mod)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v = (v * 10 + (uint64_t)tok[i]) % mod;
    return v;
}

static void test_generator(void)
{
    const int B = 64;
    int bad_rows = 0, bad_targets = 0, bad_sums = 0, bad_carries = 0, bad_seed_test = 0, first_bad_n = 0;
    long digit_count[10] = {0};
    for (int n = 1; n <= GROK_DIGITS_MAX; n++) {
        grok_data d;
        grok_rng rng;
        grok_digits_column cols[64 * GROK_DIGITS_MAX];
        int T = 3 * n + 3;
        memset(&d, 0, sizeof d);
        grok_rng_seed(&rng, 1000 + (uint64_t)n);
        if (grok_task_digits(&d, n, B, &rng) != GROK_OK || d.n != B || d.n_ctx != T) {
            CHECK(0, "n = %d: grok_task_digits failed or wrong shape (%d x %d)", n, d.n, d.n_ctx);
            grok_data_free(&d);
            continue;
        }
        CHECK(grok_digits_columns(cols, d.tokens, B, n) == GROK_OK, "n = %d: columns", n);
        for (int b = 0; b < B; b++) {
            const int *tok = d.tokens + b * T, *tgt = d.targets + b * T;
            const grok_digits_column *c = cols + b * n;
            int ok = tok[n] == 10 && tok[2 * n + 1] == 11;
            for (int t = 0; t < T; t++)
                if (t != n && t != 2 * n + 1 && (tok[t] < 0 || tok[t] > 9)) ok = 0;
            if (!ok) bad_rows++;
            for (int t = 0; t < n; t++) { digit_count[tok[t]]++; digit_count[tok[n + 1 + t]]++; }
            /* targets: the seed's logits[:, -(n+2):-1] predict tokens[:, -(n+1):] */
            for (int t = 0; t < T; t++) {
                int want = t >= T - (n + 2) && t < T - 1 ? tok[t + 1] : -1;
                if (tgt[t] != want) bad_targets++;
            }
            /* x + y == z: exactly in 64 bits up to 18 digits, modulo two primes for every n */
            if (n <= 18) {
                uint64_t x = digits_mod(tok, n, UINT64_MAX), y = digits_mod(tok + n + 1, n, UINT64_MAX);
                uint64_t z = digits_mod(tok + 2 * n + 2, n + 1, UINT64_MAX);
                if (x + y != z) bad_sums++;
            }
            for (int k = 0; k < 2; k++) {
                uint64_t p = k ? 998244353u : 1000000007u;
                if ((digits_mod(tok, n, p) + digits_mod(tok + n + 1, n, p)) % p != digits_mod(tok + 2 * n + 2, n + 1, p))
                    bad_sums++;
            }
            /* carry flags of every column: the seed's relation, and against integers */
            for (int col = 0; col < n; col++) {
                int xd = tok[n - 1 - col], yd = tok[2 * n - col], zd = tok[3 * n + 2 - col];
                int want_use = col > 0 ? c[col - 1].make_carry : 0;
                if (c[col].base_add != xd + yd || c[col].use_carry != want_use ||
                    c[col].make_carry != (xd + yd + c[col].use_carry >= 10) || zd != (xd + yd + c[col].use_carry) % 10)
                    bad_carries++;
                if (n <= 18) {
                    uint64_t pw = 1, xl, yl;
                    for (int i = 0; i < col; i++) pw *= 10;
                    xl = digits_mod(tok, n, UINT64_MAX) % pw;
                    yl = digits_mod(tok + n + 1, n, UINT64_MAX) % pw;
                    if (c[col].use_carry != (xl + yl >= pw)) bad_carries++;
                }
            }
            if (tok[2 * n + 2] != c[n - 1].make_carry) bad_carries++;
            /* seed 002's unit_test_data_generator, written for 5 digits */
            if (n == 5) {
                long num1 = tok[0] * 10000L + tok[1] * 1000 + tok[2] * 100 + tok[3] * 10 + tok[4];
                long num2 = tok[6] * 10000L + tok[7] * 1000 + tok[8] * 100 + tok[9] * 10 + tok[10];
                long sum = tok[12] * 100000L + tok[13] * 10000L + tok[14] * 1000 + tok[15] * 100 + tok[16] * 10 + tok[17];
                /* the seed's use/force arrays are indexed by test_col = n-1-d */
                for (int tc = 0; tc < 5; tc++) {
                    const grok_digits_column *cc = &c[4 - tc];
                    if ((tok[tc] + tok[6 + tc] + cc->use_carry >= 10) != cc->make_carry) bad_seed_test++;
                }
                if (num1 + num2 != sum) bad_seed_test++;
            }
        }
        if ((bad_rows || bad_targets || bad_sums || bad_carries) && !first_bad_n) first_bad_n = n;
        grok_data_free(&d);
    }
    CHECK(bad_rows == 0, "%d malformed rows (first bad n %d)", bad_rows, first_bad_n);
    CHECK(bad_targets == 0, "%d wrong targets (first bad n %d)", bad_targets, first_bad_n);
    CHECK(bad_sums == 0, "%d wrong sums (first bad n %d)", bad_sums, first_bad_n);
    CHECK(bad_carries == 0, "%d wrong carry flags (first bad n %d)", bad_carries, first_bad_n);
    CHECK(bad_seed_test == 0, "seed 002's unit test fails %d times", bad_seed_test);
    {
        long total = 0, lo = -1, hi = 0;
        for (int k = 0; k < 10; k++) {
            total += digit_count[k];
            if (lo < 0 || digit_count[k] < lo) lo = digit_count[k];
            if (digit_count[k] > hi) hi = digit_count[k];
        }
        /* 67584 digits: each of the 10 values within 5% of a tenth */
        CHECK(lo > total / 10 * 0.95 && hi < total / 10 * 1.05, "digits not uniform: counts %ld..%ld of %ld", lo, hi, total);
    }
}

static void test_generator_reuse(void)
{
    grok_data d, e;
    grok_rng r1, r2;
    int *tok, same;
    long before;
    memset(&d, 0, sizeof d);
    memset(&e, 0, sizeof e);
    grok_rng_seed(&r1, 7);
    grok_rng_seed(&r2, 7);
    CHECK(grok_task_digits(&d, 5, 32, &r1) == GROK_OK && grok_task_digits(&e, 5, 32, &r2) == GROK_OK, "two batches");
    CHECK(memcmp(d.tokens, e.tokens, sizeof(int) * 32 * 18) == 0 && memcmp(d.targets, e.targets, sizeof(int) * 32 * 18) == 0,
          "the same seed gives the same batch");
    tok = d.tokens;
    before = n_mallocs;
    CHECK(grok_task_digits(&d, 5, 32, &r1) == GROK_OK, "refill");
    CHECK(d.tokens == tok && n_mallocs == before, "a refill reuses the batch (%ld allocations)", n_mallocs - before);
    same = memcmp(d.tokens, e.tokens, sizeof(int) * 32 * 18) == 0;
    CHECK(!same, "the next batch is a fresh one");
    CHECK(grok_task_digits(&d, 5, 31, &r1) == GROK_ERR_ARG && d.tokens == tok, "a batch of another shape is refused");
    CHECK(grok_task_digits(&d, 4, 32, &r1) == GROK_ERR_ARG, "another n_digits is refused");
    grok_data_free(&d);
    grok_data_free(&e);
    memset(&d, 0, sizeof d);
    CHECK(grok_task_digits(&d, 0, 8, &r1) == GROK_ERR_ARG && !d.tokens, "n_digits 0 refused");
    CHECK(grok_task_digits(&d, GROK_DIGITS_MAX + 1, 8, &r1) == GROK_ERR_ARG, "n_digits %d refused", GROK_DIGITS_MAX + 1);
    CHECK(grok_task_digits(&d, 3, 0, &r1) == GROK_ERR_ARG, "B = 0 refused");
    CHECK(grok_task_digits(NULL, 3, 8, &r1) == GROK_ERR_ARG && grok_task_digits(&d, 3, 8, NULL) == GROK_ERR_ARG, "NULL refused");
    /* a grok_data_alloc'ed batch of the right shape is filled in place */
    CHECK(grok_data_alloc(&d, 10, 12) == GROK_OK && grok_task_digits(&d, 3, 10, &r1) == GROK_OK && d.tokens[3] == 10,
          "fills a grok_data_alloc'ed batch");
    grok_data_free(&d);
}

static void test_subtasks(void)
{
    enum { B = 4000, N = 5 };
    static grok_digits_column cols[B * N];
    grok_data d;
    grok_rng rng;
    long count[3][N], bad = 0, total = 0;
    memset(&d, 0, sizeof d);
    memset(count, 0, sizeof count);
    grok_rng_seed(&rng, 3);
    CHECK(grok_task_digits(&d, N, B, &rng) == GROK_OK && grok_digits_columns(cols, d.tokens, B, N) == GROK_OK, "batch");
    for (int i = 0; i < B * N; i++) {
        const grok_digits_column *c = &cols[i];
        /* the seed's masks: BaseAdd = !use_carry, UseCarry1 = use_carry & !sum9, UseSum9 = use_carry & sum9 */
        int ba = !c->use_carry, uc = c->use_carry && c->base_add != 9, us = c->use_carry && c->base_add == 9;
        if (ba + uc + us != 1) bad++;
        if (c->subtask != (ba ? GROK_DIGITS_BASEADD : uc ? GROK_DIGITS_USECARRY1 : GROK_DIGITS_USESUM9)) bad++;
        if (c->subtask <= 2) count[c->subtask][i % N]++;
    }
    CHECK(bad == 0, "%ld columns in no class, in two, or in the wrong one", bad);
    for (int k = 0; k < 3; k++)
        for (int col = 0; col < N; col++) total += count[k][col];
    CHECK(total == (long)B * N, "the classes cover %ld of %d columns (seed 002's unit_test_nonoverlapping)", total, B * N);
    /* the units never take a carry; a carry leaves a column with probability 0.45 (0.55 into the
       tens of BaseAdd); UseSum9 at d >= 1 is P(carry in) * 0.1 */
    CHECK(count[GROK_DIGITS_BASEADD][0] == B, "units are all BaseAdd (%ld of %d)", count[GROK_DIGITS_BASEADD][0], B);
    CHECK(fabs(count[GROK_DIGITS_BASEADD][1] / (double)B - 0.55) < 0.03, "tens BaseAdd share %.3f, want 0.55",
          count[GROK_DIGITS_BASEADD][1] / (double)B);
    CHECK(fabs(count[GROK_DIGITS_USESUM9][1] / (double)B - 0.045) < 0.012, "tens UseSum9 share %.3f, want 0.045",
          count[GROK_DIGITS_USESUM9][1] / (double)B);
    /* bad rows */
    d.tokens[18 + 5] = 3;
    CHECK(grok_digits_columns(cols, d.tokens, B, N) == GROK_ERR_ARG && strstr(grok_last_error(), "row 1"),
          "a row without '+' is refused (%s)", grok_last_error());
    d.tokens[18 + 5] = 10;
    d.tokens[2] = 12;
    CHECK(grok_digits_columns(cols, d.tokens, B, N) == GROK_ERR_ARG, "a token 12 in x is refused");
    CHECK(grok_digits_columns(cols, d.tokens, B, 0) == GROK_ERR_ARG && grok_digits_columns(NULL, d.tokens, B, N) == GROK_ERR_ARG,
          "bad n_digits / NULL refused");
    grok_data_free(&d);
}

/* The seed's get_pred_log_probs for row b, answer token j, in long double. */
static long double seed_logprob(const float *logits, const int *tokens, int b, int j, int n, int V)
{
    int T = 3 * n + 3, pos = T - (n + 2) + j, ans = tokens[b * T + T - (n + 1) + j];
    const float *lg = logits + ((long)b * T + pos) * V;
    long double mx = lg[0], s = 0;
    for (int k = 1; k < V; k++) if (lg[k] > mx) mx = lg[k];
    for (int k = 0; k < V; k++) s += expl((long double)lg[k] - mx);
    return (long double)lg[ans] - mx - logl(s);
}

static int close_or_both_nan(double a, long double b, double tol)
{
    if (isnan(a) || isnan((double)b)) return isnan(a) && isnan((double)b);
    return fabsl((long double)a - b) <= tol * (1 + fabsl(b));
}

/* grok_digits_losses against the seed's calculate_* functions written out by hand. */
static void check_losses_by_hand(const char *what, const float *logits, int V, const int *tokens, int B, int n)
{
    grok_digits_stats s;
    grok_digits_column *cols = (grok_digits_column *)malloc(sizeof *cols * (size_t)B * n);
    long double *lp = (long double *)malloc(sizeof *lp * (size_t)B * (n + 1)), all = 0;
    int bad = 0;
    CHECK(grok_digits_losses(&s, logits, V, tokens, B, n) == GROK_OK, "%s: losses", what);
    grok_digits_columns(cols, tokens, B, n);
    for (int b = 0; b < B; b++)
        for (int j = 0; j <= n; j++) { lp[b * (n + 1) + j] = seed_logprob(logits, tokens, b, j, n, V); all += lp[b * (n + 1) + j]; }
    CHECK(close_or_both_nan(s.loss, -all / ((long double)B * (n + 1)), 1e-12), "%s: loss %.15g", what, s.loss);
    for (int j = 0; j <= n; j++) { /* loss_fn: -pred_log_probs.mean(0) */
        long double t = 0;
        for (int b = 0; b < B; b++) t += lp[b * (n + 1) + j];
        if (!close_or_both_nan(s.token[j], -t / B, 1e-12)) bad++;
    }
    CHECK(bad == 0, "%s: %d per-token losses differ from the seed's", what, bad);
    bad = 0;
    for (int dn = 0; dn < n; dn++) { /* calculate_*_loss per digit: per_token_losses[:, -1-digit_num] */
        for (int k = 0; k < 3; k++) {
            long double sum = 0;
            long cases = 0;
            for (int b = 0; b < B; b++) {
                const grok_digits_column *c = &cols[b * n + dn];
                int in = k == 0 ? !c->use_carry : k == 1 ? (c->use_carry && c->base_add != 9) : (c->use_carry && c->base_add == 9);
                if (in) { sum += lp[b * (n + 1) + (n + 1) - 1 - dn]; cases++; }
            }
            if (s.column_count[k][dn] != cases || !close_or_both_nan(s.column[k][dn], cases ? -sum / cases : NAN, 1e-12)) bad++;
        }
    }
    CHECK(bad == 0, "%s: %d per-digit sub-task losses differ from the seed's", what, bad);
    { /* the whole-row curves */
        long double ba = 0, uc = 0, us1 = 0, us2 = 0;
        long nba = 0, nuc = 0, nus1 = 0, nus2 = 0;
        for (int b = 0; b < B; b++) {
            int carries = 0, sum9s = 0;
            long double last_n = 0, every = 0;
            for (int dn = 0; dn < n; dn++) {
                carries += cols[b * n + dn].use_carry;
                sum9s += cols[b * n + dn].use_carry && cols[b * n + dn].base_add == 9;
            }
            for (int j = 0; j <= n; j++) { every += lp[b * (n + 1) + j]; if (j >= 1) last_n += lp[b * (n + 1) + j]; }
            if (!carries) { ba += last_n; nba++; }
            if (carries && !sum9s) { uc += every; nuc++; }
            if (sum9s == 1) { us1 += every; nus1++; }
            if (sum9s == 2) { us2 += every; nus2++; }
        }
        CHECK(s.baseadd_all_count == nba && close_or_both_nan(s.baseadd_all, nba ? -ba / nba / n : NAN, 1e-12),
              "%s: baseadd_all %.12g over %d rows", what, s.baseadd_all, s.baseadd_all_count);
        CHECK(s.usecarry1_any_count == nuc && close_or_both_nan(s.usecarry1_any, nuc ? -uc / (nuc * (n + 1.0L)) : NAN, 1e-12),
              "%s: usecarry1_any %.12g over %d rows", what, s.usecarry1_any, s.usecarry1_any_count);
        CHECK(s.usesum9_one_count == nus1 && close_or_both_nan(s.usesum9_one, nus1 ? -us1 / (nus1 * (n + 1.0L)) : NAN, 1e-12) &&
              s.usesum9_two_count == nus2 && close_or_both_nan(s.usesum9_two, nus2 ? -us2 / (nus2 * (n + 1.0L)) : NAN, 1e-12),
              "%s: usesum9 one %.12g (%d rows), two %.12g (%d rows)", what, s.usesum9_one, s.usesum9_one_count, s.usesum9_two,
              s.usesum9_two_count);
    }
    { /* accuracy: argmax (first on a tie) against the answer */
        long right[GROK_DIGITS_MAX + 1] = {0}, rows = 0;
        int T = 3 * n + 3;
        for (int b = 0; b < B; b++) {
            int all_right = 1;
            for (int j = 0; j <= n; j++) {
                const float *lg = logits + ((long)b * T + 2 * n + 1 + j) * V;
                int arg = 0;
                for (int k = 1; k < V; k++) if (lg[k] > lg[arg]) arg = k;
                if (arg == tokens[b * T + 2 * n + 2 + j]) right[j]++; else all_right = 0;
            }
            rows += all_right;
        }
        bad = 0;
        for (int j = 0; j <= n; j++) if (s.token_acc[j] != (double)right[j] / B) bad++;
        CHECK(bad == 0 && s.row_acc == (double)rows / B, "%s: accuracies (%d tokens differ, row %.4f vs %.4f)", what, bad,
              s.row_acc, (double)rows / B);
    }
    free(cols);
    free(lp);
}

static void test_losses(void)
{
    enum { B = 512, N = 5, T = 3 * N + 3, V = 12 };
    grok_data d;
    grok_rng rng;
    float *logits = (float *)malloc(sizeof(float) * B * T * V);
    grok_digits_stats s;
    memset(&d, 0, sizeof d);
    grok_rng_seed(&rng, 11);
    grok_task_digits(&d, N, B, &rng);
    /* random logits, sharpened towards the answer on some tokens so that the losses vary */
    for (int i = 0; i < B * T * V; i++) logits[i] = (float)(4 * urand() - 2);
    for (int b = 0; b < B; b++)
        for (int t = 2 * N + 1; t < T - 1; t++)
            if (urand() < 0.5) logits[(b * T + t) * V + d.tokens[b * T + t + 1]] += 5.0f;
    check_losses_by_hand("random logits, 5 digits", logits, V, d.tokens, B, N);
    CHECK(grok_digits_losses(&s, logits, V, d.tokens, B, N) == GROK_OK && s.usesum9_two_count > 0 && s.baseadd_all_count > 0 &&
              s.usecarry1_any_count > 0 && s.usesum9_one_count > 0, "every whole-row class occurs in 512 rows");
    /* a class without a case is NAN with count 0: two rows 00000+00000 have no carry at all */
    {
        int two[2 * T];
        for (int t = 0; t < 2 * T; t++) two[t] = 0;
        two[N] = two[T + N] = 10;
        two[2 * N + 1] = two[T + 2 * N + 1] = 11;
        CHECK(grok_digits_losses(&s, logits, V, two, 2, N) == GROK_OK && s.baseadd_all_count == 2 && isnan(s.usecarry1_any) &&
                  s.usecarry1_any_count == 0 && isnan(s.column[GROK_DIGITS_USESUM9][3]) && s.column_count[GROK_DIGITS_BASEADD][4] == 2,
              "empty classes are NAN");
        check_losses_by_hand("no carries", logits, V, two, 2, N);
        two[2 * N + 3] = 10; /* a '+' in the answer */
        CHECK(grok_digits_losses(&s, logits, V, two, 2, N) == GROK_ERR_ARG, "a non-digit answer is refused");
    }
    CHECK(grok_digits_losses(&s, logits, 9, d.tokens, B, N) == GROK_ERR_ARG, "V = 9 refused");
    CHECK(grok_digits_losses(&s, NULL, V, d.tokens, B, N) == GROK_ERR_ARG, "NULL logits refused");
    /* two digits with V = 10 (a d_vocab_out without '+' and '=') and one digit */
    {
        grok_data e;
        memset(&e, 0, sizeof e);
        grok_task_digits(&e, 2, 64, &rng);
        check_losses_by_hand("random logits, 2 digits, V 10", logits, 10, e.tokens, 64, 2);
        grok_data_free(&e);
        grok_task_digits(&e, 1, 64, &rng);
        check_losses_by_hand("random logits, 1 digit", logits, 12, e.tokens, 64, 1);
        grok_data_free(&e);
    }
    free(logits);
    grok_data_free(&d);
}

static grok_config small_config(int n)
{
    grok_config c = grok_digits_config(n, 0);
    c.d_model = 64; c.d_head = 16; c.d_mlp = 256;
    c.init_range = 1.0 / 8.0;
    return c;
}

/* The targets the generator sets make grok_model_forward's loss the seed's loss. */
static void test_model_loss(void)
{
    enum { B = 48, N = 4, T = 3 * N + 3 };
    for (int ln = 0; ln < 2; ln++) {
        grok_config c = small_config(N);
        grok_model m;
        grok_data d;
        grok_rng rng;
        grok_digits_stats s;
        double loss = 0, loss_trim = 0, acc = 0;
        float *logits = (float *)malloc(sizeof(float) * B * T * 12);
        c.normalization = ln ? GROK_NORM_LN : GROK_NORM_NONE;
        memset(&d, 0, sizeof d);
        grok_rng_seed(&rng, 5);
        grok_task_digits(&d, N, B, &rng);
        if (grok_model_init(&m, &c, B) != GROK_OK) { CHECK(0, "init"); free(logits); continue; }
        CHECK(grok_model_forward(&m, d.tokens, d.targets, B, &loss, &acc, logits) == GROK_OK &&
                  grok_model_forward(&m, d.tokens, d.targets, B, &loss_trim, NULL, NULL) == GROK_OK,
              "forward");
        CHECK(grok_digits_losses(&s, logits, 12, d.tokens, B, N) == GROK_OK, "losses");
        CHECK(fabs(s.loss - loss) < 1e-9 * loss && fabs(loss_trim - loss) < 1e-6 * loss,
              "LN %d: model loss %.12g (trimmed %.12g) vs seed loss from logits %.12g", ln, loss, loss_trim, s.loss);
        {
            double acc_tokens = 0;
            for (int j = 0; j <= N; j++) acc_tokens += s.token_acc[j];
            CHECK(fabs(acc - acc_tokens / (N + 1)) < 1e-12, "model accuracy %.6f vs per-token %.6f", acc, acc_tokens / (N + 1));
        }
        check_losses_by_hand(ln ? "model logits, LN" : "model logits", logits, 12, d.tokens, B, N);
        free(logits);
        grok_model_free(&m);
        grok_data_free(&d);
    }
}

static void test_string(void)
{
    /* seed 002: "7 7 4 2 6 10 1 7 6 1 1 11 0 9 5 0 3 7 should be read 77426 + 17611 = 095037" */
    static const int seed_tokens[18] = {7, 7, 4, 2, 6, 10, 1, 7, 6, 1, 1, 11, 0, 9, 5, 0, 3, 7};
    float logits[18 * 12];
    char buf[64];
    CHECK(grok_digits_string(buf, sizeof buf, seed_tokens, NULL, 0, 5) == GROK_OK && !strcmp(buf, "  77426\n +17611\n=095037"),
          "seed example: '%s'", buf);
    /* the answer from logits: position 11+j predicts answer digit j; 9 6 4 2 4 and a '+' */
    memset(logits, 0, sizeof logits);
    {
        static const int pred[6] = {9, 6, 4, 2, 4, 10};
        for (int j = 0; j < 6; j++) logits[(11 + j) * 12 + pred[j]] = 1.0f;
        logits[(12 + 5) * 12 + 3] = 7.0f; /* the last position predicts nothing: ignored */
        logits[(11 + 2) * 12 + 8] = 1.0f; /* a tie at digit 2: the first (4) wins */
    }
    CHECK(grok_digits_string(buf, sizeof buf, seed_tokens, logits, 12, 5) == GROK_OK && !strcmp(buf, "  77426\n +17611\n=96424+"),
          "prediction string '%s'", buf);
    CHECK(grok_digits_string(buf, 24, seed_tokens, NULL, 0, 5) == GROK_OK && strlen(buf) == 23, "3n+9 bytes suffice");
    CHECK(grok_digits_string(buf, 23, seed_tokens, NULL, 0, 5) == GROK_ERR_ARG, "3n+8 bytes are refused");
    CHECK(grok_digits_string(buf, sizeof buf, seed_tokens, NULL, 0, 4) == GROK_ERR_ARG, "a row of another n is refused");
    {
        int one[6] = {3, 10, 9, 11, 1, 2};
        CHECK(grok_digits_string(buf, sizeof buf, one, NULL, 0, 1) == GROK_OK && !strcmp(buf, "  3\n +9\n=12"), "one digit: '%s'", buf);
    }
}

static void test_config(void)
{
    grok_config c = grok_digits_config(5, 0), l = grok_digits_config(5, 1), z = grok_digits_config(0, 0);
    grok_adamw o = grok_digits_adamw();
    grok_model m;
    CHECK(c.n_layers == 1 && c.n_heads == 4 && c.d_model == 512 && c.d_head == 128 && c.d_mlp == 2048 && c.d_vocab == 12 &&
              c.d_vocab_out == 12 && c.n_ctx == 18 && c.act_fn == GROK_ACT_RELU && c.normalization == GROK_NORM_NONE &&
              c.seed == 129000 && c.train_biases == 1,
          "seed 002's config");
    CHECK(l.normalization == GROK_NORM_LN && grok_digits_config(3, 0).n_ctx == 12, "LN option, n_ctx 3n+3");
    CHECK(z.n_ctx == 0 && grok_model_init(&m, &z, 4) == GROK_ERR_ARG, "n_digits 0 gives a config grok_model_init refuses");
    CHECK(o.lr == 1e-4 && o.weight_decay == 0.1 && o.beta1 == 0.9 && o.beta2 == 0.98 && o.eps == 1e-8 && o.lr_schedule,
          "seed 002's AdamW");
    if (o.lr_schedule)
        CHECK(o.lr_schedule(0, NULL) == 0.0 && o.lr_schedule(5, NULL) == 0.5 && o.lr_schedule(10, NULL) == 1.0 &&
                  o.lr_schedule(3000, NULL) == 1.0,
              "warm-up min(step/10, 1)");
}

/* A 3-digit model (d_model 64) trained on fresh batches: the loss falls well below its start,
   and no training step allocates. */
static void test_short_run(void)
{
    enum { N = 3, B = 64 };
    const int STEPS = quick() ? 200 : 400; /* GROK_TEST_QUICK=1: make test-valgrind */
    grok_config c = small_config(N);
    grok_model m;
    grok_data batch, eval;
    grok_rng rng, eval_rng;
    grok_digits_stats s0, s1;
    float *logits = (float *)malloc(sizeof(float) * 256 * (3 * N + 3) * 12);
    double loss = 0, first = 0, last = 0;
    long allocs = 0;
    int st = GROK_OK;
    memset(&batch, 0, sizeof batch);
    memset(&eval, 0, sizeof eval);
    grok_rng_seed(&rng, 1);
    grok_rng_seed(&eval_rng, 2);
    grok_task_digits(&eval, N, 256, &eval_rng);
    if (grok_model_init(&m, &c, 256) != GROK_OK) { CHECK(0, "init"); free(logits); return; }
    m.opt = grok_digits_adamw();
    m.opt.lr = 3e-3; /* the seed's 1e-4 is for its 512-wide model and 3000 steps */
    grok_model_forward(&m, eval.tokens, eval.targets, 256, NULL, NULL, logits);
    grok_digits_losses(&s0, logits, 12, eval.tokens, 256, N);
    for (int step = 0; step < STEPS && st == GROK_OK; step++) {
        long before = n_mallocs;
        st = grok_task_digits(&batch, N, B, &rng);
        if (st == GROK_OK) { grok_model_zero_grad(&m); st = grok_model_forward(&m, batch.tokens, batch.targets, B, &loss, NULL, NULL); }
        if (st == GROK_OK) st = grok_model_backward(&m);
        if (st == GROK_OK) st = grok_model_adamw_step(&m);
        if (step > 0) allocs += n_mallocs - before; /* step 0 allocates the batch */
        if (step < 10) first += loss / 10;
        if (step >= STEPS - 10) last += loss / 10;
    }
    CHECK(st == GROK_OK, "training");
    CHECK(allocs == 0, "%ld allocations in %d training steps", allocs, STEPS - 1);
    grok_model_forward(&m, eval.tokens, eval.targets, 256, NULL, NULL, logits);
    grok_digits_losses(&s1, logits, 12, eval.tokens, 256, N);
    printf("3-digit model (d_model 64), %d steps of 64 fresh questions: train loss %.3f -> %.3f; held-out loss %.3f -> %.3f, "
           "row accuracy %.3f -> %.3f; units %.3f, leading digit %.3f\n",
           STEPS, first, last, s0.loss, s1.loss, s0.row_acc, s1.row_acc, s1.token[N], s1.token[0]);
    CHECK(last < 0.5 * first && s1.loss < 0.5 * s0.loss, "loss falls well below its start: train %.3f -> %.3f, held-out %.3f -> %.3f",
          first, last, s0.loss, s1.loss);
    free(logits);
    grok_model_free(&m);
    grok_data_free(&batch);
    grok_data_free(&eval);
}

int main(void)
{
    test_generator();
    test_generator_reuse();
    test_subtasks();
    test_losses();
    test_model_loss();
    test_string();
    test_config();
    test_short_run();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
