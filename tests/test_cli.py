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
