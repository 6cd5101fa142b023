"""The page's ``.ipynb`` download button gives the notebook *with its outputs*.

The committed notebooks carry no outputs (a stale number can never be read from them), so Sphinx's
copy of a page's source under ``_build/html/_sources/`` has none either, and that copy is what the
book theme's download button serves. MyST-NB writes every notebook it executes to
``_build/jupyter_execute/`` (next to the HTML folder). When the build has finished, this extension
copies each executed notebook over its source copy, so a reader downloads what the page shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
EXECUTED_FOLDER = "jupyter_execute"  # MyST-NB's output folder, beside the builder's output


def _serve_executed_notebooks(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / EXECUTED_FOLDER
    sources = Path(app.outdir) / "_sources"
    copied = 0
    for notebook in sorted(executed.rglob("*.ipynb")):
        target = sources / notebook.relative_to(executed)
        if target.is_file():
            shutil.copyfile(notebook, target)
            copied += 1
    LOGGER.info(f"executed_downloads: {copied} notebook download(s) now carry their outputs")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _serve_executed_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
