"""Readable result tables: paper-style numbers (1.3 × 10⁻², 3.1 ± 0.7 × 10⁻⁴), bold winners and the
book's generic table styling (:func:`compact`, the status colours of :data:`STATUS_STYLE`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..benchmark.catalogue import PAPER_LAWS
from ..evaluate import winner_mask  # noqa: F401  (re-exported: the chapters style tables with it)

__all__ = ["sci", "winner_mask", "results_table", "style_table", "LAW_COLUMNS",
           "STATUS_STYLE", "COMPACT_STYLES", "DENSE_STYLES", "breakable_label", "compact"]

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


#: The CSS of a cell by its :func:`scaling.ledger.compare` status (green reproduced, amber within
#: error, red differs, grey not yet compared).
STATUS_STYLE = {
    "reproduced": "background-color: #d9f0d3",
    "within-error": "background-color: #fdf1c7",
    "differs": "background-color: #f8d5cc",
    "not-yet": "color: #888888",
}

#: The compact style of :func:`compact`: paper-notation cells must not wrap ("2.6 ×" / "10⁻¹");
#: tighter padding keeps 8-9 columns on a page.
COMPACT_STYLES = [{"selector": "", "props": "font-size: 0.74rem;"},
                  {"selector": "td", "props": "white-space: nowrap; padding: 0.2rem 0.3rem;"},
                  {"selector": "th", "props": "padding: 0.2rem 0.3rem; max-width: 8rem;"},
                  {"selector": "caption", "props": "caption-side: top; font-size: 0.85rem;"}]

#: Denser still, for tables with three lines per row and "±" cells (apply after :func:`compact`):
#: smaller, and the row names may wrap, so that four law columns fit the page.
DENSE_STYLES = [{"selector": "", "props": "font-size: 0.64rem;"},
                {"selector": "td", "props": "padding: 0.1rem 0.18rem;"},
                {"selector": "th", "props": "padding: 0.1rem 0.18rem; max-width: 6rem;"}]


def breakable_label(label):
    """A row label that may wrap after its underscores (a zero-width space follows each)."""
    return label.replace("_", "_\u200b") if isinstance(label, str) and "\u200b" not in label else label


def compact(styler, caption: str | None = None):
    """A pandas Styler with the book's compact table style for numbers in the paper's notation
    (no wrapping inside a number, small font, narrow padding; long row labels such as BIG-Bench
    task names may wrap after an underscore), optionally with a caption."""
    styler = styler.set_table_styles(COMPACT_STYLES, overwrite=False).format_index(breakable_label, axis=0)
    return styler.set_caption(caption) if caption else styler
