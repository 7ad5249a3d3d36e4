"""Tests of python/grokh.py (make test-python): each wrapper against a direct numpy computation
or an identity that a wrong wrapper breaks. Prints every failure and "N passed, N failed" last;
exits 1 on any failure."""

import json
import os
import struct
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import grokh  # noqa: E402

PASSED = 0
FAILED = 0
TESTS = []
CURRENT = ""  # the running test's name, for the failure lines


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL %s: %s" % (CURRENT, msg))


def close(a, b, tol, msg):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    err = np.max(np.abs(a - b)) if a.shape == b.shape and a.size else (0.0 if a.shape == b.shape else np.inf)
    check(a.shape == b.shape and err <= tol, "%s: shapes %s %s, max error %.3g > %.3g" % (msg, a.shape, b.shape,
                                                                                        err, tol))


def raises(fn, what, contains=None):
    """fn() must raise GrokError whose message is grok.h's (grok_last_error) and names `contains`."""
    try:
        fn()
    except grokh.GrokError as e:
        check(str(e) != "", "%s: empty message" % what)
        if contains is not None:
            check(contains in str(e), "%s: message %r lacks %r" % (what, str(e), contains))
        return e
    except Exception as e:  # noqa: BLE001 - any other type is the failure reported
        check(False, "%s: raised %s %r, not GrokError" % (what, type(e).__name__, e))
        return None
    check(False, "%s: no exception" % what)
    return None


P = 23
SMALL = dict(d_model=32, d_head=8, d_mlp=64, n_heads=4)


def small_model(max_batch=P * P, **kw):
    return grokh.Model(grokh.modadd_config(P, **dict(SMALL, **kw)), max_batch=max_batch)


_TRAINED = {}


def trained():
    """A p = 23 model trained 400 epochs (some Fourier structure), shared by the analysis tests."""
    if "m" not in _TRAINED:
        train, test = grokh.modadd_task(P, 0.5, 3)
        m = small_model()
        m.set_adamw(lr=3e-3)
        m.train(train, test, epochs=400, eval_every=100)
        _TRAINED.update(m=m, train=train, test=test)
    return _TRAINED["m"], _TRAINED["train"], _TRAINED["test"]


# ---- a float64 numpy port of the forward (1 layer, no LayerNorm, ReLU), from params()

def numpy_forward(w, tokens):
    x_e = w["embed.W_E"][tokens]
    x_p = np.broadcast_to(w["pos_embed.W_pos"][: tokens.shape[1]], x_e.shape)
    resid = (x_e + x_p).astype(np.float64)
    q = np.einsum("btc,hcd->bthd", resid, w["blocks.0.attn.W_Q"]) + w["blocks.0.attn.b_Q"]
    k = np.einsum("btc,hcd->bthd", resid, w["blocks.0.attn.W_K"]) + w["blocks.0.attn.b_K"]
    v = np.einsum("btc,hcd->bthd", resid, w["blocks.0.attn.W_V"]) + w["blocks.0.attn.b_V"]
    scores = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
    T = tokens.shape[1]
    scores = np.where(np.tril(np.ones((T, T), bool)), scores, -np.inf)
    pattern = np.exp(scores - scores.max(-1, keepdims=True))
    pattern /= pattern.sum(-1, keepdims=True)
    z = np.einsum("bhqk,bkhd->bqhd", pattern, v)
    attn_out = np.einsum("bqhd,hdc->bqc", z, w["blocks.0.attn.W_O"]) + w["blocks.0.attn.b_O"]
    mid = resid + attn_out
    pre = mid @ w["blocks.0.mlp.W_in"] + w["blocks.0.mlp.b_in"]
    post = np.maximum(pre, 0)
    mlp_out = post @ w["blocks.0.mlp.W_out"] + w["blocks.0.mlp.b_out"]
    out = mid + mlp_out
    logits = out @ w["unembed.W_U"] + w["unembed.b_U"]
    acts = {"hook_embed": x_e, "hook_pos_embed": x_p, "blocks.0.hook_resid_pre": resid,
            "blocks.0.attn.hook_q": q, "blocks.0.attn.hook_k": k, "blocks.0.attn.hook_v": v,
            "blocks.0.attn.hook_attn_scores": scores, "blocks.0.attn.hook_pattern": pattern,
            "blocks.0.attn.hook_z": z, "blocks.0.hook_attn_out": attn_out, "blocks.0.hook_resid_mid": mid,
            "blocks.0.mlp.hook_pre": pre, "blocks.0.mlp.hook_post": post, "blocks.0.hook_mlp_out": mlp_out,
            "blocks.0.hook_resid_post": out}
    return logits, acts


def xent(logits, labels):
    """Mean cross-entropy with a float64 log-softmax (the seeds' cross_entropy_high_precision)."""
    lg = np.asarray(logits, np.float64)
    lse = np.log(np.exp(lg - lg.max(1, keepdims=True)).sum(1)) + lg.max(1)
    return float(np.mean(lse - lg[np.arange(len(labels)), labels]))


# ---- configs and tasks

@test
def test_config():
    c = grokh.modadd_config(113)
    want = dict(n_layers=1, n_heads=4, d_model=128, d_head=32, d_mlp=512, d_vocab=114, d_vocab_out=113, n_ctx=3,
                act_fn="relu", normalization=None, seed=999, train_biases=0)
    check(all(c[k] == v for k, v in want.items()), "modadd_config(113) = %s" % dict(c))
    check(grokh.modadd_config(31, d_mlp=7).d_mlp == 7, "override d_mlp")
    try:
        grokh.Config(d_modle=3)
        check(False, "Config accepted a misspelt field")
    except TypeError:
        check(True, "")


@test
def test_modadd_task():
    p, frac = 31, 0.3
    train, test = grokh.modadd_task(p, frac, 598)
    check(len(train) == int(p * p * frac) and len(train) + len(test) == p * p,
          "sizes %d + %d" % (len(train), len(test)))
    both = np.concatenate([train.tokens, test.tokens])
    rows = both[:, 0] * p + both[:, 1]
    check(np.array_equal(np.sort(rows), np.arange(p * p)), "every pair once across the split")
    check(np.all(both[:, 2] == p), "'=' is token p")
    tg = np.concatenate([train.targets, test.targets])
    check(np.array_equal(tg[:, 2], (both[:, 0] + both[:, 1]) % p), "labels (a+b) mod p")
    check(np.all(tg[:, :2] == -1), "no loss term before the last position")
    again, _ = grokh.modadd_task(p, frac, 598)
    other, _ = grokh.modadd_task(p, frac, 599)
    check(np.array_equal(again.tokens, train.tokens), "deterministic in the seed")
    check(not np.array_equal(other.tokens, train.tokens), "another seed, another split")


def whole_split(train, test):
    """The tokens and labels of every pair of a task, training pairs first."""
    return np.concatenate([train.tokens, test.tokens]), np.concatenate([train.labels, test.labels])


@test
def test_modop_and_group_tasks():
    p = 11
    for op, f in [(grokh.OP_SUB, lambda a, b: (a - b) % p), (grokh.OP_MUL, lambda a, b: a * b % p),
                  (grokh.OP_POW_SUM, lambda a, b: (a ** 3 + b ** 2) % p)]:
        tr, te = grokh.modop_task(op, p, 0.5, 1, m=3, n=2)
        d, lab = whole_split(tr, te)
        check(len(d) == p * p and np.array_equal(lab, f(d[:, 0], d[:, 1])), "op %d labels" % op)
    tr, te = grokh.modop_task(grokh.OP_DIV, p, 0.5, 1)
    d, lab = whole_split(tr, te)
    check(len(d) == p * (p - 1) and np.all(d[:, 1] != 0), "division leaves out b = 0")
    check(np.all(lab * d[:, 1] % p == d[:, 0]), "division labels: label * b = a")
    tr, te = grokh.group_task(grokh.GROUP_CYCLIC, 7, 0.5, 2)
    d, lab = whole_split(tr, te)
    check(len(d) == 49 and np.array_equal(lab, (d[:, 0] + d[:, 1]) % 7) and np.all(d[:, 2] == 7), "C_7")
    tr, te = grokh.group_task(grokh.GROUP_DIHEDRAL, 5, 0.3, 2)
    d, lab = whole_split(tr, te)
    check(len(tr) == 30 and len(d) == 100 and np.all(d[:, 2] == 10), "D_5: %d + %d pairs" % (len(tr), len(te)))
    # grok.h's rule: element r + s n; (x_r, x_s)(y_r, y_s) = (x_r + y_r, y_s) if x_s = 0, else (x_r - y_r, 1 + y_s)
    (xs, xr), (ys, yr) = np.divmod(d[:, 0], 5), np.divmod(d[:, 1], 5)
    want = np.where(xs == 0, (xr + yr) % 5 + 5 * ys, (xr - yr) % 5 + 5 * ((1 + ys) % 2))
    check(np.array_equal(lab, want), "D_5 composition")
    for op, f in [(grokh.OP_SQ_CROSS_PLUS_A, lambda a, b: (a * a + a * b + b * b + a) % p),
                  (grokh.OP_CUBE_CROSS, lambda a, b: (a ** 3 + a * b) % p),
                  (grokh.OP_CUBE_CROSS_SQ, lambda a, b: (a ** 3 + a * b * b + b) % p),
                  (grokh.OP_ADD_OR_MUL, lambda a, b: np.where(a % 2 == 0, a + b, a * b) % p),
                  (grokh.OP_ADD_OR_SUB, lambda a, b: np.where(a % 2 == 0, a + b, a - b) % p)]:
        tr, te = grokh.modop_task(op, p, 0.5, 1)
        d, lab = whole_split(tr, te)
        check(len(d) == p * p and np.array_equal(lab, f(d[:, 0], d[:, 1])), "the grokking paper's op %d labels" % op)
    tr, te = grokh.modop_task(grokh.OP_DIV_IF_ODD, p, 0.5, 1)
    d, lab = whole_split(tr, te)
    odd = d[:, 1] % 2 == 1
    check(np.all(lab[odd] * d[odd, 1] % p == d[odd, 0]) and np.array_equal(lab[~odd], (d[~odd, 0] - d[~odd, 1]) % p),
          "x/y if y odd else x-y")
    for op, f in [(grokh.GROUP_OP_CONJUGATE, lambda x, y: y), (grokh.GROUP_OP_XYX, lambda x, y: (2 * x + y) % 7)]:
        tr, te = grokh.group_task(grokh.GROUP_CYCLIC, 7, 0.5, 2, op=op)
        d, lab = whole_split(tr, te)
        check(len(d) == 49 and np.array_equal(lab, f(d[:, 0], d[:, 1])), "C_7 group op %d" % op)
    tr, te = grokh.group_task(grokh.GROUP_ALTERNATING, 4, 0.5, 2)
    check(len(tr) + len(te) == 144 and np.all(tr.tokens[:, 2] == 12), "A_4: order 12")


@test
def test_digits_batch():
    n = 4
    rng = grokh.DigitsRng(7)
    a = grokh.digits_batch(n, 50, rng)
    b = grokh.digits_batch(n, 50, rng)
    c = grokh.digits_batch(n, 50, grokh.DigitsRng(7))
    check(a.tokens.shape == (50, 3 * n + 3), "shape %s" % (a.tokens.shape,))
    check(np.array_equal(a.tokens, c.tokens) and not np.array_equal(a.tokens, b.tokens),
          "the RNG is seeded and carried on")
    t = a.tokens.astype(np.int64)
    val = lambda cols: (cols * 10 ** np.arange(cols.shape[1] - 1, -1, -1)).sum(1)  # noqa: E731
    x, y, z = val(t[:, :n]), val(t[:, n + 1:2 * n + 1]), val(t[:, 2 * n + 2:])
    check(np.all(t[:, n] == 10) and np.all(t[:, 2 * n + 1] == 11) and np.array_equal(x + y, z), "x + y = z")
    tg = a.targets
    check(np.array_equal(tg[:, 2 * n + 1:3 * n + 2], t[:, 2 * n + 2:]) and np.all(tg[:, :2 * n + 1] == -1)
          and np.all(tg[:, -1] == -1), "targets: the next token at the answer's positions")


# ---- models: build, forward, evaluate, cache

@test
def test_model_build():
    with small_model() as m:
        cfg = m.config
        table = m.param_table()
        # Parameters lie in table order without overlap inside the buffer (offsets may be padded).
        ends = [(o, o + int(np.prod(s))) for _, s, o, _ in table]
        check(all(e0 <= b1 for (_, e0), (b1, _) in zip(ends, ends[1:])) and ends[-1][1] <= m.num_parameters,
              "parameter extents %s in %d floats" % (ends, m.num_parameters))
        w = m.params()
        check(w["embed.W_E"].shape == (P + 1, 32) and w["blocks.0.attn.W_Q"].shape == (4, 32, 8)
              and w["unembed.W_U"].shape == (32, P), "TransformerLens shapes")
        std = np.std(np.concatenate([w[n].ravel() for n in w if ".W_" in n or n.endswith("W_E")]))
        check(abs(std - 0.8 / np.sqrt(32)) < 0.01, "init std %.4f, expected 0.8/sqrt(d_model)" % std)
        check(all(np.all(w[n] == 0) for n in w if ".b_" in n), "biases start at 0")
        check(all(not t for n, _, _, t in table if ".b_" in n), "biases frozen (train_biases 0)")
        check(cfg.seed == 999 and m.step == 0 and m.epoch == 0, "seed, step, epoch")
        m.set_param("unembed.b_U", np.arange(P, dtype=np.float32))
        check(np.array_equal(m["unembed.b_U"], np.arange(P)), "set_param")
        check(m.set_trainable("b_", 1) == 7, "set_trainable counts the b_ parameters")
        m.set_adamw(lr=0.5)
        check(m.adamw["lr"] == 0.5 and m.adamw["weight_decay"] == 1.0, "adamw %s" % m.adamw)
    with grokh.Model(grokh.Config(n_layers=2, n_heads=2, d_model=16, d_head=8, d_mlp=32, d_vocab=10, n_ctx=5,
                                  act_fn="gelu", normalization="LN", seed=5), max_batch=4) as m:
        c = m.config
        check(c.n_layers == 2 and c.act_fn == "gelu" and c.normalization == "LN" and c.d_vocab_out == 10,
              "any config: %s" % dict(c))
        check("blocks.1.ln2.w" in m.params(), "LayerNorm parameters present")
        logits, _, _ = m.forward(np.zeros((3, 5), np.int32))
        check(logits.shape == (3, 5, 10), "forward shape of a 2-layer model")


@test
def test_forward_against_numpy():
    m, train, _ = trained()
    # nonzero biases, so a wrong bias offset shows
    m2 = small_model(max_batch=16)
    rng = np.random.default_rng(0)
    for name, s, _, _ in m2.param_table():
        m2.set_param(name, m[name] + (0.1 * rng.standard_normal(s) if ".b_" in name else 0))
    tokens = train.tokens[:16]
    logits, loss, acc = m2.forward(tokens, train.targets[:16])
    ref, _ = numpy_forward(m2.params(), tokens)
    close(logits, ref, 1e-4, "logits against the numpy forward")
    close(loss, xent(ref[:, -1], train.labels[:16]), 1e-5, "loss")
    close(acc, np.mean(ref[:, -1].argmax(1) == train.labels[:16]), 0, "accuracy")
    _, l2, a2 = m2.forward(tokens)
    check(l2 is None and a2 is None, "no targets: no loss")
    m2.close()


@test
def test_evaluate():
    m, train, test = trained()
    loss, acc = m.evaluate(test)
    logits, _ = numpy_forward(m.params(), test.tokens)
    close(loss, xent(logits[:, -1], test.labels), 1e-5, "test loss against numpy")
    close(acc, np.mean(logits[:, -1].argmax(1) == test.labels), 1e-12, "test accuracy against numpy")


@test
def test_cache():
    m, train, test = trained()
    tokens = test.tokens[:40]
    cache = m.run_with_cache(tokens)
    _, ref = numpy_forward(m.params(), tokens)
    check(set(cache) == set(ref), "hook names %s" % sorted(set(cache) ^ set(ref)))
    for name, r in ref.items():
        if name in cache:
            a = cache[name]
            finite = np.isfinite(r)
            check(a.shape == r.shape and np.array_equal(np.isfinite(a), finite), "%s shape / mask" % name)
            if a.shape == r.shape:
                close(np.where(finite, a, 0), np.where(finite, r, 0), 2e-4, name)
    pat = cache["blocks.0.attn.hook_pattern"]
    close(pat.sum(-1), np.ones(pat.shape[:-1]), 1e-5, "hook_pattern rows sum to 1")
    check(np.all(np.triu(pat, 1) == 0), "causal: no attention to later positions")
    logits, _, _ = m.forward(tokens)
    close(cache.logits, logits, 1e-5, "cache logits equal forward's")
    loss, _ = m.evaluate(grokh.Data(tokens, test.targets[:40]))
    close(xent(cache.logits[:, -1], test.labels[:40]), loss, 1e-6, "cache logits give evaluate's loss")
    only = m.run_with_cache(tokens, names=["hook_pattern", "mlp.hook_post"])
    check(sorted(only) == ["blocks.0.attn.hook_pattern", "blocks.0.mlp.hook_post"], "filter: %s" % sorted(only))


# ---- training

@test
def test_train_callback():
    train, test = grokh.modadd_task(P, 0.5, 3)
    seen = []
    with small_model() as m:
        def stop(epoch, met):
            seen.append((epoch, dict(met)))
            return epoch >= 60
        m.train(train, test, epochs=1000, eval_every=20, on_eval=stop)
        check([e for e, _ in seen] == [20, 40, 60], "evaluations at %s" % [e for e, _ in seen])
        check(m.epoch == 60, "stopped at epoch %d" % m.epoch)
        check(seen[-1][1] == m.metrics, "the callback saw the model's metrics")
        close(m.evaluate(test)[0], m.metrics["test_loss"], 1e-9, "the metrics are evaluate's")
        check(seen[-1][1]["train_loss"] < seen[0][1]["train_loss"], "training lowers the loss")
        m.train(train, test, epochs=100, eval_every=20)
        check(m.epoch == 100, "trains on to the given epoch without a callback")

        def boom(epoch, met):
            raise ValueError("from the callback")
        try:
            m.train(train, test, epochs=200, eval_every=20, on_eval=boom)
            check(False, "the callback's exception was lost")
        except ValueError as e:
            check(str(e) == "from the callback" and m.epoch == 120, "callback exception, epoch %d" % m.epoch)


@test
def test_train_deterministic():
    train, test = grokh.modadd_task(P, 0.5, 3)
    out = []
    for _ in range(2):
        with small_model() as m:
            m.train(train, test, epochs=30, eval_every=10)
            out.append(m.params())
    check(all(np.array_equal(out[0][k], out[1][k]) for k in out[0]), "the same seeds give the same bits")


@test
def test_gradients_and_patching():
    m, _, _ = trained()
    w = {k: v.astype(np.float64) for k, v in m.params().items()}
    rng = np.random.default_rng(5)
    B = 8
    clean = np.stack([rng.integers(0, P, B), rng.integers(0, P, B), np.full(B, P)], 1).astype(np.int32)
    corr = clean.copy()
    corr[:, 0] = (clean[:, 0] + 1 + rng.integers(0, P - 1, B)) % P
    correct, wrong = (clean[:, 0] + clean[:, 1]) % P, (corr[:, 0] + corr[:, 1]) % P

    def metric(tokens):
        lg, _ = numpy_forward(w, tokens)
        return float(np.mean(lg[np.arange(B), -1, correct] - lg[np.arange(B), -1, wrong]))

    value, grads = m.grad_cache(corr, correct=correct, wrong=wrong)
    close(value, metric(corr), 1e-4, "grad_cache's metric is the numpy logit difference")
    check(len(grads) == 15 and grads["blocks.0.attn.hook_z"].shape == (B, 3, 4, 8), "every hook point, its shape")
    # the metric is linear in hook_mlp_out: its gradient is (W_U[:, c] - W_U[:, w]) / B at the last position
    want = np.zeros((B, 3, SMALL["d_model"]))
    want[:, -1] = (w["unembed.W_U"][:, correct] - w["unembed.W_U"][:, wrong]).T / B
    close(grads["blocks.0.hook_mlp_out"], want, 1e-6, "d logit_diff / d hook_mlp_out")
    # hook_pos_embed's gradient summed over the batch is d metric / d W_pos: central differences in float64
    fd = np.zeros_like(w["pos_embed.W_pos"])
    for t in range(3):
        for c in range(0, SMALL["d_model"], 5):
            save = w["pos_embed.W_pos"][t, c]
            w["pos_embed.W_pos"][t, c] = save + 1e-5
            up = metric(corr)
            w["pos_embed.W_pos"][t, c] = save - 1e-5
            down = metric(corr)
            w["pos_embed.W_pos"][t, c] = save
            fd[t, c] = (up - down) / 2e-5
    got = grads["hook_pos_embed"].sum(0)
    close(got[:, ::5], fd[:, ::5], 1e-3 * max(1.0, np.abs(fd).max()), "d metric / d W_pos by finite differences")
    # activation patching of resid_pre at a position is the corrupted run with the clean token there
    act = m.act_patch(clean, corr, "resid_pre", correct=correct, wrong=wrong)
    check(act.shape == (1, 3), "resid_pre by position: [layer, pos]")
    want = []
    for t in range(3):
        mixed = corr.copy()
        mixed[:, t] = clean[:, t]
        want.append(metric(mixed))
    close(act[0], want, 1e-3 * max(1.0, abs(want[0])), "act_patch resid_pre against numpy reruns")
    # attribution patching of z by position and head: (clean - corrupted) . grad over the batch
    attr = m.attr_patch(clean, corr, "z", correct=correct, wrong=wrong)
    z_clean, z_corr = numpy_forward(w, clean)[1]["blocks.0.attn.hook_z"], numpy_forward(w, corr)[1]["blocks.0.attn.hook_z"]
    want = np.einsum("bthd,bthd->th", z_clean - z_corr, grads["blocks.0.attn.hook_z"])[None]
    close(attr, want, 1e-4 * max(1.0, np.abs(want).max()), "attr_patch z against numpy's caches and the gradients")
    check(m.act_patch(clean, corr, "neuron", by_pos=False, correct=correct, wrong=wrong).shape == (1, SMALL["d_mlp"]),
          "neurons over all positions: [layer, neuron]")
    loss, g2 = m.grad_cache(clean, targets=np.where(np.arange(3) == 2, (clean[:, :1] + clean[:, 1:2]) % P, -1))
    close(loss, xent(numpy_forward(w, clean)[0][:, -1], correct), 1e-5, "grad_cache of the loss")
    raises(lambda: m.act_patch(clean, corr, "heads", correct=correct, wrong=wrong), "an unknown site", "site")
    raises(lambda: m.grad_cache(corr, targets=np.zeros((B, 3)), correct=correct, wrong=wrong), "two metrics at once")
    raises(lambda: m.grad_cache(corr, correct=correct, wrong=np.full(B, P)), "a wrong token past d_vocab_out",
           "compares tokens")


# ---- analyses

@test
def test_fourier_basis():
    for p in (7, 23, 10):
        F = grokh.fourier_basis(p)
        close(F @ F.T, np.eye(p), 1e-12, "F F^T = I, p = %d" % p)
        x = np.arange(p)
        close(F[0], np.full(p, 1 / np.sqrt(p)), 1e-14, "constant row")
        for k in range(1, (p - 1) // 2 + 1):
            close(F[2 * k - 1], np.sqrt(2 / p) * np.cos(2 * np.pi * k * x / p), 1e-12, "cos %d" % k)
            close(F[2 * k], np.sqrt(2 / p) * np.sin(2 * np.pi * k * x / p), 1e-12, "sin %d" % k)
    names = grokh.fourier_basis_names(7)
    check(names == ["Const", "cos 1", "sin 1", "cos 2", "sin 2", "cos 3", "sin 3"], "names %s" % names)


@test
def test_fourier_norms_and_key_freqs():
    m, _, _ = trained()
    F = grokh.fourier_basis(P)
    WE, WU = m["embed.W_E"], m["unembed.W_U"]
    norms = grokh.fourier_norms(WE, P)
    close(norms, ((F @ WE[:P].astype(np.float64)) ** 2).sum(1), 1e-9, "W_E norms")
    close(grokh.fourier_norms(WU, P, transpose=True), ((F @ WU.T.astype(np.float64)) ** 2).sum(1), 1e-9,
          "W_U norms (transpose)")
    freqs, kshare, share = grokh.key_freqs(norms, 0.05)
    half = (P - 1) // 2
    ref = np.array([norms[2 * k - 1] + norms[2 * k] for k in range(1, half + 1)]) / norms[1:].sum()
    close(share, ref, 1e-12, "every frequency's share")
    order = sorted(range(1, half + 1), key=lambda k: (-ref[k - 1], k))
    want = [k for k in order if ref[k - 1] >= 0.05] or order[:1]
    check(list(freqs) == want, "key frequencies %s, numpy %s" % (list(freqs), want))
    close(kshare, ref[np.array(want) - 1], 1e-12, "key shares")


@test
def test_neuron_freqs():
    m, _, _ = trained()
    acts = m.modadd_run()["acts"]
    freq, frac, spec = grokh.neuron_freqs(acts, P, 0.0, fourier=True)
    F = grokh.fourier_basis(P)
    A = acts.astype(np.float64)
    A -= A.mean(0)
    X = np.einsum("ix,jy,xym->ijm", F, F, A.reshape(P, P, -1))
    close(spec, X, 1e-9, "the 2-D spectrum")
    tot = (X ** 2).sum((0, 1))
    s = np.array([(X[np.ix_([0, 2 * k - 1, 2 * k], [0, 2 * k - 1, 2 * k])] ** 2).sum((0, 1))
                  for k in range(1, (P - 1) // 2 + 1)])
    check(np.array_equal(freq, s.argmax(0) + 1), "each neuron's frequency")
    close(frac, s.max(0) / tot, 1e-9, "fractions")
    f85, _ = grokh.neuron_freqs(acts, P, 0.85)
    check(np.array_equal(f85, np.where(frac < 0.85, -1, freq)), "min_frac marks the others -1")


def numpy_restricted(logits, p, freqs, train_rows, labels, sums):
    L = logits.astype(np.float64)
    dirs = []
    for k in freqs:
        w = 2 * np.pi * k / p
        dirs += [np.cos(w * sums), np.sin(w * sums)]
    Q, _ = np.linalg.qr(np.stack(dirs, 1))
    Pj = Q @ (Q.T @ L)
    restricted = Pj + (L - Pj).mean(0)
    excluded = L - Pj
    keep = labels >= 0
    rl = xent(restricted[keep], labels[keep])
    rows = train_rows[labels[train_rows] >= 0]
    return rl, xent(excluded[rows], labels[rows]), restricted, excluded


@test
def test_modadd_restricted():
    m, train, _ = trained()
    logits = m.modadd_run()["logits"]
    rows = grokh.pair_rows(train, P)
    a, b = np.divmod(np.arange(P * P), P)
    freqs = [3, 7]
    rl, el, r, e = grokh.modadd_restricted(logits, P, freqs, train_rows=rows, logits_out=True)
    nrl, nel, nr, ne = numpy_restricted(logits, P, freqs, rows, (a + b) % P, (a + b) % P)
    close(rl, nrl, 1e-9, "restricted loss")
    close(el, nel, 1e-9, "excluded loss")
    close(r, nr, 1e-9, "restricted logits")
    close(e, ne, 1e-9, "excluded logits")
    # A task: (a - b) mod p, with its own directions and labels.
    with grokh.ModTask(grokh.OP_SUB, P, dirs=grokh.DIRS_TASK) as t:
        labels, sums, name = t.info()
        check(np.array_equal(labels, (a - b) % P) and "mod 23" in name, "task %s" % name)
        rl, el = grokh.modadd_restricted(logits, P, freqs, train_rows=rows, task=t)
        nrl, nel, _, _ = numpy_restricted(logits, P, freqs, rows, labels, sums)
        close((rl, el), (nrl, nel), 1e-9, "restricted / excluded loss of a task")
    tr, te = grokh.modop_task(grokh.OP_SUB, P, 0.5, 1)
    with grokh.ModTask.from_data(P, tr, te) as t:
        check(np.array_equal(t.info()[0], (a - b) % P), "ModTask.from_data labels")
    with grokh.ModTask.from_data(P, tr) as t:
        lab = t.info()[0]
        check(np.sum(lab >= 0) == len(tr), "from_data without test: only train labelled")


@test
def test_svd():
    rng = np.random.default_rng(1)
    for shape in [(7, 5), (5, 9), (6, 6)]:
        A = rng.standard_normal(shape)
        U, S, Vt = grokh.svd(A)
        close(U @ np.diag(S) @ Vt, A, 1e-12, "reconstruction %s" % (shape,))
        close(U.T @ U, np.eye(len(S)), 1e-12, "U orthonormal %s" % (shape,))
        close(Vt @ Vt.T, np.eye(len(S)), 1e-12, "Vt orthonormal %s" % (shape,))
        close(S, np.linalg.svd(A, compute_uv=False), 1e-12, "singular values %s" % (shape,))
        Uf, _, Vf = grokh.svd(A, full=True)
        close(Uf.T @ Uf, np.eye(shape[0]), 1e-12, "full U")
        close(Vf @ Vf.T, np.eye(shape[1]), 1e-12, "full Vt")
    W = rng.standard_normal((9, 6)).astype(np.float32)
    S, err = grokh.svd_truncation(W, 2)
    U, S2, Vt = np.linalg.svd(W.astype(np.float64), full_matrices=False)
    U2 = U.copy()
    U2[:, 2:] = 0
    close(S, S2, 1e-10, "svd_truncation S")
    close(err, np.abs((U - U2) @ np.diag(S2) @ Vt).mean(), 1e-10, "svd_truncation error")
    x = np.array([0.0, 0, 0, 5])
    close(grokh.gini(x), 1 - 1 / 4, 1e-12, "gini of one-hot")


# ---- files

def read_safetensors(path):
    """A minimal numpy safetensors reader (F32 only): {name: array}, metadata."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        check(v["dtype"] == "F32", "%s dtype %s" % (k, v["dtype"]))
        out[k] = np.frombuffer(data[b:e], np.float32).reshape(v["shape"])
    return out, meta


def write_safetensors(path, tensors):
    """A TransformerLens-style state dict as safetensors.torch.save_file would write it."""
    header, blobs, off = {}, [], 0
    for k, a in tensors.items():
        a = np.ascontiguousarray(a)
        header[k] = {"dtype": {"float32": "F32", "float64": "F64"}[a.dtype.name], "shape": list(a.shape),
                     "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


@test
def test_save_load():
    m, train, test = trained()
    with tempfile.TemporaryDirectory() as d:
        ck = os.path.join(d, "m.grok")
        m.save(ck)
        with grokh.Model.load(ck, max_batch=P * P) as m2:
            check(m2.config == m.config, "config round trip")
            for buf in ("weights", "adam_m", "adam_v"):
                a, b = m.params(buf), m2.params(buf)
                check(all(a[k].tobytes() == b[k].tobytes() for k in a), "checkpoint %s bitwise" % buf)
            check((m2.step, m2.epoch, m2.metrics) == (m.step, m.epoch, m.metrics), "step, epoch, metrics")
        # Resuming from a checkpoint equals training on, bit for bit: it holds all that training reads.
        with small_model() as a:
            a.train(train, test, epochs=10, eval_every=5)
            a.save(ck)
            a.train(train, test, epochs=20, eval_every=5)
            with grokh.Model.load(ck, max_batch=P * P) as b:
                b.train(train, test, epochs=20, eval_every=5)
                wa, wb = a.params(), b.params()
                check(b.epoch == 20 and all(wa[k].tobytes() == wb[k].tobytes() for k in wa), "resumed run")
        st = os.path.join(d, "m.safetensors")
        m.save_safetensors(st)
        tensors, meta = read_safetensors(st)
        w = m.params()
        check(set(tensors) == set(w), "safetensors names %s" % sorted(set(tensors) ^ set(w)))
        check(all(tensors[k].tobytes() == w[k].tobytes() for k in w if k in tensors), "safetensors bitwise")
        check(meta.get("format") == "grok.h" and meta.get("d_model") == "32", "metadata %s" % meta)
        with grokh.Model.load(st, max_batch=4) as m3:
            check(all(m3[k].tobytes() == w[k].tobytes() for k in w), "safetensors load bitwise")
            check(m3.config.d_mlp == 64 and m3.config.n_ctx == 3, "config from the shapes")
        # A TransformerLens state dict: float64 tensors and its mask / IGNORE buffers.
        tl = {k: v.astype(np.float64) * 2 for k, v in w.items()}
        tl["blocks.0.attn.mask"] = np.tril(np.ones((3, 3))).astype(np.float32)
        tl["blocks.0.attn.IGNORE"] = np.array([-1e5], np.float32)
        tlp = os.path.join(d, "tl.safetensors")
        write_safetensors(tlp, tl)
        with small_model(max_batch=4) as m4:
            m4.load_weights(tlp)
            check(all(np.array_equal(m4[k], (w[k] * 2)) for k in w), "TransformerLens state dict")


@test
def test_errors():
    e = raises(lambda: grokh.Model.load("/nonexistent/model.grok"), "missing checkpoint", "/nonexistent/model.grok")
    check(e is not None and e.status_name == "GROK_ERR_IO", "status %s" % (e and e.status_name))
    raises(lambda: grokh.Model.load("/nonexistent/x.safetensors"), "missing safetensors", "x.safetensors")
    raises(lambda: grokh.Model(grokh.modadd_config(P, n_heads=0)), "a bad config")
    with small_model(max_batch=4) as m:
        bad = np.zeros((5, 3), np.int32)
        e = raises(lambda: m.forward(bad), "more rows than max_batch")
        check(e is not None and e.status_name == "GROK_ERR_ARG", "GROK_ERR_ARG")
        check(e is not None and str(e) == grokh._lib.grok_last_error().decode(), "the message is grok_last_error()")
        raises(lambda: m.forward(np.zeros((2, 4), np.int32)), "wrong n_ctx", "n_ctx")
        raises(lambda: m.forward(np.full((2, 3), P + 5, np.int32)), "token out of range")
        train, test = grokh.modadd_task(P, 0.5, 3)
        raises(lambda: m.train(train, test, epochs=1), "training set larger than max_batch")
        raises(lambda: m.set_param("embed.W_E", np.zeros(3)), "set_param shape")
        with tempfile.TemporaryDirectory() as d:
            junk = os.path.join(d, "junk.grok")
            with open(junk, "wb") as f:
                f.write(b"not a checkpoint at all" * 4)
            e = raises(lambda: m.load_weights(junk), "a corrupt checkpoint")
            check(e is not None and e.status_name == "GROK_ERR_FORMAT", "GROK_ERR_FORMAT for junk")
    logits = np.zeros((P * P, P), np.float32)
    raises(lambda: grokh.modadd_restricted(logits, P, [P]), "frequency out of range", "frequency")
    raises(lambda: grokh.modadd_restricted(logits[:5], P, [1]), "logits shape")
    raises(lambda: grokh.svd(np.array([[np.nan, 1.0]])), "SVD of a NaN")
    raises(lambda: grokh.ModTask(grokh.OP_DIV, P, dirs=grokh.DIRS_TASK), "division with task directions")
    bad = grokh.Data([[0, P + 1, P]], [[-1, -1, 0]])
    raises(lambda: grokh.ModTask.from_data(P, bad), "ModTask.from_data of a row that is no pair")
    raises(lambda: grokh.neuron_freqs(np.zeros((10, 3), np.float32), P), "neuron_freqs shape")


@test
def test_memory():
    m = small_model(max_batch=2)
    m.close()
    m.close()  # twice is fine
    raises(lambda: m.forward(np.zeros((1, 3), np.int32)), "use after close", "after close")

    def rss_kb():
        with open("/proc/self/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmRSS"))
    tokens = np.zeros((P * P, 3), np.int32)
    tokens[:, 2] = P
    for i in range(30):  # warm up the allocator
        with small_model() as mm:
            mm.run_with_cache(tokens)
    before = rss_kb()
    for i in range(60):  # each model and cache holds megabytes: a leak would show
        mm = small_model()
        mm.run_with_cache(tokens)
        del mm
    check(rss_kb() - before < 20000, "RSS grew by %d kB over 60 models and caches" % (rss_kb() - before))


def main():
    grokh.threads_set(2)
    global CURRENT
    for t in TESTS:
        CURRENT = t.__name__
        before = FAILED
        try:
            t()
        except Exception:  # noqa: BLE001 - an unexpected exception fails the test, the rest run on
            global_fail(t.__name__)
        print("%-34s %s" % (t.__name__, "ok" if FAILED == before else "FAILED"))
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


def global_fail(name):
    global FAILED
    FAILED += 1
    print("FAIL %s: exception\n%s" % (name, traceback.format_exc()))


if __name__ == "__main__":
    sys.exit(main())
