"""How much a law's extrapolation depends on how much of the curve it sees, and on its optimiser's start.

Two studies, both taking the list of laws as input (any names registered in :data:`scaling.LAWS`):

* **Less data** (:func:`less_data_study`): each law is fitted on the first 25 / 50 / 75 / 100 % of
  a curve's fitting points (in order of x; ``curve.with_fit_part(fraction=...)``) and always scored on the same
  held-out points.  ``estimator`` says how the paper's laws M1-M4 are fitted (one of
  :data:`scaling.evaluate.ESTIMATORS`, as in :func:`scaling.evaluate.run_benchmark`; BNSL and the
  Chinchilla-style fit keep their own log-loss fits under every name).  A fit with fewer distinct
  points than the law has parameters fails with a ValueError; the failure is kept as a row with its
  message, never dropped.  :func:`failure_counts` counts them; :func:`median_rmse` gives the median
  RMSE over the curves on which *every* law could be fitted, with a bootstrap interval over those
  curves.
* **Other starts** (:func:`start_study`): the package's global search of each law's own loss (the
  paper's Eq. 4 for M2 and M4), and one local descent of that loss from each of several seeded
  random starts (``law.random_start``), and for M2/M4 from the released code's start
  (``search="local"``).  ``estimators`` adds, for comparison, each paper law fitted by other
  estimators (e.g. the sound estimator, or the released code itself).  :func:`start_spread`
  summarises each (curve, law) and :func:`start_summary` each (domain, law): how often a descent
  reaches the global training loss and how much the extrapolation RMSE moves between starts.

Random numbers come from a seed and a checksum of the (curve, law) names, so a curve's starts do not
change when the subset of curves or laws changes.  Both studies take ``n_jobs`` (processes sharing
the curves; None: every core); their results do not depend on it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..cache import cached_result
from .. import _pool
from .._progress import Progress
from ..benchmark.data import LearningCurve
from ..evaluate import DOMAIN_ORDER, ESTIMATORS, run_benchmark
from ..laws.paper import LAWS, PAPER_LAWS, law_for_domain, resolve_law_name

__all__ = ["FRACTIONS", "REACH_RTOL", "RELEASED_START_LAWS", "ESTIMATOR_KINDS",
           "sample_curves", "less_data_study", "failure_counts", "common_curve_rows", "median_rmse",
           "start_study", "start_spread", "start_summary"]

#: Fractions of the fitting part used by the less-data study (1.0 is the paper's full fit).
FRACTIONS = (0.25, 0.5, 0.75, 1.0)
#: A local descent "reaches" the global fit when its training loss is at most this much
#: (relative) above the global search's.
REACH_RTOL = 1e-3
# Absolute slack of that comparison, for curves a law fits (almost) exactly.
_REACH_ATOL = 1e-12
# "Reaching the global minimum" is judged on what each law minimises (its ``objective_``: the Huber
# loss for Chinchilla, the mean squared log residual for the others).
# Laws that take search="local", i.e. have a start taken from the released code.
RELEASED_START_LAWS = ("M2", "M4")
# The kinds of fit of a start study that are not extra estimators.
_START_KINDS = ("global", "released", "random")
#: The ``kind`` of a start study's rows fitted by another estimator ("released" is taken by the
#: descent from the released code's *start*, so the released code's own fit is "released_code").
ESTIMATOR_KINDS = {"sound": "sound", "released": "released_code"}


# ---------------------------------------------------------------------------------------------
def sample_curves(bench, n_ic: int = 16, seed: int = 0) -> list[LearningCurve]:
    """Every NMT, LM and BIG-Bench curve plus a seeded sample of ``n_ic`` image-classification curves,
    spread evenly over the four IC datasets (``n_ic`` must be a multiple of 4, at most 72)."""
    ic = bench.by_domain("IC")
    datasets = sorted({c.task_name for c in ic})
    if not (isinstance(n_ic, (int, np.integer)) and 0 <= n_ic <= len(ic) and n_ic % len(datasets) == 0):
        raise ValueError(f"n_ic must be a multiple of {len(datasets)} between 0 and {len(ic)}, got {n_ic!r}.")
    rng = np.random.default_rng(seed)
    chosen = set()
    for name in datasets:
        members = [i for i, c in enumerate(ic) if c.task_name == name]
        chosen.update(int(i) for i in rng.choice(members, n_ic // len(datasets), replace=False))
    others = [c for c in bench.curves if c.domain != "IC"]
    return [ic[i] for i in sorted(chosen)] + others


def _check_laws(laws) -> tuple[str, ...]:
    if isinstance(laws, str):
        laws = (laws,)
    laws = tuple(resolve_law_name(name) for name in laws)
    if not laws:
        raise ValueError(f"give at least one law, e.g. laws={tuple(LAWS)}.")
    return laws


def _check_curves(curves) -> list:
    curves = list(curves)
    if not curves:
        raise ValueError("no curves given; pass e.g. bench.curves or sample_curves(bench).")
    return curves


def _check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}.")
    return estimator


def _curve_columns(curve) -> dict:
    return {"domain": curve.domain, "task": curve.task, "model": curve.model, "curve": curve.label}


def _score(row) -> dict:
    return {"rmse": row["rmse"], "train_loss": row["objective"], "error": row["error"]}


def _fit_and_score(curve, laws: Sequence[str], estimator: str = "global", settings: dict | None = None) -> dict:
    """{law: score} of :func:`scaling.evaluate.run_benchmark` on one curve, ``train_loss`` the minimised
    objective. M1-M4 are fitted by ``estimator``; other laws by their own fit (under "released",
    whose code has only M1-M4, as under "sound")."""
    laws = tuple(laws)
    runs = [(laws, estimator)]
    if estimator == "released":
        runs = [(tuple(n for n in laws if n in PAPER_LAWS), "released"),
                (tuple(n for n in laws if n not in PAPER_LAWS), "sound")]
    out = {}
    for names, how in runs:
        if names:
            frame = run_benchmark([curve], laws=names, estimator=how, settings=settings)
            out.update({row["law"]: _score(row) for row in frame.to_dict("records")})
    return out


# ---------------------------------------------------------------------------------------------
def _less_data_rows(job) -> list[dict]:
    """The rows of one curve at one fraction (a worker's unit of work)."""
    curve, laws, fraction, estimator = job
    with _pool.quiet():
        part = curve.with_fit_part(fraction=fraction)
        scores = _fit_and_score(part, laws, estimator)
    return [{**_curve_columns(curve), "law": law, "fraction": fraction, "n_fit": part.n_fit, **scores[law],
             "estimator": estimator} for law in laws]


@cached_result(ignore=("progress", "stream", "n_jobs", "on_done"))
def _fraction_rows(curves: tuple, laws: tuple, fraction: float, estimator: str, n_jobs=1,
                   on_done=None) -> list[list[dict]]:
    """Per curve, the rows of one fraction: cached on its own, so that a study of other fractions (the
    starts study reads the full fits) reuses it instead of fitting again."""
    jobs = [(curve, laws, fraction, estimator) for curve in curves]
    return _pool.map_in_order(_less_data_rows, jobs, n_jobs=n_jobs, on_done=on_done)


def less_data_study(curves: Iterable[LearningCurve], laws: Sequence[str], fractions: Sequence[float] = FRACTIONS,
                    estimator: str = "global", n_jobs=1, progress: bool = False, stream=None) -> pd.DataFrame:
    """Fit every law on the first ``fraction`` of every curve's fitting part; score on the full held-out part.

    One row per (curve, law, fraction): domain, task, model, curve (label), law, fraction, n_fit
    (fitting points kept), rmse (NaN for a failed fit), train_loss (the objective the law's optimiser
    minimises; ``objective_`` of the fitted law), error (its message, else ""), estimator.
    ``estimator`` fits M1-M4 as :func:`scaling.evaluate.run_benchmark` does (default ``"global"``, the
    global minimum of the paper's Eq. 4; ``"sound"``: on log loss; ``"released"``: the released
    code); BNSL and the Chinchilla-style fit keep their own fits. ``n_jobs`` processes share the
    curves (None: every core). Each fraction's fits are cached on their own (:mod:`scaling.cache`).
    """
    curves, laws = tuple(_check_curves(curves)), tuple(_check_laws(laws))
    estimator = _check_estimator(estimator)
    fractions = sorted({float(f) for f in fractions})
    if not fractions:
        raise ValueError("give at least one fraction, e.g. fractions=(0.25, 0.5, 0.75, 1.0).")
    with Progress(len(curves) * len(fractions), f"less-data fits ({estimator}; curves x {len(fractions)} "
                                                 f"fractions, {len(laws)} laws each)", stream, enabled=progress) as bar:
        per_fraction = [_fraction_rows(curves, laws, f, estimator, n_jobs=n_jobs, on_done=bar.update)
                        for f in fractions]
    # rows by curve, then fraction, then law
    return pd.DataFrame([row for i in range(len(curves)) for block in per_fraction for row in block[i]])


def _domain_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    rank = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    return frame.sort_values(["domain"], key=lambda s: s.map(rank), kind="stable")


def failure_counts(study: pd.DataFrame) -> pd.DataFrame:
    """Failed fits per (domain, fraction) and law, with the number of curves (column ``curves``)."""
    _require(study, {"domain", "fraction", "law", "error", "task", "model"}, "less_data_study")
    failed = study.assign(failed=study["error"].ne("")).pivot_table(
        index=["domain", "fraction"], columns="law", values="failed", aggfunc="sum", sort=False)
    failed = failed[list(dict.fromkeys(study["law"]))].astype(int)
    n_curves = study.groupby(["domain", "fraction"], sort=False)[["task", "model"]].apply(
        lambda g: len(g.drop_duplicates()))
    failed.insert(0, "curves", n_curves.reindex(failed.index).astype(int))
    failed.columns.name = None
    return _domain_sorted(failed.reset_index()).set_index(["domain", "fraction"])


def common_curve_rows(study: pd.DataFrame) -> pd.DataFrame:
    """The rows of curves on which every law of the study was fitted, separately for each fraction."""
    _require(study, {"domain", "task", "model", "fraction", "law", "error"}, "less_data_study")
    ok = study.groupby(["domain", "task", "model", "fraction"])["error"].transform(lambda e: (e == "").all())
    return study[ok]


def median_rmse(study: pd.DataFrame, n_boot: int = 1000, level: float = 0.9, seed: int = 0,
                common: bool = True) -> pd.DataFrame:
    """Median RMSE per (domain, fraction, law), with a percentile bootstrap interval over curves.

    With ``common`` (default) the median is over the curves where *every* law was fitted at that
    fraction, and each bootstrap sample resamples the same curves for every law, so the laws stay
    comparable.  With ``common=False`` each law's median is over the curves *it* could fit (not
    comparable across laws when their failures differ).  ``lo``/``hi`` bound the interval at
    ``level``; ``n_curves`` is the number of curves behind the median; where it is 0 the median
    and interval are NaN.
    """
    _require(study, {"domain", "task", "model", "fraction", "law", "rmse", "error"}, "less_data_study")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.9, got {level}.")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}.")
    laws = list(dict.fromkeys(study["law"]))
    used = common_curve_rows(study) if common else study[study["error"].eq("")]
    rng = np.random.default_rng(seed)
    rows = []
    for (domain, fraction), _ in study.groupby(["domain", "fraction"], sort=False):
        table = (used[(used.domain == domain) & (used.fraction == fraction)]
                 .pivot_table(index=["task", "model"], columns="law", values="rmse")
                 .reindex(columns=laws))
        # one set of columns per bootstrap: all laws together (common) or each law alone
        groups = [laws] if common else [[law] for law in laws]
        for names in groups:
            values = table[names].dropna().to_numpy(float)             # curves x laws
            n = len(values)
            if n:
                idx = rng.integers(0, n, size=(int(n_boot), n))
                boot = np.median(values[idx], axis=1)                  # n_boot x laws
                lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
                med = np.median(values, axis=0)
            else:
                med = lo = hi = np.full(len(names), np.nan)
            for k, law in enumerate(names):
                rows.append({"domain": domain, "fraction": fraction, "law": law, "n_curves": n,
                             "median": med[k], "lo": lo[k], "hi": hi[k]})
    return _domain_sorted(pd.DataFrame(rows)).reset_index(drop=True)


def _require(frame, columns, producer):
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"the frame lacks column(s) {sorted(missing)}; pass the output of {producer}().")


# ---------------------------------------------------------------------------------------------
def _rng_for(seed: int, curve, law: str) -> np.random.Generator:
    key = zlib.crc32(f"{curve.domain}|{curve.task}|{curve.model}|{law}".encode())
    return np.random.default_rng([int(seed), key])


def _start_rows(job) -> list[dict]:
    """The rows of one curve (a worker's unit of work)."""
    curve, laws, n_starts, seed, released, known, estimators = job
    rows = []
    with _pool.quiet():
        for law in laws:
            base = {**_curve_columns(curve), "law": law}
            glob = known.get(("global", law)) or _fit_and_score(curve, (law,))[law]
            rows.append({**base, "kind": "global", "start": -1, "start_point": None, **glob})
            if law in released:
                rows.append({**base, "kind": "released", "start": -1, "start_point": None,
                             **_fit_and_score(curve, (law,), settings={law: {"search": "local"}})[law]})
            for how in estimators:
                if law in PAPER_LAWS:
                    score = known.get((how, law)) or _fit_and_score(curve, (law,), how)[law]
                    rows.append({**base, "kind": ESTIMATOR_KINDS[how], "start": -1, "start_point": None,
                                 **score})
            template = law_for_domain(law, curve.domain, "global")
            rng = _rng_for(seed, curve, law)
            n = n_starts if template.searched_params else 1
            for k in range(n):
                try:
                    point = template.random_start(curve.x_fit, curve.loss_fit, rng)
                except ValueError as exc:
                    rows.append({**base, "kind": "random", "start": k, "start_point": None,
                                 "rmse": np.nan, "train_loss": np.nan, "error": str(exc)})
                    continue
                rows.append({**base, "kind": "random", "start": k, "start_point": point,
                             **_fit_and_score(curve, (law,), settings={law: {"start": point}})[law]})
    return rows


@cached_result
def start_study(curves: Iterable[LearningCurve], laws: Sequence[str], n_starts: int = 6, seed: int = 0,
                released_laws: Sequence[str] = RELEASED_START_LAWS, global_fits: pd.DataFrame | None = None,
                estimators: Sequence[str] = (), n_jobs=1, progress: bool = False, stream=None) -> pd.DataFrame:
    """Fit each law on each curve by its global search, by one local descent from each of ``n_starts``
    seeded random starts, and (for ``released_laws`` among ``laws``) from the released code's start.

    The global search and the descents minimise the law's own loss: the paper's Eq. 4 for M2 and M4
    (Eq. 5 for M3), the Huber loss for the Chinchilla-style fit, a squared log error for M1 and BNSL.
    ``estimators`` (``"sound"`` and/or ``"released"``) adds one row per paper law (M1-M4) and curve:
    the law fitted by that estimator, of ``kind`` :data:`ESTIMATOR_KINDS` ``[estimator]`` ("sound",
    "released_code"), to compare with the starts.

    One row per fit: domain, task, model, curve, law, kind ("global", "random", "released" for the
    released code's *start*, "sound", "released_code"), start (0.. for random starts, else -1),
    start_point (the dict given to the law; None otherwise), train_loss (the minimised objective, as
    in :func:`less_data_study`), rmse, error.  Laws without searched parameters (M1) have a single
    possible start, so they get one "random" row.

    ``global_fits`` (optional) reuses fits already made on the full fitting part, e.g. the
    ``fraction == 1`` rows of :func:`less_data_study`: rows of the global estimator (or without an
    ``estimator`` column) stand for the global search, rows of an estimator in ``estimators`` for that
    estimator's fit; a (curve, law) it lacks is fitted here.  ``n_jobs`` processes share the curves.
    """
    curves, laws = _check_curves(curves), _check_laws(laws)
    if not (isinstance(n_starts, (int, np.integer)) and n_starts >= 1):
        raise ValueError(f"n_starts must be a positive integer, got {n_starts!r}.")
    estimators = tuple(dict.fromkeys(_check_estimator(e) for e in estimators))
    if "global" in estimators:
        raise ValueError("the global search is always in the study; list only other estimators.")
    if set(estimators) - set(ESTIMATOR_KINDS):
        raise ValueError(f"estimators may hold {tuple(ESTIMATOR_KINDS)}; 'local' is the released start, "
                         "which the study runs for released_laws anyway.")
    released = {resolve_law_name(name) for name in released_laws}
    known = _global_lookup(global_fits)
    jobs = [(curve, laws, int(n_starts), seed, released,
             {(how, law): v for (*key, how, law), v in known.items() if tuple(key) == curve.key}, estimators)
            for curve in curves]
    with Progress(len(curves), "start fits (curves)", stream, enabled=progress) as bar:
        per_curve = _pool.map_in_order(_start_rows, jobs, n_jobs=n_jobs, on_done=bar.update)
    return pd.DataFrame([row for block in per_curve for row in block])


def _global_lookup(global_fits) -> dict:
    """(domain, task, model, estimator, law) -> {rmse, train_loss, error} from a frame of full fits."""
    if global_fits is None:
        return {}
    _require(global_fits, {"domain", "task", "model", "law", "rmse", "train_loss", "error"}, "less_data_study")
    if "fraction" in global_fits and not global_fits["fraction"].eq(1.0).all():
        raise ValueError("global_fits must be fits on the full fitting part: pass the rows with fraction == 1.")
    how = global_fits["estimator"] if "estimator" in global_fits else pd.Series("global", index=global_fits.index)
    return {(r.domain, r.task, r.model, h, r.law): {"rmse": r.rmse, "train_loss": r.train_loss, "error": r.error}
            for r, h in zip(global_fits.itertuples(), how)}


def start_spread(starts: pd.DataFrame, rtol: float = REACH_RTOL) -> pd.DataFrame:
    """One row per (curve, law) summarising its random starts against the global fit.

    Columns: global_rmse, global_loss, n_starts, n_failed (starts whose fit raised an error),
    n_reached (training loss within ``rtol`` of the global search's, relative), n_lower (clearly
    below it: the global search missed a better minimum), rmse_min / rmse_median / rmse_max over
    the successful starts, rmse_iqr, rmse_range (max - min), worst_ratio (rmse_max / global_rmse),
    and for laws with a released start: released_rmse, released_reached; for each estimator of
    the study (a ``kind`` such as "sound"): ``<kind>_rmse`` (NaN where the law has no such fit).
    A failed start counts in ``n_starts`` but never as reached.
    """
    _require(starts, {"domain", "task", "model", "curve", "law", "kind", "rmse", "train_loss", "error"},
             "start_study")
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol}.")
    extra = [k for k in dict.fromkeys(starts["kind"]) if k not in _START_KINDS]
    rows = []
    for (domain, task, model, law), g in starts.groupby(["domain", "task", "model", "law"], sort=False):
        glob = g[g.kind == "global"]
        if len(glob) != 1:
            raise ValueError(f"expected one global fit for {(domain, task, model, law)}, got {len(glob)}.")
        glob = glob.iloc[0]
        random = g[g.kind == "random"]
        ok = random[random.error == ""]
        bound = glob.train_loss * (1 + rtol) + _REACH_ATOL
        r = ok.rmse.to_numpy(float)
        row = {"domain": domain, "task": task, "model": model, "curve": glob.curve, "law": law,
               "global_rmse": glob.rmse, "global_loss": glob.train_loss, "global_error": glob.error,
               "n_starts": len(random), "n_failed": int((random.error != "").sum()),
               "n_reached": int((ok.train_loss <= bound).sum()),
               "n_lower": int((ok.train_loss < glob.train_loss * (1 - rtol) - _REACH_ATOL).sum())}
        if r.size:
            q1, q3 = np.quantile(r, [0.25, 0.75])
            row.update(rmse_min=r.min(), rmse_median=np.median(r), rmse_max=r.max(), rmse_iqr=q3 - q1,
                       rmse_range=r.max() - r.min(), worst_ratio=r.max() / glob.rmse)
        else:
            row.update(rmse_min=np.nan, rmse_median=np.nan, rmse_max=np.nan, rmse_iqr=np.nan,
                       rmse_range=np.nan, worst_ratio=np.nan)
        rel = g[g.kind == "released"]
        if len(rel):
            rel = rel.iloc[0]
            row["released_rmse"] = rel.rmse
            row["released_reached"] = bool(rel.error == "" and rel.train_loss <= bound)
        else:
            row["released_rmse"], row["released_reached"] = np.nan, np.nan
        for kind in extra:
            fit = g[(g.kind == kind) & g.error.eq("")]
            row[f"{kind}_rmse"] = fit.rmse.iloc[0] if len(fit) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def start_summary(spread: pd.DataFrame, by: Sequence[str] = ("domain", "law"), n_boot: int = 1000,
                  level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Per group (default: domain and law) of :func:`start_spread` rows.

    Columns: curves, starts, reached, reached_share (starts that reach the global loss, failed
    starts included in the denominator) with a percentile bootstrap interval over curves at
    ``level`` (reached_lo, reached_hi), failed, reached_share_ok (the share among the starts that
    did not fail), lower (starts below the global loss), the medians
    over curves of the RMSE range and IQR across starts, the median and the largest ratio of the
    worst start's RMSE to the global fit's, and for laws with a released start: released_reached
    (share of curves where it reaches the global loss) and released_median_ratio (its RMSE over
    the global fit's, median over curves), and for each estimator of the study (a ``<kind>_rmse``
    column of :func:`start_spread`, e.g. "sound"): ``<kind>_median_ratio``, its RMSE over the global
    fit's, median over the curves where it has one.  Curves whose global fit failed are left out.
    """
    _require(spread, {"n_starts", "n_reached", "n_failed", "n_lower", "rmse_range", "rmse_iqr", "worst_ratio",
                      "released_rmse", "released_reached", "global_rmse", "global_error", *by}, "start_spread")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.9, got {level}.")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}.")
    by = list(by)
    extra = [c[:-len("_rmse")] for c in spread.columns
             if c.endswith("_rmse") and c[:-len("_rmse")] not in ("global", "released")
             and not c.startswith("rmse")]
    spread = spread[spread["global_error"].eq("")]
    released = spread["released_rmse"].notna()
    spread = spread.assign(released_ratio=spread["released_rmse"] / spread["global_rmse"],
                           released_hit=spread["released_reached"].where(released).astype(float))
    rng = np.random.default_rng(seed)
    rows = []
    for key, g in spread.groupby(by, sort=False):
        reached, starts = g["n_reached"].to_numpy(float), g["n_starts"].to_numpy(float)
        idx = rng.integers(0, len(g), size=(int(n_boot), len(g)))   # resample curves, not starts
        shares = reached[idx].sum(axis=1) / np.maximum(starts[idx].sum(axis=1), 1)
        lo, hi = np.quantile(shares, [(1 - level) / 2, (1 + level) / 2])
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "curves": len(g), "starts": int(starts.sum()), "reached": int(reached.sum()),
                     "reached_share": reached.sum() / max(starts.sum(), 1), "reached_lo": lo, "reached_hi": hi,
                     "failed": int(g["n_failed"].sum()),
                     "reached_share_ok": reached.sum() / max(starts.sum() - g["n_failed"].sum(), 1),
                     "lower": int(g["n_lower"].sum()),
                     "median_range": g["rmse_range"].median(), "median_iqr": g["rmse_iqr"].median(),
                     "median_worst_ratio": g["worst_ratio"].median(), "max_worst_ratio": g["worst_ratio"].max(),
                     "released_reached": g["released_hit"].mean(),
                     "released_median_ratio": g["released_ratio"].median(),
                     **{f"{kind}_median_ratio": (g[f"{kind}_rmse"] / g["global_rmse"]).median() for kind in extra}})
    out = pd.DataFrame(rows)
    if "domain" in by:
        out = _domain_sorted(out)
    return out.set_index(by)
