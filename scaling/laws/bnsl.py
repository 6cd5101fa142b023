"""A broken neural scaling law (Caballero et al., 2023) with one break.

The law::

    loss = a + b x^(-c0) (1 + (x / d1)^(1 / f1))^(-c1 f1)

is a power law with exponent ``-c0`` well below the break ``x = d1`` and with
exponent ``-(c0 + c1)`` well above it; ``f1`` is the width of the bend, in
natural-log units of ``x`` (small ``f1``: a sharp kink; large ``f1``: a bend
spread over many decades).  ``a`` is the limiting loss.

Constraints, and why.

* ``0 <= a < min(loss)``: the limit lies below every observed loss, as for
  ``eps_inf`` in M2/M4.
* ``b > 0``, and ``|log b| <= 700`` so that ``b`` is a number: ``b`` carries the units of
  ``x^c0``, and a steep first segment over a short range of large ``x`` (a noisy 7-point curve near
  ``x = 1e12``) once drove it to ``exp(780) = inf``.
* ``c0 >= 0`` and ``c0 + c1 >= 0``.  The local slope of ``log(loss - a)`` in
  ``log x`` is ``-(c0 + c1 s)`` with ``s = sigmoid((log x - log d1) / f1)``
  between 0 and 1, so these two conditions are exactly what makes the law
  non-increasing *everywhere*, before and after the break.  ``c1`` itself may
  be negative: the curve may flatten after the break.
* ``d1`` inside ``[min(x), max(x)]`` of the fitted points.  A break beyond the
  data leaves no trace on them other than a slight curvature that a smooth
  power law also explains, so its position (and ``c1``) would not be
  identifiable; an extrapolation cannot know about a break it has not seen.
* ``f1`` between 1/100 of the data's span ``log(max x / min x)`` (a kink, as
  sharp as the data can show) and the whole span (a bend wider than the data
  is indistinguishable from a gently curved power law).  Relative bounds keep
  the fit unchanged when ``x`` is rescaled or raised to a power.

The objective is the mean squared log residual ``log loss - log loss_hat``,
which is also :attr:`~scaling.laws.ScalingLaw.loss_`.

How the solver works (the authors use a coarse brute-force grid over all
parameters followed by a local least-squares polish; this is the same idea made
exact in the linear parameters, and much faster).

1. Given ``(a, d1, f1)``, ``log(loss - a) = log b - c0 u - c1 f1 sp(z)`` with
   ``u = log x``, ``z = (log x - log d1) / f1`` and ``sp`` the softplus, is
   *linear* in ``(log b, c0, c1)``.  Writing ``c1 = k - c0`` with ``k = c0 + c1``
   turns both constraints into signs, ``c0 >= 0`` and ``k >= 0``, so
   :func:`scaling.laws._lstsq.fit_nonneg_slopes` solves it exactly.  This
   "log-excess" loss is a surrogate of the objective (they agree when ``a``
   is small against the loss); it is used only to locate the basins.
2. The linear parameters are solved on a grid over ``(log(min(loss) - a),
   log d1, log f1)``, all at once: the targets depend only on ``a`` and the columns only on ``(d1, f1)``, so the
   normal equations of the whole grid come from two small arrays
   (:func:`_grid_linear_fit`).  ``(d1, f1)`` take 12 x 5 values; the gap takes 16 values evenly spaced in
   its log (fine where ``a`` is close to ``min(loss)``) and 9 more with ``a`` evenly spread over
   ``[0, 0.8 min(loss)]``, where the log grid alone has only ``a = 0`` and ``a = 0.75 min(loss)``.  Each grid
   point is then scored by the *true* objective at its profiled parameters (the surrogate alone favours
   ``a = 0`` too often, because it weighs points by ``1 / (loss - a)``).
3. The three best local minima of the log-gap grid, and the three best of both gap grids merged, are
   polished on the true objective, all six parameters at once, with a bounded trust-region
   least-squares solver (``scipy.optimize.least_squares``, analytic Jacobian)
   in the coordinates ``(log b, c0, k, log gap, log d1, log f1)``, whose
   constraints are all simple bounds.  Each candidate first gets 20
   function evaluations, those not yet converged 100 more; the candidates then within 5 % of the best are
   polished to convergence, and the best result wins.  On every fourth
   benchmark curve (23) this matched the best of 40 random-start local fits
   to within 1e-13 (tests/test_bnsl.py checks four curves).  It is not a proof
   of global optimality: the book's chapter on optimiser starts finds a few
   (curve, start) pairs where a single descent from a random start ends lower.

   Why both changes: a weak or flattening break (small ``|c1|``) trades off against ``a``.  With the log-gap
   grid alone and one 20-step screen, 36 of 150 noiseless curves with ``|c1| <= 0.1`` ended in another
   basin (e.g. ``a = 0`` and a slight bend elsewhere, mean squared log error up to 2e-5): the grid had no
   point near the true ``a``, and where it had, the screen dropped the true basin's candidate while it was
   still descending.  Now 2 of 150 do, weak flattenings (``c1 > -0.01``) whose bend lies mostly before the
   data, with errors below 1e-7.

Long curves: above 4,096 points, steps 2-3 run on 4,096 of them (evenly spread along x, the
smallest loss included, so the bounds are unchanged) and the winner is polished on every point; the
grid is scored in chunks, never as a (grid x points) array.

A ``start`` (values of :attr:`BNSL.searched_params` ``a, d1, f1``) replaces
steps 2-3 by one polish from that point, the linear parameters being profiled
there first.  BLAS runs single-threaded during a fit (as for every law).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from .._checks import check_curve
from ._lstsq import fit_nonneg_slopes
from .paper import ScalingLaw, register_law
from .search import local_minima

__all__ = ["BNSL"]

# The limit a stays below min(loss) by at least this fraction of it (log(loss - a) finite).
_GAP_FLOOR = 1e-9
# f1 bounds as fractions of the fitted span log(max x / min x).
_F1_MIN_FRAC, _F1_MAX_FRAC = 1e-2, 1.0
_GRID = (16, 12, 5)  # (gap, log d1, log f1)
# The second gap grid: a at these fractions of min(loss) (see BNSL._gap_grids).
_A_FRACS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
_N_POLISH = 3
_SCREEN_NFEV = (20, 100)  # trust-region steps per candidate, in stages, before the best are polished to the end
_MAX_NFEV = 1000
_CLOSE = 1.05
_LOG_MAX = 709.0  # exp() of anything larger overflows a float64
_LOG_B_MAX = 700.0  # |log b| is kept below this, so that b itself is a finite, non-zero number
# The grid is scored in chunks of at most this many (grid points x data points) cells.
_CHUNK_CELLS = 1 << 18
# Curves with more points are searched on this many of them, then polished on all.
_SUBSAMPLE = 4096


def _grid_linear_fit(logx, y, a, log_d1, f1):
    """Exact (log b, c0, k = c0 + c1) on the grid {a} x {(log d1, f1)}, as in :meth:`BNSL._profile_linear`.

    The same constrained least squares as :func:`scaling.laws._lstsq.fit_nonneg_slopes`, but organised for
    a product grid: the targets depend only on ``a`` and the columns only on ``(d1, f1)``, so the
    normal equations are assembled from a (G_a, n) and a (G_b, n, 2) array and every residual norm
    comes from them in closed form, without forming G_a x G_b residual vectors.  Returns arrays of
    shape (G_a, G_b), and V = -f1 softplus(z) of shape (G_b, n), the coefficient column of c1.
    """
    n = logx.size
    lhs = np.log(y[None, :] - a[:, None])  # (Ga, n)
    V = -f1[:, None] * np.logaddexp(0.0, (logx[None, :] - log_d1[:, None]) / f1[:, None])  # (Gb, n)
    X = np.stack([-logx[None, :] - V, V], axis=2)  # columns of c0 and k
    xm = X.mean(axis=1)  # (Gb, 2)
    Xc = X - xm[:, None, :]
    bm = lhs.mean(axis=1)
    bc = lhs - bm[:, None]
    bb = np.einsum("an,an->a", bc, bc)[:, None]  # (Ga, 1)
    Sm = np.einsum("bni,bnj->bij", Xc, Xc)  # (Gb, 2, 2)
    r = np.einsum("bni,an->abi", Xc, bc)  # (Ga, Gb, 2)
    S00, S01, S11 = Sm[None, :, 0, 0], Sm[None, :, 0, 1], Sm[None, :, 1, 1]
    r0, r1 = r[..., 0], r[..., 1]

    def sse(k0, k1):  # |bc - Xc k|^2 expanded
        return bb - 2 * (k0 * r0 + k1 * r1) + k0 * k0 * S00 + 2 * k0 * k1 * S01 + k1 * k1 * S11

    tiny = 1e-300
    det = S00 * S11 - S01**2
    ok = det > 1e-12 * np.maximum(S00 * S11, tiny)
    safe = np.where(ok, det, 1.0)
    k0 = (S11 * r0 - S01 * r1) / safe
    k1 = (S00 * r1 - S01 * r0) / safe
    feasible = ok & (k0 >= 0) & (k1 >= 0)
    cands = [(np.where(feasible, k0, 0.0), np.where(feasible, k1, 0.0), feasible),
             (np.maximum(r0 / np.maximum(S00, tiny), 0.0), np.zeros_like(r0), None),
             (np.zeros_like(r1), np.maximum(r1 / np.maximum(S11, tiny), 0.0), None)]
    best0, best1 = np.zeros_like(r0), np.zeros_like(r1)
    best = np.broadcast_to(bb, r0.shape).copy()  # both slopes at zero
    for c0_, k_, valid in cands:
        e = sse(c0_, k_)
        better = e < best if valid is None else valid & (e < best)
        best = np.where(better, e, best)
        best0, best1 = np.where(better, c0_, best0), np.where(better, k_, best1)
    lb = bm[:, None] - best0 * xm[None, :, 0] - best1 * xm[None, :, 1]
    return lb, best0, best1, V


def _softplus_sigmoid(z):
    """softplus(z) = log(1 + e^z) and its derivative sigmoid(z), both overflow-free."""
    sp = np.logaddexp(0.0, z)
    return sp, np.exp(z - sp)


class BNSL(ScalingLaw):
    """Broken neural scaling law with one break (see the module docstring).

    Parameters
    ----------
    start : dict or None
        ``{"a": ..., "d1": ..., "f1": ...}``: a single local descent from there
        instead of the grid search.
    """

    name = "BNSL"
    param_names = ("a", "b", "c0", "c1", "d1", "f1")

    def __init__(self, start: dict | None = None) -> None:
        super().__init__()
        self._set_start(start)

    @property
    def searched_params(self):
        return ("a", "d1", "f1")

    @property
    def c_(self) -> float:
        """The asymptotic exponent, ``-(c0 + c1)`` (negative convention of the package)."""
        self._require_fitted()
        return -(self.params_["c0"] + self.params_["c1"])

    # -- bounds of the searched parameters ---------------------------------
    @staticmethod
    def _bounds(x, y):
        """Bounds of (log gap, log d1, log f1), gap = min(loss) - a."""
        logx = np.log(x)
        span = max(logx.max() - logx.min(), 1e-12)
        min_y = y.min()
        return ((np.log(min_y * _GAP_FLOOR), np.log(min_y)),
                (logx.min(), logx.max()),
                (np.log(_F1_MIN_FRAC * span), np.log(_F1_MAX_FRAC * span)))

    def _random_start(self, x, y, rng):
        (_, _), (d_lo, d_hi), (f_lo, f_hi) = self._bounds(x, y)
        return {"a": float(rng.uniform(0.0, y.min())), "d1": float(np.exp(rng.uniform(d_lo, d_hi))),
                "f1": float(np.exp(rng.uniform(f_lo, f_hi)))}

    def _start_point(self, x, y):
        """The user's start as (log gap, log d1, log f1), or a ValueError saying which value is out of range."""
        (s_lo, s_hi), (d_lo, d_hi), (f_lo, f_hi) = self._bounds(x, y)
        a, d1, f1 = self.start["a"], self.start["d1"], self.start["f1"]
        min_y = y.min()
        if not 0.0 <= a < min_y:
            raise ValueError(f"a starting a must satisfy 0 <= a < min(loss) = {min_y:g}, got {a:g}.")
        if not np.exp(d_lo) * (1 - 1e-12) <= d1 <= np.exp(d_hi) * (1 + 1e-12):
            raise ValueError(f"a starting d1 must lie within the fitted x range [{np.exp(d_lo):g}, "
                             f"{np.exp(d_hi):g}] (a break outside the data is not identifiable), got {d1:g}.")
        if not np.exp(f_lo) * (1 - 1e-12) <= f1 <= np.exp(f_hi) * (1 + 1e-12):
            raise ValueError(f"a starting f1 must lie in [{np.exp(f_lo):g}, {np.exp(f_hi):g}] (1/100 to 1 times "
                             f"the span log(max x / min x) of the fitted x), got {f1:g}.")
        return (float(np.clip(np.log(min_y - a), s_lo, s_hi)), float(np.clip(np.log(d1), d_lo, d_hi)),
                float(np.clip(np.log(f1), f_lo, f_hi)))

    # -- step 1: the linear parameters given (a, d1, f1) -------------------
    @staticmethod
    def _profile_linear(logx, y, a, log_d1, f1):
        """Exact (log b, c0, k = c0 + c1) and the surrogate loss for batches of (a, log d1, f1)."""
        lhs = np.log(y[None, :] - a[:, None])
        sp, _ = _softplus_sigmoid((logx[None, :] - log_d1[:, None]) / f1[:, None])
        v = -f1[:, None] * sp  # coefficient of c1
        u = np.broadcast_to(-logx, v.shape)  # coefficient of c0
        # log b + c0 u + c1 v = log b + c0 (u - v) + k v, with c0 >= 0 and k >= 0
        X = np.stack([u - v, v], axis=2)
        lb, slopes, mse = fit_nonneg_slopes(X, lhs, (True, True))
        return lb, slopes[:, 0], slopes[:, 1], mse

    def profile(self, x, loss, a, d1, f1) -> np.ndarray:
        """Surrogate profile loss (mean squared residual of ``log(loss - a)``) at given ``a, d1, f1``.

        The three arrays broadcast together; ``log b``, ``c0`` and ``c1`` are
        solved exactly for each triple.  This is the function the grid search
        scans; the fit then polishes the true objective.
        """
        x, y = check_curve(x, loss, self.n_params, self.name)
        a, d1, f1 = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (a, d1, f1)))
        if np.any(a < 0) or np.any(a >= y.min()) or np.any(d1 <= 0) or np.any(f1 <= 0):
            raise ValueError("need 0 <= a < min(loss), d1 > 0 and f1 > 0.")
        shape = a.shape
        return self._profile_linear(np.log(x), y, a.ravel(), np.log(d1.ravel()), f1.ravel())[3].reshape(shape)

    # -- step 3: the full objective in polishing coordinates ----------------
    @staticmethod
    def _to_params(theta, min_y):
        lb, c0, k, s, log_d1, log_f1 = theta
        return {"a": max(min_y - np.exp(s), 0.0), "b": np.exp(lb), "c0": c0, "c1": k - c0,
                "d1": np.exp(log_d1), "f1": np.exp(log_f1)}

    @staticmethod
    def _log_yhat(logx, a, lb, c0, c1, log_d1, f1, with_parts=False):
        sp, sig = _softplus_sigmoid((logx - log_d1) / f1)
        L = lb - c0 * logx - c1 * f1 * sp  # log of the power-law part
        with np.errstate(divide="ignore"):
            log_a = np.log(a)  # a = 0 gives -inf, which logaddexp handles exactly
        out = np.logaddexp(log_a, L)
        return (out, L, sp, sig) if with_parts else out

    def _residual_and_jac(self, logx, logy, min_y):
        def unpack(theta):
            lb, c0, k, s, log_d1, log_f1 = theta
            a = max(min_y - np.exp(s), 0.0)
            return lb, c0, k - c0, s, a, log_d1, np.exp(log_f1)

        def fun(theta):
            lb, c0, c1, _, a, log_d1, f1 = unpack(theta)
            return logy - self._log_yhat(logx, a, lb, c0, c1, log_d1, f1)

        def jac(theta):
            lb, c0, c1, s, a, log_d1, f1 = unpack(theta)
            out, L, sp, sig = self._log_yhat(logx, a, lb, c0, c1, log_d1, f1, with_parts=True)
            p = np.exp(L - out)  # share of the power-law part in the prediction
            z = (logx - log_d1) / f1
            dL = np.stack([np.ones_like(logx),           # log b
                           -logx + f1 * sp,              # c0 (at fixed k = c0 + c1)
                           -f1 * sp,                     # k
                           np.zeros_like(logx),          # log gap (acts through a only)
                           c1 * sig,                     # log d1
                           -c1 * f1 * (sp - z * sig)],   # log f1
                          axis=1)
            J = p[:, None] * dL
            if a > 0:  # d a / d log gap = -gap
                J[:, 3] = -np.exp(s - out)
            return -J

        return fun, jac

    @staticmethod
    def _polish(fun, jac, theta0, lower, upper, max_nfev=_MAX_NFEV):
        """Bounded least squares from theta0; returns (theta, objective, converged), never worse than theta0."""
        theta0 = np.clip(theta0, lower, upper)
        res = optimize.least_squares(fun, theta0, jac=jac, bounds=(lower, upper), method="trf",
                                     x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=max_nfev)
        v0, v = float(np.mean(fun(theta0) ** 2)), float(np.mean(res.fun**2))
        if v > v0 * (1 + 1e-12):  # the solver wandered off: keep the start, and say so
            return theta0, v0, False
        return res.x, v, bool(res.status > 0)

    def minimise(self, x, y):  # ScalingLaw.fit runs this with one BLAS thread
        if self.start is None and x.size > _SUBSAMPLE:
            # A long curve: search on a subsample that keeps the x range and the smallest loss (so the
            # bounds are the same), then polish the winner on every point.
            order = np.argsort(x, kind="stable")
            idx = order[np.unique(np.round(np.linspace(0, x.size - 1, _SUBSAMPLE)).astype(int))]
            idx = np.unique(np.concatenate([idx, [int(np.argmin(y))]]))
            theta, _ = self._search(x[idx], y[idx])
            fun, jac, lower, upper = self._problem(x, y)
            theta, _, ok = self._polish(fun, jac, theta, lower, upper)
            return self._to_params(theta, y.min()), ok
        theta, ok = self._search(x, y)
        return self._to_params(theta, y.min()), ok

    def _problem(self, x, y):
        """Residual, Jacobian and bounds of the polish in (log b, c0, k, log gap, log d1, log f1)."""
        (s_lo, s_hi), (d_lo, d_hi), (f_lo, f_hi) = self._bounds(x, y)
        fun, jac = self._residual_and_jac(np.log(x), np.log(y), y.min())
        # |log b| stays below _LOG_B_MAX: beyond it b = exp(log b) is not a number (a steep drop over a
        # short, high range of x once overflowed b to inf)
        lower = np.array([-_LOG_B_MAX, 0.0, 0.0, s_lo, d_lo, f_lo])
        upper = np.array([_LOG_B_MAX, np.inf, np.inf, s_hi, d_hi, f_hi])
        return fun, jac, lower, upper

    def _grid_values(self, logx, logy, y, a, log_d1, f1):
        """The true objective at the profiled grid, shape (len(a), len(log_d1)), in chunks of the (d1, f1)
        columns so that no (grid x points) array is larger than _CHUNK_CELLS; inf where b overflows."""
        with np.errstate(divide="ignore"):
            log_a = np.log(a)
        n = logx.size
        step = max(1, _CHUNK_CELLS // max(1, a.size * n))
        values = np.empty((a.size, log_d1.size))
        for j in range(0, log_d1.size, step):
            cols = slice(j, j + step)
            lb, c0, k, V = _grid_linear_fit(logx, y, a, log_d1[cols], f1[cols])
            L = lb[:, :, None] - c0[:, :, None] * logx + (k - c0)[:, :, None] * V[None, :, :]
            log_yhat = np.logaddexp(log_a[:, None, None], L)
            v = np.mean((logy - log_yhat) ** 2, axis=2)
            values[:, cols] = np.where(np.abs(lb) < _LOG_B_MAX, v, np.inf)
        return values

    @staticmethod
    def _gap_grids(s_lo, s_hi, min_y):
        """Two grids of log gap: evenly spaced in log gap (fine where a is close to min(loss)), and evenly
        spaced in a over most of [0, min(loss)) (the log grid has only a = 0 and a = 0.75 min(loss) there)."""
        log_grid = np.linspace(s_lo, s_hi, _GRID[0])
        a_grid = np.clip(np.log(min_y * (1.0 - np.array(_A_FRACS))), s_lo, s_hi)
        return log_grid, a_grid

    def _search(self, x, y):
        """Grid (or the user's start), profile, screen and polish: the best (theta, converged)."""
        logx, logy, min_y = np.log(x), np.log(y), y.min()
        (s_lo, s_hi), (d_lo, d_hi), (f_lo, f_hi) = self._bounds(x, y)
        if self.start is not None:
            starts = np.array([self._start_point(x, y)])
        else:
            log_grid, a_grid = self._gap_grids(s_lo, s_hi, min_y)
            s_grid = np.concatenate([log_grid, a_grid])
            D, F = np.meshgrid(np.linspace(d_lo, d_hi, _GRID[1]), np.linspace(f_lo, f_hi, _GRID[2]), indexing="ij")
            a = np.maximum(min_y - np.exp(s_grid), 0.0)
            # Rank the grid by the true objective at the profiled parameters: the surrogate alone
            # prefers a = 0 too often, because it weighs points by 1 / (loss - a) instead of 1 / loss.
            values = self._grid_values(logx, logy, y, a, D.ravel(), np.exp(F.ravel())).reshape(s_grid.size, *D.shape)
            if not np.any(np.isfinite(values)):
                raise ValueError(f"BNSL cannot be fitted to this curve: b = exp(log b) overflows at every grid "
                                 f"point (x from {x.min():.3g} to {x.max():.3g}); rescale x (e.g. divide it by its "
                                 "largest value).")
            # Starts: the best local minima of the log-gap grid alone and of both gap grids merged in order
            # of gap (the neighbours differ, so do the minima).  A weak break trades off against a, and the
            # log grid alone, with no a between 0 and 0.75 min(loss), missed the true basin on such curves.
            n_log = log_grid.size
            order = np.argsort(-s_grid, kind="stable")
            picks = {(i, j, k) for i, j, k in local_minima(values[:n_log], _N_POLISH)}
            picks |= {(int(order[i]), j, k) for i, j, k in local_minima(values[order], _N_POLISH)}
            picks = sorted(picks, key=lambda ijk: values[ijk])
            starts = np.array(list(dict.fromkeys((s_grid[i], D[j, k], F[j, k]) for i, j, k in picks)))  # a = 0 twice

        # Profile the linear parameters at each start, then polish all six together.
        a0 = np.maximum(min_y - np.exp(starts[:, 0]), 0.0)
        lb, c0, k, _ = self._profile_linear(logx, y, a0, starts[:, 1], np.exp(starts[:, 2]))
        fun, jac, lower, upper = self._problem(x, y)
        thetas = np.column_stack([np.clip(lb, lower[0], upper[0]), c0, k, starts])
        if thetas.shape[0] > 1:
            # Screen in stages: a few trust-region steps from every candidate, then more for those not yet
            # converged; only candidates within _CLOSE of the best are polished to convergence.  One stage
            # was not enough: on a noiseless curve with a weak break a wrong basin converges within 20 steps
            # to ~1e-8 while the true basin's candidate, still descending, sits 100 times higher.
            results = [(t, np.inf, False) for t in thetas]
            for nfev in _SCREEN_NFEV:
                results = [r if r[2] else self._polish(fun, jac, r[0], lower, upper, max_nfev=nfev)
                           for r in results]
                best_v = min(r[1] for r in results)
                results = [r for r in results if r[1] <= _CLOSE * best_v or (not r[2] and nfev != _SCREEN_NFEV[-1])]
            final = [r if r[2] else self._polish(fun, jac, r[0], lower, upper) for r in results]
            theta, _, ok = min(final, key=lambda r: r[1])
        else:
            theta, _, ok = self._polish(fun, jac, thetas[0], lower, upper)
        return theta, ok

    # -- prediction -----------------------------------------------------------
    def _check_params(self, p):
        if not (p["b"] > 0 and p["c0"] >= 0 and p["c0"] + p["c1"] >= 0 and p["a"] >= 0
                and p["d1"] > 0 and p["f1"] > 0):
            raise ValueError(f"BNSL needs a >= 0, b > 0, c0 >= 0, c0 + c1 >= 0, d1 > 0 and f1 > 0, got {p}.")
        if not all(np.isfinite(v) for v in p.values()):
            raise ValueError(f"BNSL parameters must be finite, got {p}.")

    def _log_predict(self, x):
        p = self.params_
        return self._log_yhat(np.log(x), p["a"], np.log(p["b"]), p["c0"], p["c1"], np.log(p["d1"]), p["f1"])

    def _predict(self, x):
        return np.exp(np.minimum(self._log_predict(x), _LOG_MAX))

    def _log_residual(self, x, y):
        return np.log(y) - self._log_predict(x)


register_law(BNSL)
