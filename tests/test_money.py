"""Money parsing and formatting at the edges: exact or refused."""

from __future__ import annotations

import pytest

from api.money import InvalidMoney, to_decimal_string, to_minor


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("12.34", "EUR", 1234), ("0.01", "EUR", 1), ("1000", "GBP", 100000), ("5", "JPY", 5), ("1.234", "BHD", 1234),
])
def test_exact_amounts(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(("text", "currency", "code"), [
    ("-1.00", "EUR", "invalid_amount"), ("0", "EUR", "invalid_amount"), ("0.00", "EUR", "invalid_amount"),
    ("NaN", "EUR", "invalid_amount"), ("Infinity", "EUR", "invalid_amount"), ("1e3", "EUR", "invalid_amount"),
    ("1.001", "EUR", "too_many_decimals"), ("1.5", "JPY", "too_many_decimals"), ("", "EUR", "invalid_amount"),
    ("2000000000", "EUR", "amount_too_large"), ("1.00", "EURO", "invalid_currency"),
    ("1.00", "eur", "invalid_currency"), ("1.00", "XYZ", "invalid_currency"), (" 1.00", "EUR", "invalid_amount"),
])
def test_refused_amounts(text: str, currency: str, code: str) -> None:
    with pytest.raises(InvalidMoney) as info:
        to_minor(text, currency)
    assert info.value.code == code


def test_decimal_strings() -> None:
    assert to_decimal_string(-450, "EUR") == "-4.50"
    assert to_decimal_string(123456, "EUR") == "1234.56"
    assert to_decimal_string(7, "JPY") == "7.00"
