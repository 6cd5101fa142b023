"""A notebook that imports scaling shows its figures even when MPLBACKEND=Agg (a headless machine)."""

import os

import nbformat
from nbclient import NotebookClient


def _images_with_backend(backend, tmp_path, kernel_figures=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import scaling\nimport matplotlib.pyplot as plt\nplt.plot([1, 2], [2, 1]);")]
    saved = {name: os.environ.get(name) for name in ("MPLBACKEND", "SCALING_KERNEL_FIGURES")}
    os.environ["MPLBACKEND"] = backend
    if kernel_figures is not None:
        os.environ["SCALING_KERNEL_FIGURES"] = kernel_figures
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return sum("image/png" in out.get("data", {}) for out in nb.cells[0].outputs)


def test_figures_reach_the_notebook_under_agg(tmp_path):
    assert _images_with_backend("Agg", tmp_path) == 1


def test_the_precompute_helper_can_switch_figures_off(tmp_path):
    """book/_ext/precompute.py executes notebooks only for their cached results: no figure is drawn."""
    assert _images_with_backend("Agg", tmp_path, kernel_figures="off") == 0


def test_nothing_changes_outside_a_kernel():
    from scaling._notebook import inline_figures_in_kernels

    assert inline_figures_in_kernels() is False
