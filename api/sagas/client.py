"""Starting and signalling sagas from the core's HTTP processes: one DBOSClient per process.

The HTTP processes never launch DBOS (no workflow runs in them); they put workflows on the saga queue,
where any worker takes them, and send verified provider events to the workflow waiting for them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dbos import DBOSClient, EnqueueOptions
from dbos._error import DBOSNonExistentWorkflowError

from api.config import get_settings, sqlalchemy_url
from api.sagas.engine import QUEUE, SYSTEM_SCHEMA


class NoSuchSaga(LookupError):
    """A provider event names an object no saga of ours is about (an unknown object)."""


@lru_cache(maxsize=1)
def dbos_client() -> DBOSClient:
    return DBOSClient(system_database_url=sqlalchemy_url(get_settings().database_url),
                      dbos_system_schema=SYSTEM_SCHEMA, system_database_pool_size=3)


def enqueue(workflow_name: str, workflow_id: str, *args: Any) -> None:
    """Put a saga on the queue; a workflow id already used attaches to that saga (nothing runs twice)."""
    options: EnqueueOptions = {"queue_name": QUEUE, "workflow_name": workflow_name, "workflow_id": workflow_id,
                               "app_version": get_settings().saga_app_version}
    dbos_client().enqueue(options, *args)


def signal(workflow_id: str, *, topic: str, message: dict[str, Any], idempotency_key: str) -> None:
    """Deliver a provider event to its saga, once per idempotency key (a redelivered event is dropped)."""
    try:
        dbos_client().send(workflow_id, message, topic, idempotency_key)
    except DBOSNonExistentWorkflowError as exc:
        raise NoSuchSaga(workflow_id) from exc
