"""The three channels' webhook signatures, checked before a byte of the body is parsed.

Every comparison is constant-time (hmac.compare_digest on bytes), and an empty configured secret refuses
everything: a channel that is not set up must not accept unsigned calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable

from api.problems import Problem


def _missing(header: str) -> Problem:
    return Problem(401, "signature_missing", f"The {header} header is required")


def _invalid(header: str) -> Problem:
    return Problem(401, "signature_invalid", f"The {header} header does not match")


def _unconfigured() -> Problem:
    return Problem(401, "channel_not_configured", "This channel is not configured")


def _bytes(value: str) -> bytes:
    # A header may hold any byte: compare bytes, never a str (compare_digest refuses non-ASCII str).
    return value.encode("utf-8", "surrogateescape")


def verify_telegram(secret: str, header: str | None) -> None:
    """401 unless X-Telegram-Bot-Api-Secret-Token equals the secret given to setWebhook."""
    if not secret:
        raise _unconfigured()
    if not header:
        raise _missing("X-Telegram-Bot-Api-Secret-Token")
    if not hmac.compare_digest(_bytes(header), secret.encode()):
        raise _invalid("X-Telegram-Bot-Api-Secret-Token")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: `v0=` + HMAC-SHA256 hex of `v0:{timestamp}:{body}`."""
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + mac.hexdigest()


def verify_slack(secret: str, tolerance_seconds: int, timestamp: str | None, signature: str | None, body: bytes,
                 now: float | None = None) -> None:
    """401 unless X-Slack-Signature matches and X-Slack-Request-Timestamp is within the window."""
    if not secret:
        raise _unconfigured()
    if not timestamp or not signature:
        raise _missing("X-Slack-Request-Timestamp and X-Slack-Signature")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Problem(401, "signature_invalid", "X-Slack-Request-Timestamp must be Unix seconds")
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_seconds:
        raise Problem(401, "signature_expired", "The request timestamp is outside the accepted window")
    if not hmac.compare_digest(_bytes(signature.strip()), slack_signature(secret, timestamp, body).encode()):
        raise _invalid("X-Slack-Signature")


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the URL followed by each parameter's name and value, sorted."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def verify_twilio(auth_token: str, url: str, params: list[tuple[str, str]], signature: str | None) -> None:
    """401 unless X-Twilio-Signature signs this URL (the public one Twilio called) and these parameters."""
    if not auth_token:
        raise _unconfigured()
    if not signature:
        raise _missing("X-Twilio-Signature")
    if not hmac.compare_digest(_bytes(signature.strip()), twilio_signature(auth_token, url, params).encode()):
        raise _invalid("X-Twilio-Signature")
