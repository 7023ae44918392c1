"""Async clients for the hot write path: a psycopg 3 pool (autocommit) and an asyncio Redis client.

Most routes use SQLAlchemy sessions in the thread pool; POST /v1/transfers runs on the event loop
instead (one read and one write statement, no thread hop), which is what lets one worker serve
hundreds of transfers a second. Async clients belong to the event loop that opened them: uvicorn has
one loop per worker, while in-process test clients start a loop per client, so they are kept per loop
and closed with the application's lifespan on that loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import redis.asyncio as aioredis
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from api.config import get_settings

POOL_MIN = 2
POOL_MAX = 8  # per worker: the batchers need few connections (one read and one write call at a time)
POOL_TIMEOUT_S = 5.0  # waiting longer for a connection answers 503 instead

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One client per running event loop, opened on first use; a failed opening is retried next time."""

    def __init__(self, opener: Callable[[], Awaitable[T]],
                 closer: Callable[[T], Awaitable[None]] | None = None) -> None:
        self._opener, self._closer = opener, closer  # no closer: nothing to release at shutdown
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[T]] = (
            weakref.WeakKeyDictionary())

    async def get(self) -> T:
        loop = asyncio.get_running_loop()
        opening = self._by_loop.get(loop)
        if opening is None or (opening.done() and (opening.cancelled() or opening.exception() is not None)):
            opening = self._by_loop[loop] = loop.create_task(self._opener())  # concurrent callers share it
        return await opening

    async def close(self) -> None:
        opening = self._by_loop.pop(asyncio.get_running_loop(), None)
        if self._closer is None or opening is None:
            return
        if opening.done() and (opening.cancelled() or opening.exception() is not None):
            return  # it never opened: nothing to close
        await self._closer(await opening)


# Every statement on this pool is a key lookup or an insert (the transfer path: api/transfers/). Its
# plans are made generic and index-only once per connection: left to choose, PostgreSQL re-plans the
# batched read's joins on every call (a fifth of its time per transfer here), because each batch's
# array lengths make a custom plan look cheaper; and a generic plan made while a table is small or
# new (a fresh deployment, a fresh benchmark) would otherwise scan that table for as long as the
# connection lives, however large it grows.
HOT_PATH_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}


async def _configure(conn: AsyncConnection) -> None:
    await conn.set_autocommit(True)  # each statement is its own transaction: one round trip, no BEGIN
    for name, value in HOT_PATH_SETTINGS.items():
        await conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))


async def _open_pool() -> AsyncConnectionPool:
    created = AsyncConnectionPool(get_settings().database_url, min_size=POOL_MIN, max_size=POOL_MAX,
                                  timeout=POOL_TIMEOUT_S, configure=_configure, open=False, name="core-async")
    await created.open()
    return created


async def _close_pool(created: AsyncConnectionPool) -> None:
    await created.close()


REDIS_TIMEOUT_S = 2.0  # callers bound each Redis call with asyncio.timeout(REDIS_TIMEOUT_S)


async def _open_redis() -> aioredis.Redis:
    # No socket_timeout: redis-py then wraps every write in asyncio.wait_for, a new task per command
    # (a tenth of a transfer's CPU here). Callers bound the whole call with asyncio.timeout instead.
    return aioredis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                   health_check_interval=30)


async def _close_redis(client: aioredis.Redis) -> None:
    await client.aclose()


pg_pool: PerLoop[AsyncConnectionPool] = PerLoop(_open_pool, _close_pool)
redis_client: PerLoop[aioredis.Redis] = PerLoop(_open_redis, _close_redis)


async def close_all() -> None:
    """Close this loop's clients (application shutdown)."""
    await pg_pool.close()
    await redis_client.close()
