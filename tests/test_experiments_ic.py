"""The image-classification experiments (scaling.experiments_ic) on the real ImageNet curves.

The fits are restricted to the 18 ImageNet curves (Figures 6 and 7) so that the module runs in a
few seconds; the table and win-fraction helpers are checked on those rows too.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from scaling import experiments_ic as ic  # noqa: E402
from scaling import plotting  # noqa: E402
from scaling.laws import law_for_domain  # noqa: E402
from scaling.ledger import STATUSES, load_reference  # noqa: E402


@pytest.fixture(scope="module")
def inet(bench):
    """Global fits of M1-M4 on the 18 ImageNet curves."""
    return ic.run_ic(bench, tasks=ic.FIGURE6_TASKS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_families_cover_the_six_architectures(bench):
    models = {c.model for c in ic.ic_curves(bench)}
    assert set(ic.MODELS) == models and len(ic.MODELS) == 6
    assert ic.family_of("BiT/101/3") == ("BiT", "large")
    assert ic.family_of("ViT/S/16") == ("ViT", "small")
    with pytest.raises(ValueError, match="unknown image-classification model"):
        ic.family_of("ResNet-50")


def test_ic_curves_are_the_72_in_book_order(bench):
    curves = ic.ic_curves(bench)
    assert len(curves) == 72
    assert [c.model for c in curves[:6]] == list(ic.MODELS)
    assert (curves[0].task, curves[-1].task) == ("inet_5", "cal_25")


def test_run_ic_annotates_and_rejects_unknown_tasks(bench, inet):
    assert len(inet) == 18 * 4
    assert set(inet["dataset"]) == {"ImageNet"} and set(inet["shots"]) == {5, 10, 25}
    assert set(inet["family"]) == {"BiT", "ViT", "MiX"} and set(inet["size"]) == {"small", "large"}
    with pytest.raises(ValueError, match="unknown image-classification task"):
        ic.run_ic(bench, tasks=["inet_7"])
    with pytest.raises(ValueError, match="search must be"):
        ic.run_ic(bench, search="best")


def test_exponent_table_has_36_negative_exponents(inet):
    table = ic.exponent_table(inet)
    assert len(table) == 36
    assert (table["c"] < 0).all()
    assert table.groupby(["law", "family", "size"]).size().eq(3).all()


def test_exponent_comparison_uses_the_paper_reference(inet):
    comp = ic.exponent_comparison(inet)
    ref = load_reference().set_index("item")["paper"]
    row = comp[(comp["law"] == "M4") & (comp["model"] == "BiT/101/3") & (comp["shots"] == 10)].iloc[0]
    assert row["paper"] == ref["Figure6/M4/BiT/101/3/inet_10/c"]
    np.testing.assert_allclose(comp["difference"], comp["c"] - comp["paper"])
    assert set(comp["status"]) <= set(STATUSES)
    # M2's exponents are close to the paper's on every ImageNet curve
    m2 = comp[comp["law"] == "M2"]
    assert (m2["difference"].abs() < 0.01).all()
    summary = ic.exponent_summary({"global": comp})
    assert summary.loc[("global", "M2"), "within 0.01"] == 18
    assert summary.loc[("global", "M4"), "exponents"] == 18
    assert (summary["within 0.01"] <= summary["within 0.05"]).all()


def test_larger_models_have_more_negative_exponents(inet):
    # What the benchmark shows with our global fits: within every family and for every shot
    # count, the larger model's exponent is the more negative, under M2 and under M4.
    effect = ic.size_effect(ic.exponent_table(inet))
    assert len(effect) == 18
    assert effect["large is more negative"].all()


def test_excess_risk_lines_have_slope_c(bench, inet):
    points, lines = ic.excess_risk(bench, inet, task="inet_10", law="M4")
    assert set(points["model"]) == set(ic.MODELS)
    assert (points["excess"] > 0).all()
    for model, lin in lines.groupby("model"):
        slope = np.polyfit(np.log(lin["x"]), np.log(lin["power_law"]), 1)[0]
        c = inet[(inet["task"] == "inet_10") & (inet["model"] == model) & (inet["law"] == "M4")]["c"].iloc[0]
        assert slope == pytest.approx(c, abs=1e-9)
        assert (lin["c"] == c).all()
    # far beyond the data, M4's own excess risk approaches its power law (Eq. 3, first term)
    _, far = ic.excess_risk(bench, inet, task="inet_10", law="M4", factor=1e8)
    last = far.groupby("model").tail(1)
    np.testing.assert_allclose(last["law_excess"], last["power_law"], rtol=0.02)


def test_excess_risk_with_m2_is_exactly_the_power_law(bench, inet):
    _, lines = ic.excess_risk(bench, inet, task="inet_5", law="M2")
    np.testing.assert_allclose(lines["law_excess"], lines["power_law"], rtol=1e-9)
    with pytest.raises(ValueError, match="M2 or M4"):
        ic.excess_risk(bench, inet, law="M1")


def test_fitted_laws_rebuild_the_fits(bench, inet):
    curve = bench.curve("IC", "inet_25", "MiX/L/16")
    laws = ic.fitted_laws(inet, "inet_25", "MiX/L/16")
    assert list(laws) == ["M1", "M2", "M3", "M4"]
    refit = law_for_domain("M4", "IC").fit(curve.x_fit, curve.loss_fit)
    np.testing.assert_allclose(laws["M4"].predict(curve.x_test), refit.predict(curve.x_test), rtol=1e-10)


def test_rmse_table_and_sortable_html(inet):
    table = ic.rmse_table(inet)
    assert len(table) == 18 and list(table.columns) == ["M1", "M2", "M3", "M4", "winner"]
    assert (table["winner"] != "").all()
    html = ic.sortable_table_html(inet, table_id="t1")
    assert html.count('<tr data-index="') == 18
    assert 'id="t1"' in html and 'getElementById("t1")' in html and "<script>" in html
    # one bold cell per winning law
    n_winners = sum(len(w.split(" = ")) for w in table["winner"])
    assert html.count("<strong>") == n_winners
    with pytest.raises(ValueError, match="table_id"):
        ic.sortable_table_html(inet, table_id="bad id")


def test_win_fractions_and_ledger(inet):
    wins = ic.win_fraction_table({"global": inet})
    assert wins.loc[("global", "split")].sum() == pytest.approx(1.0)
    assert wins.loc[("global", "credit-all")].sum() >= 1.0
    ledger = ic.win_fraction_ledger(inet)
    assert list(ledger.index) == ["M1", "M2", "M3", "M4"]
    np.testing.assert_allclose(ledger["paper"], [0.04, 0.10, 0.16, 0.70])
    assert set(ledger["status"]) <= set(STATUSES)


def test_replace_rows_and_search_disagreements(inet):
    other = inet.copy()
    other.loc[other["law"] == "M4", "c"] -= 0.5
    mixed = ic.replace_rows(inet, other, laws=["M4"])
    assert mixed[["task", "model", "law"]].equals(inet[["task", "model", "law"]])
    np.testing.assert_allclose(mixed.loc[mixed["law"] == "M4", "c"], inet.loc[inet["law"] == "M4", "c"] - 0.5)
    np.testing.assert_allclose(mixed.loc[mixed["law"] != "M4", "c"], inet.loc[inet["law"] != "M4", "c"])
    diff = ic.search_disagreements(inet, other, laws=["M2", "M4"])
    assert len(diff) == 18 and set(diff.index.get_level_values("law")) == {"M4"}
    assert "ImageNet 5-shot, BiT/50/1" in diff.index.get_level_values("curve")
    np.testing.assert_allclose(diff[("c", "global")] - diff[("c", "local")], 0.5)
    assert set(diff[("extrapolates better", "")]) <= {"global", "local", "tie"}
    with pytest.raises(ValueError, match="lacks"):
        ic.replace_rows(inet, other[other["model"] != "ViT/B/16"], laws=["M4"])


def test_figure_functions_draw(bench, inet):
    plotting.set_style()
    curves = [bench.curve("IC", "inet_10", m) for m in ("ViT/B/16", "MiX/L/16")]
    laws = [ic.fitted_laws(inet, "inet_10", c.model) for c in curves]
    fig = plotting.plot_law_rows(curves, laws, winners=[["M4"], ["M3", "M4"]])
    assert len(fig.axes) == 8
    fig = plotting.plot_law_rows(curves, laws, layout=None, sharex=True)
    assert len(fig.axes) == 8
    with pytest.raises(ValueError, match="one mapping per curve"):
        plotting.plot_law_rows(curves, laws[:1])
    comp = ic.exponent_comparison(inet)
    fig = plotting.plot_exponents_by_shots(comp, comp.assign(c=comp["paper"]))
    assert len(fig.axes) == 6
    points, lines = ic.excess_risk(bench, inet)
    fig = plotting.plot_excess_risk_by_family(points, lines)
    assert len(fig.axes) == 3
    table = pd.DataFrame({"M1": [0.04, 0.05], "M2": [0.1, 0.09], "M3": [0.16, 0.35], "M4": [0.7, 0.51]},
                         index=["paper", "ours"])
    ax = plotting.plot_win_fractions(table, reference="paper")
    assert len(ax.patches) == 8
