"""Warm-started, vectorised refits of a fitted law on reweighted copies of its points (the bootstrap).

A bootstrap resample of n points is the same n points with integer weights (how often each was
drawn). :func:`warm_refits` refits a law to hundreds of such weightings at once: every refit starts
from the parameters of the fit to all the points (a warm start, which is what makes it fast: no grid
search), plus one second start with the limiting loss moved (to 0 when the fit has a plateau, to half
the smallest loss when it has none), and both are polished together by the bounded
Levenberg-Marquardt solver of :mod:`scaling.laws._batchlm`; the better end point of each resample wins.
Every law is refitted on the objective its own fit minimises, in normalised units (x by its geometric
mean, the loss by its largest value): M1-M4 and BNSL on the squared log prediction error (the sound
loss; for M1 and M3 it is also Eq. 4/5), the Chinchilla-style fit on its Huber loss.

What a warm start cannot do: jump to a distant basin that the full search would find for some
resample. The second start covers the one alternative that matters most for these laws (a plateau
or none), and BNSL, whose break position is what a warm start knows least, gets two more starts with
the break at a quarter and three quarters of the x range drawn. Each refit runs at most
:data:`REFIT_MAX_ITER` iterations and stops early when it crawls (:data:`STALL`). Measured on a
40-point curve with an irreducible term and 1% noise (200 resamples): the 90% intervals of the
predictions at 10x and 100x the data agree with those of full refits to the third digit for M1, M2,
M4 and Chinchilla; BNSL's are up to a fifth narrower at the top, and on a third of the resamples
either refit ends lower than the other (neither search is global for BNSL). The refits take about a
second for all six laws, against about 25 s for full refits.
``python -m scaling fit --boot-search full`` refits every resample with the law's full search
instead, to check.

M4's alpha = 0 boundary is handled as in the sound fit (:mod:`scaling.laws.sound`): the polish's
model caps M4's predictions at eps0 as alpha -> 0+, but the law at alpha = 0 is M2, uncapped. Every
M4 refit is therefore chosen by what its parameters predict (the exact model), the warm sound M2
refit of the same resample competes as alpha = 0 (when alpha is learned or fixed at 0), and
:func:`batch_predictor` predicts with the exact model too: a refit's predictions are
``M4.from_params(**params).predict``'s, and its objective is never worse than the M2 refit's.

Constraints follow each law's own fit, recomputed per resample (``eps_inf`` and BNSL's ``a`` below
the smallest loss *drawn*, BNSL's break inside the x range drawn, a learned ``eps0`` relative to the
largest loss drawn). A resample with fewer distinct points than the law has parameters fails with
"too few distinct x", as a full refit would.
"""

from __future__ import annotations

import math

import numpy as np

from ._batchlm import solve_batch

__all__ = ["warm_refits", "bootstrap_weights", "batch_predictor", "REFIT_MAX_ITER", "supports"]

#: Iterations per refit (the bootstrap's refits start next to their answer).
REFIT_MAX_ITER = 200
#: A refit also stops once its objective fell by less than 1e-4 (relative) over 10 iterations: a crawl
#: along a flat valley (BNSL's break when the bend is weak), where the parameters move but the fit does not.
STALL = (10, 1e-4)
# Rows per call of the solver, so that (rows, points, parameters) arrays stay small for long curves.
_CELLS = 1 << 21
_GAP_FLOOR = 1e-9
_LOG_MAX = 700.0


def supports(law) -> bool:
    """Whether :func:`warm_refits` knows ``law`` (M1-M4, BNSL, Chinchilla)."""
    return law.name in ("M1", "M2", "M3", "M4", "BNSL", "Chinchilla")


def bootstrap_weights(indices: np.ndarray, n: int) -> np.ndarray:
    """(B, n) counts of each point in each resample, from (B, n) resampled indices."""
    B = indices.shape[0]
    flat = (np.arange(B)[:, None] * n + indices).ravel()
    return np.bincount(flat, minlength=B * n).reshape(B, n).astype(float)


# ---------------------------------------------------------------------------------------------
# BNSL and the Chinchilla-style fit in normalised units
# ---------------------------------------------------------------------------------------------

def bnsl_log_model(theta, L, ymin):
    """BNSL: theta = (log b, c0, k = c0 + c1, s, log d1, log f1) with a = ymin - exp(s) (``ymin`` per row,
    as BNSL's own fit does: the limit is most sensitive close to the smallest loss); log yhat (m, n) and
    its Jacobian."""
    lb, c0, k, s, log_d1, log_f1 = (theta[:, i:i + 1] for i in range(6))
    gap = np.exp(s)
    a = np.maximum(np.reshape(ymin, (-1, 1)) - gap, 0.0)
    f1 = np.exp(log_f1)
    c1 = k - c0
    z = (L - log_d1) / f1
    sp = np.logaddexp(0.0, z)
    sig = np.exp(z - sp)
    pl = lb - c0 * L - c1 * f1 * sp
    with np.errstate(divide="ignore"):
        out = np.logaddexp(np.log(a), pl)
    p = np.exp(pl - out)
    J = np.empty(out.shape + (6,))
    J[..., 0] = p
    J[..., 1] = p * (-L + f1 * sp)
    J[..., 2] = -p * f1 * sp
    J[..., 3] = np.where(a > 0, -gap * np.exp(-out), 0.0)
    J[..., 4] = p * c1 * sig
    J[..., 5] = -p * c1 * f1 * (sp - z * sig)
    return out, J


def chinchilla_log_model(theta, L):
    """Chinchilla: theta = (e, a, alpha), log yhat = logsumexp(a - alpha L, e)."""
    e, a, alpha = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    pl = a - alpha * L
    out = np.logaddexp(pl, e)
    p = np.exp(pl - out)
    J = np.empty(out.shape + (3,))
    J[..., 0] = 1.0 - p
    J[..., 1] = p
    J[..., 2] = -p * L
    return out, J


class _BNSLSetup:
    kind = "BNSL"
    kappa = False

    def __init__(self, law, x, y):
        self.law = law
        self.x_ref = float(np.exp(np.mean(np.log(x))))
        self.y_ref = float(y.max())
        self.ymin_n = float(y.min()) / self.y_ref
        self.L_of = lambda xv: np.log(np.asarray(xv, float) / self.x_ref)

    def model(self, x, ymin_rows=None):
        L = self.L_of(x)
        if ymin_rows is None:
            ymin = self.ymin_n
            return lambda th, rows: bnsl_log_model(th, L, ymin)
        return lambda th, rows: bnsl_log_model(th, L, ymin_rows[rows])

    def projection(self, rows_const=None):
        return None

    def row_bounds(self, ymin_n, Lmin, Lmax):
        m = ymin_n.size
        inf = np.full(m, np.inf)
        span = np.maximum(Lmax - Lmin, 1e-12)
        lo = np.column_stack([-inf, np.zeros(m), np.zeros(m), np.log(ymin_n * _GAP_FLOOR), Lmin, np.log(1e-2 * span)])
        hi = np.column_stack([inf, inf, inf, np.log(ymin_n), Lmax, np.log(span)])
        return lo, hi

    def to_theta(self, p, ymin_n=None):
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        ymin_n = self.ymin_n if ymin_n is None else ymin_n
        gap = max(ymin_n - p["a"] / self.y_ref, ymin_n * _GAP_FLOOR)
        return np.array([math.log(p["b"]) - p["c0"] * lx - ly, p["c0"], p["c0"] + p["c1"], math.log(gap),
                         math.log(p["d1"]) - lx, math.log(p["f1"])])

    def to_params(self, th, ymin_n=None):
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        ymin_n = self.ymin_n if ymin_n is None else ymin_n
        log_b = th[0] + th[1] * lx + ly
        a = max(ymin_n - math.exp(th[3]), 0.0)
        return {"a": a * self.y_ref, "b": float(np.exp(log_b)) if abs(log_b) < 709 else math.inf,
                "c0": float(th[1]), "c1": float(th[2] - th[1]), "d1": float(math.exp(th[4] + lx)),
                "f1": float(math.exp(th[5]))}


class _ChinchillaSetup:
    kind = "Chinchilla"
    kappa = False

    def __init__(self, law, x, y):
        self.law = law
        self.delta = law.delta
        self.x_ref = float(np.exp(np.mean(np.log(x))))
        self.y_ref = float(y.max())
        self.L_of = lambda xv: np.log(np.asarray(xv, float) / self.x_ref)

    def model(self, x, rows_const=None):
        L = self.L_of(x)
        d = self.delta

        def f(th, rows):  # residuals in units of delta: the Huber loss with threshold 1
            out, J = chinchilla_log_model(th, L)
            return out / d, J / d

        return f

    def projection(self, rows_const=None):
        return None

    def to_theta(self, p, const=None):
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        alpha = -p["c"]
        return np.array([math.log(p["eps_inf"]) - ly, math.log(p["beta"]) - alpha * lx - ly, alpha])

    def to_params(self, th, const=None):
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        alpha = float(th[2])
        return {"beta": float(np.exp(th[1] + alpha * lx + ly)), "c": -alpha, "eps_inf": float(np.exp(th[0] + ly))}


def _setup(law, x, y):
    if law.name == "BNSL":
        return _BNSLSetup(law, x, y)
    if law.name == "Chinchilla":
        return _ChinchillaSetup(law, x, y)
    from .sound import SoundSetup

    return SoundSetup(law, x, y)


# ---------------------------------------------------------------------------------------------
# Per-law starts and bounds for rows of a batch
# ---------------------------------------------------------------------------------------------

def _limit_col(setup) -> int | None:
    """Column of theta that holds the limiting loss (normalised), or None."""
    return {"M2": 2, "M4": 3}.get(setup.kind)


def _rows(setup, law, x, y, W):
    """Starts, bounds and row constants for the resamples W (B, n): two starts per resample."""
    yn = y / setup.y_ref
    L = setup.L_of(x)
    present = W > 0
    ymin = np.where(present, yn, np.inf).min(axis=1)
    ymax = np.where(present, yn, -np.inf).max(axis=1)
    theta = setup.to_theta(law.params_)
    B = W.shape[0]
    T = np.tile(theta, (B, 1))
    if setup.kind == "BNSL":  # the limit a as log(min loss drawn - a): same a, new coordinate
        Lmin = np.where(present, L, np.inf).min(axis=1)
        Lmax = np.where(present, L, -np.inf).max(axis=1)
        lo, hi = setup.row_bounds(ymin, Lmin, Lmax)
        a_n = law.params_["a"] / setup.y_ref
        T[:, 3] = np.log(np.maximum(ymin - a_n, ymin * _GAP_FLOOR))
    elif setup.kind == "Chinchilla":
        logy = np.log(yn)
        lo_y = np.where(present, logy, np.inf).min(axis=1)
        hi_y = np.where(present, logy, -np.inf).max(axis=1)
        inf = np.full(B, np.inf)
        lo = np.column_stack([lo_y - 30.0, -inf, np.zeros(B)])
        hi = np.column_stack([hi_y + 5.0, inf, np.full(B, 10.0)])
    else:
        lo, hi = setup.bounds(ymin, ymax)
        if setup.kind == "M4" and setup.learn:  # t = log(eps0 - max(loss drawn)): same eps0, new t
            T[:, 4] = np.log(np.maximum(np.exp(theta[4]) + 1.0 - ymax, 1e-300))
    alt = T.copy()
    col = _limit_col(setup)
    if setup.kind == "BNSL":  # a = 0 (log gap = log ymin) against a = ymin / 2
        alt[:, 3] = np.where(a_n > 0.25 * ymin, np.log(ymin), np.log(0.5 * ymin))
    elif setup.kind == "M3":
        alt[:, 2] = np.where(T[:, 2] > 0, 0.0, 1.0)  # gamma = 0 (M1) against gamma x_ref = 1
    elif col is not None:
        alt[:, col] = np.where(T[:, col] > 0.25 * ymin, 0.0, 0.5 * ymin)
    elif setup.kind == "Chinchilla":
        alt[:, 0] = np.where(np.exp(T[:, 0]) > 0.25 * ymin, np.log(ymin) - 30.0, np.log(0.5 * ymin))
    starts = [T, alt]
    if setup.kind == "BNSL":  # the break is what the warm start knows least: two more positions
        for q in (0.25, 0.75):
            moved = T.copy()
            moved[:, 4] = Lmin + q * (Lmax - Lmin)
            starts.append(moved)
    k = len(starts)
    # the per-row constant of the model: the largest loss drawn (M4's eps0), or the smallest (BNSL's a)
    const = ymin if setup.kind == "BNSL" else ymax
    return np.vstack(starts), np.vstack([lo] * k), np.vstack([hi] * k), np.concatenate([const] * k), const, k


def warm_refits(law, x, y, weights, max_iter: int = REFIT_MAX_ITER):
    """Refit a fitted ``law`` to the points (x, y) under each row of ``weights`` (B, n).

    Returns ``(params, reasons)``: per row a dict of the law's parameters (or None) and the reason
    a refit failed (or None). ``x``, ``y`` are the points ``law`` was fitted to.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    W = np.asarray(weights, float)
    B, n = W.shape
    setup = _setup(law, x, y)
    distinct = (W > 0).sum(axis=1)
    enough = distinct >= law.n_params
    params: list = [None] * B
    reasons: list = ["too few distinct x" if not e else None for e in enough]
    rows = np.flatnonzero(enough)
    if rows.size == 0:
        return params, reasons
    yn = y / setup.y_ref
    loss = "huber" if setup.kind == "Chinchilla" else None
    logy = np.log(yn) / (setup.delta if setup.kind == "Chinchilla" else 1.0)
    m2_rows = _m2_refits(law, x, y, W[rows]) if _m2_competes(setup) else None
    chunk = max(1, _CELLS // (4 * n * 8))
    for s in range(0, rows.size, chunk):
        sel = rows[s:s + chunk]
        Wc = W[sel]
        starts, lo, hi, const2, const, k = _rows(setup, law, x, y, Wc)
        m = sel.size
        W2 = np.vstack([Wc] * k)
        model = setup.model(x, const2)
        theta, cost, ok, _ = solve_batch(model, starts, lo, hi, logy, W2, loss=loss, max_iter=max_iter,
                                         project=setup.projection(const2), ftol=1e-10,
                                         stall=STALL)
        if setup.kind == "M4":
            theta, cost, k = _m4_exact(setup, x, logy, Wc, theta, cost, lo, hi, const2, k,
                                       None if m2_rows is None else m2_rows[s:s + chunk])
        cost = cost.reshape(k, m)
        pick = np.argmin(np.where(np.isfinite(cost), cost, np.inf), axis=0)  # the first start wins ties
        best = theta.reshape(k, m, -1)[pick, np.arange(m)]
        best_cost = cost[pick, np.arange(m)]
        for j, row in enumerate(sel):
            if not np.isfinite(best_cost[j]):
                reasons[row] = "the refit could not be evaluated"
                continue
            p = setup.to_params(best[j], const[j])
            if not all(np.isfinite(v) for v in p.values()):
                reasons[row] = "non-finite parameters or predictions"
                continue
            params[row] = p
    return params, reasons


# ---------------------------------------------------------------------------------------------
# M4's alpha = 0 boundary (as in the sound fit, scaling.laws.sound._pick_exact)
# ---------------------------------------------------------------------------------------------

def _m2_competes(setup) -> bool:
    """Whether M2 lies in this M4's family (alpha learned, or fixed at 0)."""
    return setup.kind == "M4" and (setup.law.alpha is None or setup.law.alpha == 0)


def _m2_refits(law, x, y, W):
    """The warm sound M2 refits of (x, y) under the weights W (B, n): per row (a, c, eps_inf) in the
    normalised units M4's setup shares (same x_ref, y_ref), NaN where a refit failed; None when M2 cannot
    be fitted to all the points.

    M2 starts from its own sound fit to all the points: M4's parameters at alpha = 0 when the fit ended
    there (they are M2's), otherwise a sound M2 fit of the points.
    """
    from .paper import M2
    from .sound import ALPHA_ZERO, SoundSetup, fit_sound

    p = law.params_
    if p["alpha"] < ALPHA_ZERO:
        m2 = M2.from_params(beta=p["beta"], c=p["c"], eps_inf=p["eps_inf"])
    else:
        try:
            m2 = fit_sound(M2(estimator="sound"), x, y)
        except (ValueError, FloatingPointError):
            return None
    got, _ = warm_refits(m2, x, y, W)
    s2 = SoundSetup(m2, x, y)
    return np.array([s2.to_theta(g) if g is not None else np.full(3, np.nan) for g in got])


def _m4_exact(setup, x, logy, Wc, theta, cost, lo, hi, const2, k, m2_rows):
    """Score the polished M4 refits by what their parameters predict, with the M2 refits as a further start.

    The polish sees M4's predictions at alpha -> 0+, capped at eps0; an end point on alpha = 0 is M2,
    whose predictions pass eps0 wherever beta x^c does (:meth:`scaling.laws.paper.M4.predict`). Every end
    point is scored again with the exact model (``exact=True`` of :func:`scaling.laws.sound.m4_log_model`),
    and the sound M2 refit of the same resample competes as alpha = 0 (placed last, so that polished M4
    rows win ties): a refit's objective is its parameters', and never worse than M2's. Returns
    ``(theta, cost, k)`` with the candidates stacked by start.
    """
    m = Wc.shape[0]
    exact = setup.model(x, const2, exact=True)
    W2 = np.vstack([Wc] * k)
    theta, cost, _, _ = solve_batch(exact, theta, lo, hi, logy, W2, max_iter=0, project=setup.projection(const2))
    if m2_rows is None:
        return theta, cost, k
    # M2's (a, c, eps_inf) at alpha = 0 (kappa = 0: a' = a); a learned eps0 as the first start ended, which
    # does not change M2's predictions
    row = theta[:m].copy()
    row[:, [0, 1, 3]] = m2_rows
    row[:, 2] = 0.0
    failed = ~np.all(np.isfinite(m2_rows), axis=1)
    row[failed] = theta[:m][failed]  # no M2 refit: a copy of the first start, which cannot win a tie
    t2, c2, _, _ = solve_batch(exact, row, lo[:m], hi[:m], logy, Wc, max_iter=0,
                               project=setup.projection(const2[:m]))
    c2 = np.where(failed, np.inf, c2)
    return np.vstack([theta, t2]), np.concatenate([cost, c2]), k + 1


def _predict_const(setup, p, yn) -> float:
    """The row constant of :func:`batch_predictor` for the parameters p: the curve's largest (normalised)
    loss for M4, its smallest for BNSL, moved when p's eps0 (or a) would not be representable from it."""
    if setup.kind == "BNSL":
        return max(float(yn.min()), 2.0 * p["a"] / setup.y_ref)
    if setup.kind == "M4" and setup.learn:
        eps0_n = p["eps0"] / setup.y_ref
        return float(yn.max()) if eps0_n > yn.max() else 0.5 * eps0_n
    return float(yn.max())


def batch_predictor(law, x_fit, y_fit, params_list):
    """A function ``x -> (len(params_list), len(x))`` array of the predictions of many parameter sets
    of ``law`` (fitted to x_fit, y_fit), computed in one vectorised call; None if ``law`` is unknown."""
    if not supports(law) or not params_list:
        return None
    setup = _setup(law, np.asarray(x_fit, float), np.asarray(y_fit, float))
    yn = np.asarray(y_fit, float) / setup.y_ref
    # the per-row constant (M4's largest loss, BNSL's smallest): the full curve's, unless a refit's learned
    # eps0 lies below the curve's largest loss (or BNSL's a above its smallest), which a resample without
    # that point allows; the row's coordinate is then taken from a constant it can represent
    const = np.array([_predict_const(setup, p, yn) for p in params_list])
    theta = np.array([setup.to_theta(p, k) for p, k in zip(params_list, const)])

    def predict(xv):
        xv = np.atleast_1d(np.asarray(xv, float))
        out = np.empty((theta.shape[0], xv.size))
        chunk = max(1, _CELLS // max(1, 8 * xv.size))
        # M4: what the law predicts, also at alpha = 0 (M2, not capped at eps0), as M4.predict does
        model = setup.model(xv, const, exact=True) if setup.kind == "M4" else setup.model(xv, const)
        for s in range(0, theta.shape[0], chunk):
            rows = np.arange(s, min(s + chunk, theta.shape[0]))
            with np.errstate(all="ignore"):
                lp, _ = model(theta[rows], rows)
            if setup.kind == "Chinchilla":
                lp = lp * setup.delta
            out[rows] = np.exp(np.minimum(lp + math.log(setup.y_ref), 709.0))
        return out

    return predict
