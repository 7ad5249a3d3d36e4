#!/usr/bin/python3
"""Direct logit attribution, the logit lens and the circuits against torch float64 ports of
TransformerLens' formulas.

Usage: /usr/bin/python3 tests/parity/dla.py PATH_TO_DLA_BINARY

`dla DIR` (C) writes four small models (1 and 2 layers, LayerNorm on and off) and what grok.h
computes from their activation caches (see tests/parity/dla.c). Here a float64 forward of the same
weights keeps its activations (TransformerLens' hook points, ln_final.hook_scale included) and
TransformerLens' ActivationCache formulas run on them:
  decompose_resid (embed, pos_embed, per layer attn_out, mlp_out), stack_head_results (z @ W_O[h])
  with b_O, stack_neuron_results (post[:, n] * W_out[n]) with b_out, accumulated_resid
  (incl_mid), apply_ln_to_stack (centred, divided by ln_final.hook_scale), logit_attrs
  (apply_ln(stack) @ W_U with ln_final.w folded in, fold_ln) and its bias (b_U + ln_final.b @ W_U);
  the QK, OV and neuron circuits W_E W_Q W_K^T W_E^T, W_E W_V W_O W_U, W_E W_V W_O W_in and the
  singular values of each (torch.linalg.svdvals of the product).
grok.h's activations are float32, so everything is compared to 1e-5 relative (to the largest
entry of the reference); the circuits, from the weights alone, to 1e-12. Prints "N passed, N failed"
last.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_load, check, record, relerr, forward, run_suite  # noqa: E402

MODELS = ["l1_none", "l1_ln", "l2_none", "l2_ln"]
HEADS, NEURONS, ACCUMULATED, INCL_MID = 1, 2, 4, 8


def run_cache(P, cfg, tokens):
    """A float64 forward keeping every TransformerLens hook point (parity.forward's)."""
    cache = {}

    def keep(name, x):
        cache[name] = x
        return x

    logits = forward(P, cfg, tokens, keep)
    return cache, logits


def stack_tl(P, cfg, cache, pos, flags):
    """decompose_resid / stack_head_results / stack_neuron_results / accumulated_resid at pos."""
    L = int(cfg["n_layers"])
    at = lambda name: cache[name][:, pos]  # noqa: E731
    if flags & ACCUMULATED:
        comps = []
        for l in range(L):
            comps.append(at("blocks.%d.hook_resid_pre" % l))
            if flags & INCL_MID:
                comps.append(at("blocks.%d.hook_resid_mid" % l))
        comps.append(at("blocks.%d.hook_resid_post" % (L - 1)))
        return torch.stack(comps)
    comps = [at("hook_embed"), at("hook_pos_embed")]
    B = comps[0].shape[0]
    for l in range(L):
        g = lambda n: P["blocks.%d.%s" % (l, n)]  # noqa: E731
        if flags & HEADS:
            heads = torch.einsum("bhd,hdc->hbc", at("blocks.%d.attn.hook_z" % l), g("attn.W_O"))
            comps += list(heads) + [g("attn.b_O").expand(B, -1)]
        else:
            comps.append(at("blocks.%d.hook_attn_out" % l))
        if flags & NEURONS:
            neurons = torch.einsum("bn,nc->nbc", at("blocks.%d.mlp.hook_post" % l), g("mlp.W_out"))
            comps += list(neurons) + [g("mlp.b_out").expand(B, -1)]
        else:
            comps.append(at("blocks.%d.hook_mlp_out" % l))
    return torch.stack(comps)


def apply_ln_to_stack(cfg, cache, stack, pos, layer=None, mlp_input=False):
    """TransformerLens' apply_ln_to_stack: ln_final's scale for layer None, else block layer's
    ln1 (ln2 with mlp_input)."""
    if cfg["normalization_type"] != "LN":
        return stack
    stack = stack - stack.mean(-1, keepdim=True)
    name = "ln_final" if layer is None else "blocks.%d.ln%d" % (layer, 2 if mlp_input else 1)
    return stack / cache[name + ".hook_scale"][:, pos]


def check_model(d, name):
    P, meta = st_load(os.path.join(d, name + "_weights.safetensors"))
    P = {k: torch.from_numpy(v.astype(np.float64)) for k, v in P.items()}
    ln = meta["normalization_type"] == "LN"
    tokens = torch.from_numpy(np.load(os.path.join(d, name + "_tokens.npy"))[:, :, 0])
    cache, logits = run_cache(P, meta, tokens)
    load = lambda f: np.load(os.path.join(d, "%s_%s.npy" % (name, f)))  # noqa: E731
    record("logits", relerr(load("logits"), logits.numpy()), 1e-5, "%s logits" % name)
    W_U = P["unembed.W_U"] * P["ln_final.w"][:, None] if ln else P["unembed.W_U"]
    bias = P["unembed.b_U"] + (P["ln_final.b"] @ P["unembed.W_U"] if ln else 0)
    for pname, pos in (("last", -1), ("1", 1)):
        for flags in (0, HEADS | NEURONS, ACCUMULATED | INCL_MID):
            what = "%s pos %s flags %d" % (name, pname, flags)
            ref = stack_tl(P, meta, cache, pos, flags)
            got = load("stack_%d_p%s" % (flags, pname))
            check(got.shape == tuple(ref.shape), "%s: stack shape %s, want %s" % (what, got.shape, tuple(ref.shape)))
            if got.shape != tuple(ref.shape):
                continue
            record("stack", relerr(got, ref.numpy()), 1e-5, what + " stack")
            attrs = apply_ln_to_stack(meta, cache, ref, pos) @ W_U
            record("logit_attrs", relerr(load("attrs_%d_p%s" % (flags, pname)), attrs.numpy()), 1e-5, what + " logit_attrs")
            record("bias", relerr(load("bias_p%s" % pname)[:, :, 0], bias.expand(tokens.shape[0], -1).numpy()), 1e-6,
                   what + " bias")
            if not flags & ACCUMULATED:  # the components and the bias sum to the logits
                record("sum to logits", relerr(attrs.sum(0) + bias, logits[:, pos]), 1e-12, what + " sum to logits")
            else:
                record("apply_ln", relerr(load("ln_acc_p%s" % pname), apply_ln_to_stack(meta, cache, ref, pos).numpy()),
                       1e-5, what + " apply_ln")
                for l in range(int(meta["n_layers"])):
                    for mi, ln_name in ((False, "ln1"), (True, "ln2")):
                        want = apply_ln_to_stack(meta, cache, ref, pos, l, mi).numpy()
                        record("apply_ln at a block", relerr(load("ln_acc_l%d_%s_p%s" % (l, ln_name, pname)), want), 1e-5,
                               "%s apply_ln layer %d %s" % (what, l, ln_name))
            if flags == HEADS | NEURONS:  # logit_attrs(stack, tokens, incorrect_tokens)
                B = tokens.shape[0]
                right = torch.tensor([(b * 5 + 2) % 12 for b in range(B)])
                wrong = torch.tensor([(b * 7 + 3) % 12 for b in range(B)])
                normed = apply_ln_to_stack(meta, cache, ref, pos)
                diff = (normed * (W_U[:, right] - W_U[:, wrong]).T).sum(-1)
                dbias = bias[right] - bias[wrong]
                record("logit-difference attrs", relerr(load("diff_p%s" % pname)[:, :, 0], diff.numpy()), 1e-5, what + " logit diff")
                record("bias", relerr(load("diff_bias_p%s" % pname)[:, 0, 0], dbias.numpy()), 1e-6, what + " logit diff bias")
                lg = logits[:, pos]
                record("sum to logits", relerr(diff.sum(0) + dbias, lg[torch.arange(B), right] - lg[torch.arange(B), wrong]), 1e-12,
                       what + " logit diff sums to the difference")
    L, H = int(meta["n_layers"]), int(meta["n_heads"])
    W_E = P["embed.W_E"]
    for l in range(L):
        g = lambda n: P["blocks.%d.%s" % (l, n)]  # noqa: E731
        for h in range(H):
            circuits = (W_E @ g("attn.W_Q")[h] @ g("attn.W_K")[h].T @ W_E.T,
                        W_E @ g("attn.W_V")[h] @ g("attn.W_O")[h] @ P["unembed.W_U"],
                        W_E @ g("attn.W_V")[h] @ g("attn.W_O")[h] @ g("mlp.W_in"))
            for kind, ref in enumerate(circuits):
                what = "%s circuit %d layer %d head %d" % (name, kind, l, h)
                record("circuits", relerr(load("circuit_%d_%d_%d" % (kind, l, h))[:, :, 0], ref.numpy()), 1e-12, what)
                sv = torch.linalg.svdvals(ref)[:int(meta["d_head"])]
                record("factored svd values", relerr(load("sv_%d_%d_%d" % (kind, l, h))[:, 0, 0], sv.numpy()), 1e-10,
                       what + " singular values")


def check_all(d):
    for name in MODELS:
        check_model(d, name)


if __name__ == "__main__":
    run_suite(__doc__, "dla", check_all)
