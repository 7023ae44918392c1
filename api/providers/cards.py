"""Card processor: authorizations, captures and refunds (docs/providers.md, /cards)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from api.providers.errors import ProviderRejected
from api.providers.http import Json, ProviderHttp
from api.providers.objects import ProviderObject, common, minor, optional_minor

AUTHORIZATIONS = "/v1/authorizations"
CAPTURES = "/v1/captures"
REFUNDS = "/v1/refunds"

# ISO 8583 response codes an issuer declines with, in plain words (what the customer is told).
DECLINE_REASONS = {
    "05": "do not honour",
    "14": "invalid card number",
    "41": "card reported lost",
    "43": "card reported stolen",
    "51": "insufficient funds",
    "54": "card expired",
    "57": "transaction not permitted to the cardholder",
    "61": "exceeds the withdrawal limit",
    "62": "restricted card",
    "65": "exceeds the number of allowed transactions",
    "91": "card issuer unavailable",
}
REFUND_REASONS = {"R_EXPIRED": "the refund window of the transaction has expired"}


def decline_reason(code: str | None) -> str:
    """A plain sentence for an issuer's decline code."""
    return DECLINE_REASONS.get(code or "", f"declined by the card issuer ({code})" if code else "declined")


def refund_reason(code: str | None) -> str:
    return REFUND_REASONS.get(code or "", f"refund refused ({code})" if code else "refund refused")


@dataclass(frozen=True, kw_only=True, slots=True)
class Authorization(ProviderObject):
    """`auth_...`: `approved` or `declined` (with an ISO 8583 decline code)."""

    amount_minor: int | None = None
    currency: str | None = None
    card_id: str | None = None
    merchant: str | dict[str, Any] | None = None
    decline_code: str | None = None

    @property
    def decline_reason(self) -> str | None:
        return decline_reason(self.decline_code) if self.status == "declined" else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Capture(ProviderObject):
    """`cap_...`: `captured`."""

    authorization_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Refund(ProviderObject):
    """`rf_...`: `pending` -> `succeeded` or `failed`."""

    amount_minor: int
    currency: str
    transaction_ref: str | None = None
    capture_id: str | None = None

    @property
    def reason(self) -> str | None:
        return refund_reason(self.reason_code) if self.reason_code else None


def to_authorization(data: Json) -> Authorization:
    return Authorization(**common(data), amount_minor=optional_minor(data.get("amount_minor")),
                         currency=data.get("currency"), card_id=data.get("card_id"), merchant=data.get("merchant"),
                         decline_code=data.get("decline_code"))


def to_capture(data: Json) -> Capture:
    return Capture(**common(data), authorization_id=data.get("authorization_id"),
                   amount_minor=optional_minor(data.get("amount_minor")), currency=data.get("currency"))


def to_refund(data: Json) -> Refund:
    return Refund(**common(data), amount_minor=minor(data["amount_minor"]), currency=str(data["currency"]),
                  transaction_ref=data.get("transaction_ref"), capture_id=data.get("capture_id"))


class CardProcessorClient:
    """Authorize, capture and refund; a decline or a refused refund raises ProviderRejected with plain reasons."""

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def authorize(self, *, idempotency_key: str, card_id: str, amount_minor: int, currency: str,
                  merchant: str | Mapping[str, str]) -> Authorization:
        """Hold the amount on the card; declined: ProviderRejected(decline code, plain reason, object_id).

        `merchant` is a name, or an object such as {"name", "mcc", "country"}.
        """
        body: Json = {"card_id": card_id, "amount_minor": minor(amount_minor), "currency": currency,
                      "merchant": merchant if isinstance(merchant, str) else dict(merchant)}
        result = to_authorization(self.http.create(AUTHORIZATIONS, idempotency_key=idempotency_key, body=body,
                                                operation="cards.authorize"))
        if result.status == "declined":
            code = result.decline_code or result.reason_code or "declined"
            raise ProviderRejected(code, decline_reason(code), provider="cards", object_id=result.id)
        return result

    def authorization(self, authorization_id: str) -> Authorization:
        data = self.http.get(f"{AUTHORIZATIONS}/{quote(authorization_id, safe='')}", operation="cards.authorization")
        return to_authorization(data)

    def authorization_by_key(self, idempotency_key: str) -> Authorization | None:
        data = self.http.find_by_key(AUTHORIZATIONS, idempotency_key, operation="cards.authorization_by_key")
        return None if data is None else to_authorization(data)

    def capture(self, *, idempotency_key: str, authorization_id: str, amount_minor: int) -> Capture:
        """Take (part of) an approved authorization; over the authorized amount: ProviderRejected."""
        body: Json = {"authorization_id": authorization_id, "amount_minor": minor(amount_minor)}
        return to_capture(self.http.create(CAPTURES, idempotency_key=idempotency_key, body=body,
                                        operation="cards.capture"))

    def capture_status(self, capture_id: str) -> Capture:
        return to_capture(self.http.get(f"{CAPTURES}/{quote(capture_id, safe='')}", operation="cards.capture_status"))

    def capture_by_key(self, idempotency_key: str) -> Capture | None:
        data = self.http.find_by_key(CAPTURES, idempotency_key, operation="cards.capture_by_key")
        return None if data is None else to_capture(data)

    def refund(self, *, idempotency_key: str, transaction_ref: str, amount_minor: int, currency: str,
               capture_id: str | None = None) -> Refund:
        """Give money back; `pending` now, `succeeded`/`failed` later by webhook. Refused now: ProviderRejected."""
        body: Json = {"transaction_ref": transaction_ref, "amount_minor": minor(amount_minor), "currency": currency}
        if capture_id is not None:
            body["capture_id"] = capture_id
        result = to_refund(self.http.create(REFUNDS, idempotency_key=idempotency_key, body=body,
                                         operation="cards.refund"))
        if result.status == "failed":
            code = result.reason_code or "failed"
            raise ProviderRejected(code, refund_reason(code), provider="cards", object_id=result.id)
        return result

    def refund_status(self, refund_id: str) -> Refund:
        return to_refund(self.http.get(f"{REFUNDS}/{quote(refund_id, safe='')}", operation="cards.refund_status"))

    def refund_by_key(self, idempotency_key: str) -> Refund | None:
        data = self.http.find_by_key(REFUNDS, idempotency_key, operation="cards.refund_by_key")
        return None if data is None else to_refund(data)
