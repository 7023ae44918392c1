"""The saga engine: DBOS Transact, checkpointing in the core's own PostgreSQL (docs/sagas.md).

Workers (`python -m api.sagas.worker`) launch DBOS and run the workflows; the core's HTTP processes never
launch it: they enqueue and signal workflows through one `DBOSClient` per process (api/sagas/client.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dbos import DBOS, DBOSConfig, SQLAlchemyDatasource

from api.config import Settings, get_settings, sqlalchemy_url

APP_NAME = "bankbot"
SYSTEM_SCHEMA = "dbos"
QUEUE = "sagas"  # every saga runs from this queue: any worker may start it, each runs at most N at once
# Our transaction steps lock the rows they change (the ledger's functions do) and commit with DBOS's
# checkpoint: READ COMMITTED is the ledger's own level; SERIALIZABLE (DBOS's default) would only add retries.
TX_ISOLATION = "READ COMMITTED"


def config(settings: Settings, *, executor_id: str) -> DBOSConfig:
    """DBOS's configuration for a saga worker: a pinned application version and a stable executor id."""
    assert executor_id and len(executor_id) <= 64
    return {
        "name": APP_NAME,
        "system_database_url": sqlalchemy_url(settings.database_url),
        "dbos_system_schema": SYSTEM_SCHEMA,
        "application_version": settings.saga_app_version,
        "executor_id": executor_id,
        # Connections per worker, with the transaction steps' pool below: about 15, so a few workers, the
        # core and PostgreSQL's default 100 connections fit together. Waiting sagas hold none.
        "sys_db_pool_size": 8,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.2,
    }


@lru_cache(maxsize=1)
def datasource() -> SQLAlchemyDatasource:
    """The transaction steps' database: the ledger's, so a posting commits with its checkpoint."""
    settings = get_settings()
    return SQLAlchemyDatasource.create(sqlalchemy_url(settings.database_url), schema=SYSTEM_SCHEMA,
                                       engine_kwargs={"pool_size": 4, "max_overflow": 2, "pool_timeout": 60,
                                                      "pool_pre_ping": True})


def migrate(database_url: str) -> None:
    """Create or upgrade DBOS's system tables and its transaction-step checkpoints (idempotent)."""
    url = sqlalchemy_url(database_url)
    DBOS.migrate(url, schema=SYSTEM_SCHEMA)
    SQLAlchemyDatasource.migrate(url, schema=SYSTEM_SCHEMA)


def tx_options(name: str) -> dict[str, Any]:
    return {"name": name, "isolation_level": TX_ISOLATION}
