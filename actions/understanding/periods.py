"""Date periods said in words ("last month", "since Monday", "past 30 days") to inclusive date ranges.

`resolve_period(text, now, tz)` finds the period phrase in a customer's message and resolves it in the
customer's time zone (the local date of `now` in `tz` is "today"). The result is an inclusive range of
local dates plus a label that says the period back to the customer.

Rules (kept deliberately simple and predictable):

- A period never ends after today: "this month" is the 1st to today. A period that lies wholly in the
  future ("December this year" said in November) resolves to None.
- A month or date without a year is the most recent one that has started: in November 2026 "October"
  is October 2026 and "December" December 2025; "1 March" is the last 1 March on or before today.
- "last week" is the previous ISO week (Monday to Sunday); "the last week", "the past week" and
  "past 7 days" are rolling windows that end today. "last month" is the previous calendar month, "in
  the last month" the rolling month ending today. Rolling windows include today: "past 30 days" on
  22 November is 24 October to 22 November.
- A weekday ("since Monday", "on Friday", "last Friday") is its most recent occurrence before today: said
  on a Monday, "since Monday" means since the Monday a week ago.
- "from X" with a day ("from 1 March") means since that day; "from October" / "from last month" means
  in that month, as in "payments from October".
- When several phrases match, the longest wins ("October last year" over "last year").

Labels follow one style so the bot can say "You spent €42.10 {label}.":
calendar periods that are over are named ("in October 2026", "in 2025", "in Q1 2026 (January - March)");
periods still running say where they started ("this month (since 1 November 2026)"); relative words
carry their dates in brackets ("last week (9 - 15 November 2026)", "in the past 30 days (24 October -
22 November 2026)", "yesterday (21 November 2026)"); "since ..." periods give the first day. Ranges in
labels use an en dash with spaces.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from actions.understanding._numbers import NUMBER_WORDS_RE, to_int

__all__ = ["Period", "asks_for_period_before", "find_period_phrase", "local_today", "period_before", "resolve_period"]

MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Period:
    """An inclusive range of local dates, and how to say it back ("in October 2026")."""

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_query(self) -> dict[str, str]:
        """The `from`/`to` query parameters of the core's transaction and insight endpoints."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


# ---------------------------------------------------------------------------------------------------
# vocabulary

_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(MONTH_NAMES[1:], start=1):
    _MONTHS[_name.lower()] = _i
    _MONTHS[_name.lower()[:3]] = _i
_MONTHS["sept"] = 9
# Bare month words that are also names or ordinary words ("may I", "send it to June", "Jan"): only a
# period with a preposition before them ("in May", "since June") or a day or year next to them.
_AMBIGUOUS_MONTHS = {k for k in _MONTHS if len(k) <= 4 and k not in ("july",)} | {"june", "april", "august"}
_MONTH_CONTEXT = {"in", "during", "since", "from", "for", "of", "over", "throughout", "early", "late", "mid",
                  "until", "till", "through", "before", "after", "between", "last", "this"}

_WEEKDAYS: dict[str, int] = {}
for _i, _name in enumerate(WEEKDAY_NAMES):
    _WEEKDAYS[_name.lower()] = _i
    _WEEKDAYS[_name.lower()[:3]] = _i
_WEEKDAYS.update({"tues": 1, "thur": 3, "thurs": 3})

_ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}
for _tens_word, _tens in (("twenty", 20), ("thirty", 30)):
    for _unit_word, _unit in list(_ORDINAL_WORDS.items())[:9]:
        if _tens + _unit <= 31:
            _ORDINAL_WORDS[f"{_tens_word}-{_unit_word}"] = _tens + _unit
            _ORDINAL_WORDS[f"{_tens_word} {_unit_word}"] = _tens + _unit


def _alt(words: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


_MONTH_RE = _alt(_MONTHS) + r"\b"
_WEEKDAY_RE = _alt(_WEEKDAYS) + r"\b"
_FULL_WEEKDAY_RE = _alt(n.lower() for n in WEEKDAY_NAMES) + r"\b"
_ORDWORD_RE = _alt(_ORDINAL_WORDS) + r"\b"
_DAY_RE = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?(?!\d)|{_ORDWORD_RE})"
_ORDINAL_DAY_RE = rf"(?:\d{{1,2}}(?:st|nd|rd|th)\b|{_ORDWORD_RE})"
_YEAR_RE = r"(?:19|20)\d{2}(?!\d)"
# "the first quarter", "the 2nd payment": an ordinal that is not a day of the month.
_NOT_A_DAY = (r"(?!\s+(?:of\s+)?(?:the\s+)?(?:quarter|half|week|weekend|month|year|time|one|payment|transaction|"
              r"transfer|purchase|charge|card|account|day|top[\s-]?up|withdrawal|attempt|item)s?\b)")

_ALL_ANCHOR_KINDS = ("iso", "num", "dm", "md", "my", "od", "wd", "yr", "rel")
_DAY_ANCHOR_KINDS = ("iso", "num", "dm", "md")


def _anchor(p: str, kinds: tuple[str, ...] = _ALL_ANCHOR_KINDS) -> str:
    """A point or span in time, with named groups prefixed by `p` (so one pattern can hold two)."""
    branches = {
        "iso": rf"(?P<{p}iso>\d{{4}}-\d{{2}}-\d{{2}})(?!\d)",
        "num": rf"(?P<{p}nd>\d{{1,2}})[/.](?P<{p}nm>\d{{1,2}})[/.](?P<{p}ny>\d{{4}})(?!\d)",
        "dm": rf"(?:the\s+)?(?P<{p}d1>{_DAY_RE})(?:\s+of)?\s+(?P<{p}m1>{_MONTH_RE})(?:,?\s+(?P<{p}y1>{_YEAR_RE}))?",
        "md": rf"(?P<{p}m2>{_MONTH_RE})\s+(?:the\s+)?(?P<{p}d2>{_DAY_RE})(?:,?\s+(?P<{p}y2>{_YEAR_RE}))?",
        "my": rf"(?P<{p}m3>{_MONTH_RE})(?:\s+(?:(?P<{p}y3>{_YEAR_RE})|(?P<{p}ry3>last|this)\s+year\b))?",
        "od": rf"the\s+(?P<{p}od>{_ORDINAL_DAY_RE}){_NOT_A_DAY}",
        "wd": rf"(?:(?:last|this\s+past)\s+)?(?P<{p}wd>{_WEEKDAY_RE})",
        "yr": rf"(?P<{p}yr>{_YEAR_RE})",
        "rel": rf"(?P<{p}rel>today|yesterday|(?:(?:last|this|the\s+(?:start|beginning)\s+of\s+(?:the|this))\s+"
               rf"(?:week|month|year)))\b",
    }
    return "(?:" + "|".join(branches[k] for k in kinds) + ")"


# ---------------------------------------------------------------------------------------------------
# date arithmetic


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _recent_month_start(month: int, ref: date) -> date:
    """1st of the most recent `month` that has started on or before `ref`."""
    year = ref.year if month <= ref.month else ref.year - 1
    return date(year, month, 1)


def _recent_date(month: int, day: int, ref: date) -> date | None:
    """The most recent day/month on or before `ref` (29 February goes back to a leap year)."""
    if not 1 <= day <= 31 or day > calendar.monthrange(2028, month)[1]:
        return None
    for year in range(ref.year, ref.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= ref:
            return candidate
    return None


def _recent_day_of_month(day: int, ref: date) -> date | None:
    """The most recent `day`th of a month on or before `ref` ("since the 31st" skips short months)."""
    if not 1 <= day <= 31:
        return None
    year, month = ref.year, ref.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= ref:
            return date(year, month, day)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _recent_weekday(weekday: int, ref: date) -> date:
    return ref - timedelta(days=(ref.weekday() - weekday) % 7)


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _quarter_of(d: date) -> int:
    return (d.month - 1) // 3 + 1


def _quarter_span(year: int, quarter: int) -> tuple[date, date]:
    first = 3 * (quarter - 1) + 1
    return date(year, first, 1), _month_end(year, first + 2)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------
# words


def _fmt(d: date, weekday: bool = False) -> str:
    text = f"{d.day} {MONTH_NAMES[d.month]} {d.year}"
    return f"{WEEKDAY_NAMES[d.weekday()]} {text}" if weekday else text


def _fmt_range(a: date, b: date, joiner: str = " – ") -> str:
    if a == b:
        return _fmt(a)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}{joiner}{_fmt(b)}"
    if a.year == b.year:
        return f"{a.day} {MONTH_NAMES[a.month]}{joiner}{_fmt(b)}"
    return f"{_fmt(a)}{joiner}{_fmt(b)}"


@dataclass(frozen=True)
class _Span:
    start: date
    end: date
    kind: str  # day, week, month, quarter, year, weekend
    weekday: bool = False  # said as a weekday ("Monday"): say the weekday back


def _label(span: _Span, today: date) -> str:
    start, end = span.start, min(span.end, today)
    running = span.start <= today <= span.end
    if span.kind == "day":
        if start == today:
            return f"today ({_fmt(start)})"
        if start == today - timedelta(days=1):
            return f"yesterday ({_fmt(start)})"
        return f"on {_fmt(start, weekday=span.weekday)}"
    if span.kind == "week":
        weeks_back = (_week_start(today) - span.start).days // 7
        if weeks_back == 0:
            return f"this week (since {_fmt(start, weekday=True)})"
        if weeks_back == 1:
            return f"last week ({_fmt_range(start, end)})"
        if weeks_back == 2:
            return f"the week before last ({_fmt_range(start, end)})"
        return f"in the week of {_fmt_range(start, end)}"
    if span.kind == "month":
        if running:
            return f"this month (since {_fmt(start)})"
        return f"in {MONTH_NAMES[start.month]} {start.year}"
    if span.kind == "quarter":
        if running:
            return f"this quarter (since {_fmt(start)})"
        q = _quarter_of(start)
        return f"in Q{q} {start.year} ({MONTH_NAMES[start.month]} – {MONTH_NAMES[span.end.month]})"
    if span.kind == "year":
        if running:
            return f"this year (since {_fmt(start)})"
        return f"in {start.year}"
    if span.kind == "weekend":
        if running:
            return f"this weekend ({_fmt_range(start, end)})"
        return f"last weekend ({_fmt_range(start, end)})"
    return f"between {_fmt_range(start, end, ' and ')}"


class _Future:
    """The customer named a period that has not started yet: no period, and no other reading."""


_FUTURE = _Future()
_Result = Period | _Future | None


def _from_span(span: _Span | None, today: date) -> _Result:
    if span is None:
        return None
    if span.start > today:
        return _FUTURE
    return Period(span.start, min(span.end, today), _label(span, today))


# ---------------------------------------------------------------------------------------------------
# anchors: the "X" in "since X", "from X to Y", "between X and Y"


def _day_number(token: str) -> int | None:
    token = token.lower().strip()
    if token in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[token]
    digits = re.match(r"\d+", token)
    return int(digits.group()) if digits else None


def _relative_span(word: str, today: date) -> _Span | None:
    word = re.sub(r"\s+", " ", word.lower())
    if word == "today":
        return _Span(today, today, "day")
    if word == "yesterday":
        d = today - timedelta(days=1)
        return _Span(d, d, "day")
    unit = word.rsplit(" ", 1)[-1]
    last = word.startswith("last ")
    if unit == "week":
        start = _week_start(today) - timedelta(days=7 if last else 0)
        return _Span(start, start + timedelta(days=6), "week")
    if unit == "month":
        start = _add_months(today.replace(day=1), -1 if last else 0)
        return _Span(start, _month_end(start.year, start.month), "month")
    year = today.year - 1 if last else today.year
    return _Span(date(year, 1, 1), date(year, 12, 31), "year")


def _anchor_span(m: re.Match[str], p: str, ref: date, today: date) -> _Span | None:
    def g(key: str) -> str | None:
        return m.groupdict().get(p + key)

    if g("iso"):
        try:
            d = date.fromisoformat(str(g("iso")))
        except ValueError:
            return None
        return _Span(d, d, "day")
    if g("nd"):
        d = _safe_date(int(str(g("ny"))), int(str(g("nm"))), int(str(g("nd"))))  # day/month/year, as in Europe
        return _Span(d, d, "day") if d else None
    for d_key, m_key, y_key in (("d1", "m1", "y1"), ("d2", "m2", "y2")):
        if g(d_key):
            day = _day_number(str(g(d_key)))
            month = _MONTHS[str(g(m_key)).lower()]
            if day is None:
                return None
            year = g(y_key)
            d = _safe_date(int(year), month, day) if year else _recent_date(month, day, ref)
            return _Span(d, d, "day") if d else None
    if g("m3"):
        month = _MONTHS[str(g("m3")).lower()]
        if g("y3"):
            year = int(str(g("y3")))
        elif g("ry3"):
            year = today.year - 1 if str(g("ry3")).lower() == "last" else today.year
        else:
            year = _recent_month_start(month, ref).year
        return _Span(date(year, month, 1), _month_end(year, month), "month")
    if g("od"):
        day = _day_number(str(g("od")))
        d = _recent_day_of_month(day, ref) if day else None
        return _Span(d, d, "day") if d else None
    if g("wd"):
        d = _recent_weekday(_WEEKDAYS[str(g("wd")).lower()], ref)
        return _Span(d, d, "day", weekday=True)
    if g("yr"):
        year = int(str(g("yr")))
        return _Span(date(year, 1, 1), date(year, 12, 31), "year")
    if g("rel"):
        word = str(g("rel")).lower()
        word = re.sub(r"the\s+(?:start|beginning)\s+of\s+(?:the|this)", "this", word)
        return _relative_span(word, today)
    return None


# ---------------------------------------------------------------------------------------------------
# matchers, tried all at once; the longest match wins, then the lowest priority number


_PREP = r"(?:(?:in|over|during|for|within|from)\s+)?"
_COUNT_RE = rf"(?P<n>\d{{1,4}}|(?:a\s+)?couple(?:\s+of)?|{NUMBER_WORDS_RE})"
_RANGE_SEP = r"\s*(?:to|and|until|till|through|thru|-|–|—)\s*"


def _range(m: re.Match[str], today: date) -> _Result:
    if m.group("now"):
        end_span: _Span | None = _Span(today, today, "day")
    else:
        end_span = _anchor_span(m, "b_", today, today)
    if end_span is None:
        return None
    if end_span.start > today:
        return _FUTURE
    start_span = _anchor_span(m, "a_", end_span.start, today)
    if start_span is None:
        return None
    start, end = start_span.start, min(end_span.end, today)
    if start > end:
        return None
    return _between(start, end, end_span.end >= today, start_span, end_span, today)


def _between(start: date, end: date, to_today: bool, a: _Span | None, b: _Span | None, today: date) -> Period:
    if to_today:
        return Period(start, end, f"since {_fmt(start, weekday=bool(a and a.weekday))}")
    if start == end:
        return Period(start, end, f"on {_fmt(start)}")
    whole_months = (start.day == 1 and end == _month_end(end.year, end.month)
                    and a is not None and a.kind in ("month", "year") and b is not None and b.kind in ("month", "year"))
    if whole_months:
        first = MONTH_NAMES[start.month] + ("" if start.year == end.year else f" {start.year}")
        return Period(start, end, f"between {first} and {MONTH_NAMES[end.month]} {end.year}")
    return Period(start, end, f"between {_fmt_range(start, end, ' and ')}")


def _range_days(m: re.Match[str], today: date) -> _Result:
    """'from 1 to 15 March', 'between the 3rd and the 10th of May 2026'."""
    first = _day_number(m.group("sd"))
    last = _day_number(m.group("ed"))
    if first is None or last is None:
        return None
    if m.group("em"):
        month = _MONTHS[m.group("em").lower()]
        end = _safe_date(int(m.group("ey")), month, last) if m.group("ey") else _recent_date(month, last, today)
    else:
        if not (re.search(r"[a-z]", m.group("sd"), re.I) and re.search(r"[a-z]", m.group("ed"), re.I)):
            return None  # "between 1 and 15" is as likely an amount as a date
        end = _recent_day_of_month(last, today)
    if end is None:
        return None
    if end > today:
        return _FUTURE
    start = _safe_date(end.year, end.month, first)
    if start is None or start > end:
        return None
    return _between(start, end, end == today, None, None, today)


def _since(m: re.Match[str], today: date) -> _Result:
    span = _anchor_span(m, "a_", today, today)
    if span is None:
        return None
    keyword = m.group("kw").lower()
    if keyword == "from" and (span.kind != "day" or span.weekday):
        # "payments from October", "from last week", "from Monday": that period itself.
        if span.weekday and span.start == today:
            span = _Span(span.start - timedelta(days=7), span.start - timedelta(days=7), "day", weekday=True)
        return _from_span(span, today)
    start = span.start
    if span.weekday and start == today:
        start -= timedelta(days=7)
    if start > today:
        return _FUTURE
    return Period(start, today, f"since {_fmt(start, weekday=span.weekday)}")


def _past_n(m: re.Match[str], today: date) -> _Result:
    raw = m.group("n").lower()
    n = 2 if "couple" in raw else to_int(raw)
    if n is None or n < 1:
        return None
    return _rolling(n, m.group("u").lower().rstrip("s"), today)


def _rolling(n: int, unit: str, today: date) -> _Result:
    try:
        if unit == "day":
            start = today - timedelta(days=n - 1)
        elif unit == "week":
            start = today - timedelta(days=7 * n - 1)
        elif unit == "fortnight":
            start = today - timedelta(days=14 * n - 1)
        elif unit == "month":
            start = _add_months(today, -n) + timedelta(days=1)
        else:
            start = _add_months(today, -12 * n) + timedelta(days=1)
    except (OverflowError, ValueError):
        return None
    words = f"{n} {unit}s" if n > 1 else unit
    return Period(start, today, f"in the past {words} ({_fmt_range(start, today)})")


def _rolling_one(m: re.Match[str], today: date) -> _Result:
    return _rolling(1, m.group("u").lower(), today)


def _ago(m: re.Match[str], today: date) -> _Result:
    raw = m.group("n").lower()
    n = 1 if raw in ("a", "an") else to_int(raw)
    if n is None or n < 1:
        return None
    days = n * (7 if m.group("u").lower().startswith("week") else 1)
    try:
        d = today - timedelta(days=days)
    except OverflowError:
        return None
    return _from_span(_Span(d, d, "day", weekday=True), today)


def _months_ago(m: re.Match[str], today: date) -> _Result:
    """ "three months ago": the calendar month three before this one; "a year ago": last calendar year."""
    raw = m.group("n").lower()
    n = 1 if raw in ("a", "an") else to_int(raw)
    if n is None or not 1 <= n <= 120:
        return None
    if m.group("u").lower().startswith("year"):
        return _from_span(_Span(date(today.year - n, 1, 1), date(today.year - n, 12, 31), "year"), today)
    first = _add_months(today.replace(day=1), -n)
    return _from_span(_Span(first, _month_end(first.year, first.month), "month"), today)


def _relative(m: re.Match[str], today: date) -> _Result:
    kind = m.lastgroup
    if kind == "wq" or kind == "we":
        return _weekend(m, today)
    if kind == "dby":
        d = today - timedelta(days=2)
        return _from_span(_Span(d, d, "day"), today)
    if kind == "wbl":
        start = _week_start(today) - timedelta(days=14)
        return _from_span(_Span(start, start + timedelta(days=6), "week"), today)
    if kind == "mbl":
        start = _add_months(today.replace(day=1), -2)
        return _from_span(_Span(start, _month_end(start.year, start.month), "month"), today)
    if kind == "ybl":
        year = today.year - 2
        return _from_span(_Span(date(year, 1, 1), date(year, 12, 31), "year"), today)
    if kind in ("tq", "lq"):
        q, year = _quarter_of(today), today.year
        if kind == "lq":
            q, year = (q - 1, year) if q > 1 else (4, year - 1)
        start, end = _quarter_span(year, q)
        return _from_span(_Span(start, end, "quarter"), today)
    words = {"today": "today", "yday": "yesterday", "tw": "this week", "lw": "last week", "tm": "this month",
             "lm": "last month", "ty": "this year", "ly": "last year"}
    return _from_span(_relative_span(words[str(kind)], today), today)


def _weekend(m: re.Match[str], today: date) -> _Result:
    qualifier = (m.group("wq") or "").lower()
    weekday = today.weekday()
    current_saturday = today - timedelta(days=weekday - 5) if weekday >= 5 else None
    last_saturday = today - timedelta(days=weekday + 2) if weekday < 5 else today - timedelta(days=weekday - 5 + 7)
    if qualifier in ("last", "past", "previous") or current_saturday is None:
        saturday = last_saturday
    else:
        saturday = current_saturday
    return _from_span(_Span(saturday, saturday + timedelta(days=1), "weekend"), today)


_QUARTER_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
                  "last": 4, "final": 4}


def _quarter(m: re.Match[str], today: date) -> _Result:
    if m.group("qn"):
        q = int(m.group("qn")[1])
    else:
        word = m.group("qw").lower()
        if word in ("last", "final") and not (m.group("qy") or m.group("qr")):
            return None  # "last quarter" is the previous quarter: see _relative
        q = _QUARTER_WORDS[word]
    if m.group("qy"):
        year = int(m.group("qy"))
    elif m.group("qr"):
        year = today.year - 1 if m.group("qr").lower() == "last" else today.year
    else:
        year = today.year if _quarter_span(today.year, q)[0] <= today else today.year - 1
    start, end = _quarter_span(year, q)
    return _from_span(_Span(start, end, "quarter"), today)


def _single_day(m: re.Match[str], today: date) -> _Result:
    return _from_span(_anchor_span(m, "s_", today, today) or _anchor_span(m, "o_", today, today), today)


def _weekday(m: re.Match[str], today: date) -> _Result:
    d = _recent_weekday(_WEEKDAYS[m.group("wd").lower()], today)
    if d == today:
        d -= timedelta(days=7)
    return _from_span(_Span(d, d, "day", weekday=True), today)


def _month(m: re.Match[str], today: date) -> _Result:
    token = m.group("mon").lower()
    month = _MONTHS[token]
    qualifier = (m.group("mq") or "").lower()
    if m.group("my"):
        year = int(m.group("my"))
    elif m.group("mr"):
        year = today.year - 1 if m.group("mr").lower() == "last" else today.year
    elif qualifier == "last":
        year = today.year if month < today.month else today.year - 1
    elif qualifier == "this":
        year = today.year
    else:
        year = _recent_month_start(month, today).year
    return _from_span(_Span(date(year, month, 1), _month_end(year, month), "month"), today)


def _month_ok(m: re.Match[str], text: str) -> bool:
    """A bare "may"/"june"/"jan" is a period only after a preposition ("in May") or with a year."""
    if m.group("mq") or m.group("my") or m.group("mr"):
        return True
    if m.group("mon").lower() not in _AMBIGUOUS_MONTHS:
        return True
    before = re.findall(r"[a-z]+", text[: m.start()].lower())
    return bool(before) and before[-1] in _MONTH_CONTEXT


def _year(m: re.Match[str], today: date) -> _Result:
    year = int(m.group("y"))
    return _from_span(_Span(date(year, 1, 1), date(year, 12, 31), "year"), today)


@dataclass(frozen=True)
class _Matcher:
    pattern: re.Pattern[str]
    resolve: Callable[[re.Match[str], date], _Result]
    check: Callable[[re.Match[str], str], bool] | None = None


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_END_ANCHOR = rf"(?:{_anchor('b_')}|(?P<now>now|today|date|the\s+present|present))"

_MATCHERS: tuple[_Matcher, ...] = (
    _Matcher(_compile(rf"\b(?:from|between)\s+{_anchor('a_')}{_RANGE_SEP}{_END_ANCHOR}"), _range),
    _Matcher(_compile(
        rf"\b(?:from|between)\s+(?:the\s+)?(?P<sd>{_DAY_RE}){_RANGE_SEP}(?:the\s+)?(?P<ed>{_DAY_RE})"
        rf"(?:(?:\s+of)?\s+(?P<em>{_MONTH_RE})(?:,?\s+(?P<ey>{_YEAR_RE}))?)?"), _range_days),
    _Matcher(_compile(rf"\b(?P<kw>since|from|starting(?:\s+(?:from|on))?|beginning)\s+{_anchor('a_')}"), _since),
    _Matcher(_compile(rf"\b{_PREP}(?:the\s+)?(?:past|last|previous|recent)\s+{_COUNT_RE}\s+"
                      r"(?P<u>days?|weeks?|fortnights?|months?|years?)\b"), _past_n),
    _Matcher(_compile(rf"\b{_PREP}(?:(?:the\s+)?past|the\s+last|(?:the\s+)?last(?=\s+fortnight))\s+"
                      r"(?P<u>week|fortnight|month|year)\b"), _rolling_one),
    _Matcher(_compile(rf"\b(?P<n>\d{{1,3}}|an?|{NUMBER_WORDS_RE})\s+(?P<u>days?|weeks?)\s+ago\b"), _ago),
    _Matcher(_compile(rf"\b(?P<n>\d{{1,2}}|an?|{NUMBER_WORDS_RE})\s+(?P<u>months?|years?)\s+ago\b"), _months_ago),
    _Matcher(_compile(
        rf"\b(?:(?P<qn>q[1-4])|(?:the\s+)?(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th|last|final)\s+quarter)"
        rf"(?:\s+(?:of\s+)?(?:(?P<qy>{_YEAR_RE})|(?P<qr>last|this)\s+year\b))?"), _quarter),
    _Matcher(_compile(rf"\b(?:on\s+)?{_anchor('s_', _DAY_ANCHOR_KINDS)}|\bon\s+{_anchor('o_', ('od',))}"),
             _single_day),
    _Matcher(_compile(rf"\b(?:(?:on|last|this\s+past|past)\s+)?(?P<wd>{_FULL_WEEKDAY_RE})(?!s\b)"), _weekday),
    _Matcher(_compile(rf"\b(?:(?P<mq>last|this)\s+)?(?P<mon>{_MONTH_RE})"
                      rf"(?:\s+(?:(?P<my>{_YEAR_RE})|(?P<mr>last|this)\s+year\b))?"), _month, _month_ok),
    _Matcher(_compile(
        r"\b(?:(?P<dby>(?:the\s+)?day\s+before\s+yesterday)"
        r"|(?P<today>(?:so\s+far\s+)?today|tonight|this\s+(?:morning|afternoon|evening))"
        r"|(?P<yday>yesterday|last\s+night)"
        r"|(?P<wbl>(?:the\s+)?week\s+before\s+last)"
        r"|(?P<tw>(?:(?:the\s+)?current|(?:so\s+far\s+)?this)\s+week|week\s+to\s+date|wtd)"
        r"|(?P<lw>(?:last|previous|the\s+previous|prior)\s+week)"
        r"|(?P<mbl>(?:the\s+)?month\s+before\s+last)"
        r"|(?P<tm>(?:(?:the\s+)?current|(?:so\s+far\s+)?this)\s+month|month\s+to\s+date|mtd)"
        r"|(?P<lm>(?:last|previous|the\s+previous|prior)\s+month)"
        r"|(?P<ybl>(?:the\s+)?year\s+before\s+last)"
        r"|(?P<ty>(?:(?:the\s+)?current|(?:so\s+far\s+)?this)\s+(?:calendar\s+)?year|year\s+to\s+date|ytd)"
        r"|(?P<ly>(?:last|previous|the\s+previous|prior)\s+(?:calendar\s+)?year)"
        r"|(?P<tq>(?:(?:the\s+)?current|this)\s+quarter|quarter\s+to\s+date|qtd)"
        r"|(?P<lq>(?:last|previous|the\s+previous|prior)\s+quarter)"
        r"|(?P<we>(?:(?:over|at|on|during|for)\s+)?(?:the\s+)?(?:(?P<wq>last|this|past|previous)\s+)?weekend))\b"),
        _relative),
    _Matcher(_compile(rf"\b(?:in|during|for|of|throughout|over|year|the\s+year)\s+(?P<y>{_YEAR_RE})"
                      r"(?!\s*(?:€|\$|£|eur|euros?|usd|dollars?|gbp|pounds?|quid|bucks)\b)"), _year),
)


def _candidates(text: str) -> list[tuple[re.Match[str], _Matcher]]:
    found: list[tuple[int, int, int, re.Match[str], _Matcher]] = []
    for priority, matcher in enumerate(_MATCHERS):
        for m in matcher.pattern.finditer(text):
            if matcher.check is None or matcher.check(m, text):
                found.append((-(m.end() - m.start()), priority, m.start(), m, matcher))
    found.sort(key=lambda c: c[:3])
    return [(m, matcher) for *_, m, matcher in found]


# ---------------------------------------------------------------------------------------------------
# public API


def local_today(now: datetime, tz: str) -> date:
    """The calendar date of `now` in the customer's zone (23 November in Auckland at 23:30Z on 22 November)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(tz)).date()


def resolve_period(text: str, now: datetime, tz: str) -> Period | None:
    """The period the text mentions, as an inclusive range of dates in `tz`; None when it names none.

    `now` must be timezone-aware; `tz` is an IANA zone name (ZoneInfoNotFoundError if unknown).
    """
    today = local_today(now, tz)
    if not text:
        return None
    for m, matcher in _candidates(text):
        result = matcher.resolve(m, today)
        if isinstance(result, _Future):
            return None
        if result is not None:
            return result
    return None


def find_period_phrase(text: str) -> str | None:
    """The words of the period phrase in the text ("since the 1st"), or None; no clock involved."""
    if not text:
        return None
    reference = date(2099, 12, 31)
    for m, matcher in _candidates(text):
        if isinstance(matcher.resolve(m, reference), Period):
            return m.group().strip()
    return None


_BEFORE_THAT = re.compile(r"\b(?:before\s+(?:that|it|this)|(?:the\s+)?(?:one|month|week|year|day)\s+before|"
                          r"previous\s+(?:one|month|week|year)|prior\s+(?:one|month|week|year))\b", re.I)


def asks_for_period_before(text: str) -> bool:
    """ "and the one before that?", "the month before", "the previous one": the period before the last one."""
    return bool(text) and _BEFORE_THAT.search(text) is not None


def period_before(period: Period, today: date) -> Period:
    """The period of the same shape just before `period`: the calendar month, ISO week or year before
    a whole one (or one still running), else the window of as many days that ends the day before."""
    start, end = period.start, period.end
    if start == end:
        span = _Span(start - timedelta(days=1), start - timedelta(days=1), "day")
    elif start.day == 1 and (start.year, start.month) == (end.year, end.month) \
            and end in (_month_end(start.year, start.month), today):
        first = _add_months(start, -1)
        span = _Span(first, _month_end(first.year, first.month), "month")
    elif ((start.month, start.day) == (1, 1) and end.year == start.year and (end.month, end.day) == (12, 31)) or \
            ((start.month, start.day) == (1, 1) and end == today and end.year == start.year and end.month > 1):
        span = _Span(date(start.year - 1, 1, 1), date(start.year - 1, 12, 31), "year")
    elif start.weekday() == 0 and (end - start).days <= 6 and _week_start(end) == start:
        span = _Span(start - timedelta(days=7), start - timedelta(days=1), "week")
    else:
        days = (end - start).days + 1
        return Period(start - timedelta(days=days), start - timedelta(days=1),
                      f"between {_fmt_range(start - timedelta(days=days), start - timedelta(days=1), ' and ')}")
    return Period(span.start, span.end, _label(span, today))
