"""How long a fit takes: the released code, our emulation of it, and our global fits.

Three things are compared, per fit, per law and for the whole benchmark:

* ``"released"`` -- **the authors' released code, as measured by others** (reference data: the
  ``fit_seconds`` column of :func:`scaling.ledger.reference.load_released_outputs`, one core of the project's
  CI machine kind, 1,647 s for the 368 fits). Nothing here re-runs the released code; these times are
  never reported as ours. :func:`released_timings` puts them in the timing table format.
* ``"emulation"`` -- our exact emulation of the same algorithm (:mod:`scaling.laws.released`, the
  compiled walk with its Taylor model, ``walk="taylor"``), and ``"literal"``, the same emulation
  with every step evaluated from the points (``walk="literal"``: same end point, slower). Same
  steps, same answers as the released code (see :mod:`scaling.laws.released`), so the ratio
  ``released / emulation`` is the speed-up for the *same* result.
* ``"global"`` -- our global fits (:func:`scaling.evaluate.run_benchmark` with
  ``estimator="global"``): a *different estimator* (the global minimum of Eq. 4), with different
  answers, timed for context, and the only one that also fits the later laws (BNSL, Chinchilla).

All times are wall-clock (:func:`time.perf_counter`) on the machine running the code, so they move
with its load; the released times were measured once, elsewhere.

Measurements
------------
* :func:`time_benchmark` -- one run of the benchmark as the ``benchmark`` command does it (fits plus
  evaluation), for the emulation (``n_jobs`` threads, either walk) or the global fits; keeps each
  fit's own time. The kernels are compiled or loaded first (:func:`scaling.laws.released.warm_up`), so
  that one-off cost stays out of the figures; :func:`kernel_report` says which it was, and
  :func:`measure_compile_seconds` measures a cold compile in a fresh process.
* :func:`time_emulation_fits` -- the emulation one fit at a time (fit plus held-out prediction),
  fast fits repeated and the median kept: used for the literal walk on a subset.
* :func:`speed_target` -- the issue's target: all 368 fits plus evaluation in under
  :data:`TARGET_SECONDS` on the two-core CI machine, i.e. ``1,647 s / 10 s`` = at least 165x.
* :func:`compare_methods`, :func:`summarize_comparison`, :func:`summarize_timings`,
  :func:`benchmark_totals` -- per-fit ratios, per law / domain medians and totals.
* :func:`released_cost_model` -- the released code's time as a function of its rounds (fitted on
  the reference times against our round counts): what one gradient and one Newton step cost there;
  :func:`round_mismatches` lists fits whose released time does not fit our round count.
* :func:`time_vs_points` / :func:`time_predictions` / :func:`growth_slopes` -- how cost grows with
  the number ``n`` of fitted points on seeded synthetic M4-shaped curves (:func:`synthetic_curve`).

:func:`perf_report` prints what ``python -m scaling perf`` shows (its options are parsed in
:mod:`scaling.cli`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._progress import Progress
from ..benchmark.catalogue import DOMAINS
from ..benchmark.data import curve_list
from ..laws.paper import LAWS, PAPER_LAWS, M4, law_for_domain, resolve_law_name
from ..laws.released import DEFAULTS, LAWS_RELEASED, WALKS, fit_released, predict_released

__all__ = [
    "TIMING_COLUMNS", "DEFAULT_SIZES", "SYNTHETIC_TRUTH", "METHODS", "METHOD_LABELS", "TARGET_SECONDS",
    "BenchmarkRun", "timing_subset", "released_timings", "time_benchmark", "time_emulation_fits",
    "compare_methods", "summarize_comparison", "summarize_timings", "benchmark_totals", "speed_target",
    "released_cost_model", "round_mismatches", "kernel_report", "measure_compile_seconds",
    "synthetic_curve", "time_vs_points", "time_predictions", "growth_slopes",
    "WALK_LAWS", "TIMING_KEY", "check_timings",
    "format_comparison", "format_slopes", "format_ratio", "format_ratio_range", "perf_settings", "perf_report",
]

#: The timed methods, in display order (see the module docstring).
METHODS = ("released", "emulation", "literal", "global")
METHOD_LABELS = {
    "released": "released code (measured by others; reference data)",
    "emulation": "emulation of the released code (Taylor walk)",
    "literal": "emulation, literal walk",
    "global": "global fit (ours; a different estimator)",
}
#: The issue's speed target: all 368 benchmark fits plus evaluation within this many seconds (2 cores).
TARGET_SECONDS = 10.0
#: Columns of every timing frame (one row per curve and law).
TIMING_COLUMNS = ["method", "domain", "task", "model", "label", "n_fit", "law", "seconds", "seconds_min",
                  "seconds_max", "fit_seconds", "predict_seconds", "repeats", "n_iter", "converged", "error"]
#: The columns that identify one fit in a timing frame.
TIMING_KEY = ["domain", "task", "model", "law"]
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
#: Laws that walk eps_inf (and eps0): the only ones the walk option changes.
WALK_LAWS = ("M2", "M4")
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


def _global_laws(laws) -> tuple[str, ...]:
    if laws is None:
        return tuple(LAWS)
    if isinstance(laws, str):
        laws = [laws]
    names = tuple(dict.fromkeys(resolve_law_name(name) for name in laws))  # ValueError for an unknown name
    if not names:
        raise ValueError(f"no laws to time; pass some of {list(LAWS)} (or None for all).")
    return names


def _released_laws(laws) -> tuple[str, ...]:
    if laws is None:
        return LAWS_RELEASED
    if isinstance(laws, str):
        laws = [laws]
    names = []
    known = {k.lower(): k for k in LAWS_RELEASED}
    for name in laws:
        if not isinstance(name, str) or name.strip().lower() not in known:
            raise ValueError(f"the released algorithm fits only {list(LAWS_RELEASED)}, not {name!r}.")
        names.append(known[name.strip().lower()])
    if not names:
        raise ValueError(f"no laws to time; pass some of {list(LAWS_RELEASED)} (or None for all).")
    return tuple(dict.fromkeys(names))


def _check_walk(walk) -> str:
    if walk not in WALKS:
        raise ValueError(f"walk must be one of {WALKS}, got {walk!r}.")
    return walk


def _walk_method(walk: str) -> str:
    return "emulation" if _check_walk(walk) == "taylor" else "literal"


def _curves(curves) -> list:
    curves = curve_list(curves)
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


def _curve_key(curve) -> tuple:
    return curve.domain, str(curve.task), str(curve.model)


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
# Rows of a timing frame
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


def _single_run_rows(results: pd.DataFrame, method: str, curves) -> pd.DataFrame:
    """A benchmark result frame (one fit per row, ``fit_seconds``) as a timing frame."""
    info = {_curve_key(c): (_label(c), int(np.size(c.x_fit))) for c in curves}
    rows = []
    for r in results.itertuples(index=False):
        key = (r.domain, str(r.task), str(r.model))
        label, n_fit = info.get(key, (f"{r.task} ({r.model})", np.nan))
        failed = bool(getattr(r, "error", "")) or not np.isfinite(r.fit_seconds)
        seconds = np.nan if failed else float(r.fit_seconds)
        rows.append(dict(method=method, domain=r.domain, task=str(r.task), model=str(r.model), label=label,
                         n_fit=n_fit, law=r.law, seconds=seconds, seconds_min=seconds, seconds_max=seconds,
                         fit_seconds=seconds, predict_seconds=np.nan, repeats=0 if failed else 1,
                         n_iter=float(getattr(r, "n_iter", np.nan)), converged=r.converged,
                         error=str(getattr(r, "error", "") or "")))
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


# ---------------------------------------------------------------------------------------------
# The three methods
# ---------------------------------------------------------------------------------------------

def released_timings(curves=None, laws=None) -> pd.DataFrame:
    """The released code's measured fit times (reference data, not ours) as a timing frame.

    From :func:`scaling.ledger.reference.load_released_outputs` (one core of the project's CI machine kind;
    the fit alone, no prediction). ``curves`` (a Benchmark or a list of curves; default: all 92)
    selects the rows and supplies labels and ``n_fit``; ``laws`` defaults to M1-M4. Method
    ``"released"``; ``n_iter`` and ``converged`` are not recorded there (NaN / None). Raises
    ValueError for a curve the reference does not cover (only the 92 benchmark curves are).
    """
    from ..ledger.reference import load_released_outputs

    laws = _released_laws(laws)
    ref = load_released_outputs()
    ref = ref[ref["law"].isin(laws)]
    index = {(d, t, m, law): s for d, t, m, law, s in ref[TIMING_KEY + ["fit_seconds"]].itertuples(index=False)}
    if curves is None:
        keys = list(dict.fromkeys(zip(ref["domain"], ref["task"], ref["model"])))
        info = {k: (f"{k[1]} ({k[2]})", np.nan) for k in keys}
    else:
        cs = _curves(curves)
        keys = [_curve_key(c) for c in cs]
        info = {_curve_key(c): (_label(c), int(np.size(c.x_fit))) for c in cs}
        missing = [k for k in keys if (*k, laws[0]) not in index]
        if missing:
            raise ValueError(f"no released timing for curve(s) {missing[:3]}: the reference data covers only the "
                             "92 benchmark curves.")
    rows = []
    for key in keys:
        label, n_fit = info[key]
        for law in laws:
            s = float(index[(*key, law)])
            rows.append(dict(method="released", domain=key[0], task=key[1], model=key[2], label=label, n_fit=n_fit,
                             law=law, seconds=s, seconds_min=s, seconds_max=s, fit_seconds=s, predict_seconds=np.nan,
                             repeats=1, n_iter=np.nan, converged=None, error=""))
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


@dataclass(frozen=True, eq=False)
class BenchmarkRun:
    """One timed run of the benchmark: :func:`time_benchmark`'s result.

    ``seconds`` is the wall time of the whole run (every fit plus its evaluation, in one process);
    ``results`` the runner's own frame; ``timings`` each fit's time as a timing frame
    (:data:`TIMING_COLUMNS`, method ``"emulation"``, ``"literal"`` or ``"global"``).
    """

    method: str
    estimator: str
    walk: str | None
    n_jobs: int
    laws: tuple
    seconds: float
    results: pd.DataFrame
    timings: pd.DataFrame

    @property
    def fits(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return int(self.results["rmse"].isna().sum())


def _cores() -> int:
    """The cores this process may use (what the released runner uses by default)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def time_benchmark(bench, estimator: str = "released", laws=None, n_jobs: int | None = None,
                   walk: str = "taylor", **options) -> BenchmarkRun:
    """Time one run of the benchmark: every (curve, law) fit plus its held-out evaluation.

    ``estimator="released"`` is our emulation of the released code
    (:func:`scaling.laws.released.run_released_benchmark` with ``walk`` and ``n_jobs`` threads; default
    every core); its kernels are compiled or loaded before the clock starts
    (:func:`scaling.laws.released.warm_up`). Pass ``load_benchmark(drop_duplicates=False)`` to score
    as the released notebook does. ``estimator="global"`` is our global fit
    (:func:`scaling.evaluate.run_benchmark`), one curve at a time (``n_jobs`` must be None or 1);
    it takes any registered law. ``laws`` defaults to M1-M4. ``options`` go to the released
    runner (e.g. a shortened schedule, ``max_iterations=...``); the global fits take none.
    """
    curves = _curves(bench)
    if estimator == "released":
        from ..laws.released import run_released_benchmark, warm_up

        laws = _released_laws(laws)
        method = _walk_method(walk)
        if n_jobs is not None:
            n_jobs = _check_count(n_jobs, "n_jobs")
        workers = _cores() if n_jobs is None else n_jobs
        warm_up()
        start = time.perf_counter()
        results = run_released_benchmark(curves, laws=laws, progress=False, n_jobs=workers, walk=walk, **options)
        seconds = time.perf_counter() - start
        return BenchmarkRun(method, estimator, walk, workers, laws, seconds, results,
                            _single_run_rows(results, method, curves))
    if estimator == "global":
        from ..evaluate import run_benchmark

        laws = PAPER_LAWS if laws is None else _global_laws(laws)
        if options:
            raise ValueError(f"the global fits take no released options, got {sorted(options)}.")
        if n_jobs not in (None, 1):
            raise ValueError(f"the global fits run one curve at a time; n_jobs must be None or 1, got {n_jobs!r}.")
        start = time.perf_counter()
        results = run_benchmark(curves, laws=laws, estimator="global")
        seconds = time.perf_counter() - start
        return BenchmarkRun("global", estimator, None, 1, laws, seconds, results,
                            _single_run_rows(results, "global", curves))
    raise ValueError(f"estimator must be 'released' (our emulation) or 'global', got {estimator!r}.")


def time_emulation_fits(curves, laws=None, walk: str = "taylor", repeats: int = 3, fast_below: float = FAST_BELOW,
                        progress: bool = False, stream=None, **options) -> pd.DataFrame:
    """Time our emulation of the released code one fit at a time (fit plus held-out prediction).

    ``laws`` defaults to M1-M4; ``walk`` is ``"taylor"`` (method ``"emulation"``) or
    ``"literal"`` (method ``"literal"``; only M2 and M4 walk, so M1 and M3 are the same either
    way). A cell is repeated while its runs so far took less than ``fast_below`` seconds in all,
    up to ``repeats`` runs; ``seconds`` is the median and ``n_iter`` the rounds the fit ran.
    ``options`` go to :func:`scaling.laws.released.fit_released` (each law takes those it uses), e.g.
    a shortened schedule. A fit that raises ValueError gets NaN times and its message in ``error``.
    Columns: :data:`TIMING_COLUMNS`.
    """
    from ..laws.released import law_options, warm_up

    curves, laws = _curves(curves), _released_laws(laws)
    method = _walk_method(walk)
    repeats = _check_count(repeats, "repeats")
    fast_below = _check_seconds(fast_below, "fast_below")
    stream = (stream or sys.stderr) if progress else None

    def opts(law):
        chosen = {k: v for k, v in options.items() if k in law_options(law)}
        return {**chosen, "walk": walk} if law in WALK_LAWS else chosen

    warm_up()
    rows = []
    bar = Progress(len(curves) * len(laws), method, stream, enabled=progress, unit="fits")
    for curve in curves:
        for law in laws:
            def one(law=law, curve=curve):
                t0 = time.perf_counter()
                fit = fit_released(law, curve.x_fit, curve.loss_fit, curve.domain, **opts(law))
                t1 = time.perf_counter()
                predict_released(law, fit["params"], curve.x_test)
                return t1 - t0, time.perf_counter() - t1, fit
            try:
                fits, preds, fit = _timed(one, repeats, fast_below)
                rows.append(_row(method, curve, law, fits, preds, n_iter=int(fit["n_iter"]),
                                 converged=bool(fit["converged"])))
            except ValueError as exc:
                rows.append(_failed_row(method, curve, law, str(exc)))
            bar.update(1)
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def check_timings(frame, name="timings"):
    """``ValueError`` unless ``frame`` is a timing frame (the columns of :data:`TIMING_COLUMNS` it needs)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a timing frame (time_benchmark(...).timings, released_timings(), "
                         "time_emulation_fits()).")
    missing = sorted({"method", "domain", "task", "model", "law", "seconds"} - set(frame.columns))
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; pass a timing frame (time_benchmark(...).timings, "
                         "released_timings(), time_emulation_fits()).")


def _one_method(frame, name) -> str:
    methods = list(dict.fromkeys(frame["method"]))
    if len(methods) != 1:
        raise ValueError(f"{name} must hold one method, it holds {methods}; select one first.")
    return str(methods[0])


def _domain_sorted(frame: pd.DataFrame, by_domain: bool) -> pd.DataFrame:
    """Rows in the order of LAWS (then IC, NMT, LM, BB when ``by_domain``); unknown names last."""
    law_rank = {k: i for i, k in enumerate(LAWS)}
    law_rank["all"] = len(law_rank) + 1
    domain_rank = {d: i for i, d in enumerate(DOMAINS)}
    ranks = frame.assign(_l=frame["law"].map(lambda k: law_rank.get(k, len(law_rank))))
    keys = ["_l"]
    if by_domain:
        ranks["_d"] = frame["domain"].map(lambda d: domain_rank.get(d, len(domain_rank)))
        keys.append("_d")
    return ranks.sort_values(keys, kind="stable").drop(columns=keys)


def compare_methods(numerator: pd.DataFrame, denominator: pd.DataFrame) -> pd.DataFrame:
    """Per-fit times of two methods over the (curve, law) cells both timed successfully.

    Each frame holds one method (e.g. :func:`released_timings` and the emulation's timings).
    Returns domain, task, model, label, n_fit, law, ``<numerator>_ms``, ``<denominator>_ms``,
    ``ratio`` (numerator / denominator: how many times longer the first takes), ``n_iter`` and
    ``converged`` (from whichever frame records rounds, the denominator first), and the two
    method names in ``numerator`` and ``denominator``. Raises ValueError if no cell is common.
    """
    check_timings(numerator, "numerator")
    check_timings(denominator, "denominator")
    a, b = _one_method(numerator, "numerator"), _one_method(denominator, "denominator")
    if a == b:
        raise ValueError(f"both frames hold method {a!r}; compare two different methods.")
    left = numerator.reindex(columns=TIMING_COLUMNS).dropna(subset=["seconds"])
    right = denominator.reindex(columns=TIMING_COLUMNS).dropna(subset=["seconds"])
    merged = left.merge(right, on=TIMING_KEY, suffixes=("_a", "_b"))
    if merged.empty:
        raise ValueError(f"{a} and {b} have no (curve, law) cell in common: time the same curves and laws with both.")
    out = merged[TIMING_KEY].copy()
    out["label"] = merged["label_a"].where(merged["label_a"].notna(), merged["label_b"])
    out["n_fit"] = merged["n_fit_b"].where(merged["n_fit_b"].notna(), merged["n_fit_a"])
    out[f"{a}_ms"] = 1e3 * merged["seconds_a"]
    out[f"{b}_ms"] = 1e3 * merged["seconds_b"]
    out["ratio"] = out[f"{a}_ms"] / out[f"{b}_ms"]
    side = "b" if merged["n_iter_b"].notna().any() else "a"
    out["n_iter"] = merged[f"n_iter_{side}"].to_numpy()
    out["converged"] = merged[f"converged_{side}"].to_numpy()
    out["numerator"], out["denominator"] = a, b
    cols = ["domain", "task", "model", "label", "n_fit", "law", f"{a}_ms", f"{b}_ms", "ratio", "n_iter",
            "converged", "numerator", "denominator"]
    return out[cols].reset_index(drop=True)


def _names(comparison) -> tuple[str, str]:
    needed = {"law", "ratio", "numerator", "denominator"}
    if not isinstance(comparison, pd.DataFrame) or needed - set(comparison.columns) or comparison.empty:
        raise ValueError("pass the DataFrame returned by compare_methods().")
    return str(comparison["numerator"].iloc[0]), str(comparison["denominator"].iloc[0])


def _spread(series: pd.Series) -> dict:
    s = series.dropna()
    if s.empty:
        return dict(median=np.nan, q25=np.nan, q75=np.nan)
    return dict(median=float(s.median()), q25=float(s.quantile(0.25)), q75=float(s.quantile(0.75)))


def summarize_timings(timings: pd.DataFrame, by_domain: bool = False) -> pd.DataFrame:
    """Per method and law (and domain): fits, median ms per fit with its quartiles, total seconds.

    ``q25_ms``/``q75_ms`` are the quartiles over curves (the spread between curves);
    ``total_s`` is the sum over curves of the per-fit times (one pass over those curves).
    """
    check_timings(timings)
    groups = ["method", "law"] + (["domain"] if by_domain else [])
    rows = []
    for keys, g in timings.groupby(groups, sort=False):
        s = _spread(1e3 * g["seconds"])
        rows.append(dict(zip(groups, keys), fits=int(g["seconds"].notna().sum()),
                         failed=int(g["seconds"].isna().sum()), median_ms=s["median"], q25_ms=s["q25"],
                         q75_ms=s["q75"], total_s=float(g["seconds"].sum())))
    out = pd.DataFrame(rows)
    return _domain_sorted(out, by_domain).reset_index(drop=True)


def summarize_comparison(comparison: pd.DataFrame, by_domain: bool = False, with_total: bool = False) -> pd.DataFrame:
    """Per law (and domain), over the cells of :func:`compare_methods`: medians, ratios and totals.

    With methods ``a`` (numerator) and ``b``: ``curves``, ``<a>_ms`` and ``<b>_ms`` (median ms per
    fit), ``ratio`` (the ratio of those medians), ``median_ratio`` (the median of the per-fit
    ratios), ``ratio_min``/``ratio_max`` (their range), ``<a>_s``/``<b>_s`` (summed seconds: one
    pass over those cells) and ``total_ratio`` (their ratio). ``with_total`` adds a row
    ``law="all"`` over every cell.
    """
    a, b = _names(comparison)
    groups = ["law"] + (["domain"] if by_domain else [])
    parts = [(keys if isinstance(keys, tuple) else (keys,), g) for keys, g in comparison.groupby(groups, sort=False)]
    if with_total:
        parts.append((("all",) + (("all",) if by_domain else ()), comparison))
    rows = []
    for keys, g in parts:
        am, bm = float(g[f"{a}_ms"].median()), float(g[f"{b}_ms"].median())
        a_s, b_s = float(g[f"{a}_ms"].sum() / 1e3), float(g[f"{b}_ms"].sum() / 1e3)
        rows.append({**dict(zip(groups, keys)), "curves": len(g), f"{a}_ms": am, f"{b}_ms": bm, "ratio": am / bm,
                     "median_ratio": float(g["ratio"].median()), "ratio_min": float(g["ratio"].min()),
                     "ratio_max": float(g["ratio"].max()), f"{a}_s": a_s, f"{b}_s": b_s, "total_ratio": a_s / b_s})
    out = pd.DataFrame(rows)
    return _domain_sorted(out, by_domain).reset_index(drop=True)


def _n_curves(frame: pd.DataFrame) -> int:
    return int(frame[["domain", "task", "model"]].drop_duplicates().shape[0])


def benchmark_totals(timings: pd.DataFrame) -> pd.DataFrame:
    """Seconds for one pass of each method over the curves it timed: per law and in all.

    Rows: one per (method, law) plus a row ``law="all"`` per method. Columns method, law, curves,
    fits, total_s (the sum of the per-fit times; a whole run's wall time adds the evaluation and,
    with threads, overlaps the fits: see :class:`BenchmarkRun`).
    """
    check_timings(timings)
    rows = []
    for method, g in timings.groupby("method", sort=False):
        for law, h in g.groupby("law", sort=False):
            rows.append(dict(method=method, law=law, curves=_n_curves(h), fits=int(h["seconds"].notna().sum()),
                             total_s=float(h["seconds"].sum())))
        rows.append(dict(method=method, law="all", curves=_n_curves(g), fits=int(g["seconds"].notna().sum()),
                         total_s=float(g["seconds"].sum())))
    return pd.DataFrame(rows)


def speed_target(seconds: float, released_seconds: float | None = None,
                 target_seconds: float = TARGET_SECONDS) -> dict:
    """The issue's target for a whole-benchmark run that took ``seconds``.

    ``released_seconds`` defaults to the released code's measured 1,647 s for the 368 fits
    (:data:`scaling.ledger.reference.RELEASED_TOTAL_SECONDS`). Returns seconds, released_seconds,
    ratio (released / ours), target_seconds, target_ratio (released / target: 1,647 / 10, so
    "at least 165x") and met (``seconds < target_seconds``).
    """
    from ..ledger.reference import RELEASED_TOTAL_SECONDS

    seconds = _check_seconds(seconds, "seconds")
    released = RELEASED_TOTAL_SECONDS if released_seconds is None else _check_seconds(released_seconds,
                                                                                       "released_seconds")
    target = _check_seconds(target_seconds, "target_seconds")
    if seconds <= 0 or target <= 0:
        raise ValueError("seconds and target_seconds must be positive.")
    return dict(seconds=seconds, released_seconds=released, ratio=released / seconds, target_seconds=target,
                target_ratio=released / target, met=bool(seconds < target))


def released_cost_model(comparison: pd.DataFrame) -> pd.DataFrame:
    """The released code's time per fit as ``first + per_round x (rounds - gd_iterations)``.

    ``comparison`` is ``compare_methods(released_timings(...), <emulation timings>)``: the released
    times beside our emulation's round counts. For M2 and M4, over the fits our emulation stopped
    by the beta rule, least squares gives ``first_s`` (the first ``gd_iterations`` = 100 rounds
    of 1,000 gradient steps each, plus fixed costs) and ``round_ms`` (each later round of 100
    Newton steps, with its least-squares solve); the same for the emulation's own times
    (``emulation_first_s``, ``emulation_round_ms``). ``us_per_gradient_step`` and
    ``us_per_newton_step`` divide by the step counts; ``r`` is the correlation between the model
    and the released times. Returns one row per law.
    """
    a, b = _names(comparison)
    if a != "released":
        raise ValueError("pass compare_methods(released_timings(...), <emulation timings>).")
    gd_rounds, gd_steps, newton_steps = DEFAULTS["gd_iterations"], DEFAULTS["gd_epochs"], DEFAULTS["newton_steps"]
    rows = []
    for law in WALK_LAWS:
        g = comparison[(comparison["law"] == law) & (comparison["converged"] == True)]  # noqa: E712
        g = g[g["n_iter"] > gd_rounds + 1]
        if len(g) < 3:
            continue
        A = np.column_stack([np.ones(len(g)), g["n_iter"].to_numpy(float) - gd_rounds])
        fits = {}
        for col, name in ((f"{a}_ms", "released"), (f"{b}_ms", b)):
            coef, *_ = np.linalg.lstsq(A, g[col].to_numpy(float) / 1e3, rcond=None)
            fits[name] = (coef, float(np.corrcoef(A @ coef, g[col])[0, 1]))
        (first, per), r = fits["released"]
        (efirst, eper), er = fits[b]
        rows.append(dict(law=law, fits=len(g), first_s=first, round_ms=1e3 * per,
                         us_per_gradient_step=1e6 * first / (gd_rounds * gd_steps),
                         us_per_newton_step=1e6 * per / newton_steps, r=r,
                         emulation_first_s=efirst, emulation_round_ms=1e3 * eper, emulation_r=er))
    if not rows:
        raise ValueError("no M2 or M4 fits with at least three converged emulation fits to model.")
    return pd.DataFrame(rows)


def round_mismatches(comparison: pd.DataFrame, model: pd.DataFrame, factor: float = 2.0) -> pd.DataFrame:
    """Fits whose released time implies a round count more than ``factor`` away from ours.

    ``implied_rounds = gd_iterations + (released_s - first_s) / round_s`` from
    :func:`released_cost_model`. A large mismatch means the released code stopped at another
    round than our emulation (the beta test compares successive betas to 1e-10, close to
    rounding); the end point can still agree, since the iteration sits at its fixed point.
    """
    a, _ = _names(comparison)
    if not (np.isfinite(factor) and factor > 1):
        raise ValueError(f"factor must be a number > 1, got {factor!r}.")
    params = model.set_index("law")
    rows = []
    for r in comparison[comparison["law"].isin(params.index)].itertuples(index=False):
        p = params.loc[r.law]
        implied = DEFAULTS["gd_iterations"] + (getattr(r, f"{a}_ms") / 1e3 - p.first_s) / (p.round_ms / 1e3)
        if not (1 / factor <= implied / r.n_iter <= factor):
            rows.append(dict(domain=r.domain, task=r.task, model=r.model, label=r.label, law=r.law,
                             n_iter=int(r.n_iter), converged=bool(r.converged), released_ms=getattr(r, f"{a}_ms"),
                             implied_rounds=float(implied)))
    return pd.DataFrame(rows, columns=["domain", "task", "model", "label", "law", "n_iter", "converged",
                                       "released_ms", "implied_rounds"])


# ---------------------------------------------------------------------------------------------
# Compilation
# ---------------------------------------------------------------------------------------------

_KERNELS = ("ols_line", "m2_fit", "m3_fit", "m4_fit")


def kernel_report() -> dict:
    """How this process got the compiled kernels: ``loaded`` and ``compiled`` signature counts.

    Read from numba's per-kernel statistics (cache hits and misses) of the four entry points;
    ``cache_path`` is where numba keeps them (``scaling/__pycache__`` unless ``NUMBA_CACHE_DIR``
    says otherwise). Counts are 0 before the first fit (see :func:`scaling.laws.released.warm_up`).
    """
    from ..laws import _released_kernels as K

    loaded = compiled = 0
    path = None
    for name in _KERNELS:
        stats = getattr(getattr(K, name), "stats", None)
        if stats is None:
            continue
        loaded += sum(stats.cache_hits.values())
        compiled += sum(stats.cache_misses.values())
        path = path or stats.cache_path
    return dict(loaded=int(loaded), compiled=int(compiled), cache_path=path)


_COMPILE_PROBE = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    from ..laws.released import fit_released
    t1 = time.perf_counter()
    x = np.logspace(6.0, 9.0, 8)
    y = 0.3 + 40.0 * x ** -0.35
    short = dict(max_iterations=2, gd_iterations=1, gd_epochs=2, newton_steps=2)

    def fits():
        start = time.perf_counter()
        for law in sys.argv[1].split(","):
            if law in ("M2", "M4"):
                for walk in ("taylor", "literal"):
                    fit_released(law, x, y, "IC", walk=walk, **short)
            else:
                fit_released(law, x, y, "IC", **({"max_iterations": 2} if law == "M3" else {}))
        return time.perf_counter() - start

    first = fits()
    again = fits()
    print(json.dumps(dict(import_s=t1 - t0, first_s=first, again_s=again)))
""")


def measure_compile_seconds(laws=None, timeout: float = 600.0) -> dict:
    """The one-off cost of compiling the kernels, measured in fresh Python processes.

    Runs a tiny fit of each law (both walks for M2 and M4) twice in a new process whose numba
    cache is an empty temporary folder (``NUMBA_CACHE_DIR``), so the first fits compile; then once
    more in another process with that folder filled, so they load. Returns ``cold_s`` (first fits,
    compiling), ``warm_s`` (first fits, loading the cache), ``again_s`` (the same fits once
    compiled), ``compile_s`` = cold - warm, and ``import_s`` (importing the package, cold run).
    Nothing is written outside the temporary folder. Raises RuntimeError if a probe fails.
    """
    laws = _released_laws(laws)
    timeout = _check_seconds(timeout, "timeout")
    root = str(Path(__file__).resolve().parents[2])
    runs = []
    with tempfile.TemporaryDirectory(prefix="scaling-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache,
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        for _ in range(2):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_PROBE, ",".join(laws)], env=env,
                                  capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
                raise RuntimeError(f"the compile probe failed: {tail}")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    return dict(laws=laws, cold_s=cold["first_s"], warm_s=warm["first_s"], again_s=warm["again_s"],
                compile_s=cold["first_s"] - warm["first_s"], import_s=cold["import_s"])


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


def time_vs_points(sizes: Sequence[int] = DEFAULT_SIZES, laws=None, released_laws=None,
                   walks: Sequence[str] = WALKS, repeats: int = 3, fast_below: float = FAST_BELOW,
                   released_rounds: int = 2, seed: int = 0, progress: bool = False, stream=None) -> pd.DataFrame:
    """Time each law on synthetic curves of ``sizes`` points (:func:`synthetic_curve`).

    Global fits (method ``"global"``, ``laws``, default every registered law): one complete fit,
    as image-classification curves. The emulation (``released_laws``, default M1-M4), for each
    walk in ``walks`` (method ``"emulation"`` for taylor, ``"literal"``; ``walks=()`` skips it):
    M1 a complete fit; M2, M3, M4 a shortened run of ``released_rounds`` outer rounds, the first
    rounds of the released schedule (M2/M4: gradient rounds of 1,000 steps each), reported per
    round. M1 and M3 do not walk, so they are timed once, under ``"emulation"``. Returns columns
    n, law, method, unit ("fit" or "round"), seconds (median over repeats), seconds_min,
    seconds_max, rounds.
    """
    sizes = _check_sizes(sizes)
    laws = () if laws == () else _global_laws(laws)
    walks = tuple(_check_walk(w) for w in walks)
    rel_laws = _released_laws(released_laws) if walks else ()
    repeats = _check_count(repeats, "repeats")
    released_rounds = _check_count(released_rounds, "released_rounds")
    fast_below = _check_seconds(fast_below, "fast_below")
    stream = (stream or sys.stderr) if progress else None
    x0, y0 = synthetic_curve(sizes[0], seed)
    for law in laws:  # warm-up
        law_for_domain(law, SYNTHETIC_DOMAIN, "global").fit(x0, y0)
    if rel_laws:
        from ..laws.released import warm_up

        warm_up()
    jobs = [(law, walk) for walk in walks for law in rel_laws if walk == "taylor" or law in WALK_LAWS]
    rows, start = [], time.perf_counter()
    for n in sizes:
        x, y = synthetic_curve(n, seed)
        for law in laws:
            def one(law=law):
                t0 = time.perf_counter()
                law_for_domain(law, SYNTHETIC_DOMAIN, "global").fit(x, y)
                return time.perf_counter() - t0, 0.0, None
            fits, _, _ = _timed(one, repeats, fast_below)
            rows.append(dict(n=n, law=law, method="global", unit="fit", seconds=statistics.median(fits),
                             seconds_min=min(fits), seconds_max=max(fits), rounds=1))
        for law, walk in jobs:
            short = {}
            if law in WALK_LAWS:  # only gradient rounds: the Newton phase and its stopping test never start
                short = dict(gd_iterations=released_rounds, max_iterations=released_rounds, walk=walk)
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
            rows.append(dict(n=n, law=law, method=_walk_method(walk), unit="round" if law in _ROUND_LAWS else "fit",
                             seconds=statistics.median(per), seconds_min=min(per), seconds_max=max(per),
                             rounds=rounds))
        _progress(stream, f"  n = {n:5d} points done ({time.perf_counter() - start:6.1f} s)")
    return pd.DataFrame(rows, columns=["n", "law", "method", "unit", "seconds", "seconds_min", "seconds_max",
                                       "rounds"])


def time_predictions(sizes: Sequence[int] = DEFAULT_SIZES, repeats: int = 5, fast_below: float = FAST_BELOW,
                     seed: int = 0) -> pd.DataFrame:
    """Time M4's prediction at ``n`` points: our root finder against the released 10,000-point grid.

    Both predict the law of :data:`SYNTHETIC_TRUTH` at the x of :func:`synthetic_curve`: method
    ``"global"`` is :meth:`scaling.laws.M4.predict` (bracketing root finder), ``"emulation"`` is
    :func:`scaling.laws.released.predict_released` (the released grid search, in numpy). Returns
    columns n, law ("M4"), method, unit ("prediction"), seconds, seconds_min, seconds_max, rounds.
    """
    sizes = _check_sizes(sizes)
    repeats = _check_count(repeats, "repeats")
    fast_below = _check_seconds(fast_below, "fast_below")
    law = M4.from_params(**SYNTHETIC_TRUTH)
    predictors = {"global": law.predict, "emulation": lambda x: predict_released("M4", SYNTHETIC_TRUTH, x)}
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


# ---------------------------------------------------------------------------------------------
# Display
# ---------------------------------------------------------------------------------------------

def _ms(v) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 0.01 else f"{v:.4f}"


def _s(v) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 1 else f"{v:.3f}"


def format_ratio(r) -> str:
    """A ratio for display: '0.83x', '3.2x' or '1,250x' ('-' if not finite)."""
    if r is None or not np.isfinite(r):
        return "-"
    return f"{r:.2f}x" if r < 1 else (f"{r:.1f}x" if r < 10 else f"{r:,.0f}x")


def format_comparison(summary: pd.DataFrame, totals: bool = True) -> pd.DataFrame:
    """:func:`summarize_comparison` as strings: median ms of each method, the per-fit ratios and,
    with ``totals``, the summed seconds and their ratio."""
    names = [c[:-3] for c in summary.columns if c.endswith("_ms")]
    if len(names) != 2:
        raise ValueError("pass the DataFrame returned by summarize_comparison().")
    a, b = names
    keys = [k for k in ("law", "domain") if k in summary.columns]
    table = summary[keys + ["curves"]].copy().rename(columns={"curves": "fits"})
    table[f"{a} ms"] = summary[f"{a}_ms"].map(_ms)
    table[f"{b} ms"] = summary[f"{b}_ms"].map(_ms)
    table["ratio (median fit)"] = summary["median_ratio"].map(format_ratio)
    table["range"] = [format_ratio_range(lo, hi) for lo, hi in zip(summary["ratio_min"], summary["ratio_max"])]
    if totals:
        table[f"{a} s"] = summary[f"{a}_s"].map(_s)
        table[f"{b} s"] = summary[f"{b}_s"].map(_s)
        table["ratio of totals"] = summary["total_ratio"].map(format_ratio)
    return table


def format_ratio_range(lo, hi) -> str:
    """A range of ratios for display: '53-666x', '0.60-728x'."""
    return f"{format_ratio(lo)[:-1]}-{format_ratio(hi)}"


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
# What ``python -m scaling perf`` prints (its options are parsed in scaling.cli)
# ---------------------------------------------------------------------------------------------

def perf_settings(laws=None, released_laws=None, sizes=DEFAULT_SIZES) -> tuple[tuple, tuple, tuple]:
    """``(laws, released_laws, sizes)`` as :func:`perf_report` takes them, checked; ``ValueError`` with a
    message for the user otherwise. ``sizes=()`` skips the growth measurement."""
    sizes = tuple(sizes)
    return _global_laws(laws), _released_laws(released_laws), _check_sizes(sizes) if sizes else ()


def _print_table(frame: pd.DataFrame, out) -> None:
    print(frame.to_string(index=False), file=out)


def perf_report(bench, bench_global, *, laws, released_laws, sizes, per_domain: int | None = None,
                n_jobs: int | None = None, literal_curves: int = 1, repeats: int = 3, cold_compile: bool = False,
                out=None, progress=None, started: float | None = None) -> None:
    """Time the benchmark fits three ways and print the comparison to ``out`` (default stdout).

    ``bench`` is the benchmark with its duplicate rows (scored as the released notebook does),
    ``bench_global`` without; ``laws``, ``released_laws`` and ``sizes`` come from :func:`perf_settings`.
    ``per_domain`` times the first N curves of each domain (default all), ``progress`` is a stream
    for progress lines (default none), ``started`` the clock of the final "Done in" (default now).
    """
    out = out or sys.stdout
    err = progress
    start = time.perf_counter() if started is None else started
    rel_laws = released_laws
    whole = per_domain is None
    curves = list(bench.curves) if whole else timing_subset(bench, per_domain)
    keys = {_curve_key(c) for c in curves}
    curves_global = [c for c in bench_global.curves if _curve_key(c) in keys]
    cores = _cores()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    scope = "all curves" if whole else f"the first {per_domain} per domain"
    print(f"Timing {len(curves)} curves ({scope}); released laws {', '.join(rel_laws)}; global laws "
          f"{', '.join(laws)}. {cores} core(s), load average {load:.1f}: wall-clock times on this machine, now.",
          file=out)

    from ..laws.released import warm_up

    warm = warm_up()
    report = kernel_report()
    how = "compiled" if report["compiled"] else "loaded from numba's cache"
    print(f"Kernels {how} in {warm:.2f} s (one-off, not counted below).", file=out)
    if cold_compile:
        _progress(err, "  measuring a cold compile in a fresh process ...")
        c = measure_compile_seconds(rel_laws)
        print(f"Cold compile in a fresh process (empty numba cache): {c['cold_s']:.1f} s for the first fits, "
              f"{c['warm_s']:.2f} s once cached, {c['again_s'] * 1e3:.1f} ms once compiled.", file=out)

    _progress(err, "  emulation, one thread ...")
    one = time_benchmark(curves, "released", rel_laws, n_jobs=1)
    _progress(err, f"  emulation, {n_jobs or cores} thread(s) ...")
    many = time_benchmark(curves, "released", rel_laws, n_jobs=n_jobs)
    paper = tuple(law for law in laws if law in PAPER_LAWS)
    later = tuple(law for law in laws if law not in PAPER_LAWS)
    _progress(err, "  global fits ...")
    glob = time_benchmark(curves_global, "global", paper) if paper else None
    glob_later = time_benchmark(curves_global, "global", later) if later else None
    released = released_timings(curves, rel_laws)
    released_s = float(released["seconds"].sum())

    print("\nWhole run: every fit plus its evaluation, one process", file=out)
    print(f"  {'released code (measured by others, reference data), one core':<62} {_s(released_s):>8} s  "
          f"({len(released)} fits)", file=out)
    for run in (many, one):
        print(f"  {f'emulation (Taylor walk), {run.n_jobs} thread(s)':<62} {_s(run.seconds):>8} s  "
              f"{format_ratio(released_s / run.seconds):>7} faster", file=out)
    for run in (glob, glob_later):
        if run is not None:
            print(f"  {'global fits (different estimator), one thread, ' + ','.join(run.laws):<62} "
                  f"{_s(run.seconds):>8} s", file=out)
    if whole and rel_laws == LAWS_RELEASED:
        t = speed_target(many.seconds)
        verdict = "met" if t["met"] else "not met"
        print(f"  target: all 368 fits plus evaluation under {t['target_seconds']:.0f} s on two cores, i.e. at least "
              f"{format_ratio(t['target_ratio'])}: {verdict} in this run ({_s(t['seconds'])} s, "
              f"{format_ratio(t['ratio'])}; {many.n_jobs} thread(s))", file=out)
    else:
        print("  (the 10 s target is for all 92 curves and M1-M4; this run timed a subset)", file=out)

    emu = one.timings
    comparison = compare_methods(released, emu)
    print("\nTime per fit, released (measured) against our emulation (one thread); ratio = released / emulation",
          file=out)
    _print_table(format_comparison(summarize_comparison(comparison, with_total=True)), out)
    print("\nPer law and domain", file=out)
    _print_table(format_comparison(summarize_comparison(comparison, by_domain=True)), out)
    try:
        model = released_cost_model(comparison)
    except ValueError:
        model = None
    if model is not None:
        print("\nWhere the released time goes (fitted on its measured times against our round counts)", file=out)
        for r in model.itertuples():
            print(f"  {r.law}: {r.first_s:.2f} s for the 100 gradient rounds ({r.us_per_gradient_step:.1f} us a step), "
                  f"{r.round_ms:.2f} ms per Newton round ({r.us_per_newton_step:.0f} us a step), r = {r.r:.3f}; "
                  f"emulation {1e3 * r.emulation_first_s:.1f} ms and {1e3 * r.emulation_round_ms:.1f} us", file=out)
        odd = round_mismatches(comparison, model)
        if len(odd):
            print(f"  {len(odd)} fit(s) whose released time implies a round count more than 2x from ours: "
                  + "; ".join(f"{r.domain} {r.label} {r.law} ({r.n_iter} rounds here, about {r.implied_rounds:,.0f} "
                              f"there)" for r in odd.itertuples()), file=out)

    frames = [released, emu]
    if literal_curves:
        subset = timing_subset(curves, literal_curves)
        walk_laws = [law for law in rel_laws if law in WALK_LAWS]
        if walk_laws:
            _progress(err, f"  literal walk on {len(subset)} curve(s) ...")
            literal = time_benchmark(subset, "released", walk_laws, n_jobs=1, walk="literal").timings
            frames.append(literal)
            walks = compare_methods(literal, emu)
            print(f"\nWhat the Taylor model buys: the literal walk on {len(subset)} curve(s) (first "
                  f"{literal_curves} per domain), one thread; ratio = literal / emulation", file=out)
            _print_table(format_comparison(summarize_comparison(walks)), out)
    for run in (glob, glob_later):
        if run is not None:
            frames.append(run.timings)
    if glob is not None and set(glob.laws) & set(rel_laws):
        vs_global = compare_methods(released, glob.timings)
        print("\nThe global fits (a different estimator, different answers); ratio = released / global", file=out)
        _print_table(format_comparison(summarize_comparison(vs_global, with_total=True)), out)
    all_timings = pd.concat(frames, ignore_index=True)
    print("\nOne pass over these curves (sum of per-fit times)", file=out)
    totals = benchmark_totals(all_timings)
    for method, g in totals.groupby("method", sort=False):
        cells = ", ".join(f"{r.law} {_s(r.total_s)} s" for r in g.itertuples() if r.law != "all")
        row = g[g["law"] == "all"].iloc[0]
        print(f"  {method:>9}: {_s(row.total_s):>8} s for {row.fits} fits ({cells})", file=out)
    if sizes:
        print(f"\nCost against the number of fitted points n (synthetic M4-shaped curves, n = "
              f"{', '.join(map(str, sizes))})", file=out)
        growth = time_vs_points(sizes, laws, released_laws=rel_laws, repeats=repeats, progress=err is not None)
        growth = pd.concat([growth, time_predictions(sizes, repeats=repeats)], ignore_index=True)
        _print_table(format_slopes(growth_slopes(growth)), out)
        print("  (slope of log time against log n: 0 = fixed cost, 1 = proportional to n; emulation M2/M3/M4 "
              "per outer round)", file=out)
    print(f"\nDone in {time.perf_counter() - start:.1f} s.", file=out)
