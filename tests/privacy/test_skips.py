"""The cheap skips of the engine (rules and built-ins that need a digit or an "@") change no result."""

from __future__ import annotations

import pytest

from api.privacy import redact
from api.privacy.patterns import personal
from api.privacy.rules import has_digit
from bench.pii_eval_set import generate

_LETTERS = str.maketrans("0123456789", "oizeasgtbq")


@pytest.fixture(scope="module")
def digit_free() -> list[str]:
    """The own set's dev pool with every digit turned into a letter: text that looks like chat, no digit."""
    return [ex.text.translate(_LETTERS) for ex in generate("dev", 120)]


def test_rules_marked_needs_digit_never_match_without_one(digit_free: list[str]) -> None:
    marked = [rule for rule in personal.RULES if rule.needs_digit]
    assert len(marked) >= 5
    for rule in marked:
        for text in digit_free:
            assert rule.pattern.search(text) is None, (rule.name, text)


def test_has_digit() -> None:
    assert has_digit("pin is 1234") and not has_digit("no digits here") and not has_digit("")


@pytest.mark.parametrize(("text", "kind"), [
    ("my card is 4111 1111 1111 1111", "CREDIT_CARD"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
    ("SSN 536-22-8726", "US_SSN"),
    ("NI number JG 10 37 82 A", "UK_NINO"),
    ("write to jane.doe@mail.example.com", "EMAIL_ADDRESS"),
    ("born 14 March 1983 in Leeds", "DATE_OF_BIRTH"),
    ("call me on +44 7700 900123", "PHONE_NUMBER"),
])
def test_skipped_recognizers_still_find_their_values(text: str, kind: str) -> None:
    assert kind in {e.type for e in redact(text).entities}


def test_a_line_without_digits_or_at_keeps_names_and_nothing_else() -> None:
    r = redact("my landlord Dorothy Example wants the rent moved to Friday")
    assert [e.type for e in r.entities] == ["PERSON"]
