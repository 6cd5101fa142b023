"""Unit tests of scaling.userfit.fit: reading a user's CSV, the hold-out split, the fit and its bootstrap."""

import json

import numpy as np
import pytest

from scaling.laws import LAWS, M1, M2, M4
from scaling.cli import fit as main
from scaling.userfit import (CurveFileError, fit_user_curve, n_fit_points, prepare_curve, read_curve_csv,
                             resolve_laws)


def write(tmp_path, text, name="curve.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def m2_curve(n=12, noise=0.0, seed=0):
    """Loss = 0.1 + 2 x^-0.3 on a log grid, with multiplicative noise of relative size ``noise``."""
    x = np.geomspace(1e3, 1e6, n)
    y = 0.1 + 2.0 * x**-0.3
    return x, y * np.exp(np.random.default_rng(seed).normal(0.0, noise, n))


GOOD = """# a comment, then a blank line

X,Loss,run
400,0.5,a
100,0.9,a
200,0.7,a
# a comment between rows
800,0.4,a
1600,0.33,a
1600,0.33,b
"""


# ------------------------------------------------------------------------------------------- reader
def test_reader_sorts_skips_comments_and_drops_exact_repeats(tmp_path):
    curve = read_curve_csv(write(tmp_path, GOOD))
    np.testing.assert_array_equal(curve.x, [100, 200, 400, 800, 1600])
    np.testing.assert_array_equal(curve.loss, [0.9, 0.7, 0.5, 0.4, 0.33])
    assert curve.n_duplicates_dropped == 1
    assert (curve.x_column, curve.loss_column) == ("X", "Loss")


def test_reader_aliases_delimiters_and_named_columns(tmp_path):
    rows = "".join(f"{n};{e};{2 * e}\n" for n, e in [(1, 0.9), (2, 0.8), (4, 0.7), (8, 0.6), (16, 0.55)])
    curve = read_curve_csv(write(tmp_path, "tokens;error;other\n" + rows))
    np.testing.assert_array_equal(curve.loss, [0.9, 0.8, 0.7, 0.6, 0.55])
    other = read_curve_csv(write(tmp_path, "a;b;c\n" + rows, "named.csv"), x_col="A", loss_col="c")
    np.testing.assert_array_equal(other.loss, [1.8, 1.6, 1.4, 1.2, 1.1])


@pytest.mark.parametrize("text, words", [
    ("", ["empty"]),
    ("# only a comment\n\n", ["empty"]),
    ("x,loss\n", ["no data rows"]),
    ("size,value\n1,2\n", ["no loss column", "['size', 'value']"]),
    ("step,loss\n1,2\n", ["no x column", "['step', 'loss']", "--x-col"]),
    ("1,0.5\n2,0.4\n", ["numbers, not column names", "x,loss"]),
    ("x,loss\n1,0.9\n2,0.8\n# note\n4,abc\n", ["line 5", "'abc' is not a number"]),
    ("x,loss\n1,0.9\n2,\n", ["line 3", "empty"]),
    ("x,loss\n1,0.9\n2,nan\n", ["line 3", "nan"]),
    ("x,loss\n1,0.9\ninf,0.5\n", ["line 3", "inf"]),
    ("x,loss\n0,0.9\n", ["line 2", "not positive"]),
    ("x,loss\n1,-0.2\n", ["line 2", "not positive"]),
    ("x,loss\n1,0.9\n2\n", ["line 3", "1 field"]),
    ("x,loss\n1,0.9\n2,0.8\n4,0.7\n8,0.6\n", ["only 4 distinct point", "at least 5"]),
    ("x,loss\n1,0.9\n2,0.8\n4,0.7\n2,0.75\n8,0.6\n16,0.5\n", ["x = 2", "line 3 and line 5", "average"]),
])
def test_reader_errors_name_the_problem(tmp_path, text, words):
    with pytest.raises(CurveFileError) as err:
        read_curve_csv(write(tmp_path, text))
    for word in words:
        assert word in str(err.value)


def test_reader_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_curve_csv(tmp_path / "nope.csv")
    with pytest.raises(CurveFileError, match="folder"):
        read_curve_csv(tmp_path)


def test_prepare_curve_names_positions_of_bad_values():
    with pytest.raises(CurveFileError, match="position 2"):
        prepare_curve([1, 2, 3, 4, 5], [0.5, 0.4, np.nan, 0.3, 0.2])
    with pytest.raises(CurveFileError, match="same length"):
        prepare_curve([1, 2, 3], [0.5, 0.4])


# ------------------------------------------------------------------------------------------- options
def test_resolve_laws():
    assert resolve_laws("all") == tuple(LAWS)
    assert resolve_laws("m4, m1,M4") == ("M4", "M1")
    with pytest.raises(ValueError, match="unknown law 'M7'"):
        resolve_laws("M1,M7")
    with pytest.raises(ValueError, match="no law"):
        resolve_laws(" , ")


def test_holdout_keeps_at_least_one_point_out():
    assert n_fit_points(10, 0.0) == 10
    assert n_fit_points(10, 0.3) == 7
    assert n_fit_points(10, 0.01) == 9
    for bad in (1.0, -0.1, "0.3"):
        with pytest.raises(ValueError, match="0 <= holdout < 1"):
            n_fit_points(10, bad)


# ------------------------------------------------------------------------------------------- fitting
def test_noise_free_m2_curve_is_recovered_and_extrapolated():
    x, y = m2_curve()
    res = fit_user_curve(x, y, laws="M2", holdout=0.25, n_boot=20, at=[1e8])
    fit = res.fits["M2"]
    np.testing.assert_allclose([fit.params["beta"], fit.params["c"], fit.params["eps_inf"]], [2.0, -0.3, 0.1],
                               rtol=1e-4)
    assert fit.rmse < 1e-5
    pred = fit.prediction_table().iloc[0]
    assert pred.estimate == pytest.approx(0.1 + 2.0 * 1e8**-0.3, rel=1e-4)
    assert pred.upper - pred.lower < 1e-4 * pred.estimate  # no noise: every resample gives the same law


def test_held_out_points_are_the_largest_x_and_not_fitted():
    x, y = m2_curve(noise=0.02)
    res = fit_user_curve(x[::-1], y[::-1], laws="M1", holdout=0.3, n_boot=0)
    assert res.n_fit == 8 and res.x_test.min() > res.x_fit.max()
    manual = M1().fit(x[:8], y[:8])
    assert res.fits["M1"].params == pytest.approx(manual.params_)


def test_more_noise_gives_wider_intervals():
    widths, x = [], np.geomspace(1e2, 1e5, 15)
    for noise in (0.002, 0.05):  # a pure power law with noise, so only the noise moves M1's fit
        y = 3.0 * x**-0.2 * np.exp(np.random.default_rng(1).normal(0.0, noise, x.size))
        table = fit_user_curve(x, y, laws="M1", n_boot=60).fits["M1"].prediction_table()
        widths.append(float((table.upper - table.lower).iloc[-1]))
    assert widths[1] > 5 * widths[0]


def test_bootstrap_is_seeded_and_paired_across_laws():
    x, y = m2_curve(noise=0.02)
    one = fit_user_curve(x, y, laws="M1", n_boot=30, seed=3).fits["M1"].parameter_table()
    two = fit_user_curve(x, y, laws="M2,M1", n_boot=30, seed=3).fits["M1"].parameter_table()
    other = fit_user_curve(x, y, laws="M1", n_boot=30, seed=4).fits["M1"].parameter_table()
    np.testing.assert_array_equal(one.to_numpy(), two.to_numpy())
    assert not np.allclose(one.to_numpy(), other.to_numpy())


def test_failed_refits_are_counted():
    x, y = m2_curve(n=5, noise=0.01)
    fit = fit_user_curve(x, y, laws="M3", n_boot=60, seed=0).fits["M3"]
    assert fit.n_failed > 0 and fit.n_ok + fit.n_failed == 60
    assert fit.failure_reasons == {"too few distinct x": fit.n_failed}


def test_constraint_hits_are_reported():
    x = np.geomspace(1e2, 1e5, 10)
    res = fit_user_curve(x, 3.0 * x**-0.2, laws="M2", n_boot=10)  # a pure power law: eps_inf goes to 0
    fit = res.fits["M2"]
    assert fit.bounds_hit == ["eps_inf=0"]
    assert fit.n_at_bound == 10 and fit.bound_counts == {"eps_inf=0": 10}


def test_too_few_fit_points_for_a_law():
    x, y = m2_curve(n=6, noise=0.01)
    with pytest.raises(ValueError, match="M4 has 4 parameters .* lower --holdout"):
        fit_user_curve(x, y, laws="M4", holdout=0.5, n_boot=0, eps0=1.0)
    res = fit_user_curve(x, y, holdout=0.5, n_boot=0, eps0=1.0)  # "all": skipped, not an error
    assert "M4" in res.skipped and "M4" not in res.fits and "M1" in res.fits


def test_m4_eps0_fixed_or_learned():
    x, y = m2_curve(noise=0.01)
    with pytest.raises(ValueError, match="above the largest loss"):
        fit_user_curve(x, y, laws="M4", n_boot=0, eps0=0.2)
    fixed = fit_user_curve(x, y, laws="M4", n_boot=5, eps0=1.0)
    assert fixed.fits["M4"].params["eps0"] == 1.0 and "fixed" in fixed.notes[0]
    learned = fit_user_curve(x, y, laws="M4", n_boot=0)
    assert learned.fits["M4"].params["eps0"] > y.max() and "learned" in learned.notes[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"at": [-1.0]}, "must be finite numbers > 0"),
    ({"n_boot": -1}, "whole number"),
    ({"level": 1.0}, "strictly between"),
])
def test_bad_fit_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_user_curve(*m2_curve(), laws="M1", **kwargs)


def test_outputs_frame_dict_and_report():
    x, y = m2_curve(noise=0.01)
    res = fit_user_curve(x, y, laws="M1,M2", holdout=0.25, n_boot=10, at=[1e7, 1e8])
    frame = res.to_frame()
    assert set(frame.law) == {"M1", "M2"}
    assert (frame.kind == "prediction").sum() == 4 and (frame.kind == "score").sum() == 2
    data = json.loads(json.dumps(res.to_dict()))
    assert data["laws"]["M2"]["bootstrap"]["refits"] == 10
    text = res.report()
    assert "holdout RMSE" in text and "loss @ 1e+08" in text and "Summary" in text


def test_plot_draws_one_line_and_band_per_law(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from scaling.userfit.plots import plot_user_fit, save_user_fit_plot

    res = fit_user_curve(*m2_curve(noise=0.01), laws="M1,M2", holdout=0.25, n_boot=10)
    ax = plot_user_fit(res)
    assert len(ax.lines) == 2 + len(res.at) and len(ax.collections) >= 2 + 2  # lines, bands, points
    path = save_user_fit_plot(res, tmp_path / "fit.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_returns_2_for_unreadable_file(tmp_path, capsys):
    assert main([str(tmp_path / "missing.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_all_means_every_registered_law():
    x, y = m2_curve(noise=0.01)
    res = fit_user_curve(x, y, n_boot=0, eps0=1.0)
    assert list(res.fits) + list(res.skipped) == list(LAWS)


def test_report_warns_when_most_refits_fail():
    # 6 distinct points for 6-parameter BNSL: most resamples repeat a point and cannot be fitted
    x, y = m2_curve(n=6, noise=0.01)
    res = fit_user_curve(x, y, laws="BNSL,M1", n_boot=20, seed=1)
    assert res.fits["BNSL"].n_ok < 10
    text = res.report()
    assert text.count("warning: only") == 1 and f"only {res.fits['BNSL'].n_ok} of 20 refits" in text


def test_panels_show_one_fit_each_and_the_unseen_points():
    import matplotlib

    matplotlib.use("Agg")
    from scaling.userfit.plots import plot_user_fit_panels

    x, y = m2_curve(noise=0.01)
    fits = {k: fit_user_curve(x[:k], y[:k], laws="M1", n_boot=5) for k in (6, 9)}
    fig = plot_user_fit_panels(fits, x, y)
    left, right = fig.axes[:2]
    assert left.get_title() == "first 6 points" and right.get_legend() is None and right.get_ylabel() == ""
    assert len(left.collections[-1].get_offsets()) == 6  # the crosses: the 6 points the 6-point fit did not see
    with pytest.raises(ValueError, match="results is empty"):
        plot_user_fit_panels({}, x, y)


def test_m4_bootstrap_at_alpha_zero_predicts_what_its_parameters_say():
    """M4 ending at alpha = 0 on a curve whose first loss sits just below eps0 (M2's predictions pass it):
    each refit's predictions at `at` and its band are those of M4.from_params(its parameters), and no
    refit fits its resample worse than the M2 refit of the same resample."""
    x = np.geomspace(1.0, 300.0, 10)
    y = 0.2 + 1.1 * x ** -0.9
    y[0] = 0.98
    res = fit_user_curve(x, y, laws="M2,M4", n_boot=60, seed=0, eps0=1.0, workers=1)
    m4, m2 = res.fits["M4"], res.fits["M2"]
    assert m4.params["alpha"] < 1e-10
    rows = m4.boot_params.to_dict("records")
    own = np.array([M4.from_params(**p).predict(m4.at) for p in rows])
    np.testing.assert_allclose(m4.boot_pred, own, rtol=1e-9)
    lo, hi = m4.band(x)
    band = np.array([M4.from_params(**p).predict(x) for p in rows])
    np.testing.assert_allclose(lo, np.percentile(band, 5, axis=0), rtol=1e-9)
    # the resamples are paired across laws; compare where both refits succeeded (the same count here)
    assert m4.n_ok == m2.n_ok == 60
    idx = np.random.default_rng(0).integers(0, x.size, size=(60, x.size))
    for p4, p2, ii in zip(rows, m2.boot_params.to_dict("records"), idx):
        r4 = np.log(M4.from_params(**p4).predict(x[ii])) - np.log(y[ii])
        r2 = np.log(M2.from_params(**p2).predict(x[ii])) - np.log(y[ii])
        assert np.sum(r4 ** 2) <= np.sum(r2 ** 2) * (1 + 1e-9) + 1e-15
