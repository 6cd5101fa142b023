"""A sound estimator: each law fitted on log loss, the quantity its extrapolation is scored in.

The paper's Eq. 4 measures residuals of ``log(loss - eps_inf)``: noise is magnified by
``1 / (loss - eps_inf)``, so its minimum rewards moving ``eps_inf`` away from the data and often sits
at ``eps_inf = 0`` (M2 and M4 collapse to a plain power law). Here every law is fitted by minimising

    mean_i (log yhat(x_i) - log y_i)^2        (optionally a Huber loss of the same residuals)

the squared error of the *predicted* log loss, which is what Eq. 6 scores on held-out points. For M1
and M3 this is the paper's own loss (their predictions are explicit in log space), so the sound fit
equals :mod:`scaling.laws.paper`' global fit. For M2 and M4 it is not.

How the search avoids luck. The curve is first rescaled (x by its geometric mean, the loss by its
largest value), so that the fit is scale-invariant: multiplying every loss by 1e-6 or every x by 1e6
gives the same fit, rescaled. Starting points come from a grid over the nonlinear parameters
(``eps_inf`` as a fraction of the smallest loss, and ``eps0`` when learned) with ``log beta``, ``c``
and ``alpha`` solved exactly there by the Eq. 4 profile; each grid point is scored by the *sound*
loss, and the best few distinct ones, plus the pure power law, are polished together by a bounded
Levenberg-Marquardt method with analytic Jacobians (:mod:`scaling.laws._batchlm`, all starts in one set
of array operations, at most :data:`MAX_ITER` iterations each). M4's prediction is implicit; its
Jacobian comes from differentiating ``log w - alpha log(b - w) = log beta + c log x``
(``w = yhat - eps_inf``, ``b = eps0 - eps_inf``) implicitly.

Constraints: ``c <= 0``, ``0 <= eps_inf < min(loss)``, ``alpha`` in ``[0, 50]``, and a learned
``eps0`` between ``(1 + 1e-3) max(loss)`` and ``101 max(loss)``, or up to the law's ``eps0_max``
when it is set (both relative, so scale-invariant, unlike the absolute margin of Eq. 4's search).
One constraint is not scale-invariant, because beta carries units (``x^-c`` and ``loss^(1 - alpha)``):
``|log beta| <= LOG_COEF_MAX`` in the caller's units, so that the fitted beta is a finite number. It
binds only on degenerate fits (M4 at huge alpha and c on short curves just below eps0, x near 1e10),
where the sound loss is flat along the direction it cuts.
When M4 learns both ``eps0`` and ``alpha`` the fit often improves without end as ``eps0`` grows
with ``alpha / (eps0 - eps_inf)`` fixed (the law tends to ``log w + kappa w = log beta + c log x``);
in the coordinates ``(a', kappa) = (a + alpha log b, alpha / b)`` (:func:`m4k_log_model`) that
direction is a straight line, which the polish follows to the constraints in a few dozen steps
instead of crawling along a curved valley.

M4's alpha = 0 boundary. The polish's model caps M4's predictions at eps0 as alpha -> 0+ (the limit
is ``min(eps_inf + f, eps0)``, continuous in alpha), but the law *at* alpha = 0 (below
:data:`ALPHA_ZERO`) is M2, uncapped. An end point on alpha = 0 could therefore be scored by a fit its
parameters do not make; every M4 end point is scored again by what the law with its parameters predicts,
and the sound M2 fit of the same points (M4 with alpha = 0) competes too: M4's objective is never
worse than M2's, and alpha = 0 comes back only as that M2 fit.

Curves with more than :data:`SUBSAMPLE` points are fitted on that many of them first (evenly spread
along x, the smallest and largest loss included); the result starts one polish on every point.

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

from .._checks import check_curve

__all__ = ["sound_solve", "fit_sound", "sound_objective", "ROBUST_LOSSES", "SoundSetup", "ALPHA_MAX", "ALPHA_ZERO"]

#: Robust alternatives to the squared error, as scipy's least_squares names them (``f_scale = 1``).
ROBUST_LOSSES = ("huber", "soft_l1", "cauchy")
_N_STARTS = 4
_GAP_FRACTIONS = 1.0 - np.geomspace(1e-4, 1.0, 33)[::-1]  # eps_inf / min(loss), 0 ... 0.9999
#: The largest M4 ``alpha`` the sound fit searches (a bound far from every ordinary fit; see
#: :meth:`SoundSetup.projection`).
ALPHA_MAX = 50.0
#: Below this alpha M4 is M2 (as :meth:`scaling.laws.paper.M4.predict` treats it): its predictions are
#: ``eps_inf + beta x^c``, no longer bounded by eps0.
ALPHA_ZERO = 1e-12
#: Iterations of the polish (each start; a start that has not converged by then is reported so).
MAX_ITER = 2000
#: The largest |log beta| of a fit in the caller's units (exp of it stays a finite float, as in Eq. 4's search).
LOG_COEF_MAX = 700.0
#: Upper bound of kappa = alpha / (eps0 - eps_inf) (normalised units) when M4 learns eps0 and alpha.
KAPPA_MAX = 1e3
#: A learned eps0 stays at least this fraction above the largest loss.
EPS0_REL_MARGIN = 1e-3
#: A learned eps0 stays at most this multiple of the largest loss above it (unless ``eps0_max`` is set).
EPS0_REL_MAX = 100.0
#: Curves with more points than this are first fitted on this many of them (evenly spread along the
#: curve, the smallest and largest loss included); that fit then starts the polish on every point.
SUBSAMPLE = 4096
# eps_inf stays below min(loss) by this fraction of it
_GAP_FLOOR = 1e-9


def sound_objective(law, x, y) -> float:
    """Mean squared error of the predicted log loss of a fitted ``law`` on (x, y)."""
    r = np.log(law.predict(x)) - np.log(np.asarray(y, float))
    return float(np.mean(r**2))


# ---------------------------------------------------------------------------------------------
# Log predictions and their Jacobians in normalised units (x / x_ref, loss / y_ref), for a batch of
# parameter rows theta (m, p); each returns log yhat (m, n) and d log yhat / d theta (m, n, p).
# ---------------------------------------------------------------------------------------------

def m1_log_model(theta, L):
    """M1: theta = (a, c), log yhat = a + c L."""
    a, c = theta[:, 0:1], theta[:, 1:2]
    out = a + c * L
    J = np.empty(out.shape + (2,))
    J[..., 0] = 1.0
    J[..., 1] = L
    return out, J


def m2_log_model(theta, L):
    """M2: theta = (a, c, e), yhat = e + exp(a + c L)."""
    a, c, e = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    u = a + c * L
    with np.errstate(divide="ignore"):
        out = np.logaddexp(np.log(e), u)  # e = 0 gives -inf, which logaddexp handles exactly
    share = np.exp(u - out)  # f / yhat
    J = np.empty(out.shape + (3,))
    J[..., 0] = share
    J[..., 1] = share * L
    J[..., 2] = np.exp(-out)
    return out, J


def m3_log_model(theta, xn):
    """M3 (Eq. 5 is its sound loss): theta = (a, c, g), log yhat = a - c log(1/xn + g), g = gamma x_ref."""
    a, c, g = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    gx = g * xn
    ell = -np.log(xn) + np.log1p(gx)  # log(1/xn + g) without cancellation
    out = a - c * ell
    J = np.empty(out.shape + (3,))
    J[..., 0] = 1.0
    J[..., 1] = -ell
    J[..., 2] = -c * xn / (1.0 + gx)
    return out, J


@njit(cache=True, nogil=True, inline="always")
def _root_s(ri, alpha):
    """Root s of h(s) = log sigmoid(s) - alpha log sigmoid(-s) - ri (h increases in s): safeguarded Newton."""
    log2 = math.log(2.0)
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
            return new
        s = new
    return s


@njit(cache=True, nogil=True)
def _m4_w_rows(log_f, b, alpha, out, exact):
    """The excess loss w in (0, b_k) with log w - alpha_k log(b_k - w) = log_f, row k of (m, n) arrays.

    With w = b sigmoid(s) the equation is log sigmoid(s) - alpha log sigmoid(-s) = r with
    r = log f + (alpha - 1) log b, whose left side increases strictly in s. Below alpha =
    :data:`ALPHA_ZERO` M4 is M2, w = f: capped just below b when ``exact`` is false (the limit
    alpha -> 0+, continuous in alpha, which the polish needs), not capped when it is true (what the
    law with that alpha predicts, :meth:`scaling.laws.paper.M4.predict`).
    """
    m, n = log_f.shape
    for k in range(m):
        bk, ak = b[k], alpha[k]
        if ak < ALPHA_ZERO:
            for i in range(n):
                wi = math.exp(min(log_f[k, i], 700.0))
                out[k, i] = wi if exact else min(wi, bk * (1.0 - 1e-15))
            continue
        shift = (ak - 1.0) * math.log(bk)
        for i in range(n):
            s = _root_s(log_f[k, i] + shift, ak)
            # b sigmoid(s), stably
            out[k, i] = bk / (1.0 + math.exp(-s)) if s > -30.0 else bk * math.exp(s) / (1.0 + math.exp(s))


def m4_log_model(theta, L, eps0_fixed, ymax, exact=False):
    """M4: theta = (a, c, alpha, eps_inf[, t]); eps0 = ymax + exp(t) when learned (``eps0_fixed`` None).

    ``ymax`` is a number or one value per row (the largest normalised loss the row is fitted to).
    The prediction is implicit; its Jacobian comes from differentiating
    ``log w - alpha log(b - w) = a + c L`` (``w = yhat - eps_inf``, ``b = eps0 - eps_inf``).

    ``exact``: rows with alpha below :data:`ALPHA_ZERO` predict M2's ``eps_inf + f`` as the law does,
    even above eps0; otherwise (the polish) their predictions are capped at eps0, the limit alpha -> 0+.
    The two differ only where M2's prediction reaches eps0, and there the law at alpha = 0 is not
    the limit the polish approached: every end point is scored exactly (see :func:`_fit_points`).
    """
    a, c, alpha, e = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3], theta[:, 3:4]
    learn = eps0_fixed is None
    if learn:
        grow = np.exp(theta[:, 4:5])
        e0 = np.reshape(ymax, (-1, 1)) + grow
    else:
        e0 = np.full_like(e, eps0_fixed)
    b = e0 - e
    log_f = np.ascontiguousarray(a + c * L)
    w = np.empty_like(log_f)
    _m4_w_rows(log_f, np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(alpha[:, 0]), w, bool(exact))
    yhat = e + w
    gap = np.maximum(b - w, 1e-300)
    ratio = alpha / gap
    D = 1.0 / np.maximum(w, 1e-300) + ratio  # d/dw of log w - alpha log(b - w)
    dw = 1.0 / D
    inv = 1.0 / yhat
    J = np.empty(w.shape + (theta.shape[1],))
    J[..., 0] = dw * inv
    J[..., 1] = L * dw * inv
    J[..., 2] = np.log(gap) * dw * inv
    J[..., 3] = (1.0 - ratio * dw) * inv
    if learn:
        J[..., 4] = ratio * dw * grow * inv
    return np.log(yhat), J


def m4k_log_model(theta, L, ymax, exact=False):
    """M4 with eps0 and alpha both learned, in coordinates that straighten its valley.

    theta = (a', c, kappa, eps_inf, t) with b = eps0 - eps_inf, eps0 = ymax + exp(t),
    alpha = kappa b and a' = a + alpha log b, so that the equation reads
    ``log w - b kappa log(1 - w / b) = a' + c L``. As eps0 grows at fixed (a', kappa) the law tends
    to ``log w + kappa w = a' + c L``: the direction along which the fit often improves without end
    is a straight line in t here, while in (a, alpha, t) it is a curved valley that a Gauss-Newton
    method crawls along.
    """
    ap, c, kappa, e, t = (theta[:, i:i + 1] for i in range(5))
    grow = np.exp(t)
    b = np.reshape(ymax, (-1, 1)) + grow - e
    lb = np.log(b)
    alpha = kappa * b
    a = ap - alpha * lb
    out, J = m4_log_model(np.column_stack([a[:, 0], c[:, 0], alpha[:, 0], e[:, 0], t[:, 0]]), L, None, ymax, exact)
    Ja, Jal, Je, Jt = J[..., 0], J[..., 2], J[..., 3], J[..., 4]
    Jk = np.empty_like(J)
    Jk[..., 0] = Ja
    Jk[..., 1] = J[..., 1]
    Jk[..., 2] = (Jal - Ja * lb) * b  # d alpha / d kappa = b, d a / d kappa = -b log b
    # b depends on eps_inf (d b / d e = -1) and on t (d b / d t = exp(t)), and alpha and a through b
    dal_db = kappa
    da_db = -kappa * (lb + 1.0)
    Jk[..., 3] = Je - (Jal * dal_db + Ja * da_db)
    Jk[..., 4] = Jt + (Jal * dal_db + Ja * da_db) * grow
    return out, Jk


# ---------------------------------------------------------------------------------------------
# The solver
# ---------------------------------------------------------------------------------------------

class SoundSetup:
    """A curve in normalised units and the law's model, bounds and parameter conversions there.

    Shared by the fit (:func:`sound_solve`) and the bootstrap's warm refits
    (:func:`scaling.laws.refit.warm_refits`), which need the same coordinates.
    """

    def __init__(self, law, x, y):
        from .paper import M1, M2, M3, M4

        self.law = law
        self.x_ref = float(np.exp(np.mean(np.log(x))))
        self.y_ref = float(y.max())
        self.kind = type(law).__name__ if isinstance(law, (M1, M2, M3, M4)) else None
        if self.kind is None:
            raise ValueError(f"the sound estimator handles M1-M4, not {law.name}.")
        self.L_of = lambda xv: np.log(np.asarray(xv, float) / self.x_ref)
        self.eps0_n = None
        if self.kind == "M4" and not law.learn_eps0:
            if law.eps0 <= y.max():
                raise ValueError(f"M4 needs eps0 above every loss; eps0 = {law.eps0:g}, largest loss {y.max():g}.")
            self.eps0_n = law.eps0 / self.y_ref
        #: M4 with eps0 and alpha both learned is solved in the (a', kappa) coordinates of m4k_log_model
        self.kappa = self.kind == "M4" and self.eps0_n is None and law.alpha is None
        if self.kind == "M4" and law.learn_eps0 and law.eps0_max is not None and law.eps0_max <= y.max():
            raise ValueError(f"eps0_max = {law.eps0_max:g} leaves no room for eps0 above the largest loss "
                             f"{y.max():g}; raise it.")

    @property
    def learn(self) -> bool:
        return self.kind == "M4" and self.eps0_n is None

    def model(self, x, ymax_rows=None, exact=False):
        """``model(theta, rows)`` on the points x, for :func:`scaling.laws._batchlm.solve_batch`.

        ``exact`` (M4 only): predict what the law with these parameters predicts, also at alpha = 0
        (see :func:`m4_log_model`); the polish uses the default, continuous in alpha.
        """
        L = self.L_of(x)
        if self.kind == "M1":
            return lambda th, rows: m1_log_model(th, L)
        if self.kind == "M2":
            return lambda th, rows: m2_log_model(th, L)
        if self.kind == "M3":
            xn = np.exp(L)
            return lambda th, rows: m3_log_model(th, xn)
        eps0_n = self.eps0_n
        if self.kappa:
            if ymax_rows is None:
                return lambda th, rows: m4k_log_model(th, L, 1.0, exact)
            return lambda th, rows: m4k_log_model(th, L, ymax_rows[rows], exact)
        if ymax_rows is None:
            return lambda th, rows: m4_log_model(th, L, eps0_n, 1.0, exact)
        return lambda th, rows: m4_log_model(th, L, eps0_n, ymax_rows[rows], exact)

    def projection(self, ymax_rows=None):
        """The constraints that are not a box, applied after the clip into it.

        * ``|log beta| <= LOG_COEF_MAX`` in the caller's units, by moving the intercept. beta carries
          the units ``x^-c`` and ``loss^(1 - alpha)``, so a fit that is finite in normalised units can
          need ``beta = inf`` in the caller's: e.g. M4 on a short, nearly flat BIG-Bench curve, where
          the sound loss keeps falling as alpha grows (the law tends to a power law of ``eps0 - loss``),
          ends at alpha ~ 50 with c ~ -40 and ``beta = beta_n x_ref^-c ~ e^1131`` for x near 1e10.
          The bound is far from every ordinary fit, so it leaves their scale invariance alone.
        * ``alpha <= ALPHA_MAX`` in the kappa coordinates (alpha = kappa b).
        """
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        kind, kappa = self.kind, self.kappa

        def project(theta, rows):
            out = theta.copy()
            c = theta[:, 1]
            if kappa:
                ymax = 1.0 if ymax_rows is None else ymax_rows[rows]
                b = ymax + np.exp(theta[:, 4]) - theta[:, 3]
                out[:, 2] = np.minimum(theta[:, 2], ALPHA_MAX / b)
                alpha = out[:, 2] * b
                shift = alpha * np.log(b)  # a' = a + alpha log b
            else:
                alpha = theta[:, 2] if kind == "M4" else 0.0
                shift = 0.0
            # log beta (caller's units) = a - c lx + (1 - alpha) ly (M4; 1 - alpha -> 1 for M1-M3)
            centre = c * lx - (1.0 - alpha) * ly + shift
            out[:, 0] = np.clip(out[:, 0], centre - LOG_COEF_MAX, centre + LOG_COEF_MAX)
            return out

        return project

    def bounds(self, ymin_n, ymax_n):
        """Lower and upper bounds (rows, p) for rows whose normalised losses span [ymin_n, ymax_n]."""
        law = self.law
        ymin_n, ymax_n = np.atleast_1d(ymin_n).astype(float), np.atleast_1d(ymax_n).astype(float)
        m = ymin_n.size
        inf = np.full(m, np.inf)
        zero = np.zeros(m)
        c_lo, c_hi = -inf, zero.copy()
        if self.kind == "M2" and law.c is not None:
            c_lo, c_hi = np.full(m, law.c), np.full(m, law.c)
        lo, hi = [-inf, c_lo], [inf, c_hi]
        if self.kind == "M2":
            lo.append(zero)
            hi.append(ymin_n * (1 - _GAP_FLOOR))
        elif self.kind == "M3":
            lo.append(zero)
            hi.append(inf)
        elif self.kind == "M4":
            if self.kappa:  # kappa = alpha / (eps0 - eps_inf)
                lo.append(zero)
                hi.append(np.full(m, KAPPA_MAX))
            elif law.alpha is None:
                lo.append(zero)
                hi.append(np.full(m, ALPHA_MAX))
            else:
                lo.append(np.full(m, law.alpha))
                hi.append(np.full(m, law.alpha))
            lo.append(zero)
            hi.append(ymin_n * (1 - _GAP_FLOOR))
            if self.learn:
                if law.eps0_max is not None:
                    room = law.eps0_max / self.y_ref - ymax_n
                    t_hi = np.log(np.maximum(room, 1e-300))
                    t_lo = np.minimum(np.log(EPS0_REL_MARGIN * ymax_n), t_hi)
                else:
                    t_lo, t_hi = np.log(EPS0_REL_MARGIN * ymax_n), np.log(EPS0_REL_MAX * ymax_n)
                lo.append(t_lo)
                hi.append(t_hi)
        return np.column_stack(lo), np.column_stack(hi)

    # -- conversions between the law's parameters and theta (normalised units) ------------------
    @staticmethod
    def from_alpha_form(theta, ymax_n):
        """Rows (a, c, alpha, e, t) -> (a', c, kappa, e, t) of :func:`m4k_log_model`."""
        a, c, alpha, e, t = theta.T
        b = np.reshape(ymax_n, -1) + np.exp(t) - e
        return np.column_stack([a + alpha * np.log(b), c, alpha / b, e, t])

    @staticmethod
    def to_alpha_form(theta, ymax_n):
        """Rows (a', c, kappa, e, t) -> (a, c, alpha, e, t)."""
        ap, c, kappa, e, t = theta.T
        b = np.reshape(ymax_n, -1) + np.exp(t) - e
        alpha = kappa * b
        return np.column_stack([ap - alpha * np.log(b), c, alpha, e, t])

    def to_theta(self, params, ymax_n=1.0):
        p, lx, ly = params, math.log(self.x_ref), math.log(self.y_ref)
        c = p["c"]
        if self.kind == "M4":
            a = math.log(p["beta"]) + c * lx - (1.0 - p["alpha"]) * ly
            th = [a, c, p["alpha"], p["eps_inf"] / self.y_ref]
            if self.learn:
                th.append(math.log(max(p["eps0"] / self.y_ref - ymax_n, 1e-300)))
            th = np.array(th)
            return self.from_alpha_form(th[None, :], ymax_n)[0] if self.kappa else th
        a = math.log(p["beta"]) + c * lx - ly
        if self.kind == "M1":
            return np.array([a, c])
        if self.kind == "M2":
            return np.array([a, c, p["eps_inf"] / self.y_ref])
        return np.array([a, c, p["gamma"] * self.x_ref])

    def to_params(self, theta, ymax_n=1.0) -> dict:
        lx, ly = math.log(self.x_ref), math.log(self.y_ref)
        a, c = float(theta[0]), float(theta[1])
        if self.kind == "M4":
            if self.kappa:
                theta = self.to_alpha_form(np.asarray(theta, float)[None, :], ymax_n)[0]
            a, alpha = float(theta[0]), float(theta[2])
            # (w / y_ref) / ((b - w) / y_ref)^alpha = beta_n (x/x_ref)^c  =>  beta = beta_n y_ref^(1-alpha) x_ref^-c
            beta = float(np.exp(a - c * lx + (1.0 - alpha) * ly))
            e0 = float((ymax_n + math.exp(theta[4])) * self.y_ref) if self.learn else self.law.eps0
            return {"beta": beta, "c": c, "eps_inf": float(theta[3]) * self.y_ref, "eps0": e0, "alpha": alpha}
        beta = float(np.exp(a - c * lx + ly))
        if self.kind == "M1":
            return {"beta": beta, "c": c}
        if self.kind == "M2":
            return {"beta": beta, "c": c, "eps_inf": float(theta[2]) * self.y_ref}
        return {"beta": beta, "c": c, "gamma": float(theta[2]) / self.x_ref}


def _starts(setup, L, yn):
    """Grid starting points (rows of theta) in normalised units, the best few by the sound loss."""
    from .paper import M2, M4

    law = setup.law
    ymin = yn.min()
    e_grid = ymin * _GAP_FRACTIONS
    logy = np.log(yn)
    eps0_n = setup.eps0_n
    if setup.kind == "M4":
        probe = M4(eps0=1.0, learn_eps0=False, alpha=law.alpha)
        if eps0_n is not None:
            e0_values = [eps0_n]
        else:
            lo_b, hi_b = setup.bounds(ymin, yn.max())
            t_lo, t_hi = lo_b[0, 4], hi_b[0, 4]
            e0_values = list(yn.max() + np.exp(np.linspace(t_lo, t_hi, 9)))
        rows = []
        for e0 in e0_values:
            a, c, alpha, _ = probe.profile_log_x(L, yn, e_grid, np.full(e_grid.size, e0))
            block = [a, c, alpha, e_grid]
            if eps0_n is None:
                block.append(np.full(e_grid.size, np.log(e0 - yn.max())))
            rows.append(np.column_stack(block))
        cands = np.vstack(rows)
        e_col = 3
        if setup.kappa:
            cands = setup.from_alpha_form(cands, yn.max())
            model = (lambda th: m4k_log_model(th, L, yn.max()))
        else:
            model = (lambda th: m4_log_model(th, L, eps0_n, yn.max()))
    else:  # M2
        probe = M2(c=law.c)
        a, k, _ = probe.profile_log_x(L, yn, e_grid)
        cands = np.column_stack([a, -k[:, 0], e_grid])
        e_col = 2
        model = (lambda th: m2_log_model(th, L))
    lo, hi = setup.bounds(ymin, yn.max())
    cands = np.minimum(np.maximum(cands, lo), hi)
    with np.errstate(all="ignore"):
        out, _ = model(cands)
        scores = np.mean((out - logy) ** 2, axis=1)
    scores = np.where(np.isfinite(scores), scores, np.inf)
    order = np.argsort(scores, kind="stable")
    picked, seen = [], []
    for j in order:  # the best few, at distinct eps_inf
        if not np.isfinite(scores[j]):
            break
        e = cands[j, e_col]
        if any(abs(e - s) <= 0.02 * ymin for s in seen):
            continue
        picked.append(cands[j])
        seen.append(e)
        if len(picked) == _N_STARTS:
            break
    # the pure power law (eps_inf = 0, the first grid value) always competes
    picked.append(cands[0])
    return np.array(picked)


def _subsample(x, y, size):
    """Indices of ``size`` points evenly spread along the curve, with the smallest and largest loss."""
    order = np.argsort(x, kind="stable")
    idx = order[np.unique(np.round(np.linspace(0, x.size - 1, size)).astype(int))]
    return np.unique(np.concatenate([idx, [int(np.argmin(y)), int(np.argmax(y))]]))


def sound_solve(law, x, y, robust: str | None = None):
    """Fit ``law`` (an unfitted M1-M4 object, its settings respected) on log loss.

    Returns ``(params, converged, objective)`` in the caller's units; ``objective`` is the mean
    squared log prediction error on (x, y) (also with ``robust``, which only changes the weights).
    """
    params, ok = _solve_params(law, x, y, robust)
    return params, ok, sound_objective(law, x, y)


def _solve_params(law, x, y, robust):
    from ._batchlm import solve_batch
    from .paper import M1, M3

    if robust is not None and robust not in ROBUST_LOSSES:
        raise ValueError(f"robust must be None or one of {ROBUST_LOSSES}, got {robust!r}.")
    x, y = check_curve(x, y, law.n_params, law.name)
    setup = SoundSetup(law, x, y)
    if isinstance(law, (M1, M3)):
        # Their predictions are explicit in log space: the sound loss *is* the paper's Eq. 4/5.
        params, ok = law.minimise(x, y)
        params = {k: float(v) for k, v in params.items()}
        if robust is not None:  # polish the least-squares fit under the robust loss
            theta0 = setup.to_theta(params)[None, :]
            lo, hi = setup.bounds(y.min() / setup.y_ref, 1.0)
            theta, _, conv, _ = solve_batch(setup.model(x), theta0, lo, hi, np.log(y / setup.y_ref), loss=robust,
                                            project=setup.projection())
            params, ok = setup.to_params(theta[0]), bool(conv[0])
        law.params_ = params
        return law.params_, ok
    theta, ok = _fit_normalised(setup, x, y, robust)
    law.params_ = setup.to_params(theta)
    return law.params_, ok


def _fit_normalised(setup, x, y, robust):
    """The best polished start for M2/M4, in normalised units: (theta, converged)."""
    from ._batchlm import solve_batch

    yn = y / setup.y_ref
    lo, hi = setup.bounds(yn.min(), 1.0)
    if x.size > SUBSAMPLE:  # start on a subsample, finish on every point
        idx = _subsample(x, y, SUBSAMPLE)
        theta, _ = _fit_points(setup, x[idx], yn[idx], lo, hi, robust, solve_batch, m2_form=False)
        out, _, conv, _ = solve_batch(setup.model(x), theta[None, :], lo, hi, np.log(yn), loss=robust,
                                      max_iter=MAX_ITER, project=setup.projection())
        if setup.kind != "M4":  # only M4's end points need scoring by the exact model
            return out[0], bool(conv[0])
        cands, ok = np.vstack([out[0], theta]), [bool(conv[0]), False]
        return _pick_exact(setup, x, yn, lo, hi, robust, solve_batch, cands, ok)
    return _fit_points(setup, x, yn, lo, hi, robust, solve_batch)


def _fit_points(setup, x, yn, lo, hi, robust, solve_batch, m2_form=True):
    L = setup.L_of(x)
    starts = _starts(setup, L, yn)
    theta, cost, conv, _ = solve_batch(setup.model(x), starts, lo, hi, np.log(yn), loss=robust,
                                       max_iter=MAX_ITER, project=setup.projection())
    if not np.any(np.isfinite(cost)):
        raise ValueError(f"the sound {setup.law.name} fit failed on every start; check the curve for extreme values.")
    if setup.kind != "M4":
        best = int(np.argmin(cost))
        return theta[best], bool(conv[best])
    return _pick_exact(setup, x, yn, lo, hi, robust, solve_batch, theta, list(conv), m2_form)


def _pick_exact(setup, x, yn, lo, hi, robust, solve_batch, theta, conv, m2_form=True):
    """M4: the candidate (row of theta) whose *exact* predictions fit best: (theta, converged).

    The polish sees M4's predictions at alpha -> 0+, capped at eps0; an end point on alpha = 0 is
    M2, whose predictions are not (they pass eps0 wherever beta x^c does). So every end point is
    scored by what the law with its parameters predicts, and, when M2 lies in the family (alpha
    learned or fixed at 0), the sound M2 fit of the same points competes as M4's alpha = 0 boundary:
    M4's objective is never worse than M2's, and alpha = 0 is returned only when that M2-form fit
    is the best (its predictions are then M2's).
    """
    theta = np.atleast_2d(np.asarray(theta, float))
    conv = [bool(c) for c in conv]
    logy = np.log(yn)
    exact = setup.model(x, exact=True)
    # max_iter = 0: the objective of each row as it is (clipped into the box and projected, a no-op here)
    theta, cost, _, _ = solve_batch(exact, theta, lo, hi, logy, loss=robust, max_iter=0, project=setup.projection())
    if m2_form and (setup.law.alpha is None or setup.law.alpha == 0):
        row = _m2_candidate(setup, x, yn, robust, theta[int(np.argmin(cost))] if np.any(np.isfinite(cost))
                            else theta[0])
        if row is not None:
            t2, c2, _, _ = solve_batch(exact, row[0][None, :], lo, hi, logy, loss=robust, max_iter=0,
                                       project=setup.projection())
            theta, cost, conv = np.vstack([theta, t2]), np.concatenate([cost, c2]), conv + [row[1]]
    if not np.any(np.isfinite(cost)):
        raise ValueError(f"the sound {setup.law.name} fit failed on every start; check the curve for extreme values.")
    best = int(np.argmin(np.where(np.isfinite(cost), cost, np.inf)))  # the first wins ties: polished M4 first
    return theta[best], conv[best]


def _m2_candidate(setup, x, yn, robust, like):
    """The sound M2 fit of (x, yn) as an M4 row of theta (alpha = 0; a learned eps0 as in ``like``), and
    whether it converged; None when M2 cannot be fitted."""
    from .paper import M2

    m2 = M2(estimator="sound")
    y = yn * setup.y_ref
    try:
        m2_setup = SoundSetup(m2, x, y)
        th2, ok = _fit_normalised(m2_setup, x, y, robust)
    except (ValueError, FloatingPointError):
        return None
    # both setups normalise by the same x_ref and y_ref, and at alpha = 0 M4's (a, c, eps_inf) are M2's
    row = [th2[0], th2[1], 0.0, th2[2]]
    if setup.learn:
        row.append(like[4])  # eps0 does not change M2's predictions; kappa = 0 gives a' = a
    return np.array(row), bool(ok)


def fit_sound(law, x, loss, robust: str | None = None):
    """Fit ``law`` (an unfitted M1-M4 object) with the sound estimator and return it.

    Raises ValueError when the fit cannot be made or its parameters are not finite numbers (the
    message names which, and why).
    """
    from .paper import nonfinite_params_error

    with np.errstate(over="ignore"):
        params, ok = _solve_params(law, x, loss, robust)
    error = nonfinite_params_error(law.name, params, x, loss)
    if error is not None:
        law.params_ = None
        raise error
    objective = sound_objective(law, x, loss)
    law.params_ = {k: float(v) for k, v in params.items()}
    law.loss_ = objective
    law.converged_ = bool(ok)
    return law
