"""Server-sent events: a conversation's live events (the chat page, the agent holding it) and the queue's.

Read with fetch() and the usual `Authorization: Bearer` header. Each event carries its Redis Stream
entry id as `id:`; a client that reconnects sends the last one as `Last-Event-ID` and gets only what
came after it (as long as the stream still holds it: LIVE_STREAM_MAXLEN entries, LIVE_STREAM_TTL_SECONDS).
Bounded: a keepalive comment every LIVE_KEEPALIVE_SECONDS, one response lasts at most
LIVE_MAX_CONNECTION_SECONDS (the client reconnects, and is authorised again), at most LIVE_MAX_STREAMS
responses per process (503 with Retry-After beyond), and the response ends when the client goes away.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import redis
import redis.asyncio as aioredis
import structlog
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from prometheus_client import Gauge
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth.security import Principal
from api.config import Settings, get_settings
from api.conversations.models import Conversation
from api.db import get_engine
from api.db_async import PerLoop
from api.deps import PrincipalDep, SettingsDep, require_role
from api.handoffs import service as handoffs
from api.live import streams
from api.problems import Problem

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1", tags=["live"])
AgentDep = Annotated[Principal, Depends(require_role("agent"))]

ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
READ_COUNT = 100  # entries per XREAD
REDIS_SLACK_SECONDS = 5.0  # a blocking read that has not answered this long after its block is a dead connection
RETRY_MS = 2000  # what the client should wait before reconnecting (the `retry:` field)
SSE_HEADERS = {"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
_open_streams = 0  # per process (uvicorn runs one event loop per worker)
OPEN_STREAMS = Gauge("bankbot_live_streams_open", "Server-sent events responses open (summed over live workers)",
                     multiprocess_mode="livesum")


async def _open_client() -> aioredis.Redis:
    settings = get_settings()
    # Its own pool: every open stream holds one connection in XREAD BLOCK; the cap keeps that bounded. The
    # socket timeout outlasts the longest block (redis-py's default of 5 s would cut every quiet stream).
    return aioredis.Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=2,
                                   socket_timeout=settings.live_keepalive_seconds + REDIS_SLACK_SECONDS,
                                   max_connections=settings.live_max_streams + 4, health_check_interval=30)


async def _close_client(client: aioredis.Redis) -> None:
    await client.aclose()


live_redis: PerLoop[aioredis.Redis] = PerLoop(_open_client, _close_client)

LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=48)]


def _conversation_watcher(principal: Principal, conversation_id: uuid.UUID) -> str | None:
    """'customer' for the conversation's owner, 'agent' for the agent holding its open handoff, else None."""
    with Session(get_engine()) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return None
        if "customer" in principal.roles and not principal.is_service and \
                principal.customer_id == conversation.customer_id:
            return "customer"
        return "agent" if handoffs.is_assigned(session, conversation_id, principal) else None


@router.get("/conversations/{conversation_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": (
                "events `message` {id, role, text, sent_at}, `typing` {role}, `handoff` {id, status, overdue}")}})
async def conversation_events(conversation_id: uuid.UUID, request: Request, principal: PrincipalDep,
                              settings: SettingsDep, last_event_id: LastEventId = None) -> StreamingResponse:
    """The conversation's live events: for its customer, and for the agent holding its open handoff
    (whose stream ends after the handoff's `closed` event)."""
    watcher = await run_in_threadpool(_conversation_watcher, principal, conversation_id)
    if watcher is None:
        raise Problem(404, "conversation_not_found", "No such conversation")
    return await _response(request, settings, streams.conversation_key(conversation_id), last_event_id,
                           end_on_close=watcher == "agent")


@router.get("/handoffs/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events `queue` {handoff_id, status, overdue}"}})
async def queue_events(request: Request, _: AgentDep, settings: SettingsDep,
                       last_event_id: LastEventId = None) -> StreamingResponse:
    """Agents: a `queue` event on every open, claim, release, overdue and callback (then GET /v1/handoffs)."""
    return await _response(request, settings, streams.QUEUE_KEY, last_event_id, end_on_close=False)


async def _response(request: Request, settings: Settings, key: str, last_event_id: str | None, *,
                    end_on_close: bool) -> StreamingResponse:
    if last_event_id is not None and not ENTRY_ID.match(last_event_id.strip()):
        raise Problem(422, "invalid_last_event_id", "Last-Event-ID is not an event id of this stream")
    if _open_streams >= settings.live_max_streams:
        raise Problem(503, "too_many_streams", "Too many live connections right now; try again shortly",
                      headers={"Retry-After": "5"})
    try:
        client = await live_redis.get()
        async with asyncio.timeout(REDIS_SLACK_SECONDS):
            cursor = last_event_id.strip() if last_event_id else await _tail(client, key)
    except (redis.RedisError, OSError, TimeoutError) as exc:
        raise Problem(503, "live_unavailable", "Live events are not available right now",
                      headers={"Retry-After": "5"}) from exc
    return StreamingResponse(_frames(request, settings, client, key, cursor, end_on_close=end_on_close),
                             media_type="text/event-stream", headers=SSE_HEADERS)


async def _tail(client: aioredis.Redis, key: str) -> str:
    """The id of the stream's newest entry (what comes after it is new), or 0-0 for an empty stream."""
    newest = await client.xrevrange(key, count=1)
    return newest[0][0] if newest else "0-0"


async def _frames(request: Request, settings: Settings, client: aioredis.Redis, key: str, cursor: str, *,
                  end_on_close: bool) -> AsyncIterator[str]:
    global _open_streams
    deadline = time.monotonic() + settings.live_max_connection_seconds
    _open_streams += 1  # counted here: a response whose body never starts holds nothing
    OPEN_STREAMS.inc()
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await request.is_disconnected():
                return
            block_ms = max(1, int(min(settings.live_keepalive_seconds, remaining) * 1000))
            try:
                async with asyncio.timeout(block_ms / 1000 + REDIS_SLACK_SECONDS):
                    found = await client.xread({key: cursor}, count=READ_COUNT, block=block_ms)
            except (redis.RedisError, OSError, TimeoutError) as exc:
                log.warning("live_read_failed", error=type(exc).__name__)
                return  # the client reconnects with the last id it got
            if not found:
                yield ": keepalive\n\n"
                continue
            for _key, entries in found:
                for entry_id, fields in entries:
                    cursor = entry_id
                    name, data = fields.get("event", "message"), fields.get("data", "{}")
                    yield f"id: {entry_id}\nevent: {name}\ndata: {data}\n\n"
                    if end_on_close and name == "handoff" and json.loads(data).get("status") == "closed":
                        return  # the agent no longer holds the conversation
    finally:
        _open_streams -= 1
        OPEN_STREAMS.dec()
