"""Bridge from an SQLAlchemy session to the psycopg connection the ledger library takes."""

from __future__ import annotations

import psycopg
from sqlalchemy.orm import Session


def driver_connection(session: Session) -> psycopg.Connection:
    """The session's own psycopg connection, inside the session's transaction (so one commit covers both)."""
    conn = session.connection().connection.driver_connection
    assert isinstance(conn, psycopg.Connection), type(conn)
    return conn
