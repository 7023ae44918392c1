"""Rasa 3.6's event deserialisation, without walking the class tree for every event.

`Event.resolve_by_type(name)` finds an event's class by listing every (imported, non-abstract) subclass of
`Event` with `all_subclasses`, which calls `inspect.isabstract` on each, and returns the first whose
`type_name` matches. Rasa calls it for every event it deserialises: every event of the tracker on each
load from Redis, and every event of each action server response. Under load that was 6-8 % of Rasa's CPU
(py-spy, 3 December 2026, docs/benchmarks.md).

Here the first class of each name in that same order is kept in a dict, built once, on first use (after
Rasa has imported its event classes). A name not in the dict (the legacy "topic", an unknown name, a class
imported later) goes to Rasa's own lookup, so its answers, defaults and errors are unchanged.

Installed when bankbot_channel (credentials.yml) or bankbot_tracker_store (endpoints.yml) is loaded. A
method missing in another Rasa version is left alone and named in a warning, so Rasa still starts.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
_installed = False
_by_name: dict[str, type] | None = None


def _classes_by_name() -> dict[str, type]:
    """Each event name's class as Rasa's lookup would find it: the first in `all_subclasses(Event)`."""
    global _by_name
    if _by_name is None:
        from rasa.shared.core.events import Event
        from rasa.shared.utils.common import all_subclasses

        by_name: dict[str, type] = {}
        for cls in all_subclasses(Event):
            by_name.setdefault(cls.type_name, cls)
        _by_name = by_name
    return _by_name


def install() -> None:
    """Patch once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.shared.core.events import Event

    original = Event.__dict__.get("resolve_by_type")
    if not isinstance(original, staticmethod):
        logger.warning("Event.resolve_by_type not found: events are resolved as Rasa does")
        return
    rasa_lookup = original.__func__

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        """As Rasa's (same class for the same name), from the dict; other names by Rasa's own lookup."""
        found = _classes_by_name().get(type_name) if isinstance(type_name, str) else None
        return found if found is not None else rasa_lookup(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)
