"""Database engine and sessions (SQLAlchemy 2, psycopg 3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.config import get_settings, sqlalchemy_url


@lru_cache(maxsize=4)
def engine_for(database_url: str) -> Engine:
    return create_engine(sqlalchemy_url(database_url), pool_size=10, max_overflow=10, pool_pre_ping=True)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache(maxsize=4)
def _session_factory(database_url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(database_url), expire_on_commit=False)


async def get_session() -> AsyncIterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards.

    async, though the routes that use it are not: FastAPI runs a plain generator's set-up and its
    clean-up each in the thread pool, two thread hops per request that cost more CPU than the session's
    work (py-spy under chat load, docs/benchmarks.md). Making a session does no I/O (it connects at its
    first statement), and neither does closing one that holds no transaction (committed, or never
    used); closing one that does (a rollback, its connection back to the pool) still runs in the pool,
    so the event loop never waits on the database.
    """
    session = _session_factory(get_settings().database_url)()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def open_session() -> Session:
    """A session outside a request (background jobs): the caller closes it (`with open_session() as s:`)."""
    return _session_factory(get_settings().database_url)()
