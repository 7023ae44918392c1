"""The provider interface over real HTTP: auth, idempotency, status by key, and every status machine."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.sandbox.conftest import Receiver, effects, wait_status
from tests.sandbox_server import Sandbox

IBAN = "DE89370400440532013000"


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


def credit_transfer(client: httpx.Client, amount: int, idem: str | None = None, **headers: str) -> httpx.Response:
    return client.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem or key(), **headers},
                       json={"amount_minor": amount, "currency": "EUR", "creditor": {"name": "Eve", "iban": IBAN}})


def test_auth_is_required_everywhere_but_healthz(sandbox: Sandbox, sb: httpx.Client) -> None:
    assert httpx.get(f"{sandbox}/healthz").status_code == 200
    for method, path in (("GET", "/rails/v1/credit-transfers/ct_x"), ("POST", "/kyc/v1/applicants"),
                         ("GET", "/sandbox/effects"), ("POST", "/sandbox/reset")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": sandbox.api_key}):
            answer = httpx.request(method, f"{sandbox}{path}", headers=headers)
            assert answer.status_code == 401, (path, headers)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "unauthorized"


def test_idempotency_same_body_replays_other_body_is_refused(sb: httpx.Client) -> None:
    idem = key()
    first = credit_transfer(sb, 1000, idem)
    assert first.status_code == 201
    assert first.json()["status"] == "accepted" and first.json()["id"].startswith("ct_")
    again = credit_transfer(sb, 1000, idem)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = credit_transfer(sb, 1001, idem)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # Per provider and collection: the same key on direct debits is another object.
    dd = sb.post("/rails/v1/direct-debits", headers={"Idempotency-Key": idem},
                 json={"amount_minor": 500, "currency": "EUR", "debtor": {"name": "D", "iban": IBAN},
                       "mandate_id": "m1"})
    assert dd.status_code == 201
    assert len(effects(sb, idempotency_key=idem)) == 2


def test_key_missing_or_malformed_is_400_and_status_by_key(sb: httpx.Client) -> None:
    body = {"amount_minor": 100, "currency": "EUR", "creditor": {"name": "Eve", "iban": IBAN}}
    missing = sb.post("/rails/v1/credit-transfers", json=body)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_missing"
    bad = sb.post("/rails/v1/credit-transfers", json=body, headers={"Idempotency-Key": "spaces are bad"})
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key_invalid"
    long = sb.post("/rails/v1/credit-transfers", json=body, headers={"Idempotency-Key": "k" * 201})
    assert long.status_code == 400 and long.json()["code"] == "idempotency_key_invalid"
    assert sb.get("/rails/v1/credit-transfers", params={"idempotency_key": "k" * 201}).status_code == 400
    idem = key()
    assert sb.get("/rails/v1/credit-transfers", params={"idempotency_key": idem}).status_code == 404
    created = credit_transfer(sb, 100, idem).json()
    found = sb.get("/rails/v1/credit-transfers", params={"idempotency_key": idem})
    assert found.status_code == 200 and found.json()["id"] == created["id"]
    assert effects(sb) and not effects(sb, idempotency_key="nothing")


def test_bad_input_is_a_4xx_problem(sb: httpx.Client) -> None:
    cases = [
        sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": key()}, content=b"{not json",
                ),
        sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": key()},
                json={"amount_minor": 1.5, "currency": "EUR", "creditor": {"name": "x"}}),
        sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": key()},
                json={"amount_minor": 100, "currency": "euro", "creditor": {"name": "x"}}),
        sb.post("/kyc/v1/applicants", headers={"Idempotency-Key": key()},
                json={"external_ref": "x" * 1000, "level": "basic"}),
        sb.post("/kyc/v1/applicants", headers={"Idempotency-Key": key()},
                json={"external_ref": "a\u0000b", "level": "basic"}),
        sb.post("/sandbox/clock/advance", json={"seconds": -1}),
        sb.post("/sandbox/faults", json={"rate": 2, "seed": 1}),
        sb.get("/rails/v1/credit-transfers/ct_nope"),
        sb.get("/rails/v1/nothing"),
        sb.post("/cards/v1/authorizations", headers={"Idempotency-Key": key()}, content=b"x" * 70_000),
        sb.get("/rails/v1/credit-transfers", headers={"X-Sandbox-Fault": "meteor"}),
    ]
    for answer in cases:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "code"} <= answer.json().keys()


def test_concurrent_duplicates_make_one_effect(sb: httpx.Client, sandbox: Sandbox) -> None:
    idem = key()

    def call(_: int) -> httpx.Response:
        with httpx.Client(base_url=sandbox, headers=sandbox.headers, timeout=10.0) as client:
            return credit_transfer(client, 4200, idem)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(effects(sb, idempotency_key=idem)) == 1


def test_credit_transfer_settles_rejects_and_returns(sb: httpx.Client, receiver: Receiver) -> None:
    ok, rejected, r01, r03 = (credit_transfer(sb, amount).json() for amount in (1000, 1013, 1066, 1067))
    for obj in (ok, r01, r03):
        assert receiver.wait_for_type("credit_transfer.settled", obj["id"])["data"]["status"] == "settled"
    event = receiver.wait_for_type("credit_transfer.rejected", rejected["id"])
    assert event["data"]["reason_code"] == "AC01"
    assert sb.get(f"/rails/v1/credit-transfers/{rejected['id']}").json()["status"] == "rejected"
    # Returns come 3 virtual days after settlement: nothing yet, then everything once the clock moves.
    assert not [e for e in receiver.events() if e["type"] == "credit_transfer.returned"]
    before = sb.get("/sandbox/clock").json()["now"]
    assert sb.post("/sandbox/clock/advance", json={"seconds": 3 * 24 * 3600 + 5}).status_code == 200
    assert sb.get("/sandbox/clock").json()["now"] > before
    assert receiver.wait_for_type("credit_transfer.returned", r01["id"])["data"]["reason_code"] == "R01"
    assert receiver.wait_for_type("credit_transfer.returned", r03["id"])["data"]["reason_code"] == "R03"
    assert sb.get(f"/rails/v1/credit-transfers/{ok['id']}").json()["status"] == "settled"
    statuses = {e["id"]: (e["status"], e["reason_code"]) for e in effects(sb, provider="rails")}
    assert statuses == {ok["id"]: ("settled", None), rejected["id"]: ("rejected", "AC01"),
                        r01["id"]: ("returned", "R01"), r03["id"]: ("returned", "R03")}


def test_direct_debit_collects_or_fails(sb: httpx.Client, receiver: Receiver) -> None:
    def pull(amount: int) -> dict[str, object]:
        answer = sb.post("/rails/v1/direct-debits", headers={"Idempotency-Key": key()},
                         json={"amount_minor": amount, "currency": "EUR", "debtor": {"name": "D", "iban": IBAN},
                               "mandate_id": "mandate-1", "reference": "rent"})
        assert answer.status_code == 201 and answer.json()["status"] == "pending"
        return answer.json()  # type: ignore[no-any-return]

    good, bad = pull(2500), pull(2513)
    assert receiver.wait_for_type("direct_debit.collected", good["id"])["data"]["status"] == "collected"
    assert receiver.wait_for_type("direct_debit.failed", bad["id"])["data"]["reason_code"] == "AM04"


def test_cards_authorize_capture_refund(sb: httpx.Client, receiver: Receiver) -> None:
    def authorize(amount: int) -> dict[str, object]:
        answer = sb.post("/cards/v1/authorizations", headers={"Idempotency-Key": key()},
                         json={"card_id": "card_1", "amount_minor": amount, "currency": "EUR", "merchant": "Shop"})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    approved, d51, d05 = authorize(10000), authorize(10051), authorize(10005)
    assert approved["status"] == "approved" and approved["decline_code"] is None
    assert (d51["status"], d51["decline_code"]) == ("declined", "51")
    assert (d05["status"], d05["decline_code"]) == ("declined", "05")

    def capture(auth_id: object, amount: int) -> httpx.Response:
        return sb.post("/cards/v1/captures", headers={"Idempotency-Key": key()},
                       json={"authorization_id": auth_id, "amount_minor": amount})

    assert capture("auth_unknown", 1).status_code == 404
    assert capture(d51["id"], 1).status_code == 422
    assert capture(approved["id"], 10001).json()["code"] == "amount_exceeds_authorization"
    cap = capture(approved["id"], 6000)
    assert cap.status_code == 201 and cap.json()["status"] == "captured" and cap.json()["currency"] == "EUR"
    assert capture(approved["id"], 4001).status_code == 422  # only 4000 left
    assert sb.get(f"/cards/v1/captures/{cap.json()['id']}").json()["amount_minor"] == 6000

    def refund(amount: int) -> dict[str, object]:
        answer = sb.post("/cards/v1/refunds", headers={"Idempotency-Key": key()},
                         json={"capture_id": cap.json()["id"], "transaction_ref": "tx-1", "amount_minor": amount,
                               "currency": "EUR"})
        assert answer.status_code == 201 and answer.json()["status"] == "pending"
        return answer.json()  # type: ignore[no-any-return]

    good, expired = refund(1000), refund(1013)
    assert receiver.wait_for_type("refund.succeeded", good["id"])["data"]["status"] == "succeeded"
    assert receiver.wait_for_type("refund.failed", expired["id"])["data"]["reason_code"] == "R_EXPIRED"
    found = sb.get("/cards/v1/refunds", params={"idempotency_key": good["idempotency_key"]})
    assert found.json()["status"] == "succeeded"

    chargeback = sb.post("/sandbox/cards/chargebacks",
                         json={"transaction_ref": "tx-1", "amount_minor": 500, "currency": "EUR",
                               "reason_code": "4837"})
    assert chargeback.status_code == 201
    event = receiver.wait_for_type("chargeback.created", chargeback.json()["id"])
    assert event["data"] == {"id": chargeback.json()["id"], "transaction_ref": "tx-1", "amount_minor": 500,
                             "currency": "EUR", "reason_code": "4837"}


def test_crypto_quotes_and_transfers(sb: httpx.Client, receiver: Receiver) -> None:
    def quote(amount: int) -> dict[str, object]:
        answer = sb.post("/crypto/v1/quotes", json={"asset": "BTC", "fiat_amount_minor": amount,
                                                     "fiat_currency": "EUR"})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def transfer(quote_id: object) -> httpx.Response:
        return sb.post("/crypto/v1/transfers", headers={"Idempotency-Key": key()},
                       json={"quote_id": quote_id, "destination_address": "bc1qexampleaddress"})

    q = quote(600000)
    assert q["asset_amount"] == "0.10000000" and q["rate"] == "60000.00" and isinstance(q["network_fee_minor"], int)
    assert transfer("q_unknown").status_code == 404
    ok = transfer(q["id"])
    assert ok.status_code == 201 and ok.json()["status"] == "submitted" and ok.json()["confirmations"] == 0
    assert transfer(q["id"]).json()["code"] == "quote_used"
    failed = transfer(quote(600013)["id"]).json()
    dropped = transfer(quote(600066)["id"]).json()
    confirmed = receiver.wait_for_type("transfer.confirmed", ok.json()["id"])
    assert confirmed["data"]["confirmations"] == 3
    assert receiver.wait_for_type("transfer.failed", failed["id"])["data"]["reason_code"] == "NETWORK_REJECTED"
    receiver.wait_for_type("transfer.confirmed", dropped["id"])
    stale = quote(1000)
    sb.post("/sandbox/clock/advance", json={"seconds": 3601})
    assert receiver.wait_for_type("transfer.dropped", dropped["id"])["data"]["reason_code"] == "REORG"
    expired = transfer(stale["id"])
    assert expired.status_code == 422 and expired.json()["code"] == "quote_expired"


def test_kyc_reviews(sb: httpx.Client, receiver: Receiver) -> None:
    def applicant(name: str) -> dict[str, object]:
        answer = sb.post("/kyc/v1/applicants", headers={"Idempotency-Key": key()},
                         json={"external_ref": f"cust-{name}", "full_name": name, "level": "full"})
        assert answer.status_code == 201 and answer.json()["status"] == "pending"
        assert "full_name" not in answer.json()
        return answer.json()  # type: ignore[no-any-return]

    good, bad = applicant("Alice Good"), applicant("Rejected Person")
    event = receiver.wait_for_type("applicant.reviewed", good["id"])
    assert {k: event["data"][k] for k in ("id", "external_ref", "status", "level", "reason_code")} == {
        "id": good["id"], "external_ref": "cust-Alice Good", "status": "verified", "level": "full",
        "reason_code": None}
    rejected = receiver.wait_for_type("applicant.reviewed", bad["id"])["data"]
    assert (rejected["status"], rejected["reason_code"]) == ("rejected", "DOC_UNREADABLE")
    assert wait_status(sb, f"/kyc/v1/applicants/{bad['id']}", "rejected")["reason_code"] == "DOC_UNREADABLE"
