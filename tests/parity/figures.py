#!/usr/bin/python3
"""Parity of the functions behind grok.h's figures with numpy ports of the seeds' formulas
(tests/parity/run.sh, `make test-parity`).

Usage: /usr/bin/python3 tests/parity/figures.py PATH_TO_FIGURES_BINARY

`figures DIR` (C) writes float64 .npy files: random complex arrays with grok_fftshift2 /
grok_ifftshift2 of them, and a small trained modular-addition model (p = 23) with its neuron
activations, attention grids and grok.h's figure quantities. This script recomputes each one:
  fftshift2 / ifftshift2      np.fft.fftshift(x) / np.fft.ifftshift(x) over both axes
  attention spectra           np.fft.fftshift(np.fft.fft2(grid)) (seed 000)
  neuron_freq_norm            seed 001 cells 45-46 (fourier_neuron_acts, [:, 0, 0] = 0, the 3 x 3
                              terms per frequency over the total)
  neuron_freqs' frac          the column maxima of neuron_freq_norm
  wlogit_cluster_norms        seed 003's (W[neuron_freqs == freq] @ fourier_basis.T).pow(2).sum(0)
                              with W = W_logit = W_out @ W_U
  logit components            seed 004 (ARENA): US = W_logit @ F.T, fft2d(acts @ US[:, 2k-1]) and
                              fft2d(acts @ US[:, 2k]) with fft2d(X) = F X F^T
  dominant-frequency fits     seed 000's analyze_and_plot on the first columns of U of W_E[:p];
                              the singular values and |U| against np.linalg.svd
Relative error = max |grok - reference| / max |reference|; limit 1e-10 (all double math).
Prints the worst error per quantity and ends with "N passed, N failed"; exit status 1 if
anything failed.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

PASS = FAIL = 0


def check(name, got, ref, tol=1e-10):
    global PASS, FAIL
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        FAIL += 1
        print(f"FAIL {name}: shape {got.shape} vs {ref.shape}")
        return
    scale = np.max(np.abs(ref)) if ref.size else 0.0
    err = np.max(np.abs(got - ref)) / (scale if scale > 0 else 1.0) if ref.size else 0.0
    ok = bool(err <= tol)
    PASS += ok
    FAIL += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: relative error {err:.2e}")


def fourier_basis(p):
    """Seed 004's fourier_basis: rows 1/sqrt(p), then cos, sin(2 pi k x / p) normalised."""
    x = np.arange(p)
    rows = [np.ones(p)]
    for k in range(1, p // 2 + 1):
        rows.append(np.cos(2 * np.pi * k * x / p))
        rows.append(np.sin(2 * np.pi * k * x / p))
    F = np.array(rows[:p])
    return F / np.linalg.norm(F, axis=1, keepdims=True)


def analyze_and_plot(data):
    """Seed 000's analyze_and_plot, without the figure: amplitude, frequency, phase."""
    fft_data = np.fft.fft(data)
    amplitudes = np.abs(fft_data)
    i = np.argmax(amplitudes[1:]) + 1
    if i > len(data) / 2:
        i = len(data) - i
    return amplitudes[i] / (len(data) / 2), i / len(data), np.angle(fft_data[i])


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([binary, d], capture_output=True, text=True)
        print(r.stdout, end="")
        if r.returncode != 0:
            print(r.stderr, end="")
            print("FAIL figures binary")
            print("0 passed, 1 failed")
            sys.exit(1)
        L = lambda name: np.load(os.path.join(d, name + ".npy"))

        for s in range(4):
            x = L(f"shift_in_{s}")
            z = x[..., 0] + 1j * x[..., 1]
            for name, fn in (("fwd", np.fft.fftshift), ("inv", np.fft.ifftshift)):
                ref = fn(z)
                got = L(f"shift_{name}_{s}")
                check(f"{'fftshift2' if name == 'fwd' else 'ifftshift2'} {z.shape}", got,
                      np.stack([ref.real, ref.imag], axis=-1), 0.0)

        acts, W_E, W_out, W_U = L("acts"), L("W_E"), L("W_out"), L("W_U")
        to_a, to_b = L("to_a"), L("to_b")
        p = W_U.shape[1]
        M = acts.shape[1]
        F = fourier_basis(p)

        spec = L("spectra")
        ref = []
        for h in range(to_a.shape[0]):
            for g in (to_a[h], to_b[h]):
                c = np.fft.fftshift(np.fft.fft2(g)).reshape(-1)
                ref.append(np.stack([c.real, c.imag], axis=-1))
        check("attention spectra fftshift(fft2)", spec, np.array(ref))

        # seed 001, cells 45-46
        fna = F @ acts.reshape(p, p, M).transpose(2, 0, 1) @ F.T
        fna[:, 0, 0] = 0.0
        nfn = np.zeros((p // 2, M))
        for freq in range(0, p // 2):
            for x in [0, 2 * (freq + 1) - 1, 2 * (freq + 1)]:
                for y in [0, 2 * (freq + 1) - 1, 2 * (freq + 1)]:
                    nfn[freq] += fna[:, x, y] ** 2
        nfn = nfn / (fna ** 2).sum(axis=(-1, -2))[None, :]
        check("neuron_freq_norm (seed 001)", L("neuron_freq_norm"), nfn)
        check("neuron_freqs frac = max over k", L("neuron_frac"), nfn.max(axis=0))

        # seed 003's per-cluster norms, with W_logit
        W_logit = W_out @ W_U
        nf = L("neuron_freq").astype(int)
        clusters = L("clusters").astype(int)
        ref = np.array([((W_logit[nf == f] @ F.T) ** 2).sum(0) for f in clusters])
        check("wlogit_cluster_norms (seed 003)", L("cluster_norms"), ref)

        # seed 004 (ARENA): cos / sin components
        US = W_logit @ F.T
        keys = L("key_freqs").astype(int)
        for name, off in (("cos", 1), ("sin", 0)):
            ref = np.array([F @ (acts @ US[:, 2 * k - off]).reshape(p, p) @ F.T for k in keys])
            check(f"logit components {name} (seed 004)", L(f"{name}_components"), ref)

        # seed 000: SVD of W_E and the dominant-frequency fits
        U, S = L("U"), L("S")
        _, S_ref, _ = np.linalg.svd(W_E, full_matrices=False)
        check("singular values of W_E", S, S_ref)
        Un, _, _ = np.linalg.svd(W_E, full_matrices=False)
        check("|U| of W_E (first 4 columns)", np.abs(U[:, :4]), np.abs(Un[:, :4]), 1e-8)
        fits = L("fits")
        ref = np.array([analyze_and_plot(U[:, i]) for i in range(4)])
        check("dominant-frequency fits (seed 000)", fits, ref)
        print(f"model: p = {p}, {M} neurons, clusters {clusters.tolist()}")

    print(f"{PASS} passed, {FAIL} failed")
    sys.exit(1 if FAIL else 0)


if __name__ == "__main__":
    main()
