r"""The computations behind the paper's Sections 3 and 4: Figures 2, 3 and 4.

The chapters *a synthetic learning curve*, *extrapolation, not interpolation* and *bootstrapped
examples* only call the functions below and draw their output with :mod:`scaling.studies.foundations_plots`.
Every function returns a tidy :class:`pandas.DataFrame` (one row per fit, per exponent or per
evaluation), so that a reader can filter, pivot and plot the results without knowing how they
were computed.

Figure 2: fits on a synthetic learning curve
--------------------------------------------
:func:`figure2_fits` fits M1-M4 to the points of a learning curve with ``x >= cutoff``, for the
paper's cutoffs 0, 100 and 1000. The curve is the error rate of logistic regression on the
noisy unit sphere (:func:`scaling.benchmark.synthetic.logistic_learning_curve`), averaged over seeds.
Two settings need a decision because the paper does not state them:

* ``eps0``, M4's random-guessing loss. The loss is a misclassification rate of a binary
  problem, so guessing scores 0.5; we fix ``eps0 = 0.5`` (:data:`FIGURE2_EPS0`).
* the starting point of the search for ``eps_inf`` (M2 and M4). The squared-log loss of the
  paper (Eq. 4) has, on these curves, a second valley at ``eps_inf = 0`` (where M2 *is* M1)
  that is often deeper than the valley near the Bayes risk. The paper's solver descends from
  just below the smallest loss and stays in the valley near the Bayes risk; ``search="local"``
  (:data:`FIGURE2_SEARCH`) does the same. :func:`figure2_fits` takes ``search`` so that the
  chapter can show both.

:func:`asymptotic_excess_risk` gives the large-``n`` excess risk of the maximum-likelihood
classifier in closed form (a sandwich-covariance calculation, see its docstring); it falls like
``n**-0.5``, the theoretical slope against which the fitted exponents are judged.

Figure 3: the exponent that fits best is not the one that extrapolates best
---------------------------------------------------------------------------
:func:`fixed_exponent_sweep` fits M2 with its exponent ``c`` fixed on a grid (``beta`` and
``eps_inf`` refitted at every ``c``) on one window of a learning curve and measures the RMSE of
Eq. 6 on that window (*interpolation*) and on a later one (*extrapolation*). The windows are
given in examples seen, from the curve's ``x`` and ``loss``; the benchmark's ``Training`` flag
is not used (the paper's Section 4 example has its own windows).

Figure 4: bootstrapped examples
-------------------------------
:func:`bootstrap_curves` runs multi-pass SGD on nested subsets of the synthetic problem
(:func:`scaling.benchmark.synthetic.sgd_multi_pass_curve`) and on fresh data; :func:`departures` says where
each subset's curve leaves the fresh-data curve.

Ledger
------
Importing this module registers producers for ``"Figure 2"`` and ``"Figure 3"`` with
:func:`scaling.ledger.register_producer` (see :data:`LEDGER_PRODUCERS`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import integrate, special

from ..cache import cached_result
from ..evaluate import extrapolation_rmse
from ..laws.paper import M1, M2, M3, M4, PAPER_LAWS
from ..benchmark.synthetic import logistic_learning_curve, population_optimum, sgd_multi_pass_curve

__all__ = [
    "FIGURE2_CUTOFFS", "FIGURE2_EPS0", "FIGURE2_SEARCH", "FIGURE2_CURVE", "THEORY_EXPONENT",
    "FIGURE3_CURVE", "FIGURE3_FIT_RANGE", "FIGURE3_TEST_RANGE", "FIGURE3_C_GRID",
    "FIGURE3_LEFT_CS", "FIGURE3_MIDDLE_CS",
    "FIGURE4_SUBSETS", "FIGURE4_SGD",
    "figure2_curve", "mean_curve", "figure2_fits", "figure2_seed_fits", "figure2_items",
    "asymptotic_excess_risk", "local_slope",
    "fixed_exponent_sweep", "sweep_minima", "window_sensitivity", "figure3_items",
    "bootstrap_curves", "departures",
    "LEDGER_PRODUCERS",
]

# ---------------------------------------------------------------------------------------------
# Figure 2
# ---------------------------------------------------------------------------------------------

#: The three cutoffs of the paper's Figure 2: fit only the points with x >= cutoff.
FIGURE2_CUTOFFS = (0, 100, 1000)
#: M4's random-guessing loss for a binary error rate.
FIGURE2_EPS0 = 0.5
#: How M2 and M4 search eps_inf on the synthetic curves (see the module docstring).
FIGURE2_SEARCH = "local"
#: The synthetic learning curve of the chapter and of the ledger: the paper's d and delta, the
#: 50 sizes of ``DEFAULT_SIZES``, five seeds, one growing training set per seed.
FIGURE2_CURVE = dict(d=100, delta=0.2, seed=0, n_seeds=5, nested=True)
#: The slope of the excess risk of a d-dimensional linear classifier for large n.
THEORY_EXPONENT = -0.5



@cached_result
def figure2_curve(**overrides) -> pd.DataFrame:
    """The per-seed synthetic learning curve of :data:`FIGURE2_CURVE` (``overrides`` change it).

    Returns the frame of :func:`scaling.benchmark.synthetic.logistic_learning_curve`: one row per
    (seed, n) with the exact test ``error`` and ``excess_risk``.
    """
    unknown = sorted(set(overrides) - {"d", "delta", "seed", "n_seeds", "nested", "sizes", "n_jobs"})
    if unknown:
        raise ValueError(f"figure2_curve does not take {unknown}; it takes d, delta, seed, n_seeds, "
                         "nested, sizes and n_jobs.")
    settings = {**FIGURE2_CURVE, **overrides}
    return logistic_learning_curve(**settings)


def mean_curve(curve: pd.DataFrame, value: str = "error") -> pd.DataFrame:
    """One row per training-set size ``n``: mean, standard deviation, min and max over seeds.

    ``curve`` is a per-seed frame (columns ``n``, ``seed`` and ``value``) or already one row
    per ``n`` (then ``std`` is NaN and min = max = mean).
    """
    _require_columns(curve, ("n", value), "curve")
    g = curve.groupby("n", sort=True)[value]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "min": g.min(), "max": g.max(),
                        "n_seeds": g.count()}).reset_index()
    return out


def _require_columns(frame, columns, name):
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}.")


def _figure2_law(name: str, eps0: float, search: str):
    # Figure 2 studies the paper's stated loss, Eq. 4/5, minimised.
    if name == "M1":
        return M1(estimator="eq4")
    if name == "M2":
        return M2(estimator="eq4", search=search)
    if name == "M3":
        return M3(estimator="eq4")
    if name == "M4":
        return M4(eps0=eps0, estimator="eq4", search=search)
    raise ValueError(f"unknown law {name!r}; choose from {PAPER_LAWS}.")


def figure2_fits(curve: pd.DataFrame, cutoffs: Iterable[float] = FIGURE2_CUTOFFS, *,
                 laws: Sequence[str] = PAPER_LAWS, eps0: float = FIGURE2_EPS0,
                 search: str = FIGURE2_SEARCH, value: str = "error") -> pd.DataFrame:
    """Fit each law to the points with ``n >= cutoff``, for each cutoff (the paper's Figure 2).

    Parameters
    ----------
    curve
        A learning curve with columns ``n`` and ``value`` (the error rate by default). Several
        rows per ``n`` (one per seed) are averaged first: the laws are fitted to the mean curve.
    cutoffs
        Keep the points with ``n >= cutoff``; 0 keeps all.
    laws
        Which of M1-M4 to fit.
    eps0
        M4's random-guessing loss (fixed): 0.5 for a binary error rate.
    search
        ``"local"`` (default) or ``"global"``: how M2 and M4 search ``eps_inf`` (see the module
        docstring). M1 and M3 are unaffected.

    Returns
    -------
    DataFrame with one row per (cutoff, law): ``cutoff, law, c, beta, eps_inf, alpha, gamma,
    eps0, n_points, train_loss, converged`` and ``fitted`` (the fitted law object, for
    plotting and prediction). Parameters a law does not have are NaN.
    """
    _require_columns(curve, ("n", value), "curve")
    mean = mean_curve(curve, value)
    x, y = mean["n"].to_numpy(float), mean["mean"].to_numpy(float)
    rows = []
    for cutoff in cutoffs:
        keep = x >= cutoff
        if keep.sum() < 5:
            raise ValueError(f"cutoff {cutoff} leaves {int(keep.sum())} points; a fit needs at least 5.")
        for name in laws:
            law = _figure2_law(name, eps0, search).fit(x[keep], y[keep])
            p = law.params_
            rows.append({"cutoff": cutoff, "law": name, "c": p["c"], "beta": p["beta"],
                         "eps_inf": p.get("eps_inf", np.nan), "alpha": p.get("alpha", np.nan),
                         "gamma": p.get("gamma", np.nan), "eps0": p.get("eps0", np.nan),
                         "n_points": int(keep.sum()), "train_loss": law.loss_,
                         "converged": law.converged_, "fitted": law})
    return pd.DataFrame(rows)


def figure2_seed_fits(curve: pd.DataFrame, cutoffs: Iterable[float] = FIGURE2_CUTOFFS,
                      **kwargs) -> pd.DataFrame:
    """:func:`figure2_fits` on each seed's curve separately (the seed-to-seed spread of ``c``).

    Returns the same columns plus ``seed`` (and without ``fitted``).
    """
    _require_columns(curve, ("n", "seed"), "curve")
    frames = []
    for seed, one in curve.groupby("seed", sort=True):
        fits = figure2_fits(one, cutoffs, **kwargs).drop(columns="fitted")
        fits.insert(0, "seed", seed)
        frames.append(fits)
    return pd.concat(frames, ignore_index=True)


def figure2_items(fits: pd.DataFrame, seed_fits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ledger items ``Figure2/cutoff=<cutoff>/<law>/c`` from :func:`figure2_fits` output.

    With ``seed_fits`` (from :func:`figure2_seed_fits`), ``ours_error`` is the standard error of
    the exponent over seeds (sample standard deviation / sqrt(number of seeds)): how much the
    exponent moves with the random draw of the training sets.
    """
    _require_columns(fits, ("cutoff", "law", "c"), "fits")
    err = {}
    if seed_fits is not None:
        _require_columns(seed_fits, ("cutoff", "law", "c", "seed"), "seed_fits")
        g = seed_fits.groupby(["cutoff", "law"])["c"]
        err = (g.std(ddof=1) / np.sqrt(g.count())).to_dict()
    items = [f"Figure2/cutoff={int(r.cutoff)}/{r.law}/c" for r in fits.itertuples(index=False)]
    errors = [err.get((r.cutoff, r.law), np.nan) for r in fits.itertuples(index=False)]
    return pd.DataFrame({"item": items, "ours": fits["c"].to_numpy(float),
                         "ours_error": np.asarray(errors, float)})


def _sphere_t_mean(f, d: int) -> float:
    """E f(|t|) for t = <w*, x>, x uniform on the sphere S^{d-1} (density of t ∝ (1-t²)^((d-3)/2))."""
    norm = special.beta(0.5, (d - 1) / 2)
    val, _ = integrate.quad(lambda t: 2.0 * f(t) * (1.0 - t * t) ** ((d - 3) / 2), 0.0, 1.0,
                            limit=200, epsabs=0, epsrel=1e-10)
    return val / norm


def asymptotic_excess_risk(n, d: int = 100, delta: float = 0.2) -> np.ndarray:
    r"""Large-``n`` excess risk of the logistic-regression classifier on the noisy sphere.

    The maximum-likelihood estimate is asymptotically normal around the population optimum
    :math:`a^\star\mathbf w^\star` with the sandwich covariance :math:`H^{-1}JH^{-1}/n`. By symmetry
    both matrices are multiples of the identity orthogonally to :math:`\mathbf w^\star` (entries
    :math:`h_\perp` and :math:`j_\perp`), so the orthogonal part of the estimate is a Gaussian
    vector with ``d - 1`` coordinates of variance :math:`j_\perp/(n h_\perp^2)`. Its angle to
    :math:`\mathbf w^\star` is :math:`\theta\approx|\hat{\mathbf w}_\perp|/a^\star`, with mean
    :math:`\sqrt{j_\perp/(n h_\perp^2)}\;\mathbb E\chi_{d-1}/a^\star`, and the excess risk is
    :math:`(1-2\delta)\theta/\pi` (:func:`scaling.benchmark.synthetic.error_from_angle`). Hence

    .. math:: \varepsilon_n-\delta\approx K\,n^{-1/2}.

    Returns the excess risk at each ``n`` (array).
    """
    n = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("n must be positive training-set sizes.")
    return _asymptotic_constant(int(d), float(delta)) * n ** THEORY_EXPONENT


@functools.lru_cache(maxsize=16)
def _asymptotic_constant(d: int, delta: float) -> float:
    from scipy.special import expit

    pop = population_optimum(d, delta)
    a, h_perp = pop["a_star"], pop["h_perp"]
    # per-coordinate variance of the orthogonal part of the score, labels flipped with prob. delta
    j_perp = _sphere_t_mean(lambda t: ((1 - delta) * expit(-a * t) ** 2 + delta * expit(a * t) ** 2)
                            * (1 - t * t), d) / (d - 1)
    k = d - 1
    mean_chi = math.sqrt(2.0) * math.exp(special.gammaln((k + 1) / 2) - special.gammaln(k / 2))
    theta_1 = math.sqrt(j_perp) / h_perp * mean_chi / a      # angle at n = 1
    return (1 - 2 * delta) * theta_1 / math.pi


def local_slope(x, y, window: int = 7) -> np.ndarray:
    """Slope of log y against log x in a sliding window of ``window`` points (NaN at the ends).

    A power law has a constant local slope; the slope of a learning curve's excess risk shows
    where the curve enters its power-law regime.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length.")
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd number >= 3, got {window}.")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive (the slope is taken on the log-log scale).")
    lx, ly, h = np.log(x), np.log(y), window // 2
    out = np.full(x.size, np.nan)
    for i in range(h, x.size - h):
        out[i] = np.polyfit(lx[i - h:i + h + 1], ly[i - h:i + h + 1], 1)[0]
    return out


# ---------------------------------------------------------------------------------------------
# Figure 3
# ---------------------------------------------------------------------------------------------

#: The learning curve of the paper's Section 4: ViT/B/16, ImageNet 10-shot error.
FIGURE3_CURVE = ("IC", "inet_10", "ViT/B/16")
#: Fitting window in examples seen. The paper says "up to 500M"; its panel starts at 10^8.
FIGURE3_FIT_RANGE = (1e8, 5e8)
#: Extrapolation window of the paper's Section 4.
FIGURE3_TEST_RANGE = (1e9, 2e9)
#: The exponent grid: 0, -0.01, ..., -1 (101 values, the paper's resolution).
FIGURE3_C_GRID = np.round(np.linspace(0.0, -1.0, 101), 2)
#: Exponents drawn in the paper's left and middle panels.
FIGURE3_LEFT_CS = (-0.24, -0.28, -0.32, -0.36, -0.40)
FIGURE3_MIDDLE_CS = (-0.01, -0.20, -1.00)


def _window(x, lo, hi, what):
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ValueError(f"{what} must be (low, high) with low <= high, got ({lo}, {hi}).")
    return (x >= lo) & (x <= hi)


def fixed_exponent_sweep(curve, c_grid: Iterable[float] | None = None, *,
                         fit_range: tuple[float, float] = FIGURE3_FIT_RANGE,
                         test_range: tuple[float, float] = FIGURE3_TEST_RANGE) -> pd.DataFrame:
    """M2 with its exponent fixed at each ``c`` of ``c_grid``, fitted on one window, scored on two.

    Parameters
    ----------
    curve
        Anything with arrays ``x`` and ``loss`` (a :class:`scaling.benchmark.LearningCurve`). Its
        ``is_fit`` flag is ignored: the windows below decide which points are used.
    c_grid
        Exponents (each <= 0). Default :data:`FIGURE3_C_GRID` (0 to -1 in steps of 0.01).
    fit_range
        ``(low, high)`` in ``x``: the points used to fit ``beta`` and ``eps_inf`` and to measure
        the interpolation RMSE. Both ends are included.
    test_range
        ``(low, high)`` in ``x``: the points on which the extrapolation RMSE is measured.

    Returns
    -------
    DataFrame, one row per ``c``: ``c, beta, eps_inf, train_loss, interpolation_rmse,
    extrapolation_rmse, converged``, plus ``n_fit`` and ``n_test``. The RMSE is the paper's
    Eq. 6 (natural log).
    """
    x, y = np.asarray(curve.x, float), np.asarray(curve.loss, float)
    fit = _window(x, *fit_range, "fit_range")
    test = _window(x, *test_range, "test_range")
    if fit.sum() < 3:
        raise ValueError(f"fit_range {fit_range} holds {int(fit.sum())} points of the curve; need >= 3.")
    if test.sum() < 1:
        raise ValueError(f"test_range {test_range} holds no point of the curve.")
    grid = FIGURE3_C_GRID if c_grid is None else np.asarray(list(c_grid), float)
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any(grid > 0):
        raise ValueError("c_grid must be a non-empty sequence of finite exponents <= 0.")
    rows = []
    for c in grid:
        law = M2(estimator="eq4", c=float(c)).fit(x[fit], y[fit])
        rows.append({"c": float(c), "beta": law.params_["beta"], "eps_inf": law.params_["eps_inf"],
                     "train_loss": law.loss_,
                     "interpolation_rmse": extrapolation_rmse(y[fit], law.predict(x[fit])),
                     "extrapolation_rmse": extrapolation_rmse(y[test], law.predict(x[test])),
                     "converged": law.converged_, "n_fit": int(fit.sum()), "n_test": int(test.sum())})
    return pd.DataFrame(rows)


def sweep_minima(sweep: pd.DataFrame) -> pd.DataFrame:
    """Where the interpolation and extrapolation RMSE of a sweep are smallest.

    Returns a frame indexed by ``criterion`` (``interpolation``, ``extrapolation``) with columns
    ``argmin_c``, ``min_rmse`` and ``local_minima`` (the exponents of all interior local minima of
    that RMSE curve along the grid, deepest first).
    """
    _require_columns(sweep, ("c", "interpolation_rmse", "extrapolation_rmse"), "sweep")
    s = sweep.sort_values("c", ascending=False, ignore_index=True)
    rows = {}
    for crit in ("interpolation", "extrapolation"):
        r = s[f"{crit}_rmse"].to_numpy(float)
        i = int(np.nanargmin(r))
        inner = np.flatnonzero((r[1:-1] < r[:-2]) & (r[1:-1] < r[2:])) + 1
        inner = inner[np.argsort(r[inner])]
        rows[crit] = {"argmin_c": float(s["c"].iloc[i]), "min_rmse": float(r[i]),
                      "local_minima": [float(s["c"].iloc[j]) for j in inner]}
    out = pd.DataFrame(rows).T
    out.index.name = "criterion"
    return out.astype({"argmin_c": float, "min_rmse": float})


def window_sensitivity(curve, fit_mins: Iterable[float], c_grid: Iterable[float] | None = None, *,
                       fit_max: float = FIGURE3_FIT_RANGE[1],
                       test_range: tuple[float, float] = FIGURE3_TEST_RANGE) -> pd.DataFrame:
    """The two minima of :func:`fixed_exponent_sweep` for several starts of the fitting window.

    Returns one row per ``fit_min``: ``fit_min, n_fit, interpolation_argmin_c,
    interpolation_min_rmse, extrapolation_argmin_c, extrapolation_min_rmse``.
    """
    rows = []
    for lo in fit_mins:
        sweep = fixed_exponent_sweep(curve, c_grid, fit_range=(lo, fit_max), test_range=test_range)
        m = sweep_minima(sweep)
        rows.append({"fit_min": float(lo), "n_fit": int(sweep["n_fit"].iloc[0]),
                     "interpolation_argmin_c": m.loc["interpolation", "argmin_c"],
                     "interpolation_min_rmse": m.loc["interpolation", "min_rmse"],
                     "extrapolation_argmin_c": m.loc["extrapolation", "argmin_c"],
                     "extrapolation_min_rmse": m.loc["extrapolation", "min_rmse"]})
    return pd.DataFrame(rows)


def figure3_items(minima: pd.DataFrame) -> pd.DataFrame:
    """Ledger items ``Figure3/<criterion>/<argmin_c|min_rmse|argmin_c_text>`` from :func:`sweep_minima`.

    ``argmin_c_text`` (the value the paper's text states) is compared with the same computed
    argmin as ``argmin_c`` (the value read off the paper's plot).
    """
    _require_columns(minima.reset_index(), ("criterion", "argmin_c", "min_rmse"), "minima")
    items, values = [], []
    for crit in ("interpolation", "extrapolation"):
        row = minima.loc[crit]
        for key, value in (("argmin_c", row["argmin_c"]), ("min_rmse", row["min_rmse"]),
                           ("argmin_c_text", row["argmin_c"])):
            items.append(f"Figure3/{crit}/{key}")
            values.append(float(value))
    return pd.DataFrame({"item": items, "ours": values, "ours_error": np.nan})


# ---------------------------------------------------------------------------------------------
# Figure 4
# ---------------------------------------------------------------------------------------------

#: Subset sizes of the synthetic analogue: the paper's 12M, 100M, 200M and 300M images, divided
#: by 30,000.
FIGURE4_SUBSETS = (400, 3_333, 6_667, 10_000)
#: SGD settings of the analogue: 30,000 steps of 10 examples (3 x 10^5 examples seen, i.e. 30
#: passes over the largest subset and 750 over the smallest), d = 200, delta = 0.2, lr = 1.
FIGURE4_SGD = dict(total_steps=30_000, batch_size=10, d=200, delta=0.2, lr=1.0, seed=0)


@cached_result
def bootstrap_curves(subset_sizes: Iterable[int] = FIGURE4_SUBSETS, *, fresh: bool = True,
                     record_train: Iterable[int] = (), **sgd) -> pd.DataFrame:
    """Multi-pass SGD on nested subsets (and on fresh data): test error against examples seen.

    ``sgd`` overrides :data:`FIGURE4_SGD` (keys of :func:`scaling.benchmark.synthetic.sgd_multi_pass_curve`).
    All runs share one seed, so each subset is a prefix of the larger ones and of the fresh-data
    stream: during its first pass a subset sees exactly the mini-batches of the fresh-data run.
    ``record_train`` lists subset sizes whose training error is recorded as well.

    Returns a tidy frame: ``subset`` (the size as a string, or ``"fresh"``), ``subset_size``
    (NaN for fresh data), ``examples_seen``, ``epochs``, ``error``, ``accuracy`` (1 - error) and
    ``train_error`` (NaN where not recorded).
    """
    settings = {**FIGURE4_SGD, **sgd}
    unknown = sorted(set(settings) - {"total_steps", "batch_size", "d", "delta", "lr", "seed",
                                      "eval_every", "l2"})
    if unknown:
        raise ValueError(f"bootstrap_curves does not take {unknown}.")
    sizes = [int(s) for s in subset_sizes]
    record = {int(s) for s in record_train}
    if not record <= set(sizes):
        raise ValueError(f"record_train {sorted(record)} must be among the subset sizes {sizes}.")
    runs = [(str(s), s) for s in sizes] + ([("fresh", None)] if fresh else [])
    frames = []
    for label, size in runs:
        df = sgd_multi_pass_curve(size, record_train=size in record, **settings)
        df.insert(0, "subset", label)
        df.insert(1, "subset_size", np.nan if size is None else float(size))
        df["accuracy"] = 1.0 - df["error"]
        if "train_error" not in df:
            df["train_error"] = np.nan
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    return out[["subset", "subset_size", "step", "examples_seen", "epochs", "error", "accuracy",
                "train_error"]]


def departures(curves: pd.DataFrame, tol: float = 0.005) -> pd.DataFrame:
    """Where each subset's curve leaves the fresh-data curve, and where it is best.

    ``curves`` is the output of :func:`bootstrap_curves` (with ``fresh=True``). A subset
    *departs* at the first evaluation where its test error differs from the fresh-data error
    at the same number of examples seen by more than ``tol``.

    Returns one row per subset: ``subset_size, departs_at`` (examples seen; NaN if never),
    ``departs_at_epochs``, ``best_error``, ``best_at`` (examples seen), ``best_at_epochs``,
    ``final_error``, ``fresh_final_error`` and ``rise_after_best`` (final minus best error; a
    positive value means the subset overfits).
    """
    _require_columns(curves, ("subset", "subset_size", "examples_seen", "error"), "curves")
    fresh = curves[curves["subset"] == "fresh"].set_index("examples_seen")["error"]
    if fresh.empty:
        raise ValueError("curves has no fresh-data run; call bootstrap_curves(..., fresh=True).")
    rows = []
    for label, run in curves[curves["subset"] != "fresh"].groupby("subset", sort=False):
        size = float(run["subset_size"].iloc[0])
        run = run.set_index("examples_seen")
        common = run.index.intersection(fresh.index)
        gap = (run.loc[common, "error"] - fresh.loc[common]).abs()
        off = gap.index[gap.to_numpy() > tol]
        departs = float(off[0]) if len(off) else np.nan
        best = run["error"].idxmin()
        rows.append({"subset_size": size, "departs_at": departs, "departs_at_epochs": departs / size,
                     "best_error": float(run["error"].min()), "best_at": float(best),
                     "best_at_epochs": float(best) / size, "final_error": float(run["error"].iloc[-1]),
                     "fresh_final_error": float(fresh.iloc[-1]),
                     "rise_after_best": float(run["error"].iloc[-1] - run["error"].min())})
    return pd.DataFrame(rows).sort_values("subset_size", ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Ledger producers
# ---------------------------------------------------------------------------------------------

def _produce_figure2() -> pd.DataFrame:
    curve = figure2_curve()
    return figure2_items(figure2_fits(curve), figure2_seed_fits(curve))


def _produce_figure3() -> pd.DataFrame:
    from ..benchmark.data import load_benchmark

    curve = load_benchmark().curve(*FIGURE3_CURVE)
    return figure3_items(sweep_minima(fixed_exponent_sweep(curve)))


#: The producers this module registers with :mod:`scaling.ledger.core`, by paper source.
LEDGER_PRODUCERS = {"Figure 2": _produce_figure2, "Figure 3": _produce_figure3}


def _register() -> None:
    from ..ledger import core as ledger

    for source, func in LEDGER_PRODUCERS.items():
        if func not in ledger.producers().get(source, []):
            ledger.register_producer(source)(func)


_register()
