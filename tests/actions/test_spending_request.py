"""The words of a spending question alone: follow-ups, periods only the context makes, unknown subjects,
everyday requests that name a shop (actions/understanding/spending_request.py)."""

from __future__ import annotations

import time

import pytest

from actions.understanding.spending_request import (
    asks_about_money,
    follow_up_period_text,
    is_everyday_request,
    is_follow_up,
    unknown_subject,
)

PAST_30 = "in the past 30 days (3 November – 2 December 2026)"


@pytest.mark.parametrize("text", ["and in October?", "what about groceries", "sorry, I meant amazon",
                                  "no, I meant tesco", "and april?", "ok and over the last 90?"])
def test_follow_ups(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize("text", ["how much did I spend on coffee last month", "freeze my card please now"])
def test_whole_questions_are_no_follow_ups(text: str) -> None:
    assert not is_follow_up(text)


@pytest.mark.parametrize(("text", "label", "expected"), [
    ("and april?", None, "in april"),
    ("what about may", None, "in may"),
    ("and over the last 90?", PAST_30, "in the past 90 days"),
    ("and the past 2", "in the past 3 weeks", "in the past 2 weeks"),
    ("and the last 90?", "in October 2026", None),  # no unit to carry: not guessed
    ("and at tesco?", PAST_30, None),
])
def test_periods_only_the_context_makes(text: str, label: str | None, expected: str | None) -> None:
    assert follow_up_period_text(text, label) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("how much did I spend on apples last month", "apples"),
    ("and on apples?", "apples"),
    ("how much did that thing cost me last week", "thing"),
    ("how much did the kids cost me this year", "kids"),
    ("how much did I spend last week", None),
    ("what did it all cost me in May", None),
    ("how much did everything cost me this month", None),
    ("how much did I spend on the weekend", None),
])
def test_unknown_subjects(text: str, expected: str | None) -> None:
    assert unknown_subject(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("what time does tesco close today", True),
    ("book a table for two at wagamama on friday", True),
    ("when does lidl open on sunday", True),
    ("how much did I spend at tesco today", False),
    ("what did the wagamama booking cost me", False),
    ("coffee this year, how bad is it", False),
])
def test_everyday_requests(text: str, expected: bool) -> None:
    assert is_everyday_request(text) is expected


@pytest.mark.parametrize("build", [lambda n: "and " * n, lambda n: "did my " * n + "cost", lambda n: "on a" * n,
                                   lambda n: "sorry, " * n + "i meant"])
def test_bounded_work_on_long_input(build) -> None:  # type: ignore[no-untyped-def]
    text = build(20_000)
    started = time.perf_counter()
    is_follow_up(text), follow_up_period_text(text, PAST_30), unknown_subject(text), is_everyday_request(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("text", "expected"), [
    ("what did Electric Ireland charge me in September", True), ("how much went on coffee", True),
    ("what time does tesco close", False), ("hello there", False)])
def test_money_words(text: str, expected: bool) -> None:
    assert asks_about_money(text) is expected
