"""The per-conversation deny list catches what the bank knows, however the customer writes it."""

from __future__ import annotations

import pytest

from api.privacy import KnownPII, redact

ALICE = KnownPII(
    full_name="Alice Marie Whitlock",
    email="alice.w@example.org",
    phone="+44 7700 900321",
    address="Flat 2, 17 Quarry Hill, Leeds LS2 7UE",
    account_numbers=["55779911", "GB33BUKB20201555555555"],
    payee_names=["Bogdan Ionescu", "Will Grant"],
)


@pytest.mark.parametrize(("text", "value", "entity"), [
    ("hi it's alice whitlock", "alice whitlock", "PERSON"),
    ("Alice Marie Whitlock here", "Alice Marie Whitlock", "PERSON"),
    ("thanks, Alice", "Alice", "PERSON"),
    ("whitlock is my surname", "whitlock", "PERSON"),
    ("mail ALICE.W@EXAMPLE.ORG", "ALICE.W@EXAMPLE.ORG", "EMAIL_ADDRESS"),
    ("call 07700900321", "07700900321", "PHONE_NUMBER"),
    ("call +44 (0)7700-900-321", "+44 (0)7700-900-321", "PHONE_NUMBER"),
    ("still at 17 quarry hill", "17 quarry hill", "STREET_ADDRESS"),
    ("postcode LS2 7UE", "LS2 7UE", "STREET_ADDRESS"),
    ("from 5577 9911 please", "5577 9911", "ACCOUNT_NUMBER"),
    ("iban gb33 bukb 2020 1555 5555 55", "gb33 bukb 2020 1555 5555 55", "IBAN_CODE"),
    ("pay bogdan ionescu", "bogdan ionescu", "PERSON"),
    ("did Bogdan get it", "Bogdan", "PERSON"),
    ("send it to Will", "Will", "PERSON"),
])
def test_known_value_is_redacted(text: str, value: str, entity: str) -> None:
    result = redact(text, known=ALICE)
    start = text.index(value)
    assert any(e.type == entity and e.start <= start and e.end >= start + len(value) for e in result.entities), \
        result
    assert value not in result.text


def test_common_word_name_part_only_when_capitalised() -> None:
    assert redact("I will pay tomorrow", known=ALICE).text == "I will pay tomorrow"


def test_town_alone_is_not_redacted() -> None:
    assert redact("I was in Leeds last week", known=ALICE).text == "I was in Leeds last week"


def test_known_list_accepts_lists_and_stays_hashable() -> None:
    a = KnownPII(full_name="X Y", account_numbers=["12345678"], payee_names=["P Q"])
    b = KnownPII(full_name="X Y", account_numbers=("12345678",), payee_names=("P Q",))
    assert a == b and hash(a) == hash(b)


def test_empty_known_is_harmless() -> None:
    assert redact("hello", known=KnownPII()).text == "hello"
    assert redact("hello", known=KnownPII(full_name="A")).text == "hello"  # too short to match
