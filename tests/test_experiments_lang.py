"""Tests of scaling.studies.lang and of the plotting functions of the language chapters.

Fast: the NMT, LM and BB domains together hold 20 curves; the package's estimators fit each in
milliseconds and the released emulation the 80 fits in a few seconds. Tests that need the
benchmark use the ``bench`` fixture (skipped without $SCALING_DATA_DIR); the others build small
synthetic curves.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from scaling.studies import lang as xl
from scaling.studies import lang_plots
from scaling.benchmark import LearningCurve, load_benchmark
from scaling.evaluate import FIGURE1_TIE_RULE, rmse_standard_error, win_fractions
from scaling.laws import M1, M2
from scaling.laws.released import LM_TABLE2_FIT_X_MAX, predict_released


def _curve(domain="LM", model="1.68e+07", task="val_loss", n=30, n_test=10, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e9, 1e11, n)
    y = 0.8 + 2.0 * x ** -0.3 * np.exp(noise * rng.standard_normal(n))
    fit = np.arange(n) < n - n_test
    return LearningCurve(domain, task, model, "validation loss", None, x, y, fit)


@pytest.fixture(scope="module")
def variants(bench):
    return {d: xl.run_variants(bench, d, estimators=("released", "global", "local")) for d in ("NMT", "LM", "BB")}


@pytest.fixture(scope="module")
def copies(bench):
    return load_benchmark(drop_duplicates=False)


@pytest.fixture(scope="module")
def released(copies):
    """The released estimator scored as the notebook does (every stored row)."""
    return {d: xl.run_domain(copies, d) for d in ("NMT", "LM", "BB")}


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


def test_fit_part_up_to_x_max_keeps_held_out_points():
    c = _curve()
    cut = c.with_fit_part(2e10)
    assert cut.x_fit.max() <= 2e10 < c.x_fit.max()
    np.testing.assert_array_equal(cut.x_test, c.x_test)
    np.testing.assert_array_equal(cut.loss_test, c.loss_test)
    with pytest.raises(ValueError, match="removes every fitting point"):
        c.with_fit_part(1.0)


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
    search = xl.search_comparison({k: variants["NMT"][k] for k in ("global", "local")}, "NMT")
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
    styler = lang_plots.side_by_side(variants["LM"]["local"], "LM", caption="t")
    assert styler.data.shape == (10, 4) and styler.data.index[1] == ("1.68e+07", "paper")
    assert styler.data.loc[("1.68e+07", "paper"), "M4"] == "3.1 ± 0.7 × 10⁻⁴"
    html = styler.to_html()
    assert "font-weight: bold" in html and "white-space: nowrap" in html
    view = xl.ledger_view({k: xl.reproduction(variants["BB"][k], "BB") for k in ("global", "local")}, "BB")
    assert len(view) == 80 and "± status" in view.columns
    assert view.index[:2].tolist() == [("linguistic_mappings: 1-shot", "M1", "global"),
                                       ("linguistic_mappings: 1-shot", "M1", "local")]
    assert "background-color" in lang_plots.style_ledger_view(view).to_html()
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
        pytest.skip("scaling.laws.released is not installed")
    assert set(res["law"]) == {"M3"} and len(res) == 10


# --- the released estimator (the paper's method) -----------------------------------------

def test_run_domain_defaults_to_the_released_code(released):
    res = released["NMT"]
    assert (res["estimator"] == "released").all() and (res["search"] == "released").all()
    assert list(res["model"].unique()) == list(xl.ROW_LABELS["NMT"])
    assert "n_iter" in res.columns  # a column only the released runner writes


def test_estimator_names_are_checked(bench):
    with pytest.raises(ValueError, match="unknown estimator"):
        xl.run_domain(bench, "NMT", "nonsense")
    with pytest.raises(ValueError, match="disagree"):
        xl.run_domain(bench, "NMT", "global", search="local")
    with pytest.raises(ValueError, match="unknown variant"):
        xl.run_released_variants(bench, "NMT", names=("lr 1e-6",))
    res = xl.run_domain(bench, "NMT", search="local", laws=("M1",))
    assert (res["estimator"] == "local").all()


def test_released_rows_predict_as_the_released_code(copies, released):
    res = released["LM"]
    row = res[(res["model"] == "1.07e+09") & (res["law"] == "M4")].iloc[0]
    law = xl.law_from_row(row)
    assert isinstance(law, xl.ReleasedFit) and law.name == "M4"
    curve = copies.curve("LM", "val_loss", "1.07e+09")
    params = {k: row[k] for k in ("beta", "c", "eps_inf", "eps0", "alpha")}
    np.testing.assert_array_equal(law.predict(curve.x_test), predict_released("M4", params, curve.x_test))
    again = xl.rescore(res, copies)
    np.testing.assert_allclose(again["rmse"], res["rmse"], rtol=1e-12)
    np.testing.assert_allclose(again["se"], res["se"], rtol=1e-12)
    fits = xl.fits_from_results(res, "LM")
    assert len(fits) == 5 and list(fits[0]) == ["M1", "M2", "M3", "M4"]
    assert all(isinstance(f, xl.ReleasedFit) for f in fits[4].values())


def test_released_nmt_table_and_bars(released):
    comp = xl.reproduction(released["NMT"], "NMT")
    counts = xl.status_counts(comp)
    assert counts.loc["M1", "reproduced"] == 5 and counts.loc["M4", "reproduced"] == 0
    assert counts.loc["all", "reproduced"] == 9
    bars = xl.figure1_bars({"released": released["NMT"]}, "NMT")
    np.testing.assert_allclose(bars.loc["released"], bars.loc["paper (Figure 1)"])
    agreement = xl.bold_agreement(released["NMT"], "NMT")
    assert agreement.loc["truncated", "agreeing cells"] == 20 == agreement.loc["truncated", "cells"]
    assert "within-paper-se" not in agreement.index  # NMT prints no ±


def test_bold_cells_and_bars_use_one_rule(released):
    for domain in ("NMT", "LM", "BB"):
        shares = xl.win_shares({"r": xl.winners(released[domain], domain)}).loc["r"]
        bars = win_fractions(released[domain], rule=FIGURE1_TIE_RULE).loc[domain]
        np.testing.assert_allclose(shares.to_numpy(), bars[shares.index].to_numpy())
    lm = xl.figure1_bars({"released": released["LM"]}, "LM").loc["released"]
    assert lm.tolist() == pytest.approx([0.0, 0.8, 0.4, 0.8])
    with pytest.raises(ValueError, match="unknown rule"):
        xl.winners(released["LM"], "LM", rule="median")


def test_difference_causes_on_nmt(bench, released):
    variants = xl.run_released_variants(bench, "NMT")
    comps = {"released": xl.reproduction(released["NMT"], "NMT")}
    comps |= {n: xl.reproduction(r, "NMT") for n, r in variants.items()}
    table = xl.difference_causes(comps, "NMT").set_index(["row", "law"])
    causes = table["cause"]
    assert (causes.xs("Decoder-only /LM", level="row") == "paper repeats 6 Enc, 6 Dec Layers").all()
    assert causes[("6 Enc, 6 Dec Layers", "M4")] == "unexplained"
    # truncation would print the LSTM M4 value as the paper's, but it is reported, not a cause
    assert table.loc[("Transformer Enc /LSTM Dec", "M4"), "truncates to paper"]
    assert causes[("Transformer Enc /LSTM Dec", "M4")] == "unexplained"
    counts = xl.cause_counts(causes.reset_index())
    assert counts["paper repeats a row"] == 3 and counts["unexplained"] == 8 and counts.sum() == 11
    up = xl.rounds_up(comps["released"], "NMT")
    assert len(up) == 9 and up[("TEnc-LSTM", "M2")] and not up[("6 Enc, 6 Dec", "M3")]


def test_truncation_and_repeated_rows_helpers():
    assert xl._truncates_to(0.01257, 0.012, "1.2 × 10⁻²")
    assert not xl._truncates_to(0.01257, 0.013, "1.3 × 10⁻²")
    assert xl._truncates_to(0.01, 0.010, "1.0 × 10⁻²")
    assert not xl._truncates_to(float("nan"), 0.01, "1.0 × 10⁻²")
    assert xl._repeated_rows("NMT") == {"Dec-only": "6 Enc, 6 Dec"}
    assert xl._repeated_rows("LM") == {}


def test_lm_common_window_with_the_released_code(copies):
    curves = xl.curves_of(copies, "LM")
    assert xl.common_fit_window(curves) == LM_TABLE2_FIT_X_MAX
    windowed = xl.with_common_fit_window(copies)
    cut = [c.with_fit_part(LM_TABLE2_FIT_X_MAX) for c in curves]
    for a, b in zip(windowed, cut):
        np.testing.assert_array_equal(a.x_fit, b.x_fit)
        np.testing.assert_array_equal(a.x_test, b.x_test)
    comp = xl.reproduction(xl.run_domain(windowed, "LM"), "LM")
    counts = xl.status_counts(comp)
    assert counts.loc["M1", "reproduced"] == 5
    assert counts.loc["all", "reproduced"] >= 14


def test_released_bigbench_agrees_on_m1_to_m3(released):
    counts = xl.status_counts(xl.reproduction(released["BB"], "BB"))
    for law in ("M1", "M2", "M3"):
        assert counts.loc[law, "reproduced"] + counts.loc[law, "within-error"] == 10
    assert counts.loc["M4", "reproduced"] == 0


def test_side_by_side_with_three_lines(released, variants):
    styler = lang_plots.side_by_side({"released": released["LM"], "global": variants["LM"]["global"]}, "LM",
                             status=True)
    assert styler.data.shape == (15, 4)
    assert [i[1] for i in styler.data.index[:3]] == ["released", "paper", "global"]
    html = styler.to_html()
    assert "background-color: #d9f0d3" in html and "font-weight: bold" in html
    with pytest.raises(ValueError, match="no results"):
        lang_plots.side_by_side({}, "LM")


# --- plotting -----------------------------------------------------------------------------

def test_plot_overlay_grid_draws_every_law():
    curves = [_curve(), _curve(seed=2)]
    fits = [{"M1": M1().fit(c.x_fit, c.loss_fit), "M2": M2().fit(c.x_fit, c.loss_fit)} for c in curves]
    fig = lang_plots.plot_overlay_grid(curves, fits, ncols=2, titles=["a", "b"])
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 2 and all(len(a.get_lines()) == 2 for a in axes)
    assert axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="one mapping per curve"):
        lang_plots.plot_overlay_grid(curves, fits[:1])


def test_plot_law_matrix_layout():
    curves = [_curve(), _curve(seed=2), _curve(seed=4)]
    fits = [{"M1": M1().fit(c.x_fit, c.loss_fit), "M2": M2().fit(c.x_fit, c.loss_fit)} for c in curves]
    fig = lang_plots.plot_law_matrix(curves, fits, row_labels=["p", "q", "r"])
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "M1" and fig.axes[0].get_ylabel() == "p"


def test_plot_exponents_and_noise_and_residuals():
    fig = lang_plots.plot_exponents([1e7, 1e8, 1e9], {"paper": {"M1": [-0.1, -0.2, -0.3]},
                                                    "ours": {"M1": [-0.1, -0.25, -0.3]}}, laws=("M1",))
    assert len(fig.axes[0].get_lines()) == 2
    curves = [_curve(noise=0.01, seed=s) for s in range(3)]
    fig = lang_plots.plot_trend_residuals(curves, [xl.smooth_trend(c) for c in curves], ncols=3)
    assert len(fig.axes) == 6
    table = pd.DataFrame({"domain": ["LM", "LM", "BB"], "noise / improvement": [0.01, 0.02, 0.05]})
    ax = lang_plots.plot_noise_by_domain(table)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="one per curve"):
        lang_plots.plot_trend_residuals(curves, [])


def test_lang_plots_draw_bars_and_exponent_panels():
    bars = pd.DataFrame({"M1": [0.0, 0.0], "M2": [0.2, 0.4], "M3": [0.2, 0.4], "M4": [0.8, 0.8]},
                        index=["released code", "paper (Figure 1)"])
    ax = lang_plots.plot_domain_bars(bars)
    assert ax.get_ylim()[1] > 1.0 and len(ax.patches) == 8
    fig = lang_plots.plot_exponent_panels([1e7, 1e8, 1e9], {"paper": {"M1": [-0.1, -0.2, -0.3]},
                                                            "ours": {"M1": [-0.1, -0.25, -0.3],
                                                                     "M2": [-0.4, -0.4, -0.3]}},
                                          laws=("M1", "M2", "M3"))
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3 and visible[0].get_xscale() == "log"
    assert len(visible[0].get_lines()) == 2 and len(visible[2].get_lines()) == 0
