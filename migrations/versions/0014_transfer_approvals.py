"""Transfer approvals: money asked for on a messaging channel above a set amount waits for the customer's
confirmation in the app (api/transfers/approvals.py).

The body is the transfer as the customer confirmed it in the chat; it holds no message text.

Revision ID: 0014_transfer_approvals
Revises: 0013_channels
"""

from alembic import op

revision = "0014_transfer_approvals"
down_revision = "0013_channels"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE transfer_approvals (
    id              uuid PRIMARY KEY,
    customer_id     uuid NOT NULL REFERENCES users(id),
    conversation_id uuid REFERENCES conversations(id),
    channel         text NOT NULL,
    idempotency_key text NOT NULL,                -- the assistant's key for this transfer
    request_hash    text NOT NULL,                -- the stated body's digest: the same key with another body is refused
    body            jsonb NOT NULL,               -- POST /v1/transfers body, without the chat's confirmation id
    status          text NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('waiting', 'approved', 'declined')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    transfer_id     uuid,
    UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX transfer_approvals_waiting ON transfer_approvals (customer_id, created_at) WHERE status = 'waiting';
"""

DOWNGRADE = "DROP TABLE transfer_approvals;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
