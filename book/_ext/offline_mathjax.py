"""Serve MathJax 3 from the built site instead of a CDN.

The book must render its equations on machines without internet access (CI, a laptop on a
train). Sphinx's ``sphinx.ext.mathjax`` loads MathJax from a CDN by default. This extension

* points ``mathjax_path`` at ``_static/mathjax/tex-chtml.js`` (a path relative to ``_static``),
* copies the MathJax 3 "es5" distribution shipped by the pinned PyPI package
  ``django-static-mathjax==3.2.2.1`` (import name ``mathjax``) into ``<outdir>/_static/mathjax``
  when an HTML build finishes.

Only the files the ``tex-chtml`` component needs are copied (the loader, the CHTML fonts, the
TeX extensions that ``autoload`` may fetch, the menu and accessibility parts); the alternative
combined bundles (SVG output, MathML input, "full" builds) are skipped to keep the site small.

Enable it in ``_config.yml``::

    sphinx:
      local_extensions:
        offline_mathjax: book/_ext
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Where the MathJax files land, relative to the HTML output's ``_static`` folder.
STATIC_SUBDIR = "mathjax"
#: The MathJax component that the pages load (TeX input, CommonHTML output).
ENTRY_POINT = "tex-chtml.js"
#: Files and folders of the es5 distribution that ``tex-chtml.js`` never loads.
_SKIP = [
    "tex-svg*.js",
    "tex-mml-*.js",
    "tex-chtml-full*.js",
    "mml-*.js",
    "node-main.js",
    "svg",  # output/svg: the SVG renderer and its fonts
    "*.map",
]

PIP_HINT = "pip install django-static-mathjax==3.2.2.1 (it is pinned in requirements.txt)"


def mathjax_source_dir() -> Path:
    """Folder of the MathJax 3 ``es5`` distribution installed from PyPI."""
    try:
        import mathjax  # provided by django-static-mathjax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ExtensionError(
            f"offline_mathjax: the MathJax files are missing; {PIP_HINT}"
        ) from err
    source = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (source / ENTRY_POINT).is_file():
        raise ExtensionError(
            f"offline_mathjax: {source / ENTRY_POINT} does not exist; the installed "
            f"'mathjax' package is not the expected one. {PIP_HINT}"
        )
    return source


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if any(fnmatch.fnmatch(n, pat) for pat in _SKIP)}


def _configure(app: Sphinx, config: Config) -> None:
    mathjax_source_dir()  # fail early, before any notebook is executed
    config.mathjax_path = f"{STATIC_SUBDIR}/{ENTRY_POINT}"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / STATIC_SUBDIR
    shutil.copytree(mathjax_source_dir(), target, ignore=_ignore, dirs_exist_ok=True)
    logger.info("offline_mathjax: MathJax copied to %s", target)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
