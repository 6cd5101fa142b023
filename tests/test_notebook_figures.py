"""A notebook that imports scaling shows its figures even when MPLBACKEND=Agg (a headless machine)."""

import os

import nbformat
from nbclient import NotebookClient


def _images_with_backend(backend, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import scaling\nimport matplotlib.pyplot as plt\nplt.plot([1, 2], [2, 1]);")]
    env_backup = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = backend
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_backup is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backup
    return sum("image/png" in out.get("data", {}) for out in nb.cells[0].outputs)


def test_figures_reach_the_notebook_under_agg(tmp_path):
    assert _images_with_backend("Agg", tmp_path) == 1


def test_nothing_changes_outside_a_kernel():
    from scaling._notebook import inline_figures_in_kernels

    assert inline_figures_in_kernels() is False
