"""``python -m scaling fit`` from the command line: a good file and every kind of malformed input.

The main kinds of bad file run as real subprocesses, all started at once in one fixture (each spends
most of its time importing), so the file stays fast; each test then checks one command's exit code,
stdout and stderr. The remaining cases call the same ``scaling.cli.fit(argv)`` in-process.
"""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scaling.laws import LAWS

GOOD_ROWS = "".join(f"{x:.6g},{0.1 + 2.0 * x**-0.3 * (1 + 0.01 * np.sin(i)):.6g}\n"
                    for i, x in enumerate(np.geomspace(1e3, 1e6, 12)))
GOOD = "# synthetic curve\nx,loss\n" + GOOD_ROWS

# name -> (file text or None for a missing file, extra arguments, words the error must contain)
BAD = {
    "missing column": ("x,err0r\n1,0.5\n", [], ["no loss column", "['x', 'err0r']"]),
    "non-numeric": ("x,loss\n1,0.9\n2,0.8\nfour,0.7\n", [], ["line 4", "'four' is not a number"]),
    "non-positive x": ("x,loss\n1,0.9\n0,0.8\n", [], ["line 3", "not positive"]),
    "too few points": ("x,loss\n1,0.9\n2,0.8\n4,0.7\n8,0.6\n", [], ["only 4 distinct point", "at least 5"]),
}
# The same checks, run in-process through scaling.cli.fit(argv).
BAD_IN_PROCESS = {
    "missing file": (None, [], ["no such file"]),
    "empty file": ("", [], ["empty"]),
    "nan": ("x,loss\n1,0.9\n2,NaN\n", [], ["line 3", "NaN"]),
    "conflicting duplicate": ("x,loss\n1,0.9\n2,0.8\n2,0.7\n4,0.6\n8,0.5\n16,0.4\n", [], ["x = 2", "average"]),
    "inf": ("x,loss\n1,inf\n", [], ["line 2", "inf"]),
    "non-positive loss": ("x,loss\n1,0.9\n2,0\n", [], ["line 3", "not positive"]),
    "fit part too small": (GOOD, ["--law", "m4", "--holdout", "0.8", "--eps0", "1"],
                           ["M4 has 4 parameters", "lower --holdout"]),
    "eps0 below the data": (GOOD, ["--law", "M4", "--eps0", "0.2"], ["above the largest loss"]),
    "unknown law": (GOOD, ["--law", "M1,M9"], ["unknown law 'M9'"]),
    "bad holdout": (GOOD, ["--holdout", "1.5"], ["--holdout", "0 <= F < 1"]),
    "bad plot format": (GOOD, ["--law", "m1", "--boot", "0", "--plot", "{tmp}/fit.nope"], ["could not write"]),
}


def command(csv, *args):
    return [sys.executable, "-m", "scaling", "fit", str(csv), *map(str, args)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("userfit_cli")
    good = tmp / "good.csv"
    good.write_text(GOOD)
    cmds = {
        "good": command(good, "--law", "m1,M2", "--holdout", "0.3", "--boot", "20", "--at", "1e7,1e8",
                        "--plot", tmp / "fit.png", "--out", tmp / "results.csv", "--json", tmp / "results.json"),
    }
    for i, (name, (text, args, _)) in enumerate(BAD.items()):
        path = tmp / f"bad{i}.csv"
        if text is not None:
            path.write_text(text)
        cmds[name] = command(path, "--quiet", *[a.format(tmp=tmp) for a in args])
    procs = {name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, cmd in cmds.items()}
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        done[name] = (proc.returncode, out, err)
    return tmp, done


def test_good_file(runs):
    tmp, done = runs
    code, out, err = done["good"]
    assert code == 0, err
    assert "Traceback" not in err
    for text in ("== M1", "== M2", "beta", "eps_inf", "holdout RMSE", "loss @ 1e+07", "loss @ 1e+08", "90% interval"):
        assert text in out
    assert (tmp / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(tmp / "results.csv")
    assert set(table.law) == {"M1", "M2"} and {"parameter", "prediction", "score"} <= set(table.kind)
    data = json.loads((tmp / "results.json").read_text())
    assert data["n_fit"] == 8 and data["laws"]["M2"]["bootstrap"]["refits"] == 20


def test_help_documents_laws_and_bootstrap(capsys):
    from scaling.cli import fit as main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in ("--holdout", "--boot", "--eps0", "exchangeable", "correlated", *LAWS):
        assert text in out


def check_error(code, out, err, words):
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert "error:" in err and err.strip().count("\n") == 0  # one line
    for word in words:
        assert word in err


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_input_exits_2_with_one_clear_line(runs, name):
    check_error(*runs[1][name], BAD[name][2])


@pytest.mark.parametrize("name", list(BAD_IN_PROCESS))
def test_bad_input_in_process(tmp_path, capsys, name):
    from scaling.cli import fit as main

    text, args, words = BAD_IN_PROCESS[name]
    path = tmp_path / "curve.csv"
    if text is not None:
        path.write_text(text)
    try:
        code = main([str(path), "--quiet", *[a.format(tmp=tmp_path) for a in args]])
    except SystemExit as exc:  # argparse rejects bad options by exiting
        code = exc.code
    captured = capsys.readouterr()
    check_error(code, captured.out, captured.err, words)
