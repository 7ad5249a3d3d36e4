#!/usr/bin/python3
"""The gradient cache, activation patching and attribution patching against torch float64.

Usage: /usr/bin/python3 tests/parity/patch.py PATH_TO_PATCH_BINARY

`patch DIR` (C) writes four small transformers (1 and 2 layers, LayerNorm on and off) and two nets
with what grok.h computes (see tests/parity/patch.c). Here:
  - activations: every hook point of grok.h's cache (hook_normalized before the LayerNorm's w and
    b, as TransformerLens) against the same float64 forward, 1e-5 relative;
  - gradients: parity.forward (every TransformerLens hook point) in float64 with each hook
    point's tensor kept for autograd (retain_grad), for the loss over the targets on the clean
    batch and the mean logit difference at the last position on the corrupted batch; every hook
    point's gradient against grok.h's gradient cache, 1e-5 relative to its largest entry; the
    nets likewise (a torch port of seed 003's BilinearNet and OneLayerMLP, hook points x_embed,
    y_embed, product or embed_stack and hidden, out);
  - activation patching: TransformerLens' patch setters re-implemented as hooks of the same
    forward (resid/attn_out/mlp_out by position and whole; z, q, k, v by position and head, and
    by head over all positions; the pattern by head and destination position, and by head; MLP
    neurons by position and over all positions), the metric after each patch, in
    TransformerLens' index order, against grok_act_patch, 1e-5 relative;
  - attribution patching: sum over the batch and the slice of (clean - corrupted) * grad from
    the float64 caches, against grok_attr_patch, 1e-5 relative.
Prints "N passed, N failed" last.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_load, check, record, relerr, forward, run_suite  # noqa: E402

MODELS = ["l1_none", "l1_ln", "l2_none", "l2_ln"]
SITES = ["resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "z", "q", "k", "v", "pattern", "neuron"]
HOOK = {"resid_pre": "hook_resid_pre", "resid_mid": "hook_resid_mid", "resid_post": "hook_resid_post",
        "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out", "z": "attn.hook_z", "q": "attn.hook_q",
        "k": "attn.hook_k", "v": "attn.hook_v", "pattern": "attn.hook_pattern", "neuron": "mlp.hook_post"}


def loss_metric(targets):
    def metric(logits):
        sel = targets >= 0
        lp = torch.log_softmax(logits, dim=-1)[sel]
        return -lp.gather(-1, targets[sel].unsqueeze(-1)).mean()
    return metric


def logit_diff_metric(correct, wrong, pos=-1):
    def metric(logits):
        x = logits[:, pos] if logits.dim() == 3 else logits
        b = torch.arange(x.shape[0])
        return (x[b, correct] - x[b, wrong]).mean()
    return metric


def check_grad_cache(d, name, tag, value, ref_value, ref, what):
    """grok.h's metric value and gradient cache (NAME_grads_TAG.safetensors in d) against torch's."""
    got, _ = st_load(os.path.join(d, "%s_grads_%s.safetensors" % (name, tag)))
    record("metric value", abs(value - ref_value) / max(1.0, abs(ref_value)), 1e-5, "%s %s metric" % (name, tag))
    check(sorted(got) == sorted(ref), "%s %s: grok.h has gradients of %s, torch of %s" % (name, tag, sorted(got), sorted(ref)))
    for k in ref:
        if k in got:
            record(what, relerr(got[k], ref[k].numpy()), 1e-5, "%s %s d/d %s" % (name, tag, k))


def grads_of(run, metric):
    """run(hook) -> logits; the metric's value and its gradient at every hook point."""
    kept = {}

    def keep(name, x):
        if name.endswith("hook_scale"):
            return x
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        else:
            x.retain_grad()
        kept[name] = x
        return x

    value = metric(run(keep))
    value.backward()
    return value.item(), {k: v.grad for k, v in kept.items()}


def cache_of(P, cfg, tokens):
    cache = {}

    def keep(name, x):
        cache[name] = x
        return x

    with torch.no_grad():
        forward(P, cfg, tokens, keep)
    return cache


def select(site, by_pos, i1, i2):
    """The slice (batch first) that grid index (i1, i2) names, as TransformerLens' setters do."""
    all_ = slice(None)
    if site in ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"):
        return (all_, i1) if by_pos else (all_,)
    if site == "pattern":  # [layer, head_index, dest_pos]
        return (all_, i1, i2) if by_pos else (all_, i1)
    if by_pos:  # [layer, pos, head] or [layer, pos, neuron]
        return (all_, i1, i2)
    return (all_, all_, i1)


def grid(cfg, site, by_pos):
    L, T, H, M = (int(cfg[k]) for k in ("n_layers", "n_ctx", "n_heads", "d_mlp"))
    if site in ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"):
        return (L, T) if by_pos else (L,)
    inner = M if site == "neuron" else H
    if site == "pattern":
        return (L, H, T) if by_pos else (L, H)
    return (L, T, inner) if by_pos else (L, inner)


def check_transformer(d, name):
    P, cfg = st_load(os.path.join(d, name + "_weights.safetensors"))
    P = {k: torch.from_numpy(v.astype(np.float64)) for k, v in P.items()}
    load = lambda f: np.load(os.path.join(d, "%s_%s.npy" % (name, f)))  # noqa: E731
    tokens, ctokens, targets = (torch.from_numpy(load(f)) for f in ("tokens", "ctokens", "targets"))
    correct, wrong = (torch.from_numpy(load(f)[:, 0]) for f in ("correct", "wrong"))
    metrics = load("metrics")
    ld = logit_diff_metric(correct, wrong)
    for tag, toks, metric, value in (("loss", tokens, loss_metric(targets), metrics[0]),
                                     ("ld", ctokens, ld, metrics[1])):
        ref_value, ref = grads_of(lambda hook: forward(P, cfg, toks, hook), metric)
        check_grad_cache(d, name, tag, value, ref_value, ref, "gradient at a hook point")
    # patching: clean cache, corrupted run with one slice replaced
    clean = cache_of(P, cfg, tokens)
    got, _ = st_load(os.path.join(d, name + "_acts.safetensors"))
    want = sorted(k for k in clean if not k.endswith("hook_scale"))
    check(sorted(got) == want, "%s: grok.h caches %s, torch %s" % (name, sorted(got), want))
    for k in want:
        if k in got:
            ref = clean[k].numpy()
            if k.endswith("hook_attn_scores"):  # -inf where masked, in both
                same = np.array_equal(np.isinf(got[k]), np.isinf(ref))
                check(same, "%s %s: masked entries differ" % (name, k))
                got[k], ref = np.where(np.isinf(ref), 0, got[k]), np.where(np.isinf(ref), 0, ref)
            record("activation at a hook point", relerr(got[k], ref), 1e-5, "%s %s" % (name, k))
    corrupted = cache_of(P, cfg, ctokens)
    _, grads = grads_of(lambda hook: forward(P, cfg, ctokens, hook), ld)
    for site in SITES:
        for by_pos in (0, 1):
            shape = grid(cfg, site, by_pos)
            act = np.zeros(shape)
            attr = np.zeros(shape)
            for idx in np.ndindex(*shape):
                l, rest = idx[0], idx[1:]
                hname = "blocks.%d.%s" % (l, HOOK[site])
                sl = select(site, by_pos, *(rest + (None,) * (2 - len(rest))))

                def patch(n, x):
                    if n != hname:
                        return x
                    x = x.clone()
                    x[sl] = clean[n][sl]
                    return x

                with torch.no_grad():
                    act[idx] = ld(forward(P, cfg, ctokens, patch)).item()
                attr[idx] = ((clean[hname][sl] - corrupted[hname][sl]) * grads[hname][sl]).sum().item()
            what = "%s %s by_pos=%d" % (name, site, by_pos)
            got_act, got_attr = load("act_%s_%d" % (site, by_pos)), load("attr_%s_%d" % (site, by_pos))
            check(got_act.shape == shape and got_attr.shape == shape, "%s: shape %s, want %s" % (what, got_act.shape, shape))
            if got_act.shape == shape and got_attr.shape == shape:
                record("activation patching", relerr(got_act, act), 1e-5, what + " activation patching")
                record("attribution patching", relerr(got_attr, attr), 1e-5, what + " attribution patching")


def net_forward(W, rows, hook):
    """seed 003's BilinearNet (no "W") or OneLayerMLP, through its hook points."""
    a, b = rows[:, 0], rows[:, 1]
    x = hook("x_embed", W["W_E_a"][a])
    y = hook("y_embed", W["W_E_b"][b])
    if "W" in W:
        stack = hook("embed_stack", torch.cat([x, y], dim=-1))
        mid = hook("hidden", torch.relu(stack @ W["W"]))
    else:
        mid = hook("product", x * y)
    return hook("out", mid @ W["W_U"])


def check_net(d, name):
    load = lambda f: np.load(os.path.join(d, "%s_%s.npy" % (name, f)))  # noqa: E731
    names = ["W_E_a", "W_E_b", "W_U"] + (["W"] if name == "mlp" else [])
    W = {k: torch.from_numpy(load(k).astype(np.float64)) for k in names}
    rows = torch.from_numpy(load("rows"))
    labels, correct, wrong = (torch.from_numpy(load(f)[:, 0]) for f in ("labels", "correct", "wrong"))
    metrics = load("metrics")
    for tag, metric, value in (("loss", loss_metric(labels), metrics[0]), ("ld", logit_diff_metric(correct, wrong), metrics[1])):
        ref_value, ref = grads_of(lambda hook: net_forward(W, rows, hook), metric)
        check_grad_cache(d, name, tag, value, ref_value, ref, "gradient at a net's hook point")


def check_all(d):
    for name in MODELS:
        check_transformer(d, name)
    for name in ("bilinear", "mlp"):
        check_net(d, name)


if __name__ == "__main__":
    run_suite(__doc__, "patch", check_all)
