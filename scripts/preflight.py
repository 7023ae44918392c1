"""Check that PostgreSQL and Redis answer; say which URL failed and how to start the service."""

from __future__ import annotations

import sys

import psycopg
import redis

from api.config import get_settings
from api.dbadmin import with_database, without_credentials

PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_START = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


def main() -> int:
    settings = get_settings()
    failures = []
    try:
        with psycopg.connect(with_database(settings.database_url, "postgres"), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        failures.append(f"PostgreSQL does not answer at {without_credentials(settings.database_url)} "
                        f"({str(exc).strip().splitlines()[0]}).\n  Start it with:  {PG_START}")
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        failures.append(f"Redis does not answer at {settings.redis_url.split('@')[-1]} ({exc}).\n"
                        f"  Start it with:  {REDIS_START}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
