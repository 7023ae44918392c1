"""Password hashing (argon2id) and JWT issue/verify (PyJWT). No HTTP here."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.config import Settings, get_settings

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("no-such-user-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class HashingBusy(Exception):
    """Every password-hash slot of this process stayed taken for the whole wait: try again shortly."""


@lru_cache(maxsize=4)
def _hash_slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


def hash_slots() -> threading.BoundedSemaphore:
    """This process's password-hash slots (login_hash_concurrency of them)."""
    return _hash_slots(get_settings().login_hash_concurrency)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; HashingBusy when no hash slot frees up within login_hash_wait_seconds."""
    # Each verification holds about 64 MiB (argon2id's memory cost) for its duration: a bounded number at
    # once per process, and a short wait for a slot rather than an unbounded queue. An unknown user takes
    # the same path (the dummy hash, through the same slots), so neither time nor a 503 tells them apart.
    slots = hash_slots()
    if not slots.acquire(timeout=get_settings().login_hash_wait_seconds):
        raise HashingBusy
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
    finally:
        slots.release()


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, tampered with or of the wrong issuer/audience."""


@dataclass(frozen=True)
class Principal:
    """Who is calling. For the action server (`service`), `acting_for` is the conversation's customer."""

    subject: str
    username: str
    roles: frozenset[str]
    acting_for: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    # For `service`: the sequence number of the customer message whose grant this token was traded for.
    grant_seq: int | None = None

    @property
    def is_service(self) -> bool:
        return "service" in self.roles

    @property
    def customer_id(self) -> uuid.UUID | None:
        """The customer whose data this principal may touch, or None when it is not customer-scoped."""
        if self.is_service:
            return self.acting_for
        if "customer" in self.roles:
            return uuid.UUID(self.subject)
        return None


def issue_token(settings: Settings, *, subject: str, username: str, roles: list[str], minutes: int,
                acting_for: uuid.UUID | None = None, conversation_id: uuid.UUID | None = None,
                grant_seq: int | None = None) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": subject, "iat": now,
        "nbf": now, "exp": now + timedelta(minutes=minutes), "jti": uuid.uuid4().hex,
        "preferred_username": username, "roles": sorted(roles),
    }
    if acting_for is not None:
        claims["act_for"] = str(acting_for)
    if conversation_id is not None:
        claims["cnv"] = str(conversation_id)
    if grant_seq is not None:
        claims["gsq"] = grant_seq
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


VERIFIED_TOKENS_MAX = 4096  # about 1 KB each


class _VerifiedTokens:
    """Access tokens this process has verified, kept until they expire (least recently used first out).

    Verifying a JWT (base64, JSON, HMAC or RSA, claim checks) is the largest fixed cost of a request
    after the database; a client sends the same token for its whole life, so it is checked once.
    Access tokens are not revocable before `exp` in any case (refresh tokens are, in the database).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[tuple[str, ...], tuple[Principal, float]] = OrderedDict()

    def get(self, key: tuple[str, ...], now: float) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, expires_at = entry
        if expires_at <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return principal

    def put(self, key: tuple[str, ...], principal: Principal, expires_at: float) -> None:
        self._entries[key] = (principal, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)
        assert len(self._entries) <= self.limit


_verified = _VerifiedTokens(VERIFIED_TOKENS_MAX)


def decode_token(settings: Settings, token: str) -> Principal:
    """The principal of a valid access token; InvalidToken otherwise."""
    # Everything verification depends on is in the key: a change of key, issuer or audience re-verifies.
    cache_key = (token, settings.jwt_secret, settings.jwt_jwks_url or "", settings.jwt_algorithm,
                 settings.jwt_audience, settings.jwt_issuer)
    principal = _verified.get(cache_key, time.time())
    if principal is None:
        principal, expires_at = _verify(settings, token)
        _verified.put(cache_key, principal, expires_at)
    return principal


def _verify(settings: Settings, token: str) -> tuple[Principal, float]:
    try:
        if settings.jwt_jwks_url:
            key: Any = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256"]
        else:
            key, algorithms = settings.jwt_secret, [settings.jwt_algorithm]
        # An explicit algorithm list refuses `alg: none` and algorithm-confusion tokens.
        claims = jwt.decode(token, key, algorithms=algorithms, audience=settings.jwt_audience,
                            issuer=settings.jwt_issuer, options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidToken("roles claim malformed")
        acting_for = uuid.UUID(claims["act_for"]) if claims.get("act_for") else None
        conversation_id = uuid.UUID(claims["cnv"]) if claims.get("cnv") else None
        grant_seq = claims.get("gsq")
        if grant_seq is not None and (not isinstance(grant_seq, int) or isinstance(grant_seq, bool)):
            raise InvalidToken("gsq claim malformed")
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
    principal = Principal(subject=str(claims["sub"]), username=str(claims.get("preferred_username", "")),
                          roles=frozenset(roles), acting_for=acting_for, conversation_id=conversation_id,
                          grant_seq=grant_seq)
    return principal, float(claims["exp"])
