#!/usr/bin/python3
"""Parity of grok.h with PyTorch and numpy (tests/parity/run.sh, `make test-parity`).

Usage: /usr/bin/python3 tests/parity/parity.py PATH_TO_PARITY_BINARY

1. `parity gen DIR` (C) writes four small models' weights (safetensors), a batch (.npy) and
   grok.h's logits, losses, gradients and the weights after two AdamW steps; and inputs and
   outputs of grok.h's DFT and SVD.
2. This script reads them with its own strict safetensors reader, implements the same model
   in plain torch float64 (TransformerLens' formulas) and compares: logits, loss, every
   gradient (autograd), both AdamW steps (torch.optim.AdamW fed grok.h's gradients, float32,
   foreach=False) and the moments; numpy.fft (fft, ifft, rfft, fft2) and
   numpy.linalg.svd's singular values.
3. It writes a TransformerLens-style state dict (F64, attn.mask and attn.IGNORE buffers, laid
   out as safetensors.torch.save_file does) and a torch.randperm split as int64 .npy files;
   `parity check DIR` (C) loads them and writes grok.h's logits and losses, compared here.

Relative error of a quantity = max |grok - reference| / max |reference| over the tensor.
A gradient that is zero in exact arithmetic (b_K: softmax is shift invariant) is measured
against the largest gradient of the model instead. Limits: 1e-5 for the model (float32 against
float64), 1e-10 for the DFT and the SVD (double). Prints the worst error per quantity and ends
with "N passed, N failed"; exit status 1 if anything failed.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

torch.set_grad_enabled(True)
PASS = FAIL = 0
WORST = {}


def check(ok, what):
    global PASS, FAIL
    if ok:
        PASS += 1
    else:
        FAIL += 1
        print("FAIL", what)


def record(quantity, err, limit, what):
    WORST[quantity] = max(WORST.get(quantity, (0.0, limit))[0], err), limit
    check(err <= limit, "%s: relative error %.3e > %.0e" % (what, err, limit))


def relerr(a, b, scale=None):
    a, b = np.asarray(a), np.asarray(b)
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        a, b = a.astype(np.float64), b.astype(np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    s = scale if scale is not None else np.max(np.abs(b))
    d = np.max(np.abs(a - b))
    return 0.0 if d == 0 else d / s


def run_suite(doc, name, check_all, args=()):
    """The main of a suite whose C half writes into a directory: `NAME.py BINARY` runs `BINARY ARGS
    DIR` in a temporary DIR, then check_all(DIR), the worst error per quantity and the closing
    line."""
    if len(sys.argv) != 2:
        print(doc)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="grok_%s_" % name) as d:
        r = subprocess.run([binary, *args, d], capture_output=True, text=True)
        print(r.stdout.strip())
        if r.returncode != 0:
            print("FAIL %s:" % name, r.stderr.strip())
            print("0 passed, 1 failed")
            sys.exit(1)
        check_all(d)
    print("worst relative error per quantity (limit):")
    for q, (err, limit) in WORST.items():
        print("  %-44s %.3e  (%.0e)" % (q, err, limit))
    print("%d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)


# ---------------------------------------------------------------- safetensors
DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_, "U8": np.uint8}


def st_load(path):
    """A strict reader: the tensors must tile the data exactly, as the safetensors library checks."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        assert set(info) == {"dtype", "shape", "data_offsets"}, info
        b, e = info["data_offsets"]
        dt = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert e - b == count * dt.itemsize, (name, b, e)
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"]).copy()
        spans.append((b, e))
    pos = 0
    for b, e in sorted(spans):
        assert b == pos, "gap or overlap"
        pos = e
    assert pos == len(data), "data not covered"
    return out, meta


def st_save(path, tensors, meta=None):
    """As safetensors.torch.save_file writes: data by dtype alignment (descending) then name,
    header padded with spaces to 8 bytes."""
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    header, blobs, pos = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for k in order:
        a = np.ascontiguousarray(tensors[k])
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        names = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.bool_): "BOOL"}
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- the model
def forward(P, cfg, tokens, hook=None):
    """P: name -> float64 tensor. Returns logits (B, T, V). hook(name, x) -> x, when given, is
    called at every TransformerLens hook point (hook_embed .. ln_final.hook_normalized, each
    LayerNorm's hook_scale and hook_normalized, the latter before w and b) and what it returns
    goes on, as HookPoint does."""
    h = hook or (lambda name, x: x)
    T = tokens.shape[1]
    ln = cfg["normalization_type"] == "LN"
    eps = float(cfg.get("eps", 1e-5))
    act = torch.relu if cfg["act_fn"] == "relu" else (lambda x: torch.nn.functional.gelu(x, approximate="none"))

    def norm(x, w, b, name):
        x = x - x.mean(-1, keepdim=True)
        scale = h(name + ".hook_scale", (x.pow(2).mean(-1, keepdim=True) + eps).sqrt())
        return h(name + ".hook_normalized", x / scale) * w + b

    embed = h("hook_embed", P["embed.W_E"][tokens])
    pos_embed = h("hook_pos_embed", P["pos_embed.W_pos"][:T].expand(tokens.shape[0], T, -1))
    resid = embed + pos_embed
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(int(cfg["n_layers"])):
        g = lambda n: P["blocks.%d.%s" % (l, n)]
        n = lambda s: "blocks.%d.%s" % (l, s)
        resid = h(n("hook_resid_pre"), resid)
        x = norm(resid, g("ln1.w"), g("ln1.b"), n("ln1")) if ln else resid
        q = h(n("attn.hook_q"), torch.einsum("btc,hcd->bthd", x, g("attn.W_Q")) + g("attn.b_Q"))
        k = h(n("attn.hook_k"), torch.einsum("btc,hcd->bthd", x, g("attn.W_K")) + g("attn.b_K"))
        v = h(n("attn.hook_v"), torch.einsum("btc,hcd->bthd", x, g("attn.W_V")) + g("attn.b_V"))
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
        scores = h(n("attn.hook_attn_scores"), scores.masked_fill(~mask, float("-inf")))
        pattern = h(n("attn.hook_pattern"), torch.softmax(scores, dim=-1))
        z = h(n("attn.hook_z"), torch.einsum("bhqk,bkhd->bqhd", pattern, v))
        attn_out = h(n("hook_attn_out"), torch.einsum("bqhd,hdc->bqc", z, g("attn.W_O")) + g("attn.b_O"))
        resid = h(n("hook_resid_mid"), resid + attn_out)
        x = norm(resid, g("ln2.w"), g("ln2.b"), n("ln2")) if ln else resid
        pre = h(n("mlp.hook_pre"), x @ g("mlp.W_in") + g("mlp.b_in"))
        post = h(n("mlp.hook_post"), act(pre))
        mlp_out = h(n("hook_mlp_out"), post @ g("mlp.W_out") + g("mlp.b_out"))
        resid = h(n("hook_resid_post"), resid + mlp_out)
    x = norm(resid, P["ln_final.w"], P["ln_final.b"], "ln_final") if ln else resid
    return x @ P["unembed.W_U"] + P["unembed.b_U"]


def loss_of(logits, targets):
    """Mean over target positions (target >= 0) of -log_softmax(logits in float64)[target]."""
    sel = targets >= 0
    lp = torch.log_softmax(logits.double(), dim=-1)[sel]
    return -lp.gather(-1, targets[sel].unsqueeze(-1)).mean()


def loss_and_grads(W, cfg, tokens, targets):
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in W.items()}
    loss = loss_of(forward(P, cfg, tokens), targets)
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in P.items()}


# ---------------------------------------------------------------- checks
def check_model(d, i):
    W, cfg = st_load(os.path.join(d, "m%d_weights.safetensors" % i))
    tokens = torch.from_numpy(np.load(os.path.join(d, "m%d_tokens.npy" % i)))
    targets = torch.from_numpy(np.load(os.path.join(d, "m%d_targets.npy" % i)))
    tag = "model %d (%s layers, %s, %s)" % (i, cfg["n_layers"], cfg["act_fn"], cfg["normalization_type"])
    # np.save writes the very bytes grok.h wrote
    for name in ("m%d_tokens.npy" % i, "m%d_logits.npy" % i):
        p = os.path.join(d, name)
        buf = os.path.join(d, "resave.npy")
        np.save(buf, np.load(p))
        check(open(buf, "rb").read() == open(p, "rb").read(), "%s: np.save bytes differ from grok.h's" % name)
    with torch.no_grad():
        P = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
        ref_logits = forward(P, cfg, tokens)
        ref_loss = loss_of(ref_logits, targets).item()
    c_logits = np.load(os.path.join(d, "m%d_logits.npy" % i))
    c_losses = np.load(os.path.join(d, "m%d_losses.npy" % i))
    record("logits", relerr(c_logits, ref_logits.numpy()), 1e-5, tag + " logits")
    record("loss", abs(c_losses[0] - ref_loss) / abs(ref_loss), 1e-5, tag + " loss (general path)")
    record("loss", abs(c_losses[1] - ref_loss) / abs(ref_loss), 1e-5, tag + " loss (training path)")
    # gradients at the initial weights and at grok.h's weights after one step
    for step, wfile in ((1, "m%d_weights.safetensors"), (2, "m%d_step1.safetensors")):
        Wt, _ = st_load(os.path.join(d, wfile % i))
        ref_loss, ref_g = loss_and_grads(Wt, cfg, tokens, targets)
        G, _ = st_load(os.path.join(d, "m%d_grads%d.safetensors" % (i, step)))
        if step == 2:
            record("loss", abs(c_losses[2] - ref_loss) / abs(ref_loss), 1e-5, tag + " loss after one step")
        check(set(G) == set(ref_g), tag + " gradient names")
        gmax = max(np.max(np.abs(g)) for g in ref_g.values())
        for k in ref_g:
            scale = np.max(np.abs(ref_g[k]))
            zero = scale < 1e-9 * gmax  # zero in exact arithmetic (b_K)
            record("gradient", relerr(G[k], ref_g[k], gmax if zero else None), 1e-5,
                   "%s grad %s (step %d%s)" % (tag, k, step, ", exact zero: vs the largest gradient" if zero else ""))
    # AdamW: torch's, fed grok.h's gradients, float32 like grok.h
    params = {k: torch.tensor(v, dtype=torch.float32) for k, v in W.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.5, foreach=False)
    for step in (1, 2):
        G, _ = st_load(os.path.join(d, "m%d_grads%d.safetensors" % (i, step)))
        for k, p in params.items():
            p.grad = torch.tensor(G[k])
        opt.step()
        S, _ = st_load(os.path.join(d, "m%d_step%d.safetensors" % (i, step)))
        for k, p in params.items():
            record("adamw step", relerr(S[k], p.detach().numpy()), 1e-5, "%s AdamW step %d %s" % (tag, step, k))
    Mm, _ = st_load(os.path.join(d, "m%d_adam_m.safetensors" % i))
    Mv, _ = st_load(os.path.join(d, "m%d_adam_v.safetensors" % i))
    for k, p in params.items():
        st = opt.state[p]
        record("adamw moments", relerr(Mm[k], st["exp_avg"].numpy()), 1e-5, "%s exp_avg %s" % (tag, k))
        record("adamw moments", relerr(Mv[k], st["exp_avg_sq"].numpy()), 1e-5, "%s exp_avg_sq %s" % (tag, k))


def cplx(a):
    return a[..., 0] + 1j * a[..., 1]


def check_fft(d):
    n_files = 0
    for f in sorted(glob.glob(os.path.join(d, "fft_*_in.npy"))):
        n = int(f.split("_")[-2])
        x = cplx(np.load(f))
        record("fft", relerr(cplx(np.load(os.path.join(d, "fft_%d_out.npy" % n))), np.fft.fft(x)), 1e-10, "fft n=%d" % n)
        record("ifft", relerr(cplx(np.load(os.path.join(d, "ifft_%d_out.npy" % n))), np.fft.ifft(x)), 1e-10, "ifft n=%d" % n)
        r = np.load(os.path.join(d, "rfft_%d_in.npy" % n))
        record("rfft", relerr(cplx(np.load(os.path.join(d, "rfft_%d_out.npy" % n))), np.fft.rfft(r)), 1e-10, "rfft n=%d" % n)
        n_files += 1
    for f in sorted(glob.glob(os.path.join(d, "fft2_*_in.npy"))):
        x = cplx(np.load(f))
        out = cplx(np.load(f.replace("_in", "_out")))
        record("fft2", relerr(out, np.fft.fft2(x)), 1e-10, "fft2 %s" % (x.shape,))
        n_files += 1
    check(n_files >= 10, "DFT files found")


def check_svd(d):
    files = sorted(glob.glob(os.path.join(d, "svd_*_in.npy")))
    for f in files:
        A = np.load(f)
        S = np.load(f.replace("_in", "_out"))
        record("svd", relerr(S, np.linalg.svd(A, compute_uv=False)), 1e-10, "svd %s" % (A.shape,))
    check(len(files) >= 5, "SVD files found")


def check_python_to_c(d, binary):
    """A TransformerLens-style state dict and a torch.randperm split, loaded by grok.h."""
    p, C, H, D, M = 13, 16, 2, 8, 24
    cfg = {"n_layers": 1, "act_fn": "relu", "normalization_type": "LN", "eps": 1e-5}
    g = torch.Generator().manual_seed(0)
    shapes = {"embed.W_E": (p + 1, C), "pos_embed.W_pos": (3, C), "blocks.0.ln1.w": (C,), "blocks.0.ln1.b": (C,),
              "blocks.0.attn.W_Q": (H, C, D), "blocks.0.attn.W_K": (H, C, D), "blocks.0.attn.W_V": (H, C, D),
              "blocks.0.attn.W_O": (H, D, C), "blocks.0.attn.b_Q": (H, D), "blocks.0.attn.b_K": (H, D),
              "blocks.0.attn.b_V": (H, D), "blocks.0.attn.b_O": (C,), "blocks.0.ln2.w": (C,), "blocks.0.ln2.b": (C,),
              "blocks.0.mlp.W_in": (C, M), "blocks.0.mlp.b_in": (M,), "blocks.0.mlp.W_out": (M, C),
              "blocks.0.mlp.b_out": (C,), "ln_final.w": (C,), "ln_final.b": (C,), "unembed.W_U": (C, p), "unembed.b_U": (p,)}
    W = {k: (torch.randn(s, generator=g, dtype=torch.float64) * (0.1 if len(s) == 1 else 0.4)
             + (1.0 if k.endswith("ln1.w") or k.endswith("ln2.w") or k == "ln_final.w" else 0.0)).numpy() for k, s in shapes.items()}
    sd = dict(W)
    sd["blocks.0.attn.mask"] = np.tril(np.ones((3, 3), dtype=np.bool_))
    sd["blocks.0.attn.IGNORE"] = np.array(-1e5, dtype=np.float32)
    st_save(os.path.join(d, "py_model.safetensors"), sd)
    perm = torch.randperm(p * p, generator=g)
    train_idx, test_idx = perm[:50], perm[50:]
    np.save(os.path.join(d, "py_train_idx.npy"), train_idx.numpy())
    np.save(os.path.join(d, "py_test_idx.npy"), test_idx.numpy())
    r = subprocess.run([binary, "check", d], capture_output=True, text=True)
    check(r.returncode == 0, "parity check: " + r.stderr.strip())
    if r.returncode != 0:
        return

    def data(idx):
        a, b = idx // p, idx % p
        toks = torch.stack([a, b, torch.full_like(a, p)], dim=1)
        tg = torch.full_like(toks, -1)
        tg[:, 2] = (a + b) % p
        return toks, tg

    tr_t, tr_y = data(train_idx)
    te_t, te_y = data(test_idx)
    check(np.array_equal(np.load(os.path.join(d, "c_train_tokens.npy")), tr_t.numpy()), "grok.h's split is the notebook's, in order")
    with torch.no_grad():
        P = {k: torch.tensor(v) for k, v in W.items()}
        ref = forward(P, cfg, tr_t)
        ref_losses = [loss_of(ref, tr_y).item(), loss_of(forward(P, cfg, te_t), te_y).item()]
    c_losses = np.load(os.path.join(d, "c_losses.npy"))
    record("python->grok.h logits", relerr(np.load(os.path.join(d, "c_train_logits.npy")), ref.numpy()), 1e-5,
           "TransformerLens state dict: logits on the train split")
    for k in range(2):
        record("python->grok.h loss", abs(c_losses[k] - ref_losses[k]) / ref_losses[k], 1e-5,
               "TransformerLens state dict: %s loss" % ("train", "test")[k])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="grok_parity_") as d:
        r = subprocess.run([binary, "gen", d], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL parity gen:", r.stderr.strip())
            print("0 passed, 1 failed")
            sys.exit(1)
        for i in range(4):
            check_model(d, i)
        check_fft(d)
        check_svd(d)
        check_python_to_c(d, binary)
    print("torch %s, numpy %s; worst relative error per quantity (limit):" % (torch.__version__, np.__version__))
    for q, (err, limit) in WORST.items():
        print("  %-24s %.3e  (%.0e)" % (q, err, limit))
    print("%d passed, %d failed" % (PASS, FAIL))
    sys.exit(1 if FAIL else 0)


if __name__ == "__main__":
    main()
