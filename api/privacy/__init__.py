"""PII redaction: Presidio with offline recognizers, per-customer deny lists and log redaction.

    from api.privacy import KnownPII, redact
    redact("my pin is 1234", known=KnownPII(full_name="Alice Smith")).text  # 'my pin is <PIN>'

Importing this package is cheap; Presidio and spaCy load on first use (or warm_up()). The log
filter (logfilter.py) is standard library only and can be loaded by path without this package.
See docs/privacy.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.privacy.crypto import (
    ComplianceKeyError,
    compliance_encryption_enabled,
    decrypt_for_compliance,
    encrypt_for_compliance,
)
from api.privacy.models import Entity, KnownPII, Mode, RedactionResult

if TYPE_CHECKING:
    from api.privacy.redactor import redact

__all__ = [
    "ComplianceKeyError",
    "Entity",
    "KnownPII",
    "Mode",
    "RedactionResult",
    "compliance_encryption_enabled",
    "decrypt_for_compliance",
    "encrypt_for_compliance",
    "prepare_known",
    "redact",
    "warm_up",
]


def warm_up() -> None:
    """Build the engines and run one message through them, so the first request is not slow."""
    from api.privacy import rare_names
    from api.privacy.first_names import given_names
    from api.privacy.redactor import redact

    rare_names.warm_up()  # wordfreq's English list (about 0.4 s)
    given_names()  # Faker's given names of about 80 locales (about 0.5 s)
    # One of each lazily loaded part: the NER model (a capitalised name wakes it: ner_gate.py), phone
    # metadata, the e-mail suffix list, the deny-list compiler.
    redact("warm up: Anna Berg's card 4111 1111 1111 1111, call +44 20 7946 0958, mail warm@example.com",
           known=KnownPII(full_name="Warm Up", phone="+44 20 7946 0000"))


def prepare_known(known: KnownPII) -> None:
    """Compile a customer's deny list ahead of their first message (about 2 ms, cached per customer)."""
    from api.privacy.known import known_recognizers

    known_recognizers(known)


def __getattr__(name: str) -> Any:
    if name == "redact":  # lazy: importing Presidio and spaCy takes seconds
        from api.privacy.redactor import redact

        return redact
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
