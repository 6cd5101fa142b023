"""The reproduction ledger: every number the paper reports, next to ours, with a status.

The paper's numbers are *reference data*: they live in ``data/paper_reference.csv`` at the root of
the repository (one row per printed number, transcribed from the team's paper digest) and are
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
``table2_from_results(res)`` etc.          pure helpers turning ``run_benchmark`` output into items
``main(argv)``                             the CLI ``python -m scaling ledger --out FILE``

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
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "REFERENCE_PATH",
    "STATUSES",
    "ProducerUnavailable",
    "build_ledger",
    "compare",
    "compute_ours",
    "load_reference",
    "main",
    "parse_printed",
    "producers",
    "register_producer",
    "summarize",
    "figure1_from_win_fractions",
    "figure6_from_results",
    "figure9_from_results",
    "table2_from_results",
    "table3_from_results",
]

REFERENCE_PATH = Path(__file__).resolve().parent.parent / "data" / "paper_reference.csv"

#: The four statuses, in the order used by summaries.
STATUSES = ("reproduced", "within-error", "differs", "not-yet")

#: Relative float tolerance added to every comparison (see the module docstring).
FLOAT_TOL = 1e-9

#: Tie rule and truncation used for the Figure 1 (bottom) win fractions.
WIN_RULE = "split"
WIN_DECIMALS = 3

REFERENCE_TEXT_COLUMNS = (
    "source", "item", "domain", "task", "model", "setting", "law", "quantity", "paper_text", "note",
)
REFERENCE_FLOAT_COLUMNS = ("paper", "paper_error", "precision")
REFERENCE_COLUMNS = REFERENCE_TEXT_COLUMNS[:8] + REFERENCE_FLOAT_COLUMNS + ("bold",) + REFERENCE_TEXT_COLUMNS[8:]

LEDGER_COLUMNS = (
    "source", "item", "paper", "ours", "status", "difference", "ratio", "tolerance",
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
    """Parse a number the way the paper (or the digest) prints it.

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
    """Read the paper's numbers (``data/paper_reference.csv`` of the repository).

    Text columns stay strings (so LM model names such as ``1.68e+07`` are not turned into floats);
    ``paper``, ``paper_error`` and ``precision`` are floats (NaN where empty); ``bold`` is a
    nullable boolean (``<NA>`` for figure values, which have no typography).
    """
    path = Path(path) if path is not None else REFERENCE_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"paper reference table not found at {path}. It ships in the repository as "
            "data/paper_reference.csv next to the scaling/ package; use a source checkout "
            "(pip install -e .) or pass path= explicitly."
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
                         f"{unknown[:5]}; check the key spelling (see scaling.ledger docstring) "
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

class ProducerUnavailable(RuntimeError):
    """Raised by a producer whose inputs (a module of the package) do not exist yet."""


Producer = Callable[[], pd.DataFrame]
_REGISTRY: dict[str, list[Producer]] = {}


def register_producer(source: str) -> Callable[[Producer], Producer]:
    """Decorator: register ``func() -> DataFrame[item, ours, ours_error]`` for a paper source.

    ``source`` is the reference CSV's ``source`` spelling (``"Table 2"``, ``"Figure 1"``, ...).
    Several producers may serve one source; their items must not overlap. A producer that cannot
    run yet because a module is missing raises :class:`ProducerUnavailable`; its rows stay
    ``not-yet``. Any other exception propagates (a broken producer should be fixed, not hidden).
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"register_producer needs a non-empty source name, got {source!r}")

    def decorator(func: Producer) -> Producer:
        if not callable(func):
            raise TypeError(f"producer for {source!r} must be callable, got {func!r}")
        _REGISTRY.setdefault(source, []).append(func)
        return func

    return decorator


def producers() -> dict[str, list[Producer]]:
    """A copy of the registry: ``{source: [producer, ...]}``."""
    return {k: list(v) for k, v in _REGISTRY.items()}


def compute_ours(sources: Iterable[str] | None = None, *, verbose: bool = False
                 ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Run the registered producers (all, or only those for ``sources``).

    Returns ``(ours, skipped)``: the concatenated frame ``item, ours, ours_error, source`` and a
    dict ``{producer name: reason}`` for producers that raised :class:`ProducerUnavailable`.
    """
    wanted = None if sources is None else set(sources)
    frames, skipped = [], {}
    for source, funcs in _REGISTRY.items():
        if wanted is not None and source not in wanted:
            continue
        for func in funcs:
            name = f"{source}: {getattr(func, '__name__', repr(func))}"
            try:
                frame = func()
            except ProducerUnavailable as exc:
                skipped[name] = str(exc)
                if verbose:
                    print(f"skipped {name} ({exc})", file=sys.stderr)
                continue
            try:
                frame = _check_ours(frame)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"producer {name} returned a malformed frame: {exc}") from exc
            frame["source"] = source
            frames.append(frame)
    if frames:
        ours = pd.concat(frames, ignore_index=True)
        dup = ours["item"][ours["item"].duplicated()].tolist()
        if dup:
            raise ValueError(f"producers returned the same item more than once: {dup[:5]}")
    else:
        ours = pd.DataFrame({"item": pd.Series([], dtype=str), "ours": pd.Series([], dtype=float),
                             "ours_error": pd.Series([], dtype=float),
                             "source": pd.Series([], dtype=str)})
    return ours, skipped


def build_ledger(sources: Iterable[str] | None = None, *, compute: bool = True,
                 verbose: bool = False) -> tuple[pd.DataFrame, dict[str, str]]:
    """The full ledger: :func:`compare` of :func:`compute_ours` against the reference.

    With ``compute=False`` no producer runs and every row is ``not-yet``. ``sources`` restricts both
    the producers run and the rows returned.
    """
    ref = load_reference()
    if sources is not None:
        sources = list(sources)
        unknown = sorted(set(sources) - set(ref["source"]))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; the reference has {sorted(set(ref['source']))}")
        ref = ref[ref["source"].isin(sources)]
    ours, skipped = compute_ours(sources, verbose=verbose) if compute else (None, {})
    if ours is not None:
        ours = ours[["item", "ours", "ours_error"]]
    return compare(ours, ref), skipped


def summarize(ledger: pd.DataFrame) -> pd.DataFrame:
    """Counts of rows by source (in reference order) × status, with totals."""
    order = list(dict.fromkeys(ledger["source"]))
    table = pd.crosstab(pd.Categorical(ledger["source"], categories=order),
                        pd.Categorical(ledger["status"], categories=list(STATUSES)),
                        margins=True, margins_name="total", dropna=False)
    table.index.name, table.columns.name = "source", "status"
    return table


# --- producers backed by scaling.evaluate ---------------------------------------------------

def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ProducerUnavailable(f"{module} does not exist yet")


@functools.lru_cache(maxsize=1)
def _benchmark_results() -> pd.DataFrame:
    """``run_benchmark`` on the whole benchmark, M1-M4, computed once per process."""
    _require("scaling.evaluate")
    _require("scaling.data")
    from scaling.data import load_benchmark
    from scaling.evaluate import run_benchmark

    return run_benchmark(load_benchmark(), laws=("M1", "M2", "M3", "M4"), progress=False)


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


@register_producer("Table 2")
def _produce_table2() -> pd.DataFrame:
    return table2_from_results(_benchmark_results())


@register_producer("Table 3")
def _produce_table3() -> pd.DataFrame:
    return table3_from_results(_benchmark_results())


@register_producer("Figure 1")
def _produce_figure1() -> pd.DataFrame:
    res = _benchmark_results()
    from scaling.evaluate import win_fractions

    return figure1_from_win_fractions(win_fractions(res, rule=WIN_RULE, decimals=WIN_DECIMALS))


@register_producer("Figure 6")
def _produce_figure6() -> pd.DataFrame:
    return figure6_from_results(_benchmark_results())


@register_producer("Figure 9")
def _produce_figure9() -> pd.DataFrame:
    return figure9_from_results(_benchmark_results())


# Figure 2 (scaling.synthetic) and Figure 3 (M2 at fixed exponents) are produced in scaling.experiments,
# which registers them when imported.
from . import experiments as _experiments  # noqa: E402,F401


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m scaling ledger",
        description="Compare every number the paper reports with what the scaling package computes, "
                    "and write the ledger as CSV.",
    )
    p.add_argument("--out", required=True, type=Path, help="CSV file to write")
    p.add_argument("--only", action="append", metavar="SOURCE",
                   help="restrict to one paper source, e.g. 'Table 2' (repeatable)")
    p.add_argument("--no-compute", action="store_true",
                   help="run no producer: list the paper's numbers with status not-yet")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scaling ledger --out FILE [--only SOURCE ...] [--no-compute] [--quiet]``.

    ``argv`` are the arguments after ``ledger`` (a leading ``"ledger"`` is tolerated). Writes the
    ledger CSV (columns ``LEDGER_COLUMNS``), prints a source × status count table and returns 0.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ledger"]:
        argv = argv[1:]
    parser = _parser()
    args = parser.parse_args(argv)
    if args.only:
        known = set(load_reference()["source"])
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"unknown --only source(s) {unknown}; choose from {sorted(known)}")
    ledger, skipped = build_ledger(args.only, compute=not args.no_compute, verbose=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ledger.to_csv(args.out, index=False, encoding="utf-8")
    if not args.quiet:
        for name, reason in skipped.items():
            print(f"skipped producer {name}: {reason}")
        print(summarize(ledger).to_string())
        print(f"wrote {len(ledger)} rows to {args.out}")
    return 0


if __name__ == "__main__":  # python -m scaling.ledger --out FILE
    raise SystemExit(main())
