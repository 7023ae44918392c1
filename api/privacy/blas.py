"""Matrix products of the NER model through numpy's OpenBLAS, on one thread, instead of thinc's BLIS.

thinc multiplies with its bundled BLIS, which picks its kernel by CPU model and falls back to the portable
C reference kernel on a CPU it does not know (it logs "selecting sub-configuration 'generic'" with
BLIS_ARCH_DEBUG=1; so on the development machine's AMD Zen 5). There, the token-to-vector layers of a 44-token
line took 3 to 6 times longer than the same products in numpy's OpenBLAS, which dispatches by instruction
set. OpenBLAS would split each product over all cores: on a loaded machine its threads wait for each other
(a 44 x 288 x 288 product took 4.3 ms instead of 0.15 ms), and the core redacts on several threads anyway,
so BLAS runs on the calling thread only. That limit needs threadpoolctl; without it BLIS is kept.
The parser's own per-token step is compiled against BLIS and is not changed here.
"""

from __future__ import annotations

import logging

from spacy.language import Language
from thinc.api import NumpyOps

log = logging.getLogger(__name__)


def one_blas_thread() -> bool:
    """Limit every BLAS library loaded in the process to one thread; False if threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=1, user_api="blas")
    return True


def use_numpy_blas(nlp: Language) -> bool:
    """Give every model of the pipeline numpy's matrix product (thinc's own switch, `use_blis=False`)."""
    if not one_blas_thread():
        log.info("threadpoolctl not installed: the NER model keeps BLIS")
        return False
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            for node in model.walk():
                node.ops = ops
    return True
