"""What a chapter needs from its notebook environment, wherever it runs.

:func:`glue` is MyST-NB's ``glue`` when MyST-NB is installed (the book's build, where glued values
feed the prose) and a stand-in elsewhere (Colab, Binder without the book's tools, a downloaded
notebook): the value is displayed when ``display`` is true, and otherwise nothing happens. A chapter
therefore imports ``from scaling.report import glue`` and runs the same everywhere.
"""

from __future__ import annotations

__all__ = ["glue"]


def glue(name: str, variable, display: bool = True):
    """``myst_nb.glue(name, variable, display)`` when MyST-NB is importable, else a no-op that only
    displays ``variable`` (when ``display`` is true) so a reader still sees it."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(variable)
        return None
    return myst_glue(name, variable, display)
