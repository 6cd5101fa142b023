"""No silent degeneration: what a fitted law's parameters say about the fit, in words.

A fit can succeed numerically and still mean little: M2 with ``eps_inf = 0`` *is* M1, a plateau above
the losses already measured cannot be right, a BNSL break at the last point is a guess. The paper's
Eq. 4 fit of M2 and M4 ends in such corners on most curves; other estimators do so less often, but
not never. :func:`diagnose` names every such finding, so that ``python -m scaling fit`` prints it
and its JSON carries it (``laws.<LAW>.diagnostics``).

Each finding is a dict ``{"code": CODE, "message": TEXT}`` (plus ``"parameter"`` and ``"value"``
where one parameter is at fault), with CODE one of :data:`CODES`:

``reduces-to-M1``, ``reduces-to-M2``
    The law ended on a boundary where it is a simpler law: M2 with ``eps_inf = 0``, M3 with
    ``gamma = 0``, M4 with ``eps_inf = 0`` and ``alpha = 0`` and the Chinchilla-style fit with a
    negligible ``eps_inf`` are M1; M4 with ``alpha = 0`` is M2; BNSL without a break (``c1 = 0``)
    is M2, or M1 when also ``a = 0``. "Zero" means negligible on the data: a term whose largest
    effect on a fitted log loss is below :data:`NEGLIGIBLE` (so the tests are scale-free). M4 is
    judged by its predictions: it is M2 when alpha is below ``ALPHA_ZERO`` (where ``M4.predict`` is
    M2's formula) or when its predictions on the fitted points are an M2's (same ``c`` and
    ``eps_inf``) to within :data:`NEGLIGIBLE`; a tiny alpha whose predictions stop at eps0 where
    M2's would pass it is not.
``plateau-above-data``
    The limiting loss (``eps_inf``, BNSL's ``a``) lies above a held-out loss (the law says the
    curve cannot go where it went), or at or above the smallest fitted loss.
``extreme-parameter``
    A parameter at an extreme magnitude (:data:`EXTREME`): an exponent steeper than 10 decades of
    loss per decade of x, ``alpha`` above 10, a learned ``eps0`` more than 1000 times the largest
    loss (M4's bend is then invisible in the data), ``gamma`` so large that M3 is flat over the
    data, a coefficient (``beta``, BNSL's ``b``) beyond 1e+-100, or any non-finite value.
``break-at-edge``
    BNSL's break ``d1`` lies at or beyond the second smallest or the second largest fitted x, so
    one point at most decides its position (not reported when the break has no effect at all:
    that is a reduction).
``on-constraint``
    Another parameter ended on one of the estimator's constraints (``c = 0``: no improvement with
    x; ``eps_inf`` or BNSL's ``a`` at 0 without the law reducing; a learned ``eps0`` at either end of
    its interval; ``alpha`` at the sound fit's cap; BNSL's ``c0 = 0`` or its bend width ``f1`` at a
    bound).
``wide-interval``
    A bootstrap interval (``intervals``: name -> (lower, upper)) spans two orders of magnitude or
    more, or includes zero for a quantity that is not zero: the data do not determine it.
``not-converged``
    The optimiser did not report convergence.
``outside-domain``
    Parameters the package's law refuses (only :func:`diagnose_benchmark` reports it): the released
    code lets M1 and M2 end with ``c > 0``, a loss that rises with x.

:func:`diagnose_benchmark` judges every fit of a :func:`scaling.evaluate.run_benchmark` frame, and
:func:`benchmark_counts` / :func:`benchmark_lines` count the fits each code flags per law and domain,
as ``python -m scaling benchmark`` prints them.

:func:`bound_hits` lists the constraints a fit ended on, in short strings (``"eps_inf=0"``,
``"eps0=eps0_max"``, ...): the bootstrap counts them per refit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["diagnose", "bound_hits", "diagnose_benchmark", "benchmark_counts", "benchmark_lines", "CODES",
           "NEGLIGIBLE", "EXTREME", "WIDE_RATIO"]

#: The diagnostic codes, in the order they are reported.
CODES = ("reduces-to-M1", "reduces-to-M2", "plateau-above-data", "extreme-parameter", "break-at-edge",
         "on-constraint", "wide-interval", "not-converged", "outside-domain")
#: A term whose largest effect on the fitted log losses is below this is "zero" (a reduction).
NEGLIGIBLE = 1e-6
#: Thresholds of "extreme magnitude".
EXTREME = {"exponent": 10.0, "alpha": 10.0, "eps0_over_max_loss": 1e3, "gamma_x_min": 1e6,
           "log10_coefficient": 100.0}
#: An interval whose ends differ by this factor or more "spans orders of magnitude".
WIDE_RATIO = 100.0
# Relative tolerance for "a parameter ended on its constraint".
_BOUND_RTOL = 1e-6


# ---------------------------------------------------------------------------------------------- constraints
def _near(value: float, edge: float) -> bool:
    return abs(value - edge) <= _BOUND_RTOL * max(abs(edge), 1e-300)


def _limit_hits(name: str, value: float, y: np.ndarray) -> list[str]:
    """A limiting loss (eps_inf, BNSL's a) on its constraint 0 <= limit < min(loss)."""
    if value <= 1e-12 * y.min():
        return [f"{name}=0"]
    return [f"{name}=min(loss)"] if value >= y.min() * (1 - _BOUND_RTOL) else []


def _m4_eps0_bounds(law, y, estimator):
    """The interval a learned eps0 was searched in, for this estimator."""
    if estimator == "sound":
        from .laws.sound import EPS0_REL_MARGIN, EPS0_REL_MAX

        lo = y.max() * (1 + EPS0_REL_MARGIN)
        hi = law.eps0_max if law.eps0_max is not None else y.max() * (1 + EPS0_REL_MAX)
        return lo, hi
    return law.eps0_bounds(y.max())


def _m4_hits(law, p, y, estimator) -> list[str]:
    hits = _limit_hits("eps_inf", p["eps_inf"], y)
    if law.alpha is None and p["alpha"] <= 1e-12:
        hits.append("alpha=0")
    if estimator == "sound" and law.alpha is None:
        from .laws.sound import ALPHA_MAX

        if p["alpha"] >= ALPHA_MAX * (1 - _BOUND_RTOL):
            hits.append(f"alpha={ALPHA_MAX:g}")
    if law.learn_eps0:  # the search interval of M4: above the data, up to eps0_max
        lo, hi = _m4_eps0_bounds(law, y, estimator)
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


def bound_hits(law, x, y, estimator: str = "eq4") -> list[str]:
    """Which parameters of a fitted law ended on one of its constraints (for the points x, y).

    Known for M1-M4 and for the obvious constraints of BNSL (limit a, break d1 inside the data,
    c0 >= 0) and Chinchilla (exponent <= 0); another law may define ``bound_hits(x, y)`` itself.
    ``estimator`` ("eq4", "sound" or "released") picks M4's interval for a learned eps0.
    """
    hook = getattr(law, "bound_hits", None)
    if callable(hook):
        return list(hook(x, y))
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    p = law.params_
    if law.name == "BNSL":
        return _bnsl_hits(p, x, y)
    if law.name not in ("M1", "M2", "M3", "M4", "Chinchilla"):
        return []
    hits = ["c=0"] if p["c"] >= -1e-12 else []
    if law.name == "M2":
        hits += _limit_hits("eps_inf", p["eps_inf"], y)
    elif law.name == "M3" and p["gamma"] <= 0:
        hits.append("gamma=0")
    elif law.name == "M4":
        hits += _m4_hits(law, p, y, estimator)
    return hits


# ---------------------------------------------------------------------------------------------- diagnose
def _finding(code, message, parameter=None, value=None) -> dict:
    out = {"code": code, "message": message}
    if parameter is not None:
        out["parameter"] = parameter
        out["value"] = None if value is None or not math.isfinite(value) else float(value)
    return out


def _m4_is_m2(law, p, x) -> bool:
    """Whether a fitted M4 is M2 on the fitted points x, judged by what it predicts there.

    Below ALPHA_ZERO the law *is* M2 (:meth:`scaling.laws.paper.M4.predict`). Above it, M4 is M2 on the
    data when its predictions equal those of an M2 with the same c and eps_inf to within
    :data:`NEGLIGIBLE` in log loss. M2's beta may differ from M4's by a constant factor ``(eps0 - loss)^alpha``
    (beta carries loss units to the power 1 - alpha): the factor is taken from the predictions themselves,
    ``log(yhat - eps_inf) - log(beta x^c) = alpha log(eps0 - yhat)``, at the middle of its range. A tiny
    alpha does not suffice: where beta x^c passes eps0 - eps_inf, M4's predictions still stop at eps0 and
    M2's do not.
    """
    from .laws.sound import ALPHA_ZERO  # the threshold M4.predict uses

    if p["alpha"] < ALPHA_ZERO:
        return True
    x = np.asarray(x, float)
    if x.size == 0:
        return True
    e = p["eps_inf"]
    with np.errstate(all="ignore"):
        yhat = np.asarray(law.predict(x), float)
        log_f = math.log(p["beta"]) + p["c"] * np.log(x)
        d = np.log(yhat - e) - log_f  # alpha log(eps0 - yhat): constant when the bend is absent
        d = d[np.isfinite(d)]
        k = 0.5 * (float(d.min()) + float(d.max())) if d.size else 0.0
        m2 = e + np.exp(np.minimum(log_f + k, 709.0))
        gap = np.abs(np.log(m2) - np.log(yhat))
    return bool(np.all(np.isfinite(gap)) and float(gap.max()) < NEGLIGIBLE)


def _reductions(law, p, x, y) -> list[dict]:
    """The law at a boundary where it is a simpler law (effects measured on the fitted points)."""
    name = law.name
    ymin, ymax = float(np.min(y)), float(np.max(y))
    zero_limit = lambda v: v / ymin < NEGLIGIBLE  # noqa: E731  (its largest effect on log loss)
    if name == "M2" and zero_limit(p["eps_inf"]):
        return [_finding("reduces-to-M1", f"M2 is M1 here: eps_inf = {p['eps_inf']:.3g} is negligible against the "
                         f"smallest loss {ymin:.3g}, so the fit is a plain power law.", "eps_inf", p["eps_inf"])]
    if name == "M3" and p["gamma"] * float(np.max(x)) < NEGLIGIBLE:
        return [_finding("reduces-to-M1", f"M3 is M1 here: gamma = {p['gamma']:.3g} is negligible against 1/x "
                         "on the data, so the fit is a plain power law.", "gamma", p["gamma"])]
    if name == "Chinchilla" and zero_limit(p["eps_inf"]):
        return [_finding("reduces-to-M1", f"the Chinchilla-style fit is M1 here: eps_inf = {p['eps_inf']:.3g} is "
                         f"negligible against the smallest loss {ymin:.3g}.", "eps_inf", p["eps_inf"])]
    if name == "M4":
        no_alpha = _m4_is_m2(law, p, x)
        if no_alpha and zero_limit(p["eps_inf"]):
            return [_finding("reduces-to-M1", f"M4 is M1 here: eps_inf = {p['eps_inf']:.3g} and alpha = "
                             f"{p['alpha']:.3g} are both negligible on the data, so the fit is a plain power law.",
                             "alpha", p["alpha"])]
        if no_alpha:
            return [_finding("reduces-to-M2", f"M4 is M2 here: alpha = {p['alpha']:.3g} changes no fitted log loss "
                             f"by more than {NEGLIGIBLE:g}, so the bend towards eps0 is absent.", "alpha", p["alpha"])]
    if name == "BNSL":
        lx = np.log(np.asarray(x, float))
        z = (lx - math.log(p["d1"])) / p["f1"]
        sp = np.logaddexp(0.0, z)
        # the break term's effect beyond a power law: its log-x trend removed
        term = -p["c1"] * p["f1"] * sp
        slope = np.polyfit(lx, term, 1) if lx.size > 1 and np.ptp(lx) > 0 else np.zeros(2)
        curve_effect = float(np.max(np.abs(term - np.polyval(slope, lx)))) if lx.size else 0.0
        if curve_effect < NEGLIGIBLE:
            simpler = "M1" if zero_limit(p["a"]) else "M2"
            what = "no break and no plateau" if simpler == "M1" else "no break"
            return [_finding(f"reduces-to-{simpler}", f"BNSL is {simpler} here: {what} on the data (c1 = "
                             f"{p['c1']:.3g}, a = {p['a']:.3g}).", "c1", p["c1"])]
    return []


def _plateau(law, p, y, y_test) -> list[dict]:
    key = "a" if law.name == "BNSL" else "eps_inf" if "eps_inf" in p else None
    if key is None:
        return []
    limit = p[key]
    if y_test is not None and len(y_test) and limit > float(np.min(y_test)):
        return [_finding("plateau-above-data", f"{key} = {limit:.4g} lies above the held-out loss "
                         f"{float(np.min(y_test)):.4g}: the law says the curve cannot go where it went.", key, limit)]
    if limit >= float(np.min(y)) * (1 - _BOUND_RTOL):
        return [_finding("plateau-above-data", f"{key} = {limit:.4g} is at or above the smallest fitted loss "
                         f"{float(np.min(y)):.4g}: the law predicts no further improvement.", key, limit)]
    return []


def _extremes(law, p, x, y) -> list[dict]:
    out = []
    for name, value in p.items():
        if not math.isfinite(value):
            out.append(_finding("extreme-parameter", f"{name} = {value} is not finite.", name, value))
    if out:
        return out
    exponents = {"c": -p["c"]} if "c" in p else {}
    if law.name == "BNSL":
        exponents = {"c0": p["c0"], "c0 + c1": p["c0"] + p["c1"]}
    for name, v in exponents.items():
        if abs(v) > EXTREME["exponent"]:
            out.append(_finding("extreme-parameter", f"exponent {name} = {v:.4g}: the loss falls by more than "
                                f"{EXTREME['exponent']:g} decades per decade of x, an extreme slope.", name, v))
    if "alpha" in p and p["alpha"] > EXTREME["alpha"]:
        out.append(_finding("extreme-parameter", f"alpha = {p['alpha']:.4g} is extreme (above "
                            f"{EXTREME['alpha']:g}): M4's bend has become a near step.", "alpha", p["alpha"]))
    learned = getattr(law, "learn_eps0", False)
    if law.name == "M4" and learned and p["eps0"] > EXTREME["eps0_over_max_loss"] * np.max(y):
        out.append(_finding("extreme-parameter", f"eps0 = {p['eps0']:.4g} is {p['eps0'] / np.max(y):.3g} times the "
                            "largest loss: M4's bend towards eps0 cannot show in the data.", "eps0", p["eps0"]))
    if law.name == "M3" and p["gamma"] * float(np.min(x)) > EXTREME["gamma_x_min"]:
        out.append(_finding("extreme-parameter", f"gamma = {p['gamma']:.4g} dwarfs 1/x on every point: M3 is "
                            "flat over the data.", "gamma", p["gamma"]))
    for name in ("beta", "b"):
        if name in p and p[name] > 0 and abs(math.log10(p[name])) > EXTREME["log10_coefficient"]:
            out.append(_finding("extreme-parameter", f"{name} = {p[name]:.4g} is beyond 1e+-"
                                f"{EXTREME['log10_coefficient']:g}, near the limits of floating point; the law "
                                "may not survive a change of units.", name, p[name]))
    return out


def _break_edge(law, p, x) -> list[dict]:
    if law.name != "BNSL":
        return []
    xs = np.unique(np.asarray(x, float))
    if xs.size < 3:
        return []
    if p["d1"] <= xs[1] or p["d1"] >= xs[-2]:
        side = "smallest" if p["d1"] <= xs[1] else "largest"
        return [_finding("break-at-edge", f"BNSL's break d1 = {p['d1']:.4g} lies at the {side} fitted x: at most "
                         "one point decides where it is.", "d1", p["d1"])]
    return []


# Constraint hits that another finding already reports: the plateau at the data and the break at its edge
# always; a limit or exponent at 0 when the law reduced to a simpler one.
_ALWAYS_COVERED = {"eps_inf=min(loss)", "a=min(loss)", "d1 at the data's edge"}
_REDUCTION_HITS = {"eps_inf=0", "alpha=0", "gamma=0", "a=0"}
_HIT_TEXT = {"c=0": "the exponent c is 0: the law predicts no improvement with x",
             "c0=0": "BNSL's first exponent c0 is 0: flat before the break",
             "eps_inf=0": "eps_inf sits at 0: no irreducible loss",
             "a=0": "BNSL's limit a sits at 0: no irreducible loss",
             "eps0=max(loss)+margin": "the learned eps0 sits at its lower bound, just above the largest loss",
             "eps0=eps0_max": "the learned eps0 sits at its upper bound"}


def _constraints(law, hits, reduced: bool) -> list[dict]:
    out = []
    for hit in hits:
        if hit in _ALWAYS_COVERED or (reduced and hit in _REDUCTION_HITS):
            continue
        name = hit.split("=")[0].split(" ")[0]
        what = _HIT_TEXT.get(hit, f"{hit} is on a constraint")
        out.append(_finding("on-constraint", f"{what} ({hit}).", name, law.params_.get(name)))
    return out


def _bnsl_width(law, p, x) -> list[dict]:
    if law.name != "BNSL":
        return []
    lx = np.log(np.asarray(x, float))
    span = max(float(np.ptp(lx)), 1e-12)
    lo, hi = 1e-2 * span, span
    if _near(p["f1"], lo) or _near(p["f1"], hi):
        which = "sharpest kink" if _near(p["f1"], lo) else "widest bend"
        return [_finding("on-constraint", f"BNSL's bend width f1 = {p['f1']:.3g} is at its bound (the {which} "
                         "the data allow).", "f1", p["f1"])]
    return []


def _wide(intervals) -> list[dict]:
    out = []
    for name, (lo, hi) in (intervals or {}).items():
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        a, b = sorted((abs(lo), abs(hi)))
        crosses = lo <= 0 <= hi and hi != lo
        if crosses and max(abs(lo), abs(hi)) > 0:
            out.append(_finding("wide-interval", f"the interval of {name}, [{lo:.4g}, {hi:.4g}], includes 0: the "
                                "data do not determine it.", name, hi))
        elif a > 0 and b / a >= WIDE_RATIO:
            out.append(_finding("wide-interval", f"the interval of {name}, [{lo:.4g}, {hi:.4g}], spans "
                                f"{math.log10(b / a):.1f} orders of magnitude: the data do not determine it.",
                                name, hi))
    return out


def diagnose(law, x_fit, y_fit, x_test=None, y_test=None, intervals=None, estimator: str = "eq4") -> list[dict]:
    """Findings about a fitted ``law`` (see the module docstring for the codes).

    ``x_fit``, ``y_fit``: the points it was fitted to; ``x_test``, ``y_test``: held-out points, if any;
    ``intervals``: bootstrap intervals, name -> (lower, upper); ``estimator``: how it was fitted ("eq4",
    "sound" or "released"), which decides M4's interval for a learned eps0.
    """
    if law.params_ is None:
        raise ValueError("diagnose needs a fitted law.")
    p = dict(law.params_)
    x = np.asarray(x_fit, float)
    y = np.asarray(y_fit, float)
    found = _extremes(law, p, x, y)
    if any(f["value"] is None for f in found):  # non-finite parameters: nothing else is meaningful
        return found
    reduced = _reductions(law, p, x, y)
    # a BNSL without a break has no break position to judge
    edge = [] if law.name == "BNSL" and reduced else _break_edge(law, p, x)
    found = reduced + _plateau(law, p, y, y_test) + found + edge
    found += _constraints(law, bound_hits(law, x, y, estimator), bool(reduced)) + _bnsl_width(law, p, x)
    found += _wide(intervals)
    if getattr(law, "converged_", None) is False:
        found.append(_finding("not-converged", "the optimiser did not report convergence; the parameters may be "
                              "off their optimum."))
    order = {c: i for i, c in enumerate(CODES)}
    return sorted(found, key=lambda f: order[f["code"]])


# ---------------------------------------------------------------------------------------------- benchmark
# diagnose's estimator for each estimator of run_benchmark (it decides the interval of M4's learned eps0).
_BENCHMARK_ESTIMATORS = {"released": "released", "global": "eq4", "local": "eq4", "sound": "sound"}


def _law_of_row(row):
    """The fitted law of one run_benchmark row, configured as the benchmark fits it for the row's domain."""
    from .evaluate import law_from_row
    from .laws.paper import law_for_domain

    # from_params fixes M4's alpha and eps0; the domain's configuration learns both, and diagnose judges
    # the constraints and magnitudes of what was learned
    law = law_for_domain(row["law"], row["domain"])
    law.params_ = dict(law_from_row(row).params_)
    law.converged_ = bool(row["converged"]) if row.get("converged") in (True, False) else None
    return law


def diagnose_benchmark(results, bench, estimator: str) -> list[list[dict]]:
    """The findings of every fit of a :func:`scaling.evaluate.run_benchmark` frame, in its row order.

    Each law is rebuilt from its row (no refit) and judged by :func:`diagnose` on its curve's fitted and
    held-out points; ``bench`` is the benchmark (or the list of curves) the frame was fitted on,
    ``estimator`` the run_benchmark estimator that fitted it. A failed fit (RMSE NaN) has no findings (the
    failure is its own report); a row whose parameters the package's law refuses gets ``outside-domain``.
    """
    if estimator not in _BENCHMARK_ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {tuple(_BENCHMARK_ESTIMATORS)}.")
    how = _BENCHMARK_ESTIMATORS[estimator]
    curves = {(c.domain, c.task, c.model): c for c in getattr(bench, "curves", bench)}
    out = []
    for _, row in results.iterrows():
        if not np.isfinite(row["rmse"]):
            out.append([])
            continue
        key = (row["domain"], row["task"], row["model"])
        if key not in curves:
            raise ValueError(f"no curve {key} in bench: pass the benchmark the results were fitted on.")
        curve = curves[key]
        try:
            law = _law_of_row(row)
        except ValueError as exc:
            out.append([_finding("outside-domain", f"the fitted parameters lie outside {row['law']}'s domain: {exc}")])
            continue
        out.append(diagnose(law, curve.x_fit, curve.loss_fit, curve.x_test, curve.loss_test, estimator=how))
    return out


def benchmark_counts(results, findings):
    """How many fits each code flags, per law and domain: a frame indexed by (law, code), laws in the
    frame's order and codes in :data:`CODES` order, only codes that flag some fit, one column per domain.

    ``findings`` is :func:`diagnose_benchmark`'s list for ``results``; a fit with two findings of one code
    counts once.
    """
    import pandas as pd

    from .evaluate import DOMAIN_ORDER

    if len(findings) != len(results):
        raise ValueError(f"findings has {len(findings)} entries for {len(results)} rows of results.")
    present = list(dict.fromkeys(results["domain"]))
    domains = [d for d in DOMAIN_ORDER if d in present] + [d for d in present if d not in DOMAIN_ORDER]
    flagged = [(law, code, domain) for law, domain, found in zip(results["law"], results["domain"], findings)
               for code in dict.fromkeys(f["code"] for f in found)]
    index = pd.MultiIndex.from_tuples([(law, code) for law in dict.fromkeys(results["law"]) for code in CODES],
                                      names=["law", "code"])
    table = pd.DataFrame(0, index=index, columns=pd.Index(domains, name="domain"))
    for law, code, domain in flagged:
        table.loc[(law, code), domain] += 1
    return table[table.sum(axis=1) > 0]


def benchmark_lines(results, findings) -> list[str]:
    """:func:`benchmark_counts` as text, one line per law and code: ``M2 reduces-to-M1  IC 57/72  NMT 0/5 ...``
    (fits flagged / fits of that law in that domain)."""
    counts = benchmark_counts(results, findings)
    if counts.empty:
        return ["  no fit flagged"]
    totals = results.groupby(["law", "domain"]).size()
    width = max(len(f"{law} {code}") for law, code in counts.index)
    digits = len(str(int(totals.max())))
    lines = []
    for (law, code), row in counts.iterrows():
        cells = "  ".join(f"{d} {int(row[d]):>{digits}}/{int(totals.get((law, d), 0))}" for d in counts.columns)
        lines.append(f"  {law + ' ' + code:<{width}}  {cells}")
    return lines
