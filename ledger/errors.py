"""Typed ledger errors. Every error has a stable machine `code` the core maps to an HTTP problem type.

The SQL functions return the same codes (they never raise for a business rejection), and
`error_for(code, detail)` turns one into the matching exception class.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for humans."""

    code: str = "ledger_error"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(message or self.code)
        assert self.code, "every ledger error has a code"

    @property
    def message(self) -> str:
        return str(self.args[0])


# --- families (catch these when the exact code does not matter) ---------------------------------
class InvalidRequest(LedgerError):
    """The request itself is malformed or beyond a limit (HTTP 422)."""

    code = "invalid_request"


class NotFound(LedgerError):
    """A referenced account, transaction or hold does not exist (HTTP 404)."""

    code = "not_found"


class Rejected(LedgerError):
    """A well-formed request the ledger refuses: funds, account status, currency (HTTP 422/409)."""

    code = "rejected"


class Conflict(LedgerError):
    """The id exists with different content, or the object is in a state that forbids this (HTTP 409)."""

    code = "conflict"


# --- specific errors ----------------------------------------------------------------------------
class InvalidAmount(InvalidRequest):
    code = "invalid_amount"


class InvalidField(InvalidRequest):
    code = "invalid_field"


class InvalidLegs(InvalidRequest):
    code = "invalid_legs"


class TooManyEntries(InvalidRequest):
    code = "too_many_entries"


class InvalidMetadata(InvalidRequest):
    code = "invalid_metadata"


class MetadataTooLarge(InvalidRequest):
    code = "metadata_too_large"


class InvalidCurrency(InvalidRequest):
    code = "invalid_currency"


class InvalidEffectiveAt(InvalidRequest):
    code = "invalid_effective_at"


class InvalidExpiry(InvalidRequest):
    code = "invalid_expiry"


class InvalidStatus(InvalidRequest):
    code = "invalid_status"


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"


class InvalidRate(InvalidRequest):
    code = "invalid_rate"


class LimitExceeded(InvalidRequest):
    """A page size, account list or other query bound is out of range."""

    code = "limit_exceeded"


class SameAccount(InvalidRequest):
    code = "same_account"


class AccountNotFound(NotFound):
    code = "account_not_found"


class TransactionNotFound(NotFound):
    code = "transaction_not_found"


class HoldNotFound(NotFound):
    code = "hold_not_found"


class InsufficientFunds(Rejected):
    code = "insufficient_funds"


class AccountFrozen(Rejected):
    code = "account_frozen"


class AccountClosed(Rejected):
    code = "account_closed"


class CurrencyMismatch(Rejected):
    code = "currency_mismatch"


class Unbalanced(Rejected):
    code = "unbalanced"


class BalanceOutOfRange(Rejected):
    code = "balance_out_of_range"


class BalanceNotZero(Rejected):
    code = "balance_not_zero"


class ExceedsHoldAmount(Rejected):
    code = "exceeds_hold_amount"


class HoldExpired(Rejected):
    code = "hold_expired"


class HoldAlreadyPosted(Conflict):
    code = "hold_already_posted"


class HoldAlreadyVoided(Conflict):
    code = "hold_already_voided"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class CannotReverseReversal(Conflict):
    code = "cannot_reverse_reversal"


class ExistsWithDifferent(Conflict):
    """The id exists with other content; `field` names the first field that differs.

    Codes: exists_with_different_{accounts, amount, currency, kind, reversal, hold, reference, category,
    merchant, metadata, effective_at, expires_at, owner, name, allow_negative}.
    """

    PREFIX: ClassVar[str] = "exists_with_different_"
    code = "exists_with_different"

    @property
    def field(self) -> str:
        return self.code.removeprefix(self.PREFIX)


_BY_CODE: dict[str, type[LedgerError]] = {
    cls.code: cls
    for cls in (
        InvalidAmount, InvalidField, InvalidLegs, TooManyEntries, InvalidMetadata, MetadataTooLarge,
        InvalidCurrency, InvalidEffectiveAt, InvalidExpiry, InvalidStatus, InvalidCursor, InvalidRate,
        LimitExceeded, SameAccount, AccountNotFound, TransactionNotFound, HoldNotFound, InsufficientFunds,
        AccountFrozen, AccountClosed, CurrencyMismatch, Unbalanced, BalanceOutOfRange, BalanceNotZero,
        ExceedsHoldAmount, HoldExpired, HoldAlreadyPosted, HoldAlreadyVoided, AlreadyReversed,
        CannotReverseReversal,
    )
}

# Every code the ledger can produce (documented in docs/ledger.md).
ERROR_CODES: frozenset[str] = frozenset(_BY_CODE) | {
    ExistsWithDifferent.PREFIX + field
    for field in ("accounts", "amount", "currency", "kind", "reversal", "hold", "reference", "category",
                  "merchant", "metadata", "effective_at", "expires_at", "owner", "name", "allow_negative")
}


def error_for(code: str, detail: str | None = None) -> LedgerError:
    """The exception for a code returned by the SQL functions."""
    if code.startswith(ExistsWithDifferent.PREFIX):
        return ExistsWithDifferent(detail, code=code)
    cls = _BY_CODE.get(code)
    if cls is None:  # a code this module does not know yet: still typed, still carries the code
        return LedgerError(detail, code=code)
    return cls(detail)
