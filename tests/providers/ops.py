"""One effectful call per provider operation, for the fault matrix: set up, call under a key, look up by key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.providers.rails import Party
from tests.providers.conftest import Clients, key

IBAN = "DE89370400440532013000"
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@dataclass(frozen=True)
class Op:
    """An effectful operation of one client: `setup` makes what it needs, without faults."""

    name: str
    provider: str
    call: Callable[[Clients, str, dict[str, Any]], Any]
    by_key: Callable[[Clients, str], Any]
    setup: Callable[[Clients], dict[str, Any]] = lambda clients: {}

    def __str__(self) -> str:
        return self.name


def _authorized(clients: Clients) -> dict[str, Any]:
    auth = clients.cards.authorize(idempotency_key=key("auth"), card_id="card_test_1", amount_minor=4200,
                                   currency="EUR", merchant="Corner Coffee")
    return {"authorization_id": auth.id}


def _quoted(clients: Clients) -> dict[str, Any]:
    quote = clients.crypto.quote(asset="BTC", fiat_amount_minor=25_000, fiat_currency="EUR")
    return {"quote_id": quote.id}


OPS = [
    Op("rails.credit_transfer", "rails",
       lambda c, k, _: c.rails.send_credit_transfer(idempotency_key=k, amount_minor=1000, currency="EUR",
                                                    creditor=Party(name="Bob Example", iban=IBAN), reference="rent"),
       lambda c, k: c.rails.credit_transfer_by_key(k)),
    Op("rails.direct_debit", "rails",
       lambda c, k, _: c.rails.pull_direct_debit(idempotency_key=k, amount_minor=2500, currency="EUR",
                                                 debtor=Party(name="Alice Example", iban=IBAN), mandate_id="mdt-1"),
       lambda c, k: c.rails.direct_debit_by_key(k)),
    Op("cards.authorize", "cards",
       lambda c, k, _: c.cards.authorize(idempotency_key=k, card_id="card_test_1", amount_minor=4200,
                                         currency="EUR", merchant="Corner Coffee"),
       lambda c, k: c.cards.authorization_by_key(k)),
    Op("cards.capture", "cards",
       lambda c, k, ctx: c.cards.capture(idempotency_key=k, authorization_id=ctx["authorization_id"],
                                         amount_minor=4200),
       lambda c, k: c.cards.capture_by_key(k), _authorized),
    Op("cards.refund", "cards",
       lambda c, k, _: c.cards.refund(idempotency_key=k, transaction_ref="txn-1", amount_minor=1200,
                                      currency="EUR"),
       lambda c, k: c.cards.refund_by_key(k)),
    Op("crypto.transfer", "crypto",
       lambda c, k, ctx: c.crypto.transfer(idempotency_key=k, quote_id=ctx["quote_id"],
                                           destination_address=ADDRESS),
       lambda c, k: c.crypto.transfer_by_key(k), _quoted),
    Op("kyc.create_applicant", "kyc",
       lambda c, k, _: c.kyc.create_applicant(idempotency_key=k, external_ref="cust-1", full_name="Ada Lovelace",
                                              level="basic"),
       lambda c, k: c.kyc.applicant_by_key(k)),
]
