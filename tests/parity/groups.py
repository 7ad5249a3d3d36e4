#!/usr/bin/python3
"""Parity of grok.h's whole-group Fourier analysis and net loader with a numpy port of seed 003.

Usage: /usr/bin/python3 tests/parity/groups.py PATH_TO_GROUPS_BINARY

1. `groups gen DIR` (C) trains three nets with grok_net_train (OneLayerMLP on D_23 and C_30,
   BilinearNet on D_12) and writes their weights and what grok.h's analysis finds.
2. This script loads the weights, recomputes everything in float64 numpy following the notebook's
   code (Group.compute_fourier_basis, cells 53-54's norms, fft2d, cell 57's centred neurons,
   cell 58's neuron clusters, cell 59's Fourier logits, cell 60's W_U norms per cluster, cell
   61's logit components) and compares: the basis and its names exactly (up to 1e-12), the
   norms, the spectra and the fractions explained to 1e-6 relative, the cluster assignments and
   the cluster counts exactly.
3. It writes the trained weights back as state dicts (F64 and F32, laid out as
   safetensors.torch.save_file does, no __metadata__) and a random net of other shapes;
   `groups check DIR NAME..` (C) loads them with grok_net_load_safetensors and writes the logits
   of all pairs, compared here to 1e-5 relative (float32 against float64).

Two deliberate differences from the notebook: for C_n with even n its "sin n/2" row is
sin(pi x), zero in exact arithmetic, which the notebook divides by its own (round-off) norm;
grok.h and this port leave it zero. Cell 61 reshapes the (order^2, R) Fourier logits to
(order, order, order), which raises whenever R != order (D_n, even C_n); it is reshaped to
(order, order, R) here, and the components drawn are those of the first two key frequencies
>= 1 (a -1 cluster would index from the end). Ends with "N passed, N failed".
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import parity  # noqa: E402
from parity import st_save, st_load, check, record, WORST  # noqa: E402




def relerr(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    d = np.max(np.abs(a - b))
    return 0.0 if d == 0 else d / np.max(np.abs(b))



# ---------------------------------------------------------------- seed 003, ported to numpy
class Group:
    def __init__(self, index, order, fourier_order):
        self.index, self.order, self.fourier_order = index, order, fourier_order
        self.multiplication_table = np.array([[self.compose(i, j) for j in range(order)] for i in range(order)])

    def get_all_data(self):
        i, j = np.divmod(np.arange(self.order * self.order), self.order)
        return np.stack([i, j, self.multiplication_table[i, j]], axis=1)

    def compute_fourier_basis(self):
        fourier_basis = [np.ones(self.order) / np.sqrt(self.order)]
        fourier_basis_names = ["Const"]
        for i in range(1, self.fourier_order):
            fourier_basis.append(np.cos(2 * np.pi * np.arange(self.order) * i / self.order))
            fourier_basis.append(np.sin(2 * np.pi * np.arange(self.order) * i / self.order))
            for r in (-2, -1):
                # the one deliberate difference: sin(pi x) (2i == order) is zero, not normalised round-off
                if 2 * i == self.order and r == -1:
                    fourier_basis[r] = np.zeros(self.order)
                else:
                    fourier_basis[r] = fourier_basis[r] / np.linalg.norm(fourier_basis[r])
            fourier_basis_names.append(f"cos {i}")
            fourier_basis_names.append(f"sin {i}")
        self.fourier_basis = np.stack(fourier_basis, axis=0)
        self.fourier_basis_names = fourier_basis_names


class CyclicGroup(Group):
    def __init__(self, index):
        super().__init__(index=index, order=index, fourier_order=index // 2 + 1)

    def compose(self, x, y):
        return (x + y) % self.order


class DihedralGroup(Group):
    def __init__(self, index):
        super().__init__(index=index, order=2 * index, fourier_order=index)

    def compose(self, x, y):
        x_r, x_s = x % self.index, int(x >= self.index)
        y_r, y_s = y % self.index, int(y >= self.index)
        if x_s == 0:
            z_r, z_s = (x_r + y_r) % self.index, y_s
        else:
            z_r, z_s = (x_r - y_r) % self.index, (1 + y_s) % 2
        return z_r + z_s * self.index


def forward(P, data):
    """BilinearNet / OneLayerMLP forward in float64: (hidden or product, logits)."""
    x_embed, y_embed = P["W_E_a"][data[:, 0]], P["W_E_b"][data[:, 1]]
    if "W" in P:
        mid = np.maximum(np.hstack((x_embed, y_embed)) @ P["W"], 0)
    else:
        mid = x_embed * y_embed
    return mid, mid @ P["W_U"]


def fft2d(mat, fourier_basis):
    return np.einsum("xyz,fx,Fy->fFz", mat, fourier_basis, fourier_basis)


def extract_freq_2d(tensor, freq):
    index_1d = [0, 2 * freq - 1, 2 * freq]
    return tensor[[[i] * 3 for i in index_1d], [index_1d] * 3]


def neuron_clusters(fourier_activations, fourier_basis):
    """Cell 58, as the notebook writes it."""
    neuron_freqs, neuron_frac_explained = [], []
    for n in range(fourier_activations.shape[2]):
        best_frac_explained, best_freq = -1, -1
        for freq in range(1, fourier_basis.shape[0] // 2):
            with np.errstate(invalid="ignore", divide="ignore"):
                frac_explained = (extract_freq_2d(fourier_activations[:, :, n], freq) ** 2).sum() / (
                    fourier_activations[:, :, n] ** 2).sum()
            if frac_explained > best_frac_explained:
                best_frac_explained, best_freq = frac_explained, freq
        neuron_freqs.append(best_freq)
        neuron_frac_explained.append(best_frac_explained)
    return np.array(neuron_freqs), np.array(neuron_frac_explained, dtype=np.float64)


# ---------------------------------------------------------------- the comparisons
def check_case(d, name, group):
    P = {k: v.astype(np.float64) for k, v in st_load(os.path.join(d, name + ".safetensors"))[0].items()}
    load = lambda s: np.load(os.path.join(d, name + s))  # noqa: E731
    acc = load("_acc.npy")
    check(acc[0] >= 0.99 and acc[1] >= 0.99, "%s: trained to train/test accuracy %s, want >= 0.99" % (name, acc))
    group.compute_fourier_basis()
    F, names = group.fourier_basis, group.fourier_basis_names
    with open(os.path.join(d, name + "_names.txt")) as f:
        check(f.read().split("\n")[:-1] == names, "%s: the basis' names" % name)
    record("basis", relerr(load("_basis.npy"), F), 1e-12, "%s: the basis" % name)

    # cells 53-54
    norms = np.stack([((P["W_E_a"].T @ F.T) ** 2).sum(0), ((P["W_E_b"].T @ F.T) ** 2).sum(0),
                      ((P["W_U"] @ F.T) ** 2).sum(0)])
    c_norms = load("_norms.npy")
    for i, w in enumerate(("W_E_a", "W_E_b", "W_U")):
        record("norms", relerr(c_norms[i], norms[i]), 1e-6, "%s: %s norms per Fourier component" % (name, w))

    # cells 55-58 on the whole group, uncentred
    all_data = group.get_all_data()
    hidden, logits = forward(P, all_data)
    record("activations", relerr(load("_acts.npy"), hidden), 1e-5, "%s: neuron activations (float32)" % name)
    fourier_activations = fft2d(hidden.reshape(group.order, group.order, -1), F)
    record("acts fft2d", relerr(load("_acts_fourier.npy"), fourier_activations), 1e-5, "%s: fft2d of the neurons" % name)
    neuron_freqs, neuron_frac_explained = neuron_clusters(fourier_activations, F)
    c_freq, c_frac = load("_freq.npy"), load("_frac.npy")
    check(np.array_equal(c_freq, neuron_freqs), "%s: neuron frequencies differ at %s" % (name, np.nonzero(c_freq != neuron_freqs)[0]))
    record("frac explained", relerr(c_frac, neuron_frac_explained), 1e-6, "%s: fraction explained" % name)
    key_freqs, counts = np.unique(neuron_freqs, return_counts=True)
    c_keys, c_counts = np.unique(c_freq, return_counts=True)
    check(np.array_equal(key_freqs, c_keys) and np.array_equal(counts, c_counts), "%s: cluster counts" % name)
    print("%s (%s): %d clusters, %s" % (name, type(group).__name__ + "(%d)" % group.index, len(key_freqs),
                                        ", ".join("freq %d: %d" % (k, c) for k, c in zip(key_freqs, counts))))
    print("  mean frac explained %.4f, dead neurons %d" % (np.mean(neuron_frac_explained[neuron_freqs >= 0]) if
                                                           np.any(neuron_freqs >= 0) else 0, np.sum(neuron_freqs < 0)))

    # cell 59: the logits in the 2-D Fourier basis
    fourier_logits = fft2d(logits.reshape(group.order, group.order, -1), F)
    record("logits fft2d", relerr(load("_flogits.npy"), fourier_logits), 1e-5, "%s: fft2d of the logits" % name)
    record("logits fft2d", relerr(load("_flogits_msq.npy"), (fourier_logits ** 2).mean(2)), 1e-5,
           "%s: mean square of the Fourier logits" % name)

    # cell 57: the neurons centred, in the 2-D basis
    hidden_activations = hidden.reshape(group.order, group.order, -1)
    hidden_activations_centred = hidden_activations - hidden_activations.mean(axis=(0, 1), keepdims=True)
    fourier_activations_centred = fft2d(hidden_activations_centred, F)
    record("centred acts fft2d", relerr(load("_cacts_fourier.npy"), fourier_activations_centred), 1e-5,
           "%s: fft2d of the centred neurons" % name)
    record("centred acts fft2d", relerr(load("_cacts_msq.npy"), (fourier_activations_centred ** 2).mean(2)), 1e-5,
           "%s: mean square of the centred neurons' spectrum" % name)

    # cell 60: W_U's norms per cluster
    check(np.array_equal(load("_keys.npy"), key_freqs), "%s: key_freqs" % name)
    W_U_norm_embeddings_freq = np.stack([((P["W_U"][neuron_freqs == freq, :] @ F.T) ** 2).sum(0) for freq in key_freqs])
    record("W_U cluster norms", relerr(load("_wu_clusters.npy"), W_U_norm_embeddings_freq), 1e-6,
           "%s: W_U norms per cluster" % name)

    # cell 61, reshaped to (order, order, R)
    fourier_unembed = P["W_U"] @ F.T
    fourier_logits = hidden @ fourier_unembed
    record("logit components", relerr(load("_ulogits.npy"), fourier_logits), 1e-5, "%s: hidden @ W_U @ F.T" % name)
    fourier_logits = fourier_logits.reshape(group.order, group.order, F.shape[0])
    comp_freqs = key_freqs[key_freqs >= 1][:2]
    check(np.array_equal(load("_comp_freqs.npy"), comp_freqs), "%s: the components' frequencies" % name)
    c_cos, c_sin = load("_comp_cos.npy"), load("_comp_sin.npy")
    for k, freq in enumerate(comp_freqs):
        cos_c = fft2d(fourier_logits[:, :, 2 * freq - 1][:, :, None], F)[:, :, 0]
        sin_c = fft2d(fourier_logits[:, :, 2 * freq][:, :, None], F)[:, :, 0]
        record("logit components", relerr(c_cos[k], cos_c), 1e-5, "%s: component along cos(%d)" % (name, freq))
        record("logit components", relerr(c_sin[k], sin_c), 1e-5, "%s: component along sin(%d)" % (name, freq))
        i, j = 2 * freq - 1, 2 * freq
        print("  cos(%d) component: cos cos %+.3g, sin sin %+.3g; sin(%d): cos sin %+.3g, sin cos %+.3g (largest |.| %.3g)"
              % (freq, cos_c[i, i], cos_c[j, j], freq, sin_c[i, j], sin_c[j, i], np.max(np.abs(cos_c))))
    return P, group, logits


def check_load(d, binary, cases):
    """Python writes state dicts; grok_net_load_safetensors reads them; the logits must agree."""
    refs = {}
    for name, (P, group, logits) in cases.items():
        for dt in (np.float64, np.float32):
            key = "py_%s_%s" % (name, "f64" if dt == np.float64 else "f32")
            st_save(os.path.join(d, key + ".safetensors"), {k: v.astype(dt) for k, v in P.items()})
            refs[key] = forward({k: v.astype(dt).astype(np.float64) for k, v in P.items()}, group.get_all_data())[1]
    rng = np.random.default_rng(0)
    group = CyclicGroup(7)
    P = {"W_E_a": rng.standard_normal((7, 5)), "W_E_b": rng.standard_normal((7, 5)),
         "W": rng.standard_normal((10, 9)) / 3, "W_U": rng.standard_normal((9, 7)) / 3}
    st_save(os.path.join(d, "py_random_mlp.safetensors"), P)
    refs["py_random_mlp"] = forward(P, group.get_all_data())[1]
    r = subprocess.run([binary, "check", d] + list(refs), capture_output=True, text=True)
    check(r.returncode == 0, "groups check: " + r.stderr.strip())
    if r.returncode != 0:
        return
    for key, ref in refs.items():
        record("python->grok.h logits", relerr(np.load(os.path.join(d, key + "_logits.npy")), ref), 1e-5,
               "%s: logits of grok_net_load_safetensors' net" % key)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="grok_groups_") as d:
        r = subprocess.run([binary, "gen", d], capture_output=True, text=True)
        print(r.stdout.strip())
        if r.returncode != 0:
            print("FAIL groups gen:", r.stderr.strip())
            print("0 passed, 1 failed")
            sys.exit(1)
        cases = {}
        for name, group in (("mlp_D23", DihedralGroup(23)), ("mlp_C30", CyclicGroup(30)),
                            ("bilinear_D12", DihedralGroup(12))):
            cases[name] = check_case(d, name, group)
        g = cases["mlp_C30"][1]
        check(len(g.fourier_basis_names) == 31 and g.fourier_basis_names[-1] == "sin 15"
              and not np.any(g.fourier_basis[-1]), "C_30: 31 rows, the last, sin 15, zero")
        g = cases["mlp_D23"][1]
        check(g.fourier_basis.shape == (45, 46), "D_23: 2n - 1 = 45 rows over 46 elements")
        check_load(d, binary, cases)
    print("numpy %s; worst relative error per quantity (limit):" % np.__version__)
    for q, (err, limit) in WORST.items():
        print("  %-24s %.3e  (%.0e)" % (q, err, limit))
    print("%d passed, %d failed" % (parity.PASS, parity.FAIL))
    sys.exit(1 if parity.FAIL else 0)


if __name__ == "__main__":
    main()
