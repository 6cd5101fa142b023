"""Re-execute exactly the pages whose output could have changed, and no others.

With ``execute_notebooks: force`` MyST-NB executes a notebook whenever Sphinx *reads* it, and an
incremental Sphinx build re-reads only the pages whose source file changed. A change to the
``scaling`` package (or to the data it pins) would then leave stale numbers on every other page.

So this extension records, for every page it reads, the key it was executed under: the sha256 of the
page's source file together with :func:`scaling.cache.source_key` (every file of the package, which
pins the data's sha256 sums, and the numerical libraries' versions). On the next build a page is
read again, and so re-executed, when its key differs:

* edit one chapter: that chapter alone is executed again;
* edit the package: every page is (the API pages too, whose docstrings come from it);
* a fresh checkout (CI) has no record, so every page is executed, as with ``jupyter-book build --all``.

``SCALING_BOOK_REEXECUTE=all`` executes every page whatever the record says.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
FORCE_ENV = "SCALING_BOOK_REEXECUTE"
_RECORD = "scaling_execution_keys"  # attribute of the pickled build environment: {docname: key}


def _page_key(env, docname: str, package_key: str) -> str:
    source = Path(env.doc2path(docname))
    content = source.read_bytes() if source.is_file() else b""
    return hashlib.sha256(package_key.encode() + b"\0" + content).hexdigest()


def _package_key() -> str:
    from scaling.cache import source_key

    return source_key()


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    record = getattr(env, _RECORD, None)
    if record is None:
        record = {}
        setattr(env, _RECORD, record)
    others = set(env.found_docs) - set(added) - set(changed) - set(removed)
    if os.environ.get(FORCE_ENV, "").strip().lower() == "all":
        stale = sorted(others)
    else:
        package_key = _package_key()
        stale = sorted(d for d in others if record.get(d) != _page_key(env, d, package_key))
    if stale:
        LOGGER.info(f"reexecute_notebooks: {len(stale)} page(s) to run again (package, data or page changed)")
    return stale


def _remember(app: Sphinx, doctree) -> None:
    env = app.env
    record = getattr(env, _RECORD, None)
    if record is None:
        record = {}
        setattr(env, _RECORD, record)
    record[env.docname] = _page_key(env, env.docname, _package_key())


def _forget(app: Sphinx, env, docname: str) -> None:
    getattr(env, _RECORD, {}).pop(docname, None)


def _merge(app: Sphinx, env, docnames, other) -> None:
    record = getattr(env, _RECORD, None)
    if record is None:
        record = {}
        setattr(env, _RECORD, record)
    record.update({d: k for d, k in getattr(other, _RECORD, {}).items() if d in docnames})


def setup(app: Sphinx) -> dict:
    app.connect("env-get-outdated", _outdated)
    app.connect("doctree-read", _remember)
    app.connect("env-purge-doc", _forget)
    app.connect("env-merge-info", _merge)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
