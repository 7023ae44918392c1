"""The verified-token cache: a token is verified once, served until it expires, and never across keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import security
from api.auth.security import InvalidToken, Principal, _VerifiedTokens, decode_token, issue_token
from api.config import Settings

ALICE = Principal(subject=str(uuid.uuid4()), username="alice", roles=frozenset({"customer"}))


def test_entries_expire_at_their_exp() -> None:
    cache = _VerifiedTokens(limit=4)
    cache.put(("t",), ALICE, expires_at=100.0)
    assert cache.get(("t",), now=99.9) == ALICE
    assert cache.get(("t",), now=100.0) is None
    assert cache.get(("t",), now=0.0) is None  # an expired entry is dropped, not kept for later


def test_least_recently_used_goes_first_and_the_limit_holds() -> None:
    cache = _VerifiedTokens(limit=2)
    cache.put(("a",), ALICE, 1e12)
    cache.put(("b",), ALICE, 1e12)
    assert cache.get(("a",), 0) == ALICE  # a is now the most recent
    cache.put(("c",), ALICE, 1e12)
    assert cache.get(("b",), 0) is None and cache.get(("a",), 0) == ALICE and cache.get(("c",), 0) == ALICE


def test_a_cached_token_is_not_valid_under_another_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_verified", _VerifiedTokens(limit=16))
    first = Settings(jwt_secret="a" * 40)
    token = issue_token(first, subject=ALICE.subject, username="alice", roles=["customer"], minutes=5)
    assert decode_token(first, token).username == "alice"  # verified, now cached
    with pytest.raises(InvalidToken):
        decode_token(Settings(jwt_secret="b" * 40), token)
    with pytest.raises(InvalidToken):
        decode_token(Settings(jwt_secret="a" * 40, jwt_audience="someone-else"), token)


def test_an_expired_token_is_refused_even_after_it_was_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_verified", _VerifiedTokens(limit=16))
    settings = Settings(jwt_secret="c" * 40)
    token = issue_token(settings, subject=ALICE.subject, username="alice", roles=["customer"], minutes=5)
    assert decode_token(settings, token).username == "alice"
    later = datetime.now(UTC) + timedelta(minutes=6)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return later

    # Six minutes on, for the cache's clock and for PyJWT's.
    monkeypatch.setattr(security.time, "time", later.timestamp)
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    with pytest.raises(InvalidToken):
        decode_token(settings, token)
