"""POST /v1/transfers: the idempotency contract, limits, KYC gate, and no half-done change."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from api.redis_client import redis_for
from api.transfers import idempotency
from data.seed import stable_id
from tests.api.helpers import accounts_by_type, balances, is_problem
from tests.conftest import TEST_REDIS_URL


def _body(client: TestClient, headers, amount: str = "12.34", **extra) -> dict:
    accounts = accounts_by_type(client, headers)
    return {"from_account_id": accounts["checking"]["id"], "to_account_id": accounts["savings"]["id"],
            "amount": amount, "currency": "EUR", **extra}


def _count_transfers(pg) -> int:
    return pg.execute("SELECT count(*) FROM transfers").fetchone()[0]


def _count_entries(pg) -> int:
    return pg.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]


def test_missing_key_is_400(client: TestClient, alice) -> None:
    is_problem(client.post("/v1/transfers", headers=alice, json=_body(client, alice)), 400, "idempotency_key_missing")


def test_internal_transfer_moves_money_once_and_replays(client: TestClient, alice, pg) -> None:
    body = _body(client, alice)
    before = balances(client, alice)
    key = {"Idempotency-Key": f"test-{uuid.uuid4()}"}
    first = client.post("/v1/transfers", headers={**alice, **key}, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "completed"
    after = balances(client, alice)
    assert after[body["from_account_id"]][0] == before[body["from_account_id"]][0] - Decimal("12.34")
    assert after[body["to_account_id"]][0] == before[body["to_account_id"]][0] + Decimal("12.34")
    entries = _count_entries(pg)
    again = client.post("/v1/transfers", headers={**alice, **key}, json=body)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert balances(client, alice) == after and _count_entries(pg) == entries
    different = client.post("/v1/transfers", headers={**alice, **key}, json={**body, "amount": "1.00"})
    is_problem(different, 422, "idempotency_key_reused")
    assert balances(client, alice) == after


def test_same_key_in_flight_is_409_and_other_body_is_422(client: TestClient, alice, pg) -> None:
    body = _body(client, alice, amount="3.00")
    key = f"inflight-{uuid.uuid4()}"
    customer = stable_id("user", "alice")
    digest = idempotency.request_hash(body)
    marker = idempotency.marker_name(customer, key)
    store = redis_for(TEST_REDIS_URL)
    assert store.set(marker, digest, nx=True, px=idempotency.IN_FLIGHT_MS)  # as if a first request were running
    try:
        before = _count_transfers(pg)
        is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": key}, json=body), 409,
                   "idempotency_key_in_flight")
        is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": key},
                               json={**body, "amount": "4.00"}), 422, "idempotency_key_reused")
        assert _count_transfers(pg) == before
    finally:
        store.delete(marker)
    assert client.post("/v1/transfers", headers={**alice, "Idempotency-Key": key}, json=body).status_code == 201


def test_concurrent_duplicates_move_money_once(client: TestClient, alice, pg) -> None:
    body = _body(client, alice, amount="7.77")
    key = {"Idempotency-Key": f"storm-{uuid.uuid4()}"}
    before = balances(client, alice)[body["from_account_id"]][0]
    statuses: list[int] = []

    def send() -> None:
        statuses.append(client.post("/v1/transfers", headers={**alice, **key}, json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert balances(client, alice)[body["from_account_id"]][0] == before - Decimal("7.77")


@pytest.mark.parametrize(("amount", "status", "code"), [
    ("-1.00", 422, "invalid_amount"), ("0", 422, "invalid_amount"), ("0.00", 422, "invalid_amount"),
    ("NaN", 422, "invalid_amount"), ("Infinity", 422, "invalid_amount"), ("1e3", 422, "invalid_amount"),
    ("1.001", 422, "too_many_decimals"), ("", 422, None), ("99999999999999", 422, None),
    (12.34, 422, "validation_error"), (None, 422, "validation_error"), (["1"], 422, "validation_error"),
])
def test_bad_amounts_change_nothing(client: TestClient, alice, pg, amount, status, code) -> None:
    before, count = balances(client, alice), _count_transfers(pg)
    response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())},
                           json=_body(client, alice, amount=amount))
    is_problem(response, status, code)
    assert balances(client, alice) == before and _count_transfers(pg) == count


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"currency": "USD"}, 422, "currency_mismatch"), ({"currency": "XYZ"}, 422, "invalid_currency"),
    ({"currency": "eur"}, 422, "invalid_currency"), ({"from_account_id": "not-a-uuid"}, 422, "validation_error"),
    ({"from_account_id": str(uuid.uuid4())}, 404, "account_not_found"),
    ({"to_account_id": str(uuid.uuid4())}, 404, "account_not_found"),
    ({"amount": "20000.00"}, 422, "transfer_limit_exceeded"), ({"unexpected": 1}, 422, "validation_error"),
])
def test_bad_requests_change_nothing(client: TestClient, alice, pg, change, status, code) -> None:
    before, count = balances(client, alice), _count_transfers(pg)
    response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())},
                           json={**_body(client, alice), **change})
    is_problem(response, status, code)
    assert balances(client, alice) == before and _count_transfers(pg) == count


def test_same_account_both_sides(client: TestClient, alice) -> None:
    body = _body(client, alice)
    body["to_account_id"] = body["from_account_id"]
    is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": "same-1"}, json=body), 422,
               "same_account")


def test_insufficient_funds_is_422_and_nothing_moves(client: TestClient, alice) -> None:
    accounts = accounts_by_type(client, alice)
    body = {"from_account_id": accounts["savings"]["id"], "to_account_id": accounts["checking"]["id"],
            "currency": "EUR", "amount": str(Decimal(accounts["savings"]["available"]) + Decimal("0.01"))}
    before = balances(client, alice)
    is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": "nsf-1"}, json=body), 422,
               "insufficient_funds")
    assert balances(client, alice) == before


def test_unverified_customer_gets_kyc_403(client: TestClient, bob) -> None:
    before = balances(client, bob)
    response = client.post("/v1/transfers", headers={**bob, "Idempotency-Key": "kyc-1"},
                           json=_body(client, bob, amount="1.00"))
    body = is_problem(response, 403, "kyc_required")
    assert body["type"].endswith("/kyc_required") and body["kyc_status"] == "pending"
    assert balances(client, bob) == before


def test_alice_cannot_move_bobs_money(client: TestClient, alice, bob) -> None:
    bob_accounts = accounts_by_type(client, bob)
    before = balances(client, bob)
    body = {"from_account_id": bob_accounts["checking"]["id"], "to_account_id": bob_accounts["savings"]["id"],
            "amount": "1.00", "currency": "EUR"}
    is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": "theft-1"}, json=body), 404)
    assert balances(client, bob) == before


def test_external_transfer_to_payee_is_pending_and_reserves_funds(client: TestClient, alice) -> None:
    payees = client.get("/v1/payees", headers=alice).json()
    assert {p["name"] for p in payees} >= {"Mary Martin"}
    mary = next(p for p in payees if p["name"] == "Mary Martin")
    checking = accounts_by_type(client, alice)["checking"]
    response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": f"ext-{uuid.uuid4()}"},
                           json={"from_account_id": checking["id"], "payee_id": mary["id"], "amount": "25.00",
                                 "currency": "EUR", "reference": "Birthday"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["counterparty"]["name"] == "Mary Martin"
    after = accounts_by_type(client, alice)["checking"]
    assert Decimal(after["balance"]) == Decimal(checking["balance"])
    assert Decimal(after["available"]) == Decimal(checking["available"]) - Decimal("25.00")
    fetched = client.get(f"/v1/transfers/{response.json()['id']}", headers=alice)
    assert fetched.status_code == 200 and fetched.json()["status"] == "pending"


def test_counterparty_iban_is_checked(client: TestClient, alice) -> None:
    checking = accounts_by_type(client, alice)["checking"]
    body = {"from_account_id": checking["id"], "counterparty": {"name": "X", "iban": "IE00BOFI90001712345678"},
            "amount": "1.00", "currency": "EUR"}
    is_problem(client.post("/v1/transfers", headers={**alice, "Idempotency-Key": "iban-1"}, json=body), 422,
               "validation_error")


def test_other_customers_transfer_is_404(client: TestClient, alice, bob) -> None:
    response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": f"own-{uuid.uuid4()}"},
                           json=_body(client, alice, amount="1.00"))
    transfer_id = response.json()["id"]
    is_problem(client.get(f"/v1/transfers/{transfer_id}", headers=bob), 404, "transfer_not_found")


def test_daily_limit_refuses_past_the_total_and_changes_nothing(client: TestClient, alice, pg) -> None:
    accounts = accounts_by_type(client, alice)
    customer = stable_id("user", "alice")

    def today_total() -> int:
        row = pg.execute("SELECT total FROM transfer_daily_totals WHERE customer_id = %s AND "
                         "day = (now() AT TIME ZONE 'UTC')::date", (customer,)).fetchone()
        return row[0] if row else 0

    amount = 800000  # 8,000.00: under the per-transfer limit, so only the daily one can refuse
    # The seeded balances depend on the day of the month: start from the side that holds 8,000.00, and
    # gather the money on one side first when neither does (that move counts towards the day's total too).
    available = {kind: Decimal(a["available"]) for kind, a in accounts.items()}
    assert sum(available.values()) >= Decimal("8000.00"), available
    if max(available.values()) < Decimal("8000.00"):
        moved = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())}, json={
            "from_account_id": accounts["savings"]["id"], "to_account_id": accounts["checking"]["id"],
            "amount": f"{available['savings']:.2f}", "currency": "EUR"})
        assert moved.status_code == 201, moved.text
        available["checking"] += available["savings"]
    richer = "checking" if available["checking"] >= Decimal("8000.00") else "savings"
    direction = [accounts[richer]["id"], accounts["savings" if richer == "checking" else "checking"]["id"]]
    while today_total() + amount <= 2_500_000:
        response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())}, json={
            "from_account_id": direction[0], "to_account_id": direction[1], "amount": "8000.00", "currency": "EUR"})
        assert response.status_code == 201, response.text
        direction.reverse()
    before_total, before = today_total(), balances(client, alice)
    refused = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())}, json={
        "from_account_id": direction[0], "to_account_id": direction[1], "amount": "8000.00", "currency": "EUR"})
    is_problem(refused, 422, "daily_limit_exceeded")
    assert today_total() == before_total and balances(client, alice) == before


def test_transfers_fail_closed_when_redis_is_down(seeded_database_url: str, alice, pg,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """No rate limit and no in-flight marker: no transfer (503), and nothing written."""
    from api.config import get_settings
    from api.main import create_app

    monkeypatch.setenv("DATABASE_URL", seeded_database_url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as without_redis:
            body = _body(without_redis, alice, amount="2.00")
            before = (_count_transfers(pg), _count_entries(pg))
            refused = without_redis.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())},
                                         json=body)
            is_problem(refused, 503, "rate_limit_unavailable")
            assert (_count_transfers(pg), _count_entries(pg)) == before
    finally:
        get_settings.cache_clear()


def test_money_rate_limit_refuses_with_retry_after_and_holds_nothing(seeded_database_url: str, alice, pg,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit counted in the admission pipeline is the library's own count: 429 past it, nothing
    written, the refused request's key not held, and `limits` itself sees the window as full."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    from api.config import get_settings
    from api.main import create_app

    rule, customer = parse("3/minute"), str(stable_id("user", "alice"))
    library = MovingWindowRateLimiter(storage_from_string(TEST_REDIS_URL))
    library.clear(rule, "bankbot", "transfers", customer)
    monkeypatch.setenv("DATABASE_URL", seeded_database_url)
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("MONEY_RATE_LIMIT", "3/minute")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as limited:
            body = _body(limited, alice, amount="1.00")
            for _ in range(3):
                made = limited.post("/v1/transfers", headers={**alice, "Idempotency-Key": str(uuid.uuid4())},
                                    json=body)
                assert made.status_code == 201, made.text
            assert library.get_window_stats(rule, "bankbot", "transfers", customer).remaining == 0
            before = (_count_transfers(pg), _count_entries(pg), balances(limited, alice))
            key = str(uuid.uuid4())
            refused = limited.post("/v1/transfers", headers={**alice, "Idempotency-Key": key}, json=body)
            is_problem(refused, 429, "rate_limited")
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert (_count_transfers(pg), _count_entries(pg), balances(limited, alice)) == before
            assert not redis_for(TEST_REDIS_URL).exists(idempotency.marker_name(uuid.UUID(customer), key))
    finally:
        library.clear(rule, "bankbot", "transfers", customer)
        get_settings.cache_clear()


def test_a_duplicate_that_misses_the_first_record_still_gets_the_first_response(
        client: TestClient, alice, pg, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis lost the marker and the read ran before the first request committed: the ledger refuses
    the second posting (same key, same ledger id) and the first response is replayed."""
    from api.batching import per_loop_batcher
    from api.transfers import service

    body = _body(client, alice, amount="4.44")
    key = f"lost-marker-{uuid.uuid4()}"
    first = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": key}, json=body)
    assert first.status_code == 201, first.text
    after_first = (balances(client, alice), _count_entries(pg), _count_transfers(pg))
    redis_for(TEST_REDIS_URL).delete(idempotency.marker_name(stable_id("user", "alice"), key))

    async def read_before_the_first_committed(wanted):  # the same rows, without the stored record
        return [(*row[:-1], None) for row in await service._read_batch(wanted)]

    monkeypatch.setattr(service, "_reader",
                        per_loop_batcher(read_before_the_first_committed, max_batch=8, retry_alone=False))
    second = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": key}, json=body)
    assert second.status_code == 201, second.text
    assert second.json() == first.json() and second.headers.get("idempotent-replayed") == "true"
    assert (balances(client, alice), _count_entries(pg), _count_transfers(pg)) == after_first


@pytest.fixture()
def two_currency_customer(client: TestClient, pg) -> dict:
    """A verified customer with checking and savings accounts in EUR and in USD, each funded."""
    import ledger
    from api.auth.security import hash_password
    from api.bank_accounts import bank_account

    username, user_id = f"fx-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    pg.execute("INSERT INTO users (id, username, password_hash, full_name, roles, kyc_status) "
               "VALUES (%s, %s, %s, 'Two Currencies', ARRAY['customer'], 'verified')",
               (user_id, username, hash_password("demo-password")))
    accounts: dict[str, str] = {}
    with pg.transaction():
        for currency in ("EUR", "USD"):
            funding = bank_account(pg, "funding", currency)
            for kind in ("checking", "savings"):
                account = ledger.open_account(pg, owner_id=str(user_id), name=f"{kind} {currency}", kind=kind,
                                              currency=currency)
                ledger.post_transfer(pg, transaction_id=uuid.uuid4(), from_account_id=funding.id,
                                     to_account_id=account.id, amount=500_000, currency=currency, kind="deposit")
                accounts[f"{kind} {currency}"] = str(account.id)
    token = client.post("/v1/auth/token", data={"username": username, "password": "demo-password"})
    assert token.status_code == 200, token.text
    return {"id": user_id, "accounts": accounts, "headers": {"Authorization": f"Bearer {token.json()['access_token']}"}}


@pytest.fixture()
def small_daily_limit() -> Iterator[None]:
    """A daily limit of EUR 1,000.00 and USD at 0.90 EUR, for the app's every request during the test."""
    from api.config import get_settings

    mp = pytest.MonkeyPatch()
    mp.setenv("TRANSFER_DAILY_MAX_MINOR", "100000")
    mp.setenv("TRANSFER_DAILY_LIMIT_CURRENCY", "EUR")
    mp.setenv("TRANSFER_LIMIT_RATES", '{"USD": "0.90"}')
    get_settings.cache_clear()
    try:
        yield
    finally:
        mp.undo()
        get_settings.cache_clear()


def test_the_daily_limit_is_one_across_currencies(client: TestClient, pg, two_currency_customer,
                                                  small_daily_limit) -> None:
    customer, accounts = two_currency_customer, two_currency_customer["accounts"]

    def move(amount: str, currency: str):
        return client.post("/v1/transfers", headers={**customer["headers"], "Idempotency-Key": str(uuid.uuid4())},
                           json={"from_account_id": accounts[f"checking {currency}"], "amount": amount,
                                 "to_account_id": accounts[f"savings {currency}"], "currency": currency})

    assert move("600.00", "EUR").status_code == 201
    # USD 500.00 counts EUR 450.00: over what is left (EUR 400.00), although the USD side moved nothing today.
    refused = is_problem(move("500.00", "USD"), 422, "daily_limit_exceeded")
    assert refused["limit"] == "€1,000.00"
    assert refused["remaining"] == "US$444.44"  # EUR 400.00 at 0.90, rounded down
    before = balances(client, customer["headers"])
    assert move("444.44", "USD").status_code == 201  # counts EUR 399.996, rounded up to 400.00: exactly the limit
    is_problem(move("0.01", "USD"), 422, "daily_limit_exceeded")  # a cent counts at least a cent
    is_problem(move("0.01", "EUR"), 422, "daily_limit_exceeded")
    after = balances(client, customer["headers"])
    assert after[accounts["checking USD"]][0] == before[accounts["checking USD"]][0] - Decimal("444.44")
    rows = pg.execute("SELECT currency, total FROM transfer_daily_totals WHERE customer_id = %s "
                      "AND day = (now() AT TIME ZONE 'UTC')::date", (customer["id"],)).fetchall()
    assert rows == [("EUR", 100_000)]  # one total per customer and day, in the limit's currency


def test_a_currency_without_a_rate_moves_no_money(client: TestClient, pg, two_currency_customer) -> None:
    from api.config import get_settings

    customer, accounts = two_currency_customer, two_currency_customer["accounts"]
    mp = pytest.MonkeyPatch()
    mp.setenv("TRANSFER_LIMIT_RATES", '{"GBP": "1.17"}')
    get_settings.cache_clear()
    try:
        response = client.post("/v1/transfers", headers={**customer["headers"], "Idempotency-Key": str(uuid.uuid4())},
                               json={"from_account_id": accounts["checking USD"], "amount": "1.00",
                                     "to_account_id": accounts["savings USD"], "currency": "USD"})
        is_problem(response, 422, "currency_not_supported")
    finally:
        mp.undo()
        get_settings.cache_clear()
    assert pg.execute("SELECT count(*) FROM transfers WHERE customer_id = %s", (customer["id"],)).fetchone()[0] == 0


def test_daily_limit_conversion_rounds_against_the_customer() -> None:
    from api.config import get_settings
    from api.problems import Problem
    from api.transfers.service import daily_limit_amount, in_transfer_currency

    settings = get_settings().model_copy(update={"transfer_daily_limit_currency": "EUR", "transfer_limit_rates": {
        "JPY": Decimal("0.0062"), "BHD": Decimal("2.45"), "USD": Decimal("0.9"),
        "CHF": Decimal("1.0612345678901234567")}})
    counted = lambda amount, currency: daily_limit_amount(settings, amount=amount, currency=currency)  # noqa: E731
    back = lambda minor, currency: in_transfer_currency(settings, limit_minor=minor, currency=currency)  # noqa: E731
    assert counted(1234, "EUR") == 1234 and back(1234, "EUR") == 1234
    assert counted(1_000, "JPY") == 620  # JPY 1000 (no minor unit) is EUR 6.20 exactly
    assert counted(1_001, "JPY") == 621  # EUR 6.2062: up
    assert counted(1_000, "BHD") == 245  # BHD 1.000 (three decimals) is EUR 2.45
    assert counted(1, "USD") == 1  # USD 0.01 is EUR 0.009: up, never free
    assert back(620, "JPY") == 1_000 and back(621, "JPY") == 1_001  # 1001.6: down
    # A large amount at a 20-digit rate is computed exactly, then rounded up once.
    assert counted(999_999_999_999, "CHF") == 1_061_234_567_890  # ...889.0622...: up
    for minor in (1, 7, 99, 12_345, 2_500_000):
        for currency in ("JPY", "BHD", "USD", "CHF"):
            assert counted(back(minor, currency), currency) <= minor  # what is shown as left fits
    with pytest.raises(Problem) as missing:
        counted(100, "GBP")
    assert missing.value.status == 422 and missing.value.code == "currency_not_supported"
