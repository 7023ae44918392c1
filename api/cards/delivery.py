"""Card delivery service levels: a new card is posted within two business days and arrives within five more.

These are the bank's promises, so they live here; the assistant only words the dates the core sends.
"""

from __future__ import annotations

from datetime import date

from api.business_days import add_business_days

POSTED_WITHIN_BUSINESS_DAYS = 2
ARRIVES_WITHIN_BUSINESS_DAYS = 5


def arrives_by(*, ordered_on: date, posted_on: date | None, delivered: bool) -> date | None:
    """The latest day a card should arrive; None once it has."""
    if delivered:
        return None
    if posted_on is not None:
        return add_business_days(start=posted_on, days=ARRIVES_WITHIN_BUSINESS_DAYS)
    return add_business_days(start=ordered_on, days=POSTED_WITHIN_BUSINESS_DAYS + ARRIVES_WITHIN_BUSINESS_DAYS)
