"""Results computed once per version of the code and the data, kept on disk.

Every chapter of the book runs in its own kernel, and ``python -m pytest`` runs every chapter twice
(once through nbval, once in the book build of the browser test). A result several chapters share
(the released fits of the whole benchmark, the later laws' leaderboard, the full ledger) is therefore
stored on disk the first time it is computed and read back afterwards.

A stored result can never be stale, because its file name is a hash of everything it depends on:

* :func:`source_key`: every file of the ``scaling`` package (code and shipped reference tables) and
  the versions of Python, NumPy, SciPy, pandas and numba. The benchmark's sha256 sums are pinned in
  ``scaling/benchmark/data.py``, a file of the package, and every load checks the CSVs against them,
  so the key also names the data;
* the result's name and its arguments (:func:`token`: numbers, strings, arrays and curves by
  value, a :class:`~scaling.benchmark.Benchmark` by the sha256 of its curves).

Change any of them and the result is recomputed. ``SCALING_RESULTS_CACHE=0`` (or ``enabled=False``)
computes without reading or writing. The files live in ``<cache>/results/`` (``<cache>`` is
``$SCALING_CACHE_DIR``, else ``~/.cache/scaling``); the few newest of each name are kept. Two
processes asking for the same result at once (the book build and nbval, say) compute it once: the
second waits on a lock file for the first.
"""
from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import inspect
import os
import pickle
import platform
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["CACHE_DIR_ENV", "RESULTS_CACHE_ENV", "KEEP", "REPORTING_ARGUMENTS", "cache_dir", "cache_enabled", "cached", "cached_result",
           "result_path", "source_key", "token"]

#: The environment variable naming the cache folder (downloads and results).
CACHE_DIR_ENV = "SCALING_CACHE_DIR"
#: The environment variable that switches the results cache off ("0", "false", "no", "off").
RESULTS_CACHE_ENV = "SCALING_RESULTS_CACHE"
#: Arguments that change how a computation reports or how many threads it uses, never what it returns:
#: :func:`cached_result` leaves them out of the key.
REPORTING_ARGUMENTS = ("progress", "stream", "n_jobs")
#: How many stored results of one name (different code or arguments) are kept.
KEEP = 8

T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parent
_HASHED_SUFFIXES = (".py", ".csv", ".md", ".txt", ".json")


def cache_dir() -> Path:
    """The cache folder: ``$SCALING_CACHE_DIR``, else ``pooch.os_cache('scaling')`` (``~/.cache/scaling``)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    import pooch  # lazily: a configured folder needs no pooch

    return Path(pooch.os_cache("scaling"))


def cache_enabled(enabled: bool | None = None) -> bool:
    """``enabled`` if given, else whether ``$SCALING_RESULTS_CACHE`` leaves the cache on (the default)."""
    if enabled is not None:
        return bool(enabled)
    return os.environ.get(RESULTS_CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def source_key(package: Path | None = None) -> str:
    """The sha256 of what every result depends on: each file of the package (``package``, the
    installed ``scaling`` by default) by path and content, and the numerical libraries' versions."""
    root = _PACKAGE if package is None else Path(package)
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix in _HASHED_SUFFIXES)
    # Hashing is cheap but not free; within one process, files whose size and mtime did not change
    # are not read again.
    stamp = (str(root), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if stamp not in _KEYS:
        _KEYS.clear()
        _KEYS[stamp] = _hash_sources(root, files)
    return _KEYS[stamp]


_KEYS: dict = {}


def _hash_sources(root: Path, files: list[Path]) -> str:
    import numba
    import numpy
    import pandas
    import scipy

    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (platform.python_version(), numpy.__version__, scipy.__version__, pandas.__version__,
                numba.__version__)
    h.update(repr(versions).encode())
    return h.hexdigest()


def token(value: Any) -> str:
    """A stable text naming ``value`` by content, for a cache key.

    Numbers, strings, ``None``, tuples, lists, sets and mappings of them by ``repr``; NumPy arrays by
    dtype, shape and the sha256 of their bytes; pandas frames and series by the hash of their rows,
    index, columns and dtypes; dataclasses field by field; any object with a
    ``cache_token()`` method by what it returns. Anything else raises ``TypeError``: a key that does
    not name its input would let a cached result stand for another computation.
    """
    import numpy as np

    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        return f"array({data.dtype.str},{data.shape},{hashlib.sha256(data.tobytes()).hexdigest()})"
    if type(value).__module__.startswith("pandas") and hasattr(value, "to_numpy"):
        return f"{type(value).__name__}({_pandas_digest(value)})"
    if hasattr(value, "cache_token") and callable(value.cache_token):
        return f"{type(value).__name__}({value.cache_token()})"
    if isinstance(value, (tuple, list)):
        inner = ",".join(token(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(token(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        return "{" + ",".join(sorted(f"{token(k)}:{token(v)}" for k, v in value.items())) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{f.name}={token(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({fields})"
    raise TypeError(f"cannot key a cached result on a {type(value).__name__}; pass numbers, strings, arrays, "
                    f"curves or a Benchmark, or give the type a cache_token() method")


def _pandas_digest(frame) -> str:
    """sha256 of a DataFrame or Series: its values row by row, its index, its columns and dtypes."""
    import pandas as pd

    h = hashlib.sha256(repr((getattr(frame, "columns", None), getattr(frame, "dtypes", None))).encode())
    try:
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    except TypeError:  # cells holding arrays or lists: their pickled bytes name them
        h.update(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
    return h.hexdigest()


def result_path(name: str, key: str) -> Path:
    """Where the result ``name`` with the full key ``key`` is stored."""
    return cache_dir() / "results" / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.pkl"


def _read(path: Path, key: str):
    """``(True, value)`` when ``path`` holds the result of ``key``; ``(False, None)`` otherwise."""
    try:
        with path.open("rb") as fh:
            stored_key, value = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing, partial or unreadable file is simply recomputed
        return False, None
    return (True, value) if stored_key == key else (False, None)


def cached(name: str, compute: Callable[[], T], *, key: Any = (), enabled: bool | None = None) -> T:
    """``compute()``, or the result it gave before with the same code, data, ``name`` and ``key``.

    ``name`` is a file-name-safe label of the computation, ``key`` whatever else it depends on (read
    by :func:`token`). See the module docstring for what the stored file is keyed on.
    """
    if not cache_enabled(enabled):
        return compute()
    full_key = f"{source_key()}|{name}|{token(key)}"
    path = result_path(name, full_key)
    found, value = _read(path, full_key)
    if found:
        return value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_suffix(".lock"), "a+b")  # noqa: SIM115 - held until the result is stored
    except OSError:
        return compute()  # a read-only cache folder only costs a recomputation
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process computing the same result: wait for it
        found, value = _read(path, full_key)
        if found:
            return value
        value = compute()
        try:
            with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as fh:
                pickle.dump((full_key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(fh.name, path)
            older = sorted(path.parent.glob(f"{name}-*.pkl"), key=lambda p: p.stat().st_mtime)[:-KEEP]
            for old in older:
                old.unlink(missing_ok=True)
                old.with_suffix(".lock").unlink(missing_ok=True)
        except OSError:
            pass
    return value


def cached_result(function: Callable[..., T] | None = None, *, ignore: tuple[str, ...] = REPORTING_ARGUMENTS):
    """Decorate a function of the package so that its results are :func:`cached`, keyed on its
    qualified name and its bound arguments (defaults filled in), except those named in ``ignore``
    (arguments that change how it reports, not what it returns). The wrapper takes one more keyword,
    ``cache`` (``None``: follow ``$SCALING_RESULTS_CACHE``; ``False``: compute), and keeps the plain
    function as ``.uncached``. Use as ``@cached_result`` or ``@cached_result(ignore=(...))``."""
    if function is None:
        return functools.partial(cached_result, ignore=ignore)
    signature = inspect.signature(function)
    name = f"{function.__module__.removeprefix('scaling.')}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(*args, cache: bool | None = None, **kwargs):
        if not cache_enabled(cache):
            return function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = {k: v for k, v in bound.arguments.items() if k not in ignore}
        return cached(name, lambda: function(*bound.args, **bound.kwargs), key=key)

    wrapper.uncached = function
    return wrapper
