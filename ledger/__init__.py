"""Double-entry ledger on PostgreSQL: exact, concurrent, auditable, fast. A library, no HTTP.

Money is an integer number of minor units (BIGINT). Every function takes a psycopg 3 connection first
and does not commit: the caller owns the database transaction. Rejections raise a `LedgerError` with a
machine `code` and leave nothing written (the caller's transaction stays usable). See docs/ledger.md.
"""

from ledger.accounts import accounts_for_owner, get_account, get_accounts, open_account, set_account_status
from ledger.balances import balance, balance_as_of
from ledger.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotFound,
    AlreadyReversed,
    Conflict,
    CurrencyMismatch,
    ExistsWithDifferent,
    InsufficientFunds,
    InvalidAmount,
    InvalidRequest,
    LedgerError,
    MetadataTooLarge,
    NotFound,
    Rejected,
    SameAccount,
    TooManyEntries,
    error_for,
)
from ledger.fx import convert, ensure_fx_account, fx_account_id, transfer_fx
from ledger.holds import create_hold, expire_holds, get_hold, pending_holds, post_hold, void_hold
from ledger.ids import new_id
from ledger.models import (
    Account,
    Drift,
    Hold,
    Leg,
    Page,
    PostedLeg,
    SpendingGroup,
    SpendingTotals,
    StatementItem,
    Transaction,
)
from ledger.posting import get_transaction, post_transaction, post_transfer, reverse_transaction
from ledger.reconcile import reconcile
from ledger.spending import SPENDING_KINDS, spending
from ledger.statements import statement

__all__ = [
    "SPENDING_KINDS",
    "Account",
    "AccountClosed",
    "AccountFrozen",
    "AccountNotFound",
    "AlreadyReversed",
    "Conflict",
    "CurrencyMismatch",
    "Drift",
    "ExistsWithDifferent",
    "Hold",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidRequest",
    "LedgerError",
    "Leg",
    "MetadataTooLarge",
    "NotFound",
    "Page",
    "PostedLeg",
    "Rejected",
    "SameAccount",
    "SpendingGroup",
    "SpendingTotals",
    "StatementItem",
    "TooManyEntries",
    "Transaction",
    "accounts_for_owner",
    "balance",
    "balance_as_of",
    "convert",
    "create_hold",
    "ensure_fx_account",
    "error_for",
    "expire_holds",
    "fx_account_id",
    "get_account",
    "get_accounts",
    "get_hold",
    "get_transaction",
    "new_id",
    "open_account",
    "pending_holds",
    "post_hold",
    "post_transaction",
    "post_transfer",
    "reconcile",
    "reverse_transaction",
    "set_account_status",
    "spending",
    "statement",
    "transfer_fx",
    "void_hold",
]
