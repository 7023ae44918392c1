"""Transfers: rules checked in one database transaction with the posting and the idempotency record.

Internal transfers (to one of the customer's own accounts) post at once. External transfers (to a
counterparty) reserve the money with a ledger hold and stay `pending` until the payment saga settles
them with the provider.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

import ledger
from api.accounts.service import owned_account
from api.audit.service import record
from api.auth.models import User
from api.auth.security import Principal
from api.bank_accounts import bank_account
from api.config import Settings
from api.db_conn import driver_connection
from api.ledger_errors import problem_from
from api.money import display
from api.problems import Problem
from api.transfers.models import Payee, Transfer

NAMESPACE = uuid.UUID("0b5c3f59-2f4e-4df4-9f0e-4a7b1f6a9c21")
EXTERNAL_HOLD_DAYS = 7  # a hold not settled by then expires and releases the money


@dataclass(frozen=True)
class TransferRequest:
    from_account_id: uuid.UUID
    to_account_id: uuid.UUID | None
    counterparty: dict[str, Any] | None
    payee_id: uuid.UUID | None
    amount: int
    currency: str
    reference: str | None


def ledger_transaction_id(customer_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """Deterministic per (customer, key): even past the key's expiry the ledger refuses a double posting."""
    return uuid.uuid5(NAMESPACE, f"{customer_id}:{idempotency_key}")


def _check_kyc_and_amount(session: Session, settings: Settings, customer_id: uuid.UUID, amount: int,
                          currency: str) -> None:
    user = session.get(User, customer_id)
    assert user is not None
    if user.kyc_status != "verified":
        raise Problem(403, "kyc_required", "Verify your identity before moving money",
                      detail=f"Identity verification is {user.kyc_status.replace('_', ' ')}.",
                      kyc_status=user.kyc_status)
    if amount > settings.transfer_max_minor:
        raise Problem(422, "transfer_limit_exceeded", "The amount is over the per-transfer limit",
                      limit=display(settings.transfer_max_minor, currency))


def _count_against_daily_limit(session: Session, settings: Settings, customer_id: uuid.UUID, amount: int,
                               currency: str) -> None:
    """Add to today's total, refusing past the limit. The upsert's row lock serialises one customer's
    transfers for the rest of the transaction only, so concurrent ones cannot both pass the limit;
    it runs last to keep that lock short. A refusal rolls the whole transaction back."""
    total = session.execute(text(
        "INSERT INTO transfer_daily_totals (customer_id, day, currency, total) "
        "VALUES (:c, (now() AT TIME ZONE 'UTC')::date, :cur, :a) "
        "ON CONFLICT (customer_id, day, currency) DO UPDATE SET total = transfer_daily_totals.total + :a "
        "RETURNING total"), {"c": customer_id, "cur": currency, "a": amount}).scalar_one()
    if total > settings.transfer_daily_max_minor:
        raise Problem(422, "daily_limit_exceeded", "The amount would go over your daily transfer limit",
                      limit=display(settings.transfer_daily_max_minor, currency),
                      remaining=display(max(0, settings.transfer_daily_max_minor - (total - amount)), currency))


def create(session: Session, settings: Settings, principal: Principal, customer_id: uuid.UUID,
           request: TransferRequest, idempotency_key: str) -> Transfer:
    """Check and post in the caller's transaction; the caller commits with the idempotency record."""
    conn = driver_connection(session)
    wanted = [request.from_account_id] + ([request.to_account_id] if request.to_account_id else [])
    found = ledger.get_accounts(conn, wanted)  # one query for both sides
    source = owned_account(conn, customer_id, request.from_account_id, found)
    if request.currency != source.currency:
        raise Problem(422, "currency_mismatch", f"The source account holds {source.currency}")
    if request.to_account_id == request.from_account_id:
        raise Problem(422, "same_account", "The source and destination are the same account")
    _check_kyc_and_amount(session, settings, customer_id, request.amount, request.currency)
    transaction_id = ledger_transaction_id(customer_id, idempotency_key)
    counterparty = request.counterparty
    if request.payee_id is not None:
        payee = session.get(Payee, request.payee_id)
        if payee is None or payee.customer_id != customer_id:
            raise Problem(404, "payee_not_found", "No such payee")
        counterparty = {"name": payee.name, **({"iban": payee.iban} if payee.iban else
                                               {"account_number": payee.account_number})}
    transfer = Transfer(id=uuid.uuid4(), customer_id=customer_id, from_account_id=source.id,
                        to_account_id=request.to_account_id, counterparty=counterparty,
                        amount=request.amount, currency=request.currency, reference=request.reference,
                        ledger_transaction_id=transaction_id)
    try:
        if request.to_account_id is not None:
            target = owned_account(conn, customer_id, request.to_account_id, found)
            if target.currency != source.currency:
                raise Problem(422, "currency_mismatch", "Both accounts must hold the same currency")
            ledger.post_transfer(conn, transaction_id=transaction_id, from_account_id=source.id,
                                 to_account_id=target.id, amount=request.amount, currency=request.currency,
                                 kind="internal_transfer", reference=request.reference, category="transfers",
                                 metadata={"transfer_id": str(transfer.id)})
            transfer.status = "completed"
        else:
            clearing = bank_account(conn, "clearing", request.currency)
            ledger.create_hold(conn, hold_id=transaction_id, from_account_id=source.id, to_account_id=clearing.id,
                               amount=request.amount, currency=request.currency, kind="external_transfer",
                               reference=request.reference, category="transfers",
                               metadata={"transfer_id": str(transfer.id)},
                               expires_at=datetime.now(UTC) + timedelta(days=EXTERNAL_HOLD_DAYS))
            transfer.status = "pending"
    except ledger.LedgerError as error:
        raise problem_from(error) from error
    session.add(transfer)
    session.flush()
    record(session, principal, "transfer.create", "transfer", transfer.id, status=transfer.status,
           amount=request.amount, currency=request.currency)
    _count_against_daily_limit(session, settings, customer_id, request.amount, request.currency)
    return transfer


def get(session: Session, customer_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None or transfer.customer_id != customer_id:
        raise Problem(404, "transfer_not_found", "No such transfer")
    return transfer


def payees_of(session: Session, customer_id: uuid.UUID) -> list[Payee]:
    return list(session.scalars(select(Payee).where(Payee.customer_id == customer_id).order_by(Payee.name)))


def recent(session: Session, customer_id: uuid.UUID, status: str | None, limit: int) -> list[Transfer]:
    assert 1 <= limit <= 100
    query = select(Transfer).where(Transfer.customer_id == customer_id)
    if status is not None:
        query = query.where(Transfer.status == status)
    return list(session.scalars(query.order_by(Transfer.created_at.desc(), Transfer.id).limit(limit)))
