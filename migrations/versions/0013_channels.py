"""Messaging channels: one-time link codes, and links between a channel identity and a customer.

No message text is kept here (docs/privacy.md): a link says who is behind a Telegram chat, a Slack user or
a phone number, and which conversation their messages go to; the words live only in Rasa's Redis tracker
and, redacted, in the transcript.

Revision ID: 0013_channels
Revises: 0012_handoff_live
"""

from alembic import op

revision = "0013_channels"
down_revision = "0012_handoff_live"
branch_labels = None
depends_on = None

UPGRADE = """
-- A code the customer asked for in the app and types on the channel (`/start CODE`, `link CODE`). Only its
-- SHA-256 is stored: whoever reads this table cannot link a channel with it.
CREATE TABLE channel_link_codes (
    id          uuid PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES users(id),
    channel     text NOT NULL,
    code_hash   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT channel_link_codes_channel CHECK (channel IN ('telegram', 'slack', 'sms'))
);
CREATE INDEX channel_link_codes_customer ON channel_link_codes (customer_id, created_at DESC);

-- external_id: the Telegram chat id (private chats only, equal to the user id), the Slack `team:user`, the
-- phone number in E.164. address: where replies go on that channel. Each link has its own conversation.
CREATE TABLE channel_links (
    id              uuid PRIMARY KEY,
    customer_id     uuid NOT NULL REFERENCES users(id),
    channel         text NOT NULL,
    external_id     text NOT NULL,
    address         text NOT NULL,
    conversation_id uuid NOT NULL REFERENCES conversations(id),
    linked_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by      text,
    CONSTRAINT channel_links_channel CHECK (channel IN ('telegram', 'slack', 'sms')),
    CONSTRAINT channel_links_revoked_by CHECK (revoked_by IN ('app', 'channel', 'relinked')),
    CONSTRAINT channel_links_revoked CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- One live link per channel identity: a second one is a race, refused by the database.
CREATE UNIQUE INDEX channel_links_live ON channel_links (channel, external_id) WHERE revoked_at IS NULL;
CREATE INDEX channel_links_customer ON channel_links (customer_id, linked_at DESC);
CREATE INDEX channel_links_conversation ON channel_links (conversation_id) WHERE revoked_at IS NULL;
"""

DOWNGRADE = """
DROP TABLE channel_links;
DROP TABLE channel_link_codes;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
