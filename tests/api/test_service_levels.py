"""Service levels the core promises: card delivery and transfer arrival, in business days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from api.business_days import add_business_days
from api.cards.delivery import arrives_by
from api.transfers.arrival import Arrival, arrival_of

FRIDAY = date(2026, 11, 27)


def test_business_days_skip_the_weekend() -> None:
    assert add_business_days(start=FRIDAY, days=1) == date(2026, 11, 30)  # Monday
    assert add_business_days(start=FRIDAY, days=5) == date(2026, 12, 4)
    assert add_business_days(start=date(2026, 11, 28), days=1) == date(2026, 11, 30)  # from a Saturday
    assert add_business_days(start=FRIDAY, days=0) == FRIDAY


def test_a_posted_card_arrives_within_five_business_days_of_posting() -> None:
    assert arrives_by(ordered_on=date(2026, 11, 20), posted_on=FRIDAY, delivered=False) == date(2026, 12, 4)


def test_a_card_being_made_is_posted_within_two_then_arrives_within_five() -> None:
    assert arrives_by(ordered_on=FRIDAY, posted_on=None, delivered=False) == date(2026, 12, 8)


def test_a_delivered_card_has_no_promise() -> None:
    assert arrives_by(ordered_on=FRIDAY, posted_on=FRIDAY, delivered=True) is None


def test_the_walk_is_bounded() -> None:
    with pytest.raises(AssertionError):
        add_business_days(start=FRIDAY, days=10_000)


def test_a_transfer_within_the_bank_arrives_at_once() -> None:
    assert arrival_of(within_the_bank=True, now=_cet(FRIDAY, 17)) == Arrival("instant", FRIDAY)


def test_a_bank_transfer_before_the_cut_off_arrives_by_the_next_business_day() -> None:
    assert arrival_of(within_the_bank=False, now=_cet(date(2026, 11, 30), 10)) == \
        Arrival("bank_transfer", date(2026, 12, 1))
    assert arrival_of(within_the_bank=False, now=_cet(FRIDAY, 15, 59)).arrives_by == date(2026, 11, 30)


def test_after_the_cut_off_or_at_a_weekend_it_goes_out_the_next_business_day() -> None:
    assert arrival_of(within_the_bank=False, now=_cet(FRIDAY, 16)).arrives_by == date(2026, 12, 1)
    assert arrival_of(within_the_bank=False, now=_cet(date(2026, 11, 28), 9)).arrives_by == date(2026, 12, 1)
    # 15:30 UTC is 16:30 in Brussels in winter: past the cut-off there.
    assert arrival_of(within_the_bank=False, now=datetime(2026, 11, 30, 15, 30, tzinfo=UTC)).arrives_by == \
        date(2026, 12, 2)


def _cet(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/Brussels"))
