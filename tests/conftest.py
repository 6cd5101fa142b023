"""Shared fixtures: the real benchmark, read from $SCALING_DATA_DIR (CI points it at ../shared/data)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
# The build (every chapter executed by Jupyter Book) is the longest single step of the run. Started in
# the background when collection ends, it runs on the second core beside the unit tests and nbval;
# the browser tests are moved to the end, and their `site` fixture waits for it. Results the chapters
# share are computed once, by whichever process asks first (scaling.cache locks them).
ROOT = Path(__file__).resolve().parents[1]
BOOK_BUILD = pytest.StashKey[dict]()
BROWSER_TESTS = "tests/test_book_browser.py"


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


def pytest_collection_finish(session):
    browser = [item for item in session.items if item.nodeid.startswith(BROWSER_TESTS)]
    if not browser:
        return
    # The chapters (nbval) first: they run beside the build from the start, which executes the heavy
    # chapters first, so each side finds much of what the other computed in the results cache; then
    # the unit tests; the browser tests last, once the build is done.
    chapters = [item for item in session.items if item.nodeid.startswith("book/")]
    units = [item for item in session.items if not item.nodeid.startswith(("book/", BROWSER_TESTS))]
    session.items[:] = chapters + units + browser
    config = session.config
    if (config.option.collectonly or os.environ.get("SCALING_BOOK_BUILT") == "1" or not chromium_path()
            or not any("site" in getattr(item, "fixturenames", ()) for item in browser)):
        return
    log = ROOT / "_build" / "pytest-book-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    # nbval runs beside this build and fills the results cache as it goes: no third process
    # (book/_ext/precompute.py) on the two cores
    env = {**os.environ, "SCALING_BOOK_PRECOMPUTE": "0"}
    process = subprocess.Popen(book_build_command(), cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
    config.stash[BOOK_BUILD] = {"process": process, "log": log, "handle": handle, "start": time.perf_counter()}


def pytest_unconfigure(config):
    build = config.stash.get(BOOK_BUILD, None)
    if build and build["process"].poll() is None:  # an interrupted run does not leave a build behind
        build["process"].kill()
        build["process"].wait()
