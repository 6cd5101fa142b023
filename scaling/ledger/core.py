"""The reproduction ledger: every number the paper reports, next to ours, with a status.

The paper's numbers are *reference data*: they ship with the package as
``scaling/ledger/reference/paper_reference.csv`` (package data, read with :mod:`importlib.resources`; one row per printed number, transcribed from the paper) and are
never computed. Our numbers come from *producers*: small functions, registered per paper source
(``"Table 2"``, ``"Figure 6"``, ...), that each return a frame with columns ``item, ours`` and
optionally ``ours_error``. :func:`compare` lines the two up and assigns a status by a fixed rule.

Public API
----------
``load_reference()``                       the reference CSV as a DataFrame
``parse_printed(text)``                    ``(value, error, unit)`` of a number as the paper prints it
``compare(ours, reference=None)``          paper vs ours, with difference, ratio and status
``register_producer(source)(func)``        add a producer; ``func() -> DataFrame[item, ours, ours_error]``
``compute_ours(sources=None)``             run the registered producers, concatenate their output
``build_ledger(sources=None)``             ``compare(compute_ours(...))``
``summarize(ledger)``                      counts by source × status
``summarize_causes(ledger)``               counts by source × cause kind
``assign_causes(ledger, sweep)``           the ``cause`` / ``cause_detail`` / ``reproduced_by`` columns
``benchmark_items(res, tie_rule)``         every item of the benchmark fits from one results frame
``table2_from_results(res)`` etc.          pure helpers turning ``run_benchmark`` output into items

Two estimators, two columns
---------------------------
The paper is judged against its own method first. ``ours`` (and ``status``) comes from the
emulation of the authors' released code (:func:`scaling.laws.released.run_released_benchmark`, with the
notebook's settings, every held-out row scored; see :mod:`scaling.studies.variants`, variant
``"released"``). ``ours_global`` (and ``status_global``) comes from the package's own estimators,
which find the global minimum of the paper's loss (:func:`scaling.evaluate.run_benchmark`, one
copy of each duplicated row). Both are computed once per process. Items that are not computed
from the benchmark fits (Figure 2: our simulation of the synthetic experiment; Figure 3: M2 at
fixed exponents) have one producer, which uses the global estimators; there ``ours_global``
repeats ``ours``. A producer is registered for one estimator (``"released"`` or ``"global"``) or,
by default, for both.

Figure 1 (bottom) follows the paper's own tie rule per domain,
:data:`scaling.evaluate.FIGURE1_TIE_RULE`: the image-classification bars split a tie's win among
the tied laws (the notebook's rule: RMSE truncated to 3 decimals, a failed fit scored as 1), the
NMT, LM and BIG-Bench bars credit every tied law (the paper's bold cells).

Item keys
---------
Each reference row has a unique ``item`` key, built from the CSV spellings of the benchmark:

* Table 2 / Table 3 cells: ``<domain>/<model or task>/<law>/<rmse|se>``, e.g.
  ``NMT/6 Enc, 6 Dec/M4/rmse``, ``LM/1.68e+07/M2/se``, ``BB/('date', '1-shot')/M3/rmse``.
  (NMT and LM have one task per model, so the model names the row; BB has one model, ``262M``, so
  the task names it.)
* Figure 1 (bottom) bars: ``<domain>/<law>/win_fraction``, e.g. ``IC/M4/win_fraction``.
* Figure 2 legend exponents: ``Figure2/cutoff=<0|100|1000>/<law>/c``.
* Figure 3 minima: ``Figure3/<interpolation|extrapolation>/<argmin_c|min_rmse|argmin_c_text>``
  (``argmin_c_text`` is the value stated in the Section 4 text, ``argmin_c`` the one read off the
  plot).
* Figure 6 exponents: ``Figure6/<law>/<model>/<task>/c``, e.g. ``Figure6/M4/BiT/50/1/inet_5/c``.
* Figure 9 exponents: ``Figure9/<law>/<model>/c``, e.g. ``Figure9/M2/1.68e+07/c``.

Status rules (applied by :func:`compare`, never set by hand)
-------------------------------------------------------------
Let ``d = |ours - paper|``, ``u`` the printed rounding unit of the paper's value (column
``precision``; e.g. ``1e-05`` for ``3.1 × 10⁻⁴``) and ``tol`` a float tolerance of
``1e-9 · max(|paper|, |ours|, u)``.

1. ``not-yet``      -- ``ours`` is missing or NaN (no producer yet, or it produced nothing).
2. ``reproduced``   -- ``d <= u/2 + tol``: ours rounds to what the paper prints.
3. ``within-error`` -- not reproduced, but ``d <= e + tol`` where ``e`` is the larger of the paper's
   printed ± (column ``paper_error``) and our own standard error (``ours_error``), whichever of the
   two are given.
4. ``differs``      -- everything else.

Causes (:func:`assign_causes`, never set by hand)
--------------------------------------------------
Every row whose status is not ``reproduced`` or ``within-error`` gets a ``cause`` from this fixed
vocabulary (:data:`CAUSE_KINDS`), tried in this order; ``cause_detail`` says what was found, and
``reproduced_by`` lists, for every row, the variants of :mod:`scaling.studies.variants` under which it is
reproduced or within error.

* ``paper-repeats-row`` -- the paper prints another row's value in this cell: the two rows of the
  table share at least 3 of their 4 printed RMSEs, this cell's value is the other row's, and our
  value for the other row agrees with it (NMT "Decoder-only /LM" repeats "6 Enc, 6 Dec").
* ``variant:<name>`` -- the protocol variant ``<name>`` (:data:`scaling.studies.variants.VARIANTS`)
  reproduces it, or agrees within error; the first such variant in that order is named.
* ``rounding/reading`` -- a value read off the paper's vector graphics (Figures 3, 6 and 9; the
  ``note`` column) that ours matches within the stated reading accuracy (one unit of
  ``precision``, where ``reproduced`` asks for half a unit). Figure 1's bars are read off the
  graphics too, but they are exact multiples of 1/n, so a reading error cannot explain a difference;
  and the tables are printed by rounding (30 of the 41 table cells we reproduce round up), so a
  table cell one unit off is not a rounding question: it stays ``unexplained`` and its detail
  gives the distance.
* ``se-formula`` -- a "±" cell whose RMSE is reproduced (status ``reproduced`` under the released
  settings or a variant) while no variant gives the ±: the paper's ± is not the released
  notebook's formula (:mod:`scaling.studies.se_search` searches a family of candidate formulas).
* ``unreleased-data`` -- computed from data the paper does not release (Figure 2's learning curve is
  our simulation of the described experiment), so a difference may be the data, not the method.
* ``unexplained`` -- none of the above; ``cause_detail`` names the closest variant, its value and
  its distance from the paper in printed units.
* ``not-computed`` -- the row has no value (status ``not-yet``).

Measured (exact emulation, all 230 rows): ``ours`` 71 reproduced + 16 within error, 143 differ;
``ours_global`` 53 + 17, 160 differ. Causes of the 143: 74 unexplained, 39 se-formula,
9 rounding/reading, 12 variant (7 LM common cut, 4 eps0 fixed, 1 ties within-SE), 6
unreleased-data, 3 paper-repeats-row. About a minute for the whole ledger with the sweep
(``--no-variants``: half that; Figure 2's simulation alone takes about 15 s).
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .._progress import Progress
from ..benchmark.catalogue import PAPER_LAWS
from ..evaluate import FIGURE1_TIE_RULE
from . import reference as _reference_package

__all__ = [
    "BENCHMARK_SOURCES", "FIGURE1_RULES",
    "CAUSE_KINDS",
    "ESTIMATORS",
    "FIGURE1_TIE_RULE",
    "GOOD_STATUSES",
    "REFERENCE_PATH",
    "STATUSES",
    "assign_causes",
    "benchmark_items",
    "cause_kind",
    "summarize_causes",
    "build_ledger",
    "compare",
    "compute_ours",
    "load_reference",
    "parse_printed",
    "producers",
    "register_producer",
    "summarize",
    "figure1_from_win_fractions",
    "figure1_wins",
    "figure6_from_results",
    "figure9_from_results",
    "table2_from_results",
    "table3_from_results",
]

#: The file name of the paper's numbers inside :mod:`scaling.ledger.reference` (package data).
REFERENCE_FILE = "paper_reference.csv"
#: Path of the table of the paper's numbers (a CSV file), the default of :func:`load_reference`. It
#: ships as package data, so an installed package has it too.
REFERENCE_PATH = Path(str(resources.files(_reference_package).joinpath(REFERENCE_FILE)))

#: The four statuses, in the order used by summaries.
STATUSES = ("reproduced", "within-error", "differs", "not-yet")

#: Relative float tolerance added to every comparison (see the module docstring).
FLOAT_TOL = 1e-9

#: The statuses that count as agreeing with the paper (no cause needed).
GOOD_STATUSES = ("reproduced", "within-error")

#: Truncation of the RMSEs compared for the Figure 1 (bottom) win fractions. The tie rule is
#: :data:`FIGURE1_TIE_RULE`, per domain.
WIN_DECIMALS = 3
#: Kept for older callers: the image-classification rule. Use :data:`FIGURE1_TIE_RULE`.
WIN_RULE = FIGURE1_TIE_RULE["IC"]

#: The cause vocabulary (see the module docstring); ``variant`` stands for ``variant:<name>``.
CAUSE_KINDS = ("paper-repeats-row", "variant", "rounding/reading", "se-formula", "unreleased-data",
               "unexplained", "not-computed")
#: The estimators a producer can serve: ``ours`` comes from "released", ``ours_global`` from "global".
ESTIMATORS = ("released", "global")
#: The sources computed from the benchmark fits (the others keep a single producer).
BENCHMARK_SOURCES = ("Table 2", "Table 3", "Figure 1", "Figure 6", "Figure 9")
#: Sources whose values were read off the paper's vector graphics as continuous readings.
READ_OFF_SOURCES = ("Figure 3", "Figure 6", "Figure 9")
#: Sources computed from data the paper does not release.
UNRELEASED_DATA_SOURCES = ("Figure 2",)

REFERENCE_TEXT_COLUMNS = (
    "source", "item", "domain", "task", "model", "setting", "law", "quantity", "paper_text", "note",
)
REFERENCE_FLOAT_COLUMNS = ("paper", "paper_error", "precision")
REFERENCE_COLUMNS = REFERENCE_TEXT_COLUMNS[:8] + REFERENCE_FLOAT_COLUMNS + ("bold",) + REFERENCE_TEXT_COLUMNS[8:]

LEDGER_COLUMNS = (
    "source", "item", "paper", "ours", "status", "ours_global", "status_global", "cause", "cause_detail",
    "reproduced_by", "difference", "ratio", "tolerance",
    "paper_text", "paper_error", "ours_error", "precision",
    "domain", "task", "model", "setting", "law", "quantity", "bold", "note",
)


# --------------------------------------------------------------------------------------------
# Parsing numbers as printed
# --------------------------------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUMBER = r"[+-]?\d+(?:\.\d+)?"
_PRINTED = re.compile(
    rf"^(?P<mant>{_NUMBER})"
    rf"(?:\s*(?:±|\+/-|\+-)\s*(?P<err>{_NUMBER}))?"
    rf"(?:\s*(?:×|x|\*)\s*10\s*\^?\s*(?P<exp>[+-]?\d+)|[eE](?P<eexp>[+-]?\d+))?$"
)


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def parse_printed(text: str) -> tuple[float, float, float]:
    """Parse a number the way the paper prints it.

    Returns ``(value, error, unit)``: the value, the ± part (NaN when none is printed), and the
    rounding unit of the printed value (``10**(exponent - decimals of the mantissa)``).
    Accepts ``3.1 ± 0.7 × 10⁻⁴``, ``1.0 × 10⁻²``, ``−0.135`` (Unicode minus), ``≈3.1×10⁻³``,
    ``0.04`` and ASCII forms such as ``3.1 +/- 0.7 x 10^-4`` or ``3.1e-4``.

    >>> parse_printed("3.1 ± 0.7 × 10⁻⁴")
    (0.00031, 7e-05, 1e-05)
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_printed expects a string, got {type(text).__name__}: {text!r}")
    s = text.strip().replace("**", "").replace("−", "-").replace("–", "-")
    s = s.lstrip("≈~").strip().translate(_SUPERSCRIPT)
    m = _PRINTED.match(s)
    if m is None:
        raise ValueError(
            f"cannot parse printed number {text!r}; expected forms like '3.1 ± 0.7 × 10⁻⁴', "
            "'1.0 × 10⁻²', '-0.135' or '3.1e-4'"
        )
    exp = int(m["exp"] or m["eexp"] or 0)
    mant, err = m["mant"], m["err"]
    value = float(f"{mant}e{exp}")
    error = float(f"{err}e{exp}") if err is not None else math.nan
    unit = float(f"1e{exp - _decimals(mant)}")
    return value, error, unit


# --------------------------------------------------------------------------------------------
# The reference table
# --------------------------------------------------------------------------------------------

def _validate_reference(ref: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = [c for c in ("source", "item", "paper", "precision") if c not in ref.columns]
    if missing:
        raise ValueError(f"{where}: reference table lacks column(s) {missing}; it has {list(ref.columns)}")
    dup = ref["item"][ref["item"].duplicated()].tolist()
    if dup:
        raise ValueError(f"{where}: duplicate item keys {dup[:5]} (every item must be unique)")
    if ref["paper"].isna().any():
        bad = ref.loc[ref["paper"].isna(), "item"].tolist()[:5]
        raise ValueError(f"{where}: rows without a paper value: {bad}")
    if not (ref["precision"] > 0).all():
        bad = ref.loc[~(ref["precision"] > 0), "item"].tolist()[:5]
        raise ValueError(f"{where}: 'precision' must be a positive rounding unit; bad rows: {bad}")
    return ref


def load_reference(path: str | Path | None = None) -> pd.DataFrame:
    """Read the paper's numbers (``paper_reference.csv``, package data of :mod:`scaling.ledger.reference`).

    Text columns stay strings (so LM model names such as ``1.68e+07`` are not turned into floats);
    ``paper``, ``paper_error`` and ``precision`` are floats (NaN where empty); ``bold`` is a
    nullable boolean (``<NA>`` for figure values, which have no typography).
    """
    path = Path(path) if path is not None else REFERENCE_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"paper reference table not found at {path}. It ships as package data "
            "(scaling/ledger/reference/paper_reference.csv); reinstall the package or pass path= explicitly."
        )
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in REFERENCE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(raw.columns)}")
    ref = raw.copy()
    for col in REFERENCE_FLOAT_COLUMNS:
        try:
            ref[col] = pd.to_numeric(raw[col].replace("", np.nan), errors="raise").astype(float)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: column {col!r} holds a non-number: {exc}") from exc
    bold_map = {"True": True, "False": False, "": pd.NA}
    bad = sorted(set(raw["bold"]) - set(bold_map))
    if bad:
        raise ValueError(f"{path}: column 'bold' must be True, False or empty; found {bad}")
    ref["bold"] = raw["bold"].map(bold_map).astype("boolean")
    return _validate_reference(ref, str(path))


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

def _as_float_column(frame: pd.DataFrame, col: str) -> pd.Series:
    try:
        return pd.to_numeric(frame[col], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"'ours' frame: column {col!r} must be numeric (NaN allowed): {exc}") from exc


def _check_ours(ours: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(ours, pd.DataFrame):
        raise TypeError(f"'ours' must be a pandas DataFrame with columns item, ours[, ours_error]; "
                        f"got {type(ours).__name__}")
    missing = [c for c in ("item", "ours") if c not in ours.columns]
    if missing:
        raise ValueError(f"'ours' frame lacks column(s) {missing} (has {list(ours.columns)}); "
                         "it needs 'item' and 'ours', and may have 'ours_error'")
    out = pd.DataFrame({"item": ours["item"].astype(str).to_numpy(),
                        "ours": _as_float_column(ours, "ours").to_numpy()})
    if "ours_error" in ours.columns:
        err = _as_float_column(ours, "ours_error").to_numpy()
        if (err < 0).any():
            bad = out.loc[err < 0, "item"].tolist()[:5]
            raise ValueError(f"'ours' frame: ours_error must be >= 0 (or NaN); negative for {bad}")
        out["ours_error"] = err
    else:
        out["ours_error"] = np.nan
    dup = out["item"][out["item"].duplicated()].tolist()
    if dup:
        raise ValueError(f"'ours' frame: duplicate items {dup[:5]}; give each item once")
    return out


def compare(ours: pd.DataFrame | None, reference: pd.DataFrame | None = None, *,
            strict: bool = True) -> pd.DataFrame:
    """Line our numbers up against the paper's and assign a status to every reference row.

    Parameters
    ----------
    ours
        DataFrame with columns ``item`` and ``ours`` (floats; NaN = not computed), optionally
        ``ours_error`` (our standard error, >= 0). ``None`` or an empty frame means nothing computed.
    reference
        The paper's numbers; default :func:`load_reference`. Needs at least ``source, item, paper,
        precision``; ``paper_error`` is optional.
    strict
        If True (default), items in ``ours`` that are not in the reference raise ``ValueError``
        (they usually mean a misspelt key); if False they are dropped.

    Returns
    -------
    DataFrame, one row per reference row in reference order, with the reference columns plus
    ``ours, ours_error, difference (ours - paper), ratio (ours / paper; NaN when paper == 0),
    tolerance (half the rounding unit), status``.

    Status rules, in order (``d = |ours - paper|``, ``u`` = ``precision``,
    ``tol = 1e-9 · max(|paper|, |ours|, u)``):

    * ``not-yet`` -- ours is missing or NaN;
    * ``reproduced`` -- ``d <= u/2 + tol``;
    * ``within-error`` -- otherwise, if ``d <= max(paper_error, ours_error) + tol`` using whichever
      of the two errors is given (NaN errors are ignored);
    * ``differs`` -- otherwise.
    """
    ref = load_reference() if reference is None else reference.copy()
    if "paper_error" not in ref.columns:
        ref["paper_error"] = np.nan
    ref = _validate_reference(ref.reset_index(drop=True), "reference")
    if ours is None:
        ours = pd.DataFrame({"item": pd.Series([], dtype=str), "ours": pd.Series([], dtype=float)})
    mine = _check_ours(ours)
    unknown = sorted(set(mine["item"]) - set(ref["item"]))
    if unknown and strict:
        raise ValueError(f"'ours' frame has {len(unknown)} item(s) not in the paper reference, e.g. "
                         f"{unknown[:5]}; check the key spelling (see scaling.ledger.core docstring) "
                         "or pass strict=False to drop them")
    out = ref.drop(columns=[c for c in ("ours", "ours_error") if c in ref.columns])
    out = out.merge(mine, on="item", how="left", validate="one_to_one")

    paper = out["paper"].to_numpy(float)
    value = out["ours"].to_numpy(float)
    unit = out["precision"].to_numpy(float)
    diff = value - paper
    absdiff = np.abs(diff)
    with np.errstate(invalid="ignore"):
        tol = FLOAT_TOL * np.fmax(np.fmax(np.abs(paper), np.abs(value)), unit)
        half = unit / 2.0
        err = np.fmax(out["paper_error"].to_numpy(float), out["ours_error"].to_numpy(float))
        ratio = np.where(paper != 0, value / np.where(paper != 0, paper, 1.0), np.nan)
        reproduced = absdiff <= half + tol
        within = ~reproduced & ~np.isnan(err) & (absdiff <= err + tol)
    status = np.where(np.isnan(value), "not-yet",
                      np.where(reproduced, "reproduced", np.where(within, "within-error", "differs")))
    out["difference"] = diff
    out["ratio"] = ratio
    out["tolerance"] = half
    out["status"] = status
    cols = [c for c in LEDGER_COLUMNS if c in out.columns]
    return out[cols + [c for c in out.columns if c not in cols]]


# --------------------------------------------------------------------------------------------
# Producers
# --------------------------------------------------------------------------------------------

Producer = Callable[[], pd.DataFrame]
_REGISTRY: dict[str, list[Producer]] = {}
#: The estimator each registered producer serves (absent: both).
_ESTIMATOR: dict[Producer, str] = {}


def register_producer(source: str, estimator: str | None = None) -> Callable[[Producer], Producer]:
    """Decorator: register ``func() -> DataFrame[item, ours, ours_error]`` for a paper source.

    ``source`` is the reference CSV's ``source`` spelling (``"Table 2"``, ``"Figure 1"``, ...).
    ``estimator`` is ``"released"`` (the producer gives the ``ours`` column), ``"global"`` (it gives
    ``ours_global``) or ``None`` (one producer for both columns, for items that do not depend on the
    estimator). Several producers may serve one source and estimator; their items must not overlap.
    An exception a producer raises propagates (a broken producer should be fixed, not hidden); the
    rows of a source without producers stay ``not-yet``.
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"register_producer needs a non-empty source name, got {source!r}")
    if estimator is not None and estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS} or None (both)")

    def decorator(func: Producer) -> Producer:
        if not callable(func):
            raise TypeError(f"producer for {source!r} must be callable, got {func!r}")
        _REGISTRY.setdefault(source, []).append(func)
        if estimator is not None:
            _ESTIMATOR[func] = estimator
        return func

    return decorator


def producers() -> dict[str, list[Producer]]:
    """A copy of the registry: ``{source: [producer, ...]}`` (all estimators)."""
    return {k: list(v) for k, v in _REGISTRY.items()}


def _empty_ours() -> pd.DataFrame:
    return pd.DataFrame({"item": pd.Series([], dtype=str), "ours": pd.Series([], dtype=float),
                         "ours_error": pd.Series([], dtype=float), "source": pd.Series([], dtype=str),
                         "estimator": pd.Series([], dtype=object)})


def _run_producers(sources, estimators, progress: bool = False) -> pd.DataFrame:
    wanted = None if sources is None else set(sources)
    jobs = [(source, func) for source, funcs in _REGISTRY.items() if wanted is None or source in wanted
            for func in funcs if _ESTIMATOR.get(func) in estimators]
    frames = []
    with Progress(len(jobs), "ledger producers", enabled=progress) as bar:
        for source, func in jobs:
            serves = _ESTIMATOR.get(func)
            name = f"{source}: {getattr(func, '__name__', repr(func))}"
            bar.update(0, note=f"{source}, {serves or 'both'}")
            frame = func()  # its own errors (a missing or damaged benchmark file, ...) propagate as they are
            try:
                frame = _check_ours(frame)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"producer {name} returned a malformed frame: {exc}") from exc
            frame["source"] = source
            frame["estimator"] = serves
            frames.append(frame)
            bar.update(1)
    ours = pd.concat(frames, ignore_index=True) if frames else _empty_ours()
    for est in {e for e in estimators if e is not None}:
        mine = ours[ours["estimator"].isin([est, None]) | ours["estimator"].isna()]
        dup = mine["item"][mine["item"].duplicated()].tolist()
        if dup:
            raise ValueError(f"producers returned the same item more than once: {dup[:5]}")
    return ours


def compute_ours(sources: Iterable[str] | None = None, *, estimator: str = "released") -> pd.DataFrame:
    """Run the registered producers (all, or only those for ``sources``) of one estimator.

    ``estimator`` is ``"released"`` (the ``ours`` column) or ``"global"`` (``ours_global``); the
    producers registered for both run either way. Returns the concatenated frame ``item, ours,
    ours_error, source``.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {ESTIMATORS}")
    return _run_producers(sources, {None, estimator}).drop(columns="estimator").reset_index(drop=True)


def build_ledger(sources: Iterable[str] | None = None, *, compute: bool = True, variants: bool = True,
                 progress: bool = False, with_sweep: bool = False):
    """The full ledger: the paper's numbers beside ours (released emulation) and ours_global
    (global fits), with a status for each and a cause for every row that does not agree.

    ``sources`` restricts both the producers run and the rows returned. With ``compute=False`` no
    producer runs and every row is ``not-yet``. ``variants`` runs the protocol-variant sweep of
    :mod:`scaling.studies.variants` on the benchmark sources requested (cached within the process) so that
    the causes can name the variant that reproduces a row; without it no ``variant:`` cause is
    given. ``progress`` reports the producers and the sweep on stderr. Returns the ledger; ``with_sweep=True``
    returns ``(ledger, sweep)``, the variant sweep being ``None`` when it was not run.

    Only registered producers run: the studies register theirs when :mod:`scaling.studies` is
    imported (the ``ledger`` command does that first).
    """
    ledger, sweep = _build(sources, compute=compute, variants=variants, progress=progress)
    return (ledger, sweep) if with_sweep else ledger


def _build(sources, *, compute, variants, progress):
    """:func:`build_ledger`, also returning the variant sweep (``None`` when not run)."""
    ref = load_reference()
    if sources is not None:
        sources = list(sources)
        unknown = sorted(set(sources) - set(ref["source"]))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; the reference has {sorted(set(ref['source']))}")
        ref = ref[ref["source"].isin(sources)]
    if not compute:
        ledger = compare(None, ref)
        ledger["ours_global"], ledger["status_global"] = np.nan, "not-yet"
        return _order_columns(assign_causes(ledger)), None
    ours = _run_producers(sources, {None, "released", "global"}, progress=progress)
    cols = ["item", "ours", "ours_error"]
    released = ours[ours["estimator"].isin(["released"]) | ours["estimator"].isna()]
    glob = ours[ours["estimator"].isin(["global"]) | ours["estimator"].isna()]
    ledger = compare(released[cols], ref)
    ledger_global = compare(glob[cols], ref)
    ledger["ours_global"] = ledger_global["ours"].to_numpy()
    ledger["status_global"] = ledger_global["status"].to_numpy()
    sweep = None
    if variants:  # the benchmark sources that have a computed row
        computed = set(ledger.loc[ledger["ours"].notna(), "source"])
        wanted = [s for s in BENCHMARK_SOURCES if s in computed]
        if wanted:
            from .variants import sweep as run_sweep

            sweep = run_sweep(sources=wanted, progress=progress)
    return _order_columns(assign_causes(ledger, sweep)), sweep


def _order_columns(ledger: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in LEDGER_COLUMNS if c in ledger.columns]
    return ledger[cols + [c for c in ledger.columns if c not in cols]]


def summarize(ledger: pd.DataFrame, column: str = "status") -> pd.DataFrame:
    """Counts of rows by source (in reference order) × status, with totals.

    ``column="status_global"`` counts the global fits' statuses instead.
    """
    order = list(dict.fromkeys(ledger["source"]))
    table = pd.crosstab(pd.Categorical(ledger["source"], categories=order),
                        pd.Categorical(ledger[column], categories=list(STATUSES)),
                        margins=True, margins_name="total", dropna=False)
    table.index.name, table.columns.name = "source", column
    return table


def cause_kind(cause) -> str | None:
    """The vocabulary entry of a cause (``"variant:lr=1e-7"`` -> ``"variant"``); None for no cause.

    Raises ValueError for a cause outside :data:`CAUSE_KINDS` or a ``variant:`` naming no variant.
    """
    if cause is None or (isinstance(cause, float) and math.isnan(cause)) or cause == "":
        return None
    kind, sep, name = str(cause).partition(":")
    if kind not in CAUSE_KINDS or (kind == "variant") != bool(sep):
        raise ValueError(f"cause {cause!r} is not in the vocabulary {CAUSE_KINDS}")
    if kind == "variant":
        from .variants import VARIANTS

        if name not in VARIANTS:
            raise ValueError(f"cause {cause!r} names no variant of scaling.studies.variants.VARIANTS")
    return kind


def summarize_causes(ledger: pd.DataFrame) -> pd.DataFrame:
    """Counts of the rows that need a cause, by source (reference order) × cause kind, with totals."""
    part = ledger[ledger["cause"].fillna("").astype(str) != ""]
    order = [s for s in dict.fromkeys(ledger["source"])]
    kinds = part["cause"].map(cause_kind)
    table = pd.crosstab(pd.Categorical(part["source"], categories=order),
                        pd.Categorical(kinds, categories=list(CAUSE_KINDS)),
                        margins=True, margins_name="total", dropna=False)
    table.index.name, table.columns.name = "source", "cause"
    return table


# --------------------------------------------------------------------------------------------
# Causes
# --------------------------------------------------------------------------------------------

def _units(value: float, paper: float, precision: float) -> float:
    return abs(value - paper) / precision


def _row_key(row) -> str:
    return str(row["task"]) if row["domain"] == "BB" else str(row["model"])


def _copied_cells(ledger: pd.DataFrame) -> dict[str, str]:
    """Table cells that repeat another row's printed value: ``{item: explanation}``.

    Two rows of a table are a repeated pair when they print the same RMSE for at least 3 of the 4
    laws. Of the two, the row whose printed values are farther from ours (summed over those shared
    RMSEs, in printed units) is taken as the copy; its cells that print the same value as the other
    row are the copied cells.
    """
    tables = ledger[ledger["source"].isin(["Table 2", "Table 3"])]
    rows: dict[tuple, dict[tuple, pd.Series]] = {}
    for _, cell in tables.iterrows():
        rows.setdefault((cell["source"], cell["domain"], _row_key(cell)), {})[cell["law"], cell["quantity"]] = cell
    out: dict[str, str] = {}
    keys = list(rows)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if a[:2] != b[:2]:
                continue
            shared = [law for (law, q), cell in rows[a].items() if q == "rmse" and (law, q) in rows[b]
                      and rows[b][law, q]["paper_text"] == cell["paper_text"]]
            if len(shared) < 3:
                continue
            dist = {k: sum(_units(rows[k][law, "rmse"]["ours"], rows[k][law, "rmse"]["paper"],
                                  rows[k][law, "rmse"]["precision"]) for law in shared) for k in (a, b)}
            if not all(np.isfinite(v) for v in dist.values()) or dist[a] == dist[b]:
                continue
            copy, orig = (a, b) if dist[a] > dist[b] else (b, a)
            for key, cell in rows[copy].items():
                other = rows[orig].get(key)
                if other is not None and other["paper_text"] == cell["paper_text"]:
                    out[cell["item"]] = (
                        f"rows {copy[2]!r} and {orig[2]!r} print the same value for {'/'.join(shared)}; ours for "
                        f"{orig[2]!r} is closer to those values ({dist[orig]:.1f} vs {dist[copy]:.1f} printed "
                        f"units in total), so this row repeats {orig[2]!r}; ours here {_fmt(cell['ours'])}, "
                        f"ours for {orig[2]!r} {_fmt(other['ours'])}")
    return out


def _baseline() -> str:
    from .variants import BASELINE

    return BASELINE


def _fmt(value: float) -> str:
    return "nan" if value is None or not np.isfinite(value) else f"{value:.3g}"


def assign_causes(ledger: pd.DataFrame, sweep: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``cause``, ``cause_detail`` and ``reproduced_by`` to a ledger (see the module docstring).

    ``sweep`` is the tidy frame of :func:`scaling.studies.variants.sweep` (``None``: no variant is tried, so
    no ``variant:`` cause is given). Rows that agree with the paper get an empty cause; their
    ``reproduced_by`` still lists the variants. Returns a copy.
    """
    out = ledger.copy()
    reproducing, closest, by_variant = {}, None, {}
    if sweep is not None and len(sweep):
        from .variants import closest_variants, reproducing_variants

        reproducing = reproducing_variants(sweep).to_dict()
        closest = closest_variants(sweep)
        by_variant = {(r.item, r.variant): r for r in sweep.itertuples(index=False)}
    exact_items = set(out.loc[out["status"] == "reproduced", "item"])
    exact_by: dict[str, list[str]] = {}
    if sweep is not None and len(sweep):
        for r in sweep[sweep["status"] == "reproduced"].itertuples(index=False):
            exact_by.setdefault(r.item, []).append(r.variant)
    copies = _copied_cells(out)
    causes, details, repro_col = [], [], []
    for _, row in out.iterrows():
        item, status = row["item"], row["status"]
        repro = tuple(reproducing.get(item, ()))
        repro_col.append("; ".join(repro))
        if status in GOOD_STATUSES:
            causes.append("")
            details.append("")
            continue
        if status == "not-yet" or not np.isfinite(row["ours"]):
            causes.append("not-computed")
            details.append("no producer computed this item")
            continue
        paper, unit, value = row["paper"], row["precision"], row["ours"]
        # 1. the paper repeats another row of its table
        if item in copies:
            causes.append("paper-repeats-row")
            details.append(copies[item])
            continue
        # 2. a protocol variant reproduces it
        if repro:
            causes.append(f"variant:{repro[0]}")
            parts = [f"{v}: {_fmt(by_variant[item, v].value)} ({by_variant[item, v].status})" for v in repro]
            details.append("reproduced by " + "; ".join(parts))
            continue
        # 3. how the number was printed or read
        note = str(row.get("note", ""))
        if (row["source"] in READ_OFF_SOURCES and "vector graphics" in note
                and _units(value, paper, unit) <= 1.0 + 1e-9):
            causes.append("rounding/reading")
            details.append(f"read off the paper's vector graphics to ±{unit:g}; ours {_fmt(value)} is "
                           f"{abs(value - paper):.2g} from {_fmt(paper)}")
            continue
        # 4. the paper's ± formula
        if row["quantity"] == "se":
            rmse_item = item[: -len("se")] + "rmse"
            where = ([_baseline()] if rmse_item in exact_items else []) + exact_by.get(rmse_item, [])
            if where:
                causes.append("se-formula")
                ratio = paper / value if value > 0 else math.nan
                details.append(f"the RMSE of this cell is reproduced ({where[0]}) but no variant gives its ±: "
                               f"ours {_fmt(value)} vs paper {_fmt(paper)} (paper/ours {_fmt(ratio)})")
                continue
        # 5. data the paper does not release
        if row["source"] in UNRELEASED_DATA_SOURCES:
            causes.append("unreleased-data")
            details.append(f"computed on our simulation of the paper's unreleased learning curve: ours "
                           f"{_fmt(value)} vs paper {_fmt(paper)} ({_units(value, paper, unit):.1f} "
                           "printed units)")
            continue
        # 6. nothing explains it
        causes.append("unexplained")
        if closest is not None and item in closest.index and isinstance(closest.loc[item, "variant"], str):
            c = closest.loc[item]
            here = f"{_units(value, paper, unit):.1f}"
            details.append(f"closest variant {c['variant']!r}: {_fmt(c['value'])} vs paper {_fmt(paper)} "
                           f"({c['distance']:.1f} printed units" +
                           (")" if c["variant"] == _baseline() else f"; ours {_fmt(value)}, {here})"))
        else:
            details.append(f"ours {_fmt(value)} vs paper {_fmt(paper)} ({_units(value, paper, unit):.1f} "
                           "printed units); no protocol variant applies to this item")
    out["cause"] = causes
    out["cause_detail"] = details
    out["reproduced_by"] = repro_col
    return out


# --- producers backed by the benchmark fits ---------------------------------------------------

@functools.lru_cache(maxsize=1)
def _benchmark_results() -> pd.DataFrame:
    """``run_benchmark`` (global fits) on the whole benchmark, M1-M4, computed once per process."""
    from ..benchmark.data import load_benchmark
    from ..evaluate import run_benchmark

    return run_benchmark(load_benchmark(), laws=PAPER_LAWS, progress=False, estimator="global")


def _released_results(source: str) -> pd.DataFrame:
    """The released emulation's fits on the domains ``source`` needs (variant "released"; cached)."""
    from .variants import BASELINE, SOURCE_DOMAINS, variant_results

    return variant_results(BASELINE, domains=SOURCE_DOMAINS[source], progress=False)


def _frame(items: list[str], ours: list[float], errors: list[float] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"item": items, "ours": np.asarray(ours, float),
                         "ours_error": np.asarray(errors if errors is not None else [np.nan] * len(items),
                                                  float)})


def _rmse_items(res: pd.DataFrame, domain: str, key: str, with_se: bool) -> pd.DataFrame:
    sub = res[res["domain"] == domain]
    items, vals, errs = [], [], []
    for row in sub.itertuples(index=False):
        name = getattr(row, key)
        se = float(row.se) if with_se else math.nan
        items.append(f"{domain}/{name}/{row.law}/rmse")
        vals.append(row.rmse)
        errs.append(se)
        if with_se:
            items.append(f"{domain}/{name}/{row.law}/se")
            vals.append(se)
            errs.append(math.nan)
    return _frame(items, vals, errs)


def table2_from_results(res: pd.DataFrame) -> pd.DataFrame:
    """Table 2 items from a ``run_benchmark`` frame: NMT RMSE (no SE printed), LM RMSE and SE."""
    return pd.concat([_rmse_items(res, "NMT", "model", with_se=False),
                      _rmse_items(res, "LM", "model", with_se=True)], ignore_index=True)


def table3_from_results(res: pd.DataFrame) -> pd.DataFrame:
    """Table 3 items from a ``run_benchmark`` frame: BIG-Bench RMSE and SE, keyed by task."""
    return _rmse_items(res, "BB", "task", with_se=True)


def figure1_from_win_fractions(wins: pd.DataFrame) -> pd.DataFrame:
    """Figure 1 (bottom) items from a ``win_fractions`` frame (index domain, columns M1..M4)."""
    items, vals = [], []
    for domain, row in wins.iterrows():
        for law, value in row.items():
            items.append(f"{domain}/{law}/win_fraction")
            vals.append(value)
    return _frame(items, vals)


def figure6_from_results(res: pd.DataFrame) -> pd.DataFrame:
    """Figure 6 items: M2 and M4 exponents of the six architectures on ImageNet 5/10/25-shot."""
    sub = res[(res["domain"] == "IC") & res["task"].isin(["inet_5", "inet_10", "inet_25"])
              & res["law"].isin(["M2", "M4"])]
    return _frame([f"Figure6/{r.law}/{r.model}/{r.task}/c" for r in sub.itertuples(index=False)],
                  sub["c"].tolist())


def figure9_from_results(res: pd.DataFrame) -> pd.DataFrame:
    """Figure 9 items: exponents of M1-M4 for the five language-model sizes."""
    sub = res[res["domain"] == "LM"]
    return _frame([f"Figure9/{r.law}/{r.model}/c" for r in sub.itertuples(index=False)],
                  sub["c"].tolist())


def benchmark_items(res: pd.DataFrame, tie_rule=FIGURE1_TIE_RULE, sources: Iterable[str] | None = None
                    ) -> pd.DataFrame:
    """Every ledger item that a results frame (``run_benchmark`` or ``run_released_benchmark``)
    gives: Tables 2 and 3, Figure 1 (bottom), Figures 6 and 9, or only those of ``sources``.

    Figure 1 bars use ``tie_rule`` (default :data:`FIGURE1_TIE_RULE`, per domain; a single rule
    name applies to every domain) and are given only for domains where all four laws were fitted.
    Items of curves or laws missing from ``res`` are simply absent.
    """
    wanted = BENCHMARK_SOURCES if sources is None else tuple(sources)
    unknown = sorted(set(wanted) - set(BENCHMARK_SOURCES))
    if unknown:
        raise ValueError(f"not benchmark sources: {unknown}; choose from {BENCHMARK_SOURCES}")
    parts = []
    if "Table 2" in wanted:
        parts.append(table2_from_results(res))
    if "Table 3" in wanted:
        parts.append(table3_from_results(res))
    if "Figure 1" in wanted:
        complete = [d for d, laws in res.groupby("domain")["law"].agg(set).items()
                    if {"M1", "M2", "M3", "M4"} <= laws]
        if complete:
            part = res[res["domain"].isin(complete) & res["law"].isin(["M1", "M2", "M3", "M4"])]
            parts.append(figure1_from_win_fractions(figure1_wins(part, tie_rule)))
    if "Figure 6" in wanted:
        parts.append(figure6_from_results(res))
    if "Figure 9" in wanted:
        parts.append(figure9_from_results(res))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else _frame([], [])


#: Tie rules :func:`figure1_wins` knows: those of :func:`scaling.evaluate.win_fractions` and
#: ``"within-se"`` (every law whose RMSE is at most the best RMSE plus the best law's standard error,
#: untruncated: the rule that gives the bold cells of the paper's Tables 2 and 3 from its own numbers).
FIGURE1_RULES = ("split", "credit-all", "within-se")


def figure1_wins(res: pd.DataFrame, tie_rule=FIGURE1_TIE_RULE) -> pd.DataFrame:
    """Figure 1 (bottom) win fractions (index domain, columns M1..M4) under a tie rule per domain.

    ``tie_rule`` is a rule name for every domain or a mapping domain -> rule, each one of
    :data:`FIGURE1_RULES`; default :data:`FIGURE1_TIE_RULE`. ``split`` and ``credit-all`` compare
    RMSEs truncated to :data:`WIN_DECIMALS` decimals (:func:`scaling.evaluate.win_fractions`).
    """
    from ..evaluate import DOMAIN_ORDER, win_fractions

    domains = [d for d in DOMAIN_ORDER if d in set(res["domain"])] + sorted(set(res["domain"]) - set(DOMAIN_ORDER))
    rules = {d: tie_rule for d in domains} if isinstance(tie_rule, str) else {d: tie_rule[d] for d in domains}
    bad = sorted({r for r in rules.values() if r not in FIGURE1_RULES})
    if bad:
        raise ValueError(f"unknown tie rule(s) {bad}; choose from {FIGURE1_RULES}")
    rows = []
    plain = [d for d in domains if rules[d] != "within-se"]
    if plain:
        part = res[res["domain"].isin(plain)]
        rows.append(win_fractions(part, rule={d: rules[d] for d in plain}, decimals=WIN_DECIMALS))
    for d in domains:
        if rules[d] == "within-se":
            from ..evaluate import winner_mask

            part = res[res["domain"] == d]
            rmse = part.set_index(["task", "model", "law"])["rmse"].unstack("law")
            se = part.set_index(["task", "model", "law"])["se"].unstack("law")
            rows.append(winner_mask(rmse, se, rule="within-se").mean().to_frame(d).T)
    out = pd.concat(rows).loc[domains]
    out.index.name, out.columns.name = "domain", "law"
    return out


def _register_benchmark_producers() -> None:
    """For each benchmark source, one producer per estimator (released emulation, global fits)."""
    for source in BENCHMARK_SOURCES:
        def released(source=source) -> pd.DataFrame:
            return benchmark_items(_released_results(source), sources=[source])

        def global_fits(source=source) -> pd.DataFrame:
            return benchmark_items(_benchmark_results(), sources=[source])

        slug = source.lower().replace(" ", "")
        released.__name__, global_fits.__name__ = f"_produce_{slug}_released", f"_produce_{slug}_global"
        register_producer(source, "released")(released)
        register_producer(source, "global")(global_fits)


_register_benchmark_producers()


# Figure 2 (the synthetic experiment) and Figure 3 (M2 at fixed exponents) are produced by
# scaling.studies.foundations, which registers its producers when imported (as every import of
# scaling.studies does); the ledger command imports the studies before it builds the ledger.
