"""One Redis connection pool per process."""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=4)
def redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
