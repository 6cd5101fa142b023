"""In the test run, a chapter is executed once: the build shows the outputs of nbval's execution.

``python -m pytest`` executes every chapter through nbval and builds the book beside it for the
browser tests. Executing every chapter a second time for the build would double the run's largest
cost, so ``tests/conftest.py`` points ``SCALING_BOOK_EXECUTIONS`` at a folder and nbval writes
there, for every chapter whose cells all passed, the notebook with the outputs it just produced
(same kernel, same folder, same environment as MyST-NB's own execution). With the variable set, this
extension makes MyST-NB's executing client, for a notebook listed in ``<folder>/expected.txt``,
wait for that file and take its outputs instead of running the kernel. It executes the notebook
itself, as usual, when

* the notebook is not listed (not run by this pytest session), or nbval marked it failed
  (``<name>.failed``: a failing cell, a skipped one, or a partial run);
* the code of the notebook differs from what nbval ran (edited meanwhile);
* nothing arrived within ``SCALING_BOOK_EXECUTIONS_TIMEOUT`` seconds (default 3600).

Without the variable (``jupyter-book build`` on its own, the README's first command) the extension
does nothing: the build executes every chapter itself.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from sphinx.application import Sphinx

ENV = "SCALING_BOOK_EXECUTIONS"
TIMEOUT_ENV = "SCALING_BOOK_EXECUTIONS_TIMEOUT"
EXPECTED = "expected.txt"


def handoff_path(folder: Path, notebook: Path, suffix: str = ".ipynb") -> Path:
    """Where the executed copy of ``notebook`` (or its ``.failed`` mark) is written in ``folder``."""
    return Path(folder) / (Path(notebook).resolve().as_posix().strip("/").replace("/", "__")
                           .removesuffix(".ipynb") + suffix)


def expected(folder: Path) -> set[str]:
    listing = Path(folder) / EXPECTED
    if not listing.is_file():
        return set()
    return {line.strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()}


def wait_for(folder: Path, notebook: Path, timeout: float, poll: float = 0.2):
    """The executed notebook nbval wrote for ``notebook``, or None (not expected, failed, timed out)."""
    if str(Path(notebook).resolve()) not in expected(folder):
        return None
    done, failed = handoff_path(folder, notebook), handoff_path(folder, notebook, ".failed")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if done.is_file():
            return nbformat.read(done, as_version=4)
        if failed.is_file():
            return None
        time.sleep(poll)
    return None


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def take_outputs(notebook, executed) -> bool:
    """Copy the outputs of ``executed`` into ``notebook`` in place; False if their code differs."""
    if _code(notebook) != _code(executed):
        return False
    for cell, done in zip((c for c in notebook.cells if c.cell_type == "code"),
                          (c for c in executed.cells if c.cell_type == "code")):
        cell.outputs = done.outputs
        cell.execution_count = done.execution_count
    return True


def _patch(folder: Path, timeout: float) -> None:
    from myst_nb.core.execute.direct import NotebookClientDirect

    if getattr(NotebookClientDirect.start_client, "_reuses_test_executions", False):
        return
    execute = NotebookClientDirect.start_client

    def start_client(self):
        executed = wait_for(folder, self.path, timeout) if self.path is not None else None
        if executed is None or not take_outputs(self.notebook, executed):
            return execute(self)
        seconds = float(executed.metadata.get("scaling_test_execution", {}).get("seconds", 0.0))
        self.logger.info(f"Took the outputs of the test run's execution (nbval, {seconds:.2f} seconds)")
        self.exec_metadata = {"mtime": time.time(), "runtime": seconds, "method": "nbval (test run)",
                              "succeeded": True, "error": None, "traceback": None}

    start_client._reuses_test_executions = True
    NotebookClientDirect.start_client = start_client


def setup(app: Sphinx) -> dict:
    folder = os.environ.get(ENV, "").strip()
    if folder:
        _patch(Path(folder), float(os.environ.get(TIMEOUT_ENV, "3600")))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
