#!/usr/bin/python3
"""Parity of grok.h's training levers with PyTorch ports of each paper's reference definitions.

Usage: /usr/bin/python3 tests/parity/levers.py PATH_TO_LEVERS_BINARY

1. `levers gen DIR` (C) runs grok_gradfilter_apply (Grokfast-EMA, Grokfast-MA with and without
   warm-up) over a sequence of random gradients of a three-tensor table whose middle tensor is
   frozen, grok_orthograd on each, and a BilinearNet's forward and backward with softmax and
   StableMax cross-entropy, and the collapsed share of a batch with large logits.
2. This script applies ironjr/grokfast's gradfilter_ema and gradfilter_ma (a dict of tensors, a
   deque of window gradients, the mean as Python's sum over the deque divided by its length,
   warm-up until the deque is full) in float32 torch, and compares bit-near (1e-6 relative); the
   orthogonal gradient as Prieto et al.'s code defines it (per tensor, g - (w.g / (w.w + 1e-30)) w,
   rescaled to the norm of g) in float64 (1e-5); the net in float64 torch with
   F.cross_entropy and the paper's stablemax_cross_entropy (s(x) = x + 1 for x >= 0,
   1 / (1 - x + 1e-30) otherwise; log(s / sum s) in float64) with autograd (loss 1e-6, every
   gradient 1e-5); and the collapsed rows as those whose float32 F.cross_entropy is exactly 0
   (within one row of grok.h's count: the float sum's order may differ; the StableMax run must
   report the same share, as the monitor is measured on the softmax). Ends "N passed, N failed".
"""
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import parity  # noqa: E402
from parity import check, record, relerr, st_load, WORST  # noqa: E402

SIZES = (16, 10, 14)
TRAINABLE = (True, False, True)


def tensors(vec):
    out, o = [], 0
    for n in SIZES:
        out.append(vec[o:o + n])
        o += n
    return out


def gradfilter_ema(grads, state, alpha, lamb):
    """ironjr/grokfast's gradfilter_ema over a list of (trainable) gradient tensors."""
    if state is None:
        state = [g.clone() for g in grads]
    for i, g in enumerate(grads):
        state[i] = state[i] * alpha + g * (1 - alpha)
        grads[i] = g + state[i] * lamb
    return state


def gradfilter_ma(grads, state, window, lamb, warmup):
    """ironjr/grokfast's gradfilter_ma (filter_type "mean", trigger False)."""
    if state is None:
        state = [collections.deque(maxlen=window) for _ in grads]
    for i, g in enumerate(grads):
        state[i].append(g.clone())
        if not warmup or len(state[i]) == window:
            avg = sum(state[i]) / len(state[i])
            grads[i] = g + avg * lamb
    return state


def run_filter(seq, step):
    out, state = [], None
    for row in seq:
        parts = [torch.from_numpy(p.copy()) for p in tensors(row)]
        train = [parts[i] for i in range(3) if TRAINABLE[i]]
        state = step(train, state)
        k = 0
        for i in range(3):
            if TRAINABLE[i]:
                parts[i] = train[k]
                k += 1
        out.append(torch.cat(parts).numpy())
    return np.stack(out)


def orthograd(g, w):
    out = []
    for gi, wi, tr in zip(tensors(g), tensors(w), TRAINABLE):
        gi, wi = torch.from_numpy(gi.astype(np.float64)), torch.from_numpy(wi.astype(np.float64))
        if tr:
            proj = torch.dot(wi, gi) / (torch.dot(wi, wi) + 1e-30)
            o = gi - proj * wi
            gi = o * (gi.norm() / (o.norm() + 1e-30))
        out.append(gi.numpy())
    return np.concatenate(out)


def stablemax_cross_entropy(logits, labels):
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    logprobs = torch.log(s / torch.sum(s, dim=-1, keepdim=True))
    return -torch.mean(torch.gather(logprobs, index=labels[:, None], dim=-1))


def bilinear_logits(w, batch, dtype):
    a, b = torch.from_numpy(batch[:, 0].astype(np.int64)), torch.from_numpy(batch[:, 1].astype(np.int64))
    return (w["W_E_a"].to(dtype)[a] * w["W_E_b"].to(dtype)[b]) @ w["W_U"].to(dtype)


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        if subprocess.run([binary, "gen", d]).returncode != 0:
            check(False, "levers gen")
            print("%d passed, %d failed" % (parity.PASS, parity.FAIL))
            sys.exit(1)
        ld = lambda name: np.load(os.path.join(d, name))  # noqa: E731
        g, w = ld("grads.npy"), ld("weights.npy")[0]
        for name, step, lim in (("ema", lambda t, s: gradfilter_ema(t, s, 0.9, 2.0), 1e-6),
                                ("ma", lambda t, s: gradfilter_ma(t, s, 5, 5.0, True), 1e-6),
                                ("ma_nowarm", lambda t, s: gradfilter_ma(t, s, 4, 3.0, False), 1e-6)):
            ref, got = run_filter(g, step), ld(name + ".npy")
            for s in range(len(g)):
                record(name, relerr(got[s], ref[s]), lim, "%s step %d" % (name, s))
            check(np.array_equal(got[:, 16:26], g[:, 16:26]), name + ": the frozen tensor untouched")
        ma = ld("ma.npy")
        check(np.array_equal(ma[:4], g[:4]) and not np.array_equal(ma[4], g[4]),
              "ma: unchanged until the window of 5 is full, filtered from the fifth step")
        ortho = ld("ortho.npy")
        for s in range(len(g)):
            record("orthograd", relerr(ortho[s], orthograd(g[s], w)), 1e-5, "orthograd step %d" % s)
            for gi, wi, tr in zip(tensors(ortho[s].astype(np.float64)), tensors(w.astype(np.float64)), TRAINABLE):
                if tr:
                    record("orthograd w.g", abs(gi @ wi) / (np.linalg.norm(gi) * np.linalg.norm(wi)), 1e-6,
                           "orthograd step %d: orthogonal to the weights" % s)

        batch = ld("batch.npy")
        labels = torch.from_numpy(batch[:, 2].astype(np.int64))
        net = {k: torch.from_numpy(v.astype(np.float64)).requires_grad_(True)
               for k, v in st_load(os.path.join(d, "net.safetensors"))[0].items()}
        for name, loss_fn in (("softmax", F.cross_entropy), ("stablemax", stablemax_cross_entropy)):
            for t in net.values():
                t.grad = None
            loss = loss_fn(bilinear_logits(net, batch, torch.float64), labels)
            loss.backward()
            record(name + " loss", relerr(ld(name + "_loss.npy"), np.array([loss.item()])), 1e-6, name + " loss")
            grads = st_load(os.path.join(d, name + "_grads.safetensors"))[0]
            for k, t in net.items():
                record(name + " grads", relerr(grads[k], t.grad.numpy()), 1e-5, "%s: gradient of %s" % (name, k))

        big = {k: torch.from_numpy(v) for k, v in st_load(os.path.join(d, "net_big.safetensors"))[0].items()}
        logits32 = bilinear_logits(big, batch, torch.float32)
        ref_share = float((F.cross_entropy(logits32, labels, reduction="none") == 0).double().mean())
        shares = ld("collapse.npy")
        acc = float((logits32.argmax(dim=-1) == labels).double().mean())
        check(0 < shares[0] < acc, "collapse: some correct rows collapse at large logits, not all (%.3f of %.3f)" % (shares[0], acc))
        check(abs(shares[0] - ref_share) <= 1.0 / len(batch) + 1e-12,
              "collapse share %.4f, torch's float32 cross-entropy == 0 on %.4f" % (shares[0], ref_share))
        check(shares[1] == shares[0], "collapse under StableMax measured on the softmax (%.4f, %.4f)" % tuple(shares))
    print("torch %s; worst relative error per quantity (limit):" % torch.__version__)
    for q, (err, limit) in WORST.items():
        print("  %-18s %.3e  (%.0e)" % (q, err, limit))
    print("%d passed, %d failed" % (parity.PASS, parity.FAIL))
    sys.exit(1 if parity.FAIL else 0)


if __name__ == "__main__":
    main()
