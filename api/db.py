"""Database engine and sessions (SQLAlchemy 2, psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from api.config import get_settings, sqlalchemy_url


@lru_cache(maxsize=4)
def engine_for(database_url: str) -> Engine:
    return create_engine(sqlalchemy_url(database_url), pool_size=10, max_overflow=10, pool_pre_ping=True)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache(maxsize=4)
def _session_factory(database_url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(database_url), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards."""
    with _session_factory(get_settings().database_url)() as session:
        yield session


def open_session() -> Session:
    """A session outside a request (background jobs): the caller closes it (`with open_session() as s:`)."""
    return _session_factory(get_settings().database_url)()
