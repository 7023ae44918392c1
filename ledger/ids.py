"""Identifiers. Clients choose transaction and hold ids (they are the idempotency keys).

Prefer time-ordered UUIDv7 ids (`new_id()`): consecutive inserts then land on the same B-tree pages of
the primary keys instead of random ones, which keeps the hot index pages cached as tables grow.
"""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    assert 0 < millis < 1 << 48
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 used
    value = (millis << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def check_id(value: object, what: str) -> uuid.UUID:
    from ledger.errors import InvalidField

    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidField(f"{what} must be a UUID, got {value!r}")
