"""Sandbox administration under /sandbox: clock, effects, webhook log, faults, incoming money, chargebacks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from psycopg.types.json import Jsonb
from pydantic import Field

from sandbox import store, webhooks
from sandbox.faults import ApiKind, FaultConfig, WebhookKind
from sandbox.problems import Problem
from sandbox.providers.common import (
    Amount,
    Body,
    Currency,
    IdempotencyHeader,
    engine_of,
    json_answer,
    new_object,
    require_key,
)
from sandbox.store import Obj, iso

router = APIRouter(prefix="/sandbox")
Filter = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=10_000)]


class AdvanceIn(Body):
    """POST /sandbox/clock/advance."""

    seconds: Annotated[float, Field(ge=0, le=10 * 366 * 24 * 3600)]


class FaultsIn(Body):
    """POST /sandbox/faults."""

    rate: Annotated[float, Field(ge=0, le=1)]
    seed: Annotated[int, Field(ge=-(2**62), le=2**62)]
    kinds: Annotated[list[ApiKind] | None, Field(min_length=1, max_length=20)] = None
    webhook_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    webhook_kinds: Annotated[list[WebhookKind] | None, Field(min_length=1, max_length=20)] = None


class IncomingIn(Body):
    """POST /sandbox/rails/incoming."""

    amount_minor: Amount
    currency: Currency
    account_id: Annotated[str, Field(min_length=1, max_length=100)]
    debtor_name: Annotated[str, Field(min_length=1, max_length=140)]
    debtor_iban: Annotated[str, Field(min_length=5, max_length=42, pattern=r"^[A-Za-z0-9 ]+$")]
    reference: Annotated[str | None, Field(max_length=140)] = None


class ChargebackIn(Body):
    """POST /sandbox/cards/chargebacks."""

    transaction_ref: Annotated[str, Field(min_length=1, max_length=100)]
    amount_minor: Amount
    currency: Currency
    reason_code: Annotated[str, Field(min_length=1, max_length=20)]


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, Any]:
    """Virtual now."""
    clock = engine_of(request).clock
    return {"now": iso(clock.now()), "offset_seconds": clock.offset_seconds}


@router.post("/clock/advance")
async def advance_clock(request: Request, body: AdvanceIn) -> dict[str, Any]:
    """Move virtual time and perform everything that falls due (webhooks' first attempts awaited)."""
    engine = engine_of(request)
    await engine.advance(body.seconds)
    return {"now": iso(engine.clock.now()), "offset_seconds": engine.clock.offset_seconds}


@router.get("/effects")
async def list_effects(request: Request, provider: Filter = None, idempotency_key: Filter = None,
                       kind: Filter = None, limit: Limit = 1000) -> list[dict[str, Any]]:
    """Every effect performed, oldest first."""
    async with engine_of(request).pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT id, provider, kind, idempotency_key, amount_minor, currency, status, reason_code, created_at "
            "FROM sandbox.objects WHERE is_effect AND (%(p)s::text IS NULL OR provider = %(p)s) "
            "AND (%(k)s::text IS NULL OR idempotency_key = %(k)s) AND (%(t)s::text IS NULL OR kind = %(t)s) "
            "ORDER BY seq LIMIT %(n)s",
            {"p": provider, "k": idempotency_key, "t": kind, "n": limit})).fetchall()
    return [{**row, "created_at": iso(row["created_at"])} for row in rows]  # type: ignore[dict-item]


@router.get("/webhooks")
async def list_webhooks(request: Request, provider: Filter = None, event_id: Filter = None,
                        limit: Limit = 1000) -> list[dict[str, Any]]:
    """Every delivery attempt (attempt 0: an event the `never` fault kept back), oldest first."""
    async with engine_of(request).pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT id, event_id, provider, type, object_id, attempt, fault, signature, status_code, error, at "
            "FROM sandbox.webhook_attempts WHERE (%(p)s::text IS NULL OR provider = %(p)s) "
            "AND (%(e)s::text IS NULL OR event_id = %(e)s) ORDER BY id LIMIT %(n)s",
            {"p": provider, "e": event_id, "n": limit})).fetchall()
    return [{**row, "at": iso(row["at"])} for row in rows]  # type: ignore[dict-item]


@router.post("/faults")
async def set_faults(request: Request, body: FaultsIn) -> dict[str, Any]:
    """Faults at a rate, drawn from `random.Random(seed)`: the same seed replays the same faults."""
    defaults = FaultConfig()
    config = FaultConfig(rate=body.rate, seed=body.seed, kinds=list(body.kinds or defaults.kinds),
                         webhook_rate=body.webhook_rate,
                         webhook_kinds=list(body.webhook_kinds or defaults.webhook_kinds))
    engine = engine_of(request)
    async with engine.pool.connection() as conn:
        await conn.execute("INSERT INTO sandbox.faults (id, config) VALUES (1, %s) "
                           "ON CONFLICT (id) DO UPDATE SET config = excluded.config", (Jsonb(config.as_dict()),))
    engine.faults.configure(config)
    return config.as_dict()


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    """The fault configuration and the draws made so far (most recent 2000)."""
    drawer = engine_of(request).faults
    return {"config": drawer.config.as_dict() if drawer.config else None, "draws": list(drawer.draws)}


@router.delete("/faults", status_code=204)
async def clear_faults(request: Request) -> Response:
    """No more rate faults."""
    engine = engine_of(request)
    async with engine.pool.connection() as conn:
        await conn.execute("DELETE FROM sandbox.faults")
    engine.faults.configure(None)
    return Response(status_code=204)


@router.post("/reset", status_code=204)
async def reset(request: Request) -> Response:
    """Forget everything: objects, jobs, webhooks, clock offset, faults (tests)."""
    await engine_of(request).reset()
    return Response(status_code=204)


async def _admin_event(request: Request, obj: Obj, event_type: str, data: dict[str, Any],
                       key: str | None, body: Body) -> JSONResponse:
    """Record an object made by the sandbox itself and queue its event; idempotent when a key is given."""
    if key is not None:
        require_key(key)

    engine = engine_of(request)
    obj.webhook_faults = list(getattr(request.state, "sandbox_webhook_faults", []))
    obj.request_hash = store.request_hash(body.model_dump(mode="json"))
    async with engine.pool.connection() as conn, conn.transaction():
        if key is not None:
            existing = await store.find_by_key(conn, obj.provider, obj.collection, key)
            if existing is not None and existing.request_hash != obj.request_hash:
                raise Problem(422, "idempotency_key_reused", "This Idempotency-Key was used with another body")
            if existing is not None:
                return json_answer(existing.data, 200, replayed=True)
        if not await store.insert_object(conn, obj):
            winner = await store.find_by_key(conn, obj.provider, obj.collection, key or "")
            if winner is None or winner.request_hash != obj.request_hash:
                raise Problem(422, "idempotency_key_reused", "This Idempotency-Key was used with another body")
            return json_answer(winner.data, 200, replayed=True)
        await webhooks.emit(conn, engine, provider=obj.provider, event_type=event_type, obj=obj, data=data,
                            at=obj.created_at)
    return json_answer(obj.data, 201)


@router.post("/rails/incoming", status_code=201)
async def incoming(request: Request, body: IncomingIn, idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Money arrives for a customer's ledger account: a `credit_transfer.received` webhook."""
    now = engine_of(request).clock.now()
    creditor = {"account_id": body.account_id}
    debtor = {"name": body.debtor_name, "iban": body.debtor_iban}
    obj = new_object(provider="rails", collection="incoming", kind="incoming_transfer", prefix="in",
                     key=idempotency_key, digest=None, now=now, status="received", amount_minor=body.amount_minor,
                     currency=body.currency,
                     fields={"amount_minor": body.amount_minor, "currency": body.currency, "creditor": creditor,
                             "debtor": debtor, "reference": body.reference})
    data = {"id": obj.id, "amount_minor": body.amount_minor, "currency": body.currency, "creditor": creditor,
            "debtor": debtor, "reference": body.reference}
    return await _admin_event(request, obj, "credit_transfer.received", data, idempotency_key, body)


@router.post("/cards/chargebacks", status_code=201)
async def chargeback(request: Request, body: ChargebackIn,
                     idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """A cardholder disputes a transaction: a `chargeback.created` webhook."""
    now = engine_of(request).clock.now()
    obj = new_object(provider="cards", collection="chargebacks", kind="chargeback", prefix="cb",
                     key=idempotency_key, digest=None, now=now, status="created", reason_code=body.reason_code,
                     amount_minor=body.amount_minor, currency=body.currency,
                     fields={"transaction_ref": body.transaction_ref, "amount_minor": body.amount_minor,
                             "currency": body.currency})
    data = {"id": obj.id, "transaction_ref": body.transaction_ref, "amount_minor": body.amount_minor,
            "currency": body.currency, "reason_code": body.reason_code}
    return await _admin_event(request, obj, "chargeback.created", data, idempotency_key, body)
