"""Extrapolation error, its standard error, win fractions and the benchmark runner."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._progress import Progress
from .benchmark.catalogue import DOMAINS, RESULT_COLUMNS
from .benchmark.data import curve_list
from .metrics import FAILED_RMSE, extrapolation_rmse, rmse_standard_error, truncate_rmse
from .laws.paper import LAWS, PAPER_LAWS, law_for_domain, resolve_law_name
from .laws.released import RELEASED_PARAMS, ReleasedFit

__all__ = ["extrapolation_rmse", "rmse_standard_error", "fit_curve", "run_benchmark", "win_fractions", "ESTIMATORS",
           "truncate_rmse", "WIN_RULES", "FAILED_RMSE", "FIGURE1_TIE_RULE", "resolve_estimator",
           "law_from_row", "rescore", "winner_mask", "RESULT_COLUMNS", "ESTIMATOR_DESCRIPTIONS"]

#: How :func:`win_fractions` counts a tie: ``"split"`` shares one win among the tied laws (the released
#: notebook), ``"credit-all"`` gives every tied law a full win.
WIN_RULES = ("split", "credit-all")
#: The tie rule of the paper's Figure 1 (bottom), per domain: its image-classification bars sum to 1
#: (the released notebook's cell splits a tie's win among the tied laws), while its NMT, LM and
#: BIG-Bench bars equal the share of bold cells of Tables 2 and 3 (every tied law credited in full).
#: Pass it as ``win_fractions(results, rule=FIGURE1_TIE_RULE)``; every Figure 1 the package computes
#: uses it.
FIGURE1_TIE_RULE = {"IC": "split", "NMT": "credit-all", "LM": "credit-all", "BB": "credit-all"}
DOMAIN_ORDER = DOMAINS  # (the name the studies use)


def fit_curve(curve, law: str, keep_predictions: bool = False, estimator: str = "sound", **settings) -> dict:
    """Fit one law (configured for the curve's domain) on the fit part; score it on the held-out part.

    ``estimator`` is ``"sound"`` (log loss, :mod:`scaling.laws.sound`), ``"global"`` (the global minimum
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


#: What each estimator name means, in one sentence (the ``benchmark`` command prints them).
ESTIMATOR_DESCRIPTIONS = {
    "released": "the paper's method, emulating the authors' released code",
    "global": "the global minimum of the paper's loss, Eq. 4",
    "local": "a local descent from the released code's starting point",
    "sound": "each law fitted on log loss, the quantity extrapolation is scored in",
}
#: How a law is fitted: ``"released"`` is the paper's method (the authors' released code, emulated
#: exactly by :mod:`scaling.laws.released`); ``"global"`` the global minimum of the paper's stated loss
#: (Eq. 4/5); ``"local"`` a descent on that loss from the released starting point; ``"sound"`` each
#: law fitted on log loss, the quantity extrapolation is scored in (:mod:`scaling.laws.sound`; M1-M4).
ESTIMATORS = tuple(ESTIMATOR_DESCRIPTIONS)


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

    ``bench`` is a :class:`scaling.benchmark.Benchmark` or a list of its curves (any
    :class:`scaling.benchmark.LearningCurve`, e.g. one cut by ``curve.with_fit_part``).

    ``laws`` defaults to the paper's M1-M4; any registered name works (see
    :data:`scaling.laws.LAWS`).  ``estimator`` is one of :data:`ESTIMATORS`: ``"released"``
    hands the fits to :func:`scaling.laws.released.run_released_benchmark` (M1-M4 only; score it on
    ``load_benchmark(drop_duplicates=False)`` to count every held-out row as the paper did),
    ``"global"`` the global minimum of Eq. 4/5, ``"local"`` an Eq. 4 descent from the released start
    (M2 and M4), ``"sound"`` (the default, as for a law's own ``fit``) the fit on log loss.
    ``settings`` maps a law name to keyword
    overrides of its per-domain configuration, e.g. ``{"M4": {"learn_eps0": False}}``, for the
    paper-versus-notebook variants (with ``"released"``: options of
    :func:`scaling.laws.released.fit_released`, e.g. ``{"M4": {"update_eps0": False}}``).
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
    curves = curve_list(bench)
    rows = []
    with Progress(len(curves) * len(laws), "fitted", stream, enabled=progress) as bar:
        for curve in curves:
            for law in laws:
                rows.append(fit_curve(curve, law, keep_predictions=keep_predictions, estimator=estimator,
                                      **settings.get(law, {})))
                bar.update(1, note=curve.domain)
    columns = list(RESULT_COLUMNS)
    frame = pd.DataFrame(rows)
    # Parameters of later laws (BNSL's d1, f1, ...) follow the paper's, so nothing a fit reports is dropped.
    extra = [col for col in frame.columns if col not in columns and col not in ("error", "pred")]
    tail = ["error"] + (["pred"] if keep_predictions else [])
    return frame.reindex(columns=columns + extra + tail)


def _run_released(bench, laws, progress, stream, settings, keep_predictions) -> pd.DataFrame:
    from .laws.released import LAWS_RELEASED, predict_released, run_released_benchmark

    bench = curve_list(bench)
    laws = tuple(resolve_law_name(name) for name in laws)
    other = [name for name in laws if name not in LAWS_RELEASED]
    if other:
        raise ValueError(f"the released code fits only {list(LAWS_RELEASED)}, not {other}; use estimator='global'.")
    if any(settings.get(law) for law in laws):  # options differ per law: one run per law
        frame = pd.concat([run_released_benchmark(bench, laws=(law,), progress=progress, stream=stream,
                                                  **settings.get(law, {})) for law in laws], ignore_index=True)
    else:  # one run: every fit in one pool of threads
        frame = run_released_benchmark(bench, laws=laws, progress=progress, stream=stream)
    # rows in run_benchmark's order: curves as in the bench, laws as given
    curve_rank = {(c.domain, c.task, c.model): i for i, c in enumerate(bench)}
    law_rank = {law: i for i, law in enumerate(laws)}
    key = [curve_rank[k] * len(laws) + law_rank[law]
           for k, law in zip(zip(frame["domain"], frame["task"], frame["model"]), frame["law"])]
    frame = frame.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)
    if keep_predictions:
        curves = {(c.domain, c.task, c.model): c for c in bench}
        frame["pred"] = [None if r.error else predict_released(r.law, _released_params(r), curves[(r.domain, r.task, r.model)].x_test)
                         for r in frame.itertuples(index=False)]
    return frame


def _released_params(row) -> dict:
    names = {"M1": ("beta", "c"), "M2": ("beta", "c", "eps_inf"), "M3": ("beta", "c", "gamma"),
             "M4": ("beta", "c", "eps_inf", "eps0", "alpha")}[row.law]
    return {k: float(getattr(row, k)) for k in names}


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


def law_from_row(row):
    """The fitted law one row of a results frame describes (its ``law`` and parameters), ready to
    predict and plot (``name``, ``params_``, ``c_``, ``predict``).

    A row of the released estimator (column ``estimator`` is ``"released"``) gives a
    :class:`scaling.laws.released.ReleasedFit`, which predicts as the released code does (M4 on its
    10,000-point grid); any other row gives the package's law with those parameters. A failed fit
    (a parameter that is not a finite number) raises ValueError with the fit's error.
    """
    estimator = row.get("estimator", row.get("search")) if hasattr(row, "get") else None
    name = row["law"]
    names = RELEASED_PARAMS[name] if estimator == "released" else LAWS[name].all_param_names()
    params = {p: float(row[p]) for p in names}
    if not all(np.isfinite(v) for v in params.values()):
        why = row.get("error", "") if hasattr(row, "get") else ""
        raise ValueError(f"the {name} fit of this row failed" + (f": {why}" if why else "") + ".")
    return ReleasedFit(name, params) if estimator == "released" else LAWS[name].from_params(**params)


def rescore(results: pd.DataFrame, bench_or_curves) -> pd.DataFrame:
    """Score the fitted parameters of ``results`` on the held-out points of other curves with the
    same keys (e.g. ``load_benchmark(drop_duplicates=False)``): ``rmse`` and ``se`` are recomputed
    from :func:`law_from_row`'s predictions, the fits are not repeated. Failed fits stay failed."""
    curves = {(c.domain, str(c.task), str(c.model)): c for c in getattr(bench_or_curves, "curves", bench_or_curves)}
    out = results.copy()
    for i, row in results.iterrows():
        curve = curves.get((row["domain"], str(row["task"]), str(row["model"])))
        if curve is None:
            raise ValueError(f"no curve {(row['domain'], row['task'], row['model'])} to rescore on.")
        if not np.isfinite(row["rmse"]):
            continue
        pred = law_from_row(row).predict(curve.x_test)
        out.loc[i, "rmse"] = extrapolation_rmse(curve.loss_test, pred)
        out.loc[i, "se"] = rmse_standard_error(curve.loss_test, pred)
    return out


def winner_mask(rmse: pd.DataFrame, se: pd.DataFrame | None = None, rule: str = "best",
                decimals: int | None = None) -> pd.DataFrame:
    """Which cells of a (curve x law) RMSE table count as best in their row.

    ``rule="best"``: the smallest RMSE (ties, after truncation to ``decimals``
    decimals if given, all win).  ``rule="within-se"``: every law whose RMSE is
    at most the best RMSE plus the best law's standard error; this rule
    reproduces the bold cells of the paper's Tables 2 and 3 (the paper's bold cells).
    """
    if rule not in ("best", "within-se"):
        raise ValueError(f"unknown rule {rule!r}; use 'best' or 'within-se'.")
    scores = rmse.fillna(1.0)
    scores = truncate_rmse(scores, decimals)
    best = scores.min(axis=1)
    if rule == "best":
        return scores.eq(best, axis=0)
    if se is None:
        raise ValueError("rule 'within-se' needs the standard errors (se=...).")
    best_law = scores.idxmin(axis=1)
    best_se = pd.Series([se.loc[i, law] for i, law in best_law.items()], index=scores.index).fillna(0.0)
    return scores.le(best + best_se, axis=0)
