"""``python -m scaling benchmark``: the estimators, ``--csv`` on good and malformed files, ``--out`` checks.

The commands run as real subprocesses, all started at once in one module fixture (each spends most of its
time importing), so the file stays fast; each test then checks one command's exit code, stdout, stderr and
output file. The good files are made here from known laws plus noise; the tests that use the real
benchmark copy a few of its curves into a temporary folder at test time (no benchmark row is committed).
"""

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scaling.benchmark import DATA_DIR_ENV, BenchmarkFormatError, load_benchmark, load_benchmark_csv
from scaling.ledger.reference import load_released_outputs

HEADER = "Domain,Task,Model,Seen Examples,Loss,Training\n"
REAL_DIR = os.environ.get(DATA_DIR_ENV)
needs_data = pytest.mark.skipif(not REAL_DIR, reason=f"set ${DATA_DIR_ENV} to the folder holding the benchmark CSVs")


def law_rows(domain, task, model, eps_inf, beta, c, n=12, seed=0):
    """CSV rows of eps_inf + beta x^-c with 1 % noise; the first 8 points are fitted, the rest held out."""
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e5, 1e9, n)
    y = (eps_inf + beta * x ** -c) * (1 + 0.01 * rng.standard_normal(n))
    return "".join(f"{domain},{task},{model},{xi:.6g},{yi:.6g},{int(i < 8)}\n" for i, (xi, yi) in enumerate(zip(x, y)))


IC_A = law_rows("IC", "inet_10", "MyNet", 0.15, 8.0, 0.25, seed=1)
IC_B = law_rows("IC", "my_task", "MyNet", 0.05, 5.0, 0.2, seed=2)
NMT = law_rows("NMT", "log_perplexity", "big", 1.5, 40.0, 0.3, seed=3)
GOOD = HEADER + IC_A + IC_B + NMT
# A loss that falls ever faster in log-log: M2's plateau can only bend it the other way, so every estimator
# ends M2 at eps_inf = 0, where it is M1.
_X = np.geomspace(1e5, 1e9, 12)
BENDS_DOWN = "".join(f"IC,bends_down,MyNet,{xi:.6g},{yi:.6g},{int(i < 8)}\n"
                     for i, (xi, yi) in enumerate(zip(_X, 5.0 * _X ** (-0.1 - 0.01 * np.log10(_X)))))
GOOD_ROWS = 36
first_ic = IC_A.splitlines()[0]

# name -> (file text, or None for no file, or "folder"; words the one-line error must contain).
# Every case is checked through load_benchmark_csv and through the command's main function; those in
# SUBPROCESS also as a real ``python -m scaling benchmark`` run.
BAD = {
    "missing column": ("Domain,Task,Model,Seen Examples,Loss\nIC,t,m,1,0.5\n", ["missing column", "Training"]),
    "non-numeric": (HEADER + IC_A + "IC,inet_10,MyNet,abc,0.5,0\n", ["line 14", "Seen Examples", "'abc'"]),
    "non-finite": (HEADER + IC_A + "IC,inet_10,MyNet,3e9,inf,0\n", ["line 14", "Loss", "non-finite", "'inf'"]),
    "nan": (HEADER + "IC,inet_10,MyNet,1e5,NaN,1\n" + IC_A, ["line 2", "Loss", "'NaN'"]),
    "training not 0/1": (HEADER + IC_A.replace(",1\n", ",2\n", 1), ["line 2", "Training", "0 or 1", "'2'"]),
    "unknown domain": (HEADER + IC_A + "ASR,t,m,1e5,0.5,1\n", ["line 14", "'ASR'", "['IC', 'NMT', 'LM', 'BB']"]),
    "no fitting rows": (HEADER + IC_A + "".join(r[:-2] + "0\n" for r in NMT.splitlines(True)),
                        ["line 14", "('NMT', 'log_perplexity', 'big')", "0 fitting and 12 held-out"]),
    "no held-out rows": (HEADER + "".join(r[:-2] + "1\n" for r in NMT.splitlines(True)) + IC_A,
                         ["line 2", "('NMT', 'log_perplexity', 'big')", "12 fitting and 0 held-out"]),
    "non-positive x": (HEADER + IC_A + "IC,inet_10,MyNet,0,0.5,0\n", ["line 14", "Seen Examples", "<= 0"]),
    "non-positive loss": (HEADER + IC_A + "IC,inet_10,MyNet,2e9,-0.1,0\n", ["line 14", "Loss", "<= 0"]),
    "empty file": ("", ["empty"]),
    "header only": (HEADER, ["no data rows"]),
    "missing file": (None, ["no such file"]),
    "a folder": ("folder", ["folder"]),
    "not text": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00", ["not UTF-8"]),
    "wrong field count": (HEADER + IC_A + "IC,inet_10,MyNet,2e9,0.1,0,extra\n", ["line 14", "7 field(s)", "has 6"]),
    "blank lines still counted": (HEADER + "\n\n" + IC_A + "IC,inet_10,MyNet,2e9,zero,0\n", ["line 16", "'zero'"]),
}
SUBPROCESS = ["missing column", "non-numeric", "non-finite", "training not 0/1", "unknown domain", "no fitting rows",
              "no held-out rows", "non-positive x", "non-positive loss", "empty file", "missing file", "not text"]


def command(*args):
    return [sys.executable, "-m", "scaling", "benchmark", *map(str, args)]


def write(path, text):
    if text is None:
        return path
    if text == "folder":
        path.mkdir()
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("benchmark_cli")
    write(tmp / "good.csv", GOOD)
    write(tmp / "ic.csv", HEADER + IC_A + IC_B)
    write(tmp / "nmt.csv", HEADER + NMT)
    write(tmp / "reduces.csv", HEADER + IC_A + BENDS_DOWN)
    for i, (text, _) in enumerate(BAD.values()):
        write(tmp / f"bad{i}.csv", text)
    if REAL_DIR:  # two real curves, copied at test time: one IC, one LM with its duplicated rows
        rows = pd.concat([pd.read_csv(os.path.join(REAL_DIR, name), dtype=str, keep_default_na=False)
                          for name in ("benchmark.vision.csv", "benchmark.lang.csv")])
        pick = (((rows["Domain"] == "IC") & (rows["Task"] == "inet_10") & (rows["Model"] == "BiT/101/3"))
                | ((rows["Domain"] == "LM") & (rows["Model"] == "1.68e+07")))
        rows[pick].to_csv(tmp / "real_two.csv", index=False)
    return tmp


@pytest.fixture(scope="module")
def runs(tmp):
    cmds = {
        "global": command("--csv", tmp / "good.csv", "--estimator", "global", "--quiet", "--out", tmp / "global.csv"),
        "released": command("--csv", tmp / "good.csv", "--estimator", "released", "--laws", "M1,M3",
                            "--out", tmp / "out" / "released.csv"),
        "two files": command("--csv", tmp / "ic.csv", "--csv", tmp / "nmt.csv", "--estimator", "local", "--laws",
                             "M1,M2", "--quiet", "--out", tmp / "two.csv"),
        "out is an input": command("--csv", tmp / "ic.csv", "--csv", tmp / "nmt.csv", "--estimator", "global",
                                   "--out", tmp / "nmt.csv"),
        "second file bad": command("--csv", tmp / "good.csv", "--csv", tmp / "bad1.csv", "--out", tmp / "second.csv"),
        "deprecated search": command("--search", "local", "--csv", tmp / "good.csv", "--laws", "M1", "--quiet"),
        "sound": command("--csv", tmp / "good.csv", "--estimator", "sound", "--laws", "all", "--quiet",
                         "--out", tmp / "sound.csv"),
        "reduces": command("--csv", tmp / "reduces.csv", "--estimator", "global", "--laws", "M1,M2", "--quiet",
                           "--out", tmp / "reduces_out.csv"),
    }
    for i, name in enumerate(BAD):
        if name in SUBPROCESS:
            cmds[name] = command("--csv", tmp / f"bad{i}.csv", "--estimator", "global", "--out", tmp / f"out{i}.csv")
    if REAL_DIR:
        cmds["real curves"] = command("--csv", tmp / "real_two.csv", "--laws", "M1,M3", "--quiet",
                                      "--out", tmp / "real_two_out.csv")
        cmds["full benchmark M1"] = command("--laws", "m1", "--quiet")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = {name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name, cmd in cmds.items()}
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def one_line_error(done):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- good files --------------------------------------------------------------------------------
def test_global_on_a_csv_writes_every_curve_and_law(runs, tmp):
    done = runs["global"]
    assert done.returncode == 0, done.stderr
    res = pd.read_csv(tmp / "global.csv", dtype={"task": str, "model": str})
    assert len(res) == 12 and sorted(set(res["law"])) == ["M1", "M2", "M3", "M4"]
    assert {"domain", "task", "model", "law", "rmse", "se", "fit_seconds", "beta", "c", "eps_inf"} <= set(res.columns)
    assert set(zip(res["domain"], res["task"])) == {("IC", "inet_10"), ("IC", "my_task"), ("NMT", "log_perplexity")}
    assert res["rmse"].notna().all() and (res["rmse"] < 0.2).all()
    assert "estimator: global" in done.stdout and "12 fits (0 failed" in done.stdout
    assert "IC: M1" in done.stdout and "NMT: M1" in done.stdout
    assert "released code took" not in done.stdout  # no timing comparison on someone else's curves
    assert not list(tmp.glob(".global.csv.*"))  # the temporary file was renamed, not left behind


def test_released_on_a_csv(runs, tmp):
    done = runs["released"]
    assert done.returncode == 0, done.stderr
    res = pd.read_csv(tmp / "out" / "released.csv")  # the missing folder was created at the end
    assert len(res) == 6 and sorted(set(res["law"])) == ["M1", "M3"]
    assert res["rmse"].notna().all()
    assert "estimator: released" in done.stdout and "6 fits (0 failed" in done.stdout
    assert "Diagnostics:" in done.stdout and "diagnostics" in res.columns


def test_the_sound_estimator_fits_every_law(runs, tmp):
    done = runs["sound"]
    assert done.returncode == 0, done.stderr
    res = pd.read_csv(tmp / "sound.csv")
    assert len(res) == 18 and {"BNSL", "Chinchilla", "M4"} <= set(res["law"])
    assert "estimator: sound" in done.stdout and "18 fits (0 failed" in done.stdout


def test_diagnostics_are_counted_and_written_per_fit(runs, tmp):
    done = runs["reduces"]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("Diagnostics:"))) + 1:]
    # the curve that bends down flags M2; the one with a plateau (IC_A) does not
    assert re.match(r"^  M2 reduces-to-M1\s+IC 1/2$", table[0]), done.stdout
    assert "4 fits (0 failed" in done.stdout  # the summary above the table stays
    res = pd.read_csv(tmp / "reduces_out.csv", keep_default_na=False)
    codes = dict(zip(zip(res["task"], res["law"]), res["diagnostics"]))
    assert codes[("bends_down", "M2")] == "reduces-to-M1"
    assert codes[("bends_down", "M1")] == "" and "reduces-to-M1" not in codes[("inet_10", "M2")]
    assert list(res.columns)[-1] == "diagnostics"


def test_curves_from_two_files_are_pooled(runs, tmp):
    done = runs["two files"]
    assert done.returncode == 0, done.stderr
    res = pd.read_csv(tmp / "two.csv")
    assert len(res) == 6 and set(res["domain"]) == {"IC", "NMT"}
    assert "estimator: local" in done.stdout


@needs_data
def test_released_estimator_on_real_curves_matches_the_released_outputs(runs, tmp):
    """Two curves copied from the benchmark: the released code's RMSE and SE (LM duplicates counted)."""
    done = runs["real curves"]
    assert done.returncode == 0, done.stderr
    res = pd.read_csv(tmp / "real_two_out.csv", dtype={"task": str, "model": str})
    assert "duplicate rows kept" in done.stdout
    ref = load_released_outputs()
    both = res.merge(ref, on=["domain", "task", "model", "law"], suffixes=("", "_ref"))
    assert len(both) == 4
    np.testing.assert_allclose(both["rmse"], both["rmse_ref"], atol=1e-5)
    np.testing.assert_allclose(both["se"], both["se_ref"], atol=1e-5)


@needs_data
def test_full_benchmark_prints_the_released_codes_time_beside_ours(runs):
    done = runs["full benchmark M1"]
    assert done.returncode == 0, done.stderr
    assert "92 fits (0 failed" in done.stdout
    line = next(line for line in done.stdout.splitlines() if line.startswith("92 fits"))
    # M1 is one least-squares fit: the released code's total for it is well under a second
    pattern = r"in \d+\.\d+ s; the released code took 0\.\d\d s for the same fits \(\d+(\.\d+)?x\)\.$"
    assert re.search(pattern, line), line


def test_search_is_a_deprecated_alias_of_estimator(runs):
    done = runs["deprecated search"]
    assert done.returncode == 0, done.stderr
    assert "estimator: local" in done.stdout and "deprecated" in done.stderr


# --- bad files and options: one line on stderr, exit 2, no output file --------------------------
@pytest.mark.parametrize("name", SUBPROCESS)
def test_malformed_file_gets_one_line(runs, tmp, name):
    line = one_line_error(runs[name])
    i = list(BAD).index(name)
    assert f"bad{i}.csv" in line
    for word in BAD[name][1]:
        assert word in line, line
    assert not (tmp / f"out{i}.csv").exists()


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_file_gets_one_line_in_process(tmp, capsys, name):
    from scaling.cli import benchmark as _benchmark

    i = list(BAD).index(name)
    out = tmp / f"in_process{i}.csv"
    assert _benchmark(["--csv", str(tmp / f"bad{i}.csv"), "--estimator", "global", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and f"bad{i}.csv" in captured.err, captured.err
    for word in BAD[name][1]:
        assert word in captured.err, captured.err
    assert captured.out == "" and not out.exists()


def test_out_equal_to_an_input_is_refused(runs, tmp):
    line = one_line_error(runs["out is an input"])
    assert "input file" in line and "nmt.csv" in line
    assert (tmp / "nmt.csv").read_text() == HEADER + NMT


def test_an_error_in_the_second_file_names_it(runs, tmp):
    line = one_line_error(runs["second file bad"])
    assert "bad1.csv, line 14" in line and "good.csv" not in line
    assert not (tmp / "second.csv").exists()


# The same checks on options, run in-process through the command's main function (each is refused
# before any import of note, so a subprocess would only add start-up time).
@pytest.mark.parametrize("args, words", [
    (["--csv", "{tmp}/good.csv", "--out", "{tmp}"], ["is a folder"]),
    (["--csv", "{tmp}/good.csv", "--laws", "M1,BNSL", "--out", "{tmp}/x.csv"], ["only M1, M2, M3, M4", "BNSL"]),
    (["--csv", "{tmp}/good.csv", "--laws", "all", "--out", "{tmp}/x.csv"], ["only M1, M2, M3, M4", "Chinchilla"]),
    (["--csv", "{tmp}/good.csv", "--laws", "M1,M9", "--out", "{tmp}/x.csv"], ["unknown law 'M9'"]),
    (["--csv", "{tmp}/good.csv", "--data-dir", "{tmp}", "--out", "{tmp}/x.csv"], ["exclude each other"]),
    (["--csv", "{tmp}/ic.csv", "--csv", "{tmp}/ic.csv", "--out", "{tmp}/x.csv"], ["given twice"]),
    (["--csv", "{tmp}/ic.csv", "--out", "{tmp}/link.csv"], ["input file"]),
    (["--search", "local", "--estimator", "global", "--csv", "{tmp}/ic.csv"], ["contradicts"]),
])
def test_bad_options_get_one_line(tmp, capsys, args, words):
    from scaling.cli import benchmark as _benchmark

    if not (tmp / "link.csv").exists():
        (tmp / "link.csv").symlink_to(tmp / "ic.csv")
    assert _benchmark([a.format(tmp=tmp) for a in args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, err
    assert not (tmp / "x.csv").exists()
    assert (tmp / "ic.csv").read_text() == HEADER + IC_A + IC_B


# --- load_benchmark_csv ------------------------------------------------------------------------
def test_load_benchmark_csv_reads_curves_in_the_benchmark_format(tmp_path):
    path = write(tmp_path / "good.csv", GOOD + first_ic + "\n")  # one exact duplicate row
    bench = load_benchmark_csv(path)
    assert len(bench) == 3 and bench.duplicates_removed == 1 and len(bench.table) == GOOD_ROWS
    assert [c.label for c in bench] == ["ImageNet 10-shot (MyNet)", "IC my_task (MyNet)", "NMT log-perplexity (big)"]
    curve = bench.curve("IC", "inet_10", "MyNet")
    assert curve.n_fit == 8 and curve.n_test == 4 and np.all(np.diff(curve.x) > 0)
    assert bench.source == str(path)
    kept = load_benchmark_csv([path], drop_duplicates=False)
    assert kept.duplicates_removed == 0 and len(kept.table) == GOOD_ROWS + 1


def test_load_benchmark_csv_pools_files(tmp_path):
    ic = write(tmp_path / "ic.csv", HEADER + IC_A + IC_B)
    nmt = write(tmp_path / "nmt.csv", HEADER + NMT)
    pooled = load_benchmark_csv([ic, nmt])
    assert [c.key for c in pooled] == [c.key for c in load_benchmark_csv(write(tmp_path / "g.csv", GOOD))]
    # a curve may span files: its fitting rows in one, its held-out rows in another
    a, b = IC_A.splitlines(True)[:8], IC_A.splitlines(True)[8:]
    split = load_benchmark_csv([write(tmp_path / "a.csv", HEADER + "".join(a)),
                                write(tmp_path / "b.csv", HEADER + "".join(b))])
    assert split.curves[0].n_fit == 8 and split.curves[0].n_test == 4


@pytest.mark.parametrize("name", [n for n in BAD])
def test_load_benchmark_csv_errors_are_one_line(tmp_path, name):
    text, words = BAD[name]
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(BenchmarkFormatError) as info:
        load_benchmark_csv(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message


def test_load_benchmark_csv_needs_a_file():
    with pytest.raises(BenchmarkFormatError, match="no CSV"):
        load_benchmark_csv([])


@needs_data
def test_load_benchmark_csv_on_the_released_files_equals_load_benchmark():
    paths = [os.path.join(REAL_DIR, name) for name in ("benchmark.vision.csv", "benchmark.lang.csv")]
    for drop in (True, False):
        ours, theirs = load_benchmark_csv(paths, drop_duplicates=drop), load_benchmark(REAL_DIR, drop_duplicates=drop)
        pd.testing.assert_frame_equal(ours.table, theirs.table)
        assert [c.label for c in ours] == [c.label for c in theirs]
        assert ours.duplicates_removed == theirs.duplicates_removed
