#!/usr/bin/python3
"""Parity of grok.h's irreducible representations, group Fourier transform and the rep-theory
paper's metrics with a numpy implementation of the same constructions.

Usage: /usr/bin/python3 tests/parity/irreps.py PATH_TO_IRREPS_BINARY

1. `irreps gen DIR` (C) writes, for C_1, C_7, C_12, D_1, D_2, D_5, D_6, S_2..S_6 and A_3..A_6, the
   table, every irrep's matrices, the classes and the character table, a random function's
   transform and norms, and for the smaller groups the metrics of random logits and a random
   hidden layer.
2. This script builds the groups itself (itertools.permutations is lexicographic; A_n its even
   ones) and the irreps: C_n and D_n in closed form, S_n by Young's orthogonal form on the
   standard tableaux, every permutation reached by peeling descents off (p = (p s_i) s_i),
   not by grok.h's breadth-first walk; A_n by restriction, a self-conjugate partition split
   through J e_T = sign(T) e_T'. It compares the matrices, names, classes and character table
   (1e-12 absolute), the transform and norms, and the metrics computed the paper's way:
   orthonormal bases of the pair functions rho(x∘y) (by SVD) projected onto, the trace cube
   tr(rho(x) rho(y) rho(z^-1)) against the centred logits (1e-10 relative). It also checks the
   defining properties on its own matrices (homomorphism, orthogonality, sum of d^2 = |G|).
Ends with "N passed, N failed".
"""
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from parity import check, record, relerr, run_suite  # noqa: E402


# ---------------------------------------------------------------- groups
def perm_group(n, alternating):
    def sign(p):
        return (-1) ** sum(p[i] > p[j] for i in range(n) for j in range(i + 1, n))
    elems = [p for p in itertools.permutations(range(n)) if not alternating or sign(p) == 1]
    index = {p: k for k, p in enumerate(elems)}
    table = np.array([[index[tuple(x[y[i]] for i in range(n))] for y in elems] for x in elems], dtype=np.int64)
    return elems, table


def cyclic_dihedral_table(n, dihedral):
    N = 2 * n if dihedral else n
    t = np.zeros((N, N), dtype=np.int64)
    for x in range(N):
        for y in range(N):
            if not dihedral:
                t[x, y] = (x + y) % n
            else:
                xr, xs, yr, ys = x % n, x // n, y % n, y // n
                t[x, y] = (xr + yr) % n + ys * n if xs == 0 else (xr - yr) % n + ((1 + ys) % 2) * n
    return t


# ---------------------------------------------------------------- irreps of C_n and D_n
def irreps_cyclic_dihedral(n, dihedral):
    N = 2 * n if dihedral else n
    ones = [(1, 1), (1, -1)] + ([(-1, 1), (-1, -1)] if n % 2 == 0 else []) if dihedral else \
        [(1, 1)] + ([(-1, 1)] if n % 2 == 0 and n > 1 else [])
    out = []
    for rs, ss in ones:
        m = np.array([[[(rs ** (x % n)) * (ss ** (x // n if dihedral else 0))]] for x in range(N)], dtype=np.float64)
        out.append((m, False))
    for j in range(1, (n - 1) // 2 + 1):
        m = np.zeros((N, 2, 2))
        for x in range(N):
            k, s = x % n, (x // n if dihedral else 0)
            a = 2 * np.pi * ((j * k) % n) / n
            R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            m[x] = R @ np.diag([1.0, -1.0]) if s else R
        out.append((m, not dihedral))
    names = []
    for i, (m, _) in enumerate(out):
        d = m.shape[1]
        names.append("%d_%d" % (d, 1 + sum(o[0].shape[1] == d for o in out[:i])))
    return out, names


# ---------------------------------------------------------------- Young's orthogonal form
def partitions(n):
    def rec(n, most):
        if n == 0:
            yield ()
        for first in range(min(n, most), 0, -1):
            for rest in rec(n - first, first):
                yield (first,) + rest
    return list(rec(n, n))  # decreasing lexicographic order


def tableaux(shape):
    """Standard tableaux as dicts number -> (row, col), placing 0..n-1 in turn, the upper row first."""
    n = sum(shape)
    out = []

    def rec(k, lens, cells):
        if k == n:
            out.append(dict(cells))
            return
        for r in range(len(shape)):
            if lens[r] < shape[r] and (r == 0 or lens[r - 1] > lens[r]):
                cells[k] = (r, lens[r])
                lens[r] += 1
                rec(k + 1, lens, cells)
                lens[r] -= 1
                del cells[k]
    rec(0, [0] * len(shape), {})
    return out


def young_generators(shape):
    T = tableaux(shape)
    n, f = sum(shape), len(T)
    key = [tuple(sorted(t.items())) for t in T]
    gens = []
    for i in range(n - 1):
        m = np.zeros((f, f))
        for a, t in enumerate(T):
            r = (t[i + 1][1] - t[i + 1][0]) - (t[i][1] - t[i][0])
            m[a, a] = 1.0 / r
            if abs(r) > 1:
                u = dict(t)
                u[i], u[i + 1] = t[i + 1], t[i]
                m[key.index(tuple(sorted(u.items()))), a] = np.sqrt(1 - 1.0 / r ** 2)
        gens.append(m)
    return T, gens


def young_rho(p, gens, f, memo):
    """rho(p) by peeling a descent: p(i) > p(i+1) gives p = (p∘s_i)∘s_i with one inversion fewer."""
    if p in memo:
        return memo[p]
    n = len(p)
    for i in range(n - 1):
        if p[i] > p[i + 1]:
            q = list(p)
            q[i], q[i + 1] = p[i + 1], p[i]  # p∘s_i
            m = young_rho(tuple(q), gens, f, memo) @ gens[i]
            break
    else:
        m = np.eye(f)
    memo[p] = m
    return m


def irreps_perm(n, alternating):
    elems, table = perm_group(n, alternating)
    out, names = [], []
    for shape in partitions(n):
        conj = tuple(sum(1 for part in shape if part > c) for c in range(shape[0]))
        if alternating and conj > shape:
            continue
        T, gens = young_generators(shape)
        f = len(T)
        memo = {}
        rho = np.array([young_rho(p, gens, f, memo) for p in elems])
        label = "(" + ",".join(map(str, shape)) + ")"
        if not alternating or conj != shape or n < 2:
            out.append((rho, False))
            names.append(label)
            continue
        key = [tuple(sorted(t.items())) for t in T]
        transpose = [key.index(tuple(sorted((k, (c, r)) for k, (r, c) in t.items()))) for t in T]

        def sign(t):
            word = [k for _, k in sorted((rc, k) for k, rc in t.items())]
            return (-1) ** sum(word[i] > word[j] for i in range(len(word)) for j in range(i + 1, len(word)))
        eps = [sign(t) for t in T]
        if eps[0] * eps[transpose[0]] == -1:  # J^2 = -I: a pair of complex conjugates, kept whole
            out.append((rho, True))
            names.append(label)
            continue
        for h in (1, -1):
            Q = np.zeros((f, f // 2))
            q = 0
            for t in range(f):
                if transpose[t] > t:
                    Q[t, q] = 1 / np.sqrt(2)
                    Q[transpose[t], q] = h * eps[t] / np.sqrt(2)
                    q += 1
            out.append((np.einsum("ia,gij,jb->gab", Q, rho, Q), False))
            names.append(label)
    if alternating:
        order = sorted(range(len(out)), key=lambda i: out[i][0].shape[1])  # stable
        out = [out[i] for i in order]
        names = []
        for i, (m, _) in enumerate(out):
            d = m.shape[1]
            names.append("%d_%d" % (d, 1 + sum(o[0].shape[1] == d for o in out[:i])))
    return table, out, names


# ---------------------------------------------------------------- the metrics, the paper's way
def logsoftmax_loss(logits, labels):
    m = logits.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))


def orth_basis(A):
    U, S, _ = np.linalg.svd(A, full_matrices=False)
    return U[:, S > 1e-9 * S[0]]


def check_group(d, name, table, irreps, names):
    N = table.shape[0]
    inv = np.array([int(np.where(table[x] == 0)[0][0]) for x in range(N)])
    check(np.array_equal(np.load(os.path.join(d, name + "_table.npy")), table), "%s: table" % name)
    dims = np.load(os.path.join(d, name + "_dims.npy"))
    pairs = np.load(os.path.join(d, name + "_pairs.npy"))
    with open(os.path.join(d, name + "_names.txt")) as fh:
        cnames = fh.read().split()
    check(list(dims) == [m.shape[1] for m, _ in irreps] and list(pairs) == [int(p) for _, p in irreps] and cnames == names,
          "%s: dims %s / %s, pairs, names %s / %s" % (name, list(dims), [m.shape[1] for m, _ in irreps], cnames, names))
    if len(dims) != len(irreps):
        return
    hom = orth = mat = 0.0
    for i, (m, _) in enumerate(irreps):
        c = np.load(os.path.join(d, "%s_rho_%d.npy" % (name, i)))
        mat = max(mat, np.max(np.abs(c - m)))
        orth = max(orth, np.max(np.abs(np.einsum("gab,gcb->gac", m, m) - np.eye(m.shape[1]))))
        step = max(1, N // 60)  # every pair up to order 60, a stride of the y's beyond
        for y in range(0, N, step):
            hom = max(hom, np.max(np.abs(m @ m[y] - m[table[:, y]])))
    sumd2 = sum(m.shape[1] ** 2 // (2 if p else 1) for m, p in irreps)
    record("matrices", mat, 1e-12, "%s: grok.h's matrices against numpy's" % name)
    record("homomorphism", hom, 1e-12, "%s: numpy's rho(xy) = rho(x) rho(y)" % name)
    record("orthogonal", orth, 1e-12, "%s: numpy's rho orthogonal" % name)
    check(sumd2 == N, "%s: sum of d^2 = %d, order %d" % (name, sumd2, N))
    # classes, characters
    cls = np.full(N, -1)
    c = 0
    for x in range(N):
        if cls[x] < 0:
            cls[table[table[:, x], inv]] = c
            c += 1
    check(np.array_equal(np.load(os.path.join(d, name + "_classes.npy")), cls), "%s: conjugacy classes" % name)
    chi = np.array([np.trace(m, axis1=1, axis2=2) for m, _ in irreps])
    first = [int(np.where(cls == k)[0][0]) for k in range(c)]
    record("character table", relerr(np.load(os.path.join(d, name + "_chartable.npy")), chi[:, first]), 1e-12,
           "%s: character table" % name)
    kappa = np.array([2.0 if p else 1.0 for _, p in irreps])
    record("char orthogonality", np.max(np.abs(chi @ chi.T / N - np.diag(kappa))), 1e-12, "%s: <chi_i, chi_j>" % name)
    # Fourier transform and norms
    f = np.load(os.path.join(d, name + "_f.npy"))
    fhat = np.concatenate([np.einsum("gab,gk->abk", m, f).reshape(-1, f.shape[1]) for m, _ in irreps])
    record("fourier", relerr(np.load(os.path.join(d, name + "_fhat.npy")), fhat), 1e-12, "%s: transform" % name)
    norms, off = [], 0
    for (m, p), k in zip(irreps, kappa):
        dd = m.shape[1] ** 2
        norms.append(m.shape[1] / k / N * np.sum(fhat[off:off + dd] ** 2))
        off += dd
    record("norms", relerr(np.load(os.path.join(d, name + "_norms.npy")), norms), 1e-12, "%s: norms" % name)
    check(abs(sum(norms) - np.sum(f ** 2)) < 1e-10 * np.sum(f ** 2), "%s: Plancherel" % name)
    if not os.path.exists(os.path.join(d, name + "_logits.npy")):
        return
    L = np.load(os.path.join(d, name + "_logits.npy"))
    H = np.load(os.path.join(d, name + "_hidden.npy"))
    W = np.load(os.path.join(d, name + "_W.npy"))
    base = np.load(os.path.join(d, name + "_base.npy"))
    keys = list(np.load(os.path.join(d, name + "_keys.npy")))
    labels = table.reshape(-1)
    # trace similarity: centred logits against tr(rho(x) rho(y) rho(z^-1)) = chi(x y z^-1)
    Lc = L - L.mean(1, keepdims=True)
    sims = []
    for i in range(len(irreps)):
        T = chi[i][table[labels][:, inv]]  # (pairs, z): chi(xy z^-1)
        num = np.sum(Lc * T, 1)
        den = np.linalg.norm(Lc, axis=1) * np.linalg.norm(T, axis=1)
        sims.append(np.mean(np.where(den > 0, num / np.where(den > 0, den, 1), 0)))
    record("trace sims", relerr(np.load(os.path.join(d, name + "_sims.npy")), sims), 1e-10, "%s: trace similarity" % name)
    # the pair functions rho(xy) of each irrep, orthonormalised (the paper's hidden_reps_xy_orth)
    Q = [orth_basis(m[labels].reshape(N * N, -1)) for m, _ in irreps]
    pn = [np.sum((q.T @ H) ** 2) for q in Q]
    pn.append(np.sum(H ** 2) - sum(pn))
    record("pair norms", relerr(np.load(os.path.join(d, name + "_pair_norms.npy")), pn), 1e-10, "%s: pair norms" % name)

    def losses(X, Wr, b):
        def loss(Xp):
            return logsoftmax_loss((b if b is not None else 0) + (Xp @ Wr if Wr is not None else Xp), labels)
        keep = np.hstack([Q[0]] + [Q[k] for k in keys])
        drop = np.hstack([Q[k] for k in keys])
        out = [loss(keep @ (keep.T @ X)), loss(X - drop @ (drop.T @ X))]
        out += [loss(X - q @ (q.T @ X)) for q in Q]
        each = [np.hstack([Q[0]] + ([q] if i else [])) for i, q in enumerate(Q)]
        out += [loss(e @ (e.T @ X)) for e in each]
        return out
    want = np.array([losses(L, None, None), losses(H, W, base)])
    record("losses", relerr(np.load(os.path.join(d, name + "_losses.npy")), want), 1e-10,
           "%s: restricted, excluded losses (logit, hidden level)" % name)


def check_all(d):
    for n in (1, 7, 12):
        irr, names = irreps_cyclic_dihedral(n, False)
        check_group(d, "C_%d" % n, cyclic_dihedral_table(n, False), irr, names)
    for n in (1, 2, 5, 6):
        irr, names = irreps_cyclic_dihedral(n, True)
        check_group(d, "D_%d" % n, cyclic_dihedral_table(n, True), irr, names)
    for n in (2, 3, 4, 5, 6):
        table, irr, names = irreps_perm(n, False)
        check_group(d, "S_%d" % n, table, irr, names)
    for n in (3, 4, 5, 6):
        table, irr, names = irreps_perm(n, True)
        check_group(d, "A_%d" % n, table, irr, names)


if __name__ == "__main__":
    print("numpy %s" % np.__version__)
    run_suite(__doc__, "irreps", check_all, args=("gen",))
