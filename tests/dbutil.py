"""Create, migrate and drop throwaway PostgreSQL databases for tests and benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from api.config import get_settings
from api.dbadmin import migrate, with_database


@contextmanager
def temporary_database(prefix: str = "bankbot_test") -> Iterator[str]:
    """A new, migrated database that is dropped afterwards (never the `bankbot` one)."""
    base = get_settings().database_url
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(base, name)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # A stack on this database gave its provider sandbox a database of its own (scripts/stack.py).
            for database in (name, f"{name}_sandbox"):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
