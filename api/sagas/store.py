"""The sagas' transaction steps: each commits its ledger posting, the bank's records (transfer, saga, step,
outbox event) and DBOS's checkpoint in one database transaction, so each happens exactly once.

Run inside a workflow they are checkpointed (a replay returns the recorded result, never posts again);
called outside one (tests, operators) they are plain transactions. Each is idempotent on its own too
(deterministic ledger ids, status checks under a row lock), which is what a posting must be anyway.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import psycopg
import sqlalchemy.exc
from psycopg.types.json import Jsonb

import ledger
from api.bank_accounts import bank_account
from api.sagas.engine import datasource, tx_options

P = ParamSpec("P")
R = TypeVar("R")
NAMESPACE = uuid.UUID("5d0b8f0e-4c1a-4f53-9a59-3c1f3f6a2b71")
TERMINAL = ("completed", "compensated", "failed", "dead_lettered")

# Provider reason codes -> the transfer's failure_reason (a code the assistant and the app put in words).
FAILURE_REASONS = {"AC01": "account_details_wrong", "R01": "returned_insufficient_funds",
                   "R03": "returned_account_not_found", "AM04": "insufficient_funds"}


def transaction(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A DBOS transaction step on the ledger's database (READ COMMITTED, checkpointed with its writes).

    A deadlock or serialization failure is raised as SQLAlchemy's error, which DBOS retries with backoff
    (it recognises only those); raw psycopg errors from the ledger's calls would otherwise fail the step."""
    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def body(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                raise sqlalchemy.exc.OperationalError(name, None, exc) from exc

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            return datasource().run_tx_step(tx_options(name), body, *args, **kwargs)  # type: ignore[arg-type]
        return run
    return wrap


def _conn() -> psycopg.Connection:
    """The transaction step's own connection (psycopg), for the ledger's functions."""
    raw = datasource().sql_session().connection().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def ledger_id(*parts: str) -> uuid.UUID:
    """A deterministic ledger transaction id: the same saga step always names the same posting."""
    return uuid.uuid5(NAMESPACE, ":".join(parts))


def _lock_saga(conn: psycopg.Connection, saga_id: str) -> str:
    row = conn.execute("SELECT status FROM sagas WHERE id = %s FOR UPDATE", (saga_id,)).fetchone()
    assert row is not None, f"saga {saga_id} is recorded before its steps"
    return str(row[0])


def _step(conn: psycopg.Connection, saga_id: str, name: str, status: str, *, error: str | None = None,
          detail: dict[str, Any] | None = None) -> None:
    conn.execute(
        "INSERT INTO saga_steps (saga_id, seq, name, status, error, detail) "
        "SELECT %s, coalesce(max(seq), 0) + 1, %s, %s, %s, %s FROM saga_steps WHERE saga_id = %s",
        (saga_id, name, status, error, Jsonb(detail or {}), saga_id))
    conn.execute("UPDATE sagas SET updated_at = now() WHERE id = %s", (saga_id,))


def _finish(conn: psycopg.Connection, saga_id: str, status: str, *, reason: str | None = None,
            result: dict[str, Any] | None = None) -> None:
    assert status in TERMINAL
    conn.execute("UPDATE sagas SET status = %s, failure_reason = %s, result = result || %s, updated_at = now() "
                 "WHERE id = %s", (status, reason, Jsonb(result or {}), saga_id))


def _outbox(conn: psycopg.Connection, topic: str, subject_id: str, customer_id: Any,
            payload: dict[str, Any]) -> None:
    conn.execute("INSERT INTO outbox (topic, subject_id, customer_id, payload) VALUES (%s, %s, %s, %s)",
                 (topic, subject_id, customer_id, Jsonb(payload)))


@transaction("saga.start")
def start(saga_id: str, kind: str, *, customer_id: str | None, subject_id: str,
          payload: dict[str, Any]) -> str:
    """Record the saga (once) and answer its current status."""
    conn = _conn()
    inserted = conn.execute(
        "INSERT INTO sagas (id, kind, customer_id, subject_id, payload) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (id) DO NOTHING RETURNING status", (saga_id, kind, customer_id, subject_id, Jsonb(payload))
    ).fetchone()
    if inserted is not None:
        _step(conn, saga_id, "started", "done")
        return "running"
    return _lock_saga(conn, saga_id)


@transaction("saga.step")
def step(saga_id: str, name: str, status: str, *, error: str | None = None,
         detail: dict[str, Any] | None = None) -> None:
    """Record a step the customer or an operator may want to see (a provider's answer, a wait)."""
    conn = _conn()
    _lock_saga(conn, saga_id)
    _step(conn, saga_id, name, status, error=error, detail=detail)


@transaction("saga.finish")
def finish(saga_id: str, status: str, *, reason: str | None = None, result: dict[str, Any] | None = None,
           event: str | None = None) -> None:
    """End a saga that has no posting of its own to make (its last step recorded with it)."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return
    _step(conn, saga_id, status, "done" if status in ("completed", "compensated") else "failed", error=reason)
    _finish(conn, saga_id, status, reason=reason, result=result)
    if event is not None:
        row = conn.execute("SELECT subject_id, customer_id FROM sagas WHERE id = %s", (saga_id,)).fetchone()
        assert row is not None
        _outbox(conn, event, row[0], row[1], {"saga_id": saga_id, "status": status, "reason": reason,
                                              **(result or {})})


@transaction("saga.dead_letter")
def dead_letter(saga_id: str, reason: str) -> None:
    """Give up: the saga stays visible to operators, with an alert event; its money stays where it is."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return
    _step(conn, saga_id, "dead_lettered", "failed", error=reason)
    _finish(conn, saga_id, "dead_lettered", reason=reason)
    row = conn.execute("SELECT kind, subject_id, customer_id FROM sagas WHERE id = %s", (saga_id,)).fetchone()
    assert row is not None
    _outbox(conn, "saga.dead_lettered", row[1], row[2], {"saga_id": saga_id, "kind": row[0], "reason": reason,
                                                          "alert": True})


# --- external transfers out ---------------------------------------------------------------------

@transaction("transfer.facts")
def transfer_facts(transfer_id: str) -> dict[str, Any] | None:
    """What the rails need to pay a pending external transfer; None when it is not pending any more."""
    row = _conn().execute(
        "SELECT status, customer_id, amount, currency, counterparty, reference, ledger_transaction_id "
        "FROM transfers WHERE id = %s AND to_account_id IS NULL", (transfer_id,)).fetchone()
    if row is None or row[0] != "pending":
        return None
    return {"customer_id": str(row[1]), "amount": int(row[2]), "currency": row[3], "counterparty": row[4],
            "reference": row[5], "hold_id": str(row[6])}


def _lock_transfer(conn: psycopg.Connection, transfer_id: str) -> tuple[str, Any, int, str, uuid.UUID, Any]:
    row = conn.execute("SELECT status, customer_id, amount, currency, ledger_transaction_id, from_account_id "
                       "FROM transfers WHERE id = %s FOR UPDATE", (transfer_id,)).fetchone()
    assert row is not None, f"transfer {transfer_id} exists"
    return row[0], row[1], int(row[2]), row[3], row[4], row[5]


@transaction("transfer.settle")
def settle_transfer(saga_id: str, transfer_id: str, payment_id: str) -> str:
    """The rails settled it: the hold is posted to the clearing account and the transfer is completed."""
    conn = _conn()
    _lock_saga(conn, saga_id)
    status, customer_id, amount, currency, hold_id, _ = _lock_transfer(conn, transfer_id)
    if status != "pending":
        return status
    ledger.post_hold(conn, hold_id, transaction_id=ledger_id(str(hold_id), "settle"))
    conn.execute("UPDATE transfers SET status = 'completed', updated_at = now() WHERE id = %s", (transfer_id,))
    _step(conn, saga_id, "settled", "done", detail={"payment_id": payment_id})
    _finish(conn, saga_id, "completed", result={"payment_id": payment_id})
    _outbox(conn, "transfer.completed", transfer_id, customer_id,
            {"transfer_id": transfer_id, "amount": amount, "currency": currency})
    return "completed"


@transaction("transfer.fail")
def fail_transfer(saga_id: str, transfer_id: str, code: str | None, error: str) -> str:
    """The rails refused it: the hold is released (the compensation) and the transfer has failed."""
    conn = _conn()
    _lock_saga(conn, saga_id)
    status, customer_id, amount, currency, hold_id, _ = _lock_transfer(conn, transfer_id)
    if status != "pending":
        return status
    ledger.void_hold(conn, hold_id)
    reason = FAILURE_REASONS.get(code or "", "rejected_by_receiving_bank")
    conn.execute("UPDATE transfers SET status = 'failed', failure_reason = %s, updated_at = now() WHERE id = %s",
                 (reason, transfer_id))
    _step(conn, saga_id, "rejected", "failed", error=error, detail={"code": code})
    _finish(conn, saga_id, "compensated", reason=reason)
    _outbox(conn, "transfer.failed", transfer_id, customer_id,
            {"transfer_id": transfer_id, "amount": amount, "currency": currency, "reason": reason})
    return "failed"


@transaction("transfer.return")
def return_transfer(saga_id: str, transfer_id: str, code: str | None) -> str:
    """Money came back days after settlement: it goes back to the customer's account, the transfer failed."""
    conn = _conn()
    _lock_saga(conn, saga_id)
    status, customer_id, amount, currency, hold_id, from_account = _lock_transfer(conn, transfer_id)
    if status != "completed":
        return status  # pending: not settled yet (the caller waits); failed: already returned or rejected
    reason = FAILURE_REASONS.get(code or "", "returned_by_receiving_bank")
    ledger.post_transfer(conn, transaction_id=ledger_id(str(hold_id), "return"),
                         from_account_id=bank_account(conn, "clearing", currency).id, to_account_id=from_account,
                         amount=amount, currency=currency, kind="transfer_return", reference=f"Returned: {code}")
    conn.execute("UPDATE transfers SET status = 'failed', failure_reason = %s, updated_at = now() WHERE id = %s",
                 (reason, transfer_id))
    _step(conn, saga_id, "returned", "done", detail={"code": code})
    _finish(conn, saga_id, "completed", reason=reason)
    _outbox(conn, "transfer.returned", transfer_id, customer_id,
            {"transfer_id": transfer_id, "amount": amount, "currency": currency, "reason": reason})
    return "returned"


# --- money coming in ----------------------------------------------------------------------------

@transaction("incoming.credit")
def credit_incoming(saga_id: str, payment: dict[str, Any]) -> str:
    """A credit transfer arrived for one of our accounts: clearing -> the account, once."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    account_id = str((payment.get("creditor") or {}).get("account_id") or "")
    amount, currency = int(payment["amount_minor"]), str(payment["currency"])
    account = None
    try:
        account = ledger.get_account(conn, uuid.UUID(account_id))
    except (ValueError, ledger.LedgerError):
        account = None
    if account is None or account.owner_id is None or account.currency != currency or account.status != "active":
        _step(conn, saga_id, "unknown_account", "failed", detail={"payment_id": payment["id"]})
        return "unknown_account"
    ledger.post_transfer(conn, transaction_id=ledger_id("incoming", str(payment["id"])),
                         from_account_id=bank_account(conn, "clearing", currency).id, to_account_id=account.id,
                         amount=amount, currency=currency, kind="incoming_transfer",
                         reference=str(payment.get("reference") or "")[:140] or None,
                         metadata={"payment_id": str(payment["id"])}, category="income")
    conn.execute("UPDATE sagas SET customer_id = %s WHERE id = %s", (account.owner_id, saga_id))
    _step(conn, saga_id, "credited", "done", detail={"payment_id": payment["id"]})
    _finish(conn, saga_id, "completed", result={"account_id": str(account.id)})
    _outbox(conn, "payment.received", str(payment["id"]), account.owner_id,
            {"account_id": str(account.id), "amount": amount, "currency": currency})
    return "credited"


# --- KYC ----------------------------------------------------------------------------------------

@transaction("kyc.apply")
def apply_kyc(saga_id: str, customer_id: str, verdict: str, applicant_id: str) -> str:
    """The provider's verdict sets the customer's verification status, which the transfer gate reads."""
    from api.audit.service import record

    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    assert verdict in ("verified", "rejected")
    # The customer's row first: two verdicts at once would otherwise deadlock (the event's foreign key
    # takes a share lock on it, then the update wants it exclusively).
    previous = conn.execute("SELECT kyc_status FROM users WHERE id = %s FOR UPDATE", (customer_id,)).fetchone()
    inserted = conn.execute(
        "INSERT INTO kyc_events (event_id, customer_id, status) VALUES (%s, %s, %s) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id", (f"kyc:{applicant_id}", customer_id, verdict)
    ).fetchone()
    if inserted is not None:
        conn.execute("UPDATE users SET kyc_status = %s WHERE id = %s", (verdict, customer_id))
        record(datasource().sql_session(), "provider:kyc", "kyc.status", "user", customer_id,
               previous=previous[0] if previous else None, status=verdict, applicant_id=applicant_id)
    _step(conn, saga_id, verdict, "done", detail={"applicant_id": applicant_id})
    _finish(conn, saga_id, "completed", result={"verdict": verdict})
    _outbox(conn, "kyc.reviewed", customer_id, customer_id, {"status": verdict})
    return verdict


# --- card refunds ---------------------------------------------------------------------------------

@transaction("card_refund.credit")
def credit_card_refund(saga_id: str, transaction_id: str, account_id: str, amount: int, currency: str,
                       refund_id: str) -> str:
    """The processor refunded a card payment: the money comes back to the card's account, once.

    Posted as a card payment the other way, with the original's category and merchant, so the
    customer's spending nets out (ledger/spending.py sums signed card payments)."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    original = ledger.get_transaction(conn, uuid.UUID(transaction_id))
    assert original is not None and original.kind == "card_payment"
    ledger.post_transfer(conn, transaction_id=ledger_id("card_refund", transaction_id),
                         from_account_id=bank_account(conn, "settlement", currency).id,
                         to_account_id=uuid.UUID(account_id), amount=amount, currency=currency, kind="card_payment",
                         reference=f"Refund: {original.merchant or 'card payment'}"[:140],
                         metadata={"refund_of": transaction_id, "refund_id": refund_id},
                         category=original.category, merchant=original.merchant)
    _step(conn, saga_id, "refunded", "done", detail={"refund_id": refund_id})
    _finish(conn, saga_id, "completed", result={"refund_id": refund_id, "amount": amount})
    row = conn.execute("SELECT customer_id FROM sagas WHERE id = %s", (saga_id,)).fetchone()
    _outbox(conn, "card_refund.completed", transaction_id, row[0] if row else None,
            {"transaction_id": transaction_id, "amount": amount, "currency": currency})
    return "refunded"


# --- fiat-to-crypto purchases ---------------------------------------------------------------------

@transaction("crypto.collected")
def crypto_funds_collected(saga_id: str, account_id: str, amount: int, currency: str, pull_id: str) -> str:
    """The pull from the customer's other bank arrived: credit their account, and reserve it for the gateway."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    clearing = bank_account(conn, "clearing", currency).id
    ledger.post_transfer(conn, transaction_id=ledger_id(saga_id, "pull"), from_account_id=clearing,
                         to_account_id=uuid.UUID(account_id), amount=amount, currency=currency,
                         kind="direct_debit_in", reference="Top-up for a crypto purchase",
                         metadata={"pull_id": pull_id})
    ledger.create_hold(conn, hold_id=ledger_id(saga_id, "hold"), from_account_id=uuid.UUID(account_id),
                       to_account_id=clearing, amount=amount, currency=currency, kind="crypto_purchase",
                       reference="Crypto purchase", expires_at=datetime.now(UTC) + timedelta(days=7))
    _step(conn, saga_id, "collected", "done", detail={"pull_id": pull_id})
    return "collected"


@transaction("crypto.settle")
def crypto_settled(saga_id: str, crypto_id: str) -> str:
    """The crypto arrived: the reserved money goes to the gateway (through clearing)."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    ledger.post_hold(conn, ledger_id(saga_id, "hold"), transaction_id=ledger_id(saga_id, "settle"))
    _step(conn, saga_id, "confirmed", "done", detail={"crypto_id": crypto_id})
    _finish(conn, saga_id, "completed", result={"crypto_id": crypto_id})
    row = conn.execute("SELECT customer_id FROM sagas WHERE id = %s", (saga_id,)).fetchone()
    _outbox(conn, "crypto_purchase.completed", saga_id, row[0] if row else None, {"crypto_id": crypto_id})
    return "completed"


@transaction("crypto.refunded")
def crypto_refunded(saga_id: str, refund_id: str | None, reason: str) -> str:
    """The crypto leg failed: the money went back to the customer's other bank (the hold is posted out), or,
    if that bank refused it, stays in the customer's account here (the hold is released)."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    if refund_id is not None:
        ledger.post_hold(conn, ledger_id(saga_id, "hold"), transaction_id=ledger_id(saga_id, "refund"))
        _step(conn, saga_id, "refunded", "done", error=reason, detail={"refund_id": refund_id})
    else:
        ledger.void_hold(conn, ledger_id(saga_id, "hold"))
        _step(conn, saga_id, "kept_in_account", "done", error=reason)
    _finish(conn, saga_id, "compensated", reason=reason, result={"refund_id": refund_id} if refund_id else None)
    row = conn.execute("SELECT customer_id FROM sagas WHERE id = %s", (saga_id,)).fetchone()
    _outbox(conn, "crypto_purchase.refunded", saga_id, row[0] if row else None, {"reason": reason})
    return "compensated"


@transaction("crypto.dropped")
def crypto_dropped(saga_id: str, purchase_saga_id: str, code: str | None, cause: str) -> str:
    """A confirmed transfer was dropped from the chain later: the gateway owes the money back, so the
    customer's account is credited (from clearing) once."""
    conn = _conn()
    if _lock_saga(conn, saga_id) in TERMINAL:
        return "done"
    purchase = conn.execute("SELECT status, customer_id, payload, result FROM sagas WHERE id = %s FOR UPDATE",
                            (purchase_saga_id,)).fetchone()
    if purchase is None:
        return "unknown"
    # A drop counts only against a completed purchase (one that saw the drop itself refunded already); a
    # returned refund only against a purchase that refunded.
    refund_returned = cause == "refund_returned"
    expected = "compensated" if refund_returned else "completed"
    if purchase[0] != expected or (refund_returned and "refund_id" not in purchase[3]):
        return purchase[0]
    payload = purchase[2]
    ledger.post_transfer(conn, transaction_id=ledger_id(purchase_saga_id, "dropped"),
                         from_account_id=bank_account(conn, "clearing", payload["currency"]).id,
                         to_account_id=uuid.UUID(payload["account_id"]), amount=int(payload["total_minor"]),
                         currency=payload["currency"], kind="crypto_reversal",
                         reference=f"Crypto transfer dropped: {code}")
    what = "the refund to your other bank was returned" if refund_returned else "dropped by the network"
    _step(conn, purchase_saga_id, "refund_returned" if refund_returned else "dropped", "failed",
          error=f"{what} ({code}); the money is in your account")
    _step(conn, saga_id, "credited", "done")
    conn.execute("UPDATE sagas SET status = 'compensated', failure_reason = %s, updated_at = now() WHERE id = %s",
                 (f"{'refund_returned' if refund_returned else 'dropped'}_{code}".lower()[:64], purchase_saga_id))
    _finish(conn, saga_id, "completed")
    _outbox(conn, "crypto_purchase.dropped", purchase_saga_id, purchase[1], {"code": code})
    return "credited"
