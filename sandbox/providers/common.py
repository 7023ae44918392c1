"""What every provider endpoint shares: auth, idempotency keys, create-once, fetch by id or key."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox import store
from sandbox.engine import Engine
from sandbox.problems import Problem
from sandbox.store import Obj, iso, new_id

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Field(gt=0, le=10**15)]
IdempotencyQuery = Annotated[str | None, Query()]
IdempotencyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
Prepare = Callable[[psycopg.AsyncConnection, datetime], Awaitable[None]]


class Body(BaseModel):
    """A request body: unknown fields are ignored, strings are bounded by each field."""

    model_config = ConfigDict(extra="ignore", str_max_length=500)

    @model_validator(mode="after")
    def _no_nul(self) -> Body:
        # PostgreSQL text cannot hold NUL: refuse it here, as a 422, rather than fail at the insert.
        if "\\u0000" in self.model_dump_json():
            raise ValueError("strings must not contain NUL characters")
        return self


def engine_of(request: Request) -> Engine:
    """The process's engine."""
    return request.app.state.engine  # type: ignore[no-any-return]


def check_auth(api_key: str, authorization: str | None) -> None:
    """401 unless `Authorization: Bearer <PROVIDER_API_KEY>` (and that key is set at all)."""
    given = (authorization or "").encode("utf-8", "surrogateescape")
    if not api_key or not hmac.compare_digest(given, f"Bearer {api_key}".encode()):
        raise Problem(401, "unauthorized", "A valid bearer API key is required",
                      headers={"WWW-Authenticate": "Bearer"})


def require_key(value: str | None) -> str:
    """The Idempotency-Key a call with an effect must carry."""
    if value is None or value == "":
        raise Problem(400, "idempotency_key_missing", "The Idempotency-Key header is required")
    if not KEY_PATTERN.match(value):
        raise Problem(400, "idempotency_key_invalid", "Idempotency-Key must be 1-200 characters of [A-Za-z0-9_.:-]")
    return value


def ends_in(amount: int, suffix: int) -> bool:
    """The magic amount endings: the minor units' last two digits."""
    return amount % 100 == suffix


def json_answer(data: dict[str, Any], status: int, replayed: bool = False) -> JSONResponse:
    """An object answer, marked when it is an idempotent replay."""
    return JSONResponse(data, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


def _replay(existing: Obj, digest: str) -> JSONResponse:
    if existing.request_hash != digest:
        raise Problem(422, "idempotency_key_reused", "This Idempotency-Key was used with another request body")
    return json_answer(existing.data, 200, replayed=True)


def new_object(*, provider: str, collection: str, kind: str, prefix: str, key: str | None, digest: str | None,
               now: datetime, status: str, fields: dict[str, Any], amount_minor: int | None = None,
               currency: str | None = None, reason_code: str | None = None,
               private: dict[str, Any] | None = None, webhook_faults: list[str] | None = None) -> Obj:
    """An object as first created, its answer in `data`."""
    object_id = new_id(prefix)
    data = {"id": object_id, "status": status, **fields, "idempotency_key": key, "created_at": iso(now),
            "updated_at": iso(now), "reason_code": reason_code}
    return Obj(id=object_id, provider=provider, collection=collection, kind=kind, idempotency_key=key,
               request_hash=digest, status=status, reason_code=reason_code, amount_minor=amount_minor,
               currency=currency, data=data, private=private or {}, webhook_faults=webhook_faults or [],
               created_at=now, updated_at=now)


async def create_once(request: Request, *, key: str, body: BaseModel, build: Callable[[datetime], Obj],
                      jobs: tuple[tuple[str, float], ...] = (), prepare: Prepare | None = None) -> JSONResponse:
    """Create the object once per idempotency key: 201 first, 200 replay for the same body, 422 for another."""
    engine = engine_of(request)
    digest = store.request_hash(body.model_dump(mode="json"))
    now = engine.clock.now()
    obj = build(now)
    obj.request_hash = digest
    obj.webhook_faults = list(getattr(request.state, "sandbox_webhook_faults", []))
    async with engine.pool.connection() as conn, conn.transaction():
        existing = await store.find_by_key(conn, obj.provider, obj.collection, key)
        if existing is not None:
            return _replay(existing, digest)
        if prepare is not None:
            await prepare(conn, now)
        # A concurrent duplicate waits here on the unique key, then finds the winner's row.
        if not await store.insert_object(conn, obj):
            winner = await store.find_by_key(conn, obj.provider, obj.collection, key)
            assert winner is not None
            return _replay(winner, digest)
        for action, seconds in jobs:
            await store.schedule(conn, obj.id, action, now + timedelta(seconds=seconds))
    if getattr(request.state, "sandbox_early", False):
        await engine.run_early(obj.id)
    return json_answer(obj.data, 201)


async def fetch(request: Request, provider: str, collection: str, object_id: str) -> JSONResponse:
    """GET by id, 404 not_found for an unknown one."""
    if len(object_id) > 100:
        raise Problem(404, "not_found", "No such object")
    async with engine_of(request).pool.connection() as conn:
        obj = await store.get_object(conn, object_id, provider=provider, collection=collection)
    if obj is None:
        raise Problem(404, "not_found", "No such object")
    return json_answer(obj.data, 200)


async def fetch_by_key(request: Request, provider: str, collection: str, key: str | None) -> JSONResponse:
    """GET ?idempotency_key=K: the object created under K, or 404 when no effect happened for it."""
    if key is None:
        raise Problem(400, "idempotency_key_missing", "Listing is not supported: pass ?idempotency_key=")
    require_key(key)
    async with engine_of(request).pool.connection() as conn:
        obj = await store.find_by_key(conn, provider, collection, key)
    if obj is None:
        raise Problem(404, "not_found", "No effect happened under this idempotency key")
    return json_answer(obj.data, 200)
