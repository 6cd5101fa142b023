"""Fit scaling laws to your own learning curve: ``python -m scaling fit CURVE.csv [options]``.

The input is a small CSV file with one measured point per row::

    # my model, validation loss against training tokens
    x,loss
    1e6,4.21
    2e6,3.87
    ...

Reading (:func:`read_curve_csv`)
    The first line that is neither blank nor a comment (``#`` ...) is the header. The columns
    ``x`` and ``loss`` are found case-insensitively; the aliases ``n``, ``size``, ``examples``,
    ``tokens``, ``steps`` (for x) and ``error``, ``err``, ``y`` (for the loss) work too, and
    ``x_col``/``loss_col`` (``--x-col``/``--loss-col``) name any other column. Extra columns are
    ignored. The delimiter is a comma, or a tab or semicolon when the header has no comma.
    Every value must be a finite number > 0 (the laws are fitted on logarithms); an error names
    the file line of the first bad value. Rows are sorted by x; a row repeated exactly is kept
    once; the same x with two different losses is an error (average the repeats). At least
    :data:`MIN_POINTS` distinct points are needed.

Fitting (:func:`fit_user_curve`)
    Every chosen law (default: all of :data:`scaling.laws.LAWS`, so later laws appear by
    themselves) is fitted with the package's estimators. M4 needs the random-guessing loss
    ``eps0``: ``eps0=VALUE`` fixes it; by default it is learned above the largest loss, between
    ``max(loss) + 0.001`` and ``eps0_max`` (default ``10 * max(1, max(loss))``).

Hold-out (``holdout=F``, 0 <= F < 1)
    The largest-x fraction F of the points (at least one point when F > 0) is held out: the laws
    are fitted on the rest and scored on it with the extrapolation RMSE of the log loss (the
    paper's Eq. 6, with the released code's standard error). The predictions also come from that
    fit, so rerun with ``holdout=0`` to predict from every point once you trust a law.

Bootstrap (``n_boot=N``, ``level``, ``seed``)
    The fitted points are resampled with replacement N times (the same resamples for every law),
    each law is refitted to each resample, and percentile intervals at ``level`` are reported for
    every parameter and for the predicted loss at each ``at`` value (default: 10x and 100x the
    largest x). Refits that fail (for example a resample with fewer distinct x than the law has
    parameters) are counted and left out; refits whose parameters end on a constraint
    (``eps_inf = 0``, ``alpha = 0``, ``eps0`` at a bound, ...) are counted and kept.

    What the intervals capture: the noise of the measured points, treating them as
    exchangeable draws around the law. What they do not capture: the law being the wrong shape
    for your curve (the dominant error when extrapolating far, see the hold-out score), and
    noise that is correlated along the curve (one training run measured at many checkpoints
    shares its randomness, so the intervals are then too narrow).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .evaluate import extrapolation_rmse, rmse_standard_error
from .laws import EPS0_MARGIN, LAWS, PAPER_LAWS, ScalingLaw, resolve_law_name

__all__ = ["CurveFileError", "UserCurve", "LawFit", "UserFit", "read_curve_csv", "prepare_curve",
           "resolve_laws", "make_law", "n_fit_points", "default_at", "fit_user_curve", "build_parser", "main",
           "MIN_POINTS", "DEFAULT_BOOT", "DEFAULT_LEVEL", "DEFAULT_AT_FACTORS"]

#: Fewest distinct points accepted: with fewer, neither a fit nor its check means anything.
MIN_POINTS = 5
DEFAULT_BOOT = 200
DEFAULT_LEVEL = 0.9
#: Default prediction points, as multiples of the largest x in the file.
DEFAULT_AT_FACTORS = (10.0, 100.0)
X_ALIASES = ("x", "n", "size", "examples", "tokens", "steps")
LOSS_ALIASES = ("loss", "error", "err", "y")
# Progress lines appear only once the bootstrap has run this long (short runs stay silent).
PROGRESS_DELAY_SECONDS = 2.0
# Relative tolerance for "a parameter ended on its constraint".
_BOUND_RTOL = 1e-6


class CurveFileError(ValueError):
    """A learning-curve file (or array) that cannot be fitted; the message says why and how to fix it."""


# ---------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class UserCurve:
    """A validated learning curve: ``x`` and ``loss`` sorted by x, finite, positive, distinct x."""

    x: np.ndarray
    loss: np.ndarray
    source: str = "arrays"
    x_column: str = "x"
    loss_column: str = "loss"
    n_duplicates_dropped: int = 0

    def __len__(self) -> int:
        return int(self.x.size)


def _parse_number(raw: str, column: str, where: str) -> float:
    text = raw.strip()
    if not text:
        raise CurveFileError(f"{where}: the {column!r} value is empty; fill it in or delete the row.")
    try:
        value = float(text)
    except ValueError:
        raise CurveFileError(f"{where}: the {column!r} value {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise CurveFileError(f"{where}: the {column!r} value is {text}; NaN/inf cannot be fitted, "
                             "remove or repair that row.")
    if value <= 0:
        raise CurveFileError(f"{where}: the {column!r} value {text} is not positive; scaling laws are fitted "
                             "on log x and log loss, so both must be > 0.")
    return value


def _find_column(names: list[str], wanted: str | None, aliases: tuple[str, ...], role: str,
                 source: str) -> int:
    lowered = [n.strip().lower() for n in names]
    candidates = (wanted.strip().lower(),) if wanted is not None else aliases
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    how = (f"no column named {wanted!r}" if wanted is not None
           else f"no {role} column (looked for {', '.join(aliases)})")
    option = "--x-col" if role == "x" else "--loss-col"
    raise CurveFileError(f"{source}: {how}; the header has {names}. Rename the column or pass {option} NAME.")


def _looks_numeric(fields: list[str]) -> bool:
    try:
        [float(f) for f in fields]
    except ValueError:
        return False
    return True


def read_curve_csv(path, x_col: str | None = None, loss_col: str | None = None) -> UserCurve:
    """Read and validate a learning-curve CSV (see the module docstring for the format).

    Raises :class:`FileNotFoundError` for a missing file and :class:`CurveFileError` (a
    ``ValueError``) for anything that cannot be fitted, naming the file line at fault.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; give the path of a CSV with columns x and loss.")
    if path.is_dir():
        raise CurveFileError(f"{path} is a folder; give the path of a CSV file with columns x and loss.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CurveFileError(f"{path} is not a UTF-8 text file; save the curve as a plain CSV.") from None
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise CurveFileError(f"{path} is empty (no header and no data); write a header line 'x,loss' "
                             "and one row per measured point.")
    header_no, header_line = lines[0]
    delimiter = next((d for d in (",", "\t", ";") if d in header_line), ",")

    def split(line):
        return next(csv.reader([line], delimiter=delimiter))

    names = [n.strip() for n in split(header_line)]
    if _looks_numeric(names):
        raise CurveFileError(f"{path}, line {header_no}: the first line holds numbers, not column names; "
                             "add a header line such as 'x,loss'.")
    ix = _find_column(names, x_col, X_ALIASES, "x", str(path))
    il = _find_column(names, loss_col, LOSS_ALIASES, "loss", str(path))
    if ix == il:
        raise CurveFileError(f"{path}: x and loss are both read from column {names[ix]!r}; "
                             "pass --x-col and --loss-col naming two different columns.")
    xs, ys, where = [], [], []
    for number, line in lines[1:]:
        fields = split(line)
        at = f"{path}, line {number}"
        if len(fields) <= max(ix, il):
            raise CurveFileError(f"{at}: found {len(fields)} field(s) but the header has {len(names)}; "
                                 f"every row needs its {names[ix]!r} and {names[il]!r} values.")
        xs.append(_parse_number(fields[ix], names[ix], at))
        ys.append(_parse_number(fields[il], names[il], at))
        where.append(f"line {number}")
    if not xs:
        raise CurveFileError(f"{path} has a header but no data rows; add one row per measured point.")
    return prepare_curve(xs, ys, source=str(path), where=where, x_column=names[ix], loss_column=names[il])


def prepare_curve(x, loss, *, source: str = "arrays", where: list[str] | None = None,
                  x_column: str = "x", loss_column: str = "loss") -> UserCurve:
    """Validate a curve given as arrays (the reader's last step): sort, drop exact repeats, check size.

    ``where`` names each point for error messages (file lines); default: its position.
    """
    try:
        x = np.asarray(x, dtype=float)
        y = np.asarray(loss, dtype=float)
    except (TypeError, ValueError):
        raise CurveFileError(f"{source}: x and loss must be numbers.") from None
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise CurveFileError(f"{source}: x and loss must be 1-D arrays of the same length, "
                             f"got shapes {x.shape} and {y.shape}.")
    where = list(where) if where is not None else [f"position {i}" for i in range(x.size)]
    for values, name in ((x, x_column), (y, loss_column)):
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CurveFileError(f"{source}, {where[i]}: {name} = {values[i]} must be a finite number > 0.")
    order = np.argsort(x, kind="stable")
    x, y, where = x[order], y[order], [where[i] for i in order]
    same_x = np.flatnonzero(x[1:] == x[:-1])
    conflict = [i for i in same_x if y[i] != y[i + 1]]
    if conflict:
        i = conflict[0]
        raise CurveFileError(f"{source}: x = {x[i]:g} appears twice ({where[i]} and {where[i + 1]}) with "
                             f"different losses ({y[i]:g} and {y[i + 1]:g}); average the repeated "
                             "measurements into one row, or keep one of them.")
    keep = np.ones(x.size, dtype=bool)
    keep[same_x + 1] = False  # exact repeats of a row carry no new information
    x, y = x[keep], y[keep]
    if x.size < MIN_POINTS:
        raise CurveFileError(f"{source}: only {x.size} distinct point(s); fitting a scaling law and checking "
                             f"it needs at least {MIN_POINTS} (and more points give much better fits).")
    x.setflags(write=False)
    y.setflags(write=False)
    return UserCurve(x, y, source, x_column, loss_column, int((~keep).sum()))


# ---------------------------------------------------------------------------------------------- laws
def resolve_laws(spec) -> tuple[str, ...]:
    """Law names from ``"all"``, ``"m4"``, ``"m2,M4"`` or a list; spelled as registered in LAWS."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return tuple(LAWS)
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n for n in names if str(n).strip()]
    if not names:
        raise ValueError(f"no law given; choose 'all' or some of {list(LAWS)} separated by commas.")
    resolved = []
    for name in names:
        law = resolve_law_name(str(name))
        if law not in resolved:
            resolved.append(law)
    return tuple(resolved)


def make_law(name: str, eps0: float | None = None, eps0_max: float | None = None) -> ScalingLaw:
    """A new unfitted law; M4 fixes ``eps0`` when given, else learns it (up to ``eps0_max``)."""
    name = resolve_law_name(name)
    if name != "M4":
        return LAWS[name]()
    if eps0 is not None:
        if eps0_max is not None:
            raise ValueError("give either eps0 (fixed) or eps0_max (bound of a learned eps0), not both.")
        return LAWS[name](eps0=float(eps0), learn_eps0=False)
    return LAWS[name](eps0=1.0, learn_eps0=True, eps0_max=eps0_max)


def n_fit_points(n: int, holdout: float) -> int:
    """How many of ``n`` points (sorted by x) are fitted: all but the largest-x fraction ``holdout``."""
    if not (isinstance(holdout, (int, float)) and 0.0 <= holdout < 1.0):
        raise ValueError(f"holdout must be a fraction with 0 <= holdout < 1, got {holdout!r}.")
    n_hold = 0 if holdout == 0 else max(1, int(round(holdout * n)))
    return n - n_hold


def default_at(x) -> np.ndarray:
    """Default prediction points: :data:`DEFAULT_AT_FACTORS` times the largest x."""
    return np.max(x) * np.asarray(DEFAULT_AT_FACTORS)


def _near(value: float, edge: float) -> bool:
    return abs(value - edge) <= _BOUND_RTOL * max(abs(edge), 1e-300)


def _limit_hits(name: str, value: float, y: np.ndarray) -> list[str]:
    """A limiting loss (eps_inf, BNSL's a) on its constraint 0 <= limit < min(loss)."""
    if value <= 1e-12 * y.min():
        return [f"{name}=0"]
    return [f"{name}=min(loss)"] if value >= y.min() * (1 - _BOUND_RTOL) else []


def _m4_hits(law, p, y) -> list[str]:
    hits = _limit_hits("eps_inf", p["eps_inf"], y)
    if law.alpha is None and p["alpha"] <= 1e-12:
        hits.append("alpha=0")
    if law.learn_eps0:  # the search interval of M4 (scaling.laws): above the data, up to eps0_max
        lo, hi = law.eps0_bounds(y.max())
        if p["eps0"] <= lo * (1 + _BOUND_RTOL):
            hits.append("eps0=max(loss)+margin")
        elif p["eps0"] >= hi * (1 - _BOUND_RTOL):
            hits.append("eps0=eps0_max")
    return hits


def _bnsl_hits(p, x, y) -> list[str]:
    hits = _limit_hits("a", p["a"], y)
    if _near(p["d1"], x.min()) or _near(p["d1"], x.max()):
        hits.append("d1 at the data's edge")
    return hits + (["c0=0"] if p["c0"] <= 1e-12 else [])


def _bound_hits(law: ScalingLaw, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Which parameters of a fitted law ended on one of its constraints (for the points x, y).

    Known for M1-M4 and for the obvious constraints of BNSL (limit a, break d1 inside the data,
    c0 >= 0) and Chinchilla (exponent <= 0); another law may define ``bound_hits(x, y)`` itself.
    """
    hook = getattr(law, "bound_hits", None)
    if callable(hook):
        return list(hook(x, y))
    p = law.params_
    if law.name == "BNSL":
        return _bnsl_hits(p, x, y)
    if law.name not in PAPER_LAWS + ("Chinchilla",):
        return []
    hits = ["c=0"] if p["c"] >= -1e-12 else []
    if law.name == "M2":
        hits += _limit_hits("eps_inf", p["eps_inf"], y)
    elif law.name == "M3" and p["gamma"] <= 0:
        hits.append("gamma=0")
    elif law.name == "M4":
        hits += _m4_hits(law, p, y)
    return hits


# ---------------------------------------------------------------------------------------------- results
def _percentiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    q = 100 * (1 - level) / 2
    if values.shape[0] == 0:
        nan = np.full(values.shape[1:], np.nan)
        return nan, nan
    return np.percentile(values, q, axis=0), np.percentile(values, 100 - q, axis=0)


@dataclass
class LawFit:
    """One law fitted to the fit part of a curve, with its bootstrap refits.

    ``boot_params`` has one row per successful refit; ``boot_pred`` the matching predictions
    at ``at``; ``bound_counts`` how often each constraint was hit by a refit.
    """

    name: str
    law: ScalingLaw
    at: np.ndarray
    level: float
    rmse: float | None
    se: float | None
    bounds_hit: list[str]
    n_boot: int
    n_failed: int
    n_at_bound: int
    bound_counts: dict[str, int]
    boot_params: pd.DataFrame
    boot_pred: np.ndarray
    boot_laws: list[ScalingLaw] = field(repr=False)
    failure_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, float]:
        return dict(self.law.params_)

    @property
    def n_ok(self) -> int:
        return int(self.boot_params.shape[0])

    def parameter_table(self) -> pd.DataFrame:
        """Estimate and bootstrap percentile interval of each parameter."""
        lo, hi = _percentiles(self.boot_params.to_numpy(), self.level)
        return pd.DataFrame({"estimate": list(self.params.values()), "lower": lo, "upper": hi},
                            index=pd.Index(list(self.params), name="parameter"))

    def prediction_table(self) -> pd.DataFrame:
        """Predicted loss at each ``at`` value with its bootstrap percentile interval."""
        lo, hi = _percentiles(self.boot_pred, self.level)
        return pd.DataFrame({"x": self.at, "estimate": self.law.predict(self.at), "lower": lo, "upper": hi})

    def band(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise bootstrap percentile band of the predicted loss on ``x`` (NaN without refits)."""
        x = np.asarray(x, dtype=float)
        preds = np.array([law.predict(x) for law in self.boot_laws]).reshape(-1, x.size)
        return _percentiles(preds, self.level)


@dataclass
class UserFit:
    """The result of :func:`fit_user_curve`: the curve, the split, and one :class:`LawFit` per law."""

    curve: UserCurve
    n_fit: int
    holdout: float
    at: np.ndarray
    level: float
    n_boot: int
    seed: int
    fits: dict[str, LawFit]
    skipped: dict[str, str]
    notes: list[str]

    x_fit = property(lambda self: self.curve.x[: self.n_fit])
    loss_fit = property(lambda self: self.curve.loss[: self.n_fit])
    x_test = property(lambda self: self.curve.x[self.n_fit:])
    loss_test = property(lambda self: self.curve.loss[self.n_fit:])

    def summary(self) -> pd.DataFrame:
        """One row per law: hold-out RMSE (± SE), bootstrap counts and the predicted loss at each ``at``."""
        rows = []
        for name, fit in self.fits.items():
            row = {"law": name, "n_params": fit.law.n_params, "train_loss": fit.law.loss_,
                   "holdout_rmse": fit.rmse, "holdout_se": fit.se, "boot_ok": fit.n_ok,
                   "boot_failed": fit.n_failed, "boot_at_bound": fit.n_at_bound}
            for _, p in fit.prediction_table().iterrows():
                key = f"loss@{p['x']:.3g}"
                row.update({key: p["estimate"], f"{key} lower": p["lower"], f"{key} upper": p["upper"]})
            rows.append(row)
        return pd.DataFrame(rows).set_index("law")

    def to_frame(self) -> pd.DataFrame:
        """Every number in one tidy table (what ``--out`` writes): law, kind, name, x, estimate, lower, upper."""
        rows = []
        for name, fit in self.fits.items():
            common = {"law": name, "level": self.level, "boot_ok": fit.n_ok, "boot_failed": fit.n_failed,
                      "boot_at_bound": fit.n_at_bound}
            for pname, r in fit.parameter_table().iterrows():
                rows.append({**common, "kind": "parameter", "name": pname, "x": np.nan, **r.to_dict()})
            for _, r in fit.prediction_table().iterrows():
                rows.append({**common, "kind": "prediction", "name": "loss", **r.to_dict()})
            if fit.rmse is not None:
                rows.append({**common, "kind": "score", "name": "holdout_rmse", "x": np.nan,
                             "estimate": fit.rmse, "lower": fit.rmse - fit.se, "upper": fit.rmse + fit.se})
        cols = ["law", "kind", "name", "x", "estimate", "lower", "upper", "level", "boot_ok", "boot_failed",
                "boot_at_bound"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict:
        """A JSON-ready description of the fit (what ``--json`` writes)."""
        def num(v):
            return None if v is None or not np.isfinite(v) else float(v)

        laws = {}
        for name, fit in self.fits.items():
            laws[name] = {
                "parameters": {p: {"estimate": num(r.estimate), "lower": num(r.lower), "upper": num(r.upper)}
                               for p, r in fit.parameter_table().iterrows()},
                "predictions": [{"x": num(r.x), "estimate": num(r.estimate), "lower": num(r.lower),
                                 "upper": num(r.upper)} for r in fit.prediction_table().itertuples()],
                "holdout_rmse": num(fit.rmse), "holdout_se": num(fit.se), "train_loss": num(fit.law.loss_),
                "bounds_hit": fit.bounds_hit,
                "bootstrap": {"refits": fit.n_boot, "ok": fit.n_ok, "failed": fit.n_failed,
                              "at_bound": fit.n_at_bound, "bound_counts": fit.bound_counts},
            }
        return {"source": self.curve.source, "n_points": len(self.curve), "n_fit": self.n_fit,
                "holdout": self.holdout, "level": self.level, "n_boot": self.n_boot, "seed": self.seed,
                "at": [float(a) for a in self.at], "laws": laws, "skipped": self.skipped, "notes": self.notes}

    def report(self) -> str:
        """The human-readable table the command prints."""
        return _format_report(self)


# ---------------------------------------------------------------------------------------------- fitting
class _Progress:
    """A progress line on a stream, shown only once the work has lasted PROGRESS_DELAY_SECONDS.

    On a terminal one line updates in place; elsewhere (a log, a captured stream) a line is
    printed every few seconds.
    """

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, total
        self.start = self.last = time.perf_counter()
        self.shown = False
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def update(self, done: int, what: str) -> None:
        now = time.perf_counter()
        every = 0.2 if self.tty else 5.0
        if now - self.start < PROGRESS_DELAY_SECONDS or (self.shown and now - self.last < every and done < self.total):
            return
        self.shown, self.last = True, now
        text = f"  bootstrap: {done}/{self.total} refits ({what}), {now - self.start:.1f} s"
        print("\r" + text if self.tty else text, end="" if self.tty else "\n", file=self.stream, flush=True)

    def close(self) -> None:
        if self.shown and self.tty:
            print(file=self.stream, flush=True)


def _check_at(at, x) -> np.ndarray:
    if at is None:
        return default_at(x)
    try:
        values = np.atleast_1d(np.asarray(at, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"prediction points must be numbers, got {at!r}.") from None
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"prediction points (--at) must be finite numbers > 0, got {list(np.ravel(values))}.")
    return values


def _bootstrap(name, law_factory, x, y, at, indices, progress, done0):
    params, preds, laws, bound_counts, reasons = [], [], [], {}, {}
    n_failed = n_at_bound = 0
    for b, idx in enumerate(indices):
        xb, yb = x[idx], y[idx]
        try:
            with np.errstate(all="ignore"):
                law = law_factory().fit(xb, yb)
                pred = law.predict(at)
            if not (np.all(np.isfinite(list(law.params_.values()))) and np.all(np.isfinite(pred))):
                raise ValueError("non-finite parameters or predictions")
        except ValueError as exc:
            n_failed += 1
            reason = "too few distinct x" if "distinct x" in str(exc) else str(exc).split(";")[0][:60]
            reasons[reason] = reasons.get(reason, 0) + 1
        else:
            hits = _bound_hits(law, xb, yb)
            n_at_bound += bool(hits)
            for h in hits:
                bound_counts[h] = bound_counts.get(h, 0) + 1
            params.append(law.params_)
            preds.append(pred)
            laws.append(law)
        if progress is not None:
            progress.update(done0 + b + 1, name)
    frame = pd.DataFrame(params)
    return frame, np.array(preds).reshape(-1, at.size), laws, n_failed, n_at_bound, bound_counts, reasons


def fit_user_curve(x, loss=None, laws="all", holdout: float = 0.0, n_boot: int = DEFAULT_BOOT,
                   level: float = DEFAULT_LEVEL, seed: int = 0, at=None, eps0: float | None = None,
                   eps0_max: float | None = None, progress=None) -> UserFit:
    """Fit laws to a learning curve, score them on a held-out tail and bootstrap their uncertainty.

    ``x`` is a :class:`UserCurve` (then ``loss`` is None) or an array with ``loss`` beside it.
    ``laws``: ``"all"`` (every registered law), one name or a comma list / sequence of names.
    With ``"all"``, a law with more parameters than fitted points is skipped (see ``skipped``);
    a law named explicitly raises instead. ``progress``: a stream (e.g. ``sys.stderr``) for a
    progress line when the bootstrap takes more than two seconds. See the module docstring.
    """
    curve = x if isinstance(x, UserCurve) else prepare_curve(x, loss)
    if isinstance(x, UserCurve) and loss is not None:
        raise ValueError("pass either a UserCurve or the arrays x and loss, not both.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot (--boot) must be a whole number >= 0, got {n_boot!r}.")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must lie strictly between 0 and 1 (e.g. 0.9), got {level!r}.")
    explicit = not (laws is None or (isinstance(laws, str) and laws.strip().lower() == "all"))
    names = resolve_laws(laws)
    if eps0 is not None and (not np.isfinite(eps0) or eps0 <= curve.loss.max()):
        raise ValueError(f"eps0 = {eps0:g} must lie above the largest loss {curve.loss.max():g}: M4's eps0 is the "
                         "loss of random guessing; pass a larger value or leave it out to learn it.")
    if eps0_max is not None and (not np.isfinite(eps0_max) or eps0_max <= curve.loss.max() + EPS0_MARGIN):
        raise ValueError(f"eps0_max = {eps0_max:g} leaves no room for eps0 above the largest loss "
                         f"{curve.loss.max():g} (plus {EPS0_MARGIN:g}); raise it or leave it out.")
    at = _check_at(at, curve.x)
    n_fit = n_fit_points(len(curve), holdout)
    x_fit, y_fit = curve.x[:n_fit], curve.loss[:n_fit]
    x_test, y_test = curve.x[n_fit:], curve.loss[n_fit:]

    def factory(name):
        return lambda: make_law(name, eps0=eps0, eps0_max=eps0_max)

    skipped, chosen = {}, []
    for name in names:
        need = factory(name)().n_params
        if n_fit < need:
            why = (f"{name} has {need} parameters but only {n_fit} point(s) are left to fit after holding out "
                   f"{len(curve) - n_fit}; lower --holdout or give more points")
            if explicit:
                raise ValueError(why + ".")
            skipped[name] = why
        else:
            chosen.append(name)
    if not chosen:
        raise ValueError("no law can be fitted: " + "; ".join(skipped.values()) + ".")

    notes = []
    if "M4" in chosen:
        if eps0 is None:
            hi = eps0_max if eps0_max is not None else 10 * max(1.0, y_fit.max())
            notes.append(f"M4: eps0 (the loss of random guessing) is learned between max(loss) + {EPS0_MARGIN:g} "
                         f"and {hi:g}; pass --eps0 VALUE to fix it, e.g. 1 for an error rate.")
        else:
            notes.append(f"M4: eps0 fixed at {eps0:g}.")

    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_fit, size=(n_boot, n_fit))  # the same resamples for every law: paired
    meter = _Progress(progress, n_boot * len(chosen)) if progress is not None else None
    fits = {}
    try:
        for k, name in enumerate(chosen):
            try:
                law = factory(name)().fit(x_fit, y_fit)
            except ValueError as exc:
                if explicit:
                    raise ValueError(f"{name} could not be fitted: {exc}") from None
                skipped[name] = f"{name} could not be fitted: {exc}"
                continue
            rmse = se = None
            if x_test.size:
                pred = law.predict(x_test)
                rmse, se = extrapolation_rmse(y_test, pred), rmse_standard_error(y_test, pred)
            boot = _bootstrap(name, factory(name), x_fit, y_fit, at, indices, meter, k * n_boot)
            fits[name] = LawFit(name, law, at, level, rmse, se, _bound_hits(law, x_fit, y_fit), n_boot, boot[3], boot[4],
                                boot[5], boot[0].reindex(columns=list(law.params_)), boot[1], boot[2], boot[6])
    finally:
        if meter is not None:
            meter.close()
    if not fits:
        raise ValueError("no law could be fitted: " + "; ".join(skipped.values()) + ".")
    return UserFit(curve, n_fit, float(holdout), at, float(level), int(n_boot), int(seed), fits, skipped, notes)


# ---------------------------------------------------------------------------------------------- report
def _num(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.4g}"


def _interval(lo, hi) -> str:
    return "n/a" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{lo:.4g}, {hi:.4g}]"


def _format_report(res: UserFit) -> str:
    c, pct = res.curve, f"{100 * res.level:g}%"
    out = [f"Learning curve {c.source}: {len(c)} points, x from {c.x[0]:.4g} to {c.x[-1]:.4g}, "
           f"{c.loss_column} from {c.loss.min():.4g} to {c.loss.max():.4g}"
           + (f" ({c.n_duplicates_dropped} exact repeat row(s) dropped)" if c.n_duplicates_dropped else "") + "."]
    if res.n_fit < len(c):
        out.append(f"Fitted on the {res.n_fit} points with x <= {res.x_fit[-1]:.4g}; the {len(c) - res.n_fit} "
                   f"largest-x points are held out (holdout {res.holdout:g}) and scored by the RMSE of log loss "
                   "(paper Eq. 6, ± its standard error).")
    else:
        out.append(f"Fitted on all {res.n_fit} points (holdout 0: no extrapolation score).")
    if res.n_boot:
        out.append(f"Bootstrap: {res.n_boot} resamples of the fitted points (seed {res.seed}), {pct} percentile "
                   "intervals; they reflect noise in the points, not whether the law has the right shape.")
    else:
        out.append("No bootstrap (--boot 0): no intervals.")
    out += res.notes
    for name, why in res.skipped.items():
        out.append(f"skipped {why}.")
    for name, fit in res.fits.items():
        out.append("")
        out.append(f"== {name}: {fit.law.n_params} fitted parameters, training loss {fit.law.loss_:.3g}"
                   + (f", parameters on a constraint: {', '.join(fit.bounds_hit)}" if fit.bounds_hit else "")
                   + (" (optimiser did not report convergence)" if fit.law.converged_ is False else ""))
        out.append(f"  {'parameter':<14}{'estimate':>12}   {pct} interval")
        for p, r in fit.parameter_table().iterrows():
            out.append(f"  {p:<14}{_num(r.estimate):>12}   {_interval(r.lower, r.upper)}")
        if fit.rmse is not None:
            out.append(f"  {'holdout RMSE':<14}{_num(fit.rmse):>12}   ± {fit.se:.2g}")
        for r in fit.prediction_table().itertuples():
            out.append(f"  {'loss @ ' + format(r.x, '.3g'):<14}{_num(r.estimate):>12}   {_interval(r.lower, r.upper)}")
        if fit.n_boot:
            line = f"  bootstrap: {fit.n_ok}/{fit.n_boot} refits used"
            if fit.n_failed:
                line += f", {fit.n_failed} failed (" + ", ".join(f"{k}: {v}" for k, v in fit.failure_reasons.items()) + ")"
            line += f"; {fit.n_at_bound} ended on a constraint"
            if fit.bound_counts:
                line += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(fit.bound_counts.items())) + ")"
            out.append(line)
            if fit.n_ok < fit.n_boot / 2:
                # The surviving resamples are those with enough distinct x: not a random subset.
                out.append(f"  warning: only {fit.n_ok} of {fit.n_boot} refits succeeded, so these intervals rest on an "
                           "unrepresentative subset of resamples; fit more points or a law with fewer parameters.")
    if len(res.fits) > 1:
        out.append("")
        out.append("Summary")
        head = f"  {'law':<11}{'holdout RMSE':>20}" + "".join(f"{'loss @ ' + format(a, '.3g'):>30}" for a in res.at)
        out.append(head)
        for name, fit in res.fits.items():
            score = "n/a" if fit.rmse is None else f"{fit.rmse:.3g} ± {fit.se:.2g}"
            cells = "".join(f"{f'{r.estimate:.4g} ' + _interval(r.lower, r.upper):>30}"
                            for r in fit.prediction_table().itertuples())
            out.append(f"  {name:<11}{score:>20}{cells}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- command
PROG = "python -m scaling fit"


def _number_type(accept, requirement: str):
    """An argparse ``type``: a float for which ``accept(value)`` holds, else a message with ``requirement``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text} must {requirement}")
        return value
    return parse


_fraction = _number_type(lambda v: 0.0 <= v < 1.0, "satisfy 0 <= F < 1 (e.g. 0.3)")
_level = _number_type(lambda v: 0.0 < v < 1.0, "lie strictly between 0 and 1 (e.g. 0.9)")
_positive = _number_type(lambda v: math.isfinite(v) and v > 0, "be a finite number > 0")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def _at_list(text: str) -> list[float]:
    return [_positive(t) for t in text.split(",") if t.strip()]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's convention (exit 2), with a pointer to --help
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    laws = ", ".join(LAWS)
    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit scaling laws to your own learning curve, score their extrapolation on the largest-x "
                    "points, and bootstrap intervals for their parameters and predictions.",
        epilog=f"""\
input file:
  A CSV with a header line; columns x and loss (any case; aliases {', '.join(X_ALIASES[1:])} for x and
  {', '.join(LOSS_ALIASES[1:])} for loss, or --x-col/--loss-col). Blank lines and lines starting with # are
  skipped, extra columns ignored, rows sorted by x, exact repeated rows kept once. Values must be finite
  and > 0; the same x with different losses is an error (average them). At least {MIN_POINTS} points.

M4 and eps0:
  M4 bends towards eps0, the loss of random guessing (1 for an error rate, log(vocabulary) for a
  cross-entropy in nats). --eps0 fixes it; without it eps0 is learned above the largest loss.

what the bootstrap intervals mean:
  The fitted points are resampled with replacement and every law refitted, so the intervals show how
  much the noise in the points moves the fit, treating the points as exchangeable. They do not show
  whether the law has the right shape for your curve (check the holdout RMSE for that), and they are
  too narrow when the noise is correlated along the curve (one run measured at many checkpoints).
  Failed refits are left out and counted; refits ending on a constraint (eps_inf = 0, alpha = 0, ...)
  are kept and counted.

example:
  {PROG} my_curve.csv --law m4 --holdout 0.3 --plot fit.png

exit status: 0 on success, 2 for bad options or a file that cannot be fitted (message on stderr).""")
    parser.add_argument("csv", type=Path, help="the learning curve: a CSV file with columns x and loss")
    parser.add_argument("--law", default="all",
                        help=f"'all' (default) or one law or a comma list, any case; laws: {laws}")
    parser.add_argument("--holdout", type=_fraction, default=0.0, metavar="F",
                        help="hold out the largest-x fraction F of the points (0 <= F < 1) and score the laws' "
                             "extrapolation on them; default 0: fit every point, no score")
    parser.add_argument("--at", type=_at_list, action="append", metavar="X",
                        help="predict the loss at X (repeat or comma-separate); default: 10x and 100x the "
                             "largest x")
    parser.add_argument("--boot", type=_count, default=DEFAULT_BOOT, metavar="N",
                        help=f"bootstrap refits per law (default {DEFAULT_BOOT}; 0: no intervals)")
    parser.add_argument("--level", type=_level, default=DEFAULT_LEVEL,
                        help=f"coverage of the percentile intervals (default {DEFAULT_LEVEL})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling (default 0)")
    parser.add_argument("--eps0", type=_positive, metavar="VALUE",
                        help="fix M4's eps0 (random-guessing loss); default: learn it above the largest loss")
    parser.add_argument("--eps0-max", type=_positive, metavar="VALUE",
                        help="upper bound of a learned eps0 (default 10 * max(1, largest loss))")
    parser.add_argument("--x-col", metavar="NAME", help="name of the x column (default: x or an alias)")
    parser.add_argument("--loss-col", metavar="NAME", help="name of the loss column (default: loss or an alias)")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="save a figure (PNG, PDF or SVG by extension)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write every number to a tidy CSV")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON ('-' for stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m scaling fit``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.eps0 is not None and args.eps0_max is not None:
        parser.error("give --eps0 (fixed) or --eps0-max (bound of a learned eps0), not both")
    at = None if args.at is None else [v for group in args.at for v in group]
    try:
        curve = read_curve_csv(args.csv, x_col=args.x_col, loss_col=args.loss_col)
        result = fit_user_curve(curve, laws=args.law, holdout=args.holdout, n_boot=args.boot, level=args.level,
                                seed=args.seed, at=at, eps0=args.eps0, eps0_max=args.eps0_max,
                                progress=None if args.quiet else sys.stderr)
    except (ValueError, OSError) as exc:  # bad input: one line on stderr, argparse's exit code
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(result.to_dict(), indent=2) if str(args.json) == "-" else result.report(), flush=True)
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of the fit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # keep the exit-time flush quiet
    try:
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            result.to_frame().to_csv(args.out, index=False)
            print(f"wrote {args.out}", file=sys.stderr)
        if args.json is not None and str(args.json) != "-":
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result.to_dict(), indent=2))
            print(f"wrote {args.json}", file=sys.stderr)
        if args.plot is not None:
            import matplotlib

            matplotlib.use("Agg")  # a command line tool must not need a display
            from .userfit_plots import save_user_fit_plot

            save_user_fit_plot(result, args.plot)
            print(f"wrote {args.plot}", file=sys.stderr)
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: could not write an output file: {exc}", file=sys.stderr)
        return 2
    return 0
