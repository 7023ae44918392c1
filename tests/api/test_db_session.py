"""api/db.py get_session: the request's session, closed after the route; only a close that has a
transaction to roll back (database I/O) leaves the event loop for the thread pool."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import db
from api.config import get_settings


@pytest.fixture()
def settings_for(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _request(use: Callable[[Session], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Session, list[str]]:
    """The dependency's life around one route that calls `use`; the threads the session was closed on."""
    closed_on: list[str] = []
    original_close = Session.close

    def close(self: Session) -> None:
        closed_on.append(threading.current_thread().name)
        original_close(self)

    monkeypatch.setattr(Session, "close", close)

    async def scenario() -> Session:
        loop_thread = threading.current_thread().name
        dependency = db.get_session()
        session = await dependency.__anext__()
        await asyncio.to_thread(use, session)  # a sync route runs in the thread pool
        with pytest.raises(StopAsyncIteration):
            await dependency.__anext__()
        closed_on[:] = ["loop" if name == loop_thread else "pool" for name in closed_on]
        return session

    return asyncio.run(scenario()), closed_on


def test_a_session_left_in_a_transaction_is_rolled_back_off_the_loop(settings_for: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pool = db.engine_for(settings_for).pool
    session, closed_on = _request(lambda s: s.execute(text("select 1")).scalar_one(), monkeypatch)
    assert closed_on == ["pool"]
    assert not session.in_transaction()
    assert pool.checkedout() == 0  # its connection went back


def test_a_committed_or_unused_session_is_closed_on_the_loop(settings_for: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pool = db.engine_for(settings_for).pool

    def read_and_commit(session: Session) -> None:
        assert session.execute(text("select 1")).scalar_one() == 1
        session.commit()

    _, closed_on = _request(read_and_commit, monkeypatch)
    assert closed_on == ["loop"]
    _, closed_on = _request(lambda s: None, monkeypatch)
    assert closed_on == ["loop"]
    assert pool.checkedout() == 0
