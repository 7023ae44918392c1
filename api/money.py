"""Money at the edges: integer minor units inside, exact decimal strings outside. Never floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

# The largest amount accepted at the API, in major units; the ledger asserts its own bound too.
MAX_MAJOR_UNITS = Decimal("1000000000")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,4})?$")
_CURRENCIES = frozenset(list_currencies())


class InvalidMoney(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_currency(code: str) -> str:
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code) or code not in _CURRENCIES:
        raise InvalidMoney("invalid_currency", "currency must be an ISO 4217 code such as EUR")
    return code


def exponent(currency: str) -> int:
    return get_currency_precision(check_currency(currency))


def to_minor(amount: str, currency: str) -> int:
    """Parse a positive decimal string ("12.34") into minor units, refusing anything inexact."""
    if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        raise InvalidMoney("invalid_amount", "amount must be a decimal string like \"12.34\"")
    places = exponent(currency)
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:  # unreachable after the regex, kept as a guard
        raise InvalidMoney("invalid_amount", "amount is not a number") from exc
    if value <= 0:
        raise InvalidMoney("invalid_amount", "amount must be greater than zero")
    if value > MAX_MAJOR_UNITS:
        raise InvalidMoney("amount_too_large", f"amount must be at most {MAX_MAJOR_UNITS}")
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise InvalidMoney("too_many_decimals", f"{currency} has {places} decimal places")
    return int(minor)


def to_decimal_string(minor: int, currency: str) -> str:
    """Signed minor units as a decimal string with the currency's places ("-4.50")."""
    places = exponent(currency)
    value = Decimal(minor).scaleb(-places)
    return f"{value:.{max(places, 2)}f}"


def display(minor: int, currency: str, locale: str = "en_GB") -> str:
    """For words said to people: "€1,234.50"."""
    return format_currency(Decimal(minor).scaleb(-exponent(currency)), currency, locale=locale)
