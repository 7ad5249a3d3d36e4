#!/usr/bin/python3
"""Bring your PyTorch model: a model trained in plain PyTorch, analysed by grok.h, and back.

Usage: /usr/bin/python3 tests/parity/pytorch.py PATH_TO_PYTORCH_BINARY

1. Here, in torch (float32, AdamW, full batch): a one-layer transformer of modular addition at
   p = 23 with TransformerLens' names and shapes and no bias tensors (d_model 64, 4 heads,
   d_mlp 128, ReLU, no LayerNorm), trained 300 epochs (lr 1e-2, weight decay 1) on a
   torch.randperm split (80%: it groks, two key frequencies and their neuron clusters). Its
   state_dict goes out with st_save (as safetensors.torch.save_file writes it, no __metadata__)
   and the training indices with np.save.
   Before training, its initial weights go out too, and the run is repeated in float64 from
   them. `pytorch train` (C) trains grok.h from the same weights and split with the same AdamW:
   its training loss must match torch float32's to 1e-6 over the first 4 epochs, and in each
   window of epochs (1-10, 11-50, 51-300) its training and test losses must stay within 5 times
   torch float64's distance from torch float32 (PyTorch's own rounding spread; training
   amplifies any rounding difference, by 1e-5 at epoch 5 and 10-30% by epoch 30 at lr 1e-2).
2. `pytorch analyze` (C: the calls examples/analyze makes) loads it (the config from the shapes,
   the absent biases zero and frozen) with that split; its losses over all pairs, the training
   and the test pairs (limit 1e-5 relative to a float64 forward here), its key frequencies and
   its neuron cluster counts (seed 004, min frac 0.85) must be the numpy ports'.
3. examples/analyze itself (compiled here from examples/analyze.c) on the same file: with
   --split its closing lines carry the same key frequencies and loss (%.6g), its cluster lines
   the same counts; without it every split-dependent line says "split unknown" (excluded=nan).
4. `pytorch model` (C) trains a grok.h model with biases and writes model.safetensors and its
   logits; loaded here into the torch module with load_state_dict(strict=True) it gives the same
   logits (1e-5 relative, float32). Prints "N passed, N failed" last.
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_load, st_save, check, record, WORST  # noqa: E402

P, D, H, DH, M = 23, 64, 4, 16, 128
EPOCHS = 300
# A trajectory from torch's weights and split: the first EXACT_EPOCHS agree to rounding; after
# that training amplifies any rounding difference (torch float32 against float64 differ by 1e-5
# at epoch 5 and 10% by epoch 30 here), so in each window grok.h's distance from torch float32
# must stay within SPREAD times torch float64's.
EXACT_EPOCHS, SPREAD = 4, 5.0
WINDOWS = ((0, 10), (10, 50), (50, EPOCHS))
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Attn(torch.nn.Module):
    def __init__(self, d, h, dh, bias):
        super().__init__()
        for n, s in (("W_Q", (h, d, dh)), ("W_K", (h, d, dh)), ("W_V", (h, d, dh)), ("W_O", (h, dh, d))):
            setattr(self, n, torch.nn.Parameter(torch.randn(s) / np.sqrt(d)))
        if bias:
            for n, s in (("b_Q", (h, dh)), ("b_K", (h, dh)), ("b_V", (h, dh)), ("b_O", (d,))):
                setattr(self, n, torch.nn.Parameter(torch.zeros(s)))
        self.bias = bias

    def forward(self, x):
        b = (lambda n: getattr(self, n)) if self.bias else (lambda n: 0.0)
        q = torch.einsum("btc,hcd->bthd", x, self.W_Q) + b("b_Q")
        k = torch.einsum("btc,hcd->bthd", x, self.W_K) + b("b_K")
        v = torch.einsum("btc,hcd->bthd", x, self.W_V) + b("b_V")
        T = x.shape[1]
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
        scores = scores.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float("-inf"))
        z = torch.einsum("bhqk,bkhd->bqhd", torch.softmax(scores, dim=-1), v)
        return torch.einsum("bqhd,hdc->bqc", z, self.W_O) + b("b_O")


class Mlp(torch.nn.Module):
    def __init__(self, d, m, bias):
        super().__init__()
        self.W_in = torch.nn.Parameter(torch.randn(d, m) / np.sqrt(d))
        self.W_out = torch.nn.Parameter(torch.randn(m, d) / np.sqrt(m))
        if bias:
            self.b_in = torch.nn.Parameter(torch.zeros(m))
            self.b_out = torch.nn.Parameter(torch.zeros(d))
        self.bias = bias

    def forward(self, x):
        post = torch.relu(x @ self.W_in + (self.b_in if self.bias else 0.0))
        return post, post @ self.W_out + (self.b_out if self.bias else 0.0)


class Block(torch.nn.Module):
    def __init__(self, d, h, dh, m, bias):
        super().__init__()
        self.attn, self.mlp = Attn(d, h, dh, bias), Mlp(d, m, bias)


class Param(torch.nn.Module):
    def __init__(self, name, shape):
        super().__init__()
        setattr(self, name, torch.nn.Parameter(torch.randn(shape) / np.sqrt(shape[-1])))


class Transformer(torch.nn.Module):
    """TransformerLens' HookedTransformer (1 layer, no LayerNorm, ReLU): the same state_dict names."""

    def __init__(self, p, d, h, dh, m, bias):
        super().__init__()
        self.embed, self.pos_embed = Param("W_E", (p + 1, d)), Param("W_pos", (3, d))
        self.blocks = torch.nn.ModuleList([Block(d, h, dh, m, bias)])
        self.unembed = Param("W_U", (d, p))
        if bias:
            self.unembed.b_U = torch.nn.Parameter(torch.zeros(p))
        self.bias = bias

    def forward(self, tokens):
        """Logits at '=' and the MLP's activations there."""
        resid = self.embed.W_E[tokens] + self.pos_embed.W_pos[: tokens.shape[1]]
        resid = resid + self.blocks[0].attn(resid)
        post, out = self.blocks[0].mlp(resid)
        resid = resid + out
        return (resid @ self.unembed.W_U + (self.unembed.b_U if self.bias else 0.0))[:, -1], post[:, -1]


def train_torch(model, tokens, labels, train, test):
    """EPOCHS full-batch AdamW steps (lr 1e-2, weight decay 1, betas (0.9, 0.98)): (EPOCHS, 2) of
    the training loss of each step's forward and the test loss after every 10th step (NaN
    between)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1.0, betas=(0.9, 0.98))
    traj = np.full((EPOCHS, 2), np.nan)
    for e in range(EPOCHS):
        opt.zero_grad()
        logits, _ = model(tokens[train])
        loss = torch.nn.functional.cross_entropy(logits, labels[train])
        loss.backward()
        opt.step()
        traj[e, 0] = loss.item()
        if (e + 1) % 10 == 0:
            with torch.no_grad():
                traj[e, 1] = torch.nn.functional.cross_entropy(model(tokens[test])[0], labels[test]).item()
    return traj


def all_pairs(p):
    a, b = np.divmod(np.arange(p * p), p)
    return torch.tensor(np.stack([a, b, np.full(p * p, p)], 1)), torch.tensor((a + b) % p)


def xent(logits, labels):
    return -torch.log_softmax(logits.double(), -1).gather(-1, labels[:, None])[:, 0].mean().item()


def fourier_basis(p):
    x = np.arange(p)
    rows = [np.ones(p)]
    for k in range(1, p // 2 + 1):
        rows += [np.cos(2 * np.pi * k * x / p), np.sin(2 * np.pi * k * x / p)]
    F = np.array(rows[:p])
    return F / np.linalg.norm(F, axis=1, keepdims=True)


def key_freqs(W_E, p, min_share=0.05):
    """grok_key_freqs' rule on seed 004's (fourier_basis @ W_E[:p]).pow(2).sum(1)."""
    n = ((fourier_basis(p) @ W_E[:p]) ** 2).sum(1)
    share = np.array([n[2 * k - 1] + n[2 * k] for k in range(1, (p - 1) // 2 + 1)]) / n[1:].sum()
    order = sorted(range(len(share)), key=lambda i: (-share[i], i))
    keys = [i + 1 for i in order if share[i] >= min_share]
    return keys or [order[0] + 1]


def cluster_counts(acts, p, min_frac=0.85):
    """Seed 004: the centred neurons in the 2-D Fourier basis, each one's frequency by the nine terms."""
    F = fourier_basis(p)
    X = acts - acts.mean(0)
    fa = np.einsum("ia,abm,jb->ijm", F, X.reshape(p, p, -1), F)
    tot = (fa ** 2).sum((0, 1))
    best, frac = np.zeros(acts.shape[1], int), np.zeros(acts.shape[1])
    for k in range(1, (p - 1) // 2 + 1):
        idx = [0, 2 * k - 1, 2 * k]
        s = (fa[np.ix_(idx, idx)] ** 2).sum((0, 1)) / np.where(tot > 0, tot, 1)
        better = s > frac
        best[better], frac[better] = k, s[better]
    best[frac < min_frac] = -1
    return {f: int((best == f).sum()) for f in list(range(1, (p - 1) // 2 + 1)) + [-1]}, frac


def relclose(what, got, want, limit):
    err = abs(got - want) / abs(want)
    record(what, err, limit, "%s: %.9g vs %.9g" % (what, got, want))


def main():
    binary = os.path.abspath(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(1)
    tokens, labels = all_pairs(P)
    with tempfile.TemporaryDirectory() as d:
        # 1. train in torch, without biases
        model = Transformer(P, D, H, DH, M, bias=False)
        perm = torch.randperm(P * P)
        train = perm[: int(0.8 * P * P)]
        test = perm[int(0.8 * P * P):]
        init = os.path.join(d, "init.safetensors")
        st_save(init, {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()})
        # the same run in float64 from the same weights: PyTorch's own rounding spread
        model64 = Transformer(P, D, H, DH, M, bias=False).double()
        model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()}, strict=True)
        traj, traj64 = train_torch(model, tokens, labels, train, test), train_torch(model64, tokens, labels, train, test)
        sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
        check(not any(".b_" in k for k in sd), "the torch state dict has no bias tensors")
        path, split = os.path.join(d, "model.safetensors"), os.path.join(d, "train_indices.npy")
        st_save(path, sd)
        np.save(split, train.numpy().astype(np.int64))

        # 0. the same run in grok.h from torch's initial weights and split: the trajectories agree
        out = os.path.join(d, "grok_traj.npy")
        r = subprocess.run([binary, "train", init, split, str(EPOCHS), out], capture_output=True, text=True)
        check(r.returncode == 0, "pytorch train: exit %d %s" % (r.returncode, r.stderr))
        if r.returncode == 0:
            g = np.load(out)
            rel = lambda a, col: np.abs(a[:, col] - traj[:, col]) / np.abs(traj[:, col])  # noqa: E731
            record("trajectory: first epochs", rel(g, 0)[:EXACT_EPOCHS].max(), 1e-6,
                   "training loss of epochs 1..%d against torch float32" % EXACT_EPOCHS)
            tests = ~np.isnan(traj[:, 1])
            for lo, hi in WINDOWS:
                for col, what in ((0, "training"), (1, "test")):
                    sel = np.zeros(EPOCHS, bool)
                    sel[lo:hi] = True
                    if col == 1:
                        sel &= tests
                    ours, spread = rel(g, col)[sel].max(), rel(traj64, col)[sel].max()
                    print("epochs %d..%d, %s loss: grok.h within %.2e of torch float32; torch float64 within %.2e"
                          % (lo + 1, hi, what, ours, spread))
                    record("trajectory: within torch's own spread", ours / (SPREAD * spread + 1e-6), 1.0,
                           "epochs %d..%d %s loss: grok.h's deviation %.2e > %g x torch float64's %.2e"
                           % (lo + 1, hi, what, ours, SPREAD, spread))

        # the reference: a float64 forward of the saved float32 weights
        ref = Transformer(P, D, H, DH, M, bias=False).double()
        ref.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in sd.items()}, strict=True)
        with torch.no_grad():
            L, acts = ref(tokens)
        want = {"loss_all": xent(L, labels), "loss_train": xent(L[train], labels[train]),
                "loss_test": xent(L[test], labels[test])}
        keys = key_freqs(sd["embed.W_E"].astype(np.float64), P)
        counts, frac = cluster_counts(acts.numpy(), P)
        print("torch: loss train %.3e, test %.3e; key frequencies %s; clusters %s; neuron fracs nearest 0.85: %.4f"
              % (want["loss_train"], want["loss_test"], keys, {k: v for k, v in counts.items() if v},
                 frac[np.argmin(np.abs(frac - 0.85))]))

        # 2. the library's calls
        r = subprocess.run([binary, "analyze", path, split], capture_output=True, text=True)
        check(r.returncode == 0, "pytorch analyze: exit %d %s" % (r.returncode, r.stderr))
        got = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        check(got.get("zeroed") == "7", "the 7 absent bias tensors reported (%s)" % got.get("zeroed"))
        check(got.get("train_biases") == "0", "the config of a file without biases: train_biases 0 (%s)" % got.get("train_biases"))
        for k in want:
            relclose(k, float(got.get(k, "nan")), want[k], 1e-5)
        check(got.get("key_freqs") == ",".join(map(str, keys)), "key frequencies %s, numpy %s" % (got.get("key_freqs"), keys))
        c_counts = dict(tuple(map(int, kv.split(":"))) for kv in got.get("clusters", "").split(",") if kv)
        check(c_counts == counts, "neuron cluster counts %s, numpy %s" % (c_counts, counts))
        check(sum(v for k, v in counts.items() if k != -1) > 0, "the torch model grokked: neurons in frequency clusters")

        # 3. examples/analyze, with and without the split
        analyze = os.path.join(d, "analyze")
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-std=c99", "-O2", "-o", analyze, os.path.join(ROOT, "examples", "analyze.c"), "-lm", "-lpthread"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "build examples/analyze: %s" % r.stderr[-500:])
        r = subprocess.run([analyze, "--ckpt", path, "--split", split, "--out", os.path.join(d, "an"), "--threads", "1"],
                           capture_output=True, text=True)
        out = r.stdout
        check(r.returncode == 0, "analyze --split: exit %d %s" % (r.returncode, r.stderr[-300:]))
        check("config inferred from the shapes" in out and "7 bias tensors absent from the file" in out,
              "analyze says what it inferred and that the biases were absent")
        m = re.search(r"^key_freqs=(\S*)$", out, re.M)
        check(m and m.group(1) == ",".join(map(str, keys)), "analyze's key_freqs line")
        m = re.search(r"^loss original=(\S+) restricted=(\S+) excluded=(\S+)$", out, re.M)
        check(m is not None, "analyze's closing loss line")
        if m:
            relclose("analyze loss original (%.6g)", float(m.group(1)), want["loss_all"], 1e-5)
        m = re.search(r"^losses: original (\S+) \(all pairs; train (\S+), test (\S+)\)$", out, re.M)
        check(m is not None, "analyze's losses line")
        if m:
            relclose("analyze loss train (%.3e)", float(m.group(2)), want["loss_train"], 1e-3)
            relclose("analyze loss test (%.3e)", float(m.group(3)), want["loss_test"], 1e-3)
        a_counts = {int(k): int(n) for k, n in re.findall(r"^  k=(\d+)\s+(\d+) neurons", out, re.M)}
        m = re.search(r"^  none\s+(\d+) neurons", out, re.M)
        a_counts[-1] = int(m.group(1)) if m else -1
        check(a_counts == {k: v for k, v in counts.items() if v or k == -1 or k in a_counts},
              "analyze's cluster lines %s, numpy %s" % (a_counts, counts))
        r = subprocess.run([analyze, "--ckpt", path, "--out", os.path.join(d, "an2"), "--threads", "1"],
                           capture_output=True, text=True)
        out = r.stdout
        check(r.returncode == 0 and "split unknown" in out and re.search(r"^loss original=\S+ restricted=\S+ excluded=nan$", out, re.M)
              and "train and test: split unknown" in out and "progress measures as grok_train writes them: split unknown" in out,
              "analyze without a split: split unknown, excluded=nan")

        # 4. grok.h's model.safetensors into the torch module
        r = subprocess.run([binary, "model", d], capture_output=True, text=True)
        check(r.returncode == 0, "pytorch model: exit %d %s" % (r.returncode, r.stderr))
        W, meta = st_load(os.path.join(d, "grok.safetensors"))
        back = Transformer(P, 32, 4, 8, 64, bias=True)
        back.load_state_dict({k: torch.tensor(v) for k, v in W.items()}, strict=True)
        check(meta.get("frozen") == "pos_embed.W_pos", "__metadata__ frozen names W_pos (%r)" % meta.get("frozen"))
        check(max(np.abs(W[k]).max() for k in W if ".b_" in k) > 0, "grok.h's biases trained (non-zero)")
        with torch.no_grad():
            L32, _ = back(tokens)
        err = float(np.abs(L32.numpy() - np.load(os.path.join(d, "grok_logits.npy"))).max() / np.abs(L32.numpy()).max())
        record("grok.h -> torch logits", err, 1e-5, "grok.h's logits against torch's of its model.safetensors")
    for q, (e, lim) in sorted(WORST.items()):
        print("worst %-34s %.3e (limit %.0e)" % (q, e, lim))
    from parity import PASS, FAIL  # noqa: E402 (the counters after the checks)
    print("%d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)


if __name__ == "__main__":
    main()
