"""The leaderboard, the win-rule variants and the paired bootstraps of "law A beats law B"."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from scaling.evaluate import extrapolation_rmse, run_benchmark
from scaling.studies.leaderboard import (POOLED, bootstrap_rmse, leaderboard, paired_bootstrap, pairwise_matrix,
                                 pairwise_table, rule_rankings)


def _curve(domain, task, y):
    return SimpleNamespace(domain=domain, task=task, model="m", loss_test=np.asarray(y, dtype=float))


def _fake(curves, preds):
    """A results frame with predictions, and the matching 'benchmark' (a list of curves)."""
    rows = []
    for curve in curves:
        for law, p in preds[curve.task].items():
            p = None if p is None else np.asarray(p, dtype=float)
            rmse = np.nan if p is None else extrapolation_rmse(curve.loss_test, p)
            rows.append({"domain": curve.domain, "task": curve.task, "model": "m", "law": law, "rmse": rmse,
                         "converged": p is not None, "pred": p})
    return pd.DataFrame(rows), list(curves)


def _rows(spec):
    return pd.DataFrame([(d, t, "m", law, r, True) for d, t, law, r in spec],
                        columns=["domain", "task", "model", "law", "rmse", "converged"])


def test_leaderboard_scores_failures_as_one_and_ranks_ties_together():
    res = _rows([("IC", "a", "M1", 0.05), ("IC", "a", "M2", 0.01), ("IC", "a", "M4", 0.02),
                 ("IC", "b", "M1", np.nan), ("IC", "b", "M2", 0.03), ("IC", "b", "M4", 0.02)])
    board = leaderboard(res, laws=["M1", "m2", "M4"])
    assert list(board.loc["IC"].index) == ["M1", "M2", "M4"]
    m1 = board.loc[("IC", "M1")]
    assert m1["failed"] == 1 and m1["mean_rmse"] == pytest.approx((0.05 + 1.0) / 2)
    assert m1["unconverged"] == 0  # a failure is counted once, as failed
    assert m1["max_rmse"] == 1.0 and board.loc[("IC", "M2"), "max_rmse"] == pytest.approx(0.03)
    assert board.loc[("IC", "M2"), "win_fraction"] == 0.5 and board.loc[("IC", "M4"), "win_fraction"] == 0.5
    assert board.loc[("IC", "M2"), "rank"] == board.loc[("IC", "M4"), "rank"] == 1
    assert board.loc[("IC", "M1"), "rank"] == 3
    assert board.loc[("IC", "M4"), "median_rmse"] == pytest.approx(0.02)


def test_rule_rankings_show_how_truncation_and_tie_credit_move_a_law():
    # curve a: M2 0.0121 < M4 0.0129 only before truncation; curve b: M4 wins outright
    res = _rows([("BB", "a", "M2", 0.0121), ("BB", "a", "M4", 0.0129),
                 ("BB", "b", "M2", 0.0400), ("BB", "b", "M4", 0.0300)])
    wide = rule_rankings(res, laws=["M2", "M4"]).pivot(index="law", columns="variant", values="win_fraction")
    assert wide.loc["M4", "split, 3 decimals (released)"] == pytest.approx(0.75)
    assert wide.loc["M4", "credit-all, 3 decimals"] == pytest.approx(1.0)
    assert wide.loc["M2", "credit-all, 3 decimals"] == pytest.approx(0.5)
    assert wide.loc["M4", "split, exact"] == pytest.approx(0.5) == wide.loc["M2", "split, exact"]


def test_bootstrap_is_paired_identical_predictions_never_differ():
    rng = np.random.default_rng(3)
    y = rng.uniform(0.2, 0.5, 40)
    same = y * rng.uniform(0.9, 1.1, 40)
    res, bench = _fake([_curve("IC", "a", y)], {"a": {"M1": same, "M2": same.copy(), "M4": y * 1.01}})
    boot = bootstrap_rmse(res, bench, laws=["M1", "M2", "M4"], n_boot=300, seed=1)
    np.testing.assert_array_equal(boot.replicates[..., 0], boot.replicates[..., 1])
    assert boot.replicates[..., 0].std() > 0  # the resampling does move each RMSE
    table = pairwise_table(boot).set_index(["domain", "law_a", "law_b"])
    row = table.loc[("IC", "M1", "M2")]
    assert row["wins"] == row["wins_lo"] == row["wins_hi"] == 0.5
    assert row["diff_lo"] == row["diff_hi"] == 0.0 and row["p_more_wins"] == 0.5


def test_bootstrap_point_values_and_resampled_mean_square():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.1, 0.9, 25)
    p = y * np.exp(rng.normal(0, 0.05, 25))
    res, bench = _fake([_curve("LM", "a", y)], {"a": {"M1": p, "M3": y * 1.02}})
    boot = bootstrap_rmse(res, bench, laws=["M1", "M3"], n_boot=4000, seed=0)
    assert boot.point[0, 0] == pytest.approx(res.loc[res.law == "M1", "rmse"].item())
    assert boot.point[0, 1] == pytest.approx(np.log(1.02))
    # resampling with replacement leaves the mean squared error unbiased
    assert np.mean(boot.replicates[0, :, 0] ** 2) == pytest.approx(boot.point[0, 0] ** 2, rel=0.03)
    # a constant relative error gives the same RMSE in every replicate
    np.testing.assert_allclose(boot.replicates[0, :, 1], np.log(1.02))


def test_one_held_out_point_is_degenerate_and_failures_stay_at_one():
    curves = [_curve("NMT", "a", [0.3]), _curve("NMT", "b", [0.4])]
    res, bench = _fake(curves, {"a": {"M1": [0.33], "M4": [0.31]}, "b": {"M1": [0.41], "M4": None}})
    boot = bootstrap_rmse(res, bench, laws=["M1", "M4"], n_boot=50, seed=0)
    np.testing.assert_allclose(boot.replicates, np.broadcast_to(boot.point[:, None, :], boot.replicates.shape))
    assert boot.failed.tolist() == [[False, False], [False, True]] and boot.point[1, 1] == 1.0
    points = paired_bootstrap(res, bench, "M4", "M1", n_boot=50)
    assert bool(points.loc["NMT", "degenerate"]) and points.loc["NMT", "wins"] == 0.5
    assert points.loc["NMT", "wins_lo"] == points.loc["NMT", "wins_hi"]
    curves_boot = paired_bootstrap(res, bench, "M4", "M1", n_boot=400, resample="curves")
    assert not curves_boot.loc["NMT", "degenerate"]
    assert curves_boot.loc["NMT", "wins_lo"] == 0.0 and curves_boot.loc["NMT", "wins_hi"] == 1.0


def test_curve_resampling_widens_intervals_and_seeds_reproduce():
    rng = np.random.default_rng(5)
    curves, preds = [], {}
    for k in range(12):
        y = rng.uniform(0.2, 0.6, 30)
        curves.append(_curve("IC", f"t{k}", y))
        # M4 is better on 8 of 12 curves, by a margin far above the point noise
        better, worse = y * np.exp(rng.normal(0, 0.01, 30)), y * np.exp(rng.normal(0, 0.08, 30))
        preds[f"t{k}"] = {"M4": better, "M2": worse} if k < 8 else {"M4": worse, "M2": better}
    res, bench = _fake(curves, preds)
    boot = bootstrap_rmse(res, bench, laws=["M2", "M4"], n_boot=500, seed=7)
    by_mode = {m: pairwise_table(boot, resample=m).set_index(["domain", "law_a"]).loc[("IC", "M4")]
               for m in ("points", "curves", "both")}
    assert by_mode["points"]["wins"] == pytest.approx(8 / 12)
    assert by_mode["points"]["wins_hi"] - by_mode["points"]["wins_lo"] == 0  # clear margins: no flips
    assert by_mode["curves"]["wins_hi"] - by_mode["curves"]["wins_lo"] > 0.3
    assert 0.7 < by_mode["curves"]["p_more_wins"] < 1.0
    again = bootstrap_rmse(res, bench, laws=["M2", "M4"], n_boot=500, seed=7)
    np.testing.assert_array_equal(again.replicates, boot.replicates)
    other = bootstrap_rmse(res, bench, laws=["M2", "M4"], n_boot=500, seed=8)
    assert not np.array_equal(other.replicates, boot.replicates)
    matrix = pairwise_matrix(pairwise_table(boot, resample="curves"), "p_more_wins", domain=POOLED)
    assert matrix.loc["M4", "M2"] + matrix.loc["M2", "M4"] == pytest.approx(1.0)


def test_clear_errors_on_bad_input():
    y = [0.3, 0.2]
    res, bench = _fake([_curve("IC", "a", y)], {"a": {"M1": [0.31, 0.2], "M2": [0.3, 0.21]}})
    with pytest.raises(ValueError, match="keep_predictions"):
        bootstrap_rmse(res.drop(columns="pred"), bench, laws=["M1", "M2"])
    with pytest.raises(ValueError, match="no rows"):
        leaderboard(res, laws=["M1", "M3"])
    with pytest.raises(ValueError, match="unknown law"):
        leaderboard(res, laws=["M9"])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_rmse(res, bench, laws=["M1", "M2"], n_boot=0)
    with pytest.raises(ValueError, match="not in bench"):
        bootstrap_rmse(res, [], laws=["M1", "M2"])
    with pytest.raises(ValueError, match="two different"):
        paired_bootstrap(res, bench, "M1", "m1")
    boot = bootstrap_rmse(res, bench, laws=["M1", "M2"], n_boot=10)
    with pytest.raises(ValueError, match="resample"):
        pairwise_table(boot, resample="held-out")
    with pytest.raises(ValueError, match="level"):
        pairwise_table(boot, level=95)
    with pytest.raises(ValueError, match="run_benchmark"):
        leaderboard(res.drop(columns="rmse"))


def test_on_real_curves_the_bootstrap_scores_what_run_benchmark_scored(bench):
    few = [bench.by_domain("NMT")[0], bench.by_domain("LM")[0], bench.by_domain("IC")[0]]
    res = run_benchmark(few, laws=("M1", "M2"), keep_predictions=True)
    boot = bootstrap_rmse(res, few, laws=("M1", "M2"), n_boot=20, seed=0)
    expected = res.pivot_table(index=["domain", "task", "model"], values="rmse", columns="law", sort=False)
    keys = pd.MultiIndex.from_frame(boot.curves[["domain", "task", "model"]])
    np.testing.assert_allclose(boot.point, expected.loc[keys, ["M1", "M2"]].to_numpy())
    assert list(boot.curves["domain"]) == ["IC", "NMT", "LM"]
    assert boot.curves.set_index("domain").loc["NMT", "n_test"] == 1


def test_plots_draw_one_panel_per_group_and_reject_empty_input():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scaling.studies import leaderboard_plots as lp

    res = _rows([("IC", "a", "M2", 0.02), ("IC", "a", "M4", 0.01), ("BB", "b", "M2", 0.03), ("BB", "b", "M4", 0.04)])
    paper = pd.DataFrame({"M4": [0.7, 0.7]}, index=["IC", "BB"])
    fig = lp.plot_rule_wins(rule_rankings(res, laws=["M2", "M4"]), reference=paper)
    assert sum(ax.get_visible() for ax in fig.axes) == 2
    y = np.array([0.3, 0.2, 0.25])
    fake, bench = _fake([_curve("IC", "a", y)], {"a": {"M2": y * 1.1, "M4": y * 1.01}})
    tables = {m: pairwise_table(bootstrap_rmse(fake, bench, laws=["M2", "M4"], n_boot=20), resample=m)
              for m in ("points", "curves")}
    fig = lp.plot_difference_intervals(tables, "M4")
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["IC", "all curves"]
    with pytest.raises(ValueError, match="not in the tables"):
        lp.plot_difference_intervals(tables, "M3")
    with pytest.raises(ValueError, match="no matrices"):
        lp.plot_pairwise_heatmaps({})
    with pytest.raises(ValueError, match="rule_rankings"):
        lp.plot_rule_wins(res)
    plt.close("all")


# --- fitting under an estimator -------------------------------------------------------------------
@pytest.fixture(scope="module")
def few_curves(bench):
    return [bench.by_domain(d)[0] for d in ("IC", "NMT", "LM", "BB")]


@pytest.fixture(scope="module")
def sound_fits(few_curves):
    from scaling.studies.leaderboard import fit_benchmark

    return fit_benchmark(few_curves, ("M2", "M4", "BNSL"), estimator="sound")


def test_fit_benchmark_is_run_benchmark_with_an_estimator_column(few_curves, sound_fits):
    expected = run_benchmark(few_curves, laws=("M2", "M4", "BNSL"), estimator="sound",
                             keep_predictions=True)
    assert (sound_fits["estimator"] == "sound").all()
    cols = ["domain", "task", "model", "law", "rmse", "eps_inf"]
    pd.testing.assert_frame_equal(sound_fits[cols], expected[cols])
    assert list(sound_fits["domain"][::3]) == ["IC", "NMT", "LM", "BB"]


def test_fit_benchmark_released_keeps_the_later_laws_own_fits(few_curves, sound_fits):
    from scaling.studies.leaderboard import fit_benchmark

    released = fit_benchmark(few_curves, ("M2", "M4", "BNSL"), estimator="released")
    assert list(released["law"][:3]) == ["M2", "M4", "BNSL"] and (released["estimator"] == "released").all()
    bnsl = released[released.law == "BNSL"].reset_index(drop=True)
    np.testing.assert_array_equal(bnsl["rmse"], sound_fits[sound_fits.law == "BNSL"]["rmse"])
    paper = released[released.law == "M4"]
    expected = run_benchmark(few_curves, laws=("M4",), estimator="released")
    np.testing.assert_allclose(paper["rmse"], expected["rmse"], rtol=1e-12)
    with pytest.raises(ValueError, match="unknown estimator"):
        fit_benchmark(few_curves, ("M2",), estimator="best")


def test_fit_benchmark_does_not_depend_on_the_number_of_processes(few_curves, sound_fits):
    from scaling.studies.leaderboard import fit_benchmark

    parallel = fit_benchmark(few_curves, ("M2", "M4", "BNSL"), estimator="sound", n_jobs=2)
    cols = [c for c in sound_fits.columns if c not in ("fit_seconds", "pred")]
    pd.testing.assert_frame_equal(parallel[cols], sound_fits[cols])
    for a, b in zip(parallel["pred"], sound_fits["pred"]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_jobs"):
        fit_benchmark(few_curves, ("M2",), n_jobs=0)


def test_fitted_law_predicts_what_was_scored(few_curves, sound_fits):
    from scaling.studies.leaderboard import fit_benchmark, fitted_law

    released = fit_benchmark(few_curves[:1], ("M4",), estimator="released")
    for frame, law in ((sound_fits, "M4"), (sound_fits, "BNSL"), (released, "M4")):
        curve = few_curves[0]
        fit = fitted_law(frame, curve, law)
        row = frame[(frame.task == curve.task) & (frame.model == curve.model) & (frame.law == law)].iloc[0]
        np.testing.assert_allclose(fit.predict(curve.x_test), row["pred"], rtol=1e-9)
    assert type(fitted_law(released, few_curves[0].key, "M4")).__name__ == "ReleasedFit"
    broken = sound_fits.copy()
    broken.loc[0, "error"] = "boom"
    with pytest.raises(ValueError, match="boom"):
        fitted_law(broken, few_curves[0], broken.loc[0, "law"])
    with pytest.raises(ValueError, match="expected one M1 row"):
        fitted_law(sound_fits, few_curves[0], "M1")


def test_compare_estimators_puts_leaderboards_side_by_side():
    from scaling.studies.leaderboard import compare_estimators

    a = _rows([("IC", "a", "M2", 0.05), ("IC", "a", "M4", 0.02), ("IC", "b", "M2", 0.01), ("IC", "b", "M4", 0.03)])
    b = _rows([("IC", "a", "M2", 0.05), ("IC", "a", "M4", 0.09), ("IC", "b", "M2", 0.01), ("IC", "b", "M4", 0.08)])
    table = compare_estimators({"sound": a, "global": b})
    assert list(table.columns) == [("win_fraction", "sound"), ("win_fraction", "global"),
                                   ("median_rmse", "sound"), ("median_rmse", "global")]
    assert table.loc[("IC", "M4"), ("win_fraction", "sound")] == 0.5
    assert table.loc[("IC", "M4"), ("win_fraction", "global")] == 0.0
    assert table.loc[("IC", "M4"), ("median_rmse", "global")] == pytest.approx(0.085)
    with pytest.raises(ValueError, match="different curves"):
        compare_estimators({"sound": a, "global": b[b.task == "a"]})
    with pytest.raises(ValueError, match="unknown statistic"):
        compare_estimators({"sound": a}, stats=("wins",))


def test_contenders_are_the_laws_no_other_law_reliably_beats():
    from scaling.studies.leaderboard import contenders

    table = pd.DataFrame([
        ("IC", "M4", "M2", 0.99), ("IC", "M2", "M4", 0.01), ("IC", "M4", "M1", 0.97), ("IC", "M1", "M4", 0.03),
        ("IC", "M2", "M1", 0.60), ("IC", "M1", "M2", 0.40)], columns=["domain", "law_a", "law_b", "p_more_wins"])
    out = contenders(table)
    assert out.loc[("IC", "M4"), "contender"] and out.loc[("IC", "M4"), "beaten_by"] == "M1"
    assert not out.loc[("IC", "M2"), "contender"] and out.loc[("IC", "M2"), "p_beaten"] == 0.99
    assert not out.loc[("IC", "M1"), "contender"] and out.loc[("IC", "M1"), "beaten_by"] == "M4"
    assert contenders(table, threshold=0.999)["contender"].all()
    with pytest.raises(ValueError, match="threshold"):
        contenders(table, threshold=95)


def test_book_fits_are_the_frames_the_two_chapters_read(monkeypatch):
    """The build's second process computes book_fits before any chapter (precompute_results), so it
    must ask fit_benchmark for exactly what the leaderboard and later-laws chapters ask: the same
    bound arguments are the same cache key, and the chapters then read the frames instead of fitting."""
    import ast
    import re
    from pathlib import Path

    import yaml

    import scaling
    import scaling.benchmark
    from scaling.laws import PAPER_LAWS
    from scaling.studies import leaderboard as lb

    calls = []
    monkeypatch.setattr(scaling.benchmark, "load_benchmark", lambda: "the benchmark")
    monkeypatch.setattr(lb, "fit_benchmark", lambda bench, laws, estimator: calls.append((bench, laws, estimator)))
    lb.book_fits()
    assert calls == [("the benchmark", tuple(scaling.LAWS), "sound"), ("the benchmark", PAPER_LAWS, "released"),
                     ("the benchmark", PAPER_LAWS, "global")]
    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    assert "scaling.studies.leaderboard:book_fits" in config["precompute_results"]
    board = (root / "book" / "leaderboard.md").read_text(encoding="utf-8")
    later = (root / "book" / "later_laws.md").read_text(encoding="utf-8")
    assert "LAWS = tuple(scaling.LAWS)" in board and 'fit_benchmark(bench, LAWS, estimator="sound")' in board
    literal = re.search(r"^laws = (\(.*\))$", later, re.M)
    assert literal and ast.literal_eval(literal.group(1)) == tuple(scaling.LAWS)
    assert 'fit_benchmark(bench, laws, estimator="sound")' in later
    for text in (board, later):
        for estimator in ("released", "global"):
            assert f'fit_benchmark(bench, PAPER_LAWS, estimator="{estimator}")' in text
