"""Personal details: dates of birth, street addresses, names in context, phone numbers in context.

Dates are PII only as a birth date: "on 12 March" in a question about a payment must stay, so every
date rule here is anchored on a birth keyword. Addresses are caught by shape (house number, street
words, a street suffix; continental "Hauptstraße 12" and "12 rue de la Paix"; UK postcodes and
Irish Eircodes) or after "I live at" / "my address is". Names need an NER model in general; without
one, only names introduced by a phrase ("my name is", "Mr", "pay ... to Anna Berg") are caught,
besides the per-conversation deny list.
"""

from __future__ import annotations

import datetime
import re

from api.privacy.letters import LOWER as U_LOWER
from api.privacy.letters import UPPER as U_UPPER
from api.privacy.ner_gate import NEVER, OPENERS
from api.privacy.patterns.common import GAP, KW_END, MONTH, NUM_START, I, digit_count
from api.privacy.rules import Rule

# --- dates of birth ---------------------------------------------------------------------------
DOB_KW = (r"\b(?:d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday|bday|born(?:\s+on|\s+in)?)"
          + KW_END)
ORD = r"(?:st|nd|rd|th)?"
FULL_DATE = (r"\d{1,2}" + ORD + r"(?:\s+of)?\s+" + MONTH + r",?\s+\d{4}"
             r"|" + MONTH + r"\s+\d{1,2}" + ORD + r",?\s+\d{4}"
             r"|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}"
             r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}")
BIRTH_AGE = 16  # years: the youngest customer with a card of their own
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _birth_era(value: str) -> bool:
    """A year from 1900 to BIRTH_AGE years ago, and a real month and day where they are numbers."""
    year = int(_YEAR.search(value).group(1))
    if not 1900 <= year <= datetime.date.today().year - BIRTH_AGE:
        return False
    numbers = [int(n) for n in re.findall(r"\d+", value) if len(n) <= 2]
    return all(1 <= n <= 31 for n in numbers) and (len(numbers) < 2 or min(numbers) <= 12)

DATE = (r"(\d{1,2}" + ORD + r"(?:\s+of)?\s+" + MONTH + r"(?:,?\s+\d{4}|\s+'?\d{2})?"
        r"|" + MONTH + r"\s+\d{1,2}" + ORD + r"(?:,?\s+\d{4})?"
        r"|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
        r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
        r"|(?:19|20)\d{2})(?![\d/])")

# --- street addresses -------------------------------------------------------------------------
SUFFIX = (r"(?:street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|close|cl|way|court|ct|place|pl|"
          r"boulevard|blvd|terrace|ter|crescent|cres|gardens|gdns|grove|gr|park|square|sq|hill|row|mews|"
          r"parkway|pkwy|circle|cir|highway|hwy|walk|rise|green|view|parade|heights|quay|wharf|yard|"
          r"crossing|xing|crossroads?|trail|trl|loop|run|pike|alley|plaza|causeway|junction|meadows?|ridge|vale|"
          r"mission|lodge|keys|parkways|squares|terraces|groves|drives|roads|lanes|gardens|"
          r"villas|wood|point|path|street|ports?|harbou?r|landing|manor|estates?|fields?|forge|glen|"
          r"hollow|island|lakes?|mills?|mount|orchard|pass|ramp|shore|springs?|station|summit|"
          r"turnpike|union|valley|village|vista|falls|ferry|ford|fort|gateway|brook|burgs?|bypass|str|"
          r"camp|canyon|cape|centers?|centre|cliffs?|club|common|corners?|course|creek|crest|dale|dam|"
          r"divide|expressway|extension|flats?|freeway|garden|gate|haven|inlet|key|knolls?|"
          r"light|lock|mall|motorway|neck|oval|overpass|pines|plains|port|prairie|radial|ranch|rapids|"
          r"rest|route|shoals|skyway|spur|stravenue|stream|throughway|trace|track|trafficway|tunnel|"
          r"underpass|ville|wall|wells?)")
STREET_WORD = (r"(?:(?!(?-i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b)(?-i:[" + U_UPPER + r"][" + U_UPPER
               + U_LOWER + r"'’\-]+)\.?|\d{1,3}(?-i:st|nd|rd|th)"  # or an ordinal: "1090 43rd Avenue"
               + r"|(?-i:[" + U_UPPER + r"])\.)")  # or an initial: "227 M. Portaliou Street"
# Street words are capitalised ("12 quid at the street market" is no address) and are not months
# ("04 Nov. Dr Smith" is a date and a doctor).
UNIT = r"(?:,?\s*(?:apt|apartment|flat|unit|suite|ste|fl|floor|#)\.?\s*#?\s*[\w\-]{1,6})"
UK_POSTCODE = r"(?:GIR\s?0AA|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
EIRCODE = r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s?[AC-FHKNPRTV-Y0-9]{4}"
US_CITY_ZIP = r"(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)"
NOT_TOWN = r"(?!(?:And|But|Please|Thanks|Thank|Can|Could|I|It|My|The|This|So)\b)"
TOWN_PARTICLE = r"(?:am|an|im|der|de|la|le|les|sur|en|upon|on|del|di)"
# ", Leeds", ", South Eileen", ", Mühldorf am Inn", ", Stratford-upon-Avon"
TOWN = (r"(?:,\s*" + NOT_TOWN + r"[" + U_UPPER + r"][" + U_LOWER + r"]+(?:[\s\-](?:" + TOWN_PARTICLE + r"[\s\-])?["
        + U_UPPER + r"][" + U_LOWER + r"]+){0,3}"
        r"(?:\s+\d{4}\s?[A-Z]{2}|\s+\d{5})?)")
ADDRESS_TAIL = (r"(?-i:(?:" + US_CITY_ZIP + r"|" + TOWN + r"{0,2}(?:,?\s+(?:" + UK_POSTCODE + r"|" + EIRCODE +
                r"|\d{5}|\d{4}\s?[A-Z]{2}))?)?)")

UNIT_FIRST = r"(?:flat|apt|apartment|unit|studio|suite|room)\s+\w{1,5},?\s+"
EN_STREET = (r"(?:(?:" + UNIT_FIRST + r")?\d{1,5}[A-Za-z]?,?\s+(?:" + STREET_WORD + r"\s+){1,3}" + SUFFIX + r"\b\.?"
             # "Studio 10, Zoe Lodge": a unit and a street, no house number
             r"|" + UNIT_FIRST + r"(?:" + STREET_WORD + r"\s+){1,3}" + SUFFIX + r"\b\.?)")
CONTINENTAL = (
    r"(?:(?-i:[A-ZÄÖÜ][a-zäöüß]+(?:[\s\-][A-ZÄÖÜ][a-zäöüß]+){0,3})[\s\-]?(?:straße|strasse|str\.|weg|platz|gasse|"
    r"allee|ring|damm|ufer|straat|laan|gracht|plein|kade|singel|dijk|steeg)\s+\d{1,4}\s?[a-zA-Z]?(?:[-/]\d{1,4})?"
    r"|(?:calle|c/|avenida|avda\.?|plaza|paseo|carrer|ronda|camino|cuesta|alameda|cañada|callejón|"
    r"carretera|glorieta|pasaje|rambla|travesía|urbanización|vía|avinguda|passeig|rúa)\s+"
    r"(?:de\s+(?:la\s+|los\s+|las\s+)?)?[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?:\s+[A-ZÁÉÍÓÚÑa-z][\wáéíóúñ]+){0,3},?\s+"
    r"(?:n[º°o]\.?\s*)?\d{1,4}(?:,?\s+(?:puerta|piso|planta|bajo|esc\.?|escalera)\s*\w{1,4}){0,2}"
    r"|\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|allée|chemin|impasse|quai|"
    r"cours|route)\s+(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’])?[\wÀ-ÿ'’\-]+(?:\s+[\wÀ-ÿ'’\-]+){0,3}?"
    # It ends where the sentence goes on in English: "12 rue Lepic for the parcel", "... last night".
    r"(?=,|\s+\d{5}|\s*$|[.!?\n]|\s+(?-i:for|in|on|at|and|but|so|please|to|from|with|by|last|this|next|"
    r"yesterday|today|tomorrow|tonight|before|after|as|if|when|because|instead)\b))"
    r"(?:,?\s+\d{4,5}(?:\s?[A-Z]{2})?\s+[A-ZÄÖÜ][\wäöüß\-]+)?(?-i:" + TOWN + r"{0,2})(?:\s+\d{4,5}(?!\d))?")
ADDRESS_KW = (r"\b(?:i\s+live\s+(?:at|in|on)|i'm\s+at|i\s+am\s+at|live\s+at|lives\s+at|"
              r"(?:living|residing|staying|based|located)\s+(?:now\s+)?(?:at|in|on)|my\s+(?:home\s+|new\s+|"
              r"old\s+|postal\s+|billing\s+|mailing\s+|delivery\s+|current\s+)?address(?:\s+is|\s*:)?|"
              r"address(?:\s+is|\s*:)|moved\s+to|move\s+to|send\s+(?:\w+\s+){0,3}to|"
              r"deliver(?:ed)?\s+(?:it\s+)?to|(?:should|must|can|will|to)\s+go\s+to|(?:new|home)\s+address|post(?:ed)?\s+(?:it\s+)?to|registered\s+at|residing\s+at|"
              r"resident\s+at)" + KW_END)
# From the keyword to the end of the clause; "St. Mary's" and "Apt. 4" keep going.
STREET_TYPE_FIRST = (r"(?:rue|chemin|avenue|boulevard|allée|impasse|place|quai|calle|avenida|paseo|plaza|"
                     r"camino|carrer|via|viale|piazza)\s")
# The address must hold a digit, or begin with a street type ("rue de Bertrand, Masse").
# Written so that no two quantifiers compete for the same spaces (": " is "\s*(?::\s*)?", and the word
# that ends the clause needs a space before it by lookbehind, not by a second "\s+"), and the end of the clause
# is looked for at most 8 spaces ahead: a run of spaces costs time in proportion to its length, not its
# square or cube ("my address is 1" + 800 spaces + "x" took 115 s before).
ADDRESS_TO_END = (r"\s*(?::\s*)?((?=[^\n!?;]{0,60}\d|" + STREET_TYPE_FIRST + r")[^\n!?;]{4,120}?)"
                  r"(?=\s{0,8}(?:\.(?=\s+[A-Z][a-z]+\s+[a-z])|\.\s*$|[!?;\n]|$|(?<=\s)(?:and|but|so|please|thanks|"
                  r"thank|can|could|would|will|is|was|how|why|what|when|since|from|for|if|"
                  r"now|today|instead|too|as|already|yet)\b))")

# --- names in context -------------------------------------------------------------------------
UPPER, LOWER = U_UPPER, U_LOWER  # every script's letters: "Łukasz", "Kovačević", "Ní Bhriain", "Σοφία"
# "Anna", "McSharry", "O'Neill", "Jean-Luc"
NAME_WORD = f"(?-i:[{UPPER}][{LOWER}]+(?:[{UPPER}][{LOWER}]+)?(?:[\\-'’][{UPPER}]?[{LOWER}]+)?)"
# Irish and Arabic patronymic particles too: "Aoife Ní Bhriain", "Seán Ó Súilleabháin", "Omar bin Said".
PARTICLE = r"(?:van|von|de|da|del|der|den|di|le|la|du|dos|ten|ter|mc|o'|ó|ní|nic|uí|mac|bin|ibn|al|el|ap)"
# "Anna Berg", "van der Stael de Jonge"
NAME = (r"(?:" + PARTICLE + r"\s+){0,2}" + NAME_WORD + r"(?:\s+(?:" + PARTICLE + r"\s+){0,2}" + NAME_WORD
        + r"){0,3}")
NAME2 = (NAME_WORD + r"(?:\s+(?:(?:van|von|de|da|del|der|di|le|la|du|dos|ó|ní|nic|uí|mac|bin|ibn|ap)\s+)?" + NAME_WORD
         + r"){1,3}")
NOT_NAME = re.compile(
    r"^(?:Very|Really|So|Not|Just|Still|Trying|Having|Looking|Calling|Writing|Sorry|Happy|Fine|Good|Okay|"
    r"Ok|Here|There|The|This|That|It|A|An|My|Your|Our|Their|Please|Thanks|Thank|Hi|Hello|Hey|Yes|No|In|On|"
    r"At|From|To|With|About|Going|Getting|Worried|Confused|Angry|Annoyed|Frustrated|Unable|Afraid|New|Done|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|June|July|"
    r"August|September|October|November|December|Savings|Checking|Current|Amazon|Tesco|Uber|Netflix|"
    r"Spotify|Apple|Google|Paypal|PayPal|Starbucks|Costa)\b")


_COMMON = """not no on in the a an and but is was wrong missing spelled spelt still correct different
same also changed right written there here please thanks thank it"""
COMMON_WORDS = frozenset(_COMMON.split())


def _name_ok(value: str) -> bool:
    return not NOT_NAME.match(value)


PERSON_INTRO = (r"\b(?:my\s+name\s+is|my\s+name's|name\s*:|(?:full|maiden|last|first|middle|sur)\s*name\s*"
                r"(?:is|was|:)|i\s+am\s+called|"
                r"call\s+me|this\s+is|i'm|i\s+am|it's|signed|regards,?|cheers,?|thanks,?|"
                r"account\s+holder\s*(?:is|:)?|named|called)" + KW_END)
PAYEE_INTRO = (r"\b(?:pay|send|sent|transfer|transferred|wire|wired|paid|payment\s+to|payee|recipient|"
               r"beneficiary|refund|owe|lend|give)\b(?:[^\n.!?]|\.(?=\d)){0,40}?\b(?:to|from|is|:)\s+")
TITLE = r"\b(?-i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Lady|Lord)\.?\s+"

PHONE_KW = (r"\b(?:phone|mobile|mob|cell|tel|telephone|landline|whatsapp|sms|text(?:\s+me)?|"
            r"call(?:ed)?(?:\s+me)?(?:\s+back)?(?:\s+(?:on|at|from))?|ring(?:\s+me)?|reach(?:ed|able)?|contact|number)"
            r"(?:\s*(?:number|no\.?|#))?" + KW_END)
NOT_PHONE_BEFORE = re.compile(
    r"\b(?:order|account|acct|card|reference|ref|transaction|tracking|routing|sort|iban|customer|case|"
    r"ticket|invoice|policy|member|confirmation|serial|model|pin|security|social|ssn)\s*$", I)

# Six digits in three pairs, one separator ("31 41 19", "85-72-32"): a local number of a small numbering plan
# (the Faroe Islands, Greenland, many towns' short numbers), taken only after a phone word and only when the
# pairs cannot be a date ("call me on 12 03 24" is a day).
SIX_IN_PAIRS = re.compile(r"(\d\d)([ .\-])(\d\d)\2(\d\d)")


def _phone_after_keyword(value: str) -> bool:
    if digit_count(7, 21)(value):
        return True
    if not (m := SIX_IN_PAIRS.fullmatch(value)):
        return False
    a, b, c = int(m[1]), int(m[3]), int(m[4])
    return not any(1 <= d <= 31 and 1 <= mo <= 12 for d, mo in ((a, b), (b, a), (b, c), (c, b)))


# Other people by their relation to the customer: "my landlord Łukasz Wiśniewski", "add Dorothy Example
# as a beneficiary". Two name words after a relation word (one is too often a word: "my son Will"...).
RELATION = (r"\b(?:my|our|his|her|their|the)\s+(?:landlord|landlady|tenant|son|daughter|wife|husband|partner|"
            r"mother|mum|mom|father|dad|brother|sister|friend|colleague|boss|grandson|granddaughter|grandmother|"
            r"grandfather|grandma|grandpa|uncle|aunt|cousin|nephew|niece|child|kid|carer|accountant|lawyer|"
            r"solicitor|neighbour|neighbor|flatmate|roommate|fianc[ée]e?|girlfriend|boyfriend|employer|"
            r"employee|guardian|caller|builder|plumber|cleaner|nanny|babysitter|stepson|stepdaughter|"
            r"ex-wife|ex-husband|ex|relative|payee|beneficiary|recipient|tenant)(?:,)?\s+")
ADD_AS = r"\b(?:add|added|adding|set\s+up|make|made|name|named|nominate)\s+"
AS_PAYEE = (r"\s+as\s+(?:a\s+|my\s+|the\s+)?(?:new\s+)?(?:beneficiary|payee|recipient|joint|guardian|co-?signer|"
            r"authori[sz]ed\s+user|account\s+holder|nominee|executor)")

# "Grażyna, can I please speak to your boss?": a name, a comma and a request, at the start of a sentence.
ADDRESSED = (r"(?:^|(?<=[.!?\n]))\s{0,3}(" + NAME_WORD + r"),\s{1,3}(?=(?:can|could|would|will|please|do|did|"
             r"are|is|have|i|we|you|thanks|thank)\b)")


def _addressed_ok(value: str) -> bool:
    return _name_ok(value) and value.lower() not in COMMON_WORDS | OPENERS | NEVER


RULES = (
    Rule("name addressed at the start of a sentence", re.compile(ADDRESSED, I), {1: "PERSON"}, 0.55,
         check=_addressed_ok),
    Rule("name after a relation word", re.compile(RELATION + r"(" + NAME2 + r")\b", I), {1: "PERSON"}, 0.6,
         check=_name_ok),
    Rule("name added as a payee", re.compile(
        ADD_AS + r"(" + NAME2 + r")" + AS_PAYEE, I),
        {1: "PERSON"}, 0.7, check=_name_ok),
    # "Please tell me your date of birth. It's 5/7/1935": the question, then the answer in the next sentence.
    Rule("date of birth after a birth question", re.compile(
        DOB_KW + r"(?P<gap>[^\d]{0,40}?)" + NUM_START + DATE, I), {1: "DATE_OF_BIRTH"}, 0.8,
        gap_veto=re.compile(r"\b(?:ago|last|next|this|party|present|card|payment|transfer)\b", I), needs_digit=True),
    Rule("date of birth after keyword", re.compile(DOB_KW + GAP + NUM_START + DATE, I),
         {1: "DATE_OF_BIRTH"}, 0.85, gap_veto=re.compile(r"\b(?:ago|last|next|this|party|present)\b", I),
         needs_digit=True),
    # A full date (day, month and a four-digit year) at least 16 years old, with no keyword: in a bank chat, a
    # date that old is a birth date far more often than anything an agent needs (transactions, statements,
    # cards and disputes are recent). Dates without a year, or recent ones, stay readable.
    Rule("full date of a birth year", re.compile(r"(?<![\w/.\-])(" + FULL_DATE + r")(?![\w/]|[.\-]\d)", I),
         {1: "DATE_OF_BIRTH"}, 0.5, check=_birth_era, needs_digit=True),
    Rule("date of birth before keyword", re.compile(
        NUM_START + DATE + r"\s+(?:is|was)\s+my\s+(?:date\s+of\s+birth|dob|d\.o\.b\.?|birthday|birth\s*date)"
        + KW_END, I), {1: "DATE_OF_BIRTH"}, 0.85, needs_digit=True),
    Rule("street address", re.compile(
        r"\b(" + EN_STREET + UNIT + r"?" + ADDRESS_TAIL + r")", I), {1: "STREET_ADDRESS"}, 0.6),
    Rule("continental street address", re.compile(r"(?<!\w)(" + CONTINENTAL + r")", I),
         {1: "STREET_ADDRESS"}, 0.6, needs_digit=True),
    Rule("postcode", re.compile(r"\b((?-i:" + UK_POSTCODE + r"|" + EIRCODE + r"))\b", I), {1: "STREET_ADDRESS"},
         0.6, needs_digit=True),
    Rule("address after keyword", re.compile(ADDRESS_KW + ADDRESS_TO_END, I), {1: "STREET_ADDRESS"}, 0.7),
    Rule("name after introduction", re.compile(PERSON_INTRO + r",?\s+(" + NAME + r")\b", I), {1: "PERSON"},
         0.6, check=_name_ok),
    # Typed in lower case, a name is only taken after "my name is" / "name:", and only if its
    # words are not common ones ("my name is not on the account").
    Rule("lower-case name after my name is", re.compile(
        r"\b(?:my\s+name\s+is|my\s+name's|(?:full\s+)?name\s*:)\s+((?-i:[a-z][a-z'’\-]+(?:\s+[a-z][a-z'’\-]+)?))\b"
        , I), {1: "PERSON"}, 0.6, check=lambda v: not any(w in COMMON_WORDS for w in v.split())),
    Rule("name after title", re.compile(TITLE + r"(" + NAME + r")\b", I), {1: "PERSON"}, 0.7,
         check=_name_ok),
    Rule("payee full name", re.compile(PAYEE_INTRO + r"(" + NAME2 + r")\b", I), {1: "PERSON"}, 0.55,
         check=_name_ok),
    Rule("payee before amount", re.compile(
        r"\b(?:pay|paid|send|sent|transfer|wire|owe|refund|give)\s+(" + NAME2 + r")\s+(?=[£$€]|\d)", I),
        {1: "PERSON"}, 0.55, check=_name_ok),
    Rule("phone after keyword", re.compile(
        PHONE_KW + GAP + r"(?<![\w£$€])((?:\+|00)?\(?\d[\d\s().\-]{5,18}\d(?:\s*(?:x|ext\.?)\s*\d{1,6})?)"
        r"(?![\d/]|[.,]\d)", I), {1: "PHONE_NUMBER"}, 0.5, check=_phone_after_keyword, before_veto=NOT_PHONE_BEFORE,
        gap_veto=re.compile(r"\b(?:ending|ends|last|order|ref|£|\$|€)", I), needs_digit=True),
)
