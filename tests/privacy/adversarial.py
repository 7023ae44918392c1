"""Every regular expression that sees customer or agent text, found automatically, and adversarial input.

Used by tests/privacy/test_linear_patterns.py and bench/adversarial_bench.py. `collect_patterns()`
imports every module of `api` and `actions` (the action modules that need rasa_sdk get a stub of it:
only their module-level patterns are wanted) and walks their globals, classes and rule tables for
compiled patterns; it adds the patterns of Presidio's built-in recognizers as the engine registers them
(compiled with the `regex` module and Presidio's flags, as Presidio runs them), a customer's deny-list
patterns, and every `re.<function>("literal", ...)` call written inline. Inline calls whose pattern is
built at run time cannot be compiled here: `dynamic_call_sites()` lists them, and the test holds them
against a reviewed list, so a new one fails until someone has looked at it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import pkgutil
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "actions")
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"}
TEXT_LENGTH = 2000
# Patterns that only ever see a bounded window of the text, by construction of their caller: timed on
# adversarial input of the window's length. actions/understanding/amounts.py reads CONTEXT_CHARS (64) on
# each side of a number, so a message full of numbers costs time in proportion to its length (parse_amount
# is timed whole in bench/adversarial_bench.py).
WINDOWED = {
    "actions.understanding.amounts._AFTER_RE": 64,
    "actions.understanding.amounts._BEFORE_RE": 64,
    "actions.understanding.amounts._NOT_AMOUNT_BEFORE": 64,
}


@dataclass(frozen=True)
class Found:
    name: str  # where it lives: module.attribute path, or file:line for an inline call
    family: str  # privacy.rules, privacy.presidio, privacy.known, privacy.logs, api, actions
    pattern: Any  # a compiled `re` or `regex` pattern

    def run(self, text: str) -> int:
        """What the code does with it, at worst: every match over the whole text."""
        return sum(1 for _ in self.pattern.finditer(text))


# --- rasa_sdk stub, so that action modules import in the core's environment ----------------------
class _Stub(types.ModuleType):
    __path__: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *a, **k: None})


# rasa_sdk and sanic are not in the core's environment; bankbot_logging (bot/) would install a log filter, and
# bankbot_imports (bot/) changes sys.modules.
STUBBED = ("rasa_sdk", "sanic", "bankbot_logging", "bankbot_imports")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in STUBBED or fullname.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _Stub(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


IMPORT_ERRORS: dict[str, str] = {}  # modules that could not be imported (their patterns were not seen)


def _modules() -> Iterator[types.ModuleType]:
    stub = _StubFinder()
    sys.meta_path.insert(0, stub)
    try:
        for package_name in PACKAGES:
            package = importlib.import_module(package_name)
            yield package
            for info in pkgutil.walk_packages(package.__path__, package_name + "."):
                if info.name.endswith("__main__"):
                    continue
                try:
                    yield importlib.import_module(info.name)
                except Exception as exc:
                    IMPORT_ERRORS[info.name] = f"{type(exc).__name__}: {exc}"
    finally:
        sys.meta_path.remove(stub)


def _family(module_name: str) -> str:
    if module_name.startswith("actions"):
        return "actions"
    if module_name in ("api.privacy.logfilter", "api.privacy.structlog_processor"):
        return "privacy.logs"
    if module_name.startswith("api.privacy"):
        return "privacy.rules"
    return "api"


def _walk(obj: Any, name: str, module_name: str, seen: set[int], depth: int = 0) -> Iterator[tuple[str, Any]]:
    if id(obj) in seen or depth > 5:
        return
    seen.add(id(obj))
    if isinstance(obj, re.Pattern | regex.Pattern):
        yield name, obj
    elif isinstance(obj, dict | types.MappingProxyType):
        for key, value in list(obj.items()):
            yield from _walk(value, f"{name}[{key!r}]", module_name, seen, depth + 1)
            if isinstance(key, re.Pattern):
                yield from _walk(key, f"{name}.key", module_name, seen, depth + 1)
    elif isinstance(obj, list | tuple | set | frozenset):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{name}[{i}]", module_name, seen, depth + 1)
    elif isinstance(obj, type) and obj.__module__ == module_name:
        for key, value in list(vars(obj).items()):
            if not key.startswith("__"):
                yield from _walk(value, f"{name}.{key}", module_name, seen, depth + 1)
    elif type(obj).__module__.split(".")[0] in PACKAGES and not isinstance(obj, types.ModuleType | types.FunctionType):
        # instances of our own classes (Rule, RuleRecognizer...): their fields
        for key, value in list(getattr(obj, "__dict__", {}).items()):
            yield from _walk(value, f"{name}.{key}", module_name, seen, depth + 1)


def _presidio() -> Iterator[Found]:
    from api.privacy.recognizers import builtin_recognizers

    for recognizer in builtin_recognizers():
        flags = getattr(recognizer, "global_regex_flags", regex.DOTALL | regex.MULTILINE | regex.IGNORECASE)
        for pattern in getattr(recognizer, "patterns", []) or []:
            yield Found(f"presidio.{type(recognizer).__name__}:{pattern.name}", "privacy.presidio",
                        regex.compile(pattern.regex, flags=flags))


SAMPLE_KNOWN = dict(full_name="Mary Ann O'Neill-Smith", email="mary.oneill@example.com", phone="+44 7700 900123",
                    address="Flat 2, 221B Baker Street, London NW1 6XE",
                    account_numbers=("31926819", "GB82WEST12345698765432"), payee_names=("Bob Jones", "Will May"))


def _known() -> Iterator[Found]:
    from api.privacy import KnownPII
    from api.privacy.known import known_recognizers

    for recognizer in known_recognizers(KnownPII(**SAMPLE_KNOWN)):
        for rule, _ in recognizer.rules:
            yield Found(f"known.{rule.name}", "privacy.known", rule.pattern)


def _flags(call: ast.Call) -> int:
    source = " ".join(ast.unparse(a) for a in call.args[1:]) + " ".join(ast.unparse(k) for k in call.keywords)
    flags = 0
    for short, long_, value in (("I", "IGNORECASE", re.I), ("M", "MULTILINE", re.M), ("S", "DOTALL", re.S),
                                ("X", "VERBOSE", re.X)):
        if re.search(rf"\b(?:re|regex)\.(?:{short}|{long_})\b", source):
            flags |= value
    return flags


def _inline_calls() -> Iterator[tuple[str, ast.Call, bool]]:
    """Every re.<function>(pattern, ...) call: where, the call, and whether it sits inside a function."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            in_function: set[int] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    in_function.update(id(child) for child in ast.walk(node) if child is not node)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        isinstance(node.func.value, ast.Name) and node.func.value.id in ("re", "regex") and \
                        node.func.attr in RE_FUNCTIONS and node.args:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node, id(node) in in_function


def dynamic_call_sites() -> set[str]:
    """Calls inside functions whose pattern is built at run time ("file: pattern source"): not compilable
    here. (Module-level ones are compiled at import and collected from the module's globals.)"""
    return {f"{where.split(':')[0]}: {ast.unparse(call.args[0])}" for where, call, in_function in _inline_calls()
            if in_function and not isinstance(call.args[0], ast.Constant)}


def collect_patterns() -> list[Found]:
    found: list[Found] = []
    seen_patterns: set[tuple[str, int]] = set()

    def add(item: Found) -> None:
        key = (item.pattern.pattern, item.pattern.flags)
        if key not in seen_patterns:
            seen_patterns.add(key)
            found.append(item)

    seen: set[int] = set()
    for module in _modules():
        for key, value in list(vars(module).items()):
            if key.startswith("__") or isinstance(value, types.ModuleType):
                continue
            if getattr(value, "__module__", module.__name__) != module.__name__ and \
                    not isinstance(value, re.Pattern | regex.Pattern | tuple | list | dict):
                continue
            for name, pattern in _walk(value, f"{module.__name__}.{key}", module.__name__, seen):
                add(Found(name, _family(module.__name__), pattern))
    for item in (*_presidio(), *_known()):
        add(item)
    for where, call, _ in _inline_calls():
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            family = "actions" if where.startswith("actions") else \
                "privacy.rules" if where.startswith("api/privacy") else "api"
            add(Found(where, family, re.compile(arg.value, _flags(call))))
    return found


# --- adversarial text --------------------------------------------------------------------------
# Runs that make a backtracking engine try every split: whitespace, separators, digits, words that
# look like names or street words, and the pieces the rules are keyed on.
UNITS = (" ", "\t", " \t", "\t ", "  ", "\n", " \n", ", ", " ,", ",", "-", " -", ".", ". ", "/", ":", ": ",
         "1", "1 ", "12 ", "1-", "1.", "1,", "1/", "123 ", "1 1", "+1", "(1", "£1", "0",
         "a ", "A ", "Aa ", "aa", "word ", "Main ", "St ", "Street ", "the ", "and ", "x", "@", "a@", "a.",
         "'", "’", "A-", "O'", "Mc", "de ", "pin ", "code ", "card ", "my ", "is ", "to ", "at ", "on ",
         "last ", "yes ", "no ", "ok ", "%", "*", "x1", "\u00a0", "é", "12-34-56 ", "1234 ", "12345678 ")
KEYWORDS = ("", "my address is 1", "my address is 12 Main", "my address: 1", "i live at 1", "send it to 1",
            "send the card to ", "address is 12 Main", "12 ", "12 Main ", "Flat 2, 12 ", "calle ", "rue ",
            "my name is ", "I'm ", "Mr ", "pay ", "send £20 to ", "card number ", "card ending ", "account number ",
            "acc ", "sort code ", "12-34-56", "routing number ", "my pin is ", "pin ", "password is ", "password ",
            "changed my password to ", "code ", "the code is ", "otp ", "cvv ", "cvv? it's ", "dob ", "born on ",
            "expiry ", "exp ", "phone ", "call me on ", "my number is ", "+44", "iban ", "gb82 ", "ssn ",
            "last ", "spent on ", "spending at ", "and what about ", "how much on ", "ending ", "x", "a@",
            "yes ", "no ", "ok ", "transfer 50 to ", "send 100 ", "from savings to ", "in march ",
            "between 1 and ", "the last 3 ", "£", "50 ", "fifty ", "twenty five ")
SUFFIXES = ("x", "", "!", "1", "@x.com", " Street", "?")


def adversarial(prefix: str, unit: str, suffix: str = "x", length: int = TEXT_LENGTH) -> str:
    body = unit * (length // len(unit) + 1)
    return (prefix + body)[: length - len(suffix)] + suffix


def corpus_shapes() -> list[tuple[str, str, str]]:
    """(prefix, unit, suffix) of the fixed adversarial corpus: every unit alone, each keyword followed by
    the nastiest units, and each keyword repeated."""
    shapes = [("", unit, "x") for unit in UNITS]
    shapes += [(keyword, unit, "x") for keyword in KEYWORDS if keyword for unit in (" ", "\t", " \t", "1 ", "Aa ")]
    shapes += [("", keyword, "x") for keyword in KEYWORDS if keyword]
    return list(dict.fromkeys(shapes))


def corpus(length: int = TEXT_LENGTH) -> list[str]:
    return [adversarial(prefix, unit, suffix, length) for prefix, unit, suffix in corpus_shapes()]
