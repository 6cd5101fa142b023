"""The paper's learning-curve benchmark: 92 curves (72 IC, 5 NMT, 5 LM, 10 BB).

>>> from scaling.benchmark import load_benchmark
>>> bench = load_benchmark()          # doctest: +SKIP
>>> bench.curve("IC", "inet_10", "BiT/101/3").x_fit   # doctest: +SKIP

Where the two CSV files come from
---------------------------------
The benchmark is the pair ``benchmark.vision.csv`` / ``benchmark.lang.csv`` released with the
paper in ``google-research/google-research`` (folder ``revisiting_neural_scaling_laws/data``).
The project never commits them; it looks for them in this order, and stops at the first source
that is *configured* (it never falls back to the next one when a configured source is broken):

1. the ``data_dir`` argument of :func:`load_benchmark` (a folder holding both files);
2. the environment variable ``$SCALING_DATA_DIR`` (same; an empty value counts as unset);
3. a download from :data:`BASE_URL`, pinned to upstream commit :data:`UPSTREAM_COMMIT` so the
   bytes can never change under us, into a cache folder outside the repository:
   ``$SCALING_CACHE_DIR`` or ``pooch.os_cache("scaling")`` (``~/.cache/scaling`` on Linux).
   A file already in the cache with the right checksum is not downloaded again.

Every file, local or downloaded, must match the sha256 in :data:`SHA256`. A local copy is
checked too: a silently edited CSV would change every number in the book.

Duplicates (``drop_duplicates=True`` by default)
-----------------------------------------------
687 rows of the released files are exact copies of another row (same values in all six
columns). All of them are in the LM domain: each of the five LM blocks is stored four times,
so every LM point appears exactly 4 times (e.g. ``1.68e+07``: 476 rows, 119 distinct points).
We keep one copy, because a repeated measurement carries no new information.
What this changes downstream:

* fitting: repeating *every* point the same number of times leaves a least-squares optimum
  unchanged (the released notebook also fits on a dict keyed by x, i.e. on distinct points);
* extrapolation RMSE (Eq. 6): unchanged, a mean over 4 equal copies is the same mean;
* standard error: its ``1/sqrt(n)`` term counts every copy, so with the duplicates kept the
  LM SEs shrink by about ``sqrt(4) = 2`` (exactly 2 for ``std/sqrt(n)``; between sqrt(2) and 2,
  close to 2 when the SE is small, for the released ``sqrt(mu + std/sqrt(n)) - sqrt(mu)``).
  The released notebook evaluates on the duplicated test rows, so its LM SEs are the *small*
  ones; pass ``drop_duplicates=False`` to reproduce them.

The number removed is reported, never hidden: ``bench.duplicates_removed``, per curve in
``LearningCurve.n_duplicates_removed`` and :meth:`Benchmark.summary_table`, and in
``repr(bench)`` / :meth:`Benchmark.summary`.

Your own curves
---------------
:func:`load_benchmark_csv` reads any CSV file(s) in the same six-column format into a
:class:`Benchmark`, with the same checks (one-line errors naming the file and the line) but no
checksum; task codes are free text there. ``python -m scaling benchmark --csv FILE`` uses it.

Curve order
-----------
``bench.curves`` is ordered by domain (IC, NMT, LM, BB, the paper's order), then by
``(task, model)`` as Python's ``sorted`` orders the CSV strings. That order is plain
lexicographic (``bird_10`` before ``bird_5``; LM ``1.07e+09`` before ``1.68e+07``), but it is
stable and independent of row order in the files. Within a curve, points are sorted by x.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import CACHE_DIR_ENV, cache_dir, token
from .catalogue import BB_TASKS, DOMAINS, IC_DATASETS, SINGLE_TASKS

__all__ = [
    "load_benchmark", "load_benchmark_csv", "benchmark_files", "read_csv", "cache_dir", "sha256",
    "Benchmark", "LearningCurve", "curve_list",
    "ChecksumError", "DownloadError", "BenchmarkFormatError",
    "SHA256", "BASE_URL", "UPSTREAM_COMMIT", "DOMAINS", "DATA_DIR_ENV", "CACHE_DIR_ENV",
]

#: Name of the environment variable that points at a folder holding both benchmark CSVs
#: (used when :func:`load_benchmark` gets no ``data_dir``; an empty value counts as unset).
DATA_DIR_ENV = "SCALING_DATA_DIR"
#: The ``google-research/google-research`` commit the downloads are pinned to, so the files never change.
UPSTREAM_COMMIT = "9853680c781781bd8d3de20aa61c7373ce059913"
#: URL of the folder the two CSVs are downloaded from (raw files at :data:`UPSTREAM_COMMIT`);
#: a file's URL is this prefix followed by its name.
BASE_URL = (
    "https://raw.githubusercontent.com/google-research/google-research/"
    f"{UPSTREAM_COMMIT}/revisiting_neural_scaling_laws/data/"
)
#: Expected sha256 (hex digest) of each benchmark file, keyed by file name, as published at
#: :data:`UPSTREAM_COMMIT`. Every file, local or downloaded, is checked against it.
SHA256 = {
    "benchmark.vision.csv": "23b00692d71e58aa5a2a941e831d57688e0977fdcf5f5125ff7b64283b5d9e83",
    "benchmark.lang.csv": "63c346db00a66b692e1ea9a0f71a2f2b267e55f74be5b863a92e199dffbf0983",
}
COLUMNS = ("Domain", "Task", "Model", "Seen Examples", "Loss", "Training")
_TABLE_COLUMNS = ["domain", "task", "model", "x", "loss", "fit", "task_name", "shots"]


class ChecksumError(ValueError):
    """A benchmark file's sha256 differs from the project's registry."""


class DownloadError(OSError):
    """A benchmark file is not available locally and could not be downloaded."""


class BenchmarkFormatError(ValueError):
    """A benchmark CSV has missing columns, bad values or unknown codes."""


# ---------------------------------------------------------------------------------------------
# Readable names. Unknown codes are errors rather than passed through: a new code means the
# input is not the paper's benchmark, and a guessed name would end up in figure titles.
_IC_RE = re.compile(r"^([a-z]+)_(\d+)$")                      # inet_10
_BB_RE = re.compile(r"^\('([a-z]+)',\s*'(\d+)-shot'\)$")       # ('date', '1-shot')


def _readable(domain: str, task: str) -> tuple[str, int | None]:
    """(task_name, shots) for a CSV task code, or a BenchmarkFormatError."""
    if domain == "IC":
        names, match = IC_DATASETS, _IC_RE.match(task)
    elif domain == "BB":
        names, match = BB_TASKS, _BB_RE.match(task)
    elif (domain, task) in SINGLE_TASKS:
        return SINGLE_TASKS[domain, task], None
    else:
        names, match = {t: t for d, t in SINGLE_TASKS if d == domain}, None
    if match and match.group(1) in names:
        return names[match.group(1)], int(match.group(2))
    raise BenchmarkFormatError(
        f"unknown {domain} task code {task!r}; known codes: {sorted(names)}. "
        "Is this the released benchmark file? If you added a task, add its name to scaling/benchmark/catalogue.py."
    )


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class LearningCurve:
    """One (domain, task, model) learning curve, sorted by x.

    ``domain``, ``task`` and ``model`` are spelled as in the CSV; ``task_name`` and ``shots``
    are the readable forms. The arrays are read-only because every caller shares them.

    Attributes
    ----------
    domain : str
        ``"IC"``, ``"NMT"``, ``"LM"`` or ``"BB"`` (free text for :func:`load_benchmark_csv`).
    task : str
        Task code as in the CSV, e.g. ``"inet_10"`` or ``"('date', '1-shot')"``.
    model : str
        Model name as in the CSV, e.g. ``"BiT/101/3"``, ``"6 Enc, 28 Dec"`` or, for LM, ``"1.68e+07"``.
    task_name : str
        Readable task name, e.g. ``"ImageNet"``.
    shots : int or None
        Number of shots for IC and BB tasks; None for the other domains.
    x : numpy.ndarray
        Seen examples (the CSV's ``Seen Examples``), increasing; float.
    loss : numpy.ndarray
        Loss at each ``x``, the CSV's ``Loss`` column as released (positive); float.
    is_fit : numpy.ndarray
        Boolean mask, True for the fitting part (``Training == 1``), False for the held-out part.
    n_duplicates_removed : int
        Exact duplicate rows of this curve dropped on loading (0 with ``drop_duplicates=False``).
    """

    domain: str
    task: str
    model: str
    task_name: str
    shots: int | None
    x: np.ndarray
    loss: np.ndarray
    is_fit: np.ndarray
    n_duplicates_removed: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """``(domain, task, model)``, the curve's identity, as :meth:`Benchmark.curve` takes it."""
        return (self.domain, self.task, self.model)

    @property
    def label(self) -> str:
        """Short title, e.g. ``'ImageNet 10-shot (BiT/101/3)'`` or ``'LM validation loss (1.68e+07)'``."""
        if self.shots is not None:
            return f"{self.task_name} {self.shots}-shot ({self.model})"
        return f"{self.domain} {self.task_name} ({self.model})"

    x_fit = property(lambda self: self.x[self.is_fit], doc="x of the fitting part (Training == 1).")
    loss_fit = property(lambda self: self.loss[self.is_fit], doc="loss of the fitting part.")
    x_test = property(lambda self: self.x[~self.is_fit], doc="x of the held-out part (Training == 0).")
    loss_test = property(lambda self: self.loss[~self.is_fit], doc="loss of the held-out part.")
    n_fit = property(lambda self: int(self.is_fit.sum()), doc="Number of points in the fitting part.")
    n_test = property(lambda self: int((~self.is_fit).sum()), doc="Number of points in the held-out part.")

    def __len__(self) -> int:
        return len(self.x)

    def __repr__(self) -> str:
        return (f"LearningCurve({self.label}: {len(self)} points, {self.n_fit} fit, "
                f"{self.n_test} held out, {self.n_duplicates_removed} duplicates removed)")

    def with_fit_part(self, x_max: float | None = None, *, fraction: float | None = None) -> LearningCurve:
        """A new curve with a shorter fitting part; every held-out point stays, this curve is unchanged.

        Give one of:

        * ``x_max``: drop the fitting points with ``x > x_max`` (a common cut for several curves,
          e.g. ``LM_TABLE2_FIT_X_MAX`` of :mod:`scaling.laws.released`);
        * ``fraction`` in (0, 1]: keep the first ``floor(fraction * n_fit)`` fitting points, those
          with the smallest x (the less-data study of :mod:`scaling.studies.sensitivity`).

        Dropped fitting points are neither fitted nor scored. Raises ``ValueError`` when no fitting
        point would be left.
        """
        if (x_max is None) == (fraction is None):
            raise ValueError("give x_max (drop fitting points above it) or fraction (keep that share of the "
                             "fitting points), exactly one of them.")
        is_fit = np.asarray(self.is_fit)
        if x_max is not None:
            try:
                x_max = float(x_max)
            except (TypeError, ValueError):
                raise ValueError(f"x_max must be a number, got {x_max!r}.") from None
            if np.isnan(x_max):
                raise ValueError("x_max must be a number, got NaN.")
            keep = ~(is_fit & (np.asarray(self.x) > x_max))
            if not keep[is_fit].any():
                raise ValueError(f"x_max = {x_max:g} removes every fitting point of {self.label} (no fitting "
                                 f"point has x <= {x_max:g}; the smallest is {self.x_fit.min():g}).")
        else:
            try:
                fraction = float(fraction)
            except (TypeError, ValueError):
                raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}.") from None
            if not 0.0 < fraction <= 1.0:  # also refuses NaN
                raise ValueError(f"fraction must be in (0, 1] (e.g. 0.25 for the first quarter), got {fraction}.")
            n_keep = int(np.floor(fraction * is_fit.sum() + 1e-9))  # the nudge keeps 0.75 * 12 at 9, not 8
            if n_keep < 1:
                raise ValueError(f"fraction {fraction:g} of the {int(is_fit.sum())} fitting points of {self.label} "
                                 "keeps none; use a larger fraction.")
            # Points are sorted by x, so the first n_keep fitting points are those with the smallest x.
            keep = ~is_fit | (np.cumsum(is_fit) <= n_keep)
        arrays = {name: np.array(getattr(self, name))[keep] for name in ("x", "loss", "is_fit")}
        for a in arrays.values():
            a.setflags(write=False)
        return replace(self, **arrays)

    def to_frame(self) -> pd.DataFrame:
        """This curve as rows of the tidy table (same columns as ``Benchmark.table``)."""
        n = len(self)
        return pd.DataFrame({
            "domain": [self.domain] * n, "task": [self.task] * n, "model": [self.model] * n,
            "x": self.x, "loss": self.loss, "fit": self.is_fit,
            "task_name": [self.task_name] * n,
            "shots": pd.array([self.shots] * n, dtype="Int64"),
        })


@dataclass(frozen=True, eq=False, repr=False)
class Benchmark:
    """The loaded benchmark: a tidy ``table`` and one :class:`LearningCurve` per group."""

    table: pd.DataFrame
    curves: list[LearningCurve]
    duplicates_removed: int
    source: str  # folder the CSVs were read from
    _index: dict = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {c.key: c for c in self.curves})

    def curve(self, domain: str, task: str, model: str) -> LearningCurve:
        """The curve for (domain, task, model), spelled as in the CSV."""
        try:
            return self._index[domain, task, model]
        except KeyError:
            same = [c for c in self.curves if c.domain == domain]
            tasks = sorted({c.task for c in same})
            models = sorted({c.model for c in same})
            raise KeyError(
                f"no curve {(domain, task, model)}; domains: {list(DOMAINS)}; tasks in {domain!r}: "
                f"{tasks}; models in {domain!r}: {models} (use the CSV spelling)."
            ) from None

    def by_domain(self, domain: str) -> list[LearningCurve]:
        """The curves of one domain (``"IC"``, ``"NMT"``, ``"LM"`` or ``"BB"``), in curve order.

        Raises ValueError for any other domain.
        """
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}; use one of {list(DOMAINS)}.")
        return [c for c in self.curves if c.domain == domain]

    def __len__(self) -> int:
        return len(self.curves)

    def cache_token(self) -> str:
        """The sha256 of every curve's identity and values: how :mod:`scaling.cache` keys results on it."""
        h = hashlib.sha256()
        for c in self.curves:
            h.update(token(c).encode())
        return h.hexdigest()

    def __iter__(self):
        return iter(self.curves)

    def summary(self) -> str:
        """One line: the number of curves in total and per domain, of points, of duplicate rows
        removed, and the folder(s) the files were read from."""
        counts = ", ".join(f"{d} {len(self.by_domain(d))}" for d in DOMAINS)
        return (f"{len(self.curves)} learning curves ({counts}), {len(self.table):,} points, "
                f"{self.duplicates_removed} exact duplicate rows removed, from {self.source}")

    def __repr__(self) -> str:
        return f"<Benchmark: {self.summary()}>"

    def summary_table(self) -> pd.DataFrame:
        """One row per curve: counts, x range and where the split sits."""
        return pd.DataFrame([{
            "domain": c.domain, "task": c.task, "model": c.model, "label": c.label,
            "n": len(c), "n_fit": c.n_fit, "n_test": c.n_test,
            "x_min": c.x[0], "x_fit_max": c.x_fit.max(), "x_test_min": c.x_test.min(), "x_max": c.x[-1],
            "duplicates_removed": c.n_duplicates_removed,
        } for c in self.curves])


def curve_list(curves) -> list[LearningCurve]:
    """The curves of a :class:`Benchmark` (or of anything with a ``curves`` list), or the given
    curves, as a new list: every runner takes a whole benchmark or just some of its curves."""
    return list(getattr(curves, "curves", curves))


# ---------------------------------------------------------------------------------------------
def sha256(path) -> str:
    """The sha256 of a file's bytes, as a 64-character lowercase hex string (compare with :data:`SHA256`)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _verify(path: Path, name: str, fix: str) -> None:
    actual, expected = sha256(path), SHA256[name]
    if actual != expected:
        raise ChecksumError(
            f"{path}: sha256 is {actual}, but the project expects {expected} for {name} (as released "
            f"at upstream commit {UPSTREAM_COMMIT}). The file is damaged or a different version. {fix}"
        )


def _download(name: str) -> Path:
    import pooch
    import requests  # pooch's HTTP backend; its errors must not be mistaken for hash errors

    url, folder = BASE_URL + name, cache_dir()
    offline_fix = (f"If this machine is offline, put both CSVs ({', '.join(SHA256)}, from "
                   f"{BASE_URL}) in one folder and set {DATA_DIR_ENV}=that/folder or pass "
                   f"data_dir=...; set {CACHE_DIR_ENV} to use another cache folder.")
    try:
        path = Path(pooch.retrieve(url, known_hash=f"sha256:{SHA256[name]}", fname=name,
                                   path=folder, progressbar=False))
    except requests.RequestException as exc:  # before ValueError: some of these subclass it
        raise DownloadError(f"could not download {name} from {url} into {folder}: "
                            f"{type(exc).__name__}: {exc}. {offline_fix}") from exc
    except ValueError as exc:  # pooch's sha256 mismatch of a fresh download
        raise ChecksumError(f"the download of {name} from {url} does not have the pinned sha256 "
                            f"{SHA256[name]}: {exc}. Retry (a proxy or a broken connection can "
                            f"alter downloads); if it persists, fetch the file by hand and set "
                            f"{DATA_DIR_ENV}.") from exc
    except OSError as exc:
        raise DownloadError(f"could not download {name} from {url} into {folder}: "
                            f"{type(exc).__name__}: {exc}. {offline_fix}") from exc
    # pooch checked the hash already; checking again keeps one rule for every source.
    _verify(path, name, f"Delete {path} and load again to re-download it.")
    return path


def benchmark_files(data_dir=None) -> dict[str, Path]:
    """Checksum-verified local paths of the two CSVs (see the module docstring for the order)."""
    if data_dir is not None:
        folder, origin = Path(data_dir).expanduser(), "the data_dir argument"
    elif os.environ.get(DATA_DIR_ENV):
        folder, origin = Path(os.environ[DATA_DIR_ENV]).expanduser(), f"${DATA_DIR_ENV}"
    else:
        return {name: _download(name) for name in SHA256}

    # A configured folder is final: downloading instead would hide a broken setup.
    if not folder.is_dir():
        raise FileNotFoundError(
            f"benchmark folder {folder} (from {origin}) does not exist or is not a folder. "
            f"Point data_dir / {DATA_DIR_ENV} at the folder holding {' and '.join(SHA256)}, "
            f"or leave both unset to download them into the cache."
        )
    paths = {}
    for name in SHA256:
        path, url = folder / name, BASE_URL + name
        if not path.is_file():
            raise FileNotFoundError(
                f"{name} is missing from {folder} (the folder given by {origin}). Copy it there "
                f"from {url}, point data_dir / {DATA_DIR_ENV} at a folder that has both CSVs, or "
                f"leave both unset to download them into the cache."
            )
        _verify(path, name, f"Replace it with the original from {url}, or point data_dir / "
                            f"{DATA_DIR_ENV} at a folder holding the original files.")
        paths[name] = path
    return paths


# ---------------------------------------------------------------------------------------------
def _read_cells(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The header, the data records as text and each record's first line in the file.

    Python's csv module (not pandas) so that every record keeps its line number: blank lines are
    skipped but still counted, and a quoted field may span lines. A UTF-8 byte-order mark is dropped.
    """
    header, records, lines, previous = None, [], [], 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for record in reader:
                first, previous = previous + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # a blank line
                if header is None:
                    header = record
                    continue
                if len(record) != len(header):
                    raise BenchmarkFormatError(
                        f"{path}, line {first}: {len(record)} field(s), but the header has {len(header)}.")
                records.append(record)
                lines.append(first)
    except UnicodeDecodeError as exc:
        raise BenchmarkFormatError(f"{path}: not a readable CSV file (not UTF-8 text: {exc.reason} at byte "
                                   f"{exc.start}).") from exc
    except csv.Error as exc:
        raise BenchmarkFormatError(f"{path}, line {previous + 1}: not a readable CSV file ({exc}).") from exc
    if header is None:
        raise BenchmarkFormatError(f"{path}: not a readable CSV file (the file is empty).")
    return header, records, lines


def read_csv(path, lines: bool = False) -> pd.DataFrame:
    """Read and validate one benchmark CSV (no checksum check); tidy columns, file order.

    Returns columns ``domain, task, model, x, loss, fit`` (plus ``line``, each row's line in the
    file, with ``lines=True``). Raises BenchmarkFormatError when the file is empty or has no data
    rows, a column is missing or repeated, a row has the wrong number of fields, a value is
    empty/non-numeric/non-finite, x <= 0 or loss <= 0, Training is not 0/1 or a Domain is unknown.
    Messages are one line and give the file and the line number. A missing or unreadable file
    raises the OSError of ``open``.
    """
    path = Path(path)
    # Everything is read as text first so that a bad cell can be reported with its line and value
    # (letting pandas infer dtypes would just turn a column into strings without saying why).
    header, records, line_of = _read_cells(path)

    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BenchmarkFormatError(
            f"{path}: missing column(s) {missing}; found {header}. The header must be "
            f"{','.join(COLUMNS)} (names are case- and space-sensitive)."
        )
    repeated = [c for c in COLUMNS if header.count(c) > 1]
    if repeated:
        raise BenchmarkFormatError(f"{path}: column(s) {repeated} appear more than once in the header.")
    if not records:
        raise BenchmarkFormatError(f"{path}: the header has no data rows below it.")
    raw = pd.DataFrame({c: [r[header.index(c)] for r in records] for c in COLUMNS}, dtype=str)

    def fail(col: str, bad: np.ndarray, what: str):
        i = int(np.flatnonzero(bad)[0])
        raise BenchmarkFormatError(
            f"{path}, line {line_of[i]}: column {col!r} has {what} ({raw[col].iloc[i]!r}); "
            f"{int(bad.sum())} row(s) affected. Repair the file or restore the original."
        )

    for col in ("Domain", "Task", "Model"):
        empty = (raw[col].str.strip() == "").to_numpy()
        if empty.any():
            fail(col, empty, "an empty value")
    unknown = ~raw["Domain"].isin(DOMAINS).to_numpy()
    if unknown.any():
        fail("Domain", unknown, f"an unknown domain (expected one of {list(DOMAINS)})")

    num = {}
    for col in ("Seen Examples", "Loss", "Training"):
        values = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            fail(col, bad, "a missing, non-numeric or non-finite value")
        num[col] = values
    if (num["Seen Examples"] <= 0).any():
        fail("Seen Examples", num["Seen Examples"] <= 0, "a value <= 0 (x must be positive)")
    if (num["Loss"] <= 0).any():
        fail("Loss", num["Loss"] <= 0, "a value <= 0 (the loss must be positive: its log is fitted)")
    if not np.isin(num["Training"], (0, 1)).all():
        fail("Training", ~np.isin(num["Training"], (0, 1)), "a value other than 0 or 1")

    out = pd.DataFrame({
        "domain": raw["Domain"].to_numpy(), "task": raw["Task"].to_numpy(),
        "model": raw["Model"].to_numpy(), "x": num["Seen Examples"], "loss": num["Loss"],
        "fit": num["Training"] == 1,
    })
    if lines:
        out["line"] = np.asarray(line_of, dtype=np.int64)
    return out


_ROW_COLUMNS = ["domain", "task", "model", "x", "loss", "fit"]


def _names(domain: str, task: str, known_codes: bool) -> tuple[str, int | None]:
    """Readable (task_name, shots); an unknown code is an error, or with ``known_codes=False`` kept as is."""
    try:
        return _readable(domain, task)
    except BenchmarkFormatError:
        if known_codes:
            raise
        return task, None


def _where(g: pd.DataFrame) -> str:
    """'file, line N: ' for the first row of ``g`` in file order, when the rows say where they come from."""
    if "file" not in g.columns or "line" not in g.columns:
        return ""
    first = g.loc[g["_order"].idxmin()] if "_order" in g.columns else g.iloc[0]
    return f"{first['file']}, line {int(first['line'])}: "


def _build(rows: pd.DataFrame, drop_duplicates: bool, source: str, known_codes: bool = True) -> Benchmark:
    """Group validated rows (:func:`read_csv` columns) into a :class:`Benchmark`.

    Optional ``file`` and ``line`` columns say where each row comes from; a curve-level error then
    names the file and line of the curve's first row. ``known_codes=False`` accepts task codes the
    paper's benchmark does not use (the task code becomes the task name, with no shots).
    """
    keys = ["domain", "task", "model"]
    rows = rows.assign(_order=np.arange(len(rows)))
    n_rows = rows.groupby(keys, sort=False).size()
    if drop_duplicates:
        rows = rows.drop_duplicates(subset=_ROW_COLUMNS)  # all six columns equal; the first copy is kept
    n_dups = (n_rows - rows.groupby(keys, sort=False).size()).to_dict()

    # One stable sort gives both the curve order and x order inside each curve; "stable" keeps
    # file order among equal x (on the released files: only the copies kept by drop_duplicates=False).
    rank = rows["domain"].map({d: i for i, d in enumerate(DOMAINS)})
    rows = (rows.assign(_rank=rank)
            .sort_values(["_rank", "task", "model", "x"], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))

    names = {}
    for key, g in rows.groupby(keys, sort=False):
        try:
            names[key] = _names(key[0], key[1], known_codes)
        except BenchmarkFormatError as exc:
            raise BenchmarkFormatError(f"{_where(g)}{exc}") from None
    curves = []
    for key, g in rows.groupby(keys, sort=False):
        is_fit = g["fit"].to_numpy()
        if is_fit.all() or not is_fit.any():
            where = _where(g)
            raise BenchmarkFormatError(
                f"{where}curve {key}{'' if where else f' in {source}'} has {int(is_fit.sum())} fitting and "
                f"{int((~is_fit).sum())} held-out points; every curve needs both (Training = 1 and 0)."
            )
        arrays = [g[c].to_numpy(copy=True) for c in ("x", "loss")] + [is_fit.copy()]
        for a in arrays:
            a.setflags(write=False)
        curves.append(LearningCurve(*key, *names[key], *arrays, n_duplicates_removed=int(n_dups[key])))

    row_keys = list(zip(rows["domain"], rows["task"], rows["model"]))
    rows["task_name"] = [names[k][0] for k in row_keys]
    rows["shots"] = pd.array([names[k][1] for k in row_keys], dtype="Int64")
    return Benchmark(rows[_TABLE_COLUMNS], curves, int(sum(n_dups.values())), source)


def load_benchmark(data_dir=None, drop_duplicates: bool = True) -> Benchmark:
    """Load the 92 learning curves.

    Parameters
    ----------
    data_dir : folder holding ``benchmark.vision.csv`` and ``benchmark.lang.csv``. Overrides
        ``$SCALING_DATA_DIR``; when both are unset the files are downloaded once into the cache.
    drop_duplicates : keep one copy of exact duplicate rows (687 on the released files, all LM).
        ``False`` keeps them, as the released notebook's evaluation does (smaller LM SEs).

    Returns
    -------
    Benchmark
        The curves, in the order described in the module docstring.

    Raises
    ------
    FileNotFoundError
        The folder or one of the files is missing.
    ChecksumError
        A file's sha256 differs from :data:`SHA256`.
    DownloadError
        A download failed (e.g. offline).
    BenchmarkFormatError
        A file's content is malformed.
    """
    paths = benchmark_files(data_dir)
    rows = pd.concat([read_csv(p) for p in paths.values()], ignore_index=True)
    source = ", ".join(sorted({str(p.parent) for p in paths.values()}))
    return _build(rows, drop_duplicates, source)


def load_benchmark_csv(paths, drop_duplicates: bool = True) -> Benchmark:
    """Learning curves from your own CSV file(s) in the benchmark's format; no checksum.

    Each file has the columns ``Domain, Task, Model, Seen Examples, Loss, Training`` (more are
    ignored), as the released benchmark files do. ``Domain`` must be one of :data:`DOMAINS`: it selects
    the paper's per-domain settings for every law. Rows with ``Training`` 1 are fitted, 0 held out;
    every curve (one per ``Domain, Task, Model``) needs both. Task codes are free text here (a code
    the paper's benchmark uses still gets its readable name). Rows of several files are pooled, so
    a curve may span files. ``drop_duplicates`` as in :func:`load_benchmark`.

    Raises BenchmarkFormatError with a one-line message naming the file and, where there is one,
    the line: a missing or unreadable file, the same file given twice, and every problem
    :func:`read_csv` checks, plus a curve without fitting or held-out rows.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise BenchmarkFormatError("no CSV file given.")
    frames, seen = [], {}
    for path in map(Path, paths):
        if not path.exists():
            raise BenchmarkFormatError(f"{path}: no such file.")
        if path.is_dir():
            raise BenchmarkFormatError(f"{path}: is a folder, not a CSV file.")
        same = next((p for p in seen if os.path.samefile(p, path)), None)
        if same is not None:
            raise BenchmarkFormatError(f"{path}: the same file as {same}, given twice.")
        seen[path] = True
        try:
            frame = read_csv(path, lines=True)
        except OSError as exc:
            raise BenchmarkFormatError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
        frames.append(frame.assign(file=str(path)))
    rows = pd.concat(frames, ignore_index=True)
    return _build(rows, drop_duplicates, ", ".join(str(p) for p in paths), known_codes=False)
