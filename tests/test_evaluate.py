"""Metrics, the win rule and the benchmark runner."""

import numpy as np
import pandas as pd
import pytest

from scaling.evaluate import extrapolation_rmse, rmse_standard_error, run_benchmark, win_fractions


def test_rmse_is_relative_as_in_the_paper_footnote():
    # one point 0.99 predicted as 1.0 and one 0.099 predicted as 0.1 both give about 1 %
    assert extrapolation_rmse([0.99], [1.0]) == pytest.approx(np.log(1 / 0.99))
    assert extrapolation_rmse([0.099], [0.1]) == pytest.approx(extrapolation_rmse([0.99], [1.0]))
    assert extrapolation_rmse([0.5, 0.5], [0.5 * np.e, 0.5 / np.e]) == pytest.approx(1.0)


def test_standard_error_follows_the_released_formula():
    y, p = np.array([0.5, 0.4, 0.3]), np.array([0.52, 0.39, 0.33])
    e = np.log(p / y) ** 2
    expected = np.sqrt(e.mean() + e.std() / np.sqrt(3)) - np.sqrt(e.mean())
    assert rmse_standard_error(y, p) == pytest.approx(expected)
    assert rmse_standard_error([0.3], [0.31]) == 0.0  # one held-out point, as in NMT
    # duplicating every point leaves the RMSE alone but shrinks the SE
    assert extrapolation_rmse(np.r_[y, y], np.r_[p, p]) == pytest.approx(extrapolation_rmse(y, p))
    assert rmse_standard_error(np.r_[y, y], np.r_[p, p]) < rmse_standard_error(y, p)


@pytest.mark.parametrize("y, p, match", [([], [], "no held-out"), ([0.5], [0.5, 0.4], "same length"),
                                         ([0.5], [np.nan], "NaN"), ([0.5], [-0.1], "> 0")])
def test_metric_errors(y, p, match):
    with pytest.raises(ValueError, match=match):
        extrapolation_rmse(y, p)


def _results(rows):
    return pd.DataFrame(rows, columns=["domain", "task", "model", "law", "rmse"])


def test_win_fractions_split_ties_and_truncate():
    rows = [
        # curve a: M4 wins outright
        ("IC", "a", "m", "M1", 0.05), ("IC", "a", "m", "M2", 0.04), ("IC", "a", "m", "M3", 0.03),
        ("IC", "a", "m", "M4", 0.01),
        # curve b: M2 and M3 tie after truncation to 3 decimals (0.0123 and 0.0129 -> 0.012)
        ("IC", "b", "m", "M1", 0.05), ("IC", "b", "m", "M2", 0.0123), ("IC", "b", "m", "M3", 0.0129),
        ("IC", "b", "m", "M4", 0.02),
        # curve c: M1 failed (NaN counts as RMSE 1), M3 wins
        ("IC", "c", "m", "M1", np.nan), ("IC", "c", "m", "M2", 0.5), ("IC", "c", "m", "M3", 0.2),
        ("IC", "c", "m", "M4", 0.3),
    ]
    split = win_fractions(_results(rows))
    assert split.loc["IC"].to_dict() == pytest.approx({"M1": 0, "M2": 0.5 / 3, "M3": 1.5 / 3, "M4": 1 / 3})
    assert split.loc["IC"].sum() == pytest.approx(1.0)
    credit = win_fractions(_results(rows), rule="credit-all")
    assert credit.loc["IC"].to_dict() == pytest.approx({"M1": 0, "M2": 1 / 3, "M3": 2 / 3, "M4": 1 / 3})
    exact = win_fractions(_results(rows), decimals=None)
    assert exact.loc["IC", "M2"] == pytest.approx(1 / 3) and exact.loc["IC", "M3"] == pytest.approx(1 / 3)


def test_win_fractions_reject_bad_input():
    with pytest.raises(ValueError, match="unknown rule"):
        win_fractions(_results([]), rule="best")
    with pytest.raises(ValueError, match="lack column"):
        win_fractions(pd.DataFrame({"domain": ["IC"]}))


def test_run_benchmark_fits_every_curve(bench):
    res = run_benchmark(bench)
    assert len(res) == 92 * 4
    assert res.groupby("domain").size().to_dict() == {"IC": 288, "NMT": 20, "LM": 20, "BB": 40}
    assert res["rmse"].notna().all() and np.isfinite(res["rmse"]).all()
    assert res["converged"].all()
    assert (res["c"] <= 0).all()
    m4 = res[res.law == "M4"]
    assert (m4["alpha"] >= 0).all() and (m4["eps_inf"] >= 0).all()
    wins = win_fractions(res)
    assert np.allclose(wins.sum(axis=1), 1.0)
    # M1 is plain least squares: it reproduces Table 2's NMT column to the printed 2 digits
    m1 = res[(res.law == "M1") & (res.domain == "NMT")].set_index("model")["rmse"]
    assert m1["6 Enc, 6 Dec"] == pytest.approx(2.6e-1, abs=0.005)
    assert m1["TEnc-LSTM"] == pytest.approx(1.9e-1, abs=0.005)


def test_run_benchmark_rejects_unknown_laws(bench):
    with pytest.raises(ValueError, match="unknown law"):
        run_benchmark(bench, laws=["M5"])


def test_run_benchmark_keeps_predictions_in_held_out_order(bench):
    sub = type(bench).__new__(type(bench))
    sub.__dict__.update(bench.__dict__)
    curves = [bench.curve("NMT", bench.by_domain("NMT")[0].task, bench.by_domain("NMT")[0].model),
              bench.by_domain("LM")[0]]
    res = run_benchmark(_Only(curves), laws=["m1", "M2"], keep_predictions=True)
    assert list(res["law"]) == ["M1", "M2", "M1", "M2"]  # names resolved case-insensitively
    assert list(res.columns[-2:]) == ["error", "pred"]
    for (_, row), curve in zip(res.iterrows(), [c for c in curves for _ in range(2)]):
        assert row["pred"].shape == curve.x_test.shape
        assert row["rmse"] == pytest.approx(extrapolation_rmse(curve.loss_test, row["pred"]))
    assert "pred" not in run_benchmark(_Only(curves[:1]), laws=["M1"]).columns


class _Only:
    """A stand-in benchmark holding just some curves."""

    def __init__(self, curves):
        self.curves = curves


def test_every_law_reports_an_exponent_and_its_objective(bench):
    curve = bench.by_domain("LM")[0]
    res = run_benchmark(_Only([curve]), laws=["BNSL", "Chinchilla"])
    bnsl = res.set_index("law").loc["BNSL"]
    assert bnsl["c"] == pytest.approx(-(bnsl["c0"] + bnsl["c1"]))  # the asymptotic exponent
    from scaling import law_for_domain
    chin = law_for_domain("chinchilla", "LM").fit(curve.x_fit, curve.loss_fit)
    assert chin.objective_ == chin.huber_loss_ != chin.loss_
    m2 = law_for_domain("M2", "LM").fit(curve.x_fit, curve.loss_fit)
    assert m2.objective_ == m2.loss_


def test_truncate_rmse_truncates_like_the_released_notebook():
    from scaling.evaluate import truncate_rmse

    assert truncate_rmse(np.array([0.0129, 0.003, 0.0029999999999999996]), 3).tolist() == [0.012, 0.003, 0.003]
    series = pd.Series([0.01234])
    assert truncate_rmse(series, None) is series
    assert truncate_rmse(series, 2).iloc[0] == pytest.approx(0.01)


def test_run_benchmark_with_the_released_estimator_keeps_the_row_order(bench):
    from scaling.laws.released import run_released_benchmark

    curves = type("B", (), {"curves": bench.by_domain("NMT")[:2]})()
    res = run_benchmark(curves, laws=("M3", "M1"), estimator="released", keep_predictions=True)
    assert list(res["law"]) == ["M3", "M1", "M3", "M1"]
    assert list(res["model"]) == [curves.curves[0].model] * 2 + [curves.curves[1].model] * 2
    direct = run_released_benchmark(curves, laws=("M1",), progress=False)
    assert res.loc[res.law == "M1", "rmse"].tolist() == direct["rmse"].tolist()
    assert all(len(p) == c.n_test for p, c in zip(res["pred"][::2], curves.curves))
    with pytest.raises(ValueError, match="fits only"):
        run_benchmark(curves, laws=("BNSL",), estimator="released")
    with pytest.raises(ValueError, match="unknown estimator"):
        run_benchmark(curves, estimator="best")
