"""A failed import remembered: httpcore looks for `sniffio` on every async lock, event and request.

httpcore 1.0 (httpx's transport) runs `import sniffio` inside `current_async_library()`, which its async
locks, events and cancellation shields call several times per request. sniffio is not installed in
.venv-bot (anyio 4 no longer needs it), and Python does not remember a failed import: each attempt
searches every directory of sys.path again. In the action server, whose every action makes a few httpx
calls to the core, that search was 10-13 % of its CPU under load (py-spy, 3 December 2026,
docs/benchmarks.md). Rasa's event broker posts with httpx too.

`None` in sys.modules is Python's own "this module is absent": the import fails at once with the same
ImportError, and httpcore takes the branch it takes now (asyncio, the only loop these processes run).
Only when sniffio is really absent; installed, it is left to be imported as usual. Standard library
only; imported for its effect by the actions package (action server) and the event broker (Rasa).
"""

from __future__ import annotations

import importlib.util
import sys

ABSENT = ("sniffio",)


def install() -> None:
    for name in ABSENT:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = None  # type: ignore[assignment]  # the import system's marker of an absent module


install()
