"""Reversible encryption of raw text for compliance, with keys from the environment.

Format: PII_ENCRYPTION_KEY holds one or more Fernet keys (url-safe base64 of 32 random bytes),
comma-separated. The first key encrypts; every key is tried to decrypt, so keys rotate by putting
the new one first and keeping the old ones until `rotate()` has re-encrypted what they protect.
A token is a Fernet token (AES-128-CBC with HMAC-SHA256, version byte 0x80 and a timestamp),
url-safe base64 text starting "gAAAA". Generate a key with:

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Who may call decrypt_for_compliance() is decided by the caller (the HTTP layer allows only the
compliance role); this module never logs the text or the key.
"""

from __future__ import annotations

import os
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "PII_ENCRYPTION_KEY"


class ComplianceKeyError(RuntimeError):
    """No usable key, or a token that no configured key can open."""


_lock = threading.Lock()
_cache: tuple[str, MultiFernet] | None = None


def _fernet() -> MultiFernet:
    global _cache
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        raise ComplianceKeyError(f"{ENV_VAR} is not set: compliance encryption is disabled")
    with _lock:
        if _cache is None or _cache[0] != raw:
            try:
                keys = [Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()]
            except ValueError as exc:
                raise ComplianceKeyError(f"{ENV_VAR} holds a malformed Fernet key") from exc
            _cache = (raw, MultiFernet(keys))
        return _cache[1]


def compliance_encryption_enabled() -> bool:
    return bool(os.environ.get(ENV_VAR, "").strip())


def encrypt_for_compliance(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_for_compliance(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise ComplianceKeyError("token was not made with any configured key, or was altered") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (newest) key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise ComplianceKeyError("token was not made with any configured key, or was altered") from exc
