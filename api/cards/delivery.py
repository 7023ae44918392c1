"""Card delivery service levels: a new card is posted within two business days and arrives within five more.

These are the bank's promises, so they live here; the assistant only words the dates the core sends.
"""

from __future__ import annotations

from datetime import date, timedelta

POSTED_WITHIN_BUSINESS_DAYS = 2
ARRIVES_WITHIN_BUSINESS_DAYS = 5
MAX_BUSINESS_DAYS = 30  # no promise here is longer; bounds the walk below


def add_business_days(*, start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    assert 0 <= days <= MAX_BUSINESS_DAYS, days
    day = start
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def arrives_by(*, ordered_on: date, posted_on: date | None, delivered: bool) -> date | None:
    """The latest day a card should arrive; None once it has."""
    if delivered:
        return None
    if posted_on is not None:
        return add_business_days(start=posted_on, days=ARRIVES_WITHIN_BUSINESS_DAYS)
    return add_business_days(start=ordered_on, days=POSTED_WITHIN_BUSINESS_DAYS + ARRIVES_WITHIN_BUSINESS_DAYS)
