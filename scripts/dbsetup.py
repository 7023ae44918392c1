"""Create the database named in DATABASE_URL when it is missing, then run the migrations.

Fails with the URL and the command to start PostgreSQL when the server does not answer.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from api.config import get_settings
from api.dbadmin import migrate, with_database, without_credentials

START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def ensure_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    assert name, "DATABASE_URL must name a database"
    try:
        with psycopg.connect(with_database(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        sys.exit(f"PostgreSQL does not answer at {without_credentials(url)}: {reason}\n"
                 f"Start it with:  {START_HINT}\n(or point DATABASE_URL at a running server)")


def main() -> None:
    url = get_settings().database_url
    ensure_database(url)
    migrate(url)
    print("database ready, migrations at head")


if __name__ == "__main__":
    main()
