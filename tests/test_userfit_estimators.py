"""``fit`` with its estimators, its warm-started bootstrap, its JSON and its care with the user's files."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from scaling.laws import M2, M4
from scaling.laws.released import fit_released, predict_released
from scaling.laws.sound import fit_sound
from scaling.cli import fit as main
from scaling.userfit import DEFAULT_ESTIMATOR, ESTIMATORS, bench_curves, check_outputs, fit_user_curve, run_bench


def plateau_curve(n=16, noise=0.01, seed=0):
    """Loss = 2 + 300 x^-0.3 over two decades: an irreducible term that Eq. 4's M2 drops (eps_inf = 0)."""
    x = np.geomspace(1e8, 1e10, n)
    return x, (2.0 + 300.0 * x**-0.3) * np.exp(np.random.default_rng(seed).normal(0, noise, n))


CSV = "x,loss\n" + "".join(f"{a:.8g},{b:.8g}\n" for a, b in zip(*plateau_curve()))


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------------- estimators
def test_sound_is_the_default_and_eq4_is_the_papers_global_fit():
    x, y = plateau_curve()
    assert DEFAULT_ESTIMATOR == "sound" and set(ESTIMATORS) == {"sound", "eq4", "released"}
    sound = fit_user_curve(x, y, laws="M2,M4", n_boot=0, eps0=10.0)
    eq4 = fit_user_curve(x, y, laws="M2,M4", n_boot=0, eps0=10.0, estimator="eq4")
    assert sound.estimator == "sound" and eq4.estimator == "eq4"
    assert sound.fits["M2"].params == pytest.approx(fit_sound(M2(), x, y).params_)
    assert eq4.fits["M2"].params == pytest.approx(M2(estimator="eq4").fit(x, y).params_)
    assert eq4.fits["M4"].params == pytest.approx(M4(eps0=10.0, estimator="eq4").fit(x, y).params_)
    # Eq. 4 drops the plateau and reports it; the sound fit keeps it
    assert eq4.fits["M2"].params["eps_inf"] == 0 and "reduces-to-M1" in [d["code"] for d in eq4.fits["M2"].diagnostics]
    assert sound.fits["M2"].params["eps_inf"] > 1.0


def test_released_estimator_is_the_papers_method():
    x, y = plateau_curve()
    res = fit_user_curve(x, y, n_boot=5, eps0=10.0, estimator="released")
    assert set(res.fits) == {"M1", "M2", "M3", "M4"} and set(res.skipped) == {"BNSL", "Chinchilla"}
    ref = fit_released("M4", x, y, eps0=10.0, update_eps0=False, up_bound=None)
    fit = res.fits["M4"]
    assert fit.params == pytest.approx(ref["params"])
    at = res.at
    np.testing.assert_allclose(fit.law.predict(at), predict_released("M4", ref["params"], at))
    assert fit.boot_search == "full" and fit.n_ok + fit.n_failed == 5
    with pytest.raises(ValueError, match="released estimator fits only"):
        fit_user_curve(x, y, laws="BNSL", n_boot=0, estimator="released")


def test_estimator_option_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "curve.csv"
    path.write_text(CSV)
    for estimator in ESTIMATORS:
        code, out, err = run([path, "--law", "M2", "--boot", "0", "--estimator", estimator, "--quiet"], capsys)
        assert code == 0, err
        assert f"estimator: {estimator}" in out
    code, out, err = run([path, "--estimator", "luck"], capsys)
    assert code == 2 and "invalid choice" in err


# ------------------------------------------------------------------------------------------- bootstrap
def test_warm_refits_agree_with_full_refits():
    x, y = plateau_curve(noise=0.02)
    warm = fit_user_curve(x, y, laws="M1,M2,Chinchilla", n_boot=60, seed=2, workers=1)
    full = fit_user_curve(x, y, laws="M1,M2,Chinchilla", n_boot=60, seed=2, workers=1, boot_search="full")
    for law in ("M1", "M2", "Chinchilla"):
        a, b = warm.fits[law].prediction_table(), full.fits[law].prediction_table()
        np.testing.assert_allclose(a[["lower", "upper"]], b[["lower", "upper"]], rtol=2e-3)
    assert warm.fits["M2"].boot_search == "warm" and full.fits["M2"].boot_search == "full"


def test_results_do_not_depend_on_the_number_of_workers():
    x, y = plateau_curve()
    one = fit_user_curve(x, y, laws="M2,M4,BNSL", n_boot=20, workers=1)
    two = fit_user_curve(x, y, laws="M2,M4,BNSL", n_boot=20, workers=2)
    for law in one.fits:
        pd.testing.assert_frame_equal(one.fits[law].boot_params, two.fits[law].boot_params)
    lo, hi = one.fits["M4"].band(np.geomspace(1e8, 1e11, 5))
    assert np.all(lo <= hi)


# ------------------------------------------------------------------------------------------- JSON
def test_json_keys(tmp_path, capsys):
    path = tmp_path / "curve.csv"
    path.write_text(CSV)
    code, out, err = run([path, "--holdout", "0.25", "--boot", "10", "--json", "-", "--quiet"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["estimator"] == "sound" and data["boot_search"] == "warm"
    for name, law in data["laws"].items():
        assert isinstance(law["holdout_rmse"], float)
        assert all("estimate" in p for p in law["parameters"].values())
        assert isinstance(law["diagnostics"], list)
        assert all(set(d) >= {"code", "message"} for d in law["diagnostics"])
    assert data["laws"]["M2"]["parameters"]["eps_inf"]["estimate"] > 1.0


# ------------------------------------------------------------------------------------------- files
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
@pytest.mark.parametrize("option", ["--out", "--json", "--plot"])
def test_never_writes_over_its_input(tmp_path, capsys, monkeypatch, how, option):
    path = tmp_path / "curve.csv"
    path.write_text(CSV)
    target = {"same": path, "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv",
              "relative": "curve.csv"}[how]
    if how == "symlink":
        os.symlink(path, target)
    elif how == "hardlink":
        os.link(path, target)
    monkeypatch.chdir(tmp_path)
    code, out, err = run([path, "--boot", "0", "--quiet", option, target], capsys)
    assert code == 2 and "input file" in err and err.count("\n") == 1
    assert out == ""  # refused before any work
    assert path.read_text() == CSV


def test_two_options_naming_one_file_and_bad_plot_format_are_refused_first(tmp_path, capsys):
    path = tmp_path / "curve.csv"
    path.write_text(CSV)
    code, out, err = run([path, "--quiet", "--out", tmp_path / "r.csv", "--json", tmp_path / "r.csv"], capsys)
    assert code == 2 and "both name" in err and out == ""
    code, out, err = run([path, "--quiet", "--out", tmp_path / "r.csv", "--plot", tmp_path / "f.nope"], capsys)
    assert code == 2 and "could not write" in err and out == "" and not (tmp_path / "r.csv").exists()
    assert check_outputs({"--out": tmp_path}, [path]).endswith("is a folder; give a file name.")


def test_no_output_file_unless_every_output_is_produced(tmp_path, capsys, monkeypatch):
    import scaling.userfit.plots as plots

    path = tmp_path / "curve.csv"
    path.write_text(CSV)
    (tmp_path / "old.json").write_text("previous results")

    def broken(result, target, **kwargs):
        raise ValueError("the figure could not be drawn")

    monkeypatch.setattr(plots, "save_user_fit_plot", broken)
    out_csv, out_json, out_png = tmp_path / "r.csv", tmp_path / "old.json", tmp_path / "fit.png"
    code, out, err = run([path, "--law", "M1", "--boot", "0", "--quiet", "--out", out_csv, "--json", out_json,
                          "--plot", out_png], capsys)
    assert code == 2 and "no output file was written" in err
    assert not out_csv.exists() and not out_png.exists() and out_json.read_text() == "previous results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.csv", "old.json"]  # no temporary left behind


# ------------------------------------------------------------------------------------------- benchmark
def test_bench_prints_figures_beside_targets_without_asserting(tmp_path, monkeypatch, capsys):
    import io

    import scaling.userfit.fit as uf

    paths = bench_curves(tmp_path)
    assert pd.read_csv(paths["curve40"]).shape == (40, 2) and pd.read_csv(paths["curve1e5"]).shape == (100_000, 2)
    calls = []

    def fake(cmd):  # the real runs take seconds; here one misses its target
        calls.append(cmd)
        return {"wall": 7.5 if "--boot" not in cmd else 12.0, "cpu": 6.0, "peak_mb": 612.0, "code": 0, "stderr": ""}

    monkeypatch.setattr(uf, "_measure", fake)
    stream = io.StringIO()
    assert run_bench(stream=stream) == 0  # a missed target is printed, not an error
    text = stream.getvalue()
    assert "target < 5 s: missed" in text and "target < 30 s: met" in text and "target < 500 MB: missed" in text
    assert "load average" in text and len(calls) == 2 and ["--boot", "0"] == calls[1][-2:]
    code, out, err = run(["--help"], capsys)
    assert "--bench" in out and "--estimator" in out and "--boot-search" in out
