"""Tests for scaling.benchmark.synthetic: the noisy-sphere logistic-regression learning curves."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from scaling.benchmark import synthetic as S


def unit(d, k=0):
    e = np.zeros(d)
    e[k] = 1.0
    return e


def vector_at_angle(w_star, theta, rng):
    """A unit vector at angle theta from the unit vector w_star."""
    v = rng.standard_normal(w_star.size)
    v -= (v @ w_star) * w_star
    v /= np.linalg.norm(v)
    return math.cos(theta) * w_star + math.sin(theta) * v


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_sphere_unit_norm_and_isotropic(dtype):
    X = S.sample_sphere(20_000, 10, np.random.default_rng(1), dtype=dtype)
    assert X.shape == (20_000, 10) and X.dtype == dtype
    np.testing.assert_allclose(np.linalg.norm(X.astype(np.float64), axis=1), 1.0, atol=1e-6)
    # E x = 0 and E x x^T = I / d for the uniform law on the sphere
    se = math.sqrt(1 / 10 / 20_000)
    assert np.all(np.abs(X.mean(axis=0)) < 5 * se)
    cov = X.T.astype(np.float64) @ X / 20_000
    np.testing.assert_allclose(np.diag(cov), 0.1, atol=0.01)


def test_sample_sphere_prefix_property():
    a = S.sample_sphere(70_000, 5, np.random.default_rng(7), dtype=np.float32)
    b = S.sample_sphere(1_234, 5, np.random.default_rng(7), dtype=np.float32)
    np.testing.assert_array_equal(a[:1_234], b)


def test_noisy_labels_flip_rate_and_sign():
    d, n, delta = 8, 100_000, 0.2
    w_star = vector_at_angle(unit(d), 1.0, np.random.default_rng(0))   # not a basis vector
    X = S.sample_sphere(n, d, np.random.default_rng(2))
    y = S.noisy_labels(X, w_star, delta, np.random.default_rng(3))
    assert set(np.unique(y)) == {-1, 1}
    flipped = np.mean(y != np.sign(X @ w_star))
    assert abs(flipped - delta) < 4 * math.sqrt(delta * (1 - delta) / n)
    assert np.all(S.noisy_labels(X, w_star, 0.0, np.random.default_rng(3)) == np.sign(X @ w_star))


def test_fast_signed_sample_equals_public_functions():
    n, d, delta = 3_000, 7, 0.2
    U = S._signed_sample(n, d, delta, np.random.SeedSequence(5, spawn_key=(0, n)))
    ss_x, ss_flip = np.random.SeedSequence(5, spawn_key=(0, n)).spawn(2)
    X = S.sample_sphere(n, d, np.random.Generator(np.random.PCG64(ss_x)), dtype=np.float32)
    y = S.noisy_labels(X, unit(d), delta, np.random.Generator(np.random.PCG64(ss_flip)))
    np.testing.assert_array_equal(U, X * y[:, None])


# ---------------------------------------------------------------------------------------------
# exact error
# ---------------------------------------------------------------------------------------------

def test_exact_error_endpoints():
    d, delta = 100, 0.2
    w_star = unit(d, 3)
    assert S.exact_error(5 * w_star, w_star, delta) == pytest.approx(delta, abs=1e-15)
    assert S.exact_error(-w_star, w_star, delta) == pytest.approx(1 - delta, abs=1e-15)
    assert S.exact_error(unit(d, 0), w_star, delta) == pytest.approx(0.5)
    assert S.exact_error(np.zeros(d), w_star, delta) == pytest.approx(0.5)    # sign(0): a coin
    assert S.error_from_angle(np.array([0.0, np.pi]), 0.1) == pytest.approx([0.1, 0.9])
    # batched w, and the angle of a tiny deviation is resolved accurately
    W = np.stack([w_star + 1e-9 * unit(d, 0), -w_star])
    np.testing.assert_allclose(S.angle_to(W, w_star), [1e-9, np.pi], rtol=1e-6)


@pytest.mark.parametrize("theta", [0.3, 1.2, 2.5])
def test_exact_error_matches_monte_carlo(theta):
    d, delta, n = 100, 0.2, 200_000
    rng = np.random.default_rng(11)
    w_star = vector_at_angle(unit(d), 0.7, rng)
    w = 3.0 * vector_at_angle(w_star, theta, rng)
    assert S.angle_to(w, w_star) == pytest.approx(theta, abs=1e-12)
    X = S.sample_sphere(n, d, rng, dtype=np.float32)
    y = S.noisy_labels(X, w_star, delta, rng)
    mc = np.mean(np.where(X @ w.astype(np.float32) >= 0, 1, -1) != y)
    exact = S.exact_error(w, w_star, delta)
    assert exact == pytest.approx(delta + (1 - 2 * delta) * theta / np.pi)
    assert abs(mc - exact) < 3 * math.sqrt(exact * (1 - exact) / n)


# ---------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [15, 400])
def test_train_logistic_matches_scipy_lbfgs(n):
    d, l2 = 20, 1e-3
    rng = np.random.default_rng(n)
    X = S.sample_sphere(n, d, rng)
    y = S.noisy_labels(X, unit(d), 0.2, rng)
    w = S.train_logistic(X, y, l2=l2)
    U = X * y[:, None]

    def objective(v):
        m = U @ v
        p = np.exp(log_expit(-m))
        return -log_expit(m).sum() + 0.5 * l2 * v @ v, -U.T @ p + l2 * v

    ref = minimize(objective, np.zeros(d), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 20_000}).x
    assert objective(w)[0] <= objective(ref)[0] + 1e-9
    np.testing.assert_allclose(w, ref, rtol=1e-4, atol=1e-4 * np.linalg.norm(ref))
    # float32 inputs give the same answer up to float32 rounding
    w32 = S.train_logistic(X.astype(np.float32), y, l2=l2)
    assert S.angle_to(w32, w / np.linalg.norm(w)) < 1e-5


def test_population_optimum_is_the_large_sample_limit():
    pop = S.population_optimum(100, 0.2)
    assert pop["a_star"] > 0 and pop["h_par"] > 0 and pop["h_perp"] > 0
    d, n = 100, 100_000
    U = S._signed_sample(n, d, 0.2, np.random.SeedSequence(0))
    w0, h = S._start_and_hessian(d, 0.2, 1e-3, n)
    with S._single_threaded_blas():
        w, info = S._fit_signed(U, 1e-3)                  # plain Newton from zero
        assert info["converged"] and info["solver"] == "newton"
        # the chord method from the population optimum reaches the same minimiser
        w_chord, info = S._fit_signed(U, 1e-3, w0=w0, h_diag=h)
    assert np.linalg.norm(w) == pytest.approx(pop["a_star"], rel=0.03)
    assert info["converged"] and info["solver"] == "chord"
    assert S.angle_to(w_chord, w / np.linalg.norm(w)) < 1e-5


# ---------------------------------------------------------------------------------------------
# the learning curve
# ---------------------------------------------------------------------------------------------

def test_default_grid_is_the_papers():
    assert S.DEFAULT_SIZES.size == 50
    assert S.DEFAULT_SIZES[:10].tolist() == [10, 13, 16, 20, 26, 32, 41, 52, 66, 83]
    assert S.DEFAULT_SIZES[-1] == 1_000_000


def test_three_regimes_d100():
    """d = 100, delta = 0.2: near-chance plateau at n = 10, power law with slope ~ -1/2."""
    small = S.logistic_learning_curve([10], d=100, delta=0.2, seed=0, n_seeds=8)
    excess_10 = small["excess_risk"].mean()
    assert 0.24 <= excess_10 <= 0.30                 # random guessing would give 0.3
    sizes = np.logspace(4, 6, 7)
    big = S.logistic_learning_curve(sizes, d=100, delta=0.2, seed=0)
    assert big["converged"].all()
    assert np.all(np.diff(big["excess_risk"]) < 0)
    slope = np.polyfit(np.log(big["n"]), np.log(big["excess_risk"]), 1)[0]
    assert -0.6 <= slope <= -0.4
    assert 0.002 < big["excess_risk"].iloc[-1] < 0.006    # paper's figure: about 0.004 at 10^6


def test_curve_columns_and_intermediate_regime():
    df = S.logistic_learning_curve([10, 100, 1000, 3000], d=100, seed=3, n_seeds=2)
    assert list(df.columns) == ["n", "seed", "error", "excess_risk", "theta", "converged",
                                "n_iter"]
    assert df["seed"].tolist() == [3, 3, 3, 3, 4, 4, 4, 4]
    np.testing.assert_allclose(df["excess_risk"], df["error"] - 0.2)
    np.testing.assert_allclose(df["error"], 0.2 + 0.6 * df["theta"] / np.pi)
    mean = S.aggregate_curve(df).set_index("n")["mean"]
    assert mean[1000] < mean[100] < mean[10]


def test_curve_deterministic_and_grid_independent():
    kw = dict(d=30, delta=0.1, n_seeds=2)
    a = S.logistic_learning_curve([10, 50, 2000], seed=4, n_jobs=1, **kw)
    b = S.logistic_learning_curve([2000, 10, 50], seed=4, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(a, b)
    c = S.logistic_learning_curve([50, 300], seed=4, **kw)
    pd.testing.assert_frame_equal(a[a.n == 50].reset_index(drop=True),
                                  c[c.n == 50].reset_index(drop=True))
    other = S.logistic_learning_curve([10, 50, 2000], seed=5, **kw)
    assert not np.allclose(a["error"], other["error"])


def test_nested_design_uses_prefixes():
    kw = dict(d=30, delta=0.2, seed=1, n_seeds=2, nested=True)
    a = S.logistic_learning_curve([20, 500, 4000], **kw)
    b = S.logistic_learning_curve([20, 500], **kw)          # shorter stream, same prefixes
    pd.testing.assert_frame_equal(a[a.n < 4000].reset_index(drop=True), b)
    indep = S.logistic_learning_curve([20, 500], d=30, delta=0.2, seed=1, n_seeds=2)
    assert not np.allclose(indep["error"], b["error"])


def test_aggregate_curve():
    df = pd.DataFrame({"n": [10, 10, 10, 20], "seed": [0, 1, 2, 0],
                       "excess_risk": [0.1, 0.2, 0.3, 0.05]})
    agg = S.aggregate_curve(df)
    assert agg["n"].tolist() == [10, 20]
    assert agg["mean"].tolist() == pytest.approx([0.2, 0.05])
    assert agg["std"].iloc[0] == pytest.approx(0.1)
    assert agg["sem"].iloc[0] == pytest.approx(0.1 / math.sqrt(3))
    assert agg["n_seeds"].tolist() == [3, 1] and np.isnan(agg["std"].iloc[1])
    with pytest.raises(ValueError, match="missing column"):
        S.aggregate_curve(df, value="theta")


# ---------------------------------------------------------------------------------------------
# multi-pass SGD (bootstrapped examples)
# ---------------------------------------------------------------------------------------------

def test_sgd_small_subset_coincides_then_overfits():
    kw = dict(total_steps=10_000, batch_size=10, d=200, delta=0.2, lr=1.0, seed=0)
    small = S.sgd_multi_pass_curve(500, **kw)
    large = S.sgd_multi_pass_curve(None, **kw)
    huge = S.sgd_multi_pass_curve(200_000, **kw)    # never completes a pass: same as fresh data
    pd.testing.assert_series_equal(large["error"], huge["error"])
    assert small["examples_seen"].tolist() == large["examples_seen"].tolist()
    assert small["error"].iloc[0] == large["error"].iloc[0] == pytest.approx(0.5)
    first_pass = small["examples_seen"] <= 500
    assert first_pass.sum() >= 10
    # identical mini-batches during the first pass over the small subset
    np.testing.assert_array_equal(small["error"][first_pass], large["error"][first_pass])
    # ... and a clear gap soon after it (2 passes) that keeps growing
    gap = small["error"] - large["error"]
    after = small["examples_seen"] >= 1000
    assert gap[after].iloc[0] > 0.01
    assert gap.iloc[-1] > 0.1
    # the small subset overfits: its error has a minimum and then rises
    assert small["error"].iloc[-1] > small["error"].min() + 0.003
    assert large["error"].iloc[-1] < 0.25
    assert small["epochs"].iloc[-1] == pytest.approx(200.0)
    assert large["epochs"].isna().all()


def test_sgd_eval_every_and_train_error():
    df = S.sgd_multi_pass_curve(100, 95, batch_size=7, d=10, eval_every=10, record_train=True)
    assert df["step"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]
    assert df["train_error"].between(0, 1).all() and df["train_error"].iloc[0] == 1.0
    again = S.sgd_multi_pass_curve(100, 95, batch_size=7, d=10, eval_every=10, record_train=True)
    pd.testing.assert_frame_equal(df, again)


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(d=1), "d .* >= 2"),
    (dict(d=2.5), "d .* integer"),
    (dict(delta=0.5), r"delta .* \[0, 0.5\)"),
    (dict(delta=-0.1), r"delta .* \[0, 0.5\)"),
    (dict(delta="0.2"), "delta"),
    (dict(sizes=[0, 10]), "positive integers"),
    (dict(sizes=[-5]), "positive integers"),
    (dict(sizes=[10, np.nan]), "finite"),
    (dict(sizes=[]), "non-empty"),
    (dict(sizes="100"), "sizes"),
    (dict(sizes=[True, False]), "booleans"),
    (dict(sizes=[[10, 20]]), "1-D"),
    (dict(n_seeds=0), "n_seeds"),
    (dict(seed=-1), "seed"),
    (dict(l2=0.0), "l2 must be > 0"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(nested="yes"), "nested"),
])
def test_curve_bad_inputs(kwargs, match):
    base = dict(sizes=[10, 20], d=5)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        S.logistic_learning_curve(**base)


def test_curve_memory_guard():
    with pytest.raises(ValueError, match="GiB"):
        S.logistic_learning_curve([10**9], d=100)


def test_low_level_bad_inputs():
    rng = np.random.default_rng(0)
    X = S.sample_sphere(10, 3, rng)
    y = S.noisy_labels(X, unit(3), 0.2, rng)
    with pytest.raises(ValueError, match="n .* >= 1"):
        S.sample_sphere(0, 3, rng)
    with pytest.raises(ValueError, match="d .* >= 2"):
        S.sample_sphere(5, 1, rng)
    with pytest.raises(ValueError, match="dtype"):
        S.sample_sphere(5, 3, rng, dtype=np.int32)
    with pytest.raises(ValueError, match="rng"):
        S.sample_sphere(5, 3, "seed")
    with pytest.raises(ValueError, match="unit vector"):
        S.noisy_labels(X, [1.0, 1.0, 0.0], 0.2, rng)
    with pytest.raises(ValueError, match="length d"):
        S.noisy_labels(X, unit(4), 0.2, rng)
    with pytest.raises(ValueError, match="delta"):
        S.noisy_labels(X, unit(3), 0.7, rng)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        S.train_logistic(X, (y + 1) // 2)
    with pytest.raises(ValueError, match="shape"):
        S.train_logistic(X, y[:5])
    with pytest.raises(ValueError, match="NaN"):
        S.train_logistic(np.full((10, 3), np.nan), y)
    with pytest.raises(ValueError, match="l2 must be > 0"):
        S.train_logistic(X, y, l2=0)
    with pytest.raises(ValueError, match="w0"):
        S.train_logistic(X, y, w0=np.zeros(4))
    with pytest.raises(ValueError, match="theta"):
        S.error_from_angle(4.0, 0.2)
    with pytest.raises(ValueError, match="unit vector"):
        S.exact_error(np.ones(3), 2 * unit(3), 0.2)
    with pytest.raises(ValueError, match="NaN"):
        S.exact_error(np.array([np.nan, 0, 0]), unit(3), 0.2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(subset_size=0), "subset_size"),
    (dict(total_steps=0), "total_steps"),
    (dict(batch_size=0), "batch_size"),
    (dict(lr=0.0), "lr"),
    (dict(lr=float("inf")), "lr"),
    (dict(d=1), "d .* >= 2"),
    (dict(delta=0.5), "delta"),
    (dict(eval_every=0), "eval_every"),
    (dict(l2=-1.0), "l2"),
])
def test_sgd_bad_inputs(kwargs, match):
    base = dict(subset_size=50, total_steps=20, batch_size=5, d=10)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        S.sgd_multi_pass_curve(**base)
