"""Our reimplementation of the released estimation algorithm (scaling.released)."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import nnls

from scaling.evaluate import rmse_standard_error
from scaling.laws import M4
from scaling.released import (
    ERR_MARGIN,
    fit_released,
    fit_released_batch,
    options_for,
    predict_released,
    run_released_benchmark,
    standard_error,
)

# The released schedule shortened (fewer gradient epochs, more Newton steps per round), so
# that a fit takes a fraction of a second; the algorithm and its fixed point are the same.
FAST = dict(gd_iterations=5, gd_epochs=100, newton_steps=50, max_iterations=2000)
RUN_BENCHMARK_COLUMNS = ["domain", "task", "model", "law", "rmse", "se", "fit_seconds", "converged",
                         "train_loss", "beta", "c", "eps_inf", "eps0", "alpha", "gamma", "error"]


def _m4_curve(x, **truth):
    return M4.from_params(**truth).predict(x)


def test_m2_converges_to_the_truth_on_a_clean_curve():
    x = np.logspace(2, 6, 15)
    y = 0.2 + 2.0 * x ** -0.3
    fit = fit_released("M2", x, y, **FAST)
    p = fit["params"]
    assert fit["converged"] and fit["n_iter"] > FAST["gd_iterations"]
    assert p["eps_inf"] == pytest.approx(0.2, rel=1e-6)
    assert p["beta"] == pytest.approx(2.0, rel=1e-6)
    assert p["c"] == pytest.approx(-0.3, rel=1e-6)
    assert fit["loss"] < 1e-15
    assert set(fit) >= {"params", "loss", "n_iter", "seconds", "converged"}


def test_m4_converges_to_the_truth_with_eps0_fixed():
    truth = dict(beta=10.0, c=-0.5, eps_inf=0.1, eps0=1.0, alpha=0.6)
    x = np.logspace(1, 5, 20)
    fit = fit_released("M4", x, _m4_curve(x, **truth), eps0=1.0, update_eps0=False, up_bound=None, **FAST)
    assert fit["converged"]
    for key, value in truth.items():
        assert fit["params"][key] == pytest.approx(value, rel=1e-5), key


def test_m3_improves_on_m1_and_keeps_gamma_non_negative():
    x = np.logspace(3, 8, 12)
    y = 5.0 * (1.0 / x + 1e-6) ** 0.25
    m1 = fit_released("M1", x, y)
    m3 = fit_released("M3", x, y)
    assert m3["params"]["gamma"] >= 0 and m3["params"]["c"] <= 0
    assert m3["loss"] < 0.1 * m1["loss"]
    # the literal reading (only the per-point candidates compete) is available as a variant
    alt = fit_released("M3", x, y, keep_gamma=False, max_iterations=200)
    assert alt["params"]["gamma"] >= 0


def test_projection_bounds_hold():
    rng = np.random.default_rng(1)
    x = np.logspace(6, 9, 14)
    # the best M2 fit of this curve has eps_inf = -0.1 < 0, so the walk ends on the lower bound 0
    y = -0.1 + 3.0 * x ** -0.1
    p = fit_released("M2", x, y, **FAST)["params"]
    assert p["eps_inf"] == 0.0
    # with a lower bound the floor is lo_bound - ERR_MARGIN
    p = fit_released("M2", x, y, lo_bound=0.05, **FAST)["params"]
    assert p["eps_inf"] == pytest.approx(0.05 - ERR_MARGIN)
    # here the truth 0.3 lies within ERR_MARGIN of min(loss): the walk ends on the upper bound
    x2 = np.arange(1.0, 15.0)
    y2 = 0.3 + 0.5 * x2 ** -3.0
    fit = fit_released("M2", x2, y2, **FAST)
    assert fit["params"]["eps_inf"] == y2.min() - ERR_MARGIN and fit["converged"]
    # noisy error-rate curves near 1: eps0 must stay in [max + 1e-3, up_bound + 1e-3], eps_inf in [0, min - 1e-3]
    ys = [np.clip(_m4_curve(x, beta=1e4, c=-0.5, eps_inf=0.3, eps0=1.0, alpha=1.0)
                  * np.exp(rng.normal(0, 0.01, x.size)), 0.0, 0.99) for _ in range(3)]
    for fit, y in zip(fit_released_batch("M4", [x] * 3, ys, "IC", **{**FAST, "max_iterations": 120}), ys):
        q = fit["params"]
        assert 0.0 <= q["eps_inf"] <= y.min() - ERR_MARGIN
        assert y.max() + ERR_MARGIN - 1e-15 <= q["eps0"] <= 1.0 + ERR_MARGIN + 1e-15
        assert q["alpha"] >= 0


def test_grid_prediction_matches_the_exact_m4_solution_to_grid_resolution():
    x = np.logspace(5, 10, 40)
    for params in (dict(beta=200.0, c=-0.4, eps_inf=0.2, eps0=1.0, alpha=0.7),
                   dict(beta=3.0, c=-0.15, eps_inf=0.0, eps0=1.3, alpha=2.5),
                   dict(beta=1e3, c=-0.6, eps_inf=0.05, eps0=0.9, alpha=0.02)):
        exact = M4.from_params(**params).predict(x)
        for grid in (10_000, 1_000):
            approx = predict_released("M4", params, x, grid_size=grid)
            # the smallest residual is at one of the two grid points around the root
            step = (params["eps0"] - params["eps_inf"]) / (grid - 1)
            assert np.max(np.abs(approx - exact)) <= step + 1e-12
            assert np.median(np.abs(approx - exact)) <= step / 2
    # |alpha| < 1e-5: the released code returns M2's formula
    params = dict(beta=2.0, c=-0.3, eps_inf=0.1, eps0=1.0, alpha=5e-6)
    np.testing.assert_allclose(predict_released("M4", params, x), 0.1 + 2.0 * x ** -0.3)


def test_released_m4_has_beta_at_least_one():
    # the truth has beta < 1, which the released non-negative regression cannot represent
    x = np.logspace(1, 4, 15)
    y = _m4_curve(x, beta=0.3, c=-0.4, eps_inf=0.05, eps0=1.0, alpha=0.5)
    for kw in ({}, dict(update_alpha=False), dict(update_alpha=False, alpha=2.0)):
        p = fit_released("M4", x, y, "IC", **FAST, **kw)["params"]
        assert p["beta"] >= 1.0
        assert p["c"] <= 0.0 and p["alpha"] >= 0.0
        if "update_alpha" in kw:
            assert p["alpha"] == kw.get("alpha", 1.0)
    # the linear step is scipy's nnls: with eps_inf and eps0 frozen, one round gives its answer
    p = fit_released("M4", x, y, eps0=1.0, update_eps0=False, up_bound=None, max_iterations=1, gd_epochs=0)["params"]
    A = np.column_stack([np.ones_like(x), -np.log(x), np.log(1.0 - y)])
    coef, _ = nnls(A, np.log(y - (y.min() - ERR_MARGIN)))
    np.testing.assert_allclose([np.log(p["beta"]), -p["c"], p["alpha"]], coef, rtol=1e-10, atol=1e-12)


def test_a_batch_follows_the_same_path_as_single_fits():
    xs = [np.logspace(2, 6, 12), np.logspace(3, 7, 9)]
    ys = [0.2 + 2.0 * xs[0] ** -0.3, 0.05 + 7.0 * xs[1] ** -0.45]
    batch = fit_released_batch("M2", xs, ys, **FAST)
    for fit, x, y in zip(batch, xs, ys):
        one = fit_released("M2", x, y, **FAST)
        assert one["n_iter"] == fit["n_iter"]
        for key in ("beta", "c", "eps_inf"):
            assert one["params"][key] == pytest.approx(fit["params"][key], rel=1e-9)


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown option"):
        fit_released("M2", [1, 2, 3, 4], [0.9, 0.8, 0.7, 0.65], learning_rate=1e-7)
    with pytest.raises(ValueError, match="does not use"):
        fit_released("M3", [1, 2, 3, 4], [0.9, 0.8, 0.7, 0.65], lr=1e-7)
    with pytest.raises(ValueError, match="needs a domain"):
        fit_released("M4", [1, 2, 3, 4], [0.9, 0.8, 0.7, 0.65])
    with pytest.raises(ValueError, match="unknown domain"):
        options_for("M4", "XX")
    with pytest.raises(ValueError, match="hessian"):
        options_for("M2", hessian="bfgs")
    with pytest.raises(ValueError, match="no feasible"):
        fit_released("M4", [1, 2, 3, 4], [0.9, 0.8, 0.7, 0.65], eps0=1.0, up_bound=0.5)
    assert options_for("M4", "BB")["eps0"] == 1.001 and options_for("M4", "NMT")["up_bound"] is None
    assert options_for("M2")["lr"] == 1e-8 and options_for("M2", lr=1e-7)["lr"] == 1e-7


def test_standard_error_variants():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.3, 0.6, 400)
    p = y * np.exp(rng.normal(0.01, 0.01, y.size))
    assert standard_error(y, p, "released") == rmse_standard_error(y, p)
    assert standard_error(y, p, "ddof1") > standard_error(y, p, "released")
    # the delta method and the bootstrap estimate the same thing
    assert standard_error(y, p, "bootstrap") == pytest.approx(standard_error(y, p, "delta"), rel=0.15)
    for method in ("released", "ddof1", "delta", "bootstrap"):
        assert standard_error([0.5], [0.52], method) == 0.0
    with pytest.raises(ValueError, match="unknown standard-error"):
        standard_error(y, p, "jackknife")


def _fake_curve(domain, task, model, x, y, n_fit):
    return SimpleNamespace(domain=domain, task=task, model=model, x_fit=x[:n_fit], loss_fit=y[:n_fit],
                           x_test=x[n_fit:], loss_test=y[n_fit:])


def test_run_released_benchmark_on_a_fake_two_curve_bench():
    x = np.logspace(6, 9, 16)
    curves = [_fake_curve("NMT", "log_perplexity", "a", x, 0.3 + 40 * x ** -0.35, 12),
              _fake_curve("NMT", "log_perplexity", "b", x, 0.2 + 9 * x ** -0.25, 12)]
    bench = SimpleNamespace(curves=curves)
    res = run_released_benchmark(bench, progress=False, **{**FAST, "max_iterations": 300})
    assert list(res.columns[:len(RUN_BENCHMARK_COLUMNS)]) == RUN_BENCHMARK_COLUMNS
    assert {"n_iter", "se_ddof1", "se_delta", "se_bootstrap"} <= set(res.columns)
    assert len(res) == 8 and (res["error"] == "").all()
    assert res["rmse"].notna().all() and (res["rmse"] >= 0).all()
    by_law = res.set_index(["model", "law"])["rmse"]
    assert (by_law.xs("M2", level="law") < by_law.xs("M1", level="law")).all()  # clean M2 curves
    assert res.loc[res.law == "M1", "eps_inf"].isna().all()
    assert res.loc[res.law == "M3", "gamma"].notna().all()
    # options a law does not use are left out for that law rather than refused
    res = run_released_benchmark(bench, laws=("M1", "M3"), progress=False, lr=1e-7)
    assert len(res) == 4
    with pytest.raises(ValueError, match="unknown law"):
        run_released_benchmark(bench, laws=("M5",), progress=False)


def test_run_released_benchmark_on_real_curves(bench):
    curves = bench.by_domain("NMT")[:2]
    res = run_released_benchmark(curves, laws=("M1", "M3"), progress=False)
    assert list(res.columns[:len(RUN_BENCHMARK_COLUMNS)]) == RUN_BENCHMARK_COLUMNS
    assert len(res) == 4 and res["rmse"].notna().all()
    # M1 is a single least-squares fit: the same as the package's M1
    from scaling.evaluate import fit_curve
    for curve in curves:
        ours = fit_curve(curve, "M1")["rmse"]
        assert res[(res.model == curve.model) & (res.law == "M1")]["rmse"].iloc[0] == pytest.approx(ours, rel=1e-9)


def test_common_lm_cut_reproduces_the_m1_column_of_table_2(bench):
    from scaling.ledger import compare, load_reference, table2_from_results
    from scaling.released import LM_TABLE2_FIT_X_MAX, cut_fit

    lm = bench.by_domain("LM")
    # the cut is half the largest x of the shortest LM curve
    assert LM_TABLE2_FIT_X_MAX == min(c.x.max() for c in lm) / 2
    cut = cut_fit(lm, LM_TABLE2_FIT_X_MAX)
    assert {c.model: c.x_fit.size for c in cut} == {"1.07e+09": 11, "1.34e+08": 11, "1.68e+07": 27,
                                                     "2.62e+08": 27, "4.53e+08": 11}
    assert all(np.array_equal(c.x_test, o.x_test) for c, o in zip(cut, lm))
    res = run_released_benchmark(cut, laws=("M1",), progress=False)
    led = compare(table2_from_results(res), load_reference(), strict=False)
    m1 = led[(led.domain == "LM") & (led.law == "M1") & (led.quantity == "rmse")]
    assert (m1["status"] == "reproduced").all()
    # cutting another domain is a no-op when domains= excludes it
    assert [c.x_fit.size for c in cut_fit(bench.by_domain("NMT"), 1.0, domains="LM")] == [9, 10, 10, 10, 9]
    with pytest.raises(ValueError, match="no fitting point"):
        cut_fit(lm, 1.0)


def test_rescore_on_the_duplicated_lm_rows_keeps_rmse_and_shrinks_se(bench):
    from scaling.data import load_benchmark
    from scaling.released import rescore

    curves = bench.by_domain("LM")[:2]
    res = run_released_benchmark(curves, laws=("M1",), progress=False)
    again = rescore(res, load_benchmark(drop_duplicates=False))
    np.testing.assert_allclose(again["rmse"], res["rmse"], rtol=1e-12)
    assert (again["se"] < 0.75 * res["se"]).all()


@pytest.mark.parametrize("newton", [False, True])
@pytest.mark.parametrize("update_e0", [False, True])
def test_scalar_kernel_is_the_batch_kernel_bit_for_bit(newton, update_e0):
    from scaling.released import _walk, _walk_one

    rng = np.random.default_rng(3)
    y = np.sort(rng.uniform(0.35, 0.9, 12))[::-1].copy()
    w = np.full(y.size, 1 / y.size)
    A = np.log(y - 0.3) + rng.normal(0, 0.05, y.size)
    scalars = (0.4, 0.33, 1.0, 0.0, y.min() - ERR_MARGIN, y.max() + ERR_MARGIN, np.inf)
    rest = (update_e0, 300, 0.1 if newton else 1e-8, newton, False)
    one = _walk_one(y, w, A, *scalars, *rest)
    batch = _walk(y[None], w[None], A[None], *(np.array([[v]]) for v in scalars), *rest)
    assert one[0] == batch[0][0, 0] and one[1] == batch[1][0, 0] and one[2] == batch[2]
