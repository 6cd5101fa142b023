"""Re-read (and so re-execute) every page on every build.

With ``execute_notebooks: force`` MyST-NB executes a notebook whenever Sphinx *reads* it. But an
incremental Sphinx build only re-reads pages whose source file changed: a change to the
``scaling`` package or to the benchmark data would leave the previous outputs in place, and the
book would show stale numbers. This extension tells Sphinx that every page is outdated, so
``jupyter-book build .`` always recomputes everything (as ``jupyter-book build --all .`` would).
The book has a handful of pages; re-reading them costs nothing next to executing them.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _everything_is_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    return sorted(set(env.found_docs) - set(added) - set(changed) - set(removed))


def setup(app: Sphinx) -> dict:
    app.connect("env-get-outdated", _everything_is_outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
