"""Rasa's matrix products on the calling thread: numpy's OpenBLAS would otherwise burn a core waiting.

The intent classifier (bankbot_nlu/classifier.py) and the MiniLM featurizer's numpy steps multiply through
numpy's bundled OpenBLAS, which starts one thread per core (two here) and splits each product between
them. The products of one parse are tiny (a 384-wide sentence vector, a few hundred weight rows), and after
each one the second thread spins, waiting for the next, for a while: measured on the trained model, a
parse cost 84 ms of CPU with two OpenBLAS threads and 5.8 ms with one, with identical intents, confidences
and rankings. Under chat load that thread was Rasa's busiest (about 320 ms of CPU per second at one
conversation; py-spy and /proc, 3 December 2026, docs/benchmarks.md), on the two cores everything shares.

So the Rasa server limits every BLAS library it has loaded to one thread (threadpoolctl, which
scikit-learn already brings; without it nothing changes and a warning says so). The same limit as the
core's redaction (api/privacy/blas.py), for the same reason. Installed when bankbot_channel is loaded
(credentials.yml: the server, not training).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)
_installed = False


def install() -> bool:
    """Limit BLAS to one thread in this process, once; False when threadpoolctl is missing."""
    global _installed
    if _installed:
        return True
    try:
        import numpy  # noqa: F401 - loads OpenBLAS, so that the limit reaches it
        from threadpoolctl import threadpool_limits
    except ImportError:
        logger.warning("threadpoolctl not installed: numpy's BLAS keeps a thread per core")
        return False
    threadpool_limits(limits=1, user_api="blas")
    _installed = True
    return True
