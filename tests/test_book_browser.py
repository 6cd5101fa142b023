"""Open every page of the built book in headless Chromium, as a reader would.

The site is built once per test session into ``_build/html`` (``jupyter-book build . -W
--keep-going``), unless ``SCALING_BOOK_BUILT=1`` says that a build was just made (CI builds the
book first and then runs the tests). It is served from 127.0.0.1 on a free port, and each page
listed in ``_toc.yml`` is loaded with all other hosts unresolvable, as on a machine without
internet access. For each page the test checks that

* every image loaded (no ``naturalWidth == 0``),
* the page shows as many figures in its cell outputs as the executed notebook produced in the cells
  it renders (a headless backend that drops figures, a removed output), and every figure decodes
  and is not blank (at least 1 % of its pixels differ from its background colour),
* no cell output is an error, a traceback or stderr,
* the math was typeset by the local MathJax (``mjx-container`` elements, no raw ``$$``),
* the "next" (or, on the last page, "previous") link leads to a page that exists and
  answers 200,

and saves a screenshot under ``_build/screenshots/`` for a person to look at.

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``; override with
``$SCALING_CHROMIUM``). Without it the tests are skipped, except in CI (``CI=true``), where a
missing browser is an error.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from conftest import BUILD_LOG, EXECUTIONS, HANDOFF, book_build_command, chromium_path, wait_for_book_build

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
BUILT_ENV = "SCALING_BOOK_BUILT"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
    # Nothing but the test server resolves: the page must work offline.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PAGE_TIMEOUT = 120  # seconds for one Chromium run


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("root", "file") and isinstance(value, str):
                    pages.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return pages


PAGES = _toc_pages()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if not path:
        message = ("headless Chromium is not installed (Debian: `apt-get install -y chromium`); "
                   "the browser checks of the book need it")
        if _in_ci():
            pytest.fail(message + " and CI=true, so this is an error.")
        pytest.skip(message + ".")
    return path


def _source_of(page: str) -> Path | None:
    for ext in (".ipynb", ".rst", ".md"):
        if (ROOT / f"{page}{ext}").is_file():
            return ROOT / f"{page}{ext}"
    return None


@pytest.fixture(scope="session")
def site(chromium, request) -> Path:
    """The built HTML folder: built for this session (started in the background by conftest.py when
    collection ended), or reused when $SCALING_BOOK_BUILT=1."""
    if os.environ.get(BUILT_ENV) == "1":
        if not (HTML / "index.html").is_file():
            pytest.fail(f"{BUILT_ENV}=1 but {HTML / 'index.html'} does not exist; build the book first "
                        "(`jupyter-book build . -W --keep-going`) or unset the variable.")
        stale = [p for p in PAGES if (src := _source_of(p)) and (HTML / f"{p}.html").is_file()
                 and (HTML / f"{p}.html").stat().st_mtime < src.stat().st_mtime]
        if stale:
            pytest.fail(f"{BUILT_ENV}=1 but the build is older than the sources of {stale}; rebuild the book.")
        return HTML
    command = book_build_command()
    waited = wait_for_book_build()  # started in the background when the tests were collected
    if waited is None:  # not started early (e.g. collected in an unusual way): build now
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        code, output, seconds = done.returncode, done.stdout + done.stderr, time.perf_counter() - start
    else:
        (code, seconds), output = waited, BUILD_LOG.read_text(errors="replace")
    if code != 0:
        tail = "\n".join(output.splitlines()[-60:])
        pytest.fail(f"`{' '.join(command)}` failed (exit {code}):\n{tail}")
    print(f"book built in {seconds:.0f} s")
    return HTML


# -- a static server that can add a small probe script to the pages -----------------------------
PROBE = r"""
<script>
(function () {
  function report(problem) {
    var text = document.body.innerText;
    var count = function (sel) { return document.querySelectorAll(sel).length; };
    var math = Array.prototype.slice.call(document.querySelectorAll(".math"));
    var next = document.querySelector("a.right-next");
    var prev = document.querySelector("a.left-prev");
    var mathjax = document.querySelector("script[src*='mathjax']");
    // Prose with TeX left in it (math that was never parsed, e.g. broken by a line break):
    // the page text without code, typeset math and scripts must not contain TeX commands.
    var prose = document.querySelector("main") || document.body;
    prose = prose.cloneNode(true);
    Array.prototype.forEach.call(
      prose.querySelectorAll("pre, code, mjx-container, script, style, .highlight, mjx-assistive-mml"),
      function (el) { el.remove(); });
    var tex = (prose.textContent.match(/\\(varepsilon|epsilon|log|alpha|beta|gamma|frac|infty|hat|sum|mathrm|left|right|sigma)\b/g) || []);
    var out = {
      title: document.title,
      images: Array.prototype.map.call(document.images, function (im) {
        return {src: im.currentSrc || im.src, complete: im.complete, width: im.naturalWidth};
      }),
      output_images: Array.prototype.map.call(document.querySelectorAll(".cell_output img"), function (im) {
        return im.currentSrc || im.src;
      }),
      error_outputs: count(".output.error, .output.traceback, .output.stderr, div.traceback"),
      reading_aids: !!document.querySelector("script[src*='reading_aids']"),
      zoomable: count("img.figure-zoomable"),
      zoom_links: count("a.figure-zoom-link"),
      traceback_text: text.indexOf("Traceback (most recent call last)") >= 0,
      math_nodes: math.length,
      unrendered_math: math.filter(function (el) { return !el.querySelector("mjx-container"); }).length,
      mjx: count("mjx-container"),
      raw_dollars: text.indexOf("$$") >= 0,
      raw_tex: tex.slice(0, 5),
      next: next ? next.getAttribute("href") : null,
      prev: prev ? prev.getAttribute("href") : null,
      mathjax_src: mathjax ? mathjax.src : null,
      mathjax_problem: problem || null,
      external: performance.getEntriesByType("resource").map(function (r) { return r.name; })
        .filter(function (n) { return n.indexOf(location.origin) !== 0 && n.indexOf("data:") !== 0; })
    };
    var pre = document.createElement("pre");
    pre.id = "book-probe-report";
    pre.style.display = "none";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", function () {
    var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
    ready.then(function () { report(); }, function (e) { report(String(e)); });
  });
})();
</script>
"""


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        if "probe=1" in parts.query and parts.path.endswith(".html"):
            file = Path(self.translate_path(parts.path))
            if file.is_file():
                body = file.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Chromium closes connections early (e.g. once a page is rendered); not a test failure.
        pass


@pytest.fixture(scope="session")
def server(site):
    httpd = _QuietServer(("127.0.0.1", 0), partial(_Handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="book-chromium-") as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=PAGE_TIMEOUT)


def _probe(binary: str, url: str, *extra: str) -> dict:
    done = _chromium(binary, "--virtual-time-budget=15000", *extra, "--dump-dom", url)
    match = re.search(r'<pre id="book-probe-report"[^>]*>(.*?)</pre>', done.stdout, re.S)
    if not match:
        pytest.fail(f"the page {url} never finished loading in Chromium (exit {done.returncode}); "
                    f"stderr tail:\n{done.stderr[-2000:]}")
    return json.loads(html.unescape(match.group(1)))


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status


# -- figures: what the executed notebook made against what the page shows ----------------------------
EXECUTED = ROOT / "_build" / "jupyter_execute"
_FIGURE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
_HIDDEN_OUTPUT_TAGS = {"remove-cell", "remove-output"}


def _notebook_figures(page: str) -> int | None:
    """Figures in the outputs of the cells the page renders, from the executed notebook (None if absent)."""
    notebook = EXECUTED / f"{page}.ipynb"
    if not notebook.is_file():
        return None
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    count = 0
    for cell in cells:
        if cell.get("cell_type") != "code" or set(cell.get("metadata", {}).get("tags", [])) & _HIDDEN_OUTPUT_TAGS:
            continue
        count += sum(any(t in out.get("data", {}) for t in _FIGURE_TYPES) for out in cell.get("outputs", []))
    return count


def _blank_share(path: Path) -> float:
    """Share of pixels that differ from the image's most common colour (0 for a blank image)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        im.load()  # raises on a file that does not decode
        rgba = im.convert("RGBA")
    pixels = np.asarray(rgba, dtype=np.int32).reshape(-1, 4)
    # transparent pixels count as white, as the page shows them
    alpha = pixels[:, 3:4]
    rgb = (pixels[:, :3] * alpha + 255 * (255 - alpha) + 127) // 255
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    background = np.bincount(packed).argmax()
    back = np.array([background >> 16, (background >> 8) & 255, background & 255])
    return float(np.mean(np.abs(rgb - back).sum(axis=1) > 30))


# -- the tests ---------------------------------------------------------------------------------------
def test_toc_has_pages():
    assert PAGES, "_toc.yml lists no pages"


def _visit(binary: str, server: str, page: str) -> dict:
    """Chromium's report of one page, after saving its screenshot."""
    url = urljoin(server, f"{page}.html") + "?probe=1"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{page.replace('/', '__')}.png"
    shot.unlink(missing_ok=True)
    # one Chromium run both writes the screenshot and prints the page (with the probe's report)
    report = _probe(binary, url, "--window-size=1280,2000", f"--screenshot={shot}")
    report["screenshot"] = shot
    return report


@pytest.fixture(scope="session")
def page_reports(site, server, chromium) -> dict:
    """Every page opened once, three Chromiums at a time (each mostly waits on the page): page -> report,
    or the exception its visit raised (re-raised by that page's test)."""
    pages = [p for p in PAGES if (site / f"{p}.html").is_file()]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {page: pool.submit(_visit, chromium, server, page) for page in pages}
    reports = {}
    for page, future in futures.items():
        try:
            reports[page] = future.result()
        except BaseException as exc:  # noqa: BLE001 - pytest.fail raises an OutcomeException
            reports[page] = exc
    return reports


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page, site, server, page_reports):
    file = site / f"{page}.html"
    assert file.is_file(), f"{page} is in _toc.yml but the build produced no {file}"
    report = page_reports[page]
    if isinstance(report, BaseException):
        raise report
    shot = report["screenshot"]
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot of {page} was written to {shot}"

    broken = [im["src"] for im in report["images"] if not im["complete"] or im["width"] == 0]
    assert not broken, f"{page}: broken images {broken}"

    made = _notebook_figures(page)
    shown = report["output_images"]
    if made is not None:
        assert len(shown) == made, (
            f"{page}: the executed notebook made {made} figure(s) in the cells the page renders, the page shows "
            f"{len(shown)} (a figure lost to a non-inline backend, or an output removed?)")
    for src in shown:
        local = site / urlsplit(src).path.lstrip("/")
        assert local.is_file(), f"{page}: figure {src} is not a file of the site"
        share = _blank_share(local)
        assert share >= 0.01, f"{page}: figure {local.name} is blank ({share:.2%} of its pixels differ from the background)"

    assert report["reading_aids"], f"{page}: book/_static/reading_aids.js (figure zoom, scroll cue) is not loaded"
    assert report["zoomable"] == report["zoom_links"], f"{page}: a zoomable figure without its full-size link"

    assert report["error_outputs"] == 0 and not report["traceback_text"], (
        f"{page}: {report['error_outputs']} error/traceback/stderr output(s) on the page"
    )

    assert report["mathjax_problem"] is None, f"{page}: MathJax failed: {report['mathjax_problem']}"
    if report["math_nodes"]:
        assert report["mathjax_src"] and report["mathjax_src"].startswith(server), (
            f"{page}: MathJax is loaded from {report['mathjax_src']!r}, not from the site itself"
        )
        assert report["mjx"] >= report["math_nodes"] and report["unrendered_math"] == 0, (
            f"{page}: {report['unrendered_math']} of {report['math_nodes']} math elements were not typeset"
        )
    assert not report["raw_dollars"], f"{page}: raw '$$' in the page text (math not parsed)"
    assert not report["raw_tex"], f"{page}: TeX left unrendered in the prose: {report['raw_tex']}"
    assert not report["external"], f"{page}: the page asked for resources on other hosts: {report['external']}"

    link = report["next"] or report["prev"]
    assert link, f"{page}: neither a 'next' nor a 'previous' navigation link"
    target = urljoin(urljoin(server, f"{page}.html"), link.split("#")[0])
    assert (site / urlsplit(target).path.lstrip("/")).is_file(), f"{page}: navigation link {link} points nowhere"
    assert _status(target) == 200, f"{page}: navigation link {link} does not answer 200"


def test_the_big_grids_open_at_full_size(page_reports):
    """The appendix grids are drawn at twice the resolution they are shown at: each one can be
    clicked open at full size, and has a link to the image."""
    report = page_reports.get("book/appendix_ic_panels")
    if isinstance(report, BaseException):
        raise report
    assert report is not None, "the appendix page was not built"
    assert report["output_images"] and report["zoomable"] == len(report["output_images"]), (
        f"{report['zoomable']} of the appendix's {len(report['output_images'])} figures open at full size")


def test_the_figure_checks_can_fail(tmp_path):
    """A blank image is caught, a drawn one passes (guards the figure check against passing vacuously)."""
    import numpy as np
    from PIL import Image

    blank = np.full((60, 80, 3), 255, dtype=np.uint8)
    Image.fromarray(blank).save(tmp_path / "blank.png")
    drawn = blank.copy()
    drawn[20:40, 10:70] = (31, 119, 180)
    Image.fromarray(drawn).save(tmp_path / "drawn.png")
    assert _blank_share(tmp_path / "blank.png") == 0.0
    assert _blank_share(tmp_path / "drawn.png") > 0.2
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(Exception):
        _blank_share(tmp_path / "bad.png")


def test_the_book_has_figures(site):
    """Most chapters draw figures: the executed notebooks hold dozens of them (none means a lost backend)."""
    made = {p: _notebook_figures(p) for p in PAGES}
    assert sum(n or 0 for n in made.values()) >= 40, f"the executed notebooks hold too few figures: {made}"


def test_each_chapter_ran_once(site):
    """In this run every chapter is executed once, by nbval: the build shows those outputs and
    executes none of the chapters nbval ran (book/_ext/reuse_test_executions.py)."""
    if wait_for_book_build() is None:
        pytest.skip("the book was not built by this test run")
    handed = sorted(HANDOFF.expected(EXECUTIONS))
    assert handed, "nbval handed no chapter to the build"
    log = BUILD_LOG.read_text(errors="replace")
    twice = [path for path in handed if f"{path}: Executed notebook" in log]
    assert not twice, (f"the build executed again {len(twice)} chapter(s) nbval had run (a failing cell "
                       f"marks a chapter .failed in {EXECUTIONS}): {twice}")
    read = [path for path in handed if f"{path}: " in log]
    assert all(f"{path}: Took the outputs executed by nbval (the test run)" in log for path in read)


def test_downloaded_notebooks_carry_their_outputs(site):
    """The page's .ipynb download (``_sources/<page>.ipynb``) is the executed notebook, not the
    committed one without outputs (book/_ext/executed_downloads.py)."""
    chapters = [p for p in PAGES if (ROOT / f"{p}.ipynb").is_file()]
    assert chapters, "no chapter notebooks in _toc.yml"
    for page in chapters:
        download = site / "_sources" / f"{page}.ipynb"
        assert download.is_file(), f"{page}: the build has no download copy {download}"
        cells = json.loads(download.read_text(encoding="utf-8"))["cells"]
        assert any(cell.get("outputs") for cell in cells if cell.get("cell_type") == "code"), (
            f"{page}: the downloadable notebook {download.name} has no outputs")


def test_some_page_has_math(site):
    """Guard against the math check passing vacuously (for instance if math were never parsed)."""
    pages_with_math = [p for p in PAGES if 'class="math' in (site / f"{p}.html").read_text(encoding="utf-8")]
    assert pages_with_math, "no page of the book contains typeset math"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file(), "the offline MathJax copy is missing"
