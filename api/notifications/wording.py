"""What the bank says, unasked, when something happens to the customer's money, cards or fraud cases.

These lines are stored in the customer's transcript as they are (no redaction runs on them), so they hold
amounts, a card's last four digits and short case references, never a name, an account number or
anything the customer wrote. A topic not listed here is not news for the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.money import display

# A transfer's failure_reason (api/sagas/store.py) as the customer reads it.
REASONS = {
    "account_details_wrong": "the recipient's account details were not accepted",
    "insufficient_funds": "there was not enough money in the account",
    "rejected_by_receiving_bank": "the recipient's bank refused it",
    "returned_insufficient_funds": "the recipient's bank returned it",
    "returned_account_not_found": "the recipient's account could not be found",
    "returned_by_receiving_bank": "the recipient's bank returned it",
}
FRAUD_CASE_STATUS = {"open": "open", "investigating": "being investigated", "resolved": "resolved",
                     "closed": "closed", "rejected": "closed without a refund"}


def _amount(payload: dict[str, Any]) -> str:
    return display(int(payload["amount"]), str(payload["currency"]))


def _reason(payload: dict[str, Any]) -> str:
    return REASONS.get(str(payload.get("reason")), "the payment could not be completed")


def _case(payload: dict[str, Any]) -> str:
    return str(payload["case_id"])[:8].upper()


TEMPLATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "transfer.completed": lambda p: f"Your transfer of {_amount(p)} has reached the recipient's bank.",
    "transfer.failed": lambda p: (f"Your transfer of {_amount(p)} could not be sent: {_reason(p)}. "
                                  "The money was not taken from your account."),
    "transfer.returned": lambda p: (f"Your transfer of {_amount(p)} came back: {_reason(p)}. "
                                    "The money is back in your account."),
    "payment.received": lambda p: f"You received {_amount(p)}.",
    "card.frozen": lambda p: (f"Your card ending {p['last4']} is frozen: no payment or withdrawal will go "
                              "through until it is unfrozen."),
    "card.unfrozen": lambda p: f"Your card ending {p['last4']} is active again.",
    "fraud_case.opened": lambda p: (f"We opened fraud case {_case(p)}. Our team is looking into it and "
                                    "will tell you here what happens next."),
    "fraud_case.updated": lambda p: (f"Your fraud case {_case(p)} is now "
                                     f"{FRAUD_CASE_STATUS.get(str(p.get('status')), 'updated')}."),
}


def notice_for(topic: str, payload: dict[str, Any]) -> str | None:
    """The line telling the customer about this event, or None when it is not news for them."""
    template = TEMPLATES.get(topic)
    return None if template is None else template(payload)
