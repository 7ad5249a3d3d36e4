#!/usr/bin/python3
"""bench/torch_epoch.py: ms per full-batch epoch of seed 000's canonical model in PyTorch.

The same computation as the seed notebook's HookedTransformer (1 layer, 4 heads, d_model 128,
d_head 32, d_mlp 512, ReLU, no LayerNorm, biases frozen, all 3 positions computed, float64
log-softmax loss on the last position, AdamW lr 1e-3 wd 1 betas (0.9, 0.98)) on the 3830
training rows of p = 113, frac 0.3, written in plain torch so that TransformerLens is not
needed. Prints: torch_epoch threads=N median_ms=X
bench/fidelity.py imports the model (initial_weights, forward, loss_fn, adamw) from here.
Usage: bench/torch_epoch.py [--threads N] [--epochs N] [--warmup N]
"""
import argparse
import math
import time

import torch


D_MODEL, N_HEADS, D_HEAD, D_MLP = 128, 4, 32, 512
# The state_dict names of TransformerLens' HookedTransformer for each tensor below.
TL_NAMES = {"W_E": "embed.W_E", "W_pos": "pos_embed.W_pos", "W_U": "unembed.W_U", "b_U": "unembed.b_U",
            **{n: "blocks.0.attn." + n for n in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O")},
            **{n: "blocks.0.mlp." + n for n in ("W_in", "b_in", "W_out", "b_out")}}


def initial_weights(p, seed=999):
    """Seed 000's model for modulus p drawn from torch.manual_seed(seed): every weight matrix
    normal with TransformerLens' std 0.8/sqrt(d_model), the biases zero and frozen (requires_grad
    False). A dict of short names (TL_NAMES' keys) in the order they are drawn."""
    torch.manual_seed(seed)
    std = 0.8 / math.sqrt(D_MODEL)

    def param(*shape, train=True, init=True):
        t = torch.randn(*shape) * std if init else torch.zeros(*shape)
        return t.requires_grad_(train)

    w = {"W_E": param(p + 1, D_MODEL), "W_pos": param(3, D_MODEL)}
    for n in ("W_Q", "W_K", "W_V"):
        w[n] = param(N_HEADS, D_MODEL, D_HEAD)
    w["W_O"] = param(N_HEADS, D_HEAD, D_MODEL)
    for n in ("b_Q", "b_K", "b_V"):
        w[n] = param(N_HEADS, D_HEAD, train=False, init=False)
    w["b_O"] = param(D_MODEL, train=False, init=False)
    w["W_in"], w["b_in"] = param(D_MODEL, D_MLP), param(D_MLP, train=False, init=False)
    w["W_out"], w["b_out"] = param(D_MLP, D_MODEL), param(D_MODEL, train=False, init=False)
    w["W_U"], w["b_U"] = param(D_MODEL, p), param(p, train=False, init=False)
    return w


def adamw(w):
    """The seed's optimizer over the trained tensors of w."""
    return torch.optim.AdamW([t for t in w.values() if t.requires_grad], lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))


def all_pairs(p):
    """Every (a, b, '=') sequence in the seed's order (row a*p + b) and its label (a + b) mod p."""
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    return torch.stack([a, b, torch.full_like(a, p)], dim=1), (a + b) % p


CAUSAL = torch.tril(torch.ones(3, 3, dtype=torch.bool))


def forward(w, tokens):
    """The logits at all 3 positions, as the seed's HookedTransformer computes them."""
    resid = w["W_E"][tokens] + w["W_pos"]
    q = torch.einsum("bpd,hde->bphe", resid, w["W_Q"]) + w["b_Q"]
    k = torch.einsum("bpd,hde->bphe", resid, w["W_K"]) + w["b_K"]
    v = torch.einsum("bpd,hde->bphe", resid, w["W_V"]) + w["b_V"]
    scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(D_HEAD)
    scores = scores.masked_fill(~CAUSAL, float("-inf"))
    pattern = scores.softmax(dim=-1)
    z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
    resid = resid + torch.einsum("bqhe,hed->bqd", z, w["W_O"]) + w["b_O"]
    post = torch.relu(resid @ w["W_in"] + w["b_in"])
    resid = resid + post @ w["W_out"] + w["b_out"]
    return resid @ w["W_U"] + w["b_U"]


def loss_fn(logits, labels):
    """The seed's loss: float64 log-softmax cross-entropy at the last position."""
    logp = logits[:, -1].to(torch.float64).log_softmax(dim=-1)
    return -logp.gather(dim=-1, index=labels[:, None])[:, 0].mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    p = 113
    w = initial_weights(p)
    opt = adamw(w)
    data, labels = all_pairs(p)
    perm = torch.randperm(p * p)[: int(p * p * 0.3)]
    x, y = data[perm], labels[perm]

    times = []
    for epoch in range(args.warmup + args.epochs):
        t0 = time.perf_counter()
        loss = loss_fn(forward(w, x), y)
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
