"""How long a fit takes: every law of :data:`scaling.laws.LAWS` against the released algorithm.

Three measurements, all with :func:`time.perf_counter` (wall time, so they depend on the machine
and on whatever else it is running):

1. :func:`time_our_fits` -- our estimator of each law on benchmark curves: one untimed warm-up
   fit per law, then every (curve, law) cell is timed; a cell is repeated while its runs so far
   took less than ``fast_below`` seconds in all (up to ``repeats`` runs) and the median kept:
   fast fits are noisy and cheap to repeat.
   The timed unit is what a benchmark cell costs: the fit on the fitting part plus the
   prediction of the held-out points.
2. :func:`time_released_fits` -- the same cells with our reimplementation of the released
   algorithm (:mod:`scaling.released`: M1-M4 only, one curve at a time, as the released notebook
   fits them). :func:`compare_methods` puts both side by side, with ``ratio = released / ours``.
3. :func:`time_vs_points` -- how cost grows with the number ``n`` of fitted points, on seeded
   synthetic M4-shaped curves (:func:`synthetic_curve`). Our laws are timed for a complete fit.
   A complete released M2/M4 fit at large ``n`` would take minutes, so the released side is timed
   per *outer round* on a shortened run (M2/M4: rounds of 1,000 gradient steps, exactly the first
   rounds of the released schedule; M3: rounds of its coordinate search); M1 is one least-squares
   solve and is timed whole. :func:`time_predictions` times M4's prediction (our root finder
   against the released 10,000-point grid). :func:`growth_slopes` fits the log-log slope.

:func:`main` is ``python -m scaling perf``: a benchmark that prints its figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Sequence

import numpy as np
import pandas as pd

from .laws import LAWS, M4, law_for_domain, resolve_law_name
from .released import LAWS_RELEASED, fit_released, predict_released

__all__ = [
    "TIMING_COLUMNS", "DEFAULT_SIZES", "SYNTHETIC_TRUTH", "METHODS",
    "timing_subset", "time_our_fits", "time_released_fits", "compare_methods", "summarize_timings",
    "summarize_comparison", "benchmark_totals", "synthetic_curve", "time_vs_points", "time_predictions",
    "growth_slopes", "plot_time_vs_points", "plot_fit_times", "format_comparison", "format_slopes", "format_ratio",
    "main",
]

METHODS = ("ours", "released")
#: Columns of :func:`time_our_fits` and :func:`time_released_fits` (one row per curve and law).
TIMING_COLUMNS = ["method", "domain", "task", "model", "label", "n_fit", "law", "seconds", "seconds_min",
                  "seconds_max", "fit_seconds", "predict_seconds", "repeats", "n_iter", "converged", "error"]
DOMAIN_ORDER = ("IC", "NMT", "LM", "BB")
#: Numbers of fitted points of the growth measurement.
DEFAULT_SIZES = (10, 30, 100, 300, 1000, 3000)
#: The synthetic curve: M4 with parameters close to our fit of an image-classification curve
#: (Birds 200 10-shot, BiT/50/1), over the same range of x; seeded multiplicative noise.
SYNTHETIC_TRUTH = dict(beta=3731.0, c=-0.49, eps_inf=0.29, eps0=0.97, alpha=0.15)
SYNTHETIC_X_RANGE = (4e6, 4e9)
SYNTHETIC_NOISE = 0.005
# The synthetic curves are error rates, so they are fitted as image-classification curves.
SYNTHETIC_DOMAIN = "IC"
# Laws whose released fit is an iteration of rounds (timed per round by time_vs_points).
_ROUND_LAWS = ("M2", "M3", "M4")
#: A cell is repeated (up to ``repeats`` runs) while its runs so far took less than this in all.
FAST_BELOW = 0.025


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------

def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_seconds(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}.") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}.")
    return value


def _our_laws(laws) -> tuple[str, ...]:
    if laws is None:
        return tuple(LAWS)
    if isinstance(laws, str):
        laws = [laws]
    names = tuple(resolve_law_name(name) for name in laws)  # ValueError for an unknown name
    if not names:
        raise ValueError(f"no laws to time; pass some of {list(LAWS)} (or None for all).")
    return names


def _released_laws(laws) -> tuple[str, ...]:
    if laws is None:
        return LAWS_RELEASED
    if isinstance(laws, str):
        laws = [laws]
    names = []
    for name in laws:
        known = {k.lower(): k for k in LAWS_RELEASED}
        if not isinstance(name, str) or name.strip().lower() not in known:
            raise ValueError(f"the released algorithm fits only {list(LAWS_RELEASED)}, not {name!r}.")
        names.append(known[name.strip().lower()])
    if not names:
        raise ValueError(f"no laws to time; pass some of {list(LAWS_RELEASED)} (or None for all).")
    return tuple(names)


def _curves(curves) -> list:
    curves = list(curves.curves) if hasattr(curves, "curves") else list(curves)
    if not curves:
        raise ValueError("no curves to time: pass a Benchmark or a non-empty list of learning curves.")
    needed = ("domain", "task", "model", "x_fit", "loss_fit", "x_test", "loss_test")
    for c in curves:
        missing = [a for a in needed if not hasattr(c, a)]
        if missing:
            raise ValueError(f"{c!r} is not a learning curve: it lacks {missing}.")
    return curves


def _label(curve) -> str:
    return str(getattr(curve, "label", f"{curve.task} ({curve.model})"))


def timing_subset(curves, per_domain: int | dict = 1) -> list:
    """The first ``per_domain`` curves of each domain, in benchmark order (a deterministic subset).

    ``per_domain`` is one count for every domain or a dict ``{domain: count}`` (domains left out
    contribute no curve). A domain with fewer curves gives all of them.
    """
    curves = _curves(curves)
    domains = list(dict.fromkeys(c.domain for c in curves))
    if isinstance(per_domain, dict):
        unknown = sorted(set(per_domain) - set(domains))
        if unknown:
            raise ValueError(f"unknown domain(s) {unknown}; the curves have {domains}.")
        counts = {d: _check_count(per_domain.get(d, 0), f"per_domain[{d!r}]", 0) for d in domains}
    else:
        counts = dict.fromkeys(domains, _check_count(per_domain, "per_domain"))
    taken = dict.fromkeys(domains, 0)
    out = []
    for c in curves:
        if taken[c.domain] < counts[c.domain]:
            out.append(c)
            taken[c.domain] += 1
    if not out:
        raise ValueError(f"per_domain={per_domain!r} selects no curve.")
    return out


# ---------------------------------------------------------------------------------------------
# Timing one call
# ---------------------------------------------------------------------------------------------

def _timed(fn, repeats: int, fast_below: float):
    """Run ``fn`` once, then again while the runs so far took less than ``fast_below`` seconds in
    all, up to ``repeats`` runs: fast calls are noisy and cheap to repeat, slow ones are timed once.

    ``fn`` returns ``(fit_seconds, predict_seconds, info)``. Returns lists of the fit and predict
    times and the info of the last run.
    """
    fits, preds, spent = [], [], 0.0
    for _ in range(repeats):
        fit_s, pred_s, info = fn()
        fits.append(fit_s)
        preds.append(pred_s)
        spent += fit_s + pred_s
        if spent >= fast_below:
            break
    return fits, preds, info


def _row(method, curve, law, fits, preds, n_iter=np.nan, converged=None, error=""):
    totals = [f + p for f, p in zip(fits, preds)]
    return dict(method=method, domain=curve.domain, task=str(curve.task), model=str(curve.model),
                label=_label(curve), n_fit=int(np.size(curve.x_fit)), law=law,
                seconds=statistics.median(totals), seconds_min=min(totals), seconds_max=max(totals),
                fit_seconds=statistics.median(fits), predict_seconds=statistics.median(preds),
                repeats=len(totals), n_iter=n_iter, converged=converged, error=error)


def _failed_row(method, curve, law, error):
    row = _row(method, curve, law, [np.nan], [np.nan], converged=False, error=error)
    row.update(seconds=np.nan, seconds_min=np.nan, seconds_max=np.nan, repeats=0)
    return row


def _progress(stream, text):
    if stream is not None:
        print(text, file=stream, flush=True)


def time_our_fits(curves, laws=None, repeats: int = 5, fast_below: float = FAST_BELOW, progress: bool = False,
                  stream=None) -> pd.DataFrame:
    """Time our fit (plus held-out prediction) of each law on each curve.

    ``curves``: a :class:`scaling.data.Benchmark` or a list of curves; ``laws``: names (default
    every registered law, :data:`scaling.laws.LAWS`). A cell is repeated while its runs so far took
    less than ``fast_below`` seconds in all, up to ``repeats`` runs; ``seconds`` is the median,
    ``seconds_min``/``seconds_max`` the spread of the repeats. Each law is first fitted once,
    untimed, as a warm-up. A fit that raises ValueError gets NaN times and its message in
    ``error``. Columns: :data:`TIMING_COLUMNS`.
    """
    curves, laws = _curves(curves), _our_laws(laws)
    repeats = _check_count(repeats, "repeats")
    fast_below = _check_seconds(fast_below, "fast_below")
    stream = (stream or sys.stderr) if progress else None
    for law in laws:  # warm-up: imports, caches and first-call costs stay out of the figures
        try:
            law_for_domain(law, curves[0].domain).fit(curves[0].x_fit, curves[0].loss_fit)
        except ValueError:
            pass
    rows, start = [], time.perf_counter()
    for k, curve in enumerate(curves, 1):
        for law in laws:
            def one(law=law, curve=curve):
                t0 = time.perf_counter()
                fitted = law_for_domain(law, curve.domain).fit(curve.x_fit, curve.loss_fit)
                t1 = time.perf_counter()
                fitted.predict(curve.x_test)
                return t1 - t0, time.perf_counter() - t1, fitted
            try:
                fits, preds, fitted = _timed(one, repeats, fast_below)
                rows.append(_row("ours", curve, law, fits, preds, converged=bool(fitted.converged_)))
            except ValueError as exc:
                rows.append(_failed_row("ours", curve, law, str(exc)))
        if k % max(1, len(curves) // 4) == 0 or k == len(curves):
            _progress(stream, f"  ours: {k:3d}/{len(curves)} curves x {len(laws)} laws in "
                              f"{time.perf_counter() - start:6.1f} s")
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


def time_released_fits(curves, laws=None, repeats: int = 3, fast_below: float = FAST_BELOW, progress: bool = False,
                       stream=None, **options) -> pd.DataFrame:
    """Time our reimplementation of the released algorithm (fit plus prediction) on each curve.

    Same arguments and columns as :func:`time_our_fits`; ``laws`` defaults to M1-M4, the only
    laws the released code has; ``n_iter`` is the number of outer rounds the fit ran.
    ``options`` go to :func:`scaling.released.fit_released` (each law takes those it uses), e.g.
    a shortened schedule for a quick check. Curves are fitted one at a time, as the released
    notebook does (not as a vectorised batch), so a row is the cost of one fit.
    """
    curves, laws = _curves(curves), _released_laws(laws)
    repeats = _check_count(repeats, "repeats")
    fast_below = _check_seconds(fast_below, "fast_below")
    stream = (stream or sys.stderr) if progress else None
    from .released import law_options  # which options each law takes (so one **options serves all laws)

    def opts(law):
        return {k: v for k, v in options.items() if k in law_options(law)}

    c0 = curves[0]
    for law in laws:  # warm-up on a very short schedule
        short = dict(max_iterations=1, gd_epochs=5, newton_steps=5) if law in ("M2", "M4") else {}
        if law == "M3":
            short = dict(max_iterations=1)
        try:
            fit_released(law, c0.x_fit, c0.loss_fit, c0.domain, **{**opts(law), **short})
        except ValueError:
            pass
    rows, start, total = [], time.perf_counter(), len(curves) * len(laws)
    done = 0
    for curve in curves:
        for law in laws:
            def one(law=law, curve=curve):
                t0 = time.perf_counter()
                fit = fit_released(law, curve.x_fit, curve.loss_fit, curve.domain, **opts(law))
                t1 = time.perf_counter()
                predict_released(law, fit["params"], curve.x_test)
                return t1 - t0, time.perf_counter() - t1, fit
            t_cell = time.perf_counter()
            try:
                fits, preds, fit = _timed(one, repeats, fast_below)
                rows.append(_row("released", curve, law, fits, preds, n_iter=int(fit["n_iter"]),
                                 converged=bool(fit["converged"])))
            except ValueError as exc:
                rows.append(_failed_row("released", curve, law, str(exc)))
            done += 1
            cell = time.perf_counter() - t_cell
            if cell > 1.0 or done == total:  # report the slow fits, which are the long steps
                _progress(stream, f"  released {law} {done:3d}/{total} {curve.domain}/{_label(curve)}: "
                                  f"{cell:6.2f} s (total {time.perf_counter() - start:6.1f} s)")
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def _check_timings(frame, name="timings"):
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be the DataFrame of time_our_fits() or time_released_fits().")
    missing = sorted({"method", "domain", "task", "model", "law", "seconds"} - set(frame.columns))
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; pass the frame of time_our_fits() or "
                         "time_released_fits().")


def _domain_sorted(frame: pd.DataFrame, by_domain: bool) -> pd.DataFrame:
    """Rows in the order of LAWS (then IC, NMT, LM, BB when ``by_domain``); unknown names last."""
    law_rank = {k: i for i, k in enumerate(LAWS)}
    domain_rank = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    ranks = frame.assign(_l=frame["law"].map(lambda k: law_rank.get(k, len(law_rank))))
    keys = ["_l"]
    if by_domain:
        ranks["_d"] = frame["domain"].map(lambda d: domain_rank.get(d, len(domain_rank)))
        keys.append("_d")
    return ranks.sort_values(keys, kind="stable").drop(columns=keys)


def compare_methods(ours: pd.DataFrame, released: pd.DataFrame) -> pd.DataFrame:
    """Our time and the released time of every (curve, law) cell that both timed successfully.

    Returns columns domain, task, model, label, n_fit, law, ours_ms, released_ms, ratio
    (``released_ms / ours_ms``: how many times longer the released algorithm takes), n_iter
    (released outer rounds) and released_converged. Raises ValueError if no cell is common.
    """
    _check_timings(ours, "ours")
    _check_timings(released, "released")
    key = ["domain", "task", "model", "law"]
    a = ours.dropna(subset=["seconds"])
    b = released.dropna(subset=["seconds"])
    merged = a.merge(b[key + ["seconds", "n_iter", "converged"]], on=key, suffixes=("_ours", "_released"))
    if merged.empty:
        raise ValueError("ours and released have no (curve, law) cell in common: time the same curves "
                         f"and at least one of {list(LAWS_RELEASED)} with both methods.")
    out = pd.DataFrame({
        "domain": merged["domain"], "task": merged["task"], "model": merged["model"],
        "label": merged["label"], "n_fit": merged["n_fit"], "law": merged["law"],
        "ours_ms": 1e3 * merged["seconds_ours"], "released_ms": 1e3 * merged["seconds_released"],
    })
    out["ratio"] = out["released_ms"] / out["ours_ms"]
    out["n_iter"] = merged["n_iter_released"].to_numpy()
    out["released_converged"] = merged["converged_released"].to_numpy()
    return out.reset_index(drop=True)


def _spread(series: pd.Series) -> dict:
    s = series.dropna()
    if s.empty:
        return dict(median=np.nan, q25=np.nan, q75=np.nan)
    return dict(median=float(s.median()), q25=float(s.quantile(0.25)), q75=float(s.quantile(0.75)))


def summarize_timings(timings: pd.DataFrame, by_domain: bool = False) -> pd.DataFrame:
    """Per method and law (and domain): fits, median ms per fit with its quartiles, total seconds.

    ``q25_ms``/``q75_ms`` are the quartiles over curves (the spread between curves);
    ``total_s`` is the sum over curves of the per-fit medians (one pass over those curves).
    """
    _check_timings(timings)
    groups = ["method", "law"] + (["domain"] if by_domain else [])
    rows = []
    for keys, g in timings.groupby(groups, sort=False):
        s = _spread(1e3 * g["seconds"])
        rows.append(dict(zip(groups, keys), fits=int(g["seconds"].notna().sum()),
                         failed=int(g["seconds"].isna().sum()), median_ms=s["median"], q25_ms=s["q25"],
                         q75_ms=s["q75"], total_s=float(g["seconds"].sum())))
    out = pd.DataFrame(rows)
    return _domain_sorted(out, by_domain).reset_index(drop=True)


def summarize_comparison(comparison: pd.DataFrame, by_domain: bool = False) -> pd.DataFrame:
    """Per law (and domain), over the common cells: median ms of each method and their ratio.

    ``ratio`` is the ratio of the two medians; ``ratio_min``/``ratio_max`` the range of the
    per-curve ratios; ``ours_s``/``released_s`` the summed times (one pass over those curves).
    """
    needed = {"law", "ours_ms", "released_ms", "ratio"}
    if not isinstance(comparison, pd.DataFrame) or needed - set(comparison.columns):
        raise ValueError("pass the DataFrame returned by compare_methods().")
    groups = ["law"] + (["domain"] if by_domain else [])
    rows = []
    for keys, g in comparison.groupby(groups, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        ours, rel = float(g["ours_ms"].median()), float(g["released_ms"].median())
        rows.append(dict(zip(groups, keys), curves=len(g), ours_ms=ours, released_ms=rel, ratio=rel / ours,
                         ratio_min=float(g["ratio"].min()), ratio_max=float(g["ratio"].max()),
                         ours_s=float(g["ours_ms"].sum() / 1e3), released_s=float(g["released_ms"].sum() / 1e3)))
    out = pd.DataFrame(rows)
    return _domain_sorted(out, by_domain).reset_index(drop=True)


def _n_curves(frame: pd.DataFrame) -> int:
    return int(frame[["domain", "task", "model"]].drop_duplicates().shape[0])


def benchmark_totals(timings: pd.DataFrame) -> pd.DataFrame:
    """Seconds for one pass of each method over the curves it timed: per law and in all.

    Rows: one per (method, law) plus a row ``law="all"`` per method. Columns method, law, curves,
    fits, total_s.
    """
    _check_timings(timings)
    rows = []
    for method, g in timings.groupby("method", sort=False):
        for law, h in g.groupby("law", sort=False):
            rows.append(dict(method=method, law=law, curves=_n_curves(h), fits=int(h["seconds"].notna().sum()),
                             total_s=float(h["seconds"].sum())))
        rows.append(dict(method=method, law="all", curves=_n_curves(g), fits=int(g["seconds"].notna().sum()),
                         total_s=float(g["seconds"].sum())))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Cost against the number of points
# ---------------------------------------------------------------------------------------------

def synthetic_curve(n: int, seed: int = 0, truth: dict | None = None, noise: float = SYNTHETIC_NOISE):
    """``n`` log-spaced points of an M4 curve with seeded multiplicative noise: ``(x, loss)``.

    The default ``truth`` (:data:`SYNTHETIC_TRUTH`) resembles an image-classification curve, an
    error rate between about 0.36 and 0.97; losses are capped at 0.99 so that the released bound
    ``eps0 <= 1.001`` stays feasible. The same ``seed`` gives the same curve.
    """
    n = _check_count(n, "n", 5)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}.")
    law = M4.from_params(**(truth or SYNTHETIC_TRUTH))
    x = np.logspace(np.log10(SYNTHETIC_X_RANGE[0]), np.log10(SYNTHETIC_X_RANGE[1]), n)
    rng = np.random.default_rng(seed)
    y = np.minimum(law.predict(x) * np.exp(rng.normal(0.0, noise, n)), 0.99)
    return x, y


def _check_sizes(sizes) -> tuple[int, ...]:
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"sizes must be a list of point counts, got {sizes!r}.") from None
    if len(sizes) < 2:
        raise ValueError(f"give at least two sizes to see how cost grows, got {sizes!r}.")
    return tuple(_check_count(n, "every size", 5) for n in sizes)


def time_vs_points(sizes: Sequence[int] = DEFAULT_SIZES, laws=None, released: bool = True,
                   released_laws=None, repeats: int = 3, fast_below: float = FAST_BELOW, released_rounds: int = 2,
                   seed: int = 0, progress: bool = False, stream=None) -> pd.DataFrame:
    """Time one fit of each law on synthetic curves of ``sizes`` points (:func:`synthetic_curve`).

    Our laws: a complete fit (as image-classification curves). Released (if ``released``): M1 a
    complete fit; M2, M3, M4 a shortened run of ``released_rounds`` outer rounds, the first rounds
    of the released schedule (M2/M4: gradient rounds of 1,000 steps each). Returns columns n, law,
    method, unit ("fit" or "round"), seconds (median over repeats; per round for unit "round"),
    seconds_min, seconds_max, rounds (rounds run; 1 for a complete fit of ours).
    """
    sizes, laws = _check_sizes(sizes), _our_laws(laws)
    rel_laws = _released_laws(released_laws) if released else ()
    repeats = _check_count(repeats, "repeats")
    released_rounds = _check_count(released_rounds, "released_rounds")
    fast_below = _check_seconds(fast_below, "fast_below")
    stream = (stream or sys.stderr) if progress else None
    x0, y0 = synthetic_curve(sizes[0], seed)
    for law in laws:  # warm-up
        law_for_domain(law, SYNTHETIC_DOMAIN).fit(x0, y0)
    rows, start = [], time.perf_counter()
    for n in sizes:
        x, y = synthetic_curve(n, seed)
        for law in laws:
            def one(law=law):
                t0 = time.perf_counter()
                law_for_domain(law, SYNTHETIC_DOMAIN).fit(x, y)
                return time.perf_counter() - t0, 0.0, None
            fits, _, _ = _timed(one, repeats, fast_below)
            rows.append(dict(n=n, law=law, method="ours", unit="fit", seconds=statistics.median(fits),
                             seconds_min=min(fits), seconds_max=max(fits), rounds=1))
        for law in rel_laws:
            short = {}
            if law in ("M2", "M4"):  # only gradient rounds: the Newton phase and its stopping test never start
                short = dict(gd_iterations=released_rounds, max_iterations=released_rounds)
            elif law == "M3":
                short = dict(max_iterations=released_rounds)
            result = {}

            def one(law=law, short=short):
                t0 = time.perf_counter()
                result["fit"] = fit_released(law, x, y, SYNTHETIC_DOMAIN, **short)
                return time.perf_counter() - t0, 0.0, None
            fits, _, _ = _timed(one, repeats, fast_below)
            rounds = int(result["fit"]["n_iter"]) if law in _ROUND_LAWS else 1
            per = [f / rounds for f in fits]
            rows.append(dict(n=n, law=law, method="released", unit="round" if law in _ROUND_LAWS else "fit",
                             seconds=statistics.median(per), seconds_min=min(per), seconds_max=max(per),
                             rounds=rounds))
        _progress(stream, f"  n = {n:5d} points done ({time.perf_counter() - start:6.1f} s)")
    return pd.DataFrame(rows, columns=["n", "law", "method", "unit", "seconds", "seconds_min", "seconds_max",
                                       "rounds"])


def time_predictions(sizes: Sequence[int] = DEFAULT_SIZES, repeats: int = 5, fast_below: float = FAST_BELOW,
                     seed: int = 0) -> pd.DataFrame:
    """Time M4's prediction at ``n`` points: our root finder against the released 10,000-point grid.

    Both predict the law of :data:`SYNTHETIC_TRUTH` at the x of :func:`synthetic_curve`. Returns
    columns n, law ("M4"), method, unit ("prediction"), seconds, seconds_min, seconds_max, rounds.
    """
    sizes = _check_sizes(sizes)
    repeats = _check_count(repeats, "repeats")
    fast_below = _check_seconds(fast_below, "fast_below")
    law = M4.from_params(**SYNTHETIC_TRUTH)
    predictors = {"ours": law.predict, "released": lambda x: predict_released("M4", SYNTHETIC_TRUTH, x)}
    for predict in predictors.values():  # warm-up
        predict(synthetic_curve(sizes[0], seed)[0])
    rows = []
    for n in sizes:
        x = synthetic_curve(n, seed)[0]
        for method, predict in predictors.items():
            def one(predict=predict):
                t0 = time.perf_counter()
                predict(x)
                return time.perf_counter() - t0, 0.0, None
            times, _, _ = _timed(one, repeats, fast_below)
            rows.append(dict(n=n, law="M4", method=method, unit="prediction", seconds=statistics.median(times),
                             seconds_min=min(times), seconds_max=max(times), rounds=1))
    return pd.DataFrame(rows)


def growth_slopes(frame: pd.DataFrame, n_min: int | None = None) -> pd.DataFrame:
    """Log-log slope of seconds against n for each (method, law, unit) of :func:`time_vs_points`.

    ``slope`` 1 means cost proportional to n, 0 a fixed cost, 2 quadratic. ``n_min`` keeps only
    sizes >= n_min (small curves measure fixed overheads). ``slope_se`` is the least-squares
    standard error (NaN with two sizes). Also reports the times at the smallest and largest n.
    """
    needed = {"n", "law", "method", "unit", "seconds"}
    if not isinstance(frame, pd.DataFrame) or needed - set(frame.columns):
        raise ValueError("pass the DataFrame of time_vs_points() or time_predictions().")
    data = frame if n_min is None else frame[frame["n"] >= n_min]
    rows = []
    for (method, law, unit), g in data.groupby(["method", "law", "unit"], sort=False):
        g = g[np.isfinite(g["seconds"]) & (g["seconds"] > 0)].sort_values("n")
        if g["n"].nunique() < 2:
            raise ValueError(f"{method} {law}: fewer than two sizes with a positive time"
                             + (f" at n >= {n_min}" if n_min else "") + "; lower n_min or add sizes.")
        lx, ly = np.log(g["n"].to_numpy(float)), np.log(g["seconds"].to_numpy(float))
        A = np.column_stack([np.ones_like(lx), lx])
        coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
        dof = lx.size - 2
        if dof > 0:
            resid = ly - A @ coef
            cov = np.linalg.inv(A.T @ A) * (resid @ resid) / dof
            se = float(np.sqrt(cov[1, 1]))
        else:
            se = np.nan
        rows.append(dict(method=method, law=law, unit=unit, slope=float(coef[1]), slope_se=se,
                         n_first=int(g["n"].iloc[0]), ms_first=1e3 * float(g["seconds"].iloc[0]),
                         n_last=int(g["n"].iloc[-1]), ms_last=1e3 * float(g["seconds"].iloc[-1])))
    return pd.DataFrame(rows)


def plot_time_vs_points(growth: pd.DataFrame, predictions: pd.DataFrame | None = None, axes=None):
    """Log-log panels of seconds against n: ours per fit, released per round, M4 predictions.

    Returns the matplotlib Figure. Our laws are solid lines, the released algorithm dashed.
    """
    import matplotlib.pyplot as plt

    from .plotting import LAW_COLORS

    needed = {"n", "law", "method", "unit", "seconds"}
    if not isinstance(growth, pd.DataFrame) or needed - set(growth.columns):
        raise ValueError("growth must be the DataFrame of time_vs_points().")
    panels = [("ours", "one complete fit (ours)", "seconds per fit"),
              ("released", "released: one round (M1: the whole fit)", "seconds per round")]
    panels = [p for p in panels if (growth["method"] == p[0]).any()]
    n_panels = len(panels) + (predictions is not None)
    if axes is None:
        fig, axes = plt.subplots(1, n_panels, figsize=(4.3 * n_panels, 4.4), sharex=True)
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    extra = ["C7", "C8", "C9", "C3"]
    colors = dict(LAW_COLORS)
    for law in LAWS:
        colors.setdefault(law, extra[len(colors) % len(extra)])
    for ax, (method, title, ylabel) in zip(axes, panels):
        g = growth[growth["method"] == method]
        for law, h in g.groupby("law", sort=False):
            h = h.sort_values("n")
            spread = [h["seconds"] - h["seconds_min"], h["seconds_max"] - h["seconds"]]
            ax.errorbar(h["n"], h["seconds"], yerr=spread,
                        marker="o", ms=4, capsize=2, ls="-" if method == "ours" else "--",
                        color=colors.get(law), label=law)
        ax.set(xscale="log", yscale="log", title=title, xlabel="fitted points n", ylabel=ylabel)
        ax.legend(fontsize="x-small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    if predictions is not None:
        ax = axes[len(panels)]
        for method, h in predictions.groupby("method", sort=False):
            h = h.sort_values("n")
            ax.plot(h["n"], h["seconds"], marker="o", ms=4, ls="-" if method == "ours" else "--",
                    color=colors["M4"] if method == "ours" else "0.3",
                    label="ours (root finding)" if method == "ours" else "released (10,000-point grid)")
        ax.set(xscale="log", yscale="log", title="M4 prediction at n points", xlabel="predicted points n",
               ylabel="seconds")
        ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    return fig


def plot_fit_times(timings: pd.DataFrame, ax=None):
    """Every timed fit as a dot: milliseconds per fit (log scale) for each law, ours and released.

    ``timings`` is one or both frames of :func:`time_our_fits` / :func:`time_released_fits`
    (concatenated). Dots are jittered sideways; a bar marks each group's median. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    from .plotting import COLORS

    _check_timings(timings)
    data = timings.dropna(subset=["seconds"])
    if data.empty:
        raise ValueError("no successful fit to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.0))
    laws = [k for k in LAWS if k in set(data["law"])] + sorted(set(data["law"]) - set(LAWS))
    methods = [m for m in METHODS if m in set(data["method"])]
    width = 0.8 / len(methods)
    style = {"ours": dict(color=COLORS["law"], label="ours"), "released": dict(color="0.25", label="released")}
    rng = np.random.default_rng(0)  # fixed jitter
    for j, method in enumerate(methods):
        for i, law in enumerate(laws):
            ms = 1e3 * data[(data["method"] == method) & (data["law"] == law)]["seconds"].to_numpy()
            if ms.size == 0:
                continue
            centre = i + (j - (len(methods) - 1) / 2) * width
            ax.scatter(centre + rng.uniform(-0.35, 0.35, ms.size) * width, ms, s=9, alpha=0.55,
                       color=style[method]["color"], label=style[method]["label"] if i == 0 else None)
            ax.hlines(np.median(ms), centre - 0.4 * width, centre + 0.4 * width, color="k", lw=2)
    ax.set_xticks(range(len(laws)), laws)
    ax.set(yscale="log", ylabel="milliseconds per fit (fit + prediction)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def format_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarize_comparison` as strings for display (ms per fit, ratio and its range)."""
    keys = [k for k in ("law", "domain") if k in summary.columns]
    return _comparison_lines(summary, keys)


def format_slopes(slopes: pd.DataFrame) -> pd.DataFrame:
    """:func:`growth_slopes` as strings for display: slope ± its standard error, ms at both ends."""
    table = slopes[["method", "law", "unit"]].copy()
    table["slope"] = [f"{s:.2f}" + ("" if not np.isfinite(e) else f" ± {e:.2f}")
                      for s, e in zip(slopes["slope"], slopes["slope_se"])]
    first, last = int(slopes["n_first"].min()), int(slopes["n_last"].max())
    table[f"ms at n={first}"] = slopes["ms_first"].map(_ms)
    table[f"ms at n={last}"] = slopes["ms_last"].map(_ms)
    return table


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _ms(v) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def format_ratio(r) -> str:
    """A ratio for display: '0.83x', '3.2x' or '1,250x' ('-' if not finite)."""
    if not np.isfinite(r):
        return "-"
    return f"{r:.2f}x" if r < 1 else (f"{r:.1f}x" if r < 10 else f"{r:,.0f}x")


def _print_table(frame: pd.DataFrame, out) -> None:
    print(frame.to_string(index=False), file=out)


def _comparison_lines(summary: pd.DataFrame, keys) -> pd.DataFrame:
    table = summary[list(keys) + ["curves"]].copy()
    table["ours ms"] = summary["ours_ms"].map(_ms)
    table["released ms"] = summary["released_ms"].map(_ms)
    table["ratio"] = summary["ratio"].map(format_ratio)
    table["ratio range"] = [f"{format_ratio(a)} to {format_ratio(b)}"
                            for a, b in zip(summary["ratio_min"], summary["ratio_max"])]
    return table


def _split_list(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def main(argv=None) -> int:
    """``python -m scaling perf``: time every law, ours against the released algorithm; print it."""
    parser = argparse.ArgumentParser(
        prog="python -m scaling perf",
        description="Time each law's fit on the benchmark against our reimplementation of the released "
                    "algorithm (same curves, same run), and how cost grows with the number of points. "
                    "Wall-clock times: they depend on the machine and its load.")
    parser.add_argument("--curves", type=int, default=None, metavar="N",
                        help="time the first N curves of each domain (default: all 92 curves; the released "
                             "algorithm needs 10-20 minutes for all of them)")
    parser.add_argument("--no-released", action="store_true", help="time only our laws")
    parser.add_argument("--repeats", type=int, default=5, metavar="R",
                        help=f"repeat a fit up to R times while its runs took < {FAST_BELOW} s in all; keep the "
                             "median (default 5)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--laws", default=None, help="our laws, comma-separated (default: all registered)")
    parser.add_argument("--released-laws", default=None,
                        help=f"released laws, comma-separated (default: {','.join(LAWS_RELEASED)})")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="point counts of the growth measurement, comma-separated ('' skips it)")
    parser.add_argument("--data-dir", default=None, help="folder with the benchmark CSVs "
                                                         "(default: $SCALING_DATA_DIR, else download)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a bad option: argparse has printed the message
        return int(exc.code or 0)
    out = sys.stdout
    progress = not args.quiet
    try:
        if args.curves is not None and args.curves < 1:
            raise ValueError(f"--curves must be >= 1, got {args.curves}.")
        if args.repeats < 1:
            raise ValueError(f"--repeats must be >= 1, got {args.repeats}.")
        laws = _our_laws(_split_list(args.laws) if args.laws else None)
        rel_laws = _released_laws(_split_list(args.released_laws) if args.released_laws else None)
        try:
            sizes = tuple(int(s) for s in _split_list(args.sizes))
        except ValueError:
            raise ValueError(f"--sizes must be comma-separated integers, got {args.sizes!r}.") from None
        if sizes:
            sizes = _check_sizes(sizes)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from .data import load_benchmark

    start = time.perf_counter()
    bench = load_benchmark(args.data_dir)
    curves = list(bench.curves) if args.curves is None else timing_subset(bench, args.curves)
    scope = "all curves" if args.curves is None else f"the first {args.curves} per domain"
    print(f"Timing {len(curves)} curves ({scope}); laws {', '.join(laws)}"
          + ("" if args.no_released else f"; released {', '.join(rel_laws)}")
          + f"; fast fits repeated up to {args.repeats}x (median). Wall-clock times on this machine, now.",
          file=out)
    ours = time_our_fits(curves, laws, repeats=args.repeats, progress=progress)
    frames = [ours]
    if not args.no_released:
        released = time_released_fits(curves, rel_laws, repeats=min(args.repeats, 3), progress=progress)
        frames.append(released)
        comparison = compare_methods(ours, released)
        print("\nTime per fit (fit + held-out prediction), median over curves; ratio = released / ours", file=out)
        _print_table(_comparison_lines(summarize_comparison(comparison), ["law"]), out)
        print("\nPer law and domain", file=out)
        _print_table(_comparison_lines(summarize_comparison(comparison, by_domain=True), ["law", "domain"]), out)
    else:
        summary = summarize_timings(ours, by_domain=True)
        print("\nOur time per fit (fit + held-out prediction), median and quartiles over curves", file=out)
        table = summary[["law", "domain", "fits"]].copy()
        for col in ("median_ms", "q25_ms", "q75_ms"):
            table[col.replace("_ms", " ms")] = summary[col].map(_ms)
        _print_table(table, out)
    totals = benchmark_totals(pd.concat(frames, ignore_index=True))
    print("\nOne pass over these curves (sum of per-fit times)", file=out)
    for method, g in totals.groupby("method", sort=False):
        cells = ", ".join(f"{r.law} {r.total_s:.2f} s" for r in g.itertuples() if r.law != "all")
        whole = g[g["law"] == "all"].iloc[0]
        print(f"  {method:>8}: {whole.total_s:8.2f} s for {whole.fits} fits ({cells})", file=out)
    if sizes:
        print(f"\nCost against the number of fitted points n (synthetic M4-shaped curves, n = "
              f"{', '.join(map(str, sizes))})", file=out)
        growth = time_vs_points(sizes, laws, released=not args.no_released, released_laws=rel_laws,
                                repeats=args.repeats, progress=progress)
        growth = pd.concat([growth, time_predictions(sizes, repeats=args.repeats)], ignore_index=True)
        _print_table(format_slopes(growth_slopes(growth)), out)
        print("  (slope of log time against log n: 0 = fixed cost, 1 = proportional to n; released M2/M3/M4 "
              "are per outer round)", file=out)
    print(f"\nDone in {time.perf_counter() - start:.1f} s.", file=out)
    return 0
