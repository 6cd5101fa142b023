"""One BLAS thread while a law is fitted.

The fits do many tiny matrix products, which BLAS threads only slow down (ten times and more when
the cores are busy: the threads spin waiting for each other).
"""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def single_threaded_blas():
    """A context manager running BLAS on one thread.

    The controller is built once: scanning the loaded libraries costs milliseconds, as much as a
    whole fit, while entering the cached controller's limit costs a fraction of one.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
