"""Database administration used by `make up`, the tests and the benchmarks: URLs and migrations."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from alembic import command
from alembic.config import Config

from api.config import REPO_ROOT


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def without_credentials(url: str) -> str:
    """For messages: host, port and database, never a password."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port or 5432}", parts.path, "", ""))


def migrate(url: str) -> None:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    # The saga engine's own tables (schema `dbos`): created here, once, not by each worker as it starts.
    from api.sagas.engine import migrate as migrate_sagas

    migrate_sagas(url)
