"""What a spending question's words say, as text alone: whether it leans on the previous question, a
period only the context makes one, a subject that is neither category nor merchant, an everyday request.

Pure functions over the message (no tracker, no core), each a bounded regex scan: linear in the text.
The spending action (actions/spending.py) combines them with the customer's merchants and the
conversation's last question.
"""

from __future__ import annotations

import re

__all__ = ["FOLLOW_UP_MAX_WORDS", "asks_about_money", "follow_up_period_text", "is_everyday_request",
           "is_follow_up", "unknown_subject"]

# A message that only changes one filter of the previous question: "and in October?", "what about Tesco".
# Filler a follow-up may start with ("ok what about last month", "fine. what about lidl", "hmm and in May").
_LEAD_IN = r"(?:(?:ok(?:ay)?|fine|right|cool|great|thanks|hmm+|and|so|alright|sorry|oops|no|nah)\W+){0,3}"
# "sorry, I meant amazon": a correction of the last question's subject is a follow-up too.
_FOLLOW_UP = re.compile(rf"(?<!\W)\W*{_LEAD_IN}(?:and|what\s+about|how\s+about|what\s+of|same\s+for|now|also|then|"
                        r"what\s+if|for|in|i\s+meant?|meant)\b", re.I)
# What a follow-up says after its lead-in, when that alone is a period only in context: a bare month
# ("and april?", where "April" alone may be a name) or a bare count ("and over the last 90?", in the
# previous question's unit).
_BARE_MONTH = re.compile(r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
                         r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)", re.I)
_BARE_COUNT = re.compile(r"(?:(?:over|in|for|during)\s+)?(?:the\s+)?(?:last|past|previous)\s+(\d{1,3})", re.I)
_UNIT_IN_LABEL = re.compile(r"\b(days|weeks|months)\b")
_REFERS_BACK = re.compile(r"\b(?:of|from|in)\s+(?:that|those|them|it)\b|\bthat\s+(?:period|time|month|year)\b", re.I)
_FULL_QUESTION = re.compile(r"\b(?:spen[dt]|spending|cost|paid|pay)\b", re.I)
FOLLOW_UP_MAX_WORDS = 8


def is_follow_up(text: str) -> bool:
    """A short message that leans on the previous question ("and in October?", "how much of that was
    Zara") rather than a new one."""
    words = text.split()
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    return bool(_FOLLOW_UP.match(text) or _REFERS_BACK.search(text)) or \
        (len(words) <= 3 and not _FULL_QUESTION.search(text))


# A merchant named in an everyday request is not a spending question ("what time does tesco close today",
# "book a table at wagamama on friday"): such words and no word about money make the message out of scope.
_EVERYDAY_REQUEST = re.compile(
    r"\b(?:what\s+time|opening\s+hours|opens?|opening|clos(?:e|es|ing)|book|booking|reserve|reservation|"
    r"table\s+for|deliver(?:y|s)?|order\s+me|recipe|password|log\s*in|login|menu|directions|where\s+is|"
    r"nearest|near\s+me|phone\s+number|share\s+price|stock\s+price|hiring|jobs?)\b", re.I)
_MONEY_WORDS = re.compile(
    r"€|\b(?:spen[dt]|spending|spendings|cost|costs|costing|paid|pay|paying|how\s+much|total|purchases?|bought|"
    r"buy|buying|expenses?|outgoings|splash(?:ed)?|blow|blew|drop(?:ped)?|damage|euros?|money|budget|charged?|"
    r"payments?|transactions?|withdrawals?|went\s+on|go(?:es)?\s+on|came\s+to|comes?\s+to|forked?\s+out|"
    r"shell(?:ed)?\s+out|amount|bills?)\b", re.I)


def asks_about_money(text: str) -> bool:
    """A word about money or spending ("spent", "cost", "charge", "how much", "€")."""
    return bool(_MONEY_WORDS.search(text))


def is_everyday_request(text: str) -> bool:
    """A request about a shop or service that says nothing about money: not a spending question."""
    return bool(_EVERYDAY_REQUEST.search(text)) and not _MONEY_WORDS.search(text)


def follow_up_period_text(text: str, previous_label: str | None) -> str | None:
    """The period a follow-up names only in context, as words the period parser reads alone: "and april?"
    -> "in april"; "and the last 90?" after "in the past 30 days" -> "in the past 90 days"."""
    lead = _FOLLOW_UP.match(text)
    rest = text[lead.end():] if lead else text
    rest = rest.strip(" \t?!.,").lower()
    if _BARE_MONTH.fullmatch(rest):
        return f"in {rest}"
    count = _BARE_COUNT.fullmatch(rest)
    unit = _UNIT_IN_LABEL.search(previous_label or "")
    if count and unit:
        return f"in the past {count.group(1)} {unit.group(1)}"
    return None


_SUBJECT = re.compile(r"\b(?:on|at)\s+(?:my\s+|the\s+|a\s+|an\s+|some\s+|all\s+)?([a-z][a-z'&-]{2,30})", re.I)
_NOT_SUBJECTS = frozenset({
    "average", "total", "everything", "anything", "things", "stuff", "all", "earth", "whole", "entire", "past",
    "previous", "last", "this", "next", "first", "week", "weeks", "weekend", "month", "months", "year", "years",
    "day", "days", "today", "yesterday", "tonight", "morning", "evening", "night", "period", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may",
    "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "the", "my", "it", "that", "them",
})


# "how much did that thing cost me": the subject of "cost", "come to" or "set me back".
_COST_SUBJECT = re.compile(r"\b(?:did|does|do|has|have|will)\s+(?:my\s+|the\s+|that\s+|those\s+|these\s+|this\s+|"
                           r"our\s+|all\s+)?([a-z][a-z'&-]{1,30})\s+(?:cost|come\s+to|set\s+me\s+back)\b", re.I)


# Subjects of "cost" that ask about everything ("what did I spend", "how much did it all cost").
_COST_NOT_SUBJECTS = frozenset({"i", "we", "you", "everything", "anything", "all", "spending", "shopping"})


def unknown_subject(text: str) -> str | None:
    """The word after "on"/"at", or the subject of "cost", when it is no period word ("spent on apples" ->
    "apples", "what did that thing cost me" -> "thing"): a subject that matched no category and no
    merchant, so a total would answer a different question."""
    for m in (*_SUBJECT.finditer(text), *_COST_SUBJECT.finditer(text)):
        word = m.group(1).lower()
        if word not in _NOT_SUBJECTS and word not in _COST_NOT_SUBJECTS and not word.isdigit():
            return m.group(1)
    return None
