"""The action server's service token, minted by the core with the message and sealed for the action server.

A grant's trade (`POST /v1/auth/service-token`) checks what the core already knows when it forwards a
message: the conversation, its customer and the message's sequence number. So the core also mints that
service token itself and seals it for the action server: AES-256-GCM under a key derived (HKDF-SHA256) from
the action server's client secret, the conversation id as associated data. The sealed token rides in the
message's metadata beside the grant. What Rasa's tracker holds is then as useless without the client secret
as the grant is, and cannot be moved to another conversation; the action server opens it locally instead of
a round trip to core-internal on every message, and trades the grant only when no sealed token comes or it
cannot be opened (docs/architecture.md).

Standard library and `cryptography` only: the action server imports this module too (docker/bot.Dockerfile).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_INFO = b"bankbot sealed service token v1"
NONCE_BYTES = 12
MAX_SEALED_CHARS = 4096  # a service token is about 600 characters; anything longer is not one of ours
FRESH_FOR_SECONDS = 20  # a token closer than this to its expiry is not used: the grant is traded instead


@lru_cache(maxsize=4)
def _cipher(client_secret: str) -> AESGCM:
    assert client_secret, "a sealing key needs the client secret"
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(client_secret.encode())
    return AESGCM(key)


def seal(*, client_secret: str, conversation_id: str, token: str, expires_at: float) -> str:
    """The token and its expiry (epoch seconds), sealed for the holder of the client secret and this conversation."""
    nonce = os.urandom(NONCE_BYTES)
    body = json.dumps({"token": token, "exp": int(expires_at)}).encode()
    sealed = nonce + _cipher(client_secret).encrypt(nonce, body, conversation_id.encode())
    return base64.urlsafe_b64encode(sealed).decode()


def open_sealed(*, client_secret: str, conversation_id: str, sealed: object, now: float) -> str | None:
    """The token inside, or None: not sealed for this secret and conversation, malformed, or about to expire."""
    if not isinstance(sealed, str) or not sealed or len(sealed) > MAX_SEALED_CHARS or not client_secret:
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        body = json.loads(_cipher(client_secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                                         conversation_id.encode()))
    except (ValueError, binascii.Error, InvalidTag):  # ValueError covers bad JSON and a short nonce
        return None
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not isinstance(body.get("exp"), int):
        return None
    return body["token"] if body["exp"] - now >= FRESH_FOR_SECONDS else None
