"""Batched least squares with a free intercept and sign-constrained slopes.

Every law in this package is linear in some of its parameters once the others
are fixed: for M4, log(y - eps_inf) = log(beta) + c log(x) + alpha log(eps0 - y)
is linear in (log beta, c, alpha) for fixed (eps_inf, eps0).  The solvers
"profile out" those parameters: for each candidate value of the nonlinear ones
they solve this small least-squares problem exactly.  The nonlinear search
evaluates many candidates at once, so the solver here works on a batch.

Slopes carry the sign constraints of the paper (c <= 0, alpha >= 0); we write
them as non-negative coefficients of suitably signed columns.  With at most two
slopes, the exact constrained solution is found by enumerating the active sets
(which slopes sit at zero) and keeping the best feasible candidate: the problem
is convex, so that candidate is the global optimum.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_nonneg_slopes"]


def fit_nonneg_slopes(X: np.ndarray, b: np.ndarray, nonneg: tuple[bool, ...]):
    """Solve ``min_{a, k} mean((b - a - X k)^2)`` subject to ``k_j >= 0`` where ``nonneg[j]``.

    Parameters
    ----------
    X : array of shape (G, n, p) or (n, p), p in {0, 1, 2}
        Slope columns (the intercept column is implicit and unconstrained).
    b : array of shape (G, n)
        Targets, one row per problem of the batch.
    nonneg : tuple of p bools
        Which slopes must be non-negative.

    Returns
    -------
    intercept : (G,) array
    slopes : (G, p) array
    mse : (G,) array, the mean squared residual at the solution
    """
    b = np.asarray(b, dtype=float)
    if b.ndim == 1:
        b = b[None, :]
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = np.broadcast_to(X, (b.shape[0],) + X.shape)
    G, n, p = X.shape
    if p not in (0, 1, 2) or len(nonneg) != p:
        raise ValueError(f"fit_nonneg_slopes handles 0, 1 or 2 slopes with one flag each, got p={p}")
    if p == 0:  # intercept only: the mean
        intercept = b.mean(axis=1)
        return intercept, np.zeros((G, 0)), np.mean((b - intercept[:, None]) ** 2, axis=1)

    # Centring removes the intercept from the problem and keeps it well conditioned
    # (log x is ~20 on the benchmark, its spread ~3).
    xm = X.mean(axis=1)
    bm = b.mean(axis=1)
    Xc = X - xm[:, None, :]
    bc = b - bm[:, None]

    candidates = []  # list of (G, p) slope arrays, NaN where infeasible
    S = np.einsum("gni,gnj->gij", Xc, Xc)
    r = np.einsum("gni,gn->gi", Xc, bc)
    tiny = 1e-300
    if p == 1:
        k = r[:, 0] / np.maximum(S[:, 0, 0], tiny)
        if nonneg[0]:
            k = np.maximum(k, 0.0)
        candidates.append(k[:, None])
    else:
        det = S[:, 0, 0] * S[:, 1, 1] - S[:, 0, 1] ** 2
        scale = S[:, 0, 0] * S[:, 1, 1]
        ok = det > 1e-12 * np.maximum(scale, tiny)
        safe = np.where(ok, det, 1.0)
        k0 = (S[:, 1, 1] * r[:, 0] - S[:, 0, 1] * r[:, 1]) / safe
        k1 = (S[:, 0, 0] * r[:, 1] - S[:, 0, 1] * r[:, 0]) / safe
        feasible = ok.copy()
        if nonneg[0]:
            feasible &= k0 >= 0
        if nonneg[1]:
            feasible &= k1 >= 0
        both = np.stack([k0, k1], axis=1)
        both[~feasible] = np.nan
        candidates.append(both)
        # One slope free, the other held at zero.
        for j in (0, 1):
            kj = r[:, j] / np.maximum(S[:, j, j], tiny)
            if nonneg[j]:
                kj = np.maximum(kj, 0.0)
            single = np.zeros((G, 2))
            single[:, j] = kj
            candidates.append(single)
        if all(nonneg):
            candidates.append(np.zeros((G, 2)))

    best_k = np.zeros((G, p))
    best_mse = np.full(G, np.inf)
    for k in candidates:
        valid = np.all(np.isfinite(k), axis=1)
        kk = np.where(valid[:, None], k, 0.0)
        resid = bc - np.einsum("gnp,gp->gn", Xc, kk)
        mse = np.mean(resid**2, axis=1)
        mse = np.where(valid, mse, np.inf)
        better = mse < best_mse
        best_mse = np.where(better, mse, best_mse)
        best_k = np.where(better[:, None], kk, best_k)

    intercept = bm - np.einsum("gp,gp->g", xm, best_k)
    return intercept, best_k, best_mse
