"""Settings for the core, read from the environment (12-factor), with local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq URL (postgresql://...) into SQLAlchemy's psycopg 3 dialect URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme of {url.split(':', 1)[0]!r}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", env_file=None, extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/bankbot"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 30.0

    # JWT: issuer, audience and keys come from settings so a real identity provider can replace ours.
    jwt_issuer: str = "bankbot-core"
    jwt_audience: str = "bankbot"
    jwt_secret: str = Field(default="dev-only-change-me-0123456789abcdef", min_length=32)
    jwt_algorithm: str = "HS256"
    jwt_jwks_url: str | None = None
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    service_token_minutes: int = Field(default=5, ge=1, le=60)

    # The action server's own credential: it signs in as a `service` principal.
    service_client_id: str = "action-server"
    service_client_secret: str = Field(default="dev-only-action-server-secret", min_length=16)

    # Provider webhooks are HMAC-SHA256 signed over "<timestamp>.<body>"; older than the tolerance is refused.
    kyc_webhook_secret: str = Field(default="dev-only-kyc-webhook-secret", min_length=16)
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)

    # Money movement limits (minor units of the account's currency) and the idempotency window.
    transfer_max_minor: int = Field(default=1_000_000, ge=1)  # 10,000.00 per transfer
    transfer_daily_max_minor: int = Field(default=2_500_000, ge=1)  # 25,000.00 per customer per day
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    refresh_token_days: int = Field(default=7, ge=1, le=90)

    # Rate limits ("limits" library notation), counted in Redis so every worker shares them.
    login_rate_limit: str = "10/minute"
    money_rate_limit: str = "30/minute"

    # Transcripts: the Rasa event broker signs its batches with this secret (HMAC, like webhooks).
    transcript_ingest_secret: str = Field(default="dev-only-transcript-ingest-secret", min_length=16)
    transcript_retention_days: int = Field(default=90, ge=1, le=3650)
    # Keep an encrypted copy of the original text for compliance (needs PII_ENCRYPTION_KEY).
    transcript_seal_originals: bool = False

    log_level: str = "INFO"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    chat_text_max_chars: int = Field(default=2000, ge=1)

    # Live handoff: releasing a conversation posts `resume` to Rasa's HTTP API (`rasa run --enable-api
    # --auth-token`, loopback or internal network only). The token must match Rasa's.
    rasa_api_token: str = Field(default="dev-only-rasa-api-token", min_length=16)
    rasa_api_timeout_seconds: float = Field(default=10.0, gt=0, le=60)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
