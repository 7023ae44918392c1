"""Action server settings from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSettings:
    core_url: str
    client_id: str
    client_secret: str
    timeout_seconds: float


def load() -> ActionSettings:
    return ActionSettings(
        core_url=os.environ.get("CORE_URL", "http://127.0.0.1:8000").rstrip("/"),
        client_id=os.environ.get("SERVICE_CLIENT_ID", "action-server"),
        client_secret=os.environ.get("SERVICE_CLIENT_SECRET", "dev-only-action-server-secret"),
        timeout_seconds=float(os.environ.get("CORE_TIMEOUT_SECONDS", "10")),
    )
