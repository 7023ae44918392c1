"""HMAC-SHA256 webhook signatures: `X-Signature: sha256=<hex>` over "<X-Timestamp>.<raw body>"."""

from __future__ import annotations

import hashlib
import hmac
import time

from api.problems import Problem


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, tolerance_seconds: int, timestamp_header: str | None, signature_header: str | None,
           body: bytes, now: float | None = None) -> None:
    """Raise a 401 problem unless the signature matches and the timestamp is fresh (replay window)."""
    if not timestamp_header or not signature_header:
        raise Problem(401, "signature_missing", "X-Timestamp and X-Signature headers are required")
    try:
        timestamp = int(timestamp_header)
    except ValueError as exc:
        raise Problem(401, "signature_invalid", "X-Timestamp must be Unix seconds") from exc
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        raise Problem(401, "signature_expired", "The webhook timestamp is outside the accepted window")
    # Bytes on both sides: compare_digest raises TypeError on a non-ASCII str, and a header can hold any byte.
    given = signature_header.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), given):
        raise Problem(401, "signature_invalid", "The webhook signature does not match")
