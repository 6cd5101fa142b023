"""Reference numbers shipped with the package: what the authors' released code returns.

``released_outputs.csv`` (package data, provenance in this folder's ``README.md``) holds one row per
(curve, law) for the paper's 92 benchmark curves and M1-M4: the released implementation's extrapolation
RMSE, its "standard error", its fitted parameters and its single-core fit time. These are reference
numbers, like the paper's own: the package compares its results with them and never shows them as its own.

>>> from scaling.ledger.reference import load_released_outputs, RELEASED_TOTAL_SECONDS
>>> len(load_released_outputs())
368
>>> round(RELEASED_TOTAL_SECONDS)
1647
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_released_outputs", "released_seconds", "RELEASED_OUTPUTS_FILE", "RELEASED_OUTPUTS_SHA256",
           "RELEASED_TOTAL_SECONDS"]

RELEASED_OUTPUTS_FILE = "released_outputs.csv"
#: sha256 of the shipped copy of ``released_outputs.csv``.
RELEASED_OUTPUTS_SHA256 = "3654e61c33518131d87988a5698c071419f1f7457b22a3438e8e1e0f124f85cc"
_KEYS = ("domain", "task", "model", "law")


def load_released_outputs() -> pd.DataFrame:
    """The released code's outputs: 368 rows, one per (curve, law), a fresh DataFrame on every call.

    Columns: ``domain, task, model, law, rmse, se, fit_seconds, beta, c, eps_inf, alpha, gamma, eps0``
    (``task`` and ``model`` always as text, spelled as in the benchmark CSVs; M3's ``c`` is the released
    code's exponent ``k >= 0``; see ``README.md`` in this folder).
    """
    with resources.files(__name__).joinpath(RELEASED_OUTPUTS_FILE).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={key: str for key in _KEYS})


def released_seconds(laws=("M1", "M2", "M3", "M4")) -> float:
    """Sum of the released code's fit times over the 92 curves for ``laws`` (all four: about 1,647 s)."""
    ref = load_released_outputs()
    wanted = set(laws)
    unknown = wanted - set(ref["law"])
    if unknown:
        raise ValueError(f"the released code fitted only {sorted(set(ref['law']))}, not {sorted(unknown)}.")
    return float(ref.loc[ref["law"].isin(wanted), "fit_seconds"].sum())


#: The released code's measured time for all 368 fits (sum of ``fit_seconds``; about 1,647 s).
RELEASED_TOTAL_SECONDS = released_seconds()
