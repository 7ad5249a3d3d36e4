/* tests/cuda_host_kernels.h: the host loops behind tests/cuda_host.h's GC_LAUNCH, one per
   kernel of grok_cuda.cu, over the same item and row functions (one lane per row). Include
   after grok_cuda.cu. */
static void host_k_fill(float *x, long n, float v) { for (long i = 0; i < n; i++) x[i] = v; }
static void host_k_embed_forward(float *out, const int *tokens, const float *W_E, const float *W_pos, int R, int T, int C)
{
    for (long i = 0; i < (long)R * C; i++) gc_embed_forward_at(i, out, tokens, W_E, W_pos, T, C);
}
static void host_k_embed_backward(float *dW_E, const float *dout, const int *off, const int *rows, int Vin, int C)
{
    for (int v = 0; v < Vin; v++)
        for (int c = 0; c < C; c++) gc_embed_backward_at(v, c, dW_E, dout, off, rows, C);
}
static void host_k_bias_residual(float *y, const float *b, const float *res, int R, int N)
{
    for (long i = 0; i < (long)R * N; i++) gc_bias_residual_at(i, y, b, res, N);
}
static void host_k_act_forward(float *post, const float *pre, long n, int act)
{
    for (long i = 0; i < n; i++) gc_act_forward_at(i, post, pre, act);
}
static void host_k_act_backward(float *dpre, const float *dpost, const float *pre, long n, int act)
{
    for (long i = 0; i < n; i++) gc_act_backward_at(i, dpre, dpost, pre, act);
}
static void host_k_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                     const float *b, int R, int C, float eps)
{
    for (long r = 0; r < R; r++) gc_layernorm_forward_row(r, 0, 1, out, mean, rstd, inp, w, b, C, eps);
}
static void host_k_layernorm_backward(float *dinp, float *xg, const float *dout, const float *inp, const float *mean,
                                      const float *rstd, const float *w, int R, int C)
{
    for (long r = 0; r < R; r++) gc_layernorm_backward_row(r, 0, 1, dinp, xg, dout, inp, mean, rstd, w, C);
}
static void host_k_ce_forward(float *probs, double *row_sum, double *row_loss, int *row_correct, const float *logits,
                              const int *targets, int R, int V)
{
    for (long r = 0; r < R; r++)
        if (targets[r] >= 0) gc_ce_forward_row(r, 0, 1, probs, row_sum, row_loss, row_correct, logits, targets, V);
}
static void host_k_ce_backward(float *probs, const double *row_sum, const int *targets, int R, int V, double dscale)
{
    for (long r = 0; r < R; r++) gc_ce_backward_row(r, 0, 1, probs, row_sum, targets, V, dscale);
}
static void host_k_loss_sum(double *out, const int *slot_ptr, const double *row_loss, const int *row_correct,
                            const int *targets, int R, int accumulate)
{
    gc_loss_sum_lanes(0, 1, out, slot_ptr, row_loss, row_correct, targets, R, accumulate);
}
static void host_k_adamw(float *p, const float *g, float *m, float *v, const unsigned char *mask, long n,
                         const struct gc_adam *sched, const int *slot)
{
    const gc_adam a = sched[slot ? *slot : 0];
    for (long i = 0; i < n; i++) gc_adamw_at(i, p, g, m, v, mask, &a);
}
static void host_k_count(int *ctr) { *ctr += 1; }
static void host_k_qkv_pack(float *wqkv, float *bqkv, const float *Wq, const float *Wk, const float *Wv,
                            const float *bq, const float *bk, const float *bv, int C, int H, int D)
{
    for (long i = 0; i < (long)C * 3 * H * D + 3L * H * D; i++) gc_qkv_pack_at(i, wqkv, bqkv, Wq, Wk, Wv, bq, bk, bv, C, H, D);
}
static void host_k_qkv_unpack_add(float *dWq, float *dWk, float *dWv, const float *dwqkv, int C, int H, int D)
{
    for (long i = 0; i < (long)C * 3 * H * D; i++) gc_qkv_unpack_add_at(i, dWq, dWk, dWv, dwqkv, C, H, D);
}
static void host_k_attn_softmax(float *pat, long rows, int T)
{
    for (long i = 0; i < rows; i++) gc_attn_softmax_row(i, pat, T);
}
static void host_k_attn_softmax_backward(float *dpat, const float *pat, long rows, int T, float scale)
{
    for (long i = 0; i < rows; i++) gc_attn_softmax_backward_row(i, dpat, pat, T, scale);
}
static void host_k_bilinear_forward(float *prod, const float *xy, long n)
{
    for (long i = 0; i < n; i++) gc_bilinear_forward_at(i, prod, xy, n);
}
static void host_k_bilinear_backward(float *dxy, const float *dprod, const float *xy, long n)
{
    for (long i = 0; i < n; i++) gc_bilinear_backward_at(i, dxy, dprod, xy, n);
}
