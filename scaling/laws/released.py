"""The paper's method: an exact and fast emulation of the authors' released estimators M1-M4.

The paper's numbers come from the authors' released code, not from the minimum of the loss the
paper states (Eq. 4/5). That code starts every fit at a fixed point, walks ``eps_inf`` (and ``eps0``)
with tiny gradient steps and then damped Newton steps, and stops where the walk stops. This module
computes the same end point, quirks included, so that the book's reproduction chapters and the
ledger can use *the paper's method* on the benchmark and on curves the authors never fitted.
It was written from a step-by-step description of the released implementation, not from the
released source, and is checked
fit for fit against what the released code returns on the 92 benchmark curves
(:func:`scaling.ledger.reference.load_released_outputs`).

The algorithm (``n`` fitting points, float64, ``ERR_MARGIN = 1e-3``)
--------------------------------------------------------------------
* **Input.** The fitting points are keyed by ``x`` (for a repeated ``x`` the *last* loss wins) and
  sorted by ``x``. ``min_err = min(y) - 1e-3``, ``max_err = max(y) + 1e-3``.
* **Projection** after every step (never before the first): ``eps_inf`` into
  ``[max(0, lo_bound - 1e-3), min_err]``; ``eps0 <- max(eps0, max_err)``, then, with an upper bound
  ``u``, ``eps0 <- min(eps0, u + 1e-3)`` (the upper bound wins when the two cross).
* **M1** -- one least-squares fit of ``log y`` on ``[1, log x]``.
* **M2** -- ``eps_inf`` starts at ``min_err``. Round ``k`` (at most ``max_iterations``): least squares
  of ``log(y - eps_inf)`` on ``[1, log x]`` gives ``(log beta, c)``; then, with ``r = log(y - eps_inf)
  - log beta - c log x``, ``g = -mean(r / (y - eps_inf))``: for ``k < 100`` 1000 steps
  ``eps_inf -= 1e-8 g``; for ``k >= 100`` 100 steps ``eps_inf -= 0.1 g / h`` with
  ``h = mean((1 - r) / (y - eps_inf)^2)``, unguarded. Stop when ``|beta_k - beta_{k-1}| < 1e-10`` and
  ``k > 101`` (``beta_{-1} = 1``).
* **M3** -- ``y = beta (1/x + gamma)^k`` with ``k = max(0, slope)`` (we report ``c = -k``). Each round:
  least squares of ``log y`` on ``[1, log(1/x + gamma)]``; then each per-point candidate
  ``gamma_i = (y_i / beta)^(1/k) - 1/x_i >= 0``, in increasing ``x``, replaces ``gamma`` only if its
  objective ``0.5 ||log y - log yhat||_2`` is *strictly* lower. Stop when ``|delta beta| < 1e-10`` (any
  round) or after ``max_iterations``.
* **M4** -- ``eps0`` starts at the domain's value (IC, NMT, LM 1.0; BB 1.001), unprojected; ``eps_inf``
  at ``min_err``. **The design matrix ``[1, -log x, log(eps0_init - y)]`` is built once, with the
  initial eps0, and never rebuilt.** Each round: non-negative least squares of ``log(y - eps_inf)`` on
  it gives ``(log beta, -c, alpha)``, all ``>= 0`` (so ``beta >= 1``); then ``eps_inf`` and ``eps0``
  move together by the gradients ``g_inf = -mean(r / (y - eps_inf))``, ``g_0 = -alpha mean(r / (eps0 - y))``
  with ``r = log(y - eps_inf) - alpha log(eps0 - y) - log beta - c log x`` (current eps0): 1000 steps of
  ``1e-8 g`` for ``k < 100``, then 100 steps of ``0.1 g / h`` with ``h_inf = mean((1 - r)/(y - eps_inf)^2)``
  and ``h_0 = alpha mean((alpha + r)/(eps0 - y)^2)``, each coordinate moving only if its ``|h| > 1e-5``.
  Stop as M2. Notebook calls: IC eps0 1.0 learned, upper bound 1.0; NMT and LM 1.0 learned, no bound;
  BB 1.001 learned, upper bound 1.0. With ``update_alpha=False`` (the released code's only fixed-
  exponent path) the matrix is ``[1, -log x]``, the label ``log(y - eps_inf) - log(eps0 - y)``, and alpha
  stays 0 everywhere else: the prediction is M2's.
* **Prediction** -- M4 is implicit: with ``b = eps0 - eps_inf`` and ``f = beta x^c`` the released code
  picks, on ``linspace(0, b, 10000)``, the first ``w`` minimising ``|w - f (b - w)^alpha|``; if
  ``|alpha| < 1e-5`` it returns ``eps_inf + f``.
* **Scoring** (the notebook) -- every held-out row counts, duplicates included; RMSE of the log loss
  and the "standard error" ``sqrt(mu + std(e)/sqrt(n)) - sqrt(mu)`` (:mod:`scaling.evaluate`).

How it is fast
--------------
The released code spends 2-40 s per M2/M4 fit (1,647 s for the 368 benchmark fits) on 10^5 gradient
steps and up to 10^6 Newton steps, each a handful of numpy calls. Here each fit is a compiled loop
(:mod:`scaling.laws._released_kernels`, numba) that takes *the same steps*; within a round the gradient is
evaluated from a Taylor model in the step's offset whose coefficients are power sums over the points,
recentred whenever the offset reaches 1/200 of the smallest gap, so a step costs a few dozen
multiplications instead of ``n`` logarithms. ``walk="literal"`` evaluates every step from the points,
as the released code does (several times slower); the tests check that the two agree. The non-negative
least squares uses the Gram matrix of the fixed columns. Curves run on every core in parallel.

Agreement with the released code's outputs
------------------------------------------
All 368 (curve, law) fits of the benchmark agree with ``released_outputs.csv``: RMSE within 1e-5 absolute
and every parameter within 1e-4 relative (measured: largest RMSE difference about 3e-11, largest
parameter difference about 3e-6 relative, on LM 2.62e+08 M4, which runs to the 10,000-round cap).
No fit is listed as an exception. (The 10,000-point grid of the M4 prediction could in principle
flip a held-out prediction by one grid step, about 1e-4 of ``eps0 - eps_inf``; it does not on the
benchmark.) Scored with every held-out row (``load_benchmark(drop_duplicates=False)``), the standard
errors agree to 2e-12. Seven M2 fits and four M4 fits run to the 10,000-round cap. The algorithm
page names five capped M2 fits; the other two we find (IC c_25 MiX/B/16 and LM 1.07e+09) are the
two longest M2 fits in the released timings (22.3 s and 22.2 s, about 2.2 ms a round), so they
reached the cap there too; the four capped M4 fits are among the five longest released M4 fits
(38-40 s; the fifth stops after about 9,000 rounds here).
Over the 92 M2 fits our round counts and the released fit times correlate at 0.999.

When a fit has converged as far as float64 allows, the stop rule ``|beta_k - beta_{k-1}| < 1e-10``
holds only if ``beta`` repeats bit for bit whenever ``beta`` is large (1e5 and more: its rounding
alone exceeds 1e-10). So the round at which such a fit stops depends on rounding, and the Taylor
walk hands over to literal steps once a step moves the state by no more than 1e-13 of itself:
from there the state comes to rest where the released iteration's does. (Without that, three IC
M4 fits with beta of 5e5 to 4e8 dithered at the rounding level up to the cap, with the same
parameters.) Round counts still differ from the literal walk's by a few per cent on some fits.

Public API
----------
``fit_released(law, x, y, domain, **options)`` -> dict(params, loss, n_iter, seconds, converged)
``fit_released_batch(law, xs, ys, domain, **options)`` -> list of such dicts (curves in parallel)
``predict_released(law, params, x, grid_size=10_000)`` -> predictions
``run_released_benchmark(bench, laws=..., domains=..., progress=True, **options)`` -> DataFrame with the
columns of :func:`scaling.evaluate.run_benchmark` plus ``n_iter`` and three alternative standard
errors (:func:`standard_error`).
``standard_error``, ``rescore`` and ``LM_TABLE2_FIT_X_MAX``: scoring variants and the LM common
fitting window (``curve.with_fit_part(LM_TABLE2_FIT_X_MAX)``), for the protocol variants the paper
leaves open.
"""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from .._checks import as_positive_array, check_curve
from .._progress import Progress
from ..benchmark.catalogue import RESULT_COLUMNS
from ..benchmark.data import curve_list
from .paper import LAWS, PAPER_LAWS
from ..metrics import extrapolation_rmse, rmse_standard_error

__all__ = [
    "ERR_MARGIN", "DEFAULTS", "M4_DOMAIN_CALLS", "SE_METHODS", "LAWS_RELEASED", "WALKS", "RELEASED_PARAMS", "ReleasedFit",
    "fit_released", "fit_released_batch", "predict_released", "released_training_loss",
    "run_released_benchmark", "warm_up", "rescore", "standard_error", "options_for", "law_options",
    "LM_TABLE2_FIT_X_MAX",
]

#: The released code's margin around the fitting losses, in loss units. ``eps_inf`` stays at or
#: below ``min(y) - ERR_MARGIN``, ``eps0`` at or above ``max(y) + ERR_MARGIN``, and the bounds
#: ``lo_bound``/``up_bound`` are widened by it.
ERR_MARGIN = 1e-3
#: The laws the released code fits: the paper's four.
LAWS_RELEASED = PAPER_LAWS
#: The parameters of each, in the package's conventions (c <= 0 for every law, M3 included).
RELEASED_PARAMS = {name: LAWS[name].param_names for name in LAWS_RELEASED}
#: The values of the ``walk`` option of M2 and M4. ``"taylor"`` (the default, fast) evaluates each
#: step's gradient from a Taylor model, ``"literal"`` from every point as the released code does;
#: both take the same steps.
WALKS = ("taylor", "literal")
#: The released code's optimiser settings.
DEFAULTS = dict(
    lr=1e-8,              # gradient-descent learning rate (the paper's text says 1e-7)
    gd_iterations=100,    # outer rounds that use gradient descent, before Newton
    gd_epochs=1000,       # gradient steps per round
    newton_lr=0.1,        # damping of the Newton steps
    newton_steps=100,     # Newton steps per round
    tol=1e-10,            # stop when |beta_k - beta_{k-1}| < tol ...
    stop_after=101,       # ... and the round index k > stop_after (M2 and M4; M3 stops at any round)
    max_iterations=10_000,
    lo_bound=0.0,         # M2 only: eps_inf >= max(0, lo_bound - ERR_MARGIN)
    walk="taylor",        # how each step's gradient is evaluated (same steps either way)
)
#: How the released notebook calls M4 in each domain: eps0 is the initial value, learned
#: (update_eps0) and capped at up_bound + ERR_MARGIN when up_bound is given.
M4_DOMAIN_CALLS = {
    "IC": dict(eps0=1.0, update_eps0=True, up_bound=1.0),
    "NMT": dict(eps0=1.0, update_eps0=True, up_bound=None),
    "LM": dict(eps0=1.0, update_eps0=True, up_bound=None),
    "BB": dict(eps0=1.001, update_eps0=True, up_bound=1.0),
}
_WALK_OPTIONS = ("lr", "gd_iterations", "gd_epochs", "newton_lr", "newton_steps", "tol", "stop_after",
                 "max_iterations", "walk")
_LAW_OPTIONS = {
    "M1": (),
    "M2": _WALK_OPTIONS + ("lo_bound",),
    "M3": ("tol", "max_iterations"),
    "M4": _WALK_OPTIONS + ("eps0", "update_eps0", "up_bound", "update_alpha"),
}
_ALL_OPTIONS = sorted({o for opts in _LAW_OPTIONS.values() for o in opts})
#: The released M4 prediction falls back to M2's formula below this |alpha|.
ALPHA_ZERO = 1e-5
#: The Newton step of M4 moves a coordinate only where its second derivative exceeds this.
NEWTON_GUARD = 1e-5
PREDICT_GRID = 10_000
#: The definitions of the standard error that :func:`standard_error` accepts as ``method``.
SE_METHODS = ("released", "ddof1", "delta", "bootstrap")
_N_PARAMS = {"M1": 2, "M2": 3, "M3": 3, "M4": 3}


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------

def law_options(law: str) -> tuple[str, ...]:
    """The option names that ``law`` takes (see :data:`DEFAULTS` and :data:`M4_DOMAIN_CALLS`)."""
    if law not in _LAW_OPTIONS:
        raise ValueError(f"unknown law {law!r}; choose one of {list(_LAW_OPTIONS)}.")
    return _LAW_OPTIONS[law]


def options_for(law: str, domain: str | None = None, **options) -> dict:
    """The complete option set of ``law`` (defaults, the domain's M4 call, then ``options``).

    Raises ValueError for an unknown law, domain or option name, or an option the law does not use.
    """
    allowed = law_options(law)
    unknown = sorted(set(options) - set(_ALL_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; the released algorithm takes {_ALL_OPTIONS}.")
    unused = sorted(set(options) - set(allowed))
    if unused:
        raise ValueError(f"{law} does not use option(s) {unused}; it takes {list(allowed) or 'none'}.")
    opts = {k: v for k, v in DEFAULTS.items() if k in allowed}
    if law == "M4":
        if domain is None and "eps0" not in options:
            raise ValueError("M4 needs a domain (IC, NMT, LM or BB) to pick the released eps0 settings, "
                             "or pass eps0=..., update_eps0=..., up_bound=... yourself.")
        if domain is not None:
            if domain not in M4_DOMAIN_CALLS:
                raise ValueError(f"unknown domain {domain!r}; choose one of {list(M4_DOMAIN_CALLS)}.")
            opts.update(M4_DOMAIN_CALLS[domain])
        else:
            opts.update(update_eps0=True, up_bound=None)
        opts["update_alpha"] = True
    opts.update(options)
    if "walk" in opts and opts["walk"] not in WALKS:
        raise ValueError(f"walk must be one of {WALKS}, got {opts['walk']!r}.")
    for key in ("lr", "newton_lr", "tol"):
        if key in opts and not (np.isfinite(opts[key]) and opts[key] > 0):
            raise ValueError(f"{key} must be a positive number, got {opts[key]!r}.")
    for key in ("gd_iterations", "gd_epochs", "newton_steps", "max_iterations", "stop_after"):
        if key in opts and (int(opts[key]) != opts[key] or opts[key] < (1 if key == "max_iterations" else 0)):
            raise ValueError(f"{key} must be a {'positive' if key == 'max_iterations' else 'non-negative'} "
                             f"integer, got {opts[key]!r}.")
    if "lo_bound" in opts and not np.isfinite(opts["lo_bound"]):
        raise ValueError(f"lo_bound must be a finite number, got {opts['lo_bound']!r}.")
    if law == "M4":
        if not (np.isfinite(opts["eps0"]) and opts["eps0"] > 0):
            raise ValueError(f"eps0 must be a positive number, got {opts['eps0']!r}.")
        if opts["up_bound"] is not None and not np.isfinite(opts["up_bound"]):
            raise ValueError(f"up_bound must be None or a finite number, got {opts['up_bound']!r}.")
    return opts


# ---------------------------------------------------------------------------------------------
# One fit
# ---------------------------------------------------------------------------------------------

def _fitting_points(x, y, law: str) -> tuple[np.ndarray, np.ndarray]:
    """The released notebook's fitting points: keyed by x (the last loss of a repeated x wins), sorted."""
    x = as_positive_array(x, "x")
    y = as_positive_array(y, "loss")
    if x.shape != y.shape:
        raise ValueError(f"x and loss must have the same length, got {x.size} and {y.size}.")
    xs, last = np.unique(x[::-1], return_index=True)
    ys = y[::-1][last]
    check_curve(xs, ys, _N_PARAMS[law], law)
    return xs, ys


def _kernels():
    # Imported on first use: compiling (or loading the cached compilation) takes a moment.
    from . import _released_kernels

    return _released_kernels


def _fit_one(law: str, x: np.ndarray, y: np.ndarray, opts: dict) -> tuple[dict, int, bool]:
    """(params in package conventions, rounds run, stopped by the beta rule) for prepared points."""
    K = _kernels()
    if law == "M1":
        la, c = K.ols_line(np.log(x), np.log(y))
        return dict(beta=math.exp(la), c=float(c)), 1, True
    if law == "M3":
        la, k, gamma, it, conv = K.m3_fit(x, y, float(opts["tol"]), int(opts["max_iterations"]))
        return dict(beta=math.exp(la), c=-float(k), gamma=float(gamma)), int(it), bool(conv)
    fast = opts["walk"] == "taylor"
    schedule = (float(opts["lr"]), int(opts["gd_iterations"]), int(opts["gd_epochs"]), float(opts["newton_lr"]),
                int(opts["newton_steps"]), float(opts["tol"]), int(opts["max_iterations"]))
    lo_e = max(0.0, float(opts.get("lo_bound", 0.0)) - ERR_MARGIN)
    if y.min() - ERR_MARGIN < lo_e:
        raise ValueError(f"every fitting loss must exceed {lo_e + ERR_MARGIN:g} (lo_bound, plus the released "
                         f"margin 1e-3) for eps_inf to have room; the smallest is {y.min():g}.")
    if law == "M2":
        la, c, e, it, conv = K.m2_fit(x, y, *schedule, float(opts["lo_bound"]), int(opts["stop_after"]),
                                      fast, K.M_TERMS, K.RHO)
        return dict(beta=math.exp(la), c=float(c), eps_inf=float(e)), int(it), bool(conv)
    eps0 = float(opts["eps0"])
    lo0 = float(y.max()) + ERR_MARGIN
    hi0 = math.inf if opts["up_bound"] is None else float(opts["up_bound"]) + ERR_MARGIN
    if min(max(eps0, lo0), hi0) <= y.max():
        raise ValueError(f"up_bound + 1e-3 = {hi0:g} is not above the largest fitting loss {y.max():g}, so eps0 "
                         "has no feasible value (log(eps0 - loss) is undefined); raise up_bound or pass None.")
    if eps0 <= y.max():
        raise ValueError(f"M4 needs eps0 above every fitting loss (its design matrix holds log(eps0 - loss)); "
                         f"eps0 = {eps0:g} but the largest loss is {y.max():g}.")
    fixed_alpha = -1.0 if opts["update_alpha"] else 1.0
    la, c, alpha, e, e0, it, conv = K.m4_fit(x, y, eps0, lo0, hi0, bool(opts["update_eps0"]), *schedule,
                                             NEWTON_GUARD, int(opts["stop_after"]), fixed_alpha, fast,
                                             K.M_TERMS, K.RHO)
    params = dict(beta=math.exp(la), c=float(c), eps_inf=float(e), eps0=float(e0), alpha=float(alpha))
    return params, int(it), bool(conv)


def warm_up() -> float:
    """Compile the kernels (or load them from numba's cache) on a tiny curve; returns the seconds.

    The first run after installing compiles them (several seconds); later processes load the cache.
    Calling this first keeps that one-off cost out of timings.
    """
    start = time.perf_counter()
    x = np.logspace(6.0, 9.0, 8)
    y = 0.3 + 40.0 * x ** -0.35
    short = dict(max_iterations=2, gd_iterations=1, gd_epochs=2, newton_steps=2)
    for law in LAWS_RELEASED:
        opts = options_for(law, "IC", **{k: v for k, v in short.items() if k in law_options(law)})
        for walk in (WALKS if law in ("M2", "M4") else (None,)):
            _fit_one(law, x, y, {**opts, "walk": walk} if walk else opts)
    return time.perf_counter() - start


def _result(law, x, y, params, n_iter, converged, seconds) -> dict:
    return dict(params=params, loss=released_training_loss(law, params, x, y), n_iter=n_iter,
                converged=converged, seconds=seconds)


def _timed_fit(law, x, y, opts) -> dict:
    start = time.perf_counter()
    params, n_iter, converged = _fit_one(law, x, y, opts)
    return _result(law, x, y, params, n_iter, converged, time.perf_counter() - start)


def _workers(n_jobs: int | None) -> int:
    if n_jobs is None:
        n_jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, int(n_jobs))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def released_training_loss(law: str, params: dict, x, y) -> float:
    """Mean squared log residual (Eq. 4, or Eq. 5 for M3) of ``params`` on the curve (x, y)."""
    x = as_positive_array(x, "x")
    y = as_positive_array(y, "loss")
    p = params
    with np.errstate(divide="ignore", invalid="ignore"):
        if law == "M1":
            r = np.log(y) - np.log(p["beta"]) - p["c"] * np.log(x)
        elif law == "M2":
            r = np.log(y - p["eps_inf"]) - np.log(p["beta"]) - p["c"] * np.log(x)
        elif law == "M3":
            r = np.log(y) - np.log(p["beta"]) + p["c"] * np.log(1.0 / x + p["gamma"])
        elif law == "M4":
            r = (np.log(y - p["eps_inf"]) - p["alpha"] * np.log(p["eps0"] - y)
                 - np.log(p["beta"]) - p["c"] * np.log(x))
        else:
            raise ValueError(f"unknown law {law!r}; choose one of {list(LAWS_RELEASED)}.")
    return float(np.mean(r**2))


def fit_released_batch(law: str, xs, ys, domain: str | None = None, n_jobs: int | None = None,
                       **options) -> list[dict]:
    """Fit ``law`` with the released algorithm to several curves, in parallel on ``n_jobs`` threads
    (default: every core). Each curve is fitted exactly as alone. Raises ValueError for the first
    invalid curve (before any fitting)."""
    opts = options_for(law, domain, **options)
    curves = [_fitting_points(x, y, law) for x, y in zip(xs, ys)]
    if not curves:
        raise ValueError("no curves to fit.")
    _kernels()
    with ThreadPoolExecutor(max_workers=min(_workers(n_jobs), len(curves))) as pool:
        return list(pool.map(lambda c: _timed_fit(law, c[0], c[1], opts), curves))


def fit_released(law: str, x, y, domain: str | None = None, **options) -> dict:
    """Fit one curve as the authors' released code does (the paper's method).

    Parameters
    ----------
    law : "M1", "M2", "M3" or "M4"
    x, y : the fitting part of the learning curve (x > 0, y > 0)
    domain : "IC", "NMT", "LM" or "BB" -- picks the notebook's M4 call (eps0, update_eps0,
        up_bound); needed for M4 unless ``eps0`` is passed.
    **options : see :data:`DEFAULTS` (lr, gd_iterations, gd_epochs, newton_lr, newton_steps, tol,
        stop_after, max_iterations, walk, and for M2 lo_bound); M3 takes tol and max_iterations;
        M4 also eps0, update_eps0, up_bound and update_alpha. Unknown or unused options raise
        ValueError.

    Returns
    -------
    dict with ``params`` (package conventions, c <= 0 for every law: M1 beta, c; M2 + eps_inf;
    M3 beta, c, gamma; M4 beta, c, eps_inf, eps0, alpha), ``loss`` (Eq. 4/5 training loss),
    ``n_iter`` (outer rounds run), ``converged`` (stopped by the ``|delta beta|`` rule rather than by
    max_iterations) and ``seconds``.
    """
    opts = options_for(law, domain, **options)
    px, py = _fitting_points(x, y, law)
    return _timed_fit(law, px, py, opts)


def predict_released(law: str, params: dict, x, grid_size: int = PREDICT_GRID) -> np.ndarray:
    """Predictions of the released code for fitted ``params`` (as returned by :func:`fit_released`).

    M4 is solved as the released code does: the best of ``grid_size`` evenly spaced values of the
    excess loss on ``[0, eps0 - eps_inf]``, or ``eps_inf + beta x^c`` when ``|alpha| < 1e-5``.
    The smallest residual sits at one of the two grid points around the exact root, so a
    prediction is off by up to one grid step ``(eps0 - eps_inf) / (grid_size - 1)`` (about 1e-4
    for error rates); :meth:`scaling.laws.M4.predict` gives the exact root.
    """
    x = as_positive_array(x, "x")
    p = params
    if law == "M1":
        return p["beta"] * x ** p["c"]
    if law == "M2":
        return p["eps_inf"] + p["beta"] * x ** p["c"]
    if law == "M3":
        return p["beta"] * (1.0 / x + p["gamma"]) ** (-p["c"])
    if law != "M4":
        raise ValueError(f"unknown law {law!r}; choose one of {list(LAWS_RELEASED)}.")
    if int(grid_size) != grid_size or grid_size < 2:
        raise ValueError(f"grid_size must be an integer >= 2, got {grid_size!r}.")
    e, alpha = p["eps_inf"], p["alpha"]
    f = p["beta"] * x ** p["c"]
    if abs(alpha) < ALPHA_ZERO:
        return e + f
    bgap = p["eps0"] - e
    grid = np.linspace(0.0, bgap, int(grid_size))
    tail = (bgap - grid) ** alpha  # (grid,)
    out = np.empty_like(x)
    chunk = max(1, 2_000_000 // grid.size)
    for s in range(0, x.size, chunk):
        resid = np.abs(grid[None, :] - f[s:s + chunk, None] * tail[None, :])
        out[s:s + chunk] = e + grid[np.argmin(resid, axis=1)]
    return out


def standard_error(y_true, y_pred, method: str = "released", n_boot: int = 2000, seed: int = 0) -> float:
    """The "±" of an extrapolation RMSE under several definitions.

    * ``"released"`` -- the released notebook's ``sqrt(mu + std(e)/sqrt(n)) - sqrt(mu)`` with ddof 0
      (:func:`scaling.evaluate.rmse_standard_error`), ``e`` the squared log errors, ``mu`` their mean;
    * ``"ddof1"`` -- the same with the sample standard deviation (ddof 1);
    * ``"delta"`` -- the delta method on the RMSE scale: ``std(e, ddof=1) / (2 sqrt(n mu))``;
    * ``"bootstrap"`` -- the standard deviation of the RMSE over ``n_boot`` resamples of the
      held-out points (seeded).

    With one held-out point every definition gives 0.
    """
    if method == "released":
        return rmse_standard_error(y_true, y_pred)
    if method not in SE_METHODS:
        raise ValueError(f"unknown standard-error method {method!r}; choose one of {SE_METHODS}.")
    extrapolation_rmse(y_true, y_pred)  # validates the inputs
    e = (np.log(np.asarray(y_pred, float)) - np.log(np.asarray(y_true, float))) ** 2
    n = e.size
    if n < 2:
        return 0.0
    mu = e.mean()
    if method == "ddof1":
        return float(np.sqrt(mu + e.std(ddof=1) / np.sqrt(n)) - np.sqrt(mu))
    if method == "delta":
        return float(e.std(ddof=1) / (2.0 * np.sqrt(n * mu))) if mu > 0 else 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    return float(np.sqrt(e[idx].mean(axis=1)).std(ddof=1))


_EXTRA = ["n_iter", "se_ddof1", "se_delta", "se_bootstrap"]


def _curves_of(bench, domains):
    curves = curve_list(bench)
    if domains is not None:
        domains = [domains] if isinstance(domains, str) else list(domains)
        curves = [c for c in curves if c.domain in domains]
    if not curves:
        raise ValueError(f"no curves to fit (domains={domains}).")
    return curves


#: The LM fitting cut under which the paper's Table 2 is reproduced (M1 5/5 cells; see the book):
#: one common tau for all five LM curves, half the largest x of the shortest curve (1.07e+09,
#: 141,924,761,600 tokens), instead of each curve's own split in the CSV. It keeps 11, 11, 27,
#: 27 and 11 of the 11, 12, 59, 39 and 11 fitting points; the held-out points stay as in the CSV.
#: ``[c.with_fit_part(LM_TABLE2_FIT_X_MAX) for c in bench.by_domain("LM")]`` is that split.
LM_TABLE2_FIT_X_MAX = 70_962_380_800.0


def rescore(results: pd.DataFrame, bench) -> pd.DataFrame:
    """Score the fitted parameters of ``results`` again on the held-out points of ``bench``.

    For instance, fit once on the benchmark without duplicates and rescore on
    ``load_benchmark(drop_duplicates=False)``: the fits are the same (repeated x are fitted once),
    only the standard errors see the repeated held-out rows. Returns a copy of ``results`` with
    ``rmse``, ``se`` and the ``se_*`` columns recomputed.
    """
    out = results.copy()
    index = {(c.domain, c.task, c.model): c for c in _curves_of(bench, None)}
    names = {"M1": ("beta", "c"), "M2": ("beta", "c", "eps_inf"), "M3": ("beta", "c", "gamma"),
             "M4": ("beta", "c", "eps_inf", "eps0", "alpha")}
    for i, row in out.iterrows():
        curve = index.get((row["domain"], str(row["task"]), str(row["model"])))
        if curve is None:
            raise ValueError(f"curve {(row['domain'], row['task'], row['model'])} is not in the given bench.")
        params = {k: float(row[k]) for k in names[row["law"]]}
        if any(np.isnan(v) for v in params.values()):
            continue
        pred = predict_released(row["law"], params, curve.x_test)
        out.loc[i, "rmse"] = extrapolation_rmse(curve.loss_test, pred)
        out.loc[i, "se"] = rmse_standard_error(curve.loss_test, pred)
        for m in ("ddof1", "delta", "bootstrap"):
            out.loc[i, f"se_{m}"] = standard_error(curve.loss_test, pred, m)
    return out


def run_released_benchmark(bench, laws: Iterable[str] = LAWS_RELEASED, domains=None, progress: bool = True,
                           stream=None, n_jobs: int | None = None, extra_se: bool = False,
                           **options) -> pd.DataFrame:
    """Fit every law with the released algorithm on every curve; score the extrapolation.

    ``bench`` is a :class:`scaling.benchmark.Benchmark`, or anything with a ``curves`` list, or a list
    of curves (objects with domain, task, model, x_fit, loss_fit, x_test, loss_test).
    ``domains`` restricts to some domains. ``options`` go to :func:`fit_released`; each law takes
    only those it uses (``lr`` affects M2 and M4, ``update_eps0`` only M4, ...). Fits run on
    ``n_jobs`` threads (default: every core); ``fit_seconds`` is each fit's own wall time.

    Returns one row per (curve, law) with the columns of :func:`scaling.evaluate.run_benchmark`
    (``se`` is the released formula) followed by ``n_iter`` and the standard errors ``se_ddof1``,
    ``se_delta``, ``se_bootstrap`` (see :func:`standard_error`; computed only with ``extra_se=True``,
    else NaN: the bootstrap alone costs about as much as all the fits). A curve that cannot be
    fitted gets NaN scores and its reason in ``error``.
    """
    laws = tuple(laws)
    unknown = [law for law in laws if law not in LAWS_RELEASED]
    if unknown:
        raise ValueError(f"unknown law(s) {unknown}; choose from {list(LAWS_RELEASED)}.")
    unknown_opts = sorted(set(options) - set(_ALL_OPTIONS))
    if unknown_opts:
        raise ValueError(f"unknown option(s) {unknown_opts}; the released algorithm takes {_ALL_OPTIONS}.")
    stream = stream or sys.stderr
    curves = _curves_of(bench, domains)
    jobs = [(curve, law) for curve in curves for law in laws]
    _kernels()

    def run(job):
        curve, law = job
        row = {"domain": curve.domain, "task": curve.task, "model": curve.model, "law": law}
        try:
            opts = options_for(law, curve.domain if law == "M4" else None,
                               **{k: v for k, v in options.items() if k in _LAW_OPTIONS[law]})
            x, y = _fitting_points(curve.x_fit, curve.loss_fit, law)
            fit = _timed_fit(law, x, y, opts)
        except ValueError as exc:
            row.update(rmse=np.nan, se=np.nan, converged=False, train_loss=np.nan, error=str(exc))
            return row
        row.update(fit["params"], fit_seconds=fit["seconds"], converged=fit["converged"],
                   train_loss=fit["loss"], n_iter=fit["n_iter"], error="")
        try:
            pred = predict_released(law, fit["params"], curve.x_test)
            row["rmse"] = extrapolation_rmse(curve.loss_test, pred)
            row["se"] = rmse_standard_error(curve.loss_test, pred)
            if extra_se:
                for m in ("ddof1", "delta", "bootstrap"):
                    row[f"se_{m}"] = standard_error(curve.loss_test, pred, m)
        except ValueError as exc:  # e.g. a non-positive prediction
            row.update(rmse=np.nan, se=np.nan, error=str(exc))
        return row

    rows = []
    with Progress(len(jobs), "released fits", stream, enabled=progress) as bar, \
            ThreadPoolExecutor(max_workers=min(_workers(n_jobs), len(jobs))) as pool:
        for row in pool.map(run, jobs):
            rows.append(row)
            bar.update(1)
    frame = pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS) + ["error"] + _EXTRA)
    frame["objective"] = frame["train_loss"]  # what the released code minimises is its training loss
    return frame


@dataclass(frozen=True)
class ReleasedFit:
    """A law fitted by the released code: its parameters and the released code's own prediction.

    ``predict`` is :func:`predict_released` (M4: the best of 10,000 grid values, as the released
    notebook scores it), so an RMSE computed from it is the released RMSE.  It has the attributes the
    book's plots use: ``name``, ``params_``, ``c_`` and ``predict(x)``.
    """

    name: str
    params_: dict = field(hash=False)

    def __post_init__(self):
        if self.name not in RELEASED_PARAMS:
            raise ValueError(f"the released code fits only {list(RELEASED_PARAMS)}, not {self.name!r}.")
        missing = [p for p in RELEASED_PARAMS[self.name] if p not in self.params_]
        if missing:
            raise ValueError(f"{self.name} needs the parameters {list(RELEASED_PARAMS[self.name])}; missing {missing}.")

    @property
    def law(self) -> str:
        return self.name

    @property
    def c_(self) -> float:
        return float(self.params_["c"])

    def predict(self, x) -> np.ndarray:
        return predict_released(self.name, {p: self.params_[p] for p in RELEASED_PARAMS[self.name]},
                                np.asarray(x, dtype=float))
