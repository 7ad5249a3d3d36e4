#!/usr/bin/python3
"""The analyses on every modular task against numpy ports of the seeds' formulas.

Usage: /usr/bin/python3 tests/parity/tasks.py PATH_TO_TASKS_BINARY

`tasks DIR` (C) trains (a + b), (a^4 + b^4) and (a - b) mod 23 and writes the weights, grok.h's
logits, activations and resid_mid over all pairs, and what grok.h's analyses computed from them
with the task's labels, in both directions (the seeds' cos/sin(w(a+b)) and the task's own
cos/sin(w s)). Here the same quantities come from the seeds' own formulas, on grok.h's
activations (so that only the formulas are compared, in double: limit 1e-7 relative):
  seed 001 cells 55-60: the cos(w(s-c)) cube per frequency, its coefficient and cosine
    similarity with the logits, and the residual's fraction of the norm;
  seed 001 cell 64-65: the excluded loss (neuron activations minus their projections onto
    cos and sin of the key frequencies, through W_out and W_U, on the training pairs);
  seed 004's restricted loss (logits projected onto the key frequencies' directions plus the
    per-output mean of the rest, all pairs) and the excluded loss (the rest, training pairs);
and, from the weights with a float64 TransformerLens forward: grok.h's logits (1e-5), the
training loss grok_model_evaluate reports with the task's labels (1e-5) and the progress
measures' restricted and excluded loss (1e-5). Prints "N passed, N failed" last.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_load, forward, check, record, run_suite  # noqa: E402

P = 23
NF = (P - 1) // 2
TASKS = {"add": lambda a, b: (a + b) % P,
         "pow_sum": lambda a, b: (pow(int(a), 4, P) + pow(int(b), 4, P)) % P,
         "sub": lambda a, b: (a - b) % P}


def loss_fn(logits, labels):
    """Seed 000's loss_fn: float64 log-softmax, mean of -log p[label]."""
    lp = torch.log_softmax(torch.tensor(logits, dtype=torch.float64), dim=-1)
    return -lp.gather(-1, torch.tensor(labels)[:, None])[:, 0].mean().item()


def unit_dirs(s, k):
    """cos(w s), sin(w s) over the p*p pairs (a-major), each divided by its norm (seed 001 cell 64)."""
    w = 2 * np.pi * k / P
    c, sn = np.cos(w * s), np.sin(w * s)
    return c / np.linalg.norm(c), sn / np.linalg.norm(sn)


def project(X, s, freqs):
    """Sum over the key frequencies of the projections of X's columns onto cos and sin."""
    out = np.zeros_like(X)
    for k in freqs:
        for d in unit_dirs(s, k):
            out += np.outer(d, d @ X)
    return out


def cos_fit(L, s):
    """Seed 001 cells 55-60 with a + b replaced by s: L (p, p, p) against cos(w(s(a,b) - c))."""
    c = np.arange(P)
    coeff, cube_sum = np.zeros(NF), np.zeros_like(L)
    for k in range(1, NF + 1):
        cube = np.cos(2 * np.pi * k / P * (s.reshape(P, P)[:, :, None] - c[None, None, :]))
        cube /= np.linalg.norm(cube)
        coeff[k - 1] = (cube * L).sum()
        cube_sum += coeff[k - 1] * cube
    return coeff, coeff / np.linalg.norm(L), np.linalg.norm(L - cube_sum) / np.linalg.norm(L)


def close(what, got, want, limit):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))
    record(what.split(":")[1].strip().split(" (")[0], err, limit, what)


def check_task(d, name):
    pre = os.path.join(d, name + "_")
    W, meta = st_load(pre + "model.safetensors")
    logits = np.load(pre + "logits.npy").astype(np.float64)
    acts = np.load(pre + "acts.npy").astype(np.float64)
    resid = np.load(pre + "resid_mid.npy").astype(np.float64)
    rows = np.load(pre + "train_rows.npy")
    freqs = [int(k) for k in np.load(pre + "key_freqs.npy")]
    out = np.load(pre + "outputs.npy")
    a, b = np.divmod(np.arange(P * P), P)
    labels = np.array([TASKS[name](x, y) for x, y in zip(a, b)])
    # the model: a float64 forward from the weights gives grok.h's logits and training loss
    cfg = {k: meta[k] for k in ("normalization_type", "act_fn", "n_layers")}
    Pt = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
    tokens = torch.tensor(np.stack([a, b, np.full(P * P, P)], 1))
    ref = forward(Pt, cfg, tokens)[:, -1].numpy()
    close("%s: logits (float64 forward)" % name, logits, ref, 1e-5)
    close("%s: training loss (task's labels)" % name, out[-2], loss_fn(ref[rows], labels[rows]), 1e-5)
    at = 0
    for dirs in ("sum", "task"):
        s = (a + b) % P if dirs == "sum" else labels
        proj = project(logits, s, freqs)
        restricted = proj + (logits - proj).mean(0)
        excluded = logits - proj
        close("%s: restricted loss (seed 004, %s)" % (name, dirs), out[at], loss_fn(restricted, labels), 1e-7)
        close("%s: excluded loss (seed 004, %s)" % (name, dirs), out[at + 1], loss_fn(excluded[rows], labels[rows]), 1e-7)
        approx = project(acts, s, freqs)
        final = (acts - approx) @ W["blocks.0.mlp.W_out"] + W["blocks.0.mlp.b_out"] + resid
        ex_logits = final @ W["unembed.W_U"] + W["unembed.b_U"]
        close("%s: excluded loss of the neurons (seed 001, %s)" % (name, dirs), out[at + 2],
              loss_fn(ex_logits[rows], labels[rows]), 1e-7)
        coeff, cos_sim, residual = cos_fit(logits.reshape(P, P, P), s)
        close("%s: residual fraction (seed 001, %s)" % (name, dirs), out[at + 3], residual, 1e-7)
        close("%s: cos coefficients (seed 001, %s)" % (name, dirs), out[at + 4:at + 4 + NF], coeff, 1e-7)
        close("%s: cosine similarities (seed 001, %s)" % (name, dirs), out[at + 4 + NF:at + 4 + 2 * NF], cos_sim, 1e-7)
        if dirs == "sum":  # the progress measures: the task's labels, the seeds' directions
            proj64 = project(ref, s, freqs)
            close("%s: progress restricted loss" % name, out[-4], loss_fn(proj64 + (ref - proj64).mean(0), labels), 1e-5)
            close("%s: progress excluded loss" % name, out[-3], loss_fn((ref - proj64)[rows], labels[rows]), 1e-5)
        at += 4 + 2 * NF
    check(out[-1] == 1.0, "%s: the model fits its training pairs (accuracy %g)" % (name, out[-1]))
    if name != "add":  # the bug this guards against: (a+b)'s labels on another task
        check(loss_fn(ref[rows], ((a + b) % P)[rows]) > 100 * out[-2],
              "%s: (a+b)'s labels give another loss than the task's" % name)


def check_all(d):
    for name in TASKS:
        check_task(d, name)


if __name__ == "__main__":
    run_suite(__doc__, "tasks", check_all)
