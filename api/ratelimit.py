"""Rate limits with the `limits` library, counted in Redis so every worker and instance shares them.

Login fails open when Redis is unreachable (argon2 still makes guessing slow, and customers can sign
in during a cache outage); money movement fails closed (503), because a limit that silently stops
counting is no limit on the riskiest endpoint.
"""

from __future__ import annotations

import asyncio
import time
from functools import lru_cache

import structlog
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from api.config import get_settings
from api.db_async import REDIS_TIMEOUT_S, PerLoop
from api.problems import Problem

log = structlog.get_logger(__name__)


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(redis_url, socket_timeout=2, socket_connect_timeout=2))


def hit(redis_url: str, rule: str, scope: str, key: str, *, fail_open: bool) -> None:
    """Count one request for `key` in `scope`; raise 429 with Retry-After when over `rule`."""
    item = parse(rule)
    limiter = _limiter(redis_url)
    try:
        allowed = limiter.hit(item, "bankbot", scope, key)
        if allowed:
            return
        reset_at = limiter.get_window_stats(item, "bankbot", scope, key).reset_time
    except Exception as exc:  # the storage raises its driver's errors; any of them means "cannot count"
        _unavailable(exc, scope, fail_open)
        return
    _refuse(reset_at)


async def _open_async_limiter() -> AsyncMovingWindowRateLimiter:
    url = get_settings().redis_url.replace("redis://", "async+redis://", 1).replace("rediss://", "async+rediss://", 1)
    # Bounded by asyncio.timeout in `ahit` rather than socket_timeout (see api/db_async.py).
    return AsyncMovingWindowRateLimiter(storage_from_string(url, implementation="redispy",
                                                            socket_connect_timeout=REDIS_TIMEOUT_S))


_async_limiter: PerLoop[AsyncMovingWindowRateLimiter] = PerLoop(_open_async_limiter)


@lru_cache(maxsize=16)
def _parsed(rule: str) -> RateLimitItem:
    return parse(rule)


async def ahit(rule: str, scope: str, key: str, *, fail_open: bool) -> None:
    """`hit` for the event loop (the settings' Redis): one Redis round trip when allowed."""
    item = _parsed(rule)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            limiter = await _async_limiter.get()
            if await limiter.hit(item, "bankbot", scope, key):
                return
            reset_at = (await limiter.get_window_stats(item, "bankbot", scope, key)).reset_time
    except Exception as exc:  # as in `hit` (a timeout included)
        _unavailable(exc, scope, fail_open)
        return
    _refuse(reset_at)


def _unavailable(exc: Exception, scope: str, fail_open: bool) -> None:
    log.warning("rate_limit_store_unavailable", scope=scope, error=type(exc).__name__)
    if not fail_open:
        raise Problem(503, "rate_limit_unavailable", "Money movement is paused for a moment; try again") from exc


def _refuse(reset_at: float) -> None:
    retry_after = max(1, int(reset_at - time.time()))
    raise Problem(429, "rate_limited", f"Too many requests; try again in {retry_after} s", retry_after=retry_after,
                  headers={"Retry-After": str(retry_after)})
