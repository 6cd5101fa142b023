"""Tests of scaling.studies.sensitivity (less data, other starts) and its figures."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from scaling.studies import sensitivity as sens
from scaling.studies import sensitivity_plots
from scaling.benchmark import LearningCurve
from scaling.evaluate import fit_curve


def _curve(n_fit=12, n_test=4, domain="NMT", model="toy"):
    """A clean M2-shaped curve (loss = 0.2 + 3 x^-0.4) with x doubling, sorted, fit part first."""
    x = 1e3 * 2.0 ** np.arange(n_fit + n_test)
    loss = 0.2 + 3.0 * x**-0.4
    is_fit = np.arange(x.size) < n_fit
    for a in (x, loss, is_fit):
        a.setflags(write=False)
    return LearningCurve(domain, "log_perplexity", model, "log-perplexity", None, x, loss, is_fit)


# --- truncation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fraction, kept", [(0.25, 3), (0.5, 6), (0.75, 9), (1.0, 12), (0.3, 3)])
def test_fit_fraction_keeps_the_smallest_x_and_every_held_out_point(fraction, kept):
    curve = _curve()
    part = curve.with_fit_part(fraction=fraction)
    assert part.n_fit == kept
    np.testing.assert_array_equal(part.x_fit, curve.x_fit[:kept])
    np.testing.assert_array_equal(part.loss_fit, curve.loss_fit[:kept])
    np.testing.assert_array_equal(part.x_test, curve.x_test)
    np.testing.assert_array_equal(part.loss_test, curve.loss_test)
    assert part.key == curve.key and part.label == curve.label
    assert not part.x.flags.writeable


def test_fit_fraction_leaves_the_benchmark_curve_alone(bench):
    curve = bench.by_domain("NMT")[0]
    before = curve.x.copy(), curve.is_fit.copy()
    part = curve.with_fit_part(fraction=0.25)
    assert part.n_fit == curve.n_fit // 4 and part is not curve
    np.testing.assert_array_equal(curve.x, before[0])
    np.testing.assert_array_equal(curve.is_fit, before[1])
    assert bench.curve(*curve.key).n_fit == curve.n_fit


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5, np.nan, "half"])
def test_fit_fraction_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="fraction"):
        _curve().with_fit_part(fraction=fraction)


def test_fit_fraction_that_keeps_no_point_says_so():
    with pytest.raises(ValueError, match="keeps none"):
        _curve(n_fit=3).with_fit_part(fraction=0.25)


def test_sample_curves_is_seeded_and_spread_over_datasets(bench):
    a = sens.sample_curves(bench, n_ic=8, seed=3)
    b = sens.sample_curves(bench, n_ic=8, seed=3)
    c = sens.sample_curves(bench, n_ic=8, seed=4)
    assert [x.key for x in a] == [x.key for x in b] != [x.key for x in c]
    ic = [x for x in a if x.domain == "IC"]
    assert len(ic) == 8 and len({x.key for x in ic}) == 8
    assert pd.Series([x.task_name for x in ic]).value_counts().eq(2).all()
    assert len(a) - len(ic) == len(bench) - len(bench.by_domain("IC"))
    with pytest.raises(ValueError, match="multiple of 4"):
        sens.sample_curves(bench, n_ic=6)


# --- less data ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nmt_study(bench):
    return sens.less_data_study(bench.by_domain("NMT"), ["m1", "M2", "M3"], fractions=(0.25, 1.0))


def test_less_data_full_fraction_matches_the_benchmark_fit(bench, nmt_study):
    full = nmt_study[nmt_study.fraction == 1.0]
    for curve in bench.by_domain("NMT"):
        for law in ("M1", "M2", "M3"):
            row = full[(full.task == curve.task) & (full.model == curve.model) & (full.law == law)].iloc[0]
            assert row.rmse == pytest.approx(fit_curve(curve, law, estimator="global")["rmse"], rel=1e-9)
            assert row.n_fit == curve.n_fit


def test_less_data_failures_are_rows_with_a_message(nmt_study):
    quarter = nmt_study[nmt_study.fraction == 0.25]
    assert (quarter.n_fit == 2).all()                         # 9 or 10 fitting points -> 2
    m1 = quarter[quarter.law == "M1"]
    assert m1.error.eq("").all() and np.isfinite(m1.rmse).all()
    three = quarter[quarter.law != "M1"]                      # 3 parameters, 2 points
    assert len(three) == 10 and three.rmse.isna().all()
    assert three.error.str.contains("3 parameters").all()
    counts = sens.failure_counts(nmt_study)
    assert counts.loc[("NMT", 0.25)].to_dict() == {"curves": 5, "M1": 0, "M2": 5, "M3": 5}
    assert counts.loc[("NMT", 1.0), ["M1", "M2", "M3"]].sum() == 0


def _toy_study():
    """Three curves, two laws, one fraction; law B fails on curve c3."""
    rows = [("c1", "A", 0.1, ""), ("c1", "B", 0.4, ""), ("c2", "A", 0.2, ""), ("c2", "B", 0.2, ""),
            ("c3", "A", 9.0, ""), ("c3", "B", np.nan, "too few points")]
    return pd.DataFrame([{"domain": "LM", "task": "t", "model": m, "curve": m, "law": law, "fraction": 0.5,
                          "n_fit": 4, "rmse": r, "error": e} for m, law, r, e in rows])


def test_median_rmse_uses_only_curves_where_every_law_fitted():
    med = sens.median_rmse(_toy_study(), n_boot=200).set_index("law")
    assert (med.n_curves == 2).all()                           # c3 is left out for A too
    assert med.loc["A", "median"] == pytest.approx(0.15)       # not 0.2, the median with c3
    assert med.loc["B", "median"] == pytest.approx(0.3)
    assert (med["lo"] <= med["median"]).all() and (med["median"] <= med["hi"]).all()
    again = sens.median_rmse(_toy_study(), n_boot=200).set_index("law")
    pd.testing.assert_frame_equal(med, again)


def test_median_rmse_with_no_common_curve_is_nan_not_an_error():
    study = _toy_study()
    study.loc[(study.law == "A") & (study.model != "c3"), ["rmse", "error"]] = [np.nan, "failed"]
    med = sens.median_rmse(study, n_boot=50)
    assert (med.n_curves == 0).all() and med["median"].isna().all()


@pytest.mark.parametrize("kwargs, match", [({"level": 1.0}, "level"), ({"n_boot": 0}, "n_boot")])
def test_median_rmse_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sens.median_rmse(_toy_study(), **kwargs)


@pytest.mark.parametrize("call", [sens.failure_counts, sens.median_rmse, sens.start_spread])
def test_summaries_say_which_frame_they_need(call):
    with pytest.raises(ValueError, match="lacks column"):
        call(pd.DataFrame({"x": [1]}))


def test_studies_reject_bad_input():
    with pytest.raises(ValueError, match="unknown law"):
        sens.less_data_study([_curve()], ["M9"])
    with pytest.raises(ValueError, match="no curves"):
        sens.less_data_study([], ["M1"])
    with pytest.raises(ValueError, match="n_starts"):
        sens.start_study([_curve()], ["M2"], n_starts=0)
    with pytest.raises(ValueError, match="at least one law"):
        sens.start_study([_curve()], [])


# --- starts -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lm_starts(bench):
    curves = bench.by_domain("LM")[:2]
    return curves, sens.start_study(curves, ["M1", "M2", "M3"], n_starts=4, seed=1)


def test_start_study_rows(lm_starts):
    curves, starts = lm_starts
    per = starts.groupby(["model", "law", "kind"]).size()
    for curve in curves:
        assert per[(curve.model, "M1", "random")] == 1           # nothing to start from
        assert per[(curve.model, "M2", "random")] == 4
        assert per[(curve.model, "M2", "released")] == 1
        assert (curve.model, "M3", "released") not in per.index  # M3 has no released start
    points = starts[(starts.law == "M2") & (starts.kind == "random")].start_point
    assert all(set(p) == {"eps_inf"} for p in points)


def test_no_start_beats_the_global_search(lm_starts):
    _, starts = lm_starts
    ok = starts[starts.error.eq("")]
    best = ok[ok.kind == "global"].set_index(["model", "law"]).train_loss
    others = ok[ok.kind != "global"].join(best.rename("global_loss"), on=["model", "law"])
    assert (others.train_loss >= others.global_loss * (1 - 1e-6)).all()


def test_starts_are_seeded_per_curve_and_law(bench, lm_starts):
    curves, starts = lm_starts
    alone = sens.start_study(curves[1:], ["M2"], n_starts=4, seed=1)   # other subset, other laws
    pick = starts[(starts.model == curves[1].model) & (starts.law == "M2") & (starts.kind == "random")]
    assert list(pick.start_point) == list(alone[alone.kind == "random"].start_point)
    other = sens.start_study(curves[1:], ["M2"], n_starts=4, seed=2)
    assert list(other[other.kind == "random"].start_point) != list(pick.start_point)


def test_start_spread_counts_reached_failed_and_lower():
    base = {"domain": "BB", "task": "t", "model": "m", "curve": "m", "law": "M2", "start_point": None}
    rows = [dict(kind="global", start=-1, train_loss=1.0, rmse=0.10, error=""),
            dict(kind="released", start=-1, train_loss=2.0, rmse=0.05, error=""),
            dict(kind="random", start=0, train_loss=1.0005, rmse=0.10, error=""),   # within 1e-3: reached
            dict(kind="random", start=1, train_loss=1.01, rmse=0.30, error=""),     # not reached
            dict(kind="random", start=2, train_loss=0.5, rmse=0.20, error=""),      # lower than global
            dict(kind="random", start=3, train_loss=np.nan, rmse=np.nan, error="boom")]
    spread = sens.start_spread(pd.DataFrame([{**base, **r} for r in rows])).iloc[0]
    assert (spread.n_starts, spread.n_failed, spread.n_reached, spread.n_lower) == (4, 1, 2, 1)
    assert spread.rmse_range == pytest.approx(0.2) and spread.worst_ratio == pytest.approx(3.0)
    assert spread.released_rmse == 0.05 and not spread.released_reached
    summary = sens.start_summary(sens.start_spread(pd.DataFrame([{**base, **r} for r in rows])))
    assert summary.loc[("BB", "M2"), "reached_share"] == pytest.approx(0.5)
    loose = sens.start_spread(pd.DataFrame([{**base, **r} for r in rows]), rtol=0.02).iloc[0]
    assert loose.n_reached == 3
    with pytest.raises(ValueError, match="rtol"):
        sens.start_spread(pd.DataFrame([{**base, **r} for r in rows]), rtol=-1)


# --- figures ------------------------------------------------------------------------------------
def test_figures_draw_one_panel_per_domain(nmt_study, lm_starts):
    fig = sensitivity_plots.plot_fraction_medians(sens.median_rmse(nmt_study, n_boot=50))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["NMT"]
    # at 25 % no law but M1 could be fitted on any curve: no common curve, so no points there
    assert "n=0" in visible[0].get_xticklabels()[0].get_text()
    fig = sensitivity_plots.plot_start_ratios(lm_starts[1])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["LM"]
    with pytest.raises(ValueError, match="median_rmse"):
        sensitivity_plots.plot_fraction_medians(pd.DataFrame({"law": ["M1"]}))


def test_law_colors_are_distinct_for_all_laws():
    colors = sensitivity_plots.law_colors(["M1", "M2", "M3", "M4", "BNSL", "Chinchilla", "X"])
    assert len({tuple(np.atleast_1d(c)) if not isinstance(c, str) else c for c in colors.values()}) == 7


def test_start_study_can_reuse_the_full_fits_of_the_less_data_study(bench, lm_starts):
    curves, starts = lm_starts
    full = sens.less_data_study(curves, ["M2"], fractions=(1.0,))
    reused = sens.start_study(curves, ["M2"], n_starts=4, seed=1, global_fits=full)
    a = reused[reused.kind == "global"].reset_index(drop=True)
    b = starts[(starts.kind == "global") & (starts.law == "M2")].reset_index(drop=True)
    np.testing.assert_allclose(a.rmse, b.rmse, rtol=1e-9)
    np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=1e-9)
    with pytest.raises(ValueError, match="fraction == 1"):
        sens.start_study(curves, ["M2"], global_fits=sens.less_data_study(curves[:1], ["M2"], fractions=(0.5, 1.0)))


def test_a_fraction_already_fitted_is_read_from_the_cache_not_fitted_again(bench, tmp_path, monkeypatch):
    """The starts chapter reads the full fits of the less-data chapter's study: each fraction is its
    own cached result, so a study of fewer fractions reuses the rows of a larger one."""
    monkeypatch.setenv("SCALING_RESULTS_CACHE", "1")
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path))
    fitted = []
    rows = sens._less_data_rows
    monkeypatch.setattr(sens, "_less_data_rows", lambda job: fitted.append(job[2]) or rows(job))
    curves = bench.by_domain("NMT")[:2]
    both = sens.less_data_study(curves, ["M1", "M2"], fractions=(0.5, 1.0))
    assert sorted(fitted) == [0.5, 0.5, 1.0, 1.0]
    full = sens.less_data_study(curves, ["M1", "M2"], fractions=(1.0,))
    assert len(fitted) == 4, "the full fits were made again"
    pd.testing.assert_frame_equal(full, both[both.fraction == 1.0].reset_index(drop=True))


def test_median_rmse_per_law_uses_each_laws_own_fits():
    med = sens.median_rmse(_toy_study(), n_boot=200, common=False).set_index("law")
    assert med.loc["A", "n_curves"] == 3 and med.loc["B", "n_curves"] == 2
    assert med.loc["A", "median"] == pytest.approx(0.2)        # c3 counts for A now
    assert med.loc["B", "median"] == pytest.approx(0.3)


# --- estimators -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_curves(bench):
    return [bench.by_domain("NMT")[0], bench.by_domain("BB")[0]]


@pytest.fixture(scope="module")
def sound_study(two_curves):
    return sens.less_data_study(two_curves, ["M2", "M4", "BNSL"], fractions=(0.5, 1.0), estimator="sound")


def test_less_data_with_an_estimator_fits_m1_to_m4_as_run_benchmark_does(two_curves, sound_study):
    from scaling.evaluate import run_benchmark

    assert (sound_study.estimator == "sound").all()
    full = sound_study[sound_study.fraction == 1.0].reset_index(drop=True)
    expected = run_benchmark(two_curves, laws=("M2", "M4", "BNSL"), estimator="sound")
    np.testing.assert_allclose(full.rmse, expected.rmse, rtol=1e-12)
    np.testing.assert_allclose(full.train_loss, expected.objective, rtol=1e-12)
    glob = sens.less_data_study(two_curves, ["M4"], fractions=(1.0,))
    assert (glob.estimator == "global").all()
    np.testing.assert_allclose(glob.rmse, run_benchmark(two_curves, laws=("M4",),
                                                        estimator="global").rmse, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown estimator"):
        sens.less_data_study(two_curves, ["M4"], estimator="best")


def test_less_data_released_fits_the_paper_laws_by_the_released_code(two_curves, sound_study):
    from scaling.evaluate import run_benchmark

    rel = sens.less_data_study(two_curves, ["M4", "BNSL"], fractions=(1.0,), estimator="released")
    expected = run_benchmark(two_curves, laws=("M4",), estimator="released")
    np.testing.assert_allclose(rel[rel.law == "M4"].rmse, expected.rmse, rtol=1e-12)
    bnsl = sound_study[(sound_study.law == "BNSL") & (sound_study.fraction == 1.0)]
    np.testing.assert_array_equal(rel[rel.law == "BNSL"].rmse, bnsl.rmse)


def test_less_data_does_not_depend_on_the_number_of_processes(two_curves, sound_study):
    parallel = sens.less_data_study(two_curves, ["M2", "M4", "BNSL"], fractions=(0.5, 1.0), estimator="sound",
                                    n_jobs=2)
    pd.testing.assert_frame_equal(parallel, sound_study)


def test_start_study_adds_estimator_fits_of_the_paper_laws(two_curves, sound_study):
    curves = two_curves[:1]
    starts = sens.start_study(curves, ["M2", "BNSL"], n_starts=2, seed=0, estimators=("sound",))
    sound_rows = starts[starts.kind == "sound"]
    assert list(sound_rows.law) == ["M2"]                       # BNSL has one estimator only
    reused = sens.start_study(curves, ["M2", "BNSL"], n_starts=2, seed=0, estimators=("sound",),
                              global_fits=sound_study[sound_study.fraction == 1.0])
    pd.testing.assert_frame_equal(reused.drop(columns="start_point"), starts.drop(columns="start_point"))
    spread = sens.start_spread(starts)
    m2 = spread.set_index("law").loc["M2"]
    assert m2.sound_rmse == pytest.approx(sound_rows.rmse.item())
    assert np.isnan(spread.set_index("law").loc["BNSL", "sound_rmse"])
    summary = sens.start_summary(spread, n_boot=20)
    assert summary.loc[(curves[0].domain, "M2"), "sound_median_ratio"] == pytest.approx(m2.sound_rmse / m2.global_rmse)
    with pytest.raises(ValueError, match="always in the study"):
        sens.start_study(curves, ["M2"], estimators=("global",))


def test_start_study_names_the_released_codes_fit_apart_from_the_released_start(two_curves):
    starts = sens.start_study(two_curves[:1], ["M4"], n_starts=1, seed=0, estimators=("released",))
    assert set(starts.kind) == {"global", "released", "released_code", "random"}
    spread = sens.start_spread(starts)
    assert "released_code_rmse" in spread and np.isfinite(spread.released_code_rmse).all()
    assert "released_code_median_ratio" in sens.start_summary(spread, n_boot=10)
    with pytest.raises(ValueError, match="released start"):
        sens.start_study(two_curves[:1], ["M4"], estimators=("local",))


def test_the_two_sensitivity_chapters_use_one_sample_of_curves():
    """The starts chapter says it studies the curves of the less-data chapter, and reads that chapter's
    full fits from the results cache: both must draw the same sample."""
    import re
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    pattern = re.compile(r"^(N_IC = \S+|SEED = \S+|curves = sens\.sample_curves\(.*\))", re.M)
    less, starts = (pattern.findall((book / f"{name}.md").read_text(encoding="utf-8"))
                    for name in ("sensitivity", "other_starts"))
    assert len(less) == 3 and less == starts
