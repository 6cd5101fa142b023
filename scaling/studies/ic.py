"""The image-classification experiments (paper Section 5.1, Figures 1, 5, 6 and 7; Appendix A.3).

The book's chapters *image classification* and *Appendix A.3* call these functions; they hold
no estimator maths (that is :mod:`scaling.laws.paper`) and no drawing or HTML (that is
:mod:`scaling.studies.ic_plots`), only the bookkeeping that turns the 72 image-classification curves and their fits into tables.

The 72 curves are 6 architectures x 4 datasets x 3 shot counts.  The architectures come in three
families of two sizes each (:data:`FAMILIES`), which is what Figures 6 and 7 compare.

Estimators.  By default every fit is *the paper's method*: the exact emulation of the authors'
released code (:mod:`scaling.laws.released`, ``estimator="released"``).  ``estimator="global"`` gives the
global minimum of the paper's stated loss (Eq. 4/5), which the released code does not reach on many
curves, and ``"local"`` a descent on that loss from the released starting point.  Each results row
records its estimator in an ``estimator`` column, and :func:`fitted_laws` rebuilds a released fit
with the released code's own prediction (M4's 10,000-point grid), so a panel's RMSE is the table's.

Public API
----------
``ic_curves(bench)``                         the 72 curves, ordered dataset, shots, architecture
``run_ic(bench, estimator="released")``      :func:`scaling.evaluate.run_benchmark` on them, with
                                             ``dataset, shots, family, size, estimator`` columns
``released_ic(bench, laws=("M3",))``         the released emulation with options of its own
``released_row(curve, law)``                 one curve fitted with the released algorithm
``replace_rows(base, other, laws=None)``     ``base`` with some rows taken from ``other``
``fitted_laws(results, task, model)``        ``{law name: fitted law}`` rebuilt from a results row
``ReleasedFit``                              a law fitted by the released code, predicting as it does
``released_agreement(results)``              largest differences from the released code's own outputs
``objective_gap(released, other)``           where two fits of a law differ, whose Eq. 4/5 loss is lower
``rmse_table(results)``                      curves x laws RMSE, with the winner(s)
``winners(table, curve)``                    the winning law(s) of one curve in that table
``win_fraction_table(variants)``             win fractions of several result sets and tie rules
``win_fraction_ledger(results)``             our IC win fractions beside the paper's, with status
``win_fraction_comparison(variants)``        the same for several result sets and tie rules
``win_fraction_columns(variants)``           the paper's IC bars and several result sets', side by side
``search_disagreements(a, b)``               curves on which two result sets fit different laws
``exponent_table(results)``                  the 36 exponents of Figure 6 (M2, M4 x 6 models x 3 shots)
``exponent_comparison(results)``             the same beside the paper's values, with status
``exponent_summary(comparisons)``            how many of those are within 0.01 / 0.05 of the paper
``paper_comparison(variants)``               IC bars and Figure 6 closeness of several result sets
``size_effect(exponents)``                   does the larger model of a family have the smaller c?
``excess_risk(bench, results)``              the points and power laws of Figure 7
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..cache import cached_result
from ..evaluate import ESTIMATORS, law_from_row, resolve_estimator, run_benchmark, win_fractions
from ..laws.paper import PAPER_LAWS
from ..benchmark.catalogue import IC_DATASETS, IC_FAMILIES, IC_MODELS, IC_SHOTS, RESULT_COLUMNS
from ..laws.released import RELEASED_PARAMS, ReleasedFit
from ..ledger.core import compare, figure1_from_win_fractions, figure6_from_results
from ..report.tables import LAW_COLUMNS, winner_mask

__all__ = [
    "FAMILIES", "MODELS", "DATASETS", "SHOTS", "LOCAL_SEARCH", "FIGURE6_TASKS",
    "ESTIMATORS", "ReleasedFit",
    "family_of", "ic_curves", "run_ic", "released_ic", "released_row", "replace_rows", "fitted_laws",
    "released_agreement", "objective_gap", "rmse_table", "winners", "win_fraction_table", "win_fraction_ledger",
    "win_fraction_comparison", "win_fraction_columns", "search_disagreements", "exponent_table", "exponent_comparison", "exponent_summary",
    "paper_comparison", "size_effect", "excess_risk",
]

#: The book's names for the catalogue's facts (scaling.benchmark.catalogue).
FAMILIES, MODELS, DATASETS, SHOTS = IC_FAMILIES, IC_MODELS, IC_DATASETS, IC_SHOTS
#: ``run_benchmark`` settings for the local search of M2 and M4 (what ``estimator="local"`` sets).
LOCAL_SEARCH = {"M2": {"search": "local"}, "M4": {"search": "local"}}
#: Figure 6 plots the ImageNet curves.
FIGURE6_TASKS = tuple(f"inet_{n}" for n in SHOTS)

_FAMILY_OF = {m: (fam, size) for fam, pair in FAMILIES.items() for m, size in zip(pair, ("small", "large"))}
_KEY = ["task", "model", "law"]
_RESULT_COLUMNS = list(RESULT_COLUMNS) + ["error"]


def family_of(model: str) -> tuple[str, str]:
    """``(family, "small" | "large")`` of an image-classification architecture."""
    try:
        return _FAMILY_OF[model]
    except KeyError:
        raise ValueError(f"unknown image-classification model {model!r}; expected one of {list(MODELS)}.") from None


def _split_task(task: str) -> tuple[str, int]:
    code, _, shots = task.rpartition("_")
    if code not in DATASETS or not shots.isdigit():
        raise ValueError(f"not an image-classification task code: {task!r} (expected e.g. 'inet_10').")
    return code, int(shots)


def _order_key(curve) -> tuple[int, int, int]:
    code, shots = _split_task(curve.task)
    return list(DATASETS).index(code), shots, MODELS.index(curve.model)


def ic_curves(bench) -> list:
    """The benchmark's image-classification curves, ordered by dataset, shot count, architecture."""
    curves = [c for c in bench.curves if c.domain == "IC"]
    if not curves:
        raise ValueError("the benchmark holds no image-classification (IC) curves; is this the released data?")
    return sorted(curves, key=_order_key)


def _annotate(results: pd.DataFrame, estimator: str | None = None) -> pd.DataFrame:
    out = results.copy()
    parts = [_split_task(t) for t in out["task"]]
    out.insert(3, "dataset", [DATASETS[code] for code, _ in parts])
    out.insert(4, "shots", [n for _, n in parts])
    fams = [family_of(m) for m in out["model"]]
    out.insert(5, "family", [f for f, _ in fams])
    out.insert(6, "size", [s for _, s in fams])
    if estimator is not None:
        out["estimator"] = estimator
    return out


@cached_result
def run_ic(bench, search: str | None = None, laws: Sequence[str] = PAPER_LAWS,
           tasks: Sequence[str] | None = None, *, estimator: str | None = None,
           settings: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """Fit ``laws`` to the 72 image-classification curves and score their extrapolation.

    ``estimator`` is one of :data:`scaling.evaluate.ESTIMATORS`; the default, ``"released"``, is the
    paper's method (the exact emulation of the released code, M1-M4 only).  ``"global"`` is the
    global minimum of the paper's Eq. 4/5 and ``"local"`` a descent on it from the released
    starting point (M2 and M4; M1 and M3 as ``"global"``).  ``search`` is the older name of the
    same choice, kept for callers that pass ``"global"`` or ``"local"``; give one or the other.
    ``settings`` maps a law to options of its fit (see :func:`scaling.evaluate.run_benchmark`),
    e.g. ``{"M4": {"update_eps0": False}}`` with the released estimator.  ``tasks`` (e.g.
    ``["inet_5", "inet_10"]``) restricts the fit to some tasks.

    Returns the frame of :func:`scaling.evaluate.run_benchmark` with ``dataset, shots, family,
    size`` inserted after ``model`` and an ``estimator`` column at the end.  Score the released
    estimator on ``load_benchmark(drop_duplicates=False)`` as the paper did (the image-classification
    curves have no duplicated rows, so for them the two loads give the same curves).
    """
    estimator = resolve_estimator(estimator, search)
    curves = ic_curves(bench)
    if tasks is not None:
        unknown = sorted(set(tasks) - {c.task for c in curves})
        if unknown:
            raise ValueError(f"unknown image-classification task(s) {unknown}; e.g. 'inet_10', 'bird_5', 'c_25'.")
        curves = [c for c in curves if c.task in set(tasks)]
    settings = {law: dict(opts) for law, opts in (settings or {}).items()}
    res = run_benchmark(curves, laws=laws, settings=settings, estimator=estimator)
    return _annotate(res, estimator)


def released_ic(bench, laws: Sequence[str] = ("M3",), **options) -> pd.DataFrame:
    """The released algorithm (:mod:`scaling.laws.released`) on the IC curves, with the same options for every law.

    ``options`` go to :func:`scaling.laws.released.run_released_benchmark` (each law takes those it
    uses).  The whole set of 288 fits takes seconds; :func:`run_ic` is the usual entry point, this
    one is kept for options shared by several laws.
    """
    from ..laws.released import run_released_benchmark

    res = run_released_benchmark(ic_curves(bench), laws=tuple(laws), progress=False, **options)
    return _annotate(res[[c for c in res.columns if c in _RESULT_COLUMNS]], "released")


def replace_rows(base: pd.DataFrame, other: pd.DataFrame, laws: Sequence[str] | None = None) -> pd.DataFrame:
    """``base`` with some of its (task, model, law) rows replaced by the rows of ``other``.

    With ``laws``, every row of those laws is taken from ``other`` (which must hold them all);
    without, exactly the (task, model, law) keys present in ``other`` are replaced.  The order
    of ``base`` is kept.
    """
    if laws is not None:
        laws = list(laws)
        other = other[other["law"].isin(laws)]
        need = set(map(tuple, base.loc[base["law"].isin(laws), _KEY].to_numpy()))
        missing = need - set(map(tuple, other[_KEY].to_numpy()))
        if missing:
            raise ValueError(f"'other' lacks {len(missing)} (task, model, law) rows of 'base', "
                             f"e.g. {sorted(missing)[:3]}.")
    keys = set(map(tuple, other[_KEY].to_numpy()))
    unknown = keys - set(map(tuple, base[_KEY].to_numpy()))
    if unknown:
        raise ValueError(f"'other' has rows that 'base' lacks, e.g. {sorted(unknown)[:3]}.")
    replacement = other.set_index(_KEY)
    out = base.copy()
    for i, key in enumerate(map(tuple, base[_KEY].to_numpy())):
        if key in keys:
            row = replacement.loc[key]
            for col in out.columns:
                if col in replacement.columns:
                    out.iat[i, out.columns.get_loc(col)] = row[col]
    return out


def released_row(curve, law: str, **options) -> pd.DataFrame:
    """One curve fitted with the released algorithm (:mod:`scaling.laws.released`), as a results row.

    ``options`` go to :func:`scaling.laws.released.fit_released` (e.g. ``max_iterations=100_000``).
    """
    from ..evaluate import extrapolation_rmse, rmse_standard_error
    from ..laws.released import fit_released, predict_released

    fit = fit_released(law, curve.x_fit, curve.loss_fit, curve.domain, **options)
    pred = predict_released(law, fit["params"], curve.x_test)
    row = {"domain": curve.domain, "task": curve.task, "model": curve.model, "law": law,
           "rmse": extrapolation_rmse(curve.loss_test, pred), "se": rmse_standard_error(curve.loss_test, pred),
           "fit_seconds": fit["seconds"], "converged": fit["converged"], "train_loss": fit["loss"],
           **fit["params"], "error": ""}
    out = _annotate(pd.DataFrame([row]).reindex(columns=_RESULT_COLUMNS), "released")
    out["n_iter"] = fit["n_iter"]
    return out


def fitted_laws(results: pd.DataFrame, task: str, model: str, laws: Sequence[str] = LAW_COLUMNS) -> dict:
    """``{law name: law}`` with the parameters of ``results`` for one curve, ready to predict and plot.

    A row whose ``estimator`` column says ``"released"`` becomes a :class:`ReleasedFit` (the
    released code's prediction); any other row, or a frame without that column, becomes the
    package's law (:data:`scaling.laws.LAWS`) with those parameters.
    """
    rows = results[(results["task"] == task) & (results["model"] == model)].set_index("law")
    out = {}
    for name in laws:
        if name not in rows.index:
            raise ValueError(f"no {name} row for ({task!r}, {model!r}) in the results.")
        try:
            out[name] = law_from_row(rows.loc[name].to_dict() | {"law": name})
        except ValueError as exc:
            raise ValueError(f"the {name} fit of ({task!r}, {model!r}) failed: {rows.loc[name].get('error', '')}") from exc
    return out


def released_agreement(results: pd.DataFrame) -> pd.DataFrame:
    """How closely fits agree with the released code's own outputs (:mod:`scaling.ledger.reference`).

    ``results`` is a frame of :func:`run_ic` (any estimator).  One row per law: the number of fits
    compared, the largest absolute RMSE difference and the largest relative difference of the
    law's parameters (M3's exponent compared in the package's sign convention, ``c = -k``).
    """
    from ..ledger.reference import load_released_outputs

    ref = load_released_outputs()
    ref = ref[ref["domain"] == "IC"].copy()
    ref.loc[ref["law"] == "M3", "c"] *= -1  # the released code reports M3's k >= 0
    both = results.merge(ref, on=["task", "model", "law"], suffixes=("", "_ref"), validate="one_to_one")
    rows = {}
    for law, part in both.groupby("law", sort=False):
        rel = [((part[p] - part[f"{p}_ref"]).abs() / part[f"{p}_ref"].abs().clip(lower=1e-12)).max()
               for p in RELEASED_PARAMS[law]]
        rows[law] = {"fits": len(part), "largest |RMSE difference|": float((part["rmse"] - part["rmse_ref"]).abs().max()),
                     "largest relative parameter difference": float(max(rel))}
    out = pd.DataFrame(rows).T.astype({"fits": int})
    out.index.name = "law"
    return out.loc[[law for law in LAW_COLUMNS if law in out.index]]


def objective_gap(released: pd.DataFrame, other: pd.DataFrame, tol: float = 1e-3,
                  names: tuple[str, str] = ("released", "global")) -> pd.DataFrame:
    """Per law: on how many curves two fits differ, and which of them has the lower Eq. 4/5 loss.

    ``released`` and ``other`` are results frames of the same curves and laws (e.g. the released
    emulation and the global minimum).  Two fits *differ* when their exponents ``c`` differ by more
    than ``tol``.  The loss compared is ``train_loss``, the paper's Eq. 4 (Eq. 5 for M3): the mean
    squared log residual on the fitting points, which both estimators report the same way.
    Returns one row per law with ``fits``, ``differ``, ``<other> lower`` (of the differing fits,
    those where ``other`` reaches the lower loss), and the smallest and median ratio of the two
    losses (``released / other``) over the differing fits.
    """
    key = ["task", "model", "law"]
    both = released[key + ["c", "train_loss"]].merge(other[key + ["c", "train_loss"]], on=key,
                                                      suffixes=("_a", "_b"), validate="one_to_one")
    if len(both) != len(released) or len(both) != len(other):
        raise ValueError("the two results frames must hold the same (task, model, law) rows.")
    rows = {}
    for law, part in both.groupby("law", sort=False):
        differ = (part["c_a"] - part["c_b"]).abs() > tol
        ratio = (part["train_loss_a"] / part["train_loss_b"])[differ]
        rows[law] = {"fits": len(part), "differ": int(differ.sum()),
                     f"{names[1]} lower": int((differ & (part["train_loss_b"] < part["train_loss_a"])).sum()),
                     "smallest ratio": float(ratio.min()) if len(ratio) else np.nan,
                     "median ratio": float(ratio.median()) if len(ratio) else np.nan}
    out = pd.DataFrame(rows).T
    out.index.name = "law"
    out = out.astype({"fits": int, "differ": int, f"{names[1]} lower": int})
    return out.loc[[law for law in LAW_COLUMNS if law in out.index]]


# ------------------------------------------------------------------------------------------
# Extrapolation error of every curve
# ------------------------------------------------------------------------------------------

#: Ties are decided as in the released notebook: RMSE truncated to 3 decimals.
WIN_DECIMALS = 3


def rmse_table(results: pd.DataFrame, decimals: int | None = WIN_DECIMALS) -> pd.DataFrame:
    """One row per curve (dataset, shots, model), the RMSE of each law and the winner(s).

    The winners are the laws with the smallest RMSE after truncation to ``decimals`` decimals
    (a failed fit counts as RMSE 1), as in the released win rule; ties list every tied law.
    """
    ic = results[results["domain"] == "IC"]
    if ic.empty:
        raise ValueError("no image-classification rows in the results; pass the frame of run_ic().")
    table = ic.set_index(["dataset", "shots", "model", "law"])["rmse"].unstack("law")
    table = table[[c for c in LAW_COLUMNS if c in table.columns]]
    order = sorted(table.index, key=lambda k: (list(DATASETS.values()).index(k[0]), k[1], MODELS.index(k[2])))
    table = table.loc[order]
    wins = winner_mask(table, rule="best", decimals=decimals)
    table["winner"] = [" = ".join(c for c in wins.columns if row[c]) for _, row in wins.iterrows()]
    return table


def winners(table: pd.DataFrame, curve) -> list[str]:
    """The winning law(s) of one curve in a :func:`rmse_table`."""
    code, shots = _split_task(curve.task)
    return table.loc[(DATASETS[code], shots, curve.model), "winner"].split(" = ")


# ------------------------------------------------------------------------------------------
# Win fractions (Figure 1, bottom, image-classification bars)
# ------------------------------------------------------------------------------------------

def win_fraction_table(variants: Mapping[str, pd.DataFrame],
                       rules: Sequence[str] = ("split", "credit-all")) -> pd.DataFrame:
    """IC win fractions of several result sets under several tie rules.

    ``variants`` maps a label (e.g. ``"global fits"``) to a results frame.  Returns one row per
    (variant, rule), columns M1-M4.  RMSEs are truncated to 3 decimals and a failed fit counts as
    RMSE 1, as in the released notebook; ``"split"`` shares a tie, ``"credit-all"`` credits
    every tied law.
    """
    rows = {}
    for name, res in variants.items():
        for rule in rules:
            wins = win_fractions(res[res["domain"] == "IC"], rule=rule, decimals=WIN_DECIMALS)
            rows[(name, rule)] = wins.loc["IC"]
    out = pd.DataFrame(rows).T
    out.index.names = ["variant", "rule"]
    return out[[c for c in LAW_COLUMNS if c in out.columns]]


def win_fraction_ledger(results: pd.DataFrame, rule: str = "split") -> pd.DataFrame:
    """Our IC win fractions beside the paper's Figure 1 bars, with the ledger's status."""
    wins = win_fractions(results[results["domain"] == "IC"], rule=rule, decimals=WIN_DECIMALS)
    ledger = compare(figure1_from_win_fractions(wins))
    ledger = ledger[(ledger["source"] == "Figure 1") & (ledger["domain"] == "IC")]
    return ledger.set_index("law")[["paper", "ours", "difference", "status"]]


def win_fraction_columns(variants: Mapping[str, pd.DataFrame], rule: str = "split") -> pd.DataFrame:
    """Figure 1's IC bars as columns: the paper's, then each result set's, the first with its status.

    One row per law.  Columns: ``paper``, the first variant's fractions, ``status`` (the ledger's
    verdict on that first variant, :func:`win_fraction_ledger`), then the other variants' fractions.
    """
    names = list(variants)
    if not names:
        raise ValueError("no result sets given.")
    first = win_fraction_ledger(variants[names[0]], rule=rule)
    out = first[["paper", "ours", "status"]].rename(columns={"ours": names[0]})
    others = win_fraction_table({n: variants[n] for n in names[1:]}, rules=(rule,)) if names[1:] else None
    for name in names[1:]:
        out[name] = others.loc[(name, rule)]
    out.columns.name = None
    return out


def win_fraction_comparison(variants: Mapping[str, pd.DataFrame],
                            rules: Sequence[str] = ("split", "credit-all")) -> pd.DataFrame:
    """:func:`win_fraction_ledger` for several result sets and tie rules, in one long frame.

    Columns: variant, rule, law, paper, ours, difference, status (from :func:`scaling.ledger.compare`).
    """
    parts = []
    for name, res in variants.items():
        for rule in rules:
            part = win_fraction_ledger(res, rule=rule).reset_index()
            part.insert(0, "rule", rule)
            part.insert(0, "variant", name)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------------------
# Global versus local minima
# ------------------------------------------------------------------------------------------

def search_disagreements(a: pd.DataFrame, b: pd.DataFrame, laws: Sequence[str] = ("M2", "M4"),
                         tol: float = 0.01, names: tuple[str, str] = ("global", "local"),
                         columns: Sequence[str] = ("c", "eps_inf", "alpha", "train_loss", "rmse")) -> pd.DataFrame:
    """Curves on which two result sets of the same laws differ in the exponent by more than ``tol``.

    One row per (curve, law), the curve named like ``"ImageNet 5-shot, BiT/50/1"``.  The columns
    are pairs ``(quantity, name)`` for each of ``columns`` and both result sets, then
    ``("extrapolates better", "")``: which of the two has the smaller RMSE.
    """
    cols = list(dict.fromkeys([*columns, "c", "rmse"]))
    key = ["dataset", "shots", "model", "law"]
    left = a[a["law"].isin(laws)].set_index(key)[cols]
    right = b[b["law"].isin(laws)].set_index(key)[cols]
    both = pd.concat({names[0]: left, names[1]: right}, axis=1, join="inner").swaplevel(axis=1)
    differ = (both[("c", names[0])] - both[("c", names[1])]).abs() > tol
    both = both[differ]
    ra, rb = both[("rmse", names[0])], both[("rmse", names[1])]
    better = np.where(ra < rb, names[0], np.where(rb < ra, names[1], "tie"))
    out = both[[(c, n) for c in columns for n in names]].copy()
    out[("extrapolates better", "")] = better
    out.index = pd.MultiIndex.from_tuples(
        [(f"{d} {n}-shot, {m}", law) for d, n, m, law in out.index], names=["curve", "law"])
    return out


# ------------------------------------------------------------------------------------------
# Exponents and architecture (Figure 6)
# ------------------------------------------------------------------------------------------

def exponent_table(results: pd.DataFrame, laws: Sequence[str] = ("M2", "M4"),
                   tasks: Sequence[str] = FIGURE6_TASKS) -> pd.DataFrame:
    """The fitted exponents of Figure 6: one row per (law, family, size, shots), 36 by default."""
    sub = results[(results["domain"] == "IC") & results["task"].isin(tasks) & results["law"].isin(laws)]
    if sub.empty:
        raise ValueError(f"no rows for laws {list(laws)} on tasks {list(tasks)}; pass the frame of run_ic().")
    out = sub[["law", "family", "size", "model", "shots", "task", "c"]].copy()
    out["law"] = pd.Categorical(out["law"], categories=list(laws), ordered=True)
    out["family"] = pd.Categorical(out["family"], categories=list(FAMILIES), ordered=True)
    out["size"] = pd.Categorical(out["size"], categories=["small", "large"], ordered=True)
    out = out.sort_values(["law", "family", "size", "shots"]).reset_index(drop=True)
    out["law"] = out["law"].astype(str)
    out["family"] = out["family"].astype(str)
    out["size"] = out["size"].astype(str)
    return out


def exponent_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Figure 6: our M2 and M4 exponents beside the paper's, with difference and ledger status."""
    ours = exponent_table(results)
    ledger = compare(figure6_from_results(results))
    ledger = ledger[ledger["source"] == "Figure 6"].set_index("item")
    items = [f"Figure6/{r.law}/{r.model}/{r.task}/c" for r in ours.itertuples(index=False)]
    ours["paper"] = ledger.loc[items, "paper"].to_numpy()
    ours["difference"] = ledger.loc[items, "difference"].to_numpy()
    ours["status"] = ledger.loc[items, "status"].to_numpy()
    return ours.drop(columns="task")


def exponent_summary(comparisons: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """How close our Figure 6 exponents are to the paper's, per result set and law.

    ``comparisons`` maps a label to a frame of :func:`exponent_comparison`.  One row per
    (label, law): the number of exponents, how many are within 0.01 and 0.05 of the paper's,
    how many the ledger calls reproduced, and the median absolute difference.
    """
    rows = {}
    for name, comp in comparisons.items():
        for law, part in comp.groupby("law", sort=False):
            d = part["difference"].abs()
            rows[(name, law)] = {"exponents": len(part), "within 0.01": int((d <= 0.01).sum()),
                                 "within 0.05": int((d <= 0.05).sum()),
                                 "reproduced (ledger)": int((part["status"] == "reproduced").sum()),
                                 "median |difference|": float(d.median())}
    out = pd.DataFrame(rows).T
    out.index.names = ["fits", "law"]
    counts = ["exponents", "within 0.01", "within 0.05", "reproduced (ledger)"]
    return out.astype({c: int for c in counts})


def paper_comparison(variants: Mapping[str, pd.DataFrame], rule: str = "split") -> pd.DataFrame:
    """The paper's Figure 1 IC bars and Figure 6 exponents against several result sets, one row each.

    ``variants`` maps a label (e.g. ``"released"``, ``"lr = 1e-7"``) to a results frame of all 72
    curves and M1-M4.  The first row is the paper's: its four IC bars (the ledger's reference).
    Every other row has that result set's IC win fractions under ``rule`` (RMSEs truncated to 3
    decimals, as the released notebook compares them) and, for M2 and M4, the median absolute
    difference between its 18 ImageNet exponents and the paper's Figure 6.
    """
    wins = win_fraction_table(variants, rules=(rule,)).droplevel("rule")
    rows = {}
    for name, res in variants.items():
        comp = exponent_comparison(res)
        row = wins.loc[name].to_dict()
        for law in ("M2", "M4"):
            row[f"Figure 6 {law}: median |c - paper|"] = float(comp.loc[comp["law"] == law, "difference"].abs().median())
        rows[name] = row
    paper = win_fraction_ledger(next(iter(variants.values())), rule=rule)["paper"]
    out = pd.DataFrame({"paper": paper.to_dict(), **rows}).T
    out.index.name = "fits"
    return out[[*wins.columns, *[c for c in out.columns if c.startswith("Figure 6")]]]


def size_effect(exponents: pd.DataFrame, value: str = "c") -> pd.DataFrame:
    """Per (law, family, shots): the small and large model's exponent, and whether the large one is smaller.

    A smaller (more negative) exponent means the error falls faster with more data.
    """
    wide = exponents.pivot_table(index=["law", "family", "shots"], columns="size", values=value,
                                 observed=True, sort=False)
    wide = wide[["small", "large"]]
    wide["large is more negative"] = wide["large"] < wide["small"]
    return wide


# ------------------------------------------------------------------------------------------
# Excess risk (Figure 7)
# ------------------------------------------------------------------------------------------

def _asymptote_scale(law: str, p: Mapping[str, float]) -> float:
    """A in the large-x power law ``excess ~ A x^c`` of a fitted law (first term of Eq. 3 for M4)."""
    if law == "M2":
        return p["beta"]
    if law == "M4":
        return p["beta"] * (p["eps0"] - p["eps_inf"]) ** p["alpha"]
    raise ValueError(f"Figure 7 needs a law with eps_inf (M2 or M4), got {law!r}.")


def excess_risk(bench, results: pd.DataFrame, task: str = "inet_10", law: str = "M4",
                num: int = 200, factor: float = 3.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data of Figure 7: the measured excess risk and its fitted power law, per architecture.

    For each architecture, the fitted ``eps_inf`` of ``law`` (M4 by default) is subtracted from the
    measured error.  For large x, M4's excess risk approaches the power law ``A x^c`` with
    ``A = beta (eps0 - eps_inf)^alpha`` (the first term of the paper's Eq. 3); for M2 it *is*
    ``beta x^c``.  On log-log axes that power law is a straight line of slope ``c``.

    Returns ``(points, lines)``.  ``points``: family, size, model, x, excess, part ("fit" or
    "held out"); points whose excess is not positive (below the fitted floor) are dropped and
    counted in ``lines["n_dropped"]``.  ``lines``: family, size, model, x, power_law (``A x^c``),
    law_excess (the fitted law's own prediction minus ``eps_inf``), c, eps_inf, n_dropped.  The
    prediction is that of :func:`fitted_laws`: for released fits the released code's grid
    solution, which resolves an excess risk down to about 1e-4 (fine over the data and a few
    times beyond; far out, where the excess is smaller than a grid step, it drops to 0).
    """
    if law not in ("M2", "M4"):
        raise ValueError(f"Figure 7 needs a law with eps_inf (M2 or M4), got {law!r}.")
    pts, lines = [], []
    for model in MODELS:
        curve = bench.curve("IC", task, model)
        fam, size = family_of(model)
        fitted = fitted_laws(results, task, model, laws=(law,))[law]
        p = fitted.params_
        excess = curve.loss - p["eps_inf"]
        ok = excess > 0
        pts.append(pd.DataFrame({"family": fam, "size": size, "model": model, "x": curve.x[ok],
                                 "excess": excess[ok],
                                 "part": np.where(curve.is_fit[ok], "fit", "held out")}))
        x = np.geomspace(curve.x.min(), factor * curve.x.max(), num)
        scale = _asymptote_scale(law, p)
        lines.append(pd.DataFrame({"family": fam, "size": size, "model": model, "x": x,
                                   "power_law": scale * x ** p["c"],
                                   "law_excess": fitted.predict(x) - p["eps_inf"],
                                   "c": p["c"], "eps_inf": p["eps_inf"], "n_dropped": int((~ok).sum())}))
    return pd.concat(pts, ignore_index=True), pd.concat(lines, ignore_index=True)
