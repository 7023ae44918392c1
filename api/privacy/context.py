"""Spans that are PII because of the question before them: the previous line, or a question in the same text.

"14 March 1983" alone is a date like any transaction date; after "what is your date of birth?" it is a
date of birth. "Sylwia Ostrowska" alone could be anything; after "what's the name on the account?" it is
a name. The transcript ingest passes the conversation's previous bot or agent line as `context`; a
question inside the text itself ("... your date of birth? It's 5/7/1935") counts the same way.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from api.privacy.letters import LOWER, UPPER
from api.privacy.patterns.common import NUM_START, I
from api.privacy.patterns.personal import COMMON_WORDS, DATE

SCORE = 0.8
BIRTH_QUESTION = re.compile(r"\b(?:d\.?o\.?b|date\s+of\s+birth|birth\s*date|birthday|born)\b", I)
NAME_QUESTION = re.compile(
    r"\b(?:(?:full|first|last|sur|given|family|middle|maiden)\s*name|name\s+(?:on|of|for)|(?:your|their|his|her|"
    r"the\s+(?:payee|recipient|beneficiary|account\s+holder|landlord|caller)(?:'s)?)\s+name|"
    r"who\s+(?:is|are|was|should|do|did|would)|what\s+is\s+(?:he|she|they)\s+called)\b", I)
ANY_DATE = re.compile(NUM_START + DATE, I)
NAME_WORDS = re.compile(f"(?<![{UPPER}{LOWER}])[{UPPER}][{LOWER}'’\\-]*[{LOWER}](?:[ \\t]+[{UPPER}][{LOWER}'’\\-]*"
                        f"[{LOWER}]|[ \\t]+[{UPPER}]\\.?(?=[ \\t]+[{UPPER}])){{0,3}}")
WORD = re.compile(f"[{UPPER}{LOWER}'’\\-]+")
# The end of an answer: a sentence end or a line break.
ANSWER_END = re.compile(r"[.!?\n]")
# "User:", "Me:", "A:" before an answer in a pasted exchange.
SPEAKER = re.compile(r"(?:user|customer|client|me|a)[ \t]{0,3}:[ \t]{0,3}", I)
MAX_QUESTION_CHARS = 160
MAX_ANSWER_CHARS = 120


def _result(entity: str, start: int, end: int) -> RecognizerResult:
    return RecognizerResult(entity, start, end, SCORE, recognition_metadata={
        RecognizerResult.RECOGNIZER_NAME_KEY: "QuestionContext"})


def answer_results(question: str, text: str, start: int = 0, end: int | None = None) -> list[RecognizerResult]:
    """PII spans of `text[start:end]` given that it answers `question`."""
    end = len(text) if end is None else end
    results: list[RecognizerResult] = []
    if BIRTH_QUESTION.search(question):
        for m in ANY_DATE.finditer(text, start, end):
            results.append(_result("DATE_OF_BIRTH", *m.span(1)))
    if NAME_QUESTION.search(question):
        answer = text[start:end]
        words = WORD.findall(answer)
        if 1 <= len(words) <= 4 and not any(w.lower() in COMMON_WORDS for w in words) \
                and not any(c.isdigit() for c in answer):
            lead = len(answer) - len(answer.lstrip())
            results.append(_result("PERSON", start + lead, start + len(answer.rstrip(" \t.!"))))
        else:
            for m in NAME_WORDS.finditer(text, start, end):
                results.append(_result("PERSON", *m.span()))
    return results


def find_in_context(text: str, context: str | None) -> list[RecognizerResult]:
    """Spans made PII by the previous line (`context`) or by a question earlier in `text`."""
    results: list[RecognizerResult] = []
    if context:
        stop = ANSWER_END.search(text)
        results += answer_results(context[-MAX_QUESTION_CHARS:], text, 0, stop.start() if stop else len(text))
    q = text.find("?")
    while q != -1:
        floor = max(0, q - MAX_QUESTION_CHARS)
        begin = max(max(text.rfind(c, floor, q) for c in ".!?\n") + 1, floor)
        if q - begin <= MAX_QUESTION_CHARS:
            start = q + 1
            while start < len(text) and text[start] in " \t":
                start += 1
            if speaker := SPEAKER.match(text, start):
                start = speaker.end()
            stop = ANSWER_END.search(text, start + 1, start + MAX_ANSWER_CHARS)
            end = min(stop.start() if stop else len(text), start + MAX_ANSWER_CHARS)
            if end > start:
                results += answer_results(text[begin:q + 1], text, start, end)
        q = text.find("?", q + 1)
    return results
