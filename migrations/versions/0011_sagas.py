"""Sagas: what each durable workflow is about, its steps as customers and operators see them, the
transactional outbox, provider webhook events, and the saga workers' leases.

DBOS keeps its own checkpoints (schema `dbos`, created by DBOS's migrations: api/sagas/engine.py);
these tables are the bank's view of the same workflows, written inside the workflows' transaction steps.

Revision ID: 0011_sagas
Revises: 0010_daily_limit_one_total
"""

from alembic import op

revision = "0011_sagas"
down_revision = "0010_daily_limit_one_total"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE sagas (
    id            text PRIMARY KEY,              -- the DBOS workflow id, e.g. transfer_out:<transfer id>
    kind          text NOT NULL,
    customer_id   uuid REFERENCES users(id),
    subject_id    text NOT NULL,                 -- the transfer, refund, purchase or event it is about
    status        text NOT NULL DEFAULT 'running',
    failure_reason text,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    result        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sagas_status CHECK (status IN ('running', 'completed', 'compensated', 'failed', 'dead_lettered')),
    CONSTRAINT sagas_kind CHECK (kind IN ('transfer_out', 'transfer_return', 'incoming_credit', 'card_refund',
                                          'crypto_purchase', 'crypto_dropped', 'kyc_check'))
);
CREATE INDEX sagas_subject ON sagas (subject_id);
CREATE INDEX sagas_customer ON sagas (customer_id, created_at DESC);
CREATE INDEX sagas_open ON sagas (status, updated_at) WHERE status IN ('running', 'dead_lettered');

CREATE TABLE saga_steps (
    saga_id  text NOT NULL REFERENCES sagas(id),
    seq      int NOT NULL,
    name     text NOT NULL,
    status   text NOT NULL,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    error    text,
    detail   jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (saga_id, seq)
);

-- Events for notifications, written in the same transaction as the change they announce; the relay in
-- each saga worker publishes them (at least once: consumers dedupe by id) and marks them published.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    subject_id   text NOT NULL,
    customer_id  uuid,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Each provider event is applied once: its id is recorded with what it did.
CREATE TABLE provider_webhook_events (
    provider    text NOT NULL,
    event_id    text NOT NULL,
    type        text NOT NULL,
    object_id   text,
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Where the workers are in a provider's statement (money received): payments whose webhook never came
-- are found there.
CREATE TABLE provider_cursors (
    name       text PRIMARY KEY,
    position   bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO provider_cursors (name) VALUES ('rails.incoming');

-- A saga worker's lease: renewed while it lives; another worker recovers the workflows of an expired one.
CREATE TABLE saga_workers (
    executor_id  text PRIMARY KEY,
    lease_until  timestamptz NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    recovered_at timestamptz,
    recovered_by text
);
"""

DOWNGRADE = """
DROP TABLE saga_workers;
DROP TABLE provider_cursors;
DROP TABLE provider_webhook_events;
DROP TABLE outbox;
DROP TABLE saga_steps;
DROP TABLE sagas;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
