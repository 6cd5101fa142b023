"""Which protocol variant reproduces which of the paper's table cells (for the summary chapter).

The paper leaves several choices open (digest, sections 2 and 8): where the optimiser starts,
whether eps0 is fixed or learned, whether the duplicated LM rows count in the standard error, and
where the LM curves are split.  :func:`table_variants` refits Tables 2 and 3 under each variant
with our own estimators, and :func:`variant_status` lines every variant up against the paper with
:func:`scaling.ledger.compare`, so that no status is decided by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from .data import load_benchmark
from .evaluate import run_benchmark
from .ledger import compare, load_reference, table2_from_results, table3_from_results

__all__ = ["VARIANTS", "table_variants", "variant_status", "first_reproducing_variant"]

# name -> (description, settings for run_benchmark, keep duplicates for scoring, cut the LM fit part)
VARIANTS = {
    "global": ("our global fits, notebook eps0 settings", {}, False, False),
    "local": ("descent from the released start (eps_inf = min - 1e-3)",
              {"M2": {"search": "local"}, "M4": {"search": "local"}}, False, False),
    "local, eps0 fixed": ("as 'local', eps0 fixed at its initial value (the paper's recipe)",
                          {"M2": {"search": "local"}, "M4": {"search": "local", "learn_eps0": False}}, False, False),
    "local, duplicates kept": ("as 'local', the 687 duplicated LM rows kept (changes the ± only)",
                               {"M2": {"search": "local"}, "M4": {"search": "local"}}, True, False),
    "local, LM common cut": ("as 'local', the five LM curves fitted up to one common x",
                             {"M2": {"search": "local"}, "M4": {"search": "local"}}, False, True),
}


def _lang_curves(bench, cut_lm: bool):
    curves = [c for c in bench.curves if c.domain in ("NMT", "LM", "BB")]
    if cut_lm:
        from .released import LM_TABLE2_FIT_X_MAX, cut_fit

        curves = cut_fit(curves, LM_TABLE2_FIT_X_MAX, domains="LM")
    return SimpleNamespace(curves=curves)


def table_variants(data_dir=None, variants=None) -> dict[str, pd.DataFrame]:
    """``run_benchmark`` results on the NMT, LM and BIG-Bench curves, one frame per variant."""
    names = list(VARIANTS) if variants is None else list(variants)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}.")
    benches = {keep: load_benchmark(data_dir, drop_duplicates=not keep) for keep in {VARIANTS[n][2] for n in names}}
    out = {}
    for name in names:
        _, settings, keep_duplicates, cut_lm = VARIANTS[name]
        out[name] = run_benchmark(_lang_curves(benches[keep_duplicates], cut_lm), settings=settings)
    return out


def variant_status(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per Table 2/3 item, one status column per variant (from :func:`scaling.ledger.compare`)."""
    reference = load_reference()
    reference = reference[reference["source"].isin(["Table 2", "Table 3"])]
    columns = {}
    for name, res in results.items():
        ours = pd.concat([table2_from_results(res), table3_from_results(res)], ignore_index=True)
        ledger = compare(ours, reference)
        columns[name] = ledger.set_index("item")["status"]
    table = pd.DataFrame(columns)
    meta = reference.set_index("item")[["source", "domain", "law", "quantity"]]
    return meta.join(table)


def first_reproducing_variant(status: pd.DataFrame, order=None) -> pd.Series:
    """Per item, the first variant (in ``order``) whose status is 'reproduced', else 'none'."""
    order = list(order or [c for c in status.columns if c in VARIANTS])
    def pick(row):
        for name in order:
            if row[name] == "reproduced":
                return name
        return "none"
    return status.apply(pick, axis=1)
