"""The public redact() API: output format, modes, offsets, overlaps, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from api.privacy import Entity, KnownPII, RedactionResult, redact, warm_up
from api.privacy.redactor import MAX_CHARS, _merge


def test_tags_mode() -> None:
    r = redact("card 4111 1111 1111 1111, pin is 1234")
    assert r.text == "card <CREDIT_CARD>, pin is <PIN>"
    assert isinstance(r, RedactionResult)
    assert r.entities == [Entity("CREDIT_CARD", 5, 24), Entity("PIN", 33, 37)]


def test_entities_are_original_offsets() -> None:
    text = "mail bob@example.com or call +1 415 867 5309"
    r = redact(text)
    assert [text[e.start:e.end] for e in r.entities] == ["bob@example.com", "+1 415 867 5309"]


def test_mask_last4() -> None:
    r = redact("cards 4111 1111 1111 1111 and 5555555555554444, iban DE89370400440532013000",
               mode="mask_last4")
    assert r.text == ("cards <CREDIT_CARD ****1111> and <CREDIT_CARD ****4444>, "
                      "iban <IBAN_CODE ****3000>")


def test_mask_last4_leaves_other_types_as_tags() -> None:
    assert redact("pin is 1234", mode="mask_last4").text == "pin is <PIN>"


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        redact("x", mode="encrypt")  # type: ignore[arg-type]


def test_no_pii_and_empty_text() -> None:
    assert redact("what's my balance?") == RedactionResult("what's my balance?", [])
    assert redact("") == RedactionResult("", [])
    assert redact("   ").text == "   "


def test_too_long_text_is_refused() -> None:
    with pytest.raises(ValueError):
        redact("a" * (MAX_CHARS + 1))


def test_overlaps_are_merged_into_their_union() -> None:
    from presidio_analyzer import RecognizerResult

    merged = _merge([RecognizerResult("A", 0, 10, 0.9), RecognizerResult("B", 5, 15, 0.5),
                     RecognizerResult("C", 20, 25, 0.5)])
    assert [(r.entity_type, r.start, r.end, whole) for r, whole in merged] == [
        ("A", 0, 15, False), ("C", 20, 25, True)]


def test_known_beats_generic_type_and_nothing_leaks() -> None:
    known = KnownPII(account_numbers=["12345678"])
    r = redact("order 12345678", known=known)
    assert r.text == "order <ACCOUNT_NUMBER>"


def test_thread_safe() -> None:
    warm_up()
    texts = [f"my pin is {1000 + i} and my email is user{i}@example.com" for i in range(64)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda t: redact(t, known=KnownPII(full_name="Zed Zulu")).text, texts))
    assert results == ["my pin is <PIN> and my email is <EMAIL_ADDRESS>"] * 64
