"""Install the regex-only PII log filter in the Rasa and action server processes (Python 3.10).

The filter lives in api/privacy/logfilter.py (standard library only) and is loaded by path, because
the bot's environment has neither the core's packages nor Presidio. Imported for its effect by the
event broker (Rasa) and by the actions package (action server).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

LOGFILTER = Path(__file__).resolve().parent.parent / "api" / "privacy" / "logfilter.py"


def install() -> None:
    spec = importlib.util.spec_from_file_location("bankbot_pii_logfilter", LOGFILTER)
    assert spec is not None and spec.loader is not None, f"missing {LOGFILTER}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = logging.getLogger()
    if not root.handlers:  # the filter sits on handlers; make sure there is one
        logging.basicConfig()
    module.install(root)


install()
