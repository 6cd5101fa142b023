"""Compiled kernels of the released estimators (numba), used by :mod:`scaling.laws.released`.

Two ways to run the eps_inf / eps0 walk of M2 and M4, which is where the released code spends all
its time (100 x 1000 gradient steps, then up to 10,000 x 100 damped Newton steps):

* ``*_literal``: every step as the released code takes it, each costing ``O(n)`` logarithms.
* ``*_fast``: the same steps on a Taylor model of the gradient around a *centre*. Within one outer
  round the line ``log f`` (and ``alpha``) is fixed, so the gradient is a smooth function of the
  offsets ``d = eps_inf - centre`` and ``h = eps0 - centre0`` alone; its power series in ``d`` and
  ``h`` has coefficients that are power sums over the fitting points, computed once per round in
  ``O(n m^2)``. A step then costs ``O(m^2)`` with no logarithm. The centre moves whenever an
  offset reaches ``RHO`` times the smallest gap ``min(y) - eps_inf`` (``min(eps0 - y)``), which
  keeps the truncation error below ``RHO**M_TERMS`` (about 1e-16) relative to the gradient's
  scale: the walk is the released walk to rounding. Tests check the two against each other.

Series used (``t = d / u`` with ``u = y - centre``, ``s = h / v`` with ``v = centre0 - y``):
``1/(1-t) = sum t^k``, ``log(1-t) = -sum_{k>=1} t^k / k``, ``(R + log(1-t)) / (1-t) = sum (R - H_k) t^k``
(``H_k`` the harmonic numbers), ``1/(1+s) = sum (-s)^j`` and ``log(1+s)/(1+s) = sum (-1)^(j+1) H_j s^j``.

The linear step (least squares for M2, non-negative least squares on the fixed three-column matrix
for M4) is solved from normal equations: the Gram matrix of the fixed columns is formed once per
fit, and the NNLS solution is the best of the feasible solutions on the 7 column subsets.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Terms of the Taylor model in each offset, and the recentring threshold (a fraction of the
#: smallest gap): the first omitted term is below RHO**M_TERMS (about 8e-17) relative.
M_TERMS = 7
RHO = 5e-3
#: Terms used while the offset is below 1e-8 of the gap (omitted terms below 1e-16 relative).
LOW_TERMS = 3

_HARMONIC = np.array([0.0] + [sum(1.0 / j for j in range(1, k + 1)) for k in range(1, 32)])


# ---------------------------------------------------------------------------------------------
# Linear steps
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def ols_line(logx, b):
    """Least squares of ``b`` on ``[1, logx]``: (intercept, slope), centred for accuracy."""
    n = logx.size
    mx = 0.0
    mb = 0.0
    for i in range(n):
        mx += logx[i]
        mb += b[i]
    mx /= n
    mb /= n
    sxx = 0.0
    sxb = 0.0
    for i in range(n):
        dx = logx[i] - mx
        sxx += dx * dx
        sxb += dx * (b[i] - mb)
    slope = sxb / sxx
    return mb - slope * mx, slope


@njit(cache=True, nogil=True)
def _solve_subset(gram, rhs, mask, k, out):
    """Solve the normal equations restricted to the columns in bit ``mask`` (Gaussian elimination
    with partial pivoting on a <= 3 x 3 system). Returns False if the subset is singular."""
    idx = np.empty(k, np.int64)
    m = 0
    for j in range(k):
        if mask >> j & 1:
            idx[m] = j
            m += 1
    a = np.empty((m, m + 1))
    for p in range(m):
        for q in range(m):
            a[p, q] = gram[idx[p], idx[q]]
        a[p, m] = rhs[idx[p]]
    for col in range(m):
        piv = col
        for p in range(col + 1, m):
            if abs(a[p, col]) > abs(a[piv, col]):
                piv = p
        if a[piv, col] == 0.0:
            return False
        if piv != col:
            for q in range(m + 1):
                tmp = a[col, q]
                a[col, q] = a[piv, q]
                a[piv, q] = tmp
        for p in range(col + 1, m):
            f = a[p, col] / a[col, col]
            for q in range(col, m + 1):
                a[p, q] -= f * a[col, q]
    sol = np.zeros(m)
    for p in range(m - 1, -1, -1):
        acc = a[p, m]
        for q in range(p + 1, m):
            acc -= a[p, q] * sol[q]
        sol[p] = acc / a[p, p]
    for j in range(k):
        out[j] = 0.0
    for p in range(m):
        out[idx[p]] = sol[p]
    return True


@njit(cache=True, nogil=True)
def nnls_normal(gram, rhs, out):
    """Non-negative least squares from the normal equations ``gram`` (k x k, k <= 3) and ``rhs``.

    The NNLS solution is the feasible (all >= 0) unconstrained solution on some column subset, and
    among those the one with the smallest residual, i.e. the largest ``coef . rhs``.
    """
    k = rhs.size
    best = 0.0  # the empty subset: all zero, score 0
    for j in range(k):
        out[j] = 0.0
    trial = np.empty(k)
    for mask in range(1, 1 << k):
        m = 0
        for j in range(k):
            m += mask >> j & 1
        if not _solve_subset(gram, rhs, mask, k, trial):
            continue
        ok = True
        score = 0.0
        for j in range(k):
            if trial[j] < 0.0:
                ok = False
            score += trial[j] * rhs[j]
        if ok and score > best:
            best = score
            for j in range(k):
                out[j] = trial[j]


# ---------------------------------------------------------------------------------------------
# M3: the released grid search over per-point gamma candidates
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _m3_objective(logy, inv_x, la, k, gamma):
    acc = 0.0
    for i in range(logy.size):
        r = logy[i] - (la + k * math.log(inv_x[i] + gamma))
        acc += r * r
    return 0.5 * math.sqrt(acc)


@njit(cache=True, nogil=True)
def m3_fit(x, y, tol, max_iterations):
    """Returns (log beta, k, gamma, n_iter, converged) with the released convention k >= 0."""
    n = x.size
    logy = np.log(y)
    inv_x = 1.0 / x
    z = np.empty(n)
    gamma = 0.0
    beta_prev = 1.0
    la = 0.0
    k = 0.0
    it = 0
    converged = False
    while it < max_iterations:
        for i in range(n):
            z[i] = math.log(inv_x[i] + gamma)
        la, slope = ols_line(z, logy)
        k = max(0.0, slope)
        beta = math.exp(la)
        best_gamma = gamma
        best_obj = _m3_objective(logy, inv_x, la, k, gamma)
        if k > 0.0:
            for i in range(n):
                cand = (y[i] / beta) ** (1.0 / k) - inv_x[i]
                if cand >= 0.0:  # False for NaN
                    obj = _m3_objective(logy, inv_x, la, k, cand)
                    if obj < best_obj:
                        best_obj = obj
                        best_gamma = cand
        gamma = best_gamma
        it += 1
        if abs(beta - beta_prev) < tol:
            converged = True
            break
        beta_prev = beta
    return la, k, gamma, it, converged


# ---------------------------------------------------------------------------------------------
# The walk, literally
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _literal_step(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, lr, newton, guard_h):
    """One released step on (eps_inf, eps0), every sum taken over the points. ``lf`` = log f.

    ``guard_h`` > 0 moves a coordinate by Newton only when |h| > guard_h (M4); 0 means no guard (M2).
    """
    n = y.size
    ge = 0.0
    g0 = 0.0
    he = 0.0
    h0 = 0.0
    for i in range(n):
        d = y[i] - e
        if has_e0:
            d0 = e0 - y[i]
            r = math.log(d) - alpha * math.log(d0) - lf[i]
            g0 += r / d0
            if newton:
                h0 += (alpha + r) / (d0 * d0)
        else:
            r = math.log(d) - lf[i]
        ge += r / d
        if newton:
            he += (1.0 - r) / (d * d)
    ge = -ge / n
    g0 = -alpha * g0 / n
    return _apply_step(e, e0, ge, g0, he / n, alpha * h0 / n, lo_e, hi_e, lo0, hi0, has_e0, lr, newton, guard_h)


@njit(cache=True, nogil=True)
def _apply_step(e, e0, ge, g0, he, h0, lo_e, hi_e, lo0, hi0, has_e0, lr, newton, guard_h):
    """The released update from gradients (and second derivatives), then the projection."""
    if newton:
        if guard_h > 0.0:
            if abs(he) > guard_h:
                e = e - lr * ge / he
            if has_e0 and abs(h0) > guard_h:
                e0 = e0 - lr * g0 / h0
        else:
            e = e - lr * ge / he
    else:
        e = e - lr * ge
        if has_e0:
            e0 = e0 - lr * g0
    e = min(max(e, lo_e), hi_e)
    if has_e0:
        e0 = min(max(e0, lo0), hi0)
    return e, e0


@njit(cache=True, nogil=True)
def _walk_literal(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, steps, lr, newton, guard_h):
    """``steps`` released steps on (eps_inf, eps0); M2 is has_e0=False."""
    for _ in range(steps):
        e_new, e0_new = _literal_step(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, lr, newton, guard_h)
        if e_new == e and e0_new == e0:
            break  # the state did not change: every remaining step of this round repeats this one
        e, e0 = e_new, e0_new
    return e, e0


# ---------------------------------------------------------------------------------------------
# The walk on a Taylor model
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _centre(y, lf, alpha, e, e0, has_e0, H, F, G, m):
    """Taylor coefficients at (e, e0), the first ``m`` in each offset. F[j, k] and G[j, k] multiply
    d^k h^j in ``sum_i r_i / (y_i - eps_inf)`` and ``sum_i r_i / (eps0 - y_i)``. Returns (min u, min v)."""
    n = y.size
    for j in range(m):
        for k in range(m):
            F[j, k] = 0.0
            G[j, k] = 0.0
    umin = np.inf
    vmin = np.inf
    for i in range(n):
        u = y[i] - e
        iu = 1.0 / u
        umin = min(umin, u)
        if has_e0:
            v = e0 - y[i]
            iv = 1.0 / v
            vmin = min(vmin, v)
            R = math.log(u) - alpha * math.log(v) - lf[i]
        else:
            iv = 0.0
            R = math.log(u) - lf[i]
        # F: j = 0 row, sum (R - H_k) u^-(k+1)
        pu = iu
        for k in range(m):
            F[0, k] += (R - H[k]) * pu
            pu *= iu
        if has_e0:
            # F: j >= 1, -alpha l_j v^-j u^-(k+1), l_j = (-1)^(j+1)/j
            pv = iv
            for j in range(1, m):
                lj = (1.0 if j % 2 == 1 else -1.0) / j
                pu = iu
                for k in range(m):
                    F[j, k] += -alpha * lj * pv * pu
                    pu *= iu
                pv *= iv
            # G: k = 0 column, (-1)^j (R + alpha H_j) v^-(j+1)
            pv = iv
            for j in range(m):
                sgn = 1.0 if j % 2 == 0 else -1.0
                G[j, 0] += sgn * (R + alpha * H[j]) * pv
                pv *= iv
            # G: k >= 1, -(1/k) (-1)^j u^-k v^-(j+1)
            pv = iv
            for j in range(m):
                sgn = 1.0 if j % 2 == 0 else -1.0
                pu = iu
                for k in range(1, m):
                    G[j, k] += -sgn * pu * pv / k
                    pu *= iu
                pv *= iv
    return umin, vmin


@njit(cache=True, nogil=True)
def _walk_fast(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, steps, lr, newton, guard_h,
               H, F, G, m, rho):
    """:func:`_walk_literal` on the Taylor model (see the module docstring)."""
    n = y.size
    ce, ce0 = e, e0
    # Coefficients are computed lazily: the first LOW_TERMS at a new centre, all m once a step needs them.
    mc = LOW_TERMS
    umin, vmin = _centre(y, lf, alpha, ce, ce0, has_e0, H, F, G, mc)
    dp = np.empty(m)
    hp = np.empty(m)
    for _ in range(steps):
        d = e - ce
        h = e0 - ce0 if has_e0 else 0.0
        if newton and d == 0.0 and h == 0.0:
            # At the centre the step is taken exactly as the released code takes it. If it moves the
            # state by no more than rounding, the fit has converged as far as float64 goes: then the
            # rest of the round is taken literally too, so that the state comes to rest (or dithers)
            # exactly where the released iteration does. That decides when |delta beta| < 1e-10
            # holds for a large beta (1e5 and more), whose rounding alone exceeds 1e-10.
            e_new, e0_new = _literal_step(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, lr, newton,
                                          guard_h)
            if abs(e_new - e) <= 1e-13 * abs(e) and abs(e0_new - e0) <= 1e-13 * abs(e0):
                return _walk_literal(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, steps, lr, newton,
                                     guard_h)
            e, e0 = e_new, e0_new
            continue
        if abs(d) > rho * umin or (has_e0 and abs(h) > rho * vmin):
            ce, ce0 = e, e0
            mc = LOW_TERMS
            umin, vmin = _centre(y, lf, alpha, ce, ce0, has_e0, H, F, G, mc)
            d = 0.0
            h = 0.0
        # Terms needed: the omitted ones (and those of the derivative) stay below 1e-16 relative.
        ratio = abs(d) / umin
        if has_e0:
            ratio = max(ratio, abs(h) / vmin)
        # (Below 1e-9 a linear model: g is then exact to 1e-18 and its derivative, which only scales
        # a Newton step, to 1e-9 of itself.)
        mm = 2 if ratio < 1e-9 else LOW_TERMS if ratio < 1e-8 else 5 if ratio < 1e-4 else m
        if mm > mc:
            mc = m
            _centre(y, lf, alpha, ce, ce0, has_e0, H, F, G, mc)
        dp[0] = 1.0
        for k in range(1, mm):
            dp[k] = dp[k - 1] * d
        # sum_i r_i / (y_i - e) and its d-derivative
        sF = 0.0
        sFd = 0.0
        jmax = mm if (has_e0 and h != 0.0) else 1
        hp[0] = 1.0
        for j in range(1, jmax):
            hp[j] = hp[j - 1] * h
        for j in range(jmax):
            row = 0.0
            rowd = 0.0
            for k in range(mm):
                row += F[j, k] * dp[k]
                if newton and k >= 1:  # gradient steps need no second derivative
                    rowd += k * F[j, k] * dp[k - 1]
            sF += hp[j] * row
            sFd += hp[j] * rowd
        ge = -sF / n
        he = -sFd / n
        g0 = 0.0
        h0 = 0.0
        if has_e0:
            sG = 0.0
            sGh = 0.0
            # at h = 0 (eps0 at its centre, e.g. pinned at a bound) only the rows j = 0, 1 count
            for j in range(mm if jmax > 1 else (2 if newton else 1)):
                col = 0.0
                for k in range(mm):
                    col += G[j, k] * dp[k]
                if j < jmax:
                    sG += hp[j] * col
                if newton and j >= 1 and j - 1 < jmax:
                    sGh += j * hp[j - 1] * col
            g0 = -alpha * sG / n
            h0 = -alpha * sGh / n
        e, e0 = _apply_step(e, e0, ge, g0, he, h0, lo_e, hi_e, lo0, hi0, has_e0, lr, newton, guard_h)
    return e, e0


# ---------------------------------------------------------------------------------------------
# M2 and M4 outer loops
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _round_walk(it, y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, lr, gd_iterations, gd_epochs, newton_lr,
                newton_steps, guard_h, fast, F, G, m, rho):
    """The walk of outer round ``it``: gradient steps for the first ``gd_iterations`` rounds, then Newton."""
    newton = it >= gd_iterations
    steps = newton_steps if newton else gd_epochs
    step_lr = newton_lr if newton else lr
    if fast:
        return _walk_fast(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, steps, step_lr, newton, guard_h,
                          _HARMONIC[:m], F, G, m, rho)
    return _walk_literal(y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, has_e0, steps, step_lr, newton, guard_h)


@njit(cache=True, nogil=True)
def m2_fit(x, y, lr, gd_iterations, gd_epochs, newton_lr, newton_steps, tol, max_iterations,
           lo_bound, stop_after, fast, m, rho):
    """The released M2. Returns (log beta, c, eps_inf, n_iter, converged)."""
    n = x.size
    logx = np.log(x)
    ymin = y.min()
    hi_e = ymin - 1e-3
    lo_e = max(0.0, lo_bound - 1e-3)
    e = hi_e
    b = np.empty(n)
    lf = np.empty(n)
    F = np.zeros((m, m))
    G = np.zeros((m, m))
    beta_prev = 1.0
    la = 0.0
    c = 0.0
    it = 0
    converged = False
    while it < max_iterations:
        for i in range(n):
            b[i] = math.log(y[i] - e)
        la, c = ols_line(logx, b)
        for i in range(n):
            lf[i] = la + c * logx[i]
        e, _ = _round_walk(it, y, lf, 0.0, e, 0.0, lo_e, hi_e, 0.0, 0.0, False, lr, gd_iterations, gd_epochs,
                           newton_lr, newton_steps, 0.0, fast, F, G, m, rho)
        beta = math.exp(la)
        stop = abs(beta - beta_prev) < tol and it > stop_after
        it += 1
        if stop:
            converged = True
            break
        beta_prev = beta
    return la, c, e, it, converged


@njit(cache=True, nogil=True)
def m4_fit(x, y, eps0_init, lo0, hi0, update_eps0, lr, gd_iterations, gd_epochs, newton_lr, newton_steps,
           tol, max_iterations, guard_h, stop_after, fixed_alpha, fast, m, rho):
    """The released M4 with its design matrix built once from ``eps0_init``.

    ``fixed_alpha`` < 0 learns alpha (three columns). Otherwise this is the released
    ``update_alpha=False`` path: a two-column regression with label
    ``log(y - eps_inf) - fixed_alpha log(eps0 - y)`` at the current eps0 (the released code uses 1),
    while alpha stays at its initial 0 in the walk and in the result.
    Returns (log beta, c, alpha, eps_inf, eps0, n_iter, converged).
    """
    n = x.size
    logx = np.log(x)
    ymin = y.min()
    hi_e = ymin - 1e-3
    lo_e = 0.0
    e = hi_e
    e0 = eps0_init
    learn_alpha = fixed_alpha < 0.0
    k = 3 if learn_alpha else 2
    X = np.empty((n, k))
    for i in range(n):
        X[i, 0] = 1.0
        X[i, 1] = -logx[i]
        if learn_alpha:
            X[i, 2] = math.log(eps0_init - y[i])
    gram = X.T @ X
    rhs = np.empty(k)
    coef = np.zeros(k)
    b = np.empty(n)
    lf = np.empty(n)
    F = np.zeros((m, m))
    G = np.zeros((m, m))
    beta_prev = 1.0
    la = 0.0
    c = 0.0
    alpha = 0.0  # learned by NNLS, or (update_alpha=False) left at its initial 0 outside the label
    it = 0
    converged = False
    while it < max_iterations:
        for i in range(n):
            b[i] = math.log(y[i] - e)
            if not learn_alpha:
                b[i] -= fixed_alpha * math.log(e0 - y[i])
        for j in range(k):
            acc = 0.0
            for i in range(n):
                acc += X[i, j] * b[i]
            rhs[j] = acc
        nnls_normal(gram, rhs, coef)
        la = coef[0]
        c = -coef[1]
        if learn_alpha:
            alpha = coef[2]
        for i in range(n):
            lf[i] = la + c * logx[i]
            if not update_eps0:  # eps0 is a constant of the walk: fold its term into the line
                lf[i] += alpha * math.log(e0 - y[i])
        e, e0 = _round_walk(it, y, lf, alpha, e, e0, lo_e, hi_e, lo0, hi0, update_eps0, lr, gd_iterations,
                            gd_epochs, newton_lr, newton_steps, guard_h, fast, F, G, m, rho)
        beta = math.exp(la)
        stop = abs(beta - beta_prev) < tol and it > stop_after
        it += 1
        if stop:
            converged = True
            break
        beta_prev = beta
    return la, c, alpha, e, e0, it, converged

