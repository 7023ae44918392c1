"""An evaluation set nobody here wrote: presidio-evaluator's sentence generator, split by template.

The data comes from `presidio-evaluator` (Microsoft, MIT; requirements/dev.txt): its own 200-odd
templates and its own fake values (Faker plus a table of 3,000 people of many nationalities), offline.
The templates are split once into a tuning part and a held-out part *by template*, so that no
sentence shape of the held-out part was ever seen while rules were written; only the tuning part's
misses may be read (`python -m bench.redaction_bench --show independent-tuning`).

The split is stratified: templates are grouped by the rarest of our entity types they hold (DATE_OF_BIRTH,
US_SSN, IBAN... first) and each group is shuffled with a fixed seed and dealt alternately, so both parts
hold every type that at least two templates hold. Sentences are then drawn from each part with a fixed seed.

The generator's labels are mapped to ours (docs/privacy.md, "Independent evaluation"):
  PERSON, STREET_ADDRESS (address, street name, building number, flat, postcode), PHONE_NUMBER,
  CREDIT_CARD, IBAN_CODE, US_SSN, EMAIL_ADDRESS: the same types;
  {{date_of_birth}}: DATE_OF_BIRTH (the generator calls it DATE_TIME);
  IP_ADDRESS, US_DRIVER_LICENSE, DOMAIN_NAME (url), AGE, ZIP_CODE (a bare ZIP): not ours, not scored; a
  redaction over them is neither right nor wrong;
  GPE (towns, countries), ORGANIZATION, DATE_TIME, TITLE, NRP: must stay readable; a redaction over them
  alone is a false positive.

    python -m bench.independent_pii_set --part held-out -n 5    # print a few examples
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import random
import re
from functools import cache

from api.privacy.models import KnownPII
from bench.pii_eval_set import Example, Span

SPLIT_SEED = 20261202  # chosen once, before any figure was seen; never changed afterwards
SAMPLE_SEEDS = {"tuning": 1301, "held-out": 1302}
SENTENCES_PER_PART = 800
LOWER_CASE_RATIO = 0.05  # the generator's documented example setting: 5% of names typed in lower case

# The generator's output types (after its own mapping) to ours.
OURS = {"PERSON", "STREET_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "EMAIL_ADDRESS",
        "DATE_OF_BIRTH"}
NOT_SCORED = {"IP_ADDRESS", "US_DRIVER_LICENSE", "DOMAIN_NAME", "AGE", "ZIP_CODE"}
# Rarest first: a template is filed under the first of these it holds.
RARITY = ("DATE_OF_BIRTH", "US_SSN", "IBAN_CODE", "EMAIL_ADDRESS", "CREDIT_CARD", "PHONE_NUMBER",
          "STREET_ADDRESS", "PERSON")
PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}|<(\w+)>")
TYPE_OF_PLACEHOLDER = {"date_of_birth": "DATE_OF_BIRTH", "person": "PERSON", "name": "PERSON",
                       "address": "STREET_ADDRESS", "street_name": "STREET_ADDRESS",
                       "building_number": "STREET_ADDRESS", "secondary_address": "STREET_ADDRESS",
                       "postcode": "STREET_ADDRESS", "phone_number": "PHONE_NUMBER",
                       "credit_card_number": "CREDIT_CARD", "iban": "IBAN_CODE", "ssn": "US_SSN",
                       "email": "EMAIL_ADDRESS"}


def _quiet() -> contextlib.AbstractContextManager[None]:
    """The generator prints progress bars and notices; the benchmark's output stays a table."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    return stack


def templates() -> list[str]:
    """The generator's own templates, as shipped."""
    from presidio_evaluator.data_generator import presidio_templates_file_path

    lines = presidio_templates_file_path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def _types_in(template: str) -> set[str]:
    names = {(a or b).lower() for a, b in PLACEHOLDER.findall(template)}
    if "person" in names or any(n.endswith(("first_name", "last_name")) or n.startswith("name") for n in names):
        names.add("person")
    return {TYPE_OF_PLACEHOLDER[n] for n in names if n in TYPE_OF_PLACEHOLDER}


@cache
def split_templates() -> dict[str, tuple[str, ...]]:
    """Templates by part, stratified by the rarest of our types each holds; fixed once by SPLIT_SEED."""
    groups: dict[str, list[str]] = {}
    for template in templates():
        types = _types_in(template)
        key = next((t for t in RARITY if t in types), "none")
        groups.setdefault(key, []).append(template)
    rng = random.Random(SPLIT_SEED)
    parts: dict[str, list[str]] = {"tuning": [], "held-out": []}
    flip = 0
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        for template in group:
            parts["tuning" if flip % 2 == 0 else "held-out"].append(template)
            flip += 1
    return {name: tuple(ts) for name, ts in parts.items()}


def _as_lines(part: tuple[str, ...]) -> list[str]:
    """The template file writes line breaks as a backslash and n; a chat message holds real ones."""
    return [t.replace("\\n", "\n") for t in part]


def generate(part: str, n: int = SENTENCES_PER_PART) -> list[Example]:
    """`n` sentences of one part, labelled with our entity types."""
    with _quiet():
        from presidio_evaluator.data_generator import PresidioSentenceFaker, presidio_additional_entity_providers
        from presidio_evaluator.data_generator.faker_extensions import HospitalProvider

        # HospitalProvider queries WikiData when built; no template of ours needs it, and nothing may
        # reach the network at run time.
        providers = [p for p in presidio_additional_entity_providers if p is not HospitalProvider]
        # The table of people is drawn (middle initials, formats) before the generator seeds itself.
        PresidioSentenceFaker.seed(SAMPLE_SEEDS[part])
        mapping = dict(PresidioSentenceFaker.ENTITY_TYPE_MAPPING, date_of_birth="DATE_OF_BIRTH")
        faker = PresidioSentenceFaker(locale="en_US", lower_case_ratio=LOWER_CASE_RATIO,
                                      sentence_templates=_as_lines(split_templates()[part]), entity_providers=providers,
                                      entity_type_mapping=mapping, random_seed=SAMPLE_SEEDS[part])
        samples = faker.generate_new_fake_sentences(n)
    examples = []
    for sample in samples:
        spans, other = [], []
        for s in sample.spans:
            if s.entity_type in OURS:
                spans.append(Span(s.entity_type, s.start_position, s.end_position,
                                  source="international" if s.entity_type == "PHONE_NUMBER"
                                  and s.entity_value.lstrip().startswith(("+", "00")) else ""))
            elif s.entity_type in NOT_SCORED:
                other.append(f"{s.start_position}:{s.end_position}")
        template = sample.masked or ""
        examples.append(Example(sample.full_text, sorted(spans, key=lambda sp: sp.start), KnownPII(),
                                f"independent-{part}", template, extra={"not_scored": " ".join(other)}))
    return examples


def not_scored(example: Example) -> list[tuple[int, int]]:
    """Spans of types we do not redact and do not score (IP addresses, ages...)."""
    raw = example.extra.get("not_scored", "")
    return [(int(a), int(b)) for a, b in (item.split(":") for item in raw.split())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tuning", "held-out"), default="tuning")
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    parts = split_templates()
    print(f"templates: tuning {len(parts['tuning'])}, held-out {len(parts['held-out'])}")
    for ex in generate(args.part, args.n):
        print(repr(ex.text), [(s.type, ex.text[s.start:s.end]) for s in ex.spans])


if __name__ == "__main__":
    main()
