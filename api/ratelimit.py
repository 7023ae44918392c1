"""Rate limits with the `limits` library, counted in Redis so every worker and instance shares them.

Login fails open when Redis is unreachable (argon2 still makes guessing slow, the per-process cap on
concurrent hashes still bounds its cost, and customers can sign in during a cache outage); money
movement fails closed (503), because a limit that silently stops counting is no limit on the riskiest
endpoint. Chat fails open as well: its limits protect capacity (Rasa, redaction), not money, which
moves only through the fail-closed transfer path; and chat is how a customer freezes a stolen card at
2 a.m., which a cache outage should not stop (the thread pool and Rasa's timeout still bound a worker).

`check` and `count` are a limit on failures (login): judged before the work, counted only after it
failed. `in_flight` is a concurrency limit shared by every worker: a Redis semaphore whose slots expire.

The money limit is counted by `queue_hit` on a Redis pipeline the transfer sends anyway (with its
in-flight marker, api/transfers/admission.py), using the library's own moving-window script and key scheme:
the same count as `MovingWindowRateLimiter.hit`, without a round trip of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
from api.redis_client import redis_for

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


Limit = tuple[str, str, str]  # (rule, scope, key)


def check(redis_url: str, limits: list[Limit], *, fail_open: bool) -> None:
    """Raise 429 with Retry-After when any of `limits` is used up, counting nothing (see `count`)."""
    limiter = _limiter(redis_url)
    try:
        for rule, scope, key in limits:
            item = _parsed(rule)
            if not limiter.test(item, NAMESPACE, scope, key):
                reset_at = limiter.get_window_stats(item, NAMESPACE, scope, key).reset_time
                break
        else:
            return
    except Exception as exc:  # cannot count: one warning, and the remaining limits are not tried
        _unavailable(exc, limits[0][1] if limits else "", fail_open)
        return
    _refuse(reset_at)


def count(redis_url: str, limits: list[Limit]) -> None:
    """Count one event against each of `limits` (refusing is `check`'s job); a store error is logged."""
    limiter = _limiter(redis_url)
    try:
        for rule, scope, key in limits:
            limiter.hit(_parsed(rule), NAMESPACE, scope, key)
    except Exception as exc:
        log.warning("rate_limit_store_unavailable", scope=limits[0][1] if limits else "", error=type(exc).__name__)


# Concurrency: at most `limit` requests in flight per key, across workers. A sorted set per key holds one
# member per request in flight, scored by when it expires (the Redis server's clock, so workers' clocks
# do not matter): an expired member is a request whose worker died, and is dropped at the next acquire.
_ACQUIRE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
IN_FLIGHT_RETRY_AFTER_S = 1  # a message in flight usually finishes within a second or two


def _slots_key(scope: str, key: str) -> str:
    return f"{NAMESPACE}:in_flight:{scope}:{key}"


def acquire_slot(redis_url: str, *, scope: str, key: str, limit: int, ttl_seconds: float,
                 fail_open: bool) -> str | None:
    """Take one of `limit` slots of `key` for at most `ttl_seconds`: its token (None when failing open)
    or 429 with Retry-After when all are taken."""
    token = uuid.uuid4().hex
    try:
        acquired = redis_for(redis_url).eval(_ACQUIRE_SLOT, 1, _slots_key(scope, key), limit,
                                             max(1, int(ttl_seconds * 1000)), token)
    except Exception as exc:
        _unavailable(exc, scope, fail_open)
        return None
    if not acquired:
        raise Problem(429, "too_many_in_flight", "Another request is still being answered; try again in a moment",
                      retry_after=IN_FLIGHT_RETRY_AFTER_S, headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER_S)})
    return str(token)


def release_slot(redis_url: str, *, scope: str, key: str, token: str | None) -> None:
    """Give a slot back (a lost release only keeps it until its expiry)."""
    if token is None:
        return
    try:
        redis_for(redis_url).zrem(_slots_key(scope, key), token)
    except Exception as exc:
        log.warning("in_flight_release_failed", scope=scope, error=type(exc).__name__)


@contextmanager
def in_flight(redis_url: str, *, scope: str, key: str, limit: int, ttl_seconds: float,
              fail_open: bool) -> Iterator[None]:
    """Hold one of `limit` slots of `key` for the block (429 when none is free), released in `finally`."""
    token = acquire_slot(redis_url, scope=scope, key=key, limit=limit, ttl_seconds=ttl_seconds, fail_open=fail_open)
    try:
        yield
    finally:
        release_slot(redis_url, scope=scope, key=key, token=token)
