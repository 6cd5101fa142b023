"""One pair of modules per chapter family (layer 6): ``<family>`` computes and returns frames,
``<family>_plots`` draws its figures and renders its tables (e.g. :mod:`.foundations_plots`).

=====================  ==========================================================================
:mod:`.foundations`    Figures 2-4: the synthetic experiment, the exponent sweep (Figure 3), SGD
:mod:`.ic`             image classification (Figures 1 top, 5-7, Appendix A.3)
:mod:`.lang`           translation, language modelling and BIG-Bench (Tables 2-3, Figures 8-9)
:mod:`.ablation`       Appendix A.1: fixed versus learned alpha
:mod:`.leaderboard`    six laws on every curve with paired bootstrap intervals
:mod:`.sensitivity`    less data and other optimiser starts (two chapters)
:mod:`.performance`    timings of the released code, its emulation and the other fits
:mod:`.variants`       the protocol variants the paper leaves open; :mod:`.se_search` the "±" formula
:mod:`.scorecard`      the one-screen verdict of the ledger
=====================  ==========================================================================
"""

# The studies register their ledger producers on import (Figures 2 and 3 are computed here).
from . import foundations  # noqa: E402,F401
