"""Card processor: authorizations (approve or decline at once), captures, refunds that settle later."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from sandbox import store
from sandbox.jobs import Transition, Tx
from sandbox.problems import Problem
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
    new_object,
    require_key,
)
from sandbox.store import Obj

PROVIDER = "cards"
Ref = Annotated[str, Field(min_length=1, max_length=100)]

router = APIRouter(prefix="/cards/v1")


class Merchant(Body):
    """A merchant given as an object."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    mcc: Annotated[str | None, Field(max_length=8)] = None
    country: Annotated[str | None, Field(max_length=3)] = None


class AuthorizationIn(Body):
    """POST /v1/authorizations."""

    card_id: Ref
    amount_minor: Amount
    currency: Currency
    merchant: Annotated[str, Field(min_length=1, max_length=200)] | Merchant


class CaptureIn(Body):
    """POST /v1/captures."""

    authorization_id: Ref
    amount_minor: Amount


class RefundIn(Body):
    """POST /v1/refunds."""

    capture_id: Ref | None = None
    transaction_ref: Ref
    amount_minor: Amount
    currency: Currency


@router.post("/authorizations", status_code=201)
async def create_authorization(request: Request, body: AuthorizationIn,
                               idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Approve, or decline with 51 (amount ends in 51) or 05 (ends in 05)."""
    key = require_key(idempotency_key)
    code = "51" if ends_in(body.amount_minor, 51) else "05" if ends_in(body.amount_minor, 5) else None

    def build(now: datetime) -> Obj:
        merchant = body.merchant if isinstance(body.merchant, str) else body.merchant.model_dump(mode="json")
        return new_object(provider=PROVIDER, collection="authorizations", kind="authorization", prefix="auth",
                          key=key, digest=None, now=now, status="declined" if code else "approved",
                          reason_code=code, amount_minor=body.amount_minor, currency=body.currency,
                          fields={"card_id": body.card_id, "amount_minor": body.amount_minor,
                                  "currency": body.currency, "merchant": merchant, "decline_code": code})

    return await create_once(request, key=key, body=body, build=build)


@router.post("/captures", status_code=201)
async def create_capture(request: Request, body: CaptureIn,
                         idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Capture (part of) an approved authorization: 404 unknown, 422 declined or over the authorized amount."""
    key = require_key(idempotency_key)
    made: dict[str, Obj] = {}

    async def prepare(conn: psycopg.AsyncConnection, _: datetime) -> None:
        # Locking the authorization serializes captures against it, so two cannot both fit the remainder.
        auth = await store.get_object(conn, body.authorization_id, provider=PROVIDER, collection="authorizations",
                                      lock=True)
        if auth is None:
            raise Problem(404, "not_found", "No such authorization")
        if auth.status != "approved":
            raise Problem(422, "authorization_declined", "The authorization was declined")
        row = await (await conn.execute(
            "SELECT coalesce(sum(amount_minor), 0) AS captured FROM sandbox.objects "
            "WHERE provider = 'cards' AND collection = 'captures' AND data->>'authorization_id' = %s",
            (auth.id,))).fetchone()
        captured = int(row["captured"])  # type: ignore[index,call-overload]
        if captured + body.amount_minor > int(auth.amount_minor or 0):
            raise Problem(422, "amount_exceeds_authorization", "The capture exceeds the authorized amount")
        # The capture is in the authorization's currency.
        made["capture"].currency = auth.currency
        made["capture"].data["currency"] = auth.currency

    def build(now: datetime) -> Obj:
        made["capture"] = new_object(provider=PROVIDER, collection="captures", kind="capture", prefix="cap", key=key,
                         digest=None, now=now, status="captured", amount_minor=body.amount_minor,
                         fields={"authorization_id": body.authorization_id, "amount_minor": body.amount_minor,
                                 "currency": None})
        return made["capture"]

    return await create_once(request, key=key, body=body, build=build, prepare=prepare)


@router.post("/refunds", status_code=201)
async def create_refund(request: Request, body: RefundIn,
                        idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Start a refund: succeeded (or failed R_EXPIRED, amount ends in 13) at the next tick."""
    key = require_key(idempotency_key)
    settle = engine_of(request).settings.settle_seconds

    async def prepare(conn: psycopg.AsyncConnection, _: datetime) -> None:
        if body.capture_id is not None and await store.get_object(
                conn, body.capture_id, provider=PROVIDER, collection="captures") is None:
            raise Problem(404, "not_found", "No such capture")

    def build(now: datetime) -> Obj:
        return new_object(provider=PROVIDER, collection="refunds", kind="refund", prefix="rf", key=key,
                          digest=None, now=now, status="pending", amount_minor=body.amount_minor,
                          currency=body.currency,
                          fields={"capture_id": body.capture_id, "transaction_ref": body.transaction_ref,
                                  "amount_minor": body.amount_minor, "currency": body.currency})

    return await create_once(request, key=key, body=body, build=build, prepare=prepare,
                             jobs=(("rf.settle", settle),))


def _getters(collection: str) -> None:
    async def by_id(request: Request, object_id: str) -> JSONResponse:
        return await fetch(request, PROVIDER, collection, object_id)

    async def by_key(request: Request, idempotency_key: IdempotencyQuery = None) -> JSONResponse:
        return await fetch_by_key(request, PROVIDER, collection, idempotency_key)

    router.add_api_route(f"/{collection}/{{object_id}}", by_id, methods=["GET"], name=f"get_{collection}")
    router.add_api_route(f"/{collection}", by_key, methods=["GET"], name=f"{collection}_by_key")


for _collection in ("authorizations", "captures", "refunds"):
    _getters(_collection)


async def _settle_refund(tx: Tx, obj: Obj) -> None:
    if obj.status != "pending":
        return
    if ends_in(int(obj.amount_minor or 0), 13):
        await tx.save(obj, "failed", "R_EXPIRED")
        await tx.emit(obj, "refund.failed")
    else:
        await tx.save(obj, "succeeded")
        await tx.emit(obj, "refund.succeeded")


TRANSITIONS: dict[str, Transition] = {"rf.settle": _settle_refund}
