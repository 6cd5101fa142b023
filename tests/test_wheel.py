"""The built wheel is complete: installed normally (not editable), the package finds its data.

The paper's numbers (``paper_reference.csv``) and the released code's outputs ship as package data in
``scaling/ledger/reference/``. This test builds the wheel from a copy of the sources, installs it into a
fresh virtual environment that borrows this environment's dependencies (a ``.pth`` file, no network, no
index) and runs ``python -m scaling ledger --no-compute`` from an unrelated folder: it must write the
230 numbers the paper prints. It takes a few seconds (most of it the wheel build) and runs by default.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What the wheel is built from: the package and the files pyproject.toml names.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "scaling")
N_PAPER_NUMBERS = 230


def _run(cmd, cwd, env=None, timeout=120):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed: ``(python, workdir)``."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", dist], cwd=src, timeout=300)
    wheels = list(dist.glob("revisiting_scaling_laws-*.whl"))
    assert len(wheels) == 1, wheels

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    # Borrow this environment's dependencies. A path line in a .pth only appends the folder to sys.path:
    # the .pth files inside it (among them this checkout's editable install) are not processed.
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheels[0]],
         cwd=tmp)
    work = tmp / "elsewhere"
    work.mkdir()
    return python, work


def _clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return env


def test_the_wheel_ships_the_reference_tables(installed):
    python, work = installed
    code = ("import scaling, scaling.ledger as L; print(scaling.__file__); print(L.REFERENCE_PATH); "
            "print(len(L.load_reference()))")
    out = _run([python, "-c", code], cwd=work, env=_clean_env()).stdout.split("\n")
    package, reference, n = out[0], out[1], int(out[2])
    assert not Path(package).is_relative_to(ROOT), f"the source tree's scaling was imported: {package}"
    assert Path(reference).is_file() and not Path(reference).is_relative_to(ROOT)
    assert n == N_PAPER_NUMBERS


def test_the_installed_ledger_command_runs_from_another_folder(installed):
    python, work = installed
    out = work / "l.csv"
    _run([python, "-m", "scaling", "ledger", "--no-compute", "--quiet", "--out", out], cwd=work, env=_clean_env())
    assert len(pd.read_csv(out)) == N_PAPER_NUMBERS
