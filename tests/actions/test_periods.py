"""Period phrases to inclusive local date ranges, at fixed times (no clock), across month, year and zone edges."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from actions.understanding.periods import (
    Period,
    asks_for_period_before,
    find_period_phrase,
    local_today,
    period_before,
    resolve_period,
)

DUBLIN = "Europe/Dublin"
# Sunday 22 November 2026, midday in Dublin.
NOV = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
# Friday 1 January 2027.
NEW_YEAR = datetime(2027, 1, 1, 10, 0, tzinfo=timezone.utc)
# Tuesday 31 March 2026.
END_MARCH = datetime(2026, 3, 31, 9, 0, tzinfo=timezone.utc)
# Tuesday 29 February 2028 (leap day).
LEAP = datetime(2028, 2, 29, 12, 0, tzinfo=timezone.utc)
# Monday 2 March 2026, midday.
EARLY_MARCH = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def span(text: str, now: datetime = NOV, tz: str = DUBLIN) -> tuple[date, date]:
    period = resolve_period(text, now, tz)
    assert period is not None, text
    return period.start, period.end


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("what did I spend today", date(2026, 11, 22), date(2026, 11, 22), "today (22 November 2026)"),
    ("yesterday", date(2026, 11, 21), date(2026, 11, 21), "yesterday (21 November 2026)"),
    ("this week", date(2026, 11, 16), date(2026, 11, 22), "this week (since Monday 16 November 2026)"),
    ("last week", date(2026, 11, 9), date(2026, 11, 15), "last week (9 – 15 November 2026)"),
    ("the week before last", date(2026, 11, 2), date(2026, 11, 8), "the week before last (2 – 8 November 2026)"),
    ("this month", date(2026, 11, 1), date(2026, 11, 22), "this month (since 1 November 2026)"),
    ("how much on coffee last month", date(2026, 10, 1), date(2026, 10, 31), "in October 2026"),
    ("this year", date(2026, 1, 1), date(2026, 11, 22), "this year (since 1 January 2026)"),
    ("last year", date(2025, 1, 1), date(2025, 12, 31), "in 2025"),
    ("in October", date(2026, 10, 1), date(2026, 10, 31), "in October 2026"),
    ("October", date(2026, 10, 1), date(2026, 10, 31), "in October 2026"),
    ("in December", date(2025, 12, 1), date(2025, 12, 31), "in December 2025"),
    ("in November", date(2026, 11, 1), date(2026, 11, 22), "this month (since 1 November 2026)"),
    ("in October 2025", date(2025, 10, 1), date(2025, 10, 31), "in October 2025"),
    ("October last year", date(2025, 10, 1), date(2025, 10, 31), "in October 2025"),
    ("last October", date(2026, 10, 1), date(2026, 10, 31), "in October 2026"),
    ("since Monday", date(2026, 11, 16), date(2026, 11, 22), "since Monday 16 November 2026"),
    ("since last Friday", date(2026, 11, 20), date(2026, 11, 22), "since Friday 20 November 2026"),
    ("since the 1st", date(2026, 11, 1), date(2026, 11, 22), "since 1 November 2026"),
    ("since 1 March", date(2026, 3, 1), date(2026, 11, 22), "since 1 March 2026"),
    ("since March 1st", date(2026, 3, 1), date(2026, 11, 22), "since 1 March 2026"),
    ("since March", date(2026, 3, 1), date(2026, 11, 22), "since 1 March 2026"),
    ("since last month", date(2026, 10, 1), date(2026, 11, 22), "since 1 October 2026"),
    ("past 30 days", date(2026, 10, 24), date(2026, 11, 22), "in the past 30 days (24 October – 22 November 2026)"),
    ("last 30 days", date(2026, 10, 24), date(2026, 11, 22), "in the past 30 days (24 October – 22 November 2026)"),
    ("in the last two weeks", date(2026, 11, 9), date(2026, 11, 22), "in the past 2 weeks (9 – 22 November 2026)"),
    ("over the past thirty days", date(2026, 10, 24), date(2026, 11, 22),
     "in the past 30 days (24 October – 22 November 2026)"),
    ("past 3 months", date(2026, 8, 23), date(2026, 11, 22), "in the past 3 months (23 August – 22 November 2026)"),
    ("the last twelve months", date(2025, 11, 23), date(2026, 11, 22),
     "in the past 12 months (23 November 2025 – 22 November 2026)"),
    ("the past week", date(2026, 11, 16), date(2026, 11, 22), "in the past week (16 – 22 November 2026)"),
    ("in the last month", date(2026, 10, 23), date(2026, 11, 22),
     "in the past month (23 October – 22 November 2026)"),
    ("from 1 March to 15 March", date(2026, 3, 1), date(2026, 3, 15), "between 1 and 15 March 2026"),
    ("from 1 to 15 March", date(2026, 3, 1), date(2026, 3, 15), "between 1 and 15 March 2026"),
    ("between March and May", date(2026, 3, 1), date(2026, 5, 31), "between March and May 2026"),
    ("from December to February", date(2025, 12, 1), date(2026, 2, 28), "between December 2025 and February 2026"),
    ("from 2026-01-01 to 2026-02-15", date(2026, 1, 1), date(2026, 2, 15), "between 1 January and 15 February 2026"),
    ("from 1 October until now", date(2026, 10, 1), date(2026, 11, 22), "since 1 October 2026"),
    ("Q1", date(2026, 1, 1), date(2026, 3, 31), "in Q1 2026 (January – March)"),
    ("the first quarter", date(2026, 1, 1), date(2026, 3, 31), "in Q1 2026 (January – March)"),
    ("q3 last year", date(2025, 7, 1), date(2025, 9, 30), "in Q3 2025 (July – September)"),
    ("last quarter", date(2026, 7, 1), date(2026, 9, 30), "in Q3 2026 (July – September)"),
    ("this quarter", date(2026, 10, 1), date(2026, 11, 22), "this quarter (since 1 October 2026)"),
    ("over the weekend", date(2026, 11, 21), date(2026, 11, 22), "this weekend (21 – 22 November 2026)"),
    ("last weekend", date(2026, 11, 14), date(2026, 11, 15), "last weekend (14 – 15 November 2026)"),
    ("last Friday", date(2026, 11, 20), date(2026, 11, 20), "on Friday 20 November 2026"),
    ("on the 5th", date(2026, 11, 5), date(2026, 11, 5), "on 5 November 2026"),
    ("3 days ago", date(2026, 11, 19), date(2026, 11, 19), "on Thursday 19 November 2026"),
    ("in 2025", date(2025, 1, 1), date(2025, 12, 31), "in 2025"),
    ("payments from October", date(2026, 10, 1), date(2026, 10, 31), "in October 2026"),
    ("year to date", date(2026, 1, 1), date(2026, 11, 22), "this year (since 1 January 2026)"),
])
def test_phrases_in_november(text: str, start: date, end: date, label: str) -> None:
    assert resolve_period(text, NOV, DUBLIN) == Period(start, end, label)


def test_new_year_boundaries() -> None:
    assert span("last month", NEW_YEAR) == (date(2026, 12, 1), date(2026, 12, 31))
    assert span("this month", NEW_YEAR) == (date(2027, 1, 1), date(2027, 1, 1))
    assert span("this year", NEW_YEAR) == (date(2027, 1, 1), date(2027, 1, 1))
    assert span("last year", NEW_YEAR) == (date(2026, 1, 1), date(2026, 12, 31))
    assert span("this week", NEW_YEAR) == (date(2026, 12, 28), date(2027, 1, 1))  # ISO week across the year
    assert span("last week", NEW_YEAR) == (date(2026, 12, 21), date(2026, 12, 27))
    assert span("yesterday", NEW_YEAR) == (date(2026, 12, 31), date(2026, 12, 31))
    assert span("in December", NEW_YEAR) == (date(2026, 12, 1), date(2026, 12, 31))
    assert span("October", NEW_YEAR) == (date(2026, 10, 1), date(2026, 10, 31))
    assert span("past 30 days", NEW_YEAR) == (date(2026, 12, 3), date(2027, 1, 1))
    assert span("since the 31st", NEW_YEAR) == (date(2026, 12, 31), date(2027, 1, 1))
    assert span("since the 1st", NEW_YEAR) == (date(2027, 1, 1), date(2027, 1, 1))
    assert span("last quarter", NEW_YEAR) == (date(2026, 10, 1), date(2026, 12, 31))
    assert span("Q4", NEW_YEAR) == (date(2026, 10, 1), date(2026, 12, 31))
    q1 = resolve_period("Q1", NEW_YEAR, DUBLIN)
    assert q1 == Period(date(2027, 1, 1), date(2027, 1, 1), "this quarter (since 1 January 2027)")


def test_end_of_march_boundaries() -> None:
    assert span("last month", END_MARCH) == (date(2026, 2, 1), date(2026, 2, 28))
    assert span("this month", END_MARCH) == (date(2026, 3, 1), date(2026, 3, 31))
    assert span("in the last month", END_MARCH) == (date(2026, 3, 1), date(2026, 3, 31))
    assert span("October", END_MARCH) == (date(2025, 10, 1), date(2025, 10, 31))
    assert span("in March", END_MARCH) == (date(2026, 3, 1), date(2026, 3, 31))
    assert span("between March and May", END_MARCH) == (date(2025, 3, 1), date(2025, 5, 31))
    assert span("since the 31st", END_MARCH) == (date(2026, 3, 31), date(2026, 3, 31))
    assert span("Q1", END_MARCH) == (date(2026, 1, 1), date(2026, 3, 31))
    assert span("first quarter of last year", END_MARCH) == (date(2025, 1, 1), date(2025, 3, 31))


def test_early_march_month_lookback() -> None:
    # On 2 March "since the 30th" is 30 January: February has no 30th.
    assert span("since the 30th", EARLY_MARCH) == (date(2026, 1, 30), date(2026, 3, 2))
    # Said on a Monday, "since Monday" is the Monday a week ago, and "this week" is just today.
    assert span("since Monday", EARLY_MARCH) == (date(2026, 2, 23), date(2026, 3, 2))
    assert span("this week", EARLY_MARCH) == (date(2026, 3, 2), date(2026, 3, 2))
    assert span("last Monday", EARLY_MARCH) == (date(2026, 2, 23), date(2026, 2, 23))
    # On a weekday "over the weekend" is the weekend just gone.
    assert span("over the weekend", EARLY_MARCH) == (date(2026, 2, 28), date(2026, 3, 1))
    assert span("last weekend", EARLY_MARCH) == (date(2026, 2, 28), date(2026, 3, 1))


def test_leap_day() -> None:
    assert span("this month", LEAP) == (date(2028, 2, 1), date(2028, 2, 29))
    assert span("last month", LEAP) == (date(2028, 1, 1), date(2028, 1, 31))
    assert span("February last year", LEAP) == (date(2027, 2, 1), date(2027, 2, 28))
    assert span("since 29 February", LEAP) == (date(2028, 2, 29), date(2028, 2, 29))
    assert span("the past year", LEAP) == (date(2027, 3, 1), date(2028, 2, 29))
    assert span("past 1 month", LEAP) == (date(2028, 1, 30), date(2028, 2, 29))
    later = datetime(2027, 3, 10, 12, 0, tzinfo=timezone.utc)
    assert span("since 29 February", later) == (date(2024, 2, 29), date(2027, 3, 10))
    assert span("on 29 February", later) == (date(2024, 2, 29), date(2024, 2, 29))


def test_customer_zone_decides_today() -> None:
    # 23:30 UTC on 22 November is already 12:30 on Monday 23 November in Auckland.
    late = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
    assert local_today(late, "Pacific/Auckland") == date(2026, 11, 23)
    assert resolve_period("today", late, "Pacific/Auckland") == Period(
        date(2026, 11, 23), date(2026, 11, 23), "today (23 November 2026)")
    assert span("yesterday", late, "Pacific/Auckland") == (date(2026, 11, 22), date(2026, 11, 22))
    assert span("this week", late, "Pacific/Auckland") == (date(2026, 11, 23), date(2026, 11, 23))
    assert span("today", late, "UTC") == (date(2026, 11, 22), date(2026, 11, 22))
    # 05:00 UTC on 1 December is still 30 November in Los Angeles.
    early = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc)
    assert span("this month", early, "America/Los_Angeles") == (date(2026, 11, 1), date(2026, 11, 30))
    assert span("last month", early, "America/Los_Angeles") == (date(2026, 10, 1), date(2026, 10, 31))
    assert span("last month", early, DUBLIN) == (date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize("now", [NOV, NEW_YEAR, END_MARCH, LEAP, EARLY_MARCH])
@pytest.mark.parametrize("text", ["today", "this week", "this month", "this year", "this quarter", "past 30 days",
                                  "since Monday", "since the 1st", "in November", "Q1", "over the weekend",
                                  "between March and May", "from 1 March to 15 March", "December"])
def test_never_ends_after_today(text: str, now: datetime) -> None:
    period = resolve_period(text, now, DUBLIN)
    assert period is not None
    today = local_today(now, DUBLIN)
    assert period.start <= period.end <= today


@pytest.mark.parametrize("text", [
    "", "how much did I spend on coffee", "what's my balance", "show my last five payments",
    "may I see my savings", "send 50 euros to June", "send it to Jan", "between 10 and 20 euros",
    "card ending 2025", "the first payment", "freeze my card", "transfer 2000 to savings",
])
def test_no_period(text: str) -> None:
    assert resolve_period(text, NOV, DUBLIN) is None
    assert find_period_phrase(text) is None


@pytest.mark.parametrize("text", ["December this year", "in 2030", "from 1 December 2026 to 31 December 2026"])
def test_future_period_is_none(text: str) -> None:
    assert resolve_period(text, NOV, DUBLIN) is None


def test_ambiguous_month_words_need_context() -> None:
    assert span("how much did I spend in May") == (date(2026, 5, 1), date(2026, 5, 31))
    assert span("since June") == (date(2026, 6, 1), date(2026, 11, 22))
    assert span("May 2025") == (date(2025, 5, 1), date(2025, 5, 31))


def test_find_period_phrase() -> None:
    assert find_period_phrase("how much did I spend on coffee since the 1st?") == "since the 1st"
    assert find_period_phrase("groceries October last year") == "October last year"
    assert find_period_phrase("spending in the last two weeks") == "in the last two weeks"


def test_needs_aware_now() -> None:
    with pytest.raises(ValueError):
        resolve_period("today", datetime(2026, 11, 22, 12, 0), DUBLIN)


def test_as_query() -> None:
    period = resolve_period("last month", NOV, DUBLIN)
    assert period is not None
    assert period.as_query() == {"from": "2026-10-01", "to": "2026-10-31"}
    assert period.days == 31


@pytest.mark.parametrize(("text", "before"), [
    ("last month", (date(2026, 9, 1), date(2026, 9, 30))),        # October 2026 (said in November) -> September
    ("in January", (date(2025, 12, 1), date(2025, 12, 31))),      # across the new year
    ("this month", (date(2026, 10, 1), date(2026, 10, 31))),      # a running month -> the whole one before
    ("last week", (date(2026, 11, 2), date(2026, 11, 8))),        # ISO weeks
    ("this year", (date(2025, 1, 1), date(2025, 12, 31))),
    ("yesterday", (date(2026, 11, 20), date(2026, 11, 20))),
    ("in the past 30 days", (date(2026, 9, 24), date(2026, 10, 23))),  # a window of as many days
])
def test_the_period_before(text: str, before: tuple[date, date]) -> None:
    period = resolve_period(text, NOV, DUBLIN)
    assert period is not None
    earlier = period_before(period, local_today(NOV, DUBLIN))
    assert (earlier.start, earlier.end) == before
    assert earlier.end < period.start


def test_months_and_years_ago_are_calendar_periods() -> None:
    assert span("three months ago") == (date(2026, 8, 1), date(2026, 8, 31))
    assert span("a year ago") == (date(2025, 1, 1), date(2025, 12, 31))
    assert asks_for_period_before("and the one before that?") and asks_for_period_before("the month before")
    assert not asks_for_period_before("what about September")
