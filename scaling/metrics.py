"""The paper's error measures (foundation layer): Eq. 6, the released code's "±", truncation.

They live below the laws so that the released emulation can score its own fits; the benchmark runner
and the win rules are in :mod:`scaling.evaluate`.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_positive_array

__all__ = ["extrapolation_rmse", "rmse_standard_error", "truncate_rmse", "FAILED_RMSE"]

#: The released notebook scores a failed fit as RMSE 1 (far worse than any real fit).
FAILED_RMSE = 1.0


def _squared_log_errors(y_true, y_pred) -> np.ndarray:
    y_true = as_positive_array(y_true, "y_true")
    y_pred = as_positive_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}.")
    if y_true.size == 0:
        raise ValueError("no held-out points: the extrapolation error needs at least one.")
    return (np.log(y_pred) - np.log(y_true)) ** 2


def extrapolation_rmse(y_true, y_pred) -> float:
    """Root mean squared error of the natural log of the loss (paper Eq. 6)."""
    return float(np.sqrt(np.mean(_squared_log_errors(y_true, y_pred))))


def rmse_standard_error(y_true, y_pred) -> float:
    """The "±" of the released code: one standard error of the mean squared log error, mapped to RMSE.

    With ``e_i`` the squared log errors, ``mu`` their mean and ``s`` their
    standard deviation (ddof 0): ``sqrt(mu + s / sqrt(n)) - sqrt(mu)``.
    A single held-out point gives 0.  Duplicated points count in ``n``.
    """
    e = _squared_log_errors(y_true, y_pred)
    mu = e.mean()
    return float(np.sqrt(mu + e.std() / np.sqrt(e.size)) - np.sqrt(mu))


def truncate_rmse(values, decimals: int | None):
    """RMSEs truncated (not rounded) to ``decimals`` decimals, as the released notebook compares them.

    ``decimals=None`` returns ``values`` unchanged.  The tiny nudge keeps a value such as 0.003, which
    floating point stores as 0.0029999999999999996, from dropping to 0.002.  Works on arrays, Series
    and DataFrames alike.
    """
    if decimals is None:
        return values
    factor = 10.0**decimals
    return np.floor(values * factor + 1e-9) / factor
