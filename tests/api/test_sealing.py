"""The service token the core seals for the action server (api/grants/sealing.py): who can open it, and when."""

from __future__ import annotations

import time
import uuid

import pytest

from api.grants import sealing

SECRET = "a-client-secret-for-these-tests"


def _sealed(conversation_id: str, *, lifetime: float = 120.0) -> str:
    return sealing.seal(client_secret=SECRET, conversation_id=conversation_id, token="header.claims.signature",
                        expires_at=time.time() + lifetime)


def test_the_holder_of_the_secret_opens_it_for_its_conversation() -> None:
    conversation = str(uuid.uuid4())
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=conversation, sealed=_sealed(conversation),
                               now=time.time()) == "header.claims.signature"


def test_two_seals_of_one_token_differ() -> None:
    """A fresh nonce each time: equal tokens do not show as equal blobs in a tracker."""
    conversation = str(uuid.uuid4())
    assert _sealed(conversation) != _sealed(conversation)


def test_another_secret_or_conversation_opens_nothing() -> None:
    conversation = str(uuid.uuid4())
    sealed = _sealed(conversation)
    now = time.time()
    assert sealing.open_sealed(client_secret=SECRET + "!", conversation_id=conversation, sealed=sealed, now=now) is None
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=str(uuid.uuid4()), sealed=sealed, now=now) is None
    assert sealing.open_sealed(client_secret="", conversation_id=conversation, sealed=sealed, now=now) is None


def test_a_token_near_its_expiry_is_not_used() -> None:
    conversation = str(uuid.uuid4())
    sealed = _sealed(conversation, lifetime=sealing.FRESH_FOR_SECONDS + 5)
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=conversation, sealed=sealed,
                               now=time.time()) is not None
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=conversation, sealed=sealed,
                               now=time.time() + 10) is None


@pytest.mark.parametrize("sealed", [None, 42, "", "!!!!", "AAAA", "A" * (sealing.MAX_SEALED_CHARS + 1),
                                    ["not", "a", "string"]])
def test_malformed_blobs_open_nothing(sealed: object) -> None:
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=str(uuid.uuid4()), sealed=sealed,
                               now=time.time()) is None


def test_a_tampered_blob_opens_nothing() -> None:
    conversation = str(uuid.uuid4())
    sealed = _sealed(conversation)
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    assert sealing.open_sealed(client_secret=SECRET, conversation_id=conversation, sealed=flipped,
                               now=time.time()) is None
