"""Opening and working fraud cases. Freezing the card happens in the same transaction as the case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from api import privacy
from api.audit.service import record
from api.auth.security import Principal
from api.cards.service import owned_card, set_frozen
from api.db_conn import driver_connection
from api.fraud.models import FraudCase
from api.problems import Problem
from api.transcripts.service import known_pii

NEXT_STEPS = {
    "card_payment_not_recognised": "Our fraud team will review the payment within 2 business days. If it wasn't you, "
                                   "we refund it and send you a new card.",
    "compromised_card": "We'll send you a replacement card with a new number within 3-5 business days.",
    "lost_or_stolen_card": "Your card is blocked for payments. A replacement card will arrive in 3-5 business days.",
    "cash_withdrawal_not_recognised": "Our fraud team will investigate the withdrawal within 2 business days and "
                                      "contact you; keep the card frozen meanwhile.",
    "direct_debit_payment_not_recognised": "We'll raise a Direct Debit indemnity claim; the refund usually arrives "
                                           "within 10 business days.",
}
MAX_PAGE = 200
MAX_DESCRIPTION = 1000  # fraud_cases.description
# Reports that the card itself is in other hands: the freeze they make is a block only support lifts.
CARD_COMPROMISED_KINDS = frozenset({"lost_or_stolen_card", "compromised_card"})
MAX_CANDIDATES = 10
CANDIDATE_SCAN = 200  # the customer's most recent posted entries a report may be about
# Which of a customer's payments a report of each kind can be about: a business rule, so it lives here.
DIRECT_DEBIT_CATEGORIES = frozenset({"subscriptions", "utilities", "rent"})


def may_be_reported_as(kind: str, item: ledger.StatementItem) -> bool:
    """Whether an outgoing entry is the kind of payment a report of `kind` is about."""
    if item.amount >= 0:
        return False
    if kind == "cash_withdrawal_not_recognised":
        return item.category == "cash"
    if kind == "direct_debit_payment_not_recognised":
        return item.category in DIRECT_DEBIT_CATEGORIES
    if kind == "card_payment_not_recognised":
        return item.kind == "card_payment" and item.category != "cash"
    return False


def report_candidates(session: Session, customer_id: uuid.UUID, *, kind: str, limit: int) -> list[ledger.StatementItem]:
    """The customer's latest payments a fraud report of `kind` may be about, newest first."""
    assert 1 <= limit <= MAX_CANDIDATES
    conn = driver_connection(session)
    ids = [a.id for a in ledger.accounts_for_owner(conn, str(customer_id))]
    if not ids:
        return []
    page = ledger.statement(conn, account_ids=ids, limit=CANDIDATE_SCAN)
    return [item for item in page.items if may_be_reported_as(kind, item)][:limit]


def _owned_transaction(session: Session, customer_id: uuid.UUID, transaction_id: uuid.UUID) -> None:
    conn = driver_connection(session)
    owned = {a.id for a in ledger.accounts_for_owner(conn, str(customer_id))}
    transaction = ledger.get_transaction(conn, transaction_id)
    if transaction is None or not any(leg.account_id in owned for leg in transaction.legs):
        raise Problem(404, "transaction_not_found", "No such transaction")


def _redacted(session: Session, customer_id: uuid.UUID, description: str | None) -> str | None:
    """The customer's description as stored: redacted like a transcript line (the raw text is not kept)."""
    if not description:
        return None
    result = privacy.redact(description.replace("\x00", ""), known=known_pii(session, customer_id), mode="tags")
    return result.text[:MAX_DESCRIPTION]  # tags can be longer than what they replace


def open_case(session: Session, principal: Principal, customer_id: uuid.UUID, *, kind: str,
              card_id: uuid.UUID | None, transaction_id: uuid.UUID | None, description: str | None,
              freeze_card: bool) -> FraudCase:
    if card_id is None and transaction_id is None:
        raise Problem(422, "fraud_subject_missing", "Say which card or which transaction the report is about")
    if card_id is not None:
        owned_card(session, customer_id, card_id)
    if transaction_id is not None:
        _owned_transaction(session, customer_id, transaction_id)
    if freeze_card and card_id is None:
        raise Problem(422, "card_required_to_freeze", "Name the card to freeze")
    case = FraudCase(id=uuid.uuid4(), customer_id=customer_id, kind=kind, card_id=card_id,
                     transaction_id=transaction_id, description=_redacted(session, customer_id, description),
                     card_frozen=False)
    if freeze_card and card_id is not None:
        set_frozen(session, principal, customer_id, card_id, frozen=True, note=f"fraud report {case.id}",
                   freeze_reason="card_compromised" if kind in CARD_COMPROMISED_KINDS else "fraud_report")
        case.card_frozen = True
    session.add(case)
    session.flush()
    record(session, principal, "fraud_case.open", "fraud_case", case.id, kind=kind, card_frozen=case.card_frozen)
    return case


OPEN_CASE_STATUSES = ("open", "investigating")


def open_cases_of(session: Session, *, customer_id: uuid.UUID) -> list[FraudCase]:
    """The customer's fraud cases still being worked (open or investigating), newest first."""
    return list(session.scalars(select(FraudCase).where(FraudCase.customer_id == customer_id,
                                                        FraudCase.status.in_(OPEN_CASE_STATUSES))
                                .order_by(FraudCase.created_at.desc()).limit(MAX_PAGE)))


def list_cases(session: Session, status: str | None, limit: int) -> list[FraudCase]:
    assert 1 <= limit <= MAX_PAGE
    query = select(FraudCase)
    if status:
        query = query.where(FraudCase.status == status)
    return list(session.scalars(query.order_by(FraudCase.created_at.desc()).limit(limit)))


def update_case(session: Session, principal: Principal, case_id: uuid.UUID, status: str,
                note: str | None) -> FraudCase:
    case = session.get(FraudCase, case_id, with_for_update=True)
    if case is None:
        raise Problem(404, "fraud_case_not_found", "No such fraud case")
    if case.status in ("resolved", "rejected") and status != case.status:
        raise Problem(409, "fraud_case_closed", f"The case is already {case.status}")
    previous = case.status
    case.status, case.resolution_note, case.updated_at = status, note or case.resolution_note, datetime.now(UTC)
    record(session, principal, "fraud_case.update", "fraud_case", case.id, previous=previous, status=status)
    return case
