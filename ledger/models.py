"""Immutable value objects the ledger returns. Amounts are always integers in minor units."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

AccountStatus = Literal["active", "frozen", "closed"]
HoldStatus = Literal["pending", "posted", "voided", "expired"]
GroupBy = Literal["category", "merchant", "month", "day"]


@dataclass(frozen=True, slots=True)
class Account:
    id: uuid.UUID
    owner_id: str | None
    name: str
    kind: str
    currency: str
    status: AccountStatus
    allow_negative: bool
    balance: int  # posted balance
    available: int  # posted balance minus pending holds (holds past expiry no longer count)
    pending: int  # funds reserved by pending holds
    version: int  # number of entries posted to the account
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Leg:
    """One entry of a transaction: `account_id` moves by `amount` (negative = money leaves it).

    `currency`, when given, is what the caller expects the account to hold (checked by the ledger).
    """

    account_id: uuid.UUID
    amount: int
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class PostedLeg:
    account_id: uuid.UUID
    amount: int
    currency: str | None
    balance_after: int | None  # the account's posted balance right after this entry
    version: int | None  # the account's version after this entry


@dataclass(frozen=True, slots=True)
class Transaction:
    id: uuid.UUID
    kind: str
    legs: tuple[PostedLeg, ...]
    reference: str | None
    metadata: dict[str, Any]
    category: str | None
    merchant: str | None
    created_at: datetime  # when it was posted
    effective_at: datetime  # business time (equal to created_at unless back-dated)
    reverses_id: uuid.UUID | None = None
    hold_id: uuid.UUID | None = None
    existing: bool = False  # True when this call found an identical transaction already posted

    def amount_for(self, account_id: uuid.UUID) -> int:
        """The signed amount this transaction moved on `account_id` (0 if it does not touch it)."""
        return sum(leg.amount for leg in self.legs if leg.account_id == account_id)


@dataclass(frozen=True, slots=True)
class Hold:
    id: uuid.UUID
    from_account_id: uuid.UUID
    to_account_id: uuid.UUID
    amount: int
    currency: str
    kind: str
    reference: str | None
    metadata: dict[str, Any]
    category: str | None
    merchant: str | None
    created_at: datetime
    expires_at: datetime
    status: HoldStatus
    posted_amount: int | None
    transaction_id: uuid.UUID | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class StatementItem:
    transaction_id: uuid.UUID
    account_id: uuid.UUID
    version: int
    effective_at: datetime
    posted_at: datetime
    amount: int  # signed, for this account
    currency: str
    balance_after: int  # the account's balance after this entry, in posting order
    kind: str
    category: str | None
    merchant: str | None
    description: str | None  # the transaction's reference
    status: Literal["posted", "reversed", "reversal"]
    reverses_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StatementItem]
    next_cursor: str | None  # pass as after_cursor for the next (older) page; None on the last page


class SpendingGroup(NamedTuple):
    """(key, total, count): unpacks like a tuple, reads like a record."""

    key: str | None  # category, merchant, 'YYYY-MM' or 'YYYY-MM-DD'; None when the entry had none
    total: int  # positive = money spent
    count: int  # payments (outgoing entries) in the group


@dataclass(frozen=True, slots=True)
class SpendingTotals:
    total: int
    currency: str
    count: int
    groups: list[SpendingGroup] = field(default_factory=list)
    truncated: bool = False  # more groups than MAX_SPENDING_GROUPS; `total` still covers all


@dataclass(frozen=True, slots=True)
class Drift:
    """One disagreement found by reconciliation."""

    kind: str  # balance, version, running_balance, pending, unbalanced_transaction, transaction_legs, ...
    subject_id: uuid.UUID  # account or transaction
    stored: int | None
    computed: int | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_id}: stored={self.stored} computed={self.computed} ({self.detail})"
