"""Bank rails: SEPA/ACH credit transfers out and direct-debit pulls in (docs/providers.md, /rails)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from api.providers.errors import ProviderRejected
from api.providers.http import Json, ProviderHttp
from api.providers.objects import ProviderObject, common, mask, minor

CREDIT_TRANSFERS = "/v1/credit-transfers"
DIRECT_DEBITS = "/v1/direct-debits"

# ISO 20022 / NACHA reason codes the rails use, in words a customer or an operator can read.
REASONS = {
    "AC01": "incorrect account number",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AM04": "insufficient funds",
    "MD01": "no valid mandate",
    "R01": "insufficient funds at the receiving bank",
    "R02": "account closed",
    "R03": "no such account",
    "R04": "invalid account number",
}
# Statuses in which the rail refused the payment outright; the creating call raises ProviderRejected.
REFUSED = {"credit_transfer": "rejected", "direct_debit": "failed"}


def reason_text(code: str | None) -> str:
    """A plain sentence for a rails reason code."""
    return REASONS.get(code or "", f"refused by the bank ({code})" if code else "refused by the bank")


@dataclass(frozen=True, kw_only=True, slots=True)
class Party:
    """The creditor or debtor of a payment; account numbers are kept out of repr (logs)."""

    name: str | None = None
    iban: str | None = field(default=None, repr=False)
    account_number: str | None = field(default=None, repr=False)

    @property
    def masked_account(self) -> str | None:
        """The IBAN or account number with only its last four characters, for display and logs."""
        return mask(self.iban or self.account_number)


@dataclass(frozen=True, kw_only=True, slots=True)
class RailsPayment(ProviderObject):
    """A credit transfer (`ct_...`, money out) or a direct debit (`dd_...`, money pulled in)."""

    kind: Literal["credit_transfer", "direct_debit"]
    amount_minor: int
    currency: str
    counterparty: Party  # the creditor of a credit transfer, the debtor of a direct debit
    reference: str | None = None
    mandate_id: str | None = None

    @property
    def reason(self) -> str | None:
        return reason_text(self.reason_code) if self.reason_code else None


def _party(data: Json | None) -> Party:
    data = data or {}
    return Party(name=data.get("name"), iban=data.get("iban"), account_number=data.get("account_number"))


def to_payment(data: Json, *, kind: Literal["credit_transfer", "direct_debit"]) -> RailsPayment:
    """A RailsPayment from the provider's JSON."""
    return RailsPayment(**common(data), kind=kind, amount_minor=minor(data["amount_minor"]),
                        currency=str(data["currency"]),
                        counterparty=_party(data.get("creditor" if kind == "credit_transfer" else "debtor")),
                        reference=data.get("reference"), mandate_id=data.get("mandate_id"))


def _refused(result: RailsPayment) -> RailsPayment:
    """Raise ProviderRejected when the payment was refused at creation, else return it."""
    if result.status == REFUSED[result.kind]:
        code = result.reason_code or result.status
        raise ProviderRejected(code, reason_text(result.reason_code), provider="rails", object_id=result.id)
    return result


class RailsClient:
    """Credit transfers and direct debits; every effectful call takes the caller's idempotency key."""

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def send_credit_transfer(self, *, idempotency_key: str, amount_minor: int, currency: str, creditor: Party,
                             reference: str | None = None) -> RailsPayment:
        """Send money out; `accepted` now, `settled`/`returned` later by webhook. Refused: ProviderRejected."""
        if not creditor.name or not (creditor.iban or creditor.account_number):
            raise ValueError("creditor needs a name and an iban or an account_number")
        body: Json = {"amount_minor": minor(amount_minor), "currency": currency,
                      "creditor": _party_body(creditor)}
        if reference is not None:
            body["reference"] = reference
        data = self.http.create(CREDIT_TRANSFERS, idempotency_key=idempotency_key, body=body,
                                operation="rails.send_credit_transfer")
        return _refused(to_payment(data, kind="credit_transfer"))

    def credit_transfer(self, transfer_id: str) -> RailsPayment:
        """The transfer as it is now (any status); ProviderNotFound if there is none."""
        data = self.http.get(f"{CREDIT_TRANSFERS}/{quote(transfer_id, safe='')}", operation="rails.credit_transfer")
        return to_payment(data, kind="credit_transfer")

    def credit_transfer_by_key(self, idempotency_key: str) -> RailsPayment | None:
        """The transfer created under this key, or None when none was."""
        data = self.http.find_by_key(CREDIT_TRANSFERS, idempotency_key, operation="rails.credit_transfer_by_key")
        return None if data is None else to_payment(data, kind="credit_transfer")

    def pull_direct_debit(self, *, idempotency_key: str, amount_minor: int, currency: str, debtor: Party,
                          mandate_id: str, reference: str | None = None) -> RailsPayment:
        """Pull money in under a mandate; `pending` now, `collected`/`failed` later. Refused: ProviderRejected."""
        if not debtor.name or not debtor.iban:
            raise ValueError("debtor needs a name and an iban")
        body: Json = {"amount_minor": minor(amount_minor), "currency": currency, "debtor": _party_body(debtor),
                      "mandate_id": mandate_id}
        if reference is not None:
            body["reference"] = reference
        data = self.http.create(DIRECT_DEBITS, idempotency_key=idempotency_key, body=body,
                                operation="rails.pull_direct_debit")
        return _refused(to_payment(data, kind="direct_debit"))

    def incoming_payment(self, payment_id: str) -> Json:
        """A payment received, as the rails hold it (ProviderNotFound when they have none by that id)."""
        return self.http.get(f"/v1/incoming/{quote(payment_id, safe='')}", operation="rails.incoming_payment")

    def incoming_since(self, cursor: int) -> tuple[list[Json], int]:
        """The statement of money received after `cursor` (oldest first, one page) and the next cursor."""
        data = self.http.get("/v1/incoming", params={"after": str(cursor)}, operation="rails.incoming_since")
        items, following = data.get("items"), data.get("next")
        if not isinstance(items, list) or not isinstance(following, int) or following < cursor:
            raise ValueError("the rails statement is not in the expected shape")
        return [item for item in items if isinstance(item, dict)], following

    def direct_debit(self, debit_id: str) -> RailsPayment:
        """The pull as it is now; ProviderNotFound if there is none."""
        data = self.http.get(f"{DIRECT_DEBITS}/{quote(debit_id, safe='')}", operation="rails.direct_debit")
        return to_payment(data, kind="direct_debit")

    def direct_debit_by_key(self, idempotency_key: str) -> RailsPayment | None:
        """The pull created under this key, or None."""
        data = self.http.find_by_key(DIRECT_DEBITS, idempotency_key, operation="rails.direct_debit_by_key")
        return None if data is None else to_payment(data, kind="direct_debit")


def _party_body(party: Party) -> Json:
    # Only the fields given: the provider validates the shape, and null is not "absent" to every API.
    return {k: v for k, v in (("name", party.name), ("iban", party.iban), ("account_number", party.account_number))
            if v is not None}
