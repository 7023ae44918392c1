"""Amounts said in words or figures to exact Decimals with ISO 4217 currencies; refusals; API formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.understanding.amounts import Money, currency_exponent, format_for_api, parse_amount


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("send 50 euros to Alice", "50", "EUR"),
    ("€50", "50", "EUR"),
    ("50€", "50", "EUR"),
    ("EUR 50", "50", "EUR"),
    ("50 EUR", "50", "EUR"),
    ("50 eur", "50", "EUR"),
    ("£20.50", "20.50", "GBP"),
    ("$1,234.56", "1234.56", "USD"),
    ("1.234,56 €", "1234.56", "EUR"),
    ("12,50 €", "12.50", "EUR"),
    ("pay 1,500 euros", "1500", "EUR"),
    ("fifty dollars", "50", "USD"),
    ("twenty five euro", "25", "EUR"),
    ("twenty-five euros", "25", "EUR"),
    ("one hundred and twenty pounds", "120", "GBP"),
    ("three thousand two hundred euros", "3200", "EUR"),
    ("a hundred quid", "100", "GBP"),
    ("10 bucks", "10", "USD"),
    ("1.5k euros", "1500", "EUR"),
    ("€2k", "2000", "EUR"),
    ("1.255k", "1255", None),
    ("2.5 thousand euros", "2500", "EUR"),
    ("2 grand", "2000", None),
    ("50 cents", "0.50", None),
    ("50p", "0.50", "GBP"),
    ("5 euros and 50 cents", "5.50", "EUR"),
    ("20 swiss francs", "20", "CHF"),
    ("CHF 20", "20", "CHF"),
    ("300 zloty", "300", "PLN"),
    ("100 PLN", "100", "PLN"),
    ("500 swedish kronor", "500", "SEK"),
    ("200 norwegian kroner", "200", "NOK"),
    ("200 danish kroner", "200", "DKK"),
    ("¥1500", "1500", "JPY"),
    ("5000 yen", "5000", "JPY"),
    ("40 canadian dollars", "40", "CAD"),
    ("send 100 euros to Bob on the 5th", "100", "EUR"),
    ("send Ron 50", "50", None),  # a name, not the Romanian leu
    ("50 RON", "50", "RON"),
])
def test_amounts(text: str, amount: str, currency: str | None) -> None:
    money = parse_amount(text)
    assert money is not None, text
    assert money.amount == Decimal(amount)
    assert isinstance(money.amount, Decimal)
    assert money.currency == currency


def test_exact_decimal_representation() -> None:
    money = parse_amount("£20.50")
    assert money is not None and str(money.amount) == "20.50"
    money = parse_amount("1.5k")
    assert money is not None and str(money.amount) == "1500"
    money = parse_amount("0.1 EUR")
    assert money is not None and money.amount == Decimal("0.1")  # not 0.1000000000000000055...


def test_default_currency() -> None:
    assert parse_amount("send 50 to Alice", "EUR") == Money(Decimal("50"), "EUR")
    assert parse_amount("send 50 to Alice") == Money(Decimal("50"), None)
    assert parse_amount("send alice fifty", "eur") == Money(Decimal("50"), "EUR")
    assert parse_amount("50 cents", "EUR") == Money(Decimal("0.50"), "EUR")
    assert parse_amount("£5", "EUR") == Money(Decimal("5"), "GBP")  # what was said wins
    # "kroner" alone could be Danish or Norwegian: no guess, even with a default.
    assert parse_amount("100 kroner", "EUR") == Money(Decimal("100"), None)


def test_currency_amount_wins_over_bare_number() -> None:
    assert parse_amount("send 2 payments of 30 euros", "GBP") == Money(Decimal("30"), "EUR")


@pytest.mark.parametrize("text", [
    "", "how much did I spend", "on the 5th", "card ending 4242", "the one ending in 1234", "card 4821",
    "in 2025", "since 2024", "-50 euros", "€-50", "-€50", "minus 20 euros", "0 euros", "€0", "zero euros",
    "show my last five payments", "past 30 days", "in the last two weeks", "at 10:30", "2026-03-01", "5 March",
    "March 5th", "3 times", "the first one", "last four digits are 9876", "25%",
])
def test_not_amounts(text: str) -> None:
    assert parse_amount(text, "EUR") is None


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("12.5", "EUR", "12.50"),
    ("12.50", "EUR", "12.50"),
    ("1500", "EUR", "1500.00"),
    ("1500", "JPY", "1500"),
    ("1.25", "BHD", "1.250"),
    ("0.01", "GBP", "0.01"),
    ("12.500", "EUR", "12.50"),
])
def test_format_for_api(amount: str, currency: str, expected: str) -> None:
    assert format_for_api(Money(Decimal(amount), None), currency) == expected
    assert format_for_api(Money(Decimal(amount), currency), currency.lower()) == expected


@pytest.mark.parametrize(("money", "currency"), [
    (Money(Decimal("12.505"), "EUR"), "EUR"),
    (Money(Decimal("10.5"), "JPY"), "JPY"),
    (Money(Decimal("1.2345"), "KWD"), "KWD"),
    (Money(Decimal("0"), "EUR"), "EUR"),
    (Money(Decimal("-5"), "EUR"), "EUR"),
    (Money(Decimal("5"), "GBP"), "EUR"),
])
def test_format_for_api_refuses(money: Money, currency: str) -> None:
    with pytest.raises(ValueError):
        format_for_api(money, currency)


def test_exponents() -> None:
    assert currency_exponent("JPY") == 0
    assert currency_exponent("bhd") == 3
    assert currency_exponent("KWD") == 3
    assert currency_exponent("EUR") == 2
    assert currency_exponent("SEK") == 2


def test_parsed_yen_with_decimals_is_refused_by_format() -> None:
    money = parse_amount("¥10.5")
    assert money == Money(Decimal("10.5"), "JPY")
    with pytest.raises(ValueError):
        format_for_api(money, "JPY")
