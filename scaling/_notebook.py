"""Figures in notebooks, whatever ``MPLBACKEND`` says.

A headless machine often exports ``MPLBACKEND=Agg``. A Jupyter kernel then draws with Agg instead
of the inline backend, and no figure reaches the notebook (or the built book) -- silently. When the
package is imported inside a Jupyter kernel with a non-interactive backend, it switches the kernel
to inline figures. Outside a kernel (scripts, tests, the command line) nothing changes.

``SCALING_KERNEL_FIGURES=off`` keeps the kernel's backend: a process that executes notebooks only
for what they compute (the book build's precompute helper, ``book/_ext/precompute.py``) then draws
no figure at all.
"""

from __future__ import annotations

import os
import sys

#: Set to "off" to keep a non-interactive backend in a kernel (no figure is drawn).
KERNEL_FIGURES_ENV = "SCALING_KERNEL_FIGURES"
_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "cairo", "template"}


def inline_figures_in_kernels() -> bool:
    """Switch a Jupyter kernel drawing with a non-interactive backend to inline figures; True if switched."""
    if "ipykernel" not in sys.modules or os.environ.get(KERNEL_FIGURES_ENV, "").strip().lower() == "off":
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
