"""Quick checks of the book's figure functions (Agg backend, synthetic curves, no data files)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from scaling.report import plotting# noqa: E402
from scaling.benchmark import LearningCurve  # noqa: E402
from scaling.laws import M2, M4  # noqa: E402


def make_curve(domain="IC", model="ViT/B/16", n=30, split=20, seed=0):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e9, n)
    loss = M4.from_params(beta=300.0, c=-0.4, eps_inf=0.2, eps0=1.0, alpha=0.3).predict(x)
    loss = loss * np.exp(rng.normal(0, 0.002, n))
    is_fit = np.arange(n) < split
    return LearningCurve(domain, "inet_10", model, "ImageNet", 10, x, loss, is_fit)


@pytest.fixture(autouse=True)
def _close_figures():
    plotting.set_style()
    yield
    plt.close("all")


def same_color(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a), mcolors.to_rgba(b))


def test_set_style_is_whitegrid_colorblind():
    assert plt.rcParams["axes.grid"]
    first = plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    assert same_color(first, sns.color_palette("colorblind")[0])
    assert same_color(plotting.COLORS["law"], sns.color_palette("colorblind")[0])


def test_extrapolation_grid_spans_to_three_times_last_held_out_x():
    curve = make_curve()
    grid = plotting.extrapolation_grid(curve)
    assert grid[0] == pytest.approx(curve.x.min())
    assert grid[-1] == pytest.approx(3 * curve.x_test.max())
    assert np.all(np.diff(np.log(grid)) > 0)
    with pytest.raises(ValueError, match="factor"):
        plotting.extrapolation_grid(curve, factor=0)


def test_plot_fit_colours_scale_and_extent():
    curve = make_curve()
    law = M2().fit(curve.x_fit, curve.loss_fit)
    ax = plotting.plot_fit(curve, law)
    assert ax.get_xscale() == "log"
    fit_pts, test_pts = ax.collections[:2]
    assert same_color(fit_pts.get_facecolor()[0], plotting.COLORS["fit"])
    assert same_color(test_pts.get_facecolor()[0], plotting.COLORS["held_out"])
    assert len(fit_pts.get_offsets()) == curve.n_fit and len(test_pts.get_offsets()) == curve.n_test
    (line,) = ax.get_lines()
    assert same_color(line.get_color(), plotting.COLORS["law"])
    assert line.get_xdata()[-1] == pytest.approx(3 * curve.x_test.max())
    assert "RMSE" in line.get_label()
    assert ax.get_title() == curve.label


def test_plot_curves_small_multiples():
    curves = [make_curve(seed=s) for s in range(5)]
    fig = plotting.plot_curves(curves, ncols=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5 and len(fig.axes) == 6
    assert all(ax.get_xscale() == "log" for ax in visible)
    assert fig.legends, "small multiples carry one figure-level legend"
    laws = [M2().fit(c.x_fit, c.loss_fit) for c in curves[:4]] + [None]
    fig = plotting.plot_curves(curves, laws=laws, ncols=5)
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1, 1, 1, 0]
    with pytest.raises(ValueError, match="one per curve"):
        plotting.plot_curves(curves, laws=laws[:2])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_curves([])


def test_plot_law_grid_one_panel_per_law():
    curve = make_curve()
    laws = {"M2": M2().fit(curve.x_fit, curve.loss_fit), "M4": M4().fit(curve.x_fit, curve.loss_fit)}
    fig = plotting.plot_law_grid(curve, laws)
    assert [ax.get_title() for ax in fig.axes] == ["M2", "M4"]
    fig = plotting.plot_law_grid(curve, list(laws.values()))
    assert [ax.get_title() for ax in fig.axes] == ["M2", "M4"]


def test_plot_functions_and_profiles():
    x = np.geomspace(1, 1e6, 50)
    ax = plotting.plot_functions(x, {"a": x**-0.5, "b": x**-0.3}, logy=True)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    grid = np.linspace(0, 0.3, 40)
    ax = plotting.plot_profile(grid, {"M2": 1 + grid**2}, best={"M2": {"global": 0.0, "local": 0.2}})
    assert len(ax.get_lines()) == 3
    values = np.add.outer(grid, np.linspace(0, 1, 10)) + 1e-3
    ax = plotting.plot_profile_2d(grid, np.linspace(0, 1, 10), values, best=(0.1, 0.5))
    assert ax.get_lines()
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_profile_2d(grid, np.linspace(0, 1, 10), values.T)


def test_narrow_log_axis_gets_enough_labels():
    narrow = LearningCurve("IC", "inet_10", "x", "ImageNet", 10, np.geomspace(1e8, 4e8, 10),
                           np.linspace(0.5, 0.4, 10), np.arange(10) < 6)
    ax = plotting.plot_curve(narrow)
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    inside = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(inside) >= 2, f"only {inside} labelled on a log axis from {lo:g} to {hi:g}"
