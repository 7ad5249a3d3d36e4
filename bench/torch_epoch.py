#!/usr/bin/python3
"""bench/torch_epoch.py: ms per full-batch epoch of seed 000's canonical model in PyTorch.

The same computation as the seed notebook's HookedTransformer (1 layer, 4 heads, d_model 128,
d_head 32, d_mlp 512, ReLU, no LayerNorm, biases frozen, all 3 positions computed, float64
log-softmax loss on the last position, AdamW lr 1e-3 wd 1 betas (0.9, 0.98)) on the 3830
training rows of p = 113, frac 0.3, written in plain torch so that TransformerLens is not
needed. Prints: torch_epoch threads=N median_ms=X
Usage: bench/torch_epoch.py [--threads N] [--epochs N] [--warmup N]
"""
import argparse
import math
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(999)
    p, d_model, n_heads, d_head, d_mlp = 113, 128, 4, 32, 512
    std = 0.8 / math.sqrt(d_model)

    def param(*shape, train=True, init=True):
        t = torch.randn(*shape) * std if init else torch.zeros(*shape)
        return t.requires_grad_(train)

    W_E, W_pos = param(p + 1, d_model), param(3, d_model)
    W_Q, W_K, W_V = (param(n_heads, d_model, d_head) for _ in range(3))
    W_O = param(n_heads, d_head, d_model)
    b_Q, b_K, b_V = (param(n_heads, d_head, train=False, init=False) for _ in range(3))
    b_O = param(d_model, train=False, init=False)
    W_in, b_in = param(d_model, d_mlp), param(d_mlp, train=False, init=False)
    W_out, b_out = param(d_mlp, d_model), param(d_model, train=False, init=False)
    W_U, b_U = param(d_model, p), param(p, train=False, init=False)
    trained = [W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, W_out, W_U]
    opt = torch.optim.AdamW(trained, lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))

    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    data = torch.stack([a, b, torch.full_like(a, p)], dim=1)
    labels = (a + b) % p
    perm = torch.randperm(p * p)[: int(p * p * 0.3)]
    x, y = data[perm], labels[perm]
    mask = torch.tril(torch.ones(3, 3, dtype=torch.bool))

    def forward(tokens):
        resid = W_E[tokens] + W_pos
        q = torch.einsum("bpd,hde->bphe", resid, W_Q) + b_Q
        k = torch.einsum("bpd,hde->bphe", resid, W_K) + b_K
        v = torch.einsum("bpd,hde->bphe", resid, W_V) + b_V
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(d_head)
        scores = scores.masked_fill(~mask, float("-inf"))
        pattern = scores.softmax(dim=-1)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + torch.einsum("bqhe,hed->bqd", z, W_O) + b_O
        post = torch.relu(resid @ W_in + b_in)
        resid = resid + post @ W_out + b_out
        return resid @ W_U + b_U

    def loss_fn(logits, labels):
        logp = logits[:, -1].to(torch.float64).log_softmax(dim=-1)
        return -logp.gather(dim=-1, index=labels[:, None])[:, 0].mean()

    times = []
    for epoch in range(args.warmup + args.epochs):
        t0 = time.perf_counter()
        loss = loss_fn(forward(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if epoch >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    print(f"torch_epoch threads={args.threads} median_ms={median * 1e3:.2f} loss={loss.item():.4g}")


if __name__ == "__main__":
    main()
