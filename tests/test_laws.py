"""The estimators M1-M4: recovery, identities, global optimality and input errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls

from scaling import M1, M2, M3, M4, law_for_domain
from scaling.laws import EPS0_MARGIN

X = np.logspace(6, 9, 30)

TRUE = {
    M1: dict(beta=5.0, c=-0.3),
    M2: dict(beta=20.0, c=-0.4, eps_inf=0.2),
    M3: dict(beta=0.5, c=-0.3, gamma=1e-8),
    M4: dict(beta=300.0, c=-0.45, eps_inf=0.25, eps0=1.0, alpha=1.3),
}


@pytest.mark.parametrize("estimator", ["sound", "eq4"])
@pytest.mark.parametrize("law", [M1, M2, M3, M4], ids=lambda c: c.name)
def test_recovers_parameters_from_a_noiseless_curve(law, estimator):
    y = law.from_params(**TRUE[law]).predict(X)
    fitted = law(estimator=estimator).fit(X, y)
    for name, value in TRUE[law].items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-5), name
    assert fitted.loss_ < 1e-12
    assert fitted.converged_


def test_m4_recovers_a_learned_eps0():
    truth = dict(beta=300.0, c=-0.45, eps_inf=0.25, eps0=1.1, alpha=1.3)
    y = M4.from_params(**truth).predict(X)
    fitted = M4(eps0=1.0, learn_eps0=True, eps0_max=1.5).fit(X, y)
    for name, value in truth.items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-4), name


def test_m4_with_fixed_alpha_recovers_the_sigmoid():
    truth = dict(beta=1e4, c=-0.6, eps_inf=0.3, eps0=1.0, alpha=1.0)
    y = M4.from_params(**truth).predict(X)
    fitted = M4(alpha=1.0).fit(X, y)
    assert fitted.params_["alpha"] == 1.0
    assert fitted.c_ == pytest.approx(-0.6, rel=1e-6)
    assert fitted.params_["eps_inf"] == pytest.approx(0.3, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(excess_end=st.floats(0.1, 0.5), c=st.floats(-0.8, -0.15), eps_inf=st.floats(0.02, 0.3),
       seed=st.integers(0, 2**31 - 1))
def test_m2_on_noisy_curves_stays_close(excess_end, c, eps_inf, seed):
    """0.1 % multiplicative noise: the fit is at least as good as the truth, and close to the clean curve.

    The excess loss stays comparable to eps_inf: when it is much smaller, noise in the loss is
    amplified in log(loss - eps_inf) and eps_inf is no longer identifiable from 30 points.
    """
    beta = excess_end * X[-1] ** (-c)  # the excess loss at the largest x is excess_end
    truth = M2.from_params(beta=beta, c=c, eps_inf=eps_inf)
    y_clean = truth.predict(X)
    noise = np.exp(np.random.default_rng(seed).normal(0, 1e-3, X.size))
    y = y_clean * noise
    fitted = M2().fit(X, y)
    assert fitted.loss_ <= truth.training_loss(X, y) + 1e-12  # at least as good as the true parameters
    assert np.max(np.abs(np.log(fitted.predict(X) / y_clean))) < 5e-3


@settings(max_examples=20, deadline=None)
@given(c=st.floats(-0.8, -0.2), alpha=st.floats(0.3, 2.0), eps_inf=st.floats(0.05, 0.3),
       seed=st.integers(0, 2**31 - 1))
def test_m4_on_noisy_curves_stays_close(c, alpha, eps_inf, seed):
    # beta chosen so the curve crosses the middle of its range inside the x window
    beta = 0.5 * np.sqrt(X[0] * X[-1]) ** (-c)
    truth = M4.from_params(beta=beta, c=c, eps_inf=eps_inf, eps0=1.0, alpha=alpha)
    # keep the part of the curve clear of eps0, where 0.1 % noise could push a loss above it
    x = X[truth.predict(X) < 0.95]
    y_clean = truth.predict(x)
    y = y_clean * np.exp(np.random.default_rng(seed).normal(0, 1e-3, x.size))
    fitted = M4(eps0=1.0).fit(x, y)
    assert fitted.loss_ <= truth.training_loss(x, y) + 1e-12
    assert np.sqrt(np.mean(np.log(fitted.predict(x) / y_clean) ** 2)) < 5e-3


def test_m2_with_a_fixed_exponent_refits_beta_and_eps_inf():
    truth = dict(beta=20.0, c=-0.4, eps_inf=0.2)
    y = M2.from_params(**truth).predict(X)
    exact = M2(c=-0.4).fit(X, y)
    assert exact.params_ == pytest.approx(truth, rel=1e-5)
    worse = M2(c=-0.2).fit(X, y)
    assert worse.c_ == -0.2 and worse.loss_ > 1e-6  # a wrong exponent cannot fit exactly
    free = M2().fit(X, y * np.exp(0.01 * np.sin(np.arange(X.size))))
    pinned = M2(c=free.c_).fit(X, y * np.exp(0.01 * np.sin(np.arange(X.size))))
    assert pinned.loss_ == pytest.approx(free.loss_, rel=1e-6)
    with pytest.raises(ValueError, match="fixed exponent"):
        M2(c=0.5)


def test_m4_equals_m2_when_alpha_is_zero():
    p = dict(beta=20.0, c=-0.4, eps_inf=0.2)
    m2 = M2.from_params(**p)
    m4 = M4.from_params(**p, eps0=1.0, alpha=0.0)
    np.testing.assert_allclose(m4.predict(X), m2.predict(X), rtol=1e-14)
    # and as alpha -> 0 the implicit law converges to M2 where M2 stays below eps0
    near = M4.from_params(**p, eps0=1.0, alpha=1e-6)
    np.testing.assert_allclose(near.predict(X), m2.predict(X), rtol=1e-5)
    # fitting M4 with alpha fixed at 0 is fitting M2
    y = m2.predict(X)
    fitted = M4(alpha=0.0).fit(X, y)
    assert fitted.params_["eps_inf"] == pytest.approx(0.2, rel=1e-6)


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 3.0, 20.0])
def test_m4_prediction_solves_the_implicit_equation(alpha):
    law = M4.from_params(beta=50.0, c=-0.5, eps_inf=0.1, eps0=1.0, alpha=alpha)
    x = np.logspace(4, 14, 200)  # for tiny alpha and small x, eps0 - loss underflows double precision
    y = law.predict(x)
    assert np.all((y > 0.1) & (y < 1.0))
    lhs = np.log(y - 0.1) - alpha * np.log(1.0 - y)
    rhs = np.log(50.0) - 0.5 * np.log(x)
    np.testing.assert_allclose(lhs, rhs, atol=1e-8)
    assert np.all(np.diff(y) < 0), "M4 is monotone decreasing in x"


@pytest.mark.parametrize("law", [M1, M2, M3, M4], ids=lambda c: c.name)
def test_predictions_are_finite_for_any_positive_x(law):
    fitted = law.from_params(**TRUE[law])
    x = np.array([1e-300, 1e-30, 1e-5, 1.0, 1e10, 1e100, 1e300])
    y = fitted.predict(x)
    assert np.all(np.isfinite(y)) and np.all(y > 0)


# -- global optimality: a slow, obviously-correct dense search ---------------------

def _dense_search_loss(logx, y, columns, target):
    """min over (a, k >= 0) of mean((target - a - columns @ k)^2), by NNLS with a split intercept."""
    A = np.column_stack([np.ones_like(logx), -np.ones_like(logx)] + columns)
    coef, rnorm = nnls(A, target)
    return rnorm**2 / len(target)


def _dense_m2(x, y, n=4000):
    logx = np.log(x)
    gaps = np.geomspace(y.min() * 1e-7, y.min(), n)  # eps_inf = min - gap, from just below min to 0
    return min(_dense_search_loss(logx, y, [-logx], np.log(y - (y.min() - g))) for g in gaps)


def _dense_m3(x, y, n=4000):
    logx = np.log(x)
    gammas = np.concatenate([[0.0], np.geomspace(1e-5 / x.max(), 1e3 / x.min(), n)])
    return min(_dense_search_loss(logx, y, [np.log(1 / x + g)], np.log(y)) for g in gammas)


def _dense_m4(x, y, eps0_values, n=300):
    logx = np.log(x)
    best = np.inf
    for g in np.geomspace(y.min() * 1e-7, y.min(), n):
        lhs = np.log(y - (y.min() - g))
        for e0 in eps0_values:
            best = min(best, _dense_search_loss(logx, y, [-logx, np.log(e0 - y)], lhs))
    return best


@pytest.fixture(scope="module")
def some_curves(bench):
    keys = [("IC", "inet_10", "BiT/101/3"), ("IC", "c_5", "ViT/S/16"), ("NMT", "log_perplexity", "6 Enc, 6 Dec"),
            ("LM", "val_loss", "1.07e+09"), ("BB", "('unit', '2-shot')", "262M")]
    return [bench.curve(*k) for k in keys]


def test_m2_and_m3_fits_are_global(some_curves):
    for curve in some_curves:
        x, y = curve.x_fit, curve.loss_fit
        assert M2(estimator="eq4").fit(x, y).loss_ <= _dense_m2(x, y) * (1 + 1e-9) + 1e-15, curve.label
        assert M3(estimator="eq4").fit(x, y).loss_ <= _dense_m3(x, y) * (1 + 1e-9) + 1e-15, curve.label


def test_m4_fits_are_global(some_curves):
    for curve in some_curves:
        x, y = curve.x_fit, curve.loss_fit
        law = law_for_domain("M4", curve.domain, "eq4")
        lo, hi = law._eps0_bounds(y.max())
        eps0_values = y.max() + np.geomspace(lo - y.max(), hi - y.max(), 25)
        assert law.fit(x, y).loss_ <= _dense_m4(x, y, eps0_values) * (1 + 1e-9) + 1e-15, curve.label
        fixed = M4(eps0=max(1.0, y.max() + 0.01), estimator="eq4").fit(x, y)
        assert fixed.loss_ <= _dense_m4(x, y, [fixed.eps0]) * (1 + 1e-9) + 1e-15, curve.label


def test_local_search_is_never_better_than_global(some_curves):
    for curve in some_curves:
        x, y = curve.x_fit, curve.loss_fit
        assert M2(estimator="eq4").fit(x, y).loss_ <= M2(search="local").fit(x, y).loss_ + 1e-15
        glob = law_for_domain("M4", curve.domain, "global").fit(x, y)
        loc = law_for_domain("M4", curve.domain, search="local").fit(x, y)
        assert glob.loss_ <= loc.loss_ + 1e-15


# -- bad input ---------------------------------------------------------------------

GOOD_Y = M2.from_params(**TRUE[M2]).predict(X)


@pytest.mark.parametrize("law", [M1, M2, M3, M4], ids=lambda c: c.name)
@pytest.mark.parametrize("x, y, match", [
    (np.r_[X[:-1], np.nan], GOOD_Y, "NaN/inf"),
    (X, np.r_[GOOD_Y[:-1], np.inf], "NaN/inf"),
    (np.r_[0.0, X[1:]], GOOD_Y, "x must be > 0"),
    (np.r_[-1.0, X[1:]], GOOD_Y, "x must be > 0"),
    (X, np.r_[0.0, GOOD_Y[1:]], "loss must be > 0"),
    (X[:-1], GOOD_Y, "same length"),
    (X[:1], GOOD_Y[:1], "parameters but the curve has only 1"),
    (np.r_[X[0], X[:-1]], np.r_[GOOD_Y[0] * 1.01, GOOD_Y[:-1]], "more than once with different losses"),
    (X, ["a"] * X.size, "numeric"),
])
def test_bad_input_is_rejected_with_a_clear_message(law, x, y, match):
    with pytest.raises(ValueError, match=match):
        law().fit(x, y)


def test_exact_duplicates_are_allowed():
    y = M2.from_params(**TRUE[M2]).predict(X)
    fitted = M2().fit(np.r_[X, X], np.r_[y, y])
    assert fitted.params_["c"] == pytest.approx(-0.4, rel=1e-5)


def test_loss_at_or_above_eps0_is_rejected():
    y = np.r_[1.0, GOOD_Y[1:]]
    with pytest.raises(ValueError, match="below eps0"):
        M4(eps0=1.0).fit(X, y)
    with pytest.raises(ValueError, match="raise eps0_max"):
        M4(learn_eps0=True, eps0_max=1.0, estimator="eq4").fit(X, np.r_[1.0 - EPS0_MARGIN / 2, GOOD_Y[1:]])


def test_training_loss_outside_the_domain_is_an_error():
    law = M2.from_params(beta=1.0, c=-0.5, eps_inf=0.3)
    with pytest.raises(ValueError, match="outside"):
        law.training_loss(X, np.full(X.size, 0.2))


def test_bad_settings_and_unfitted_use():
    with pytest.raises(ValueError, match="alpha"):
        M4(alpha=-1.0)
    with pytest.raises(ValueError, match="search"):
        M2(search="lucky")
    with pytest.raises(RuntimeError, match="not fitted"):
        M2().predict(X)
    with pytest.raises(ValueError, match="missing"):
        M4.from_params(beta=1.0, c=-0.5)
    with pytest.raises(ValueError, match="unknown law"):
        law_for_domain("M9", "IC")
    with pytest.raises(ValueError, match="does not take"):
        law_for_domain("M1", "IC", search="local")
    with pytest.raises(ValueError, match="x must be > 0"):
        M1.from_params(beta=1.0, c=-0.5).predict([1.0, 0.0])


# -- registry, case-insensitive names, and single local descents from a start -------------------------
def test_registry_lookup_is_case_insensitive_and_guarded():
    from scaling.laws import LAWS, PAPER_LAWS, register_law, resolve_law_name

    assert PAPER_LAWS == ("M1", "M2", "M3", "M4") and all(name in LAWS for name in PAPER_LAWS)
    assert resolve_law_name(" m4 ") == "M4"
    assert isinstance(law_for_domain("m2", "IC"), M2)
    with pytest.raises(ValueError, match="unknown law 'M7'"):
        resolve_law_name("M7")
    with pytest.raises(TypeError, match="ScalingLaw subclass"):
        register_law(dict)

    class Impostor(M1):
        name = "M1"

    with pytest.raises(ValueError, match="already registered"):
        register_law(Impostor)
    assert LAWS["M1"] is M1


@pytest.mark.parametrize("make, expected", [
    (lambda **kw: M1(**kw), ()), (lambda **kw: M2(**kw), ("eps_inf",)), (lambda **kw: M3(**kw), ("gamma",)),
    (lambda **kw: M4(**kw), ("eps_inf",)), (lambda **kw: M4(learn_eps0=True, eps0_max=1.5, **kw), ("eps_inf", "eps0")),
])
def test_random_starts_are_feasible_and_a_start_gives_one_local_descent(make, expected):
    truth = TRUE[M4]
    y = M4.from_params(**truth).predict(X)
    law = make()
    assert law.searched_params == expected
    rng = np.random.default_rng(0)
    for _ in range(5):
        start = law.random_start(X, y, rng)
        assert set(start) == set(expected)
        fitted = make(start=start).fit(X, y)
        assert np.isfinite(fitted.loss_) and np.all(np.isfinite(fitted.predict(X)))
        # a single descent can stop in a worse valley but never beats the global search
        assert fitted.loss_ >= make().fit(X, y).loss_ - 1e-12


def test_a_local_descent_ends_in_the_valley_downhill_of_its_start():
    # On this noiseless M2 curve the profile loss over eps_inf has two valleys split by a ridge near
    # eps_inf = 0.18: the true 0.2 just below min(loss) = 0.205, and the boundary eps_inf = 0 (M1).
    y = M2.from_params(**TRUE[M2]).predict(X)
    ridge = np.linspace(0.1, 0.2, 201)[np.argmax(M2().profile(X, y, np.linspace(0.1, 0.2, 201)))]
    assert 0.17 < ridge < 0.19
    assert M2(start={"eps_inf": 0.195}).fit(X, y).params_["eps_inf"] == pytest.approx(0.2, rel=1e-4)
    assert M2(start={"eps_inf": 0.15}).fit(X, y).params_["eps_inf"] == 0.0
    assert M2(estimator="eq4").fit(X, y).params_["eps_inf"] == pytest.approx(0.2, rel=1e-5)  # the global search
    # the released start (min(loss) - 1e-3) lies on the near side of the ridge
    assert M2(search="local").fit(X, y).params_["eps_inf"] == pytest.approx(0.2, rel=1e-4)


@pytest.mark.parametrize("law, start, match", [
    (M1, {"eps_inf": 0.1}, "exactly the searched parameters"),
    (M2, {"gamma": 0.1}, "exactly the searched parameters"),
    (M2, {"eps_inf": np.nan}, "finite"),
    (M2, {"eps_inf": "abc"}, "numbers"),
    (M2, [0.1], "must be a dict"),
])
def test_bad_starts_are_rejected_with_a_clear_message(law, start, match):
    with pytest.raises(ValueError, match=match):
        law(start=start)


def test_out_of_range_starts_are_rejected_at_fit_time():
    y = M4.from_params(**TRUE[M4]).predict(X)
    with pytest.raises(ValueError, match="starting eps_inf"):
        M2(start={"eps_inf": 5.0}).fit(X, y)
    with pytest.raises(ValueError, match="starting gamma"):
        M3(start={"gamma": -1.0}).fit(X, y)
    with pytest.raises(ValueError, match="starting eps0"):
        M4(learn_eps0=True, eps0_max=1.5, start={"eps_inf": 0.1, "eps0": 3.0}).fit(X, y)


# -- choosing the estimator ------------------------------------------------------------------------
def test_sound_is_the_default_and_eq4_is_selectable():
    from scaling.laws.sound import fit_sound

    rng = np.random.default_rng(3)
    y = M2.from_params(**TRUE[M2]).predict(X) * np.exp(rng.normal(0, 0.02, X.size))
    assert M2().estimator == "sound" and law_for_domain("M4", "IC").estimator == "sound"
    assert M2().fit(X, y).params_ == pytest.approx(fit_sound(M2(), X, y).params_)
    eq4 = M2(estimator="eq4").fit(X, y)
    assert eq4.loss_ == pytest.approx(eq4.training_loss(X, y))  # Eq. 4 reports the paper's loss
    # search= and start= steer the Eq. 4 minimisation, so they select it
    assert M2(search="global").estimator == "eq4" and M2(start={"eps_inf": 0.1}).estimator == "eq4"
    assert M2(search="global").fit(X, y).params_ == pytest.approx(eq4.params_)
    # and law_for_domain maps the benchmark's names onto the laws' arguments
    for name, (est, search) in {"sound": ("sound", "global"), "global": ("eq4", "global"), "eq4": ("eq4", "global"),
                                "local": ("eq4", "local")}.items():
        m4 = law_for_domain("M4", "LM", name)
        assert (m4.estimator, m4.search) == (est, search)
        assert law_for_domain("M3", "LM", name).estimator == est
    assert law_for_domain("BNSL", "LM", "global").name == "BNSL"  # later laws have one fit of their own


def test_estimator_arguments_are_checked():
    with pytest.raises(ValueError, match="estimator must be one of"):
        M2(estimator="lucky")
    with pytest.raises(ValueError, match="pass estimator='eq4'"):
        M4(estimator="sound", search="local")
    with pytest.raises(ValueError, match="unknown estimator 'released'"):
        law_for_domain("M2", "IC", "released")
