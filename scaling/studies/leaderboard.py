"""A leaderboard of scaling laws under the paper's protocol, and paired bootstraps of "law A beats law B".

Everything starts from the frame of :func:`scaling.evaluate.run_benchmark` (one row per curve and
law, run with ``keep_predictions=True`` for the bootstrap) and takes the laws to compare as an
argument; the default is every registered law, ``tuple(scaling.LAWS)``.

* :func:`fit_benchmark` — that frame for any estimator of the paper's laws (``"global"``,
  ``"sound"``, ``"released"``, ``"local"``; BNSL and the Chinchilla-style fit keep their own
  log-loss fits under every name), optionally on several processes; :func:`fitted_law` rebuilds
  one fitted law from it, to plot or to predict beyond the held-out points.
* :func:`compare_estimators` — per domain and law, win fraction and median RMSE under each of
  several estimators, side by side.
* :func:`leaderboard` — per domain: win fraction, mean and median RMSE, failed fits, rank.
* :func:`rule_rankings` — win fractions and ranks under the released tie rule, under "credit every
  tie", each with and without the 3-decimal truncation, side by side.
* :func:`bootstrap_rmse` — every law's RMSE on each curve, recomputed on bootstrap resamples of
  that curve's held-out points.  The resampled points are the *same* for all laws in a replicate,
  which is what makes comparisons between laws paired.
* :func:`paired_bootstrap` / :func:`pairwise_table` — per domain, the bootstrap distribution and
  confidence interval of (i) the fraction of curves on which A beats B and (ii) the mean RMSE
  difference A - B, plus the probability that A beats B.  ``resample`` chooses what is
  resampled: the held-out points of each curve, the curves of a domain, or both.
* :func:`contenders` — per domain, the laws that no other law reliably beats.

Failed fits are scored as RMSE :data:`~scaling.evaluate.FAILED_RMSE` (1), as in the released
notebook, and keep that score in every bootstrap replicate: a failure is a property of the fit on
the fit part, which resampling the held-out part cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..cache import cached_result
from .. import _pool
from .._progress import Progress
from ..benchmark.data import curve_list
from ..evaluate import (DOMAIN_ORDER, ESTIMATORS, FAILED_RMSE, WIN_RULES, law_from_row, run_benchmark, truncate_rmse,
                        win_fractions)
from ..laws.paper import LAWS, PAPER_LAWS, resolve_law_name

__all__ = ["RULE_VARIANTS", "RESAMPLE_MODES", "POOLED", "fit_benchmark", "book_fits", "fitted_law", "compare_estimators",
           "leaderboard", "rule_rankings", "BootstrapRMSE", "bootstrap_rmse", "paired_bootstrap",
           "pairwise_table", "pairwise_matrix", "contenders"]

#: The win-rule variants compared side by side: (name, rule, decimals).
RULE_VARIANTS = (
    ("split, 3 decimals (released)", "split", 3),
    ("credit-all, 3 decimals", "credit-all", 3),
    ("split, exact", "split", None),
    ("credit-all, exact", "credit-all", None),
)
#: What a bootstrap replicate resamples.
RESAMPLE_MODES = ("points", "curves", "both")
#: Label of the row that pools all curves of all domains.
POOLED = "all"
_KEYS = ["domain", "task", "model"]
# The parameters the released code reports for each law (M4 learns eps0 and alpha too).

def _fit_one_curve(job) -> pd.DataFrame:
    """run_benchmark on one curve (a worker's unit of work); warnings silenced, failures recorded."""
    curve, laws, estimator = job
    with _pool.quiet():
        return run_benchmark([curve], laws=laws, estimator=estimator, keep_predictions=True)


@cached_result
def fit_benchmark(bench, laws: Sequence[str] | None = None, estimator: str = "global", n_jobs=1,
                  progress: bool = False, stream=None) -> pd.DataFrame:
    """Every law fitted on every curve, scored and with held-out predictions: the input of this module.

    The frame of ``run_benchmark(bench, laws, estimator=estimator, keep_predictions=True)``, with a
    column ``estimator``. ``estimator`` (one of :data:`scaling.evaluate.ESTIMATORS`) says how the
    paper's laws M1-M4 are fitted; BNSL and the Chinchilla-style fit, which minimise a loss of the log
    prediction already, keep their own fit under every name (with ``"released"``, whose code has
    only M1-M4, they are fitted as under ``"sound"``). ``laws`` defaults to every registered law.
    ``n_jobs`` processes share the curves (None: every core); the frame does not depend on it.
    Rows: curves in benchmark order, laws in the order given.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}.")
    names = tuple(LAWS) if laws is None else tuple(resolve_law_name(n) for n in laws)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"give each law once, e.g. laws={tuple(LAWS)}; got {list(names)}.")
    curves = curve_list(bench)
    frames = []
    pooled, pooled_estimator = names, estimator
    if estimator == "released":  # the released code's own threads; the later laws as under "sound"
        paper = tuple(n for n in names if n in PAPER_LAWS)
        if paper:
            with _pool.quiet():
                frames.append(run_benchmark(curves, laws=paper, estimator="released",
                                            keep_predictions=True, progress=progress, stream=stream))
        pooled, pooled_estimator = tuple(n for n in names if n not in PAPER_LAWS), "sound"
    if pooled:
        jobs = [(curve, pooled, pooled_estimator) for curve in curves]
        with Progress(len(curves), f"{estimator} fits", stream, enabled=progress, unit="curves") as bar:
            frames.extend(_pool.map_in_order(_fit_one_curve, jobs, n_jobs=n_jobs, on_done=bar.update))
    frame = pd.concat(frames, ignore_index=True)
    curve_rank = {(c.domain, c.task, c.model): i for i, c in enumerate(curves)}
    law_rank = {law: i for i, law in enumerate(names)}
    key = [curve_rank[k] * len(names) + law_rank[law]
           for k, law in zip(zip(frame["domain"], frame["task"], frame["model"]), frame["law"])]
    frame = frame.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)
    frame["estimator"] = estimator
    return frame


def book_fits() -> dict[str, pd.DataFrame]:
    """The frames of :func:`fit_benchmark` that the leaderboard and later-laws chapters read, called
    as they call it: every registered law on log loss (``"sound"``), and the paper's laws by the
    released code (``"released"``) and by the global minimum of Eq. 4 (``"global"``).

    Cached like every :func:`fit_benchmark` frame; the book's build computes them once, before the
    chapters (``precompute_results`` in ``_config.yml``), so that neither chapter waits for them.
    """
    from ..benchmark import load_benchmark

    bench = load_benchmark()
    return {"sound": fit_benchmark(bench, tuple(LAWS), estimator="sound"),
            "released": fit_benchmark(bench, PAPER_LAWS, estimator="released"),
            "global": fit_benchmark(bench, PAPER_LAWS, estimator="global")}


def fitted_law(results: pd.DataFrame, curve, law: str):
    """The fitted ``law`` of one curve, rebuilt from its row of ``results`` (no refit): an object with
    ``name``, ``params_``, ``c_`` and ``predict(x)``, as the book's plots use.

    ``curve`` is a learning curve or its (domain, task, model) key. A row of the released
    estimator (column ``estimator``, as :func:`fit_benchmark` writes it) predicts as the released
    code does (:class:`scaling.laws.released.ReleasedFit`); any other becomes the package's law with
    the row's parameters (:func:`scaling.evaluate.law_from_row`). A failed fit raises ValueError with
    its message.
    """
    law = resolve_law_name(law)
    key = tuple(getattr(curve, "key", curve))
    rows = results[(results["domain"] == key[0]) & (results["task"] == key[1]) & (results["model"] == key[2])
                   & (results["law"] == law)]
    if len(rows) != 1:
        raise ValueError(f"expected one {law} row for {key} in the results, found {len(rows)}.")
    row = rows.iloc[0]
    if isinstance(row.get("error"), str) and row["error"]:
        raise ValueError(f"the {law} fit of {key} failed: {row['error']}")
    return law_from_row(row)


def compare_estimators(frames: Mapping[str, pd.DataFrame], laws: Sequence[str] | None = None,
                       rule: str = "split", decimals: int | None = 3,
                       stats: Sequence[str] = ("win_fraction", "median_rmse")) -> pd.DataFrame:
    """Columns of :func:`leaderboard` under several estimators, side by side.

    ``frames`` maps an estimator's name to its results frame (each holding the same curves and the
    laws compared; within a frame the laws compete with one another). ``laws`` defaults to those
    every frame holds. Returns a frame indexed by
    (domain, law) with columns (statistic, estimator), e.g. ``("win_fraction", "sound")``.
    """
    if not frames:
        raise ValueError("no frames given; pass {estimator name: results frame}.")
    if laws is None:  # the laws every frame holds, in registered order
        common = set.intersection(*(set(f["law"]) for f in frames.values()))
        laws = [n for n in LAWS if n in common] + sorted(common - set(LAWS))
    boards = {name: leaderboard(frame, laws, rule=rule, decimals=decimals) for name, frame in frames.items()}
    unknown = [s for s in stats if s not in next(iter(boards.values())).columns]
    if unknown:
        raise ValueError(f"unknown statistic(s) {unknown}; choose from the columns of leaderboard().")
    keys = {name: set(map(tuple, frames[name][_KEYS].drop_duplicates().to_numpy())) for name in frames}
    first = next(iter(keys.values()))
    if any(k != first for k in keys.values()):
        raise ValueError("the frames hold different curves; compare estimators on the same benchmark.")
    out = pd.concat({s: pd.DataFrame({name: board[s] for name, board in boards.items()}) for s in stats}, axis=1)
    out.columns.names = ["statistic", "estimator"]
    return out


def _laws(results: pd.DataFrame, laws: Sequence[str] | None) -> tuple[str, ...]:
    """The requested laws in registered spelling, checked against the results frame."""
    missing = {"domain", "task", "model", "law", "rmse"} - set(results.columns)
    if missing:
        raise ValueError(f"results lack column(s) {sorted(missing)}; pass the frame from run_benchmark().")
    names = tuple(LAWS) if laws is None else tuple(resolve_law_name(n) for n in laws)
    if len(set(names)) != len(names):
        raise ValueError(f"each law may appear only once, got {list(names)}.")
    present = set(results["law"])
    absent = [n for n in names if n not in present]
    if absent:
        raise ValueError(f"law(s) {absent} have no rows in the results; run run_benchmark(bench, laws=...) "
                         f"with them, or pass laws= a subset of {sorted(present)}.")
    return names


def _domain_order(domains) -> list[str]:
    domains = list(dict.fromkeys(domains))
    return [d for d in DOMAIN_ORDER if d in domains] + [d for d in domains if d not in DOMAIN_ORDER]


def _score_table(results: pd.DataFrame, laws: tuple[str, ...]) -> pd.DataFrame:
    """(curve x law) RMSE with failed fits as NaN, curves in benchmark order."""
    part = results[results["law"].isin(laws)]
    if part.duplicated(_KEYS + ["law"]).any():
        raise ValueError("results hold more than one row for some (curve, law); pass one run_benchmark() frame.")
    table = part.set_index(_KEYS + ["law"])["rmse"].unstack("law").reindex(columns=list(laws))
    order = _domain_order(table.index.get_level_values("domain"))
    return table.loc[order]


def leaderboard(results: pd.DataFrame, laws: Sequence[str] | None = None, rule: str = "split",
                decimals: int | None = 3) -> pd.DataFrame:
    """Per domain and law: win fraction, mean / median / worst RMSE, failed and unconverged fits, rank.

    The win fraction follows :func:`scaling.evaluate.win_fractions` with ``rule`` and
    ``decimals``.  Mean, median and worst (max) RMSE score a failed fit as RMSE 1, like the win rule, so a
    failure is never silently dropped; ``failed`` counts them.  ``rank`` 1 is the largest win
    fraction in the domain (tied laws share the better rank).  Rows: a (domain, law) MultiIndex
    in benchmark domain order, laws in the order given.
    """
    laws = _laws(results, laws)
    part = results[results["law"].isin(laws)]
    wins = win_fractions(part, rule=rule, decimals=decimals)
    scored = part.assign(scored=part["rmse"].fillna(FAILED_RMSE), failed=part["rmse"].isna())
    if "converged" in part.columns:
        scored["unconverged"] = ~part["converged"].fillna(False).astype(bool) & ~scored["failed"]
    else:
        scored["unconverged"] = False
    stats = scored.groupby(["domain", "law"]).agg(
        curves=("scored", "size"), mean_rmse=("scored", "mean"), median_rmse=("scored", "median"),
        max_rmse=("scored", "max"), failed=("failed", "sum"), unconverged=("unconverged", "sum"))
    stats["win_fraction"] = [wins.loc[d, law] for d, law in stats.index]
    stats["rank"] = stats.groupby(level="domain")["win_fraction"].rank(ascending=False, method="min")
    order = pd.MultiIndex.from_product([_domain_order(stats.index.get_level_values("domain")), list(laws)],
                                       names=["domain", "law"])
    out = stats.reindex(order)
    out = out.astype({"curves": int, "failed": int, "unconverged": int, "rank": int})
    return out[["curves", "win_fraction", "rank", "mean_rmse", "median_rmse", "max_rmse", "failed", "unconverged"]]


def rule_rankings(results: pd.DataFrame, laws: Sequence[str] | None = None,
                  variants: Sequence[tuple[str, str, int | None]] = RULE_VARIANTS) -> pd.DataFrame:
    """Win fraction and rank of every law in every domain under each win-rule variant.

    ``variants`` are (name, rule, decimals) triples (default :data:`RULE_VARIANTS`).  Returns a
    long frame with columns domain, law, variant, rule, decimals, win_fraction, rank.
    """
    laws = _laws(results, laws)
    frames = []
    for name, rule, decimals in variants:
        if rule not in WIN_RULES:
            raise ValueError(f"variant {name!r}: unknown rule {rule!r}; choose one of {WIN_RULES}.")
        board = leaderboard(results, laws, rule=rule, decimals=decimals).reset_index()
        frames.append(board[["domain", "law", "win_fraction", "rank"]].assign(
            variant=name, rule=rule, decimals=decimals))
    out = pd.concat(frames, ignore_index=True)
    return out[["domain", "law", "variant", "rule", "decimals", "win_fraction", "rank"]]


@dataclass(frozen=True)
class BootstrapRMSE:
    """Bootstrap replicates of every law's extrapolation RMSE on every curve.

    ``curves``: a frame with domain, task, model and ``n_test`` (held-out points) per curve;
    ``laws``: the law names (last axis of the arrays); ``point``: (curves, laws) RMSE on the
    actual held-out set; ``replicates``: (curves, n_boot, laws) RMSE on resampled held-out sets;
    ``failed``: (curves, laws) True where the fit failed (scored RMSE 1 everywhere); ``seed``.
    """

    curves: pd.DataFrame
    laws: tuple[str, ...]
    point: np.ndarray
    replicates: np.ndarray
    failed: np.ndarray
    seed: int

    @property
    def n_boot(self) -> int:
        return self.replicates.shape[1]

    def law_index(self, law: str) -> int:
        law = resolve_law_name(law)
        if law not in self.laws:
            raise ValueError(f"law {law!r} is not in this bootstrap; it holds {list(self.laws)}.")
        return self.laws.index(law)


def _curve_lookup(bench) -> dict:
    curves = curve_list(bench)
    try:
        return {(c.domain, c.task, c.model): c for c in curves}
    except AttributeError:
        raise ValueError("bench must be a Benchmark from load_benchmark() or a list of LearningCurve.") from None


def bootstrap_rmse(results: pd.DataFrame, bench, laws: Sequence[str] | None = None, n_boot: int = 1000,
                   seed: int = 0) -> BootstrapRMSE:
    """Resample each curve's held-out points with replacement; recompute every law's RMSE.

    ``results`` must come from ``run_benchmark(..., keep_predictions=True)`` on ``bench`` (which
    supplies the measured held-out losses).  Each replicate draws a curve's held-out points with
    replacement once, and the counts of that draw weight the squared log errors of *all* laws,
    so every law is scored on the same resampled points.  A curve with one held-out point (every NMT curve)
    gets the same RMSE in every replicate: there is nothing to resample.
    """
    laws = _laws(results, laws)
    if "pred" not in results.columns:
        raise ValueError("results have no 'pred' column; run run_benchmark(bench, laws=..., keep_predictions=True).")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}.")
    lookup = _curve_lookup(bench)
    table = _score_table(results, laws)
    preds = results[results["law"].isin(laws)].set_index(_KEYS + ["law"])["pred"]
    rng = np.random.default_rng(seed)
    n_curves, n_laws = len(table), len(laws)
    point = np.empty((n_curves, n_laws))
    reps = np.empty((n_curves, n_boot, n_laws))
    failed = table.isna().to_numpy()
    n_test = np.empty(n_curves, dtype=int)
    for i, key in enumerate(table.index):
        curve = lookup.get(key)
        if curve is None:
            raise ValueError(f"curve {key} of the results is not in bench; pass the benchmark the results came from.")
        y = np.asarray(curve.loss_test, dtype=float)
        n = y.size
        n_test[i] = n
        sq = np.full((n, n_laws), np.nan)
        for j, law in enumerate(laws):
            if failed[i, j]:
                continue
            p = preds.get(key + (law,))
            if p is None or np.size(p) != n:
                raise ValueError(f"no held-out predictions of {law} on {key}; rerun run_benchmark with "
                                 f"keep_predictions=True on the same benchmark.")
            sq[:, j] = (np.log(np.asarray(p, dtype=float)) - np.log(y)) ** 2
        # Shared resampling counts for all laws: (n_boot, n) @ (n, laws) -> mean squared error per replicate.
        draws = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
        counts = np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n)
        filled = np.where(np.isnan(sq), 0.0, sq)
        reps[i] = np.sqrt(counts @ filled / n)
        point[i] = np.sqrt(filled.mean(axis=0))
        reps[i][:, failed[i]] = FAILED_RMSE
        point[i][failed[i]] = FAILED_RMSE
    curves = table.index.to_frame(index=False).assign(n_test=n_test)
    return BootstrapRMSE(curves=curves, laws=laws, point=point, replicates=reps, failed=failed, seed=seed)


def _beats(a: np.ndarray, b: np.ndarray, decimals: int | None) -> np.ndarray:
    """1 where a < b, 1/2 on a tie, 0 otherwise (after truncation to ``decimals`` if given)."""
    a, b = truncate_rmse(a, decimals), truncate_rmse(b, decimals)
    return (a < b) + 0.5 * (a == b)


def _replicate_rmse(boot: BootstrapRMSE, rows: np.ndarray, resample: str, rng) -> np.ndarray:
    """(n_boot, curves of the group, laws) RMSEs of one bootstrap scheme for the curves ``rows``."""
    n = rows.size
    if resample == "points":
        return np.swapaxes(boot.replicates[rows], 0, 1)
    pick = rows[rng.integers(0, n, size=(boot.n_boot, n))]  # which curves each replicate holds
    if resample == "curves":
        return boot.point[pick]
    # A curve drawn twice in one replicate gets two independent point resamples.
    draw = rng.integers(0, boot.n_boot, size=pick.shape)
    return boot.replicates[pick, draw]


def pairwise_table(boot: BootstrapRMSE, laws: Sequence[str] | None = None, resample: str = "points",
                   level: float = 0.95, decimals: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """Every ordered pair (A, B) of laws, per domain and pooled: how sure is "A beats B"?

    Columns: ``wins`` (fraction of the group's curves on which A's RMSE is below B's; a tie counts
    1/2) on the real data, its bootstrap ``wins_lo``/``wins_hi`` percentile interval at ``level``;
    ``p_more_wins`` (share of replicates in which A beats B on more than half of the curves, an
    exact half counting 1/2); ``mean_diff`` (mean over curves of RMSE_A - RMSE_B, negative when A
    is better) with ``diff_lo``/``diff_hi``; ``p_lower_mean`` (share of replicates with a negative
    mean difference, zero counting 1/2); ``curves``, ``min_test`` (fewest held-out points of a
    curve in the group) and ``degenerate`` (True when no curve has two held-out points, so
    resampling points changes nothing).  ``resample`` is one of :data:`RESAMPLE_MODES`;
    ``decimals`` truncates RMSEs before comparing them, as the released win rule does.  The
    curve draws use ``seed`` (default: the seed of ``boot``).
    """
    if resample not in RESAMPLE_MODES:
        raise ValueError(f"unknown resample {resample!r}; choose one of {RESAMPLE_MODES}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}.")
    names = boot.laws if laws is None else tuple(resolve_law_name(n) for n in laws)
    cols = [boot.law_index(n) for n in names]
    domains = boot.curves["domain"].to_numpy()
    groups = [(d, np.flatnonzero(domains == d)) for d in _domain_order(domains)]
    groups.append((POOLED, np.arange(len(domains))))
    tail = (1 - level) / 2
    rows = []
    for g, (domain, idx) in enumerate(groups):
        rng = np.random.default_rng([boot.seed if seed is None else seed, g])
        reps = _replicate_rmse(boot, idx, resample, rng)[:, :, cols]   # (n_boot, curves, laws)
        real = boot.point[idx][:, cols]
        n_test = boot.curves["n_test"].to_numpy()[idx]
        for ia, ib in permutations(range(len(names)), 2):
            wins_rep = _beats(reps[..., ia], reps[..., ib], decimals).mean(axis=1)
            diff_rep = (reps[..., ia] - reps[..., ib]).mean(axis=1)
            rows.append({
                "domain": domain, "law_a": names[ia], "law_b": names[ib],
                "wins": _beats(real[:, ia], real[:, ib], decimals).mean(),
                "wins_lo": np.quantile(wins_rep, tail), "wins_hi": np.quantile(wins_rep, 1 - tail),
                "p_more_wins": np.mean((wins_rep > 0.5) + 0.5 * (wins_rep == 0.5)),
                "mean_diff": (real[:, ia] - real[:, ib]).mean(),
                "diff_lo": np.quantile(diff_rep, tail), "diff_hi": np.quantile(diff_rep, 1 - tail),
                "p_lower_mean": np.mean((diff_rep < 0) + 0.5 * (diff_rep == 0)),
                "curves": idx.size, "min_test": int(n_test.min()),
                "degenerate": resample == "points" and bool(n_test.max() < 2),
            })
    return pd.DataFrame(rows)


def paired_bootstrap(results: pd.DataFrame, bench, law_a: str, law_b: str, n_boot: int = 1000,
                     seed: int = 0, resample: str = "points", level: float = 0.95,
                     decimals: int | None = None) -> pd.DataFrame:
    """Per domain (and pooled, row ``"all"``): bootstrap evidence that ``law_a`` beats ``law_b``.

    A convenience over :func:`bootstrap_rmse` and :func:`pairwise_table` for one pair; see
    :func:`pairwise_table` for the columns.  Index: domain.
    """
    law_a, law_b = resolve_law_name(law_a), resolve_law_name(law_b)
    if law_a == law_b:
        raise ValueError(f"compare two different laws, got {law_a!r} twice.")
    boot = bootstrap_rmse(results, bench, laws=(law_a, law_b), n_boot=n_boot, seed=seed)
    table = pairwise_table(boot, resample=resample, level=level, decimals=decimals)
    return table[table["law_a"] == law_a].drop(columns=["law_a", "law_b"]).set_index("domain")


def pairwise_matrix(table: pd.DataFrame, value: str = "p_more_wins", domain: str = POOLED) -> pd.DataFrame:
    """One column of :func:`pairwise_table` as a law x law matrix (row A, column B) for one domain."""
    if value not in table.columns:
        raise ValueError(f"unknown value {value!r}; choose a column of pairwise_table(): {list(table.columns[3:])}.")
    part = table[table["domain"] == domain]
    if part.empty:
        raise ValueError(f"no rows for domain {domain!r}; choose one of {list(table['domain'].unique())}.")
    order = list(dict.fromkeys(list(part["law_a"]) + list(part["law_b"])))
    matrix = part.pivot(index="law_a", columns="law_b", values=value).reindex(index=order, columns=order)
    matrix.index.name, matrix.columns.name = "A", "B"
    return matrix


def contenders(table: pd.DataFrame, threshold: float = 0.95, value: str = "p_more_wins") -> pd.DataFrame:
    """Per domain (and pooled) of a :func:`pairwise_table`: which laws no other law reliably beats.

    For each law B: ``p_beaten``, the largest ``value`` (default: the probability of winning on more
    curves) of any other law A against B, ``beaten_by`` that law A, and ``contender``, True when
    ``p_beaten`` is below ``threshold``: no other law beats B with that much confidence.  Several
    laws can be contenders at once; in a domain with few curves, most are.  Index: (domain, law).
    """
    if value not in ("p_more_wins", "p_lower_mean"):
        raise ValueError(f"value must be 'p_more_wins' or 'p_lower_mean', got {value!r}.")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], e.g. 0.95, got {threshold!r}.")
    missing = {"domain", "law_a", "law_b", value} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks column(s) {sorted(missing)}; pass the frame of pairwise_table().")
    rows = []
    for domain, part in table.groupby("domain", sort=False):
        for law, against in part.groupby("law_b", sort=False):
            top = against.loc[against[value].idxmax()]
            rows.append({"domain": domain, "law": law, "p_beaten": float(top[value]), "beaten_by": top["law_a"],
                         "contender": bool(top[value] < threshold)})
    return pd.DataFrame(rows).set_index(["domain", "law"])
