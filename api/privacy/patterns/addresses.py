"""Addresses the street rules in personal.py miss, and the rest of an address after its street line.

- A house number, one to five words of any script and a second number: "Csabai kapu 38" after its
  building number, "267 Sundabakki 74", "1988 ul. Miła 57", "8294 Via Capo le Case 143".
- Post office boxes and US military addresses ("P.O. Box 286", "PSC 0217, Box 0099 APO AP 03151").
- `extend()`: once a street is found, the flat, suite or box, the town, the region and the postcode that
  follow it, on the same line or the next ones, belong to the same span ("12 Main St, Apt. 4, Leeds
  LS6 2QT"): a span that stopped inside "Apt." used to leave flat, postcode and town in clear.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from api.privacy import rare_names
from api.privacy.letters import LOWER, UPPER
from api.privacy.patterns.common import I
from api.privacy.patterns.personal import EIRCODE, UK_POSTCODE
from api.privacy.rules import Rule

CAP_WORD = f"[{UPPER}][{UPPER}{LOWER}'’\\-]*\\.?"
NOT_TOWN_WORD = (r"(?!(?:And|But|Please|Thanks|Thank|Can|Could|Would|Will|I|It|My|The|This|That|So|If|When|"
                 r"We|You|He|She|They|Is|Was|On|In|At|For|From|To|Since|Before|After)\b)")
# "14 March 1983", "3 Mon 12": a date, not a street.
NOT_CALENDAR = (r"(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April|June|July|"
                r"August|September|October|November|December|Mon|Tue|Wed|Thu|Fri|Sat|Sun|Monday|Tuesday|Wednesday|"
                r"Thursday|Friday|Saturday|Sunday)\b)")
# Lower-case words that occur inside street names of many languages ("kapu", "le", "de la", "útja").
# English words that end an address rather than continue it are refused ("12 Tesco and 30").
NOT_STREET_WORD = (r"(?!(?:and|or|to|for|at|on|in|the|of|from|with|but|was|is|are|euros?|pounds?|dollars?|"
                   r"quid|bucks|times|items?|days?|hours?|minutes?|mins?|months?|years?|weeks?|percent|"
                   r"cards?|transactions?|payments?)\b)")
# A word may start with an elided article: "Avenue d'Ouchy 109", "Via dell'Orso 5".
ELISION = f"(?:[{LOWER}]{{1,4}}['’])?"
ANY_WORD = f"(?:(?i:{NOT_STREET_WORD}){ELISION}{CAP_WORD}|{NOT_STREET_WORD}[{LOWER}][{LOWER}'’\\-]*\\.?)"
STREET_PREFIX = r"(?:ul|pl|al|os|ctra|av|avda|r|rua|via|viale|piazza|calle|rue|str|ulica|utca)\.?"
# A street type that starts a street name, as written (case kept: "via Paypal 20" is no street).
TYPE_FIRST = (r"(?-i:(?:ul|pl|al|os)\.|(?:Ul|Pl|Al|Os|Ctra|Avda|Av)\.|Rua|Via|Viale|Vicolo|Corso|Piazza|Calle|"
              r"Avenida|Strada|Praça|Largo|Travessa|Rue|rue|Avenue|Ulica|Utca|"
              # Slavic and Baltic: square, avenue, boulevard, embankment, road
              r"Trg|trg|Aleja|Aleje|Bulevar|Bulvar|Obala|Cesta|Náměstí|Namesti|Nábřeží|Třída|Trieda|Plac|Prospekt|"
              r"Ulitsa|Iela)")
# "Pay 500 Apartment 4B rent": a flat is no street name.
NOT_UNIT = r"(?!(?i:apt|apartment|suite|unit|flat|floor|room)\b)"
# Lower-case particles between a street type and the name: "Via delle Coste 26", "Rue de Virton 38".
STREET_PARTICLES = r"(?:(?:de|del|della|delle|dei|degli|di|da|do|dos|das|du|des|la|le|les|van|von|der)[ \t]+){0,2}"
NUMBER_STREET_NUMBER = (
    r"(?<![\w.,/£$€¥:\-])(\d{1,6}[A-Za-z]?[ \t]+(?:" + STREET_PREFIX + r"[ \t]+)?" + NOT_CALENDAR + NOT_UNIT + CAP_WORD
    + r"(?:[ \t]+" + ANY_WORD + r"){0,4}?[ \t]+\d{1,5}[A-Za-z]?)(?![\w/:]|[.,]\d)")
TYPE_STREET_NUMBER = (r"(?<![\w.])(" + TYPE_FIRST + r"[ \t]+" + STREET_PARTICLES + CAP_WORD + r"(?:[ \t]+" + ANY_WORD
                      + r"){0,4}?[ \t]+"
                      r"\d{1,5}[A-Za-z]?)(?![\w/:]|[.,]\d)")
# Streets of northern and central Europe, named by a suffix glued to the name or a word after it, then the
# number: "Vesturgata 66", "Veslebakken 48", "Passiewijk 103", "Fredbo allé 14", "Marsveien 48".
GLUED_SUFFIX = (r"(?:gata|gatan|vägen|väg|vej|veien|vegen|vei|gade|gate|bakken|bakke|stræde|straat|laan|weg|wijk|"
                r"dreef|singel|kade|gracht|plein|strasse|straße|gasse|platz|allee|ring|katu|tie|polku|kuja|utca|"
                r"ulica|ulice|cesta|sokak|sokağı|caddesi|torget|torg|plass|plads)")
SUFFIX_WORD = (r"(?:allé|alle|vei|vej|veien|vegen|gate|gata|gatan|gade|väg|vägen|gränd|stig|plass|plads|torg|torget|"
               r"straat|steeg|dreef|gracht|plein|laan|weg|straße|strasse|gasse|platz|allee|katu|kuja|polku|utca|út|"
               r"u\.|cesta|ulica|ulice|tér|náměstí|põik|tee|tänav|mnt\.?|iela|gatve|prospekt|sokak|caddesi|"
               # Hungarian: embankment, ring road, lane, row, promenade, alley ("Belgrád rkp. 18.")
               r"rakpart|rkp\.|körút|krt\.|köz|sor|sétány|fasor|lejtő)")
# The name before a separate street word may have up to three words: "Leif Jensons plass 75".
NORDIC_STREET = (r"(?<![\w.])([" + UPPER + r"][" + LOWER + r"]+" + GLUED_SUFFIX + r"|[" + UPPER + r"][" + LOWER
                 + r"\-]+(?:[ \t][" + UPPER + r"][" + LOWER + r"\-]+){0,2}[ \t]+" + SUFFIX_WORD
                 + r")[ \t]+(\d{1,4}[A-Za-z]?)(?![\w/:]|[.,]\d)")
PO_BOX = r"\b((?:P\.?[ \t]?O\.?[ \t]?Box|Post[ \t]+Office[ \t]+Box|PO[ \t]+Box)[ \t]+\d{1,6})\b"
MILITARY = (r"\b((?:(?:Unit|PSC|CMR)[ \t]+\d{1,5}(?:,?[ \t]*Box[ \t]+\d{1,5})?"
            r"|(?:USNS|USNV|USS|USCGC)[ \t]+" + CAP_WORD + r")"
            r"(?:[ \t]*,?[ \t]*\r?\n?[ \t]*(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5})?)\b")

# A street of one rare word and its number after a place word, as most of Europe writes it: "meet me at
# Kläppinge 86", "enter on Sundabakki 74", "to Καλαμπάκα 33". The word must be rare in English
# (rare_names.py), so "at Gate 22", "on Platform 9", "in Room 101" and "to Tesco 24" stay readable.
PLACE_PREPOSITIONS = "on|at|to|from|in|near|via|into|onto"
PLACE_WORD = r"(?<![\w])(?i:" + PLACE_PREPOSITIONS + r")[ \t]+"
# The cross street of an intersection written "<street> and <street>" ("at Hollin and Kläppinge 86").
CROSS = f"(?:{CAP_WORD}(?:[ \\t]{{1,3}}{CAP_WORD}){{0,2}}[ \\t]{{1,3}}(?i:and|&)[ \\t]{{1,3}})?"
RARE_STREET = (PLACE_WORD + CROSS + r"([" + UPPER + r"][" + LOWER
               + r"'’\-]{2,40}[ \t]{1,3}\d{1,4}[A-Za-z]?)(?![\w/:%]|[.,]\d)")


def _rare_street(value: str) -> bool:
    return rare_names.zipf(value.split()[0].lower()) < rare_names.RARE


# A name's particles, written in lower case before it: "van Aken Island Street", "ten Pas Locks".
NAME_PARTICLES = r"(?-i:(?:van|von|de|der|den|ten|ter|da|di|du|del|della|le|la)[ \t]+){0,2}"
# An intersection: "the corner of Pod Strání 10 and Roberto Port", "corner of Main St. and 5th Avenue". The
# second street needs no number; the first is one to six street words or numbers (not "and", "the"...).
CROSS_WORD = f"(?:{CAP_WORD}|\\d{{1,5}}(?:st|nd|rd|th)?\\.?|{ANY_WORD})"
CORNER = (r"(?<![\w])((?i:the[ \t]+)?(?i:corner)[ \t]+(?i:of)[ \t]+" + CROSS_WORD + r"(?:[ \t]+" + CROSS_WORD
          + r"){0,5}?[ \t]+(?i:and|&)[ \t]+" + NAME_PARTICLES + "(?:" + NOT_CALENDAR + CAP_WORD
          + r"|\d{1,5}(?:st|nd|rd|th)?\b)(?:[ \t]+"
          + NOT_TOWN_WORD + CAP_WORD + r"){0,3})")
# A street named without its number after a place preposition: "shows on Rothstein Drive", "lives off Jildert
# Knoll". Only street types (USPS and British), capitalised as in a name; words that also name a place that
# is no street (station, park, mall, club, centre, port, lake...) are left out, so "at Shell Station" and
# "at Westfield Mall" stay readable.
_STREET_TYPES = """Street Streets Road Roads Avenue Avenues Lane Lanes Drive Drives Close Way Ways Court Courts Place
Boulevard Terrace Terraces Crescent Gardens Grove Groves Square Squares Mews Parkway Parkways Circle Circles Highway
Walk Parade Quay Wharf Crossing Trail Trails Loop Pike Alley Plaza Causeway Ridge Ridges Path Turnpike Bypass
Expressway Freeway Motorway Overpass Underpass Skyway Spur Stravenue Throughway Trace Trafficway Knoll Knolls
Brook Brooks Mill Mills Point Points Row Rise Hill Hills Heights Meadow Meadows Hollow Glen Dale Vale Vista
Crest Cove Coves Bend Bluff Bluffs Cliff Cliffs Creek Fork Forks Pines Ramp Run Shoal Shoals Spring Springs"""
STREET_TYPE = "(?:" + "|".join(_STREET_TYPES.split()) + ")"
NAME_PART = f"[{UPPER}][{LOWER}'’\\-]*[{LOWER}]"
NAMED_STREET = (r"(?<![\w])(?i:on|at|along|down|up|off|near|onto|via)[ \t]+(" + NAME_PARTICLES + NOT_TOWN_WORD
                + NOT_CALENDAR + NAME_PART
                + r"(?:[ \t]+" + NAME_PART + r"){0,2}?[ \t]+" + STREET_TYPE + r")(?![\w'’])")
# Rules that need no digit in the text (the others are skipped when it holds none).
NO_DIGIT_RULES = (
    Rule("street corner", re.compile(CORNER), {1: "STREET_ADDRESS"}, 0.6),
    Rule("named street after a place preposition", re.compile(NAMED_STREET), {1: "STREET_ADDRESS"}, 0.55),
)

# What may follow a street line and still be the same address: a unit, a postcode, a town or a country,
# each after a comma, a line break or a space; at most six parts. Sentence openers end it ("Please").
# One blank line between parts at most; a line may start with a quoting mark ("> ", "| ", "- ", "}} "), as in a
# forwarded or pasted letter.
LINE_BREAK = r"\r?\n(?:[ \t]{0,8}\r?\n)?[ \t]{0,8}(?:[>|\-*•}?#:]{1,4}[ \t]{1,3})?"
UNIT_GAP = r"(?:[ \t]{1,3}|" + LINE_BREAK + r")"
UNIT_AFTER_DOT = r"\.(?=" + UNIT_GAP + r"(?:apt|apartment|suite|unit|flat)\b)" + UNIT_GAP  # "Rákóczi út 22. Suite 723"
SEPARATOR = (r"(?:" + UNIT_AFTER_DOT + r"|[ \t]{0,4}(?:,[ \t]{0,4}(?:" + LINE_BREAK + r")?|" + LINE_BREAK
             + r"(?:,[ \t]{0,4})?)|[ \t]{1,4})")
US_STATE = (r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|"
            r"ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)")
NOT_TOWN = (r"(?!(?:And|But|Please|Thanks|Thank|Can|Could|Would|Will|I|It|My|The|This|That|So|If|When|"
            r"We|You|He|She|They|Is|Was|On|In|At|For|From|To|Since|Before|After)\b)")
UNIT = (r"(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|box|bldg|building|#)\.?[ \t]{0,3}#?[ \t]{0,3}"
        r"[A-Za-z0-9\-]{1,6}\b")
# A town of one to four words (particles between them: "Chomutice u Horic v Podkrkonoší"), then a one-letter
# district ("København K") or a district number ("Dublin 4", "Praha 1", "Varnsdorf 1").
TOWN = f"{NOT_TOWN}[{UPPER}][{UPPER}{LOWER}'’\\-]+\\.?(?:[ \\t]+{NOT_TOWN}(?:[{UPPER}][{UPPER}{LOWER}'’\\-]+\\.?|" \
       r"(?:am|an|im|der|de|la|las|los|le|les|sur|upon|on|del|della|delle|di|do|dos|da|das|u|v|ve|nad|pod|na|pri|" \
       r"bei|sous|en|aan|op|ob|by|zum|zur|y)" \
       r"(?![\w'’\-])))" + "{0,3}" + f"(?:[ \\t](?!I\\b)[{UPPER}]\\.?(?![\\w'’])|[ \\t]\\d{{1,2}}(?![\\w/:]|[.,]\\d))?"
# A region typed in lower case, or left as a placeholder, between a town and its postcode ("DRAMMEN, nan
# 15096", "Blaketown\n, nan\n 79916"): taken only when a postcode follows, or a country and a postcode.
COUNTRY_THEN_POSTCODE = f"(?:(?-i:[{UPPER}][{LOWER}]{{2,20}})" + r"[ \t]{1,3}){0,3}\d{4,6}\b"  # "New Zealand 24896"
LOWER_REGION = (NOT_STREET_WORD + f"(?-i:[{LOWER}]{{2,15}})(?=(?:[ \\t,]{{1,4}}|" + LINE_BREAK + ")"
                + COUNTRY_THEN_POSTCODE + ")")
# A region written as a number of one to three digits after a comma ("El Argoub\n, 83\n Tunisia 50441"): only
# before a postcode, as the lower-case region above (a phone number on the next line is no region).
NUMBER_REGION = (r"(?:(?<=,)|(?<=,[ \t]))\d{1,3}(?=(?:[ \t,]{1,4}|" + LINE_BREAK + ")" + COUNTRY_THEN_POSTCODE + ")")
# A country with its qualifier, "Cyprus (Greek)".
QUALIFIER = f"(?:[ \\t]\\((?-i:[{UPPER}][{LOWER}]{{2,15}})\\))?"
PART = (r"(?:" + UNIT + r"|(?-i:" + UK_POSTCODE + r"|" + EIRCODE + r")\b|\d{4,6}(?:[ \t]?(?-i:[A-Z]{2}))?\b|"
        r"(?-i:[A-Z]{2})[ \t]+\d{5}(?:-\d{4})?\b|(?-i:" + US_STATE + r")\b|(?-i:" + TOWN + r")" + QUALIFIER + "|"
        + LOWER_REGION + "|" + NUMBER_REGION + r")")
# A building number before a street that has its own ("412 41 Church Way"), or a flat before it.
LEAD = re.compile(r"(?:\d{1,6}[A-Za-z]?|(?:flat|apt|apartment|unit|suite)\.?[ \t]{0,3}\w{1,5}),?[ \t]{1,3}$", I)
# A district number after a town, at the end of its line or before a comma: "Dublin 4, Ireland", "Praha 1".
DISTRICT = re.compile(r"[ \t]\d{1,2}(?=[ \t]{0,3}(?:,|\r?\n|$))")
TAIL = re.compile(r"(?:" + SEPARATOR + PART + r"){1,6}", I)
# The cross street before a street found on its own: "at Hollin and Kläppinge 86", "to Maple and 5 Elm Road".
# Also after a label ("Address: John and Frauentaler Strasse 85") or at the start of a line.
CROSS_BEFORE = re.compile(r"(?:(?<![\w])(?i:" + PLACE_PREPOSITIONS + r"|of|is)[ \t]{1,3}|:[ \t]{0,8}|(?m:^)[ \t]{0,8})("
                          + NOT_TOWN_WORD + CAP_WORD + r"(?:[ \t]{1,3}" + NOT_TOWN_WORD + CAP_WORD
                          + r"){0,2})[ \t]{1,3}(?i:and|&)[ \t]{1,3}$")


# A street line of any shape right before a flat or suite with its number, on the same line or the next: "5113 93
# Zeas Pasalimani\n Apt. 291", "Brisas 2250 Berg Villages Suite 249", "729 1709 Bo Meul St Apt. 542". The unit is
# what makes it an address; the line starts after a place preposition, a label's colon, a comma or at the start of
# a line, and is two to eight numbers and words (not "and", "the", "for"...), at least one of each.
STREET_TOKEN = f"(?:\\d{{1,6}}[A-Za-z]?\\.?|{NOT_TOWN_WORD}{ANY_WORD})"
UNIT_NEXT = (r"(?=[ \t,]{0,3}(?:" + LINE_BREAK + r")?(?i:apt|apartment|suite|unit|flat)\.?[ \t]{0,3}#?\d{1,5}"
             r"[A-Za-z]?\b)")
STREET_BEFORE_UNIT = (r"(?:(?<![\w])(?i:" + PLACE_PREPOSITIONS + r"|is|of)[ \t]{1,3}|[:,][ \t]{0,8}|(?m:^)[ \t]{0,8}"
                      r"(?:[>|\-*•}?#]{1,4}[ \t]{1,3})?)("
                      + STREET_TOKEN + r"(?:[ \t]{1,3}" + STREET_TOKEN + r"){1,7})" + UNIT_NEXT)
_DIGITS = re.compile(r"\d")
_LETTERS = re.compile(f"[{UPPER}{LOWER}]{{2}}")


_WORD = re.compile(f"[{UPPER}{LOWER}][{UPPER}{LOWER}'’\\-]*")
STREET_WORDS = frozenset(_STREET_TYPES.lower().split()) | {"st", "rd", "ave", "av", "blvd", "rue", "via", "calle",
                                                             "ul", "utca", "trg", "aleja"}


def _street_line(value: str) -> bool:
    """Numbers and words, and a word no English sentence uses much or a street word: "Pay 500 Apartment 4B rent"
    is no street line, "93 Zeas Pasalimani" and "18 Rosewood Way" are."""
    if not (_DIGITS.search(value) and _LETTERS.search(value)):
        return False
    words = [w.lower() for w in _WORD.findall(value)]
    return any(w in STREET_WORDS or rare_names.zipf(w) < rare_names.RARE for w in words)


RULES = (
    Rule("rare street word and its number after a place word", re.compile(RARE_STREET), {1: "STREET_ADDRESS"}, 0.55,
         check=_rare_street),
    Rule("house number, street words, number", re.compile(NUMBER_STREET_NUMBER), {1: "STREET_ADDRESS"}, 0.55),
    Rule("street type, street words, number", re.compile(TYPE_STREET_NUMBER), {1: "STREET_ADDRESS"}, 0.55),
    Rule("street name with its suffix, then the number", re.compile(NORDIC_STREET), {1: "STREET_ADDRESS",
                                                                                     2: "STREET_ADDRESS"}, 0.55),
    Rule("post office box", re.compile(PO_BOX, I), {1: "STREET_ADDRESS"}, 0.6),
    Rule("military address", re.compile(MILITARY), {1: "STREET_ADDRESS"}, 0.6),
    Rule("street line before its flat or suite", re.compile(STREET_BEFORE_UNIT), {1: "STREET_ADDRESS"}, 0.55,
         check=_street_line),
)


# A street rule that stopped on a unit word, before its number ("27 rue du Chapy 336 Apt" of "... Apt. 290"):
# the unit is given back, so that TAIL takes the unit with its number.
UNIT_WORD_AT_END = re.compile(r"[ \t,]{1,3}(?:apt|apartment|suite|ste|unit|flat)\.?$", I)


def extend(text: str, results: list[RecognizerResult]) -> None:
    """Stretch each STREET_ADDRESS result over the unit, town, region and postcode that follow it."""
    for r in results:
        if r.entity_type != "STREET_ADDRESS":
            continue
        if unit := UNIT_WORD_AT_END.search(text, max(r.start, r.end - 14), r.end):
            r.end = unit.start()
        if m := TAIL.match(text, r.end):
            r.end = m.end()
        if text[r.end - 1:r.end].isalpha() and (district := DISTRICT.match(text, r.end)):
            r.end = district.end()  # "Dublin 4," after a town the street rule ended on
            if m := TAIL.match(text, r.end):
                r.end = m.end()
        if lead := LEAD.search(text, max(0, r.start - 16), r.start):
            r.start = lead.start()
        if cross := CROSS_BEFORE.search(text, max(0, r.start - 80), r.start):
            r.start = cross.start(1)
