"""Use the second core while the book builds: compute the heavy chapters' shared results ahead.

MyST-NB executes the chapters one after another, in one kernel at a time. The expensive part of a
few chapters is a result of :mod:`scaling.cache` (the ledger, the leaderboard's fits, the
sensitivity studies, the image-classification fits, the synthetic curves), stored on disk under a
hash of the package and the data and read back by whoever asks next. So when a build is about to
execute such chapters, this extension

* starts a second process that executes them (``precompute_pages``, in that order) with their
  outputs thrown away and no figure drawn: it only fills the results cache;
* has Sphinx read the other pages first, then the ``precompute_pages`` in the same order, and the
  ``alone_pages`` last of all, by when the helper has usually finished: the chapter that measures speed, and pages
  of pure drawing that gain nothing from the cache and run faster on a quiet machine.

When Sphinx reaches a heavy chapter, its results are read from the cache, or, if the second
process is computing one right then, waited for (the cache locks each result), never computed
twice. Nothing on a page comes from the second process: every page is still executed by MyST-NB.
The helper is killed when the build ends. ``SCALING_BOOK_PRECOMPUTE=0`` switches it off, as does
``SCALING_RESULTS_CACHE=0``; Sphinx then reads the heavy chapters first. In the test run the helper
works beside nbval, which executes the chapters in the order Sphinx reads them and hands its
outputs to the build (``reuse_test_executions.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
ENV = "SCALING_BOOK_PRECOMPUTE"


def _off(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no", "off")


def _order(app: Sphinx, env, docnames: list[str]) -> None:
    heavy = [d for d in app.config.precompute_pages if d in docnames]
    alone = [d for d in app.config.alone_pages if d in docnames and d not in heavy]
    light = [d for d in docnames if d not in heavy and d not in alone]
    # One heavy page (an incremental build) gains nothing from a helper racing it on the same page.
    if len(heavy) < 2 or _off(os.environ.get(ENV)) or _off(os.environ.get("SCALING_RESULTS_CACHE")):
        # No helper: the heavy chapters first (their results are then in the cache for anyone
        # running chapters beside the build).
        docnames[:] = heavy + light + alone
        return
    docnames[:] = light + heavy + alone
    notebooks = [str(Path(env.doc2path(d))) for d in heavy]
    log = Path(app.outdir).parent / "precompute.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    # Its kernels draw nothing (Agg, kept by scaling._notebook): only the cached results matter there.
    quiet = {**os.environ, "MPLBACKEND": "Agg", "SCALING_KERNEL_FIGURES": "off"}
    app._precompute = (subprocess.Popen([sys.executable, __file__, *notebooks], cwd=app.srcdir, stdout=handle,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=quiet), handle)
    LOGGER.info(f"precompute: a second process computes the shared results of {len(heavy)} chapter(s) ahead "
                f"(log: {log})")


def _stop(app: Sphinx, exception) -> None:
    process, handle = getattr(app, "_precompute", (None, None))
    if process is None:
        return
    if process.poll() is None:  # the build caught up with it: what is left is not needed
        process.kill()
    process.wait()
    handle.close()


def setup(app: Sphinx) -> dict:
    app.add_config_value("precompute_pages", [], "env")
    app.add_config_value("alone_pages", [], "env")
    app.connect("env-before-read-docs", _order)
    app.connect("build-finished", _stop)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


def _execute(paths: list[str]) -> None:
    """Run each notebook in its own folder, as the build does, keeping going past errors (the build
    reports them when it executes the chapter itself)."""
    import time

    import nbformat
    from nbclient import NotebookClient

    for path in paths:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=600, allow_errors=True,
                                resources={"metadata": {"path": str(Path(path).parent)}})
        try:
            client.execute()
            print(f"{path}: ran in {time.perf_counter() - start:.1f} s", flush=True)
        except Exception as exc:  # noqa: BLE001 - a failure here only costs the build the head start
            print(f"{path}: stopped after {time.perf_counter() - start:.1f} s: {type(exc).__name__}: {exc}",
                  flush=True)


if __name__ == "__main__":
    _execute(sys.argv[1:])
