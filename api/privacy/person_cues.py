"""More words around a name that mark it as a person, and names the model took for people that are places.

The model misses many single first names in prose ("Ingþór's kid", "Rebecca is a very sympathetic person",
"had given Lorenza his address", "Mudrová and Cross were engineers"). Each cue below is a construction
English uses for people and rarely for anything else: a possessive before a family word, "is a ... person",
a verb that gives or tells something to someone followed by a possessive, a name paired with the speaker
("Ernst and I", "me and Ty"), a message passed on ("Tell Yukiyo I said thanks"), a signature alone on its
line under a sign-off ("Best wishes,\nRacław"), and a name paired by "and" with a name already found. The
candidate must pass the same word checks as every other name rule.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from api.privacy.letters import LOWER, UPPER
from api.privacy.names import PROPAGATION_SCORE, TITLES, _name_word, plausible_name

_NAME = f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}]"
_END = f"(?![{UPPER}{LOWER}])"
_KIN = (r"(?:kids?|sons?|daughters?|wife|husband|partner|mother|father|mum|mom|dad|brothers?|sisters?|children|"
        r"child|baby|family|parents|boyfriend|girlfriend|fianc[ée]e?|uncle|aunt|nephew|niece|cousin|grandson|"
        r"granddaughter|grandmother|grandfather|grandma|grandpa|widow|widower)")
_PERSON_NOUN = (r"(?:person|man|woman|guy|girl|boy|lady|gentleman|child|kid|friend|colleague|neighbou?r|teacher|"
                r"doctor|nurse|student|writer|author|singer|actor|actress|artist|player|engineer|lawyer|mother|"
                r"father|parent|customer|client|tenant|landlord|landlady|employee|manager|boss)")
_TELLS = (r"(?:gave|given|give|gives|giving|told|tell|tells|telling|showed|shown|show|shows|lent|lend|lends|"
          r"handed|hands|thanked|promised|offered|bought|brought|owe|owes|owed)")
CUES = (
    # "Ingþór's kid", "Anna Berg's husband"
    re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAME}(?:[ \\t]{_NAME})?)['’]s[ \\t]+{_KIN}\\b"),
    # "Rebecca is a very sympathetic person"
    re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAME}(?:[ \\t]{_NAME})?)[ \\t]+(?:is|was)[ \\t]+(?:a|an|my|our)[ \\t]+"
               f"(?:[{LOWER}\\-]+[ \\t]+){{0,3}}?{_PERSON_NOUN}\\b"),
    # "had given Lorenza his address" (his or her: "I gave Barclays my details" is about a company)
    re.compile(f"\\b{_TELLS}[ \\t]+({_NAME}(?:[ \\t]{_NAME})?){_END}[ \\t]+(?:his|her)\\b"),
    # "Ernst and I share the pot", "Ty and me", "me and Vachel": the speaker paired with someone
    re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAME}){_END}[ \\t]+(?:and|&)[ \\t]+(?:I|me)\\b"),
    re.compile(f"\\b(?i:me|myself)[ \\t]+(?:and|&)[ \\t]+({_NAME}){_END}"),
    # A signature under a sign-off, alone on its line: "Best wishes,\nRacław", "Thanks!\nAleah", "Cheers, Ty"
    re.compile(r"(?:^|(?<=\n))[ \t]{0,8}(?i:best(?:[ \t]wishes)?|warm(?:est)?[ \t](?:wishes|regards)|"
               r"all[ \t]the[ \t]best|kind[ \t]regards|regards|yours(?:[ \t](?:sincerely|faithfully|truly))?|"
               r"sincerely|love|thanks|thank[ \t]you|many[ \t]thanks|cheers|take[ \t]care)"
               r"[ \t]{0,3}[,!.]?[ \t]{0,3}\r?\n?[ \t]{0,8}"
               f"({_NAME}(?:[ \\t]{_NAME})?)[ \\t]{{0,3}}x{{0,3}}[ \\t]{{0,3}}(?=\\r?\\n|$)"),
    # "Tell Yukiyo I said thanks", "ask Louis to call me": a message passed to someone
    re.compile(f"\\b(?i:tell|ask|remind)[ \\t]+({_NAME}){_END}[ \\t]+"
               r"(?:I|I'm|I've|that|to|about|not|we|you|he|she|they|if|when|why|how)\b"),
)
PAIR = re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAME})[ \\t]+(?:and|&)[ \\t]+({_NAME}){_END}")


def _is_name(value: str) -> bool:
    return all(_name_word(w) for w in value.split()) and plausible_name(value)


def cue_names(text: str) -> list[RecognizerResult]:
    """Names marked as people by a family word, "is a ... person" or a giving verb and a possessive."""
    return [RecognizerResult("PERSON", *m.span(1), PROPAGATION_SCORE) for pattern in CUES
            for m in pattern.finditer(text) if _is_name(m.group(1))]


def pair_mates(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """"Mudrová and Cross": when one side of "X and Y" is a name already found, the other single word is too."""
    people = [(r.start, r.end) for r in results if r.entity_type == "PERSON"]
    if not people:
        return []
    extra = []
    for m in PAIR.finditer(text):
        sides = [(m.start(g), m.end(g)) for g in (1, 2)]
        named = [any(s < e2 and e > s2 for s2, e2 in people) for s, e in sides]
        for (s, e), is_named in zip(sides, named, strict=True):
            if any(named) and not is_named and text[s:e].lower() not in TITLES and _is_name(text[s:e]):
                extra.append(RecognizerResult("PERSON", s, e, PROPAGATION_SCORE))
    return extra

