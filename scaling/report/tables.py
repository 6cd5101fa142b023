"""Readable result tables: paper-style numbers (1.3 × 10⁻², 3.1 ± 0.7 × 10⁻⁴) and bold winners."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..benchmark.catalogue import PAPER_LAWS
from ..evaluate import winner_mask  # noqa: F401  (re-exported: the chapters style tables with it)

__all__ = ["sci", "winner_mask", "results_table", "style_table", "LAW_COLUMNS"]

LAW_COLUMNS = PAPER_LAWS  # a table's law columns: the paper's four, in order
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(value: float, error: float | None = None, digits: int = 2) -> str:
    """``value`` (and ``± error``) in the paper's notation with ``digits`` significant digits.

    >>> sci(0.0131)
    '1.3 × 10⁻²'
    >>> sci(3.1e-4, 0.7e-4)
    '3.1 ± 0.7 × 10⁻⁴'
    """
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10**exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.96 rounds up to 10.0: move to the next power
        exponent += 1
        mantissa = round(value / 10**exponent, digits - 1)
    text = f"{mantissa:.{digits - 1}f}"
    if error is not None and np.isfinite(error):
        text += f" ± {error / 10**exponent:.{digits - 1}f}"
    if exponent == 0:
        return text
    return f"{text} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def results_table(results: pd.DataFrame, domain: str, value: str = "rmse") -> pd.DataFrame:
    """One row per curve of ``domain`` and one column per law, from a ``run_benchmark`` frame."""
    part = results[results["domain"] == domain]
    if part.empty:
        raise ValueError(f"no rows for domain {domain!r}; domains present: {sorted(results['domain'].unique())}.")
    table = part.set_index(["task", "model", "law"])[value].unstack("law")
    return table[[c for c in LAW_COLUMNS if c in table.columns]]


def style_table(rmse: pd.DataFrame, se: pd.DataFrame | None = None, bold: pd.DataFrame | None = None,
                caption: str | None = None):
    """A pandas Styler showing paper-style numbers, winners in bold; renders as HTML in the book."""
    cells = pd.DataFrame(
        [[sci(rmse.iloc[i, j], None if se is None else se.iloc[i, j]) for j in range(rmse.shape[1])]
         for i in range(rmse.shape[0])], index=rmse.index, columns=rmse.columns)
    styler = cells.style
    if bold is not None:
        styler = styler.apply(lambda _: np.where(bold.to_numpy(), "font-weight: bold", ""), axis=None)
    if caption:
        styler = styler.set_caption(caption)
    return styler
