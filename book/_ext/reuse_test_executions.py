"""Take a page's outputs from an execution another process has just made, instead of executing it again.

Two processes hand executed notebooks to the build this way:

* ``python -m pytest`` executes every chapter through nbval and builds the book beside it for the
  browser tests. ``tests/conftest.py`` points ``SCALING_BOOK_EXECUTIONS`` at a folder, and nbval
  writes there, for every chapter whose cells all passed, the notebook with the outputs it produced
  (same kernel, same folder, same environment as MyST-NB's own execution): each chapter is executed
  once in the test run.
* In a build on its own, ``precompute.py`` has a second process execute the heavy chapters while
  Sphinx executes the others, and hands them over the same way.

For a notebook listed in ``<folder>/expected.txt``, MyST-NB's executing client waits for the file and
takes its outputs instead of running the kernel. It executes the notebook itself, as usual, when

* the notebook is not listed, or its executor marked it failed (``<name>.failed``: a failing cell,
  a skipped one, a partial run) or stopped;
* the code of the notebook differs from what was executed (edited meanwhile);
* nothing arrived within ``SCALING_BOOK_EXECUTIONS_TIMEOUT`` seconds (default 1200: a crashed
  executor must not hold the build for long).
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


def wait_for(folder: Path, notebook: Path, timeout: float, poll: float = 0.2, alive=None):
    """The executed notebook handed over for ``notebook``, or None (not expected, failed, timed out,
    or ``alive()`` says its executor stopped)."""
    if str(Path(notebook).resolve()) not in expected(folder):
        return None
    done, failed = handoff_path(folder, notebook), handoff_path(folder, notebook, ".failed")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        running = alive is None or alive()
        if done.is_file():
            return nbformat.read(done, as_version=4)
        if failed.is_file() or not running:
            return None
        time.sleep(poll)
    return None


def hand_over(folder: Path, notebook: Path, executed, seconds: float, by: str) -> None:
    """Write the executed copy of ``notebook`` for the build (atomically: never half a file)."""
    executed.metadata["scaling_execution"] = {"seconds": round(seconds, 3), "by": by}
    target = handoff_path(folder, notebook)
    partial = target.with_suffix(".partial")
    nbformat.write(executed, partial)
    os.replace(partial, target)


def mark_failed(folder: Path, notebook: Path, why: str) -> None:
    handoff_path(folder, notebook, ".failed").write_text(why + "\n", encoding="utf-8")


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


def patch(folder: Path, timeout: float | None = None, alive=None) -> None:
    """Make MyST-NB take the notebooks handed over in ``folder`` (once per build process)."""
    from myst_nb.core.execute.direct import NotebookClientDirect

    if getattr(NotebookClientDirect.start_client, "_reuses_test_executions", False):
        return
    execute = NotebookClientDirect.start_client
    timeout = float(os.environ.get(TIMEOUT_ENV, "1200")) if timeout is None else timeout

    def start_client(self):
        executed = wait_for(folder, self.path, timeout, alive=alive) if self.path is not None else None
        if executed is None or not take_outputs(self.notebook, executed):
            return execute(self)
        done = executed.metadata.get("scaling_execution", {})
        seconds, by = float(done.get("seconds", 0.0)), done.get("by", "another process")
        self.logger.info(f"Took the outputs executed by {by} ({seconds:.2f} seconds)")
        self.exec_metadata = {"mtime": time.time(), "runtime": seconds, "method": by,
                              "succeeded": True, "error": None, "traceback": None}

    start_client._reuses_test_executions = True
    NotebookClientDirect.start_client = start_client


def setup(app: Sphinx) -> dict:
    folder = os.environ.get(ENV, "").strip()
    if folder:
        patch(Path(folder))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
