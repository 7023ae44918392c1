"""Given names of many countries, for a lone first name the NER model misses or calls an organisation.

"can Scott use my card too?", "The true gender of Sophie...": the model labels many single given names ORG or
nothing, and a single word has no rarity to go by (rare_names.py looks at runs of two or three). Faker (MIT,
requirements/core.txt) ships the given names its person providers draw from, for about 80 locales (24,000
names: "Łucja", "Oumaima", "Shuntarou"...); they are read once per process into a set (about 0.5 s, in
`warm_up()`), nothing is downloaded. A word in this set is only a candidate: names.py decides, with the model's
label, the word's place in the sentence and its frequency in English.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

# Japanese and Chinese providers also hold their names in Latin letters ("first_romanized_names": "Haruka").
_ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
               "first_romanized_names", "first_romanized_names_male", "first_romanized_names_female")


@cache
def given_names() -> frozenset[str]:
    """Every single-word given name of Faker's person providers, as written ("Sophie", "Ljiljana")."""
    import faker.providers.person as person

    found: set[str] = set()
    for module_info in pkgutil.iter_modules(person.__path__):
        provider = getattr(importlib.import_module(f"{person.__name__}.{module_info.name}"), "Provider", None)
        for attribute in _ATTRIBUTES:
            names = getattr(provider, attribute, None)
            if isinstance(names, (list, tuple, dict, set, frozenset)):
                found.update(n for n in names if isinstance(n, str) and n[:1].isupper() and n.isalpha())
    assert len(found) > 1000, "Faker's person providers hold no given names"
    return frozenset(found)


def is_given_name(word: str) -> bool:
    return word in given_names()
