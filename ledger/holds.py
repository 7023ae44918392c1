"""Holds (two-phase transfers): reserve funds now, then post them in full or in part, void, or expire.

A pending hold lowers the from-account's *available* balance (never its posted balance). Posting it
creates an ordinary transaction (with `hold_id` set) and releases the whole reservation, so a partial
post frees the rest. Holds past `expires_at` stop reserving funds at once, even before `expire_holds`
(the sweeper) marks them expired.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ledger import limits
from ledger.currencies import check_currency
from ledger.errors import InvalidExpiry, LimitExceeded, SameAccount, error_for
from ledger.ids import check_id
from ledger.models import Hold, Leg, Transaction
from ledger.posting import HOLD_POST_SQL, transaction_from_result
from ledger.validate import check_amount, check_instant, check_metadata, check_text

DEFAULT_HOLD_KIND = "transfer"


def _hold(data: Mapping[str, Any]) -> Hold:
    def instant(key: str) -> datetime | None:
        value = data.get(key)
        return None if value is None else datetime.fromisoformat(value)

    created_at, expires_at = instant("created_at"), instant("expires_at")
    assert created_at is not None and expires_at is not None
    tx = data.get("transaction_id")
    return Hold(id=uuid.UUID(data["id"]), from_account_id=uuid.UUID(data["from_account_id"]),
                to_account_id=uuid.UUID(data["to_account_id"]), amount=int(data["amount"]),
                currency=data["currency"], kind=data["kind"], reference=data.get("reference"),
                metadata=data.get("metadata") or {}, category=data.get("category"),
                merchant=data.get("merchant"), created_at=created_at, expires_at=expires_at,
                status=data["status"],
                posted_amount=None if data.get("posted_amount") is None else int(data["posted_amount"]),
                transaction_id=None if tx is None else uuid.UUID(tx), resolved_at=instant("resolved_at"))


def _answer(row: tuple[Any, ...] | None) -> Hold:
    assert row is not None
    code, detail, data = row
    if code != "ok":
        raise error_for(code, detail)
    return _hold(data)


def create_hold(
    conn: psycopg.Connection, *, hold_id: uuid.UUID, from_account_id: uuid.UUID, to_account_id: uuid.UUID,
    amount: int, currency: str, expires_at: datetime, kind: str = DEFAULT_HOLD_KIND,
    reference: str | None = None, metadata: Mapping[str, Any] | None = None, category: str | None = None,
    merchant: str | None = None,
) -> Hold:
    """Reserve `amount` of the from-account for the to-account until `expires_at` (at most
    MAX_HOLD_SECONDS ahead). Idempotent on `hold_id` like transactions."""
    hold_id = check_id(hold_id, "hold_id")
    from_id = check_id(from_account_id, "from_account_id")
    to_id = check_id(to_account_id, "to_account_id")
    check_amount(amount)
    check_currency(currency)
    if from_id == to_id:
        raise SameAccount("a hold moves money between two different accounts")
    if not isinstance(expires_at, datetime) or expires_at.utcoffset() is None:
        raise InvalidExpiry("expires_at must be a timezone-aware datetime")
    check_text(kind, "kind", limits.MAX_KIND_LEN, required=True)
    check_text(reference, "reference", limits.MAX_REFERENCE_LEN)
    check_text(category, "category", limits.MAX_CATEGORY_LEN)
    check_text(merchant, "merchant", limits.MAX_MERCHANT_LEN)
    meta = check_metadata(metadata)
    row = conn.execute(
        "SELECT code, detail, hold FROM ledger_hold_create(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
        (hold_id, from_id, to_id, amount, currency, kind, reference, Jsonb(meta), category, merchant, expires_at),
    ).fetchone()
    return _answer(row)


def post_hold(conn: psycopg.Connection, hold_id: uuid.UUID, amount: int | None = None, *,
              transaction_id: uuid.UUID) -> Transaction:
    """Settle a pending hold with transaction `transaction_id`: `amount` (default: all of it, at most the
    held amount) moves from the from-account to the to-account; the rest of the reservation is released.
    Calling again with the same transaction id returns the stored transaction."""
    hold_id = check_id(hold_id, "hold_id")
    transaction_id = check_id(transaction_id, "transaction_id")
    if amount is not None:
        check_amount(amount)
    row = conn.execute(HOLD_POST_SQL, (hold_id, transaction_id, amount)).fetchone()
    assert row is not None
    if row[0] != "ok":
        raise error_for(row[0], row[1])
    hold = get_hold(conn, hold_id)
    assert hold is not None and hold.status == "posted" and hold.transaction_id == transaction_id
    posted = hold.posted_amount
    assert posted is not None
    legs = (Leg(hold.from_account_id, -posted, hold.currency), Leg(hold.to_account_id, posted, hold.currency))
    return transaction_from_result(row, transaction_id, hold.kind, legs, hold.reference, hold.metadata,
                                   hold.category, hold.merchant, hold_id=hold_id)


def void_hold(conn: psycopg.Connection, hold_id: uuid.UUID) -> Hold:
    """Release a pending hold. Idempotent: voiding a voided (or already expired) hold returns it;
    voiding a posted hold raises hold_already_posted."""
    row = conn.execute("SELECT code, detail, hold FROM ledger_hold_void(%s)",
                       (check_id(hold_id, "hold_id"),)).fetchone()
    return _answer(row)


def expire_holds(conn: psycopg.Connection, now: datetime | None = None, *,
                 limit: int = limits.MAX_EXPIRE_BATCH) -> int:
    """Mark pending holds with expires_at <= `now` (default: the database clock) as expired and release
    them, oldest first, at most `limit` per call. Returns how many it expired; run it periodically
    (`python -m ledger expire-holds`) until it returns 0."""
    if not isinstance(limit, int) or not 1 <= limit <= limits.MAX_EXPIRE_BATCH:
        raise LimitExceeded(f"limit must be between 1 and {limits.MAX_EXPIRE_BATCH}")
    if now is not None:
        check_instant(now, "now")
    row = conn.execute("SELECT ledger_holds_expire(coalesce(%s::timestamptz, clock_timestamp()), %s)",
                       (now, limit)).fetchone()
    assert row is not None and 0 <= row[0] <= limit
    return int(row[0])


def get_hold(conn: psycopg.Connection, hold_id: uuid.UUID) -> Hold | None:
    row = conn.execute("SELECT to_jsonb(h) FROM ledger_holds h WHERE h.id = %s",
                       (check_id(hold_id, "hold_id"),)).fetchone()
    return None if row is None else _hold(row[0])


def pending_holds(conn: psycopg.Connection, account_id: uuid.UUID) -> list[Hold]:
    """Pending holds reserving funds of `account_id` (not yet past expiry), soonest expiry first."""
    rows = conn.execute(
        """SELECT to_jsonb(h) FROM ledger_holds h
           WHERE h.from_account_id = %s AND h.status = 'pending' AND h.expires_at > clock_timestamp()
           ORDER BY h.expires_at, h.id LIMIT %s""",
        (check_id(account_id, "account_id"), limits.MAX_PAGE_SIZE)).fetchall()
    return [_hold(row[0]) for row in rows]
