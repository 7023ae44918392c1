"""English number words ("twenty five", "one hundred and twenty", "a hundred") to integers.

Shared by periods.py ("the last two weeks") and amounts.py ("fifty dollars"). Standard library only.
"""

from __future__ import annotations

import re

UNITS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}

_WORD_ALT = "|".join(sorted([*UNITS, *TENS, "hundred", "thousand", "million"], key=len, reverse=True))
_WORD = rf"(?:{_WORD_ALT})"

# A run of number words: "twenty five", "twenty-five", "one hundred and twenty", "a hundred", "two grand".
# "and" is only allowed between two number words; a leading "a"/"an" only before a scale word.
NUMBER_WORDS_RE = (
    rf"(?:\ban?(?=[\s-]+(?:hundred|thousand|million|grand)\b)|\b{_WORD}\b)"
    rf"(?:(?:[\s-]+and[\s-]+|[\s-]+){_WORD}\b){{0,15}}"  # bounded: linear in a run of number words
    rf"(?:[\s-]+grand\b)?"
)

_SPLIT = re.compile(r"[\s-]+")


def words_to_int(phrase: str) -> int | None:
    """'one hundred and twenty' -> 120, 'a hundred' -> 100, 'two grand' -> 2000; None if not a number."""
    tokens = [t for t in _SPLIT.split(phrase.strip().lower()) if t]
    if not tokens:
        return None
    total = 0
    current = 0
    seen_number = False
    previous: str | None = None
    for i, tok in enumerate(tokens):
        if tok in ("a", "an"):
            if i != 0 or len(tokens) == 1 or tokens[1] not in SCALES:
                return None
            current = 1
            seen_number = True
        elif tok == "and":
            if not seen_number or i == len(tokens) - 1:
                return None
        elif tok in UNITS:
            # "twenty five" is fine; "five five" or "fifteen five" is not a number.
            if previous in UNITS or (current % 100 != 0 and current % 10 != 0):
                return None
            if previous in TENS and UNITS[tok] >= 10:
                return None
            current += UNITS[tok]
            seen_number = True
        elif tok in TENS:
            if previous in UNITS or previous in TENS or current % 100 != 0:
                return None
            current += TENS[tok]
            seen_number = True
        elif tok in SCALES:
            if not seen_number:
                return None
            scale = SCALES[tok]
            if scale == 100:
                if current == 0 or current >= 100:
                    return None
                current *= 100
            else:
                total += (current or 1) * scale
                current = 0
        else:
            return None
        previous = tok
    return total + current if seen_number else None


def to_int(token: str) -> int | None:
    """Digits or number words to an int; None otherwise."""
    token = token.strip()
    if token.isdigit():
        return int(token)
    return words_to_int(token)
