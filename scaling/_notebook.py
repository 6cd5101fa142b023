"""Figures in notebooks, whatever ``MPLBACKEND`` says.

A headless machine often exports ``MPLBACKEND=Agg``. A Jupyter kernel then draws with Agg instead
of the inline backend, and no figure reaches the notebook (or the built book) -- silently. When the
package is imported inside a Jupyter kernel with a non-interactive backend, it switches the kernel
to inline figures. Outside a kernel (scripts, tests, the command line) nothing changes.
"""

from __future__ import annotations

import sys

_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "cairo", "template"}


def inline_figures_in_kernels() -> bool:
    """Switch a Jupyter kernel drawing with a non-interactive backend to inline figures; True if switched."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    import matplotlib

    if matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
        return False
    shell.run_line_magic("matplotlib", "inline")
    return True
