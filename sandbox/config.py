"""Sandbox settings, read once from the environment at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PROVIDERS = ("rails", "cards", "crypto", "kyc")
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bankbot_sandbox"


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    """What the environment decides: database, key, secrets, timings."""

    database_url: str
    api_key: str
    webhook_base_url: str
    webhook_secrets: dict[str, str] = field(repr=False)
    settle_seconds: float
    slow_seconds: float
    webhook_backoff_seconds: float
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 5.0
    # An out_of_order event waits for the next event of its provider, but never longer than this (virtual).
    hold_seconds: float = 10.0
    max_body_bytes: int = 64 * 1024


def load() -> Settings:
    """The settings of this process."""
    return Settings(
        database_url=os.environ.get("SANDBOX_DATABASE_URL") or DEFAULT_DATABASE_URL,
        api_key=os.environ.get("PROVIDER_API_KEY", ""),
        webhook_base_url=(os.environ.get("SANDBOX_WEBHOOK_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        webhook_secrets={p: os.environ.get(f"{p.upper()}_WEBHOOK_SECRET", "") for p in PROVIDERS},
        settle_seconds=max(0.0, _float("SANDBOX_SETTLE_SECONDS", 1.0)),
        slow_seconds=max(0.0, _float("SANDBOX_SLOW_SECONDS", 3.0)),
        webhook_backoff_seconds=max(0.01, _float("SANDBOX_WEBHOOK_BACKOFF_SECONDS", 1.0)),
    )
