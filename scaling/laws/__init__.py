"""Scaling laws and their estimators (layer 2: imports only the benchmark and foundation layers).

* :mod:`.paper` -- M1-M4, the law interface (:class:`ScalingLaw`), the registry and the paper's
  per-domain settings; the global minimum of Eq. 4/5 (``estimator="eq4"``).
* :mod:`.sound` -- the sound estimator of M1-M4 (log loss), the default of ``law.fit``.
* :mod:`.released` -- the paper's method: an exact emulation of the authors' released code.
* :mod:`.bnsl`, :mod:`.chinchilla` -- two later laws with the same interface.
* :mod:`.refit` -- warm-started, batched bootstrap refits; :mod:`.search` -- helpers the searches share.
"""

from .paper import (DOMAIN_ESTIMATORS, DOMAIN_M4_SETTINGS, EPS0_MARGIN, FIT_ESTIMATORS, LAWS, M1, M2, M3, M4,
                    PAPER_LAWS, ScalingLaw, law_for_domain, register_law, resolve_law_name)
from .bnsl import BNSL  # noqa: E402  (registers itself in LAWS)
from .chinchilla import Chinchilla  # noqa: E402

__all__ = ["ScalingLaw", "M1", "M2", "M3", "M4", "BNSL", "Chinchilla", "LAWS", "PAPER_LAWS", "law_for_domain",
           "register_law", "resolve_law_name", "FIT_ESTIMATORS", "DOMAIN_ESTIMATORS", "DOMAIN_M4_SETTINGS",
           "EPS0_MARGIN"]
