"""The four scaling-law function classes M1-M4 and their estimators.

Conventions (the exponent ``c`` is negative for every law, M3 included):

* M1: ``loss = beta * x**c``
* M2: ``loss = eps_inf + beta * x**c``
* M3: ``loss = beta * (1/x + gamma)**(-c)``
* M4: ``(loss - eps_inf) / (eps0 - loss)**alpha = beta * x**c``

Two estimators, chosen by each law's ``estimator`` argument:

* ``"sound"`` (the default): the squared error of the predicted *log loss*, the
  quantity extrapolation is scored in (:mod:`scaling.laws.sound`; scale-invariant).
* ``"eq4"``: the global minimum of the paper's stated squared-log loss (Eq. 4
  for M1, M2 and M4, Eq. 5 for M3), or with ``search="local"`` a descent from the
  released code's starting point.  Its minimum often sits at ``eps_inf = 0``
  (M2 and M4 collapse to a power law); the book studies that as a finding.

For M1 and M3 the two coincide (their predictions are explicit in log space).
Both respect the paper's constraints: ``beta > 0``, ``c <= 0``,
``0 <= eps_inf < min(loss)``, ``gamma >= 0``, ``alpha >= 0`` and ``eps0`` above
the largest loss.  The paper's method itself, the authors' released code, is
emulated exactly by :mod:`scaling.laws.released`.

How the Eq. 4 solver works.  Once the *nonlinear* parameters are fixed (``eps_inf``

for M2; ``gamma`` for M3; ``eps_inf`` and possibly ``eps0`` for M4), the loss is
an ordinary least-squares problem in ``log beta``, ``c`` and ``alpha``, solved
exactly with the sign constraints (:mod:`scaling.laws._lstsq`).  That leaves a
"profile" loss of one or two variables.  We evaluate it on a grid (vectorised,
a few hundred points), then polish the best few local minima with a bounded
SciPy optimiser.  The grid makes the result independent of a starting point;
the polish makes it precise.  A fit takes milliseconds, where the released
code's gradient descent (learning rate 1e-8, 100 x 1000 steps, then Newton
steps) takes seconds to tens of seconds.

M4 defines the loss only implicitly.  :meth:`M4.predict` solves the monotone
equation ``w = f (b - w)**alpha`` (``w = loss - eps_inf``, ``b = eps0 - eps_inf``,
``f = beta x**c``) with a vectorised bracketing root finder, in a logit
parameterisation that stays exact for tiny and huge ``f`` alike.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import optimize
from scipy.optimize import elementwise

from .._checks import as_positive_array, check_curve
# The paper's four laws (the catalogue's): the default of every benchmark run, so the paper's chapters
# stay as they were when later laws (BNSL, Chinchilla) are registered.
from ..benchmark.catalogue import PAPER_LAWS
from ._lstsq import fit_nonneg_slopes
from .search import local_minima
from .._threads import single_threaded_blas

__all__ = ["ScalingLaw", "M1", "M2", "M3", "M4", "LAWS", "PAPER_LAWS", "law_for_domain", "register_law",
           "resolve_law_name", "FIT_ESTIMATORS"]

# How close the searched parameters may come to the data: eps_inf stays below
# min(loss) by at least this fraction of it, so log(loss - eps_inf) is finite.
_GAP_FLOOR = 1e-9
#: A learned eps0 stays at least this far above the largest loss (the released
#: code's ERR_MARGIN), so log(eps0 - loss) is finite.
EPS0_MARGIN = 1e-3
_GRID_1D = 64
_GRID_2D = (40, 14)
_N_POLISH = 3
# Below this alpha, M4 *is* M2 (the root finder's bracket would be astronomic).
_ALPHA_ZERO = 1e-12
# Batched profiles are evaluated in chunks of at most this many (candidates x points) cells, so that a
# grid over a long curve never allocates grid x n arrays (a 1e5-point M4 fit once peaked at 4.5 GB).
_CHUNK_CELLS = 1 << 18
# |log beta| beyond this cannot be represented (exp overflows or underflows): not a candidate.
_LOG_COEF_MAX = 700.0


def _in_chunks(fn, n_points: int, *rows):
    """``fn(*rows)`` for row arrays of one length G, evaluated on chunks of rows; outputs concatenated."""
    G = len(rows[0])
    step = max(1, _CHUNK_CELLS // max(int(n_points), 1))
    if G <= step:
        return fn(*rows)
    parts = [fn(*(r[s:s + step] for r in rows)) for s in range(0, G, step)]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))


def _no_candidate(law: str, why: str) -> ValueError:
    return ValueError(f"{law} cannot be fitted to this curve: {why}")


def nonfinite_params_error(law: str, params: dict, x, y) -> ValueError | None:
    """The error for a fit whose parameters are not all finite numbers (None when they are).

    Names the real cause: a coefficient (beta, b) carries the units of ``x^-c`` and of the loss, so a
    curve far from 1 in x or in loss can need one beyond floating point.
    """
    bad = [k for k, v in params.items() if not np.isfinite(v)]
    if not bad:
        return None
    x, y = np.asarray(x, float), np.asarray(y, float)
    what = ", ".join(f"{k} = {params[k]}" for k in bad)
    return _no_candidate(law, f"the fitted {what} is not a finite number (x from {x.min():.3g} to {x.max():.3g}, "
                              f"loss from {y.min():.3g} to {y.max():.3g}; a coefficient carries the units of x^-c and of "
                              "the loss); rescale x or the loss (e.g. divide x by its largest value).")


class ScalingLaw:
    """Common interface: ``fit(x, loss)`` returns the law, then ``predict(x)``.

    After fitting, ``params_`` holds the parameters, ``loss_`` the training
    loss (mean squared log residual, Eq. 4/5) and ``converged_`` whether every
    polishing run of the optimiser reported success.
    """

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.start: dict[str, float] | None = None
        self.params_: dict[str, float] | None = None
        self.loss_: float | None = None
        self.converged_: bool | None = None

    # -- public API -----------------------------------------------------
    @property
    def n_params(self) -> int:
        """Number of parameters that the fit estimates."""
        return len(self.param_names)

    def fit(self, x, loss):
        """Fit the law to a learning curve; returns ``self``."""
        if getattr(self, "estimator", None) == "sound":
            from .sound import fit_sound

            self._check_sound_input(check_curve(x, loss, self.n_params, self.name)[1])
            return fit_sound(self, x, loss)
        x, y = check_curve(x, loss, self.n_params, self.name)
        self._check_loss_range(y)
        with single_threaded_blas(), np.errstate(over="ignore"):
            params, converged = self.minimise(x, y)
        params = {k: float(v) for k, v in params.items()}
        error = nonfinite_params_error(self.name, params, x, y)
        if error is not None:
            raise error
        self.params_ = params
        self.loss_ = float(self.training_loss(x, y))
        self.converged_ = bool(converged)
        return self

    def predict(self, x) -> np.ndarray:
        """Predicted loss at ``x`` (> 0); always finite."""
        self._require_fitted()
        x = as_positive_array(x, "x")
        return self._predict(x)

    @classmethod
    def from_params(cls, **params):
        """A law with the given parameters, ready to ``predict`` (no fitting)."""
        law = cls._from_params_init(params)
        missing = [p for p in cls.all_param_names() if p not in params]
        extra = [p for p in params if p not in cls.all_param_names()]
        if missing or extra:
            raise ValueError(
                f"{cls.name}.from_params needs exactly {cls.all_param_names()}; "
                f"missing {missing}, unexpected {extra}."
            )
        law.params_ = {k: float(params[k]) for k in cls.all_param_names()}
        law._check_params(law.params_)
        return law

    @property
    def searched_params(self) -> tuple[str, ...]:
        """The parameters the optimiser searches; the others are solved exactly given these.

        A ``start`` (constructor argument) gives a value for each of them.
        """
        return ()

    def random_start(self, x, loss, rng) -> dict[str, float]:
        """A random feasible starting point for :attr:`searched_params` on this curve.

        For studying how much a single local descent depends on where it
        starts: ``type(law)(..., start=law.random_start(x, loss, rng))``.
        ``rng`` is a :class:`numpy.random.Generator`.
        """
        x, y = check_curve(x, loss, self.n_params, self.name)
        return self._random_start(x, y, rng)

    @property
    def objective_(self) -> float:
        """The value the fit minimised: the training loss ``loss_``, unless a law minimises
        something else (the Chinchilla-style fit minimises a Huber loss)."""
        self._require_fitted()
        return self.loss_

    @property
    def c_(self) -> float:
        """The fitted scaling exponent (negative)."""
        self._require_fitted()
        return self.params_["c"]

    def training_loss(self, x, loss) -> float:
        """The paper's squared-log loss (Eq. 4, or Eq. 5 for M3) at the current parameters."""
        self._require_fitted()
        x = as_positive_array(x, "x")
        y = as_positive_array(loss, "loss")
        with np.errstate(invalid="ignore", divide="ignore"):
            r = self._log_residual(x, y)
        if not np.all(np.isfinite(r)):
            raise ValueError(self._range_message())
        return float(np.mean(r**2))

    def __repr__(self) -> str:
        if self.params_ is None:
            return f"{type(self).__name__}({self._settings_repr()}) [not fitted]"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({ps})"

    @classmethod
    def all_param_names(cls) -> tuple[str, ...]:
        """Every parameter a fitted law of this class reports (``param_names`` plus any fixed ones)."""
        return cls.param_names

    # -- hooks for subclasses ---------------------------------------------
    @classmethod
    def _from_params_init(cls, params):
        return cls()

    def _settings_repr(self) -> str:
        return ""

    def _range_message(self) -> str:
        """Why the log residual is undefined at some point (the laws with a plateau or eps0 say which)."""
        bad = [k for k, v in self.params_.items() if not np.isfinite(v)]
        if bad:
            return (f"this {self.name} fit has non-finite parameter(s) {', '.join(bad)} "
                    f"({', '.join(f'{k}={self.params_[k]}' for k in bad)}), so its log loss is undefined.")
        return (f"this {self.name} fit predicts a loss of 0 or inf at some points (outside what floating point "
                "represents), so its log loss is undefined there.")

    def _check_loss_range(self, y: np.ndarray) -> None:
        pass

    def _check_sound_input(self, y: np.ndarray) -> None:
        """The checks of :meth:`_check_loss_range` that the sound fit shares (its eps0 bounds differ)."""

    def _set_start(self, start) -> None:
        """Validate a user's ``start`` (a dict with one finite number per searched parameter)."""
        if start is None:
            self.start = None
            return
        if not isinstance(start, dict):
            raise ValueError(f"start must be a dict of {self.searched_params}, got {type(start).__name__}.")
        if set(start) != set(self.searched_params):
            raise ValueError(f"{self.name} start needs exactly the searched parameters {self.searched_params}, "
                             f"got {sorted(start)}.")
        try:
            values = {k: float(start[k]) for k in self.searched_params}
        except (TypeError, ValueError):
            raise ValueError(f"start values must be numbers, got {start}.") from None
        if not all(np.isfinite(v) for v in values.values()):
            raise ValueError(f"start values must be finite, got {start}.")
        self.start = values

    def _random_start(self, x, y, rng) -> dict[str, float]:
        return {}

    def _check_params(self, p: dict) -> None:
        if p["beta"] <= 0 or p["c"] > 0:
            raise ValueError(f"{self.name} needs beta > 0 and c <= 0, got beta={p['beta']}, c={p['c']}.")

    def _require_fitted(self) -> None:
        if self.params_ is None:
            raise RuntimeError(f"This {self.name} law is not fitted yet: call fit(x, loss) or use from_params().")

    def minimise(self, x, y):  # pragma: no cover - abstract
        """Minimise the law's own loss (Eq. 4/5 for M1-M4) on checked arrays ``x``, ``y``; returns
        ``(params, converged)``. :meth:`fit` calls it under ``estimator="eq4"``; the sound
        estimator calls it for M1 and M3, whose Eq. 4/5 *is* the sound loss."""
        raise NotImplementedError

    def _predict(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_residual(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError


# ---------------------------------------------------------------------------
class M1(ScalingLaw):
    """Pure power law, ``loss = beta x^c``: ordinary least squares of log loss on log x."""

    name = "M1"
    param_names = ("beta", "c")

    def __init__(self, estimator: str | None = None, start: dict | None = None) -> None:
        super().__init__()
        # The sound fit and Eq. 4 coincide for M1 (ordinary least squares on log loss).
        self.estimator, _ = _choose_estimator(estimator, None, start)
        self._set_start(start)  # M1 has a closed form: nothing is searched, so only {} is accepted

    def _settings_repr(self):
        return f"estimator={self.estimator!r}"

    def minimise(self, x, y):
        a, k, _ = fit_nonneg_slopes(-np.log(x)[:, None], np.log(y), (True,))
        return {"beta": np.exp(a[0]), "c": -k[0, 0]}, True

    def _predict(self, x):
        p = self.params_
        return np.exp(np.minimum(np.log(p["beta"]) + p["c"] * np.log(x), 709.0))

    def _log_residual(self, x, y):
        p = self.params_
        return np.log(y) - np.log(p["beta"]) - p["c"] * np.log(x)


# ---------------------------------------------------------------------------
def _gap_grid(min_y: float, n: int) -> np.ndarray:
    """Grid over s = log(min_y - eps_inf): from eps_inf = 0 up to just below min_y."""
    return np.linspace(np.log(min_y * _GAP_FLOOR), np.log(min_y), n)


def _polish_1d(profile, grid, values):
    """Refine the best local minima of a 1-D profile with bounded Brent searches."""
    best_s, best_v, ok = None, np.inf, True
    lo_all, hi_all = grid[0], grid[-1]
    step = grid[1] - grid[0]
    for (i,) in local_minima(values, _N_POLISH):
        lo, hi = max(grid[i] - step, lo_all), min(grid[i] + step, hi_all)
        res = optimize.minimize_scalar(profile, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-10 * max(1.0, abs(grid[i]))})
        s, v = (res.x, res.fun) if res.fun <= values[i] else (grid[i], values[i])
        if v < best_v:
            best_s, best_v, ok = s, v, bool(res.success)
    return best_s, best_v, ok


SEARCHES = ("global", "local")
# The released code starts eps_inf this far below the smallest loss.
_RELEASED_GAP = 1e-3


def _check_search(search: str) -> str:
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {SEARCHES}, got {search!r}.")
    return search


def _estimator_repr(law) -> str:
    return f"estimator={law.estimator!r}" + (f", search={law.search!r}" if law.estimator == "eq4" else "")


#: How M1-M4 are fitted: ``"sound"`` on log loss (:mod:`scaling.laws.sound`, the default), ``"eq4"`` the
#: global minimum of the paper's stated loss, Equation 4/5.  The released code's method is
#: :mod:`scaling.laws.released`.
FIT_ESTIMATORS = ("sound", "eq4")


def _choose_estimator(estimator: str | None, search: str | None, start) -> tuple[str, str]:
    """``(estimator, search)`` from a law's arguments.

    ``search`` and ``start`` steer the Eq. 4 minimisation, so giving either selects ``"eq4"``;
    with neither, the default is ``"sound"``.
    """
    steered = search is not None or start is not None
    if estimator is None:
        estimator = "eq4" if steered else "sound"
    if estimator not in FIT_ESTIMATORS:
        raise ValueError(f"estimator must be one of {FIT_ESTIMATORS}, got {estimator!r}.")
    if estimator == "sound" and steered:
        raise ValueError("search= and start= steer the Eq. 4 minimisation; pass estimator='eq4' with them, "
                         "or drop them for the sound fit.")
    return estimator, _check_search("global" if search is None else search)


def _descend(profile, z0, bounds):
    """Bounded quasi-Newton polish from ``z0`` (used from grid minima, where a long step is harmless).

    Where beta cannot be represented the profile is inf; a finite difference across that wall is
    NaN and L-BFGS-B steps back, so numpy's warnings about it are silenced.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        res = optimize.minimize(profile, x0=np.asarray(z0, float), method="L-BFGS-B", bounds=bounds,
                                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000})
    return res.x, res.fun, bool(res.success or res.status == 2)


# A local descent from a start moves at most this far per step (in the searched log coordinates, where
# the whole band is ~20 units wide), so it follows the valley it starts in instead of leaping out of it.
_WALK_MAX_STEP = 0.25
_WALK_MIN_STEP = 1e-3
_WALK_MAX_MOVES = 5000


def _walk_downhill(batch_profile, z0, bounds):
    """A single local descent from ``z0`` that stays in the valley where it starts.

    A compass search: from the current point, evaluate the ``3**d - 1`` neighbours at distance ``h``
    (one vectorised call of ``batch_profile``, which maps an ``(m, d)`` array to ``m`` losses) and
    move to the best one if it is lower *and* the loss does not rise anywhere on a few checkpoints
    of the way there (so a step cannot hop over a low ridge into the next valley).  A move doubles
    ``h`` (up to ``_WALK_MAX_STEP``), a failure quarters it; the walk stops below
    ``_WALK_MIN_STEP`` and is polished inside its last neighbourhood.  Like the released code's
    small gradient steps, and unlike a quasi-Newton run whose first step can land in a distant
    valley, it ends in the minimum that is downhill of the start.
    """
    lo = np.array([b[0] for b in bounds], float)
    hi = np.array([b[1] for b in bounds], float)
    z = np.clip(np.asarray(z0, float), lo, hi)
    d = z.size
    offsets = np.array(np.meshgrid(*[(-1.0, 0.0, 1.0)] * d, indexing="ij")).reshape(d, -1).T
    offsets = offsets[np.any(offsets != 0, axis=1)]
    checkpoints = np.array([0.2, 0.4, 0.6, 0.8])[:, None]
    f, h = batch_profile(z[None, :])[0], _WALK_MAX_STEP / 4
    for _ in range(_WALK_MAX_MOVES):
        trial = np.clip(z + h * offsets, lo, hi)
        values = batch_profile(trial)
        j = int(np.argmin(np.where(np.isfinite(values), values, np.inf)))
        moved = False
        if values[j] < f:
            path = batch_profile(z + checkpoints * (trial[j] - z))
            if np.all(np.isfinite(path)) and path.max() <= f:
                z, f, h, moved = trial[j], values[j], min(2 * h, _WALK_MAX_STEP), True
        if not moved:
            if h <= _WALK_MIN_STEP:
                break
            h /= 4

    def scalar(v):
        return batch_profile(np.asarray(v, float)[None, :])[0]

    near = [(max(a, zi - h), min(b, zi + h)) for zi, a, b in zip(z, lo, hi)]
    z2, f2, ok = _descend(scalar, z, near)
    return (z2, f2, ok) if f2 <= f else (z, f, ok)


def _gap_start(eps_inf: float, min_y: float, grid: np.ndarray) -> float:
    """s = log(min_y - eps_inf) for a user's starting eps_inf, kept inside the searched band."""
    if not 0.0 <= eps_inf < min_y:
        raise ValueError(f"a starting eps_inf must satisfy 0 <= eps_inf < min(loss) = {min_y:g}, got {eps_inf:g}.")
    return float(np.clip(np.log(min_y - eps_inf), grid[0], grid[-1]))


def _released_start(min_y: float, grid: np.ndarray) -> float:
    """s = log(min_y - eps_inf) at the released code's initial eps_inf = min(loss) - 1e-3."""
    return float(np.clip(np.log(min(_RELEASED_GAP, min_y)), grid[0], grid[-1]))


def _search_gap(law, batch, grid, values, min_y):
    """``(s, converged)`` for ``s = log(min_y - eps_inf)``, the one searched parameter of M2 (and of M4
    with eps0 fixed): the best grid minima of ``values`` polished (``search="global"``), or one descent
    from the released code's start or the user's ``start``. ``batch`` maps an ``(m, 1)`` array of s
    to ``m`` profile losses."""
    if law.search == "global" and law.start is None:
        s, _, ok = _polish_1d(lambda v: batch(np.array([[np.ravel(v)[0]]]))[0], grid, values)
        return s, ok
    s0 = (_released_start(min_y, grid) if law.start is None
          else _gap_start(law.start["eps_inf"], min_y, grid))
    z, _, ok = _walk_downhill(batch, [s0], [(grid[0], grid[-1])])
    return z[0], ok


class M2(ScalingLaw):
    """Power law in the excess loss, ``loss = eps_inf + beta x^c``.

    ``estimator="sound"`` (the default) fits on log loss (:mod:`scaling.laws.sound`).
    ``estimator="eq4"`` minimises the paper's Eq. 4 instead: ``search="global"``
    (its default) finds the best ``eps_inf`` on the whole interval
    ``[0, min(loss))``; ``search="local"`` descends from the released code's
    starting point ``eps_inf = min(loss) - 1e-3`` to a local minimum, as the
    released gradient descent does.  Passing ``search`` or ``start`` selects
    ``"eq4"``.

    ``c`` fixes the exponent (``beta`` and ``eps_inf`` are still fitted), as
    in the paper's Figure 3, where the exponent is swept by hand.
    """

    name = "M2"
    param_names = ("beta", "c", "eps_inf")

    def __init__(self, estimator: str | None = None, search: str | None = None, c: float | None = None,
                 start: dict | None = None) -> None:
        super().__init__()
        self.estimator, self.search = _choose_estimator(estimator, search, start)
        if c is not None and (not np.isfinite(c) or c > 0):
            raise ValueError(f"a fixed exponent c must be a finite number <= 0, got {c}.")
        self.c = None if c is None else float(c)
        self._set_start(start)

    @property
    def searched_params(self):
        return ("eps_inf",)

    def _random_start(self, x, y, rng):
        return {"eps_inf": float(rng.uniform(0.0, y.min()))}

    @property
    def n_params(self) -> int:
        return 3 if self.c is None else 2

    def _settings_repr(self):
        return _estimator_repr(self) + ("" if self.c is None else f", c={self.c:g}")

    def profile(self, x, loss, eps_inf) -> np.ndarray:
        """Profile loss: the best Eq. 4 loss for each given ``eps_inf`` (array), beta and c solved exactly."""
        x, y = check_curve(x, loss, self.n_params, self.name)
        e = np.atleast_1d(np.asarray(eps_inf, dtype=float))
        if np.any(e >= y.min()) or np.any(e < 0):
            raise ValueError("eps_inf must satisfy 0 <= eps_inf < min(loss).")
        return self.profile_log_x(np.log(x), y, e)[2]

    def profile_log_x(self, logx, y, e):
        return _in_chunks(lambda ee: self._profile_e_rows(logx, y, ee), logx.size, e)

    def _profile_e_rows(self, logx, y, e):
        b = np.log(y[None, :] - e[:, None])
        if self.c is not None:  # only log(beta) is left: the mean of log(y - eps_inf) - c log x
            a, _, mse = fit_nonneg_slopes(np.empty((logx.size, 0)), b - self.c * logx, ())
            return a, np.full((e.size, 1), -self.c), mse
        return fit_nonneg_slopes(-logx[:, None], b, (True,))

    def minimise(self, x, y):
        logx, min_y = np.log(x), y.min()
        grid = _gap_grid(min_y, _GRID_1D)
        values = self.profile_log_x(logx, y, min_y - np.exp(grid))[2]

        def batch(z):
            return self.profile_log_x(logx, y, min_y - np.exp(z[:, 0]))[2]

        s, ok = _search_gap(self, batch, grid, values, min_y)
        e = max(min_y - np.exp(s), 0.0)
        a, k, _ = self.profile_log_x(logx, y, np.array([e]))
        return {"beta": np.exp(a[0]), "c": -k[0, 0], "eps_inf": e}, ok

    def _check_params(self, p):
        super()._check_params(p)
        if p["eps_inf"] < 0:
            raise ValueError(f"M2 needs eps_inf >= 0, got {p['eps_inf']}.")

    def _range_message(self):
        return (f"some losses lie outside this M2 fit's range (at or below eps_inf = {self.params_['eps_inf']:g}), "
                "so log(loss - eps_inf) is undefined there.")

    def _predict(self, x):
        p = self.params_
        return p["eps_inf"] + np.exp(np.minimum(np.log(p["beta"]) + p["c"] * np.log(x), 709.0))

    def _log_residual(self, x, y):
        p = self.params_
        return np.log(y - p["eps_inf"]) - np.log(p["beta"]) - p["c"] * np.log(x)


# ---------------------------------------------------------------------------
class M3(ScalingLaw):
    """Bansal et al.'s form, ``loss = beta (1/x + gamma)^(-c)``, fitted by the paper's Equation 5.

    ``gamma`` is searched over a wide log-spaced band (plus the boundary
    ``gamma = 0``, where M3 is M1) and polished; the released code instead
    alternates between least squares and a choice among per-point candidate
    values of ``gamma``, which stops at worse optima on many curves.
    """

    name = "M3"
    param_names = ("beta", "c", "gamma")

    def __init__(self, estimator: str | None = None, start: dict | None = None) -> None:
        super().__init__()
        # The sound fit and Eq. 5 coincide for M3 (its prediction is explicit in log space).
        self.estimator, _ = _choose_estimator(estimator, None, start)
        self._set_start(start)

    def _settings_repr(self):
        return f"estimator={self.estimator!r}"

    @property
    def searched_params(self):
        return ("gamma",)

    @staticmethod
    def _gamma_grid(x):
        # gamma matters when it is comparable to 1/x; search log(gamma) over a wide band around that.
        return np.linspace(np.log(1e-4 / x.max()), np.log(1e4 / x.min()), _GRID_1D)

    def _random_start(self, x, y, rng):
        # Only where the profile is finite: at very large gamma beta overflows (see _profile_g).
        grid = self._gamma_grid(x)
        grid = grid[np.isfinite(self._profile_g(x, y, np.exp(grid))[2])]
        return {"gamma": float(np.exp(rng.uniform(grid[0], grid[-1])))}

    @staticmethod
    def _log_term(x, gamma):
        # log(1/x + gamma) without cancellation for tiny or huge gamma * x
        return -np.log(x) + np.log1p(np.multiply.outer(gamma, x))

    def profile(self, x, loss, gamma) -> np.ndarray:
        """Profile loss (Eq. 5) for each given ``gamma >= 0`` (array), beta and c solved exactly."""
        x, y = check_curve(x, loss, self.n_params, self.name)
        g = np.atleast_1d(np.asarray(gamma, dtype=float))
        if np.any(g < 0):
            raise ValueError("gamma must be >= 0.")
        return self._profile_g(x, y, g)[2]

    def _profile_g(self, x, y, g):
        return _in_chunks(lambda gg: self._profile_g_rows(x, y, gg), x.size, g)

    def _profile_g_rows(self, x, y, g):
        L = self._log_term(x, g)  # (G, n)
        a, k, mse = fit_nonneg_slopes(L[:, :, None], np.broadcast_to(np.log(y), L.shape), (True,))
        # Very large gamma makes the curve flat in log x and beta = exp(a) overflow: such
        # parameters cannot be represented, so they are not candidates.
        return a, k, np.where(np.abs(a) < _LOG_COEF_MAX, mse, np.inf)

    def minimise(self, x, y):
        grid = self._gamma_grid(x)
        zero = self._profile_g(x, y, np.array([0.0]))[2][0]

        def profile(q):
            return self._profile_g(x, y, np.array([np.exp(np.ravel(q)[0])]))[2][0]

        if self.start is not None:
            g0 = self.start["gamma"]
            if g0 < 0:
                raise ValueError(f"a starting gamma must be >= 0, got {g0:g}.")
            q0 = float(np.clip(np.log(g0) if g0 > 0 else grid[0], grid[0], grid[-1]))
            z, v, ok = _walk_downhill(lambda z: self._profile_g(x, y, np.exp(z[:, 0]))[2], [q0],
                                      [(grid[0], grid[-1])])
            q = z[0]
        else:
            values = self._profile_g(x, y, np.exp(grid))[2]
            if not np.any(np.isfinite(values)):
                if not np.isfinite(zero):
                    raise _no_candidate("M3", f"beta = exp(...) overflows for every gamma (x from {x.min():.3g} "
                                        f"to {x.max():.3g}, loss from {y.min():.3g} to {y.max():.3g}); rescale x "
                                        "or the loss (e.g. divide x by its largest value).")
                values = np.full(grid.size, np.inf)
            q, v, ok = _polish_1d(profile, grid, values)
            if q is None:  # only gamma = 0 can be represented
                q, v = grid[0], np.inf
        gamma = np.exp(q)
        at_floor = self.start is None or q <= grid[0]  # a local descent only reaches gamma = 0 from the edge
        if at_floor and zero <= v:  # the boundary gamma = 0 (then M3 is M1)
            gamma = 0.0
        a, k, _ = self._profile_g(x, y, np.array([gamma]))
        return {"beta": np.exp(a[0]), "c": -k[0, 0], "gamma": gamma}, ok

    def _check_params(self, p):
        super()._check_params(p)
        if p["gamma"] < 0:
            raise ValueError(f"M3 needs gamma >= 0, got {p['gamma']}.")

    def _predict(self, x):
        p = self.params_
        logp = np.log(p["beta"]) - p["c"] * self._log_term(x, np.array(p["gamma"]))
        return np.exp(np.minimum(logp, 709.0))

    def _log_residual(self, x, y):
        p = self.params_
        return np.log(y) - np.log(p["beta"]) + p["c"] * self._log_term(x, np.array(p["gamma"]))


# ---------------------------------------------------------------------------
class M4(ScalingLaw):
    """The paper's estimator, ``(loss - eps_inf) / (eps0 - loss)^alpha = beta x^c``.

    Parameters
    ----------
    eps0 : float
        The random-guessing loss (the paper fixes it; 1.0 for error rates).
        When ``learn_eps0`` is true it is the initial value of the released
        code, and the fitted value is searched (see ``estimator``).
    learn_eps0 : bool
        Fit ``eps0`` too (the released notebook does, within bounds).
    eps0_max : float or None
        Upper bound for a learned ``eps0``.  ``None`` means effectively
        unbounded: ``10 * max(eps0, max(loss))``.
    alpha : float or None
        ``None`` learns ``alpha >= 0``; a number fixes it (``alpha=1`` is the
        sigmoid of the ablation, ``alpha=0`` gives M2).
    estimator : "sound" (default) or "eq4"
        ``"sound"`` fits on log loss (:mod:`scaling.laws.sound`; a learned ``eps0``
        lies between ``(1 + 1e-3) max(loss)`` and ``eps0_max``, or
        ``101 max(loss)`` when that is None); ``"eq4"`` minimises the paper's
        Eq. 4 (a learned ``eps0`` in ``[max(loss) + EPS0_MARGIN, eps0_max]``).
    search : "global" or "local"
        How ``"eq4"`` is minimised, as for :class:`M2`; "local" starts from
        ``eps_inf = min(loss) - 1e-3`` and ``eps0`` at its initial value, like
        the released code.  Selects ``"eq4"``.
    start : dict or None
        A single Eq. 4 descent from ``{"eps_inf": ..., "eps0": ...}``
        (``eps0`` only when it is learned) instead of the ``search``.
    """

    name = "M4"
    param_names = ("beta", "c", "eps_inf", "eps0", "alpha")

    def __init__(self, eps0: float = 1.0, learn_eps0: bool = False, eps0_max: float | None = None,
                 alpha: float | None = None, estimator: str | None = None, search: str | None = None,
                 start: dict | None = None) -> None:
        super().__init__()
        self.estimator, self.search = _choose_estimator(estimator, search, start)
        if not np.isfinite(eps0) or eps0 <= 0:
            raise ValueError(f"eps0 must be a positive finite number, got {eps0}.")
        if alpha is not None and (not np.isfinite(alpha) or alpha < 0):
            raise ValueError(f"alpha must be None (learned) or a number >= 0, got {alpha}.")
        if eps0_max is not None and (not np.isfinite(eps0_max) or eps0_max <= 0):
            raise ValueError(f"eps0_max must be None or a positive finite number, got {eps0_max}.")
        self.eps0 = float(eps0)
        self.learn_eps0 = bool(learn_eps0)
        self.eps0_max = None if eps0_max is None else float(eps0_max)
        self.alpha = None if alpha is None else float(alpha)
        self._set_start(start)

    @property
    def n_params(self) -> int:
        return 3 + (self.alpha is None) + self.learn_eps0

    @property
    def searched_params(self):
        return ("eps_inf", "eps0") if self.learn_eps0 else ("eps_inf",)

    def _random_start(self, x, y, rng):
        self._check_loss_range(y)
        start = {"eps_inf": float(rng.uniform(0.0, y.min()))}
        if self.learn_eps0:  # log-uniform distance above the data, as the search sees it
            lo, hi = self._eps0_bounds(y.max())
            start["eps0"] = float(y.max() + np.exp(rng.uniform(np.log(lo - y.max()), np.log(hi - y.max()))))
        return start

    @classmethod
    def _from_params_init(cls, params):
        return cls(eps0=params.get("eps0", 1.0), alpha=params.get("alpha"))

    def _settings_repr(self):
        return (f"eps0={self.eps0:g}, learn_eps0={self.learn_eps0}, eps0_max={self.eps0_max}, "
                f"alpha={'learned' if self.alpha is None else self.alpha}, {_estimator_repr(self)}")

    def eps0_bounds(self, max_loss: float) -> tuple[float, float]:
        """The interval searched for a learned ``eps0`` on a curve whose largest loss is ``max_loss``."""
        return self._eps0_bounds(float(max_loss))

    def _eps0_bounds(self, max_y: float) -> tuple[float, float]:
        lo = max_y + EPS0_MARGIN
        hi = self.eps0_max if self.eps0_max is not None else 10.0 * max(self.eps0, max_y)
        return lo, hi

    def _check_sound_input(self, y):
        if not self.learn_eps0:  # a fixed eps0 must lie above the data under either estimator
            self._check_loss_range(y)

    def _check_loss_range(self, y):
        max_y = y.max()
        if not self.learn_eps0:
            if max_y >= self.eps0:
                raise ValueError(
                    f"M4 needs every loss below eps0 = {self.eps0:g}, but the largest loss is {max_y:g}; "
                    "pass a larger eps0 (the random-guessing loss) or learn_eps0=True."
                )
        else:
            lo, hi = self._eps0_bounds(max_y)
            if hi < lo:
                raise ValueError(
                    f"eps0_max = {hi:g} leaves no room for eps0 above the largest loss {max_y:g} "
                    f"(plus margin {EPS0_MARGIN:g}); raise eps0_max."
                )

    def _check_params(self, p):
        super()._check_params(p)
        if p["eps_inf"] < 0 or p["alpha"] < 0 or p["eps0"] <= p["eps_inf"]:
            raise ValueError(
                f"M4 needs eps_inf >= 0, alpha >= 0 and eps0 > eps_inf, got eps_inf={p['eps_inf']}, "
                f"alpha={p['alpha']}, eps0={p['eps0']}."
            )

    def profile(self, x, loss, eps_inf, eps0=None) -> np.ndarray:
        """Profile loss (Eq. 4) at given ``eps_inf`` (and ``eps0``, broadcast together).

        ``log beta``, ``c`` and (if learned) ``alpha`` are solved exactly for each
        pair; ``eps0`` defaults to the law's ``eps0`` setting.
        """
        x, y = check_curve(x, loss, self.n_params, self.name)
        e0 = self.eps0 if eps0 is None else eps0
        e, e0 = np.broadcast_arrays(np.atleast_1d(np.asarray(eps_inf, float)),
                                    np.atleast_1d(np.asarray(e0, float)))
        if np.any(e < 0) or np.any(e >= y.min()) or np.any(e0 <= y.max()):
            raise ValueError("need 0 <= eps_inf < min(loss) and eps0 > max(loss).")
        shape = e.shape
        return self.profile_log_x(np.log(x), y, e.ravel(), e0.ravel())[3].reshape(shape)

    def profile_log_x(self, logx, y, e, e0):
        """Exact (log beta, c, alpha) and the loss for batches of (eps_inf, eps0); the loss is inf where
        beta = exp(log beta) cannot be represented."""
        a, c, alpha, mse = _in_chunks(lambda ee, ee0: self._profile_rows(logx, y, ee, ee0), logx.size, e, e0)
        return a, c, alpha, np.where(np.abs(a) < _LOG_COEF_MAX, mse, np.inf)

    def _profile_rows(self, logx, y, e, e0):
        lhs = np.log(y[None, :] - e[:, None])
        log_gap0 = np.log(e0[:, None] - y[None, :])
        if self.alpha is None:
            X = np.stack([np.broadcast_to(-logx, lhs.shape), log_gap0], axis=2)
            a, k, mse = fit_nonneg_slopes(X, lhs, (True, True))
            return a, -k[:, 0], k[:, 1], mse
        a, k, mse = fit_nonneg_slopes(-logx[:, None], lhs - self.alpha * log_gap0, (True,))
        return a, -k[:, 0], np.full(a.shape, self.alpha), mse

    def minimise(self, x, y):
        logx, min_y, max_y = np.log(x), y.min(), y.max()

        def to_e(s):
            return np.maximum(min_y - np.exp(s), 0.0)

        if not self.learn_eps0:
            e0 = self.eps0
            grid = _gap_grid(min_y, _GRID_1D)
            values = self.profile_log_x(logx, y, to_e(grid), np.full(grid.size, e0))[3]

            def batch(z):
                return self.profile_log_x(logx, y, to_e(z[:, 0]), np.full(len(z), e0))[3]

            if not np.any(np.isfinite(values)):
                raise self._unrepresentable(y)
            s, ok = _search_gap(self, batch, grid, values, min_y)
            e = float(to_e(s))
        else:
            lo, hi = self._eps0_bounds(max_y)
            # eps0 on a log scale of its distance to the data: the loss is most
            # sensitive to it when eps0 is close to max(loss).
            t_lo, t_hi = np.log(lo - max_y), np.log(max(hi - max_y, lo - max_y))
            s_grid = _gap_grid(min_y, _GRID_2D[0])
            t_grid = np.linspace(t_lo, t_hi, _GRID_2D[1])
            S, T = np.meshgrid(s_grid, t_grid, indexing="ij")

            def profile(z):
                return self.profile_log_x(logx, y, to_e(np.array([z[0]])), np.array([max_y + np.exp(z[1])]))[3][0]

            def batch(z):
                return self.profile_log_x(logx, y, to_e(z[:, 0]), max_y + np.exp(z[:, 1]))[3]

            bounds = [(s_grid[0], s_grid[-1]), (t_lo, t_hi)]
            if self.start is not None:
                e0_start = self.start["eps0"]
                if not lo <= e0_start <= hi:
                    raise ValueError(f"a starting eps0 must lie in [{lo:g}, {hi:g}] (above the largest loss "
                                     f"plus {EPS0_MARGIN:g}, within eps0_max), got {e0_start:g}.")
                t0 = float(np.clip(np.log(e0_start - max_y), t_lo, t_hi))
                best, _, ok = _walk_downhill(batch, [_gap_start(self.start["eps_inf"], min_y, s_grid), t0], bounds)
            elif self.search == "local":
                t0 = float(np.clip(np.log(max(self.eps0 - max_y, 1e-300)), t_lo, t_hi))
                best, _, ok = _walk_downhill(batch, [_released_start(min_y, s_grid), t0], bounds)
            else:
                values = self.profile_log_x(logx, y, to_e(S.ravel()), max_y + np.exp(T.ravel()))[3].reshape(S.shape)
                if not np.any(np.isfinite(values)):
                    raise self._unrepresentable(y)
                best, best_v, ok = None, np.inf, True
                for i, j in local_minima(values, _N_POLISH):
                    z, v, success = _descend(profile, [S[i, j], T[i, j]], bounds)
                    if v > values[i, j]:  # never end worse than the grid point we started from
                        z, v = np.array([S[i, j], T[i, j]]), values[i, j]
                    if v < best_v:
                        best, best_v, ok = z, v, success
            s, e0 = best[0], float(max_y + np.exp(best[1]))
            e = float(to_e(s))
        a, c, alpha, _ = self.profile_log_x(logx, y, np.array([e]), np.array([e0]))
        return {"beta": np.exp(a[0]), "c": c[0], "eps_inf": e, "eps0": e0, "alpha": alpha[0]}, ok

    def _unrepresentable(self, y) -> ValueError:
        """The error when every candidate's beta = exp(log beta) overflows or underflows."""
        why = (f"for every eps_inf{' and eps0' if self.learn_eps0 else ''} searched, the Eq. 4 solution has a beta "
               "beyond floating point (exp(log beta) overflows or underflows)")
        if self.learn_eps0 and y.max() < 100 * EPS0_MARGIN:
            why += (f". The losses are tiny (largest {y.max():.3g}) while this search keeps eps0 at least "
                    f"{EPS0_MARGIN:g} above them, so log(eps0 - loss) hardly varies and alpha is not identified; "
                    "fit M4 with the sound estimator (scale-invariant), fix eps0, or rescale the loss")
        return _no_candidate("M4", why + ".")

    def _range_message(self):
        p = self.params_
        return (f"some losses lie outside this M4 fit's range (at or below eps_inf = {p['eps_inf']:g}, or at or "
                f"above eps0 = {p['eps0']:g}), so its log loss is undefined there.")

    def _predict(self, x):
        p = self.params_
        e, b, alpha = p["eps_inf"], p["eps0"] - p["eps_inf"], p["alpha"]
        log_f = np.log(p["beta"]) + p["c"] * np.log(x)
        if alpha < _ALPHA_ZERO:
            return e + np.exp(np.minimum(log_f, 709.0))
        # With w = b * sigmoid(s) the equation becomes h(s) = log t - alpha log(1 - t) - r = 0,
        # r = log f + (alpha - 1) log b, and h increases strictly in s.
        r = log_f + (alpha - 1.0) * np.log(b)
        lo = np.minimum(0.0, r - alpha * np.log(2.0) - 1.0)
        hi = np.maximum(0.0, (r + np.log(2.0) + 1.0) / alpha)

        def h(s, r, alpha):
            return -np.logaddexp(0.0, -s) + alpha * np.logaddexp(0.0, s) - r

        res = elementwise.find_root(h, (lo, hi), args=(r, alpha),
                                    tolerances={"xatol": 1e-13, "xrtol": 1e-15})
        s = res.x
        return e + b * np.exp(-np.logaddexp(0.0, -s))

    def _log_residual(self, x, y):
        p = self.params_
        return (np.log(y - p["eps_inf"]) - p["alpha"] * np.log(p["eps0"] - y)
                - np.log(p["beta"]) - p["c"] * np.log(x))


#: The law registry: name -> law class, M1-M4 and every law added with :func:`register_law` (BNSL,
#: Chinchilla). ``run_benchmark(bench, laws=LAWS)``, the leaderboard and ``python -m scaling fit --law NAME``
#: read it.
LAWS: dict[str, type[ScalingLaw]] = {"M1": M1, "M2": M2, "M3": M3, "M4": M4}


def register_law(cls: type[ScalingLaw]) -> type[ScalingLaw]:
    """Add a law class to :data:`LAWS` under ``cls.name`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, ScalingLaw)) or not cls.name:
        raise TypeError("register_law needs a ScalingLaw subclass with a non-empty name.")
    known = LAWS.get(cls.name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"a different law is already registered as {cls.name!r}.")
    LAWS[cls.name] = cls
    return cls


def resolve_law_name(name: str) -> str:
    """The registered spelling of a law name, matched case-insensitively ("m4" -> "M4")."""
    if not isinstance(name, str):
        raise ValueError(f"a law name must be a string, got {name!r}.")
    by_lower = {k.lower(): k for k in LAWS}
    try:
        return by_lower[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown law {name!r}; choose one of {list(LAWS)}.") from None

#: How the released notebook configures M4 in each domain (eps0 and its bounds); M1-M3 use defaults.
#: IC and BB cap eps0 at up_bound + ERR_MARGIN = 1.001; NMT and LM leave it unbounded.
DOMAIN_M4_SETTINGS = {
    "IC": dict(eps0=1.0, learn_eps0=True, eps0_max=1.001),
    "NMT": dict(eps0=1.0, learn_eps0=True, eps0_max=None),
    "LM": dict(eps0=1.0, learn_eps0=True, eps0_max=None),
    "BB": dict(eps0=1.001, learn_eps0=True, eps0_max=1.001),
}


#: The names :func:`law_for_domain` accepts for ``estimator``, and the law arguments each sets
#: (M1 and M3 have a single minimum of Equation 4/5, so "local" is "global" for them).
DOMAIN_ESTIMATORS = {
    "sound": {"estimator": "sound"},
    "global": {"estimator": "eq4", "search": "global"},
    "eq4": {"estimator": "eq4", "search": "global"},
    "local": {"estimator": "eq4", "search": "local"},
}


def law_for_domain(law: str, domain: str, estimator: str | None = None, **overrides) -> ScalingLaw:
    """A new, unfitted law configured as the released notebook does for ``domain``.

    ``law`` is any registered name, case-insensitive; laws other than M4 have
    no per-domain settings, only the ``overrides``.  ``estimator`` picks how M1-M4
    are fitted: ``"sound"`` (the default), ``"global"`` (or ``"eq4"``: the global
    minimum of Eq. 4/5) or ``"local"`` (Eq. 4 descended from the released start);
    the later laws have one fit of their own and ignore it.
    """
    law = resolve_law_name(law)
    if domain not in DOMAIN_M4_SETTINGS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {sorted(DOMAIN_M4_SETTINGS)}.")
    if estimator is not None:
        if estimator not in DOMAIN_ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; choose one of {sorted(DOMAIN_ESTIMATORS)} "
                             "(the released code's fits come from scaling.laws.released).")
        if law in PAPER_LAWS:
            how = dict(DOMAIN_ESTIMATORS[estimator])
            if law in ("M1", "M3"):
                how.pop("search", None)
            overrides = {**how, **overrides}
    settings = {**DOMAIN_M4_SETTINGS[domain], **overrides} if law == "M4" else overrides
    try:
        return LAWS[law](**settings)
    except TypeError:
        raise ValueError(f"{law} does not take the setting(s) {sorted(overrides)}.") from None
