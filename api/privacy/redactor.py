"""redact(): analyze with the shared engine plus the customer's deny list, then replace the spans."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_anonymizer.entities import OperatorConfig

from api.privacy.budget import check_deadline
from api.privacy.context import find_in_context
from api.privacy.engine import get_engines
from api.privacy.known import known_recognizers
from api.privacy.models import Entity, KnownPII, Mode, RedactionResult
from api.privacy.names import cued_names, list_mates, names_above_addresses, other_mentions, speakers, with_name_tails
from api.privacy.operators import operator_for
from api.privacy.patterns import addresses
from api.privacy.person_cues import cue_names, pair_mates

MAX_CHARS = 20_000  # chat messages are capped far below this (CHAT_TEXT_MAX_CHARS); a guard, not a limit
# Characters that show nothing: the soft hyphen, zero-width spaces and joiners, direction marks, the word joiner and
# invisible operators, the byte-order mark. One between two digits or letters hid a card number ("4111<ZWSP>1111...")
# or a name from every rule; they are read as absent, and the stored text is written without them.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


def _merge(results: list[RecognizerResult]) -> list[tuple[RecognizerResult, bool]]:
    """Overlapping spans become one span covering all of them, typed by the best-scoring member.

    Redacting the union, rather than keeping only the winner, means a lower-scored span that
    sticks out of a higher one cannot leave part of a value in clear. Returns (span, whole) where
    whole tells that the span is exactly the winner's own.
    """
    merged: list[tuple[RecognizerResult, bool]] = []
    group: list[RecognizerResult] = []
    end = -1

    def flush() -> None:
        if not group:
            return
        best = max(group, key=lambda r: (r.score, r.end - r.start))
        start, stop = min(r.start for r in group), max(r.end for r in group)
        whole = (start, stop) == (best.start, best.end)
        merged.append((RecognizerResult(best.entity_type, start, stop, best.score), whole))

    for r in sorted(results, key=lambda r: (r.start, -r.end)):
        if r.start >= end:
            flush()
            group, end = [], r.end
        group.append(r)
        end = max(end, r.end)
    flush()
    return merged


def find(text: str, known: KnownPII | None = None,
         context: str | None = None) -> list[tuple[RecognizerResult, bool]]:
    """Non-overlapping PII spans in `text`, sorted by position; `context` is the line before it, if any."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_CHARS:
        raise ValueError(f"text longer than {MAX_CHARS} characters")
    engines = get_engines()
    ad_hoc = list(known_recognizers(known)) if known is not None and not known.is_empty() else None
    results = engines.analyzer.analyze(text=text, language="en", ad_hoc_recognizers=ad_hoc)
    results += find_in_context(text, context)  # "14 March 1983" after "what is your date of birth?"
    addresses.extend(text, results)  # the flat, town and postcode after a street line
    results += speakers(text)  # "Irina: ...\nKimberly: ..." in a pasted dialogue
    results += cued_names(text)  # "said Tejka to Julie", "Don't go to town, Bethany!"
    results += cue_names(text)  # "Ingþór's kid", "Rebecca is a very sympathetic person"
    results += names_above_addresses(text, results)  # "Satu Waltari" on the line above her address
    results += list_mates(text, results)  # "Harvey, Jacob, Shawn and Emily" when two are names
    results += pair_mates(text, results)  # "Mudrová and Cross" when one is a name
    results += other_mentions(text, results)  # a name found once is redacted at every mention
    with_name_tails(text, results)  # "Roxy van der Torre", "Zdeňka Nováková DVM", "Carl Vance Jr."
    return _merge(results)


def redact(text: str, *, known: KnownPII | None = None, mode: Mode = "tags",
           context: str | None = None) -> RedactionResult:
    """Replace every PII span of `text` by its tag (or masked value); entities carry original offsets.

    `context`: the conversation's previous bot or agent line, which can make a bare date a date of
    birth or a bare name a name (api/privacy/context.py).
    """
    if mode not in ("tags", "mask_last4"):
        raise ValueError(f"unknown redaction mode {mode!r}")
    original = text
    if INVISIBLE.search(text):
        text, context = INVISIBLE.sub("", text), context and INVISIBLE.sub("", context)
    spans = find(text, known, context)
    check_deadline()  # within redact_within(): a late analysis is not anonymized, it fails closed
    if not spans:
        return RedactionResult(text=text, entities=[])
    # One operator per span, keyed by a per-span type name, since whether a span may keep its last
    # four digits depends on the span (merged or not), not only on its entity type.
    operators: dict[str, OperatorConfig] = {}
    keyed: list[RecognizerResult] = []
    for i, (r, whole) in enumerate(spans):
        key = f"{r.entity_type}#{i}"
        operators[key] = operator_for(r.entity_type, mode, whole=whole)
        keyed.append(RecognizerResult(key, r.start, r.end, r.score))
    out = get_engines().anonymizer.anonymize(text=text, analyzer_results=keyed, operators=operators)
    offset = _original_offsets(original) if text is not original else None
    return RedactionResult(text=out.text, entities=[
        Entity(r.entity_type, offset[r.start] if offset else r.start, offset[r.end - 1] + 1 if offset else r.end)
        for r, _ in spans])


def _original_offsets(original: str) -> list[int]:
    """For each character of the text without its invisible characters, its offset in the original."""
    return [i for i, ch in enumerate(original) if not INVISIBLE.match(ch)]
