"""The ``python -m scaling`` dispatcher: commands listed, unknown ones refused, each run lazily."""

import subprocess
import sys

from scaling import cli


def _run(*args):
    return subprocess.run([sys.executable, "-m", "scaling", *args], capture_output=True, text=True, timeout=120)


def test_no_command_lists_the_commands_and_fails():
    done = _run()
    assert done.returncode == 2
    for name in ("benchmark", "ledger"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_command_is_named_and_help_succeeds():
    done = _run("fitt")
    assert done.returncode == 2 and "unknown command 'fitt'" in done.stderr
    assert _run("--help").returncode == 0


def test_every_listed_command_resolves_to_a_function():
    import importlib

    assert set(cli.COMMANDS) == {"benchmark", "ledger", "fit", "perf"}
    for name, (module, func, _) in cli.COMMANDS.items():
        assert callable(getattr(importlib.import_module(module), func)), name


def test_a_command_receives_the_arguments_after_its_name(monkeypatch):
    seen = {}
    monkeypatch.setitem(cli.COMMANDS, "echo", ("scaling.cli", "_echo_for_test", "test"))
    monkeypatch.setattr(cli, "_echo_for_test", lambda argv: seen.setdefault("argv", argv) and 7, raising=False)
    assert cli.main(["echo", "--a", "1"]) == 7
    assert seen["argv"] == ["--a", "1"]


def test_benchmark_command_takes_a_law_list_and_refuses_unknown_laws(tmp_path):
    out = tmp_path / "res.csv"
    done = _run("benchmark", "--estimator", "global", "--laws", "m1,Chinchilla", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "184 fits (0 failed" in done.stdout and "Chinchilla" in done.stdout
    import pandas as pd
    assert sorted(set(pd.read_csv(out)["law"])) == ["Chinchilla", "M1"]
    bad = _run("benchmark", "--laws", "m9")
    assert bad.returncode == 2 and "unknown law 'm9'" in bad.stderr and "Traceback" not in bad.stderr


# --- help, version, one-line errors, closed pipes (issue: every command) -----------------------------------------
import io  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import scaling  # noqa: E402
from scaling._progress import Progress  # noqa: E402
from scaling.benchmark.data import DATA_DIR_ENV, SHA256  # noqa: E402

COMMAND_NAMES = ("benchmark", "ledger", "fit", "perf")


def _one_line(code, err, command):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"python -m scaling {command}: error: "), lines[0]
    return lines[0]


def test_version_and_help_are_on_stdout():
    procs = {args: subprocess.Popen([sys.executable, "-m", "scaling", *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for args in [("--version",), ("--help",)] + [(c, flag) for c in COMMAND_NAMES
                                                            for flag in ("--help", "--version")]}
    for args, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and err == "", (args, err)
        if args[-1] == "--version":
            assert out.strip().endswith(scaling.__version__), (args, out)
        else:
            assert "usage:" in out and (len(args) == 1 or f"python -m scaling {args[0]}" in out), (args, out)
    assert cli.main(["--version"]) == 0


def test_unknown_and_missing_commands_are_one_line(capsys):
    assert cli.main(["fitt"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "unknown command 'fitt'" in err
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "no command given" in err and "benchmark" in err


def _data_copy(tmp_path) -> Path | None:
    real = os.environ.get(DATA_DIR_ENV)
    if not real or not all((Path(real) / n).is_file() for n in SHA256):
        return None
    folder = tmp_path / "data"
    folder.mkdir()
    for name in SHA256:
        shutil.copy(Path(real) / name, folder / name)
    return folder


# Each command that reads the benchmark, as run in-process (its output path is checked first).
DATA_COMMANDS = {
    "benchmark": lambda tmp: cli.benchmark(["--quiet", "--estimator", "global", "--out", str(tmp / "b.csv")]),
    "ledger": lambda tmp: cli.ledger(["--quiet", "--out", str(tmp / "l.csv")]),
    "perf": lambda tmp: cli.perf(["--quiet", "--curves", "1", "--sizes", ""]),
}


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
def test_a_missing_data_folder_is_one_line(command, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(empty))
    line = _one_line(DATA_COMMANDS[command](tmp_path), capsys.readouterr().err, command)
    assert "is missing from" in line and str(empty) in line
    assert not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
def test_a_damaged_benchmark_file_is_one_line(command, tmp_path, monkeypatch, capsys):
    folder = _data_copy(tmp_path)
    if folder is None:
        pytest.skip(f"set ${DATA_DIR_ENV} to the folder holding the benchmark CSVs")
    damaged = folder / "benchmark.lang.csv"
    data = bytearray(damaged.read_bytes())
    data[100] ^= 1  # one byte changed
    damaged.write_bytes(bytes(data))
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    line = _one_line(DATA_COMMANDS[command](tmp_path), capsys.readouterr().err, command)
    assert "sha256" in line and "benchmark.lang.csv" in line
    assert not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
def test_offline_download_is_one_line(command, tmp_path, monkeypatch, capsys):
    import pooch
    import requests

    def offline(url, *args, **kwargs):  # no network at test time: fail as an offline machine does
        raise requests.ConnectionError(f"no network for {url}")

    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(pooch, "retrieve", offline)
    line = _one_line(DATA_COMMANDS[command](tmp_path), capsys.readouterr().err, command)
    assert "could not download" in line and "offline" in line


def test_a_missing_data_folder_in_a_subprocess_has_no_traceback(tmp_path):
    env = {**os.environ, DATA_DIR_ENV: str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "scaling", "benchmark", "--quiet"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.stdout == ""
    _one_line(done.returncode, done.stderr, "benchmark")


def _no_work(*args, **kwargs):
    raise AssertionError("the command worked before refusing its output path")


@pytest.mark.parametrize("where", ["under a file", "a folder", "the reference", "same as --variants"])
def test_ledger_refuses_its_output_paths_before_any_work(where, tmp_path, monkeypatch, capsys):
    import scaling.ledger
    from scaling.ledger.core import REFERENCE_PATH

    monkeypatch.setattr(scaling.ledger, "build_ledger", _no_work)
    (tmp_path / "afile").write_text("x")
    args = {"under a file": ["--out", str(tmp_path / "afile" / "l.csv")],
            "a folder": ["--out", str(tmp_path)],
            "the reference": ["--out", str(REFERENCE_PATH)],
            "same as --variants": ["--out", str(tmp_path / "l.csv"), "--variants", str(tmp_path / "l.csv")]}[where]
    before = REFERENCE_PATH.read_bytes()
    line = _one_line(cli.ledger(args), capsys.readouterr().err, "ledger")
    assert "--out" in line
    assert REFERENCE_PATH.read_bytes() == before and not (tmp_path / "l.csv").exists()


def test_benchmark_refuses_an_unwritable_out_before_any_work(tmp_path, monkeypatch, capsys):
    import scaling.benchmark.data

    monkeypatch.setattr(scaling.benchmark.data, "load_benchmark", _no_work)
    (tmp_path / "afile").write_text("x")
    line = _one_line(cli.benchmark(["--quiet", "--out", str(tmp_path / "afile" / "b.csv")]),
                     capsys.readouterr().err, "benchmark")
    assert "not a folder" in line


def test_an_unwritable_folder_is_refused(tmp_path, monkeypatch, capsys):
    import scaling.ledger
    from scaling import outputs

    monkeypatch.setattr(scaling.ledger, "build_ledger", _no_work)
    real = outputs.tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):  # root may write anywhere; pretend this folder is read-only
        if Path(dir) == tmp_path / "ro":
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(outputs.tempfile, "mkstemp", read_only)
    line = _one_line(cli.ledger(["--out", str(tmp_path / "ro" / "l.csv")]), capsys.readouterr().err, "ledger")
    assert "cannot write in" in line and "Permission denied" in line


def test_ledger_shows_progress_on_stderr_unless_quiet(tmp_path, monkeypatch, capsys):
    import pandas as pd

    from scaling import ledger as ledger_pkg
    from scaling.ledger import core

    monkeypatch.setattr(core, "_REGISTRY", {"Table 2": [lambda: pd.DataFrame(
        {"item": ["NMT/Dec-only/M4/rmse"], "ours": [0.0104], "ours_error": [float("nan")]})]})
    monkeypatch.setattr(core, "_ESTIMATOR", {})
    assert ledger_pkg.producers()
    assert cli.ledger(["--out", str(tmp_path / "l.csv"), "--only", "Table 2", "--no-variants"]) == 0
    captured = capsys.readouterr()
    assert "ledger producers: 1/1 (Table 2, both)" in captured.err and "\r" not in captured.err
    assert cli.ledger(["--out", str(tmp_path / "l.csv"), "--only", "Table 2", "--no-variants", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_closed_stdout_ends_quietly(tmp_path):
    data = _data_copy(tmp_path)
    runs = [["--help"], ["benchmark", "--help"]]
    if data is not None:
        runs.append(["benchmark", "--quiet", "--estimator", "global", "--laws", "m1", "--data-dir", str(data)])
    for args in runs:
        # like `python -m scaling benchmark --quiet | head -1`: the reader is gone before the output comes
        proc = subprocess.Popen([sys.executable, "-m", "scaling", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=120)
        assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err


# --- the progress helper ------------------------------------------------------------------------------------------
class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_writes_plain_lines_off_a_terminal():
    stream = io.StringIO()
    with Progress(100, "fits", stream, every_percent=25) as bar:
        for _ in range(100):
            bar.update(1, note="IC")
    text = stream.getvalue()
    assert "\r" not in text
    assert text.splitlines() == [f"  fits: {n}/100 (IC) in 0.0 s" for n in (25, 50, 75, 100)] or \
        [line.split(" in ")[0] for line in text.splitlines()] == [f"  fits: {n}/100 (IC)" for n in (25, 50, 75, 100)]
    assert text.endswith("\n")


def test_progress_writes_a_line_every_few_seconds_off_a_terminal(monkeypatch):
    import scaling._progress as progress

    clock = iter(range(0, 1000, 6))  # every update 6 s after the last
    monkeypatch.setattr(progress.time, "perf_counter", lambda: float(next(clock)))
    stream = io.StringIO()
    bar = Progress(1000, "slow", stream, every_percent=50, every_seconds=5)
    for _ in range(3):
        bar.update(1)
    assert len(stream.getvalue().splitlines()) == 3


def test_progress_redraws_one_line_on_a_terminal(monkeypatch):
    import scaling._progress as progress

    clock = iter(float(t) for t in range(100))  # a second between updates: each one is drawn
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    tty = _FakeTTY()
    with Progress(4, "fits", tty) as bar:
        for _ in range(4):
            bar.update(1)
    text = tty.getvalue()
    assert text.count("\r") == 4 and text.count("\n") == 1 and text.endswith("\n")
    assert text.split("\r")[-1].startswith("  fits: 4/4")


def test_progress_is_silent_when_disabled_or_before_its_delay():
    stream = io.StringIO()
    with Progress(10, "x", stream, enabled=False) as bar:
        bar.update(10)
    with Progress(10, "x", stream, delay=60) as bar:
        bar.update(10)
    assert stream.getvalue() == ""
