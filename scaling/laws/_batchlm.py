"""A vectorised, bounded Levenberg-Marquardt solver for many small least-squares problems at once.

Every law in the package is fitted by minimising a (weighted) sum of functions of the log residuals
``r_i = log yhat(x_i; theta) - log y_i`` over a handful of parameters under simple bounds. The
bootstrap refits one law to hundreds of reweighted copies of the same points, and the sound
estimator polishes several starting points of one curve: both are batches of problems that share
the points and differ in weights, bounds or start. Solving them together turns hundreds of
Python-level optimiser loops into one loop over numpy arrays of shape (batch, points).

The method (per row of the batch, vectorised over rows):

* Gauss-Newton normal equations ``H = J^T W J``, ``g = J^T W psi(r)`` with the row's weights ``W``;
  for a robust loss ``rho`` (scipy's names, ``f_scale = 1``) the weights are multiplied by the
  iteratively reweighted least-squares factor ``rho'(r^2)`` and ``psi(r) = rho'(r^2) r``.
* Marquardt damping ``(H + lam D) step = -g`` with ``D = diag(H)`` (floored, so that a flat
  direction, such as M4's eps0 once alpha = 0, stays put instead of making the system singular):
  the step is invariant to a rescaling of any parameter.
* Bounds by projection with an active set: a parameter on a bound whose gradient pushes outward is
  held fixed for the step; the trial point is clipped into the box. A step is accepted when the
  objective decreases; ``lam`` follows Nielsen's rule (shrinks with a good model fit, doubles up on
  every rejection).
* A row stops when the undamped Gauss-Newton step predicts a relative decrease below ``ftol`` (the
  quadratic model sees nothing left to gain), when an accepted step changes the objective by less
  than ``ftol`` relatively with a step below ``xtol``, or when ``lam`` exceeds 1e20 (no decrease
  possible along any direction it can take). ``max_iter`` stops the rest, reported as not converged.

Rows that have stopped are dropped from the arrays, so late iterations cost only what the slow rows
need.
"""

from __future__ import annotations

import numpy as np

__all__ = ["solve_batch", "ROBUST"]


def _linear(z):
    return z, np.ones_like(z)


def _huber(z):
    big = z > 1.0
    sz = np.sqrt(np.where(big, z, 1.0))
    return np.where(big, 2.0 * sz - 1.0, z), np.where(big, 1.0 / sz, 1.0)


def _soft_l1(z):
    t = np.sqrt(1.0 + z)
    return 2.0 * (t - 1.0), 1.0 / t


def _cauchy(z):
    return np.log1p(z), 1.0 / (1.0 + z)


#: rho(z) and rho'(z) of z = r^2 for scipy's robust losses with f_scale = 1 (``None``: least squares).
ROBUST = {None: _linear, "linear": _linear, "huber": _huber, "soft_l1": _soft_l1, "cauchy": _cauchy}


def _objective(r, w, rho):
    return np.sum(w * rho(r * r)[0], axis=1)


def solve_batch(model, theta0, lower, upper, logy, weights=None, *, loss=None, project=None,
                max_iter: int = 300, ftol: float = 1e-13, xtol: float = 1e-10, stall: tuple | None = None):
    """Minimise ``sum_i w_bi rho(r_bi^2)``, ``r_b = log yhat(theta_b) - logy``, for every row b at once.

    Parameters
    ----------
    model : callable ``model(theta, rows) -> (log_yhat, J)``
        ``theta`` (m, p), ``rows`` the (m,) indices of these rows in the batch (for row-specific
        constants); returns the log predictions (m, n) and their Jacobian (m, n, p). Non-finite
        predictions make a trial point rejected.
    theta0, lower, upper : arrays (B, p) (bounds broadcast); ``lower <= theta0 <= upper`` is enforced.
    logy : (n,) log observations, or (B, n).
    weights : (B, n) non-negative weights (bootstrap counts), or None for all ones.
    loss : None or one of :data:`ROBUST`.
    project : None or ``project(theta, rows) -> theta``, applied after the clip into the box: a
        further constraint (M4's alpha <= 50 in the coordinates where alpha = kappa b).
    ftol, xtol : relative tolerances on the objective and on the step (see the module docstring).
    stall : None or ``(k, rtol)``: also stop a row (reported as not converged) whose objective fell by
        less than ``rtol`` relatively over its last ``k`` iterations, a crawl along a flat valley.

    Returns
    -------
    theta (B, p), objective (B,) (the weighted loss, not divided by anything), converged (B,) bool,
    iterations (B,) int.
    """
    rho = ROBUST[loss]
    theta = np.array(theta0, dtype=float, copy=True)
    B, p = theta.shape
    lower = np.broadcast_to(np.asarray(lower, float), (B, p))
    upper = np.broadcast_to(np.asarray(upper, float), (B, p))
    theta = np.minimum(np.maximum(theta, lower), upper)
    if project is not None:
        theta = project(theta, np.arange(B))
    logy = np.asarray(logy, float)
    n = logy.shape[-1]
    W = np.ones((B, n)) if weights is None else np.asarray(weights, float)
    LY = np.broadcast_to(logy, (B, n))

    out_theta = theta.copy()
    out_cost = np.full(B, np.inf)
    out_ok = np.zeros(B, dtype=bool)
    out_iter = np.zeros(B, dtype=int)

    act = np.arange(B)
    with np.errstate(all="ignore"):
        f, J = model(theta, act)
    r = f - LY
    finite = np.all(np.isfinite(r), axis=1) & np.all(np.isfinite(J), axis=(1, 2))
    cost = np.where(finite, _objective(np.where(np.isfinite(r), r, 0.0), W, rho), np.inf)
    out_cost[:] = cost
    # rows whose start cannot be evaluated are left as they are (objective inf, not converged)
    keep = finite
    act, theta, r, J, cost = act[keep], theta[keep], r[keep], J[keep], cost[keep]
    lam = np.full(act.size, 1e-3)
    nu = np.full(act.size, 2.0)
    ref = cost.copy()  # the objective k iterations ago (stall test)
    eye = np.eye(p)
    for it in range(1, max_iter + 1):
        if act.size == 0:
            break
        w = W[act]
        z = r * r
        _, d1 = rho(z)
        ww = w * d1  # IRLS weights
        H = np.einsum("bn,bni,bnj->bij", ww, J, J)
        g = np.einsum("bn,bn,bni->bi", ww, r, J)
        lo, hi = lower[act], upper[act]
        span = np.maximum(np.abs(theta), 1.0)
        at_lo = (theta - lo <= 1e-14 * span) & (g > 0)
        at_hi = (hi - theta <= 1e-14 * span) & (g < 0)
        fixed = at_lo | at_hi
        free = ~fixed
        diag = np.einsum("bii->bi", H)
        dmax = np.max(np.where(free, diag, 0.0), axis=1, keepdims=True)
        D = np.maximum(diag, 1e-12 * np.maximum(dmax, 1e-300))
        mask2 = free[:, :, None] & free[:, None, :]
        Hf = np.where(mask2, H, 0.0) + fixed[:, :, None] * eye
        gf = np.where(free, g, 0.0)
        # undamped step: how much the quadratic model says is left
        with np.errstate(all="ignore"):
            try:
                step0 = np.linalg.solve(Hf + (1e-12 * D * free)[:, :, None] * eye, -gf[:, :, None])[..., 0]
            except np.linalg.LinAlgError:
                step0 = np.full_like(gf, np.nan)
            left = -0.5 * np.einsum("bi,bi->b", gf, step0)
        done_model = np.isfinite(left) & (left <= ftol * cost + 1e-300)
        A = Hf + (lam[:, None] * D * free)[:, :, None] * eye
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(A, -gf[:, :, None])[..., 0]
            except np.linalg.LinAlgError:
                step = -gf / np.maximum(np.einsum("bii->bi", A), 1e-300)
        step = np.where(np.isfinite(step), step, 0.0)
        trial = np.minimum(np.maximum(theta + step, lo), hi)
        if project is not None:
            trial = project(trial, act)
        dstep = trial - theta
        pred = -(np.einsum("bi,bi->b", g, dstep) + 0.5 * np.einsum("bi,bij,bj->b", dstep, H, dstep))
        with np.errstate(all="ignore"):
            ft, Jt = model(trial, act)
            rt = ft - LY[act]
            okt = np.all(np.isfinite(rt), axis=1) & np.all(np.isfinite(Jt), axis=(1, 2))
            cost_t = np.where(okt, _objective(np.where(np.isfinite(rt), rt, 0.0), w, rho), np.inf)
        accept = cost_t < cost
        rho_q = np.where(pred > 0, (cost - cost_t) / np.where(pred > 0, pred, 1.0), 0.0)
        small_change = accept & ((cost - cost_t) <= ftol * cost + 1e-300) & (
            np.sqrt(np.sum(dstep**2, axis=1)) <= xtol * (np.sqrt(np.sum(theta**2, axis=1)) + xtol))
        # update accepted rows
        a = accept
        theta = np.where(a[:, None], trial, theta)
        r = np.where(a[:, None], rt, r)
        J = np.where(a[:, None, None], Jt, J)
        cost = np.where(a, cost_t, cost)
        factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho_q - 1.0) ** 3)
        lam = np.where(a, lam * factor, lam * nu)
        nu = np.where(a, 2.0, nu * 2.0)
        lam = np.clip(lam, 1e-15, np.inf)
        stuck = ~a & (lam > 1e20)
        # at the floor of double precision: log residuals of about 1e-15 on every point
        floor = cost <= 1e-30 * np.sum(w, axis=1)
        done = done_model | small_change | stuck | floor
        converged = done.copy()
        if stall is not None and it % stall[0] == 0:
            done |= (ref - cost) <= stall[1] * cost
            ref = cost.copy()
        if it == max_iter:
            done = np.ones(act.size, dtype=bool)
        if done.any():
            idx = act[done]
            out_theta[idx] = theta[done]
            out_cost[idx] = cost[done]
            out_ok[idx] = converged[done]
            out_iter[idx] = it
            keep = ~done
            act, theta, r, J, cost, lam, nu, ref = (act[keep], theta[keep], r[keep], J[keep], cost[keep], lam[keep],
                                                    nu[keep], ref[keep])
    return out_theta, out_cost, out_ok, out_iter
