"""Tests of scaling.experiments_lang and of the plotting functions of the language chapters.

Fast: the NMT, LM and BB domains together hold 20 curves, and the package's estimators fit each in
milliseconds. Tests that need the benchmark use the ``bench`` fixture (skipped without
$SCALING_DATA_DIR); the others build small synthetic curves.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from scaling import experiments_lang as xl
from scaling import plotting
from scaling.data import LearningCurve, load_benchmark
from scaling.evaluate import rmse_standard_error
from scaling.laws import M1, M2


def _curve(domain="LM", model="1.68e+07", task="val_loss", n=30, n_test=10, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e9, 1e11, n)
    y = 0.8 + 2.0 * x ** -0.3 * np.exp(noise * rng.standard_normal(n))
    fit = np.arange(n) < n - n_test
    return LearningCurve(domain, task, model, "validation loss", None, x, y, fit)


@pytest.fixture(scope="module")
def variants(bench):
    return {d: xl.run_variants(bench, d) for d in ("NMT", "LM", "BB")}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- pure helpers -------------------------------------------------------------------------

def test_row_labels_follow_the_paper():
    assert xl.row_label("NMT", "Dec-only") == "Decoder-only /LM"
    assert xl.row_label("BB", "('ling', '2-shot')") == "linguistic_mappings: 2-shot"
    assert list(xl.ROW_LABELS["LM"])[0] == "1.68e+07"
    assert len(xl.ROW_LABELS["BB"]) == 10
    with pytest.raises(KeyError, match="not a row"):
        xl.row_label("NMT", "6Enc,6Dec")
    with pytest.raises(ValueError, match="unknown domain"):
        xl.row_label("IC", "ViT/B/16")


def test_truncate_fit_keeps_held_out_points():
    c = _curve()
    cut = xl.truncate_fit(c, 2e10)
    assert cut.x_fit.max() <= 2e10 < c.x_fit.max()
    np.testing.assert_array_equal(cut.x_test, c.x_test)
    np.testing.assert_array_equal(cut.loss_test, c.loss_test)
    with pytest.raises(ValueError, match="removes every fitting point"):
        xl.truncate_fit(c, 1.0)


def test_common_fit_window_is_half_of_the_shortest_run():
    long, short = _curve(n=30), _curve(n=20)
    short = LearningCurve("LM", "val_loss", "1.07e+09", "validation loss", None,
                          short.x / 2, short.loss, short.is_fit)
    assert xl.common_fit_window([long, short]) == pytest.approx(short.x.max() / 2)
    with pytest.raises(ValueError):
        xl.common_fit_window([])


def test_se_multiplier_inverts_the_released_formula():
    rng = np.random.default_rng(1)
    y = rng.uniform(0.5, 0.9, 24)
    pred = y * np.exp(0.02 + 0.01 * rng.standard_normal(24))
    se = rmse_standard_error(y, pred)
    assert xl.se_multiplier(y, pred, se) == pytest.approx(1.0)
    e = (np.log(pred) - np.log(y)) ** 2
    three = np.sqrt(e.mean() + 3 * e.std() / np.sqrt(e.size)) - np.sqrt(e.mean())
    assert xl.se_multiplier(y, pred, three) == pytest.approx(3.0)


def test_smooth_trend_and_noise_table():
    clean, noisy = _curve(noise=0.0), _curve(noise=0.01, seed=3)
    trend = xl.smooth_trend(clean)
    np.testing.assert_allclose(trend(clean.x), clean.loss, rtol=2e-3)
    table = xl.noise_table([clean, noisy])
    assert list(table.columns[:5]) == ["domain", "task", "model", "label", "points"]
    assert table["noise"].iloc[1] > 10 * table["noise"].iloc[0]
    assert (table["improvement"] > 0).all()
    with pytest.raises(ValueError, match="needs more"):
        xl.smooth_trend(_curve(n=4, n_test=1))


def test_law_from_row_round_trips_parameters():
    c = _curve()
    law = M2().fit(c.x_fit, c.loss_fit)
    row = {"law": "M2", **law.params_}
    np.testing.assert_allclose(xl.law_from_row(row).predict(c.x_test), law.predict(c.x_test))


# --- on the benchmark ---------------------------------------------------------------------

def test_curves_of_returns_paper_order(bench):
    nmt = xl.curves_of(bench, "NMT")
    assert [c.model for c in nmt] == list(xl.ROW_LABELS["NMT"])
    with pytest.raises(ValueError, match="missing"):
        xl.curves_of(nmt[:2], "NMT")


def test_paper_table_matches_reference():
    rmse = xl.paper_table("NMT")
    assert rmse.loc["6 Enc, 6 Dec", "M4"] == pytest.approx(0.010)
    assert xl.paper_table("NMT", "se").isna().all().all()
    bold = xl.paper_table("NMT", "bold")
    assert bold.loc["TEnc-LSTM"].tolist() == [False, True, False, True]
    assert xl.paper_table("BB", "se").loc["('date', '2-shot')", "M1"] == pytest.approx(0.019)


def test_run_domain_and_reproduction(variants):
    res = variants["NMT"]["local"]
    assert list(res["model"].unique()) == list(xl.ROW_LABELS["NMT"])
    assert (res["search"] == "local").all()
    comp = xl.reproduction(res, "NMT")
    assert len(comp) == 20 and set(comp["quantity"]) == {"rmse"}
    counts = xl.status_counts(comp)
    assert counts.loc["all"].sum() == 20
    assert counts.loc["M1", "reproduced"] == 5  # plain least squares reproduces every NMT row
    assert xl.status_counts(xl.reproduction(variants["LM"]["global"], "LM"), "se").loc["all"].sum() == 20


def test_global_m2_collapses_to_m1_on_nmt(variants):
    search = xl.search_comparison(variants["NMT"], "NMT")
    assert len(search) == 20
    g = search.loc[("6 Enc, 6 Dec Layers", "M2", "global")]
    l = search.loc[("6 Enc, 6 Dec Layers", "M2", "local")]
    assert g["eps_inf"] == 0.0 and l["eps_inf"] > 0.2
    # the global fit is the better fit of the training points, the local one extrapolates better
    assert g["training loss"] < l["training loss"]
    assert l["RMSE"] < g["RMSE"]
    local = xl.ours_table(variants["NMT"]["local"], "NMT")
    assert local.loc["28 Enc, 6 Dec", "M2"] == pytest.approx(0.0564, abs=5e-4)


def test_common_window_reproduces_lm_m1(bench):
    windowed = xl.with_common_fit_window(bench)
    assert xl.common_fit_window(xl.curves_of(bench, "LM")) == pytest.approx(7.0962e10, rel=1e-4)
    res = xl.run_domain(windowed, "LM", "global", laws=("M1",))
    comp = xl.reproduction(res, "LM")
    assert (comp.query("law == 'M1' and quantity == 'rmse'")["status"] == "reproduced").all()


def test_m1_trials_invariances(bench):
    trials = xl.m1_trials(bench)
    base = trials["as released"]["rmse"].to_numpy()
    for name in ("x in millions", "loss / 0.999"):
        np.testing.assert_allclose(trials[name]["rmse"].to_numpy(), base, rtol=1e-8)
    assert not np.allclose(trials["first point dropped"]["rmse"].to_numpy(), base)


def test_rescore_with_copies_shrinks_lm_standard_errors(bench, variants):
    copies = load_benchmark(drop_duplicates=False)
    res = variants["LM"]["local"]
    again = xl.rescore(res, copies)
    np.testing.assert_allclose(again["rmse"], res["rmse"], rtol=1e-9)
    ratio = res["se"].to_numpy() / again["se"].to_numpy()
    assert np.all((ratio > 1.3) & (ratio < 2.01))


def test_tables_render_with_bold_winners(variants):
    styler = xl.side_by_side(variants["LM"]["local"], "LM", caption="t")
    assert styler.data.shape == (10, 4) and styler.data.index[1] == ("1.68e+07", "paper")
    assert styler.data.loc[("1.68e+07", "paper"), "M4"] == "3.1 ± 0.7 × 10⁻⁴"
    html = styler.to_html()
    assert "font-weight: bold" in html and "white-space: nowrap" in html
    view = xl.ledger_view({k: xl.reproduction(v, "BB") for k, v in variants["BB"].items()}, "BB")
    assert len(view) == 80 and "± status" in view.columns
    assert view.index[:2].tolist() == [("linguistic_mappings: 1-shot", "M1", "global"),
                                       ("linguistic_mappings: 1-shot", "M1", "local")]
    assert "background-color" in xl.style_ledger_view(view).to_html()
    shares = xl.win_shares({"local": xl.winners(variants["NMT"]["local"], "NMT")})
    assert shares.shape == (1, 4)
    fig1 = xl.win_share_reproduction(shares.loc["local"], "NMT")
    assert len(fig1) == 4 and set(fig1["source"]) == {"Figure 1"}


def test_se_calibration_finds_a_factor_near_three(bench, variants):
    calib = xl.se_calibration(variants["BB"]["global"], bench, "BB")
    typical = calib.loc[calib["multiplier"] < 10, "multiplier"]
    assert len(typical) >= 8
    assert 2.5 < typical.median() < 3.5


def test_exponent_reproduction_has_twenty_items(variants):
    fig9 = xl.exponent_reproduction(variants["LM"]["local"])
    assert len(fig9) == 20
    assert fig9["status"].isin(["reproduced", "within-error", "differs"]).all()


def test_released_m3_is_optional(bench):
    res = xl.released_m3(bench, "BB")
    if res is None:
        pytest.skip("scaling.released is not installed")
    assert set(res["law"]) == {"M3"} and len(res) == 10


# --- plotting -----------------------------------------------------------------------------

def test_plot_overlay_grid_draws_every_law():
    curves = [_curve(), _curve(seed=2)]
    fits = [{"M1": M1().fit(c.x_fit, c.loss_fit), "M2": M2().fit(c.x_fit, c.loss_fit)} for c in curves]
    fig = plotting.plot_overlay_grid(curves, fits, ncols=2, titles=["a", "b"])
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 2 and all(len(a.get_lines()) == 2 for a in axes)
    assert axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="one mapping per curve"):
        plotting.plot_overlay_grid(curves, fits[:1])


def test_plot_law_matrix_layout():
    curves = [_curve(), _curve(seed=2), _curve(seed=4)]
    fits = [{"M1": M1().fit(c.x_fit, c.loss_fit), "M2": M2().fit(c.x_fit, c.loss_fit)} for c in curves]
    fig = plotting.plot_law_matrix(curves, fits, row_labels=["p", "q", "r"])
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "M1" and fig.axes[0].get_ylabel() == "p"


def test_plot_exponents_and_noise_and_residuals():
    fig = plotting.plot_exponents([1e7, 1e8, 1e9], {"paper": {"M1": [-0.1, -0.2, -0.3]},
                                                    "ours": {"M1": [-0.1, -0.25, -0.3]}}, laws=("M1",))
    assert len(fig.axes[0].get_lines()) == 2
    curves = [_curve(noise=0.01, seed=s) for s in range(3)]
    fig = plotting.plot_trend_residuals(curves, [xl.smooth_trend(c) for c in curves], ncols=3)
    assert len(fig.axes) == 6
    table = pd.DataFrame({"domain": ["LM", "LM", "BB"], "noise / improvement": [0.01, 0.02, 0.05]})
    ax = plotting.plot_noise_by_domain(table)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="one per curve"):
        plotting.plot_trend_residuals(curves, [])
