"""The protocol choices the paper leaves open, each fitted with the released algorithm, item by item.

The paper's text and the authors' released notebook disagree on a few choices, and the paper is
silent on others. Each :class:`Variant` below changes one of them (or a named combination) against
the baseline ``"released"``, which is the released notebook exactly as the authors ran it. Every variant is fitted with
:func:`scaling.laws.released.run_released_benchmark` (the emulation of the released code), turned into
the ledger's items (Tables 2 and 3, the bars of Figure 1, the exponents of Figures 6 and 9) and
judged by :func:`scaling.ledger.compare`, so no status is set by hand.

The variants (:data:`VARIANTS`, in the order in which the ledger names them as a cause)
-------------------------------------------------------------------------------------
=============================  =================================================================
``released``                   the notebook: gradient steps of 1e-8, eps0 learned within the
                               notebook's bounds, each curve split by its ``Training`` column,
                               every held-out row scored (the duplicated LM rows too), Figure 1
                               with the paper's tie rule per domain
                               (:data:`scaling.evaluate.FIGURE1_TIE_RULE`)
``lr=1e-7``                    the learning rate the paper's text states (M2, M4)
``eps0 fixed``                 eps0 fixed at its initial value, the random-guessing loss, as the
                               paper's text states (``update_eps0=False``; M4)
``paper text``                 both of the above: the recipe as the paper's text writes it
``LM common cut``              the five LM curves fitted up to one common x
                               (:data:`scaling.laws.released.LM_TABLE2_FIT_X_MAX`), held-out points
                               as in the CSV (all laws, LM only)
``LM common cut, paper text``  the two previous variants together
``duplicates dropped``         one copy of each duplicated row (687 LM rows): the fits are the
                               same, the standard errors count fewer held-out points (LM only)
``ties split``                 Figure 1 with every domain's ties split (the notebook's IC cell)
``ties credit-all``            Figure 1 with every tied law credited in every domain
``ties within-SE``             Figure 1 of NMT, LM, BIG-Bench: every law within one standard
                               error of the best RMSE wins (untruncated; the rule that gives the
                               paper's bold cells from its own numbers); IC split
=============================  =================================================================

A variant refits only what it can change (``lr`` only moves M2 and M4, ``update_eps0`` only M4,
the LM cut only LM curves, the tie rules nothing at all); every other row is the baseline's fit.
Fits are cached within the process per (option set, curve set, domain, law), so the sweep runs each
distinct fit once, and the ledger, the book and the CLI share them.

What the sweep finds (measured with the exact emulation)
--------------------------------------------------------
Of the 212 ledger items computed from the benchmark fits, the released settings give 81
reproduced or within error, and 93 are reproduced under at least one variant. ``lr=1e-7`` moves 37
items (M2 and M4) and ``duplicates dropped`` 40 (the LM standard errors double), but neither flips
a status. ``eps0 fixed`` (and ``paper text``) gains 4 items (BIG-Bench ling 1-shot, mult 1-shot and
qa 2-shot M4; Figure 6 BiT/101/3 inet_25 M4) and loses 2 (BIG-Bench mult 2-shot M4; the IC M4 bar,
0.70). ``LM common cut`` gains 7 (Table 2 LM 1.68e+07 M1, all of the 2.62e+08 row, 1.34e+08 M4;
Figure 9 M4 1.68e+07) and loses 4 (LM 1.68e+07 M4, the LM M3 bar, two Figure 9 exponents). Of the tie rules, the per-domain rule of the baseline loses nothing:
``ties split`` loses 4 bars, ``ties credit-all`` the IC M4 bar, ``ties within-SE`` gains LM M2 and
loses 2.

Public API
----------
``VARIANTS``, ``Variant``, ``BASELINE``           the variants and the baseline's name
``SOURCE_DOMAINS``                                 benchmark domains each ledger source needs
``variant_results(name, domains=, laws=)``        a ``run_released_benchmark``-style frame
``variant_items(name, domains=, laws=)``          its ledger items (``item, ours, ours_error``)
``sweep(variants=, sources=, domains=, laws=)``   tidy frame: item x variant -> value, status
``reproducing_variants(tidy)``                     per item, the variants that reproduce it
``closest_variants(tidy)``                         per item, the variant closest to the paper
``sweep_summary(tidy)``                            per source x variant, how many items are good
``clear_cache()``                                  forget every cached fit
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from .._progress import Progress
from ..evaluate import DOMAIN_ORDER, FIGURE1_TIE_RULE

__all__ = [
    "BASELINE", "GOOD_STATUSES", "LAWS", "OPTION_LAWS", "SOURCE_DOMAINS", "VARIANTS", "Variant",
    "clear_cache", "closest_variants", "reproducing_variants", "sweep", "sweep_summary",
    "variant_items", "variant_results",
]

LAWS = ("M1", "M2", "M3", "M4")
#: Statuses of :func:`scaling.ledger.compare` that count as agreeing with the paper.
GOOD_STATUSES = ("reproduced", "within-error")
#: The ledger sources computed from the benchmark fits, and the domains each one needs.
SOURCE_DOMAINS = MappingProxyType({
    "Table 2": ("NMT", "LM"),
    "Table 3": ("BB",),
    "Figure 1": DOMAIN_ORDER,
    "Figure 6": ("IC",),
    "Figure 9": ("LM",),
})


@dataclass(frozen=True)
class Variant:
    """One protocol variant: what it changes against the released notebook.

    ``options`` go to :func:`scaling.laws.released.run_released_benchmark`; each law gets those it uses
    (:data:`OPTION_LAWS`), and a law that uses none of them keeps the baseline's fits. ``lm_cut`` fits the LM curves
    up to :data:`scaling.laws.released.LM_TABLE2_FIT_X_MAX`; ``drop_duplicates`` scores one copy of each
    duplicated row; ``tie_rule`` is the Figure 1 rule per domain.
    """

    description: str
    options: Mapping = field(default_factory=dict)
    lm_cut: bool = False
    drop_duplicates: bool = False
    tie_rule: Mapping = field(default_factory=lambda: dict(FIGURE1_TIE_RULE))

    def options_for(self, law: str) -> dict:
        """The options of this variant that change ``law``'s fit."""
        return {k: v for k, v in self.options.items() if law in OPTION_LAWS.get(k, LAWS)}


#: Which laws each option of the released algorithm changes (an option not listed: every law).
OPTION_LAWS = MappingProxyType({
    "lr": ("M2", "M4"), "gd_iterations": ("M2", "M4"), "gd_epochs": ("M2", "M4"),
    "newton_lr": ("M2", "M4"), "newton_steps": ("M2", "M4"), "hessian": ("M2", "M4"), "lo_bound": ("M2",),
    "keep_gamma": ("M3",), "eps0": ("M4",), "update_eps0": ("M4",), "up_bound": ("M4",),
    "update_alpha": ("M4",), "alpha": ("M4",),
})

_ALL_SPLIT = {d: "split" for d in DOMAIN_ORDER}
_ALL_CREDIT = {d: "credit-all" for d in DOMAIN_ORDER}
_PAPER_TEXT = {"lr": 1e-7, "update_eps0": False}

#: The name of the baseline variant (the released notebook).
BASELINE = "released"
#: The variants, in the order in which a cause names the first one that reproduces an item.
VARIANTS: Mapping[str, Variant] = MappingProxyType({
    BASELINE: Variant("the released notebook: lr 1e-8, eps0 learned within bounds, each curve's own split, "
                      "every held-out row scored, Figure 1 ties by domain (IC split, others credit-all)"),
    "lr=1e-7": Variant("gradient steps of 1e-7, as the paper's text states (the code uses 1e-8)",
                       {"lr": 1e-7}),
    "eps0 fixed": Variant("eps0 fixed at the random-guessing loss, as the paper's text states "
                          "(the notebook learns it within bounds)", {"update_eps0": False}),
    "paper text": Variant("the paper's text: lr 1e-7 and eps0 fixed", _PAPER_TEXT),
    "LM common cut": Variant("the five LM curves fitted up to one common x (half the largest x of the "
                             "shortest curve); held-out points unchanged", lm_cut=True),
    "LM common cut, paper text": Variant("the LM common cut with lr 1e-7 and eps0 fixed", _PAPER_TEXT,
                                         lm_cut=True),
    "duplicates dropped": Variant("one copy of each duplicated row (687 LM rows): same fits, fewer "
                                  "held-out points in the standard error", drop_duplicates=True),
    "ties split": Variant("Figure 1 with every domain's ties split (the notebook's IC cell)",
                          tie_rule=_ALL_SPLIT),
    "ties credit-all": Variant("Figure 1 with every tied law credited in every domain", tie_rule=_ALL_CREDIT),
    "ties within-SE": Variant("Figure 1 of NMT, LM and BIG-Bench: every law within one standard error of the "
                              "best RMSE is credited (the rule that gives the paper's bold cells from its own "
                              "numbers); IC split", tie_rule={"IC": "split", "NMT": "within-se",
                                                              "LM": "within-se", "BB": "within-se"}),
})


# ---------------------------------------------------------------------------------------------
# Fitting, cached
# ---------------------------------------------------------------------------------------------

_FITS: dict[tuple, pd.DataFrame] = {}
_BENCHES: dict[tuple, object] = {}


def clear_cache() -> None:
    """Forget every cached fit and benchmark (e.g. after the emulation changed)."""
    _FITS.clear()
    _BENCHES.clear()


def _run_released(curves, laws, progress, options):
    """One call of the released emulation (a seam: tests substitute a fake)."""
    from ..laws.released import run_released_benchmark

    return run_released_benchmark(curves, laws=tuple(laws), progress=progress, **options)


def _bench(data_dir, drop_duplicates: bool):
    key = (None if data_dir is None else str(data_dir), bool(drop_duplicates))
    if key not in _BENCHES:
        from ..benchmark.data import load_benchmark

        _BENCHES[key] = load_benchmark(data_dir, drop_duplicates=drop_duplicates)
    return _BENCHES[key]


def _get(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {list(VARIANTS)}.")
    return VARIANTS[name]


def _check_subset(values, allowed, what):
    values = tuple(allowed) if values is None else ((values,) if isinstance(values, str) else tuple(values))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {list(allowed)}.")
    return tuple(v for v in allowed if v in values)


def _curves(variant: Variant, data_dir, domain: str):
    curves = [c for c in _bench(data_dir, variant.drop_duplicates).curves if c.domain == domain]
    if variant.lm_cut and domain == "LM":
        from ..laws.released import LM_TABLE2_FIT_X_MAX

        curves = [c.with_fit_part(LM_TABLE2_FIT_X_MAX) for c in curves]
    return curves


def _affects(variant: Variant, data_dir, domain: str, law: str) -> bool:
    """Whether the variant's fits (or scores) of ``law`` on ``domain`` can differ from the baseline's."""
    if variant.options_for(law):
        return True
    if variant.lm_cut and domain == "LM":
        return True
    if variant.drop_duplicates:
        return any(c.n_duplicates_removed for c in _bench(data_dir, True).curves if c.domain == domain)
    return False


def _fit_key(variant: Variant, data_dir, domain: str, law: str) -> tuple:
    opts = tuple(sorted(variant.options_for(law).items()))
    return (None if data_dir is None else str(data_dir), opts, variant.lm_cut and domain == "LM",
            variant.drop_duplicates and _affects(variant, data_dir, domain, law), domain, law)


def variant_results(name: str = BASELINE, *, domains=None, laws=LAWS, data_dir=None,
                    progress: bool = False, stream=None) -> pd.DataFrame:
    """The released algorithm's fits under variant ``name``: one row per (curve, law), with the
    columns of :func:`scaling.laws.released.run_released_benchmark`, for the given domains and laws.

    Fits the variant cannot change are the baseline's (same cache entry). Cached within the process.
    """
    variant = _get(name)
    domains = _check_subset(domains, DOMAIN_ORDER, "domain(s)")
    laws = _check_subset(laws, LAWS, "law(s)")
    frames = []
    bar = Progress(len(domains), f"variant {name!r} fits", stream, enabled=progress, unit="domains")
    for domain in domains:
        who = {law: variant if _affects(variant, data_dir, domain, law) else VARIANTS[BASELINE] for law in laws}
        keys = {law: _fit_key(who[law], data_dir, domain, law) for law in laws}
        groups: dict[tuple, list[str]] = {}  # laws that need the same settings are fitted in one call
        for law in laws:
            if keys[law] not in _FITS:
                groups.setdefault(keys[law][:-1], []).append(law)
        for group in groups.values():
            setting = who[group[0]]
            options = setting.options_for(group[0])
            curves = _curves(setting, data_dir, domain)
            res = _run_released(curves, group, False, options)
            for law in group:
                _FITS[keys[law]] = res[res["law"] == law].reset_index(drop=True)
        frames.extend(_FITS[keys[law]] for law in laws)
        bar.update(1, note=domain)
    bar.close()
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Items and the sweep
# ---------------------------------------------------------------------------------------------

def variant_items(name: str = BASELINE, *, domains=None, laws=LAWS, data_dir=None,
                  progress: bool = False) -> pd.DataFrame:
    """The ledger items (``item, ours, ours_error``) computed from :func:`variant_results`.

    Figure 1 bars of a domain are included only when all four laws were fitted on it.
    """
    from .core import benchmark_items

    variant = _get(name)
    res = variant_results(name, domains=domains, laws=laws, data_dir=data_dir, progress=progress)
    return benchmark_items(res, tie_rule=variant.tie_rule)


def _domains_for(sources, domains):
    if sources is None:
        return _check_subset(domains, DOMAIN_ORDER, "domain(s)")
    sources = [sources] if isinstance(sources, str) else list(sources)
    need = {d for s in sources if s in SOURCE_DOMAINS for d in SOURCE_DOMAINS[s]}
    if domains is not None:
        need &= set(_check_subset(domains, DOMAIN_ORDER, "domain(s)"))
    return tuple(d for d in DOMAIN_ORDER if d in need)


def sweep(variants: Iterable[str] | None = None, *, sources=None, domains=None, laws=LAWS, data_dir=None,
          progress: bool = False, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every ledger item of the benchmark fits under every variant, judged against the paper.

    ``sources`` (ledger sources, e.g. ``["Table 2"]``) and ``domains`` / ``laws`` restrict the
    work; a small sweep (``domains=["NMT"], laws=["M1", "M3"]``) takes well under a second.

    Returns a tidy frame, one row per (item, variant), variants in :data:`VARIANTS` order:
    ``item, source, domain, law, quantity, variant, value, error, changed, paper, paper_text,
    precision, distance, status``. ``value``/``error`` are the variant's number and its standard
    error (for an RMSE); ``changed`` says whether they differ from the baseline's; ``distance`` is
    ``|value - paper|`` in printed units of the paper's value (``precision``); ``status`` comes from
    :func:`scaling.ledger.compare`.
    """
    from .core import BENCHMARK_SOURCES, compare, load_reference

    names = list(VARIANTS) if variants is None else [v for v in ([variants] if isinstance(variants, str)
                                                                 else list(variants))]
    for name in names:
        _get(name)
    ref = load_reference() if reference is None else reference
    wanted = BENCHMARK_SOURCES if sources is None else tuple(
        s for s in ([sources] if isinstance(sources, str) else sources) if s in BENCHMARK_SOURCES)
    ref = ref[ref["source"].isin(wanted)]
    doms = _domains_for(wanted, domains)
    frames = []
    bar = Progress(len(names) if doms else 0, "variant sweep", enabled=progress, unit="variants")
    for name in names:
        if not doms:
            break
        bar.update(0, note=name)
        items = variant_items(name, domains=doms, laws=laws, data_dir=data_dir)
        bar.update(1)
        items = items[items["item"].isin(ref["item"])]
        judged = compare(items, ref)
        judged = judged[judged["item"].isin(items["item"])]
        frames.append(pd.DataFrame({
            "item": judged["item"], "source": judged["source"], "domain": judged["domain"],
            "law": judged["law"], "quantity": judged["quantity"], "variant": name,
            "value": judged["ours"], "error": judged["ours_error"], "paper": judged["paper"],
            "paper_text": judged["paper_text"], "precision": judged["precision"],
            "distance": (judged["ours"] - judged["paper"]).abs() / judged["precision"],
            "status": judged["status"],
        }))
    columns = ["item", "source", "domain", "law", "quantity", "variant", "value", "error", "changed", "paper",
               "paper_text", "precision", "distance", "status"]
    if not frames:
        return pd.DataFrame(columns=columns)
    tidy = pd.concat(frames, ignore_index=True)
    tidy["changed"] = _changed(tidy)
    return tidy[columns]


def _changed(tidy: pd.DataFrame) -> pd.Series:
    """Whether each row's value or error differs from the baseline's for the same item (True when
    the baseline is not in the sweep)."""
    base = tidy[tidy["variant"] == BASELINE].set_index("item")[["value", "error"]]
    if base.empty:
        return pd.Series(True, index=tidy.index)
    ref_value = tidy["item"].map(base["value"])
    ref_error = tidy["item"].map(base["error"])

    def differs(a, b):
        both_nan = a.isna() & b.isna()
        close = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-12, atol=0.0)
        return ~(both_nan | close)

    out = differs(tidy["value"], ref_value) | differs(tidy["error"], ref_error)
    return out | (tidy["variant"] == BASELINE)


def reproducing_variants(tidy: pd.DataFrame, changed_only: bool = True) -> pd.Series:
    """Per item (in first-seen order), the tuple of variants under which it is reproduced or
    within error, in :data:`VARIANTS` order (empty when none).

    With ``changed_only`` (default) a variant that gives the baseline's value and error for the item
    (it does not touch it, e.g. a tie rule for a table cell) is left out; the baseline itself stays.
    """
    order = {name: i for i, name in enumerate(VARIANTS)}
    items = list(dict.fromkeys(tidy["item"]))
    good = tidy[tidy["status"].isin(GOOD_STATUSES)]
    if changed_only and "changed" in good.columns:
        good = good[good["changed"].astype(bool)]
    found = good.groupby("item", sort=False)["variant"].agg(lambda v: tuple(sorted(v, key=order.get)))
    return pd.Series([found.get(i, ()) for i in items], index=pd.Index(items, name="item"), name="variants")


def closest_variants(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per item, the variant whose value is closest to the paper's: ``variant, value, distance``
    (distance in printed units; the first variant in :data:`VARIANTS` order wins a tie)."""
    order = {name: i for i, name in enumerate(VARIANTS)}
    frame = tidy.dropna(subset=["distance"]).assign(_order=tidy["variant"].map(order))
    frame = frame.sort_values(["item", "distance", "_order"], kind="stable")
    best = frame.drop_duplicates("item")[["item", "variant", "value", "distance"]]
    return best.set_index("item").reindex(list(dict.fromkeys(tidy["item"])))


def sweep_summary(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per ledger source (rows) and variant (columns): how many items are reproduced or within
    error, with a total row."""
    good = tidy.assign(good=tidy["status"].isin(GOOD_STATUSES))
    table = good.pivot_table(index="source", columns="variant", values="good", aggfunc="sum", sort=False)
    table = table.reindex(columns=[v for v in VARIANTS if v in table.columns]).fillna(0).astype(int)
    table.loc["total"] = table.sum()
    return table
