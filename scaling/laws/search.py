"""Search helpers the laws' grid searches share."""

from __future__ import annotations

import numpy as np

__all__ = ["local_minima"]


def local_minima(values: np.ndarray, k: int) -> list[tuple[int, ...]]:
    """Indices of up to ``k`` smallest local minima of a 1-D or 2-D grid of losses."""
    v = np.where(np.isfinite(values), values, np.inf)
    padded = np.pad(v, 1, constant_values=np.inf)
    is_min = np.ones(v.shape, dtype=bool)
    for axis in range(v.ndim):
        for shift in (-1, 1):
            neighbour = np.roll(padded, shift, axis=axis)
            inner = neighbour[tuple(slice(1, -1) for _ in range(v.ndim))]
            is_min &= v <= inner
    idx = np.argwhere(is_min & np.isfinite(v))
    if idx.size == 0:
        idx = np.argwhere(np.isfinite(v))
    order = np.argsort(v[tuple(idx.T)])
    return [tuple(int(i) for i in idx[j]) for j in order[:k]]
