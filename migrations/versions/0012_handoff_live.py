"""Live handoff: overdue handoffs, callbacks, the bot taking over a waiting handoff, notice lines.

- handoffs.overdue_at: set once by the overdue job (api/handoffs/service.py expire_overdue) when nobody
  claimed the handoff within HANDOFF_CLAIM_TIMEOUT_SECONDS; the handoff stays in the queue.
- handoffs.callback_requested_at: the customer asked to be called back on their registered number.
- handoffs.bot_resumed_at: the core resumed Rasa for an overdue waiting handoff (the bot answers again).
- transcript_messages.role 'notice': the core's own lines to the customer (fixed texts, no customer data).

Revision ID: 0012_handoff_live
Revises: 0011_sagas
"""

from alembic import op

revision = "0012_handoff_live"
down_revision = "0011_sagas"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE handoffs
    ADD COLUMN overdue_at            timestamptz,
    ADD COLUMN callback_requested_at timestamptz,
    ADD COLUMN bot_resumed_at        timestamptz,
    ADD CONSTRAINT handoff_overdue_after_opening CHECK (overdue_at IS NULL OR overdue_at >= created_at);
-- What the overdue job scans: waiting handoffs not yet marked, oldest first.
CREATE INDEX handoffs_due ON handoffs (created_at) WHERE status = 'waiting' AND overdue_at IS NULL;

ALTER TABLE transcript_messages DROP CONSTRAINT transcript_role;
ALTER TABLE transcript_messages ADD CONSTRAINT transcript_role
    CHECK (role IN ('user', 'bot', 'agent', 'notice'));
"""

DOWNGRADE = """
DELETE FROM transcript_messages WHERE role = 'notice';
ALTER TABLE transcript_messages DROP CONSTRAINT transcript_role;
ALTER TABLE transcript_messages ADD CONSTRAINT transcript_role CHECK (role IN ('user', 'bot', 'agent'));
DROP INDEX handoffs_due;
ALTER TABLE handoffs
    DROP CONSTRAINT handoff_overdue_after_opening,
    DROP COLUMN bot_resumed_at,
    DROP COLUMN callback_requested_at,
    DROP COLUMN overdue_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
