"""What every provider object carries, and the small parsers the typed answers share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from api.providers.http import Json


@dataclass(frozen=True, kw_only=True, slots=True)
class ProviderObject:
    """The common fields of docs/providers.md: times are the provider's virtual clock, UTC."""

    id: str
    status: str
    idempotency_key: str | None = None
    reason_code: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def common(data: Json) -> dict[str, Any]:
    """The ProviderObject fields of an answer, as keyword arguments."""
    return {"id": str(data["id"]), "status": str(data["status"]), "idempotency_key": data.get("idempotency_key"),
            "reason_code": data.get("reason_code"), "created_at": timestamp(data.get("created_at")),
            "updated_at": timestamp(data.get("updated_at"))}


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time ("...Z" included, which Python 3.10 does not read) or None."""
    if not value:
        return None
    text = str(value)
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def minor(value: Any) -> int:
    """An amount in minor units: an integer, never a float (a provider sending 10.5 is a bug to surface)."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
        raise ValueError(f"amount in minor units must be an integer, got {type(value).__name__}")
    return int(value)


def optional_minor(value: Any) -> int | None:
    return None if value is None else minor(value)


def decimal(value: Any) -> Decimal:
    """A decimal string (or a JSON number read as Decimal) as Decimal, never through float."""
    if isinstance(value, float):
        raise ValueError("decimal amounts must not arrive as floats")
    return Decimal(str(value))


def mask(number: str | None, *, keep: int = 4) -> str | None:
    """An IBAN or account number with all but its last `keep` characters hidden, for logs and reprs."""
    if not number:
        return number
    compact = "".join(number.split())
    return "*" * max(0, len(compact) - keep) + compact[-keep:]
