"""Money said in words ("fifty euros", "€1.234,56", "a hundred quid", "1.5k") to an exact Decimal amount.

`parse_amount(text, default_currency)` returns Money(amount, currency) or None. Amounts are always
`Decimal`, never float. The currency is the ISO 4217 code the customer said ("quid" -> GBP, "bucks" -> USD,
"$" -> USD); without one it is `default_currency` (which may be None: the bot then asks). A currency word
that names several currencies ("kr", "krone" without "Danish"/"Norwegian") gives currency None whatever
the default, so the bot asks rather than guesses.

Numbers: "1,234.56" and "1.234,56" (the last separator is the decimal one when both appear); a single
separator followed by exactly three digits groups thousands ("1,500" and "1.500" are 1500), otherwise
it is the decimal point ("12,50" is 12.50), as it always is before a multiplier: "1.5k", "1.255k" and
"2 grand" are thousands. Number words up to the
millions ("one hundred and twenty", "twenty-five", "a hundred").

Not amounts, so None: negative amounts ("-50", "minus 20 euros"), zero, ordinals and dates ("on the 5th",
"5 March", "2026-03-01"), card and account digits ("ending 4242", "card 4821"), years ("in 2025"), counts
and durations ("last 5 payments", "30 days", "3 times"), times ("10:30") and percentages.
When several amounts appear, the first one with a currency wins, else the first bare number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice

from actions.understanding._numbers import NUMBER_WORDS_RE, words_to_int

__all__ = ["Money", "currency_exponent", "format_for_api", "parse_amount"]


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "UGX": 0, "XOF": 0, "XAF": 0,
              "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency: JPY 0, BHD/KWD 3, most others 2."""
    return _EXPONENTS.get(currency.upper(), 2)


# Codes recognised in any case ("50 eur") and codes that are also words or names, recognised in capitals
# only ("Ron" and "try" are not currencies; "RON" and "TRY" are).
_CODES_ANY_CASE = {"EUR", "GBP", "USD", "CHF", "PLN", "SEK", "NOK", "DKK", "JPY", "CZK", "HUF", "BGN", "NZD",
                   "AUD", "HKD", "SGD", "ZAR", "INR", "CNY", "BHD", "KWD", "ISK", "MXN", "BRL"}
_CODES_UPPER_ONLY = {"RON", "TRY", "CAD"}
_SYMBOLS = {"€": "EUR", "£": "GBP", "us$": "USD", "$": "USD", "¥": "JPY", "zł": "PLN", "chf": "CHF"}
_AMBIGUOUS = "?"  # a currency word that names several currencies

_WORDS: dict[str, str] = {
    "euro": "EUR", "euros": "EUR",
    "pound": "GBP", "pounds": "GBP", "quid": "GBP", "sterling": "GBP", "pounds sterling": "GBP",
    "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
    "franc": "CHF", "francs": "CHF",
    "zloty": "PLN", "zlotys": "PLN", "zloties": "PLN", "złoty": "PLN", "złotys": "PLN", "zlotych": "PLN",
    "złotych": "PLN",
    "krona": "SEK", "kronor": "SEK", "kronas": "SEK",
    "krone": _AMBIGUOUS, "kroner": _AMBIGUOUS, "kr": _AMBIGUOUS,
    "yen": "JPY",
}
_ADJECTIVES: dict[tuple[str, str], str] = {
    ("us", "USD"): "USD", ("american", "USD"): "USD", ("canadian", "USD"): "CAD", ("australian", "USD"): "AUD",
    ("aussie", "USD"): "AUD", ("hong kong", "USD"): "HKD", ("singapore", "USD"): "SGD",
    ("new zealand", "USD"): "NZD", ("swiss", "CHF"): "CHF", ("swedish", "SEK"): "SEK",
    ("norwegian", _AMBIGUOUS): "NOK", ("danish", _AMBIGUOUS): "DKK", ("british", "GBP"): "GBP",
    ("japanese", "JPY"): "JPY", ("polish", "PLN"): "PLN",
}
_ADJ_RE = r"(?:(?P<adj>us|american|canadian|australian|aussie|hong\s+kong|singapore|new\s+zealand|swiss|swedish|" \
          r"norwegian|danish|british|japanese|polish)\s+)?"


def _alt(words: Iterable[str]) -> str:
    items = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) for w in items) + ")"


_CODE_RE = rf"(?:(?i:{_alt(_CODES_ANY_CASE)})|(?-i:{_alt(_CODES_UPPER_ONLY)}))(?![a-zA-Z])"
_SYMBOL_RE = rf"(?i:{_alt(_SYMBOLS)})"
_WORD_RE = rf"(?i:{_alt(_WORDS)})\b"
_MINOR_RE = r"(?i:(?P<minor>cents?|c|pence|p))\b"

# What may follow a number: a multiplier, then a currency (or a minor unit).
# "\s*(?!\s)": no alternative starts with a space, so a run of spaces is not given back one at a time.
_AFTER_RE = re.compile(
    rf"(?P<mult>\s?k\b|\s*(?!\s)(?:grand|thousand|million)\b|\s*(?!\s)hundred\b)?"
    rf"(?:\s*(?!\s)(?P<sym>{_SYMBOL_RE})|\s*(?!\s)(?P<code>{_CODE_RE})|\s*(?!\s){_ADJ_RE}(?P<word>{_WORD_RE})"
    rf"|\s*(?!\s)(?P<minorw>{_MINOR_RE}))?",
    re.IGNORECASE,
)
# What may precede a number: a currency symbol or code, and perhaps a minus sign.
_BEFORE_RE = re.compile(
    rf"(?P<sign>-|−|(?i:\bminus|\bnegative)\s+)?(?P<cur>{_SYMBOL_RE}|{_CODE_RE})\s*(?P<sign2>-|−)?\s*$")
_MINUS_WORD_RE = re.compile(r"\b(?:minus|negative)\s+$", re.IGNORECASE)

_SCALED_RE = re.compile(r"(?<!\s)(?:\s?k\b|\s*(?:grand|thousand|million)\b)", re.IGNORECASE)  # at a number's end
_DIGITS_RE = re.compile(r"(?<![\d.,])\d(?:[\d.,]*\d)?")
_WORDS_NUM_RE = re.compile(NUMBER_WORDS_RE, re.IGNORECASE)

_MONTH_WORDS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|" \
               r"july|august|september|october|november|december)\b"
_NOT_AMOUNT_AFTER = re.compile(  # matched at a number's end: "(?<!\s)" makes a scan linear, changes no match there
    r"(?<!\s)(?:(?:st|nd|rd|th)\b|\s*(?:of\s+)?" + _MONTH_WORDS +
    r"|\s*(?:days?|weeks?|fortnights?|months?|years?|yrs?|hours?|hrs?|mins?|minutes?|seconds?|am|pm|percent|"
    r"per\s*cent|times|x\b|o'?clock|payments?|transactions?|transfers?|purchases?|items?|digits?|people|persons|"
    r"tries|attempts|cards?|accounts?|top[\s-]?ups?|withdrawals?)\b"
    r"|\s*(?:%|:\d)|[-/]\d)",
    re.IGNORECASE,
)
_NOT_AMOUNT_BEFORE = re.compile(
    r"(?:\b(?:ending|ends|ended)(?:\s+(?:in|with))?|\bcard(?:\s+(?:number|no\.?))?|\bnumber|\bno\.|\bpin|\bcode|"
    r"\blast\s+(?:four|4)(?:\s+digits)?(?:\s+(?:is|are|of))?|\baccount(?:\s+(?:number|no\.?))?|\biban|#|\*+|•+|"
    r"\b(?:last|first|top|past|previous|recent|next)|\d\s*[-/:]|\bthe|(?<!\bmake\s)\bthat|\bthis|\bwhich|\bevery)\s*$"
    r"|" + _MONTH_WORDS + r"\s*$",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(r"\b(?:in|since|during|of|year|from|until|till|before|after|by|back\s+in|for)\s*$",
                          re.IGNORECASE)


def _parse_digits(token: str, scaled: bool = False) -> Decimal | None:
    """'1,234.56' / '1.234,56' / '12,50' / '1,500' / '1.5' to Decimal; None if the grouping is inconsistent.

    `scaled`: a multiplier follows ("1.255k"), so a lone separator is always the decimal point.
    """
    dots, commas = token.count("."), token.count(",")
    integer, fraction = token, ""
    if dots and commas:
        decimal_sep = "." if token.rfind(".") > token.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        if token.count(decimal_sep) != 1 or token.rfind(group_sep) > token.rfind(decimal_sep):
            return None
        integer, fraction = token.split(decimal_sep)
        groups = integer.split(group_sep)
    elif dots + commas == 0:
        groups = [token]
    else:
        sep = "." if dots else ","
        parts = token.split(sep)
        if len(parts) == 2 and (scaled or not (len(parts[1]) == 3 and 1 <= len(parts[0]) <= 3 and parts[0] != "0")):
            integer, fraction = parts
            groups = [integer]
        else:
            groups = parts
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return None
    if not all(g.isdigit() for g in groups) or (fraction and not fraction.isdigit()):
        return None
    try:
        return Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:
        return None


@dataclass
class _Candidate:
    start: int
    value: Decimal
    currency: str | None  # ISO code, _AMBIGUOUS, or None
    negative: bool


def _currency_from_after(m: re.Match[str]) -> str | None:
    if m.group("sym"):
        return _SYMBOLS[m.group("sym").lower()]
    if m.group("code"):
        return m.group("code").upper()
    if m.group("word"):
        base = _WORDS[m.group("word").lower()]
        adjective = re.sub(r"\s+", " ", (m.group("adj") or "").lower())
        return _ADJECTIVES.get((adjective, base), base) if adjective else base
    return None


CONTEXT_CHARS = 64


def _candidate(text: str, start: int, end: int, value: Decimal, words: bool,
               default_currency: str | None) -> _Candidate | None:
    # Context is read from a fixed window on each side, so the work per number is bounded and a message
    # full of numbers costs time in proportion to its length.
    before, rest = text[max(0, start - CONTEXT_CHARS):start], text[end:end + CONTEXT_CHARS]
    after = _AFTER_RE.match(rest)
    assert after is not None  # every group is optional
    mult = (after.group("mult") or "").strip().lower()
    if mult:
        if words and mult == "k":
            return None
        value *= {"k": 1000, "grand": 1000, "thousand": 1000, "million": 1_000_000, "hundred": 100}[mult]
    currency = _currency_from_after(after)
    negative = False

    prefix = _BEFORE_RE.search(before)
    if prefix and currency is None:
        currency = _SYMBOLS.get(prefix.group("cur").lower()) or prefix.group("cur").upper()
        negative = bool(prefix.group("sign") or prefix.group("sign2"))
    elif _is_minus(before):
        negative = True

    minor = after.group("minorw")
    if minor and currency is None:
        unit = minor.lower()
        if value != value.to_integral_value() or (words and unit in ("c", "p")):
            return None
        currency = "GBP" if unit in ("p", "pence") else _cents_currency(default_currency)
        return _Candidate(start, value.scaleb(-2), currency, negative)

    explicit = currency is not None
    if not explicit:
        # A bare number: only when nothing says it is a date, a card, a year, a count or a time.
        if _NOT_AMOUNT_AFTER.match(rest) or _NOT_AMOUNT_BEFORE.search(before):
            return None
        if before and before[-1].isalpha():
            return None  # "x4242", "abc123"
        if not words and value == value.to_integral_value() and 1900 <= value <= 2100 \
                and _YEAR_BEFORE.search(before):
            return None
        if words and value == 1 and not mult:
            return None  # "the one ending in 1234", "one of my payments"
    elif re.match(r"(?:st|nd|rd|th)\b", rest, re.IGNORECASE):
        return None
    # "5 euros and 50 cents", "£5 and 50p"
    tail = re.match(rf"\s*(?:and\s+)?(?P<n>\d{{1,2}})\s*{_MINOR_RE}", rest[after.end():], re.IGNORECASE)
    if explicit and tail and currency_exponent(str(currency)) == 2 and value == value.to_integral_value():
        value += Decimal(tail.group("n")).scaleb(-2)
    return _Candidate(start, value, currency, negative)


def _is_minus(before: str) -> bool:
    """A minus sign right before the number, but not the dash of a range ("10-20", "10 - 20")."""
    if _MINUS_WORD_RE.search(before):
        return True
    stripped = before.rstrip()
    if not stripped.endswith(("-", "−")):
        return False
    ahead = stripped[:-1].rstrip()
    return not (ahead and ahead[-1].isdigit())


def _cents_currency(default_currency: str | None) -> str | None:
    if default_currency and currency_exponent(default_currency) == 2:
        return default_currency.upper()
    return None


# Slang for notes ("a tenner", "a fiver") and "twelve euros fifty" (units, currency word, then cents).
_NOTES = re.compile(r"\b(?:a\s+)?(tenner|fiver)\b", re.IGNORECASE)
_NOTE_VALUES = {"tenner": "10", "fiver": "5"}
_UNITS_AND_CENTS = re.compile(
    rf"(\d{{1,7}}|{NUMBER_WORDS_RE})\s+(euros?|pounds?|dollars?|quid|bucks?)\s+(?:and\s+)?"
    rf"(\d{{1,2}}|{NUMBER_WORDS_RE})(?:\s+(?:cents?|pence|p))?\b(?!\s*(?:[.,]\d|%|days?|weeks?|months?|years?))",
    re.IGNORECASE)


def _spoken_forms(text: str) -> str:
    """ "a tenner" -> "10", "twelve euros fifty" -> "12.50 euros": forms the number grammar does not cover."""
    text = _NOTES.sub(lambda m: _NOTE_VALUES[m.group(1).lower()], text)

    def cents(m: re.Match[str]) -> str:
        units = int(m.group(1)) if m.group(1).isdigit() else words_to_int(m.group(1))
        minor = int(m.group(3)) if m.group(3).isdigit() else words_to_int(m.group(3))
        if units is None or minor is None or not 0 < minor < 100:
            return m.group()
        return f"{units}.{minor:02d} {m.group(2)}"

    return _UNITS_AND_CENTS.sub(cents, text)


# Numbers looked at per message, digits and words each: a request for money names a few, and a message
# of a thousand numbers ("1 1 1 ...") must not cost a thousand window scans.
MAX_NUMBERS = 40


def parse_amount(text: str, default_currency: str | None = None) -> Money | None:
    """The amount of money in the text, exact; None when there is none (or it is negative or zero)."""
    if not text:
        return None
    text = _spoken_forms(text)
    found: list[_Candidate] = []
    for m in islice(_DIGITS_RE.finditer(text), MAX_NUMBERS):
        value = _parse_digits(m.group(), scaled=bool(_SCALED_RE.match(text, m.end())))
        if value is not None:
            c = _candidate(text, m.start(), m.end(), value, False, default_currency)
            if c is not None:
                found.append(c)
    for m in islice(_WORDS_NUM_RE.finditer(text), MAX_NUMBERS):
        number = words_to_int(m.group())
        if number is not None:
            c = _candidate(text, m.start(), m.end(), Decimal(number), True, default_currency)
            if c is not None:
                found.append(c)
    if not found:
        return None
    found.sort(key=lambda c: (c.currency is None, c.start))
    best = found[0]
    if best.negative or best.value <= 0:
        return None
    if best.currency == _AMBIGUOUS:
        currency = None
    elif best.currency is None:
        currency = default_currency.upper() if default_currency else None
    else:
        currency = best.currency
    amount = best.value.quantize(Decimal(1)) if best.value == best.value.to_integral_value() else best.value
    return Money(amount, currency)


def format_for_api(money: Money, currency: str) -> str:
    """The decimal string the core takes for `currency` ("12.50", "1500", "1.250").

    ValueError if the amount is not positive, has more decimals than the currency allows (€12.505, ¥10.5),
    or is in another currency than `currency`.
    """
    code = currency.upper()
    if money.currency is not None and money.currency.upper() != code:
        raise ValueError(f"amount is in {money.currency}, not {code}")
    if not money.amount.is_finite() or money.amount <= 0:
        raise ValueError("amount must be positive")
    exponent = currency_exponent(code)
    quantum = Decimal(1).scaleb(-exponent)
    try:
        exact = money.amount.quantize(quantum)
    except InvalidOperation as exc:
        raise ValueError("amount too large") from exc
    if exact != money.amount:
        raise ValueError(f"{code} allows {exponent} decimal places")
    return f"{exact:f}"
