"""Names from the NER model, checked, and every other mention of a name found once in the same text.

en_core_web_sm finds most names but labels many foreign ones ORG ("Lasse Lorenzen", "Siobhán
Jovanović"), cuts some ("Sumaya [Magnusson]"), and calls some companies, towns and bands PERSON
("William Hill plc", "KOKKOLA"). So: a PERSON span is widened over the capitalised name words next to it;
an ORG span shaped like a personal name (two to four name words, no company or shop word) is a PERSON;
spans that cannot be a name (lower case, a company suffix, a merchant, one shouted word) are refused. A
name found once ("My name is Margrethe Sørensen but everyone calls me Margrethe") is redacted wherever
else it occurs in the text, so a second mention the model misses cannot leak it. Runs of two or three
capitalised words the model left unlabelled are names when their words are rare in English (rare_names.py).
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.tokens import Doc

from api.privacy import rare_names
from api.privacy.first_names import is_given_name
from api.privacy.letters import LOWER, UPPER
from api.privacy.ner_gate import NEVER, OPENERS
from api.privacy.patterns.common import I
from api.privacy.patterns.personal import NOT_NAME

MODEL_SCORE = 0.5  # below every rule: "221 Baker Street" is an address with a name-like word in it
PROPAGATION_SCORE = 0.45
COMPANY_SUFFIX = re.compile(
    r"\b(?:plc|ltd|limited|inc|incorporated|llc|llp|gmbh|ag|sa|s\.a|bv|nv|corp|corporation|co|company|companylimited|"
    r"group|bank|holdings|orchestra|band)\.?$", I)
# Words that make a capitalised phrase an organisation, a shop or a place, not a person.
_ORG_WORDS = """department store stores shop shops market supermarket bank banking building society group
holdings company co corporation corp inc ltd limited plc llc gmbh university college school institute
hospital clinic council ministry office agency association club centre center trust fund capital
partners media motors pharma pharmaceuticals labs laboratories solutions systems technologies tech
international global services enterprises insurance energy electric gas water power telecom network foods food
coffee cafe café pizza burger express airways airlines air rail railways transport travel hotel hotels banco banca
restaurant bar pub kitchen lettings estates properties property homes home depot mall cinema cineworld
pay payments card cards credit debit visa mastercard amex online digital mobile direct fitness gym
pharmacy chemist church street road avenue lane square park bridge river city town county state north
south east west new san santa saint st los las el la le les del der den"""
ORG_WORDS = frozenset(_ORG_WORDS.split())
# Of those, the ones no personal name holds (not "de", "la", "San", "Street"...): a model PERSON span
# with one of them is a business ("Greenfield Lettings", "Costa Coffee").
_PARTICLES = "de la le les del der den el los las san santa saint st new north south east west city town " \
             "county state street road avenue lane square park bridge river home air co card cards"
PLACE_PARTICLES = ORG_WORDS & frozenset(_PARTICLES.split())
BUSINESS_WORDS = ORG_WORDS - PLACE_PARTICLES
# Banking words that start a sentence capitalised ("Expiry is 09/26"), the bank's merchants and banks whose names
# are also given names ("Chase", "Marcus", "Ally"), which the model or the given-name list would call people ("Zara
# charged me £13"); agents must read them.
_NOT_NAMES = """expiry expires exp password passcode pin cvv cvc dob birthday order ref reference iban sort
account acct balance payee transfer payment refund mobile email e-mail phone address ssn otp code amount
card statement fee fees charge limit overdraft loan mortgage savings saver isa pot plan checking current
zara lidl carrefour
wagamama nando's boots shell vodafone cineworld ryanair pret uber tesco amazon netflix spotify starbucks
costa paypal revolut monzo
chase ally marcus citi barclays hsbc lloyds natwest santander halifax nationwide starling wise klarna discover"""
NOT_NAMES = frozenset(_NOT_NAMES.split())
NAME_WORD = re.compile(f"[{UPPER}](?:[{LOWER}'’\\-]*[{LOWER}])?\\.?")
WORD_BEFORE = re.compile(f"(?<![{UPPER}{LOWER}])([{UPPER}][{LOWER}'’\\-]*[{LOWER}]|[{UPPER}]\\.?)[ \\t]$")
WORD_AFTER = re.compile(f"[ \\t]([{UPPER}]\\.?(?=[ \\t][{UPPER}])|[{UPPER}][{LOWER}'’\\-]*[{LOWER}])"
                        f"(?![{UPPER}{LOWER}])")


def plausible_name(value: str) -> bool:
    """A model span worth redacting as a name: not lower case, a company, a merchant or one shouted word."""
    value = value.strip()
    if not value or value == value.lower() or COMPANY_SUFFIX.search(value) or NOT_NAME.match(value) \
            or value.split()[0].lower() in NOT_NAMES or any(w.lower() in BUSINESS_WORDS for w in value.split()):
        return False
    return not (" " not in value and value.isupper())  # "KOKKOLA": a town or a heading, not a name


def name_shaped(value: str) -> bool:
    """Two to four capitalised name words (initials allowed), none of them an organisation or place word."""
    words = value.split()
    return 2 <= len(words) <= 4 and all(NAME_WORD.fullmatch(w) for w in words) \
        and not any(w.lower().strip(".") in ORG_WORDS or w.lower() in NEVER or w.lower() in NOT_NAMES for w in words)


_TITLES = """mr mrs ms miss mx dr prof sir dame lady lord mr. mrs. ms. dr. prof."""
TITLES = frozenset(_TITLES.split())


def _name_word(word: str) -> bool:
    lower = word.lower()
    if lower in TITLES:  # "Mrs Okafor": the title stays readable, as the name rules leave it
        return False
    return lower not in NEVER and lower not in OPENERS and lower not in ORG_WORDS and lower not in NOT_NAMES \
        and not NOT_NAME.match(word)


def widen(text: str, start: int, end: int) -> tuple[int, int]:
    """The span grown over one capitalised name word (or initial) on each side: "Sumaya [Magnusson]"."""
    if (m := WORD_BEFORE.search(text, max(0, start - 40), start)) and _name_word(m.group(1)):
        start = m.start(1)
    if (m := WORD_AFTER.match(text, end)) and _name_word(m.group(1)):
        end = m.end(1)
    return start, end


def _without_title(text: str, start: int, end: int) -> tuple[int, int]:
    """The model's "Mrs Okafor" as "Okafor": titles stay readable, as the name rules leave them."""
    first, _, rest = text[start:end].partition(" ")
    if rest and first.lower() in TITLES:
        return end - len(rest), end
    return start, end


def _without_lower_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """The model's "ich wohne Lindenstraße" as "Lindenstraße": lower-case words and numbers at either edge are not
    the name (a name's own particles, "van", "de", sit inside it). An all-lower-case span is left whole (and
    refused)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    # numbers at the edges are no part of a name either: the model's "Hamilton West 40" of "pay Hamilton West 40"
    capital = [w for w in words if not text[w[0]].islower() and not any(c.isdigit() for c in text[w[0]:w[1]])]
    if not capital or len(capital) == len(words):
        return start, end
    return capital[0][0], capital[-1][1]


# "I am in Assen", "grew up in Žamberk", "based in Spodnja Idrija", "home city Ain Soltane", "Erlen bridge": words
# the model calls a person right after "in" or a place noun, or right before a lower-case place noun, are a place.
PLACE_WORD_BEFORE = re.compile(r"(?:^|[^\w])(?:in|city|town|village|capital|county|province|region|district|suburb)"
                      r"(?:[ \t]{1,3}of)?[ \t]{1,3}$", re.IGNORECASE)
PLACE_NOUN_AFTER = re.compile(r"[ \t]{1,3}(?-i:bridge|street|road|avenue|square|river|lake|station|airport|"
                              r"harbour|harbor|castle|cathedral|valley|mountains?|island|bay|county|province|district|city|town|"
                              r"village)\b")


# Towns by their shape, as English names them: a compass or place word and a name ("North Alphonsine", "Port
# Talbot", "Lake Elsinore"), or one word with a town ending ("Josephmouth", "Kamilashire", "Padovanohaven").
# Endings that are also common in surnames (-ton, -ville, -stad, -berg, -borough: Hamilton, Neville, Bjørnstad,
# Goldberg, Attenborough) are not used.
PLACE_FIRST_WORDS = frozenset({"north", "south", "east", "west", "new", "lake", "port", "fort", "mount", "upper",
                               "lower"})
TOWN_ENDING = re.compile(f"[{UPPER}][{LOWER}]{{2,}}(?:chester|mouth|shire|haven|burgh|furt|town)")


def _shaped_as_town(value: str) -> bool:
    words = value.split()
    return (len(words) == 2 and words[0].lower() in PLACE_FIRST_WORDS) \
        or (len(words) == 1 and TOWN_ENDING.fullmatch(value) is not None)


def named_as_place(text: str, start: int, end: int) -> bool:
    """A model name right after "in" or a place noun, before a place noun, or shaped as a town; not a possessive
    ("in Anna's name")."""
    if text.startswith(("'s", "’s"), end) or text[start:end].endswith(("'s", "’s")):
        return False
    return PLACE_WORD_BEFORE.search(text, max(0, start - 12), start) is not None \
        or PLACE_NOUN_AFTER.match(text, end) is not None or _shaped_as_town(text[start:end])


class ModelNameRecognizer(LocalRecognizer):
    """PERSON from the spaCy model's entities (PERSON, and ORG spans shaped like a personal name)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="ModelNameRecognizer", supported_language="en")

    def load(self) -> None:  # the model is loaded by the NLP engine
        pass

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None or (entities and "PERSON" not in entities):
            return []
        results = []
        for ent in doc.ents:
            if ent.label_ == "PERSON" or (ent.label_ == "ORG" and name_shaped(ent.text)):
                start, end = _without_lower_edges(text, ent.start_char, ent.end_char)
                start, end = widen(text, *_without_title(text, start, end))
                if plausible_name(text[start:end]) and not named_as_place(text, start, end) \
                        and not _before_legal_form(text, end):
                    results.append(self._result(start, end))
        results.extend(self._result(*span) for span in rare_runs(text, doc))
        results.extend(self._result(*span) for span in lone_given_names(text, doc))
        return results

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, MODEL_SCORE, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


def rare_runs(text: str, doc: Doc) -> list[tuple[int, int]]:
    """Names of two or three words the model left unlabelled, by the rarity of their words (rare_names.py).
    Words that are no name ("Yesterday", "Bank", a merchant) are trimmed from either end of a run, and a run
    with one in the middle is refused."""
    found = []
    for start, end in rare_names.candidate_runs(text, doc):
        words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
        keep = [_name_word(text[s:e]) and not rare_names.inflected_word(text[s:e]) for s, e in words]
        while keep and not keep[0]:
            words, keep = words[1:], keep[1:]
        while keep and not keep[-1]:
            words, keep = words[:-1], keep[:-1]
        if len(words) < 2 or not all(keep):
            continue
        value = text[words[0][0]:words[-1][1]]
        if rare_names.rare_name(value.split()) and plausible_name(value) \
                and not _in_organisation(text, words[0][0], words[-1][1]) \
                and not named_as_place(text, words[0][0], words[-1][1]):
            found.append((words[0][0], words[-1][1]))
    return found


GIVEN_NAME_ZIPF = 4.5  # an unlabelled given name must be rarer in English than this ("Sophie" 3.9; "Grace" 4.6)
# A capitalised word of letters, not glued to another letter, a digit or an apostrophe.
LONE_WORD = re.compile(f"(?<![{UPPER}{LOWER}\\d'’\\-])[{UPPER}][{LOWER}]+(?![{UPPER}{LOWER}\\d'’\\-])")
# Before it, on the same line, a lower-case word (and at most a comma): inside a sentence, not after a capitalised
# word ("St Louis", "Grace Church" are names of other things).
INSIDE_SENTENCE = re.compile(f"(?<![{UPPER}{LOWER}'’\\-])[{LOWER}][{LOWER}'’\\-]*,?[ \\t]{{1,3}}$")
CAPITALISED_NEXT = re.compile(f"[ \\t]{{1,3}}[{UPPER}]")


def lone_given_names(text: str, doc: Doc) -> list[tuple[int, int]]:
    """Single given names (first_names.py) the model called an organisation or left unlabelled: "Sophie began
    writing", "can Scott use my card". An unlabelled one must be inside a sentence, alone between lower-case words,
    and rare as an English word; neither may be a merchant, a place by its context, or a company before its legal
    form."""
    found, labelled = [], []
    for ent in doc.ents:
        labelled.append((ent.start_char, ent.end_char))
        if ent.label_ == "ORG" and len(ent) == 1 and _lone_name_ok(text, ent.start_char, ent.end_char):
            found.append((ent.start_char, ent.end_char))
    # The text's capitalised words are found in C and looked up in a set; the tokens are not walked.
    for m in LONE_WORD.finditer(text):
        start, end = m.span()
        if not is_given_name(m.group()) or any(s < end and start < e for s, e in labelled) \
                or not INSIDE_SENTENCE.search(text, max(0, start - 40), start) \
                or CAPITALISED_NEXT.match(text, end):
            continue
        if rare_names.zipf(m.group().lower()) < GIVEN_NAME_ZIPF and _lone_name_ok(text, start, end):
            found.append((start, end))
    return found


def _lone_name_ok(text: str, start: int, end: int) -> bool:
    word = text[start:end]
    lower = word.lower()
    return is_given_name(word) and lower not in NOT_NAMES and lower not in NEVER and lower not in OPENERS \
        and lower not in ORG_WORDS and not NOT_NAME.match(word) and not named_as_place(text, start, end) \
        and not _before_legal_form(text, end) and not PARTICLE_BEFORE.search(text, max(0, start - 8), start)


# "Pedraza de Alba": a given name after a lower-case particle is part of a place's or a family's name.
PARTICLE_BEFORE = re.compile(r"(?:^|[^\w])(?:de|da|di|do|du|del|della|van|von|la|le)[ \t]{1,3}$")


# Company forms COMPANY_SUFFIX does not know (Italian, Nordic, Japanese; funds and trusts are in ORG_WORDS).
MORE_COMPANY_FORMS = frozenset({"spa", "srl", "oy", "ab", "as", "asa", "kk", "etf", "reit"})
# Bounded repeats: a run of spaces or of letters costs each match a constant, never the rest of the text.
SPACE_OR_AMPERSAND = r"(?:[ \t]{1,3}|[ \t]{0,3}&[ \t]{0,3})"  # "Sturm Ruger & Company Inc."
CAPITALISED_AFTER = re.compile(f"\\.?(?:{SPACE_OR_AMPERSAND}[{UPPER}][{UPPER}{LOWER}.&'’\\-]{{0,40}},?){{1,4}}")
CAPITALISED_BEFORE = re.compile(f"(?:[{UPPER}][{UPPER}{LOWER}.&'’\\-]{{0,40}}[ \\t]{{1,3}}"
                                f"(?:(?:of|de)[ \\t]{{1,3}})?){{1,3}}$")


def _in_organisation(text: str, start: int, end: int) -> bool:
    """Whether the capitalised words around a run name a company or an institution: "Sagar Cements Limited",
    "The Gabelli Utility Trust", "Banco Bilbao Vizcaya Argentaria SA", "University of Agios Dometios"."""
    around = ""
    if m := CAPITALISED_AFTER.match(text, end):
        around += m.group()
    if m := CAPITALISED_BEFORE.search(text, max(0, start - 60), start):
        around += " " + m.group()
    return any(w in ORG_WORDS or w in MORE_COMPANY_FORMS or COMPANY_SUFFIX.fullmatch(w)
               for w in re.split(r"[\s.,&]+", around.lower()) if w)


# After a model name, capitalised words or "&" up to a company's legal form: "Sturm Ruger & Company Inc.", "Melco
# Resorts & Entertainment Limited", "Vanguard Total Bond Market Index Fund". Only the words after the name count
# here, and only legal forms: "Pay Anna Nowak" and "Anna Nowak Card ending 1234" hold a person.
WORDS_AFTER = re.compile(f"(?:{SPACE_OR_AMPERSAND}[{UPPER}][{UPPER}{LOWER}.'’\\-]{{0,40}}){{1,5}}")
LEGAL_FORMS = MORE_COMPANY_FORMS | {"fund", "funds", "trust", "partners", "holdings", "group", "incorporated",
                                    "aktiengesellschaft", "kaisha", "kabushiki"}


def _before_legal_form(text: str, end: int) -> bool:
    if not (m := WORDS_AFTER.match(text, end)):
        return False
    return any(w in LEGAL_FORMS or COMPANY_SUFFIX.fullmatch(w) for w in re.split(r"[\s.&]+", m.group().lower()) if w)


# "Harvey, Jacob, Shawn and Emily": a list of single capitalised words.
NAME_LIST = re.compile(f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}](?:,[ \\t]{{1,3}}[{UPPER}][{LOWER}'’\\-]*[{LOWER}]){{1,12}}"
                       f"(?:,?[ \\t]{{1,3}}(?:and|or|&)[ \\t]{{1,3}}[{UPPER}][{LOWER}'’\\-]*[{LOWER}])?")
LIST_ITEM = re.compile(f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}]")


def list_mates(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """In a list of single words where two are names already found, the other items are names too."""
    people = [(r.start, r.end) for r in results if r.entity_type == "PERSON"]
    extra = []
    for m in NAME_LIST.finditer(text):
        items = [i for i in LIST_ITEM.finditer(text, m.start(), m.end()) if i.group() not in ("and", "or")]
        named = sum(any(s < i.end() and e > i.start() for s, e in people) for i in items)
        if named >= 2:
            extra += [RecognizerResult("PERSON", i.start(), i.end(), PROPAGATION_SCORE) for i in items
                      if _name_word(i.group())]
    return extra


# A pasted dialogue: "Irina: What a wife.\nKimberly: Remember me?" (two speakers or more, not field labels).
SPEAKER = re.compile(f"(?:^|(?<=\\n))[ \\t]{{0,3}}([{UPPER}][{LOWER}'’\\-]*[{LOWER}]):[ \\t]{{1,3}}(?=[{UPPER}])")
_LABELS = """name address email e-mail phone mobile fax tel date time when where note notes subject re title dob
zip postcode city country state website web desk office home work bot user customer client agent assistant
me you total amount ref reference from to cc bcc answer question reply hint warning error status"""
LABELS = frozenset(_LABELS.split())


def speakers(text: str) -> list[RecognizerResult]:
    """The speakers of a pasted dialogue of two lines or more."""
    found = [m for m in SPEAKER.finditer(text) if m.group(1).lower() not in LABELS and _name_word(m.group(1))]
    if len(found) < 2:
        return []
    return [RecognizerResult("PERSON", *m.span(1), PROPAGATION_SCORE) for m in found]


QUOTE_MARKS = re.compile(r"[ \t]{0,8}[>|\-*•}?#:]{1,4}[ \t]{1,3}")


def names_above_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """A line of two to four name words in the two lines above an address: its addressee ("Satu Waltari\n\n696...")."""
    extra = []
    for r in results:
        if r.entity_type != "STREET_ADDRESS":
            continue
        end = text.rfind("\n", 0, r.start)
        for _ in range(2):  # the addressee, or a company line between them
            while end > 0 and text[end - 1] in "\n \t":
                end -= 1
            if end <= 0:
                break
            start = text.rfind("\n", max(0, end - 80), end) + 1
            line = text[start:end]
            quoted = QUOTE_MARKS.match(line)  # "}} Oscar Palfreyman", "> Oscar Palfreyman"
            if quoted:
                start, line = start + quoted.end(), line[quoted.end():]
            if name_shaped(" ".join(line.split())):
                lead = len(line) - len(line.lstrip())
                extra.append(RecognizerResult("PERSON", start + lead, end, PROPAGATION_SCORE))
                break
            end = start - 1
    return extra


# Names by the words around them, in any script (the model misses many single first names in prose):
# the speaker or the one spoken to ("said Tejka to Julie", "Kazu shouted at Dale", "Savannah Beet says"), the
# one addressed ("Don't go to town, Bethany!", "Remember me, Mariah?", "Dear Ms Okafor"). The word must pass
# the same checks as a widened model name: not a sentence opener, a calendar word, a business or a label.
_NAME = f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}]"
_NAMES = f"{_NAME}(?:[ \\t]{_NAME}){{0,2}}"
SPEECH_VERB = r"(?:said|says|asked|asks|told|tells|shouted|shouts|replied|replies|yelled|yells|whispered|cried|wrote)"
SPEECH_CUES = (
    re.compile(f"\\b{SPEECH_VERB}(?:[ \\t]+(?:at|to))?[ \\t]+({_NAMES})(?![{UPPER}{LOWER}])"
               f"(?:[ \\t]+(?:to|at)[ \\t]+({_NAMES})(?![{UPPER}{LOWER}]))?"),
    re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAMES})[ \\t]+{SPEECH_VERB}\\b"),
    re.compile(f"\\b(?:to|at)[ \\t]+({_NAME})(?=[ \\t]*[:,][ \\t]*[\"“])"),  # shouted at Dale: "What..."
    re.compile(f",[ \\t]+({_NAMES})[ \\t]*[!?]"),  # vocative before ! or ?
    re.compile(f"(?:^|(?<=[\\n.!?]))[ \\t]*(?:Dear|Hi|Hello|Hey)[ \\t]+"
               f"(?:(?:Mr|Mrs|Ms|Dr|Miss)\\.?[ \\t]+)?({_NAMES})"),
)


# A first name, a middle initial without its dot, a last name: "Lotta V Luusua", "Seid E Globelnik".
MIDDLE_INITIAL = re.compile(f"(?<![{UPPER}{LOWER}'’])({_NAME})[ \\t]([{UPPER}])\\.?[ \\t]({_NAME})(?![{UPPER}{LOWER}])")


# Words that put a letter after them and are no first name: "Section A Part", "Plan B Savings".
_LETTER_LABELS = """section part plan type class grade level phase block unit room gate terminal platform vitamin
row seat option group team category tier band zone stage step form schedule appendix annex exhibit item
flat apartment suite floor wing building hall area sector division model series size"""
LETTER_LABELS = frozenset(_LETTER_LABELS.split())


def initialled_names(text: str) -> list[RecognizerResult]:
    """First name, middle initial, last name: a shape few other things have."""
    return [RecognizerResult("PERSON", m.start(1), m.end(3), PROPAGATION_SCORE) for m in MIDDLE_INITIAL.finditer(text)
            if m.group(1).lower() not in LETTER_LABELS and _name_word(m.group(1)) and _last_name(m.group(3))
            and plausible_name(m.group())]


def _last_name(word: str) -> bool:
    """A name word, or a place word that is also a surname ("Charlotte J Park", "Ann B Lane") after an initial."""
    return _name_word(word) or word.lower() in PLACE_PARTICLES


def cued_names(text: str) -> list[RecognizerResult]:
    """Names the words around them mark as people (speech verbs, the addressee)."""
    extra = initialled_names(text)
    for pattern in SPEECH_CUES:
        for m in pattern.finditer(text):
            for group in range(1, (pattern.groups or 0) + 1):
                value = m.group(group)
                if value and all(_name_word(w) for w in value.split()) and plausible_name(value):
                    extra.append(RecognizerResult("PERSON", m.start(group), m.end(group), PROPAGATION_SCORE))
    return extra


def _mentions(text: str, word: str) -> list[tuple[int, int]]:
    spans = []
    i = text.find(word)
    while i != -1:
        j = i + len(word)
        if (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum()):
            spans.append((i, j))
        i = text.find(word, j)
    return spans


def other_mentions(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Every whole-word, same-case mention of a word (3+ letters, capitalised) of a PERSON span found."""
    words = set()
    for r in results:
        if r.entity_type == "PERSON":
            words.update(w for w in re.split(r"[\s,]+", text[r.start:r.end])
                         if len(w) >= 3 and w[0].isupper() and w.isalpha() and _name_word(w))
    extra = []
    for word in sorted(words)[:20]:  # bounded: a text with more names than this is covered by its spans
        extra += [RecognizerResult("PERSON", s, e, PROPAGATION_SCORE) for s, e in _mentions(text, word)]
    return extra


# Letters after a name that belong to it ("Zdeňka Nováková DVM", "Carl Vance Jr.", "Ana Ruiz, PhD"): written in
# capitals as they are, never "I" or "V" alone ("Paul Ward I said").
POSTNOMINAL = re.compile(r",?[ \t]{1,2}(?-i:Jr|Sr|II|III|IV|MD|M\.D|DVM|DDS|DMD|PhD|Ph\.D|Esq|CPA|RN|MBA|OBE|MBE|CBE)"
                         r"\.?(?![\w])")


# A surname's particles, written in lower case, then the rest of it: "Roxy [van der Torre]", "Ana [de la Cruz]",
# "Salma [bin Laden]". The model often stops before the particle.
PARTICLE_SURNAME = re.compile(r"[ \t](?:(?:van|von|vom|zu|de|der|den|ter|ten|da|das|dos|di|del|della|du|le|la|bin|"
                              f"ibn|al|el|af|y)[ \\t]){{1,3}}[{UPPER}][{UPPER}{LOWER}'’\\-]*[{LOWER}]")


def with_name_tails(text: str, results: list[RecognizerResult]) -> None:
    """Stretch each PERSON span over a surname after its particles, then over the post-nominal letters after it."""
    for r in results:
        if r.entity_type != "PERSON":
            continue
        if m := PARTICLE_SURNAME.match(text, r.end):
            r.end = m.end()
        if m := POSTNOMINAL.match(text, r.end):
            r.end = m.end()
