"""One pooled sync HTTP client per provider, and the retry policy every provider call goes through.

- Reads (GET, and POSTs without effect such as quotes) are retried on any transport error, 5xx, 429 and
  unreadable body: repeating them cannot do harm.
- An effectful POST carries an Idempotency-Key. What certainly had no effect (refused connection, 429, 503)
  is retried with the same key. What may have taken effect (timeout after sending, dropped connection, other
  5xx, truncated body) is first resolved by asking the provider for that key (`GET <collection>?idempotency_key=K`):
  found means the effect happened and that object is the answer; 404 means it did not, and the POST is sent
  again with the same key. A lookup that cannot answer leaves the outcome unknown: ProviderAmbiguous.
- Waits are exponential with jitter (tenacity); a 429's Retry-After is honoured, capped.

Nothing here logs a body, a header or a query value other than the idempotency key: bodies carry IBANs,
card ids and names, headers the API key.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from api.providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)

log = structlog.get_logger(__name__)

Json = dict[str, Any]

IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
# Waits: initial * 2**(n-1) plus up to `initial` of jitter, at most BACKOFF_MAX_SECONDS. A provider's
# Retry-After is obeyed up to the cap: a saga step should fail over to its own schedule, not sleep minutes.
BACKOFF_INITIAL_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 5.0
RETRY_AFTER_CAP_SECONDS = 10.0
# Per process and provider; saga steps run in a thread pool, so a few concurrent calls are normal.
LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)

# No request left the process: certainly no effect.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def check_idempotency_key(key: str) -> str:
    """Refuse a key the provider would refuse (1-200 of [A-Za-z0-9_.:-]) before anything is sent."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise ValueError("idempotency key must be 1-200 characters of [A-Za-z0-9_.:-]")
    return key


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def transport_error(provider: str, exc: httpx.TransportError) -> ProviderError:
    """Classify a failure without an HTTP answer: unsent is unavailable, anything after sending is ambiguous."""
    if isinstance(exc, _NOT_SENT):
        return ProviderUnavailable(f"{provider}: not reached ({type(exc).__name__})", provider=provider)
    # Read/write timeouts, dropped connections, truncated bodies: the request may have been acted on.
    return ProviderAmbiguous(f"{provider}: no usable answer ({type(exc).__name__})", provider=provider)


def _problem(response: httpx.Response) -> tuple[str, str]:
    """The (code, plain reason) of a problem+json answer, tolerating any other body."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"http_{response.status_code}", response.reason_phrase or "error"
    code = str(body.get("code") or f"http_{response.status_code}")
    return code, str(body.get("detail") or body.get("title") or code)


def interpret(provider: str, response: httpx.Response) -> Json:
    """The JSON object of a 2xx answer, or raise the ProviderError its status means."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            # Decimal, never float: amounts and rates must survive the round trip exactly.
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # A 2xx we cannot read: the effect may well have happened (truncated body).
            raise ProviderAmbiguous(f"{provider}: unreadable {status} answer", provider=provider, status=status)
        return body
    code, reason = _problem(response)
    if status in (401, 403):
        raise ProviderAuthError(f"{provider}: credentials refused ({status} {code})", provider=provider,
                                status=status)
    if status == 404:
        raise ProviderNotFound(f"{provider}: not found ({code})", provider=provider, status=status)
    if status == 429 or status == 503 or status == 408:
        raise ProviderUnavailable(f"{provider}: unavailable ({status} {code})", provider=provider, status=status,
                                  retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status == 409 or status >= 500:
        # 500/502/504 may come after the effect; 409 is a concurrent call under the same key still running.
        raise ProviderAmbiguous(f"{provider}: outcome unknown ({status} {code})", provider=provider, status=status)
    raise ProviderRejected(code, reason, provider=provider, status=status)


def retry_delay(exc: BaseException | None, attempt: int, *, initial: float = BACKOFF_INITIAL_SECONDS,
                maximum: float = BACKOFF_MAX_SECONDS, retry_after_cap: float = RETRY_AFTER_CAP_SECONDS,
                rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`: the provider's Retry-After if any, else backoff with jitter."""
    jitter = (rng or random).uniform(0, initial)
    if isinstance(exc, ProviderUnavailable) and exc.retry_after is not None:
        # Never earlier than asked (jitter only adds), so many workers do not all come back at once.
        return min(exc.retry_after, retry_after_cap) + jitter
    return min(maximum, initial * 2 ** (attempt - 1) + jitter)


def safe_to_repeat(exc: BaseException) -> bool:
    """A read (or any call without effect) is repeated after anything that is not a definitive answer."""
    return isinstance(exc, ProviderUnavailable | ProviderAmbiguous)


def effect_safe_to_repeat(exc: BaseException) -> bool:
    """An effectful POST is repeated only when it certainly had no effect (unsent, 429/503, or looked up absent)."""
    return isinstance(exc, ProviderUnavailable) or (isinstance(exc, ProviderAmbiguous) and exc.no_effect_found)


class ProviderHttp:
    """A pooled client for one provider's base URL with the retry policy above; thread-safe."""

    def __init__(self, *, provider: str, base_url: str, api_key: str, timeout_seconds: float, max_attempts: int,
                 limits: httpx.Limits = LIMITS, backoff_initial: float = BACKOFF_INITIAL_SECONDS,
                 backoff_max: float = BACKOFF_MAX_SECONDS, retry_after_cap: float = RETRY_AFTER_CAP_SECONDS,
                 event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.provider = provider
        self.max_attempts = max_attempts
        self._backoff = (backoff_initial, backoff_max, retry_after_cap)
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_seconds), limits=limits, follow_redirects=False,
            event_hooks=dict(event_hooks or {}))

    def close(self) -> None:
        self._client.close()

    # -- the three kinds of call -------------------------------------------------------------------------

    def get(self, path: str, *, params: Mapping[str, str] | None = None, operation: str = "get") -> Json:
        """A read, retried until a definitive answer; 404 raises ProviderNotFound."""
        return self._retrying(safe_to_repeat, operation)(self._send, "GET", path, params=params,
                                                         operation=operation)

    def find_by_key(self, collection: str, idempotency_key: str, *, operation: str = "find_by_key") -> Json | None:
        """The object created under this key in the collection, or None when no effect happened for it."""
        check_idempotency_key(idempotency_key)
        try:
            return self.get(collection, params={"idempotency_key": idempotency_key}, operation=operation)
        except ProviderNotFound:
            return None

    def post_without_effect(self, path: str, *, body: Json, operation: str) -> Json:
        """A POST that changes nothing at the provider (a quote): retried like a read."""
        return self._retrying(safe_to_repeat, operation)(self._send, "POST", path, body=body, operation=operation)

    def create(self, collection: str, *, idempotency_key: str, body: Json, operation: str) -> Json:
        """An effectful POST under an idempotency key: exactly one effect, or a ProviderError saying why not."""
        check_idempotency_key(idempotency_key)
        ambiguous_seen = False

        def attempt() -> Json:
            nonlocal ambiguous_seen
            try:
                return self._send("POST", collection, body=body, idempotency_key=idempotency_key,
                                  operation=operation)
            except ProviderAmbiguous as exc:
                ambiguous_seen = True
                found = self._resolve(collection, idempotency_key, operation=operation, cause=exc)
                if found is not None:
                    log.info("provider_outcome_resolved", provider=self.provider, operation=operation,
                             idempotency_key=idempotency_key, cause=type(exc.__cause__ or exc).__name__,
                             status=exc.status)
                    return found
                raise ProviderAmbiguous(str(exc), provider=self.provider, status=exc.status,
                                        idempotency_key=idempotency_key, no_effect_found=True) from exc

        try:
            return self._retrying(effect_safe_to_repeat, operation, idempotency_key)(attempt)
        except ProviderUnavailable as exc:
            if ambiguous_seen:
                # An earlier attempt may still land at a slow provider: do not promise "no effect".
                raise ProviderAmbiguous(f"{self.provider}: outcome unknown after {self.max_attempts} attempts",
                                        provider=self.provider, status=exc.status,
                                        idempotency_key=idempotency_key) from exc
            raise

    # -- internals ---------------------------------------------------------------------------------------

    def _resolve(self, collection: str, idempotency_key: str, *, operation: str,
                 cause: ProviderAmbiguous) -> Json | None:
        """Ask the provider what became of the key; any failure to answer keeps the outcome unknown."""
        try:
            return self.find_by_key(collection, idempotency_key, operation=f"{operation}.lookup")
        except ProviderError as exc:
            # Even a 4xx here must not read as "rejected": the POST may have taken effect.
            raise ProviderAmbiguous(f"{self.provider}: outcome unknown, status lookup failed "
                                    f"({type(exc).__name__})", provider=self.provider, status=cause.status,
                                    idempotency_key=idempotency_key) from exc

    def _send(self, method: str, path: str, *, operation: str, params: Mapping[str, str] | None = None,
              body: Json | None = None, idempotency_key: str | None = None) -> Json:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            response = self._client.request(method, path.lstrip("/"), params=params, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(self.provider, exc) from exc
        try:
            return interpret(self.provider, response)
        except ProviderAmbiguous as exc:
            exc.idempotency_key = idempotency_key
            raise

    def _retrying(self, retry_on: Callable[[BaseException], bool], operation: str,
                  idempotency_key: str | None = None) -> Retrying:
        initial, maximum, cap = self._backoff

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return retry_delay(exc, state.attempt_number, initial=initial, maximum=maximum, retry_after_cap=cap)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("provider_retry", provider=self.provider, operation=operation, attempt=state.attempt_number,
                        error=type(exc).__name__, status=getattr(exc, "status", None),
                        idempotency_key=idempotency_key,
                        wait_seconds=round(state.upcoming_sleep, 3))

        # A new Retrying per call: its statistics are per instance, and calls run concurrently in threads.
        return Retrying(stop=stop_after_attempt(self.max_attempts), wait=wait, retry=retry_if_exception(retry_on),
                        reraise=True, sleep=self._sleep, before_sleep=before_sleep)
