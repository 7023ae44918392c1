"""Query-string dates: a date means whole days in the customer's time zone; `to` is inclusive."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.problems import Problem

EARLIEST = date(1970, 1, 1)
LATEST = date(2200, 1, 1)


def _parse(value: str, name: str) -> date | datetime:
    try:
        if len(value) == 10:
            parsed: date | datetime = date.fromisoformat(value)
        else:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("a time needs an offset")
    except ValueError as exc:
        raise Problem(422, "invalid_date", f"`{name}` must be YYYY-MM-DD or an ISO 8601 time with offset") from exc
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    if not EARLIEST <= day <= LATEST:
        raise Problem(422, "invalid_date", f"`{name}` is out of range")
    return parsed


def window(start: str | None, end: str | None, tz: str) -> tuple[datetime | None, datetime | None]:
    """[start, end) instants for the ledger from the API's inclusive `from`/`to`."""
    zone = ZoneInfo(tz)
    lo = hi = None
    if start is not None:
        parsed = _parse(start, "from")
        lo = parsed if isinstance(parsed, datetime) else datetime.combine(parsed, time(), zone)
    if end is not None:
        parsed = _parse(end, "to")
        hi = parsed if isinstance(parsed, datetime) else datetime.combine(parsed + timedelta(days=1), time(), zone)
    if lo is not None and hi is not None and lo >= hi:
        raise Problem(422, "invalid_period", "`from` must be before `to`")
    return lo, hi
