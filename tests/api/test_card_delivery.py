"""Card delivery promises: business days, weekends skipped, nothing promised once delivered."""

from __future__ import annotations

from datetime import date

import pytest

from api.cards.delivery import add_business_days, arrives_by

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
