"""Currencies: ISO 4217 codes and their minor-unit exponents.

The exponents come from CLDR through Babel, the same table the core uses to turn API decimals into
minor units (api/money.py): the ledger and the API must agree on what "1 minor unit" means, or an FX
conversion would be off by a power of ten.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from ledger.errors import InvalidCurrency

_CODE = re.compile(r"[A-Z]{3}")


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if _CODE.fullmatch(code))


def check_currency(code: object) -> str:
    """`code` if it is a known ISO 4217 code (upper case), else InvalidCurrency."""
    if not isinstance(code, str) or not _CODE.fullmatch(code) or code not in known_currencies():
        raise InvalidCurrency(f"currency must be an ISO 4217 code such as EUR, got {code!r}")
    return code


@lru_cache(maxsize=512)
def exponent(code: str) -> int:
    """Digits after the decimal point of one minor unit: EUR 2, JPY 0, BHD 3."""
    digits = get_currency_precision(check_currency(code))
    assert 0 <= digits <= 4, (code, digits)
    return digits
