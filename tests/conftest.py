"""Shared fixtures: the real benchmark, read from $SCALING_DATA_DIR (CI points it at ../shared/data)."""

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from scaling.benchmark import DATA_DIR_ENV, load_benchmark


@pytest.fixture(scope="session")
def bench():
    if not os.environ.get(DATA_DIR_ENV):
        if os.environ.get("CI"):
            pytest.fail(f"CI must set ${DATA_DIR_ENV} to the folder holding the benchmark CSVs.")
        pytest.skip(f"set ${DATA_DIR_ENV} to the folder holding benchmark.vision.csv and benchmark.lang.csv")
    return load_benchmark()


@pytest.fixture(autouse=True)
def _no_shared_results(monkeypatch):
    """Unit tests compute every result themselves: a test that monkeypatches a computation must
    neither read a stored result nor store its fake one where the book would find it. (The chapters,
    run by nbval and the book build, use the results cache; tests/test_cache.py switches it back on
    in a temporary folder.)"""
    monkeypatch.setenv("SCALING_RESULTS_CACHE", "0")


# -- the browser test's book build, started as soon as the tests are known --------------------------
# The build is the longest step of the run. Started in the background when collection ends, it runs
# beside nbval and the unit tests; the browser tests are moved to the end, and their `site` fixture
# waits for it. Each chapter is executed once: nbval executes it, and the build shows the outputs of
# that execution (book/_ext/reuse_test_executions.py; nbval's notebooks are written to EXECUTIONS).
# Meanwhile the build's helper process (book/_ext/precompute.py) computes the heavy chapters' shared
# results on the second core, so nbval runs the light chapters first, in the order Sphinx reads them.
ROOT = Path(__file__).resolve().parents[1]
BOOK_BUILD = pytest.StashKey[dict]()
HANDOFF_STATE = pytest.StashKey[dict]()  # per chapter handed to the build: its items, outputs so far
EXECUTIONS = ROOT / "_build" / "test-executions"
BROWSER_TESTS = "tests/test_book_browser.py"


def _book_extension(name: str):
    spec = importlib.util.spec_from_file_location(f"book_ext_{name}", ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HANDOFF = _book_extension("reuse_test_executions")


def book_build_command() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    return [str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book"),
            "build", str(ROOT), "-W", "--keep-going"]


def chromium_path() -> str | None:
    """Headless Chromium for the browser test: ``$SCALING_CHROMIUM``, else Debian's ``chromium``."""
    path = os.environ.get("SCALING_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    return path


def chapter_order(notebooks: list[str]) -> list[str]:
    """The chapters (``book/<name>``) in the order the build reads them with its helper on: the light
    ones by name, then ``precompute_pages`` and ``alone_pages`` in their configured order."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    heavy = [d for d in config["precompute_pages"] if d in notebooks]
    alone = [d for d in config["alone_pages"] if d in notebooks and d not in heavy]
    return sorted(d for d in notebooks if d not in heavy and d not in alone) + heavy + alone


def _notebook_of(item) -> str | None:
    """``book/intro`` for a cell of book/intro.ipynb run by nbval, else None."""
    if type(item).__name__ != "IPyNbCell":
        return None
    return Path(item.parent.path).resolve().relative_to(ROOT).with_suffix("").as_posix()


def pytest_collection_finish(session):
    browser = [item for item in session.items if item.nodeid.startswith(BROWSER_TESTS)]
    if not browser:
        return
    # The chapters (nbval) first, in the build's reading order; then the unit tests; the browser tests
    # last, once the build is done.
    cells: dict[str, list] = {}
    for item in session.items:
        if (name := _notebook_of(item)) is not None:
            cells.setdefault(name, []).append(item)
    chapters = [item for name in chapter_order(list(cells)) for item in cells[name]]
    units = [item for item in session.items if _notebook_of(item) is None and not item.nodeid.startswith(BROWSER_TESTS)]
    session.items[:] = chapters + units + browser
    config = session.config
    if (config.option.collectonly or os.environ.get("SCALING_BOOK_BUILT") == "1" or not chromium_path()
            or not any("site" in getattr(item, "fixturenames", ()) for item in browser)):
        return
    # the notebooks nbval runs whole (every code cell selected) are handed to the build
    shutil.rmtree(EXECUTIONS, ignore_errors=True)
    EXECUTIONS.mkdir(parents=True)
    whole = {name: items for name, items in cells.items()
             if len(items) == sum(c.cell_type == "code" for c in items[0].parent.nb.cells)}
    (EXECUTIONS / HANDOFF.EXPECTED).write_text(
        "".join(f"{Path(items[0].parent.path).resolve()}\n" for items in whole.values()), encoding="utf-8")
    config.stash[HANDOFF_STATE] = {name: {"items": items, "outputs": {}, "failed": False, "seconds": 0.0}
                                   for name, items in whole.items()}
    config.pluginmanager.register(_HandOver(), "scaling-chapter-handover")
    log = ROOT / "_build" / "pytest-book-build.log"
    handle = log.open("w")
    env = {**os.environ, HANDOFF.ENV: str(EXECUTIONS)}
    process = subprocess.Popen(book_build_command(), cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
    config.stash[BOOK_BUILD] = {"process": process, "log": log, "handle": handle, "start": time.perf_counter()}


class _HandOver:
    """Collects nbval's outputs cell by cell; after a chapter's last cell, hands the executed notebook
    (or a ``.failed`` mark) to the build. A plugin rather than hooks of this conftest, whose hooks
    would only see the items under tests/."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        state = item.config.stash.get(HANDOFF_STATE, {}).get(_notebook_of(item) or "")
        if state is None:
            return
        state["seconds"] += report.duration
        if report.failed or report.skipped:
            state["failed"] = True
        elif report.when == "call":
            state["outputs"][item.cell_num] = item.test_outputs
        if report.when == "teardown" and item is state["items"][-1]:
            _hand_over(item, state)

    def pytest_sessionfinish(self, session):
        release_unfinished(session.config)


def _ends_with_semicolon(source: str) -> bool:
    """IPython's rule that a trailing ``;`` hides a cell's value. nbval runs cells without storing
    them in the history, where IPython looks for that ``;``, so its kernel shows the value anyway
    (a figure returned by a plotting call would appear twice): the hand-over drops it, as a
    notebook would."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return DisplayHook.semicolon_at_end_of_expression(TransformerManager().transform_cell(source))
    except Exception:  # noqa: BLE001 - code IPython cannot tokenize shows its value
        return False


def _hand_over(item, state) -> None:
    path = Path(item.parent.path)
    code = [cell for cell in item.parent.nb.cells if cell.cell_type == "code"]
    if state["failed"] or len(state["outputs"]) != len(code):
        HANDOFF.handoff_path(EXECUTIONS, path, ".failed").write_text("nbval did not pass every cell\n")
        return
    notebook = copy.deepcopy(item.parent.nb)
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        silenced = _ends_with_semicolon(cell.source)
        cell.outputs = [nbformat.from_dict(output) for output in state["outputs"][number]
                        if not (silenced and output["output_type"] == "execute_result")]
        cell.execution_count = number + 1
    notebook.metadata["scaling_test_execution"] = {"seconds": round(state["seconds"], 3)}
    target = HANDOFF.handoff_path(EXECUTIONS, path)
    partial = target.with_suffix(".partial")
    nbformat.write(notebook, partial)
    os.replace(partial, target)  # the build never reads half a file


def release_unfinished(config) -> None:
    """Mark every chapter nbval has not handed over as failed, so that the build executes it itself
    instead of waiting for it (called once the chapters have run, and at the end of the session)."""
    for name, state in config.stash.get(HANDOFF_STATE, {}).items():
        path = Path(state["items"][0].parent.path)
        if not HANDOFF.handoff_path(EXECUTIONS, path).exists():
            HANDOFF.handoff_path(EXECUTIONS, path, ".failed").write_text("nbval did not finish this chapter\n")


def pytest_unconfigure(config):
    build = config.stash.get(BOOK_BUILD, None)
    if build and build["process"].poll() is None:  # an interrupted run does not leave a build behind
        build["process"].kill()
        build["process"].wait()
