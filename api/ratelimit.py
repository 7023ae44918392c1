"""Rate limits with the `limits` library, counted in Redis so every worker and instance shares them.

Login fails open when Redis is unreachable (argon2 still makes guessing slow, and customers can sign
in during a cache outage); money movement fails closed (503), because a limit that silently stops
counting is no limit on the riskiest endpoint.

The money limit is counted by `queue_hit` on a Redis pipeline the transfer sends anyway (with its
in-flight marker, api/transfers/admission.py), using the library's own moving-window script and key scheme:
the same count as `MovingWindowRateLimiter.hit`, without a round trip of its own.
"""

from __future__ import annotations

import asyncio
import time
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, NoReturn

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from api.config import get_settings
from api.db_async import REDIS_TIMEOUT_S, PerLoop
from api.problems import Problem

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

log = structlog.get_logger(__name__)
NAMESPACE = "bankbot"  # the first identifier of every limit's key


@lru_cache(maxsize=16)
def _parsed(rule: str) -> RateLimitItem:
    return parse(rule)


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(redis_url, socket_timeout=2, socket_connect_timeout=2))


def hit(redis_url: str, rule: str, scope: str, key: str, *, fail_open: bool) -> None:
    """Count one request for `key` in `scope`; raise 429 with Retry-After when over `rule`."""
    item = _parsed(rule)
    limiter = _limiter(redis_url)
    try:
        allowed = limiter.hit(item, NAMESPACE, scope, key)
        if allowed:
            return
        reset_at = limiter.get_window_stats(item, NAMESPACE, scope, key).reset_time
    except Exception as exc:  # the storage raises its driver's errors; any of them means "cannot count"
        _unavailable(exc, scope, fail_open)
        return
    _refuse(reset_at)


async def _open_async_limiter() -> AsyncMovingWindowRateLimiter:
    url = get_settings().redis_url.replace("redis://", "async+redis://", 1).replace("rediss://", "async+rediss://", 1)
    # Bounded by asyncio.timeout in `refuse` rather than socket_timeout (see api/db_async.py).
    return AsyncMovingWindowRateLimiter(storage_from_string(url, implementation="redispy",
                                                            socket_connect_timeout=REDIS_TIMEOUT_S))


_async_limiter: PerLoop[AsyncMovingWindowRateLimiter] = PerLoop(_open_async_limiter)


# The script MovingWindowRateLimiter.hit runs (RedisStorage.acquire_entry), from the installed library.
_ACQUIRE_MOVING_WINDOW = (resources.files("limits") / "resources/redis/lua_scripts/acquire_moving_window.lua"
                          ).read_text()


def queue_hit(pipe: Pipeline, rule: str, scope: str, key: str) -> None:
    """Queue one hit of `rule` for `key` on a Redis pipeline of the settings' Redis; its result is truthy
    when allowed (then nothing more to do) and None when over the limit (then `refuse`)."""
    item = _parsed(rule)
    pipe.eval(_ACQUIRE_MOVING_WINDOW, 1, f"{RedisStorage.PREFIX}:{item.key_for(NAMESPACE, scope, key)}",
              time.time(), item.amount, item.get_expiry(), 1)


async def refuse(rule: str, scope: str, key: str) -> NoReturn:
    """The 429 for a hit that `queue_hit` found over the limit, with the window's Retry-After."""
    item = _parsed(rule)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            reset_at = (await (await _async_limiter.get()).get_window_stats(item, NAMESPACE, scope, key)).reset_time
    except Exception:  # the refusal stands; only its Retry-After is a guess (the whole window)
        reset_at = time.time() + item.get_expiry()
    _refuse(reset_at)


def unavailable(exc: Exception, scope: str) -> NoReturn:
    """A fail-closed limit whose store cannot count: 503."""
    log.warning("rate_limit_store_unavailable", scope=scope, error=type(exc).__name__)
    raise Problem(503, "rate_limit_unavailable", "Money movement is paused for a moment; try again") from exc


def _unavailable(exc: Exception, scope: str, fail_open: bool) -> None:
    if not fail_open:
        unavailable(exc, scope)
    log.warning("rate_limit_store_unavailable", scope=scope, error=type(exc).__name__)


def _refuse(reset_at: float) -> NoReturn:
    retry_after = max(1, int(reset_at - time.time()))
    raise Problem(429, "rate_limited", f"Too many requests; try again in {retry_after} s", retry_after=retry_after,
                  headers={"Retry-After": str(retry_after)})
