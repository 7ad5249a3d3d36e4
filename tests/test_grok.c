/* Unit tests for grok.h. Each CHECK counts; the last line is "N passed, N failed" and the
   exit status is nonzero when anything failed. */
#define GROK_IMPLEMENTATION
#include "../grok.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* ------------------------------------------------ double-precision reference model */
/* An independent, deliberately plain implementation of the same transformer
   (TransformerLens' formulas) in double, over a double copy of the weights laid out
   like grok_model.weights. Used for the forward check and the finite differences. */

static const double *ref_p(const grok_model *m, const double *w, const char *fmt, int l)
{
    char name[64];
    const grok_param *p;
    snprintf(name, sizeof name, fmt, l);
    p = grok_model_param(m, name);
    if (!p) { printf("reference: no parameter %s\n", name); exit(2); }
    return w + p->offset;
}

static void ref_ln(double *out, const double *x, const double *w, const double *b, int C, double eps)
{
    double mean = 0, var = 0;
    int c;
    for (c = 0; c < C; c++) mean += x[c];
    mean /= C;
    for (c = 0; c < C; c++) var += (x[c] - mean) * (x[c] - mean);
    var /= C;
    for (c = 0; c < C; c++) out[c] = (x[c] - mean) / sqrt(var + eps) * w[c] + b[c];
}

static double ref_loss(const grok_model *m, const double *w, const int *tokens, const int *targets, int B,
                       double *logits_out)
{
    const grok_config *cf = &m->cfg;
    int T = cf->n_ctx, C = cf->d_model, H = cf->n_heads, D = cf->d_head, M = cf->d_mlp, V = cf->d_vocab_out;
    int R = B * T, ln = cf->normalization == GROK_NORM_LN, l, r, b, t, u, h, d, c, k, count = 0;
    double *resid = (double *)calloc((size_t)R * C, sizeof(double));
    double *x = (double *)calloc((size_t)R * C, sizeof(double));
    double *q = (double *)calloc((size_t)R * H * D, sizeof(double));
    double *kk = (double *)calloc((size_t)R * H * D, sizeof(double));
    double *v = (double *)calloc((size_t)R * H * D, sizeof(double));
    double *z = (double *)calloc((size_t)R * H * D, sizeof(double));
    double *hid = (double *)calloc((size_t)M, sizeof(double));
    double *logit = (double *)calloc((size_t)V, sizeof(double));
    double loss = 0;
    const double *W_E = ref_p(m, w, "embed.W_E", 0), *W_pos = ref_p(m, w, "pos_embed.W_pos", 0);
    for (r = 0; r < R; r++)
        for (c = 0; c < C; c++) resid[r * C + c] = W_E[tokens[r] * C + c] + W_pos[(r % T) * C + c];
    for (l = 0; l < cf->n_layers; l++) {
        const double *W_Q = ref_p(m, w, "blocks.%d.attn.W_Q", l), *W_K = ref_p(m, w, "blocks.%d.attn.W_K", l);
        const double *W_V = ref_p(m, w, "blocks.%d.attn.W_V", l), *W_O = ref_p(m, w, "blocks.%d.attn.W_O", l);
        const double *b_Q = ref_p(m, w, "blocks.%d.attn.b_Q", l), *b_K = ref_p(m, w, "blocks.%d.attn.b_K", l);
        const double *b_V = ref_p(m, w, "blocks.%d.attn.b_V", l), *b_O = ref_p(m, w, "blocks.%d.attn.b_O", l);
        const double *W_in = ref_p(m, w, "blocks.%d.mlp.W_in", l), *b_in = ref_p(m, w, "blocks.%d.mlp.b_in", l);
        const double *W_out = ref_p(m, w, "blocks.%d.mlp.W_out", l), *b_out = ref_p(m, w, "blocks.%d.mlp.b_out", l);
        for (r = 0; r < R; r++) {
            if (ln) ref_ln(x + r * C, resid + r * C, ref_p(m, w, "blocks.%d.ln1.w", l), ref_p(m, w, "blocks.%d.ln1.b", l), C, cf->ln_eps);
            else memcpy(x + r * C, resid + r * C, sizeof(double) * C);
        }
        for (r = 0; r < R; r++)
            for (h = 0; h < H; h++)
                for (d = 0; d < D; d++) {
                    double sq = b_Q[h * D + d], sk = b_K[h * D + d], sv = b_V[h * D + d];
                    for (c = 0; c < C; c++) {
                        sq += x[r * C + c] * W_Q[(h * C + c) * D + d];
                        sk += x[r * C + c] * W_K[(h * C + c) * D + d];
                        sv += x[r * C + c] * W_V[(h * C + c) * D + d];
                    }
                    q[(r * H + h) * D + d] = sq; kk[(r * H + h) * D + d] = sk; v[(r * H + h) * D + d] = sv;
                }
        for (b = 0; b < B; b++)
            for (h = 0; h < H; h++)
                for (t = 0; t < T; t++) {
                    double s[64], mx = -1e300, sum = 0;
                    for (u = 0; u <= t; u++) {
                        double dot = 0;
                        for (d = 0; d < D; d++) dot += q[((b * T + t) * H + h) * D + d] * kk[((b * T + u) * H + h) * D + d];
                        s[u] = dot / sqrt((double)D);
                        if (s[u] > mx) mx = s[u];
                    }
                    for (u = 0; u <= t; u++) { s[u] = exp(s[u] - mx); sum += s[u]; }
                    for (d = 0; d < D; d++) {
                        double acc = 0;
                        for (u = 0; u <= t; u++) acc += s[u] / sum * v[((b * T + u) * H + h) * D + d];
                        z[((b * T + t) * H + h) * D + d] = acc;
                    }
                }
        for (r = 0; r < R; r++)
            for (c = 0; c < C; c++) {
                double o = b_O[c];
                for (h = 0; h < H; h++)
                    for (d = 0; d < D; d++) o += z[(r * H + h) * D + d] * W_O[(h * D + d) * C + c];
                x[r * C + c] = o;
            }
        for (r = 0; r < R * C; r++) resid[r] += x[r];
        for (r = 0; r < R; r++) {
            double xn[256];
            if (ln) ref_ln(xn, resid + r * C, ref_p(m, w, "blocks.%d.ln2.w", l), ref_p(m, w, "blocks.%d.ln2.b", l), C, cf->ln_eps);
            else memcpy(xn, resid + r * C, sizeof(double) * C);
            for (k = 0; k < M; k++) {
                double s = b_in[k];
                for (c = 0; c < C; c++) s += xn[c] * W_in[c * M + k];
                hid[k] = cf->act_fn == GROK_ACT_RELU ? (s > 0 ? s : 0) : 0.5 * s * (1 + erf(s / sqrt(2.0)));
            }
            for (c = 0; c < C; c++) {
                double s = b_out[c];
                for (k = 0; k < M; k++) s += hid[k] * W_out[k * C + c];
                x[r * C + c] = s;
            }
        }
        for (r = 0; r < R * C; r++) resid[r] += x[r];
    }
    for (r = 0; r < R; r++) {
        double xn[256], mx = -1e300, sum = 0;
        const double *W_U = ref_p(m, w, "unembed.W_U", 0), *b_U = ref_p(m, w, "unembed.b_U", 0);
        if (ln) ref_ln(xn, resid + r * C, ref_p(m, w, "ln_final.w", 0), ref_p(m, w, "ln_final.b", 0), C, cf->ln_eps);
        else memcpy(xn, resid + r * C, sizeof(double) * C);
        for (k = 0; k < V; k++) {
            double s = b_U[k];
            for (c = 0; c < C; c++) s += xn[c] * W_U[c * V + k];
            logit[k] = s;
            if (logits_out) logits_out[r * V + k] = s;
            if (s > mx) mx = s;
        }
        if (targets[r] < 0) continue;
        for (k = 0; k < V; k++) sum += exp(logit[k] - mx);
        loss += mx + log(sum) - logit[targets[r]];
        count++;
    }
    free(resid); free(x); free(q); free(kk); free(v); free(z); free(hid); free(logit);
    return loss / count;
}

/* ------------------------------------------------------------------ tests */

static grok_config small_config(int ln, grok_act act)
{
    grok_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = 2; c.n_heads = 2; c.d_model = 8; c.d_head = 4; c.d_mlp = 16;
    c.d_vocab = 7; c.d_vocab_out = 5; c.n_ctx = 4; c.act_fn = act;
    c.normalization = ln ? GROK_NORM_LN : GROK_NORM_NONE; c.seed = 5; c.train_biases = 1;
    return c;
}

/* Random weights everywhere (biases and LN too) so that every gradient is exercised. */
static void randomise(grok_model *m, uint64_t seed)
{
    grok_rng r;
    size_t i;
    grok_rng_seed(&r, seed);
    for (i = 0; i < m->num_parameters; i++) m->weights[i] = (float)(0.5 * grok_rng_normal(&r));
}

static void test_gradients(int ln, grok_act act)
{
    grok_config cfg = small_config(ln, act);
    grok_model m;
    const int B = 3;
    int tokens[12] = {1, 6, 2, 0, 3, 3, 5, 6, 4, 0, 1, 2};
    int targets[12] = {-1, 2, -1, 4, 0, -1, -1, 1, 3, 3, 2, -1};
    double loss, acc, worst = 0, ref;
    double *w;
    float logits[12 * 5];
    double rlogits[12 * 5], lerr = 0, lscale = 0;
    int i, st;
    size_t j;
    st = grok_model_init(&m, &cfg, B);
    CHECK(st == GROK_OK, "init: %s", grok_last_error());
    if (st) return;
    randomise(&m, 77 + ln * 2 + (int)act);
    grok_model_zero_grad(&m);
    CHECK(grok_model_forward(&m, tokens, targets, B, &loss, &acc, logits) == GROK_OK, "forward: %s", grok_last_error());
    CHECK(grok_model_backward(&m) == GROK_OK, "backward: %s", grok_last_error());
    w = (double *)malloc(sizeof(double) * m.num_parameters);
    for (j = 0; j < m.num_parameters; j++) w[j] = m.weights[j];
    ref = ref_loss(&m, w, tokens, targets, B, rlogits);
    for (i = 0; i < 12 * 5; i++) if (fabs(logits[i] - rlogits[i]) > lerr) lerr = fabs(logits[i] - rlogits[i]);
    for (i = 0; i < 12 * 5; i++) if (fabs(rlogits[i]) > lscale) lscale = fabs(rlogits[i]);
    CHECK(fabs(loss - ref) <= 1e-5 * fabs(ref), "ln=%d act=%d: loss %.9g vs double reference %.9g", ln, (int)act, loss, ref);
    CHECK(lerr <= 1e-5 * lscale, "ln=%d act=%d: logits differ from the double reference by %g (scale %g)", ln, (int)act, lerr, lscale);
    for (i = 0; i < m.n_params; i++) {
        const grok_param *p = &m.params[i];
        double scale = 0, err = 0;
        size_t k, n = p->numel < 24 ? p->numel : 24;
        double fd[24];
        const float *g = m.grads + p->offset;
        for (k = 0; k < n; k++) {
            size_t e = p->offset + k * p->numel / n;
            double save = w[e], h = 1e-5, up, down;
            w[e] = save + h; up = ref_loss(&m, w, tokens, targets, B, NULL);
            w[e] = save - h; down = ref_loss(&m, w, tokens, targets, B, NULL);
            w[e] = save;
            fd[k] = (up - down) / (2 * h);
            if (fabs(fd[k]) > scale) scale = fabs(fd[k]);
        }
        /* Errors are relative to the tensor's largest gradient, floored at 0.1 (the model's
           gradients are O(1) here) because b_K's true gradient is 0: a bias on keys adds the same
           q.b_K to every score of a query, which the softmax ignores. */
        for (k = 0; k < n; k++) {
            double e = fabs(g[k * p->numel / n] - fd[k]) / (scale > 0.1 ? scale : 0.1);
            if (e > err) err = e;
        }
        if (err > worst) worst = err;
        if (getenv("GROK_TEST_VERBOSE")) printf("  %-24s err %.2e scale %.2e\n", p->name, err, scale);
        CHECK(err <= 1e-4, "ln=%d act=%d %s: max relative gradient error %.3g (scale %.3g)", ln, (int)act, p->name, err, scale);
    }
    printf("gradient check ln=%d act=%s: %d tensors, max relative error %.2e, loss diff %.1e\n", ln,
           act == GROK_ACT_RELU ? "relu" : "gelu", m.n_params, worst, fabs(loss - ref));
    free(w);
    grok_model_free(&m);
}

/* The one-layer fast path (trimmed with LayerNorm, folded without) against the general
   all-positions path: same loss, same logits at target positions, same accuracy, every gradient
   equal to float32 rounding. */
static void test_one_layer_paths(int ln, grok_act act)
{
    grok_path fast = ln ? GROK_PATH_TRIMMED : GROK_PATH_FOLDED;
    grok_config cfg = small_config(ln, act);
    grok_model m;
    enum { B = 5, T = 4 };
    int tokens[B * T], targets[B * T], i, r, q, st;
    double lt, at, lg, ag, worst = 0, lworst = 0;
    float *grads_trim, logits[B * T * 5];
    cfg.n_layers = 1;
    st = grok_model_init(&m, &cfg, B);
    CHECK(st == GROK_OK, "init: %s", grok_last_error());
    if (st) return;
    randomise(&m, 11 + ln);
    for (i = 0; i < B * T; i++) {
        tokens[i] = (i * 5 + 3) % 7;
        targets[i] = (i % 3 == 1 || i % T == T - 1) ? (i * 3) % 5 : -1; /* 1 to 3 targets per row */
    }
    grads_trim = (float *)malloc(sizeof(float) * m.num_parameters);
    grok_model_zero_grad(&m);
    CHECK(grok_model_forward(&m, tokens, targets, B, &lt, &at, NULL) == GROK_OK && grok_model_path(&m) == fast,
          "ln=%d: %s forward taken (took %s)", ln, grok_path_name(fast), grok_path_name(grok_model_path(&m)));
    grok_model_backward(&m);
    memcpy(grads_trim, m.grads, sizeof(float) * m.num_parameters);
    grok_model_zero_grad(&m);
    CHECK(grok_model_forward(&m, tokens, targets, B, &lg, &ag, logits) == GROK_OK && grok_model_path(&m) == GROK_PATH_GENERAL,
          "general forward taken with logits_out (took %s)", grok_path_name(grok_model_path(&m)));
    grok_model_backward(&m);
    CHECK(fabs(lt - lg) <= 1e-6 * fabs(lg) && at == ag, "ln=%d act=%d: %s loss %.9g acc %.3f, general %.9g %.3f", ln, (int)act,
          grok_path_name(fast), lt, at, lg, ag);
    /* logits of target rows: the trimmed and folded forwards keep them compacted in query order */
    grok_model_forward(&m, tokens, targets, B, NULL, NULL, NULL);
    for (r = 0, q = 0; r < B * T; r++) {
        if (targets[r] < 0) continue;
        for (i = 0; i < 5; i++) {
            double d = fabs(m.acts->logits[q * 5 + i] - logits[r * 5 + i]);
            if (d > lworst) lworst = d;
        }
        q++;
    }
    CHECK(lworst <= 1e-5, "ln=%d act=%d: %s logits differ by %g", ln, (int)act, grok_path_name(fast), lworst);
    for (i = 0; i < m.n_params; i++) {
        const grok_param *p = &m.params[i];
        double scale = 0, err = 0;
        size_t k;
        for (k = 0; k < p->numel; k++) if (fabs(m.grads[p->offset + k]) > scale) scale = fabs(m.grads[p->offset + k]);
        for (k = 0; k < p->numel; k++) {
            double e = fabs(m.grads[p->offset + k] - grads_trim[p->offset + k]) / (scale > 0.1 ? scale : 0.1);
            if (e > err) err = e;
        }
        if (err > worst) worst = err;
        CHECK(err <= 1e-5, "ln=%d act=%d %s: %s gradient differs by %.3g (scale %.3g)", ln, (int)act, p->name,
              grok_path_name(fast), err, scale);
    }
    printf("%s vs general ln=%d act=%s: loss diff %.1e, max gradient difference %.2e\n", grok_path_name(fast), ln,
           act == GROK_ACT_RELU ? "relu" : "gelu", fabs(lt - lg), worst);
    free(grads_trim);
    grok_model_free(&m);
}

static int count_hook(grok_tensor *act, const char *name, void *ctx)
{
    (void)act; (void)name;
    ++*(int *)ctx;
    return GROK_OK;
}

/* grok_model_forward's choice of path, case by case, as grok_path's comment states the rule. */
static void test_path_choice(void)
{
    static const struct { int layers, ln, targets, logits, hook, force; grok_path want; const char *what; } cases[] = {
        {1, 0, 1, 0, 0, 0, GROK_PATH_FOLDED, "one layer, no LayerNorm, targets"},
        {1, 1, 1, 0, 0, 0, GROK_PATH_TRIMMED, "one layer, LayerNorm, targets"},
        {2, 0, 1, 0, 0, 0, GROK_PATH_GENERAL, "two layers"},
        {1, 0, 0, 0, 0, 0, GROK_PATH_GENERAL, "no targets"},
        {1, 1, 1, 1, 0, 0, GROK_PATH_GENERAL, "logits_out"},
        {1, 0, 1, 0, 1, 0, GROK_PATH_GENERAL, "a hook"},
        {1, 1, 1, 0, 0, 1, GROK_PATH_GENERAL, "general_path = 1"},
    };
    enum { B = 3, T = 4 };
    int tokens[B * T], targets[B * T], i, c;
    float logits[B * T * 5];
    for (i = 0; i < B * T; i++) { tokens[i] = (i * 5 + 3) % 7; targets[i] = i % T == T - 1 ? i % 5 : -1; }
    for (c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        grok_config cfg = small_config(cases[c].ln, GROK_ACT_RELU);
        grok_model m;
        int calls = 0, st;
        cfg.n_layers = cases[c].layers;
        if (grok_model_init(&m, &cfg, B) != GROK_OK) { CHECK(0, "init: %s", grok_last_error()); continue; }
        m.general_path = cases[c].force;
        if (cases[c].hook) grok_model_add_hook(&m, "hook_embed", count_hook, &calls);
        st = grok_model_forward(&m, tokens, cases[c].targets ? targets : NULL, B, NULL, NULL, cases[c].logits ? logits : NULL);
        CHECK(st == GROK_OK && grok_model_path(&m) == cases[c].want && calls == cases[c].hook, "%s: took %s, want %s",
              cases[c].what, grok_path_name(grok_model_path(&m)), grok_path_name(cases[c].want));
        printf("path: %-36s -> %s\n", cases[c].what, grok_path_name(grok_model_path(&m)));
        grok_model_free(&m);
    }
}

/* Values of PyTorch's AdamW written out by hand in double for one element. */
static void test_adamw(void)
{
    grok_config cfg = small_config(0, GROK_ACT_RELU);
    grok_model m;
    const grok_param *wu, *bu;
    double p = 0.3, mm = 0, vv = 0, lr = 0.01, wd = 0.5, b1 = 0.9, b2 = 0.98, eps = 1e-8;
    float bias_before;
    int s;
    cfg.train_biases = 0;
    if (grok_model_init(&m, &cfg, 1) != GROK_OK) { CHECK(0, "init"); return; }
    wu = grok_model_param(&m, "unembed.W_U");
    bu = grok_model_param(&m, "unembed.b_U");
    CHECK(wu && bu && wu->trainable && !bu->trainable, "biases frozen by default");
    m.opt.lr = lr; m.opt.weight_decay = wd; m.opt.beta1 = b1; m.opt.beta2 = b2; m.opt.eps = eps;
    m.weights[wu->offset] = (float)p;
    m.weights[bu->offset] = 0.25f;
    bias_before = m.weights[bu->offset];
    for (s = 1; s <= 4; s++) {
        double g = 0.1 * s - 0.25, bc1 = 1 - pow(b1, s), bc2 = 1 - pow(b2, s);
        grok_model_zero_grad(&m);
        m.grads[wu->offset] = (float)g;
        m.grads[bu->offset] = 1.0f;
        CHECK(grok_model_adamw_step(&m) == GROK_OK, "adamw step");
        p *= 1 - lr * wd;
        mm = b1 * mm + (1 - b1) * g;
        vv = b2 * vv + (1 - b2) * g * g;
        p -= lr / bc1 * mm / (sqrt(vv) / sqrt(bc2) + eps);
        CHECK(fabs(m.weights[wu->offset] - p) <= 1e-6 * fabs(p) + 1e-9, "adamw step %d: %.9g, by hand %.9g", s, m.weights[wu->offset], p);
        CHECK(fabs(m.adam_m[wu->offset] - mm) <= 1e-6 * fabs(mm) + 1e-9, "adamw m step %d", s);
        CHECK(fabs(m.adam_v[wu->offset] - vv) <= 1e-6 * fabs(vv) + 1e-12, "adamw v step %d", s);
    }
    CHECK(m.weights[bu->offset] == bias_before && m.adam_m[bu->offset] == 0.0f, "frozen bias untouched");
    CHECK(m.step == 4, "step counter %ld", m.step);
    grok_model_free(&m);
}

/* Backward leaves frozen parameters' gradients alone (both paths), and fills the others. */
static void test_frozen_gradients(void)
{
    int layers, tokens[8] = {1, 2, 3, 4, 5, 6, 0, 1}, targets[8] = {-1, -1, -1, 2, -1, 1, -1, 3}, i;
    for (layers = 1; layers <= 2; layers++) {
        grok_config cfg = small_config(0, GROK_ACT_RELU);
        grok_model m;
        int frozen_zero = 1, trained_nonzero = 1;
        cfg.n_layers = layers;
        cfg.train_biases = 0;
        if (grok_model_init(&m, &cfg, 2) != GROK_OK) { CHECK(0, "init"); return; }
        randomise(&m, 5);
        grok_model_zero_grad(&m);
        grok_model_forward(&m, tokens, targets, 2, NULL, NULL, NULL);
        grok_model_backward(&m);
        for (i = 0; i < m.n_params; i++) {
            const grok_param *p = &m.params[i];
            double sum = 0;
            size_t k;
            for (k = 0; k < p->numel; k++) sum += fabs(m.grads[p->offset + k]);
            if (!p->trainable) frozen_zero &= sum == 0.0;
            else trained_nonzero &= sum > 0.0;
        }
        CHECK(frozen_zero && trained_nonzero, "%d layer(s): frozen biases get no gradient, trained parameters do", layers);
        grok_model_free(&m);
    }
}

/* Hooks and the activation cache. */
static void test_hooks_cache(void)
{
    grok_config cfg = small_config(0, GROK_ACT_RELU);
    grok_model m;
    grok_cache cache, small;
    grok_ablation head1;
    enum { B = 6, T = 4, V = 5 };
    int tokens[B * T], i, ok, b, t;
    float logits_hooked[B * T * V], logits_zeroed[B * T * V], logits_cache[B * T * V], logits_plain[B * T * V];
    const grok_param *wo;
    const grok_tensor *pat, *emb, *pos, *pre, *z, *post;
    for (i = 0; i < B * T; i++) tokens[i] = (i * 3 + 1) % 7;
    cfg.n_layers = 1;
    if (grok_model_init(&m, &cfg, 4) != GROK_OK) { CHECK(0, "init"); return; }
    randomise(&m, 21);
    /* the cache of all B sequences (two chunks of at most 4) against plain forwards */
    CHECK(grok_cache_run(&cache, &m, tokens, B, NULL, logits_cache) == GROK_OK, "cache run: %s", grok_last_error());
    grok_model_forward(&m, tokens, NULL, 4, NULL, NULL, logits_plain);
    grok_model_forward(&m, tokens + 4 * T, NULL, 2, NULL, NULL, logits_plain + 4 * T * V);
    CHECK(memcmp(logits_cache, logits_plain, sizeof logits_plain) == 0, "cached logits equal the plain forward's");
    pat = grok_cache_get(&cache, "blocks.0.attn.hook_pattern");
    emb = grok_cache_get(&cache, "hook_embed");
    pos = grok_cache_get(&cache, "hook_pos_embed");
    pre = grok_cache_get(&cache, "blocks.0.hook_resid_pre");
    z = grok_cache_get(&cache, "blocks.0.attn.hook_z");
    post = grok_cache_get(&cache, "blocks.0.hook_resid_post");
    CHECK(pat && emb && pos && pre && z && post && grok_cache_get(&cache, "blocks.0.attn.hook_q") &&
          grok_cache_get(&cache, "blocks.0.mlp.hook_post") && cache.n == 15, "every hook point cached (%d)", cache.n);
    if (!(pat && emb && pos && pre && z && post)) { grok_model_free(&m); return; }
    CHECK(pat->ndim == 4 && pat->shape[0] == B && pat->shape[1] == 2 && pat->shape[2] == T && pat->shape[3] == T,
          "hook_pattern is (batch, head, q, k)");
    CHECK(z->ndim == 4 && z->shape[0] == B && z->shape[1] == T && z->shape[2] == 2 && z->shape[3] == 4, "hook_z is (batch, pos, head, d_head)");
    ok = 1;
    for (i = 0; i < B * T * 8; i++) ok &= pre->data[i] == emb->data[i] + pos->data[i];
    for (b = 0; b < B; b++)
        for (t = 0; t < T; t++) {
            double sum = 0;
            int u;
            for (u = 0; u < T; u++) sum += pat->data[((b * 2 + 1) * T + t) * T + u];
            ok &= fabs(sum - 1) < 1e-6 && (t == T - 1 || pat->data[((b * 2 + 1) * T + t) * T + T - 1] == 0.0f);
        }
    CHECK(ok, "resid_pre = embed + pos_embed; pattern rows sum to 1 and are causal");
    CHECK(grok_cache_get(&cache, "blocks.0.nope") == NULL && strstr(grok_last_error(), "nope"), "unknown name: NULL and a message");
    grok_cache_free(&cache);
    CHECK(grok_cache_run(&small, &m, tokens, B, "hook_pattern,mlp.hook_post", NULL) == GROK_OK && small.n == 2, "filtered cache");
    grok_cache_free(&small);

    /* zero-ablating head 1 through hook_z == zeroing W_O's head-1 slice */
    head1.head = 1;
    CHECK(grok_model_add_hook(&m, "blocks.0.attn.hook_z", grok_hook_zero_ablate, &head1) == GROK_OK, "add hook");
    grok_model_forward(&m, tokens, NULL, 4, NULL, NULL, logits_hooked);
    CHECK(grok_model_backward(&m) == GROK_ERR_ARG, "backward refused while hooks are registered");
    grok_model_clear_hooks(&m);
    wo = grok_model_param(&m, "blocks.0.attn.W_O");
    memset(m.weights + wo->offset + 4 * 8, 0, sizeof(float) * 4 * 8);
    grok_model_forward(&m, tokens, NULL, 4, NULL, NULL, logits_zeroed);
    CHECK(memcmp(logits_hooked, logits_zeroed, sizeof(float) * 4 * T * V) == 0, "head ablation by hook == zero W_O slice, exactly");
    CHECK(memcmp(logits_hooked, logits_plain, sizeof(float) * 4 * T * V) != 0, "and it changes the logits");

    /* mean ablation: every sequence then carries the batch mean */
    grok_model_add_hook(&m, "blocks.0.mlp.hook_post", grok_hook_mean_ablate, NULL);
    grok_cache_run(&small, &m, tokens, 4, "mlp.hook_post", NULL);
    ok = small.n == 1;
    for (i = 0; ok && i < T * 16; i++) ok &= small.entries[0].t.data[i] == small.entries[0].t.data[3 * T * 16 + i];
    CHECK(ok, "mean ablation makes every sequence equal");
    grok_cache_free(&small);
    grok_model_clear_hooks(&m);

    /* projection out of span(e0, e1) of resid_mid leaves those coordinates 0; onto keeps only them */
    {
        float basis[2 * 8] = {0};
        grok_projection pr;
        const grok_tensor *mid;
        basis[0] = 1.0f; basis[8 + 1] = 1.0f;
        pr.basis = basis; pr.k = 2; pr.d = 8; pr.remove = 1;
        grok_model_add_hook(&m, "blocks.0.hook_resid_mid", grok_hook_project, &pr);
        grok_cache_run(&small, &m, tokens, 4, "hook_resid_mid", NULL);
        mid = grok_cache_get(&small, "blocks.0.hook_resid_mid");
        ok = mid != NULL;
        for (i = 0; ok && i < 4 * T; i++) ok &= mid->data[i * 8] == 0.0f && mid->data[i * 8 + 1] == 0.0f && mid->data[i * 8 + 2] != 0.0f;
        CHECK(ok, "projection out of a subspace");
        grok_cache_free(&small);
        grok_model_clear_hooks(&m);
        pr.remove = 0;
        pr.d = 7;
        CHECK(grok_model_add_hook(&m, "blocks.0.hook_resid_mid", grok_hook_project, &pr) == GROK_OK &&
              grok_model_forward(&m, tokens, NULL, 4, NULL, NULL, NULL) == GROK_ERR_ARG, "projection of the wrong width rejected: %s", grok_last_error());
        grok_model_clear_hooks(&m);
    }
    CHECK(grok_model_add_hook(&m, "blocks.0.attn.W_Q", grok_hook_zero_ablate, NULL) == GROK_ERR_ARG, "a parameter name is not a hook point");
    grok_model_free(&m);
}

/* Gradient hooks used by test_grad_cache. */
static int grad_scale(grok_tensor *g, const char *name, void *ctx)
{
    long i, n = grok_tensor_numel(g);
    (void)name;
    for (i = 0; i < n; i++) g->data[i] *= *(const float *)ctx; /* the hooked gradients are contiguous */
    return GROK_OK;
}
static int grad_count(grok_tensor *g, const char *name, void *ctx) { (void)g; (void)name; ++*(int *)ctx; return GROK_OK; }

/* Sum over rows r of a^T (R,I) b (R,O) at [i][o]: what a parameter gradient is made of. */
static double outer_sum(const float *a, long lda, const float *b, long ldb, long R, int i, int o)
{
    double s = 0;
    long r;
    for (r = 0; r < R; r++) s += (double)a[r * lda + i] * b[r * ldb + o];
    return s;
}

/* Largest |x - y| over n floats, relative to the largest |y| (floored at 1e-3). */
static double rel_diff(const float *x, const float *y, long n)
{
    double e = 0, s = 1e-3;
    long i;
    for (i = 0; i < n; i++) { if (fabs(x[i] - y[i]) > e) e = fabs(x[i] - y[i]); if (fabs(y[i]) > s) s = fabs(y[i]); }
    return e / s;
}

/* The gradient cache and gradient hooks. Each hook point's gradient is tied to the parameter
   gradients that test_gradients checks by finite differences (W_pos, W_E from hook_pos_embed and
   hook_embed; W_O from hook_z and hook_attn_out; W_in from mlp.hook_pre and ln2; W_out from
   mlp.hook_post and hook_mlp_out; W_Q from attn.hook_q; b_O's from resid gradients), the
   hooked (phase by phase) backward gives the plain backward's bits, a replaced gradient changes
   the parameter gradients as the chain rule says, chunks equal one batch, and the two metrics
   have the gradients their formulas give. torch autograd checks every hook point to 1e-5 in
   tests/parity/patch. */
static void test_grad_cache(int ln)
{
    grok_config cfg = small_config(ln, GROK_ACT_GELU);
    grok_model m;
    grok_cache acts, grads, grads2;
    enum { B = 5, T = 4, C = 8, H = 2, D = 4, M = 16, V = 5 };
    int tokens[B * T], targets[B * T], i, k, l, calls = 0, correct[B], wrong[B];
    float *g0, two = 2.0f, zero = 0.0f;
    double loss, value, e, worst = 0;
    size_t np;
    const char *names[3] = {"blocks.1.attn.W_O", "blocks.0.mlp.W_in", "blocks.1.mlp.W_out"};
    grok_logit_diff ld;
    for (i = 0; i < B * T; i++) { tokens[i] = (i * 5 + 2) % 7; targets[i] = i % 3 == 2 ? -1 : (i * 3 + 1) % V; }
    if (grok_model_init(&m, &cfg, B) != GROK_OK) { CHECK(0, "init: %s", grok_last_error()); return; }
    randomise(&m, 31 + ln);
    np = m.num_parameters;
    g0 = (float *)malloc(sizeof(float) * np);
    /* the plain backward of the loss */
    grok_model_zero_grad(&m);
    CHECK(grok_model_forward(&m, tokens, targets, B, &loss, NULL, NULL) == GROK_OK && grok_model_backward(&m) == GROK_OK,
          "plain backward: %s", grok_last_error());
    memcpy(g0, m.grads, sizeof(float) * np);
    for (i = 0; i < (int)np; i++) m.grads[i] = 0.25f; /* the cache must leave these as they are */
    CHECK(grok_grad_cache_run(&acts, &grads, &m, tokens, B, NULL, NULL, targets, &value) == GROK_OK,
          "grad cache: %s", grok_last_error());
    CHECK(fabs(value - loss) <= 1e-8 * fabs(loss), "ln=%d: the cache's metric %.12g is the forward's loss %.12g", ln, value, loss);
    for (k = 0, i = 0; i < (int)np; i++) k += m.grads[i] != 0.25f;
    CHECK(k == 0, "ln=%d: the gradient cache leaves the parameter gradients alone (%d changed)", ln, k);
    CHECK(grads.n == acts.n && grads.n == (ln ? 33 : 28), "ln=%d: a gradient for every hook point (%d, %d activations)", ln,
          grads.n, acts.n);
    for (i = 0; i < grads.n; i++) {
        const grok_tensor *a = grok_cache_get(&acts, grads.entries[i].name);
        int same = a && a->ndim == grads.entries[i].t.ndim;
        for (k = 0; same && k < a->ndim; k++) same &= a->shape[k] == grads.entries[i].t.shape[k];
        CHECK(same, "ln=%d: %s's gradient has the activation's shape", ln, grads.entries[i].name);
    }
    /* each hook point's gradient against the parameter gradients built from it */
    {
        const grok_tensor *dpos = grok_cache_get(&grads, "hook_pos_embed"), *demb = grok_cache_get(&grads, "hook_embed");
        const float *gw;
        int t, c, h, d, o;
        e = 0;
        gw = g0 + grok_model_param(&m, "pos_embed.W_pos")->offset;
        for (t = 0; t < T; t++)
            for (c = 0; c < C; c++) {
                double s = 0;
                int b;
                for (b = 0; b < B; b++) s += dpos->data[(b * T + t) * C + c];
                if (fabs(s - gw[t * C + c]) > e) e = fabs(s - gw[t * C + c]);
            }
        gw = g0 + grok_model_param(&m, "embed.W_E")->offset;
        for (c = 0; c < C; c++) {
            double s = 0;
            for (i = 0; i < B * T; i++) if (tokens[i] == 2) s += demb->data[i * C + c];
            if (fabs(s - gw[2 * C + c]) > e) e = fabs(s - gw[2 * C + c]);
        }
        if (e > worst) worst = e;
        for (l = 0; l < 2; l++) {
            char nz[64], nao[64], nq[64], npre[64], npost[64], nmo[64], nin[64], nx[64], nmid[64], npost2[64];
            const grok_tensor *z, *dao, *dq, *x, *dpre, *post, *dmo, *in, *dmid;
            float *x_aff = NULL, *in_aff = NULL;
            const float *xd, *ind;
            const float *W_O = g0 + grok_model_param(&m, l ? "blocks.1.attn.W_O" : "blocks.0.attn.W_O")->offset;
            const float *W_Q = g0 + grok_model_param(&m, l ? "blocks.1.attn.W_Q" : "blocks.0.attn.W_Q")->offset;
            const float *W_in = g0 + grok_model_param(&m, l ? "blocks.1.mlp.W_in" : "blocks.0.mlp.W_in")->offset;
            const float *W_out = g0 + grok_model_param(&m, l ? "blocks.1.mlp.W_out" : "blocks.0.mlp.W_out")->offset;
            const float *b_O = g0 + grok_model_param(&m, l ? "blocks.1.attn.b_O" : "blocks.0.attn.b_O")->offset;
            snprintf(nz, sizeof nz, "blocks.%d.attn.hook_z", l);
            snprintf(nao, sizeof nao, "blocks.%d.hook_attn_out", l);
            snprintf(nq, sizeof nq, "blocks.%d.attn.hook_q", l);
            snprintf(npre, sizeof npre, "blocks.%d.mlp.hook_pre", l);
            snprintf(npost, sizeof npost, "blocks.%d.mlp.hook_post", l);
            snprintf(nmo, sizeof nmo, "blocks.%d.hook_mlp_out", l);
            snprintf(nin, sizeof nin, ln ? "blocks.%d.ln2.hook_normalized" : "blocks.%d.hook_resid_mid", l);
            snprintf(nx, sizeof nx, ln ? "blocks.%d.ln1.hook_normalized" : "blocks.%d.hook_resid_pre", l);
            snprintf(nmid, sizeof nmid, "blocks.%d.hook_resid_mid", l);
            snprintf(npost2, sizeof npost2, "blocks.%d.mlp.hook_post", l);
            z = grok_cache_get(&acts, nz); dao = grok_cache_get(&grads, nao); dq = grok_cache_get(&grads, nq);
            x = grok_cache_get(&acts, nx); dpre = grok_cache_get(&grads, npre); post = grok_cache_get(&acts, npost2);
            dmo = grok_cache_get(&grads, nmo); in = grok_cache_get(&acts, nin); dmid = grok_cache_get(&grads, nmid);
            if (!(z && dao && dq && x && dpre && post && dmo && in && dmid)) { CHECK(0, "layer %d: cache entries", l); continue; }
            if (ln) { /* hook_normalized is before the LayerNorm's w and b: the matmuls read it after them */
                const char *lw[4] = {"blocks.0.ln1.w", "blocks.0.ln1.b", "blocks.0.ln2.w", "blocks.0.ln2.b"};
                const grok_tensor *src2[2];
                float *dst2[2];
                int s2;
                src2[0] = x; src2[1] = in;
                x_aff = (float *)malloc(sizeof(float) * B * T * C);
                in_aff = (float *)malloc(sizeof(float) * B * T * C);
                dst2[0] = x_aff; dst2[1] = in_aff;
                for (s2 = 0; s2 < 2; s2++) {
                    char nw[32], nb[32];
                    const float *pw, *pb;
                    snprintf(nw, sizeof nw, "blocks.%d.%s", l, lw[2 * s2] + 9);
                    snprintf(nb, sizeof nb, "blocks.%d.%s", l, lw[2 * s2 + 1] + 9);
                    pw = m.weights + grok_model_param(&m, nw)->offset;
                    pb = m.weights + grok_model_param(&m, nb)->offset;
                    for (i = 0; i < B * T * C; i++) dst2[s2][i] = src2[s2]->data[i] * pw[i % C] + pb[i % C];
                }
            }
            xd = ln ? x_aff : x->data;
            ind = ln ? in_aff : in->data;
            e = 0;
            /* W_O[h] (D,C) = sum_r z[r,h,:]^T d attn_out[r,:]; b_O = sum_r d attn_out = sum_r d resid_mid */
            for (h = 0; h < H; h++)
                for (d = 0; d < D; d++)
                    for (c = 0; c < C; c++) {
                        double s = outer_sum(z->data, H * D, dao->data, C, B * T, h * D + d, c);
                        if (fabs(s - W_O[(h * D + d) * C + c]) > e) e = fabs(s - W_O[(h * D + d) * C + c]);
                    }
            for (c = 0; c < C; c++) {
                double s = 0, s2 = 0;
                for (i = 0; i < B * T; i++) { s += dao->data[i * C + c]; s2 += dmid->data[i * C + c]; }
                if (fabs(s - b_O[c]) > e) e = fabs(s - b_O[c]);
                if (fabs(s2 - b_O[c]) > e) e = fabs(s2 - b_O[c]);
            }
            /* W_Q[h] (C,D) = sum_r x[r]^T d q[r,h] */
            for (h = 0; h < H; h++)
                for (c = 0; c < C; c++)
                    for (d = 0; d < D; d++) {
                        double s = outer_sum(xd, C, dq->data, H * D, B * T, c, h * D + d);
                        if (fabs(s - W_Q[(h * C + c) * D + d]) > e) e = fabs(s - W_Q[(h * C + c) * D + d]);
                    }
            /* W_in (C,M) = sum_r in[r]^T d pre[r]; W_out (M,C) = sum_r post[r]^T d mlp_out[r] */
            for (c = 0; c < C; c++)
                for (o = 0; o < M; o++) {
                    double s = outer_sum(ind, C, dpre->data, M, B * T, c, o);
                    double s2 = outer_sum(post->data, M, dmo->data, C, B * T, o, c);
                    if (fabs(s - W_in[c * M + o]) > e) e = fabs(s - W_in[c * M + o]);
                    if (fabs(s2 - W_out[o * C + c]) > e) e = fabs(s2 - W_out[o * C + c]);
                }
            if (e > worst) worst = e;
            free(x_aff); free(in_aff);
            x_aff = in_aff = NULL;
        }
    }
    CHECK(worst <= 1e-5, "ln=%d: parameter gradients rebuilt from the hook points' gradients differ by %.2e", ln, worst);
    /* d pattern and d scores obey the softmax's backward: dscores = p * (dpattern - sum_u p dpattern), 0 when masked */
    {
        const grok_tensor *p = grok_cache_get(&acts, "blocks.1.attn.hook_pattern");
        const grok_tensor *dp = grok_cache_get(&grads, "blocks.1.attn.hook_pattern");
        const grok_tensor *ds = grok_cache_get(&grads, "blocks.1.attn.hook_attn_scores");
        int row, u, ok = p && dp && ds;
        e = 0;
        for (row = 0; ok && row < B * H * T; row++) {
            double dot = 0;
            for (u = 0; u < T; u++) dot += (double)p->data[row * T + u] * dp->data[row * T + u];
            for (u = 0; u < T; u++) {
                double want = p->data[row * T + u] * (dp->data[row * T + u] - dot);
                if (fabs(want - ds->data[row * T + u]) > e) e = fabs(want - ds->data[row * T + u]);
                if (u > row % T) ok &= ds->data[row * T + u] == 0.0f;
            }
        }
        CHECK(ok && e <= 1e-6, "ln=%d: d attn_scores is the softmax backward of d pattern (%.2e), 0 where masked", ln, e);
    }
    grok_cache_free(&acts);
    /* the hooked backward, phase by phase, gives the plain backward's bits */
    grok_model_zero_grad(&m);
    CHECK(grok_model_add_grad_hook(&m, "blocks.0.attn.hook_pattern", grad_count, &calls) == GROK_OK,
          "add grad hook: %s", grok_last_error());
    grok_model_forward(&m, tokens, targets, B, NULL, NULL, NULL);
    CHECK(grok_model_backward(&m) == GROK_OK && calls == 1, "ln=%d: backward runs the gradient hook once (%d)", ln, calls);
    CHECK(memcmp(m.grads, g0, sizeof(float) * np) == 0, "ln=%d: a hooked backward gives the plain backward's bits", ln);
    grok_model_clear_grad_hooks(&m);
    /* a replaced gradient: doubling d mlp_out of the last block doubles its W_out and b_out gradients,
       and leaves W_U's; zeroing d attn_out of block 0 zeroes that block's attention gradients */
    grok_model_add_grad_hook(&m, "blocks.1.hook_mlp_out", grad_scale, &two);
    grok_model_add_grad_hook(&m, "blocks.0.hook_attn_out", grad_scale, &zero);
    grok_model_zero_grad(&m);
    grok_model_forward(&m, tokens, targets, B, NULL, NULL, NULL);
    CHECK(grok_model_backward(&m) == GROK_OK, "hooked backward: %s", grok_last_error());
    {
        const grok_param *wout = grok_model_param(&m, "blocks.1.mlp.W_out"), *wu = grok_model_param(&m, "unembed.W_U");
        const grok_param *wq0 = grok_model_param(&m, "blocks.0.attn.W_Q"), *bo0 = grok_model_param(&m, "blocks.0.attn.b_O");
        int ok = 1, any = 0;
        size_t j;
        for (j = 0; j < wout->numel; j++) ok &= m.grads[wout->offset + j] == 2.0f * g0[wout->offset + j];
        for (j = 0; j < wu->numel; j++) ok &= m.grads[wu->offset + j] == g0[wu->offset + j];
        for (j = 0; j < wq0->numel; j++) ok &= m.grads[wq0->offset + j] == 0.0f;
        for (j = 0; j < bo0->numel; j++) ok &= m.grads[bo0->offset + j] == 0.0f;
        for (j = 0; j < wq0->numel; j++) any |= g0[wq0->offset + j] != 0.0f;
        CHECK(ok && any, "ln=%d: replaced gradients propagate (W_out doubled, W_U unchanged, block 0's attention zero)", ln);
    }
    grok_model_clear_grad_hooks(&m);
    /* chunks of 2 sequences give what one batch of 5 gives */
    {
        grok_model small;
        int ok = 1;
        if (grok_model_init(&small, &cfg, 2) == GROK_OK) {
            memcpy(small.weights, m.weights, sizeof(float) * np);
            ok = grok_grad_cache_run(NULL, &grads2, &small, tokens, B, "resid,hook_q", NULL, targets, &value) == GROK_OK;
            CHECK(ok && fabs(value - loss) <= 1e-8 * fabs(loss) && grads2.n == 8, "ln=%d: chunked gradient cache (%d entries): %s",
                  ln, grads2.n, grok_last_error());
            e = 0;
            for (i = 0; ok && i < grads2.n; i++) {
                const grok_tensor *one = grok_cache_get(&grads, grads2.entries[i].name);
                double d = one ? rel_diff(grads2.entries[i].t.data, one->data, grok_tensor_numel(one)) : 1;
                if (d > e) e = d;
            }
            CHECK(ok && e <= 1e-6, "ln=%d: chunked gradients equal one batch's (%.2e)", ln, e);
            grok_cache_free(&grads2);
            grok_model_free(&small);
        }
    }
    grok_cache_free(&grads);
    /* the logit difference: its gradient is +-1/B at the two logits; against finite differences of the loss metric */
    for (i = 0; i < B; i++) { correct[i] = i % V; wrong[i] = (i + 2) % V; }
    ld.pos = -1; ld.correct = correct; ld.wrong = wrong;
    CHECK(grok_grad_cache_run(NULL, &grads, &m, tokens, B, "resid_post", grok_metric_logit_diff, &ld, &value) == GROK_OK,
          "logit-diff gradient cache: %s", grok_last_error());
    {
        float logits[B * T * V], dl[B * T * V];
        double direct = 0, fd_err = 0;
        int ok = 1;
        grok_model_forward(&m, tokens, NULL, B, NULL, NULL, logits);
        for (i = 0; i < B; i++) direct += (double)logits[(i * T + T - 1) * V + correct[i]] - logits[(i * T + T - 1) * V + wrong[i]];
        CHECK(fabs(value - direct / B) <= 1e-12 * (1 + fabs(value)), "ln=%d: logit difference %.9g = %.9g", ln, value, direct / B);
        grok_metric_logit_diff(logits, B, T, V, dl, &ld);
        for (i = 0; i < B * T * V; i++) {
            int b = i / (T * V), t = (i / V) % T, v = i % V;
            float want = t == T - 1 ? (float)((v == correct[b]) - (v == wrong[b])) / B : 0.0f;
            ok &= fabs(dl[i] - want) < 1e-7;
        }
        CHECK(ok, "ln=%d: d logit_diff / d logits is +-1/B at the compared logits", ln);
        grok_metric_loss(logits, B, T, V, dl, targets);
        for (i = 0; i < B * T * V; i += 7) {
            float save = logits[i];
            double up, down;
            logits[i] = save + 1e-2f; up = grok_metric_loss(logits, B, T, V, NULL, targets);
            logits[i] = save - 1e-2f; down = grok_metric_loss(logits, B, T, V, NULL, targets);
            logits[i] = save;
            if (fabs((up - down) / ((double)(save + 1e-2f) - (double)(save - 1e-2f)) - dl[i]) > fd_err)
                fd_err = fabs((up - down) / ((double)(save + 1e-2f) - (double)(save - 1e-2f)) - dl[i]);
        }
        CHECK(fd_err < 1e-5, "ln=%d: d loss / d logits against finite differences (%.2e)", ln, fd_err);
    }
    grok_cache_free(&grads);
    /* refusals */
    wrong[0] = V;
    CHECK(grok_grad_cache_run(NULL, &grads, &m, tokens, B, NULL, grok_metric_logit_diff, &ld, NULL) == GROK_ERR_ARG &&
          strstr(grok_last_error(), "compares tokens") && grads.n == 0, "a bad logit-diff token is refused: %s", grok_last_error());
    CHECK(grok_grad_cache_run(NULL, &grads, &m, tokens, B, NULL, NULL, NULL, NULL) == GROK_ERR_ARG, "the loss without targets is refused");
    grok_model_add_hook(&m, "hook_embed", grok_hook_zero_ablate, NULL);
    CHECK(grok_grad_cache_run(NULL, &grads, &m, tokens, B, NULL, NULL, targets, NULL) == GROK_ERR_ARG &&
          strstr(grok_last_error(), "forward hooks"), "forward hooks are refused: %s", grok_last_error());
    grok_model_clear_hooks(&m);
    CHECK(grok_model_add_grad_hook(&m, names[0], grad_count, &calls) == GROK_ERR_ARG, "a parameter is not a hook point");
    /* gradient hooks added after a fast-path forward: backward refuses */
    if (!ln) {
        grok_model one;
        grok_config c1 = cfg;
        c1.n_layers = 1;
        if (grok_model_init(&one, &c1, B) == GROK_OK) {
            grok_model_forward(&one, tokens, targets, B, NULL, NULL, NULL);
            grok_model_add_grad_hook(&one, "blocks.0.hook_resid_pre", grad_count, &calls);
            CHECK(grok_model_backward(&one) == GROK_ERR_ARG && strstr(grok_last_error(), "after the forward"),
                  "gradient hooks added after a folded forward are refused: %s", grok_last_error());
            grok_model_free(&one);
        }
    }
    free(g0);
    grok_model_free(&m);
}

static double warmup(long step, void *ctx) { (void)ctx; return step / 10.0 < 1.0 ? step / 10.0 : 1.0; }

static void test_schedule(void)
{
    grok_config cfg = small_config(0, GROK_ACT_RELU);
    grok_model m;
    const grok_param *wu;
    float before;
    if (grok_model_init(&m, &cfg, 1) != GROK_OK) { CHECK(0, "init"); return; }
    wu = grok_model_param(&m, "unembed.W_U");
    m.opt.lr_schedule = warmup;
    m.opt.weight_decay = 0.1;
    before = m.weights[wu->offset];
    grok_model_zero_grad(&m);
    m.grads[wu->offset] = 1.0f;
    grok_model_adamw_step(&m); /* LambdaLR: factor 0 at step 0, so nothing moves */
    CHECK(m.weights[wu->offset] == before, "warm-up step 0 leaves weights (%.9g vs %.9g)", m.weights[wu->offset], before);
    grok_model_adamw_step(&m); /* factor 0.1: lr 1e-4; bias-corrected step of size ~lr */
    CHECK(fabs(m.weights[wu->offset] - before + 1e-4) < 2e-5, "warm-up step 1 moves by lr*0.1 (%.9g -> %.9g)", before, m.weights[wu->offset]);
    grok_model_free(&m);
}

static void test_split(void)
{
    grok_data tr, te, tr2, te2;
    int p = 31, i, *seen, ok = 1, same = 1, differs = 0;
    CHECK(grok_task_modadd(&tr, &te, p, 0.3, 598) == GROK_OK, "modadd: %s", grok_last_error());
    CHECK(tr.n == (int)(p * p * 0.3) && te.n == p * p - tr.n, "split sizes %d + %d", tr.n, te.n);
    seen = (int *)calloc((size_t)(p * p), sizeof(int));
    for (i = 0; i < tr.n + te.n; i++) {
        const grok_data *d = i < tr.n ? &tr : &te;
        int row = i < tr.n ? i : i - tr.n, a = d->tokens[row * 3], b = d->tokens[row * 3 + 1];
        if (d->tokens[row * 3 + 2] != p || d->targets[row * 3 + 2] != (a + b) % p ||
            d->targets[row * 3] != -1 || d->targets[row * 3 + 1] != -1) ok = 0;
        seen[a * p + b]++;
    }
    for (i = 0; i < p * p; i++) if (seen[i] != 1) ok = 0;
    CHECK(ok, "every pair exactly once across train and test, labels (a+b) mod p at the last position");
    grok_task_modadd(&tr2, &te2, p, 0.3, 598);
    for (i = 0; i < tr.n * 3; i++) same &= tr.tokens[i] == tr2.tokens[i];
    CHECK(same, "same data seed, same split");
    grok_data_free(&tr2); grok_data_free(&te2);
    grok_task_modadd(&tr2, &te2, p, 0.3, 599);
    for (i = 0; i < tr.n * 3; i++) differs |= tr.tokens[i] != tr2.tokens[i];
    CHECK(differs, "another data seed, another split");
    grok_data_free(&tr2); grok_data_free(&te2);
    CHECK(grok_task_modadd(&tr2, &te2, 1, 0.3, 1) == GROK_ERR_ARG && strlen(grok_last_error()) > 0, "p < 2 rejected");
    CHECK(grok_task_modadd(&tr2, &te2, 31, 1.0, 1) == GROK_ERR_ARG, "frac_train 1 rejected");
    CHECK(grok_task_modadd(&tr2, &te2, 31, 0.0, 1) == GROK_ERR_ARG, "frac_train 0 rejected");
    free(seen);
    grok_data_free(&tr); grok_data_free(&te);
}

static void test_rng(void)
{
    grok_rng r, r2;
    uint64_t x = 0;
    double sum = 0, sq = 0;
    int i, perm[100], seen[100] = {0}, ok = 1;
    CHECK(grok__splitmix64(&x) == 0xE220A8397B1DCDAFull, "splitmix64(0) first output");
    grok_rng_seed(&r, 42); grok_rng_seed(&r2, 42);
    for (i = 0; i < 1000; i++) ok &= grok_rng_u64(&r) == grok_rng_u64(&r2);
    CHECK(ok, "same seed, same stream");
    for (i = 0; i < 100000; i++) {
        double u = grok_rng_uniform(&r), n = grok_rng_normal(&r);
        if (!(u >= 0 && u < 1)) ok = 0;
        sum += n; sq += n * n;
    }
    CHECK(ok, "uniform in [0, 1)");
    CHECK(fabs(sum / 1e5) < 0.02 && fabs(sq / 1e5 - 1) < 0.02, "normal mean %.4f var %.4f", sum / 1e5, sq / 1e5);
    for (i = 0; i < 100; i++) perm[i] = i;
    grok_rng_shuffle(&r, perm, 100);
    for (i = 0; i < 100; i++) seen[perm[i]]++;
    for (i = 0; i < 100; i++) ok &= seen[i] == 1;
    CHECK(ok, "shuffle is a permutation");
    for (i = 0; i < 1000; i++) ok &= grok_rng_below(&r, 7) < 7;
    CHECK(ok, "below(7) < 7");
}

static void test_tensor(void)
{
    float data[24];
    int shape[3] = {2, 3, 4}, idx[2] = {2, 1}, shape2[2] = {6, 4};
    grok_tensor t, row, col, re;
    int i;
    for (i = 0; i < 24; i++) data[i] = (float)i;
    t = grok_tensor_make(data, 3, shape);
    CHECK(grok_tensor_numel(&t) == 24 && grok_tensor_is_contiguous(&t), "make");
    CHECK(grok_tensor_index(&row, &t, 1) == GROK_OK && row.ndim == 2 && row.data[0] == 12.0f, "index");
    CHECK(*grok_tensor_at(&row, idx) == 21.0f, "at");
    CHECK(grok_tensor_slice(&col, &t, 2, 1, 2) == GROK_OK && !grok_tensor_is_contiguous(&col) && col.shape[2] == 2, "slice");
    CHECK(grok_tensor_reshape(&re, &col, 2, shape2) == GROK_ERR_ARG, "reshape of a strided view rejected");
    CHECK(grok_tensor_reshape(&re, &t, 2, shape2) == GROK_OK && re.stride[0] == 4, "reshape");
    CHECK(grok_tensor_index(&row, &t, 2) == GROK_ERR_ARG, "index out of range rejected");
    CHECK(grok_tensor_slice(&col, &t, 1, 2, 2) == GROK_ERR_ARG, "slice out of range rejected");
}

static void test_errors(void)
{
    grok_config cfg = small_config(0, GROK_ACT_RELU);
    grok_model m;
    int tokens[4] = {0, 1, 9, 2}, targets[4] = {-1, -1, -1, 1};
    cfg.n_ctx = 0;
    CHECK(grok_model_init(&m, &cfg, 1) == GROK_ERR_ARG && strstr(grok_last_error(), "n_ctx"), "n_ctx 0 rejected: %s", grok_last_error());
    cfg = small_config(0, GROK_ACT_RELU);
    cfg.act_fn = (grok_act)7;
    CHECK(grok_model_init(&m, &cfg, 1) == GROK_ERR_ARG, "bad act_fn rejected");
    cfg = small_config(0, GROK_ACT_RELU);
    CHECK(grok_model_init(&m, &cfg, 0) == GROK_ERR_ARG, "max_batch 0 rejected");
    CHECK(grok_model_init(&m, &cfg, 1) == GROK_OK, "init");
    CHECK(grok_model_forward(&m, tokens, targets, 1, NULL, NULL, NULL) == GROK_ERR_ARG && strstr(grok_last_error(), "token 9"),
          "token out of range rejected: %s", grok_last_error());
    tokens[2] = 2; targets[3] = 5;
    CHECK(grok_model_forward(&m, tokens, targets, 1, NULL, NULL, NULL) == GROK_ERR_ARG, "target out of range rejected");
    CHECK(grok_model_forward(&m, tokens, targets, 2, NULL, NULL, NULL) == GROK_ERR_ARG, "batch above max_batch rejected");
    CHECK(grok_model_param(&m, "blocks.0.ln1.w") == NULL, "no LN parameters without LN");
    CHECK(grok_model_param(&m, "blocks.1.attn.W_O") != NULL && grok_model_param(&m, "blocks.1.attn.W_O")->shape[1] == 4, "W_O (H, D, C)");
    grok_model_free(&m);
}

static int train_small(grok_model *m, int threads, int epochs, double *test_acc, double *seconds)
{
    grok_data tr, te;
    grok_config cfg = grok_config_modadd(31);
    grok_train_opts o = grok_train_opts_default();
    struct timespec t0, t1;
    int st;
    cfg.d_model = 64; cfg.d_head = 16; cfg.d_mlp = 256;
    grok_threads_set(threads);
    if (grok_task_modadd(&tr, &te, 31, 0.5, 7) != GROK_OK) return -1;
    if (grok_model_init(m, &cfg, tr.n) != GROK_OK) return -1;
    m->opt.lr = 1e-2;
    o.epochs = epochs; o.eval_every = 50; o.checkpoint_every = 0; o.progress = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = grok_train(m, &o, &tr, &te);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    *test_acc = m->metrics.test_acc;
    grok_data_free(&tr); grok_data_free(&te);
    return st;
}

/* GROK_TEST_QUICK=1 (make test-valgrind) shortens the training runs: 100 epochs instead of 1000
   (memorised, test accuracy well above chance 1/31, not yet grokked) and 20 instead of 200. */
static int quick(void) { const char *q = getenv("GROK_TEST_QUICK"); return q && *q && *q != '0'; }

static void test_integration_and_determinism(void)
{
    grok_model a, b;
    double acc_a, acc_b, sa, sb;
    int epochs = quick() ? 100 : 1000, det_epochs = quick() ? 20 : 200;
    int st = train_small(&a, 2, epochs, &acc_a, &sa);
    CHECK(st == GROK_OK, "training: %s", grok_last_error());
    if (quick())
        CHECK(a.metrics.train_acc == 1.0 && acc_a >= 0.25, "p=31 frac 0.5, 100 epochs: train accuracy %.4f (1), test %.4f (>= 0.25)",
              a.metrics.train_acc, acc_a);
    else
        CHECK(acc_a >= 0.95, "p=31 frac 0.5 reaches test accuracy %.4f (>= 0.95) in %.1f s", acc_a, sa);
    printf("integration: p=31 frac 0.5, %d epochs: test acc %.4f in %.2f s\n", epochs, acc_a, sa);
    st = train_small(&b, 1, det_epochs, &acc_b, &sb);
    CHECK(st == GROK_OK, "training: %s", grok_last_error());
    {
        grok_model c;
        double acc_c, sc;
        train_small(&c, 2, det_epochs, &acc_c, &sc);
        CHECK(memcmp(b.weights, c.weights, sizeof(float) * b.num_parameters) == 0 &&
              memcmp(b.adam_v, c.adam_v, sizeof(float) * b.num_parameters) == 0,
              "1 and 2 threads give the same bits after %d epochs", det_epochs);
        grok_model_free(&c);
    }
    grok_threads_set(0);
    grok_model_free(&a); grok_model_free(&b);
}

static void test_checkpoint(void)
{
    grok_config cfg = small_config(1, GROK_ACT_GELU), got;
    grok_model m, n;
    const char *path = "/tmp/grok_test_ckpt.grok";
    int tokens[4] = {1, 2, 3, 4}, targets[4] = {-1, -1, 0, 1};
    FILE *f;
    long size;
    char *bytes;
    grok_model_init(&m, &cfg, 1);
    grok_model_init(&n, &cfg, 1);
    randomise(&m, 3);
    grok_model_forward(&m, tokens, targets, 1, NULL, NULL, NULL);
    grok_model_backward(&m);
    grok_model_adamw_step(&m);
    m.epoch = 17; m.metrics.test_acc = 0.5;
    grok_model_set_trainable(&m, "b_U", 0);
    CHECK(grok_checkpoint_save(&m, path, 1) == GROK_OK, "save: %s", grok_last_error());
    CHECK(grok_checkpoint_config(&got, path) == GROK_OK && got.d_mlp == 16 && got.normalization == GROK_NORM_LN, "config read back");
    CHECK(grok_checkpoint_load(&n, path) == GROK_OK, "load: %s", grok_last_error());
    CHECK(memcmp(m.weights, n.weights, sizeof(float) * m.num_parameters) == 0 &&
          memcmp(m.adam_m, n.adam_m, sizeof(float) * m.num_parameters) == 0 &&
          memcmp(m.adam_v, n.adam_v, sizeof(float) * m.num_parameters) == 0, "weights and moments round-trip");
    CHECK(n.step == 1 && n.epoch == 17 && n.metrics.test_acc == 0.5 && !grok_model_param(&n, "unembed.b_U")->trainable,
          "step, epoch, metrics, trainable flags round-trip");
    /* Flip one byte in the middle: the checksum catches it and the model is unchanged. */
    f = fopen(path, "rb"); fseek(f, 0, SEEK_END); size = ftell(f); fseek(f, 0, SEEK_SET);
    bytes = (char *)malloc((size_t)size);
    CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size, "read back");
    fclose(f);
    bytes[size / 2] ^= 0x40;
    f = fopen(path, "wb"); fwrite(bytes, 1, (size_t)size, f); fclose(f);
    randomise(&n, 9);
    memcpy(m.weights, n.weights, sizeof(float) * m.num_parameters);
    CHECK(grok_checkpoint_load(&n, path) == GROK_ERR_FORMAT && strstr(grok_last_error(), "checksum"), "corrupt file rejected: %s", grok_last_error());
    CHECK(memcmp(m.weights, n.weights, sizeof(float) * m.num_parameters) == 0, "model unchanged by a rejected load");
    f = fopen(path, "wb"); fwrite(bytes, 1, (size_t)size / 3, f); fclose(f);
    CHECK(grok_checkpoint_load(&n, path) == GROK_ERR_FORMAT, "truncated file rejected: %s", grok_last_error());
    f = fopen(path, "wb"); fwrite("NOTACKPT", 1, 8, f); fclose(f);
    CHECK(grok_checkpoint_load(&n, path) == GROK_ERR_FORMAT && strstr(grok_last_error(), "magic"), "bad magic rejected");
    CHECK(grok_checkpoint_load(&n, "/nonexistent/x.grok") == GROK_ERR_IO, "missing file: IO error");
    free(bytes);
    remove(path);
    grok_model_free(&m); grok_model_free(&n);
}

static unsigned char *slurp_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) { free(b); b = NULL; }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* The training driver: nested output directory, metrics.csv, checkpoints, history, and a
   resumed run that gives the same bits as an uninterrupted one. */
static void test_train_driver(void)
{
    grok_config cfg = grok_config_modadd(11);
    grok_data tr, te;
    grok_model a, b;
    grok_train_opts o = grok_train_opts_default();
    const char *dir = "/tmp/grok_test_run/nested/dir";
    char line[256];
    FILE *f;
    int lines = 0;
    cfg.d_model = 16; cfg.d_head = 4; cfg.d_mlp = 32;
    system("rm -rf /tmp/grok_test_run");
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    grok_model_init(&a, &cfg, tr.n);
    grok_model_init(&b, &cfg, tr.n);
    o.epochs = 30; o.eval_every = 5; o.checkpoint_every = 10; o.progress = 0;
    o.device = GROK_DEVICE_CUDA; /* this program is built without GROK_CUDA */
    CHECK(grok_train(&a, &o, &tr, &te) == GROK_ERR_ARG && a.epoch == 0 && strstr(grok_last_error(), "GROK_CUDA"),
          "GROK_DEVICE_CUDA without the companion: %s", grok_last_error());
    o.device = GROK_DEVICE_CPU;
    CHECK(grok_train(&a, &o, &tr, &te) == GROK_OK, "uninterrupted run: %s", grok_last_error());
    o.epochs = 20; o.out_dir = dir; o.keep_history = 1;
    CHECK(grok_train(&b, &o, &tr, &te) == GROK_OK, "run into a nested directory: %s", grok_last_error());
    f = fopen("/tmp/grok_test_run/nested/dir/metrics.csv", "r");
    while (f && fgets(line, sizeof line, f)) lines++;
    if (f) fclose(f);
    CHECK(lines == 1 + 4, "metrics.csv has a header and 4 rows (%d lines)", lines);
    f = fopen("/tmp/grok_test_run/nested/dir/ckpt_000010.grok", "rb");
    CHECK(f != NULL, "history checkpoint written");
    if (f) fclose(f);
    grok_model_free(&b);
    grok_model_init(&b, &cfg, tr.n);
    CHECK(grok_checkpoint_load(&b, "/tmp/grok_test_run/nested/dir/latest.grok") == GROK_OK && b.epoch == 20,
          "latest.grok resumes at epoch 20: %s", grok_last_error());
    o.epochs = 30;
    CHECK(grok_train(&b, &o, &tr, &te) == GROK_OK, "resumed run");
    CHECK(memcmp(a.weights, b.weights, sizeof(float) * a.num_parameters) == 0 && a.step == b.step,
          "20 epochs + resume to 30 == 30 epochs, bit for bit");
    {   /* the whole state, as checkpoint bytes: weights, moments, step, epoch, metrics, optimizer */
        size_t na, nb;
        unsigned char *fa, *fb;
        CHECK(grok_checkpoint_save(&a, "/tmp/grok_test_run/a.grok", 1) == GROK_OK &&
              grok_checkpoint_save(&b, "/tmp/grok_test_run/b.grok", 1) == GROK_OK, "save both");
        fa = slurp_file("/tmp/grok_test_run/a.grok", &na);
        fb = slurp_file("/tmp/grok_test_run/b.grok", &nb);
        CHECK(fa && fb && na == nb && memcmp(fa, fb, na) == 0, "resumed and straight checkpoints are identical bytes (%zu)", na);
        free(fa); free(fb);
    }
    {   /* stopped at an epoch that is neither an evaluation nor a checkpoint epoch of the straight run */
        grok_model c;
        grok_train_opts o2 = o;
        grok_model_init(&c, &cfg, tr.n);
        o2.out_dir = "/tmp/grok_test_run/odd"; o2.keep_history = 0; o2.epochs = 13;
        CHECK(grok_train(&c, &o2, &tr, &te) == GROK_OK, "13 epochs");
        grok_model_free(&c);
        grok_model_init(&c, &cfg, tr.n);
        o2.epochs = 30;
        CHECK(grok_checkpoint_load(&c, "/tmp/grok_test_run/odd/latest.grok") == GROK_OK && c.epoch == 13 &&
              grok_train(&c, &o2, &tr, &te) == GROK_OK, "resume from 13 to 30");
        CHECK(memcmp(a.weights, c.weights, sizeof(float) * a.num_parameters) == 0 &&
              memcmp(a.adam_m, c.adam_m, sizeof(float) * a.num_parameters) == 0 &&
              memcmp(a.adam_v, c.adam_v, sizeof(float) * a.num_parameters) == 0 && a.step == c.step &&
              memcmp(&a.metrics, &c.metrics, sizeof a.metrics) == 0, "13 + 17 epochs == 30 epochs: weights, moments, step, metrics");
        grok_model_free(&c);
    }
    lines = 0;
    f = fopen("/tmp/grok_test_run/nested/dir/metrics.csv", "r");
    while (f && fgets(line, sizeof line, f)) lines++;
    if (f) fclose(f);
    CHECK(lines == 1 + 6, "the resumed run appends to metrics.csv (%d lines)", lines);
    o.eval_every = 0;
    CHECK(grok_train(&b, &o, &tr, &te) == GROK_ERR_ARG, "eval_every 0 rejected");
    system("rm -rf /tmp/grok_test_run");
    grok_model_free(&a); grok_model_free(&b);
    grok_data_free(&tr); grok_data_free(&te);
}

/* ------------------------------------------------ the training levers */

/* A three-tensor table of n = 40 floats, the middle one frozen. */
static int lever_table(grok_param *params)
{
    static const int sizes[3] = {16, 10, 14};
    int i, n = 0;
    memset(params, 0, 3 * sizeof *params);
    for (i = 0; i < 3; i++) {
        snprintf(params[i].name, sizeof params[i].name, "t%d", i);
        params[i].ndim = 1; params[i].shape[0] = sizes[i];
        params[i].offset = (size_t)n; params[i].numel = (size_t)sizes[i];
        params[i].trainable = i != 1;
        n += sizes[i];
    }
    return n;
}

/* Grokfast's filters against their recurrences in double, the orthogonal gradient and the
   fixed norm against their definitions, and their refusals. */
static void test_filters_and_projections(void)
{
    grok_param params[3];
    int n = lever_table(params), s, k, i;
    float g[40], w[40], orig[40];
    double ema[40], ring[4][40], worst = 0;
    grok_gradfilter f;
    grok_gradfilter_config c;
    grok_rng r;
    grok_rng_seed(&r, 21);
    c = grok_gradfilter_default(GROK_FILTER_EMA);
    CHECK(c.alpha == 0.98 && c.lamb == 2.0, "EMA defaults alpha 0.98 lamb 2");
    c = grok_gradfilter_default(GROK_FILTER_MA);
    CHECK(c.window == 100 && c.lamb == 5.0 && c.warmup == 1, "MA defaults window 100 lamb 5 warm-up");
    memset(&c, 0, sizeof c);
    c.kind = GROK_FILTER_EMA; /* zeros: the defaults */
    CHECK(grok_gradfilter_init(&f, &c, (size_t)n) == GROK_OK && f.cfg.alpha == 0.98 && f.cfg.lamb == 2.0,
          "EMA init with zero fields takes the defaults: %s", grok_last_error());
    for (s = 0; s < 6; s++) {
        for (k = 0; k < n; k++) g[k] = orig[k] = (float)grok_rng_normal(&r);
        grok_gradfilter_apply(&f, g, params, 3);
        for (k = 0; k < n; k++) {
            double want;
            if (k >= 16 && k < 26) { CHECK(g[k] == orig[k], "EMA: frozen element %d untouched", k); continue; }
            ema[k] = s == 0 ? orig[k] : 0.98 * ema[k] + 0.02 * orig[k];
            want = orig[k] + 2.0 * ema[k];
            if (fabs(g[k] - want) > worst) worst = fabs(g[k] - want);
        }
    }
    CHECK(worst < 1e-5 && f.count == 6, "EMA: g + 2 ema with ema from g at the first step (worst %.2e)", worst);
    grok_gradfilter_free(&f);
    c = grok_gradfilter_default(GROK_FILTER_MA);
    c.window = 4; c.lamb = 3.0;
    for (i = 0; i < 2; i++) { /* with warm-up, then without */
        c.warmup = 1 - i;
        worst = 0;
        CHECK(grok_gradfilter_init(&f, &c, (size_t)n) == GROK_OK, "MA init");
        for (s = 0; s < 9; s++) {
            int kept = s + 1 < 4 ? s + 1 : 4, filtered = !c.warmup || kept == 4;
            for (k = 0; k < n; k++) g[k] = orig[k] = (float)grok_rng_normal(&r);
            grok_gradfilter_apply(&f, g, params, 3);
            for (k = 0; k < n; k++) {
                double mean = 0, want;
                int j;
                ring[s % 4][k] = orig[k];
                for (j = 0; j < kept; j++) mean += ring[(s - j) % 4][k];
                mean /= kept;
                want = (k >= 16 && k < 26) || !filtered ? orig[k] : orig[k] + 3.0 * mean;
                if (fabs(g[k] - want) > worst) worst = fabs(g[k] - want);
            }
        }
        CHECK(worst < 1e-5, "MA window 4 warm-up %d: g + 3 mean of the last 4 (worst %.2e)", c.warmup, worst);
        grok_gradfilter_free(&f);
    }
    c.warmup = 2;
    CHECK(grok_gradfilter_init(&f, &c, (size_t)n) == GROK_ERR_ARG && strstr(grok_last_error(), "warmup"), "warmup 2 refused");
    c = grok_gradfilter_default(GROK_FILTER_EMA); c.alpha = 1.0;
    CHECK(grok_gradfilter_init(&f, &c, (size_t)n) == GROK_ERR_ARG && strstr(grok_last_error(), "alpha"), "alpha 1 refused");
    c.kind = 7;
    CHECK(grok_gradfilter_init(&f, &c, (size_t)n) == GROK_ERR_ARG && strstr(grok_last_error(), "kind"), "kind 7 refused");
    c = grok_gradfilter_default(GROK_FILTER_MA); c.window = 3;
    grok_gradfilter_init(&f, &c, 20);
    CHECK(grok_gradfilter_apply(&f, g, params, 3) == GROK_ERR_ARG && f.count == 0, "a table larger than the filter refused");
    grok_gradfilter_free(&f);

    for (k = 0; k < n; k++) { g[k] = orig[k] = (float)grok_rng_normal(&r); w[k] = (float)grok_rng_normal(&r); }
    CHECK(grok_orthograd(g, w, params, 3) == GROK_OK, "grok_orthograd");
    for (i = 0; i < 3; i += 2) {
        double gw = 0, gg = 0, oo = 0, ww = 0;
        for (k = (int)params[i].offset; k < (int)(params[i].offset + params[i].numel); k++) {
            gw += (double)g[k] * w[k]; gg += (double)g[k] * g[k]; oo += (double)orig[k] * orig[k]; ww += (double)w[k] * w[k];
        }
        CHECK(fabs(gw) / sqrt(gg * ww) < 1e-6 && fabs(sqrt(gg) / sqrt(oo) - 1) < 1e-6,
              "orthograd %s: orthogonal to its weights (cos %.1e), its norm kept (%.7f)", params[i].name,
              gw / sqrt(gg * ww), sqrt(gg / oo));
    }
    CHECK(memcmp(g + 16, orig + 16, 10 * sizeof(float)) == 0, "orthograd: the frozen tensor untouched");
    memcpy(orig, w, sizeof w);
    CHECK(grok_weights_project_norm(w, params, 3, 5.0) > 0, "grok_weights_project_norm");
    {
        double ss = 0;
        for (k = 0; k < n; k++) if (k < 16 || k >= 26) ss += (double)w[k] * w[k];
        CHECK(fabs(sqrt(ss) - 5.0) < 1e-5 && memcmp(w + 16, orig + 16, 10 * sizeof(float)) == 0,
              "fixed norm: the trainable tensors' norm is 5 (%.7f), the frozen one untouched", sqrt(ss));
    }
    CHECK(grok_weights_project_norm(w, params, 3, -1.0) < 0 && strstr(grok_last_error(), "norm"), "norm -1 refused");
    CHECK(grok_orthograd(NULL, w, params, 3) == GROK_ERR_ARG, "orthograd: NULL refused");
}

/* The early-stop rule on synthetic metrics. */
static void test_early_stop_rule(void)
{
    grok_early_stop rule;
    grok_stop_state s;
    grok_metrics mt;
    static const double acc[] = {0.1, 0.5, 0.995, 0.99, 0.98, 0.99, 0.999, 1.0};
    int i, r = 0;
    memset(&rule, 0, sizeof rule);
    memset(&s, 0, sizeof s);
    memset(&mt, 0, sizeof mt);
    rule.acc = 0.99; rule.evals = 3;
    for (i = 0; i < 8; i++) {
        mt.test_acc = acc[i];
        r = grok_early_stop_update(&s, &rule, 100L * (i + 1), &mt);
        if (i < 7) CHECK(r == GROK_STOP_NONE, "no stop at evaluation %d (streak %ld)", i, s.streak);
    }
    CHECK(r == GROK_STOP_GROKKED && s.streak == 3 && s.reason == GROK_STOP_GROKKED,
          "grokked after 3 evaluations at or above 0.99, the dip at 0.98 resetting the streak (%s)", grok_stop_reason_name(r));
    mt.test_acc = 0.0;
    CHECK(grok_early_stop_update(&s, &rule, 900, &mt) == GROK_STOP_GROKKED, "the stop stays");
    CHECK(grok_early_stop_update(&s, &rule, 900, &mt) == GROK_ERR_ARG, "an epoch that does not advance refused");

    memset(&s, 0, sizeof s);
    memset(&rule, 0, sizeof rule);
    rule.memorised = 0.99; rule.stall_epochs = 500;
    mt.train_acc = 0.5; mt.test_acc = 0.02;
    CHECK(grok_early_stop_update(&s, &rule, 100, &mt) == GROK_STOP_NONE && s.memorised_epoch == 0, "not memorised yet");
    mt.train_acc = 1.0;
    CHECK(grok_early_stop_update(&s, &rule, 200, &mt) == GROK_STOP_NONE && s.memorised_epoch == 200, "memorised at 200");
    mt.test_acc = 0.03; /* a new best at 400 restarts the span */
    for (i = 3; i <= 8; i++) {
        if (i == 4) mt.test_acc = 0.05;
        r = grok_early_stop_update(&s, &rule, 100L * i, &mt);
        CHECK(r == GROK_STOP_NONE, "no stall at %d (best %.2f at %ld)", 100 * i, s.best_test_acc, s.best_epoch);
    }
    r = grok_early_stop_update(&s, &rule, 900, &mt);
    CHECK(r == GROK_STOP_STALLED && s.best_epoch == 400, "stalled 500 epochs after the last best, at 900 (%s)",
          grok_stop_reason_name(r));
    memset(&s, 0, sizeof s);
    mt.train_acc = 0.9; /* never memorised: never stalls */
    for (i = 1; i <= 20; i++) r = grok_early_stop_update(&s, &rule, 100L * i, &mt);
    CHECK(r == GROK_STOP_NONE, "a run that has not memorised does not stall");
    rule.memorised = 0.0;
    CHECK(grok_early_stop_update(&s, &rule, 5000, &mt) == GROK_ERR_ARG && strstr(grok_last_error(), "memorised"),
          "a stall rule without a memorised accuracy refused");
    memset(&rule, 0, sizeof rule);
    rule.acc = 0.99;
    CHECK(grok_early_stop_update(&s, &rule, 5000, &mt) == GROK_ERR_ARG && strstr(grok_last_error(), "evals"), "evals 0 refused");
    CHECK(strcmp(grok_stop_reason_name(GROK_STOP_STALLED), "stalled") == 0, "reason names");
}

/* Reads column `name` of the last row of a metrics.csv; NAN when absent. */
static double csv_last(const char *path, const char *name)
{
    char line[4096], header[4096] = "", *tok, *save;
    int col = -1, i = 0;
    double v = NAN;
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    if (fgets(header, sizeof header, f)) {
        header[strcspn(header, "\n")] = 0;
        for (tok = strtok_r(header, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++)
            if (!strcmp(tok, name)) col = i;
    }
    while (col >= 0 && fgets(line, sizeof line, f)) {
        for (i = 0, tok = strtok_r(line, ",", &save); tok && i < col; tok = strtok_r(NULL, ",", &save)) i++;
        if (tok) v = atof(tok);
    }
    fclose(f);
    return v;
}

/* StableMax through the trimmed and folded paths equals the general path, its loss is its
   definition on the logits, and the collapse count is what the float32 softmax gives. */
static void test_stablemax_paths(void)
{
    int ln;
    for (ln = 0; ln < 2; ln++) {
        grok_config cfg = small_config(ln, GROK_ACT_RELU);
        grok_model m;
        enum { B = 5, T = 4 };
        int tokens[B * T], targets[B * T], i, r;
        double lf, af, lg, ag, want = 0, worst = 0;
        float *gf, logits[B * T * 5];
        int n = 0;
        cfg.n_layers = 1;
        grok_model_init(&m, &cfg, B);
        randomise(&m, 31 + ln);
        m.loss = GROK_LOSS_STABLEMAX;
        for (i = 0; i < B * T; i++) { tokens[i] = (i * 5 + 3) % 7; targets[i] = i % T == T - 1 ? (i * 3) % 5 : -1; }
        gf = (float *)malloc(sizeof(float) * m.num_parameters);
        grok_model_zero_grad(&m);
        grok_model_forward(&m, tokens, targets, B, &lf, &af, NULL);
        CHECK(grok_model_path(&m) != GROK_PATH_GENERAL, "ln=%d: the fast path", ln);
        grok_model_backward(&m);
        memcpy(gf, m.grads, sizeof(float) * m.num_parameters);
        grok_model_zero_grad(&m);
        grok_model_forward(&m, tokens, targets, B, &lg, &ag, logits);
        grok_model_backward(&m);
        for (r = 0; r < B * T; r++) {
            double sum = 0, st = 0;
            if (targets[r] < 0) continue;
            for (i = 0; i < 5; i++) {
                double x = logits[r * 5 + i], sx = x >= 0 ? x + 1 : 1 / (1 - x);
                sum += sx;
                if (i == targets[r]) st = sx;
            }
            want += -log(st / sum);
            n++;
        }
        want /= n;
        for (i = 0; i < (int)m.num_parameters; i++)
            if (fabs(m.grads[i] - gf[i]) > worst) worst = fabs(m.grads[i] - gf[i]);
        m.loss = 7;
        CHECK(grok_model_forward(&m, tokens, targets, B, &lf, &af, NULL) == GROK_ERR_ARG && strstr(grok_last_error(), "loss"),
              "ln=%d: a loss of 7 refused", ln);
        m.loss = GROK_LOSS_STABLEMAX;
        grok_model_forward(&m, tokens, targets, B, &lf, &af, NULL);
        CHECK(fabs(lg - want) < 1e-12 * want && fabs(lf - lg) < 1e-6 * lg && af == ag && worst < 1e-6,
              "ln=%d StableMax: loss %.9g (definition %.9g), fast path %.9g, gradients differ by %.1e", ln, lg, want, lf, worst);
        free(gf);
        grok_model_free(&m);
    }
}

/* Every lever on at once: 13 epochs, a checkpoint, and a resumed run to the end give the bytes
   of an uninterrupted run (weights, moments, filter state, early-stop counters, metrics.csv
   but its seconds); once for each filter. The monitors are checked against their definition. */
static void test_levers_resume(void)
{
    grok_config cfg = grok_config_modadd(11);
    grok_data tr, te;
    int kind;
    cfg.d_model = 16; cfg.d_head = 4; cfg.d_mlp = 32;
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    for (kind = GROK_FILTER_EMA; kind <= GROK_FILTER_MA; kind++) {
        grok_model a, c;
        grok_train_opts o = grok_train_opts_default();
        size_t na, nc;
        unsigned char *fa, *fc;
        int same;
        system("rm -rf /tmp/grok_test_levers");
        grok_model_init(&a, &cfg, tr.n);
        grok_model_init(&c, &cfg, tr.n);
        o.epochs = 60; o.eval_every = 5; o.checkpoint_every = 5; o.progress = 0;
        o.grokfast = grok_gradfilter_default(kind);
        if (kind == GROK_FILTER_MA) o.grokfast.window = 7;
        o.early_stop.acc = 0.999; o.early_stop.evals = 2; o.early_stop.memorised = 0.01; o.early_stop.stall_epochs = 20;
        o.stability_monitors = 1;
        a.loss = c.loss = GROK_LOSS_STABLEMAX;
        a.opt.orthogonal = c.opt.orthogonal = 1;
        a.opt.fixed_norm = c.opt.fixed_norm = 9.0;
        o.out_dir = "/tmp/grok_test_levers/a";
        CHECK(grok_train(&a, &o, &tr, &te) == GROK_OK, "filter %d, every lever: %s", kind, grok_last_error());
        printf("every lever, filter %d: %ld epochs, stop %s, test acc %.3f, collapse %.3f, cos %.4f\n", kind, a.epoch,
               grok_stop_reason_name(a.stop.reason), a.metrics.test_acc,
               csv_last("/tmp/grok_test_levers/a/metrics.csv", "softmax_collapse"),
               csv_last("/tmp/grok_test_levers/a/metrics.csv", "grad_weight_cos"));
        CHECK(fabs(grok__trainable_norm(a.weights, a.params, a.n_params) - 9.0) < 1e-5, "the fixed norm holds after training");
        CHECK(a.filter.count == a.step && a.filter.state, "the filter saw every step (%ld of %ld)", a.filter.count, a.step);
        o.out_dir = "/tmp/grok_test_levers/c";
        o.epochs = 13;
        CHECK(grok_train(&c, &o, &tr, &te) == GROK_OK, "13 epochs");
        grok_model_free(&c);
        grok_model_init(&c, &cfg, tr.n);
        o.epochs = 60;
        CHECK(grok_checkpoint_load(&c, "/tmp/grok_test_levers/c/latest.grok") == GROK_OK && c.epoch == 13 &&
              c.filter.count == 13 && c.loss == GROK_LOSS_STABLEMAX && c.opt.orthogonal && c.opt.fixed_norm == 9.0 &&
              c.stop.last_epoch == 10, /* the early stop saw the evaluation at 10, not the extra one at the run's end */
              "the checkpoint at 13 carries the levers (epoch %ld): %s", c.epoch, grok_last_error());
        CHECK(grok_train(&c, &o, &tr, &te) == GROK_OK, "resumed from 13");
        CHECK(grok_checkpoint_save(&a, "/tmp/grok_test_levers/a.grok", 1) == GROK_OK &&
              grok_checkpoint_save(&c, "/tmp/grok_test_levers/c.grok", 1) == GROK_OK, "save both");
        fa = slurp_file("/tmp/grok_test_levers/a.grok", &na);
        fc = slurp_file("/tmp/grok_test_levers/c.grok", &nc);
        same = fa && fc && na == nc && memcmp(fa, fc, na) == 0;
        CHECK(same && a.epoch == c.epoch && fa[8] == 2, "filter %d: resumed == uninterrupted, checkpoint bytes (%zu), version 2",
              kind, na);
        free(fa); free(fc);
        CHECK(csv_last("/tmp/grok_test_levers/a/metrics.csv", "stop") == csv_last("/tmp/grok_test_levers/c/metrics.csv", "stop") &&
              csv_last("/tmp/grok_test_levers/a/metrics.csv", "grad_weight_cos") ==
              csv_last("/tmp/grok_test_levers/c/metrics.csv", "grad_weight_cos"), "metrics.csv's last rows agree");
        o.epochs = 80;
        CHECK(a.stop.reason == GROK_STOP_NONE || (grok_train(&a, &o, &tr, &te) == GROK_OK && a.epoch == c.epoch),
              "a stopped model does not train on (epoch %ld)", a.epoch);
        grok_model_free(&a); grok_model_free(&c);
    }
    system("rm -rf /tmp/grok_test_levers");
    grok_data_free(&tr); grok_data_free(&te);
}

/* The monitors of one epoch against their definitions, computed by hand from the same step. */
static void test_monitors(void)
{
    grok_config cfg = grok_config_modadd(11);
    grok_data tr, te;
    grok_model a, b;
    grok_train_opts o = grok_train_opts_default();
    double gw = 0, gg = 0, ww = 0, cosv, collapse;
    long collapsed = 0, correct = 0;
    int i, r, n = 0;
    cfg.d_model = 16; cfg.d_head = 4; cfg.d_mlp = 32;
    system("rm -rf /tmp/grok_test_monitors");
    grok_task_modadd(&tr, &te, 11, 0.5, 3);
    grok_model_init(&a, &cfg, tr.n);
    grok_model_init(&b, &cfg, tr.n);
    {   /* W_U scaled so that the logits are large enough that some correct rows collapse and some do not */
        const grok_param *wu = grok_model_param(&a, "unembed.W_U");
        for (i = 0; i < (int)wu->numel; i++) a.weights[wu->offset + i] = b.weights[wu->offset + i] *= 50.0f;
    }
    o.epochs = 1; o.eval_every = 1; o.checkpoint_every = 0; o.progress = 0; o.stability_monitors = 1;
    o.out_dir = "/tmp/grok_test_monitors";
    CHECK(grok_train(&a, &o, &tr, &te) == GROK_OK, "one epoch with the monitors: %s", grok_last_error());
    {
        float *logits = (float *)malloc(sizeof(float) * (size_t)tr.n * 3 * 11);
        grok_model_forward(&b, tr.tokens, tr.targets, tr.n, NULL, NULL, logits);
        grok_model_zero_grad(&b);
        grok_model_forward(&b, tr.tokens, tr.targets, tr.n, NULL, NULL, NULL);
        grok_model_backward(&b);
        for (r = 0; r < tr.n * 3; r++) {
            const float *x = logits + (size_t)r * 11;
            float sum = 0, mx = x[0];
            int t = tr.targets[r], best = 0;
            if (t < 0) continue;
            n++;
            for (i = 1; i < 11; i++) if (x[i] > mx) { mx = x[i]; best = i; }
            for (i = 0; i < 11; i++) sum += expf(x[i] - mx);
            collapsed += best == t && sum == 1.0f;
            correct += best == t;
        }
        free(logits);
    }
    for (i = 0; i < b.n_params; i++) {
        const grok_param *p = &b.params[i];
        size_t k;
        for (k = p->offset; p->trainable && k < p->offset + p->numel; k++) {
            gw += (double)b.grads[k] * b.weights[k]; gg += (double)b.grads[k] * b.grads[k]; ww += (double)b.weights[k] * b.weights[k];
        }
    }
    cosv = csv_last("/tmp/grok_test_monitors/metrics.csv", "grad_weight_cos");
    collapse = csv_last("/tmp/grok_test_monitors/metrics.csv", "softmax_collapse");
    CHECK(fabs(cosv - gw / sqrt(gg * ww)) < 1e-8 && collapsed > 0 && collapsed < correct &&
          fabs(collapse - (double)collapsed / n) < 1e-8,
          "monitors: cos %.9g (definition %.9g), collapse %.6f (expf's float sum: %ld of %d rows, %ld correct)", cosv,
          gw / sqrt(gg * ww), collapse, collapsed, n, correct);
    system("rm -rf /tmp/grok_test_monitors");
    grok_model_free(&a); grok_model_free(&b);
    grok_data_free(&tr); grok_data_free(&te);
}

/* A version 2 checkpoint's filter state is checked; a plain model still writes version 1. */
static void test_checkpoint_levers(void)
{
    grok_config cfg = small_config(0, GROK_ACT_RELU);
    grok_model m, n;
    grok_gradfilter_config c = grok_gradfilter_default(GROK_FILTER_EMA);
    const char *path = "/tmp/grok_test_ckpt2.grok";
    unsigned char *b = NULL;
    size_t size;
    FILE *f;
    grok_model_init(&m, &cfg, 1);
    grok_model_init(&n, &cfg, 1);
    CHECK(grok_checkpoint_save(&m, path, 1) == GROK_OK && (b = slurp_file(path, &size)) && b[8] == 1,
          "a model with no lever on writes version 1");
    free(b);
    grok_gradfilter_init(&m.filter, &c, m.num_parameters);
    m.filter.count = 3;
    m.filter.state[5] = 0.25f;
    m.stop.best_epoch = 40; m.stop.best_test_acc = 0.5; m.stop.last_epoch = 40;
    CHECK(grok_checkpoint_save(&m, path, 1) == GROK_OK && grok_checkpoint_load(&n, path) == GROK_OK &&
          n.filter.count == 3 && n.filter.state[5] == 0.25f && n.filter.cfg.kind == GROK_FILTER_EMA &&
          n.stop.best_epoch == 40 && n.stop.best_test_acc == 0.5, "version 2 round trip: %s", grok_last_error());
    CHECK(grok_checkpoint_save(&m, path, 0) == GROK_OK && grok_checkpoint_load(&n, path) == GROK_OK &&
          n.filter.cfg.kind == GROK_FILTER_NONE && n.stop.best_epoch == 40, "weights only: no filter state, the counters kept");
    grok_checkpoint_save(&m, path, 1);
    b = slurp_file(path, &size);
    b[8 + 4 + 4 + 11 * 4 + 8 + 16 + 11 * 8 + 4 + 4 + 8 + 32 + 8 + 4 + 0] = 9; /* the filter kind */
    f = fopen(path, "wb"); fwrite(b, 1, size, f); fclose(f);
    CHECK(grok_checkpoint_load(&n, path) == GROK_ERR_FORMAT && strstr(grok_last_error(), "filter") && n.filter.count == 0,
          "a bad filter kind refused, the model unchanged: %s", grok_last_error());
    free(b);
    remove(path);
    grok_model_free(&m); grok_model_free(&n);
}

int main(void)
{
    printf("grok.h tests, GEMM kernel %s, %d threads\n", grok_gemm_kernel_name(), grok_threads_get());
    test_rng();
    test_tensor();
    test_errors();
    test_gradients(0, GROK_ACT_RELU);
    test_gradients(0, GROK_ACT_GELU);
    test_gradients(1, GROK_ACT_RELU);
    test_gradients(1, GROK_ACT_GELU);
    test_one_layer_paths(0, GROK_ACT_RELU);
    test_one_layer_paths(0, GROK_ACT_GELU);
    test_one_layer_paths(1, GROK_ACT_RELU);
    test_one_layer_paths(1, GROK_ACT_GELU);
    test_path_choice();
    test_frozen_gradients();
    test_hooks_cache();
    test_grad_cache(0);
    test_grad_cache(1);
    test_adamw();
    test_schedule();
    test_split();
    test_checkpoint();
    test_train_driver();
    test_filters_and_projections();
    test_early_stop_rule();
    test_stablemax_paths();
    test_monitors();
    test_checkpoint_levers();
    test_levers_resume();
    test_integration_and_determinism();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
