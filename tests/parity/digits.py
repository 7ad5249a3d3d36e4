#!/usr/bin/python3
"""Parity of grok.h's n-digit addition with seed 002's own formulas (tests/parity/run.sh).

Usage: /usr/bin/python3 tests/parity/digits.py PATH_TO_DIGITS_BINARY

1. `digits DIR` (tests/parity/digits.c) trains a small model of seed 002's architecture and
   writes its weights (safetensors, TransformerLens names), two batches of fresh questions (256
   rows and 3) and, for each, grok.h's logits, attention pattern, columns, the stats of
   grok_digits_losses and the rows as grok_digits_string writes them.
2. This script re-implements seed 002 in torch float64: its Transformer's forward (Embed,
   PosEmbed, Attention with the tril mask and -1e10, MLP, Unembed; the weights turned from
   TransformerLens' layouts into the seed's), its data_generator's column features, its
   get_pred_log_probs / loss_fn and calculate_baseadd_loss / calculate_usecarry1_loss /
   calculate_usesum9_loss, and tokens_to_string for n digits, and compares:
     logits                 grok.h (float32) against the seed's forward (float64), 1e-5 relative
     attention pattern      the same, 1e-5 absolute (a probability)
     losses                 every stat of grok_digits_losses against the seed's formulas on the
                            seed's float64 logits, 1e-6 relative; and on grok.h's own logits
                            (the formulas alone, both in double), 1e-12 relative
     counts, columns, text  exactly
   The TransformerLens forward of parity.py must give the seed's logits too (1e-12).
   Deliberate difference: a sub-task class without a case is NaN in grok.h; the seed appends 0
   (or, per digit, the previous step's value, which only a sequence of steps has). The
   reference here gives NaN there, and grok.h must too.
Ends with "N passed, N failed"; exit status 1 if anything failed.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity  # noqa: E402
from parity import forward as tl_forward, st_load, check, record, WORST  # noqa: E402

PLUS_INDEX, EQUALS_INDEX = 10, 11




def relerr(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    d = np.max(np.abs(a - b))
    return 0.0 if d == 0 else d / np.max(np.abs(b))


# ---------------------------------------------------------------- seed 002's model
def seed_weights(W):
    """TransformerLens names and layouts -> seed 002's modules' parameters (float64)."""
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
    H, C, D = t["blocks.0.attn.W_Q"].shape
    return {
        "W_E": t["embed.W_E"].T,                                   # (d_model, d_vocab)
        "W_pos": t["pos_embed.W_pos"],                             # (n_ctx, d_model)
        "W_K": t["blocks.0.attn.W_K"].transpose(1, 2),             # (heads, d_head, d_model)
        "W_Q": t["blocks.0.attn.W_Q"].transpose(1, 2),
        "W_V": t["blocks.0.attn.W_V"].transpose(1, 2),
        "W_O": t["blocks.0.attn.W_O"].reshape(H * D, C).T,         # (d_model, heads * d_head)
        "W_in": t["blocks.0.mlp.W_in"].T, "b_in": t["blocks.0.mlp.b_in"],
        "W_out": t["blocks.0.mlp.W_out"].T, "b_out": t["blocks.0.mlp.b_out"],
        "W_U": t["unembed.W_U"],                                   # (d_model, d_vocab)
    }


def seed_forward(S, x):
    """Transformer.forward of seed 002 (one block, use_ln unused: its LayerNorms are commented
    out), returning the logits and the attention pattern (hook_attn, (batch, head, q, p))."""
    n_ctx = x.shape[1]
    mask = torch.tril(torch.ones((n_ctx, n_ctx), dtype=torch.float64))
    d_head = S["W_Q"].shape[1]
    x = torch.einsum('dbp -> bpd', S["W_E"][:, x])
    x = x + S["W_pos"][:x.shape[-2]]
    k = torch.einsum('ihd,bpd->biph', S["W_K"], x)
    q = torch.einsum('ihd,bpd->biph', S["W_Q"], x)
    v = torch.einsum('ihd,bpd->biph', S["W_V"], x)
    attn_scores_pre = torch.einsum('biph,biqh->biqp', k, q)
    attn_scores_masked = torch.tril(attn_scores_pre) - 1e10 * (1 - mask[:x.shape[-2], :x.shape[-2]])
    attn_matrix = torch.softmax(attn_scores_masked / np.sqrt(d_head), dim=-1)
    z = torch.einsum('biph,biqp->biqh', v, attn_matrix)
    z_flat = z.permute(0, 2, 1, 3).reshape(z.shape[0], z.shape[2], -1)  # einops 'b i q h -> b q (i h)'
    x = x + torch.einsum('df,bqf->bqd', S["W_O"], z_flat)
    h = torch.relu(torch.einsum('md,bpd->bpm', S["W_in"], x) + S["b_in"])
    x = x + torch.einsum('dm,bpm->bpd', S["W_out"], h) + S["b_out"]
    return x @ S["W_U"], attn_matrix


# ---------------------------------------------------------------- seed 002's data and losses
def seed_features(tokens, num_digits):
    """data_generator's answer and column features, from the questions' x and y."""
    batch_size = tokens.shape[0]
    batch = tokens.clone()
    base_adds = torch.zeros((batch_size, num_digits), dtype=torch.int64)
    make_carry1s = torch.zeros((batch_size, num_digits), dtype=torch.int64)
    sum9s = torch.zeros((batch_size, num_digits), dtype=torch.int64)
    use_carry1s = torch.zeros((batch_size, num_digits), dtype=torch.int64)
    use_sum9s = torch.zeros((batch_size, num_digits), dtype=torch.int64)
    for i in range(num_digits):
        test_col = num_digits - 1 - i
        base_add = batch[:, num_digits - 1 - i] + batch[:, 2 * num_digits - i]
        base_adds[:, test_col] = base_add
        sum9 = (base_add == 9)
        sum9s[:, test_col] = sum9
        if i > 0:
            use_carry1s[:, test_col] = make_carry1s[:, test_col + 1]
        use_carry = use_carry1s[:, test_col]
        use_sum9s[:, test_col] = sum9 & use_carry
        digit_sum = base_add + use_carry1s[:, test_col]
        make_carry = (digit_sum >= 10)
        make_carry1s[:, test_col] = make_carry
        batch[:, -1 - i] = (digit_sum % 10)
    batch[:, -1 - num_digits] = make_carry1s[:, 0]
    return batch, base_adds, make_carry1s, sum9s, use_carry1s, use_sum9s


def get_pred_log_probs(logits, tokens, num_digits):
    trunc_logits = logits[:, -(num_digits + 2):-1]
    log_probs = torch.log_softmax(trunc_logits.to(torch.float64), dim=-1)
    ans_tokens = tokens[:, -(num_digits + 1):]
    return torch.gather(log_probs, -1, ans_tokens[:, :, None])[..., 0]


def loss_fn(pred_log_probs):
    return -pred_log_probs.mean(0)


def nan_if_none(answer, num_cases):
    """The deliberate difference: no case -> NaN (the seed: 0, or the previous step's value)."""
    return float(answer) if num_cases > 0 else float("nan")


def seed_losses(logits, tokens, num_digits):
    """Seed 002's losses of one batch, as its calculate_* functions compute them (per_token_losses
    is get_pred_log_probs' output, so each answer is minus a sum of log-probabilities)."""
    _, base_adds, make_carry1s, sum9s, use_carry1s, use_sum9s = seed_features(tokens, num_digits)
    per_token_losses = get_pred_log_probs(logits, tokens, num_digits)
    out = {"token": loss_fn(per_token_losses).numpy(), "loss": loss_fn(per_token_losses).mean().item()}
    # calculate_baseadd_loss
    no_use_carry1s = ~torch.any(use_carry1s.bool(), dim=1)
    num_cases = int(torch.sum(no_use_carry1s))
    answer = 0
    if num_cases > 0:
        answer = -torch.sum(per_token_losses[:, -num_digits:] * no_use_carry1s[:, None]).item() / num_cases / num_digits
    out["baseadd_all"], out["baseadd_all_count"] = nan_if_none(answer, num_cases), num_cases
    column, count = np.zeros((3, num_digits)), np.zeros((3, num_digits))
    for digit_num in range(num_digits):
        no_use_carry = 1 - use_carry1s[:, -1 - digit_num]
        n = int(torch.sum(no_use_carry))
        answer = -torch.sum(per_token_losses[:, -1 - digit_num] * no_use_carry).item() / n if n else 0
        column[0, digit_num], count[0, digit_num] = nan_if_none(answer, n), n
    # calculate_usecarry1_loss (its num_sum9s reads use_sum9s, as the seed's global does)
    any_use_carry1s = torch.where(torch.sum(use_carry1s, dim=1) != 0, 1, 0)
    no_sum9s = torch.where(torch.sum(use_sum9s, dim=1) == 0, 1, 0)
    filtered_cases = any_use_carry1s & no_sum9s
    num_cases = int(torch.sum(filtered_cases))
    answer = -per_token_losses[torch.nonzero(filtered_cases).squeeze()].mean()
    out["usecarry1_any"], out["usecarry1_any_count"] = nan_if_none(answer, num_cases), num_cases
    for digit_num in range(num_digits):
        filtered = use_carry1s[:, -1 - digit_num] & (1 - sum9s[:, -1 - digit_num])
        n = int(torch.sum(filtered))
        answer = -torch.sum(per_token_losses[:, -1 - digit_num] * filtered).item() / n if n else 0
        column[1, digit_num], count[1, digit_num] = nan_if_none(answer, n), n
    # calculate_usesum9_loss
    num_use_sum9s = torch.sum(use_sum9s, dim=1)
    for key, times in (("usesum9_one", 1), ("usesum9_two", 2)):
        filtered = torch.where(num_use_sum9s == times, 1, 0)
        num_cases = int(torch.sum(filtered))
        answer = -per_token_losses[torch.nonzero(filtered).squeeze()].mean()
        out[key], out[key + "_count"] = nan_if_none(answer, num_cases), num_cases
    for digit_num in range(num_digits):
        filtered = use_carry1s[:, -1 - digit_num] & sum9s[:, -1 - digit_num]
        n = int(torch.sum(filtered))
        answer = -torch.sum(per_token_losses[:, -1 - digit_num] * filtered).item() / n if n else 0
        column[2, digit_num], count[2, digit_num] = nan_if_none(answer, n), n
    out["column"], out["column_count"] = column, count
    # accuracies (grok.h's own: the argmax, the first on a tie)
    pred = logits[:, -(num_digits + 2):-1].argmax(-1)
    right = pred == tokens[:, -(num_digits + 1):]
    out["token_acc"] = right.double().mean(0).numpy()
    out["row_acc"] = right.all(1).double().mean().item()
    return out


def unpack_stats(v, n):
    """grok.h's stats in digits.c's order."""
    k = 0

    def take(m):
        nonlocal k
        k += m
        return v[k - m:k]
    s = {"loss": take(1)[0], "row_acc": take(1)[0], "token": take(n + 1), "token_acc": take(n + 1),
         "column": take(3 * n).reshape(3, n), "column_count": take(3 * n).reshape(3, n)}
    for key in ("baseadd_all", "usecarry1_any", "usesum9_one", "usesum9_two"):
        s[key] = take(1)[0]
    for key in ("baseadd_all", "usecarry1_any", "usesum9_one", "usesum9_two"):
        s[key + "_count"] = take(1)[0]
    s["forward_loss"] = take(1)[0]
    assert k == len(v), (k, len(v))
    return s


def tokens_to_string(tokens, n):
    """The seed's tokens_to_string (written for 5 digits), for n."""
    x = "".join(str(i) for i in tokens[:n])
    y = "".join(str(i) for i in tokens[n + 1:2 * n + 1])
    z = "".join(str(i) if i <= 9 else "+=?"[min(i - 10, 2)] for i in tokens[2 * n + 2:])
    return f"  {x}\n +{y}\n={z}"


# ---------------------------------------------------------------- checks
def compare_stats(c, ref, tag, limit, quantity):
    for key in ("loss", "token", "baseadd_all", "usecarry1_any", "usesum9_one", "usesum9_two", "column"):
        a, b = np.atleast_1d(c[key]).astype(np.float64), np.atleast_1d(ref[key]).astype(np.float64)
        check(np.array_equal(np.isnan(a), np.isnan(b)), "%s %s: NaN where the reference has a value, or not" % (tag, key))
        ok = ~np.isnan(b)
        if ok.any():
            record(quantity, relerr(a[ok], b[ok]), limit, "%s %s" % (tag, key))


def check_batch(d, tag, W, cfg, n):
    tokens = torch.from_numpy(np.load(os.path.join(d, "tokens_%s.npy" % tag)))
    targets = np.load(os.path.join(d, "targets_%s.npy" % tag))
    c_logits = np.load(os.path.join(d, "logits_%s.npy" % tag))
    c_pattern = np.load(os.path.join(d, "pattern_%s.npy" % tag))
    c_cols = np.load(os.path.join(d, "columns_%s.npy" % tag))
    c = unpack_stats(np.load(os.path.join(d, "stats_%s.npy" % tag)), n)
    B, T = tokens.shape
    # the questions: the seed's data_generator gives the same answers; the targets are the answers
    batch, base_adds, make_carry1s, sum9s, use_carry1s, use_sum9s = seed_features(tokens, n)
    check(torch.equal(batch, tokens), "%s: the answers are the seed's" % tag)
    want_targets = np.full((B, T), -1)
    want_targets[:, 2 * n + 1:T - 1] = tokens.numpy()[:, 2 * n + 2:]
    check(np.array_equal(targets, want_targets), "%s: targets are the next answer tokens" % tag)
    # grok_digits_columns: column d = the seed's test column n-1-d
    flip = lambda a: a.numpy()[:, ::-1]
    subtask = np.where(flip(use_carry1s) == 0, 0, np.where(flip(sum9s) == 1, 2, 1))
    for k, (name, want) in enumerate((("base_add", flip(base_adds)), ("use_carry", flip(use_carry1s)),
                                      ("make_carry", flip(make_carry1s)), ("subtask", subtask))):
        check(np.array_equal(c_cols[:, :, k], want), "%s: grok_digits_columns' %s" % (tag, name))
    check(np.array_equal(c_cols[:, :, 3] == 2, flip(use_sum9s) == 1), "%s: USESUM9 is the seed's use_sum9s" % tag)
    # the model
    S = seed_weights(W)
    for k in ("blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O", "unembed.b_U"):
        check(not np.any(W[k]), "%s: %s is 0 (the seed's model has none)" % (tag, k))
    with torch.no_grad():
        ref_logits, ref_pattern = seed_forward(S, tokens)
        P = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
        record("TransformerLens forward", relerr(tl_forward(P, cfg, tokens).numpy(), ref_logits.numpy()), 1e-12,
               "%s: parity.py's TransformerLens forward against the seed's" % tag)
    record("logits", relerr(c_logits, ref_logits.numpy()), 1e-5, "%s logits" % tag)
    record("attention pattern", np.max(np.abs(c_pattern - ref_pattern.numpy())), 1e-5, "%s attention pattern" % tag)
    # the losses: the seed's formulas on the seed's logits, and on grok.h's own
    ref = seed_losses(ref_logits, tokens, n)
    compare_stats(c, ref, tag + " (seed forward)", 1e-6, "losses (seed forward)")
    mine = seed_losses(torch.from_numpy(c_logits.astype(np.float64)), tokens, n)
    compare_stats(c, mine, tag + " (grok.h's logits)", 1e-12, "losses (formulas)")
    record("losses (seed forward)", abs(c["forward_loss"] - ref["loss"]) / ref["loss"], 1e-6,
           "%s grok_model_forward's loss against the seed's train_loss" % tag)
    for key in ("baseadd_all", "usecarry1_any", "usesum9_one", "usesum9_two"):
        check(c[key + "_count"] == mine[key + "_count"], "%s %s count %s, want %s" % (tag, key, c[key + "_count"],
                                                                                     mine[key + "_count"]))
    check(np.array_equal(c["column_count"], mine["column_count"]), "%s column counts" % tag)
    check(c["column_count"].sum() == B * n, "%s: the per-column classes are disjoint (the seed's unit test)" % tag)
    check(np.array_equal(c["token_acc"], mine["token_acc"]) and c["row_acc"] == mine["row_acc"], "%s accuracies" % tag)
    # grok_digits_string: the seed's tokens_to_string of the row, and of the model's argmax answer
    lines = open(os.path.join(d, "strings_%s.txt" % tag)).read().split("\n")
    pred = tokens.numpy().copy()
    pred[:, 2 * n + 2:] = c_logits[:, 2 * n + 1:T - 1].argmax(-1)
    want = []
    for b in range(B):
        want += tokens_to_string(tokens.numpy()[b], n).split("\n") + tokens_to_string(pred[b], n).split("\n")
    check(lines[:-1] == want and lines[-1] == "", "%s: grok_digits_string is the seed's tokens_to_string" % tag)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="grok_parity_digits_") as d:
        r = subprocess.run([binary, d], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL digits:", r.stderr.strip())
            print("0 passed, 1 failed")
            sys.exit(1)
        print(r.stdout.strip())
        W, cfg = st_load(os.path.join(d, "weights.safetensors"))
        n = (int(cfg["n_ctx"]) - 3) // 3
        for tag in ("big", "small"):
            check_batch(d, tag, W, cfg, n)
    print("torch %s, numpy %s; worst error per quantity (limit):" % (torch.__version__, np.__version__))
    for q, (err, limit) in WORST.items():
        print("  %-24s %.3e  (%.0e)" % (q, err, limit))
    print("%d passed, %d failed" % (parity.PASS, parity.FAIL))
    sys.exit(1 if parity.FAIL else 0)


if __name__ == "__main__":
    main()
