"""Whether a message asks to freeze a card or to unfreeze it, from its words.

The intent classifier confuses the two on short or misspelt messages ("pls freeze card asap" was read as
unfreeze_card). Turning a card back on that a customer wants stopped is the worse mistake, so the words
decide when they are clear: any wish to undo a block means unfreeze; otherwise a blocking word means
freeze; neither leaves it to the intent. One pass of two bounded regexes: linear in the text.
"""

from __future__ import annotations

import re
from typing import Literal

Wish = Literal["freeze", "unfreeze"]

_UNFREEZE = re.compile(
    r"\b(?:un-?(?:freeze|frozen|block(?:ed)?|lock(?:ed)?|pause|suspend)|re-?activate|re-?enable|resume|"
    r"(?:lift|remove|undo|take\s+off|cancel)\s+(?:the\s+)?(?:freeze|block|lock|hold)|"
    r"turn\s+(?:\w+\s+){0,3}(?:back\s+)?on|switch\s+(?:\w+\s+){0,3}(?:back\s+)?on|working\s+again|found\s+(?:my|the|it))",
    re.I)
_FREEZE = re.compile(r"\b(?:freeze|frozen|block|lock|stop|disable|suspend|pause|put\s+a\s+hold|"
                     r"turn\s+(?:\w+\s+){0,3}off|switch\s+(?:\w+\s+){0,3}off|stolen|lost)\b", re.I)
MAX_CHARS = 300  # a card request is short; longer text is left to the intent


def card_wish(text: str) -> Wish | None:
    """ "unfreeze" when the words undo a block, "freeze" when they only ask for one, else None."""
    head = text[:MAX_CHARS]
    if _UNFREEZE.search(head):
        return "unfreeze"
    if _FREEZE.search(head):
        return "freeze"
    return None
