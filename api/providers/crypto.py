"""Crypto gateway: quotes with the network fee, transfers and their confirmations (docs/providers.md, /crypto)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import quote as quote_path

from api.providers.errors import ProviderRejected
from api.providers.http import Json, ProviderHttp
from api.providers.objects import ProviderObject, common, decimal, minor, optional_minor, timestamp

QUOTES = "/v1/quotes"
TRANSFERS = "/v1/transfers"

REASONS = {
    "NETWORK_REJECTED": "the network rejected the transaction",
    "REORG": "the transaction was dropped by a chain reorganisation",
    "quote_expired": "the quote has expired; ask for a new one",
}


def reason_text(code: str | None) -> str:
    return REASONS.get(code or "", f"transfer refused ({code})" if code else "transfer refused")


@dataclass(frozen=True, kw_only=True, slots=True)
class Quote:
    """`q_...`: what `fiat_amount_minor` buys, at which rate (fiat per asset unit), plus the network fee."""

    id: str
    asset: str
    asset_amount: Decimal
    rate: Decimal
    network_fee_minor: int
    fiat_currency: str
    fiat_amount_minor: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CryptoTransfer(ProviderObject):
    """`ctx_...`: `submitted` -> `confirmed` (3 confirmations) or `failed`; a confirmed one may be `dropped`."""

    quote_id: str | None = None
    destination_address: str | None = None
    asset: str | None = None
    asset_amount: Decimal | None = None
    amount_minor: int | None = None  # the fiat amount of the quote
    currency: str | None = None
    network_fee_minor: int | None = None
    confirmations: int = 0

    @property
    def reason(self) -> str | None:
        return reason_text(self.reason_code) if self.reason_code else None


def to_quote(data: Json) -> Quote:
    return Quote(id=str(data["id"]), asset=str(data["asset"]), asset_amount=decimal(data["asset_amount"]),
                 rate=decimal(data["rate"]), network_fee_minor=minor(data["network_fee_minor"]),
                 fiat_currency=str(data["fiat_currency"]),
                 fiat_amount_minor=optional_minor(data.get("fiat_amount_minor")),
                 expires_at=timestamp(data.get("expires_at")))


def to_transfer(data: Json) -> CryptoTransfer:
    asset_amount = data.get("asset_amount")
    amount = data.get("amount_minor", data.get("fiat_amount_minor"))
    return CryptoTransfer(**common(data), quote_id=data.get("quote_id"),
                          destination_address=data.get("destination_address"), asset=data.get("asset"),
                          asset_amount=None if asset_amount is None else decimal(asset_amount),
                          amount_minor=optional_minor(amount),
                          currency=data.get("currency", data.get("fiat_currency")),
                          network_fee_minor=optional_minor(data.get("network_fee_minor")),
                          confirmations=int(data.get("confirmations") or 0))


class CryptoGatewayClient:
    """Quote, then transfer under the quote; a refused transfer raises ProviderRejected."""

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def quote(self, *, asset: Literal["BTC", "ETH"], fiat_amount_minor: int, fiat_currency: str) -> Quote:
        """A price valid 60 virtual seconds; it has no effect, so it is retried like a read."""
        body: Json = {"asset": asset, "fiat_amount_minor": minor(fiat_amount_minor), "fiat_currency": fiat_currency}
        return to_quote(self.http.post_without_effect(QUOTES, body=body, operation="crypto.quote"))

    def get_quote(self, quote_id: str) -> Quote:
        """A quote as the gateway holds it (the amounts a purchase under it will move)."""
        return to_quote(self.http.get(f"{QUOTES}/{quote_path(quote_id, safe='')}", operation="crypto.get_quote"))

    def transfer(self, *, idempotency_key: str, quote_id: str, destination_address: str) -> CryptoTransfer:
        """Send the quoted asset; expired quote or refused at once: ProviderRejected; unknown quote: NotFound."""
        body: Json = {"quote_id": quote_id, "destination_address": destination_address}
        result = to_transfer(self.http.create(TRANSFERS, idempotency_key=idempotency_key, body=body,
                                              operation="crypto.transfer"))
        if result.status == "failed":
            code = result.reason_code or "failed"
            raise ProviderRejected(code, reason_text(code), provider="crypto", object_id=result.id)
        return result

    def transfer_status(self, transfer_id: str) -> CryptoTransfer:
        data = self.http.get(f"{TRANSFERS}/{quote_path(transfer_id, safe='')}", operation="crypto.transfer_status")
        return to_transfer(data)

    def transfer_by_key(self, idempotency_key: str) -> CryptoTransfer | None:
        data = self.http.find_by_key(TRANSFERS, idempotency_key, operation="crypto.transfer_by_key")
        return None if data is None else to_transfer(data)
