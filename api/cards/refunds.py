"""/v1/card-refunds: a customer asks for a card payment back (a duplicate charge, a cancelled order); a
saga asks the card processor and credits the account when it refunds (api/sagas/flows.py card_refund).

One refund per card payment: the saga's id is the payment's, so asking twice shows the same refund.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.deps import CustomerIdDep, SessionDep
from api.money import InvalidMoney, to_decimal_string, to_minor
from api.problems import Problem
from api.sagas import client
from api.sagas.service import steps_of

router = APIRouter(prefix="/v1", tags=["cards"])
# The saga's status as the customer sees the refund.
REFUND_STATUS = {"running": "pending", "completed": "refunded", "failed": "failed", "compensated": "failed",
                 "dead_lettered": "delayed"}


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: uuid.UUID
    amount: str | None = Field(default=None, min_length=1, max_length=20, strict=True,
                               description="Part of the payment (decimal string); all of it when absent")


class RefundStepOut(BaseModel):
    name: str
    status: str
    at: datetime
    error: str | None = None


class RefundOut(BaseModel):
    refund_id: str
    transaction_id: uuid.UUID
    status: str
    amount: str
    currency: str
    failure_reason: str | None = None
    steps: list[RefundStepOut] = []


def _payment(session: Any, customer_id: uuid.UUID, transaction_id: uuid.UUID) -> tuple[str, int, str]:
    """The customer's account, amount and currency of one of their card payments, or 404."""
    row = session.execute(text(
        "SELECT e.account_id, -e.amount, e.currency FROM ledger_transactions t "
        "JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id "
        "WHERE t.id = :id AND t.kind = 'card_payment' AND e.amount < 0 AND a.owner_id = :owner"),
        {"id": transaction_id, "owner": str(customer_id)}).first()
    if row is None:
        raise Problem(404, "card_payment_not_found", "No such card payment")
    return str(row[0]), int(row[1]), str(row[2])


def _refund(session: Any, customer_id: uuid.UUID, transaction_id: uuid.UUID) -> dict[str, Any] | None:
    saga = session.execute(text("SELECT id, status, failure_reason, payload FROM sagas WHERE id = :id AND "
                                "customer_id = :customer"),
                           {"id": f"card_refund:{transaction_id}", "customer": customer_id}).mappings().first()
    if saga is None:
        return None
    payload = saga["payload"]
    return {"refund_id": saga["id"], "transaction_id": transaction_id, "status": REFUND_STATUS[saga["status"]],
            "amount": to_decimal_string(int(payload["amount"]), payload["currency"]), "currency": payload["currency"],
            "failure_reason": saga["failure_reason"], "steps": steps_of(session, saga["id"])}


@router.post("/card-refunds", status_code=202, response_model=RefundOut)
async def request_refund(body: RefundIn, customer_id: CustomerIdDep, session: SessionDep) -> dict[str, Any]:
    """Ask for a card payment back; the answer is the refund as it stands (pending until the processor decides)."""
    account_id, paid, currency = await run_in_threadpool(_payment, session, customer_id, body.transaction_id)
    try:
        amount = paid if body.amount is None else to_minor(body.amount, currency)
    except InvalidMoney as exc:
        raise Problem(422, exc.code, str(exc)) from exc
    if not 0 < amount <= paid:
        raise Problem(422, "refund_over_payment", "A refund is at most the payment's amount",
                      limit=to_decimal_string(paid, currency))
    existing = await run_in_threadpool(_refund, session, customer_id, body.transaction_id)
    if existing is not None:
        return existing
    await run_in_threadpool(client.enqueue, "card_refund", f"card_refund:{body.transaction_id}", str(customer_id),
                            str(body.transaction_id), account_id, amount, currency)
    return {"refund_id": f"card_refund:{body.transaction_id}", "transaction_id": body.transaction_id,
            "status": "pending", "amount": to_decimal_string(amount, currency), "currency": currency, "steps": []}


@router.get("/card-refunds/{transaction_id}", response_model=RefundOut)
def get_refund(transaction_id: uuid.UUID, customer_id: CustomerIdDep, session: SessionDep) -> dict[str, Any]:
    refund = _refund(session, customer_id, transaction_id)
    if refund is None:
        raise Problem(404, "refund_not_found", "No refund was asked for this payment")
    return refund
