"""Names the model misses or mislabels, found by how rare their words are in English.

The model misses many full names of people from outside the English-speaking world ("Can I add Zarita
Akhtakhanov to my account?", "Yesterday Henryka Woźniak called"): it has seen few such words. What such a
name does have is words that written English almost never uses. `wordfreq` (Apache-2.0 code; its data from
public corpora, CC BY-SA 4.0, in the wheel: nothing is downloaded) gives each word's frequency on the Zipf
scale (log10 of uses per billion words: "the" 7.7, "bank" 5.2, "Angus" 3.6, "Hardacre" 1.5, "Woźniak" 0).

A run of two or three capitalised words (any script) is taken as a name when:

- at least one word is rare (Zipf below `RARE`), and none is an everyday word (`COMMON` and above:
  "Bank", "Park", "Will"), so "Tesco Express", "Milton Keynes" and "Apple Pay" stay readable (the model
  itself calls "Milton Keynes" a person, though);
- it is not what the model calls a place right after a place word ("I moved to Banská Bystrica"; the
  model's other labels on such names are often wrong: "Naho Higuchi" GPE after "add"), and no word is
  an organisation, place, banking word, merchant, title, month or sentence opener (names.py; such words
  are trimmed from the ends of a run: "Yesterday Jan Kreutzmann"), nor an English verb form ("Awarded"),
  and no company or institution word stands next to it ("Sagar Cements Limited", "University of ...");
- the run does not follow a number ("12 Kvarnvägen Road" is left to the address rules).

Single words are not taken: one rare capitalised word is as often a town, a shop or a typo as a name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.tokens import Doc

from api.privacy.letters import LOWER, UPPER

RARE = 3.0  # below this, one word in a million words of English or fewer ("Longo" 2.6, "Keynes" 3.3)
COMMON = 5.0  # at or above this, an everyday word ("Park" 5.2, "Mark" 5.05; "Louis" 4.8 is below)
_WORD = f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}]"
# Two or three capitalised words separated by one space, not glued to a letter or a digit on either side.
RUN = re.compile(f"(?<![{UPPER}{LOWER}'’\\d])(?<!\\d[ \\t])({_WORD}(?:[ \\t]{_WORD}){{1,2}})(?![{UPPER}{LOWER}'’\\-])")
STEM = 3.5  # an everyday English stem: "award" 4.3, "look" 5.6 ("ahm", "sterl" are not words)
MAX_WORD = 40  # a longer "word" is no name: not looked up
# The model's other labels on such runs say little ("Yesterday Jan Kreutzmann" DATE, "Naho Higuchi" GPE,
# "Tomáš Šesták" WORK_OF_ART); a place label after a place word is believed: "I moved to Banská Bystrica".
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
AFTER_PLACE_WORD = re.compile(r"\b(?:in|at|to|from|near|into|around|outside|visiting|via|of)[ \t]+$", re.IGNORECASE)


@lru_cache(maxsize=20_000)
def zipf(word: str) -> float:
    """The word's frequency in English on the Zipf scale, 0 for a word wordfreq has never seen."""
    from wordfreq import zipf_frequency  # its list is read on first use (about 0.4 s, once per process)

    return zipf_frequency(word, "en") if len(word) <= MAX_WORD else 0.0


def warm_up() -> None:
    """Read wordfreq's English list now, not on the first message."""
    zipf("warm")


def inflected_word(word: str) -> bool:
    """An English verb form, not a name: "Awarded", "Looking" (the stem is an everyday word); "Ahmed",
    "Sterling" and "Mildred" have no such stem."""
    lower = word.lower()
    for suffix, stems in (("ed", ("", "e")), ("ing", ("", "e")), ("ly", ("",))):
        if lower.endswith(suffix) and len(lower) > len(suffix) + 2:
            stem = lower[: -len(suffix)]
            if any(zipf(stem + extra) >= STEM for extra in stems):
                return True
    return False


def rare_name(words: list[str]) -> bool:
    """At least one rare word, no everyday one."""
    scores = [zipf(w.lower()) for w in words]
    return min(scores) < RARE and max(scores) < COMMON


def candidate_runs(text: str, doc: Doc | None) -> list[tuple[int, int]]:
    """Runs of two or three capitalised words, except those the model calls a place after a place word."""
    places = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in PLACE_LABELS] if doc is not None else []
    return [m.span(1) for m in RUN.finditer(text)
            if not (AFTER_PLACE_WORD.search(text, max(0, m.start(1) - 12), m.start(1))
                    and any(s < m.end(1) and e > m.start(1) for s, e in places))]
