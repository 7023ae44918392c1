"""/v1/crypto: a quote with the network fee shown before anything is confirmed, then a purchase paid by a
pull from the customer's account at another bank (api/sagas/flows.py crypto_purchase).

A purchase is idempotent on the Idempotency-Key: the saga's id is derived from the customer and the key.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.deps import CustomerIdDep, SessionDep
from api.money import InvalidMoney, check_currency, to_decimal_string, to_minor
from api.problems import Problem
from api.providers import crypto_client
from api.providers.errors import ProviderError, ProviderNotFound, ProviderRejected
from api.sagas import client
from api.sagas.service import steps_of
from api.transfers import idempotency
from api.transfers.iban import valid_iban

router = APIRouter(prefix="/v1/crypto", tags=["crypto"])
NAMESPACE = uuid.UUID("a3c1e5d2-8f4b-4e7a-9b61-2d5c7e9f0a13")
# Fixed-length alphabets, anchored, no nested repetition: linear in the input.
ADDRESS = {"ETH": re.compile(r"0x[0-9a-fA-F]{40}"),
           "BTC": re.compile(r"(bc1[02-9ac-hj-np-z]{25,59}|[13][1-9A-HJ-NP-Za-km-z]{25,34})")}
PURCHASE_STATUS = {"running": "pending", "completed": "completed", "compensated": "refunded", "failed": "failed",
                   "dead_lettered": "delayed"}


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: Literal["BTC", "ETH"]
    amount: str = Field(min_length=1, max_length=20, strict=True, description="Fiat to spend, e.g. \"100.00\"")
    currency: str = Field(min_length=3, max_length=3, strict=True)


class QuoteOut(BaseModel):
    quote_id: str
    asset: str
    asset_amount: str
    rate: str
    amount: str
    network_fee: str
    total: str
    currency: str
    expires_at: datetime | None


class PayFrom(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=140, strict=True)
    iban: str = Field(min_length=15, max_length=34, strict=True)

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        if not valid_iban(value):
            raise ValueError("iban is not valid (checksum)")
        return value


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quote_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    destination_address: str = Field(min_length=20, max_length=100, strict=True)
    pay_from: PayFrom


class PurchaseOut(BaseModel):
    purchase_id: str
    status: str
    asset: str
    asset_amount: str
    total: str
    network_fee: str
    currency: str
    failure_reason: str | None = None
    steps: list[dict[str, Any]] = []


def _provider_down(exc: ProviderError) -> Problem:
    return Problem(503, "provider_unavailable", "The crypto gateway is not answering; try again in a moment",
                   str(type(exc).__name__))


@router.post("/quotes", status_code=201, response_model=QuoteOut)
async def quote(body: QuoteIn, customer_id: CustomerIdDep) -> QuoteOut:
    """What `amount` buys now, and the network fee on top, valid for a minute: shown before any confirmation."""
    try:
        currency = check_currency(body.currency)
        amount = to_minor(body.amount, currency)
    except InvalidMoney as exc:
        raise Problem(422, exc.code, str(exc)) from exc
    try:
        q = await run_in_threadpool(crypto_client().quote, asset=body.asset, fiat_amount_minor=amount,
                                    fiat_currency=currency)
    except ProviderRejected as exc:
        raise Problem(422, "quote_refused", "The crypto gateway refused this quote", exc.reason) from exc
    except ProviderError as exc:
        raise _provider_down(exc) from exc
    fiat = q.fiat_amount_minor if q.fiat_amount_minor is not None else amount
    return QuoteOut(quote_id=q.id, asset=q.asset, asset_amount=str(q.asset_amount), rate=str(q.rate),
                    amount=to_decimal_string(fiat, currency),
                    network_fee=to_decimal_string(q.network_fee_minor, currency),
                    total=to_decimal_string(fiat + q.network_fee_minor, currency), currency=currency,
                    expires_at=q.expires_at)


def _checking(session: Any, customer_id: uuid.UUID, currency: str) -> tuple[str, str]:
    row = session.execute(text(
        "SELECT a.id, u.kyc_status FROM users u LEFT JOIN ledger_accounts a ON a.owner_id = CAST(u.id AS text) "
        "AND a.kind = 'checking' AND a.currency = :currency AND a.status = 'active' WHERE u.id = :id "
        "ORDER BY a.created_at LIMIT 1"), {"id": customer_id, "currency": currency}).first()
    assert row is not None, "a customer token names an existing user"
    if row[1] != "verified":
        raise Problem(403, "kyc_required", "Verify your identity before buying crypto", kyc_status=row[1])
    if row[0] is None:
        raise Problem(422, "no_account_in_currency", f"You have no {currency} current account for this purchase")
    return str(row[0]), str(row[1])


@router.post("/purchases", status_code=202, response_model=PurchaseOut)
async def purchase(body: PurchaseIn, customer_id: CustomerIdDep, session: SessionDep,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> dict[str, Any]:
    """Buy under a quote: the money is pulled from `pay_from`, then the crypto is sent to the address."""
    key = idempotency.check_key(idempotency_key)
    saga_id = f"crypto_purchase:{uuid.uuid5(NAMESPACE, f'{customer_id}:{key}')}"
    if (existing := await run_in_threadpool(_purchase, session, customer_id, saga_id)) is not None:
        return existing
    try:
        q = await run_in_threadpool(crypto_client().get_quote, body.quote_id)
    except ProviderNotFound as exc:
        raise Problem(404, "quote_not_found", "No such quote") from exc
    except ProviderError as exc:
        raise _provider_down(exc) from exc
    if not ADDRESS[q.asset].fullmatch(body.destination_address):
        raise Problem(422, "invalid_address", f"That is not a {q.asset} address")
    if q.expires_at is not None and q.expires_at <= datetime.now(q.expires_at.tzinfo):
        raise Problem(422, "quote_expired", "The quote has expired; ask for a new one")
    account_id, _ = await run_in_threadpool(_checking, session, customer_id, q.fiat_currency)
    fiat = int(q.fiat_amount_minor or 0)
    order = {"customer_id": str(customer_id), "account_id": account_id, "quote_id": q.id, "asset": q.asset,
             "asset_amount": str(q.asset_amount), "fiat_minor": fiat, "fee_minor": q.network_fee_minor,
             "total_minor": fiat + q.network_fee_minor, "currency": q.fiat_currency,
             "destination_address": body.destination_address, "pay_from": body.pay_from.model_dump()}
    await run_in_threadpool(client.enqueue, "crypto_purchase", saga_id, order)
    return _out(saga_id, "running", order, None, [])


def _out(saga_id: str, status: str, order: dict[str, Any], reason: str | None,
         steps: list[dict[str, Any]]) -> dict[str, Any]:
    currency = order["currency"]
    return {"purchase_id": saga_id, "status": PURCHASE_STATUS[status], "asset": order["asset"],
            "asset_amount": order["asset_amount"], "total": to_decimal_string(int(order["total_minor"]), currency),
            "network_fee": to_decimal_string(int(order["fee_minor"]), currency), "currency": currency,
            "failure_reason": reason, "steps": steps}


def _purchase(session: Any, customer_id: uuid.UUID, saga_id: str) -> dict[str, Any] | None:
    saga = session.execute(text("SELECT status, failure_reason, payload FROM sagas WHERE id = :id AND "
                                "customer_id = :customer"), {"id": saga_id, "customer": customer_id}).first()
    if saga is None:
        return None
    return _out(saga_id, saga[0], saga[2], saga[1], steps_of(session, saga_id))


@router.get("/purchases/{purchase_id}", response_model=PurchaseOut)
def get_purchase(purchase_id: str, customer_id: CustomerIdDep, session: SessionDep) -> dict[str, Any]:
    found = _purchase(session, customer_id, purchase_id) if len(purchase_id) <= 100 else None
    if found is None:
        raise Problem(404, "purchase_not_found", "No such purchase")
    return found
