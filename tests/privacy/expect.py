"""Assertions the privacy tests share."""

from __future__ import annotations

from api.privacy import redact


def assert_covered(text: str, value: str, entity: str | None = None) -> None:
    """Every letter and digit of `value` (its first occurrence in `text`) lies in a redacted span, and, when `entity`
    is given, a span of that type overlaps it."""
    start = text.index(value)
    entities = redact(text).entities
    for i in range(start, start + len(value)):
        if text[i].isalnum():
            assert any(e.start <= i < e.end for e in entities), (text[i], redact(text).text)
    if entity is not None:
        assert any(e.type == entity and e.start < start + len(value) and e.end > start for e in entities), entities
