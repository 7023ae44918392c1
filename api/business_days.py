"""Business days (Monday to Friday) for the bank's service levels: card delivery, bank transfers."""

from __future__ import annotations

from datetime import date, timedelta

MAX_BUSINESS_DAYS = 30  # no service level is longer; bounds the walk below


def add_business_days(*, start: date, days: int) -> date:
    """The date `days` business days after `start`."""
    assert 0 <= days <= MAX_BUSINESS_DAYS, days
    day = start
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day
