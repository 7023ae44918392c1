"""Words for amounts and reason codes: the core sends exact decimal strings and codes; we put them in words."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

# A transfer's failure_reason (set by its saga, api/sagas/store.py FAILURE_REASONS, or by the rails before
# them) as the customer reads it, inside a sentence of the domain's responses.
FAILURE_WORDS = {
    "account_details_wrong": "the account details were wrong",
    "insufficient_funds": "insufficient funds",
    "rejected_by_receiving_bank": "none given by the recipient's bank",
    "returned_insufficient_funds": "insufficient funds",
    "returned_account_not_found": "the recipient's account could not be found",
    "returned_by_receiving_bank": "none given by the recipient's bank",
    "beneficiary_account_closed": "the recipient's bank says that account is closed",
    "beneficiary_bank_rejected": "the recipient's bank rejected it",
}


def failure_words(code: str | None) -> str:
    """A failure reason code in words; an unknown code is read out as its words."""
    return FAILURE_WORDS.get(code or "", (code or "unknown").replace("_", " "))


def money(amount: str, currency: str, locale: str = "en_IE") -> str:
    return format_currency(Decimal(amount), currency, locale=locale)
