"""The paper's language experiments: machine translation and language modelling (Table 2),
BIG-Bench (Table 3), the language-model exponents (Figure 9), the NMT/LM/BIG-Bench bars of
Figure 1 and the noise of the BIG-Bench curves.

The chapters *machine translation*, *language modelling* and *BIG-Bench* call these functions;
all computation lives here so that a chapter cell stays a few lines long. The functions return
frames; their figures and styled tables are drawn by :mod:`scaling.studies.lang_plots`.

>>> from scaling.benchmark import load_benchmark
>>> from scaling.studies import lang as xl, lang_plots
>>> bench = load_benchmark(drop_duplicates=False)               # doctest: +SKIP
>>> res = xl.run_variants(bench, "NMT")                          # doctest: +SKIP
>>> lang_plots.side_by_side(res, "NMT")                          # doctest: +SKIP

Three estimators of the same laws (:data:`ESTIMATORS`)
------------------------------------------------------
``"released"`` (the default) is *the paper's method*: :mod:`scaling.laws.released`, an exact emulation
of the authors' released code, with the notebook's settings per domain. Score it as the notebook
did, on ``load_benchmark(drop_duplicates=False)`` (every held-out row counts; the LM rows are
stored four times, which changes the standard error, not the fit or the RMSE).
``"global"`` uses the package's estimators, which find the global minimum of the paper's loss
(Eq. 4 / Eq. 5): the minimum of the loss the paper states, which the released code does not
reach. ``"local"`` sets ``search="local"`` for M2 and M4 (a descent from the released starting
point); it is kept for the older chapters' comparisons. :func:`run_domain` fits one domain with
one estimator; results carry an ``estimator`` column (and ``search``, its older name), and
:func:`law_from_row` turns a row back into a fitted law that predicts as its estimator does.

Winners and the Figure 1 bars
-----------------------------
The paper's Figure 1 credits every tied law on NMT, LM and BIG-Bench
(:data:`scaling.evaluate.FIGURE1_TIE_RULE`), and the released notebook compares RMSEs truncated
to 3 decimals. :data:`WIN_RULE` uses that rule (``"truncated"``) for our bold cells, so that
bold cells and bars agree; :func:`bold_agreement` compares it and other rules with the paper's
bold cells.

The fitting window of the language-model curves
-----------------------------------------------
:func:`with_common_fit_window` drops the fitting points beyond one cut shared by all
language-model sizes, keeping the held-out points unchanged. The default cut is the paper's
``tau = x_max / 2`` computed on the *shortest* run (the 1.07e9 model: ``tau = 7.1e10`` tokens,
:data:`scaling.laws.released.LM_TABLE2_FIT_X_MAX`), whereas the released split uses each run's own
``x_max``. Under that window the paper's M1 column of Table 2 is reproduced; the paper does not
describe it, so it stays a hypothesis about the paper's run.

Protocol variants and causes
----------------------------
:data:`RELEASED_VARIANTS` are the optimiser settings the paper's text and the released code
disagree on (learning rate 1e-7 vs 1e-8; eps0 fixed vs learned); :func:`run_released_variants`
fits them and :func:`difference_causes` names, for every table cell our released emulation does
not reproduce, the first explanation that holds (the paper repeats another row, a variant; the
vocabulary of :mod:`scaling.ledger.core`) or says that none does.

Paper values
------------
The paper's numbers come from :mod:`scaling.ledger.core` (``scaling/ledger/reference/paper_reference.csv``); statuses come
from :func:`scaling.ledger.compare`, never from this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..ledger import core as ledger
from ..benchmark.data import LearningCurve, curve_list
from ..evaluate import (FIGURE1_TIE_RULE, law_from_row, rescore, resolve_estimator,
                        rmse_standard_error, run_benchmark, win_fractions)
from ..benchmark.catalogue import LANGUAGE_DOMAINS, PAPER_ROW_NAMES
from ..laws.paper import PAPER_LAWS, law_for_domain
from ..laws.released import ReleasedFit
from ..report.tables import LAW_COLUMNS, sci, winner_mask

__all__ = [
    "ESTIMATORS", "ESTIMATOR_LABELS", "ROW_LABELS", "DOMAIN_SOURCE", "WIN_RULE",
    "WIN_DECIMALS", "BOLD_RULES", "RELEASED_VARIANTS", "ReleasedFit",
    "curves_of", "row_label", "row_labels", "run_domain", "run_variants", "run_released_variants",
    "fitted_laws", "fits_from_results",
    "with_common_fit_window", "common_fit_window",
    "paper_table", "ours_table", "sci_pm", "items_for", "reproduction", "status_counts", "status_summary",
    "side_by_side_frames", "ledger_view", "trial_frames", "winners", "win_shares", "win_share_reproduction",
    "figure1_bars", "bold_agreement", "difference_causes", "causes_view", "cause_counts", "rounds_up",
    "search_comparison", "released_m3", "with_released_m3",
    "law_from_row", "rescore", "se_multiplier", "se_calibration",
    "m1_trials", "exponents", "exponent_reproduction",
    "smooth_trend", "noise_table", "noise_floor",
]

DOMAINS = LANGUAGE_DOMAINS
#: The ways of fitting a law, as in :func:`scaling.evaluate.run_benchmark`: ``"released"`` emulates
#: the authors' code (the paper's method), ``"global"`` is the global minimum of Eq. 4/5,
#: ``"local"`` a descent from the released starting point.
ESTIMATORS = ("released", "global", "local")
#: How tables and legends name each estimator.
ESTIMATOR_LABELS = {"released": "released code", "global": "global minimum", "local": "local search"}
#: The paper's table for each domain.
DOMAIN_SOURCE = {"NMT": "Table 2", "LM": "Table 2", "BB": "Table 3"}
#: Decimals to which the released notebook truncates RMSEs before comparing them.
WIN_DECIMALS = 3
#: How our winners (bold cells) are marked: the RMSEs truncated to :data:`WIN_DECIMALS` decimals,
#: every tied law a winner -- the rule of the paper's Figure 1 bars for these domains
#: (:data:`scaling.evaluate.FIGURE1_TIE_RULE`), so that our bold cells and our bars agree.
WIN_RULE = {"NMT": "truncated", "LM": "truncated", "BB": "truncated"}
#: The winner rules :func:`winners` knows: ``truncated`` (above), ``best`` (smallest RMSE, no
#: truncation), ``within-se`` (every law within our standard error of the best), ``within-paper-se``
#: (within the paper's printed ± of the best; NMT prints none), ``printed`` (the smallest RMSE after
#: rounding to the two significant digits the paper prints).
BOLD_RULES = ("truncated", "best", "within-se", "within-paper-se", "printed")
#: Optimiser settings on which the paper's text and the released code disagree, as options of
#: :func:`scaling.laws.released.fit_released` per law (only M2 and M4 have them).
RELEASED_VARIANTS = {
    "lr 1e-7": {"M2": {"lr": 1e-7}, "M4": {"lr": 1e-7}},
    "eps0 fixed": {"M4": {"update_eps0": False}},
    "lr 1e-7, eps0 fixed": {"M2": {"lr": 1e-7}, "M4": {"lr": 1e-7, "update_eps0": False}},
}

#: Paper row name for each row key (model for NMT and LM, task for BB), in the paper's order.
ROW_LABELS = PAPER_ROW_NAMES


def _check_domain(domain: str) -> str:
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; this module covers {list(DOMAINS)}.")
    return domain


def _row_key(domain: str) -> str:
    """Which column of a results frame names a table row: the task for BB, else the model."""
    return "task" if domain == "BB" else "model"


def row_label(domain: str, key: str) -> str:
    """The paper's printed row name for a row key (``'Dec-only'`` -> ``'Decoder-only /LM'``)."""
    labels = ROW_LABELS[_check_domain(domain)]
    if key not in labels:
        raise KeyError(f"{key!r} is not a row of the paper's {domain} table; rows: {list(labels)}.")
    return labels[key]


def curves_of(bench_or_curves, domain: str) -> list[LearningCurve]:
    """The curves of ``domain``, in the paper's row order.

    Accepts a :class:`scaling.benchmark.Benchmark` (or anything with ``curves``) or a list of curves.
    """
    _check_domain(domain)
    curves = curve_list(bench_or_curves)
    by_key = {getattr(c, _row_key(domain)): c for c in curves if c.domain == domain}
    missing = [k for k in ROW_LABELS[domain] if k not in by_key]
    if missing:
        raise ValueError(f"the {domain} curves {missing} are missing; pass the whole benchmark "
                         "(scaling.benchmark.load_benchmark()).")
    return [by_key[k] for k in ROW_LABELS[domain]]


# ---------------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------------

def _estimator(estimator: str | None, search: str | None) -> str:
    """Resolve the estimator name, accepting the older keyword ``search``."""
    estimator = resolve_estimator(estimator, search)
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {list(ESTIMATORS)}.")
    return estimator


def run_domain(bench_or_curves, domain: str, estimator: str | None = None,
               laws: Iterable[str] = PAPER_LAWS, *, search: str | None = None,
               settings: Mapping[str, dict] | None = None) -> pd.DataFrame:
    """:func:`scaling.evaluate.run_benchmark` on one domain's curves with one estimator.

    ``estimator`` is one of :data:`ESTIMATORS` (default ``"released"``, the paper's method;
    ``search`` is its older name). ``settings`` maps a law to options (released: those of
    :func:`scaling.laws.released.fit_released`, e.g. ``{"M4": {"update_eps0": False}}``). For the
    notebook's scoring pass ``load_benchmark(drop_duplicates=False)``. Rows come in the paper's row
    order, then by law, with the columns ``estimator`` and ``search`` (the same value) after
    ``law``.
    """
    estimator = _estimator(estimator, search)
    curves = curves_of(bench_or_curves, domain)
    res = run_benchmark(curves, laws=tuple(laws), estimator=estimator,
                        settings=dict(settings) if settings else None)
    res.insert(4, "estimator", estimator)
    res.insert(5, "search", estimator)
    return res


def run_variants(bench_or_curves, domain: str, estimators: Iterable[str] = ("released", "global"), *,
                 searches: Iterable[str] | None = None) -> dict:
    """``{estimator: run_domain(...)}`` for several estimators (default: the released code and the
    global minimum; ``searches`` is the older name of ``estimators``)."""
    names = tuple(searches) if searches is not None else tuple(estimators)
    return {name: run_domain(bench_or_curves, domain, name) for name in names}


def run_released_variants(bench_or_curves, domain: str, names: Iterable[str] = tuple(RELEASED_VARIANTS),
                          laws: Iterable[str] = ("M2", "M4")) -> dict:
    """``{variant: run_domain(..., "released", settings=...)}`` for the optimiser variants of
    :data:`RELEASED_VARIANTS` (only M2 and M4 depend on them, so only they are fitted by default)."""
    out = {}
    for name in names:
        if name not in RELEASED_VARIANTS:
            raise ValueError(f"unknown variant {name!r}; choose from {list(RELEASED_VARIANTS)}.")
        out[name] = run_domain(bench_or_curves, domain, "released", laws=laws, settings=RELEASED_VARIANTS[name])
    return out




def fits_from_results(results: pd.DataFrame, domain: str, laws: Iterable[str] | None = None) -> list[dict]:
    """For each curve of ``domain`` (paper order) a ``{law: fitted law}`` dict rebuilt from the
    rows of a results frame (:func:`law_from_row`), for plotting."""
    _check_domain(domain)
    key = _row_key(domain)
    part = results[results["domain"] == domain]
    laws = list(laws) if laws is not None else [law for law in LAW_COLUMNS if law in set(part["law"])]
    rows = {(str(r[key]), r["law"]): r for _, r in part.iterrows()}
    return [{law: law_from_row(rows[(k, law)]) for law in laws} for k in ROW_LABELS[domain]]


def fitted_laws(bench_or_curves, domain: str, estimator: str | None = None,
                laws: Iterable[str] = PAPER_LAWS, *, search: str | None = None) -> list[dict]:
    """For each curve of ``domain`` (paper order) a ``{law name: fitted law}`` dict, for plotting.

    ``estimator`` as in :func:`run_domain` (default ``"released"``)."""
    estimator = _estimator(estimator, search)
    if estimator == "released":
        return fits_from_results(run_domain(bench_or_curves, domain, "released", laws=laws), domain, laws)
    out = []
    for curve in curves_of(bench_or_curves, domain):
        out.append({law: law_for_domain(law, domain, estimator).fit(curve.x_fit, curve.loss_fit) for law in laws})
    return out


def common_fit_window(curves: Iterable[LearningCurve]) -> float:
    """A fitting cut shared by all given curves: half the largest x of the shortest curve (the
    paper's ``tau = x_max / 2`` rule applied to the run that stops first)."""
    ends = [float(np.max(c.x)) for c in curves]
    if not ends:
        raise ValueError("no curves given.")
    return min(ends) / 2.0


def with_common_fit_window(bench_or_curves, domain: str = "LM",
                           x_max: float | None = None) -> list[LearningCurve]:
    """The domain's curves with their fitting part cut at ``x_max`` (default: the common window)."""
    curves = curves_of(bench_or_curves, domain)
    x_max = common_fit_window(curves) if x_max is None else float(x_max)
    return [c.with_fit_part(x_max) for c in curves]


# ---------------------------------------------------------------------------------------------
# Paper versus ours
# ---------------------------------------------------------------------------------------------

def _reference() -> pd.DataFrame:
    return ledger.load_reference()


def paper_table(domain: str, value: str = "rmse") -> pd.DataFrame:
    """The paper's table for ``domain``: rows (paper order, CSV keys) x laws.

    ``value`` is ``"rmse"``, ``"se"`` (the printed ±, NaN for NMT) or ``"bold"``.
    """
    _check_domain(domain)
    if value not in ("rmse", "se", "bold"):
        raise ValueError(f"value must be 'rmse', 'se' or 'bold', got {value!r}.")
    ref = _reference()
    ref = ref[(ref["source"] == DOMAIN_SOURCE[domain]) & (ref["domain"] == domain)
              & (ref["quantity"] == "rmse")]
    key = _row_key(domain)
    column = {"rmse": "paper", "se": "paper_error", "bold": "bold"}[value]
    table = ref.pivot(index=key, columns="law", values=column)
    table = table.reindex(index=list(ROW_LABELS[domain]), columns=list(LAW_COLUMNS))
    if value == "bold":
        return table.fillna(False).astype(bool)
    return table.astype(float)


def ours_table(results: pd.DataFrame, domain: str, value: str = "rmse") -> pd.DataFrame:
    """A results frame as a table of ``value`` (rows in paper order, CSV keys) x laws."""
    _check_domain(domain)
    part = results[results["domain"] == domain]
    if part.empty:
        raise ValueError(f"no {domain} rows in the results; run run_domain(bench, {domain!r}) first.")
    table = part.pivot(index=_row_key(domain), columns="law", values=value)
    return table.reindex(index=list(ROW_LABELS[domain]), columns=[c for c in LAW_COLUMNS if c in table.columns])


def items_for(results: pd.DataFrame, domain: str) -> pd.DataFrame:
    """Ledger items (``item, ours, ours_error``) of ``domain``'s table cells from a results frame."""
    _check_domain(domain)
    part = results[results["domain"] == domain]
    items = ledger.table3_from_results(part) if domain == "BB" else ledger.table2_from_results(part)
    return items[items["item"].str.startswith(f"{domain}/")].reset_index(drop=True)


def reproduction(results: pd.DataFrame, domain: str) -> pd.DataFrame:
    """:func:`scaling.ledger.compare` restricted to ``domain``'s table cells (RMSE and ±)."""
    out = ledger.compare(items_for(results, domain))
    return out[(out["source"] == DOMAIN_SOURCE[domain]) & (out["domain"] == domain)].reset_index(drop=True)


def status_counts(comparison: pd.DataFrame, quantity: str = "rmse") -> pd.DataFrame:
    """Counts of statuses per law (rows M1..M4, columns in :data:`scaling.ledger.STATUSES` order)."""
    part = comparison[comparison["quantity"] == quantity]
    table = pd.crosstab(part["law"], part["status"]).reindex(
        index=list(LAW_COLUMNS), columns=list(ledger.STATUSES), fill_value=0)
    if not table["not-yet"].any():
        table = table.drop(columns="not-yet")
    table.loc["all"] = table.sum()
    table.index.name, table.columns.name = "law", "status"
    return table


def status_summary(comparisons: Mapping[str, pd.DataFrame], quantity: str = "rmse") -> pd.DataFrame:
    """Compact :func:`status_counts` of several comparisons: one column per variant, one row per
    law (and ``all``), each cell ``"reproduced / within-error / differs"`` counts."""
    out = {}
    for name, comp in comparisons.items():
        counts = status_counts(comp, quantity)
        out[name] = [" / ".join(str(int(counts.loc[law, st])) for st in ("reproduced", "within-error", "differs"))
                     for law in counts.index]
        index = counts.index
    table = pd.DataFrame(out, index=index)
    table.columns.name = "reproduced / within-error / differs"
    return table


def row_labels(domain: str, keys) -> list[str]:
    """The paper's printed row names for several row keys."""
    return [row_label(domain, k) for k in keys]


def sci_pm(value: float, error: float | None = None) -> str:
    """:func:`scaling.report.tables.sci` with two significant digits, or three when the ± would
    otherwise print as 0.0 (``1.49 ± 0.03 × 10⁻²`` rather than ``1.5 ± 0.0 × 10⁻²``)."""
    text = sci(value, error)
    if error is not None and np.isfinite(error) and error > 0 and text.split(" × ")[0].endswith("± 0.0"):
        text = sci(value, error, digits=3)
    return text


def _cells(rmse: pd.DataFrame, se: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame([[sci_pm(rmse.iat[i, j], None if se is None else se.iat[i, j])
                          for j in range(rmse.shape[1])] for i in range(rmse.shape[0])],
                        index=rmse.index, columns=rmse.columns)


def _mask(rmse: pd.DataFrame, se: pd.DataFrame | None, rule: str, domain: str) -> pd.DataFrame:
    """The winner mask of one table under a rule of :data:`BOLD_RULES`."""
    if rule == "truncated":
        return winner_mask(rmse, se, rule="best", decimals=WIN_DECIMALS)
    if rule == "best":
        return winner_mask(rmse, se, rule="best")
    if rule == "within-se":
        return winner_mask(rmse, se, rule="within-se")
    if rule == "within-paper-se":
        paper_se = paper_table(domain, "se").reindex(index=rmse.index, columns=rmse.columns).fillna(0.0)
        return winner_mask(rmse, paper_se, rule="within-se")
    if rule == "printed":
        printed = rmse.map(lambda v: float(f"{v:.1e}") if np.isfinite(v) else 1.0)
        return printed.eq(printed.min(axis=1), axis=0)
    raise ValueError(f"unknown rule {rule!r}; choose one of {list(BOLD_RULES)}.")


def side_by_side_frames(results, domain: str, ours_label: str = "ours", rule: str | None = None,
                        status: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Our table(s) and the paper's in the paper's notation, with their winners (drawn by
    :func:`scaling.studies.lang_plots.side_by_side`).

    ``results`` is one results frame (its line is called ``ours_label``) or a mapping
    ``{label: results frame}``. Each table row appears once per frame and once for the paper: the
    first frame, directly above the paper's line, then the paper, then the other frames, so that
    the number that should reproduce the paper's sits next to it. Our winners follow
    :data:`WIN_RULE` (or ``rule``, one of :data:`BOLD_RULES`); the paper's bold cells are the ones
    it prints in bold. ``status=True`` gives each of our cells its ledger status against the paper.

    Returns ``(cells, bold, status)``: three frames indexed by (row name, line), one column per
    law: the texts, the bold cells, and the statuses (``""`` on the paper's lines, and for every
    cell without ``status``).
    """
    _check_domain(domain)
    rule = rule or WIN_RULE[domain]
    frames = dict(results) if isinstance(results, Mapping) else {ours_label: results}
    if not frames:
        raise ValueError("no results given.")
    with_se = domain != "NMT"
    blocks = {}
    for label, res in frames.items():
        rmse, se = ours_table(res, domain, "rmse"), ours_table(res, domain, "se")
        colour = pd.DataFrame("", index=rmse.index, columns=rmse.columns)
        if status:
            comp = reproduction(res, domain).query("quantity == 'rmse'").set_index([_row_key(domain), "law"])
            colour = pd.DataFrame([[comp["status"].get((k, law), "") for law in rmse.columns]
                                   for k in rmse.index], index=rmse.index, columns=rmse.columns)
        blocks[label] = (_cells(rmse, se if with_se else None), _mask(rmse, se, rule, domain), colour)
    columns = next(iter(blocks.values()))[0].columns
    p_rmse, p_se = paper_table(domain, "rmse")[columns], paper_table(domain, "se")[columns]
    blank = pd.DataFrame("", index=p_rmse.index, columns=columns)
    paper_block = (_cells(p_rmse, p_se if with_se else None), paper_table(domain, "bold")[columns], blank)
    labels = list(frames)
    order = labels[:1] + ["paper"] + labels[1:]
    parts = {**blocks, "paper": paper_block}
    keys = list(ROW_LABELS[domain])
    # a zero-width space after each underscore lets long task names wrap in a narrow column
    names = [lab.replace("_", "_\u200b") for lab in row_labels(domain, keys)]
    index = pd.MultiIndex.from_tuples([(name, src) for name in names for src in order])
    cells = pd.DataFrame([parts[src][0].loc[k] for k in keys for src in order], index=index, columns=columns)
    bold = pd.DataFrame([parts[src][1].loc[k] for k in keys for src in order], index=index, columns=columns)
    colours = pd.DataFrame([parts[src][2].loc[k] for k in keys for src in order], index=index, columns=columns)
    cells.columns.name = None
    return cells, bold.astype(bool), colours


def _signed(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    text = sci(abs(value))
    return text if value == 0 else ("+" if value > 0 else "−") + text


def ledger_view(comparisons: Mapping[str, pd.DataFrame], domain: str) -> pd.DataFrame:
    """One row per table cell and variant: the paper's printed number, ours, the difference
    (ours − paper) and the statuses of the RMSE and (LM, BB) of the ±.

    Index (row, law, variant) in the paper's order; ``comparisons`` maps a variant name to a
    :func:`reproduction` frame.
    """
    _check_domain(domain)
    key = _row_key(domain)
    frames = []
    for name, comp in comparisons.items():
        rm = comp[comp["quantity"] == "rmse"].reset_index(drop=True)
        errs = rm["ours_error"] if domain != "NMT" else [None] * len(rm)
        part = pd.DataFrame({
            "row": row_labels(domain, rm[key]), "law": rm["law"], "variant": name,
            "paper": rm["paper_text"], "ours": [sci_pm(v, e) for v, e in zip(rm["ours"], errs)],
            "difference": [_signed(d) for d in rm["difference"]], "status": rm["status"],
            "_order": np.arange(len(rm)),
        })
        if domain != "NMT":
            se = comp[comp["quantity"] == "se"].set_index([key, "law"])
            part["± status"] = se.loc[list(zip(rm[key], rm["law"])), "status"].to_numpy()
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    variant_rank = {name: i for i, name in enumerate(comparisons)}
    out = out.assign(_v=out["variant"].map(variant_rank)).sort_values(["_order", "_v"], kind="stable")
    return out.drop(columns=["_order", "_v"]).set_index(["row", "law", "variant"])


def trial_frames(trials: Mapping[str, pd.DataFrame], domain: str = "LM",
                 law: str = "M1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """One law's extrapolation error under several variants of the data (``{name: results}``),
    one row per variant and one column per table row, below the paper's values (drawn by
    :func:`scaling.studies.lang_plots.trial_table`). Returns ``(cells, status)``: the texts and
    each cell's :func:`scaling.ledger.compare` status (``""`` on the paper's line)."""
    _check_domain(domain)
    key = _row_key(domain)
    paper = paper_table(domain)[law]
    values = {"paper": paper.map(sci)}
    statuses = {"paper": pd.Series("", index=paper.index)}
    for name, res in trials.items():
        comp = reproduction(res, domain)
        comp = comp[(comp["law"] == law) & (comp["quantity"] == "rmse")].set_index(key)
        values[name] = comp["ours"].reindex(paper.index).map(sci)
        statuses[name] = comp["status"].reindex(paper.index)
    cells, status = pd.DataFrame(values).T, pd.DataFrame(statuses).T
    cells.columns = status.columns = row_labels(domain, cells.columns)
    return cells, status


def winners(results: pd.DataFrame, domain: str, rule: str | None = None) -> pd.DataFrame:
    """Our winner mask (rows in paper order, paper row names) under the domain's rule
    (:data:`WIN_RULE`) or ``rule`` (one of :data:`BOLD_RULES`)."""
    rmse, se = ours_table(results, domain, "rmse"), ours_table(results, domain, "se")
    mask = _mask(rmse, se, rule or WIN_RULE[domain], domain)
    mask.index = row_labels(domain, mask.index)
    return mask


def win_shares(masks: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Share of rows in which each law is marked a winner (ties credited to every tied law), as
    the paper's Figure 1 (bottom) does for these domains; one row per mask."""
    return pd.DataFrame({name: m.mean(axis=0) for name, m in masks.items()}).T


def win_share_reproduction(shares: pd.Series, domain: str) -> pd.DataFrame:
    """:func:`scaling.ledger.compare` of one row of :func:`win_shares` (a share per law) against the
    paper's Figure 1 (bottom) bars for ``domain``."""
    _check_domain(domain)
    items = pd.DataFrame({"item": [f"{domain}/{law}/win_fraction" for law in shares.index],
                          "ours": shares.to_numpy(dtype=float)})
    out = ledger.compare(items)
    return out[(out["source"] == "Figure 1") & (out["domain"] == domain)].reset_index(drop=True)


def figure1_bars(results: Mapping[str, pd.DataFrame], domain: str, paper_label: str = "paper (Figure 1)"
                 ) -> pd.DataFrame:
    """The domain's bars of Figure 1 (bottom) for each results frame, with the paper's bars as the
    last row.

    Computed by :func:`scaling.evaluate.win_fractions` with the paper's tie rule
    (:data:`scaling.evaluate.FIGURE1_TIE_RULE`: RMSEs truncated to 3 decimals, every tied law
    credited), so the shares equal those of our bold cells under :data:`WIN_RULE`.
    """
    _check_domain(domain)
    rows = {}
    for name, res in results.items():
        part = res[res["domain"] == domain]
        rows[name] = win_fractions(part, rule=FIGURE1_TIE_RULE, decimals=WIN_DECIMALS).loc[domain]
    ref = _reference()
    ref = ref[(ref["source"] == "Figure 1") & (ref["domain"] == domain)].set_index("law")["paper"]
    rows[paper_label] = ref.astype(float)
    out = pd.DataFrame(rows).T.reindex(columns=list(LAW_COLUMNS))
    out.columns.name = "law"
    return out


def bold_agreement(results: pd.DataFrame, domain: str, rules: Iterable[str] = BOLD_RULES) -> pd.DataFrame:
    """How well each winner rule applied to our table gives the paper's bold cells.

    One row per rule (:data:`BOLD_RULES`): ``agreeing cells`` (cells whose bold/not-bold marking is
    the paper's, out of ``cells``), ``agreeing rows`` (rows whose whole marking is the paper's), and
    the resulting share of rows won by each law (the bars the rule would draw). NMT has no printed ±, so ``within-paper-se`` is left out
    there.
    """
    _check_domain(domain)
    rmse, se = ours_table(results, domain, "rmse"), ours_table(results, domain, "se")
    paper_bold = paper_table(domain, "bold")[rmse.columns]
    out = {}
    for rule in rules:
        if rule == "within-paper-se" and domain == "NMT":
            continue
        mask = _mask(rmse, se, rule, domain)
        agree = (mask == paper_bold).to_numpy()
        out[rule] = {"agreeing cells": int(agree.sum()), "cells": int(agree.size),
                     "agreeing rows": int(agree.all(axis=1).sum()),
                     **{law: float(mask[law].mean()) for law in rmse.columns}}
    table = pd.DataFrame(out).T
    for col in ("agreeing cells", "cells", "agreeing rows"):
        table[col] = table[col].astype(int)
    table.index.name = "rule"
    return table


def _printed_digits(paper_text: str) -> int:
    """Decimals of the mantissa as printed (``'1.3 × 10⁻²'`` -> 1)."""
    mantissa = str(paper_text).split("±")[0].split("×")[0].strip()
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def _truncates_to(value: float, paper: float, paper_text: str) -> bool:
    """Does ``value``, truncated (not rounded) to the printed digits, give the paper's number?"""
    if not (np.isfinite(value) and value > 0 and np.isfinite(paper) and paper > 0):
        return False
    exponent = math.floor(math.log10(paper))
    if paper / 10**exponent >= 9.95:  # guard: a printed 1.0 × 10^k read as 9.99 × 10^(k-1)
        exponent += 1
    digits = _printed_digits(paper_text)
    unit = 10.0 ** (exponent - digits)
    return abs(math.floor(value / unit + 1e-9) * unit - paper) <= 1e-9 * max(paper, unit)


def _repeated_rows(domain: str) -> dict:
    """Rows whose printed M2-M4 RMSEs all equal another (earlier) row's: ``{row: earlier row}``."""
    table = paper_table(domain)
    out = {}
    keys = list(table.index)
    for i, key in enumerate(keys):
        for other in keys[:i]:
            if (table.loc[key, ["M2", "M3", "M4"]] == table.loc[other, ["M2", "M3", "M4"]]).all():
                out[key] = other
    return out


def rounds_up(comparison: pd.DataFrame, domain: str, quantity: str = "rmse") -> pd.Series:
    """For each *reproduced* cell of a :func:`reproduction` frame: does the paper's printed number
    need rounding *up* (truncating our value to the printed digits would give a smaller number)?

    Evidence on how the paper printed its tables: if it truncated, no reproduced cell would round up.
    Index (row key, law).
    """
    key = _row_key(_check_domain(domain))
    part = comparison[(comparison["quantity"] == quantity) & (comparison["status"] == "reproduced")]
    flags = [not _truncates_to(r.ours, r.paper, r.paper_text) for r in part.itertuples(index=False)]
    return pd.Series(flags, index=pd.MultiIndex.from_arrays([part[key], part["law"]]), dtype=bool)


def difference_causes(comparisons: Mapping[str, pd.DataFrame], domain: str, baseline: str | None = None,
                      quantity: str = "rmse") -> pd.DataFrame:
    """For every table cell that the baseline (default: the first of ``comparisons``, the
    released code) does not reproduce or meet within error, the size of the difference and the
    first cause that holds, in the vocabulary of :mod:`scaling.ledger.core`, in this order:

    * ``paper repeats <row>`` -- the paper prints the same M2-M4 values in this row as in an earlier
      one (NMT "Decoder-only /LM" repeats "6 Enc, 6 Dec"), so the cell is not a measurement of its row;
    * ``variant: <name>`` -- another entry of ``comparisons`` (a protocol variant) reproduces the
      cell or agrees within error (the first such entry is named);
    * ``± formula`` (``quantity="se"`` only) -- the cell's RMSE is reproduced, its ± is not;
    * ``unexplained`` -- none of these.

    ``comparisons`` maps a name to a :func:`reproduction` frame; the variants should cover the
    same cells (missing cells are skipped). Columns: row, law, paper, ours, ``difference``
    (ours - paper), ``units`` (the difference in the paper's printed rounding units), ``ratio``,
    ``truncates to paper`` (our value *truncated* to the printed digits is the paper's: not a
    cause, since the paper rounds -- see :func:`rounds_up` -- but worth knowing), ``cause``.
    """
    _check_domain(domain)
    names = list(comparisons)
    baseline = baseline or names[0]
    key = _row_key(domain)
    base = comparisons[baseline]
    base_q = base[base["quantity"] == quantity].set_index([key, "law"])
    base_rmse = base[base["quantity"] == "rmse"].set_index([key, "law"])
    others = {n: c[c["quantity"] == quantity].set_index([key, "law"]) for n, c in comparisons.items() if n != baseline}
    repeats = _repeated_rows(domain)
    good = ("reproduced", "within-error")
    rows = []
    for (row, law), r in base_q.iterrows():
        if r["status"] in good:
            continue
        if row in repeats and law != "M1":
            cause = f"paper repeats {row_label(domain, repeats[row])}"
        else:
            cause = next((f"variant: {n}" for n, c in others.items()
                          if (row, law) in c.index and c.loc[(row, law), "status"] in good), None)
            if cause is None and quantity == "se" and base_rmse.loc[(row, law), "status"] == "reproduced":
                cause = "± formula"
            cause = cause or "unexplained"
        unit = float(r["precision"])
        rows.append({"row": row_label(domain, row), "law": law, "paper": r["paper_text"],
                     "ours": sci_pm(r["ours"]), "difference": r["difference"],
                     "units": r["difference"] / unit if unit > 0 else math.nan, "ratio": r["ratio"],
                     "truncates to paper": quantity == "rmse" and _truncates_to(r["ours"], r["paper"], r["paper_text"]),
                     "cause": cause})
    return pd.DataFrame(rows, columns=["row", "law", "paper", "ours", "difference", "units", "ratio",
                                       "truncates to paper", "cause"])


def causes_view(causes: pd.DataFrame) -> pd.DataFrame:
    """A :func:`difference_causes` table for the page (drawn by
    :func:`scaling.studies.lang_plots.style_causes`): the difference as ``ours − paper``, in printed
    units and as a ratio, a tick where cutting our value off at the printed digits would give the
    paper's number, and the cause."""
    return pd.DataFrame({
        "row": causes["row"], "law": causes["law"], "paper": causes["paper"], "ours": causes["ours"],
        "ours − paper": [_signed(d) for d in causes["difference"]],
        "units": causes["units"], "ratio": causes["ratio"],
        "cut off = paper": np.where(causes["truncates to paper"].astype(bool), "✓", ""),
        "cause": causes["cause"],
    })


def cause_counts(causes: pd.DataFrame) -> pd.Series:
    """How many cells each kind of cause explains (``variant: lr 1e-7`` counted as ``variant``)."""
    kinds = causes["cause"].str.split(":").str[0].str.replace(r"^paper repeats .*", "paper repeats a row", regex=True)
    return kinds.value_counts()


# ---------------------------------------------------------------------------------------------
# Global versus local minima
# ---------------------------------------------------------------------------------------------

def search_comparison(variants: Mapping[str, pd.DataFrame], domain: str,
                      laws: Iterable[str] = ("M2", "M4")) -> pd.DataFrame:
    """For each curve, law and estimator (the keys of ``variants``): the fitted eps_inf and alpha,
    the exponent c, the training loss (Eq. 4, the mean squared log residual) and the extrapolation
    RMSE. Index (row, law, estimator), paper row order."""
    laws = list(laws)
    frames = []
    for name, res in variants.items():
        part = res[(res["domain"] == domain) & res["law"].isin(laws)]
        frames.append(part.drop(columns=["estimator", "search"], errors="ignore")
                      .assign(row=row_labels(domain, part[_row_key(domain)]), estimator=name))
    out = pd.concat(frames).set_index(["row", "law", "estimator"])[["eps_inf", "alpha", "c", "train_loss", "rmse"]]
    order = [(row_label(domain, k), law, name) for k in ROW_LABELS[domain] for law in laws for name in variants]
    return out.loc[order].rename(columns={"train_loss": "training loss", "rmse": "RMSE"})


def released_m3(bench_or_curves, domain: str) -> pd.DataFrame | None:
    """M3 alone, fitted with the released algorithm (:mod:`scaling.laws.released`), as a results frame
    with ``search = "released"``; ``None`` if that module is absent. Superseded by
    ``run_domain(bench, domain, "released")``, which fits every law that way; kept for older callers."""
    try:
        from ..laws import released
    except ImportError:
        return None
    curves = curves_of(bench_or_curves, domain)
    res = released.run_released_benchmark(curves, laws=("M3",), progress=False)
    res.insert(4, "estimator", "released")
    res.insert(5, "search", "released")
    return res


def with_released_m3(results: pd.DataFrame, released: pd.DataFrame | None) -> pd.DataFrame | None:
    """``results`` with its M3 rows replaced by those of :func:`released_m3` (``None`` if
    ``released`` is ``None``). Kept for older callers: ``run_domain(..., "released")`` is the
    released code for every law."""
    if released is None:
        return None
    keys = ["domain", "task", "model", "law"]
    rel = released[released["law"] == "M3"].set_index(keys)
    out = results.set_index(keys).copy()
    common = [c for c in out.columns if c in rel.columns]
    out.loc[rel.index, common] = rel[common].to_numpy()
    return out.reset_index()[results.columns]


# ---------------------------------------------------------------------------------------------
# Standard errors
# ---------------------------------------------------------------------------------------------

def se_multiplier(y_true, y_pred, se: float) -> float:
    """The factor ``k`` for which ``sqrt(mu + k s / sqrt(n)) - sqrt(mu)`` equals ``se``.

    ``mu`` and ``s`` are the mean and standard deviation of the squared log errors: ``k = 1`` is
    the released formula (:func:`scaling.evaluate.rmse_standard_error`).
    """
    e = (np.log(np.asarray(y_pred, float)) - np.log(np.asarray(y_true, float))) ** 2
    mu, spread = e.mean(), e.std() / math.sqrt(e.size)
    if spread == 0:
        return math.nan
    return float(((math.sqrt(mu) + se) ** 2 - mu) / spread)


def se_calibration(results: pd.DataFrame, bench_or_curves, domain: str) -> pd.DataFrame:
    """For each table cell whose RMSE we reproduce (status ``reproduced``): the paper's ±, ours
    (released formula) and the multiplier :func:`se_multiplier` that turns one into the other.

    Only reproduced cells are used, so that our predictions are the paper's up to rounding.
    """
    comp = reproduction(results, domain)
    ok = comp[(comp["quantity"] == "rmse") & (comp["status"] == "reproduced")]
    curves = {getattr(c, _row_key(domain)): c for c in curves_of(bench_or_curves, domain)}
    part = results[results["domain"] == domain].set_index([_row_key(domain), "law"])
    rows = []
    for r in ok.itertuples(index=False):
        key = getattr(r, _row_key(domain))
        fit = part.loc[(key, r.law)]
        curve = curves[key]
        pred = law_from_row({**fit.to_dict(), "law": r.law}).predict(curve.x_test)
        rows.append({"row": row_label(domain, key), "law": r.law, "held-out points": curve.n_test,
                     "RMSE": fit["rmse"], "paper ±": r.paper_error,
                     "our ±": rmse_standard_error(curve.loss_test, pred),
                     "multiplier": se_multiplier(curve.loss_test, pred, r.paper_error)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# The language-model M1 puzzle and the exponents
# ---------------------------------------------------------------------------------------------

def m1_trials(bench, bench_with_copies=None) -> dict[str, pd.DataFrame]:
    """M1 fitted to the language-model curves under several hypotheses about the paper's run.

    Returns ``{trial: results frame}`` (``run_benchmark`` columns, M1 only) for:
    ``as released``; ``duplicates kept`` (the 4 stored copies of every row; needs
    ``bench_with_copies``); ``x in millions`` (x divided by 1e6); ``loss / 0.999`` (the rescaled
    loss divided by its first value); ``first point dropped`` (the point at 0.999); ``common
    fitting window`` (fit only on x up to the end of the shortest fitting range).
    """
    curves = curves_of(bench, "LM")

    def changed(fn):
        out = []
        for c in curves:
            x, y, f = fn(np.array(c.x), np.array(c.loss), np.array(c.is_fit))
            out.append(LearningCurve(c.domain, c.task, c.model, c.task_name, c.shots, x, y, f))
        return out

    def drop_first(x, y, f):
        keep = np.arange(x.size) != 0
        return x[keep], y[keep], f[keep]

    trials = {
        "as released": curves,
        "x in millions": changed(lambda x, y, f: (x / 1e6, y, f)),
        "loss / 0.999": changed(lambda x, y, f: (x, y / y[0], f)),
        "first point dropped": changed(drop_first),
        "common fitting window": with_common_fit_window(curves),
    }
    if bench_with_copies is not None:
        trials["duplicates kept"] = curves_of(bench_with_copies, "LM")
    return {name: run_benchmark(cs, laws=("M1",), estimator="global")
            for name, cs in trials.items()}


def exponents(results: pd.DataFrame) -> pd.DataFrame:
    """The fitted exponent c of every LM model size (rows, ascending size) and law (columns)."""
    table = ours_table(results, "LM", "c")
    return table


def exponent_reproduction(results: pd.DataFrame) -> pd.DataFrame:
    """:func:`scaling.ledger.compare` of the Figure 9 exponents (values read off the paper's
    graphics) against ours."""
    out = ledger.compare(ledger.figure9_from_results(results[results["domain"] == "LM"]))
    return out[out["source"] == "Figure 9"].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# How noisy the curves are
# ---------------------------------------------------------------------------------------------

def smooth_trend(curve, degree: int = 3):
    """A smooth trend through the whole curve: a polynomial of ``degree`` in log x fitted by least
    squares to log loss (all points, fitted and held out). Returns ``trend(x) -> loss``."""
    if len(curve.x) <= degree + 1:
        raise ValueError(f"{curve.label} has {len(curve.x)} points; a degree-{degree} trend needs more "
                         f"than {degree + 1}.")
    coef = np.polyfit(np.log(curve.x), np.log(curve.loss), degree)

    def trend(x):
        return np.exp(np.polyval(coef, np.log(np.asarray(x, float))))

    return trend


def noise_table(curves: Iterable, degree: int = 3) -> pd.DataFrame:
    """Noise statistics of each curve, in natural-log units (the units of the extrapolation RMSE).

    Columns: ``noise`` (standard deviation of log loss around :func:`smooth_trend`, corrected for
    the fitted coefficients), ``noise held out`` (the same on the held-out points only),
    ``improvement`` (drop of the log trend from the first to the last x), ``noise / improvement``,
    ``held-out improvement`` (drop of the log trend across the held-out x) and ``lag-1
    correlation`` of the residuals (positive: the curve wiggles rather than jitters).
    """
    rows = []
    for c in curves:
        trend = smooth_trend(c, degree)
        r = np.log(c.loss) - np.log(trend(c.x))
        held = r[~np.asarray(c.is_fit)]
        log_trend = np.log(trend(np.array([c.x[0], c.x[-1], np.min(c.x_test)])))
        improvement = float(log_trend[0] - log_trend[1])
        noise = float(np.sqrt(np.sum(r**2) / (r.size - degree - 1)))
        rows.append({"domain": c.domain, "task": c.task, "model": c.model, "label": c.label,
                     "points": len(c.x), "noise": noise,
                     "noise held out": float(np.sqrt(np.mean(held**2))),
                     "improvement": improvement, "noise / improvement": noise / improvement,
                     "held-out improvement": float(log_trend[2] - log_trend[1]),
                     "lag-1 correlation": float(np.corrcoef(r[:-1], r[1:])[0, 1])})
    return pd.DataFrame(rows)


def noise_floor(results: pd.DataFrame, noise: pd.DataFrame, domain: str = "BB") -> pd.DataFrame:
    """Best extrapolation RMSE of each row next to the curve's held-out noise level: an RMSE
    cannot go far below the scatter of the held-out points around any smooth curve."""
    rmse = ours_table(results, domain, "rmse")
    key = _row_key(domain)
    nz = noise[noise["domain"] == domain].set_index(key)
    out = pd.DataFrame({"best law": rmse.idxmin(axis=1), "best RMSE": rmse.min(axis=1),
                        "held-out noise": nz["noise held out"].reindex(rmse.index)})
    out["best RMSE / noise"] = out["best RMSE"] / out["held-out noise"]
    out.index = row_labels(domain, out.index)
    return out
