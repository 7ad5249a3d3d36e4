/* The C half of the levers parity suite (tests/parity/levers.py; tests/parity/run.sh).
     levers gen DIR   writes, for a table of three tensors (the second frozen) of n = 40 floats:
                      a sequence of S = 12 random gradients (grads.npy (S, n)) and the weights
                      (weights.npy (n)); what grok_gradfilter_apply makes of the sequence with
                      Grokfast-EMA (alpha 0.9, lamb 2: ema.npy), Grokfast-MA with warm-up
                      (window 5, lamb 5: ma.npy) and without (window 4, lamb 3: ma_nowarm.npy),
                      each (S, n); grok_orthograd of each gradient against the weights
                      (ortho.npy (S, n)); and a BilinearNet on C_7 (embed 6) with random
                      weights trained by nothing: for softmax and StableMax cross-entropy
                      (NAME = softmax, stablemax) the weights (net.safetensors), the batch
                      (batch.npy (B, 3)), the loss (NAME_loss.npy), the gradient of every tensor
                      (NAME_grads.safetensors) and the share of collapsed rows of a second batch
                      whose W_U is scaled up (net_big.safetensors; collapse.npy: softmax share, stablemax share).
   Exit status: 0 if every file was written. */
#define GROK_IMPLEMENTATION
#include "../../grok.h"
#include <stdlib.h>
#include <string.h>

enum { S = 12, NT = 3 };
static const char *dir;

static const char *path(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void must(int st, const char *what)
{
    if (st != GROK_OK) { fprintf(stderr, "levers: %s: %s\n", what, grok_last_error()); exit(1); }
}

static void save_f32(const char *name, const float *x, int rows, int cols)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F32; a.ndim = 2; a.shape[0] = rows; a.shape[1] = cols; a.data = (void *)(uintptr_t)x;
    must(grok_npy_save(path(name), &a), name);
}

static void save_f64(const char *name, const double *x, int n)
{
    grok_array a;
    memset(&a, 0, sizeof a);
    a.dtype = GROK_DT_F64; a.ndim = 1; a.shape[0] = n; a.data = (void *)(uintptr_t)x;
    must(grok_npy_save(path(name), &a), name);
}

/* The filter of c over the gradient sequence g (S, n) into out (S, n). */
static void run_filter(float *out, const float *g, const grok_param *params, int n, grok_gradfilter_config c)
{
    grok_gradfilter f;
    int s;
    must(grok_gradfilter_init(&f, &c, (size_t)n), "grok_gradfilter_init");
    for (s = 0; s < S; s++) {
        memcpy(out + s * n, g + s * n, sizeof(float) * (size_t)n);
        must(grok_gradfilter_apply(&f, out + s * n, params, NT), "grok_gradfilter_apply");
    }
    grok_gradfilter_free(&f);
}

static void net_case(grok_net *net, const char *name, int loss, const int *tokens, int B)
{
    char file[64];
    double l, acc;
    net->loss = loss;
    grok_net_zero_grad(net);
    must(grok_net_forward(net, tokens, tokens, B, &l, &acc, NULL), "grok_net_forward");
    must(grok_net_backward(net), "grok_net_backward");
    snprintf(file, sizeof file, "%s_loss.npy", name);
    save_f64(file, &l, 1);
    snprintf(file, sizeof file, "%s_grads.safetensors", name);
    must(grok_net_save_safetensors(net, path(file), net->grads), file);
}

int main(int argc, char **argv)
{
    grok_param params[NT];
    static const int sizes[NT] = {16, 10, 14};
    float g[S * 40], w[40], out[S * 40];
    grok_gradfilter_config c;
    grok_rng r;
    grok_net_config nc;
    grok_net net;
    int i, n = 0, s, tokens[3 * 49], B = 49;
    double shares[2];
    if (argc != 3 || strcmp(argv[1], "gen") != 0) { fprintf(stderr, "usage: levers gen DIR\n"); return 2; }
    dir = argv[2];
    memset(params, 0, sizeof params);
    for (i = 0; i < NT; i++) {
        snprintf(params[i].name, sizeof params[i].name, "t%d", i);
        params[i].ndim = 1; params[i].shape[0] = sizes[i];
        params[i].offset = (size_t)n; params[i].numel = (size_t)sizes[i];
        params[i].trainable = i != 1;
        n += sizes[i];
    }
    grok_rng_seed(&r, 7);
    for (i = 0; i < S * n; i++) g[i] = (float)grok_rng_normal(&r);
    for (i = 0; i < n; i++) w[i] = (float)grok_rng_normal(&r);
    save_f32("grads.npy", g, S, n);
    save_f32("weights.npy", w, 1, n);
    c = grok_gradfilter_default(GROK_FILTER_EMA); c.alpha = 0.9;
    run_filter(out, g, params, n, c);
    save_f32("ema.npy", out, S, n);
    c = grok_gradfilter_default(GROK_FILTER_MA); c.window = 5;
    run_filter(out, g, params, n, c);
    save_f32("ma.npy", out, S, n);
    c = grok_gradfilter_default(GROK_FILTER_MA); c.window = 4; c.lamb = 3.0; c.warmup = 0;
    run_filter(out, g, params, n, c);
    save_f32("ma_nowarm.npy", out, S, n);
    memcpy(out, g, sizeof g);
    for (s = 0; s < S; s++) must(grok_orthograd(out + s * n, w, params, NT), "grok_orthograd");
    save_f32("ortho.npy", out, S, n);

    memset(&nc, 0, sizeof nc);
    nc.kind = GROK_NET_BILINEAR; nc.n = 7; nc.embed_dim = 6; nc.seed = 5;
    must(grok_net_init(&net, &nc, B), "grok_net_init");
    for (i = 0; i < B; i++) { tokens[3 * i] = i / 7; tokens[3 * i + 1] = i % 7; tokens[3 * i + 2] = (i / 7 + i % 7) % 7; }
    {   /* the targets of the batch file: a, b, label (a + b) mod 7 */
        grok_array a;
        memset(&a, 0, sizeof a);
        a.dtype = GROK_DT_I32; a.ndim = 2; a.shape[0] = B; a.shape[1] = 3; a.data = tokens;
        must(grok_npy_save(path("batch.npy"), &a), "batch.npy");
    }
    must(grok_net_save_safetensors(&net, path("net.safetensors"), net.weights), "net.safetensors");
    net_case(&net, "softmax", GROK_LOSS_SOFTMAX, tokens, B);
    net_case(&net, "stablemax", GROK_LOSS_STABLEMAX, tokens, B);
    {   /* W_U scaled: logits large enough that some correct rows collapse in float32, not all */
        const grok_param *wu = grok_net_param(&net, "W_U");
        for (i = 0; i < (int)wu->numel; i++) net.weights[wu->offset + (size_t)i] *= 300.0f;
    }
    must(grok_net_save_safetensors(&net, path("net_big.safetensors"), net.weights), "net_big.safetensors");
    for (i = 0; i < 2; i++) {
        net.loss = i;
        must(grok_net_forward(&net, tokens, tokens, B, NULL, NULL, NULL), "grok_net_forward");
        shares[i] = (double)net.acts->n_collapsed / B;
    }
    save_f64("collapse.npy", shares, 2);
    grok_net_free(&net);
    return 0;
}
