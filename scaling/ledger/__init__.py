"""The reproduction ledger (layer 4): the paper's numbers as reference data, lined up against ours
with a status by a fixed rule (:mod:`.core`), and the released code's outputs shipped with the
package (:mod:`.reference`). The studies register the producers of our numbers."""

from .core import *  # noqa: F401,F403
from .core import __all__  # noqa: F401
