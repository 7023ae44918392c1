"""Words for amounts: the core sends exact decimal strings; we only format them for people."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency


def money(amount: str, currency: str, locale: str = "en_IE") -> str:
    return format_currency(Decimal(amount), currency, locale=locale)
