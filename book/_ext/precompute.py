"""Use the second core while the book builds: a second process executes the heavy chapters.

MyST-NB executes the chapters one after another, in one kernel at a time. When a build is about to
execute several of the ``precompute_pages``, this extension starts a second process that executes
them, in that order, while Sphinx reads (and executes) the other pages first:

* in a build on its own, the second process executes each chapter in full, exactly as MyST-NB does
  (``jupyter_cache``'s ``single_nb_execution``, in the notebook's folder) and hands the executed
  notebook to Sphinx (``reuse_test_executions.py``), which then takes its outputs instead of
  executing the chapter again. A chapter that fails there, or is not ready when the second process
  has stopped, is executed by Sphinx itself, as usual;
* in the test run, nbval hands every chapter over, and the second process only fills the results
  cache (:mod:`scaling.cache`) for the heavy chapters, drawing no figure, while nbval runs the light
  ones and the unit tests.

Before any chapter, the second process calls the ``precompute_results`` (``"module:function"``, no
arguments): shared results that more than one chapter reads, such as the ledger (the introduction and
the summary), which would otherwise make the first chapter that reads them the build's longest.

Either way, Sphinx reads the ``precompute_pages`` after the other pages, in the same order, and the
``alone_pages`` last of all: the chapter that measures speed, and pages of pure drawing. Results the
two processes share are computed once (the cache locks each one). The second process is killed when
the build ends. ``SCALING_BOOK_PRECOMPUTE=0`` switches it off, as does ``SCALING_RESULTS_CACHE=0``:
Sphinx then executes every page itself, the heavy chapters first.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
ENV = "SCALING_BOOK_PRECOMPUTE"
BY = "the build's second process"


def _off(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no", "off")


def _handoff_module():
    """reuse_test_executions, as Sphinx loaded it (or from this folder)."""
    if "reuse_test_executions" in sys.modules:
        return sys.modules["reuse_test_executions"]
    spec = importlib.util.spec_from_file_location("reuse_test_executions",
                                                  Path(__file__).with_name("reuse_test_executions.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["reuse_test_executions"] = module
    return module


def _order(app: Sphinx, env, docnames: list[str]) -> None:
    heavy = [d for d in app.config.precompute_pages if d in docnames]
    alone = [d for d in app.config.alone_pages if d in docnames and d not in heavy]
    light = [d for d in docnames if d not in heavy and d not in alone]
    # One heavy page (an incremental build) gains nothing from a helper racing it on the same page.
    if len(heavy) < 2 or _off(os.environ.get(ENV)) or _off(os.environ.get("SCALING_RESULTS_CACHE")):
        docnames[:] = heavy + light + alone
        return
    docnames[:] = light + heavy + alone
    handoff = _handoff_module()
    notebooks = [Path(env.doc2path(d)).resolve() for d in heavy]
    log = Path(app.outdir).parent / "precompute.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    if os.environ.get(handoff.ENV):  # the test run: nbval hands the chapters over; only fill the cache
        # its kernels draw nothing (Agg, kept by scaling._notebook)
        command, environ = ["--cache-only"], {**os.environ, "MPLBACKEND": "Agg", "SCALING_KERNEL_FIGURES": "off"}
        what = "computes the shared results of"
    else:
        folder = Path(app.outdir).parent / "precomputed"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / handoff.EXPECTED).write_text("".join(f"{n}\n" for n in notebooks), encoding="utf-8")
        command, environ = ["--hand-over", str(folder)], dict(os.environ)
        what = "executes"
    for result in app.config.precompute_results:
        command += ["--result", result]
    process = subprocess.Popen([sys.executable, __file__, *command, "--", *map(str, notebooks)], cwd=app.srcdir,
                               stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environ)
    app._precompute = (process, handle)
    if command[0] == "--hand-over":
        handoff.patch(folder, alive=lambda: process.poll() is None)
    LOGGER.info(f"precompute: a second process {what} {len(heavy)} chapter(s) ahead (log: {log})")


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
    app.add_config_value("precompute_results", [], "env")
    app.connect("env-before-read-docs", _order)
    app.connect("build-finished", _stop)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}


def _compute_results(results: list[str]) -> None:
    """Call each ``"module:function"`` once, for what it puts in the results cache. A failure is only
    reported: the chapter that reads the result computes it again and shows the error."""
    import importlib

    for result in results:
        start = time.perf_counter()
        try:
            module, _, name = result.partition(":")
            getattr(importlib.import_module(module), name)()
        except Exception as exc:  # noqa: BLE001 - reported, and met again by the chapter
            print(f"{result}: failed after {time.perf_counter() - start:.1f} s: {type(exc).__name__}: {exc}",
                  flush=True)
            continue
        print(f"{result}: computed in {time.perf_counter() - start:.1f} s", flush=True)


def _execute(paths: list[str], folder: str | None, results: list[str] = ()) -> None:
    """Compute the ``results``; then execute each notebook in its own folder as MyST-NB does (600 s per
    cell, errors stop it) and hand it over to the build (``folder``), or, without one, keep only what
    it put in the results cache."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    _compute_results(list(results))
    handoff = _handoff_module() if folder else None
    for path in paths:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        result = single_nb_execution(notebook, cwd=str(Path(path).parent), timeout=600, allow_errors=False)
        seconds = time.perf_counter() - start
        if result.err is not None:  # Sphinx executes it itself and reports the error
            print(f"{path}: stopped after {seconds:.1f} s: {type(result.err).__name__}", flush=True)
            if handoff:
                handoff.mark_failed(Path(folder), Path(path), f"{BY} stopped: {type(result.err).__name__}")
            continue
        if handoff:
            handoff.hand_over(Path(folder), Path(path), notebook, seconds, by=BY)
        print(f"{path}: ran in {seconds:.1f} s", flush=True)


def _main(argv: list[str]) -> None:
    """``(--hand-over FOLDER | --cache-only) [--result MODULE:FUNCTION ...] -- NOTEBOOK ...``"""
    import argparse

    parser = argparse.ArgumentParser(prog="precompute.py")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--hand-over", metavar="FOLDER")
    mode.add_argument("--cache-only", action="store_true")
    parser.add_argument("--result", action="append", default=[])
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    _execute(args.notebooks, args.hand_over, args.result)


if __name__ == "__main__":
    _main(sys.argv[1:])
