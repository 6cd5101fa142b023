"""Tests for scaling.studies.foundations (Figures 2, 3, 4) and the figure functions the chapters use."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from scaling.studies import foundations as E# noqa: E402
from scaling import ledger
from scaling.studies import foundations_plots  # noqa: E402
from scaling.report import plotting# noqa: E402
from scaling.benchmark import LearningCurve  # noqa: E402
from scaling.laws import M2  # noqa: E402
from scaling.benchmark.synthetic import DEFAULT_SIZES, logistic_learning_curve  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    plotting.set_style()
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def small_curve():
    """A cheap Figure 2 curve: the paper's d and delta, sizes up to 10^5, three seeds."""
    sizes = DEFAULT_SIZES[DEFAULT_SIZES <= 100_000]
    return logistic_learning_curve(sizes, d=100, delta=0.2, n_seeds=3, nested=True)


def m2_curve(c=-0.3, eps_inf=0.3, beta=40.0, n=60):
    x = np.geomspace(1e7, 3e9, n)
    loss = M2.from_params(beta=beta, c=c, eps_inf=eps_inf).predict(x)
    return LearningCurve("IC", "inet_10", "ViT/B/16", "ImageNet", 10, x, loss, x < 1.5e9)


# --------------------------------------------------------------------------------------------
# Figure 2
# --------------------------------------------------------------------------------------------

def test_figure2_fits_shape_and_m4_exponent(small_curve):
    fits = E.figure2_fits(small_curve)
    assert len(fits) == 12 and fits["c"].notna().all()
    assert set(fits["law"]) == {"M1", "M2", "M3", "M4"}
    assert list(fits["cutoff"].unique()) == list(E.FIGURE2_CUTOFFS)
    m4 = fits.query("law == 'M4' and cutoff == 1000")["c"].iloc[0]
    assert abs(m4 - E.THEORY_EXPONENT) < 0.1
    # the fitted law objects predict, and M4 uses the fixed random-guessing loss
    row = fits.query("law == 'M4' and cutoff == 100").iloc[0]
    assert row["eps0"] == E.FIGURE2_EPS0
    assert np.all(np.isfinite(row["fitted"].predict([1e7])))
    # M1 and M3 have no floor of their own; eps_inf is NaN for them
    assert fits.query("law in ['M1', 'M3']")["eps_inf"].isna().all()


def test_figure2_fits_uses_the_mean_over_seeds(small_curve):
    mean = E.mean_curve(small_curve)
    from_mean = E.figure2_fits(mean.rename(columns={"mean": "error"}), [1000], laws=("M2",))
    from_seeds = E.figure2_fits(small_curve, [1000], laws=("M2",))
    assert from_mean["c"].iloc[0] == pytest.approx(from_seeds["c"].iloc[0], rel=1e-9)


def test_figure2_seed_fits_and_items(small_curve):
    seed_fits = E.figure2_seed_fits(small_curve)
    assert len(seed_fits) == 3 * 3 * 4 and "fitted" not in seed_fits
    fits = E.figure2_fits(small_curve)
    items = E.figure2_items(fits, seed_fits)
    ref = ledger.load_reference()
    assert set(items["item"]) == set(ref.loc[ref["source"] == "Figure 2", "item"])
    assert (items["ours_error"] >= 0).all()
    out = ledger.compare(items, ref[ref["source"] == "Figure 2"])
    assert (out["status"] != "not-yet").all()


def test_figure2_input_errors(small_curve):
    with pytest.raises(ValueError, match="lacks column"):
        E.figure2_fits(small_curve.drop(columns="error"))
    with pytest.raises(ValueError, match="cutoff"):
        E.figure2_fits(small_curve, [1e9])
    with pytest.raises(ValueError, match="unknown law"):
        E.figure2_fits(small_curve, laws=("M5",))
    with pytest.raises(ValueError, match="does not take"):
        E.figure2_curve(dimension=3)


def test_asymptotic_excess_risk_matches_simulation():
    n = np.array([20_000, 50_000])
    theory = E.asymptotic_excess_risk(n, d=100, delta=0.2)
    # slope exactly -1/2
    assert np.log(theory[1] / theory[0]) / np.log(n[1] / n[0]) == pytest.approx(-0.5)
    sim = logistic_learning_curve(n, d=100, delta=0.2, n_seeds=4, nested=True)
    mean = sim.groupby("n")["excess_risk"].mean().to_numpy()
    np.testing.assert_allclose(mean, theory, rtol=0.15)
    with pytest.raises(ValueError):
        E.asymptotic_excess_risk([0.0])


def test_local_slope():
    x = np.geomspace(1, 1e4, 30)
    s = E.local_slope(x, 3 * x**-0.7, window=5)
    assert np.isnan(s[:2]).all() and np.isnan(s[-2:]).all()
    np.testing.assert_allclose(s[2:-2], -0.7)
    with pytest.raises(ValueError, match="odd"):
        E.local_slope(x, x, window=4)
    with pytest.raises(ValueError, match="positive"):
        E.local_slope(x, -x)


# --------------------------------------------------------------------------------------------
# Figure 3
# --------------------------------------------------------------------------------------------

def test_sweep_recovers_the_exponent_of_an_exact_m2_curve():
    curve = m2_curve(c=-0.3)
    sweep = E.fixed_exponent_sweep(curve, np.round(np.linspace(0, -0.6, 61), 2))
    assert len(sweep) == 61
    minima = E.sweep_minima(sweep)
    assert minima.loc["interpolation", "argmin_c"] == pytest.approx(-0.3)
    assert minima.loc["extrapolation", "argmin_c"] == pytest.approx(-0.3)
    assert minima.loc["extrapolation", "min_rmse"] < 1e-6


def test_sweep_windows_ignore_the_training_flag():
    curve = m2_curve()
    sweep = E.fixed_exponent_sweep(curve, [-0.3], fit_range=(1e8, 5e8), test_range=(1e9, 2e9))
    x = curve.x
    assert sweep["n_fit"].iloc[0] == ((x >= 1e8) & (x <= 5e8)).sum()
    assert sweep["n_test"].iloc[0] == ((x >= 1e9) & (x <= 2e9)).sum()


def test_sweep_input_errors():
    curve = m2_curve()
    with pytest.raises(ValueError, match="fit_range"):
        E.fixed_exponent_sweep(curve, [-0.3], fit_range=(1e12, 2e12))
    with pytest.raises(ValueError, match="test_range"):
        E.fixed_exponent_sweep(curve, [-0.3], test_range=(1e12, 2e12))
    with pytest.raises(ValueError, match="low <= high"):
        E.fixed_exponent_sweep(curve, [-0.3], fit_range=(5e8, 1e8))
    with pytest.raises(ValueError, match="c_grid"):
        E.fixed_exponent_sweep(curve, [0.2])


def test_sweep_on_the_real_curve(bench):
    curve = bench.curve(*E.FIGURE3_CURVE)
    sweep = E.fixed_exponent_sweep(curve)
    assert len(sweep) == 101 and sweep["converged"].all()
    minima = E.sweep_minima(sweep)
    extrap = minima.loc["extrapolation", "argmin_c"]
    interp = minima.loc["interpolation", "argmin_c"]
    assert -0.6 <= extrap <= -0.2
    assert interp > extrap   # the best-fitting exponent is less negative
    items = E.figure3_items(minima)
    ref = ledger.load_reference()
    assert set(items["item"]) == set(ref.loc[ref["source"] == "Figure 3", "item"])
    sens = E.window_sensitivity(curve, [0.0, 1e8], c_grid=np.round(np.linspace(0, -0.8, 41), 2))
    assert len(sens) == 2
    assert (sens["extrapolation_argmin_c"] < sens["interpolation_argmin_c"]).all()


# --------------------------------------------------------------------------------------------
# Figure 4
# --------------------------------------------------------------------------------------------

def test_bootstrap_curves_share_the_first_pass():
    curves = E.bootstrap_curves([50, 200], total_steps=300, batch_size=5, d=40,
                                record_train=[50])
    assert set(curves["subset"]) == {"50", "200", "fresh"}
    pivot = curves.pivot(index="examples_seen", columns="subset", values="error")
    first = pivot.index <= 200
    assert np.array_equal(pivot.loc[first, "200"], pivot.loc[first, "fresh"])
    assert curves.loc[curves["subset"] == "50", "train_error"].notna().all()
    assert curves.loc[curves["subset"] == "200", "train_error"].isna().all()
    np.testing.assert_allclose(curves["accuracy"], 1 - curves["error"])
    where = E.departures(curves)
    assert list(where["subset_size"]) == [50.0, 200.0]
    assert (where["departs_at"].dropna() > where["subset_size"][where["departs_at"].notna()]).all()


def test_bootstrap_input_errors():
    with pytest.raises(ValueError, match="record_train"):
        E.bootstrap_curves([50], total_steps=10, record_train=[60])
    with pytest.raises(ValueError, match="does not take"):
        E.bootstrap_curves([50], total_steps=10, momentum=0.9)
    no_fresh = E.bootstrap_curves([50], total_steps=10, d=10, fresh=False)
    with pytest.raises(ValueError, match="fresh"):
        E.departures(no_fresh)


# --------------------------------------------------------------------------------------------
# Ledger and figures
# --------------------------------------------------------------------------------------------

def test_producers_are_registered_once():
    E._register()   # importing the module registered them already; a second call adds nothing
    registry = ledger.producers()
    for source, func in E.LEDGER_PRODUCERS.items():
        assert registry[source].count(func) == 1


def test_figure2_and_regime_plots(small_curve):
    mean = E.mean_curve(small_curve)
    fits = E.figure2_fits(small_curve)
    theory = lambda n: E.asymptotic_excess_risk(n, 100, 0.2)  # noqa: E731
    fig = foundations_plots.plot_cutoff_panels(mean, fits, delta=0.2, theory=theory)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("cutoff")]
    assert len(panels) == 3 and all(ax.get_yscale() == "log" for ax in panels)
    labels = [t.get_text() for t in panels[0].get_legend().get_texts()]
    assert labels[0].startswith("M1, c = ") and len(labels) == 4
    # the fourth slot of the 2 x 2 grid explains the shared marks
    shared = [t.get_text() for t in fig.axes[3].get_legend().get_texts()]
    assert "fitted" in shared and "left out" in shared
    fig = foundations_plots.plot_cutoff_panels(mean, fits, delta=0.2, ncols=3)   # the paper's row
    assert len(fig.axes) == 3 and fig.legends
    slope = E.local_slope(mean["n"], mean["mean"] - 0.2)
    fig = foundations_plots.plot_learning_regimes(mean, slope, delta=0.2, boundaries=(100, 1000),
                                         theory=theory)
    assert len(fig.axes) == 2


def test_figure3_plots_and_slider():
    curve = m2_curve()
    sweep = E.fixed_exponent_sweep(curve, np.round(np.linspace(0, -1, 101), 2))
    minima = E.sweep_minima(sweep)
    kw = dict(fit_range=E.FIGURE3_FIT_RANGE, test_range=E.FIGURE3_TEST_RANGE)
    fig = foundations_plots.plot_figure3(curve, sweep, left_cs=E.FIGURE3_LEFT_CS,
                                middle_cs=E.FIGURE3_MIDDLE_CS, minima=minima, **kw)
    assert len(fig.axes) == 3
    assert len(fig.axes[0].get_lines()) == len(E.FIGURE3_LEFT_CS)
    fig = foundations_plots.plot_fixed_exponent_grid(curve, sweep, [-0.1, -0.3, -0.5], **kw)
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    with pytest.raises(ValueError, match="no exponent"):
        foundations_plots.plot_fixed_exponent_fits(curve, sweep, [-0.123], **kw)
    widget = foundations_plots.exponent_slider(curve, sweep, minima=minima, **kw)
    slider = widget.children[0]
    slider.value = -0.5          # redraws without error
    assert slider.value == -0.5


def test_live_frontend(monkeypatch):
    monkeypatch.delenv("SCALING_WIDGETS", raising=False)
    assert foundations_plots.live_frontend() is False      # plain Python: no kernel
    monkeypatch.setenv("SCALING_WIDGETS", "1")
    assert foundations_plots.live_frontend() is True
    monkeypatch.setenv("SCALING_WIDGETS", "0")
    assert foundations_plots.live_frontend() is False


def test_bootstrap_plots():
    curves = E.bootstrap_curves([50, 200], total_steps=300, batch_size=5, d=40,
                                record_train=[50])
    ax = foundations_plots.plot_bootstrap_curves(curves)
    assert ax.get_xscale() == "log"
    ax = foundations_plots.plot_train_test_gap(curves, 50)
    assert len(ax.get_lines()) == 3
    with pytest.raises(ValueError, match="record_train"):
        foundations_plots.plot_train_test_gap(curves, 200)
    with pytest.raises(ValueError, match="metric"):
        foundations_plots.plot_bootstrap_curves(curves, metric="loss")
