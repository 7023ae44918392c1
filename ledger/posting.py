"""Posting: transfers, multi-leg transactions and reversals, each one call of a SQL function.

Convention: a leg's amount is the signed change of its account's balance. In `post_transfer`, money
moves FROM `from_account_id` (its balance goes down by `amount`) TO `to_account_id` (goes up).

Atomicity and idempotency live in the SQL functions (ledger/sql/functions.sql): one round trip, nothing
written on rejection, and the caller's database transaction stays usable after a rejection.
Nothing here commits: the caller owns the transaction (use autocommit for one posting per commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ledger import limits
from ledger.currencies import check_currency
from ledger.errors import InvalidLegs, SameAccount, TooManyEntries, TransactionNotFound, error_for
from ledger.ids import check_id
from ledger.models import Leg, PostedLeg, Transaction
from ledger.validate import (
    check_amount,
    check_effective_at,
    check_metadata,
    check_signed_amount,
    check_text,
)

# The columns of the ledger_result type, in order (see transaction_from_result).
POST_SQL = (
    "SELECT code, detail, created_at, effective_at, existing, balances, versions, currencies"
    " FROM ledger_post(%s, %s, %s::uuid[], %s::bigint[], %s::text[], %s, %s::jsonb, %s, %s, %s::timestamptz)"
)
# The hot path for two-leg transfers: scalar parameters, same answers as ledger_post.
TRANSFER_SQL = (
    "SELECT code, detail, created_at, effective_at, existing, balances, versions, currencies"
    " FROM ledger_transfer(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::timestamptz)"
)
REVERSE_SQL = (
    "SELECT code, detail, created_at, effective_at, existing, balances, versions, currencies"
    " FROM ledger_reverse(%s, %s, %s)"
)
HOLD_POST_SQL = (
    "SELECT code, detail, created_at, effective_at, existing, balances, versions, currencies"
    " FROM ledger_hold_post(%s, %s, %s)"
)

DEFAULT_TRANSFER_KIND = "transfer"


@dataclass(frozen=True, slots=True)
class PostRequest:
    """A validated posting, ready to send; `transaction(row)` reads the function's answer."""

    transaction_id: uuid.UUID
    kind: str
    legs: tuple[Leg, ...]
    reference: str | None
    metadata: dict[str, Any]
    category: str | None
    merchant: str | None
    effective_at: datetime | None
    is_transfer: bool = False  # legs are (from, -amount), (to, +amount) in one currency

    @property
    def sql(self) -> str:
        return TRANSFER_SQL if self.is_transfer else POST_SQL

    def params(self) -> tuple[Any, ...]:
        metadata = Jsonb(self.metadata) if self.metadata else None  # NULL means {} (saves a JSON dump)
        if self.is_transfer:
            src, dst = self.legs
            return (self.transaction_id, src.account_id, dst.account_id, dst.amount, dst.currency, self.kind,
                    self.reference, metadata, self.category, self.merchant, self.effective_at)
        return (
            self.transaction_id, self.kind,
            [leg.account_id for leg in self.legs], [leg.amount for leg in self.legs],
            [leg.currency for leg in self.legs],
            self.reference, metadata, self.category, self.merchant, self.effective_at,
        )

    def transaction(self, row: Sequence[Any] | None, *, reverses_id: uuid.UUID | None = None,
                    hold_id: uuid.UUID | None = None) -> Transaction:
        return transaction_from_result(row, self.transaction_id, self.kind, self.legs, self.reference,
                                       self.metadata, self.category, self.merchant, reverses_id, hold_id)


def transaction_from_result(
    row: Sequence[Any] | None, transaction_id: uuid.UUID, kind: str, legs: Sequence[Leg],
    reference: str | None, metadata: dict[str, Any], category: str | None, merchant: str | None,
    reverses_id: uuid.UUID | None = None, hold_id: uuid.UUID | None = None,
) -> Transaction:
    """The Transaction for a `ledger_result` row, or the typed error it carries."""
    assert row is not None, "ledger functions always return one row"
    code, detail, created_at, effective_at, existing, balances, versions, currencies = row
    if code != "ok":
        raise error_for(code, detail)
    assert len(balances) == len(versions) == len(currencies) == len(legs)
    posted = tuple(
        PostedLeg(account_id=leg.account_id, amount=leg.amount, currency=currency, balance_after=balance,
                  version=version)
        for leg, balance, version, currency in zip(legs, balances, versions, currencies, strict=True)
    )
    return Transaction(id=transaction_id, kind=kind, legs=posted, reference=reference, metadata=metadata,
                       category=category, merchant=merchant, created_at=created_at, effective_at=effective_at,
                       reverses_id=reverses_id, hold_id=hold_id, existing=existing)


def _common(kind: object, reference: object, metadata: Mapping[str, Any] | None, category: object,
            merchant: object, effective_at: object) -> tuple[str, str | None, dict[str, Any], str | None,
                                                             str | None, datetime | None]:
    kind_ = check_text(kind, "kind", limits.MAX_KIND_LEN, required=True)
    assert kind_ is not None
    return (kind_, check_text(reference, "reference", limits.MAX_REFERENCE_LEN),
            check_metadata(metadata), check_text(category, "category", limits.MAX_CATEGORY_LEN),
            check_text(merchant, "merchant", limits.MAX_MERCHANT_LEN), check_effective_at(effective_at))


def transfer_request(
    *, transaction_id: uuid.UUID, from_account_id: uuid.UUID, to_account_id: uuid.UUID, amount: int,
    currency: str, kind: str = DEFAULT_TRANSFER_KIND, reference: str | None = None,
    metadata: Mapping[str, Any] | None = None, category: str | None = None, merchant: str | None = None,
    effective_at: datetime | None = None,
) -> PostRequest:
    transaction_id = check_id(transaction_id, "transaction_id")
    from_id = check_id(from_account_id, "from_account_id")
    to_id = check_id(to_account_id, "to_account_id")
    check_amount(amount)
    check_currency(currency)
    if from_id == to_id:
        raise SameAccount("a transfer moves money between two different accounts")
    kind_, reference_, metadata_, category_, merchant_, effective_at_ = _common(
        kind, reference, metadata, category, merchant, effective_at)
    legs = (Leg(from_id, -amount, currency), Leg(to_id, amount, currency))
    return PostRequest(transaction_id, kind_, legs, reference_, metadata_, category_, merchant_, effective_at_,
                       is_transfer=True)


def transaction_request(
    *, transaction_id: uuid.UUID, kind: str, legs: Sequence[Leg], reference: str | None = None,
    metadata: Mapping[str, Any] | None = None, category: str | None = None, merchant: str | None = None,
    effective_at: datetime | None = None,
) -> PostRequest:
    transaction_id = check_id(transaction_id, "transaction_id")
    if not isinstance(legs, Sequence) or len(legs) < limits.MIN_ENTRIES:
        raise InvalidLegs(f"a transaction needs at least {limits.MIN_ENTRIES} legs")
    if len(legs) > limits.MAX_ENTRIES:
        raise TooManyEntries(f"a transaction has at most {limits.MAX_ENTRIES} legs")
    checked = []
    for leg in legs:
        if not isinstance(leg, Leg):
            raise InvalidLegs("legs must be ledger.Leg values")
        currency = None if leg.currency is None else check_currency(leg.currency)
        checked.append(Leg(check_id(leg.account_id, "account_id"), check_signed_amount(leg.amount), currency))
    if len({leg.account_id for leg in checked}) != len(checked):
        raise SameAccount("an account appears in more than one leg")
    kind_, reference_, metadata_, category_, merchant_, effective_at_ = _common(
        kind, reference, metadata, category, merchant, effective_at)
    return PostRequest(transaction_id, kind_, tuple(checked), reference_, metadata_, category_, merchant_,
                       effective_at_)


def post_transfer(
    conn: psycopg.Connection, *, transaction_id: uuid.UUID, from_account_id: uuid.UUID,
    to_account_id: uuid.UUID, amount: int, currency: str, kind: str = DEFAULT_TRANSFER_KIND,
    reference: str | None = None, metadata: Mapping[str, Any] | None = None, category: str | None = None,
    merchant: str | None = None, effective_at: datetime | None = None,
) -> Transaction:
    """Move `amount` minor units of `currency` from one account to another, atomically and idempotently.

    Raises a LedgerError subclass (insufficient_funds, account_frozen, ...) and writes nothing when the
    ledger refuses; retrying the same `transaction_id` with the same content returns the stored
    transaction (with `existing=True`).
    """
    request = transfer_request(
        transaction_id=transaction_id, from_account_id=from_account_id, to_account_id=to_account_id,
        amount=amount, currency=currency, kind=kind, reference=reference, metadata=metadata,
        category=category, merchant=merchant, effective_at=effective_at)
    return request.transaction(conn.execute(request.sql, request.params()).fetchone())


def post_transaction(
    conn: psycopg.Connection, *, transaction_id: uuid.UUID, kind: str, legs: Sequence[Leg],
    reference: str | None = None, metadata: Mapping[str, Any] | None = None, category: str | None = None,
    merchant: str | None = None, effective_at: datetime | None = None,
) -> Transaction:
    """Post 2 to MAX_ENTRIES legs that sum to zero per currency, atomically and idempotently."""
    request = transaction_request(transaction_id=transaction_id, kind=kind, legs=legs, reference=reference,
                                  metadata=metadata, category=category, merchant=merchant,
                                  effective_at=effective_at)
    return request.transaction(conn.execute(POST_SQL, request.params()).fetchone())


def reverse_transaction(
    conn: psycopg.Connection, *, transaction_id: uuid.UUID, original_id: uuid.UUID, reason: str
) -> Transaction:
    """Undo a whole transaction with a new one (`transaction_id`): its legs negated, effective now.

    The reversal keeps the original's kind, category and merchant (so spending nets out) and records
    `reason` as its reference. A transaction is reversed at most once; reversals are not reversible.
    """
    transaction_id = check_id(transaction_id, "transaction_id")
    original_id = check_id(original_id, "original_id")
    check_text(reason, "reason", limits.MAX_REFERENCE_LEN, required=True)
    row = conn.execute(REVERSE_SQL, (transaction_id, original_id, reason)).fetchone()
    assert row is not None
    if row[0] != "ok":
        raise error_for(row[0], row[1])
    reversal = get_transaction(conn, transaction_id)
    assert reversal is not None and reversal.reverses_id == original_id
    return _with_existing(reversal, existing=row[4])


def _with_existing(tx: Transaction, *, existing: bool) -> Transaction:
    return Transaction(id=tx.id, kind=tx.kind, legs=tx.legs, reference=tx.reference, metadata=tx.metadata,
                       category=tx.category, merchant=tx.merchant, created_at=tx.created_at,
                       effective_at=tx.effective_at, reverses_id=tx.reverses_id, hold_id=tx.hold_id,
                       existing=existing)


def get_transaction(conn: psycopg.Connection, transaction_id: uuid.UUID) -> Transaction | None:
    """A posted transaction with its legs (balances after each entry included)."""
    transaction_id = check_id(transaction_id, "transaction_id")
    tx = conn.execute(
        """SELECT kind, reference, metadata, category, merchant, created_at, effective_at, reverses_id, hold_id,
                  account_ids, amounts
           FROM ledger_transactions WHERE id = %s""", (transaction_id,)).fetchone()
    if tx is None:
        return None
    (kind, reference, metadata, category, merchant, created_at, effective_at, reverses_id, hold_id,
     account_ids, amounts) = tx
    entries = {
        row[0]: row[1:]
        for row in conn.execute(
            """SELECT e.account_id, e.currency, e.balance_after, e.version
               FROM unnest(%s::uuid[]) AS u(a)
               JOIN ledger_entries e ON e.account_id = u.a AND e.effective_at = %s AND e.transaction_id = %s""",
            (account_ids, effective_at, transaction_id)).fetchall()
    }
    assert len(entries) == len(account_ids), f"transaction {transaction_id} is missing entries"
    legs = tuple(PostedLeg(account_id=a, amount=x, currency=entries[a][0], balance_after=entries[a][1],
                           version=entries[a][2]) for a, x in zip(account_ids, amounts, strict=True))
    return Transaction(id=transaction_id, kind=kind, legs=legs, reference=reference, metadata=metadata,
                       category=category, merchant=merchant, created_at=created_at, effective_at=effective_at,
                       reverses_id=reverses_id, hold_id=hold_id)


def require_transaction(conn: psycopg.Connection, transaction_id: uuid.UUID) -> Transaction:
    tx = get_transaction(conn, transaction_id)
    if tx is None:
        raise TransactionNotFound(f"transaction {transaction_id} does not exist")
    return tx
