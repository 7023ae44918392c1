"""The retry policy's decisions, without a server: classification of answers and failures, waits, keys."""

from __future__ import annotations

import random
import socket
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
import structlog

from api.providers.cards import Authorization, decline_reason
from api.providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)
from api.providers.http import (
    ProviderHttp,
    check_idempotency_key,
    effect_safe_to_repeat,
    interpret,
    parse_retry_after,
    retry_delay,
    safe_to_repeat,
    transport_error,
)
from api.providers.objects import decimal, mask, minor
from api.providers.rails import Party, RailsClient


def problem(status: int, code: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"type": "about:blank", "title": code, "status": status,
                                                          "code": code, "detail": f"{code} detail"})


def test_a_2xx_is_its_json_object_with_decimals_never_floats() -> None:
    body = interpret("crypto", httpx.Response(201, content=b'{"rate": 61234.56, "amount_minor": 1000}'))
    assert body == {"rate": Decimal("61234.56"), "amount_minor": 1000}
    assert isinstance(body["rate"], Decimal)


@pytest.mark.parametrize("content", [b'{"id": "ct_1", "sta', b"", b"[1, 2]", b"<html>"])
def test_an_unreadable_2xx_is_ambiguous(content: bytes) -> None:
    with pytest.raises(ProviderAmbiguous):
        interpret("rails", httpx.Response(201, content=content))


@pytest.mark.parametrize(("status", "error"), [
    (400, ProviderRejected), (422, ProviderRejected), (401, ProviderAuthError), (403, ProviderAuthError),
    (404, ProviderNotFound), (408, ProviderUnavailable), (429, ProviderUnavailable), (503, ProviderUnavailable),
    (409, ProviderAmbiguous), (500, ProviderAmbiguous), (502, ProviderAmbiguous), (504, ProviderAmbiguous),
])
def test_each_status_means_one_kind_of_error(status: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        interpret("rails", problem(status, "some_code"))


def test_a_rejection_carries_the_providers_code_and_reason() -> None:
    with pytest.raises(ProviderRejected) as caught:
        interpret("crypto", problem(422, "quote_expired"))
    assert (caught.value.code, caught.value.reason, caught.value.status) == ("quote_expired", "quote_expired detail",
                                                                            422)


def test_a_rejection_without_a_problem_body_still_has_a_code() -> None:
    with pytest.raises(ProviderRejected) as caught:
        interpret("rails", httpx.Response(400, content=b"bad"))
    assert caught.value.code == "http_400"


def test_429_carries_retry_after() -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        interpret("cards", problem(429, "rate_limited", **{"Retry-After": "1"}))
    assert caught.value.retry_after == 1.0


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    value = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(value, now=now) == 30.0
    assert parse_retry_after("nonsense") is None
    assert parse_retry_after(None) is None


def test_unsent_is_unavailable_and_anything_after_sending_is_ambiguous() -> None:
    request = httpx.Request("POST", "http://provider/v1/x")
    for exc in (httpx.ConnectError("refused", request=request), httpx.ConnectTimeout("t", request=request),
                httpx.PoolTimeout("pool", request=request)):
        assert isinstance(transport_error("rails", exc), ProviderUnavailable)
    for exc in (httpx.ReadTimeout("t", request=request), httpx.RemoteProtocolError("gone", request=request),
                httpx.ReadError("reset", request=request), httpx.WriteTimeout("t", request=request)):
        assert isinstance(transport_error("rails", exc), ProviderAmbiguous)


def test_what_is_repeated() -> None:
    unavailable, ambiguous = ProviderUnavailable("x"), ProviderAmbiguous("x")
    looked_up_absent = ProviderAmbiguous("x", no_effect_found=True)
    rejected, not_found, auth = ProviderRejected("AC01", "r"), ProviderNotFound("x"), ProviderAuthError("x")
    # Reads: anything not definitive.
    assert [safe_to_repeat(e) for e in (unavailable, ambiguous, rejected, not_found, auth)] == [
        True, True, False, False, False]
    # Effects: only what certainly had no effect; an unresolved ambiguity is never blindly repeated.
    assert [effect_safe_to_repeat(e) for e in (unavailable, looked_up_absent, ambiguous, rejected, auth)] == [
        True, True, False, False, False]


def test_waits_grow_with_jitter_and_are_capped() -> None:
    rng = random.Random(7)
    waits = [retry_delay(ProviderAmbiguous("x"), n, initial=0.2, maximum=1.0, rng=rng) for n in range(1, 7)]
    assert 0.2 <= waits[0] <= 0.4
    assert 0.4 <= waits[1] <= 0.6
    assert all(w <= 1.0 for w in waits)
    assert len({round(w, 6) for w in waits[:3]}) == 3


def test_retry_after_is_obeyed_never_earlier_and_capped() -> None:
    rng = random.Random(1)
    assert 1.0 <= retry_delay(ProviderUnavailable("x", retry_after=1.0), 1, initial=0.2, rng=rng) <= 1.2
    assert retry_delay(ProviderUnavailable("x", retry_after=3600), 1, initial=0.2, retry_after_cap=10,
                       rng=rng) <= 10.2


@pytest.mark.parametrize("bad", ["", "a" * 201, "has space", "ümlaut", "semi;colon"])
def test_a_bad_idempotency_key_is_refused_before_sending(bad: str) -> None:
    with pytest.raises(ValueError):
        check_idempotency_key(bad)


def test_a_good_idempotency_key() -> None:
    assert check_idempotency_key("transfer:3f2a_b.c-1") == "transfer:3f2a_b.c-1"
    assert check_idempotency_key("k" * 200)


def test_money_is_never_a_float() -> None:
    assert minor(1234) == 1234
    assert minor("1234") == 1234
    with pytest.raises(ValueError):
        minor(12.34)
    with pytest.raises(ValueError):
        minor(True)
    assert decimal("0.00012345") == Decimal("0.00012345")
    with pytest.raises(ValueError):
        decimal(0.1)


def test_account_numbers_stay_out_of_reprs() -> None:
    party = Party(name="Alice Example", iban="DE89370400440532013000")
    assert "DE89370400440532013000" not in repr(party)
    assert party.masked_account == "******************3000"
    assert mask(None) is None


def test_decline_codes_read_as_plain_reasons() -> None:
    assert decline_reason("51") == "insufficient funds"
    assert decline_reason("05") == "do not honour"
    assert "99" in decline_reason("99")
    auth = Authorization(id="auth_1", status="declined", decline_code="51")
    assert auth.decline_reason == "insufficient funds"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_retried_then_unavailable_and_logs_no_secret() -> None:
    sent: list[str] = []
    waits: list[float] = []
    http = ProviderHttp(provider="rails", base_url=f"http://127.0.0.1:{free_port()}/rails", api_key="s3cr3t-key",
                        timeout_seconds=0.5, max_attempts=3, backoff_initial=0.01, sleep=waits.append,
                        event_hooks={"request": [lambda request: sent.append(request.method)]})
    client = RailsClient(http)
    with structlog.testing.capture_logs() as logs, pytest.raises(ProviderUnavailable):
        client.send_credit_transfer(idempotency_key="k:1", amount_minor=1000, currency="EUR",
                                    creditor=Party(name="Bob", iban="DE89370400440532013000"))
    client.close()
    assert sent == ["POST", "POST", "POST"]  # never a lookup: nothing can have happened
    assert len(waits) == 2
    assert [entry["event"] for entry in logs] == ["provider_retry", "provider_retry"]
    assert "s3cr3t-key" not in repr(logs) and "DE89370400440532013000" not in repr(logs)


def test_one_client_per_provider_per_process_until_closed() -> None:
    from api.providers import card_client, close_all, crypto_client, kyc_client, rails_client

    first = rails_client()
    assert rails_client() is first
    assert {type(c).__name__ for c in (card_client(), crypto_client(), kyc_client())} == {
        "CardProcessorClient", "CryptoGatewayClient", "KycClient"}
    close_all()
    assert rails_client() is not first
    close_all()


def test_the_shared_clients_take_their_limits_from_the_settings() -> None:
    from api.config import get_settings
    from api.providers import close_all, rails_client

    settings = get_settings()
    http = rails_client().http
    assert http.max_attempts == settings.provider_max_attempts
    assert http._client.timeout.read == settings.provider_timeout_seconds
    assert str(http._client.base_url) == settings.rails_api_url.rstrip("/") + "/"
    close_all()
