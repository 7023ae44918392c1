"""Rate limits with the `limits` library, counted in Redis so every worker and instance shares them.

Login fails open when Redis is unreachable (argon2 still makes guessing slow, and customers can sign
in during a cache outage); money movement fails closed (503), because a limit that silently stops
counting is no limit on the riskiest endpoint.
"""

from __future__ import annotations

import time
from functools import lru_cache

import structlog
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

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
        log.warning("rate_limit_store_unavailable", scope=scope, error=type(exc).__name__)
        if fail_open:
            return
        raise Problem(503, "rate_limit_unavailable", "Money movement is paused for a moment; try again") from exc
    retry_after = max(1, int(reset_at - time.time()))
    raise Problem(429, "rate_limited", f"Too many requests; try again in {retry_after} s", retry_after=retry_after,
                  headers={"Retry-After": str(retry_after)})
