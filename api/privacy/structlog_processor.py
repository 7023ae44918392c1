"""A structlog processor that keeps raw customer text out of logs.

Message-like keys (logfilter.MESSAGE_KEYS: text, body, utterance, ...) are dropped, leaving their
length, at any depth; every other string value, the event included, goes through the regex
redaction of logfilter. With `presidio=True` message-like values are redacted by the full engine
instead of dropped (a few ms per value: fine for a transcript writer, too slow for hot paths).

    structlog.configure(processors=[..., RedactProcessor(), structlog.processors.JSONRenderer()])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from api.privacy.logfilter import MESSAGE_KEYS, redact_text

EventDict = MutableMapping[str, Any]
_MAX_DEPTH = 4


def _drop(value: Any) -> str:
    return f"<dropped {len(value)} chars>" if isinstance(value, str) else "<dropped>"


class RedactProcessor:
    def __init__(self, *, presidio: bool = False, extra_keys: Iterable[str] = ()) -> None:
        self.keys = MESSAGE_KEYS | {k.lower() for k in extra_keys}
        self._full: Callable[[str], str] | None = None
        if presidio:
            from api.privacy.redactor import redact  # imported here: Presidio only when asked for

            self._full = lambda text: redact(text).text

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        for key in list(event_dict):
            event_dict[key] = self._field(key, event_dict[key], 0)
        return event_dict

    def _field(self, key: Any, value: Any, depth: int) -> Any:
        if isinstance(key, str) and key.lower() in self.keys:
            if self._full is not None and isinstance(value, str):
                return self._full(value)
            return _drop(value)
        return self._clean(value, depth)

    def _clean(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return redact_text(value)
        if isinstance(value, int | float | bool | type(None)):
            return value
        if depth >= _MAX_DEPTH:
            return "<nested>"
        if isinstance(value, dict):
            return {k: self._field(k, v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v, depth + 1) for v in value]
        # Other objects are rendered later by str()/repr(): redact that text now.
        return redact_text(str(value))


# The default instance, for structlog.configure(processors=[..., redact_event, ...]).
redact_event = RedactProcessor()
