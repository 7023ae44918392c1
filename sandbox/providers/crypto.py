"""Crypto gateway: quotes with the network fee, transfers that gather confirmations (or fail, or drop)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Literal

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
    ends_in,
    engine_of,
    fetch,
    fetch_by_key,
    json_answer,
    new_object,
    require_key,
)
from sandbox.providers.common import create_once as _create_once
from sandbox.store import Obj, iso

PROVIDER = "crypto"
QUOTE_SECONDS = 60
CONFIRMATIONS = 3
DROP_DELAY_SECONDS = 3600
# Fixed rates (fiat per unit, whatever the fiat) and fees (fiat minor units): a sandbox needs no market.
RATES = {"BTC": Decimal("60000.00"), "ETH": Decimal("3000.00")}
FEES = {"BTC": 250, "ETH": 120}
ZERO_DECIMAL = {"JPY", "KRW", "ISK", "CLP", "VND", "HUF"}

router = APIRouter(prefix="/crypto/v1")


class QuoteIn(Body):
    """POST /v1/quotes."""

    asset: Literal["BTC", "ETH"]
    fiat_amount_minor: Amount
    fiat_currency: Currency


class TransferIn(Body):
    """POST /v1/transfers."""

    quote_id: Annotated[str, Field(min_length=1, max_length=100)]
    destination_address: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:_-]+$")]


@router.post("/quotes", status_code=201)
async def create_quote(request: Request, body: QuoteIn) -> JSONResponse:
    """A quote: no effect, so no idempotency key; valid 60 virtual seconds."""
    engine = engine_of(request)
    now = engine.clock.now()
    rate = RATES[body.asset]
    fiat = Decimal(body.fiat_amount_minor).scaleb(0 if body.fiat_currency in ZERO_DECIMAL else -2)
    asset_amount = (fiat / rate).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
    quote = new_object(provider=PROVIDER, collection="quotes", kind="quote", prefix="q", key=None, digest=None,
                       now=now, status="open", amount_minor=body.fiat_amount_minor, currency=body.fiat_currency,
                       fields={"asset": body.asset, "asset_amount": str(asset_amount), "rate": str(rate),
                               "network_fee_minor": FEES[body.asset], "fiat_amount_minor": body.fiat_amount_minor,
                               "fiat_currency": body.fiat_currency,
                               "expires_at": iso(now + timedelta(seconds=QUOTE_SECONDS))})
    quote.private = {"expires_at": (now + timedelta(seconds=QUOTE_SECONDS)).timestamp()}
    async with engine.pool.connection() as conn:
        await store.insert_object(conn, quote, is_effect=False)
    return json_answer(quote.data, 201)


@router.get("/quotes/{object_id}")
async def get_quote(request: Request, object_id: str) -> JSONResponse:
    """A quote by id."""
    return await fetch(request, PROVIDER, "quotes", object_id)


@router.post("/transfers", status_code=201)
async def create_transfer(request: Request, body: TransferIn,
                          idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Submit a transfer at a quote: 404 unknown quote, 422 quote_expired or quote_used."""
    key = require_key(idempotency_key)
    settle = engine_of(request).settings.settle_seconds
    made: dict[str, Obj] = {}

    async def prepare(conn: psycopg.AsyncConnection, now: datetime) -> None:
        # Locking the quote serializes transfers on it: one quote buys one transfer.
        quote = await store.get_object(conn, body.quote_id, provider=PROVIDER, collection="quotes", lock=True)
        if quote is None:
            raise Problem(404, "not_found", "No such quote")
        if now.timestamp() > float(quote.private.get("expires_at", 0)):
            raise Problem(422, "quote_expired", "The quote has expired")
        if quote.status != "open":
            raise Problem(422, "quote_used", "The quote was used by another transfer")
        quote.status = quote.data["status"] = "used"
        await store.save_object(conn, quote)
        transfer = made["transfer"]
        transfer.amount_minor, transfer.currency = quote.amount_minor, quote.currency
        transfer.data.update({k: quote.data[k] for k in (
            "asset", "asset_amount", "rate", "network_fee_minor", "fiat_amount_minor", "fiat_currency")})
        transfer.data.update(amount_minor=quote.amount_minor, currency=quote.currency)

    def build(now: datetime) -> Obj:
        made["transfer"] = new_object(
            provider=PROVIDER, collection="transfers", kind="crypto_transfer", prefix="ctx", key=key, digest=None,
            now=now, status="submitted",
            fields={"confirmations": 0, "quote_id": body.quote_id, "destination_address": body.destination_address})
        return made["transfer"]

    return await _create_once(request, key=key, body=body, build=build, prepare=prepare,
                              jobs=(("ctx.confirm", settle),))


@router.get("/transfers/{object_id}")
async def get_transfer(request: Request, object_id: str) -> JSONResponse:
    """A transfer by id."""
    return await fetch(request, PROVIDER, "transfers", object_id)


@router.get("/transfers")
async def transfer_by_key(request: Request, idempotency_key: IdempotencyQuery = None) -> JSONResponse:
    """A transfer by idempotency key."""
    return await fetch_by_key(request, PROVIDER, "transfers", idempotency_key)


async def _confirm(tx: Tx, obj: Obj) -> None:
    if obj.status != "submitted":
        return
    amount = int(obj.amount_minor or 0)
    if ends_in(amount, 13):
        await tx.save(obj, "failed", "NETWORK_REJECTED")
        await tx.emit(obj, "transfer.failed")
        return
    confirmations = int(obj.data.get("confirmations", 0)) + 1
    if confirmations < CONFIRMATIONS:
        await tx.save(obj, "submitted", confirmations=confirmations)
        await tx.later(obj, "ctx.confirm", tx.settle)
        return
    await tx.save(obj, "confirmed", confirmations=confirmations)
    await tx.emit(obj, "transfer.confirmed")
    if ends_in(amount, 66):
        await tx.later(obj, "ctx.drop", DROP_DELAY_SECONDS)


async def _drop(tx: Tx, obj: Obj) -> None:
    if obj.status == "confirmed":
        await tx.save(obj, "dropped", "REORG", confirmations=0)
        await tx.emit(obj, "transfer.dropped")


TRANSITIONS: dict[str, Transition] = {"ctx.confirm": _confirm, "ctx.drop": _drop}
