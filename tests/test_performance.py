"""The timing benchmark (scaling.performance): structure and arithmetic, never the timings themselves."""

import io
from contextlib import redirect_stdout
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from scaling.laws import M4
from scaling.performance import (
    TIMING_COLUMNS,
    benchmark_totals,
    compare_methods,
    growth_slopes,
    main,
    summarize_comparison,
    summarize_timings,
    synthetic_curve,
    time_our_fits,
    time_predictions,
    time_released_fits,
    time_vs_points,
    timing_subset,
)

# The released schedule shortened so that an M2/M4 fit takes milliseconds (same algorithm).
FAST = dict(gd_iterations=2, gd_epochs=50, newton_steps=10, max_iterations=4)


def _curve(domain, task, model, seed=0, n_fit=12, n_test=4):
    x = np.logspace(6, 9, n_fit + n_test)
    rng = np.random.default_rng(seed)
    y = M4.from_params(beta=3731.0, c=-0.49, eps_inf=0.29, eps0=1.0, alpha=0.15).predict(x)
    y = np.minimum(y * np.exp(rng.normal(0, 0.005, x.size)), 0.99)
    return SimpleNamespace(domain=domain, task=task, model=model, label=f"{task}/{model}",
                           x_fit=x[:n_fit], loss_fit=y[:n_fit], x_test=x[n_fit:], loss_test=y[n_fit:])


@pytest.fixture(scope="module")
def curves():
    return [_curve("IC", "t1", "a", 0), _curve("IC", "t2", "b", 1), _curve("BB", "t3", "c", 2, n_fit=9)]


@pytest.fixture(scope="module")
def timings(curves):
    ours = time_our_fits(curves, ["M1", "M2", "M4"], repeats=3)
    released = time_released_fits(curves, ["M1", "M2", "M4"], repeats=2, **FAST)
    return ours, released


def test_timing_frames_have_one_row_per_curve_and_law(curves, timings):
    ours, released = timings
    for frame, method in ((ours, "ours"), (released, "released")):
        assert list(frame.columns) == TIMING_COLUMNS
        assert len(frame) == 3 * 3 and set(frame["method"]) == {method}
        assert set(zip(frame.task, frame.law)) == {(t, law) for t in ("t1", "t2", "t3") for law in ("M1", "M2", "M4")}
        assert (frame["seconds"] > 0).all() and (frame["error"] == "").all()
        assert (frame["seconds_min"] <= frame["seconds"]).all() and (frame["seconds"] <= frame["seconds_max"]).all()
        assert frame["repeats"].between(1, 3 if method == "ours" else 2).all()
        # the timed unit is the fit plus the held-out prediction (exactly their sum for a single run)
        once = frame[frame.repeats == 1]
        np.testing.assert_allclose(once["fit_seconds"] + once["predict_seconds"], once["seconds"])
        assert (frame["predict_seconds"] > 0).all() and (frame["fit_seconds"] > 0).all()
        assert frame.set_index("task")["n_fit"].to_dict() == {"t1": 12, "t2": 12, "t3": 9}
    # the released rounds are reported; the shortened schedule caps them
    assert released["n_iter"].between(1, FAST["max_iterations"]).all()
    assert (released.loc[released.law == "M1", "n_iter"] == 1).all()


def test_comparison_covers_the_same_cells_and_computes_the_ratio(timings):
    ours, released = timings
    cmp = compare_methods(ours, released)
    assert len(cmp) == 9
    key = ["domain", "task", "model", "law"]
    assert set(map(tuple, cmp[key].to_numpy())) == set(map(tuple, ours[key].to_numpy())) \
        == set(map(tuple, released[key].to_numpy()))
    merged = cmp.merge(ours[key + ["seconds"]], on=key).merge(released[key + ["seconds"]], on=key,
                                                             suffixes=("_o", "_r"))
    np.testing.assert_allclose(merged["ours_ms"], 1e3 * merged["seconds_o"])
    np.testing.assert_allclose(merged["released_ms"], 1e3 * merged["seconds_r"])
    np.testing.assert_allclose(merged["ratio"], merged["seconds_r"] / merged["seconds_o"])


def test_comparison_keeps_only_common_cells_and_summaries_add_up(timings):
    ours, released = timings
    partial = released[released.task != "t3"]
    cmp = compare_methods(ours, partial)
    assert set(cmp.task) == {"t1", "t2"} and len(cmp) == 6
    by_law = summarize_comparison(cmp)
    assert list(by_law.law) == ["M1", "M2", "M4"] and (by_law.curves == 2).all()
    for row in by_law.itertuples():
        g = cmp[cmp.law == row.law]
        assert row.ours_ms == pytest.approx(g.ours_ms.median())
        assert row.ratio == pytest.approx(g.released_ms.median() / g.ours_ms.median())
        assert row.ratio_min == pytest.approx(g.ratio.min()) and row.ratio_max == pytest.approx(g.ratio.max())
        assert row.released_s == pytest.approx(g.released_ms.sum() / 1e3)
    by_domain = summarize_comparison(compare_methods(ours, released), by_domain=True)
    assert list(by_domain.columns[:3]) == ["law", "domain", "curves"]
    assert list(by_domain[by_domain.law == "M2"].domain) == ["IC", "BB"]  # domain order IC, NMT, LM, BB


def test_summaries_and_totals(timings):
    ours, released = timings
    both = pd.concat([ours, released], ignore_index=True)
    s = summarize_timings(both, by_domain=True)
    ic_m4 = s[(s.method == "ours") & (s.law == "M4") & (s.domain == "IC")].iloc[0]
    ref = 1e3 * ours[(ours.law == "M4") & (ours.domain == "IC")]["seconds"]
    assert ic_m4.fits == 2 and ic_m4.median_ms == pytest.approx(ref.median())
    assert ic_m4.q25_ms <= ic_m4.median_ms <= ic_m4.q75_ms
    totals = benchmark_totals(both)
    for method, frame in (("ours", ours), ("released", released)):
        t = totals[totals.method == method].set_index("law")
        assert t.loc["all", "total_s"] == pytest.approx(frame.seconds.sum())
        assert t.drop("all")["total_s"].sum() == pytest.approx(t.loc["all", "total_s"])
        assert t.loc["all", "curves"] == 3 and t.loc["all", "fits"] == 9


def test_a_failed_fit_is_recorded_not_raised():
    bad = _curve("IC", "flat", "x", n_fit=3)  # three points cannot fit M4's five parameters, but M1's two
    out = time_our_fits([bad], ["M1", "M4"], repeats=1)
    assert out.set_index("law").loc["M1", "error"] == ""
    m4 = out.set_index("law").loc["M4"]
    assert np.isnan(m4["seconds"]) and m4["error"] and m4["repeats"] == 0


def test_subset_is_deterministic_and_per_domain(curves):
    sub = timing_subset(curves, 1)
    assert [c.task for c in sub] == ["t1", "t3"]
    assert [c.task for c in timing_subset(curves, {"IC": 2})] == ["t1", "t2"]
    assert [c.task for c in timing_subset(curves, 5)] == ["t1", "t2", "t3"]
    with pytest.raises(ValueError, match="unknown domain"):
        timing_subset(curves, {"XX": 1})
    with pytest.raises(ValueError, match="integer >= 1"):
        timing_subset(curves, 0)


def test_bad_arguments_raise_clear_errors(curves, timings):
    with pytest.raises(ValueError, match="unknown law"):
        time_our_fits(curves, ["M5"])
    with pytest.raises(ValueError, match="released algorithm fits only"):
        time_released_fits(curves, ["BNSL"])
    with pytest.raises(ValueError, match="repeats"):
        time_our_fits(curves, ["M1"], repeats=0)
    with pytest.raises(ValueError, match="no curves"):
        time_our_fits([], ["M1"])
    with pytest.raises(ValueError, match="not a learning curve"):
        time_our_fits([object()], ["M1"])
    with pytest.raises(ValueError, match="fast_below"):
        time_our_fits(curves, ["M1"], fast_below=-1)
    with pytest.raises(ValueError, match="at least two sizes"):
        time_vs_points([100])
    with pytest.raises(ValueError, match="no .* cell in common"):
        ours, released = timings
        compare_methods(ours[ours.law == "M1"], released[released.law == "M2"])
    with pytest.raises(ValueError, match="lacks column"):
        compare_methods(pd.DataFrame({"law": ["M1"]}), timings[1])


def test_synthetic_curves_are_seeded_and_feasible():
    x, y = synthetic_curve(300, seed=3)
    x2, y2 = synthetic_curve(300, seed=3)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(y, synthetic_curve(300, seed=4)[1])
    assert x.size == 300 and np.all(np.diff(x) > 0) and 0.2 < y.min() and y.max() <= 0.99


def test_growth_frames_and_slopes():
    g = time_vs_points((10, 20, 40), laws=["M1", "M2"], released_laws=["M1", "M2", "M3"], repeats=1,
                       released_rounds=1)
    assert list(g.columns) == ["n", "law", "method", "unit", "seconds", "seconds_min", "seconds_max", "rounds"]
    assert len(g) == 3 * (2 + 3) and (g.seconds > 0).all()
    rel = g[g.method == "released"].set_index("law")
    assert set(rel.loc["M2", "unit"]) == {"round"} and set(rel.loc["M1", "unit"]) == {"fit"}
    assert (rel.loc["M2", "rounds"] == 1).all()
    p = time_predictions((10, 20, 40), repeats=1)
    assert set(p.method) == {"ours", "released"} and set(p.unit) == {"prediction"}
    # the slope is an exact least-squares fit: check it on a made-up frame with known slopes
    n = np.array([10, 100, 1000])
    fake = pd.DataFrame({"n": np.r_[n, n], "law": "M1", "method": ["ours"] * 3 + ["released"] * 3, "unit": "fit",
                         "seconds": np.r_[1e-3 * n ** 0.5, 2e-6 * n ** 2.0]})
    s = growth_slopes(fake).set_index("method")
    assert s.loc["ours", "slope"] == pytest.approx(0.5) and s.loc["released", "slope"] == pytest.approx(2.0)
    assert s.loc["ours", "slope_se"] == pytest.approx(0.0, abs=1e-9)
    assert s.loc["released", "ms_last"] == pytest.approx(2e-3 * 1000 ** 2)
    assert len(growth_slopes(g)) == 5
    with pytest.raises(ValueError, match="fewer than two sizes"):
        growth_slopes(fake, n_min=1000)


def test_cli_tiny_run(bench, capsys):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["--curves", "1", "--laws", "M1,M3", "--released-laws", "m1,M3", "--repeats", "1",
                     "--quiet", "--sizes", "10,20"])
    out = buf.getvalue()
    assert code == 0
    assert "Timing 4 curves" in out and "ratio = released / ours" in out
    assert "Per law and domain" in out and "One pass over these curves" in out
    assert "Cost against the number of fitted points" in out and "slope" in out
    lines = [ln.split() for ln in out.splitlines()]
    law_rows = [ln for ln in lines if ln[:1] in (["M1"], ["M3"]) and len(ln) >= 5]
    assert {ln[0] for ln in law_rows} == {"M1", "M3"}
    assert capsys.readouterr().err == ""  # --quiet: no progress lines


def test_cli_rejects_bad_arguments(capsys):
    assert main(["--curves", "0"]) == 2
    assert "--curves" in capsys.readouterr().err
    assert main(["--released-laws", "BNSL"]) == 2
    assert "released algorithm fits only" in capsys.readouterr().err
    assert main(["--sizes", "10,abc"]) == 2
    assert main(["--bogus"]) == 2
    assert main(["--help"]) == 0
