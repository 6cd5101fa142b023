"""The Chinchilla-style estimator: recovery, robustness, the Huber gradient, optimality, starts and errors."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime, minimize
from threadpoolctl import threadpool_limits

from scaling import LAWS, M2, Chinchilla, law_for_domain
from scaling.laws.chinchilla import HUBER_DELTA, huber_objective

X = np.logspace(6, 9, 30)
TRUE = dict(beta=20.0, c=-0.4, eps_inf=0.2)


def m2_by_hand(x, beta, c, eps_inf):
    return eps_inf + beta * x**c


def test_recovers_m2_parameters_from_a_noiseless_curve():
    fitted = Chinchilla().fit(X, m2_by_hand(X, **TRUE))
    for name, value in TRUE.items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-5), name
    assert fitted.loss_ < 1e-14 and fitted.huber_loss_ < 1e-14
    assert fitted.converged_


def test_huber_loss_ignores_an_outlier_that_pulls_least_squares_away():
    y = m2_by_hand(X, **TRUE)
    y[5] *= 1.5  # one grossly wrong measurement
    robust = Chinchilla().fit(X, y)
    squared = M2().fit(X, y)
    assert robust.params_["c"] == pytest.approx(TRUE["c"], rel=1e-3)
    assert abs(squared.params_["c"] - TRUE["c"]) > 10 * abs(robust.params_["c"] - TRUE["c"])


def test_losses_reported_are_the_mean_squared_log_residual_and_the_huber_objective():
    rng = np.random.default_rng(2)
    y = m2_by_hand(X, **TRUE) * np.exp(rng.normal(0, 0.02, X.size))
    law = Chinchilla().fit(X, y)
    log_resid = np.log(y) - np.log(law.predict(X))
    assert law.loss_ == pytest.approx(np.mean(log_resid**2), rel=1e-9)
    r = np.abs(log_resid)
    huber = np.where(r <= HUBER_DELTA, 0.5 * r**2, HUBER_DELTA * (r - 0.5 * HUBER_DELTA))
    assert law.huber_loss_ == pytest.approx(huber.mean(), rel=1e-9)


@pytest.mark.parametrize("theta", [[-2.0, 7.0, 0.4], [-1.6, 5.0, 0.2], [0.5, 12.0, 1.1], [-30.0, 3.0, 0.0]])
def test_huber_gradient_matches_finite_differences(theta):
    rng = np.random.default_rng(5)
    logx = np.log(X)
    # small residuals (quadratic branch) and large ones (linear branch) both occur
    logy = np.log(m2_by_hand(X, **TRUE)) + rng.normal(0, 3e-3, X.size)
    theta = np.array(theta)
    f, g = huber_objective(theta, logx, logy, with_grad=True)
    g_fd = approx_fprime(theta, lambda t: huber_objective(t, logx, logy), 1e-8)
    np.testing.assert_allclose(g, g_fd, rtol=1e-4, atol=1e-9)
    # the batched form agrees with the single-point form
    fb, gb = huber_objective(np.stack([theta, theta + 0.1]), logx, logy, with_grad=True)
    assert fb[0] == pytest.approx(f) and np.allclose(gb[0], g)


# -- global optimality against a slow multi-start reference --------------------------------------
@pytest.fixture(scope="module")
def some_curves(bench):
    return [bench.by_domain("IC")[7], bench.by_domain("IC")[40], bench.by_domain("NMT")[0],
            bench.by_domain("LM")[2], bench.by_domain("BB")[3]]


def _reference(x, y, n_starts, rng):
    """Best Huber objective of L-BFGS-B from many random starts spread far wider than the fit's grid.

    (The gradient is the one checked against finite differences above; BLAS runs single-threaded,
    as multi-threaded BLAS makes L-BFGS-B many times slower on a busy machine.)
    """
    logx, logy = np.log(x), np.log(y)

    def fg(t):
        f, g = huber_objective(t, logx, logy, with_grad=True)
        return f / HUBER_DELTA, g / HUBER_DELTA

    best = np.inf
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(n_starts):
            t0 = np.array([logy.min() + rng.uniform(-8, 0.5), rng.uniform(-5, 25), rng.uniform(0, 2)])
            res = minimize(fg, t0, jac=True, method="L-BFGS-B", bounds=[(None, None), (None, None), (0, 10)],
                           options={"maxiter": 3000, "ftol": 1e-15, "gtol": 1e-12})
            best = min(best, res.fun * HUBER_DELTA)
    return best


def test_fit_is_at_least_as_good_as_a_dense_multistart(some_curves):
    rng = np.random.default_rng(0)
    for curve in some_curves:
        ours = Chinchilla().fit(curve.x_fit, curve.loss_fit)
        assert ours.huber_loss_ <= _reference(curve.x_fit, curve.loss_fit, 20, rng) * (1 + 1e-6), curve.label
        assert ours.converged_


# -- starts -------------------------------------------------------------------------------------
def test_random_starts_are_feasible_and_a_start_gives_one_local_descent():
    y = m2_by_hand(X, **TRUE)
    law = Chinchilla()
    assert law.searched_params == ("eps_inf", "beta", "c")
    rng = np.random.default_rng(1)
    for _ in range(5):
        start = law.random_start(X, y, rng)
        assert start["eps_inf"] > 0 and start["beta"] > 0 and start["c"] <= 0
        assert np.isfinite(Chinchilla(start=start).fit(X, y).huber_loss_)
    near = Chinchilla(start={"eps_inf": 0.15, "beta": 10.0, "c": -0.3}).fit(X, y)
    assert near.params_["c"] == pytest.approx(TRUE["c"], rel=1e-4)


@pytest.mark.parametrize("start, match", [
    ({"eps_inf": 0.1, "beta": 1.0}, "searched parameters"),
    ({"eps_inf": 0.1, "beta": 1.0, "c": np.inf}, "finite"),
])
def test_malformed_starts_are_rejected(start, match):
    with pytest.raises(ValueError, match=match):
        Chinchilla(start=start)


@pytest.mark.parametrize("start", [{"eps_inf": 0.0, "beta": 1.0, "c": -0.3}, {"eps_inf": 0.1, "beta": -1.0, "c": -0.3},
                                   {"eps_inf": 0.1, "beta": 1.0, "c": 0.3}])
def test_infeasible_starts_are_rejected_at_fit_time(start):
    with pytest.raises(ValueError, match="start needs"):
        Chinchilla(start=start).fit(X, m2_by_hand(X, **TRUE))


# -- overflow safety and input errors ----------------------------------------------------------
@pytest.mark.parametrize("params", [TRUE, dict(beta=1e100, c=-10.0, eps_inf=1e-30), dict(beta=1e-100, c=0.0, eps_inf=5.0)])
def test_predictions_are_finite_from_tiny_to_huge_x(params):
    pred = Chinchilla.from_params(**params).predict(np.logspace(-3, 30, 200))
    assert np.all(np.isfinite(pred)) and np.all(pred > 0)


@pytest.mark.parametrize("x, y, match", [
    (X[:2], [0.9, 0.8], "3 parameters"),
    (X, np.r_[m2_by_hand(X[:-1], **TRUE), np.inf], "NaN/inf"),
    (X, np.r_[m2_by_hand(X[:-1], **TRUE), 0.0], "> 0"),
])
def test_bad_input_is_rejected_with_a_clear_message(x, y, match):
    with pytest.raises(ValueError, match=match):
        Chinchilla().fit(x, y)


def test_bad_settings_and_parameters_are_rejected():
    with pytest.raises(ValueError, match="delta"):
        Chinchilla(delta=0.0)
    with pytest.raises(ValueError, match="eps_inf > 0"):
        Chinchilla.from_params(beta=1.0, c=-0.3, eps_inf=0.0)
    with pytest.raises(ValueError, match="c <= 0"):
        Chinchilla.from_params(beta=1.0, c=0.3, eps_inf=0.1)


def test_registration_and_case_insensitive_lookup():
    assert LAWS["Chinchilla"] is Chinchilla
    assert isinstance(law_for_domain("chinchilla", "BB"), Chinchilla)
    assert law_for_domain("CHINCHILLA", "IC", delta=0.01).delta == 0.01
