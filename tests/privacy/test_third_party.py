"""Issue 13: other people's names, international phones, flats, dates of birth in answers, all card lengths.

Every case here is one of the misses the issue listed (on data nobody here wrote); the second half
checks that a normal banking conversation still reads: merchants, towns, amounts, dates, card last four.
"""

from __future__ import annotations

import pytest

from api.privacy import redact


def _redacted(text: str, **kwargs) -> str:
    return redact(text, **kwargs).text


@pytest.mark.parametrize(("text", "secret"), [
    ("I want to add Dorothy Example as a beneficiary", "Dorothy Example"),
    ("my landlord Łukasz Wiśniewski has not cashed the cheque", "Łukasz Wiśniewski"),
    ("can you check if Marija Kovačević got the money?", "Kovačević"),
    ("the payee is Aoife Ní Bhriain", "Ní Bhriain"),
    ("My name is Margrethe Sørensen but everyone calls me Margrethe", "Margrethe"),
])
def test_third_party_names_are_redacted(text: str, secret: str) -> None:
    out = _redacted(text)
    assert secret not in out and "<PERSON>" in out, out


@pytest.mark.parametrize(("text", "secrets"), [
    ("send it to 221 Baker Street, Apt. 4B, London NW1 6XE please", ("221 Baker", "4B", "NW1 6XE", "London")),
    ("I'd like it to be sent to 755 Southern Street Apt. 512 Freeport New York", ("512", "Freeport")),
    ("the restaurant is at 12 Csabai kapu 38, Budapest", ("Csabai kapu 38",)),
    ("please send the new card to Flat 9A, 295 Ormond Quay, Manchester M14 5RB", ("9A", "295 Ormond", "M14 5RB")),
    ("my PO address is P.O. Box 286, Ikerasassuaq", ("Box 286",)),
])
def test_addresses_keep_flat_town_and_postcode_inside(text: str, secrets: tuple[str, ...]) -> None:
    out = _redacted(text)
    assert "<STREET_ADDRESS>" in out and not any(s in out for s in secrets), out


@pytest.mark.parametrize(("text", "secret"), [
    ("my landlord wants it on +41 53 147 37 99 fax", "147 37 99"),
    ("Phone:\n+41 (0)82 818 67 24", "818 67 24"),
    ("Phone:\n0681 563 12 72", "563 12 72"),
    ("0681 563 12 72 office", "563 12 72"),
    ("reach the branch on 0044 20 7946 0958", "7946 0958"),
    ("+1-966-247-3019x522 mobile", "3019"),
])
def test_phone_numbers_without_a_phone_word_before_them(text: str, secret: str) -> None:
    out = _redacted(text)
    assert secret not in out and "<PHONE_NUMBER>" in out, out


@pytest.mark.parametrize("text", [
    "I have lost my card 676189266510. Please block it",  # 12-digit Maestro, Luhn-valid
    "cc 4278 1234 5678 9012 345 was charged twice",  # 19-digit Visa
    "what is the limit on 5018 2345 6789 0128?",  # Luhn-valid, no card word
])
def test_card_numbers_of_12_to_19_digits(text: str) -> None:
    out = _redacted(text)
    assert "<CREDIT_CARD>" in out and sum(c.isdigit() for c in out) <= 4, out


def test_date_of_birth_after_the_question() -> None:
    assert "<DATE_OF_BIRTH>" in _redacted("Please tell me your date of birth. It's 5/7/1935")
    asked = "Before I change the address, what is your date of birth?"
    assert _redacted("14 March 1983", context=asked) == "<DATE_OF_BIRTH>"
    assert _redacted("14 March 2025") == "14 March 2025"  # alone and recent, a date like any transaction date
    # alone but of a birth year (16 years ago or more): a full date that old is taken as a birth date
    assert _redacted("14 March 1983") == "<DATE_OF_BIRTH>"
    assert _redacted("on 12 March I paid 40 euros", context="Which payment do you mean?") == \
        "on 12 March I paid 40 euros"


def test_name_after_the_question() -> None:
    asked = "What's the name on the account?"
    assert _redacted("sylwia ostrowska", context=asked) == "<PERSON>"
    assert _redacted("Bot: What's the name on the account? User: Osmo Štavbar") == \
        "Bot: What's the name on the account? User: <PERSON>"
    assert _redacted("yes please", context=asked) == "yes please"


@pytest.mark.parametrize("text", [
    "how much did I spend at Starbucks last month?",
    "I paid £45.50 at Tesco in London on 12 March",
    "send 30 euros from my checking account to my savings account",
    "freeze my card ending 4242 please",
    "what did I spend on groceries in September 2026?",
    "My card was declined at Shell in Manchester yesterday",
    "Can you move 250 to Rainy-day savings on Friday?",
    "I want to talk to a person",
    "Why was I charged 12.99 by Netflix and 9.99 by Spotify?",
    "is there a branch in Dublin or Leeds?",
    # the bank's merchants and the bot's own lines
    "Greenfield Lettings took the rent of €1,250.00 on 1 November",
    "You spent €23.40 at Pret A Manger in October 2026 (4 payments)",
    "Did Costa Coffee charge me twice? And Transport for London?",
    "Please confirm: send €30.00 from Everyday checking to Rainy-day savings, now.",
    "Zara charged me £13.37 on 08/02",
])
def test_a_normal_banking_conversation_still_reads(text: str) -> None:
    assert _redacted(text) == text


@pytest.mark.parametrize("seed", range(40))
def test_canary_messages_leave_no_canary(seed: int) -> None:
    """The e2e canary test's lines (tests/canaries.py), redacted in process: no spelling of any canary is left."""
    from tests.canaries import fresh

    c = fresh(seed)
    asked = "I have added them as a payee. Before I change the address, what is your date of birth?"
    texts = [redact(m).text for m in c.messages()] + [redact(a, context=asked).text for a in c.answers()]
    joined = "\n".join(texts).lower()
    assert not [s for spellings in c.spellings().values() for s in spellings if s.lower() in joined], texts
