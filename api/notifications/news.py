"""Which audited changes are news for the customer, written to the transactional outbox with the change.

The audit log (api/audit/service.py) is written in the same transaction as every change it describes; for
the changes below it also writes an outbox event there, so the news exists exactly when the change does
(the saga worker relays the outbox to the `notifications` stream; api/notifications/consumer.py tells
the customer). The customer is the owner of the card or case, whoever made the change (they, the
assistant or a support agent). Payloads carry no personal data beyond a card's last four digits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_CARD_SQL = text(
    "INSERT INTO outbox (topic, subject_id, customer_id, payload) "
    "SELECT :topic, id::text, customer_id, jsonb_build_object('card_id', id, 'last4', last4) "
    "FROM cards WHERE id = CAST(:id AS uuid)")
_FRAUD_CASE_SQL = text(
    "INSERT INTO outbox (topic, subject_id, customer_id, payload) "
    "SELECT :topic, id::text, customer_id, jsonb_build_object('case_id', id, 'kind', kind, 'status', status) "
    "FROM fraud_cases WHERE id = CAST(:id AS uuid)")

# audit action -> (outbox topic, the statement that writes it)
NEWS: dict[str, tuple[str, Any]] = {
    "card.freeze": ("card.frozen", _CARD_SQL),
    "card.unfreeze": ("card.unfrozen", _CARD_SQL),
    "fraud_case.open": ("fraud_case.opened", _FRAUD_CASE_SQL),
    "fraud_case.update": ("fraud_case.updated", _FRAUD_CASE_SQL),
}


def write_news(session: Session, *, action: str, target_id: object) -> None:
    """If this audited change is news for the customer, add its outbox event (same transaction)."""
    news = NEWS.get(action)
    if news is not None:
        topic, statement = news
        session.execute(statement, {"topic": topic, "id": str(target_id)})
