"""Input validation shared by the laws and the metrics.

Every check raises a ``ValueError`` that names the problem and says how to fix
it, so that a bad curve never reaches numpy as a silent NaN.
"""

from __future__ import annotations

import numpy as np


def as_positive_array(values, name: str) -> np.ndarray:
    """A 1-D float array of finite, strictly positive values, or a clear ValueError."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert it to floats ({exc}).") from None
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN/inf value(s) (first at position {i}: {arr[i]}); "
            "drop or repair those points before fitting."
        )
    nonpos = arr <= 0
    if nonpos.any():
        i = int(np.flatnonzero(nonpos)[0])
        raise ValueError(
            f"{name} must be > 0 (scaling laws work on logarithms), but {int(nonpos.sum())} value(s) are not "
            f"(first at position {i}: {arr[i]})."
        )
    return arr


def check_curve(x, y, n_params: int, law: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a learning curve (x, loss) before fitting a law with ``n_params`` parameters."""
    x = as_positive_array(x, "x")
    y = as_positive_array(y, "loss")
    if x.shape != y.shape:
        raise ValueError(f"x and loss must have the same length, got {x.size} and {y.size}.")
    distinct = np.unique(x).size
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    same_x = xs[1:] == xs[:-1]
    conflict = same_x & (ys[1:] != ys[:-1])
    if conflict.any():
        i = int(np.flatnonzero(conflict)[0])
        raise ValueError(
            f"x = {xs[i]:g} appears more than once with different losses ({ys[i]:g} and {ys[i + 1]:g}); "
            "average the repeated measurements or keep one of them."
        )
    if distinct < n_params:
        raise ValueError(
            f"{law} has {n_params} parameters but the curve has only {distinct} distinct x value(s); "
            f"give at least {n_params} points."
        )
    return x, y
