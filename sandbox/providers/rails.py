"""Bank rails: credit transfers out (settle, reject, return days later) and direct-debit pulls in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from sandbox.jobs import Transition, Tx
from sandbox.providers.common import (
    Amount,
    Body,
    Currency,
    IdempotencyHeader,
    IdempotencyQuery,
    create_once,
    ends_in,
    engine_of,
    fetch,
    fetch_by_key,
    json_answer,
    new_object,
    require_key,
)
from sandbox.store import Obj

PROVIDER = "rails"
RETURN_DELAY_SECONDS = 3 * 24 * 3600
Name = Annotated[str, Field(min_length=1, max_length=140)]
Iban = Annotated[str, Field(min_length=5, max_length=42, pattern=r"^[A-Za-z0-9 ]+$")]
Reference = Annotated[str | None, Field(max_length=140)]

router = APIRouter(prefix="/rails/v1")


class Creditor(Body):
    """Who receives a credit transfer."""

    name: Name
    iban: Iban | None = None
    account_number: Annotated[str | None, Field(min_length=1, max_length=34)] = None


class Debtor(Body):
    """Whose account a direct debit pulls from."""

    name: Name
    iban: Iban


class CreditTransferIn(Body):
    """POST /v1/credit-transfers."""

    amount_minor: Amount
    currency: Currency
    creditor: Creditor
    reference: Reference = None


class DirectDebitIn(Body):
    """POST /v1/direct-debits."""

    amount_minor: Amount
    currency: Currency
    debtor: Debtor
    mandate_id: Annotated[str, Field(min_length=1, max_length=100)]
    reference: Reference = None


@router.post("/credit-transfers", status_code=201)
async def create_credit_transfer(request: Request, body: CreditTransferIn,
                                 idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Accept a credit transfer; it settles (or is rejected) at the next tick."""
    key = require_key(idempotency_key)
    settle = engine_of(request).settings.settle_seconds

    def build(now: datetime) -> Obj:
        return new_object(provider=PROVIDER, collection="credit-transfers", kind="credit_transfer", prefix="ct",
                          key=key, digest=None, now=now, status="accepted", amount_minor=body.amount_minor,
                          currency=body.currency,
                          fields={"amount_minor": body.amount_minor, "currency": body.currency,
                                  "creditor": body.creditor.model_dump(mode="json"), "reference": body.reference})

    return await create_once(request, key=key, body=body, build=build, jobs=(("ct.settle", settle),))


@router.get("/credit-transfers/{object_id}")
async def get_credit_transfer(request: Request, object_id: str) -> JSONResponse:
    """A credit transfer by id."""
    return await fetch(request, PROVIDER, "credit-transfers", object_id)


@router.get("/credit-transfers")
async def credit_transfer_by_key(request: Request, idempotency_key: IdempotencyQuery = None) -> JSONResponse:
    """A credit transfer by idempotency key."""
    return await fetch_by_key(request, PROVIDER, "credit-transfers", idempotency_key)


@router.post("/direct-debits", status_code=201)
async def create_direct_debit(request: Request, body: DirectDebitIn,
                              idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Start a direct-debit pull; it is collected (or fails) at the next tick."""
    key = require_key(idempotency_key)
    settle = engine_of(request).settings.settle_seconds

    def build(now: datetime) -> Obj:
        return new_object(provider=PROVIDER, collection="direct-debits", kind="direct_debit", prefix="dd",
                          key=key, digest=None, now=now, status="pending", amount_minor=body.amount_minor,
                          currency=body.currency,
                          fields={"amount_minor": body.amount_minor, "currency": body.currency,
                                  "debtor": body.debtor.model_dump(mode="json"), "mandate_id": body.mandate_id,
                                  "reference": body.reference})

    return await create_once(request, key=key, body=body, build=build, jobs=(("dd.collect", settle),))


@router.get("/direct-debits/{object_id}")
async def get_direct_debit(request: Request, object_id: str) -> JSONResponse:
    """A direct debit by id."""
    return await fetch(request, PROVIDER, "direct-debits", object_id)


@router.get("/direct-debits")
async def direct_debit_by_key(request: Request, idempotency_key: IdempotencyQuery = None) -> JSONResponse:
    """A direct debit by idempotency key."""
    return await fetch_by_key(request, PROVIDER, "direct-debits", idempotency_key)


async def _settle(tx: Tx, obj: Obj) -> None:
    if obj.status != "accepted":
        return
    amount = int(obj.amount_minor or 0)
    if ends_in(amount, 13):
        await tx.save(obj, "rejected", "AC01")
        await tx.emit(obj, "credit_transfer.rejected")
        return
    await tx.save(obj, "settled")
    await tx.emit(obj, "credit_transfer.settled")
    if ends_in(amount, 66) or ends_in(amount, 67):
        await tx.later(obj, "ct.return", RETURN_DELAY_SECONDS)


async def _return(tx: Tx, obj: Obj) -> None:
    if obj.status != "settled":
        return
    await tx.save(obj, "returned", "R01" if ends_in(int(obj.amount_minor or 0), 66) else "R03")
    await tx.emit(obj, "credit_transfer.returned")


async def _collect(tx: Tx, obj: Obj) -> None:
    if obj.status != "pending":
        return
    if ends_in(int(obj.amount_minor or 0), 13):
        await tx.save(obj, "failed", "AM04")
        await tx.emit(obj, "direct_debit.failed")
    else:
        await tx.save(obj, "collected")
        await tx.emit(obj, "direct_debit.collected")


TRANSITIONS: dict[str, Transition] = {"ct.settle": _settle, "ct.return": _return, "dd.collect": _collect}


STATEMENT_PAGE = 200


@router.get("/incoming/{object_id}")
async def get_incoming(request: Request, object_id: str) -> JSONResponse:
    """A payment received, by id: a bank confirms a webhook's news here before crediting anyone."""
    return await fetch(request, PROVIDER, "incoming", object_id)


@router.get("/incoming")
async def incoming_statement(request: Request, after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> JSONResponse:
    """The account statement of money received: every incoming transfer after cursor `after`, oldest first,
    at most 200, with the cursor to ask from next. A bank reads it to find payments whose webhook it missed."""
    async with engine_of(request).pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT seq, data FROM sandbox.objects WHERE provider = 'rails' AND collection = 'incoming' AND seq > %s "
            "ORDER BY seq LIMIT %s", (after, STATEMENT_PAGE))).fetchall()
    items = [row["data"] for row in rows]
    return json_answer({"items": items, "next": rows[-1]["seq"] if rows else after}, 200)
