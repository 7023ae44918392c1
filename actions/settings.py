"""Action server settings from the environment.

SERVICE_CLIENT_SECRET has no default in code: the environment's value, else (ENVIRONMENT=development)
var/secrets.env's, generated once (scripts/environment.py); in production it must be set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from scripts import environment


@dataclass(frozen=True)
class ActionSettings:
    core_url: str
    # The core's internal listener (api/internal.py): the token exchange is served there only.
    core_internal_url: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout_seconds: float


def load() -> ActionSettings:
    return ActionSettings(
        core_url=os.environ.get("CORE_URL", "http://127.0.0.1:8000").rstrip("/"),
        core_internal_url=os.environ.get("CORE_INTERNAL_URL", "http://127.0.0.1:8001").rstrip("/"),
        client_id=os.environ.get("SERVICE_CLIENT_ID", "action-server"),
        client_secret=environment.value("SERVICE_CLIENT_SECRET", who="the action server"),
        timeout_seconds=float(os.environ.get("CORE_TIMEOUT_SECONDS", "10")),
    )
