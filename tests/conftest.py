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


# -- the chapters, the unit tests and the browser test's book build, side by side -------------------
# pytest.ini runs two xdist workers, which take the test files (a chapter is one file) from one queue:
# the light chapters first, then the unit tests, the heavy chapters, and the browser tests last. As
# soon as the tests are known, the book build starts in the background (from xdist's controller, or
# from the one process with `-n 0`); the browser tests' `site` fixture waits for it. Each chapter is
# executed once: nbval executes it and the build shows the outputs of that execution
# (book/_ext/reuse_test_executions.py; the workers hand nbval's notebooks over in EXECUTIONS). While
# the workers run the light chapters and the unit tests, the build's helper process
# (book/_ext/precompute.py) computes the heavy chapters' shared results, so nbval finds them ready.
ROOT = Path(__file__).resolve().parents[1]
BOOK_BUILD = pytest.StashKey[dict]()
HANDOFF_STATE = pytest.StashKey[dict]()  # per chapter this process may hand over: its items, outputs
EXECUTIONS = ROOT / "_build" / "test-executions"
BUILD_LOG = ROOT / "_build" / "pytest-book-build.log"
BUILD_EXIT = EXECUTIONS / "build.exit"  # the build's exit status, written when it ends
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


def _code_cells(notebook: Path) -> int:
    return sum(cell.cell_type == "code" for cell in nbformat.read(notebook, as_version=4).cells)


def _whole_chapters(nodeids: list[str]) -> list[Path]:
    """The notebooks of which every code cell is among ``nodeids`` (nbval's ``book/x.ipynb::Cell k``)."""
    cells: dict[str, int] = {}
    for nodeid in nodeids:
        path = nodeid.split("::", 1)[0]
        if path.endswith(".ipynb") and "::Cell " in nodeid:
            cells[path] = cells.get(path, 0) + 1
    return [(ROOT / path).resolve() for path, n in cells.items() if n == _code_cells(ROOT / path)]


def _wants_build(config, nodeids: list[str]) -> bool:
    return (not config.option.collectonly and os.environ.get("SCALING_BOOK_BUILT") != "1"
            and chromium_path() is not None and any(n.startswith(BROWSER_TESTS) for n in nodeids))


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_collection_modifyitems(session, config, items):
    """The queue the xdist workers take files from (or the order of a ``-n 0`` run): light chapters
    in the build's reading order, the unit tests, the heavy and the timing chapters, the browser
    tests. The unit tests keep both workers busy while the build's helper computes the heavy results."""
    browser = [item for item in items if item.nodeid.startswith(BROWSER_TESTS)]
    cells: dict[str, list] = {}
    for item in items:
        if (name := _notebook_of(item)) is not None:
            cells.setdefault(name, []).append(item)
    order = chapter_order(list(cells))
    config_pages = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    late = set(config_pages["precompute_pages"]) | set(config_pages["alone_pages"])
    light = [item for name in order if name not in late for item in cells[name]]
    heavy = [item for name in order if name in late for item in cells[name]]
    units = [item for item in items if _notebook_of(item) is None and not item.nodeid.startswith(BROWSER_TESTS)]
    items[:] = light + units + heavy + browser


def pytest_collection_finish(session):
    config = session.config
    nodeids = [item.nodeid for item in session.items]
    if not _wants_build(config, nodeids):
        return
    whole = {str(path) for path in _whole_chapters(nodeids)}
    state = {}
    for item in session.items:
        name = _notebook_of(item)
        if name is not None and str(Path(item.parent.path).resolve()) in whole:
            state.setdefault(name, {"items": [], "outputs": {}, "failed": False, "seconds": 0.0,
                                    "started": False})["items"].append(item)
    config.stash[HANDOFF_STATE] = state
    config.pluginmanager.register(_HandOver(), "scaling-chapter-handover")
    if not _is_worker(config):  # one process (-n 0): it starts the build itself
        start_book_build(config, nodeids)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """xdist's controller: start the build once the first worker has collected (before any test runs)."""
    if _wants_build(node.config, ids):
        start_book_build(node.config, ids)


def start_book_build(config, nodeids: list[str]) -> None:
    """Start ``jupyter-book build`` in the background, once per run. A small wrapper writes its exit
    status to BUILD_EXIT, so that the browser tests can wait for it from any worker."""
    if config.stash.get(BOOK_BUILD, None) is not None:
        return
    shutil.rmtree(EXECUTIONS, ignore_errors=True)
    EXECUTIONS.mkdir(parents=True)
    (EXECUTIONS / HANDOFF.EXPECTED).write_text("".join(f"{p}\n" for p in _whole_chapters(nodeids)), encoding="utf-8")
    handle = BUILD_LOG.open("w")
    wrapper = ("import subprocess, sys; code = subprocess.call(sys.argv[2:]); "
               "open(sys.argv[1] + '.partial', 'w').write(str(code)); "
               "__import__('os').replace(sys.argv[1] + '.partial', sys.argv[1])")
    process = subprocess.Popen([sys.executable, "-c", wrapper, str(BUILD_EXIT), *book_build_command()], cwd=ROOT,
                               stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, HANDOFF.ENV: str(EXECUTIONS)}, start_new_session=True)
    (EXECUTIONS / "build.started").write_text(f"{time.time()}\n")
    config.stash[BOOK_BUILD] = {"process": process, "handle": handle}


def wait_for_book_build(timeout: float = 3600) -> tuple[int, float] | None:
    """The exit status of this run's background build and its duration, or None if none was started."""
    started = EXECUTIONS / "build.started"
    if not started.is_file():
        return None
    end = time.monotonic() + timeout
    while not BUILD_EXIT.is_file():
        if time.monotonic() > end:
            return (-1, timeout)
        time.sleep(0.5)
    return int(BUILD_EXIT.read_text().strip() or -1), BUILD_EXIT.stat().st_mtime - float(started.read_text())


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
        state["started"] = True
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
        HANDOFF.mark_failed(EXECUTIONS, path, "nbval did not pass every cell")
        return
    notebook = copy.deepcopy(item.parent.nb)
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        silenced = _ends_with_semicolon(cell.source)
        cell.outputs = [nbformat.from_dict(output) for output in state["outputs"][number]
                        if not (silenced and output["output_type"] == "execute_result")]
        cell.execution_count = number + 1
    HANDOFF.hand_over(EXECUTIONS, path, notebook, state["seconds"], by="nbval (the test run)")


def release_unfinished(config) -> None:
    """Mark the chapters this process started and did not hand over (an interrupted or ``-x`` run) as
    failed, so that the build executes them itself instead of waiting for them."""
    for state in config.stash.get(HANDOFF_STATE, {}).values():
        path = Path(state["items"][0].parent.path)
        if state["started"] and not HANDOFF.handoff_path(EXECUTIONS, path).exists():
            HANDOFF.mark_failed(EXECUTIONS, path, "nbval did not finish this chapter")


def pytest_unconfigure(config):
    build = config.stash.get(BOOK_BUILD, None)
    if build is None:
        return
    if build["process"].poll() is None:  # an interrupted run does not leave a build behind
        os.killpg(build["process"].pid, 9)
        build["process"].wait()
    build["handle"].close()
