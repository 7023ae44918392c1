"""Input checks shared by the public functions. They raise the same codes as the SQL functions, so a
bad request is refused before a round trip; the SQL functions check again (they are the boundary)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ledger import limits
from ledger.errors import (
    InvalidAmount,
    InvalidEffectiveAt,
    InvalidField,
    InvalidMetadata,
    LimitExceeded,
    MetadataTooLarge,
)


def check_amount(amount: object, what: str = "amount") -> int:
    """A positive integer number of minor units, at most MAX_AMOUNT (never a float, never a bool)."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidAmount(f"{what} must be an integer number of minor units, got {type(amount).__name__}")
    if not 1 <= amount <= limits.MAX_AMOUNT:
        raise InvalidAmount(f"{what} must be between 1 and {limits.MAX_AMOUNT}, got {amount}")
    return amount


def check_signed_amount(amount: object) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidAmount(f"amount must be an integer number of minor units, got {type(amount).__name__}")
    if amount == 0 or abs(amount) > limits.MAX_AMOUNT:
        raise InvalidAmount(f"a leg's amount must be non-zero and within +/-{limits.MAX_AMOUNT}, got {amount}")
    return amount


def check_text(value: object, what: str, max_len: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidField(f"{what} is required")
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise InvalidField(f"{what} must be a string of 1 to {max_len} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise InvalidField(f"{what} must not contain NUL characters")
    return value


def check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JSON object of at most MAX_METADATA_BYTES as PostgreSQL renders jsonb (", " and ": " separators)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMetadata("metadata must be a JSON object (a dict)")
    try:
        text = json.dumps(dict(metadata), ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        raise InvalidMetadata(f"metadata must be JSON-serialisable: {exc}") from exc
    if "\\u0000" in text:
        raise InvalidMetadata("metadata must not contain NUL characters")
    if len(text.encode()) > limits.MAX_METADATA_BYTES:
        raise MetadataTooLarge(f"metadata is larger than {limits.MAX_METADATA_BYTES} bytes")
    return dict(metadata)


def check_instant(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidField(f"{what} must be a timezone-aware datetime")
    return value


def check_effective_at(value: object) -> datetime | None:
    if value is None:
        return None
    instant = check_instant(value, "effective_at")
    if instant < limits.MIN_EFFECTIVE_AT:
        raise InvalidEffectiveAt(f"effective_at must not be before {limits.MIN_EFFECTIVE_AT.isoformat()}")
    return instant  # "not in the future" is checked against the database clock


def check_page_size(limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise LimitExceeded(f"limit must be between 1 and {limits.MAX_PAGE_SIZE}")
    return limit
