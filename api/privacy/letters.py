"""Regex character classes for upper- and lower-case letters of every script: "Łukasz", "Kovačević", "Ní".

The standard `re` module has no \\p{Lu}; these classes are built once from `str.isupper`/`islower` over
the Basic Multilingual Plane and compressed into ranges, so a name rule matches "Ł" as it matches "L".
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _ranges(test: Callable[[str], bool]) -> str:
    out: list[str] = []
    start = prev = -2
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF or not test(chr(code)):
            continue
        if code != prev + 1:
            if start >= 0:
                out.append(_span(start, prev))
            start = code
        prev = code
    out.append(_span(start, prev))
    return "".join(out)


def _span(a: int, b: int) -> str:
    return re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"


# Title-case letters (Dž) count as capitals; lower case takes the other cased letters and the marks
# and letters without case that follow a capital in names of many scripts.
UPPER = _ranges(lambda c: c.isupper() or c.istitle())
LOWER = _ranges(lambda c: c.islower() or (c.isalpha() and not c.isupper() and not c.istitle()))
