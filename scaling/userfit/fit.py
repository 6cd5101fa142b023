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
    themselves) is fitted by the ``estimator`` (``--estimator``, :data:`ESTIMATORS`):

    * ``sound`` (the default): M1-M4 by :func:`scaling.laws.sound.fit_sound`, which minimises the
      squared error of the predicted log loss (the quantity Eq. 6 scores), scale-invariant, and
      does not collapse M2/M4 to a plain power law the way Eq. 4's global minimum does;
    * ``eq4``: the global minimum of the paper's Eq. 4/5 (:meth:`scaling.laws.ScalingLaw.fit`);
    * ``released``: the paper's method, :func:`scaling.laws.released.fit_released` (M1-M4 only; other
      laws are skipped), predicting with :func:`scaling.laws.released.predict_released`.

    BNSL and the Chinchilla-style fit are always fitted by their own fit, which already minimises a
    loss on the log predictions (their sound estimator). M4 needs the random-guessing loss ``eps0``:
    ``eps0=VALUE`` fixes it; by default it is learned above the largest loss: between
    ``(1 + 1e-3) max(loss)`` and ``eps0_max`` (default ``101 max(loss)``) by the sound estimator,
    between ``max(loss) + 0.001`` and ``eps0_max`` (default ``10 * max(1, max(loss))``) under
    ``eq4``; the released code starts it at 1 (or at twice the largest loss when the losses reach
    1, or inside ``(max(loss), eps0_max)``) and walks it up from there.

Diagnostics
    Every fitted law is checked by :func:`scaling.diagnostics.diagnose` (main fit, hold-out points
    and bootstrap intervals of every parameter but the coefficients ``beta``/``b``, and of the
    predictions): a law reduced to a simpler one, a plateau above the data, an extreme parameter, a
    break at the edge of the data, an interval spanning orders of magnitude. The report prints them
    and the JSON carries them under ``laws.<LAW>.diagnostics``.

Hold-out (``holdout=F``, 0 <= F < 1)
    The largest-x fraction F of the points (at least one point when F > 0) is held out: the laws
    are fitted on the rest and scored on it with the extrapolation RMSE of the log loss (the
    paper's Eq. 6, with the released code's standard error). The predictions also come from that
    fit, so rerun with ``holdout=0`` to predict from every point once you trust a law.

Bootstrap (``n_boot=N``, ``level``, ``seed``, ``boot_search``, ``workers``)
    The fitted points are resampled with replacement N times (the same resamples for every law),
    each law is refitted to each resample, and percentile intervals at ``level`` are reported for
    every parameter and for the predicted loss at each ``at`` value (default: 10x and 100x the
    largest x). Refits that fail (for example a resample with fewer distinct x than the law has
    parameters) are counted and left out; refits whose parameters end on a constraint
    (``eps_inf = 0``, ``alpha = 0``, ``eps0`` at a bound, ...) are counted and kept.

    How the refits run. With ``boot_search="warm"`` (the default) every law fitted by its sound
    estimator (all of them under ``sound``; BNSL and Chinchilla under every estimator) is refitted
    by :func:`scaling.laws.refit.warm_refits`: all resamples at once, each started from the fit to all
    points (and from one alternative start), which is what makes 200 refits of six laws take about
    a second. On a 40-point test curve its intervals matched those of full refits for M1-M4 and
    Chinchilla and were somewhat narrower for BNSL, whose many local optima a warm start explores
    less. ``boot_search="full"``, and the ``eq4`` and ``released`` fits of M1-M4, rerun each law's
    whole fit on every resample. Either way the work is spread over ``workers`` forked processes
    (default: the usable cores, at most 4; in a process that runs other Python threads, such as a
    notebook kernel, it stays in-process); the results do not depend on their number.

    What the intervals capture: the noise of the measured points, treating them as
    exchangeable draws around the law. What they do not capture: the law being the wrong shape
    for your curve (the dominant error when extrapolating far, see the hold-out score), and
    noise that is correlated along the curve (one training run measured at many checkpoints
    shares its randomness, so the intervals are then too narrow).

Output files (the command)
    ``--out``, ``--json`` and ``--plot`` are checked before any work: none may name the input file
    (also through a symlink or hard link), a folder, or the same file as another. Each is written
    to a temporary file beside it and renamed only once all of them have been produced, so a
    failure leaves no output file behind, and never a half-written one.

Speed (``--bench``)
    ``python -m scaling fit --bench`` times the command on a generated 40-point curve with the
    defaults (target: under 5 s on a 2-core machine) and on a 100,000-point curve with ``--boot 0``
    (targets: under 30 s and 500 MB of memory) and prints the figures with the machine's load.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import outputs as _outputs
from .._progress import Progress
from ..diagnostics import bound_hits, diagnose
from ..evaluate import extrapolation_rmse, rmse_standard_error
from ..laws.paper import EPS0_MARGIN, LAWS, PAPER_LAWS, ScalingLaw, resolve_law_name

__all__ = ["CurveFileError", "UserCurve", "LawFit", "UserFit", "read_curve_csv", "prepare_curve",
           "resolve_laws", "make_law", "fit_law", "released_options", "n_fit_points", "default_at", "fit_user_curve",
           "default_workers", "check_outputs", "run_bench", "bench_curves", "MIN_POINTS",
           "DEFAULT_BOOT", "DEFAULT_LEVEL", "DEFAULT_AT_FACTORS", "ESTIMATORS", "DEFAULT_ESTIMATOR", "BOOT_SEARCHES"]

#: Fewest distinct points accepted: with fewer, neither a fit nor its check means anything.
MIN_POINTS = 5
#: Default number of bootstrap resamples (``n_boot`` / ``--boot``); 0 skips the bootstrap.
DEFAULT_BOOT = 200
#: Default coverage of the bootstrap percentile intervals (``level``), i.e. the 5th to 95th percentiles.
DEFAULT_LEVEL = 0.9
#: Default prediction points, as multiples of the largest x in the file.
DEFAULT_AT_FACTORS = (10.0, 100.0)
X_ALIASES = ("x", "n", "size", "examples", "tokens", "steps")
LOSS_ALIASES = ("loss", "error", "err", "y")
# Progress lines appear only once the bootstrap has run this long (short runs stay silent).
PROGRESS_DELAY_SECONDS = 2.0
#: How the laws are fitted (``estimator=`` / ``--estimator``); BNSL and the Chinchilla-style fit always
#: by their own fit, which already minimises a loss on the log predictions.
ESTIMATORS = {
    "sound": "M1-M4 fitted on log loss, the quantity the extrapolation is scored in (scaling.laws.sound); "
             "BNSL and Chinchilla by their own fit, which already is",
    "eq4": "the global minimum of the paper's Eq. 4/5 (ScalingLaw.fit); BNSL and Chinchilla by their own fit",
    "released": "the paper's method, an emulation of the authors' released code (M1-M4 only)",
}
#: The estimator used when none is given (``estimator=`` / ``--estimator``); a key of :data:`ESTIMATORS`.
DEFAULT_ESTIMATOR = "sound"
#: How the bootstrap refits a law: "warm" from the fit to every point, or "full" (the whole search).
BOOT_SEARCHES = ("warm", "full")


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


def make_law(name: str, eps0: float | None = None, eps0_max: float | None = None,
             estimator: str = DEFAULT_ESTIMATOR) -> ScalingLaw:
    """A new unfitted law; M4 fixes ``eps0`` when given, else learns it (up to ``eps0_max``).

    M1-M4 are set up for ``estimator`` (``"released"`` gives the Eq. 4 object that
    :func:`fit_law` then fills with the released code's fit); BNSL and Chinchilla have one fit.
    """
    name = resolve_law_name(name)
    how = {} if name not in PAPER_LAWS else {"estimator": "sound" if estimator == "sound" else "eq4"}
    if name != "M4":
        return LAWS[name](**how)
    if eps0 is not None:
        if eps0_max is not None:
            raise ValueError("give either eps0 (fixed) or eps0_max (bound of a learned eps0), not both.")
        return LAWS[name](eps0=float(eps0), learn_eps0=False, **how)
    return LAWS[name](eps0=1.0, learn_eps0=True, eps0_max=eps0_max, **how)


def n_fit_points(n: int, holdout: float) -> int:
    """How many of ``n`` points (sorted by x) are fitted: all but the largest-x fraction ``holdout``."""
    if not (isinstance(holdout, (int, float)) and 0.0 <= holdout < 1.0):
        raise ValueError(f"holdout must be a fraction with 0 <= holdout < 1, got {holdout!r}.")
    n_hold = 0 if holdout == 0 else max(1, int(round(holdout * n)))
    return n - n_hold


def default_at(x) -> np.ndarray:
    """Default prediction points: :data:`DEFAULT_AT_FACTORS` times the largest x."""
    return np.max(x) * np.asarray(DEFAULT_AT_FACTORS)


# ---------------------------------------------------------------------------------------------- estimators
class _Released:
    """Predictions as the released code makes them (M4: the best of a 10,000-point grid)."""

    estimator = "released"

    def _predict(self, x):
        from ..laws.released import predict_released

        return predict_released(self.name, self.params_, x)


_RELEASED_LAWS = {name: type(f"Released{name}", (_Released, LAWS[name]), {"__module__": __name__})
                  for name in PAPER_LAWS}


def released_options(name: str, eps0: float | None, eps0_max: float | None, max_loss: float) -> dict:
    """The released code's M4 call for a user's curve (see the module docstring); {} for M1-M3."""
    from ..laws.released import ERR_MARGIN

    if name != "M4":
        return {}
    if eps0 is not None:
        return dict(eps0=float(eps0), update_eps0=False, up_bound=None)
    top = max_loss + ERR_MARGIN
    if eps0_max is not None:
        start = min(1.0, eps0_max)
        return dict(eps0=start if start > top else 0.5 * (top + eps0_max), update_eps0=True,
                    up_bound=eps0_max - ERR_MARGIN)
    return dict(eps0=1.0 if top < 1.0 else 2.0 * max_loss, update_eps0=True, up_bound=None)


def fit_law(name: str, x, y, estimator: str = DEFAULT_ESTIMATOR, eps0: float | None = None,
            eps0_max: float | None = None) -> ScalingLaw:
    """One law fitted to (x, y) by ``estimator`` (see :data:`ESTIMATORS`); raises ValueError if it cannot be."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {list(ESTIMATORS)}, got {estimator!r}.")
    law = make_law(name, eps0, eps0_max, estimator)
    name = law.name
    if estimator == "released":
        from ..laws.released import fit_released

        if name not in PAPER_LAWS:
            raise ValueError(f"the released estimator fits only {', '.join(PAPER_LAWS)}, not {name}.")
        res = fit_released(name, x, y, **released_options(name, eps0, eps0_max, float(np.max(y))))
        out = _RELEASED_LAWS[name].__new__(_RELEASED_LAWS[name])
        out.__dict__.update(law.__dict__)
        out.params_ = {k: float(v) for k, v in res["params"].items()}
        out.loss_, out.converged_ = float(res["loss"]), bool(res["converged"])
        return out
    return law.fit(x, y)  # the law was made for the estimator: sound or Eq. 4 (BNSL, Chinchilla: their own)


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
    at ``at``; ``bound_counts`` how often each constraint was hit by a refit; ``diagnostics``
    the findings of :func:`scaling.diagnostics.diagnose` (main fit, its hold-out and intervals).

    Attributes
    ----------
    name : str
        The law's name, e.g. ``"M4"``.
    law : ScalingLaw
        The law fitted to every fitting point (the main fit).
    at : numpy.ndarray
        The x values at which the loss is predicted.
    level : float
        Coverage of the percentile intervals, in (0, 1).
    rmse : float or None
        Extrapolation RMSE of the log loss on the held-out points (Equation 6); None without a hold-out.
    se : float or None
        Standard error of ``rmse`` as the released code computes it; None without a hold-out.
    bounds_hit : list of str
        The constraints the main fit ended on, e.g. ``"c=0"`` or ``"gamma=0"``; empty when none.
    n_boot : int
        Number of bootstrap resamples drawn.
    n_failed : int
        Number of refits that failed (left out of the intervals).
    n_at_bound : int
        Number of successful refits with at least one parameter on a constraint (kept).
    bound_counts : dict of str to int
        For each constraint, the number of successful refits that ended on it.
    boot_params : pandas.DataFrame
        One row per successful refit, one column per parameter.
    boot_pred : numpy.ndarray
        Predicted loss of each successful refit at each ``at`` value, shape ``(n_ok, len(at))``.
    failure_reasons : dict of str to int
        Why refits failed: each reason with its number of refits.
    diagnostics : list of dict
        Findings of :func:`scaling.diagnostics.diagnose`, each with at least a ``code`` and a ``message``.
    estimator : str
        The estimator used for M1-M4, a key of :data:`ESTIMATORS`.
    boot_search : str
        How this law's refits ran: ``"warm"`` (started from the main fit) or ``"full"`` (the whole search).
    law_factory : callable or None
        Returns a new, unfitted law set up as the main one; used to rebuild the refits as laws.
    predictor : callable or None
        For warm refits, a function of x giving every refit's predictions at once, shape
        ``(n_ok, len(x))``; None otherwise.
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
    failure_reasons: dict[str, int] = field(default_factory=dict)
    diagnostics: list[dict] = field(default_factory=list)
    estimator: str = DEFAULT_ESTIMATOR
    boot_search: str = "warm"
    law_factory: Callable | None = field(default=None, repr=False)
    predictor: Callable | None = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, float]:
        return dict(self.law.params_)

    @property
    def n_ok(self) -> int:
        return int(self.boot_params.shape[0])

    @property
    def boot_laws(self) -> list[ScalingLaw]:
        """One fitted law per successful refit (built on first use)."""
        cached = self.__dict__.get("_boot_laws")
        if cached is None:
            cached = []
            for row in self.boot_params.to_dict("records"):
                law = self.law_factory() if self.law_factory is not None else type(self.law).from_params(**row)
                law.params_ = {k: float(v) for k, v in row.items()}
                cached.append(law)
            self.__dict__["_boot_laws"] = cached
        return cached

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
        if self.predictor is not None:
            preds = self.predictor(x)
        else:
            preds = np.array([law.predict(x) for law in self.boot_laws]).reshape(-1, x.size)
        return _percentiles(preds, self.level)


@dataclass
class UserFit:
    """The result of :func:`fit_user_curve`: the curve, the split, and one :class:`LawFit` per law.

    Attributes
    ----------
    curve : UserCurve
        The whole curve, sorted by x.
    n_fit : int
        Number of fitted points: the ``n_fit`` smallest x; the remaining ones are held out.
    holdout : float
        The fraction of points requested for the hold-out, in [0, 1).
    at : numpy.ndarray
        The x values at which every law predicts the loss.
    level : float
        Coverage of the bootstrap percentile intervals, in (0, 1).
    n_boot : int
        Number of bootstrap resamples (the same resamples for every law).
    seed : int
        Seed of the random generator that draws the resamples.
    fits : dict of str to LawFit
        The fitted laws, by name.
    skipped : dict of str to str
        The laws not fitted, by name, each with the reason.
    notes : list of str
        Remarks printed with the report (the estimator, and how M4's ``eps0`` was set).
    estimator : str
        The estimator used for M1-M4, a key of :data:`ESTIMATORS`.
    boot_search : str
        The requested bootstrap search, ``"warm"`` or ``"full"`` (each law's own is in its :class:`LawFit`).
    """

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
    estimator: str = DEFAULT_ESTIMATOR
    boot_search: str = "warm"

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
                   "boot_failed": fit.n_failed, "boot_at_bound": fit.n_at_bound,
                   "diagnostics": ", ".join(d["code"] for d in fit.diagnostics)}
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
                "converged": fit.law.converged_, "bounds_hit": fit.bounds_hit, "diagnostics": fit.diagnostics,
                "bootstrap": {"refits": fit.n_boot, "ok": fit.n_ok, "failed": fit.n_failed,
                              "at_bound": fit.n_at_bound, "bound_counts": fit.bound_counts,
                              "failure_reasons": fit.failure_reasons},
            }
        return {"source": self.curve.source, "n_points": len(self.curve), "n_fit": self.n_fit,
                "holdout": self.holdout, "level": self.level, "n_boot": self.n_boot, "seed": self.seed,
                "estimator": self.estimator, "boot_search": self.boot_search,
                "at": [float(a) for a in self.at], "laws": laws, "skipped": self.skipped, "notes": self.notes}

    def report(self) -> str:
        """The human-readable table the command prints."""
        return _format_report(self)


# ---------------------------------------------------------------------------------------------- fitting
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


def _reason(exc: Exception) -> str:
    text = str(exc)
    return "too few distinct x" if "distinct x" in text else text.split(";")[0][:60]


def _boot_task(task) -> dict:
    """Refit one law to some resamples (run in a worker process or in this one).

    ``task`` = (kind, name, spec, x, y, at, indices, main_params) with kind "warm" or "full" and
    spec = (eps0, eps0_max, estimator). Returns, per resample, the parameters (or None), the
    prediction at ``at`` (NaN when failed), the constraints hit and the failure reason (or None).
    """
    import warnings

    kind, name, spec, x, y, at, indices, main_params = task
    eps0, eps0_max, estimator = spec
    B = indices.shape[0]
    params: list = [None] * B
    reasons: list = [None] * B
    preds = np.full((B, at.size), np.nan)
    hits: list = [[] for _ in range(B)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "warm":
            from ..laws.refit import batch_predictor, bootstrap_weights, warm_refits

            law = make_law(name, eps0, eps0_max, estimator)
            law.params_ = dict(main_params)
            got, why = [], []
            step = max(1, (1 << 22) // max(1, x.size))  # weights of at most ~4M cells at a time (long curves)
            for s in range(0, B, step):
                g, w = warm_refits(law, x, y, bootstrap_weights(indices[s:s + step], x.size))
                got += g
                why += w
            ok = [b for b in range(B) if got[b] is not None]
            if ok:
                preds[ok] = batch_predictor(law, x, y, [got[b] for b in ok])(at)
            for b in range(B):
                params[b], reasons[b] = got[b], why[b]
        else:
            for b, idx in enumerate(indices):
                try:
                    refit = fit_law(name, x[idx], y[idx], estimator, eps0, eps0_max)
                    preds[b] = refit.predict(at)
                    params[b] = dict(refit.params_)
                except ValueError as exc:
                    reasons[b] = _reason(exc)
        for b, idx in enumerate(indices):
            if params[b] is None:
                continue
            if not (np.all(np.isfinite(list(params[b].values()))) and np.all(np.isfinite(preds[b]))):
                params[b], reasons[b] = None, "non-finite parameters or predictions"
                continue
            law_b = make_law(name, eps0, eps0_max, estimator)
            law_b.params_ = params[b]
            hits[b] = bound_hits(law_b, x[idx], y[idx], estimator)
    return {"params": params, "preds": preds, "hits": hits, "reasons": reasons}


def default_workers() -> int:
    """Worker processes for the bootstrap: the cores this process may use (at most 4)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def _run_tasks(tasks, workers: int, on_done):
    """Run ``_boot_task`` on every task, in ``workers`` forked processes when that can help."""
    results = [None] * len(tasks)
    import multiprocessing

    import threading

    # Forked workers: only from a process without other Python threads (a notebook kernel has some, and
    # forking them is unsafe), and only where fork exists; otherwise the tasks run here, one by one.
    use_pool = (workers > 1 and len(tasks) > 1 and "fork" in multiprocessing.get_all_start_methods()
                and threading.active_count() == 1)
    if not use_pool:
        for i, task in enumerate(tasks):
            results[i] = _boot_task(task)
            on_done(i, results[i])
        return results
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {pool.submit(_boot_task, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            on_done(i, results[i])
    return results


# Relative cost of one refit, to order and split the bootstrap's work (largest first).
_COST = {"warm": {"BNSL": 6, "M4": 3, "Chinchilla": 2}, "full": {"BNSL": 40, "M4": 20, "Chinchilla": 10}}


def _boot_kind(name: str, estimator: str, boot_search: str) -> str:
    """"warm" when the law's refits can start from its fit (sound M1-M4, BNSL, Chinchilla), else "full"."""
    if boot_search == "warm" and (estimator == "sound" or name in ("BNSL", "Chinchilla")):
        return "warm"
    return "full"


def fit_user_curve(x, loss=None, laws="all", holdout: float = 0.0, n_boot: int = DEFAULT_BOOT,
                   level: float = DEFAULT_LEVEL, seed: int = 0, at=None, eps0: float | None = None,
                   eps0_max: float | None = None, progress=None, estimator: str = DEFAULT_ESTIMATOR,
                   boot_search: str = "warm", workers: int | None = None) -> UserFit:
    """Fit laws to a learning curve, score them on a held-out tail and bootstrap their uncertainty.

    ``x`` is a :class:`UserCurve` (then ``loss`` is None) or an array with ``loss`` beside it.
    ``laws``: ``"all"`` (every registered law), one name or a comma list / sequence of names.
    With ``"all"``, a law with more parameters than fitted points is skipped (see ``skipped``);
    a law named explicitly raises instead. ``estimator``: one of :data:`ESTIMATORS` (default
    ``"sound"``). ``boot_search``: ``"warm"`` or ``"full"`` (see the module docstring).
    ``workers``: processes for the bootstrap (default :func:`default_workers`). ``progress``: a
    stream (e.g. ``sys.stderr``) for a progress line when the bootstrap takes more than two seconds.
    """
    curve = x if isinstance(x, UserCurve) else prepare_curve(x, loss)
    if isinstance(x, UserCurve) and loss is not None:
        raise ValueError("pass either a UserCurve or the arrays x and loss, not both.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot (--boot) must be a whole number >= 0, got {n_boot!r}.")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must lie strictly between 0 and 1 (e.g. 0.9), got {level!r}.")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {list(ESTIMATORS)}, got {estimator!r}.")
    if boot_search not in BOOT_SEARCHES:
        raise ValueError(f"boot_search must be one of {list(BOOT_SEARCHES)}, got {boot_search!r}.")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}.")
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
    spec = (eps0, eps0_max, estimator)

    def factory(name):
        return lambda: make_law(name, eps0=eps0, eps0_max=eps0_max, estimator=estimator)

    skipped, chosen = {}, []
    for name in names:
        if estimator == "released" and name not in PAPER_LAWS:
            why = f"{name}: the released estimator fits only {', '.join(PAPER_LAWS)}"
            if explicit:
                raise ValueError(why + "; drop it from --law or use --estimator sound or eq4.")
            skipped[name] = why
            continue
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

    notes = [_eps0_note(estimator, eps0, eps0_max, float(y_fit.max()))] if "M4" in chosen else []
    notes.append(f"estimator: {estimator} ({ESTIMATORS[estimator]}).")

    fits, mains = {}, {}
    for name in chosen:
        try:
            with np.errstate(all="ignore"):
                law = fit_law(name, x_fit, y_fit, estimator, eps0, eps0_max)
        except ValueError as exc:
            text = str(exc) if str(exc).startswith(f"{name} cannot be fitted") else f"{name} could not be fitted: {exc}"
            if explicit:
                raise ValueError(text) from None
            skipped[name] = text
            continue
        mains[name] = law
    if not mains:
        raise ValueError("no law could be fitted: " + "; ".join(skipped.values()) + ".")

    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_fit, size=(n_boot, n_fit))  # the same resamples for every law: paired
    tasks, owners = [], []
    for name, law in mains.items():
        kind = _boot_kind(name, estimator, boot_search)
        parts = max(1, min(n_boot, workers if kind == "warm" else 4 * workers)) if n_boot else 0
        for chunk in np.array_split(np.arange(n_boot), parts) if parts else []:
            tasks.append((kind, name, spec, x_fit, y_fit, at, indices[chunk], dict(law.params_)))
            owners.append((name, chunk))
    order = sorted(range(len(tasks)), key=lambda i: -_COST[tasks[i][0]].get(tasks[i][1], 1) * len(owners[i][1]))
    tasks, owners = [tasks[i] for i in order], [owners[i] for i in order]
    meter = Progress(n_boot * len(mains), "bootstrap", progress, enabled=progress is not None, unit="refits",
                     delay=PROGRESS_DELAY_SECONDS)

    def on_done(i, result):
        meter.update(len(owners[i][1]), note=owners[i][0])

    with meter:
        results = _run_tasks(tasks, workers, on_done)
    per_law = {name: [None] * n_boot for name in mains}
    for (name, chunk), result in zip(owners, results):
        for j, b in enumerate(chunk):
            per_law[name][b] = (result["params"][j], result["preds"][j], result["hits"][j], result["reasons"][j])

    for name, law in mains.items():
        rmse = se = None
        if x_test.size:
            pred = law.predict(x_test)
            rmse, se = extrapolation_rmse(y_test, pred), rmse_standard_error(y_test, pred)
        params, preds, bound_counts, reasons = [], [], {}, {}
        n_at_bound = 0
        for p, pr, hit, why in per_law[name]:
            if p is None:
                reasons[why] = reasons.get(why, 0) + 1
                continue
            params.append(p)
            preds.append(pr)
            n_at_bound += bool(hit)
            for h in hit:
                bound_counts[h] = bound_counts.get(h, 0) + 1
        boot_params = pd.DataFrame(params, columns=list(law.params_))
        boot_pred = np.array(preds).reshape(-1, at.size)
        kind = _boot_kind(name, estimator, boot_search)
        predictor = None
        if kind == "warm" and params:
            from ..laws.refit import batch_predictor

            predictor = batch_predictor(law, x_fit, y_fit, params)
        fit = LawFit(name, law, at, level, rmse, se, bound_hits(law, x_fit, y_fit, _diag_estimator(estimator)),
                     n_boot, n_boot - len(params), n_at_bound, bound_counts, boot_params, boot_pred, reasons,
                     estimator=estimator, boot_search=kind, law_factory=_law_factory(name, eps0, eps0_max, estimator),
                     predictor=predictor)
        fit.diagnostics = diagnose(law, x_fit, y_fit, x_test, y_test, _intervals(fit) if n_boot else None,
                                   estimator=_diag_estimator(estimator))
        fits[name] = fit
    return UserFit(curve, n_fit, float(holdout), at, float(level), int(n_boot), int(seed), fits, skipped, notes,
                   estimator, boot_search)


def _diag_estimator(estimator: str) -> str:
    return "sound" if estimator == "sound" else "eq4"


def _law_factory(name, eps0, eps0_max, estimator):
    if estimator == "released":
        def make():
            law = make_law(name, eps0, eps0_max, estimator)
            out = _RELEASED_LAWS[law.name].__new__(_RELEASED_LAWS[law.name])
            out.__dict__.update(law.__dict__)
            return out
        return make
    return lambda: make_law(name, eps0, eps0_max, estimator)


# Parameters whose bootstrap spread follows from the others' (a coefficient in x's units): not judged.
_SCALE_PARAMS = ("beta", "b")


def _intervals(fit: LawFit) -> dict:
    """The intervals :func:`diagnose` judges: every parameter but the coefficients, and the predictions."""
    table = fit.parameter_table()
    out = {name: (r.lower, r.upper) for name, r in table.iterrows() if name not in _SCALE_PARAMS}
    for r in fit.prediction_table().itertuples():
        out[f"loss @ {r.x:.3g}"] = (r.lower, r.upper)
    return out


def _eps0_note(estimator, eps0, eps0_max, max_loss) -> str:
    if eps0 is not None:
        return f"M4: eps0 fixed at {eps0:g}."
    if estimator == "sound":
        from ..laws.sound import EPS0_REL_MARGIN, EPS0_REL_MAX

        hi = eps0_max if eps0_max is not None else (1 + EPS0_REL_MAX) * max_loss
        return (f"M4: eps0 (the loss of random guessing) is learned between (1 + {EPS0_REL_MARGIN:g}) x max(loss) "
                f"and {hi:g}; pass --eps0 VALUE to fix it, e.g. 1 for an error rate.")
    if estimator == "released":
        start = released_options("M4", None, eps0_max, max_loss)["eps0"]
        return (f"M4: eps0 starts at {start:g} and is learned by the released code's walk"
                + (f", up to {eps0_max:g}" if eps0_max is not None else "") + "; pass --eps0 VALUE to fix it.")
    hi = eps0_max if eps0_max is not None else 10 * max(1.0, max_loss)
    return (f"M4: eps0 (the loss of random guessing) is learned between max(loss) + {EPS0_MARGIN:g} "
            f"and {hi:g}; pass --eps0 VALUE to fix it, e.g. 1 for an error rate.")


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
        how = ("each refit warm-started from the fit where the estimator allows it"
               if res.boot_search == "warm" else "each refit a full search")
        out.append(f"Bootstrap: {res.n_boot} resamples of the fitted points (seed {res.seed}; {how}), {pct} "
                   "percentile intervals; they reflect noise in the points, not whether the law has the right shape.")
    else:
        out.append("No bootstrap (--boot 0): no intervals.")
    out += res.notes
    for name, why in res.skipped.items():
        out.append(f"skipped {why.rstrip('.')}.")
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
        if fit.diagnostics:
            out.append("  diagnostics:")
            out += [f"    {d['code']}: {d['message']}" for d in fit.diagnostics]
        else:
            out.append("  diagnostics: none")
    if len(res.fits) > 1:
        out.append("")
        out.append("Summary")
        head = f"  {'law':<11}{'holdout RMSE':>20}" + "".join(f"{'loss @ ' + format(a, '.3g'):>30}" for a in res.at)
        out.append(head + "   diagnostics")
        for name, fit in res.fits.items():
            score = "n/a" if fit.rmse is None else f"{fit.rmse:.3g} ± {fit.se:.2g}"
            cells = "".join(f"  {f'{r.estimate:.4g} ' + _interval(r.lower, r.upper):>28}"
                            for r in fit.prediction_table().itertuples())
            codes = ", ".join(dict.fromkeys(d["code"] for d in fit.diagnostics)) or "-"
            out.append(f"  {name:<11}{score:>20}{cells}   {codes}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- command
#: The command's name (its options are parsed in :func:`scaling.cli.fit`).
PROG = "python -m scaling fit"


# ---------------------------------------------------------------------------------------------- output files
_PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp", "pgf", "raw", "rgba",
                 "svgz")


def check_outputs(outputs: dict[str, Path], inputs: list[Path]) -> str | None:
    """Why the requested output files cannot be written (checked before any work), or None:
    :func:`scaling.outputs.check_outputs`, and a plot whose extension names no image format."""
    problem = _outputs.check_outputs(outputs, inputs)
    if problem:
        return problem
    if "--plot" in outputs:
        ext = outputs["--plot"].suffix.lower().lstrip(".")
        if ext not in _PLOT_FORMATS:
            return (f"could not write --plot {outputs['--plot']}: unknown image format {ext!r} (from the file "
                    "extension); use .png, .pdf or .svg.")
    return None


# ---------------------------------------------------------------------------------------------- benchmark
#: The targets ``--bench`` prints its figures against: (seconds, megabytes or None).
BENCH_TARGETS = {"curve40": (5.0, None), "curve1e5": (30.0, 500.0)}


def bench_curves(folder: Path) -> dict[str, Path]:
    """Write the two benchmark curves (seeded): 40 points of an M2-shaped loss with 1% noise over three
    decades, and 100,000 points of another over six decades. Returns name -> path."""
    rng = np.random.default_rng(2022)
    x = np.geomspace(1e6, 1e9, 40)
    y = (2.1 + 400.0 * x ** -0.3) * np.exp(rng.normal(0.0, 0.01, x.size))
    big_x = np.geomspace(1e3, 1e9, 100_000)
    big_y = (0.2 + 3.0 * big_x ** -0.25) * np.exp(rng.normal(0.0, 0.01, big_x.size))
    paths = {"curve40": folder / "curve40.csv", "curve1e5": folder / "curve1e5.csv"}
    for (name, path), (xs, ys) in zip(paths.items(), [(x, y), (big_x, big_y)]):
        with open(path, "w") as f:
            f.write("x,loss\n")
            f.writelines(f"{a:.12g},{b:.10g}\n" for a, b in zip(xs, ys))
    return paths


def _measure(cmd: list[str]) -> dict:
    """Run ``cmd``; wall seconds, CPU seconds and peak memory (MB) of the child, and its exit code."""
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux (bytes on macOS); the children of the child count too
    scale = 1.0 / 1024 if sys.platform != "darwin" else 1.0 / 1024**2
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss * scale,
            "code": proc.returncode, "stderr": err.strip()}


def run_bench(estimator: str = DEFAULT_ESTIMATOR, workers: int | None = None, stream=None) -> int:
    """Time ``python -m scaling fit`` on :func:`bench_curves` and print the figures beside the targets.

    The targets are printed, never asserted: the machine may be busy (its load average is printed
    too). Returns 0, or 1 when a run failed.
    """
    stream = stream or sys.stdout
    cores = default_workers()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"{PROG} --bench: estimator {estimator}, {workers or cores} worker(s); this machine: "
          f"{os.cpu_count()} core(s), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=stream)
    extra = ["--estimator", estimator] + (["--workers", str(workers)] if workers else [])
    failed = False
    with tempfile.TemporaryDirectory(prefix="scaling_fit_bench_") as folder:
        paths = bench_curves(Path(folder))
        runs = [("curve40", "40 points, defaults (6 laws, 200 bootstrap refits)", []),
                ("curve1e5", "100,000 points, --boot 0", ["--boot", "0"])]
        for key, label, args in runs:
            cmd = [sys.executable, "-m", "scaling", "fit", str(paths[key]), "--quiet", *extra, *args]
            m = _measure(cmd)
            seconds, megabytes = BENCH_TARGETS[key]
            verdict = [f"{m['wall']:.1f} s (target < {seconds:g} s: {'met' if m['wall'] < seconds else 'missed'})"]
            verdict.append(f"CPU {m['cpu']:.1f} s")
            mem = f"peak {m['peak_mb']:.0f} MB"
            if megabytes is not None:
                mem += f" (target < {megabytes:g} MB: {'met' if m['peak_mb'] < megabytes else 'missed'})"
            verdict.append(mem)
            print(f"  {label}: " + ", ".join(verdict), file=stream)
            if m["code"] != 0:
                failed = True
                print(f"    the run failed (exit {m['code']}): {m['stderr'][-500:]}", file=stream)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"  load average afterwards {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (wall times grow with it; the "
          "CPU times do not)", file=stream)
    return 1 if failed else 0
