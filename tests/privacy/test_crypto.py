"""Reversible compliance encryption with keys from PII_ENCRYPTION_KEY."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from api.privacy import ComplianceKeyError, decrypt_for_compliance, encrypt_for_compliance
from api.privacy.crypto import compliance_encryption_enabled, rotate


def test_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_ENCRYPTION_KEY", Fernet.generate_key().decode())
    token = encrypt_for_compliance("my pin is 1234 ✓")
    assert "1234" not in token and token.startswith("gAAAA")
    assert decrypt_for_compliance(token) == "my pin is 1234 ✓"
    assert compliance_encryption_enabled()


def test_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PII_ENCRYPTION_KEY", raising=False)
    assert not compliance_encryption_enabled()
    with pytest.raises(ComplianceKeyError):
        encrypt_for_compliance("x")


def test_bad_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ComplianceKeyError):
        encrypt_for_compliance("x")


def test_tampered_or_foreign_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_ENCRYPTION_KEY", Fernet.generate_key().decode())
    token = encrypt_for_compliance("secret")
    with pytest.raises(ComplianceKeyError):
        decrypt_for_compliance(token[:-4] + "AAAA")
    monkeypatch.setenv("PII_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(ComplianceKeyError):
        decrypt_for_compliance(token)


def test_key_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("PII_ENCRYPTION_KEY", old)
    token = encrypt_for_compliance("hello")
    monkeypatch.setenv("PII_ENCRYPTION_KEY", f"{new},{old}")
    assert decrypt_for_compliance(token) == "hello"
    rotated = rotate(token)
    monkeypatch.setenv("PII_ENCRYPTION_KEY", new)
    assert decrypt_for_compliance(rotated) == "hello"
