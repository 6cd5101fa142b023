"""A sound estimator: each law fitted on log loss, the quantity its extrapolation is scored in.

The paper's Eq. 4 measures residuals of ``log(loss - eps_inf)``: noise is magnified by
``1 / (loss - eps_inf)``, so its minimum rewards moving ``eps_inf`` away from the data and often sits
at ``eps_inf = 0`` (M2 and M4 collapse to a plain power law). Here every law is fitted by minimising

    mean_i (log yhat(x_i) - log y_i)^2        (optionally a Huber loss of the same residuals)

the squared error of the *predicted* log loss, which is what Eq. 6 scores on held-out points. For M1
and M3 this is the paper's own loss (their predictions are explicit in log space), so the sound fit
equals :mod:`scaling.laws`' global fit. For M2 and M4 it is not.

How the search avoids luck. The curve is first rescaled (x by its geometric mean, the loss by its
largest value), so that the fit is scale-invariant: multiplying every loss by 1e-6 or every x by 1e6
gives the same fit, rescaled. Starting points come from a grid over the nonlinear parameters
(``eps_inf`` as a fraction of the smallest loss, and ``eps0`` when learned) with ``log beta``, ``c``
and ``alpha`` solved exactly there by the Eq. 4 profile; each grid point is scored by the *sound*
loss, and the best few distinct ones, plus the pure power law, are polished by a bounded trust-region
least squares with analytic Jacobians. M4's prediction is implicit; its Jacobian comes from
differentiating ``log w - alpha log(b - w) = log beta + c log x`` (``w = yhat - eps_inf``,
``b = eps0 - eps_inf``) implicitly.

Public API
----------
``sound_solve(law, x, y, robust=None) -> (params, converged, objective)`` for an unfitted law object;
``fit_sound(law, x, loss, robust=None)`` fits and returns the law (``loss_`` and ``objective_`` hold
the sound objective, the mean squared log prediction error on the fitting points).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.optimize import least_squares

from ._checks import check_curve

__all__ = ["sound_solve", "fit_sound", "sound_objective", "ROBUST_LOSSES"]

#: Robust alternatives to the squared error, as scipy's least_squares names them.
ROBUST_LOSSES = ("huber", "soft_l1", "cauchy")
_N_STARTS = 4
_GAP_FRACTIONS = 1.0 - np.geomspace(1e-4, 1.0, 33)[::-1]  # eps_inf / min(loss), 0 ... 0.9999
_ALPHA_MAX = 50.0
#: A learned eps0 stays at least this fraction above the largest loss.
EPS0_REL_MARGIN = 1e-3


def sound_objective(law, x, y) -> float:
    """Mean squared error of the predicted log loss of a fitted ``law`` on (x, y)."""
    r = np.log(law.predict(x)) - np.log(np.asarray(y, float))
    return float(np.mean(r**2))


# ---------------------------------------------------------------------------------------------
# Predictions and Jacobians in normalised units (x / x_ref, loss / y_ref)
# ---------------------------------------------------------------------------------------------

def _m2_model(theta, L):
    """M2: theta = (log beta, c, eps_inf). Returns yhat and d yhat / d theta (n, 3)."""
    a, c, e = theta
    f = np.exp(np.minimum(a + c * L, 700.0))
    yhat = e + f
    J = np.column_stack([f, f * L, np.ones_like(L)])
    return yhat, J


@njit(cache=True, nogil=True)
def _solve_s(r, alpha, out):
    """Root s of h(s) = log sigmoid(s) - alpha log sigmoid(-s) - r, for each r (h increases in s)."""
    log2 = math.log(2.0)
    for i in range(r.size):
        ri = r[i]
        lo = min(0.0, ri - alpha * log2 - 1.0)
        hi = max(0.0, (ri + log2 + 1.0) / alpha)
        s = min(max(ri if ri < 0.0 else ri / alpha, lo), hi)
        for _ in range(200):
            # log sigmoid(s) = -log(1 + e^-s), log sigmoid(-s) = -log(1 + e^s), computed stably
            lsp = -(math.log1p(math.exp(-s)) if s > -30.0 else -s + math.log1p(math.exp(s)))
            lsm = -(math.log1p(math.exp(s)) if s < 30.0 else s + math.log1p(math.exp(-s)))
            h = lsp - alpha * lsm - ri
            if h > 0.0:
                hi = s
            else:
                lo = s
            slope = math.exp(lsm) + alpha * math.exp(lsp)  # sigmoid(-s) + alpha sigmoid(s)
            step = s - h / slope
            new = step if lo < step < hi else 0.5 * (lo + hi)
            if abs(new - s) <= 1e-14 * max(1.0, abs(s)):
                s = new
                break
            s = new
        out[i] = s


def _m4_solve_w(log_f, b, alpha):
    """The excess loss w in (0, b) with log w - alpha log(b - w) = log f (vectorised).

    With w = b * sigmoid(s) the equation is log sigmoid(s) - alpha log sigmoid(-s) = r with
    r = log f + (alpha - 1) log b, whose left side increases strictly in s: safeguarded Newton.
    """
    if alpha < 1e-12:
        return np.minimum(np.exp(np.minimum(log_f, 700.0)), b * (1 - 1e-15))
    r = np.ascontiguousarray(log_f + (alpha - 1.0) * np.log(b), dtype=float)
    s = np.empty_like(r)
    _solve_s(r, float(alpha), s)
    return b * np.exp(-np.logaddexp(0.0, -s))


def _m4_model(theta, L, eps0_fixed, ymax):
    """M4: theta = (log beta, c, alpha, eps_inf[, t]) with eps0 = ymax + exp(t) when learned."""
    a, c, alpha, e = theta[:4]
    learn = eps0_fixed is None
    e0 = ymax + np.exp(theta[4]) if learn else eps0_fixed
    b = e0 - e
    w = _m4_solve_w(a + c * L, b, alpha)
    yhat = e + w
    gap = np.maximum(b - w, 1e-300)
    D = 1.0 / np.maximum(w, 1e-300) + alpha / gap  # d/dw of log w - alpha log(b - w)
    dw_da = 1.0 / D
    cols = [dw_da, L * dw_da, np.log(gap) * dw_da, 1.0 - (alpha / gap) / D]
    if learn:
        cols.append((alpha / gap) / D * (e0 - ymax))
    return yhat, np.column_stack(cols)


# ---------------------------------------------------------------------------------------------
# The solver
# ---------------------------------------------------------------------------------------------

def _polish(model, theta0, lb, ub, logy, robust):
    """Bounded least squares of log yhat - log y from theta0; returns (theta, objective, success)."""
    def resid(theta):
        yhat, _ = model(theta)
        return np.log(np.maximum(yhat, 1e-300)) - logy

    def jac(theta):
        yhat, J = model(theta)
        return J / np.maximum(yhat, 1e-300)[:, None]

    theta0 = np.clip(theta0, lb, ub)
    try:
        with np.errstate(all="ignore"):
            res = least_squares(resid, theta0, jac=jac, bounds=(lb, ub), method="trf",
                                loss=robust or "linear", x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12,
                                max_nfev=400)
    except (ValueError, FloatingPointError):
        return theta0, np.inf, False
    r = resid(res.x)
    if not np.all(np.isfinite(r)):
        return res.x, np.inf, False
    return res.x, float(np.mean(r**2)), bool(res.success)


def _starts(law, L, yn, eps0_n):
    """Grid starting points in normalised units, ranked by the sound loss: list of theta arrays."""
    from .laws import M2, M4

    ymin = yn.min()
    e_grid = ymin * _GAP_FRACTIONS
    logy = np.log(yn)
    cands = []
    if isinstance(law, M4):
        probe = M4(eps0=1.0, learn_eps0=False, alpha=law.alpha)
        e0_values = [eps0_n] if eps0_n is not None else list(yn.max() * (1.0 + np.geomspace(EPS0_REL_MARGIN, 10.0, 9)))
        for e0 in e0_values:
            a, c, alpha, _ = probe._profile(L, yn, e_grid, np.full(e_grid.size, e0))
            for i in range(e_grid.size):
                t = None if eps0_n is not None else np.log(e0 - yn.max())
                theta = np.array([a[i], c[i], alpha[i], e_grid[i]] + ([] if t is None else [t]))
                cands.append(theta)
        model = (lambda th: _m4_model(th, L, eps0_n, yn.max()))
    else:  # M2
        probe = M2(c=law.c)
        a, k, _ = probe._profile_e(L, yn, e_grid)
        for i in range(e_grid.size):
            cands.append(np.array([a[i], -k[i, 0], e_grid[i]]))
        model = (lambda th: _m2_model(th, L))
    scores = []
    for th in cands:
        with np.errstate(all="ignore"):
            yhat, _ = model(th)
            r = np.log(np.maximum(yhat, 1e-300)) - logy
        scores.append(np.mean(r**2) if np.all(np.isfinite(r)) else np.inf)
    order = np.argsort(scores)
    picked, seen = [], []
    for j in order:  # the best few, at distinct eps_inf
        e = cands[j][2 if not isinstance(law, M4) else 3]
        if any(abs(e - s) <= 0.02 * ymin for s in seen):
            continue
        picked.append(cands[j])
        seen.append(e)
        if len(picked) == _N_STARTS:
            break
    # the pure power law (eps_inf = 0, the first grid value) always competes
    picked.append(cands[0])
    return picked, model


def sound_solve(law, x, y, robust: str | None = None):
    """Fit ``law`` (an unfitted M1-M4 object, its settings respected) on log loss.

    Returns ``(params, converged, objective)`` in the caller's units; ``objective`` is the mean
    squared log prediction error on (x, y) (also with ``robust``, which only changes the weights).
    """
    from .laws import M1, M2, M3, M4

    if robust is not None and robust not in ROBUST_LOSSES:
        raise ValueError(f"robust must be None or one of {ROBUST_LOSSES}, got {robust!r}.")
    x, y = check_curve(x, y, law.n_params, law.name)
    if isinstance(law, (M1, M3)) and robust is None:
        # Their predictions are explicit in log space: the sound loss *is* the paper's Eq. 4/5.
        params, ok = law._solve(x, y)
        law.params_ = {k: float(v) for k, v in params.items()}
        return law.params_, ok, sound_objective(law, x, y)
    if not isinstance(law, (M2, M4)):
        raise ValueError(f"the sound estimator handles M1-M4, not {law.name}.")
    x_ref = float(np.exp(np.mean(np.log(x))))
    y_ref = float(y.max())
    L = np.log(x / x_ref)
    yn = y / y_ref
    logy = np.log(yn)
    eps0_n = None
    if isinstance(law, M4):
        if law.learn_eps0:
            eps0_n = None
        else:
            if law.eps0 <= y.max():
                raise ValueError(f"M4 needs eps0 above every loss; eps0 = {law.eps0:g}, largest loss {y.max():g}.")
            eps0_n = law.eps0 / y_ref
    starts, model = _starts(law, L, yn, eps0_n)
    if isinstance(law, M4):
        alpha_lo, alpha_hi = (0.0, _ALPHA_MAX) if law.alpha is None else (law.alpha, law.alpha + 1e-12)
        lb = [-np.inf, -np.inf, alpha_lo, 0.0]
        ub = [np.inf, 0.0, alpha_hi, yn.min() * (1 - 1e-9)]
        if eps0_n is None:
            lb.append(np.log(EPS0_REL_MARGIN * yn.max()))
            ub.append(np.log(100.0 * yn.max()))
    else:
        lb, ub = [-np.inf, -np.inf, 0.0], [np.inf, 0.0, yn.min() * (1 - 1e-9)]
        if law.c is not None:
            lb[1], ub[1] = law.c, law.c + 1e-15
    lb, ub = np.array(lb, float), np.array(ub, float)
    best, best_v, ok = None, np.inf, False
    for th in starts:
        theta, v, success = _polish(model, th, lb, ub, logy, robust)
        if v < best_v:
            best, best_v, ok = theta, v, success
    if best is None:
        raise ValueError(f"the sound {law.name} fit failed on every start; check the curve for extreme values.")
    a, c = best[0], best[1]
    beta = float(np.exp(a - c * np.log(x_ref)) * y_ref)  # beta (x/x_ref)^c y_ref = beta' x^c
    if isinstance(law, M4):
        alpha, e = float(best[2]), float(best[3] * y_ref)
        e0 = float((yn.max() + np.exp(best[4])) * y_ref) if eps0_n is None else law.eps0
        # (w / y_ref) / ((b - w) / y_ref)^alpha = beta_n (x/x_ref)^c  =>  beta = beta_n y_ref^(1-alpha) x_ref^-c
        beta = float(np.exp(a - c * np.log(x_ref) + (1.0 - alpha) * np.log(y_ref)))
        params = {"beta": beta, "c": float(c), "eps_inf": e, "eps0": e0, "alpha": alpha}
    else:
        params = {"beta": beta, "c": float(c), "eps_inf": float(best[2] * y_ref)}
    law.params_ = params
    return params, ok, sound_objective(law, x, y)


def fit_sound(law, x, loss, robust: str | None = None):
    """Fit ``law`` (an unfitted M1-M4 object) with the sound estimator and return it."""
    params, ok, objective = sound_solve(law, x, loss, robust)
    law.params_ = {k: float(v) for k, v in params.items()}
    law.loss_ = objective
    law.converged_ = bool(ok)
    return law
