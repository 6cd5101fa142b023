"""Extrapolation error, its standard error, win fractions and the benchmark runner."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._checks import as_positive_array
from .laws import LAWS, PAPER_LAWS, law_for_domain, resolve_law_name

__all__ = ["extrapolation_rmse", "rmse_standard_error", "fit_curve", "run_benchmark", "win_fractions", "ESTIMATORS",
           "truncate_rmse", "WIN_RULES", "FAILED_RMSE", "FIGURE1_TIE_RULE", "resolve_estimator"]

# The released notebook scores a failed fit as RMSE 1 (far worse than any real fit).
FAILED_RMSE = 1.0
WIN_RULES = ("split", "credit-all")
#: The tie rule of the paper's Figure 1 (bottom), per domain: its image-classification bars sum to 1
#: (the released notebook's cell splits a tie's win among the tied laws), while its NMT, LM and
#: BIG-Bench bars equal the share of bold cells of Tables 2 and 3 (every tied law credited in full).
#: Pass it as ``win_fractions(results, rule=FIGURE1_TIE_RULE)``; every Figure 1 the package computes
#: uses it.
FIGURE1_TIE_RULE = {"IC": "split", "NMT": "credit-all", "LM": "credit-all", "BB": "credit-all"}
DOMAIN_ORDER = ("IC", "NMT", "LM", "BB")


def _squared_log_errors(y_true, y_pred) -> np.ndarray:
    y_true = as_positive_array(y_true, "y_true")
    y_pred = as_positive_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}.")
    if y_true.size == 0:
        raise ValueError("no held-out points: the extrapolation error needs at least one.")
    return (np.log(y_pred) - np.log(y_true)) ** 2


def extrapolation_rmse(y_true, y_pred) -> float:
    """Root mean squared error of the natural log of the loss (paper Eq. 6)."""
    return float(np.sqrt(np.mean(_squared_log_errors(y_true, y_pred))))


def rmse_standard_error(y_true, y_pred) -> float:
    """The "±" of the released code: one standard error of the mean squared log error, mapped to RMSE.

    With ``e_i`` the squared log errors, ``mu`` their mean and ``s`` their
    standard deviation (ddof 0): ``sqrt(mu + s / sqrt(n)) - sqrt(mu)``.
    A single held-out point gives 0.  Duplicated points count in ``n``.
    """
    e = _squared_log_errors(y_true, y_pred)
    mu = e.mean()
    return float(np.sqrt(mu + e.std() / np.sqrt(e.size)) - np.sqrt(mu))


def fit_curve(curve, law: str, keep_predictions: bool = False, estimator: str = "sound", **settings) -> dict:
    """Fit one law (configured for the curve's domain) on the fit part; score it on the held-out part.

    ``estimator`` is ``"sound"`` (log loss, :mod:`scaling.sound`), ``"global"`` (the global minimum
    of Eq. 4/5) or ``"local"`` (Eq. 4 descended from the released start) for M1-M4; BNSL and the
    Chinchilla-style law always use their own fit, which already works on log predictions.
    ``settings`` are keyword overrides of the law's per-domain configuration.

    Returns a flat dict: rmse, se, fit_seconds, converged, train_loss,
    objective (what the optimiser minimised: ``objective_``), the parameters, and ``error`` (the message of a failed fit, else "").  With
    ``keep_predictions``, ``pred`` holds the predicted loss at each held-out
    point (``curve.x_test`` order; ``None`` for a failed fit).
    """
    law = resolve_law_name(law)
    if estimator not in ("sound", "global", "local"):
        raise ValueError(f"fit_curve fits with 'sound', 'global' or 'local', got {estimator!r} "
                         "(the released code's fits come from run_benchmark(..., estimator='released')).")
    row = {"domain": curve.domain, "task": curve.task, "model": curve.model, "law": law}
    if keep_predictions:
        row["pred"] = None
    start = time.perf_counter()
    try:
        fitted = law_for_domain(law, curve.domain, estimator, **settings).fit(curve.x_fit, curve.loss_fit)
        pred = fitted.predict(curve.x_test)
        rmse = extrapolation_rmse(curve.loss_test, pred)
        se = rmse_standard_error(curve.loss_test, pred)
        row.update(rmse=rmse, se=se, converged=fitted.converged_, train_loss=fitted.loss_,
                   objective=fitted.objective_, **fitted.params_, error="")
        row.setdefault("c", fitted.c_)  # BNSL names its exponents c0, c1: c is its asymptotic one
        if keep_predictions:
            row["pred"] = pred
    except ValueError as exc:  # a curve the law cannot fit is scored as a failure, not hidden
        row.update(rmse=np.nan, se=np.nan, converged=False, train_loss=np.nan, objective=np.nan, error=str(exc))
    row["fit_seconds"] = time.perf_counter() - start
    return row


#: How a law is fitted: ``"released"`` is the paper's method (the authors' released code, emulated
#: exactly by :mod:`scaling.released`); ``"global"`` the global minimum of the paper's stated loss
#: (Eq. 4/5); ``"local"`` a descent on that loss from the released starting point; ``"sound"`` each
#: law fitted on log loss, the quantity extrapolation is scored in (:mod:`scaling.sound`; M1-M4).
ESTIMATORS = ("released", "global", "local", "sound")


def resolve_estimator(estimator: str | None, search: str | None = None, default: str = "released") -> str:
    """The estimator name, ``default`` when None; the older keyword ``search`` ("global" or
    "local") is accepted in its place, and the two must agree when both are given."""
    if search is not None:
        if search not in ("global", "local"):
            raise ValueError(f"search must be 'global' or 'local', got {search!r} (or pass estimator= one of "
                             f"{ESTIMATORS}).")
        if estimator is not None and estimator != search:
            raise ValueError(f"estimator={estimator!r} and search={search!r} disagree; pass only estimator=.")
        estimator = search
    estimator = default if estimator is None else estimator
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}.")
    return estimator


def run_benchmark(bench, laws: Iterable[str] = PAPER_LAWS, progress: bool = False,
                  stream=None, settings: dict | None = None, keep_predictions: bool = False,
                  estimator: str = "sound") -> pd.DataFrame:
    """Fit every law on every curve of the benchmark; one row per (curve, law).

    ``laws`` defaults to the paper's M1-M4; any registered name works (see
    :data:`scaling.laws.LAWS`).  ``estimator`` is one of :data:`ESTIMATORS`: ``"released"``
    hands the fits to :func:`scaling.released.run_released_benchmark` (M1-M4 only; score it on
    ``load_benchmark(drop_duplicates=False)`` to count every held-out row as the paper did),
    ``"global"`` the global minimum of Eq. 4/5, ``"local"`` an Eq. 4 descent from the released start
    (M2 and M4), ``"sound"`` (the default, as for a law's own ``fit``) the fit on log loss.
    ``settings`` maps a law name to keyword
    overrides of its per-domain configuration, e.g. ``{"M4": {"learn_eps0": False}}``, for the
    paper-versus-notebook variants (with ``"released"``: options of
    :func:`scaling.released.fit_released`, e.g. ``{"M4": {"update_eps0": False}}``).
    ``keep_predictions`` adds a ``pred`` column with the held-out predictions (see :func:`fit_curve`).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}.")
    if estimator == "released":
        return _run_released(bench, laws, progress, stream, settings or {}, keep_predictions)
    settings = dict(settings or {})
    laws = tuple(laws)
    unknown = [name for name in laws if name.lower() not in {k.lower() for k in LAWS}]
    if unknown:
        raise ValueError(f"unknown law(s) {unknown}; choose from {list(LAWS)}.")
    laws = tuple(resolve_law_name(name) for name in laws)
    settings = {resolve_law_name(k): v for k, v in settings.items()}
    stream = stream or sys.stderr
    curves = list(bench.curves)
    total = len(curves) * len(laws)
    rows, done, start = [], 0, time.perf_counter()
    for curve in curves:
        for law in laws:
            rows.append(fit_curve(curve, law, keep_predictions=keep_predictions, estimator=estimator,
                                  **settings.get(law, {})))
            done += 1
            if progress and (done % max(1, total // 20) == 0 or done == total):
                print(f"\r  fitted {done:4d}/{total} ({curve.domain:>3}) in {time.perf_counter() - start:6.2f} s",
                      end="\n" if done == total else "", file=stream, flush=True)
    columns = ["domain", "task", "model", "law", "rmse", "se", "fit_seconds", "converged", "train_loss",
               "objective", "beta", "c", "eps_inf", "eps0", "alpha", "gamma"]
    frame = pd.DataFrame(rows)
    # Parameters of later laws (BNSL's d1, f1, ...) follow the paper's, so nothing a fit reports is dropped.
    extra = [col for col in frame.columns if col not in columns and col not in ("error", "pred")]
    tail = ["error"] + (["pred"] if keep_predictions else [])
    return frame.reindex(columns=columns + extra + tail)


def _run_released(bench, laws, progress, stream, settings, keep_predictions) -> pd.DataFrame:
    from .released import LAWS_RELEASED, predict_released, run_released_benchmark

    laws = tuple(resolve_law_name(name) for name in laws)
    other = [name for name in laws if name not in LAWS_RELEASED]
    if other:
        raise ValueError(f"the released code fits only {list(LAWS_RELEASED)}, not {other}; use estimator='global'.")
    if any(settings.get(law) for law in laws):  # options differ per law: one run per law
        frame = pd.concat([run_released_benchmark(bench, laws=(law,), progress=progress, stream=stream,
                                                  **settings.get(law, {})) for law in laws], ignore_index=True)
    else:  # one run: every fit in one pool of threads
        frame = run_released_benchmark(bench, laws=laws, progress=progress, stream=stream)
    frame["objective"] = frame["train_loss"]
    # rows in run_benchmark's order: curves as in the bench, laws as given
    curve_rank = {(c.domain, c.task, c.model): i for i, c in enumerate(bench.curves)}
    law_rank = {law: i for i, law in enumerate(laws)}
    key = [curve_rank[k] * len(laws) + law_rank[law]
           for k, law in zip(zip(frame["domain"], frame["task"], frame["model"]), frame["law"])]
    frame = frame.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)
    if keep_predictions:
        curves = {(c.domain, c.task, c.model): c for c in bench.curves}
        frame["pred"] = [None if r.error else predict_released(r.law, _released_params(r), curves[(r.domain, r.task, r.model)].x_test)
                         for r in frame.itertuples(index=False)]
    return frame


def _released_params(row) -> dict:
    names = {"M1": ("beta", "c"), "M2": ("beta", "c", "eps_inf"), "M3": ("beta", "c", "gamma"),
             "M4": ("beta", "c", "eps_inf", "eps0", "alpha")}[row.law]
    return {k: float(getattr(row, k)) for k in names}


def truncate_rmse(values, decimals: int | None):
    """RMSEs truncated (not rounded) to ``decimals`` decimals, as the released notebook compares them.

    ``decimals=None`` returns ``values`` unchanged.  The tiny nudge keeps a value such as 0.003, which
    floating point stores as 0.0029999999999999996, from dropping to 0.002.  Works on arrays, Series
    and DataFrames alike.
    """
    if decimals is None:
        return values
    factor = 10.0**decimals
    return np.floor(values * factor + 1e-9) / factor


def win_fractions(results: pd.DataFrame, rule="split", decimals: int | None = 3) -> pd.DataFrame:
    """Fraction of each domain's curves on which each law extrapolates best (Figure 1, bottom).

    rule ``"split"`` is the released notebook's: RMSEs are truncated to
    ``decimals`` decimals (``None``: no truncation), a failed fit counts as
    RMSE 1, and a tie shares one win among the tied laws, so a domain's row
    sums to 1.  Rule ``"credit-all"`` gives every tied law a full win.
    ``rule`` may also map each domain to its rule, e.g. :data:`FIGURE1_TIE_RULE`
    (the paper's Figure 1); a domain missing from the mapping raises ValueError.
    """
    rules = dict(rule) if isinstance(rule, Mapping) else None
    for r in (rules.values() if rules is not None else [rule]):
        if r not in WIN_RULES:
            raise ValueError(f"unknown rule {r!r}; choose one of {WIN_RULES}.")
    missing = {"domain", "task", "model", "law", "rmse"} - set(results.columns)
    if missing:
        raise ValueError(f"results lack column(s) {sorted(missing)}; pass the frame from run_benchmark().")
    table = results.set_index(["domain", "task", "model", "law"])["rmse"].unstack("law")
    scores = table.fillna(FAILED_RMSE).to_numpy(dtype=float)
    scores = truncate_rmse(scores, decimals)
    best = scores.min(axis=1, keepdims=True)
    tied = scores == best
    domains = table.index.get_level_values("domain")
    if rules is not None:
        unknown = sorted(set(domains) - set(rules))
        if unknown:
            raise ValueError(f"rule mapping has no entry for domain(s) {unknown}; it covers {sorted(rules)}.")
        split = np.array([rules[d] == "split" for d in domains], dtype=bool)[:, None]
    else:
        split = np.full((len(domains), 1), rule == "split")
    credit = np.where(split, tied / tied.sum(axis=1, keepdims=True), tied.astype(float))
    wins = pd.DataFrame(credit, index=table.index, columns=table.columns)
    out = wins.groupby(level="domain").mean()
    order = [d for d in DOMAIN_ORDER if d in out.index] + [d for d in out.index if d not in DOMAIN_ORDER]
    out = out.loc[order]
    out.columns.name = "law"
    return out
