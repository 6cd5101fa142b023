r"""Synthetic learning curves: logistic regression on the unit sphere with label noise.

This module generates the learning curve of the paper's synthetic experiment (Figure 2)
and a multi-pass SGD analogue of its "bootstrapped examples" figure (Figure 4).

The data model
--------------
* Inputs :math:`\mathbf x` are uniform on the unit sphere :math:`\mathbb S^{d-1}\subset\mathbb R^d`.
* A fixed unit vector :math:`\mathbf w^\star` defines the clean label
  :math:`\operatorname{sign}\langle\mathbf w^\star,\mathbf x\rangle`; each label is flipped
  independently of :math:`\mathbf x` with probability :math:`\delta\in[0, 1/2)`.
* The Bayes classifier is :math:`\mathbf w^\star` itself and the Bayes risk is :math:`\delta`.

The learner is logistic regression *without an intercept*: the logistic loss plus a tiny ridge
penalty, minimised to high accuracy by Newton-type iterations (see :func:`train_logistic`).
The test error of the trained classifier is computed exactly from its angle to
:math:`\mathbf w^\star` (see :func:`exact_error`), so the curve has no test-set noise at all.

Why no intercept
~~~~~~~~~~~~~~~~
The problem is symmetric under :math:`(\mathbf x, y)\mapsto(-\mathbf x, -y)`: the input
distribution is symmetric, the clean boundary passes through the origin and the label noise does
not depend on the side. That map sends the logistic loss of :math:`(\mathbf w, b)` to the loss of
:math:`(\mathbf w, -b)`, so the (unique, by strict convexity) population minimiser has
:math:`b = 0`. An intercept would therefore only add one more noisy parameter; it would also take
the classifier out of the family of homogeneous half-spaces for which the exact error formula
below holds.

Which :math:`\mathbf w^\star`
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
The learner is rotation-equivariant (the loss and the ridge penalty depend on
:math:`\mathbf w` and the data only through inner products and norms), and the input law is
rotation-invariant. Rotating :math:`\mathbf w^\star` by :math:`R` therefore rotates the whole
training set and the learned vector by :math:`R` and leaves the angle - hence the test error -
unchanged in distribution. The curve functions thus use :math:`\mathbf w^\star=\mathbf e_1`
without loss of generality; the low-level helpers accept any unit vector.

Speed
~~~~~
The default grid (50 sizes from 10 to :math:`10^6`, :math:`d = 100`) draws about
:math:`4.9\times10^8` random coordinates per seed, and drawing them dominates the run time.
The rest is kept small by devices that are exact (they do not change the result, or not its
distribution):

* the fit only needs the signed inputs :math:`y_i\mathbf x_i`, built in the same pass that
  normalises the Gaussian draws; they are stored as float32 (0.4 GB at :math:`n = 10^6`);
* :math:`\mathbf w^\star = \mathbf e_1` (see above), so a clean label is one sign test;
* each fit starts at the population optimum :math:`a^\star\mathbf e_1` and iterates Newton's
  method with the *population* Hessian held fixed (:func:`population_optimum`); for
  :math:`n\gg d` that converges in about three passes over the data, with an exact-Hessian
  Newton fallback for small :math:`n`. The minimiser of the sample objective is unique, so
  neither start nor solver affects the answer beyond the stopping tolerance (1e-4 of the
  sampling error);
* the data passes run over cache-sized blocks, the (seed, n) fits run in worker threads, and
  BLAS is kept single-threaded meanwhile.

No exact reduction of the *sample* to a few numbers is used, because none exists: the
component along :math:`\mathbf w^\star` and the orthogonal part of every input enter the
maximum-likelihood estimate, which has no fixed-size sufficient statistic. Only the
population-level symmetry is exploited (to choose :math:`\mathbf w^\star` and the start).
``nested=True`` in :func:`logistic_learning_curve` draws a single growing data set per seed
instead, about five times less sampling.

Randomness
~~~~~~~~~~
Everything is deterministic given the integer ``seed``. :func:`logistic_learning_curve` draws
the training set for each pair ``(seed, n)`` from its own child stream
``SeedSequence(seed, spawn_key=(0, n))``, so a point on the curve does not depend on which other
sizes are on the grid, on their order or on the number of worker threads.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, log_expit
from threadpoolctl import threadpool_limits

__all__ = [
    "sample_sphere",
    "noisy_labels",
    "train_logistic",
    "angle_to",
    "error_from_angle",
    "exact_error",
    "population_optimum",
    "logistic_learning_curve",
    "aggregate_curve",
    "sgd_multi_pass_curve",
    "DEFAULT_SIZES",
]

#: The 50 training-set sizes of the paper's Figure 2: ``np.logspace(1, 6, 50)`` rounded.
DEFAULT_SIZES = np.unique(np.rint(np.logspace(1, 6, 50)).astype(np.int64))

# Rows per block in the chunked passes over a data matrix. 4096 rows x 100 float32 columns is
# 1.6 MB, small enough to stay in cache between the margin pass and the gradient pass.
_CHUNK = 4096
# Rows per block when sampling (the matrix is filled from one sequential stream in any case).
_SAMPLE_BLOCK = 65536
# First spawn-key element of the child streams, one per experiment family.
_KEY_CURVE = 0
_KEY_SGD = 1
_KEY_NESTED = 2
# Refuse data matrices above this many bytes with a clear message instead of swapping.
_MAX_BYTES = 6 * 2**30


# --------------------------------------------------------------------------------------------
# BLAS threads
# --------------------------------------------------------------------------------------------

def _single_threaded_blas():
    """A context in which numpy's and scipy's BLAS libraries use one thread each.

    The data passes here are memory-bound matrix-vector products and small matrix products, which
    gain nothing from BLAS threads; but BLAS threads that busy-wait for a core taken by another
    thread or process (the worker threads below, or anything else on a small machine) slowed the
    fits by factors of 5 and more. Parallelism comes from the worker threads instead.
    """
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------

def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r} "
                         f"(type {type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}.")
    return int(value)


def _check_d(d):
    return _check_int(d, "d (the input dimension)", 2)


def _check_delta(delta):
    if isinstance(delta, (bool, np.bool_)) or not isinstance(delta, numbers.Real):
        raise ValueError(f"delta (the label-flip probability) must be a real number in [0, 0.5), "
                         f"got {delta!r}.")
    delta = float(delta)
    if not (0.0 <= delta < 0.5):
        raise ValueError(f"delta (the label-flip probability) must lie in [0, 0.5), got {delta}. "
                         "At delta = 0.5 the labels carry no information about x.")
    return delta


def _check_nonneg(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    return value


def _check_rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, (bool, np.bool_)):
            raise ValueError("rng must be a numpy.random.Generator or an integer seed, got a bool.")
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy.random.Generator, an integer seed or None, got {rng!r}. "
                     "Create one with numpy.random.default_rng(seed).")


def _check_w_star(w_star, d):
    w_star = np.asarray(w_star, dtype=np.float64)
    if w_star.ndim != 1 or w_star.shape[0] != d:
        raise ValueError(f"w_star must be a vector of length d = {d}, got shape {w_star.shape}.")
    norm = np.linalg.norm(w_star)
    if not np.isfinite(norm) or abs(norm - 1.0) > 1e-6:
        raise ValueError(f"w_star must be a finite unit vector, got norm {norm}. "
                         "Normalise it with w_star / np.linalg.norm(w_star).")
    return w_star


def _check_sizes(sizes):
    """Round sizes to integers, check them, return the sorted unique int64 array."""
    if isinstance(sizes, (str, bytes)):
        raise ValueError(f"sizes must be an array of training-set sizes, got {sizes!r}.")
    try:
        arr = np.asarray(sizes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be numbers (training-set sizes >= 1), got {sizes!r}.") from None
    if np.asarray(sizes).dtype == np.bool_:
        raise ValueError("sizes must be training-set sizes >= 1, got booleans.")
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-D array of training-set sizes, "
                         f"got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"sizes must be finite, got {arr[~np.isfinite(arr)][:5]}.")
    rounded = np.rint(arr)
    if np.any(rounded < 1):
        raise ValueError(f"sizes must be positive integers (>= 1 after rounding to the nearest "
                         f"integer), got {arr[rounded < 1][:5]}.")
    return np.unique(rounded.astype(np.int64))


def _check_memory(n, d, itemsize, what):
    nbytes = int(n) * int(d) * itemsize
    if nbytes > _MAX_BYTES:
        raise ValueError(f"{what}: a {n} x {d} data matrix needs {nbytes / 2**30:.1f} GiB "
                         f"(limit {_MAX_BYTES / 2**30:.0f} GiB). Use fewer samples or a smaller d.")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------

def sample_sphere(n, d, rng=None, *, dtype=np.float64):
    """Draw ``n`` points uniformly from the unit sphere in ``R^d``.

    A standard Gaussian vector divided by its norm is uniform on the sphere, because the
    Gaussian law is invariant under rotations and so is the map ``g -> g / |g|``.
    The matrix is filled block by block from one sequential stream, so the first ``m`` rows of
    ``sample_sphere(n, ...)`` equal ``sample_sphere(m, ...)`` for the same generator state
    (given the same ``dtype``).

    Parameters
    ----------
    n : int >= 1
        Number of points.
    d : int >= 2
        Dimension of the ambient space.
    rng : numpy.random.Generator, int or None
        Source of randomness (an int is passed to ``numpy.random.default_rng``).
    dtype : numpy.float64 or numpy.float32
        Precision of the returned array. ``float32`` halves memory and sampling time.

    Returns
    -------
    X : ndarray of shape (n, d)
        Rows of unit Euclidean norm.
    """
    n = _check_int(n, "n (the number of points)", 1)
    d = _check_d(d)
    rng = _check_rng(rng)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    _check_memory(n, d, dtype.itemsize, "sample_sphere")
    X = np.empty((n, d), dtype=dtype)
    for start in range(0, n, _SAMPLE_BLOCK):
        block = X[start:start + _SAMPLE_BLOCK]
        rng.standard_normal(out=block, dtype=dtype)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        # A zero Gaussian vector has probability zero; guard anyway so no row is NaN.
        zero = norms == 0
        if np.any(zero):  # pragma: no cover - probability zero
            block[zero, 0] = 1.0
            norms[zero] = 1.0
        block *= (1 / norms)[:, None]
    return X


def _flip_signs(n, delta, rng):
    """Vector of +1 (keep) and -1 (flip, with probability delta)."""
    flips = rng.random(n) < delta
    return np.where(flips, -1, 1).astype(np.int8)


def noisy_labels(X, w_star, delta, rng=None):
    """Labels ``sign(<w_star, x>)`` in {-1, +1}, each flipped independently with probability ``delta``.

    The event ``<w_star, x> = 0`` has probability zero; if it happens (finite precision) the
    clean label is taken as +1.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    w_star : ndarray of shape (d,), unit norm
    delta : float in [0, 0.5)
    rng : numpy.random.Generator, int or None

    Returns
    -------
    y : ndarray of shape (n,), dtype int8, values in {-1, +1}
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n, d), got shape {X.shape}.")
    w_star = _check_w_star(w_star, X.shape[1])
    delta = _check_delta(delta)
    rng = _check_rng(rng)
    clean = np.where(X @ w_star.astype(X.dtype) >= 0, 1, -1).astype(np.int8)
    return clean * _flip_signs(X.shape[0], delta, rng)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------

def _passes(U, w, l2, *, loss=True, hessian=False):
    r"""Objective, gradient and (optionally) Hessian of the penalised mean logistic loss.

    The objective is :math:`F(\mathbf w)=\frac1n\sum_i\operatorname{softplus}(-\langle
    \mathbf w,\mathbf u_i\rangle)+\frac{\lambda}{2n}\lVert\mathbf w\rVert^2` over the signed
    inputs :math:`\mathbf u_i=y_i\mathbf x_i` (the rows of ``U``). A float64 ``U`` is handled
    with single BLAS calls; a float32 ``U`` (large samples) is visited in blocks of ``_CHUNK``
    rows so that the margins and the gradient of a block are computed while it is in cache (one
    read of ``U`` per call). Per-block products use the precision of ``U``; sums are float64.

    Returns ``(f, g, H)`` with ``f = None`` unless ``loss`` and ``H = None`` unless ``hessian``.
    """
    n, d = U.shape
    f = 0.0 if loss else None
    g = np.zeros(d)
    H = np.zeros((d, d)) if hessian else None
    # float64 data are small (see _fit_signed); blocks still avoid huge temporaries.
    chunk = 4 * _CHUNK if U.dtype == np.float64 else _CHUNK
    w_low = w.astype(U.dtype, copy=False)
    for start in range(0, n, chunk):
        B = U[start:start + chunk]
        m = (B @ w_low).astype(np.float64, copy=False)
        if loss:
            f -= log_expit(m).sum()            # softplus(-m) = -log(sigmoid(m)), stable
        p = expit(-m)                          # = -d softplus(-m) / dm
        g -= B.T @ p.astype(U.dtype, copy=False)
        if hessian:
            s = np.sqrt(p * (1.0 - p)).astype(U.dtype, copy=False)
            Bs = B * s[:, None]
            H += Bs.T @ Bs
    if loss:
        f = f / n + 0.5 * l2 / n * float(w @ w)
    g = g / n + (l2 / n) * w
    if hessian:
        H /= n
        H[np.diag_indices(d)] += l2 / n
    return f, g, H


def _newton(U, l2, w0, tol, max_iter=100):
    """Damped Newton's method with an Armijo backtracking line search.

    Stops when the squared Newton decrement ``lam2 = g' H^{-1} g`` (twice the predicted remaining
    decrease of the objective) is at most ``tol``. Once ``lam2`` is below what the computed loss
    can resolve, full Newton steps are taken without a line search (the iteration is then deep
    in its quadratic-convergence region) for as long as they keep reducing ``lam2``.
    Returns ``(w, n_iter, converged)``.
    """
    w = np.array(w0, dtype=np.float64)
    f, g, H = _passes(U, w, l2, hessian=True)
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:  # pragma: no cover - H is positive definite for l2 > 0
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        lam2 = float(g @ step)
        if not np.isfinite(lam2):
            return w, it - 1, False
        if lam2 <= tol:
            return w, it - 1, True
        # float32 data resolve the loss to ~1e-12 relative, float64 data to ~1e-15.
        f_resolution = (1e-11 if U.dtype == np.float32 else 1e-14) * max(1.0, abs(f))
        if lam2 < 100 * f_resolution:
            w_new = w - step
            f_new, g_new, H_new = _passes(U, w_new, l2, hessian=True)
            lam2_new = float(g_new @ np.linalg.solve(H_new, g_new))
            if not lam2_new < lam2:                 # precision floor of the data reached
                return w, it - 1, False
            w, f, g, H = w_new, f_new, g_new, H_new
            continue
        t = 1.0
        for _ in range(60):
            w_new = w - t * step
            f_new, _, _ = _passes(U, w_new, l2, loss=True)
            if f_new <= f - 0.25 * t * lam2 + f_resolution:
                break
            t *= 0.5
        else:
            return w, it - 1, False
        w = w_new
        f, g, H = _passes(U, w, l2, hessian=True)
    return w, max_iter, False


def _fit_signed(U, l2, w0=None, h_diag=None, rtol=1e-4, max_iter=100):
    r"""Minimise the penalised mean logistic loss over the signed inputs ``U`` (rows y_i x_i).

    Two solvers, both run to the same stopping rule. The sampling error of the estimate is,
    in the norm of the Hessian :math:`H`, of order :math:`\sqrt{d/n}`; the solvers stop when the
    remaining optimisation error is ``rtol`` times smaller, i.e. when the squared Newton decrement
    :math:`\mathbf g^\top H^{-1}\mathbf g\le\mathrm{rtol}^2\,d/n`.

    1. If ``h_diag`` (a diagonal approximation of the Hessian at the optimum, e.g. the
       population Hessian of :func:`population_optimum`) is given: Newton's method with that
       Hessian frozen, ``w <- w - g / h_diag`` (the "chord" method). Each step needs only a
       gradient, i.e. one pass over the data, and for ``n >> d`` the error contracts by a factor
       of order :math:`\sqrt{d/n}` per step. If a step fails to halve the decrement, the
       method is abandoned for
    2. damped Newton's method with the exact Hessian and a backtracking line search.

    The minimiser is unique for ``l2 > 0``; the choice of solver, start and preconditioner
    only affects the run time. Small float32 samples are promoted to float64 first.

    Returns ``(w, info)`` with ``info = {"converged", "n_iter", "solver"}``.
    """
    n, d = U.shape
    if U.dtype != np.float64 and n * d <= 4_000_000:
        U = U.astype(np.float64)
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=np.float64)
    tol = rtol * rtol * d / n
    n_chord = 0
    if h_diag is not None:
        h_diag = np.asarray(h_diag, dtype=np.float64)
        _, g, _ = _passes(U, w, l2, loss=False)
        lam2 = float(g @ (g / h_diag))
        while n_chord < max_iter and np.isfinite(lam2):
            if lam2 <= tol:
                return w, {"converged": True, "n_iter": n_chord, "solver": "chord"}
            w_new = w - g / h_diag
            _, g_new, _ = _passes(U, w_new, l2, loss=False)
            lam2_new = float(g_new @ (g_new / h_diag))
            n_chord += 1
            if not (lam2_new <= 0.25 * lam2):      # decrement (a norm squared) must halve
                break
            w, g, lam2 = w_new, g_new, lam2_new
    w, n_newton, converged = _newton(U, l2, w, tol, max_iter=max_iter)
    return w, {"converged": converged, "n_iter": n_chord + n_newton,
               "solver": "newton" if n_chord == 0 else "chord+newton"}


def train_logistic(X, y, l2=1e-3, *, w0=None, rtol=1e-4, max_iter=100):
    r"""Fit a homogeneous (no-intercept) logistic-regression classifier.

    Minimises

    .. math:: \frac1n\sum_{i=1}^n \log\bigl(1+e^{-y_i\langle\mathbf w,\mathbf x_i\rangle}\bigr)
              + \frac{\lambda}{2n}\lVert\mathbf w\rVert^2

    by damped Newton's method (exact gradient and Hessian, backtracking line search; written
    with numpy, see ``_fit_signed`` for the stopping rule). The penalty
    :math:`\lambda` = ``l2`` is on the *summed* loss, so its weight relative to the data shrinks
    like :math:`1/n`: it only matters when the sample is linearly separable (always the case
    for ``n <= d``), where the unpenalised minimum does not exist (:math:`\lVert\mathbf w\rVert
    \to\infty`). With a tiny :math:`\lambda` the direction found is then close to the maximum-
    margin one; for large ``n`` the estimate is essentially the maximum-likelihood one.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Inputs (float32 is kept as float32 for the data passes; anything else becomes float64).
    y : ndarray of shape (n,)
        Labels in {-1, +1}.
    l2 : float > 0
        Ridge penalty on the summed loss.
    w0 : ndarray of shape (d,), optional
        Starting point (default zero). Does not change the answer, only the run time.
    rtol : float > 0
        Stop when the remaining optimisation error is ``rtol`` times the typical sampling error
        (squared Newton decrement ``<= rtol**2 * d / n``).
    max_iter : int
        Newton iteration limit (a ``RuntimeWarning`` is issued if it is reached).

    Notes
    -----
    Newton's method is used rather than L-BFGS: with ``d = 100`` the Hessian is cheap, the
    convergence is quadratic (a handful of iterations instead of dozens) and no step needs the
    loss to more than about 12 digits. On small virtual machines every scipy L-BFGS-B iteration
    also paid several milliseconds of BLAS thread wake-up, which dominated the small-``n`` fits.

    Returns
    -------
    w : ndarray of shape (d,), float64
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a non-empty 2-D array (n, d), got shape {X.shape}.")
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = X.astype(dtype, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values.")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}.")
    if not np.all((y == 1) | (y == -1)):
        raise ValueError("y must contain only the labels -1 and +1 (e.g. from noisy_labels).")
    l2 = _check_nonneg(l2, "l2")
    if l2 == 0:
        raise ValueError("l2 must be > 0: with l2 = 0 the minimiser does not exist when the "
                         "sample is linearly separable (always so for n <= d). Use e.g. 1e-3.")
    max_iter = _check_int(max_iter, "max_iter", 1)
    rtol = _check_nonneg(rtol, "rtol")
    if rtol == 0:
        raise ValueError("rtol must be > 0 (e.g. 1e-4).")
    if w0 is not None:
        w0 = np.asarray(w0, dtype=np.float64)
        if w0.shape != (X.shape[1],) or not np.all(np.isfinite(w0)):
            raise ValueError(f"w0 must be a finite vector of length {X.shape[1]}.")
    U = X * y.astype(dtype)[:, None]
    with _single_threaded_blas():
        w, info = _fit_signed(U, l2, w0=w0, rtol=rtol, max_iter=max_iter)
    if not info["converged"]:
        warnings.warn(f"train_logistic: Newton's method did not converge in {max_iter} "
                      "iterations; the returned w is the last iterate.", RuntimeWarning,
                      stacklevel=2)
    return w


# --------------------------------------------------------------------------------------------
# exact error
# --------------------------------------------------------------------------------------------

def angle_to(w, w_star):
    """Angle in [0, pi] between ``w`` (shape (d,) or (k, d)) and the unit vector ``w_star``.

    Computed as ``atan2(|w_perp|, <w, w_star>)``, accurate also for tiny angles. The zero
    vector gets the angle pi/2: the classifier ``sign(0)`` is no better than a coin, and
    pi/2 is the angle whose error formula gives exactly 1/2.
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"w must have shape (d,) or (k, d), got {w.shape}.")
    w_star = _check_w_star(w_star, w.shape[-1])
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains NaN or infinite values.")
    par = w @ w_star
    perp = np.linalg.norm(w - np.multiply.outer(par, w_star), axis=-1)
    theta = np.arctan2(perp, par)
    theta = np.where((par == 0) & (perp == 0), np.pi / 2, theta)
    return float(theta) if np.ndim(theta) == 0 else theta


def error_from_angle(theta, delta):
    r"""Test error ``delta + (1 - 2 delta) theta / pi`` of a classifier at angle ``theta`` to w*.

    See :func:`exact_error` for the derivation. ``theta`` may be an array (values in [0, pi]).
    """
    delta = _check_delta(delta)
    theta = np.asarray(theta, dtype=np.float64)
    if np.any(~np.isfinite(theta)) or np.any(theta < 0) or np.any(theta > np.pi + 1e-12):
        raise ValueError("theta must lie in [0, pi].")
    err = delta + (1.0 - 2.0 * delta) * theta / np.pi
    return float(err) if err.ndim == 0 else err


def exact_error(w, w_star, delta):
    r"""Exact test misclassification error of the classifier ``sign(<w, x>)``.

    For :math:`\mathbf x` uniform on the sphere and labels flipped with probability
    :math:`\delta`,

    .. math:: \varepsilon(\mathbf w) = \delta + (1-2\delta)\,\frac{\theta}{\pi},
              \qquad \theta = \angle(\mathbf w,\mathbf w^\star)\in[0,\pi].

    *Derivation.* Both ``sign(<w, x>)`` and ``sign(<w*, x>)`` depend on ``x`` only through its
    orthogonal projection ``p`` onto the plane ``P`` spanned by ``w`` and ``w*`` (if ``w`` is
    parallel to ``w*`` the claim is trivial). The law of ``x`` is invariant under rotations of
    ``R^d`` that act inside ``P`` and fix its complement, so the direction ``p / |p|`` is
    uniform on the unit circle of ``P`` (``p = 0`` has probability zero). In ``P`` the two
    classifiers are two lines through the origin with normals at angle ``theta``; their sign
    patterns disagree on two opposite wedges of angle ``theta`` each, i.e. on a fraction
    ``2 theta / (2 pi) = theta / pi`` of the circle. So ``P(sign<w,x> != sign<w*,x>) = theta/pi``.
    The observed label equals the clean one with probability ``1 - delta``, independently of
    ``x``; hence

    ``P(error) = (1-delta) theta/pi + delta (1 - theta/pi) = delta + (1 - 2 delta) theta/pi``.

    At ``theta = 0`` this is the Bayes risk ``delta``; at ``theta = pi/2`` (also the value given
    to ``w = 0``) it is 1/2; at ``theta = pi`` it is ``1 - delta``.

    Parameters
    ----------
    w : ndarray of shape (d,) or (k, d)
    w_star : ndarray of shape (d,), unit norm
    delta : float in [0, 0.5)

    Returns
    -------
    float or ndarray of shape (k,)
    """
    return error_from_angle(angle_to(w, w_star), delta)


# --------------------------------------------------------------------------------------------
# population quantities (start point and preconditioner; they never change the fitted answer)
# --------------------------------------------------------------------------------------------

def _abs_t_rule(d, n_nodes=256):
    """Quadrature nodes/weights for E f(|t|), t = <w*, x>, x uniform on S^{d-1}.

    t has density proportional to (1 - t^2)^((d-3)/2) on [-1, 1]. With t = sin(phi) the weight of
    |t| becomes cos(phi)^(d-2) on [0, pi/2], a smooth function, integrated by Gauss-Legendre on
    [0, min(pi/2, 16/sqrt(d))] (beyond that the weight is below exp(-120)).
    """
    hi = min(np.pi / 2, 16.0 / math.sqrt(d))
    x, wq = np.polynomial.legendre.leggauss(n_nodes)
    phi = 0.5 * hi * (x + 1)
    logw = (d - 2) * np.log(np.cos(phi)) + np.log(wq)
    weights = np.exp(logw - logw.max())
    return np.sin(phi), weights / weights.sum()


@functools.lru_cache(maxsize=64)
def _population_optimum_cached(d, delta):
    return _population_optimum(d, delta)


def population_optimum(d, delta):
    r"""Population minimiser and Hessian of the logistic loss for the sphere model.

    By the rotational symmetry about :math:`\mathbf w^\star` the minimiser of
    :math:`\mathbb E\log(1+e^{-y\langle\mathbf w,\mathbf x\rangle})` is :math:`a^\star\mathbf w^\star`
    and the Hessian there is :math:`h_\parallel\,\mathbf w^\star\mathbf w^{\star\top}+h_\perp
    (I-\mathbf w^\star\mathbf w^{\star\top})`. These are computed by one-dimensional quadrature
    over :math:`t=\langle\mathbf w^\star,\mathbf x\rangle`.

    They serve as the start point and as the frozen Newton matrix of the fits in the curve
    functions (which then converge in about three passes over the data for ``n >> d``); they do
    not change the fitted minimiser. For ``delta = 0`` the population minimiser is at infinity, and a large finite
    :math:`a^\star` is returned instead.

    Returns
    -------
    dict with keys ``a_star``, ``h_par``, ``h_perp``.
    """
    return dict(_population_optimum_cached(_check_d(d), _check_delta(delta)))


def _population_optimum(d, delta):
    t, wq = _abs_t_rule(d)

    def dphi(a):   # derivative of the population loss along w*
        return float(wq @ (t * (-(1 - delta) * expit(-a * t) + delta * expit(a * t))))

    a_max = 50.0 * math.sqrt(d)
    if dphi(a_max) <= 0:
        a_star = a_max
    else:
        a_star = brentq(dphi, 0.0, a_max, xtol=1e-10)
    s = expit(a_star * t) * expit(-a_star * t)
    return {"a_star": float(a_star), "h_par": float(wq @ (s * t * t)),
            "h_perp": float(wq @ (s * (1 - t * t))) / (d - 1)}


def _start_and_hessian(d, delta, l2, n):
    """Population optimum a* e_1 and the diagonal of the penalised population Hessian there."""
    pop = population_optimum(d, delta)
    w0 = np.zeros(d)
    w0[0] = pop["a_star"]
    h = np.full(d, pop["h_perp"])
    h[0] = pop["h_par"]
    return w0, h + l2 / n


# --------------------------------------------------------------------------------------------
# the learning curve (Figure 2)
# --------------------------------------------------------------------------------------------

def _signed_sample(n, d, delta, ss):
    """Signed inputs ``u_i = y_i x_i`` (float32, shape (n, d)) for w* = e_1, from SeedSequence ``ss``.

    The logistic loss depends on ``(x_i, y_i)`` only through ``y_i x_i``, so this is all the fit
    needs. The result equals, bit for bit, ::

        X = sample_sphere(n, d, Generator(PCG64(ss_x)), dtype=np.float32)
        y = noisy_labels(X, e_1, delta, Generator(PCG64(ss_flip)))
        U = X * y[:, None]

    with ``ss_x, ss_flip = ss.spawn(2)``, but makes one pass over the matrix instead of three:
    the label of a row is known from the sign of its first Gaussian coordinate before the row is
    normalised, so normalisation and signing are a single multiplication.
    """
    ss_x, ss_flip = ss.spawn(2)
    rng_x = np.random.Generator(np.random.PCG64(ss_x))
    rng_flip = np.random.Generator(np.random.PCG64(ss_flip))
    U = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, _SAMPLE_BLOCK):
        block = U[start:start + _SAMPLE_BLOCK]
        rng_x.standard_normal(out=block, dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        zero = norms == 0
        if np.any(zero):  # pragma: no cover - probability zero (mirrors sample_sphere)
            block[zero, 0] = 1.0
            norms[zero] = 1.0
        keep = rng_flip.random(block.shape[0]) >= delta          # mirrors _flip_signs
        sign = np.where((block[:, 0] >= 0) == keep, np.float32(1), np.float32(-1))
        block *= (sign / norms)[:, None]
    return U


def _fit_point(U, n, seed, d, delta, l2):
    """Fit the first ``n`` rows of the signed sample ``U`` and return one row of the curve."""
    w0, h_diag = _start_and_hessian(d, delta, l2, n)
    w, info = _fit_signed(U[:n], l2, w0=w0, h_diag=h_diag)
    e1 = np.zeros(d)
    e1[0] = 1.0
    theta = angle_to(w, e1)
    err = error_from_angle(theta, delta)
    return {"n": int(n), "seed": int(seed), "error": err, "excess_risk": err - delta,
            "theta": theta, "converged": info["converged"], "n_iter": info["n_iter"]}


def _independent_point(n, seed, d, delta, l2):
    """One curve point on its own training set, drawn from the child stream of (seed, n)."""
    ss = np.random.SeedSequence(seed, spawn_key=(_KEY_CURVE, int(n)))
    return _fit_point(_signed_sample(n, d, delta, ss), n, seed, d, delta, l2)


def logistic_learning_curve(sizes=None, d=100, delta=0.2, seed=0, n_seeds=1, *, l2=1e-3,
                            nested=False, n_jobs=None, progress=False):
    r"""Exact-error learning curve of logistic regression on the noisy sphere problem.

    For each training-set size ``n`` and each seed, draws ``n`` points uniform on
    :math:`\mathbb S^{d-1}` with labels :math:`\operatorname{sign}(x_1)` flipped with
    probability ``delta`` (:math:`\mathbf w^\star=\mathbf e_1`, see the module docstring for
    why this loses no generality), minimises :func:`train_logistic`'s objective and records the
    exact test error of the fitted classifier (:func:`exact_error`).

    The fits start at the population optimum with the population Hessian as a frozen Newton
    matrix (see ``_fit_signed``); for ``n >> d`` three passes over the data suffice. Start and
    solver do not change the minimiser, only the run time.

    Parameters
    ----------
    sizes : array of numbers >= 1, optional
        Training-set sizes; rounded to the nearest integer, sorted, duplicates merged.
        Default: :data:`DEFAULT_SIZES`, i.e. ``np.logspace(1, 6, 50)`` rounded (10 ... 10^6).
    d : int >= 2
        Input dimension (paper: 100).
    delta : float in [0, 0.5)
        Label-flip probability = Bayes risk (paper: 0.2).
    seed : int >= 0
        First seed; the seeds are ``seed, seed + 1, ..., seed + n_seeds - 1``.
    n_seeds : int >= 1
        Number of independent repetitions per size.
    l2 : float > 0
        Ridge penalty on the summed loss (see :func:`train_logistic`).
    nested : bool
        ``False`` (default): every ``(seed, n)`` gets its own training set from the child stream
        ``SeedSequence(seed, spawn_key=(0, n))``, so the points of a curve are independent.
        ``True``: one stream per seed (``spawn_key=(2,)``) and the training set of size ``n``
        is its first ``n`` examples, as when a single data set grows. Each point has exactly the
        same distribution as before, but the points of one curve are positively correlated
        (a smoother curve), and only ``max(sizes)`` examples are drawn per seed instead of
        ``sum(sizes)`` (about 5 times less sampling on the default grid). Either way a point
        depends only on ``(seed, n)``, not on the other sizes on the grid.
    n_jobs : int >= 1 or None
        Worker threads (numpy releases the GIL while sampling and in the large array
        operations). The results do not depend on it. Default ``min(2, os.cpu_count())``.
        Peak memory is about ``4 * d * max(sizes)`` bytes per worker (0.4 GB per worker at
        ``n = 10^6``, ``d = 100``). The independent design spreads the (seed, n) fits over the
        workers, largest first; the nested design runs one seed per worker.
    progress : bool
        Print one line per finished fit (per finished seed when ``nested``) to stderr.

    Returns
    -------
    pandas.DataFrame
        One row per (seed, n), sorted by seed then n, with columns ``n``, ``seed``, ``error``
        (exact test error), ``excess_risk`` (``error - delta``), ``theta`` (angle to w*, in
        radians), ``converged`` and ``n_iter`` (solver diagnostics).
    """
    sizes = DEFAULT_SIZES if sizes is None else _check_sizes(sizes)
    d = _check_d(d)
    delta = _check_delta(delta)
    seed = _check_int(seed, "seed", 0)
    n_seeds = _check_int(n_seeds, "n_seeds", 1)
    l2 = _check_nonneg(l2, "l2")
    if l2 == 0:
        raise ValueError("l2 must be > 0 (small samples are linearly separable); use e.g. 1e-3.")
    if not isinstance(nested, (bool, np.bool_)):
        raise ValueError(f"nested must be True or False, got {nested!r}.")
    if n_jobs is None:
        n_jobs = max(1, min(2, os.cpu_count() or 1))
    n_jobs = _check_int(n_jobs, "n_jobs", 1)
    _check_memory(int(sizes.max()), d, 4 * n_jobs, "logistic_learning_curve")
    seeds = range(seed, seed + n_seeds)
    n_tasks = len(sizes) * n_seeds
    t_start = time.perf_counter()
    rows = []

    def report(row):
        rows.append(row)
        if progress:
            print(f"[{len(rows)}/{n_tasks}] seed={row['seed']} n={row['n']}: excess risk "
                  f"{row['excess_risk']:.4g} ({time.perf_counter() - t_start:.1f} s)",
                  file=sys.stderr, flush=True)

    with _single_threaded_blas(), ThreadPoolExecutor(max_workers=n_jobs) as pool:
        if not nested:
            # Largest problems first, so that the workers finish at about the same time.
            tasks = sorted(((int(n), s) for s in seeds for n in sizes), key=lambda t: -t[0])
            for row in pool.map(lambda t: _independent_point(t[0], t[1], d, delta, l2), tasks):
                report(row)
        else:
            n_max = int(sizes.max())

            def seed_curve(s):
                # one growing data set per seed; the sizes are fitted on its prefixes
                U = _signed_sample(n_max, d, delta,
                                   np.random.SeedSequence(s, spawn_key=(_KEY_NESTED,)))
                return [_fit_point(U, int(n), s, d, delta, l2) for n in sizes]

            for seed_rows in pool.map(seed_curve, seeds):
                for row in seed_rows:
                    report(row)
    df = pd.DataFrame(rows, columns=["n", "seed", "error", "excess_risk", "theta",
                                     "converged", "n_iter"])
    return df.sort_values(["seed", "n"], ignore_index=True)


def aggregate_curve(df, value="excess_risk"):
    """Mean, standard deviation and standard error over seeds, per training-set size.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`logistic_learning_curve` (needs columns ``n``, ``seed`` and ``value``).
    value : str
        Column to aggregate (default ``"excess_risk"``; ``"error"`` and ``"theta"`` also work).

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``mean``, ``std`` (sample standard deviation, ``ddof=1``; NaN for a
        single seed), ``sem`` (``std / sqrt(n_seeds)``) and ``n_seeds``, sorted by ``n``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame from logistic_learning_curve, "
                         f"got {type(df).__name__}.")
    missing = [c for c in ("n", "seed", value) if c not in df.columns]
    if missing:
        raise ValueError(f"df is missing column(s) {missing}; expected the output of "
                         "logistic_learning_curve.")
    g = df.groupby("n", sort=True)[value]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n_seeds": g.count()})
    out["sem"] = out["std"] / np.sqrt(out["n_seeds"])
    return out.reset_index()[["n", "mean", "std", "sem", "n_seeds"]]


# --------------------------------------------------------------------------------------------
# multi-pass SGD on a fixed subset (the synthetic analogue of Figure 4)
# --------------------------------------------------------------------------------------------

def sgd_multi_pass_curve(subset_size, total_steps, batch_size=10, d=200, delta=0.2, lr=1.0,
                         seed=0, eval_every=None, *, l2=0.0, record_train=False):
    r"""Test error of SGD-trained logistic regression against the number of examples seen.

    A subset of ``subset_size`` examples is drawn once and SGD (mini-batches of ``batch_size``,
    learning rate ``lr``, start ``w = 0``, no intercept) makes as many passes over it as
    ``total_steps`` requires. The exact test error (see :func:`exact_error`) is recorded on a
    grid of steps.

    The design makes runs with different subset sizes directly comparable:

    * the examples come from one stream per ``seed`` and the subset is its first
      ``subset_size`` elements, so a small subset is a prefix of a larger one;
    * the first pass visits the subset in stream order (the examples are i.i.d., so this is a
      uniformly random order); later passes reshuffle.

    Hence with the same seed, two runs see *exactly* the same mini-batches until the smaller
    subset's first pass ends - the curves coincide - and only then does the small subset start
    repeating examples. With a subset that is small compared to ``d`` (e.g. 500 examples for
    ``d = 200``) and no regularisation, SGD then drifts towards the near-interpolating
    maximum-likelihood solution and the test error plateaus and rises (overfitting), while a
    subset larger than ``total_steps * batch_size`` behaves like fresh data throughout.

    Parameters
    ----------
    subset_size : int >= 1 or None
        Number of distinct training examples; ``None`` means "never repeat" (online SGD).
    total_steps : int >= 1
        Number of SGD steps.
    batch_size : int >= 1
    d : int >= 2
    delta : float in [0, 0.5)
    lr : float > 0
        Constant learning rate on the mean logistic loss of the batch.
    seed : int >= 0
    eval_every : int >= 1, optional
        Steps between evaluations. Default: log-spaced steps, about 25 per decade (the natural
        grid for a log-scaled "examples seen" axis). Step 0 and the last step are always
        included.
    l2 : float >= 0
        Ridge penalty ``l2 / 2 |w|^2`` added to each batch's mean loss (default 0).
    record_train : bool
        Also record the training error on the subset (costs one pass over it per evaluation).

    Returns
    -------
    pandas.DataFrame
        Columns ``step``, ``examples_seen`` (``step * batch_size``), ``epochs``
        (``examples_seen / subset_size``; NaN when ``subset_size`` is None), ``error``,
        ``excess_risk``, ``theta`` and, if requested, ``train_error``.

    Examples
    --------
    With ``d = 200`` and ``delta = 0.2``, 10 000 steps of batch 10 (100 000 examples seen):
    ``subset_size=500`` follows the ``subset_size=None`` curve exactly for the first 500
    examples, reaches its lowest error (about 0.365) after a few dozen passes and then climbs
    (to about 0.38 after 200 passes), while the fresh-data curve keeps falling (to about 0.23).
    """
    total_steps = _check_int(total_steps, "total_steps", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    n_seen = total_steps * batch_size
    if subset_size is None:
        subset_size = n_seen
        infinite = True
    else:
        subset_size = _check_int(subset_size, "subset_size", 1)
        infinite = False
    d = _check_d(d)
    delta = _check_delta(delta)
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real) \
            or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    lr = float(lr)
    seed = _check_int(seed, "seed", 0)
    if eval_every is None:
        # about 25 evaluation points per decade of steps, plus step 0
        grid = np.unique(np.rint(np.logspace(0, math.log10(total_steps),
                                             max(2, int(25 * math.log10(total_steps)) + 1))))
        eval_steps = set(grid.astype(np.int64).tolist())
    else:
        eval_every = _check_int(eval_every, "eval_every", 1)
        eval_steps = set(range(eval_every, total_steps + 1, eval_every))
    eval_steps.add(total_steps)
    l2 = _check_nonneg(l2, "l2")

    # Only the examples that will actually be visited need to exist: the first pass goes through
    # the stream in order, so a subset larger than n_seen is indistinguishable from its prefix.
    m = min(subset_size, n_seen)
    _check_memory(m, d, 4, "sgd_multi_pass_curve")
    ss_data, ss_flip, ss_shuffle = (np.random.SeedSequence(seed, spawn_key=(_KEY_SGD, k))
                                    for k in range(3))
    X = sample_sphere(m, d, np.random.Generator(np.random.PCG64(ss_data)), dtype=np.float32)
    clean = np.where(X[:, 0] >= 0, np.float32(1), np.float32(-1))
    y = clean * _flip_signs(m, delta, np.random.Generator(np.random.PCG64(ss_flip)))
    U = (X * y[:, None]).astype(np.float64)   # signed inputs; the loss needs only y_i x_i
    del X
    rng_shuffle = np.random.Generator(np.random.PCG64(ss_shuffle))

    e1 = np.zeros(d)
    e1[0] = 1.0
    w = np.zeros(d)
    records = []

    def record(step):
        theta = angle_to(w, e1)
        err = error_from_angle(theta, delta)
        row = {"step": step, "examples_seen": step * batch_size,
               "epochs": np.nan if infinite else step * batch_size / subset_size,
               "error": err, "excess_risk": err - delta, "theta": theta}
        if record_train:
            # fraction of the subset misclassified (a zero margin counts as an error)
            row["train_error"] = float(np.mean(U @ w <= 0))
        records.append(row)

    # ``epoch_data`` holds the subset in the order of the current pass: the stream order for
    # the first pass (a view, no copy), a fresh random permutation for every later pass.
    epoch_data, pos = U, 0
    record(0)
    with _single_threaded_blas():
        for step in range(1, total_steps + 1):
            if pos + batch_size <= epoch_data.shape[0]:
                batch = epoch_data[pos:pos + batch_size]
                pos += batch_size
            else:   # the batch straddles the end of a pass
                parts, need = [], batch_size
                while need > 0:
                    if pos == epoch_data.shape[0]:
                        epoch_data, pos = U[rng_shuffle.permutation(subset_size)], 0
                    take = min(need, epoch_data.shape[0] - pos)
                    parts.append(epoch_data[pos:pos + take])
                    pos += take
                    need -= take
                batch = np.concatenate(parts)
            # gradient of the batch mean of softplus(-<u, w>) is -mean(sigmoid(-<u, w>) u)
            grad = (expit(-(batch @ w)) @ batch) * (-1.0 / batch_size)
            if l2:
                grad += l2 * w
            w -= lr * grad
            if step in eval_steps:
                record(step)
    return pd.DataFrame(records)
