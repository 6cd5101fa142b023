"""Apply a function to each of many items in worker processes, keeping the items' order.

Fitting is pure Python around small numerical kernels, so threads do not help (the interpreter lock);
processes do. The workers are *spawned* (a fresh interpreter that imports :mod:`scaling`), which is
portable and safe inside a Jupyter kernel, whose threads a fork would copy half-way. Items and
results travel by pickle, so the function must be defined at module level.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable

import numpy as np

__all__ = ["n_workers", "map_in_order", "quiet"]


def n_workers(n_jobs) -> int:
    """The number of processes for ``n_jobs``: a positive integer, or None for every core."""
    if n_jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None (every core), got {n_jobs!r}.")
    return int(n_jobs)


def _spawn_can_start() -> bool:
    """A spawned worker re-imports the main module by name or path; a script read from stdin has neither."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


@contextmanager
def quiet():
    """Silence numpy/scipy RuntimeWarnings: an optimiser probing an infeasible region (an overflowing
    beta, say) warns there, and whatever goes wrong ends up as a recorded error instead."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def map_in_order(func: Callable, items: Iterable, n_jobs=1, on_done: Callable[[], None] | None = None) -> list:
    """``[func(item) for item in items]``, on ``n_jobs`` processes when that is more than one.

    ``on_done()`` is called in this process after each item (for a progress line). The result does
    not depend on ``n_jobs``: every item is computed the same way, and the list keeps the items' order.
    Where worker processes cannot be started (a script read from stdin), the items run here.
    """
    items = list(items)
    workers = min(n_workers(n_jobs), len(items)) if _spawn_can_start() else 1
    out = []
    if workers <= 1:
        for item in items:
            out.append(func(item))
            if on_done is not None:
                on_done()
        return out
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for result in pool.map(func, items):
            out.append(result)
            if on_done is not None:
                on_done()
    return out
