"""The timing comparison (scaling.studies.performance): structure and arithmetic, never the timings themselves."""

import io
import json
import subprocess
from contextlib import redirect_stdout
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from scaling.cli import perf as main  # noqa: E402
from scaling.studies import performance as perf  # noqa: E402
from scaling.studies import performance_plots  # noqa: E402
from scaling.laws import M4  # noqa: E402
from scaling.studies.performance import (  # noqa: E402
    TIMING_COLUMNS,
    benchmark_totals,
    compare_methods,
    format_comparison,
    format_ratio,
    format_ratio_range,
    growth_slopes,
    kernel_report,
    measure_compile_seconds,
    released_cost_model,
    released_timings,
    round_mismatches,
    speed_target,
    summarize_comparison,
    summarize_timings,
    synthetic_curve,
    time_benchmark,
    time_emulation_fits,
    time_predictions,
    time_vs_points,
    timing_subset,
)
from scaling.ledger.reference import RELEASED_TOTAL_SECONDS  # noqa: E402

# The released schedule shortened so that an M2/M4 fit takes milliseconds (same algorithm).
FAST = dict(gd_iterations=2, gd_epochs=50, newton_steps=10, max_iterations=4)
KEY = ["domain", "task", "model", "law"]


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
    glob = time_benchmark(curves, "global", ["M1", "M2", "M4"]).timings
    emulation = time_emulation_fits(curves, ["M1", "M2", "M4"], repeats=2, **FAST)
    return glob, emulation


def test_emulation_frame_has_one_row_per_curve_and_law(curves, timings):
    _, frame = timings
    assert list(frame.columns) == TIMING_COLUMNS
    assert len(frame) == 3 * 3 and set(frame["method"]) == {"emulation"}
    assert set(zip(frame.task, frame.law)) == {(t, law) for t in ("t1", "t2", "t3") for law in ("M1", "M2", "M4")}
    assert (frame["seconds"] > 0).all() and (frame["error"] == "").all()
    assert (frame["seconds_min"] <= frame["seconds"]).all() and (frame["seconds"] <= frame["seconds_max"]).all()
    assert frame["repeats"].between(1, 2).all()
    # the timed unit is the fit plus the held-out prediction (exactly their sum for a single run)
    once = frame[frame.repeats == 1]
    np.testing.assert_allclose(once["fit_seconds"] + once["predict_seconds"], once["seconds"])
    assert (frame["predict_seconds"] > 0).all() and (frame["fit_seconds"] > 0).all()
    assert frame.set_index("task")["n_fit"].to_dict() == {"t1": 12, "t2": 12, "t3": 9}
    # the released rounds are reported; the shortened schedule caps them
    assert frame["n_iter"].between(1, FAST["max_iterations"]).all()
    assert (frame.loc[frame.law == "M1", "n_iter"] == 1).all()


def test_literal_walk_is_labelled_and_reaches_the_same_fits(curves):
    lit = time_emulation_fits(curves[:1], ["M2", "M4"], walk="literal", repeats=1, **FAST)
    assert set(lit["method"]) == {"literal"} and (lit["error"] == "").all()
    taylor = time_benchmark(curves, "released", ["M2", "M4"], n_jobs=1, **FAST)
    literal = time_benchmark(curves, "released", ["M2", "M4"], n_jobs=1, walk="literal", **FAST)
    assert (taylor.method, literal.method) == ("emulation", "literal")
    merged = taylor.results.merge(literal.results, on=KEY, suffixes=("_t", "_l"))
    assert len(merged) == 6
    for p in ("beta", "c", "eps_inf"):
        np.testing.assert_allclose(merged[f"{p}_l"], merged[f"{p}_t"], rtol=1e-8)
    with pytest.raises(ValueError, match="walk must be one of"):
        time_emulation_fits(curves, ["M2"], walk="fast")


def test_time_benchmark_records_the_run_and_each_fit(curves):
    run = time_benchmark(curves, "released", ["M1", "M2", "M4"], n_jobs=2, **FAST)
    assert (run.method, run.estimator, run.walk, run.n_jobs, run.laws) == ("emulation", "released", "taylor", 2,
                                                                            ("M1", "M2", "M4"))
    assert run.seconds > 0 and run.fits == 9 and run.failed == 0
    t = run.timings
    assert list(t.columns) == TIMING_COLUMNS and set(t.method) == {"emulation"}
    merged = t.merge(run.results, on=KEY, suffixes=("", "_r"))
    np.testing.assert_allclose(merged["seconds"], merged["fit_seconds_r"])
    np.testing.assert_array_equal(merged["n_iter"], merged["n_iter_r"])
    assert run.seconds >= t.seconds.max()  # the whole run contains each fit
    assert t.set_index("task")["n_fit"].to_dict() == {"t1": 12, "t2": 12, "t3": 9}
    glob = time_benchmark(curves, "global", ["M1", "BNSL"])
    assert (glob.method, glob.n_jobs, glob.fits) == ("global", 1, 6)
    assert set(glob.timings.law) == {"M1", "BNSL"} and glob.timings.n_iter.isna().all()
    with pytest.raises(ValueError, match="one curve at a time"):
        time_benchmark(curves, "global", ["M1"], n_jobs=2)
    with pytest.raises(ValueError, match="no released options"):
        time_benchmark(curves, "global", ["M1"], max_iterations=3)
    with pytest.raises(ValueError, match="estimator must be"):
        time_benchmark(curves, "local")
    with pytest.raises(ValueError, match="released algorithm fits only"):
        time_benchmark(curves, "released", ["BNSL"])


def test_a_failed_fit_is_recorded_not_raised():
    bad = _curve("IC", "flat", "x", n_fit=3)  # three points cannot fit M4's five parameters, but M1's two
    out = time_benchmark([bad], "global", ["M1", "M4"]).timings.set_index("law")
    assert out.loc["M1", "error"] == ""
    m4 = out.loc["M4"]
    assert np.isnan(m4["seconds"]) and m4["error"] and m4["repeats"] == 0


def test_released_timings_are_the_reference_data(bench, curves):
    ref = released_timings(bench)
    assert list(ref.columns) == TIMING_COLUMNS and len(ref) == 368 and set(ref.method) == {"released"}
    assert ref.seconds.sum() == pytest.approx(RELEASED_TOTAL_SECONDS)
    assert ref.n_fit.notna().all() and ref.n_iter.isna().all()
    assert len(released_timings()) == 368 and released_timings().n_fit.isna().all()
    some = released_timings(timing_subset(bench, 1), ["m2", "M4"])
    assert len(some) == 4 * 2 and set(some.law) == {"M2", "M4"}
    with pytest.raises(ValueError, match="covers only the 92 benchmark curves"):
        released_timings(curves)
    with pytest.raises(ValueError, match="released algorithm fits only"):
        released_timings(bench, ["BNSL"])


def test_comparison_covers_the_same_cells_and_computes_the_ratio(timings):
    glob, emulation = timings
    cmp = compare_methods(glob, emulation)
    assert len(cmp) == 9
    assert set(map(tuple, cmp[KEY].to_numpy())) == set(map(tuple, glob[KEY].to_numpy())) \
        == set(map(tuple, emulation[KEY].to_numpy()))
    merged = cmp.merge(glob[KEY + ["seconds"]], on=KEY).merge(emulation[KEY + ["seconds"]], on=KEY,
                                                             suffixes=("_g", "_e"))
    np.testing.assert_allclose(merged["global_ms"], 1e3 * merged["seconds_g"])
    np.testing.assert_allclose(merged["emulation_ms"], 1e3 * merged["seconds_e"])
    np.testing.assert_allclose(merged["ratio"], merged["seconds_g"] / merged["seconds_e"])
    assert set(cmp.numerator) == {"global"} and set(cmp.denominator) == {"emulation"}
    # rounds come from the frame that records them, whichever side it is on
    assert cmp["n_iter"].notna().all() and compare_methods(emulation, glob)["n_iter"].notna().all()


def test_comparison_keeps_only_common_cells_and_summaries_add_up(timings):
    glob, emulation = timings
    partial = emulation[emulation.task != "t3"]
    cmp = compare_methods(glob, partial)
    assert set(cmp.task) == {"t1", "t2"} and len(cmp) == 6
    by_law = summarize_comparison(cmp)
    assert list(by_law.law) == ["M1", "M2", "M4"] and (by_law.curves == 2).all()
    for row in by_law.itertuples():
        g = cmp[cmp.law == row.law]
        assert row.global_ms == pytest.approx(g.global_ms.median())
        assert row.ratio == pytest.approx(g.global_ms.median() / g.emulation_ms.median())
        assert row.median_ratio == pytest.approx(g.ratio.median())
        assert row.ratio_min == pytest.approx(g.ratio.min()) and row.ratio_max == pytest.approx(g.ratio.max())
        assert row.emulation_s == pytest.approx(g.emulation_ms.sum() / 1e3)
        assert row.total_ratio == pytest.approx(g.global_ms.sum() / g.emulation_ms.sum())
    with_total = summarize_comparison(cmp, with_total=True)
    assert list(with_total.law) == ["M1", "M2", "M4", "all"]
    assert with_total.iloc[-1].curves == 6 and with_total.iloc[-1].global_s == pytest.approx(cmp.global_ms.sum() / 1e3)
    by_domain = summarize_comparison(compare_methods(glob, emulation), by_domain=True)
    assert list(by_domain.columns[:3]) == ["law", "domain", "curves"]
    assert list(by_domain[by_domain.law == "M2"].domain) == ["IC", "BB"]  # domain order IC, NMT, LM, BB
    table = format_comparison(by_law)
    assert list(table.columns) == ["law", "fits", "global ms", "emulation ms", "ratio (median fit)", "range",
                                   "global s", "emulation s", "ratio of totals"]
    assert list(format_comparison(by_law, totals=False).columns)[-1] == "range"


def test_summaries_and_totals(timings):
    glob, emulation = timings
    both = pd.concat([glob, emulation], ignore_index=True)
    s = summarize_timings(both, by_domain=True)
    ic_m4 = s[(s.method == "global") & (s.law == "M4") & (s.domain == "IC")].iloc[0]
    ref = 1e3 * glob[(glob.law == "M4") & (glob.domain == "IC")]["seconds"]
    assert ic_m4.fits == 2 and ic_m4.median_ms == pytest.approx(ref.median())
    assert ic_m4.q25_ms <= ic_m4.median_ms <= ic_m4.q75_ms
    totals = benchmark_totals(both)
    for method, frame in (("global", glob), ("emulation", emulation)):
        t = totals[totals.method == method].set_index("law")
        assert t.loc["all", "total_s"] == pytest.approx(frame.seconds.sum())
        assert t.drop("all")["total_s"].sum() == pytest.approx(t.loc["all", "total_s"])
        assert t.loc["all", "curves"] == 3 and t.loc["all", "fits"] == 9


def test_speed_target_arithmetic():
    t = speed_target(8.0)
    assert t["released_seconds"] == pytest.approx(RELEASED_TOTAL_SECONDS)
    assert t["ratio"] == pytest.approx(RELEASED_TOTAL_SECONDS / 8.0) and t["met"] is True
    assert t["target_seconds"] == 10.0 and format_ratio(t["target_ratio"]) == "165x"  # 1,647 s / 10 s
    assert speed_target(12.0)["met"] is False
    assert speed_target(2.0, released_seconds=100.0, target_seconds=4.0) == dict(
        seconds=2.0, released_seconds=100.0, ratio=50.0, target_seconds=4.0, target_ratio=25.0, met=True)
    for bad in (0.0, -1.0, float("nan"), "x"):
        with pytest.raises(ValueError):
            speed_target(bad)


def _fake_comparison():
    """Released times exactly linear in the rounds, plus one fit whose time says it stopped early."""
    rows = []
    for law, first, per in (("M2", 0.8, 0.002), ("M4", 1.7, 0.004)):
        for i, rounds in enumerate((150, 400, 900, 2500, 6000)):
            rows.append(dict(domain="IC", task=f"t{i}", model="m", label=f"t{i}", n_fit=10, law=law,
                             released_ms=1e3 * (first + per * (rounds - 100)), emulation_ms=1e3 * 1e-5 * rounds,
                             ratio=np.nan, n_iter=rounds, converged=True))
    # capped in the emulation, but the released time is that of about 600 rounds
    rows.append(dict(domain="IC", task="odd", model="m", label="odd", n_fit=10, law="M4",
                     released_ms=1e3 * (1.7 + 0.004 * 500), emulation_ms=100.0, ratio=np.nan, n_iter=10_000,
                     converged=False))
    frame = pd.DataFrame(rows)
    frame["ratio"] = frame.released_ms / frame.emulation_ms
    frame["numerator"], frame["denominator"] = "released", "emulation"
    return frame


def test_released_cost_model_recovers_a_linear_cost():
    cmp = _fake_comparison()
    model = released_cost_model(cmp).set_index("law")
    assert list(model.index) == ["M2", "M4"] and (model.fits == 5).all()  # the capped fit is left out
    assert model.loc["M2", "first_s"] == pytest.approx(0.8) and model.loc["M4", "round_ms"] == pytest.approx(4.0)
    assert model.loc["M2", "us_per_gradient_step"] == pytest.approx(0.8e6 / 100_000)
    assert model.loc["M4", "us_per_newton_step"] == pytest.approx(4.0e3 / 100)
    assert model.r.to_numpy() == pytest.approx([1.0, 1.0])
    assert model.loc["M2", "emulation_round_ms"] == pytest.approx(1e-2)
    odd = round_mismatches(cmp, model.reset_index())
    assert list(odd.task) == ["odd"] and odd.iloc[0].implied_rounds == pytest.approx(600)
    assert len(round_mismatches(cmp, model.reset_index(), factor=100)) == 0
    with pytest.raises(ValueError, match="released_timings"):
        released_cost_model(cmp.assign(numerator="global"))
    with pytest.raises(ValueError, match="factor"):
        round_mismatches(cmp, model.reset_index(), factor=1)


def test_kernel_report_counts_the_kernels_this_process_uses(curves):
    time_emulation_fits(curves[:1], ["M1"], repeats=1)
    report = kernel_report()
    assert set(report) == {"loaded", "compiled", "cache_path"}
    assert report["loaded"] + report["compiled"] >= 1


def test_measure_compile_seconds_runs_two_fresh_processes_on_one_empty_cache(monkeypatch):
    calls = []

    def fake_run(cmd, env, capture_output, text, timeout):
        calls.append((cmd, env["NUMBA_CACHE_DIR"]))
        first = 3.0 if len(calls) == 1 else 0.4
        return subprocess.CompletedProcess(cmd, 0, json.dumps(dict(import_s=0.5, first_s=first, again_s=1e-4)), "")

    monkeypatch.setattr(perf.subprocess, "run", fake_run)
    out = measure_compile_seconds(["m2", "M4"])
    assert len(calls) == 2 and calls[0][1] == calls[1][1] and "scaling-numba-" in calls[0][1]
    assert calls[0][0][-1] == "M2,M4"
    assert out["cold_s"] == 3.0 and out["warm_s"] == 0.4 and out["compile_s"] == pytest.approx(2.6)
    monkeypatch.setattr(perf.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "Traceback\nImportError: boom"))
    with pytest.raises(RuntimeError, match="boom"):
        measure_compile_seconds(["M1"])


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
        time_benchmark(curves, "global", ["M5"])
    with pytest.raises(ValueError, match="released algorithm fits only"):
        time_emulation_fits(curves, ["BNSL"])
    with pytest.raises(ValueError, match="repeats"):
        time_emulation_fits(curves, ["M1"], repeats=0)
    with pytest.raises(ValueError, match="no curves"):
        time_benchmark([], "global", ["M1"])
    with pytest.raises(ValueError, match="not a learning curve"):
        time_benchmark([object()], "global", ["M1"])
    with pytest.raises(ValueError, match="fast_below"):
        time_emulation_fits(curves, ["M1"], fast_below=-1)
    with pytest.raises(ValueError, match="at least two sizes"):
        time_vs_points([100])
    glob, emulation = timings
    with pytest.raises(ValueError, match="no .* cell in common"):
        compare_methods(glob[glob.law == "M1"], emulation[emulation.law == "M2"])
    with pytest.raises(ValueError, match="lacks column"):
        compare_methods(pd.DataFrame({"law": ["M1"]}), emulation)
    with pytest.raises(ValueError, match="two different methods"):
        compare_methods(emulation, emulation)
    with pytest.raises(ValueError, match="one method"):
        compare_methods(pd.concat([glob, emulation]), emulation)


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
    # global M1, M2; emulation M1, M2, M3; the literal walk only for the law that walks (M2)
    assert len(g) == 3 * (2 + 3 + 1) and (g.seconds > 0).all()
    assert set(g.method) == {"global", "emulation", "literal"}
    assert set(g[g.method == "literal"].law) == {"M2"}
    rel = g[g.method == "emulation"].set_index("law")
    assert set(rel.loc["M2", "unit"]) == {"round"} and set(rel.loc["M1", "unit"]) == {"fit"}
    assert (rel.loc["M2", "rounds"] == 1).all()
    only_global = time_vs_points((10, 20), laws=["M1"], walks=(), repeats=1)
    assert set(only_global.method) == {"global"}
    p = time_predictions((10, 20, 40), repeats=1)
    assert set(p.method) == {"global", "emulation"} and set(p.unit) == {"prediction"}
    # the slope is an exact least-squares fit: check it on a made-up frame with known slopes
    n = np.array([10, 100, 1000])
    fake = pd.DataFrame({"n": np.r_[n, n], "law": "M1", "method": ["global"] * 3 + ["emulation"] * 3, "unit": "fit",
                         "seconds": np.r_[1e-3 * n ** 0.5, 2e-6 * n ** 2.0]})
    s = growth_slopes(fake).set_index("method")
    assert s.loc["global", "slope"] == pytest.approx(0.5) and s.loc["emulation", "slope"] == pytest.approx(2.0)
    assert s.loc["global", "slope_se"] == pytest.approx(0.0, abs=1e-9)
    assert s.loc["emulation", "ms_last"] == pytest.approx(2e-3 * 1000 ** 2)
    assert len(growth_slopes(g)) == 6
    with pytest.raises(ValueError, match="fewer than two sizes"):
        growth_slopes(fake, n_min=1000)


def test_figures_draw(timings):
    glob, emulation = timings
    fake = _fake_comparison()
    released = pd.DataFrame({
        "method": "released", "domain": fake.domain, "task": fake.task, "model": fake.model, "label": fake.label,
        "n_fit": 10, "law": fake.law, "seconds": fake.released_ms / 1e3, "n_iter": np.nan})
    emu = released.assign(method="emulation", seconds=fake.emulation_ms / 1e3, n_iter=fake.n_iter)
    fig = performance_plots.plot_time_vs_rounds(pd.concat([released, emu], ignore_index=True))
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log"
    plt.close(fig)
    ax = performance_plots.plot_fit_times(pd.concat([glob, emulation], ignore_index=True))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["emulation", "global"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="emulation"):
        performance_plots.plot_time_vs_rounds(glob)


def test_ratio_formats():
    assert [format_ratio(r) for r in (0.834, 3.21, 1250.0, float("nan"))] == ["0.83x", "3.2x", "1,250x", "-"]
    assert format_ratio_range(0.6, 728.4) == "0.60-728x"


def test_cli_tiny_run(bench, capsys):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["--curves", "1", "--laws", "M1,M3", "--released-laws", "m1,M3", "--repeats", "1",
                     "--quiet", "--sizes", "10,20", "--literal-curves", "0"])
    out = buf.getvalue()
    assert code == 0
    assert "Timing 4 curves" in out and "ratio = released / emulation" in out
    assert "measured by others, reference data" in out and "the 10 s target is for all 92 curves" in out
    assert "Per law and domain" in out and "One pass over these curves" in out
    assert "ratio = released / global" in out
    assert "Cost against the number of fitted points" in out and "slope" in out
    assert "What the Taylor model buys" not in out  # --literal-curves 0
    lines = [ln.split() for ln in out.splitlines()]
    law_rows = [ln for ln in lines if ln[:1] in (["M1"], ["M3"]) and len(ln) >= 5]
    assert {ln[0] for ln in law_rows} == {"M1", "M3"}
    assert capsys.readouterr().err == ""  # --quiet: no progress lines


def test_cli_literal_walk(bench, capsys):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["--curves", "1", "--laws", "M1", "--released-laws", "M2", "--quiet", "--sizes", "",
                     "--literal-curves", "1", "--n-jobs", "1"])
    out = buf.getvalue()
    assert code == 0
    assert "What the Taylor model buys" in out and "ratio = literal / emulation" in out
    assert "emulation (Taylor walk), 1 thread(s)" in out
    assert "Cost against the number" not in out  # --sizes ''


def test_cli_rejects_bad_arguments(capsys):
    assert main(["--curves", "0"]) == 2
    assert "--curves" in capsys.readouterr().err
    assert main(["--released-laws", "BNSL"]) == 2
    assert "released algorithm fits only" in capsys.readouterr().err
    assert main(["--sizes", "10,abc"]) == 2
    assert main(["--n-jobs", "0"]) == 2
    assert main(["--literal-curves", "-1"]) == 2
    capsys.readouterr()
    assert main(["--bogus"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unrecognized arguments: --bogus" in err
    assert main(["--help"]) == 0
    captured = capsys.readouterr()
    assert "reference data" in captured.out and captured.err == ""
