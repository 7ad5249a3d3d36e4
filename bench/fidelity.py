#!/usr/bin/python3
"""bench/fidelity.py: does grok.h grok when PyTorch does, within PyTorch's own rounding spread?

Grokking is a slow drift on a loss plateau, and training amplifies every rounding difference, so
two exact implementations of the same run part ways long before they grok. This study trains seed
000's model (bench/torch_epoch.py) from the same initial weights (torch.manual_seed(999),
TransformerLens' std 0.8/sqrt(d_model)) and the same split (torch.manual_seed(598), the first
frac of randperm(p*p)) in variants that change only the rounding, and reports the first
evaluated epoch at which test accuracy reaches 50% and 99%:

  torch32          PyTorch float32 as torch_epoch.py writes it (einsum per head, all 3 positions)
  torch32_matmul   float32, attention another way: Q, K and V from one fused matmul, q scaled
                   before q.k^T, heads through batched matmul, W_O as one (h*d_head, d_model) matmul
  torch32_merged   float32, the block's output side only at '=' and W_out merged with W_U
                   (logits = resid_mid W_U + post (W_out W_U)), as grok.h's folded path computes it
  torch64          the same as torch32 in float64 (from the float32 initial weights)
  torch64_merged   torch32_merged in float64: a third of torch64's work, for p = 113, where
                   torch64 takes about 1 s per epoch on one core
  grokh            examples/modadd --init --split: the folded path (the default), 1 thread
  grokh_general    examples/modadd --general-path: the general forward, 1 thread
  grokh_denormals  examples/modadd built with -DGROK_KEEP_DENORMALS (subnormals kept), 1 thread
  grokh_2threads   examples/modadd at --threads 2, for --thread-check epochs: its metrics must
                   be grokh's, bit for bit (grok.h's bits do not depend on the thread count)

Each variant writes OUT/NAME.csv (epoch,train_loss,test_loss,test_acc every --every epochs; the
training loss that of the epoch's step, before its update, as grok.h's metrics.csv has it) and
stops once test accuracy reaches 99%; the table covers every variant with a CSV in OUT, so that
variants may run in separate processes (--only) and the table be printed after (--table).

PyTorch's speed: Debian's python3-torch calls the reference (netlib) BLAS, about 1 s per p = 59
epoch on one core; OpenBLAS (libopenblas0-pthread) is several times faster, and its kernels
(OPENBLAS_CORETYPE=Haswell, SkylakeX, Sandybridge) are further roundings of the same products.
Each torch variant's log names the BLAS it loaded:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 bench/fidelity.py
Likewise grok.h's GEMM kernels: GROK_KERNEL=avx2 or generic in the environment reaches modadd.

Usage: bench/fidelity.py [--p 59] [--frac 0.4] [--every 50] [--epochs 10000] [--out runs/fidelity]
                         [--only NAME,...] [--thread-check 1000] [--table]
The canonical study (hours): bench/fidelity.py --p 113 --frac 0.3 --every 100 --epochs 25000
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
from torch_epoch import CAUSAL, D_HEAD, D_MODEL, N_HEADS, TL_NAMES, adamw, all_pairs, forward, initial_weights, loss_fn  # noqa: E402
from parity import st_save  # noqa: E402

MODEL_SEED, DATA_SEED = 999, 598
COLUMNS = ("epoch", "train_loss", "test_loss", "test_acc")


def forward_matmul(w, tokens):
    """forward's function with the attention contracted another way."""
    resid = w["W_E"][tokens] + w["W_pos"]
    n, t = tokens.shape
    w_qkv = torch.cat([w[k].permute(1, 0, 2).reshape(D_MODEL, N_HEADS * D_HEAD) for k in ("W_Q", "W_K", "W_V")], 1)
    b_qkv = torch.cat([w[k].reshape(-1) for k in ("b_Q", "b_K", "b_V")])
    q, k, v = (resid @ w_qkv + b_qkv).view(n, t, 3, N_HEADS, D_HEAD).permute(2, 0, 3, 1, 4)  # each (n, h, t, d_head)
    scores = (q / math.sqrt(D_HEAD)) @ k.transpose(-1, -2)
    pattern = scores.masked_fill(~CAUSAL, float("-inf")).softmax(dim=-1)
    z = (pattern @ v).transpose(1, 2).reshape(n, t, N_HEADS * D_HEAD)
    resid = resid + z @ w["W_O"].reshape(N_HEADS * D_HEAD, D_MODEL) + w["b_O"]
    post = torch.relu(resid @ w["W_in"] + w["b_in"])
    return (resid + post @ w["W_out"] + w["b_out"]) @ w["W_U"] + w["b_U"]


def forward_merged(w, tokens):
    """forward's logits at '=' (the only ones the loss reads), the rest of the block skipped and
    W_out merged with W_U; one position, the last, for loss_fn and accuracy."""
    resid = w["W_E"][tokens] + w["W_pos"]
    q = torch.einsum("bd,hde->bhe", resid[:, -1], w["W_Q"]) + w["b_Q"]
    k = torch.einsum("bpd,hde->bphe", resid, w["W_K"]) + w["b_K"]
    v = torch.einsum("bpd,hde->bphe", resid, w["W_V"]) + w["b_V"]
    pattern = (torch.einsum("bhe,bkhe->bhk", q, k) / math.sqrt(D_HEAD)).softmax(dim=-1)  # '=' sees every position
    z = torch.einsum("bhk,bkhe->bhe", pattern, v)
    mid = resid[:, -1] + torch.einsum("bhe,hed->bd", z, w["W_O"]) + w["b_O"]
    post = torch.relu(mid @ w["W_in"] + w["b_in"])
    logits = mid @ w["W_U"] + post @ (w["W_out"] @ w["W_U"]) + (w["b_out"] @ w["W_U"] + w["b_U"])
    return logits[:, None, :]


TORCH_VARIANTS = {"torch32": (torch.float32, forward), "torch32_matmul": (torch.float32, forward_matmul),
                  "torch32_merged": (torch.float32, forward_merged), "torch64": (torch.float64, forward),
                  "torch64_merged": (torch.float64, forward_merged)}
GROKH_VARIANTS = ("grokh", "grokh_general", "grokh_denormals", "grokh_2threads")


def split_indices(p, frac):
    """The seed's split: the training rows a*p + b."""
    torch.manual_seed(DATA_SEED)
    return torch.randperm(p * p)[: int(p * p * frac)]


def accuracy(logits, labels):
    return (logits[:, -1].argmax(-1) == labels).double().mean().item()


def write_csv(path, rows):
    with open(path + ".part", "w", newline="") as f:
        csv.writer(f).writerows([COLUMNS] + rows)
    os.replace(path + ".part", path)  # a CSV in OUT is always a finished run


def train_torch(name, args):
    """The run in PyTorch: rows of COLUMNS after every --every epochs, until 99% test accuracy."""
    dtype, fwd = TORCH_VARIANTS[name]
    torch.set_num_threads(1)
    print("%s: torch %s, BLAS %s" % (name, torch.__version__, blas_in_use()), flush=True)
    w = {k: t.detach().to(dtype).requires_grad_(t.requires_grad) for k, t in initial_weights(args.p, MODEL_SEED).items()}
    opt = adamw(w)
    data, labels = all_pairs(args.p)
    train = split_indices(args.p, args.frac)  # in the split's order, as examples/modadd takes the rows
    is_test = torch.ones(args.p * args.p, dtype=torch.bool)
    is_test[train] = False
    x, y, x_test, y_test = data[train], labels[train], data[is_test], labels[is_test]
    rows, t0 = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        loss = loss_fn(fwd(w, x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if epoch % args.every == 0:
            with torch.no_grad():
                test_logits = fwd(w, x_test)
                rows.append([epoch, "%.9g" % loss.item(), "%.9g" % loss_fn(test_logits, y_test).item(),
                             "%.6f" % accuracy(test_logits, y_test)])
            print("%s: epoch %d test_acc %s (%.0f ms/epoch)" % (name, epoch, rows[-1][3], 1e3 * (time.perf_counter() - t0) / epoch),
                  flush=True)
            if float(rows[-1][3]) >= 0.99:
                break
    write_csv(os.path.join(args.out, name + ".csv"), rows)


def modadd_binary(name, args):
    """examples/modadd, or for grokh_denormals the same source built with GROK_KEEP_DENORMALS into OUT."""
    if name != "grokh_denormals":
        return os.path.join(ROOT, "examples", "modadd")
    binary = os.path.join(args.out, "modadd_keep_denormals")
    subprocess.run([os.environ.get("CC", "cc"), "-std=c99", "-O2", "-DGROK_KEEP_DENORMALS", "-o", binary,
                    os.path.join(ROOT, "examples", "modadd.c"), "-lm", "-lpthread"], check=True)
    return binary


def train_grokh(name, args):
    """The run in grok.h from OUT/init.safetensors and OUT/train_indices.npy; its metrics.csv as COLUMNS."""
    run_dir = os.path.join(args.out, name + ".run")
    epochs = args.thread_check if name == "grokh_2threads" else args.epochs
    cmd = [modadd_binary(name, args), "--p", str(args.p), "--init", os.path.join(args.out, "init.safetensors"),
           "--split", os.path.join(args.out, "train_indices.npy"), "--epochs", str(epochs), "--every", str(args.every),
           "--threads", "2" if name == "grokh_2threads" else "1", "--no-measures", "--out", run_dir, "--force"]
    if name == "grokh_general":
        cmd.append("--general-path")
    if name != "grokh_2threads":  # the thread check compares every row up to --thread-check
        cmd += ["--early-stop", "0.99", "--early-stop-evals", "1"]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        rows = [[r[c] for c in COLUMNS] for r in csv.DictReader(f)]
    write_csv(os.path.join(args.out, name + ".csv"), rows)


def read_rows(path):
    with open(path) as f:
        return list(csv.reader(f))[1:]


def first_epoch(rows, acc):
    """The first evaluated epoch with test accuracy >= acc, or None."""
    return next((int(r[0]) for r in rows if float(r[3]) >= acc), None)


def blas_in_use():
    """The BLAS library this process's torch loaded."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    with open("/proc/self/maps") as f:
        libs = {os.path.basename(line.split()[-1]) for line in f if "blas" in line.lower()}
    return ", ".join(sorted(libs)) or "none found"


def table(args):
    """The epochs to 50% and 99% of every finished variant; the thread check; grok.h against torch's spread."""
    results = {}
    for name in list(TORCH_VARIANTS) + list(GROKH_VARIANTS):
        path = os.path.join(args.out, name + ".csv")
        if os.path.exists(path):
            results[name] = read_rows(path)
    print("p=%d frac=%g every=%d (each torch variant's log names the BLAS it ran on)" % (args.p, args.frac, args.every))
    print("%-16s %9s %9s %14s" % ("variant", "50%", "99%", "train_loss@%d" % args.every))
    for name, rows in results.items():
        if name == "grokh_2threads":
            continue
        fmt = lambda e: "-" if e is None else str(e)  # noqa: E731
        print("%-16s %9s %9s %14s" % (name, fmt(first_epoch(rows, 0.5)), fmt(first_epoch(rows, 0.99)), rows[0][1] if rows else "-"))
    if "grokh_2threads" in results and "grokh" in results:
        # grokh stops at 99%, grokh_2threads at --thread-check: compare the evaluations both made
        n = min(len(results["grokh"]), len(results["grokh_2threads"]))
        same = results["grokh"][:n] == results["grokh_2threads"][:n]
        print("grok.h at 2 threads: %s over %d evaluations (to epoch %s)"
              % ("the same metrics as at 1 thread" if same else "METRICS DIFFER from 1 thread", n, results["grokh"][n - 1][0] if n else "-"))
    for acc in (0.5, 0.99):
        spread = [first_epoch(results[n], acc) for n in TORCH_VARIANTS if n in results]
        spread = [e for e in spread if e is not None]
        ours = ", ".join("%s %s" % (n, first_epoch(results[n], acc)) for n in GROKH_VARIANTS[:3] if n in results)
        if spread:
            print("torch's spread at %g%%: %d..%d%s" % (100 * acc, min(spread), max(spread), "; grok.h " + ours if ours else ""))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--p", type=int, default=59, help="modulus (59: minutes; 113: the canonical run, hours)")
    ap.add_argument("--frac", type=float, default=0.4, help="fraction of the p*p pairs used for training")
    ap.add_argument("--every", type=int, default=50, help="evaluate every N epochs")
    ap.add_argument("--epochs", type=int, default=10000, help="most epochs a variant trains (each stops at 99%% test accuracy)")
    ap.add_argument("--out", default="runs/fidelity", help="directory of the initial weights, the split and the results")
    ap.add_argument("--only", default=",".join(list(TORCH_VARIANTS) + list(GROKH_VARIANTS)), help="variants to run, comma-separated")
    ap.add_argument("--thread-check", type=int, default=1000, help="epochs grokh_2threads trains and compares with grokh")
    ap.add_argument("--table", action="store_true", help="run nothing: print the table of the results in OUT")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in TORCH_VARIANTS and n not in GROKH_VARIANTS]
    if unknown:
        ap.error("unknown variant %s (known: %s)" % (", ".join(unknown), ", ".join(list(TORCH_VARIANTS) + list(GROKH_VARIANTS))))
    if not 2 <= args.p <= 46340:
        ap.error("--p must be in 2..46340")
    if not 0 < args.frac < 1 or int(args.p * args.p * args.frac) < 1 or int(args.p * args.p * args.frac) >= args.p * args.p:
        ap.error("--frac must leave at least one training and one test pair")
    for flag in ("every", "epochs", "thread_check"):
        if getattr(args, flag) < 1:
            ap.error("--%s must be a positive integer" % flag.replace("_", "-"))
    if any(n in GROKH_VARIANTS for n in names) and not args.table and not os.access(os.path.join(ROOT, "examples", "modadd"), os.X_OK):
        ap.error("the grok.h variants run examples/modadd: build it first (make examples/modadd)")
    args.names = names
    return args


def main(argv):
    args = parse_args(argv)  # argparse exits 2 on bad input
    os.makedirs(args.out, exist_ok=True)
    if not args.table:
        init = initial_weights(args.p, MODEL_SEED)
        # the trained tensors only: grok.h's --init takes the absent biases as zero and frozen
        # written aside and renamed: a study running beside this one (--only) may be reading them
        aside = os.path.join(args.out, "%d.part" % os.getpid())
        st_save(aside, {TL_NAMES[k]: t.detach().numpy() for k, t in init.items() if t.requires_grad})
        os.replace(aside, os.path.join(args.out, "init.safetensors"))
        with open(aside, "wb") as f:
            np.save(f, split_indices(args.p, args.frac).numpy().astype(np.int64))
        os.replace(aside, os.path.join(args.out, "train_indices.npy"))
        for name in args.names:
            (train_torch if name in TORCH_VARIANTS else train_grokh)(name, args)
    table(args)


if __name__ == "__main__":
    main(sys.argv[1:])
