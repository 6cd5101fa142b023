"""How results look (layer 5: imports evaluate and below): the book's style and colours, generic
figures (:mod:`.plotting`) and paper-style tables (:mod:`.tables`). A chapter's own figures live
with its study in :mod:`scaling.studies`. :func:`glue` (:mod:`.notebook`) is MyST-NB's glue where
MyST-NB is installed and a no-op elsewhere, so the chapters run on Colab and Binder too."""

from .notebook import glue

__all__ = ["glue"]
