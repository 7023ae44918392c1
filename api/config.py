"""Settings for the core, read from the environment (12-factor), with local defaults.

Secrets have no default in code: in development (ENVIRONMENT unset) a secret missing from the environment
comes from var/secrets.env, generated once at random; in production a missing, short or development
secret stops the core here, before it serves anything (scripts/environment.py, docs/operations.md).
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scripts import environment as secrets_env

REPO_ROOT = Path(__file__).resolve().parent.parent
# The secret fields (their environment variables are the upper-case names, listed in scripts/environment.py).
SECRET_FIELDS = ("jwt_secret", "service_client_secret", "kyc_webhook_secret", "transcript_ingest_secret",
                 "rasa_api_token", "rails_webhook_secret", "cards_webhook_secret", "crypto_webhook_secret",
                 "provider_api_key", "telegram_webhook_secret", "slack_signing_secret", "twilio_auth_token",
                 "telegram_bot_token", "slack_bot_token")


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq URL (postgresql://...) into SQLAlchemy's psycopg 3 dialect URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme of {url.split(':', 1)[0]!r}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", env_file=None, extra="ignore")

    # development: missing secrets come from var/secrets.env; production: every secret must be set and real.
    environment: Literal["development", "production"] = "development"
    # Which process this is: the core (HTTP) or a saga worker, which reads fewer secrets (scripts/environment.py).
    process_role: Literal["core", "worker"] = "core"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/bankbot"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 30.0

    # JWT: issuer, audience and keys come from settings so a real identity provider can replace ours.
    jwt_issuer: str = "bankbot-core"
    jwt_audience: str = "bankbot"
    jwt_secret: str = Field(default="", repr=False)  # secrets: see _secrets_are_usable below
    jwt_algorithm: str = "HS256"
    jwt_jwks_url: str | None = None
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    service_token_minutes: int = Field(default=2, ge=1, le=60)
    # A grant rides on each customer message the core forwards to Rasa; the action server trades it for a
    # service token (api/grants). Short-lived and good for a few trades: one turn runs a few actions.
    grant_ttl_seconds: int = Field(default=180, ge=10, le=3600)
    grant_uses: int = Field(default=10, ge=1, le=100)
    # A payee transfer by the assistant executes only under a grant of a later message than the one the
    # summary was stated in, within this window (api/transfers/confirmations.py).
    transfer_confirmation_seconds: int = Field(default=900, ge=60, le=3600)
    # Money asked for on a messaging channel (Telegram, Slack, SMS) above this value, in minor units of
    # transfer_daily_limit_currency, also needs the customer's approval in the app: a stolen phone or a
    # hijacked chat account alone cannot move much (api/transfers/approvals.py). Approvals expire.
    channel_app_approval_above_minor: int = Field(default=20_000, ge=0)
    transfer_approval_seconds: int = Field(default=900, ge=60, le=86400)

    # The action server's own credential: it signs in as a `service` principal.
    service_client_id: str = "action-server"
    service_client_secret: str = Field(default="", repr=False)

    # Provider webhooks are HMAC-SHA256 signed over "<timestamp>.<body>"; older than the tolerance is refused.
    kyc_webhook_secret: str = Field(default="", repr=False)
    rails_webhook_secret: str = Field(default="", repr=False)
    cards_webhook_secret: str = Field(default="", repr=False)
    crypto_webhook_secret: str = Field(default="", repr=False)
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)

    # Providers (docs/providers.md): base URLs (the sandbox of `make up` serves all four on port 8100),
    # the API key sent to each, and the client's limits. A call with an effect carries an Idempotency-Key.
    provider_api_key: str = Field(default="", repr=False)
    rails_api_url: str = "http://127.0.0.1:8100/rails"
    cards_api_url: str = "http://127.0.0.1:8100/cards"
    crypto_api_url: str = "http://127.0.0.1:8100/crypto"
    kyc_api_url: str = "http://127.0.0.1:8100/kyc"
    provider_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    provider_max_attempts: int = Field(default=4, ge=1, le=10)

    # Sagas (api/sagas, docs/sagas.md) on DBOS Transact. Every worker of one deployment runs the same pinned
    # application version (DBOS recovers only workflows of its own version) under a stable executor id.
    saga_app_version: str = Field(default="sagas-1", min_length=1, max_length=64)
    saga_lease_seconds: float = Field(default=10.0, ge=1, le=600)  # a worker silent this long is recovered
    # Sagas running at once per worker. Most of a saga's life is waiting for a provider (a blocked thread, no
    # connection held); its steps share the worker's ~15 database connections (api/sagas/engine.py).
    saga_worker_concurrency: int = Field(default=50, ge=1, le=1000)
    saga_poll_start_seconds: float = Field(default=2.0, gt=0, le=3600)  # first wait for a webhook, then poll
    saga_poll_max_seconds: float = Field(default=60.0, gt=0, le=86400)
    saga_await_seconds: float = Field(default=3 * 86400, gt=0)  # no final answer by then: dead-lettered
    saga_sweep_seconds: float = Field(default=5.0, gt=0, le=3600)  # pending transfers without a saga, outbox
    saga_step_attempts: int = Field(default=6, ge=1, le=20)  # a provider step's tries before dead-lettering
    saga_step_interval_seconds: float = Field(default=1.0, gt=0, le=600)  # the first wait, doubled each time
    # Returns (R01...) come days after settlement: settled transfers are asked about for this long, this often.
    saga_return_window_seconds: float = Field(default=14 * 86400, gt=0)
    saga_return_poll_seconds: float = Field(default=6 * 3600, gt=0)

    # Money movement limits (minor units of the account's currency) and the idempotency window.
    transfer_max_minor: int = Field(default=1_000_000, ge=1)  # 10,000.00 per transfer
    transfer_daily_max_minor: int = Field(default=2_500_000, ge=1)  # 25,000.00 per customer per day
    # The daily limit is one per customer and day across currencies, in minor units of this currency:
    # each transfer counts at its value here, at these rates (units of the limit's currency per unit of
    # the transfer's), rounded up to the minor unit. No rate for a currency: no transfers in it.
    transfer_daily_limit_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    transfer_limit_rates: dict[str, Decimal] = Field(default_factory=lambda: {
        "USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.06"), "PLN": Decimal("0.23"),
        "SEK": Decimal("0.087"), "NOK": Decimal("0.085"), "DKK": Decimal("0.134")})
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    refresh_token_days: int = Field(default=7, ge=1, le=90)

    # Rate limits ("limits" library notation), counted in Redis so every worker shares them.
    login_rate_limit: str = "10/minute"
    money_rate_limit: str = "30/minute"
    # Login, besides the user+IP limit above: failed attempts per username from any IP (spraying one
    # account), per IP for any username (spraying many accounts) and in all (api/auth/views.py login).
    login_user_rate_limit: str = "30/hour"
    login_ip_rate_limit: str = "100/hour"
    login_global_rate_limit: str = "1000/minute"
    # Password hashes (argon2id, about 64 MiB each) verified at once per process; a login that finds
    # no slot within the wait gets 503 with Retry-After instead of queueing.
    login_hash_concurrency: int = Field(default=4, ge=1, le=64)
    login_hash_wait_seconds: float = Field(default=0.5, gt=0, le=10)
    # Chat, per customer: messages, and messages in flight across workers (a Redis semaphore whose slots
    # expire after chat_slot_ttl_seconds, so a crashed worker frees its slot; keep it above
    # rasa_timeout_seconds).
    chat_rate_limit: str = "30/minute"
    chat_max_in_flight: int = Field(default=2, ge=1, le=50)
    chat_slot_ttl_seconds: int = Field(default=90, ge=5, le=3600)

    # Transcripts: the Rasa event broker signs its batches with this secret (HMAC, like webhooks).
    transcript_ingest_secret: str = Field(default="", repr=False)
    transcript_retention_days: int = Field(default=90, ge=1, le=3650)
    # Keep an encrypted copy of the original text for compliance (needs PII_ENCRYPTION_KEY).
    transcript_seal_originals: bool = False
    # Bounded work (docs/privacy.md): a line whose redaction takes longer is stored as a placeholder, and a
    # batch stops redacting after its budget (the rest is deferred: the broker sends it again).
    transcript_redaction_budget_seconds: float = Field(default=1.0, gt=0, le=30)
    transcript_batch_budget_seconds: float = Field(default=5.0, gt=0, le=60)

    log_level: str = "INFO"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    chat_text_max_chars: int = Field(default=2000, ge=1)

    # Live handoff: releasing a conversation posts `resume` to Rasa's HTTP API (`rasa run --enable-api
    # --auth-token`, loopback or internal network only). The token must match Rasa's.
    rasa_api_token: str = Field(default="", repr=False)
    rasa_api_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    # Messaging channels (api/channels, docs/channels.md). Each webhook is verified with its channel's secret
    # before anything else; a channel whose secret is empty refuses every call (401). Replies go out through
    # each channel's API at these base URLs (the sandbox of `make up` emulates all three).
    telegram_webhook_secret: str = Field(default="", repr=False)
    slack_signing_secret: str = Field(default="", repr=False)
    twilio_auth_token: str = Field(default="", repr=False)  # verifies Twilio's signature and signs our calls
    telegram_bot_token: str = Field(default="", repr=False)
    slack_bot_token: str = Field(default="", repr=False)
    telegram_api_url: str = "https://api.telegram.org"
    slack_api_url: str = "https://slack.com/api"
    twilio_api_url: str = "https://api.twilio.com"
    twilio_account_sid: str = Field(default="ACdevelopment0000000000000000000", min_length=2, max_length=64)
    twilio_from_number: str = Field(default="+15005550006", pattern=r"^\+[1-9][0-9]{6,14}$")
    # Twilio signs the URL it called: the public address of this core as Twilio sees it, never the Host header.
    public_base_url: str = "http://127.0.0.1:8000"
    channel_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    channel_max_attempts: int = Field(default=3, ge=1, le=10)
    slack_tolerance_seconds: int = Field(default=300, ge=30, le=3600)  # Slack's own 5-minute window
    channel_dedupe_ttl_seconds: int = Field(default=86400, ge=60, le=7 * 86400)  # providers retry for hours
    channel_link_code_minutes: int = Field(default=10, ge=1, le=60)
    # Wrong codes per channel identity (brute force); and how often an unlinked identity is told how to link
    # (each answer may cost an SMS, so a stranger cannot make the bank spam a number).
    channel_link_attempt_rate_limit: str = "10/hour"
    channel_link_code_rate_limit: str = "20/hour"  # codes a customer may ask for
    channel_unlinked_reply_rate_limit: str = "5/hour"
    channel_options_ttl_seconds: int = Field(default=3600, ge=60, le=86400)  # numbered SMS options, long payloads

    # Live handoff (api/handoffs, api/live)
    # A waiting handoff nobody claimed within this time is overdue: the customer is told and offered a
    # callback, the bot answers again, and the handoff stays in the queue marked overdue (docs/handoff.md).
    handoff_claim_timeout_seconds: int = Field(default=300, ge=1, le=7 * 86400)
    handoff_overdue_batch: int = Field(default=100, ge=1, le=1000)  # handoffs marked per run of the job
    # Live events (Redis Streams, one per conversation and one for the queue): entries kept per stream
    # (approximately: MAXLEN ~), how long an idle stream lives, the keepalive comment, how long one
    # server-sent events response may last (the client reconnects with Last-Event-ID), and streams open
    # at once per core process (each holds a Redis connection in a blocking read).
    live_stream_maxlen: int = Field(default=1000, ge=10, le=100_000)
    live_stream_ttl_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    live_keepalive_seconds: float = Field(default=15.0, gt=0, le=60)
    live_max_connection_seconds: float = Field(default=900.0, ge=5, le=86400)
    live_max_streams: int = Field(default=200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _secrets_are_usable(self) -> Settings:
        """Development fills missing secrets from var/secrets.env; production refuses unusable ones.

        Raises SecretsError (a RuntimeError: pydantic's ValidationError would print the values), naming
        each secret and how to generate one, so `import api.main` and uvicorn exit non-zero.
        """
        production = self.environment == secrets_env.PRODUCTION
        # A process checks (and, in development, fills in) only the secrets its role reads.
        fields = [field for field in SECRET_FIELDS if field.upper() in secrets_env.names_for(self.process_role)]
        if not production and not all(getattr(self, field) for field in fields):
            from_file = secrets_env.ensure_file()
            for field in fields:
                if not getattr(self, field):
                    setattr(self, field, from_file[field.upper()])
        values = {field.upper(): getattr(self, field) for field in fields}
        values["PII_ENCRYPTION_KEY"] = os.environ.get("PII_ENCRYPTION_KEY", "")  # read by api/privacy/crypto.py
        found = secrets_env.problems(values, production=production,
                                     required=["PII_ENCRYPTION_KEY"] if self.transcript_seal_originals else [])
        if found:
            who = "the core" if self.process_role == "core" else "the saga worker"
            raise secrets_env.SecretsError(secrets_env.explain(found, values, who=who,
                                                               environment=self.environment))
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    if settings.environment == secrets_env.DEVELOPMENT:
        # api/privacy/crypto.py reads its key from the environment: development gets the generated one.
        secrets_env.export(secrets_env.resolve(["PII_ENCRYPTION_KEY"]))
    return settings
