"""Alembic environment: one migration history for the ledger and the core."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

from api.config import get_settings, sqlalchemy_url

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    # Tests pass their own database through `-x url=...` or the Config attribute.
    return config.attributes.get("database_url") or context.get_x_argument(as_dictionary=True).get(
        "url", get_settings().database_url
    )


def run_migrations_online() -> None:
    engine = create_engine(sqlalchemy_url(database_url()))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
