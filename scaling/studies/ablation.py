"""Appendix A.1 reconstructed: M4 with a learned exponent alpha against alpha fixed at 1.

The paper's appendix (and its Table 4) is not available to us; the main text says the learnable
alpha was ablated, and the released code's comment names alpha = 1 (the plain sigmoid of Eq. 2) as
the comparison.  This module runs that comparison on the released benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..evaluate import DOMAIN_ORDER, run_benchmark, truncate_rmse, win_fractions

__all__ = ["AlphaAblation", "alpha_ablation", "ablation_summary"]


@dataclass(frozen=True)
class AlphaAblation:
    """``table``: one row per curve with both M4 variants; ``results_*``: M1-M4 line-ups for win fractions."""

    table: pd.DataFrame
    results_learned: pd.DataFrame
    results_fixed: pd.DataFrame


def alpha_ablation(bench, search: str = "global") -> AlphaAblation:
    """RMSE and parameters of M4 with alpha learned and with alpha = 1, on every curve.

    Both variants use the per-domain eps0 settings of ``law_for_domain``; M1-M3 are fitted too,
    so that win fractions can be computed with either M4 in the line-up.
    """
    base = run_benchmark(bench, laws=("M1", "M2", "M3", "M4"), estimator=search)
    fixed = run_benchmark(bench, laws=("M4",), estimator=search, settings={"M4": {"alpha": 1.0}})
    keys = ["domain", "task", "model"]
    learned = base[base.law == "M4"].set_index(keys)
    fixed = fixed.set_index(keys)
    table = pd.DataFrame({
        "rmse_learned": learned["rmse"], "rmse_fixed": fixed["rmse"],
        "alpha_learned": learned["alpha"], "c_learned": learned["c"], "c_fixed": fixed["c"],
    }).reset_index()
    with_fixed = pd.concat([base[base.law != "M4"], fixed.reset_index()], ignore_index=True)
    return AlphaAblation(table, base, with_fixed)


def ablation_summary(ablation: AlphaAblation, decimals: int | None = 3) -> pd.DataFrame:
    """Per domain: median RMSE of each variant, how often each is better (RMSE truncated to
    ``decimals`` decimals as in the win rule), and M4's win fraction against M1-M3 with each variant."""
    rows, table = [], ablation.table
    learned = truncate_rmse(table["rmse_learned"], decimals)
    fixed = truncate_rmse(table["rmse_fixed"], decimals)
    wins_learned = win_fractions(ablation.results_learned, decimals=decimals)["M4"]
    wins_fixed = win_fractions(ablation.results_fixed, decimals=decimals)["M4"]
    for domain in [d for d in DOMAIN_ORDER if d in set(table["domain"])]:
        m = (table["domain"] == domain).to_numpy()
        rows.append({
            "domain": domain, "curves": int(m.sum()),
            "median RMSE, alpha learned": table.loc[m, "rmse_learned"].median(),
            "median RMSE, alpha = 1": table.loc[m, "rmse_fixed"].median(),
            "learned better": float(np.mean(learned[m] < fixed[m])),
            "tie": float(np.mean(learned[m] == fixed[m])),
            "alpha = 1 better": float(np.mean(learned[m] > fixed[m])),
            "M4 win fraction, alpha learned": wins_learned.get(domain, np.nan),
            "M4 win fraction, alpha = 1": wins_fixed.get(domain, np.nan),
        })
    return pd.DataFrame(rows).set_index("domain")
